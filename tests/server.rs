//! The server over real TCP sockets: HTTP/1.0 and 1.1 keep-alive, pipelining, chunked
//! bodies, `Expect: 100-continue`, oversized bodies, hostile XML, slow clients, many
//! clients at once, and graceful shutdown of the real binary on SIGTERM.
//!
//! Most tests run `server::run` in this process on a port-0 listener (fast, and the same
//! TCP path); the shutdown test runs the binary, since it needs a signal and a file store.

mod net;

use std::io::Write;
use std::time::{Duration, Instant};

use net::*;

#[test]
fn http10_closes_unless_keep_alive_is_asked_for() {
    let server = InProc::start();
    let body = get_client("C1001");

    // HTTP/1.0 without Connection: keep-alive: one response, then the server closes.
    let mut conn = Conn::open(server.addr);
    let request = format!(
        "POST /allps HTTP/1.0\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let response = conn.roundtrip(request.as_bytes()).unwrap();
    assert_eq!(response.version, "HTTP/1.0");
    assert!(response.is_ok(), "{}", response.text());
    assert_eq!(response.leaf("Surname").as_deref(), Some("Mokoena"));
    assert!(response.header("content-length").is_some());
    assert!(conn.closed_within(Duration::from_secs(5)));

    // HTTP/1.0 with Connection: keep-alive: the connection stays open for more.
    let mut conn = Conn::open(server.addr);
    let request = format!(
        "POST /allps HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    for _ in 0..3 {
        let response = conn.roundtrip(request.as_bytes()).unwrap();
        assert_eq!(response.version, "HTTP/1.0");
        assert!(response.is_ok(), "{}", response.text());
        assert!(
            response
                .header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("keep-alive")),
            "{:?}",
            response.headers
        );
    }
}

