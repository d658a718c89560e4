//! `lesson bench` on fixture benchmarks: tiny shell scripts that keep the bench contract
//! (`rows`, `prepare DIR [--quick]`, `once DIR ID lesson|reference`) and log every call,
//! so the table, the medians, the order of the runs and every failure are checked without
//! building or timing anything real. (Shell scripts, as the real scripts/bench-* are:
//! Unix's.)

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use common::{Fixture, executable, text};

/// Writes `scripts/bench-NAME` into the fixture (a /bin/sh script) and runs
/// `lesson bench` against it.
struct Bench {
    f: Fixture,
}

impl Bench {
    fn new(name: &str) -> Bench {
        let f = Fixture::new(name);
        fs::create_dir_all(f.path("scripts")).expect("create fixture scripts/");
        Bench { f }
    }

    /// `scripts/bench-NAME` with this body; `$LOG` in it is the fixture's log file.
    fn script(&self, name: &str, body: &str) {
        let path = self.f.path("scripts").join(format!("bench-{name}"));
        let log = self.log_path();
        fs::write(
            &path,
            format!("#!/bin/sh\nLOG='{}'\n{body}\n", log.display()),
        )
        .expect("write bench script");
        executable(&path);
    }

    fn log_path(&self) -> PathBuf {
        self.f.path("calls.log")
    }

    /// Every call the scripts logged, one per line.
    fn log(&self) -> Vec<String> {
        fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn run(&self, args: &[&str], ci: bool) -> Output {
        let scripts = self.f.path("scripts");
        let mut full = vec!["bench", "--scripts-dir", scripts.to_str().expect("utf-8")];
        full.extend_from_slice(args);
        let mut command = self.f.command(&full);
        if ci {
            command.env("CI", "true");
        } else {
            command.env_remove("CI");
        }
        command.output().expect("run lesson bench")
    }
}

/// The table's lines, split into trimmed cells.
fn table(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// A benchmark with two rows whose figures depend on how many times `once` has been
/// called in this prepared folder: warm-ups return 1000 (so a median that counted them
/// would show), the measured rounds return the figures below.
const TWO_ROWS: &str = r#"
case $1 in
rows)
  printf 'frames\tframes through a fixture\tframes/s\tfast one\tslow one\t5\n'
  printf 'copy\tonly reported\tMB/s\tours\ttheirs\t-\n'
  ;;
prepare)
  echo "prepare $3 empty=$(ls -A "$2" | wc -l) bin=$BENCH_BIN_DIR" >>"$LOG"
  echo "$2" >"$LOG.dir"
  echo 0 >"$2/n"
  ;;
once)
  n=$(( $(cat "$2/n") + 1 )); echo $n >"$2/n"
  echo "once $3 $4 $n" >>"$LOG"
  echo "chatter that is not the figure"
  case $3:$n in
    frames:1|frames:2) echo 1000 ;;
    frames:3) echo 10 ;; frames:4) echo 4 ;;
    frames:5) echo 30 ;; frames:6) echo 1 ;;
    frames:7) echo 20 ;; frames:8) echo 2 ;;
    copy:*) if [ "$4" = lesson ]; then echo 5.5; else echo 11; fi ;;
  esac
  ;;
esac
"#;

