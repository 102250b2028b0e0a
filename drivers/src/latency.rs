//! A TCP line that answers late on purpose, for the drills: it sits between
//! the clients and a server (the fleet's Redis) and holds every byte the
//! server sends for a delay the drill sets while it runs. Each chunk is
//! held for the delay from when it arrived, not after the one before it,
//! so a slow line is late but not narrow: what it carries per second does
//! not fall, as with a server that is busy or far away.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::Error;

/// The line; dropping it closes every connection it carries.
pub struct SlowLine {
    delay_ms: Arc<AtomicU64>,
    accepting: tokio::task::JoinHandle<()>,
}

impl SlowLine {
    /// Listens on `127.0.0.1:listen` and carries each connection to
    /// `127.0.0.1:upstream`, with no delay until one is set. A client
    /// whose server cannot be reached (stopped) is disconnected at once.
    pub async fn start(listen: u16, upstream: u16) -> Result<Self, Error> {
        let listener = TcpListener::bind(("127.0.0.1", listen)).await?;
        let delay_ms = Arc::new(AtomicU64::new(0));
        let accepting = tokio::spawn(accept(listener, upstream, delay_ms.clone()));
        Ok(Self {
            delay_ms,
            accepting,
        })
    }

    /// From now on, every byte from the server arrives `delay` late.
    pub fn set_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, Ordering::Relaxed);
    }
}

impl Drop for SlowLine {
    fn drop(&mut self) {
        // The connections are the accepting task's: they end with it.
        self.accepting.abort();
    }
}

async fn accept(listener: TcpListener, upstream: u16, delay_ms: Arc<AtomicU64>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((client, _)) = accepted {
                    connections.spawn(carry(client, upstream, delay_ms.clone()));
                }
            }
            Some(_) = connections.join_next() => {}
        }
    }
}

/// Carries one connection both ways until either side closes it: the
/// client's bytes at once, the server's each held until its time.
async fn carry(client: TcpStream, upstream: u16, delay_ms: Arc<AtomicU64>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let (held, mut due) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let hold = async move {
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(n @ 1..) = server_read.read(&mut buffer).await {
            let delay = Duration::from_millis(delay_ms.load(Ordering::Relaxed));
            if held
                .send((Instant::now() + delay, buffer[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
    };
    let deliver = async move {
        while let Some((at, bytes)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            if client_write.write_all(&bytes).await.is_err() {
                break;
            }
        }
    };
    let send = tokio::io::copy(&mut client_read, &mut server_write);
    // Whichever way ends first ends the connection: the others are dropped.
    tokio::select! {
        _ = send => {}
        () = async { tokio::join!(hold, deliver); } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server behind the line: with a delay set, the answer comes
    /// no sooner than the delay, and two sent together come back together
    /// (late, not one after the other).
    #[tokio::test]
    async fn answers_arrive_late_by_the_delay_and_not_one_after_another() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_port = echo.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut stream, _) = echo.accept().await.unwrap();
            let mut buffer = [0; 16];
            while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                stream.write_all(&buffer[..n]).await.unwrap();
            }
        });
        let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let line_port = free.local_addr().unwrap().port();
        drop(free);
        let line = SlowLine::start(line_port, echo_port).await.unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", line_port)).await.unwrap();
        let mut answer = [0; 1];

        client.write_all(b"a").await.unwrap();
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"a");

        line.set_delay(Duration::from_millis(500));
        let sent = std::time::Instant::now();
        client.write_all(b"b").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        client.write_all(b"c").await.unwrap();
        client.read_exact(&mut answer).await.unwrap();
        let first = sent.elapsed();
        client.read_exact(&mut answer).await.unwrap();
        let second = sent.elapsed();
        assert_eq!(&answer, b"c");
        assert!(first >= Duration::from_millis(500), "{first:?}");
        // Held from its own arrival: about 550 ms after "b" was sent; one
        // after the other, it would be at least 950.
        assert!(second < Duration::from_millis(900), "{second:?}");
    }
}
