//! Payouts, wallets, cards and the replies feed, end to end through the SOAP endpoint and
//! the processor on the manual clock: wallet creation (success, refusal, retries, giving
//! up), payment submission, delivery, rejection and return, the printed confirmation
//! (text checked with `pdftotext`), PaymentReference idempotency under concurrent
//! retries (in process and over a real socket), the replies feed read while it is
//! written, restarts in the middle of processing, two processors at once, the `process`
//! command, and the responses checked against the WSDL's schema with `xmllint`.
//!
//! `pdftotext` (poppler-utils) and `xmllint` (libxml2-utils) must be installed; the tests
//! that need them fail loudly without them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use allps_ws::app::AppConfig;
use allps_ws::clock::{Clock, ManualClock, format_timestamp};
use allps_ws::engine::gateway::{
    CollectionItem, CollectionOutcome, CreditInstruction, DeliveryOutcome, Gateway,
    GatewayUnavailable, ReturnAdvice, ReversalCheck, Simulator, WalletOutcome, WalletRequest,
};
use allps_ws::engine::payouts::PayoutConfig;
use allps_ws::engine::processor::{ProcessReport, Processor};
use allps_ws::store::inspect;
use allps_ws::testing::{FIXED_NOW, TestService};
use base64::Engine as _;
use time::{Duration, OffsetDateTime};

const TNS: &str = "urn:allps:ws:v1";

fn auth(branch: &str) -> String {
    format!(
        "<AuthHeader xmlns=\"{TNS}\"><UserName>demo</UserName><Password>demo-password</Password>\
         <ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>{branch}</BranchCode></AuthHeader>"
    )
}

fn envelope(op: &str, body: &str, branch: &str) -> String {
    format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header>{}</soap:Header>\
         <soap:Body><{op} xmlns=\"{TNS}\">{body}</{op}></soap:Body></soap:Envelope>",
        auth(branch)
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

fn tag(body: &str, name: &str) -> String {
    tags(body, name)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no <{name}> in {body}"))
}

fn code(body: &str) -> u16 {
    tag(body, "Code").parse().expect("numeric Code")
}

async fn call(service: &TestService, op: &str, body: &str) -> String {
    call_as(service, op, body, "BR001").await
}

async fn call_as(service: &TestService, op: &str, body: &str, branch: &str) -> String {
    let response = service.post(&envelope(op, body, branch)).await;
    assert_eq!(response.status, 200, "{op}: {}", response.body);
    response.body
}

async fn ok(service: &TestService, op: &str, body: &str) -> String {
    let response = call(service, op, body).await;
    assert_eq!(code(&response), 0, "{op} refused: {response}");
    response
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

fn base_sql() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/base.sql"))
        .expect("fixtures/base.sql")
}

async fn service() -> TestService {
    let service = TestService::new().await;
    service.execute_sql(&base_sql()).await;
    service
}

fn processor_for(service: &TestService, gateway: Arc<dyn Gateway>) -> Processor {
    let clock: Arc<dyn Clock> = service.clock.clone();
    Processor::new(
        service.app.db.clone(),
        clock,
        service.app.config.payouts.clone(),
        gateway,
    )
}

fn simulator() -> Arc<dyn Gateway> {
    Arc::new(Simulator::default())
}

/// Moves the clock to `at` and runs what is due.
async fn run_at(service: &TestService, processor: &Processor, at: OffsetDateTime) -> ProcessReport {
    service.clock.set(at);
    processor.run_until(at).await.expect("processor run")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allps-payouts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A service on a database file (real reader pool, real durability), seeded on first
/// open; `clock` is shared so a reopened service keeps the test's time.
async fn file_service(path: &Path, clock: Arc<ManualClock>, seed: bool) -> TestService {
    TestService::on_file(path, clock, seed.then(base_sql)).await
}

fn pdf_text(base64_content: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_content)
        .expect("base64 PDF");
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "allps-payouts-{}-{}.pdf",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, &bytes).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run pdftotext ({e}): install poppler-utils (apt-get install -y poppler-utils)")
        });
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "pdftotext failed");
    // Join wrapped lines so phrases can be searched whatever the layout.
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const T0: OffsetDateTime = FIXED_NOW; // Monday 2026-11-23 10:00 SAST

fn minutes(m: i64) -> OffsetDateTime {
    T0 + Duration::minutes(m)
}

fn account(number: &str, branch: &str, kind: &str) -> String {
    format!(
        "<ClientNumber>C1001</ClientNumber><BankBranchCode>{branch}</BankBranchCode>\
         <AccountNumber>{number}</AccountNumber><AccountType>{kind}</AccountType>"
    )
}

fn payment(reference: &str, parts: &[(&str, &str)], cash: Option<&str>) -> String {
    let mut body = format!(
        "<ClientNumber>C1001</ClientNumber><PaymentReference>{reference}</PaymentReference>"
    );
    for (id, amount) in parts {
        body.push_str(&format!(
            "<Payment><AccountId>{id}</AccountId><Amount>{amount}</Amount></Payment>"
        ));
    }
    if let Some(c) = cash {
        body.push_str(&format!("<CashAmount>{c}</CashAmount>"));
    }
    body
}

