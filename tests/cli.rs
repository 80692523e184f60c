//! The real `parla` binary against a real server: outputs, JSON and exit codes.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::items_after_statements)]

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;

struct Cli {
    home: tempfile::TempDir,
    server: String,
}

impl Cli {
    fn new(server: &str) -> Cli {
        Cli {
            home: tempfile::tempdir().unwrap(),
            server: server.to_owned(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_parla"));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("PARLA_SERVER", &self.server)
            .stdin(Stdio::null());
        c
    }

    /// Runs on a blocking thread so the in-process server keeps serving.
    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", stdout(o), stderr(o)))
}

const KEY: (&str, &str) = ("PARLA_API_KEY", API_KEY);

#[tokio::test]
async fn admin_then_chat_from_the_command_line() {
    let t = TestServer::start().await;
    let cli = Cli::new(&t.url());

    let o = cli
        .run(
            &[
                "--json", "admin", "user", "add", "alice", "--name", "Alice A",
            ],
            &[KEY],
        )
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["display_name"], "Alice A");
    cli.run(&["admin", "user", "add", "bob"], &[KEY]).await;
    let o = cli.run(&["admin", "user", "add", "bob"], &[KEY]).await;
    assert_eq!(o.status.code(), Some(5));
    assert!(
        stderr(&o).contains("error[user_already_exists]"),
        "{}",
        stderr(&o)
    );

    let o = cli
        .run(
            &["--json", "admin", "token", "alice", "--expires-in", "600"],
            &[KEY],
        )
        .await;
    let alice_token = json(&o)["access_token"].as_str().unwrap().to_owned();
    let bob_token = stdout(&cli.run(&["admin", "token", "bob"], &[KEY]).await)
        .trim()
        .to_owned();
    let alice = [("PARLA_TOKEN", alice_token.as_str())];
    let bob = [("PARLA_TOKEN", bob_token.as_str())];

    let o = cli
        .run(&["--json", "send", "bob", "hello from the shell"], &alice)
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = json(&o);
    assert_eq!(sent["seq"], 1);
    let channel = sent["channel_id"].as_str().unwrap().to_owned();

    // TEXT `-` reads standard input.
    let mut child = cli
        .cmd(&["send", &channel, "-"])
        .env("PARLA_TOKEN", &alice_token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"line one\nline two\n")
        .unwrap();
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(o.status.success());
    for i in 3..=6 {
        cli.run(&["send", "bob", &format!("note {i}")], &alice)
            .await;
    }

    let o = cli
        .run(&["--json", "history", "alice", "--count", "3"], &bob)
        .await;
    let page = json(&o);
    let seqs: Vec<u64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [4, 5, 6]);
    assert_eq!(page["has_more"], true);
    let o = cli
        .run(&["--json", "history", "alice", "--before", "3"], &bob)
        .await;
    let texts: Vec<String> = json(&o)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["hello from the shell", "line one\nline two"]);
    let o = cli
        .run(&["history", "alice", "--after", "4", "-n", "1"], &bob)
        .await;
    let human = stdout(&o);
    assert!(
        human.contains("alice: note 5") && !human.contains("note 6"),
        "{human}"
    );
    // --search finds text (either case), older matches with --before.
    let o = cli
        .run(&["history", "alice", "--search", "NOTE", "-n", "2"], &bob)
        .await;
    let human = stdout(&o);
    assert!(
        human.contains("note 5") && human.contains("note 6") && !human.contains("note 4"),
        "{human}"
    );
    let o = cli
        .run(
            &[
                "--json", "history", "alice", "--search", "note", "--before", "5",
            ],
            &bob,
        )
        .await;
    let texts: Vec<String> = json(&o)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["note 3", "note 4"]);

    // A group, made from the command line, is a channel to send to by name.
    let o = cli.run(&["--json", "group", "#lunch", "alice"], &bob).await;
    let group = json(&o);
    assert_eq!(group["kind"], "group");
    assert_eq!(group["name"], "lunch");
    let o = cli.run(&["send", "#lunch", "noon?"], &alice).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let o = cli.run(&["group", "solo"], &bob).await;
    assert_eq!(o.status.code(), Some(2), "members are required");
    let o = cli.run(&["--json", "channels"], &bob).await;
    let alice_dm = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "direct")
        .cloned()
        .unwrap();
    assert_eq!(alice_dm["unread_count"], 6);
    let o = cli.run(&["--json", "read", "alice"], &bob).await;
    assert_eq!(json(&o)["unread_count"], 0);
    let o = cli.run(&["channels"], &bob).await;
    assert!(
        stdout(&o).contains("alice") && stdout(&o).contains("unread 0"),
        "{}",
        stdout(&o)
    );

    let o = cli.run(&["--json", "users"], &bob).await;
    assert_eq!(json(&o).as_array().unwrap().len(), 2);
    let o = cli.run(&["--json", "users", "--online"], &bob).await;
    assert_eq!(json(&o).as_array().unwrap().len(), 0);

    // A token command instead of a token.
    let token_cmd = format!("{} admin token alice", env!("CARGO_BIN_EXE_parla"));
    let o = cli
        .run(
            &["--json", "send", "bob", "via token-cmd"],
            &[KEY, ("PARLA_TOKEN_CMD", &token_cmd)],
        )
        .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["sender"], "alice");

    let o = cli.run(&["admin", "user", "rm", "bob"], &[KEY]).await;
    assert!(o.status.success());
    let o = cli.run(&["channels"], &bob).await;
    assert_eq!(o.status.code(), Some(5), "deleted user: {}", stderr(&o));
}

