//! The session task: the input and output around [`Protocol`]. It gets tokens, opens the
//! WebSocket, feeds the protocol what arrives (frames, orders from the handles, the time)
//! and carries out what comes out (frames to send, events, answers), and after each
//! connection asks [`Backoff`] whether and when to try again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::protocol::{ended_by_connect_error, Backoff, Ended, Now, Output, Protocol, Rules, Step};
use super::session::ConnectionState;
use super::{rest, token_expiry, ClientConfig, ClientError, Event, Order, Reply, Rest};
use crate::proto::{ClientFrame, Message, ServerFrame};

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long connecting, and then the `ready` frame, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

pub(super) struct Session {
    config: ClientConfig,
    rest: Rest,
    events: mpsc::UnboundedSender<Event>,
    orders: mpsc::UnboundedReceiver<Order>,
    protocol: Protocol,
    /// Who waits for which queued message.
    waiters: Vec<(String, oneshot::Sender<Result<Message, ClientError>>)>,
    /// Who waits for which call request.
    requests: Vec<(String, Reply)>,
    /// The token in use and when it expires.
    token: Option<(String, Option<DateTime<Utc>>)>,
    /// Token renewals on their way.
    refreshes: JoinSet<Result<String, ClientError>>,
}

impl Session {
    pub(super) fn new(
        config: ClientConfig,
        rest: Rest,
        events: mpsc::UnboundedSender<Event>,
        orders: mpsc::UnboundedReceiver<Order>,
    ) -> Session {
        let rules = Rules {
            device_id: config.device_id.clone(),
            presence: config.presence,
            keepalive: config.keepalive,
            media_timeout: config.media_timeout,
            renewable: config.token.renewable(),
        };
        let protocol = Protocol::new(rules, Now::of(&config.clock));
        Session {
            config,
            rest,
            events,
            orders,
            protocol,
            waiters: Vec::new(),
            requests: Vec::new(),
            token: None,
            refreshes: JoinSet::new(),
        }
    }

    fn now(&self) -> Now {
        Now::of(&self.config.clock)
    }

    fn state(&self, s: ConnectionState) {
        let _ = self.events.send(Event::Connection { state: s });
    }

    pub(super) async fn run(mut self) {
        let mut backoff = Backoff::default();
        let mut attempt: u32 = 0;
        loop {
            if attempt > 0 {
                let jitter: f64 = rand::rng().random();
                let delay = self.config.reconnect.delay(attempt, jitter);
                self.state(ConnectionState::Reconnecting {
                    attempt,
                    retry_in_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                });
                if !self.idle(delay).await {
                    return self.finish(ConnectionState::Closed, &ClientError::Closed);
                }
            } else {
                self.state(ConnectionState::Connecting);
            }
            let ended = self.connection(&mut backoff).await;
            if matches!(ended, Ended::TokenRejected(_)) {
                self.token = None;
            }
            match backoff.after(ended, self.config.token.renewable()) {
                Step::Retry { attempt: next } => attempt = next,
                Step::Finish { state, error } => return self.finish(state, &error),
            }
        }
    }

    /// One connection, from getting a token to its end.
    async fn connection(&mut self, backoff: &mut Backoff) -> Ended {
        let token = match self.current_token().await {
            Ok(token) => token,
            Err(e) => {
                tracing::warn!(error = %e, "no token");
                return if self.config.token.renewable() {
                    Ended::Lost
                } else {
                    Ended::Fatal(e)
                };
            }
        };
        let ws = match self.connect(&token).await {
            Ok(ws) => ws,
            Err(e) => return ended_by_connect_error(e),
        };
        backoff.connected();
        let ended = self.serve(ws).await;
        self.protocol.on_disconnected();
        self.flush(None).await;
        ended
    }

