//! The DebiCheck authentication windows driven through the real binary, as an operator
//! or integrator would: `allps-ws serve --fixed-time T` takes each CreateDebiCheckPromissory
//! over HTTP at its instant, and `allps-ws process --db … --until T` steps the mandate jobs
//! to each window's edge, to the second. The simulator reads the payer's answer time
//! from the cellphone marker (`99` + `1NNN` seconds, `3NNN` hours).

mod common;

use common::{Server, TempDir, ok, run};

const AUTH: &str = "<soap:Header><AuthHeader xmlns=\"urn:allps:ws:v1\"><UserName>demo</UserName>\
    <Password>demo-password</Password><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode>\
    </AuthHeader></soap:Header>";

fn envelope(op: &str, body: &str) -> String {
    format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">{AUTH}\
         <soap:Body><{op} xmlns=\"urn:allps:ws:v1\">{body}</{op}></soap:Body></soap:Envelope>"
    )
}

fn first(body: &str, name: &str) -> String {
    let open = format!("<{name}>");
    body.split(&open)
        .nth(1)
        .and_then(|rest| rest.split(&format!("</{name}>")).next())
        .unwrap_or_default()
        .to_string()
}

struct Bank {
    dir: TempDir,
}

impl Bank {
    fn db(&self) -> std::path::PathBuf {
        self.dir.join("allps.db")
    }

    /// A server frozen at `at` (the demo principals exist from the first).
    fn at(&self, at: &str) -> Server {
        // The processor looks for due work once, at start (before any request): the
        // mandate jobs the requests queue are left to `process --until`.
        Server::start(
            &self.db(),
            &[
                "--demo",
                "--fixed-time",
                at,
                "--processor-poll-seconds",
                "3600",
            ],
        )
    }

    fn process_until(&self, until: &str) -> String {
        let db = self.db();
        ok(run(
            &["process", "--db", db.to_str().unwrap(), "--until", until],
            None,
        ))
    }

    /// CreateDebiCheckPromissory at `at`; returns (Result code, PromissoryNumber,
    /// AuthenticationStatus).
    fn mandate(
        &self,
        at: &str,
        reference: &str,
        client: &str,
        kind: &str,
    ) -> (String, String, String) {
        let server = self.at(at);
        let (status, body) = server.post(&envelope(
            "CreateDebiCheckPromissory",
            &format!(
                "<ClientNumber>{client}</ClientNumber><ContractReference>{reference}</ContractReference>\
                 <BankBranchCode>250655</BankBranchCode><AccountNumber>62001234567</AccountNumber>\
                 <AccountType>CURRENT</AccountType><InstalmentAmount>500.00</InstalmentAmount>\
                 <NumberOfInstalments>1</NumberOfInstalments><Frequency>MONTHLY</Frequency>\
                 <FirstActionDate>2026-12-15</FirstActionDate><AuthenticationType>{kind}</AuthenticationType>\
                 <DebitValueType>FIXED</DebitValueType><MaximumCollectionAmount>500.00</MaximumCollectionAmount>\
                 <DateAdjustmentAllowed>true</DateAdjustmentAllowed>"
            ),
        ));
        assert_eq!(status, 200, "{body}");
        (
            first(&body, "Code"),
            first(&body, "PromissoryNumber"),
            first(&body, "AuthenticationStatus"),
        )
    }

    /// (AuthenticationStatus, the time it last changed) of a note, read from the
    /// database file (no server: its processor must not run beside `process`).
    fn status(&self, number: &str) -> (String, String) {
        let id: i64 = number
            .trim_start_matches("PN")
            .parse()
            .expect("a PN number");
        let mut db = allps_ws::store::Direct::open(&self.db(), std::time::Duration::from_secs(5))
            .expect("open the database");
        let row = db
            .immediate(|tx| {
                allps_ws::store::inspect::row_text(
                    tx,
                    &format!(
                        "SELECT status, COALESCE(expired_at, suspended_at, answered_at, '')
                         FROM mandates WHERE promissory_id = {id}"
                    ),
                )
            })
            .expect("store")
            .expect("query")
            .expect("a mandate");
        (
            row[0].clone().unwrap_or_default(),
            row[1].clone().unwrap_or_default(),
        )
    }
}

