//! Agent pipelines end to end: the `tracker` binary runs an agent node
//! against the local mock provider in each provider's wire format. The model
//! calls a tool that writes a file, then finishes; the test checks the file,
//! the request bodies against each provider's documented schema, usage and
//! cost in the events and the summary, and that the API key appears nowhere
//! tracker wrote. Also: billing exhaustion pauses a run that `-r` resumes, and
//! a missing key stops a run before any node starts.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};
use tracker_tests::mock_provider::{MockProvider, Recorded, Reply};
use tracker_tests::sse_bodies::{body, Call, Turn, TurnUsage};
use tracker_tests::{files_under, in_dir, run_dirs, text};

/// A key distinctive enough to grep for.
const KEY: &str = "sk-test-LEAKCANARY-7f3a9c1e5b";

const PROVIDERS: [(&str, &str, &str, &str); 4] = [
    (
        "anthropic",
        "claude-sonnet-4-6",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
    ),
    ("openai", "gpt-5.4", "OPENAI_API_KEY", "OPENAI_BASE_URL"),
    (
        "gemini",
        "gemini-2.5-flash",
        "GEMINI_API_KEY",
        "GEMINI_BASE_URL",
    ),
    (
        "openai-compat",
        "gpt-4.1-mini",
        "OPENAI_COMPAT_API_KEY",
        "OPENAI_COMPAT_BASE_URL",
    ),
];

fn pipeline(provider: &str, model: &str) -> String {
    format!(
        "workflow AgentWrites\n  goal: \"write a greeting file\"\n  start: Start\n  exit: Done\n  defaults\n    provider: {provider}\n    model: {model}\n  agent Start\n    label: Start\n  agent Write\n    auto_status: true\n    prompt: Create out/hello.txt with a greeting, then say STATUS: success.\n  agent Done\n    label: Done\n  edges\n    Start -> Write\n    Write -> Done\n"
    )
}

/// Runs `args` in `dir` with only the given provider variables set (see
/// [`in_dir`]) and quick retries.
fn run(dir: &Path, args: &[&str], vars: &[(&str, String)]) -> Output {
    let mut cmd = in_dir(dir);
    cmd.env("TRACKER_LLM_RETRY_BASE", "5ms")
        .env("TRACKER_STREAM_IDLE_TIMEOUT", "5s");
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd.args(args).output().expect("tracker runs")
}

fn usage(input: u64, output: u64) -> TurnUsage {
    TurnUsage {
        input,
        output,
        ..TurnUsage::default()
    }
}

fn assert_no_key_anywhere(dir: &Path, out: &Output) {
    assert!(!text(&out.stdout).contains(KEY), "key in stdout");
    assert!(!text(&out.stderr).contains(KEY), "key in stderr");
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(KEY),
            "the API key leaked into {}",
            file.display()
        );
    }
}

/// Writes `dir/.env` with `provider`'s key and base URL (`url`), and
/// `dir/agent.dip`: [`pipeline`] with a tool node (name, command) before
/// `Done`.
fn env_file_and_pipeline(
    dir: &Path,
    (provider, model, key_var, url_var): (&str, &str, &str, &str),
    url: &str,
    (tool, command): (&str, &str),
) {
    std::fs::write(
        dir.join(".env"),
        format!("{key_var}={KEY}\n{url_var}={url}\n"),
    )
    .expect("env file");
    let dip = pipeline(provider, model)
        .replace(
            "  agent Done\n",
            &format!("  tool {tool}\n    command: {command}\n  agent Done\n"),
        )
        .replace(
            "    Write -> Done\n",
            &format!("    Write -> {tool}\n    {tool} -> Done\n"),
        );
    std::fs::write(dir.join("agent.dip"), dip).expect("write");
}

/// The model's two turns for [`pipeline`]'s agent: it writes `content` to
/// `out/hello.txt` (the turn using `first`), then says it is done.
fn writes_then_done(provider: &str, content: &str, first: TurnUsage) -> [Reply; 2] {
    let write = Call::new(
        "call_1",
        "write",
        json!({"path": "out/hello.txt", "content": content}),
    );
    [
        Reply::sse(body(provider, &Turn::calls("", vec![write], first))),
        Reply::sse(body(
            provider,
            &Turn::text("done\nSTATUS: success", usage(10, 5)),
        )),
    ]
}

