//! `ImageId` and `ImageReference`: parsing, display and hostile input.

use coxedge_images::{ImageId, ImageReference};
use std::cell::RefCell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

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

// ---- hostile text, judged by a definition written independently ----
//
// The generators build ids and references from generated parts joined by
// their separators, then apply one targeted mutation, so that every branch
// of the parsers is reached often (valid, too few separators, each part
// empty, a dot segment, a stray separator). The oracles restate the rules
// with `split`, not with the parsers' `find`.

/// A part that is often valid and sometimes hostile in each known way.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => "[a-z0-9_-]{1,8}",
        3 => "[a-zA-Z0-9 %:.\u{e9}\u{0}\t\u{202e}-]{1,6}",
        1 => Just(String::new()),
        1 => Just(".".to_owned()),
        1 => Just("..".to_owned()),
        1 => "[a-z]{0,3}/[a-z]{0,3}",
    ]
}

/// One targeted change to a joined text.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    Insert(proptest::sample::Index, char),
    Remove(proptest::sample::Index),
    DropSlash(proptest::sample::Index),
    Prefix(&'static str),
    Suffix(&'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        8 => Just(Mutation::None),
        2 => (any::<proptest::sample::Index>(), proptest::sample::select(vec!['/', ':', '.', '%']))
            .prop_map(|(i, c)| Mutation::Insert(i, c)),
        2 => any::<proptest::sample::Index>().prop_map(Mutation::Remove),
        2 => any::<proptest::sample::Index>().prop_map(Mutation::DropSlash),
        1 => proptest::sample::select(vec!["/", "./", "../", ":", "a/"]).prop_map(Mutation::Prefix),
        1 => proptest::sample::select(vec!["/", "/.", "/..", ":", ":x"]).prop_map(Mutation::Suffix),
    ]
}

fn mutate(text: &str, m: &Mutation) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    match m {
        Mutation::None => {}
        Mutation::Insert(i, c) => chars.insert(i.index(chars.len() + 1), *c),
        Mutation::Remove(i) if !chars.is_empty() => {
            chars.remove(i.index(chars.len()));
        }
        Mutation::Remove(_) => {}
        Mutation::DropSlash(i) => {
            let slashes: Vec<usize> = (0..chars.len()).filter(|&k| chars[k] == '/').collect();
            if !slashes.is_empty() {
                chars.remove(slashes[i.index(slashes.len())]);
            }
        }
        Mutation::Prefix(p) => return format!("{p}{text}"),
        Mutation::Suffix(s) => return format!("{text}{s}"),
    }
    chars.into_iter().collect()
}

/// Not usable as one path segment.
fn bad_segment(p: &str) -> bool {
    p.is_empty() || p.contains('/') || p == "." || p == ".."
}

/// The image id rule restated: exactly three `/`-separated pieces, none
/// empty or a dot segment. The error names the first bad part (with more
/// than three pieces, the tag holds a `/`), or no part when there are fewer
/// than two slashes.
fn id_oracle(s: &str) -> Result<[&str; 3], Option<&'static str>> {
    let pieces: Vec<&str> = s.split('/').collect();
    if pieces.len() < 3 {
        return Err(None);
    }
    if bad_segment(pieces[0]) {
        return Err(Some("stack id"));
    }
    if bad_segment(pieces[1]) {
        return Err(Some("family"));
    }
    if pieces.len() > 3 || bad_segment(pieces[2]) {
        return Err(Some("tag"));
    }
    Ok([pieces[0], pieces[1], pieces[2]])
}

type RefParts<'a> = (&'a str, &'a str, Option<&'a str>);

/// The reference rule restated: `slug/family` split at the first `/`, an
/// optional `:tag` split off the family at its first `:`; no part empty,
/// holding a `/`, or a dot segment.
fn reference_oracle(s: &str) -> Result<RefParts<'_>, Option<&'static str>> {
    let Some((slug, rest)) = s.split_once('/') else {
        return Err(None);
    };
    let (family, tag) = match rest.split_once(':') {
        Some((family, tag)) => (family, Some(tag)),
        None => (rest, None),
    };
    if bad_segment(slug) {
        return Err(Some("slug"));
    }
    if bad_segment(family) {
        return Err(Some("family"));
    }
    if tag.is_some_and(bad_segment) {
        return Err(Some("tag"));
    }
    Ok((slug, family, tag))
}

fn joined_id() -> impl Strategy<Value = String> {
    (piece(), piece(), piece(), mutation())
        .prop_map(|(a, b, c, m)| mutate(&format!("{a}/{b}/{c}"), &m))
}

fn joined_reference() -> impl Strategy<Value = String> {
    (
        piece(),
        piece(),
        proptest::option::weighted(0.6, piece()),
        mutation(),
    )
        .prop_map(|(slug, family, tag, m)| {
            let text = match tag {
                Some(tag) => format!("{slug}/{family}:{tag}"),
                None => format!("{slug}/{family}"),
            };
            mutate(&text, &m)
        })
}

fn outcome_name(r: &Result<impl Sized, Option<&'static str>>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(None) => "no part",
        Err(Some(part)) => part,
    }
}

/// Runs `check` on `cases` generated values and returns how many fell in
/// each outcome class, so a test can show its generator reaches them all.
fn run_counting<S: Strategy>(
    strategy: S,
    cases: u32,
    check: impl Fn(&S::Value) -> Result<&'static str, TestCaseError>,
) -> BTreeMap<&'static str, u32> {
    let counts = RefCell::new(BTreeMap::new());
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&strategy, |value| {
            let class = check(&value)?;
            *counts.borrow_mut().entry(class).or_insert(0) += 1;
            Ok(())
        })
        .unwrap();
    let counts = counts.into_inner();
    eprintln!("outcomes over {cases} cases: {counts:?}");
    counts
}

