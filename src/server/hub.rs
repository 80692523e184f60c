//! The live side of the server: who is connected on which device, fan-out of frames to
//! them, and presence.
//!
//! Each WebSocket connection owns a bounded outbox; the hub only ever `try_send`s into it,
//! so one slow client cannot stall delivery to the others. A client whose outbox is full is
//! disconnected and catches up with `resume` when it reconnects (nothing is lost: every
//! message is stored before it is fanned out).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, Notify};

use crate::proto::{
    Activity, ApiError, Availability, DevicePresence, ErrorCode, Presence, PresenceSetting,
    PresenceStatus, ServerFrame, MAX_PRESENCE_SUBSCRIPTIONS,
};

/// Frames queued per connection before it counts as too slow.
pub const OUTBOX_CAPACITY: usize = 4096;

pub type ConnId = u64;

/// What a connection task is asked to write: one encoded frame.
pub type Outgoing = Utf8Bytes;

/// Close codes parla uses (4000-4999 is the application range).
pub mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    /// A frame broke the WebSocket framing rules.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text frame was not valid UTF-8 (RFC 6455 §7.4.1).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A frame was larger than the server reads.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    pub const TOKEN_EXPIRED: u16 = 4001;
    pub const FORCE_DISCONNECT: u16 = 4003;
    pub const TOO_SLOW: u16 = 4008;
}

/// Counts the live WebSocket tasks, so a shutdown can wait until each has sent its close
/// frame (the HTTP server stops tracking a connection once it is upgraded).
#[derive(Default)]
pub struct Sockets {
    live: AtomicUsize,
    idle: Notify,
    /// Sockets that ended since memory was last handed back to the system.
    ended: AtomicUsize,
}

/// Held by one socket's task; dropping it counts the socket out.
pub struct SocketGuard(Arc<Sockets>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.ended.fetch_add(1, Ordering::AcqRel);
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Sockets {
    pub fn enter(self: &Arc<Self>) -> SocketGuard {
        self.live.fetch_add(1, Ordering::AcqRel);
        SocketGuard(self.clone())
    }

    pub fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// How many sockets ended since the last call.
    pub fn take_ended(&self) -> usize {
        self.ended.swap(0, Ordering::AcqRel)
    }

    /// Waits until no socket task is left, or `limit` has passed; true when none is left.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let idle = self.idle.notified();
            if self.live() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.live() == 0;
            }
        }
    }
}

struct Conn {
    user_id: String,
    device_id: String,
    device_name: String,
    busy_with: Vec<String>,
    tx: mpsc::Sender<Outgoing>,
    /// Set when the hub drops the connection.
    kicked: Arc<Kicked>,
    /// Users this connection follows with `subscribe_presence`.
    subscriptions: usize,
    /// The call and chat of a session connected by access link: all it hears of.
    link: Option<LinkScope>,
}

/// What a session connected by access link is about: its call and the call's chat. Live
/// frames about anything else (other channels and calls, call history, voicemail,
/// presence) do not reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkScope {
    pub room_id: String,
    pub channel_id: String,
}

impl LinkScope {
    /// Whether `frame` concerns this call or its chat (or no channel or call at all).
    #[must_use]
    pub fn admits(&self, frame: &ServerFrame) -> bool {
        match frame {
            ServerFrame::Message { message } => message.channel_id == self.channel_id,
            ServerFrame::ChannelAdded { channel } => channel.channel_id == self.channel_id,
            ServerFrame::ChannelRemoved { channel_id, .. } => *channel_id == self.channel_id,
            ServerFrame::Read { state, .. } => state.channel_id == self.channel_id,
            ServerFrame::CallIncoming { call }
            | ServerFrame::CallUpdated { call, .. }
            | ServerFrame::CallEnded { call, .. }
            | ServerFrame::CallMoved { call, .. } => call.room_id == self.room_id,
            ServerFrame::CallSignal { room_id, .. } => *room_id == self.room_id,
            ServerFrame::CallHistory { .. }
            | ServerFrame::Voicemail { .. }
            | ServerFrame::Presence { .. } => false,
            _ => true,
        }
    }
}

