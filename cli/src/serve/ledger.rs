//! What the service's runs have spent, and a cost ceiling set over the API,
//! kept across restarts in `<state>/spending.log`: without it a service that
//! crashed and was started again would count from nothing, and a crash loop
//! could spend past `--max-cost` as many times as it restarted.
//!
//! One append-only file of JSON lines: a line per priced model call
//! (`{"spent_nano_usd": N}`) and a line per ceiling set over the API
//! (`{"ceiling": {"max_cost_usd": X, "flag": Y}}`, `X` `null` when lifted,
//! `Y` the `--max-cost` the service was started with). The file is folded to its
//! total and its last ceiling when the service starts. Appends are not
//! synced (a call costs seconds; its line is one `write`): a crash of the
//! process loses nothing, a power loss may lose the last few calls' lines.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tracker_actors::store::Durability;
use tracker_runtime::private_files;

/// The ledger's file name under the state directory.
const FILE: &str = "spending.log";

/// One line of the ledger.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
enum Line {
    /// A model call's cost, in billionths of a dollar.
    Spent {
        /// The amount.
        spent_nano_usd: u64,
    },
    /// A ceiling set over the API (a key of its own: a line that names
    /// neither must never read as a lifted ceiling).
    Ceiling {
        /// The ceiling and the flag it replaced.
        ceiling: SetCeiling,
    },
}

/// A ceiling set over the API, and the `--max-cost` of the service that
/// took it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Serialize)]
pub struct SetCeiling {
    /// The ceiling in dollars (`None`: lifted).
    pub max_cost_usd: Option<f64>,
    /// The service's `--max-cost` then.
    pub flag: Option<f64>,
}

impl SetCeiling {
    /// The ceiling a service started with `--max-cost flag` applies: this
    /// one while the flag is the one it replaced, the flag once the
    /// service is started with another (the operator changed it since).
    pub fn applied_over(remembered: Option<SetCeiling>, flag: Option<f64>) -> Option<f64> {
        match remembered {
            Some(set) if set.flag == flag => set.max_cost_usd,
            _ => flag,
        }
    }
}

/// What an earlier service recorded.
#[derive(Debug, Default, PartialEq)]
pub struct Past {
    /// Spent in all, in billionths of a dollar.
    pub spent_nano_usd: u64,
    /// The last ceiling set over the API.
    pub ceiling: Option<SetCeiling>,
}

/// The open ledger.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    file: Mutex<File>,
}

impl Ledger {
    /// Reads the ledger under `state` (none there: nothing spent), folds it
    /// to what it says for a service started with `--max-cost flag` (a
    /// ceiling set over the API under another flag is forgotten: the
    /// operator has changed the flag since), and opens it for appending.
    pub fn open(
        state: &Path,
        durability: Durability,
        flag: Option<f64>,
    ) -> std::io::Result<(Ledger, Past)> {
        let path = state.join(FILE);
        let text = match private_files::read(&path) {
            // Read lossily: a garbled line is skipped, not the whole ledger.
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let mut past = replay(&path, &text);
        past.ceiling = past.ceiling.filter(|set| set.flag == flag);
        let mut folded = encode(&Line::Spent {
            spent_nano_usd: past.spent_nano_usd,
        });
        if let Some(set) = past.ceiling {
            folded.extend(encode(&Line::Ceiling { ceiling: set }));
        }
        durability.replace(&path, &folded)?;
        durability.sync_dir(state)?;
        let file = private_files::append(&path)?;
        Ok((
            Ledger {
                path,
                file: Mutex::new(file),
            },
            past,
        ))
    }

    /// Records a call's cost.
    pub fn spent(&self, nano_usd: u64) {
        self.append(&Line::Spent {
            spent_nano_usd: nano_usd,
        });
    }

    /// Records a ceiling set over the API.
    pub fn ceiling(&self, set: SetCeiling) {
        self.append(&Line::Ceiling { ceiling: set });
    }

    fn append(&self, line: &Line) {
        let bytes = encode(line);
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        // One `write` of a whole line: a failure can only tear the last one,
        // which the next start skips.
        if let Err(e) = file.write_all(&bytes) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot record spending");
        }
    }
}