#[test]
fn http11_keep_alive_serves_many_requests_on_one_connection() {
    let server = InProc::start();
    let mut conn = Conn::open(server.addr);
    for i in 0..10 {
        let response = match i % 3 {
            0 => conn.roundtrip(&post(&get_client("C1001"))).unwrap(),
            1 => conn
                .roundtrip(b"GET /allps?wsdl HTTP/1.1\r\nHost: example.test:8080\r\n\r\n")
                .unwrap(),
            _ => conn.roundtrip(&post(&get_client("NOPE"))).unwrap(),
        };
        assert_eq!(response.version, "HTTP/1.1");
        match i % 3 {
            0 => assert!(response.is_ok()),
            1 => {
                assert_eq!(response.status, 200);
                assert!(
                    response
                        .text()
                        .contains("location=\"http://example.test:8080/allps\"")
                );
            }
            _ => {
                assert_eq!(response.status, 200);
                assert_ne!(response.result_code(), Some(0));
            }
        }
        assert!(response.header("connection").is_none_or(|v| v != "close"));
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = InProc::start();
    let mut conn = Conn::open(server.addr);
    let mut batch = Vec::new();
    batch.extend(post(&get_client("C1001")));
    batch.extend(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    batch.extend(post(&get_client("MISSING1")));
    batch.extend(post_with(b"<not xml", &[]));
    batch.extend(post(&get_client("C1001")));
    conn.send(&batch).unwrap();
    let first = conn.read().unwrap();
    assert!(first.is_ok());
    assert_eq!(first.leaf("ClientNumber").as_deref(), Some("C1001"));
    let second = conn.read().unwrap();
    assert_eq!((second.status, second.text().as_str()), (200, "ok\n"));
    let third = conn.read().unwrap();
    assert_eq!(third.status, 200);
    assert!(third.text().contains("MISSING1"), "{}", third.text());
    let fourth = conn.read().unwrap();
    assert_eq!(fourth.fault_code().as_deref(), Some("XML_MALFORMED"));
    let fifth = conn.read().unwrap();
    assert!(fifth.is_ok());
}

#[test]
fn chunked_request_bodies_are_read() {
    let server = InProc::start();
    let body = get_client("C1001");
    let mut conn = Conn::open(server.addr);
    conn.send(b"POST /allps HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    for piece in body.as_bytes().chunks(37) {
        conn.send(format!("{:x};ext=1\r\n", piece.len()).as_bytes())
            .unwrap();
        conn.send(piece).unwrap();
        conn.send(b"\r\n").unwrap();
    }
    conn.send(b"0\r\n\r\n").unwrap();
    let response = conn.read().unwrap();
    assert!(response.is_ok(), "{}", response.text());
    // And the connection is still good for the next one.
    assert!(conn.roundtrip(&post(&get_client("C1001"))).unwrap().is_ok());
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let server = InProc::start();
    let body = get_client("C1001");
    let mut conn = Conn::open(server.addr);
    let head = post_with(b"", &["Expect: 100-continue"]);
    // post_with wrote Content-Length: 0; write the head by hand with the real length.
    let head = String::from_utf8(head).unwrap().replace(
        "Content-Length: 0",
        &format!("Content-Length: {}", body.len()),
    );
    conn.send(head.as_bytes()).unwrap();
    let interim = conn.read().unwrap();
    assert_eq!(interim.status, 100, "{interim:?}");
    conn.send(body.as_bytes()).unwrap();
    let response = conn.read().unwrap();
    assert!(response.is_ok(), "{}", response.text());
}

/// The head of a POST declaring `length` body bytes.
fn head_declaring(length: usize, extra: &[&str]) -> Vec<u8> {
    let mut head = format!(
        "POST /allps HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {length}\r\n"
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

const TWENTY_MB: usize = 20 * 1024 * 1024;

#[test]
fn over_limit_with_expect_is_413_without_100_continue() {
    let server = InProc::start();
    let mut conn = Conn::open(server.addr);
    let started = Instant::now();
    conn.send(&head_declaring(TWENTY_MB, &["Expect: 100-continue"]))
        .unwrap();
    let response = conn.read().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status, 413, "no 100 Continue first: {response:?}");
    assert_eq!(response.fault_code().as_deref(), Some("LIMIT_BODY_SIZE"));
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
    eprintln!("413 for a declared 20 MB body with Expect: {elapsed:?}");
    // The body was never read, so the server does not keep the connection.
    assert!(conn.closed_within(Duration::from_secs(5)));
    assert!(request(server.addr, &post(&get_client("C1001"))).is_ok());
}

#[test]
fn twenty_megabytes_declared_is_413_quickly() {
    let server = InProc::start();
    let mut conn = Conn::open(server.addr);
    let started = Instant::now();
    conn.send(&head_declaring(TWENTY_MB, &[])).unwrap();
    // A careless client keeps writing its body; the server must not wait for it.
    let mut writer = conn.writer.try_clone().unwrap();
    let blaster = std::thread::spawn(move || {
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < TWENTY_MB {
            if writer.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let response = conn.read().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status, 413);
    assert_eq!(response.fault_code().as_deref(), Some("LIMIT_BODY_SIZE"));
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
    eprintln!("413 for a declared 20 MB body: {elapsed:?}");
    // The answer came first; the server swallows what the client still sends (so the
    // client sees the 413, not a reset), then closes.
    assert_eq!(response.header("connection"), Some("close"));
    blaster.join().unwrap();
    assert!(conn.closed_within(Duration::from_secs(5)));
    assert!(request(server.addr, &post(&get_client("C1001"))).is_ok());
}

#[test]
fn twenty_megabytes_chunked_is_413_at_the_limit() {
    let server = InProc::start();
    let mut conn = Conn::open(server.addr);
    let started = Instant::now();
    conn.send(b"POST /allps HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let mut writer = conn.writer.try_clone().unwrap();
    let blaster = std::thread::spawn(move || {
        let data = vec![b'x'; 64 * 1024];
        let mut chunk = format!("{:x}\r\n", data.len()).into_bytes();
        chunk.extend_from_slice(&data);
        chunk.extend_from_slice(b"\r\n");
        let mut sent = 0;
        while sent < TWENTY_MB {
            if writer.write_all(&chunk).is_err() {
                return sent;
            }
            sent += data.len();
        }
        let _ = writer.write_all(b"0\r\n\r\n");
        sent
    });
    let response = conn.read().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status, 413, "{}", response.text());
    assert_eq!(response.fault_code().as_deref(), Some("LIMIT_BODY_SIZE"));
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    eprintln!("413 for a 20 MB chunked body: {elapsed:?}");
    assert_eq!(response.header("connection"), Some("close"));
    blaster.join().unwrap();
    assert!(conn.closed_within(Duration::from_secs(5)));
    assert!(request(server.addr, &post(&get_client("C1001"))).is_ok());
}

/// One hostile request: a name, the body, the status and fault code it must get.
struct Hostile {
    name: &'static str,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn wrap_body(inner: &str) -> String {
    format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>{inner}</soap:Body></soap:Envelope>"
    )
}

fn hostile_cases() -> Vec<Hostile> {
    let mut cases = Vec::new();
    let mut add = |name, body: Vec<u8>, status, code| {
        cases.push(Hostile {
            name,
            body,
            status,
            code,
        })
    };
    add(
        "xxe",
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}",
            wrap_body("<GetClient xmlns=\"urn:allps:ws:v1\"><ClientNumber>&xxe;</ClientNumber></GetClient>")
        )
        .into_bytes(),
        500,
        "DOCTYPE_FORBIDDEN",
    );
    let mut laughs = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    laughs.push_str("]>");
    laughs.push_str(&wrap_body(
        "<GetClient xmlns=\"urn:allps:ws:v1\"><ClientNumber>&lol9;</ClientNumber></GetClient>",
    ));
    add(
        "billion laughs",
        laughs.into_bytes(),
        500,
        "DOCTYPE_FORBIDDEN",
    );
    add(
        "external entity without a DOCTYPE",
        wrap_body(
            "<GetClient xmlns=\"urn:allps:ws:v1\"><ClientNumber>&xxe;</ClientNumber></GetClient>",
        )
        .into_bytes(),
        500,
        "ENTITY_FORBIDDEN",
    );
    add(
        "entity in an attribute",
        wrap_body("<GetClient xmlns=\"urn:allps:ws:v1\" a=\"&xxe;\"><ClientNumber>1</ClientNumber></GetClient>")
            .into_bytes(),
        500,
        "ENTITY_FORBIDDEN",
    );
    add(
        "xinclude is just an unknown element",
        envelope("<GetClient xmlns=\"urn:allps:ws:v1\"><xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"file:///etc/passwd\" parse=\"text\"/></GetClient>")
            .into_bytes(),
        500,
        "SCHEMA_VIOLATION",
    );
    add(
        "100 000 levels deep",
        wrap_body(&format!(
            "{}{}",
            "<a>".repeat(100_000),
            "</a>".repeat(100_000)
        ))
        .into_bytes(),
        500,
        "LIMIT_DEPTH",
    );
    let envelope_overhead = wrap_body("<a></a>").len();
    add(
        "one 4 MiB text node",
        wrap_body(&format!(
            "<a>{}</a>",
            "x".repeat(4 * 1024 * 1024 - envelope_overhead)
        ))
        .into_bytes(),
        500,
        "LIMIT_TEXT",
    );
    add(
        "a 1 MiB attribute value",
        wrap_body(&format!("<a v=\"{}\"/>", "x".repeat(1024 * 1024))).into_bytes(),
        500,
        "LIMIT_TEXT",
    );
    add(
        "600 000 character references",
        wrap_body(&format!("<a>{}</a>", "&#x41;".repeat(600_000))).into_bytes(),
        500,
        "LIMIT_TEXT",
    );
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"1\"")).collect();
    add(
        "100 000 attributes",
        wrap_body(&format!("<a{attrs}/>")).into_bytes(),
        500,
        "LIMIT_ATTRIBUTES",
    );
    let decls: String = (0..100_000)
        .map(|i| format!(" xmlns:p{i}=\"urn:{i}\""))
        .collect();
    add(
        "100 000 namespace declarations",
        wrap_body(&format!("<a{decls}/>")).into_bytes(),
        500,
        "LIMIT_ATTRIBUTES",
    );
    add(
        "200 000 sibling elements",
        wrap_body(&"<a/>".repeat(200_000)).into_bytes(),
        500,
        "LIMIT_ELEMENTS",
    );
    add(
        "malformed",
        b"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><GetClient></soap:Body>".to_vec(),
        500,
        "XML_MALFORMED",
    );
    add(
        "truncated",
        get_client("C1001").as_bytes()[..200].to_vec(),
        500,
        "XML_MALFORMED",
    );
    add(
        "garbage",
        (0..=255u8).cycle().take(10_000).collect(),
        500,
        "XML_NOT_UTF8",
    );
    let mut latin1 = get_client("C1001").into_bytes();
    let at = latin1.len() - 60;
    latin1.insert(at, 0xE9);
    add("latin-1 byte", latin1, 500, "XML_NOT_UTF8");
    let utf16: Vec<u8> = "\u{feff}<a/>"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    add("UTF-16", utf16, 500, "XML_NOT_UTF8");
    add("empty", Vec::new(), 500, "XML_MALFORMED");
    add(
        "not SOAP",
        b"<html><body>hi</body></html>".to_vec(),
        500,
        "ENVELOPE_INVALID",
    );
    add(
        "4 MiB + 1 byte",
        vec![b' '; 4 * 1024 * 1024 + 1],
        413,
        "LIMIT_BODY_SIZE",
    );
    cases
}

/// "Quickly": under a second in a release build. The unoptimised test build parses
/// several times slower and shares two cores with the other tests, so it gets more room.
const QUICK: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(3)
} else {
    Duration::from_secs(1)
};

