//! The crash-safe shell runner's tests, on real processes and files.

use super::*;
use std::os::unix::process::CommandExt as _;

fn command(dir: &Path, script: &str) -> ShellCommand {
    ShellCommand {
        script: script.into(),
        written: script.into(),
        cwd: dir.to_path_buf(),
        env: vec![("PATH".into(), std::env::var_os("PATH").unwrap_or_default())],
        timeout: Duration::from_secs(30),
        attempt_dir: dir.join("N/.inflight"),
        token: "t1".into(),
        output_limit: 64 * 1024,
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn record(cmd: &ShellCommand) -> Record {
    read_record(&cmd.attempt_dir).expect("a record")
}

#[test]
fn runs_captures_and_records_the_exit_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(dir.path(), "echo out; echo err >&2; exit 3");
    let out = block_on(run(&cmd)).expect("runs");
    assert_eq!(out.exit_code, 3);
    assert_eq!(out.stdout.text, "out\n");
    assert_eq!(out.stderr.text, "err\n");
    assert!(!out.adopted);
    let recorded = record(&cmd);
    assert_eq!(recorded.token.as_deref(), Some("t1"));
    assert_eq!(recorded.exit, Some(3));
    assert_eq!(recorded.sizes, Some([4, 4]));
}

#[test]
fn the_command_is_the_one_shell_tracker_started() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(dir.path(), "echo $$ $PPID");
    let out = block_on(run(&cmd)).expect("runs");
    let (pgid, _) = record(&cmd).pgid.expect("pgid recorded");
    // No wrapper between tracker and the script: the script's shell is
    // the group leader tracker recorded, and tracker is its parent.
    assert_eq!(out.stdout.text, format!("{pgid} {}\n", std::process::id()));
}

#[test]
fn the_shell_reports_errors_as_plain_sh_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(dir.path(), "true\nno_such_command_here");
    let out = block_on(run(&cmd)).expect("runs");
    assert_eq!(out.exit_code, 127);
    let plain = std::process::Command::new(SHELL)
        .arg("-c")
        .arg(&cmd.script)
        .output()
        .expect("plain sh");
    assert_eq!(out.stderr.text, String::from_utf8_lossy(&plain.stderr));
    assert!(out.stderr.text.contains(": 2: "), "{}", out.stderr.text);
}

#[test]
fn scripts_that_replace_the_shell_or_its_trap_still_record_their_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (i, (script, code)) in [
        ("exec sh -c 'exit 4'", 4),
        ("trap 'echo bye' EXIT; exit 5", 5),
        ("eval 'exec false'", 1),
        ("echo 'exec true' > s.sh; . ./s.sh", 0),
    ]
    .into_iter()
    .enumerate()
    {
        let mut cmd = command(dir.path(), script);
        // A new attempt each (the same token would adopt the last).
        cmd.token = format!("t{i}");
        assert!(!keeps_the_trap(script), "{script}");
        let out = block_on(run(&cmd)).expect("runs");
        assert_eq!(out.exit_code, code, "{script}");
        assert_eq!(record(&cmd).exit, Some(code), "{script}");
    }
    for script in ["true", "echo one; echo two | tr o 0", "ls -a ./x.y"] {
        assert!(keeps_the_trap(script), "{script}");
    }
}

#[test]
fn a_shell_killed_by_a_signal_has_its_end_recorded_by_tracker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(dir.path(), "kill -9 $$");
    let out = block_on(run(&cmd)).expect("runs");
    assert_eq!(out.exit_code, 137);
    assert_eq!(record(&cmd).exit, Some(137));
}

#[test]
fn the_shells_own_trap_records_the_end_without_tracker() {
    // As after a crash of tracker: only the shell is there to record it.
    let dir = tempfile::tempdir().expect("tempdir");
    let scripts = [
        ("exit 3", 3),
        ("exec sh -c 'exit 4'", 4),
        ("printf() { :; }; exit 5", 5),
    ];
    for (i, (script, code)) in scripts.into_iter().enumerate() {
        let mut cmd = command(dir.path(), script);
        cmd.attempt_dir = dir.path().join(format!("it's \"{i}\"/.inflight"));
        let files = prepare(&cmd).expect("prepare");
        let status = shell_command(&cmd)
            .stdout(files.stdout)
            .stderr(files.stderr)
            .status()
            .expect("runs");
        assert_eq!(status.code(), Some(code), "{script}");
        assert_eq!(record(&cmd).exit, Some(code), "{script}");
    }
}

