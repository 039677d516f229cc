//! The benchmark's ceiling: a bare hyper 1 + tokio HTTP/1.1 server with the same
//! connection settings as `src/server.rs` (http1, keep-alive, TCP_NODELAY, the same
//! header-read timer) that answers every request with a canned `GetClient` response
//! body, without reading or parsing anything beyond what hyper itself does. Whatever
//! the real server reaches is measured against this.
//!
//! `cargo run --release --example ceiling -- [ADDR] [WORKERS]` (default `127.0.0.1:8089`,
//! one tokio worker per core).

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

/// The same allocator as the server binary (src/main.rs), so the comparison is fair.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The body of `fixtures/get_client/ok/response.snap`, byte for byte.
const BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <GetClientResponse xmlns="urn:allps:ws:v1">
      <Result>
        <Code>0</Code>
        <Message>OK</Message>
      </Result>
      <Client>
        <ClientNumber>C1001</ClientNumber>
        <AllpsClientNumber>AC00000001</AllpsClientNumber>
        <EmployerCode>EMP001</EmployerCode>
        <FirstName>Thabo</FirstName>
        <Surname>Mokoena</Surname>
        <Initials>T</Initials>
        <IdType>SA_ID</IdType>
        <IdNumber>8503145123084</IdNumber>
        <DateOfBirth>1985-03-14</DateOfBirth>
        <Gender>M</Gender>
        <CellphoneNumber>0821234567</CellphoneNumber>
        <EmployeeNumber>E1001</EmployeeNumber>
        <Email>thabo@example.co.za</Email>
      </Client>
      <Accounts/>
      <Promissories/>
    </GetClientResponse>
  </soap:Body>
</soap:Envelope>
"#;

async fn answer(
    _request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // The request body is left unread: hyper drains it before the next request on the
    // connection, which is exactly the ceiling we want (no buffering, no parsing).
    let mut response = Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    Ok(response)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8089".into());
    let workers: Option<usize> = args.next().and_then(|w| w.parse().ok());
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(workers) = workers {
        runtime.worker_threads(workers.max(1));
    }
    runtime.build()?.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        eprintln!("ceiling listening on http://{}", listener.local_addr()?);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(pair) => pair,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(answer));
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
    })
}
