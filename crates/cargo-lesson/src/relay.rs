//! The wire relay behind `cargo lesson run NAME --wire`: it sits between the clients and a
//! server, forwards every byte, and reports each piece as it read it, so a student sees
//! the byte stream the programs see.
//!
//! TCP: one forwarding pair per connection (client → server and server → client, a thread
//! each). What one side does to its end, the relay does to the other: an end of stream
//! (FIN) becomes `shutdown(Write)` towards the other side, and a reset (RST) becomes a
//! reset towards the other side (SO_LINGER 0, then close).
//!
//! `--split N` re-cuts the stream into N-byte writes, sent one at a time with a short
//! pause, so a reader that assumes one read = one message visibly gets other pieces.
//! `--merge` holds pieces back until the sender pauses and forwards them as one write.
//! Both sockets have TCP_NODELAY, so a write of the relay is a segment on the wire.
//!
//! UDP: one datagram relay. Each client address gets its own upstream socket, so the
//! server's reply comes back to the relay on that socket and goes to the right client.
//! A reply from another port of the server (TFTP's transfer ID) gets a relay port of its
//! own, so the client sees a new port there too.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::out::Sink;

/// How the relay forwards what it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each piece as it was read.
    AsRead,
    /// In pieces of this many bytes, one write at a time.
    Split(usize),
    /// Pieces that arrive close together, as one write.
    Merge,
}

/// The pause between two pieces under `--split`: long enough that the receiver's read
/// returns before the next piece arrives, so the split is visible.
pub const SPLIT_PAUSE: Duration = Duration::from_millis(10);
/// Under `--merge`, pieces arriving less than this apart are held and sent together...
pub const MERGE_GAP: Duration = Duration::from_millis(50);
/// ...but nothing is held longer than this.
pub const MERGE_HOLD: Duration = Duration::from_millis(300);
/// At most this many bytes of one piece are shown.
const SHOW_BYTES: usize = 200;

/// A running relay. Dropping it stops accepting; connections already relayed end when
/// their programs close them.
pub struct Relay {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    udp: bool,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag. (The UDP loop wakes by itself.)
        if !self.udp {
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        }
    }
}

/// `b'...'` for up to [`SHOW_BYTES`] bytes.
fn show(data: &[u8]) -> String {
    if data.len() <= SHOW_BYTES {
        netkit::py_bytes(data)
    } else {
        format!(
            "{}… ({} more bytes)",
            netkit::py_bytes(&data[..SHOW_BYTES]),
            data.len() - SHOW_BYTES
        )
    }
}

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
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

/// Start a TCP relay in front of `server`. Connections are numbered from `numbers`
/// (shared between relays, so two servers' connections don't both say `wire 1`).
pub fn tcp(
    server: SocketAddr,
    mode: Mode,
    sink: Sink,
    numbers: Arc<AtomicUsize>,
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
            let n = numbers.fetch_add(1, Ordering::SeqCst) + 1;
            let sink = sink.clone();
            thread::spawn(move || connection(n, client, server, mode, &sink));
        }
    });
    Ok(Relay {
        addr,
        stop,
        udp: false,
    })
}

/// The state two forwarding threads of one connection share.
struct Pair {
    label: String,
    client: TcpStream,
    server: TcpStream,
    /// Set when one side reset the connection and the relay is tearing it down.
    aborted: AtomicBool,
}

#[derive(Clone, Copy)]
enum Dir {
    ToServer,
    ToClient,
}

impl Dir {
    fn arrow(self) -> &'static str {
        match self {
            Dir::ToServer => "client → server",
            Dir::ToClient => "server → client",
        }
    }
    fn sender(self) -> &'static str {
        match self {
            Dir::ToServer => "client",
            Dir::ToClient => "server",
        }
    }
    fn receiver(self) -> &'static str {
        match self {
            Dir::ToServer => "server",
            Dir::ToClient => "client",
        }
    }
}

