//! The command line: `serve`, `admin`, `replay` and `process`. Every flag has an
//! environment variable. Parsing lives here (and in the library) so tests can check it.

pub mod admin;
pub mod fixtures;
pub mod replay;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand};

use crate::app::{App, AppConfig};
use crate::auth::AuthConfig;
use crate::clock::{Clock, ManualClock, SystemClock, format_timestamp, parse_timestamp};
use crate::domain::calendar::Calendar;
use crate::domain::cdv::CdvTable;
use crate::domain::collection::CollectionTables;
use crate::domain::debicheck::DebiCheckConfig;
use crate::domain::promissory::PromissoryConfig;
use crate::engine::payouts::PayoutArgs;
use crate::engine::processor::{Processor, default_gateway};
use crate::store::{self, Db, DbOptions};
use crate::wire::xml::XmlLimits;

/// allps-ws: the Allps-i web services (SOAP 1.1 / 1.2) over an embedded SQLite store.
#[derive(Debug, Parser)]
#[command(name = "allps-ws", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SOAP server.
    Serve(Box<ServeArgs>),
    // `admin` and `replay` take their help from their argument structs (a doc comment
    // here would replace their long help).
    #[allow(missing_docs)]
    Admin(crate::cli::admin::AdminArgs),
    #[allow(missing_docs)]
    Replay(crate::cli::replay::ReplayArgs),
    /// Run the jobs due by a given time (payouts, wallets, collections, DebiCheck mandates), then exit.
    Process(Box<ProcessArgs>),
}

/// The console's port under `serve --demo` when `--console-listen` is not given.
pub const DEMO_CONSOLE_PORT: u16 = 8081;

