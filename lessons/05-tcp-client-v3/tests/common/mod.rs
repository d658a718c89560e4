//! What the tcp-client-v3 tests share: a raw listening socket standing in for
//! tcp-server-v2, which checks every byte a client sends, and the course's conversation.
//! (tests/client.rs drives the Rust client with it, tests/python.rs the Python one.)

#![allow(dead_code)] // each test file uses a different part of this

use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{PATIENCE, Running, read_at_least, read_to_close};

/// The reply tcp-server-v2 gives to every message.
pub const OK: &[u8] = b"----------ok, received----------";

/// A listening socket for the client to reach, on a port the OS picks.
pub fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// Accept the client's connection, with a read timeout so a silent client fails the test.
/// A client that never connects (it failed before its connect) fails it too, after PATIENCE.
pub fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let deadline = Instant::now() + PATIENCE;
    let (conn, from) = loop {
        match listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            accepted => break accepted.expect("the client connects within PATIENCE"),
        }
    };
    conn.set_nonblocking(false).expect("blocking connection");
    conn.set_read_timeout(Some(PATIENCE)).expect("timeout");
    (conn, from)
}

/// Read exactly the bytes `expected` is long, and check they are those bytes.
pub fn expect_bytes(conn: &mut TcpStream, expected: &[u8]) {
    let got = read_at_least(conn, expected.len()).expect("read from client");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
    assert_eq!(got, expected);
}

/// The course's conversation: hello and bye, an ok for each, then the client closes
/// without another byte. Returns (where the client came from, what it printed).
pub fn conversation(run: Running, listener: &TcpListener) -> (SocketAddr, String) {
    let (mut conn, from) = accept(listener);
    expect_bytes(&mut conn, b"hello");
    conn.write_all(OK).expect("reply");
    expect_bytes(&mut conn, b"bye");
    conn.write_all(OK).expect("reply");
    // v3 no longer says quit(): end of input just closes.
    assert_eq!(read_to_close(&mut conn).expect("read to close"), b"");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stderr, "");
    (from, done.stdout)
}

pub fn conversation_output(from: SocketAddr, addr: SocketAddr) -> String {
    format!(
        "connected from {from} to {addr}\n\
         message: sent 5 bytes to {addr}\n\
         received: ----------ok, received----------\n\
         message: sent 3 bytes to {addr}\n\
         received: ----------ok, received----------\n\
         message: \n"
    )
}
