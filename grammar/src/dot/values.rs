//! Attribute values: typed conversions that report bad values as located warnings.
//!
//! Numbers, booleans, durations, comma lists, `k=v` maps and `model_stylesheet`.

use std::collections::BTreeMap;

use super::parser::Val;
use crate::diagnostic::{Code, Diagnostic};
use crate::duration::GoDuration;
use crate::ir::{NodeKind, Selector, StyleRule};
use crate::source::Span;

/// Typed-value conversions that report bad values as located warnings.
pub(super) struct Values<'d> {
    pub(super) diags: &'d mut Vec<Diagnostic>,
}

impl Values<'_> {
    pub(super) fn warn(&mut self, span: Span, message: String) {
        self.diags
            .push(Diagnostic::warning(Code::PARSE, message).with_span(span));
    }

    pub(super) fn int(&mut self, key: &str, v: &Val) -> i64 {
        match v.text.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                self.warn(
                    v.span,
                    format!("`{key}` expects an integer, got {:?}; ignored", v.text),
                );
                0
            }
        }
    }

    pub(super) fn float(&mut self, key: &str, v: &Val) -> f64 {
        match v.text.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => n,
            _ => {
                self.warn(
                    v.span,
                    format!("`{key}` expects a number, got {:?}; ignored", v.text),
                );
                0.0
            }
        }
    }

    /// Go's `strconv.ParseBool` spellings.
    pub(super) fn boolean(&mut self, key: &str, v: &Val) -> bool {
        match v.text.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
            "0" | "f" | "F" | "false" | "FALSE" | "False" | "" => false,
            other => {
                self.warn(
                    v.span,
                    format!("`{key}` expects true or false, got {other:?}; treated as false"),
                );
                false
            }
        }
    }

    /// Go duration syntax; a bare integer is read as seconds.
    pub(super) fn duration(&mut self, key: &str, v: &Val) -> GoDuration {
        let text = v.text.trim();
        if let Ok(d) = GoDuration::parse(text) {
            return d;
        }
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(ns) = text
                .parse::<i64>()
                .ok()
                .and_then(|s| s.checked_mul(1_000_000_000))
            {
                return GoDuration(ns);
            }
        }
        self.warn(
            v.span,
            format!("`{key}` expects a duration such as 30s or 5m, got {text:?}; ignored"),
        );
        GoDuration::ZERO
    }
}

/// Splits a comma list, trimming items and dropping empty ones.
pub(super) fn csv(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Decodes `%XX` escapes (invalid ones are kept verbatim).
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                let h = std::str::from_utf8(h).ok()?;
                u8::from_str_radix(h, 16).ok()
            });
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `k=v,k=v` with percent-encoded keys and values (`steer_context`,
/// `subgraph_params`).
pub(super) fn kv_list(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|part| {
            let (k, v) = part.split_once('=')?;
            let k = percent_decode(k.trim());
            (!k.is_empty()).then(|| (k, percent_decode(v.trim())))
        })
        .collect()
}

/// Parses a `model_stylesheet` (`selector { prop: value; … } …`).
pub(super) fn stylesheet(v: &Val, values: &mut Values<'_>) -> Vec<StyleRule> {
    let mut rules = Vec::new();
    let mut rest = v.text.as_str();
    while let Some(open) = rest.find('{') {
        let selector_text = rest[..open].trim();
        let after = &rest[open + 1..];
        let (body, next) = match after.find('}') {
            Some(close) => (&after[..close], &after[close + 1..]),
            None => (after, ""),
        };
        rest = next;
        let selector = if selector_text == "*" {
            Some(Selector::Universal)
        } else if let Some(class) = selector_text.strip_prefix('.') {
            Some(Selector::Class(class.to_string()))
        } else if let Some(id) = selector_text.strip_prefix('#') {
            Some(Selector::Id(id.to_string()))
        } else if NodeKind::from_keyword(selector_text).is_some() {
            Some(Selector::Kind(selector_text.to_string()))
        } else {
            None
        };
        let Some(selector) = selector else {
            values.warn(
                v.span,
                format!("model_stylesheet selector {selector_text:?} is not *, a kind, .class or #id; rule ignored"),
            );
            continue;
        };
        let properties = body
            .split(';')
            .filter_map(|p| {
                let (k, val) = p.split_once(':')?;
                let k = k.trim();
                (!k.is_empty()).then(|| (k.to_string(), crate::lexer::unquote(val.trim())))
            })
            .collect();
        rules.push(StyleRule {
            selector,
            properties,
            span: None,
        });
    }
    rules
}
