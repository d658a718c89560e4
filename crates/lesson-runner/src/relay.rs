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
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
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
    if server.is_ipv6() {
        SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 0))
    } else {
        SocketAddr::from(([127, 0, 0, 1], 0))
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
    fn say(&self, what: What) {
        self.say_at(self.server, what);
    }

    /// ... about `server`, another port of the server's.
    fn say_at(&self, server: SocketAddr, what: What) {
        let (conn, client) = (self.conn, self.client);
        (self.report)(&Event {
            conn,
            client,
            server,
            what,
        });
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
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    thread::spawn(move || {
        for incoming in listener.incoming() {
            if stopped.load(Ordering::SeqCst) {
                break;
            }
            let Ok(client) = incoming else { continue };
            let conn = numbers.fetch_add(1, Ordering::SeqCst) + 1;
            let report = Arc::clone(&report);
            thread::spawn(move || connection(conn, client, server, mode, report));
        }
    });
    Ok(Relay {
        addr,
        upstream: None,
        stop,
    })
}

/// One TCP connection: both streams, and whether the relay is tearing it down.
struct Conn {
    tell: Teller,
    client: TcpStream,
    server: TcpStream,
    aborted: AtomicBool,
}

fn connection(conn: usize, client: TcpStream, server: SocketAddr, mode: Mode, report: Report) {
    let Ok(peer) = client.peer_addr() else {
        return;
    };
    let tell = Teller {
        conn,
        client: peer,
        server,
        report,
    };
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
    let copies = (
        upstream.local_addr(),
        client.try_clone(),
        upstream.try_clone(),
    );
    let (Ok(via), Ok(from_client), Ok(from_server)) = copies else {
        return tell.say(What::Failure(
            "cannot duplicate the sockets; closing".into(),
        ));
    };
    for stream in [&client, &upstream] {
        let _ = stream.set_nodelay(true);
    }
    tell.say(What::Connected { via });
    let conn = Arc::new(Conn {
        tell,
        client,
        server: upstream,
        aborted: AtomicBool::new(false),
    });
    let other = Arc::clone(&conn);
    let back = thread::spawn(move || other.pump(from_server, Toward::Client, mode));
    conn.pump(from_client, Toward::Server, mode);
    let _ = back.join();
    conn.tell.say(What::Closed);
}

fn is_reset(e: &io::Error) -> bool {
    use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe)
}

impl Conn {
    fn to(&self, toward: Toward) -> &TcpStream {
        match toward {
            Toward::Server => &self.server,
            Toward::Client => &self.client,
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
            let _ = self.to(toward).shutdown(Shutdown::Write);
        }
    }

