//! `ImageFilter` and `resolve` against definitions stated independently:
//! tables of expected selections, and selections computed on the
//! generator's own indices.

use coxedge_images::time::OffsetDateTime;
use coxedge_images::{Image, ImageFilter, ImageId, ImageReference, ImageStatus, resolve};
use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::TestRunner;

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

proptest! {
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

// ---- the filter, stated as a table of expected selections ----

/// Six images shaped like the specification's, each differing from another
/// in one attribute only, so each condition of a filter shows.
fn fixture() -> Vec<Image> {
    let at = |t| OffsetDateTime::from_unix_timestamp(t).unwrap();
    let img = |stack: &str, family: &str, tag: &str, slug: &str, status| {
        Image::new(
            ImageId::new(stack, family, tag).unwrap(),
            slug,
            at(1_605_040_412),
            status,
        )
    };
    vec![
        img(
            "a8050b2b",
            "centos7",
            "v20201110",
            "cox-edge",
            ImageStatus::Ready,
        ),
        img(
            "a8050b2b",
            "ubuntu",
            "v20201110",
            "cox-edge",
            ImageStatus::Ready,
        ),
        img(
            "a8050b2b",
            "ubuntu",
            "v20210101",
            "cox-edge",
            ImageStatus::Pending,
        ),
        img(
            "f00dcafe",
            "ubuntu",
            "v20201110",
            "my-workload",
            ImageStatus::Ready,
        ),
        img(
            "f00dcafe",
            "ubuntu",
            "mine-1",
            "my-workload",
            ImageStatus::Failed,
        ),
        img(
            "f00dcafe",
            "debian",
            "mine-1",
            "my-workload",
            ImageStatus::Other("DEPRECATED".into()),
        ),
        // Not Cox's own, though its slug starts like theirs.
        img(
            "f00dcafe",
            "centos7",
            "v20201110",
            "cox-edge-labs",
            ImageStatus::Ready,
        ),
    ]
}

#[test]
fn filter_selects_as_the_table_says() {
    let images = fixture();
    // (filter, the fixture's indices it selects), written by hand.
    let table: Vec<(ImageFilter, Vec<usize>)> = vec![
        (ImageFilter::new(), vec![0, 1, 2, 3, 4, 5, 6]),
        (ImageFilter::new().family("ubuntu"), vec![1, 2, 3, 4]),
        (ImageFilter::new().family("UBUNTU"), vec![]),
        (ImageFilter::new().family("ubunt"), vec![]),
        (ImageFilter::new().tag("v20201110"), vec![0, 1, 3, 6]),
        (ImageFilter::new().tag("mine-1"), vec![4, 5]),
        (ImageFilter::new().slug("my-workload"), vec![3, 4, 5]),
        (ImageFilter::new().stack_id("a8050b2b"), vec![0, 1, 2]),
        (ImageFilter::new().stack_id("ubuntu"), vec![]),
        (
            ImageFilter::new().status(ImageStatus::Ready),
            vec![0, 1, 3, 6],
        ),
        (ImageFilter::new().slug("cox-edge-labs"), vec![6]),
        (ImageFilter::new().status(ImageStatus::Failed), vec![4]),
        // Statuses compare without regard to case.
        (
            ImageFilter::new().status(ImageStatus::from("deprecated")),
            vec![5],
        ),
        (ImageFilter::new().system_only(), vec![0, 1, 2]),
        (
            ImageFilter::new().system_only().family("ubuntu"),
            vec![1, 2],
        ),
        (
            ImageFilter::new()
                .system_only()
                .status(ImageStatus::Ready)
                .tag("v20201110"),
            vec![0, 1],
        ),
        (ImageFilter::new().system_only().slug("my-workload"), vec![]),
        (ImageFilter::new().family("ubuntu").tag("mine-1"), vec![4]),
        (
            ImageFilter::new()
                .family("ubuntu")
                .stack_id("f00dcafe")
                .status(ImageStatus::Ready),
            vec![3],
        ),
        (ImageFilter::new().family("debian").tag("v20201110"), vec![]),
    ];
    for (filter, expected) in table {
        let expected: Vec<&Image> = expected.iter().map(|&i| &images[i]).collect();
        assert_eq!(filter.apply(&images), expected, "{filter:?}");
        let mut owned = images.clone();
        filter.retain(&mut owned);
        assert_eq!(owned.iter().collect::<Vec<_>>(), expected, "{filter:?}");
    }
}

// ---- the filter over generated images, judged on the generator's indices ----

const STACKS: [&str; 2] = ["s1", "s2"];
const FAMILIES: [&str; 3] = ["ubuntu", "centos7", "debian"];
const TAGS: [&str; 3] = ["v1", "v2", "v3"];
const SLUGS: [&str; 3] = ["cox-edge", "mine", "cox-edge-labs"];

/// The statuses images get, by index.
fn status_at(i: usize) -> ImageStatus {
    [
        ImageStatus::Ready,
        ImageStatus::Pending,
        ImageStatus::Failed,
        ImageStatus::Other("DEPRECATED".into()),
    ][i]
        .clone()
}

/// The same statuses as a filter asks for them (another spelling for the
/// unknown one: statuses compare without regard to case).
fn asked_status_at(i: usize) -> ImageStatus {
    [
        ImageStatus::from("ready"),
        ImageStatus::Pending,
        ImageStatus::Failed,
        ImageStatus::Other("deprecated".into()),
    ][i]
        .clone()
}

/// An image as indices into the pools: stack, family, tag, slug, status.
type Drawn = [usize; 5];
/// A filter as optional indices, and whether only system images are asked.
type Asked = ([Option<usize>; 5], bool);

fn drawn() -> impl Strategy<Value = Drawn> {
    (0..2usize, 0..3usize, 0..3usize, 0..3usize, 0..4usize)
        .prop_map(|(a, b, c, d, e)| [a, b, c, d, e])
}

fn asked() -> impl Strategy<Value = Asked> {
    let some = |n: usize| proptest::option::weighted(0.3, 0..n);
    (
        (some(2), some(3), some(3), some(2), some(4)),
        proptest::bool::weighted(0.3),
    )
        .prop_map(|((a, b, c, d, e), system)| ([a, b, c, d, e], system))
}

fn build_image(d: &Drawn) -> Image {
    Image::new(
        ImageId::new(STACKS[d[0]], FAMILIES[d[1]], TAGS[d[2]]).unwrap(),
        SLUGS[d[3]],
        OffsetDateTime::UNIX_EPOCH,
        status_at(d[4]),
    )
}

fn build_filter((want, system): &Asked) -> ImageFilter {
    let mut f = ImageFilter::new();
    f.stack_id = want[0].map(|i| STACKS[i].to_owned());
    f.family = want[1].map(|i| FAMILIES[i].to_owned());
    f.tag = want[2].map(|i| TAGS[i].to_owned());
    f.slug = want[3].map(|i| SLUGS[i].to_owned());
    f.status = want[4].map(asked_status_at);
    f.system_only = *system;
    f
}

#[test]
fn filter_selects_what_the_drawn_indices_say() {
    let counts = RefCell::new([0u32; 3]);
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (proptest::collection::vec(drawn(), 0..24), asked());
    runner
        .run(&strategy, |(drawn, asked)| {
            let images: Vec<Image> = drawn.iter().map(build_image).collect();
            let filter = build_filter(&asked);
            // Selected when every asked index equals the drawn one, and the
            // slug is the system one (index 0) when only those are asked.
            let expected: Vec<&Image> = drawn
                .iter()
                .zip(&images)
                .filter(|(d, _)| {
                    (0..5).all(|k| asked.0[k].is_none_or(|w| w == d[k])) && (!asked.1 || d[3] == 0)
                })
                .map(|(_, image)| image)
                .collect();
            let selected = filter.apply(&images);
            prop_assert_eq!(&selected, &expected, "{:?}", filter);
            prop_assert_eq!(filter.apply(selected.iter().copied()), expected.clone());
            let mut owned = images.clone();
            filter.retain(&mut owned);
            prop_assert_eq!(owned.iter().collect::<Vec<_>>(), expected.clone());
            let class = if expected.is_empty() {
                0
            } else if expected.len() == images.len() {
                2
            } else {
                1
            };
            counts.borrow_mut()[class] += 1;
            Ok(())
        })
        .unwrap();
    // The cases are not all trivial: many select some images but not all.
    let [none, some, all] = counts.into_inner();
    eprintln!("selected none: {none}, some: {some}, all: {all}");
    assert!(
        some >= 600,
        "only {some} of 2000 cases selected a proper subset"
    );
    assert!(none >= 100, "only {none} of 2000 cases selected nothing");
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

/// The one paging rule, [`ListAll`](coxedge_images::ListAll), after one
/// page: which page it asks for next, if any.
mod paging {
    use std::time::{Instant, SystemTime};

    use coxedge_images::time::OffsetDateTime;
    use coxedge_images::{
        ApiKey, Endpoint, Image, ImageId, ImageStatus, ListOptions, Next, Operation,
    };

    /// The query of the request `ListAll` sends after a first page of `n`
    /// images with this metadata, or `None` when it ends there.
    fn next_after(
        asked: &ListOptions,
        n: usize,
        total: Option<u64>,
        size: Option<u64>,
        current: Option<u64>,
    ) -> Option<String> {
        let endpoint = Endpoint::builder()
            .service("s")
            .environment("e")
            .api_key(ApiKey::new("k").unwrap())
            .build()
            .unwrap();
        let images: Vec<Image> = (0..n)
            .map(|i| {
                let id = ImageId::new("s", "f", &format!("v{i}")).unwrap();
                Image::new(id, "x", OffsetDateTime::UNIX_EPOCH, ImageStatus::Ready)
            })
            .collect();
        let mut metadata = serde_json::Map::new();
        for (key, value) in [
            ("recordCount", total),
            ("pageSize", size),
            ("pageCurrent", current),
        ] {
            if let Some(value) = value {
                metadata.insert(key.into(), value.into());
            }
        }
        let body = serde_json::json!({"data": images, "metadata": metadata});
        let mut op = endpoint.list_images(asked).unwrap();
        let now = Instant::now();
        assert!(matches!(op.poll(now), Next::Send(_)));
        let page = http::Response::new(serde_json::to_vec(&body).unwrap());
        op.handle(Ok(page), now, SystemTime::now(), 0.5);
        match op.poll(now) {
            Next::Send(request) => Some(request.uri().query().unwrap_or("").to_owned()),
            Next::Done(_) => None,
            Next::WaitUntil(at) => panic!("a wait until {at:?} between pages"),
        }
    }

    #[test]
    fn the_next_page_follows_the_metadata_and_always_ends() {
        let asked = ListOptions::new();
        // Complete, or no count: no next page.
        assert_eq!(next_after(&asked, 2, Some(2), None, None), None);
        assert_eq!(next_after(&asked, 2, None, None, None), None);
        // An empty page ends the list whatever the count says.
        assert_eq!(next_after(&asked, 0, Some(99), None, None), None);
        // Paged without saying so: this page's length is the page size.
        assert_eq!(
            next_after(&asked, 20, Some(45), None, None).as_deref(),
            Some("page_number=2&page_size=20")
        );
        // Paged as asked, keeping the other options.
        let asked = ListOptions::new().system_only().page(2, 10);
        assert_eq!(
            next_after(&asked, 10, Some(45), Some(10), Some(2)).as_deref(),
            Some("includeOnlySystemImages=true&page_number=3&page_size=10")
        );
        // The next page is the client's count plus one, whatever the server
        // says its page is.
        assert_eq!(
            next_after(&asked, 10, Some(45), Some(10), Some(1)).as_deref(),
            Some("includeOnlySystemImages=true&page_number=3&page_size=10")
        );
    }
}
