//! tcp-client-v2 as a student runs it: typed answers on stdin, a raw listening socket on
//! the other side that asserts every byte, Ctrl-C, and two copies fighting over one port.
//! The course's Python programs are in tests/python.rs.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use lesson_runner::{PATIENCE, Running};

const CLIENT: &str = env!("CARGO_BIN_EXE_tcp-client-v2");

/// A local port nobody uses right now: bind port 0, read what the OS chose, let it go.
fn free_port() -> u16 {
    let (listener, addr) = listener();
    drop(listener);
    addr.port()
}

/// Start the client with these arguments and these lines typed; stdin stays open.
fn client(args: &[&str], typed: &str) -> Running {
    let mut client = Running::start(CLIENT, args).expect("start client");
    client.write_stdin(typed).expect("type into client");
    client
}

/// Start the client, answer the two questions with `addr`, then end the input after
/// `messages` (the course's quit path).
fn client_to(addr: SocketAddr, messages: &str) -> Running {
    let mut run = client(&["0"], &format!("127.0.0.1\n{}\n{messages}", addr.port()));
    run.close_stdin();
    run
}

/// Wait until the client has exited by itself, its stdin still open. (finish() closes
/// stdin first, and end of input must not be what ended a client after Ctrl-C.)
fn wait_for_exit(run: &mut Running) {
    let deadline = Instant::now() + PATIENCE;
    while run.try_status().expect("exit status").is_none() {
        assert!(Instant::now() < deadline, "still running: {}", run.stdout());
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn talks_in_a_loop_and_says_quit_at_end_of_input() {
    let (listener, addr) = listener();
    let run = client_to(addr, "hello\nhow are you\n");
    assert_eq!(conversation(run, &listener), conversation_output(addr));
}

#[test]
fn end_of_input_at_once_sends_quit() {
    let (listener, addr) = listener();
    let run = client_to(addr, "");
    let (conn, _) = accept(&listener);
    expect_quit(conn);
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("server ip [127.0.0.1]: server port [2345]: message: \nsent quit() to {addr}\n")
    );
}

#[test]
fn ctrl_c_sends_quit_and_exits_0() {
    let (listener, addr) = listener();
    let mut run = client(&["0"], &format!("127.0.0.1\n{}\n", addr.port()));
    let (conn, _) = accept(&listener);
    // Connected, and waiting at the prompt with stdin still open: now press Ctrl-C.
    run.wait_for_stdout("message: ", PATIENCE)
        .expect("client prompts");
    run.interrupt().expect("send SIGINT");
    expect_quit(conn);
    wait_for_exit(&mut run);
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("server ip [127.0.0.1]: server port [2345]: message: \nsent quit() to {addr}\n")
    );
}

#[test]
fn binds_the_port_it_is_given_and_a_second_copy_cannot() {
    let (listener, addr) = listener();
    let port = free_port();
    let first = client(
        &[&port.to_string()],
        &format!("127.0.0.1\n{}\n", addr.port()),
    );
    let (_conn, from) = accept(&listener);
    // The server sees the connection come from the port the client bound.
    assert_eq!(from.port(), port);
    first
        .wait_for_stdout("message: ", PATIENCE)
        .expect("first client prompts");

    let second = client(&[&port.to_string()], "");
    let done = second.finish(PATIENCE).expect("second client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert_eq!(
        done.stderr,
        format!(
            "bind 0.0.0.0:{port}: address already in use (another client holds that port, \
             or held it until a moment ago: pass 0 to let the OS choose)\n"
        )
    );
    assert_eq!(done.stdout, "", "it fails before asking anything");
}

#[test]
fn connection_refused_is_one_line_and_exit_1() {
    // Bind, learn the port, close: now nobody listens there.
    let port = free_port();
    let done = client(&["0"], &format!("127.0.0.1\n{port}\nhi\n"))
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("connect 127.0.0.1:{port}: connection refused\n")
    );
}

#[test]
fn unknown_host_names_the_host() {
    let done = client(&["0"], "no-such-host.invalid\n80\nhi\n")
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
fn a_server_port_that_is_not_a_number_is_usage_error() {
    let done = client(&["0"], "127.0.0.1\nseven\n")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 2);
    assert_eq!(
        done.stderr,
        "server port: \"seven\" is not a port number (0 to 65535)\n"
    );
}

