//! The WSDL as served (`GET /allps?wsdl`) and the operation table:
//!
//! - the served WSDL differs from `wsdl/allps.wsdl` only in its two `soap:address` /
//!   `soap12:address` locations, which name the server as the client reached it (the
//!   request's `Host`, or `--public-url`), both through `http::handle` and over a real
//!   socket, so generated clients call the right port;
//! - the WSDL's operations (port type and both bindings) equal `ops::OPERATIONS`, in
//!   order, with the conventional soapAction;
//! - every operation has a `fixtures/<snake_name>/` folder with at least one case. The
//!   only exemption: an operation that still answers `NOT_AVAILABLE` (Result 500), which
//!   this test checks by calling it. Once an operation is implemented, it needs fixtures.

use std::path::Path;

use allps_ws::app::AppConfig;
use allps_ws::ops::OPERATIONS;
use allps_ws::server::http::{BUNDLED_ADDRESS, handle};
use allps_ws::testing::TestService;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
const SOAP11_BINDING_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
const SOAP12_BINDING_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap12/";

fn bundled() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("wsdl/allps.wsdl");
    std::fs::read_to_string(path).expect("wsdl/allps.wsdl")
}

async fn get(service: &TestService, uri: &str, host: Option<&str>) -> (u16, String, String) {
    let mut builder = Request::get(uri);
    if let Some(host) = host {
        builder = builder.header("Host", host);
    }
    let request = builder.body(Full::new(Bytes::new())).expect("request");
    let response = handle(&service.app, request).await;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).expect("UTF-8"),
    )
}

/// The `location` of every `soap:address` and `soap12:address`, in document order.
fn addresses(wsdl: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(wsdl).expect("the served WSDL parses");
    doc.descendants()
        .filter(|n| n.tag_name().name() == "address")
        .map(|n| {
            let ns = n.tag_name().namespace().unwrap_or("").to_string();
            (ns, n.attribute("location").expect("location").to_string())
        })
        .collect()
}

/// Asserts that `served` is the bundled WSDL with both addresses set to `url`.
fn assert_only_addresses_differ(served: &str, url: &str) {
    assert_eq!(
        addresses(served),
        vec![
            (SOAP11_BINDING_NS.to_string(), url.to_string()),
            (SOAP12_BINDING_NS.to_string(), url.to_string()),
        ],
        "both ports must point at {url}"
    );
    let escaped = url.replace('&', "&amp;").replace('"', "&quot;");
    let restored = served.replace(
        &format!("location=\"{escaped}\""),
        &format!("location=\"{BUNDLED_ADDRESS}\""),
    );
    let original = bundled();
    if restored != original {
        let line = restored
            .lines()
            .zip(original.lines())
            .position(|(a, b)| a != b)
            .map_or(0, |i| i + 1);
        panic!("the served WSDL differs from wsdl/allps.wsdl beyond the addresses (line {line})");
    }
    assert!(!served.contains(BUNDLED_ADDRESS) || url == BUNDLED_ADDRESS);
}

#[tokio::test]
async fn served_wsdl_names_the_host_the_client_used() {
    let service = TestService::new().await;
    assert_eq!(
        addresses(&bundled()),
        vec![
            (SOAP11_BINDING_NS.to_string(), BUNDLED_ADDRESS.to_string()),
            (SOAP12_BINDING_NS.to_string(), BUNDLED_ADDRESS.to_string()),
        ],
        "wsdl/allps.wsdl must carry the placeholder address the server rewrites"
    );
    for uri in ["/allps?wsdl", "/allps?WSDL", "/wsdl"] {
        let (status, content_type, body) = get(&service, uri, Some("127.0.0.1:43210")).await;
        assert_eq!(status, 200, "{uri}");
        assert_eq!(content_type, "text/xml; charset=utf-8", "{uri}");
        assert_only_addresses_differ(&body, "http://127.0.0.1:43210/allps");
    }
    let (_, _, body) = get(&service, "/allps?wsdl", Some("lender-gw.example.co.za")).await;
    assert_only_addresses_differ(&body, "http://lender-gw.example.co.za/allps");
    let (_, _, body) = get(&service, "/allps?wsdl", Some("[::1]:8080")).await;
    assert_only_addresses_differ(&body, "http://[::1]:8080/allps");
}

#[tokio::test]
async fn a_hostile_or_missing_host_never_reaches_the_wsdl() {
    let service = TestService::new().await;
    for host in [
        None,
        Some("evil.example\"/><x a=\""),
        Some("a b"),
        Some("host/path"),
    ] {
        let (status, _, body) = get(&service, "/allps?wsdl", host).await;
        assert_eq!(status, 200);
        assert_only_addresses_differ(&body, "http://localhost/allps");
    }
}

#[tokio::test]
async fn public_url_overrides_the_host() {
    let config = AppConfig {
        public_url: Some("https://allps.lender.example/soap?a=1&b=2".into()),
        ..AppConfig::default()
    };
    let service = TestService::with_config(config).await;
    let (status, _, body) = get(&service, "/allps?wsdl", Some("127.0.0.1:9")).await;
    assert_eq!(status, 200);
    assert!(body.contains("location=\"https://allps.lender.example/soap?a=1&amp;b=2\""));
    assert_only_addresses_differ(&body, "https://allps.lender.example/soap?a=1&b=2");
}

