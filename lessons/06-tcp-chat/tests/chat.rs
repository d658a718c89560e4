//! tcp-chat as students run it: the real server and client, with their lines typed ahead
//! on stdin; raw sockets where a test needs exact bytes or a peer that misbehaves. The
//! course's Python programs are in tests/python.rs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

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

/// `tcp-chat-server | head -1`: after the banner stdout is closed. What the server would
/// print is lost, but it goes on: two clients in turn both get their chat.
#[test]
fn a_closed_stdout_does_not_stop_the_server() {
    let mut command = std::process::Command::new(SERVER);
    command.args(["--port", "0"]);
    let mut server = Running::spawn_head(command, 1).expect("start server");
    server
        .write_stdin("hello\nhello again\n")
        .expect("type into server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    for greeting in [&b"hello"[..], b"hello again"] {
        let mut raw = connect(addr).expect("connect");
        assert_eq!(
            read_at_least(&mut raw, greeting.len()).expect("greeting"),
            greeting
        );
        raw.write_all(b"q").expect("send q");
        assert_eq!(read_to_close(&mut raw).expect("the server closes"), b"");
    }
    assert!(server.try_status().expect("status").is_none(), "it stopped");
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

/// `tcp-chat-client | head -1`: after the first line stdout is closed. The client stops as
/// Ctrl-C stops it (exit 130), without a panic.
#[test]
fn a_closed_stdout_stops_the_client_as_ctrl_c_does() {
    let (listener, addr) = fake_server();
    let mut command = std::process::Command::new(CLIENT);
    command.args(["--port", &addr.port().to_string()]);
    let mut run = Running::spawn_head(command, 1).expect("start client");
    // More answers than it can get through before it notices that stdout is closed.
    run.write_stdin("hi\n".repeat(50)).expect("type");
    run.close_stdin();
    let mut conn = accept(&listener);
    run.wait_for_stdout("connected to", PATIENCE)
        .expect("the first line");
    // Take our turn after each of its answers, until it ends. (Each wait ends as soon as
    // it does; it only gives `head` time to close the pipe before the client is through.)
    let mut buf = [0u8; 1024];
    while conn.write_all(b"hello").is_ok()
        && matches!(conn.read(&mut buf), Ok(1..))
        && !run.wait_output_closed(Duration::from_millis(20))
    {}
    let done = run.finish(PATIENCE).expect("client ends");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), 130, "{done:?}");
}

#[test]
fn a_timeout_beyond_a_day_is_usage_error() {
    for (program, option) in [(SERVER, "--idle-timeout"), (CLIENT, "--timeout")] {
        for huge in ["18446744073709551615", "inf", "1e19"] {
            let done = Running::start(program, &["--port", "0", option, huge])
                .expect("start")
                .finish(PATIENCE)
                .expect("ends");
            assert_eq!(done.code(), 2, "{program} {option} {huge}: {done:?}");
            assert!(done.stderr.contains("at most"), "{}", done.stderr);
            assert_eq!(done.stdout, "");
        }
    }
}

#[test]
fn help_names_the_default_timeouts() {
    for (program, option) in [(SERVER, "--idle-timeout"), (CLIENT, "--timeout")] {
        let done = Running::start(program, &["--help"])
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 0, "{program}: {done:?}");
        let line = done.stdout.lines().find(|l| l.contains(option));
        assert!(line.is_some(), "{program}: {}", done.stdout);
        assert!(done.stdout.contains("[default: 300]"), "{}", done.stdout);
    }
}

/// A server that accepts and never takes its turn: the client gives up after --timeout.
#[test]
fn a_silent_server_is_given_up_on() {
    let (listener, addr) = fake_server();
    let port = addr.port().to_string();
    let mut run =
        Running::start(CLIENT, &["--port", &port, "--timeout", "0.3"]).expect("start client");
    run.close_stdin();
    // (Connected first: a client that failed instead must not leave accept() waiting.)
    run.wait_for_stdout("connected to", PATIENCE)
        .expect("client connects");
    let conn = accept(&listener);
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert_eq!(done.stdout, format!("connected to {addr}\n"));
    assert_eq!(
        done.stderr,
        format!("recv {addr}: no message within 0.3 s (--timeout)\n")
    );
    drop(conn);
}

/// A client that connects and never answers holds the server only until --idle-timeout;
/// then the next client gets its chat.
#[test]
fn a_silent_client_is_dropped_and_the_next_is_served() {
    let mut server =
        Running::start(SERVER, &["--port", "0", "--idle-timeout", "0.5"]).expect("start server");
    server
        .write_stdin("hello\nnext hello\nq\n")
        .expect("type into server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    let mut silent = connect(addr).expect("connect");
    let quiet = silent.local_addr().expect("local addr");
    assert_eq!(read_at_least(&mut silent, 5).expect("hello"), b"hello");
    // Say nothing: the server gives up and closes.
    assert_eq!(read_to_close(&mut silent).expect("the server closes"), b"");

    let done = client(addr, "hi\n").finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("connected to {addr}\nserver: next hello\nclient> chat over: server sent q\n")
    );
    assert_eq!(
        server.stderr(),
        format!("recv {quiet}: no message within 0.5 s (--idle-timeout), closing\n")
    );
}

/// What the other side sends is shown with its control characters escaped: a peer can't
/// forge a line of our output.
#[test]
fn control_characters_from_the_peer_are_escaped() {
    const FORGED: &[u8] = b"hi\x1b[31m\nlegal connection";
    const SHOWN: &str = "hi\\x1b[31m\\nlegal connection";

    // From a client, on the server's screen.
    let (server, addr) = server("hello\nq\n");
    let mut raw = connect(addr).expect("connect");
    assert_eq!(read_at_least(&mut raw, 5).expect("hello"), b"hello");
    raw.write_all(FORGED).expect("send");
    assert_eq!(read_to_close(&mut raw).expect("read until close"), b"q");
    let stdout = server
        .wait_for_stdout("you sent q\n", PATIENCE)
        .expect("chat over");
    assert!(stdout.contains(&format!("client: {SHOWN}\n")), "{stdout}");
    assert!(!stdout.lines().any(|l| l == "legal connection"), "{stdout}");

    // From a server, on the client's screen.
    let (listener, addr) = fake_server();
    let run = client(addr, "q\n");
    let mut conn = accept(&listener);
    conn.write_all(FORGED).expect("send");
    assert_eq!(read_to_close(&mut conn).expect("read until close"), b"q");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("connected to {addr}\nserver: {SHOWN}\nclient> chat over: you sent q\n")
    );
}

#[test]
fn an_ipv6_address_is_shown_in_brackets() {
    // The client: refused, or no IPv6 here; either way the address reads [::1]:PORT.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let port = refused.addr.port().to_string();
    let mut run =
        Running::start(CLIENT, &["--host", "::1", "--port", &port]).expect("start client");
    run.close_stdin();
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert!(
        done.stderr.starts_with(&format!("connect [::1]:{port}: ")),
        "{}",
        done.stderr
    );
    // The server: ::2 is no address of this machine, so bind fails.
    let done = Running::start(SERVER, &["--host", "::2", "--port", "0"])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert!(done.stderr.starts_with("bind [::2]:0: "), "{}", done.stderr);
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
}
