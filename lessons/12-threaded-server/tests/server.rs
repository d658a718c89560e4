//! threaded-server and threaded-client as a student runs them: real processes, real
//! sockets. The course's Python programs on the other side are in tests/python.rs.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{
    PATIENCE, Running, connect, read_at_least, read_to_close, run_with_stdout_closed,
};

const SERVER: &str = env!("CARGO_BIN_EXE_threaded-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_threaded-client");

/// What the course's client prints, and ours with its default names.
const TRANSCRIPT: &str = "Welcome\nHello, Alice!\nHello, Bob!\nHello, Jack!\n";

/// Start the Rust server on a free port with these extra arguments.
fn server(extra: &[&str]) -> (Running, SocketAddr) {
    let mut args = vec!["--port", "0"];
    args.extend_from_slice(extra);
    let run = Running::start(SERVER, &args).expect("start threaded-server");
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

/// Read until `want.len()` bytes have come (or the peer closed) and compare.
fn expect(stream: &mut TcpStream, want: &[u8]) {
    let got = read_at_least(stream, want.len()).expect("read from the server");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(want),
        "bytes from the server"
    );
}

/// One whole conversation over a raw socket: Welcome, each name and its reply, exit, and
/// then the server closes.
fn converse(addr: SocketAddr, names: &[&str]) {
    let mut stream = connect(addr).expect("connect");
    expect(&mut stream, b"Welcome");
    for name in names {
        stream.write_all(name.as_bytes()).expect("send name");
        expect(&mut stream, format!("Hello, {name}!").as_bytes());
    }
    stream.write_all(b"exit").expect("send exit");
    assert_eq!(read_to_close(&mut stream).expect("server closes"), b"");
}

#[test]
fn the_wire_and_the_server_log_for_one_client() {
    let (run, addr) = server(&["--work-ms", "0"]);
    let mut stream = connect(addr).expect("connect");
    let me = stream.local_addr().expect("local addr");
    expect(&mut stream, b"Welcome");
    stream.write_all(b"Alice").expect("send");
    expect(&mut stream, b"Hello, Alice!");
    // Not UTF-8: shown lossily, never a crash.
    stream.write_all(b"\xff\xfe").expect("send");
    expect(&mut stream, "Hello, \u{fffd}\u{fffd}!".as_bytes());
    stream.write_all(b"exit").expect("send exit");
    assert_eq!(read_to_close(&mut stream).expect("server closes"), b"");

    let log = run
        .wait_for_stdout("disconnected (0 connected)", PATIENCE)
        .expect("disconnect logged");
    assert_eq!(
        log,
        format!(
            "listening on {addr}\nclient {me} connected (1 connected)\n\
             client {me} disconnected (0 connected)\n"
        )
    );
    assert_eq!(run.stderr(), "");
}

#[test]
fn the_rust_client_against_the_rust_server() {
    let (run, addr) = server(&["--work-ms", "0"]);
    let done = Running::start(CLIENT, &["--port", &addr.port().to_string()])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, TRANSCRIPT);
    assert_eq!(done.stderr, "");
    run.wait_for_stdout("disconnected (0 connected)", PATIENCE)
        .expect("server saw the exit");
}

#[test]
fn a_client_that_vanishes_is_logged_and_the_server_goes_on() {
    let (run, addr) = server(&["--work-ms", "200"]);

    // Reads the welcome, then closes without `exit`: the server's read returns 0.
    let mut gone = connect(addr).expect("connect");
    let gone_addr = gone.local_addr().expect("local addr");
    expect(&mut gone, b"Welcome");
    drop(gone);
    run.wait_for_stdout(
        &format!("client {gone_addr} disconnected (0 connected)"),
        PATIENCE,
    )
    .expect("disconnect logged");

    // Sends a name and closes before the reply: the server's reply goes to a closed
    // socket. Whatever the kernel reports, the count goes back and nothing crashes.
    let mut rude = connect(addr).expect("connect");
    let rude_addr = rude.local_addr().expect("local addr");
    expect(&mut rude, b"Welcome");
    rude.write_all(b"Alice").expect("send");
    drop(rude);
    run.wait_for_stdout(
        &format!("client {rude_addr} disconnected (0 connected)"),
        PATIENCE,
    )
    .expect("disconnect logged");

    // Still serving.
    converse(addr, &["Bob"]);
    run.wait_for_stdout("disconnected (0 connected)\n", PATIENCE)
        .expect("served");
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
}

