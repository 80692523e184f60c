//! The OpenAPI document checked by tools nobody here wrote: an OpenAPI 3.1 validator, and
//! schemathesis generating requests from it against the real `parla serve`, checking that
//! every status and body the server answers is the one the document declares. The tools
//! live in `target/test-venv` (`scripts/setup-test.sh`, run by `make test`).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::serve::Serve;
use common::*;
use parla::client::Rest;

fn venv_bin(name: &str) -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-venv/bin")
        .join(name);
    assert!(
        bin.exists(),
        "{} is missing: run `make test` (or scripts/setup-test.sh) to install the test tools",
        bin.display()
    );
    bin
}

async fn output(mut c: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_served_document_is_valid_openapi_3_1() {
    let t = TestServer::start().await;
    let doc = reqwest::get(format!("{}/v1/openapi.json", t.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &doc).unwrap();
    let mut c = Command::new(venv_bin("python"));
    c.arg("-c")
        .arg(
            "import json, sys\n\
             from openapi_spec_validator import validate\n\
             doc = json.load(open(sys.argv[1]))\n\
             assert doc['openapi'].startswith('3.1'), doc['openapi']\n\
             validate(doc)\n\
             print('valid', len(doc['paths']), 'paths')",
        )
        .arg(&file);
    let out = output(c).await;
    assert!(
        out.status.success(),
        "the OpenAPI document does not validate:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The one committed in docs/ is the one served.
    let committed = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json"),
    )
    .unwrap();
    assert_eq!(
        committed.trim_end(),
        doc.trim_end(),
        "docs/openapi.json is stale; run `make docs`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_driven_requests_get_only_declared_answers() {
    let (data, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = Serve::new(data.path(), home.path()).spawn().await;
    let admin = Rest::new(&server.url).unwrap().with_api_key(API_KEY);
    let token = create_alice_and_bob(&admin, Some(86_400)).await;
    let alice = Rest::new(&server.url).unwrap().with_token(token.clone());
    let channel = alice.open_direct("bob").await.unwrap().channel_id;
    alice.send(&channel, "c1", "a first message").await.unwrap();
    let doomed = alice
        .create_group("to be removed", &["bob".to_owned()])
        .await
        .unwrap()
        .channel_id;

    let config = home.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            r#"# Real channels for the routes that take one (the one DELETE gets is another),
# and the codes the server gives for requests outside the schema: 413 for texts and
# bodies over their limits, as docs/protocol.md says.
[parameters]
"path.channel_id" = "{channel}"

[checks.negative_data_rejection]
expected-statuses = [400, 401, 404, 405, 409, 413, 429]

[[operations]]
include-operation-id = "remove_channel"
parameters = {{ "path.channel_id" = "{doomed}" }}

# An anchor is any string, but one that names no message of the channel is refused with
# message_anchor_error (400), as the reference platform does.
[[operations]]
include-operation-id = "list_messages"
checks.positive_data_acceptance.expected-statuses = [200, 400, 401, 404, 429]
"#
        ),
    )
    .unwrap();
    let mut c = Command::new(venv_bin("schemathesis"));
    c.current_dir(home.path())
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/v1/openapi.json", server.url)])
        .args(["-H", &format!("apikey: {API_KEY}")])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all", "--max-examples", "40", "--workers", "1"])
        .args(["--seed", "20261201", "--no-color"]);
    let out = output(c).await;
    let report = String::from_utf8_lossy(&out.stdout);
    let tail: String = report
        .lines()
        .rev()
        .take(60)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        out.status.success(),
        "schemathesis found answers the document does not declare:\n{}\n{}",
        report.chars().take(12_000).collect::<String>(),
        String::from_utf8_lossy(&out.stderr)
    );
    // Every operation selected and tested (schemathesis counts the document's own route
    // apart, so the total is one under the document's count).
    let selected = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Selected: "))
        .expect("no summary");
    let (n, of) = selected.split_once('/').expect("Selected: n/m");
    assert_eq!(n, of, "operations left out:\n{tail}");
    assert!(n.parse::<usize>().unwrap() >= 16, "{selected}");
    assert!(
        report.contains(&format!("Tested: {n}")),
        "not every operation was tested:\n{tail}"
    );
    eprintln!("{tail}");
}
