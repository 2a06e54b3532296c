//! `tracker init <name>`: copies a built-in workflow to `./<name>.dip` to start
//! from. It never overwrites a file.

use std::io::Write;

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
    let path = std::path::PathBuf::from(format!("{name}.dip"));
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} already exists; not overwriting it", path.display())
        }
        Err(e) => bail!("cannot create {}: {e}", path.display()),
    };
    file.write_all(builtin.source.as_bytes())?;
    println!("wrote {}", path.display());
    println!("Next: edit it, then run it with `tracker {name}` (or `tracker {name} --provider stub` offline)");
    Ok(exit::OK)
}
