//! The HTTP edge: [`handle`] takes one hyper request and always returns a response. It
//! serves the WSDL, checks method, path and Content-Type, bounds the body (413 before
//! reading past the limit), parses the SOAP envelope, dispatches, turns every
//! [`ServiceError`] into a version-correct fault, and writes the one log line per request.
//! It needs no socket, so tests call it directly.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};

use crate::app::{App, WSDL};
use crate::error::{FaultCode, ServiceError};
use crate::ops::{self, Reply};
use crate::soap::{self, SoapVersion};

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
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();

    if request.method() == Method::GET || request.method() == Method::HEAD {
        if (path == app.config.path && query.eq_ignore_ascii_case("wsdl")) || path == "/wsdl" {
            return wsdl_response(app, &request);
        }
        if path == "/health" {
            return plain(StatusCode::OK, "ok\n");
        }
        if path == app.config.path {
            return plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "POST SOAP requests here; GET ?wsdl for the service description\n",
            );
        }
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    if path != app.config.path {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    if request.method() != Method::POST {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only POST and GET ?wsdl\n");
        response.headers_mut().insert(
            hyper::header::ALLOW,
            "GET, POST".parse().expect("static header"),
        );
        return response;
    }

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
        return finish(app, request_id, started, SoapVersion::V11, None, Err(error));
    };
    if app.shutting_down.load(Ordering::Relaxed) {
        let error = ServiceError::fault(FaultCode::Unavailable, "the server is shutting down");
        return finish(app, request_id, started, version, None, Err(error));
    }

    let max = app.config.max_body_bytes;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return finish(app, request_id, started, version, None, Err(too_large(max)));
    }
    // Bounded in size (413 the moment the limit is passed) and in time (408 when the
    // whole body has not arrived within the body timeout: a client trickling bytes must
    // not hold a request open for ever).
    let timeout = app.config.body_read_timeout;
    let read = Limited::new(request.into_body(), max).collect();
    let body = match tokio::time::timeout(timeout, read).await {
        Err(_elapsed) => {
            let error = ServiceError::fault(
                FaultCode::RequestTimeout,
                format!(
                    "the request body did not arrive within {} seconds",
                    timeout.as_secs_f64()
                ),
            );
            return finish(app, request_id, started, version, None, Err(error));
        }
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return finish(app, request_id, started, version, None, Err(too_large(max)));
            }
            tracing::debug!(request_id, error = %e, "request body read failed");
            return plain(
                StatusCode::BAD_REQUEST,
                "the request body could not be read\n",
            );
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
    let (operation, outcome) = match parsed {
        Ok(envelope) => {
            let name = envelope.operation.name.clone();
            (Some(name), ops::dispatch(app, &envelope).await)
        }
        Err(e) => (None, Err(e)),
    };
    finish(
        app,
        request_id,
        started,
        version,
        operation.as_deref(),
        outcome,
    )
}

fn too_large(max: usize) -> ServiceError {
    ServiceError::fault(
        FaultCode::LimitBodySize,
        format!("the request body is larger than {max} bytes"),
    )
}

fn finish(
    app: &App,
    request_id: u64,
    started: Instant,
    version: SoapVersion,
    operation: Option<&str>,
    outcome: Result<Reply, ServiceError>,
) -> Response<Full<Bytes>> {
    let _ = app;
    let elapsed_us = started.elapsed().as_micros() as u64;
    let op = operation.unwrap_or("-");
    match outcome {
        Ok(reply) => {
            let p = reply.principal.as_ref();
            tracing::info!(
                request_id,
                soap = version.as_str(),
                op,
                org = p.map_or("-", |p| p.org_code.as_str()),
                branch = p.map_or("-", |p| p.branch_code.as_str()),
                user = p.map_or("-", |p| p.user_name.as_str()),
                outcome = "result",
                code = reply.result.number(),
                name = reply.result.name(),
                status = 200,
                duration_us = elapsed_us,
                "request"
            );
            soap_response(StatusCode::OK, version, reply.body)
        }
        Err(error) => {
            let code = error.code();
            let message = match &error {
                ServiceError::Fault { message, .. } => message.clone(),
                ServiceError::Internal(detail) => {
                    tracing::error!(request_id, op, error = %detail, "internal error");
                    format!("internal error (request {request_id})")
                }
            };
            let status = version.fault_status(code);
            tracing::info!(
                request_id,
                soap = version.as_str(),
                op,
                outcome = "fault",
                code = code.as_str(),
                status,
                duration_us = elapsed_us,
                "request"
            );
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            soap_response(
                status,
                version,
                soap::fault_envelope(version, code, &message),
            )
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
        &format!("location=\"{}\"", crate::xml::escape(url)),
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
