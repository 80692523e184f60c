//! Profiles, the directory and the address book against the real server: what a user and
//! the admin set, pushed to everyone who sees the user; directory searches by each filter,
//! a page at a time; contacts added, changed and removed converging on two devices; all of
//! it kept across a restart; bad input refused with its code and nothing kept. And the same
//! through the `parla` command with `--json` and its exit codes.

mod common;

use common::cli::parla;
use common::*;
use parla::client::{Event, Rest};
use parla::proto::{
    ContactChange, ContactInput, DirectoryQuery, Profile, ProfileUpdate, SearchField, UserEntry,
};
use parla::server::{Server, ServerConfig};
use serde_json::{json, Value};

fn profile(first: &str, last: &str, user_name: &str, phone: &str) -> Profile {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Profile {
        first_name: some(first),
        last_name: some(last),
        user_name: some(user_name),
        work_phone: some(phone),
        ..Profile::default()
    }
}

fn updated<'a>(e: &'a Event, user: &str) -> Option<&'a UserEntry> {
    match e {
        Event::UserUpdated { user: u } if u.user_id == user => Some(u),
        _ => None,
    }
}

/// A raw request, to send what the typed client cannot; the status and the JSON answer.
async fn raw(
    t: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", t.url()));
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_profile_set_by_the_user_or_the_admin_reaches_everyone_who_sees_them() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (_bob, mut b) = t.client("bob").await;
    let (_alice, mut a) = t.client("alice").await;
    let alice = t.rest_for("alice").await;

    let shown = alice
        .set_profile(&ProfileUpdate {
            display_name: Some(" Alice Liddell ".into()),
            profile: Profile {
                email: Some(" alice@example.org ".into()),
                mobile_phone: Some("+44 20 7946 0000".into()),
                ..profile("Alice", "Liddell", "alice.l", "")
            },
        })
        .await
        .unwrap();
    // Kept trimmed.
    assert_eq!(shown.display_name, "Alice Liddell");
    assert_eq!(shown.profile.email.as_deref(), Some("alice@example.org"));
    assert_eq!(shown.profile.user_name.as_deref(), Some("alice.l"));

    // Bob sees the change live, and in every read of the user.
    let pushed = b
        .wait_for("alice's new profile", |e| updated(e, "alice").is_some())
        .await;
    assert_eq!(
        updated(&pushed, "alice").map(|u| &u.profile),
        Some(&shown.profile)
    );
    a.wait_for("alice's own devices told", |e| {
        updated(e, "alice").is_some()
    })
    .await;
    let bob = t.rest_for("bob").await;
    assert_eq!(bob.user("alice").await.unwrap().profile, shown.profile);
    let listed = bob.users(false).await.unwrap();
    let entry = listed.iter().find(|u| u.user_id == "alice").unwrap();
    assert_eq!(
        (&entry.display_name, &entry.profile),
        (&shown.display_name, &shown.profile)
    );
    assert_eq!(alice.me().await.unwrap().profile, shown.profile);

    // The profile is replaced whole; without a display name that one stays.
    let cleared = alice
        .set_profile(&ProfileUpdate {
            display_name: None,
            profile: profile("Alice", "", "", ""),
        })
        .await
        .unwrap();
    assert_eq!(cleared.display_name, "Alice Liddell");
    assert_eq!(cleared.profile, profile("Alice", "", "", ""));

    // The admin sets anyone's.
    let admin_set = t
        .admin()
        .admin_set_profile(
            "bob",
            &ProfileUpdate {
                display_name: Some("Robert".into()),
                profile: profile("Robert", "Builder", "bob", "555 0101"),
            },
        )
        .await
        .unwrap();
    assert_eq!(admin_set.display_name, "Robert");
    let seen = alice.user("bob").await.unwrap();
    assert_eq!(
        (seen.display_name.as_str(), &seen.profile),
        ("Robert", &admin_set.profile)
    );
    let err = t
        .admin()
        .admin_set_profile("nobody", &ProfileUpdate::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "user_not_found");
    assert_eq!(
        alice.user("nobody").await.unwrap_err().code(),
        "user_not_found"
    );
}

