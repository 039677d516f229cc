//! `allps-ws replay`: posts fixture cases to a running server, or to sandboxes of its own
//! ([`spawn`], `--spawn`), and compares each answer with the case's stored `response.snap`
//! (status, content type, and the body as an XML tree, see [`diff`]), printing one line per
//! case, the differences, and a summary; `--junit` also writes a report ([`junit`]). A
//! directory recorded by `serve --record` is replayed as one session, in order.
//!
//! The server's store accumulates across cases, so replay runs the cases whose snapshot
//! says `store: unchanged` first, then the ones that change the store, each group in path
//! order; generated identifiers are matched by consistent renaming rather than by value.
//! For a case with setup steps, the steps are also run on an in-process fresh store
//! seeded like the fixture harness's, to learn which live identifiers stand for the ones
//! the case's request (written for a fresh store) refers to.

pub mod case;
pub mod diff;
pub mod junit;
pub mod spawn;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::cli::fixtures::InProcess;
use crate::server::record::{PASSWORD_PLACEHOLDER, SESSION_FILE, SESSION_PLACEHOLDER};
use crate::wire::soap::SOAP12_NS;
use crate::wire::xml::Element;
use case::{Case, Snapshot};
use diff::{IdMap, Masking};
use spawn::{Sandbox, Seed};

/// `allps-ws replay`.
#[derive(Debug, Args)]
#[command(
    about = "Post fixture cases to a running server and diff its answers against the stored snapshots",
    long_about = "Post fixture cases (every request.xml under DIR: the fixtures directory, one \
operation's folder or one case) to a running server and compare each answer with the case's \
response.snap: HTTP status, Content-Type, and the body as an XML tree (namespace URI and local \
name of elements, attributes by namespace, text trimmed; prefixes and whitespace-only text \
never count). Differences print as paths: \
`/Envelope/Body/GetClientResponse/Result/Code: expected 0, got 201`.\n\n\
Each case's setup/*.xml steps are sent first and must succeed (Result Code 0); headers.txt \
replaces the default Content-Type (text/xml for a SOAP 1.1 envelope, application/soap+xml for \
1.2); {{SESSION}} is replaced by the SessionId of a fresh Login as DEMO/demo/demo-password on \
BR001 from LENDER-PC01, {{PASSWORD}} by --password. Against a running server, cases with \
seed.sql, seeds.txt or clock.txt need the store or the clock and are skipped, as are cases with \
a replay.skip file (its first line says why). With --spawn replay starts servers of its own \
(this binary, a free loopback port, a fresh temporary database seeded with the fixture \
principals, base.sql and the case's seeds, a clock it moves for clock.txt) and skips nothing. \
base.sql and the shared seeds are built into the binary; a base.sql and seeds/ at or above DIR \
are used instead.\n\n\
A directory holding recording.txt (written by `serve --record`) is one recorded session: its \
cases run in order, with generated identifiers and the last Login's SessionId carried from \
case to case; --spawn replays it on a fresh `serve --demo` sandbox.\n\n\
Masking:\n\
  - SessionId text is never compared (random per Login).\n\
  - Any text or attribute that is an xs:dateTime on both sides is not compared (timestamps). \
xs:date values are compared: run the server with --fixed-time 2026-11-23T08:00:00Z.\n\
  - faultcode and SOAP 1.2 Value texts are QNames: only their local parts are compared.\n\
  - Generated identifiers (AllpsClientNumber, AccountId, PromissoryNumber, PaymentNumber, \
WalletRequestId, WalletNumber, Sequence, NextSequence) are compared by consistent renaming: \
within a case each snapshot value must always stand for the same live value and vice versa. \
Live identifiers of 6+ characters inside other texts (messages, file names) are renamed \
back before comparing, and a Document's Content and Sha256 are not compared once an \
identifier was renamed (the document embeds it). Identifiers in requests (and \
SinceSequence) are rewritten to the live server's, learned by also running the case's setup \
steps on an in-process fresh store. --exact-ids turns renaming off.\n\n\
Order: cases whose snapshot says `store: unchanged` run first, then the others, each group in \
path order, so that reads and refusals see the fixtures' base data before writers add to it.\n\n\
Prepare a server for the bundled fixtures with:\n  \
allps-ws admin --db replay.db seed-fixtures\n  \
allps-ws serve --db replay.db --fixed-time 2026-11-23T08:00:00Z\n\n\
Report: one line per case and a summary on standard output, a progress line on standard \
error when it is a terminal, and with --junit FILE a JUnit XML report (one testcase per \
case, the differences as failure text).\n\n\
Exit status: 0 when every replayed case matched; 1 on a difference or a failed setup step; 2 \
when the server could not be reached, answered too late or could not be started, or on a \
usage error.",
    after_help = "Example:\n  allps-ws replay fixtures --endpoint http://127.0.0.1:8080/allps\n  \
allps-ws replay fixtures/add_client/ok_sa_id --endpoint http://127.0.0.1:8080/allps\n  \
allps-ws replay fixtures --spawn --junit report.xml"
)]
pub struct ReplayArgs {
    /// The fixtures directory, one operation's folder, or one case.
    pub dir: PathBuf,
    /// The running server's SOAP endpoint (http only).
    #[arg(
        long,
        env = "ALLPS_ENDPOINT",
        default_value = "http://127.0.0.1:8080/allps"
    )]
    pub endpoint: String,
    /// Compare generated identifiers by value (for one case against a freshly seeded
    /// store).
    #[arg(long, env = "ALLPS_REPLAY_EXACT_IDS")]
    pub exact_ids: bool,
    /// Seconds to wait for each response.
    #[arg(long, env = "ALLPS_REPLAY_TIMEOUT", default_value_t = 30)]
    pub timeout: u64,
    /// Start a sandbox server of replay's own (this binary, a free loopback port, a fresh
    /// temporary database seeded for the cases, a fixed clock) instead of using
    /// --endpoint; cases that need their own seeds or clock get their own sandbox.
    #[arg(long, env = "ALLPS_REPLAY_SPAWN")]
    pub spawn: bool,
    /// Also write a JUnit XML report to FILE (one test case per fixture case).
    #[arg(long, env = "ALLPS_REPLAY_JUNIT", value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// The password {{PASSWORD}} stands for in recorded requests.
    #[arg(long, env = "ALLPS_REPLAY_PASSWORD", default_value = crate::cli::fixtures::PASSWORD)]
    pub password: String,
}

