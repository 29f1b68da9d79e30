//! Response decoding: the spec's bodies, the API's errors, broken bodies.

use coxedge_images::time::{Date, Month, OffsetDateTime, Time, UtcOffset};
use coxedge_images::{
    ApiErrorCode, ErrorKind, Image, ImageStatus, RetryAfter, decode_image, decode_image_list,
};
use http::{Response, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

const SPEC_LIST: &str = r#"{
  "data": [
    {
      "stackId": "a8050b2b-39eb-4929-bce5-1af42055903e",
      "id": "a8050b2b-39eb-4929-bce5-1af42055903e/centos7/v20201110",
      "slug": "cox-edge",
      "family": "centos7",
      "tag": "v20201110",
      "createdAt": "2020-11-10T20:33:32.609434Z",
      "description": "Image using centos7",
      "reference": "cox-edge/centos7:v20201110",
      "status": "READY"
    },
    {
      "stackId": "a8050b2b-39eb-4929-bce5-1af42055903e",
      "id": "a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110",
      "slug": "cox-edge",
      "family": "ubuntu",
      "tag": "v20201110",
      "createdAt": "2020-11-10T20:34:11.328575Z",
      "description": "Image using ubuntu",
      "reference": "cox-edge/ubuntu:v20201110",
      "status": "READY"
    }
  ],
  "metadata": {
    "recordCount": 2
  }
}"#;

fn response(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

#[test]
fn spec_list_decodes() {
    let list = decode_image_list(response(200, SPEC_LIST)).unwrap();
    assert_eq!(list.metadata.record_count, Some(2));
    assert_eq!(list.images.len(), 2);
    let ubuntu = &list.images[1];
    assert_eq!(ubuntu.stack_id(), "a8050b2b-39eb-4929-bce5-1af42055903e");
    assert_eq!(ubuntu.family(), "ubuntu");
    assert_eq!(ubuntu.tag(), "v20201110");
    assert_eq!(ubuntu.status, ImageStatus::Ready);
    assert_eq!(ubuntu.created_at.nanosecond(), 328_575_000);
    assert_eq!(ubuntu.description.as_deref(), Some("Image using ubuntu"));
    assert!(ubuntu.is_system());
}

#[test]
fn spec_get_decodes_without_metadata_and_with_unknown_fields() {
    let body = r#"{"data": {"stackId": "s", "id": "s/ubuntu/v1", "slug": "cox-edge", "family": "ubuntu",
        "tag": "v1", "createdAt": "2020-11-10T20:34:11.328575123+05:30", "description": null,
        "reference": "cox-edge/ubuntu:v1", "status": "SHINY_NEW", "deprecation": {"deprecationDate": null}},
        "extra": 1}"#;
    let image = decode_image(response(200, body)).unwrap();
    assert_eq!(image.status, ImageStatus::Other("SHINY_NEW".into()));
    assert_eq!(image.description, None);
    assert_eq!(
        image.created_at.offset(),
        UtcOffset::from_hms(5, 30, 0).unwrap()
    );
    assert_eq!(image.created_at.nanosecond(), 328_575_123);
}

#[test]
fn id_may_be_missing_when_parts_are_present() {
    let body = r#"{"data": {"stackId": "s", "slug": "x", "family": "f", "tag": "t",
        "createdAt": "2020-11-10T20:34:11Z", "reference": "x/f:t", "status": "READY"}}"#;
    assert_eq!(
        decode_image(response(200, body)).unwrap().id.as_str(),
        "s/f/t"
    );
}

