//! The native agent's built-in tools, the registry a session offers the model,
//! and [`execute`], which runs one tool call.
//!
//! | Tool | Arguments | Output cap (chars) |
//! |---|---|---|
//! | `read` | `path`*, `offset`, `limit` | 50000 |
//! | `write` | `path`*, `content`* | 1000 |
//! | `edit` | `path`*, `old_string`*, `new_string`* | 10000 |
//! | `apply_patch` | `patch`* | 10000 |
//! | `glob` | `pattern`*, `path` | 8000 |
//! | `grep_search` | `pattern`*, `path`, `context_lines` | 20000 |
//! | `bash` | `command`*, `timeout` (s) | 30000 |
//!
//! Every tool works inside a [`Workspace`]: paths are resolved against its root
//! and may not leave it. A tool either succeeds with a [`ToolOutput`] (text for
//! the model and the [`Effect`]s it had on the workspace) or fails with a typed
//! [`ToolError`]; [`execute`] turns both into the [`ToolResult`] the model sees,
//! cutting output longer than the tool's cap with [`truncate`].
//!
//! The file tools do blocking file-system work on tokio's blocking pool, so a
//! tokio runtime must be running.

mod bash;
mod files;
mod patch;
mod search;
mod workspace;

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use tracker_llm::{ToolCall, ToolResult, ToolSpec};
use tracker_stdx::future::BoxFuture;

pub use bash::BashTool;
pub use files::{EditTool, ReadTool, WriteTool};
pub use patch::ApplyPatchTool;
pub use search::{GlobTool, GrepSearchTool};
pub use workspace::{
    filter_env, filtered_env, is_secret, Workspace, DEFAULT_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT,
};

/// What a tool did to the workspace (for session statistics). Paths are
/// relative to the workspace root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A file was created.
    Created(String),
    /// An existing file was changed.
    Modified(String),
    /// A file was removed.
    Deleted(String),
}

/// What a tool returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolOutput {
    /// The text for the model (before truncation).
    pub content: String,
    /// What the call changed, in order (empty for read-only tools).
    pub effects: Vec<Effect>,
}

impl ToolOutput {
    /// Output with no effects.
    pub fn text(content: impl Into<String>) -> ToolOutput {
        ToolOutput {
            content: content.into(),
            effects: Vec::new(),
        }
    }
}