/// `allps-ws serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ALLPS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// SQLite database file (created and migrated if needed), or a `postgres://` URL.
    #[arg(long, env = "ALLPS_DB", default_value = "allps.db")]
    pub db: PathBuf,
    /// URL written into the served WSDL's soap:address (default: from the request's Host).
    #[arg(long, env = "ALLPS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Path of the SOAP endpoint.
    #[arg(long, env = "ALLPS_PATH", default_value = "/allps")]
    pub path: String,
    /// Create organisation DEMO, branch BR001 and user demo / demo-password if missing,
    /// and the console's platform operator `operator` / `operator-password`; the console
    /// listens on 127.0.0.1:8081 unless --console-listen says otherwise.
    #[arg(long, env = "ALLPS_DEMO")]
    pub demo: bool,
    /// Address of the operator console (its own listener; off unless given, or --demo).
    #[arg(long, env = "ALLPS_CONSOLE_LISTEN")]
    pub console_listen: Option<SocketAddr>,
    /// Minutes an operator's console session lives after login.
    #[arg(long, env = "ALLPS_CONSOLE_SESSION_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub console_session_minutes: u64,
    /// Mark the console's session cookie Secure and send HSTS: set it when the console is
    /// reached over TLS (e.g. behind a TLS-terminating proxy).
    #[arg(long, env = "ALLPS_CONSOLE_SECURE_COOKIES")]
    pub console_secure_cookies: bool,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `allps_ws=debug`.
    #[arg(long, env = "ALLPS_LOG", default_value = "info")]
    pub log_level: String,
    /// Log format.
    #[arg(long, env = "ALLPS_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Largest request body in bytes (413 above it).
    #[arg(long, env = "ALLPS_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Deepest element nesting.
    #[arg(long, env = "ALLPS_MAX_DEPTH", default_value_t = XmlLimits::default().max_depth)]
    pub max_depth: usize,
    /// Most elements in one request.
    #[arg(long, env = "ALLPS_MAX_ELEMENTS", default_value_t = XmlLimits::default().max_elements)]
    pub max_elements: usize,
    /// Most attributes on one element.
    #[arg(long, env = "ALLPS_MAX_ATTRIBUTES", default_value_t = XmlLimits::default().max_attributes)]
    pub max_attributes: usize,
    /// Longest text of one element, in bytes.
    #[arg(long, env = "ALLPS_MAX_TEXT_BYTES", default_value_t = XmlLimits::default().max_text_bytes)]
    pub max_text_bytes: usize,
    /// Seconds a client may take to send a request's headers (also how long an idle
    /// keep-alive connection is kept); the connection is closed after it.
    #[arg(long, env = "ALLPS_HEADER_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,
    /// Seconds a client may take to send a request's body (408 REQUEST_TIMEOUT after it).
    #[arg(long, env = "ALLPS_BODY_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,
    /// Seconds shutdown waits for in-flight requests before closing the store anyway.
    #[arg(long, env = "ALLPS_DRAIN_TIMEOUT_SECS", default_value_t = 30)]
    pub drain_timeout_secs: u64,
    /// Seconds writing a response may stay blocked because the client reads nothing
    /// (e.g. it pipelines requests and never reads); the connection is closed after it.
    #[arg(long, env = "ALLPS_WRITE_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub write_timeout_secs: u64,
    /// Most open connections (default: what the open-files limit leaves, at most 4096).
    /// Past it the oldest idle connection is closed, or the new one gets 503 + Retry-After.
    #[arg(long, env = "ALLPS_MAX_CONNECTIONS", default_value_t = crate::wire::guard::default_max_connections(), value_parser = clap::value_parser!(u64).range(1..).map(|n| n as usize))]
    pub max_connections: usize,
    /// Most request-body bytes held in memory by all requests together (past it:
    /// UNAVAILABLE, HTTP 503 with Retry-After).
    #[arg(long, env = "ALLPS_MAX_BODY_MEMORY_BYTES", default_value_t = AppConfig::default().max_body_memory)]
    pub max_body_memory_bytes: usize,
    /// Largest request line plus headers, in bytes (431 above it).
    #[arg(long, env = "ALLPS_MAX_HEADER_BYTES", default_value_t = AppConfig::default().max_header_bytes, value_parser = clap::value_parser!(u64).range(1024..).map(|n| n as usize))]
    pub max_header_bytes: usize,
    /// Most header fields in one request (431 above it).
    #[arg(long, env = "ALLPS_MAX_HEADERS", default_value_t = AppConfig::default().max_headers, value_parser = clap::value_parser!(u64).range(8..).map(|n| n as usize))]
    pub max_headers: usize,
    /// Password checks (argon2) run at once (default: one per core, at most four).
    #[arg(long, env = "ALLPS_ARGON2_WORKERS", default_value_t = crate::app::default_argon2_workers(), value_parser = clap::value_parser!(u64).range(1..).map(|n| n as usize))]
    pub argon2_workers: usize,
    /// Password checks that may wait for a worker; past it a credential call gets
    /// UNAVAILABLE (HTTP 503) at once. Session and cached callers never wait.
    #[arg(long, env = "ALLPS_ARGON2_QUEUE", default_value_t = AppConfig::default().argon2_queue)]
    pub argon2_queue: usize,
    /// HTTP status of SOAP 1.2 Sender faults: 400 (the SOAP 1.2 HTTP binding) or 500
    /// (WCF clients read a fault body only from a 500).
    #[arg(long, env = "ALLPS_SOAP12_SENDER_STATUS", default_value_t = 400, value_parser = clap::builder::PossibleValuesParser::new(["400", "500"]).map(|s| s.parse::<u16>().unwrap_or(400)))]
    pub soap12_sender_status: u16,
    /// Failed password attempts in a row that lock a user (0 never locks).
    #[arg(long, env = "ALLPS_LOCKOUT_THRESHOLD", default_value_t = 5)]
    pub lockout_threshold: u32,
    /// Minutes a lockout lasts.
    #[arg(long, env = "ALLPS_LOCKOUT_MINUTES", default_value_t = 15)]
    pub lockout_minutes: i64,
    /// Hours a Login session lasts.
    #[arg(long, env = "ALLPS_SESSION_HOURS", default_value_t = 12)]
    pub session_hours: i64,
    /// Freeze the clock at this RFC 3339 instant (tests, fixture replay).
    #[arg(long, env = "ALLPS_FIXED_TIME")]
    pub fixed_time: Option<String>,
    /// Testing only (`replay --spawn`): read "now" from this file (one RFC 3339 instant,
    /// re-read on every use) so another process can move the clock.
    #[arg(long, hide = true)]
    pub clock_file: Option<PathBuf>,
    /// Testing only (`replay --spawn`): do not run the background payout/wallet processor.
    #[arg(long, hide = true)]
    pub no_processor: bool,
    /// Write every SOAP request and its answer into DIR as a fixture case that `replay`
    /// runs (passwords and SessionIds replaced by placeholders); see docs/integrators.md.
    #[arg(long, env = "ALLPS_RECORD")]
    pub record: Option<PathBuf>,
    /// Reader threads, each with its own read-only connection (default: half the cores).
    #[arg(long, env = "ALLPS_READERS", default_value_t = store::default_readers())]
    pub readers: usize,
    /// Most write requests committed in one transaction.
    #[arg(long, env = "ALLPS_MAX_BATCH", default_value_t = 256)]
    pub max_batch: usize,
    /// Calendar, CDV, collection data files and promissory rules (shared with
    /// `process`).
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Tokio worker threads (default: one per core).
    #[arg(long, env = "ALLPS_WORKERS")]
    pub workers: Option<usize>,
    /// Payouts, wallets, cards and the background processor.
    #[command(flatten)]
    pub payouts: PayoutArgs,
}

