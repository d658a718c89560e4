//! Rust ↔ Python: the Rust server against the course's Python client and the Python
//! server (ThreadingTCPServer itself) against the Rust client, through a tap that records
//! the bytes both ways: a `hello` before each `byebye`. Without python3 these print a
//! notice and pass; under CI=true they fail.

use std::process::Command;

use lesson_runner::{PATIENCE, Running, TcpTap, python_command};

const SERVER: &str = env!("CARGO_BIN_EXE_socketserver-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_socketserver-client");
const PYTHON_SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/socketserver_server.py");
const PYTHON_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/socketserver_client.py");

/// What a client prints for three rounds (the Rust and the Python one alike).
const THREE_ROUNDS: &str = "received: hello\nsent: byebye\n\
                            received: hello\nsent: byebye\n\
                            received: hello\nsent: byebye\n";

/// Start `server` (Rust or Python) on a free port, run `client` (the other) through a
/// tap for its three rounds, and check both outputs and the bytes each way.
fn conversation(mut server: Command, mut client: Command) {
    server.args(["--port", "0"]);
    let server = Running::spawn(server).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("server banner");
    let tap = TcpTap::start(addr).expect("start tap");
    client.args(["--port", &tap.addr().port().to_string()]);
    let done = Running::spawn(client)
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, THREE_ROUNDS);
    assert_eq!(done.stderr, "");

    // The handler says hello, then waits for the answer, again and again: a fourth hello
    // goes out after the third byebye, before the handler sees the client's end.
    let wire = tap.only();
    assert_eq!(wire.to_client, b"hello".repeat(4));
    assert_eq!(wire.to_server, b"byebye".repeat(3));
    let me = wire.server_side;
    let log = server
        .wait_for_stdout(&format!("client {me} closed the connection\n"), PATIENCE)
        .expect("the server saw the close");
    assert_eq!(
        log,
        format!(
            "listening on {addr}\nclient {me} connected\n{}client {me} closed the connection\n",
            format!("received from {me}: byebye\n").repeat(3)
        )
    );
    assert_eq!(server.stderr(), "");
}

#[test]
fn rust_server_python_client_course_conversation() {
    let Some(client) = python_command(PYTHON_CLIENT) else {
        return;
    };
    conversation(Command::new(SERVER), client);
}

#[test]
fn python_server_rust_client_course_conversation() {
    let Some(server) = python_command(PYTHON_SERVER) else {
        return;
    };
    conversation(server, Command::new(CLIENT));
}
