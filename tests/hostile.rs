//! Hostile clients over real sockets, each with bounded loops and time: the connection
//! cap (oldest idle closed first, 503 + Retry-After when all are busy), the in-flight
//! body memory budget (503 + Retry-After, admitted calls go on, memory given back),
//! header size and count caps (431), the response-write timeout (a client that
//! pipelines and never reads is closed), the bounded password-check queue, and the
//! SOAP 1.2 Sender-fault status setting.

mod net;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use allps_ws::app::AppConfig;
use net::*;

/// A POST head declaring `length` body bytes.
fn head_declaring(length: usize) -> Vec<u8> {
    format!(
        "POST /allps HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {length}\r\n\r\n"
    )
    .into_bytes()
}

#[test]
fn body_memory_budget_refuses_quickly_and_admitted_calls_go_on() {
    let server = InProc::with_config(AppConfig {
        max_body_memory: 1024 * 1024,
        ..AppConfig::default()
    });
    // Four clients each declare 250 KiB and send all but the last byte: 1000 KiB would
    // be held; large bodies may use three quarters of the budget (768 KiB), so three are
    // admitted.
    let mut stalled = Vec::new();
    for _ in 0..3 {
        let mut conn = Conn::open(server.addr);
        conn.send(&head_declaring(250 * 1024)).expect("head");
        conn.send(&vec![b' '; 250 * 1024 - 1]).expect("body");
        stalled.push(conn);
    }
    assert!(
        wait_until(Duration::from_secs(5), || server.app.body_budget.used()
            >= 750 * 1024),
        "the three admitted bodies are reserved"
    );
    let started = Instant::now();
    let mut conn = Conn::open(server.addr);
    conn.send(&head_declaring(250 * 1024)).expect("head");
    let refused = conn.read().expect("an answer before the body was sent");
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.fault_code().as_deref(), Some("UNAVAILABLE"));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered quickly"
    );
    // Small calls still fit (the last quarter is theirs) and are answered.
    let ok = request(server.addr, &post(&get_client("C1001")));
    assert!(ok.is_ok(), "{}", ok.text());
    // An admitted call finishes normally (its last byte; the body is not XML, so it is
    // a fault, but an answered one, not a 503).
    stalled[0].send(b" ").expect("last byte");
    let answered = stalled[0].read().expect("the admitted call is answered");
    assert_ne!(answered.status, 503);
    // Closing the stalled ones gives the memory back; a big body then fits again.
    drop(stalled);
    assert!(
        wait_until(Duration::from_secs(5), || server.app.body_budget.used()
            == 0),
        "memory returned: {} bytes still held",
        server.app.body_budget.used()
    );
    let mut body = get_client("C1001");
    body.push_str(&" ".repeat(600 * 1024));
    let big = request(server.addr, &post(&body));
    assert!(big.is_ok(), "{}", big.text());
}

