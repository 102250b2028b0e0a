use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::oneshot;

use super::*;

/// The database: rows in memory, counting what is asked of them, and able
/// to hold one call after it did its work, so a test can run another call
/// in between on purpose.
#[derive(Debug, Clone, Default)]
struct Rows {
    rows: Arc<Mutex<HashMap<Id, Record>>>,
    loads: Arc<AtomicUsize>,
    writes: Arc<AtomicUsize>,
    hold: Arc<Mutex<Option<Hold>>>,
}

#[derive(Debug)]
struct Hold {
    call: Call,
    reached: oneshot::Sender<()>,
    release: oneshot::Receiver<()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Load,
    Update,
}

/// A held call: `reached` resolves once it did its database work; it goes
/// on when `release` is sent.
struct Held {
    reached: oneshot::Receiver<()>,
    release: oneshot::Sender<()>,
}

impl Rows {
    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }

    fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    fn row(&self, id: &Id) -> Option<Record> {
        self.rows.lock().unwrap().get(id).cloned()
    }

    /// Holds the next `call` after its database work.
    fn hold_next(&self, call: Call) -> Held {
        let (reached_tx, reached) = oneshot::channel();
        let (release, release_rx) = oneshot::channel();
        *self.hold.lock().unwrap() = Some(Hold {
            call,
            reached: reached_tx,
            release: release_rx,
        });
        Held { reached, release }
    }

    async fn pause_if_held(&self, call: Call) {
        let hold = {
            let mut hold = self.hold.lock().unwrap();
            match hold.take() {
                Some(h) if h.call == call => Some(h),
                other => {
                    *hold = other;
                    None
                }
            }
        };
        if let Some(hold) = hold {
            hold.reached.send(()).unwrap();
            hold.release.await.unwrap();
        }
    }
}

#[async_trait]
impl SessionRows for Rows {
    async fn insert(&self, record: &Record) -> session_store::Result<bool> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let mut rows = self.rows.lock().unwrap();
        if rows.contains_key(&record.id) {
            return Ok(false);
        }
        rows.insert(record.id, record.clone());
        Ok(true)
    }

    async fn update(&self, record: &Record) -> session_store::Result<bool> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let updated = match self.rows.lock().unwrap().get_mut(&record.id) {
            Some(row) if row.expiry_date > OffsetDateTime::now_utc() => {
                *row = record.clone();
                true
            }
            _ => false,
        };
        self.pause_if_held(Call::Update).await;
        Ok(updated)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let row = self
            .row(id)
            .filter(|r| r.expiry_date > OffsetDateTime::now_utc());
        self.pause_if_held(Call::Load).await;
        Ok(row)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.rows.lock().unwrap().remove(id);
        Ok(())
    }
}

fn record(user: i64) -> Record {
    Record {
        id: Id::default(),
        data: [("user".to_owned(), serde_json::json!(user))].into(),
        expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(8),
    }
}

async fn created(sessions: &CachedSessions<Rows>, user: i64) -> Record {
    let mut record = record(user);
    sessions.create(&mut record).await.unwrap();
    record
}

#[tokio::test(start_paused = true)]
async fn a_session_in_use_is_read_from_memory() {
    let db = Rows::default();
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
    let db = Rows::default();
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
    assert_eq!(db.row(&record.id), Some(record));
}

#[tokio::test(start_paused = true)]
async fn a_changed_session_is_written_at_once() {
    let db = Rows::default();
    let sessions = CachedSessions::new(db.clone());
    let mut record = created(&sessions, 1).await;

    record.data.insert("user".to_owned(), serde_json::json!(2));
    sessions.save(&record).await.unwrap();
    assert_eq!(db.writes(), 2);
    assert_eq!(db.row(&record.id), Some(record));
}

#[tokio::test(start_paused = true)]
async fn a_deleted_session_is_gone() {
    let db = Rows::default();
    let sessions = CachedSessions::new(db.clone());
    let record = created(&sessions, 1).await;

    sessions.delete(&record.id).await.unwrap();
    assert_eq!(sessions.load(&record.id).await.unwrap(), None);
    assert_eq!(db.row(&record.id), None);
}

