//! JSON text byte-identical to Go's `encoding/json`, which the conformance goldens,
//! `checkpoint.json` and the other on-disk formats of the reference are written in.
//!
//! Go differs from `serde_json` in ways a byte comparison notices: it escapes
//! `<`, `>`, `&`, U+2028 and U+2029 (`\u003c`, …), spells control characters
//! `\u001b` (lower-case hex) except for the short escapes `\b \f \n \r \t`, and
//! prints a `float64` the way `strconv.FormatFloat` does — a whole number as an
//! integer (`150`), an exponent only outside `[1e-6, 1e21)` (`1e+21`, `1e-7`).
//! Struct fields come out in declaration order while map keys are sorted, so a
//! value to encode is a [`GoValue`], whose objects keep the order they were built
//! in; converting a `serde_json::Value` sorts its keys as a Go map would.
//!
//! [`GoValue::parse`] reads JSON text back without losing key order, so a golden
//! file can be re-encoded and compared byte for byte.

use std::fmt::Write as _;

/// A JSON value whose objects keep their key order, encoded as Go would encode it.
///
/// Numbers keep the Go type they stand for: `Int`/`Uint` print as integers,
/// `Float` prints as a Go `float64`.
#[derive(Clone, Debug, PartialEq)]
pub enum GoValue {
    /// `null` (a nil pointer, map or slice).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A signed integer (Go `int`, `int64`, `time.Duration`).
    Int(i64),
    /// An unsigned integer (Go `uint64`).
    Uint(u64),
    /// A Go `float64`. Non-finite values, which Go refuses to encode, print as `null`.
    Float(f64),
    /// A string.
    String(String),
    /// An array, one element per line when indented.
    Array(Vec<GoValue>),
    /// An object whose keys are written in this order.
    Object(Vec<(String, GoValue)>),
}

impl GoValue {
    /// An object from `(key, value)` pairs, in the order given.
    pub fn object<K: Into<String>>(fields: impl IntoIterator<Item = (K, GoValue)>) -> GoValue {
        GoValue::Object(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An object from a sorted map, as Go writes a `map[string]T`.
    pub fn sorted_map<'a, T: 'a>(
        map: impl IntoIterator<Item = (&'a String, &'a T)>,
        value: impl Fn(&T) -> GoValue,
    ) -> GoValue {
        let mut fields: Vec<(String, GoValue)> = map
            .into_iter()
            .map(|(k, v)| (k.clone(), value(v)))
            .collect();
        fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        GoValue::Object(fields)
    }

    /// An array of strings (a Go `[]string`).
    pub fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> GoValue {
        GoValue::Array(
            items
                .into_iter()
                .map(|s| GoValue::String(s.clone()))
                .collect(),
        )
    }

    /// The value under `key` when this is an object (the last one, should the key
    /// repeat, as Go's decoder keeps).
    pub fn get(&self, key: &str) -> Option<&GoValue> {
        match self {
            GoValue::Object(fields) => fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// What this value becomes after a trip through Go's generic decoding: JSON
    /// text decoded into `any` and encoded again. Objects become maps (keys sorted
    /// by byte order, a repeated key keeps its last value) and every number becomes
    /// a `float64`. The golden harness writes trace `stats` this way.
    pub fn to_generic(&self) -> GoValue {
        match self {
            GoValue::Null => GoValue::Null,
            GoValue::Bool(b) => GoValue::Bool(*b),
            GoValue::Int(i) => GoValue::Float(*i as f64),
            GoValue::Uint(u) => GoValue::Float(*u as f64),
            GoValue::Float(f) => GoValue::Float(*f),
            GoValue::String(s) => GoValue::String(s.clone()),
            GoValue::Array(items) => {
                GoValue::Array(items.iter().map(GoValue::to_generic).collect())
            }
            GoValue::Object(fields) => {
                let mut out: Vec<(String, GoValue)> = Vec::with_capacity(fields.len());
                for (k, v) in fields {
                    let v = v.to_generic();
                    match out.iter_mut().find(|(existing, _)| existing == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k.clone(), v)),
                    }
                }
                out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                GoValue::Object(out)
            }
        }
    }

    /// Parses JSON text, keeping every object's keys in the order written.
    ///
    /// Integers that fit an `i64` (or else a `u64`) become `Int`/`Uint`; any other
    /// number becomes a `Float`. A lone UTF-16 surrogate in a `\u` escape decodes
    /// to U+FFFD, as in Go. Nesting deeper than 512 levels is refused.
    pub fn parse(text: &str) -> Result<GoValue, ParseError> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            text,
            pos: 0,
        };
        parser.skip_ws();
        let value = parser.value(0)?;
        parser.skip_ws();
        if parser.pos != parser.bytes.len() {
            return Err(parser.error(ParseErrorKind::TrailingData));
        }
        Ok(value)
    }
}

