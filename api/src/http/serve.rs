//! The connection layer: accepting connections, bounding them, and timing out clients that send slowly.
//!
//! - A request's headers must arrive within [`super::HttpLimits::header_timeout`] of the connection opening (or of
//!   the previous answer, on a kept-alive connection); then the connection is closed.
//! - A request's body must keep up a minimum average rate once a grace period has passed
//!   ([`super::HttpLimits::body_min_bytes_per_second`]); a body that falls behind ends with an error, which the
//!   handler reading it answers (408) and the connection is closed.
//! - At most [`super::HttpLimits::max_connections`] connections are open at once. A connection over the limit takes
//!   the place of the connection that has waited longest without a request under way (a client that opened a
//!   connection and sent nothing, or sent half a header); when every connection is answering a request, the new one
//!   is answered 503 and closed at once. A flood of idle or half-sent connections therefore never keeps out a client
//!   that sends its request promptly, such as a health probe.

use super::AppState;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use http_body::{Body as HttpBody, Frame, SizeHint};
use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;
use tower::ServiceExt;

/// Serves the router on a listener until `shutdown` completes, telling each request its peer's address. The
/// connection limits are the state's.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.inner.limits.clone();
    let table = Arc::new(Connections::new(limits.max_connections));
    let stopping = Arc::new(Notify::new());
    let mut shutdown = std::pin::pin!(shutdown);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024)
        .keep_alive(true);
    let builder = Arc::new(builder);
    let pace = Pace {
        grace: limits.body_grace,
        min_bytes_per_second: limits.body_min_bytes_per_second,
    };
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before it was taken: wait a little, go on.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = table.open() else {
            tracing::debug!(%peer, "connection refused: every connection is answering a request");
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let builder = builder.clone();
        let stopping = stopping.clone();
        let table_for_service = table.clone();
        let id = slot.id;
        let stream = Lingering {
            stream: Some(stream),
            linger: Arc::new(AtomicBool::new(false)),
        };
        let linger = stream.linger.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let router = router.clone();
                let table = table_for_service.clone();
                let linger = linger.clone();
                table.busy(id);
                async move {
                    let (mut parts, body) = request.into_parts();
                    parts.extensions.insert(ConnectInfo(peer));
                    let body = Body::new(Paced::new(body, pace));
                    let response = router.oneshot(axum::extract::Request::from_parts(parts, body)).await;
                    if let Ok(response) = &response
                        && response
                            .headers()
                            .get(axum::http::header::CONNECTION)
                            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
                    {
                        // Answered before its body was read: the client may still be sending it.
                        linger.store(true, Ordering::Relaxed);
                    }
                    table.idle(id);
                    response
                }
            });
            let connection = builder
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = slot.evicted.notified() => {}
                () = stopping.notified() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(10), connection).await;
                }
            }
            drop(slot);
        });
    }
    state.close_sockets();
    stopping.notify_waiters();
    // Requests under way finish (up to their own time limit), as with a graceful shutdown.
    let deadline = Instant::now() + limits.request_timeout + Duration::from_secs(1);
    while table.open_count() > 0 && Instant::now() < deadline {
        stopping.notify_waiters();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The answer to a connection over the limit: 503, closed.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    const BODY: &str = "{\"errors\":[{\"message\":\"the server has too many open connections: try again in a moment\",\"extensions\":{\"code\":\"UNAVAILABLE\"}}]}";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_millis(200), stream.write_all(answer.as_bytes())).await;
}

/// A connection's stream. When the answer was sent before the request's body was read (a refusal), closing at once
/// would reset the connection while the client is still sending, and the client could lose the answer: the stream is
/// then read and discarded for a moment (at most 2 s and 1 MB) before it is closed.
struct Lingering {
    stream: Option<tokio::net::TcpStream>,
    linger: Arc<AtomicBool>,
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(mut stream) = self.stream.take() else { return };
        if !self.linger.load(Ordering::Relaxed) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let _ = stream.shutdown().await;
            let mut buffer = [0u8; 16 * 1024];
            let mut discarded = 0usize;
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while discarded < 1024 * 1024 {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => discarded += n,
                    }
                }
            })
            .await;
        });
    }
}

impl Lingering {
    fn pinned(self: Pin<&mut Self>) -> Pin<&mut tokio::net::TcpStream> {
        Pin::new(self.get_mut().stream.as_mut().expect("an open stream"))
    }
}

