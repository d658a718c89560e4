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

use std::fs;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use lesson_runner::Running;

use crate::meta::Lesson;
use crate::run::{self, Sig};

/// The longest a lesson's tests may run against a copy.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// One marked step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    pub name: String,
    pub hint: String,
    /// `let mut stream: TcpStream`: what the step must leave for the code after it.
    pub binding: Option<String>,
    /// The source file, relative to the lesson's folder, and the mark's line (from 1).
    pub file: PathBuf,
    pub line: usize,
    /// The student's copy still has the `todo!()` of this step.
    pub todo: bool,
}

const BEGIN: &str = "// exercise ";
const END: &str = "// exercise end";

/// `connect (let mut stream: TcpStream): HINT` → name, binding, hint.
fn parse_mark(rest: &str) -> Option<(String, Option<String>, String)> {
    let name_end = rest.find([' ', ':', '('])?;
    let name = rest[..name_end].to_string();
    let mut rest = rest[name_end..].trim_start();
    let mut binding = None;
    if let Some(inner) = rest.strip_prefix('(') {
        // The binding may hold parentheses itself: find the one that closes the first.
        let mut depth = 1;
        let close = inner.char_indices().find_map(|(i, c)| {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            (depth == 0).then_some(i)
        })?;
        binding = Some(inner[..close].trim().to_string());
        rest = inner[close + 1..].trim_start();
    }
    let hint = rest.strip_prefix(':')?.trim().to_string();
    (!name.is_empty() && !hint.is_empty()).then_some((name, binding, hint))
}

/// The marked steps of one source file, in order; an error names a broken mark.
fn marks(src: &str, file: &Path) -> Result<Vec<(Exercise, usize)>, String> {
    let mut found = Vec::new();
    let mut open: Option<Exercise> = None;
    for (i, line) in src.lines().enumerate() {
        let text = line.trim_start();
        let place = format!("{}:{}", file.display(), i + 1);
        if text.starts_with(END) {
            let ex = open
                .take()
                .ok_or(format!("{place}: an end with no exercise"))?;
            found.push((ex, i + 1));
        } else if let Some(rest) = text.strip_prefix(BEGIN) {
            if let Some(ex) = &open {
                return Err(format!("{place}: exercise {} has no end", ex.name));
            }
            let (name, binding, hint) =
                parse_mark(rest).ok_or(format!("{place}: write `{BEGIN}NAME: HINT`"))?;
            let line = i + 1;
            let file = file.to_path_buf();
            let todo = false;
            open = Some(Exercise {
                name,
                hint,
                binding,
                file,
                line,
                todo,
            });
        } else if let Some(ex) = &mut open {
            ex.todo |= text.contains(&format!("todo!(\"exercise {}:", ex.name));
        }
    }
    match open {
        Some(ex) => Err(format!(
            "{}: exercise {} has no end",
            file.display(),
            ex.name
        )),
        None => Ok(found),
    }
}

/// `src` with the marked steps `blank` picks replaced by their `todo!()`.
fn blank(src: &str, file: &Path, pick: &dyn Fn(&str) -> bool) -> Result<String, String> {
    let lines: Vec<&str> = src.lines().collect();
    let mut out = String::new();
    let mut next = 0;
    for (ex, end) in marks(src, file)? {
        if !pick(&ex.name) {
            continue;
        }
        for line in &lines[next..ex.line] {
            out.push_str(line);
            out.push('\n');
        }
        let mark = lines[ex.line - 1];
        let indent = &mark[..mark.len() - mark.trim_start().len()];
        let message = format!("exercise {}: {}", ex.name, ex.hint);
        let literal = format!("{:?}", message.replace('{', "{{").replace('}', "}}"));
        match &ex.binding {
            Some(binding) => out.push_str(&format!("{indent}{binding} = todo!({literal});\n")),
            None => out.push_str(&format!("{indent}todo!({literal});\n")),
        }
        next = end - 1; // the end line, kept
    }
    for line in &lines[next..] {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// The Rust files under `dir/src`, relative to `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.join("src")];
    while let Some(folder) = todo.pop() {
        for entry in fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path.strip_prefix(dir).unwrap_or(&path).to_path_buf());
            }
        }
    }
    files.sort();
    files
}