/// The hub dropped a connection: why, as the close it should end with (kept here because
/// the connection's outbox may be too full to take the close frame).
#[derive(Default)]
pub struct Kicked {
    notify: Notify,
    close: Mutex<Option<(u16, &'static str)>>,
}

impl Kicked {
    fn kick(&self, code: u16, reason: &'static str) {
        if let Ok(mut c) = self.close.lock() {
            c.get_or_insert((code, reason));
        }
        self.notify.notify_one();
    }

    /// Waits until the connection has been dropped (cancel-safe: a kick is kept).
    pub async fn wait(&self) {
        self.notify.notified().await;
    }

    /// The close the hub asked for, if it said.
    pub fn close(&self) -> Option<(u16, &'static str)> {
        self.close.lock().ok().and_then(|c| *c)
    }
}

#[derive(Default)]
struct Inner {
    conns: HashMap<ConnId, Conn>,
    by_user: HashMap<String, HashSet<ConnId>>,
    presence_all: HashSet<ConnId>,
    presence_of: HashMap<String, HashSet<ConnId>>,
    /// What users set of their presence (kept in the store too; loaded at start).
    settings: HashMap<String, PresenceSetting>,
}

#[derive(Default)]
pub struct Hub {
    inner: Mutex<Inner>,
    next_id: AtomicU64,
}

/// What a connection task gets back from [`Hub::register`].
pub struct Registration {
    pub conn_id: ConnId,
    pub rx: mpsc::Receiver<Outgoing>,
    pub tx: mpsc::Sender<Outgoing>,
    pub kicked: Arc<Kicked>,
}

pub fn encode(frame: &ServerFrame) -> Utf8Bytes {
    // Serialising these plain structs cannot fail; an empty object is sent if it ever does.
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_else(|_| "{}".to_owned()))
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain maps behind; keep serving.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a device connection of `user_id` by access token.
    #[cfg(test)]
    pub fn register(&self, user_id: &str, device_id: &str, device_name: &str) -> Registration {
        self.register_session(user_id, device_id, device_name, None)
            .expect("no link sessions in these tests")
    }

    /// Checks that `user_id` may connect by access link (`by_link`) or by token: not while
    /// connected the other way (`session_conflict`).
    pub fn may_connect(&self, user_id: &str, by_link: bool) -> Result<(), ApiError> {
        Self::check_conflict(&self.lock(), user_id, by_link)
    }

    fn check_conflict(inner: &Inner, user_id: &str, by_link: bool) -> Result<(), ApiError> {
        let conflict = inner.by_user.get(user_id).is_some_and(|ids| {
            ids.iter().any(|id| {
                inner
                    .conns
                    .get(id)
                    .is_some_and(|c| c.link.is_some() != by_link)
            })
        });
        if !conflict {
            return Ok(());
        }
        let (now, other) = if by_link {
            ("access link", "access token")
        } else {
            ("access token", "access link")
        };
        Err(ApiError::new(
            ErrorCode::SessionConflict,
            format!(
                "`{user_id}` is connected by {other}; end that session before connecting by {now}"
            ),
        ))
    }

    /// Adds a connection, by access token (`link` absent) or by access link (to the call
    /// and chat of `link`). A user connected one way cannot connect the other way at the
    /// same time: `session_conflict`.
    pub fn register_session(
        &self,
        user_id: &str,
        device_id: &str,
        device_name: &str,
        link: Option<LinkScope>,
    ) -> Result<Registration, ApiError> {
        let conn_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(OUTBOX_CAPACITY);
        let kicked = Arc::new(Kicked::default());
        let mut inner = self.lock();
        Self::check_conflict(&inner, user_id, link.is_some())?;
        inner.conns.insert(
            conn_id,
            Conn {
                user_id: user_id.to_owned(),
                device_id: device_id.to_owned(),
                device_name: device_name.to_owned(),
                busy_with: Vec::new(),
                tx: tx.clone(),
                kicked: kicked.clone(),
                subscriptions: 0,
                link,
            },
        );
        inner
            .by_user
            .entry(user_id.to_owned())
            .or_default()
            .insert(conn_id);
        Self::broadcast_presence(&mut inner, user_id);
        Ok(Registration {
            conn_id,
            rx,
            tx,
            kicked,
        })
    }

