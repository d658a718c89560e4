//! hmac-auth-server as a real process: correct and wrong answers from raw sockets and from
//! the lesson's client, garbage answers, silent clients, fresh challenges.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use lesson_runner::{PATIENCE, Running, read_to_close};
use rand::Rng;

#[test]
fn the_right_key_is_a_legal_connection_with_its_message() {
    let (server, addr) = server(&["--key", "secret"], None);
    let from = good_client(addr, b"secret", "upload");
    let out = server
        .wait_for_stdout(&legal(from, "upload"), PATIENCE)
        .expect("legal line");
    assert_eq!(
        out,
        format!("listening on {addr}\n{}", legal(from, "upload"))
    );
    assert_eq!(server.stderr(), "", "no warning when --key is given");
}

#[test]
fn the_server_closes_after_the_message_and_sends_no_verdict() {
    let (server, addr) = server(&["--key", "secret"], None);
    let (mut stream, challenge) = challenged(addr);
    let from = stream.local_addr().expect("local addr");
    stream
        .write_all(answer(b"secret", &challenge).as_bytes())
        .expect("send answer");
    stream
        .write_all("你好 upload".as_bytes())
        .expect("send message");
    // Not one byte comes back after the challenge: the course's client expects none.
    assert_eq!(read_to_close(&mut stream).expect("server closes"), b"");
    server
        .wait_for_stdout(&legal(from, "你好 upload"), PATIENCE)
        .expect("legal line");
}

#[test]
fn the_lessons_client_with_the_right_key_is_legal() {
    let (server, addr) = server(&["--key", "secret"], None);
    let done = client(addr, &["--key", "secret"], None);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stderr, "");
    let (challenge, answer_hex, sent) = client_lines(&done.stdout);
    assert_eq!(challenge.len(), 32);
    assert_eq!(answer_hex, answer(b"secret", &challenge));
    assert_eq!(sent, "upload");
    let out = server
        .wait_for_stdout(": upload\n", PATIENCE)
        .expect("legal line");
    let verdict = out.lines().nth(1).expect("a verdict line");
    assert!(
        verdict.starts_with("legal connection from 127.0.0.1:") && verdict.ends_with(": upload"),
        "{out}"
    );
}

#[test]
fn the_lessons_client_with_a_wrong_key_is_illegal() {
    let (server, addr) = server(&["--key", "secret"], None);
    let done = client(addr, &["--key", "wrong", "--message", "let me in"], None);
    // The client cannot tell: the server sends no verdict. It answered and sent; exit 0.
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(client_lines(&done.stdout).2, "let me in");
    let out = server
        .wait_for_stdout("illegal connection from 127.0.0.1:", PATIENCE)
        .expect("illegal line");
    let verdict = out.lines().nth(1).expect("a verdict line");
    assert!(
        verdict.ends_with(" (wrong answer: not the HMAC of this challenge with our key)"),
        "{out}"
    );
    assert!(
        !out.contains("let me in"),
        "a rejected message is not read: {out}"
    );
}

#[test]
fn a_wrong_key_on_a_raw_socket_is_illegal_and_closed() {
    let (server, addr) = server(&["--key", "secret"], None);
    let (mut stream, challenge) = challenged(addr);
    let from = stream.local_addr().expect("local addr");
    stream
        .write_all(answer(b"guess", &challenge).as_bytes())
        .expect("send answer");
    assert_eq!(read_to_close(&mut stream).expect("server closes"), b"");
    let out = server
        .wait_for_stdout(&format!("illegal connection from {from}"), PATIENCE)
        .expect("illegal line");
    assert!(
        out.ends_with(&illegal(
            from,
            "wrong answer: not the HMAC of this challenge with our key"
        )),
        "{out}"
    );
}

