//! Request parameters as a user gives them: `key=value` arguments, or a JSON object on
//! standard input.
//!
//! Both forms refuse a key given twice. A JSON map would silently keep the last copy, while
//! a server or an SDK may read the first: exactly the disagreement that produces `sign err`.

use std::collections::HashSet;
use std::fmt;
use std::io::{IsTerminal, Read};

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::Value;

/// The most standard input that is read: far more than any request's parameters.
const STDIN_LIMIT: u64 = 1 << 20;

/// Parameters in the order given. JSON `null`s are kept apart: they mean "absent" and are
/// neither signed nor sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Params {
    present: Vec<(String, String)>,
    absent: Vec<String>,
}

impl Params {
    /// The parameters that have a value, in the order given.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.present.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The keys given as `null`.
    pub(crate) fn absent(&self) -> &[String] {
        &self.absent
    }

    fn insert(&mut self, seen: &mut HashSet<String>, key: String, value: Option<String>) -> bool {
        if !seen.insert(key.clone()) {
            return false;
        }
        match value {
            Some(value) => self.present.push((key, value)),
            None => self.absent.push(key),
        }
        true
    }
}

/// Parameters that cannot be used. The message is meant for one line of standard error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InputError(String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn duplicate(key: &str) -> String {
    format!("parameter {key:?} is given more than once")
}

/// Reads `KEY=VALUE` arguments. The value runs from the first `=` to the end, so it may hold
/// `=` itself; an empty value is kept (signing leaves it out, as the servers do).
pub(crate) fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Params, InputError> {
    let mut params = Params::default();
    let mut seen = HashSet::new();
    for arg in args {
        let arg = arg.as_ref();
        let Some((key, value)) = arg.split_once('=') else {
            return Err(InputError(format!(
                "argument {arg:?} is not of the form KEY=VALUE"
            )));
        };
        if key.is_empty() {
            return Err(InputError(format!("argument {arg:?} has an empty key")));
        }
        if !params.insert(&mut seen, key.to_owned(), Some(value.to_owned())) {
            return Err(InputError(duplicate(key)));
        }
    }
    Ok(params)
}

/// Reads a JSON object whose values are strings or `null`.
pub(crate) fn from_json(bytes: &[u8]) -> Result<Params, InputError> {
    let invalid = |e: serde_json::Error| {
        InputError(format!(
            "standard input is not a JSON object of string parameters: {e}"
        ))
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let JsonParams(params) = JsonParams::deserialize(&mut deserializer).map_err(invalid)?;
    deserializer.end().map_err(invalid)?;
    Ok(params)
}

/// The arguments if there are any, otherwise a JSON object from standard input.
pub(crate) fn read<S: AsRef<str>>(args: &[S]) -> Result<Params, InputError> {
    if !args.is_empty() {
        return from_args(args);
    }
    from_json(&stdin(
        "no parameters: give KEY=VALUE arguments or pipe a JSON object to standard input",
    )?)
}

/// All of standard input, up to a limit far beyond any real input. `missing` is the error
/// when standard input is a terminal: waiting for one to be closed would look like a hang.
pub(crate) fn stdin(missing: &str) -> Result<Vec<u8>, InputError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(InputError(missing.to_owned()));
    }
    let mut bytes = Vec::new();
    stdin
        .lock()
        .take(STDIN_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| InputError(format!("cannot read standard input: {e}")))?;
    if bytes.len() as u64 > STDIN_LIMIT {
        return Err(InputError(format!(
            "standard input is larger than {STDIN_LIMIT} bytes"
        )));
    }
    Ok(bytes)
}

/// Deserializes through a map visitor, which sees every key, duplicates included.
struct JsonParams(Params);

impl<'de> Deserialize<'de> for JsonParams {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ParamsVisitor).map(Self)
    }
}

struct ParamsVisitor;

