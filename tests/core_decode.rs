//! Response decoding: the spec's bodies, the API's errors, broken bodies.

use coxedge_images::time::{Date, Month, OffsetDateTime, Time, UtcOffset};
use coxedge_images::{
    ApiErrorCode, ErrorKind, Image, ImageId, ImageList, ImageStatus, ListMetadata, RetryAfter,
    decode_image, decode_image_list,
};
use http::{HeaderMap, Response, StatusCode};
use proptest::prelude::*;
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
    let mut headers = HeaderMap::new();
    let mut with = |v: &str| {
        headers.insert("retry-after", v.parse().unwrap());
        coxedge_images::retry_after(&headers)
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

// ---- properties ----

fn part() -> impl Strategy<Value = String> {
    "[^/]{1,8}".prop_filter("dot segment", |s| s != "." && s != "..")
}

fn timestamp() -> impl Strategy<Value = OffsetDateTime> {
    (
        0i32..=9999,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..60,
        0u32..1_000_000_000,
        -(23 * 60 + 59)..=(23 * 60 + 59i32),
    )
        .prop_map(|(y, mo, d, h, mi, s, ns, offset_minutes)| {
            let date = Date::from_calendar_date(y, Month::try_from(mo).unwrap(), d).unwrap();
            let time = Time::from_hms_nano(h, mi, s, ns).unwrap();
            let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            date.with_time(time).assume_offset(offset)
        })
}

fn status() -> impl Strategy<Value = ImageStatus> {
    prop_oneof![
        Just(ImageStatus::Ready),
        Just(ImageStatus::Pending),
        Just(ImageStatus::Processing),
        Just(ImageStatus::Failed),
        Just(ImageStatus::StatusUnknown),
        "[A-Z_]{1,12}".prop_map(|s| ImageStatus::from(s.as_str())),
    ]
}

pub fn image() -> impl Strategy<Value = Image> {
    (
        part(),
        part(),
        part(),
        any::<String>(),
        timestamp(),
        proptest::option::of(any::<String>()),
        any::<String>(),
        status(),
    )
        .prop_map(
            |(stack, family, tag, slug, created, description, reference, status)| {
                let mut image = Image::new(
                    ImageId::new(&stack, &family, &tag).unwrap(),
                    slug,
                    created,
                    status,
                )
                .with_reference(reference);
                image.description = description;
                image
            },
        )
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity(images in proptest::collection::vec(image(), 0..8), count in proptest::option::of(any::<u64>())) {
        let mut metadata = ListMetadata::default();
        metadata.record_count = count;
        let body = serde_json::to_vec(&serde_json::json!({"data": images, "metadata": metadata})).unwrap();
        let decoded = decode_image_list(Response::new(body)).unwrap();
        prop_assert_eq!(decoded, ImageList::new(images, metadata));
    }

    #[test]
    fn arbitrary_bytes_never_panic(status in 100u16..1000, body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let status = StatusCode::from_u16(status).unwrap();
        let make = || Response::builder().status(status).body(body.clone()).unwrap();
        let list = decode_image_list(make());
        let one = decode_image(make());
        if !status.is_success() {
            prop_assert!(list.is_err() && one.is_err());
        }
        if let Err(e) = list { prop_assert!(!e.to_string().is_empty()); }
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let body = serde_json::to_vec(&serde_json::json!({"data": value})).unwrap();
        let _ = decode_image_list(Response::new(body.clone()));
        let _ = decode_image(Response::new(body));
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-zA-Z0-9/:._ -]{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("id".to_owned()),
                    Just("createdAt".to_owned()),
                    Just("status".to_owned()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
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
