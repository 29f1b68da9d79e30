//! `ImageFilter` and `resolve` against their element-wise definitions.

use coxedge_images::time::OffsetDateTime;
use coxedge_images::{Image, ImageFilter, ImageId, ImageReference, ImageStatus, resolve};
use proptest::prelude::*;

fn small(choices: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(choices).prop_map(str::to_owned)
}

fn image() -> impl Strategy<Value = Image> {
    (
        small(&["s1", "s2"]),
        small(&["ubuntu", "centos7"]),
        small(&["v1", "v2", "v3"]),
        small(&["cox-edge", "mine"]),
        0i64..20,
        prop_oneof![
            Just(ImageStatus::Ready),
            Just(ImageStatus::Pending),
            Just(ImageStatus::Failed)
        ],
    )
        .prop_map(|(stack, family, tag, slug, t, status)| {
            let id = ImageId::new(&stack, &family, &tag).unwrap();
            Image::new(
                id,
                slug,
                OffsetDateTime::from_unix_timestamp(t).unwrap(),
                status,
            )
        })
}

fn filter() -> impl Strategy<Value = ImageFilter> {
    (
        proptest::option::of(small(&["ubuntu", "centos7"])),
        proptest::option::of(small(&["v1", "v2"])),
        proptest::option::of(small(&["cox-edge", "mine"])),
        proptest::option::of(prop_oneof![
            Just(ImageStatus::Ready),
            Just(ImageStatus::Failed)
        ]),
        proptest::option::of(small(&["s1", "s2"])),
        any::<bool>(),
    )
        .prop_map(|(family, tag, slug, status, stack_id, system_only)| {
            let mut f = ImageFilter::new();
            f.family = family;
            f.tag = tag;
            f.slug = slug;
            f.status = status;
            f.stack_id = stack_id;
            f.system_only = system_only;
            f
        })
}

fn predicate(f: &ImageFilter, i: &Image) -> bool {
    f.family.as_ref().is_none_or(|x| x == i.family())
        && f.tag.as_ref().is_none_or(|x| x == i.tag())
        && f.slug.as_ref().is_none_or(|x| *x == i.slug)
        && f.stack_id.as_ref().is_none_or(|x| x == i.stack_id())
        && f.status.as_ref().is_none_or(|x| *x == i.status)
        && (!f.system_only || i.slug == "cox-edge")
}

proptest! {
    #[test]
    fn filter_is_the_element_wise_predicate_and_idempotent(
        images in proptest::collection::vec(image(), 0..30), f in filter()
    ) {
        let expected: Vec<&Image> = images.iter().filter(|i| predicate(&f, i)).collect();
        let once = f.apply(&images);
        prop_assert_eq!(&once, &expected);
        let twice = f.apply(once.iter().copied());
        prop_assert_eq!(&twice, &expected);
        let mut owned = images.clone();
        f.retain(&mut owned);
        prop_assert_eq!(owned.iter().collect::<Vec<_>>(), expected);
        prop_assert_eq!(ImageFilter::new().apply(&images).len(), images.len());
    }

    #[test]
    fn resolve_without_tag_is_the_newest_ready_match(
        images in proptest::collection::vec(image(), 0..30),
        slug in small(&["cox-edge", "mine"]),
        family in small(&["ubuntu", "centos7"]),
    ) {
        let reference = ImageReference::new(&slug, &family, None).unwrap();
        let found = resolve(&images, &reference);
        let candidates: Vec<&Image> = images
            .iter()
            .filter(|i| i.slug == slug && i.family() == family && i.status == ImageStatus::Ready)
            .collect();
        match found {
            None => prop_assert!(candidates.is_empty()),
            Some(image) => {
                prop_assert!(candidates.contains(&image));
                prop_assert!(candidates.iter().all(|c| c.created_at <= image.created_at));
            }
        }
        // The answer does not depend on the list's order.
        let mut reversed = images.clone();
        reversed.reverse();
        prop_assert_eq!(resolve(&reversed, &reference), found);
    }

    #[test]
    fn resolve_with_tag_is_that_exact_image(
        images in proptest::collection::vec(image(), 0..30),
        family in small(&["ubuntu", "centos7"]),
        tag in small(&["v1", "v2", "v3"]),
    ) {
        let reference = ImageReference::new("mine", &family, Some(&tag)).unwrap();
        match resolve(&images, &reference) {
            None => prop_assert!(!images.iter().any(|i| i.slug == "mine" && i.family() == family && i.tag() == tag)),
            Some(i) => prop_assert!(i.slug == "mine" && i.family() == family && i.tag() == tag),
        }
    }
}

