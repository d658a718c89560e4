//! Rust ↔ Python: the Rust sender against the course's Python receiver and the Python
//! sender against the Rust receiver, through a tap that records the bytes: the frames on
//! the wire are `struct.pack('<i', len(msg)) + msg`, whoever wrote them. And the Python
//! receiver's error lines for bad frames, held to the Rust ones. Without python3 these
//! print a notice and pass; under CI=true they fail.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::thread;

use lesson_runner::{PATIENCE, Running, TcpTap, python_command};

const SERVER: &str = env!("CARGO_BIN_EXE_struct-framing-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_struct-framing-client");
const PYTHON_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/python/struct_framing_server.py"
);
const PYTHON_CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/python/struct_framing_client.py"
);

/// What is typed into the server: the course's messages, a Windows line end (not part of
/// the message), an empty line (a frame of length 0) and the lesson's own word.
const TYPED: &str = "hello\nworld\n你好\r\n\n黏包\n";
/// What the client prints: one line per message.
const PRINTED: &str = "hello\nworld\n你好\n\n黏包\n";

/// One frame as the course packs it: struct.pack('<i', len(msg)) + msg.
fn frame(msg: &str) -> Vec<u8> {
    let len = i32::try_from(msg.len()).expect("short message");
    [&len.to_le_bytes()[..], msg.as_bytes()].concat()
}

/// Start `server` (Rust or Python) on a free port, connect `client` (the other) through a
/// tap, type the messages into the server and end its input. Checks both outputs and
/// every byte on the wire.
fn conversation(mut server: Command, mut client: Command) {
    server.args(["--port", "0"]);
    let mut server = Running::spawn(server).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("server banner");
    let tap = TcpTap::start(addr).expect("start tap");
    client.args(["--port", &tap.addr().port().to_string()]);
    let client = Running::spawn(client).expect("start client");
    // The server reads stdin once its client is connected.
    server.write_stdin(TYPED).expect("type into server");
    server.close_stdin();
    let client = client.finish(PATIENCE).expect("client ends");
    assert_eq!(client.code(), 0, "{}", client.stderr);
    assert_eq!(client.stdout, PRINTED);
    assert_eq!(client.stderr, "");

    let wire = tap.only();
    let frames: Vec<u8> = PRINTED.lines().flat_map(frame).collect();
    assert_eq!(wire.to_client, frames);
    assert_eq!(wire.to_server, b"");
    let server = server.finish(PATIENCE).expect("server ends");
    assert_eq!(server.code(), 0, "{}", server.stderr);
    let peer = wire.server_side;
    assert_eq!(
        server.stdout,
        format!(
            "listening on {addr}\nclient {peer} connected\nsent 5 frames to {peer}, then closed\n"
        )
    );
    assert_eq!(server.stderr, "");
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

/// A raw test server: accept one client, send exactly `bytes`, close.
fn raw_server(bytes: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            conn.set_write_timeout(Some(PATIENCE)).expect("timeout");
            let _ = conn.write_all(&bytes);
        }
    });
    addr
}

#[test]
fn python_reference_client_refuses_bad_frames_with_the_same_lines() {
    let cases: [(Vec<u8>, &str); 3] = [
        (
            (-5i32).to_le_bytes().to_vec(),
            "frame header: length -5 is negative",
        ),
        (vec![5, 0], "stream ended after 2 of 4 header bytes"),
        (
            [&10i32.to_le_bytes()[..], b"abc"].concat(),
            "stream ended after 3 of 10 body bytes",
        ),
    ];
    for (bytes, what) in cases {
        let Some(mut command) = python_command(PYTHON_CLIENT) else {
            return;
        };
        let addr = raw_server(bytes);
        command.args(["--port", &addr.port().to_string()]);
        let done = Running::spawn(command)
            .expect("start python client")
            .finish(PATIENCE)
            .expect("python client ends");
        assert_eq!(done.code(), 1, "stderr: {}", done.stderr);
        assert_eq!(done.stdout, "");
        assert_eq!(done.stderr, format!("receive {addr}: {what}\n"));
    }
}