    /// Sends a final frame to every session connected by a link to `room_id`, and closes
    /// them: their call has ended.
    pub fn end_link_sessions(&self, room_id: &str, frame: &ServerFrame, code: u16) {
        let text = encode(frame);
        let mut inner = self.lock();
        let ids: Vec<ConnId> = inner
            .conns
            .iter()
            .filter(|(_, c)| c.link.as_ref().is_some_and(|l| l.room_id == room_id))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(conn) = inner.conns.get(&id) {
                let _ = conn.tx.try_send(text.clone());
            }
            Self::kick(&mut inner, id, code, "call ended");
        }
    }

    pub fn unregister(&self, conn_id: ConnId) {
        let mut inner = self.lock();
        Self::remove(&mut inner, conn_id);
    }

    fn remove(inner: &mut Inner, conn_id: ConnId) {
        Self::kick(inner, conn_id, close_code::GOING_AWAY, "disconnected");
    }

    /// Drops a connection from the hub, telling its task how to close.
    fn kick(inner: &mut Inner, conn_id: ConnId, code: u16, reason: &'static str) {
        let Some(conn) = inner.conns.remove(&conn_id) else {
            return;
        };
        conn.kicked.kick(code, reason);
        if let Some(set) = inner.by_user.get_mut(&conn.user_id) {
            set.remove(&conn_id);
            if set.is_empty() {
                inner.by_user.remove(&conn.user_id);
            }
        }
        inner.presence_all.remove(&conn_id);
        inner.presence_of.retain(|_, subs| {
            subs.remove(&conn_id);
            !subs.is_empty()
        });
        Self::broadcast_presence(inner, &conn.user_id);
    }

    /// Queues `frame` to every connection of `users`, except `skip`. Connections that cannot
    /// keep up are dropped.
    pub fn send_to_users<'a>(
        &self,
        users: impl IntoIterator<Item = &'a String>,
        frame: &ServerFrame,
        skip: Option<ConnId>,
    ) {
        let text = encode(frame);
        let mut inner = self.lock();
        let targets: Vec<ConnId> = users
            .into_iter()
            .filter_map(|u| inner.by_user.get(u))
            .flatten()
            .copied()
            .filter(|id| Some(*id) != skip)
            .collect();
        Self::send_to_conns(&mut inner, &targets, frame, &text);
    }

    /// Queues `text` (the encoded `frame`) to each target that may hear of it.
    fn send_to_conns(inner: &mut Inner, targets: &[ConnId], frame: &ServerFrame, text: &Utf8Bytes) {
        let mut slow = Vec::new();
        for id in targets {
            if let Some(conn) = inner.conns.get(id) {
                if conn.link.as_ref().is_some_and(|l| !l.admits(frame)) {
                    continue;
                }
                if conn.tx.try_send(text.clone()).is_err() {
                    slow.push(*id);
                }
            }
        }
        for id in slow {
            tracing::warn!(conn = id, "connection cannot keep up; disconnecting it");
            Self::kick(inner, id, close_code::TOO_SLOW, "too slow");
        }
    }

    /// Sends a final frame to every device of `user_id` and closes them.
    pub fn disconnect_user(&self, user_id: &str, frame: &ServerFrame, code: u16) {
        let text = encode(frame);
        let mut inner = self.lock();
        let ids: Vec<ConnId> = inner
            .by_user
            .get(user_id)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            if let Some(conn) = inner.conns.get(&id) {
                let _ = conn.tx.try_send(text.clone());
            }
            Self::kick(&mut inner, id, code, "disconnected");
        }
    }

    /// Closes every connection (server shutdown).
    pub fn close_all(&self) {
        let mut inner = self.lock();
        let ids: Vec<ConnId> = inner.conns.keys().copied().collect();
        for id in ids {
            Self::kick(
                &mut inner,
                id,
                close_code::GOING_AWAY,
                "server shutting down",
            );
        }
    }

    /// Subscribes a connection to presence changes of `users` (all users when `None`), and
    /// sends it the current presence of each at once. One connection follows at most
    /// [`MAX_PRESENCE_SUBSCRIPTIONS`] users (everyone counts as one); a request that would
    /// go past that is refused whole. Ids are not looked up: an unknown one counts like
    /// any other, so asking for many cannot cost more than the cap.
    pub fn subscribe_presence(
        &self,
        conn_id: ConnId,
        users: Option<Vec<String>>,
    ) -> Result<(), ApiError> {
        let mut inner = self.lock();
        let Some(conn) = inner.conns.get(&conn_id) else {
            return Ok(());
        };
        let already = conn.subscriptions;
        let current: Vec<String> = match users {
            None => {
                if inner.presence_all.insert(conn_id) {
                    if already >= MAX_PRESENCE_SUBSCRIPTIONS {
                        inner.presence_all.remove(&conn_id);
                        return Err(too_many_subscriptions(already));
                    }
                    Self::add_subscriptions(&mut inner, conn_id, 1);
                }
                inner.by_user.keys().cloned().collect()
            }
            Some(mut list) => {
                list.sort_unstable();
                list.dedup();
                let new = list
                    .iter()
                    .filter(|u| {
                        !inner
                            .presence_of
                            .get(*u)
                            .is_some_and(|subs| subs.contains(&conn_id))
                    })
                    .count();
                if already + new > MAX_PRESENCE_SUBSCRIPTIONS {
                    return Err(too_many_subscriptions(already));
                }
                for u in &list {
                    inner
                        .presence_of
                        .entry(u.clone())
                        .or_default()
                        .insert(conn_id);
                }
                Self::add_subscriptions(&mut inner, conn_id, new);
                list
            }
        };
        let targets = [conn_id];
        for user in current {
            let frame = ServerFrame::Presence {
                presence: Self::presence_locked(&inner, &user),
            };
            Self::send_to_conns(&mut inner, &targets, &frame, &encode(&frame));
        }
        Ok(())
    }

    fn add_subscriptions(inner: &mut Inner, conn_id: ConnId, n: usize) {
        if let Some(c) = inner.conns.get_mut(&conn_id) {
            c.subscriptions += n;
        }
    }

    /// How many users a connection follows (for tests and diagnostics).
    pub fn subscriptions_of(&self, conn_id: ConnId) -> usize {
        self.lock()
            .conns
            .get(&conn_id)
            .map_or(0, |c| c.subscriptions)
    }

    /// Marks a device busy with the given parties (empty to clear); used by call rooms.
    pub fn set_busy(&self, conn_id: ConnId, busy_with: Vec<String>) {
        let mut inner = self.lock();
        let Some(conn) = inner.conns.get_mut(&conn_id) else {
            return;
        };
        conn.busy_with = busy_with;
        let user = conn.user_id.clone();
        Self::broadcast_presence(&mut inner, &user);
    }

    fn device_conns(inner: &Inner, user: &str, device: &str, same: bool) -> Vec<ConnId> {
        inner
            .by_user
            .get(user)
            .into_iter()
            .flatten()
            .copied()
            .filter(|id| {
                inner
                    .conns
                    .get(id)
                    .is_some_and(|c| (c.device_id == device) == same)
            })
            .collect()
    }

    /// Marks every connection of one device busy (or free, with an empty list).
    pub fn set_device_busy(&self, user: &str, device: &str, busy_with: Vec<String>) {
        let mut inner = self.lock();
        let ids = Self::device_conns(&inner, user, device, true);
        if ids.is_empty() {
            return;
        }
        for id in ids {
            if let Some(c) = inner.conns.get_mut(&id) {
                c.busy_with.clone_from(&busy_with);
            }
        }
        Self::broadcast_presence(&mut inner, user);
    }

    /// Queues a frame to one device of a user (or to all the others with `same == false`).
    pub fn send_to_device(&self, user: &str, device: &str, same: bool, frame: &ServerFrame) {
        let mut inner = self.lock();
        let ids = Self::device_conns(&inner, user, device, same);
        Self::send_to_conns(&mut inner, &ids, frame, &encode(frame));
    }

    /// Whether a device of a user has a connection now.
    pub fn device_connected(&self, user: &str, device: &str) -> bool {
        !Self::device_conns(&self.lock(), user, device, true).is_empty()
    }

    /// Takes what users set of their presence, as the store had it at start.
    pub fn load_settings(&self, settings: impl IntoIterator<Item = (String, PresenceSetting)>) {
        self.lock().settings.extend(settings);
    }

    /// Replaces what a user set of their presence and tells those who follow them.
    pub fn set_setting(&self, user_id: &str, setting: PresenceSetting) -> Presence {
        let mut inner = self.lock();
        if setting == PresenceSetting::default() {
            inner.settings.remove(user_id);
        } else {
            inner.settings.insert(user_id.to_owned(), setting);
        }
        Self::broadcast_presence(&mut inner, user_id);
        Self::presence_locked(&inner, user_id)
    }

    /// Forgets a deleted user's setting.
    pub fn forget_setting(&self, user_id: &str) {
        self.lock().settings.remove(user_id);
    }

    /// What a user set of their availability (`available` when nothing).
    pub fn availability(&self, user_id: &str) -> Availability {
        self.lock()
            .settings
            .get(user_id)
            .map(|s| s.availability)
            .unwrap_or_default()
    }

    pub fn presence(&self, user_id: &str) -> Presence {
        Self::presence_locked(&self.lock(), user_id)
    }

    /// Users with at least one connected device.
    pub fn online_users(&self) -> Vec<String> {
        let mut users: Vec<String> = self
            .lock()
            .by_user
            .keys()
            .filter(|u| !crate::proto::is_guest(u))
            .cloned()
            .collect();
        users.sort();
        users
    }

    pub fn connection_count(&self) -> usize {
        self.lock().conns.len()
    }

    fn presence_locked(inner: &Inner, user_id: &str) -> Presence {
        let mut devices: Vec<DevicePresence> = inner
            .by_user
            .get(user_id)
            .into_iter()
            .flatten()
            .filter_map(|id| inner.conns.get(id))
            .map(|c| DevicePresence {
                device_id: c.device_id.clone(),
                device_name: c.device_name.clone(),
                status: if c.busy_with.is_empty() {
                    PresenceStatus::Online
                } else {
                    PresenceStatus::Busy
                },
                busy_with: c.busy_with.clone(),
            })
            .collect();
        devices.sort_by(|a, b| a.device_id.cmp(&b.device_id));
        let mut busy_with: Vec<String> = devices
            .iter()
            .flat_map(|d| d.busy_with.iter().cloned())
            .collect();
        busy_with.sort();
        busy_with.dedup();
        let status = if !busy_with.is_empty() {
            PresenceStatus::Busy
        } else if devices.is_empty() {
            PresenceStatus::Offline
        } else {
            PresenceStatus::Online
        };
        let setting = inner.settings.get(user_id).cloned().unwrap_or_default();
        Presence {
            user_id: user_id.to_owned(),
            activity: if status == PresenceStatus::Busy {
                Some(Activity::OnThePhone)
            } else {
                setting.activity
            },
            status,
            busy_with,
            devices,
            availability: setting.availability,
            note: setting.note,
        }
    }

    /// Sends `frame` about `user_id` to every connection following their presence and to
    /// the user's own.
    pub fn send_to_followers(&self, user_id: &str, frame: &ServerFrame) {
        let mut inner = self.lock();
        let mut targets: HashSet<ConnId> = inner.presence_all.clone();
        if let Some(subs) = inner.presence_of.get(user_id) {
            targets.extend(subs.iter().copied());
        }
        if let Some(own) = inner.by_user.get(user_id) {
            targets.extend(own.iter().copied());
        }
        let targets: Vec<ConnId> = targets.into_iter().collect();
        Self::send_to_conns(&mut inner, &targets, frame, &encode(frame));
    }

    fn broadcast_presence(inner: &mut Inner, user_id: &str) {
        // Guests are not in the directory: nobody follows them.
        if crate::proto::is_guest(user_id) {
            return;
        }
        let mut targets: HashSet<ConnId> = inner.presence_all.clone();
        if let Some(subs) = inner.presence_of.get(user_id) {
            targets.extend(subs.iter().copied());
        }
        if targets.is_empty() {
            return;
        }
        let frame = ServerFrame::Presence {
            presence: Self::presence_locked(inner, user_id),
        };
        let targets: Vec<ConnId> = targets.into_iter().collect();
        Self::send_to_conns(inner, &targets, &frame, &encode(&frame));
    }
}

