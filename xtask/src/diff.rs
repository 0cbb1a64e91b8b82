//! A unified diff of two texts, to show what a dry run would write.
//!
//! Myers' O((N+M)·D) algorithm over lines: the release edits a handful of lines of files that
//! may be long (a changelog grows forever), so the cost follows the size of the change.

/// One line of an edit script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// In both: old index, new index.
    Keep(usize, usize),
    /// Only in the old text.
    Delete(usize),
    /// Only in the new text.
    Insert(usize),
}

/// The shortest edit script turning `a` into `b`.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    let max = n + m;
    let offset = max + 1;
    // v[k + offset]: the furthest x reached on diagonal k = x - y.
    let mut v = vec![0usize; 2 * max + 3];
    let mut trace: Vec<Vec<usize>> = Vec::new();
    'search: for d in 0..=max {
        trace.push(v.clone());
        for k in (offset - d..=offset + d).step_by(2) {
            let down = k == offset - d || (k != offset + d && v[k - 1] < v[k + 1]);
            let mut x = if down { v[k + 1] } else { v[k - 1] + 1 };
            let mut y = (x + offset).wrapping_sub(k);
            while x < n && y < m && a[x] == b[y] {
                x += 1;
                y += 1;
            }
            v[k] = x;
            if x >= n && y >= m {
                break 'search;
            }
        }
    }
    // Walk back from the end through the saved frontiers.
    let mut ops = Vec::with_capacity(max);
    let (mut x, mut y) = (n, m);
    for (d, v) in trace.iter().enumerate().rev() {
        if d == 0 {
            // The snake the search started with, from (0, 0).
            while x > 0 && y > 0 {
                x -= 1;
                y -= 1;
                ops.push(Op::Keep(x, y));
            }
            break;
        }
        let k = x + offset - y;
        let down = k == offset - d || (k != offset + d && v[k - 1] < v[k + 1]);
        let prev_k = if down { k + 1 } else { k - 1 };
        let prev_x = v[prev_k];
        let prev_y = (prev_x + offset).wrapping_sub(prev_k);
        while x > prev_x && y > prev_y {
            x -= 1;
            y -= 1;
            ops.push(Op::Keep(x, y));
        }
        if x == prev_x {
            y -= 1;
            ops.push(Op::Insert(y));
        } else {
            x -= 1;
            ops.push(Op::Delete(x));
        }
    }
    ops.reverse();
    ops
}

/// The unified diff (`---`/`+++` headers, `@@` hunks with `context` lines around each change)
/// from `old` to `new`, or an empty string when they are equal.
pub(crate) fn unified(path: &str, old: &str, new: &str, context: usize) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = edit_script(&a, &b);
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Keep(..)))
        .map(|(i, _)| i)
        .collect();
    if changed.is_empty() {
        return String::new();
    }
    // Group changes whose context overlaps into hunks of op indices.
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &i in &changed {
        let start = i.saturating_sub(context);
        let end = (i + context + 1).min(ops.len());
        match hunks.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => hunks.push((start, end)),
        }
    }
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    for (start, end) in hunks {
        let slice = &ops[start..end];
        // Line numbers (1-based) where the hunk starts in each text.
        let (mut old_at, mut new_at) = (0, 0);
        for op in &ops[..start] {
            match op {
                Op::Keep(..) => {
                    old_at += 1;
                    new_at += 1;
                }
                Op::Delete(_) => old_at += 1,
                Op::Insert(_) => new_at += 1,
            }
        }
        let old_len = slice.iter().filter(|o| !matches!(o, Op::Insert(_))).count();
        let new_len = slice.iter().filter(|o| !matches!(o, Op::Delete(_))).count();
        let first = |at: usize, len: usize| if len == 0 { at } else { at + 1 };
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            first(old_at, old_len),
            first(new_at, new_len)
        ));
        for op in slice {
            match *op {
                Op::Keep(i, _) => out.push_str(&format!(" {}\n", a[i])),
                Op::Delete(i) => out.push_str(&format!("-{}\n", a[i])),
                Op::Insert(j) => out.push_str(&format!("+{}\n", b[j])),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies an edit script to `a`, to check it yields `b`.
    fn apply(a: &[&str], b: &[&str], ops: &[Op]) -> Vec<String> {
        ops.iter()
            .filter_map(|op| match *op {
                Op::Keep(i, j) => {
                    assert_eq!(a[i], b[j]);
                    Some(a[i].to_owned())
                }
                Op::Delete(_) => None,
                Op::Insert(j) => Some(b[j].to_owned()),
            })
            .collect()
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
            let count = ops.iter().filter(|o| !matches!(o, Op::Keep(..))).count();
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
}