/// Anthropic's answer when the account has no credit left.
fn out_of_credit() -> Reply {
    let body = json!({"type": "error", "error": {"type": "invalid_request_error",
        "message": "Your credit balance is too low to access the Anthropic API."}});
    Reply::status(400, body.to_string())
}

/// The events of the runs' activity logs.
fn activity(dir: &Path) -> Vec<Value> {
    files_under(&dir.join(".tracker/runs"))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "activity.jsonl"))
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).expect("activity lines are JSON"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The `cost_updated` events of the runs' activity logs.
fn cost_events(dir: &Path) -> Vec<Value> {
    activity(dir)
        .into_iter()
        .filter(|e| e["type"] == "cost_updated")
        .collect()
}

/// The tool result the second request sends back, in the provider's shape.
fn tool_result_in(provider: &str, request: &Recorded) -> Value {
    let body = &request.body;
    let find = |items: &Value, pred: &dyn Fn(&Value) -> bool| -> Value {
        items
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| pred(v))
            .cloned()
            .unwrap_or(Value::Null)
    };
    match provider {
        "anthropic" => {
            let user_blocks: Vec<Value> = body["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["role"] == "user")
                .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
                .collect();
            find(&Value::Array(user_blocks), &|b| b["type"] == "tool_result")
        }
        "openai" => find(&body["input"], &|i| i["type"] == "function_call_output"),
        "gemini" => {
            let parts: Vec<Value> = body["contents"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["parts"].as_array().cloned().unwrap_or_default())
                .collect();
            find(&Value::Array(parts), &|p| {
                p.get("functionResponse").is_some()
            })
        }
        _ => find(&body["messages"], &|m| m["role"] == "tool"),
    }
}

/// Asserts the first request follows the provider's documented schema.
fn assert_first_request_schema(provider: &str, model: &str, request: &Recorded) {
    let body = &request.body;
    let has_write_tool = |tools: &Value, name_at: &str, schema_at: &str| {
        tools.as_array().into_iter().flatten().any(|t| {
            t.pointer(name_at) == Some(&json!("write"))
                && t.pointer(schema_at).and_then(|s| s.get("type")) == Some(&json!("object"))
        })
    };
    match provider {
        "anthropic" => {
            assert_eq!(body["model"], model);
            assert_eq!(body["stream"], true);
            assert_eq!(body["max_tokens"], 16384);
            assert_eq!(body["system"][0]["type"], "text");
            assert_eq!(body["messages"][0]["role"], "user");
            assert!(body["messages"][0]["content"][0]["text"]
                .as_str()
                .is_some_and(|t| t.contains("Create out/hello.txt")));
            assert!(
                has_write_tool(&body["tools"], "/name", "/input_schema"),
                "{body:#}"
            );
            assert_eq!(body["tool_choice"]["type"], "auto");
        }
        "openai" => {
            assert_eq!(body["model"], model);
            assert_eq!(body["stream"], true);
            assert!(body["instructions"].is_string());
            assert_eq!(body["input"][0]["role"], "user");
            assert_eq!(body["input"][0]["content"][0]["type"], "input_text");
            assert!(
                has_write_tool(&body["tools"], "/name", "/parameters"),
                "{body:#}"
            );
            assert!(body["tools"][0]["type"] == "function");
        }
        "gemini" => {
            assert_eq!(
                request.path,
                format!("/v1beta/models/{model}:streamGenerateContent")
            );
            assert_eq!(request.query, "alt=sse");
            assert!(body["systemInstruction"]["parts"][0]["text"].is_string());
            assert_eq!(body["contents"][0]["role"], "user");
            let declarations = &body["tools"][0]["functionDeclarations"];
            assert!(
                has_write_tool(declarations, "/name", "/parameters"),
                "{body:#}"
            );
            assert_eq!(body["toolConfig"]["functionCallingConfig"]["mode"], "AUTO");
        }
        _ => {
            assert_eq!(body["model"], model);
            assert_eq!(body["stream"], true);
            assert_eq!(body["stream_options"]["include_usage"], true);
            assert_eq!(body["messages"][0]["role"], "system");
            assert_eq!(body["messages"][1]["role"], "user");
            assert!(
                has_write_tool(&body["tools"], "/function/name", "/function/parameters"),
                "{body:#}"
            );
        }
    }
}

#[test]
fn each_provider_runs_a_streamed_multi_turn_agent_that_writes_a_file() {
    for (provider, model, key_var, url_var) in PROVIDERS {
        let dir = tempfile::tempdir().expect("temp dir");
        let greeting = format!("hello from {provider} ✓\n");
        let mock = MockProvider::start([
            Reply::sse(body(
                provider,
                &Turn::calls(
                    "I'll create the file.",
                    vec![Call::new(
                        "call_w1",
                        "write",
                        json!({"path": "out/hello.txt", "content": greeting}),
                    )],
                    usage(1000, 200),
                ),
            )),
            Reply::sse(body(
                provider,
                &Turn::text("Created out/hello.txt.\nSTATUS: success", usage(1300, 50)),
            )),
        ]);
        std::fs::write(dir.path().join("agent.dip"), pipeline(provider, model)).expect("write");
        let out = run(
            dir.path(),
            &["run", "agent.dip", "--no-tui"],
            &[(key_var, KEY.to_string()), (url_var, mock.url())],
        );
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{provider}\n{stdout}\n{}",
            text(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out/hello.txt")).expect("the tool wrote it"),
            greeting,
            "{provider}"
        );

        let requests = mock.requests();
        assert_eq!(requests.len(), 2, "{provider}: two turns");
        assert_first_request_schema(provider, model, &requests[0]);
        let result = tool_result_in(provider, &requests[1]);
        assert!(
            !result.is_null(),
            "{provider}: no tool result in {:#}",
            requests[1].body
        );
        let result_text = result.to_string();
        assert!(result_text.contains("Wrote"), "{provider}: {result_text}");
        if provider != "gemini" {
            assert!(
                result_text.contains("call_w1"),
                "{provider}: the result answers the call: {result_text}"
            );
        } else {
            assert_eq!(result["functionResponse"]["name"], "write");
        }

        // The session's steps are on the event stream.
        let agent: Vec<Value> = activity(dir.path())
            .into_iter()
            .filter(|e| e["source"] == "agent")
            .collect();
        let start = agent
            .iter()
            .find(|e| e["type"] == "tool_call_start")
            .expect("tool_call_start");
        assert_eq!(start["tool_name"], "write", "{provider}");
        // Gemini gives calls no ids; tracker numbers them.
        let call_id = if provider == "gemini" {
            "call_0"
        } else {
            "call_w1"
        };
        assert_eq!(start["call_id"], call_id, "{provider}");
        let end = agent
            .iter()
            .find(|e| e["type"] == "tool_call_end")
            .expect("tool_call_end");
        assert!(
            end["content"]
                .as_str()
                .is_some_and(|c| c.starts_with("Wrote")),
            "{provider}: {end}"
        );
        assert_eq!(
            agent.iter().filter(|e| e["type"] == "llm_finish").count(),
            2,
            "{provider}"
        );
        // Each turn's text streamed as `text_delta` events, all before the
        // turn's `llm_finish`; the console leaves them out.
        for (turn, said) in [
            (1, "I'll create the file."),
            (2, "Created out/hello.txt.\nSTATUS: success"),
        ] {
            let of_turn = |e: &&Value| e["turn_no"] == turn;
            let streamed: String = agent
                .iter()
                .filter(of_turn)
                .filter(|e| e["type"] == "text_delta")
                .filter_map(|e| e["content"].as_str())
                .collect();
            assert_eq!(streamed, said, "{provider}, turn {turn}");
            let last_delta = agent
                .iter()
                .rposition(|e| e["type"] == "text_delta" && e["turn_no"] == turn);
            let finish = agent
                .iter()
                .position(|e| e["type"] == "llm_finish" && e["turn_no"] == turn);
            assert!(last_delta < finish, "{provider}, turn {turn}");
        }
        assert!(!stdout.contains("text_delta"), "{provider}: {stdout}");

        // Usage and cost: in the cost events and the summary.
        let expected_cost =
            dippin::catalog::cost_usd(model, 2300, 250, 0, 0).expect("priced model");
        let last = cost_events(dir.path()).pop().expect("cost_updated events");
        let totals = &last["provider_totals"][provider];
        assert_eq!(totals["input_tokens"], 2300, "{provider}: {last}");
        assert_eq!(totals["output_tokens"], 250, "{provider}: {last}");
        assert_eq!(totals["session_count"], 1, "{provider}");
        let cost = last["total_cost_usd"].as_f64().expect("cost");
        assert!(
            (cost - expected_cost).abs() < 1e-9,
            "{provider}: {cost} vs {expected_cost}"
        );
        assert!(
            stdout.contains(&format!(
                "Tokens:    2550 (in 2300 / out 250)  ${expected_cost:.4}"
            )),
            "{provider}: {stdout}"
        );
        // The summary's totals, steps, providers and path (user-surface §1.4).
        for part in [
            "\nTotals\n  Turns:       2\n  Tool calls:  1 (write 1)\n  Files:       1 created, 0 modified\n".to_string(),
            format!("2 turns   1 tool     ${expected_cost:.4}\n"),
            format!("\nTokens by Provider\n  {provider:<14} 2550 (in 2300 / out 250)  ${expected_cost:.4}  1 session\n"),
            "\nPipeline\n  Start → Write → Done\n".to_string(),
        ] {
            assert!(stdout.contains(&part), "{provider}: {part:?} in {stdout}");
        }
        assert_no_key_anywhere(dir.path(), &out);
    }
}

#[test]
fn billing_exhaustion_pauses_the_run_and_resume_finishes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (provider, model, key_var, url_var) = PROVIDERS[0];
    std::fs::write(dir.path().join("agent.dip"), pipeline(provider, model)).expect("write");

    let mock = MockProvider::start([out_of_credit()]);
    let vars = [(key_var, KEY.to_string()), (url_var, mock.url())];
    let out = run(dir.path(), &["run", "agent.dip", "--no-tui"], &vars);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("billing_paused"), "{stdout}");
    assert!(stdout.contains("Resume: tracker -r"), "{stdout}");
    let said = text(&out.stderr);
    assert!(
        said.contains("(provider anthropic, the account of the key in ANTHROPIC_API_KEY)"),
        "which account needs credit: {said}"
    );
    let ended: Vec<Value> = activity(dir.path())
        .into_iter()
        .filter(|e| e.get("terminal_status").is_some())
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0]["terminal_status"], "paused_billing");
    assert_eq!(mock.requests().len(), 1, "billing errors are not retried");
    assert!(!dir.path().join("out/hello.txt").exists());

    let run_id = run_dirs(dir.path())
        .pop()
        .expect("one run")
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let mock = MockProvider::start(writes_then_done(provider, "paid\n", usage(10, 5)));
    // A message for the paused node reaches the model when the run resumes.
    let out = run(
        dir.path(),
        &["steer", &run_id[..6], "Write", "keep it short"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let vars = [(key_var, KEY.to_string()), (url_var, mock.url())];
    let out = run(dir.path(), &["run", "-r", &run_id, "--no-tui"], &vars);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/hello.txt")).expect("written after resume"),
        "paid\n"
    );
    let first = mock.requests()[0].body["messages"].to_string();
    assert!(first.contains("[STEERING] keep it short"), "{first}");
    assert_no_key_anywhere(dir.path(), &out);
}

