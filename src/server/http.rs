//! The HTTP edge: [`handle`] takes one hyper request and always returns a response. It
//! serves the WSDL, checks method, path and Content-Type, bounds the body in size (413
//! on the declared length, or the moment the bytes read pass the limit) and in time
//! (408), parses the SOAP envelope, dispatches, turns every [`ServiceError`] into a
//! version-correct fault, and writes the one log line per request. An answer given
//! before the body was read closes the connection, and the rest of the body is drained
//! (bounded) so a client still sending sees the answer rather than a reset. It needs no
//! socket, so tests call it directly.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HOST, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};

use crate::app::{App, WSDL};
use crate::metrics::Outcome;
use crate::ops::{self, Reply};
use crate::wire::fault::{FaultCode, ServiceError};
use crate::wire::guard::Reservation;
use crate::wire::reqlog::{self, Caller};
use crate::wire::soap::{self, SoapVersion};

/// Bodies larger than this are parsed on a blocking thread rather than the async one.
const INLINE_PARSE_BYTES: usize = 64 * 1024;

/// The address written into the bundled WSDL, replaced at serve time.
pub const BUNDLED_ADDRESS: &str = "http://localhost:8080/allps";

/// Handles one request.
pub async fn handle<B>(app: &Arc<App>, request: Request<B>) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + Sync + 'static,
{
    let started = Instant::now();
    let request_id = app.next_request_id.fetch_add(1, Ordering::Relaxed);
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    // Everything but a SOAP POST: answered here, logged as a plain HTTP line.
    let http = |response: Response<Full<Bytes>>| {
        tracing::info!(
            request_id,
            method = %method,
            path = clip(&path, 100).as_ref(),
            outcome = "http",
            status = response.status().as_u16(),
            duration_us = started.elapsed().as_micros() as u64,
            "request"
        );
        response
    };

    if method == Method::GET || method == Method::HEAD {
        let response =
            if (path == app.config.path && query.eq_ignore_ascii_case("wsdl")) || path == "/wsdl" {
                wsdl_response(app, &request)
            } else if path == "/health" {
                health(app).await
            } else if path == "/metrics" {
                metrics(app).await
            } else if path == "/health/live" {
                plain(StatusCode::OK, "ok\n")
            } else if path == app.config.path {
                plain(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "POST SOAP requests here; GET ?wsdl for the service description\n",
                )
            } else {
                plain(StatusCode::NOT_FOUND, "not found\n")
            };
        return http(answer_unread(app, request, response));
    }
    if path != app.config.path {
        let response = plain(StatusCode::NOT_FOUND, "not found\n");
        return http(answer_unread(app, request, response));
    }
    if method != Method::POST {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only POST and GET ?wsdl\n");
        response.headers_mut().insert(
            hyper::header::ALLOW,
            "GET, POST".parse().expect("static header"),
        );
        return http(answer_unread(app, request, response));
    }

    let anonymous = Caller::default();
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(version) = SoapVersion::from_content_type(content_type) else {
        let error = ServiceError::fault(
            FaultCode::ContentType,
            "Content-Type must be text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)",
        );
        let response = finish(
            app,
            request_id,
            started,
            SoapVersion::V11,
            None,
            &anonymous,
            Err(error),
        );
        return answer_unread(app, request, response);
    };
    // The operation the client says it calls: every SOAPAction header and the SOAP 1.2
    // `action` parameter, checked against the Body once it is parsed.
    let mut actions: Vec<String> = request
        .headers()
        .get_all("soapaction")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    if let Some(action) = SoapVersion::action_parameter(content_type) {
        actions.push(action.to_string());
    }
    let refuse = |error: ServiceError| {
        finish(
            app,
            request_id,
            started,
            version,
            None,
            &anonymous,
            Err(error),
        )
    };
    if app.shutting_down.load(Ordering::Relaxed) {
        let error = ServiceError::fault(FaultCode::Unavailable, "the server is shutting down");
        return answer_unread(app, request, refuse(error));
    }

    let max = app.config.max_body_bytes;
    if declared_length(request.headers()).is_some_and(|n| n > max as u64) {
        // Refused on the declaration alone: nothing read, and no `100 Continue` sent.
        return answer_unread(app, request, refuse(too_large(max)));
    }
    // Every body in flight shares one memory budget: the declared length is reserved
    // before a byte is read (a chunked body reserves as it arrives), and the reservation
    // is given back when this request is answered.
    let mut reservation = app.body_budget.empty();
    let declared = declared_length(request.headers()).map_or(0, |n| n as usize);
    if !reservation.grow(declared) {
        return answer_unread(app, request, refuse(busy()));
    }
    // Bounded in size (413 the moment the limit is passed) and in time (408 when the
    // whole body has not arrived within the body timeout: a client trickling bytes must
    // not hold a request open for ever).
    let timeout = app.config.body_read_timeout;
    let mut incoming = Box::pin(request.into_body());
    let reading = read_body(incoming.as_mut(), max, &mut reservation);
    let body = match tokio::time::timeout(timeout, reading).await {
        Err(_elapsed) => {
            let error = ServiceError::fault(
                FaultCode::RequestTimeout,
                format!(
                    "the request body did not arrive within {} seconds",
                    timeout.as_secs_f64()
                ),
            );
            // The client is too slow to be worth draining: hyper closes the connection.
            let mut response = refuse(error);
            close_after(&mut response);
            return response;
        }
        Ok(Ok(body)) => body,
        Ok(Err(BodyError::TooLarge)) => {
            return drain_after(app, incoming, refuse(too_large(max)));
        }
        Ok(Err(BodyError::NoMemory)) => {
            drop(reservation);
            return drain_after(app, incoming, refuse(busy()));
        }
        Ok(Err(BodyError::Failed(e))) => {
            tracing::debug!(request_id, error = %e, "request body read failed");
            return http(plain(
                StatusCode::BAD_REQUEST,
                "the request body could not be read\n",
            ));
        }
    };

    let limits = app.config.limits;
    let parsed = if body.len() > INLINE_PARSE_BYTES {
        tokio::task::spawn_blocking(move || soap::parse_envelope(version, &body, &limits))
            .await
            .unwrap_or_else(|e| Err(ServiceError::Internal(format!("parser panicked: {e}"))))
    } else {
        soap::parse_envelope(version, &body, &limits)
    };
    let parsed = parsed.and_then(|envelope| {
        for action in &actions {
            soap::check_action(action, &envelope.operation.name, ops::OPERATIONS)?;
        }
        Ok(envelope)
    });
    let (operation, caller, outcome) = match parsed {
        Ok(envelope) => {
            let name = envelope.operation.name.clone();
            let (caller, outcome) = reqlog::scope(ops::dispatch(app, &envelope)).await;
            (Some(name), caller, outcome)
        }
        Err(e) => (None, anonymous, Err(e)),
    };
    finish(
        app,
        request_id,
        started,
        version,
        operation.as_deref(),
        &caller,
        outcome,
    )
}

