//! What the tcp-server-v2 tests share: raw test sockets as clients, the course's
//! conversation, and Ctrl-C. (tests/server.rs holds the Rust server to them,
//! tests/python.rs the Python one.)

#![allow(dead_code)] // each test file uses a different part of this

use std::io::Write;
use std::net::{SocketAddr, TcpStream};

use lesson_runner::{PATIENCE, Running, connect, read_at_least};

/// The reply to every message.
pub const REPLY: &[u8] = b"----------ok, received----------";

/// Send one message and read exactly one reply.
pub fn ask(stream: &mut TcpStream, message: &[u8]) {
    stream.write_all(message).expect("send");
    assert_eq!(read_at_least(stream, REPLY.len()).expect("reply"), REPLY);
}

/// Wait until the server is back at accept() after `client` left, so that what it prints
/// next (another client, or `stopping`) comes in a known order.
pub fn wait_until_back_at_accept(server: &Running, client: SocketAddr) {
    server
        .wait_for_stdout(
            &format!("client {client} disconnected\nwaiting for a client...\n"),
            PATIENCE,
        )
        .expect("server back at accept");
}

/// Ctrl-C: the server prints `stopping` and exits 0. Returns what it printed.
pub fn stop(server: Running) -> String {
    server.interrupt().expect("send SIGINT");
    let done = server.finish(PATIENCE).expect("server ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert!(done.stdout.ends_with("stopping\n"), "{}", done.stdout);
    done.stdout
}

/// The course's conversation: two messages on one connection, two replies; the client
/// closes, the server says so and waits for the next; Ctrl-C stops it.
pub fn conversation(server: Running, addr: SocketAddr) {
    let mut stream = connect(addr).expect("connect");
    let me = stream.local_addr().expect("local addr");
    ask(&mut stream, b"hello");
    ask(&mut stream, b"how are you?");
    drop(stream);
    wait_until_back_at_accept(&server, me);
    assert_eq!(
        stop(server),
        format!(
            "listening on {addr}\nwaiting for a client...\nclient {me} connected\n\
             received: hello\nreceived: how are you?\nclient {me} disconnected\n\
             waiting for a client...\nstopping\n"
        )
    );
}

/// One message from one client; returns the server's `received: ` line for it.
pub fn received_line(server: Running, addr: SocketAddr, message: &[u8]) -> String {
    let mut stream = connect(addr).expect("connect");
    let me = stream.local_addr().expect("local addr");
    ask(&mut stream, message);
    drop(stream);
    wait_until_back_at_accept(&server, me);
    let stdout = stop(server);
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("received"))
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    lines[0].to_string()
}