#[test]
fn a_provider_out_of_credit_fails_over_to_the_next_llm_fallbacks_lane() {
    let dir = tempfile::tempdir().expect("temp dir");

    let anthropic = MockProvider::start([out_of_credit()]);
    let openai = MockProvider::start(writes_then_done(
        "openai",
        "from the fallback\n",
        usage(1_000_000, 0),
    ));
    let dip = pipeline("anthropic", "claude-sonnet-4-6").replace(
        "    prompt: Create out/hello.txt",
        "    params:\n      llm_fallbacks: openai/gpt-5.4\n    prompt: Create out/hello.txt",
    );
    std::fs::write(dir.path().join("agent.dip"), dip).expect("write");
    let vars = [
        ("ANTHROPIC_API_KEY", KEY.to_string()),
        ("ANTHROPIC_BASE_URL", anthropic.url()),
        ("OPENAI_API_KEY", KEY.to_string()),
        ("OPENAI_BASE_URL", openai.url()),
    ];
    let out = run(dir.path(), &["run", "agent.dip", "--no-tui"], &vars);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/hello.txt")).expect("written"),
        "from the fallback\n"
    );
    assert_eq!(anthropic.requests().len(), 1, "billing is not retried");
    let asked = openai.requests();
    assert_eq!(asked.len(), 2, "the session stays on the fallback lane");
    assert!(asked.iter().all(|r| r.body["model"] == "gpt-5.4"));
    let failovers: Vec<Value> = activity(dir.path())
        .into_iter()
        .filter(|e| e["type"] == "provider_failover")
        .collect();
    assert_eq!(failovers.len(), 1, "{failovers:?}");
    assert_eq!(
        failovers[0]["message"],
        "anthropic/claude-sonnet-4-6 is out of credit; switching to openai/gpt-5.4"
    );
    // The fallback's million input tokens are priced as gpt-5.4's.
    let expected = dippin::catalog::cost_usd("gpt-5.4", 1_000_010, 5, 0, 0).expect("priced");
    let cost = cost_events(dir.path())
        .last()
        .and_then(|e| e["total_cost_usd"].as_f64())
        .expect("a cost");
    assert!((cost - expected).abs() < 1e-6, "{cost} vs {expected}");
    // And credited to the lane that answered: in each turn's event, in the
    // totals by provider and in the summary.
    let finishes: Vec<Value> = activity(dir.path())
        .into_iter()
        .filter(|e| e["type"] == "llm_finish")
        .collect();
    assert_eq!(finishes.len(), 2, "{finishes:?}");
    assert!(
        finishes
            .iter()
            .all(|e| e["provider"] == "openai" && e["model"] == "gpt-5.4"),
        "{finishes:?}"
    );
    let totals = cost_events(dir.path()).last().expect("a cost")["provider_totals"].clone();
    assert_eq!(
        totals
            .as_object()
            .map(|t| t.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["openai".to_string()]),
        "{totals}"
    );
    assert_eq!(totals["openai"]["input_tokens"], 1_000_010, "{totals}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\n  openai "), "{stdout}");
    assert!(!stdout.contains("\n  anthropic "), "{stdout}");
    assert_no_key_anywhere(dir.path(), &out);
}

