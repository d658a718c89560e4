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

/// Every file under `dir/sub` for each folder, relative to `dir`, sorted.
fn files(dir: &Path, folders: &[&str]) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    for sub in folders {
        walk(dir, &dir.join(sub), &mut found);
    }
    found
}

fn walk(root: &Path, dir: &Path, found: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name();
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

/// The diff (or with `stat`, the summary) as text ready to print.
pub fn diff(a: &Lesson, b: &Lesson, all: bool, stat: bool, style: Style) -> String {
    let folders = folders(all);
    let names: BTreeSet<PathBuf> = files(&a.dir, folders)
        .into_iter()
        .chain(files(&b.dir, folders))
        .collect();
    let mut out = String::new();
    let mut stats: Vec<(String, usize, usize)> = Vec::new();
    for name in names {
        let shown = name.display().to_string();
        let old = fs::read(a.dir.join(&name)).ok();
        let new = fs::read(b.dir.join(&name)).ok();
        if old == new {
            continue;
        }
        let old_text = old
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let new_text = new
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let diff = TextDiff::from_lines(old_text.as_ref(), new_text.as_ref());
        if stat {
            let (mut plus, mut minus) = (0, 0);
            for change in diff.iter_all_changes() {
                match change.tag() {
                    ChangeTag::Insert => plus += 1,
                    ChangeTag::Delete => minus += 1,
                    ChangeTag::Equal => {}
                }
            }
            stats.push((shown, plus, minus));
            continue;
        }
        let old_label = if old.is_some() {
            format!("a/{shown} ({})", a.folder)
        } else {
            "/dev/null".to_string()
        };
        let new_label = if new.is_some() {
            format!("b/{shown} ({})", b.folder)
        } else {
            "/dev/null".to_string()
        };
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&old_label, &new_label)
            .to_string();
        for line in text.lines() {
            let painted = if line.starts_with("+++") || line.starts_with("---") {
                style.paint(BOLD, line)
            } else if line.starts_with('+') {
                style.paint(GREEN, line)
            } else if line.starts_with('-') {
                style.paint(RED, line)
            } else if line.starts_with("@@") {
                style.paint(CYAN, line)
            } else {
                line.to_string()
            };
            out.push_str(&painted);
            out.push('\n');
        }
    }
    if stat {
        let width = stats.iter().map(|s| s.0.len()).max().unwrap_or(0);
        let (mut plus, mut minus) = (0, 0);
        for (name, p, m) in &stats {
            plus += p;
            minus += m;
            // At most 50 marks per file, in proportion.
            let total = p + m;
            let scale = |n: usize| {
                if total > 50 {
                    (n * 50).div_ceil(total)
                } else {
                    n
                }
            };
            out.push_str(&format!(
                " {name:width$} | {:>4} {}{}\n",
                total,
                style.paint(GREEN, &"+".repeat(scale(*p))),
                style.paint(RED, &"-".repeat(scale(*m)))
            ));
        }
        let files = stats.len();
        out.push_str(&format!(
            " {files} file{} changed, {plus} insertion{}(+), {minus} deletion{}(-)\n",
            if files == 1 { "" } else { "s" },
            if plus == 1 { "" } else { "s" },
            if minus == 1 { "" } else { "s" },
        ));
    }
    out
}
