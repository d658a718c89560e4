//! Rust ↔ Python: the Rust client against the course's Python server, and the Python
//! client against the Rust server, with the right key and a wrong one. Skipped with a
//! notice when python3 is missing (a failure under CI=true).

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use lesson_runner::{Finished, PATIENCE, Running, python3};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

fn python(py: &Path, script_name: &str, args: &[&str]) -> Running {
    let mut command = Command::new(py);
    command.arg(script(script_name)).args(args);
    command.env_remove("HMAC_AUTH_KEY");
    Running::spawn(command).expect("start python3")
}

fn python_client(py: &Path, addr: SocketAddr, extra: &[&str]) -> Finished {
    let port = addr.port().to_string();
    let mut args = vec!["--port", port.as_str()];
    args.extend_from_slice(extra);
    python(py, "hmac_auth_client.py", &args)
        .finish(PATIENCE)
        .expect("python client ends")
}

/// The verdict line the server printed after its banner.
fn verdict(server: &Running, needle: &str) -> String {
    let out = server.wait_for_stdout(needle, PATIENCE).expect("verdict");
    out.lines().nth(1).expect("a verdict line").to_string()
}

#[test]
fn rust_client_with_the_right_key_is_legal_on_the_python_server() {
    let Some(py) = python3() else { return };
    let server = python(
        &py,
        "hmac_auth_server.py",
        &["--port", "0", "--key", "secret"],
    );
    let addr = server.wait_for_banner(PATIENCE).expect("python banner");
    let done = client(addr, &["--key", "secret"], None);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    let line = verdict(&server, ": upload\n");
    assert!(
        line.starts_with("legal connection from 127.0.0.1:") && line.ends_with(": upload"),
        "{line}"
    );
}

#[test]
fn rust_client_with_a_wrong_key_is_illegal_on_the_python_server() {
    let Some(py) = python3() else { return };
    let server = python(
        &py,
        "hmac_auth_server.py",
        &["--port", "0", "--key", "secret"],
    );
    let addr = server.wait_for_banner(PATIENCE).expect("python banner");
    let done = client(addr, &["--key", "wrong", "--message", "let me in"], None);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    let line = verdict(&server, "illegal connection from ");
    assert!(
        line.starts_with("illegal connection from 127.0.0.1:")
            && line.ends_with(" (wrong answer: not the HMAC of this challenge with our key)"),
        "{line}"
    );
}

#[test]
fn python_client_with_the_right_key_is_legal_on_the_rust_server() {
    let Some(py) = python3() else { return };
    let (server, addr) = server(&["--key", "secret"], None);
    let done = python_client(&py, addr, &["--key", "secret"]);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    // The Python client prints what the Rust one does, and its answer is the HMAC.
    let (challenge, answer_hex, sent) = client_lines(&done.stdout);
    assert_eq!(answer_hex, answer(b"secret", &challenge));
    assert_eq!(sent, "upload");
    let line = verdict(&server, ": upload\n");
    assert!(
        line.starts_with("legal connection from 127.0.0.1:") && line.ends_with(": upload"),
        "{line}"
    );
}

#[test]
fn python_client_with_a_wrong_key_is_illegal_on_the_rust_server() {
    let Some(py) = python3() else { return };
    let (server, addr) = server(&["--key", "secret"], None);
    let done = python_client(&py, addr, &["--key", "wrong", "--message", "let me in"]);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    let line = verdict(&server, "illegal connection from ");
    assert!(
        line.starts_with("illegal connection from 127.0.0.1:")
            && line.ends_with(" (wrong answer: not the HMAC of this challenge with our key)"),
        "{line}"
    );
    assert!(!server.stdout().contains("let me in"));
}
