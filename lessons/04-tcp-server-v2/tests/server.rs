//! tcp-server-v2 as a student runs it: the real binary on a port the OS picks, raw test
//! sockets as its clients, Ctrl-C as SIGINT. The course's Python programs are in
//! tests/python.rs.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use common::*;
use lesson_runner::{PATIENCE, Running, connect, read_at_least};

const SERVER: &str = env!("CARGO_BIN_EXE_tcp-server-v2");

/// Start the Rust server with `--port 0` and wait for its banner.
fn start_server() -> (Running, SocketAddr) {
    let server = Running::start(SERVER, &["--port", "0"]).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    (server, addr)
}

#[test]
fn two_messages_on_one_connection_get_two_replies() {
    let (server, addr) = start_server();
    conversation(server, addr);
}

#[test]
fn after_a_client_disconnects_the_next_one_is_served() {
    let (server, addr) = start_server();
    let mut first = connect(addr).expect("connect first");
    let one = first.local_addr().expect("local addr");
    ask(&mut first, b"one");
    drop(first);
    wait_until_back_at_accept(&server, one);

    let mut second = connect(addr).expect("connect second");
    let two = second.local_addr().expect("local addr");
    ask(&mut second, b"two");
    drop(second);
    wait_until_back_at_accept(&server, two);
    assert_eq!(
        stop(server),
        format!(
            "listening on {addr}\nwaiting for a client...\n\
             client {one} connected\nreceived: one\nclient {one} disconnected\n\
             waiting for a client...\n\
             client {two} connected\nreceived: two\nclient {two} disconnected\n\
             waiting for a client...\nstopping\n"
        )
    );
}

#[test]
fn a_second_client_waits_in_the_backlog_until_the_first_leaves() {
    let (server, addr) = start_server();
    let mut first = connect(addr).expect("connect first");
    let one = first.local_addr().expect("local addr");
    ask(&mut first, b"first");

    // The server is inside the first client's receive loop now. The second client's
    // connect() still succeeds: the kernel completes the handshake and queues the
    // connection in the listen backlog. Its message is buffered by the kernel too.
    let mut second = connect(addr).expect("connect second: the backlog takes it");
    let two = second.local_addr().expect("local addr");
    second.write_all(b"second").expect("send second");

    // ...but nobody reads it: no reply within a short wait. The read timing out IS the
    // expected result here.
    second
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("short timeout");
    let mut buf = [0u8; 64];
    match second.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("the second client was served too early: {other:?}"),
    }
    assert!(!server.stdout().contains("second"), "{}", server.stdout());
    // The first client is still served while the second waits.
    ask(&mut first, b"still me");

    // The first leaves: the server goes back to accept(), takes the second from the
    // backlog, reads the message that was waiting, and replies.
    drop(first);
    second.set_read_timeout(Some(PATIENCE)).expect("timeout");
    assert_eq!(
        read_at_least(&mut second, REPLY.len()).expect("reply"),
        REPLY
    );
    drop(second);
    wait_until_back_at_accept(&server, two);
    assert_eq!(
        stop(server),
        format!(
            "listening on {addr}\nwaiting for a client...\n\
             client {one} connected\nreceived: first\nreceived: still me\n\
             client {one} disconnected\nwaiting for a client...\n\
             client {two} connected\nreceived: second\nclient {two} disconnected\n\
             waiting for a client...\nstopping\n"
        )
    );
}

