//! The operator console: server-rendered pages on their own listener
//! (`serve --console-listen`) for the people who run the service: a platform operator
//! (sets up organisations and their administrators) and organisation administrators
//! (see and change only their own organisation). Everything `allps-ws admin` does is
//! here, through the same `store::admin` functions, so a change applies on the next
//! SOAP call; every change is written to the append-only audit log in the same
//! transaction. Pages are read-only views of a branch's data, one page at a time.
//!
//! Safe by construction: operators log in with argon2 passwords under the SOAP path's
//! lockout rules (the same [`Lockout`] gate and `--lockout-*` settings); the session
//! cookie is HttpOnly, SameSite=Strict and Secure when `--console-secure-cookies`; every
//! POST must carry the session's CSRF token (and a same-origin `Origin` when sent);
//! every response carries a Content-Security-Policy without scripts and the usual
//! headers; every page and action that names an organisation goes through
//! [`Session::scope`], so an organisation administrator who edits a URL or a form field
//! gets "not found". Sessions expire (`--console-session-minutes`) and are checked
//! against the operator's row on every request, so disabling an operator ends them.
//!
//! `actions.rs` holds the POST handlers, `pages.rs` the GET pages, `view.rs` the page
//! model and its template.

mod actions;
mod pages;
pub mod view;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;
use hyper::header::{
    CACHE_CONTROL, CONTENT_TYPE, COOKIE, HOST, HeaderValue, LOCATION, ORIGIN, SET_COOKIE,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use crate::app::App;
use crate::auth::{Claim, Lockout, Verdict, dummy_hash, hex, verify_password};
use crate::clock::format_timestamp;
use crate::store::admin::AdminError;
use crate::store::operators::{self, AuditEntry, OperatorRow};
use crate::store::{DbError, Tx};
use view::{Field, Form, Link, Page, Section, form_pairs, value};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "allps_console";
/// The login form's anti-CSRF cookie (before a session exists).
pub const LOGIN_COOKIE: &str = "allps_console_login";
/// Largest form body accepted.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// How long a client may take to send a form.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Rows per page of every list.
pub const PAGE_ROWS: usize = 50;

/// Every GET page, as a path pattern (`{name}` is a value from the store). The
/// cross-organisation test walks all of them, and checks this list against the router.
pub const PAGES: &[&str] = &[
    "/",
    "/orgs",
    "/operators",
    "/holidays",
    "/audit",
    "/jobs",
    "/org/{org}",
    "/org/{org}/users",
    "/org/{org}/user/{user}",
    "/org/{org}/operators",
    "/org/{org}/branch/{branch}",
    "/org/{org}/branch/{branch}/clients",
    "/org/{org}/branch/{branch}/client/{client}",
    "/org/{org}/branch/{branch}/notes",
    "/org/{org}/branch/{branch}/note/{note}",
    "/org/{org}/branch/{branch}/payments",
    "/org/{org}/branch/{branch}/payment/{payment}",
    "/org/{org}/branch/{branch}/wallets",
    "/org/{org}/branch/{branch}/wallet/{wallet}",
    "/org/{org}/branch/{branch}/replies",
];

/// Every POST action, as a path pattern (as [`PAGES`]).
pub const ACTIONS: &[&str] = &[
    "/orgs",
    "/operators",
    "/operators/{operator}/enable",
    "/operators/{operator}/disable",
    "/operators/{operator}/unlock",
    "/holidays",
    "/org/{org}/enable",
    "/org/{org}/disable",
    "/org/{org}/details",
    "/org/{org}/branches",
    "/org/{org}/branch/{branch}/enable",
    "/org/{org}/branch/{branch}/disable",
    "/org/{org}/users",
    "/org/{org}/user/{user}/enable",
    "/org/{org}/user/{user}/disable",
    "/org/{org}/user/{user}/unlock",
    "/org/{org}/user/{user}/password",
    "/org/{org}/user/{user}/grant",
    "/org/{org}/user/{user}/revoke",
    "/org/{org}/user/{user}/allocate",
    "/org/{org}/user/{user}/deallocate",
    "/org/{org}/user/{user}/computer-add",
    "/org/{org}/user/{user}/computer-remove",
    "/org/{org}/operators",
];

/// The stylesheet (the only static file; no script exists).
const CSS: &str = include_str!("../../templates/console/console.css");

/// Console settings.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// How long a session lives after login.
    pub session_ttl: time::Duration,
    /// Mark the session cookie `Secure` and send HSTS (the console is reached over TLS,
    /// e.g. through a TLS-terminating proxy).
    pub secure_cookies: bool,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            session_ttl: time::Duration::minutes(30),
            secure_cookies: false,
        }
    }
}

