//! The fixture principals and an in-process service: an in-memory store on a frozen
//! clock with the standard fixture organisations, branches and users, and a way to POST
//! to it without a socket. `admin seed-fixtures` seeds a database with the principals;
//! `replay` runs a case's setup steps on an in-process service; the tests, benches and
//! fuzz targets use both through [`crate::testing`]. The fixtures' data ([`BASE_SQL`] and
//! the shared seeds, [`SHARED_SEEDS`]) is embedded in the binary, so `replay` and
//! `admin seed-fixtures` work from any directory.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::app::{App, AppConfig};
use crate::auth::hash_password;
use crate::clock::{Clock, ManualClock, format_timestamp};
use crate::store::admin::{self, RIGHT_WEB_SERVICES};
use crate::store::{Db, DbError, Tx, inspect};

/// `fixtures/base.sql`: the business data every fixture case starts from.
pub const BASE_SQL: &str = include_str!("../../fixtures/base.sql");

include!(concat!(env!("OUT_DIR"), "/fixture_seeds.rs"));

/// The embedded shared seed `fixtures/seeds/<name>.sql`.
pub fn shared_seed(name: &str) -> Option<&'static str> {
    SHARED_SEEDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, sql)| *sql)
}

/// The SQL a fixture case's store is seeded with after the principals, in order:
/// `base.sql`, each seed its `seeds.txt` names, then its own `seed.sql`. `base.sql` and
/// the shared seeds are read from `fixtures` when given and holding them, else taken from
/// the binary (the bundled ones).
///
/// # Errors
///
/// An unreadable file, or a name with no shared seed.
pub fn case_sql(fixtures: Option<&Path>, case: &Path) -> Result<Vec<String>, String> {
    let read =
        |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut sql = Vec::new();
    match fixtures.map(|f| f.join("base.sql")).filter(|p| p.is_file()) {
        Some(path) => sql.push(read(&path)?),
        None => sql.push(BASE_SQL.to_string()),
    }
    for name in seed_names(case)? {
        let local = fixtures.map(|f| f.join("seeds").join(format!("{name}.sql")));
        match local.filter(|p| p.is_file()) {
            Some(path) => sql.push(read(&path)?),
            None => sql.push(
                shared_seed(&name)
                    .ok_or_else(|| format!("{}: no shared seed {name:?}", case.display()))?
                    .to_string(),
            ),
        }
    }
    let own = case.join("seed.sql");
    if own.exists() {
        sql.push(read(&own)?);
    }
    Ok(sql)
}

/// The shared-seed names a case's `seeds.txt` lists (one a line; blank lines and `#`
/// comments ignored); empty without the file.
///
/// # Errors
///
/// An unreadable file or a name that is not `[A-Za-z0-9_-]+`.
pub fn seed_names(case: &Path) -> Result<Vec<String>, String> {
    let list = case.join("seeds.txt");
    if !list.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&list).map_err(|e| format!("{}: {e}", list.display()))?;
    let mut names = Vec::new();
    for name in text.lines().map(str::trim) {
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!("{}: {name:?} is not a seed name", list.display()));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

/// The fixtures' "now": Monday 23 November 2026, 10:00 in South Africa.
pub const FIXED_NOW: OffsetDateTime = datetime!(2026-11-23 08:00 UTC);

/// The password of every fixture user.
pub const PASSWORD: &str = "demo-password";

fn shared_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(PASSWORD))
}

/// Creates the fixture principals (all with password [`PASSWORD`]):
///
/// | org | user | rights | branches | notes |
/// |---|---|---|---|---|
/// | DEMO | demo | web services | BR001, BR002 | |
/// | DEMO | noright | none | BR001 | |
/// | DEMO | disabled | web services | BR001 | disabled |
/// | DEMO | bound | web services | BR001 | bound to computer LENDER-PC01 |
/// | DEMO | nobranch | web services | none | |
/// | DEMO | locked | web services | BR001 | locked until 2099 |
/// | OTHER | demo | web services | BR001 | another organisation |
///
/// # Errors
///
/// Admin errors.
pub fn seed_principals(conn: &Tx<'_>, now: OffsetDateTime) -> Result<(), admin::AdminError> {
    let now = format_timestamp(now);
    let hash = shared_hash();
    admin::add_organisation(conn, "DEMO", "Demo Micro Lender", &now)?;
    admin::add_branch(conn, "DEMO", "BR001", "Demo Branch", &now)?;
    admin::add_branch(conn, "DEMO", "BR002", "Second Branch", &now)?;
    admin::add_organisation(conn, "OTHER", "Other Lender", &now)?;
    admin::add_branch(conn, "OTHER", "BR001", "Other Branch", &now)?;
    let users: &[(&str, &str, bool, &[&str])] = &[
        ("DEMO", "demo", true, &["BR001", "BR002"]),
        ("DEMO", "noright", false, &["BR001"]),
        ("DEMO", "disabled", true, &["BR001"]),
        ("DEMO", "bound", true, &["BR001"]),
        ("DEMO", "nobranch", true, &[]),
        ("DEMO", "locked", true, &["BR001"]),
        ("OTHER", "demo", true, &["BR001"]),
    ];
    for (org, user, right, branches) in users {
        admin::add_user(conn, org, user, hash, &now)?;
        if *right {
            admin::set_right(conn, org, user, RIGHT_WEB_SERVICES, true)?;
        }
        for branch in *branches {
            admin::set_branch_allocation(conn, org, user, branch, true)?;
        }
    }
    admin::set_user_enabled(conn, "DEMO", "disabled", false)?;
    admin::set_computer(conn, "DEMO", "bound", "LENDER-PC01", true)?;
    admin::lock_user(conn, "DEMO", "locked", "2099-01-01T00:00:00Z")?;
    Ok(())
}

