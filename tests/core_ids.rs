//! `ImageId` and `ImageReference`: parsing, display and hostile input.

use coxedge_images::{IdKind, ImageId, ImageReference};
use proptest::prelude::*;

/// One valid path-segment part: no '/', not empty, not a dot segment.
fn part() -> impl Strategy<Value = String> {
    "[^/]{1,12}".prop_filter("dot segment", |s| s != "." && s != "..")
}

/// A valid family or tag for a reference: additionally no ':' in the family.
fn family() -> impl Strategy<Value = String> {
    part().prop_filter("colon", |s| !s.contains(':'))
}

proptest! {
    #[test]
    fn image_id_round_trips(stack in part(), family in part(), tag in part()) {
        let id = ImageId::new(&stack, &family, &tag).unwrap();
        prop_assert_eq!(id.parts(), [stack.as_str(), family.as_str(), tag.as_str()]);
        let text = id.to_string();
        prop_assert_eq!(&text, &format!("{stack}/{family}/{tag}"));
        let parsed: ImageId = text.parse().unwrap();
        prop_assert_eq!(&parsed, &id);
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<ImageId>(&json).unwrap(), id);
    }

    #[test]
    fn any_string_parses_only_to_a_faithful_id(s in any::<String>()) {
        match s.parse::<ImageId>() {
            Ok(id) => {
                prop_assert_eq!(id.to_string(), s.clone());
                for p in id.parts() {
                    prop_assert!(!p.is_empty() && !p.contains('/') && p != "." && p != "..");
                }
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), IdKind::ImageId);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn ids_with_a_bad_part_are_rejected(
        good in part(),
        bad in prop_oneof![Just(String::new()), Just(".".to_owned()), Just("..".to_owned()), "[a-z]{0,3}/[a-z]{0,3}"],
        position in 0usize..3,
    ) {
        let mut parts = [good.clone(), good.clone(), good];
        parts[position] = bad;
        prop_assert!(ImageId::new(&parts[0], &parts[1], &parts[2]).is_err());
        // Joined, a slash in a part makes four parts or an empty one: also refused.
        prop_assert!(parts.join("/").parse::<ImageId>().is_err());
    }

    #[test]
    fn reference_round_trips(slug in part(), family in family(), tag in proptest::option::of(part())) {
        let r = ImageReference::new(&slug, &family, tag.as_deref()).unwrap();
        prop_assert_eq!(r.slug(), slug.as_str());
        prop_assert_eq!(r.family(), family.as_str());
        prop_assert_eq!(r.tag(), tag.as_deref());
        let parsed: ImageReference = r.to_string().parse().unwrap();
        prop_assert_eq!(parsed, r);
    }

    #[test]
    fn any_string_parses_only_to_a_faithful_reference(s in any::<String>()) {
        if let Ok(r) = s.parse::<ImageReference>() {
            let rebuilt = match r.tag() {
                Some(t) => format!("{}/{}:{t}", r.slug(), r.family()),
                None => format!("{}/{}", r.slug(), r.family()),
            };
            prop_assert_eq!(rebuilt, s);
        }
    }
}

#[test]
fn errors_name_the_part() {
    let e = "abc//v1".parse::<ImageId>().unwrap_err();
    assert_eq!(e.part(), Some("family"));
    assert_eq!(
        e.to_string(),
        "invalid image id \"abc//v1\": the family is empty"
    );
    let e = "abc/ubuntu/v1/extra".parse::<ImageId>().unwrap_err();
    assert_eq!(e.part(), Some("tag"));
    let e = "abc/../v1".parse::<ImageId>().unwrap_err();
    assert!(e.to_string().contains("'.' or '..'"), "{e}");
    let e = "no-slashes".parse::<ImageId>().unwrap_err();
    assert_eq!(e.part(), None);
    let e = "cox-edge/:v1".parse::<ImageReference>().unwrap_err();
    assert_eq!(e.part(), Some("family"));
    let e = "cox-edge/ubuntu:".parse::<ImageReference>().unwrap_err();
    assert_eq!(e.part(), Some("tag"));
}

#[test]
fn hostile_input_is_bounded_in_errors() {
    let long = "x".repeat(100_000);
    let e = long.parse::<ImageId>().unwrap_err();
    assert!(e.to_string().len() < 300);
}

#[test]
fn spec_reference_parses() {
    let r: ImageReference = "cox-edge/ubuntu:v20201110".parse().unwrap();
    assert_eq!(
        (r.slug(), r.family(), r.tag()),
        ("cox-edge", "ubuntu", Some("v20201110"))
    );
    let r: ImageReference = "cox-edge/ubuntu".parse().unwrap();
    assert_eq!(r.tag(), None);
}
