//! threaded-server-v2 as a student runs it: real processes, real sockets. The other side
//! is a raw socket, or lesson 12's client (threaded-client: build it first with `cargo
//! build -p threaded-server --bins`; `cargo test --workspace` does).
//!
//! These are the tests of what v2 adds: a burst that a backlog of 5 could not hold,
//! `--max-clients`, `--idle-timeout`. The conversation itself is lesson 12's, and so are
//! its tests; one of them is repeated here to show the copy still speaks it.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{PATIENCE, Running, connect, read_at_least, read_to_close, workspace_bin};

const SERVER: &str = env!("CARGO_BIN_EXE_threaded-server-v2");

/// What lesson 12's client prints with its default names.
const TRANSCRIPT: &str = "Welcome\nHello, Alice!\nHello, Bob!\nHello, Jack!\n";

/// Lesson 12's client, built by `cargo build -p threaded-server --bins`.
fn client() -> PathBuf {
    let path = workspace_bin("threaded-client");
    assert!(
        path.exists(),
        "{} is not built: run `cargo build -p threaded-server --bins` first",
        path.display()
    );
    path
}

/// Start the server on a free port with these extra arguments.
fn server(extra: &[&str]) -> (Running, SocketAddr) {
    let mut args = vec!["--port", "0"];
    args.extend_from_slice(extra);
    let run = Running::start(SERVER, &args).expect("start threaded-server-v2");
    let addr = run.wait_for_banner(PATIENCE).expect("server banner");
    (run, addr)
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
fn lesson_12s_client_against_v2() {
    let (run, addr) = server(&["--work-ms", "0"]);
    let done = Running::start(client(), &["--port", &addr.port().to_string()])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, TRANSCRIPT);
    assert_eq!(done.stderr, "");
    run.wait_for_stdout("disconnected (0 connected)", PATIENCE)
        .expect("server saw the exit");
    assert_eq!(run.stderr(), "");
}