#[test]
fn chunked_bodies_count_against_the_budget_as_they_arrive() {
    let server = InProc::with_config(AppConfig {
        max_body_memory: 256 * 1024,
        ..AppConfig::default()
    });
    let mut conn = Conn::open(server.addr);
    conn.send(b"POST /allps HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
        .expect("head");
    let chunk = vec![b' '; 64 * 1024];
    let mut answer = None;
    for _ in 0..8 {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        if conn.send(&frame).is_err() {
            break;
        }
    }
    if let Ok(response) = conn.read() {
        answer = Some(response);
    }
    let answer = answer.expect("an answer");
    assert_eq!(answer.status, 503);
    assert!(wait_until(Duration::from_secs(5), || server
        .app
        .body_budget
        .used()
        == 0));
}

#[test]
fn connection_cap_closes_the_oldest_idle_connection_first() {
    let server = InProc::with_config(AppConfig {
        max_connections: 4,
        ..AppConfig::default()
    });
    // Four idle connections (sent nothing) fill the cap.
    let mut idle: Vec<Conn> = (0..4).map(|_| Conn::open(server.addr)).collect();
    assert!(wait_until(Duration::from_secs(5), || server
        .app
        .connections
        .len()
        == 4));
    // A legitimate caller still gets in: the oldest idle one is closed for it.
    let ok = request(server.addr, &post(&get_client("C1001")));
    assert!(ok.is_ok(), "{}", ok.text());
    assert!(
        idle[0].closed_within(Duration::from_secs(5)),
        "the oldest idle connection was closed"
    );
    assert!(server.app.connections.len() <= 4);
    idle.clear();
    assert!(wait_until(Duration::from_secs(5), || server
        .app
        .connections
        .is_empty()));
}

#[test]
fn connection_cap_answers_503_when_every_connection_is_busy() {
    let server = InProc::with_config(AppConfig {
        max_connections: 2,
        ..AppConfig::default()
    });
    // Two connections busy in a request (body withheld).
    let mut busy = Vec::new();
    for _ in 0..2 {
        let mut conn = Conn::open(server.addr);
        conn.send(&head_declaring(100)).expect("head");
        busy.push(conn);
    }
    assert!(wait_until(Duration::from_secs(5), || server
        .app
        .body_budget
        .used()
        == 200));
    let started = Instant::now();
    let mut conn = Conn::open(server.addr);
    let refused = conn.read().expect("a 503 at once");
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(started.elapsed() < Duration::from_secs(2));
    // Room frees: new calls are served again.
    busy.clear();
    assert!(wait_until(Duration::from_secs(5), || server
        .app
        .connections
        .is_empty()));
    assert!(request(server.addr, &post(&get_client("C1001"))).is_ok());
}

#[test]
fn oversized_or_overcounted_headers_get_431() {
    let server = InProc::with_config(AppConfig {
        max_header_bytes: 8 * 1024,
        max_headers: 20,
        ..AppConfig::default()
    });
    let body = get_client("C1001");
    let long = format!("X-Padding: {}", "a".repeat(16 * 1024));
    let response = request(server.addr, &post_with(body.as_bytes(), &[&long]));
    assert_eq!(response.status, 431);
    let many: Vec<String> = (0..30).map(|i| format!("X-H{i}: v")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let response = request(server.addr, &post_with(body.as_bytes(), &many));
    assert_eq!(response.status, 431);
    // Within the caps: served.
    let few: Vec<String> = (0..10).map(|i| format!("X-H{i}: v")).collect();
    let few: Vec<&str> = few.iter().map(String::as_str).collect();
    assert!(request(server.addr, &post_with(body.as_bytes(), &few)).is_ok());
}

#[test]
fn default_header_caps_refuse_150_headers_and_300_kb() {
    let server = InProc::start();
    let body = get_client("C1001");
    let many: Vec<String> = (0..150).map(|i| format!("X-H{i}: v")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        request(server.addr, &post_with(body.as_bytes(), &many)).status,
        431
    );
    let long = format!("X-Padding: {}", "a".repeat(300 * 1000));
    let mut conn = Conn::open(server.addr);
    // The server may answer and close before the whole head is written.
    let _ = conn.send(&post_with(body.as_bytes(), &[&long]));
    assert_eq!(conn.read().expect("431").status, 431);
}

#[test]
fn a_client_that_pipelines_and_never_reads_is_closed() {
    let server = InProc::with_config(AppConfig {
        write_timeout: Duration::from_secs(1),
        header_read_timeout: Duration::from_secs(30),
        ..AppConfig::default()
    });
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream
        .set_write_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    // Requests for a large answer (the WSDL), pipelined, never read, until the
    // server's send buffer and ours are full.
    let get = b"GET /allps?wsdl HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(64);
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(20) {
        match stream.write(&get) {
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                // Our side is full too; wait and see whether the server gave up.
                if wait_until(Duration::from_millis(300), || {
                    server.app.connections.is_empty()
                }) {
                    closed = true;
                    break;
                }
            }
            Err(_) => {
                closed = true; // reset by the server
                break;
            }
        }
    }
    assert!(
        closed || wait_until(Duration::from_secs(5), || server.app.connections.is_empty()),
        "the stalled connection was not closed"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    // Draining what is left then sees the end of the stream.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut sink = vec![0u8; 1 << 20];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    assert!(request(server.addr, &post(&get_client("C1001"))).is_ok());
}

#[test]
fn password_checks_beyond_the_queue_are_refused_at_once_and_sessions_never_wait() {
    let server = InProc::with_config(AppConfig {
        argon2_workers: 1,
        argon2_queue: 2,
        ..AppConfig::default()
    });
    // A session first (one password check).
    let login = request(server.addr, &post(LOGIN_BODY));
    let session = login.leaf("SessionId").expect("a session");
    let wrong = envelope_with_password("wrong-password");
    // 12 concurrent wrong-password calls for unknown-but-plausible users: at most one
    // runs and two wait; the rest are refused at once with UNAVAILABLE.
    let handles: Vec<_> = (0..12)
        .map(|_| {
            let addr = server.addr;
            let wrong = wrong.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let response = request(addr, &post(&wrong));
                (response, started.elapsed())
            })
        })
        .collect();
    // Meanwhile a session caller is answered promptly.
    let by_session = session_get_client(&session);
    let started = Instant::now();
    let response = request(server.addr, &post(&by_session));
    let session_took = started.elapsed();
    assert!(response.is_ok(), "{}", response.text());
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("client"))
        .collect();
    let unavailable = results
        .iter()
        .filter(|(r, _)| r.fault_code().as_deref() == Some("UNAVAILABLE"))
        .count();
    let failed = results
        .iter()
        .filter(|(r, _)| r.fault_code().as_deref() == Some("AUTH_FAILED"))
        .count();
    assert_eq!(unavailable + failed, 12);
    assert!(unavailable >= 1, "the queue bound refused some");
    for (r, _) in &results {
        if r.fault_code().as_deref() == Some("UNAVAILABLE") {
            assert_eq!(r.status, 503);
            assert_eq!(r.header("retry-after"), Some("1"));
        }
    }
    assert!(
        session_took < Duration::from_secs(2),
        "a session call waited {session_took:?}"
    );
    assert_eq!(server.app.argon2_waiting.load(Ordering::Relaxed), 0);
}

