//! `cargo run --release -p drivers --bin fleet -- [INSTANCES]` (default 2):
//! a fleet to try by hand or to test in a browser — the release server
//! `INSTANCES` times behind nginx round robin on `http://127.0.0.1:3460`,
//! on a PostgreSQL database of its own (`fleet_browser`) and a Redis of its
//! own (port 6392), against the standalone sandbox with its quota on, until
//! SIGINT or SIGTERM. Every answer names its instance (`X-Served-By`).
//! The webServer of `end2end/fleet.config.ts` (Playwright through the
//! balancer). Build first: `cargo leptos build --release && cargo build
//! --release -p sandbox -p drivers`.

use std::path::Path;
use std::time::Duration;

use drivers::fleet::{Fleet, Plan};
use drivers::Error;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let instances = match std::env::args().nth(1) {
        Some(n) => n
            .parse()
            .map_err(|_| format!("INSTANCES: {n:?} is not a number"))?,
        None => 2,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let dir = Path::new("target/fleet");
    let _ = std::fs::remove_dir_all(dir);
    let plan = Plan {
        balancer_port: 3460,
        instances,
        redis_port: 6392,
        redis_line_port: None,
        database: "fleet_browser",
        vendor_quota: Some(5),
        invoices: Vec::new(),
        env: vec![(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
        )],
        dir: dir.to_owned(),
    };
    let fleet = Fleet::start(&http, plan).await?;
    println!(
        "fleet ready: http://{} ({} instances; logs in {})",
        fleet.plan.balancer(),
        fleet.plan.instances,
        dir.display()
    );
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    // Dropping the fleet stops every process it started.
    drop(fleet);
    Ok(())
}
