//! Call history: when a call ends, every party gets a record of how it went for them,
//! written by one task (off the call rooms' lock) and announced to the user's devices as a
//! `call_history` frame.

use std::sync::{Arc, Weak};

use tokio::sync::mpsc;

use super::AppState;
use crate::proto::{
    Call, CallDirection, CallHistoryChange, CallLogEntry, ParticipantState, ServerFrame,
};

/// How call `call` (ended) went for `user`.
#[must_use]
pub fn entry_for(call: &Call, user: &str) -> Option<CallLogEntry> {
    let me = call.participant(user)?;
    let ended_at = call.ended_at?;
    let end_reason = call.end_reason?;
    let by = |pick: fn(&crate::proto::CallParticipant) -> Option<&String>| {
        call.participants
            .iter()
            .find(|p| pick(p).is_some_and(|to| to == user))
            .map(|p| p.user_id.clone())
    };
    let answered = call.answered_at.filter(|_| {
        // The user took part (a callee who answered, or the caller of an answered call).
        call.caller == user
            || matches!(
                me.state,
                ParticipantState::Left | ParticipantState::Transferred
            )
    });
    let duration_s = answered.map_or(0, |a| (ended_at - a).num_seconds().max(0).unsigned_abs());
    Some(CallLogEntry {
        seq: 0,
        room_id: call.room_id.clone(),
        direction: if call.caller == user {
            CallDirection::Outgoing
        } else {
            CallDirection::Incoming
        },
        with: call
            .participants
            .iter()
            .filter(|p| p.user_id != user)
            .map(|p| p.user_id.clone())
            .collect(),
        created_at: call.created_at,
        answered_at: answered,
        ended_at,
        duration_s,
        end_reason,
        missed: me.state == ParticipantState::Missed,
        seen: false,
        forwarded_to: me.forwarded_to.clone(),
        transferred_to: me.transferred_to.clone(),
        forwarded_by: by(|p| p.forwarded_to.as_ref()),
        transferred_by: by(|p| p.transferred_to.as_ref()),
    })
}

/// Starts the task that records ended calls; returns where to send them.
pub fn start_writer(state: Weak<AppState>) -> mpsc::UnboundedSender<Call> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Call>();
    tokio::spawn(async move {
        while let Some(call) = rx.recv().await {
            let Some(state) = state.upgrade() else {
                break;
            };
            record(&state, &call).await;
        }
    });
    tx
}

async fn record(state: &Arc<AppState>, call: &Call) {
    // Guests have no account, so no history.
    for p in call.participants.iter().filter(|p| !p.guest) {
        let Some(entry) = entry_for(call, &p.user_id) else {
            continue;
        };
        let user = p.user_id.clone();
        let stored = state
            .store(move |s| {
                let entry = s.log_call(&user, &entry)?;
                Ok((entry, s.missed_unseen(&user)?))
            })
            .await;
        match stored {
            Ok((entry, missed_unseen)) => state.hub.send_to_users(
                std::slice::from_ref(&p.user_id),
                &ServerFrame::CallHistory {
                    change: CallHistoryChange::Added,
                    entry: Some(entry),
                    room_id: None,
                    missed_unseen,
                },
                None,
            ),
            Err(e) => {
                tracing::warn!(room = %call.room_id, user = %p.user_id, error = %e.message, "call not recorded in the history");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{CallParticipant, CallStatus, EndReason};

    fn party(user: &str, state: ParticipantState) -> CallParticipant {
        CallParticipant::new(user, state)
    }

    #[test]
    fn a_transfer_is_on_the_record_of_both_ends() {
        let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut bob = party("bob", ParticipantState::Transferred);
        bob.transferred_to = Some("carol".into());
        let call = Call {
            room_id: "call_1".into(),
            caller: "alice".into(),
            created_at: t0,
            status: CallStatus::Ended,
            participants: vec![
                party("alice", ParticipantState::Left),
                bob,
                party("carol", ParticipantState::Left),
            ],
            answered_at: Some(t0 + chrono::Duration::seconds(2)),
            ended_at: Some(t0 + chrono::Duration::seconds(62)),
            end_reason: Some(EndReason::HangUp),
        };
        let bob = entry_for(&call, "bob").unwrap();
        assert_eq!(bob.transferred_to.as_deref(), Some("carol"));
        assert_eq!(bob.direction, CallDirection::Incoming);
        let carol = entry_for(&call, "carol").unwrap();
        assert_eq!(carol.transferred_by.as_deref(), Some("bob"));
        assert_eq!(carol.duration_s, 60);
        let alice = entry_for(&call, "alice").unwrap();
        assert_eq!(alice.with, vec!["bob", "carol"]);
        assert_eq!(alice.direction, CallDirection::Outgoing);
        assert!(!alice.missed && !carol.missed);
        assert!(entry_for(&call, "zed").is_none());
    }
}
