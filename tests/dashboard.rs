//! The dashboard on a real terminal: the binary under `tmux`, driven with
//! `send-keys` and read with `capture-pane`. A choice gate, a freeform gate
//! submitted with Ctrl+S, a labelled freeform gate answered with text of
//! one's own and an interview form reach the run (the route it took, or the
//! answer it recorded, proves it); an agent's tool calls show in the log;
//! `q` cancels a running pipeline; the terminal is sane after. `tracker
//! dash` follows the runs of a directory and of a service (fifty of them,
//! one answered from the board).

use std::path::{Path, PathBuf};
use std::process::Command;

use tracker_tests::service::wait_until;
use tracker_tests::tracker_path;

/// A tmux server of the test's own, running one command in a 100×30 pane.
struct Pane {
    socket: String,
    dir: PathBuf,
}

impl Pane {
    /// Runs `tracker ARGS` in `dir` in a new 100×30 pane; when it ends, its
    /// exit code and the terminal's settings are written beside it.
    fn run(dir: &Path, args: &str) -> Pane {
        Pane::run_sized(dir, args, (100, 30))
    }

    /// [`Pane::run`] in a pane of `width`×`height`.
    fn run_sized(dir: &Path, args: &str, size: (u16, u16)) -> Pane {
        Pane::run_with(dir, args, size, &[])
    }

    /// [`Pane::run_sized`] with `vars` set for the command.
    fn run_with(
        dir: &Path,
        args: &str,
        (width, height): (u16, u16),
        vars: &[(&str, &str)],
    ) -> Pane {
        let socket = format!(
            "tracker-test-{}-{}",
            std::process::id(),
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        );
        let script = format!(
            "cd '{}' && '{}' {args}; code=$?; stty -a > stty.tmp; mv stty.tmp stty.txt; echo EXIT=$code > exit.tmp; mv exit.tmp exit.txt; sleep 600",
            dir.display(),
            tracker_path().display()
        );
        let status = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(script)
            .env_remove("TMUX")
            // Live activity logs where the test's other runs put them.
            .env("TRACKER_AUDIT_DIR", dir.join(".audit"))
            .envs(vars.iter().copied())
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux could not start");
        Pane {
            socket,
            dir: dir.to_path_buf(),
        }
    }

    /// What the pane shows now.
    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the pane shows `text`.
    fn wait_for(&self, text: &str) -> String {
        self.wait_for_all(&[text])
    }

    /// Waits until one screen shows every one of `texts`. (A capture may
    /// catch a frame half drawn, and a frame may hold only some of a burst of
    /// events: a test reading several parts of the screen waits for them
    /// together.)
    fn wait_for_all(&self, texts: &[&str]) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if texts.iter().all(|text| screen.contains(text)) {
                return screen;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "gave up waiting for {texts:?} on the screen; it shows:\n{screen}"
            );
            std::thread::yield_now();
        }
    }

    /// Types `keys` (tmux key names, or literal text with `-l`).
    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    /// Waits for the command to end; its exit code and whether the terminal
    /// was given back sane (canonical mode and echo on).
    fn ended(&self) -> (i32, bool) {
        let exit = self.dir.join("exit.txt");
        let stty = self.dir.join("stty.txt");
        // Each file appears whole (written aside, then renamed), the exit
        // code last.
        wait_until("the command to end", || exit.exists());
        let code = std::fs::read_to_string(exit)
            .ok()
            .and_then(|t| t.trim().strip_prefix("EXIT=").and_then(|c| c.parse().ok()))
            .expect("an exit code");
        let settings = std::fs::read_to_string(stty).unwrap_or_default();
        let flags: Vec<&str> = settings.split_whitespace().collect();
        (code, flags.contains(&"icanon") && flags.contains(&"echo"))
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// Writes `before`, asks gate `Gate` (`mode`), and writes `after` on `yes`.
fn gated(mode: &str) -> String {
    format!("workflow Gated\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Before\n    timeout: 10s\n    command: echo before >> ledger.txt\n  human Gate\n    label: \"Go on?\"\n    mode: {mode}\n  tool After\n    timeout: 10s\n    command: echo after >> ledger.txt\n  agent Done\n    label: Done\n  edges\n    Start -> Before\n    Before -> Gate\n    Gate -> After  label: yes\n    Gate -> Done  label: no\n    After -> Done\n")
}

fn workdir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(name)
        .tempdir()
        .expect("temp dir")
}