impl ServeArgs {
    /// The request-handling configuration these flags describe.
    ///
    /// # Errors
    ///
    /// An unreadable or invalid holidays or CDV file.
    pub fn app_config(&self) -> Result<AppConfig, String> {
        let (calendar, cdv, collections, promissory) = self.rules.load()?;
        Ok(AppConfig {
            calendar,
            cdv,
            collections,
            payouts: self.payouts.config()?,
            promissory,
            path: self.path.clone(),
            public_url: self.public_url.clone(),
            max_body_bytes: self.max_body_bytes,
            limits: XmlLimits {
                max_depth: self.max_depth,
                max_elements: self.max_elements,
                max_attributes: self.max_attributes,
                max_text_bytes: self.max_text_bytes,
            },
            auth: AuthConfig {
                lockout_threshold: self.lockout_threshold,
                lockout_duration: time::Duration::minutes(self.lockout_minutes),
                session_ttl: time::Duration::hours(self.session_hours),
            },
            header_read_timeout: Duration::from_secs(self.header_timeout_secs),
            body_read_timeout: Duration::from_secs(self.body_timeout_secs),
            drain_timeout: Duration::from_secs(self.drain_timeout_secs),
            write_timeout: Duration::from_secs(self.write_timeout_secs),
            max_connections: self.max_connections,
            max_body_memory: self.max_body_memory_bytes,
            max_header_bytes: self.max_header_bytes,
            max_headers: self.max_headers,
            argon2_workers: self.argon2_workers,
            argon2_queue: self.argon2_queue,
            soap12_sender_status: self.soap12_sender_status,
        })
    }
}

