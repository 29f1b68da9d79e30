//! A baseline for scale: what a user writes in five minutes with
//! `#[derive]`, nine `String` fields (`description` nullable) and the
//! envelope, nothing parsed or checked.

use serde::Deserialize;

/// `{"data": [...], "metadata": {"recordCount": N}}`.
#[derive(Deserialize)]
pub struct PlainList {
    pub data: Vec<PlainImage>,
    #[allow(dead_code)] // read by serde only
    pub metadata: PlainMetadata,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // read by serde only
pub struct PlainMetadata {
    pub record_count: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // read by serde only
pub struct PlainImage {
    pub stack_id: String,
    pub id: String,
    pub slug: String,
    pub family: String,
    pub tag: String,
    pub created_at: String,
    pub description: Option<String>,
    pub reference: String,
    pub status: String,
}
