//! Rust ↔ Python: the course's downloader retold for Python 3 (python/tftp_download.py,
//! lesson 17's) against our server. Skipped with a notice when python3 is missing (a
//! failure under CI=true).

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

/// `python3 tftp_download.py --host 127.0.0.1 --port PORT NAME -o OUT`, in `dir`.
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

#[test]
fn python_client_rust_server_byte_identical() {
    let Some(py) = python3() else { return };
    let root = Scratch::new("root");
    let want = file(&root, "p.bin", contents(1_000_003, 41));
    let (server, addr) = start_server(root.path(), &[]);
    let here = Scratch::new("out");
    let done = python_download(&py, here.path(), addr, "p.bin", "copy.bin");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(
        &fs::read(here.join("copy.bin")).expect("file"),
        &want,
        "copy.bin",
    );
    assert_eq!(
        done.stdout,
        format!(
            "asking 127.0.0.1:{} for 'p.bin' (octet)\nreceived 1000003 bytes, saved to copy.bin\n",
            addr.port()
        )
    );
    server
        .wait_for_stdout("sent \"p.bin\"", PATIENCE)
        .expect("the server's summary");
}

#[test]
fn python_client_rust_server_size_a_multiple_of_512() {
    let Some(py) = python3() else { return };
    let root = Scratch::new("root");
    let want = file(&root, "k.bin", contents(512 * 300, 42));
    let (server, addr) = start_server(root.path(), &[]);
    let here = Scratch::new("out");
    let done = python_download(&py, here.path(), addr, "k.bin", "copy.bin");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(
        &fs::read(here.join("copy.bin")).expect("file"),
        &want,
        "copy.bin",
    );
    let out = server
        .wait_for_stdout("sent \"k.bin\"", PATIENCE)
        .expect("the server's summary");
    assert!(
        out.contains(": 153600 bytes in 301 blocks of 512 in "),
        "{out}"
    );
}

#[test]
fn python_client_rust_server_missing_file_and_dot_dot() {
    let Some(py) = python3() else { return };
    let root = Scratch::new("root");
    let (_server, addr) = start_server(root.path(), &[]);
    let here = Scratch::new("out");
    for (name, line) in [
        ("nope.txt", "error 1: \"nope.txt\": file not found"),
        (
            "../etc/passwd",
            "error 2: \"../etc/passwd\": `..` may not leave the root",
        ),
    ] {
        let done = python_download(&py, here.path(), addr, name, "copy.bin");
        assert_eq!(done.code(), 1, "{name}");
        assert_eq!(
            done.stderr,
            format!("server 127.0.0.1:{}: {line}\n", addr.port()),
            "{name}"
        );
    }
    assert_eq!(here.names(), Vec::<String>::new());
}