/// Why a tool call failed. The message is what the model reads.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The arguments are missing, of the wrong type or out of range.
    #[error("{0}")]
    InvalidArguments(String),
    /// The path does not exist.
    #[error("file not found: {0}")]
    NotFound(String),
    /// The path leads outside the working directory.
    #[error("path {0:?} is outside the working directory")]
    Escapes(String),
    /// A write into tracker's own records (`.tracker/`, or the run
    /// directories under `--artifact-dir`).
    #[error("path {0:?} is inside tracker's own run records: agent tools may read them, not change them")]
    Records(String),
    /// A file was expected, but the path is a directory.
    #[error("{0} is a directory, not a file")]
    IsDirectory(String),
    /// A directory was expected, but the path is something else.
    #[error("{0} is not a directory")]
    NotADirectory(String),
    /// The file looks binary (a NUL byte in its first 8 KiB).
    #[error("{0} is a binary file")]
    Binary(String),
    /// The file is not valid UTF-8, so it cannot be edited as text.
    #[error("{0} is not valid UTF-8 text")]
    NotUtf8(String),
    /// `edit`: `old_string` does not occur in the file.
    #[error("old_string not found in {0}; read the file and copy the text exactly, including whitespace")]
    NoMatch(String),
    /// `edit`: `old_string` occurs more than once.
    #[error("old_string occurs {count} times in {path}; include more surrounding context so that it matches exactly once")]
    AmbiguousMatch {
        /// The file.
        path: String,
        /// How many times it occurs.
        count: usize,
    },
    /// `apply_patch`: the patch does not parse or does not apply.
    #[error("patch not applied: {0}")]
    Patch(String),
    /// `grep_search`: the pattern is not a valid regular expression.
    #[error("invalid regex {pattern:?}: {message}")]
    Regex {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// `glob`: the pattern is not a valid glob.
    #[error("invalid glob pattern {pattern:?}: {message}")]
    Glob {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The path, as shown to the model.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// The shell could not be started.
    #[error("cannot start {shell}: {source}")]
    Spawn {
        /// The shell.
        shell: String,
        /// The failure.
        source: std::io::Error,
    },
    /// `bash`: the command ran past its timeout; its process group was killed.
    #[error("command timed out after {} s; its process group was killed", .timeout.as_secs_f64())]
    TimedOut {
        /// The timeout.
        timeout: Duration,
        /// What it printed before it was killed.
        partial_output: String,
    },
    /// `bash`: the command was refused by the allowlist in force; it did
    /// not run.
    #[error("command not run: {0}")]
    Refused(String),
    /// The tool's blocking task panicked or was cancelled.
    #[error("the tool crashed: {0}")]
    Crashed(String),
}

/// A tool the model can call.
pub trait Tool: Send + Sync + std::fmt::Debug {
    /// Its name, description for the model and JSON Schema for its arguments
    /// (an object schema listing the required fields).
    fn spec(&self) -> ToolSpec;

    /// The most characters of output the model sees (see [`truncate`]).
    fn output_cap(&self) -> usize;

    /// Runs one call. `args` is a JSON object.
    fn run(
        &self,
        args: Value,
        workspace: Arc<Workspace>,
    ) -> BoxFuture<Result<ToolOutput, ToolError>>;
}

/// The tools offered to a model, by name, in a stable order.
///
/// Cheap to clone and to read the specs of: every agent session starts from
/// the built-in set, whose JSON schemas are built once per process and shared.
#[derive(Clone, Debug, Default)]
pub struct ToolRegistry {
    /// The tools' specs, built once at registration, as a request carries them.
    specs: Arc<[ToolSpec]>,
    /// The tools, in the same order as their specs.
    tools: Arc<[Arc<dyn Tool>]>,
}

impl ToolRegistry {
    /// The built-in tools, in this order: `read`, `write`, `edit`,
    /// `apply_patch`, `glob`, `grep_search`, `bash`. The `openai` provider gets
    /// no `edit` (its models edit with `apply_patch`).
    pub fn builtin(provider: &str) -> ToolRegistry {
        static WITH_EDIT: OnceLock<ToolRegistry> = OnceLock::new();
        static WITHOUT_EDIT: OnceLock<ToolRegistry> = OnceLock::new();
        let edits = !provider.eq_ignore_ascii_case("openai");
        let cached = if edits { &WITH_EDIT } else { &WITHOUT_EDIT };
        cached
            .get_or_init(|| {
                let mut registry = ToolRegistry::empty();
                registry.register(Arc::new(ReadTool));
                registry.register(Arc::new(WriteTool));
                if edits {
                    registry.register(Arc::new(EditTool));
                }
                registry.register(Arc::new(ApplyPatchTool));
                registry.register(Arc::new(GlobTool));
                registry.register(Arc::new(GrepSearchTool));
                registry.register(Arc::new(BashTool));
                registry
            })
            .clone()
    }

    /// No tools.
    pub fn empty() -> ToolRegistry {
        ToolRegistry::default()
    }

    /// Adds `tool`; a tool of the same name is replaced in place.
    pub fn register(&mut self, tool: Arc<dyn Tool>) {
        let spec = tool.spec();
        let mut specs = self.specs.to_vec();
        let mut tools = self.tools.to_vec();
        match specs.iter().position(|s| s.name == spec.name) {
            Some(at) => {
                specs[at] = spec;
                tools[at] = tool;
            }
            None => {
                specs.push(spec);
                tools.push(tool);
            }
        }
        self.specs = specs.into();
        self.tools = tools.into();
    }

    /// The tool called `name`, with its spec.
    pub fn get(&self, name: &str) -> Option<(&ToolSpec, &Arc<dyn Tool>)> {
        let at = self.specs.iter().position(|s| s.name == name)?;
        Some((&self.specs[at], &self.tools[at]))
    }

    /// The tools' specs, in registration order.
    pub fn specs(&self) -> Arc<[ToolSpec]> {
        Arc::clone(&self.specs)
    }

    /// The tools' names, in registration order.
    pub fn names(&self) -> Vec<String> {
        self.specs.iter().map(|s| s.name.clone()).collect()
    }

    /// Whether there are no tools.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}

/// `text` if it has at most `cap` characters; otherwise its last `cap / 2`
/// characters, prefixed `[... truncated N characters ...]` and a newline, where
/// N is the number of characters dropped. Counts characters, not bytes.
pub fn truncate(text: &str, cap: usize) -> Cow<'_, str> {
    let total = text.chars().count();
    if total <= cap {
        return Cow::Borrowed(text);
    }
    let dropped = total - cap / 2;
    let start = text
        .char_indices()
        .nth(dropped)
        .map_or(text.len(), |(i, _)| i);
    Cow::Owned(format!(
        "[... truncated {dropped} characters ...]\n{}",
        &text[start..]
    ))
}

/// One executed tool call.
#[derive(Clone, Debug, PartialEq)]
pub struct Executed {
    /// The result for the model: its content truncated to the tool's cap.
    pub result: ToolResult,
    /// The content before truncation (for the event stream).
    pub full_output: String,
    /// What the call changed.
    pub effects: Vec<Effect>,
    /// How long it took.
    pub duration: Duration,
}

/// Runs `call` with the tool `registry` names. Never fails: an unknown tool,
/// bad arguments or a tool error become an `is_error` result the model reads:
///
/// * `Unknown tool: <name>`;
/// * `Invalid arguments for tool <name>: <what is wrong>`;
/// * `Tool error (<name>): <error>` (a timed-out command's partial output
///   comes first, so that truncation, which keeps the tail, keeps the error).
pub async fn execute(
    registry: &ToolRegistry,
    call: &ToolCall,
    workspace: Arc<Workspace>,
) -> Executed {
    let started = Instant::now();
    let name = call.name.as_str();
    let (full_output, is_error, effects, cap) = match registry.get(name) {
        None => (
            format!("Unknown tool: {name}"),
            true,
            Vec::new(),
            usize::MAX,
        ),
        Some((spec, tool)) => {
            let cap = tool.output_cap();
            match check_arguments(spec, &call.arguments) {
                Err(problem) => (invalid(name, &problem), true, Vec::new(), cap),
                Ok(args) => match tool.run(args, workspace).await {
                    Ok(output) => (output.content, false, output.effects, cap),
                    Err(error) => (error_text(name, &error), true, Vec::new(), cap),
                },
            }
        }
    };
    // A file or command may hold a key tracker loaded (the `.env` it read
    // keys from, say): it reaches neither the model nor the run's records.
    let full_output = match tracker_stdx::secrets::redact_known(&full_output) {
        Cow::Borrowed(_) => full_output,
        Cow::Owned(redacted) => redacted,
    };
    let content = match truncate(&full_output, cap) {
        Cow::Borrowed(_) => full_output.clone(),
        Cow::Owned(cut) => cut,
    };
    Executed {
        result: ToolResult {
            call_id: call.id.clone(),
            name: call.name.clone(),
            content,
            is_error,
        },
        full_output,
        effects,
        duration: started.elapsed(),
    }
}

fn invalid(name: &str, problem: &str) -> String {
    format!("Invalid arguments for tool {name}: {problem}")
}

fn error_text(name: &str, error: &ToolError) -> String {
    match error {
        ToolError::InvalidArguments(problem) => invalid(name, problem),
        ToolError::TimedOut { partial_output, .. } if !partial_output.is_empty() => {
            let sep = if partial_output.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            format!(
                "{partial_output}{sep}Tool error ({name}): {error} (the output above is partial)"
            )
        }
        _ => format!("Tool error ({name}): {error}"),
    }
}

/// The call's arguments as an object with every required field present and
/// not null. `null` (no arguments at all) counts as `{}`.
fn check_arguments(spec: &ToolSpec, args: &Value) -> Result<Value, String> {
    let object = match args {
        Value::Object(map) => map.clone(),
        Value::Null => Map::new(),
        // Arguments that did not parse reach here as their raw text (a call
        // cut off mid-way, say): say so, not that a string is the wrong type.
        Value::String(raw) if raw.trim_start().starts_with(['{', '[']) => {
            match serde_json::from_str::<Value>(raw) {
                // An object sent encoded as a string (some servers do): taken.
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err("expected a JSON object, got an array".to_string()),
                Err(e) => {
                    return Err(format!(
                        "the arguments are not valid JSON ({e}): {}",
                        tracker_stdx::text::head(raw, 200)
                    ))
                }
            }
        }
        other => return Err(format!("expected a JSON object, got {}", json_type(other))),
    };
    let required = spec
        .parameters
        .get("required")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let missing: Vec<&str> = required
        .iter()
        .filter_map(Value::as_str)
        .filter(|field| object.get(*field).is_none_or(Value::is_null))
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing required field(s): {}", missing.join(", ")));
    }
    Ok(Value::Object(object))
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Typed access to a call's arguments; every error names the field.
struct Args<'a>(&'a Value);