/// The business rules `serve` and `process` share: calendar, CDV table, the collection
/// engine's data files and the promissory rules (give both commands the same settings).
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Declared-holidays file replacing the bundled one (`YYYY-MM-DD Name` lines).
    #[arg(long, env = "ALLPS_HOLIDAYS_FILE")]
    pub holidays_file: Option<PathBuf>,
    /// CDV parameter file replacing the bundled one.
    #[arg(long, env = "ALLPS_CDV_FILE")]
    pub cdv_file: Option<PathBuf>,
    /// Debtor-bank file (stream windows, settlement, processing weeks, tracking,
    /// response delays) replacing the bundled one.
    #[arg(long, env = "ALLPS_DEBTOR_BANKS_FILE")]
    pub debtor_banks_file: Option<PathBuf>,
    /// Unpaid reason-code file replacing the bundled one.
    #[arg(long, env = "ALLPS_UNPAID_REASONS_FILE")]
    pub unpaid_reasons_file: Option<PathBuf>,
    /// Business days between today and the earliest NAEDO action date.
    #[arg(long, env = "ALLPS_NAEDO_LEAD_DAYS", default_value_t = PromissoryConfig::default().naedo_lead_days)]
    pub naedo_lead_days: u16,
    /// Business days between today and the earliest EFT action date.
    #[arg(long, env = "ALLPS_EFT_LEAD_DAYS", default_value_t = PromissoryConfig::default().eft_lead_days)]
    pub eft_lead_days: u16,
    /// Business days between today and the earliest SOCIAL_GRANT_EFT action date.
    #[arg(long, env = "ALLPS_SEFT_LEAD_DAYS", default_value_t = PromissoryConfig::default().social_grant_eft_lead_days)]
    pub seft_lead_days: u16,
    /// Most TrackingDays on a NAEDO note (0-32).
    #[arg(long, env = "ALLPS_NAEDO_MAX_TRACKING_DAYS", default_value_t = PromissoryConfig::default().naedo_max_tracking_days)]
    pub naedo_max_tracking_days: u8,
    /// Most TrackingDays on an EFT note (0-32).
    #[arg(long, env = "ALLPS_EFT_MAX_TRACKING_DAYS", default_value_t = PromissoryConfig::default().eft_max_tracking_days)]
    pub eft_max_tracking_days: u8,
    /// Most TrackingDays on a SOCIAL_GRANT_EFT note (0-32).
    #[arg(long, env = "ALLPS_SEFT_MAX_TRACKING_DAYS", default_value_t = PromissoryConfig::default().social_grant_eft_max_tracking_days)]
    pub seft_max_tracking_days: u8,
    /// Most NumberOfInstalments on a note (1-999).
    #[arg(long, env = "ALLPS_MAX_INSTALMENTS", default_value_t = PromissoryConfig::default().max_instalments)]
    pub max_instalments: u16,
    /// Latest FirstActionDate or edited ActionDate, in days after today.
    #[arg(long, env = "ALLPS_MAX_ACTION_DAYS_AHEAD", default_value_t = PromissoryConfig::default().max_action_days_ahead)]
    pub max_action_days_ahead: u16,
    /// Minutes after creation at which a PENDING note counts as registered (ACTIVE).
    #[arg(long, env = "ALLPS_REGISTRATION_DELAY_MINUTES", default_value_t = PromissoryConfig::default().registration_delay.whole_minutes().unsigned_abs())]
    pub registration_delay_minutes: u64,
    /// Instalments a collection sweep presents per transaction.
    #[arg(long, env = "ALLPS_COLLECTION_BATCH", default_value_t = crate::engine::collection_jobs::DEFAULT_BATCH, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub collection_batch: usize,
    /// Age of majority: a client younger than this on the day of the request cannot sign a
    /// promissory note or debit order mandate (1-99).
    #[arg(long, env = "ALLPS_AGE_OF_MAJORITY", default_value_t = PromissoryConfig::default().age_of_majority)]
    pub age_of_majority: u8,
    /// Most MaximumCollectionAmount of a FIXED or VARIABLE DebiCheck mandate, as a
    /// multiple of the instalment (at least 1).
    #[arg(long, env = "ALLPS_DEBICHECK_MAX_FACTOR", default_value_t = DebiCheckConfig::default().max_factor)]
    pub debicheck_max_factor: rust_decimal::Decimal,
    /// Most MaximumCollectionAmount of a USAGE_BASED DebiCheck mandate, in rand.
    #[arg(long, env = "ALLPS_DEBICHECK_USAGE_LIMIT", default_value_t = DebiCheckConfig::default().usage_limit)]
    pub debicheck_usage_limit: rust_decimal::Decimal,
}

impl RulesArgs {
    /// The calendar, CDV table, collection tables and promissory rules.
    ///
    /// # Errors
    ///
    /// An unreadable or invalid file, or promissory rules out of range.
    pub fn load(&self) -> Result<(Calendar, CdvTable, CollectionTables, PromissoryConfig), String> {
        let calendar = match &self.holidays_file {
            Some(path) => Calendar::from_declared_file(path)
                .map_err(|e| format!("holidays file {}: {e}", path.display()))?,
            None => Calendar::south_africa(),
        };
        let cdv = match &self.cdv_file {
            Some(path) => {
                CdvTable::load(path).map_err(|e| format!("CDV file {}: {e}", path.display()))?
            }
            None => CdvTable::bundled().clone(),
        };
        let promissory = PromissoryConfig {
            naedo_lead_days: self.naedo_lead_days,
            eft_lead_days: self.eft_lead_days,
            social_grant_eft_lead_days: self.seft_lead_days,
            naedo_max_tracking_days: self.naedo_max_tracking_days,
            eft_max_tracking_days: self.eft_max_tracking_days,
            social_grant_eft_max_tracking_days: self.seft_max_tracking_days,
            max_instalments: self.max_instalments,
            max_action_days_ahead: self.max_action_days_ahead,
            registration_delay: time::Duration::minutes(
                i64::try_from(self.registration_delay_minutes)
                    .map_err(|_| "--registration-delay-minutes is too large".to_string())?,
            ),
            age_of_majority: self.age_of_majority,
            debicheck: DebiCheckConfig {
                max_factor: self.debicheck_max_factor,
                usage_limit: self.debicheck_usage_limit,
            },
        };
        promissory.validate()?;
        let collections = CollectionTables::load(
            self.debtor_banks_file.as_deref(),
            self.unpaid_reasons_file.as_deref(),
            &cdv,
        )?;
        Ok((calendar, cdv, collections, promissory))
    }