fn check_hostile(addr: std::net::SocketAddr, case: &Hostile) -> Duration {
    let started = Instant::now();
    let response = request(addr, &post_with(&case.body, &[]));
    let elapsed = started.elapsed();
    assert_eq!(
        (response.status, response.fault_code().as_deref()),
        (case.status, Some(case.code)),
        "{}: {}",
        case.name,
        &response.text()[..response.text().len().min(2000)]
    );
    let text = response.text();
    assert!(!text.contains("root:"), "{}: a file leaked", case.name);
    assert!(
        text.len() < 4096,
        "{}: a {} byte answer",
        case.name,
        text.len()
    );
    elapsed
}

#[test]
fn hostile_bodies_get_the_right_fault_quickly_and_the_server_stays_up() {
    let server = InProc::start();
    for case in hostile_cases() {
        let elapsed = check_hostile(server.addr, &case);
        eprintln!("{:<40} {:>10.1?}", case.name, elapsed);
        assert!(elapsed < QUICK, "{} took {elapsed:?}", case.name);
        assert!(request(server.addr, &post(&get_client("C1001"))).is_ok());
    }
}

#[test]
fn twenty_hostile_and_twenty_normal_clients_at_once() {
    let server = InProc::start();
    let addr = server.addr;
    let cases = std::sync::Arc::new(hostile_cases());
    let started = Instant::now();
    let mut threads = Vec::new();
    for i in 0..20 {
        let cases = cases.clone();
        threads.push(std::thread::spawn(move || {
            for j in 0..3 {
                check_hostile(addr, &cases[(i * 3 + j) % cases.len()]);
            }
        }));
        threads.push(std::thread::spawn(move || {
            let mut conn = Conn::open(addr);
            for _ in 0..5 {
                let response = conn.roundtrip(&post(&get_client("C1001"))).unwrap();
                assert!(response.is_ok(), "{}", response.text());
            }
        }));
    }
    for t in threads {
        t.join().expect("a client failed");
    }
    let elapsed = started.elapsed();
    eprintln!("60 hostile + 100 normal requests from 40 clients: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(request(addr, &post(&get_client("C1001"))).is_ok());
}

fn short_timeouts() -> allps_ws::app::AppConfig {
    allps_ws::app::AppConfig {
        header_read_timeout: Duration::from_millis(800),
        body_read_timeout: Duration::from_millis(800),
        ..Default::default()
    }
}

#[test]
fn slowloris_headers_are_cut_off_and_others_are_served_meanwhile() {
    let server = InProc::with_config(short_timeouts());
    let started = Instant::now();
    // One client stalls half-way through its headers, another trickles a byte at a time.
    let mut stalled = Conn::open(server.addr);
    stalled
        .send(b"POST /allps HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n")
        .unwrap();
    let mut trickler = Conn::open(server.addr);
    let mut trickle_writer = trickler.writer.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for byte in b"POST /allps HTTP/1.1\r\nHost: x\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if trickle_writer.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    // An idle keep-alive connection after one request.
    let mut idle = Conn::open(server.addr);
    assert!(idle.roundtrip(&post(&get_client("C1001"))).unwrap().is_ok());
    // Everyone else is served at once.
    for _ in 0..5 {
        let t = Instant::now();
        assert!(request(server.addr, &post(&get_client("C1001"))).is_ok());
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }
    assert!(stalled.closed_within(Duration::from_secs(3)));
    assert!(trickler.closed_within(Duration::from_secs(3)));
    assert!(idle.closed_within(Duration::from_secs(3)));
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(700), "{elapsed:?}");
    trickle.join().unwrap();
    assert!(request(server.addr, &post(&get_client("C1001"))).is_ok());
}

