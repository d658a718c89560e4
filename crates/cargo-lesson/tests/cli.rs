//! `lesson list`, name lookup, `check`, `readme-table` and `diff`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{Fixture, LESSON, text};

/// The `lesson` command on this workspace's own lessons.
fn workspace(args: &[&str]) -> std::process::Output {
    Command::new(LESSON)
        .args(["--color", "never"])
        .args(args)
        .output()
        .expect("run the lesson command")
}

fn lessons_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../lessons"))
}

#[test]
fn list_shows_every_lesson_in_order() {
    let out = workspace(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            l.len() > 4 && l.as_bytes()[..2].iter().all(u8::is_ascii_digit) && &l[2..4] == "  "
        })
        .collect();
    // One row per folder of lessons/, in the folders' (the numbers') order.
    let mut folders: Vec<String> = fs::read_dir(lessons_dir())
        .expect("lessons/")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let numbers: Vec<&str> = rows.iter().map(|r| &r[..2]).collect();
    let want: Vec<&str> = folders.iter().map(|f| &f[..2]).collect();
    assert_eq!(numbers, want, "{stdout}");
    assert_eq!(rows.len(), 21, "{stdout}");
    assert!(rows[0].starts_with("01  tcp-client-v1  "), "{}", rows[0]);
    assert!(rows[0].ends_with("  tcp-client-v1"), "{}", rows[0]);
    assert!(
        rows[5].ends_with("  tcp-chat-server, tcp-chat-client"),
        "{}",
        rows[5]
    );
    assert!(stdout.contains(
        "    网络编程(2) 2.2 TCP客户端 · 原始版本 — socket → connect → send → close; prompts for ip, port, message"
    ));
    assert!(stdout.ends_with("\n21 lessons\n"), "{stdout}");
}

