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

/// Handle for cutting the path of the sockets made so far, and for impairing what they
/// receive.
#[derive(Clone, Default, Debug)]
pub struct Outage {
    inner: Arc<OutageState>,
    /// Loss and jitter applied to every datagram the sockets receive, below the WebRTC
    /// stack (so that its RTCP reports count the loss, as on a real network).
    impair: Option<super::impair::Impairment>,
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

    /// The same path, with what its sockets receive impaired.
    #[must_use]
    pub fn impaired(mut self, impair: super::impair::Impairment) -> Self {
        self.impair = Some(impair);
        self
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
        let cuttable: Arc<dyn AsyncUdpSocket> = Arc::new(CuttableSocket {
            inner,
            number,
            outage: outage.clone(),
        });
        Ok(match outage.impair {
            Some(config) => Arc::new(ImpairedSocket {
                inner: cuttable,
                state: std::sync::Mutex::new(Held {
                    impairer: super::impair::Impairer::new(config),
                    queue: std::collections::BinaryHeap::new(),
                    order: 0,
                    timer: None,
                    buf: vec![0; 65_536],
                }),
            }),
            None => cuttable,
        })
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

/// A datagram held back by an impairment until its release time.
#[derive(Debug)]
struct Datagram {
    release: std::time::Instant,
    order: u64,
    data: Vec<u8>,
    meta: RecvMeta,
}

impl PartialEq for Datagram {
    fn eq(&self, other: &Self) -> bool {
        (self.release, self.order) == (other.release, other.order)
    }
}
impl Eq for Datagram {}
impl PartialOrd for Datagram {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Datagram {
    // Earliest release first out of the (max-)heap.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.release, other.order).cmp(&(self.release, self.order))
    }
}

struct Held {
    impairer: super::impair::Impairer,
    queue: std::collections::BinaryHeap<Datagram>,
    order: u64,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Where datagrams are read into, kept between calls.
    buf: Vec<u8>,
}

/// A socket whose received datagrams are dropped or held back (and so reordered) the way a
/// bad network would, before the WebRTC stack sees them.
struct ImpairedSocket {
    inner: Arc<dyn AsyncUdpSocket>,
    state: std::sync::Mutex<Held>,
}

impl fmt::Debug for ImpairedSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImpairedSocket").finish_non_exhaustive()
    }
}

impl AsyncUdpSocket for ImpairedSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn poll_send(&self, cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        self.inner.poll_send(cx, transmit)
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let Ok(mut held) = self.state.lock() else {
            return self.inner.poll_recv(cx, bufs, meta);
        };
        // Take in everything that has arrived (the inner socket keeps the waker).
        let held = &mut *held;
        loop {
            let mut one = [RecvMeta::default()];
            let polled = {
                let mut slices = [IoSliceMut::new(&mut held.buf)];
                self.inner.poll_recv(cx, &mut slices, &mut one)
            };
            match polled {
                Poll::Ready(Ok(n)) if n > 0 => {
                    let m = one[0];
                    let now = std::time::Instant::now();
                    let stride = m.stride.max(1);
                    let len = m.len.min(held.buf.len());
                    for chunk in held.buf[..len].chunks(stride) {
                        if let Some(release) = held.impairer.release_at(now) {
                            held.order += 1;
                            let order = held.order;
                            let mut meta = m;
                            meta.len = chunk.len();
                            meta.stride = chunk.len();
                            held.queue.push(Datagram {
                                release,
                                order,
                                data: chunk.to_vec(),
                                meta,
                            });
                        }
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                _ => break,
            }
        }
        let now = std::time::Instant::now();
        if held.queue.peek().is_some_and(|d| d.release <= now) {
            if let (Some(d), Some(out), Some(m)) =
                (held.queue.pop(), bufs.first_mut(), meta.first_mut())
            {
                let n = d.data.len().min(out.len());
                out[..n].copy_from_slice(&d.data[..n]);
                *m = d.meta;
                m.len = n;
                m.stride = n.max(1);
                return Poll::Ready(Ok(1));
            }
        }
        // Wake up when the next one is due.
        if let Some(next) = held.queue.peek().map(|d| d.release) {
            let mut timer = Box::pin(tokio::time::sleep_until(next.into()));
            if timer.as_mut().poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            }
            held.timer = Some(timer);
        }
        Poll::Pending
    }

    fn max_gso_segments(&self) -> usize {
        self.inner.max_gso_segments()
    }

    fn max_gro_segments(&self) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_impaired_socket_drops_and_delays_what_it_receives() {
        let path = Outage::default().impaired(super::super::impair::Impairment {
            loss_pct: 10.0,
            jitter_ms: 40.0,
            seed: 3,
            ..Default::default()
        });
        let rt = path.runtime();
        let std_rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        std_rx.set_nonblocking(true).unwrap();
        let addr = std_rx.local_addr().unwrap();
        let rx = rt.wrap_udp_socket(std_rx).unwrap();
        let tx = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sender = tokio::spawn(async move {
            for i in 0u32..200 {
                tx.send_to(&i.to_be_bytes(), addr).await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(Ok((n, _))) =
            tokio::time::timeout(Duration::from_millis(500), rx.recv_from(&mut buf)).await
        {
            got.push(u32::from_be_bytes(buf[..n].try_into().unwrap()));
        }
        sender.await.unwrap();
        assert!(
            (160..195).contains(&got.len()),
            "{} of 200 arrived",
            got.len()
        );
        let reordered = got.windows(2).filter(|w| w[1] < w[0]).count();
        assert!(
            reordered > 10,
            "jitter of 40 ms over 5 ms spacing reorders: {reordered}"
        );
    }
}
