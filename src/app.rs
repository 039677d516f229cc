//! [`App`]: the one state value every request shares (store, clock, credential cache,
//! configuration, the bundled WSDL), and [`AppConfig`], what the operator set.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::auth::{AuthCache, AuthConfig, Lockout};
use crate::clock::Clock;
use crate::domain::calendar::Calendar;
use crate::domain::cdv::CdvTable;
use crate::domain::collection::CollectionTables;
use crate::domain::promissory::PromissoryConfig;
use crate::engine::payouts::PayoutConfig;
use crate::store::{Db, DbError, Tx, holidays};
use crate::wire::guard::{BodyBudget, Connections};
use crate::wire::xml::XmlLimits;

/// The bundled WSDL, served with only its `soap:address` locations rewritten.
pub const WSDL: &str = include_str!("../wsdl/allps.wsdl");

/// Operator settings that shape request handling.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The SOAP endpoint path (default `/allps`).
    pub path: String,
    /// The public URL written into the served WSDL; `None` derives it from `Host`.
    pub public_url: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// XML bounds.
    pub limits: XmlLimits,
    /// Lockout and sessions.
    pub auth: AuthConfig,
    /// The South African business calendar (bundled holidays, or the operator's file).
    pub calendar: Calendar,
    /// The CDV parameters (bundled, or the operator's file).
    pub cdv: CdvTable,
    /// How long a client may take to send a request's headers, counted from when the
    /// server starts waiting for them; an idle keep-alive connection is closed after it
    /// too. Silent close, no response (hyper's behaviour).
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's whole body once its headers are
    /// in; after it the request is answered `REQUEST_TIMEOUT` (HTTP 408).
    pub body_read_timeout: Duration,
    /// How long shutdown waits for in-flight requests before closing the store anyway.
    pub drain_timeout: Duration,
    /// How long writing a response may stay blocked (the peer reads nothing) before the
    /// connection is closed.
    pub write_timeout: Duration,
    /// Most connections open at once (past it the oldest idle one is closed, or the new
    /// one is answered 503 with Retry-After).
    pub max_connections: usize,
    /// Most request-body bytes held in memory by all requests together (past it a
    /// request is answered `UNAVAILABLE`, HTTP 503 with Retry-After).
    pub max_body_memory: usize,
    /// Largest request head (request line and headers), in bytes (431 above it).
    pub max_header_bytes: usize,
    /// Most header fields in one request (431 above it).
    pub max_headers: usize,
    /// Password checks (argon2) running at once.
    pub argon2_workers: usize,
    /// Password checks allowed to wait for a worker; past it a credential call is
    /// answered `UNAVAILABLE` at once.
    pub argon2_queue: usize,
    /// HTTP status of SOAP 1.2 Sender (client) faults: 400 (SOAP 1.2 HTTP binding)
    /// or 500 (what WCF clients need to read the fault body).
    pub soap12_sender_status: u16,
    /// Payout limits, card BINs, processor timings and simulator rules.
    pub payouts: PayoutConfig,
    /// Promissory-note rules: lead days, tracking limits, instalment limit,
    /// registration delay (defaults documented on [`PromissoryConfig`]).
    pub promissory: PromissoryConfig,
    /// The collection engine's data: debtor banks and stream timetable, unpaid
    /// reason codes (bundled, or the operator's files).
    pub collections: CollectionTables,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            path: "/allps".into(),
            public_url: None,
            max_body_bytes: 4 * 1024 * 1024,
            limits: XmlLimits::default(),
            auth: AuthConfig::default(),
            calendar: Calendar::south_africa(),
            cdv: CdvTable::bundled().clone(),
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
            max_connections: crate::wire::guard::default_max_connections(),
            max_body_memory: 128 * 1024 * 1024,
            max_header_bytes: 32 * 1024,
            max_headers: crate::wire::guard::DEFAULT_MAX_HEADERS,
            argon2_workers: default_argon2_workers(),
            argon2_queue: 32,
            soap12_sender_status: 400,
            payouts: PayoutConfig::default(),
            promissory: PromissoryConfig::default(),
            collections: CollectionTables::default(),
        }
    }
}

/// Shared state; cheap to clone through its `Arc`.
pub struct App {
    /// The store.
    pub db: Db,
    /// The injected clock.
    pub clock: Arc<dyn Clock>,
    /// Verified credentials.
    pub auth_cache: AuthCache,
    /// Bounds concurrent argon2 verifications (each takes ~19 MiB and tens of ms).
    pub argon2_permits: Semaphore,
    /// The last readiness answer (`/health`) and when it was taken.
    pub health: std::sync::Mutex<Option<(std::time::Instant, bool)>>,
    /// Real password verifications run (not counting dummy ones), for tests and stats.
    pub password_checks: AtomicU64,
    /// The lockout's per-user attempt gate (check and count in one step).
    pub lockout: Lockout,
    /// Password checks waiting for a permit now (bounded by `argon2_queue`).
    pub argon2_waiting: AtomicUsize,
    /// The open connections and their cap.
    pub connections: Arc<Connections>,
    /// Request-body bytes held in memory by all requests in flight.
    pub body_budget: Arc<BodyBudget>,
    /// Operator settings.
    pub config: AppConfig,
    /// Request ids for logs and internal-error faults.
    pub next_request_id: AtomicU64,
    /// Set when shutdown starts; new requests get `UNAVAILABLE`.
    pub shutting_down: AtomicBool,
    /// Request counters and latency histograms for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// The configured calendar plus the holidays declared at run time, with the
    /// `calendar_version` it was built from (see [`App::calendar`]).
    calendar_cache: RwLock<(i64, Arc<Calendar>)>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("db", &self.db)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Builds the shared state.
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: AppConfig) -> Arc<App> {
        let config_calendar = config.calendar.clone();
        Arc::new(App {
            db,
            clock,
            auth_cache: AuthCache::new(),
            argon2_permits: Semaphore::new(config.argon2_workers.max(1)),
            argon2_waiting: AtomicUsize::new(0),
            lockout: Lockout::default(),
            password_checks: AtomicU64::new(0),
            health: std::sync::Mutex::new(None),
            connections: Connections::new(config.max_connections),
            body_budget: BodyBudget::new(config.max_body_memory),
            config,
            next_request_id: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            metrics: crate::metrics::Metrics::new(),
            calendar_cache: RwLock::new((0, Arc::new(config_calendar))),
        })
    }

    /// The business calendar for this transaction: the configured one plus every holiday
    /// declared at run time (`admin holiday add`), effective on the next call with no
    /// restart. One primary-key read of `calendar_version` per call; the calendar is
    /// rebuilt only when the version changed.
    ///
    /// # Errors
    ///
    /// The store failing.
    pub fn calendar(&self, tx: &Tx<'_>) -> Result<Arc<Calendar>, DbError> {
        let version = holidays::version(tx)?;
        {
            let cached = self
                .calendar_cache
                .read()
                .unwrap_or_else(|e| e.into_inner());
            if cached.0 == version {
                return Ok(Arc::clone(&cached.1));
            }
        }
        let calendar = Arc::new(self.config.calendar.with_more_declared(&holidays::all(tx)?));
        let mut cached = self
            .calendar_cache
            .write()
            .unwrap_or_else(|e| e.into_inner());
        *cached = (version, Arc::clone(&calendar));
        Ok(calendar)
    }
}

/// Password-check workers by default: one per core, at least one, at most four (each
/// argon2 verification holds ~19 MiB).
pub fn default_argon2_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
}
