//! tcp-chat as students run it: the real server and client, with their lines typed ahead
//! on stdin; raw sockets where a test needs exact bytes or a peer that misbehaves. The
//! course's Python programs are in tests/python.rs.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};

use lesson_runner::{PATIENCE, Running, connect, read_at_least, read_to_close};

const SERVER: &str = env!("CARGO_BIN_EXE_tcp-chat-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_tcp-chat-client");

/// Start the server on a free port with these lines typed ahead (stdin stays open, as a
/// terminal's would). The server reads a line only when it is its turn.
fn server(typed: &str) -> (Running, SocketAddr) {
    let mut server = Running::start(SERVER, &["--port", "0"]).expect("start server");
    server.write_stdin(typed).expect("type into server");
    let addr = server.wait_for_banner(PATIENCE).expect("server banner");
    (server, addr)
}

/// Start the client against `addr` with these lines typed, then end of input.
fn client(addr: SocketAddr, typed: &str) -> Running {
    let port = addr.port().to_string();
    let mut client = Running::start(CLIENT, &["--port", &port]).expect("start client");
    client.write_stdin(typed).expect("type into client");
    client.close_stdin();
    client
}

/// A listening socket standing in for the server, on a port the OS picks.
fn fake_server() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// Accept the client's connection on a fake server, with a read timeout.
fn accept(listener: &TcpListener) -> TcpStream {
    let (conn, _) = listener.accept().expect("accept");
    conn.set_read_timeout(Some(PATIENCE)).expect("read timeout");
    conn
}

/// The address of the `nth` client (from 0) the server printed as `client ADDR connected`,
/// read once `after` (text the server prints after that line) has appeared.
fn nth_client(server: &Running, nth: usize, after: &str) -> String {
    let stdout = server
        .wait_for_stdout(after, PATIENCE)
        .expect("server output");
    let mut clients = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("client ")?.strip_suffix(" connected"));
    match clients.nth(nth) {
        Some(addr) => addr.to_string(),
        None => panic!("no client number {nth} in the server's output:\n{stdout}"),
    }
}

#[test]
fn the_courses_conversation_then_the_next_client() {
    let (server, addr) = server("hello from the server\nq\nsecond hello\nq\n");

    let first = client(addr, "hi from the client\n").finish(PATIENCE);
    let first = first.expect("first client ends");
    assert_eq!(first.code(), 0, "{}", first.stderr);
    assert_eq!(
        first.stdout,
        format!(
            "connected to {addr}\nserver: hello from the server\nclient> chat over: server sent q\n"
        )
    );
    let c1 = nth_client(&server, 0, "client: hi from the client\n");
    server
        .wait_for_stdout(&format!("chat with {c1} over: you sent q\n"), PATIENCE)
        .expect("first chat over");

    // The server went back to accept: a second client gets the next typed lines.
    let second = client(addr, "hi again\n").finish(PATIENCE);
    let second = second.expect("second client ends");
    assert_eq!(second.code(), 0, "{}", second.stderr);
    assert_eq!(
        second.stdout,
        format!("connected to {addr}\nserver: second hello\nclient> chat over: server sent q\n")
    );
    let c2 = nth_client(&server, 1, "client: hi again\n");
    server
        .wait_for_stdout(&format!("chat with {c2} over: you sent q\n"), PATIENCE)
        .expect("second chat over");
    assert_eq!(
        server.stdout(),
        format!(
            "listening on {addr}\n\
             client {c1} connected\n\
             server> client: hi from the client\n\
             server> chat with {c1} over: you sent q\n\
             client {c2} connected\n\
             server> client: hi again\n\
             server> chat with {c2} over: you sent q\n"
        )
    );
    assert_eq!(server.stderr(), "");
}

#[test]
fn q_from_the_client_ends_the_chat() {
    let (mut server, addr) = server("hello\n");
    let done = client(addr, "q\n").finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("connected to {addr}\nserver: hello\nclient> chat over: you sent q\n")
    );
    let c = nth_client(&server, 0, "client sent q\n");
    server
        .wait_for_stdout("client sent q\n", PATIENCE)
        .expect("server sees q");
    assert_eq!(
        server.stdout(),
        format!(
            "listening on {addr}\nclient {c} connected\nserver> chat with {c} over: client sent q\n"
        )
    );
    // It is waiting for the next client, not gone.
    assert!(server.try_status().expect("status").is_none());
}

