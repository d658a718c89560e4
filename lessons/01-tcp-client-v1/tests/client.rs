//! tcp-client-v1 as a student runs it: typed answers on stdin, a real listening socket on
//! the other side.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{PATIENCE, Running, read_to_close};

const CLIENT: &str = env!("CARGO_BIN_EXE_tcp-client-v1");

/// A listening socket for the client to reach, on a port the OS picks.
fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// Start the client with these lines already typed.
fn client(typed: &str) -> Running {
    let mut client = Running::start(CLIENT, &[] as &[&str]).expect("start client");
    client.write_stdin(typed).expect("type into client");
    client.close_stdin();
    client
}

/// Accept one connection, for PATIENCE at most: a client that never connects (it failed
/// before its connect) fails the test instead of leaving it waiting.
fn accept(listener: &TcpListener) -> TcpStream {
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let deadline = Instant::now() + PATIENCE;
    let conn = loop {
        match listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            accepted => break accepted.expect("the client connects within PATIENCE").0,
        }
    };
    conn.set_nonblocking(false).expect("blocking connection");
    conn
}

/// Accept one connection and return every byte the client sent before closing.
fn receive_all(listener: &TcpListener) -> Vec<u8> {
    let mut conn = accept(listener);
    conn.set_read_timeout(Some(PATIENCE)).expect("timeout");
    read_to_close(&mut conn).expect("read until the client closes")
}

#[test]
fn sends_the_message_and_closes() {
    let (listener, addr) = listener();
    let run = client(&format!("127.0.0.1\n{}\nhello server\n", addr.port()));
    assert_eq!(receive_all(&listener), b"hello server");
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("server ip [127.0.0.1]: server port [7891]: message: sent 12 bytes to {addr}\n")
    );
}

#[test]
fn empty_ip_takes_the_default() {
    let (listener, addr) = listener();
    let run = client(&format!("\n{}\nx\n", addr.port()));
    assert_eq!(receive_all(&listener), b"x");
    assert_eq!(run.finish(PATIENCE).expect("client ends").code(), 0);
}

#[test]
fn chinese_text_is_sent_as_utf8() {
    let (listener, addr) = listener();
    let run = client(&format!("127.0.0.1\n{}\n你好，服务器\n", addr.port()));
    assert_eq!(receive_all(&listener), "你好，服务器".as_bytes());
    assert_eq!(run.finish(PATIENCE).expect("client ends").code(), 0);
}

#[test]
fn a_port_that_is_not_a_number_is_usage_error() {
    let done = client("127.0.0.1\nseven\n")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 2);
    assert_eq!(
        done.stderr,
        "server port: \"seven\" is not a port number (0 to 65535)\n"
    );
}

#[test]
fn connection_refused_is_one_line_and_exit_1() {
    // A port where nothing listens, held for the whole test so nobody else can listen there.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let addr = refused.addr;
    let done = client(&format!("127.0.0.1\n{}\nhi\n", addr.port()))
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stderr, format!("connect {addr}: connection refused\n"));
}

#[test]
fn unknown_host_names_the_host() {
    let done = client("no-such-host.invalid\n80\nhi\n")
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
fn a_server_that_closes_at_once_is_no_crash() {
    let (listener, addr) = listener();
    let mut run = Running::start(CLIENT, &[] as &[&str]).expect("start client");
    run.write_stdin(format!("127.0.0.1\n{}\n", addr.port()))
        .expect("type");
    // Wait until the client is connected, then hang up before it sends.
    let conn = accept(&listener);
    drop(conn);
    run.write_stdin("too late\n").expect("type message");
    let done = run.finish(PATIENCE).expect("client ends");
    // The first write after the peer closed usually still succeeds (the kernel accepts it,
    // the peer answers with a reset); either way: a clean exit or one error line.
    assert!(matches!(done.code(), 0 | 1), "{done:?}");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert!(done.stderr.lines().count() <= 1, "{}", done.stderr);
}

#[test]
fn end_of_input_before_the_message_sends_nothing() {
    let (listener, addr) = listener();
    let run = client(&format!("127.0.0.1\n{}\n", addr.port()));
    assert_eq!(receive_all(&listener), b"");
    assert_eq!(run.finish(PATIENCE).expect("client ends").code(), 0);
}

#[test]
fn help_prints_the_usage_instead_of_asking() {
    for flag in ["--help", "-h"] {
        let done = Running::start(CLIENT, &[flag])
            .expect("start client")
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 0, "{flag}: {done:?}");
        assert!(
            done.stdout.starts_with("usage: tcp-client-v1"),
            "{flag}: {}",
            done.stdout
        );
        assert!(
            !done.stdout.contains("server ip"),
            "{flag}: it asked anyway"
        );
        assert_eq!(done.stderr, "");
    }
    // Anything else on the command line is a mistake: the usage, on stderr, exit 2.
    let done = Running::start(CLIENT, &["--port", "7891"])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 2, "{done:?}");
    assert!(
        done.stderr.starts_with("usage: tcp-client-v1"),
        "{}",
        done.stderr
    );
    assert_eq!(done.stdout, "");
}

#[test]
fn an_ipv6_address_is_shown_in_brackets() {
    let refused = lesson_runner::refused_port().expect("hold a port");
    let port = refused.addr.port();
    let done = client(&format!("::1\n{port}\nhi\n"))
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

/// `tcp-client-v1 | head -c 0`, roughly: the first prompt is read, then stdout is closed.
/// The client stops as Ctrl-C stops it (exit 130), without a panic.
#[test]
fn a_closed_stdout_stops_it_as_ctrl_c_does() {
    let (_listener, addr) = listener(); // the kernel completes the connect by itself
    let mut run = Running::spawn_head(std::process::Command::new(CLIENT), 0).expect("start client");
    // One answer at a time: the next prompt (or the `sent` line) finds stdout closed, and
    // the client ends. Each wait ends as soon as it does.
    for answer in [
        "127.0.0.1".to_string(),
        addr.port().to_string(),
        "hello".into(),
    ] {
        if run.write_stdin(format!("{answer}\n")).is_err()
            || run.wait_output_closed(Duration::from_millis(200))
        {
            break;
        }
    }
    let done = run.finish(PATIENCE).expect("client ends");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), 130, "{done:?}");
}
