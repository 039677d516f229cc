//! Store faults seen from outside: `/health` answers readiness (whether the store can
//! write now), a store locked by another process gives a retryable `UNAVAILABLE` (HTTP
//! 503 with `Retry-After`) rather than an internal error and leaves nothing behind, and
//! the server refuses to start on a database it cannot write.

mod net;

use std::time::{Duration, Instant};

use net::*;

fn get(addr: std::net::SocketAddr, path: &str) -> Response {
    request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

#[test]
fn a_locked_store_is_not_ready_and_writes_are_retryable() {
    let dir = temp_dir("store-locked");
    let db = dir.join("allps.db");
    let mut server = Proc::start(&db, &["--log-level", "warn"]);
    assert_eq!(get(server.addr, "/health").status, 200);
    assert_eq!(
        request(server.addr, &post(&add_employer("E1"))).result_code(),
        Some(0)
    );

    // Another process takes the write lock and keeps it.
    let other = rusqlite::Connection::open(&db).expect("open");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    std::thread::sleep(Duration::from_millis(1100)); // past the cached readiness answer
    let started = Instant::now();
    let health = get(server.addr, "/health");
    assert_eq!(health.status, 503, "{}", health.text());
    assert_eq!(health.header("retry-after"), Some("1"));
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(get(server.addr, "/health/live").status, 200);

    let write = request(server.addr, &post(&add_employer("E2")));
    assert_eq!(write.status, 503, "{}", write.text());
    assert_eq!(write.fault_code().as_deref(), Some("UNAVAILABLE"));
    assert_eq!(write.header("retry-after"), Some("1"));
    // Reads go on beside the lock (WAL).
    assert!(
        request(server.addr, &post(&get_client("C1001")))
            .fault_code()
            .is_none()
    );

    other.execute_batch("ROLLBACK").expect("release");
    drop(other);
    assert!(wait_until(Duration::from_secs(10), || get(
        server.addr,
        "/health"
    )
    .status
        == 200));
    let again = request(server.addr, &post(&add_employer("E2")));
    assert_eq!(again.result_code(), Some(0), "{}", again.text());
    server.signal("TERM");
    server.wait_exit(Duration::from_secs(30));
    let check = open_db(&db);
    let e2: i64 = check
        .query_row(
            "SELECT COUNT(*) FROM employers WHERE employer_code = 'E2'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        e2, 1,
        "the refused write left nothing; the retry stored one"
    );
}

#[test]
fn the_server_refuses_to_start_on_a_read_only_database() {
    let dir = temp_dir("store-read-only");
    let db = dir.join("allps.db");
    // Create and migrate it, then make it read-only.
    drop(allps_ws::store::Db::open(&db, &allps_ws::store::DbOptions::default()).expect("create"));
    let mut perms = std::fs::metadata(&db).expect("metadata").permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&db, perms).expect("chmod");
    if std::fs::OpenOptions::new().write(true).open(&db).is_ok() {
        // Running as root: file modes do not stop us, so there is nothing to test here
        // (the check is `Connection::is_readonly` after opening).
        eprintln!("skipped: the file stays writable for this user");
        return;
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_allps-ws"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("read-only"), "{stderr}");
}
