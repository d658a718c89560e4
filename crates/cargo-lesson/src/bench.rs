//! `cargo lesson bench [NAME...]`: every benchmark of the workspace, one table.
//!
//! A benchmark is a script `scripts/bench-NAME` (NAME: the lesson's package) that keeps a
//! small contract (crates/cargo-lesson/README.md, "Benchmarks"):
//!
//! - `rows`: one tab-separated line per comparison: ID, what, unit, the lesson's label,
//!   the reference's label, the target (the least lesson/reference ratio, or `-`);
//! - `prepare DIR [--quick]`: make the fixtures in the empty folder DIR; exit 3 with
//!   `missing: TOOL (Debian package PKG)` when a reference tool is not installed;
//! - `once DIR ID lesson|reference`: one measured run of one side; it checks the answer
//!   (a wrong one is exit 1) and prints the figure, a rate, as its last line.
//!
//! This command builds the workspace in release once, and for each script: prepares a
//! fresh temporary folder (removed afterwards), runs the warm-ups, then the measured
//! rounds, lesson and reference in turn (A B A B ...) so that a machine that slows down
//! or speeds up during the run affects both sides alike, and prints one markdown table of
//! the medians. Figures are rates: higher is better. (The scripts are shell scripts: on
//! Windows, run this from a Unix-like shell such as WSL.)

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use lesson_runner::{Running, Scratch, in_ci, tail};

use crate::names;
use crate::out::{pad, width};
use crate::run::{self, CTRL_C, Sig};
use crate::{Cli, Fail, Outcome, World, written};

#[derive(Args)]
pub struct BenchArgs {
    /// Only these benchmarks: a lesson (package, folder, number or program) with a
    /// scripts/bench-PACKAGE. Default: every scripts/bench-* there is.
    names: Vec<String>,
    /// Tiny sizes, for a smoke run that takes seconds; the targets are not checked.
    #[arg(long)]
    quick: bool,
    /// Measured runs of each side of each row; the table shows their median.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// Runs of each side before the measured ones, not counted (they fill caches and
    /// wake the CPU up).
    #[arg(long, value_name = "N", default_value_t = 1)]
    warmup: u32,
    /// The folder of the bench-NAME scripts (default: scripts/ beside the lessons folder).
    #[arg(long, value_name = "DIR")]
    scripts_dir: Option<PathBuf>,
    /// The longest one call of a script may take before it is stopped (a failure).
    #[arg(long, value_name = "SECS", default_value = "600")]
    timeout: f64,
    /// Show what each call of a script says on stderr (timings, connect times, memory).
    #[arg(long, short)]
    verbose: bool,
}

/// How often a running script is looked at (for its end, Ctrl-C and the deadline).
const TICK: Duration = Duration::from_millis(10);
/// What builds the programs the benchmarks run (`--examples` too: a load generator, lesson
/// 12's burst, is an example), without `--quiet`.
const BUILD: &str = "build --release --workspace --bins --examples";

/// One line of `rows`. `target`: the least lesson/reference ratio that meets it; `None`:
/// only reported.
struct Row {
    id: String,
    what: String,
    unit: String,
    labels: [String; 2],
    target: Option<f64>,
}

/// What became of a row: each side's median; a tool `prepare` said is missing
/// (`python3 (Debian package python3)`); or why it failed (a wrong answer, no figure).
enum RowResult {
    Measured([f64; 2]),
    Missing(String),
    Failed(String),
}

/// A line of the table: `script/row` (or the script alone when it failed before its
/// rows), the row, and what became of it.
type Line = (String, Option<Row>, RowResult);

/// How a call of a script ended: the exit code, or why there is none (a signal, the
/// deadline); and its stdout and stderr.
type Call = (Result<i32, String>, String, String);

