//! Credentials refuse what cannot work and never show a secret.

use liveapi_request::{BaseUrl, CredentialsError, LinkvCredentials, PolyvCredentials, Secret};

const SECRET: &str = "9f86d081884c7d659a2feaa0c55ad015";

#[test]
fn debug_never_shows_the_secret() {
    let linkv = LinkvCredentials::new("key", SECRET, "alias", "https://h.example.com").unwrap();
    let polyv = PolyvCredentials::new("app", SECRET).unwrap();
    for text in [
        format!("{linkv:?}"),
        format!("{linkv:#?}"),
        format!("{polyv:?}"),
        format!("{polyv:#?}"),
        format!("{:?}", Secret::new(SECRET)),
    ] {
        assert!(!text.contains(SECRET), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }
}

#[test]
fn empty_or_malformed_fields_are_refused() {
    let cases = [
        LinkvCredentials::new("", SECRET, "alias", "https://h.example.com"),
        LinkvCredentials::new("key", "", "alias", "https://h.example.com"),
        LinkvCredentials::new("key", SECRET, "", "https://h.example.com"),
        LinkvCredentials::new("key with space", SECRET, "alias", "https://h.example.com"),
        LinkvCredentials::new("key", SECRET, "alias", ""),
    ];
    for result in cases {
        let err = result.unwrap_err();
        assert!(!err.to_string().contains(SECRET));
    }
    assert_eq!(
        PolyvCredentials::new("app", "").unwrap_err(),
        CredentialsError::Empty { field: "appSecret" }
    );
}

#[test]
fn base_urls() {
    for ok in [
        "https://api.polyv.net",
        "https://api.polyv.net/",
        "http://127.0.0.1:8080",
        "https://gw.example.com/prefix/",
        "http://[::1]:9000",
    ] {
        assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "api.polyv.net",
        "/live",
        "ftp://x.example.com",
        "https://",
        "https://x.example.com/?q=1",
        "https://x.example.com/#frag",
        "https://user:pass@x.example.com",
        "not a url",
    ] {
        assert!(
            matches!(BaseUrl::parse(bad), Err(CredentialsError::BaseUrl { .. })),
            "{bad}"
        );
    }
    let base = BaseUrl::parse("https://gw.example.com/prefix/").unwrap();
    assert_eq!(base.to_string(), "https://gw.example.com/prefix");
}
