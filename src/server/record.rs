//! `serve --record DIR`: every SOAP POST and its answer written into DIR as a fixture case
//! that `allps-ws replay` runs, one folder per call named by order and operation
//! (`0001_login/`, `0002_add_client/`, …) holding `request.xml`, `response.snap` and,
//! when the Content-Type was not the default for the envelope, `headers.txt`. Secrets
//! never reach the disk: the text of every `*Password` element becomes `{{PASSWORD}}` and
//! every `SessionId` (in requests and answers) `{{SESSION}}`; replay fills them in. The
//! body is copied as hyper hands it to [`http::handle`] (a tee), so the request is
//! handled exactly as without recording; nothing here runs unless `--record` is set.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame};
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request, Response};

use crate::app::App;
use crate::server::http;

/// The file at the root of a recording: marks the directory as one session, which
/// replay runs in call order with identifiers carried from call to call.
pub const SESSION_FILE: &str = "recording.txt";

/// The placeholder for passwords in recorded requests.
pub const PASSWORD_PLACEHOLDER: &str = "{{PASSWORD}}";

/// The placeholder for SessionIds.
pub const SESSION_PLACEHOLDER: &str = "{{SESSION}}";

/// Writes the cases of one recording.
pub struct Recorder {
    dir: PathBuf,
    /// The number of the last call written (calls are numbered as they finish).
    last: Mutex<usize>,
}

impl Recorder {
    /// Creates (or continues) a recording in `dir`: numbering goes on after the cases
    /// already there. `fixed_time` (the server's `--fixed-time`) is noted in
    /// `recording.txt`, for `replay --spawn` to start its sandbox at the same instant.
    ///
    /// # Errors
    ///
    /// The directory cannot be created or read.
    pub fn create(dir: &Path, fixed_time: Option<&str>) -> Result<Recorder, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("--record {}: {e}", dir.display()))?;
        let mut last = 0;
        for entry in
            std::fs::read_dir(dir).map_err(|e| format!("--record {}: {e}", dir.display()))?
        {
            let name = entry.map_err(|e| e.to_string())?.file_name();
            let number = name
                .to_string_lossy()
                .split('_')
                .next()
                .and_then(|n| n.parse().ok());
            last = last.max(number.unwrap_or(0));
        }
        let marker = dir.join(SESSION_FILE);
        if !marker.exists() {
            let mut text = String::from(
                "# Recorded by `allps-ws serve --record`: one case per SOAP call, in order.\n\
                 # `allps-ws replay` runs these cases in order, carrying generated identifiers\n\
                 # and the SessionId of the last Login from call to call.\n",
            );
            if let Some(at) = fixed_time {
                text.push_str(&format!("fixed-time: {at}\n"));
            }
            std::fs::write(&marker, text)
                .map_err(|e| format!("writing {}: {e}", marker.display()))?;
        }
        Ok(Recorder {
            dir: dir.to_path_buf(),
            last: Mutex::new(last),
        })
    }

    /// The recording directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one call. Errors are logged, never shown to the caller.
    fn write(&self, content_type: Option<&str>, request: &[u8], response: &Recorded) {
        let request = String::from_utf8_lossy(request);
        let operation = operation_of(&request);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        *last += 1;
        let case = self.dir.join(format!("{:04}_{operation}", *last));
        let result = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(&case)?;
            std::fs::write(case.join("request.xml"), mask_secrets(&request))?;
            let default = default_content_type(&request);
            if let Some(sent) = content_type
                && normalise(sent) != normalise(default)
            {
                std::fs::write(case.join("headers.txt"), format!("Content-Type: {sent}\n"))?;
            }
            std::fs::write(
                case.join("response.snap"),
                format!(
                    "---\nsource: allps-ws serve --record\n---\nHTTP {}\ncontent-type: {}\nstore: not recorded\n\n{}",
                    response.status,
                    response.content_type,
                    mask_secrets(&response.body)
                ),
            )
        })();
        if let Err(e) = result {
            tracing::warn!(case = %case.display(), error = %e, "recording the call failed");
        }
    }
}

struct Recorded {
    status: u16,
    content_type: String,
    body: String,
}

