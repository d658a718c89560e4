//! What the tcp-file-download tests share: throw-away folders, files with known bytes,
//! starting the server and the client, a raw test client that speaks the protocol byte by
//! byte, and a relay that can damage the stream on its way to the client.

#![allow(dead_code)] // each test file uses a different part of this

use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{Finished, PATIENCE, Running, connect, read_to_close};
use sha2::{Digest, Sha256};

pub const SERVER: &str = env!("CARGO_BIN_EXE_tcp-file-download-server");
pub const CLIENT: &str = env!("CARGO_BIN_EXE_tcp-file-download-client");

/// Long enough for a 100 MB download in a debug build on a busy 2-core machine.
pub const BIG_PATIENCE: Duration = Duration::from_secs(120);

pub use lesson_runner::Scratch;

/// `len` bytes that are the same on every run, and differ from block to block: 1 MiB of
/// a simple pseudo-random sequence, with each block's number written into its first 8
/// bytes, so a block sent twice, lost or out of order changes the file.
pub fn pattern(len: usize) -> Vec<u8> {
    const BLOCK: usize = 1024 * 1024;
    let mut block = vec![0u8; BLOCK];
    let mut x: u32 = 0x1234_5678;
    for byte in &mut block {
        // xorshift32: cheap, and no byte pattern repeats within the block.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *byte = x.to_le_bytes()[0];
    }
    let mut data = Vec::with_capacity(len);
    let mut n: u64 = 0;
    while data.len() < len {
        block[..8].copy_from_slice(&n.to_le_bytes());
        let take = (len - data.len()).min(BLOCK);
        data.extend_from_slice(&block[..take]);
        n += 1;
    }
    data
}

/// Write `pattern(len)` into `path`; returns the bytes.
pub fn pattern_file(path: &Path, len: usize) -> Vec<u8> {
    let data = pattern(len);
    fs::write(path, &data).expect("write test file");
    data
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Start the Rust server on a port the OS picks, serving `root`.
pub fn server(root: &Path, extra: &[&str]) -> (Running, SocketAddr) {
    let mut command = Command::new(SERVER);
    command
        .args(["--port", "0", "--root"])
        .arg(root)
        .args(extra);
    let server = Running::spawn(command).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("server banner");
    (server, addr)
}

/// The Rust client's command: `--port PORT NAME [-o OUT]`, started in `cwd`.
pub fn client_command(addr: SocketAddr, name: &str, out: Option<&Path>, cwd: &Path) -> Command {
    let mut command = Command::new(CLIENT);
    command
        .args(["--port", &addr.port().to_string(), name])
        .current_dir(cwd);
    if let Some(out) = out {
        command.arg("-o").arg(out);
    }
    command
}

/// Run the Rust client to the end: download `name` from `addr` into `out` (or, without
/// `out`, into `cwd` under its own name).
pub fn download(addr: SocketAddr, name: &str, out: Option<&Path>, cwd: &Path) -> Finished {
    Running::spawn(client_command(addr, name, out, cwd))
        .expect("start client")
        .finish(BIG_PATIENCE)
        .expect("client ends")
}

/// Every name in `dir`, hidden ones too, sorted: to check that nothing was left behind.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A request frame: 4-byte signed little-endian length, then the name's bytes.
pub fn frame(name: &[u8]) -> Vec<u8> {
    let mut bytes = i32::try_from(name.len())
        .expect("short name")
        .to_le_bytes()
        .to_vec();
    bytes.extend_from_slice(name);
    bytes
}

/// A raw test client: send `bytes`, then read the whole answer until the server closes.
pub fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr).expect("connect");
    stream.write_all(bytes).expect("send request");
    read_to_close(&mut stream).expect("read answer")
}

/// An answer of status 1: the message in its frame. Panics if it is anything else.
pub fn refusal(answer: &[u8]) -> String {
    assert_eq!(answer.first(), Some(&1), "status 1 (refused): {answer:?}");
    let len = i32::from_le_bytes(answer[1..5].try_into().expect("4 bytes"));
    let len = usize::try_from(len).expect("a length >= 0");
    assert_eq!(answer.len(), 5 + len, "nothing after the message frame");
    String::from_utf8(answer[5..].to_vec()).expect("UTF-8 message")
}

