//! The calls to the operating system that Rust's standard library does not wrap, kept in
//! this one module: the only place in parla where `unsafe` is allowed.
#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Points standard error (descriptor 2) at `file`; returns the old standard error, to be
/// put back with [`restore_stderr`], or `None` when either step failed (nothing changed).
pub fn redirect_stderr(file: &std::fs::File) -> Option<OwnedFd> {
    // SAFETY: dup and dup2 on descriptors that are open (2, and `file`'s own); the
    // duplicate is owned from here on and closed when dropped.
    unsafe {
        let copy = libc::dup(2);
        if copy < 0 {
            return None;
        }
        let saved = OwnedFd::from_raw_fd(copy);
        if libc::dup2(file.as_raw_fd(), 2) < 0 {
            return None;
        }
        Some(saved)
    }
}

/// Puts back the standard error saved by [`redirect_stderr`].
pub fn restore_stderr(saved: &OwnedFd) {
    // SAFETY: dup2 from a descriptor this process owns onto 2.
    unsafe {
        libc::dup2(saved.as_raw_fd(), 2);
    }
}

/// Hands memory the allocator holds but no longer uses back to the system. glibc keeps
/// freed blocks in per-thread arenas for reuse; after a burst the process would otherwise
/// stay at its peak size. Elsewhere it does nothing.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own heaps; it takes no pointers from us.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What a TCP socket is connected between, and whether Nagle's algorithm is off on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSocket {
    pub local_port: u16,
    pub peer_port: u16,
    pub nodelay: bool,
}

/// Looks at descriptor `fd` of this process: `Some` when it is a connected IPv4 TCP
/// socket. (For diagnostics and tests: which sockets have `TCP_NODELAY`.)
pub fn tcp_socket(fd: std::os::fd::RawFd) -> Option<TcpSocket> {
    let port = |peer: bool| {
        // SAFETY: `addr` is a zeroed sockaddr_in and `len` says its size; the kernel
        // writes at most that much.
        unsafe {
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            let mut len = socklen_of::<libc::sockaddr_in>();
            let p = std::ptr::addr_of_mut!(addr).cast::<libc::sockaddr>();
            let rc = if peer {
                libc::getpeername(fd, p, &raw mut len)
            } else {
                libc::getsockname(fd, p, &raw mut len)
            };
            (rc == 0 && i32::from(addr.sin_family) == libc::AF_INET)
                .then(|| u16::from_be(addr.sin_port))
        }
    };
    let (local_port, peer_port) = (port(false)?, port(true)?);
    let mut v: libc::c_int = 0;
    let mut len = socklen_of::<libc::c_int>();
    // SAFETY: `v` is a c_int and `len` its size.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            std::ptr::addr_of_mut!(v).cast::<libc::c_void>(),
            &raw mut len,
        )
    };
    (rc == 0).then_some(TcpSocket {
        local_port,
        peer_port,
        nodelay: v != 0,
    })
}

/// The size of a small C structure as the kernel's length type.
#[allow(clippy::cast_possible_truncation)] // socket structures are a few bytes long
fn socklen_of<T>() -> libc::socklen_t {
    std::mem::size_of::<T>() as libc::socklen_t
}

/// SIGTERM, as a stream to wait on (`None` where it cannot be set up).
#[must_use]
pub fn terminate_signal() -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()
}

/// Waits for the next SIGTERM on `signal` (for ever when there is none to wait on).
pub async fn terminated(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// The socket option that holds a UDP socket's traffic class (IPv4 TOS or IPv6 TCLASS).
fn traffic_class_option(socket: &std::net::UdpSocket) -> std::io::Result<(i32, i32)> {
    Ok(match socket.local_addr()? {
        std::net::SocketAddr::V4(_) => (libc::IPPROTO_IP, libc::IP_TOS),
        std::net::SocketAddr::V6(_) => (libc::IPPROTO_IPV6, libc::IPV6_TCLASS),
    })
}

/// Sets the traffic-class byte (DSCP and ECN) of the packets `socket` sends.
pub fn set_traffic_class(socket: &std::net::UdpSocket, value: i32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let (level, name) = traffic_class_option(socket)?;
    let value: libc::c_int = value;
    // SAFETY: a valid descriptor, and a pointer to a c_int of the length given.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            std::ptr::from_ref(&value).cast(),
            libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap_or(4),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The traffic-class byte of the packets `socket` sends.
pub fn traffic_class(socket: &std::net::UdpSocket) -> std::io::Result<i32> {
    use std::os::fd::AsRawFd;
    let (level, name) = traffic_class_option(socket)?;
    let mut value: libc::c_int = 0;
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap_or(4);
    // SAFETY: a valid descriptor, and pointers to a c_int and its length.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            level,
            name,
            std::ptr::from_mut(&mut value).cast(),
            &raw mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(std::io::Error::last_os_error())
    }
}
