//! Line-level diffs of two texts, for "which head-side lines did the change
//! touch" (GitHub takes inline review comments only on those).

use git2::{DiffOptions, Patch};

use crate::findings::LineRange;

/// Head-side line ranges of each hunk, including `context` unchanged lines
/// around the changes (GitHub's diff view uses 3).
pub fn diff_line_ranges(old: &[u8], new: &[u8], context: u32) -> Vec<LineRange> {
    hunks(old, new, context)
}

/// Head-side line ranges of added or changed lines only.
pub fn added_line_ranges(old: &[u8], new: &[u8]) -> Vec<LineRange> {
    let mut opts = DiffOptions::new();
    opts.context_lines(0);
    let Ok(patch) = Patch::from_buffers(old, None, new, None, Some(&mut opts)) else {
        return Vec::new();
    };
    let mut out: Vec<LineRange> = Vec::new();
    for h in 0..patch.num_hunks() {
        let Ok(lines) = patch.num_lines_in_hunk(h) else {
            continue;
        };
        for l in 0..lines {
            let Ok(line) = patch.line_in_hunk(h, l) else {
                continue;
            };
            if line.origin() != '+' {
                continue;
            }
            let Some(n) = line.new_lineno() else { continue };
            match out.last_mut() {
                Some(last) if last.end + 1 == n => last.end = n,
                _ => out.push(LineRange { start: n, end: n }),
            }
        }
    }
    out
}

fn hunks(old: &[u8], new: &[u8], context: u32) -> Vec<LineRange> {
    let mut opts = DiffOptions::new();
    opts.context_lines(context);
    let Ok(patch) = Patch::from_buffers(old, None, new, None, Some(&mut opts)) else {
        return Vec::new();
    };
    (0..patch.num_hunks())
        .filter_map(|h| patch.hunk(h).ok())
        .filter(|(hunk, _)| hunk.new_lines() > 0)
        .map(|(hunk, _)| LineRange {
            start: hunk.new_start(),
            end: hunk.new_start() + hunk.new_lines() - 1,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_are_found_and_merged() {
        let old = b"a\nb\nc\n";
        let new = b"a\nx\ny\nb\nc\nz\n";
        assert_eq!(
            added_line_ranges(old, new),
            [
                LineRange { start: 2, end: 3 },
                LineRange { start: 6, end: 6 }
            ]
        );
    }

    #[test]
    fn hunks_include_context() {
        let old = b"1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = b"1\n2\n3\n4\nX\n6\n7\n8\n9\n";
        assert_eq!(
            diff_line_ranges(old, new, 3),
            [LineRange { start: 2, end: 8 }]
        );
    }

    #[test]
    fn new_file_is_all_added() {
        assert_eq!(
            added_line_ranges(b"", b"a\nb\n"),
            [LineRange { start: 1, end: 2 }]
        );
    }
}
