//! The harness tested on small shell programs, so a broken harness can't make every
//! lesson test pass or fail for the wrong reason. (Those need `sh`, so they are Unix's;
//! the taps' tests run everywhere.)

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{PATIENCE, Running, Stream, TcpTap, Toward, UdpTap, connect, read_to_close};

fn sh(script: &str) -> Running {
    Running::start("sh", &["-c", script]).expect("start sh")
}

#[test]
#[cfg_attr(not(unix), ignore = "needs sh")]
fn banner_address_is_returned() {
    let child = sh("echo 'listening on 127.0.0.1:4321'; cat");
    let addr = child.wait_for_banner(PATIENCE).expect("banner");
    assert_eq!(addr.to_string(), "127.0.0.1:4321");
}

#[test]
#[cfg_attr(not(unix), ignore = "needs sh")]
fn a_wrong_first_line_is_an_error_naming_it() {
    let child = sh("echo 'hello there'; echo oops >&2");
    let err = child.wait_for_banner(PATIENCE).expect_err("not a banner");
    let text = err.to_string();
    assert!(text.contains("hello there"), "{text}");
    assert!(text.contains("oops"), "{text}");
}

#[test]
#[cfg_attr(not(unix), ignore = "needs sh")]
fn a_silent_program_times_out_with_its_name() {
    let child = sh("exec cat");
    let started = Instant::now();
    let err = child
        .wait_for_banner(Duration::from_millis(300))
        .expect_err("no banner");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(
        err.to_string().contains("printed no `listening on ADDR`"),
        "{err}"
    );
}

#[test]
#[cfg_attr(not(unix), ignore = "needs sh")]
fn stdin_output_and_exit_code_are_collected() {
    let mut child = sh("read line; echo \"got $line\"; echo warn >&2; exit 3");
    child.write_stdin("abc\n").expect("write stdin");
    child.wait_for_stdout("got abc", PATIENCE).expect("echo");
    let done = child.finish(PATIENCE).expect("finish");
    assert_eq!(done.code(), 3);
    assert_eq!(done.stdout, "got abc\n");
    assert_eq!(done.stderr, "warn\n");
}

#[test]
#[cfg_attr(not(unix), ignore = "needs sh")]
fn finish_kills_a_program_that_does_not_end() {
    let child = sh("exec sleep 30");
    let err = child
        .finish(Duration::from_millis(300))
        .expect_err("still running");
    assert!(err.to_string().contains("still running"), "{err}");
}

#[test]
#[cfg(unix)]
fn interrupt_delivers_sigint() {
    let child = sh("trap 'echo interrupted; exit 7' INT; echo ready; while :; do sleep 0.05; done");
    child.wait_for_stdout("ready", PATIENCE).expect("ready");
    child.interrupt().expect("SIGINT");
    let done = child.finish(PATIENCE).expect("finish");
    assert_eq!(done.code(), 7);
    assert!(done.stdout.contains("interrupted"));
}