#[tokio::test]
async fn wallet_then_payment_delivery_and_return_on_the_clock() {
    let s = service().await;
    let p = processor_for(&s, simulator());

    // The wallet: PENDING for ten minutes, then ACTIVE and one of the client's accounts.
    let created = ok(&s, "CreateWallet", "<ClientNumber>C1001</ClientNumber>").await;
    assert_eq!(tag(&created, "WalletRequestId"), "1");
    assert_eq!(tag(&created, "Status"), "PENDING");
    assert_eq!(run_at(&s, &p, minutes(9)).await.jobs, 0);
    let wallet = ok(&s, "GetWallet", "<ClientNumber>C1001</ClientNumber>").await;
    assert_eq!(tag(&wallet, "Status"), "PENDING");
    let report = run_at(&s, &p, minutes(10)).await;
    assert_eq!(report.wallets_created, 1, "{report}");
    let wallet = ok(&s, "GetWallet", "<ClientNumber>C1001</ClientNumber>").await;
    assert_eq!(tag(&wallet, "Status"), "ACTIVE");
    assert_eq!(tag(&wallet, "WalletNumber"), "W0010000001");
    let wallet_account = tag(&wallet, "AccountId");
    let client = ok(&s, "GetClient", "<ClientNumber>C1001</ClientNumber>").await;
    assert!(
        client.contains("<AccountKind>WALLET</AccountKind>"),
        "{client}"
    );
    assert!(client.contains("<AccountNumber>W0010000001</AccountNumber>"));
    // A repeat while ACTIVE returns the same request.
    let again = ok(&s, "CreateWallet", "<ClientNumber>C1001</ClientNumber>").await;
    assert_eq!(tag(&again, "WalletRequestId"), "1");
    assert_eq!(tag(&again, "Status"), "ACTIVE");

    // A bank account the simulated recipient bank returns (ends in 99).
    let added = ok(
        &s,
        "AddClientAccount",
        &account("62001000299", "250655", "CURRENT"),
    )
    .await;
    let bank_account = tag(&added, "AccountId");

    // Two parts and cash: the wallet part is credited at once, the bank part submitted.
    let request = payment(
        "LOAN-1001-PAYOUT",
        &[(&bank_account, "600.00"), (&wallet_account, "250.00")],
        Some("50.00"),
    );
    let paid = ok(&s, "PayToClientAccount", &request).await;
    assert_eq!(tag(&paid, "PaymentNumber"), "CP00000001");
    assert_eq!(tag(&paid, "Status"), "ACCEPTED");
    assert_eq!(tag(&paid, "TotalAmount"), "900.00");
    let report = run_at(&s, &p, minutes(11)).await;
    assert_eq!(
        (report.parts_submitted, report.parts_delivered),
        (1, 1),
        "{report}"
    );
    let credit = ok(
        &s,
        "GetClientCredit",
        "<PaymentNumber>CP00000001</PaymentNumber>",
    )
    .await;
    assert_eq!(
        tags(&credit, "Status"),
        ["SUBMITTED", "SUBMITTED", "DELIVERED", "PAID_AT_BRANCH"]
    );

    // Two hours later the bank reports delivery.
    assert_eq!(run_at(&s, &p, minutes(129)).await.jobs, 0);
    let report = run_at(&s, &p, minutes(130)).await;
    assert_eq!(report.parts_delivered, 1, "{report}");
    let credit = ok(
        &s,
        "GetClientCredit",
        "<PaymentNumber>CP00000001</PaymentNumber>",
    )
    .await;
    assert_eq!(
        tags(&credit, "Status"),
        ["DELIVERED", "DELIVERED", "DELIVERED", "PAID_AT_BRANCH"]
    );

    let printed = ok(
        &s,
        "PrintClientCredit",
        "<PaymentNumber>CP00000001</PaymentNumber>",
    )
    .await;
    let text = pdf_text(&tag(&printed, "Content"));
    for phrase in [
        "Client Credit Payment Confirmation",
        "Payment CP00000001 - reference LOAN-1001-PAYOUT",
        "Status (Allps side) DELIVERED",
        // Masked exactly as on the promissory note: all but the last four digits.
        "R 600.00 was delivered to First National Bank (FNB) account *******0299 on 2026-11-23",
        "Bank account *******0299",
        "Accepted 2026-11-23 10:10 SAST",
        "the recipient bank may still return the payment",
        "R 250.00 was credited to the client's Allps wallet W0010000001 on 2026-11-23. The funds are available to the client now.",
        "R 50.00 was paid to the client in cash at the branch on 2026-11-23.",
        "It does not show the status at the recipient bank.",
    ] {
        assert!(text.contains(phrase), "missing {phrase:?} in {text}");
    }
    assert!(
        !text.contains("62001000299"),
        "the full account number must not print: {text}"
    );
    let content = base64::engine::general_purpose::STANDARD
        .decode(tag(&printed, "Content"))
        .unwrap();
    assert_eq!(sha256_hex(&content), tag(&printed, "Sha256"));
    // Deterministic: later wall-clock time, same stored state, same bytes.
    s.clock.set(minutes(600));
    let reprinted = ok(
        &s,
        "PrintClientCredit",
        "<PaymentNumber>CP00000001</PaymentNumber>",
    )
    .await;
    assert_eq!(tag(&reprinted, "Sha256"), tag(&printed, "Sha256"));

    // Two days after delivery the recipient bank returns the bank part.
    assert_eq!(run_at(&s, &p, minutes(130 + 2 * 24 * 60 - 1)).await.jobs, 0);
    let report = run_at(&s, &p, minutes(130 + 2 * 24 * 60)).await;
    assert_eq!(report.parts_returned, 1, "{report}");
    let credit = ok(
        &s,
        "GetClientCredit",
        "<PaymentNumber>CP00000001</PaymentNumber>",
    )
    .await;
    assert_eq!(
        tags(&credit, "Status"),
        [
            "PARTIALLY_RETURNED",
            "RETURNED",
            "DELIVERED",
            "PAID_AT_BRANCH"
        ]
    );
    assert_eq!(tag(&credit, "ReturnReason"), "12 ACCOUNT CLOSED");
    let printed = ok(
        &s,
        "PrintClientCredit",
        "<PaymentNumber>CP00000001</PaymentNumber>",
    )
    .await;
    let text = pdf_text(&tag(&printed, "Content"));
    assert!(text.contains("was returned by the recipient bank on 2026-11-25 (reason 12: ACCOUNT CLOSED). The amount was not paid into the account."), "{text}");
    assert!(
        text.contains("Status (Allps side) PARTIALLY RETURNED"),
        "{text}"
    );

    // The retry of the same request pays nothing again.
    let replay = ok(&s, "PayToClientAccount", &request).await;
    assert_eq!(tag(&replay, "PaymentNumber"), "CP00000001");
    assert_eq!(tag(&replay, "Status"), "PARTIALLY_RETURNED");
    assert_eq!(count(&s, "SELECT count(*) FROM credit_payments").await, 1);

    // The feed: every outcome once, in order.
    let feed = ok(&s, "GetReplies", "<SinceSequence>0</SinceSequence>").await;
    assert_eq!(
        tags(&feed, "ReplyType"),
        [
            "WALLET_CREATED",
            "PAYMENT_DELIVERED",
            "PAYMENT_DELIVERED",
            "PAYMENT_RETURNED"
        ]
    );
    assert_eq!(tags(&feed, "Sequence"), ["1", "2", "3", "4"]);
    assert_eq!(tags(&feed, "PartNumber"), ["2", "1", "1"]);
    assert_eq!(
        tags(&feed, "OccurredAt"),
        [
            "2026-11-23T08:10:00Z",
            "2026-11-23T08:10:00Z",
            "2026-11-23T10:10:00Z",
            "2026-11-25T10:10:00Z"
        ]
    );
    assert_eq!(tag(&feed, "NextSequence"), "4");
    // Nothing is left to do.
    let report = run_at(&s, &p, minutes(60 * 24 * 30)).await;
    assert_eq!(report.jobs, 0);
    assert_eq!(
        count(&s, "SELECT count(*) FROM jobs WHERE status <> 'DONE'").await,
        0
    );
}

