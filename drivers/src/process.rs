//! A server binary run as a child process: started with its environment,
//! waited for, measured, interrupted or killed — and never left running.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::Error;

/// The merchant's release server, as `cargo leptos build --release` leaves it.
pub const SERVER: &str = "target/release/server";

pub struct Process {
    child: Child,
}

impl Process {
    /// Starts `program` with `env` added to this process's environment; its
    /// output is appended to `log` (or shown here, without one).
    pub fn spawn(program: &str, env: &[(&str, String)], log: Option<&Path>) -> Result<Self, Error> {
        let mut command = Command::new(program);
        command.envs(env.iter().map(|(k, v)| (k, v)));
        Self::start(command, program, log)
    }

    /// Starts `program` with `args` (and this process's environment).
    pub fn spawn_args(program: &str, args: &[&str], log: Option<&Path>) -> Result<Self, Error> {
        let mut command = Command::new(program);
        command.args(args);
        Self::start(command, program, log)
    }

    fn start(mut command: Command, program: &str, log: Option<&Path>) -> Result<Self, Error> {
        if let Some(log) = log {
            let file = OpenOptions::new().create(true).append(true).open(log)?;
            command
                .stdout(Stdio::from(file.try_clone()?))
                .stderr(Stdio::from(file));
        }
        let child = command
            .spawn()
            .map_err(|e| format!("starting {program}: {e} (built it?)"))?;
        Ok(Self { child })
    }

    /// Waits until `url` answers 2xx; fails if the process exits first or
    /// 20 s pass.
    pub async fn wait_ready(&mut self, http: &reqwest::Client, url: &str) -> Result<(), Error> {
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("the process exited while starting: {status}").into());
            }
            if http
                .get(url)
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("{url} did not answer within 20 s").into())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, in MiB.
    pub fn rss_mib(&self) -> u64 {
        rss_mib(self.pid())
    }

    /// SIGINT: the server finishes what it has and exits, as on Ctrl-C.
    pub fn interrupt(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-INT", &self.pid().to_string()])
                .status();
            let _ = self.child.wait();
        }
    }

    /// SIGKILL: gone at once, mid-request, with nothing flushed.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A run that fails half-way still stops what it started.
impl Drop for Process {
    fn drop(&mut self) {
        self.interrupt();
    }
}

/// Resident memory of process `pid`, in MiB (0 if it cannot be read).
pub fn rss_mib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb / 1024)
}

/// CPU time (user and system) process `pid` has used, in microseconds (0 if
/// it cannot be read): fields 14 and 15 of `/proc/PID/stat`, in clock ticks
/// of 1/100 s (`USER_HZ` on Linux).
pub fn cpu_us(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // The command name (field 2) may hold spaces: count after it.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
            Some(ticks(14)? + ticks(15)?)
        })
        .map_or(0, |ticks| ticks * 10_000)
}