#[test]
fn resolve_ignores_newer_images_that_are_not_ready() {
    let at = |t| OffsetDateTime::from_unix_timestamp(t).unwrap();
    let img = |tag: &str, t, status| {
        Image::new(
            ImageId::new("s", "ubuntu", tag).unwrap(),
            "cox-edge",
            at(t),
            status,
        )
    };
    let images = vec![
        img("v1", 1, ImageStatus::Ready),
        img("v2", 2, ImageStatus::Ready),
        img("v3", 3, ImageStatus::Pending),
    ];
    let r: ImageReference = "cox-edge/ubuntu".parse().unwrap();
    assert_eq!(resolve(&images, &r).unwrap().tag(), "v2");
    let r: ImageReference = "cox-edge/ubuntu:v3".parse().unwrap();
    assert_eq!(resolve(&images, &r).unwrap().tag(), "v3");
    let r: ImageReference = "cox-edge/debian".parse().unwrap();
    assert!(resolve(&images, &r).is_none());
}

mod paging {
    use coxedge_images::time::OffsetDateTime;
    use coxedge_images::{Image, ImageId, ImageList, ImageStatus, ListMetadata, ListOptions};

    fn page(n: usize, total: Option<u64>, size: Option<u64>, current: Option<u64>) -> ImageList {
        let images = (0..n)
            .map(|i| {
                let id = ImageId::new("s", "f", &format!("v{i}")).unwrap();
                Image::new(id, "x", OffsetDateTime::UNIX_EPOCH, ImageStatus::Ready)
            })
            .collect();
        let mut metadata = ListMetadata::default();
        metadata.record_count = total;
        metadata.page_size = size;
        metadata.page_current = current;
        ImageList::new(images, metadata)
    }

    #[test]
    fn next_page_follows_the_metadata_and_always_ends() {
        let asked = ListOptions::new();
        // Complete, or no count: no next page.
        assert_eq!(page(2, Some(2), None, None).next_page(&asked, 2), None);
        assert_eq!(page(2, None, None, None).next_page(&asked, 2), None);
        // An empty page ends the list whatever the count says.
        assert_eq!(page(0, Some(99), None, None).next_page(&asked, 0), None);
        // Paged without saying so: this page's length is the page size.
        assert_eq!(
            page(20, Some(45), None, None).next_page(&asked, 20),
            Some(ListOptions::new().page(2, 20))
        );
        // Paged as asked, keeping the other options.
        let asked = ListOptions::new().system_only().page(2, 10);
        assert_eq!(
            page(10, Some(45), Some(10), Some(2)).next_page(&asked, 20),
            Some(ListOptions::new().system_only().page(3, 10))
        );
        // The next page is the client's count plus one, whatever the server
        // says its page is.
        assert_eq!(
            page(10, Some(45), Some(10), Some(1)).next_page(&asked, 20),
            Some(ListOptions::new().system_only().page(3, 10))
        );
        // A server claiming an absurd count is followed only so far.
        let last = u32::try_from(coxedge_images::MAX_PAGES).unwrap();
        let asked = ListOptions::new().page(last, 1);
        assert_eq!(
            page(1, Some(u64::MAX), Some(1), Some(1)).next_page(&asked, 5),
            None
        );
    }
}
