//! The server's subcommands, run as the binary they are: `invoices import`
//! (the merchant's invoices recorded all at once, or refused with a sentence
//! and none kept), `users add` (the password from standard input) and
//! `users remove` (their sessions ended too); and a production-configured
//! server's empty database, which stays empty.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn import(db: &Path, file: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["invoices", "import", file])
        .env(
            "MERCHANT_DATABASE_URL",
            format!("sqlite://{}", db.display()),
        )
        .env_remove("ALTERNATIVE_API_URL")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn recorded(db: &Path, id: &str) -> bool {
    let database = merchant::db::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let records = merchant::Records::new(database.pool().clone());
    records.invoice(id).await.unwrap().is_some()
}

#[tokio::test]
async fn invoices_are_imported_from_a_file_and_a_bad_file_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("server-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("merchant.db");
    let good = dir.join("good.json");
    std::fs::write(
        &good,
        r#"[{"id": "inv_7001", "customer_id": "cus_acme", "invoice_number": "INV-7001", "currency": "USD", "total": "99.00"}]"#,
    )
    .unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"id": "inv_7002", "customer_id": "cus_acme", "invoice_number": "INV-7002", "currency": "USD", "total": "1,5"}]"#,
    )
    .unwrap();

    let done = import(&db, good.to_str().unwrap());
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(text(&done.stdout).starts_with("imported 1 invoices into sqlite://"));
    assert!(recorded(&db, "inv_7001").await);

    let refused = import(&db, bad.to_str().unwrap());
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains(
            "nothing imported: invoice 0 (\"inv_7002\"): a total is a decimal string with two decimals"
        ),
        "{}",
        text(&refused.stderr)
    );
    assert!(!recorded(&db, "inv_7002").await);

    let again = import(&db, good.to_str().unwrap());
    assert!(text(&again.stderr).contains("invoice inv_7001 is already recorded"));

    let missing = import(&db, "/nonexistent/invoices.json");
    assert!(text(&missing.stderr).starts_with("error: /nonexistent/invoices.json: "));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `server users add …` in the production environment, `password` on stdin.
fn add_user(db: &Path, args: &[&str], password: &str) -> Output {
    users(db, "add", args, password)
}

/// `server users <command> …` in the production environment, `stdin` on
/// its standard input.
fn users(db: &Path, command: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["users", command])
        .args(args)
        .env(
            "MERCHANT_DATABASE_URL",
            format!("sqlite://{}", db.display()),
        )
        .env("ALTERNATIVE_ENVIRONMENT", "production")
        .env("ALTERNATIVE_API_URL", "http://127.0.0.1:9")
        .env("ALTERNATIVE_CLIENT_ID", "merchant_client")
        .env("ALTERNATIVE_CLIENT_SECRET", "not-the-demo-secret")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{stdin}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn user_emails(db: &Path) -> Vec<String> {
    let database = merchant::db::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query_scalar("SELECT email FROM users ORDER BY id")
        .fetch_all(database.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn in_production_an_empty_database_gets_only_the_users_added_by_hand() {
    let dir = std::env::temp_dir().join(format!("server-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("merchant.db");
    let added = add_user(
        &db,
        &[
            "--email",
            "carol@example.com",
            "--customer",
            "cus_acme",
            "--name",
            "Carol",
        ],
        "carol's long password",
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert!(text(&added.stdout).starts_with("added user 1 (carol@example.com), paying as cus_acme"));
    // No demo user (with a published password) was seeded beside her.
    assert_eq!(user_emails(&db).await, ["carol@example.com"]);
    let carol = merchant::Users::new(
        merchant::db::open(&format!("sqlite://{}", db.display()))
            .await
            .unwrap()
            .pool()
            .clone(),
    )
    .authenticate("carol@example.com", "carol's long password")
    .await
    .unwrap();
    assert!(carol.is_some());

    let short = add_user(
        &db,
        &["--email", "dan@example.com", "--customer", "cus_acme"],
        "short",
    );
    assert_eq!(short.status.code(), Some(1));
    assert_eq!(
        text(&short.stderr).trim(),
        "error: no user added: a password is at least 12 characters"
    );
    let unknown = add_user(&db, &["--email", "dan@example.com"], "dan's long password");
    assert!(text(&unknown.stderr).contains("--email and --customer are needed"));
    assert_eq!(user_emails(&db).await, ["carol@example.com"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_removed_user_is_gone_with_their_sessions() {
    let dir = std::env::temp_dir().join(format!("server-remove-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("merchant.db");
    for email in ["carol@example.com", "dan@example.com"] {
        let args = ["--email", email, "--customer", "cus_acme"];
        let added = add_user(&db, &args, "a long enough password");
        assert!(added.status.success(), "{}", text(&added.stderr));
    }
    // Carol is logged in twice, Dan once (as the server's log-in stores them).
    let database = merchant::db::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let sessions = merchant::SqlSessions::new(database.pool().clone());
    for (id, email) in [
        (1, "carol@example.com"),
        (1, "carol@example.com"),
        (2, "dan@example.com"),
    ] {
        let record = tower_sessions::session::Record {
            id: tower_sessions::session::Id::default(),
            data: [(
                merchant::sessions::USER_KEY.to_owned(),
                serde_json::json!({"id": id, "email": email, "name": email, "customer_id": "cus_acme"}),
            )]
            .into(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(8),
        };
        use merchant::sessions::SessionRows;
        assert!(sessions.insert(&record).await.unwrap());
    }

    let removed = users(&db, "remove", &["--email", "Carol@Example.com"], "");
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    assert_eq!(
        text(&removed.stdout).trim(),
        "removed user 1 (carol@example.com) and ended their 2 sessions"
    );
    assert_eq!(user_emails(&db).await, ["dan@example.com"]);
    assert_eq!(sessions.count_live().await.unwrap(), 1, "Dan's stays");

    let again = users(&db, "remove", &["--email", "carol@example.com"], "");
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        text(&again.stderr).trim(),
        "error: no user removed: no user has the email \"carol@example.com\""
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
