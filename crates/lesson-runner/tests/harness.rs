//! The harness tested on small shell programs, so a broken harness can't make every
//! lesson test pass or fail for the wrong reason.

use lesson_runner::{PATIENCE, Running, Stream};
use std::time::{Duration, Instant};

fn sh(script: &str) -> Running {
    Running::start("sh", &["-c", script]).expect("start sh")
}

#[test]
fn banner_address_is_returned() {
    let child = sh("echo 'listening on 127.0.0.1:4321'; cat");
    let addr = child.wait_for_banner(PATIENCE).expect("banner");
    assert_eq!(addr.to_string(), "127.0.0.1:4321");
}

#[test]
fn a_wrong_first_line_is_an_error_naming_it() {
    let child = sh("echo 'hello there'; echo oops >&2");
    let err = child.wait_for_banner(PATIENCE).expect_err("not a banner");
    let text = err.to_string();
    assert!(text.contains("hello there"), "{text}");
    assert!(text.contains("oops"), "{text}");
}

#[test]
fn a_silent_program_times_out_with_its_name() {
    let child = sh("exec cat");
    let started = Instant::now();
    let err = child
        .wait_for_banner(Duration::from_millis(300))
        .expect_err("no banner");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(
        err.to_string().contains("printed no `listening on ADDR`"),
        "{err}"
    );
}

#[test]
fn stdin_output_and_exit_code_are_collected() {
    let mut child = sh("read line; echo \"got $line\"; echo warn >&2; exit 3");
    child.write_stdin("abc\n").expect("write stdin");
    child.wait_for_stdout("got abc", PATIENCE).expect("echo");
    let done = child.finish(PATIENCE).expect("finish");
    assert_eq!(done.code(), 3);
    assert_eq!(done.stdout, "got abc\n");
    assert_eq!(done.stderr, "warn\n");
}

#[test]
fn finish_kills_a_program_that_does_not_end() {
    let child = sh("exec sleep 30");
    let err = child
        .finish(Duration::from_millis(300))
        .expect_err("still running");
    assert!(err.to_string().contains("still running"), "{err}");
}

#[test]
fn interrupt_delivers_sigint() {
    let child = sh("trap 'echo interrupted; exit 7' INT; echo ready; while :; do sleep 0.05; done");
    child.wait_for_stdout("ready", PATIENCE).expect("ready");
    child.interrupt().expect("SIGINT");
    let done = child.finish(PATIENCE).expect("finish");
    assert_eq!(done.code(), 7);
    assert!(done.stdout.contains("interrupted"));
}

#[test]
fn drop_kills_and_reaps_the_child() {
    let child = sh("exec sleep 30");
    let pid = child.pid();
    drop(child);
    // After the guard is gone the process no longer exists (it was reaped, so not even
    // a zombie is left).
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn lines_are_kept_in_order_with_their_stream() {
    let child = sh("echo one; sleep 0.1; echo two >&2; sleep 0.1; printf three");
    child.wait_for_stdout("three", PATIENCE).expect("three");
    // The last line has no newline; it is kept once the stream closes.
    let deadline = Instant::now() + PATIENCE;
    let lines = loop {
        let lines = child.lines_from(0);
        if lines.len() == 3 || Instant::now() > deadline {
            break lines;
        }
        child
            .wait_for_stdout("never", Duration::from_millis(20))
            .ok();
    };
    let seen: Vec<(Stream, &str)> = lines.iter().map(|l| (l.stream, l.text.as_str())).collect();
    assert_eq!(
        seen,
        [
            (Stream::Stdout, "one"),
            (Stream::Stderr, "two"),
            (Stream::Stdout, "three")
        ]
    );
}
