//! The call rooms' rules, without sockets or clocks.

use super::*;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn calls() -> Calls {
    Calls::new(Duration::from_mins(1))
}

fn ended_for(effects: &[Effect], user: &str) -> Option<EndReason> {
    effects.iter().find_map(|e| match e {
        Effect::ToUsers {
            users,
            frame: ServerFrame::CallEnded { reason, .. },
        } if users.iter().any(|u| u == user) => Some(*reason),
        _ => None,
    })
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(std::string::ToString::to_string).collect()
}

#[test]
fn answer_on_one_device_stops_the_others() {
    let mut c = calls();
    let (call, fx) = c.dial("alice", "a1", &s(&["bob"]), &[], t0()).unwrap();
    assert!(
        matches!(&fx[0], Effect::ToUsers { users, frame: ServerFrame::CallIncoming { .. } } if users == &s(&["bob"]))
    );
    let (call2, fx) = c.answer("bob", "b2", &call.room_id, t0()).unwrap();
    assert_eq!(call2.status, CallStatus::Connected);
    assert!(fx.iter().any(|e| matches!(e,
        Effect::ToOtherDevices { user, except_device, frame: ServerFrame::CallEnded { reason: EndReason::AnsweredOnAnotherDevice, .. } }
        if user == "bob" && except_device == "b2")));
    assert!(fx.iter().any(|e| matches!(e, Effect::Busy { user, device, with } if user == "bob" && device == "b2" && with == &s(&["alice"]))));
    // A second answer is refused.
    assert_eq!(
        c.answer("bob", "b1", &call.room_id, t0()).unwrap_err().code,
        ErrorCode::InvalidCallStatus
    );
    // 1:1: the first hang-up ends it for both.
    let (ended, fx) = c.hangup("bob", "b2", &call.room_id, t0()).unwrap();
    assert_eq!(ended.end_reason, Some(EndReason::HangUp));
    assert_eq!(ended_for(&fx, "alice"), Some(EndReason::HangUp));
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Free { user, .. } if user == "alice")));
    assert_eq!(
        c.answer("bob", "b1", &call.room_id, t0()).unwrap_err().code,
        ErrorCode::InvalidCallStatus
    );
}

#[test]
fn decline_cancel_and_timeout() {
    let mut c = calls();
    let (call, _) = c.dial("alice", "a1", &s(&["bob"]), &[], t0()).unwrap();
    let (ended, fx) = c
        .decline("bob", &call.room_id, DeclineReason::DoNotDisturb, t0())
        .unwrap();
    assert_eq!(ended.end_reason, Some(EndReason::Declined));
    assert_eq!(
        ended.participant("bob").unwrap().decline_reason,
        Some(DeclineReason::DoNotDisturb)
    );
    assert_eq!(ended_for(&fx, "alice"), Some(EndReason::Declined));

    let (call, _) = c.dial("alice", "a1", &s(&["bob"]), &[], t0()).unwrap();
    let (ended, fx) = c.hangup("alice", "a1", &call.room_id, t0()).unwrap();
    assert_eq!(ended.end_reason, Some(EndReason::Canceled));
    assert_eq!(ended_for(&fx, "bob"), Some(EndReason::Canceled));

    let (call, _) = c.dial("alice", "a1", &s(&["bob"]), &[], t0()).unwrap();
    assert!(c.tick(t0() + chrono::Duration::seconds(59)).is_empty());
    let fx = c.tick(t0() + chrono::Duration::seconds(60));
    assert_eq!(ended_for(&fx, "bob"), Some(EndReason::Timeout));
    assert_eq!(ended_for(&fx, "alice"), Some(EndReason::Timeout));
    assert_eq!(c.get(&call.room_id).unwrap().status, CallStatus::Ended);
    // Ended rooms are forgotten after a while.
    c.tick(t0() + chrono::Duration::minutes(20));
    assert!(c.get(&call.room_id).is_none());
}

