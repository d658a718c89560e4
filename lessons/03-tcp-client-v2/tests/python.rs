//! Rust ↔ Python: the Rust client against the course's Python server it is paired with
//! (lesson 04's `tcp_server_v2.py`), through a tap that records the bytes both ways; and
//! this lesson's own Python client held to the bytes and lines the Rust client's tests
//! expect. Without python3 these print a notice and pass; under CI=true they fail.

mod common;

use std::net::SocketAddr;

use common::*;
use lesson_runner::{PATIENCE, Running, TcpTap, python_command};

const CLIENT: &str = env!("CARGO_BIN_EXE_tcp-client-v2");
const PYTHON_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/tcp_client_v2.py");
const PYTHON_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../04-tcp-server-v2/python/tcp_server_v2.py"
);

/// The course's Python server on a free port, or `None` (skip).
fn python_server() -> Option<(Running, SocketAddr)> {
    let mut command = python_command(PYTHON_SERVER)?;
    command.args(["--port", "0"]);
    let server = Running::spawn(command).expect("start python server");
    let addr = server.wait_for_banner(PATIENCE).expect("python banner");
    Some((server, addr))
}

#[test]
fn rust_client_python_server_course_conversation() {
    let Some((server, addr)) = python_server() else {
        return;
    };
    let tap = TcpTap::start(addr).expect("start tap");
    let to = tap.addr();
    // Local port 0: the OS picks our port (5566 could be taken). Two messages, then end
    // of input: the course's quit path sends quit().
    let mut client = Running::start(CLIENT, &["0"]).expect("start client");
    client
        .write_stdin(format!("127.0.0.1\n{}\nhello\n你好\n", to.port()))
        .expect("type into client");
    let client = client.finish(PATIENCE).expect("client ends");
    assert_eq!(client.code(), 0, "{}", client.stderr);
    assert_eq!(client.stderr, "");
    assert_eq!(
        client.stdout,
        format!(
            "server ip [127.0.0.1]: server port [2345]: \
             message: sent 5 bytes to {to}\n\
             received: ----------ok, received----------\n\
             message: sent 6 bytes to {to}\n\
             received: ----------ok, received----------\n\
             message: \n\
             sent quit() to {to}\n"
        )
    );

    // The bytes: the three messages, and the server's ok for each, quit() included.
    let wire = tap.only();
    assert_eq!(wire.to_server, "hello你好quit()".as_bytes());
    assert_eq!(wire.to_client, OK.repeat(3));
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
             received: hello\nreceived: 你好\nreceived: quit()\n\
             client {me} disconnected\nwaiting for a client...\nstopping\n"
        )
    );
}

// Ctrl-C is not tested on the Python client: CPython runs its KeyboardInterrupt handler
// between bytecodes, so a SIGINT that lands just before input() blocks in read() waits
// until a line arrives (a second Ctrl-C would do). Its quit path is the one end of input
// takes, tested here.
#[test]
fn python_reference_client_sends_the_same_bytes_and_prints_the_same() {
    let Some(mut command) = python_command(PYTHON_CLIENT) else {
        return;
    };
    let (listener, addr) = listener();
    command.arg("0");
    let mut run = Running::spawn(command).expect("start python client");
    run.write_stdin(format!("127.0.0.1\n{}\nhello\nhow are you\n", addr.port()))
        .expect("type");
    run.close_stdin();
    assert_eq!(conversation(run, &listener), conversation_output(addr));
}
