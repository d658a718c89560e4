//! scripts/lossy-lab end to end: two network namespaces, a link that loses 10% of the
//! packets, tcp-vs-udp across it. UDP must lose some messages, TCP must deliver every one
//! in order, and no namespace may be left behind, also when the lab is interrupted.
//!
//! The lab needs root, iproute2 and nftables. Without them these tests print a notice and
//! return; under CI=true (CI runs as root and installs both) they fail instead. Network
//! namespaces are Linux's: elsewhere there is nothing to test.
#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use lesson_runner::{PATIENCE, Running, in_ci};

const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/lossy-lab");

/// How long a whole lab run may take: TCP over a lossy link waits for its retransmission
/// timers, which double after each loss of the same segment.
const LAB_PATIENCE: Duration = Duration::from_secs(180);

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// Why the lab cannot run here, if it cannot.
fn lab_missing() -> Option<String> {
    if !is_root() {
        return Some(String::from("it needs root"));
    }
    for (command, package) in [("ip", "iproute2"), ("nft", "nftables")] {
        if on_path(command).is_none() {
            return Some(format!("{command} is missing (Debian package {package})"));
        }
    }
    // Root is not always enough (a container without CAP_SYS_ADMIN): try one namespace.
    // (A name of its own for each probe: tests run in parallel.)
    static PROBES: AtomicUsize = AtomicUsize::new(0);
    let n = PROBES.fetch_add(1, Ordering::Relaxed);
    let probe = format!("lossy-probe-{}-{n}", std::process::id());
    let added = Command::new("ip").args(["netns", "add", &probe]).output();
    match added {
        Ok(out) if out.status.success() => {
            let _ = Command::new("ip")
                .args(["netns", "delete", &probe])
                .status();
            None
        }
        Ok(out) => Some(format!(
            "`ip netns add` fails here: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run ip: {e}")),
    }
}

/// Can the lab run? Outside CI a "no" prints a notice; under CI it fails the test.
fn lab_can_run() -> bool {
    let Some(why) = lab_missing() else {
        return true;
    };
    if in_ci() {
        panic!("the lossy lab cannot run here ({why}), and under CI=true it may not skip");
    }
    eprintln!("skipping the lossy lab: {why}");
    false
}

/// The namespaces of the lab run by process `pid` that exist now (`ip netns list`).
fn lab_namespaces(pid: u32) -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    assert!(out.status.success(), "ip netns list: {out:?}");
    let prefix = format!("lossy-{pid}-");
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.starts_with(&prefix))
        .map(String::from)
        .collect();
    names.sort();
    names
}

fn start_lab(args: &[&str]) -> Running {
    let mut all = vec!["--bin", BIN];
    all.extend_from_slice(args);
    Running::start(LAB, &all).expect("start scripts/lossy-lab")
}

#[test]
fn across_the_lossy_link_udp_loses_and_tcp_delivers_everything_in_order() {
    if !lab_can_run() {
        return;
    }
    // 1000 messages at 10% loss: the chance that UDP loses none is 0.9^1000, about 1e-46.
    let lab = start_lab(&["--loss", "10", "--count", "1000"]);
    let pid = lab.pid();
    let done = lab.finish(LAB_PATIENCE).expect("the lab ends");
    assert_eq!(done.code(), 0, "{}\n{}", done.stdout, done.stderr);
    let out = &done.stdout;

    let [arrived, count, duplicated, _, missing, garbage] = figures(out, "UDP");
    assert_eq!(count, 1000, "{out}");
    assert!(arrived < 1000, "UDP lost nothing at 10% loss:\n{out}");
    assert!(arrived > 700, "UDP lost far more than 10%:\n{out}");
    assert_eq!(
        (missing, duplicated, garbage),
        (1000 - arrived, 0, 0),
        "{out}"
    );
    assert_eq!(
        figures(out, "TCP"),
        [1000, 1000, 0, 0, 0, 0],
        "TCP must deliver every message once, in order:\n{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("UDP: ") && l.contains(" · TCP: 1000/1000 arrived, in order, ")),
        "no comparison line:\n{out}"
    );

    assert!(
        out.contains(&format!(
            "lossy-lab: two network namespaces, lossy-{pid}-send"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "lossy-lab: removed the namespaces lossy-{pid}-send lossy-{pid}-recv\n"
        )),
        "{out}"
    );
    assert_eq!(lab_namespaces(pid), Vec::<String>::new(), "left behind");
}

