//! Steering: messages for a running agent, delivered before its next LLM
//! call as `[STEERING]` user messages.
//!
//! Messages are files in the node's `steering/` directory (one message per
//! file, read in name order, deleted once delivered), so a message written
//! by another process — `tracker steer`, an editor, a script — reaches the
//! session, and nothing is lost if tracker stops in between.

use std::path::{Path, PathBuf};

/// The name of the directory, under a node's directory, messages go in.
pub const STEERING_DIR: &str = "steering";

/// Where a session's steering comes from.
pub trait Steering: Send + Sync {
    /// The messages waiting, oldest first; each is delivered once.
    fn drain(&self) -> Vec<String>;
}

/// No steering.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSteering;

impl Steering for NoSteering {
    fn drain(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Steering from a directory of message files.
#[derive(Clone, Debug)]
pub struct SteeringDir {
    dir: PathBuf,
}

impl SteeringDir {
    /// Messages in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> SteeringDir {
        SteeringDir { dir: dir.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Queues `message` (used by `tracker steer`): written to a temporary
    /// name and renamed, so a reader never sees half a message.
    pub fn send(&self, message: &str) -> std::io::Result<PathBuf> {
        tracker_stdx::private_files::ensure_dir(&self.dir)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("{stamp:024}-{}.txt", std::process::id());
        let path = self.dir.join(name);
        tracker_stdx::private_files::replace(&path, message.as_bytes())?;
        Ok(path)
    }
}

impl Steering for SteeringDir {
    fn drain(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "txt")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        paths
            .into_iter()
            .filter_map(|path| {
                let text = tracker_stdx::private_files::read_to_string(&path).ok()?;
                // Delivered exactly once: a file that cannot be removed is
                // not delivered (it will be tried again next turn).
                std::fs::remove_file(&path).ok()?;
                let text = text.trim().to_string();
                (!text.is_empty()).then_some(text)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_arrive_once_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let steering = SteeringDir::new(dir.path().join("steering"));
        assert!(steering.drain().is_empty(), "no directory yet");
        steering.send("first").expect("send");
        steering.send("second").expect("send");
        assert_eq!(steering.drain(), ["first", "second"]);
        assert!(steering.drain().is_empty());
    }
}