/// Exit status: every replayed case matched.
pub const EXIT_OK: u8 = 0;
/// Exit status: a case differed or failed (setup step, unreadable case).
pub const EXIT_DIFFERENCES: u8 = 1;
/// Exit status: the server could not be reached or started, or answered too late
/// (also for a command line that cannot run).
pub const EXIT_TRANSPORT: u8 = 2;

/// The Login request `{{SESSION}}` stands for (the fixture harness's).
pub const LOGIN: &str = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Login xmlns="urn:allps:ws:v1"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></Login></soap:Body></soap:Envelope>"#;

/// How one case went.
#[derive(Debug)]
pub enum Outcome {
    /// The answer matched.
    Ok,
    /// The answer differed.
    Diff(Vec<String>),
    /// Not replayable remotely.
    Skipped(String),
    /// A setup step failed or the case is unreadable.
    Error(String),
    /// The server could not be reached, did not answer in time, or could not be started.
    Transport(String),
}

/// Why a case could not be compared.
#[derive(Debug)]
enum Failure {
    /// The case itself (setup step refused, unreadable file).
    Case(String),
    /// The transport or the sandbox.
    Transport(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Case(message)
    }
}

/// One case's result and the time it took.
#[derive(Debug)]
pub struct Ran {
    /// The case.
    pub case: Case,
    /// How it went.
    pub outcome: Outcome,
    /// Seconds spent on it (setup steps included).
    pub seconds: f64,
}

