//! [`App`]: the one state value every request shares (store, clock, credential cache,
//! configuration, the bundled WSDL), and [`AppConfig`], what the operator set.

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::auth::{AuthCache, AuthConfig};
use crate::clock::Clock;
use crate::domain::calendar::Calendar;
use crate::domain::cdv::CdvTable;
use crate::domain::collection::CollectionTables;
use crate::domain::promissory::PromissoryConfig;
use crate::engine::payouts::PayoutConfig;
use crate::store::{Db, DbError, Tx, holidays};
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
    /// Operator settings.
    pub config: AppConfig,
    /// Request ids for logs and internal-error faults.
    pub next_request_id: AtomicU64,
    /// Set when shutdown starts; new requests get `UNAVAILABLE`.
    pub shutting_down: AtomicBool,
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
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get());
        let config_calendar = config.calendar.clone();
        Arc::new(App {
            db,
            clock,
            auth_cache: AuthCache::new(),
            argon2_permits: Semaphore::new(permits),
            config,
            next_request_id: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
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
