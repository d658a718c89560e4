//! Taps: relays a test puts between two programs to record every byte that passes.
//!
//! A lesson's client is pointed at the tap instead of the server; the tap connects to the
//! server and forwards both ways, keeping a copy. The test then asserts on what went over
//! the wire (`to_server`, `to_client`), not only on what each program printed about it.
//!
//! - [`TcpTap`]: one upstream connection per client connection. The end of a stream is
//!   passed on as `shutdown(Write)`, so half-closes (a client's `shutdown`, a server's
//!   close after its last reply) reach the other side as they would directly.
//! - [`UdpTap`]: datagrams from the client side go to the server from the tap's own
//!   socket ([`UdpTap::back_addr`]); datagrams arriving there go back to the client that
//!   sent last. Each datagram is kept whole.
//!
//! The programs see the tap's addresses, not each other's: a server prints the tap's
//! upstream address as its client ([`Relayed::server_side`]), a client prints the tap's
//! address as its server.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crate::PATIENCE;

/// Which way a piece went through a tap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toward {
    /// From the client side to the server side.
    Server,
    /// From the server side back to the client side.
    Client,
}

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

/// What the taps' threads share with the test.
struct Log<T> {
    items: Mutex<T>,
    changed: Condvar,
}

impl<T> Log<T> {
    fn new(items: T) -> Arc<Log<T>> {
        Arc::new(Log {
            items: Mutex::new(items),
            changed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, T> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Change the log and wake whoever waits on it.
    fn update(&self, change: impl FnOnce(&mut T)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }

    /// Wait until `ready` says yes, at most `timeout`; a copy of what `ready` picked.
    fn wait<R>(&self, timeout: Duration, ready: impl Fn(&T) -> Option<R>) -> Option<R> {
        let deadline = Instant::now() + timeout;
        let mut items = self.lock();
        loop {
            if let Some(found) = ready(&items) {
                return Some(found);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            items = self
                .changed
                .wait_timeout(items, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// A connection in progress: its record and how many directions are still open.
struct Entry {
    relayed: Relayed,
    open: u8,
}

/// A TCP relay that records both directions of every connection. Stops accepting when
/// dropped (connections in progress finish on their own).
pub struct TcpTap {
    addr: SocketAddr,
    log: Arc<Log<Vec<Entry>>>,
    stop: Arc<AtomicBool>,
}

impl TcpTap {
    /// Listen on a free port of 127.0.0.1 and relay every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> io::Result<TcpTap> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let log = Log::new(Vec::new());
        let stop = Arc::new(AtomicBool::new(false));
        let (for_thread, stop_thread) = (Arc::clone(&log), Arc::clone(&stop));
        thread::spawn(move || {
            for accepted in listener.incoming() {
                if stop_thread.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(client) = accepted {
                    // A connection the tap cannot relay is dropped: the client sees the
                    // end of the stream, and the test sees no record for it.
                    let _ = relay(client, upstream, &for_thread);
                }
            }
        });
        Ok(TcpTap { addr, log, stop })
    }

    /// Where clients connect: give this to the client instead of the server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Wait until `count` connections have ended both ways (at most `timeout`) and return
    /// them in the order they were accepted.
    pub fn finished(&self, count: usize, timeout: Duration) -> io::Result<Vec<Relayed>> {
        let done = |entries: &Vec<Entry>| -> Vec<Relayed> {
            entries
                .iter()
                .filter(|e| e.open == 0)
                .map(|e| e.relayed.clone())
                .collect()
        };
        self.log
            .wait(timeout, |entries| {
                let finished = done(entries);
                (finished.len() >= count).then_some(finished)
            })
            .ok_or_else(|| {
                let entries = self.log.lock();
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the tap saw {} of {count} connections end within {timeout:?}; so far: {:?}",
                        done(&entries).len(),
                        entries.iter().map(|e| &e.relayed).collect::<Vec<_>>()
                    ),
                )
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

impl Drop for TcpTap {
    fn drop(&mut self) {
        // Wake the accept loop so that it sees the flag and ends.
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Connect upstream for one accepted client and start a copying thread each way.
fn relay(client: TcpStream, upstream: SocketAddr, log: &Arc<Log<Vec<Entry>>>) -> io::Result<()> {
    let server = TcpStream::connect_timeout(&upstream, PATIENCE)?;
    for stream in [&client, &server] {
        // A conversation that stalls fails the test instead of holding a thread for ever.
        stream.set_read_timeout(Some(PATIENCE))?;
        stream.set_write_timeout(Some(PATIENCE))?;
        // Pass each piece on as it came, without waiting to merge it with the next.
        stream.set_nodelay(true)?;
    }
    let index = {
        let mut entries = log.lock();
        entries.push(Entry {
            relayed: Relayed {
                client: client.peer_addr()?,
                server_side: server.local_addr()?,
                to_server: Vec::new(),
                to_client: Vec::new(),
            },
            open: 2,
        });
        entries.len() - 1
    };
    let (client_reader, server_writer) = (client.try_clone()?, server.try_clone()?);
    let up = Arc::clone(log);
    thread::spawn(move || copy(client_reader, server_writer, Toward::Server, index, &up));
    let down = Arc::clone(log);
    thread::spawn(move || copy(server, client, Toward::Client, index, &down));
    Ok(())
}

/// Copy one direction until its end of stream (passed on as `shutdown(Write)`) or an
/// error (both connections shut down), recording every byte.
fn copy(mut from: TcpStream, mut to: TcpStream, way: Toward, index: usize, log: &Log<Vec<Entry>>) {
    let mut buf = [0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                break;
            }
            Ok(n) => {
                log.update(|entries| {
                    let relayed = &mut entries[index].relayed;
                    match way {
                        Toward::Server => relayed.to_server.extend_from_slice(&buf[..n]),
                        Toward::Client => relayed.to_client.extend_from_slice(&buf[..n]),
                    }
                });
                if to.write_all(&buf[..n]).is_err() {
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                break;
            }
        }
    }
    log.update(|entries| entries[index].open -= 1);
}

/// The datagrams a [`UdpTap`] has passed on, in order, with the way each went.
pub type Datagrams = Vec<(Toward, Vec<u8>)>;

/// A UDP relay that records every datagram, for one client at a time (the one that sent
/// last gets the replies). Its threads end when it is dropped.
pub struct UdpTap {
    front: SocketAddr,
    back: SocketAddr,
    log: Arc<Log<Datagrams>>,
    stop: Arc<AtomicBool>,
}

impl UdpTap {
    /// Bind two sockets on 127.0.0.1: the front one for the client side, the back one
    /// that sends to `upstream` and takes its replies.
    pub fn start(upstream: SocketAddr) -> io::Result<UdpTap> {
        let front = UdpSocket::bind("127.0.0.1:0")?;
        let back = UdpSocket::bind("127.0.0.1:0")?;
        let (front_addr, back_addr) = (front.local_addr()?, back.local_addr()?);
        let log = Log::new(Vec::new());
        let stop = Arc::new(AtomicBool::new(false));
        // The client side's address, learnt from its first datagram.
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));

        let (front_in, back_out) = (front.try_clone()?, back.try_clone()?);
        let (log_up, stop_up, client_up) =
            (Arc::clone(&log), Arc::clone(&stop), Arc::clone(&client));
        thread::spawn(move || {
            let mut buf = [0u8; 64 * 1024];
            while let Ok((n, from)) = front_in.recv_from(&mut buf) {
                if stop_up.load(Ordering::SeqCst) {
                    return;
                }
                *client_up.lock().unwrap_or_else(|e| e.into_inner()) = Some(from);
                log_up.update(|items| items.push((Toward::Server, buf[..n].to_vec())));
                let _ = back_out.send_to(&buf[..n], upstream);
            }
        });
        let (log_down, stop_down) = (Arc::clone(&log), Arc::clone(&stop));
        thread::spawn(move || {
            let mut buf = [0u8; 64 * 1024];
            while let Ok((n, _)) = back.recv_from(&mut buf) {
                if stop_down.load(Ordering::SeqCst) {
                    return;
                }
                log_down.update(|items| items.push((Toward::Client, buf[..n].to_vec())));
                let to = *client.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(to) = to {
                    let _ = front.send_to(&buf[..n], to);
                }
            }
        });
        Ok(UdpTap {
            front: front_addr,
            back: back_addr,
            log,
            stop,
        })
    }

    /// Where the client side sends: give this to the client instead of the server's address.
    pub fn addr(&self) -> SocketAddr {
        self.front
    }

    /// Where the tap's datagrams to the server come from (the address the server replies to).
    pub fn back_addr(&self) -> SocketAddr {
        self.back
    }

    /// Wait until `count` datagrams have passed (at most `timeout`) and return every one so
    /// far, in the order they arrived, with the way each went.
    pub fn datagrams(&self, count: usize, timeout: Duration) -> io::Result<Datagrams> {
        self.log
            .wait(timeout, |items| {
                (items.len() >= count).then(|| items.clone())
            })
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the tap saw fewer than {count} datagrams within {timeout:?}: {:?}",
                        self.log.lock()
                    ),
                )
            })
    }
}

impl Drop for UdpTap {
    fn drop(&mut self) {
        // Wake both threads (each waits in recv_from) so that they see the flag and end.
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(waker) = UdpSocket::bind("127.0.0.1:0") {
            let _ = waker.send_to(b"", self.front);
            let _ = waker.send_to(b"", self.back);
        }
    }
}