#[test]
#[cfg(target_os = "linux")] // looks in /proc
fn drop_kills_and_reaps_the_child() {
    let child = sh("exec sleep 30");
    let pid = child.pid();
    drop(child);
    // After the guard is gone the process no longer exists (it was reaped, so not even
    // a zombie is left).
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
#[cfg_attr(not(unix), ignore = "needs sh")]
fn lines_are_kept_in_order_with_their_stream() {
    let child = sh("echo one; sleep 0.1; echo two >&2; sleep 0.1; printf three");
    child.wait_for_stdout("three", PATIENCE).expect("three");
    // The last line has no newline; it is kept once the stream closes.
    let deadline = Instant::now() + PATIENCE;
    let lines = loop {
        let lines = child.lines_from(0);
        if lines.len() == 3 || Instant::now() > deadline {
            break lines;
        }
        child
            .wait_for_stdout("never", Duration::from_millis(20))
            .ok();
    };
    let seen: Vec<(Stream, &str)> = lines.iter().map(|l| (l.stream, l.text.as_str())).collect();
    assert_eq!(
        seen,
        [
            (Stream::Stdout, "one"),
            (Stream::Stderr, "two"),
            (Stream::Stdout, "three")
        ]
    );
}

#[test]
fn the_tcp_tap_relays_both_ways_passes_the_end_on_and_records_it() {
    // An echo server that answers each piece in upper case and closes after the client's
    // end of stream, so the tap must pass a half-close on for the conversation to end.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let upstream = listener.local_addr().expect("addr");
    let server = thread::spawn(move || {
        let (mut conn, from) = listener.accept().expect("accept");
        conn.set_read_timeout(Some(PATIENCE)).expect("timeout");
        let mut buf = [0u8; 64];
        loop {
            let n = conn.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            conn.write_all(&buf[..n].to_ascii_uppercase())
                .expect("write");
        }
        conn.write_all(b"bye").expect("write bye");
        from
    });
    let tap = TcpTap::start(upstream).expect("tap");
    let mut stream = connect(tap.addr()).expect("connect to the tap");
    let me = stream.local_addr().expect("local addr");
    stream.write_all(b"hello").expect("send");
    let mut reply = [0u8; 5];
    stream.read_exact(&mut reply).expect("reply");
    assert_eq!(&reply, b"HELLO");
    stream.shutdown(Shutdown::Write).expect("shutdown");
    assert_eq!(read_to_close(&mut stream).expect("the rest"), b"bye");
    let seen_by_server = server.join().expect("server thread");

    let wire = tap.only();
    assert_eq!(wire.client, me);
    assert_eq!(wire.server_side, seen_by_server);
    assert_eq!(wire.to_server, b"hello");
    assert_eq!(wire.to_client, b"HELLObye");
}

#[test]
fn the_tcp_tap_says_when_a_connection_has_not_ended() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let tap = TcpTap::start(listener.local_addr().expect("addr")).expect("tap");
    let _open = connect(tap.addr()).expect("connect");
    let err = tap
        .finished(1, Duration::from_millis(200))
        .expect_err("still open");
    assert!(err.to_string().contains("0 of 1 connections end"), "{err}");
}

#[test]
fn the_udp_tap_keeps_datagrams_whole_and_replies_to_the_sender() {
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind server");
    server.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let tap = UdpTap::start(server.local_addr().expect("addr")).expect("tap");
    let client = UdpSocket::bind("127.0.0.1:0").expect("bind client");
    client.set_read_timeout(Some(PATIENCE)).expect("timeout");
    client.send_to(b"one", tap.addr()).expect("send");
    client.send_to(b"two", tap.addr()).expect("send");
    let mut buf = [0u8; 64];
    for want in [&b"one"[..], b"two"] {
        let (n, from) = server.recv_from(&mut buf).expect("datagram at the server");
        assert_eq!(&buf[..n], want);
        assert_eq!(from, tap.back_addr());
    }
    server.send_to(b"\xc4\xe3", tap.back_addr()).expect("reply");
    let (n, from) = client.recv_from(&mut buf).expect("reply at the client");
    assert_eq!((&buf[..n], from), (&b"\xc4\xe3"[..], tap.addr()));
    assert_eq!(
        tap.datagrams(3, PATIENCE).expect("three datagrams"),
        [
            (Toward::Server, b"one".to_vec()),
            (Toward::Server, b"two".to_vec()),
            (Toward::Client, vec![0xc4, 0xe3]),
        ]
    );
}

#[test]
fn a_refused_port_refuses_connects_while_it_is_held() {
    let refused = lesson_runner::refused_port().expect("hold a port");
    let err = std::net::TcpStream::connect(refused.addr).expect_err("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    // Held: nobody else can listen there meanwhile.
    assert!(std::net::TcpListener::bind(refused.addr).is_err());
}