fn too_many_subscriptions(already: usize) -> ApiError {
    ApiError::new(
        ErrorCode::TooManySubscriptions,
        format!(
            "a connection follows at most {MAX_PRESENCE_SUBSCRIPTIONS} users' presence \
             ({already} already)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next_frame(rx: &mut mpsc::Receiver<Outgoing>) -> serde_json::Value {
        match rx.try_recv() {
            Ok(t) => serde_json::from_str(t.as_str()).unwrap(),
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    #[test]
    fn presence_follows_devices_and_busy_state() {
        let hub = Hub::default();
        let mut watcher = hub.register("carol", "d0", "laptop");
        hub.subscribe_presence(watcher.conn_id, None).unwrap();
        // carol's own presence first.
        assert_eq!(next_frame(&mut watcher.rx)["presence"]["user_id"], "carol");

        let a1 = hub.register("alice", "d1", "phone");
        let p = next_frame(&mut watcher.rx);
        assert_eq!(p["presence"]["status"], "online");
        let _a2 = hub.register("alice", "d2", "desk");
        assert_eq!(
            next_frame(&mut watcher.rx)["presence"]["devices"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        hub.set_busy(a1.conn_id, vec!["bob".into()]);
        let p = next_frame(&mut watcher.rx);
        assert_eq!(p["presence"]["status"], "busy");
        assert_eq!(p["presence"]["busy_with"], serde_json::json!(["bob"]));
        hub.disconnect_user(
            "alice",
            &ServerFrame::ForceDisconnect {
                reason: "gone".into(),
            },
            close_code::FORCE_DISCONNECT,
        );
        // Two device removals, the last one leaves alice offline.
        next_frame(&mut watcher.rx);
        assert_eq!(next_frame(&mut watcher.rx)["presence"]["status"], "offline");
        assert_eq!(hub.online_users(), vec!["carol"]);
    }

    #[test]
    fn presence_subscriptions_are_capped_per_connection() {
        let hub = Hub::default();
        let mut c = hub.register("carol", "d0", "laptop");
        let ids = |from: usize, n: usize| (from..from + n).map(|i| format!("u{i}")).collect();
        hub.subscribe_presence(c.conn_id, Some(ids(0, MAX_PRESENCE_SUBSCRIPTIONS - 1)))
            .unwrap();
        // Repeats and names already followed cost nothing.
        hub.subscribe_presence(c.conn_id, Some(vec!["u0".into(), "u0".into(), "u1".into()]))
            .unwrap();
        assert_eq!(
            hub.subscriptions_of(c.conn_id),
            MAX_PRESENCE_SUBSCRIPTIONS - 1
        );
        let e = hub
            .subscribe_presence(c.conn_id, Some(ids(5000, 2)))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::TooManySubscriptions);
        // Refused whole: neither of the two was added.
        assert_eq!(
            hub.subscriptions_of(c.conn_id),
            MAX_PRESENCE_SUBSCRIPTIONS - 1
        );
        hub.subscribe_presence(c.conn_id, Some(ids(5000, 1)))
            .unwrap();
        assert_eq!(
            hub.subscribe_presence(c.conn_id, None).unwrap_err().code,
            ErrorCode::TooManySubscriptions
        );
        while c.rx.try_recv().is_ok() {}
        // The connection's subscriptions go with it.
        hub.unregister(c.conn_id);
        assert!(hub.lock().presence_of.is_empty());
    }

    #[test]
    fn a_full_outbox_drops_only_that_connection() {
        let hub = Hub::default();
        let slow = hub.register("slow", "d", "d");
        let mut fast = hub.register("fast", "d", "d");
        let users = vec!["slow".to_owned(), "fast".to_owned()];
        for _ in 0..=OUTBOX_CAPACITY {
            hub.send_to_users(&users, &ServerFrame::Pong { req_id: None }, None);
            while fast.rx.try_recv().is_ok() {}
        }
        assert_eq!(hub.online_users(), vec!["fast"]);
        drop(slow);
    }
}