#[tokio::test]
async fn exit_codes_and_json_errors() {
    let t = TestServer::start().await;
    t.user("alice").await;
    let token = t.token("alice").await;
    let cli = Cli::new(&t.url());
    let alice = [("PARLA_TOKEN", token.as_str())];

    // 2: usage.
    let o = cli.run(&["send", "bob"], &alice).await;
    assert_eq!(o.status.code(), Some(2));
    let o = cli
        .run(&["history", "bob", "--before", "1", "--after", "2"], &alice)
        .await;
    assert_eq!(o.status.code(), Some(2));
    // Arguments out of range are usage too, and with --json the error is JSON.
    let o = cli.run(&["history", "bob", "--count", "0"], &alice).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = cli.run(&["--json", "history"], &alice).await;
    assert_eq!(o.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(err["error"]["code"], "usage_error");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("<PEER_OR_CHANNEL>"),
        "{err}"
    );
    // 3: authentication.
    let o = cli
        .run(
            &["--json", "channels"],
            &[("PARLA_TOKEN", "forged.token.here")],
        )
        .await;
    assert_eq!(o.status.code(), Some(3));
    let err: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(err["error"]["code"], "access_token_invalid");
    // No token at all is configuration: 2, config_error.
    let o = cli.run(&["channels"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "no token at all: {}", stderr(&o));
    assert!(stderr(&o).contains("config_error"), "{}", stderr(&o));
    let o = cli
        .run(&["admin", "user", "list"], &[("PARLA_API_KEY", "wrong")])
        .await;
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("api_key_invalid"));
    // 4: unreachable (a port nothing listens on).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let o = cli.run(&["--server", &dead, "channels"], &alice).await;
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("server_unreachable"));
    // Where and why, without the HTTP library's layers.
    assert!(
        stderr(&o).contains(&format!("{dead}: connection refused")),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("error sending request"),
        "{}",
        stderr(&o)
    );
    // 5: not found / rejected.
    let o = cli.run(&["send", "nobody", "hi"], &alice).await;
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("user_not_found"));
    let o = cli.run(&["history", "ch_missing"], &alice).await;
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("channel_not_exists"));
    let o = cli.run(&["send", "#no-such-group", "hi"], &alice).await;
    assert_eq!(o.status.code(), Some(5));
    t.user("bob").await;
    let o = cli.run(&["send", "bob", "   "], &alice).await;
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("validation_error"));
}

