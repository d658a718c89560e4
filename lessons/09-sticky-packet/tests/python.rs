//! Rust ↔ Python: the Rust server against the course's Python client and the Python
//! server against the Rust client, through a tap that records the bytes both ways: two
//! writes, `hello,` and `world`, read as `he` and `llo,world` on either side. Without
//! python3 these print a notice and pass; under CI=true they fail.

use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::thread;

use lesson_runner::{Finished, PATIENCE, Relayed, Running, TcpTap, python_command};

const SERVER: &str = env!("CARGO_BIN_EXE_sticky-packet-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_sticky-packet-client");
const PYTHON_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/python/sticky_packet_server.py"
);
const PYTHON_CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/python/sticky_packet_client.py"
);

/// What a client prints: the course's `2 b'he'` and `b'llo,world'`.
const OUTPUT: &str = "2 b'he'\nb'llo,world'\n";

/// Start `server` (Rust or Python) on a free port, run `client` (the other) through a
/// tap, and check the course's demo: the client's two lines, the bytes (11 of them from
/// the server, none from the client), and the server's line about it.
fn demo(mut server: Command, client: Command) {
    server.args(["--port", "0"]);
    let server = Running::spawn(server).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("server banner");
    let tap = TcpTap::start(addr).expect("start tap");
    let done: Finished = Running::spawn(with_port(client, tap.addr()))
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, OUTPUT);
    assert_eq!(done.stderr, "");

    let wire: Relayed = tap.only();
    assert_eq!(wire.to_client, b"hello,world");
    assert_eq!(wire.to_server, b"");
    let line = format!(
        "{}: wrote b'hello,' then b'world', closed\n",
        wire.server_side
    );
    let printed = server
        .wait_for_stdout(&line, PATIENCE)
        .expect("server line");
    assert_eq!(printed, format!("listening on {addr}\n{line}"));
}

/// The client's command with `--port` set to the tap's.
fn with_port(mut command: Command, tap: SocketAddr) -> Command {
    command.args(["--port", &tap.port().to_string()]);
    command
}

#[test]
fn rust_server_python_client_course_demo() {
    let Some(client) = python_command(PYTHON_CLIENT) else {
        return;
    };
    demo(Command::new(SERVER), client);
}

#[test]
fn python_server_rust_client_course_demo() {
    let Some(server) = python_command(PYTHON_SERVER) else {
        return;
    };
    demo(server, Command::new(CLIENT));
}

#[test]
fn python_reference_client_reports_a_closed_server_the_same_way() {
    let Some(command) = python_command(PYTHON_CLIENT) else {
        return;
    };
    // A server that accepts and closes at once, without a byte.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || drop(listener.accept()));
    let done = Running::spawn(with_port(command, addr))
        .expect("start python client")
        .finish(PATIENCE)
        .expect("python client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert_eq!(done.stdout, "");
    assert_eq!(
        done.stderr,
        format!("receive {addr}: the server closed after 0 of 11 bytes\n")
    );
}
