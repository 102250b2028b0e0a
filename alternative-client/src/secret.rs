//! Values that must never be printed, logged or serialized by accident.
//!
//! Each is a newtype with a redacted `Debug`, no `Display` and no `Serialize`;
//! the one way to read it is `expose()`, which names the intent at the call site.

use std::fmt;
use std::sync::Arc;

macro_rules! secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        // `Arc<str>`: a copy handed to each request is a reference count,
        // not an allocation (the OAuth token is read on every mint).
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(Arc::from(value.into()))
            }

            /// The secret itself, for the one place that must send it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret!(
    /// The OAuth client secret the vendor issued to the merchant.
    ClientSecret
);
secret!(
    /// An OAuth access token: it lets its holder mint checkout tokens for any
    /// of the merchant's customers, so it never leaves the server.
    OAuthAccessToken
);
secret!(
    /// A checkout token. It goes to the browser of the customer it is scoped
    /// to — as a response body, never into logs or server-rendered HTML.
    CheckoutToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_is_redacted() {
        let secret = ClientSecret::new("demo_client_secret");
        let printed = format!("{secret:?} {:?}", Some(OAuthAccessToken::new("sbx_oat_x")));
        assert_eq!(
            printed,
            "ClientSecret([redacted]) Some(OAuthAccessToken([redacted]))"
        );
        assert_eq!(secret.expose(), "demo_client_secret");
    }
}