#[test]
fn decode_errors_name_the_path() {
    let mut value: serde_json::Value = serde_json::from_str(SPEC_LIST).unwrap();
    value["data"][1]["createdAt"] = "yesterday".into();
    let err = decode_image_list(response(200, &value.to_string())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.is_decode());
    assert_eq!(err.json_path(), Some("data[1].createdAt"));
    assert_eq!(err.status(), Some(StatusCode::OK));

    let mut value: serde_json::Value = serde_json::from_str(SPEC_LIST).unwrap();
    value["data"][0]["family"] = serde_json::json!(["centos7"]);
    let err = decode_image_list(response(200, &value.to_string())).unwrap_err();
    assert_eq!(err.json_path(), Some("data[0].family"), "{err}");

    let mut value: serde_json::Value = serde_json::from_str(SPEC_LIST).unwrap();
    value["data"][0]["tag"] = "v2".into();
    let err = decode_image_list(response(200, &value.to_string())).unwrap_err();
    assert_eq!(err.json_path(), Some("data[0]"));
    assert!(
        err.to_string().contains("tag \"v2\" does not match the id"),
        "{err}"
    );

    let mut value: serde_json::Value = serde_json::from_str(SPEC_LIST).unwrap();
    value["data"][1]
        .as_object_mut()
        .unwrap()
        .remove("reference");
    let err = decode_image_list(response(200, &value.to_string())).unwrap_err();
    assert_eq!(err.json_path(), Some("data[1]"));
    assert!(
        err.to_string().contains("missing field `reference`"),
        "{err}"
    );

    let err = decode_image_list(response(200, r#"{"metadata": {}}"#)).unwrap_err();
    assert!(err.to_string().contains("missing field `data`"), "{err}");
}

#[test]
fn api_errors_are_kept_whatever_the_status() {
    let body = r#"{"errors": [{"code": 2012, "message": "Wrong state", "context": {"id": "x",
        "currentState": "Stopped", "expectedStates": ["Running"], "type": "instances"}},
        {"errorCode": "FOO_ERROR", "message": "second"}, "bare text"]}"#;
    for status in [200, 400, 404, 500] {
        let err = decode_image_list(response(status, body)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Api, "{status}");
        assert_eq!(err.status().unwrap().as_u16(), status);
        let entries = err.api_errors();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].code, Some(ApiErrorCode::Number(2012)));
        assert_eq!(
            entries[0].context.as_ref().unwrap()["currentState"],
            "Stopped"
        );
        assert_eq!(
            entries[1].code,
            Some(ApiErrorCode::Name("FOO_ERROR".into()))
        );
        assert_eq!(
            err.api_messages().collect::<Vec<_>>(),
            ["Wrong state", "second", "bare text"]
        );
        assert!(err.to_string().contains("Wrong state (code 2012)"));
    }
    let err = decode_image(response(
        404,
        r#"{"errors":[{"code":404,"message":"Not found"}]}"#,
    ))
    .unwrap_err();
    assert!(err.is_not_found());
}

#[test]
fn non_api_error_bodies_keep_status_and_excerpt() {
    let html = format!(
        "<html><head><title>502 Bad Gateway</title></head><body>{}</body></html>",
        "x".repeat(5000)
    );
    let err = decode_image_list(response(502, &html)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Http);
    assert!(err.is_server_error());
    assert_eq!(err.body().unwrap().len(), html.len());
    let text = err.to_string();
    assert!(text.contains("502 Bad Gateway"), "{text}");
    assert!(text.len() < 600, "the excerpt is bounded: {}", text.len());

    let err = decode_image_list(response(401, "")).unwrap_err();
    assert!(err.is_unauthorized());
    let err = decode_image_list(response(403, "forbidden")).unwrap_err();
    assert!(err.is_forbidden());
    let err = decode_image_list(response(200, "<html>oops</html>")).unwrap_err();
    assert!(err.is_decode());
}

