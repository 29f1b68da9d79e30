//! [`ImageReference`]: how a workload names an image, `slug/family[:tag]`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::id::{IdKind, ParseIdError};
use crate::model::segment::check_segment;

/// A workload's name for an image: `slug/family` with an optional `:tag`,
/// e.g. `cox-edge/ubuntu:v20201110`.
///
/// Without a tag the platform picks the most recently created READY image of
/// that family; [`resolve`](crate::resolve) applies the same rule client-side.
/// The family may not contain `:` (it separates the tag); no part may be
/// empty or contain `/`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageReference {
    raw: String,
    slash: usize,
    colon: Option<usize>,
}

impl ImageReference {
    /// Makes a reference from its parts.
    pub fn new(slug: &str, family: &str, tag: Option<&str>) -> Result<Self, ParseIdError> {
        let mut raw = format!("{slug}/{family}");
        if let Some(tag) = tag {
            raw.push(':');
            raw.push_str(tag);
        }
        let parsed = raw.parse::<ImageReference>()?;
        // Parsing the joined text must give back the same parts; it does not
        // when a part holds a separator, which `parse` has then reported.
        if parsed.slug() == slug && parsed.family() == family && parsed.tag() == tag {
            Ok(parsed)
        } else {
            Err(ParseIdError::with_reason(
                IdKind::ImageReference,
                &raw,
                "a part contains a separator ('/' or ':')",
            ))
        }
    }

    fn parse(s: &str) -> Result<Self, ParseIdError> {
        let kind = IdKind::ImageReference;
        let slash = s
            .find('/')
            .ok_or_else(|| ParseIdError::with_reason(kind, s, "must be slug/family[:tag]"))?;
        let slug = &s[..slash];
        let rest = &s[slash + 1..];
        let colon = rest.find(':').map(|i| slash + 1 + i);
        let family = &s[slash + 1..colon.unwrap_or(s.len())];
        check_segment(slug).map_err(|p| ParseIdError::new(kind, s, "slug", p))?;
        check_segment(family).map_err(|p| ParseIdError::new(kind, s, "family", p))?;
        if let Some(colon) = colon {
            check_segment(&s[colon + 1..]).map_err(|p| ParseIdError::new(kind, s, "tag", p))?;
        }
        Ok(ImageReference {
            raw: s.to_owned(),
            slash,
            colon,
        })
    }

    /// The slug, e.g. `cox-edge`.
    pub fn slug(&self) -> &str {
        &self.raw[..self.slash]
    }

    /// The image family, e.g. `ubuntu`.
    pub fn family(&self) -> &str {
        &self.raw[self.slash + 1..self.colon.unwrap_or(self.raw.len())]
    }

    /// The tag, when the reference names one.
    pub fn tag(&self) -> Option<&str> {
        self.colon.map(|c| &self.raw[c + 1..])
    }

    /// The whole reference as text.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl FromStr for ImageReference {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageReference::parse(s)
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImageReference({:?})", self.raw)
    }
}

impl Serialize for ImageReference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for ImageReference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(crate::model::strings::ParseVisitor::<ImageReference>::new(
            "an image reference slug/family[:tag]",
        ))
    }
}