#[test]
fn busy_rules() {
    let mut c = calls();
    let (call, _) = c.dial("alice", "a1", &s(&["bob"]), &[], t0()).unwrap();
    assert_eq!(
        c.dial("alice", "a1", &s(&["carol"]), &[], t0())
            .unwrap_err()
            .code,
        ErrorCode::AnotherCallInProgress
    );
    assert_eq!(
        c.dial("alice", "a2", &s(&["carol"]), &[], t0())
            .unwrap_err()
            .code,
        ErrorCode::CurrentUserBusy
    );
    c.answer("bob", "b1", &call.room_id, t0()).unwrap();
    assert_eq!(c.busy_with("alice", "a1"), Some(s(&["bob"])));
    assert_eq!(c.busy_with("alice", "a2"), None);
    assert_eq!(
        c.dial("alice", "a1", &s(&["alice"]), &[], t0())
            .unwrap_err()
            .code,
        ErrorCode::ValidationError
    );
    assert_eq!(
        c.dial("zed", "z", &s(&["a", "b", "c", "d"]), &[], t0())
            .unwrap_err()
            .code,
        ErrorCode::ValidationError
    );
    assert_eq!(
        c.answer("erin", "e1", "call_nope", t0()).unwrap_err().code,
        ErrorCode::CallNotFound
    );
}

#[test]
fn call_waiting_rings_and_holding_lets_the_device_answer() {
    let mut c = calls();
    let (call, _) = c.dial("alice", "a1", &s(&["bob"]), &[], t0()).unwrap();
    c.answer("bob", "b1", &call.room_id, t0()).unwrap();
    // Someone in a call still rings (call waiting), but cannot answer until they hold
    // the live one.
    let (waiting, fx) = c.dial("carol", "c1", &s(&["bob"]), &[], t0()).unwrap();
    assert!(fx.iter().any(|e| matches!(e, Effect::ToUsers { users, frame: ServerFrame::CallIncoming { .. } } if users == &s(&["bob"]))));
    assert_eq!(
        c.answer("bob", "b1", &waiting.room_id, t0())
            .unwrap_err()
            .code,
        ErrorCode::AnotherCallInProgress
    );
    assert_eq!(
        c.answer("bob", "b2", &waiting.room_id, t0())
            .unwrap_err()
            .code,
        ErrorCode::CurrentUserBusy
    );
    // Only the device in the call holds it.
    assert_eq!(
        c.hold("bob", "b2", &call.room_id, true, t0())
            .unwrap_err()
            .code,
        ErrorCode::InvalidCallStatus
    );
    let (held, fx) = c.hold("bob", "b1", &call.room_id, true, t0()).unwrap();
    assert!(held.participant("bob").unwrap().held);
    assert!(matches!(
        &fx[..],
        [Effect::ToUsers {
            frame: ServerFrame::CallUpdated { .. },
            ..
        }]
    ));
    // Holding again changes nothing and tells no one.
    assert!(c
        .hold("bob", "b1", &call.room_id, true, t0())
        .unwrap()
        .1
        .is_empty());
    c.answer("bob", "b1", &waiting.room_id, t0()).unwrap();
    // Busy with both calls' parties; leaving one keeps the device busy with the other.
    assert_eq!(c.busy_with("bob", "b1"), Some(s(&["alice", "carol"])));
    let fx = c.hangup("carol", "c1", &waiting.room_id, t0()).unwrap().1;
    let fx = c.presence_after(fx);
    assert!(fx.iter().any(|e| matches!(e, Effect::Busy { user, device, with } if user == "bob" && device == "b1" && with == &s(&["alice"]))));
    assert!(!fx
        .iter()
        .any(|e| matches!(e, Effect::Free { user, .. } if user == "bob")));
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Free { user, .. } if user == "carol")));
    // Bob, with his one call held, may dial; resuming it while the new one is live is
    // his client's business (it holds the other first).
    let (second, _) = c.dial("bob", "b1", &s(&["dave"]), &[], t0()).unwrap();
    c.hangup("bob", "b1", &second.room_id, t0()).unwrap();
    c.hold("bob", "b1", &call.room_id, false, t0()).unwrap();
    assert_eq!(
        c.dial("bob", "b1", &s(&["dave"]), &[], t0())
            .unwrap_err()
            .code,
        ErrorCode::AnotherCallInProgress
    );
}