impl<'a> Args<'a> {
    /// A required string field.
    fn string(&self, field: &str) -> Result<&'a str, ToolError> {
        self.optional_string(field)?
            .ok_or_else(|| ToolError::InvalidArguments(format!("`{field}` is required")))
    }

    /// An optional string field (`null` counts as absent).
    fn optional_string(&self, field: &str) -> Result<Option<&'a str>, ToolError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ToolError::InvalidArguments(format!(
                "`{field}` must be a string, got {}",
                json_type(other)
            ))),
        }
    }

    /// An optional non-negative whole number (a numeric string is accepted).
    fn optional_count(&self, field: &str) -> Result<Option<u64>, ToolError> {
        let bad = |got: &str| {
            ToolError::InvalidArguments(format!(
                "`{field}` must be a non-negative whole number, got {got}"
            ))
        };
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
                (Some(v), _) => Ok(Some(v)),
                (None, Some(f)) if f >= 0.0 && f.fract() == 0.0 && f <= u32::MAX as f64 => {
                    Ok(Some(f as u64))
                }
                _ => Err(bad(&n.to_string())),
            },
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| bad(&format!("{s:?}"))),
            Some(other) => Err(bad(json_type(other))),
        }
    }

    /// An optional positive number of seconds (fractions allowed).
    fn optional_seconds(&self, field: &str) -> Result<Option<Duration>, ToolError> {
        let bad = |got: &str| {
            ToolError::InvalidArguments(format!(
                "`{field}` must be a positive number of seconds, got {got}"
            ))
        };
        let seconds = match self.0.get(field) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_f64().ok_or_else(|| bad(&n.to_string()))?,
            Some(Value::String(s)) => s.trim().parse().map_err(|_| bad(&format!("{s:?}")))?,
            Some(other) => return Err(bad(json_type(other))),
        };
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(bad(&seconds.to_string()));
        }
        // Anything past the cap is capped later; this only has to fit.
        Ok(Some(Duration::from_secs_f64(seconds.min(1.0e9))))
    }
}

