//! What the tests share: folders that clean up after themselves, file contents that are
//! the same on every run, starting the programs (our server, lesson 18's client, the
//! `tftp` client from tftp-hpa), and raw packets for a test socket to send and expect.
#![allow(dead_code)] // each test file uses its own part of this

use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;

use lesson_runner::{Finished, PATIENCE, Running, in_ci, peer_program, workspace_bin};

pub const SERVER: &str = env!("CARGO_BIN_EXE_tftp-server");

pub use lesson_runner::Scratch;

/// Write a file into `dir` (mode 644, readable by all) and return its contents.
pub fn file(dir: &Scratch, name: &str, contents: Vec<u8>) -> Vec<u8> {
    let path = dir.join(name);
    fs::write(&path, &contents).expect("write a test file");
    readable(&path);
    contents
}

/// Mode 644 on Unix, where in.tftpd serves as the user `nobody`. (Windows has no
/// in.tftpd, and no mode bits.)
pub fn readable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o644)).expect("chmod 644");
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// `len` bytes that look random and are the same on every run for the same `seed`
/// (xorshift64), so a test that fails can be run again on the same file.
pub fn contents(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Compare two files' contents without printing megabytes when they differ.
pub fn assert_same_bytes(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let first = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "{what}: {} bytes, expected {}; first difference at {first:?}",
            got.len(),
            want.len()
        );
    }
}

/// Our server on a port the OS picks, serving `root`; waits for its banner.
pub fn start_server(root: &Path, extra: &[&str]) -> (Running, SocketAddr) {
    let root = root.to_str().expect("a UTF-8 path");
    let mut args = vec!["--root", root, "--port", "0"];
    args.extend_from_slice(extra);
    let server = Running::start(SERVER, &args).expect("start tftp-server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    (server, addr)
}

/// Lesson 18's client, tftp-client-v2, another package's binary: `cargo test
/// --workspace` builds it before any test runs. `None` with a notice when it is not
/// built (a failure under CI=true).
pub fn our_client() -> Option<PathBuf> {
    let bin = workspace_bin("tftp-client-v2");
    if bin.is_file() {
        return Some(bin);
    }
    let why = format!(
        "{} is not built: run `cargo test --workspace` (or `cargo build -p tftp-client-v2`)",
        bin.display()
    );
    assert!(!in_ci(), "{why}");
    eprintln!("skipping: {why}");
    None
}

/// Run `client` (from [`our_client`]) to its end: `tftp-client-v2 --host IP --port PORT
/// ARGS...` in `dir`, for the server at `addr`.
pub fn client(client: &Path, dir: &Path, addr: SocketAddr, args: &[&str]) -> Finished {
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    let mut command = Command::new(client);
    command
        .args(["--host", &host, "--port", &port])
        .args(args)
        .current_dir(dir);
    Running::spawn(command)
        .expect("start tftp-client-v2")
        .finish(PATIENCE * 6)
        .expect("tftp-client-v2 ends")
}

/// The `tftp` client from Debian's tftp-hpa, or `None` (a failure under CI=true).
pub fn tftp_hpa() -> Option<PathBuf> {
    peer_program("tftp")
}

/// `tftp -m binary 127.0.0.1 PORT -c get NAME OUT`, in `dir`, to its end.
pub fn tftp_hpa_get(tftp: &Path, dir: &Path, addr: SocketAddr, name: &str, out: &str) -> Finished {
    let mut command = Command::new(tftp);
    command
        .args([
            "-m",
            "binary",
            &addr.ip().to_string(),
            &addr.port().to_string(),
        ])
        .args(["-c", "get", name, out])
        .current_dir(dir);
    Running::spawn(command)
        .expect("start tftp")
        .finish(PATIENCE * 6)
        .expect("tftp ends")
}

/// A test's own UDP socket on 127.0.0.1, with a read timeout so a silent peer fails the
/// test instead of hanging it.
pub fn test_socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a test socket");
    socket
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    socket
}

/// Receive one datagram: its bytes and who sent it.
pub fn receive(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 70_000];
    let (n, from) = socket.recv_from(&mut buf).expect("a datagram");
    buf.truncate(n);
    (buf, from)
}

// Raw packets, spelled out byte by byte here rather than borrowed from the lesson's own
// `packet` module: a test that used the code under test to build its expectations could
// not catch a mistake in it.

pub fn rrq(name: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut out = vec![0, 1];
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.extend_from_slice(b"octet\0");
    for (option, value) in options {
        out.extend_from_slice(option.as_bytes());
        out.push(0);
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    }
    out
}

pub fn data(block: u16, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 3];
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

pub fn ack(block: u16) -> Vec<u8> {
    let mut out = vec![0, 4];
    out.extend_from_slice(&block.to_be_bytes());
    out
}

pub fn error(code: u16, message: &str) -> Vec<u8> {
    let mut out = vec![0, 5];
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(message.as_bytes());
    out.push(0);
    out
}

pub fn oack(options: &[(&str, &str)]) -> Vec<u8> {
    let mut out = vec![0, 6];
    for (option, value) in options {
        out.extend_from_slice(option.as_bytes());
        out.push(0);
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    }
    out
}

/// The opcode and error code of an ERROR packet, or a panic naming what came instead.
pub fn error_code(packet: &[u8]) -> u16 {
    match packet {
        [0, 5, hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
        other => panic!("expected an ERROR packet, got {other:?}"),
    }
}

/// The message of an ERROR packet, without its zero byte.
pub fn error_message(packet: &[u8]) -> String {
    let text = packet.get(4..).unwrap_or_default();
    let text = text.strip_suffix(&[0]).unwrap_or(text);
    String::from_utf8_lossy(text).into_owned()
}
