//! Exercises: the steps a lesson marks in its own source for the student to write.
//!
//! A mark is two comment lines around the solution, in the lesson itself:
//!
//! ```text
//!     // exercise connect (let mut stream: TcpStream): connect to the server's address
//!     let mut stream = TcpStream::connect(addr).at("connect", addr)?;
//!     // exercise end
//! ```
//!
//! `cargo lesson start NAME` copies the lesson into `exercises/NN-name/` with every marked
//! step replaced by `todo!("exercise connect: HINT")`, keeping the binding the rest of the
//! program needs (`let mut stream: TcpStream = todo!(..)`). `cargo lesson check NAME` runs
//! the lesson's own tests against that copy. exercises/ is a workspace of its own, outside
//! this one's members and ignored by git, with one target folder for all the copies.

use std::fmt;
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use lesson_runner::Running;

use crate::meta::Lesson;
use crate::run::{self, Sig};

/// The longest a lesson's tests may run against a copy.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The file where `check` notes that the copy passed.
const CHECKED: &str = ".passed";

const BEGIN: &str = "// exercise ";
const END: &str = "// exercise end";

/// One marked step.
#[derive(Debug, Default)]
pub struct Exercise {
    pub name: String,
    pub hint: String,
    /// `let mut stream: TcpStream`: what the step must leave for the code after it.
    pub binding: Option<String>,
    /// `src/main.rs:12`: the source file, relative to the lesson's folder, and the mark's
    /// line; `line` and `end` are the lines (from 1) of the mark and of its end.
    pub place: String,
    pub line: usize,
    pub end: usize,
    /// The student's copy still has the `todo!()` of this step.
    pub todo: bool,
}

/// `exercise connect (src/main.rs:12): HINT`: a step as `hint` and `check` name it.
impl fmt::Display for Exercise {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let (name, place, hint) = (&self.name, &self.place, &self.hint);
        write!(f, "exercise {name} ({place}): {hint}")
    }
}

/// `connect (let mut stream: TcpStream): HINT`, the mark at `place` (line `line`) → the
/// exercise, its end not found yet.
fn parse_mark(rest: &str, place: String, line: usize) -> Option<Exercise> {
    // The hint follows the first `:` outside the binding's parentheses (which it may hold).
    let mut depth = 0;
    let colon = rest.find(|c| {
        depth += i32::from(c == '(') - i32::from(c == ')');
        c == ':' && depth == 0
    })?;
    let (head, hint) = (rest[..colon].trim(), rest[colon + 1..].trim());
    let (name, binding) = match head.split_once('(') {
        Some((name, binding)) => (name.trim_end(), Some(binding.strip_suffix(')')?.trim())),
        None => (head, None),
    };
    (!name.is_empty() && !name.contains(' ') && !hint.is_empty()).then(|| Exercise {
        name: name.to_string(),
        hint: hint.to_string(),
        binding: binding.map(str::to_string),
        place,
        line,
        ..Default::default()
    })
}

/// The marked steps of one source file, in order; an error names a broken mark.
fn marks(src: &str, file: &Path) -> Result<Vec<Exercise>, String> {
    let (mut found, file) = (Vec::<Exercise>::new(), file.display());
    for (text, n) in src.lines().map(str::trim_start).zip(1..) {
        let place = format!("{file}:{n}");
        let open = found.last_mut().filter(|ex| ex.end == 0);
        if text.starts_with(END) {
            open.ok_or(format!("{place}: an end with no exercise"))?.end = n;
        } else if let Some(rest) = text.strip_prefix(BEGIN) {
            if let Some(ex) = open {
                return Err(format!("{place}: exercise {} has no end", ex.name));
            }
            let bad = format!("{place}: write `{BEGIN}NAME: HINT`");
            found.push(parse_mark(rest, place, n).ok_or(bad)?);
        } else if let Some(ex) = open {
            ex.todo |= text.contains(&format!("todo!(\"exercise {}:", ex.name));
        }
    }
    match found.last().filter(|ex| ex.end == 0) {
        Some(ex) => Err(format!("{file}: exercise {} has no end", ex.name)),
        None => Ok(found),
    }
}

