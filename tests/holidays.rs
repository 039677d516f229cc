//! A public holiday declared while the service runs (`admin holiday add`, here through
//! the same store function): on a portfolio of existing notes every instalment not yet
//! presented on the new day moves to the previous business day, by the rule schedule
//! generation uses; each move is an INSTALMENT_MOVED reply in GetReplies; other
//! instalments, cancelled notes and other days do not change; and the very next call
//! refuses the day (305) with no restart.
//!
//! The day: Wednesday 2027-03-10, declared here as a (fictitious) by-election day.

use allps_ws::domain::calendar::Calendar;
use allps_ws::store::holidays;
use allps_ws::testing::{FIXED_NOW, TestService};
use time::macros::date;

const AUTH: &str = r#"<soap:Header><AuthHeader xmlns="urn:allps:ws:v1"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader></soap:Header>"#;

fn envelope(op: &str, body: &str) -> String {
    format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">{AUTH}<soap:Body><{op} xmlns="urn:allps:ws:v1">{body}</{op}></soap:Body></soap:Envelope>"#
    )
}

async fn call(s: &TestService, op: &str, body: &str) -> String {
    let r = s.post(&envelope(op, body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn ok(s: &TestService, op: &str, body: &str) -> String {
    let text = call(s, op, body).await;
    assert!(text.contains("<Code>0</Code>"), "{op} refused: {text}");
    text
}

fn note(reference: &str, frequency: &str, count: u16, first: &str) -> String {
    format!(
        "<ClientNumber>C1001</ClientNumber><ContractReference>{reference}</ContractReference>\
         <PaymentStream>EFT</PaymentStream><BankBranchCode>470010</BankBranchCode>\
         <AccountNumber>1376543212</AccountNumber><AccountType>SAVINGS</AccountType>\
         <InstalmentAmount>500.00</InstalmentAmount><NumberOfInstalments>{count}</NumberOfInstalments>\
         <Frequency>{frequency}</Frequency><FirstActionDate>{first}</FirstActionDate>"
    )
}

fn action_dates(body: &str) -> Vec<String> {
    body.split("<ActionDate>")
        .skip(1)
        .map(|s| s[..10].to_string())
        .collect()
}

#[tokio::test]
async fn a_holiday_declared_at_run_time_moves_the_portfolio() {
    let s = TestService::new().await;
    let base =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/base.sql")).unwrap();
    s.execute_sql(&base).await;

    // The portfolio (today is Monday 2026-11-23).
    let portfolio = [
        ("MONTHLY10", "MONTHLY", 6, "2026-12-10"), // 4th instalment on 2027-03-10
        ("WEEKLY", "WEEKLY", 20, "2026-12-02"),    // Wednesdays: the 15th is 2027-03-10
        ("FORTNIGHT", "FORTNIGHTLY", 10, "2026-12-02"), // 2027-03-10 is the 8th
        ("MONTHLY11", "MONTHLY", 6, "2026-12-11"), // never on the 10th
        ("CANCELLED", "MONTHLY", 6, "2026-12-10"), // cancelled below: stays as it is
    ];
    for (reference, frequency, count, first) in portfolio {
        ok(
            &s,
            "CreatePromissory",
            &note(reference, frequency, count, first),
        )
        .await;
    }
    ok(
        &s,
        "CancelPromissory",
        "<PromissoryNumber>PN00000005</PromissoryNumber><Reason>Settled</Reason>",
    )
    .await;
    let get = |n: u32| {
        let s = &s;
        async move {
            ok(
                s,
                "GetPromissory",
                &format!("<PromissoryNumber>PN{n:08}</PromissoryNumber>"),
            )
            .await
        }
    };
    let mut before = Vec::new();
    for n in 1..=5 {
        before.push(action_dates(&get(n).await));
    }
    assert_eq!(before[0][3], "2027-03-10");
    assert_eq!(before[1][14], "2027-03-10");
    assert_eq!(before[2][7], "2027-03-10");
    let replies_before = ok(&s, "GetReplies", "<SinceSequence>0</SinceSequence>").await;
    assert!(!replies_before.contains("INSTALMENT_MOVED"));

    // Declared while the server runs.
    let moved = s
        .app
        .db
        .write(|tx| {
            holidays::declare(
                tx,
                &Calendar::south_africa(),
                date!(2027 - 03 - 10),
                "By-election",
                FIXED_NOW,
            )
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.len(), 3, "{moved:?}");
    assert!(moved.iter().all(|m| m.to == date!(2027 - 03 - 09)));

    let mut after = Vec::new();
    for n in 1..=5 {
        after.push(action_dates(&get(n).await));
    }
    for (n, (b, a)) in before.iter().zip(&after).enumerate() {
        for (i, (db, da)) in b.iter().zip(a).enumerate() {
            if db == "2027-03-10" && n != 4 {
                assert_eq!(da, "2027-03-09", "note {} instalment {}", n + 1, i + 1);
            } else {
                assert_eq!(da, db, "note {} instalment {} must not move", n + 1, i + 1);
            }
        }
    }

    // Each move is reported.
    let replies = ok(&s, "GetReplies", "<SinceSequence>0</SinceSequence>").await;
    assert_eq!(
        replies
            .matches("<ReplyType>INSTALMENT_MOVED</ReplyType>")
            .count(),
        3
    );
    assert!(replies.contains(
        "moved from 2027-03-10 to 2027-03-09: By-election was declared a public holiday"
    ));
    assert!(replies.contains("<PromissoryNumber>PN00000002</PromissoryNumber>"));

    // Effective on the next call: the day is now refused, named.
    let refused = call(
        &s,
        "CreatePromissory",
        &note("NEWNOTE", "MONTHLY", 1, "2027-03-10"),
    )
    .await;
    assert!(refused.contains("<Code>305</Code>"), "{refused}");
    assert!(refused.contains("By-election"), "{refused}");
    // And schedules generated from now on avoid it.
    let created = ok(
        &s,
        "CreatePromissory",
        &note("NEWNOTE2", "MONTHLY", 2, "2027-02-10"),
    )
    .await;
    assert_eq!(action_dates(&created), ["2027-02-10", "2027-03-09"]);

    // Declaring it again, or a statutory holiday, is refused.
    for day in [date!(2027 - 03 - 10), date!(2027 - 03 - 22)] {
        let again = s
            .app
            .db
            .write(move |tx| {
                holidays::declare(tx, &Calendar::south_africa(), day, "Again", FIXED_NOW)
            })
            .await
            .unwrap();
        assert!(again.is_err(), "{day}");
    }
}