/// The client's one error line (stderr, one line, no panic text).
pub fn one_line(done: &Finished) -> String {
    assert_eq!(
        done.stderr.lines().count(),
        1,
        "one line on stderr: {:?}",
        done.stderr
    );
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    done.stderr.trim_end().to_string()
}

/// What a relay does to the bytes going from the server to the client.
#[derive(Clone, Copy)]
pub enum Damage {
    /// Flip every bit of the byte at this offset of the server's answer.
    FlipByte(usize),
    /// Forward this many bytes, then close both connections (a cut stream).
    CutAfter(usize),
}

/// A relay for one connection, between the client and the server at `upstream`: the
/// request goes through as it is, the answer is damaged as `damage` says. Returns the
/// address to give the client.
pub fn relay(upstream: SocketAddr, damage: Damage) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
    let addr = listener.local_addr().expect("relay addr");
    thread::spawn(move || {
        let Ok((client, _)) = listener.accept() else {
            return;
        };
        let Ok(server) = connect(upstream) else {
            return;
        };
        let timeouts = |s: &TcpStream| {
            let _ = s.set_read_timeout(Some(PATIENCE));
            let _ = s.set_write_timeout(Some(PATIENCE));
        };
        timeouts(&client);
        // Client → server: the request, untouched.
        let (mut from_client, mut to_server) = (
            client.try_clone().expect("clone"),
            server.try_clone().expect("clone"),
        );
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from_client.read(&mut buf) {
                if n == 0 || to_server.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to_server.shutdown(Shutdown::Write);
        });
        // Server → client: the answer, damaged.
        let (mut from_server, mut to_client) = (server, client);
        let mut buf = vec![0u8; 64 * 1024];
        let mut offset = 0usize;
        loop {
            let n = match from_server.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let piece = &mut buf[..n];
            match damage {
                Damage::FlipByte(at) if (offset..offset + n).contains(&at) => {
                    piece[at - offset] ^= 0xff;
                }
                Damage::CutAfter(limit) if offset + n >= limit => {
                    let _ = to_client.write_all(&piece[..limit - offset]);
                    // Close both sides: the client sees end of stream mid-file.
                    let _ = to_client.shutdown(Shutdown::Both);
                    let _ = from_server.shutdown(Shutdown::Both);
                    return;
                }
                _ => {}
            }
            if to_client.write_all(piece).is_err() {
                break;
            }
            offset += n;
        }
        let _ = to_client.shutdown(Shutdown::Write);
    });
    addr
}

/// A test server that accepts one client, reads its request, sends `answer`, and then
/// either closes or (with `hold`) keeps the connection open without a word until the
/// client goes away.
pub fn fake_server(answer: Vec<u8>, hold: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test server");
    let addr = listener.local_addr().expect("test server addr");
    thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else {
            return;
        };
        let _ = conn.set_read_timeout(Some(PATIENCE));
        let _ = conn.set_write_timeout(Some(PATIENCE));
        let mut header = [0u8; 4];
        if conn.read_exact(&mut header).is_err() {
            return;
        }
        let len = usize::try_from(i32::from_le_bytes(header)).unwrap_or(0);
        let mut name = vec![0u8; len.min(1 << 20)];
        let _ = conn.read_exact(&mut name);
        let _ = conn.write_all(&answer);
        if hold {
            // Wait until the client closes (read returns 0) or the timeout passes.
            let mut rest = [0u8; 64];
            let _ = conn.read(&mut rest);
        }
    });
    addr
}

/// An OK answer's header: status 0, size (u64 little-endian), SHA-256.
pub fn ok_header(size: u64, digest: &[u8; 32]) -> Vec<u8> {
    let mut header = vec![0u8];
    header.extend_from_slice(&size.to_le_bytes());
    header.extend_from_slice(digest);
    header
}

/// Check `ready` every few milliseconds until it holds (true) or PATIENCE runs out (false).
pub fn wait_until(ready: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while !ready() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
    true
}

/// Wait for the server to report a line on stderr that ends with `end`; returns that
/// line (without its newline). Waiting for the line's end, not just for some of it,
/// because stderr is unbuffered: a line may arrive in several writes.
pub fn reported(server: &Running, end: &str) -> String {
    let needle = format!("{end}\n");
    let all = server
        .wait_for_stderr(&needle, PATIENCE)
        .expect("server reports");
    all.lines()
        .find(|line| line.ends_with(end))
        .expect("the line")
        .to_string()
}
