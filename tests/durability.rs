//! `kill -9` under concurrent writes loses nothing acknowledged.
//!
//! The real binary runs on a database file; 16 clients add clients as fast as they can
//! over keep-alive connections (credentials in every request, as real clients send
//! them), each recording every ClientNumber answered `Code 0` together with the
//! AllpsClientNumber it was given. Part-way through, the process is killed with
//! SIGKILL: no shutdown, no checkpoint. Then, on the file as the crash left it,
//! `PRAGMA integrity_check` must say ok and every acknowledged client must be there with
//! the passport and AllpsClientNumber it was acknowledged with; the server must start
//! again on it and serve those clients. Four rounds, killed at different moments, on the
//! same file.
//!
//! What this proves: no answer is sent before its transaction is committed, and a
//! process crash (the OS survives) loses no committed write. It cannot prove fsync
//! ordering against a power cut.

mod net;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use net::*;

const CLIENTS: usize = 16;

/// What one round of writers saw.
struct Round {
    /// ClientNumber → (passport, AllpsClientNumber) for every `Code 0` answer.
    acked: BTreeMap<String, (String, String)>,
    /// Requests written whose answer never came (killed mid-flight).
    unanswered: usize,
    /// Answers that were neither `Code 0` nor a connection failure.
    anomalies: Vec<String>,
}

fn write_until_killed(server: &mut Proc, round: usize, kill_after: Duration) -> Round {
    let addr = server.addr;
    let acked = Arc::new(Mutex::new(BTreeMap::new()));
    let anomalies = Arc::new(Mutex::new(Vec::new()));
    let unanswered = Arc::new(Mutex::new(0usize));
    let started = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for c in 0..CLIENTS {
        let (acked, anomalies, unanswered, started) = (
            acked.clone(),
            anomalies.clone(),
            unanswered.clone(),
            started.clone(),
        );
        writers.push(std::thread::spawn(move || {
            let mut conn = Conn::open(addr);
            started.store(true, Ordering::Relaxed);
            for n in 0.. {
                let number = format!("R{round}C{c}N{n}");
                let passport = format!("R{round}C{c}P{n}");
                if conn
                    .send(&post(&add_client(&number, "EMP1", &passport)))
                    .is_err()
                {
                    *unanswered.lock().unwrap() += 1;
                    return;
                }
                match conn.read() {
                    Ok(r) if r.is_ok() => {
                        let allps = r.leaf("AllpsClientNumber").expect("AllpsClientNumber");
                        acked.lock().unwrap().insert(number, (passport, allps));
                    }
                    Ok(r) => {
                        anomalies.lock().unwrap().push(format!(
                            "{number}: {} {}",
                            r.status,
                            r.text()
                        ));
                        return;
                    }
                    Err(_) => {
                        // Killed before (or while) answering: not acknowledged.
                        *unanswered.lock().unwrap() += 1;
                        return;
                    }
                }
            }
        }));
    }
    assert!(wait_until(Duration::from_secs(10), || started.load(Ordering::Relaxed)));
    // The clock starts at the first acknowledged write: a fresh process spends its first
    // moments verifying the writers' credentials (argon2, through the lockout gate), and
    // the kill is meant to land among writes, not before them.
    assert!(wait_until(Duration::from_secs(10), || !acked
        .lock()
        .unwrap()
        .is_empty()));
    let t = Instant::now();
    std::thread::sleep(kill_after);
    let before_kill = acked.lock().unwrap().len();
    server.kill9();
    eprintln!(
        "round {round}: killed after {:?} with {before_kill} acknowledged",
        t.elapsed()
    );
    for w in writers {
        w.join().expect("writer thread");
    }
    let acked = acked.lock().unwrap().clone();
    let anomalies = anomalies.lock().unwrap().clone();
    let unanswered = *unanswered.lock().unwrap();
    Round {
        acked,
        unanswered,
        anomalies,
    }
}

/// Every acknowledged client is in the file with what it was acknowledged with.
fn assert_all_present(db: &std::path::Path, acked: &BTreeMap<String, (String, String)>) {
    let conn = open_db(db);
    let mut find = conn
        .prepare("SELECT id_number, id FROM clients WHERE client_number = ?1")
        .unwrap();
    let mut missing = Vec::new();
    for (number, (passport, allps)) in acked {
        let row: Option<(String, i64)> = find
            .query_row([number], |r| Ok((r.get(0)?, r.get(1)?)))
            .ok();
        match row {
            Some((id_number, id)) => {
                assert_eq!(&id_number, passport, "{number}");
                assert_eq!(
                    allps,
                    &allps_ws::domain::allps_client_number(id),
                    "{number}"
                );
            }
            None => missing.push(number.clone()),
        }
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged clients lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(20)]
    );
}

#[test]
fn kill_9_under_concurrent_writes_loses_nothing_acknowledged() {
    let dir = temp_dir("durability");
    let db = dir.join("allps.db");
    let mut all_acked: BTreeMap<String, (String, String)> = BTreeMap::new();
    let timings = [1500, 700, 1900, 250];
    for (round, ms) in timings.into_iter().enumerate() {
        let mut server = Proc::start(&db, &["--log-level", "warn"]);
        let addr = server.addr;
        // The server restarted on the crashed file serves what was acknowledged before.
        for number in all_acked.keys().step_by(97).take(25) {
            let r = request(addr, &post(&get_client(number)));
            assert!(r.is_ok(), "GetClient {number} after restart: {}", r.text());
            assert_eq!(
                r.leaf("AllpsClientNumber"),
                Some(all_acked[number].1.clone())
            );
        }
        assert!(request(addr, &post(&add_employer("EMP1"))).is_ok());

        let result = write_until_killed(&mut server, round, Duration::from_millis(ms));
        assert!(
            result.anomalies.is_empty(),
            "round {round}: {:#?}",
            result.anomalies
        );
        assert!(
            result.acked.len() > 50,
            "round {round}: only {} writes acknowledged",
            result.acked.len()
        );
        eprintln!(
            "round {round}: kill -9 after {ms} ms: {} acknowledged, {} unanswered",
            result.acked.len(),
            result.unanswered
        );
        // The file exactly as the crash left it (WAL and all).
        assert_eq!(integrity_check(&db), "ok", "round {round}");
        all_acked.extend(result.acked);
        assert_all_present(&db, &all_acked);
    }
    // A last start on the file: everything is still there.
    let server = Proc::start(&db, &["--log-level", "warn"]);
    for number in all_acked.keys().step_by(53).take(40) {
        assert!(request(server.addr, &post(&get_client(number))).is_ok());
    }
    drop(server);
    assert_all_present(&db, &all_acked);
    eprintln!(
        "{} acknowledged writes over {} kills, none lost",
        all_acked.len(),
        timings.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