/// A response as a caller sees it.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Content-Type header.
    pub content_type: String,
    /// Body text.
    pub body: String,
}

/// An in-memory service on a frozen clock.
pub struct InProcess {
    /// The shared state.
    pub app: Arc<App>,
    /// The clock, to move time in tests.
    pub clock: Arc<ManualClock>,
}

impl InProcess {
    /// A fresh service with the fixture principals and default configuration.
    pub async fn new() -> InProcess {
        InProcess::with_config(AppConfig::default()).await
    }

    /// A fresh service with the fixture principals and the given configuration.
    pub async fn with_config(config: AppConfig) -> InProcess {
        // ALLPS_TEST_DATABASE_URL runs the same tests on PostgreSQL, each service in a
        // fresh schema of that database.
        let db = match std::env::var("ALLPS_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                // The sync client runs its own runtime: connect off the async threads.
                std::thread::spawn(move || {
                    let location = crate::store::fresh_postgres_schema(&url).expect("test schema");
                    Db::open(
                        &location,
                        &crate::store::DbOptions {
                            readers: 1,
                            ..crate::store::DbOptions::default()
                        },
                    )
                    .expect("PostgreSQL test database")
                })
                .join()
                .expect("opening the test database")
            }
            _ => Db::open_in_memory().expect("in-memory database"),
        };
        db.write(|conn| seed_principals(conn, FIXED_NOW))
            .await
            .expect("store")
            .expect("seeding principals");
        let clock = Arc::new(ManualClock::new(FIXED_NOW));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        InProcess {
            app: App::new(db, dyn_clock, config),
            clock,
        }
    }

    /// A service on a database file (real reader threads, real durability) on `clock`,
    /// so a service reopened on the same file keeps the test's time. `seed`, for a first
    /// open: the fixture principals, then this SQL.
    ///
    /// # Panics
    ///
    /// If the file cannot be opened or the seed fails.
    pub async fn on_file(path: &Path, clock: Arc<ManualClock>, seed: Option<String>) -> InProcess {
        let db = Db::open(path, &crate::store::DbOptions::default()).expect("open file db");
        if let Some(sql) = seed {
            db.write(|conn| seed_principals(conn, FIXED_NOW))
                .await
                .expect("store")
                .expect("seeding principals");
            db.write(move |tx| inspect::run_script(tx, &sql))
                .await
                .expect("store")
                .expect("seed SQL");
        }
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        InProcess {
            app: App::new(db, dyn_clock, AppConfig::default()),
            clock,
        }
    }

    /// Runs SQL against the store (fixture seeds).
    ///
    /// # Panics
    ///
    /// If the SQL fails: a broken fixture.
    pub async fn execute_sql(&self, sql: &str) {
        let sql = sql.to_string();
        self.app
            .db
            .write(move |tx| inspect::run_script(tx, &sql))
            .await
            .expect("store")
            .expect("fixture SQL");
    }

    /// POSTs a body to the endpoint with the given headers.
    pub async fn post_with(&self, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Response {
        let mut builder = Request::post(self.app.config.path.as_str());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(body.into())).expect("request");
        let response = crate::server::http::handle(&self.app, request).await;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Response {
            status,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// POSTs a SOAP envelope, choosing the Content-Type from its envelope namespace.
    pub async fn post(&self, body: &str) -> Response {
        let content_type = if body.contains(crate::wire::soap::SOAP12_NS) {
            "application/soap+xml; charset=utf-8"
        } else {
            "text/xml; charset=utf-8"
        };
        self.post_with(&[("Content-Type", content_type)], body.to_string())
            .await
    }

    /// A digest of every table's rows, to show whether a request changed the store.
    /// Sessions are left out (Login's only effect, and random).
    pub async fn store_digest(&self) -> BTreeMap<String, (i64, String)> {
        // A write barrier first: bookkeeping queued without waiting (a failed login's
        // count) is committed before anything queued after it.
        self.app
            .db
            .write(|_| Ok::<(), DbError>(()))
            .await
            .expect("store")
            .expect("barrier");
        self.app
            .db
            .read(|tx| inspect::digest(tx).expect("digest"))
            .await
            .expect("store")
    }
}