    /// The collection engine's setup these flags describe.
    ///
    /// # Errors
    ///
    /// As [`RulesArgs::load`].
    pub fn collection_setup(
        &self,
    ) -> Result<crate::engine::collection_jobs::CollectionSetup, String> {
        let (calendar, cdv, tables, promissory) = self.load()?;
        Ok(crate::engine::collection_jobs::CollectionSetup {
            calendar,
            tables,
            promissory,
            cdv,
            batch: self.collection_batch,
            calendar_cache: Default::default(),
        })
    }
}

/// Sets up logging: one line per request, text or JSON, to stderr, written in batches
/// by a background thread ([`crate::wire::logwriter`]). Keep the guard until the process ends.
pub fn init_logging(filter: &str, format: &str) -> crate::wire::logwriter::LogFlushGuard {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = crate::wire::logwriter::LogWriter::start();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colour only on a terminal: escape codes in a log file or a collector are noise
        // (and cost formatting time on every line).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
    guard
}

/// A clock that reads "now" from a file on every use (hidden `serve --clock-file`, for
/// `replay --spawn`, which moves it by rewriting the file). Keeps the last good instant
/// when the file is briefly unreadable.
struct FileClock {
    path: PathBuf,
    last: std::sync::Mutex<time::OffsetDateTime>,
}

impl FileClock {
    fn open(path: &std::path::Path) -> Result<FileClock, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--clock-file {}: {e}", path.display()))?;
        let at = parse_timestamp(text.trim())
            .ok_or_else(|| format!("--clock-file {}: not an RFC 3339 instant", path.display()))?;
        Ok(FileClock {
            path: path.to_path_buf(),
            last: std::sync::Mutex::new(at),
        })
    }
}

impl Clock for FileClock {
    fn now(&self) -> time::OffsetDateTime {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| parse_timestamp(t.trim()))
        {
            *last = at;
        }
        *last
    }
}