/// The console's state: the service's [`App`] (store, clock, metrics, lockout settings)
/// and the console's own lockout gate.
#[derive(Debug)]
pub struct Console {
    /// The service.
    pub app: Arc<App>,
    /// Settings.
    pub config: ConsoleConfig,
    /// Operators' login attempts (the same gate as integration users', separate ids).
    lockout: Lockout,
}

impl Console {
    /// The console of `app`.
    pub fn new(app: Arc<App>, config: ConsoleConfig) -> Arc<Console> {
        Arc::new(Console {
            app,
            config,
            lockout: Lockout::default(),
        })
    }
}

/// The logged-in operator of one request.
#[derive(Debug, Clone)]
pub struct Session {
    /// The operator's row.
    pub operator: OperatorRow,
    /// The session's CSRF token.
    pub csrf: String,
    /// SHA-256 of the session cookie.
    token_hash: String,
    /// The client's address (for the audit log).
    pub peer: String,
}

impl Session {
    /// Whether this is a platform operator.
    pub fn is_platform(&self) -> bool {
        self.operator.organisation.is_none()
    }

    /// Refuses (as "not found") an organisation this operator may not see.
    ///
    /// # Errors
    ///
    /// [`Failure::NotFound`].
    pub fn scope(&self, org: &str) -> Result<(), Failure> {
        match &self.operator.organisation {
            None => Ok(()),
            Some(own) if own == org => Ok(()),
            Some(_) => Err(Failure::NotFound),
        }
    }

    /// Refuses what only a platform operator may do.
    ///
    /// # Errors
    ///
    /// [`Failure::NotFound`].
    pub fn platform_only(&self) -> Result<(), Failure> {
        if self.is_platform() {
            Ok(())
        } else {
            Err(Failure::NotFound)
        }
    }

    /// The audit actor.
    pub fn actor(&self) -> String {
        format!("console:{}", self.operator.login)
    }
}

/// Why a page or action did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// No such page, or one this operator may not see (the same answer).
    NotFound,
    /// A refused change or bad input: shown to the operator.
    Invalid(String),
    /// The store failed: logged, never shown.
    Internal(String),
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        Failure::Internal(e.to_string())
    }
}

impl From<AdminError> for Failure {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NotFound(_) | AdminError::Exists(_) | AdminError::Invalid(_) => {
                Failure::Invalid(e.to_string())
            }
            AdminError::Sql(_) | AdminError::Store(_) => Failure::Internal(e.to_string()),
        }
    }
}

/// What a page or action answers.
#[derive(Debug)]
pub enum Reply {
    /// A page.
    Page(Page),
    /// Go there (303 See Other).
    Redirect(String),
}

/// Runs `f` in one read transaction.
pub(crate) async fn read<T, F>(console: &Console, f: F) -> Result<T, Failure>
where
    F: for<'t> FnOnce(&Tx<'t>) -> Result<T, Failure> + Send + 'static,
    T: Send + 'static,
{
    console.app.db.read(f).await?
}

/// Runs `f` as one write and, in the same transaction, appends its audit entry: both
/// commit or neither does.
pub(crate) async fn write_audited<T, F>(
    console: &Console,
    session: &Session,
    organisation: Option<&str>,
    action: &str,
    detail: String,
    f: F,
) -> Result<T, Failure>
where
    F: for<'t> FnOnce(&Tx<'t>) -> Result<T, Failure> + Send + 'static,
    T: Send + 'static,
{
    let entry = AuditEntry {
        id: 0,
        at: format_timestamp(console.app.clock.now()),
        actor: session.actor(),
        organisation: organisation.map(str::to_string),
        action: action.to_string(),
        detail,
        peer: session.peer.clone(),
    };
    console
        .app
        .db
        .write(move |tx| {
            let out = f(tx)?;
            operators::audit(tx, &entry)?;
            Ok(out)
        })
        .await?
}