#[tokio::test]
async fn a_rejected_credit_returns_at_delivery_and_a_future_date_waits() {
    let s = service().await;
    let p = processor_for(&s, simulator());
    let added = ok(
        &s,
        "AddClientAccount",
        &account("62001234567", "250655", "CURRENT"),
    )
    .await;
    let id = tag(&added, "AccountId");
    // .13 cents: the simulated bank rejects it at delivery.
    ok(
        &s,
        "PayToClientAccount",
        &payment("REJECT-ME", &[(&id, "100.13")], None),
    )
    .await;
    // Wednesday's payment is submitted on Wednesday at 08:00.
    let future = format!(
        "{}<ActionDate>2026-11-25</ActionDate>",
        payment("LATER", &[(&id, "100.00")], None)
    );
    ok(&s, "PayToClientAccount", &future).await;
    let report = run_at(&s, &p, minutes(24 * 60)).await;
    assert_eq!(
        (report.parts_submitted, report.parts_returned),
        (1, 1),
        "{report}"
    );
    let rejected = ok(
        &s,
        "GetClientCredit",
        "<PaymentNumber>CP00000001</PaymentNumber>",
    )
    .await;
    assert_eq!(tags(&rejected, "Status"), ["RETURNED", "RETURNED"]);
    assert_eq!(tag(&rejected, "ReturnReason"), "26 NO SUCH ACCOUNT");
    let later = ok(
        &s,
        "GetClientCredit",
        "<PaymentNumber>CP00000002</PaymentNumber>",
    )
    .await;
    assert_eq!(tag(&later, "Status"), "ACCEPTED");
    // 2026-11-25 08:00 SAST = 06:00 UTC.
    let wednesday = time::macros::datetime!(2026-11-25 06:00 UTC);
    assert_eq!(
        run_at(&s, &p, wednesday - Duration::seconds(1)).await.jobs,
        0
    );
    assert_eq!(run_at(&s, &p, wednesday).await.parts_submitted, 1);
    let later = ok(
        &s,
        "GetClientCredit",
        "<PaymentNumber>CP00000002</PaymentNumber>",
    )
    .await;
    assert_eq!(tag(&later, "Status"), "SUBMITTED");
    assert_eq!(tag(&later, "StatusDate"), "2026-11-25");
    let feed = ok(&s, "GetReplies", "<SinceSequence>0</SinceSequence>").await;
    assert_eq!(tags(&feed, "ReplyType"), ["PAYMENT_RETURNED"]);
    assert_eq!(tag(&feed, "ReasonCode"), "26");
}

