//! The runtime of a call's peer connection: DSCP marking of its sockets, and a network path
//! that can be cut, for tests and benchmarks of what a call does when its path drops (a
//! laptop leaving one network for another). The peer connection's sockets
//! come from a runtime that wraps tokio's: after [`Outage::cut`] every socket that existed
//! until then sends and receives nothing, as if its address had gone away; sockets bound
//! later (ICE restart gathers on new ones) work.

use std::fmt;
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, RecvMeta, Runtime,
    TokioRuntime, Transmit,
};

/// Handle for cutting the path of the sockets made so far.
#[derive(Clone, Default, Debug)]
pub struct Outage {
    inner: Arc<OutageState>,
}

#[derive(Default, Debug)]
struct OutageState {
    /// Sockets get increasing numbers; those at or below `dead_upto` are cut off.
    next_socket: AtomicU64,
    dead_upto: AtomicU64,
    /// Every socket, old and new, is cut while this is set (a network that is down for a
    /// while, then back).
    blackout: std::sync::atomic::AtomicBool,
}

impl Outage {
    /// Cuts every socket that exists now.
    pub fn cut(&self) {
        let last = self.inner.next_socket.load(Ordering::SeqCst);
        self.inner.dead_upto.store(last, Ordering::SeqCst);
    }

    /// Cuts every socket, those bound later too, until [`Outage::restore`].
    pub fn blackout(&self) {
        self.inner.blackout.store(true, Ordering::SeqCst);
    }

    /// Ends a [`Outage::blackout`].
    pub fn restore(&self) {
        self.inner.blackout.store(false, Ordering::SeqCst);
    }

    /// How many sockets were bound through this path (a restart binds new ones).
    pub fn sockets(&self) -> u64 {
        self.inner.next_socket.load(Ordering::SeqCst)
    }

    /// The runtime to build a peer connection with.
    pub fn runtime(&self) -> Arc<dyn Runtime> {
        media_runtime(Some(self.clone()), None)
    }
}

/// The runtime a call's peer connection runs on: tokio's, with its UDP sockets marked with a
/// DSCP ([`super::dscp`]) and cuttable by an [`Outage`] where asked.
pub fn media_runtime(outage: Option<Outage>, dscp: Option<u8>) -> Arc<dyn Runtime> {
    Arc::new(MediaRuntime {
        outage,
        dscp,
        inner: Arc::new(TokioRuntime),
    })
}

#[derive(Debug)]
struct MediaRuntime {
    outage: Option<Outage>,
    dscp: Option<u8>,
    inner: Arc<dyn Runtime>,
}

impl Runtime for MediaRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        self.inner.spawn(future)
    }

    fn spawn_reactor(
        &self,
        reactor_pool_size: usize,
        future: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> Box<dyn JoinHandle> {
        self.inner.spawn_reactor(reactor_pool_size, future)
    }

    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        if let Some(dscp) = self.dscp {
            if let Err(e) = super::dscp::mark(&socket, dscp) {
                // Not fatal: the call works unmarked.
                tracing::debug!(error = %e, "cannot set the DSCP of a media socket");
            }
        }
        let inner = self.inner.wrap_udp_socket(socket)?;
        let Some(outage) = &self.outage else {
            return Ok(inner);
        };
        let number = outage.inner.next_socket.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Arc::new(CuttableSocket {
            inner,
            number,
            outage: outage.clone(),
        }))
    }

    fn wrap_tcp_listener(
        &self,
        listener: std::net::TcpListener,
    ) -> io::Result<Arc<dyn AsyncTcpListener>> {
        self.inner.wrap_tcp_listener(listener)
    }

    fn connect_tcp<'a>(
        &'a self,
        remote_addr: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = io::Result<Arc<dyn AsyncTcpStream>>> + Send + 'a>> {
        self.inner.connect_tcp(remote_addr)
    }

    fn resolve_host<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        self.inner.resolve_host(host)
    }

    fn now(&self) -> std::time::Instant {
        self.inner.now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.inner.sleep(duration)
    }

    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        self.inner.interval(period)
    }

    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        self.inner.block_on(future);
    }

    fn name(&self) -> &'static str {
        "tokio-media"
    }
}

struct CuttableSocket {
    inner: Arc<dyn AsyncUdpSocket>,
    number: u64,
    outage: Outage,
}

impl fmt::Debug for CuttableSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CuttableSocket")
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

impl CuttableSocket {
    fn cut(&self) -> bool {
        self.outage.inner.blackout.load(Ordering::SeqCst)
            || self.number <= self.outage.inner.dead_upto.load(Ordering::SeqCst)
    }
}

impl AsyncUdpSocket for CuttableSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn poll_send(&self, cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        if self.cut() {
            // Gone into the void, as on a dead link.
            return Poll::Ready(Ok(transmit.contents.len()));
        }
        self.inner.poll_send(cx, transmit)
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        loop {
            match self.inner.poll_recv(cx, bufs, meta) {
                // Whatever arrives on a cut socket is lost; keep reading until the socket
                // has nothing more, so the waker stays registered.
                Poll::Ready(Ok(_)) if self.cut() => {}
                other => return other,
            }
        }
    }

    fn max_gso_segments(&self) -> usize {
        self.inner.max_gso_segments()
    }

    fn max_gro_segments(&self) -> usize {
        self.inner.max_gro_segments()
    }
}
