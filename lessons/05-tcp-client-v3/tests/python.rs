//! Rust ↔ Python: the Rust client against the course's Python server it is paired with
//! (lesson 04's `tcp_server_v2.py`), through a tap that records the bytes both ways; and
//! this lesson's own Python client held to the bytes and lines the Rust client's tests
//! expect. Without python3 these print a notice and pass; under CI=true they fail.

mod common;

use common::*;
use lesson_runner::{PATIENCE, Running, TcpTap, python_command};

const CLIENT: &str = env!("CARGO_BIN_EXE_tcp-client-v3");
const PYTHON_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/tcp_client_v3.py");
const PYTHON_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../04-tcp-server-v2/python/tcp_server_v2.py"
);

#[test]
fn rust_client_python_server_course_conversation() {
    let Some(mut command) = python_command(PYTHON_SERVER) else {
        return;
    };
    command.args(["--port", "0"]);
    let server = Running::spawn(command).expect("start python server");
    let addr = server.wait_for_banner(PATIENCE).expect("python banner");
    let tap = TcpTap::start(addr).expect("start tap");
    let to = tap.addr();

    let mut client =
        Running::start(CLIENT, &["--port", &to.port().to_string()]).expect("start client");
    client
        .write_stdin("hello\nhow are you?\n")
        .expect("type into client");
    let client = client.finish(PATIENCE).expect("client ends");
    assert_eq!(client.code(), 0, "{}", client.stderr);
    assert_eq!(client.stderr, "");

    // The bytes: each message, an ok for each, and no quit() at the end any more.
    let wire = tap.only();
    assert_eq!(wire.to_server, b"hellohow are you?");
    assert_eq!(wire.to_client, OK.repeat(2));
    assert_eq!(
        client.stdout,
        format!(
            "connected from {} to {to}\n\
             message: sent 5 bytes to {to}\n\
             received: ----------ok, received----------\n\
             message: sent 12 bytes to {to}\n\
             received: ----------ok, received----------\n\
             message: \n",
            wire.client
        )
    );

    let me = wire.server_side;
    server
        .wait_for_stdout(
            &format!("client {me} disconnected\nwaiting for a client...\n"),
            PATIENCE,
        )
        .expect("python server back at accept");
    server.interrupt().expect("Ctrl-C");
    let server = server.finish(PATIENCE).expect("python server ends");
    assert_eq!(server.code(), 0, "{}", server.stderr);
    assert_eq!(
        server.stdout,
        format!(
            "listening on {addr}\nwaiting for a client...\nclient {me} connected\n\
             received: hello\nreceived: how are you?\n\
             client {me} disconnected\nwaiting for a client...\nstopping\n"
        )
    );
}

/// This lesson's Python client with these options and these lines typed, then end of
/// input; `None` (skip) without python3.
fn python_client(args: &[&str], typed: &str) -> Option<Running> {
    let mut command = python_command(PYTHON_CLIENT)?;
    command.args(args);
    let mut run = Running::spawn(command).expect("start python client");
    run.write_stdin(typed).expect("type");
    run.close_stdin();
    Some(run)
}

#[test]
fn python_reference_client_sends_the_same_bytes_and_prints_the_same() {
    let (listener, addr) = listener();
    let port = addr.port().to_string();
    let Some(run) = python_client(&["--port", &port], "hello\nbye\n") else {
        return;
    };
    let (from, stdout) = conversation(run, &listener);
    assert_eq!(stdout, conversation_output(from, addr));
}

#[test]
fn python_reference_client_errors_match() {
    let (nobody, addr) = listener();
    drop(nobody);
    let port = addr.port().to_string();
    let Some(run) = python_client(&["--port", &port], "") else {
        return;
    };
    let done = run.finish(PATIENCE).expect("python client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stderr, format!("connect {addr}: connection refused\n"));

    let (listener, addr) = listener();
    let port = addr.port().to_string();
    let Some(run) = python_client(&["--port", &port, "--timeout", "0.3"], "hello\n") else {
        return;
    };
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, b"hello");
    let done = run.finish(PATIENCE).expect("python client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert_eq!(
        done.stderr,
        format!("receive {addr}: no reply within 0.3 s (--timeout)\n")
    );
}
