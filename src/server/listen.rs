//! Accepting connections: `TCP_NODELAY` on every socket (two frames sent back to back must
//! not wait for the peer's delayed ACK), and TLS when the server has a certificate.
//!
//! TLS handshakes run in tasks of their own with a deadline, so a client that opens a
//! socket and says nothing holds up nobody else's accept.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Accepted connections waiting for the HTTP server.
const ACCEPT_QUEUE: usize = 128;

/// Loads a PEM certificate chain and private key for serving HTTPS and WSS.
pub fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let cert_pem = read(cert)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not a PEM certificate chain: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in it", cert.display()));
    }
    let key_pem = read(key)?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("{}: not a PEM private key: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| format!("the certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A connection as the HTTP server sees it.
pub enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(s) => s.is_write_vectored(),
            Io::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// The server's listener: accepts in a task of its own and hands over ready connections.
pub struct Listener {
    rx: mpsc::Receiver<(Io, SocketAddr)>,
    local: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    pub fn new(tcp: TcpListener, tls: Option<Arc<rustls::ServerConfig>>) -> io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(ACCEPT_QUEUE);
        let task = tokio::spawn(accept_loop(tcp, tls.map(TlsAcceptor::from), tx));
        Ok(Listener { rx, local, task })
    }
}

async fn accept_loop(
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
    tx: mpsc::Sender<(Io, SocketAddr)>,
) {
    // TLS handshakes run beside the accepting; they end with it.
    let mut handshakes = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = tx.closed() => return,
            accepted = tcp.accept() => accepted,
            Some(_) = handshakes.join_next(), if !handshakes.is_empty() => continue,
        };
        let Some((socket, addr)) = usable(accepted).await else {
            continue;
        };
        match &tls {
            None => {
                if tx.send((Io::Plain(socket), addr)).await.is_err() {
                    return;
                }
            }
            Some(acceptor) => {
                handshakes.spawn(handshake(acceptor.clone(), socket, addr, tx.clone()));
            }
        }
    }
}

/// An accepted socket set up for the server (no Nagle); after a failed accept (out of file
/// descriptors and the like), a pause rather than a spin.
async fn usable(accepted: io::Result<(TcpStream, SocketAddr)>) -> Option<(TcpStream, SocketAddr)> {
    match accepted {
        Ok((socket, addr)) => {
            if let Err(e) = socket.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
            Some((socket, addr))
        }
        Err(e) => {
            tracing::warn!(error = %e, "accept failed");
            tokio::time::sleep(Duration::from_millis(100)).await;
            None
        }
    }
}

/// The TLS handshake of one connection, bounded in time; the connection goes on to the
/// server once it is done.
async fn handshake(
    acceptor: TlsAcceptor,
    socket: TcpStream,
    addr: SocketAddr,
    tx: mpsc::Sender<(Io, SocketAddr)>,
) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await {
        Ok(Ok(stream)) => {
            let _ = tx.send((Io::Tls(Box::new(stream)), addr)).await;
        }
        Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
    }
}

impl axum::serve::Listener for Listener {
    type Io = Io;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Io, SocketAddr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept task is gone (it only ends with the listener): nothing more comes.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// The peer address of a connection, for the routes that want it.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Listener>>
    for PeerAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, Listener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// The client's address: the peer's own, or, when the peer is one of the `trusted` reverse
/// proxies, the last address in `X-Forwarded-For` that is not a trusted proxy itself (the
/// entries before it were written by the client and prove nothing).
pub fn client_addr(
    peer: Option<std::net::IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let Some(list) = forwarded_for else {
        return Some(peer);
    };
    let mut found = None;
    for entry in list.rsplit(',') {
        match entry.trim().parse::<std::net::IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => {}
            Ok(ip) => {
                found = Some(ip);
                break;
            }
            // Garbage in the header: trust nothing further left.
            Err(_) => break,
        }
    }
    Some(found.unwrap_or(peer))
}

/// The client's address for a request, as [`client_addr`] finds it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl axum::extract::FromRequestParts<Arc<super::AppState>> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<super::AppState>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<PeerAddr>>()
            .map(|c| c.0 .0.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(ClientIp(client_addr(
            peer,
            forwarded,
            &state.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        // Straight from a client: its own address, whatever it claims.
        assert_eq!(
            client_addr(Some(ip("192.0.2.7")), Some("198.51.100.1"), &trusted),
            Some(ip("192.0.2.7"))
        );
        // Through the proxy: the address the proxy saw.
        assert_eq!(
            client_addr(Some(proxy), Some("198.51.100.1"), &trusted),
            Some(ip("198.51.100.1"))
        );
        // A client's own forged entry comes first and is skipped; a chain of trusted
        // proxies is walked back.
        assert_eq!(
            client_addr(
                Some(proxy),
                Some("203.0.113.9, 198.51.100.1, 10.0.0.2"),
                &trusted
            ),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(client_addr(Some(proxy), None, &trusted), Some(proxy));
        assert_eq!(
            client_addr(Some(proxy), Some("not-an-address"), &trusted),
            Some(proxy)
        );
        assert_eq!(client_addr(None, Some("198.51.100.1"), &trusted), None);
    }
}