#[test]
fn end_of_input_on_the_server_sends_q_and_stops() {
    let (mut server, addr) = server("hello\n");
    server.close_stdin();
    let done = client(addr, "hi\n").finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("connected to {addr}\nserver: hello\nclient> chat over: server sent q\n")
    );
    let c = nth_client(&server, 0, "client: hi\n");
    let server = server.finish(PATIENCE).expect("server stops");
    assert_eq!(server.code(), 0, "{}", server.stderr);
    assert_eq!(
        server.stdout,
        format!(
            "listening on {addr}\nclient {c} connected\nserver> client: hi\n\
             server> \nend of input: sent q to {c}, stopping\n"
        )
    );
}

#[test]
fn end_of_input_on_the_client_sends_q() {
    let (listener, addr) = fake_server();
    let run = client(addr, "");
    let mut conn = accept(&listener);
    conn.write_all(b"hello").expect("send hello");
    // Exactly `q`, and then the client closes.
    assert_eq!(read_to_close(&mut conn).expect("read until close"), b"q");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("connected to {addr}\nserver: hello\nclient> \nend of input: sent q, closing\n")
    );
}

#[test]
fn an_empty_line_is_not_sent() {
    // Sending "" would send no bytes at all, and both sides would wait for each other.
    let (server, addr) = server("\nhello\nq\n");
    let mut raw = connect(addr).expect("connect");
    assert_eq!(read_at_least(&mut raw, 1).expect("first message"), b"hello");
    raw.write_all(b"hi").expect("send hi");
    assert_eq!(read_to_close(&mut raw).expect("read until close"), b"q");
    let me = raw.local_addr().expect("local addr");
    server
        .wait_for_stdout("you sent q\n", PATIENCE)
        .expect("chat over");
    assert_eq!(
        server.stdout(),
        format!(
            "listening on {addr}\nclient {me} connected\nserver> server> client: hi\n\
             server> chat with {me} over: you sent q\n"
        )
    );
}

#[test]
fn connection_refused_is_one_line_and_exit_1() {
    // A port where nothing listens, held for the whole test so nobody else can listen there.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let addr = refused.addr;
    // Nothing typed: the client fails before it would read stdin.
    let done = client(addr, "").finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "");
    assert_eq!(done.stderr, format!("connect {addr}: connection refused\n"));
}

#[test]
fn unknown_host_names_the_host() {
    let mut run = Running::start(CLIENT, &["--host", "no-such-host.invalid"]).expect("start");
    run.close_stdin();
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1);
    assert!(
        done.stderr.starts_with("resolve no-such-host.invalid: "),
        "{}",
        done.stderr
    );
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
}

#[test]
fn a_port_that_is_not_a_number_is_usage_error() {
    for program in [SERVER, CLIENT] {
        let done = Running::start(program, &["--port", "nine"])
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 2, "{program}: {}", done.stderr);
        assert!(
            done.stderr
                .starts_with("error: invalid value 'nine' for '--port <PORT>'"),
            "{program}: {}",
            done.stderr
        );
        assert_eq!(done.stdout, "");
    }
}

#[test]
fn a_port_in_use_is_one_line_and_exit_1() {
    let (_taken, addr) = fake_server();
    let port = addr.port().to_string();
    let done = Running::start(SERVER, &["--port", &port])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "");
    assert_eq!(done.stderr, lesson_runner::port_in_use_line(addr));
}

#[test]
fn a_client_that_vanishes_is_reported_and_the_next_is_served() {
    let (server, addr) = server("hello\nnext hello\nq\n");
    let mut raw = connect(addr).expect("connect");
    assert_eq!(read_at_least(&mut raw, 5).expect("hello"), b"hello");
    let gone = raw.local_addr().expect("local addr");
    drop(raw); // close without sending q
    server
        .wait_for_stdout("closed the connection without q\n", PATIENCE)
        .expect("server notices");

    let done = client(addr, "hi\n").finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("connected to {addr}\nserver: next hello\nclient> chat over: server sent q\n")
    );
    let c = nth_client(&server, 1, "client: hi\n");
    server
        .wait_for_stdout(&format!("chat with {c} over: you sent q\n"), PATIENCE)
        .expect("second chat over");
    assert_eq!(
        server.stdout(),
        format!(
            "listening on {addr}\n\
             client {gone} connected\n\
             server> client {gone} closed the connection without q\n\
             client {c} connected\n\
             server> client: hi\n\
             server> chat with {c} over: you sent q\n"
        )
    );
    assert_eq!(server.stderr(), "");
}