/// Hashes a new password on the blocking pool (argon2 takes tens of milliseconds).
pub(crate) async fn hash(password: String) -> Result<String, Failure> {
    tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(|e| Failure::Internal(format!("hashing panicked: {e}")))
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    hex(&bytes)
}

fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Equal in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie<'a, B>(request: &'a Request<B>, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Adds the security headers every console response carries.
fn secure(console: &Console, mut response: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    let h = response.headers_mut();
    let set = |h: &mut hyper::HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    // `same-origin`, not `no-referrer`: with no-referrer Chromium sends `Origin: null` on
    // form posts, which the Origin check refuses.
    set(h, "referrer-policy", "same-origin");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if console.config.secure_cookies {
        set(h, "strict-transport-security", "max-age=31536000");
    }
    response
}

fn html(status: StatusCode, page: &Page) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(page.html())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn redirect(to: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, v);
    }
    response
}

fn set_cookie(response: &mut Response<Full<Bytes>>, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(SET_COOKIE, v);
    }
}

impl Console {
    fn cookie_attributes(&self) -> &'static str {
        if self.config.secure_cookies {
            "; HttpOnly; SameSite=Strict; Secure"
        } else {
            "; HttpOnly; SameSite=Strict"
        }
    }
}

/// The navigation of an operator's pages.
fn navigation(session: &Session) -> Vec<Link> {
    let mut nav = Vec::new();
    match &session.operator.organisation {
        None => {
            nav.push(Link::new("/orgs", "Organisations"));
            nav.push(Link::new("/operators", "Operators"));
            nav.push(Link::new("/holidays", "Holidays"));
            nav.push(Link::new("/jobs", "Job queue"));
        }
        Some(org) => {
            let o = view::pct(org);
            nav.push(Link::new(format!("/org/{o}"), "Organisation"));
            nav.push(Link::new(format!("/org/{o}/users"), "Users"));
            nav.push(Link::new(format!("/org/{o}/operators"), "Administrators"));
            nav.push(Link::new("/holidays", "Holidays"));
        }
    }
    nav.push(Link::new("/audit", "Audit log"));
    nav.push(Link::new("/metrics", "Metrics"));
    nav
}

/// Handles one console request; `peer` is the client's address.
pub async fn handle<B>(
    console: &Arc<Console>,
    request: Request<B>,
    peer: IpAddr,
) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = route(console, request, peer).await;
    tracing::info!(
        console = true,
        method = %method,
        path = path.chars().take(100).collect::<String>(),
        status = response.status().as_u16(),
        duration_us = started.elapsed().as_micros() as u64,
        "request"
    );
    secure(console, response)
}

