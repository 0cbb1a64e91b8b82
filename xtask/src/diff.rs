//! A unified diff of two texts, to show what a dry run would write.
//!
//! Lines are diffed with `similar`'s Myers algorithm: the release edits a handful of lines of
//! files that may be long (a changelog grows forever), so the cost follows the size of the
//! change. The text is written here rather than by `similar`'s own formatter (its `text`
//! feature), which drops the length of one-line ranges (`-10` where this output has always
//! written `-10,1`).

use std::ops::Range;

use similar::{Algorithm, DiffOp, DiffTag, capture_diff_slices, group_diff_ops};

/// The unified diff (`---`/`+++` headers, `@@` hunks with `context` lines around each change)
/// from `old` to `new`, or an empty string when they are equal.
pub(crate) fn unified(path: &str, old: &str, new: &str, context: usize) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let hunks = group_diff_ops(edit_script(&a, &b), context);
    if hunks.is_empty() {
        return String::new();
    }
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    for hunk in hunks {
        let (Some(first), Some(last)) = (hunk.first(), hunk.last()) else {
            continue;
        };
        let old_lines = first.old_range().start..last.old_range().end;
        let new_lines = first.new_range().start..last.new_range().end;
        // 1-based first line; an empty range names the line before it, as diff(1) does.
        let start = |r: &Range<usize>| if r.is_empty() { r.start } else { r.start + 1 };
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            start(&old_lines),
            old_lines.len(),
            start(&new_lines),
            new_lines.len()
        ));
        for op in &hunk {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            let (kept, deleted, inserted) = match tag {
                DiffTag::Equal => (old_range, 0..0, 0..0),
                DiffTag::Delete => (0..0, old_range, 0..0),
                DiffTag::Insert => (0..0, 0..0, new_range),
                DiffTag::Replace => (0..0, old_range, new_range),
            };
            for line in &a[kept] {
                out.push_str(&format!(" {line}\n"));
            }
            for line in &a[deleted] {
                out.push_str(&format!("-{line}\n"));
            }
            for line in &b[inserted] {
                out.push_str(&format!("+{line}\n"));
            }
        }
    }
    out
}

/// The shortest edit script turning lines `a` into lines `b`.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<DiffOp> {
    capture_diff_slices(Algorithm::Myers, a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies an edit script to `a`, to check it yields `b`.
    fn apply(a: &[&str], b: &[&str], ops: &[DiffOp]) -> Vec<String> {
        let mut out = Vec::new();
        for op in ops {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            match tag {
                DiffTag::Equal => {
                    assert_eq!(a[old_range.clone()], b[new_range]);
                    out.extend(a[old_range].iter().map(|l| (*l).to_owned()));
                }
                DiffTag::Delete => {}
                DiffTag::Insert | DiffTag::Replace => {
                    out.extend(b[new_range].iter().map(|l| (*l).to_owned()));
                }
            }
        }
        out
    }

    #[test]
    fn scripts_are_minimal_and_correct() {
        let cases: [(&str, &str, usize); 6] = [
            ("", "", 0),
            ("a\nb\nc", "a\nb\nc", 0),
            ("", "x\ny", 2),
            ("x\ny", "", 2),
            ("a\nb\nc\na\nb\nb\na", "c\nb\na\nb\na\nc", 5), // Myers' paper example
            ("1\n2\n3\n4", "1\nx\n3\n4\ny", 3),
        ];
        for (old, new, edits) in cases {
            let a: Vec<&str> = old.lines().collect();
            let b: Vec<&str> = new.lines().collect();
            let ops = edit_script(&a, &b);
            assert_eq!(apply(&a, &b, &ops), b, "{old:?} -> {new:?}");
            let count: usize = ops
                .iter()
                .map(|op| match op.tag() {
                    DiffTag::Equal => 0,
                    _ => op.old_range().len() + op.new_range().len(),
                })
                .sum();
            assert_eq!(count, edits, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn hunks_carry_context_and_line_numbers() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let new = "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\neleven\n";
        assert_eq!(
            unified("f", old, new, 1),
            "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n@@ -10,1 +10,2 @@\n 10\n+eleven\n"
        );
        assert_eq!(unified("f", old, old, 3), "");
    }

    #[test]
    fn an_empty_side_starts_at_line_zero_and_replacements_delete_first() {
        assert_eq!(
            unified("f", "", "x\ny\n", 3),
            "--- a/f\n+++ b/f\n@@ -0,0 +1,2 @@\n+x\n+y\n"
        );
        assert_eq!(
            unified("f", "x\ny\n", "", 3),
            "--- a/f\n+++ b/f\n@@ -1,2 +0,0 @@\n-x\n-y\n"
        );
        assert_eq!(
            unified("f", "keep\na\nb\nkeep\n", "keep\nc\nd\nkeep\n", 0),
            "--- a/f\n+++ b/f\n@@ -2,2 +2,2 @@\n-a\n-b\n+c\n+d\n"
        );
    }
}
