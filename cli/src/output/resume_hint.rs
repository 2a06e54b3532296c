//! The `Resume:` line a run's summary ends with: the command that resumes
//! it, with the flags the run was started with that the resume needs too
//! (where its runs are, what it runs with), quoted for a POSIX shell, so
//! that it works when pasted.

use crate::args::RunArgs;

/// `tracker -r ID PIPELINE FLAGS…` for the run `run_id` of `pipeline`,
/// started with `args`.
pub fn command(run_id: &str, pipeline: &str, args: &RunArgs) -> String {
    let mut words = vec![
        "tracker".to_string(),
        "-r".to_string(),
        quote(run_id),
        quote(pipeline),
    ];
    // A key given as a value is cut out before quoting (quoting may escape
    // it past recognition); the line then says it must be given again.
    let mut masked = false;
    let mut flag = |name: &str, value: Option<&str>| {
        words.push(name.to_string());
        if let Some(value) = value {
            let shown = tracker_runtime::secrets::redact_known(value);
            masked |= matches!(shown, std::borrow::Cow::Owned(_));
            words.push(quote(&shown));
        }
    };
    if let Some(dir) = &args.workdir {
        flag("-w", Some(&dir.to_string_lossy()));
    }
    if let Some(dir) = &args.artifact_dir {
        flag("--artifact-dir", Some(&dir.to_string_lossy()));
    }
    for (name, value) in [
        ("--provider", &args.provider),
        ("--model", &args.model),
        ("--max-wall-time", &args.max_wall_time),
        ("--gateway-url", &args.gateway_url),
        ("--gateway-kind", &args.gateway_kind),
    ] {
        if let Some(value) = value {
            flag(name, Some(value));
        }
    }
    for (name, value) in [
        ("--max-tokens", args.max_tokens),
        ("--max-cost", args.max_cost),
        ("--max-output-limit", args.max_output_limit),
    ] {
        if let Some(value) = value {
            flag(name, Some(&value.to_string()));
        }
    }
    for (name, values) in [
        ("--param", &args.params),
        ("--tool-allowlist", &args.tool_allowlist),
        ("--tool-denylist-add", &args.tool_denylist_add),
        ("--supervise", &args.supervise),
    ] {
        for value in values {
            flag(name, Some(value));
        }
    }
    for (name, set) in [
        ("--auto-approve", args.auto_approve),
        ("--fail-on-override", args.fail_on_override),
        ("--bypass-denylist", args.bypass_denylist),
        ("--no-fsync", args.no_fsync),
        ("--no-tui", args.no_tui),
    ] {
        if set {
            flag(name, None);
        }
    }
    let mut line = words.join(" ");
    if masked {
        line.push_str("   # put back the values shown as ****");
    }
    line
}

/// `word` as a POSIX shell reads it back (a word it cannot hold, with a NUL,
/// is shown as it is).
fn quote(word: &str) -> String {
    shlex::try_quote(word).map_or_else(|_| word.to_string(), |q| q.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn args(line: &[&str]) -> RunArgs {
        let cli = crate::args::Cli::try_parse_from(line).expect("parses");
        match cli.command {
            crate::args::Command::Run(args) => *args,
            _ => panic!("not a run"),
        }
    }

    #[test]
    fn the_resume_command_keeps_where_and_how_the_run_went() {
        let given = args(&[
            "tracker",
            "run",
            "my flow.dip",
            "-w",
            "work dir",
            "--artifact-dir",
            "arts",
            "--provider",
            "stub",
            "--param",
            "target=it's",
            "--max-cost",
            "50",
            "--auto-approve",
        ]);
        assert_eq!(
            command("abc123", "my flow.dip", &given),
            "tracker -r abc123 'my flow.dip' -w 'work dir' --artifact-dir arts --provider stub --max-cost 50 --param \"target=it's\" --auto-approve"
        );
        // Nothing given: nothing added.
        assert_eq!(
            command("abc123", "flow.dip", &args(&["tracker", "run", "flow.dip"])),
            "tracker -r abc123 flow.dip"
        );
    }

    #[test]
    fn a_key_given_as_a_value_is_masked_and_said_to_be_needed_again() {
        let key = "sk-hint-'quoted'-0123456789abcdef";
        tracker_runtime::secrets::remember_values([("HINT_TEST_API_KEY", key)]);
        let given = args(&[
            "tracker",
            "run",
            "f.dip",
            "--param",
            &format!("token={key}"),
        ]);
        let line = command("r1", "f.dip", &given);
        assert!(!line.contains("0123456789abcdef"), "{line}");
        assert_eq!(
            line,
            "tracker -r r1 f.dip --param 'token=****'   # put back the values shown as ****"
        );
    }
}
