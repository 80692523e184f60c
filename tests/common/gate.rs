//! A TCP relay in front of the server that a test can cut and hold shut: it stands for the
//! network between a client and the server, so "the connection drops and stays down until
//! the test says so" needs no timing.

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Mutex};
use tokio::task::JoinSet;

pub struct Gate {
    /// The address clients use (`http://127.0.0.1:PORT`).
    pub url: String,
    open: watch::Sender<bool>,
    relays: Arc<Mutex<JoinSet<()>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Gate {
    /// Relays to `upstream` (`http://host:port`), open to begin with.
    pub async fn start(upstream: &str) -> Gate {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (open, watch_open) = watch::channel(true);
        let relays: Arc<Mutex<JoinSet<()>>> = Arc::default();
        let set = relays.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !*watch_open.borrow() {
                    // Shut: the connection is refused at once.
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                set.lock().await.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Gate {
            url,
            open,
            relays,
            accept,
        }
    }

    /// Drops every relayed connection and refuses new ones until [`Gate::open`].
    pub async fn cut(&self) {
        self.open.send_replace(false);
        self.relays.lock().await.abort_all();
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