/// Handles one request as [`http::handle`] does and records it when it is a SOAP POST.
pub async fn handle<B>(
    app: &Arc<App>,
    recorder: &Recorder,
    request: Request<B>,
) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + Sync + 'static,
{
    let soap_post = request.method() == Method::POST && request.uri().path() == app.config.path;
    if !soap_post {
        return http::handle(app, request).await;
    }
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let copy = Arc::new(Mutex::new(Vec::new()));
    let cap = app.config.max_body_bytes;
    let request = request.map(|inner| Tee {
        inner,
        copy: copy.clone(),
        cap,
    });
    let response = http::handle(app, request).await;
    let (parts, body) = response.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let recorded = Recorded {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let body = std::mem::take(&mut *copy.lock().unwrap_or_else(|e| e.into_inner()));
    recorder.write(content_type.as_deref(), &body, &recorded);
    Response::from_parts(parts, Full::new(bytes))
}

/// A request body that keeps a copy (up to `cap` bytes) of what is read from it.
struct Tee<B> {
    inner: B,
    copy: Arc<Mutex<Vec<u8>>>,
    cap: usize,
}

impl<B: Body<Data = Bytes> + Unpin> Body for Tee<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            let mut copy = self.copy.lock().unwrap_or_else(|e| e.into_inner());
            let room = self.cap.saturating_sub(copy.len());
            copy.extend_from_slice(&data[..data.len().min(room)]);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The Content-Type replay sends for a body: by its envelope namespace.
fn default_content_type(body: &str) -> &'static str {
    if body.contains(crate::wire::soap::SOAP12_NS) {
        "application/soap+xml; charset=utf-8"
    } else {
        "text/xml; charset=utf-8"
    }
}

fn normalise(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The operation of a SOAP request in snake case (`AddClient` → `add_client`): the local
/// name of the first element inside `Body`; `unknown` when there is none.
pub fn operation_of(xml: &str) -> String {
    let mut tags = start_tags(xml).skip_while(|(name, _)| local(name) != "Body");
    let name = tags.nth(1).map(|(name, _)| local(name).to_string());
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return "unknown".into();
    };
    let mut snake = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            snake.push(c);
        } else {
            snake.push('_');
        }
    }
    snake
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Start tags in document order: (qualified name, offset just after the tag's `>`);
/// self-closing tags, end tags, comments and declarations are left out.
fn start_tags(xml: &str) -> impl Iterator<Item = (&str, usize)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let open = at + xml.get(at..)?.find('<')?;
            let close = open + xml[open..].find('>')?;
            at = close + 1;
            let tag = &xml[open + 1..close];
            if tag.starts_with(['/', '?', '!']) || tag.ends_with('/') {
                continue;
            }
            let name = tag.split(|c: char| c.is_whitespace()).next().unwrap_or("");
            return Some((name, close + 1));
        }
    })
}

/// The text of every element named `SessionId` becomes `{{SESSION}}`, of every element
/// whose name ends in `Password` `{{PASSWORD}}`.
pub fn mask_secrets(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut copied = 0;
    for (name, after) in start_tags(xml) {
        let name = local(name);
        let placeholder = if name == "SessionId" {
            SESSION_PLACEHOLDER
        } else if name.ends_with("Password") || name.ends_with("password") {
            PASSWORD_PLACEHOLDER
        } else {
            continue;
        };
        if after < copied {
            continue;
        }
        let Some(end) = xml[after..].find('<').map(|i| after + i) else {
            continue;
        };
        if end > after {
            out.push_str(&xml[copied..after]);
            out.push_str(placeholder);
            copied = end;
        }
    }
    out.push_str(&xml[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_operation_in_snake_case() {
        let login = r#"<?xml version="1.0"?><s:Envelope xmlns:s="x"><s:Header/><s:Body><a:Login xmlns:a="y"><a:UserName>u</a:UserName></a:Login></s:Body></s:Envelope>"#;
        assert_eq!(operation_of(login), "login");
        assert_eq!(
            operation_of("<Envelope><Body><PayToClientAccount/></Body></Envelope>"),
            "unknown"
        );
        assert_eq!(
            operation_of("<Envelope><Body><AddClient><X/></AddClient></Body></Envelope>"),
            "add_client"
        );
        assert_eq!(operation_of("not xml"), "unknown");
    }

    #[test]
    fn masks_passwords_and_sessions_only() {
        let xml = "<Login><UserName>demo</UserName><Password>s3cret</Password><a:NewPassword>x&amp;y</a:NewPassword><SessionId>ABC</SessionId><Empty></Empty><SessionIdX>k</SessionIdX></Login>";
        assert_eq!(
            mask_secrets(xml),
            "<Login><UserName>demo</UserName><Password>{{PASSWORD}}</Password><a:NewPassword>{{PASSWORD}}</a:NewPassword><SessionId>{{SESSION}}</SessionId><Empty></Empty><SessionIdX>k</SessionIdX></Login>"
        );
    }
}
