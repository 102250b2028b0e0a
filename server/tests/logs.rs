//! The server binary with `LOG_FORMAT=json`: every line it writes is one
//! JSON object, and a request's lines carry the request id it was sent
//! with (which the answer names too) — the vendor's lines of the calls it
//! caused as well.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Long enough for a cold start on a busy machine; only a failure waits it out.
const DEADLINE: Duration = Duration::from_secs(60);

struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line read so far.
    seen: Vec<String>,
}

impl Server {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("LEPTOS_OUTPUT_NAME", "checkout")
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("SANDBOX_ADDR", "127.0.0.1:0")
            .env("MERCHANT_DATABASE_URL", "sqlite::memory:")
            .env("SANDBOX_DATABASE_URL", "sqlite::memory:")
            // The test stands where a balancer would: its ids are kept.
            .env("MERCHANT_TRUSTED_PROXIES", "127.0.0.1")
            .env_remove("ALTERNATIVE_API_URL")
            .env_remove("ALTERNATIVE_ENVIRONMENT")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one satisfies `wanted`, and returns it parsed.
    fn wait_for(&mut self, wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        loop {
            let line = self
                .lines
                .recv_timeout(DEADLINE)
                .unwrap_or_else(|_| panic!("no such line; read:\n{}", self.seen.join("\n")));
            self.seen.push(line.clone());
            let value: serde_json::Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
            if wanted(&value) {
                return value;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `request_id` of every span a line was written in.
fn request_ids(line: &serde_json::Value) -> Vec<String> {
    line["spans"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|span| Some(span["request_id"].as_str()?.to_owned()))
        .collect()
}

#[tokio::test]
async fn json_log_lines_carry_the_request_id_the_request_came_with() {
    let mut server = Server::start();
    let listening = server.wait_for(|line| {
        line["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("merchant app listening on "))
    });
    let url = listening["message"]
        .as_str()
        .unwrap()
        .trim_start_matches("merchant app listening on ")
        .to_owned();

    // Not following the log-in's redirect: that answer would be another request's.
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{url}/api/login"))
        .header("x-request-id", "logs-test-1")
        .form(&[
            ("email", "alice@example.com"),
            ("password", "alice-demo-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], "logs-test-1");

    let logged_in = server.wait_for(|line| line["message"] == "logged in");
    let request = &logged_in["spans"][0];
    assert_eq!(request["name"], "request", "{logged_in}");
    assert_eq!(request["request_id"], "logs-test-1", "{logged_in}");
    assert_eq!(request["path"], "/api/login", "{logged_in}");
    assert_eq!(logged_in["level"], "INFO");

    // The checkout page's server-side render mints through the vendor: the
    // vendor (the embedded sandbox, logging to the same output) names the
    // id it was sent.
    let cookie = answer.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = reqwest::Client::new()
        .get(format!("{url}/checkout/inv_1001"))
        .header("cookie", cookie)
        .header("x-request-id", "logs-test-2")
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-request-id"], "logs-test-2");
    let issued = server.wait_for(|line| line["message"] == "issued a checkout token");
    assert_eq!(issued["target"], "sandbox::checkout_auth", "{issued}");
    assert_eq!(request_ids(&issued), ["logs-test-2"], "{issued}");
    let minted = server.wait_for(|line| line["message"] == "minted a checkout token");
    assert!(
        request_ids(&minted).contains(&"logs-test-2".to_owned()),
        "{minted}"
    );
}
