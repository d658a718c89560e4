//! `cargo lesson diff A B [--stat]`: what the second lesson changes, as a unified diff of
//! the two lessons' sources, paths relative to each lesson (`src/main.rs`), the way `git`
//! shows a patch.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use similar::{ChangeTag, TextDiff};

use crate::meta::Lesson;
use crate::out::{BOLD, CYAN, GREEN, RED, Style};

/// The folders whose files are compared: `src` always; with `--all` also the tests and
/// the Python program.
pub fn folders(all: bool) -> &'static [&'static str] {
    if all {
        &["src", "tests", "python"]
    } else {
        &["src"]
    }
}

/// Every file under `dir` (skipping dot files and `__pycache__`), relative to `root`.
fn walk(root: &Path, dir: &Path, found: &mut BTreeSet<PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let (path, name) = (entry.path(), entry.file_name());
        if name.to_string_lossy().starts_with('.') || name == "__pycache__" {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, found);
        } else if let Ok(relative) = path.strip_prefix(root) {
            found.insert(relative.to_path_buf());
        }
    }
}

/// `n thing` or `n things`.
fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// The diff (or with `stat`, the summary) as text ready to print.
pub fn diff(a: &Lesson, b: &Lesson, all: bool, stat: bool, style: Style) -> String {
    let mut names = BTreeSet::new();
    for dir in [&a.dir, &b.dir] {
        for sub in folders(all) {
            walk(dir, &dir.join(sub), &mut names);
        }
    }
    let mut out = String::new();
    let mut stats: Vec<(String, usize, usize)> = Vec::new();
    for name in names {
        let shown = name.display().to_string();
        let (old, new) = (
            fs::read(a.dir.join(&name)).ok(),
            fs::read(b.dir.join(&name)).ok(),
        );
        // The exercise marks (`// exercise NAME: HINT`, `// exercise end`) are for the
        // student's copy, not part of what one version changes in the other.
        let text = |bytes: &Option<Vec<u8>>| {
            let text = String::from_utf8_lossy(bytes.as_deref().unwrap_or_default());
            let lines = text.split_inclusive('\n');
            let code = lines.filter(|l| !l.trim_start().starts_with("// exercise "));
            code.collect::<String>()
        };
        let (old_text, new_text) = (text(&old), text(&new));
        if old_text == new_text && old.is_some() == new.is_some() {
            continue;
        }
        let diff = TextDiff::from_lines(&old_text, &new_text);
        if stat {
            let changes: Vec<ChangeTag> = diff.iter_all_changes().map(|c| c.tag()).collect();
            let tagged = |tag| changes.iter().filter(|t| **t == tag).count();
            stats.push((shown, tagged(ChangeTag::Insert), tagged(ChangeTag::Delete)));
            continue;
        }
        let label = |side: &str, bytes: &Option<Vec<u8>>, folder: &str| match bytes {
            Some(_) => format!("{side}/{shown} ({folder})"),
            None => "/dev/null".to_string(),
        };
        let (from, to) = (label("a", &old, &a.folder), label("b", &new, &b.folder));
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&from, &to)
            .to_string();
        for line in text.lines() {
            let code = match line.as_bytes() {
                [b'+', b'+', b'+', ..] | [b'-', b'-', b'-', ..] => BOLD,
                [b'+', ..] => GREEN,
                [b'-', ..] => RED,
                [b'@', b'@', ..] => CYAN,
                _ => "",
            };
            out.push_str(&style.paint(code, line));
            out.push('\n');
        }
    }
    if stat {
        let width = stats.iter().map(|s| s.0.len()).max().unwrap_or(0);
        let (plus, minus) = stats.iter().fold((0, 0), |(p, m), s| (p + s.1, m + s.2));
        for (name, p, m) in &stats {
            // At most 50 marks per file, in proportion.
            let total = p + m;
            let marks = |n: usize| {
                if total > 50 {
                    (n * 50).div_ceil(total)
                } else {
                    n
                }
            };
            let plus = style.paint(GREEN, &"+".repeat(marks(*p)));
            let minus = style.paint(RED, &"-".repeat(marks(*m)));
            out.push_str(&format!(" {name:width$} | {total:>4} {plus}{minus}\n"));
        }
        out.push_str(&format!(
            " {} changed, {}(+), {}(-)\n",
            count(stats.len(), "file"),
            count(plus, "insertion"),
            count(minus, "deletion")
        ));
    }
    out
}