pub fn bench(cli: &Cli, world: &World, args: &BenchArgs) -> Outcome {
    let timeout = crate::seconds(args.timeout, "--timeout")?;
    let scripts = world.root.join("scripts");
    let dir = args.scripts_dir.as_ref().unwrap_or(&scripts);
    let scripts = choose(world, dir, &args.names)?;
    let release = release_dir(&world.root);
    let bin_dir = cli.bin_dir.as_ref().unwrap_or(&release);
    if !cli.no_build && cli.bin_dir.is_none() {
        eprintln!("bench: building in release: cargo {BUILD}");
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
        let build = cargo.current_dir(&world.root).args(BUILD.split(' '));
        let status = build.arg("--quiet").status();
        let status = status.map_err(|e| Fail(1, format!("cannot run cargo build: {e}")))?;
        let why = "cargo build --release failed (its errors are above)";
        status.success().then_some(()).ok_or(Fail(1, why.into()))?;
    }
    if !bin_dir.is_dir() {
        let dir = bin_dir.display();
        let why = "does not exist (build in release, or leave out --no-build)";
        return Err(Fail(1, format!("not built: {dir} {why}")));
    }
    run::catch_ctrl_c();
    let (rounds, warmup) = (args.rounds, args.warmup);
    let quick = " (--quick: tiny sizes, targets not checked)";
    let quick = if args.quick { quick } else { "" };
    eprintln!(
        "bench: {rounds} round(s) after {warmup} warm-up(s) of each side, lesson and reference in turn{quick}"
    );
    let bench = Bench {
        root: &world.root,
        bin_dir,
        args,
        timeout,
    };
    let (start, before) = (Instant::now(), others_ticks());
    let mut lines: Vec<Line> = Vec::new();
    for (name, path) in &scripts {
        lines.extend(bench.script(name, path)?);
    }
    // Other work competing with the benchmarks: what the machine spent beyond us. (The
    // load average can't tell: the threaded-server benchmark alone runs a thousand
    // threads.) Ticks are Linux's 1/100 s; without /proc (macOS, Windows) it is unknown.
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let elapsed = start.elapsed().as_secs_f64() * 100.0 * cores as f64;
    let busy = match (before, others_ticks()) {
        (Some(before), Some(after)) if elapsed > 0.0 => {
            let share = 100.0 * after.saturating_sub(before) as f64 / elapsed;
            format!("other programs used {share:.0}% of the CPU meanwhile")
        }
        _ => "no /proc: how busy the machine was is unknown".to_string(),
    };
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let (os, kernel) = (std::env::consts::OS, kernel.trim());
    say!(
        "{rounds} round(s) after {warmup} warm-up(s), medians; lesson and reference runs alternate. {cores} cores, {os} {kernel}; {busy}."
    );
    say!("\n{}", table(&lines, args.quick));
    let mut failures = Vec::new();
    for (name, _, result) in &lines {
        match result {
            RowResult::Failed(why) => failures.push(format!("{name}: {why}")),
            RowResult::Missing(tool) if in_ci() => failures.push(format!(
                "{name}: missing {tool} (under CI=true a missing tool is a failure: install it)"
            )),
            RowResult::Missing(tool) => eprintln!("bench: {name}: not measured: missing {tool}"),
            RowResult::Measured(_) => {}
        }
    }
    let (n, all) = (failures.len(), failures.join("\n  "));
    match n {
        0 => Ok(0),
        _ => Err(Fail(1, format!("{n} benchmark row(s) failed:\n  {all}"))),
    }
}