#[test]
fn a_first_line_that_does_not_parse_has_its_end_recorded_by_tracker() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The trap shares the first line, so it is never set.
    let cmd = command(dir.path(), "echo 'unclosed");
    let out = block_on(run(&cmd)).expect("runs");
    assert_eq!(out.exit_code, 2);
    assert_eq!(record(&cmd).exit, Some(2));
}

#[test]
fn paths_with_quotes_and_spaces_are_quoted_for_the_trap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = command(dir.path(), "exit 6");
    cmd.attempt_dir = dir.path().join("it's a \"node\"/.inflight");
    let out = block_on(run(&cmd)).expect("runs");
    assert_eq!(out.exit_code, 6);
    assert_eq!(record(&cmd).exit, Some(6));
}

#[test]
fn a_record_cut_short_keeps_its_whole_lines() {
    let record = parse_record("token t1\nscript 00ff\npgid 42 7\nexit 3\nsizes 4 4\nexit 9");
    assert_eq!(
        record,
        Record {
            token: Some("t1".into()),
            script: Some("00ff".into()),
            pgid: Some((42, 7)),
            exit: Some(3),
            sizes: Some([4, 4]),
        }
    );
    assert_eq!(parse_record("tok"), Record::default());
    assert_eq!(parse_record("pgid 0 5\nexit x\n").pgid, None);
}

#[test]
fn a_recorded_attempt_is_adopted_not_rerun() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(dir.path(), "echo once >> log.txt; echo done");
    block_on(run(&cmd)).expect("first run");
    let again = block_on(run(&cmd)).expect("second run");
    assert!(again.adopted);
    assert_eq!(again.stdout.text, "done\n");
    let log = std::fs::read_to_string(dir.path().join("log.txt")).expect("log");
    assert_eq!(log, "once\n");
    // A different token is a new attempt: it runs.
    let mut next = cmd.clone();
    next.token = "t2".into();
    assert!(!block_on(run(&next)).expect("runs").adopted);
    let log = std::fs::read_to_string(dir.path().join("log.txt")).expect("log");
    assert_eq!(log, "once\nonce\n");
    // The same token with the command edited since: the new one runs.
    // The same command filled in otherwise (a resume's context) is still
    // the same command: adopted.
    let mut refilled = next.clone();
    refilled.script = "echo once >> log.txt; echo other".into();
    assert!(block_on(run(&refilled)).expect("adopted").adopted);
    let mut edited = next.clone();
    edited.script = "echo edited >> log.txt; echo new".into();
    edited.written.clone_from(&edited.script);
    let out = block_on(run(&edited)).expect("runs");
    assert!(!out.adopted && out.replaced);
    assert_eq!(out.stdout.text, "new\n");
    let log = std::fs::read_to_string(dir.path().join("log.txt")).expect("log");
    assert_eq!(log, "once\nonce\nedited\n");
}

#[test]
fn a_record_from_before_scripts_were_recorded_is_adopted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(dir.path(), "echo once >> log.txt");
    std::fs::create_dir_all(&cmd.attempt_dir).expect("attempt dir");
    for name in ["stdout", "stderr"] {
        std::fs::write(cmd.attempt_dir.join(name), "").expect("stream");
    }
    std::fs::write(cmd.attempt_dir.join("attempt"), "token t1\nexit 0\n").expect("record");
    let out = block_on(run(&cmd)).expect("adopted");
    assert!(out.adopted);
    assert!(!dir.path().join("log.txt").exists());
}

#[test]
fn script_digests_are_fixed() {
    // FNV-1a 64 of "" and of "a": the same whatever the tracker version.
    assert_eq!(script_digest(""), "cbf29ce484222325");
    assert_eq!(script_digest("a"), "af63dc4c8601ec8c");
}