#[tokio::test]
async fn the_default_action_date_follows_the_cut_off_and_the_calendar() {
    let s = service().await;
    let added = ok(
        &s,
        "AddClientAccount",
        &account("62001234567", "250655", "CURRENT"),
    )
    .await;
    let id = tag(&added, "AccountId");
    let cases = [
        // (now, expected default ActionDate)
        (time::macros::datetime!(2026-11-23 12:59 UTC), "2026-11-23"), // Mon 14:59 SAST
        (time::macros::datetime!(2026-11-23 13:00 UTC), "2026-11-24"), // Mon 15:00: cut-off
        (time::macros::datetime!(2026-11-27 14:00 UTC), "2026-11-30"), // Fri 16:00 -> Mon
        (time::macros::datetime!(2026-11-28 08:00 UTC), "2026-11-30"), // Saturday -> Mon
        (time::macros::datetime!(2026-12-15 14:00 UTC), "2026-12-17"), // eve of 16 Dec
        (time::macros::datetime!(2026-12-15 22:30 UTC), "2026-12-17"), // 16 Dec 00:30 SAST
    ];
    for (i, (now, expected)) in cases.iter().enumerate() {
        s.clock.set(*now);
        let reference = format!("DEFAULT-{i}");
        let paid = ok(
            &s,
            "PayToClientAccount",
            &payment(&reference, &[(&id, "20.00")], None),
        )
        .await;
        let credit = ok(
            &s,
            "GetClientCredit",
            &format!(
                "<PaymentNumber>{}</PaymentNumber>",
                tag(&paid, "PaymentNumber")
            ),
        )
        .await;
        assert_eq!(tag(&credit, "ActionDate"), *expected, "at {now}");
    }
}

#[tokio::test]
async fn wallet_refused_retried_and_given_up() {
    let config = AppConfig {
        payouts: PayoutConfig {
            max_attempts: 3,
            ..PayoutConfig::default()
        },
        ..AppConfig::default()
    };
    let s = TestService::with_config(config).await;
    s.execute_sql(&base_sql()).await;
    s.execute_sql(
        "INSERT INTO clients (id, branch_id, employer_id, client_number, first_name, surname, id_type, id_number,
                              date_of_birth, gender, cellphone, created_by, created_at)
         VALUES (10, 1, 1, 'FAIL1', 'Amy', 'Fail', 'PASSPORT', 'P0000001', '1990-01-01', 'F', '0820000000', 1, '2026-11-01T08:00:00Z'),
                (11, 1, 1, 'RETRY1', 'Ben', 'Retry', 'PASSPORT', 'P0000002', '1990-01-01', 'M', '0821111111', 1, '2026-11-01T08:00:00Z'),
                (12, 1, 1, 'DOWN1', 'Cas', 'Down', 'PASSPORT', 'P0000003', '1990-01-01', 'M', '0831111111', 1, '2026-11-01T08:00:00Z');",
    )
    .await;
    // RETRY1's issuer fails twice then answers; DOWN1's fails 2 times too, but with
    // max_attempts 3 and a gateway that never answers for it, it gives up.
    struct Down(Simulator);
    impl Gateway for Down {
        fn create_wallet(&self, r: &WalletRequest) -> Result<WalletOutcome, GatewayUnavailable> {
            if r.cellphone == "0831111111" {
                return Err(GatewayUnavailable("issuer down".into()));
            }
            self.0.create_wallet(r)
        }
        fn submit_credit(&self, c: &CreditInstruction) -> Result<(), GatewayUnavailable> {
            self.0.submit_credit(c)
        }
        fn credit_delivery(
            &self,
            c: &CreditInstruction,
        ) -> Result<DeliveryOutcome, GatewayUnavailable> {
            self.0.credit_delivery(c)
        }
        fn credit_return(
            &self,
            c: &CreditInstruction,
        ) -> Result<Option<ReturnAdvice>, GatewayUnavailable> {
            self.0.credit_return(c)
        }
        fn present_collection(
            &self,
            item: &CollectionItem,
        ) -> Result<CollectionOutcome, GatewayUnavailable> {
            self.0.present_collection(item)
        }
        fn check_reversal(
            &self,
            item: &CollectionItem,
            collected_on: time::Date,
            today: time::Date,
        ) -> Result<ReversalCheck, GatewayUnavailable> {
            self.0.check_reversal(item, collected_on, today)
        }
    }
    let p = processor_for(&s, Arc::new(Down(Simulator::default())));
    for client in ["FAIL1", "RETRY1", "DOWN1"] {
        ok(
            &s,
            "CreateWallet",
            &format!("<ClientNumber>{client}</ClientNumber>"),
        )
        .await;
    }
    // At +10: FAIL1 refused; RETRY1 and DOWN1 unavailable (attempt 1, retry in 1 min).
    let report = run_at(&s, &p, minutes(10)).await;
    assert_eq!((report.wallets_failed, report.retries), (1, 2), "{report}");
    let failed = ok(&s, "GetWallet", "<ClientNumber>FAIL1</ClientNumber>").await;
    assert_eq!(tag(&failed, "Status"), "FAILED");
    assert!(tag(&failed, "FailureReason").starts_with("W01 "));
    // +11: attempt 2 for both (retry in 2 min); +13: attempt 3: RETRY1 created, DOWN1 gives up.
    assert_eq!(run_at(&s, &p, minutes(11)).await.retries, 2);
    assert_eq!(run_at(&s, &p, minutes(12)).await.jobs, 0);
    let report = run_at(&s, &p, minutes(13)).await;
    assert_eq!(
        (report.wallets_created, report.wallets_failed),
        (1, 1),
        "{report}"
    );
    let retried = ok(&s, "GetWallet", "<ClientNumber>RETRY1</ClientNumber>").await;
    assert_eq!(tag(&retried, "Status"), "ACTIVE");
    let down = ok(&s, "GetWallet", "<ClientNumber>DOWN1</ClientNumber>").await;
    assert_eq!(
        tag(&down, "FailureReason"),
        "ISSUER the wallet issuer did not answer in 3 attempts"
    );
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM jobs WHERE status = 'FAILED' AND attempts = 3"
        )
        .await,
        1
    );
    let completed: String = s
        .app
        .db
        .read(|c| {
            inspect::row_text(c, "SELECT completed_at FROM wallets WHERE client_id = 11")
                .unwrap()
                .expect("a row")[0]
                .clone()
                .expect("a value")
        })
        .await
        .unwrap();
    assert_eq!(completed, "2026-11-23T08:13:00Z");
    // After FAILED a new request is a new WalletRequestId.
    let again = ok(&s, "CreateWallet", "<ClientNumber>FAIL1</ClientNumber>").await;
    assert_eq!(tag(&again, "WalletRequestId"), "4");
    let feed = ok(&s, "GetReplies", "<SinceSequence>0</SinceSequence>").await;
    assert_eq!(
        tags(&feed, "ReplyType"),
        ["WALLET_FAILED", "WALLET_CREATED", "WALLET_FAILED"]
    );
}

