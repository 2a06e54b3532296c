//! The signals that cancel a run: SIGINT, SIGTERM and SIGHUP, caught.

use anyhow::{anyhow, Result};

/// A signal that cancels a run.
#[derive(Clone, Copy, Debug)]
pub enum Interrupt {
    /// Ctrl-C.
    Int,
    /// `kill`, a service manager stopping tracker, a container stopping.
    Term,
    /// The terminal went away.
    Hup,
}

impl Interrupt {
    /// What happened, for the message.
    pub fn what(self) -> &'static str {
        match self {
            Interrupt::Int => "interrupted",
            Interrupt::Term => "terminated (SIGTERM)",
            Interrupt::Hup => "hangup (SIGHUP)",
        }
    }

    /// The signal's number (the exit status of a second one is 128 plus it).
    pub fn number(self) -> i32 {
        match self {
            Interrupt::Int => nix::sys::signal::Signal::SIGINT as i32,
            Interrupt::Term => nix::sys::signal::Signal::SIGTERM as i32,
            Interrupt::Hup => nix::sys::signal::Signal::SIGHUP as i32,
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP, caught: each cancels the run the same way
/// (its tools' process groups are killed, the activity log is copied, the
/// checkpoint is kept for `-r`); a second one exits at once. SIGHUP is left
/// alone when tracker started with it ignored (`nohup`).
pub struct Interrupts {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    /// Starts catching the signals (SIGHUP only when it was not ignored at
    /// start).
    pub fn listen() -> Result<Interrupts> {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| anyhow!("cannot handle {name}: {e}"))
        };
        let hup = if ignored_at_start(nix::sys::signal::Signal::SIGHUP) {
            None
        } else {
            Some(listen(SignalKind::hangup(), "SIGHUP")?)
        };
        Ok(Interrupts {
            int: listen(SignalKind::interrupt(), "SIGINT")?,
            term: listen(SignalKind::terminate(), "SIGTERM")?,
            hup,
        })
    }

    /// The next signal.
    pub async fn next(&mut self) -> Interrupt {
        let hup = async {
            match &mut self.hup {
                Some(hup) => hup.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.int.recv() => Interrupt::Int,
            _ = self.term.recv() => Interrupt::Term,
            _ = hup => Interrupt::Hup,
        }
    }
}

/// Whether `signal` was ignored when tracker started (as `nohup` leaves
/// SIGHUP), read from `/proc/self/status`; false where that cannot be read.
fn ignored_at_start(signal: nix::sys::signal::Signal) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signal as u32 - 1)) != 0)
}
