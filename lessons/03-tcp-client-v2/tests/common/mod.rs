//! What the tcp-client-v2 tests share: a raw listening socket standing in for
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

/// The end of every conversation: the client says `quit()`. The test server then does
/// what tcp-server-v2 does: it answers quit() like any message, reads the end of the
/// stream and hangs up. A client that closed without waiting for that answer makes its
/// kernel refuse it with a reset, and the last read here fails.
pub fn expect_quit(mut conn: TcpStream) {
    expect_bytes(&mut conn, b"quit()");
    conn.write_all(OK).expect("answer quit()");
    let rest = read_to_close(&mut conn).expect("the end of the stream, not a reset");
    assert_eq!(rest, b"", "nothing after quit()");
}

/// The course's conversation: two messages, an ok for each, then quit() at end of input.
/// Returns what the client printed.
pub fn conversation(mut run: Running, listener: &TcpListener) -> String {
    let (mut conn, _) = accept(listener);
    expect_bytes(&mut conn, b"hello");
    conn.write_all(OK).expect("reply");
    expect_bytes(&mut conn, b"how are you");
    conn.write_all(OK).expect("reply");
    expect_quit(conn);
    run.close_stdin();
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stderr, "");
    done.stdout
}

pub fn conversation_output(addr: SocketAddr) -> String {
    format!(
        "server ip [127.0.0.1]: server port [2345]: \
         message: sent 5 bytes to {addr}\n\
         received: ----------ok, received----------\n\
         message: sent 11 bytes to {addr}\n\
         received: ----------ok, received----------\n\
         message: \n\
         sent quit() to {addr}\n"
    )
}