#[tokio::test]
async fn served_wsdl_over_a_real_socket_points_at_the_listening_port() {
    let service = TestService::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(allps_ws::server::run(
        listener,
        service.app.clone(),
        async move {
            let _ = stopped.await;
        },
    ));

    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET /allps?wsdl HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read response");
    let raw = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = raw.split_once("\r\n\r\n").expect("HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_only_addresses_differ(body, &format!("http://{addr}/allps"));

    stop.send(()).expect("server still running");
    server.await.expect("server task").expect("server ran");
}

/// `(port type operations, SOAP 1.1 binding operations, SOAP 1.2 binding operations)`,
/// the bindings with their soapAction.
type Declared = (Vec<String>, Vec<(String, String)>, Vec<(String, String)>);

fn declared_operations(wsdl: &str) -> Declared {
    let doc = roxmltree::Document::parse(wsdl).expect("WSDL parses");
    let root = doc.root_element();
    fn children<'a, 'i>(
        parent: roxmltree::Node<'a, 'i>,
        name: &str,
    ) -> Vec<roxmltree::Node<'a, 'i>> {
        parent
            .children()
            .filter(|n| n.has_tag_name((WSDL_NS, name)))
            .collect()
    }
    let port_types = children(root, "portType");
    assert_eq!(port_types.len(), 1, "one portType");
    let port_type = port_types[0]
        .children()
        .filter(|n| n.has_tag_name((WSDL_NS, "operation")))
        .map(|n| n.attribute("name").expect("name").to_string())
        .collect();
    let binding = |soap_ns: &str| -> Vec<(String, String)> {
        let binding = children(root, "binding")
            .into_iter()
            .find(|b| b.children().any(|c| c.has_tag_name((soap_ns, "binding"))))
            .unwrap_or_else(|| panic!("a binding in {soap_ns}"));
        binding
            .children()
            .filter(|n| n.has_tag_name((WSDL_NS, "operation")))
            .map(|op| {
                let action = op
                    .children()
                    .find(|c| c.has_tag_name((soap_ns, "operation")))
                    .and_then(|c| c.attribute("soapAction"))
                    .expect("soapAction")
                    .to_string();
                (op.attribute("name").expect("name").to_string(), action)
            })
            .collect()
    };
    (
        port_type,
        binding(SOAP11_BINDING_NS),
        binding(SOAP12_BINDING_NS),
    )
}

#[test]
fn wsdl_operations_equal_the_operation_table() {
    let (port_type, soap11, soap12) = declared_operations(&bundled());
    let table: Vec<String> = OPERATIONS.iter().map(|s| s.to_string()).collect();
    assert_eq!(port_type, table, "portType operations vs ops::OPERATIONS");
    let expected: Vec<(String, String)> = OPERATIONS
        .iter()
        .map(|op| (op.to_string(), format!("urn:allps:ws:v1/{op}")))
        .collect();
    assert_eq!(soap11, expected, "SOAP 1.1 binding");
    assert_eq!(soap12, expected, "SOAP 1.2 binding");
    // the server serves the same file it was built with
    assert_eq!(allps_ws::app::WSDL, bundled());
}

/// `AddClientAccount` -> `add_client_account`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn fixture_cases(op: &str) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(snake(op));
    match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("request.xml").is_file())
            .count(),
        Err(_) => 0,
    }
}

const AUTH: &str = "<AuthHeader xmlns=\"urn:allps:ws:v1\"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader>";

#[tokio::test]
async fn every_operation_has_fixtures_unless_it_is_not_available() {
    assert_eq!(
        snake("CreateDebiCheckPromissory"),
        "create_debi_check_promissory"
    );
    let service = TestService::new().await;
    let mut exempt = Vec::new();
    let mut missing = Vec::new();
    for op in OPERATIONS {
        if fixture_cases(op) > 0 {
            continue;
        }
        let request = format!(
            "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header>{AUTH}</soap:Header><soap:Body><{op} xmlns=\"urn:allps:ws:v1\"/></soap:Body></soap:Envelope>"
        );
        let response = service.post(&request).await;
        let not_available = response.status == 200
            && response.body.contains(&format!("<{op}Response"))
            && response.body.contains("<Code>500</Code>");
        if not_available {
            exempt.push(*op);
        } else {
            missing.push(*op);
        }
    }
    assert!(
        missing.is_empty(),
        "operations without a fixtures/<snake_name>/ case (they no longer answer NOT_AVAILABLE): {}",
        missing
            .iter()
            .map(|op| format!("{op} -> fixtures/{}/", snake(op)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        exempt.len() < OPERATIONS.len(),
        "no operation has fixtures at all"
    );
    for core in ["Login", "AddEmployer", "AddClient", "GetClient"] {
        assert!(!exempt.contains(&core), "{core} must have fixtures");
    }
    // Since CreateDebiCheckPromissory (issue 9) every operation is served.
    assert!(
        exempt.is_empty(),
        "operations still answering NOT_AVAILABLE: {}",
        exempt.join(", ")
    );
}
