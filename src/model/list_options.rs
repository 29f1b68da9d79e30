//! [`ListOptions`]: the query of a list request.

use std::fmt;

/// The v2 `imageType` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageType {
    /// Cox's own images.
    Default,
    /// Images made from workload instances.
    Custom,
}

impl ImageType {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageType::Default => "default",
            ImageType::Custom => "custom",
        }
    }
}

impl fmt::Display for ImageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ImageType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "default" => Ok(ImageType::Default),
            "custom" => Ok(ImageType::Custom),
            _ => Err(format!(
                "unknown image type {s:?} (expected default or custom)"
            )),
        }
    }
}

/// What to ask the server for when listing images.
///
/// Every option is sent only when set. `includeOnlySystemImages` is the v1
/// spelling, `imageType` the v2 one; both may be sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListOptions {
    /// `includeOnlySystemImages=true|false`.
    pub include_only_system_images: Option<bool>,
    /// `imageType=default|custom` (v2).
    pub image_type: Option<ImageType>,
    /// `page_number` (1-based).
    pub page_number: Option<u32>,
    /// `page_size`.
    pub page_size: Option<u32>,
}

impl ListOptions {
    /// No options: every non-deprecated image.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only Cox's own images (`includeOnlySystemImages=true`).
    pub fn system_only(mut self) -> Self {
        self.include_only_system_images = Some(true);
        self
    }

    /// The v2 `imageType` filter.
    pub fn image_type(mut self, image_type: ImageType) -> Self {
        self.image_type = Some(image_type);
        self
    }

    /// One page of `size` images, `number` counting from 1.
    pub fn page(mut self, number: u32, size: u32) -> Self {
        self.page_number = Some(number);
        self.page_size = Some(size);
        self
    }

    /// The query pairs these options put on the request, in order.
    pub(crate) fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(v) = self.include_only_system_images {
            pairs.push(("includeOnlySystemImages", v.to_string()));
        }
        if let Some(t) = self.image_type {
            pairs.push(("imageType", t.as_str().to_owned()));
        }
        if let Some(n) = self.page_number {
            pairs.push(("page_number", n.to_string()));
        }
        if let Some(s) = self.page_size {
            pairs.push(("page_size", s.to_string()));
        }
        pairs
    }
}
