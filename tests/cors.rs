//! CORS on the REST API: preflights and `Access-Control-Allow-Origin` for the origins the
//! operator allows, nothing for others, and origins checked when the server starts.

mod common;

use common::*;

const ORIGIN: &str = "http://app.parla.test";

#[tokio::test]
async fn allowed_origins_get_preflights_and_headers_and_others_none() {
    let t = TestServer::start_with(|c| c.cors_origins = vec![ORIGIN.into()]).await;
    t.users(&["bob"]).await;
    let http = reqwest::Client::new();
    let preflight = http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/channels", t.url()))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], ORIGIN);
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));

    let token = t.token("bob").await;
    for (origin, allowed) in [(ORIGIN, true), ("http://elsewhere.parla.test", false)] {
        let r = http
            .get(format!("{}/v1/ice-servers", t.url()))
            .header("origin", origin)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers().get("access-control-allow-origin").is_some(),
            allowed,
            "{origin}"
        );
    }
    // Errors carry the header too, so a page can read the code.
    let r = http
        .get(format!("{}/v1/me", t.url()))
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["access-control-allow-origin"], ORIGIN);
}

#[tokio::test]
async fn a_malformed_origin_stops_the_server_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        parla::server::ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().into());
    config.cors_origins = vec!["https://chat.example.org/".into()];
    let err = parla::server::Server::start(config).await.err().unwrap();
    assert!(err.to_string().contains("not a web origin"), "{err}");
}