#[test]
fn an_unknown_lesson_is_a_usage_error_that_names_close_ones() {
    let out = workspace(&["run", "tcp-clinet-v1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("lesson: no lesson named \"tcp-clinet-v1\"; did you mean tcp-client-v1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`cargo lesson list` shows them all"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // A fragment of a name finds the lessons that contain it.
    let out = workspace(&["run", "sticky"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no lesson named \"sticky\"; did you mean sticky-packet?"),
        "{}",
        text(&out.stderr)
    );

    let out = workspace(&["diff", "tcp-client-v1", "nonsense-lesson-name"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no lesson named \"nonsense-lesson-name\""));
}

#[test]
fn bad_options_are_usage_errors() {
    let out = workspace(&["run", "tcp-client-v1", "--split", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = workspace(&["run", "tcp-client-v1", "--split", "2", "--merge"]);
    assert_eq!(out.status.code(), Some(2));
    let out = workspace(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Every lesson's metadata is complete and consistent: numbers, package names, demos,
/// transcripts.
#[test]
fn the_lessons_metadata_is_complete_and_consistent() {
    let out = workspace(&["check", "--no-readme"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(
        stdout,
        "check: 21 lessons ok (metadata complete and consistent)\n"
    );
}

#[test]
fn check_lists_every_problem_with_its_place() {
    let f = Fixture::new("check");
    // Lesson 01 with problems in its metadata: a number that is not the folder's, no
    // summary, placeholders that have no value, a program that is both a bin and an
    // installed one, one that is neither; a transcript of another lesson.
    let dir = f.lesson(
        "01-tcp-client-v1",
        "tcp-client-v1",
        r#"[package.metadata.lesson]
number = 2
title = "x"
section = "s"

[package.metadata.lesson.demo]
servers = [{ bin = "tcp-server-v1", args = ["{port}"] }, { bin = "s", program = "python3" }]
clients = [{ args = ["{port2}", "{hots}"] }]
"#,
    );
    fs::write(
        dir.join("README.md"),
        "<!-- transcript: cargo lesson run other -->\n<!-- /transcript -->\n",
    )
    .expect("README");
    // A folder whose package doesn't match, with no metadata.
    f.lesson("02-tcp-server-v1", "tcp-server", "");
    // A misspelt key, and a demo that runs a program no lesson builds; its number is
    // taken by another folder too.
    f.lesson(
        "03-tcp-client-v2",
        "tcp-client-v2",
        "[package.metadata.lesson]\nnumber = 3\ntitle = \"t\"\nsection = \"s\"\nsummary = \"u\"\nsumary = \"u\"\n",
    );
    f.lesson(
        "03-tcp-client-v3",
        "tcp-client-v3",
        "[package.metadata.lesson]\nnumber = 3\ntitle = \"t\"\nsection = \"s\"\nsummary = \"u\"\n\n[package.metadata.lesson.demo]\nclients = [{ bin = \"tcp-client-v9\" }]\n",
    );
    fs::write(f.path("README.md"), "# fixture\n").expect("README");
    let out = f.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    for want in [
        "check: lessons/01-tcp-client-v1/Cargo.toml: [package.metadata.lesson] has no summary\n",
        "check: lessons/01-tcp-client-v1/Cargo.toml: demo.servers[0]: unknown placeholder {port} (no server is started before this program;",
        "check: lessons/01-tcp-client-v1/Cargo.toml: demo.servers[1]: give bin (a program of the workspace) or program (one installed on PATH), not both\n",
        "check: lessons/01-tcp-client-v1/Cargo.toml: demo.clients[0]: bin is missing (a program of the workspace; or program = \"NAME\" for one installed on PATH)\n",
        "check: lessons/01-tcp-client-v1/Cargo.toml: demo.clients[0]: unknown placeholder {hots} (2 server(s) are started before this program;",
        "check: lessons/01-tcp-client-v1: metadata number is 2, the folder says 1\n",
        "check: lessons/01-tcp-client-v1/README.md: line 1: the transcript runs \"other\", not this lesson (tcp-client-v1)\n",
        "check: lessons/01-tcp-client-v1/README.md: line 1: the transcript is not recorded yet",
        "check: lessons/02-tcp-server-v1/Cargo.toml: no [package.metadata.lesson]",
        "check: lessons/02-tcp-server-v1: the package is named \"tcp-server\"; it should be the folder name without its number, \"tcp-server-v1\"\n",
        "check: lessons/03-tcp-client-v2/Cargo.toml: line 10: unknown field `sumary`, expected one of `number`, `title`, `section`, `summary`, `demo`\n",
        "check: lessons/03-tcp-client-v3/Cargo.toml: the demo runs \"tcp-client-v9\", which no lesson builds\n",
        "check: lessons: number 03 is used by 03-tcp-client-v2 and 03-tcp-client-v3\n",
        "README.md: no lesson table between `<!-- lessons:begin -->` and `<!-- lessons:end -->`",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
    assert!(!stdout.contains("{port2}"), "{stdout}");
    assert!(stdout.ends_with(" problem(s)\n"), "{stdout}");
}

#[test]
fn the_binaries_are_the_bin_entries_then_what_cargo_finds() {
    let f = Fixture::new("bins");
    let dir = f.lesson(
        "09-sticky-packet",
        "sticky-packet",
        "[[bin]]\nname = \"sticky-packet-server\"\npath = \"src/bin/server.rs\"\n\n",
    );
    fs::create_dir_all(dir.join("src/bin/tool")).expect("src/bin/tool");
    for file in [
        "src/bin/server.rs",
        "src/bin/extra.rs",
        "src/bin/tool/main.rs",
        "src/bin/notes.txt",
    ] {
        fs::write(dir.join(file), "fn main() {}\n").expect(file);
    }
    let out = f.run(&["list"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("09  sticky-packet  sticky-packet-server, sticky-packet, extra, tool\n"),
        "{stdout}"
    );
}

#[test]
fn the_readme_table_is_printed_written_and_checked() {
    let f = Fixture::new("table");
    f.lesson(
        "01-tcp-client-v1",
        "tcp-client-v1",
        r#"[package.metadata.lesson]
number = 1
title = "TCP client, original version"
section = "网络编程(2) 2.2 TCP客户端 · 原始版本"
summary = "socket → connect → send → close; prompts for ip, port, message"

[package.metadata.lesson.demo]
clients = [{ bin = "tcp-client-v1", stdin = "a|b\n" }]
"#,
    );
    let table = "<!-- lessons:begin -->\n\
        | # | lesson | programs | course section | what it teaches |\n\
        |---|---|---|---|---|\n\
        | 01 | [tcp-client-v1](lessons/01-tcp-client-v1) | `tcp-client-v1` | 网络编程(2) 2.2 TCP客户端 · 原始版本 | socket → connect → send → close; prompts for ip, port, message |\n\
        <!-- lessons:end -->\n";
    let out = f.run(&["readme-table"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), table);

    // A README with a stale table: check says so, --write fixes it, check is happy.
    // (The interop table is right already: the lesson has no tests/python.rs.)
    let interop = "<!-- interop:begin -->\n\
        | # | lesson | run against the course's Python (tests in `tests/python.rs`) |\n\
        |---|---|---|\n\
        | 01 | [tcp-client-v1](lessons/01-tcp-client-v1) | not yet: no `tests/python.rs` |\n\
        <!-- interop:end -->\n";
    fs::write(
        f.path("README.md"),
        format!("# Title\n\n<!-- lessons:begin -->\n| old |\n<!-- lessons:end -->\n\nAfter.\n\n{interop}"),
    )
    .expect("README");
    let out = f.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout)
            .contains("README.md: the lesson table does not match the lessons' metadata")
    );
    let out = f.run(&["readme-table", "--write"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        fs::read_to_string(f.path("README.md")).expect("README"),
        format!("# Title\n\n{table}\nAfter.\n\n{interop}")
    );
    let out = f.run(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn the_interop_table_comes_from_test_names_and_is_written_and_checked() {
    let f = Fixture::new("interop");
    // Lesson 01: one direction, seen from the client's side, and names that prove nothing.
    let one = f.lesson("01-tcp-client-v1", "tcp-client-v1", "");
    fs::create_dir_all(one.join("tests")).expect("tests/");
    fs::write(
        one.join("tests/python.rs"),
        r#"#[test]
fn rust_client_python_server_course_conversation() {}

/// Starts the server (a helper, not a test).
fn rust_client_python_server_helper() {}

#[test]
#[ignore]
fn rust_client_python_server_not_run() {}

#[test]
fn python_reference_server_speaks_the_same_bytes() {}
"#,
    )
    .expect("01 python.rs");
    // Lesson 02: no tests/python.rs at all.
    f.lesson("02-tcp-server-v1", "tcp-server-v1", "");
    // Lesson 06: both directions, one of them twice; a test file with nothing to claim.
    let six = f.lesson("06-tcp-chat", "tcp-chat", "");
    fs::create_dir_all(six.join("tests")).expect("tests/");
    fs::write(
        six.join("tests/python.rs"),
        "#[test]\nfn python_server_rust_client_a() {}\n\n\
         #[test]\nfn rust_server_python_client_b() {}\n\n\
         #[test]\nfn python_client_rust_server_c() {}\n",
    )
    .expect("06 python.rs");
    fs::write(six.join("tests/chat.rs"), "#[test]\nfn q_ends_it() {}\n").expect("chat.rs");

    let table = "<!-- interop:begin -->\n\
        | # | lesson | run against the course's Python (tests in `tests/python.rs`) |\n\
        |---|---|---|\n\
        | 01 | [tcp-client-v1](lessons/01-tcp-client-v1/tests/python.rs) | Rust client ↔ Python server (1 test) |\n\
        | 02 | [tcp-server-v1](lessons/02-tcp-server-v1) | not yet: no `tests/python.rs` |\n\
        | 06 | [tcp-chat](lessons/06-tcp-chat/tests/python.rs) | Rust server ↔ Python client (2 tests) · Rust client ↔ Python server (1 test) |\n\
        <!-- interop:end -->\n";
    let out = f.run(&["interop-table"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), table);

    // A stale table: check says so and shows the difference; --write fixes it.
    fs::write(
        f.path("README.md"),
        "# Title\n\n<!-- interop:begin -->\n| 01 | everything proven |\n<!-- interop:end -->\n\nAfter.\n",
    )
    .expect("README");
    let out = f.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("README.md: the interop table does not match the tests in the lessons' tests/python.rs (`cargo lesson interop-table --write` fixes it)"),
        "{stdout}"
    );
    assert!(stdout.contains("-| 01 | everything proven |"), "{stdout}");
    let out = f.run(&["interop-table", "--write"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        fs::read_to_string(f.path("README.md")).expect("README"),
        format!("# Title\n\n{table}\nAfter.\n")
    );
    let out = f.run(&["check"]);
    assert!(
        !text(&out.stdout).contains("interop table"),
        "{}",
        text(&out.stdout)
    );

    // A test named for a direction outside tests/python.rs is a problem: the table would
    // not see it. So is a README without the markers.
    fs::write(
        six.join("tests/chat.rs"),
        "#[test]\nfn rust_server_python_client_elsewhere() {}\n",
    )
    .expect("chat.rs");
    fs::write(f.path("README.md"), "# Title\n").expect("README");
    let out = f.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    for want in [
        "check: lessons/06-tcp-chat/tests/chat.rs: test rust_server_python_client_elsewhere runs Rust against Python; it belongs in tests/python.rs, where the interop table looks",
        "README.md: no interop table between `<!-- interop:begin -->` and `<!-- interop:end -->`; `cargo lesson interop-table` prints it, `cargo lesson interop-table --write` puts it there",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
}

#[test]
fn the_interop_table_of_this_workspace_matches_its_readme() {
    let out = workspace(&["interop-table"]);
    assert_eq!(out.status.code(), Some(0));
    let readme = fs::read_to_string(lessons_dir().join("../README.md")).expect("README.md");
    assert!(
        readme.contains(&text(&out.stdout)),
        "README.md's interop table is stale; run `cargo lesson interop-table --write`:\n{}",
        text(&out.stdout)
    );
}

#[test]
fn diff_shows_a_patch_with_paths_relative_to_each_lesson() {
    let f = Fixture::new("diff");
    let a = f.lesson("01-alpha", "alpha", "");
    let b = f.lesson("02-beta", "beta", "");
    fs::write(
        a.join("src/main.rs"),
        "fn main() {\n    one();\n    two();\n}\n",
    )
    .expect("a");
    fs::write(
        b.join("src/main.rs"),
        "fn main() {\n    one();\n    three();\n}\n",
    )
    .expect("b");
    fs::create_dir_all(b.join("src/bin")).expect("bin dir");
    fs::write(b.join("src/bin/extra.rs"), "fn main() {}\n").expect("extra");
    let out = f.run(&["diff", "alpha", "2"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "--- /dev/null\n\
         +++ b/src/bin/extra.rs (02-beta)\n\
         @@ -0,0 +1 @@\n\
         +fn main() {}\n\
         --- a/src/main.rs (01-alpha)\n\
         +++ b/src/main.rs (02-beta)\n\
         @@ -1,4 +1,4 @@\n \
         fn main() {\n     \
         one();\n\
         -    two();\n\
         +    three();\n \
         }\n"
    );
    let out = f.run(&["diff", "01-alpha", "beta", "--stat"]);
    assert_eq!(
        text(&out.stdout),
        " src/bin/extra.rs |    1 +\n src/main.rs      |    2 +-\n 2 files changed, 2 insertions(+), 1 deletion(-)\n"
    );
    let out = f.run(&["diff", "alpha", "beta", "--color", "always"]);
    assert!(text(&out.stdout).contains("\x1b[32m+    three();\x1b[0m"));
    // The same lesson twice: nothing to show.
    assert!(f.run(&["diff", "alpha", "alpha"]).stdout.is_empty());
}
