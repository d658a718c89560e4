//! Finding a lesson by what a person types: its package name, its folder, its number, or
//! the name of one of its programs; and, when nothing matches, the names that come close.

use crate::meta::{Lesson, Planned};

/// What a name refers to.
pub enum Found<'a> {
    Written(&'a Lesson),
    /// In the catalog, but lessons/NN-name does not exist yet.
    Planned(&'a Planned),
    Unknown {
        close: Vec<String>,
    },
}

pub fn find<'a>(name: &str, lessons: &'a [Lesson], catalog: &'a [Planned]) -> Found<'a> {
    let number: Option<u32> = name.parse().ok();
    let written = lessons.iter().find(|l| {
        l.package == name
            || l.folder == name
            || (number.is_some() && l.folder_number == number)
            || l.binaries.iter().any(|b| b == name)
    });
    if let Some(lesson) = written {
        return Found::Written(lesson);
    }
    let planned = catalog.iter().find(|p| {
        p.package == name || Some(p.number) == number || p.binaries.iter().any(|b| b == name)
    });
    if let Some(planned) = planned {
        return Found::Planned(planned);
    }
    Found::Unknown {
        close: close_names(name, lessons, catalog),
    }
}

/// The known names nearest to `name`: a small edit distance, or one containing the
/// other. At most five, nearest first.
pub fn close_names(name: &str, lessons: &[Lesson], catalog: &[Planned]) -> Vec<String> {
    let mut names: Vec<&str> = lessons.iter().map(|l| l.package.as_str()).collect();
    for p in catalog {
        if !names.contains(&p.package.as_str()) {
            names.push(&p.package);
        }
    }
    let wanted = name.to_lowercase();
    let mut scored: Vec<(usize, &str)> = names
        .into_iter()
        .filter_map(|candidate| {
            let d = distance(&wanted, candidate);
            let limit = (wanted.chars().count() / 3).max(2);
            let contains =
                wanted.len() >= 3 && (candidate.contains(&wanted) || wanted.contains(candidate));
            (d <= limit || contains).then_some((if contains { d.min(limit) } else { d }, candidate))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(5)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Levenshtein distance between two strings, by characters.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::catalog;

    #[test]
    fn distances() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("tcp-clinet-v1", "tcp-client-v1"), 2);
    }

    #[test]
    fn close_names_for_typos_and_fragments() {
        let catalog = catalog();
        let close = close_names("tcp-clinet-v1", &[], &catalog);
        assert_eq!(close.first().map(String::as_str), Some("tcp-client-v1"));
        let close = close_names("sticky", &[], &catalog);
        assert_eq!(close, ["sticky-packet"]);
        assert!(close_names("zzzzzzzzzzzz", &[], &catalog).is_empty());
    }

    #[test]
    fn planned_lessons_are_found_by_name_number_and_program() {
        let catalog = catalog();
        for name in ["tcp-chat", "6", "tcp-chat-server"] {
            match find(name, &[], &catalog) {
                Found::Planned(p) => assert_eq!(p.package, "tcp-chat"),
                _ => panic!("{name} should find the planned tcp-chat lesson"),
            }
        }
    }
}
