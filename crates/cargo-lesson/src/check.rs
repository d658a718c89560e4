//! `cargo lesson check`: the lessons' metadata is complete and agrees with the catalog
//! and with the top-level README's lesson table. `cargo lesson readme-table` prints that
//! table (or writes it into README.md with `--write`). The README's generated blocks (this
//! table, and the interop table of interop.rs) are found and replaced by their markers.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::meta::{Lesson, Planned};
use crate::transcript;

pub const TABLE_BEGIN: &str = "<!-- lessons:begin -->";
pub const TABLE_END: &str = "<!-- lessons:end -->";

/// Every problem with the lessons, as one line each.
pub fn problems(lessons: &[Lesson], catalog: &[Planned]) -> Vec<String> {
    let mut problems = Vec::new();
    let all_bins: BTreeMap<&str, &str> = lessons
        .iter()
        .flat_map(|l| {
            l.binaries
                .iter()
                .map(move |b| (b.as_str(), l.package.as_str()))
        })
        .collect();
    let mut numbers: BTreeMap<u32, Vec<&str>> = BTreeMap::new();

    for lesson in lessons {
        problems.extend(lesson.problems.iter().cloned());
        let place = format!("lessons/{}", lesson.folder);
        let Some(folder_number) = lesson.folder_number else {
            continue;
        };
        numbers
            .entry(folder_number)
            .or_default()
            .push(&lesson.folder);
        let want_package = lesson.folder.get(3..).unwrap_or_default();
        if !lesson.package.is_empty() && lesson.package != want_package {
            problems.push(format!(
                "{place}: the package is named {:?}; it should be the folder name without its number, {want_package:?}",
                lesson.package
            ));
        }
        if let Some(number) = lesson.meta.number
            && number != folder_number
        {
            problems.push(format!(
                "{place}: metadata number is {number}, the folder says {folder_number}"
            ));
        }
        match catalog.iter().find(|p| p.number == folder_number) {
            None => problems.push(format!(
                "{place}: lesson {folder_number} is not in the catalog (crates/cargo-lesson/catalog.toml)"
            )),
            Some(planned) => agree(lesson, planned, &place, &mut problems),
        }
        if let Some(demo) = &lesson.meta.demo {
            for program in demo.servers.iter().chain(&demo.clients) {
                if !program.on_path && !all_bins.contains_key(program.bin.as_str()) {
                    let planned = catalog
                        .iter()
                        .find(|p| p.binaries.contains(&program.bin))
                        .map(|p| {
                            format!(
                                " (it belongs to lesson {:02} {}, which is not written yet)",
                                p.number, p.package
                            )
                        })
                        .unwrap_or_default();
                    problems.push(format!(
                        "{place}/Cargo.toml: the demo runs {:?}, which no lesson builds{planned}",
                        program.bin
                    ));
                }
            }
        }
        let readme = lesson.dir.join("README.md");
        if let Ok(text) = fs::read_to_string(&readme) {
            match transcript::blocks(&text) {
                Err(e) => problems.push(format!("{place}/README.md: {e}")),
                Ok(blocks) => {
                    for block in blocks {
                        let name = block.args.first().map(String::as_str).unwrap_or_default();
                        if name != lesson.package {
                            problems.push(format!(
                                "{place}/README.md: line {}: the transcript runs {name:?}, not this lesson ({})",
                                block.line, lesson.package
                            ));
                        }
                        if block.recorded.is_none() {
                            problems.push(format!(
                                "{place}/README.md: line {}: the transcript is not recorded yet; run `{} --record`",
                                block.line, block.command
                            ));
                        }
                    }
                }
            }
        }
    }
    for (number, folders) in numbers {
        if folders.len() > 1 {
            problems.push(format!(
                "lessons: number {number:02} is used by {}",
                folders.join(" and ")
            ));
        }
    }
    problems
}

