//! The entry point of the `server_fn_forms` fuzz target (`app/fuzz/`,
//! feature `fuzzing`, which only that target and `scripts/test` turn on):
//! arbitrary bytes as the form body (`application/x-www-form-urlencoded`) of
//! each server function (the first byte picks which), read by the server_fn
//! code Leptos runs for `PostUrl` (`FromReq`: the body as UTF-8, then
//! `serde_qs` with its settings), into the structs `#[server]` generated for
//! the app (`invoice_summary`'s and `reconcile_payment`'s have the same one
//! field as the mint's).

use crate::api::{AppError, Login, Logout, MintCheckoutToken, MyInvoices, Whoami};
use bytes::Bytes;
use serde::Serialize;
use server_fn::codec::{FromReq, Json, PostUrl};
use server_fn::{ContentType, Http, ServerFn};

/// The app's server functions take their arguments as a `PostUrl` form: if
/// one changes encoding, this stops compiling and the target needs updating.
const _: fn() = || {
    fn same<T>(_: std::marker::PhantomData<T>, _: std::marker::PhantomData<T>) {}
    type Form = Http<PostUrl, Json>;
    same(
        std::marker::PhantomData::<<Login as ServerFn>::Protocol>,
        std::marker::PhantomData::<Form>,
    );
    same(
        std::marker::PhantomData::<<Logout as ServerFn>::Protocol>,
        std::marker::PhantomData::<Form>,
    );
    same(
        std::marker::PhantomData::<<MintCheckoutToken as ServerFn>::Protocol>,
        std::marker::PhantomData::<Form>,
    );
};

/// The server's reading of a `PostUrl` body into `T`.
fn decode<T>(body: &[u8]) -> Result<T, AppError>
where
    T: FromReq<PostUrl, http::Request<Bytes>, AppError>,
{
    let request = http::Request::post("/api/fn")
        .header(http::header::CONTENT_TYPE, PostUrl::CONTENT_TYPE)
        .body(Bytes::copy_from_slice(body))
        .expect("a request");
    futures::executor::block_on(T::from_req(request))
}

/// What the browser's side sends for `value` (`IntoReq` for `PostUrl`).
fn encode<T: Serialize>(value: &T) -> String {
    serde_qs::to_string(value).expect("arguments encode")
}

/// Any bytes as a server function's form body: the first byte picks which.
pub fn server_fn_form(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 4 {
        0 => {
            if let Ok(login) = decode::<Login>(body) {
                // Whatever the server accepts, the page's own form could send.
                let again = decode::<Login>(encode(&login).as_bytes()).expect("a round trip");
                assert_eq!((again.email, again.password), (login.email, login.password));
            }
        }
        1 => {
            let _ = decode::<Logout>(body);
        }
        2 => {
            if let Ok(args) = decode::<MintCheckoutToken>(body) {
                let again =
                    decode::<MintCheckoutToken>(encode(&args).as_bytes()).expect("a round trip");
                assert_eq!(again.invoice_id, args.invoice_id);
                assert_eq!(again.refused, args.refused);
            }
        }
        _ => {
            let _ = decode::<Whoami>(body);
            let _ = decode::<MyInvoices>(body);
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every input the fuzzer kept (`app/fuzz/corpus/`), replayed as an
    /// ordinary test: what fuzzing found stays covered without a sanitizer
    /// build (real fuzzing: `scripts/fuzz`, `scripts/chaos long`).
    #[test]
    fn the_committed_corpus_replays_without_a_failure() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/server_fn_forms");
        let mut replayed = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            super::server_fn_form(&std::fs::read(entry.unwrap().path()).unwrap());
            replayed += 1;
        }
        assert!(replayed > 100, "only {replayed} inputs");
    }
}