fn connection(n: usize, client: TcpStream, server_addr: SocketAddr, mode: Mode, sink: &Sink) {
    let label = format!("wire {n}");
    let peer = client
        .peer_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    let server = match TcpStream::connect_timeout(&server_addr, Duration::from_secs(5)) {
        Ok(server) => server,
        Err(e) => {
            sink.push(
                &label,
                format!(
                    "client {peer} connected, but the server at {server_addr} cannot be reached ({}); resetting the client",
                    netkit::cause(&e)
                ),
            );
            reset(&client);
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    sink.push(
        &label,
        format!("client {peer} connected; relaying to server {server_addr}"),
    );
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        sink.push(&label, "cannot duplicate the sockets; closing");
        return;
    };
    let pair = Arc::new(Pair {
        label,
        client,
        server,
        aborted: AtomicBool::new(false),
    });
    let other = Arc::clone(&pair);
    let sink2 = sink.clone();
    let back = thread::spawn(move || pump(&other, server2, Dir::ToClient, mode, &sink2));
    pump(&pair, client2, Dir::ToServer, mode, sink);
    let _ = back.join();
    sink.push(&pair.label, "closed");
}

/// Set SO_LINGER to 0, so closing the socket sends RST instead of FIN.
fn reset(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

impl Pair {
    fn dest(&self, dir: Dir) -> &TcpStream {
        match dir {
            Dir::ToServer => &self.server,
            Dir::ToClient => &self.client,
        }
    }

    /// One side reset the connection (or failed): reset the other side too, and wake the
    /// other forwarding thread. The sockets close with RST once both threads are done.
    fn abort(&self, sink: &Sink, why: String) {
        if self.aborted.swap(true, Ordering::SeqCst) {
            return;
        }
        sink.push(&self.label, why);
        reset(&self.client);
        reset(&self.server);
        let _ = self.client.shutdown(Shutdown::Read);
        let _ = self.server.shutdown(Shutdown::Read);
    }
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// Read from one side and forward to the other until the reading side closes.
fn pump(pair: &Pair, mut from: TcpStream, dir: Dir, mode: Mode, sink: &Sink) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if !pair.aborted.load(Ordering::SeqCst) {
                    let why = if is_reset(&e) {
                        format!(
                            "{} reset the connection; resetting the {}'s side too",
                            dir.sender(),
                            dir.receiver()
                        )
                    } else {
                        format!(
                            "reading from the {}: {}; resetting both sides",
                            dir.sender(),
                            netkit::cause(&e)
                        )
                    };
                    pair.abort(sink, why);
                }
                return;
            }
        };
        if n == 0 {
            if !pair.aborted.load(Ordering::SeqCst) {
                sink.push(
                    &pair.label,
                    format!(
                        "{} closed its side (end of stream); passing it on",
                        dir.sender()
                    ),
                );
                let _ = pair.dest(dir).shutdown(Shutdown::Write);
            }
            return;
        }
        let mut data = buf[..n].to_vec();
        let mut ended = false;
        match mode {
            Mode::AsRead => {
                sink.push(
                    &pair.label,
                    format!("{}  {}  {}", dir.arrow(), bytes(n), show(&data)),
                );
            }
            Mode::Split(size) => {
                let pieces = n.div_ceil(size);
                let note = if pieces > 1 {
                    format!("  (sent as {pieces} pieces of {})", bytes(size))
                } else {
                    String::new()
                };
                sink.push(
                    &pair.label,
                    format!("{}  {}  {}{note}", dir.arrow(), bytes(n), show(&data)),
                );
            }
            Mode::Merge => {
                sink.push(
                    &pair.label,
                    format!("{}  {}  {}  (held)", dir.arrow(), bytes(n), show(&data)),
                );
                ended = hold(&mut from, &mut data, pair, dir, sink);
                sink.push(
                    &pair.label,
                    format!(
                        "{}  {} forwarded in one write  {}",
                        dir.arrow(),
                        bytes(data.len()),
                        show(&data)
                    ),
                );
            }
        }
        if let Err(e) = forward(pair.dest(dir), &data, mode) {
            if !pair.aborted.load(Ordering::SeqCst) {
                pair.abort(
                    sink,
                    format!(
                        "the {} is gone ({}) while forwarding; resetting the {}'s side too",
                        dir.receiver(),
                        netkit::cause(&e),
                        dir.sender()
                    ),
                );
            }
            return;
        }
        if ended {
            if !pair.aborted.load(Ordering::SeqCst) {
                sink.push(
                    &pair.label,
                    format!(
                        "{} closed its side (end of stream); passing it on",
                        dir.sender()
                    ),
                );
                let _ = pair.dest(dir).shutdown(Shutdown::Write);
            }
            return;
        }
    }
}