#[test]
fn a_retried_model_call_says_why_it_waits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (provider, model, key_var, url_var) = PROVIDERS[0];
    let [write, done] = writes_then_done(provider, "retried\n", usage(10, 5));
    let mock = MockProvider::start([Reply::status(503, "unavailable"), write, done]);
    std::fs::write(dir.path().join("agent.dip"), pipeline(provider, model)).expect("write");
    let vars = [(key_var, KEY.to_string()), (url_var, mock.url())];
    let out = run(dir.path(), &["run", "agent.dip", "--no-tui"], &vars);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let notices: Vec<Value> = activity(dir.path())
        .into_iter()
        .filter(|e| e["type"] == "warning" && e["source"] == "agent")
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let said = notices[0]["message"].as_str().unwrap_or("");
    assert!(
        said.starts_with("anthropic: server error (503): unavailable; retrying in "),
        "{said}"
    );
    assert!(said.ends_with("(retry 1 of 3)"), "{said}");
    assert!(
        stdout.contains("retrying in"),
        "the console says so too: {stdout}"
    );
}

#[test]
fn a_missing_key_stops_the_run_before_any_node_with_a_setup_hint() {
    for (provider, model, key_var, _) in PROVIDERS {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("agent.dip"), pipeline(provider, model)).expect("write");
        let out = run(dir.path(), &["run", "agent.dip", "--no-tui"], &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{provider}: {stderr}");
        assert!(
            stderr.contains(key_var),
            "{provider}: names the variable: {stderr}"
        );
        assert!(stderr.contains("tracker setup"), "{provider}: {stderr}");
        assert!(
            !text(&out.stdout).contains("stage_started"),
            "{provider}: nothing ran"
        );
        assert!(
            run_dirs(dir.path()).is_empty(),
            "{provider}: no run directory"
        );
    }
}

