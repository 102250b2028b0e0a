//! What the drills share: a release binary killed and restarted on the same
//! state ([`Restartable`]), and work started at a steady rate
//! ([`at_steady_rate`]).

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use drivers::process::Process;
use drivers::Error;
use rand::Rng;
use tokio::sync::Mutex;

/// A release binary that a drill kills (SIGKILL) and starts again with the
/// same environment, so on the same database.
pub struct Restartable<'a> {
    http: &'a reqwest::Client,
    program: &'a str,
    env: Vec<(&'static str, String)>,
    log: PathBuf,
    /// Answers 2xx once the process serves.
    ready: String,
    running: Mutex<Process>,
}

impl<'a> Restartable<'a> {
    /// Starts `program` with `env`, its output appended to `log`, and waits
    /// until `ready` answers.
    pub async fn start(
        http: &'a reqwest::Client,
        program: &'a str,
        env: Vec<(&'static str, String)>,
        log: PathBuf,
        ready: String,
    ) -> Result<Self, Error> {
        let running = spawn(http, program, &env, &log, &ready).await?;
        Ok(Self {
            http,
            program,
            env,
            log,
            ready,
            running: Mutex::new(running),
        })
    }

    /// SIGKILL now, and a restart after `down`.
    pub async fn kill_and_restart(&self, down: Duration) -> Result<(), Error> {
        let mut running = self.running.lock().await;
        running.kill();
        tokio::time::sleep(down).await;
        *running = spawn(self.http, self.program, &self.env, &self.log, &self.ready).await?;
        Ok(())
    }

    /// Kills it after pauses drawn from `every_ms`, each followed by a
    /// restart after 0.1–0.5 s, until `deadline`; how many kills.
    pub async fn kill_now_and_then(
        &self,
        every_ms: (u64, u64),
        deadline: Instant,
    ) -> Result<u32, Error> {
        let mut kills = 0;
        loop {
            let pause = rand::rng().random_range(every_ms.0..every_ms.1);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            if Instant::now() >= deadline {
                return Ok(kills);
            }
            self.kill_and_restart(down_for()).await?;
            kills += 1;
        }
    }

    /// SIGINT: it finishes what it has and exits.
    pub async fn interrupt(&self) {
        self.running.lock().await.interrupt();
    }
}

/// How long a killed process stays down before its restart: 0.1–0.5 s.
pub fn down_for() -> Duration {
    Duration::from_millis(rand::rng().random_range(100..500))
}

async fn spawn(
    http: &reqwest::Client,
    program: &str,
    env: &[(&'static str, String)],
    log: &std::path::Path,
    ready: &str,
) -> Result<Process, Error> {
    let mut process = Process::spawn(program, env, Some(log))?;
    process.wait_ready(http, ready).await?;
    Ok(process)
}

/// `work` for each of `items`, each started on its own task one
/// `1 / per_second` after the one before (from now), whatever the others'
/// pace; every outcome, in the items' order (a task that panicked: `None`).
pub async fn at_steady_rate<T, F, Fut>(
    items: &[T],
    per_second: u32,
    work: F,
) -> Vec<Option<Fut::Output>>
where
    T: Clone,
    F: Fn(T) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let started = Instant::now();
    let interval = Duration::from_secs(1) / per_second.max(1);
    let mut tasks = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        tokio::time::sleep_until((started + interval * i as u32).into()).await;
        tasks.push(tokio::spawn(work(item.clone())));
    }
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.ok());
    }
    outcomes
}
