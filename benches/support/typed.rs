//! The baselines a careful user would write instead of this crate.
//!
//! - [`TypedList`]: a typed `#[derive(Deserialize)]` doing the validation
//!   ours does: `createdAt` parsed as RFC 3339 with `time`, the status as an
//!   enum, and the id checked to be `stackId/family/tag` (three non-empty
//!   parts, none `.` or `..`) agreeing with the separate `stackId`, `family`
//!   and `tag` fields. It is slightly easier on itself than ours: an unknown
//!   status becomes `Other` without keeping the value, and status matching is
//!   case-sensitive.
//! - [`BorrowedList`]: every string borrowed from the body (`&str`, and a
//!   `Cow` for the description, which may hold escapes), nothing parsed or
//!   checked: the zero-copy ceiling for serde_json on this document.

use std::borrow::Cow;

use serde::Deserialize;
use time::OffsetDateTime;

use super::plain::PlainMetadata;

/// `{"data": [...], "metadata": {...}}` into the typed model.
#[derive(Deserialize)]
pub struct TypedList {
    pub data: Vec<TypedImage>,
    #[allow(dead_code)] // read by serde only
    pub metadata: PlainMetadata,
}

/// One image as a careful user models it.
#[derive(Deserialize)]
#[serde(try_from = "TypedWire")]
#[allow(dead_code)] // read by serde only
pub struct TypedImage {
    pub id: String,
    pub slug: String,
    pub created_at: OffsetDateTime,
    pub description: Option<String>,
    pub reference: String,
    pub status: TypedStatus,
}

/// The five documented statuses; anything else is `Other`.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TypedStatus {
    Ready,
    Pending,
    Processing,
    Failed,
    ImageStatusUnknown,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypedWire {
    stack_id: String,
    id: String,
    slug: String,
    family: String,
    tag: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    description: Option<String>,
    reference: String,
    status: TypedStatus,
}

fn valid_part(part: &str) -> bool {
    !part.is_empty() && part != "." && part != ".."
}

impl TryFrom<TypedWire> for TypedImage {
    type Error = String;

    fn try_from(w: TypedWire) -> Result<Self, String> {
        let mut parts = w.id.split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(s), Some(f), Some(t), None)
                if valid_part(s)
                    && valid_part(f)
                    && valid_part(t)
                    && s == w.stack_id
                    && f == w.family
                    && t == w.tag => {}
            _ => {
                return Err(format!(
                    "id {:?} is not stackId/family/tag of its fields",
                    w.id
                ));
            }
        }
        Ok(TypedImage {
            id: w.id,
            slug: w.slug,
            created_at: w.created_at,
            description: w.description,
            reference: w.reference,
            status: w.status,
        })
    }
}

/// `{"data": [...], "metadata": {...}}`, every string borrowed.
#[derive(Deserialize)]
pub struct BorrowedList<'a> {
    #[serde(borrow)]
    pub data: Vec<BorrowedImage<'a>>,
    #[allow(dead_code)] // read by serde only
    pub metadata: PlainMetadata,
}

/// A string borrowed from the body unless it holds escapes.
#[derive(Deserialize)]
#[allow(dead_code)] // read by serde only
pub struct MaybeBorrowed<'a>(#[serde(borrow)] pub Cow<'a, str>);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // read by serde only
pub struct BorrowedImage<'a> {
    pub stack_id: &'a str,
    pub id: &'a str,
    pub slug: &'a str,
    pub family: &'a str,
    pub tag: &'a str,
    pub created_at: &'a str,
    #[serde(borrow)]
    pub description: Option<MaybeBorrowed<'a>>,
    pub reference: &'a str,
    pub status: &'a str,
}

/// `{"data": {...}}` into the typed model.
#[derive(Deserialize)]
pub struct TypedSingle {
    #[allow(dead_code)] // read by serde only
    pub data: TypedImage,
}
