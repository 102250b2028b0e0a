//! Every mint reads the OAuth token from the cache, so a hit must cost no
//! allocation: the token is shared (`Arc<str>`), not copied. A global
//! allocator that counts proves it; it lives in this test binary alone.
//!
//! It counts the allocations of the thread that asks, not of the process:
//! the test harness's own thread allocates while a test runs (it once
//! added 4 to a process-wide count in CI), and those are not the cache's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use alternative_client::parts::TokenCache;
use alternative_client::{OAuthAccessToken, VendorError};
use futures::FutureExt;

struct Counting;

thread_local! {
    // `const`-initialised and without a destructor: reading it never
    // allocates, so the allocator may use it.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: a thread being torn down has no locals left to count in.
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

#[test]
fn a_cache_hit_allocates_nothing() {
    let cache = TokenCache::default();
    let fetched = cache
        .get(|| async {
            Ok::<_, VendorError>((
                OAuthAccessToken::new("sbx_oat_token"),
                Duration::from_secs(3600),
            ))
        })
        .now_or_never()
        .unwrap()
        .unwrap();

    // The count sees this thread's allocations: otherwise 0 proves nothing.
    let probe = allocations();
    drop(std::hint::black_box(Box::new(1_u8)));
    assert_eq!(allocations() - probe, 1);

    let before = allocations();
    for _ in 0..1000 {
        let hit = cache
            .get(|| async { unreachable!("a warm cache does not fetch") })
            .now_or_never()
            .unwrap()
            .unwrap();
        assert!(hit == fetched);
    }
    assert_eq!(allocations() - before, 0);
}
