//! Calls: what the user sees of one ([`view`]), its offer/answer rules as a state machine
//! ([`negotiation`]), its media ([`media`]), one call driven end to end from the session's
//! events ([`phone`]), and the calls of a device together ([`switchboard`]).

pub mod media;
pub mod negotiation;
pub mod phone;
pub mod switchboard;
pub mod view;

pub use view::{CallState, CallView, Direction};
