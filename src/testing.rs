//! Test support shared by the integration tests, benches, fuzz targets and examples: an
//! in-memory service on a frozen clock with the standard fixture organisations, branches
//! and users, and a way to POST to it without a socket. Not used by the server itself.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::app::{App, AppConfig};
use crate::auth::hash_password;
use crate::clock::{Clock, ManualClock, format_timestamp};
use crate::store::Db;
use crate::store::admin::{self, RIGHT_WEB_SERVICES};

/// The SQL a fixture case seeds its store with (after `fixtures/base.sql`), in the order
/// it runs: `<fixtures>/seeds/<name>.sql` for each name the case's `seeds.txt` lists (one
/// a line; blank lines and `#` comments are ignored), then the case's own `seed.sql`.
/// Empty when the case has neither.
///
/// # Errors
///
/// An unreadable file or a name with no shared seed: a broken fixture.
pub fn case_seeds(fixtures: &Path, case: &Path) -> Result<Vec<String>, String> {
    let read =
        |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut sql = Vec::new();
    let list = case.join("seeds.txt");
    if list.exists() {
        for name in read(&list)?.lines().map(str::trim) {
            if name.is_empty() || name.starts_with('#') {
                continue;
            }
            if !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(format!("{}: {name:?} is not a seed name", list.display()));
            }
            sql.push(read(&fixtures.join("seeds").join(format!("{name}.sql")))?);
        }
    }
    let own = case.join("seed.sql");
    if own.exists() {
        sql.push(read(&own)?);
    }
    Ok(sql)
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
pub fn seed_principals(conn: &Connection, now: OffsetDateTime) -> Result<(), admin::AdminError> {
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
    conn.execute(
        "UPDATE users SET locked_until = '2099-01-01T00:00:00Z' WHERE user_name = 'locked'",
        [],
    )?;
    Ok(())
}

/// A response as a test sees it.
#[derive(Debug, Clone)]
pub struct TestResponse {
    /// HTTP status.
    pub status: u16,
    /// Content-Type header.
    pub content_type: String,
    /// Body text.
    pub body: String,
}

/// An in-memory service on a frozen clock.
pub struct TestService {
    /// The shared state.
    pub app: Arc<App>,
    /// The clock, to move time in tests.
    pub clock: Arc<ManualClock>,
}

impl TestService {
    /// A fresh service with the fixture principals and default configuration.
    pub async fn new() -> TestService {
        TestService::with_config(AppConfig::default()).await
    }

    /// A fresh service with the fixture principals and the given configuration.
    pub async fn with_config(config: AppConfig) -> TestService {
        let db = Db::open_in_memory().expect("in-memory database");
        db.write(|conn| seed_principals(conn, FIXED_NOW))
            .await
            .expect("store")
            .expect("seeding principals");
        let clock = Arc::new(ManualClock::new(FIXED_NOW));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        TestService {
            app: App::new(db, dyn_clock, config),
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
            .write(move |conn| conn.execute_batch(&sql))
            .await
            .expect("store")
            .expect("fixture SQL");
    }

    /// POSTs a body to the endpoint with the given headers.
    pub async fn post_with(
        &self,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> TestResponse {
        let mut builder = Request::post(self.app.config.path.as_str());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(body.into())).expect("request");
        let response = crate::wire::http::handle(&self.app, request).await;
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
        TestResponse {
            status,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// POSTs a SOAP envelope, choosing the Content-Type from its envelope namespace.
    pub async fn post(&self, body: &str) -> TestResponse {
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
        self.app
            .db
            .read(|conn| store_digest(conn).expect("digest"))
            .await
            .expect("store")
    }
}

/// Row count and content hash of every table but `sessions`.
///
/// # Errors
///
/// SQLite.
pub fn store_digest(conn: &Connection) -> Result<BTreeMap<String, (i64, String)>, rusqlite::Error> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'sessions' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = BTreeMap::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\""))?;
        let columns = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut line = String::new();
                for i in 0..columns {
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push_str(&format!("{v:?}|"));
                }
                Ok(line)
            })?
            .collect::<Result<_, _>>()?;
        rows.sort();
        let mut h = Sha256::new();
        for row in &rows {
            h.update(row.as_bytes());
            h.update(b"\n");
        }
        let digest = crate::auth::hex(&h.finalize()[..8]);
        out.insert(table, (rows.len() as i64, digest));
    }
    Ok(out)
}

/// Describes how `after` differs from `before`: `unchanged`, or one line per table.
pub fn describe_store_change(
    before: &BTreeMap<String, (i64, String)>,
    after: &BTreeMap<String, (i64, String)>,
) -> String {
    let mut lines = Vec::new();
    for (table, (count, digest)) in after {
        match before.get(table) {
            Some((old_count, old_digest)) if old_digest == digest && old_count == count => {}
            Some((old_count, _)) => {
                let delta = count - old_count;
                if delta == 0 {
                    lines.push(format!("{table}: rows changed"));
                } else {
                    lines.push(format!("{table}: {delta:+} rows"));
                }
            }
            None => lines.push(format!("{table}: new table")),
        }
    }
    if lines.is_empty() {
        "unchanged".into()
    } else {
        lines.join("\n")
    }
}
