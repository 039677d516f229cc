//! Tenants (issue 10): every number a caller sees (AllpsClientNumber, AccountId,
//! WalletRequestId, PromissoryNumber, PaymentNumber, the replies `Sequence` and the
//! simulated issuer's wallet number) counts within the caller's organisation.
//!
//! - One organisation's activity does not change anything another sees: the same
//!   business done by DEMO alone and with OTHER busy before, between and after it gives
//!   DEMO byte-identical answers (numbers, replies feed pages, documents' numbers).
//! - A number resolves only in its own organisation: the same number names each
//!   organisation's own record, and a number only another organisation holds answers
//!   exactly like a number nobody holds, changing nothing (reads, edits, cancellations,
//!   prints, payments to an AccountId).
//! - The replies feed of each organisation is gapless and pages without missing or
//!   repeating a reply; refused requests give their numbers back.
//! - Cards: a card held by another wallet answers the same whether that wallet is in the
//!   caller's organisation or another; a replaced card is released and may be assigned
//!   again in any organisation; a receipt prints only from the client's own history.

use allps_ws::clock::Clock;
use allps_ws::engine::gateway::{Gateway, Simulator};
use allps_ws::engine::processor::Processor;
use allps_ws::store::inspect;
use allps_ws::testing::{FIXED_NOW, TestService};
use std::path::Path;
use std::sync::Arc;
use time::Duration;

const TNS: &str = "urn:allps:ws:v1";

fn envelope(org: &str, op: &str, body: &str) -> String {
    format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header>\
         <AuthHeader xmlns=\"{TNS}\"><UserName>demo</UserName><Password>demo-password</Password>\
         <ComputerName>LENDER-PC01</ComputerName><OrgCode>{org}</OrgCode><BranchCode>BR001</BranchCode></AuthHeader>\
         </soap:Header><soap:Body><{op} xmlns=\"{TNS}\">{body}</{op}></soap:Body></soap:Envelope>"
    )
}

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

async fn call(s: &TestService, org: &str, op: &str, body: &str) -> String {
    let response = s.post(&envelope(org, op, body)).await;
    assert_eq!(response.status, 200, "{op}: {}", response.body);
    response.body
}

async fn ok(s: &TestService, org: &str, op: &str, body: &str) -> String {
    let response = call(s, org, op, body).await;
    assert_eq!(code(&response), 0, "{org} {op} refused: {response}");
    response
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("fixtures/{name}: {e}"))
}

/// The fixture principals, `base.sql` (DEMO's clients C1001 and C2001) and OTHER's
/// employer.
async fn service() -> TestService {
    let s = TestService::new().await;
    s.execute_sql(&fixture("base.sql")).await;
    s.execute_sql(&fixture("seeds/other_organisation.sql"))
        .await;
    s
}

fn processor(s: &TestService) -> Processor {
    let gateway: Arc<dyn Gateway> = Arc::new(Simulator::default());
    let clock: Arc<dyn Clock> = s.clock.clone();
    Processor::new(
        s.app.db.clone(),
        clock,
        s.app.config.payouts.clone(),
        gateway,
    )
}

async fn run_until(s: &TestService, p: &Processor, days: i64) {
    let at = FIXED_NOW + Duration::days(days);
    s.clock.set(at);
    p.run_until(at).await.expect("processor run");
}