#[tokio::test]
async fn bad_profiles_are_refused_and_nothing_is_kept() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let bob = t.rest_for("bob").await;
    bob.set_profile(&ProfileUpdate {
        display_name: None,
        profile: profile("Bob", "", "Bobby", ""),
    })
    .await
    .unwrap();
    let alice = t.rest_for("alice").await;
    let kept = alice
        .set_profile(&ProfileUpdate {
            display_name: Some("Alice".into()),
            profile: profile("Alice", "", "alice", "555 0100"),
        })
        .await
        .unwrap();
    let token = t.token("alice").await;
    let cases = [
        (
            json!({"profile": {"user_name": "bobby"}}),
            409,
            "user_name_taken",
        ),
        (
            json!({"profile": {"user_name": "a b"}}),
            400,
            "validation_error",
        ),
        (
            json!({"profile": {"email": "nowhere"}}),
            400,
            "validation_error",
        ),
        (
            json!({"profile": {"home_phone": "call me"}}),
            400,
            "validation_error",
        ),
        (
            json!({"profile": {"first_name": "x".repeat(65)}}),
            400,
            "validation_error",
        ),
        (
            json!({"profile": {"last_name": "two\nlines"}}),
            400,
            "validation_error",
        ),
        (json!({"display_name": "   "}), 400, "validation_error"),
        (
            json!({"profile": {"first_name": 7}}),
            400,
            "malformed_request",
        ),
        (json!({"profile": [null, null]}), 400, "malformed_request"),
        (json!([null]), 400, "malformed_request"),
        (
            json!({"profile": {"user_name": ""}}),
            400,
            "validation_error",
        ),
        (
            json!({"profile": {"first_name": format!("{}x", " ".repeat(64))}}),
            400,
            "validation_error",
        ),
    ];
    for (body, status, code) in &cases {
        let (got, err) = raw(
            &t,
            reqwest::Method::PUT,
            "/v1/me/profile",
            Some(&token),
            Some(&body.to_string()),
        )
        .await;
        assert_eq!(
            (got, err["code"].as_str()),
            (*status, Some(*code)),
            "{body}"
        );
    }
    let (got, _) = raw(&t, reqwest::Method::PUT, "/v1/me/profile", None, Some("{}")).await;
    assert_eq!(got, 401);
    let (got, _) = raw(
        &t,
        reqwest::Method::PUT,
        "/v1/me/profile",
        Some("forged.token.here"),
        Some("{}"),
    )
    .await;
    assert_eq!(got, 401);
    let now = alice.user("alice").await.unwrap();
    assert_eq!(
        (now.display_name, now.profile),
        (kept.display_name, kept.profile)
    );
    // The same user name (any case) stays the owner's to keep.
    alice
        .set_profile(&ProfileUpdate {
            display_name: None,
            profile: profile("", "", "ALICE", ""),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_directory_finds_by_one_field_a_page_at_a_time() {
    let t = TestServer::start().await;
    let people = [
        ("ada", "Ada", "Lovelace", "ada.l", "+44 20 7946 0001"),
        ("alan", "Alan", "Turing", "turing", "+44 20 7946 0002"),
        (
            "grace",
            "Grace",
            "Hopper",
            "amazing.grace",
            "(212) 555-0103",
        ),
        ("edsger", "Edsger", "Dijkstra", "ewd", ""),
        ("barbara", "Barbara", "Liskov", "liskov", "617 555 0105"),
    ];
    for (id, first, last, user_name, phone) in people {
        t.admin().admin_create_user(id, None).await.unwrap();
        t.admin()
            .admin_set_profile(
                id,
                &ProfileUpdate {
                    display_name: Some(format!("{first} {last}")),
                    profile: profile(first, last, user_name, phone),
                },
            )
            .await
            .unwrap();
    }
    let rest = t.rest_for("ada").await;
    let ids = |page: &parla::proto::DirectoryPage| -> Vec<String> {
        page.users.iter().map(|u| u.user_id.clone()).collect()
    };
    for (field, text, want) in [
        (SearchField::Name, "TUR", vec!["alan"]),
        (
            SearchField::Name,
            "a",
            vec!["ada", "alan", "barbara", "edsger", "grace"],
        ),
        (SearchField::FirstName, "gra", vec!["grace"]),
        (SearchField::FirstName, "lov", vec![]),
        (SearchField::LastName, "kov", vec!["barbara"]),
        (SearchField::UserName, "GRACE", vec!["grace"]),
        (SearchField::UserId, "ed", vec!["edsger"]),
        (SearchField::PhoneNumber, "7946", vec!["ada", "alan"]),
        (SearchField::PhoneNumber, "212-555", vec!["grace"]),
        (SearchField::PhoneNumber, "555 0105", vec!["barbara"]),
    ] {
        let page = rest
            .directory(&DirectoryQuery::by(field, text))
            .await
            .unwrap();
        assert_eq!(ids(&page), want, "{field:?} {text:?}");
        assert_eq!(page.next, None);
    }
    // With presence, as the people list shows them.
    let page = rest
        .directory(&DirectoryQuery::by(SearchField::UserId, "ada"))
        .await
        .unwrap();
    assert_eq!(page.users[0].presence.user_id, "ada");

    // Everyone, two at a time: each once, in order, and the last page says so.
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..10 {
        let page = rest
            .directory(&DirectoryQuery {
                limit: Some(2),
                after: after.clone(),
                ..DirectoryQuery::default()
            })
            .await
            .unwrap();
        assert!(page.users.len() <= 2);
        seen.extend(ids(&page));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["ada", "alan", "barbara", "edsger", "grace"]);

    let token = t.token("ada").await;
    // A blank text is no filter.
    let all = rest
        .directory(&DirectoryQuery::by(SearchField::Name, "  "))
        .await
        .unwrap();
    assert_eq!(all.users.len(), 5);
    for query in ["by=nickname&q=a", "limit=0", "limit=201", "limit=ten"] {
        let (got, err) = raw(
            &t,
            reqwest::Method::GET,
            &format!("/v1/directory?{query}"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(
            (got, err["code"].as_str()),
            (400, Some("validation_error")),
            "{query}"
        );
    }
    let (got, _) = raw(&t, reqwest::Method::GET, "/v1/directory", None, None).await;
    assert_eq!(got, 401);
}

#[tokio::test]
async fn contacts_converge_on_every_device_and_bad_ones_are_refused() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob", "carol"]).await;
    let (_second, mut other_device) = t.client("alice").await;
    let alice = t.rest_for("alice").await;

    let added = alice
        .add_contact(&ContactInput {
            primary_contact: "bob".into(),
            first_name: Some(" Bob ".into()),
            mobile_phone: Some("555 0199".into()),
            ..ContactInput::default()
        })
        .await
        .unwrap();
    assert!(added.contact_id.starts_with("ct_"), "{added:?}");
    assert_eq!(added.first_name.as_deref(), Some("Bob"));
    assert_eq!(added.group_list, "friends");
    assert!(!added.friend_status);
    let told = other_device
        .wait_for("the other device told", |e| {
            matches!(
                e,
                Event::Contact {
                    change: ContactChange::Added,
                    ..
                }
            )
        })
        .await;
    assert!(matches!(told, Event::Contact { contact, .. } if contact == added));

    let changed = alice
        .update_contact(
            &added.contact_id,
            &ContactInput {
                primary_contact: "bob".into(),
                first_name: Some("Robert".into()),
                group_list: Some("work".into()),
                friend_status: true,
                ..ContactInput::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            changed.first_name.as_deref(),
            changed.mobile_phone.as_deref()
        ),
        (Some("Robert"), None),
        "a PUT replaces every field"
    );
    assert!(changed.friend_status);
    other_device
        .wait_for("updated", |e| {
            matches!(e, Event::Contact { change: ContactChange::Updated, contact }
                if contact.group_list == "work")
        })
        .await;
    let carol_contact = alice
        .add_contact(&ContactInput {
            primary_contact: "carol".into(),
            ..ContactInput::default()
        })
        .await
        .unwrap();
    let list = alice.contacts().await.unwrap();
    assert_eq!(list, vec![changed.clone(), carol_contact.clone()]);

    // Refused, with nothing changed: an unknown user, one in the book already (also by
    // pointing another contact at them), someone else's contact, bad fields.
    let token = t.token("alice").await;
    let post = |body: Value| {
        let token = token.clone();
        let t = &t;
        async move {
            raw(
                t,
                reqwest::Method::POST,
                "/v1/contacts",
                Some(&token),
                Some(&body.to_string()),
            )
            .await
        }
    };
    for (body, status, code) in [
        (json!({"primary_contact": "nobody"}), 404, "user_not_found"),
        (
            json!({"primary_contact": "bob"}),
            409,
            "contact_already_exists",
        ),
        (
            json!({"primary_contact": "not an id"}),
            400,
            "validation_error",
        ),
        (json!({"primary_contact": "alice"}), 400, "validation_error"),
        (
            json!({"primary_contact": "bob", "email_address": "x"}),
            400,
            "validation_error",
        ),
        (
            json!({"primary_contact": "bob", "group_list": "a\tb"}),
            400,
            "validation_error",
        ),
        (json!({"first_name": "no user"}), 400, "malformed_request"),
    ] {
        let (got, err) = post(body.clone()).await;
        assert_eq!((got, err["code"].as_str()), (status, Some(code)), "{body}");
    }
    let err = alice
        .update_contact(
            &carol_contact.contact_id,
            &ContactInput {
                primary_contact: "bob".into(),
                ..ContactInput::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "contact_already_exists");
    let bob = t.rest_for("bob").await;
    let err = bob
        .update_contact(
            &changed.contact_id,
            &ContactInput {
                primary_contact: "carol".into(),
                ..ContactInput::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "contact_not_found");
    assert_eq!(
        bob.remove_contact(&changed.contact_id)
            .await
            .unwrap_err()
            .code(),
        "contact_not_found"
    );
    assert!(bob.contacts().await.unwrap().is_empty());
    assert_eq!(alice.contacts().await.unwrap(), list);

    alice.remove_contact(&changed.contact_id).await.unwrap();
    other_device
        .wait_for("removed", |e| {
            matches!(e, Event::Contact { change: ContactChange::Removed, contact }
                if contact.contact_id == changed.contact_id)
        })
        .await;
    assert_eq!(alice.contacts().await.unwrap(), vec![carol_contact]);
    assert_eq!(
        alice
            .remove_contact(&changed.contact_id)
            .await
            .unwrap_err()
            .code(),
        "contact_not_found"
    );
}

#[tokio::test]
async fn profiles_and_contacts_are_kept_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().into());
        c.api_key = Some(API_KEY.into());
        c
    };
    let rest = |server: &Server, token: String| Rest::new(&server.url()).unwrap().with_token(token);

    let server = Server::start(config()).await.unwrap();
    let admin = Rest::new(&server.url()).unwrap().with_api_key(API_KEY);
    admin.admin_create_user("alice", None).await.unwrap();
    admin.admin_create_user("bob", None).await.unwrap();
    let alice = rest(&server, admin_token(&server.url(), "alice").await);
    let kept = alice
        .set_profile(&ProfileUpdate {
            display_name: Some("Alice L.".into()),
            profile: profile("Alice", "Liddell", "alice.l", "555 0100"),
        })
        .await
        .unwrap();
    let contact = alice
        .add_contact(&ContactInput {
            primary_contact: "bob".into(),
            first_name: Some("Bob".into()),
            friend_status: true,
            ..ContactInput::default()
        })
        .await
        .unwrap();
    server.shutdown().await;

    let server = Server::start(config()).await.unwrap();
    let alice = rest(&server, admin_token(&server.url(), "alice").await);
    let bob = rest(&server, admin_token(&server.url(), "bob").await);
    let seen = bob.user("alice").await.unwrap();
    assert_eq!(
        (seen.display_name, seen.profile),
        (kept.display_name, kept.profile)
    );
    assert_eq!(alice.contacts().await.unwrap(), vec![contact]);
    let found = bob
        .directory(&DirectoryQuery::by(SearchField::UserName, "alice.l"))
        .await
        .unwrap();
    assert_eq!(found.users.len(), 1);

    // A deleted user's address book goes with them.
    let admin = Rest::new(&server.url()).unwrap().with_api_key(API_KEY);
    admin.admin_delete_user("alice").await.unwrap();
    admin.admin_create_user("alice", None).await.unwrap();
    let alice = rest(&server, admin_token(&server.url(), "alice").await);
    assert!(alice.contacts().await.unwrap().is_empty());
    assert!(alice.user("alice").await.unwrap().profile.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn the_command_line_searches_sets_profiles_and_keeps_contacts() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let home = tempfile::tempdir().unwrap();
    let token = t.token("alice").await;
    let run = |args: &[&str]| {
        let mut c = parla(&t, home.path(), &token);
        c.arg("--json").args(args);
        c.output()
    };

    let out = succeeded(
        "profile set",
        std::time::Duration::from_secs(30),
        run(&[
            "profile",
            "set",
            "--first-name",
            "Alice",
            "--work-phone",
            "555 0100",
        ]),
    )
    .await;
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["profile"]["first_name"], "Alice");
    // Only the fields given change; an empty one clears.
    succeeded(
        "profile set again",
        std::time::Duration::from_secs(30),
        run(&[
            "profile",
            "set",
            "--last-name",
            "Liddell",
            "--work-phone",
            "",
        ]),
    )
    .await;
    let me = t.rest_for("bob").await.user("alice").await.unwrap();
    assert_eq!(me.profile, profile("Alice", "Liddell", "", ""));

    let out = succeeded(
        "users --search",
        std::time::Duration::from_secs(30),
        run(&["users", "--search", "lidd"]),
    )
    .await;
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["users"][0]["user_id"], "alice");
    assert_eq!(page["users"].as_array().map(Vec::len), Some(1));

    succeeded(
        "contacts add",
        std::time::Duration::from_secs(30),
        run(&["contacts", "add", "bob", "--first-name", "Bob", "--friend"]),
    )
    .await;
    succeeded(
        "contacts update",
        std::time::Duration::from_secs(30),
        run(&["contacts", "update", "bob", "--group", "work"]),
    )
    .await;
    let out = succeeded(
        "contacts",
        std::time::Duration::from_secs(30),
        run(&["contacts"]),
    )
    .await;
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["primary_contact"], "bob");
    assert_eq!(list[0]["first_name"], "Bob");
    assert_eq!(list[0]["group_list"], "work");
    assert_eq!(list[0]["friend_status"], true);

    // Exit codes: a missing contact or user is 5, a bad field 5 (validation), a taken one 1.
    for (args, code) in [
        (vec!["contacts", "rm", "carol"], 5),
        (vec!["contacts", "add", "nobody"], 5),
        (vec!["profile", "set", "--email", "nowhere"], 5),
        (vec!["users", "--by", "name"], 2),
    ] {
        let out = run(&args).await.unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    succeeded(
        "contacts rm",
        std::time::Duration::from_secs(30),
        run(&["contacts", "rm", "bob"]),
    )
    .await;
    assert!(t
        .rest_for("alice")
        .await
        .contacts()
        .await
        .unwrap()
        .is_empty());
}