    /// Fails everything still waiting and reports the final state.
    fn finish(&mut self, state: ConnectionState, error: &ClientError) {
        self.protocol.finish(error);
        while let Some(out) = self.protocol.poll_output() {
            self.carry_out_offline(out);
        }
        for (_, w) in self.waiters.drain(..) {
            let _ = w.send(Err(error.clone()));
        }
        self.state(state);
    }

    /// Waits `delay` while taking orders; false when asked to stop.
    async fn idle(&mut self, delay: Duration) -> bool {
        let deadline = self.config.clock.now() + delay;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return true,
                order = self.orders.recv() => {
                    let Some(order) = order else { return false };
                    if !self.take(order) {
                        return false;
                    }
                    self.flush(None).await;
                }
            }
        }
    }

    /// Hands an order to the protocol; false for `Stop`.
    fn take(&mut self, order: Order) -> bool {
        let now = self.now();
        match order {
            Order::Send { pending, done } => {
                if let Some(tx) = done {
                    self.waiters.push((pending.client_id.clone(), tx));
                }
                self.protocol.send(pending);
            }
            Order::CallRequest {
                req_id,
                frame,
                done,
            } => {
                self.requests.push((req_id.clone(), done));
                self.protocol.call_request(req_id, frame);
            }
            Order::Frame(frame) => self.protocol.signal(frame),
            Order::Media { room_id, change } => self.protocol.media(now, &room_id, change),
            Order::Stop => return false,
        }
        true
    }

    async fn current_token(&mut self) -> Result<String, ClientError> {
        if let Some((t, exp)) = &self.token {
            let soon = self.config.clock.utc() + chrono::Duration::seconds(5);
            if exp.is_none_or(|e| e > soon) {
                return Ok(t.clone());
            }
        }
        let t = self
            .config
            .token
            .fetch_with_retry(&self.config.token_retry)
            .await?;
        self.use_token(&t);
        Ok(t)
    }

    fn use_token(&mut self, token: &str) {
        self.rest.set_token(token.to_owned());
        self.token = Some((token.to_owned(), token_expiry(token)));
    }

    async fn connect(&self, token: &str) -> Result<WsStream, ClientError> {
        let mut url = self
            .rest
            .base()
            .join("/v1/ws")
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| ClientError::Config("cannot build the WebSocket address".into()))?;
        url.query_pairs_mut()
            .append_pair("device_id", &self.config.device_id)
            .append_pair("device_name", &self.config.device_name);
        let mut req = url
            .as_str()
            .into_client_request()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let header = format!("Bearer {token}")
            .parse()
            .map_err(|_| ClientError::Token("the token is not valid header text".into()))?;
        req.headers_mut().insert("authorization", header);
        // No Nagle: a frame must not wait for the server's delayed ACK of the one before.
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            req,
            None,
            true,
            Some(self.rest.ws_connector()),
        );
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Err(_) => Err(ClientError::Unreachable("connecting timed out".into())),
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(resp))) => {
                let body = resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                Err(ClientError::Api(rest::api_error_from(resp.status(), &body)))
            }
            Ok(Err(e)) => Err(ClientError::Unreachable(e.to_string())),
        }
    }

    /// Runs one connection until it ends.
    async fn serve(&mut self, mut ws: WsStream) -> Ended {
        // The first frame is `ready`.
        let first = match tokio::time::timeout(CONNECT_TIMEOUT, ws.next()).await {
            Ok(Some(Ok(WsMessage::Text(t)))) => serde_json::from_str::<ServerFrame>(t.as_str()),
            _ => return Ended::Lost,
        };
        let Ok(first) = first else {
            return Ended::Lost;
        };
        self.protocol.on_connected(self.now(), first);
        loop {
            if let Some(ended) = self.flush(Some(&mut ws)).await {
                if matches!(ended, Ended::Stopped) {
                    close(&mut ws).await;
                }
                return ended;
            }
            let deadline = self.protocol.poll_timeout(self.now());
            // Cancel safety: `recv`, `next` and `join_next` lose nothing when another
            // branch wins.
            tokio::select! {
                order = self.orders.recv() => {
                    if !order.is_some_and(|o| self.take(o)) {
                        close(&mut ws).await;
                        return Ended::Stopped;
                    }
                }
                incoming = ws.next() => {
                    if let Some(ended) = self.on_incoming(incoming) {
                        return ended;
                    }
                }
                Some(refreshed) = self.refreshes.join_next(), if !self.refreshes.is_empty() => {
                    self.on_refreshed(refreshed.unwrap_or_else(|e| Err(ClientError::Token(e.to_string()))));
                }
                () = sleep_until(deadline) => self.protocol.handle_timeout(self.now()),
            }
        }
    }

    /// What the socket gave: a frame for the protocol, or the end of the connection.
    fn on_incoming(
        &mut self,
        incoming: Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>,
    ) -> Option<Ended> {
        let now = self.now();
        match incoming {
            Some(Ok(WsMessage::Text(text))) => {
                match serde_json::from_str::<ServerFrame>(text.as_str()) {
                    Ok(frame) => self.protocol.on_frame(now, frame),
                    Err(e) => {
                        self.protocol.on_heard(now);
                        tracing::warn!(error = %e, "ignoring a frame parla does not understand");
                    }
                }
            }
            Some(Ok(WsMessage::Close(_)) | Err(_)) | None => return Some(Ended::Lost),
            Some(Ok(_)) => self.protocol.on_heard(now),
        }
        None
    }

    fn on_refreshed(&mut self, refreshed: Result<String, ClientError>) {
        match refreshed {
            Ok(token) => {
                self.use_token(&token);
                self.protocol.token_refreshed(token);
            }
            Err(e) => {
                tracing::warn!(error = %e, "token refresh failed; reconnecting when it expires");
            }
        }
    }

    /// Carries out what the protocol asked for; `Some` when the connection is over.
    async fn flush(&mut self, mut ws: Option<&mut WsStream>) -> Option<Ended> {
        while let Some(out) = self.protocol.poll_output() {
            match out {
                Output::Transmit(frame) => {
                    let Some(ws) = ws.as_deref_mut() else {
                        continue;
                    };
                    if !send_frame(ws, &frame).await {
                        return Some(Ended::Lost);
                    }
                }
                Output::End(ended) => return Some(ended),
                other => self.carry_out_offline(other),
            }
        }
        None
    }

    /// Everything the protocol asks for besides sending and ending.
    fn carry_out_offline(&mut self, out: Output) {
        match out {
            Output::Emit(e) => {
                if let Event::Ready { expires_at, .. } = &e {
                    if let Some((_, exp)) = &mut self.token {
                        *exp = Some(*expires_at);
                    }
                }
                let _ = self.events.send(e);
            }
            Output::Settled { client_id, result } => {
                if let Some(i) = self.waiters.iter().position(|(id, _)| *id == client_id) {
                    let (_, tx) = self.waiters.swap_remove(i);
                    let _ = tx.send(result);
                }
            }
            Output::Answered { req_id, result } => {
                if let Some(i) = self.requests.iter().position(|(id, _)| *id == req_id) {
                    let (_, done) = self.requests.swap_remove(i);
                    let _ = done.send(result);
                }
            }
            Output::RefreshToken => {
                let source = self.config.token.clone();
                let policy = self.config.token_retry.clone();
                self.refreshes
                    .spawn(async move { source.fetch_with_retry(&policy).await });
            }
            Output::Transmit(_) | Output::End(_) => {}
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn send_frame(ws: &mut WsStream, frame: &ClientFrame) -> bool {
    match serde_json::to_string(frame) {
        Ok(text) => ws.send(WsMessage::text(text)).await.is_ok(),
        Err(_) => false,
    }
}

/// Says goodbye to the server, without waiting long on one that does not read.
async fn close(ws: &mut WsStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
}