/// What one organisation does with a new client: add it, register a bank account, ask
/// for a wallet, sign a promissory note, pay it out. `n` makes the client distinct
/// within the organisation. Returns the numbers the answers gave.
async fn business(s: &TestService, org: &str, n: u32) -> Numbers {
    // Valid SA ID numbers (Luhn) of people born in 1979-1988.
    let (id, dob, gender) = match n {
        0 => ("7901015000088", "1979-01-01", "M"),
        1 => ("8807190456087", "1988-07-19", "F"),
        _ => ("8206055120088", "1982-06-05", "M"),
    };
    let client = format!("T{n}00{}", org.len());
    let added = ok(
        s,
        org,
        "AddClient",
        &format!(
            "<ClientNumber>{client}</ClientNumber><EmployerCode>EMP001</EmployerCode><FirstName>Sipho</FirstName>\
             <Surname>Ndlovu</Surname><IdType>SA_ID</IdType><IdNumber>{id}</IdNumber><DateOfBirth>{dob}</DateOfBirth>\
             <Gender>{gender}</Gender><CellphoneNumber>07299900{n}{}</CellphoneNumber>",
            org.len() % 10
        ),
    )
    .await;
    let account = ok(
        s,
        org,
        "AddClientAccount",
        &format!(
            "<ClientNumber>{client}</ClientNumber><BankBranchCode>470010</BankBranchCode>\
             <AccountNumber>1400001003</AccountNumber><AccountType>SAVINGS</AccountType>"
        ),
    )
    .await;
    let account_id = tag(&account, "AccountId");
    let wallet = ok(
        s,
        org,
        "CreateWallet",
        &format!("<ClientNumber>{client}</ClientNumber>"),
    )
    .await;
    let note = ok(
        s,
        org,
        "CreatePromissory",
        &format!(
            "<ClientNumber>{client}</ClientNumber><ContractReference>LN-{org}-{n}</ContractReference>\
             <PaymentStream>EFT</PaymentStream><BankBranchCode>470010</BankBranchCode>\
             <AccountNumber>1400001003</AccountNumber><AccountType>SAVINGS</AccountType>\
             <InstalmentAmount>300.00</InstalmentAmount><NumberOfInstalments>2</NumberOfInstalments>\
             <Frequency>WEEKLY</Frequency><FirstActionDate>2026-12-04</FirstActionDate>"
        ),
    )
    .await;
    let payment = ok(
        s,
        org,
        "PayToClientAccount",
        &format!(
            "<ClientNumber>{client}</ClientNumber><PaymentReference>PAY-{n}</PaymentReference>\
             <Payment><AccountId>{account_id}</AccountId><Amount>500.00</Amount></Payment>"
        ),
    )
    .await;
    Numbers {
        client,
        allps_client: tag(&added, "AllpsClientNumber"),
        account_id,
        wallet_request: tag(&wallet, "WalletRequestId"),
        promissory: tag(&note, "PromissoryNumber"),
        payment: tag(&payment, "PaymentNumber"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Numbers {
    client: String,
    allps_client: String,
    account_id: String,
    wallet_request: String,
    promissory: String,
    payment: String,
}

/// Everything DEMO reads about its business, answer by answer, and its whole replies
/// feed read two at a time.
async fn demo_view(s: &TestService, numbers: &Numbers) -> Vec<String> {
    let mut view = vec![
        call(
            s,
            "DEMO",
            "GetClient",
            &format!("<ClientNumber>{}</ClientNumber>", numbers.client),
        )
        .await,
        call(
            s,
            "DEMO",
            "GetWallet",
            &format!("<ClientNumber>{}</ClientNumber>", numbers.client),
        )
        .await,
        call(
            s,
            "DEMO",
            "GetPromissory",
            &format!(
                "<PromissoryNumber>{}</PromissoryNumber>",
                numbers.promissory
            ),
        )
        .await,
        call(
            s,
            "DEMO",
            "GetClientCredit",
            &format!("<PaymentNumber>{}</PaymentNumber>", numbers.payment),
        )
        .await,
    ];
    let mut since = "0".to_string();
    loop {
        let page = call(
            s,
            "DEMO",
            "GetReplies",
            &format!("<SinceSequence>{since}</SinceSequence><MaxCount>2</MaxCount>"),
        )
        .await;
        let next = tag(&page, "NextSequence");
        let done = tags(&page, "Sequence").is_empty();
        view.push(page);
        if done {
            break;
        }
        since = next;
    }
    view
}

#[tokio::test]
async fn one_organisations_activity_does_not_change_what_another_sees() {
    // DEMO alone.
    let alone = service().await;
    let p = processor(&alone);
    let demo_alone = business(&alone, "DEMO", 1).await;
    run_until(&alone, &p, 2).await;
    let demo_second = business(&alone, "DEMO", 2).await;
    run_until(&alone, &p, 20).await;
    let view_alone = [
        demo_view(&alone, &demo_alone).await,
        demo_view(&alone, &demo_second).await,
    ]
    .concat();

    // The same, with OTHER busy before, between and after DEMO's calls.
    let busy = service().await;
    let p = processor(&busy);
    business(&busy, "OTHER", 0).await;
    let demo_busy = business(&busy, "DEMO", 1).await;
    business(&busy, "OTHER", 1).await;
    run_until(&busy, &p, 2).await;
    let demo_second_busy = business(&busy, "DEMO", 2).await;
    business(&busy, "OTHER", 2).await;
    run_until(&busy, &p, 20).await;
    let view_busy = [
        demo_view(&busy, &demo_busy).await,
        demo_view(&busy, &demo_second_busy).await,
    ]
    .concat();

    assert_eq!(demo_alone, demo_busy);
    assert_eq!(demo_second, demo_second_busy);
    assert_eq!(view_alone.len(), view_busy.len());
    for (a, b) in view_alone.iter().zip(&view_busy) {
        assert_eq!(a, b, "DEMO's answer changed with OTHER's activity");
    }
    // The feed had something to compare: wallet, payment and instalment replies.
    let feed = view_busy.concat();
    for kind in [
        "WALLET_CREATED",
        "PAYMENT_DELIVERED",
        "INSTALMENT_COLLECTED",
    ] {
        assert!(feed.contains(kind), "no {kind} reply in {feed}");
    }
    // OTHER counted from 1 as well.
    let other = busy
        .app
        .db
        .read(|tx| {
            inspect::row_text(
                tx,
                "SELECT group_concat(number, ',') FROM (SELECT number FROM promissory_notes
                 WHERE organisation_id = 2 ORDER BY number)",
            )
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other, Some(vec![Some("1,2,3".into())]));
    assert_eq!(demo_busy.promissory, "PN00000001");
    assert_eq!(demo_busy.allps_client, "AC00000003");
}

/// Sequences of each organisation's replies, in feed order.
async fn sequences(s: &TestService, org_id: i64) -> Vec<i64> {
    let sql = format!(
        "SELECT group_concat(sequence, ',') FROM (SELECT sequence FROM replies
         WHERE organisation_id = {org_id} ORDER BY sequence)"
    );
    let row = s
        .app
        .db
        .read(move |tx| inspect::row_text(tx, &sql))
        .await
        .unwrap()
        .unwrap()
        .expect("a row");
    row[0]
        .as_deref()
        .map(|t| t.split(',').map(|n| n.parse().unwrap()).collect())
        .unwrap_or_default()
}

async fn counters(s: &TestService) -> Option<Vec<Option<String>>> {
    s.app
        .db
        .read(|tx| {
            inspect::row_text(
                tx,
                "SELECT group_concat(organisation_id || kind || next_value, ',') FROM counters",
            )
        })
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_number_resolves_only_in_its_own_organisation() {
    let s = service().await;
    let p = processor(&s);
    let demo = business(&s, "DEMO", 1).await;
    let other = business(&s, "OTHER", 1).await;
    let other_second = business(&s, "OTHER", 2).await;
    run_until(&s, &p, 1).await;

    // The same numbers in both organisations.
    assert_eq!(demo.promissory, other.promissory);
    assert_eq!(demo.payment, other.payment);
    assert_eq!(demo.account_id, other.account_id);
    assert_eq!(demo.wallet_request, other.wallet_request);
    assert_eq!(other.allps_client, "AC00000001");
    assert_eq!(demo.allps_client, "AC00000003");
    // Each resolves to the organisation's own record.
    let number = format!("<PromissoryNumber>{}</PromissoryNumber>", demo.promissory);
    let mine = ok(&s, "DEMO", "GetPromissory", &number).await;
    let theirs = ok(&s, "OTHER", "GetPromissory", &number).await;
    assert_eq!(tag(&mine, "ContractReference"), "LN-DEMO-1");
    assert_eq!(tag(&theirs, "ContractReference"), "LN-OTHER-1");
    let credit = format!("<PaymentNumber>{}</PaymentNumber>", demo.payment);
    let mine = ok(&s, "DEMO", "GetClientCredit", &credit).await;
    let theirs = ok(&s, "OTHER", "GetClientCredit", &credit).await;
    assert_eq!(tag(&mine, "PaymentReference"), "PAY-1");
    assert_eq!(tag(&mine, "ClientNumber"), demo.client);
    assert_eq!(tag(&theirs, "ClientNumber"), other.client);
    // The simulated issuer's wallet numbers differ and say nothing of the other's count.
    let wallet = |c: &str| format!("<ClientNumber>{c}</ClientNumber>");
    let mine = ok(&s, "DEMO", "GetWallet", &wallet(&demo.client)).await;
    let theirs = ok(&s, "OTHER", "GetWallet", &wallet(&other.client)).await;
    assert_eq!(tag(&mine, "WalletNumber"), "W0010000001");
    assert_eq!(tag(&theirs, "WalletNumber"), "W0020000001");

    // Numbers only OTHER holds answer DEMO exactly like numbers nobody holds, and
    // change nothing.
    let before = s.store_digest().await;
    let counters_before = counters(&s).await;
    let held = (&other_second.promissory, &other_second.payment);
    assert_eq!(held, (&"PN00000002".to_string(), &"CP00000002".to_string()));
    let nobody = ("PN00000099", "CP00000099");
    let note_calls = |n: &str| {
        vec![
            (
                "GetPromissory",
                format!("<PromissoryNumber>{n}</PromissoryNumber>"),
            ),
            (
                "CancelPromissory",
                format!("<PromissoryNumber>{n}</PromissoryNumber><Reason>settled</Reason>"),
            ),
            (
                "EditInstalment",
                format!(
                    "<PromissoryNumber>{n}</PromissoryNumber><InstalmentNumber>2</InstalmentNumber><Amount>10.00</Amount>"
                ),
            ),
            (
                "PrintPromissory",
                format!("<PromissoryNumber>{n}</PromissoryNumber>"),
            ),
        ]
    };
    let payment_calls = |n: &str| {
        vec![
            (
                "GetClientCredit",
                format!("<PaymentNumber>{n}</PaymentNumber>"),
            ),
            (
                "PrintClientCredit",
                format!("<PaymentNumber>{n}</PaymentNumber>"),
            ),
        ]
    };
    let pairs = note_calls(held.0)
        .into_iter()
        .zip(note_calls(nobody.0))
        .chain(
            payment_calls(held.1)
                .into_iter()
                .zip(payment_calls(nobody.1)),
        );
    for ((op, held_body), (_, nobody_body)) in pairs {
        let held_answer = call(&s, "DEMO", op, &held_body).await;
        let nobody_answer = call(&s, "DEMO", op, &nobody_body).await;
        assert_ne!(code(&held_answer), 0, "{op}: {held_answer}");
        assert_eq!(
            held_answer
                .replace(held.0.as_str(), "N")
                .replace(held.1.as_str(), "N"),
            nobody_answer.replace(nobody.0, "N").replace(nobody.1, "N"),
            "{op}"
        );
    }
    // An AccountId only OTHER holds: OTHER numbered its two bank accounts 1 and 2 and
    // then, as the wallets were created, the wallet accounts 3 and 4; DEMO has 1 and 2.
    let pay = |account: &str| {
        format!(
            "<ClientNumber>{}</ClientNumber><PaymentReference>PAY-X</PaymentReference>\
             <Payment><AccountId>{account}</AccountId><Amount>50.00</Amount></Payment>",
            demo.client
        )
    };
    let held_answer = call(&s, "DEMO", "PayToClientAccount", &pay("4")).await;
    let nobody_answer = call(&s, "DEMO", "PayToClientAccount", &pay("99")).await;
    assert_ne!(code(&held_answer), 0);
    assert_eq!(
        held_answer.replace("account 4 ", "account N "),
        nobody_answer.replace("account 99 ", "account N ")
    );
    assert_eq!(
        s.store_digest().await,
        before,
        "a refusal changed the store"
    );
    assert_eq!(
        counters(&s).await,
        counters_before,
        "a refusal used a number"
    );

    // Cancelling DEMO's PN00000001 leaves OTHER's PN00000001 as it was.
    let theirs_before = ok(&s, "OTHER", "GetPromissory", &number).await;
    let cancelled = ok(
        &s,
        "DEMO",
        "CancelPromissory",
        &format!("{number}<Reason>settled</Reason>"),
    )
    .await;
    assert_eq!(tag(&cancelled, "Status"), "CANCELLED");
    assert_eq!(
        ok(&s, "OTHER", "GetPromissory", &number).await,
        theirs_before
    );
    assert_ne!(tag(&theirs_before, "Status"), "CANCELLED");
}

#[tokio::test]
async fn each_organisations_feed_is_gapless_and_pages_exactly() {
    let s = service().await;
    let p = processor(&s);
    for n in 0..3 {
        business(&s, "DEMO", n).await;
        business(&s, "OTHER", n).await;
        run_until(&s, &p, i64::from(n)).await;
    }
    run_until(&s, &p, 30).await;
    for org in [1, 2] {
        let seq = sequences(&s, org).await;
        assert!(seq.len() >= 9, "org {org}: {seq:?}");
        assert_eq!(seq, (1..=seq.len() as i64).collect::<Vec<_>>(), "org {org}");
    }
    // Paging one at a time from every NextSequence sees each reply exactly once.
    for (org, id) in [("DEMO", 1), ("OTHER", 2)] {
        let mut seen = Vec::new();
        let mut since = "0".to_string();
        loop {
            let page = call(
                &s,
                org,
                "GetReplies",
                &format!("<SinceSequence>{since}</SinceSequence><MaxCount>1</MaxCount>"),
            )
            .await;
            let got: Vec<i64> = tags(&page, "Sequence")
                .iter()
                .map(|t| t.parse().unwrap())
                .collect();
            if got.is_empty() {
                break;
            }
            seen.extend(got);
            since = tag(&page, "NextSequence");
        }
        assert_eq!(seen, sequences(&s, id).await, "{org}");
    }
}

#[tokio::test]
async fn a_card_held_anywhere_answers_alike_and_a_replaced_card_is_released() {
    let s = service().await;
    let p = processor(&s);
    let demo = business(&s, "DEMO", 1).await;
    let demo_other_client = business(&s, "DEMO", 2).await;
    let other = business(&s, "OTHER", 1).await;
    run_until(&s, &p, 1).await;
    let assign = |client: &str, card: &str| {
        format!("<ClientNumber>{client}</ClientNumber><CardNumber>{card}</CardNumber>")
    };
    let (a, b, c) = ("5021000000000012", "5021000000000020", "5021000000000715");

    // DEMO's client takes card A, then B: A is released.
    ok(&s, "DEMO", "AssignCard", &assign(&demo.client, a)).await;
    ok(&s, "DEMO", "AssignCard", &assign(&demo.client, b)).await;
    // OTHER's client may take A now; DEMO's other client may take C.
    ok(&s, "OTHER", "AssignCard", &assign(&other.client, a)).await;
    ok(
        &s,
        "DEMO",
        "AssignCard",
        &assign(&demo_other_client.client, c),
    )
    .await;
    ok(
        &s,
        "OTHER",
        "PrintCardIssueReceipt",
        &assign(&other.client, a),
    )
    .await;

    // A held in OTHER and C held in DEMO answer DEMO's client byte for byte alike.
    let before = s.store_digest().await;
    let held_elsewhere = call(&s, "DEMO", "AssignCard", &assign(&demo.client, a)).await;
    let held_here = call(&s, "DEMO", "AssignCard", &assign(&demo.client, c)).await;
    assert_eq!(code(&held_elsewhere), 422, "{held_elsewhere}");
    assert_eq!(held_elsewhere, held_here);
    // Printing: A was DEMO's client's card and was replaced there (341, whoever holds it
    // now); C was never that client's card, like a card nobody holds (234).
    let replaced = call(
        &s,
        "DEMO",
        "PrintCardIssueReceipt",
        &assign(&demo.client, a),
    )
    .await;
    assert_eq!(code(&replaced), 341, "{replaced}");
    let never = call(
        &s,
        "DEMO",
        "PrintCardIssueReceipt",
        &assign(&demo.client, c),
    )
    .await;
    let nobody = call(
        &s,
        "DEMO",
        "PrintCardIssueReceipt",
        &assign(&demo.client, "5021000000000723"),
    )
    .await;
    assert_eq!(code(&never), 234, "{never}");
    assert_eq!(never, nobody);
    assert_eq!(
        s.store_digest().await,
        before,
        "a refusal changed the store"
    );

    // DEMO's client may take A back once OTHER's wallet replaces it.
    ok(
        &s,
        "OTHER",
        "AssignCard",
        &assign(&other.client, "5021000000000723"),
    )
    .await;
    ok(&s, "DEMO", "AssignCard", &assign(&demo.client, a)).await;
    ok(
        &s,
        "DEMO",
        "PrintCardIssueReceipt",
        &assign(&demo.client, a),
    )
    .await;
}
