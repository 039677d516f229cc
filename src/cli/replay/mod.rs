//! `allps-ws replay`: posts fixture cases to a running server and compares each answer
//! with the case's stored `response.snap` (status, content type, and the body as an XML
//! tree, see [`diff`]), printing one line per case, the differences, and a summary.
//!
//! The server's store accumulates across cases, so replay runs the cases whose snapshot
//! says `store: unchanged` first, then the ones that change the store, each group in path
//! order; generated identifiers are matched by consistent renaming rather than by value.
//! For a case with setup steps, the steps are also run on an in-process fresh store
//! seeded like the fixture harness's, to learn which live identifiers stand for the ones
//! the case's request (written for a fresh store) refers to.

pub mod case;
pub mod diff;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::cli::fixtures::InProcess;
use crate::wire::soap::SOAP12_NS;
use crate::wire::xml::Element;
use case::{Case, Snapshot};
use diff::{IdMap, Masking};

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
BR001 from LENDER-PC01. Cases with seed.sql, seeds.txt or clock.txt need the store or the clock \
and are skipped, as are cases with a replay.skip file (its first line says why).\n\n\
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
Exit status: 0 when every replayed case matched; 1 on any difference, failed setup step or \
transport error.",
    after_help = "Example:\n  allps-ws replay fixtures --endpoint http://127.0.0.1:8080/allps\n  \
allps-ws replay fixtures/add_client/ok_sa_id --endpoint http://127.0.0.1:8080/allps"
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
}

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
    /// A setup step failed, the snapshot is unreadable, or the transport failed.
    Error(String),
}

