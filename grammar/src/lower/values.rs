//! Scalar and map values of fields: ints, floats, booleans, durations, comma lists and
//! `key: value` maps, each parsed the way the reference parses it.

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::duration::GoDuration;
use crate::lexer::unquote;
use crate::source::Span;

/// A field's value with where it came from.
#[derive(Clone, Debug)]
pub(crate) struct FieldValue {
    pub key: String,
    pub key_span: Span,
    pub text: String,
    pub span: Span,
    /// Byte offset of each line of `text` (one entry for single-line values).
    pub line_offsets: Vec<usize>,
}

impl FieldValue {
    /// The span of the `n`th line of the value.
    pub fn line_span(&self, n: usize) -> Span {
        self.line_offsets
            .get(n)
            .map_or(self.span, |start| Span::new(*start, *start + 1))
    }
}

/// Collects diagnostics while converting values.
pub(crate) struct Sink {
    pub diagnostics: Vec<Diagnostic>,
}

impl Sink {
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::parse(span, message));
    }

    pub fn warn(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(Code::PARSE, Severity::Warning, message).with_span(span));
    }

    /// Go `strconv.Atoi`: optional sign and decimal digits.
    pub fn int(&mut self, v: &FieldValue) -> i64 {
        let t = v.text.as_str();
        let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
        let parsed = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            t.parse::<i64>().ok()
        } else {
            None
        };
        parsed.unwrap_or_else(|| {
            self.error(
                v.span,
                format!("invalid integer {:?} for {}", v.text, v.key),
            );
            0
        })
    }

    /// Go `strconv.ParseFloat`, close enough: decimal and exponent forms.
    pub fn float(&mut self, v: &FieldValue) -> f64 {
        match v.text.parse::<f64>() {
            Ok(f) if f.is_finite() => f,
            _ => {
                self.error(v.span, format!("invalid float {:?} for {}", v.text, v.key));
                0.0
            }
        }
    }

    /// Case-insensitive `true/1/yes/on` or `false/0/no/off`.
    pub fn bool(&mut self, v: &FieldValue) -> bool {
        match v.text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => {
                self.error(
                    v.span,
                    format!(
                        "invalid boolean {:?} for {} (use true/false, 1/0, yes/no, on/off)",
                        v.text, v.key
                    ),
                );
                false
            }
        }
    }

    /// A Go duration such as `30s`, `5m`, `1h30m`.
    pub fn duration(&mut self, v: &FieldValue) -> GoDuration {
        GoDuration::parse(v.text.trim()).unwrap_or_else(|_| {
            self.error(
                v.span,
                format!(
                    "invalid duration {:?} for {} (use e.g. 30s, 5m, 1h)",
                    v.text, v.key
                ),
            );
            GoDuration::ZERO
        })
    }

    /// A `key: value` block (or single line), one entry per line: split on the
    /// first `:`, values unquoted, lines without `:` skipped, later keys win.
    pub fn map(&mut self, v: &FieldValue) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        for (n, line) in v.text.lines().enumerate() {
            let line = line.trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_string();
            let value = unquote(value.trim());
            if map.insert(key.clone(), value).is_some() {
                self.warn(
                    v.line_span(n),
                    format!("duplicate {} key {key:?} (last value wins)", v.key),
                );
            }
        }
        map
    }

    /// `steer_context`: the block form, or inline `k=v, k=v`.
    pub fn steer_context(&mut self, v: &FieldValue) -> BTreeMap<String, String> {
        let text = v.text.trim();
        let colon = text.find(':');
        let equals = text.find('=');
        let block_form = match (colon, equals) {
            (Some(c), Some(e)) => c < e,
            (Some(_), None) => true,
            _ => false,
        };
        if block_form {
            return self.map(v);
        }
        let mut map = BTreeMap::new();
        for part in text.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((key, value)) = part.split_once('=') else {
                self.error(
                    v.span,
                    format!("steer_context entry {part:?} must be key=value"),
                );
                continue;
            };
            let key = key.trim().to_string();
            if key.contains(':') {
                self.warn(
                    v.span,
                    format!("steer_context key {key:?} contains ':' and is dropped"),
                );
                continue;
            }
            if map.insert(key.clone(), unquote(value.trim())).is_some() {
                self.warn(
                    v.span,
                    format!("duplicate steer_context key {key:?} (last value wins)"),
                );
            }
        }
        map
    }
}

/// Splits a comma list and trims each item, keeping empty items (reference behaviour
/// for `class`, `reads`, `writes`, `outputs`).
pub(crate) fn csv(text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    text.split(',').map(|s| s.trim().to_string()).collect()
}

/// Splits a comma list, dropping empty items (`requires`, input `options`).
pub(crate) fn csv_nonempty(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The closest candidate within edit distance 2, for "did you mean" hints.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance, bounded in cost by the short strings it is used on.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return 3;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(key: &str, text: &str) -> FieldValue {
        FieldValue {
            key: key.into(),
            key_span: Span::default(),
            text: text.into(),
            span: Span::default(),
            line_offsets: vec![0],
        }
    }

    #[test]
    fn ints_follow_atoi() {
        let mut sink = Sink {
            diagnostics: vec![],
        };
        assert_eq!(sink.int(&value("max_retries", "-3")), -3);
        assert_eq!(sink.int(&value("max_retries", "3x")), 0);
        assert_eq!(sink.diagnostics.len(), 1);
        assert!(sink.diagnostics[0]
            .message
            .starts_with("invalid integer \"3x\" for max_retries"));
    }

    #[test]
    fn maps_split_on_first_colon_and_report_duplicates() {
        let mut sink = Sink {
            diagnostics: vec![],
        };
        let map = sink.map(&value(
            "params",
            "url: http://x:1\nquorum: 2\nnocolon\nquorum: \"3\"",
        ));
        assert_eq!(map["url"], "http://x:1");
        assert_eq!(map["quorum"], "3");
        assert_eq!(map.len(), 2);
        assert!(sink.diagnostics[0]
            .message
            .contains("duplicate params key \"quorum\""));
    }

    #[test]
    fn steer_context_accepts_inline_form() {
        let mut sink = Sink {
            diagnostics: vec![],
        };
        let map = sink.steer_context(&value("steer_context", "a=1, b=\"two\""));
        assert_eq!(map["a"], "1");
        assert_eq!(map["b"], "two");
    }

    #[test]
    fn suggestions_are_close_matches() {
        assert_eq!(suggest("agnet", ["agent", "human", "tool"]), Some("agent"));
        assert_eq!(suggest("xyzzy", ["agent", "human"]), None);
    }
}