/// The line's JSON and a newline.
fn encode(line: &Line) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(line).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// What the ledger's text says; unreadable lines are skipped (and logged),
/// a last line without its newline (torn by a crash) too.
fn replay(path: &Path, text: &str) -> Past {
    let mut past = Past::default();
    for (number, line) in text.split_inclusive('\n').enumerate() {
        if !line.ends_with('\n') {
            break;
        }
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Spent { spent_nano_usd }) => {
                past.spent_nano_usd = past.spent_nano_usd.saturating_add(spent_nano_usd);
            }
            Ok(Line::Ceiling { ceiling }) => past.ceiling = Some(ceiling),
            Err(e) => tracing::warn!(
                path = %path.display(),
                line = number + 1,
                error = %e,
                "unreadable spending line; skipped"
            ),
        }
    }
    past
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_and_the_last_ceiling_survive_a_restart_folded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (ledger, past) = Ledger::open(dir.path(), Durability::NoSync, Some(5.0)).expect("open");
        assert_eq!(past, Past::default());
        ledger.spent(300_000_000);
        ledger.ceiling(SetCeiling {
            max_cost_usd: Some(2.0),
            flag: Some(5.0),
        });
        ledger.spent(150_000_000);
        ledger.ceiling(SetCeiling {
            max_cost_usd: None,
            flag: Some(5.0),
        });
        drop(ledger);
        let (_, past) = Ledger::open(dir.path(), Durability::NoSync, Some(5.0)).expect("reopen");
        let expected = Past {
            spent_nano_usd: 450_000_000,
            ceiling: Some(SetCeiling {
                max_cost_usd: None,
                flag: Some(5.0),
            }),
        };
        assert_eq!(past, expected);
        let text = std::fs::read_to_string(dir.path().join(FILE)).expect("ledger");
        assert_eq!(text.lines().count(), 2, "folded: {text}");
        let (_, again) = Ledger::open(dir.path(), Durability::NoSync, Some(5.0)).expect("reopen");
        assert_eq!(again, expected, "folding keeps what it says");
    }

    #[test]
    fn a_torn_last_line_and_a_garbled_one_are_skipped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = b"{\"spent_nano_usd\":5}\nnot json\n{\"other\":1}\n\xff\xfe\n\
                    {\"spent_nano_usd\":7}\n{\"spent_nano_us";
        std::fs::write(dir.path().join(FILE), text).expect("write");
        let (_, past) = Ledger::open(dir.path(), Durability::NoSync, Some(5.0)).expect("open");
        assert_eq!(past.spent_nano_usd, 12);
        assert_eq!(past.ceiling, None);
    }

    #[test]
    fn a_ceiling_set_under_another_flag_is_forgotten_for_good() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (ledger, _) = Ledger::open(dir.path(), Durability::NoSync, Some(2.0)).expect("open");
        ledger.ceiling(SetCeiling {
            max_cost_usd: Some(0.5),
            flag: Some(2.0),
        });
        drop(ledger);
        let (_, past) = Ledger::open(dir.path(), Durability::NoSync, Some(3.0)).expect("flag 3");
        assert_eq!(past.ceiling, None);
        // Back to the first flag: the old API ceiling does not come back.
        let (_, past) = Ledger::open(dir.path(), Durability::NoSync, Some(2.0)).expect("flag 2");
        assert_eq!(past.ceiling, None);
    }

    #[test]
    fn a_ceiling_set_over_the_api_holds_until_the_flag_changes() {
        let set = Some(SetCeiling {
            max_cost_usd: Some(1.0),
            flag: Some(5.0),
        });
        assert_eq!(SetCeiling::applied_over(set, Some(5.0)), Some(1.0));
        assert_eq!(SetCeiling::applied_over(set, Some(8.0)), Some(8.0));
        assert_eq!(SetCeiling::applied_over(set, None), None);
        assert_eq!(SetCeiling::applied_over(None, Some(3.0)), Some(3.0));
        let lifted = Some(SetCeiling {
            max_cost_usd: None,
            flag: Some(5.0),
        });
        assert_eq!(SetCeiling::applied_over(lifted, Some(5.0)), None);
    }
}