/// Runs `serve` until SIGINT / SIGTERM.
///
/// # Errors
///
/// Start-up failures (database, address in use), as text for the operator.
pub fn serve(args: ServeArgs) -> Result<(), String> {
    let _log_guard = init_logging(&args.log_level, &args.log_format);
    let config = args.app_config()?;
    let clock: Arc<dyn Clock> = match (&args.fixed_time, &args.clock_file) {
        (_, Some(path)) => Arc::new(FileClock::open(path)?),
        (Some(text), None) => Arc::new(ManualClock::new(
            parse_timestamp(text).ok_or_else(|| format!("--fixed-time {text} is not RFC 3339"))?,
        )),
        (None, None) => Arc::new(SystemClock),
    };
    let recorder = match &args.record {
        Some(dir) => Some(Arc::new(crate::server::record::Recorder::create(
            dir,
            args.fixed_time.as_deref(),
        )?)),
        None => None,
    };
    let db = Db::open(
        &args.db,
        &DbOptions {
            readers: args.readers,
            max_batch: args.max_batch,
            ..DbOptions::default()
        },
    )
    .map_err(|e| format!("opening {}: {e}", store::redacted(&args.db)))?;
    if args.demo {
        let now = format_timestamp(clock.now());
        let created = db
            .write_blocking(move |conn| {
                store::admin::ensure_demo(conn, crate::auth::hash_password, &now)
            })
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("demo set-up: {e}"))?;
        eprintln!(
            "demo: organisation {} / branch {} / user {} / password {}{}",
            store::admin::DEMO_ORG,
            store::admin::DEMO_BRANCH,
            store::admin::DEMO_USER,
            store::admin::DEMO_PASSWORD,
            if created {
                " (created)"
            } else {
                " (already present)"
            }
        );
        let now = format_timestamp(clock.now());
        let created = db
            .write_blocking(move |tx| {
                crate::console::ensure_demo_operator(tx, crate::auth::hash_password, &now)
            })
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("demo operator: {e}"))?;
        eprintln!(
            "demo: console operator {} / password {} (platform operator){}",
            crate::console::DEMO_OPERATOR,
            crate::console::DEMO_OPERATOR_PASSWORD,
            if created {
                " (created)"
            } else {
                " (already present)"
            }
        );
    }
    let console_listen = args.console_listen.or_else(|| {
        args.demo
            .then(|| SocketAddr::from(([127, 0, 0, 1], DEMO_CONSOLE_PORT)))
    });
    let console_config = crate::console::ConsoleConfig {
        session_ttl: time::Duration::minutes(args.console_session_minutes as i64),
        secure_cookies: args.console_secure_cookies,
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(workers) = args.workers {
        runtime.worker_threads(workers.max(1));
    }
    let runtime = runtime.build().map_err(|e| e.to_string())?;
    let path = config.path.clone();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("listening on {}: {e}", args.listen))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let processor = Processor::new(
            db.clone(),
            clock.clone(),
            config.payouts.clone(),
            default_gateway(&config.payouts),
        )
        .with_collections(crate::engine::collection_jobs::CollectionSetup {
            calendar: config.calendar.clone(),
            tables: config.collections.clone(),
            promissory: config.promissory,
            cdv: config.cdv.clone(),
            batch: args.rules.collection_batch,
            calendar_cache: Default::default(),
        });
        let (stop_processor, stop) = tokio::sync::watch::channel(false);
        let processor = if args.no_processor {
            tokio::spawn(async {})
        } else {
            tokio::spawn(processor.serve(stop))
        };
        let app = App::new(db, clock, config);
        tokio::spawn(crate::server::log_stats_on_sigusr1(app.db.clone()));
        let (stop_console, console_stopped) = tokio::sync::watch::channel(false);
        let console = match console_listen {
            Some(address) => match tokio::net::TcpListener::bind(address).await {
                Ok(listener) => Some(listener),
                // The demo's default port may be taken (another demo server): the SOAP
                // service still starts; an explicit --console-listen must bind.
                Err(e) if args.console_listen.is_none() => {
                    eprintln!("console not started: {address}: {e} (give --console-listen)");
                    None
                }
                Err(e) => return Err(format!("console listening on {address}: {e}")),
            },
            None => None,
        };
        let console = match console {
            Some(listener) => {
                let local = listener.local_addr().map_err(|e| e.to_string())?;
                eprintln!("allps-ws console on http://{local}/ (metrics: http://{local}/metrics)");
                tracing::info!(address = %local, "console listening");
                let console = crate::console::Console::new(app.clone(), console_config);
                let mut stopped = console_stopped;
                Some(tokio::spawn(crate::console::serve(listener, console, async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })))
            }
            None => None,
        };
        eprintln!("allps-ws listening on http://{local}{path} (WSDL: http://{local}{path}?wsdl), database {}", store::redacted(&args.db));
        tracing::info!(address = %local, db = %store::redacted(&args.db), "listening");
        let shutdown = async move {
            crate::server::shutdown_signal().await;
            let _ = stop_console.send(true);
            if let Some(console) = console {
                let _ = console.await;
            }
            // Stop the processor (it finishes the job in hand) before the store closes.
            let _ = stop_processor.send(true);
            let _ = processor.await;
        };
        if let Some(recorder) = &recorder {
            eprintln!("recording every SOAP call into {}", recorder.dir().display());
        }
        crate::server::run_recording(listener, app, shutdown, recorder)
            .await
            .map_err(|e| e.to_string())
    })
}

