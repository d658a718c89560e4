//! Our server and lesson 18's client through a relay, in this test, that throws away 10%
//! of the datagrams in each direction: the timers and retransmissions of both sides must
//! still deliver the file byte for byte.
//!
//! The relay sits in front of the server's request port. Like the server, it keeps every
//! transfer apart: for each client it has its own socket towards the server, and for each
//! port the server answers from (a transfer ID) it opens a port of its own towards the
//! client, so the client sees a new transfer ID just as it would without the relay.
//! Which datagrams are lost comes from a seeded generator: the same sequence of losses
//! in each direction on every run.

mod common;

use std::collections::HashMap;
use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::*;

/// How often the relay's threads look at the stop flag.
const TICK: Duration = Duration::from_millis(50);

/// One direction of the relay: its own loss sequence and counters.
struct Direction {
    state: Mutex<u64>,
    percent: u64,
    passed: AtomicUsize,
    dropped: AtomicUsize,
}

impl Direction {
    fn new(seed: u64, percent: u64) -> Direction {
        Direction {
            state: Mutex::new(seed | 1),
            percent,
            passed: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
        }
    }

    /// Should the next datagram this way be thrown away? (xorshift64)
    fn lose(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let lose = *state % 100 < self.percent;
        let counter = if lose { &self.dropped } else { &self.passed };
        counter.fetch_add(1, Ordering::SeqCst);
        lose
    }

    /// Pass `bytes` on with `socket` to `to`, unless this one is lost.
    fn forward(&self, socket: &UdpSocket, bytes: &[u8], to: SocketAddr) {
        if !self.lose() {
            let _ = socket.send_to(bytes, to);
        }
    }
}

struct Shared {
    server: SocketAddr,
    stop: AtomicBool,
    up: Direction,   // client → server
    down: Direction, // server → client
}

struct LossyRelay {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Drop for LossyRelay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

fn relay_socket() -> Arc<UdpSocket> {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a relay socket");
    socket.set_read_timeout(Some(TICK)).expect("read timeout");
    Arc::new(socket)
}

/// Receive the next datagram, or `None` on a tick (or an ICMP error from an earlier send
/// to a program that has already ended).
fn next(socket: &UdpSocket, buf: &mut [u8]) -> Option<(usize, SocketAddr)> {
    socket.recv_from(buf).ok()
}

/// Start a relay in front of `server`'s request port.
fn lossy_relay(server: SocketAddr, seed: u64, percent: u64) -> LossyRelay {
    let front = relay_socket();
    let addr = front.local_addr().expect("relay addr");
    let shared = Arc::new(Shared {
        server,
        stop: AtomicBool::new(false),
        up: Direction::new(seed, percent),
        down: Direction::new(seed.rotate_left(32) ^ 0xA5A5, percent),
    });
    let s = Arc::clone(&shared);
    thread::spawn(move || {
        // Each client gets its own socket towards the server.
        let mut flows: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
        let mut buf = vec![0u8; 70_000];
        while !s.stop.load(Ordering::SeqCst) {
            let Some((n, client)) = next(&front, &mut buf) else {
                continue;
            };
            let up = flows.entry(client).or_insert_with(|| {
                let up = relay_socket();
                answers_from_the_server(Arc::clone(&s), Arc::clone(&up), client);
                up
            });
            // A request (or a request sent again): to the server's request port.
            s.up.forward(up, &buf[..n], s.server);
        }
    });
    LossyRelay { addr, shared }
}

/// What the server sends to one client's flow: each port it sends from gets a relay port
/// of its own towards the client, and what the client sends to that relay port goes back
/// to that server port.
fn answers_from_the_server(s: Arc<Shared>, up: Arc<UdpSocket>, client: SocketAddr) {
    thread::spawn(move || {
        let mut sides: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
        let mut buf = vec![0u8; 70_000];
        while !s.stop.load(Ordering::SeqCst) {
            let Some((n, server_port)) = next(&up, &mut buf) else {
                continue;
            };
            let side = sides.entry(server_port).or_insert_with(|| {
                let side = relay_socket();
                let (s, up, side2) = (Arc::clone(&s), Arc::clone(&up), Arc::clone(&side));
                thread::spawn(move || {
                    let mut buf = vec![0u8; 70_000];
                    while !s.stop.load(Ordering::SeqCst) {
                        match next(&side2, &mut buf) {
                            Some((n, from)) if from == client => {
                                s.up.forward(&up, &buf[..n], server_port);
                            }
                            _ => {}
                        }
                    }
                });
                side
            });
            s.down.forward(side, &buf[..n], client);
        }
    });
}

#[test]
fn a_file_crosses_a_link_that_loses_10_percent_each_way() {
    let Some(ours) = our_client() else { return };
    let root = Scratch::new("root");
    let want = file(&root, "lossy.bin", contents(100_000, 31));
    let timers = ["--timeout", "0.05", "--retries", "30"];
    let (_server, server_addr) = start_server(root.path(), &timers);
    let relay = lossy_relay(server_addr, 0x5EED_1234, 10);

    let here = Scratch::new("out");
    let mut args = vec!["lossy.bin", "-o", "copy.bin"];
    args.extend(timers);
    let done = client(&ours, here.path(), relay.addr, &args);

    let s = &relay.shared;
    let counts = format!(
        "client→server passed {} dropped {}, server→client passed {} dropped {}",
        s.up.passed.load(Ordering::SeqCst),
        s.up.dropped.load(Ordering::SeqCst),
        s.down.passed.load(Ordering::SeqCst),
        s.down.dropped.load(Ordering::SeqCst)
    );
    assert_eq!(done.code(), 0, "{counts}\nstderr: {}", done.stderr);
    let got = fs::read(here.join("copy.bin")).expect("the file");
    assert_same_bytes(&got, &want, "copy.bin");
    assert_eq!(here.names(), ["copy.bin"]);
    // The test proves something only if the relay did lose datagrams both ways.
    assert!(s.up.dropped.load(Ordering::SeqCst) > 0, "{counts}");
    assert!(s.down.dropped.load(Ordering::SeqCst) > 0, "{counts}");
    // The client saw the relay's port for the server's transfer port, not the relay's
    // front port: a new transfer ID, as without the relay.
    assert!(
        !done
            .stdout
            .contains(&format!("the server answers from {}:", relay.addr)),
        "{}",
        done.stdout
    );
    eprintln!("{counts}");
}