#[tokio::test]
async fn cards_on_an_active_wallet_and_the_receipt() {
    let s = service().await;
    let p = processor_for(&s, simulator());
    ok(&s, "CreateWallet", "<ClientNumber>C1001</ClientNumber>").await;
    let early = call(
        &s,
        "AssignCard",
        "<ClientNumber>C1001</ClientNumber><CardNumber>5021000000000012</CardNumber>",
    )
    .await;
    assert_eq!(code(&early), 331);
    run_at(&s, &p, minutes(10)).await;
    s.clock.set(minutes(30));
    ok(
        &s,
        "AssignCard",
        "<ClientNumber>C1001</ClientNumber><CardNumber>5021000000000012</CardNumber>",
    )
    .await;
    let wallet = ok(&s, "GetWallet", "<ClientNumber>C1001</ClientNumber>").await;
    assert_eq!(tag(&wallet, "CardNumber"), "5021000000000012");
    let receipt = ok(
        &s,
        "PrintCardIssueReceipt",
        "<ClientNumber>C1001</ClientNumber><CardNumber>5021000000000012</CardNumber>",
    )
    .await;
    let text = pdf_text(&tag(&receipt, "Content"));
    for phrase in [
        "FEZA Card Receipt",
        "Card number 502100******0012",
        "PIN mailer Not applicable: EMV chip card",
        "Wallet number W0010000001",
        "Assigned 2026-11-23 10:30",
        "I, Thabo Mokoena, acknowledge that I received the FEZA card 502100******0012",
        "The wallet number is not a bank account number",
        "Card recipient: Thabo Mokoena",
    ] {
        assert!(text.contains(phrase), "missing {phrase:?} in {text}");
    }
    assert!(
        !text.contains("5021000000000012"),
        "the full PAN is printed"
    );
}

/// The same PaymentReference fired concurrently: one payment, one PaymentNumber.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_payments_create_one_payment() {
    let dir = temp_dir("concurrent");
    let clock = Arc::new(ManualClock::new(T0));
    let s = Arc::new(file_service(&dir.join("allps.db"), clock, true).await);
    let added = ok(
        &s,
        "AddClientAccount",
        &account("62001234567", "250655", "CURRENT"),
    )
    .await;
    let id = tag(&added, "AccountId");
    let identical = envelope(
        "PayToClientAccount",
        &payment("RETRY-STORM", &[(&id, "1500.00")], Some("100.00")),
        "BR001",
    );
    let other = envelope(
        "PayToClientAccount",
        &payment("RETRY-STORM", &[(&id, "1500.01")], Some("100.00")),
        "BR001",
    );
    let mut tasks = Vec::new();
    for i in 0..50 {
        let s = s.clone();
        let body = if i % 5 == 4 {
            other.clone()
        } else {
            identical.clone()
        };
        tasks.push(tokio::spawn(async move {
            (i % 5 == 4, s.post(&body).await.body)
        }));
    }
    let mut numbers = BTreeSet::new();
    let mut conflicts = 0;
    let mut identical_ok = 0;
    for t in tasks {
        let (is_other, body) = t.await.unwrap();
        match code(&body) {
            0 => {
                numbers.insert(tag(&body, "PaymentNumber"));
                if !is_other {
                    identical_ok += 1;
                }
            }
            420 => conflicts += 1,
            other => panic!("unexpected code {other}: {body}"),
        }
    }
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    assert_eq!(count(&s, "SELECT count(*) FROM credit_payments").await, 1);
    assert_eq!(
        count(&s, "SELECT count(*) FROM credit_payment_parts").await,
        2
    );
    assert_eq!(count(&s, "SELECT count(*) FROM jobs").await, 1);
    // Whichever content came first won; every request with the other content conflicts.
    assert!(
        (identical_ok == 40 && conflicts == 10) || (identical_ok == 0 && conflicts == 40),
        "identical ok {identical_ok}, conflicts {conflicts}"
    );
    s.app.db.close();
}

/// The same over real TCP connections to the running server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_payments_over_a_socket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = temp_dir("socket");
    let clock = Arc::new(ManualClock::new(T0));
    let s = file_service(&dir.join("allps.db"), clock, true).await;
    let added = ok(
        &s,
        "AddClientAccount",
        &account("62001234567", "250655", "CURRENT"),
    )
    .await;
    let id = tag(&added, "AccountId");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = s.app.clone();
    let server = tokio::spawn(allps_ws::server::run(listener, app, async move {
        let _ = stopped.await;
    }));
    let body = envelope(
        "PayToClientAccount",
        &payment("SOCKET-1", &[(&id, "250.00")], None),
        "BR001",
    );
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            let request = format!(
                "POST /allps HTTP/1.1\r\nHost: {address}\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \"\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            response
        }));
    }
    let mut numbers = BTreeSet::new();
    for t in tasks {
        let response = t.await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert_eq!(code(&response), 0, "{response}");
        numbers.insert(tag(&response, "PaymentNumber"));
    }
    assert_eq!(numbers.into_iter().collect::<Vec<_>>(), ["CP00000001"]);
    assert_eq!(count(&s, "SELECT count(*) FROM credit_payments").await, 1);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// A reader paging GetReplies with NextSequence while replies are written concurrently