#[test]
fn three_slow_clients_are_served_side_by_side() {
    let (run, addr) = server(&["--work-ms", "200"]);
    // All three get their welcome before any of them says anything. A server that
    // served clients one after another could not do that: the second welcome would wait
    // until the first client said exit.
    let mut streams: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut stream = connect(addr).expect("connect");
            expect(&mut stream, b"Welcome");
            stream
        })
        .collect();
    run.wait_for_stdout("(3 connected)", PATIENCE)
        .expect("three at once");

    let started = Instant::now();
    let threads: Vec<_> = streams
        .drain(..)
        .enumerate()
        .map(|(i, mut stream)| {
            thread::spawn(move || {
                for name in ["Alice", "Bob", "Jack"] {
                    let name = format!("{name}{i}");
                    stream.write_all(name.as_bytes()).expect("send");
                    expect(&mut stream, format!("Hello, {name}!").as_bytes());
                }
                stream.write_all(b"exit").expect("exit");
                assert_eq!(read_to_close(&mut stream).expect("closed"), b"");
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    // For the curious (`cargo test -- --nocapture`); not asserted, a loaded machine may
    // be slow. One after another it would be 9 × 200 ms.
    eprintln!(
        "three clients × three names at 200 ms: {:?}",
        started.elapsed()
    );

    let log = run
        .wait_for_stdout("disconnected (0 connected)", PATIENCE)
        .expect("all gone");
    let three = log.find("(3 connected)").expect("count reached 3");
    let first_gone = log.find("disconnected").expect("a disconnect");
    assert!(
        three < first_gone,
        "all three were connected before one left:\n{log}"
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
    for args in [["--work-ms", "-1"], ["--port", "70000"], ["--backlog", "5"]] {
        let done = Running::start(SERVER, &args)
            .expect("start server")
            .finish(PATIENCE)
            .expect("server ends");
        assert_eq!(done.code(), 2, "{args:?}: {}", done.stderr);
        assert_eq!(done.stdout, "", "{args:?}");
    }
    for args in [vec![""], vec!["Alice", ""], vec!["--port", "x"]] {
        let done = Running::start(CLIENT, &args)
            .expect("start client")
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 2, "{args:?}: {}", done.stderr);
    }
    // Longer than the server's recv(1024): it would arrive as two messages.
    let long = "x".repeat(1025);
    let done = Running::start(CLIENT, &["--port", "9", long.as_str()])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 2);
    assert_eq!(
        done.stderr,
        "a name of 1025 bytes is longer than the server reads at once (1024)\n"
    );
}

#[test]
fn the_client_reports_a_refused_connection() {
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
fn the_client_reports_a_server_that_hangs_up_mid_conversation() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let client =
        Running::start(CLIENT, &["--port", &addr.port().to_string()]).expect("start client");
    let (mut conn, _) = listener.accept().expect("accept");
    conn.set_read_timeout(Some(PATIENCE)).expect("timeout");
    conn.write_all(b"Welcome").expect("welcome");
    // Wait for the first name, then hang up instead of replying.
    assert_eq!(read_at_least(&mut conn, 5).expect("name"), b"Alice");
    drop(conn);
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "Welcome\n");
    assert_eq!(
        done.stderr,
        format!("receive {addr}: the server closed the connection\n")
    );
}

#[test]
fn the_client_gives_up_on_a_server_silent_after_welcome() {
    let (addr, done_tx) = silent_after(b"Welcome");
    let done = Running::start(
        CLIENT,
        &["--port", &addr.port().to_string(), "--timeout", "1"],
    )
    .expect("start client")
    .finish(Duration::from_secs(5))
    .expect("the client gives up after 1 s");
    drop(done_tx);
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert_eq!(done.stdout, "Welcome\n");
    assert_eq!(
        done.stderr,
        format!("receive {addr}: no reply to Alice within 1 s (--timeout)\n")
    );
}

#[test]
fn the_client_gives_up_on_a_server_that_never_welcomes() {
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
        format!("receive {addr}: no welcome within 1 s (--timeout)\n")
    );
}

#[test]
fn the_client_shows_control_characters_from_the_server_escaped() {
    // A welcome that tries to colour the terminal and to print a line of its own; then
    // the test server closes (its sender is dropped at once).
    let forged = "Hello, Alice!";
    let (addr, done_tx) = silent_after(b"Welcome\x1b[31m\nHello, Alice!");
    drop(done_tx);
    let done = Running::start(CLIENT, &["--port", &addr.port().to_string()])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.stdout, "Welcome\\x1b[31m\\nHello, Alice!\n");
    assert!(
        done.stdout.lines().all(|line| line != forged),
        "{}",
        done.stdout
    );
}

#[cfg(unix)]
#[test]
fn the_server_goes_on_serving_when_its_stdout_is_closed() {
    // As `threaded-server --port 0 | head -1`: after the banner nobody reads its stdout.
    // Its line about the first client closes the pipe; the next lines find it closed.
    let mut command = std::process::Command::new(SERVER);
    command.args(["--port", "0", "--work-ms", "0"]);
    let mut run = Running::spawn_head(command, 1).expect("start server");
    let addr = run.wait_for_banner(PATIENCE).expect("banner");
    for _ in 0..3 {
        converse(addr, &["Alice", "Bob"]);
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
fn a_closed_stdout_stops_the_client_as_ctrl_c_would() {
    let (_run, addr) = server(&["--work-ms", "0"]);
    let port = addr.port().to_string();
    let (code, stderr) =
        run_with_stdout_closed(CLIENT, &["--port", &port]).expect("run the client");
    assert_eq!(code, Some(130), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn huge_durations_are_usage_errors() {
    for (program, args) in [
        (SERVER, ["--work-ms", "18446744073709551615"]),
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
