//! The whole request path, `http::handle`, on an in-memory `TestService` (fixture
//! principals and `fixtures/base.sql`, frozen clock) built once, on one current-thread
//! runtime. The input is the POST body; the Content-Type follows the envelope namespace
//! as real clients send it. Never panics, never hangs; every answer has an expected
//! status, and every XML answer is well-formed.
#![no_main]

use std::sync::OnceLock;

use allps_ws::app::AppConfig;
use allps_ws::auth::AuthConfig;
use allps_ws::testing::TestService;
use allps_ws::wire::xml::{self, XmlLimits};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;

struct Harness {
    runtime: tokio::runtime::Runtime,
    service: TestService,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let service = runtime.block_on(async {
            // No lockout: a fuzzed wrong password must not lock the fixture user and
            // hide everything behind AUTH_FAILED.
            let config = AppConfig {
                auth: AuthConfig {
                    lockout_threshold: 0,
                    ..AuthConfig::default()
                },
                ..AppConfig::default()
            };
            let service = TestService::with_config(config).await;
            service
                .execute_sql(include_str!("../../fixtures/base.sql"))
                .await;
            service
        });
        Harness { runtime, service }
    })
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    let soap12 = data
        .windows(allps_ws::wire::soap::SOAP12_NS.len())
        .any(|w| w == allps_ws::wire::soap::SOAP12_NS.as_bytes());
    let content_type = if soap12 {
        "application/soap+xml; charset=utf-8"
    } else {
        "text/xml; charset=utf-8"
    };
    let request = hyper::Request::post("/allps")
        .header("Content-Type", content_type)
        .body(Full::new(Bytes::copy_from_slice(data)))
        .expect("request");
    let (status, content_type, body) = h.runtime.block_on(async {
        let response = allps_ws::server::http::handle(&h.service.app, request).await;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, content_type, body)
    });
    assert!(
        matches!(status, 200 | 400 | 408 | 413 | 500 | 503),
        "unexpected status {status}"
    );
    if content_type.contains("xml") {
        let limits = XmlLimits {
            max_text_bytes: usize::MAX,
            max_elements: usize::MAX,
            ..XmlLimits::default()
        };
        if let Err(e) = xml::parse(&body, &limits) {
            panic!(
                "answer is not well-formed ({e}):\n{}",
                String::from_utf8_lossy(&body)
            );
        }
    }
});