/// A request that read the session before the log-out and saves it after
/// (tower-sessions saves on the way out): changed or not, nothing returns.
#[tokio::test(start_paused = true)]
async fn a_save_after_a_log_out_does_not_bring_the_session_back() {
    let db = Rows::default();
    let sessions = CachedSessions::new(db.clone());
    let record = created(&sessions, 1).await;
    let in_flight = sessions.load(&record.id).await.unwrap().unwrap();

    sessions.delete(&record.id).await.unwrap();
    let mut slid = in_flight.clone();
    slid.expiry_date += time::Duration::seconds(1);
    sessions.save(&slid).await.unwrap();
    let mut changed = in_flight;
    changed
        .data
        .insert("seen".to_owned(), serde_json::json!(true));
    sessions.save(&changed).await.unwrap();

    assert_eq!(sessions.load(&record.id).await.unwrap(), None);
    assert_eq!(db.row(&record.id), None);
}

/// Log-in gives the session a new id (tower-sessions' `cycle_id`: delete the
/// old, create the new); a request still running with the old id cannot
/// revive it.
#[tokio::test(start_paused = true)]
async fn the_id_replaced_at_log_in_stays_dead() {
    let db = Rows::default();
    let sessions = CachedSessions::new(db.clone());
    let old = created(&sessions, 1).await;

    sessions.delete(&old.id).await.unwrap();
    let mut new = old.clone();
    new.id = Id::default();
    sessions.create(&mut new).await.unwrap();
    let mut stale = old.clone();
    stale
        .data
        .insert("seen".to_owned(), serde_json::json!(true));
    sessions.save(&stale).await.unwrap();

    assert_eq!(sessions.load(&old.id).await.unwrap(), None);
    assert_eq!(sessions.load(&new.id).await.unwrap(), Some(new));
}

/// A load that read the row just before a delete removed it, and gets the
/// lock back just after: it answers its request, but keeps no copy.
#[tokio::test(start_paused = true)]
async fn a_load_overlapping_a_delete_keeps_no_copy() {
    let db = Rows::default();
    // Created by another server: this one has no copy, so its load reads.
    let record = created(&CachedSessions::new(db.clone()), 1).await;
    let sessions = CachedSessions::new(db.clone());

    let held = db.hold_next(Call::Load);
    let load = tokio::spawn({
        let sessions = sessions.clone();
        async move { sessions.load(&record.id).await.unwrap() }
    });
    held.reached.await.unwrap();
    sessions.delete(&record.id).await.unwrap();
    held.release.send(()).unwrap();
    assert!(load.await.unwrap().is_some(), "read before the delete");

    let loads = db.loads();
    assert_eq!(sessions.load(&record.id).await.unwrap(), None);
    assert_eq!(db.loads(), loads + 1, "no copy was kept");
}

/// A save that wrote the row just before a delete removed it: no copy kept.
#[tokio::test(start_paused = true)]
async fn a_save_overlapping_a_delete_keeps_no_copy() {
    let db = Rows::default();
    let sessions = CachedSessions::new(db.clone());
    let mut record = created(&sessions, 1).await;
    record
        .data
        .insert("seen".to_owned(), serde_json::json!(true));

    let held = db.hold_next(Call::Update);
    let save = tokio::spawn({
        let (sessions, record) = (sessions.clone(), record.clone());
        async move { sessions.save(&record).await.unwrap() }
    });
    held.reached.await.unwrap();
    sessions.delete(&record.id).await.unwrap();
    held.release.send(()).unwrap();
    save.await.unwrap();

    assert_eq!(sessions.load(&record.id).await.unwrap(), None);
    assert_eq!(db.row(&record.id), None);
}

