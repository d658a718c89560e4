//! The relay that the taps and `cargo lesson run --wire` share: what it passes on (ends of
//! stream, resets, re-cut and merged pieces, UDP replies to each client, a server's new
//! port) and the events it reports about it.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::PATIENCE;
use lesson_runner::relay::{self, Event, Mode, Relay, Toward, What};

/// The events a relay reported, for the test to wait on.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<Event>>>);

impl Events {
    fn report(&self) -> relay::Report {
        let events = self.clone();
        Arc::new(move |event: &Event| events.0.lock().expect("lock").push(event.clone()))
    }

    /// Wait until one event is like `wanted`; every event so far.
    fn until(&self, wanted: impl Fn(&What) -> bool) -> Vec<What> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let seen: Vec<What> = self
                .0
                .lock()
                .expect("lock")
                .iter()
                .map(|e| e.what.clone())
                .collect();
            if seen.iter().any(&wanted) {
                return seen;
            }
            assert!(Instant::now() < deadline, "not seen in {seen:?}");
            thread::sleep(Duration::from_millis(5));
        }
    }
}

fn data(seen: &[What], toward: Toward) -> Vec<Vec<u8>> {
    seen.iter()
        .filter_map(|w| match w {
            What::Data(t, d) if *t == toward => Some(d.clone()),
            _ => None,
        })
        .collect()
}

fn tcp(mode: Mode) -> (TcpListener, Relay, Events) {
    let server = TcpListener::bind("127.0.0.1:0").expect("bind");
    let events = Events::default();
    let addr = server.local_addr().expect("addr");
    let relay =
        relay::tcp(addr, mode, Arc::new(AtomicUsize::new(0)), events.report()).expect("relay");
    (server, relay, events)
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

fn udp_socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

#[test]
fn bytes_pass_both_ways_and_each_end_of_stream_is_passed_on() {
    let (server, relay, events) = tcp(Mode::AsRead);
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
    let seen = events.until(|w| matches!(w, What::Closed));
    assert!(matches!(seen[0], What::Connected { .. }), "{seen:?}");
    assert_eq!(data(&seen, Toward::Server), [b"hello".to_vec()]);
    assert_eq!(data(&seen, Toward::Client), [b"ok\n".to_vec()]);
    for toward in [Toward::Server, Toward::Client] {
        assert!(
            seen.iter()
                .any(|w| matches!(w, What::End(t) if *t == toward)),
            "{seen:?}"
        );
    }
}

#[test]
fn split_re_cuts_the_stream_into_pieces() {
    let (server, relay, _events) = tcp(Mode::Split(1));
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
}

#[test]
fn merge_forwards_close_writes_as_one() {
    let (server, relay, events) = tcp(Mode::Merge);
    let mut c = connect(relay.addr);
    c.set_nodelay(true).expect("nodelay");
    let mut s = accept(&server);
    c.write_all(b"hello,").expect("first write");
    // Wait until the relay has read the first piece, so the second is a separate read
    // that the relay has to merge.
    events.until(|w| matches!(w, What::Data(..)));
    c.write_all(b"world").expect("second write");
    c.shutdown(Shutdown::Write).expect("close");
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).expect("read");
    assert_eq!(&buf[..n], b"hello,world", "one read gets both writes");
    let seen = events.until(|w| matches!(w, What::Merged(..)));
    assert!(
        seen.iter()
            .any(|w| matches!(w, What::Merged(Toward::Server, d) if d == b"hello,world")),
        "{seen:?}"
    );
}

#[test]
fn a_reset_from_the_server_reaches_the_client_as_a_reset() {
    let (server, relay, events) = tcp(Mode::AsRead);
    let mut c = connect(relay.addr);
    let mut s = accept(&server);
    c.write_all(b"x").expect("client writes");
    let mut one = [0u8; 1];
    s.read_exact(&mut one).expect("server reads");
    // The server closes abruptly: linger 0 turns close into RST.
    relay::reset(&s);
    drop(s);
    let mut buf = [0u8; 8];
    let err = c.read(&mut buf).expect_err("the client sees the reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    let seen = events.until(|w| matches!(w, What::Closed));
    let why = "server reset the connection; resetting the client's side too";
    assert!(
        seen.iter()
            .any(|w| matches!(w, What::Reset(Toward::Client, t) if t == why)),
        "{seen:?}"
    );
}

#[test]
fn a_client_that_leaves_without_reading_is_passed_on() {
    let (server, relay, events) = tcp(Mode::AsRead);
    let c = connect(relay.addr);
    let mut s = accept(&server);
    s.write_all(b"unread").expect("server writes");
    events.until(|w| matches!(w, What::Data(..)));
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
    events.until(|w| matches!(w, What::Closed));
}

#[test]
fn udp_replies_go_back_to_each_client_from_its_own_upstream_socket() {
    let server = udp_socket();
    let events = Events::default();
    let addr = server.local_addr().expect("addr");
    let relay = relay::udp(addr, Arc::new(AtomicUsize::new(0)), events.report()).expect("relay");
    let (a, b) = (udp_socket(), udp_socket());
    a.send_to(b"from a", relay.addr).expect("a sends");
    let mut buf = [0u8; 64];
    let (_, first) = server.recv_from(&mut buf).expect("server receives");
    // The first client's upstream socket is known before it sends.
    assert_eq!(Some(first), relay.upstream);
    b.send_to(b"from b", relay.addr).expect("b sends");
    let (n, second) = server.recv_from(&mut buf).expect("server receives");
    assert_eq!(&buf[..n], b"from b");
    assert_ne!(first, second, "each client its own upstream socket");
    server.send_to(b"re: b", second).expect("reply to b");
    server.send_to(b"re: a", first).expect("reply to a");
    for (client, reply) in [(&a, b"re: a"), (&b, b"re: b")] {
        let (n, from) = client.recv_from(&mut buf).expect("the reply");
        assert_eq!((&buf[..n], from), (reply.as_slice(), relay.addr));
    }
    let seen = events.until(|w| matches!(w, What::Data(Toward::Client, _)));
    assert_eq!(
        seen.iter()
            .filter(|w| matches!(w, What::Connected { .. }))
            .count(),
        2
    );
}

/// TFTP's server answers from a new port: the client sees a relay port standing for
/// it, and what it sends there reaches that server port.
#[test]
fn udp_answers_from_another_server_port_get_a_relay_port_of_their_own() {
    let (server, transfer, client) = (udp_socket(), udp_socket(), udp_socket());
    let events = Events::default();
    let addr = server.local_addr().expect("addr");
    let relay = relay::udp(addr, Arc::new(AtomicUsize::new(0)), events.report()).expect("relay");
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
    events.until(|w| matches!(w, What::Data(Toward::Server, d) if d == b"ack 1"));
    let port = transfer.local_addr().expect("addr");
    let events = events.0.lock().expect("lock");
    let new_port = events
        .iter()
        .find(|e| matches!(e.what, What::NewPort(_)))
        .expect("new port");
    assert!(matches!(new_port.what, What::NewPort(at) if at == side));
    assert_eq!(new_port.server, port);
    let ack = events.last().expect("the ack");
    assert_eq!(
        (ack.client, ack.server),
        (client.local_addr().expect("addr"), port)
    );
}
