//! sticky-packet as a student runs it: the real server and client on a port the OS picks,
//! and raw test sockets on either side to pin the bytes. The course's Python programs are
//! in tests/python.rs.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{Finished, PATIENCE, Running, connect, read_to_close, run_with_stdout_closed};

const SERVER: &str = env!("CARGO_BIN_EXE_sticky-packet-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_sticky-packet-client");

/// What the client prints: the course's `2 b'he'` and `b'llo,world'`.
const OUTPUT: &str = "2 b'he'\nb'llo,world'\n";

fn start_server() -> (Running, SocketAddr) {
    let server = Running::start(SERVER, &["--port", "0"]).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    (server, addr)
}

fn server_command() -> Command {
    let mut command = Command::new(SERVER);
    command.args(["--port", "0"]);
    command
}

/// Run the Rust client against `addr` until it ends.
fn run_client(addr: SocketAddr, extra: &[&str]) -> Finished {
    let port = addr.port().to_string();
    let mut args = vec!["--port", port.as_str()];
    args.extend_from_slice(extra);
    Running::start(CLIENT, &args)
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends")
}

/// A raw test server: accept one client, run `talk` on the connection, then close it.
fn raw_server(talk: impl FnOnce(&mut TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            conn.set_write_timeout(Some(PATIENCE)).expect("timeout");
            talk(&mut conn);
        }
    });
    addr
}

fn assert_exit(done: &Finished, code: i32, stdout: &str, stderr: &str) {
    assert_eq!(done.code(), code, "{done:?}");
    assert_eq!(done.stdout, stdout);
    assert_eq!(done.stderr, stderr);
}

#[test]
fn the_course_demo_he_then_llo_world() {
    let (server, addr) = start_server();
    let done = run_client(addr, &[]);
    assert_exit(&done, 0, OUTPUT, "");
    // The server says what it did for that client.
    let printed = server
        .wait_for_stdout("closed\n", PATIENCE)
        .expect("server line");
    let line = printed.lines().nth(1).expect("second line");
    assert!(
        line.starts_with("127.0.0.1:") && line.ends_with(": wrote b'hello,' then b'world', closed"),
        "{printed}"
    );
}

#[test]
fn the_server_serves_clients_one_after_another() {
    let (server, addr) = start_server();
    for _ in 0..3 {
        assert_exit(&run_client(addr, &[]), 0, OUTPUT, "");
    }
    // The server is sequential: by the time a fourth connection has been served, it has
    // printed its line for the third.
    let mut fourth = connect(addr).expect("connect");
    assert_eq!(read_to_close(&mut fourth).expect("read"), b"hello,world");
    let printed = server.stdout();
    let served = printed
        .lines()
        .filter(|l| l.ends_with(": wrote b'hello,' then b'world', closed"));
    assert!(served.count() >= 3, "{printed}");
    assert!(server.stderr().is_empty(), "{}", server.stderr());
}

#[test]
fn the_server_writes_exactly_hello_comma_world_and_closes() {
    let (_server, addr) = start_server();
    let mut stream = connect(addr).expect("connect");
    // Read until the server closes: the two writes, as one stream of 11 bytes.
    assert_eq!(read_to_close(&mut stream).expect("read"), b"hello,world");
}

#[test]
fn two_raw_writes_back_to_back_read_as_he_and_llo_world() {
    let addr = raw_server(|conn| {
        conn.write_all(b"hello,").expect("write 1");
        conn.write_all(b"world").expect("write 2");
    });
    assert_exit(&run_client(addr, &[]), 0, OUTPUT, "");
}

#[test]
fn the_client_waits_for_the_second_write_instead_of_guessing() {
    // The second write comes well after the first (the pause makes the two writes
    // separate on the wire; nothing waits on it). A client that read at once would get
    // `he` and `llo,` only; peeking until 11 bytes are here gives the course's output.
    let addr = raw_server(|conn| {
        conn.write_all(b"hello,").expect("write 1");
        thread::sleep(Duration::from_millis(300));
        conn.write_all(b"world").expect("write 2");
    });
    assert_exit(&run_client(addr, &[]), 0, OUTPUT, "");
}

#[test]
fn one_single_write_reads_the_same_way() {
    // The reader cannot tell one write of 11 bytes from two writes: same output.
    let addr = raw_server(|conn| conn.write_all(b"hello,world").expect("write"));
    assert_exit(&run_client(addr, &[]), 0, OUTPUT, "");
}

#[test]
fn a_server_that_closes_before_sending_is_one_line_and_exit_1() {
    let addr = raw_server(|_conn| {});
    let done = run_client(addr, &[]);
    assert_exit(
        &done,
        1,
        "",
        &format!("receive {addr}: the server closed after 0 of 11 bytes\n"),
    );
}