/// Every scripts/bench-NAME (a NAME without a dot: bench-lib.sh is a library) the names
/// ask for (all of them for none), each once, in the lessons' order (unknown ones last).
fn choose(world: &World, dir: &Path, wanted: &[String]) -> Result<Vec<(String, PathBuf)>, Fail> {
    let entries = fs::read_dir(dir);
    let entries = entries.map_err(|e| Fail(1, format!("cannot read {}: {e}", dir.display())))?;
    let mut all = Vec::new();
    for path in entries.flatten().map(|e| e.path()) {
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        let name = file.strip_prefix("bench-").unwrap_or_default().to_string();
        if !name.is_empty() && !name.contains('.') && path.is_file() {
            all.push((name, path));
        }
    }
    if all.is_empty() {
        let why = format!("no benchmarks: no bench-NAME scripts in {}", dir.display());
        return Err(Fail(1, why));
    }
    let number = |name: &str| names::find(name, &world.lessons).and_then(|l| l.folder_number);
    all.sort_by_cached_key(|(name, _)| (number(name).unwrap_or(u32::MAX), name.clone()));
    let has = |package: &str| all.iter().any(|s| s.0 == package);
    let mut packages = Vec::new();
    for name in wanted {
        // The script's own name first (a benchmark may come before its lesson's folder),
        // then whatever names a lesson.
        let package = match has(name) {
            true => name.clone(),
            false => written(world, name)?.package.clone(),
        };
        if !has(&package) {
            let names = Vec::from_iter(all.iter().map(|s| s.0.as_str())).join(", ");
            let script = dir.join(format!("bench-{package}"));
            let (script, why) = (script.display(), "the benchmarks are");
            let why = format!("lesson {package} has no benchmark (no {script}); {why}: {names}");
            return Err(Fail(2, why));
        }
        packages.push(package);
    }
    all.retain(|s| wanted.is_empty() || packages.contains(&s.0));
    Ok(all)
}

/// Where `cargo build --release` puts the programs: $CARGO_TARGET_DIR/release, else
/// the `release` beside the folder this program runs from (cargo's target folder, wherever
/// it is), else target/release in the workspace.
fn release_dir(root: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return root.join(dir).join("release");
    }
    let exe = std::env::current_exe().unwrap_or_default();
    match exe.parent() {
        Some(d) if d.ends_with("debug") || d.ends_with("release") => d.with_file_name("release"),
        _ => root.join("target/release"),
    }
}

/// The CPU time other programs have used so far, in clock ticks: the whole machine's busy
/// time (`cpu  user nice system idle iowait irq softirq steal`: all but idle and iowait;
/// steal is time the host gave to other virtual machines) less this process's with its
/// children's (/proc/self/stat after `(name)`: utime, stime, cutime, cstime are fields
/// 12-15).
fn others_ticks() -> Option<u64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let fields = stat.lines().next()?.split_whitespace().skip(1).take(8);
    let fields: Vec<u64> = fields.map(|f| f.parse().ok()).collect::<Option<_>>()?;
    let [user, nice, system, _idle, _iowait, irq, softirq, steal] = fields[..] else {
        return None;
    };
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    let ours: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let ours = ours.get(11..15)?.iter().map(|f| f.parse::<u64>().ok());
    let machine = user + nice + system + irq + softirq + steal;
    Some(machine.saturating_sub(ours.sum::<Option<u64>>()?))
}

/// What every call of a script shares.
struct Bench<'a> {
    /// The workspace: the scripts run there.
    root: &'a Path,
    /// The programs: BENCH_BIN_DIR.
    bin_dir: &'a Path,
    args: &'a BenchArgs,
    /// The longest one call may take (but `rows`, which only prints, gets 30 s).
    timeout: Duration,
}

/// The stdout of a call that exited 0; else "exit 1: the reason it gave", for messages.
fn succeeded((code, stdout, stderr): Call) -> Result<String, String> {
    match code {
        Ok(0) => Ok(stdout),
        Ok(code) => Err(format!("exit {code}: {}", tail(&stderr))),
        Err(why) => Err(format!("{why}: {}", tail(&stderr))),
    }
}

