//! Rust ↔ Python: the Rust server against the course's Python clients it is paired with
//! (lesson 03's `tcp_client_v2.py` and lesson 05's `tcp_client_v3.py`), through a tap that
//! records the bytes both ways; and this lesson's own Python server held to the bytes and
//! lines the Rust server's tests expect. Without python3 these print a notice and pass;
//! under CI=true they fail.

mod common;

use std::net::SocketAddr;

use common::*;
use lesson_runner::{Finished, PATIENCE, Relayed, Running, TcpTap, python_command};

const SERVER: &str = env!("CARGO_BIN_EXE_tcp-server-v2");
const PYTHON_SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/tcp_server_v2.py");
const PYTHON_CLIENT_V2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../03-tcp-client-v2/python/tcp_client_v2.py"
);
const PYTHON_CLIENT_V3: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../05-tcp-client-v3/python/tcp_client_v3.py"
);

/// Start the Rust server, run one Python client through a tap (`args` and `typed` may
/// name the tap's port as `{port}`; its input ends after `typed`), and stop the server
/// with Ctrl-C once the client has left. The server's whole output is checked to be the
/// course's for a client that sent `messages`. Returns what the client printed, what
/// crossed the tap, and the tap's address (the server, as the client saw it). `None`
/// (skip) without python3.
fn python_client(
    script: &str,
    args: &[&str],
    typed: &str,
    messages: &[&str],
) -> Option<(Finished, Relayed, SocketAddr)> {
    let mut command = python_command(script)?;
    let (server, addr) = {
        let server = Running::start(SERVER, &["--port", "0"]).expect("start server");
        let addr = server.wait_for_banner(PATIENCE).expect("banner");
        (server, addr)
    };
    let tap = TcpTap::start(addr).expect("start tap");
    let port = tap.addr().port().to_string();
    command.args(args.iter().map(|a| a.replace("{port}", &port)));
    let mut client = Running::spawn(command).expect("start python client");
    client
        .write_stdin(typed.replace("{port}", &port))
        .expect("type into python client");
    let client = client.finish(PATIENCE).expect("python client ends");
    assert_eq!(client.code(), 0, "{}", client.stderr);
    assert_eq!(client.stderr, "");

    let wire = tap.only();
    let me = wire.server_side;
    wait_until_back_at_accept(&server, me);
    let received: String = messages
        .iter()
        .map(|m| format!("received: {m}\n"))
        .collect();
    assert_eq!(
        stop(server),
        format!(
            "listening on {addr}\nwaiting for a client...\nclient {me} connected\n\
             {received}client {me} disconnected\nwaiting for a client...\nstopping\n"
        )
    );
    Some((client, wire, tap.addr()))
}

#[test]
fn rust_server_python_client_v2_course_conversation() {
    // Lesson 03's client: local port 0 (the OS picks), the two questions, two messages;
    // end of input is its quit path: quit(), and the server answers that too.
    let Some((client, wire, to)) = python_client(
        PYTHON_CLIENT_V2,
        &["0"],
        "127.0.0.1\n{port}\nhello\n你好\n",
        &["hello", "你好", "quit()"],
    ) else {
        return;
    };
    assert_eq!(wire.to_server, "hello你好quit()".as_bytes());
    assert_eq!(wire.to_client, REPLY.repeat(3));
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
}

#[test]
fn rust_server_python_client_v3_course_conversation() {
    // Lesson 05's client: options instead of questions; end of input just closes.
    let Some((client, wire, to)) = python_client(
        PYTHON_CLIENT_V3,
        &["--port", "{port}"],
        "hello\nhow are you?\n",
        &["hello", "how are you?"],
    ) else {
        return;
    };
    assert_eq!(wire.to_server, b"hellohow are you?");
    assert_eq!(wire.to_client, REPLY.repeat(2));
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
}

/// This lesson's Python server on a free port, or `None` (skip).
fn start_python_server() -> Option<(Running, SocketAddr)> {
    let mut command = python_command(PYTHON_SERVER)?;
    command.args(["--port", "0"]);
    let server = Running::spawn(command).expect("start python server");
    let addr = server.wait_for_banner(PATIENCE).expect("python banner");
    Some((server, addr))
}

#[test]
fn python_reference_server_speaks_the_same_bytes() {
    let Some((server, addr)) = start_python_server() else {
        return;
    };
    conversation(server, addr);
}

#[test]
fn python_reference_server_shows_bad_utf8_and_chinese_the_same_way() {
    let Some((server, addr)) = start_python_server() else {
        return;
    };
    assert_eq!(
        received_line(server, addr, &[0xff, 0xfe, b'a']),
        "received: \u{fffd}\u{fffd}a"
    );
    let Some((server, addr)) = start_python_server() else {
        return;
    };
    assert_eq!(
        received_line(server, addr, "你好，服务器".as_bytes()),
        "received: 你好，服务器"
    );
}
