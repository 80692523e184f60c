//! Headless Chromium (Debian's `chromium`, driven by `chromium-driver` over the W3C
//! WebDriver protocol) with the test page `tests/peers/browser.html` served on loopback: a
//! browser peer that speaks parla's protocol from the page's own script.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The test page, served at `http://127.0.0.1:PORT/`.
pub struct Page {
    pub url: String,
    _task: tokio::task::JoinHandle<()>,
}

pub async fn serve_page() -> Page {
    let html = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/browser.html"),
    )
    .unwrap();
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Page { url, _task: task }
}

/// One browser with one page open, driven by WebDriver.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at `url`. `extra` are more Chromium
    /// switches.
    pub async fn open(url: &str, extra: &[&str]) -> Browser {
        let port = free_port();
        let driver = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver is missing: run `make test` to install chromium-driver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver never started"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--autoplay-policy=no-user-gesture-required".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_owned();
        let b = Browser {
            http,
            base,
            session,
            _driver: driver,
            _profile: profile,
        };
        b.command("url", json!({ "url": url })).await;
        b
    }

    /// Opens `url` in the page's window.
    pub async fn goto(&self, url: &str) {
        self.command("url", json!({ "url": url })).await;
    }

    async fn command(&self, path: &str, body: Value) -> Value {
        let r: Value = self
            .http
            .post(format!("{}/session/{}/{path}", self.base, self.session))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["value"].clone()
    }

    /// Runs `script` in the page (a returned promise is awaited) with `args`.
    pub async fn run(&self, script: &str, args: Value) -> Value {
        let v = self
            .command("execute/sync", json!({ "script": script, "args": args }))
            .await;
        // A WebDriver error is `{error, message, stacktrace}`; a script's own value may
        // have an `error` field of its own.
        assert!(
            !(v["error"].is_string() && v.get("stacktrace").is_some()),
            "the page's script failed: {v}\nscript: {script}"
        );
        v
    }

    /// The events the page has reported so far.
    pub async fn events(&self) -> Vec<Value> {
        self.run("return peer.events()", json!([]))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until the page has reported `name` (at most `limit`).
    pub async fn wait_for(&self, name: &str, limit: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let events = self.events().await;
            if let Some(v) = events.iter().find(|v| v["event"] == name) {
                return v.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the page never reported `{name}`: {events:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page hears `hz` (within 10 Hz) clearly (at most `limit`).
    pub async fn wait_hearing(&self, hz: f64, limit: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let heard = self.run("return peer.heard()", json!([])).await;
            let f = heard["hz"].as_f64().unwrap_or(0.0);
            let db = heard["db"].as_f64().unwrap_or(-200.0);
            if (f - hz).abs() < 10.0 && db > -60.0 {
                return heard;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the browser never heard {hz} Hz: last {heard}; events {:#?}",
                self.events().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Browser {
    /// Ends the session, which closes the browser.
    pub async fn close(self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.http.delete(url).send().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The driver is killed with the process; the browser goes with its session.
        let url = format!("{}/session/{}", self.base, self.session);
        let http = self.http.clone();
        tokio::spawn(async move {
            let _ = http.delete(url).send().await;
        });
    }
}
