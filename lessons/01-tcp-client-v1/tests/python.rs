//! Rust ↔ Python: the Rust client against the course's Python server it is paired with
//! (lesson 02's `tcp_server_v1.py`), through a tap that records the bytes both ways.
//! Without python3 these print a notice and pass; under CI=true they fail.

use std::net::SocketAddr;

use lesson_runner::{PATIENCE, Running, TcpTap, python_command};

const CLIENT: &str = env!("CARGO_BIN_EXE_tcp-client-v1");
const PYTHON_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../02-tcp-server-v1/python/tcp_server_v1.py"
);
const OK: &[u8] = b"----------ok----------";

/// The course's Python server on a free port, or `None` (skip).
fn python_server() -> Option<(Running, SocketAddr)> {
    let mut command = python_command(PYTHON_SERVER)?;
    command.args(["--port", "0"]);
    let server = Running::spawn(command).expect("start python server");
    let addr = server.wait_for_banner(PATIENCE).expect("python banner");
    Some((server, addr))
}

/// The Rust client answers the three questions (the server is `tap`), then ends.
/// Checks its output, the Python server's output and the bytes each way.
fn conversation(message: &str) {
    let Some((server, addr)) = python_server() else {
        return;
    };
    let tap = TcpTap::start(addr).expect("start tap");
    let mut client = Running::start(CLIENT, &[] as &[&str]).expect("start client");
    client
        .write_stdin(format!("127.0.0.1\n{}\n{message}\n", tap.addr().port()))
        .expect("type into client");
    let client = client.finish(PATIENCE).expect("client ends");
    assert_eq!(client.code(), 0, "{}", client.stderr);
    assert_eq!(
        client.stdout,
        format!(
            "server ip [127.0.0.1]: server port [7891]: message: sent {} bytes to {}\n",
            message.len(),
            tap.addr()
        )
    );

    let wire = tap.only();
    assert_eq!(wire.to_server, message.as_bytes());
    assert_eq!(wire.to_client, OK);
    let server = server.finish(PATIENCE).expect("python server ends");
    assert_eq!(server.code(), 0, "{}", server.stderr);
    assert_eq!(
        server.stdout,
        format!(
            "listening on {addr}\nwaiting for a client...\nclient {} connected\nreceived: {message}\n",
            wire.server_side
        )
    );
}

#[test]
fn rust_client_python_server_course_conversation() {
    conversation("hello, server");
}

#[test]
fn rust_client_python_server_chinese_text_as_utf8() {
    conversation("你好，服务器");
}
