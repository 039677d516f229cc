//! What bounds the server's resources against clients who never finish: the connection
//! registry ([`Connections`]: a cap on open connections, closing the oldest idle ones
//! first when descriptors or slots run out), the budget of request-body bytes held in
//! memory by all requests together ([`BodyBudget`]), and [`TimedIo`], the socket wrapper
//! that closes a connection whose peer stops reading its answers.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

/// hyper's own header-count limit (kept on its faster stack-allocated path).
pub const DEFAULT_MAX_HEADERS: usize = 100;

/// The bytes of request bodies held in memory by every request in flight together.
/// A request reserves its declared length (or, chunked, each piece as it arrives) and
/// gives it back when it is answered, so memory stays bounded however many clients
/// send bodies they never finish.
#[derive(Debug)]
pub struct BodyBudget {
    limit: usize,
    used: AtomicUsize,
}

impl BodyBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<BodyBudget> {
        Arc::new(BodyBudget {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes reserved right now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The configured limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A reservation of nothing, to grow with [`Reservation::grow`].
    pub fn empty(self: &Arc<Self>) -> Reservation {
        Reservation {
            budget: self.clone(),
            bytes: 0,
        }
    }
}

/// Bodies up to this size (every ordinary call) may use the whole budget; larger ones
/// only three quarters of it.
pub const SMALL_BODY: usize = 64 * 1024;

/// Bytes held against a [`BodyBudget`]; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<BodyBudget>,
    bytes: usize,
}

impl Reservation {
    /// Reserves `more` bytes; `false` (nothing reserved) when the budget has no room.
    pub fn grow(&mut self, more: usize) -> bool {
        if more == 0 {
            return true;
        }
        // A body past SMALL_BODY may use only three quarters of the budget, so clients
        // holding large bodies open never take the room ordinary calls need.
        let budget = &self.budget;
        let cap = if self.bytes.saturating_add(more) > SMALL_BODY {
            budget.limit - budget.limit / 4
        } else {
            budget.limit
        };
        let taken = budget
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(more).filter(|total| *total <= cap)
            });
        if taken.is_ok() {
            self.bytes += more;
        }
        taken.is_ok()
    }

    /// Bytes this reservation holds.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
        }
    }
}

/// One open connection as the registry sees it.
#[derive(Debug)]
struct Slot {
    /// Requests being handled on it right now (0: idle, or still sending headers).
    busy: Arc<AtomicUsize>,
    /// Told to close.
    close: Arc<Notify>,
}

/// The open connections, oldest first, with a cap.
#[derive(Debug)]
pub struct Connections {
    max: usize,
    open: Mutex<BTreeMap<u64, Slot>>,
    next: AtomicUsize,
}

