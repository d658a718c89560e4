//! The relay: it sits between clients and a server, forwards every byte both ways, and
//! reports what it does as [`Event`]s to a callback. The tests' taps ([`crate::TcpTap`],
//! [`crate::UdpTap`]) record the events; `cargo lesson run --wire` prints them (and writes
//! them to a capture file under `--pcap`).
//!
//! TCP ([`tcp`]): one upstream connection per client, a thread each way. What one side
//! does to its end, the relay does to the other: an end of stream (FIN) becomes
//! `shutdown(Write)` towards the other side, a reset (RST) a reset (SO_LINGER 0, then
//! close). Both sockets have TCP_NODELAY, so one write of the relay is one segment.
//! [`Mode`] re-cuts the stream or merges pieces on the way.
//!
//! UDP ([`udp`]): each client address gets its own upstream socket, so the server's reply
//! comes back on that socket and goes to the right client. A reply from another port of
//! the server (TFTP's transfer ID) gets a relay port of its own, so the client sees a new
//! port too, and what the client sends there goes on to that server port.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Display;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use netkit::cause;

/// Which way a piece went through the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toward {
    /// From the client side to the server side.
    Server,
    /// From the server side back to the client side.
    Client,
}

impl Toward {
    /// Who sends and who receives this way: `("client", "server")` towards the server.
    pub fn ends(self) -> (&'static str, &'static str) {
        match self {
            Toward::Server => ("client", "server"),
            Toward::Client => ("server", "client"),
        }
    }

    /// The other way.
    pub fn back(self) -> Toward {
        match self {
            Toward::Server => Toward::Client,
            Toward::Client => Toward::Server,
        }
    }
}

/// How a TCP relay forwards what it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each piece as it was read.
    AsRead,
    /// In pieces of this many bytes, [`SPLIT_PAUSE`] apart.
    Split(usize),
    /// Pieces that arrive less than [`MERGE_GAP`] apart (at most [`MERGE_HOLD`]), as one write.
    Merge,
}

/// The pause between two pieces under [`Mode::Split`]: long enough that the receiver's
/// read returns before the next piece arrives, so the split is visible.
pub const SPLIT_PAUSE: Duration = Duration::from_millis(10);
/// Under [`Mode::Merge`], pieces arriving less than this apart are held and sent together...
pub const MERGE_GAP: Duration = Duration::from_millis(50);
/// ...but nothing is held longer than this.
pub const MERGE_HOLD: Duration = Duration::from_millis(300);
/// The UDP relay's threads look at the stop flag this often.
const TICK: Duration = Duration::from_millis(200);

/// Something the relay did, on connection (TCP) or client (UDP) number `conn`, between
/// `client` and `server` as the relay saw them (under UDP `server` may be another port
/// of the server's: its transfer ID).
#[derive(Clone, Debug)]
pub struct Event {
    pub conn: usize,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub what: What,
}

/// What the relay did (see [`Event`]).
#[derive(Clone, Debug)]
pub enum What {
    /// A new client (TCP: accepted and connected upstream); `via` is the relay's end
    /// towards the server, the address the server sees as its client.
    Connected { via: SocketAddr },
    /// A piece passed on (TCP: one read; UDP: one datagram).
    Data(Toward, Vec<u8>),
    /// Under [`Mode::Merge`]: the pieces held, forwarded as one write.
    Merged(Toward, Vec<u8>),
    /// The sender this way closed its side (end of stream), passed on as `shutdown(Write)`.
    End(Toward),
    /// The connection was reset, or failed: a reset goes this way (from the other side),
    /// and the relay resets both sides. The text says why.
    Reset(Toward, String),
    /// UDP: the server answered from `server`, another port; the client sees this one.
    NewPort(SocketAddr),
    /// Something the relay could not do, in a sentence.
    Failure(String),
    /// TCP: both ways are done.
    Closed,
}

/// Where the relay reports; called from its threads.
pub type Report = Arc<dyn Fn(&Event) + Send + Sync>;

