//! The collection engine end to end: promissory notes created through the SOAP endpoint,
//! the processor stepped on the manual clock through a year of collections, the results
//! read back with GetPromissory and GetReplies; and a processor killed in the middle of
//! a collection morning (after claiming a presentment batch), taken over by a fresh one
//! on the reopened database and by two processors at once, losing nothing and
//! presenting nothing twice; and a note cancelled while an instalment is tracked
//! (tracking stops, UNPAID 02, the unpresented instalments never leave).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use allps_ws::clock::{Clock, ManualClock};
use allps_ws::engine::collection_jobs::CollectionSetup;
use allps_ws::engine::gateway::{
    AttemptKind, CollectionItem, CollectionOutcome, CreditInstruction, DeliveryOutcome, Gateway,
    GatewayUnavailable, ReturnAdvice, ReversalCheck, Simulator, WalletOutcome, WalletRequest,
};
use allps_ws::engine::processor::Processor;
use allps_ws::store::inspect;
use allps_ws::testing::{FIXED_NOW, TestService};
use time::macros::datetime;
use time::{Date, Duration, OffsetDateTime};

const TNS: &str = "urn:allps:ws:v1";

fn envelope(op: &str, body: &str) -> String {
    format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header>\
         <AuthHeader xmlns=\"{TNS}\"><UserName>demo</UserName><Password>demo-password</Password>\
         <ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader>\
         </soap:Header><soap:Body><{op} xmlns=\"{TNS}\">{body}</{op}></soap:Body></soap:Envelope>"
    )
}

/// The text of every `<name>` element, in order.
fn tags(body: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let end = after.find(&close).expect("closing tag");
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
    out
}

async fn ok(service: &TestService, op: &str, body: &str) -> String {
    let response = service.post(&envelope(op, body)).await;
    assert_eq!(response.status, 200, "{op}: {}", response.body);
    assert_eq!(
        tags(&response.body, "Code").first().map(String::as_str),
        Some("0"),
        "{op} refused: {}",
        response.body
    );
    response.body
}

fn base_sql() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/base.sql"))
        .expect("fixtures/base.sql")
}

async fn create_note(
    service: &TestService,
    reference: &str,
    account: &str,
    instalments: u32,
    first: &str,
    tracking_days: u32,
) -> String {
    let body = ok(
        service,
        "CreatePromissory",
        &format!(
            "<ClientNumber>C1001</ClientNumber><ContractReference>{reference}</ContractReference>\
             <PaymentStream>NAEDO</PaymentStream><BankBranchCode>470010</BankBranchCode>\
             <AccountNumber>{account}</AccountNumber><AccountType>SAVINGS</AccountType>\
             <InstalmentAmount>850.00</InstalmentAmount><NumberOfInstalments>{instalments}</NumberOfInstalments>\
             <Frequency>MONTHLY</Frequency><FirstActionDate>{first}</FirstActionDate>\
             <TrackingDays>{tracking_days}</TrackingDays>"
        ),
    )
    .await;
    tags(&body, "PromissoryNumber").remove(0)
}

/// The note's status and each instalment's status, from GetPromissory.
async fn statuses(service: &TestService, number: &str) -> (String, Vec<String>) {
    let body = ok(
        service,
        "GetPromissory",
        &format!("<PromissoryNumber>{number}</PromissoryNumber>"),
    )
    .await;
    let mut all = tags(&body, "Status");
    let note = all.remove(0);
    (note, all)
}

/// Every reply of the branch: (type, promissory, instalment, reason code), in order.
async fn replies(service: &TestService) -> Vec<(String, String, String, String)> {
    let body = ok(
        service,
        "GetReplies",
        "<SinceSequence>0</SinceSequence><MaxCount>1000</MaxCount>",
    )
    .await;
    body.split("<Reply>")
        .skip(1)
        .map(|r| {
            let first = |name: &str| tags(r, name).into_iter().next().unwrap_or_default();
            (
                first("ReplyType"),
                first("PromissoryNumber"),
                first("InstalmentNumber"),
                first("ReasonCode"),
            )
        })
        .collect()
}

/// A debtor bank scripted per instalment number (one note exercises every outcome):
/// 2 insufficient funds until tracking day 2; 3 account closed (12), collected when
/// re-presented as arrears; 4 collected and reversed 3 days later; 5 insufficient funds
/// on every attempt; everything else collected. Only the `target` note follows the
/// script; every other is collected. Counts presentments per attempt.
#[derive(Default)]
struct Scripted {
    target: Option<String>,
    calls: std::sync::Mutex<BTreeMap<(String, u32, u32), usize>>,
    total: AtomicUsize,
}

