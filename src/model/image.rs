//! [`Image`] and [`ImageList`]: the typed model of the API's answers.

use std::borrow::Cow;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use time::OffsetDateTime;

use crate::model::id::ImageId;
use crate::model::status::ImageStatus;
use crate::model::strings::Text;

/// The slug of Cox's own (system) images, as the specification shows them.
pub const SYSTEM_SLUG: &str = "cox-edge";

/// One image of an environment.
///
/// The stack id, family and tag are the parts of [`Image::id`]; decoding
/// checks that the separate fields the API sends agree with it. Unknown
/// fields are ignored, so new server fields never break decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Image {
    /// `stackId/family/tag`.
    pub id: ImageId,
    /// The slug, e.g. `cox-edge` for Cox's own images.
    pub slug: String,
    /// When the image was created (RFC 3339, any offset, up to nanoseconds).
    pub created_at: OffsetDateTime,
    /// Free text; `None` when the API sends none or `null`.
    pub description: Option<String>,
    /// The reference a workload uses, e.g. `cox-edge/ubuntu:v20201110`.
    pub reference: String,
    /// The image's state.
    pub status: ImageStatus,
}

impl Image {
    /// Makes an image (for tests and simulators); the reference is derived
    /// as `slug/family:tag` and the description left empty.
    pub fn new(
        id: ImageId,
        slug: impl Into<String>,
        created_at: OffsetDateTime,
        status: ImageStatus,
    ) -> Self {
        let slug = slug.into();
        let reference = format!("{slug}/{}:{}", id.family(), id.tag());
        Image {
            id,
            slug,
            created_at,
            description: None,
            reference,
            status,
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the reference.
    pub fn with_reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = reference.into();
        self
    }

    /// The id of the stack the image belongs to.
    pub fn stack_id(&self) -> &str {
        self.id.stack_id()
    }

    /// The image family.
    pub fn family(&self) -> &str {
        self.id.family()
    }

    /// The image tag.
    pub fn tag(&self) -> &str {
        self.id.tag()
    }

    /// Whether this is one of Cox's own images (its slug is [`SYSTEM_SLUG`]).
    pub fn is_system(&self) -> bool {
        self.slug == SYSTEM_SLUG
    }
}

/// The wire form, borrowing every string from the body when it has no escapes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireImage<'a> {
    #[serde(default)]
    id: Option<ImageId>,
    #[serde(default, borrow)]
    stack_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    family: Option<Text<'a>>,
    #[serde(default, borrow)]
    tag: Option<Text<'a>>,
    #[serde(borrow)]
    slug: Cow<'a, str>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(default, borrow)]
    description: Option<Text<'a>>,
    #[serde(borrow)]
    reference: Cow<'a, str>,
    status: ImageStatus,
}

impl<'de> Deserialize<'de> for Image {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireImage::deserialize(deserializer)?;
        let id = match wire.id {
            Some(id) => {
                for (field, sent, expected) in [
                    ("stackId", &wire.stack_id, id.stack_id()),
                    ("family", &wire.family, id.family()),
                    ("tag", &wire.tag, id.tag()),
                ] {
                    if let Some(Text(sent)) = sent {
                        if sent != expected {
                            return Err(de::Error::custom(format_args!(
                                "{field} {sent:?} does not match the id {:?}",
                                id.as_str()
                            )));
                        }
                    }
                }
                id
            }
            None => match (&wire.stack_id, &wire.family, &wire.tag) {
                (Some(Text(s)), Some(Text(f)), Some(Text(t))) => {
                    ImageId::new(s, f, t).map_err(de::Error::custom)?
                }
                _ => return Err(de::Error::missing_field("id")),
            },
        };
        Ok(Image {
            id,
            slug: wire.slug.into_owned(),
            created_at: wire.created_at,
            description: wire.description.map(|Text(t)| t.into_owned()),
            reference: wire.reference.into_owned(),
            status: wire.status,
        })
    }
}

/// The wire form written back, with the API's field names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireImageOut<'a> {
    stack_id: &'a str,
    id: &'a str,
    slug: &'a str,
    family: &'a str,
    tag: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    description: Option<&'a str>,
    reference: &'a str,
    status: &'a str,
}

impl Serialize for Image {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireImageOut {
            stack_id: self.stack_id(),
            id: self.id.as_str(),
            slug: &self.slug,
            family: self.family(),
            tag: self.tag(),
            created_at: self.created_at,
            description: self.description.as_deref(),
            reference: &self.reference,
            status: self.status.as_str(),
        }
        .serialize(serializer)
    }
}

/// The `metadata` of a list response. Every field is optional: the API sends
/// `recordCount`, and the paging fields only when paging was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ListMetadata {
    /// How many records the whole list has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_count: Option<u64>,
    /// The page size used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u64>,
    /// The page returned (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_current: Option<u64>,
    /// The field the list is sorted by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_field: Option<String>,
    /// The sort order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
}

/// A decoded list response: the images and the list metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageList {
    /// The images, in the server's order.
    pub images: Vec<Image>,
    /// The `metadata` object (all `None` when the server sent none).
    pub metadata: ListMetadata,
}

impl ImageList {
    /// Makes a list from its parts.
    pub fn new(images: Vec<Image>, metadata: ListMetadata) -> Self {
        ImageList { images, metadata }
    }
}

impl IntoIterator for ImageList {
    type Item = Image;
    type IntoIter = std::vec::IntoIter<Image>;
    fn into_iter(self) -> Self::IntoIter {
        self.images.into_iter()
    }
}

impl<'a> IntoIterator for &'a ImageList {
    type Item = &'a Image;
    type IntoIter = std::slice::Iter<'a, Image>;
    fn into_iter(self) -> Self::IntoIter {
        self.images.iter()
    }
}
