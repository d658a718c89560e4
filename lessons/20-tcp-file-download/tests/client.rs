//! What the client does when the download goes wrong: one flipped byte on the way (the
//! digest catches it), a stream cut in the middle of the file or of the header, a server
//! that says nothing or something it shouldn't (escape sequences included), a server that
//! goes silent, Ctrl-C and SIGTERM mid-download, a stdout that closes (`| head`), usage
//! errors, a name that does not resolve and a refused connection. In every case: one line
//! on stderr, and no file left behind.

mod common;

use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use lesson_runner::{Finished, PATIENCE, Running, refused_port};

/// A root with one 2 MB file; the server for it; the file's bytes.
fn two_megabytes(t: &Scratch) -> (Running, SocketAddr, Vec<u8>) {
    let root = t.dir("root");
    let data = pattern_file(&root.join("data.bin"), 2_000_000);
    let (server, addr) = server(&root, &[]);
    (server, addr, data)
}

/// The answer's header is 41 bytes: status, 8 of size, 32 of SHA-256.
const HEADER: usize = 41;

/// Run the client against `addr` for `data.bin` into a fresh `out` folder; expect exit 1
/// with `line` and nothing in `out`.
fn fails_leaving_nothing(t: &Scratch, addr: SocketAddr, line: &str) {
    let out = t.dir("out");
    let done = download(addr, "data.bin", Some(&out), t.path());
    assert_eq!(done.code(), 1, "{}", done.stdout);
    assert_eq!(one_line(&done), line);
    assert_eq!(names_in(&out), Vec::<String>::new(), "nothing left behind");
}

#[test]
fn one_flipped_byte_in_the_body_is_caught_and_nothing_is_saved() {
    let t = Scratch::new("flip");
    let (_server, upstream, data) = two_megabytes(&t);
    let addr = relay(upstream, Damage::FlipByte(HEADER + 1_234_567));
    let mut damaged = data.clone();
    damaged[1_234_567] ^= 0xff;
    fails_leaving_nothing(
        &t,
        addr,
        &format!(
            "verify {addr}: SHA-256 mismatch (the server announced {}, the bytes received hash to {}); nothing saved",
            hex(&sha256(&data)),
            hex(&sha256(&damaged))
        ),
    );
}

#[test]
fn a_stream_cut_in_the_middle_of_the_file_leaves_nothing() {
    let t = Scratch::new("cut");
    let (_server, upstream, _) = two_megabytes(&t);
    let addr = relay(upstream, Damage::CutAfter(HEADER + 1_000_000));
    fails_leaving_nothing(
        &t,
        addr,
        &format!("receive {addr}: stream ended after 1000000 of 2000000 bytes; nothing saved"),
    );
}

#[test]
fn a_stream_cut_in_the_header_leaves_nothing() {
    let t = Scratch::new("cut-header");
    let (_server, upstream, _) = two_megabytes(&t);
    let addr = relay(upstream, Damage::CutAfter(20));
    fails_leaving_nothing(
        &t,
        addr,
        &format!("receive {addr}: stream ended after 19 of 40 header bytes (size, SHA-256)"),
    );
}

#[test]
fn servers_that_answer_nothing_or_nonsense() {
    let t = Scratch::new("nonsense");
    let addr = fake_server(Vec::new(), false);
    fails_leaving_nothing(
        &t,
        addr,
        &format!("receive {addr}: the server closed without answering"),
    );
    let addr = fake_server(b"HTTP/1.1 200 OK\r\n".to_vec(), false);
    fails_leaving_nothing(&t, addr, &format!("receive {addr}: unknown status byte 72"));
    // A refusal whose message claims 1 GiB: refused before anything is allocated.
    let mut answer = vec![1u8];
    answer.extend_from_slice(&(1i32 << 30).to_le_bytes());
    let addr = fake_server(answer, false);
    fails_leaving_nothing(
        &t,
        addr,
        &format!(
            "receive {addr}: frame header: length 1073741824 is over the 4096-byte limit for a message"
        ),
    );
    // A refusal whose message holds an escape sequence and a line break: shown escaped,
    // not obeyed, and still one line.
    let mut answer = vec![1u8];
    answer.extend_from_slice(&frame(b"no\x1b[2J\nsecond line"));
    let addr = fake_server(answer, false);
    fails_leaving_nothing(
        &t,
        addr,
        &format!("download {addr}: the server refused \"data.bin\": no\\x1b[2J\\nsecond line"),
    );
}

