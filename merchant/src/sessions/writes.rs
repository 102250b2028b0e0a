//! What one request did to sessions, so that its answer sets the session
//! cookie only for that (`server`'s session-cookie guard).
//!
//! tower-sessions sets the cookie whenever the request changed its session
//! — here on every use, since reading the user slides the expiry — and
//! whether or not the store kept the save. A request still running when
//! another tab logged in again (or logged out) would hand the browser the
//! replaced id; the browser keeps the last cookie it is given, and the
//! customer finds themselves logged out. So the store notes, for the
//! request it runs in, which session it created or saved as live and
//! whether it deleted one; the guard passes only cookies that match.
//!
//! The note is a task-local set around the request: writes made on other
//! tasks (a page's resources) are not seen, which can only drop a cookie,
//! never pass a wrong one.

use std::cell::RefCell;
use std::future::Future;

use tower_sessions::session::Id;

tokio::task_local! {
    static WRITES: RefCell<Writes>;
}

/// What a request's own session writes left behind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Writes {
    /// The session it created, or saved while the session was live — and
    /// did not delete after.
    pub live: Option<Id>,
    /// It deleted a session: a log-out (or the old id, at log-in).
    pub ended: bool,
}

/// Runs `work`, noting the session writes it makes on its own task.
pub async fn recording_writes<F: Future>(work: F) -> (F::Output, Writes) {
    WRITES
        .scope(RefCell::default(), async move {
            let output = work.await;
            (output, WRITES.with(RefCell::take))
        })
        .await
}

/// Notes a write, if a request is recording them.
pub(super) fn note(change: impl FnOnce(&mut Writes)) {
    let _ = WRITES.try_with(|writes| change(&mut writes.borrow_mut()));
}

/// `id` was created, or saved while live.
pub(super) fn kept(id: Id) {
    note(|writes| writes.live = Some(id));
}

/// `id` was not saved (deleted, replaced or expired meanwhile), or was deleted.
pub(super) fn gone(id: Id, deleted: bool) {
    note(|writes| {
        if writes.live == Some(id) {
            writes.live = None;
        }
        writes.ended |= deleted;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_are_noted_only_for_the_request_that_made_them() {
        let (a, b) = (Id::default(), Id::default());
        let ((), writes) = recording_writes(async {
            kept(a);
            gone(b, false);
        })
        .await;
        assert_eq!(
            writes,
            Writes {
                live: Some(a),
                ended: false
            }
        );
        let ((), writes) = recording_writes(async {
            kept(a);
            gone(a, true);
        })
        .await;
        assert_eq!(
            writes,
            Writes {
                live: None,
                ended: true
            }
        );
        // Outside any request: nothing noted, nothing fails.
        kept(a);
        // Another task's writes are not this request's.
        let ((), writes) = recording_writes(async {
            tokio::spawn(async move { kept(b) }).await.unwrap();
        })
        .await;
        assert_eq!(writes, Writes::default());
    }
}
