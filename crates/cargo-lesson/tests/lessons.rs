//! `lesson run` on the real lessons: every written lesson's demo runs (plain and under
//! `--wire`) and shows what it teaches; framing survives a relay that re-cuts the stream
//! into 1-byte pieces; and every README transcript still matches a fresh run.
//!
//! The lessons' programs must be built next to this test (`cargo test --workspace` builds
//! them all first). A lesson whose programs are missing is skipped with a notice, except
//! under CI=true, where that is a failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LESSON: &str = env!("CARGO_BIN_EXE_lesson");

fn lessons_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lessons")
}

fn bin_dir() -> PathBuf {
    Path::new(LESSON).parent().expect("bin dir").to_path_buf()
}

fn lesson(args: &[&str]) -> Output {
    Command::new(LESSON)
        .args(["--no-build", "--color", "never"])
        .args(args)
        .output()
        .expect("run the lesson command")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The written lessons: (folder, package).
fn written() -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = fs::read_dir(lessons_dir())
        .expect("lessons/")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.len() > 3 && f.as_bytes()[2] == b'-')
        .map(|f| (f.clone(), f[3..].to_string()))
        .collect();
    found.sort();
    found
}

/// Is this lesson written, and are the programs its demo runs built? If not: a notice
/// and `false` (under CI: a failure).
fn runnable(package: &str) -> bool {
    if !written().iter().any(|(_, p)| p == package) {
        eprintln!("skipping: lesson {package} is not written yet");
        return false;
    }
    let manifest = written()
        .into_iter()
        .find(|(_, p)| p == package)
        .map(|(folder, _)| lessons_dir().join(folder).join("Cargo.toml"))
        .expect("folder");
    let text = fs::read_to_string(manifest).unwrap_or_default();
    let missing: Vec<String> = text
        .split("bin = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|bin| {
            !bin_dir()
                .join(format!("{bin}{}", std::env::consts::EXE_SUFFIX))
                .is_file()
        })
        .map(str::to_string)
        .collect();
    // Installed programs a demo starts (`program = "python3"`) must be on PATH.
    let paths = std::env::var_os("PATH").unwrap_or_default();
    let not_installed: Vec<String> = text
        .split("program = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| {
            let exe = format!("{name}{}", std::env::consts::EXE_SUFFIX);
            !std::env::split_paths(&paths).any(|dir| dir.join(&exe).is_file())
        })
        .map(str::to_string)
        .collect();
    if missing.is_empty() && not_installed.is_empty() {
        return true;
    }
    let notice = if missing.is_empty() {
        format!(
            "lesson {package}: not installed: {} (its demo starts it)",
            not_installed.join(", ")
        )
    } else {
        format!(
            "lesson {package}: not built: {} (build the workspace first, e.g. cargo test --workspace)",
            missing.join(", ")
        )
    };
    if lesson_runner::in_ci() {
        panic!("{notice}");
    }
    eprintln!("skipping: {notice}");
    false
}