/// A running relay. Dropping it stops accepting (TCP) or receiving (UDP, within a tick);
/// TCP connections in progress end when their programs close them.
pub struct Relay {
    /// Where the clients connect or send: give them this instead of the server's address.
    pub addr: SocketAddr,
    /// UDP: the upstream socket the first client gets (known before it sends).
    pub upstream: Option<SocketAddr>,
    stop: Arc<AtomicBool>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if self.upstream.is_none() {
            // Wake the accept loop so it sees the flag.
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        }
    }
}

/// A local address of the same family as `server`, port chosen by the OS.
fn local_for(server: SocketAddr) -> SocketAddr {
    match server {
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
    }
}

/// Set SO_LINGER to 0, so closing the socket sends RST instead of FIN.
pub fn reset(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

/// Says what happened on one connection or flow.
#[derive(Clone)]
struct Teller {
    conn: usize,
    client: SocketAddr,
    server: SocketAddr,
    report: Report,
}

impl Teller {
    /// The teller for the next connection or client, numbered from `numbers`.
    fn next(numbers: &AtomicUsize, client: SocketAddr, server: SocketAddr, report: Report) -> Self {
        Teller {
            conn: numbers.fetch_add(1, Ordering::SeqCst) + 1,
            client,
            server,
            report,
        }
    }

    fn say(&self, what: What) {
        (self.report)(&Event {
            conn: self.conn,
            client: self.client,
            server: self.server,
            what,
        });
    }

    /// The same, about `server`, another port of the server's.
    fn at(&self, server: SocketAddr) -> Teller {
        Teller {
            server,
            ..self.clone()
        }
    }

    /// Something the relay could not do: `doing`, and why not.
    fn failed(&self, doing: impl Display, e: &io::Error) {
        self.say(What::Failure(format!("{doing}: {}", cause(e))));
    }
}

/// Start a TCP relay in front of `server`. Connections are numbered from `numbers`
/// (shared between relays, so that two servers' connections get different numbers).
pub fn tcp(
    server: SocketAddr,
    mode: Mode,
    numbers: Arc<AtomicUsize>,
    report: Report,
) -> io::Result<Relay> {
    let listener = TcpListener::bind(local_for(server))?;
    let relay = Relay {
        addr: listener.local_addr()?,
        upstream: None,
        stop: Arc::default(),
    };
    let stop = Arc::clone(&relay.stop);
    thread::spawn(move || {
        loop {
            let accepted = listener.accept();
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok((client, peer)) = accepted else {
                continue;
            };
            let tell = Teller::next(&numbers, peer, server, Arc::clone(&report));
            thread::spawn(move || connection(tell, client, mode));
        }
    });
    Ok(relay)
}

/// One TCP connection: both streams, and whether the relay is tearing it down.
struct Conn {
    tell: Teller,
    client: TcpStream,
    server: TcpStream,
    aborted: AtomicBool,
}

fn connection(tell: Teller, client: TcpStream, mode: Mode) {
    let (peer, server) = (tell.client, tell.server);
    let upstream = match TcpStream::connect_timeout(&server, Duration::from_secs(5)) {
        Ok(upstream) => upstream,
        Err(e) => {
            tell.say(What::Failure(format!(
                "client {peer} connected, but the server at {server} cannot be reached ({}); resetting the client",
                cause(&e)
            )));
            return reset(&client);
        }
    };
    let Ok(via) = upstream.local_addr() else {
        return tell.say(What::Failure("cannot learn the relay's address".into()));
    };
    for stream in [&client, &upstream] {
        let _ = stream.set_nodelay(true);
    }
    tell.say(What::Connected { via });
    let conn = Conn {
        tell,
        client,
        server: upstream,
        aborted: AtomicBool::new(false),
    };
    thread::scope(|both| {
        both.spawn(|| conn.pump(Toward::Client, mode));
        conn.pump(Toward::Server, mode);
    });
    conn.tell.say(What::Closed);
}

fn is_reset(e: &io::Error) -> bool {
    use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe)
}

impl Conn {
    /// The stream read from and the stream written to, going `toward`.
    fn ends(&self, toward: Toward) -> (&TcpStream, &TcpStream) {
        match toward {
            Toward::Server => (&self.client, &self.server),
            Toward::Client => (&self.server, &self.client),
        }
    }