#[test]
fn a_device_takes_a_bounded_number_of_held_calls() {
    let mut c = calls();
    let mut rooms = Vec::new();
    for (i, callee) in ["u1", "u2", "u3", "u4"].iter().enumerate() {
        let (call, _) = c.dial("hub", "h1", &s(&[callee]), &[], t0()).unwrap();
        c.answer(callee, "d", &call.room_id, t0()).unwrap();
        c.hold("hub", "h1", &call.room_id, true, t0()).unwrap();
        rooms.push(call.room_id);
        assert_eq!(c.busy_with("hub", "h1").map(|w| w.len()), Some(i + 1));
    }
    assert_eq!(rooms.len(), MAX_CALLS_PER_DEVICE);
    let e = c.dial("hub", "h1", &s(&["u5"]), &[], t0()).unwrap_err();
    assert_eq!(e.code, ErrorCode::AnotherCallInProgress);
    // Nobody can ring a device that has as many calls as it takes.
    assert_eq!(
        c.dial("u5", "d", &s(&["hub"]), &[], t0()).unwrap_err().code,
        ErrorCode::AllUsersBusy
    );
    // One ends: there is room again.
    c.hangup("u1", "d", &rooms[0], t0()).unwrap();
    c.dial("hub", "h1", &s(&["u5"]), &[], t0()).unwrap();
}

#[test]
fn an_ended_call_is_not_found_for_someone_who_was_never_in_it() {
    let mut c = calls();
    let (call, _) = c.dial("alice", "a1", &s(&["bob"]), &[], t0()).unwrap();
    let id = call.room_id.clone();
    // While it rings, an outsider cannot tell it from a call that never was.
    assert_eq!(
        c.answer("erin", "e1", &id, t0()).unwrap_err().code,
        ErrorCode::CallNotFound
    );
    c.hangup("alice", "a1", &id, t0()).unwrap();
    for e in [
        c.answer("erin", "e1", &id, t0()).unwrap_err(),
        c.decline("erin", &id, DeclineReason::DoNotDisturb, t0())
            .unwrap_err(),
        c.hangup("erin", "e1", &id, t0()).unwrap_err(),
        c.signal_target("erin", "e1", &id, "alice").unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::CallNotFound, "{e}");
    }
    // Its participants still learn that it ended.
    assert_eq!(
        c.answer("bob", "b1", &id, t0()).unwrap_err().code,
        ErrorCode::InvalidCallStatus
    );
}

#[test]
fn a_group_call_goes_on_while_two_remain() {
    let mut c = calls();
    let (call, _) = c
        .dial("alice", "a1", &s(&["bob", "carol"]), &[], t0())
        .unwrap();
    let id = call.room_id.clone();
    c.answer("bob", "b1", &id, t0()).unwrap();
    c.answer("carol", "c1", &id, t0()).unwrap();
    let (after, fx) = c.hangup("alice", "a1", &id, t0()).unwrap();
    assert_eq!(after.status, CallStatus::Connected);
    assert_eq!(ended_for(&fx, "bob"), None);
    assert_eq!(c.signal_target("bob", "b1", &id, "carol").unwrap(), "c1");
    assert_eq!(
        c.signal_target("bob", "b2", &id, "carol").unwrap_err().code,
        ErrorCode::InvalidCallStatus,
        "only the device in the call may signal"
    );
    assert_eq!(
        c.signal_target("bob", "b1", &id, "alice").unwrap_err().code,
        ErrorCode::InvalidCallStatus
    );
    let (ended, fx) = c.hangup("carol", "c1", &id, t0()).unwrap();
    assert_eq!(ended.end_reason, Some(EndReason::HangUp));
    assert_eq!(ended_for(&fx, "bob"), Some(EndReason::HangUp));
}

#[test]
fn a_group_call_with_nobody_left_in_it_ends() {
    let mut c = calls();
    let (call, _) = c
        .dial("alice", "a1", &s(&["bob", "carol", "dave"]), &[], t0())
        .unwrap();
    let id = call.room_id.clone();
    c.answer("bob", "b1", &id, t0()).unwrap();
    c.hangup("alice", "a1", &id, t0()).unwrap();
    let (ended, fx) = c.hangup("bob", "b1", &id, t0()).unwrap();
    assert_eq!(ended.status, CallStatus::Ended);
    assert_eq!(ended_for(&fx, "carol"), Some(EndReason::HangUp));
}

#[test]
fn a_dialing_device_that_disconnects_cancels_its_call() {
    let mut c = calls();
    let (call, _) = c.dial("alice", "a1", &s(&["bob"]), &[], t0()).unwrap();
    assert!(c.device_gone("alice", "a2", t0()).is_empty());
    let fx = c.device_gone("alice", "a1", t0());
    assert_eq!(ended_for(&fx, "bob"), Some(EndReason::Canceled));
    assert_eq!(
        c.get(&call.room_id).unwrap().end_reason,
        Some(EndReason::Canceled)
    );
}