async fn route<B>(
    console: &Arc<Console>,
    request: Request<B>,
    peer: IpAddr,
) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = form_pairs(request.uri().query().unwrap_or(""));
    if method == Method::GET || method == Method::HEAD {
        match path.as_str() {
            "/console.css" => {
                let mut r = Response::new(Full::new(Bytes::from_static(CSS.as_bytes())));
                r.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/css; charset=utf-8"),
                );
                r.headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
                return r;
            }
            "/metrics" => return crate::server::http::metrics(&console.app).await,
            "/health" => return crate::server::http::health(&console.app).await,
            "/health/live" => return text(StatusCode::OK, "ok\n"),
            // No icon: answered here so the browser's automatic fetch is not redirected
            // to the login page (which would renew the login form's token).
            "/favicon.ico" => return text(StatusCode::NOT_FOUND, "no icon\n"),
            "/login" => {
                let existing = cookie(&request, LOGIN_COOKIE).map(str::to_string);
                return login_page(console, existing, None, StatusCode::OK);
            }
            _ => {}
        }
    } else if method != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "GET or POST\n");
    }
    let is_post = method == Method::POST;
    let session_cookie = cookie(&request, SESSION_COOKIE).map(str::to_string);
    let login_cookie = cookie(&request, LOGIN_COOKIE).map(str::to_string);
    if is_post {
        // A browser names the page's origin on every form post; another origin is a
        // cross-site request whatever else it carries.
        let origin_ok = match request.headers().get(ORIGIN) {
            None => true,
            Some(origin) => {
                let host = request.headers().get(HOST).and_then(|h| h.to_str().ok());
                let origin = origin.to_str().unwrap_or("");
                host.is_some_and(|h| {
                    origin == format!("http://{h}") || origin == format!("https://{h}")
                })
            }
        };
        if !origin_ok {
            return text(StatusCode::FORBIDDEN, "cross-origin form refused\n");
        }
    }
    let form = if is_post {
        let body = Limited::new(request.into_body(), MAX_FORM_BYTES);
        match tokio::time::timeout(BODY_TIMEOUT, body.collect()).await {
            Ok(Ok(collected)) => match String::from_utf8(collected.to_bytes().to_vec()) {
                Ok(text) => form_pairs(&text),
                Err(_) => return text(StatusCode::BAD_REQUEST, "the form is not UTF-8\n"),
            },
            Ok(Err(_)) => return text(StatusCode::PAYLOAD_TOO_LARGE, "form too large\n"),
            Err(_) => return text(StatusCode::REQUEST_TIMEOUT, "form too slow\n"),
        }
    } else {
        Vec::new()
    };
    if is_post && path == "/login" {
        return login(console, &form, login_cookie.as_deref(), peer).await;
    }
    let session = match session_cookie {
        Some(token) => match live_session(console, &token, peer).await {
            Ok(s) => s,
            Err(response) => return response,
        },
        None => None,
    };
    let Some(session) = session else {
        return if is_post {
            text(StatusCode::FORBIDDEN, "not logged in\n")
        } else {
            redirect("/login")
        };
    };
    if is_post {
        let token = value(&form, "csrf").unwrap_or("");
        if !same(token, &session.csrf) {
            return text(
                StatusCode::FORBIDDEN,
                "the form's security token is missing or wrong; reload the page\n",
            );
        }
        if path == "/logout" {
            let hash = session.token_hash.clone();
            let _ = console
                .app
                .db
                .write(move |tx| operators::end_session(tx, &hash))
                .await;
            let mut r = redirect("/login");
            set_cookie(
                &mut r,
                format!(
                    "{SESSION_COOKIE}=; Path=/; Max-Age=0{}",
                    console.cookie_attributes()
                ),
            );
            return r;
        }
    }
    let segments: Option<Vec<String>> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| view::unpct(s, false))
        .collect();
    let Some(segments) = segments else {
        return not_found(&session);
    };
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let outcome = if is_post {
        actions::post(console, &session, &segments, &form).await
    } else {
        pages::get(console, &session, &segments, &query).await
    };
    match outcome {
        Ok(Reply::Redirect(to)) => redirect(&to),
        Ok(Reply::Page(mut page)) => {
            dress(&mut page, &session);
            html(StatusCode::OK, &page)
        }
        Err(Failure::NotFound) => not_found(&session),
        Err(Failure::Invalid(message)) => {
            let mut page = Page::new("Not done");
            page.error = Some(message);
            page.push(Section::new("").line("Nothing was changed. Go back and correct the form."));
            dress(&mut page, &session);
            html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(Failure::Internal(detail)) => {
            tracing::error!(error = %detail, "console request failed");
            let mut page = Page::new("Something went wrong");
            page.error = Some("The request could not be completed; try again.".into());
            dress(&mut page, &session);
            html(StatusCode::INTERNAL_SERVER_ERROR, &page)
        }
    }
}

fn dress(page: &mut Page, session: &Session) {
    page.operator = Some(match &session.operator.organisation {
        None => format!("{} (platform operator)", session.operator.login),
        Some(org) => format!("{} (administrator of {org})", session.operator.login),
    });
    page.nav = navigation(session);
    page.csrf = session.csrf.clone();
}

