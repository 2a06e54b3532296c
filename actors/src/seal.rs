//! Sealing activity-log lines, so that lines appended to the live log by
//! anything but this process are told apart and left out of the run's copy.
//!
//! A tool runs as the same user as tracker and can find the live log
//! (`$XDG_STATE_HOME/tracker/runs/$TRACKER_RUN_ID/activity.jsonl`), so the
//! reference's `\x1f\x1e` sentinel alone proves nothing: anyone can write it.
//! Each log process therefore draws a random key that lives only in its
//! memory, and every line it writes ends in a `seal` field: the first 128 bits
//! of SHA3-256(key ‖ the line without the field). SHA-3 has no
//! length-extension weakness, so a key prefix makes it a MAC; a process that
//! has not got the key cannot make a seal that checks. The field is the
//! object's last, and readers that do not know it (the reference's decoder
//! included) ignore it.

use sha3::{Digest, Sha3_256};

/// What precedes the seal's hex digits at the end of a sealed line.
const SEAL_FIELD: &str = ",\"seal\":\"";
/// Hex digits in a seal (128 bits).
const SEAL_HEX: usize = 32;

/// A process's sealing key.
pub struct SealKey([u8; 32]);

impl SealKey {
    /// A fresh random key from the operating system.
    ///
    /// # Errors
    /// When the system's randomness cannot be read.
    pub fn random() -> std::io::Result<SealKey> {
        let mut key = [0u8; 32];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut key)?;
        Ok(SealKey(key))
    }

    /// `json` (one JSON object) with a `seal` field added as its last.
    pub fn seal(&self, json: &str) -> String {
        let Some(body) = json.strip_suffix('}') else {
            return json.to_string();
        };
        let separator = if body.trim_end().ends_with('{') {
            &SEAL_FIELD[1..]
        } else {
            SEAL_FIELD
        };
        format!("{body}{separator}{}\"}}", self.tag(json))
    }

    /// The JSON object a sealed line was made from, if this key sealed it.
    pub fn open(&self, line: &str) -> Option<String> {
        let (json, tag) = split(line)?;
        (tag.len() == SEAL_HEX && constant_time_eq(self.tag(&json).as_bytes(), tag.as_bytes()))
            .then_some(json)
    }

    fn tag(&self, json: &str) -> String {
        let mut hash = Sha3_256::new();
        hash.update(self.0);
        hash.update(json.as_bytes());
        hash.finalize()[..SEAL_HEX / 2]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// `line` without its seal field, whoever sealed it (lines of earlier
/// processes, whose keys are gone); a line without one, unchanged.
pub fn strip(line: &str) -> String {
    split(line).map_or_else(|| line.to_string(), |(json, _)| json)
}

/// A sealed line's JSON object without the field, and the seal.
fn split(line: &str) -> Option<(String, &str)> {
    let body = line.strip_suffix("\"}")?;
    let (object, tag) = body.rsplit_once(&SEAL_FIELD[1..])?;
    let object = object.strip_suffix(',').unwrap_or(object);
    Some((format!("{object}}}"), tag))
}

/// Byte equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_lines_open_with_their_key_only() {
        let key = SealKey::random().expect("key");
        let line = r#"{"ts":"t","type":"stage_started","message":"a \"seal\" in text"}"#;
        let sealed = key.seal(line);
        assert!(sealed.starts_with(&line[..line.len() - 1]), "{sealed}");
        let value: serde_json::Value = serde_json::from_str(&sealed).expect("still JSON");
        assert_eq!(value["type"], "stage_started");
        assert_eq!(key.open(&sealed).as_deref(), Some(line));
        let other = SealKey::random().expect("key");
        assert_eq!(other.open(&sealed), None);
        // A changed line, a copied seal on another line, no seal: none open.
        let forged = sealed.replace("stage_started", "stage_completed");
        assert_eq!(key.open(&forged), None);
        assert_eq!(key.open(line), None);
    }

    #[test]
    fn an_empty_object_seals_too() {
        let key = SealKey::random().expect("key");
        let sealed = key.seal("{}");
        assert!(
            serde_json::from_str::<serde_json::Value>(&sealed).is_ok(),
            "{sealed}"
        );
        assert_eq!(key.open(&sealed).as_deref(), Some("{}"));
        assert_eq!(strip(&sealed), "{}");
        assert_eq!(strip("{\"a\":1}"), "{\"a\":1}");
    }
}
