//! The offer/answer rules of one peer connection, as a state machine without input or
//! output of its own (str0m's `handle_input` / `poll_output`): the call's media layer feeds
//! it what happened (the user held the call, an offer or answer arrived, the path dropped)
//! and carries out the actions it asks for in order (roll back, restart ICE, offer, answer,
//! start audio). Tests drive two of them against each other with no sockets and no clock.
//!
//! The rules:
//! - One negotiation at a time: a change (hold, resume, ICE restart) made while an offer of
//!   ours waits for its answer is offered after that answer.
//! - Offers that cross (glare): the side that made the first offer keeps its own and drops
//!   theirs; the other withdraws its offer (rollback), answers, and offers its change again.
//! - The side that made the first offer restarts ICE when the path drops; the other notices
//!   the new ICE credentials in the offer and gathers afresh too.

use std::collections::VecDeque;

use crate::media::sdp::{audio_direction, ice_ufrag, Direction};

/// What happened to the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// This side sets the call up: make the first offer.
    Start,
    /// An offer from the other side.
    Offer(String),
    /// The answer to our offer.
    Answer(String),
    /// The user held (`true`) or resumed the call.
    Hold(bool),
    /// The media path dropped (disconnected or failed).
    PathLost,
}

/// What the media layer is to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Withdraw the offer we sent (its answer will not come).
    Rollback,
    /// Gather candidates afresh, on new sockets, with new ICE credentials.
    RestartIce,
    /// Send audio (`hold: false`) or only receive the other side's hold music (`true`) from
    /// the next description on.
    SetDirection { hold: bool },
    /// Make an offer and send it.
    Offer,
    /// Apply this offer and send the answer.
    Answer(String),
    /// Apply this answer to our offer.
    AcceptAnswer(String),
    /// Start the audio: the first offer and answer have been exchanged.
    StartMedia,
    /// What audio flows: this side sends unless either side holds or the other side takes
    /// none; it plays what arrives unless this side holds (the other side's hold music is
    /// played).
    Audio { send: bool, play: bool },
    /// The user's hold took effect (for the session's call state).
    LocalHold(bool),
    /// The other side held or resumed.
    RemoteHold(bool),
}

/// One peer connection's offer/answer state.
#[derive(Debug, Clone, Default)]
pub struct Negotiation {
    /// This side made the first offer: it keeps its offer in glare and restarts ICE.
    offerer: bool,
    /// An offer of ours waits for its answer.
    awaiting_answer: bool,
    /// A change came while an offer was out: offer again once it is answered.
    reoffer: bool,
    local_hold: bool,
    remote_hold: bool,
    /// The direction of the other side's last description, as it wrote it.
    remote_direction: Direction,
    /// The ICE username fragment of the other side's last description.
    remote_ufrag: Option<String>,
    media_started: bool,
    restarts: u32,
    out: VecDeque<Action>,
}

impl Negotiation {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds what happened; the actions it calls for come from [`Negotiation::poll_output`].
    pub fn handle_input(&mut self, input: Input) {
        match input {
            Input::Start => {
                self.offerer = true;
                self.offer();
            }
            Input::Offer(sdp) => self.on_offer(sdp),
            Input::Answer(sdp) => self.on_answer(sdp),
            Input::Hold(hold) => self.on_hold(hold),
            Input::PathLost => self.on_path_lost(),
        }
    }

