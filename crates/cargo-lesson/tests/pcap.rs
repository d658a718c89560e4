//! `lesson run NAME --pcap FILE` on the TFTP and HTTP lessons, read back by a real reader:
//! tshark (Debian's package tshark) dissects the capture as TFTP and as HTTP, with no `-d`
//! options, because the server's port is written as the protocol's well-known port.
//!
//! Without tshark, or without the lessons' programs built next to this test (`cargo test
//! --workspace` builds them), these print a notice and pass; under CI=true they fail.

use std::path::Path;
use std::process::Command;

const LESSON: &str = env!("CARGO_BIN_EXE_lesson");

/// Run `package`'s demo with `--pcap`; what the run printed and what `tshark -r` shows.
/// `None` (skip) when tshark or one of `needs` (programs the demo starts) is missing.
fn capture(package: &str, needs: &[&str]) -> Option<(String, String)> {
    let tshark = lesson_runner::peer_program("tshark")?;
    let dir = Path::new(LESSON)
        .parent()
        .expect("the lesson command's folder");
    let exe = |bin: &&str| format!("{bin}{}", std::env::consts::EXE_SUFFIX);
    if let Some(missing) = needs.iter().find(|bin| !dir.join(exe(bin)).is_file()) {
        let notice = format!("{missing} is not built (build the workspace first)");
        assert!(!lesson_runner::in_ci(), "{notice}");
        eprintln!("skipping: {notice}");
        return None;
    }
    let file = std::env::temp_dir().join(format!("lesson-{}-{package}.pcap", std::process::id()));
    let run = Command::new(LESSON)
        .args(["--no-build", "--color", "never", "run", package, "--pcap"])
        .arg(&file)
        .output()
        .expect("run the lesson command");
    let printed = String::from_utf8_lossy(&run.stdout).into_owned();
    let errors = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{printed}{errors}");
    let read = Command::new(tshark)
        .arg("-r")
        .arg(&file)
        .output()
        .expect("run tshark");
    let _ = std::fs::remove_file(&file);
    let shown = String::from_utf8_lossy(&read.stdout).into_owned();
    let errors = String::from_utf8_lossy(&read.stderr);
    assert!(read.status.success(), "tshark failed: {errors}");
    let wrote = format!("packets to {}; the server's port shows as ", file.display());
    assert!(printed.contains(&wrote), "{printed}");
    Some((printed, shown))
}

/// The lines of tshark's summary that it dissected as `protocol`.
fn dissected<'a>(shown: &'a str, protocol: &str) -> Vec<&'a str> {
    let column = format!(" {protocol} ");
    shown.lines().filter(|l| l.contains(&column)).collect()
}

#[test]
fn tftp_download_is_dissected_as_tftp() {
    let Some((printed, shown)) = capture("tftp-client-v1", &["tftp-server", "tftp-client-v1"])
    else {
        return;
    };
    assert!(
        printed.contains("the server's port shows as 69, the port TFTP's dissector knows"),
        "{printed}"
    );
    // The relay gave the server's transfer ID a port of its own, and said so.
    assert!(
        printed.contains("[wire 1] the server answers from port "),
        "{printed}"
    );
    let tftp = dissected(&shown, "TFTP").join("\n");
    for want in [
        "Read Request, File: hello.txt",
        "Data Packet, Block: 1",
        "Acknowledgement, Block: 1",
        "Data Packet, Block: 3 (last)",
        "Acknowledgement, Block: 3",
    ] {
        assert!(tftp.contains(want), "no {want:?} in:\n{shown}");
    }
}

#[test]
fn http_get_is_dissected_as_http() {
    if lesson_runner::python3().is_none() {
        return; // the demo's web server is Python's http.server
    }
    let Some((printed, shown)) = capture("http-get-v1", &["http-get-v1"]) else {
        return;
    };
    assert!(
        printed.contains("the server's port shows as 80, the port HTTP's dissector knows"),
        "{printed}"
    );
    let http = dissected(&shown, "HTTP");
    assert!(
        http.iter().any(|l| l.contains("GET /hello.html HTTP/1.1")),
        "{shown}"
    );
    assert!(
        http.iter()
            .any(|l| l.contains("HTTP/1.0 200 OK") || l.contains("HTTP/1.1 200 OK")),
        "{shown}"
    );
    // Each connection opens with a handshake and ends with FINs, seen by the TCP dissector.
    assert!(shown.contains(" 80 [SYN]"), "{shown}");
    assert!(shown.contains("[FIN, ACK]"), "{shown}");
}