#[test]
fn a_recorded_answer_replayed_on_a_new_connection_is_illegal() {
    let (server, addr) = server(&["--key", "secret"], None);
    // An eavesdropper records a legal exchange...
    let (mut first, challenge) = challenged(addr);
    let first_from = first.local_addr().expect("local addr");
    let recorded = answer(b"secret", &challenge);
    first.write_all(recorded.as_bytes()).expect("send answer");
    first.write_all(b"upload").expect("send message");
    server
        .wait_for_stdout(&legal(first_from, "upload"), PATIENCE)
        .expect("first is legal");
    // ...and plays it back. The new connection has a new challenge, so it is wrong.
    let (mut replay, _) = challenged(addr);
    let replay_from = replay.local_addr().expect("local addr");
    replay
        .write_all(recorded.as_bytes())
        .expect("replay answer");
    replay.write_all(b"upload").expect("replay message");
    server
        .wait_for_stdout(
            &illegal(
                replay_from,
                "wrong answer: not the HMAC of this challenge with our key",
            ),
            PATIENCE,
        )
        .expect("replay is illegal");
}

/// One client at a time, as the course's server: a second client waits in the listen
/// backlog while the first is silent, and is served once the first one's deadline has
/// dropped it.
#[test]
fn a_silent_client_is_dropped_at_the_deadline_then_the_next_is_served() {
    let (server, addr) = server(&["--key", "secret", "--handshake-timeout", "1"], None);
    let started = Instant::now();
    // Step 1: a client connects, takes its challenge and says nothing.
    let (silent, _) = challenged(addr);
    let silent_from = silent.local_addr().expect("local addr");
    // Step 2: a second client connects meanwhile. Its connect succeeds (the kernel
    // queues it), but no challenge comes until the server is done with the first.
    let mut next = lesson_runner::connect(addr).expect("connect the second client");
    let from = next.local_addr().expect("local addr");
    let mut challenge = [0u8; 32];
    next.read_exact(&mut challenge)
        .expect("the second client's challenge, once the first is dropped");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the second client was served before the first one's deadline: {:?}",
        started.elapsed()
    );
    // Step 3: it answers and is let in. The server's output: the silent one dropped at
    // its deadline, then the second one's verdict.
    next.write_all(answer(b"secret", &challenge).as_bytes())
        .expect("send answer");
    next.write_all(b"upload").expect("send message");
    let out = server
        .wait_for_stdout(&legal(from, "upload"), PATIENCE)
        .expect("the second client is served");
    assert_eq!(
        out,
        format!(
            "listening on {addr}\n{}{}",
            illegal(silent_from, "no answer within 1s"),
            legal(from, "upload")
        )
    );
    drop(silent);
}

#[test]
fn a_silent_client_is_dropped_after_the_handshake_timeout() {
    let (server, addr) = server(&["--key", "secret", "--handshake-timeout", "1"], None);
    let (mut silent, _) = challenged(addr);
    let from = silent.local_addr().expect("local addr");
    let started = Instant::now();
    // Say nothing. The server gives up after 1 s and closes: our read sees the end.
    let mut buf = [0u8; 16];
    let n = silent
        .read(&mut buf)
        .expect("the server closes (no read timeout)");
    assert_eq!(n, 0, "the server sends nothing more, it closes");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed by the deadline, not at once: {:?}",
        started.elapsed()
    );
    server
        .wait_for_stdout(&illegal(from, "no answer within 1s"), PATIENCE)
        .expect("illegal line");
}

/// Send `garbage` as the answer (then close our side), check the verdict, then check that
/// the server still serves a good client.
fn rejects(garbage: &[u8], why: &str) {
    let (server, addr) = server(&["--key", "secret"], None);
    let (mut stream, _) = challenged(addr);
    let from = stream.local_addr().expect("local addr");
    // The server may close (and reset) as soon as it has read 64 bytes; a write that
    // fails because of that is fine: the verdict below is what counts.
    let _ = stream.write_all(garbage);
    let _ = stream.shutdown(Shutdown::Write);
    let out = server
        .wait_for_stdout(&format!("illegal connection from {from}"), PATIENCE)
        .expect("illegal line");
    assert!(out.ends_with(&illegal(from, why)), "{out}");

    let good = good_client(addr, b"secret", "upload");
    server
        .wait_for_stdout(&legal(good, "upload"), PATIENCE)
        .expect("the server keeps serving");
}