impl tokio::io::AsyncRead for Lingering {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.pinned().poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Lingering {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.pinned().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.pinned().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.pinned().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.pinned().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }
}

/// The open connections: which are answering a request, and since when the others have waited for one.
struct Connections {
    max: usize,
    next: AtomicU64,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    open: HashMap<u64, Entry>,
    /// Connections without a request under way, oldest first: (since, id).
    waiting: BTreeSet<(Instant, u64)>,
}

struct Entry {
    waiting_since: Option<Instant>,
    evicted: Arc<Notify>,
}

/// A connection's place; gives it back when dropped.
struct Slot {
    id: u64,
    evicted: Arc<Notify>,
    table: Arc<Connections>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = self.table.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = table.open.remove(&self.id)
            && let Some(since) = entry.waiting_since
        {
            table.waiting.remove(&(since, self.id));
        }
    }
}

impl Connections {
    fn new(max: usize) -> Self {
        Connections {
            max: max.max(1),
            next: AtomicU64::new(0),
            table: Mutex::new(Table::default()),
        }
    }

    /// A place for a new connection, taken from the longest-waiting connection without a request when all are
    /// taken; `None` when every connection is answering a request.
    fn open(self: &Arc<Self>) -> Option<Slot> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let evicted = Arc::new(Notify::new());
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if table.open.len() >= self.max {
            let oldest = table.waiting.pop_first()?;
            if let Some(entry) = table.open.remove(&oldest.1) {
                entry.evicted.notify_one();
            }
        }
        table.open.insert(
            id,
            Entry {
                waiting_since: Some(now),
                evicted: evicted.clone(),
            },
        );
        table.waiting.insert((now, id));
        Some(Slot {
            id,
            evicted,
            table: self.clone(),
        })
    }

    fn busy(&self, id: u64) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let Some(since) = table.open.get_mut(&id).and_then(|e| e.waiting_since.take()) else {
            return;
        };
        table.waiting.remove(&(since, id));
    }

    fn idle(&self, id: u64) {
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = table.open.get_mut(&id) else { return };
        if entry.waiting_since.is_none() {
            entry.waiting_since = Some(now);
            table.waiting.insert((now, id));
        }
    }

    fn open_count(&self) -> usize {
        self.table.lock().unwrap_or_else(|e| e.into_inner()).open.len()
    }
}

/// The pace a request body must keep.
#[derive(Debug, Clone, Copy)]
struct Pace {
    grace: Duration,
    min_bytes_per_second: u64,
}

/// A request body that fails once it falls behind its pace: after the grace period, the bytes received must keep up
/// with the minimum rate since the request began.
struct Paced {
    inner: hyper::body::Incoming,
    started: Instant,
    received: u64,
    pace: Pace,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// The error of a body that came too slowly (its message is what the handler reports).
#[derive(Debug)]
pub struct TooSlow;

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body arrived too slowly")
    }
}

impl std::error::Error for TooSlow {}

/// Whether reading a body failed because it came too slowly.
pub fn is_too_slow(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<TooSlow>() {
            return true;
        }
        source = error.source();
    }
    false
}

impl Paced {
    fn new(inner: hyper::body::Incoming, pace: Pace) -> Self {
        Paced {
            inner,
            started: Instant::now(),
            received: 0,
            pace,
            timer: None,
        }
    }

    /// When the body falls behind if nothing more arrives.
    fn deadline(&self) -> Instant {
        let rate = self.pace.min_bytes_per_second.max(1);
        self.started + self.pace.grace + Duration::from_millis(self.received.saturating_mul(1000) / rate)
    }
}

impl HttpBody for Paced {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                this.timer = None;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let deadline = this.deadline();
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(TooSlow)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_connection_takes_the_place_of_the_longest_waiting() {
        let table = Arc::new(Connections::new(2));
        let first = table.open().expect("a place");
        tokio::time::sleep(Duration::from_millis(2)).await;
        let second = table.open().expect("a place");
        table.busy(second.id);
        let third = table.open().expect("the first connection's place");
        assert_eq!(table.open_count(), 2);
        // The first was told to go; the second is answering a request and kept.
        tokio::time::timeout(Duration::from_millis(100), first.evicted.notified())
            .await
            .expect("the longest-waiting connection is evicted");
        table.busy(third.id);
        assert!(
            table.open().is_none(),
            "every connection answers a request: the newcomer is refused"
        );
        drop(second);
        assert!(table.open().is_some());
    }
}