/// The gate's answer as the run recorded it (`gate_resolved`'s
/// `gate_response`).
fn recorded_answer(dir: &Path) -> String {
    let runs = dir.join(".tracker/runs");
    let run = std::fs::read_dir(&runs)
        .expect("runs")
        .flatten()
        .next()
        .expect("a run")
        .path();
    let log = std::fs::read_to_string(run.join("activity.jsonl")).expect("activity log");
    let resolved = log
        .lines()
        .find(|l| l.contains("\"type\":\"gate_resolved\""))
        .expect("the gate was resolved");
    let event: serde_json::Value = serde_json::from_str(resolved).expect("JSON");
    event["gate_response"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_choice_gate_is_answered_on_the_dashboard_and_the_run_takes_its_route() {
    let dir = workdir("choice");
    std::fs::write(dir.path().join("gated.dip"), gated("choice")).expect("pipeline");
    let pane = Pane::run(dir.path(), "run gated.dip --provider stub");
    // The gate, the node list's lamps and the activity log, as the gate
    // waits.
    pane.wait_for_all(&[
        "gate Gate",
        "● Before",
        "? Gate",
        "○ After",
        "▶ yes",
        "executing node \"Before\"",
    ]);
    // Down to `no`, and pick it.
    pane.keys(&["Down"]);
    pane.wait_for("▶ no");
    pane.keys(&["Enter"]);
    let (code, sane) = pane.ended();
    assert_eq!(code, 0);
    assert!(sane, "the terminal was left raw");
    let ledger = std::fs::read_to_string(dir.path().join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "before\n", "the `no` route skips After");
}

#[test]
fn a_freeform_gate_takes_lines_and_ctrl_s_submits_them() {
    let dir = workdir("freeform");
    let flow = "workflow Ask\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  human Ask\n    label: \"Notes?\"\n    mode: freeform\n  agent Done\n    label: Done\n  edges\n    Start -> Ask\n    Ask -> Done\n";
    std::fs::write(dir.path().join("ask.dip"), flow).expect("pipeline");
    let pane = Pane::run(dir.path(), "run ask.dip --provider stub");
    pane.wait_for("Ctrl+S submit");
    pane.keys(&["-l", "ship it"]);
    pane.keys(&["Enter"]);
    pane.keys(&["-l", "today"]);
    pane.wait_for("> today");
    pane.keys(&["C-s"]);
    let (code, sane) = pane.ended();
    assert_eq!(code, 0);
    assert!(sane);
    assert_eq!(recorded_answer(dir.path()), "ship it\ntoday");
}

#[test]
fn a_labelled_freeform_gate_offers_its_labels_and_other_text() {
    let dir = workdir("hybrid");
    std::fs::write(dir.path().join("gated.dip"), gated("freeform")).expect("pipeline");
    let pane = Pane::run(dir.path(), "run gated.dip --provider stub");
    pane.wait_for_all(&["other…", "yes", "no"]);
    // The last entry: text of one's own.
    pane.keys(&["Down", "Down"]);
    pane.wait_for("▶ other…");
    pane.keys(&["Enter"]);
    pane.wait_for("Ctrl+S submit");
    pane.keys(&["-l", "only the docs"]);
    pane.keys(&["C-s"]);
    let (code, sane) = pane.ended();
    assert!(sane);
    assert_eq!(recorded_answer(dir.path()), "only the docs", "exit {code}");

    // A label picked instead: the run takes its route (`yes` runs After).
    let picked = workdir("hybridlabel");
    std::fs::write(picked.path().join("gated.dip"), gated("freeform")).expect("pipeline");
    let pane = Pane::run(picked.path(), "run gated.dip --provider stub");
    pane.wait_for("▶ yes");
    pane.wait_for("other…");
    pane.keys(&["Enter"]);
    let (code, sane) = pane.ended();
    assert_eq!((code, sane), (0, true));
    let ledger = std::fs::read_to_string(picked.path().join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "before\nafter\n", "the `yes` route ran After");
}

#[test]
fn q_cancels_a_running_pipeline_and_gives_the_terminal_back() {
    let dir = workdir("quit");
    let flow = "workflow Slow\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Slow\n    timeout: 5m\n    command: sleep 120\n  agent Done\n    label: Done\n  edges\n    Start -> Slow\n    Slow -> Done\n";
    std::fs::write(dir.path().join("slow.dip"), flow).expect("pipeline");
    let pane = Pane::run(dir.path(), "run slow.dip --provider stub");
    pane.wait_for("◉ Slow");
    pane.keys(&["q"]);
    let (code, sane) = pane.ended();
    assert_eq!(code, 1, "a cancelled run fails");
    assert!(sane, "the terminal was left raw");
    // The shell prompt is back in the pane, with the run's summary.
    let screen = pane.wait_for("Run ID:");
    assert!(
        !screen.contains("q quit"),
        "the dashboard is gone: {screen}"
    );
}

#[test]
fn tracker_dash_lists_the_runs_here_opens_one_and_follows_new_ones() {
    let dir = workdir("dash");
    let flow = "workflow Quick\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Step\n    timeout: 10s\n    command: echo step >> ledger.txt\n  agent Done\n    label: Done\n  edges\n    Start -> Step\n    Step -> Done\n";
    std::fs::write(dir.path().join("quick.dip"), flow).expect("pipeline");
    let first = tracker_tests::run_in(
        dir.path(),
        &["run", "quick.dip", "--provider", "stub", "--no-tui"],
    );
    assert_eq!(first.status.code(), Some(0));
    let pane = Pane::run(dir.path(), "dash");
    pane.wait_for_all(&["RUNS", "Quick", "success"]);
    // A run started meanwhile appears (the directory is watched).
    let second = tracker_tests::run_in(
        dir.path(),
        &["run", "quick.dip", "--provider", "stub", "--no-tui"],
    );
    assert_eq!(second.status.code(), Some(0));
    wait_until("the second run on the board", || {
        pane.screen().matches("Quick").count() >= 2
    });
    // Enter opens a run's own view; Esc comes back; q quits.
    pane.keys(&["Enter"]);
    pane.wait_for_all(&["PIPELINE", "● Step"]);
    pane.keys(&["Escape"]);
    pane.wait_for("RUNS");
    pane.keys(&["q"]);
    let (code, sane) = pane.ended();
    assert_eq!(code, 0);
    assert!(sane);
}

#[test]
fn tracker_dash_shows_a_run_that_is_still_going_at_its_gate() {
    let dir = workdir("dashlive");
    std::fs::write(dir.path().join("gated.dip"), gated("choice")).expect("pipeline");
    // A run waiting at its gate on the console (its input held open).
    let mut waiting = tracker_tests::in_dir(dir.path())
        .args(["run", "gated.dip", "--provider", "stub", "--no-tui"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tracker run");
    let pane = Pane::run(dir.path(), "dash");
    // The run's row names the node under way.
    pane.wait_for_all(&["1 waiting at a gate", " waiting   Gate "]);
    pane.keys(&["q"]);
    let (code, sane) = pane.ended();
    assert_eq!((code, sane), (0, true));
    let _ = waiting.kill();
    let _ = waiting.wait();
}

#[test]
fn tracker_dash_attached_to_a_service_shows_its_runs_and_cancels_one() {
    let dir = workdir("dashsvc");
    let d = dir.path();
    // No service: said in one line before the terminal is touched.
    let out = tracker_tests::run_in(d, &["dash", "--service", "--socket", "nowhere.sock"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = tracker_tests::text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no tracker service is listening"),
        "{stderr}"
    );

    // A mistyped directory: said, and nothing made there.
    let out = tracker_tests::run_in(d, &["dash", "-w", "no-such-dir"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = tracker_tests::text(&out.stderr);
    assert!(
        stderr.contains("no-such-dir is not a directory"),
        "{stderr}"
    );
    assert!(!d.join("no-such-dir").exists());

    std::fs::write(d.join("gated.dip"), gated("choice")).expect("pipeline");
    let service = tracker_tests::service::Service::start(d);
    let id = service.submit_json("gated.dip");
    service.wait_for_gate(&id);
    let pane = Pane::run(
        d,
        &format!("dash --service --socket '{}'", service.socket.display()),
    );
    pane.wait_for_all(&["1 waiting at a gate", &id]);
    // `:submit` finds a pipeline as `tracker submit` does: `gated` is
    // `./gated.dip`.
    pane.keys(&[":"]);
    pane.keys(&["-l", "submit gated"]);
    pane.keys(&["Enter"]);
    pane.wait_for_all(&["submitted gated as", "2 waiting at a gate"]);
    // `x` cancels the selected run through the service.
    pane.keys(&["x"]);
    pane.wait_for("1 waiting at a gate");
    pane.keys(&["q"]);
    let (code, sane) = pane.ended();
    assert_eq!((code, sane), (0, true));
    // Whichever run `x` took (the newest is selected), one ended otherwise
    // than well.
    let (_, listed) = service.http("GET", "/v1/runs", None);
    let ended: Vec<String> = listed["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|run| run["status"] != "running")
        .map(|run| run["status"].to_string())
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert!(!ended[0].contains("success"), "{ended:?}");
}

#[test]
fn tracker_dash_follows_fifty_service_runs_and_answers_one_runs_gate() {
    let dir = workdir("dash50");
    let d = dir.path();
    // Each run waits for `go` before its gate, so the board is seen to move.
    let flow = "workflow Fleet\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Hold\n    timeout: 5m\n    command: while [ ! -f go ]; do sleep 0.05; done\n  human Gate\n    label: \"Go on?\"\n    mode: choice\n  tool After\n    timeout: 10s\n    command: echo after\n  agent Done\n    label: Done\n  edges\n    Start -> Hold\n    Hold -> Gate\n    Gate -> After  label: yes\n    Gate -> Done  label: no\n    After -> Done\n";
    std::fs::write(d.join("fleet.dip"), flow).expect("pipeline");
    let service = tracker_tests::service::Service::start(d);
    let ids: Vec<String> = (0..50).map(|_| service.submit_json("fleet.dip")).collect();
    let pane = Pane::run_sized(
        d,
        &format!("dash --service --socket '{}'", service.socket.display()),
        (120, 60),
    );
    // All fifty on the board, each held before its gate.
    wait_until("fifty runs held on the board", || {
        let screen = pane.screen();
        screen.contains("RUNS 50 ")
            && ids.iter().all(|id| screen.contains(id.as_str()))
            && screen.matches(" Hold ").count() == 50
    });
    // They move on: every one now waits at its gate.
    std::fs::write(d.join("go"), "").expect("go");
    // (Waited for, not asserted on one capture: tmux may catch a frame half
    // drawn.)
    wait_until("every row waiting at its gate", || {
        let screen = pane.screen();
        screen.contains("50 waiting at a gate") && screen.matches(" waiting   Gate ").count() == 50
    });

    // Filter to one run, open it (its gate is offered), answer `yes`.
    let chosen = &ids[17];
    pane.keys(&["/"]);
    pane.keys(&["-l", chosen.as_str()]);
    pane.keys(&["Enter"]);
    pane.wait_for("1 shown");
    pane.keys(&["Enter"]);
    pane.wait_for("gate Gate");
    pane.wait_for("● Hold");
    pane.wait_for("▶ yes");
    pane.keys(&["Enter"]);
    pane.wait_for(&format!("answered Gate of {chosen}"));
    // Out of the run's view, the filter dropped: the other 49 still wait.
    pane.keys(&["Escape"]);
    pane.wait_for("1 shown");
    pane.keys(&["Escape"]);
    pane.wait_for("49 waiting at a gate");
    assert_eq!(service.wait_for_end(chosen), "success");
    let events = service.events(chosen);
    assert!(
        events
            .iter()
            .any(|e| e.contains("\"stage_completed\"") && e.contains("\"node_id\":\"After\"")),
        "the `yes` route ran After"
    );
    // The answer reached that run only.
    for id in ids.iter().filter(|id| *id != chosen) {
        let (_, gates) = service.http("GET", &format!("/v1/runs/{id}/gates"), None);
        assert_eq!(
            gates["gates"].as_array().map(Vec::len),
            Some(1),
            "run {id}: {gates}"
        );
    }
    pane.wait_for("success");
    pane.keys(&["q"]);
    let (code, sane) = pane.ended();
    assert_eq!((code, sane), (0, true));
}

#[test]
fn an_interview_form_is_answered_question_by_question() {
    let dir = workdir("interview");
    let d = dir.path();
    std::fs::write(
        d.join("questions.json"),
        r#"{"questions":[{"text":"Which storage backend?","context":"two candidates found","options":["postgres","sqlite"]},{"text":"Proceed with the plan?","options":["yes","no"]},{"text":"Anything else?"}]}"#,
    )
    .expect("questions");
    let flow = "workflow Interview\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Ask\n    timeout: 10s\n    command: cat questions.json\n  human Interview\n    label: \"A few questions\"\n    mode: interview\n    questions_key: tool_stdout\n  agent Done\n    label: Done\n  edges\n    Start -> Ask\n    Ask -> Interview\n    Interview -> Done\n";
    std::fs::write(d.join("interview.dip"), flow).expect("pipeline");
    let pane = Pane::run(d, "run interview.dip --provider stub");
    pane.wait_for("INTERVIEW (0/3 answered)");
    pane.wait_for("Q1 of 3: Which storage backend?");
    pane.keys(&["Down"]);
    pane.wait_for("▶ sqlite");
    // An elaboration with Tab, then the pick.
    pane.keys(&["Tab"]);
    pane.keys(&["-l", "small data"]);
    pane.wait_for("+ small data");
    pane.keys(&["Tab", "Enter"]);
    pane.wait_for("✓ Q1: Which storage backend? → sqlite (small data)");
    pane.wait_for("Q2 of 3: Proceed with the plan?");
    pane.keys(&["n"]);
    pane.wait_for("Q3 of 3: Anything else?");
    pane.keys(&["-l", "ship friday"]);
    pane.wait_for("> ship friday");
    pane.keys(&["Enter"]);
    let (code, sane) = pane.ended();
    assert_eq!((code, sane), (0, true));
    let recorded = recorded_answer(d);
    for said in [
        "sqlite — small data",
        "no",
        "ship friday",
        "3 of 3 questions answered",
    ] {
        assert!(recorded.contains(said), "{said:?} in {recorded}");
    }
}

#[test]
fn an_agents_tool_calls_and_their_output_show_in_the_log() {
    use tracker_tests::mock_provider::{MockProvider, Reply};
    let dir = workdir("tools");
    let d = dir.path();
    let [call, done] = tracker_tests::sse_bodies::bash_then_done(
        "anthropic",
        "printf 'alpha\\nbeta\\ngamma\\ndelta\\nepsilon\\n'",
    );
    let mock = MockProvider::start([Reply::sse(call), Reply::sse(done)]);
    // The agent's tool call, then a gate that holds the dashboard open.
    let flow = "workflow Tools\n  start: Start\n  exit: Done\n  defaults\n    provider: anthropic\n    model: claude-sonnet-4-6\n  agent Start\n    label: Start\n  agent Work\n    prompt: List five words.\n  human Gate\n    label: \"Looks right?\"\n    mode: choice\n  agent Done\n    label: Done\n  edges\n    Start -> Work\n    Work -> Gate\n    Gate -> Done  label: yes\n";
    std::fs::write(d.join("tools.dip"), flow).expect("pipeline");
    let url = mock.url();
    let pane = Pane::run_with(
        d,
        "run tools.dip",
        (120, 40),
        &[
            ("ANTHROPIC_API_KEY", "sk-test-dashboard"),
            ("ANTHROPIC_BASE_URL", url.as_str()),
        ],
    );
    pane.wait_for("gate Gate");
    // Beside the gate's modal, the log: the call, and its five lines of
    // output collapsed.
    pane.wait_for("● Work");
    pane.wait_for("▸ $ printf");
    pane.wait_for("✓ bash (5 lines, ctrl+o to expand)");
    // The model's closing answer, streamed into the log.
    pane.wait_for(" Work         done");
    pane.keys(&["Enter"]);
    let (code, sane) = pane.ended();
    assert_eq!((code, sane), (0, true));
}

#[test]
fn tracker_run_with_two_pipelines_shows_their_board_and_takes_each_ones_gate() {
    let dir = workdir("batchboard");
    let d = dir.path();
    // Two pipelines, each writing its own ledger, each asking its gate.
    for name in ["first", "second"] {
        let flow = gated("choice")
            .replace(
                "workflow Gated",
                &format!("workflow {}", name.to_uppercase()),
            )
            .replace("ledger.txt", &format!("{name}.txt"));
        std::fs::write(d.join(format!("{name}.dip")), flow).expect("pipeline");
    }
    let pane = Pane::run_sized(d, "run first.dip second.dip --provider stub", (120, 30));
    wait_until("both runs waiting on the board", || {
        let screen = pane.screen();
        screen.contains("RUNS 2 ") && screen.contains("2 waiting at a gate")
    });
    // The first: filtered to, opened (its gate is offered), answered `yes`.
    pane.keys(&["/"]);
    pane.keys(&["-l", "FIRST"]);
    pane.keys(&["Enter"]);
    pane.wait_for("1 shown");
    pane.keys(&["Enter"]);
    pane.wait_for("gate Gate");
    pane.wait_for("▶ yes");
    pane.keys(&["Enter"]);
    pane.wait_for("answered Gate of");
    pane.keys(&["Escape"]);
    pane.wait_for("1 shown");
    // The second: `g` goes to the run still waiting; answered `no`.
    pane.keys(&["Escape"]);
    pane.wait_for("1 waiting at a gate");
    pane.keys(&["g", "Enter"]);
    pane.wait_for("gate Gate");
    pane.keys(&["Down"]);
    pane.wait_for("▶ no");
    pane.keys(&["Enter"]);
    // Both end: the board closes and the table of runs is printed.
    let (code, sane) = pane.ended();
    assert_eq!((code, sane), (0, true));
    assert_eq!(
        std::fs::read_to_string(d.join("first.txt")).expect("first ledger"),
        "before\nafter\n",
        "yes: After ran"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("second.txt")).expect("second ledger"),
        "before\n",
        "no: After skipped"
    );
}

#[test]
fn sigterm_cancels_the_run_on_the_dashboard_and_gives_the_terminal_back() {
    let dir = workdir("sigterm");
    let flow = "workflow Slow\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Slow\n    timeout: 5m\n    command: sleep 120\n  agent Done\n    label: Done\n  edges\n    Start -> Slow\n    Slow -> Done\n";
    std::fs::write(dir.path().join("slow.dip"), flow).expect("pipeline");
    let pane = Pane::run(dir.path(), "run slow.dip --provider stub");
    pane.wait_for("◉ Slow");
    // The shell the pane runs, and the tracker it started.
    let shell = Command::new("tmux")
        .args(["-L", &pane.socket, "list-panes", "-F", "#{pane_pid}"])
        .output()
        .expect("list-panes");
    let shell = String::from_utf8_lossy(&shell.stdout).trim().to_string();
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
        .expect("the shell's children");
    let tracker: i32 = children
        .split_whitespace()
        .next()
        .and_then(|pid| pid.parse().ok())
        .expect("tracker under the shell");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(tracker),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let (code, sane) = pane.ended();
    assert_eq!(code, 1, "a cancelled run fails");
    assert!(sane, "the terminal was left raw");
    pane.wait_for("Run ID:");
}

#[test]
fn esc_closes_a_gate_unanswered_and_the_node_fails_saying_so() {
    let dir = workdir("escgate");
    std::fs::write(dir.path().join("gated.dip"), gated("choice")).expect("pipeline");
    let pane = Pane::run(dir.path(), "run gated.dip --provider stub");
    pane.wait_for("gate Gate");
    pane.keys(&["Escape"]);
    let (code, sane) = pane.ended();
    assert_eq!((code, sane), (1, true));
    pane.wait_for("no answer: the gate was closed");
    let ledger = std::fs::read_to_string(dir.path().join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "before\n", "neither route was taken");
}