#[test]
fn a_body_that_never_finishes_gets_408() {
    let server = InProc::with_config(short_timeouts());
    let body = get_client("C1001");
    // Headers in, then the body a byte at a time, too slowly to finish.
    let mut conn = Conn::open(server.addr);
    let started = Instant::now();
    conn.send(&head_declaring(body.len(), &[])).unwrap();
    let mut writer = conn.writer.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for byte in body.as_bytes() {
            if writer.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let response = conn.read().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status, 408, "{}", response.text());
    assert_eq!(response.fault_code().as_deref(), Some("REQUEST_TIMEOUT"));
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert!(conn.closed_within(Duration::from_secs(3)));
    drop(conn);
    trickle.join().unwrap();
    // A body declared and never sent at all: same answer.
    let mut conn = Conn::open(server.addr);
    let response = conn.roundtrip(&head_declaring(500, &[])).unwrap();
    assert_eq!(response.status, 408);
    assert!(request(server.addr, &post(&get_client("C1001"))).is_ok());
}

#[test]
fn sigterm_finishes_in_flight_requests_refuses_new_ones_and_closes_the_store() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let dir = temp_dir("shutdown");
    let db = dir.join("allps.db");
    let mut server = Proc::start(&db, &["--log-level", "info"]);
    let addr = server.addr;
    assert!(request(addr, &post(&add_employer("EMP1"))).is_ok());

    // A slow upload: headers and half the body in, the handler waiting for the rest.
    let slow_body = add_client("SLOW1", "EMP1", "SLOWPASS1");
    let mut slow = Conn::open(addr);
    slow.send(&head_declaring(slow_body.len(), &["Expect: 100-continue"]))
        .unwrap();
    assert_eq!(slow.read().unwrap().status, 100);
    let half = slow_body.len() / 2;
    slow.send(&slow_body.as_bytes()[..half]).unwrap();

    // Writers adding clients as fast as they can over keep-alive connections.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let anomalies = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..6 {
        let (acked, anomalies, stop) = (acked.clone(), anomalies.clone(), stop.clone());
        writers.push(std::thread::spawn(move || {
            let mut n = 0;
            'connections: while !stop.load(Ordering::Relaxed) {
                let Ok(mut conn) = Conn::try_open(addr) else {
                    break; // refused: the listener is gone
                };
                loop {
                    n += 1;
                    let number = format!("W{w}N{n}");
                    let body = add_client(&number, "EMP1", &format!("PW{w}X{n}"));
                    match conn.roundtrip(&post(&body)) {
                        Ok(r) if r.is_ok() => acked.lock().unwrap().push(number),
                        Ok(r)
                            if r.status == 503
                                && r.fault_code().as_deref() == Some("UNAVAILABLE") =>
                        {
                            continue 'connections;
                        }
                        Ok(r) => anomalies.lock().unwrap().push(format!(
                            "{number}: {} {}",
                            r.status,
                            r.text()
                        )),
                        // The server closed an idle keep-alive connection before reading
                        // the request: nothing was done, nothing acknowledged.
                        Err(_) => continue 'connections,
                    }
                    if stop.load(Ordering::Relaxed) {
                        break 'connections;
                    }
                }
            }
        }));
    }
    assert!(wait_until(Duration::from_secs(20), || acked
        .lock()
        .unwrap()
        .len()
        >= 30));

    server.signal("TERM");
    // New connections are refused promptly, while the slow upload keeps the process up.
    assert!(
        wait_until(Duration::from_secs(5), || std::net::TcpStream::connect(
            addr
        )
        .is_err()),
        "the listener still accepts after SIGTERM"
    );
    assert!(server.running(), "exited with a request in flight");
    // The in-flight request completes with a proper answer.
    slow.send(&slow_body.as_bytes()[half..]).unwrap();
    let response = slow.read().unwrap();
    assert!(response.is_ok(), "{}", response.text());
    assert_eq!(response.header("connection"), Some("close"));

    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let status = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "exit status {status:?}");
    let log = server.stderr_after_exit().join("\n");
    assert!(log.contains("store closed"), "{log}");
    let anomalies = anomalies.lock().unwrap();
    assert!(anomalies.is_empty(), "{anomalies:#?}");

    // The store was closed cleanly: WAL folded back, file intact, every answer kept.
    let wal = dir.join("allps.db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "the WAL was not checkpointed");
    assert_eq!(integrity_check(&db), "ok");
    let conn = open_db(&db);
    let mut acked = acked.lock().unwrap().clone();
    acked.push("SLOW1".into());
    let mut find = conn
        .prepare("SELECT count(*) FROM clients WHERE client_number = ?1")
        .unwrap();
    for number in &acked {
        let n: i64 = find.query_row([number], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "acknowledged client {number} is missing");
    }
    eprintln!(
        "shutdown: {} acknowledged AddClient calls all stored",
        acked.len()
    );
    drop(find);
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
}
