//! Every mint reads the OAuth token from the cache, so a hit must cost no
//! allocation: the token is shared (`Arc<str>`), not copied. A global
//! allocator that counts proves it; it lives in this test binary alone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alternative_client::parts::TokenCache;
use alternative_client::{OAuthAccessToken, VendorError};
use futures::FutureExt;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
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

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..1000 {
        let hit = cache
            .get(|| async { unreachable!("a warm cache does not fetch") })
            .now_or_never()
            .unwrap()
            .unwrap();
        assert!(hit == fetched);
    }
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 0);
}
