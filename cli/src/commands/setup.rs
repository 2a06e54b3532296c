//! `tracker setup`: asks, provider by provider, for an API key and an
//! optional base URL, and stores them in tracker's env file
//! (`$XDG_CONFIG_HOME/tracker/.env`, else `~/.config/tracker/.env`).
//!
//! Enter keeps the current value, `-` removes it. Keys are read without echo
//! when stdin is a terminal. Only the `*_API_KEY`, `GOOGLE_API_KEY` and
//! `*_BASE_URL` entries are changed; the other lines of an existing file,
//! comments included, are kept as they are, and a file nothing was changed in
//! (input that ended at once, say) is not written at all. The directory is
//! created with mode 0700 and the file is written with mode 0600, atomically
//! (a temporary file renamed over it).

use std::fs::OpenOptions;
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use tracker_runtime::llm::config::{self, ApiKey, Env};
use tracker_runtime::llm::redact::redact_url;

use crate::args::SetupArgs;
use crate::exit;

/// Runs the wizard.
pub fn run(args: &SetupArgs) -> Result<u8> {
    let path = match &args.file {
        Some(file) => file.clone(),
        None => config::user_env_file(&Env::from_process()).ok_or_else(|| {
            anyhow!(
                "cannot find your config directory: set HOME or XDG_CONFIG_HOME, or pass --file"
            )
        })?,
    };
    let existing = config::read_env_file(&path).map_err(|e| anyhow!("{e}"))?;
    let original = std::fs::read_to_string(&path).ok();
    let mut values: Vec<(String, String)> = existing.clone();
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut input = stdin.lock();
    println!(
        "tracker setup: API keys and base URLs go in {}",
        path.display()
    );
    println!("Press Enter to keep a value, type - to remove it.\n");
    for provider in config::PROVIDERS {
        let key_var = config::key_vars(provider)[0];
        let current = lookup(&values, key_var).map(|k| ApiKey::new(k).masked());
        let prompt = format!(
            "{provider} API key ({key_var}) [{}]: ",
            current.as_deref().unwrap_or("not set")
        );
        let Some(answer) = ask(&mut input, &prompt, interactive)? else {
            break;
        };
        apply(&mut values, key_var, &answer);
        if let Some(url_var) = config::base_url_var(provider) {
            let default = config::default_base_url(provider).unwrap_or_default();
            let current = lookup(&values, url_var).unwrap_or(default);
            let current = redact_url(current);
            let prompt = format!("{provider} base URL ({url_var}) [{current}]: ");
            let Some(answer) = ask(&mut input, &prompt, false)? else {
                break;
            };
            if !answer.is_empty() && answer != "-" && !answer.starts_with("http") {
                bail!("{url_var}: {answer:?} is not an http(s) URL");
            }
            apply(&mut values, url_var, &answer);
        }
    }
    let changed: Vec<&str> = config::PROVIDERS
        .iter()
        .flat_map(|p| [Some(config::key_vars(p)[0]), config::base_url_var(p)])
        .flatten()
        .filter(|name| lookup(&values, name) != lookup(&existing, name))
        .collect();
    if changed.is_empty() {
        println!("\nnothing changed; {} is as it was", path.display());
        return Ok(exit::OK);
    }
    write_env_file(&path, &values, &changed, original.as_deref())?;
    let configured = config::configured(&Env::from_pairs(values.iter().cloned()));
    println!(
        "\nwrote {} (mode 0600); providers with a key: {}",
        path.display(),
        if configured.is_empty() {
            "none".to_string()
        } else {
            configured.join(", ")
        }
    );
    Ok(exit::OK)
}

fn lookup<'a>(values: &'a [(String, String)], name: &str) -> Option<&'a str> {
    values
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Enter keeps, `-` removes, anything else replaces.
fn apply(values: &mut Vec<(String, String)>, name: &str, answer: &str) {
    match answer {
        "" => {}
        "-" => values.retain(|(k, _)| k != name),
        value => {
            // Every earlier copy goes: the last one is the one that counts.
            values.retain(|(k, _)| k != name);
            values.push((name.to_string(), value.to_string()));
        }
    }
}

