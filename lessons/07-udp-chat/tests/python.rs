//! Rust ↔ Python: the Rust server against the course's Python client and the Python
//! server against the Rust client, in UTF-8 and in the course's gb2312, through a tap
//! that records every datagram; and the Python programs' error lines held to the Rust
//! ones. Without python3 these print a notice and pass; under CI=true they fail.

use std::net::UdpSocket;

use lesson_runner::{PATIENCE, Running, Toward, UdpTap, python_command};

const SERVER: &str = env!("CARGO_BIN_EXE_udp-chat-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_udp-chat-client");
const PYTHON_SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/udp_chat_server.py");
const PYTHON_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/udp_chat_client.py");

/// 你好 in GBK (and gb2312): two bytes a character.
const NIHAO_GBK: [u8; 4] = [0xC4, 0xE3, 0xBA, 0xC3];

/// Which side the course's Python program plays; the Rust lesson plays the other.
enum Python {
    Server,
    Client,
}

/// A program with `args` and `typed` on its stdin (left open).
fn start(program: &str, args: &[&str], typed: &str) -> Running {
    let mut run = Running::start(program, args).expect("start program");
    run.write_stdin(typed).expect("type into program");
    run
}

/// One of the course's Python programs, the same way; `None` (skip) without python3.
fn start_python(script: &str, args: &[&str], typed: &str) -> Option<Running> {
    let mut command = python_command(script)?;
    command.args(args);
    let mut run = Running::spawn(command).expect("start python");
    run.write_stdin(typed).expect("type into python");
    Some(run)
}

/// The course's conversation, two messages each way, with `python` on one side and the
/// Rust lesson on the other, each with its own `--encoding`. Checks what both printed and
/// every datagram (`wire`: client, server, client, server).
fn conversation(
    python: Python,
    encodings: (&str, &str),
    client_says: [&str; 2],
    server_says: [&str; 2],
    wire: [&[u8]; 4],
) {
    let (rust_encoding, python_encoding) = encodings;
    let typed = format!("{}\n{}\n", server_says[0], server_says[1]);
    let server = match python {
        Python::Server => start_python(
            PYTHON_SERVER,
            &["--port", "0", "--encoding", python_encoding],
            &typed,
        ),
        Python::Client => Some(start(
            SERVER,
            &["--port", "0", "--encoding", rust_encoding],
            &typed,
        )),
    };
    let Some(server) = server else {
        return;
    };
    let addr = server.wait_for_banner(PATIENCE).expect("server banner");
    let tap = UdpTap::start(addr).expect("start tap");

    let port = tap.addr().port().to_string();
    let typed = format!("{}\n{}\n", client_says[0], client_says[1]);
    let client = match python {
        Python::Client => start_python(
            PYTHON_CLIENT,
            &["--port", &port, "--encoding", python_encoding],
            &typed,
        ),
        Python::Server => Some(start(
            CLIENT,
            &["--port", &port, "--encoding", rust_encoding],
            &typed,
        )),
    };
    let Some(mut client) = client else {
        return;
    };
    client.close_stdin();
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    let to = tap.addr();
    assert_eq!(
        done.stdout,
        format!(
            "message: reply from {to}: {}\nmessage: reply from {to}: {}\nmessage: ",
            server_says[0], server_says[1]
        )
    );
    assert_eq!(done.stderr, "");

    // One datagram for each message, each one whole, in the encoding both sides chose.
    let datagrams = tap.datagrams(4, PATIENCE).expect("four datagrams");
    let ways = [
        Toward::Server,
        Toward::Client,
        Toward::Server,
        Toward::Client,
    ];
    let want: Vec<(Toward, Vec<u8>)> = ways.into_iter().zip(wire.map(<[u8]>::to_vec)).collect();
    assert_eq!(datagrams, want);

    // A last datagram, straight from a test socket, brings the server to its prompt,
    // where end of input ends it.
    let bye = UdpSocket::bind("127.0.0.1:0").expect("bind test socket");
    let me = bye.local_addr().expect("local addr");
    bye.send_to(b"bye", addr).expect("send bye");
    let done = server.finish(PATIENCE).expect("server ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stderr, "");
    let from = tap.back_addr();
    assert_eq!(
        done.stdout,
        format!(
            "listening on {addr}\nmessage from {from}: {}\nreply: message from {from}: {}\n\
             reply: message from {me}: bye\nreply: ",
            client_says[0], client_says[1]
        )
    );
}

#[test]
fn rust_server_python_client_course_conversation() {
    conversation(
        Python::Client,
        ("utf-8", "utf-8"),
        ["hello", "你好，服务器"],
        ["hello back", "你好，客户端"],
        [
            b"hello",
            b"hello back",
            "你好，服务器".as_bytes(),
            "你好，客户端".as_bytes(),
        ],
    );
}

#[test]
fn python_server_rust_client_course_conversation() {
    conversation(
        Python::Server,
        ("utf-8", "utf-8"),
        ["hello", "你好，服务器"],
        ["hello back", "你好，客户端"],
        [
            b"hello",
            b"hello back",
            "你好，服务器".as_bytes(),
            "你好，客户端".as_bytes(),
        ],
    );
}

#[test]
fn rust_server_python_client_in_gb2312() {
    conversation(
        Python::Client,
        ("gbk", "gb2312"),
        ["hello", "你好"],
        ["hello back", "你好"],
        [b"hello", b"hello back", &NIHAO_GBK, &NIHAO_GBK],
    );
}

#[test]
fn python_server_rust_client_in_gb2312() {
    conversation(
        Python::Server,
        ("gbk", "gb2312"),
        ["hello", "你好"],
        ["hello back", "你好"],
        [b"hello", b"hello back", &NIHAO_GBK, &NIHAO_GBK],
    );
}

/// A port where nobody listens: bind one, learn it, let it go.
fn closed_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind test socket");
    socket.local_addr().expect("local addr").port()
}

/// This lesson's Python client with `args` and one typed line; its whole run.
fn python_client_run(args: &[&str]) -> Option<lesson_runner::Finished> {
    let mut client = start_python(PYTHON_CLIENT, args, "anyone?\n")?;
    client.close_stdin();
    Some(client.finish(PATIENCE).expect("python client ends"))
}

#[test]
fn python_reference_client_times_out_the_same_way() {
    let port = closed_port().to_string();
    let Some(done) = python_client_run(&["--port", &port, "--timeout", "1"]) else {
        return;
    };
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "message: ");
    assert_eq!(
        done.stderr,
        format!("no reply from 127.0.0.1:{port} within 1 s\n")
    );
}

#[test]
fn python_reference_client_with_connect_hears_connection_refused() {
    let port = closed_port().to_string();
    // --timeout only as a safety net: the refusal comes back at once.
    let args = ["--port", &port, "--connect", "--timeout", "5"];
    let Some(done) = python_client_run(&args) else {
        return;
    };
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "message: ");
    assert_eq!(
        done.stderr,
        format!("receive 127.0.0.1:{port}: connection refused\n")
    );
}

#[test]
fn python_reference_server_reports_a_port_in_use_the_same_way() {
    let taken = UdpSocket::bind("127.0.0.1:0").expect("bind test socket");
    let port = taken.local_addr().expect("local addr").port().to_string();
    let Some(server) = start_python(PYTHON_SERVER, &["--port", &port], "") else {
        return;
    };
    let done = server.finish(PATIENCE).expect("python server ends");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        lesson_runner::port_in_use_line(format!("127.0.0.1:{port}"))
    );
}
