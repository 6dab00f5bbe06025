//! Claims on units of work, so that two `reproduce` processes on one cache
//! (two terminals, or shards on a shared file system) never compute the
//! same unit, and a killed process's units are taken over.
//!
//! A claim is a file `cache/claims/<unit>.claim` created with `O_EXCL`
//! (atomic on local file systems and on NFS v3+), holding the host, the
//! process id and the start time. It is removed when the unit is done or
//! fails. A claim is stale when its process is gone (same host: no
//! `/proc/<pid>`) or, for another host's claim, when it is older than the
//! stale timeout (`SGBN_CLAIM_STALE_S`, default 24 h); a stale claim is
//! taken over. docs/robustness.md.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Who holds a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Host name.
    pub host: String,
    /// Process id on that host.
    pub pid: u32,
    /// Start of the claim, seconds since the Unix epoch.
    pub since_unix_s: u64,
    /// The holding process's start time, in clock ticks since boot
    /// (`/proc/<pid>/stat`, field 22): with the pid, it names the process
    /// even after the pid is reused. Absent in claims written before
    /// 2026-12-07.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ticks: Option<u64>,
}

/// Linux's clock ticks per second as `/proc` reports them (`USER_HZ`, 100
/// on every architecture Linux supports for user space).
const USER_HZ: u64 = 100;

impl Holder {
    fn me() -> Self {
        Self {
            host: host_name(),
            pid: std::process::id(),
            since_unix_s: now_unix_s(),
            start_ticks: process_start_ticks(std::process::id()),
        }
    }

    /// Whether the claim no longer protects a running computation. On this
    /// host: its process is gone, or the pid now belongs to another
    /// process (a start time other than the recorded one; for a claim
    /// without one, a process started after the claim was made). For
    /// another host's claim: older than `stale_after`.
    fn is_stale(&self, stale_after: Duration) -> bool {
        if self.host == host_name() {
            let Some(started) = process_start_ticks(self.pid) else {
                return true;
            };
            return match self.start_ticks {
                Some(recorded) => recorded != started,
                None => boot_unix_s().is_some_and(|boot| {
                    boot + started / USER_HZ > self.since_unix_s.saturating_add(2)
                }),
            };
        }
        now_unix_s().saturating_sub(self.since_unix_s) > stale_after.as_secs()
    }
}

fn now_unix_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The start time of process `pid` in clock ticks since boot (field 22 of
/// `/proc/<pid>/stat`), `None` when there is no such process.
fn process_start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces:
    // the fields after the last ')' are plain numbers; field 22 is the
    // 20th of them (fields 3…).
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The boot time, seconds since the Unix epoch (`btime` of `/proc/stat`).
fn boot_unix_s() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// This machine's host name (`/proc/sys/kernel/hostname`, `$HOSTNAME`).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

/// The environment variable that sets how long another host's claim is
/// trusted, in seconds.
pub const STALE_ENV: &str = "SGBN_CLAIM_STALE_S";

/// How long another host's claim is trusted (`SGBN_CLAIM_STALE_S`, default
/// 24 h); a value that is not a whole number of seconds ≥ 1 is refused,
/// naming it, rather than replaced by the default.
pub fn stale_after() -> anyhow::Result<Duration> {
    match std::env::var(STALE_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(Duration::from_secs(24 * 3600)),
        Err(std::env::VarError::NotUnicode(v)) => {
            anyhow::bail!("{STALE_ENV}={v:?} is not a number of seconds")
        }
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(s) if s >= 1 => Ok(Duration::from_secs(s)),
            _ => anyhow::bail!(
                "{STALE_ENV}={v:?} must be a whole number of seconds ≥ 1 (how long another \
                 host's claim on a unit is trusted; default 86400)"
            ),
        },
    }
}

/// A claim this process holds; the file is removed when it is dropped.
#[derive(Debug)]
pub struct Claim {
    path: PathBuf,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The outcome of [`try_claim`].
#[derive(Debug)]
pub enum Claimed {
    /// This process holds the unit now.
    Mine(Claim),
    /// Another live process does.
    Busy(Holder),
}

/// The claim file of unit `name` under `dir`.
fn claim_path(dir: &Path, name: &str) -> PathBuf {
    let safe = crate::output::safe_file_name(name, "-_.");
    dir.join(format!("{safe}.claim"))
}

/// Claims unit `name` in the claims folder `dir`, taking over a stale claim.
pub fn try_claim(dir: &Path, name: &str, stale_after: Duration) -> anyhow::Result<Claimed> {
    crate::output::create_own_dir(dir)?;
    let path = claim_path(dir, name);
    // Two rounds: the second after taking over a stale claim.
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(serde_json::to_string(&Holder::me())?.as_bytes())
                    .and_then(|()| f.sync_all())
                    .with_context(|| format!("writing the claim {}", path.display()))?;
                return Ok(Claimed::Mine(Claim { path }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| format!("creating the claim {}", path.display()));
            }
        }
        let text = match sgbn_models::read_regular_text(&path) {
            Ok(t) => t,
            // Released between our attempt and the read: try again.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let holder: Option<Holder> = serde_json::from_str(&text).ok();
        match holder {
            Some(h) if !h.is_stale(stale_after) => return Ok(Claimed::Busy(h)),
            // An empty claim is one being written right now (between the
            // create and the write): busy, unless it stays empty.
            None if text.is_empty() && !is_old(&path, Duration::from_secs(60)) => {
                return Ok(Claimed::Busy(Holder {
                    host: "?".into(),
                    pid: 0,
                    since_unix_s: 0,
                    start_ticks: None,
                }));
            }
            stale => {
                tracing::warn!(claim = %path.display(), holder = ?stale, "taking over a stale claim");
                take_over(&path, &text)?;
            }
        }
    }
    // Someone else took the stale claim over first.
    match sgbn_models::read_regular_text(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
    {
        Some(h) => Ok(Claimed::Busy(h)),
        None => anyhow::bail!("could not claim {} (contended)", path.display()),
    }
}

fn is_old(path: &Path, age: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|e| e > age)
}