impl From<&serde_json::Value> for GoValue {
    /// Converts as Go would encode the value held in a `map[string]any`: object
    /// keys sorted by byte order, whatever order the `Value` kept them in.
    fn from(value: &serde_json::Value) -> GoValue {
        match value {
            serde_json::Value::Null => GoValue::Null,
            serde_json::Value::Bool(b) => GoValue::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    GoValue::Int(i)
                } else if let Some(u) = n.as_u64() {
                    GoValue::Uint(u)
                } else {
                    GoValue::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => GoValue::String(s.clone()),
            serde_json::Value::Array(items) => {
                GoValue::Array(items.iter().map(GoValue::from).collect())
            }
            serde_json::Value::Object(map) => GoValue::sorted_map(map.iter(), |v| GoValue::from(v)),
        }
    }
}

impl From<&str> for GoValue {
    fn from(s: &str) -> GoValue {
        GoValue::String(s.to_owned())
    }
}

impl From<String> for GoValue {
    fn from(s: String) -> GoValue {
        GoValue::String(s)
    }
}

impl From<bool> for GoValue {
    fn from(b: bool) -> GoValue {
        GoValue::Bool(b)
    }
}

impl From<i64> for GoValue {
    fn from(i: i64) -> GoValue {
        GoValue::Int(i)
    }
}

impl From<u64> for GoValue {
    fn from(u: u64) -> GoValue {
        GoValue::Uint(u)
    }
}

impl From<f64> for GoValue {
    fn from(f: f64) -> GoValue {
        GoValue::Float(f)
    }
}

/// The text `json.NewEncoder(w)` with `SetIndent("", "  ")` writes: two-space
/// indentation, `"key": value`, one element per line, `[]`/`{}` for empty
/// containers, and a trailing newline. This is the golden files' encoding.
pub fn to_go_json_pretty(value: &GoValue) -> String {
    let mut out = to_go_json_indent(value);
    out.push('\n');
    out
}

/// The text `json.MarshalIndent(v, "", "  ")` returns: as
/// [`to_go_json_pretty`] without the trailing newline (`checkpoint.json`,
/// `status.json`).
pub fn to_go_json_indent(value: &GoValue) -> String {
    let mut out = String::new();
    write_value(value, &mut out, Some(0));
    out
}

/// The text `json.Marshal` returns: no whitespace at all and no trailing newline.
pub fn to_go_json_compact(value: &GoValue) -> String {
    let mut out = String::new();
    write_value(value, &mut out, None);
    out
}

const INDENT: &str = "  ";

/// Writes `value`; `depth` is the current indentation level, or `None` for compact.
fn write_value(value: &GoValue, out: &mut String, depth: Option<usize>) {
    match value {
        GoValue::Null => out.push_str("null"),
        GoValue::Bool(true) => out.push_str("true"),
        GoValue::Bool(false) => out.push_str("false"),
        GoValue::Int(i) => {
            let _ = write!(out, "{i}");
        }
        GoValue::Uint(u) => {
            let _ = write!(out, "{u}");
        }
        GoValue::Float(f) => write_float(*f, out),
        GoValue::String(s) => write_string(s, out),
        GoValue::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth.map(|d| d + 1));
                write_value(item, out, depth.map(|d| d + 1));
            }
            newline(out, depth);
            out.push(']');
        }
        GoValue::Object(fields) => {
            if fields.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth.map(|d| d + 1));
                write_string(key, out);
                out.push(':');
                if depth.is_some() {
                    out.push(' ');
                }
                write_value(item, out, depth.map(|d| d + 1));
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

/// In indented mode, starts a new line at `depth`; in compact mode does nothing.
fn newline(out: &mut String, depth: Option<usize>) {
    if let Some(depth) = depth {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(INDENT);
        }
    }
}