/// Runs blocking file-system work on tokio's blocking pool.
fn blocking<F>(work: F) -> BoxFuture<Result<ToolOutput, ToolError>>
where
    F: FnOnce() -> Result<ToolOutput, ToolError> + Send + 'static,
{
    Box::pin(async move {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ToolError::Crashed(e.to_string()))?
    })
}

/// Whether `bytes` (the start of a file) look binary: a NUL in the first 8 KiB.
fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8 * 1024).any(|b| *b == 0)
}

/// An I/O error on `path` (as the model named it), with not-found and
/// is-a-directory errors given their own variants.
fn io_error(path: &str, source: std::io::Error) -> ToolError {
    match source.kind() {
        std::io::ErrorKind::NotFound => ToolError::NotFound(path.to_string()),
        std::io::ErrorKind::IsADirectory => ToolError::IsDirectory(path.to_string()),
        _ => ToolError::Io {
            path: path.to_string(),
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            id: "c1".into(),
            name: name.into(),
            arguments,
            signature: String::new(),
        }
    }

    fn workspace() -> (tempfile::TempDir, Arc<Workspace>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = Workspace::new(dir.path()).expect("workspace");
        (dir, Arc::new(ws))
    }

    #[test]
    fn truncation_keeps_the_tail_half_with_a_marker() {
        assert_eq!(truncate("short", 5), "short");
        let text = "abcdefghij";
        assert_eq!(truncate(text, 4), "[... truncated 8 characters ...]\nij");
        assert!(matches!(truncate(text, 10), Cow::Borrowed(_)));
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        let text = "é€😀".repeat(10);
        assert_eq!(truncate(&text, 30), text.as_str());
        let cut = truncate(&text, 7);
        assert_eq!(cut, "[... truncated 27 characters ...]\né€😀");
        let mixed = "aé".repeat(100);
        assert_eq!(
            truncate(&mixed, 11),
            "[... truncated 195 characters ...]\néaéaé"
        );
    }

    #[test]
    fn the_builtin_registry_follows_the_reference() {
        let names = ToolRegistry::builtin("anthropic").names();
        assert_eq!(
            names,
            [
                "read",
                "write",
                "edit",
                "apply_patch",
                "glob",
                "grep_search",
                "bash"
            ]
        );
        let openai = ToolRegistry::builtin("openai").names();
        assert!(!openai.contains(&"edit".to_string()));
        assert_eq!(openai.len(), 6);
        let registry = ToolRegistry::builtin("gemini");
        for spec in registry.specs().iter() {
            assert_eq!(spec.parameters["type"], "object", "{}", spec.name);
            assert!(spec.parameters["required"].is_array(), "{}", spec.name);
            assert!(!spec.description.is_empty());
        }
        let caps: Vec<usize> = registry
            .names()
            .iter()
            .map(|n| registry.get(n).expect("tool").1.output_cap())
            .collect();
        assert_eq!(caps, [50000, 1000, 10000, 10000, 8000, 20000, 30000]);
        assert!(ToolRegistry::empty().is_empty());
    }

    #[test]
    fn registering_a_same_named_tool_replaces_it_in_place() {
        #[derive(Debug)]
        struct Fake;
        impl Tool for Fake {
            fn spec(&self) -> ToolSpec {
                ToolSpec {
                    name: "write".into(),
                    description: "fake".into(),
                    parameters: json!({"type": "object", "required": []}),
                }
            }
            fn output_cap(&self) -> usize {
                4
            }
            fn run(&self, _: Value, _: Arc<Workspace>) -> BoxFuture<Result<ToolOutput, ToolError>> {
                Box::pin(async { Ok(ToolOutput::text("fake output")) })
            }
        }
        let mut registry = ToolRegistry::builtin("anthropic");
        registry.register(Arc::new(Fake));
        assert_eq!(registry.names()[1], "write");
        assert_eq!(registry.specs()[1].description, "fake");
        assert_eq!(registry.names().len(), 7);
    }

    #[tokio::test]
    async fn unknown_tools_and_bad_arguments_are_error_results() {
        let (_dir, ws) = workspace();
        let registry = ToolRegistry::builtin("anthropic");
        let done = execute(&registry, &call("nope", json!({})), ws.clone()).await;
        assert!(done.result.is_error);
        assert_eq!(done.result.content, "Unknown tool: nope");
        assert_eq!(done.result.call_id, "c1");

        let done = execute(&registry, &call("read", json!("a.txt")), ws.clone()).await;
        assert!(done.result.is_error);
        assert_eq!(
            done.result.content,
            "Invalid arguments for tool read: expected a JSON object, got a string"
        );

        let done = execute(&registry, &call("write", json!({"path": "a"})), ws.clone()).await;
        assert_eq!(
            done.result.content,
            "Invalid arguments for tool write: missing required field(s): content"
        );

        // An object encoded as a string is taken as the object.
        let done = execute(
            &registry,
            &call("read", json!("{\"path\": \"nope.txt\"}")),
            ws.clone(),
        )
        .await;
        assert!(
            done.result.content.contains("nope.txt"),
            "{}",
            done.result.content
        );
        assert!(
            !done.result.content.contains("Invalid arguments"),
            "{}",
            done.result.content
        );

        // Arguments cut off mid-way arrive as their raw text.
        let done = execute(
            &registry,
            &call("read", json!("{\"path\": \"a.t")),
            ws.clone(),
        )
        .await;
        assert!(
            done.result
                .content
                .starts_with("Invalid arguments for tool read: the arguments are not valid JSON (EOF while parsing"),
            "{}",
            done.result.content
        );

        let done = execute(&registry, &call("read", json!({"path": 7})), ws.clone()).await;
        assert_eq!(
            done.result.content,
            "Invalid arguments for tool read: `path` must be a string, got a number"
        );

        let done = execute(&registry, &call("read", json!({"path": "missing.txt"})), ws).await;
        assert!(done.result.is_error);
        assert_eq!(
            done.result.content,
            "Tool error (read): file not found: missing.txt"
        );
    }

    #[tokio::test]
    async fn failed_commands_and_timeouts_reach_the_model() {
        let (_dir, ws) = workspace();
        let registry = ToolRegistry::builtin("openai");
        let failed = execute(
            &registry,
            &call("bash", json!({"command": "exit 4"})),
            ws.clone(),
        )
        .await;
        assert!(!failed.result.is_error);
        assert_eq!(failed.result.content, "exit code: 4");
        let timed_out = execute(
            &registry,
            &call(
                "bash",
                json!({"command": "echo partial; sleep 30", "timeout": 1}),
            ),
            ws,
        )
        .await;
        assert!(timed_out.result.is_error);
        assert_eq!(
            timed_out.result.content,
            "partial\nTool error (bash): command timed out after 1 s; its process group was \
             killed (the output above is partial)"
        );
    }

    #[tokio::test]
    async fn results_are_truncated_but_the_full_output_is_kept() {
        let (dir, ws) = workspace();
        let registry = ToolRegistry::builtin("anthropic");
        let done = execute(
            &registry,
            &call(
                "write",
                json!({"path": "f.txt", "content": "x".repeat(5000)}),
            ),
            ws.clone(),
        )
        .await;
        assert!(!done.result.is_error);
        assert_eq!(done.effects, [Effect::Created("f.txt".into())]);
        assert_eq!(done.full_output, "Wrote 5000 bytes to f.txt");
        std::fs::write(dir.path().join("big.txt"), "é".repeat(60_000)).expect("write");
        let done = execute(&registry, &call("read", json!({"path": "big.txt"})), ws).await;
        assert!(!done.result.is_error);
        assert!(done.result.content.chars().count() <= 25_000 + 64);
        assert!(done.result.content.starts_with("[... truncated "));
        assert!(done.full_output.chars().count() > 60_000);
    }
}