    /// The next action to carry out, in order.
    pub fn poll_output(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    /// ICE restarts this side has started.
    #[must_use]
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// This side made the first offer.
    #[must_use]
    pub fn is_offerer(&self) -> bool {
        self.offerer
    }

    /// An offer of ours waits for its answer.
    #[must_use]
    pub fn awaiting_answer(&self) -> bool {
        self.awaiting_answer
    }

    /// Whether this side holds, and whether the other does.
    #[must_use]
    pub fn holds(&self) -> (bool, bool) {
        (self.local_hold, self.remote_hold)
    }

    fn offer(&mut self) {
        self.awaiting_answer = true;
        self.out.push_back(Action::Offer);
    }

    /// Offers the current hold state now, or after the answer we wait for.
    fn renegotiate(&mut self) {
        if self.awaiting_answer {
            self.reoffer = true;
        } else {
            self.out.push_back(Action::SetDirection {
                hold: self.local_hold,
            });
            self.offer();
        }
    }

    /// Offers crossed: false when ours stands and theirs is dropped.
    fn on_glare(&mut self) -> bool {
        if self.offerer {
            tracing::info!("offers crossed; keeping ours");
            return false;
        }
        tracing::info!("offers crossed; answering theirs first");
        self.out.push_back(Action::Rollback);
        self.awaiting_answer = false;
        self.reoffer = true;
        true
    }

    /// New ICE credentials from the other side mean it restarted ICE: its path dropped, and
    /// ours may have gone with it.
    fn on_remote_ufrag(&mut self, ufrag: Option<String>) {
        if self.remote_ufrag.is_some() && self.remote_ufrag != ufrag {
            tracing::info!("the other side restarted ICE; gathering afresh");
            self.out.push_back(Action::RestartIce);
        }
        self.remote_ufrag = ufrag;
    }

    fn on_offer(&mut self, sdp: String) {
        if self.awaiting_answer && !self.on_glare() {
            return;
        }
        self.on_remote_ufrag(ice_ufrag(&sdp));
        let direction = audio_direction(&sdp);
        self.out.push_back(Action::Answer(sdp));
        self.described();
        self.remote_described(direction);
        self.after_exchange();
    }

    fn on_answer(&mut self, sdp: String) {
        // An answer to no offer of ours (late, repeated, or to an offer we rolled back)
        // cannot be applied; the call goes on with the descriptions it has.
        if !self.awaiting_answer {
            tracing::warn!("an answer came with no offer out; dropped");
            return;
        }
        self.remote_ufrag = ice_ufrag(&sdp);
        let direction = audio_direction(&sdp);
        self.out.push_back(Action::AcceptAnswer(sdp));
        self.awaiting_answer = false;
        self.described();
        self.remote_described(direction);
        self.after_exchange();
    }

    /// The other side's description says how it sends and receives. It holds when it will
    /// not receive: `sendonly` (with hold music) or `inactive`, in an offer or in an answer
    /// (an answer to our own hold says `recvonly`, which is no hold of theirs).
    fn remote_described(&mut self, direction: Direction) {
        let before = self.flow();
        self.remote_direction = direction;
        let remote_hold = matches!(direction, Direction::SendOnly | Direction::Inactive);
        if self.flow() != before {
            self.push_flow();
        }
        if remote_hold != self.remote_hold {
            self.remote_hold = remote_hold;
            self.out.push_back(Action::RemoteHold(remote_hold));
        }
    }

    /// Whether this side sends and plays audio now. What arrives is played unless this
    /// side holds (a side that says it will not send simply sends nothing).
    fn flow(&self) -> (bool, bool) {
        (
            !self.local_hold && self.remote_direction.receives(),
            !self.local_hold,
        )
    }

    fn push_flow(&mut self) {
        let (send, play) = self.flow();
        self.out.push_back(Action::Audio { send, play });
    }

    /// A description went both ways: audio can start.
    fn described(&mut self) {
        if !self.media_started {
            self.media_started = true;
            self.out.push_back(Action::StartMedia);
            // A hold made before the audio started applies to it from the start.
            if self.flow() != (true, true) {
                self.push_flow();
            }
        }
    }

    fn after_exchange(&mut self) {
        if std::mem::take(&mut self.reoffer) {
            self.renegotiate();
        }
    }

    fn on_hold(&mut self, hold: bool) {
        if hold == self.local_hold {
            return;
        }
        self.local_hold = hold;
        self.push_flow();
        self.out.push_back(Action::LocalHold(hold));
        self.renegotiate();
    }

    fn on_path_lost(&mut self) {
        if !self.offerer {
            return;
        }
        self.restarts += 1;
        tracing::info!(restart = self.restarts, "media path lost; restarting ICE");
        self.out.push_back(Action::RestartIce);
        self.renegotiate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for a peer connection: its descriptions carry its ICE credentials and its
    /// direction, which is all the rules read.
    #[derive(Default)]
    struct FakePeer {
        ufrag: u32,
        hold: bool,
        /// The offer we sent and have not seen answered or withdrawn.
        pending_offer: bool,
        remote: Option<String>,
        started: bool,
        /// Whether audio goes out, and whether what arrives is played.
        send: bool,
        play: bool,
        local_hold: Option<bool>,
        remote_hold: Option<bool>,
        log: Vec<Action>,
    }

    impl FakePeer {
        fn own(&self) -> Direction {
            if self.hold {
                Direction::SendOnly
            } else {
                Direction::SendRecv
            }
        }

        fn describe(&self, dir: Direction) -> String {
            format!(
                "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:u{}\r\na={}\r\n",
                self.ufrag,
                dir.as_str()
            )
        }

        fn description(&self) -> String {
            self.describe(self.own())
        }

        /// The answer to `offer`, whose direction follows the offer's (RFC 3264 §6.1).
        fn answer(&self, offer: &str) -> String {
            self.describe(self.own().answer(audio_direction(offer)))
        }
    }

    /// One side of the test: the rules, the fake connection, and what it sent.
    #[derive(Default)]
    struct Side {
        rules: Negotiation,
        peer: FakePeer,
    }

    /// A description on its way.
    #[derive(Debug, Clone)]
    enum Wire {
        Offer(String),
        Answer(String),
    }

    impl Side {
        /// Feeds `input` and carries out every action; returns what goes to the other side.
        fn input(&mut self, input: Input) -> Vec<Wire> {
            self.rules.handle_input(input);
            let mut sent = Vec::new();
            while let Some(a) = self.rules.poll_output() {
                self.peer.log.push(a.clone());
                match a {
                    Action::Rollback => {
                        assert!(self.peer.pending_offer, "rollback without an offer out");
                        self.peer.pending_offer = false;
                    }
                    Action::RestartIce => self.peer.ufrag += 1,
                    Action::SetDirection { hold } => self.peer.hold = hold,
                    Action::Offer => {
                        assert!(!self.peer.pending_offer, "a second offer while one is out");
                        self.peer.pending_offer = true;
                        sent.push(Wire::Offer(self.peer.description()));
                    }
                    Action::Answer(sdp) => {
                        assert!(!self.peer.pending_offer, "answering with an offer out");
                        sent.push(Wire::Answer(self.peer.answer(&sdp)));
                        self.peer.remote = Some(sdp);
                    }
                    Action::AcceptAnswer(sdp) => {
                        assert!(self.peer.pending_offer, "an answer to no offer");
                        self.peer.pending_offer = false;
                        self.peer.remote = Some(sdp);
                    }
                    Action::StartMedia => {
                        assert!(!self.peer.started, "media started twice");
                        self.peer.started = true;
                        self.peer.send = true;
                        self.peer.play = true;
                    }
                    Action::Audio { send, play } => {
                        self.peer.send = send;
                        self.peer.play = play;
                    }
                    Action::LocalHold(h) => self.peer.local_hold = Some(h),
                    Action::RemoteHold(h) => self.peer.remote_hold = Some(h),
                }
            }
            sent
        }

        fn receive(&mut self, wire: Wire) -> Vec<Wire> {
            match wire {
                Wire::Offer(sdp) => self.input(Input::Offer(sdp)),
                Wire::Answer(sdp) => self.input(Input::Answer(sdp)),
            }
        }
    }

    /// Delivers everything in flight both ways until nothing is left (bounded).
    fn settle(a: &mut Side, b: &mut Side, mut to_b: Vec<Wire>, mut to_a: Vec<Wire>) {
        for _ in 0..20 {
            if to_a.is_empty() && to_b.is_empty() {
                return;
            }
            let next_a: Vec<Wire> = to_b.drain(..).flat_map(|w| b.receive(w)).collect();
            let next_b: Vec<Wire> = to_a.drain(..).flat_map(|w| a.receive(w)).collect();
            to_a = next_a;
            to_b = next_b;
        }
        panic!("the two sides never stopped negotiating");
    }

    fn call() -> (Side, Side) {
        let (mut a, mut b) = (Side::default(), Side::default());
        let offer = a.input(Input::Start);
        settle(&mut a, &mut b, offer, Vec::new());
        (a, b)
    }

    fn quiet(s: &Side) -> bool {
        !s.rules.awaiting_answer() && !s.peer.pending_offer
    }

    #[test]
    fn the_caller_offers_and_both_sides_start_audio_once() {
        let (a, b) = call();
        assert!(a.peer.started && b.peer.started);
        assert!(quiet(&a) && quiet(&b));
        assert!(a.rules.is_offerer() && !b.rules.is_offerer());
        assert_eq!(
            b.peer.log,
            vec![Action::Answer(a.peer.description()), Action::StartMedia]
        );
    }

    /// A peer that writes its own offers (a browser, aiortc): holds with `inactive`, then
    /// resumes with `sendrecv`, and later answers one of our offers `sendonly` (it holds).
    #[test]
    fn every_direction_the_other_side_writes_sets_what_flows() {
        let (mut a, mut b) = call();
        let offer = |dir: Direction| Input::Offer(b.peer.describe(dir));
        let inactive = offer(Direction::Inactive);
        let sendrecv = offer(Direction::SendRecv);
        a.input(inactive);
        assert_eq!(a.peer.remote_hold, Some(true));
        assert!(!a.peer.send);
        a.input(sendrecv);
        assert_eq!(a.peer.remote_hold, Some(false));
        assert!(a.peer.send && a.peer.play, "sendrecv restores both ways");
        // Our next offer (an ICE restart), answered by a side that holds meanwhile.
        b.peer.hold = true;
        let offer = a.input(Input::PathLost);
        settle(&mut a, &mut b, offer, Vec::new());
        assert_eq!(a.peer.remote_hold, Some(true));
        assert!(!a.peer.send && a.peer.play);
    }

    #[test]
    fn hold_and_resume_reach_the_other_side() {
        let (mut a, mut b) = call();
        let out = b.input(Input::Hold(true));
        assert!(!b.peer.send && !b.peer.play);
        assert_eq!(b.peer.local_hold, Some(true));
        settle(&mut a, &mut b, Vec::new(), out);
        assert_eq!(a.peer.remote_hold, Some(true));
        assert!(!a.peer.send, "nothing goes to a side that holds");
        assert!(a.peer.play, "the hold music of a `sendonly` hold is played");
        assert_eq!(a.rules.holds(), (false, true));
        // The answer to the hold (`recvonly`) is no hold of the answerer's.
        assert_eq!(b.peer.remote_hold, None);
        let out = b.input(Input::Hold(false));
        settle(&mut a, &mut b, Vec::new(), out);
        assert_eq!(a.peer.remote_hold, Some(false));
        assert!(a.peer.send && a.peer.play && b.peer.send && b.peer.play);
        // Holding twice is one change.
        assert!(b.input(Input::Hold(false)).is_empty());
    }

    #[test]
    fn crossed_offers_keep_the_callers_and_the_callee_offers_again() {
        let (mut a, mut b) = call();
        // Both hold at once: both offers are in flight together.
        let from_a = a.input(Input::Hold(true));
        let from_b = b.input(Input::Hold(true));
        assert_eq!(from_a.len(), 1);
        assert_eq!(from_b.len(), 1);
        // The caller drops the callee's offer.
        assert!(a.receive(from_b[0].clone()).is_empty());
        // The callee withdraws its own, answers, and offers again.
        let reply = b.receive(from_a[0].clone());
        assert!(b.peer.log.contains(&Action::Rollback));
        assert!(matches!(
            reply.as_slice(),
            [Wire::Answer(_), Wire::Offer(_)]
        ));
        settle(&mut a, &mut b, Vec::new(), reply);
        assert!(quiet(&a) && quiet(&b));
        assert_eq!(a.rules.holds(), (true, true));
        assert_eq!(b.rules.holds(), (true, true));
        assert_eq!(a.peer.remote_hold, Some(true));
        assert_eq!(b.peer.remote_hold, Some(true));
    }

    #[test]
    fn a_change_while_an_offer_is_out_waits_for_its_answer() {
        let (mut a, mut b) = call();
        let first = a.input(Input::Hold(true));
        // Resumed before the hold was answered: nothing goes out yet.
        assert!(a.input(Input::Hold(false)).is_empty());
        let answer = b.receive(first[0].clone());
        let again = a.receive(answer[0].clone());
        assert!(matches!(again.as_slice(), [Wire::Offer(sdp)] if sdp.contains("a=sendrecv")));
        settle(&mut a, &mut b, again, Vec::new());
        assert_eq!(b.peer.remote_hold, Some(false));
        assert!(quiet(&a) && quiet(&b));
    }

    #[test]
    fn an_answer_with_no_offer_out_is_dropped_and_the_call_goes_on() {
        let (mut a, mut b) = call();
        let hold = a.input(Input::Hold(true));
        let answer = b.receive(hold[0].clone());
        assert!(a.receive(answer[0].clone()).is_empty());
        let before = a.peer.log.len();
        // The same answer again: nothing is applied, nothing goes out.
        assert!(a.receive(answer[0].clone()).is_empty());
        assert_eq!(a.peer.log.len(), before);
        assert!(quiet(&a));
        // The call goes on: a resume is offered and answered as usual.
        let resume = a.input(Input::Hold(false));
        settle(&mut a, &mut b, resume, Vec::new());
        assert_eq!(b.peer.remote_hold, Some(false));
        assert!(quiet(&a) && quiet(&b));
    }

    #[test]
    fn the_caller_restarts_ice_and_the_callee_gathers_afresh() {
        let (mut a, mut b) = call();
        // The callee does not restart: it waits for the caller's offer.
        assert!(b.input(Input::PathLost).is_empty());
        assert_eq!(b.rules.restarts(), 0);
        let (ua, ub) = (a.peer.ufrag, b.peer.ufrag);
        let offer = a.input(Input::PathLost);
        assert_eq!(a.rules.restarts(), 1);
        assert_eq!(a.peer.ufrag, ua + 1);
        settle(&mut a, &mut b, offer, Vec::new());
        assert_eq!(
            b.peer.ufrag,
            ub + 1,
            "the callee rebinds on new credentials"
        );
        assert!(quiet(&a) && quiet(&b));
        // A renegotiation with the same credentials (hold) does not restart anything.
        let out = a.input(Input::Hold(true));
        settle(&mut a, &mut b, out, Vec::new());
        assert_eq!(b.peer.ufrag, ub + 1);
    }

    #[test]
    fn a_path_lost_while_an_offer_is_out_restarts_after_the_answer() {
        let (mut a, mut b) = call();
        let hold = a.input(Input::Hold(true));
        // Only the new credentials are gathered now; the offer carrying them waits.
        assert!(a.input(Input::PathLost).is_empty());
        assert_eq!(a.peer.log.last(), Some(&Action::RestartIce));
        settle(&mut a, &mut b, hold, Vec::new());
        assert_eq!(
            b.peer.ufrag, 1,
            "the second offer carried the new credentials"
        );
        assert!(quiet(&a) && quiet(&b));
    }

    #[test]
    fn a_hold_before_the_audio_started_silences_it_from_the_start() {
        let (mut a, mut b) = (Side::default(), Side::default());
        let offer = a.input(Input::Start);
        // The caller holds while ringing: offered after the first answer.
        assert!(a.input(Input::Hold(true)).is_empty());
        settle(&mut a, &mut b, offer, Vec::new());
        assert!(a.peer.started && !a.peer.send && !a.peer.play);
        assert_eq!(b.peer.remote_hold, Some(true));
        assert!(!b.peer.send && b.peer.play);
    }
}