/// sees every reply of its branch exactly once, in order, and none of another branch's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paging_reader_sees_every_reply_exactly_once_during_writes() {
    let dir = temp_dir("feed");
    let clock = Arc::new(ManualClock::new(T0));
    let s = Arc::new(file_service(&dir.join("allps.db"), clock, true).await);
    const TOTAL: usize = 400;
    let writer = {
        let db = s.app.db.clone();
        tokio::spawn(async move {
            let mut written = Vec::new();
            let mut i = 0usize;
            while i < TOTAL {
                // Batches of 1-5 replies per transaction, interleaved with branch 2's.
                let batch = 1 + i % 5;
                let sequences = db
                    .write(
                        move |c| -> Result<Vec<(i64, i64)>, allps_ws::store::DbError> {
                            let mut out = Vec::new();
                            for k in 0..batch {
                                let branch = if (i + k) % 3 == 2 { 2 } else { 1 };
                                let reply = allps_ws::store::replies::NewReply {
                                    amount: Some(rust_decimal::Decimal::from((i + k) as i64)),
                                    ..allps_ws::store::replies::NewReply::new(
                                        branch,
                                        allps_ws::domain::payouts::ReplyType::PaymentDelivered,
                                        T0,
                                    )
                                };
                                out.push((branch, allps_ws::store::replies::insert(c, &reply)?));
                            }
                            Ok(out)
                        },
                    )
                    .await
                    .unwrap()
                    .unwrap();
                written.extend(sequences);
                i += batch;
                // Spread the writes out so the reader's pages interleave with them.
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            written
        })
    };
    let mut seen: Vec<i64> = Vec::new();
    let mut next = 0i64;
    let mut pages = 0;
    let mut pages_while_writing = 0;
    let mut writer = Some(writer);
    let mut written = Vec::new();
    loop {
        // Stop only at an empty page read after the writer finished.
        let writes_done = writer.is_none();
        let page = ok(
            &s,
            "GetReplies",
            &format!("<SinceSequence>{next}</SinceSequence><MaxCount>7</MaxCount>"),
        )
        .await;
        pages += 1;
        let sequences: Vec<i64> = tags(&page, "Sequence")
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        assert!(sequences.len() <= 7);
        seen.extend(&sequences);
        next = tag(&page, "NextSequence").parse().unwrap();
        if let Some(last) = sequences.last() {
            assert_eq!(*last, next);
        }
        if writer.as_ref().is_some_and(|w| !w.is_finished()) && !sequences.is_empty() {
            pages_while_writing += 1;
        }
        if writer.as_ref().is_some_and(|w| w.is_finished()) {
            written = writer.take().unwrap().await.unwrap();
        }
        if writes_done && sequences.is_empty() {
            break;
        }
    }
    let expected: Vec<i64> = written
        .iter()
        .filter(|(branch, _)| *branch == 1)
        .map(|(_, seq)| *seq)
        .collect();
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "not strictly increasing"
    );
    assert_eq!(seen, expected, "the reader missed or repeated replies");
    assert!(pages > 10, "too few pages: {pages}");
    assert!(
        pages_while_writing > 1,
        "the reader should have read pages while writes happened ({pages_while_writing})"
    );
    s.app.db.close();
}

/// Counts wallet calls; the first call panics, as a processor that dies inside the
/// gateway call would (after the far end acted, before the outcome was recorded).
struct CrashOnce {
    inner: Simulator,
    crashed: AtomicBool,
    wallet_calls: AtomicUsize,
}

impl Gateway for CrashOnce {
    fn create_wallet(&self, r: &WalletRequest) -> Result<WalletOutcome, GatewayUnavailable> {
        self.wallet_calls.fetch_add(1, Ordering::SeqCst);
        let outcome = self.inner.create_wallet(r);
        if !self.crashed.swap(true, Ordering::SeqCst) {
            panic!("simulated crash after the issuer answered");
        }
        outcome
    }
    fn submit_credit(&self, c: &CreditInstruction) -> Result<(), GatewayUnavailable> {
        self.inner.submit_credit(c)
    }
    fn credit_delivery(
        &self,
        c: &CreditInstruction,
    ) -> Result<DeliveryOutcome, GatewayUnavailable> {
        self.inner.credit_delivery(c)
    }
    fn credit_return(
        &self,
        c: &CreditInstruction,
    ) -> Result<Option<ReturnAdvice>, GatewayUnavailable> {
        self.inner.credit_return(c)
    }
    fn present_collection(
        &self,
        item: &CollectionItem,
    ) -> Result<CollectionOutcome, GatewayUnavailable> {
        self.inner.present_collection(item)
    }
    fn check_reversal(
        &self,
        item: &CollectionItem,
        collected_on: time::Date,
        today: time::Date,
    ) -> Result<ReversalCheck, GatewayUnavailable> {
        self.inner.check_reversal(item, collected_on, today)
    }
}

