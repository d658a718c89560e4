//! tcp-client-v3 as a student runs it: options on the command line, typed lines or a
//! --file, a raw listening socket on the other side that asserts every byte, and each
//! stage's error. The course's Python programs are in tests/python.rs.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use lesson_runner::{PATIENCE, Running, read_to_close};

const CLIENT: &str = env!("CARGO_BIN_EXE_tcp-client-v3");

/// Start the client with these options and these lines typed; stdin stays open. (Type
/// nothing into a client that fails before it reads: it may be gone already.)
fn client(args: &[&str], typed: &str) -> Running {
    let mut client = Running::start(CLIENT, args).expect("start client");
    client.write_stdin(typed).expect("type into client");
    client
}

/// Start the client against `addr` (plus `extra` options), type `messages`, end the input.
fn client_to(addr: SocketAddr, extra: &[&str], messages: &str) -> Running {
    let port = addr.port().to_string();
    let mut args = vec!["--port", port.as_str()];
    args.extend_from_slice(extra);
    let mut run = client(&args, messages);
    run.close_stdin();
    run
}

/// A file in this test run's scratch folder.
fn scratch_file(name: &str, contents: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).expect("write scratch file");
    path
}

#[test]
fn talks_in_a_loop_and_prints_its_own_address() {
    let (listener, addr) = listener();
    let run = client_to(addr, &[], "hello\nbye\n");
    let (from, stdout) = conversation(run, &listener);
    // The address it prints is the one the server sees: the OS chose it, no bind.
    assert_eq!(from.ip(), addr.ip());
    assert_eq!(stdout, conversation_output(from, addr));
}

#[test]
fn file_sends_each_line_and_prints_each_reply() {
    let (listener, addr) = listener();
    let file = scratch_file("v3-lines.txt", "one\r\ntwo\n\n三\n".as_bytes());
    let run = client_to(addr, &["--file", file.to_str().expect("utf-8 path")], "");
    let (mut conn, from) = accept(&listener);
    for (line, reply) in [("one", "1"), ("two", "2"), ("三", "3")] {
        expect_bytes(&mut conn, line.as_bytes());
        conn.write_all(reply.as_bytes()).expect("reply");
    }
    assert_eq!(read_to_close(&mut conn).expect("read to close"), b"");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!(
            "connected from {from} to {addr}\n\
             sent 3 bytes to {addr}\nreceived: 1\n\
             sent 3 bytes to {addr}\nreceived: 2\n\
             sent 3 bytes to {addr}\nreceived: 3\n"
        )
    );
}

#[test]
fn a_file_that_cannot_be_read_is_one_line_and_exit_1() {
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("v3-no-such-file.txt");
    let missing = missing.to_str().expect("utf-8 path");
    let done = client(&["--port", "9", "--file", missing], "")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("read {missing}: no such file or directory\n")
    );
    assert_eq!(done.stdout, "", "it fails before connecting");
}

#[test]
fn timeout_gives_up_on_a_server_that_never_replies() {
    let (listener, addr) = listener();
    let run = client_to(addr, &["--timeout", "0.3"], "hello\n");
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, b"hello");
    // Keep the connection open and say nothing.
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert_eq!(
        done.stderr,
        format!("receive {addr}: no reply within 0.3 s (--timeout)\n")
    );
    drop(conn);
}

#[test]
fn a_timeout_that_is_not_a_positive_number_is_usage_error() {
    for bad in ["soon", "0", "-1"] {
        let done = client(&[&format!("--timeout={bad}")], "")
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 2, "{bad}: {done:?}");
        assert!(
            done.stderr.starts_with(&format!(
                "error: invalid value '{bad}' for '--timeout <SECS>'"
            )),
            "{}",
            done.stderr
        );
    }
}

#[test]
fn connection_refused_is_one_line_and_exit_1() {
    // A port where nothing listens, held for the whole test so nobody else can listen there.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let addr = refused.addr;
    let done = client_to(addr, &[], "")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stderr, format!("connect {addr}: connection refused\n"));
    assert_eq!(done.stdout, "");
}

#[test]
fn unknown_host_names_the_host() {
    let done = client(&["--host", "no-such-host.invalid"], "")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1);
    assert!(
        done.stderr.starts_with("resolve no-such-host.invalid: "),
        "{}",
        done.stderr
    );
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
}

#[test]
fn a_port_that_is_not_a_port_is_usage_error() {
    for bad in ["seven", "70000"] {
        let done = client(&["--port", bad], "")
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 2, "{bad}: {done:?}");
        assert!(
            done.stderr
                .starts_with(&format!("error: invalid value '{bad}' for '--port <PORT>'")),
            "{}",
            done.stderr
        );
        assert_eq!(done.stdout, "");
    }
}