/// Fails unless each class got at least `min_share` of the cases.
fn assert_reached(counts: &BTreeMap<&'static str, u32>, classes: &[&str], min_share: f64) {
    let total: u32 = counts.values().sum();
    for class in classes {
        let n = counts.get(class).copied().unwrap_or(0);
        assert!(
            f64::from(n) >= min_share * f64::from(total),
            "class {class:?} reached in {n} of {total} cases: {counts:?}"
        );
    }
}

#[test]
fn joined_ids_parse_exactly_as_the_rule_says() {
    let counts = run_counting(joined_id(), 3000, |s| {
        let expected = id_oracle(s);
        match (s.parse::<ImageId>(), &expected) {
            (Ok(id), Ok(parts)) => {
                prop_assert_eq!(id.parts(), *parts);
                prop_assert_eq!(id.to_string(), s.clone());
                prop_assert_eq!(&ImageId::new(parts[0], parts[1], parts[2]).unwrap(), &id);
            }
            (Err(e), Err(part)) => {
                prop_assert!(e.to_string().starts_with("invalid image id "), "{}", e);
                prop_assert_eq!(e.part(), *part, "{}", e);
                if let Some(part) = part {
                    prop_assert!(e.to_string().contains(&format!("the {part} ")), "{}", e);
                }
            }
            (got, _) => prop_assert!(
                false,
                "{:?} parsed as {:?}, expected {:?}",
                s,
                got,
                expected
            ),
        }
        // The JSON form obeys the same rule.
        let json = serde_json::to_string(s).unwrap();
        prop_assert_eq!(
            serde_json::from_str::<ImageId>(&json).is_ok(),
            expected.is_ok()
        );
        Ok(outcome_name(&expected))
    });
    assert_reached(&counts, &["ok"], 0.15);
    assert_reached(&counts, &["no part", "stack id", "family", "tag"], 0.02);
}

#[test]
fn ids_from_parts_obey_the_rule_part_by_part() {
    let counts = run_counting((piece(), piece(), piece()), 2000, |(a, b, c)| {
        let expected = [("stack id", a), ("family", b), ("tag", c)]
            .into_iter()
            .find(|(_, p)| bad_segment(p))
            .map(|(name, _)| name);
        match (ImageId::new(a, b, c), expected) {
            (Ok(id), None) => {
                prop_assert_eq!(id.parts(), [a.as_str(), b.as_str(), c.as_str()]);
                prop_assert_eq!(id.as_str(), format!("{a}/{b}/{c}"));
            }
            (Err(e), Some(part)) => prop_assert_eq!(e.part(), Some(part), "{}", e),
            (got, _) => prop_assert!(
                false,
                "{:?} gave {:?}, expected {:?}",
                (a, b, c),
                got,
                expected
            ),
        }
        Ok(expected.unwrap_or("ok"))
    });
    assert_reached(&counts, &["ok"], 0.2);
    assert_reached(&counts, &["stack id", "family", "tag"], 0.05);
}

#[test]
fn joined_references_parse_exactly_as_the_rule_says() {
    let counts = run_counting(joined_reference(), 3000, |s| {
        let expected = reference_oracle(s);
        match (s.parse::<ImageReference>(), &expected) {
            (Ok(r), Ok((slug, family, tag))) => {
                prop_assert_eq!((r.slug(), r.family(), r.tag()), (*slug, *family, *tag));
                prop_assert_eq!(r.to_string(), s.clone());
            }
            (Err(e), Err(part)) => {
                prop_assert!(
                    e.to_string().starts_with("invalid image reference "),
                    "{}",
                    e
                );
                prop_assert_eq!(e.part(), *part, "{}", e);
            }
            (got, _) => prop_assert!(
                false,
                "{:?} parsed as {:?}, expected {:?}",
                s,
                got,
                expected
            ),
        }
        let json = serde_json::to_string(s).unwrap();
        prop_assert_eq!(
            serde_json::from_str::<ImageReference>(&json).is_ok(),
            expected.is_ok()
        );
        Ok(outcome_name(&expected))
    });
    assert_reached(&counts, &["ok"], 0.15);
    assert_reached(&counts, &["no part", "slug", "family", "tag"], 0.02);
}

#[test]
fn references_from_parts_refuse_separators_where_they_would_move() {
    // `new` must give back exactly the parts it was given: a `:` is fine in
    // the slug and the tag, but in the family it would start the tag.
    let strategy = (piece(), piece(), proptest::option::of(piece()));
    let counts = run_counting(strategy, 2000, |(slug, family, tag)| {
        let valid = !bad_segment(slug)
            && !bad_segment(family)
            && !family.contains(':')
            && !tag.as_deref().is_some_and(bad_segment);
        match ImageReference::new(slug, family, tag.as_deref()) {
            Ok(r) => {
                prop_assert!(valid, "accepted {:?}", (slug, family, tag));
                prop_assert_eq!(
                    (r.slug(), r.family(), r.tag()),
                    (slug.as_str(), family.as_str(), tag.as_deref())
                );
            }
            Err(e) => {
                prop_assert!(!valid, "refused {:?}: {}", (slug, family, tag), e);
                prop_assert!(
                    e.to_string().starts_with("invalid image reference "),
                    "{}",
                    e
                );
            }
        }
        Ok(if valid { "ok" } else { "refused" })
    });
    assert_reached(&counts, &["ok", "refused"], 0.2);
}