fn not_found(session: &Session) -> Response<Full<Bytes>> {
    let mut page = Page::new("Not found");
    page.push(Section::new("").line("There is no such page, or it is not yours to see."));
    dress(&mut page, session);
    html(StatusCode::NOT_FOUND, &page)
}

/// The session of a cookie, if live; a dead one clears the cookie and goes to login.
async fn live_session(
    console: &Console,
    token: &str,
    peer: IpAddr,
) -> Result<Option<Session>, Response<Full<Bytes>>> {
    let hash = sha256_hex(token);
    let now = format_timestamp(console.app.clock.now());
    let lookup = hash.clone();
    let found = console
        .app
        .db
        .read(move |tx| operators::session(tx, &lookup, &now))
        .await;
    match found {
        Ok(Ok(Some((operator, csrf)))) => Ok(Some(Session {
            operator,
            csrf,
            token_hash: hash,
            peer: peer.to_string(),
        })),
        Ok(Ok(None)) => {
            let mut r = redirect("/login");
            set_cookie(
                &mut r,
                format!(
                    "{SESSION_COOKIE}=; Path=/; Max-Age=0{}",
                    console.cookie_attributes()
                ),
            );
            Err(r)
        }
        Ok(Err(e)) | Err(e) => {
            tracing::error!(error = %e, "console session lookup failed");
            Err(text(StatusCode::SERVICE_UNAVAILABLE, "try again shortly\n"))
        }
    }
}

/// The login form. Its token is the one in the browser's login cookie when it has a
/// well-formed one (so two tabs, or a page loaded twice, keep one token), else new.
fn login_page(
    console: &Console,
    existing: Option<String>,
    error: Option<&str>,
    status: StatusCode,
) -> Response<Full<Bytes>> {
    let token = existing
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(random_hex);
    let mut page = Page::new("Log in");
    page.csrf = token.clone();
    page.error = error.map(str::to_string);
    page.push(Section::new("").form(Form::post(
        "/login",
        "Log in",
        vec![Field::text("login", "Operator"), {
            let mut f = Field::password("password", "Password");
            f.name = "password".into();
            f
        }],
    )));
    let mut response = html(status, &page);
    set_cookie(
        &mut response,
        format!(
            "{LOGIN_COOKIE}={token}; Path=/login; Max-Age=900{}",
            console.cookie_attributes()
        ),
    );
    response
}

/// What a password check against an operator row decided.
enum Checked {
    Right(OperatorRow),
    Wrong(Option<i64>),
}