#[test]
fn retry_after_forms() {
    // Read as the decoders read it: from a 503's header, kept on the error.
    let with = |v: &str| {
        let mut resp = response(503, "busy");
        resp.headers_mut().insert("retry-after", v.parse().unwrap());
        decode_image_list(resp).unwrap_err().retry_after()
    };
    assert_eq!(with("7"), Some(RetryAfter::Delay(Duration::from_secs(7))));
    assert_eq!(
        with("99999999999999999999999"),
        Some(RetryAfter::Delay(Duration::from_secs(u64::MAX)))
    );
    assert_eq!(with("-1"), None);
    assert_eq!(with("1.5"), None);
    assert_eq!(with("soon"), None);
    let at = with("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    let then = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(at, RetryAfter::At(then));
    assert_eq!(
        at.delay_from(then - Duration::from_secs(3)),
        Duration::from_secs(3)
    );
    assert_eq!(at.delay_from(then + Duration::from_secs(3)), Duration::ZERO);

    let mut resp = response(429, "slow down");
    resp.headers_mut()
        .insert("retry-after", "3".parse().unwrap());
    let err = decode_image_list(resp).unwrap_err();
    assert!(err.is_rate_limited());
    assert_eq!(
        err.retry_after(),
        Some(RetryAfter::Delay(Duration::from_secs(3)))
    );
}

#[test]
fn empty_and_encoded_bodies_are_typed_errors() {
    let err = decode_image_list(response(204, "")).unwrap_err();
    assert!(err.is_decode());
    let mut resp = Response::new(vec![0x1f, 0x8b, 8, 0, 0]);
    resp.headers_mut()
        .insert("content-encoding", "gzip".parse().unwrap());
    let err = decode_image_list(resp).unwrap_err();
    assert!(err.to_string().contains("gzip"), "{err}");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let err = decode_image_list(response(200, &format!("{{\"data\": {deep}}}"))).unwrap_err();
    assert!(err.is_decode());
    // An unknown field is skipped without recursion, however deep.
    let deeper = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    let list = decode_image_list(response(200, &format!("{{\"x\": {deeper}, \"data\": []}}")));
    assert!(list.unwrap().images.is_empty());
}

// ---- properties: documents written by the tests, judged field by field ----
//
// The documents are built as JSON values from the specification's field
// names (never with the crate's own `Serialize`), with timestamps written
// by the test, and one optional targeted fault at a known place; the oracle
// says what each field must decode to, or at which JSON path decoding must
// fail.

/// One image's fields as generated.
#[derive(Debug, Clone)]
struct WireFields {
    stack: String,
    family: String,
    tag: String,
    slug: String,
    reference: String,
    /// Absent, `null`, or a text.
    description: Option<Option<String>>,
    status: &'static str,
    /// Year, month, day, hour, minute, second, fraction digits (0 = none),
    /// fraction value, offset in minutes, `Z` for a zero offset.
    created: (i32, u8, u8, u8, u8, u8, u32, u32, i32, bool),
    /// Send `id`, the three part fields, or both.
    id_form: IdForm,
    /// An unknown field the decoder must ignore.
    extra: bool,
}

#[derive(Debug, Clone, Copy)]
enum IdForm {
    Id,
    Parts,
    Both,
}

fn part() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9._-]{1,8}",
        1 => "[^/]{1,6}",
    ]
    .prop_filter("dot segment", |s| s != "." && s != "..")
}

fn free_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \"\\\\/:\u{e9}\u{1F600}\n\t-]{0,16}"
}

/// The statuses sent, and what each must decode to.
const STATUSES: [&str; 8] = [
    "READY",
    "PENDING",
    "PROCESSING",
    "FAILED",
    "IMAGE_STATUS_UNKNOWN",
    "ready",
    "DEPRECATED",
    "Shiny_New",
];

fn expected_status(sent: &str) -> ImageStatus {
    match sent {
        "READY" | "ready" => ImageStatus::Ready,
        "PENDING" => ImageStatus::Pending,
        "PROCESSING" => ImageStatus::Processing,
        "FAILED" => ImageStatus::Failed,
        "IMAGE_STATUS_UNKNOWN" => ImageStatus::StatusUnknown,
        other => ImageStatus::Other(other.to_owned()),
    }
}

fn wire_fields() -> impl Strategy<Value = WireFields> {
    let created = (
        (0i32..=9999, 1u8..=12, 1u8..=28, 0u8..24, 0u8..60, 0u8..60),
        (0u32..=9).prop_flat_map(|digits| (Just(digits), 0..10u32.pow(digits))),
        -(23 * 60 + 59)..=(23 * 60 + 59i32),
        any::<bool>(),
    )
        .prop_map(|((y, mo, d, h, mi, s), (digits, frac), offset, z)| {
            (y, mo, d, h, mi, s, digits, frac, offset, z)
        });
    (
        (part(), part(), part(), free_text(), free_text()),
        proptest::option::of(proptest::option::of(free_text())),
        proptest::sample::select(&STATUSES[..]),
        created,
        prop_oneof![Just(IdForm::Id), Just(IdForm::Parts), Just(IdForm::Both)],
        any::<bool>(),
    )
        .prop_map(
            |(
                (stack, family, tag, slug, reference),
                description,
                status,
                created,
                id_form,
                extra,
            )| {
                WireFields {
                    stack,
                    family,
                    tag,
                    slug,
                    reference,
                    description,
                    status,
                    created,
                    id_form,
                    extra,
                }
            },
        )
}

