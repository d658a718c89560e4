//! What the server refuses, and that it goes on serving afterwards: names that would
//! leave the root (`..`, absolute paths, symlinks out of it), a missing file, a folder,
//! a name frame that claims a huge or negative length, a name that is not UTF-8, a
//! client that gives up mid-frame. And the server's own usage errors.

mod common;

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
#[cfg(unix)]
use std::os::unix::fs::symlink;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use lesson_runner::{PATIENCE, Running, connect, read_to_close};

/// A root with `ok.txt` inside, and `secret.txt` next to it, outside the root.
fn root_with_a_secret_beside_it(t: &Scratch) -> std::path::PathBuf {
    let root = t.dir("root");
    fs::write(root.join("ok.txt"), "fine\n").expect("write");
    fs::write(t.join("secret.txt"), "not for you\n").expect("write");
    root
}

/// The server still serves: a normal download works and is whole.
fn still_serving(addr: SocketAddr, t: &Scratch) {
    let out = t.join("still-serving.txt");
    let done = download(addr, "ok.txt", Some(&out), t.path());
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(fs::read_to_string(&out).expect("saved"), "fine\n");
    fs::remove_file(&out).expect("clean up");
}

/// Ask for `name` with the Rust client; expect the refusal `why`, exit 1, nothing saved.
fn refused(addr: SocketAddr, t: &Scratch, name: &str, why: &str) {
    let out = t.dir("out");
    let done = download(addr, name, Some(&out), t.path());
    assert_eq!(done.code(), 1, "{name}: {}", done.stdout);
    assert_eq!(
        one_line(&done),
        format!("download {addr}: the server refused {name:?}: {why}")
    );
    assert_eq!(done.stdout, "");
    assert_eq!(
        names_in(&out),
        Vec::<String>::new(),
        "{name}: nothing saved"
    );
}

