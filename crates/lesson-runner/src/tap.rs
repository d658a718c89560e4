//! Taps: the [relay](crate::relay) between two programs, recording every byte that passes.
//!
//! A lesson's client is pointed at the tap instead of the server; the tap forwards both
//! ways (as `cargo lesson run --wire` does: ends of stream and resets passed on, each UDP
//! client with its own upstream socket, a server's new port given a relay port) and keeps
//! a copy. The test then asserts on what went over the wire (`to_server`, `to_client`),
//! not only on what each program printed about it.
//!
//! The programs see the tap's addresses, not each other's: a server prints the tap's
//! upstream address as its client ([`Relayed::server_side`], [`UdpTap::back_addr`]), a
//! client prints the tap's address as its server.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::PATIENCE;
pub use crate::relay::Toward;
use crate::relay::{self, Event, Mode, Relay, What};

/// One connection through a [`TcpTap`], once it has ended both ways.
#[derive(Clone, Debug)]
pub struct Relayed {
    /// The client's address (what the tap accepted).
    pub client: SocketAddr,
    /// The tap's end of the upstream connection: the address the server saw as its client.
    pub server_side: SocketAddr,
    /// Every byte the client sent, in order.
    pub to_server: Vec<u8>,
    /// Every byte the server sent, in order.
    pub to_client: Vec<u8>,
}

/// What the relay's threads share with the test.
struct Log<T> {
    items: Mutex<T>,
    changed: Condvar,
}

impl<T: Send + 'static> Log<T> {
    fn new(items: T) -> Arc<Log<T>> {
        Arc::new(Log {
            items: Mutex::new(items),
            changed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, T> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A report for the relay that applies `change` to the log for every event, and wakes
    /// whoever waits on it.
    fn recorder(
        self: &Arc<Self>,
        change: impl Fn(&mut T, &Event) + Send + Sync + 'static,
    ) -> relay::Report {
        let log = Arc::clone(self);
        Arc::new(move |event| {
            change(&mut log.lock(), event);
            log.changed.notify_all();
        })
    }

    /// Wait until `ready` says yes, at most `timeout`: a copy of what `ready` picked, or
    /// a timeout error that says what `so_far` says about the log.
    fn wait<R>(
        &self,
        timeout: Duration,
        ready: impl Fn(&T) -> Option<R>,
        so_far: impl Fn(&T) -> String,
    ) -> io::Result<R> {
        let deadline = Instant::now() + timeout;
        let mut items = self.lock();
        loop {
            if let Some(found) = ready(&items) {
                return Ok(found);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let why = format!("{} (waited {timeout:?})", so_far(&items));
                return Err(io::Error::new(io::ErrorKind::TimedOut, why));
            }
            items = (self.changed.wait_timeout(items, left))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// A connection in progress: its number, its record, and whether it has closed.
type Entry = (usize, Relayed, bool);

/// A TCP relay that records both directions of every connection. Stops accepting when
/// dropped (connections in progress finish on their own).
pub struct TcpTap {
    relay: Relay,
    log: Arc<Log<Vec<Entry>>>,
}

impl TcpTap {
    /// Listen on a free port of 127.0.0.1 and relay every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> io::Result<TcpTap> {
        let log = Log::new(Vec::new());
        let record = log.recorder(|entries: &mut Vec<Entry>, event| {
            if let What::Connected { via } = event.what {
                let relayed = Relayed {
                    client: event.client,
                    server_side: via,
                    to_server: Vec::new(),
                    to_client: Vec::new(),
                };
                entries.push((event.conn, relayed, false));
                entries.sort_by_key(|e| e.0);
            }
            let Some((_, relayed, closed)) = entries.iter_mut().find(|e| e.0 == event.conn) else {
                return;
            };
            match &event.what {
                What::Data(Toward::Server, data) => relayed.to_server.extend_from_slice(data),
                What::Data(Toward::Client, data) => relayed.to_client.extend_from_slice(data),
                What::Closed => *closed = true,
                _ => {}
            }
        });
        let numbers = Arc::new(AtomicUsize::new(0));
        let relay = relay::tcp(upstream, Mode::AsRead, numbers, record)?;
        Ok(TcpTap { relay, log })
    }

    /// Where clients connect: give this to the client instead of the server's address.
    pub fn addr(&self) -> SocketAddr {
        self.relay.addr
    }

    /// Wait until `count` connections have ended both ways (at most `timeout`) and return
    /// them in the order they were accepted.
    pub fn finished(&self, count: usize, timeout: Duration) -> io::Result<Vec<Relayed>> {
        let done = |entries: &Vec<Entry>| -> Vec<Relayed> {
            entries
                .iter()
                .filter(|e| e.2)
                .map(|e| e.1.clone())
                .collect()
        };
        let ready = |entries: &Vec<Entry>| Some(done(entries)).filter(|d| d.len() >= count);
        self.log.wait(timeout, ready, |entries| {
            let so_far: Vec<&Relayed> = entries.iter().map(|e| &e.1).collect();
            let ended = done(entries).len();
            format!("the tap saw {ended} of {count} connections end; so far: {so_far:?}")
        })
    }

    /// The one connection of a test that makes exactly one, once it has ended.
    pub fn only(&self) -> Relayed {
        match self.finished(1, PATIENCE) {
            Ok(mut all) if all.len() == 1 => all.remove(0),
            Ok(all) => panic!(
                "the tap relayed {} connections, not one: {all:?}",
                all.len()
            ),
            Err(e) => panic!("{e}"),
        }
    }
}

/// The datagrams a [`UdpTap`] has passed on, in order, with the way each went.
pub type Datagrams = Vec<(Toward, Vec<u8>)>;

/// A UDP relay that records every datagram, each one whole. Its threads end when it is
/// dropped.
pub struct UdpTap {
    relay: Relay,
    log: Arc<Log<Datagrams>>,
}

impl UdpTap {
    /// Bind on 127.0.0.1 and relay every client's datagrams to `upstream`.
    pub fn start(upstream: SocketAddr) -> io::Result<UdpTap> {
        let log = Log::new(Vec::new());
        let record = log.recorder(|items: &mut Datagrams, event| {
            if let What::Data(toward, data) = &event.what {
                items.push((*toward, data.clone()));
            }
        });
        let relay = relay::udp(upstream, Arc::new(AtomicUsize::new(0)), record)?;
        Ok(UdpTap { relay, log })
    }

    /// Where the client side sends: give this to the client instead of the server's address.
    pub fn addr(&self) -> SocketAddr {
        self.relay.addr
    }

    /// Where the tap's datagrams to the server come from for the first client (the
    /// address the server replies to), known before that client sends.
    pub fn back_addr(&self) -> SocketAddr {
        self.relay.upstream.unwrap_or(self.relay.addr)
    }

    /// Wait until `count` datagrams have passed (at most `timeout`) and return every one so
    /// far, in the order they arrived, with the way each went.
    pub fn datagrams(&self, count: usize, timeout: Duration) -> io::Result<Datagrams> {
        let ready = |items: &Datagrams| (items.len() >= count).then(|| items.clone());
        let so_far =
            |items: &Datagrams| format!("the tap saw fewer than {count} datagrams: {items:?}");
        self.log.wait(timeout, ready, so_far)
    }
}