/// `POST /login`: the login form's token must match its cookie; then the password is
/// checked like a SOAP user's (unknown, disabled and locked operators cost one argon2
/// verification too and read the same).
async fn login(
    console: &Arc<Console>,
    form: &[(String, String)],
    login_cookie: Option<&str>,
    peer: IpAddr,
) -> Response<Full<Bytes>> {
    let token = value(form, "csrf").unwrap_or("");
    if login_cookie.is_none_or(|c| !same(c, token)) {
        return text(
            StatusCode::FORBIDDEN,
            "the login form's security token is missing or wrong; reload the page\n",
        );
    }
    let login = value(form, "login").unwrap_or("").to_string();
    let password = value(form, "password").unwrap_or("").to_string();
    let app = console.app.clone();
    let row = {
        let login = login.clone();
        app.db.read(move |tx| operators::by_login(tx, &login)).await
    };
    let row = match row {
        Ok(Ok(row)) => row,
        Ok(Err(e)) | Err(e) => {
            tracing::error!(error = %e, "console login lookup failed");
            return text(StatusCode::SERVICE_UNAVAILABLE, "try again shortly\n");
        }
    };
    let now = app.clock.now();
    let config = app.config.auth;
    let locked = |r: &OperatorRow| {
        r.locked_until
            .as_deref()
            .and_then(crate::clock::parse_timestamp)
            .is_some_and(|until| until > now)
    };
    let candidate = row.filter(|r| r.enabled && !locked(r));
    let granted = candidate.as_ref().is_some_and(|r| {
        console
            .lockout
            .try_claim(r.id, r.failed_attempts, r.auth_version, now, &config)
            == Claim::Granted
    });
    let _permit = app.argon2_permits.acquire().await;
    let checked = match candidate {
        Some(r) if granted => {
            let hash = r.password_hash.clone();
            let right = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
                .await
                .unwrap_or(false);
            let verdict = if right {
                Verdict::Right
            } else {
                Verdict::Wrong
            };
            console
                .lockout
                .finish(r.id, verdict, app.clock.now(), &config);
            if right {
                Checked::Right(r)
            } else {
                Checked::Wrong(Some(r.id))
            }
        }
        _ => {
            let _ =
                tokio::task::spawn_blocking(move || verify_password(&password, dummy_hash())).await;
            Checked::Wrong(None)
        }
    };
    drop(_permit);
    match checked {
        Checked::Wrong(id) => {
            if let Some(id) = id {
                let until = format_timestamp(now + config.lockout_duration);
                let threshold = config.lockout_threshold;
                let _ = app
                    .db
                    .write(move |tx| operators::record_failure(tx, id, threshold, &until))
                    .await;
            }
            tracing::info!(console = true, %peer, "operator login refused");
            login_page(
                console,
                None,
                Some(
                    "Login failed: wrong operator or password, or the operator is locked or disabled.",
                ),
                StatusCode::UNAUTHORIZED,
            )
        }
        Checked::Right(r) => {
            let token = random_hex();
            let csrf = random_hex();
            let hash = sha256_hex(&token);
            let created = format_timestamp(now);
            let expires = format_timestamp(now + console.config.session_ttl);
            let id = r.id;
            let peer_text = peer.to_string();
            let stored = app
                .db
                .write(move |tx| {
                    operators::record_success(tx, id)?;
                    operators::create_session(tx, &hash, id, &csrf, &created, &expires, &peer_text)
                })
                .await;
            if !matches!(stored, Ok(Ok(()))) {
                return text(StatusCode::SERVICE_UNAVAILABLE, "try again shortly\n");
            }
            let mut response = redirect("/");
            let ttl = console.config.session_ttl.whole_seconds();
            set_cookie(
                &mut response,
                format!(
                    "{SESSION_COOKIE}={token}; Path=/; Max-Age={ttl}{}",
                    console.cookie_attributes()
                ),
            );
            set_cookie(
                &mut response,
                format!(
                    "{LOGIN_COOKIE}=; Path=/login; Max-Age=0{}",
                    console.cookie_attributes()
                ),
            );
            tracing::info!(console = true, operator = %r.login, %peer, "operator logged in");
            response
        }
    }
}

/// Serves the console on `listener` until `shutdown` completes, then lets in-flight
/// requests finish (at most the drain timeout).
///
/// # Errors
///
/// Never for one bad connection.
pub async fn serve(
    listener: TcpListener,
    console: Arc<Console>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer): (tokio::net::TcpStream, SocketAddr) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "console accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let console = console.clone();
                let service = service_fn(move |request| {
                    let console = console.clone();
                    async move { Ok::<_, Infallible>(handle(&console, request, peer.ip()).await) }
                });
                let mut builder = http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .max_buf_size(64 * 1024);
                let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(%peer, error = %e, "console connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
    Ok(())
}

/// The demo platform operator `serve --demo` creates.
pub const DEMO_OPERATOR: &str = "operator";
/// Its password (documented in the README; a demo only).
pub const DEMO_OPERATOR_PASSWORD: &str = "operator-password";

/// Creates the demo platform operator when missing; `true` when it was created.
///
/// # Errors
///
/// The store failing.
pub fn ensure_demo_operator(
    tx: &Tx<'_>,
    hash: impl FnOnce(&str) -> String,
    now: &str,
) -> Result<bool, AdminError> {
    if operators::by_login(tx, DEMO_OPERATOR)?.is_some() {
        return Ok(false);
    }
    operators::add(tx, DEMO_OPERATOR, &hash(DEMO_OPERATOR_PASSWORD), None, now)?;
    Ok(true)
}
