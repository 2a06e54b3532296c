//! `tracker init <name>`: copies a built-in workflow to `./<name>.dip` to start
//! from, with its scenario tests (`./<name>.test.json`). It never overwrites a
//! file.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::args::InitArgs;
use crate::exit;
use crate::workflows;

/// Writes the workflow; without a name, lists the built-ins and exits 1.
pub fn run(args: &InitArgs) -> Result<u8> {
    let Some(name) = &args.name else {
        let mut err = std::io::stderr().lock();
        writeln!(err, "which workflow? tracker init <name>, one of:")?;
        for name in workflows::names() {
            writeln!(err, "  {name}")?;
        }
        return Ok(exit::FAILURE);
    };
    let Some(builtin) = workflows::find(name) else {
        bail!(
            "no built-in workflow {name:?} (built-ins: {})",
            workflows::names().join(", ")
        );
    };
    let path = PathBuf::from(format!("{name}.dip"));
    match create_new(&path, builtin.source) {
        Ok(()) => writeln!(std::io::stdout(), "wrote {}", path.display())?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} already exists; not overwriting it", path.display())
        }
        Err(e) => bail!("cannot create {}: {e}", path.display()),
    }
    // Its scenario tests come along, so that `tracker test <name>` (which
    // now finds the copy) still has them.
    if let Some(tests) = builtin.tests {
        let path = PathBuf::from(format!("{name}.test.json"));
        match create_new(&path, tests) {
            Ok(()) => writeln!(std::io::stdout(), "wrote {}", path.display())?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                writeln!(
                    std::io::stdout(),
                    "kept {}: it exists already",
                    path.display()
                )?;
            }
            Err(e) => bail!("cannot create {}: {e}", path.display()),
        }
    }
    writeln!(
        std::io::stdout(),
        "Next: edit it, then run it with `tracker {name}` (or `tracker {name} --provider stub` offline)"
    )?;
    Ok(exit::OK)
}

/// Writes `text` to `path`, which must not exist yet.
fn create_new(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?
        .write_all(text.as_bytes())
}