/// Replays the cases and prints the report.
///
/// # Errors
///
/// Only for problems before any case runs (bad endpoint, no cases). `Ok(false)` when a
/// case differed or failed.
pub fn run(args: ReplayArgs) -> Result<bool, String> {
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let replayer = Replayer {
        client: Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build_http(),
        uri,
        masking: Masking {
            exact_ids: args.exact_ids,
        },
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let (passed, failed, skipped) = runtime.block_on(replayer.run_all(cases));
    println!("replay: {passed} passed, {failed} failed, {skipped} skipped");
    Ok(failed == 0)
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
    uri: Uri,
    masking: Masking,
    timeout: Duration,
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
    async fn new(base_sql: &Path) -> Result<Shadow, String> {
        let sql = std::fs::read_to_string(base_sql)
            .map_err(|e| format!("reading {}: {e}", base_sql.display()))?;
        let service = InProcess::new().await;
        service
            .app
            .db
            .write(move |tx| crate::store::inspect::run_script(tx, &sql))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{}: {e}", base_sql.display()))?;
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

impl Replayer {
    async fn run_all(&self, cases: Vec<Case>) -> (usize, usize, usize) {
        // Reads and refusals first (they expect the base data), then the writers.
        let mut ordered: Vec<(u8, Case)> = cases
            .into_iter()
            .map(|c| {
                let writes =
                    c.skip.is_none() && c.snapshot().map_or(true, |s| !s.store_unchanged());
                (u8::from(writes), c)
            })
            .collect();
        ordered.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.dir.cmp(&y.dir)));
        let (mut passed, mut failed, mut skipped) = (0, 0, 0);
        for (_, case) in ordered {
            let outcome = match &case.skip {
                Some(reason) => Outcome::Skipped(reason.clone()),
                None => self.replay(&case).await,
            };
            match outcome {
                Outcome::Ok => {
                    passed += 1;
                    println!("ok       {}", case.name);
                }
                Outcome::Skipped(reason) => {
                    skipped += 1;
                    println!("skipped  {} ({reason})", case.name);
                }
                Outcome::Diff(lines) => {
                    failed += 1;
                    println!("DIFF     {}", case.name);
                    for line in lines {
                        println!("    {line}");
                    }
                }
                Outcome::Error(reason) => {
                    failed += 1;
                    println!("ERROR    {}: {reason}", case.name);
                }
            }
        }
        (passed, failed, skipped)
    }

    async fn post(&self, headers: &[(String, String)], body: Vec<u8>) -> Result<Reply, String> {
        let mut builder = hyper::Request::post(self.uri.clone());
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("building the request: {e}"))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("POST {}: {}", self.uri, error_chain(&e)))?;
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
                .map_err(|e| format!("reading the response from {}: {e}", self.uri))?
                .to_bytes();
            Ok(Reply {
                status,
                content_type,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no response from {} within {:?}", self.uri, self.timeout))?
    }

    async fn post_soap(&self, body: &str) -> Result<Reply, String> {
        let headers = vec![(
            "Content-Type".to_string(),
            default_content_type(body.as_bytes()).to_string(),
        )];
        self.post(&headers, body.as_bytes().to_vec()).await
    }

    async fn login(&self) -> Result<String, String> {
        let reply = self.post_soap(LOGIN).await?;
        session_of(&reply.body).ok_or_else(|| {
            format!(
                "{{{{SESSION}}}}: Login as DEMO/demo failed (HTTP {}, Result Code {})",
                reply.status,
                result_code(&reply.body).unwrap_or_else(|| "-".into())
            )
        })
    }

    async fn replay(&self, case: &Case) -> Outcome {
        match self.try_replay(case).await {
            Ok(diffs) if diffs.is_empty() => Outcome::Ok,
            Ok(diffs) => Outcome::Diff(diffs),
            Err(e) => Outcome::Error(e),
        }
    }

    async fn try_replay(&self, case: &Case) -> Result<Vec<String>, String> {
        let expected: Snapshot = case.snapshot()?;
        let mut ids = IdMap::default();
        let mut session: Option<String> = None;
        let steps = case.setup_steps();
        let mut shadow = None;
        if !steps.is_empty() && !self.masking.exact_ids {
            // Best effort: without base.sql there is nothing to learn identifiers from.
            if let Some(base) = case::find_base_sql(&case.dir) {
                shadow = Some(Shadow::new(&base).await?);
            }
        }
        for step in &steps {
            let step_name = step
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let text = std::fs::read_to_string(step)
                .map_err(|e| format!("reading {}: {e}", step.display()))?;
            let mut live = ids.rewrite_request(&text);
            if live.contains("{{SESSION}}") {
                if session.is_none() {
                    session = Some(self.login().await?);
                }
                live = live.replace("{{SESSION}}", session.as_deref().unwrap_or(""));
            }
            let reply = self.post_soap(&live).await?;
            let code = result_code(&reply.body);
            if reply.status != 200 || code.as_deref() != Some("0") {
                return Err(format!(
                    "setup step {step_name} failed: HTTP {}, Result Code {}{}",
                    reply.status,
                    code.unwrap_or_else(|| "-".into()),
                    message_of(&reply.body)
                ));
            }
            if let Some(shadow) = shadow.as_mut() {
                let fresh = shadow.post(&text).await;
                diff::learn_ids(&fresh, &reply.body, &mut ids);
            }
        }
        let raw = std::fs::read(case.request())
            .map_err(|e| format!("reading {}: {e}", case.request().display()))?;
        let body = match String::from_utf8(raw) {
            Ok(text) => {
                let mut text = ids.rewrite_request(&text);
                if text.contains("{{SESSION}}") {
                    if session.is_none() {
                        session = Some(self.login().await?);
                    }
                    text = text.replace("{{SESSION}}", session.as_deref().unwrap_or(""));
                }
                text.into_bytes()
            }
            Err(e) => e.into_bytes(),
        };
        let headers = match case.headers()? {
            Some(h) => h,
            None => vec![(
                "Content-Type".to_string(),
                default_content_type(&body).to_string(),
            )],
        };
        let reply = self.post(&headers, body).await?;
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
            &mut ids,
        ));
        Ok(diffs)
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