impl Bench<'_> {
    /// Every row of one script: rows, prepare, then warm-ups and rounds per row.
    fn script(&self, name: &str, path: &Path) -> Result<Vec<Line>, Fail> {
        let failed = |why: String| Ok(vec![(name.to_string(), None, RowResult::Failed(why))]);
        let listed = self.call(path, &["rows"], Duration::from_secs(30))?;
        let listed = succeeded(listed).map_err(|why| format!("`rows` failed: {why}"));
        let rows = match listed.and_then(|stdout| parse_rows(&stdout)) {
            Ok(rows) => rows,
            Err(why) => return failed(why),
        };
        let scratch = Scratch::new(&format!("bench-{name}"));
        let dir = scratch.path().to_string_lossy().into_owned();
        let quick = ["--quick"].into_iter().filter(|_| self.args.quick);
        let prepare: Vec<&str> = ["prepare", &dir].into_iter().chain(quick).collect();
        eprintln!("bench: {name}: prepare");
        let missing = match self.call(path, &prepare, self.timeout)? {
            (Ok(3), _, stderr) => Some(missing_tool(&stderr)),
            prepared => match succeeded(prepared) {
                Ok(_) => None,
                Err(why) => return failed(format!("`prepare` failed: {why}")),
            },
        };
        let mut lines = Vec::new();
        for row in rows {
            let name = format!("{name}/{}", row.id);
            let result = match &missing {
                Some(tool) => RowResult::Missing(tool.clone()),
                None => self.row(&name, path, &dir, &row)?,
            };
            lines.push((name, Some(row), result));
        }
        Ok(lines)
    }

    /// One row (`name`: `script/row`): the warm-up pairs, then the measured ones, lesson
    /// first in each pair, and each side's median. The first wrong answer ends the row.
    fn row(&self, name: &str, path: &Path, dir: &str, row: &Row) -> Result<RowResult, Fail> {
        let (warmup, rounds) = (self.args.warmup, self.args.rounds);
        let mut figures: [Vec<f64>; 2] = Default::default();
        let warmups = (1..=warmup).map(|n| format!("warm-up {n}/{warmup}"));
        let measured = (1..=rounds).map(|n| format!("round {n}/{rounds}"));
        for when in warmups.chain(measured) {
            for (i, side) in ["lesson", "reference"].into_iter().enumerate() {
                let call = self.call(path, &["once", dir, &row.id, side], self.timeout)?;
                match succeeded(call).and_then(|stdout| parse_figure(&stdout)) {
                    Ok(figure) => {
                        let (amount, unit) = (amount(figure), &row.unit);
                        eprintln!("bench: {name}  {when}  {side:9} {amount} {unit}");
                        figures[i].push(figure);
                    }
                    Err(why) => {
                        let why = format!("{side} ({}): {why}", row.labels[i]);
                        eprintln!("bench: {name}  {when}  {side}: FAILED: {why}");
                        return Ok(RowResult::Failed(why));
                    }
                }
            }
        }
        // The warm-ups' figures came first; the median is of the measured ones after them.
        let measured = figures.map(|mut all| median(all.split_off(warmup as usize)));
        Ok(RowResult::Measured(measured))
    }

    /// Run the script with these arguments in its own process group, with BENCH_BIN_DIR
    /// set, and wait (at most `timeout`). Ctrl-C stops it and ends the command (130).
    fn call(&self, path: &Path, args: &[&str], timeout: Duration) -> Result<Call, Fail> {
        let mut command = Command::new(path);
        command.args(args).current_dir(self.root);
        command.env("BENCH_BIN_DIR", self.bin_dir);
        // Its own process group: the servers it starts in the background are in it too,
        // so stopping the group leaves none behind.
        run::own_group(&mut command);
        let seen = CTRL_C.load(Ordering::SeqCst);
        let interrupted = || CTRL_C.load(Ordering::SeqCst) > seen;
        let running = Running::spawn(command);
        let mut running = running.map_err(|e| Fail(1, format!("{}: {e}", path.display())))?;
        let deadline = Instant::now() + timeout;
        let status = loop {
            let status = running.try_status().ok().flatten();
            if status.is_some() || interrupted() || Instant::now() >= deadline {
                break status;
            }
            // The exit has no descriptor to wait on; the output pipes close with it.
            if running.wait_output_closed(TICK) {
                thread::sleep(Duration::from_millis(1));
            }
        };
        let code = match status {
            Some(status) => status
                .code()
                .ok_or_else(|| run::describe(status, false, false)),
            None => {
                // SIGTERM to the group (the script's trap stops its servers); the SIGKILL
                // below follows once the group has closed its output, or after 2 s.
                run::signal(&mut running, Sig::Term);
                running.wait_output_closed(Duration::from_secs(2));
                Err(format!("still running after {timeout:?}, stopped"))
            }
        };
        // Anything the script left running (a server its trap missed) goes now.
        run::signal(&mut running, Sig::Kill);
        running.wait_output_closed(Duration::from_secs(1));
        if interrupted() {
            return Err(Fail(130, "interrupted (Ctrl-C)".into()));
        }
        let stderr = running.stderr();
        if self.args.verbose {
            stderr.lines().for_each(|line| eprintln!("    {line}"));
        }
        Ok((code, running.stdout(), stderr))
    }
}

