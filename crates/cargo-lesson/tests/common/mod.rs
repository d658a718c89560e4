//! Test fixtures for the `lesson` command: a throw-away lessons folder whose "programs"
//! are tiny shell scripts, so the runner's fault handling is tested without depending on
//! any real lesson. (Those are Unix's: a test that runs one is ignored elsewhere.)

#![allow(dead_code)] // each test file uses a different part

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const LESSON: &str = env!("CARGO_BIN_EXE_lesson");

/// A temporary workspace-like folder: `lessons/`, `bin/` and a README.md. Removed on drop.
pub struct Fixture {
    pub root: PathBuf,
}

impl Fixture {
    pub fn new(name: &str) -> Fixture {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "lesson-runner-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("lessons")).expect("create fixture lessons/");
        fs::create_dir_all(root.join("bin")).expect("create fixture bin/");
        Fixture { root }
    }

    /// A lesson folder `lessons/FOLDER` whose Cargo.toml has this package name and this
    /// text after `[package]` (metadata tables, usually).
    pub fn lesson(&self, folder: &str, package: &str, rest: &str) -> PathBuf {
        let dir = self.root.join("lessons").join(folder);
        fs::create_dir_all(dir.join("src")).expect("create lesson folder");
        fs::write(dir.join("src/main.rs"), "fn main() {}\n").expect("write main.rs");
        fs::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"{package}\"\nversion = \"0.1.0\"\n\n{rest}"),
        )
        .expect("write Cargo.toml");
        dir
    }

    /// A lesson with complete metadata and this demo table.
    pub fn demo(&self, package: &str, demo: &str) -> PathBuf {
        self.lesson(
            &format!("01-{package}"),
            package,
            &format!(
                "[package.metadata.lesson]\nnumber = 1\ntitle = \"a fixture\"\nsection = \"s\"\nsummary = \"t\"\n\n[package.metadata.lesson.demo]\n{demo}\n"
            ),
        )
    }

    /// An executable shell script `bin/NAME`.
    pub fn script(&self, name: &str, body: &str) {
        let path = self.root.join("bin").join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        executable(&path);
    }

    /// The `lesson` command pointed at this fixture, colour off.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(LESSON);
        command
            .arg("--lessons-dir")
            .arg(self.root.join("lessons"))
            .arg("--bin-dir")
            .arg(self.root.join("bin"))
            .args(["--color", "never"])
            .args(args)
            .env_remove("NO_COLOR");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run the lesson command")
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// `chmod 755 PATH` (Unix; elsewhere a script can't be run as a program anyway).
pub fn executable(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod 755");
    }
    #[cfg(not(unix))]
    let _ = path;
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The process ids the runner printed in verbose mode (`(pid 1234)`).
pub fn pids(output: &str) -> Vec<i32> {
    output
        .split("(pid ")
        .skip(1)
        .filter_map(|rest| rest.split(')').next()?.parse().ok())
        .collect()
}

/// Processes whose process group is one of `groups` (each child of the runner leads its
/// own group, so this finds the children and anything they started). Linux: it reads
/// /proc; elsewhere there is nothing to look in, and nothing is found.
#[cfg(not(target_os = "linux"))]
pub fn alive_in_groups(_groups: &[i32]) -> Vec<String> {
    Vec::new()
}

#[cfg(target_os = "linux")]
pub fn alive_in_groups(groups: &[i32]) -> Vec<String> {
    let mut alive = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return alive;
    };
    for entry in entries.filter_map(Result::ok) {
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...; comm may hold spaces, so split after the ')'.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        let (Some(state), Some(pgrp)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        if pgrp.parse::<i32>().is_ok_and(|pgrp| groups.contains(&pgrp)) {
            alive.push(format!(
                "{} state {state}: {}",
                entry.path().display(),
                stat.trim()
            ));
        }
    }
    alive
}