impl<'de> Visitor<'de> for ParamsVisitor {
    type Value = Params;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
        let mut params = Params::default();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match map.next_value::<Value>()? {
                Value::String(s) => Some(s),
                Value::Null => None,
                other => {
                    let kind = match other {
                        Value::Bool(_) => "a boolean",
                        Value::Number(_) => "a number",
                        Value::Array(_) => "an array",
                        _ => "an object",
                    };
                    return Err(de::Error::custom(format_args!(
                        "parameter {key:?} is {kind}, not a string (quote numbers: \"1\")"
                    )));
                }
            };
            if !params.insert(&mut seen, key.clone(), value) {
                return Err(de::Error::custom(duplicate(&key)));
            }
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn pairs(params: &Params) -> Vec<(&str, &str)> {
        params.pairs().collect()
    }

    /// What `liveapi sign` does with parsed input, short of printing: it must not panic, and
    /// with unique keys the only possible refusal is Polyv's `signatureMethod`.
    fn sign_all_ways(params: &Params) {
        use crate::vendor::Vendor;
        assert!(Vendor::Linkv.sign(params, "s").is_ok());
        assert!(Vendor::Linkv.canonical(params, "s").is_ok());
        let polyv_method = params.pairs().any(|(k, _)| k == "signatureMethod");
        assert!(Vendor::Polyv.sign(params, "s").is_ok() || polyv_method);
        assert!(Vendor::Polyv.canonical(params, "s").is_ok());
    }

    #[test]
    fn json_strings_are_parameters_and_nulls_are_absent() {
        let params = from_json(br#" {"b":"2","a":"x=y","page":null,"e":""} "#).unwrap();
        assert_eq!(pairs(&params), [("b", "2"), ("a", "x=y"), ("e", "")]);
        assert_eq!(params.absent(), ["page"]);
        assert_eq!(from_json(b"{}").unwrap(), Params::default());
    }

    #[test]
    fn arguments_split_at_the_first_equals_sign() {
        let params = from_args(&["a=1", "b=x=y", "c="]).unwrap();
        assert_eq!(pairs(&params), [("a", "1"), ("b", "x=y"), ("c", "")]);
    }

    #[test]
    fn unusable_input_is_refused_with_a_reason() {
        let cases: [(&[u8], &str); 9] = [
            (b"", "EOF"),
            (b"{", "EOF"),
            (b"[]", "expected a JSON object"),
            (b"\"a=1\"", "expected a JSON object"),
            (br#"{"a":1}"#, r#"parameter "a" is a number"#),
            (br#"{"a":true}"#, "is a boolean"),
            (br#"{"a":["1"]}"#, "is an array"),
            (
                br#"{"a":"1","a":"2"}"#,
                r#"parameter "a" is given more than once"#,
            ),
            (br#"{"a":"1"} x"#, "trailing characters"),
        ];
        for (input, expected) in cases {
            let err = from_json(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
        // A duplicate stays an error whether the first copy was null or not.
        assert!(from_json(br#"{"a":null,"a":"2"}"#).is_err());

        for args in [&["a"][..], &["=1"], &["a=1", "a=2"], &["a=", "a="]] {
            assert!(from_args(args).is_err(), "{args:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(params) = from_json(&bytes) {
                sign_all_ways(&params);
            }
        }

        #[test]
        fn arbitrary_json_ish_text_never_panics(text in r#"[{}\[\]":,a-c0-9 \\nul\-.eE]{0,64}"#) {
            if let Ok(params) = from_json(text.as_bytes()) {
                // Whatever parsed has unique keys, as signing requires.
                let mut keys: Vec<&str> = params.pairs().map(|(k, _)| k)
                    .chain(params.absent().iter().map(String::as_str)).collect();
                let count = keys.len();
                keys.sort_unstable();
                keys.dedup();
                prop_assert_eq!(keys.len(), count);
                sign_all_ways(&params);
            }
        }

        #[test]
        fn json_and_arguments_agree(map in proptest::collection::btree_map("[a-zA-Z_]{1,8}", "[ -~]{0,12}", 0..8)) {
            let json = serde_json::to_vec(&map).unwrap();
            let args: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
            prop_assert_eq!(from_json(&json).unwrap(), from_args(&args).unwrap());
        }
    }
}
