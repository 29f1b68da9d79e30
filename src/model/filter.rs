//! Client-side selection: [`ImageFilter`] and [`resolve`].

use crate::model::image::Image;
use crate::model::reference::ImageReference;
use crate::model::status::ImageStatus;

/// A conjunction of optional conditions on images; an empty filter matches
/// everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageFilter {
    /// The family must equal this.
    pub family: Option<String>,
    /// The tag must equal this.
    pub tag: Option<String>,
    /// The slug must equal this.
    pub slug: Option<String>,
    /// The status must equal this.
    pub status: Option<ImageStatus>,
    /// The stack id must equal this.
    pub stack_id: Option<String>,
    /// Only Cox's own images ([`Image::is_system`]).
    pub system_only: bool,
}

impl ImageFilter {
    /// A filter that matches everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only this family.
    pub fn family(mut self, family: impl Into<String>) -> Self {
        self.family = Some(family.into());
        self
    }

    /// Only this tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    /// Only this slug.
    pub fn slug(mut self, slug: impl Into<String>) -> Self {
        self.slug = Some(slug.into());
        self
    }

    /// Only this status.
    pub fn status(mut self, status: ImageStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only this stack.
    pub fn stack_id(mut self, stack_id: impl Into<String>) -> Self {
        self.stack_id = Some(stack_id.into());
        self
    }

    /// Only Cox's own images.
    pub fn system_only(mut self) -> Self {
        self.system_only = true;
        self
    }

    /// Whether `image` meets every condition.
    pub fn matches(&self, image: &Image) -> bool {
        fn eq(want: &Option<String>, have: &str) -> bool {
            want.as_deref().is_none_or(|w| w == have)
        }
        eq(&self.family, image.family())
            && eq(&self.tag, image.tag())
            && eq(&self.slug, &image.slug)
            && eq(&self.stack_id, image.stack_id())
            && self.status.as_ref().is_none_or(|s| *s == image.status)
            && (!self.system_only || image.is_system())
    }

    /// The matching images, in order.
    pub fn apply<'a>(&self, images: impl IntoIterator<Item = &'a Image>) -> Vec<&'a Image> {
        images.into_iter().filter(|i| self.matches(i)).collect()
    }

    /// Keeps only the matching images.
    pub fn retain(&self, images: &mut Vec<Image>) {
        images.retain(|i| self.matches(i));
    }
}

/// Picks the image a reference names, by the platform's rule: with a tag,
/// the image of that slug, family and tag; without one, the most recently
/// created READY image of that slug and family (ties go to the greatest id,
/// so the answer never depends on list order).
pub fn resolve<'a>(
    images: impl IntoIterator<Item = &'a Image>,
    reference: &ImageReference,
) -> Option<&'a Image> {
    let same_family = images
        .into_iter()
        .filter(|i| i.slug == reference.slug() && i.family() == reference.family());
    match reference.tag() {
        Some(tag) => same_family.filter(|i| i.tag() == tag).max_by(|a, b| {
            (a.status.is_ready(), a.created_at, &a.id).cmp(&(
                b.status.is_ready(),
                b.created_at,
                &b.id,
            ))
        }),
        None => same_family
            .filter(|i| i.status.is_ready())
            .max_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id))),
    }
}
