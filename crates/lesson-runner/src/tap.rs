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

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use crate::relay::Toward;
use crate::relay::{self, Event, Mode, Relay, What};
use crate::{PATIENCE, Watched};

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

/// A report for the relay that applies `record` to `log` for every event, and wakes
/// whoever waits on the log.
fn recorder<T: Send + 'static>(
    log: &Arc<Watched<T>>,
    record: impl Fn(&mut T, &Event) + Send + Sync + 'static,
) -> relay::Report {
    let log = Arc::clone(log);
    Arc::new(move |event| log.change(|items| record(items, event)))
}

/// The connections so far by number, so in the order they were accepted: each one's
/// record, and whether it has ended.
type Connections = BTreeMap<usize, (Relayed, bool)>;

/// A TCP relay that records both directions of every connection. Stops accepting when
/// dropped (connections in progress finish on their own).
pub struct TcpTap {
    relay: Relay,
    log: Arc<Watched<Connections>>,
}

impl TcpTap {
    /// Listen on a free port of 127.0.0.1 and relay every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> io::Result<TcpTap> {
        let log = Arc::new(Watched::default());
        let record = recorder(&log, |connections: &mut Connections, event| {
            if let What::Connected { via } = event.what {
                let relayed = Relayed {
                    client: event.client,
                    server_side: via,
                    to_server: Vec::new(),
                    to_client: Vec::new(),
                };
                connections.insert(event.conn, (relayed, false));
            }
            let Some((relayed, ended)) = connections.get_mut(&event.conn) else {
                return;
            };
            match &event.what {
                What::Data(Toward::Server, data) => relayed.to_server.extend_from_slice(data),
                What::Data(Toward::Client, data) => relayed.to_client.extend_from_slice(data),
                What::Closed => *ended = true,
                _ => {}
            }
        });
        let relay = relay::tcp(upstream, Mode::AsRead, Arc::default(), record)?;
        Ok(TcpTap { relay, log })
    }

    /// Where clients connect: give this to the client instead of the server's address.
    pub fn addr(&self) -> SocketAddr {
        self.relay.addr
    }

    /// Wait until `count` connections have ended both ways (at most `timeout`) and return
    /// them in the order they were accepted.
    pub fn finished(&self, count: usize, timeout: Duration) -> io::Result<Vec<Relayed>> {
        let ended = |connections: &Connections| -> Vec<Relayed> {
            connections
                .values()
                .filter(|c| c.1)
                .map(|c| c.0.clone())
                .collect()
        };
        let connections = self.log.wait(timeout, |c| ended(c).len() >= count);
        let done = ended(&connections);
        if done.len() >= count {
            return Ok(done);
        }
        let so_far: Vec<&Relayed> = connections.values().map(|c| &c.0).collect();
        let ended = done.len();
        let why = format!(
            "the tap saw {ended} of {count} connections end; so far: {so_far:?} (waited {timeout:?})"
        );
        Err(io::Error::new(io::ErrorKind::TimedOut, why))
    }

    /// The one connection of a test that makes exactly one, once it has ended.
    pub fn only(&self) -> Relayed {
        let mut all = self.finished(1, PATIENCE).unwrap_or_else(|e| panic!("{e}"));
        let n = all.len();
        assert!(n == 1, "the tap relayed {n} connections, not one: {all:?}");
        all.remove(0)
    }
}

/// The datagrams a [`UdpTap`] has passed on, in order, with the way each went.
pub type Datagrams = Vec<(Toward, Vec<u8>)>;

/// A UDP relay that records every datagram, each one whole. Its threads end when it is
/// dropped.
pub struct UdpTap {
    relay: Relay,
    log: Arc<Watched<Datagrams>>,
}

impl UdpTap {
    /// Bind on 127.0.0.1 and relay every client's datagrams to `upstream`.
    pub fn start(upstream: SocketAddr) -> io::Result<UdpTap> {
        let log = Arc::new(Watched::default());
        let record = recorder(&log, |datagrams: &mut Datagrams, event| {
            if let What::Data(toward, data) = &event.what {
                datagrams.push((*toward, data.clone()));
            }
        });
        let relay = relay::udp(upstream, Arc::default(), record)?;
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
        let datagrams = self.log.wait(timeout, |d| d.len() >= count);
        if datagrams.len() >= count {
            return Ok(datagrams.clone());
        }
        let why =
            format!("the tap saw fewer than {count} datagrams: {datagrams:?} (waited {timeout:?})");
        Err(io::Error::new(io::ErrorKind::TimedOut, why))
    }
}