/// `value` cut to `max` characters, for logging attacker-chosen text.
fn clip(value: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &value[..end]).into(),
        None => value.into(),
    }
}

/// Most bytes of an unread request body swallowed after an early answer. A client that
/// sends its whole body before reading (most do, unless they use `Expect: 100-continue`)
/// then reads the answer instead of a connection reset. Past this, or past the body
/// timeout, the connection is simply closed.
pub const DRAIN_MAX_BYTES: u64 = 64 * 1024 * 1024;

enum BodyError {
    TooLarge,
    /// The in-flight body budget has no room for more.
    NoMemory,
    Failed(String),
}

/// Reads the whole body, refusing it the moment it passes `max` bytes, holding every
/// byte against `reservation` (grown as needed; `NoMemory` when the budget is spent).
async fn read_body<B>(
    mut body: std::pin::Pin<&mut B>,
    max: usize,
    reservation: &mut Reservation,
) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut first: Option<Bytes> = None;
    let mut rest: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Failed(e.into().to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total = total.saturating_add(data.len());
        if total > max {
            return Err(BodyError::TooLarge);
        }
        if total > reservation.bytes() && !reservation.grow(total - reservation.bytes()) {
            return Err(BodyError::NoMemory);
        }
        match &first {
            None if rest.is_empty() => first = Some(data),
            _ => {
                if let Some(first) = first.take() {
                    // Sized once for the whole declared body: no doubling growth.
                    rest.reserve(reservation.bytes().max(first.len() + data.len()));
                    rest.extend_from_slice(&first);
                }
                rest.extend_from_slice(&data);
            }
        }
    }
    Ok(match first {
        Some(only) => only,
        None => Bytes::from(rest),
    })
}