#[test]
fn a_still_running_attempt_is_waited_for_and_adopted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(
        dir.path(),
        "touch started; while [ ! -f go ]; do sleep 0.01; done; echo once >> log.txt; echo done",
    );
    // The attempt an earlier tracker process started and did not outlive
    // long enough to record its shell.
    let files = prepare(&cmd).expect("prepare");
    let mut orphan = shell_command(&cmd)
        .stdout(files.stdout)
        .stderr(files.stderr)
        .spawn()
        .expect("spawn");
    drop(files.record);
    // Until the orphan has started (exec'd), nothing says it is running;
    // the script's first act is to say so.
    let guard = std::time::Instant::now() + Duration::from_secs(60);
    while !dir.path().join("started").exists() {
        assert!(
            std::time::Instant::now() < guard,
            "the orphan never started"
        );
        std::thread::yield_now();
    }
    assert_eq!(live_shell(&cmd, &record(&cmd)), Some(orphan.id() as i32));
    // Let the orphan finish only once the new attempt is already waiting.
    let go = dir.path().join("go");
    let released = std::thread::spawn(move || {
        std::fs::write(go, "").expect("go");
    });
    let out = block_on(run(&cmd)).expect("adopted");
    released.join().expect("thread");
    let _ = orphan.wait();
    assert!(out.adopted);
    assert_eq!(out.stdout.text, "done\n");
    let log = std::fs::read_to_string(dir.path().join("log.txt")).expect("log");
    assert_eq!(log, "once\n");
}

#[test]
fn a_timed_out_commands_output_is_cut_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = command(dir.path(), "head -c 100000 /dev/zero; sleep 30");
    cmd.timeout = Duration::from_millis(300);
    cmd.output_limit = 10;
    let err = block_on(run(&cmd)).expect_err("times out");
    assert!(matches!(err, ShellError::TimedOut(_)));
    let kept = std::fs::metadata(cmd.attempt_dir.join("stdout"))
        .expect("stdout")
        .len();
    assert_eq!(kept, 10);
}

#[test]
fn timeouts_kill_the_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = command(dir.path(), "sleep 30 & sleep 30; echo never");
    cmd.timeout = Duration::from_millis(200);
    let err = block_on(run(&cmd)).expect_err("times out");
    assert!(matches!(err, ShellError::TimedOut(_)));
    let (pgid, _) = record(&cmd).pgid.expect("pgid recorded");
    assert!(!alive(pgid));
}

#[test]
fn stat_lines_are_read_after_the_command_name() {
    assert!(live_member("42 (my (odd) cmd) S 1 42 42 0", 42));
    assert!(!live_member("42 (sh) Z 1 42 42 0", 42));
    assert!(!live_member("42 (sh) S 1 7 7 0", 42));
}

#[test]
fn output_keeps_the_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = command(dir.path(), "printf 'abcdefghij'");
    cmd.output_limit = 4;
    let out = block_on(run(&cmd)).expect("runs");
    assert_eq!(out.stdout.text, "ghij");
    assert_eq!((out.stdout.total_bytes, out.stdout.captured_bytes), (10, 4));
    assert!(out.stdout.truncated());
}

#[test]
fn background_children_end_with_the_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(dir.path(), "sleep 300 & echo $! > bg.pid");
    let out = block_on(run(&cmd)).expect("runs");
    assert_eq!(out.exit_code, 0);
    let pid: i32 = std::fs::read_to_string(dir.path().join("bg.pid"))
        .expect("pid")
        .trim()
        .parse()
        .expect("number");
    // Killed with the group before `run` returned; once reaped by init it
    // is gone, and until then it is a zombie, which `alive_process` skips.
    assert!(
        !alive_process(pid),
        "the background sleep outlived its node"
    );
}