/// Go's `encodeState.string` with HTML escaping on (the default for both
/// `Marshal` and `Encoder`), as of Go 1.22 (which writes `\b` and `\f` short).
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `floatEncoder` for `float64`: `strconv.FormatFloat(f, 'f', -1, 64)` for
/// magnitudes in `[1e-6, 1e21)` (and zero), otherwise the `'e'` form with a
/// two-digit exponent shortened back to one digit when negative (`1e-07` →
/// `1e-7`). Rust's `Display`/`LowerExp` give the same shortest round-trip digits;
/// only the exponent spelling differs.
fn write_float(f: f64, out: &mut String) {
    if !f.is_finite() {
        // Go's encoder fails with UnsupportedValueError; an encoder that cannot
        // fail writes what serde_json writes.
        out.push_str("null");
        return;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let formatted = format!("{f:e}");
        let (mantissa, exponent) = formatted
            .split_once('e')
            .unwrap_or((formatted.as_str(), "0"));
        out.push_str(mantissa);
        out.push('e');
        match exponent.strip_prefix('-') {
            Some(digits) => {
                out.push('-');
                out.push_str(digits);
            }
            None => {
                out.push('+');
                if exponent.len() < 2 {
                    out.push('0');
                }
                out.push_str(exponent);
            }
        }
    } else {
        let _ = write!(out, "{f}");
    }
}

/// Why [`GoValue::parse`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte {offset}: {kind}")]
pub struct ParseError {
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    /// What was wrong there.
    pub kind: ParseErrorKind,
}

/// The kinds of malformed JSON [`GoValue::parse`] reports.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The text ended inside a value.
    #[error("unexpected end of input")]
    UnexpectedEnd,
    /// A character that cannot start or continue a value here.
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    /// A number that is not JSON number syntax, or too large for a `float64`.
    #[error("invalid number")]
    InvalidNumber,
    /// A backslash escape JSON does not define, or a malformed `\u` escape.
    #[error("invalid escape sequence")]
    InvalidEscape,
    /// A raw control character (below U+0020) inside a string.
    #[error("control character in string")]
    ControlCharacter,
    /// More than whitespace after the value.
    #[error("data after the JSON value")]
    TrailingData,
    /// Arrays and objects nested too deeply.
    #[error("nesting too deep")]
    TooDeep,
}

