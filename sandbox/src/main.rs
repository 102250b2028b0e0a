//! `cargo run -p sandbox [-- --reset]`: the vendor sandbox on its own.
//! `--reset` restores the seed data before serving.

use sandbox::{Config, Sandbox, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "sandbox=info".into()),
        )
        .init();
    let reset = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--reset") => true,
        Some(other) => {
            return Err(format!("unknown argument {other:?}; the only one is --reset").into())
        }
    };
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let sandbox = Sandbox::open(config, SystemClock).await?;
    if reset {
        sandbox.reset().await?;
        tracing::info!("restored the seed data");
    }
    tracing::info!(addr = %listener.local_addr()?, "vendor sandbox listening");
    sandbox
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