#[test]
fn an_empty_answer_is_illegal() {
    rejects(b"", "closed before a full answer");
}

#[test]
fn a_non_hex_answer_is_illegal() {
    rejects(&[b'z'; 64], "answer is not 64 hex digits");
}

#[test]
fn a_short_answer_is_illegal() {
    rejects(b"0123456789", "closed before a full answer");
}

#[test]
fn five_thousand_bytes_are_read_only_64_and_illegal() {
    // Valid hex, so the server's verdict shows it judged the first 64 bytes as an answer.
    rejects(
        &[b'f'; 5000],
        "wrong answer: not the HMAC of this challenge with our key",
    );
}

#[test]
fn random_bytes_are_illegal() {
    let mut garbage = [0u8; 64];
    rand::rng().fill_bytes(&mut garbage);
    // 64 random bytes are all hex digits with odds of (22/256)^64: never.
    rejects(&garbage, "answer is not 64 hex digits");
}

#[test]
fn an_uppercase_hex_answer_is_accepted() {
    // Hex is hex: the server decodes the digits, it does not compare the text.
    let (server, addr) = server(&["--key", "secret"], None);
    let (mut stream, challenge) = challenged(addr);
    let from = stream.local_addr().expect("local addr");
    let upper = answer(b"secret", &challenge).to_uppercase();
    stream.write_all(upper.as_bytes()).expect("send answer");
    stream.write_all(b"upload").expect("send message");
    server
        .wait_for_stdout(&legal(from, "upload"), PATIENCE)
        .expect("legal line");
}

#[test]
fn two_connections_never_get_the_same_challenge() {
    let (_server, addr) = server(&["--key", "secret"], None);
    // One client at a time: the first closes, so the server takes the second at once.
    let (a, first) = challenged(addr);
    drop(a);
    let (_b, second) = challenged(addr);
    assert_ne!(first, second);
    assert_ne!(first, [0u8; 32]);
    assert_ne!(second, [0u8; 32]);
}

#[test]
fn the_key_comes_from_hmac_auth_key_when_there_is_no_flag() {
    let (server, addr) = server(&[], Some("from-env"));
    let from = good_client(addr, b"from-env", "upload");
    server
        .wait_for_stdout(&legal(from, "upload"), PATIENCE)
        .expect("legal with the environment's key");
    assert_eq!(server.stderr(), "", "no demo-key warning");
}

#[test]
fn the_key_flag_wins_over_the_environment() {
    let (server, addr) = server(&["--key", "secret"], Some("from-env"));
    let from = good_client(addr, b"from-env", "upload");
    server
        .wait_for_stdout(&format!("illegal connection from {from}"), PATIENCE)
        .expect("the environment's key is not used");
}

#[test]
fn without_a_key_the_demo_key_is_used_with_a_warning() {
    let (server, addr) = server(&[], None);
    let stderr = server
        .wait_for_stderr(DEMO_WARNING, PATIENCE)
        .expect("demo key warning");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // The lesson's client, also without a key, uses the same demo key.
    let done = client(addr, &[], None);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert!(done.stderr.starts_with(DEMO_WARNING), "{}", done.stderr);
    server
        .wait_for_stdout(": upload\n", PATIENCE)
        .expect("legal with the demo key on both sides");
    assert!(!server.stdout().contains("illegal"));
}

#[test]
fn a_port_in_use_is_one_line_and_exit_1() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let done = start(SERVER, &["--port", &port, "--key", "k"], None)
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        lesson_runner::port_in_use_line(format!("127.0.0.1:{port}"))
    );
    assert_eq!(done.stdout, "");
}