#[test]
fn keys_from_env_files_work_and_never_reach_tool_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = PROVIDERS[1].0;
    let mock = MockProvider::start([
        Reply::sse(body(
            provider,
            &Turn::calls(
                "",
                vec![Call::new(
                    "call_env",
                    "bash",
                    json!({"command": "env > agent-env.txt"}),
                )],
                usage(10, 5),
            ),
        )),
        Reply::sse(body(
            provider,
            &Turn::text("done\nSTATUS: success", usage(10, 5)),
        )),
    ]);
    // The key comes from the workdir's .env file, not the shell.
    env_file_and_pipeline(
        dir.path(),
        PROVIDERS[1],
        &mock.url(),
        ("Env", "env > tool-env.txt"),
    );
    // Another provider's key is in the shell: stripped from subprocesses too.
    let shell = [("ANTHROPIC_API_KEY", KEY.to_string())];
    let out = run(dir.path(), &["run", "agent.dip", "--no-tui"], &shell);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let agent_env =
        std::fs::read_to_string(dir.path().join("agent-env.txt")).expect("agent bash ran");
    let tool_env = std::fs::read_to_string(dir.path().join("tool-env.txt")).expect("tool node ran");
    assert!(agent_env.contains("PATH="), "{agent_env}");
    assert!(tool_env.contains("TRACKER_RUN_ID="), "{tool_env}");
    // The env files themselves hold the key; everything tracker wrote must not.
    std::fs::remove_file(dir.path().join(".env")).expect("remove env file");
    assert_no_key_anywhere(dir.path(), &out);
    assert_eq!(
        mock.requests()[0]
            .headers
            .get("authorization")
            .map(String::as_str),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[test]
fn a_key_read_from_a_file_reaches_neither_the_model_nor_the_run_records() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (provider, _, key_var, _) = PROVIDERS[0];
    let mock = MockProvider::start([
        Reply::sse(body(
            provider,
            &Turn::calls(
                "",
                vec![Call::new("call_read", "read", json!({"path": ".env"}))],
                usage(10, 5),
            ),
        )),
        // Then writes back what it was shown, which would destroy the key.
        Reply::sse(body(
            provider,
            &Turn::calls(
                "",
                vec![Call::new(
                    "call_write",
                    "write",
                    json!({"path": ".env", "content": format!("{key_var}=****\nEXTRA=1\n")}),
                )],
                usage(10, 5),
            ),
        )),
        Reply::sse(body(
            provider,
            &Turn::text("read it\nSTATUS: success", usage(10, 5)),
        )),
    ]);
    // The key tracker uses is in the workdir's .env, which the agent reads
    // and a tool node prints.
    env_file_and_pipeline(dir.path(), PROVIDERS[0], &mock.url(), ("Show", "cat .env"));
    let out = run(dir.path(), &["run", "agent.dip", "--no-tui"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // The model got the file with the key cut out.
    let sent = tool_result_in(provider, &mock.requests()[1]).to_string();
    assert!(sent.contains(&format!("{key_var}=****")), "{sent}");
    assert!(!sent.contains(KEY), "{sent}");
    // Its write of the masked copy was refused, and the key is intact.
    let refused = mock.requests()[2].body.to_string();
    assert!(refused.contains("shown to you as ****"), "{refused}");
    let env_file = std::fs::read_to_string(dir.path().join(".env")).expect(".env");
    assert!(env_file.contains(KEY), "{env_file}");
    // The tool node's output in the context and events is cut too.
    let shown = activity(dir.path())
        .iter()
        .any(|e| e.to_string().contains(&format!("{key_var}=****")));
    assert!(shown, "the redacted line is in the activity log");
    std::fs::remove_file(dir.path().join(".env")).expect("remove env file");
    assert_no_key_anywhere(dir.path(), &out);
}

#[test]
fn run_records_under_an_artifact_dir_in_the_workdir_are_closed_to_the_agent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (provider, model, _, _) = PROVIDERS[0];
    std::fs::write(dir.path().join("agent.dip"), pipeline(provider, model)).expect("write");
    forging_is_refused(dir.path(), "agent.dip");
    // So are they to an agent of a subgraph's child run, which has no run
    // directory of its own.
    std::fs::rename(dir.path().join("agent.dip"), dir.path().join("child.dip")).expect("child");
    std::fs::write(
        dir.path().join("parent.dip"),
        "workflow Parent\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  subgraph Sub\n    ref: child.dip\n  agent Done\n    label: Done\n  edges\n    Start -> Sub\n    Sub -> Done\n",
    )
    .expect("parent");
    forging_is_refused(dir.path(), "parent.dip");
}

/// Runs `pipeline` in `dir` with `--artifact-dir records/runs`, its agent
/// trying to write into that directory: the write is refused, the model is
/// told why, and nothing is written.
fn forging_is_refused(dir: &Path, pipeline: &str) {
    let (provider, _, key_var, url_var) = PROVIDERS[0];
    let forge = Call::new(
        "call_forge",
        "write",
        json!({"path": "records/runs/forged.txt", "content": "x"}),
    );
    let mock = MockProvider::start([
        Reply::sse(body(provider, &Turn::calls("", vec![forge], usage(10, 5)))),
        Reply::sse(body(
            provider,
            &Turn::text("done\nSTATUS: success", usage(10, 5)),
        )),
    ]);
    let out = run(
        dir,
        &[
            "run",
            pipeline,
            "--no-tui",
            "--artifact-dir",
            "records/runs",
        ],
        &[(key_var, KEY.to_string()), (url_var, mock.url())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let refused = tool_result_in(provider, &mock.requests()[1]).to_string();
    assert!(refused.contains("tracker's own run records"), "{refused}");
    assert!(!dir.join("records/runs/forged.txt").exists());
}

#[test]
fn a_rejected_key_fails_the_node_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (provider, model, key_var, url_var) = PROVIDERS[0];
    std::fs::write(dir.path().join("agent.dip"), pipeline(provider, model)).expect("write");
    let rejected = json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}});
    let mock = MockProvider::start([Reply::status(401, rejected.to_string())]);
    let out = run(
        dir.path(),
        &["run", "agent.dip", "--no-tui"],
        &[(key_var, KEY.to_string()), (url_var, mock.url())],
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("anthropic: authentication failed (check the API key) (401 authentication_error): invalid x-api-key"),
        "{all}"
    );
    assert_eq!(mock.requests().len(), 1, "not retried");
    assert_no_key_anywhere(dir.path(), &out);
}

