//! The service's optional TCP listener (`--listen`): the same API as on the
//! socket, where every request must carry the service's bearer token.
//!
//! The socket is protected by its directory's permissions; a TCP port is
//! open to every local user (and, with `--allow-remote`, to the network), so
//! the token stands in for them. It is made once, from the kernel's random
//! bytes, and kept in the state directory readable by its owner only.

use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

/// The token's file name in the state directory.
const TOKEN_FILE: &str = "token";

/// Checks that the service may listen on `addr`: a loopback address, or any
/// with `allow_remote`.
pub fn check_address(addr: SocketAddr, allow_remote: bool) -> Result<()> {
    if !addr.ip().is_loopback() && !allow_remote {
        bail!(
            "--listen {addr}: not a loopback address; the API would be open to other machines \
             (add --allow-remote to mean it; the bearer token is required either way)"
        );
    }
    Ok(())
}

/// The service's token, from `<state>/token`, made there (mode 0600) the
/// first time; and the file's path.
pub fn token(state: &Path) -> Result<(Arc<str>, PathBuf)> {
    let path = state.join(TOKEN_FILE);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) => {
            let me = nix::unistd::geteuid().as_raw();
            if !meta.is_file() || meta.uid() != me || meta.permissions().mode() & 0o077 != 0 {
                bail!(
                    "{}: the token file must be a regular file of yours that only you can read \
                     (chmod 600 it, or remove it to make a new one)",
                    path.display()
                );
            }
            let text = tracker_runtime::private_files::read_to_string(&path)
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let token = text.trim();
            if token.len() < 32 {
                bail!(
                    "{}: the token is too short; remove the file to make a new one",
                    path.display()
                );
            }
            Ok((Arc::from(token), path))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = fresh_token().map_err(|e| anyhow!("making a token: {e}"))?;
            tracker_runtime::private_files::replace_synced(&path, format!("{token}\n").as_bytes())
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            Ok((Arc::from(token.as_str()), path))
        }
        Err(e) => Err(anyhow!("{}: {e}", path.display())),
    }
}

/// 32 bytes from the kernel's random source, as hex.
fn fresh_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `app` behind the token check.
pub fn guarded(app: Router, token: Arc<str>) -> Router {
    app.layer(middleware::from_fn_with_state(token, require_token))
}

async fn require_token(State(token): State<Arc<str>>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer);
    let error = match given {
        Some(given) if same(given.as_bytes(), token.as_bytes()) => return next.run(request).await,
        Some(_) => "authorization: the bearer token is not this service's (see its token file)",
        None => "authorization: a bearer token is required (the service's token file)",
    };
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        Json(json!({ "error": error })),
    )
        .into_response()
}

/// The token of an `Authorization` value of the bearer scheme, whose name
/// is matched in any case (RFC 9110 §11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Compares in time independent of where the bytes differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_taken_without_allow_remote() {
        let local: SocketAddr = "127.0.0.1:7000".parse().expect("address");
        let v6: SocketAddr = "[::1]:7000".parse().expect("address");
        let open: SocketAddr = "0.0.0.0:7000".parse().expect("address");
        assert!(check_address(local, false).is_ok());
        assert!(check_address(v6, false).is_ok());
        let refused = check_address(open, false).expect_err("refused");
        assert!(refused.to_string().contains("--allow-remote"), "{refused}");
        assert!(check_address(open, true).is_ok());
    }

    #[test]
    fn the_token_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (first, path) = token(dir.path()).expect("made");
        assert_eq!(first.len(), 64);
        let mode = std::fs::metadata(&path).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, _) = token(dir.path()).expect("read");
        assert_eq!(first, again);
        // A token file others can read is refused, not used.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let refused = token(dir.path()).expect_err("refused");
        assert!(
            refused.to_string().contains("only you can read"),
            "{refused}"
        );
    }

    #[test]
    fn the_bearer_scheme_is_named_in_any_case() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearerabc"), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
