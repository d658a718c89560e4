//! What the tests share: folders that clean up after themselves, file contents that are
//! the same on every run, starting the programs (ours, and in.tftpd from tftpd-hpa), and
//! raw packets for a test socket to send and expect.
#![allow(dead_code)] // each test file uses its own part of this

use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use lesson_runner::{Finished, PATIENCE, Running, peer_program};

pub const CLIENT: &str = env!("CARGO_BIN_EXE_tftp-client-v2");

pub use lesson_runner::Scratch;

/// Write a file into `dir` (mode 644: in.tftpd serves as the user `nobody`) and return
/// its contents.
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

/// `--host IP --port PORT`: how our client is told where the server is.
pub fn server_args(addr: SocketAddr) -> Vec<String> {
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    vec!["--host".into(), host, "--port".into(), port]
}

/// Run our client to its end: `tftp-client-v2 ARGS...` in the folder `dir`.
pub fn client(dir: &Path, args: &[&str]) -> Finished {
    let mut command = Command::new(CLIENT);
    command.args(args).current_dir(dir);
    Running::spawn(command)
        .expect("start tftp-client-v2")
        .finish(PATIENCE * 6)
        .expect("tftp-client-v2 ends")
}

/// in.tftpd from Debian's tftpd-hpa, in the foreground, serving `root`, answering on a
/// free port of 127.0.0.1. `None` when it is not installed (a failure under CI=true).
///
/// in.tftpd can't be told "port 0", so: ask the OS for a free port, let it go, and give
/// that to in.tftpd. It prints no banner either, so we know it is up when it answers an
/// RRQ for a small file this function puts in the root.
pub fn start_in_tftpd(root: &Path, extra: &[&str]) -> Option<(Running, SocketAddr)> {
    let program = peer_program("in.tftpd")?;
    let probe = root.join(".probe");
    fs::write(&probe, b"ready").expect("write the probe file");
    readable(&probe);
    // Another program could take the port between our look and in.tftpd's bind: then
    // in.tftpd exits at once, and we try another port.
    let mut last_words = String::new();
    for _ in 0..5 {
        let addr = free_udp_port();
        let mut args = vec![
            "--foreground".to_string(),
            "--address".to_string(),
            addr.to_string(),
            "--secure".to_string(),
            root.to_str().expect("a UTF-8 path").to_string(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let mut daemon = Running::start(&program, &args).expect("start in.tftpd");
        if answers(&mut daemon, addr) {
            return Some((daemon, addr));
        }
        last_words = format!("stdout: {} stderr: {}", daemon.stdout(), daemon.stderr());
    }
    panic!("in.tftpd never answered ({last_words})");
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind to find a free port");
    socket.local_addr().expect("local addr")
}

/// Poll `addr` with an RRQ for `.probe` (read timeout 100 ms) until DATA comes back, and
/// finish that little transfer properly. False if the daemon died or never answered.
fn answers(daemon: &mut Running, addr: SocketAddr) -> bool {
    let socket = test_socket();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let deadline = Instant::now() + PATIENCE;
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        if daemon.try_status().expect("in.tftpd's status").is_some() {
            return false;
        }
        socket
            .send_to(&rrq(".probe", &[]), addr)
            .expect("send the probe RRQ");
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            assert_eq!(&buf[..n], b"\x00\x03\x00\x01ready", "in.tftpd's answer");
            socket.send_to(&ack(1), from).expect("ACK the probe");
            return true;
        }
    }
    false
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
