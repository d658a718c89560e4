//! Rust ↔ Python: the Rust client against the Python server and the Python client against
//! the Rust server, a multi-megabyte file byte-identical both ways, a refusal both ways,
//! and both servers putting the same bytes on the wire. Skipped with a notice when
//! python3 is missing (a failure under CI=true).

mod common;

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use lesson_runner::{Finished, PATIENCE, Running, connect, python3};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

/// Start the Python server serving `root`.
fn python_server(py: &Path, root: &Path) -> (Running, SocketAddr) {
    let mut command = Command::new(py);
    command
        .arg(script("tcp_file_download_server.py"))
        .args(["--port", "0", "--root"])
        .arg(root)
        .env("PYTHONIOENCODING", "utf-8");
    let server = Running::spawn(command).expect("start python3");
    let addr = server.wait_for_banner(PATIENCE).expect("python banner");
    (server, addr)
}

/// Run the Python client to the end.
fn python_download(py: &Path, addr: SocketAddr, name: &str, out: &Path) -> Finished {
    let mut command = Command::new(py);
    command
        .arg(script("tcp_file_download_client.py"))
        .args(["--port", &addr.port().to_string(), name, "-o"])
        .arg(out)
        .env("PYTHONIOENCODING", "utf-8");
    Running::spawn(command)
        .expect("start python3")
        .finish(BIG_PATIENCE)
        .expect("python client ends")
}

/// A root with a 5 MB file `data.bin`, and `secret.txt` outside it.
fn root(t: &Scratch) -> (PathBuf, Vec<u8>) {
    let root = t.dir("root");
    let data = pattern_file(&root.join("data.bin"), 5_000_000);
    fs::write(t.join("secret.txt"), "not for you\n").expect("write");
    (root, data)
}

/// A successful download's output, the same from either client.
fn success_lines(data: &[u8], out: &Path) -> String {
    format!(
        "receiving \"data.bin\": {} bytes, SHA-256 {}\nsaved {} ({} bytes, SHA-256 verified)\n",
        data.len(),
        hex(&sha256(data)),
        out.display(),
        data.len()
    )
}

#[test]
fn rust_server_python_client_downloads_byte_identical() {
    let Some(py) = python3() else { return };
    let t = Scratch::new("py-client");
    let (root, data) = root(&t);
    let (_server, addr) = server(&root, &[]);
    let out = t.join("copy.bin");
    let done = python_download(&py, addr, "data.bin", &out);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, success_lines(&data, &out));
    assert!(fs::read(&out).expect("saved") == data, "the copy differs");
    assert_eq!(names_in(t.path()), ["copy.bin", "root", "secret.txt"]);
}

#[test]
fn python_server_rust_client_downloads_byte_identical() {
    let Some(py) = python3() else { return };
    let t = Scratch::new("py-server");
    let (root, data) = root(&t);
    let (server, addr) = python_server(&py, &root);
    let out = t.join("copy.bin");
    let done = download(addr, "data.bin", Some(&out), t.path());
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, success_lines(&data, &out));
    assert!(fs::read(&out).expect("saved") == data, "the copy differs");
    let log = server
        .wait_for_stdout(": 5000000 bytes\n", PATIENCE)
        .expect("python server reports");
    assert!(
        log.contains(" asks for \"data.bin\"\nsent \"data.bin\" to 127.0.0.1:"),
        "{log}"
    );
}

#[test]
fn rust_server_python_client_is_refused_and_saves_nothing() {
    let Some(py) = python3() else { return };
    let t = Scratch::new("py-client-refused");
    let (root, _) = root(&t);
    let (_server, addr) = server(&root, &[]);
    let out = t.dir("out");
    let done = python_download(&py, addr, "../secret.txt", &out);
    assert_eq!(done.code(), 1, "{}", done.stdout);
    assert_eq!(
        done.stderr,
        format!("download {addr}: the server refused \"../secret.txt\": `..` is not allowed\n")
    );
    assert_eq!(names_in(&out), Vec::<String>::new());
}