    /// Read from one side and forward to the other until the reading side closes.
    fn pump(&self, mut from: TcpStream, toward: Toward, mode: Mode) {
        let (sender, receiver) = toward.ends();
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
            let ended = mode == Mode::Merge && self.hold(&mut from, &mut data, toward);
            if mode == Mode::Merge {
                self.tell.say(What::Merged(toward, data.clone()));
            }
            if let Err(e) = forward(self.to(toward), &data, mode) {
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
    /// apart (at most [`MERGE_HOLD`] in all). True if the sender closed meanwhile.
    fn hold(&self, from: &mut TcpStream, data: &mut Vec<u8>, toward: Toward) -> bool {
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
fn receive<F>(socket: Arc<UdpSocket>, stop: Arc<AtomicBool>, mut each: F)
where
    F: FnMut(io::Result<(&[u8], SocketAddr)>) + Send + 'static,
{
    thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        while !stop.load(Ordering::SeqCst) {
            each(
                socket
                    .recv_from(&mut buf)
                    .map(|(n, from)| (&buf[..n], from)),
            );
        }
    });
}

/// One client's traffic through the UDP relay.
#[derive(Clone)]
struct Flow {
    tell: Teller,
    /// The relay's socket towards the server, for this client.
    up: Arc<UdpSocket>,
    /// The relay's front socket, which the client wrote to.
    front: Arc<UdpSocket>,
    stop: Arc<AtomicBool>,
}

/// Start a UDP relay in front of `server`; clients are numbered from `numbers`.
pub fn udp(server: SocketAddr, numbers: Arc<AtomicUsize>, report: Report) -> io::Result<Relay> {
    let (front, first) = (udp_socket(server)?, udp_socket(server)?);
    let (addr, upstream) = (front.local_addr()?, first.local_addr()?);
    let (stop, mut first) = (Arc::new(AtomicBool::new(false)), Some(first));
    let (socket, stopped) = (Arc::clone(&front), Arc::clone(&stop));
    let mut flows: HashMap<SocketAddr, Flow> = HashMap::new();
    receive(socket, Arc::clone(&stop), move |got| {
        let Ok((data, client)) = got else { return };
        let flow = match flows.entry(client) {
            Entry::Occupied(flow) => flow.into_mut(),
            Entry::Vacant(slot) => {
                let conn = numbers.fetch_add(1, Ordering::SeqCst) + 1;
                let report = Arc::clone(&report);
                let tell = Teller {
                    conn,
                    client,
                    server,
                    report,
                };
                let up = match first.take().map_or_else(|| udp_socket(server), Ok) {
                    Ok(up) => up,
                    Err(e) => {
                        let why = format!("cannot open a socket towards {server}: {}", cause(&e));
                        return tell.say(What::Failure(why));
                    }
                };
                let via = up.local_addr().unwrap_or(server);
                tell.say(What::Connected { via });
                let (front, stop) = (Arc::clone(&front), Arc::clone(&stopped));
                let flow = Flow {
                    tell,
                    up,
                    front,
                    stop,
                };
                flow.clone().answers();
                slot.insert(flow)
            }
        };
        flow.pass(data, server);
    });
    Ok(Relay {
        addr,
        upstream: Some(upstream),
        stop,
    })
}

impl Flow {
    /// A datagram from the client, on to `to` (the server, or one of its other ports).
    fn pass(&self, data: &[u8], to: SocketAddr) {
        self.tell
            .say_at(to, What::Data(Toward::Server, data.to_vec()));
        if let Err(e) = self.up.send_to(data, to) {
            let why = format!("cannot send to the server: {}", cause(&e));
            self.tell.say_at(to, What::Failure(why));
        }
    }

    /// What the server sends to this client: from its own port, out of the front socket;
    /// from another port of the server, out of a relay port opened for that port.
    fn answers(self) {
        let (client, server) = (self.tell.client, self.tell.server);
        let mut sides: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
        receive(Arc::clone(&self.up), Arc::clone(&self.stop), move |got| {
            let (data, from) = match got {
                Ok(got) => got,
                // ICMP port unreachable (which Windows reports as a reset).
                Err(e) if is_reset(&e) || e.kind() == io::ErrorKind::ConnectionRefused => {
                    let why = "nobody listens at the server's address (ICMP port unreachable)";
                    return self.tell.say(What::Failure(why.into()));
                }
                Err(_) => return,
            };
            let out = if from == server {
                Arc::clone(&self.front)
            } else if from.ip() != server.ip() {
                return; // not from the server: not for this client
            } else {
                match sides
                    .get(&from)
                    .cloned()
                    .map_or_else(|| self.side(from), Ok)
                {
                    Ok(side) => Arc::clone(sides.entry(from).or_insert(side)),
                    Err(e) => {
                        let why = format!("cannot open a port for {from}: {}", cause(&e));
                        return self.tell.say_at(from, What::Failure(why));
                    }
                }
            };
            self.tell
                .say_at(from, What::Data(Toward::Client, data.to_vec()));
            if let Err(e) = out.send_to(data, client) {
                let why = format!("cannot pass it to {client}: {}", cause(&e));
                self.tell.say_at(from, What::Failure(why));
            }
        });
    }

    /// A relay port standing for the server's port `port`: what the client sends to it
    /// goes on to that port.
    fn side(&self, port: SocketAddr) -> io::Result<Arc<UdpSocket>> {
        let side = udp_socket(self.tell.server)?;
        self.tell.say_at(port, What::NewPort(side.local_addr()?));
        let flow = self.clone();
        receive(Arc::clone(&side), Arc::clone(&self.stop), move |got| {
            if let Ok((data, from)) = got {
                if from == flow.tell.client {
                    flow.pass(data, port);
                }
            }
        });
        Ok(side)
    }
}
