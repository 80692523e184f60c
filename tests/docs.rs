//! Generated documents stay in step with the code: man pages, shell completions and the
//! OpenAPI document are committed, and these tests fail when they are stale. Run
//! `make docs` (PARLA_BLESS=1) to regenerate them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn bless() -> bool {
    std::env::var_os("PARLA_BLESS").is_some()
}

fn read_dir_files(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_file() {
                let name = e.file_name().to_string_lossy().into_owned();
                files.insert(name, std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    files
}

/// Compares a generated directory with the committed one (or replaces it when blessing).
fn check_dir(generated: &Path, committed: &Path) {
    let want = read_dir_files(generated);
    if bless() {
        std::fs::create_dir_all(committed).unwrap();
        for old in read_dir_files(committed).keys() {
            std::fs::remove_file(committed.join(old)).unwrap();
        }
        for (name, text) in &want {
            std::fs::write(committed.join(name), text).unwrap();
        }
        return;
    }
    let have = read_dir_files(committed);
    let want_names: Vec<_> = want.keys().collect();
    let have_names: Vec<_> = have.keys().collect();
    assert_eq!(
        have_names,
        want_names,
        "{} has other files than the code generates; run `make docs`",
        committed.display()
    );
    for (name, text) in &want {
        assert!(
            have.get(name) == Some(text),
            "{}/{name} is stale; run `make docs`",
            committed.display()
        );
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn man_pages_are_current() {
    let tmp = tempfile::tempdir().unwrap();
    parla::cli::write_man_pages(tmp.path()).unwrap();
    assert!(tmp.path().join("parla.1").exists());
    assert!(tmp.path().join("parla-admin-user-add.1").exists());
    let main = std::fs::read_to_string(tmp.path().join("parla.1")).unwrap();
    assert!(
        main.contains("EXIT STATUS"),
        "the exit codes belong in the man page"
    );
    for section in [
        ".SH ENVIRONMENT",
        ".SH FILES",
        "NO_COLOR",
        "ctl.sock",
        "config.toml",
    ] {
        assert!(main.contains(section), "parla.1 lacks {section}");
    }
    assert!(!main.contains("EXTRA"), "no EXTRA section");
    // A subcommand's page has its own options only; the global ones are in parla(1).
    let sub = std::fs::read_to_string(tmp.path().join("parla-history.1")).unwrap();
    assert!(
        sub.contains("\\fB\\-\\-search\\fR") && !sub.contains("\\fB\\-\\-server\\fR"),
        "{sub}"
    );
    assert!(sub.contains("parla\\fR(1)"), "{sub}");
    check_dir(tmp.path(), &root().join("man"));
}

#[test]
fn completions_are_current() {
    let tmp = tempfile::tempdir().unwrap();
    parla::cli::write_completions(tmp.path()).unwrap();
    check_dir(tmp.path(), &root().join("completions"));
}

#[test]
fn openapi_document_is_current() {
    let doc = parla::server::http::openapi_document();
    let path = root().join("docs/openapi.json");
    if bless() {
        std::fs::write(&path, format!("{doc}\n")).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed.trim_end() == doc.trim_end(),
        "docs/openapi.json is stale; run `make docs`"
    );
}

/// Every route, frame type and error code appears in docs/protocol.md.
#[test]
fn protocol_doc_covers_every_route_frame_and_code() {
    let doc = std::fs::read_to_string(root().join("docs/protocol.md")).unwrap();
    let api: serde_json::Value =
        serde_json::from_str(&parla::server::http::openapi_document()).unwrap();
    let mut missing = Vec::new();
    for (path, ops) in api["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let needle = format!("{} {path}", method.to_uppercase());
            if !doc.contains(&needle) {
                missing.push(needle);
            }
        }
    }
    let server_frames = [
        "ready",
        "ack",
        "error",
        "message",
        "channel_added",
        "channel_removed",
        "read",
        "resumed",
        "presence",
        "token_about_to_expire",
        "token_refreshed",
        "token_expired",
        "force_disconnect",
        "pong",
        "call_incoming",
        "call_updated",
        "call_ended",
    ];
    for t in parla::proto::CLIENT_FRAME_TYPES
        .iter()
        .chain(server_frames.iter())
    {
        let needle = format!("`{t}`");
        if !doc.contains(&needle) {
            missing.push(needle);
        }
    }
    let codes: Vec<serde_json::Value> = api["components"]["schemas"]["ErrorCode"]["oneOf"]
        .as_array()
        .map(|v| {
            v.iter()
                .flat_map(|o| o["enum"].as_array().cloned().unwrap_or_default())
                .collect()
        })
        .or_else(|| {
            api["components"]["schemas"]["ErrorCode"]["enum"]
                .as_array()
                .cloned()
        })
        .unwrap_or_default();
    assert!(
        codes.len() >= 15,
        "error codes not found in the OpenAPI document"
    );
    for c in codes {
        let needle = format!("`{}`", c.as_str().unwrap());
        if !doc.contains(&needle) {
            missing.push(needle);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/protocol.md does not mention: {missing:?}"
    );
}