#[test]
#[cfg(unix)] // makes symlinks, which Windows allows only with extra rights
fn names_that_would_leave_the_root_are_refused() {
    let t = Scratch::new("traversal");
    let root = root_with_a_secret_beside_it(&t);
    // A symlink to a file outside, and one to a folder outside.
    symlink(t.join("secret.txt"), root.join("link.txt")).expect("symlink");
    symlink("..", root.join("up")).expect("symlink");
    let (server, addr) = server(&root, &[]);

    refused(addr, &t, "../secret.txt", "`..` is not allowed");
    refused(addr, &t, "sub/../../secret.txt", "`..` is not allowed");
    refused(addr, &t, "/etc/passwd", "absolute paths are not allowed");
    refused(addr, &t, "link.txt", "leads out of the root (a symlink)");
    refused(
        addr,
        &t,
        "up/secret.txt",
        "leads out of the root (a symlink)",
    );

    // Each one reported by the server, in the order they came.
    reported(&server, "leads out of the root (a symlink)");
    let log = server.stderr();
    let reports: Vec<&str> = log.lines().collect();
    assert_eq!(reports.len(), 5, "{log}");
    for (line, (name, why)) in reports.iter().zip([
        ("../secret.txt", "`..` is not allowed"),
        ("sub/../../secret.txt", "`..` is not allowed"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("link.txt", "leads out of the root (a symlink)"),
        ("up/secret.txt", "leads out of the root (a symlink)"),
    ]) {
        assert!(
            line.starts_with(&format!("refused {name:?} to 127.0.0.1:"))
                && line.ends_with(&format!(": {why}")),
            "{line}"
        );
    }
    still_serving(addr, &t);
}

#[test]
fn a_missing_file_an_empty_name_and_a_folder_are_refused() {
    let t = Scratch::new("missing");
    let root = root_with_a_secret_beside_it(&t);
    fs::create_dir(root.join("folder")).expect("mkdir");
    let (_server, addr) = server(&root, &[]);

    refused(addr, &t, "no-such-file.txt", "no such file");
    refused(addr, &t, "folder", "not a regular file");
    // An empty name can't come from the client (it has no file name to save under), so
    // a raw test client sends it.
    assert_eq!(refusal(&raw_exchange(addr, &frame(b""))), "empty file name");
    still_serving(addr, &t);
}

#[test]
fn a_name_frame_claiming_a_huge_length_is_refused_at_once() {
    let t = Scratch::new("huge");
    let root = root_with_a_secret_beside_it(&t);
    let (server, addr) = server(&root, &[]);

    // 7f ff ff ff: "the name is 2147483647 bytes long". A server that believed it would
    // reserve 2 GiB and wait for them; this one answers at once, without reading on.
    let started = Instant::now();
    let answer = raw_exchange(addr, &i32::MAX.to_le_bytes());
    assert_eq!(
        refusal(&answer),
        "frame header: length 2147483647 is over the 4096-byte limit"
    );
    assert!(started.elapsed() < PATIENCE);
    let line = reported(&server, "is over the 4096-byte limit");
    assert!(
        line.starts_with("refused 127.0.0.1:")
            && line.ends_with(": frame header: length 2147483647 is over the 4096-byte limit"),
        "{line}"
    );

    // Negative: ff ff ff ff is -1.
    let answer = raw_exchange(addr, &(-1i32).to_le_bytes());
    assert_eq!(refusal(&answer), "frame header: length -1 is negative");
    still_serving(addr, &t);
}

#[test]
fn the_name_limit_is_4096_bytes_exactly() {
    let t = Scratch::new("limit");
    let root = t.dir("root");
    fs::write(root.join("ok.txt"), "fine\n").expect("write");
    let (_server, addr) = server(&root, &[]);
    // 4096 bytes (`./` 2045 times, then `ok.txt`): read whole, and served.
    let name = format!("{}ok.txt", "./".repeat(2045));
    assert_eq!(name.len(), 4096);
    let answer = raw_exchange(addr, &frame(name.as_bytes()));
    assert_eq!(answer[0], 0, "status 0");
    // 4097 bytes: refused, before the name is read. The name is sent after the header, so
    // the refusal goes out while the name's bytes are still unread: the server must not
    // answer with a reset (the connection would be reset before we read the reason).
    let name = format!("/{name}");
    let answer = raw_exchange(addr, &frame(name.as_bytes()));
    assert_eq!(
        refusal(&answer),
        "frame header: length 4097 is over the 4096-byte limit"
    );
}

#[test]
fn a_name_that_is_not_utf8_is_refused_and_shown_escaped() {
    let t = Scratch::new("utf8");
    let root = root_with_a_secret_beside_it(&t);
    let (server, addr) = server(&root, &[]);
    let answer = raw_exchange(addr, &frame(b"\xff\xfeok.txt"));
    assert_eq!(refusal(&answer), "file name is not UTF-8");
    let line = reported(&server, "file name is not UTF-8");
    assert!(
        line.starts_with("refused b'\\xff\\xfeok.txt' to 127.0.0.1:"),
        "{line}"
    );
    still_serving(addr, &t);
}

#[test]
fn a_name_with_control_characters_is_shown_escaped() {
    // A client must neither forge a line of the server's report nor drive its terminal.
    let t = Scratch::new("escaped");
    let root = root_with_a_secret_beside_it(&t);
    let (server, addr) = server(&root, &[]);
    let answer = raw_exchange(
        addr,
        &frame(b"x\x1b[2J\nsent \"ok.txt\" to 10.0.0.1:1: 5 bytes\r"),
    );
    assert_eq!(refusal(&answer), "no such file");
    let shown = r#""x\x1b[2J\nsent "ok.txt" to 10.0.0.1:1: 5 bytes\r""#;
    let line = reported(&server, "no such file");
    assert!(
        line.starts_with(&format!("refused {shown} to 127.0.0.1:")),
        "{line}"
    );
    let log = server
        .wait_for_stdout(&format!(" asks for {shown}\n"), PATIENCE)
        .expect("the server's asks-for line");
    assert!(
        !log.contains('\x1b') && !server.stderr().contains('\x1b'),
        "no escape character on the server's screen"
    );
    assert_eq!(log.lines().count(), 3, "one line for the request: {log}");
    still_serving(addr, &t);
}

#[test]
fn a_client_that_gives_up_mid_frame_is_reported_and_the_server_goes_on() {
    let t = Scratch::new("giveup");
    let root = root_with_a_secret_beside_it(&t);
    let (server, addr) = server(&root, &[]);

    // Two bytes of the header, then close.
    let mut stream = connect(addr).expect("connect");
    stream.write_all(&[5, 0]).expect("send");
    drop(stream);
    let line = reported(&server, ": stream ended after 2 of 4 header bytes");
    assert!(line.starts_with("receive 127.0.0.1:"), "{line}");

    // A header that promises 10 bytes of name, and 3 of them.
    let mut stream = connect(addr).expect("connect");
    stream
        .write_all(&[10, 0, 0, 0, b'o', b'k', b'.'])
        .expect("send");
    stream
        .shutdown(std::net::Shutdown::Write)
        .expect("shutdown");
    assert_eq!(read_to_close(&mut stream).expect("closed"), b"");
    let line = reported(&server, ": stream ended after 3 of 10 name bytes");
    assert!(line.starts_with("receive 127.0.0.1:"), "{line}");
    still_serving(addr, &t);
}

#[test]
fn a_request_gets_one_deadline_however_slowly_it_comes() {
    let t = Scratch::new("trickle");
    let root = root_with_a_secret_beside_it(&t);
    let (server, addr) = server(&root, &["--timeout", "1"]);
    let started = Instant::now();
    // A client that says nothing, and one that sends its request a byte every 100 ms: the
    // 37 bytes would take 3.7 s, and no single read waits as long as 1 s.
    let _silent = connect(addr).expect("connect");
    thread::spawn(move || {
        let Ok(mut stream) = connect(addr) else {
            return;
        };
        for byte in frame(b"a-rather-long-name-for-a-file.txt") {
            if stream.write_all(&[byte]).is_err() {
                return; // the server has closed: what this test waits for
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let end = "no whole request within 1 s (--timeout); closed\n";
    assert!(
        wait_until(|| server.stderr().matches(end).count() == 2),
        "both dropped: {}",
        server.stderr()
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "one deadline for the request, not one per read: {:?}",
        started.elapsed()
    );
    still_serving(addr, &t);
}

#[test]
fn server_usage_a_missing_root_and_a_port_in_use() {
    let t = Scratch::new("usage");
    // No --root: clap's usage error, exit 2.
    let done = Running::start(SERVER, &["--port", "0"])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert_eq!(done.code(), 2);
    assert!(done.stderr.contains("--root <DIR>"), "{}", done.stderr);

    // A --timeout beyond a day: a usage error.
    let root = t.dir("root");
    let root = root.to_str().expect("utf-8");
    for (option, value, says) in [
        ("--timeout", "1e19", "at most"),
        ("--timeout", "inf", "at most"),
    ] {
        let done = Running::start(SERVER, &["--port", "0", "--root", root, option, value])
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 2, "{option} {value}: {done:?}");
        assert!(
            done.stderr.contains(says),
            "{option} {value}: {}",
            done.stderr
        );
    }

    // A root that is not there: one line, exit 1.
    let missing = t.join("not-there");
    let done = Running::start(
        SERVER,
        &["--port", "0", "--root", missing.to_str().expect("utf-8")],
    )
    .expect("start")
    .finish(PATIENCE)
    .expect("ends");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("root {}: no such file or directory\n", missing.display())
    );

    // A port someone else has.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let root = t.dir("root");
    let done = Running::start(
        SERVER,
        &["--port", &port, "--root", root.to_str().expect("utf-8")],
    )
    .expect("start")
    .finish(PATIENCE)
    .expect("ends");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        lesson_runner::port_in_use_line(format!("127.0.0.1:{port}"))
    );
    assert!(!Path::new(&missing).exists());
}
