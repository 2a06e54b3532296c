//! Process groups that must not outlive what started them.
//!
//! Tool commands and the agent's `bash` each run in a process group of their
//! own, led by the shell. What a command leaves running in the background
//! stays in that group after the shell exits, so killing the group when its
//! owner ends (the node, the agent session) ends it too.
//!
//! A group id is a pid, and the system reuses pids; but not while a group of
//! that id still has a member. So a recorded group is killed only while no
//! other process has taken its leader's pid: if a process with that pid is
//! alive and did not start when the leader did, the old group is gone and the
//! id now belongs to someone else.

use std::sync::Mutex;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// When process `pid` started, in clock ticks since boot (field 22 of
/// `/proc/<pid>/stat`): with the pid, it names one process even after the pid
/// is reused. `None` when there is no such process (or no `/proc`).
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.rfind(')')?;
    // The fields after the command name start at field 3 (the state).
    stat[close + 1..].split_whitespace().nth(19)?.parse().ok()
}

/// SIGKILLs group `pgid`, whose leader started at `started`, unless its id has
/// been reused (see the module docs). Returns whether the group had a member
/// to signal.
pub fn kill_if_ours(pgid: i32, started: Option<u64>) -> bool {
    if pgid <= 0 {
        return false;
    }
    if let Some(now) = start_time(pgid) {
        if Some(now) != started {
            return false;
        }
    }
    killpg(Pid::from_raw(pgid), Signal::SIGKILL).is_ok()
}

/// [`kill_if_ours`], then waits (at most `limit`, blocking the thread) until no
/// member of the group is left alive: a signal is delivered, not acted on at
/// once, and whoever comes next must not meet the group still there. For
/// synchronous owners (a `Drop`); async code waits with its own timer.
pub fn kill_and_reap(pgid: i32, started: Option<u64>, limit: std::time::Duration) {
    if !kill_if_ours(pgid, started) {
        return;
    }
    let deadline = std::time::Instant::now() + limit;
    while group_alive(pgid) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Whether any process of group `pgid` is alive (zombies, which have exited
/// and wait to be reaped, do not count).
pub fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let is_pid = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        is_pid
            && std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .is_some_and(|stat| live_member(&stat, pgid))
    })
}

/// Whether a `/proc/<pid>/stat` line is a live (not zombie) member of group
/// `pgid`. The command name is in parentheses and may hold anything, so the
/// fields are counted after the last `)`.
pub fn live_member(stat: &str, pgid: i32) -> bool {
    let Some(close) = stat.rfind(')') else {
        return false;
    };
    let mut fields = stat[close + 1..].split_whitespace();
    let state = fields.next();
    let _ppid = fields.next();
    let group = fields.next().and_then(|g| g.parse::<i32>().ok());
    group == Some(pgid) && !matches!(state, Some("Z" | "X"))
}

/// How long a dropped [`Leftovers`] waits for each group to be gone.
const REAP_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Groups to kill when this value is dropped.
#[derive(Debug, Default)]
pub struct Leftovers {
    groups: Mutex<Vec<(i32, Option<u64>)>>,
}

impl Leftovers {
    /// Kills group `pgid` (led by a process that started at `started`) when
    /// these leftovers are dropped.
    pub fn add(&self, pgid: i32, started: Option<u64>) {
        if let Ok(mut groups) = self.groups.lock() {
            groups.push((pgid, started));
        }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let groups = match self.groups.get_mut() {
            Ok(groups) => std::mem::take(groups),
            Err(poisoned) => std::mem::take(poisoned.into_inner()),
        };
        for (pgid, started) in groups {
            kill_and_reap(pgid, started, REAP_LIMIT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt as _;

    #[test]
    fn leftover_groups_die_with_their_owner() {
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 300; true")
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pid = child.id() as i32;
        let leftovers = Leftovers::default();
        leftovers.add(pid, start_time(pid));
        drop(leftovers);
        let status = child.wait().expect("wait");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9));
    }

    #[test]
    fn a_reused_group_id_is_left_alone() {
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 300; true")
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pid = child.id() as i32;
        let started = start_time(pid).expect("started");
        // Recorded with another start time: the pid now names someone else.
        kill_if_ours(pid, Some(started + 1));
        assert!(child.try_wait().expect("status").is_none());
        kill_if_ours(pid, Some(started));
        assert!(child.wait().is_ok());
    }
}
