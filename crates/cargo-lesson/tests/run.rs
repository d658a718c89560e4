//! `lesson run` on fixture lessons whose programs are small shell scripts: the happy
//! path, and every fault the runner must handle — a server that never prints its banner,
//! a child that crashes, a demo that doesn't end, Ctrl-C, and `--wire` on a connection
//! that is reset. (The fixtures are sh scripts: Unix's. The tests that start none run
//! everywhere.)

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Fixture, alive_in_groups, pids, text};
use lesson_runner::{PATIENCE, Running};

const SERVER: &str = "echo 'listening on 127.0.0.1:9'; exec sleep 30";

#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn a_demo_runs_labelled_timestamped_and_summarised() {
    let f = Fixture::new("happy");
    f.script("srv", SERVER);
    f.script("cli", "read line; echo \"got $line for $1 port $2\"");
    f.demo(
        "happy",
        r#"servers = [{ bin = "srv", args = ["--port", "0"] }]
clients = [{ bin = "cli", args = ["{addr}", "{port}"], stdin = "hi\n", count = 2 }]
expect = ["got hi", { text = "got hi", side = "client 2" }]"#,
    );
    let out = f.run(&["run", "happy"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let body: Vec<&str> = stdout.lines().skip(2).collect();
    for line in &body[..body.len() - 3] {
        assert!(line.starts_with("[+") && line.contains("s] "), "{line:?}");
    }
    for want in [
        "] [server] $ srv --port 0",
        "] [server] listening on 127.0.0.1:9",
        "] [client 1] $ printf 'hi\\n' | cli 127.0.0.1:9 9",
        "] [client 1] got hi for 127.0.0.1:9 port 9",
        "] [client 2] got hi for 127.0.0.1:9 port 9",
        "] done in ",
        "\n  server    srv  stopped by Ctrl-C (SIGINT)\n  client 1  cli  exit 0\n  client 2  cli  exit 0\n",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
    assert!(
        stdout.starts_with("lesson 01 · happy · a fixture\ncourse: s\n"),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "no colour into a pipe");
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn colour_only_when_asked_for_or_on_a_terminal() {
    let f = Fixture::new("colour");
    f.script("srv", SERVER);
    f.script("cli", "echo hi");
    f.demo(
        "colour",
        r#"servers = [{ bin = "srv" }]
clients = [{ bin = "cli" }]"#,
    );
    let always = f.run(&["run", "colour", "--color", "always"]);
    assert!(
        text(&always.stdout).contains("\x1b["),
        "--color always colours"
    );
    // auto: stdout is a pipe here, so no colour, NO_COLOR or not.
    let auto = f
        .command(&["run", "colour", "--color", "auto"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    assert!(!text(&auto.stdout).contains('\x1b'));
    assert_eq!(auto.status.code(), Some(0));
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn a_server_that_never_prints_its_banner_fails_at_the_deadline() {
    let f = Fixture::new("nobanner");
    f.script("silent-server", "echo 'starting up' >&2; exec sleep 30");
    f.script("cli", "echo never started");
    f.demo(
        "nobanner",
        r#"servers = [{ bin = "silent-server" }]
clients = [{ bin = "cli" }]"#,
    );
    let started = Instant::now();
    let out = f.run(&["run", "nobanner", "--banner-timeout", "0.5", "-v"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        stdout.contains(
            "server (silent-server) printed no `listening on ADDR` line within 0.5s; stderr: starting up"
        ),
        "{stdout}"
    );
    assert!(
        !stdout.contains("never started"),
        "no client starts: {stdout}"
    );
    assert!(
        stdout.contains("  server  silent-server  stopped by Ctrl-C (SIGINT)"),
        "{stdout}"
    );
    assert_eq!(alive_in_groups(&pids(&stdout)), Vec::<String>::new());
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn a_first_line_that_is_not_a_banner_is_named() {
    let f = Fixture::new("badbanner");
    f.script("chatty", "echo 'hello there'; exec sleep 30");
    f.demo("badbanner", r#"servers = [{ bin = "chatty" }]"#);
    let out = f.run(&["run", "badbanner"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "server (chatty): the first line should be `listening on ADDR`, was \"hello there\""
        ),
        "{stdout}"
    );
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn a_crashing_client_is_reported_and_the_others_are_stopped() {
    let f = Fixture::new("crash");
    f.script("srv", SERVER);
    f.script("crasher", "echo working; echo 'boom: it broke' >&2; exit 3");
    f.script("slow", "exec sleep 30");
    f.demo(
        "crash",
        r#"servers = [{ bin = "srv" }]
clients = [{ bin = "crasher" }, { bin = "slow" }]"#,
    );
    let started = Instant::now();
    let out = f.run(&["run", "crash", "-v"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(started.elapsed() < Duration::from_secs(10));
    for want in [
        "[client 1 stderr] boom: it broke",
        "client 1 (crasher) failed: exit 3 (a client should end with exit 0); stderr: boom: it broke",
        "stopping the others",
        "failed after ",
        "  client 1  crasher  exit 3 (expected 0)",
        "  client 2  slow     stopped by Ctrl-C (SIGINT)",
        "  server    srv      stopped by Ctrl-C (SIGINT)",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
    let pids = pids(&stdout);
    assert_eq!(pids.len(), 3, "{stdout}");
    assert_eq!(alive_in_groups(&pids), Vec::<String>::new());
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn a_demo_that_does_not_end_is_stopped_at_its_timeout() {
    let f = Fixture::new("hang");
    f.script("srv", SERVER);
    f.script("stuck", "exec sleep 30");
    f.demo(
        "hang",
        r#"servers = [{ bin = "srv" }]
clients = [{ bin = "stuck" }]
timeout_secs = 1"#,
    );
    let out = f.run(&["run", "hang"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("the demo did not end within 1s; still running: client 1 (stuck)"),
        "{stdout}"
    );
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn a_line_the_demo_should_show_but_does_not_fails_the_run() {
    let f = Fixture::new("expect");
    f.script("srv", SERVER);
    f.script("cli", "echo 'illegal connection'");
    f.demo(
        "expect",
        r#"servers = [{ bin = "srv" }]
clients = [{ bin = "cli" }]
expect = ["legal connection", "illegal connection"]"#,
    );
    let out = f.run(&["run", "expect"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // One line can't count for two expectations.
    assert!(
        stdout.contains("the demo did not show: \"legal connection\""),
        "{stdout}"
    );
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn a_server_that_ignores_ctrl_c_is_killed_after_the_grace_period() {
    let f = Fixture::new("stubborn");
    f.script(
        "stubborn",
        "trap '' INT; echo 'listening on 127.0.0.1:9'; sleep 30",
    );
    f.script("cli", "echo done");
    f.demo(
        "stubborn",
        r#"servers = [{ bin = "stubborn" }]
clients = [{ bin = "cli" }]"#,
    );
    let out = f.run(&["run", "stubborn", "--grace", "0.3", "-v"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("stubborn  killed (SIGKILL): it did not stop after Ctrl-C (SIGINT)"),
        "{stdout}"
    );
    // The script's own child (`sleep`, in the same process group) is gone too.
    assert_eq!(alive_in_groups(&pids(&stdout)), Vec::<String>::new());
}

#[test]
#[cfg(unix)] // Ctrl-C to the runner: SIGINT
fn ctrl_c_stops_every_child_and_leaves_no_process_behind() {
    let f = Fixture::new("ctrlc");
    // A server that ignores SIGINT and has a child of its own, and two clients that
    // would run for half a minute.
    f.script(
        "srv",
        "trap '' INT; echo 'listening on 127.0.0.1:9'; sleep 30 & wait",
    );
    f.script("cli", "echo started; sleep 30; echo finished");
    f.demo(
        "ctrlc",
        r#"servers = [{ bin = "srv" }]
clients = [{ bin = "cli", count = 2 }]"#,
    );
    let command = f.command(&["run", "ctrlc", "-v", "--grace", "0.5"]);
    let runner = Running::spawn(command).expect("start the runner");
    runner
        .wait_for_stdout("[client 2] started", PATIENCE)
        .expect("both clients are running");
    let before = runner.stdout();
    let children = pids(&before);
    assert_eq!(children.len(), 3, "{before}");
    assert!(alive_in_groups(&children).len() >= 3);
    runner.interrupt().expect("Ctrl-C to the runner");
    let done = runner.finish(PATIENCE).expect("the runner ends");
    assert_eq!(done.code(), 130, "{}", done.stdout);
    for want in [
        "interrupted (Ctrl-C): stopping every program",
        "interrupted after ",
        "  client 1  cli  stopped by Ctrl-C (SIGINT)",
        "  server    srv  killed (SIGKILL): it did not stop after Ctrl-C (SIGINT)",
    ] {
        assert!(
            done.stdout.contains(want),
            "missing {want:?} in\n{}",
            done.stdout
        );
    }
    assert!(!done.stdout.contains("finished"));
    #[cfg(target_os = "linux")]
    for pid in &children {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "child {pid} is still there"
        );
    }
    assert_eq!(alive_in_groups(&children), Vec::<String>::new());
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn wire_passes_a_reset_from_the_server_on_to_the_client() {
    if !Path::new("/bin/bash").exists() {
        eprintln!("skipping: the fixture client needs bash (/dev/tcp)");
        return;
    }
    // The "server" is this test: its listener is what the fixture server announces.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let f = Fixture::new("reset");
    f.script("srv", "echo \"listening on $FIXTURE_ADDR\"; exec sleep 30");
    std::fs::write(
        f.path("bin/cli"),
        "#!/bin/bash\nexec 3<>/dev/tcp/$1/$2\nprintf hello >&3\ncat <&3\necho \"read ended with status $?\"\n",
    )
    .expect("write client");
    common::executable(&f.path("bin/cli"));
    f.demo(
        "reset",
        r#"servers = [{ bin = "srv" }]
clients = [{ bin = "cli", args = ["{host}", "{port}"] }]"#,
    );
    let mut command = f.command(&["run", "reset", "--wire"]);
    command.env("FIXTURE_ADDR", addr.to_string());
    let runner = Running::spawn(command).expect("start the runner");
    // The relay connects to us; read the client's bytes, then close abruptly (RST).
    let (mut conn, _) = listener.accept().expect("the relay connects");
    conn.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut got = [0u8; 5];
    conn.read_exact(&mut got).expect("the client's bytes");
    assert_eq!(&got, b"hello");
    socket2::SockRef::from(&conn)
        .set_linger(Some(Duration::ZERO))
        .expect("linger 0");
    drop(conn);
    let done = runner.finish(PATIENCE).expect("the runner ends");
    assert_eq!(done.code(), 0, "{}", done.stdout);
    for want in [
        "[wire] TCP relay on 127.0.0.1:",
        "[wire 1] client → server  5 bytes  b'hello'",
        "[wire 1] server reset the connection; resetting the client's side too",
        "[wire 1] closed",
        "[client 1] read ended with status 1",
    ] {
        assert!(
            done.stdout.contains(want),
            "missing {want:?} in\n{}",
            done.stdout
        );
    }
}

#[test]
fn split_and_merge_are_refused_for_udp() {
    let f = Fixture::new("udp");
    f.script("srv", SERVER);
    f.demo(
        "udp",
        r#"protocol = "udp"
servers = [{ bin = "srv" }]"#,
    );
    let out = f.run(&["run", "udp", "--split", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("this lesson speaks UDP"));
}

#[test]
fn a_broken_demo_is_refused_with_its_problems() {
    let f = Fixture::new("broken");
    f.demo("broken", r#"clients = [{ bin = "cli", stdn = "x" }]"#);
    let out = f.run(&["run", "broken"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("lesson broken has no demo to run"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "lessons/01-broken/Cargo.toml: line 12: unknown field `stdn`, expected one of `bin`,"
        ),
        "{stderr}"
    );
}

#[test]
fn pause_ms_types_each_line_after_the_first_that_much_later() {
    let f = Fixture::new("pause");
    // Each line read is printed as it comes; the end of input ends the client.
    f.script(
        "cli",
        "while read line; do echo \"got $line\"; done; echo end",
    );
    f.demo(
        "pause",
        r#"clients = [{ bin = "cli", stdin = "a\nb\nc\n", pause_ms = 300 }]"#,
    );
    let out = f.run(&["run", "pause"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "] [client 1] $ (printf 'a\\n'; sleep 0.3; printf 'b\\n'; sleep 0.3; printf 'c\\n') | cli\n"
        ),
        "{stdout}"
    );
    // The time of each line the client printed, from `[+1.234s] [client 1] got a`.
    let at = |want: &str| -> f64 {
        let line = stdout.lines().find(|l| l.ends_with(want)).expect(want);
        line[2..line.find("s]").expect("a time")]
            .parse()
            .expect("seconds")
    };
    let (a, b, c, end) = (at("got a"), at("got b"), at("got c"), at("] end"));
    // Typed 0.3 s apart, so c comes at least 0.6 s after a was typed; how long the shell
    // took to start and print a (a busy machine: tenths of a second) comes off that.
    assert!(a < b && b < c && c - a >= 0.35, "{stdout}");
    // stdin is closed after the last line, not before.
    assert!(end >= c, "{stdout}");
}

#[test]
fn a_program_that_is_not_built_is_named() {
    let f = Fixture::new("unbuilt");
    f.demo("unbuilt", r#"clients = [{ bin = "nowhere" }]"#);
    let out = f.run(&["run", "unbuilt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not built: nowhere"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn a_recorded_transcript_is_checked_against_a_fresh_run() {
    let f = Fixture::new("transcript");
    f.script("srv", SERVER);
    f.script("cli", "echo \"hello from $1\"; echo 'a warning' >&2");
    let dir = f.demo(
        "talk",
        r#"servers = [{ bin = "srv" }]
clients = [{ bin = "cli", args = ["{addr}"] }]"#,
    );
    let readme = dir.join("README.md");
    // Without the marker lines there is nowhere to record: say how to add them.
    std::fs::write(&readme, "# talk\n").expect("README");
    let out = f.run(&["run", "talk", "--record"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(
        "no transcript block for `cargo lesson run talk`; add these two lines where it belongs, then record again:\n<!-- transcript: cargo lesson run talk -->\n<!-- /transcript -->"
    ), "{}", text(&out.stderr));

    std::fs::write(
        &readme,
        "# talk\n\n<!-- transcript: cargo lesson run talk -->\n<!-- /transcript -->\n\nmore\n",
    )
    .expect("README");
    let out = f.run(&["run", "talk", "--record"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let recorded = std::fs::read_to_string(&readme).expect("README");
    assert!(recorded.starts_with(
        "# talk\n\n<!-- transcript: cargo lesson run talk -->\n```text\n$ cargo lesson run talk\nlesson 01 · talk · a fixture\n"
    ), "{recorded}");
    assert!(
        recorded.contains("] [client 1] hello from 127.0.0.1:9\n"),
        "{recorded}"
    );
    assert!(
        recorded.ends_with("  client 1  cli  exit 0\n```\n<!-- /transcript -->\n\nmore\n"),
        "{recorded}"
    );

    let out = f.run(&["transcripts"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("ok   lessons/01-talk/README.md: cargo lesson run talk"));

    // The program changes what it prints: the transcript no longer matches.
    f.script("cli", "echo \"goodbye from $1\"; echo 'a warning' >&2");
    let out = f.run(&["transcripts"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL lessons/01-talk/README.md: line 3: the transcript of `cargo lesson run talk` no longer matches a fresh run"), "{stdout}");
    assert!(
        stdout.contains("--- recorded [client 1]\n+++ fresh run [client 1]\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-hello from 127.0.0.1:PORT\n+goodbye from 127.0.0.1:PORT\n"),
        "{stdout}"
    );

    // Record again: it matches.
    let out = f.run(&["transcripts", "--update"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(f.run(&["transcripts"]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&readme)
            .expect("README")
            .matches("<!-- transcript:")
            .count(),
        1
    );
}

/// A demo may start an installed program (`program = "sh"`, found on PATH). Programs
/// start in the workspace (the folder that holds `lessons/`), or in a scratch folder the
/// run makes and removes afterwards.
#[test]
#[cfg_attr(not(unix), ignore = "the fixture programs are sh scripts")]
fn installed_programs_and_their_working_folders() {
    let f = Fixture::new("places");
    f.script("writer", "echo saved > made.txt; echo \"wrote in $(pwd)\"");
    f.script("reader", "cat made.txt; ls");
    let dir = f.demo(
        "places",
        r#"servers = [{ program = "sh", args = ["-c", "echo 'listening on 127.0.0.1:9'; cat lessons/01-places/data.txt; exec sleep 30"] }]
clients = [
  { bin = "writer", cwd = "scratch" },
  { bin = "reader", cwd = "scratch", after_previous = true },
]
expect = ["from the lesson's folder", { text = "saved", side = "client 2" }]"#,
    );
    std::fs::write(dir.join("data.txt"), "from the lesson's folder\n").expect("data.txt");
    let out = f.run(&["run", "places"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for want in [
        "] [server] $ sh -c 'echo '\\''listening on 127.0.0.1:9'\\''; cat lessons/01-places/data.txt; exec sleep 30'\n",
        "] [server] from the lesson's folder",
        "] [client 1] $ writer   (in a scratch folder)",
        "] [client 2] saved",
        "] [client 2] made.txt",
        "\n  server    sh      stopped by Ctrl-C (SIGINT)\n",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
    // The scratch folder held only what the clients made, and is gone after the run.
    let scratch = stdout
        .split("wrote in ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect("the scratch folder's path");
    assert!(!Path::new(scratch).exists(), "{scratch} was removed");

    // An installed program that is not there is named before anything starts.
    f.demo(
        "places",
        r#"servers = [{ program = "no-such-program-here", args = ["x"] }]"#,
    );
    let out = f.run(&["run", "places"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(
            "not installed: no-such-program-here (the demo starts it; it is not on PATH)"
        ),
        "{}",
        text(&out.stderr)
    );
}