#[test]
fn a_burst_of_300_clients_is_served_in_full() {
    const CLIENTS: usize = 300;
    // The default --backlog 1024. (Lesson 12's listen(5) holds 6 finished handshakes:
    // 300 at once would leave clients waiting for a retransmission, or lost.)
    let (run, addr) = server(&["--work-ms", "0"]);
    // Every thread waits at the barrier, so all 300 connect in the same instant.
    let start = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let start = Arc::clone(&start);
            thread::spawn(move || -> Result<SocketAddr, String> {
                start.wait();
                // connect() sets a read timeout: a client stalled in the accept queue
                // fails instead of hanging the test.
                let mut stream = connect(addr).map_err(|e| format!("client {i}: connect: {e}"))?;
                let me = stream
                    .local_addr()
                    .map_err(|e| format!("client {i}: local addr: {e}"))?;
                let name = format!("client{i}");
                let want = format!("Hello, {name}!");
                let welcome = read_at_least(&mut stream, 7)
                    .map_err(|e| format!("client {i}: welcome: {e}"))?;
                stream
                    .write_all(name.as_bytes())
                    .map_err(|e| format!("client {i}: send: {e}"))?;
                let reply = read_at_least(&mut stream, want.len())
                    .map_err(|e| format!("client {i}: reply: {e}"))?;
                stream
                    .write_all(b"exit")
                    .map_err(|e| format!("client {i}: exit: {e}"))?;
                if welcome != b"Welcome" || reply != want.as_bytes() {
                    return Err(format!(
                        "client {i}: got {:?} and {:?}",
                        String::from_utf8_lossy(&welcome),
                        String::from_utf8_lossy(&reply)
                    ));
                }
                // The server closes after exit.
                let rest =
                    read_to_close(&mut stream).map_err(|e| format!("client {i}: close: {e}"))?;
                if !rest.is_empty() {
                    return Err(format!("client {i}: more after exit: {rest:?}"));
                }
                Ok(me)
            })
        })
        .collect();
    let mut served = Vec::new();
    let mut failures = Vec::new();
    for t in threads {
        match t.join() {
            Ok(Ok(me)) => served.push(me),
            Ok(Err(e)) => failures.push(e),
            Err(_) => failures.push(String::from("a client thread panicked")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {CLIENTS} clients failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    // Every client said exit, and the server logged each one leaving.
    for me in &served {
        run.wait_for_stdout(&format!("client {me} disconnected ("), PATIENCE)
            .expect("disconnect logged");
    }
    let log = run.stdout();
    assert_eq!(log.matches(" connected (").count(), CLIENTS);
    assert_eq!(log.matches(" disconnected (").count(), CLIENTS);
    assert_eq!(run.stderr(), "");
}

#[test]
fn max_clients_turns_one_too_many_away_and_serves_after() {
    let (run, addr) = server(&["--work-ms", "0", "--max-clients", "1"]);
    let mut first = connect(addr).expect("first connects");
    expect(&mut first, b"Welcome");

    // The second gets one line and the server closes it.
    let mut second = connect(addr).expect("second connects");
    let second_addr = second.local_addr().expect("local addr");
    assert_eq!(
        read_to_close(&mut second).expect("busy, closed"),
        b"server busy\n"
    );
    run.wait_for_stdout(
        &format!("client {second_addr} refused: server busy (1 connected, --max-clients 1)"),
        PATIENCE,
    )
    .expect("refusal logged");

    // Lesson 12's client knows nothing of `server busy`: it takes the line for its
    // welcome (escaped), sends Alice, finds the connection closed, and says so in one
    // line (which stage noticed first, send or receive, is up to the kernel): exit 1.
    let done = Running::start(client(), &["--port", &addr.port().to_string()])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert_eq!(done.stdout, "server busy\\n\n");
    assert!(
        done.stderr.starts_with(&format!("receive {addr}: "))
            || done.stderr.starts_with(&format!("send {addr}: ")),
        "{}",
        done.stderr
    );
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);

    // The first client was not disturbed, and once it leaves there is room again.
    first.write_all(b"Alice").expect("send");
    expect(&mut first, b"Hello, Alice!");
    first.write_all(b"exit").expect("exit");
    assert_eq!(read_to_close(&mut first).expect("closed"), b"");
    run.wait_for_stdout("disconnected (0 connected)", PATIENCE)
        .expect("first gone");
    converse(addr, &["Bob"]);
}

#[test]
fn an_idle_client_is_dropped_and_its_slot_freed() {
    // --max-clients 1 --idle-timeout 1. Step 1: a client takes the one slot and says
    // nothing. Step 2: meanwhile a second one is told `server busy`. Step 3: the server
    // drops the idle one after about 1 s (well before 2 s). Step 4: the slot is free
    // again: a new client is welcomed.
    let (run, addr) = server(&[
        "--work-ms",
        "0",
        "--max-clients",
        "1",
        "--idle-timeout",
        "1",
    ]);
    let mut idle = connect(addr).expect("connect");
    let idle_addr = idle.local_addr().expect("local addr");
    expect(&mut idle, b"Welcome");
    let started = Instant::now();
    let mut busy = connect(addr).expect("second connects");
    assert_eq!(read_to_close(&mut busy).expect("busy"), b"server busy\n");

    assert_eq!(read_to_close(&mut idle).expect("dropped"), b"");
    let after = started.elapsed();
    assert!(
        after < Duration::from_secs(2),
        "the idle client was kept {after:?} under --idle-timeout 1"
    );
    run.wait_for_stdout(
        &format!(
            "client {idle_addr} idle for 1 s: dropped\nclient {idle_addr} disconnected (0 connected)\n"
        ),
        PATIENCE,
    )
    .expect("drop logged");
    converse(addr, &["Alice"]);
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
    for args in [
        ["--backlog", "0"],
        ["--backlog", "many"],
        ["--max-clients", "0"],
        ["--work-ms", "-1"],
        ["--idle-timeout", "0"],
        ["--idle-timeout", "inf"],
        ["--idle-timeout", "18446744073709551615"],
        ["--work-ms", "18446744073709551615"],
    ] {
        let done = Running::start(SERVER, &args)
            .expect("start server")
            .finish(PATIENCE)
            .expect("server ends");
        assert_eq!(done.code(), 2, "{args:?}: {}", done.stderr);
        assert_eq!(done.stdout, "", "{args:?}");
    }
    let done = Running::start(SERVER, &["--idle-timeout", "inf"])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert!(done.stderr.contains("at most"), "{}", done.stderr);
}