#[test]
fn a_device_gone_longer_than_the_grace_period_leaves_its_call() {
    let grace = Duration::from_secs(8);
    let secs = chrono::Duration::seconds;
    let mut c = calls();
    let (call, _) = c.dial("alice", "a1", &s(&["bob"]), &[], t0()).unwrap();
    let id = call.room_id.clone();
    c.answer("bob", "b1", &id, t0()).unwrap();
    assert!(
        c.device_gone("bob", "b1", t0()).is_empty(),
        "the call goes on"
    );
    assert_eq!(c.calls_of("bob", "b1").len(), 1, "ready lists it");
    assert!(c
        .expire_away(t0() + secs(7), grace, |_, _| false)
        .is_empty());
    // Back in time: it keeps the call.
    c.device_back("bob", "b1");
    assert!(c
        .expire_away(t0() + secs(30), grace, |_, _| false)
        .is_empty());
    assert_eq!(c.get(&id).unwrap().status, CallStatus::Connected);
    // Gone again, and a new connection of the same device does not count as gone.
    c.device_gone("bob", "b1", t0() + secs(30));
    assert!(c
        .expire_away(t0() + secs(40), grace, |_, _| true)
        .is_empty());
    // Gone for good.
    c.device_gone("bob", "b1", t0() + secs(50));
    let fx = c.expire_away(t0() + secs(58), grace, |_, _| false);
    assert_eq!(ended_for(&fx, "alice"), Some(EndReason::ConnectionLost));
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Free { user, device } if user == "bob" && device == "b1")));
    assert_eq!(
        c.get(&id).unwrap().end_reason,
        Some(EndReason::ConnectionLost)
    );
    assert!(c.calls_of("bob", "b1").is_empty());
    // When it comes back it is told, with the reason; another device of bob's is not.
    let over = c.over_for("bob", "b1");
    assert_eq!(over.len(), 1);
    assert_eq!(over[0].1, EndReason::ConnectionLost);
    assert!(c.over_for("bob", "b2").is_empty());
}

#[test]
fn a_party_ends_a_call_with_the_reason_its_media_gave() {
    let mut c = calls();
    let (call, _) = c.dial("alice", "a1", &s(&["bob"]), &[], t0()).unwrap();
    c.answer("bob", "b1", &call.room_id, t0()).unwrap();
    let (ended, fx) = c
        .hangup_because(
            "bob",
            "b1",
            &call.room_id,
            EndReason::IncompatibleMedia,
            t0(),
        )
        .unwrap();
    assert_eq!(ended.end_reason, Some(EndReason::IncompatibleMedia));
    assert_eq!(ended_for(&fx, "alice"), Some(EndReason::IncompatibleMedia));
}

#[test]
fn do_not_disturb_declines_without_ringing() {
    let mut c = calls();
    // 1:1: nobody rings, the call ends declined as it starts and the caller is free.
    let (call, fx) = c
        .dial("alice", "a1", &s(&["bob"]), &s(&["bob"]), t0())
        .unwrap();
    assert_eq!(call.status, CallStatus::Ended);
    assert_eq!(call.end_reason, Some(EndReason::Declined));
    let bob = call.participant("bob").unwrap();
    assert_eq!(bob.state, ParticipantState::Declined);
    assert_eq!(bob.decline_reason, Some(DeclineReason::DoNotDisturb));
    assert!(!fx.iter().any(|e| matches!(
        e,
        Effect::ToUsers {
            frame: ServerFrame::CallIncoming { .. },
            ..
        } | Effect::Busy { .. }
    )));
    assert_eq!(ended_for(&fx, "alice"), Some(EndReason::Declined));
    assert!(c.live_calls_of("alice").next().is_none());
    // A group: the others ring; the one not to disturb is declined and hears nothing.
    let (call, fx) = c
        .dial("alice", "a1", &s(&["bob", "carol"]), &s(&["bob"]), t0())
        .unwrap();
    assert_eq!(call.status, CallStatus::Dialing);
    assert!(fx.iter().any(|e| matches!(e,
        Effect::ToUsers { users, frame: ServerFrame::CallIncoming { .. } } if users == &s(&["carol"]))));
    assert_eq!(
        call.participant("bob").unwrap().decline_reason,
        Some(DeclineReason::DoNotDisturb)
    );
    let (call, _) = c.answer("carol", "c1", &call.room_id, t0()).unwrap();
    assert_eq!(call.status, CallStatus::Connected);
}
