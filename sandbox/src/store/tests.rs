//! The store alone: in-memory and file databases, the seed, clients and grants.

use super::*;

async fn seeded() -> Store {
    let store = Store::open("sqlite::memory:").await.unwrap();
    store.reset(&Seed::demo()).await.unwrap();
    store
}

#[tokio::test]
async fn an_in_memory_store_outlives_its_pool_connection() {
    let store = seeded().await;
    // The pool's one connection goes away (as after a cancelled query);
    // the next one must find the same database, not an empty one.
    store.pool().acquire().await.unwrap().close().await.unwrap();
    let client = store
        .authenticate_client("demo_client_id", "demo_client_secret")
        .await
        .unwrap();
    assert!(client.is_some());
}

#[tokio::test]
async fn two_in_memory_stores_are_two_databases() {
    let first = seeded().await;
    let second = Store::open("sqlite::memory:").await.unwrap();
    assert!(first
        .authenticate_client("demo_client_id", "demo_client_secret")
        .await
        .unwrap()
        .is_some());
    assert!(second
        .authenticate_client("demo_client_id", "demo_client_secret")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn the_demo_client_authenticates_only_with_its_secret() {
    let store = seeded().await;
    let client = store
        .authenticate_client("demo_client_id", "demo_client_secret")
        .await
        .unwrap();
    assert_eq!(
        client.map(|c| c.partner_id),
        Some("partner_demo".to_owned())
    );
    assert!(store
        .authenticate_client("demo_client_id", "wrong")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .authenticate_client("nobody", "demo_client_secret")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .authenticate_client("nobody", "")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn seed_invoices_belong_to_their_customers() {
    let store = seeded().await;
    assert_eq!(
        store
            .invoice("inv_1001")
            .await
            .unwrap()
            .unwrap()
            .customer_id,
        "cus_acme"
    );
    assert_eq!(
        store.invoice("inv_1002").await.unwrap().unwrap().total,
        "310.40"
    );
    assert_eq!(
        store.invoice("inv_2001").await.unwrap().unwrap().currency,
        "EUR"
    );
    assert_eq!(store.payment_methods("cus_acme").await.unwrap().len(), 2);
    assert!(store.customer("cus_globex").await.unwrap().is_some());
}

#[tokio::test]
async fn a_grant_is_found_by_its_token_only() {
    let store = seeded().await;
    let grant = OAuthGrant {
        client_id: "demo_client_id".into(),
        partner_id: "partner_demo".into(),
        expires_at: 2_000,
    };
    store
        .record_grant("sbx_oat_abc", &grant, 1_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .grant("sbx_oat_abc")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        2_000
    );
    assert!(store.grant("sbx_oat_abd").await.unwrap().is_none());
}

#[tokio::test]
async fn a_file_database_keeps_its_records_across_reopening() {
    let dir = std::env::temp_dir().join(format!("sandbox-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/s.db", dir.display());
    {
        let store = Store::open(&url).await.unwrap();
        store.reset(&Seed::demo()).await.unwrap();
        store.pool().close().await;
    }
    let store = Store::open(&url).await.unwrap();
    assert!(!store.is_empty().await.unwrap());
    store.pool().close().await;
    std::fs::remove_dir_all(dir).unwrap();
}