#[tokio::test]
async fn profiles_from_the_config_file() {
    let t = TestServer::start().await;
    t.user("alice").await;
    let token = t.token("alice").await;
    let cli = Cli::new("http://127.0.0.1:1");
    let config = cli.home.path().join("parla.toml");
    std::fs::write(
        &config,
        format!(
            "profile = \"local\"\n[profiles.local]\nserver = \"{}\"\ntoken = \"{token}\"\n",
            t.url()
        ),
    )
    .unwrap();
    // The profile's server wins over nothing, but PARLA_SERVER (set by `cmd`) wins over it,
    // so remove it for this run.
    let mut c = cli.cmd(&["--config", config.to_str().unwrap(), "--json", "channels"]);
    c.env_remove("PARLA_SERVER");
    let o = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o), serde_json::json!([]));

    std::fs::write(&config, "[profiles.local]\nserver = \n").unwrap();
    let o = cli
        .run(&["--config", config.to_str().unwrap(), "channels"], &[])
        .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
}

#[tokio::test]
async fn watch_streams_ndjson_events() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let ch = alice.open_direct("bob").await.unwrap().channel_id;
    let cli = Cli::new(&t.url());
    let bob_token = t.token("bob").await;
    let mut child = tokio::process::Command::from(cli.cmd(&["--json", "watch"]))
        .env("PARLA_TOKEN", &bob_token)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut sent = false;
    let found = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            if v["event"] == "ready" && !sent {
                sent = true;
                alice.send(&ch, "w1", "watch this").await.unwrap();
            }
            if v["event"] == "message" {
                return v;
            }
        }
        panic!("watch ended");
    })
    .await
    .expect("no message event");
    assert_eq!(found["message"]["text"], "watch this");
    assert_eq!(found["message"]["sender"], "alice");
    child.kill().await.unwrap();
}