/// Removes the stale claim at `path` whose contents were `seen`: renamed
/// aside first (only one process's rename succeeds), and put back when what
/// was renamed is not the stale claim but a fresh one made meanwhile.
fn take_over(path: &Path, seen: &str) -> anyhow::Result<()> {
    let aside = path.with_extension(format!("stale-{}", std::process::id()));
    match std::fs::rename(path, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("taking over {}", path.display())),
    }
    let moved = std::fs::read_to_string(&aside).unwrap_or_default();
    if moved != seen {
        // A live claim: restore it unless yet another was made.
        let _ = std::fs::hard_link(&aside, path);
    }
    let _ = std::fs::remove_file(&aside);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_is_claimed_once_and_freed_when_the_claim_drops() {
        let tmp = tempfile::tempdir().expect("tmp");
        let first =
            try_claim(tmp.path(), "train cnn run 0", stale_after().expect("env")).expect("claim");
        assert!(matches!(first, Claimed::Mine(_)));
        match try_claim(tmp.path(), "train cnn run 0", stale_after().expect("env")).expect("claim")
        {
            Claimed::Busy(h) => assert_eq!(h.pid, std::process::id()),
            Claimed::Mine(_) => panic!("claimed twice"),
        }
        drop(first);
        assert!(matches!(
            try_claim(tmp.path(), "train cnn run 0", stale_after().expect("env")).expect("claim"),
            Claimed::Mine(_)
        ));
    }

    #[test]
    fn a_dead_process_claim_is_taken_over_and_another_host_old_claim_too() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = claim_path(tmp.path(), "u");
        // A pid beyond Linux's pid_max: no such process.
        let dead = Holder {
            pid: 4_194_304 + 7,
            ..Holder::me()
        };
        std::fs::write(&path, serde_json::to_string(&dead).expect("json")).expect("write");
        assert!(matches!(
            try_claim(tmp.path(), "u", stale_after().expect("env")).expect("claim"),
            Claimed::Mine(_)
        ));
        let other = |since_unix_s| Holder {
            host: "elsewhere".into(),
            pid: 1,
            since_unix_s,
            start_ticks: None,
        };
        let now = Holder::me().since_unix_s;
        std::fs::write(&path, serde_json::to_string(&other(now)).expect("json")).expect("write");
        assert!(matches!(
            try_claim(tmp.path(), "u", Duration::from_secs(3600)).expect("claim"),
            Claimed::Busy(_)
        ));
        std::fs::write(
            &path,
            serde_json::to_string(&other(now - 7200)).expect("json"),
        )
        .expect("write");
        assert!(matches!(
            try_claim(tmp.path(), "u", Duration::from_secs(3600)).expect("claim"),
            Claimed::Mine(_)
        ));
    }

    #[test]
    fn a_claim_whose_pid_now_names_another_process_is_stale() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = claim_path(tmp.path(), "u");
        let me = Holder::me();
        assert!(me.start_ticks.is_some(), "Linux: /proc/self/stat");
        // This process, recorded with another start time: the pid was reused.
        let reused = Holder {
            start_ticks: me.start_ticks.map(|t| t + 1),
            ..me.clone()
        };
        assert!(reused.is_stale(Duration::from_secs(3600)));
        assert!(!me.is_stale(Duration::from_secs(3600)));
        // pid 1, claimed 30 days ago by a claim without a start time: pid 1
        // started at boot, after the claim, so it is not the claim's process.
        let old = Holder {
            pid: 1,
            since_unix_s: now_unix_s() - 30 * 24 * 3600,
            start_ticks: None,
            ..me.clone()
        };
        std::fs::write(&path, serde_json::to_string(&old).expect("json")).expect("write");
        assert!(matches!(
            try_claim(tmp.path(), "u", Duration::from_secs(3600)).expect("claim"),
            Claimed::Mine(_)
        ));
        // A claim without a start time made after this process started is
        // still this process's.
        let legacy = Holder {
            start_ticks: None,
            ..Holder::me()
        };
        assert!(!legacy.is_stale(Duration::from_secs(3600)));
    }
}
