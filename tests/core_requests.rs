//! Request building: URIs, headers, encoding and configuration.

use coxedge_images::{ApiKey, Endpoint, ImageId, ImageType, ListOptions};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;

fn endpoint(base: &str) -> Endpoint {
    Endpoint::builder()
        .base_url(base)
        .service("cox")
        .environment("test-area")
        .api_key(ApiKey::new("canary-key").unwrap())
        .build()
        .unwrap()
}

fn decoded_segments(uri: &http::Uri) -> Vec<String> {
    uri.path()
        .split('/')
        .skip(1)
        .map(|s| percent_decode_str(s).decode_utf8().unwrap().into_owned())
        .collect()
}

#[test]
fn spec_get_request() {
    let e = endpoint("https://portal.coxedge.com/api/v1");
    let id: ImageId = "a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110"
        .parse()
        .unwrap();
    let r = e.get_image_request(&id).unwrap();
    assert_eq!(r.method(), http::Method::GET);
    assert_eq!(
        r.uri(),
        "https://portal.coxedge.com/api/v1/services/cox/test-area/images/a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110"
    );
    assert_eq!(r.headers()["mc-api-key"], "canary-key");
    assert!(r.headers()["mc-api-key"].is_sensitive());
    assert_eq!(r.headers()["accept"], "application/json");
    assert!(
        r.headers()["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("coxedge-images/")
    );
    assert!(r.body().is_empty());
    assert!(r.headers().get("content-type").is_none());
}

#[test]
fn base_url_with_or_without_slash_and_prefix_kept() {
    for base in [
        "https://h.example/api/v1",
        "https://h.example/api/v1/",
        "https://h.example/api/v1//",
    ] {
        let r = endpoint(base)
            .list_page_request(&ListOptions::new())
            .unwrap();
        assert_eq!(
            r.uri(),
            "https://h.example/api/v1/services/cox/test-area/images",
            "{base}"
        );
    }
    let r = endpoint("https://h.example")
        .list_page_request(&ListOptions::new())
        .unwrap();
    assert_eq!(r.uri(), "https://h.example/services/cox/test-area/images");
}

#[test]
fn org_id_on_every_request() {
    let e = Endpoint::builder()
        .service("cox")
        .environment("env")
        .org_id("org 1&x=y")
        .api_key(ApiKey::new("k").unwrap())
        .build()
        .unwrap();
    let list = e
        .list_page_request(&ListOptions::new().system_only())
        .unwrap();
    assert_eq!(
        list.uri().query(),
        Some("includeOnlySystemImages=true&org_id=org+1%26x%3Dy")
    );
    let get = e.get_image_request(&"a/b/c".parse().unwrap()).unwrap();
    assert_eq!(get.uri().query(), Some("org_id=org+1%26x%3Dy"));
}

#[test]
fn configuration_is_validated() {
    let key = || ApiKey::new("k").unwrap();
    let build = |base: &str, insecure: bool| {
        Endpoint::builder()
            .base_url(base)
            .service("cox")
            .environment("env")
            .api_key(key())
            .allow_insecure_http(insecure)
            .build()
    };
    assert!(build("http://127.0.0.1:8080/api/v1", false).is_ok());
    assert!(build("http://127.5.6.7/api/v1", false).is_ok());
    assert!(build("http://localhost/api/v1", false).is_ok());
    assert!(build("http://[::1]:9/api/v1", false).is_ok());
    let e = build("http://portal.coxedge.com/api/v1", false).unwrap_err();
    assert_eq!(e.setting(), "base URL");
    assert!(build("http://portal.coxedge.com/api/v1", true).is_ok());
    assert!(build("ftp://x/", false).is_err());
    assert!(build("https://user:pw@x/", false).is_err());
    assert!(build("https://x/?a=b", false).is_err());
    assert!(build("not a url", false).is_err());
    for bad in ["", ".", "..", "a/b"] {
        let e = Endpoint::builder()
            .service(bad)
            .environment("env")
            .api_key(key())
            .build()
            .unwrap_err();
        assert_eq!(e.setting(), "service code");
    }
    let e = Endpoint::builder()
        .service("cox")
        .environment("env")
        .build()
        .unwrap_err();
    assert_eq!(e.to_string(), "the api key is missing");
}

#[test]
fn debug_of_endpoint_hides_the_key() {
    let e = endpoint("https://h.example/api/v1");
    let text = format!("{e:?}");
    assert!(!text.contains("canary-key"), "{text}");
    assert!(text.contains("<redacted>"));
}

#[test]
fn list_options_spelled_as_the_api_wants() {
    let e = endpoint("https://h.example/api/v2");
    let r = e
        .list_page_request(&ListOptions::new().image_type(ImageType::Custom).page(2, 50))
        .unwrap();
    assert_eq!(
        r.uri().query(),
        Some("imageType=custom&page_number=2&page_size=50")
    );
}

proptest! {
    #[test]
    fn get_request_keeps_parts_as_segments(
        stack in "[^/]{1,10}", family in "[^/]{1,10}", tag in "[^/]{1,10}",
        base in prop_oneof![Just("https://h.example/api/v1"), Just("https://h.example/api/v1/"), Just("http://127.0.0.1:9/p")],
    ) {
        prop_assume!(![&stack, &family, &tag].iter().any(|p| *p == "." || *p == ".."));
        let id = coxedge_images::ImageId::new(&stack, &family, &tag).unwrap();
        let e = endpoint(base);
        let r = e.get_image_request(&id).unwrap();
        let uri = r.uri();
        prop_assert_eq!(uri.host(), e.base_url().host_str());
        prop_assert_eq!(uri.query(), None);
        let segments = decoded_segments(uri);
        let n = segments.len();
        prop_assert_eq!(&segments[n - 3..], &[stack, family, tag]);
        prop_assert_eq!(&segments[n - 7..n - 3], &["services", "cox", "test-area", "images"]);
    }

    #[test]
    fn hostile_service_and_environment_stay_one_segment(service in "[^/]{1,12}", env in "[^/]{1,12}") {
        prop_assume!(service != "." && service != ".." && env != "." && env != "..");
        let e = Endpoint::builder()
            .base_url("https://h.example/api/v1")
            .service(service.clone())
            .environment(env.clone())
            .api_key(ApiKey::new("k").unwrap())
            .build()
            .unwrap();
        let r = e.list_page_request(&ListOptions::new()).unwrap();
        prop_assert_eq!(r.uri().host(), Some("h.example"));
        prop_assert_eq!(r.uri().query(), None);
        prop_assert_eq!(decoded_segments(r.uri()), vec!["api".to_owned(), "v1".into(), "services".into(), service, env, "images".into()]);
    }

    /// The query, read as a server reads it, has exactly the parameters the
    /// API documents for the options given, spelled as the docs spell them
    /// (`includeOnlySystemImages=true|false`, `imageType=default|custom`,
    /// `page_number`, `page_size` in decimal), each once, and nothing else.
    #[test]
    fn list_options_are_sent_as_the_api_documents_them(
        system in proptest::option::of(any::<bool>()),
        custom in proptest::option::of(any::<bool>()),
        number in proptest::option::of(any::<u32>()),
        size in proptest::option::of(any::<u32>()),
    ) {
        let mut options = ListOptions::new();
        options.include_only_system_images = system;
        options.image_type = custom.map(|c| if c { ImageType::Custom } else { ImageType::Default });
        options.page_number = number;
        options.page_size = size;
        let r = endpoint("https://h.example/api/v1").list_page_request(&options).unwrap();
        let mut sent: Vec<(String, String)> = r
            .uri()
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        sent.sort();
        let mut expected: Vec<(String, String)> = [
            system.map(|s| ("includeOnlySystemImages", if s { "true".to_owned() } else { "false".to_owned() })),
            custom.map(|c| ("imageType", if c { "custom".to_owned() } else { "default".to_owned() })),
            number.map(|n| ("page_number", n.to_string())),
            size.map(|n| ("page_size", n.to_string())),
        ]
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        expected.sort();
        prop_assert_eq!(sent, expected);
        // No options, no `?` at all.
        if system.is_none() && custom.is_none() && number.is_none() && size.is_none() {
            prop_assert_eq!(r.uri().query(), None);
        }
    }
}