#[test]
fn every_written_lesson_runs_its_demo_plain_and_through_the_wire() {
    let mut failures = Vec::new();
    for (folder, package) in written() {
        if !runnable(&package) {
            continue;
        }
        for wire in [false, true] {
            let mut args = vec!["run", package.as_str()];
            if wire {
                args.push("--wire");
            }
            let out = lesson(&args);
            if out.status.code() != Some(0) {
                failures.push(format!(
                    "--- {folder}: lesson {}\n{}",
                    args.join(" "),
                    text(&out)
                ));
            } else if wire && !text(&out).contains("[wire 1]") {
                failures.push(format!("--- {folder}: no [wire 1] lines:\n{}", text(&out)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The relay may re-cut or merge a TCP stream without breaking a demo: each program must
/// cope with whatever pieces arrive, and every program still ends as it should.
#[test]
fn every_tcp_lesson_survives_split_and_merge() {
    let mut failures = Vec::new();
    for (folder, package) in written() {
        let manifest =
            fs::read_to_string(lessons_dir().join(&folder).join("Cargo.toml")).unwrap_or_default();
        if manifest.contains("protocol = \"udp\"") || !runnable(&package) {
            continue;
        }
        for mode in [["--split", "1"].as_slice(), ["--merge"].as_slice()] {
            let mut args = vec!["run", package.as_str()];
            args.extend(mode);
            let out = lesson(&args);
            if out.status.code() != Some(0) {
                failures.push(format!(
                    "--- {folder}: lesson {}\n{}",
                    args.join(" "),
                    text(&out)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// tcp-server-v2 serves one client at a time: the second is served only after the first
/// has left.
#[test]
fn tcp_server_v2_serves_the_second_client_after_the_first_leaves() {
    if !runnable("tcp-server-v2") {
        return;
    }
    let out = lesson(&["run", "tcp-server-v2"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let events: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("[server] client "))
        .map(|l| {
            if l.ends_with("disconnected") {
                "left"
            } else {
                "came"
            }
        })
        .collect();
    assert_eq!(events, ["came", "left", "came", "left"], "{all}");
}

/// threaded-server serves three clients at once: about 3 s with the default --work-ms
/// 1000, not the 9 s one after another would take; the runner prints the elapsed time.
#[test]
fn threaded_server_serves_three_clients_in_about_three_seconds() {
    if !runnable("threaded-server") {
        return;
    }
    let out = lesson(&["run", "threaded-server"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let done = all
        .lines()
        .find_map(|l| l.split("] done in ").nth(1))
        .and_then(|t| t.strip_suffix('s'))
        .and_then(|t| t.parse::<f64>().ok())
        .expect("the elapsed time");
    assert!((2.5..6.0).contains(&done), "done in {done}s:\n{all}");
    for client in 1..=3 {
        assert!(
            all.contains(&format!("[client {client}] Hello, Jack!")),
            "{all}"
        );
    }
}

#[test]
fn sticky_packet_shows_he_and_llo_world() {
    if !runnable("sticky-packet") {
        return;
    }
    let out = lesson(&["run", "sticky-packet"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let client: Vec<&str> = all
        .lines()
        .filter_map(|l| l.split("] [client 1] ").nth(1))
        .filter(|l| !l.starts_with('$'))
        .collect();
    assert_eq!(client, ["2 b'he'", "b'llo,world'"], "{all}");
}

/// The relay re-cuts the stream into 1-byte writes sent apart: the struct-framing client
/// still prints every message whole, because it reads exactly the length it was told.
#[test]
fn struct_framing_messages_arrive_whole_under_split_1() {
    if !runnable("struct-framing") {
        return;
    }
    let out = lesson(&["run", "struct-framing", "--wire", "--split", "1"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("(sent as "),
        "the relay re-cut the stream:\n{all}"
    );
    assert!(all.contains("pieces of 1 byte)"), "{all}");
    let client: Vec<&str> = all
        .lines()
        .filter_map(|l| l.split("] [client 1] ").nth(1))
        .filter(|l| !l.starts_with('$'))
        .collect();
    assert_eq!(client, ["hello", "world", "你好"], "{all}");
    assert!(!all.contains("no longer shows"), "{all}");
}

/// Under --split 1 the sticky-packet client is handed the 11 bytes one at a time: the
/// pieces the server wrote (`hello,` `world`) are gone on the wire. The client waits for
/// all 11 before it reads, so its reads still show `he` and `llo,world`: what a read
/// returns depends on what has arrived, not on how it was sent.
#[test]
fn sticky_packet_gets_other_pieces_under_split_1() {
    if !runnable("sticky-packet") {
        return;
    }
    let out = lesson(&["run", "sticky-packet", "--wire", "--split", "1"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    // Every server → client piece the relay read went on as 1-byte writes.
    let mut total = 0;
    for line in all.lines().filter(|l| l.contains("server → client  ")) {
        let n: usize = line
            .split("server → client  ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("byte count");
        total += n;
        if n > 1 {
            assert!(
                line.ends_with(&format!("(sent as {n} pieces of 1 byte)")),
                "{line}"
            );
        }
    }
    assert_eq!(total, 11, "{all}");
    // The client's start line, then its two reads.
    let client: Vec<&str> = all
        .lines()
        .filter_map(|l| l.split("] [client 1] ").nth(1))
        .collect();
    assert_eq!(client.len(), 3, "{all}");
    assert!(!client[0].contains("--no-wait"), "{all}");
    assert_eq!(client[1..], ["2 b'he'", "b'llo,world'"], "{all}");
}

/// --merge forwards what the server wrote close together as one write.
#[test]
fn sticky_packet_under_merge_arrives_in_one_write() {
    if !runnable("sticky-packet") {
        return;
    }
    let out = lesson(&["run", "sticky-packet", "--wire", "--merge"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("server → client  11 bytes forwarded in one write  b'hello,world'"),
        "{all}"
    );
}

/// Every transcript in a lesson README matches a fresh run (ports and timings aside,
/// compared side by side). They were recorded on Unix, where a server is stopped with
/// Ctrl-C; Windows has none to send, and says so.
#[test]
#[cfg_attr(windows, ignore = "the transcripts show Unix's Ctrl-C")]
fn readme_transcripts_match_a_fresh_run() {
    let mut names = Vec::new();
    for (folder, package) in written() {
        let readme =
            fs::read_to_string(lessons_dir().join(&folder).join("README.md")).unwrap_or_default();
        if readme.contains("<!-- transcript:") && runnable(&package) {
            names.push(package);
        }
    }
    if names.is_empty() {
        eprintln!("skipping: no README has a transcript block");
        return;
    }
    let mut args = vec!["transcripts"];
    args.extend(names.iter().map(String::as_str));
    let out = lesson(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}