/// The refusal when the body budget (or another shared bound) has no room now.
fn busy() -> ServiceError {
    ServiceError::fault(FaultCode::Unavailable, "the server is busy; retry shortly")
}

fn declared_length(headers: &hyper::HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Marks a response as the connection's last.
fn close_after(response: &mut Response<Full<Bytes>>) {
    response
        .headers_mut()
        .insert(CONNECTION, "close".parse().expect("static header"));
}

/// Sends `response` to a request whose body was not read. A client waiting for
/// `100 Continue` has sent nothing and will send nothing, so the body is left alone;
/// otherwise it is drained (bounded) after the answer.
fn answer_unread<B>(
    app: &App,
    request: Request<B>,
    response: Response<Full<Bytes>>,
) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + Sync + 'static,
{
    if request.body().is_end_stream() {
        return response;
    }
    let expects_continue = request
        .headers()
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let too_big = declared_length(request.headers()).is_some_and(|n| n > DRAIN_MAX_BYTES);
    if expects_continue || too_big {
        let mut response = response;
        close_after(&mut response);
        return response;
    }
    drain_after(app, Box::pin(request.into_body()), response)
}

/// Answers now and swallows the rest of the body in the background (at most
/// [`DRAIN_MAX_BYTES`], within the body timeout), then lets the connection close.
fn drain_after<B>(
    app: &App,
    mut body: std::pin::Pin<Box<B>>,
    mut response: Response<Full<Bytes>>,
) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Send,
{
    close_after(&mut response);
    let deadline = app.config.body_read_timeout;
    tokio::spawn(async move {
        let drain = async {
            let mut seen = 0u64;
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    seen += data.len() as u64;
                    if seen > DRAIN_MAX_BYTES {
                        break;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(deadline, drain).await;
    });
    response
}

fn too_large(max: usize) -> ServiceError {
    ServiceError::fault(
        FaultCode::LimitBodySize,
        format!("the request body is larger than {max} bytes"),
    )
}

/// Turns the outcome into the response and writes the request's one log line: request
/// id, SOAP version, operation, organisation, branch, user (see [`crate::wire::reqlog`] for
/// what may be logged), `result` and `result_name` or `fault`, HTTP status, duration.
/// `sender_status` is the HTTP status of SOAP 1.2 Sender faults (400 or 500).
fn finish(
    app: &App,
    request_id: u64,
    started: Instant,
    version: SoapVersion,
    operation: Option<&str>,
    caller: &Caller,
    outcome: Result<Reply, ServiceError>,
) -> Response<Full<Bytes>> {
    let sender_status = app.config.soap12_sender_status;
    let elapsed_us = started.elapsed().as_micros() as u64;
    // The operation's slot in the metrics: its place in `OPERATIONS` plus one (0: none).
    let slot = operation
        .and_then(|name| ops::OPERATIONS.iter().position(|o| *o == name))
        .map_or(0, |i| i + 1);
    let op = clip(operation.unwrap_or("-"), reqlog::MAX_FIELD_CHARS);
    match outcome {
        Ok(reply) => {
            app.metrics
                .record(slot, Outcome::Result(reply.result), elapsed_us);
            let authenticated;
            let who = match &reply.principal {
                Some(p) => {
                    authenticated = Caller {
                        org: Some(p.org_code.clone()),
                        branch: Some(p.branch_code.clone()),
                        user: Some(p.user_name.clone()),
                        claimed_org: None,
                    };
                    &authenticated
                }
                None => caller,
            };
            tracing::info!(
                request_id,
                soap = version.as_str(),
                op = op.as_ref(),
                org = who.org(),
                branch = who.branch(),
                user = who.user(),
                outcome = "result",
                result = reply.result.number(),
                result_name = reply.result.name(),
                status = 200,
                duration_us = elapsed_us,
                "request"
            );
            soap_response(StatusCode::OK, version, reply.body)
        }
        Err(error) => {
            let code = error.code();
            app.metrics.record(slot, Outcome::Fault(code), elapsed_us);
            let message = match &error {
                ServiceError::Fault { message, .. } => message.clone(),
                ServiceError::Internal(detail) => {
                    tracing::error!(request_id, op = op.as_ref(), error = %detail, "internal error");
                    format!("internal error (request {request_id})")
                }
            };
            let status = version.fault_status(code, sender_status);
            tracing::info!(
                request_id,
                soap = version.as_str(),
                op = op.as_ref(),
                org = caller.org(),
                branch = caller.branch(),
                user = caller.user(),
                outcome = "fault",
                fault = code.as_str(),
                status,
                duration_us = elapsed_us,
                "request"
            );
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = soap_response(
                status,
                version,
                soap::fault_envelope(version, code, &message),
            );
            if code.is_retryable() {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, "1".parse().expect("static header"));
            }
            response
        }
    }
}

fn soap_response(status: StatusCode, version: SoapVersion, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        version.content_type().parse().expect("static header"),
    );
    response
}

/// How long one readiness answer is reused: a flood of `/health` costs at most one
/// probe write per interval.
const HEALTH_CACHE: std::time::Duration = std::time::Duration::from_secs(1);
/// How long the probe may take (a locked store waits for its busy timeout).
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Readiness: 200 when the store can write now (a probe write committed through the
/// writer, like any request's), else 503 with `Retry-After`. Liveness is `/health/live`.
pub async fn health(app: &Arc<App>) -> Response<Full<Bytes>> {
    let cached = *app
        .health
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ready = match cached {
        Some((at, ready)) if at.elapsed() < HEALTH_CACHE => ready,
        _ => {
            let probe = app.db.write(crate::store::probe_write);
            let ready = matches!(
                tokio::time::timeout(HEALTH_TIMEOUT, probe).await,
                Ok(Ok(Ok(())))
            );
            *app.health
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((Instant::now(), ready));
            ready
        }
    };
    if ready && !app.shutting_down.load(Ordering::Relaxed) {
        plain(StatusCode::OK, "ok\n")
    } else {
        let mut response = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the store cannot write now\n",
        );
        response
            .headers_mut()
            .insert(RETRY_AFTER, "1".parse().expect("static header"));
        response
    }
}

/// `/metrics`: the Prometheus text exposition ([`crate::metrics`]). The figures kept in
/// rows are read on a reader thread at most once per [`crate::metrics::STORE_FIGURES_TTL`].
pub async fn metrics(app: &Arc<App>) -> Response<Full<Bytes>> {
    let figures = match app.metrics.cached_store_figures() {
        Some(f) => f,
        None => {
            let now = app.clock.now();
            match app
                .db
                .read(move |tx| crate::store::console::metrics_figures(tx, now))
                .await
            {
                Ok(Ok(f)) => {
                    app.metrics.remember_store_figures(&f);
                    f
                }
                Ok(Err(e)) | Err(e) => {
                    tracing::warn!(error = %e, "reading the store figures for /metrics failed");
                    return plain(StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable\n");
                }
            }
        }
    };
    let text = app
        .metrics
        .render(ops::OPERATIONS, app.db.stats(), &figures);
    let mut response = Response::new(Full::new(Bytes::from(text)));
    response.headers_mut().insert(
        CONTENT_TYPE,
        crate::metrics::CONTENT_TYPE.parse().expect("static header"),
    );
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        "text/plain; charset=utf-8".parse().expect("static header"),
    );
    response
}

/// The endpoint URL the served WSDL names: the configured public URL, or one built from
/// the request's `Host` (only when it looks like a host name) and the endpoint path.
pub fn endpoint_url<B>(app: &App, request: &Request<B>) -> String {
    if let Some(url) = &app.config.public_url {
        return url.clone();
    }
    let host = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}{}", app.config.path)
}

/// The bundled WSDL with only its address locations replaced.
pub fn rewrite_wsdl(url: &str) -> String {
    WSDL.replace(
        &format!("location=\"{BUNDLED_ADDRESS}\""),
        &format!("location=\"{}\"", crate::wire::xml::escape(url)),
    )
}

fn wsdl_response<B>(app: &App, request: &Request<B>) -> Response<Full<Bytes>> {
    let body = rewrite_wsdl(&endpoint_url(app, request));
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response.headers_mut().insert(
        CONTENT_TYPE,
        "text/xml; charset=utf-8".parse().expect("static header"),
    );
    response
}
