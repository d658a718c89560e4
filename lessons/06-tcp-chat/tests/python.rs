//! Rust ↔ Python: the Rust server against the course's Python client and the Python
//! server against the Rust client, through a tap that records the bytes both ways; and
//! the course's reason for SO_REUSEADDR, shown on its own Python server. Without python3
//! these print a notice and pass; under CI=true they fail.

use std::io::Write;
use std::net::SocketAddr;

use lesson_runner::{
    PATIENCE, Running, TcpTap, connect, python_command, read_at_least, read_to_close,
};

const SERVER: &str = env!("CARGO_BIN_EXE_tcp-chat-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_tcp-chat-client");
const PYTHON_SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/tcp_chat_server.py");
const PYTHON_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/tcp_chat_client.py");

/// One of the course's Python programs with `args`, its `typed` lines already on stdin
/// (which stays open); `None` (skip) without python3.
fn python(script: &str, args: &[&str], typed: &str) -> Option<Running> {
    let mut command = python_command(script)?;
    command.args(args);
    let mut run = Running::spawn(command).expect("start python");
    run.write_stdin(typed).expect("type into python");
    Some(run)
}

/// A server (Rust or Python) has started: wait for its banner.
fn banner(server: &Running) -> SocketAddr {
    server.wait_for_banner(PATIENCE).expect("server banner")
}

#[test]
fn rust_server_python_client_course_conversation() {
    let mut server = Running::start(SERVER, &["--port", "0"]).expect("start server");
    server
        .write_stdin("你好 from rust\nand again\n")
        .expect("type into server");
    let addr = banner(&server);
    let tap = TcpTap::start(addr).expect("start tap");
    let port = tap.addr().port().to_string();
    let Some(mut client) = python(PYTHON_CLIENT, &["--port", &port], "hi from python\nq\n") else {
        return;
    };
    client.close_stdin();
    let client = client.finish(PATIENCE).expect("python client ends");
    assert_eq!(client.code(), 0, "{}", client.stderr);
    assert_eq!(
        client.stdout,
        format!(
            "connected to {}\nserver: 你好 from rust\nclient> server: and again\n\
             client> chat over: you sent q\n",
            tap.addr()
        )
    );

    // Turn by turn: the server speaks first, the client's `q` ends it.
    let wire = tap.only();
    assert_eq!(wire.to_client, "你好 from rustand again".as_bytes());
    assert_eq!(wire.to_server, b"hi from pythonq");
    let c = wire.server_side;
    server
        .wait_for_stdout("client sent q\n", PATIENCE)
        .expect("rust chat over");
    assert_eq!(
        server.stdout(),
        format!(
            "listening on {addr}\nclient {c} connected\nserver> client: hi from python\n\
             server> chat with {c} over: client sent q\n"
        )
    );
    assert_eq!(server.stderr(), "");
}

#[test]
fn python_server_rust_client_course_conversation() {
    let Some(server) = python(PYTHON_SERVER, &["--port", "0"], "你好 from python\nq\n") else {
        return;
    };
    let addr = banner(&server);
    let tap = TcpTap::start(addr).expect("start tap");
    let port = tap.addr().port().to_string();
    let mut client = Running::start(CLIENT, &["--port", &port]).expect("start client");
    client
        .write_stdin("hi from rust\n")
        .expect("type into client");
    let client = client.finish(PATIENCE).expect("client ends");
    assert_eq!(client.code(), 0, "{}", client.stderr);
    assert_eq!(
        client.stdout,
        format!(
            "connected to {}\nserver: 你好 from python\nclient> chat over: server sent q\n",
            tap.addr()
        )
    );

    // This time the server's `q` ends it.
    let wire = tap.only();
    assert_eq!(wire.to_client, "你好 from pythonq".as_bytes());
    assert_eq!(wire.to_server, b"hi from rust");
    let c = wire.server_side;
    server
        .wait_for_stdout("you sent q\n", PATIENCE)
        .expect("python chat over");
    assert_eq!(
        server.stdout(),
        format!(
            "listening on {addr}\nclient {c} connected\nserver> client: hi from rust\n\
             server> chat with {c} over: you sent q\n"
        )
    );
}

/// The course's reason for SO_REUSEADDR, on its own server: after a chat the server
/// ended (it sent `q` and closed first), its side of that connection sits in TIME_WAIT.
/// Started again at once without the option, the server cannot bind the port; with it
/// (the course's line), it can.
#[test]
fn python_reference_server_needs_so_reuseaddr_to_restart_at_once() {
    let Some(mut first) = python(PYTHON_SERVER, &["--port", "0"], "hello\n") else {
        return;
    };
    first.close_stdin();
    let addr = banner(&first);
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

    let Some(without) = python(PYTHON_SERVER, &["--no-reuseaddr", "--port", &port], "") else {
        return;
    };
    let done = without.finish(PATIENCE).expect("python server ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert!(
        done.stderr.contains("OSError: [Errno ")
            && done.stderr.ends_with("] Address already in use\n"),
        "{}",
        done.stderr
    );

    let Some(with) = python(PYTHON_SERVER, &["--port", &port], "") else {
        return;
    };
    assert_eq!(banner(&with), addr);
}