/// Run the client with `--timeout 0.3` against a test server that sends `answer` and
/// then says nothing; expect exit 1 soon, with `line`, and nothing left in `out`.
fn times_out(t: &Scratch, answer: Vec<u8>, line: impl Fn(SocketAddr) -> String) {
    let out = t.dir("out");
    let addr = fake_server(answer, true);
    let mut command = client_command(addr, "data.bin", Some(&out), t.path());
    command.args(["--timeout", "0.3"]);
    let started = Instant::now();
    let done = Running::spawn(command)
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up at its own --timeout, not the test server's"
    );
    assert_eq!(one_line(&done), line(addr));
    assert_eq!(names_in(&out), Vec::<String>::new(), "no partial file");
}

#[test]
fn a_silent_server_meets_the_timeout_at_each_stage() {
    let t = Scratch::new("silent");
    // Not a byte of answer.
    times_out(&t, Vec::new(), |addr| {
        format!(
            "receive {addr}: nothing arrived for 0.3 s while waiting for the answer (--timeout)"
        )
    });
    // The status byte and 5 bytes of the header.
    times_out(&t, vec![0u8; 6], |addr| {
        format!(
            "receive {addr}: nothing arrived for 0.3 s while waiting for the size and SHA-256 (--timeout)"
        )
    });
    // The whole header, 4 of the 10 bytes announced, then silence: the .part goes too.
    let mut answer = ok_header(10, &[0u8; 32]);
    answer.extend_from_slice(b"abcd");
    times_out(&t, answer, |addr| {
        format!(
            "receive {addr}: nothing arrived for 0.3 s while waiting for the file, after 4 of 10 bytes (--timeout); nothing saved"
        )
    });
}

/// Start the client for `data.bin` into `out` against a test server that announces 10
/// bytes, sends 4 and waits; return it once its partial file is there.
fn stalled_download(t: &Scratch, out: &Path) -> Running {
    let mut answer = ok_header(10, &[0u8; 32]);
    answer.extend_from_slice(b"abcd");
    let addr = fake_server(answer, true);
    let client = Running::spawn(client_command(addr, "data.bin", Some(out), t.path()))
        .expect("start client");
    client
        .wait_for_stdout("receiving \"data.bin\": 10 bytes", PATIENCE)
        .expect("client receiving");
    // The partial file exists now: `.data.bin.PID.part`.
    let partial = format!(".data.bin.{}.part", client.pid());
    assert_eq!(names_in(out), [partial.as_str()]);
    client
}

#[test]
fn ctrl_c_in_the_middle_of_a_download_leaves_nothing() {
    let t = Scratch::new("ctrl-c");
    let out = t.dir("out");
    let client = stalled_download(&t, &out);
    client.interrupt().expect("Ctrl-C");
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 130);
    assert_eq!(one_line(&done), "interrupted by a signal: nothing saved");
    assert_eq!(names_in(&out), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn sigterm_in_the_middle_of_a_download_leaves_nothing() {
    // `kill PID`: the same end as Ctrl-C (ctrlc's termination feature), and a message
    // that does not claim it was Ctrl-C.
    let t = Scratch::new("sigterm");
    let out = t.dir("out");
    let client = stalled_download(&t, &out);
    client.terminate().expect("SIGTERM");
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 130, "{done:?}");
    assert_eq!(one_line(&done), "interrupted by a signal: nothing saved");
    assert_eq!(names_in(&out), Vec::<String>::new());
}

