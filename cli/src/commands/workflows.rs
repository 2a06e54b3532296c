//! `tracker workflows`: the built-in workflow catalogue.

use std::io::Write;

use anyhow::Result;

use crate::exit;
use crate::workflows::BUILTINS;

/// Prints one row per built-in: name, requirements, goal.
pub fn run() -> Result<u8> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<16} {:<10} DESCRIPTION", "NAME", "REQUIRES")?;
    for builtin in BUILTINS {
        let (wf, _) = dippin::parse_dip(builtin.source);
        let mut goal: String = wf.goal.chars().take(70).collect();
        if wf.goal.chars().count() > 70 {
            goal.push('…');
        }
        let requires = if wf.requires.is_empty() {
            "-".to_string()
        } else {
            wf.requires.join(",")
        };
        writeln!(out, "{:<16} {:<10} {goal}", builtin.name, requires)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Run one offline: tracker <name> --provider stub    Copy one: tracker init <name>"
    )?;
    Ok(exit::OK)
}