/// Prints `prompt` and reads one line (`None` at end of input), without
/// echo when `hidden` and stdin is a terminal.
fn ask(input: &mut impl BufRead, prompt: &str, hidden: bool) -> Result<Option<String>> {
    print!("{prompt}");
    std::io::stdout().flush()?;
    let _echo = if hidden { EchoOff::new() } else { None };
    let mut line = String::new();
    let read = input.read_line(&mut line)?;
    if hidden {
        println!();
    }
    Ok((read > 0).then(|| line.trim().to_string()))
}

/// Turns terminal echo off until dropped.
struct EchoOff {
    saved: nix::sys::termios::Termios,
}

impl EchoOff {
    fn new() -> Option<EchoOff> {
        use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin).ok()?;
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        tcsetattr(&stdin, SetArg::TCSANOW, &quiet).ok()?;
        Some(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        use nix::sys::termios::{tcsetattr, SetArg};
        let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, &self.saved);
    }
}

/// `value` as the env file reader reads it back: bare when plain, else in
/// quotes (the reader strips one pair and has no escapes).
fn quoted<'a>(name: &str, value: &'a str) -> Result<std::borrow::Cow<'a, str>> {
    if value.contains(['\n', '\r']) {
        bail!("{name}: values cannot contain line breaks");
    }
    let plain = !value.contains(['#', '"', '\'', ' ', '\t']);
    Ok(if plain {
        value.into()
    } else if !value.contains('"') {
        format!("\"{value}\"").into()
    } else if !value.contains('\'') {
        format!("'{value}'").into()
    } else {
        bail!("{name}: values cannot contain both kinds of quotes")
    })
}

