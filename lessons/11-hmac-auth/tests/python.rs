//! Rust ↔ Python: the Rust server against the course's Python client and the Python
//! server against the Rust client, with the right key and a wrong one, through a tap that
//! records the bytes: 32 random bytes one way; the lowercase hex of their HMAC-SHA256 and
//! then the message the other. Without python3 these print a notice and pass; under
//! CI=true they fail.

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::*;
use lesson_runner::{PATIENCE, Running, TcpTap, python_command};

const PYTHON_SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/hmac_auth_server.py");
const PYTHON_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/hmac_auth_client.py");

/// Which side the course's Python program plays; the Rust lesson plays the other.
enum Python {
    Server,
    Client,
}

/// A Python program with `args`, HMAC_AUTH_KEY removed from its environment (as `start`
/// does for the Rust ones); `None` (skip) without python3.
fn python(script: &str, args: &[&str]) -> Option<Command> {
    let mut command = python_command(script)?;
    command.args(args).env_remove("HMAC_AUTH_KEY");
    Some(command)
}

/// The server knows the key `secret`; the client answers with `client_key` and sends
/// `message`. Checks the client's three lines, the bytes each way and the server's
/// verdict, which is returned (with the address the server saw the client at).
fn handshake(python_is: Python, client_key: &str, message: &str) -> Option<(String, SocketAddr)> {
    let client_args = ["--key", client_key, "--message", message];
    let (server, addr, mut client) = match python_is {
        Python::Server => {
            let server = python(PYTHON_SERVER, &["--port", "0", "--key", "secret"])?;
            let server = Running::spawn(server).expect("start python server");
            let addr = server.wait_for_banner(PATIENCE).expect("python banner");
            let mut client = Command::new(CLIENT);
            client.args(client_args).env_remove("HMAC_AUTH_KEY");
            (server, addr, client)
        }
        Python::Client => {
            let client = python(PYTHON_CLIENT, &client_args)?;
            let (server, addr) = server(&["--key", "secret"], None);
            (server, addr, client)
        }
    };
    let tap = TcpTap::start(addr).expect("start tap");
    client.args(["--port", &tap.addr().port().to_string()]);
    let done = Running::spawn(client)
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stderr, "");
    let (challenge, answer_hex, sent) = client_lines(&done.stdout);
    assert_eq!(answer_hex, answer(client_key.as_bytes(), &challenge));
    assert_eq!(sent, message);

    // On the wire: the challenge the client printed, 32 bytes and nothing after them (no
    // verdict is sent); the answer as 64 ASCII hex digits, then the message.
    let wire = tap.only();
    assert_eq!(wire.to_client, challenge);
    assert_eq!(wire.to_client.len(), 32);
    let answered = [answer_hex.as_bytes(), message.as_bytes()].concat();
    if client_key == "secret" {
        assert_eq!(wire.to_server, answered);
    } else {
        // Refused after the 64 digits: the message may or may not have got through
        // before the server closed.
        assert!(
            answered.starts_with(&wire.to_server) && wire.to_server.len() >= 64,
            "{:?}",
            String::from_utf8_lossy(&wire.to_server)
        );
    }
    let from = wire.server_side;
    let out = server
        .wait_for_stdout(&format!("connection from {from}"), PATIENCE)
        .expect("a verdict");
    let verdict = out.lines().nth(1).expect("a verdict line").to_string();
    assert_eq!(out, format!("listening on {addr}\n{verdict}\n"));
    Some((verdict, from))
}

#[test]
fn rust_server_python_client_right_key_is_legal() {
    let Some((verdict, from)) = handshake(Python::Client, "secret", "upload") else {
        return;
    };
    assert_eq!(verdict, format!("legal connection from {from}: upload"));
}

#[test]
fn rust_server_python_client_wrong_key_is_illegal() {
    let Some((verdict, from)) = handshake(Python::Client, "wrong", "let me in") else {
        return;
    };
    assert_eq!(
        verdict,
        format!(
            "illegal connection from {from} (wrong answer: not the HMAC of this challenge with our key)"
        )
    );
}

#[test]
fn python_server_rust_client_right_key_is_legal() {
    let Some((verdict, from)) = handshake(Python::Server, "secret", "upload") else {
        return;
    };
    assert_eq!(verdict, format!("legal connection from {from}: upload"));
}

#[test]
fn python_server_rust_client_wrong_key_is_illegal() {
    let Some((verdict, from)) = handshake(Python::Server, "wrong", "let me in") else {
        return;
    };
    assert_eq!(
        verdict,
        format!(
            "illegal connection from {from} (wrong answer: not the HMAC of this challenge with our key)"
        )
    );
}
