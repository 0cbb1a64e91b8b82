//! Reading JSON the way the vendors actually write it: numbers as strings, strings as numbers.
//!
//! Values are read from the raw JSON text (`RawValue`), never through a float, so that an id
//! of 21 digits or an amount of `0.1` survives exactly.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// The text of a JSON string or number; `None` for `null`.
pub(crate) fn text(raw: &RawValue) -> Result<Option<String>, String> {
    text_ref(raw).map(|t| t.map(Cow::into_owned))
}

/// [`text`] without copying: a string without escapes (almost every one) is borrowed from the
/// JSON, which is valid already, so its contents need no second look.
pub(crate) fn text_ref(raw: &RawValue) -> Result<Option<Cow<'_, str>>, String> {
    let json = raw.get().trim();
    match json.as_bytes().first() {
        Some(b'"') => match json.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            Some(inner) if !inner.contains('\\') => Ok(Some(Cow::Borrowed(inner))),
            _ => serde_json::from_str::<String>(json)
                .map(|s| Some(Cow::Owned(s)))
                .map_err(|e| e.to_string()),
        },
        Some(b'-' | b'0'..=b'9') => Ok(Some(Cow::Borrowed(json))),
        _ if json == "null" => Ok(None),
        _ => Err(format!(
            "expected a string or a number, found `{}`",
            short(json)
        )),
    }
}

/// The text of a JSON scalar as it was written: a string's contents, a number's digits,
/// `true` or `false`; `None` for `null`, objects, arrays and anything unreadable. For
/// informative fields whose type the vendor never documented.
pub(crate) fn scalar_text(raw: &RawValue) -> Option<String> {
    match raw.get().trim() {
        literal @ ("true" | "false") => Some(literal.to_owned()),
        _ => text(raw).ok().flatten(),
    }
}

/// The first characters of some JSON, for an error message.
pub(crate) fn short(json: &str) -> &str {
    let mut end = json.len().min(40);
    while !json.is_char_boundary(end) {
        end -= 1;
    }
    &json[..end]
}

/// Anything at all, read as text when it is a string or a number; `null`, objects and arrays
/// read as nothing. For fields like `msg` that are informative only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AnyText(pub(crate) Option<String>);

impl<'de> Deserialize<'de> for AnyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <Box<RawValue>>::deserialize(d)?;
        Ok(Self(text(&raw).ok().flatten()))
    }
}

/// An integer written as a JSON number or a string of digits, with an optional minus sign.
pub(crate) fn integer(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses `body` with `parse`, and if it is not valid JSON only because of trailing commas
/// (`{"a": 1,}`, as in the vendors' hand-written examples), parses it again without them.
pub(crate) fn with_json<R>(
    body: &[u8],
    parse: impl Fn(&[u8]) -> Result<R, serde_json::Error>,
) -> Result<R, serde_json::Error> {
    match parse(body) {
        Err(e) if e.is_syntax() => match without_trailing_commas(body) {
            Some(fixed) => parse(&fixed).map_err(|_| e),
            None => Err(e),
        },
        result => result,
    }
}

/// `body` with every comma that is followed (after whitespace) by `}` or `]` removed, outside
/// strings; `None` if there is no such comma.
fn without_trailing_commas(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut removed = false;
    for (i, &b) in body.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b',' {
            let next = body[i + 1..].iter().find(|c| !c.is_ascii_whitespace());
            if matches!(next, Some(b'}' | b']')) {
                removed = true;
                continue;
            }
        }
        out.push(b);
    }
    removed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_commas_are_removed_outside_strings_only() {
        let fixed = without_trailing_commas(
            br#"{"a": [1, 2, ], "b": ",}", "c": {"d": 1,
        },}"#,
        )
        .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&fixed).unwrap();
        assert_eq!(value["b"], ",}");
        assert_eq!(value["a"][1], 2);
        assert_eq!(without_trailing_commas(br#"{"a": "x,]"}"#), None);
    }
}