#[test]
fn soap12_sender_faults_can_be_sent_with_500_for_wcf() {
    let fault12 = |config: AppConfig| {
        let server = InProc::with_config(config);
        let body = "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body><GetClient xmlns=\"urn:allps:ws:v1\"><ClientNumber>C1001</ClientNumber></GetClient></soap:Body></soap:Envelope>";
        let mut bytes = format!(
            "POST /allps HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        let response = request(server.addr, &bytes);
        assert_eq!(response.fault_code().as_deref(), Some("AUTH_REQUIRED"));
        assert!(response.text().contains("soap:Sender"));
        response.status
    };
    assert_eq!(fault12(AppConfig::default()), 400);
    assert_eq!(
        fault12(AppConfig {
            soap12_sender_status: 500,
            ..AppConfig::default()
        }),
        500
    );
}

const LOGIN_BODY: &str = "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><Login xmlns=\"urn:allps:ws:v1\"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></Login></soap:Body></soap:Envelope>";

fn envelope_with_password(password: &str) -> String {
    get_client("C1001")
        .replace("demo-password", password)
        .replace("<UserName>demo<", "<UserName>nobody<")
}

fn session_get_client(session: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header><AuthHeader xmlns=\"urn:allps:ws:v1\"><SessionId>{session}</SessionId></AuthHeader></soap:Header><soap:Body><GetClient xmlns=\"urn:allps:ws:v1\"><ClientNumber>C1001</ClientNumber></GetClient></soap:Body></soap:Envelope>"
    )
}

#[test]
fn a_burst_of_guesses_gets_at_most_threshold_password_checks() {
    let server = InProc::with_config(AppConfig {
        argon2_queue: 1000,
        ..AppConfig::default()
    });
    let threshold = server.app.config.auth.lockout_threshold as u64;
    // 60 concurrent wrong guesses and the right password among them, all sent while
    // the user is unlocked.
    let mut bodies: Vec<String> = (0..60)
        .map(|i| envelope_with_password(&format!("guess-{i}")).replace("nobody", "demo"))
        .collect();
    bodies.insert(30, get_client("C1001"));
    let handles: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let addr = server.addr;
            std::thread::spawn(move || request(addr, &post(&body)))
        })
        .collect();
    let answers: Vec<Response> = handles
        .into_iter()
        .map(|h| h.join().expect("client"))
        .collect();
    let checks = server.app.password_checks.load(Ordering::Relaxed);
    let ok = answers.iter().filter(|r| r.is_ok()).count();
    // A success starts the count again ("failures in a row"), so when the right
    // password was among the checked ones, one more window's worth may follow it.
    let bound = threshold * (1 + ok as u64);
    assert!(
        checks <= bound,
        "{checks} real password checks for a threshold of {threshold} ({ok} right)"
    );
    let failed = answers
        .iter()
        .filter(|r| r.fault_code().as_deref() == Some("AUTH_FAILED"))
        .count();
    assert_eq!(ok + failed, 61, "every guess answered OK or AUTH_FAILED");
    // If the right password was not among the checked ones, the user is now locked:
    // even the right password is refused, without a check.
    if ok == 0 {
        let before = server.app.password_checks.load(Ordering::Relaxed);
        let again = request(server.addr, &post(&get_client("C1001")));
        assert_eq!(again.fault_code().as_deref(), Some("AUTH_FAILED"));
        assert_eq!(server.app.password_checks.load(Ordering::Relaxed), before);
    }
}

#[test]
fn under_a_low_descriptor_limit_stalled_connections_do_not_lock_callers_out() {
    use std::io::BufRead;
    let dir = temp_dir("hostile-fds");
    let db = dir.join("allps.db");
    // The real binary under `ulimit -n 64`: 80 stalled connections are more than it has
    // descriptors for.
    let mut child = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -n 64 && exec \"$0\" serve --demo --listen 127.0.0.1:0 --log-level warn --db \"$1\"",
            env!("CARGO_BIN_EXE_allps-ws"),
        ])
        .arg(&db)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = lines.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("allps-ws listening on http://") {
                let _ = tx.send(rest.split('/').next().unwrap_or("").to_string());
            }
            seen.lock().unwrap().push(line);
        }
    });
    let addr: std::net::SocketAddr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("started")
        .parse()
        .expect("address");
    let mut stalled = Vec::new();
    for _ in 0..80 {
        if let Ok(mut conn) = Conn::try_open(addr) {
            let _ = conn.send(b"POST /allps HTTP/1.1\r\nHost: x\r\n");
            stalled.push(conn);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    for _ in 0..3 {
        let response = Conn::open(addr)
            .roundtrip(&post(&get_client("C1")))
            .expect("a legitimate caller is answered");
        assert_eq!(response.status, 200, "{}", response.text());
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(stalled);
    let _ = child.kill();
    let _ = child.wait();
    let accept_failures = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("accept failed"))
        .count();
    assert!(
        accept_failures <= 3,
        "{accept_failures} accept-failure lines"
    );
}