    /// Reset both sides (once), and wake the other thread; the sockets close with RST
    /// once both threads are done.
    fn abort(&self, toward: Toward, why: String) {
        if self.aborted.swap(true, Ordering::SeqCst) {
            return;
        }
        self.tell.say(What::Reset(toward, why));
        for stream in [&self.client, &self.server] {
            reset(stream);
            let _ = stream.shutdown(Shutdown::Read);
        }
    }

    /// The sender this way closed its side: pass it on.
    fn end(&self, toward: Toward) {
        if !self.aborted.load(Ordering::SeqCst) {
            self.tell.say(What::End(toward));
            let _ = self.ends(toward).1.shutdown(Shutdown::Write);
        }
    }

    /// Read from one side and forward to the other until the reading side closes.
    fn pump(&self, toward: Toward, mode: Mode) {
        let (sender, receiver) = toward.ends();
        let (mut from, to) = self.ends(toward);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => return self.end(toward),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_reset(&e) => {
                    let why = format!(
                        "{sender} reset the connection; resetting the {receiver}'s side too"
                    );
                    return self.abort(toward, why);
                }
                Err(e) => {
                    let why = format!(
                        "reading from the {sender}: {}; resetting both sides",
                        cause(&e)
                    );
                    return self.abort(toward, why);
                }
            };
            let mut data = buf[..n].to_vec();
            self.tell.say(What::Data(toward, data.clone()));
            let ended = mode == Mode::Merge && self.hold(from, &mut data, toward);
            if let Err(e) = forward(to, &data, mode) {
                let why = format!(
                    "the {receiver} is gone ({}) while forwarding; resetting the {sender}'s side too",
                    cause(&e)
                );
                return self.abort(toward.back(), why);
            }
            if ended {
                return self.end(toward);
            }
        }
    }

    /// Under [`Mode::Merge`]: keep reading while pieces arrive less than [`MERGE_GAP`]
    /// apart (at most [`MERGE_HOLD`] in all), and say what was merged. True if the sender
    /// closed meanwhile.
    fn hold(&self, mut from: &TcpStream, data: &mut Vec<u8>, toward: Toward) -> bool {
        let until = Instant::now() + MERGE_HOLD;
        let mut buf = vec![0u8; 64 * 1024];
        let ended = loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break false;
            }
            let _ = from.set_read_timeout(Some(left.min(MERGE_GAP)));
            match from.read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => {
                    self.tell.say(What::Data(toward, buf[..n].to_vec()));
                    data.extend_from_slice(&buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The gap passed with nothing new (or an error the next read reports again).
                Err(_) => break false,
            }
        };
        let _ = from.set_read_timeout(None);
        self.tell.say(What::Merged(toward, data.clone()));
        ended
    }
}

fn forward(mut to: &TcpStream, data: &[u8], mode: Mode) -> io::Result<()> {
    let Mode::Split(size) = mode else {
        return to.write_all(data);
    };
    for (i, piece) in data.chunks(size).enumerate() {
        if i > 0 {
            // The pause is the point: each piece reaches the receiver on its own.
            thread::sleep(SPLIT_PAUSE);
        }
        to.write_all(piece)?;
    }
    Ok(())
}

/// A UDP socket of `server`'s family that wakes every [`TICK`].
fn udp_socket(server: SocketAddr) -> io::Result<Arc<UdpSocket>> {
    let socket = UdpSocket::bind(local_for(server))?;
    socket.set_read_timeout(Some(TICK))?;
    Ok(Arc::new(socket))
}

/// A thread that hands what `socket` receives (a datagram and its sender, or an error:
/// the tick, an ICMP error) to `each`, until `stop`.
fn receive<F>(socket: &Arc<UdpSocket>, stop: &Arc<AtomicBool>, mut each: F)
where
    F: FnMut(io::Result<(&[u8], SocketAddr)>) + Send + 'static,
{
    let (socket, stop) = (Arc::clone(socket), Arc::clone(stop));
    thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        while !stop.load(Ordering::SeqCst) {
            let got = socket.recv_from(&mut buf);
            each(got.map(|(n, from)| (&buf[..n], from)));
        }
    });
}