/// `src` with the marked steps `pick` names replaced by their `todo!()`; the marks stay.
fn blank(src: &str, file: &Path, pick: &dyn Fn(&str) -> bool) -> Result<String, String> {
    let mut lines = Vec::from_iter(src.lines().map(str::to_string));
    // From the last step to the first, so that the line numbers of those before stay true.
    for ex in marks(src, file)?.iter().rev().filter(|ex| pick(&ex.name)) {
        let mark = &lines[ex.line - 1];
        let indent = &mark[..mark.len() - mark.trim_start().len()];
        let message = format!("exercise {}: {}", ex.name, ex.hint);
        let literal = format!("{:?}", message.replace('{', "{{").replace('}', "}}"));
        let binding = ex.binding.clone().map_or(String::new(), |b| b + " = ");
        let todo = format!("{indent}{binding}todo!({literal});");
        // The lines between the mark and its end are the solution.
        lines.splice(ex.line..ex.end - 1, [todo]);
    }
    Ok(lines.iter().map(|line| format!("{line}\n")).collect())
}

/// The files under `dir`, relative to it and sorted, but for build output (`target`,
/// `__pycache__`).
fn files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let (mut found, mut folders) = (Vec::new(), vec![dir.to_path_buf()]);
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() && !path.ends_with("target") && !path.ends_with("__pycache__") {
                folders.push(path);
            } else if path.is_file() {
                found.push(path.strip_prefix(dir).unwrap_or(&path).to_path_buf());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The Rust files under `dir/src`, relative to `dir`.
fn sources(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = files(dir)?;
    found.retain(|f| f.starts_with("src") && f.extension().is_some_and(|e| e == "rs"));
    Ok(found)
}

/// Every exercise of the lesson (or student's copy) in `dir`, in file and line order.
pub fn exercises(dir: &Path) -> Result<Vec<Exercise>, String> {
    let mut all = Vec::new();
    for file in sources(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let src = fs::read_to_string(dir.join(&file)).map_err(|e| format!("{file:?}: {e}"))?;
        all.extend(marks(&src, &file)?);
    }
    Ok(all)
}

/// Where a lesson's copies go: `exercises/` for the student, or another folder beside
/// lessons/ (the relative paths of the lessons' tests need the same depth).
pub struct Workspace {
    pub root: PathBuf,
    pub dir: PathBuf,
    /// `exercises`: the folder's name, as messages show it.
    pub name: String,
    /// The target folder, if not the workspace's own.
    target: Option<PathBuf>,
}

impl Workspace {
    pub fn new(root: &Path, name: &str) -> Workspace {
        Workspace {
            root: root.to_path_buf(),
            dir: root.join(name),
            name: name.to_string(),
            target: None,
        }
    }

    pub fn copy_of(&self, lesson: &Lesson) -> PathBuf {
        self.dir.join(&lesson.folder)
    }

    /// `exercises/10-struct-framing`: the copy, as messages show it.
    fn shown(&self, lesson: &Lesson) -> String {
        format!("{}/{}", self.name, lesson.folder)
    }

    /// Copy `lesson` into this workspace, the steps `pick` names blanked; then make the
    /// workspace's Cargo.toml list every copy in it.
    pub fn write_copy(&self, lesson: &Lesson, pick: &dyn Fn(&str) -> bool) -> Result<(), String> {
        let to = self.copy_of(lesson);
        let failed = |e: io::Error| format!("copy to {}: {e}", to.display());
        if to.exists() {
            fs::remove_dir_all(&to).map_err(failed)?;
        }
        for file in files(&lesson.dir).map_err(failed)? {
            let dest = to.join(&file);
            fs::create_dir_all(dest.parent().unwrap_or(&to)).map_err(failed)?;
            fs::copy(lesson.dir.join(&file), dest).map_err(failed)?;
        }
        for file in sources(&to).map_err(failed)? {
            let src = fs::read_to_string(to.join(&file)).map_err(failed)?;
            fs::write(to.join(&file), blank(&src, &file, pick)?).map_err(failed)?;
        }
        // A path dependency on another lesson (../17-tftp-client-v1) means the lesson itself.
        let manifest = to.join("Cargo.toml");
        let text = fs::read_to_string(&manifest).map_err(failed)?;
        let text = text.replace("path = \"../", "path = \"../../lessons/");
        fs::write(&manifest, text).map_err(failed)?;
        self.write_manifest().map_err(|e| e.to_string())
    }

    /// The workspace's Cargo.toml: this workspace's, with its members the copies here and
    /// its own crates' paths one folder up. Cargo.lock too, so the versions are the same.
    fn write_manifest(&self) -> io::Result<()> {
        let copies = fs::read_dir(&self.dir)?.flatten();
        let copies = copies.filter(|c| c.path().join("Cargo.toml").is_file());
        let mut members = Vec::from_iter(copies.map(|c| format!("{:?}", c.file_name())));
        members.sort();
        let mut text = String::from(
            "# Written by `cargo lesson start`: your copies of the lessons, a workspace of\n\
             # their own (one target folder for them all). Not part of the project's git.\n",
        );
        for line in fs::read_to_string(self.root.join("Cargo.toml"))?.lines() {
            let line = line.replace("path = \"crates/", "path = \"../crates/");
            if line.starts_with("members = ") {
                text += &format!("members = [{}]\n", members.join(", "));
            } else if !line.starts_with("exclude = ") {
                text += &format!("{line}\n");
            }
            // A step left as todo!() leaves imports unused and code after it unreachable.
            if line == "[workspace.lints.rust]" {
                text += "unused = \"allow\"\nunreachable_code = \"allow\"\n";
            }
        }
        fs::write(self.dir.join("Cargo.toml"), text)?;
        let lock = self.dir.join("Cargo.lock");
        if !lock.exists() {
            let _ = fs::copy(self.root.join("Cargo.lock"), lock);
        }
        Ok(())
    }

    /// `cargo test -p PACKAGE` in this workspace: success, and all it printed. A run that
    /// takes longer than [`TEST_TIMEOUT`] (a step left undone can leave a test waiting) is
    /// stopped, with everything it started, and fails.
    pub fn test(&self, lesson: &Lesson, extra: &[&str]) -> Result<(bool, String), String> {
        let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
        cmd.args(["test", "-p", &lesson.package]).args(extra);
        cmd.arg("--manifest-path").arg(self.dir.join("Cargo.toml"));
        if let Some(target) = &self.target {
            cmd.env("CARGO_TARGET_DIR", target);
        }
        // LESSON_STORY: the harness prints what each test starts, sends and waits for.
        cmd.env("RUST_BACKTRACE", "0").env("LESSON_STORY", "1");
        run::own_group(&mut cmd);
        let failed = |e: io::Error| format!("cargo test: {e}");
        let mut running = Running::spawn(cmd).map_err(failed)?;
        let deadline = Instant::now() + TEST_TIMEOUT;
        while running.try_status().map_err(failed)?.is_none() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
        }
        let late = running.try_status().map_err(failed)?.is_none();
        if late {
            run::signal(&mut running, Sig::Kill);
        }
        let done = running.finish(Duration::from_secs(10)).map_err(failed)?;
        let mut text = done.stdout + &done.stderr;
        if late {
            let secs = TEST_TIMEOUT.as_secs();
            text += &format!("\n(stopped: the tests were still running after {secs} s)\n");
        }
        Ok((done.status.success() && !late, text))
    }
}