/// A registered connection: counts its in-flight requests and removes itself from the
/// registry when dropped.
#[derive(Debug)]
pub struct Ticket {
    id: u64,
    registry: Arc<Connections>,
    /// Incremented while a request on this connection is being handled.
    pub busy: Arc<AtomicUsize>,
    /// Notified when the registry wants this connection closed.
    pub close: Arc<Notify>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

/// Marks a connection busy for as long as it lives.
#[derive(Debug)]
pub struct Busy(Arc<AtomicUsize>);

impl Busy {
    /// Marks `counter` busy.
    pub fn new(counter: &Arc<AtomicUsize>) -> Busy {
        counter.fetch_add(1, Ordering::AcqRel);
        Busy(counter.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Connections {
    /// A registry admitting at most `max` connections.
    pub fn new(max: usize) -> Arc<Connections> {
        Arc::new(Connections {
            max: max.max(1),
            open: Mutex::new(BTreeMap::new()),
            next: AtomicUsize::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Slot>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers a new connection. When the cap is reached, the oldest idle connection
    /// is told to close to make room; `None` when every open connection is busy.
    pub fn admit(self: &Arc<Self>) -> Option<Ticket> {
        let mut open = self.lock();
        if open.len() >= self.max {
            // Evict the oldest idle one (not yet told to close: it leaves the map when
            // its task ends, so remove it now to free the slot at once).
            let victim = open
                .iter()
                .find(|(_, slot)| slot.busy.load(Ordering::Acquire) == 0)
                .map(|(id, _)| *id)?;
            if let Some(slot) = open.remove(&victim) {
                slot.close.notify_one();
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) as u64;
        let busy = Arc::new(AtomicUsize::new(0));
        let close = Arc::new(Notify::new());
        open.insert(
            id,
            Slot {
                busy: busy.clone(),
                close: close.clone(),
            },
        );
        Some(Ticket {
            id,
            registry: self.clone(),
            busy,
            close,
        })
    }

    /// Tells up to `n` of the oldest idle connections to close (out of descriptors);
    /// returns how many.
    pub fn close_oldest_idle(&self, n: usize) -> usize {
        let mut open = self.lock();
        let victims: Vec<u64> = open
            .iter()
            .filter(|(_, slot)| slot.busy.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id)
            .take(n)
            .collect();
        for id in &victims {
            if let Some(slot) = open.remove(id) {
                slot.close.notify_one();
            }
        }
        victims.len()
    }
}

/// A socket whose writes must make progress: a write or flush that stays blocked (the
/// peer reads nothing, its receive window is full) for longer than the timeout fails
/// with `TimedOut`, and hyper then drops the connection and its buffers.
#[derive(Debug)]
pub struct TimedIo<T> {
    inner: T,
    timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> TimedIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T, timeout: Duration) -> TimedIo<T> {
        TimedIo {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// After the inner write returned `Pending`: arms the deadline if needed and fails
    /// once it has passed.
    fn check_stall<R>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        match polled {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let sleep = self.stalled.get_or_insert_with(|| {
                    Box::pin(tokio::time::sleep_until(Instant::now() + timeout))
                });
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the peer stopped reading the response",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

use std::future::Future as _;

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.check_stall(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.check_stall(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.check_stall(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.check_stall(cx, polled)
    }
}

/// The soft limit on open files of this process (Linux `/proc/self/limits`), if known.
pub fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    if soft == "unlimited" {
        return Some(usize::MAX);
    }
    soft.parse().ok()
}

/// The default connection cap: what the descriptor limit leaves after a reserve for
/// the store, logs and the listener, at most 4096 (each connection may hold up to
/// `--max-header-bytes` of buffer).
pub fn default_max_connections() -> usize {
    match open_files_limit() {
        Some(limit) => {
            let reserve = (limit / 8).max(32);
            limit.saturating_sub(reserve).clamp(16, 4096)
        }
        None => 1024,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_reserves_up_to_its_limit_and_returns_on_drop() {
        let budget = BodyBudget::new(100);
        let mut a = budget.empty();
        assert!(a.grow(60));
        let mut b = budget.empty();
        assert!(!b.grow(41), "past the limit");
        assert_eq!(b.bytes(), 0);
        assert!(b.grow(40));
        assert_eq!(budget.used(), 100);
        drop(a);
        assert_eq!(budget.used(), 40);
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn large_bodies_leave_a_quarter_of_the_budget_to_small_ones() {
        let budget = BodyBudget::new(1024 * 1024);
        let mut large = budget.empty();
        assert!(!large.grow(800 * 1024), "over three quarters");
        assert!(large.grow(768 * 1024));
        let mut more_large = budget.empty();
        assert!(!more_large.grow(100 * 1024));
        // Small calls still fit in the last quarter.
        let mut small: Vec<Reservation> = Vec::new();
        for _ in 0..4 {
            let mut r = budget.empty();
            assert!(r.grow(60 * 1024));
            small.push(r);
        }
        assert_eq!(budget.used(), 768 * 1024 + 240 * 1024);
    }

    #[test]
    fn registry_evicts_the_oldest_idle_connection_and_never_a_busy_one() {
        let registry = Connections::new(2);
        let first = registry.admit().expect("room");
        let second = registry.admit().expect("room");
        let _busy = Busy::new(&first.busy);
        // Full: the oldest idle (the second; the first is busy) is told to close.
        let third = registry.admit().expect("an idle one makes room");
        assert_eq!(registry.len(), 2);
        let _busy3 = Busy::new(&third.busy);
        // Both remaining are busy: no room.
        assert!(registry.admit().is_none());
        drop(second); // already removed; dropping it is harmless
        assert_eq!(registry.len(), 2);
        drop(first);
        assert_eq!(registry.len(), 1);
        assert!(registry.admit().is_some());
    }

    #[test]
    fn close_oldest_idle_skips_busy_connections() {
        let registry = Connections::new(10);
        let tickets: Vec<Ticket> = (0..4).map(|_| registry.admit().expect("room")).collect();
        let _busy = Busy::new(&tickets[0].busy);
        assert_eq!(registry.close_oldest_idle(2), 2);
        assert_eq!(registry.len(), 2);
        assert_eq!(registry.close_oldest_idle(5), 1, "only one idle one left");
    }

    #[test]
    fn default_cap_fits_the_descriptor_limit() {
        let cap = default_max_connections();
        assert!((16..=4096).contains(&cap));
        if let Some(limit) = open_files_limit() {
            assert!(cap < limit.max(17));
        }
    }
}
