//! Credentials refuse what cannot work and never show a secret.

use liveapi_request::{BaseUrl, CredentialsError, LinkvCredentials, PolyvCredentials, Secret};

const SECRET: &str = "9f86d081884c7d659a2feaa0c55ad015";

#[test]
fn debug_never_shows_the_secret() {
    let linkv = LinkvCredentials::builder()
        .app_id("key")
        .secret(SECRET)
        .alias("alias")
        .base_url("https://h.example.com")
        .build()
        .unwrap();
    let polyv = PolyvCredentials::builder()
        .app_id("app")
        .secret(SECRET)
        .build()
        .unwrap();
    for text in [
        format!("{linkv:?}"),
        format!("{linkv:#?}"),
        format!("{polyv:?}"),
        format!("{polyv:#?}"),
        format!("{:?}", Secret::new(SECRET)),
        format!("{:?}", LinkvCredentials::builder().secret(SECRET)),
    ] {
        assert!(!text.contains(SECRET), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }
}

fn linkv(
    app_id: Option<&str>,
    secret: Option<&str>,
    alias: Option<&str>,
    base_url: Option<&str>,
) -> Result<LinkvCredentials, CredentialsError> {
    let mut builder = LinkvCredentials::builder();
    if let Some(v) = app_id {
        builder = builder.app_id(v);
    }
    if let Some(v) = secret {
        builder = builder.secret(v);
    }
    if let Some(v) = alias {
        builder = builder.alias(v);
    }
    if let Some(v) = base_url {
        builder = builder.base_url(v);
    }
    builder.build()
}

#[test]
fn empty_missing_or_malformed_fields_are_refused() {
    let url = Some("https://h.example.com");
    let cases = [
        (
            linkv(Some(""), Some(SECRET), None, url),
            "live_app_key is empty",
        ),
        (
            linkv(Some("key"), Some(""), None, url),
            "live_app_secret is empty",
        ),
        (
            linkv(Some("key"), Some(SECRET), Some(""), url),
            "alias is empty",
        ),
        (
            linkv(Some("key with space"), Some(SECRET), None, url),
            "live_app_key is invalid: only printable ASCII without spaces is allowed",
        ),
        (
            linkv(Some("key"), Some(SECRET), None, Some("")),
            "base URL is invalid: it is not a URL",
        ),
        (
            linkv(None, Some(SECRET), None, url),
            "live_app_key is not set: give it to the credentials builder (.app_id(…))",
        ),
        (
            linkv(Some("key"), None, None, url),
            "live_app_secret is not set: give it to the credentials builder (.secret(…))",
        ),
        (
            linkv(Some("key"), Some(SECRET), None, None),
            "base URL is not set: give it to the credentials builder (.base_url(…))",
        ),
    ];
    for (result, expected) in cases {
        let err = result.unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert!(!format!("{err} {err:?}").contains(SECRET));
    }
    // The alias is optional: only orderSuccess sends it.
    let creds = linkv(Some("key"), Some(SECRET), None, url).unwrap();
    assert_eq!(creds.alias(), None);
    assert_eq!(
        PolyvCredentials::builder()
            .app_id("app")
            .secret("")
            .build()
            .unwrap_err(),
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

#[test]
fn polyv_credentials_are_built_by_field_name_like_linkvs() {
    use liveapi_request::POLYV_BASE_URL;
    use liveapi_sign::polyv::SignatureMethod;

    let public = PolyvCredentials::builder()
        .app_id("app")
        .secret("s3cret")
        .build()
        .unwrap();
    assert_eq!(public.base_url().to_string(), POLYV_BASE_URL);
    assert_eq!(public.signature_method(), SignatureMethod::Md5);
    assert_eq!(public.secret().expose(), "s3cret");
    let local = PolyvCredentials::builder()
        .app_id("app")
        .secret("s3cret")
        .base_url("http://127.0.0.1:1")
        .signature_method(SignatureMethod::Sha256)
        .build()
        .unwrap();
    assert_eq!(local.base_url().to_string(), "http://127.0.0.1:1");
    assert_eq!(local.signature_method(), SignatureMethod::Sha256);
    for (builder, field) in [
        (PolyvCredentials::builder().secret("s"), "appId"),
        (PolyvCredentials::builder().app_id("a"), "appSecret"),
    ] {
        assert_eq!(
            builder.build().unwrap_err(),
            CredentialsError::Missing { field }
        );
    }
    let err = PolyvCredentials::builder()
        .app_id("a")
        .secret("s")
        .base_url("ftp://x")
        .build()
        .unwrap_err();
    assert!(matches!(err, CredentialsError::BaseUrl { .. }), "{err}");
    let debug = format!(
        "{:?}",
        PolyvCredentials::builder()
            .app_id("a")
            .secret("hidden-value")
    );
    assert!(!debug.contains("hidden-value"), "{debug}");
}