#[test]
fn a_server_that_sends_only_part_is_one_line_after_the_timeout() {
    // `hello,`, then silence with the connection open (until the test is over): the
    // rest could still come, so this ends at the deadline.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let addr = raw_server(move |conn| {
        conn.write_all(b"hello,").expect("write");
        let _ = done_rx.recv_timeout(PATIENCE);
    });
    let done = run_client(addr, &["--timeout", "1"]);
    drop(done_tx);
    assert_exit(
        &done,
        1,
        "",
        &format!("receive {addr}: only 6 of 11 bytes arrived within 1 s: b'hello,'\n"),
    );
}

#[test]
fn a_server_that_sends_he_and_closes_is_noticed_at_once() {
    // Step 1: the server sends `he` and closes. Step 2: the client, with a whole minute
    // of --timeout, must say at once that the server closed after 2 bytes, not wait out
    // the minute: peek alone cannot see that close, poll's hang-up can.
    let addr = raw_server(|conn| conn.write_all(b"he").expect("write"));
    let started = Instant::now();
    let port = addr.port().to_string();
    let done = Running::start(CLIENT, &["--port", &port, "--timeout", "60"])
        .expect("start client")
        .finish(Duration::from_secs(5))
        .expect("the client ends well before its 60 s timeout");
    assert_exit(
        &done,
        1,
        "",
        &format!("receive {addr}: the server closed after 2 of 11 bytes: b'he'\n"),
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_silent_server_is_one_line_after_the_timeout() {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // Keep the connection open, silent, until the test is over.
    let addr = raw_server(move |_conn| {
        let _ = done_rx.recv_timeout(PATIENCE);
    });
    let done = run_client(addr, &["--timeout", "1"]);
    drop(done_tx);
    assert_exit(
        &done,
        1,
        "",
        &format!("receive {addr}: nothing arrived within 1 s\n"),
    );
}

#[test]
fn connection_refused_is_one_line_and_exit_1() {
    // A port where nothing listens, held for the whole test so nobody else can listen there.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let addr = refused.addr;
    let done = run_client(addr, &[]);
    assert_exit(
        &done,
        1,
        "",
        &format!("connect {addr}: connection refused\n"),
    );
}

#[test]
fn a_timeout_of_zero_is_a_usage_error() {
    let done = Running::start(CLIENT, &["--timeout", "0"])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 2, "{done:?}");
}

#[test]
fn huge_and_infinite_timeouts_are_usage_errors_not_a_panic() {
    // 18446744073709551615 s once overflowed `Instant + Duration`: a panic.
    for huge in ["18446744073709551615", "1e19", "inf", "86401"] {
        let done = Running::start(CLIENT, &["--timeout", huge])
            .expect("start client")
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 2, "--timeout {huge}: {done:?}");
        assert!(
            done.stderr.contains("at most"),
            "--timeout {huge}: {}",
            done.stderr
        );
    }
}

#[test]
fn an_unknown_host_is_a_resolve_error_not_a_connect_error() {
    let done = Running::start(CLIENT, &["--host", "no-such-host.invalid"])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert!(
        done.stderr.starts_with("resolve no-such-host.invalid: "),
        "{}",
        done.stderr
    );
}

#[test]
fn an_ipv6_address_is_written_with_brackets() {
    // Whatever happens at [::1] on this machine (refused, or no IPv6 at all), the line
    // must show the port apart from the address.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let port = refused.addr.port().to_string();
    let done = Running::start(CLIENT, &["--host", "::1", "--port", &port])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert!(
        done.stderr.starts_with(&format!("connect [::1]:{port}: ")),
        "{}",
        done.stderr
    );
}

#[test]
fn the_server_goes_on_serving_when_its_stdout_is_closed() {
    // As `sticky-packet-server --port 0 | head -1`: after the banner nobody reads the
    // server's stdout. Its line about the first client closes the pipe; the next lines
    // find it closed. It must go on serving (those lines are lost), not panic.
    let mut server = Running::spawn_head(server_command(), 1).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    for client in 1..=3 {
        let done = run_client(addr, &[]);
        assert_exit(&done, 0, OUTPUT, "");
        assert!(
            server.try_status().expect("status").is_none(),
            "the server ended after client {client}: {}",
            server.stderr()
        );
    }
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

#[test]
fn a_closed_stdout_stops_the_client_as_ctrl_c_would() {
    // As `sticky-packet-client | head -n 0`: its first line meets a closed stdout. It
    // stops quietly with Ctrl-C's status (130): no panic (101), no backtrace.
    let (_server, addr) = start_server();
    let port = addr.port().to_string();
    let (code, stderr) =
        run_with_stdout_closed(CLIENT, &["--port", &port]).expect("run the client");
    assert_eq!(code, Some(130), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn a_port_in_use_is_one_line_and_exit_1() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let port = taken.local_addr().expect("local addr").port();
    let done = Running::start(SERVER, &["--port", &port.to_string()])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_exit(
        &done,
        1,
        "",
        &lesson_runner::port_in_use_line(format!("127.0.0.1:{port}")),
    );
}
