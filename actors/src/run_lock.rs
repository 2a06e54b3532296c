//! One process per run: an exclusive lock on the run directory.
//!
//! Two processes driving one run (a `tracker -r` while the run is still going)
//! would both run its next nodes: side effects twice, and two writers of one
//! checkpoint. Whoever runs a run holds an exclusive `flock` on its directory
//! for as long as it runs; the lock goes with the process, however it ends, so
//! a crashed run never stays locked.

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Why a run directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the run.
    #[error("run {} is already running in another tracker process; wait for it to end or stop it first", .0.display())]
    Busy(PathBuf),
    /// The directory could not be opened or locked.
    #[error("cannot lock the run directory {}: {source}", path.display())]
    Io {
        /// The run directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The lock on one run directory, held until dropped.
#[derive(Debug)]
pub struct RunLock {
    _lock: Flock<File>,
}

impl RunLock {
    /// Locks the run in `dir`, failing at once if another process holds it.
    pub fn acquire(dir: &Path) -> Result<RunLock, LockError> {
        let io = |source: std::io::Error| LockError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let file = File::open(dir).map_err(io)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(RunLock { _lock: lock }),
            Err((_, Errno::EWOULDBLOCK)) => Err(LockError::Busy(dir.to_path_buf())),
            Err((_, errno)) => Err(io(std::io::Error::from(errno))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_held_by_one_lock_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let held = RunLock::acquire(dir.path()).expect("first lock");
        assert!(matches!(
            RunLock::acquire(dir.path()),
            Err(LockError::Busy(_))
        ));
        drop(held);
        RunLock::acquire(dir.path()).expect("free again");
    }
}