impl WireFields {
    /// The timestamp as RFC 3339 text, written here digit by digit.
    fn created_text(&self) -> String {
        let (y, mo, d, h, mi, s, digits, frac, offset, z) = self.created;
        let fraction = if digits == 0 {
            String::new()
        } else {
            format!(".{frac:0width$}", width = digits as usize)
        };
        let zone = if offset == 0 && z {
            "Z".to_owned()
        } else {
            let sign = if offset < 0 { '-' } else { '+' };
            format!("{sign}{:02}:{:02}", offset.abs() / 60, offset.abs() % 60)
        };
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}{zone}")
    }

    /// The same instant, made with `time`'s constructors (no parsing).
    fn created_value(&self) -> OffsetDateTime {
        let (y, mo, d, h, mi, s, digits, frac, offset, _) = self.created;
        let nanos = frac * 10u32.pow(9 - digits);
        Date::from_calendar_date(y, Month::try_from(mo).unwrap(), d)
            .unwrap()
            .with_time(Time::from_hms_nano(h, mi, s, nanos).unwrap())
            .assume_offset(UtcOffset::from_whole_seconds(offset * 60).unwrap())
    }

    fn id_text(&self) -> String {
        format!("{}/{}/{}", self.stack, self.family, self.tag)
    }

    fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::json;
        let mut m = serde_json::Map::new();
        if !matches!(self.id_form, IdForm::Parts) {
            m.insert("id".into(), json!(self.id_text()));
        }
        if !matches!(self.id_form, IdForm::Id) {
            m.insert("stackId".into(), json!(self.stack));
            m.insert("family".into(), json!(self.family));
            m.insert("tag".into(), json!(self.tag));
        }
        m.insert("slug".into(), json!(self.slug));
        m.insert("createdAt".into(), json!(self.created_text()));
        match &self.description {
            None => {}
            Some(None) => {
                m.insert("description".into(), serde_json::Value::Null);
            }
            Some(Some(text)) => {
                m.insert("description".into(), json!(text));
            }
        }
        m.insert("reference".into(), json!(self.reference));
        m.insert("status".into(), json!(self.status));
        if self.extra {
            m.insert(
                "deprecation".into(),
                json!({"deprecationDate": null, "obsoletionDate": "2030-01-01T00:00:00Z"}),
            );
        }
        m
    }

    fn check(&self, image: &Image) -> Result<(), TestCaseError> {
        prop_assert_eq!(image.id.as_str(), self.id_text());
        prop_assert_eq!(image.stack_id(), self.stack.as_str());
        prop_assert_eq!(image.family(), self.family.as_str());
        prop_assert_eq!(image.tag(), self.tag.as_str());
        prop_assert_eq!(&image.slug, &self.slug);
        prop_assert_eq!(&image.reference, &self.reference);
        prop_assert_eq!(
            image.description.clone(),
            self.description.clone().flatten()
        );
        let created = self.created_value();
        prop_assert_eq!(image.created_at, created);
        prop_assert_eq!(image.created_at.offset(), created.offset());
        match (expected_status(self.status), &image.status) {
            // An unknown status is kept exactly as sent.
            (ImageStatus::Other(sent), ImageStatus::Other(got)) => prop_assert_eq!(&sent, got),
            (want, got) => {
                prop_assert!(!matches!(got, ImageStatus::Other(_)), "{:?}", got);
                prop_assert_eq!(&want, got);
            }
        }
        Ok(())
    }
}

