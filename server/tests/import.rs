//! `server invoices import FILE`, run as the binary it is: the merchant's
//! invoices recorded all at once, or refused with a sentence and none kept.

use std::path::Path;
use std::process::{Command, Output};

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