/// `parla config path` names the files it reads; `parla config check` loads them all and
/// reports each problem with its file and line, exit 2.
#[test]
fn config_path_and_check_explain_and_report_errors() {
    let cli = Cli::new("http://127.0.0.1:9");
    let dir = cli.home.path().join("config").join("parla");
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| cli.cmd(args).output().unwrap();

    let out = run(&["--json", "config", "path"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert!(v["config"]["path"]
        .as_str()
        .unwrap()
        .ends_with("parla/config.toml"));
    assert_eq!(v["config"]["exists"], false);
    assert!(v["keymap"]["path"]
        .as_str()
        .unwrap()
        .ends_with("parla/keymap.toml"));
    assert!(v["theme"]["path"]
        .as_str()
        .unwrap()
        .ends_with("parla/theme.toml"));

    // Nothing there: defaults, fine.
    let out = run(&["config", "check"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A good file with every interface setting.
    std::fs::write(
        dir.join("config.toml"),
        "keymap = \"vim\"\ntheme = \"light\"\nlanguage = \"pt\"\n[audio]\nbackend = \"null\"\nring = false\ndscp = 34\n",
    )
    .unwrap();
    let out = run(&["config", "check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A DSCP beyond six bits is named.
    std::fs::write(dir.join("config.toml"), "[audio]\ndscp = 64\n").unwrap();
    let out = run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("dscp 64"), "{}", stderr(&out));
    let out = run(&["--json", "config", "path"]);
    assert_eq!(json(&out)["config"]["exists"], true);

    // Broken: a bad line in the config, an unknown action in the keymap, a bad colour in
    // the theme. Each is named.
    std::fs::write(dir.join("config.toml"), "theme = \"light\"\nlanguage = \n").unwrap();
    std::fs::write(
        dir.join("keymap.toml"),
        "[[keys]]\nmode = \"global\"\non = [\"x\"]\nrun = \"explode\"\ndesc = \"?\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("theme.toml"),
        "[header]\ncolor = \"chartreuse-ish\"\nbackground = \"black\"\n",
    )
    .unwrap();
    let out = run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("config_invalid"), "{err}");
    assert!(
        err.contains("config.toml") && err.contains("line 2"),
        "{err}"
    );
    assert!(
        err.contains("keymap.toml") && err.contains("explode"),
        "{err}"
    );
    assert!(
        err.contains("theme.toml: line 1: `header`") && err.contains("chartreuse-ish"),
        "{err}"
    );

    // An unknown setting value is caught too.
    std::fs::remove_file(dir.join("keymap.toml")).unwrap();
    std::fs::remove_file(dir.join("theme.toml")).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "language = \"klingon\"\n[audio]\nbackend = \"tape\"\n",
    )
    .unwrap();
    let out = run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("klingon") && err.contains("tape"), "{err}");
}

/// Every problem of the config file in one run, each with its line.
#[test]
fn config_check_reports_every_problem_with_its_line() {
    let cli = Cli::new("http://127.0.0.1:9");
    let dir = cli.home.path().join("config").join("parla");
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| cli.cmd(args).output().unwrap();
    // A wrong server address is one of them.
    std::fs::write(
        dir.join("config.toml"),
        "colour = 1
[profiles.work]
server = \"htp://chat.example.org\"
[audio]
dscp = 99
",
    )
    .unwrap();
    let out = run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("line 1: unknown setting `colour`"), "{err}");
    assert!(
        err.contains("line 3: server `htp://chat.example.org`"),
        "{err}"
    );
    assert!(err.contains("line 5: audio dscp 99"), "{err}");
}

/// The interface's entry points refuse bad input up front, with a code and exit 2: no
/// terminal, a broken tour, a silly size.
#[test]
fn the_interface_and_the_demo_refuse_bad_input() {
    let cli = Cli::new("http://127.0.0.1:9");
    let run = |args: &[&str]| cli.cmd(args).output().unwrap();

    // Standard output is not a terminal here.
    let out = run(&["--token", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("needs a terminal"),
        "{}",
        stderr(&out)
    );

    let tour = cli.home.path().join("broken.tour");
    std::fs::write(&tour, "expect Connected\nkye tab\n").unwrap();
    let out = run(&["demo", "--script", tour.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("script_invalid") && err.contains("line 2") && err.contains("kye"),
        "{err}"
    );

    let out = run(&["demo", "--script", "/nonexistent/tour"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    std::fs::write(&tour, "quit\n").unwrap();
    for size in ["10x5", "wide", "100x"] {
        let out = run(&["demo", "--script", tour.to_str().unwrap(), "--size", size]);
        assert_eq!(out.status.code(), Some(2), "{size}: {}", stderr(&out));
    }
}

/// Tab in bash, through the script `parla completions bash` prints: subcommands, user ids
/// and #groups from the server the command would use, `--audio` values; and nothing (but
/// no error and no wait beyond the limit) when the server is not there.
#[tokio::test]
async fn bash_completes_users_groups_and_audio_values_from_the_server() {
    let t = TestServer::start().await;
    let cli = Cli::new(&t.url());
    for (u, name) in [("alice", "Alice A"), ("bob", "Bob B"), ("carol", "Carol C")] {
        let o = cli
            .run(&["admin", "user", "add", u, "--name", name], &[KEY])
            .await;
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let token = stdout(&cli.run(&["admin", "token", "alice"], &[KEY]).await)
        .trim()
        .to_owned();
    let alice = [("PARLA_TOKEN", token.as_str())];
    let o = cli.run(&["group", "#lunch", "bob"], &alice).await;
    assert!(o.status.success(), "{}", stderr(&o));

    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_parla"))
        .parent()
        .unwrap()
        .to_owned();
    // Completes `words`, the last being the word under the cursor, as bash would on Tab.
    let complete = |words: &[&str], token: &str| {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let script = format!(
            "source <(parla completions bash)\n\
             COMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_TYPE=9\n\
             _clap_complete_parla parla '{cur}' '{prev}'\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            words = quoted.join(" "),
            cword = words.len() - 1,
            cur = words[words.len() - 1],
            prev = words[words.len() - 2],
        );
        let mut c = std::process::Command::new("bash");
        c.args(["--norc", "-c", &script])
            .env_clear()
            .env(
                "PATH",
                format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
            )
            .env("HOME", cli.home.path())
            .env("XDG_CONFIG_HOME", cli.home.path().join("config"))
            .env("PARLA_SERVER", &cli.server)
            .env("PARLA_TOKEN", token)
            .stdin(Stdio::null());
        async move {
            let o = tokio::task::spawn_blocking(move || c.output().unwrap())
                .await
                .unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
            stdout(&o)
                .lines()
                .map(str::to_owned)
                .collect::<Vec<String>>()
        }
    };
    let subcommands = complete(&["parla", "hi"], &token).await;
    assert_eq!(subcommands, vec!["history"], "{subcommands:?}");
    // Users other than yourself.
    let users = complete(&["parla", "call", ""], &token).await;
    assert!(users.contains(&"bob".to_owned()), "{users:?}");
    assert!(users.contains(&"carol".to_owned()), "{users:?}");
    assert!(!users.contains(&"alice".to_owned()), "{users:?}");
    assert_eq!(
        complete(&["parla", "call", "ca"], &token).await,
        vec!["carol"]
    );
    assert_eq!(
        complete(&["parla", "ctl", "dial", "b"], &token).await,
        vec!["bob"]
    );
    // Conversations: users and #groups.
    let targets = complete(&["parla", "send", ""], &token).await;
    assert!(targets.contains(&"#lunch".to_owned()), "{targets:?}");
    assert!(targets.contains(&"bob".to_owned()), "{targets:?}");
    assert_eq!(
        complete(&["parla", "history", "#"], &token).await,
        vec!["#lunch"]
    );
    // `--audio` takes three values.
    let mut audio = complete(&["parla", "call", "bob", "--audio", ""], &token).await;
    audio.sort();
    assert_eq!(audio, vec!["device", "file", "null"]);
    // A forged token: no names, no error.
    let none = complete(&["parla", "call", ""], "forged.token.here").await;
    assert!(
        none.iter().all(|w| w.is_empty() || w.starts_with('-')),
        "{none:?}"
    );
}

/// `parla calls`: the history as lines and JSON, marking missed calls seen, deleting.
#[tokio::test]
async fn calls_lists_the_history_marks_missed_seen_and_deletes() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, _a) = t.client("alice").await;
    let (_bob, mut b) = t.client("bob").await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_for("ring", |e| {
        matches!(e, parla::client::Event::CallIncoming { .. })
    })
    .await;
    alice.hangup(&room).await.unwrap();
    b.wait_for("recorded", |e| {
        matches!(e, parla::client::Event::CallHistory { .. })
    })
    .await;
    let cli = Cli::new(&t.url());
    let token = t.token("bob").await;
    let bob = [("PARLA_TOKEN", token.as_str())];
    let o = cli.run(&["calls"], &bob).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("MISSED") && out.contains("alice") && out.contains(&room),
        "{out}"
    );
    assert!(out.contains("1 missed call(s) unseen"), "{out}");
    let o = cli.run(&["--json", "calls", "--missed"], &bob).await;
    let page = json(&o);
    assert_eq!(page["entries"][0]["room_id"], room.as_str());
    assert_eq!(page["entries"][0]["missed"], true);
    assert_eq!(page["missed_unseen"], 1);
    let o = cli.run(&["--json", "calls", "seen"], &bob).await;
    assert_eq!(json(&o)["missed_unseen"], 0);
    let o = cli.run(&["calls"], &bob).await;
    assert!(!stdout(&o).contains("MISSED"), "{}", stdout(&o));
    let o = cli.run(&["--json", "calls", "rm", "call_nope"], &bob).await;
    assert!(!o.status.success());
    assert!(stderr(&o).contains("call_not_found"), "{}", stderr(&o));
    let o = cli.run(&["calls", "rm", &room], &bob).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let o = cli.run(&["--json", "calls"], &bob).await;
    assert_eq!(json(&o)["entries"], serde_json::json!([]));
}
