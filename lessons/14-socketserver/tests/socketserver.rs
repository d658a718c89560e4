//! socketserver-server and socketserver-client as real processes, and raw sockets as the
//! other side where the bytes matter. The course's Python programs are in tests/python.rs.

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{
    PATIENCE, Running, connect, read_at_least, read_to_close, run_with_stdout_closed,
};

const SERVER: &str = env!("CARGO_BIN_EXE_socketserver-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_socketserver-client");

/// What a client prints for three rounds (both the Rust and the Python one).
const THREE_ROUNDS: &str = "received: hello\nsent: byebye\n\
                            received: hello\nsent: byebye\n\
                            received: hello\nsent: byebye\n";

fn server() -> (Running, SocketAddr) {
    let run = Running::start(SERVER, &["--port", "0"]).expect("start socketserver-server");
    let addr = run.wait_for_banner(PATIENCE).expect("server banner");
    (run, addr)
}

fn server_with(extra: &[&str]) -> (Running, SocketAddr) {
    let mut args = vec!["--port", "0"];
    args.extend_from_slice(extra);
    let run = Running::start(SERVER, &args).expect("start socketserver-server");
    let addr = run.wait_for_banner(PATIENCE).expect("server banner");
    (run, addr)
}

/// A raw test server: accept one client, send `bytes`, then say nothing more, with the
/// connection open, until the returned sender is dropped.
fn silent_after(bytes: &'static [u8]) -> (SocketAddr, mpsc::Sender<()>) {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let _ = conn.write_all(bytes);
            let _ = done_rx.recv_timeout(PATIENCE);
        }
    });
    (addr, done_tx)
}

fn expect_hello(stream: &mut TcpStream) {
    let got = read_at_least(stream, 5).expect("read hello");
    assert_eq!(String::from_utf8_lossy(&got), "hello");
}

/// What the server prints about one client that answered `rounds` times and closed.
fn log_of(peer: SocketAddr, rounds: usize) -> String {
    let mut log = format!("client {peer} connected\n");
    for _ in 0..rounds {
        log.push_str(&format!("received from {peer}: byebye\n"));
    }
    log.push_str(&format!("client {peer} closed the connection\n"));
    log
}

/// The rounds after the first hello, over a raw socket, then a clean close.
fn answer_and_close(mut stream: TcpStream, rounds: usize) {
    for round in 0..rounds {
        if round > 0 {
            expect_hello(&mut stream);
        }
        stream.write_all(b"byebye").expect("send byebye");
    }
    stream.shutdown(Shutdown::Write).expect("shutdown");
    // The server has sent its next hello already; then it sees our end and closes.
    let rest = read_to_close(&mut stream).expect("server closes");
    assert_eq!(String::from_utf8_lossy(&rest), "hello");
}

#[test]
fn the_wire_and_the_server_log_for_one_client() {
    let (run, addr) = server();
    let mut stream = connect(addr).expect("connect");
    let me = stream.local_addr().expect("local addr");
    expect_hello(&mut stream);
    answer_and_close(stream, 3);
    let log = run
        .wait_for_stdout(&format!("client {me} closed"), PATIENCE)
        .expect("close logged");
    assert_eq!(log, format!("listening on {addr}\n{}", log_of(me, 3)));
    assert_eq!(run.stderr(), "");
}

#[test]
fn the_rust_client_does_its_rounds() {
    let (run, addr) = server();
    let port = addr.port().to_string();
    let done = Running::start(CLIENT, &["--port", &port])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, THREE_ROUNDS);
    assert_eq!(done.stderr, "");
    let log = run
        .wait_for_stdout("closed the connection", PATIENCE)
        .expect("close logged");
    assert_eq!(log.matches(": byebye\n").count(), 3, "{log}");

    let done = Running::start(CLIENT, &["--port", &port, "--rounds", "1"])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, "received: hello\nsent: byebye\n");
    assert_eq!(run.stderr(), "");
}

#[test]
fn several_clients_are_served_at_once() {
    let (run, addr) = server();
    // Three clients, and each has its hello before any of them answers: every connection
    // has its own thread. (One at a time, the second hello would wait for the first
    // client to leave.)
    let streams: Vec<(TcpStream, SocketAddr)> = (0..3)
        .map(|_| {
            let mut stream = connect(addr).expect("connect");
            let me = stream.local_addr().expect("local addr");
            expect_hello(&mut stream);
            (stream, me)
        })
        .collect();
    let peers: Vec<SocketAddr> = streams.iter().map(|(_, me)| *me).collect();
    let threads: Vec<_> = streams
        .into_iter()
        .map(|(stream, _)| thread::spawn(move || answer_and_close(stream, 3)))
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let mut log = String::new();
    for peer in &peers {
        log = run
            .wait_for_stdout(&format!("client {peer} closed"), PATIENCE)
            .expect("close logged");
    }
    // Interleaved: all three were connected before anyone's first answer was printed.
    let last_connect = peers
        .iter()
        .map(|p| {
            log.find(&format!("client {p} connected"))
                .expect("connect logged")
        })
        .max()
        .expect("three");
    let first_answer = log.find("received from").expect("an answer");
    assert!(last_connect < first_answer, "{log}");
    // And each got its three rounds, in its own lines.
    for peer in &peers {
        let mine: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(&peer.to_string()))
            .collect();
        let expected = log_of(*peer, 3);
        assert_eq!(mine, expected.lines().collect::<Vec<_>>());
    }
    assert_eq!(run.stderr(), "");

    // The Rust clients, three processes at once.
    let port = addr.port().to_string();
    let clients: Vec<Running> = (0..3)
        .map(|_| Running::start(CLIENT, &["--port", &port]).expect("start client"))
        .collect();
    for client in clients {
        let done = client.finish(PATIENCE).expect("client ends");
        assert_eq!(done.code(), 0, "{}", done.stderr);
        assert_eq!(done.stdout, THREE_ROUNDS);
    }
}