#[test]
fn ctrl_c_stops_the_server_with_exit_0() {
    let (server, addr) = start_server();
    server
        .wait_for_stdout("waiting for a client...\n", PATIENCE)
        .expect("server at accept");
    assert_eq!(
        stop(server),
        format!("listening on {addr}\nwaiting for a client...\nstopping\n")
    );
    // The exit closed the listening socket: nobody accepts there any more.
    let err = TcpStream::connect(addr).expect_err("the port is closed now");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn ctrl_c_while_serving_closes_the_client_too() {
    let (server, addr) = start_server();
    let mut stream = connect(addr).expect("connect");
    ask(&mut stream, b"hello");
    stop(server);
    // The process exit closed our connection: the next read is the end of the stream.
    let mut buf = [0u8; 64];
    assert_eq!(stream.read(&mut buf).expect("read after stop"), 0);
}

#[test]
fn a_port_that_is_not_a_number_is_a_usage_error() {
    let done = Running::start(SERVER, &["--port", "seven"])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 2);
    assert_eq!(done.stdout, "");
    assert!(
        done.stderr
            .starts_with("error: invalid value 'seven' for '--port <PORT>'"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_port_in_use_is_one_line_and_exit_1() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let port = taken.local_addr().expect("local addr").port();
    let done = Running::start(SERVER, &["--port", &port.to_string()])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "");
    assert_eq!(
        done.stderr,
        lesson_runner::port_in_use_line(format!("127.0.0.1:{port}"))
    );
}

#[test]
fn a_reset_is_reported_and_the_next_client_is_served() {
    let (server, addr) = start_server();
    let mut rude = connect(addr).expect("connect");
    let one = rude.local_addr().expect("local addr");
    ask(&mut rude, b"hello");
    // SO_LINGER with a zero timeout: close() sends a reset (RST) instead of a normal FIN.
    socket2::SockRef::from(&rude)
        .set_linger(Some(Duration::ZERO))
        .expect("set SO_LINGER 0");
    drop(rude);
    server
        .wait_for_stderr(
            &format!("receive {one}: connection reset by peer\n"),
            PATIENCE,
        )
        .expect("reset reported");

    let mut next = connect(addr).expect("connect next");
    let two = next.local_addr().expect("local addr");
    ask(&mut next, b"next");
    drop(next);
    wait_until_back_at_accept(&server, two);
    server.interrupt().expect("send SIGINT");
    let done = server.finish(PATIENCE).expect("server ends");
    assert_eq!(done.code(), 0);
    assert_eq!(
        done.stderr,
        format!("receive {one}: connection reset by peer\n")
    );
    assert_eq!(
        done.stdout,
        format!(
            "listening on {addr}\nwaiting for a client...\n\
             client {one} connected\nreceived: hello\nwaiting for a client...\n\
             client {two} connected\nreceived: next\nclient {two} disconnected\n\
             waiting for a client...\nstopping\n"
        )
    );
}

#[test]
fn invalid_utf8_is_printed_lossily() {
    let (server, addr) = start_server();
    assert_eq!(
        received_line(server, addr, &[0xff, 0xfe, b'a']),
        "received: \u{fffd}\u{fffd}a"
    );
}

#[test]
fn chinese_text_is_received_and_printed() {
    let (server, addr) = start_server();
    assert_eq!(
        received_line(server, addr, "你好，服务器".as_bytes()),
        "received: 你好，服务器"
    );
}

/// `tcp-server-v2 | head -1`: after the banner stdout is closed. What the server would
/// print is lost, but it goes on serving: two clients in turn both get the reply.
#[test]
fn a_closed_stdout_does_not_stop_the_server() {
    let mut command = std::process::Command::new(SERVER);
    command.args(["--port", "0"]);
    let server = Running::spawn_head(command, 1).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    for message in [&b"one"[..], b"two"] {
        let mut stream = connect(addr).expect("connect");
        ask(&mut stream, message);
        drop(stream);
    }
    server.interrupt().expect("send SIGINT");
    let done = server.finish(PATIENCE).expect("server ends");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), 0, "{done:?}");
    assert_eq!(done.stderr, "");
}

#[test]
fn an_idle_timeout_beyond_a_day_is_a_usage_error() {
    for huge in ["18446744073709551615", "inf", "1e19"] {
        let done = Running::start(SERVER, &["--port", "0", "--idle-timeout", huge])
            .expect("start server")
            .finish(PATIENCE)
            .expect("server ends");
        assert_eq!(done.code(), 2, "{huge}: {done:?}");
        assert!(done.stderr.contains("at most"), "{huge}: {}", done.stderr);
        assert_eq!(done.stdout, "");
    }
}

/// A client that connects and goes quiet holds the server (the next client waits in the
/// backlog) only until the idle timeout; then the next one is served.
#[test]
fn a_silent_client_is_dropped_and_the_next_one_is_served() {
    let server =
        Running::start(SERVER, &["--port", "0", "--idle-timeout", "0.5"]).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    let mut silent = connect(addr).expect("connect silent client");
    let quiet = silent.local_addr().expect("local addr");
    server
        .wait_for_stdout(&format!("client {quiet} connected\n"), PATIENCE)
        .expect("server took the silent client");
    let mut next = connect(addr).expect("connect next: the backlog takes it");
    let two = next.local_addr().expect("local addr");
    ask(&mut next, b"next");
    // The silent one was closed by the server.
    let mut buf = [0u8; 16];
    assert_eq!(silent.read(&mut buf).expect("read after the drop"), 0);
    drop(next);
    wait_until_back_at_accept(&server, two);
    server.interrupt().expect("send SIGINT");
    let done = server.finish(PATIENCE).expect("server ends");
    assert_eq!(done.code(), 0);
    assert_eq!(
        done.stderr,
        format!("receive {quiet}: nothing within 0.5 s (--idle-timeout)\n")
    );
    assert!(
        done.stdout
            .contains(&format!("client {two} connected\nreceived: next\n")),
        "{}",
        done.stdout
    );
}

/// A client that tries to forge a line of the server's output: its text is shown with
/// the control characters escaped, on the `received:` line, and no line is the forgery.
#[test]
fn control_characters_from_a_client_are_escaped() {
    let (server, addr) = start_server();
    assert_eq!(
        received_line(server, addr, b"hi\x1b[31m\nlegal connection"),
        "received: hi\\x1b[31m\\nlegal connection"
    );
}

#[test]
fn an_ipv6_address_is_shown_in_brackets() {
    // ::2 is no address of this machine: bind fails, and the line shows [::2]:0.
    let done = Running::start(SERVER, &["--host", "::2", "--port", "0"])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert!(done.stderr.starts_with("bind [::2]:0: "), "{}", done.stderr);
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
}