/// `cargo lesson start NAME`.
pub fn start(ws: &Workspace, lesson: &Lesson) -> Result<(), String> {
    let (all, package) = (exercises(&lesson.dir)?, &lesson.package);
    if all.is_empty() {
        return Err(format!("lesson {package} has no exercises"));
    }
    let shown = ws.shown(lesson);
    if ws.copy_of(lesson).exists() {
        // Only a yes typed at a terminal replaces the copy; no terminal means no.
        let mut answer = String::new();
        if io::stdin().is_terminal() {
            print!("{shown} is there already: start again, losing your work? [y/N] ");
            let _ = io::stdout().flush();
            let _ = io::stdin().read_line(&mut answer);
        }
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(format!(
                "{shown} is there already, and your work in it stays; remove the folder to start again"
            ));
        }
    }
    ws.write_copy(lesson, &|_| true)?;
    let steps = all.len();
    say!("wrote {shown}: the lesson with {steps} steps for you to write:");
    for ex in &all {
        say!("  {:<14} {}  {}", ex.name, ex.place, ex.hint);
    }
    say!("then: cargo lesson check {package}   (and cargo lesson hint {package})");
    Ok(())
}

/// `cargo lesson check NAME [--watch]`: exit status 0 when every check passes.
pub fn check(ws: &Workspace, lesson: &Lesson, watch: bool) -> Result<u8, String> {
    let (copy, shown) = (ws.copy_of(lesson), ws.shown(lesson));
    if !copy.is_dir() {
        let start = format!("cargo lesson start {}", lesson.package);
        return Err(format!("no {shown} yet: `{start}` makes it"));
    }
    loop {
        let code = check_once(ws, lesson, &copy)?;
        if !watch {
            return Ok(code);
        }
        say!("\nwatching {shown}/src: save a file to check again (Ctrl-C ends)");
        let seen = newest(&copy);
        while newest(&copy) == seen {
            thread::sleep(Duration::from_millis(300));
        }
    }
}