#[test]
#[cfg_attr(not(unix), ignore = "the fixture scripts are sh scripts")]
fn the_table_shows_medians_of_alternating_rounds_without_the_warm_ups() {
    let b = Bench::new("bench-table");
    b.script("fixture", TWO_ROWS);
    let out = b.run(&["--rounds", "3", "--warmup", "1"], false);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));

    let rows = table(&stdout);
    assert_eq!(
        rows[0],
        [
            "benchmark",
            "what",
            "lesson median",
            "reference median",
            "ratio",
            "target",
            "met?"
        ]
    );
    // The rule under the header: dashes, one run per column.
    let rule = stdout
        .lines()
        .find(|l| l.starts_with("|-"))
        .expect("a rule");
    assert_eq!(
        rule.split('|').filter(|c| !c.is_empty()).count(),
        7,
        "{rule}"
    );
    assert!(rule.chars().all(|c| c == '-' || c == '|'), "{rule}");
    assert_eq!(
        rows[2],
        [
            "fixture/frames",
            "frames through a fixture",
            "20.0 frames/s (fast one)",
            "2.00 frames/s (slow one)",
            "10.0×",
            "≥ 5×",
            "yes"
        ]
    );
    assert_eq!(
        rows[3],
        [
            "fixture/copy",
            "only reported",
            "5.50 MB/s (ours)",
            "11.0 MB/s (theirs)",
            "0.50×",
            "— (reported)",
            "—"
        ]
    );
    assert_eq!(rows.len(), 4, "{stdout}");
    assert!(
        stdout.starts_with("3 round(s) after 1 warm-up(s), medians;"),
        "{stdout}"
    );

    // One prepare into an empty folder, with the bin dir; then per row the warm-up pair
    // and the rounds, lesson and reference in turn.
    let bin = b.f.path("bin");
    let mut want = vec![format!("prepare  empty=0 bin={}", bin.display())];
    for n in 1..=8 {
        let side = if n % 2 == 1 { "lesson" } else { "reference" };
        want.push(format!("once frames {side} {n}"));
    }
    for n in 9..=16 {
        let side = if n % 2 == 1 { "lesson" } else { "reference" };
        want.push(format!("once copy {side} {n}"));
    }
    assert_eq!(b.log(), want);
    // The prepared folder is gone afterwards.
    let dir = fs::read_to_string(b.f.path("calls.log.dir")).expect("the folder was logged");
    assert!(!PathBuf::from(dir.trim()).exists(), "{dir} was not removed");
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture scripts are sh scripts")]
fn quick_passes_the_flag_on_and_checks_no_target() {
    let b = Bench::new("bench-quick");
    b.script("fixture", TWO_ROWS);
    let out = b.run(
        &["fixture", "--quick", "--rounds", "1", "--warmup", "0"],
        false,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(b.log()[0].starts_with("prepare --quick "), "{:?}", b.log());
    let rows = table(&stdout);
    // One round, no warm-up: the first figures of each side.
    assert_eq!(rows[2][2], "1,000 frames/s (fast one)");
    assert_eq!(rows[2][6], "not checked (--quick)");
    assert_eq!(b.log().len(), 1 + 2 + 2);
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture scripts are sh scripts")]
fn an_even_number_of_rounds_takes_the_mean_of_the_middle_two() {
    let b = Bench::new("bench-even");
    b.script("fixture", TWO_ROWS);
    // Rounds 1-3 of the lesson give 1000 (the would-be warm-up), 10, 30 → (10 + 30) / 2.
    let out = b.run(&["--rounds", "3", "--warmup", "0"], false);
    let rows = table(&text(&out.stdout));
    assert_eq!(
        rows[2][2], "30.0 frames/s (fast one)",
        "median of 1000, 10, 30"
    );
    let out = b.run(&["--rounds", "2", "--warmup", "1"], false);
    let rows = table(&text(&out.stdout));
    assert_eq!(rows[2][2], "20.0 frames/s (fast one)", "mean of 10 and 30");
    assert_eq!(rows[2][3], "2.50 frames/s (slow one)", "mean of 4 and 1");
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture scripts are sh scripts")]
fn a_wrong_answer_fails_the_command_and_names_the_row() {
    let b = Bench::new("bench-wrong");
    b.script(
        "fixture",
        r#"
case $1 in
rows) printf 'frames\tframes\tframes/s\tfast\tslow\t5\n' ;;
prepare) echo "$2" >"$LOG.dir" ;;
once)
  echo "once $4" >>"$LOG"
  if [ "$4" = reference ] && [ -e "$2/second" ]; then
    echo "reference: the checksum differs from the input's" >&2; exit 1
  fi
  [ "$4" = reference ] && touch "$2/second"
  echo 100
  ;;
esac
"#,
    );
    let out = b.run(&["--rounds", "3", "--warmup", "0"], false);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("fixture/frames: reference (slow): exit 1: reference: the checksum differs from the input's"),
        "{stderr}"
    );
    // The row stops at the wrong answer, and says so in the table.
    assert_eq!(
        b.log(),
        [
            "once lesson",
            "once reference",
            "once lesson",
            "once reference"
        ]
    );
    let rows = table(&stdout);
    assert_eq!(rows[2][6], "FAILED (see below)", "{stdout}");
    let dir = fs::read_to_string(b.f.path("calls.log.dir")).expect("the folder was logged");
    assert!(!PathBuf::from(dir.trim()).exists(), "{dir} was not removed");
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture scripts are sh scripts")]
fn a_figure_that_is_not_a_number_is_a_failure() {
    let b = Bench::new("bench-nan");
    b.script(
        "fixture",
        r#"
case $1 in
rows) printf 'frames\tframes\tframes/s\tfast\tslow\t5\n' ;;
prepare) ;;
once) echo "fast enough" ;;
esac
"#,
    );
    let out = b.run(&["--rounds", "1", "--warmup", "0"], false);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("fixture/frames: lesson (fast): its last line should be the figure, a number: \"fast enough\""),
        "{stderr}"
    );
}