/// Replays the cases and prints the report.
///
/// # Errors
///
/// Only for problems before any case runs (bad endpoint, no cases). Otherwise the exit
/// status: [`EXIT_OK`], [`EXIT_DIFFERENCES`] or [`EXIT_TRANSPORT`].
pub fn run(args: ReplayArgs) -> Result<u8, String> {
    let uri: Option<Uri> = if args.spawn {
        None
    } else {
        let uri: Uri = args
            .endpoint
            .parse()
            .map_err(|e| format!("--endpoint {}: {e}", args.endpoint))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!(
                "--endpoint {}: only http://host:port/path endpoints are supported",
                args.endpoint
            ));
        }
        Some(uri)
    };
    if !args.dir.exists() {
        return Err(format!("{} does not exist", args.dir.display()));
    }
    let cases = case::discover(&args.dir)?;
    if cases.is_empty() {
        return Err(format!(
            "no fixture cases (request.xml) under {}",
            args.dir.display()
        ));
    }
    let recording = std::fs::read_to_string(args.dir.join(SESSION_FILE)).ok();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let replayer = Replayer {
        client: Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build_http(),
        masking: Masking {
            exact_ids: args.exact_ids,
        },
        timeout: Duration::from_secs(args.timeout.max(1)),
        password: args.password.clone(),
        fixtures: case::find_base_sql(&args.dir).and_then(|p| p.parent().map(Path::to_path_buf)),
        progress: Progress::new(cases.len()),
        sandboxes: std::cell::Cell::new(0),
        reruns: std::cell::Cell::new(0),
    };
    let started = Instant::now();
    let results = runtime.block_on(async {
        match (&recording, uri) {
            (Some(text), uri) => replayer.run_session(cases, uri, text).await,
            (None, Some(uri)) => replayer.run_all(cases, &Target::remote(uri)).await,
            (None, None) => replayer.run_spawned(cases).await,
        }
    });
    replayer.progress.clear();
    let count = |f: fn(&Outcome) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
    let passed = count(|o| matches!(o, Outcome::Ok));
    let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
    let transport = count(|o| matches!(o, Outcome::Transport(_)));
    let failed = results.len() - passed - skipped;
    let transport_note = if transport > 0 {
        format!(" ({transport} transport errors)")
    } else {
        String::new()
    };
    if args.spawn {
        eprintln!(
            "replay: {} sandbox servers ({} for cases run again alone) in {:.1} s",
            replayer.sandboxes.get(),
            replayer.reruns.get(),
            started.elapsed().as_secs_f64()
        );
    }
    println!("replay: {passed} passed, {failed} failed, {skipped} skipped{transport_note}");
    if let Some(path) = &args.junit {
        junit::write(path, &results, started.elapsed().as_secs_f64())
            .map_err(|e| format!("--junit {}: {e}", path.display()))?;
    }
    Ok(if transport > 0 {
        EXIT_TRANSPORT
    } else if failed > 0 {
        EXIT_DIFFERENCES
    } else {
        EXIT_OK
    })
}

/// Where the cases go: a running server, or a sandbox of replay's own.
struct Target {
    uri: Uri,
    sandbox: Option<Sandbox>,
}

impl Target {
    fn remote(uri: Uri) -> Target {
        Target { uri, sandbox: None }
    }

    async fn spawn(seed: &Seed<'_>, now: time::OffsetDateTime) -> Result<Target, String> {
        let sandbox = Sandbox::start(seed, now).await?;
        let uri = sandbox
            .endpoint
            .parse()
            .map_err(|e| format!("sandbox endpoint {}: {e}", sandbox.endpoint))?;
        Ok(Target {
            uri,
            sandbox: Some(sandbox),
        })
    }
}

/// The progress line on a terminal (standard error), cleared before each report line.
struct Progress {
    total: usize,
    done: std::cell::Cell<usize>,
    tty: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: std::cell::Cell::new(0),
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn start(&self, name: &str) {
        if self.tty {
            let name: String = name.chars().take(60).collect();
            eprint!("\r\x1b[K[{}/{}] {name}", self.done.get() + 1, self.total);
        }
    }

    fn clear(&self) {
        if self.tty {
            eprint!("\r\x1b[K");
        }
    }

    /// Prints a case's report lines.
    fn report(&self, ran: &Ran) {
        self.clear();
        self.done.set(self.done.get() + 1);
        let name = &ran.case.name;
        match &ran.outcome {
            Outcome::Ok => println!("ok       {name}"),
            Outcome::Skipped(reason) => println!("skipped  {name} ({reason})"),
            Outcome::Diff(lines) => {
                println!("DIFF     {name}");
                for line in lines {
                    println!("    {line}");
                }
            }
            Outcome::Error(reason) => println!("ERROR    {name}: {reason}"),
            Outcome::Transport(reason) => println!("ERROR    {name}: {reason}"),
        }
    }
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Content-Type header ("" if none).
    pub content_type: String,
    /// Body (lossy UTF-8).
    pub body: String,
}

struct Replayer {
    client: Client<HttpConnector, Full<Bytes>>,
    masking: Masking,
    timeout: Duration,
    password: String,
    /// The fixtures directory above the replayed one (its base.sql and seeds), if any.
    fixtures: Option<PathBuf>,
    progress: Progress,
    /// Sandboxes started (`--spawn`).
    sandboxes: std::cell::Cell<usize>,
    /// Cases run again alone after failing on a shared sandbox (`--spawn`).
    reruns: std::cell::Cell<usize>,
}

