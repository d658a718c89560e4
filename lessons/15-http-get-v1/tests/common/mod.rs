//! What the http-get-v1 tests share: a scratch folder, http-get-v1 run inside it, Python's
//! `http.server` on a port the OS picks, and raw test peers that answer exactly the bytes
//! a test gives them.

#![allow(dead_code)] // each test file uses a different part

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::thread;

use lesson_runner::{Finished, PATIENCE, Running};

pub const HTTP_GET: &str = env!("CARGO_BIN_EXE_http-get-v1");

pub use lesson_runner::Scratch;

/// The command for http-get-v1 with `args`, its current folder `dir` (where it saves by
/// default).
pub fn http_get_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(HTTP_GET);
    command.args(args).current_dir(dir);
    command
}

/// Start http-get-v1 with `args`, its current folder `dir`.
pub fn start_http_get(dir: &Path, args: &[&str]) -> Running {
    Running::spawn(http_get_command(dir, args)).expect("start http-get-v1")
}

/// Run http-get-v1 to its end.
pub fn http_get(dir: &Path, args: &[&str]) -> Finished {
    start_http_get(dir, args)
        .finish(PATIENCE)
        .expect("http-get-v1 ends")
}

/// `n` bytes that look random, the same every run (xorshift), so a misplaced or lost
/// byte anywhere changes the file.
pub fn noise(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Python's own web server, `python3 -u -m http.server --bind 127.0.0.1 0`, serving
/// `root`; `None` (a notice, and the test skips) when python3 is missing, except under
/// CI=true, where that fails the test.
pub fn python_http_server(root: &Path) -> Option<(Running, u16)> {
    let python = lesson_runner::python3()?;
    let mut command = Command::new(python);
    // -u: unbuffered, so its "Serving HTTP on ..." line reaches us at once.
    command
        .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
        .arg("--directory")
        .arg(root);
    let server = Running::spawn(command).expect("start python3 -m http.server");
    let out = server
        .wait_for_stdout(") ...", PATIENCE)
        .expect("http.server says where it serves");
    // Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ...
    let port = out
        .split("Serving HTTP on 127.0.0.1 port ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in http.server's line: {out:?}"));
    Some((server, port))
}

/// Read a request head (up to the blank line) from a test peer's connection.
pub fn read_request(conn: &mut TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => request.push(byte[0]),
            _ => break,
        }
    }
    request
}

/// A raw test web server: for each of `connections` clients, read its request (sent on
/// the returned channel), then run `answer` on the connection; the connection closes
/// when `answer` returns. Every socket has timeouts, so a test can hang only so long.
pub fn peer(
    connections: usize,
    answer: impl Fn(&mut TcpStream) + Send + 'static,
) -> (SocketAddr, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test peer");
    let addr = listener.local_addr().expect("test peer address");
    let (requests, received) = mpsc::channel();
    thread::spawn(move || {
        for _ in 0..connections {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            conn.set_read_timeout(Some(PATIENCE)).expect("read timeout");
            conn.set_write_timeout(Some(PATIENCE))
                .expect("write timeout");
            let _ = requests.send(read_request(&mut conn));
            answer(&mut conn);
        }
    });
    (addr, received)
}

/// A test peer that answers every one of `connections` requests with `response`.
pub fn answering(connections: usize, response: Vec<u8>) -> (SocketAddr, mpsc::Receiver<Vec<u8>>) {
    peer(connections, move |conn| {
        let _ = conn.write_all(&response);
    })
}

/// Write `bytes` in pieces of 1, 2, 3, 5, 8 and 13 bytes in turn, each its own write with
/// Nagle off, so the reader sees lines and `\r\n`s cut in awkward places.
pub fn write_in_odd_pieces(conn: &mut TcpStream, bytes: &[u8]) {
    conn.set_nodelay(true).expect("nodelay");
    let sizes = [1, 2, 3, 5, 8, 13];
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= bytes.len() {
            break;
        }
        let end = (at + size).min(bytes.len());
        if conn.write_all(&bytes[at..end]).is_err() {
            return;
        }
        at = end;
    }
}

/// Hold the connection open until the client closes it (or the read timeout passes).
pub fn wait_for_close(conn: &mut TcpStream) {
    let mut sink = [0u8; 1024];
    while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
}

/// `body` as a chunked body cut into chunks of these sizes (hex sizes, some with an
/// extension), ending with the last chunk and `trailers`.
pub fn chunked(body: &[u8], sizes: &[usize], trailers: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    for (i, &size) in sizes.iter().enumerate() {
        let piece = &body[at..at + size];
        at += size;
        // Upper- and lower-case hex, and a chunk extension now and then.
        match i % 3 {
            0 => out.extend_from_slice(format!("{size:x}\r\n").as_bytes()),
            1 => out.extend_from_slice(format!("{size:X};name=value\r\n").as_bytes()),
            _ => out.extend_from_slice(format!("{size:x} ;ext\r\n").as_bytes()),
        }
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    assert_eq!(at, body.len(), "the chunk sizes add up to the body");
    out.extend_from_slice(b"0\r\n");
    out.extend_from_slice(trailers.as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

/// A response head and body joined.
pub fn response(head: &str, body: &[u8]) -> Vec<u8> {
    let mut out = head.as_bytes().to_vec();
    out.extend_from_slice(body);
    out
}