#[test]
fn a_server_that_closes_mid_chat_ends_the_client_cleanly() {
    let (listener, addr) = fake_server();
    let run = client(addr, "hi\nnever sent\n");
    let mut conn = accept(&listener);
    conn.write_all(b"hello").expect("send hello");
    assert_eq!(read_at_least(&mut conn, 2).expect("the answer"), b"hi");
    drop(conn); // close without sending q
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("connected to {addr}\nserver: hello\nclient> server closed the connection\n")
    );
    assert_eq!(done.stderr, "");
}

#[test]
fn invalid_utf8_from_a_client_is_shown_lossily() {
    let (server, addr) = server("hello\nq\n");
    let mut raw = connect(addr).expect("connect");
    assert_eq!(read_at_least(&mut raw, 5).expect("hello"), b"hello");
    raw.write_all(&[0xff, 0xfe]).expect("send bad bytes");
    assert_eq!(read_to_close(&mut raw).expect("read until close"), b"q");
    let me = raw.local_addr().expect("local addr");
    server
        .wait_for_stdout("you sent q\n", PATIENCE)
        .expect("chat over");
    assert_eq!(
        server.stdout(),
        format!(
            "listening on {addr}\nclient {me} connected\nserver> client: \u{fffd}\u{fffd}\n\
             server> chat with {me} over: you sent q\n"
        )
    );
    assert_eq!(server.stderr(), "");
}

#[test]
fn invalid_utf8_from_the_server_is_shown_lossily() {
    let (listener, addr) = fake_server();
    let run = client(addr, "q\n");
    let mut conn = accept(&listener);
    conn.write_all(&[0xff, 0xfe]).expect("send bad bytes");
    assert_eq!(read_to_close(&mut conn).expect("read until close"), b"q");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("connected to {addr}\nserver: \u{fffd}\u{fffd}\nclient> chat over: you sent q\n")
    );
}

#[test]
fn chinese_text_both_ways_through_the_server() {
    let (server, addr) = server("你好，客户端\nq\n");
    let mut raw = connect(addr).expect("connect");
    let greeting = "你好，客户端".as_bytes();
    assert_eq!(
        read_at_least(&mut raw, greeting.len()).expect("greeting"),
        greeting
    );
    raw.write_all("你好，服务器".as_bytes()).expect("send");
    assert_eq!(read_to_close(&mut raw).expect("read until close"), b"q");
    server
        .wait_for_stdout("you sent q\n", PATIENCE)
        .expect("chat over");
    assert!(
        server.stdout().contains("server> client: 你好，服务器\n"),
        "{}",
        server.stdout()
    );
}

#[test]
fn chinese_text_both_ways_through_the_client() {
    let (listener, addr) = fake_server();
    let run = client(addr, "你好，服务器\n");
    let mut conn = accept(&listener);
    conn.write_all("你好，客户端".as_bytes()).expect("send");
    let answer = "你好，服务器".as_bytes();
    assert_eq!(
        read_at_least(&mut conn, answer.len()).expect("answer"),
        answer
    );
    conn.write_all(b"q").expect("send q");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("connected to {addr}\nserver: 你好，客户端\nclient> chat over: server sent q\n")
    );
}

/// SO_REUSEADDR, the course's reason for it: after a chat the server ended (it sent `q`
/// and closed first), its side of that connection sits in TIME_WAIT. The Rust server (std
/// sets the option on Unix) can bind the port again at once. (tests/python.rs shows the
/// Python server failing to without the option.)
#[test]
fn a_restarted_server_binds_the_same_port_at_once() {
    let (mut first, addr) = server("hello\n");
    first.close_stdin();
    let mut raw = connect(addr).expect("connect");
    assert_eq!(read_at_least(&mut raw, 5).expect("hello"), b"hello");
    raw.write_all(b"hi").expect("send hi");
    // Read to the end: the server's FIN arrives before we close, so the server is the side
    // that closed first, and the one left in TIME_WAIT.
    assert_eq!(read_to_close(&mut raw).expect("q, then close"), b"q");
    let done = first.finish(PATIENCE).expect("first server stops");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    drop(raw);
    let port = addr.port().to_string();
    let again = Running::start(SERVER, &["--port", &port]).expect("restart");
    assert_eq!(again.wait_for_banner(PATIENCE).expect("banner"), addr);
}