/// When a source file of the copy in `dir` last changed.
fn newest(dir: &Path) -> Option<SystemTime> {
    let modified = |f: &PathBuf| fs::metadata(dir.join(f)).ok()?.modified().ok();
    sources(dir).ok()?.iter().filter_map(modified).max()
}

fn check_once(ws: &Workspace, lesson: &Lesson, copy: &Path) -> Result<u8, String> {
    let all = exercises(copy)?;
    let left: Vec<&Exercise> = all.iter().filter(|e| e.todo).collect();
    let (shown, package, folder) = (ws.shown(lesson), &lesson.package, &lesson.folder);
    let steps = format!("{} of {} steps", left.len(), all.len());
    say!("checking {shown} with lesson {package}'s own tests ({steps} still todo!())");
    let _ = fs::remove_file(copy.join(CHECKED));
    let (passed, output) = ws.test(lesson, &["--no-fail-fast"])?;
    let results = results(&output);
    if results.is_empty() && !passed {
        // It did not build: the compiler's words are the story.
        say!("your copy does not build:\n{}", compiler_errors(&output));
        return Ok(1);
    }
    for (name, ok) in &results {
        say!("  {} {name}", if *ok { "ok    " } else { "FAILED" });
    }
    let Some((first, _)) = results.iter().find(|(_, ok)| !ok) else {
        let _ = fs::write(copy.join(CHECKED), "");
        let checks = results.len();
        say!("all {checks} checks passed: every step of {package} works");
        return Ok(0);
    };
    say!("\nthe first check that failed, {first}:");
    for line in story(&output, first).lines() {
        say!("  | {line}");
    }
    // The step it points to: the one its output names, or else the first one still to do.
    let named = |name: &str| output.contains(&format!("exercise {name}:"));
    match left.iter().find(|e| named(&e.name)).or(left.first()) {
        Some(ex) => say!("\nit points to {ex}"),
        None => say!(
            "\nevery step is written, but the program does not yet do what the lesson's does: \
             compare with lessons/{folder}"
        ),
    }
    Ok(1)
}

/// `test NAME ... ok` / `... FAILED` lines of cargo test's output.
fn results(output: &str) -> Vec<(&str, bool)> {
    let tests = output.lines().filter_map(|l| l.strip_prefix("test "));
    let tests = tests.filter_map(|l| l.rsplit_once(" ... "));
    let tests = tests.filter(|(_, v)| matches!(v.trim(), "ok" | "FAILED"));
    tests.map(|(name, v)| (name, v.trim() == "ok")).collect()
}

/// What a failed test printed: the `---- NAME stdout ----` section of cargo test.
fn story(output: &str, test: &str) -> String {
    let Some((_, body)) = output.split_once(&format!("---- {test} stdout ----")) else {
        return "(it printed nothing)".into();
    };
    let body = body.split("\n---- ").next().unwrap_or(body);
    let body = body.split("\nfailures:").next().unwrap_or(body);
    body.trim_matches(['\n', '\r']).to_string()
}