#[test]
fn clients_that_leave_early_are_reported_and_the_server_goes_on() {
    let (run, addr) = server();

    // Reads the hello and closes without an answer: the handler's read returns 0.
    let mut quiet = connect(addr).expect("connect");
    let quiet_addr = quiet.local_addr().expect("local addr");
    expect_hello(&mut quiet);
    drop(quiet);
    let log = run
        .wait_for_stdout(&format!("client {quiet_addr} closed"), PATIENCE)
        .expect("close logged");
    assert!(!log.contains("received from"), "{log}");

    // Lets the hello arrive but never reads it, and closes: with unread data the kernel
    // resets the connection instead of closing it, and the handler's read fails. The
    // server reports that one connection (Python's handle_error) and goes on.
    let rude = connect(addr).expect("connect");
    let rude_addr = rude.local_addr().expect("local addr");
    let mut peeked = [0u8; 5];
    assert_eq!(rude.peek(&mut peeked).expect("hello arrives"), 5);
    drop(rude);
    run.wait_for_stderr(
        &format!("request from {rude_addr}: connection reset by peer\n"),
        PATIENCE,
    )
    .expect("error reported");

    // One answer, then gone.
    let mut once = connect(addr).expect("connect");
    let once_addr = once.local_addr().expect("local addr");
    expect_hello(&mut once);
    answer_and_close(once, 1);
    let log = run
        .wait_for_stdout(&format!("client {once_addr} closed"), PATIENCE)
        .expect("close logged");
    assert!(log.contains(&log_of(once_addr, 1)), "{log}");

    // Still serving, in full.
    let done = Running::start(CLIENT, &["--port", &addr.port().to_string()])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, THREE_ROUNDS);
    assert_eq!(run.stderr().lines().count(), 1, "{}", run.stderr());
}

#[test]
fn not_utf8_is_shown_lossily() {
    let (run, addr) = server();
    let mut stream = connect(addr).expect("connect");
    let me = stream.local_addr().expect("local addr");
    expect_hello(&mut stream);
    stream.write_all(b"bye\xff").expect("send");
    expect_hello(&mut stream);
    drop(stream);
    let log = run
        .wait_for_stdout(&format!("client {me} closed"), PATIENCE)
        .expect("close logged");
    assert!(
        log.contains(&format!("received from {me}: bye\u{fffd}\n")),
        "{log}"
    );
}

#[test]
fn a_taken_port_is_one_line_and_exit_1() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let done = Running::start(SERVER, &["--port", &addr.port().to_string()])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "");
    assert_eq!(done.stderr, lesson_runner::port_in_use_line(addr));
}

#[test]
fn bad_options_are_usage_errors() {
    let done = Running::start(SERVER, &["--port", "http"])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 2, "{}", done.stderr);
    for args in [["--rounds", "-1"], ["--rounds", "three"]] {
        let done = Running::start(CLIENT, &args)
            .expect("start client")
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 2, "{args:?}: {}", done.stderr);
    }
}

#[test]
fn the_client_reports_refusal_and_a_server_that_hangs_up() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let port = addr.port().to_string();

    // A server that says hello once, reads the answer, and hangs up.
    let client = Running::start(CLIENT, &["--port", &port]).expect("start client");
    let (mut conn, _) = listener.accept().expect("accept");
    conn.set_read_timeout(Some(PATIENCE)).expect("timeout");
    conn.write_all(b"hello").expect("hello");
    assert_eq!(read_at_least(&mut conn, 6).expect("answer"), b"byebye");
    drop(conn);
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "received: hello\nsent: byebye\n");
    assert_eq!(
        done.stderr,
        format!("receive {addr}: the server closed the connection\n")
    );

    // Nobody listening.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let addr = refused.addr;
    let done = Running::start(CLIENT, &["--port", &addr.port().to_string()])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stderr, format!("connect {addr}: connection refused\n"));
}

