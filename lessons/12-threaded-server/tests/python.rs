//! Rust ↔ Python: the Rust server against the course's Python client and the Python
//! server against the Rust client, through a tap that records the bytes both ways:
//! `Welcome`, a `Hello, NAME!` for each name, and `exit`. Without python3 these print a
//! notice and pass; under CI=true they fail.

use std::process::Command;

use lesson_runner::{PATIENCE, Running, TcpTap, python_command};

const SERVER: &str = env!("CARGO_BIN_EXE_threaded-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_threaded-client");
const PYTHON_SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/threaded_server.py");
const PYTHON_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/threaded_client.py");

/// Which side the course's Python program plays; the Rust lesson plays the other.
enum Python {
    Server,
    Client,
}

/// One client's whole conversation through a tap, sending `names` (none: the course's
/// Alice, Bob and Jack). Checks the client's transcript, the bytes each way and what the
/// server logged about that client (the Rust server and the course's word it differently).
fn conversation(python_is: Python, names: &[&str]) {
    let (server, client) = match python_is {
        Python::Server => (python_command(PYTHON_SERVER), Some(Command::new(CLIENT))),
        Python::Client => (Some(Command::new(SERVER)), python_command(PYTHON_CLIENT)),
    };
    let (Some(mut server), Some(mut client)) = (server, client) else {
        return;
    };
    // --work-ms 0: no pretend work (the course's time.sleep(1)) before each reply.
    server.args(["--port", "0", "--work-ms", "0"]);
    let server = Running::spawn(server).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("server banner");
    let tap = TcpTap::start(addr).expect("start tap");
    client.args(["--port", &tap.addr().port().to_string()]);
    client.args(names);
    let done = Running::spawn(client)
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stderr, "");
    let names = if names.is_empty() {
        &["Alice", "Bob", "Jack"][..]
    } else {
        names
    };
    let replies: Vec<String> = names.iter().map(|n| format!("Hello, {n}!")).collect();
    assert_eq!(done.stdout, format!("Welcome\n{}\n", replies.join("\n")));

    // Each message is one send, answered before the next goes out.
    let wire = tap.only();
    assert_eq!(
        wire.to_client,
        format!("Welcome{}", replies.concat()).as_bytes()
    );
    assert_eq!(wire.to_server, format!("{}exit", names.concat()).as_bytes());
    let me = wire.server_side;
    let log = match python_is {
        Python::Client => {
            format!("client {me} connected (1 connected)\nclient {me} disconnected (0 connected)\n")
        }
        Python::Server => {
            format!("Accept new connection from {me}...\nConnection from {me} closed.\n")
        }
    };
    let last = log.lines().last().unwrap_or_default();
    let printed = server
        .wait_for_stdout(last, PATIENCE)
        .expect("the server saw the client leave");
    assert_eq!(printed, format!("listening on {addr}\n{log}"));
}

#[test]
fn rust_server_python_client_course_transcript() {
    conversation(Python::Client, &[]);
}

#[test]
fn python_server_rust_client_course_transcript() {
    conversation(Python::Server, &[]);
}

#[test]
fn rust_server_python_client_names_given_as_arguments() {
    conversation(Python::Client, &["张三", "Mary Ann"]);
}

#[test]
fn python_server_rust_client_names_given_as_arguments() {
    conversation(Python::Server, &["张三", "Mary Ann"]);
}