/// Writes `values` to `path` with mode 0600 (directory 0700), atomically.
/// With `original` (the file as it was), only the `changed` variables are
/// written anew: each where it first appeared (its other lines, and the lines
/// of one removed, left out), or at the end; every other line stays as it was.
pub fn write_env_file(
    path: &Path,
    values: &[(String, String)],
    changed: &[&str],
    original: Option<&str>,
) -> Result<()> {
    // A link (a dotfiles repository's, say) is written through, not replaced
    // by a file of its own beside a target that keeps the old keys.
    let resolved;
    let path = if path.is_symlink() {
        resolved = std::fs::canonicalize(path)
            .with_context(|| format!("following the link {}", path.display()))?;
        resolved.as_path()
    } else {
        path
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let text = env_file_text(values, changed, original)?;
    let tmp = dir.join(format!(".tracker-env-{}.tmp", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// The env file's text: see [`write_env_file`].
fn env_file_text(
    values: &[(String, String)],
    changed: &[&str],
    original: Option<&str>,
) -> Result<String> {
    let Some(original) = original else {
        let mut text = String::from("# Written by `tracker setup`. Keep this file private.\n");
        for (name, value) in values {
            text.push_str(&format!("{name}={}\n", quoted(name, value)?));
        }
        return Ok(text);
    };
    let mut written = std::collections::HashSet::new();
    let mut text = String::new();
    for line in original.lines() {
        let trimmed = line.trim();
        let unexported = trimmed.strip_prefix("export ");
        let assignment = unexported
            .unwrap_or(trimmed)
            .split_once('=')
            .map(|(name, value)| (name.trim(), value))
            .filter(|(name, _)| !trimmed.starts_with('#') && changed.contains(name));
        let Some((name, old_value)) = assignment else {
            text.push_str(line);
            text.push('\n');
            continue;
        };
        if written.insert(name) {
            if let Some(value) = lookup(values, name) {
                // The line keeps its `export` (a file a shell sources too)
                // and its comment.
                let export = if unexported.is_some() { "export " } else { "" };
                let comment = trailing_comment(old_value);
                text.push_str(&format!(
                    "{export}{name}={}{comment}\n",
                    quoted(name, value)?
                ));
            }
        }
    }
    for name in changed.iter().filter(|name| !written.contains(*name)) {
        if let Some(value) = lookup(values, name) {
            text.push_str(&format!("{name}={}\n", quoted(name, value)?));
        }
    }
    Ok(text)
}

/// The comment after an env file line's value, with the blanks before it
/// (`"  # work key"`), as the reader sees it: after a quoted value's closing
/// quote, or at the first ` #` of a bare one; `""` when there is none.
fn trailing_comment(value: &str) -> &str {
    let value = value.trim_start();
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote) {
            if let Some(end) = inner.find(quote) {
                let rest = &inner[end + 1..];
                if rest.trim_start().starts_with('#') {
                    return rest.trim_end();
                }
                return "";
            }
        }
    }
    match value.find(" #") {
        Some(at) => {
            // The blanks before the `#` go with the comment.
            let start = value[..at].trim_end().len();
            value[start..].trim_end()
        }
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_values_read_back_unchanged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tracker/.env");
        let mut values = vec![
            ("A".to_string(), "plain".to_string()),
            ("B".to_string(), "has #hash and spaces".to_string()),
            ("C".to_string(), "say \"hi\"".to_string()),
            ("A".to_string(), "duplicate".to_string()),
        ];
        apply(&mut values, "A", "last");
        write_env_file(&path, &values, &[], None).expect("written");
        let read = tracker_runtime::llm::config::read_env_file(&path).expect("reads");
        let expected: Vec<(String, String)> = [
            ("B", "has #hash and spaces"),
            ("C", "say \"hi\""),
            ("A", "last"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(read, expected);
    }

    #[test]
    fn an_existing_files_comments_and_order_are_kept() {
        let original = "# my notes\nOTHER=\"1\"  # kept as written\nexport ANTHROPIC_API_KEY=old\n\n# work\nOPENAI_API_KEY=gone\nANTHROPIC_API_KEY=older\n";
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".env");
        std::fs::write(&path, original).expect("write");
        let mut values = config::read_env_file(&path).expect("reads");
        apply(&mut values, "ANTHROPIC_API_KEY", "new");
        apply(&mut values, "OPENAI_API_KEY", "-");
        apply(&mut values, "GEMINI_API_KEY", "g");
        let changed = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"];
        let text = env_file_text(&values, &changed, Some(original)).expect("text");
        assert_eq!(
            text,
            "# my notes\nOTHER=\"1\"  # kept as written\nexport ANTHROPIC_API_KEY=new\n\n# work\nGEMINI_API_KEY=g\n"
        );
        // A changed line keeps its comment, after a bare or a quoted value,
        // and reads back as the new value.
        for (line, kept) in [
            ("KEY=old  # work key", "KEY=\"a b\"  # work key"),
            ("KEY=\"old # not a comment\"\t# real", "KEY=\"a b\"\t# real"),
            ("KEY='old' #c", "KEY=\"a b\" #c"),
            ("KEY=old#no-comment", "KEY=\"a b\""),
        ] {
            let values = vec![("KEY".to_string(), "a b".to_string())];
            let text = env_file_text(&values, &["KEY"], Some(line)).expect("text");
            assert_eq!(text, format!("{kept}\n"), "{line}");
            std::fs::write(&path, &text).expect("write");
            assert_eq!(
                config::read_env_file(&path).expect("reads"),
                values,
                "{line}"
            );
        }
    }

    #[test]
    fn a_linked_env_file_is_written_through_the_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("dotfiles/env");
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, "A=old\n").expect("write");
        let link = dir.path().join(".env");
        std::os::unix::fs::symlink(&target, &link).expect("link");
        let values = vec![("A".to_string(), "new".to_string())];
        write_env_file(&link, &values, &["A"], Some("A=old\n")).expect("written");
        assert!(link.is_symlink(), "the link stays a link");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "A=new\n");
    }
}
