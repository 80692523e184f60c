//! DSCP marking of media packets (RFC 4594; reference 004's `dscpControls`): every UDP
//! socket a call's peer connection binds gets its traffic class set before use, Expedited
//! Forwarding (46) for audio by default, so that networks that honour it queue voice ahead
//! of bulk traffic. Networks that do not simply ignore (or clear) the mark.

use std::io;

/// Expedited Forwarding, the class for interactive voice.
pub const EXPEDITED_FORWARDING: u8 = 46;

/// Sets the DSCP of `socket` (the upper six bits of the IPv4 TOS byte or the IPv6 traffic
/// class).
pub fn mark(socket: &std::net::UdpSocket, dscp: u8) -> io::Result<()> {
    crate::sys::set_traffic_class(socket, i32::from(dscp & 0x3f) << 2)
}

/// The DSCP a socket carries now.
pub fn marked(socket: &std::net::UdpSocket) -> io::Result<u8> {
    let tos = crate::sys::traffic_class(socket)?;
    Ok(u8::try_from((tos >> 2) & 0x3f).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sockets_wrapped_by_the_runtime_carry_the_mark() {
        let rt = crate::media::net::media_runtime(None, Some(EXPEDITED_FORWARDING));
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let probe = socket.try_clone().unwrap();
        assert_eq!(marked(&probe).unwrap(), 0);
        let _wrapped = rt.wrap_udp_socket(socket).unwrap();
        assert_eq!(marked(&probe).unwrap(), EXPEDITED_FORWARDING);
        let v6 = std::net::UdpSocket::bind("[::1]:0");
        if let Ok(v6) = v6 {
            mark(&v6, 34).unwrap();
            assert_eq!(marked(&v6).unwrap(), 34);
        }
    }
}