#[test]
fn a_working_dir_outside_the_workdir_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The run's working directory is `work`; `outside` is its sibling, which
    // a symlink inside `work` points at.
    let work = dir.path().join("work");
    std::fs::create_dir_all(dir.path().join("outside")).expect("mkdir");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::os::unix::fs::symlink(dir.path().join("outside"), work.join("link")).expect("symlink");
    for bad in ["../escape", "/tmp", "link/sub", "sub;rm -rf x"] {
        let dip = pipeline("stub", "stub-model").replace(
            "    auto_status: true\n",
            &format!("    auto_status: true\n    working_dir: \"{bad}\"\n"),
        );
        std::fs::write(work.join("agent.dip"), dip).expect("write");
        let out = run(&work, &["run", "agent.dip", "--no-tui"], &[]);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{bad}: {all}");
        assert!(all.contains("working_dir"), "{bad}: {all}");
        assert!(!dir.path().join("escape").exists(), "{bad}");
        assert!(!dir.path().join("outside/sub").exists(), "{bad}");
    }
}

#[test]
fn a_gateway_routes_each_provider_under_its_own_prefix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (provider, model, key_var, _) = PROVIDERS[2];
    std::fs::write(dir.path().join("agent.dip"), pipeline(provider, model)).expect("write");
    let mock = MockProvider::start([Reply::sse(body(
        provider,
        &Turn::text("done\nSTATUS: success", usage(10, 5)),
    ))]);
    let gateway = format!("{}/acct/gw", mock.url());
    let out = run(
        dir.path(),
        &["run", "agent.dip", "--no-tui", "--gateway-url", &gateway],
        &[(key_var, KEY.to_string())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        mock.requests()[0].path,
        format!("/acct/gw/google-ai-studio/v1beta/models/{model}:streamGenerateContent")
    );
    let out = run(
        dir.path(),
        &[
            "run",
            "agent.dip",
            "--no-tui",
            "--gateway-url",
            &gateway,
            "--gateway-kind",
            "nope",
        ],
        &[(key_var, KEY.to_string())],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("invalid value 'nope' for '--gateway-kind <KIND>'"),
        "{}",
        text(&out.stderr)
    ); // Provider settings are read only for the providers a pipeline uses.
    let out = run(
        dir.path(),
        &[
            "run",
            "agent.dip",
            "--no-tui",
            "--provider",
            "stub",
            "--gateway-url",
            &gateway,
        ],
        &[
            (key_var, KEY.to_string()),
            ("TRACKER_GATEWAY_KIND", "nope".to_string()),
            ("TRACKER_LLM_RETRY_BASE", "soon".to_string()),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
