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
//!   vendor refuses at most the documented bound.

mod steps;

use std::path::{Path, PathBuf};
use std::time::Duration;

use drivers::process::{Process, SERVER};
use drivers::setup::{self, invoice_ids};
use drivers::Error;

use crate::report::Section;
use crate::WORK_DIR;

pub const BALANCER: &str = "127.0.0.1:3450";
pub const INSTANCES: [&str; 3] = ["127.0.0.1:3451", "127.0.0.1:3452", "127.0.0.1:3453"];
pub const SANDBOX: &str = "127.0.0.1:3454";
const REDIS_PORT: u16 = 6391;
const DATABASE: &str = "chaos_fleet";

/// What the drill runs and may restart.
pub struct Fleet {
    pub dir: PathBuf,
    pub instances: Vec<Option<Process>>,
    env: Vec<(&'static str, String)>,
    redis: Option<Process>,
    _sandbox: Process,
    _balancer: Process,
}

pub async fn run(http: &reqwest::Client) -> Result<Section, Error> {
    let dir = Path::new(WORK_DIR).join("fleet");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut fleet = Fleet::start(http, &dir).await?;
    let mut section = Section::default();
    section.fact(format!(
        "3 release instances ({}) behind nginx round robin ({BALANCER}), on PostgreSQL \
         (database {DATABASE}) and a Redis of the drill's own (port {REDIS_PORT}); the \
         standalone sandbox with its quota on: 5 calls a second for the API key",
        INSTANCES.join(", ")
    ));
    steps::across_instances(http, &mut section).await?;
    steps::thousand_mints(http, &mut section).await?;
    steps::log_out_everywhere(http, &mut section).await?;
    steps::instance_killed(http, &mut fleet, &mut section).await?;
    steps::redis_restarted(http, &mut fleet, &mut section).await?;
    Ok(section)
}

impl Fleet {
    async fn start(http: &reqwest::Client, dir: &Path) -> Result<Self, Error> {
        let postgres = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432".to_owned());
        for sql in [
            format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"),
            format!("CREATE DATABASE {DATABASE}"),
        ] {
            run_command("psql", &["-q", &format!("{postgres}/postgres"), "-c", &sql])?;
        }
        let database_url = format!("{postgres}/{DATABASE}");
        let invoices = invoice_ids("inv_m", 200);
        setup::merchant_records(&database_url, &dir.join("invoices.json"), &invoices)?;
        let seed = dir.join("seed.json");
        setup::sandbox_seed(&seed, &invoices)?;

        let redis = start_redis(dir)?;
        let sandbox = Process::spawn(
            "target/release/sandbox",
            &[
                ("SANDBOX_ADDR", SANDBOX.to_owned()),
                ("SANDBOX_DATABASE_URL", "sqlite::memory:".to_owned()),
                ("SANDBOX_SEED_FILE", seed.display().to_string()),
                ("SANDBOX_RATE_LIMIT_PER_SEC", "5".to_owned()),
                ("RUST_LOG", "warn".to_owned()),
            ],
            Some(&dir.join("sandbox.log")),
        )?;
        let mut env = vec![
            ("ALTERNATIVE_API_URL", format!("http://{SANDBOX}")),
            ("ALTERNATIVE_CLIENT_ID", "demo_client_id".to_owned()),
            ("ALTERNATIVE_CLIENT_SECRET", "demo_client_secret".to_owned()),
            ("MERCHANT_DATABASE_URL", database_url),
            (
                "MERCHANT_REDIS_URL",
                format!("redis://127.0.0.1:{REDIS_PORT}"),
            ),
            ("MERCHANT_INSTANCES", INSTANCES.len().to_string()),
            ("MERCHANT_REDIS_PREFIX", "chaos-fleet:".to_owned()),
            ("MERCHANT_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
            // A thousand mints from a few sessions and one address are far
            // over the merchant's own per-session limits: off here; the
            // vendor's quota is what this drill holds the fleet to.
            ("MERCHANT_RATE_LIMITS", "off".to_owned()),
            ("RUST_LOG", "warn,alternative_client=info".to_owned()),
        ];
        env.extend(setup::server_env(INSTANCES[0], "127.0.0.1:0"));
        let balancer = start_nginx(dir)?;
        let mut fleet = Self {
            dir: dir.to_owned(),
            instances: Vec::new(),
            env,
            redis: Some(redis),
            _sandbox: sandbox,
            _balancer: balancer,
        };
        for index in 0..INSTANCES.len() {
            let instance = fleet.spawn(http, index).await?;
            fleet.instances.push(Some(instance));
        }
        Ok(fleet)
    }

    /// Starts instance `index` and waits until it is ready.
    pub async fn spawn(&self, http: &reqwest::Client, index: usize) -> Result<Process, Error> {
        let mut env = self.env.clone();
        env.retain(|(name, _)| *name != "LEPTOS_SITE_ADDR");
        env.push(("LEPTOS_SITE_ADDR", INSTANCES[index].to_owned()));
        let log = self.dir.join(format!("server-{index}.log"));
        let mut process = Process::spawn(SERVER, &env, Some(&log))?;
        process
            .wait_ready(http, &format!("http://{}/readyz", INSTANCES[index]))
            .await?;
        Ok(process)
    }

    /// SIGKILLs the drill's Redis (nothing kept on disk: it comes back empty).
    pub fn kill_redis(&mut self) {
        if let Some(mut redis) = self.redis.take() {
            redis.kill();
        }
    }

    pub fn restart_redis(&mut self) -> Result<(), Error> {
        self.redis = Some(start_redis(&self.dir)?);
        Ok(())
    }
}

fn start_redis(dir: &Path) -> Result<Process, Error> {
    let port = REDIS_PORT.to_string();
    let process = Process::spawn_args(
        "redis-server",
        &[
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        Some(&dir.join("redis.log")),
    )?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", REDIS_PORT)).is_ok() {
            return Ok(process);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("the drill's redis-server did not listen within 5 s".into())
}

/// nginx in front of the three instances, round robin (its default), with
/// the upstream of each answer in its access log.
fn start_nginx(dir: &Path) -> Result<Process, Error> {
    let dir = std::fs::canonicalize(dir)?;
    let work = dir.display();
    std::fs::create_dir_all(dir.join("tmp"))?;
    let upstreams: String = INSTANCES
        .iter()
        .map(|addr| format!("        server {addr} max_fails=1 fail_timeout=2s;\n"))
        .collect();
    let conf = format!(
        "daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
worker_rlimit_nofile 8192;
events {{ worker_connections 4096; }}
http {{
    log_format fleet '$status $upstream_addr $request_uri';
    access_log {work}/access.log fleet;
    client_body_temp_path {work}/tmp/body;
    proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fastcgi;
    uwsgi_temp_path {work}/tmp/uwsgi;
    scgi_temp_path {work}/tmp/scgi;
    upstream merchant {{
{upstreams}    }}
    server {{
        listen {BALANCER};
        location / {{
            proxy_pass http://merchant;
            proxy_http_version 1.1;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 1s;
            proxy_read_timeout 15s;
        }}
    }}
}}
"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf)?;
    let nginx = if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    };
    Process::spawn_args(
        nginx,
        &["-c", &path.display().to_string()],
        Some(&dir.join("nginx.log")),
    )
}

fn run_command(program: &str, args: &[&str]) -> Result<(), Error> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    Ok(())
}
