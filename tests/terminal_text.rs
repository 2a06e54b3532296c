//! Text from a workflow reaches the terminal printable: an escape sequence in
//! a label, a prompt, a command or a choice shows as U+FFFD instead of
//! rewriting the screen (`ESC [2K` and `CR` erase a line, `ESC ]` sets the
//! title, …), so a gate cannot pass for a different question and `simulate`
//! cannot show a different command than the one that runs. `--json` output
//! stays JSON-escaped and unchanged.

use tracker_tests::{in_dir, output_with_stdin, run_in, text};

const ESC: u8 = 0x1b;

/// A tool whose label and command, and an agent whose label and prompt,
/// carry escape sequences.
const SIMULATED: &str = "workflow E\n  start: A\n  exit: B\n  tool A\n    label: \"hi\x1b[2K\rthere\"\n    timeout: 5s\n    command: echo safe \x1b[2K\rrm -rf ~\n  agent B\n    label: \"raw\x1b]0;title\x07x\"\n    prompt: p\x1b[31mred\n  edges\n    A -> B  label: \"go\x1b[8m\"\n";

/// A choice gate whose prompt erases its own line and whose first choice
/// hides text.
const GATED: &str = "workflow G\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  human Pick\n    label: \"Delete everything?\x1b[2K\rKeep your files?\"\n    mode: choice\n  tool Left\n    timeout: 5s\n    command: echo left > way.txt\n  tool Right\n    timeout: 5s\n    command: echo right > way.txt\n  agent Done\n    label: Done\n  edges\n    Start -> Pick\n    Pick -> Left  label: \"yes\x1b[8m (hidden)\"\n    Pick -> Right  label: right\n    Left -> Done\n    Right -> Done\n";

fn assert_no_escape(what: &str, bytes: &[u8]) {
    assert!(
        !bytes.iter().any(|&b| b == ESC || b == b'\r' || b == 0x07),
        "{what} has raw control bytes: {:?}",
        text(bytes)
    );
}

#[test]
fn simulate_shows_escape_sequences_as_replacement_characters() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("esc.dip"), SIMULATED).expect("write");
    let out = run_in(dir.path(), &["simulate", "esc.dip"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_no_escape("stdout", &out.stdout);
    assert_no_escape("stderr", &out.stderr);
    let stdout = text(&out.stdout);
    for shown in [
        "hi\u{FFFD}[2K\u{FFFD}there",
        "tool_command=echo safe \u{FFFD}[2K\u{FFFD}rm -rf ~",
        "raw\u{FFFD}]0;title\u{FFFD}x",
        "prompt=p\u{FFFD}[31mred",
        "A -> B [go\u{FFFD}[8m]",
    ] {
        assert!(stdout.contains(shown), "{shown:?} in {stdout}");
    }
}

#[test]
fn console_gates_show_escape_sequences_as_replacement_characters() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("gate.dip"), GATED).expect("write");
    let out = output_with_stdin(in_dir(d).args(["gate.dip"]), "2\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_no_escape("stdout", &out.stdout);
    assert_no_escape("stderr", &out.stderr);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Delete everything?\u{FFFD}[2K\u{FFFD}Keep your files?"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  1. yes\u{FFFD}[8m (hidden)") && stderr.contains("  2. right"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("way.txt")).expect("way"),
        "right\n"
    );

    // NDJSON is JSON-escaped, as before: nothing replaced.
    let out = output_with_stdin(in_dir(d).args(["gate.dip", "--json"]), "2\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_no_escape("NDJSON", &out.stdout);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(r#""gate_prompt":"Delete everything?\u001b[2K\rKeep your files?""#),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{FFFD}'), "{stdout}");
}
