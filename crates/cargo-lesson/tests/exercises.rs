//! The exercises as a student meets them, on the real struct-framing lesson: start a copy,
//! check it (it fails, and points at the frame read), write the steps as the lesson does,
//! check again (it passes).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LESSON: &str = env!("CARGO_BIN_EXE_lesson");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The student's folder for this test, beside lessons/ as exercises/ is; removed on drop.
struct Copies(String);

impl Copies {
    fn new() -> Copies {
        let name = format!(".exercise-test-{}", std::process::id());
        let _ = fs::remove_dir_all(root().join(&name));
        Copies(name)
    }

    fn lesson(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(LESSON);
        cmd.args(args)
            .args(["--exercises-dir", &self.0, "--color", "never"]);
        // One target folder for every copy the tests and CI make.
        cmd.env("CARGO_TARGET_DIR", root().join("target/exercise-check"));
        cmd.output().expect("run lesson")
    }

    fn dir(&self) -> PathBuf {
        root().join(&self.0).join("10-struct-framing")
    }
}

impl Drop for Copies {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(root().join(&self.0));
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn start_check_solve_check() {
    let copies = Copies::new();
    let out = copies.lesson(&["start", "struct-framing"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let client = fs::read_to_string(copies.dir().join("src/bin/client.rs")).expect("copy");
    assert!(
        client.contains("let len: usize = todo!(\"exercise frame-header: "),
        "{client}"
    );
    assert!(copies.dir().join("tests/framing.rs").is_file());

    // Starting again never overwrites the student's work without asking (no terminal here,
    // so nobody can say yes).
    fs::write(copies.dir().join("src/mine.txt"), "my work").expect("write");
    let out = copies.lesson(&["start", "struct-framing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is there already, and your work in it stays"));
    assert!(copies.dir().join("src/mine.txt").is_file());

    let out = copies.lesson(&["hint", "struct-framing"]);
    assert!(text(&out.stdout).starts_with("exercise frame-header (src/bin/client.rs:"));

    // As generated, the checks fail, and the story points at the frame read.
    let out = copies.lesson(&["check", "struct-framing"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(stdout.contains("the first check that failed"), "{stdout}");
    // The story: what the test started through the harness, and how that ended.
    assert!(stdout.contains("  |   > started "), "{stdout}");
    assert!(stdout.contains("it points to exercise frame-"), "{stdout}");

    // Written as the lesson writes them, every check passes.
    for file in ["src/bin/client.rs", "src/bin/server.rs"] {
        let solved = root().join("lessons/10-struct-framing").join(file);
        fs::copy(solved, copies.dir().join(file)).expect("solve");
    }
    let out = copies.lesson(&["check", "struct-framing"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("checks passed"), "{stdout}");
    let out = copies.lesson(&["exercises"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("passed frame-header"), "{stdout}");
}

/// The marks are the student's copy's business: a diff between two versions leaves them out.
#[test]
fn a_diff_between_versions_leaves_the_marks_out() {
    let out = Command::new(LESSON)
        .args([
            "diff",
            "threaded-server",
            "threaded-server-v2",
            "--color",
            "never",
        ])
        .output()
        .expect("run lesson diff");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("+++ b/src/bin/server.rs"), "{stdout}");
    assert!(!stdout.contains("// exercise"), "{stdout}");
}