#[test]
fn an_interrupted_lab_leaves_no_namespace_and_no_program_behind() {
    if !lab_can_run() {
        return;
    }
    // Enough messages that the run is surely still going when Ctrl-C comes.
    let lab = start_lab(&["--count", "100000"]);
    let pid = lab.pid();
    lab.wait_for_stdout("sending 100000 messages", PATIENCE * 3)
        .expect("the sender started");
    assert_eq!(
        lab_namespaces(pid),
        [format!("lossy-{pid}-recv"), format!("lossy-{pid}-send")],
        "the lab's namespaces exist while it runs"
    );

    lab.interrupt().expect("Ctrl-C");
    // The output pipes close only when the script AND every program it started (the
    // sender writes to the same pipe) have ended.
    assert!(
        lab.wait_output_closed(PATIENCE * 3),
        "something the lab started is still running:\n{}",
        lab.stdout()
    );
    let done = lab.finish(PATIENCE).expect("the lab ends");
    assert_eq!(done.code(), 130, "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stdout
            .contains("lossy-lab: interrupted: cleaning up\n")
            && done.stdout.contains(&format!(
                "lossy-lab: removed the namespaces lossy-{pid}-send lossy-{pid}-recv\n"
            )),
        "{}",
        done.stdout
    );
    assert_eq!(lab_namespaces(pid), Vec::<String>::new(), "left behind");
}

#[test]
fn without_root_the_lab_says_what_it_needs_and_exits_2() {
    let mut command;
    let mut copy = None;
    if is_root() {
        // Be somebody else: `nobody`, through setpriv (util-linux). It runs a copy of the
        // script in a folder anyone can read, since the repository may not be.
        let Some(setpriv) = on_path("setpriv") else {
            assert!(!in_ci(), "setpriv (util-linux) is missing under CI=true");
            eprintln!("skipping: setpriv is not installed");
            return;
        };
        let dir = std::env::temp_dir().join(format!("lossy-lab-test-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod dir");
        let script = dir.join("lossy-lab");
        fs::copy(LAB, &script).expect("copy the script");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
        command = Command::new(setpriv);
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        command.arg(&script).current_dir("/");
        copy = Some(dir);
    } else {
        command = Command::new(LAB);
    }
    command.args(["--count", "5"]);
    let done = Running::spawn(command)
        .expect("start the lab")
        .finish(PATIENCE)
        .expect("the lab ends");
    if let Some(dir) = copy {
        let _ = fs::remove_dir_all(dir);
    }
    assert_eq!(done.code(), 2, "{done:?}");
    assert_eq!(done.stdout, "");
    assert!(
        done.stderr.starts_with(
            "lossy-lab: needs root to create network namespaces, a veth pair and firewall rules"
        ) && done.stderr.contains("sudo "),
        "{}",
        done.stderr
    );
}

#[test]
fn without_ip_or_nft_the_lab_names_the_debian_package_and_exits_2() {
    if !is_root() {
        // The root check comes first; it has its own test.
        assert!(!in_ci(), "CI runs as root");
        eprintln!("skipping: not root, so the lab stops before looking for ip and nft");
        return;
    }
    let bash = on_path("bash").expect("bash");
    let ip = on_path("ip");
    let dir = std::env::temp_dir().join(format!("lossy-lab-path-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let run = |path: &PathBuf| {
        let mut command = Command::new(&bash);
        command.arg(LAB).env("PATH", path);
        Running::spawn(command)
            .expect("start the lab")
            .finish(PATIENCE)
            .expect("the lab ends")
    };
    // Nothing on PATH at all.
    let done = run(&dir);
    assert_eq!(done.code(), 2, "{done:?}");
    assert_eq!(
        done.stderr,
        "lossy-lab: needs the ip command: install the Debian package iproute2 (apt-get install iproute2)\n"
    );
    // ip, but no nft.
    if let Some(ip) = ip {
        std::os::unix::fs::symlink(ip, dir.join("ip")).expect("symlink ip");
        let done = run(&dir);
        assert_eq!(done.code(), 2, "{done:?}");
        assert_eq!(
            done.stderr,
            "lossy-lab: needs the nft command: install the Debian package nftables (apt-get install nftables)\n"
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn the_lab_explains_itself_and_refuses_bad_options() {
    let done = Running::start(LAB, &["--help"])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert_eq!(done.code(), 0);
    assert!(
        done.stdout
            .starts_with("usage: scripts/lossy-lab [--loss PCT]"),
        "{}",
        done.stdout
    );
    let cases: [&[&str]; 6] = [
        &["--loss", "101"],
        &["--loss", "ten"],
        &["--loss"],
        &["--count", "0"],
        &["--count", "-5"],
        &["--fast"],
    ];
    for args in cases {
        let done = Running::start(LAB, args)
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 2, "{args:?}: {done:?}");
        assert!(done.stderr.starts_with("lossy-lab: "), "{args:?}: {done:?}");
    }
}
