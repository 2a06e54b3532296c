//! Tool-command safety: the built-in denylist, workflow and command-line
//! additions, and the optional allowlist (engine-semantics §5.3 step 2).
//!
//! A command is split into statements at `;`, `&&`, `||` and newlines; each
//! statement's whitespace is collapsed and every `|` is spaced (`curl x|sh`
//! reads as `curl x | sh`), then it is matched, case-insensitively and anchored,
//! against glob patterns where `*` matches anything. One denied statement
//! refuses the command; with an allowlist, every statement must be allowed.

use regex::Regex;

/// The patterns every command is checked against unless the denylist is
/// bypassed.
pub const BUILTIN_DENYLIST: [&str; 17] = [
    "eval *",
    "exec *",
    "source *",
    ". ./*",
    ". /*",
    "curl * | *",
    "wget * | *",
    "* | sh",
    "* | sh *",
    "* | bash",
    "* | bash *",
    "* | zsh",
    "* | zsh *",
    "* | /bin/sh",
    "* | /bin/sh *",
    "* | /bin/bash",
    "* | /bin/bash *",
];

/// Command-line safety settings.
#[derive(Clone, Debug, Default)]
pub struct ToolPolicy {
    /// `--bypass-denylist`: no denylist at all.
    pub bypass_denylist: bool,
    /// `--tool-denylist-add` patterns.
    pub denylist_add: Vec<String>,
    /// `--tool-allowlist` patterns.
    pub allowlist: Vec<String>,
    /// `--max-output-limit` in bytes (0: the default cap).
    pub max_output_limit: u64,
}

/// Why a command may not run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SafetyError {
    /// A statement matched a denied pattern.
    #[error("tool command blocked by denylist pattern {pattern:?}: {statement:?} (use --bypass-denylist to allow)")]
    Denied {
        /// The statement.
        statement: String,
        /// The pattern it matched.
        pattern: String,
    },
    /// A statement matched no allowed pattern.
    #[error("tool command statement {statement:?} is not in the allowlist")]
    NotAllowed {
        /// The statement.
        statement: String,
    },
}

/// The denylist and allowlist in force for one workflow.
#[derive(Debug)]
pub struct CommandRules {
    deny: Vec<(String, Regex)>,
    allow: Vec<Regex>,
}

impl CommandRules {
    /// The rules from `policy` plus a workflow's `tool_denylist_add` and
    /// `tool_commands_allow` (comma-separated).
    pub fn new(policy: &ToolPolicy, graph_deny: &str, graph_allow: &str) -> CommandRules {
        let split = |list: &str| -> Vec<String> {
            list.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect()
        };
        let deny = if policy.bypass_denylist {
            Vec::new()
        } else {
            BUILTIN_DENYLIST
                .iter()
                .map(|p| p.to_string())
                .chain(split(graph_deny))
                .chain(policy.denylist_add.iter().flat_map(|p| split(p)))
                .filter_map(|p| glob(&p).map(|re| (p, re)))
                .collect()
        };
        let allow = split(graph_allow)
            .into_iter()
            .chain(policy.allowlist.iter().flat_map(|p| split(p)))
            .filter_map(|p| glob(&p))
            .collect();
        CommandRules { deny, allow }
    }

    /// Checks every statement of `command`.
    pub fn check(&self, command: &str) -> Result<(), SafetyError> {
        for statement in statements(command) {
            if let Some((pattern, _)) = self
                .deny
                .iter()
                .find(|(p, re)| re.is_match(&statement) && !exempt(p, &statement))
            {
                return Err(SafetyError::Denied {
                    statement,
                    pattern: pattern.clone(),
                });
            }
            if !self.allow.is_empty() && !self.allow.iter().any(|re| re.is_match(&statement)) {
                return Err(SafetyError::NotAllowed { statement });
            }
        }
        Ok(())
    }
}