const MAX_DEPTH: usize = 512;

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, kind: ParseErrorKind) -> ParseError {
        ParseError {
            offset: self.pos,
            kind,
        }
    }

    /// An error for the character at the current position (or the end of input).
    fn unexpected(&self) -> ParseError {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => self.error(ParseErrorKind::UnexpectedChar(c)),
            None => self.error(ParseErrorKind::UnexpectedEnd),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), ParseError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn literal(&mut self, word: &str, value: GoValue) -> Result<GoValue, ParseError> {
        for &b in word.as_bytes() {
            self.expect(b)?;
        }
        Ok(value)
    }

    fn value(&mut self, depth: usize) -> Result<GoValue, ParseError> {
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(GoValue::String(self.string()?)),
            Some(b't') => self.literal("true", GoValue::Bool(true)),
            Some(b'f') => self.literal("false", GoValue::Bool(false)),
            Some(b'n') => self.literal("null", GoValue::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected()),
        }
    }

    fn array(&mut self, depth: usize) -> Result<GoValue, ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(ParseErrorKind::TooDeep));
        }
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(GoValue::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(GoValue::Array(items));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<GoValue, ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(ParseErrorKind::TooDeep));
        }
        self.expect(b'{')?;
        let mut fields = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(GoValue::Object(fields));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':')?;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            fields.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(GoValue::Object(fields));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run stops only at ASCII bytes, so it ends on a char boundary.
            out.push_str(self.text.get(start..self.pos).unwrap_or_default());
            match self.peek() {
                None => return Err(self.error(ParseErrorKind::UnexpectedEnd)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.error(ParseErrorKind::ControlCharacter)),
            }
        }
    }

    /// Decodes the escape after a backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let Some(b) = self.peek() else {
            return Err(self.error(ParseErrorKind::UnexpectedEnd));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                if (0xD800..0xDC00).contains(&first)
                    && self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u")
                {
                    let save = self.pos;
                    self.pos += 2;
                    let second = self.hex4()?;
                    if (0xDC00..0xE000).contains(&second) {
                        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        char::from_u32(code).unwrap_or('\u{FFFD}')
                    } else {
                        // Not a pair: the first half stands alone; re-read the second.
                        self.pos = save;
                        '\u{FFFD}'
                    }
                } else {
                    char::from_u32(first).unwrap_or('\u{FFFD}')
                }
            }
            _ => {
                self.pos -= 1;
                return Err(self.error(ParseErrorKind::InvalidEscape));
            }
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error(ParseErrorKind::InvalidEscape))?;
        let value = u32::from_str_radix(digits, 16)
            .map_err(|_| self.error(ParseErrorKind::InvalidEscape))?;
        self.pos += 4;
        Ok(value)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<GoValue, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error(ParseErrorKind::InvalidNumber)),
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            integral = false;
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error(ParseErrorKind::InvalidNumber));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integral = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error(ParseErrorKind::InvalidNumber));
            }
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        if integral {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(GoValue::Int(i));
            }
            if let Ok(u) = text.parse::<u64>() {
                return Ok(GoValue::Uint(u));
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(GoValue::Float(f)),
            _ => Err(ParseError {
                offset: start,
                kind: ParseErrorKind::InvalidNumber,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOLDEN_DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance/golden"
    );

    fn float(f: f64) -> String {
        to_go_json_compact(&GoValue::Float(f))
    }

    fn string(s: &str) -> String {
        to_go_json_compact(&GoValue::from(s))
    }

    #[test]
    fn every_golden_file_reencodes_byte_identically() {
        let mut checked = 0;
        for entry in std::fs::read_dir(GOLDEN_DIR).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".golden.json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let value = GoValue::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(to_go_json_pretty(&value), text, "{}", path.display());
            checked += 1;
        }
        assert!(
            checked >= 6,
            "expected the six golden fixtures, found {checked}"
        );
    }

    #[test]
    fn indented_layout_matches_go() {
        let value = GoValue::object([
            (
                "a",
                GoValue::Array(vec![GoValue::Int(1), GoValue::Array(vec![])]),
            ),
            ("b", GoValue::Object(vec![])),
            ("c", GoValue::object([("d", GoValue::Null)])),
        ]);
        let expected = "{\n  \"a\": [\n    1,\n    []\n  ],\n  \"b\": {},\n  \"c\": {\n    \"d\": null\n  }\n}\n";
        assert_eq!(to_go_json_pretty(&value), expected);
        assert_eq!(to_go_json_indent(&value), expected.trim_end_matches('\n'));
        assert_eq!(
            to_go_json_compact(&value),
            r#"{"a":[1,[]],"b":{},"c":{"d":null}}"#
        );
    }

    #[test]
    fn empty_containers_and_scalars_at_top_level() {
        assert_eq!(to_go_json_pretty(&GoValue::Array(vec![])), "[]\n");
        assert_eq!(to_go_json_pretty(&GoValue::Object(vec![])), "{}\n");
        assert_eq!(to_go_json_pretty(&GoValue::Null), "null\n");
        assert_eq!(to_go_json_compact(&GoValue::Bool(false)), "false");
        assert_eq!(to_go_json_compact(&GoValue::Int(-42)), "-42");
        assert_eq!(
            to_go_json_compact(&GoValue::Uint(u64::MAX)),
            "18446744073709551615"
        );
    }

    #[test]
    fn html_characters_and_line_separators_are_escaped() {
        assert_eq!(
            string("<a href=\"x\">&</a>"),
            r#""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e""#
        );
        assert_eq!(string("a\u{2028}b\u{2029}c"), r#""a\u2028b\u2029c""#);
    }

    #[test]
    fn control_characters_use_go_escapes() {
        assert_eq!(string("q\"b\\s/"), r#""q\"b\\s/""#);
        assert_eq!(string("\n\r\t"), r#""\n\r\t""#);
        // Go 1.22+ writes \b and \f short; every other control character as \u00xx.
        assert_eq!(string("\u{8}\u{c}"), r#""\b\f""#);
        assert_eq!(string("\u{0}\u{1b}\u{1f}"), r#""\u0000\u001b\u001f""#);
        // DEL and non-ASCII text are written literally.
        assert_eq!(string("\u{7f}é→😀"), "\"\u{7f}é→😀\"");
    }

    #[test]
    fn whole_floats_print_as_integers() {
        assert_eq!(float(0.0), "0");
        assert_eq!(float(150.0), "150");
        assert_eq!(float(-3.0), "-3");
        assert_eq!(float(-0.0), "-0");
        assert_eq!(float(1e20), "100000000000000000000");
    }

    #[test]
    fn fractional_floats_use_the_shortest_decimal() {
        assert_eq!(float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(float(12.5), "12.5");
        assert_eq!(float(0.000001), "0.000001");
        assert_eq!(float(0.0123), "0.0123");
    }

    #[test]
    fn floats_outside_the_plain_range_use_go_exponents() {
        assert_eq!(float(1e21), "1e+21");
        assert_eq!(float(-1.5e22), "-1.5e+22");
        assert_eq!(float(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(float(1e-7), "1e-7");
        assert_eq!(float(1.23456789e-7), "1.23456789e-7");
        assert_eq!(float(1e-10), "1e-10");
        assert_eq!(float(5e-324), "5e-324");
        assert_eq!(float(f64::NAN), "null");
    }

    #[test]
    fn serde_values_have_their_keys_sorted_by_bytes() {
        let value =
            serde_json::json!({"b": 1, "a": {"z": true, "Z": 2.5}, "é": null, "B": [1, -2, 3.0]});
        assert_eq!(
            to_go_json_compact(&GoValue::from(&value)),
            r#"{"B":[1,-2,3],"a":{"Z":2.5,"z":true},"b":1,"é":null}"#
        );
    }

    #[test]
    fn generic_round_trip_sorts_keys_and_floats_numbers() {
        let value = GoValue::object([
            ("turns", GoValue::Int(3)),
            ("cost_usd", GoValue::Float(0.5)),
            ("turns", GoValue::Int(4)),
        ]);
        let generic = value.to_generic();
        assert_eq!(
            generic,
            GoValue::object([
                ("cost_usd", GoValue::Float(0.5)),
                ("turns", GoValue::Float(4.0))
            ])
        );
        assert_eq!(
            to_go_json_compact(&generic),
            r#"{"cost_usd":0.5,"turns":4}"#
        );
    }

    #[test]
    fn parse_keeps_key_order_and_number_kinds() {
        let value =
            GoValue::parse(r#" {"z": 1, "a": [-2, 18446744073709551615, 1.5e3, "x"], "m": {}} "#)
                .unwrap();
        assert_eq!(
            value,
            GoValue::object([
                ("z", GoValue::Int(1)),
                (
                    "a",
                    GoValue::Array(vec![
                        GoValue::Int(-2),
                        GoValue::Uint(u64::MAX),
                        GoValue::Float(1500.0),
                        GoValue::from("x"),
                    ])
                ),
                ("m", GoValue::Object(vec![])),
            ])
        );
        assert_eq!(value.get("z"), Some(&GoValue::Int(1)));
        assert_eq!(value.get("missing"), None);
    }

    #[test]
    fn parse_decodes_escapes() {
        let value = GoValue::parse(r#""\"\\\/\b\f\n\r\t\u003c\u00e9\ud83d\ude00\ud800x""#).unwrap();
        assert_eq!(value, GoValue::from("\"\\/\u{8}\u{c}\n\r\t<é😀\u{FFFD}x"));
    }

    #[test]
    fn parse_rejects_malformed_text() {
        let cases: &[(&str, ParseErrorKind, usize)] = &[
            ("", ParseErrorKind::UnexpectedEnd, 0),
            ("{\"a\" 1}", ParseErrorKind::UnexpectedChar('1'), 5),
            ("[1,]", ParseErrorKind::UnexpectedChar(']'), 3),
            ("01", ParseErrorKind::TrailingData, 1),
            ("1.", ParseErrorKind::InvalidNumber, 2),
            ("1e999", ParseErrorKind::InvalidNumber, 0),
            ("\"a\u{1}\"", ParseErrorKind::ControlCharacter, 2),
            ("\"\\x\"", ParseErrorKind::InvalidEscape, 2),
            ("\"\\u12G4\"", ParseErrorKind::InvalidEscape, 3),
            ("\"abc", ParseErrorKind::UnexpectedEnd, 4),
            ("nul", ParseErrorKind::UnexpectedEnd, 3),
            ("{} x", ParseErrorKind::TrailingData, 3),
        ];
        for (text, kind, offset) in cases {
            let err = GoValue::parse(text).unwrap_err();
            assert_eq!((&err.kind, err.offset), (kind, *offset), "input {text:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(
            GoValue::parse(&deep).unwrap_err().kind,
            ParseErrorKind::TooDeep
        );
        assert_eq!(
            GoValue::parse("[1,]").unwrap_err().to_string(),
            "invalid JSON at byte 3: unexpected character ']'"
        );
    }
}
