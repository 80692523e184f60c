//! Voice messages in the real interface, headless with null audio, driven by keys: the
//! offer to leave one after a call nobody answered (recorded, sent, and in the callee's
//! mailbox), and the mailbox window (a message played, which marks it heard on every
//! device, then deleted).

mod common;

use common::headless::interface;
use common::*;
use parla::client::Event;
use parla::proto::{DeclineReason, VoicemailChange};

async fn finished(ui: tokio::task::JoinHandle<Result<(), String>>) {
    tokio::time::timeout(WAIT * 3, ui)
        .await
        .unwrap()
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interface_offers_a_voice_message_when_nobody_answers_and_sends_it() {
    let t = TestServer::start().await;
    t.users(&["carol", "bob"]).await;
    let (_dir, socket, ui) = interface(
        &t,
        "carol",
        "expect-timeout 30000\n\
         expect bob did not answer. Leave a voice message?\n\
         key r\n\
         expect Recording\n\
         wait 1000\n\
         key enter\n\
         expect Voice message left for bob\n\
         quit\n",
    )
    .await;
    let (bob, mut b) = t.client("bob").await;
    // Carol's interface dials; bob declines as not answering.
    common::headless::signed_in(&socket, "carol").await;
    parla::ctl::request(
        &socket,
        &parla::ctl::CtlRequest::Dial {
            users: vec!["bob".into()],
        },
    )
    .await
    .unwrap();
    let Event::CallIncoming { call } = b
        .wait_for("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await
    else {
        unreachable!()
    };
    bob.decline(&call.room_id, DeclineReason::NoAnswer)
        .await
        .unwrap();
    finished(ui).await;

    // The message is in bob's mailbox, after that call, from carol, unheard.
    let mailbox = t.rest_for("bob").await.voicemails().await.unwrap();
    assert_eq!(mailbox.voicemails.len(), 1, "{mailbox:?}");
    let v = &mailbox.voicemails[0];
    assert_eq!(
        (v.from.as_str(), v.room_id.as_str()),
        ("carol", call.room_id.as_str())
    );
    assert!(!v.heard);
    assert!(v.duration_ms > 0, "{v:?}");
    assert_eq!(mailbox.indicator.unheard_voice, 1);
}

/// Calling someone offline rings nowhere until they connect: the interface offers the
/// message at once, and recording gives the call up first. Dave is called from the
/// People pane, as a person does it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calling_someone_offline_offers_a_voice_message_at_once() {
    let t = TestServer::start().await;
    t.users(&["carol", "dave"]).await;
    let (_dir, _socket, ui) = interface(
        &t,
        "carol",
        "expect-timeout 30000\n\
         expect dave offline\n\
         key tab\n\
         type /dave\n\
         key enter\n\
         type c\n\
         expect dave is offline. Leave a voice message instead?\n\
         key r\n\
         expect Recording\n\
         wait 1000\n\
         key enter\n\
         expect Voice message left for dave\n\
         quit\n",
    )
    .await;
    finished(ui).await;

    // The call was given up (no ring timeout waited for), and the message is dave's.
    let log = t
        .rest_for("carol")
        .await
        .call_history(10, None, false)
        .await
        .unwrap();
    assert_eq!(log.entries.len(), 1, "{log:?}");
    let entry = &log.entries[0];
    assert_eq!(entry.with, vec!["dave".to_owned()]);
    let mailbox = t.rest_for("dave").await.voicemails().await.unwrap();
    assert_eq!(mailbox.voicemails.len(), 1, "{mailbox:?}");
    let v = &mailbox.voicemails[0];
    assert_eq!(
        (v.from.as_str(), v.room_id.as_str()),
        ("carol", entry.room_id.as_str())
    );
    assert!(entry.answered_at.is_none(), "{entry:?}");
    assert_eq!(
        entry.end_reason,
        parla::proto::EndReason::Canceled,
        "{entry:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mailbox_plays_a_message_which_is_then_heard_everywhere_and_deletes_it() {
    let t = TestServer::start().await;
    t.users(&["carol", "bob"]).await;
    // Carol's call goes unanswered and she leaves bob a message of 5 s.
    let (carol, mut c) = t.client("carol").await;
    let (bob, mut b) = t.client("bob").await;
    let room = carol.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_for("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.decline(&room, DeclineReason::NoAnswer).await.unwrap();
    c.wait_for(
        "the end",
        |e| matches!(e, Event::Call { view } if view.call.room_id == room && view.is_ended()),
    )
    .await;
    carol
        .rest()
        .leave_voicemail(&room, tone_message(440.0, 5000))
        .await
        .unwrap();

    // Bob opens his mailbox in the interface, plays the message and deletes it.
    let (_dir, _socket, ui) = interface(
        &t,
        "bob",
        "expect-timeout 30000\n\
         expect voice messages: 1 new\n\
         key alt-v\n\
         expect Voice messages\n\
         expect ▸ carol  \n\
         key enter\n\
         expect playing\n\
         key d\n\
         expect No voice messages.\n\
         key esc\n\
         quit\n",
    )
    .await;
    finished(ui).await;
    b.wait_seen("heard, on bob's other device", |e| {
        matches!(
            e,
            Event::Voicemail {
                change: VoicemailChange::Heard,
                ..
            }
        )
    })
    .await;
    let mailbox = t.rest_for("bob").await.voicemails().await.unwrap();
    assert!(mailbox.voicemails.is_empty(), "{mailbox:?}");
}