/// One client's traffic through the UDP relay.
#[derive(Clone)]
struct Flow {
    tell: Teller,
    /// The relay's socket towards the server, for this client.
    up: Arc<UdpSocket>,
    stop: Arc<AtomicBool>,
}

/// Start a UDP relay in front of `server`; clients are numbered from `numbers`.
pub fn udp(server: SocketAddr, numbers: Arc<AtomicUsize>, report: Report) -> io::Result<Relay> {
    let (front, first) = (udp_socket(server)?, udp_socket(server)?);
    let relay = Relay {
        addr: front.local_addr()?,
        upstream: Some(first.local_addr()?),
        stop: Arc::default(),
    };
    let stop = Arc::clone(&relay.stop);
    let mut first = Some(first);
    let mut flows = HashMap::new();
    receive(&Arc::clone(&front), &relay.stop, move |got| {
        let Ok((data, client)) = got else { return };
        let flow = match flows.entry(client) {
            Entry::Occupied(flow) => flow.into_mut(),
            Entry::Vacant(slot) => {
                let tell = Teller::next(&numbers, client, server, Arc::clone(&report));
                let up = match first.take().map_or_else(|| udp_socket(server), Ok) {
                    Ok(up) => up,
                    Err(e) => {
                        let doing = format!("cannot open a socket towards {server}");
                        return tell.failed(doing, &e);
                    }
                };
                let via = up.local_addr().unwrap_or(server);
                tell.say(What::Connected { via });
                let stop = Arc::clone(&stop);
                let flow = Flow { tell, up, stop };
                flow.answers(Arc::clone(&front));
                slot.insert(flow)
            }
        };
        flow.pass(data, server);
    });
    Ok(relay)
}

impl Flow {
    /// A datagram from the client, on to `to` (the server, or one of its other ports).
    fn pass(&self, data: &[u8], to: SocketAddr) {
        let tell = self.tell.at(to);
        tell.say(What::Data(Toward::Server, data.to_vec()));
        if let Err(e) = self.up.send_to(data, to) {
            tell.failed("cannot send to the server", &e);
        }
    }

    /// What the server sends to this client: from its own port, out of the `front` socket
    /// the client wrote to; from another port of the server, out of a relay port opened
    /// for that port.
    fn answers(&self, front: Arc<UdpSocket>) {
        let (client, server) = (self.tell.client, self.tell.server);
        let mut outs = HashMap::from([(server, front)]);
        let flow = self.clone();
        receive(&self.up, &self.stop, move |got| {
            let (data, from) = match got {
                Ok(got) => got,
                // ICMP port unreachable (which Windows reports as a reset).
                Err(e) if is_reset(&e) || e.kind() == io::ErrorKind::ConnectionRefused => {
                    let why = "nobody listens at the server's address (ICMP port unreachable)";
                    return flow.tell.say(What::Failure(why.into()));
                }
                Err(_) => return,
            };
            if from.ip() != server.ip() {
                return; // not from the server: not for this client
            }
            let tell = flow.tell.at(from);
            let out = match outs.entry(from) {
                Entry::Occupied(out) => out.into_mut(),
                Entry::Vacant(slot) => match flow.side(from) {
                    Ok(side) => slot.insert(side),
                    Err(e) => {
                        return tell.failed(format_args!("cannot open a port for {from}"), &e);
                    }
                },
            };
            tell.say(What::Data(Toward::Client, data.to_vec()));
            if let Err(e) = out.send_to(data, client) {
                tell.failed(format_args!("cannot pass it to {client}"), &e);
            }
        });
    }

    /// A relay port standing for the server's port `port`: what the client sends to it
    /// goes on to that port.
    fn side(&self, port: SocketAddr) -> io::Result<Arc<UdpSocket>> {
        let side = udp_socket(port)?;
        self.tell.at(port).say(What::NewPort(side.local_addr()?));
        let flow = self.clone();
        receive(&side, &self.stop, move |got| match got {
            Ok((data, from)) if from == flow.tell.client => flow.pass(data, port),
            _ => {}
        });
        Ok(side)
    }
}