#[test]
fn an_idle_client_is_closed_after_the_idle_timeout() {
    // --idle-timeout 1: a client reads its hello and says nothing. The server closes
    // the connection after about 1 s, well before 2 s, and says why.
    let (run, addr) = server_with(&["--idle-timeout", "1"]);
    let mut idle = connect(addr).expect("connect");
    let me = idle.local_addr().expect("local addr");
    expect_hello(&mut idle);
    let started = Instant::now();
    assert_eq!(read_to_close(&mut idle).expect("closed by the server"), b"");
    let after = started.elapsed();
    assert!(
        after < Duration::from_secs(2),
        "the idle client was kept {after:?} under --idle-timeout 1"
    );
    run.wait_for_stdout(
        &format!("client {me} said nothing for 1 s: closed\n"),
        PATIENCE,
    )
    .expect("the close is logged");
}

#[test]
fn what_a_client_sends_is_printed_escaped() {
    // A client that tries to forge a line of the server's log and to drive the terminal.
    let (run, addr) = server();
    let mut stream = connect(addr).expect("connect");
    let me = stream.local_addr().expect("local addr");
    let forged = "received from 10.0.0.1:1: byebye";
    expect_hello(&mut stream);
    stream
        .write_all(format!("byebye\x1b[31m\n{forged}").as_bytes())
        .expect("send");
    expect_hello(&mut stream);
    drop(stream);
    let log = run
        .wait_for_stdout(&format!("client {me} closed"), PATIENCE)
        .expect("close logged");
    assert!(
        log.contains(&format!("received from {me}: byebye\\x1b[31m\\n{forged}\n")),
        "{log}"
    );
    assert!(log.lines().all(|line| line != forged), "{log}");
}

#[cfg(unix)]
#[test]
fn the_server_goes_on_serving_when_its_stdout_is_closed() {
    // As `socketserver-server --port 0 | head -1`: after the banner nobody reads its
    // stdout. The first client's lines close the pipe; the next ones find it closed.
    // Every client must still get its hellos (no handler thread dies on a panic).
    let mut command = std::process::Command::new(SERVER);
    command.args(["--port", "0"]);
    let mut run = Running::spawn_head(command, 1).expect("start server");
    let addr = run.wait_for_banner(PATIENCE).expect("banner");
    for _ in 0..3 {
        let done = Running::start(CLIENT, &["--port", &addr.port().to_string()])
            .expect("start client")
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 0, "{}", done.stderr);
        assert_eq!(done.stdout, THREE_ROUNDS);
    }
    assert!(
        run.try_status().expect("status").is_none(),
        "the server ended"
    );
    run.interrupt().expect("Ctrl-C");
    let done = run.finish(PATIENCE).expect("server ends");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
}

#[test]
fn the_client_gives_up_on_a_silent_server() {
    let (addr, done_tx) = silent_after(b"");
    let done = Running::start(
        CLIENT,
        &["--port", &addr.port().to_string(), "--timeout", "1"],
    )
    .expect("start client")
    .finish(Duration::from_secs(5))
    .expect("the client gives up after 1 s");
    drop(done_tx);
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert_eq!(
        done.stderr,
        format!("receive {addr}: no hello within 1 s (--timeout)\n")
    );
}

#[test]
fn the_client_shows_control_characters_from_the_server_escaped() {
    // A hello that tries to print a line of the client's own; then the server closes.
    let forged = "received: hello";
    let (addr, done_tx) = silent_after(b"hello\x1b[2J\nreceived: hello");
    drop(done_tx);
    let done = Running::start(CLIENT, &["--port", &addr.port().to_string()])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    let first = done.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        first, "received: hello\\x1b[2J\\nreceived: hello",
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.lines().all(|line| line != forged),
        "{}",
        done.stdout
    );
}

#[test]
fn a_closed_stdout_stops_the_client_as_ctrl_c_would() {
    let (_run, addr) = server();
    let port = addr.port().to_string();
    let (code, stderr) =
        run_with_stdout_closed(CLIENT, &["--port", &port]).expect("run the client");
    assert_eq!(code, Some(130), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn huge_durations_are_usage_errors() {
    for (program, args) in [
        (SERVER, ["--idle-timeout", "inf"]),
        (SERVER, ["--idle-timeout", "18446744073709551615"]),
        (CLIENT, ["--timeout", "inf"]),
        (CLIENT, ["--timeout", "1e19"]),
    ] {
        let done = Running::start(program, &args)
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 2, "{args:?}: {}", done.stderr);
    }
    let done = Running::start(CLIENT, &["--timeout", "inf"])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert!(done.stderr.contains("at most"), "{}", done.stderr);
}

#[test]
fn the_client_names_resolve_and_writes_ipv6_with_brackets() {
    let done = Running::start(CLIENT, &["--host", "no-such-host.invalid"])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert!(
        done.stderr.starts_with("resolve no-such-host.invalid: "),
        "{}",
        done.stderr
    );
    let refused = lesson_runner::refused_port().expect("hold a port");
    let port = refused.addr.port().to_string();
    let done = Running::start(CLIENT, &["--host", "::1", "--port", &port])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert!(
        done.stderr.starts_with(&format!("connect [::1]:{port}: ")),
        "{}",
        done.stderr
    );
}
