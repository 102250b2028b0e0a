//! The embedded vendor sandbox lets exactly the site's origins call it from
//! the browser: the site at `localhost:PORT` too, and no other port's.
#![cfg(feature = "embedded-sandbox")]

use server::AllowedOrigins;

async fn allowed_origin(url: &str, origin: &str) -> Option<String> {
    let preflight = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{url}/checkout/v1/invoice"),
        )
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    preflight
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_embedded_sandbox_lets_in_exactly_the_sites_origins() {
    let config = sandbox::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..sandbox::Config::in_memory()
    };
    let site = AllowedOrigins::for_site(
        "127.0.0.1:4100".parse().unwrap(),
        &["https://shop.example".into()],
    );
    let (url, _sandbox) = server::start_embedded_sandbox(config, &site).await.unwrap();

    for own in [
        "http://127.0.0.1:4100",
        "http://localhost:4100",
        "https://shop.example",
    ] {
        assert_eq!(allowed_origin(&url, own).await.as_deref(), Some(own));
    }
    for other in [
        "http://127.0.0.1:3000",
        "http://localhost:3000",
        "https://evil.example",
    ] {
        assert_eq!(allowed_origin(&url, other).await, None, "{other}");
    }
}
