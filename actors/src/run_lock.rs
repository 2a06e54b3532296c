//! One process per run: an exclusive lock on the run directory.
//!
//! Two processes driving one run (a `tracker -r` while the run is still going)
//! would both run its next nodes: side effects twice, and two writers of one
//! checkpoint. Whoever runs a run holds an exclusive `flock` on its directory
//! for as long as it runs; the lock goes with the process, however it ends, so
//! a crashed run never stays locked. The holder writes its pid to `owner` in
//! the run directory, so that whoever is refused is told who holds the run
//! (the file is only read then: the lock, not the file, says who owns it).

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// The file in a run directory naming the process that holds it.
pub const OWNER_FILE: &str = "owner";

/// Why a run directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the run.
    #[error("run {} is already running in {}; wait for it to end or stop it first", dir.display(), owner.map_or_else(|| "another tracker process".to_string(), |pid| format!("tracker process {pid}")))]
    Busy {
        /// The run directory.
        dir: PathBuf,
        /// The holder's pid, as it recorded it.
        owner: Option<u32>,
    },
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
            Ok(lock) => {
                tracker_runtime::private_files::replace(
                    &dir.join(OWNER_FILE),
                    std::process::id().to_string().as_bytes(),
                )
                .map_err(io)?;
                Ok(RunLock { _lock: lock })
            }
            Err((_, Errno::EWOULDBLOCK)) => Err(LockError::Busy {
                dir: dir.to_path_buf(),
                owner: tracker_runtime::private_files::read_to_string(&dir.join(OWNER_FILE))
                    .ok()
                    .and_then(|pid| pid.trim().parse().ok()),
            }),
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
        let busy = RunLock::acquire(dir.path()).expect_err("held");
        assert!(
            matches!(busy, LockError::Busy { owner: Some(pid), .. } if pid == std::process::id())
        );
        assert!(busy
            .to_string()
            .contains(&format!("tracker process {}", std::process::id())));
        drop(held);
        RunLock::acquire(dir.path()).expect("free again");
    }
}
