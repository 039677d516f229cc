//! DebiCheck end to end: mandates created through the SOAP endpoint, the processor
//! stepped on the manual clock (as `allps-ws process --until` does), the results read
//! back with GetPromissory and GetReplies.
//!
//! - every authentication window at its edges: TT1_REALTIME answered after 119 s
//!   (authenticated) and 120 s / 121 s (expired); TT1_DELAYED answered at 22:29:59
//!   (authenticated) and 22:30:00 (expired); TT2 requested on a Friday, answered
//!   Saturday 20:59:59 (authenticated) and 21:00:00 (expired); a declined and a
//!   never-answered request; none of the refused mandates ever presents;
//! - the story at a 6-day debtor bank: a TT2 mandate authenticated on day 2,
//!   its instalment unpaid for insufficient funds and tracked (Saturday included) to
//!   success on tracking day 4; an arrears re-presentment collected and marked
//!   disputable; a suspension by the payer's bank stopping tracking and every later
//!   collection; a dispute of a collection within the mandate declined (funds kept)
//!   and one of a collection off the authenticated day reversed.

use std::path::Path;
use std::sync::Arc;

use allps_ws::app::AppConfig;
use allps_ws::clock::Clock;
use allps_ws::domain::cdv::{AccountType, CdvTable};
use allps_ws::domain::collection::{CollectionTables, DebtorBanks};
use allps_ws::engine::collection_jobs::CollectionSetup;
use allps_ws::engine::gateway::Simulator;
use allps_ws::engine::processor::Processor;
use allps_ws::testing::TestService;
use time::OffsetDateTime;
use time::macros::datetime;

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

fn first(body: &str, name: &str) -> String {
    tags(body, name).into_iter().next().unwrap_or_default()
}

fn last(body: &str, name: &str) -> String {
    tags(body, name).pop().unwrap_or_default()
}

async fn ok(service: &TestService, op: &str, body: &str) -> String {
    let response = service.post(&envelope(op, body)).await;
    assert_eq!(response.status, 200, "{op}: {}", response.body);
    assert_eq!(
        first(&response.body, "Code"),
        "0",
        "{op} refused: {}",
        response.body
    );
    response.body
}

/// The bundled debtor-bank table with Capitec (branch 470010) as a 6-day bank.
fn six_day_capitec() -> CollectionTables {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/debtor-banks.txt"),
    )
    .expect("data/debtor-banks.txt");
    let text = text.replace("bank | capitec    | - |", "bank | capitec    | 6 |");
    assert!(text.contains("bank | capitec    | 6 |"));
    CollectionTables {
        banks: DebtorBanks::parse(&text).expect("bank table"),
        ..CollectionTables::default()
    }
}

/// A Capitec account number that passes CDV and ends in `suffix` (the simulator's
/// collection rules read the last digits).
fn account(suffix: &str) -> String {
    let width = 10 - suffix.len();
    (1_000..1_000_000)
        .map(|p| format!("{p:0width$}{suffix}"))
        .find(|a| {
            CdvTable::bundled()
                .validate("470010", a, AccountType::Savings)
                .is_ok()
        })
        .expect("a valid account number")
}

struct World {
    service: TestService,
    processor: Processor,
}

async fn world() -> World {
    let tables = six_day_capitec();
    let service = TestService::with_config(AppConfig {
        collections: tables.clone(),
        ..AppConfig::default()
    })
    .await;
    let base =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/base.sql"))
            .expect("fixtures/base.sql");
    service.execute_sql(&base).await;
    let clock: Arc<dyn Clock> = service.clock.clone();
    let processor = Processor::new(
        service.app.db.clone(),
        clock,
        service.app.config.payouts.clone(),
        Arc::new(Simulator::default()),
    )
    .with_collections(CollectionSetup {
        tables,
        batch: 100,
        ..CollectionSetup::default()
    });
    World { service, processor }
}