/// A fault put into one image, with where decoding must say it broke:
/// a field of that image (`Some(name)`) or the image object itself.
#[derive(Debug, Clone)]
enum ImageFault {
    /// The field holds a value of the wrong JSON type.
    WrongType(&'static str, serde_json::Value),
    /// A required field is absent.
    Missing(&'static str),
    /// `createdAt` is not RFC 3339.
    BadTimestamp(&'static str),
    /// `id` is not `stackId/family/tag`.
    BadId(&'static str),
    /// A part field disagrees with the id.
    Mismatch(&'static str),
    /// Neither `id` nor all three parts.
    NoId,
}

impl ImageFault {
    /// The field the error must name (`None`: the image object).
    fn field(&self) -> Option<&'static str> {
        match self {
            ImageFault::WrongType(field, _) => Some(field),
            ImageFault::BadTimestamp(_) => Some("createdAt"),
            ImageFault::BadId(_) => Some("id"),
            ImageFault::Missing(_) | ImageFault::Mismatch(_) | ImageFault::NoId => None,
        }
    }

    /// What the message must say, when the class of fault fixes it.
    fn says(&self) -> Option<String> {
        match self {
            ImageFault::Missing(field) => Some(format!("missing field `{field}`")),
            ImageFault::NoId => Some("missing field `id`".to_owned()),
            ImageFault::Mismatch(field) => Some(format!("{field} \"")),
            _ => None,
        }
    }

    fn class(&self) -> &'static str {
        match self {
            ImageFault::WrongType(..) => "wrong type",
            ImageFault::Missing(_) => "missing",
            ImageFault::BadTimestamp(_) => "bad timestamp",
            ImageFault::BadId(_) => "bad id",
            ImageFault::Mismatch(_) => "mismatch",
            ImageFault::NoId => "no id",
        }
    }

    fn apply(&self, wire: &WireFields, m: &mut serde_json::Map<String, serde_json::Value>) {
        match self {
            ImageFault::WrongType(field, value) => {
                m.insert((*field).into(), value.clone());
            }
            ImageFault::Missing(field) => {
                m.remove(*field);
            }
            ImageFault::BadTimestamp(text) => {
                m.insert("createdAt".into(), (*text).into());
            }
            ImageFault::BadId(text) => {
                m.insert("id".into(), (*text).into());
            }
            ImageFault::Mismatch(field) => {
                let id = wire.id_text();
                m.insert("id".into(), id.into());
                m.insert((*field).into(), "not-the-same".into());
            }
            ImageFault::NoId => {
                m.remove("id");
                m.remove("tag");
            }
        }
    }
}

fn image_fault() -> impl Strategy<Value = ImageFault> {
    use serde_json::json;
    let string_field = proptest::sample::select(vec![
        "slug",
        "createdAt",
        "reference",
        "status",
        "id",
        "stackId",
        "family",
        "tag",
        "description",
    ]);
    let wrong = prop_oneof![
        Just(json!(7)),
        Just(json!(["x"])),
        Just(json!({"x": 1})),
        Just(json!(true)),
    ];
    prop_oneof![
        3 => (string_field, wrong)
            .prop_map(|(f, v)| ImageFault::WrongType(f, v)),
        // `null` where a string is required.
        1 => proptest::sample::select(vec!["slug", "createdAt", "reference", "status"])
            .prop_map(|f| ImageFault::WrongType(f, serde_json::Value::Null)),
        2 => proptest::sample::select(vec!["slug", "createdAt", "reference", "status"])
            .prop_map(ImageFault::Missing),
        2 => proptest::sample::select(vec![
            "yesterday",
            "",
            "2020-11-10",
            "2020-02-30T00:00:00Z",
            "2020-11-10T25:00:00Z",
            "2020-11-10T20:33:32",
            "2020-11-10T20:33:32.Z",
            "1605040412",
        ])
        .prop_map(ImageFault::BadTimestamp),
        1 => proptest::sample::select(vec!["a/b", "a/b/c/d", "a//c", "a/../c", "", "/a/b"])
            .prop_map(ImageFault::BadId),
        1 => proptest::sample::select(vec!["stackId", "family", "tag"]).prop_map(ImageFault::Mismatch),
        1 => Just(ImageFault::NoId),
    ]
}

/// A list document: images, metadata, and maybe one image fault.
#[derive(Debug, Clone)]
struct ListDoc {
    images: Vec<WireFields>,
    record_count: Option<u64>,
    fault: Option<(proptest::sample::Index, ImageFault)>,
}

fn list_doc() -> impl Strategy<Value = ListDoc> {
    (
        proptest::collection::vec(wire_fields(), 0..5),
        proptest::option::of(any::<u64>()),
        proptest::option::weighted(0.55, (any::<proptest::sample::Index>(), image_fault())),
    )
        .prop_map(|(images, record_count, fault)| ListDoc {
            images,
            record_count,
            fault,
        })
}

/// Runs `check` on `cases` generated values and counts the outcome classes
/// it reports, so a test can show its generator reaches each of them.
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

/// The error of a result that must be one.
fn error_of<T: std::fmt::Debug>(
    result: Result<T, coxedge_images::Error>,
) -> Result<coxedge_images::Error, TestCaseError> {
    match result {
        Ok(v) => Err(TestCaseError::fail(format!(
            "decoded {v:?} where an error was expected"
        ))),
        Err(e) => Ok(e),
    }
}

fn share(counts: &BTreeMap<&'static str, u32>, pick: impl Fn(&str) -> bool) -> f64 {
    let total: u32 = counts.values().sum();
    let n: u32 = counts.iter().filter(|(k, _)| pick(k)).map(|(_, n)| n).sum();
    f64::from(n) / f64::from(total)
}

/// Checks that `result` failed as a decode error at `path`, saying `says`.
fn expect_decode_error<T: std::fmt::Debug>(
    result: Result<T, coxedge_images::Error>,
    path: &str,
    says: Option<&str>,
) -> Result<(), TestCaseError> {
    let err = match result {
        Ok(v) => {
            return Err(TestCaseError::fail(format!(
                "decoded {v:?}, expected an error at {path}"
            )));
        }
        Err(e) => e,
    };
    prop_assert_eq!(err.kind(), ErrorKind::Decode, "{}", err);
    prop_assert_eq!(err.status(), Some(StatusCode::OK));
    prop_assert_eq!(err.json_path(), Some(path), "{}", err);
    if let Some(says) = says {
        prop_assert!(
            err.to_string().contains(says),
            "{} does not say {:?}",
            err,
            says
        );
    }
    Ok(())
}

#[test]
fn generated_documents_decode_to_their_fields_or_fail_where_broken() {
    let counts = run_counting(list_doc(), 1500, |doc| {
        let mut data: Vec<serde_json::Value> = Vec::new();
        let target = doc
            .fault
            .as_ref()
            .filter(|_| !doc.images.is_empty())
            .map(|(index, fault)| (index.index(doc.images.len()), fault));
        for (i, wire) in doc.images.iter().enumerate() {
            let mut m = wire.to_json();
            if let Some((at, fault)) = target {
                if at == i {
                    fault.apply(wire, &mut m);
                }
            }
            data.push(m.into());
        }
        let mut envelope = serde_json::json!({ "data": data });
        if let Some(count) = doc.record_count {
            envelope["metadata"] = serde_json::json!({ "recordCount": count });
        }
        let body = serde_json::to_vec(&envelope).unwrap();
        let result = decode_image_list(Response::new(body));
        match target {
            None => {
                let list = match result {
                    Ok(list) => list,
                    Err(e) => {
                        return Err(TestCaseError::fail(format!("a good document failed: {e}")));
                    }
                };
                prop_assert_eq!(list.images.len(), doc.images.len());
                prop_assert_eq!(list.metadata.record_count, doc.record_count);
                for (wire, image) in doc.images.iter().zip(&list.images) {
                    wire.check(image)?;
                }
                // The single-image answer decodes the same fields.
                if let Some(first) = doc.images.first() {
                    let one =
                        serde_json::to_vec(&serde_json::json!({"data": first.to_json()})).unwrap();
                    let image = decode_image(Response::new(one));
                    prop_assert!(image.is_ok(), "{:?}", image);
                    first.check(&image.unwrap())?;
                }
                Ok("ok")
            }
            Some((at, fault)) => {
                let suffix = fault.field().map(|f| format!(".{f}")).unwrap_or_default();
                let says = fault.says();
                expect_decode_error(result, &format!("data[{at}]{suffix}"), says.as_deref())?;
                let mut m = doc.images[at].to_json();
                fault.apply(&doc.images[at], &mut m);
                let one = serde_json::to_vec(&serde_json::json!({ "data": m })).unwrap();
                expect_decode_error(
                    decode_image(Response::new(one)),
                    &format!("data{suffix}"),
                    says.as_deref(),
                )?;
                Ok(fault.class())
            }
        }
    });
    assert!(share(&counts, |k| k == "ok") >= 0.3, "{counts:?}");
    assert!(share(&counts, |k| k != "ok") >= 0.3, "{counts:?}");
    for class in [
        "wrong type",
        "missing",
        "bad timestamp",
        "bad id",
        "mismatch",
        "no id",
    ] {
        assert!(
            share(&counts, |k| k == class) >= 0.01,
            "{class}: {counts:?}"
        );
    }
}

const SPEC_GET: &str = r#"{
  "data": {
    "stackId": "a8050b2b-39eb-4929-bce5-1af42055903e",
    "id": "a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110",
    "slug": "cox-edge",
    "family": "ubuntu",
    "tag": "v20201110",
    "createdAt": "2020-11-10T20:34:11.328575Z",
    "description": "test 2",
    "reference": "cox-edge/ubuntu:v20201110",
    "status": "READY"
  }
}"#;

#[test]
fn every_cut_of_a_spec_body_fails_inside_the_image_it_cuts() {
    // Where each image object of the specification's list starts and ends.
    let starts: Vec<usize> = SPEC_LIST
        .match_indices("{\n      \"stackId\"")
        .map(|(i, _)| i)
        .collect();
    let ends: Vec<usize> = starts
        .iter()
        .map(|&s| s + SPEC_LIST[s..].find("\n    }").unwrap())
        .collect();
    assert_eq!(starts.len(), 2);
    let mut inside = 0;
    for cut in 0..SPEC_LIST.len() {
        let bytes = SPEC_LIST.as_bytes()[..cut].to_vec();
        let err = decode_image_list(Response::new(bytes.clone())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "cut at {cut}: {err}");
        assert_eq!(err.status(), Some(StatusCode::OK));
        assert_eq!(err.body(), Some(&bytes[..]));
        let path = err
            .json_path()
            .unwrap_or_else(|| panic!("no path at {cut}: {err}"));
        for (i, (&s, &e)) in starts.iter().zip(&ends).enumerate() {
            if cut > s && cut <= e {
                inside += 1;
                assert!(
                    path.starts_with(&format!("data[{i}]")),
                    "cut at {cut} inside image {i}: {path} ({err})"
                );
            }
        }
    }
    assert!(inside > 400, "{inside}");
    for cut in 0..SPEC_GET.len() {
        let err = decode_image(Response::new(SPEC_GET.as_bytes()[..cut].to_vec())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "cut at {cut}: {err}");
        assert!(err.json_path().is_some(), "cut at {cut}: {err}");
    }
    assert!(decode_image(response(200, SPEC_GET)).is_ok());
}

/// A body of some kind, for statuses that are not a success.
fn any_body() -> impl Strategy<Value = Vec<u8>> {
    let entry = prop_oneof![
        (any::<i32>(), free_text())
            .prop_map(|(code, message)| serde_json::json!({"code": code, "message": message})),
        ("[A-Z_]{1,12}", free_text())
            .prop_map(|(code, message)| serde_json::json!({"errorCode": code, "message": message})),
        free_text().prop_map(serde_json::Value::from),
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        free_text().prop_map(|t| format!("<html><body>{t}</body></html>").into_bytes()),
        proptest::collection::vec(entry.clone(), 0..3)
            .prop_map(|e| serde_json::to_vec(&serde_json::json!({"errors": e})).unwrap()),
        entry.prop_map(
            |e| serde_json::to_vec(&serde_json::json!({"errors": e, "data": []})).unwrap()
        ),
        free_text().prop_map(|t| serde_json::to_vec(&serde_json::json!({"message": t})).unwrap()),
        Just(SPEC_LIST.as_bytes().to_vec()),
    ]
}

/// Whether a body is the API's error document: a JSON object with an
/// `errors` field (the API notes: "If the response contains the `errors`
/// field, the request was not successful").
fn holds_errors(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.as_object()
                .map(|o| o.get("errors").is_some_and(|e| !e.is_null()))
        })
        .unwrap_or(false)
}