#[test]
fn every_window_to_the_second_with_serve_and_process_until() {
    let bank = Bank {
        dir: TempDir::new("debicheck-cli"),
    };
    // Monday 23 November 2026, 10:00 SAST: an employer and clients with the markers.
    {
        let server = bank.at("2026-11-23T08:00:00Z");
        let (_, body) = server.post(&envelope(
            "AddEmployer",
            "<EmployerCode>EMP001</EmployerCode><EmployerName>Acme Mining</EmployerName>",
        ));
        assert_eq!(first(&body, "Code"), "0", "{body}");
        for (n, cell) in [
            (1, "0829991119"),
            (2, "0829991120"),
            (3, "0829991999"),
            (4, "0829993024"),
            (5, "0821234567"),
        ] {
            let (_, body) = server.post(&envelope(
                "AddClient",
                &format!(
                    "<ClientNumber>C{n}</ClientNumber><EmployerCode>EMP001</EmployerCode>\
                     <FirstName>Thabo</FirstName><Surname>Mokoena</Surname><IdType>PASSPORT</IdType>\
                     <IdNumber>PA12345{n}</IdNumber><DateOfBirth>1985-03-14</DateOfBirth><Gender>M</Gender>\
                     <CellphoneNumber>{cell}</CellphoneNumber>"
                ),
            ));
            assert_eq!(first(&body, "Code"), "0", "{body}");
        }
    }

    // TT1_REALTIME: answered after 119 s (in time) and 120 s (the window has closed).
    let (code, rt_in, auth) = bank.mandate("2026-11-23T08:00:00Z", "RT1", "C1", "TT1_REALTIME");
    assert_eq!(
        (code.as_str(), auth.as_str()),
        ("0", "AWAITING_AUTHENTICATION")
    );
    let (_, rt_out, _) = bank.mandate("2026-11-23T08:00:00Z", "RT2", "C2", "TT1_REALTIME");
    bank.process_until("2026-11-23T10:01:58+02:00");
    assert_eq!(bank.status(&rt_in).0, "AWAITING_AUTHENTICATION");
    bank.process_until("2026-11-23T10:02:00+02:00");
    assert_eq!(
        bank.status(&rt_in),
        ("AUTHENTICATED".into(), "2026-11-23T08:01:59Z".into())
    );
    assert_eq!(
        bank.status(&rt_out),
        ("EXPIRED".into(), "2026-11-23T08:02:00Z".into())
    );

    // TT1_DELAYED: requested 22:13:20 and 22:13:21, answered 999 s later: 22:29:59
    // counts, 22:30:00 does not.
    let (_, dl_in, _) = bank.mandate("2026-11-23T20:13:20Z", "DL1", "C3", "TT1_DELAYED");
    let (_, dl_out, _) = bank.mandate("2026-11-23T20:13:21Z", "DL2", "C3", "TT1_DELAYED");
    bank.process_until("2026-11-23T22:29:59+02:00");
    assert_eq!(
        bank.status(&dl_in),
        ("AUTHENTICATED".into(), "2026-11-23T20:29:59Z".into())
    );
    assert_eq!(bank.status(&dl_out).0, "AWAITING_AUTHENTICATION");
    bank.process_until("2026-11-23T22:30:00+02:00");
    assert_eq!(
        bank.status(&dl_out),
        ("EXPIRED".into(), "2026-11-23T20:30:00Z".into())
    );

    // TT3: taken from 00:30:00 to 23:30:00 SAST, answered in the response.
    assert_eq!(
        bank.mandate("2026-11-23T22:29:59Z", "T3A", "C5", "TT3").0,
        "356"
    );
    assert_eq!(
        bank.mandate("2026-11-23T22:30:00Z", "T3B", "C5", "TT3").2,
        "AUTHENTICATED"
    );
    assert_eq!(
        bank.mandate("2026-11-24T21:30:00Z", "T3C", "C5", "TT3").2,
        "AUTHENTICATED"
    );
    assert_eq!(
        bank.mandate("2026-11-24T21:30:01Z", "T3D", "C5", "TT3").0,
        "356"
    );

    // TT2 requested on Friday 27 November at 20:59:59 and 21:00:00 SAST, each answered
    // 24 h later: the window closes Saturday 21:00:00.
    let (_, t2_in, _) = bank.mandate("2026-11-27T18:59:59Z", "T2A", "C4", "TT2");
    let (_, t2_out, _) = bank.mandate("2026-11-27T19:00:00Z", "T2B", "C4", "TT2");
    bank.process_until("2026-11-28T20:59:59+02:00");
    assert_eq!(
        bank.status(&t2_in),
        ("AUTHENTICATED".into(), "2026-11-28T18:59:59Z".into())
    );
    assert_eq!(bank.status(&t2_out).0, "AWAITING_AUTHENTICATION");
    let report = bank.process_until("2026-11-28T21:00:00+02:00");
    assert!(report.contains("mandates: 1 changed"), "{report}");
    assert_eq!(
        bank.status(&t2_out),
        ("EXPIRED".into(), "2026-11-28T19:00:00Z".into())
    );
}