impl World {
    async fn run_until(&self, at: OffsetDateTime) {
        self.service.clock.set(at);
        self.processor.run_until(at).await.expect("processor run");
    }

    /// Sets client C1001's cellphone: the simulator reads a mandate's outcome from it.
    async fn cellphone(&self, cell: &str) {
        self.service
            .execute_sql(&format!(
                "UPDATE clients SET cellphone = '{cell}' WHERE client_number = 'C1001';"
            ))
            .await;
    }

    #[allow(clippy::too_many_arguments)]
    async fn mandate(
        &self,
        reference: &str,
        kind: &str,
        account: &str,
        first_date: &str,
        instalments: u32,
        tracking_days: u32,
        adjustment_allowed: bool,
    ) -> String {
        let body = ok(
            &self.service,
            "CreateDebiCheckPromissory",
            &format!(
                "<ClientNumber>C1001</ClientNumber><ContractReference>{reference}</ContractReference>\
                 <BankBranchCode>470010</BankBranchCode><AccountNumber>{account}</AccountNumber>\
                 <AccountType>SAVINGS</AccountType><InstalmentAmount>500.00</InstalmentAmount>\
                 <NumberOfInstalments>{instalments}</NumberOfInstalments><Frequency>MONTHLY</Frequency>\
                 <FirstActionDate>{first_date}</FirstActionDate><AuthenticationType>{kind}</AuthenticationType>\
                 <DebitValueType>FIXED</DebitValueType><MaximumCollectionAmount>750.00</MaximumCollectionAmount>\
                 <DateAdjustmentAllowed>{adjustment_allowed}</DateAdjustmentAllowed>\
                 <TrackingDays>{tracking_days}</TrackingDays>"
            ),
        )
        .await;
        first(&body, "PromissoryNumber")
    }

    async fn note(&self, number: &str) -> String {
        ok(
            &self.service,
            "GetPromissory",
            &format!("<PromissoryNumber>{number}</PromissoryNumber>"),
        )
        .await
    }

    /// (type, promissory, instalment, disputable, reason) of every reply.
    async fn replies(&self) -> Vec<(String, String, String, String, String)> {
        let body = ok(
            &self.service,
            "GetReplies",
            "<SinceSequence>0</SinceSequence><MaxCount>1000</MaxCount>",
        )
        .await;
        body.split("<Reply>")
            .skip(1)
            .map(|r| {
                (
                    first(r, "ReplyType"),
                    first(r, "PromissoryNumber"),
                    first(r, "InstalmentNumber"),
                    first(r, "Disputable"),
                    first(r, "DisputableReason"),
                )
            })
            .collect()
    }

    async fn replies_of(&self, number: &str) -> Vec<(String, String, String, String)> {
        self.replies()
            .await
            .into_iter()
            .filter(|r| r.1 == number)
            .map(|(t, _, i, d, why)| (t, i, d, why))
            .collect()
    }
}

