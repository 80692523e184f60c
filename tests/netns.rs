//! A whole call on a host whose only interface is loopback without multicast (a container,
//! a fresh network namespace): server, caller and callee in a network namespace of the
//! test's own (`unshare -rn`), which goes away with the script. Nothing may need an mDNS
//! socket, which such a host cannot open.

use std::time::Duration;

const SCRIPT: &str = r#"
set -eu
ip link set lo up
export PARLA_SERVER=http://127.0.0.1:7399 PARLA_API_KEY=namespace-test-key-0123
"$PARLA" serve --listen 127.0.0.1:7399 --data "$HOME/srv" > "$HOME/serve.log" 2>&1 &
for i in $(seq 200); do "$PARLA" admin user add alice > /dev/null 2>&1 && break; sleep 0.1; done
"$PARLA" admin user add bob > /dev/null
A=$("$PARLA" admin token alice); B=$("$PARLA" admin token bob)
PARLA_TOKEN=$B "$PARLA" --json answer --bind 127.0.0.1:0 --tone 880 > "$HOME/bob.out" &
BOB=$!
for i in $(seq 200); do PARLA_TOKEN=$A "$PARLA" --json users 2>/dev/null | grep -q '"bob"' && break; sleep 0.1; done
PARLA_TOKEN=$A "$PARLA" --json call bob --bind 127.0.0.1:0 --tone 440 --hangup-after 1
wait $BOB
"#;

#[tokio::test]
async fn a_call_works_on_a_loopback_only_host() {
    let home = tempfile::tempdir().unwrap();
    let run = tokio::process::Command::new("unshare")
        .args(["-rn", "bash", "-c", SCRIPT])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("PARLA", env!("CARGO_BIN_EXE_parla"))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_mins(1), run)
        .await
        .expect("the call in the namespace did not finish")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let summary: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v["event"] == "call_summary")
        .unwrap_or_else(|| panic!("no summary: {stdout}\n{stderr}"));
    assert_eq!(summary["answered"], true, "{summary}");
    assert_eq!(summary["end_reason"], "hang_up");
    assert!(
        summary["stats"]["packets_received"].as_u64() > Some(20),
        "{summary}"
    );
    let bob = std::fs::read_to_string(home.path().join("bob.out")).unwrap();
    assert!(bob.contains("\"answered\":true"), "{bob}");
}