/// Every exercise of the lesson (or student's copy) in `dir`, in file and line order.
pub fn exercises(dir: &Path) -> Result<Vec<Exercise>, String> {
    let mut all = Vec::new();
    for file in sources(dir) {
        let src = fs::read_to_string(dir.join(&file)).map_err(|e| format!("{file:?}: {e}"))?;
        all.extend(marks(&src, &file)?.into_iter().map(|(ex, _)| ex));
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
        let (root, dir, name) = (root.to_path_buf(), root.join(name), name.to_string());
        Workspace {
            root,
            dir,
            name,
            target: None,
        }
    }

    pub fn copy_of(&self, lesson: &Lesson) -> PathBuf {
        self.dir.join(&lesson.folder)
    }

    /// Copy `lesson` into this workspace, the steps `pick` names blanked; then make the
    /// workspace's Cargo.toml list every copy in it.
    pub fn write_copy(&self, lesson: &Lesson, pick: &dyn Fn(&str) -> bool) -> Result<(), String> {
        let to = self.copy_of(lesson);
        if to.exists() {
            fs::remove_dir_all(&to).map_err(|e| format!("{}: {e}", to.display()))?;
        }
        copy_tree(&lesson.dir, &to).map_err(|e| format!("copy to {}: {e}", to.display()))?;
        for file in sources(&lesson.dir) {
            let src = fs::read_to_string(lesson.dir.join(&file)).map_err(|e| e.to_string())?;
            let out = blank(&src, &file, pick)?;
            fs::write(to.join(&file), out).map_err(|e| e.to_string())?;
        }
        // A path dependency on another lesson (../17-tftp-client-v1) means the lesson itself.
        let manifest = to.join("Cargo.toml");
        let text = fs::read_to_string(&manifest).map_err(|e| e.to_string())?;
        let text = text.replace("path = \"../", "path = \"../../lessons/");
        fs::write(&manifest, text).map_err(|e| e.to_string())?;
        self.write_manifest()
    }

    /// The workspace's Cargo.toml: this workspace's, with its members the copies here and
    /// its own crates' paths one folder up. Cargo.lock too, so the versions are the same.
    fn write_manifest(&self) -> Result<(), String> {
        let root = fs::read_to_string(self.root.join("Cargo.toml")).map_err(|e| e.to_string())?;
        let mut members: Vec<String> = fs::read_dir(&self.dir)
            .map_err(|e| e.to_string())?
            .flatten()
            .filter(|e| e.path().join("Cargo.toml").is_file())
            .map(|e| format!("{:?}", e.file_name().to_string_lossy()))
            .collect();
        members.sort();
        let mut text = String::from(
            "# Written by `cargo lesson start`: your copies of the lessons, a workspace of\n\
             # their own (one target folder for them all). Not part of the project's git.\n",
        );
        for line in root.lines() {
            let line = line.replace("path = \"crates/", "path = \"../crates/");
            if line.starts_with("members = ") {
                text.push_str(&format!("members = [{}]\n", members.join(", ")));
            } else if !line.starts_with("exclude = ") {
                text.push_str(&line);
                text.push('\n');
            }
            // A step left as todo!() leaves imports unused and code after it unreachable.
            if line == "[workspace.lints.rust]" {
                text.push_str("unused = \"allow\"\nunreachable_code = \"allow\"\n");
            }
        }
        fs::write(self.dir.join("Cargo.toml"), text).map_err(|e| e.to_string())?;
        let lock = self.dir.join("Cargo.lock");
        if !lock.exists() {
            let _ = fs::copy(self.root.join("Cargo.lock"), lock);
        }
        Ok(())
    }

    /// `cargo test -p PACKAGE` in this workspace: success, and all it printed. A run that
    /// takes longer than [`TEST_TIMEOUT`] (a step left undone can leave a test waiting) is
    /// stopped, with everything it started, and fails.
    pub fn test(&self, lesson: &Lesson, extra: &[&str]) -> io::Result<(bool, String)> {
        let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
        cmd.arg("test").arg("--manifest-path");
        cmd.arg(self.dir.join("Cargo.toml"));
        cmd.args(["-p", &lesson.package]).args(extra);
        if let Some(target) = &self.target {
            cmd.env("CARGO_TARGET_DIR", target);
        }
        // LESSON_STORY: the harness prints what each test starts, sends and waits for.
        cmd.env("RUST_BACKTRACE", "0").env("LESSON_STORY", "1");
        run::own_group(&mut cmd);
        let mut running = Running::spawn(cmd)?;
        let deadline = Instant::now() + TEST_TIMEOUT;
        let mut late = false;
        while running.try_status()?.is_none() {
            if Instant::now() >= deadline {
                run::signal(&mut running, Sig::Kill);
                late = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let done = running.finish(Duration::from_secs(10))?;
        let mut text = done.stdout;
        text.push_str(&done.stderr);
        if late {
            let secs = TEST_TIMEOUT.as_secs();
            text.push_str(&format!(
                "\n(stopped: the tests were still running after {secs} s)\n"
            ));
        }
        Ok((done.status.success() && !late, text))
    }
}

fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == "__pycache__" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Ask a yes/no question on the terminal; no terminal means no.
fn confirm(question: &str) -> bool {
    if !io::stdin().is_terminal() {
        return false;
    }
    print!("{question} [y/N] ");
    let _ = io::stdout().flush();
    let mut answer = String::new();
    let _ = io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

/// `cargo lesson start NAME`.
pub fn start(ws: &Workspace, lesson: &Lesson) -> Result<(), String> {
    let all = exercises(&lesson.dir)?;
    if all.is_empty() {
        return Err(format!("lesson {} has no exercises", lesson.package));
    }
    let copy = ws.copy_of(lesson);
    let shown = format!("{}/{}", ws.name, lesson.folder);
    if copy.exists()
        && !confirm(&format!(
            "{shown} is there already: start again, losing your work?"
        ))
    {
        return Err(format!(
            "{shown} is there already, and your work in it stays; remove the folder to start again"
        ));
    }
    ws.write_copy(lesson, &|_| true)?;
    let _ = fs::remove_file(copy.join(CHECKED));
    say!(
        "wrote {shown}: the lesson with {} steps for you to write:",
        all.len()
    );
    for ex in &all {
        say!(
            "  {:<14} {}:{}  {}",
            ex.name,
            ex.file.display(),
            ex.line,
            ex.hint
        );
    }
    say!(
        "then: cargo lesson check {}   (and cargo lesson hint {})",
        lesson.package,
        lesson.package
    );
    Ok(())
}

/// The file where `check` notes that the copy passed.
const CHECKED: &str = ".passed";

/// `cargo lesson check NAME [--watch]`: exit status 0 when every check passes.
pub fn check(ws: &Workspace, lesson: &Lesson, watch: bool) -> Result<u8, String> {
    let copy = ws.copy_of(lesson);
    let shown = format!("{}/{}", ws.name, lesson.folder);
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
        let seen = newest(&copy.join("src"));
        while newest(&copy.join("src")) == seen {
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

fn newest(dir: &Path) -> Option<SystemTime> {
    sources(dir.parent()?)
        .iter()
        .filter_map(|f| fs::metadata(dir.parent()?.join(f)).ok()?.modified().ok())
        .max()
}

fn check_once(ws: &Workspace, lesson: &Lesson, copy: &Path) -> Result<u8, String> {
    let all = exercises(copy)?;
    let left: Vec<&Exercise> = all.iter().filter(|e| e.todo).collect();
    say!(
        "checking {}/{} with lesson {}'s own tests ({} of {} steps still todo!())",
        ws.name,
        lesson.folder,
        lesson.package,
        left.len(),
        all.len()
    );
    let _ = fs::remove_file(copy.join(CHECKED));
    let (passed, output) = ws
        .test(lesson, &["--no-fail-fast"])
        .map_err(|e| format!("cargo test: {e}"))?;
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
        say!(
            "all {} checks passed: every step of {} works",
            results.len(),
            lesson.package
        );
        return Ok(0);
    };
    say!("\nthe first check that failed, {first}:");
    for line in story(&output, first).lines() {
        say!("  | {line}");
    }
    // The step it points to: the one its output names, or else the first one still to do.
    let named = left
        .iter()
        .find(|e| output.contains(&format!("exercise {}:", e.name)));
    match named.or(left.first()) {
        Some(ex) => say!(
            "\nit points to exercise {} ({}:{}): {}",
            ex.name,
            ex.file.display(),
            ex.line,
            ex.hint
        ),
        None => say!(
            "\nevery step is written, but the program does not yet do what the lesson's does: \
             compare with lessons/{}",
            lesson.folder
        ),
    }
    Ok(1)
}

/// `test NAME ... ok` / `... FAILED` lines of cargo test's output.
fn results(output: &str) -> Vec<(String, bool)> {
    output
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("test ")?;
            let (name, verdict) = rest.rsplit_once(" ... ")?;
            match verdict.trim() {
                "ok" => Some((name.to_string(), true)),
                "FAILED" => Some((name.to_string(), false)),
                _ => None,
            }
        })
        .collect()
}

/// What a failed test printed: the `---- NAME stdout ----` section of cargo test.
fn story(output: &str, test: &str) -> String {
    let head = format!("---- {test} stdout ----");
    let Some(at) = output.find(&head) else {
        return "(it printed nothing)".into();
    };
    let body = &output[at + head.len()..];
    let end = [body.find("\n---- "), body.find("\nfailures:")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(body.len());
    body[..end]
        .trim_matches(|c| c == '\n' || c == '\r')
        .to_string()
}

/// The compiler's errors in cargo's output: its blocks that begin with `error`.
fn compiler_errors(output: &str) -> String {
    let blocks = output.split("\n\n").map(str::trim_start);
    let errors: Vec<&str> = blocks.filter(|b| b.starts_with("error")).collect();
    errors.join("\n\n")
}

/// `cargo lesson hint NAME`: the next step to write, from the student's copy if there is
/// one, else from the lesson.
pub fn hint(ws: &Workspace, lesson: &Lesson) -> Result<(), String> {
    let copy = ws.copy_of(lesson);
    let started = copy.is_dir();
    let all = exercises(if started { &copy } else { &lesson.dir })?;
    let next = all.iter().find(|e| e.todo || !started);
    match next {
        None if all.is_empty() => {
            return Err(format!("lesson {} has no exercises", lesson.package));
        }
        None => say!(
            "every step of {}/{} is written: `cargo lesson check {}`",
            ws.name,
            lesson.folder,
            lesson.package
        ),
        Some(ex) => {
            say!(
                "exercise {} ({}:{}): {}",
                ex.name,
                ex.file.display(),
                ex.line,
                ex.hint
            );
            if let Some(binding) = &ex.binding {
                say!("the code after it needs: {binding} = ...;");
            }
            if !started {
                say!("(`cargo lesson start {}` makes your copy)", lesson.package);
            }
        }
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
        let mine = if copy.is_dir() {
            exercises(&copy).unwrap_or_default()
        } else {
            Vec::new()
        };
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
    let queue = std::sync::Mutex::new(lessons.iter());
    let worker = |k: usize| -> Result<(usize, Vec<String>), String> {
        let mut ws = Workspace::new(root, &format!(".exercise-check-{}-{k}", std::process::id()));
        ws.target = Some(root.join("target").join("exercise-check"));
        let (mut count, mut problems) = (0, Vec::new());
        let result = fs::create_dir_all(&ws.dir).map_err(|e| e.to_string());
        let result = result.and_then(|()| {
            loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some(lesson) = next else { break Ok(()) };
                let (n, found) = verify_lesson(&ws, lesson, course)?;
                count += n;
                problems.extend(found);
            }
        });
        let _ = fs::remove_dir_all(&ws.dir);
        result.map(|()| (count, problems))
    };
    let results: Vec<_> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..3).map(|k| scope.spawn(move || worker(k))).collect();
        let joined = workers.into_iter().map(|w| w.join());
        joined
            .map(|r| r.expect("a verify worker panicked"))
            .collect()
    });
    let (mut count, mut problems) = (0, Vec::new());
    for result in results {
        let (n, found) = result?;
        count += n;
        problems.extend(found);
    }
    for p in &problems {
        eprintln!("exercises: {p}");
    }
    say!("exercises: {count} checked, {} problems", problems.len());
    Ok(u8::from(!problems.is_empty()))
}

