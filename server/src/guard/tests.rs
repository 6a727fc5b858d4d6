//! The guard's rules, one by one: host entries and matching, same-origin, the policies.

use super::Refusal;
use super::headers::{STATIC_CSP, page_policy};
use super::hosts::{AllowedHost, AllowedHosts, HostParseError};
use super::origin::same_origin;
use axum::http::{HeaderMap, HeaderValue};

fn host(s: &str) -> AllowedHost {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn host_entries_parse_or_say_why() {
    assert_eq!(host("Pulse.Example:8080").to_string(), "pulse.example:8080");
    assert_eq!(host(" [::1]:3000 ").to_string(), "[::1]:3000");
    assert_eq!(host("pulse.example").to_string(), "pulse.example (any port)");
    assert_eq!("".parse::<AllowedHost>(), Err(HostParseError::Empty));
    assert!(matches!("http://x".parse::<AllowedHost>(), Err(HostParseError::NotAHost(_))));
    assert!(matches!("x/y".parse::<AllowedHost>(), Err(HostParseError::NotAHost(_))));
    assert!(matches!("x:".parse::<AllowedHost>(), Err(HostParseError::BadPort(_))));
    assert!(matches!("x:0".parse::<AllowedHost>(), Err(HostParseError::BadPort(_))));
    assert!(matches!("x:70000".parse::<AllowedHost>(), Err(HostParseError::BadPort(_))));
    assert!(matches!("::1".parse::<AllowedHost>(), Err(HostParseError::UnbracketedIpv6(_))));
    assert!(matches!(":80".parse::<AllowedHost>(), Err(HostParseError::NotAHost(_))));
}

#[test]
fn the_default_hosts_are_the_listen_address_and_loopback_at_its_port() {
    let hosts = AllowedHosts::new(&[], "127.0.0.1:3000".parse().expect("addr"));
    assert_eq!(hosts.to_string(), "127.0.0.1:3000, localhost:3000, [::1]:3000");
    for ok in ["127.0.0.1:3000", "localhost:3000", "LOCALHOST:3000", "[::1]:3000"] {
        assert!(hosts.allows(ok), "{ok}");
    }
    // A rebound name, another port, no port (80), junk: refused.
    for bad in ["evil.example:3000", "localhost:3001", "localhost", "127.0.0.1", "", "[::1", "a:b:c"] {
        assert!(!hosts.allows(bad), "{bad}");
    }
    let any = AllowedHosts::new(&[], "0.0.0.0:80".parse().expect("addr"));
    assert!(any.allows("localhost") && any.allows("0.0.0.0:80") && !any.allows("pulse.example"));
}

#[test]
fn configured_hosts_replace_the_defaults() {
    let hosts = AllowedHosts::new(
        &[host("pulse.example"), host("10.0.0.5:3000")],
        "127.0.0.1:3000".parse().expect("addr"),
    );
    assert!(hosts.allows("pulse.example") && hosts.allows("Pulse.example:8443"), "no port: any port");
    assert!(hosts.allows("10.0.0.5:3000") && !hosts.allows("10.0.0.5:3001") && !hosts.allows("10.0.0.5"));
    assert!(!hosts.allows("localhost:3000"), "the defaults are not added");
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs.iter().map(|(k, v)| (axum::http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
}

#[test]
fn sec_fetch_site_decides_when_present() {
    let h = Some("127.0.0.1:3000");
    assert_eq!(same_origin(&headers(&[("sec-fetch-site", "same-origin")]), h), Ok(()));
    assert_eq!(same_origin(&headers(&[("sec-fetch-site", "none")]), h), Ok(()));
    for site in ["cross-site", "same-site", ""] {
        let e = same_origin(&headers(&[("sec-fetch-site", site), ("origin", "http://127.0.0.1:3000")]), h);
        assert!(matches!(e, Err(Refusal::CrossSite(_))), "{site}: even with a matching Origin");
    }
    // Sec-Fetch-Site wins over a foreign Origin (a same-origin redirect target keeps its Origin).
    let h2 = headers(&[("sec-fetch-site", "same-origin"), ("origin", "http://evil.example")]);
    assert_eq!(same_origin(&h2, h), Ok(()));
}

#[test]
fn origin_must_be_the_host_it_was_sent_to() {
    let h = Some("127.0.0.1:3000");
    assert_eq!(same_origin(&headers(&[("origin", "http://127.0.0.1:3000")]), h), Ok(()));
    // Behind a proxy that ends TLS: the same host, over https.
    assert_eq!(same_origin(&headers(&[("origin", "https://127.0.0.1:3000")]), h), Ok(()));
    for bad in [
        "http://evil.example",
        "null",
        "http://127.0.0.1:3001",
        "https://127.0.0.1:3001",
        "http://127.0.0.1",
        "ftp://127.0.0.1:3000",
    ] {
        let e = same_origin(&headers(&[("origin", bad)]), h);
        assert!(matches!(e, Err(Refusal::CrossSite(_))), "{bad}");
    }
    assert!(same_origin(&headers(&[("origin", "http://x")]), None).is_err(), "no host: no match");
    assert_eq!(same_origin(&HeaderMap::new(), h), Ok(()), "no browser, no check");
}

#[test]
fn the_policies_allow_self_wasm_and_only_the_pages_nonce() {
    for part in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "connect-src 'self'",
    ] {
        assert!(STATIC_CSP.contains(part), "{part}");
    }
    assert!(STATIC_CSP.contains("script-src 'self' 'wasm-unsafe-eval'"));
    assert!(!STATIC_CSP.contains("unsafe-inline") && !STATIC_CSP.contains("nonce"));
    let page = page_policy("abc", None);
    assert!(page.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"), "{page}");
    assert!(page.ends_with("connect-src 'self'"), "{page}");
    assert!(page_policy("abc", Some(3001)).ends_with("connect-src 'self' ws://*:3001"));
}

#[test]
fn refusals_are_json_with_their_status() {
    use axum::response::IntoResponse;
    let r = Refusal::CrossSite("x".into()).into_response();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers().get("content-type").map(|v| v.as_bytes()), Some(&b"application/json"[..]));
    assert_eq!(Refusal::Misdirected("x".into()).into_response().status(), 421);
}

/// Catches: a new server function that changes state but is not in `app::api::classes`, so
/// the roles check would let anyone call it.
#[test]
fn every_server_function_is_classified_exactly_once() {
    use app::api::classes;
    // Linking `app` registers its server functions; naming one keeps it linked.
    let _ = app::api::classes::read_only;
    let classified: Vec<&str> =
        classes::operator().into_iter().chain(classes::publish()).chain(classes::read_only()).collect();
    let registered: Vec<&str> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path).collect();
    assert!(registered.len() >= 19, "server functions registered: {registered:?}");
    for path in &registered {
        let n = classified.iter().filter(|c| *c == path).count();
        assert_eq!(n, 1, "{path} must be in exactly one of app::api::classes' lists");
    }
    assert_eq!(classified.len(), registered.len(), "no stale entry in the lists");
}

#[test]
fn tokens_are_long_plain_and_never_printed() {
    use super::{Token, TokenError};
    assert_eq!(Token::new("short"), Err(TokenError::TooShort(5)));
    assert_eq!(Token::new("sixteen chars no"), Err(TokenError::Whitespace));
    assert_eq!(Token::new("sixteen-chars-ok\n"), Err(TokenError::Whitespace));
    let t = Token::new("sixteen-chars-ok").expect("valid");
    assert!(t.matches("sixteen-chars-ok") && !t.matches("sixteen-chars-oK") && !t.matches("sixteen-chars-o"));
    assert_eq!(format!("{t:?}"), "Token(<redacted>)");
}