#[test]
fn a_server_that_closes_is_reported_and_exit_0() {
    let (listener, addr) = listener();
    let run = client_to(addr, &[], "hello\nnobody hears this\n");
    let (mut conn, from) = accept(&listener);
    expect_bytes(&mut conn, b"hello");
    drop(conn); // hang up instead of replying
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stderr, "");
    assert_eq!(
        done.stdout,
        format!(
            "connected from {from} to {addr}\n\
             message: sent 5 bytes to {addr}\n\
             server closed the connection\n"
        )
    );
}

#[test]
fn a_reply_that_is_not_utf8_is_shown_lossily() {
    let (listener, addr) = listener();
    let run = client_to(addr, &[], "hello\n");
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, b"hello");
    conn.write_all(b"\xff\xfeok").expect("reply");
    assert_eq!(read_to_close(&mut conn).expect("read to close"), b"");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert!(
        done.stdout
            .contains("\nreceived: \u{fffd}\u{fffd}ok\nmessage: "),
        "{}",
        done.stdout
    );
}

#[test]
fn chinese_text_both_ways() {
    let (listener, addr) = listener();
    let run = client_to(addr, &[], "你好\n");
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, "你好".as_bytes());
    conn.write_all("收到了".as_bytes()).expect("reply");
    assert_eq!(read_to_close(&mut conn).expect("read to close"), b"");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert!(
        done.stdout.contains(&format!(
            "message: sent 6 bytes to {addr}\nreceived: 收到了\n"
        )),
        "{}",
        done.stdout
    );
}

#[test]
fn ctrl_c_closes_without_a_word_and_exits_0() {
    let (listener, addr) = listener();
    let run = client(&["--port", &addr.port().to_string()], "");
    let (mut conn, from) = accept(&listener);
    // Connected, and waiting at the prompt with stdin still open: now press Ctrl-C.
    run.wait_for_stdout("message: ", PATIENCE)
        .expect("client prompts");
    run.interrupt().expect("send SIGINT");
    assert_eq!(read_to_close(&mut conn).expect("read to close"), b"");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("connected from {from} to {addr}\nmessage: \n")
    );
}

#[test]
fn a_timeout_beyond_a_day_is_usage_error() {
    for huge in ["18446744073709551615", "inf", "1e19"] {
        let done = client(&["--timeout", huge], "")
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 2, "{huge}: {done:?}");
        assert!(done.stderr.contains("at most"), "{huge}: {}", done.stderr);
        assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    }
}

#[test]
fn help_names_the_default_timeout() {
    let done = client(&["--help"], "")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "{done:?}");
    assert!(done.stdout.contains("[default: 10]"), "{}", done.stdout);
}

#[test]
fn an_ipv6_address_is_shown_in_brackets() {
    let refused = lesson_runner::refused_port().expect("hold a port");
    let port = refused.addr.port().to_string();
    let done = client(&["--host", "::1", "--port", &port], "")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    // Refused, or no IPv6 on this machine: either way the address reads [::1]:PORT.
    assert!(
        done.stderr.starts_with(&format!("connect [::1]:{port}: ")),
        "{}",
        done.stderr
    );
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
}

/// `tcp-client-v3 | head -1`: after the first line stdout is closed. The client stops as
/// on Ctrl-C (closes, exit 0), without a panic.
#[test]
fn a_closed_stdout_stops_it_as_ctrl_c_does() {
    let (listener, addr) = listener();
    let mut command = std::process::Command::new(CLIENT);
    command.args(["--port", &addr.port().to_string()]);
    let mut run = Running::spawn_head(command, 1).expect("start client");
    // More messages than it can get through before it notices that stdout is closed.
    run.write_stdin("hello\n".repeat(50)).expect("type");
    run.close_stdin();
    let (mut conn, _) = accept(&listener);
    run.wait_for_stdout("connected from", PATIENCE)
        .expect("the first line");
    // Answer each message, as tcp-server-v2 does, until the client ends. (It may close
    // with our last answer unread: then its kernel resets the connection. Each wait ends
    // as soon as it ends; it only gives `head` time to close the pipe.)
    let mut buf = [0u8; 1024];
    while matches!(conn.read(&mut buf), Ok(1..))
        && conn.write_all(OK).is_ok()
        && !run.wait_output_closed(Duration::from_millis(20))
    {}
    let done = run.finish(PATIENCE).expect("client ends");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), 0, "{done:?}");
    assert_eq!(done.stderr, "");
}

/// A reply that tries to forge a line of our output: shown escaped, on its own line.
#[test]
fn control_characters_in_a_reply_are_escaped() {
    let (listener, addr) = listener();
    let run = client_to(addr, &[], "hello\n");
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, b"hello");
    conn.write_all(b"hi\x1b[31m\nlegal connection")
        .expect("reply");
    assert_eq!(read_to_close(&mut conn).expect("read to close"), b"");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert!(
        done.stdout
            .contains("\nreceived: hi\\x1b[31m\\nlegal connection\n"),
        "{}",
        done.stdout
    );
    assert!(!done.stdout.lines().any(|l| l == "legal connection"));
    assert!(!done.stdout.contains('\x1b'));
}