#[test]
fn a_closed_stdout_stops_the_download_and_leaves_nothing() {
    // `tcp-file-download-client NAME | head -n 0`. The name is 100,000 bytes long, so the
    // `receiving` line that holds it is more than a pipe can take: printing it finds
    // stdout closed while the partial file is there.
    let t = Scratch::new("closed-stdout");
    let out = t.dir("out");
    let mut answer = ok_header(10, &[0u8; 32]);
    answer.extend_from_slice(b"abcd");
    let addr = fake_server(answer, true);
    let name = "a".repeat(100_000);
    let command = client_command(addr, &name, Some(&out.join("data.bin")), t.path());
    let done = Running::spawn_head(command, 0)
        .expect("start client | head -n 0")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 130, "stops as Ctrl-C does: {done:?}");
    assert_eq!(
        one_line(&done),
        "stopped: stdout was closed; no partial file is left"
    );
    assert_eq!(names_in(&out), Vec::<String>::new(), "no partial file");
}

#[test]
fn usage_errors_exit_2() {
    let t = Scratch::new("usage");
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(CLIENT);
        command.args(args).current_dir(t.path());
        Running::spawn(command)
            .expect("start")
            .finish(PATIENCE)
            .expect("ends")
    };
    // No NAME.
    let done = run(&[]);
    assert_eq!(done.code(), 2);
    assert!(done.stderr.contains("<NAME>"), "{}", done.stderr);
    // Not a port.
    let done = run(&["--port", "ninety", "a.txt"]);
    assert_eq!(done.code(), 2);
    assert!(done.stderr.contains("--port"), "{}", done.stderr);
    // A --timeout beyond a day, or infinite: a usage error that says so.
    for value in ["1e19", "inf", "18446744073709551615"] {
        let done = run(&["--timeout", value, "a.txt"]);
        assert_eq!(done.code(), 2, "--timeout {value}: {done:?}");
        assert!(done.stderr.contains("at most"), "{value}: {}", done.stderr);
    }
    // A NAME with no file name to save under, and no -o.
    let done = run(&["--port", "1", ".."]);
    assert_eq!(done.code(), 2);
    assert_eq!(
        done.stderr,
        "error: \"..\" has no file name to save under: give -o OUT\n"
    );
    assert_eq!(names_in(t.path()), Vec::<String>::new());
}

#[test]
fn a_refused_connection_names_the_address_and_exits_1() {
    let t = Scratch::new("refused-connect");
    // A port that was free a moment ago: nobody listens there now.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let done = download(addr, "a.txt", Some(Path::new("a.txt")), t.path());
    assert_eq!(done.code(), 1);
    assert_eq!(
        one_line(&done),
        format!("connect 127.0.0.1:{port}: connection refused")
    );
    assert_eq!(names_in(t.path()), Vec::<String>::new());
    assert!(fs::metadata(t.join("a.txt")).is_err());
}

/// Run the client with `args` in `t`.
fn client_with(t: &Scratch, args: &[&str]) -> Finished {
    let mut command = std::process::Command::new(CLIENT);
    command.args(args).current_dir(t.path());
    Running::spawn(command)
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends")
}

#[test]
fn a_name_that_does_not_resolve_is_a_resolve_error() {
    let t = Scratch::new("resolve");
    let done = client_with(&t, &["--host", "no-such-host.invalid", "a.txt"]);
    assert_eq!(done.code(), 1, "{done:?}");
    let line = one_line(&done);
    assert!(
        line.starts_with("resolve no-such-host.invalid:9001: "),
        "names the stage that failed: {line}"
    );
    assert_eq!(names_in(t.path()), Vec::<String>::new());
}

#[test]
fn an_ipv6_address_is_written_in_brackets() {
    let t = Scratch::new("ipv6");
    // Nobody listens on this port of ::1 (or this machine has no IPv6): either way the
    // line names [::1]:PORT, the way an address with a port is written.
    let refused = refused_port().expect("a refused port");
    let port = refused.addr.port().to_string();
    let done = client_with(&t, &["--host", "::1", "--port", &port, "a.txt"]);
    assert_eq!(done.code(), 1, "{done:?}");
    let line = one_line(&done);
    assert!(
        line.starts_with(&format!("connect [::1]:{port}: ")),
        "{line}"
    );
    assert_eq!(names_in(t.path()), Vec::<String>::new());
}
