//! hmac-auth-client as a real process against a test socket playing the server, so the
//! bytes it sends can be checked exactly.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use common::*;
use lesson_runner::{PATIENCE, Running, read_to_close, run_with_stdout_closed};

/// The challenge the test server sends: the bytes 0, 1, ..., 31.
fn fixed_challenge() -> Vec<u8> {
    (0u8..32).collect()
}

/// Python: hmac.new(b'secret', bytes(range(32)), 'sha256').hexdigest()
const SECRET_ANSWER: &str = "47860bcbb991426bea828dbf6097dff33339b093e3b9f61d9aef8a052f93e402";

fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// Play the server once: send the fixed challenge, return all the client sent until it
/// closed.
fn serve_once(listener: &TcpListener) -> Vec<u8> {
    let (mut conn, _) = listener.accept().expect("accept");
    conn.set_read_timeout(Some(PATIENCE)).expect("timeout");
    conn.write_all(&fixed_challenge()).expect("send challenge");
    read_to_close(&mut conn).expect("read until the client closes")
}

fn start_client(addr: SocketAddr, extra: &[&str], env_key: Option<&str>) -> Running {
    let port = addr.port().to_string();
    let mut args = vec!["--port", port.as_str()];
    args.extend_from_slice(extra);
    start(CLIENT, &args, env_key)
}

#[test]
fn sends_the_lowercase_hex_hmac_then_the_message() {
    let (listener, addr) = listener();
    let run = start_client(addr, &["--key", "secret"], None);
    let got = serve_once(&listener);
    assert_eq!(got, format!("{SECRET_ANSWER}upload").as_bytes());
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stderr, "");
    assert_eq!(
        done.stdout,
        format!(
            "challenge: {}\nanswer: {SECRET_ANSWER}\nsent: upload\n",
            hex::encode(fixed_challenge())
        )
    );
}

#[test]
fn the_message_option_is_sent_after_the_answer() {
    let (listener, addr) = listener();
    let run = start_client(
        addr,
        &["--key", "secret", "--message", "你好, server"],
        None,
    );
    let got = serve_once(&listener);
    assert_eq!(got, format!("{SECRET_ANSWER}你好, server").as_bytes());
    assert_eq!(run.finish(PATIENCE).expect("client ends").code(), 0);
}

#[test]
fn the_key_comes_from_hmac_auth_key_when_there_is_no_flag() {
    let (listener, addr) = listener();
    let run = start_client(addr, &[], Some("secret"));
    assert_eq!(
        serve_once(&listener),
        format!("{SECRET_ANSWER}upload").as_bytes()
    );
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0);
    assert_eq!(done.stderr, "", "no demo-key warning");
}

#[test]
fn without_a_key_the_demo_key_is_used_with_a_warning() {
    let (listener, addr) = listener();
    let run = start_client(addr, &[], None);
    let got = serve_once(&listener);
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0);
    assert!(done.stderr.starts_with(DEMO_WARNING), "{}", done.stderr);
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
    let demo = answer(b"hmac-auth demo key (not a secret)", &fixed_challenge());
    assert_eq!(got, format!("{demo}upload").as_bytes());
}

#[test]
fn connection_refused_is_one_line_and_exit_1() {
    // A port where nothing listens, held for the whole test so nobody else can listen there.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let addr = refused.addr;
    let done = start_client(addr, &["--key", "k"], None)
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stderr, format!("connect {addr}: connection refused\n"));
    assert_eq!(done.stdout, "");
}

#[test]
fn a_server_that_closes_before_32_bytes_is_one_line_and_exit_1() {
    let (listener, addr) = listener();
    let run = start_client(addr, &["--key", "k"], None);
    let (mut conn, _) = listener.accept().expect("accept");
    conn.write_all(b"only ten b").expect("send part");
    drop(conn);
    let done = run.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("receive challenge from {addr}: the server closed before sending 32 bytes\n")
    );
    assert_eq!(done.stdout, "");
}

#[test]
fn a_missing_option_value_is_a_usage_error() {
    let done = start(CLIENT, &["--port"], None)
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 2, "{}", done.stderr);
}

#[test]
fn a_server_that_never_sends_the_challenge_is_one_line_after_the_timeout() {
    // Step 1: the test server accepts and says nothing. Step 2: the client gives up
    // after its --timeout and names the stage.
    let (listener, addr) = listener();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Ok((_conn, _)) = listener.accept() {
            let _ = done_rx.recv_timeout(PATIENCE); // silent, connection open
        }
    });
    let done = start_client(addr, &["--key", "k", "--timeout", "1"], None)
        .finish(Duration::from_secs(5))
        .expect("the client gives up after 1 s");
    drop(done_tx);
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert_eq!(
        done.stderr,
        format!("receive challenge from {addr}: no challenge within 1 s (--timeout)\n")
    );
    assert_eq!(done.stdout, "");
}

#[test]
fn huge_and_infinite_timeouts_are_usage_errors() {
    for huge in ["18446744073709551615", "1e19", "inf"] {
        let done = start(CLIENT, &["--timeout", huge], None)
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 2, "--timeout {huge}: {}", done.stderr);
        assert!(done.stderr.contains("at most"), "{}", done.stderr);
    }
}

#[test]
fn an_unknown_host_is_a_resolve_error_not_a_connect_error() {
    let done = start(
        CLIENT,
        &["--host", "no-such-host.invalid", "--key", "k"],
        None,
    )
    .finish(PATIENCE)
    .expect("client ends");
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert!(
        done.stderr.starts_with("resolve no-such-host.invalid: "),
        "{}",
        done.stderr
    );
}

#[test]
fn an_ipv6_address_is_written_with_brackets() {
    let refused = lesson_runner::refused_port().expect("hold a port");
    let port = refused.addr.port().to_string();
    let done = start(
        CLIENT,
        &["--host", "::1", "--port", &port, "--key", "k"],
        None,
    )
    .finish(PATIENCE)
    .expect("client ends");
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert!(
        done.stderr.starts_with(&format!("connect [::1]:{port}: ")),
        "{}",
        done.stderr
    );
}

#[test]
fn a_closed_stdout_stops_the_client_as_ctrl_c_would() {
    // As `hmac-auth-client | head -n 0`: its `challenge:` line meets a closed stdout. It
    // stops quietly with Ctrl-C's status (130): no panic (101), no backtrace.
    let (_server, addr) = server(&["--key", "secret"], None);
    let port = addr.port().to_string();
    let (code, stderr) = run_with_stdout_closed(CLIENT, &["--port", &port, "--key", "secret"])
        .expect("run the client");
    assert_eq!(code, Some(130), "stderr: {stderr}");
    assert_eq!(stderr, "");
}