/// The Content-Type the fixture harness sends for a body: by its envelope namespace.
pub fn default_content_type(body: &[u8]) -> &'static str {
    if String::from_utf8_lossy(body).contains(SOAP12_NS) {
        "application/soap+xml; charset=utf-8"
    } else {
        "text/xml; charset=utf-8"
    }
}

fn find<'a>(element: &'a Element, name: &str) -> Option<&'a Element> {
    if element.name == name {
        return Some(element);
    }
    element.children.iter().find_map(|c| find(c, name))
}

/// The `Result/Code` of a response body, if it has one.
fn result_code(body: &str) -> Option<String> {
    let tree = diff::parse_body(body)?;
    let result = find(&tree, "Result")?;
    result
        .children
        .iter()
        .find(|c| c.name == "Code")
        .map(|c| c.text.trim().to_string())
}

fn session_of(body: &str) -> Option<String> {
    let tree = diff::parse_body(body)?;
    find(&tree, "SessionId")
        .map(|e| e.text.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn normalise_content_type(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The case's setup steps run on a fresh in-process store, to learn identifiers.
struct Shadow {
    service: InProcess,
    session: Option<String>,
}

impl Shadow {
    async fn new(scripts: Vec<String>) -> Result<Shadow, String> {
        let service = InProcess::new().await;
        service
            .app
            .db
            .write(move |tx| {
                scripts
                    .iter()
                    .try_for_each(|sql| crate::store::inspect::run_script(tx, sql))
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("seeding the identifier shadow: {e}"))?;
        Ok(Shadow {
            service,
            session: None,
        })
    }

    async fn post(&mut self, text: &str) -> String {
        let text = if text.contains("{{SESSION}}") {
            if self.session.is_none() {
                self.session = session_of(&self.service.post(LOGIN).await.body);
            }
            text.replace("{{SESSION}}", self.session.as_deref().unwrap_or(""))
        } else {
            text.to_string()
        };
        self.service.post(&text).await.body
    }
}

/// The cases of a spawned run that need a sandbox of their own: their own seed, a clock
/// that moves, or a store no other case has written to.
fn needs_own_sandbox(case: &Case) -> bool {
    ["seed.sql", "clock.txt", "replay.skip"]
        .iter()
        .any(|f| case.dir.join(f).exists())
}

/// Reads and checks a case's `clock.txt`.
fn case_clock(case: &Case) -> Result<Option<time::OffsetDateTime>, String> {
    let path = case.dir.join("clock.txt");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    crate::clock::parse_timestamp(text.trim())
        .map(Some)
        .ok_or_else(|| format!("{}: not an RFC 3339 instant", path.display()))
}

/// The order replay runs cases on one store: reads and refusals first
/// (they expect the base data), then the writers, each group in path order.
fn store_order(cases: Vec<Case>) -> Vec<Case> {
    let mut ordered: Vec<(u8, Case)> = cases
        .into_iter()
        .map(|c| {
            let writes = c.skip.is_none() && c.snapshot().map_or(true, |s| !s.store_unchanged());
            (u8::from(writes), c)
        })
        .collect();
    ordered.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.dir.cmp(&y.dir)));
    ordered.into_iter().map(|(_, c)| c).collect()
}

impl Replayer {
    /// Against a running server: every case without seeds or clock, on one store.
    async fn run_all(&self, cases: Vec<Case>, target: &Target) -> Vec<Ran> {
        let mut results = Vec::new();
        for case in store_order(cases) {
            let ran = match case.skip.clone() {
                Some(reason) => Ran {
                    case,
                    outcome: Outcome::Skipped(reason),
                    seconds: 0.0,
                },
                None => self.replay(case, target).await,
            };
            self.progress.report(&ran);
            results.push(ran);
        }
        results
    }

    /// `--spawn`: the cases grouped by the seeds they need, each group on a sandbox of its
    /// own; a case that needs its own store or clock gets its own sandbox, and a case that
    /// fails on a shared sandbox is run again on a fresh one (so cases never depend on
    /// each other's writes).
    async fn run_spawned(&self, cases: Vec<Case>) -> Vec<Ran> {
        let mut groups: std::collections::BTreeMap<String, Vec<Case>> = Default::default();
        for mut case in cases {
            // Nothing is skipped here: every case gets the store and clock it needs.
            case.skip = None;
            let key = if needs_own_sandbox(&case) {
                format!("~{}", case.name)
            } else {
                crate::cli::fixtures::seed_names(&case.dir)
                    .map(|names| names.join("+"))
                    .unwrap_or_else(|_| format!("~{}", case.name))
            };
            groups.entry(key).or_default().push(case);
        }
        let mut results = Vec::new();
        for (_, group) in groups {
            let shared = group.len() > 1;
            let target = match self.fixture_target(&group[0]).await {
                Ok(target) => target,
                Err(e) => {
                    for case in group {
                        let ran = Ran {
                            case,
                            outcome: Outcome::Transport(e.clone()),
                            seconds: 0.0,
                        };
                        self.progress.report(&ran);
                        results.push(ran);
                    }
                    continue;
                }
            };
            for case in store_order(group) {
                let mut ran = self.replay(case, &target).await;
                if shared && !matches!(ran.outcome, Outcome::Ok) {
                    // Maybe another case's write: again, alone on a fresh sandbox.
                    let case = ran.case.clone();
                    self.reruns.set(self.reruns.get() + 1);
                    ran = match self.fixture_target(&case).await {
                        Ok(fresh) => self.replay(case, &fresh).await,
                        Err(e) => Ran {
                            case,
                            outcome: Outcome::Transport(e),
                            seconds: 0.0,
                        },
                    };
                }
                self.progress.report(&ran);
                results.push(ran);
            }
        }
        results
    }

    /// A sandbox seeded for a case (fixture principals, base.sql, its seeds).
    async fn fixture_target(&self, case: &Case) -> Result<Target, String> {
        let scripts = crate::cli::fixtures::case_sql(self.fixtures.as_deref(), &case.dir)?;
        self.sandboxes.set(self.sandboxes.get() + 1);
        Target::spawn(&Seed::Fixtures(&scripts), crate::cli::fixtures::FIXED_NOW).await
    }

    /// A recorded session (a directory with `recording.txt`): every call in order on one
    /// store, identifiers and the last Login's SessionId carried from call to call.
    async fn run_session(&self, cases: Vec<Case>, uri: Option<Uri>, recording: &str) -> Vec<Ran> {
        let target = match uri {
            Some(uri) => Ok(Target::remote(uri)),
            None => {
                let fixed = recording
                    .lines()
                    .find_map(|l| l.strip_prefix("fixed-time:"))
                    .and_then(|t| crate::clock::parse_timestamp(t.trim()))
                    .unwrap_or_else(time::OffsetDateTime::now_utc);
                self.sandboxes.set(self.sandboxes.get() + 1);
                Target::spawn(&Seed::Demo, fixed).await
            }
        };
        let mut ids = IdMap::default();
        let mut session = None;
        let mut results = Vec::new();
        for case in cases {
            let started = Instant::now();
            let outcome = match &target {
                Ok(target) => {
                    let result = self.try_replay(&case, target, &mut ids, &mut session).await;
                    outcome_of(result)
                }
                Err(e) => Outcome::Transport(e.clone()),
            };
            let ran = Ran {
                case,
                outcome,
                seconds: started.elapsed().as_secs_f64(),
            };
            self.progress.report(&ran);
            results.push(ran);
        }
        results
    }

    async fn post(
        &self,
        target: &Target,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<Reply, Failure> {
        let uri = &target.uri;
        let mut builder = hyper::Request::post(uri.clone());
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Failure::Case(format!("building the request: {e}")))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("POST {uri}: {}", error_chain(&e)))?;
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
                .map_err(|e| format!("reading the response from {uri}: {e}"))?
                .to_bytes();
            Ok(Reply {
                status,
                content_type,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no response from {uri} within {:?}", self.timeout))
            .and_then(|r| r)
            .map_err(Failure::Transport)
    }

    async fn post_soap(&self, target: &Target, body: &str) -> Result<Reply, Failure> {
        let headers = vec![(
            "Content-Type".to_string(),
            default_content_type(body.as_bytes()).to_string(),
        )];
        self.post(target, &headers, body.as_bytes().to_vec()).await
    }

    async fn login(&self, target: &Target) -> Result<String, Failure> {
        let reply = self.post_soap(target, LOGIN).await?;
        session_of(&reply.body).ok_or_else(|| {
            Failure::Case(format!(
                "{{{{SESSION}}}}: Login as DEMO/demo failed (HTTP {}, Result Code {})",
                reply.status,
                result_code(&reply.body).unwrap_or_else(|| "-".into())
            ))
        })
    }

    /// Fills in `{{PASSWORD}}` and `{{SESSION}}` (logging in when no session is known).
    async fn fill(
        &self,
        target: &Target,
        text: String,
        session: &mut Option<String>,
    ) -> Result<String, Failure> {
        let mut text = text.replace(PASSWORD_PLACEHOLDER, &self.password);
        if text.contains(SESSION_PLACEHOLDER) {
            if session.is_none() {
                *session = Some(self.login(target).await?);
            }
            text = text.replace(SESSION_PLACEHOLDER, session.as_deref().unwrap_or(""));
        }
        Ok(text)
    }

    async fn replay(&self, case: Case, target: &Target) -> Ran {
        self.progress.start(&case.name);
        let started = Instant::now();
        let result = self
            .try_replay(&case, target, &mut IdMap::default(), &mut None)
            .await;
        Ran {
            case,
            outcome: outcome_of(result),
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    async fn try_replay(
        &self,
        case: &Case,
        target: &Target,
        ids: &mut IdMap,
        session: &mut Option<String>,
    ) -> Result<Vec<String>, Failure> {
        self.progress.start(&case.name);
        let expected: Snapshot = case.snapshot()?;
        let clock = case_clock(case)?;
        let steps = case.setup_steps();
        let mut shadow = None;
        if !steps.is_empty() && !self.masking.exact_ids {
            let scripts = crate::cli::fixtures::case_sql(self.fixtures.as_deref(), &case.dir)?;
            shadow = Some(Shadow::new(scripts).await?);
        }
        if let (Some(sandbox), Some(_)) = (&target.sandbox, clock) {
            sandbox.set_clock(crate::cli::fixtures::FIXED_NOW)?;
        }
        for step in &steps {
            let step_name = step
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let text = std::fs::read_to_string(step)
                .map_err(|e| format!("reading {}: {e}", step.display()))?;
            let live = self
                .fill(target, ids.rewrite_request(&text), session)
                .await?;
            let reply = self.post_soap(target, &live).await?;
            let code = result_code(&reply.body);
            if reply.status != 200 || code.as_deref() != Some("0") {
                return Err(Failure::Case(format!(
                    "setup step {step_name} failed: HTTP {}, Result Code {}{}",
                    reply.status,
                    code.unwrap_or_else(|| "-".into()),
                    message_of(&reply.body)
                )));
            }
            if let Some(shadow) = shadow.as_mut() {
                let fresh = shadow.post(&text).await;
                diff::learn_ids(&fresh, &reply.body, ids);
            }
        }
        if let (Some(sandbox), Some(at)) = (&target.sandbox, clock) {
            sandbox.set_clock(at)?;
        }
        let raw = std::fs::read(case.request())
            .map_err(|e| format!("reading {}: {e}", case.request().display()))?;
        let body = match String::from_utf8(raw) {
            Ok(text) => self
                .fill(target, ids.rewrite_request(&text), session)
                .await?
                .into_bytes(),
            Err(e) => e.into_bytes(),
        };
        let headers = match case.headers()? {
            Some(h) => h,
            None => vec![(
                "Content-Type".to_string(),
                default_content_type(&body).to_string(),
            )],
        };
        let reply = self.post(target, &headers, body).await?;
        if let Some(live) = session_of(&reply.body) {
            // A Login: later calls of a recorded session use its SessionId.
            *session = Some(live);
        }
        let mut diffs = Vec::new();
        if reply.status != expected.status {
            diffs.push(format!(
                "HTTP status: expected {}, got {}",
                expected.status, reply.status
            ));
        }
        if normalise_content_type(&reply.content_type)
            != normalise_content_type(&expected.content_type)
        {
            diffs.push(format!(
                "content-type: expected {}, got {}",
                expected.content_type, reply.content_type
            ));
        }
        diffs.extend(diff::compare_bodies(
            &expected.body,
            &reply.body,
            self.masking,
            ids,
        ));
        Ok(diffs)
    }
}

fn outcome_of(result: Result<Vec<String>, Failure>) -> Outcome {
    match result {
        Ok(diffs) if diffs.is_empty() => Outcome::Ok,
        Ok(diffs) => Outcome::Diff(diffs),
        Err(Failure::Case(e)) => Outcome::Error(e),
        Err(Failure::Transport(e)) => Outcome::Transport(e),
    }
}

fn message_of(body: &str) -> String {
    diff::parse_body(body)
        .and_then(|tree| {
            find(&tree, "Message")
                .or_else(|| find(&tree, "faultstring"))
                .or_else(|| find(&tree, "Text"))
                .map(|m| format!(" ({})", m.text.trim()))
        })
        .unwrap_or_default()
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