#[test]
fn output_beyond_the_limit_is_not_kept_on_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = command(dir.path(), "head -c 1000000 /dev/zero | tr '\\0' x");
    cmd.output_limit = 100;
    let out = block_on(run(&cmd)).expect("runs");
    assert_eq!(out.stdout.total_bytes, 1_000_000);
    let kept = std::fs::metadata(dir.path().join("N/.inflight/stdout"))
        .expect("stdout")
        .len();
    assert_eq!(kept, 100);
    // Adopted again (another crash before the checkpoint), the report still
    // knows how much there was.
    let again = block_on(run(&cmd)).expect("adopted");
    assert!(again.adopted);
    assert_eq!(again.stdout.total_bytes, 1_000_000);
    assert_eq!(again.stdout.text, out.stdout.text);
}

#[test]
fn attempt_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(dir.path(), "echo out; echo err >&2");
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let ran = block_on(run(&cmd));
    nix::sys::stat::umask(old);
    ran.expect("runs");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&cmd.attempt_dir), 0o700);
    let mut names: Vec<String> = std::fs::read_dir(&cmd.attempt_dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // One record and the two streams: nothing else.
    assert_eq!(names, ["attempt", "stderr", "stdout"]);
    for name in names {
        assert_eq!(mode(&cmd.attempt_dir.join(&name)), 0o600, "{name}");
    }
}

#[test]
fn a_process_merely_naming_the_record_is_not_taken_for_the_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(dir.path(), "echo once >> log.txt");
    drop(prepare(&cmd).expect("prepare"));
    let attempt = cmd.attempt_dir.join("attempt");
    // Someone else's process with the path among its arguments.
    let mut impostor = std::process::Command::new("sh")
        .arg("-c")
        .arg("sleep 300; true")
        .arg("x")
        .arg(&attempt)
        .process_group(0)
        .spawn()
        .expect("spawn");
    assert_eq!(live_shell(&cmd, &record(&cmd)), None);
    // The attempt was killed before it finished: it runs again, at once.
    let out = block_on(run(&cmd)).expect("runs");
    // The impostor's shell and its sleep: the whole group.
    let _ = killpg(Pid::from_raw(impostor.id() as i32), Signal::SIGKILL);
    let _ = impostor.wait();
    assert!(!out.adopted);
    let log = std::fs::read_to_string(dir.path().join("log.txt")).expect("log");
    assert_eq!(log, "once\n");
}

#[test]
fn a_recorded_shell_is_known_by_its_start_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = command(dir.path(), "true");
    // A pgid record naming a live process that started at another time
    // (pid reuse) does not count as the shell.
    let me = std::process::id() as i32;
    let started = start_time(me).expect("own start time");
    let stale = Record {
        pgid: Some((me, started + 1)),
        ..Record::default()
    };
    assert_eq!(live_shell(&cmd, &stale), None);
    let current = Record {
        pgid: Some((me, started)),
        ..Record::default()
    };
    assert_eq!(live_shell(&cmd, &current), Some(me));
}

#[test]
fn a_key_in_the_output_is_cut_out_whole_or_in_part_and_other_bytes_stay() {
    let key = "sk-shell-test-9d2c4e6f8a0b1c3d5e7f";
    tracker_runtime::secrets::remember_values([("SHELL_TEST_API_KEY", key)]);
    let dir = tempfile::tempdir().expect("tempdir");
    // Binary output with the key in it: only the key changes on disk.
    let cmd = command(
        dir.path(),
        &format!("printf '\\377\\000{key}\\376'; printf 'x{key}' >&2"),
    );
    let out = block_on(run(&cmd)).expect("runs");
    let on_disk = std::fs::read(cmd.attempt_dir.join("stdout")).expect("stdout kept");
    assert_eq!(on_disk, [&b"\xff\x00"[..], b"****", b"\xfe"].concat());
    assert_eq!(out.stderr.text, "x****");
    // The limit cuts the key: the piece left at the kept tail's start goes.
    let mut cmd = command(dir.path(), &format!("printf 'head {key} tail'"));
    cmd.attempt_dir = dir.path().join("M/.inflight");
    cmd.output_limit = (key.len() - 8 + " tail".len()) as u64;
    let out = block_on(run(&cmd)).expect("runs");
    assert_eq!(out.stdout.text, "**** tail");
    assert!(out.stdout.truncated());
    let on_disk = std::fs::read_to_string(cmd.attempt_dir.join("stdout")).expect("kept");
    assert_eq!(on_disk, "**** tail");
}
