//! Three release instances of the merchant behind nginx (round robin), on
//! one PostgreSQL database and one Redis, against the standalone sandbox
//! with the real quota on (5 calls a second for the API key):
//! - log in through one instance, mint through another, pay, and reconcile
//!   through the third;
//! - a thousand mints at once over many invoices: one OAuth request for
//!   the fleet, no call the vendor refuses, every mint answered (a token,
//!   or busy with a time to come back);
//! - log out: the next mint on every instance is refused at once;
//! - one instance SIGKILLed under load and restarted: the balancer routes
//!   around it and it serves again;
//! - Redis killed and restarted under load: checkout goes on, and the
//!   vendor refuses at most the documented bound;
//! - Redis answering late under load: the same, and the mints do not wait
//!   on it; once it is quick again the fleet shares its tokens again.

mod slow_redis;
mod steps;

use std::path::Path;

use drivers::fleet::{Fleet, Plan};
use drivers::setup::invoice_ids;
use drivers::Error;

use crate::report::Section;
use crate::WORK_DIR;

pub const BALANCER: &str = "127.0.0.1:3450";
pub const INSTANCES: [&str; 3] = ["127.0.0.1:3451", "127.0.0.1:3452", "127.0.0.1:3453"];
pub const SANDBOX: &str = "127.0.0.1:3454";
const REDIS_PORT: u16 = 6391;
/// Where the instances reach that Redis, through a line the drill can slow.
const REDIS_LINE_PORT: u16 = 6394;
const DATABASE: &str = "chaos_fleet";

pub async fn run(http: &reqwest::Client) -> Result<Section, Error> {
    let dir = Path::new(WORK_DIR).join("fleet");
    let _ = std::fs::remove_dir_all(&dir);
    let plan = Plan {
        balancer_port: 3450,
        instances: INSTANCES.len(),
        redis_port: REDIS_PORT,
        redis_line_port: Some(REDIS_LINE_PORT),
        database: DATABASE,
        vendor_quota: Some(5),
        invoices: invoice_ids("inv_m", slow_redis::FRESH.end),
        env: vec![
            // A thousand mints from a few sessions and one address are far
            // over the merchant's own per-session limits: off here; the
            // vendor's quota is what this drill holds the fleet to.
            ("MERCHANT_RATE_LIMITS", "off".to_owned()),
            ("RUST_LOG", "warn,alternative_client=info".to_owned()),
        ],
        dir,
    };
    assert_eq!(
        (plan.balancer(), plan.instance(2), plan.sandbox()),
        (BALANCER.into(), INSTANCES[2].into(), SANDBOX.into())
    );
    let mut fleet = Fleet::start(http, plan).await?;
    let mut section = Section::default();
    section.fact(format!(
        "3 release instances ({}) behind nginx round robin ({BALANCER}), on PostgreSQL \
         (database {DATABASE}) and a Redis of the drill's own (port {REDIS_PORT}, reached \
         through a line the drill can slow, port {REDIS_LINE_PORT}); the \
         standalone sandbox with its quota on: 5 calls a second for the API key",
        INSTANCES.join(", ")
    ));
    steps::across_instances(http, &mut section).await?;
    steps::thousand_mints(http, &mut section).await?;
    steps::log_out_everywhere(http, &mut section).await?;
    steps::instance_killed(http, &mut fleet, &mut section).await?;
    steps::redis_restarted(http, &mut fleet, &mut section).await?;
    slow_redis::redis_slow(http, &fleet, &mut section).await?;
    Ok(section)
}