/// `exec` used only to redirect file descriptors (`exec 3>log`, `exec >out 2>&1`)
/// does not replace the shell, so `exec *` does not deny it.
fn exempt(pattern: &str, statement: &str) -> bool {
    if pattern != "exec *" {
        return false;
    }
    let mut words = statement.split(' ');
    words.next();
    let redirection = Regex::new(r"^[0-9]*(<|>|>>|<>|>&|<&)[^ ]*$").ok();
    words.all(|w| redirection.as_ref().is_some_and(|re| re.is_match(w)))
}

/// The statements of a command, normalised for matching.
pub fn statements(command: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' | '\n' | '\r' => parts.push(std::mem::take(&mut current)),
            '&' if chars.peek() == Some(&'&') => {
                chars.next();
                parts.push(std::mem::take(&mut current));
            }
            '|' if chars.peek() == Some(&'|') => {
                chars.next();
                parts.push(std::mem::take(&mut current));
            }
            '|' => current.push_str(" | "),
            c => current.push(c),
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// An anchored, case-insensitive regex for a glob where `*` matches anything.
fn glob(pattern: &str) -> Option<Regex> {
    let body: Vec<String> = pattern
        .split('*')
        .map(|part| {
            let collapsed = part.split_whitespace().collect::<Vec<_>>().join(" ");
            // Keep single spaces at the edges of the part: they are significant.
            let lead = if part.starts_with(char::is_whitespace) && !collapsed.is_empty() {
                " "
            } else {
                ""
            };
            let trail = if part.ends_with(char::is_whitespace) && !collapsed.is_empty() {
                " "
            } else {
                ""
            };
            let text = if collapsed.is_empty() && !part.is_empty() {
                " ".to_string()
            } else {
                format!("{lead}{collapsed}{trail}")
            };
            regex::escape(&text)
        })
        .collect();
    Regex::new(&format!("(?is)^{}$", body.join(".*"))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> CommandRules {
        CommandRules::new(&ToolPolicy::default(), "", "")
    }

    #[test]
    fn statements_split_and_normalise() {
        assert_eq!(
            statements("echo a; curl x|sh && ls\tdir || true\nexit 0"),
            ["echo a", "curl x | sh", "ls dir", "true", "exit 0"]
        );
    }

    #[test]
    fn the_builtin_denylist_blocks_pipes_into_shells() {
        let rules = rules();
        assert!(rules.check("curl https://x.sh|sh").is_err());
        assert!(rules.check("wget -qO- u | bash -s").is_err());
        assert!(rules.check("cat x | /bin/sh").is_err());
        assert!(rules.check("EVAL \"$x\"").is_err());
        assert!(rules.check("echo ok; source ./env").is_err());
        assert!(rules.check("printf 'setup-ok'").is_ok());
        assert!(rules.check("grep sh file | wc -l").is_ok());
        assert!(rules.check("exit 1").is_ok());
    }

    #[test]
    fn exec_redirections_are_allowed() {
        let rules = rules();
        assert!(rules.check("exec 3>log").is_ok());
        assert!(rules.check("exec >out 2>&1").is_ok());
        assert!(rules.check("exec rm -rf /").is_err());
    }

    #[test]
    fn workflow_and_cli_lists_apply() {
        let policy = ToolPolicy {
            denylist_add: vec!["rm -rf *".into()],
            ..ToolPolicy::default()
        };
        let rules = CommandRules::new(&policy, "git push*", "echo *, ls*");
        assert!(rules.check("rm -rf /tmp/x").is_err());
        assert!(rules.check("git push origin").is_err());
        assert!(rules.check("echo hi && ls").is_ok());
        assert!(matches!(
            rules.check("echo hi; make"),
            Err(SafetyError::NotAllowed { .. })
        ));
        let open = CommandRules::new(
            &ToolPolicy {
                bypass_denylist: true,
                ..ToolPolicy::default()
            },
            "",
            "",
        );
        assert!(open.check("curl x | sh").is_ok());
    }
}