fn advice(code: &str, reason: &str) -> ReturnAdvice {
    ReturnAdvice {
        code: code.into(),
        reason: reason.into(),
    }
}

impl Gateway for Scripted {
    fn create_wallet(&self, request: &WalletRequest) -> Result<WalletOutcome, GatewayUnavailable> {
        Simulator::default().create_wallet(request)
    }
    fn submit_credit(&self, credit: &CreditInstruction) -> Result<(), GatewayUnavailable> {
        Simulator::default().submit_credit(credit)
    }
    fn credit_delivery(
        &self,
        credit: &CreditInstruction,
    ) -> Result<DeliveryOutcome, GatewayUnavailable> {
        Simulator::default().credit_delivery(credit)
    }
    fn credit_return(
        &self,
        credit: &CreditInstruction,
    ) -> Result<Option<ReturnAdvice>, GatewayUnavailable> {
        Simulator::default().credit_return(credit)
    }
    fn present_collection(
        &self,
        item: &CollectionItem,
    ) -> Result<CollectionOutcome, GatewayUnavailable> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry((
                item.promissory_number.clone(),
                item.instalment_number,
                item.attempt,
            ))
            .or_default() += 1;
        self.total.fetch_add(1, Ordering::SeqCst);
        let nsf = CollectionOutcome::Unpaid(advice("02", "NOT PROVIDED FOR"));
        if self.target.as_deref() != Some(item.promissory_number.as_str()) {
            return Ok(CollectionOutcome::Collected);
        }
        Ok(match (item.instalment_number, item.kind) {
            (2, AttemptKind::First | AttemptKind::Tracking { day: 1 }) => nsf,
            (3, AttemptKind::First) => CollectionOutcome::Unpaid(advice("12", "ACCOUNT CLOSED")),
            (5, _) => nsf,
            _ => CollectionOutcome::Collected,
        })
    }
    fn check_reversal(
        &self,
        item: &CollectionItem,
        collected_on: Date,
        today: Date,
    ) -> Result<ReversalCheck, GatewayUnavailable> {
        if item.instalment_number != 4
            || self.target.as_deref() != Some(item.promissory_number.as_str())
        {
            return Ok(ReversalCheck::NotYet {
                check_again_on: None,
            });
        }
        let on = collected_on + Duration::days(3);
        Ok(if today >= on {
            ReversalCheck::Reversed {
                on,
                advice: advice("30", "NO AUTHORITY TO DEBIT"),
            }
        } else {
            ReversalCheck::NotYet {
                check_again_on: Some(on),
            }
        })
    }
}

fn processor(service: &TestService, gateway: Arc<dyn Gateway>, batch: usize) -> Processor {
    let clock: Arc<dyn Clock> = service.clock.clone();
    Processor::new(
        service.app.db.clone(),
        clock,
        service.app.config.payouts.clone(),
        gateway,
    )
    .with_collections(CollectionSetup {
        batch,
        ..CollectionSetup::default()
    })
}

async fn run_at(service: &TestService, processor: &Processor, at: OffsetDateTime) {
    service.clock.set(at);
    processor.run_until(at).await.expect("processor run");
}