/// The rows a script lists: six tab-separated fields per line.
fn parse_rows(text: &str) -> Result<Vec<Row>, String> {
    const FIELDS: &str = "ID, what, unit, lesson label, reference label, target";
    const NOT_A_TARGET: &str = "is neither a positive number nor -";
    let mut rows = Vec::new();
    let lines = text.lines().enumerate();
    for (n, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let at = format!("`rows` line {}", n + 1);
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        let [id, what, unit, lesson, reference, target] = fields[..] else {
            let n = fields.len();
            return Err(format!(
                "{at}: {n} tab-separated fields, not 6 ({FIELDS}): {line:?}"
            ));
        };
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(format!("{at}: the ID {id:?} must be one word"));
        }
        let target = match target.parse::<f64>() {
            _ if target == "-" => None,
            Ok(t) if t.is_finite() && t > 0.0 => Some(t),
            _ => return Err(format!("{at}: the target {target:?} {NOT_A_TARGET}")),
        };
        rows.push(Row {
            id: id.into(),
            what: what.into(),
            unit: unit.into(),
            labels: [lesson, reference].map(String::from),
            target,
        });
    }
    match rows.is_empty() {
        true => Err("`rows` listed no rows".into()),
        false => Ok(rows),
    }
}

/// The figure: the last non-empty line of stdout, a number not below zero.
fn parse_figure(stdout: &str) -> Result<f64, String> {
    const NOT_A_FIGURE: &str = "its last line should be the figure, a number";
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    let last = last.ok_or_else(|| "it printed no figure".to_string())?;
    match last.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{NOT_A_FIGURE}: {last:?}")),
    }
}

/// `python3 (Debian package python3)` out of prepare's `missing: ...` line.
fn missing_tool(stderr: &str) -> String {
    let mut lines = stderr.lines().map(str::trim);
    let tool = lines.find_map(|l| l.strip_prefix("missing:"));
    let (tool, stderr) = (tool.map(str::trim).filter(|t| !t.is_empty()), tail(stderr));
    match tool {
        Some(tool) => tool.to_string(),
        None => format!("a tool (prepare exit 3 without a `missing: TOOL` line: {stderr})"),
    }
}

/// The middle value; for an even count, the mean of the two middle ones.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    (values[(n - 1) / 2] + values[n / 2]) / 2.0
}

/// A figure as a person reads it: `3,330,488`, `812`, `45.3`, `0.87`.
fn amount(x: f64) -> String {
    if x < 1000.0 {
        return format!("{x:.*}", usize::from(x < 100.0) + usize::from(x < 10.0));
    }
    // The digits in groups of three, counted from the right.
    let digits = format!("{x:.0}").into_bytes();
    let groups = digits.rchunks(3).rev().map(String::from_utf8_lossy);
    Vec::from_iter(groups).join(",")
}

