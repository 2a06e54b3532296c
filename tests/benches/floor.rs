//! The machine's cost of what a tracker step must leave on disk, with nothing
//! else: the floor column of the peer benchmark (`tests/benches/peer`).
//!
//! ```text
//! cargo bench -p tracker-tests --bench floor -- chain N DIR [--durable]
//! cargo bench -p tracker-tests --bench floor -- tools N DIR
//! ```
//!
//! A stub agent step leaves, as the reference's does, a node directory holding
//! `prompt.md`, `response.md` and `status.json`, eleven activity-log lines and
//! one checkpoint-journal line (synced when durable). A tool step leaves its
//! node directory, an `.inflight/` directory with the attempt's record, stdout
//! and stderr files, `status.json`, its log and journal lines, and runs
//! `/bin/sh -c true` in its own process group with its output in those files.
//! This makes exactly those system calls in a loop, with sizes like tracker's,
//! and prints milliseconds per step as one JSON object.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const NODE_FILE: [u8; 300] = [b'x'; 300];
const LOG_LINE: [u8; 251] = [b'y'; 251];
const JOURNAL_LINE: [u8; 901] = [b'z'; 901];

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let usage = || std::io::Error::other("usage: floor chain|tools N DIR [--durable]");
    let (what, steps, scratch) = match args.as_slice() {
        [what, n, dir, ..] => (what.as_str(), n.parse::<usize>().map_err(|_| usage())?, dir),
        _ => return Err(usage()),
    };
    let durable = args.iter().any(|a| a == "--durable");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let run = Path::new(scratch).join(format!("floor-{nanos}"));
    DirBuilder::new().recursive(true).mode(0o700).create(&run)?;
    let mut log = append(&run.join("activity.jsonl"))?;
    let mut journal = append(&run.join("checkpoint.journal"))?;
    let started = Instant::now();
    for i in 0..steps {
        match what {
            "chain" => {
                let node = run.join(format!("N{i}"));
                DirBuilder::new().mode(0o700).create(&node)?;
                for name in ["prompt.md", "response.md", "status.json"] {
                    create(&node.join(name))?.write_all(&NODE_FILE)?;
                }
                journal.write_all(&JOURNAL_LINE)?;
                if durable {
                    journal.sync_data()?;
                }
                for _ in 0..11 {
                    log.write_all(&LOG_LINE)?;
                }
            }
            "tools" => {
                let node = run.join(format!("T{i}"));
                DirBuilder::new().mode(0o700).create(&node)?;
                let inflight = node.join(".inflight");
                DirBuilder::new().mode(0o700).create(&inflight)?;
                let mut attempt = create(&inflight.join("attempt"))?;
                attempt.write_all(b"token 2026-12-07T11:23:03.844992877Z\n")?;
                let stdout = create(&inflight.join("stdout"))?;
                let stderr = create(&inflight.join("stderr"))?;
                let mut child = Command::new("/bin/sh")
                    .args(["-c", "true"])
                    .env_clear()
                    .env("PATH", "/usr/bin:/bin")
                    .stdin(Stdio::null())
                    .stdout(stdout)
                    .stderr(stderr)
                    .process_group(0)
                    .spawn()?;
                attempt.write_all(format!("pgid {}\n", child.id()).as_bytes())?;
                child.wait()?;
                attempt.write_all(b"exit 0\nsizes 0 0\n")?;
                create(&node.join("status.json"))?.write_all(&NODE_FILE[..120])?;
                journal.write_all(&JOURNAL_LINE)?;
                for _ in 0..5 {
                    log.write_all(&LOG_LINE)?;
                }
            }
            _ => return Err(usage()),
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0 / steps.max(1) as f64;
    println!("{{\"ms_per_step\": {ms}}}");
    Ok(())
}

fn create(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)
}

fn append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}
