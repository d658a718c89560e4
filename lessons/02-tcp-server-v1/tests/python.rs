//! Rust ↔ Python: the Rust server against the course's Python client it is paired with
//! (lesson 01's `tcp_client_v1.py`), through a tap that records the bytes both ways; and
//! this lesson's own Python server held to the bytes and lines the Rust server's tests
//! expect. Without python3 these print a notice and pass; under CI=true they fail.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};

use lesson_runner::{PATIENCE, Running, TcpTap, connect, python_command, read_to_close};

const SERVER: &str = env!("CARGO_BIN_EXE_tcp-server-v1");
const PYTHON_SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/tcp_server_v1.py");
const PYTHON_CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../01-tcp-client-v1/python/tcp_client_v1.py"
);
const REPLY: &[u8] = b"----------ok----------";

/// What the server prints for one client that sent `text`.
fn server_stdout(addr: SocketAddr, client: SocketAddr, text: &str) -> String {
    format!(
        "listening on {addr}\nwaiting for a client...\nclient {client} connected\nreceived: {text}\n"
    )
}

/// The course's Python client against the Rust server, through a tap: it answers the
/// questions (or, `with_options`, is given `--host` and `--port` and asked only for the
/// message) and sends `message`. Checks both outputs and the bytes each way.
fn python_client_conversation(with_options: bool, message: &str) {
    let Some(mut command) = python_command(PYTHON_CLIENT) else {
        return;
    };
    let server = Running::start(SERVER, &["--port", "0"]).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    let tap = TcpTap::start(addr).expect("start tap");
    let port = tap.addr().port().to_string();
    let (typed, asked) = if with_options {
        command.args(["--host", "127.0.0.1", "--port", &port]);
        (format!("{message}\n"), "")
    } else {
        (
            format!("127.0.0.1\n{port}\n{message}\n"),
            "server ip [127.0.0.1]: server port [7891]: ",
        )
    };
    let mut client = Running::spawn(command).expect("start python client");
    client.write_stdin(typed).expect("type into python client");
    let client = client.finish(PATIENCE).expect("python client ends");
    assert_eq!(client.code(), 0, "{}", client.stderr);
    assert_eq!(
        client.stdout,
        format!(
            "{asked}message: sent {} bytes to {}\n",
            message.len(),
            tap.addr()
        )
    );

    let wire = tap.only();
    assert_eq!(wire.to_server, message.as_bytes());
    assert_eq!(wire.to_client, REPLY);
    let server = server.finish(PATIENCE).expect("server ends");
    assert_eq!(server.code(), 0, "{}", server.stderr);
    assert_eq!(
        server.stdout,
        server_stdout(addr, wire.server_side, message)
    );
    assert_eq!(server.stderr, "");
}

#[test]
fn rust_server_python_client_course_conversation() {
    python_client_conversation(false, "hello, server");
}

#[test]
fn rust_server_python_client_chinese_text_with_host_and_port_options() {
    python_client_conversation(true, "你好，服务器");
}

/// This lesson's Python server on a free port, or `None` (skip).
fn start_python_server() -> Option<(Running, SocketAddr)> {
    let mut command = python_command(PYTHON_SERVER)?;
    command.args(["--port", "0"]);
    let server = Running::spawn(command).expect("start python server");
    let addr = server.wait_for_banner(PATIENCE).expect("python banner");
    Some((server, addr))
}

/// A raw socket sends `message` and reads the reply and the close; the Python server
/// prints `printed` for it and exits 0, exactly as the Rust server does.
fn raw_conversation(message: &[u8], printed: &str) {
    let Some((server, addr)) = start_python_server() else {
        return;
    };
    let mut stream = connect(addr).expect("connect");
    let me = stream.local_addr().expect("local addr");
    stream.write_all(message).expect("send");
    assert_eq!(
        read_to_close(&mut stream).expect("reply, then close"),
        REPLY
    );
    let done = server.finish(PATIENCE).expect("python server ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, server_stdout(addr, me, printed));
    assert_eq!(done.stderr, "");
}

#[test]
fn python_reference_server_speaks_the_same_bytes() {
    raw_conversation(b"hello", "hello");
}

#[test]
fn python_reference_server_shows_bad_utf8_the_same_way() {
    raw_conversation(&[0xff, 0xfe, b'a'], "\u{fffd}\u{fffd}a");
}

#[test]
fn python_reference_server_reports_a_port_in_use_the_same_way() {
    let Some(mut command) = python_command(PYTHON_SERVER) else {
        return;
    };
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let port = taken.local_addr().expect("local addr").port();
    command.args(["--port", &port.to_string()]);
    let done = Running::spawn(command)
        .expect("start python server")
        .finish(PATIENCE)
        .expect("python server ends");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        lesson_runner::port_in_use_line(format!("127.0.0.1:{port}"))
    );
}