/// A written lesson and its catalog row must agree.
fn agree(lesson: &Lesson, planned: &Planned, place: &str, problems: &mut Vec<String>) {
    let catalog = "crates/cargo-lesson/catalog.toml";
    if !lesson.package.is_empty() && lesson.package != planned.package {
        problems.push(format!(
            "{place}: the catalog ({catalog}) calls lesson {} {:?}, this folder's package is {:?}",
            planned.number, planned.package, lesson.package
        ));
    }
    let have: BTreeSet<&String> = lesson.binaries.iter().collect();
    let want: BTreeSet<&String> = planned.binaries.iter().collect();
    if have != want {
        problems.push(format!(
            "{place}: the binaries are {}, the catalog ({catalog}) says {}",
            list(lesson.binaries.iter()),
            list(planned.binaries.iter())
        ));
    }
    for (field, mine, theirs) in [
        ("section", &lesson.meta.section, &planned.section),
        ("summary", &lesson.meta.summary, &planned.summary),
    ] {
        if let Some(mine) = mine
            && mine != theirs
        {
            problems.push(format!(
                "{place}: the {field} differs from the catalog ({catalog}); make them agree:\n    lesson:  {mine}\n    catalog: {theirs}"
            ));
        }
    }
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// The lesson table of the top-level README, markers included.
pub fn readme_table(lessons: &[Lesson], catalog: &[Planned]) -> String {
    let mut out = String::new();
    out.push_str(TABLE_BEGIN);
    out.push('\n');
    out.push_str("| # | lesson | programs | course section | what it teaches |\n");
    out.push_str("|---|---|---|---|---|\n");
    for lesson in lessons {
        let Some(number) = lesson.folder_number else {
            continue;
        };
        let planned = catalog.iter().find(|p| p.number == number);
        // The catalog's order of the binaries where it knows them (server first).
        let mut bins: Vec<&String> = planned
            .map(|p| {
                p.binaries
                    .iter()
                    .filter(|b| lesson.binaries.contains(b))
                    .collect()
            })
            .unwrap_or_default();
        for b in &lesson.binaries {
            if !bins.contains(&b) {
                bins.push(b);
            }
        }
        let cell = |text: &str| text.replace('|', "\\|");
        out.push_str(&format!(
            "| {number:02} | [{}](lessons/{}) | {} | {} | {} |\n",
            lesson.package,
            lesson.folder,
            list(bins.into_iter()),
            cell(lesson.meta.section.as_deref().unwrap_or("")),
            cell(lesson.meta.summary.as_deref().unwrap_or("")),
        ));
    }
    out.push_str(TABLE_END);
    out.push('\n');
    out
}

/// A generated block of the top-level README: its marker lines, and what to say about it.
pub struct Block {
    pub begin: &'static str,
    pub end: &'static str,
    /// What the block is: `the lesson table`.
    pub name: &'static str,
    /// Where it is generated from: `the lessons' metadata`.
    pub source: &'static str,
    /// The command that prints it; with ` --write` it writes it.
    pub command: &'static str,
}

/// The lesson table, generated by [`readme_table`].
pub const LESSON_TABLE: Block = Block {
    begin: TABLE_BEGIN,
    end: TABLE_END,
    name: "lesson table",
    source: "the lessons' metadata",
    command: "cargo lesson readme-table",
};

/// The README's current block (markers included), if it has one.
pub fn current_block(readme: &str, block: &Block) -> Option<String> {
    let start = readme.find(block.begin)?;
    let end = readme[start..].find(block.end)? + start + block.end.len();
    Some(format!("{}\n", &readme[start..end]))
}

/// Compare the README's block with what was generated (`table`): a problem line, or none.
pub fn block_problem(readme_path: &Path, block: &Block, table: &str) -> Option<String> {
    let shown = readme_path.display();
    let text = match fs::read_to_string(readme_path) {
        Ok(text) => text,
        Err(e) => return Some(format!("{shown}: cannot read: {e}")),
    };
    let Block {
        begin,
        end,
        name,
        source,
        command,
    } = block;
    match current_block(&text, block) {
        None => Some(format!(
            "{shown}: no {name} between `{begin}` and `{end}`; `{command}` prints it, `{command} --write` puts it there"
        )),
        Some(current) => {
            let normal = |t: &str| t.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
            if normal(&current) == normal(table) {
                None
            } else {
                let diff = similar::TextDiff::from_lines(&current, table)
                    .unified_diff()
                    .header("README.md", &format!("from {source}"))
                    .to_string();
                Some(format!(
                    "{shown}: the {name} does not match {source} (`{command} --write` fixes it):\n{diff}"
                ))
            }
        }
    }
}

/// Put `table` into the README in place of the current block.
pub fn write_block(readme_path: &Path, block: &Block, table: &str) -> Result<(), String> {
    let shown = readme_path.display();
    let text = fs::read_to_string(readme_path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let Some(current) = current_block(&text, block) else {
        return Err(format!(
            "{shown}: no `{}` ... `{}` block; put those two lines where the {} belongs, then run this again",
            block.begin, block.end, block.name
        ));
    };
    let start = text.find(block.begin).unwrap_or(0);
    let mut updated = String::new();
    updated.push_str(&text[..start]);
    updated.push_str(table);
    let after = start + current.len() - 1;
    updated.push_str(text[after..].strip_prefix('\n').unwrap_or(&text[after..]));
    fs::write(readme_path, updated).map_err(|e| format!("{shown}: cannot write: {e}"))
}
