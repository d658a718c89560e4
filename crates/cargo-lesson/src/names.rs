//! Finding a lesson by what a person types: its package name, its folder, its number, or
//! the name of one of its programs; and, when nothing matches, the names that come close.

use crate::meta::Lesson;

pub fn find<'a>(name: &str, lessons: &'a [Lesson]) -> Option<&'a Lesson> {
    let number: Option<u32> = name.parse().ok();
    lessons.iter().find(|l| {
        l.package == name
            || l.folder == name
            || (number.is_some() && l.folder_number == number)
            || l.binaries.iter().any(|b| b == name)
    })
}

/// The packages nearest to `name`: a small edit distance, or one containing the other.
/// At most five, nearest first.
pub fn close_names(name: &str, lessons: &[Lesson]) -> Vec<String> {
    let wanted = name.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = lessons
        .iter()
        .map(|l| l.package.as_str())
        .filter_map(|candidate| {
            let d = strsim::levenshtein(&wanted, candidate);
            let contains =
                wanted.len() >= 3 && (candidate.contains(&wanted) || wanted.contains(candidate));
            (d <= limit || contains).then_some((d.min(if contains { limit } else { d }), candidate))
        })
        .collect();
    scored.sort();
    scored.iter().take(5).map(|(_, n)| n.to_string()).collect()
}
