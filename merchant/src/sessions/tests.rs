use std::sync::atomic::{AtomicUsize, Ordering};

use tower_sessions::MemoryStore;

use super::*;

/// The database, counting what is asked of it.
#[derive(Debug, Clone, Default)]
struct Counted {
    store: MemoryStore,
    loads: Arc<AtomicUsize>,
    writes: Arc<AtomicUsize>,
}

impl Counted {
    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }

    fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl SessionStore for Counted {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.store.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.store.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.store.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await
    }
}

fn record(user: i64) -> Record {
    Record {
        id: Id::default(),
        data: [("user".to_owned(), serde_json::json!(user))].into(),
        expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(8),
    }
}

async fn created(sessions: &CachedSessions<Counted>, user: i64) -> Record {
    let mut record = record(user);
    sessions.create(&mut record).await.unwrap();
    record
}

#[tokio::test(start_paused = true)]
async fn a_session_in_use_is_read_from_memory() {
    let db = Counted::default();
    let sessions = CachedSessions::new(db.clone());
    let record = created(&sessions, 1).await;

    for _ in 0..100 {
        assert_eq!(
            sessions.load(&record.id).await.unwrap(),
            Some(record.clone())
        );
    }
    assert_eq!(db.loads(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_unchanged_session_is_written_again_only_once_its_expiry_slid_a_minute() {
    let db = Counted::default();
    let sessions = CachedSessions::new(db.clone());
    let mut record = created(&sessions, 1).await;
    assert_eq!(db.writes(), 1);

    // A request a second: the expiry slides, the database is left alone…
    for _ in 0..59 {
        record.expiry_date += time::Duration::seconds(1);
        sessions.save(&record).await.unwrap();
    }
    assert_eq!(db.writes(), 1);
    // …yet the slid expiry is what a load returns.
    assert_eq!(
        sessions.load(&record.id).await.unwrap(),
        Some(record.clone())
    );

    // A minute past what the database has: written.
    record.expiry_date += time::Duration::seconds(1);
    sessions.save(&record).await.unwrap();
    assert_eq!(db.writes(), 2);
    assert_eq!(db.store.load(&record.id).await.unwrap(), Some(record));
}

#[tokio::test(start_paused = true)]
async fn a_changed_session_is_written_at_once() {
    let db = Counted::default();
    let sessions = CachedSessions::new(db.clone());
    let mut record = created(&sessions, 1).await;

    record.data.insert("user".to_owned(), serde_json::json!(2));
    sessions.save(&record).await.unwrap();
    assert_eq!(db.writes(), 2);
    assert_eq!(db.store.load(&record.id).await.unwrap(), Some(record));
}

#[tokio::test(start_paused = true)]
async fn a_deleted_session_is_gone() {
    let db = Counted::default();
    let sessions = CachedSessions::new(db.clone());
    let record = created(&sessions, 1).await;

    sessions.delete(&record.id).await.unwrap();
    assert_eq!(sessions.load(&record.id).await.unwrap(), None);
    assert_eq!(db.store.load(&record.id).await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn a_log_out_on_another_server_takes_effect_once_the_copy_is_no_longer_fresh() {
    let db = Counted::default();
    let here = CachedSessions::new(db.clone());
    let there = CachedSessions::new(db.clone());
    let record = created(&here, 1).await;
    assert!(there.load(&record.id).await.unwrap().is_some());

    here.delete(&record.id).await.unwrap();
    assert!(there.load(&record.id).await.unwrap().is_some());
    tokio::time::advance(FRESH_FOR).await;
    assert_eq!(there.load(&record.id).await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn an_expired_copy_is_not_handed_out() {
    let db = Counted::default();
    let sessions = CachedSessions::new(db.clone());
    let mut record = created(&sessions, 1).await;
    record.expiry_date = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    // Written through (the expiry moved back, not forward by a minute).
    sessions.save(&record).await.unwrap();

    assert_eq!(sessions.load(&record.id).await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn memory_stays_bounded_with_many_sessions() {
    let db = Counted::default();
    let sessions = CachedSessions::new(db.clone());
    for user in 0..(SHARDS * MAX_PER_SHARD * 2) as i64 {
        created(&sessions, user).await;
    }
    let held: usize = sessions
        .inner
        .shards
        .iter()
        .map(|shard| shard.lock().unwrap().len())
        .sum();
    assert!(held <= SHARDS * MAX_PER_SHARD, "{held} copies held");
}