async fn count(service: &TestService, sql: &'static str) -> i64 {
    service
        .app
        .db
        .read(move |c| {
            inspect::row_text(c, sql).unwrap().expect("a row")[0]
                .as_deref()
                .expect("a value")
                .parse::<i64>()
                .expect("a count")
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twelve_instalment_note_through_a_year_of_collections() {
    let service = TestService::new().await;
    service.execute_sql(&base_sql()).await;
    let gateway = Arc::new(Scripted {
        target: Some("PN00000001".into()),
        ..Scripted::default()
    });
    let p = processor(&service, gateway.clone(), 1000);
    // FIXED_NOW is Monday 2026-11-23 10:00 SAST; NAEDO needs 3 business days.
    let note = create_note(&service, "LOAN-12", "1376543212", 12, "2026-11-26", 3).await;
    let paid = create_note(&service, "LOAN-2", "1376543212", 2, "2026-11-26", 0).await;
    assert_eq!(statuses(&service, &note).await.1, vec!["PENDING"; 12]);

    // The cut-off passes (Monday 2026-11-23 00:00 is the submission instant for a
    // Thursday action date): the first instalments are SUBMITTED, nothing presented.
    run_at(&service, &p, datetime!(2026-11-25 12:00 +2)).await;
    let (status, s) = statuses(&service, &note).await;
    assert_eq!(status, "ACTIVE");
    assert_eq!(s[0], "SUBMITTED");
    assert_eq!(s[1], "PENDING");
    assert_eq!(gateway.total.load(Ordering::SeqCst), 0);

    // The NAEDO window (02:00 on the action date): PRESENTED, answered at 06:00.
    run_at(&service, &p, datetime!(2026-11-26 03:00 +2)).await;
    assert_eq!(statuses(&service, &note).await.1[0], "PRESENTED");
    run_at(&service, &p, datetime!(2026-11-26 07:00 +2)).await;
    assert_eq!(statuses(&service, &note).await.1[0], "COLLECTED");

    // Instalment 2 (2026-12-28, after Christmas and a weekend) is tracked: one
    // INSTALMENT_TRACKING per insufficient-funds answer, collected on tracking day 2.
    run_at(&service, &p, datetime!(2026-12-28 07:00 +2)).await;
    assert_eq!(statuses(&service, &note).await.1[1], "TRACKING");
    run_at(&service, &p, datetime!(2027-01-10 00:00 +2)).await;
    assert_eq!(statuses(&service, &note).await.1[1], "COLLECTED");

    // Instalment 3 comes back 12, account closed: UNPAID, no tracking.
    run_at(&service, &p, datetime!(2027-01-27 12:00 +2)).await;
    assert_eq!(statuses(&service, &note).await.1[2], "UNPAID");
    // The lender re-presents it as arrears on Friday 2027-02-05 (past the NAEDO cut-off,
    // after instalment 4's date is fine for arrears).
    let edited = ok(
        &service,
        "EditInstalment",
        &format!(
            "<PromissoryNumber>{note}</PromissoryNumber><InstalmentNumber>3</InstalmentNumber>\
             <ActionDate>2027-02-05</ActionDate>"
        ),
    )
    .await;
    assert_eq!(tags(&edited, "Status"), vec!["PENDING"]);
    run_at(&service, &p, datetime!(2027-02-05 12:00 +2)).await;
    assert_eq!(statuses(&service, &note).await.1[2], "COLLECTED");

    // A year on: everything has run.
    run_at(&service, &p, datetime!(2027-12-31 00:00 +2)).await;
    let (status, s) = statuses(&service, &note).await;
    let mut expected = vec!["COLLECTED"; 12];
    expected[3] = "REVERSED";
    expected[4] = "UNPAID";
    assert_eq!(s, expected);
    assert_eq!(status, "ACTIVE");
    let (status, s) = statuses(&service, &paid).await;
    assert_eq!(
        (status.as_str(), s),
        ("COMPLETED", vec!["COLLECTED".into(); 2])
    );

    // GetPromissory: attempts, collected amount, settlement date, arrears flag, totals.
    let body = ok(
        &service,
        "GetPromissory",
        &format!("<PromissoryNumber>{note}</PromissoryNumber>"),
    )
    .await;
    let instalment = |n: usize| body.split("<Instalment>").nth(n).unwrap().to_string();
    let attempts = |n: usize| {
        let i = instalment(n);
        i.split("<Attempts>").nth(1).unwrap_or_default().to_string()
    };
    assert_eq!(tags(&attempts(3), "Kind"), vec!["FIRST", "ARREARS"]);
    assert_eq!(tags(&attempts(3), "Outcome"), vec!["UNPAID", "COLLECTED"]);
    assert_eq!(tags(&attempts(3), "ReasonCode"), vec!["12"]);
    assert_eq!(tags(&instalment(3), "Arrears"), vec!["true"]);
    assert_eq!(tags(&instalment(3), "CollectedAmount"), vec!["850.00"]);
    // The instalment's settlement date, and the same date on its INSTALMENT_COLLECTED reply.
    let settlement = tags(&instalment(3), "SettlementDate");
    assert_eq!(settlement.len(), 2);
    assert_eq!(settlement[0], settlement[1]);
    assert_eq!(
        tags(&attempts(2), "Kind"),
        vec!["FIRST", "TRACKING", "TRACKING"]
    );
    assert!(tags(&instalment(1), "Arrears").is_empty());
    assert_eq!(tags(&attempts(5), "Outcome"), vec!["UNPAID"; 4]);
    assert_eq!(tags(&body, "CollectedTotal"), vec!["8500.00"]);
    assert_eq!(tags(&body, "OutstandingTotal"), vec!["1700.00"]);
    assert_eq!(tags(&body, "ArrearsTotal"), vec!["1700.00"]);

    // GetClient's note list carries the same totals.
    let client = ok(&service, "GetClient", "<ClientNumber>C1001</ClientNumber>").await;
    assert_eq!(tags(&client, "CollectedTotal"), vec!["8500.00", "1700.00"]);
    assert_eq!(tags(&client, "OutstandingTotal"), vec!["1700.00", "0.00"]);
    assert_eq!(tags(&client, "ArrearsTotal"), vec!["1700.00", "0.00"]);

    // The feed: every outcome, in order, per instalment.
    let feed = replies(&service).await;
    let of = |pn: &str, n: &str| -> Vec<(String, String)> {
        feed.iter()
            .filter(|r| r.1 == pn && r.2 == n)
            .map(|r| (r.0.clone(), r.3.clone()))
            .collect()
    };
    let pair = |t: &str, c: &str| (t.to_string(), c.to_string());
    assert_eq!(
        of(&note, "1"),
        vec![
            pair("INSTALMENT_PRESENTED", ""),
            pair("INSTALMENT_COLLECTED", "")
        ]
    );
    assert_eq!(
        of(&note, "2"),
        vec![
            pair("INSTALMENT_PRESENTED", ""),
            pair("INSTALMENT_TRACKING", "02"),
            pair("INSTALMENT_TRACKING", "02"),
            pair("INSTALMENT_COLLECTED", "")
        ]
    );
    assert_eq!(
        of(&note, "3"),
        vec![
            pair("INSTALMENT_PRESENTED", ""),
            pair("INSTALMENT_UNPAID", "12"),
            pair("INSTALMENT_PRESENTED", ""),
            pair("INSTALMENT_COLLECTED", "")
        ]
    );
    assert_eq!(
        of(&note, "4"),
        vec![
            pair("INSTALMENT_PRESENTED", ""),
            pair("INSTALMENT_COLLECTED", ""),
            pair("INSTALMENT_REVERSED", "30")
        ]
    );
    // Tracked through all 3 tracking days (4 attempts), then UNPAID 02.
    assert_eq!(
        of(&note, "5"),
        vec![
            pair("INSTALMENT_PRESENTED", ""),
            pair("INSTALMENT_TRACKING", "02"),
            pair("INSTALMENT_TRACKING", "02"),
            pair("INSTALMENT_TRACKING", "02"),
            pair("INSTALMENT_UNPAID", "02")
        ]
    );
    assert_eq!(
        feed.iter()
            .filter(|r| r.0 == "NOTE_COMPLETED")
            .map(|r| r.1.clone())
            .collect::<Vec<_>>(),
        vec![paid.clone()]
    );
    // The arrears attempt is marked as one (attempt 2 of instalment 3).
    assert_eq!(
        count(
            &service,
            "SELECT count(*) FROM instalment_attempts WHERE promissory_id = 1 AND instalment_number = 3
               AND attempt_number = 2 AND kind = 'ARREARS' AND arrears = 1 AND outcome = 'COLLECTED'"
        )
        .await,
        1
    );
    // Nothing presented twice: one gateway call per attempt.
    let calls = gateway.calls.lock().unwrap().clone();
    assert!(calls.values().all(|n| *n == 1), "{calls:?}");
    assert_eq!(calls.keys().filter(|k| k.0 == note && k.1 == 5).count(), 4);
    assert_eq!(
        count(
            &service,
            "SELECT count(*) FROM jobs WHERE status NOT IN ('DONE')"
        )
        .await,
        0
    );
}

/// A service on a database file; `seed` seeds it.
async fn file_service(path: &Path, clock: Arc<ManualClock>, seed: bool) -> TestService {
    TestService::on_file(path, clock, seed.then(base_sql)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_note_in_tracking_stops_tracking_and_its_unpresented_instalments_never_leave()
{
    let service = TestService::new().await;
    service.execute_sql(&base_sql()).await;
    let gateway = Arc::new(Scripted {
        target: Some("PN00000001".into()),
        ..Scripted::default()
    });
    let p = processor(&service, gateway.clone(), 1000);
    let note = create_note(&service, "LOAN-C", "1376543212", 5, "2026-11-26", 3).await;
    // Instalment 1 collected; instalment 2 (Thursday 2026-12-24) insufficient funds at
    // presentment and on tracking day 1 (Monday 28th, after Christmas and the weekend),
    // answered by 06:00; tracking day 2 (the 29th) would collect it.
    run_at(&service, &p, datetime!(2026-12-28 12:00 +2)).await;
    let (_, s) = statuses(&service, &note).await;
    assert_eq!(
        s,
        vec!["COLLECTED", "TRACKING", "PENDING", "PENDING", "PENDING"]
    );
    let before = gateway.total.load(Ordering::SeqCst);
    assert_eq!(
        before, 3,
        "instalment 1 once, instalment 2 at presentment and tracking day 1"
    );

    ok(
        &service,
        "CancelPromissory",
        &format!("<PromissoryNumber>{note}</PromissoryNumber><Reason>settled early</Reason>"),
    )
    .await;
    // The note is cancelled, so at tracking day 2 the instalment ends UNPAID
    // (02) without another presentment, and the unpresented instalments never leave.
    run_at(&service, &p, datetime!(2027-07-01 00:00 +2)).await;
    let (status, s) = statuses(&service, &note).await;
    assert_eq!(status, "CANCELLED");
    assert_eq!(
        s,
        vec!["COLLECTED", "UNPAID", "CANCELLED", "CANCELLED", "CANCELLED"]
    );
    assert_eq!(gateway.total.load(Ordering::SeqCst), before);
    let mine: Vec<_> = replies(&service)
        .await
        .into_iter()
        .filter(|r| r.1 == note)
        .map(|r| (r.0, r.2, r.3))
        .collect();
    let last = mine.last().cloned().expect("replies");
    assert_eq!(
        last,
        (
            "INSTALMENT_UNPAID".to_string(),
            "2".to_string(),
            "02".to_string()
        )
    );
    assert!(
        !mine.iter().any(|r| r.1 == "3" || r.1 == "4" || r.1 == "5"),
        "nothing about the unpresented instalments: {mine:?}"
    );
    assert_eq!(
        count(
            &service,
            "SELECT count(*) FROM instalment_attempts WHERE promissory_id = 1 AND instalment_number > 2"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_a_collection_morning_loses_nothing_and_presents_nothing_twice()
{
    let dir = std::env::temp_dir().join(format!("allps-collections-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("allps.db");
    let clock = Arc::new(ManualClock::new(FIXED_NOW));
    let service = file_service(&path, clock.clone(), true).await;
    let mut notes = BTreeSet::new();
    for i in 0..25 {
        notes.insert(
            create_note(
                &service,
                &format!("R{i:03}"),
                "1376543212",
                2,
                "2026-11-26",
                0,
            )
            .await,
        );
    }
    let gateway = Arc::new(Scripted::default());
    // Batches of 7: the morning takes several claims.
    let first = processor(&service, gateway.clone(), 7);
    run_at(&service, &first, datetime!(2026-11-26 01:59 +2)).await;
    // The window opens; the first processor claims a presentment batch and dies.
    clock.set(datetime!(2026-11-26 02:00 +2));
    let claimed = first
        .claim_only(datetime!(2026-11-26 02:00 +2))
        .await
        .unwrap()
        .expect("the sweep is due");
    assert_eq!(claimed.kind.as_str(), "COLLECTION_SWEEP");
    drop(first);
    service.app.db.close();
    drop(service);

    // Reopened; past the lease, two processors run the rest of the month at once.
    let service = file_service(&path, clock.clone(), false).await;
    let a = processor(&service, gateway.clone(), 7);
    let b = processor(&service, gateway.clone(), 7);
    let until = datetime!(2027-01-31 00:00 +2);
    clock.set(datetime!(2026-11-26 02:10 +2));
    let (ra, rb) = tokio::join!(a.run_until(until), b.run_until(until));
    ra.unwrap();
    rb.unwrap();
    clock.set(until);
    for pn in &notes {
        let (status, s) = statuses(&service, pn).await;
        assert_eq!(status, "COMPLETED", "{pn}");
        assert_eq!(s, vec!["COLLECTED"; 2], "{pn}");
    }
    let feed = replies(&service).await;
    let mut seen = BTreeSet::new();
    for r in &feed {
        assert!(seen.insert(r.clone()), "reply twice: {r:?}");
    }
    assert_eq!(
        feed.iter()
            .filter(|r| r.0 == "INSTALMENT_PRESENTED")
            .count(),
        50
    );
    assert_eq!(
        feed.iter()
            .filter(|r| r.0 == "INSTALMENT_COLLECTED")
            .count(),
        50
    );
    assert_eq!(feed.iter().filter(|r| r.0 == "NOTE_COMPLETED").count(), 25);
    let calls = gateway.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 50);
    assert!(calls.values().all(|n| *n == 1), "{calls:?}");
    assert_eq!(
        count(
            &service,
            "SELECT count(*) FROM (SELECT 1 FROM instalment_attempts GROUP BY promissory_id, instalment_number HAVING count(*) > 1)"
        )
        .await,
        0
    );
    service.app.db.close();
    let _ = std::fs::remove_dir_all(&dir);
}
