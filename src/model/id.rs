//! [`ImageId`]: the `stackId/family/tag` identifier of one image.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::segment::{SegmentProblem, check_no_slash_segment, check_segment};

/// The identifier of an image: `stackId/family/tag`.
///
/// Each part is validated once, when the id is made: none is empty, contains
/// `/`, or is a dot segment (`.`/`..`), so every id maps to exactly three URL
/// path segments. The id is stored as one string; the parts are slices of it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageId {
    raw: String,
    first_slash: usize,
    second_slash: usize,
}

impl ImageId {
    /// Makes an id from its three parts.
    pub fn new(stack_id: &str, family: &str, tag: &str) -> Result<Self, ParseIdError> {
        let mut raw = String::with_capacity(stack_id.len() + family.len() + tag.len() + 2);
        for (part, value) in [("stack id", stack_id), ("family", family), ("tag", tag)] {
            check_segment(value)
                .map_err(|problem| ParseIdError::new(IdKind::ImageId, value, part, problem))?;
        }
        raw.push_str(stack_id);
        raw.push('/');
        raw.push_str(family);
        raw.push('/');
        raw.push_str(tag);
        Ok(ImageId {
            first_slash: stack_id.len(),
            second_slash: stack_id.len() + 1 + family.len(),
            raw,
        })
    }

    /// Parses `stackId/family/tag` without allocating more than the result,
    /// in one pass over the text: it finds the first two slashes and
    /// whether the tag holds another, then checks the parts in order.
    fn parse(s: &str) -> Result<Self, ParseIdError> {
        let err = |part, problem| ParseIdError::new(IdKind::ImageId, s, part, problem);
        let malformed =
            || ParseIdError::with_reason(IdKind::ImageId, s, "must be stackId/family/tag");
        let mut slashes = s.bytes().enumerate().filter(|&(_, b)| b == b'/');
        let (first, _) = slashes.next().ok_or_else(malformed)?;
        let (second, _) = slashes.next().ok_or_else(malformed)?;
        let tag_has_slash = slashes.next().is_some();
        let (stack_id, family, tag) = (&s[..first], &s[first + 1..second], &s[second + 1..]);
        // The stack id and family end at the first two slashes, so hold none.
        check_no_slash_segment(stack_id).map_err(|p| err("stack id", p))?;
        check_no_slash_segment(family).map_err(|p| err("family", p))?;
        if tag_has_slash {
            return Err(err("tag", SegmentProblem::Slash));
        }
        check_no_slash_segment(tag).map_err(|p| err("tag", p))?;
        Ok(ImageId {
            raw: s.to_owned(),
            first_slash: first,
            second_slash: second,
        })
    }

    /// The id of the stack the image belongs to.
    pub fn stack_id(&self) -> &str {
        &self.raw[..self.first_slash]
    }

    /// The image family, e.g. `ubuntu`.
    pub fn family(&self) -> &str {
        &self.raw[self.first_slash + 1..self.second_slash]
    }

    /// The image tag, e.g. `v20201110`.
    pub fn tag(&self) -> &str {
        &self.raw[self.second_slash + 1..]
    }

    /// The whole id, `stackId/family/tag`.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The three parts, in path order.
    pub fn parts(&self) -> [&str; 3] {
        [self.stack_id(), self.family(), self.tag()]
    }
}

impl FromStr for ImageId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageId::parse(s)
    }
}

impl TryFrom<&str> for ImageId {
    type Error = ParseIdError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        ImageId::parse(s)
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImageId({:?})", self.raw)
    }
}

impl AsRef<str> for ImageId {
    fn as_ref(&self) -> &str {
        &self.raw
    }
}

impl Serialize for ImageId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for ImageId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(crate::model::strings::ParseVisitor::<ImageId>::new(
            "an image id stackId/family/tag",
        ))
    }
}

/// Which kind of identifier failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum IdKind {
    /// An [`ImageId`].
    ImageId,
    /// An [`ImageReference`](crate::ImageReference).
    ImageReference,
    /// A task id.
    TaskId,
}

impl IdKind {
    fn name(self) -> &'static str {
        match self {
            IdKind::ImageId => "image id",
            IdKind::ImageReference => "image reference",
            IdKind::TaskId => "task id",
        }
    }
}

/// Why a string is not a valid identifier. It names the part that is wrong
/// and keeps a bounded excerpt of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIdError {
    kind: IdKind,
    input: String,
    part: Option<&'static str>,
    reason: String,
}

/// Longest excerpt of a rejected input kept in an error.
const EXCERPT_CHARS: usize = 80;

impl ParseIdError {
    pub(crate) fn new(
        kind: IdKind,
        input: &str,
        part: &'static str,
        problem: SegmentProblem,
    ) -> Self {
        ParseIdError {
            kind,
            input: excerpt(input),
            part: Some(part),
            reason: problem.describe().to_owned(),
        }
    }

    pub(crate) fn with_reason(kind: IdKind, input: &str, reason: &str) -> Self {
        ParseIdError {
            kind,
            input: excerpt(input),
            part: None,
            reason: reason.to_owned(),
        }
    }

    /// The part that is wrong (`"stack id"`, `"family"`, `"tag"`, `"slug"`),
    /// when one part is to blame.
    pub fn part(&self) -> Option<&'static str> {
        self.part
    }
}

fn excerpt(input: &str) -> String {
    let mut out: String = input.chars().take(EXCERPT_CHARS).collect();
    if out.len() < input.len() {
        out.push('…');
    }
    out
}

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}: ", self.kind.name(), self.input)?;
        match self.part {
            Some(part) => write!(f, "the {part} {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for ParseIdError {}