async fn wallet_facts(s: &TestService) -> (i64, i64, i64, String) {
    let wallets = count(s, "SELECT count(*) FROM wallets WHERE status = 'ACTIVE'").await;
    let accounts = count(
        s,
        "SELECT count(*) FROM client_accounts WHERE kind = 'WALLET'",
    )
    .await;
    let replies = count(
        s,
        "SELECT count(*) FROM replies WHERE reply_type = 'WALLET_CREATED'",
    )
    .await;
    let status = tag(
        &ok(s, "GetWallet", "<ClientNumber>C1001</ClientNumber>").await,
        "Status",
    );
    (wallets, accounts, replies, status)
}

/// Restart in the middle of wallet processing: claimed but not recorded, then the store
/// is closed and reopened; and a crash inside the gateway call. Nothing is lost and
/// nothing happens twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_wallet_processing_loses_nothing_and_repeats_nothing() {
    let dir = temp_dir("restart");
    let path = dir.join("allps.db");
    let clock = Arc::new(ManualClock::new(T0));

    // First life: the request is accepted; at +10 min a processor claims the job and dies.
    let s = file_service(&path, clock.clone(), true).await;
    ok(&s, "CreateWallet", "<ClientNumber>C1001</ClientNumber>").await;
    clock.set(minutes(10));
    let p = processor_for(&s, simulator());
    let claimed = p.claim_only(minutes(10)).await.unwrap().expect("a due job");
    assert_eq!(claimed.attempts, 1);
    drop(p);
    s.app.db.close();
    drop(s);

    // Second life: the lease (5 min) has not expired yet: nobody takes the job.
    let s = file_service(&path, clock.clone(), false).await;
    assert_eq!(wallet_facts(&s).await, (0, 0, 0, "PENDING".to_string()));
    let gateway = Arc::new(CrashOnce {
        inner: Simulator::default(),
        crashed: AtomicBool::new(false),
        wallet_calls: AtomicUsize::new(0),
    });
    let p = processor_for(&s, gateway.clone());
    assert_eq!(run_at(&s, &p, minutes(14)).await.jobs, 0);
    // After the lease expires the job is taken over; the gateway call "crashes".
    clock.set(minutes(16));
    assert!(p.run_until(minutes(16)).await.is_err());
    assert_eq!(gateway.wallet_calls.load(Ordering::SeqCst), 1);
    drop(p);
    s.app.db.close();
    drop(s);

    // Third life: the job is taken over again after its lease, the issuer is asked again
    // (it answers the same for the same request id), and the wallet is recorded once.
    let s = file_service(&path, clock.clone(), false).await;
    assert_eq!(wallet_facts(&s).await, (0, 0, 0, "PENDING".to_string()));
    let p = processor_for(&s, gateway.clone());
    let report = run_at(&s, &p, minutes(22)).await;
    assert_eq!(report.wallets_created, 1, "{report}");
    assert_eq!(gateway.wallet_calls.load(Ordering::SeqCst), 2);
    assert_eq!(wallet_facts(&s).await, (1, 1, 1, "ACTIVE".to_string()));
    let attempts = count(&s, "SELECT attempts FROM jobs WHERE kind = 'WALLET_CREATE'").await;
    assert_eq!(attempts, 3);
    // The reply is stamped with the job's due instant, not the recovery time.
    let feed = ok(&s, "GetReplies", "<SinceSequence>0</SinceSequence>").await;
    assert_eq!(tags(&feed, "OccurredAt"), ["2026-11-23T08:10:00Z"]);
    drop(p);
    s.app.db.close();
    drop(s);

    // Fourth life: running again does nothing more.
    let s = file_service(&path, clock.clone(), false).await;
    let p = processor_for(&s, simulator());
    assert_eq!(run_at(&s, &p, minutes(60 * 24)).await.jobs, 0);
    assert_eq!(wallet_facts(&s).await, (1, 1, 1, "ACTIVE".to_string()));
    s.app.db.close();
}

/// Two processors (as `serve` and `allps-ws process` would be) on one database: every
/// job runs once, every reply is written once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processors_at_once_do_every_job_once() {
    let dir = temp_dir("two");
    let clock = Arc::new(ManualClock::new(T0));
    let s = file_service(&dir.join("allps.db"), clock.clone(), true).await;
    let mut sql = String::new();
    for i in 0..30 {
        sql.push_str(&format!(
            "INSERT INTO clients (branch_id, employer_id, client_number, first_name, surname, id_type, id_number,
                                  date_of_birth, gender, cellphone, created_by, created_at)
             VALUES (1, 1, 'W{i:03}', 'Client', 'Number', 'PASSPORT', 'PX{i:06}', '1990-01-01', 'F', '0731{i:02}5678', 1, '2026-11-01T08:00:00Z');"
        ));
    }
    s.execute_sql(&sql).await;
    for i in 0..30 {
        ok(
            &s,
            "CreateWallet",
            &format!("<ClientNumber>W{i:03}</ClientNumber>"),
        )
        .await;
    }
    let added = ok(
        &s,
        "AddClientAccount",
        &account("62001234567", "250655", "CURRENT"),
    )
    .await;
    let id = tag(&added, "AccountId");
    for i in 0..20 {
        ok(
            &s,
            "PayToClientAccount",
            &payment(&format!("P{i}"), &[(&id, "100.00")], None),
        )
        .await;
    }
    clock.set(minutes(60 * 24 * 3));
    let a = Arc::new(processor_for(&s, simulator()));
    let b = Arc::new(processor_for(&s, simulator()));
    let until = minutes(60 * 24 * 3);
    let (ra, rb) = tokio::join!(
        {
            let a = a.clone();
            async move { a.run_until(until).await.unwrap() }
        },
        {
            let b = b.clone();
            async move { b.run_until(until).await.unwrap() }
        }
    );
    assert_eq!(ra.fenced + rb.fenced, 0);
    assert_eq!(ra.wallets_created + rb.wallets_created, 30, "{ra} / {rb}");
    assert_eq!(ra.parts_submitted + rb.parts_submitted, 20);
    assert_eq!(ra.parts_delivered + rb.parts_delivered, 20);
    // 30 wallets + 20 submissions + 20 deliveries + 20 return checks.
    assert_eq!(ra.jobs + rb.jobs, 90, "{ra} / {rb}");
    assert_eq!(count(&s, "SELECT count(*) FROM replies").await, 50);
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM client_accounts WHERE kind = 'WALLET'"
        )
        .await,
        30
    );
    assert_eq!(
        count(&s, "SELECT count(*) FROM jobs WHERE status = 'DONE'").await,
        90
    );
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM credit_payments WHERE status = 'DELIVERED'"
        )
        .await,
        20
    );
    s.app.db.close();
}

