//! A fleet of merchant instances as a merchant would run one: release
//! servers behind nginx (round robin) on one PostgreSQL database and one
//! Redis, against the standalone sandbox. The fleet drill (`chaos fleet`),
//! the fleet benchmark (`loadtest` with `LOADTEST_INSTANCES`) and the
//! Playwright test through the balancer (`--bin fleet`) all start it here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::latency::SlowLine;
use crate::process::{Process, SERVER};
use crate::{setup, Error};

/// What to start, and where.
pub struct Plan {
    /// nginx listens here; instance `i` on the `i + 1`th port after it, the
    /// sandbox on the port after the last instance.
    pub balancer_port: u16,
    pub instances: usize,
    /// A `redis-server` of the fleet's own (nothing kept on disk), so that
    /// it can be killed and restarted without touching the machine's.
    pub redis_port: u16,
    /// Where the instances reach Redis through a [`SlowLine`] the drill can
    /// slow down ([`Fleet::slow_redis`]); `None`: straight to `redis_port`.
    pub redis_line_port: Option<u16>,
    /// A PostgreSQL database made for the run (dropped first if it is there).
    pub database: &'static str,
    /// The vendor's calls a second for the API key, held by the sandbox and
    /// known to the instances; `None`: off at the sandbox, and the
    /// instances' own quota set out of the way (a benchmark of the fleet).
    pub vendor_quota: Option<u32>,
    /// Invoices of alice's on both sides, beyond the demo ones.
    pub invoices: Vec<String>,
    /// More of the instances' environment (it wins over the fleet's own).
    pub env: Vec<(&'static str, String)>,
    /// Logs, the nginx configuration and the files the run writes.
    pub dir: PathBuf,
}

impl Plan {
    pub fn balancer(&self) -> String {
        format!("127.0.0.1:{}", self.balancer_port)
    }

    pub fn instance(&self, index: usize) -> String {
        format!("127.0.0.1:{}", self.balancer_port + 1 + index as u16)
    }

    pub fn sandbox(&self) -> String {
        format!(
            "127.0.0.1:{}",
            self.balancer_port + 1 + self.instances as u16
        )
    }
}

/// The running fleet; dropping it stops everything it started and drops
/// its database.
pub struct Fleet {
    pub plan: Plan,
    /// `None` while the instance is stopped.
    pub instances: Vec<Option<Process>>,
    redis: Option<Process>,
    redis_line: Option<SlowLine>,
    _sandbox: Process,
    _balancer: Process,
}

impl Fleet {
    /// Makes the database and the records, starts Redis, the sandbox, nginx
    /// and every instance, and waits until each instance is ready.
    pub async fn start(http: &reqwest::Client, plan: Plan) -> Result<Self, Error> {
        std::fs::create_dir_all(&plan.dir)?;
        let postgres = postgres_server();
        for sql in [
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", plan.database),
            format!("CREATE DATABASE {}", plan.database),
        ] {
            run_command("psql", &["-q", &format!("{postgres}/postgres"), "-c", &sql])?;
        }
        let database_url = format!("{postgres}/{}", plan.database);
        setup::merchant_records(
            &database_url,
            &plan.dir.join("invoices.json"),
            &plan.invoices,
        )?;
        let seed = plan.dir.join("seed.json");
        setup::sandbox_seed(&seed, &plan.invoices)?;

        let redis = start_redis(&plan)?;
        let redis_line = match plan.redis_line_port {
            Some(port) => Some(SlowLine::start(port, plan.redis_port).await?),
            None => None,
        };
        let origin = format!("http://{}", plan.balancer());
        let quota = plan.vendor_quota.unwrap_or(0).to_string();
        let sandbox = Process::spawn(
            "target/release/sandbox",
            &[
                ("SANDBOX_ADDR", plan.sandbox()),
                ("SANDBOX_DATABASE_URL", "sqlite::memory:".to_owned()),
                ("SANDBOX_SEED_FILE", seed.display().to_string()),
                ("SANDBOX_RATE_LIMIT_PER_SEC", quota.clone()),
                ("SANDBOX_ALLOWED_ORIGINS", origin.clone()),
                ("RUST_LOG", "warn".to_owned()),
            ],
            Some(&plan.dir.join("sandbox.log")),
        )?;
        let balancer = start_nginx(&plan)?;
        let mut fleet = Self {
            instances: Vec::new(),
            redis: Some(redis),
            redis_line,
            _sandbox: sandbox,
            _balancer: balancer,
            plan,
        };
        for index in 0..fleet.plan.instances {
            let instance = fleet.spawn(http, index).await?;
            fleet.instances.push(Some(instance));
        }
        Ok(fleet)
    }

