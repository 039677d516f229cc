//! The operator console through `console::handle` (no socket): login and lockout,
//! sessions that expire and end when the operator is disabled, CSRF and Origin checks,
//! the security headers, the issue's scenario (a platform operator sets up a lender and
//! an integration user; a SOAP client logs in at once; disabling refuses its next call;
//! the audit log lists the changes), paging and masking, `/metrics` on both listeners,
//! and the cross-organisation walk: EVERY page and action of `console::PAGES` and
//! `console::ACTIONS` (checked against the router's source) with another
//! organisation's ids answers "not found" and changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use allps_ws::cli::fixtures::BASE_SQL;
use allps_ws::console::{ACTIONS, Console, ConsoleConfig, PAGES};
use allps_ws::store::operators;
use allps_ws::testing::TestService;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;

const PLATFORM: &str = "root";
const DEMO_ADMIN: &str = "demo-admin";
const OTHER_ADMIN: &str = "other-admin";
const OP_PASSWORD: &str = "operator-password-1";

struct Answer {
    status: u16,
    headers: hyper::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A browser: cookies and the page's CSRF token.
struct Browser {
    console: Arc<Console>,
    cookies: BTreeMap<String, String>,
    csrf: String,
}

fn csrf_of(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(body[at..].chars().take_while(|c| *c != '"').collect())
}

impl Browser {
    fn new(console: &Arc<Console>) -> Browser {
        Browser {
            console: console.clone(),
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    async fn send(&mut self, request: hyper::http::request::Builder, body: String) -> Answer {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = request
            .header("host", "console.test")
            .header("cookie", cookie)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response =
            allps_ws::console::handle(&self.console, request, "127.0.0.9".parse().unwrap()).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for v in headers.get_all("set-cookie") {
            let text = v.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let body = String::from_utf8(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap();
        if let Some(token) = csrf_of(&body) {
            self.csrf = token;
        }
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.send(Request::get(path), String::new()).await
    }

    /// Posts a form with the page's CSRF token.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut pairs = vec![format!("csrf={}", self.csrf)];
        pairs.extend(fields.iter().map(|(k, v)| format!("{k}={}", enc(v))));
        self.post_raw(path, pairs.join("&")).await
    }

    async fn post_raw(&mut self, path: &str, body: String) -> Answer {
        self.send(
            Request::post(path).header("content-type", "application/x-www-form-urlencoded"),
            body,
        )
        .await
    }

    async fn login(&mut self, login: &str, password: &str) -> Answer {
        let page = self.get("/login").await;
        assert_eq!(page.status, 200);
        self.post("/login", &[("login", login), ("password", password)])
            .await
    }
}

fn enc(v: &str) -> String {
    allps_ws::console::view::pct(v)
}

async fn setup(config: ConsoleConfig) -> (TestService, Arc<Console>) {
    let service = TestService::new().await;
    service.execute_sql(BASE_SQL).await;
    for seed in ["payout_accounts", "note_unpaid_instalment", "replies"] {
        service
            .execute_sql(allps_ws::cli::fixtures::shared_seed(seed).unwrap())
            .await;
    }
    let hash = allps_ws::auth::hash_password(OP_PASSWORD);
    service
        .app
        .db
        .write(move |tx| {
            let now = "2026-11-23T08:00:00Z";
            operators::add(tx, PLATFORM, &hash, None, now)?;
            operators::add(tx, DEMO_ADMIN, &hash, Some("DEMO"), now)?;
            operators::add(tx, OTHER_ADMIN, &hash, Some("OTHER"), now)?;
            allps_ws::store::admin::set_computer(tx, "DEMO", "demo", "PC-9", true)
        })
        .await
        .unwrap()
        .unwrap();
    let console = Console::new(service.app.clone(), config);
    (service, console)
}

async fn logged_in(console: &Arc<Console>, login: &str) -> Browser {
    let mut b = Browser::new(console);
    let answer = b.login(login, OP_PASSWORD).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let home = b.get("/").await;
    assert_eq!(home.status, 303);
    let page = b.get(home.location()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    b
}

/// The ids of DEMO's data and of OTHER's (OTHER has a branch and a user, no business
/// data: the walk uses DEMO's real ids against an OTHER administrator and OTHER's
/// against a DEMO administrator).
fn ids(org: &str) -> BTreeMap<&'static str, &'static str> {
    let mut m = BTreeMap::new();
    if org == "DEMO" {
        m.extend([
            ("org", "DEMO"),
            ("branch", "BR001"),
            ("user", "demo"),
            ("client", "C1001"),
            ("note", "1"),
            ("payment", "1"),
            ("wallet", "1"),
            ("operator", DEMO_ADMIN),
        ]);
    } else {
        m.extend([
            ("org", "OTHER"),
            ("branch", "BR001"),
            ("user", "demo"),
            ("client", "C1001"),
            ("note", "1"),
            ("payment", "1"),
            ("wallet", "1"),
            ("operator", OTHER_ADMIN),
        ]);
    }
    m
}

fn fill(pattern: &str, ids: &BTreeMap<&str, &str>) -> String {
    let mut out = pattern.to_string();
    for (k, v) in ids {
        out = out.replace(&format!("{{{k}}}"), &enc(v));
    }
    assert!(!out.contains('{'), "unfilled {pattern}");
    out
}

/// Form fields good enough for every action (so a refusal is about scope, not input).
const FIELDS: &[(&str, &str)] = &[
    ("code", "NEWCODE"),
    ("name", "New name"),
    ("user", "newuser"),
    ("login", "newlogin"),
    ("password", "a-good-password-1"),
    ("branch", "BR001"),
    ("right", "WEB_SERVICES"),
    ("computer", "PC-9"),
    ("date", "2027-03-10"),
    ("legal_name", "Changed (Pty) Ltd"),
];

/// The route shapes in the router's source (`["org", org, "user", name]` →
/// `/org/{}/user/{}`), with `a @ ("x" | "y")` expanded.
fn routes_in(source: &str) -> Vec<String> {
    let mut shapes = Vec::new();
    // rustfmt may wrap a long pattern over several lines: join them first.
    let mut arms = Vec::new();
    let mut pending: Option<String> = None;
    for line in source.lines() {
        let line = line.trim();
        let joined = match pending.take() {
            Some(start) => format!("{start} {line}"),
            None if line.starts_with('[') => line.to_string(),
            None => continue,
        };
        if joined.contains("] =>") {
            arms.push(joined);
        } else if joined.len() < 400 {
            pending = Some(joined);
        }
    }
    for line in arms {
        let inner = &line[1..line.find("] =>").unwrap()];
        let mut variants = vec![String::new()];
        for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let choices: Vec<String> = if let Some((_, alts)) = part.split_once(" @ ") {
                alts.trim_matches(|c| c == '(' || c == ')')
                    .split(" | ")
                    .map(|a| a.trim_matches('"').to_string())
                    .collect()
            } else if part.starts_with('"') {
                vec![part.trim_matches('"').to_string()]
            } else {
                vec!["{}".to_string()]
            };
            variants = variants
                .iter()
                .flat_map(|v| choices.iter().map(move |c| format!("{v}/{c}")))
                .collect();
        }
        for v in variants {
            shapes.push(if v.is_empty() { "/".into() } else { v });
        }
    }
    shapes
}

fn shape(pattern: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for c in pattern.chars() {
        match c {
            '{' => {
                skipping = true;
                out.push_str("{}");
            }
            '}' => skipping = false,
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

fn covers(listed: &str, routed: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (listed.split('/').collect(), routed.split('/').collect());
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || *y == "{}")
}

#[test]
fn the_route_lists_match_the_router() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
    for (file, listed) in [("pages.rs", PAGES), ("actions.rs", ACTIONS)] {
        let source = std::fs::read_to_string(root.join(file)).unwrap();
        let routed = routes_in(&source);
        assert!(routed.len() >= 10, "{file}: {routed:?}");
        let listed: Vec<String> = listed.iter().map(|p| shape(p)).collect();
        for r in &routed {
            assert!(
                listed.iter().any(|l| covers(l, r)),
                "{file} routes {r}, which console::{} does not list",
                if file == "pages.rs" {
                    "PAGES"
                } else {
                    "ACTIONS"
                }
            );
        }
        for l in &listed {
            assert!(
                routed.iter().any(|r| covers(l, r)),
                "{l} is listed but {file} does not route it"
            );
        }
    }
}

#[tokio::test]
async fn an_organisation_administrator_cannot_reach_another_organisation() {
    let (service, console) = setup(ConsoleConfig::default()).await;
    for (admin, own, foreign) in [
        (OTHER_ADMIN, "OTHER", "DEMO"),
        (DEMO_ADMIN, "DEMO", "OTHER"),
    ] {
        let mut b = logged_in(&console, admin).await;
        let own_ids = ids(own);
        let foreign_ids = ids(foreign);
        // Its own pages answer (where its organisation has the data), so the walk below
        // is refused for the right reason.
        for pattern in PAGES {
            if ["/orgs", "/operators", "/jobs"].contains(pattern) {
                continue;
            }
            let path = fill(pattern, &own_ids);
            let answer = b.get(&path).await;
            let has_data = own == "DEMO"
                || !["{client}", "{note}", "{payment}", "{wallet}"]
                    .iter()
                    .any(|k| pattern.contains(k));
            if has_data {
                assert!(
                    matches!(answer.status, 200 | 303),
                    "{admin} on its own {path}: {}",
                    answer.status
                );
            }
        }
        // Every page with the other organisation's ids: not found, nothing of it shown.
        for pattern in PAGES {
            let path = fill(pattern, &foreign_ids);
            let answer = b.get(&path).await;
            if !pattern.contains("{org}") && !["/orgs", "/operators", "/jobs"].contains(pattern) {
                // Pages without an organisation in the path are scoped by the session.
                assert!(
                    !answer.body.contains(&format!(">{foreign}<")),
                    "{admin} sees {foreign} on {path}"
                );
                continue;
            }
            assert_eq!(
                answer.status, 404,
                "{admin} reached {path}: {}",
                answer.body
            );
            for secret in [
                "Thabo",
                "C1001",
                "Demo Micro Lender",
                "Other Lender",
                "LN2026090001",
            ] {
                assert!(
                    !answer.body.contains(secret),
                    "{admin} saw {secret} on {path}"
                );
            }
        }
        // Every action with the other organisation's ids: not found, nothing changed.
        let before = service.store_digest().await;
        for pattern in ACTIONS {
            let path = fill(pattern, &foreign_ids);
            b.get("/audit").await; // a fresh page, hence a valid token
            let mut fields: Vec<(&str, &str)> = FIELDS.to_vec();
            // A form field naming the other organisation is refused too.
            fields.push(("org", foreign));
            let answer = b.post(&path, &fields).await;
            assert_eq!(answer.status, 404, "{admin} posted {path}: {}", answer.body);
        }
        assert_eq!(
            before,
            service.store_digest().await,
            "an action of {admin} changed the store"
        );
        // The audit page shows only its own organisation's entries.
        let audit = b.get("/audit").await;
        assert!(!audit.body.contains(&format!("<td>{foreign}</td>")));
    }
}

#[tokio::test]
async fn forms_without_their_token_or_from_another_origin_are_refused() {
    let (service, console) = setup(ConsoleConfig::default()).await;
    let mut b = logged_in(&console, PLATFORM).await;
    let before = service.store_digest().await;
    let missing = b.post_raw("/orgs", "code=EVIL&name=Evil".to_string()).await;
    assert_eq!(missing.status, 403);
    let wrong = b
        .post_raw("/orgs", "csrf=00ff&code=EVIL&name=Evil".to_string())
        .await;
    assert_eq!(wrong.status, 403);
    let token = b.csrf.clone();
    let cross = b
        .send(
            Request::post("/orgs").header("origin", "http://evil.example"),
            format!("csrf={token}&code=EVIL&name=Evil"),
        )
        .await;
    assert_eq!(cross.status, 403);
    assert_eq!(before, service.store_digest().await);
    // A login form posted without the login page's cookie is refused before any check.
    let mut stranger = Browser::new(&console);
    let forged = stranger
        .post_raw(
            "/login",
            format!("csrf=abc&login={PLATFORM}&password={OP_PASSWORD}"),
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(!stranger.cookies.contains_key("allps_console"));
    // With its token the same form works.
    let ok = b.post("/orgs", &[("code", "GOOD"), ("name", "Good")]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
}

#[tokio::test]
async fn headers_cookies_sessions_and_lockout() {
    let (service, console) = setup(ConsoleConfig {
        session_ttl: time::Duration::minutes(30),
        secure_cookies: true,
    })
    .await;
    let mut b = Browser::new(&console);
    let page = b.get("/login").await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert!(page.headers.contains_key("strict-transport-security"));
    let answer = b
        .post("/login", &[("login", PLATFORM), ("password", OP_PASSWORD)])
        .await;
    assert_eq!(answer.status, 303);
    let cookie = answer
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("allps_console="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert_eq!(b.get("/orgs").await.status, 200);
    // The session expires.
    service.clock.advance(time::Duration::minutes(31));
    let expired = b.get("/orgs").await;
    assert_eq!((expired.status, expired.location()), (303, "/login"));

    // Disabling an operator ends its session at once.
    let mut admin = logged_in(&console, DEMO_ADMIN).await;
    let mut root = logged_in(&console, PLATFORM).await;
    root.get("/operators").await;
    let disabled = root
        .post(&format!("/operators/{DEMO_ADMIN}/disable"), &[])
        .await;
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    let after = admin.get("/org/DEMO").await;
    assert_eq!((after.status, after.location()), (303, "/login"));
    let again = Browser::new(&console).login(DEMO_ADMIN, OP_PASSWORD).await;
    assert_eq!(again.status, 401);

    // The SOAP path's lockout rules: the threshold of wrong passwords locks the operator,
    // after which even the right password is refused, with the same answer.
    let threshold = service.app.config.auth.lockout_threshold;
    for _ in 0..threshold {
        let wrong = Browser::new(&console)
            .login(OTHER_ADMIN, "wrong-password-x")
            .await;
        assert_eq!(wrong.status, 401);
    }
    let locked = Browser::new(&console).login(OTHER_ADMIN, OP_PASSWORD).await;
    assert_eq!(locked.status, 401);
    let unknown = Browser::new(&console).login("nobody", OP_PASSWORD).await;
    assert_eq!(unknown.status, 401);
    assert_eq!(
        locked.body.replace(&csrf_of(&locked.body).unwrap(), ""),
        unknown.body.replace(&csrf_of(&unknown.body).unwrap(), "")
    );
    // Logging out ends the session.
    root.get("/orgs").await;
    let out = root.post("/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(root.get("/orgs").await.status, 303);
}

fn login_envelope(org: &str, branch: &str, user: &str, password: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <Login xmlns="urn:allps:ws:v1"><UserName>{user}</UserName><Password>{password}</Password><ComputerName>PC-1</ComputerName><OrgCode>{org}</OrgCode><BranchCode>{branch}</BranchCode><TerminalType>NONE</TerminalType></Login>
  </soap:Body>
</soap:Envelope>"#
    )
}

#[tokio::test]
async fn the_issue_scenario_then_paging_masking_and_metrics() {
    let (service, console) = setup(ConsoleConfig::default()).await;
    let mut b = logged_in(&console, PLATFORM).await;
    b.get("/orgs").await;
    let r = b
        .post("/orgs", &[("code", "ACME"), ("name", "Acme Loans")])
        .await;
    assert_eq!((r.status, r.location()), (303, "/org/ACME"), "{}", r.body);
    b.get("/org/ACME").await;
    let r = b
        .post(
            "/org/ACME/branches",
            &[("code", "HQ"), ("name", "Head office")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    b.get("/org/ACME/users").await;
    let r = b
        .post(
            "/org/ACME/users",
            &[
                ("user", "clerk"),
                ("password", "clerk-password-1"),
                ("branch", "HQ"),
                ("right", "WEB_SERVICES"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // A SOAP client logs in with it at once.
    let soap = service
        .post(&login_envelope("ACME", "HQ", "clerk", "clerk-password-1"))
        .await;
    assert!(soap.body.contains("<SessionId>"), "{}", soap.body);
    // Disabled in the console: the next call is refused.
    b.get("/org/ACME/user/clerk").await;
    let r = b.post("/org/ACME/user/clerk/disable", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let refused = service
        .post(&login_envelope("ACME", "HQ", "clerk", "clerk-password-1"))
        .await;
    assert!(refused.body.contains("USER_DISABLED"), "{}", refused.body);
    // The audit log lists the changes, newest first, with who and from where.
    let audit = b.get("/audit").await;
    let body = &audit.body;
    let positions: Vec<usize> = ["user.disable", "user.add", "branch.add", "org.add"]
        .iter()
        .map(|a| {
            body.find(&format!("<td>{a}</td>"))
                .unwrap_or_else(|| panic!("{a} missing: {body}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(body.contains("console:root") && body.contains("127.0.0.9"));

    // A bad input is refused with its reason and changes nothing.
    b.get("/org/ACME/users").await;
    let weak = b
        .post("/org/ACME/users", &[("user", "x2"), ("password", "short")])
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.body.contains("too short"));

    // Paging: 120 more clients; 50 a page with a link to the next.
    let mut sql = String::new();
    for i in 0..120 {
        sql.push_str(&format!(
            "INSERT INTO clients (branch_id, employer_id, client_number, first_name, surname, id_type, id_number, date_of_birth, gender, created_by, created_at) VALUES (1, 1, 'P{i:04}', 'Page', 'Client', 'SA_ID', '8001015009087', '1980-01-01', 'M', 1, '2026-11-02T08:00:00Z');\n"
        ));
    }
    service.execute_sql(&sql).await;
    let first = b.get("/org/DEMO/branch/BR001/clients?q=P").await;
    assert_eq!(first.body.matches("/client/P").count(), 50);
    assert!(first.body.contains("after=P0049"), "{}", first.body);
    assert!(!first.body.contains("8001015009087"));
    assert!(first.body.contains("*********9087"));
    let second = b
        .get("/org/DEMO/branch/BR001/clients?q=P&after=P0049")
        .await;
    assert!(second.body.contains(">P0050<") && !second.body.contains(">P0049<"));
    let search = b.get("/org/DEMO/branch/BR001/clients?q=C1001").await;
    assert!(search.body.contains("Thabo") && !search.body.contains("8503145123084"));
    // The note with its instalments and collection outcomes, accounts masked.
    let note = b.get("/org/DEMO/branch/BR001/note/1").await;
    assert!(note.body.contains("UNPAID") && note.body.contains("LN2026090001"));
    assert!(!note.body.contains("1376543212"));
    let payment = b.get("/org/DEMO/branch/BR001/payment/1").await;
    assert!(payment.body.contains("LOAN-77-PAYOUT") && !payment.body.contains("62001234567"));
    let replies = b.get("/org/DEMO/branch/BR001/replies").await;
    assert!(replies.body.contains("PAYMENT_RETURNED"));
    let wallets = b.get("/org/DEMO/branch/BR001/wallets").await;
    assert!(wallets.body.contains("W0000000001"));
    let jobs = b.get("/jobs").await;
    assert_eq!(jobs.status, 200);

    // /metrics on the console and on the SOAP listener.
    let metrics = b.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .contains("allps_requests_total{operation=\"Login\",kind=\"result\",code=\"OK\"} 1"),
        "{}",
        metrics.body
    );
    assert!(
        metrics
            .body
            .contains("kind=\"fault\",code=\"USER_DISABLED\"} 1")
    );
    assert!(
        metrics
            .body
            .contains("allps_request_duration_seconds_count{operation=\"Login\"} 2")
    );
    assert!(metrics.body.contains("allps_replies_written_total "));
    assert!(metrics.body.contains("allps_collection_attempts_total"));
    assert_eq!(b.get("/health").await.status, 200);
    assert_eq!(b.get("/health/live").await.status, 200);
    let soap_metrics = allps_ws::server::http::handle(
        &service.app,
        Request::get("/metrics")
            .body(Full::new(Bytes::new()))
            .unwrap(),
    )
    .await;
    assert_eq!(soap_metrics.status(), 200);
    assert!(
        soap_metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
}
