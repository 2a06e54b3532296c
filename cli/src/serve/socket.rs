//! Where the service listens: a Unix socket in a directory only its user can
//! enter, found the same way by the service and its clients.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};

/// The environment variable naming the socket.
pub const SOCKET_ENV: &str = "TRACKER_SOCKET";

/// The socket's file name in its directory.
const SOCKET_NAME: &str = "tracker.sock";

/// The socket a service listens on and clients connect to: `given`, else
/// `$TRACKER_SOCKET`, else `$XDG_RUNTIME_DIR/tracker/tracker.sock`, else
/// `<state dir>/tracker.sock`.
pub fn socket_path(given: Option<&Path>) -> PathBuf {
    if let Some(path) = given {
        return path.to_path_buf();
    }
    if let Some(path) = std::env::var_os(SOCKET_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
    {
        return dir.join("tracker").join(SOCKET_NAME);
    }
    state_dir().join(SOCKET_NAME)
}

/// The service's own state: `$XDG_STATE_HOME/tracker/service`, else
/// `~/.local/state/tracker/service`.
pub fn state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .map(|h| h.join(".local").join("state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("tracker").join("service")
}

/// Makes the socket's directory private (created 0700; an existing one must
/// be a directory of this user's that nobody else may enter) and clears a
/// stale socket left by a service that died. Fails when a service is already
/// listening there.
pub fn prepare(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| anyhow!("socket {}: no directory", path.display()))?;
    tracker_runtime::private_files::create_dir_all(dir)
        .map_err(|e| anyhow!("socket directory {}: {e}", dir.display()))?;
    let meta =
        std::fs::metadata(dir).map_err(|e| anyhow!("socket directory {}: {e}", dir.display()))?;
    use std::os::unix::fs::MetadataExt;
    if meta.uid() != nix::unistd::Uid::effective().as_raw() {
        bail!(
            "socket directory {} belongs to another user; use a directory of your own",
            dir.display()
        );
    }
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "socket directory {} is open to other users (mode {:o}); use a private directory (chmod 700)",
            dir.display(),
            mode & 0o777
        );
    }
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow!("socket {}: {e}", path.display())),
        Ok(meta) => {
            use std::os::unix::fs::FileTypeExt;
            if !meta.file_type().is_socket() {
                bail!(
                    "{} exists and is not a socket; refusing to replace it",
                    path.display()
                );
            }
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                bail!(
                    "a tracker service is already listening on {}",
                    path.display()
                );
            }
            // Nobody answers: a service died without removing it.
            std::fs::remove_file(path).map_err(|e| anyhow!("stale socket {}: {e}", path.display()))
        }
    }
}

/// Makes the bound socket itself private (0600).
pub fn restrict(path: &Path) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| anyhow!("socket {}: {e}", path.display()))
}