/// `allps-ws process`.
#[derive(Debug, Args)]
pub struct ProcessArgs {
    /// SQLite database file, or a `postgres://` URL.
    #[arg(long, env = "ALLPS_DB", default_value = "allps.db")]
    pub db: PathBuf,
    /// Run the jobs due at or before this RFC 3339 instant (default: now).
    #[arg(long, env = "ALLPS_PROCESS_UNTIL")]
    pub until: Option<String>,
    /// Log filter (tracing EnvFilter syntax).
    #[arg(long, env = "ALLPS_LOG", default_value = "warn")]
    pub log_level: String,
    /// Payout timings and simulator rules (as for `serve`).
    #[command(flatten)]
    pub payouts: PayoutArgs,
    /// Calendar, CDV, collection data and promissory rules (as for `serve`).
    #[command(flatten)]
    pub rules: RulesArgs,
}

/// Runs `process`: every job due by `--until` (and the jobs they queue that fall due by
/// then), as the server's processor would, then prints what it did.
///
/// # Errors
///
/// A bad `--until`, the database, or the store failing.
pub fn process(args: ProcessArgs) -> Result<(), String> {
    let _log_guard = init_logging(&args.log_level, "text");
    let config = args.payouts.config()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let until = match &args.until {
        Some(text) => {
            parse_timestamp(text).ok_or_else(|| format!("--until {text} is not RFC 3339"))?
        }
        None => clock.now(),
    };
    let db = Db::open(
        &args.db,
        &DbOptions {
            readers: 1,
            ..DbOptions::default()
        },
    )
    .map_err(|e| format!("opening {}: {e}", store::redacted(&args.db)))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let setup = args.rules.collection_setup()?;
    let processor = Processor::new(db.clone(), clock, config.clone(), default_gateway(&config))
        .with_collections(setup);
    let result = runtime.block_on(async {
        let report = processor
            .run_until(until)
            .await
            .map_err(|e| e.to_string())?;
        let next = crate::engine::processor::next_due(&db)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((report, next))
    });
    db.close();
    let (report, next) = result?;
    println!("processed until {}: {report}", format_timestamp(until));
    match next {
        Some(at) => println!("next job due at {}", format_timestamp(at)),
        None => println!("no job waiting"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_args(args: &[&str]) -> ServeArgs {
        let mut argv = vec!["allps-ws", "serve"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).expect("flags parse").command {
            Command::Serve(a) => *a,
            #[allow(unreachable_patterns)]
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn promissory_flags_reach_the_configuration() {
        let defaults = serve_args(&[]).app_config().unwrap().promissory;
        assert_eq!(defaults, PromissoryConfig::default());
        let config = serve_args(&[
            "--naedo-lead-days",
            "4",
            "--eft-lead-days",
            "1",
            "--seft-lead-days",
            "5",
            "--naedo-max-tracking-days",
            "20",
            "--eft-max-tracking-days",
            "2",
            "--seft-max-tracking-days",
            "3",
            "--max-instalments",
            "12",
            "--max-action-days-ahead",
            "90",
            "--registration-delay-minutes",
            "0",
            "--age-of-majority",
            "21",
        ])
        .app_config()
        .unwrap()
        .promissory;
        assert_eq!(
            config,
            PromissoryConfig {
                naedo_lead_days: 4,
                eft_lead_days: 1,
                social_grant_eft_lead_days: 5,
                naedo_max_tracking_days: 20,
                eft_max_tracking_days: 2,
                social_grant_eft_max_tracking_days: 3,
                max_instalments: 12,
                max_action_days_ahead: 90,
                registration_delay: time::Duration::ZERO,
                age_of_majority: 21,
                debicheck: DebiCheckConfig::default(),
            }
        );
        assert!(
            serve_args(&["--age-of-majority", "0"])
                .app_config()
                .is_err()
        );
        assert!(
            serve_args(&["--naedo-max-tracking-days", "33"])
                .app_config()
                .is_err()
        );
        assert!(
            serve_args(&["--max-instalments", "0"])
                .app_config()
                .is_err()
        );
    }

    #[test]
    fn collection_files_reach_the_configuration() {
        assert_eq!(
            serve_args(&[]).app_config().unwrap().collections,
            CollectionTables::default()
        );
        let e = serve_args(&["--debtor-banks-file", "/nonexistent/banks.txt"])
            .app_config()
            .unwrap_err();
        assert!(e.contains("/nonexistent/banks.txt"), "{e}");
        let e = serve_args(&["--unpaid-reasons-file", "/nonexistent/reasons.txt"])
            .app_config()
            .unwrap_err();
        assert!(e.contains("/nonexistent/reasons.txt"), "{e}");
    }
}