#[tokio::test(start_paused = true)]
async fn a_log_out_on_another_server_takes_effect_once_the_copy_is_no_longer_fresh() {
    let db = Rows::default();
    let here = CachedSessions::new(db.clone());
    let there = CachedSessions::new(db.clone());
    let record = created(&here, 1).await;
    assert!(there.load(&record.id).await.unwrap().is_some());

    here.delete(&record.id).await.unwrap();
    assert!(there.load(&record.id).await.unwrap().is_some());
    // A changed save there reaches the database, which refuses it.
    let mut changed = record.clone();
    changed
        .data
        .insert("seen".to_owned(), serde_json::json!(true));
    there.save(&changed).await.unwrap();
    assert_eq!(db.row(&record.id), None);
    assert_eq!(there.load(&record.id).await.unwrap(), None);

    let record = created(&here, 2).await;
    assert!(there.load(&record.id).await.unwrap().is_some());
    here.delete(&record.id).await.unwrap();
    tokio::time::advance(FRESH_FOR).await;
    assert_eq!(there.load(&record.id).await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn an_expired_copy_is_not_handed_out() {
    let db = Rows::default();
    let sessions = CachedSessions::new(db.clone());
    let mut record = created(&sessions, 1).await;
    record.expiry_date = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    // Goes to the database (the expiry moved back), which refuses it: the
    // session is over either way.
    sessions.save(&record).await.unwrap();

    assert_eq!(sessions.load(&record.id).await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn a_taken_id_is_drawn_again() {
    let db = Rows::default();
    let sessions = CachedSessions::new(db.clone());
    let first = created(&sessions, 1).await;
    let mut second = record(2);
    second.id = first.id;
    sessions.create(&mut second).await.unwrap();
    assert_ne!(second.id, first.id);
    assert_eq!(db.row(&first.id).unwrap().data, first.data);
}

#[tokio::test(start_paused = true)]
async fn memory_stays_bounded_with_many_sessions() {
    let db = Rows::default();
    let sessions = CachedSessions::new(db.clone());
    for user in 0..(SHARDS * MAX_PER_SHARD * 2) as i64 {
        created(&sessions, user).await;
    }
    let held: usize = sessions
        .inner
        .shards
        .iter()
        .map(|shard| shard.lock().unwrap().copies.len())
        .sum();
    assert!(held <= SHARDS * MAX_PER_SHARD, "{held} copies held");
}

/// Two instances of a fleet: one database (the rows), and — unless `redis`
/// is `None` — one Redis, under keys of this test's own.
fn fleet(rows: &Rows, redis: Option<&str>) -> [CachedSessions<Rows>; 2] {
    let (_, prefix) = crate::fleet::test_redis();
    std::array::from_fn(|_| match redis {
        Some(url) => CachedSessions::in_fleet(
            rows.clone(),
            EndedSessions::new(crate::fleet::FleetRedis::new(url, &prefix).unwrap()),
        ),
        None => CachedSessions::new(rows.clone()),
    })
}

fn redis_url() -> String {
    crate::fleet::test_redis().0
}

#[tokio::test]
async fn with_redis_a_log_out_on_one_instance_ends_the_session_on_the_others_at_once() {
    let rows = Rows::default();
    let [first, second] = fleet(&rows, Some(&redis_url()));
    let record = created(&first, 1).await;
    // The second instance holds a fresh copy and serves it from memory.
    assert!(second.load(&record.id).await.unwrap().is_some());
    let loads = rows.loads();
    assert!(second.load(&record.id).await.unwrap().is_some());
    assert_eq!(rows.loads(), loads);
    first.delete(&record.id).await.unwrap();
    // Not within FRESH_FOR: now.
    assert_eq!(second.load(&record.id).await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn without_redis_the_others_honour_a_log_out_once_their_copy_is_no_longer_fresh() {
    let rows = Rows::default();
    // Configured, but nothing answers there: each instance on its own.
    let [first, second] = fleet(&rows, Some("redis://127.0.0.1:1"));
    let record = created(&first, 1).await;
    assert!(second.load(&record.id).await.unwrap().is_some());
    first.delete(&record.id).await.unwrap();
    assert!(
        second.load(&record.id).await.unwrap().is_some(),
        "its copy is still fresh"
    );
    tokio::time::advance(FRESH_FOR).await;
    assert_eq!(second.load(&record.id).await.unwrap(), None);
    // The same as with no Redis configured at all.
    let [first, second] = fleet(&rows, None);
    let record = created(&first, 2).await;
    assert!(second.load(&record.id).await.unwrap().is_some());
    first.delete(&record.id).await.unwrap();
    assert!(second.load(&record.id).await.unwrap().is_some());
    tokio::time::advance(FRESH_FOR).await;
    assert_eq!(second.load(&record.id).await.unwrap(), None);
}