fn mandate_replies(replies: &[(String, String, String, String)]) -> Vec<String> {
    replies
        .iter()
        .filter(|r| r.0.starts_with("MANDATE_"))
        .map(|r| r.0.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_authentication_window_at_its_edges() {
    let w = world().await;
    let acct = account("1212");
    // Monday 23 November 2026, 10:00 SAST. TT1_REALTIME: answers after 119, 120, 121 s.
    let mut realtime = Vec::new();
    for (i, secs) in [119, 120, 121].iter().enumerate() {
        // The simulator's marker: `99` + `1` + NNN seconds.
        w.cellphone(&format!("0829991{secs:03}")).await;
        realtime.push(
            w.mandate(
                &format!("RT{i}"),
                "TT1_REALTIME",
                &acct,
                "2026-12-01",
                1,
                0,
                true,
            )
            .await,
        );
    }
    // Declined after 30 s; never answered (TT2).
    w.cellphone("0829994030").await;
    let declined = w
        .mandate("DECL", "TT1_REALTIME", &acct, "2026-12-01", 1, 0, true)
        .await;
    w.cellphone("0829995000").await;
    let silent = w
        .mandate("SILENT", "TT2", &acct, "2026-12-01", 1, 0, true)
        .await;
    // Nothing happens before its time: at +118 s every request is still awaiting.
    w.run_until(datetime!(2026-11-23 10:01:58 +2)).await;
    for n in &realtime {
        let note = w.note(n).await;
        assert_eq!(
            first(&note, "AuthenticationStatus"),
            "AWAITING_AUTHENTICATION"
        );
        assert_eq!(first(&note, "Status"), "PENDING");
    }
    w.run_until(datetime!(2026-11-23 10:05 +2)).await;
    let expect = [
        ("AUTHENTICATED", "ACTIVE", "2026-11-23T08:01:59Z"),
        ("EXPIRED", "PENDING", "2026-11-23T08:02:00Z"),
        ("EXPIRED", "PENDING", "2026-11-23T08:02:00Z"),
    ];
    for (n, (auth, status, at)) in realtime.iter().zip(expect) {
        let note = w.note(n).await;
        assert_eq!(first(&note, "AuthenticationStatus"), auth, "{n}");
        assert_eq!(first(&note, "Status"), status, "{n}");
        assert_eq!(first(&note, "AuthenticationTime"), at, "{n}");
    }
    assert_eq!(
        first(&w.note(&realtime[0]).await, "AuthenticationChannel"),
        "USSD"
    );
    assert_eq!(
        mandate_replies(&w.replies_of(&realtime[0]).await),
        ["MANDATE_AUTHENTICATED"]
    );
    assert_eq!(
        mandate_replies(&w.replies_of(&realtime[2]).await),
        ["MANDATE_EXPIRED"]
    );
    assert_eq!(
        first(&w.note(&declined).await, "AuthenticationStatus"),
        "DECLINED"
    );
    assert_eq!(
        mandate_replies(&w.replies_of(&declined).await),
        ["MANDATE_DECLINED"]
    );

    // TT1_DELAYED: requested 22:13:20 and 22:13:21, answered 999 s later: 22:29:59
    // counts, 22:30:00 is too late.
    w.cellphone("0829991999").await;
    w.run_until(datetime!(2026-11-23 22:13:20 +2)).await;
    let delayed_in = w
        .mandate("DL1", "TT1_DELAYED", &acct, "2026-12-01", 1, 0, true)
        .await;
    w.run_until(datetime!(2026-11-23 22:13:21 +2)).await;
    let delayed_late = w
        .mandate("DL2", "TT1_DELAYED", &acct, "2026-12-01", 1, 0, true)
        .await;
    w.run_until(datetime!(2026-11-23 22:29:58 +2)).await;
    assert_eq!(
        first(&w.note(&delayed_in).await, "AuthenticationStatus"),
        "AWAITING_AUTHENTICATION"
    );
    w.run_until(datetime!(2026-11-23 23:00 +2)).await;
    let note = w.note(&delayed_in).await;
    assert_eq!(first(&note, "AuthenticationStatus"), "AUTHENTICATED");
    assert_eq!(first(&note, "AuthenticationTime"), "2026-11-23T20:29:59Z");
    assert_eq!(
        first(&note, "AuthenticationDeadline"),
        "2026-11-23T20:30:00Z"
    );
    let note = w.note(&delayed_late).await;
    assert_eq!(first(&note, "AuthenticationStatus"), "EXPIRED");
    assert_eq!(first(&note, "AuthenticationTime"), "2026-11-23T20:30:00Z");

    // TT2 requested on Friday 27 November: the window closes Saturday 21:00. Requested
    // at 20:59:59 and 21:00:00, each answered 24 h later.
    w.cellphone("0829993024").await;
    w.run_until(datetime!(2026-11-27 20:59:59 +2)).await;
    let tt2_in = w
        .mandate("T2A", "TT2", &acct, "2026-12-15", 1, 0, true)
        .await;
    w.run_until(datetime!(2026-11-27 21:00:00 +2)).await;
    let tt2_late = w
        .mandate("T2B", "TT2", &acct, "2026-12-15", 1, 0, true)
        .await;
    let note = w.note(&tt2_in).await;
    assert_eq!(
        first(&note, "AuthenticationDeadline"),
        "2026-11-28T19:00:00Z"
    );
    w.run_until(datetime!(2026-11-28 20:59:58 +2)).await;
    assert_eq!(
        first(&w.note(&tt2_in).await, "AuthenticationStatus"),
        "AWAITING_AUTHENTICATION"
    );
    w.run_until(datetime!(2026-11-29 09:00 +2)).await;
    let note = w.note(&tt2_in).await;
    assert_eq!(first(&note, "AuthenticationStatus"), "AUTHENTICATED");
    assert_eq!(first(&note, "AuthenticationTime"), "2026-11-28T18:59:59Z");
    assert_eq!(first(&note, "AuthenticationChannel"), "INTERNET_BANKING");
    let note = w.note(&tt2_late).await;
    assert_eq!(first(&note, "AuthenticationStatus"), "EXPIRED");
    assert_eq!(first(&note, "AuthenticationTime"), "2026-11-28T19:00:00Z");
    assert_eq!(
        first(&w.note(&silent).await, "AuthenticationStatus"),
        "EXPIRED"
    );

    // Past every action date: only the authenticated mandates presented.
    w.run_until(datetime!(2026-12-16 12:00 +2)).await;
    let presented: Vec<String> = w
        .replies()
        .await
        .into_iter()
        .filter(|r| r.0 == "INSTALMENT_PRESENTED")
        .map(|r| r.1)
        .collect();
    let mut want = vec![realtime[0].clone(), delayed_in.clone(), tt2_in.clone()];
    want.sort();
    let mut got = presented.clone();
    got.sort();
    assert_eq!(got, want);
    for refused in [
        &realtime[1],
        &realtime[2],
        &declined,
        &silent,
        &delayed_late,
        &tt2_late,
    ] {
        let note = w.note(refused).await;
        assert_eq!(
            tags(&note, "Status")[1],
            "PENDING",
            "{refused} never presents"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tt2_tracking_at_a_six_day_bank_arrears_suspension_and_disputes() {
    let w = world().await;
    // Monday 23 November 2026, 10:00. TT2, answered 30 h later: Tuesday 16:00 (day 2).
    w.cellphone("0829993030").await;
    let tracked = w
        .mandate("TRACK", "TT2", &account("704"), "2026-12-02", 2, 10, true)
        .await;
    // TT3 (authenticated at once); unpaid 02 at presentment, no tracking: arrears later.
    w.cellphone("0821234567").await;
    let arrears = w
        .mandate("ARREARS", "TT3", &account("701"), "2026-12-02", 1, 0, true)
        .await;
    // Authenticated after 60 s, suspended by the bank 240 h later (Thursday 3
    // December 10:01), while its instalment is being tracked (02 at every attempt).
    w.cellphone("0829996240").await;
    let suspended = w
        .mandate(
            "SUSPEND",
            "TT1_REALTIME",
            &account("802"),
            "2026-12-02",
            2,
            10,
            true,
        )
        .await;
    // Collected within the mandate, disputed 5 days later: the bank declines it.
    w.cellphone("0821234567").await;
    let kept = w
        .mandate("KEPT", "TT3", &account("605"), "2026-12-02", 1, 0, true)
        .await;
    // Collection day Sunday 6 December, date adjustment not allowed: a 6-day bank
    // presents it on Monday 7th, off the authenticated day, so the dispute is upheld.
    let reversed = w
        .mandate(
            "REVERSED",
            "TT3",
            &account("603"),
            "2026-12-06",
            1,
            0,
            false,
        )
        .await;

    // Day 1 (Monday) ends with the TT2 request still open; day 2 answers it.
    w.run_until(datetime!(2026-11-23 23:59 +2)).await;
    assert_eq!(
        first(&w.note(&tracked).await, "AuthenticationStatus"),
        "AWAITING_AUTHENTICATION"
    );
    w.run_until(datetime!(2026-11-24 16:00 +2)).await;
    let note = w.note(&tracked).await;
    assert_eq!(first(&note, "AuthenticationStatus"), "AUTHENTICATED");
    assert_eq!(first(&note, "Status"), "ACTIVE");
    assert_eq!(first(&note, "AuthenticationTime"), "2026-11-24T14:00:00Z");

    // Presentment Wednesday 2 December 02:00; tracking days at a 6-day bank: Thursday,
    // Friday, Saturday, then Monday (Sunday is not a processing day): collected on
    // tracking day 4, Monday 7 December.
    w.run_until(datetime!(2026-12-08 12:00 +2)).await;
    let note = w.note(&tracked).await;
    assert_eq!(tags(&note, "Status")[1], "COLLECTED");
    let presented_at = tags(&note, "PresentedAt");
    assert_eq!(
        presented_at[..5],
        [
            "2026-12-02T00:00:00Z",
            "2026-12-03T00:00:00Z",
            "2026-12-04T00:00:00Z",
            "2026-12-05T00:00:00Z",
            "2026-12-07T00:00:00Z"
        ]
    );
    assert_eq!(
        tags(&note, "Kind")[..5],
        ["FIRST", "TRACKING", "TRACKING", "TRACKING", "TRACKING"]
    );
    assert_eq!(tags(&note, "Disputable")[0], "false");
    assert_eq!(tags(&note, "DisputableReason")[0], "WITHIN_MANDATE");
    let tracked_replies = w.replies_of(&tracked).await;
    let collected: Vec<_> = tracked_replies
        .iter()
        .filter(|r| r.0 == "INSTALMENT_COLLECTED")
        .collect();
    assert_eq!(collected.len(), 1);
    assert_eq!(
        (collected[0].2.as_str(), collected[0].3.as_str()),
        ("false", "WITHIN_MANDATE")
    );
    assert_eq!(
        tracked_replies
            .iter()
            .filter(|r| r.0 == "INSTALMENT_TRACKING")
            .count(),
        4
    );

    // The arrears note ended UNPAID on 2 December; re-presented as arrears on
    // Wednesday 9 December, collected, and disputable for being arrears.
    let note = w.note(&arrears).await;
    assert_eq!(tags(&note, "Status")[1], "UNPAID");
    assert_eq!(last(&note, "DisputableReason"), "WITHIN_MANDATE");
    ok(
        &w.service,
        "EditInstalment",
        &format!(
            "<PromissoryNumber>{arrears}</PromissoryNumber><InstalmentNumber>1</InstalmentNumber>\
             <ActionDate>2026-12-10</ActionDate>"
        ),
    )
    .await;
    w.run_until(datetime!(2026-12-11 12:00 +2)).await;
    let note = w.note(&arrears).await;
    assert_eq!(tags(&note, "Status")[1], "COLLECTED");
    assert_eq!(last(&note, "Disputable"), "true");
    assert_eq!(last(&note, "DisputableReason"), "ARREARS");
    let arrears_replies = w.replies_of(&arrears).await;
    let collected = arrears_replies
        .iter()
        .find(|r| r.0 == "INSTALMENT_COLLECTED")
        .expect("collected");
    assert_eq!(
        (collected.2.as_str(), collected.3.as_str()),
        ("true", "ARREARS")
    );

    // The suspended mandate: presented Wednesday (02), tracked Thursday 02:00, then
    // suspended Thursday 10:01: Friday's tracking attempt is never made, the
    // instalment ends UNPAID and the January instalment never presents.
    w.run_until(datetime!(2027-01-06 12:00 +2)).await;
    let note = w.note(&suspended).await;
    assert_eq!(first(&note, "AuthenticationStatus"), "SUSPENDED");
    assert_eq!(first(&note, "AuthenticationTime"), "2026-12-03T08:01:00Z");
    let statuses = tags(&note, "Status");
    assert_eq!(statuses[1..], ["UNPAID", "PENDING"]);
    assert_eq!(
        tags(&note, "PresentedAt"),
        ["2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"]
    );
    let suspended_replies = w.replies_of(&suspended).await;
    assert_eq!(
        mandate_replies(&suspended_replies),
        ["MANDATE_AUTHENTICATED", "MANDATE_SUSPENDED"]
    );
    assert_eq!(
        suspended_replies.last().map(|r| r.0.as_str()),
        Some("INSTALMENT_UNPAID"),
        "tracking stopped after the suspension"
    );

    // Disputes: within the mandate the bank declines it and the funds stay; off the
    // authenticated day it is reversed.
    let note = w.note(&kept).await;
    assert_eq!(tags(&note, "Status")[1], "COLLECTED");
    let kept_replies = w.replies_of(&kept).await;
    let declined = kept_replies
        .iter()
        .find(|r| r.0 == "INSTALMENT_DISPUTE_DECLINED")
        .expect("dispute declined");
    assert_eq!(
        (declined.2.as_str(), declined.3.as_str()),
        ("false", "WITHIN_MANDATE")
    );
    let note = w.note(&reversed).await;
    assert_eq!(tags(&note, "ActionDate")[0], "2026-12-07");
    assert_eq!(tags(&note, "Status")[1], "REVERSED");
    assert_eq!(last(&note, "DisputableReason"), "DATE_NOT_AUTHENTICATED");
    assert!(
        w.replies_of(&reversed)
            .await
            .iter()
            .any(|r| r.0 == "INSTALMENT_REVERSED" && r.2 == "true")
    );

    // CancelPromissory cancels the (suspended) mandate at the payer's bank.
    ok(
        &w.service,
        "CancelPromissory",
        &format!("<PromissoryNumber>{suspended}</PromissoryNumber>"),
    )
    .await;
    w.run_until(datetime!(2027-01-06 12:01 +2)).await;
    let note = w.note(&suspended).await;
    assert_eq!(first(&note, "Status"), "CANCELLED");
    assert_eq!(first(&note, "MandateCancelledAt"), "2027-01-06T10:00:00Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processors_at_once_record_each_mandate_outcome_once() {
    let w = world().await;
    let acct = account("1212");
    let mut notes = Vec::new();
    for (i, cell) in ["0829991119", "0829991121", "0829994030", "0821234567"]
        .iter()
        .enumerate()
    {
        w.cellphone(cell).await;
        notes.push(
            w.mandate(
                &format!("TWO{i}"),
                "TT1_REALTIME",
                &acct,
                "2026-12-01",
                1,
                0,
                true,
            )
            .await,
        );
    }
    let clock: Arc<dyn Clock> = w.service.clock.clone();
    let second = Processor::new(
        w.service.app.db.clone(),
        clock,
        w.service.app.config.payouts.clone(),
        Arc::new(Simulator::default()),
    )
    .with_collections(CollectionSetup {
        tables: six_day_capitec(),
        ..CollectionSetup::default()
    });
    let until = datetime!(2026-11-23 10:05 +2);
    w.service.clock.set(until);
    let (a, b) = tokio::join!(w.processor.run_until(until), second.run_until(until));
    a.expect("first processor");
    b.expect("second processor");
    let want = [
        "MANDATE_AUTHENTICATED",
        "MANDATE_EXPIRED",
        "MANDATE_DECLINED",
        "MANDATE_AUTHENTICATED",
    ];
    for (note, want) in notes.iter().zip(want) {
        assert_eq!(mandate_replies(&w.replies_of(note).await), [want], "{note}");
    }
}
