//! [`ImageStatus`]: the server-owned state of an image.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The status of an image.
///
/// The five documented values, plus [`ImageStatus::Other`] keeping any other
/// string verbatim, so a status the server adds tomorrow never breaks a list.
/// Parsing and equality are case-insensitive (`Other("deprecated")` equals
/// `Other("DEPRECATED")`); the spelling sent is what is written back.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ImageStatus {
    /// `READY`: the image can be deployed.
    Ready,
    /// `PENDING`.
    Pending,
    /// `PROCESSING`.
    Processing,
    /// `FAILED`.
    Failed,
    /// `IMAGE_STATUS_UNKNOWN`: the server itself does not know.
    StatusUnknown,
    /// Any value this version of the crate does not know, kept as sent.
    Other(String),
}

impl ImageStatus {
    /// The API's spelling of the status.
    pub fn as_str(&self) -> &str {
        match self {
            ImageStatus::Ready => "READY",
            ImageStatus::Pending => "PENDING",
            ImageStatus::Processing => "PROCESSING",
            ImageStatus::Failed => "FAILED",
            ImageStatus::StatusUnknown => "IMAGE_STATUS_UNKNOWN",
            ImageStatus::Other(s) => s,
        }
    }

    /// Whether the image can be deployed.
    pub fn is_ready(&self) -> bool {
        matches!(self, ImageStatus::Ready)
    }

    fn known(s: &str) -> Option<ImageStatus> {
        const KNOWN: [(&str, ImageStatus); 5] = [
            ("READY", ImageStatus::Ready),
            ("PENDING", ImageStatus::Pending),
            ("PROCESSING", ImageStatus::Processing),
            ("FAILED", ImageStatus::Failed),
            ("IMAGE_STATUS_UNKNOWN", ImageStatus::StatusUnknown),
        ];
        KNOWN
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|(_, status)| status)
    }
}

impl PartialEq for ImageStatus {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ImageStatus::Other(a), ImageStatus::Other(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl Eq for ImageStatus {}

impl Hash for ImageStatus {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        if let ImageStatus::Other(s) = self {
            crate::model::strings::hash_ignoring_case(s, state);
        }
    }
}

impl From<&str> for ImageStatus {
    fn from(s: &str) -> Self {
        ImageStatus::known(s).unwrap_or_else(|| ImageStatus::Other(s.to_owned()))
    }
}

impl FromStr for ImageStatus {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ImageStatus::from(s))
    }
}

impl fmt::Display for ImageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ImageStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ImageStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(crate::model::strings::ParseVisitor::<ImageStatus>::new(
            "an image status string",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_case_insensitive_and_unknown_kept() {
        assert_eq!(ImageStatus::from("ready"), ImageStatus::Ready);
        assert_eq!(
            ImageStatus::from("IMAGE_STATUS_UNKNOWN"),
            ImageStatus::StatusUnknown
        );
        let other: ImageStatus = serde_json::from_str("\"DEPRECATED\"").unwrap();
        assert_eq!(other, ImageStatus::Other("DEPRECATED".into()));
        assert_eq!(serde_json::to_string(&other).unwrap(), "\"DEPRECATED\"");
    }
}