/// Under `--merge`: keep reading while pieces arrive less than [`MERGE_GAP`] apart (at
/// most [`MERGE_HOLD`] in all). Returns true if the sender closed meanwhile.
fn hold(from: &mut TcpStream, data: &mut Vec<u8>, pair: &Pair, dir: Dir, sink: &Sink) -> bool {
    let started = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    let mut ended = false;
    loop {
        let left = MERGE_HOLD.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        let _ = from.set_read_timeout(Some(left.min(MERGE_GAP)));
        match from.read(&mut buf) {
            Ok(0) => {
                ended = true;
                break;
            }
            Ok(n) => {
                sink.push(
                    &pair.label,
                    format!("{}  {}  {}  (held)", dir.arrow(), bytes(n), show(&buf[..n])),
                );
                data.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // The gap passed with nothing new (or an error the next read reports again).
            Err(_) => break,
        }
    }
    let _ = from.set_read_timeout(None);
    ended
}

fn forward(mut to: &TcpStream, data: &[u8], mode: Mode) -> io::Result<()> {
    match mode {
        Mode::Split(size) => {
            for (i, piece) in data.chunks(size).enumerate() {
                if i > 0 {
                    // The pause is the point: each piece reaches the receiver on its own.
                    thread::sleep(SPLIT_PAUSE);
                }
                to.write_all(piece)?;
            }
            Ok(())
        }
        Mode::AsRead | Mode::Merge => to.write_all(data),
    }
}

/// Start a UDP relay in front of `server`: one line per datagram, each client with its
/// own upstream socket so the replies find their way back.
///
/// A server may answer from another port than the one the client wrote to (TFTP does:
/// each transfer gets a port of its own, its transfer ID). The relay then opens a port of
/// its own for that server port, sends the answer to the client from there, and passes
/// what the client sends to it on to that server port: the client sees a new port, as it
/// would without the relay.
pub fn udp(server: SocketAddr, sink: Sink, numbers: Arc<AtomicUsize>) -> io::Result<Relay> {
    let socket = UdpSocket::bind(local_for(server))?;
    let addr = socket.local_addr()?;
    // The loops look at the stop flag this often.
    let tick = Duration::from_millis(200);
    socket.set_read_timeout(Some(tick))?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let socket = Arc::new(socket);
    thread::spawn(move || {
        let upstreams: Mutex<HashMap<SocketAddr, (String, Arc<UdpSocket>)>> =
            Mutex::new(HashMap::new());
        let mut buf = vec![0u8; 65_536];
        while !stopped.load(Ordering::SeqCst) {
            let (n, client) = match socket.recv_from(&mut buf) {
                Ok(got) => got,
                Err(_) => continue, // the tick, or an ICMP error from an earlier send
            };
            let data = &buf[..n];
            let mut map = upstreams.lock().unwrap_or_else(|e| e.into_inner());
            if let Entry::Vacant(slot) = map.entry(client) {
                let n = numbers.fetch_add(1, Ordering::SeqCst) + 1;
                let label = format!("wire {n}");
                // Not connected: the answers may come from other ports of the server.
                let up = match UdpSocket::bind(local_for(server)).and_then(|up| {
                    up.set_read_timeout(Some(tick))?;
                    Ok(up)
                }) {
                    Ok(up) => Arc::new(up),
                    Err(e) => {
                        sink.push(
                            &label,
                            format!(
                                "cannot open a socket towards {server}: {}",
                                netkit::cause(&e)
                            ),
                        );
                        continue;
                    }
                };
                let via = up
                    .local_addr()
                    .map_or_else(|_| "?".to_string(), |a| a.to_string());
                sink.push(
                    &label,
                    format!("client {client}: relaying to server {server} from {via}"),
                );
                let flow = Flow {
                    server,
                    client,
                    up: Arc::clone(&up),
                    main: Arc::clone(&socket),
                    sink: sink.clone(),
                    label: label.clone(),
                    stopped: Arc::clone(&stopped),
                    tick,
                };
                thread::spawn(move || flow.answers());
                slot.insert((label, up));
            }
            if let Some((label, up)) = map.get(&client) {
                sink.push(
                    label,
                    format!("client → server  {}  {}", bytes(n), show(data)),
                );
                if let Err(e) = up.send_to(data, server) {
                    sink.push(
                        label,
                        format!("cannot send to the server: {}", netkit::cause(&e)),
                    );
                }
            }
        }
    });
    Ok(Relay {
        addr,
        stop,
        udp: true,
    })
}

/// One client's traffic through the UDP relay.
struct Flow {
    server: SocketAddr,
    client: SocketAddr,
    /// The relay's socket towards the server, for this client.
    up: Arc<UdpSocket>,
    /// The relay's front socket, which the client wrote to.
    main: Arc<UdpSocket>,
    sink: Sink,
    label: String,
    stopped: Arc<AtomicBool>,
    tick: Duration,
}

impl Flow {
    /// What the server sends to this client: from its own port, out of the front socket;
    /// from another port of the server, out of a relay port opened for that port.
    fn answers(self) {
        let mut sides: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
        let mut buf = vec![0u8; 65_536];
        while !self.stopped.load(Ordering::SeqCst) {
            let (n, from) = match self.up.recv_from(&mut buf) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    self.sink.push(
                        &self.label,
                        "nobody listens at the server's address (ICMP port unreachable)",
                    );
                    continue;
                }
                Err(_) => continue,
            };
            let data = &buf[..n];
            let out = if from == self.server {
                Arc::clone(&self.main)
            } else if from.ip() != self.server.ip() {
                self.sink.push(
                    &self.label,
                    format!("ignored {} from {from}, not the server", bytes(n)),
                );
                continue;
            } else if let Some(side) = sides.get(&from) {
                Arc::clone(side)
            } else {
                match self.side(from) {
                    Ok(side) => {
                        sides.insert(from, Arc::clone(&side));
                        side
                    }
                    Err(e) => {
                        self.sink.push(
                            &self.label,
                            format!("cannot open a port for {from}: {}", netkit::cause(&e)),
                        );
                        continue;
                    }
                }
            };
            let port = if from == self.server {
                String::new()
            } else {
                format!(" (from port {})", from.port())
            };
            self.sink.push(
                &self.label,
                format!("server → client  {}  {}{port}", bytes(n), show(data)),
            );
            if let Err(e) = out.send_to(data, self.client) {
                self.sink.push(
                    &self.label,
                    format!("cannot pass it to {}: {}", self.client, netkit::cause(&e)),
                );
            }
        }
    }

    /// A relay port standing for the server's port `server_port`: what the client sends
    /// to it goes on to that port.
    fn side(&self, server_port: SocketAddr) -> io::Result<Arc<UdpSocket>> {
        let side = UdpSocket::bind(local_for(self.server))?;
        side.set_read_timeout(Some(self.tick))?;
        let side = Arc::new(side);
        self.sink.push(
            &self.label,
            format!(
                "the server answers from port {}: the client sees it as {}",
                server_port.port(),
                side.local_addr()?
            ),
        );
        let (listen, up, client) = (Arc::clone(&side), Arc::clone(&self.up), self.client);
        let (sink, label, stopped) = (
            self.sink.clone(),
            self.label.clone(),
            Arc::clone(&self.stopped),
        );
        thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            while !stopped.load(Ordering::SeqCst) {
                let Ok((n, from)) = listen.recv_from(&mut buf) else {
                    continue;
                };
                if from != client {
                    continue;
                }
                sink.push(
                    &label,
                    format!(
                        "client → server  {}  {} (to port {})",
                        bytes(n),
                        show(&buf[..n]),
                        server_port.port()
                    ),
                );
                if let Err(e) = up.send_to(&buf[..n], server_port) {
                    sink.push(
                        &label,
                        format!("cannot send to the server: {}", netkit::cause(&e)),
                    );
                }
            }
        });
        Ok(side)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::ErrorKind;

    const PATIENCE: Duration = Duration::from_secs(10);

    fn listener() -> (TcpListener, SocketAddr) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let a = l.local_addr().expect("addr");
        (l, a)
    }

    fn connect(addr: SocketAddr) -> TcpStream {
        let s = TcpStream::connect(addr).expect("connect through the relay");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        s
    }

    fn accept(l: &TcpListener) -> TcpStream {
        let (s, _) = l.accept().expect("accept from the relay");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        s
    }

    fn wire_lines(sink: &Sink, until: &str) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        let mut lines = Vec::new();
        loop {
            lines.extend(
                sink.take()
                    .into_iter()
                    .map(|e| format!("[{}] {}", e.label, e.text)),
            );
            if lines.iter().any(|l| l.contains(until)) || Instant::now() > deadline {
                return lines;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn relay(mode: Mode) -> (TcpListener, Relay, Sink) {
        let (server, addr) = listener();
        let sink = Sink::default();
        let relay = tcp(addr, mode, sink.clone(), Arc::new(AtomicUsize::new(0))).expect("relay");
        (server, relay, sink)
    }

    #[test]
    fn bytes_pass_both_ways_and_are_shown() {
        let (server, relay, sink) = relay(Mode::AsRead);
        let mut c = connect(relay.addr);
        let mut s = accept(&server);
        c.write_all(b"hello").expect("client writes");
        let mut got = [0u8; 5];
        s.read_exact(&mut got).expect("server reads");
        assert_eq!(&got, b"hello");
        s.write_all(b"ok\n").expect("server writes");
        s.shutdown(Shutdown::Write).expect("server closes");
        let mut back = Vec::new();
        c.read_to_end(&mut back).expect("client reads to the end");
        assert_eq!(back, b"ok\n");
        drop(c);
        let lines = wire_lines(&sink, "] closed");
        let text = lines.join("\n");
        assert!(
            text.contains("[wire 1] client → server  5 bytes  b'hello'"),
            "{text}"
        );
        assert!(
            text.contains("[wire 1] server → client  3 bytes  b'ok\\n'"),
            "{text}"
        );
        assert!(text.contains("server closed its side"), "{text}");
        assert!(text.contains("client closed its side"), "{text}");
    }

    #[test]
    fn split_re_cuts_the_stream_into_pieces() {
        let (server, relay, sink) = relay(Mode::Split(1));
        let mut c = connect(relay.addr);
        let mut s = accept(&server);
        c.write_all(b"abcd").expect("client writes");
        // Every read the server does gets exactly one byte: the relay sends them apart.
        let mut reads = Vec::new();
        let mut buf = [0u8; 16];
        while reads.concat::<u8>().len() < 4 {
            let n = s.read(&mut buf).expect("server reads");
            assert!(n > 0, "closed early");
            reads.push(buf[..n].to_vec());
        }
        assert_eq!(
            reads,
            [b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), b"d".to_vec()]
        );
        let text = wire_lines(&sink, "pieces").join("\n");
        assert!(
            text.contains("client → server  4 bytes  b'abcd'  (sent as 4 pieces of 1 byte)"),
            "{text}"
        );
    }

    #[test]
    fn merge_forwards_close_writes_as_one() {
        let (server, relay, sink) = relay(Mode::Merge);
        let mut c = connect(relay.addr);
        c.set_nodelay(true).expect("nodelay");
        let mut s = accept(&server);
        c.write_all(b"hello,").expect("first write");
        // Wait until the relay has read the first piece, so the second is a separate read
        // that the relay has to merge.
        let seen = wire_lines(&sink, "(held)");
        c.write_all(b"world").expect("second write");
        c.shutdown(Shutdown::Write).expect("close");
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        let first = s.read(&mut buf).expect("read");
        got.extend_from_slice(&buf[..first]);
        assert_eq!(&got, b"hello,world", "one read gets both writes");
        let mut text = seen;
        text.extend(wire_lines(&sink, "one write"));
        let text = text.join("\n");
        assert!(
            text.contains("11 bytes forwarded in one write  b'hello,world'"),
            "{text}"
        );
    }

    #[test]
    fn a_reset_from_the_server_reaches_the_client_as_a_reset() {
        let (server, relay, sink) = relay(Mode::AsRead);
        let mut c = connect(relay.addr);
        let s = accept(&server);
        c.write_all(b"x").expect("client writes");
        // The server closes abruptly: linger 0 turns close into RST.
        let mut s = s;
        let mut one = [0u8; 1];
        s.read_exact(&mut one).expect("server reads");
        reset(&s);
        drop(s);
        let mut buf = [0u8; 8];
        let err = c.read(&mut buf).expect_err("the client sees the reset");
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
        let text = wire_lines(&sink, "] closed").join("\n");
        assert!(
            text.contains("server reset the connection; resetting the client's side too"),
            "{text}"
        );
    }

    #[test]
    fn a_client_that_leaves_without_reading_is_passed_on() {
        let (server, relay, sink) = relay(Mode::AsRead);
        let c = connect(relay.addr);
        let mut s = accept(&server);
        s.write_all(b"unread").expect("server writes");
        wire_lines(&sink, "b'unread'");
        // Closing with unread data in the receive buffer sends RST.
        drop(c);
        let mut buf = [0u8; 8];
        let deadline = Instant::now() + PATIENCE;
        // Depending on timing the server sees the end of the stream or the reset; either
        // way its read ends instead of hanging.
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => assert!(Instant::now() < deadline),
            }
        }
        let text = wire_lines(&sink, "] closed").join("\n");
        assert!(text.contains("] closed"), "{text}");
    }

    #[test]
    fn udp_replies_go_back_to_each_client() {
        let server = UdpSocket::bind("127.0.0.1:0").expect("server");
        server.set_read_timeout(Some(PATIENCE)).expect("timeout");
        let server_addr = server.local_addr().expect("addr");
        let sink = Sink::default();
        let relay = udp(server_addr, sink.clone(), Arc::new(AtomicUsize::new(0))).expect("relay");
        let a = UdpSocket::bind("127.0.0.1:0").expect("a");
        let b = UdpSocket::bind("127.0.0.1:0").expect("b");
        for s in [&a, &b] {
            s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        }
        a.send_to(b"from a", relay.addr).expect("a sends");
        b.send_to(b"from b", relay.addr).expect("b sends");
        let mut buf = [0u8; 64];
        for _ in 0..2 {
            let (n, from) = server.recv_from(&mut buf).expect("server receives");
            let reply = [b"re: ".as_slice(), &buf[..n]].concat();
            server.send_to(&reply, from).expect("server replies");
        }
        let (n, from) = a.recv_from(&mut buf).expect("a gets its reply");
        assert_eq!(&buf[..n], b"re: from a");
        assert_eq!(from, relay.addr);
        let (n, _) = b.recv_from(&mut buf).expect("b gets its reply");
        assert_eq!(&buf[..n], b"re: from b");
        let text = wire_lines(&sink, "b're: from b'").join("\n");
        assert!(
            text.contains("client → server  6 bytes  b'from a'"),
            "{text}"
        );
        assert!(
            text.contains("server → client  10 bytes  b're: from a'"),
            "{text}"
        );
    }

    /// TFTP's server answers from a new port: the client sees a relay port standing for
    /// it, and what it sends there reaches that server port.
    #[test]
    fn udp_answers_from_another_server_port_get_a_relay_port_of_their_own() {
        let server = UdpSocket::bind("127.0.0.1:0").expect("server");
        let transfer = UdpSocket::bind("127.0.0.1:0").expect("transfer port");
        for s in [&server, &transfer] {
            s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        }
        let server_addr = server.local_addr().expect("addr");
        let sink = Sink::default();
        let relay = udp(server_addr, sink.clone(), Arc::new(AtomicUsize::new(0))).expect("relay");
        let client = UdpSocket::bind("127.0.0.1:0").expect("client");
        client.set_read_timeout(Some(PATIENCE)).expect("timeout");
        client.send_to(b"request", relay.addr).expect("request");
        let mut buf = [0u8; 64];
        let (n, upstream) = server.recv_from(&mut buf).expect("server gets the request");
        assert_eq!(&buf[..n], b"request");
        transfer
            .send_to(b"data 1", upstream)
            .expect("answer from the transfer port");
        let (n, side) = client.recv_from(&mut buf).expect("the client gets it");
        assert_eq!(&buf[..n], b"data 1");
        assert_ne!(side, relay.addr, "a port of its own");
        client.send_to(b"ack 1", side).expect("ack to that port");
        let (n, from) = transfer
            .recv_from(&mut buf)
            .expect("the transfer port gets it");
        assert_eq!((&buf[..n], from), (b"ack 1".as_slice(), upstream));
        let text = wire_lines(&sink, "b'ack 1'").join("\n");
        let port = transfer.local_addr().expect("addr").port();
        assert!(
            text.contains(&format!(
                "the server answers from port {port}: the client sees it as {side}"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "client → server  5 bytes  b'ack 1' (to port {port})"
            )),
            "{text}"
        );
    }
}