/// The compiler's errors in cargo's output: its blocks that begin with `error`.
fn compiler_errors(output: &str) -> String {
    let blocks = output.split("\n\n").map(str::trim_start);
    Vec::from_iter(blocks.filter(|b| b.starts_with("error"))).join("\n\n")
}

/// `cargo lesson hint NAME`: the next step to write, from the student's copy if there is
/// one, else from the lesson.
pub fn hint(ws: &Workspace, lesson: &Lesson) -> Result<(), String> {
    let (copy, shown, package) = (ws.copy_of(lesson), ws.shown(lesson), &lesson.package);
    let started = copy.is_dir();
    let all = exercises(if started { &copy } else { &lesson.dir })?;
    if all.is_empty() {
        return Err(format!("lesson {package} has no exercises"));
    }
    let Some(ex) = all.iter().find(|e| e.todo || !started) else {
        say!("every step of {shown} is written: `cargo lesson check {package}`");
        return Ok(());
    };
    say!("{ex}");
    if let Some(binding) = &ex.binding {
        say!("the code after it needs: {binding} = ...;");
    }
    if !started {
        say!("(`cargo lesson start {package}` makes your copy)");
    }
    Ok(())
}

/// `cargo lesson exercises`: every exercise of every lesson, and where the student is.
pub fn list(ws: &Workspace, lessons: &[Lesson]) -> Result<(), String> {
    let mut total = 0;
    for lesson in lessons {
        let all = exercises(&lesson.dir)?;
        if all.is_empty() {
            continue;
        }
        total += all.len();
        let copy = ws.copy_of(lesson);
        // No copy yet: none of its steps are found there.
        let mine = exercises(&copy).unwrap_or_default();
        let passed = copy.join(CHECKED).exists();
        say!("{}", lesson.folder);
        for ex in &all {
            let state = match mine.iter().find(|m| m.name == ex.name) {
                None => "      ",
                Some(m) if m.todo => "todo  ",
                Some(_) if passed => "passed",
                Some(_) => "done  ",
            };
            say!("  {state} {:<14} {}", ex.name, ex.hint);
        }
    }
    say!("{total} exercises; `cargo lesson start NAME` begins one lesson's");
    Ok(())
}

/// `cargo lesson exercises --verify`, for CI: every lesson's copy builds as generated, and
/// every single step left as todo!() makes the lesson's tests fail.
pub fn verify(
    root: &Path,
    lessons: &[&Lesson],
    course: &(dyn Fn(&Lesson) -> bool + Sync),
) -> Result<u8, String> {
    // The tests mostly wait (for a banner, a reply, a timeout), so three lessons are checked
    // at once. Each worker has a folder of its own beside lessons/ (the tests' relative
    // paths need that depth), removed afterwards; one target folder serves them all.
    let next = AtomicUsize::new(0);
    let worker = |k: usize| {
        let mut ws = Workspace::new(root, &format!(".exercise-check-{}-{k}", std::process::id()));
        ws.target = Some(root.join("target").join("exercise-check"));
        let mut outcomes = Vec::new();
        while let Some(lesson) = lessons.get(next.fetch_add(1, Ordering::Relaxed)) {
            outcomes.push(verify_lesson(&ws, lesson, course(lesson)));
        }
        let _ = fs::remove_dir_all(&ws.dir);
        outcomes
    };
    let mut outcomes: [Vec<Findings>; 3] = Default::default();
    thread::scope(|scope| {
        for (k, slot) in outcomes.iter_mut().enumerate() {
            scope.spawn(move || *slot = worker(k));
        }
    });
    let (mut count, mut problems) = (0, Vec::new());
    for outcome in outcomes.into_iter().flatten() {
        let (n, found) = outcome?;
        count += n;
        problems.extend(found);
    }
    for p in &problems {
        eprintln!("exercises: {p}");
    }
    say!("exercises: {count} checked, {} problems", problems.len());
    Ok(u8::from(!problems.is_empty()))
}

/// What [`verify_lesson`] finds: how many exercises it tried, and what is wrong.
type Findings = Result<(usize, Vec<String>), String>;