#[test]
fn a_zero_handshake_timeout_is_a_usage_error() {
    let done = start(SERVER, &["--port", "0", "--handshake-timeout", "0"], None)
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 2, "{}", done.stderr);
    assert!(
        done.stderr.contains("--handshake-timeout"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_trickling_client_is_dropped_at_the_deadline_for_the_whole_handshake() {
    // --handshake-timeout 1, and a client that sends one byte of its answer every
    // 200 ms: each read gets a byte well inside 1 s, but the handshake as a whole must
    // end at 1 s. The server closes the connection before 2 s.
    let (server, addr) = server(&["--key", "secret", "--handshake-timeout", "1"], None);
    let (mut stream, _) = challenged(addr);
    let from = stream.local_addr().expect("local addr");
    let started = Instant::now();
    let mut trickle = stream.try_clone().expect("clone the test socket");
    thread::spawn(move || {
        for _ in 0..25 {
            if trickle.write_all(b"a").is_err() {
                return; // closed by the server: done
            }
            thread::sleep(Duration::from_millis(200)); // the trickle's pace, not a wait
        }
    });
    // The server closes: the read sees the end (or a reset, if a byte crossed the close).
    let mut buf = [0u8; 16];
    let closed = matches!(stream.read(&mut buf), Ok(0) | Err(_));
    let after = started.elapsed();
    assert!(closed, "the server sent something instead of closing");
    assert!(
        after < Duration::from_secs(2),
        "the trickling client was kept {after:?}, past the 1 s handshake deadline"
    );
    server
        .wait_for_stdout(&illegal(from, "no answer within 1s"), PATIENCE)
        .expect("illegal line");
}

#[test]
fn a_message_with_control_characters_is_printed_escaped() {
    // A legal client whose message tries to forge a second verdict line and to drive the
    // terminal: the server prints one line, the escapes visible.
    let (server, addr) = server(&["--key", "secret"], None);
    let forged = "legal connection from 10.0.0.1:1: upload";
    let from = good_client(addr, b"secret", &format!("hi\x1b[2J\n{forged}"));
    let out = server
        .wait_for_stdout(&legal(from, &format!("hi\\x1b[2J\\n{forged}")), PATIENCE)
        .expect("one escaped verdict line");
    assert!(out.lines().all(|line| line != forged), "{out}");
    assert!(!out.contains('\x1b'), "{out}");
}

#[test]
fn the_server_goes_on_serving_when_its_stdout_is_closed() {
    // As `hmac-auth-server --port 0 | head -1`: after the banner nobody reads its stdout.
    // The first verdict closes the pipe; the next ones find it closed. Every client must
    // still be served (no panic), and the server goes on.
    let mut command = Command::new(SERVER);
    command.args(["--port", "0", "--key", "secret"]);
    let server = Running::spawn_head(command, 1).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    for _ in 0..3 {
        let (mut stream, challenge) = challenged(addr);
        stream
            .write_all(format!("{}upload", answer(b"secret", &challenge)).as_bytes())
            .expect("send answer and message");
        // The server closes once it has the message: it got through the verdict.
        assert_eq!(read_to_close(&mut stream).expect("read"), b"");
    }
    let mut server = server;
    assert!(
        server.try_status().expect("status").is_none(),
        "the server ended"
    );
    server.interrupt().expect("Ctrl-C");
    let done = server.finish(PATIENCE).expect("server ends");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
}

#[test]
fn huge_and_infinite_handshake_timeouts_are_usage_errors() {
    for huge in ["18446744073709551615", "1e19", "inf"] {
        let done = start(SERVER, &["--port", "0", "--handshake-timeout", huge], None)
            .finish(PATIENCE)
            .expect("server ends");
        assert_eq!(
            done.code(),
            2,
            "--handshake-timeout {huge}: {}",
            done.stderr
        );
        assert!(done.stderr.contains("at most"), "{}", done.stderr);
    }
}
