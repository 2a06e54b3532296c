//! `tracker fmt <file> [--check | --write]`: canonical formatting.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::args::FmtArgs;
use crate::exit;
use crate::report::write_human;

/// Prints, checks or rewrites the file; refuses to touch a file that has errors.
pub fn run(args: &FmtArgs) -> Result<u8> {
    // Formatting works on the file as written: file directives stay references.
    let doc = dippin::parse_file(&args.file)?;
    let errors: Vec<dippin::Diagnostic> = doc
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if !errors.is_empty() {
        write_human(&mut std::io::stderr().lock(), &doc, &errors)?;
        eprintln!(
            "{}: not formatted: fix the errors above first",
            args.file.display()
        );
        return Ok(exit::FAILURE);
    }
    let formatted = dippin::format::format(&doc.workflow);
    let unchanged = formatted == doc.source.text();
    if args.check {
        if !unchanged {
            let file = args.file.display();
            if doc.format == dippin::Format::Dot {
                // `--write` refuses a .dot file: the way out is a new file.
                eprintln!(
                    "{file}: not canonically formatted: a .dot file never is, the canonical form is Dippin (convert it with `tracker fmt {file} > NAME.dip`)"
                );
            } else {
                eprintln!("{file}: not canonically formatted (run `tracker fmt --write {file}`)");
            }
            return Ok(exit::FAILURE);
        }
        return Ok(exit::OK);
    }
    if args.write {
        if doc.format == dippin::Format::Dot {
            bail!(
                "refusing to overwrite {} (a .dot file) with Dippin text; redirect `tracker fmt {}` to a .dip file instead",
                args.file.display(),
                args.file.display()
            );
        }
        if !unchanged {
            write_atomically(&args.file, &formatted)?;
        }
        return Ok(exit::OK);
    }
    if doc.format == dippin::Format::Dot {
        for lost in lost_labels(&doc.workflow, &formatted) {
            eprintln!("warning: {}: {lost}", args.file.display());
        }
    }
    std::io::stdout().lock().write_all(formatted.as_bytes())?;
    Ok(exit::OK)
}

/// What a DOT file's conversion leaves out that the user wrote: the labels of
/// nodes Dippin writes on one line (`parallel`, `fan_in`), which have no
/// place for one.
fn lost_labels(source: &dippin::Workflow, formatted: &str) -> Vec<String> {
    let (converted, _) = dippin::parse_dip(formatted);
    source
        .nodes
        .iter()
        .filter(|node| !node.label.trim_end().is_empty() && node.label != node.id)
        .filter(|node| {
            // Compared without trailing newlines, which Dippin does not keep.
            converted
                .nodes
                .iter()
                .find(|n| n.id == node.id)
                .is_none_or(|n| n.label.trim_end_matches('\n') != node.label.trim_end_matches('\n'))
        })
        .map(|node| {
            format!(
                "node {:?}: its label {:?} has no place in Dippin and is left out",
                node.id, node.label
            )
        })
        .collect()
}

/// Replaces `path` with `text` via a temporary file in the same directory, so a
/// crash leaves either the old or the new file, never a torn one.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    // Through a symbolic link, the file it names is the one rewritten: the
    // link stays a link.
    let target = std::fs::canonicalize(path)
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    let path = target.as_path();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