const MISSING: &str = r#"
case $1 in
rows) printf 'blk512\tdownloads\tMB/s\ttftp-client\ttftp-hpa\t1\n' ;;
prepare) echo "missing: frobtool (Debian package frob)" >&2; exit 3 ;;
once) echo "once" >>"$LOG"; echo 1 ;;
esac
"#;

#[test]
#[cfg_attr(not(unix), ignore = "the fixture scripts are sh scripts")]
fn a_missing_tool_is_named_in_the_table_and_fails_under_ci() {
    let b = Bench::new("bench-missing");
    b.script("fixture", MISSING);
    b.script("other", TWO_ROWS);
    let out = b.run(&["--rounds", "1", "--warmup", "0"], false);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let rows = table(&stdout);
    let row = rows
        .iter()
        .find(|r| r[0] == "fixture/blk512")
        .expect("the row is in the table");
    assert_eq!(row[3], "missing: frobtool (Debian package frob)");
    assert_eq!(row[6], "not measured");
    assert!(
        stderr.contains("fixture/blk512: not measured: missing frobtool"),
        "{stderr}"
    );
    // The other benchmark still ran; the missing one's `once` never did.
    assert!(rows.iter().any(|r| r[0] == "other/frames"));
    assert!(!b.log().contains(&"once".to_string()));

    let out = b.run(&["fixture", "--rounds", "1", "--warmup", "0"], true);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("fixture/blk512: missing frobtool (Debian package frob) (under CI=true a missing tool is a failure"),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("missing: frobtool"));
}

#[test]
#[cfg_attr(not(unix), ignore = "the fixture scripts are sh scripts")]
fn names_pick_benchmarks_and_unknown_ones_are_usage_errors() {
    let b = Bench::new("bench-names");
    b.script("struct-framing", TWO_ROWS);
    b.script("threaded-server", MISSING);
    b.f.lesson("01-tcp-client-v1", "tcp-client-v1", "");
    b.f.lesson("10-struct-framing", "struct-framing", "");
    b.f.lesson("12-threaded-server", "threaded-server", "");

    // A lesson's number picks its benchmark (lesson 10 is struct-framing).
    let out = b.run(&["10", "--rounds", "1", "--warmup", "0"], false);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let benchmarks: Vec<String> = table(&stdout)[2..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(benchmarks, ["struct-framing/frames", "struct-framing/copy"]);

    let out = b.run(&["struct-framin"], false);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr
            .starts_with("lesson: no lesson named \"struct-framin\"; did you mean struct-framing"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    let out = b.run(&["tcp-client-v1"], false);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("lesson tcp-client-v1 has no benchmark (no ")
            && stderr.contains("the benchmarks are: struct-framing, threaded-server"),
        "{stderr}"
    );

    let out = b.run(&["--rounds", "0"], false);
    assert_eq!(out.status.code(), Some(2), "--rounds 0 is a usage error");
}
