//! Rust ↔ Python: the course's downloader retold for Python 3 (python/tftp_download.py)
//! beside tftp-client-v1. Against in.tftpd, the reference server, both get the file byte
//! for byte; against a test socket playing the server, both send the same bytes, RRQ and
//! ACK for ACK. (The Python downloader against lesson 19's server: that lesson's tests.)
//! Skipped with a notice when python3 is missing (a failure under CI=true).

mod common;

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use lesson_runner::{Finished, PATIENCE, Running, python3};

fn downloader() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/tftp_download.py")
}

/// `python3 tftp_download.py --host IP --port PORT NAME -o OUT`, in `dir`, to its end.
fn python_download(py: &Path, dir: &Path, addr: SocketAddr, name: &str, out: &str) -> Finished {
    let mut command = Command::new(py);
    command
        .arg(downloader())
        .args(["--host", &addr.ip().to_string()])
        .args(["--port", &addr.port().to_string()])
        .args([name, "-o", out])
        .current_dir(dir);
    Running::spawn(command)
        .expect("start python3")
        .finish(PATIENCE * 3)
        .expect("the downloader ends")
}

/// The same downloader against the reference server: what the course's program meets
/// in the wild (in.tftpd answers from a new port).
#[test]
fn python_client_in_tftpd_byte_identical() {
    let Some(py) = python3() else { return };
    let root = Scratch::new("root");
    let want = file(&root, "i.bin", contents(300_000, 43));
    let Some((_daemon, addr)) = start_in_tftpd(root.path(), &[]) else {
        return;
    };
    let here = Scratch::new("out");
    let done = python_download(&py, here.path(), addr, "i.bin", "copy.bin");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(
        &fs::read(here.join("copy.bin")).expect("file"),
        &want,
        "copy.bin",
    );
    assert_eq!(
        done.stdout,
        format!("asking {addr} for 'i.bin' (octet)\nreceived 300000 bytes, saved to copy.bin\n")
    );
    // Our client, the same file: the same bytes.
    let mut args = server_args(addr);
    args.extend(["i.bin".into(), "-o".into(), "rust.bin".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let done = client(here.path(), &args);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(
        &fs::read(here.join("rust.bin")).expect("file"),
        &want,
        "rust.bin",
    );
}

/// Play the server for one download of a 515-byte file (blocks of 512 and 3, block 1
/// sent twice as if our first copy was lost) with the client `make` builds for our
/// address. Returns every datagram the client sent, as they came: RRQ, ACK 1, ACK 1
/// again, ACK 2; and the file it saved.
fn what_a_client_sends(make: impl FnOnce(SocketAddr) -> Command) -> (Vec<Vec<u8>>, Vec<u8>) {
    let listen = test_socket();
    let here = Scratch::new("out");
    let mut command = make(listen.local_addr().expect("addr"));
    command.current_dir(here.path());
    let client = Running::spawn(command).expect("start the client");
    let (request, peer) = receive(&listen);
    let mut sent = vec![request];
    // Our own transfer socket, the way a server answers from a new port.
    let tid = test_socket();
    let (first, second) = (contents(512, 44), contents(3, 45));
    for packet in [data(1, &first), data(1, &first), data(2, &second)] {
        tid.send_to(&packet, peer).expect("send DATA");
        let (ack, from) = receive(&tid);
        assert_eq!(from, peer, "the ACK comes from the client's port");
        sent.push(ack);
    }
    let done = client.finish(PATIENCE).expect("the client ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    let saved = fs::read(here.join("copy.bin")).expect("the saved file");
    assert_eq!(saved, [first, second].concat());
    (sent, saved)
}

#[test]
fn python_and_rust_send_the_same_bytes() {
    let Some(py) = python3() else { return };
    let python = what_a_client_sends(|addr| {
        let mut command = Command::new(&py);
        command
            .arg(downloader())
            .args(["--host", &addr.ip().to_string()])
            .args(["--port", &addr.port().to_string()])
            .args(["f.bin", "-o", "copy.bin"]);
        command
    });
    let rust = what_a_client_sends(|addr| {
        let mut command = Command::new(CLIENT);
        command
            .args(server_args(addr))
            .args(["f.bin", "-o", "copy.bin"]);
        command
    });
    let want = vec![
        b"\x00\x01f.bin\x00octet\x00".to_vec(),
        ack(1),
        ack(1),
        ack(2),
    ];
    assert_eq!(python.0, want, "what the Python downloader sent");
    assert_eq!(rust.0, want, "what tftp-client-v1 sent");
    assert_eq!(python.1, rust.1, "the files they saved");
}