/// `allps-ws process --db --until` runs what is due by then, deterministically.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_command_runs_due_jobs() {
    let dir = temp_dir("command");
    let path = dir.join("allps.db");
    let clock = Arc::new(ManualClock::new(T0));
    let s = file_service(&path, clock, true).await;
    ok(&s, "CreateWallet", "<ClientNumber>C1001</ClientNumber>").await;
    s.app.db.close();
    drop(s);
    let run = |until: OffsetDateTime| {
        let out = Command::new(env!("CARGO_BIN_EXE_allps-ws"))
            .args(["process", "--db"])
            .arg(&path)
            .args(["--until", &format_timestamp(until)])
            .output()
            .expect("run allps-ws process");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let early = run(minutes(5));
    assert!(early.contains("0 jobs"), "{early}");
    assert!(
        early.contains("next job due at 2026-11-23T08:10:00Z"),
        "{early}"
    );
    let done = run(minutes(10));
    assert!(done.contains("1 jobs: 1 wallets created"), "{done}");
    assert!(done.contains("no job waiting"), "{done}");
    let clock = Arc::new(ManualClock::new(minutes(11)));
    let s = file_service(&path, clock, false).await;
    let wallet = ok(&s, "GetWallet", "<ClientNumber>C1001</ClientNumber>").await;
    assert_eq!(tag(&wallet, "Status"), "ACTIVE");
    s.app.db.close();
}

/// Every success response of the payout operations in the fixtures validates against
/// the schema embedded in the bundled WSDL (element names, order, types).
#[test]
fn fixture_responses_match_the_wsdl_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("schema");
    let types = dir.join("types.xsd");
    let status = Command::new("python3")
        .arg(root.join("tests/wsdl/wsdl_tool.py"))
        .arg("extract")
        .arg(root.join("wsdl/allps.wsdl"))
        .arg(&types)
        .status()
        .expect("python3 is needed to extract the WSDL schema");
    assert!(status.success());
    let mut checked = 0;
    for op in [
        "add_client_account",
        "pay_to_client_account",
        "get_client_credit",
        "print_client_credit",
        "create_wallet",
        "get_wallet",
        "assign_card",
        "print_card_issue_receipt",
        "get_replies",
        "get_client",
    ] {
        let mut cases: Vec<_> = std::fs::read_dir(root.join("fixtures").join(op))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        cases.sort();
        for case in cases {
            let snap = std::fs::read_to_string(case.join("response.snap")).unwrap();
            if !snap.contains("\nHTTP 200") && !snap.starts_with("HTTP 200") {
                continue;
            }
            let start = snap.find("<soap:Body>").expect("a body") + "<soap:Body>".len();
            let end = snap.find("</soap:Body>").expect("a body end");
            let file = dir.join(format!("{}.xml", checked));
            std::fs::write(&file, snap[start..end].trim()).unwrap();
            let out = Command::new("xmllint")
                .args(["--nonet", "--noout", "--schema"])
                .arg(&types)
                .arg(&file)
                .output()
                .unwrap_or_else(|e| {
                    panic!("cannot run xmllint ({e}): apt-get install -y libxml2-utils")
                });
            assert!(
                out.status.success(),
                "{} does not match the WSDL schema: {}",
                case.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} responses checked");
}

/// Every Result code of the payout ranges (160-199, 230-259, 330-369, 420-439) is shown
/// by at least one fixture, and every refusal fixture leaves the store unchanged.
#[test]
fn every_payout_code_has_a_fixture_and_refusals_change_nothing() {
    use allps_ws::domain::ResultCode;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut snapshots = Vec::new();
    for op in std::fs::read_dir(&root).unwrap() {
        let op = op.unwrap().path();
        if !op.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&op).unwrap() {
            let snap = case.unwrap().path().join("response.snap");
            if let Ok(text) = std::fs::read_to_string(&snap) {
                snapshots.push((snap, text));
            }
        }
    }
    let ours = |n: u16| {
        (160..200).contains(&n)
            || (230..260).contains(&n)
            || (330..370).contains(&n)
            || (420..440).contains(&n)
    };
    for code in ResultCode::ALL.iter().filter(|c| ours(c.number())) {
        let needle = format!("<Code>{}</Code>", code.number());
        assert!(
            snapshots.iter().any(|(_, t)| t.contains(&needle)),
            "no fixture shows {} {}",
            code.number(),
            code.name()
        );
    }
    for (path, text) in &snapshots {
        let refused = text.contains("<Result>") && !text.contains("<Code>0</Code>");
        if refused {
            assert!(
                text.contains("store: unchanged"),
                "{} refuses but changes the store",
                path.display()
            );
        }
    }
}