/// One lesson for [`verify`]: how many exercises were tried, and what is wrong.
fn verify_lesson(
    ws: &Workspace,
    lesson: &Lesson,
    course: &(dyn Fn(&Lesson) -> bool + Sync),
) -> Result<(usize, Vec<String>), String> {
    let all = exercises(&lesson.dir)?;
    let folder = &lesson.folder;
    if all.is_empty() {
        let none = format!("{folder}: a course lesson with no exercise");
        return Ok((
            0,
            if course(lesson) {
                vec![none]
            } else {
                Vec::new()
            },
        ));
    }
    let mut problems = Vec::new();
    // The lesson's README says what its exercises ask.
    let readme = fs::read_to_string(lesson.dir.join("README.md")).unwrap_or_default();
    let section = readme.split("\n## Exercises\n").nth(1).unwrap_or_default();
    let section = section.split("\n## ").next().unwrap_or_default();
    for ex in all
        .iter()
        .filter(|e| !section.contains(&format!("`{}`", e.name)))
    {
        let name = &ex.name;
        problems.push(format!(
            "{folder}: README.md's Exercises section does not name `{name}`"
        ));
    }
    ws.write_copy(lesson, &|_| true)?;
    let (built, output) = ws.test(lesson, &["--no-run"]).map_err(|e| e.to_string())?;
    if !built {
        let errors = compiler_errors(&output);
        problems.push(format!("{folder}: the copy does not build:\n{errors}"));
        return Ok((0, problems));
    }
    for ex in &all {
        ws.write_copy(lesson, &|name| name == ex.name)?;
        // Its first failing test binary is enough: cargo test stops there.
        let (passed, _) = ws.test(lesson, &[]).map_err(|e| e.to_string())?;
        let verdict = if passed {
            "PASSES with todo!(): it teaches nothing"
        } else {
            "fails as it should"
        };
        say!("{folder} {:<14} {verdict}", ex.name);
        if passed {
            problems.push(format!(
                "{folder}: exercise {} passes its tests as todo!()",
                ex.name
            ));
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
        let names: Vec<_> = found
            .iter()
            .map(|(e, end)| (e.name.as_str(), e.line, *end))
            .collect();
        assert_eq!(names, [("connect", 3, 5), ("say", 6, 8)]);
        assert_eq!(found[0].0.binding.as_deref(), Some("let mut s: (u8, u8)"));
        assert_eq!(found[0].0.hint, "make {it}");
        assert!(!found[0].0.todo);
    }

    #[test]
    fn blanking_keeps_the_binding_and_the_marks() {
        let out = blank(SRC, Path::new("m.rs"), &|n| n == "connect").expect("blank");
        assert_eq!(
            out,
            "fn main() {\n    let a = 1;\n    // exercise connect (let mut s: (u8, u8)): make {it}\n    let mut s: (u8, u8) = todo!(\"exercise connect: make {{it}}\");\n    // exercise end\n    // exercise say: print it\n    println!(\"{s:?}\");\n    // exercise end\n}\n"
        );
        let again = marks(&out, Path::new("m.rs")).expect("marks");
        assert!(again[0].0.todo && !again[1].0.todo);
        let all = blank(SRC, Path::new("m.rs"), &|_| true).expect("blank");
        assert!(all.contains("    todo!(\"exercise say: print it\");\n"));
    }

    #[test]
    fn broken_marks_are_named() {
        let open = "// exercise x: y\nfn f() {}\n";
        assert_eq!(
            marks(open, Path::new("a.rs")).unwrap_err(),
            "a.rs: exercise x has no end"
        );
        let stray = "// exercise end\n";
        assert_eq!(
            marks(stray, Path::new("a.rs")).unwrap_err(),
            "a.rs:1: an end with no exercise"
        );
        let nameless = "// exercise : y\n";
        assert!(
            marks(nameless, Path::new("a.rs"))
                .unwrap_err()
                .starts_with("a.rs:1: write")
        );
    }

    #[test]
    fn test_results_and_a_failure_s_story_come_from_cargo_test_s_output() {
        let out = "test a ... ok\ntest b ... FAILED\n\nfailures:\n\n---- b stdout ----\nstarted x\nexpected y\n\nfailures:\n    b\n";
        assert_eq!(
            results(out),
            [("a".to_string(), true), ("b".to_string(), false)]
        );
        assert_eq!(story(out, "b"), "started x\nexpected y");
    }
}