#[test]
fn answers_that_are_not_a_success_keep_status_and_body() {
    let not_success = prop_oneof![100u16..200, 300u16..1000];
    let counts = run_counting((not_success, any_body()), 1500, |(status, body)| {
        let status = StatusCode::from_u16(*status).unwrap();
        let make = || {
            Response::builder()
                .status(status)
                .body(body.clone())
                .unwrap()
        };
        let api = holds_errors(body);
        for err in [
            error_of(decode_image_list(make()))?,
            error_of(decode_image(make()))?,
        ] {
            let want = if api { ErrorKind::Api } else { ErrorKind::Http };
            prop_assert_eq!(err.kind(), want, "{}", err);
            prop_assert_eq!(err.status(), Some(status));
            prop_assert_eq!(err.body(), Some(&body[..]));
        }
        Ok(if api { "api" } else { "http" })
    });
    assert!(share(&counts, |k| k == "api") >= 0.2, "{counts:?}");
    assert!(share(&counts, |k| k == "http") >= 0.2, "{counts:?}");
}

#[test]
fn successes_whose_body_is_the_api_error_document_are_errors() {
    let counts = run_counting((200u16..300, any_body()), 1500, |(status, body)| {
        let status = StatusCode::from_u16(*status).unwrap();
        let make = || {
            Response::builder()
                .status(status)
                .body(body.clone())
                .unwrap()
        };
        let list = decode_image_list(make());
        let json = serde_json::from_slice::<serde_json::Value>(body).is_ok();
        let class = if status == StatusCode::NO_CONTENT || status == StatusCode::RESET_CONTENT {
            prop_assert!(error_of(list)?.is_decode());
            "no content"
        } else if holds_errors(body) {
            let err = error_of(list)?;
            prop_assert_eq!(err.kind(), ErrorKind::Api, "{}", err);
            prop_assert_eq!(err.status(), Some(status));
            "api"
        } else if !json {
            let err = error_of(list)?;
            prop_assert_eq!(err.kind(), ErrorKind::Decode, "{}", err);
            prop_assert!(err.json_path().is_some(), "{}", err);
            prop_assert_eq!(err.body(), Some(&body[..]));
            "not json"
        } else if body == SPEC_LIST.as_bytes() {
            prop_assert_eq!(list.map(|l| l.images.len()).ok(), Some(2));
            "spec list"
        } else {
            // JSON that is not an envelope with `data`.
            prop_assert!(error_of(list)?.is_decode());
            "no data"
        };
        Ok(class)
    });
    for class in ["api", "not json", "spec list", "no data"] {
        assert!(
            share(&counts, |k| k == class) >= 0.05,
            "{class}: {counts:?}"
        );
    }
}

#[test]
fn an_echoed_key_is_redacted_everywhere() {
    let key = coxedge_images::ApiKey::new("canary-SECRET-4242").unwrap();
    let body = r#"{"errors":[{"code":403,"message":"key canary-SECRET-4242 refused",
        "context":{"canary-SECRET-4242":["canary-SECRET-4242"]}}]}"#;
    let err = decode_image_list(response(403, body))
        .unwrap_err()
        .redact_secret(&key);
    let text = format!("{err} {err:?} {:?}", err.api_errors());
    assert!(!text.contains("SECRET"), "{text}");
    assert!(text.contains("key <redacted> refused"), "{text}");
    assert!(!String::from_utf8_lossy(err.body().unwrap()).contains("SECRET"));
    let html = "<pre>MC-Api-Key: canary-SECRET-4242</pre>";
    let err = decode_image_list(response(502, html))
        .unwrap_err()
        .redact_secret(&key);
    assert!(err.to_string().contains("MC-Api-Key: <redacted>"), "{err}");
}

#[test]
fn trailing_characters_are_named_as_such() {
    let err = decode_image_list(response(200, r#"{"data":[]} {"data":[1]}"#)).unwrap_err();
    assert!(err.to_string().contains("trailing characters"), "{err}");
}