    /// Starts instance `index` and waits until it is ready.
    pub async fn spawn(&self, http: &reqwest::Client, index: usize) -> Result<Process, Error> {
        let plan = &self.plan;
        let site = plan.instance(index);
        let postgres = postgres_server();
        let mut env = setup::server_env(&site, "127.0.0.1:0");
        env.extend([
            ("ALTERNATIVE_API_URL", format!("http://{}", plan.sandbox())),
            ("ALTERNATIVE_CLIENT_ID", "demo_client_id".to_owned()),
            ("ALTERNATIVE_CLIENT_SECRET", "demo_client_secret".to_owned()),
            (
                "ALTERNATIVE_RATE_LIMIT_PER_SEC",
                plan.vendor_quota.unwrap_or(1_000_000).to_string(),
            ),
            (
                "MERCHANT_DATABASE_URL",
                format!("{postgres}/{}", plan.database),
            ),
            (
                "MERCHANT_REDIS_URL",
                format!(
                    "redis://127.0.0.1:{}",
                    plan.redis_line_port.unwrap_or(plan.redis_port)
                ),
            ),
            ("MERCHANT_INSTANCES", plan.instances.to_string()),
            ("MERCHANT_REDIS_PREFIX", format!("{}:", plan.database)),
            ("MERCHANT_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
            (
                "MERCHANT_PUBLIC_ORIGINS",
                format!("http://{}", plan.balancer()),
            ),
        ]);
        env.extend(plan.env.iter().cloned());
        let log = plan.dir.join(format!("server-{index}.log"));
        let mut process = Process::spawn(SERVER, &env, Some(&log))?;
        process
            .wait_ready(http, &format!("http://{site}/readyz"))
            .await?;
        Ok(process)
    }

    /// nginx's access log: one line per answer, `status upstream uri`.
    pub fn access_log(&self) -> PathBuf {
        self.plan.dir.join("access.log")
    }

    /// The process ids of the running instances.
    pub fn instance_pids(&self) -> Vec<u32> {
        self.instances.iter().flatten().map(Process::pid).collect()
    }

    /// SIGKILLs the fleet's Redis (nothing kept on disk: it comes back empty).
    pub fn kill_redis(&mut self) {
        if let Some(mut redis) = self.redis.take() {
            redis.kill();
        }
    }

    pub fn restart_redis(&mut self) -> Result<(), Error> {
        self.redis = Some(start_redis(&self.plan)?);
        Ok(())
    }

    /// From now on Redis answers the instances `delay` late (the plan must
    /// have a `redis_line_port`); `Duration::ZERO` makes it quick again.
    pub fn slow_redis(&self, delay: Duration) -> Result<(), Error> {
        let line = self
            .redis_line
            .as_ref()
            .ok_or("this fleet reaches Redis straight: no redis_line_port")?;
        line.set_delay(delay);
        Ok(())
    }
}

/// The PostgreSQL server the fleet's database is made on (`TEST_POSTGRES_URL`,
/// as `scripts/setup.sh` sets it up).
fn postgres_server() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432".to_owned())
}

/// Stops the instances first (the database is theirs), then drops the
/// database made for the run; nginx, the sandbox and Redis stop after.
impl Drop for Fleet {
    fn drop(&mut self) {
        self.instances.clear();
        let drop = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.plan.database
        );
        let server = format!("{}/postgres", postgres_server());
        if let Err(error) = run_command("psql", &["-q", &server, "-c", &drop]) {
            eprintln!("leaving database {}: {error}", self.plan.database);
        }
    }
}

fn start_redis(plan: &Plan) -> Result<Process, Error> {
    let port = plan.redis_port.to_string();
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
        Some(&plan.dir.join("redis.log")),
    )?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", plan.redis_port)).is_ok() {
            return Ok(process);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("the fleet's redis-server did not listen within 5 s".into())
}

/// nginx in front of the instances, round robin (its default), keeping
/// connections to them open as a production balancer does; each answer
/// says which instance gave it (`X-Served-By`) and is logged with it. One
/// worker: every request takes the next turn, whichever connection it
/// came on (each worker would keep a turn of its own).
fn start_nginx(plan: &Plan) -> Result<Process, Error> {
    let dir = std::fs::canonicalize(&plan.dir)?;
    let work = dir.display();
    std::fs::create_dir_all(dir.join("tmp"))?;
    let upstreams: String = (0..plan.instances)
        .map(|index| {
            format!(
                "        server {} max_fails=1 fail_timeout=2s;\n",
                plan.instance(index)
            )
        })
        .collect();
    let balancer = plan.balancer();
    let conf = format!(
        "daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
worker_processes 1;
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
{upstreams}        keepalive 64;
    }}
    server {{
        listen {balancer};
        location / {{
            proxy_pass http://merchant;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 1s;
            proxy_read_timeout 15s;
            add_header X-Served-By $upstream_addr always;
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