#[test]
#[cfg(unix)] // makes symlinks, which Windows allows only with extra rights
fn python_server_rust_client_is_refused_and_saves_nothing() {
    let Some(py) = python3() else { return };
    let t = Scratch::new("py-server-refused");
    let (root, _) = root(&t);
    std::os::unix::fs::symlink(t.join("secret.txt"), root.join("link.txt")).expect("symlink");
    let (server, addr) = python_server(&py, &root);
    let out = t.dir("out");
    for (name, why) in [
        ("../secret.txt", "`..` is not allowed"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("link.txt", "leads out of the root (a symlink)"),
        ("missing.txt", "no such file"),
    ] {
        let done = download(addr, name, Some(&out), t.path());
        assert_eq!(done.code(), 1, "{name}: {}", done.stdout);
        assert_eq!(
            one_line(&done),
            format!("download {addr}: the server refused {name:?}: {why}")
        );
    }
    assert_eq!(names_in(&out), Vec::<String>::new());
    // A huge name frame: refused at once, and the Python server goes on serving.
    let answer = raw_exchange(addr, &i32::MAX.to_le_bytes());
    assert_eq!(
        refusal(&answer),
        "frame header: length 2147483647 is over the 4096-byte limit"
    );
    let done = download(addr, "data.bin", Some(&out), t.path());
    assert_eq!(done.code(), 0, "{}", done.stderr);
    reported(&server, "is over the 4096-byte limit");
}

#[test]
fn both_servers_put_the_same_bytes_on_the_wire() {
    let Some(py) = python3() else { return };
    let t = Scratch::new("same-bytes");
    let (root, _) = root(&t);
    fs::write(root.join("small.txt"), "small\n").expect("write");
    let (_rust, rust_addr) = server(&root, &[]);
    let (_python, python_addr) = python_server(&py, &root);
    for request in [
        frame(b"small.txt"),
        frame(b"data.bin"),
        frame(b"../secret.txt"),
        frame(b"nope"),
        frame(b"\xff"),
        frame(b""),
        frame(b"nul\0byte.txt"),
        frame(&[b'a'; 4097]),
        (-3i32).to_le_bytes().to_vec(),
    ] {
        let from_rust = raw_exchange(rust_addr, &request);
        let from_python = raw_exchange(python_addr, &request);
        assert!(
            from_rust == from_python,
            "request {request:?}: Rust answered {} bytes, Python {} bytes ({:?} / {:?})",
            from_rust.len(),
            from_python.len(),
            String::from_utf8_lossy(&from_rust[..from_rust.len().min(80)]),
            String::from_utf8_lossy(&from_python[..from_python.len().min(80)]),
        );
    }
}

#[test]
fn rust_server_python_client_refuses_a_flipped_byte_and_a_cut_stream() {
    let Some(py) = python3() else { return };
    let t = Scratch::new("py-client-damage");
    let (root, data) = root(&t);
    let (_server, upstream) = server(&root, &[]);
    let out = t.dir("out");

    let addr = relay(upstream, Damage::FlipByte(41 + 4_000_000));
    let done = python_download(&py, addr, "data.bin", &out);
    assert_eq!(done.code(), 1, "{}", done.stdout);
    let mut damaged = data.clone();
    damaged[4_000_000] ^= 0xff;
    assert_eq!(
        one_line(&done),
        format!(
            "verify {addr}: SHA-256 mismatch (the server announced {}, the bytes received hash to {}); nothing saved",
            hex(&sha256(&data)),
            hex(&sha256(&damaged))
        )
    );
    assert_eq!(names_in(&out), Vec::<String>::new());

    let addr = relay(upstream, Damage::CutAfter(41 + 123_456));
    let done = python_download(&py, addr, "data.bin", &out);
    assert_eq!(done.code(), 1, "{}", done.stdout);
    assert_eq!(
        one_line(&done),
        format!("receive {addr}: stream ended after 123456 of 5000000 bytes; nothing saved")
    );
    assert_eq!(names_in(&out), Vec::<String>::new());
}

#[test]
fn both_clients_give_up_on_a_silent_server_and_show_a_refusal_escaped() {
    let Some(py) = python3() else { return };
    let t = Scratch::new("py-client-silent");
    let out = t.dir("out");
    // The header, 4 of the 10 bytes announced, then silence.
    let mut stalled = ok_header(10, &[0u8; 32]);
    stalled.extend_from_slice(b"abcd");
    let mut refusal = vec![1u8];
    refusal.extend_from_slice(&frame(b"no\x1b[2J\nsecond line"));
    for (answer, line) in [
        (
            stalled,
            "nothing arrived for 0.3 s while waiting for the file, after 4 of 10 bytes (--timeout); nothing saved",
        ),
        (
            refusal,
            "the server refused \"data.bin\": no\\x1b[2J\\nsecond line",
        ),
    ] {
        let mut lines = Vec::new();
        for python in [false, true] {
            let addr = fake_server(answer.clone(), true);
            let mut command = if python {
                let mut command = Command::new(&py);
                command.arg(script("tcp_file_download_client.py"));
                command
            } else {
                Command::new(CLIENT)
            };
            command
                .args(["--port", &addr.port().to_string(), "data.bin", "-o"])
                .arg(&out)
                .args(["--timeout", "0.3"])
                .env("PYTHONIOENCODING", "utf-8");
            let done = Running::spawn(command)
                .expect("start client")
                .finish(PATIENCE)
                .expect("client ends");
            assert_eq!(done.code(), 1, "python: {python}: {done:?}");
            let got = one_line(&done);
            assert!(got.ends_with(line), "python: {python}: {got}");
            lines.push(got.replace(&addr.to_string(), "ADDR"));
            assert_eq!(names_in(&out), Vec::<String>::new());
        }
        assert_eq!(lines[0], lines[1], "the same line from both clients");
    }
}

#[test]
fn python_server_shows_a_name_with_control_characters_escaped() {
    let Some(py) = python3() else { return };
    let t = Scratch::new("py-server-escaped");
    let (root, _) = root(&t);
    let (server, addr) = python_server(&py, &root);
    let answer = raw_exchange(addr, &frame(b"x\x1b[2J\nsent \"y\"\r"));
    assert_eq!(refusal(&answer), "no such file");
    // The same form as the Rust server's (tests/refusals.rs).
    let shown = r#""x\x1b[2J\nsent "y"\r""#;
    server
        .wait_for_stdout(&format!(" asks for {shown}\n"), PATIENCE)
        .expect("the asks-for line, escaped");
    let line = reported(&server, "no such file");
    assert!(line.starts_with(&format!("refused {shown} to ")), "{line}");
    assert!(!server.stdout().contains('\x1b') && !server.stderr().contains('\x1b'));
}

#[test]
fn python_server_gives_a_request_one_deadline() {
    let Some(py) = python3() else { return };
    let t = Scratch::new("py-server-trickle");
    let (root, _) = root(&t);
    let mut command = Command::new(&py);
    command
        .arg(script("tcp_file_download_server.py"))
        .args(["--port", "0", "--timeout", "1", "--root"])
        .arg(&root);
    let server = Running::spawn(command).expect("start python3");
    let addr = server.wait_for_banner(PATIENCE).expect("python banner");
    let started = Instant::now();
    // A byte every 100 ms: the 37-byte request would take 3.7 s (tests/refusals.rs has the
    // same for the Rust server).
    thread::spawn(move || {
        let Ok(mut stream) = connect(addr) else {
            return;
        };
        for byte in frame(b"a-rather-long-name-for-a-file.txt") {
            if stream.write_all(&[byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    reported(&server, "no whole request within 1 s (--timeout); closed");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
