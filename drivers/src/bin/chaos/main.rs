//! `cargo run --release -p drivers --bin chaos -- [short|long] [drill…]`
//! (or `./scripts/chaos`): the fault drills of the assembled system. Each
//! drill starts the release binaries itself, breaks something on purpose,
//! and checks that nothing was lost; the results go to
//! `target/chaos/report.md`, and the exit status is 1 if any check failed.
//!
//! Drills: `durability` (the vendor killed with SIGKILL mid-payment, again
//! and again), `events` (the merchant killed with SIGKILL while the vendor
//! delivers payment events), `heal` (payments the webhook never tells the
//! merchant of — delivery paused, or its secret wrong — recorded by the
//! catch-up on the vendor's event list, through two SIGKILLs), `fleet` (three instances behind nginx on
//! PostgreSQL and Redis: one OAuth request, no 429, log-out everywhere, an
//! instance and then Redis killed under load), `flood` (a thousand clients minting and refreshing short-lived
//! tokens), `overload` (more load than the server takes: the excess
//! answered busy at once), `skew` (the vendor's clock minutes off the merchant's),
//! `secrets` (one checkout, then every served byte and both logs searched
//! for credentials and tokens). `short`
//! is the version `.ci/run` runs; `long` is the one for a human.
//!
//! Build first: `cargo leptos build --release && cargo build --release -p
//! sandbox -p drivers` (the script does).

mod durability;
mod events;
mod fleet;
mod flood;
mod harness;
mod heal;
mod overload;
mod report;
mod secrets;
mod skew;
mod vendor;

use std::time::Duration;

use drivers::Error;
use report::Report;

const WORK_DIR: &str = "target/chaos";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Length {
    Short,
    Long,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut length = Length::Short;
    let mut drills = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "short" => length = Length::Short,
            "long" => length = Length::Long,
            "durability" | "events" | "heal" | "fleet" | "flood" | "overload" | "skew"
            | "secrets" => {
                drills.push(arg)
            }
            other => {
                return Err(format!(
                "unknown argument {other:?}: [short|long] [durability|events|heal|fleet|flood|overload|skew|secrets…]"
            )
                .into())
            }
        }
    }
    if drills.is_empty() {
        drills = [
            "durability",
            "events",
            "heal",
            "fleet",
            "flood",
            "overload",
            "skew",
            "secrets",
        ]
        .map(String::from)
        .into();
    }
    std::fs::create_dir_all(WORK_DIR)?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;

    let mut report = Report::new(length);
    for drill in &drills {
        eprintln!("==> chaos: {drill} ({length:?})");
        let section = match drill.as_str() {
            "durability" => durability::run(&http, durability::Plan::for_length(length)).await,
            "events" => events::run(&http, events::Plan::for_length(length)).await,
            "heal" => heal::run(&http, heal::Plan::for_length(length)).await,
            "fleet" => fleet::run(&http).await,
            "flood" => flood::run(&http, flood::Plan::for_length(length)).await,
            "overload" => overload::run(&http, overload::Plan::for_length(length)).await,
            "skew" => skew::run(&http).await,
            _ => secrets::run(&http).await,
        };
        report.add(drill, section);
    }
    let path = format!("{WORK_DIR}/report.md");
    std::fs::write(&path, report.markdown())?;
    eprintln!("{}", report.summary());
    eprintln!("report: {path}");
    if !report.passed() {
        std::process::exit(1);
    }
    Ok(())
}
