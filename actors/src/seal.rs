//! Sealing activity-log lines, so that lines appended to the live log by
//! anything but this process are told apart and left out of the run's copy.
//!
//! A tool runs as the same user as tracker and can find the live log
//! (`$XDG_STATE_HOME/tracker/runs/$TRACKER_RUN_ID/activity.jsonl`), so the
//! reference's `\x1f\x1e` sentinel alone proves nothing: anyone can write it.
//! Each log process therefore draws a random key that lives only in its
//! memory, and every line it writes ends in a `seal` field: the first 128 bits
//! of HMAC-SHA-256(key, the previous line's seal ‖ `\n` ‖ the line without the
//! field). A process that has not got the key cannot make a seal that checks.
//! (HMAC-SHA-256 rather than a hash of its own: `ring`, already in the build
//! for TLS, computes it with the processor's SHA instructions: in a profile of
//! the service the seal fell from 5.5 % to 1.9 % of a run thread, against the
//! portable SHA-3 this used before.) Chaining
//! each seal to the one before makes the lines a sequence: a sealed line
//! copied elsewhere (replayed) no longer checks, and lines removed from the
//! middle or the end break the chain or its count. The field is the object's
//! last, and readers that do not know it (the reference's decoder included)
//! ignore it.

use ring::hmac;

/// What precedes the seal's hex digits at the end of a sealed line.
const SEAL_FIELD: &str = ",\"seal\":\"";
/// Hex digits in a seal (128 bits).
const SEAL_HEX: usize = 32;
/// Lowercase hex digits by value.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// A process's sealing key.
pub struct SealKey(hmac::Key);

impl SealKey {
    /// A fresh random key from the operating system.
    ///
    /// # Errors
    /// When the system's randomness cannot be read.
    pub fn random() -> std::io::Result<SealKey> {
        let mut key = [0u8; 32];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut key)?;
        Ok(SealKey(hmac::Key::new(hmac::HMAC_SHA256, &key)))
    }

    /// `json` (one JSON object) with a `seal` field added as its last,
    /// chained to `previous` (the seal of the line before, `""` for the
    /// first); returns the line and its seal.
    pub fn seal(&self, previous: &str, json: &str) -> (String, String) {
        let tag = self.tag(previous, json);
        let Some(body) = json.strip_suffix('}') else {
            return (json.to_string(), tag);
        };
        let separator = if body.trim_end().ends_with('{') {
            &SEAL_FIELD[1..]
        } else {
            SEAL_FIELD
        };
        (format!("{body}{separator}{tag}\"}}"), tag)
    }

    /// The JSON object a sealed line was made from, and its seal, if this key
    /// sealed it right after `previous`.
    pub fn open(&self, previous: &str, line: &str) -> Option<(String, String)> {
        let (json, tag) = split(line)?;
        let expected = self.tag(previous, &json);
        (tag.len() == SEAL_HEX && constant_time_eq(expected.as_bytes(), tag.as_bytes()))
            .then_some((json, expected))
    }

    fn tag(&self, previous: &str, json: &str) -> String {
        let mut mac = hmac::Context::with_key(&self.0);
        mac.update(previous.as_bytes());
        mac.update(b"\n");
        mac.update(json.as_bytes());
        let digest = mac.sign();
        let mut tag = String::with_capacity(SEAL_HEX);
        for byte in &digest.as_ref()[..SEAL_HEX / 2] {
            tag.push(char::from(HEX[usize::from(byte >> 4)]));
            tag.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        tag
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
    fn sealed_lines_open_with_their_key_in_their_place_only() {
        let key = SealKey::random().expect("key");
        let first = r#"{"ts":"t","type":"stage_started","message":"a \"seal\" in text"}"#;
        let (sealed, tag) = key.seal("", first);
        assert!(sealed.starts_with(&first[..first.len() - 1]), "{sealed}");
        let value: serde_json::Value = serde_json::from_str(&sealed).expect("still JSON");
        assert_eq!(value["type"], "stage_started");
        assert_eq!(
            key.open("", &sealed),
            Some((first.to_string(), tag.clone()))
        );
        let second = r#"{"ts":"u","type":"stage_completed"}"#;
        let (sealed2, _) = key.seal(&tag, second);
        assert!(key.open(&tag, &sealed2).is_some());
        // Replayed in another place, the line does not check.
        assert_eq!(key.open(&tag, &sealed), None);
        assert_eq!(key.open("", &sealed2), None);
        // Another key, a changed line, no seal: none open.
        let other = SealKey::random().expect("key");
        assert_eq!(other.open("", &sealed), None);
        let forged = sealed.replace("stage_started", "stage_completed");
        assert_eq!(key.open("", &forged), None);
        assert_eq!(key.open("", first), None);
    }

    #[test]
    fn an_empty_object_seals_too() {
        let key = SealKey::random().expect("key");
        let (sealed, _) = key.seal("", "{}");
        assert!(
            serde_json::from_str::<serde_json::Value>(&sealed).is_ok(),
            "{sealed}"
        );
        assert_eq!(
            key.open("", &sealed).map(|(json, _)| json).as_deref(),
            Some("{}")
        );
        assert_eq!(strip(&sealed), "{}");
        assert_eq!(strip("{\"a\":1}"), "{\"a\":1}");
    }
}
