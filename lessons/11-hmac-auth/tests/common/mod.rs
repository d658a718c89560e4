//! What the hmac-auth tests share: starting the programs with a known environment, and
//! answering a challenge the way a correct client does.

#![allow(dead_code)] // each test file uses a different part of this

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;

use hmac::{Hmac, KeyInit, Mac};
use lesson_runner::{PATIENCE, Running, connect};
use sha2::Sha256;

pub const SERVER: &str = env!("CARGO_BIN_EXE_hmac-auth-server");
pub const CLIENT: &str = env!("CARGO_BIN_EXE_hmac-auth-client");

/// The first words of the warning both programs print when they fall back to the demo key.
pub const DEMO_WARNING: &str = "warning: no --key and no HMAC_AUTH_KEY: using the demo key";

/// Start a program with `args`, and with HMAC_AUTH_KEY set to `env_key` or removed, so a
/// key in the environment of whoever runs the tests changes nothing.
pub fn start(program: &str, args: &[&str], env_key: Option<&str>) -> Running {
    let mut command = Command::new(program);
    command.args(args);
    match env_key {
        Some(key) => command.env("HMAC_AUTH_KEY", key),
        None => command.env_remove("HMAC_AUTH_KEY"),
    };
    Running::spawn(command).expect("start program")
}

/// Start the Rust server on a port the OS picks; returns it and its address.
pub fn server(extra: &[&str], env_key: Option<&str>) -> (Running, SocketAddr) {
    let mut args = vec!["--port", "0"];
    args.extend_from_slice(extra);
    let server = start(SERVER, &args, env_key);
    let addr = server.wait_for_banner(PATIENCE).expect("server banner");
    (server, addr)
}

/// Run the Rust client against `addr` with `extra` arguments, to the end.
pub fn client(addr: SocketAddr, extra: &[&str], env_key: Option<&str>) -> lesson_runner::Finished {
    let port = addr.port().to_string();
    let mut args = vec!["--port", port.as_str()];
    args.extend_from_slice(extra);
    start(CLIENT, &args, env_key)
        .finish(PATIENCE)
        .expect("client ends")
}

/// The lowercase hex of HMAC-SHA256(key, challenge): what a correct client answers.
pub fn answer(key: &[u8], challenge: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(challenge);
    hex::encode(mac.finalize().into_bytes())
}

/// Connect a raw test socket (with read and write timeouts) and read the 32-byte challenge.
pub fn challenged(addr: SocketAddr) -> (TcpStream, [u8; 32]) {
    let mut stream = connect(addr).expect("connect to server");
    let mut challenge = [0u8; 32];
    stream
        .read_exact(&mut challenge)
        .expect("read the 32-byte challenge");
    (stream, challenge)
}

/// A correct client on a raw socket: answer with `key`, send `message`, close. Returns
/// the client's own address, which the server's verdict line names.
pub fn good_client(addr: SocketAddr, key: &[u8], message: &str) -> SocketAddr {
    let (mut stream, challenge) = challenged(addr);
    let local = stream.local_addr().expect("local addr");
    stream
        .write_all(answer(key, &challenge).as_bytes())
        .expect("send answer");
    stream.write_all(message.as_bytes()).expect("send message");
    local
}

/// The verdict line for a legal client.
pub fn legal(from: SocketAddr, message: &str) -> String {
    format!("legal connection from {from}: {message}\n")
}

/// The verdict line for an illegal client, with the reason the server gives.
pub fn illegal(from: SocketAddr, why: &str) -> String {
    format!("illegal connection from {from} ({why})\n")
}

/// Parse the three lines the client prints: `challenge: HEX`, `answer: HEX`, `sent: MSG`.
pub fn client_lines(stdout: &str) -> (Vec<u8>, String, String) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "client stdout: {stdout:?}");
    let challenge = lines[0]
        .strip_prefix("challenge: ")
        .and_then(|h| hex::decode(h).ok())
        .unwrap_or_else(|| panic!("first line should be `challenge: HEX`: {stdout:?}"));
    let answer = lines[1]
        .strip_prefix("answer: ")
        .unwrap_or_else(|| panic!("second line should be `answer: HEX`: {stdout:?}"));
    let sent = lines[2]
        .strip_prefix("sent: ")
        .unwrap_or_else(|| panic!("third line should be `sent: MESSAGE`: {stdout:?}"));
    (challenge, answer.to_string(), sent.to_string())
}