#[test]
fn a_local_port_that_is_not_a_port_is_usage_error() {
    for bad in ["seven", "70000", "-1"] {
        let done = client(&[bad], "").finish(PATIENCE).expect("client ends");
        assert_eq!(done.code(), 2, "{bad}: {done:?}");
        assert_eq!(
            done.stderr,
            format!("local port: {bad:?} is not a port number (0 to 65535)\n")
        );
        assert_eq!(done.stdout, "");
    }
    let done = client(&["1", "2"], "")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 2, "{done:?}");
    assert!(done.stderr.starts_with("usage: tcp-client-v2 [LOCAL_PORT]"));
}

#[test]
fn a_server_that_closes_is_reported_and_exit_0() {
    let (listener, addr) = listener();
    let run = client_to(addr, "hello\nnobody hears this\n");
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, b"hello");
    drop(conn); // hang up instead of replying
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stderr, "");
    assert_eq!(
        done.stdout,
        format!(
            "server ip [127.0.0.1]: server port [2345]: \
             message: sent 5 bytes to {addr}\n\
             server closed the connection\n"
        )
    );
}

#[test]
fn a_reply_that_is_not_utf8_is_shown_lossily() {
    let (listener, addr) = listener();
    let run = client_to(addr, "hello\n");
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, b"hello");
    conn.write_all(b"\xff\xfeok").expect("reply");
    expect_quit(conn);
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
    let run = client_to(addr, "你好\n");
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, "你好".as_bytes());
    conn.write_all("收到了".as_bytes()).expect("reply");
    expect_quit(conn);
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
fn help_prints_the_usage_instead_of_taking_it_for_a_port() {
    for flag in ["--help", "-h"] {
        let done = client(&[flag], "").finish(PATIENCE).expect("client ends");
        assert_eq!(done.code(), 0, "{flag}: {done:?}");
        assert!(
            done.stdout.starts_with("usage: tcp-client-v2 [LOCAL_PORT]"),
            "{flag}: {}",
            done.stdout
        );
        assert!(
            !done.stdout.contains("server ip"),
            "{flag}: it asked anyway"
        );
        assert_eq!(done.stderr, "");
    }
}

/// Ctrl-C, and end of input while the Ctrl-C path still waits for the server's answer to
/// its quit(): one quit(), exit 0; end of input must not send a second one.
#[test]
fn ctrl_c_then_end_of_input_says_quit_once() {
    let (listener, addr) = listener();
    let mut run = client(&["0"], &format!("127.0.0.1\n{}\n", addr.port()));
    let (conn, _) = accept(&listener);
    run.wait_for_stdout("message: ", PATIENCE)
        .expect("client prompts");
    run.interrupt().expect("send SIGINT");
    run.close_stdin();
    // Exactly quit(), answered, and then the end of the stream: nothing more.
    expect_quit(conn);
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{done:?}");
    assert_eq!(done.stderr, "");
    assert_eq!(
        done.stdout.matches("sent quit()").count(),
        1,
        "{}",
        done.stdout
    );
}

/// A server that takes the message and never answers: the client gives up after its
/// REPLY_TIMEOUT (10 s), says which stage, and exits 1.
#[test]
fn a_server_that_never_replies_is_given_up_on() {
    let (listener, addr) = listener();
    let run = client_to(addr, "hello\n");
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, b"hello");
    // Keep the connection open and say nothing.
    let done = run
        .finish(PATIENCE + Duration::from_secs(10))
        .expect("client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert_eq!(
        done.stderr,
        format!("receive {addr}: no reply within 10 s\n")
    );
    drop(conn);
}

/// `tcp-client-v2 | head -1`: the first line is read, then stdout is closed. The client
/// stops as on Ctrl-C: it says quit() once and exits 0, no panic.
#[test]
fn a_closed_stdout_stops_it_as_ctrl_c_does() {
    let (listener, addr) = listener();
    let mut command = std::process::Command::new(CLIENT);
    command.arg("0");
    let mut run = Running::spawn_head(command, 1).expect("start client");
    run.write_stdin(format!("127.0.0.1\n{}\nhello\n", addr.port()))
        .expect("type");
    run.close_stdin();
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, b"hello");
    conn.write_all(OK).expect("reply");
    expect_quit(conn);
    let done = run.finish(PATIENCE).expect("client ends");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), 0, "{done:?}");
    assert_eq!(done.stderr, "");
}

/// A reply that tries to forge a line of our output: shown escaped, on its own line.
#[test]
fn control_characters_in_a_reply_are_escaped() {
    let (listener, addr) = listener();
    let run = client_to(addr, "hello\n");
    let (mut conn, _) = accept(&listener);
    expect_bytes(&mut conn, b"hello");
    conn.write_all(b"hi\x1b[31m\nlegal connection")
        .expect("reply");
    expect_quit(conn);
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
