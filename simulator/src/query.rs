//! A list request's query string, read as the server reads it.

/// The v2 `imageType` filter, as the server reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageType {
    /// Cox's own (system) images.
    Default,
    /// Images made from workload instances.
    Custom,
}

/// The list parameters the API takes; unknown keys are ignored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListQuery {
    pub(crate) include_only_system_images: Option<bool>,
    pub(crate) image_type: Option<ImageType>,
    pub(crate) page_number: Option<u32>,
    pub(crate) page_size: Option<u32>,
}

impl ListQuery {
    /// Reads the parameters from a request's decoded query pairs. A known
    /// key with a bad value is an error naming it.
    pub(crate) fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, String> {
        let mut query = ListQuery::default();
        for (key, value) in pairs {
            let bad = || format!("invalid value {value:?} for query parameter {key}");
            match key {
                "includeOnlySystemImages" => {
                    query.include_only_system_images = Some(match value {
                        v if v.eq_ignore_ascii_case("true") => true,
                        v if v.eq_ignore_ascii_case("false") => false,
                        _ => return Err(bad()),
                    })
                }
                "imageType" => {
                    query.image_type = Some(match value {
                        v if v.eq_ignore_ascii_case("default") => ImageType::Default,
                        v if v.eq_ignore_ascii_case("custom") => ImageType::Custom,
                        _ => return Err(bad()),
                    })
                }
                "page_number" => query.page_number = Some(value.parse().map_err(|_| bad())?),
                "page_size" => query.page_size = Some(value.parse().map_err(|_| bad())?),
                _ => {}
            }
        }
        Ok(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_are_read_and_unknown_ones_ignored() {
        let query = ListQuery::from_pairs([
            ("includeOnlySystemImages", "TRUE"),
            ("imageType", "custom"),
            ("page_number", "3"),
            ("page_size", "50"),
            ("org_id", "x"),
        ])
        .unwrap();
        assert_eq!(
            query,
            ListQuery {
                include_only_system_images: Some(true),
                image_type: Some(ImageType::Custom),
                page_number: Some(3),
                page_size: Some(50),
            }
        );
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let error = ListQuery::from_pairs([("page_size", "-1")]).unwrap_err();
        assert_eq!(error, r#"invalid value "-1" for query parameter page_size"#);
        assert!(ListQuery::from_pairs([("includeOnlySystemImages", "yes")]).is_err());
        assert!(ListQuery::from_pairs([("imageType", "all")]).is_err());
    }
}