/// A ratio as `38.3×`.
fn times(x: f64) -> String {
    format!("{x:.*}×", usize::from(x < 100.0) + usize::from(x < 1.0))
}

/// The markdown table, its columns padded so it reads in a terminal too.
fn table(lines: &[Line], quick: bool) -> String {
    let header = "benchmark|what|lesson median|reference median|ratio|target|met?";
    let mut cells: Vec<Vec<String>> = vec![header.split('|').map(String::from).collect()];
    for (name, row, result) in lines {
        let Some(row) = row else {
            let failed = [name.as_str(), "—", "—", "—", "—", "—", "FAILED (see below)"];
            cells.push(failed.map(String::from).to_vec());
            continue;
        };
        // Side 0 is the lesson's, 1 the reference's (which names the tool it lacks).
        let side = |i: usize| match result {
            RowResult::Measured(m) => format!("{} {} ({})", amount(m[i]), row.unit, row.labels[i]),
            RowResult::Missing(tool) if i == 1 => format!("missing: {tool}"),
            _ => format!("— ({})", row.labels[i]),
        };
        let ratio = match result {
            RowResult::Measured([l, r]) if *r > 0.0 => Some(l / r),
            _ => None,
        };
        let met = match (result, row.target, ratio) {
            (RowResult::Missing(_), ..) => "not measured",
            (RowResult::Failed(_), ..) => "FAILED (see below)",
            (_, None, _) => "—",
            (_, Some(_), _) if quick => "not checked (--quick)",
            (_, Some(t), Some(x)) if x >= t => "yes",
            _ => "NO",
        };
        let ratio = ratio.map_or("—".into(), times);
        let target = row.target.map(|t| format!("≥ {t}×"));
        let target = target.unwrap_or("— (reported)".into());
        let mut cell = vec![name.clone(), row.what.clone(), side(0), side(1)];
        cell.extend([ratio, target, met.into()]);
        cells.push(cell);
    }
    let column = |c: usize| cells.iter().map(|r| width(&r[c])).max().unwrap_or(0);
    let widths: Vec<usize> = (0..7).map(column).collect();
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let mut text = Vec::new();
    for row in &cells {
        let padded: Vec<String> = row.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
        text.push(format!("| {} |", padded.join(" | ")));
    }
    text.insert(1, format!("|-{}-|", rule.join("-|-")));
    text.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_amounts_and_ratios() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        let xs = [3_330_488.4, 1000.0, 812.3, 45.26, 0.871];
        let want = ["3,330,488", "1,000", "812", "45.3", "0.87"];
        assert_eq!(xs.map(amount), want);
        let want = ["138×", "38.3×", "1.5×", "0.80×"];
        assert_eq!([138.34, 38.34, 1.5, 0.8].map(times), want);
    }

    #[test]
    fn rows_figures_and_missing_tools_are_parsed() {
        let rows = parse_rows("frames\tframes through a pipe\tframes/s\tRust\tPython\t5\n");
        let rows = rows.expect("one good row");
        assert_eq!(
            (rows[0].target, &rows[0].labels),
            (Some(5.0), &["Rust", "Python"].map(String::from))
        );
        let reported = parse_rows("x\tw\tMB/s\tRust\tloopback\t-").expect("a reported row");
        assert_eq!(reported[0].target, None);
        let bad = [
            "a\tb\tc\n",
            "a\tb\tc\td\te\tlots\n",
            "",
            "a b\tb\tc\td\te\t1",
        ];
        assert!(bad.iter().all(|bad| parse_rows(bad).is_err()));
        assert_eq!(parse_figure("checking...\n123.5\n\n"), Ok(123.5));
        assert!(
            ["", "12 frames/s\n", "-1\n"]
                .iter()
                .all(|bad| parse_figure(bad).is_err())
        );
        let tool = missing_tool("x\nmissing: tftp (Debian package tftp-hpa)\n");
        assert_eq!(tool, "tftp (Debian package tftp-hpa)");
    }
}