/// One lesson for [`verify`]; `course`: it is a course lesson, so it must have exercises.
fn verify_lesson(ws: &Workspace, lesson: &Lesson, course: bool) -> Findings {
    let (all, folder) = (exercises(&lesson.dir)?, &lesson.folder);
    if all.is_empty() {
        let none = format!("{folder}: a course lesson with no exercise");
        return Ok((0, Vec::from_iter(course.then_some(none))));
    }
    let mut problems = Vec::new();
    // The lesson's README says what its exercises ask.
    let readme = fs::read_to_string(lesson.dir.join("README.md")).unwrap_or_default();
    let section = readme.split("\n## Exercises\n").nth(1).unwrap_or_default();
    let section = section.split("\n## ").next().unwrap_or_default();
    for name in all.iter().map(|e| &e.name) {
        if !section.contains(&format!("`{name}`")) {
            let problem = format!("{folder}: README.md's Exercises section does not name `{name}`");
            problems.push(problem);
        }
    }
    ws.write_copy(lesson, &|_| true)?;
    let (built, output) = ws.test(lesson, &["--no-run"])?;
    if !built {
        let errors = compiler_errors(&output);
        problems.push(format!("{folder}: the copy does not build:\n{errors}"));
        return Ok((0, problems));
    }
    for ex in &all {
        ws.write_copy(lesson, &|name| name == ex.name)?;
        // Its first failing test binary is enough: cargo test stops there.
        let (passed, _) = ws.test(lesson, &[])?;
        let name = &ex.name;
        if passed {
            say!("{folder} {name:<14} PASSES with todo!(): it teaches nothing");
            let problem = format!("{folder}: exercise {name} passes its tests as todo!()");
            problems.push(problem);
        } else {
            say!("{folder} {name:<14} fails as it should");
        }
    }
    Ok((all.len(), problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "fn main() {\n    let a = 1;\n    // exercise connect (let mut s: (u8, u8)): make {it}\n    let mut s = (a, 2);\n    // exercise end\n    // exercise say: print it\n    println!(\"{s:?}\");\n    // exercise end\n}\n";

    #[test]
    fn marks_are_found_with_their_binding_and_hint() {
        let found = marks(SRC, Path::new("src/main.rs")).expect("marks");
        let names = Vec::from_iter(found.iter().map(|e| (e.name.as_str(), e.line, e.end)));
        assert_eq!(names, [("connect", 3, 5), ("say", 6, 8)]);
        assert_eq!(found[0].binding.as_deref(), Some("let mut s: (u8, u8)"));
        assert_eq!(found[0].hint, "make {it}");
        assert!(!found[0].todo);
    }

    #[test]
    fn blanking_keeps_the_binding_and_the_marks() {
        let out = blank(SRC, Path::new("m.rs"), &|n| n == "connect").expect("blank");
        assert_eq!(
            out,
            "fn main() {\n    let a = 1;\n    // exercise connect (let mut s: (u8, u8)): make {it}\n    let mut s: (u8, u8) = todo!(\"exercise connect: make {{it}}\");\n    // exercise end\n    // exercise say: print it\n    println!(\"{s:?}\");\n    // exercise end\n}\n"
        );
        let again = marks(&out, Path::new("m.rs")).expect("marks");
        assert!(again[0].todo && !again[1].todo);
        let all = blank(SRC, Path::new("m.rs"), &|_| true).expect("blank");
        assert!(all.contains("    todo!(\"exercise say: print it\");\n"));
    }

    #[test]
    fn broken_marks_are_named() {
        let broken = |src| marks(src, Path::new("a.rs")).unwrap_err();
        let open = "// exercise x: y\nfn f() {}\n";
        assert_eq!(broken(open), "a.rs: exercise x has no end");
        let stray = "// exercise end\n";
        assert_eq!(broken(stray), "a.rs:1: an end with no exercise");
        let nameless = "// exercise : y\n";
        assert!(broken(nameless).starts_with("a.rs:1: write"));
    }

    #[test]
    fn test_results_and_a_failure_s_story_come_from_cargo_test_s_output() {
        let out = "test a ... ok\ntest b ... FAILED\n\nfailures:\n\n---- b stdout ----\nstarted x\nexpected y\n\nfailures:\n    b\n";
        assert_eq!(results(out), [("a", true), ("b", false)]);
        assert_eq!(story(out, "b"), "started x\nexpected y");
    }
}
