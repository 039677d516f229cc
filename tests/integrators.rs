//! docs/integrators.md works as written: its shell block runs in an empty directory with
//! only the binary on the PATH (and curl, playing the integrator's DMS), recording a
//! session with `serve --record` and replaying it against a fresh sandbox with `--junit`;
//! the recording holds no secret and the report passes every recorded call.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::TempDir;

/// The first ```sh block of docs/integrators.md.
fn documented_commands() -> String {
    let doc = std::fs::read_to_string(common::manifest_dir().join("docs/integrators.md"))
        .expect("docs/integrators.md");
    let start = doc.find("```sh\n").expect("a ```sh block") + "```sh\n".len();
    let end = start + doc[start..].find("\n```").expect("the block's end");
    doc[start..end].to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_documented_session_records_and_replays_with_a_junit_report() {
    let curl = which("curl").expect("curl is needed by docs/integrators.md's commands");
    let tmp = TempDir::new("integrators");
    let bin = Path::new(common::BIN);
    // Only the binary (as `allps-ws`) and the system's tools: no checkout, no fixtures.
    let bin_dir = tmp.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::fs::copy(bin, bin_dir.join("allps-ws")).unwrap();
    let work = tmp.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let script =
        documented_commands().replace("127.0.0.1:8080", &format!("127.0.0.1:{}", free_port()));
    assert!(
        script.contains("--record suite") && !script.contains(":8080"),
        "{script}"
    );
    let path = format!(
        "{}:{}:/usr/bin:/bin",
        bin_dir.display(),
        curl.parent().unwrap().display()
    );
    // Bounded: a server that never answers must fail the test, not hang it.
    let output = Command::new("timeout")
        .args(["300", "sh", "-ec", &script])
        .current_dir(&work)
        .env_clear()
        .env("PATH", path)
        .env("HOME", &work)
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the documented commands failed:\n{stdout}\n{stderr}"
    );

    // The recording: one case per call, in order, as the doc says.
    let suite = work.join("suite");
    let mut cases: Vec<String> = std::fs::read_dir(&suite)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "recording.txt")
        .collect();
    cases.sort();
    assert_eq!(
        cases,
        [
            "0001_login",
            "0002_add_employer",
            "0003_add_client",
            "0004_get_client"
        ],
        "{stdout}"
    );
    assert!(read(&suite.join("recording.txt")).contains("fixed-time: 2026-11-23T08:00:00Z"));
    let login = read(&suite.join("0001_login/request.xml"));
    assert!(
        login.contains("<Password>{{PASSWORD}}</Password>"),
        "{login}"
    );
    let login_answer = read(&suite.join("0001_login/response.snap"));
    assert!(
        login_answer.contains("<SessionId>{{SESSION}}</SessionId>"),
        "{login_answer}"
    );
    assert!(login_answer.starts_with("---\n") && login_answer.contains("\nHTTP 200\n"));
    let add = read(&suite.join("0003_add_client/request.xml"));
    assert!(add.contains("<SessionId>{{SESSION}}</SessionId>"), "{add}");
    let added = read(&suite.join("0003_add_client/response.snap"));
    assert!(
        added.contains("<AllpsClientNumber>"),
        "generated identifier kept: {added}"
    );
    for case in &cases {
        for file in ["request.xml", "response.snap"] {
            let text = read(&suite.join(case).join(file));
            assert!(
                !text.contains("demo-password"),
                "{case}/{file} holds the password"
            );
        }
        assert!(
            !suite.join(case).join("headers.txt").exists(),
            "default Content-Type"
        );
    }

    // The replay: every recorded call passed, and the JUnit report says so.
    assert!(
        stdout.contains("ok       0004_get_client\n")
            && stdout.ends_with("replay: 4 passed, 0 failed, 0 skipped\n"),
        "{stdout}"
    );
    let report = read(&work.join("report.xml"));
    let doc = roxmltree::Document::parse(&report).expect("the report is XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("4"), "{report}");
    assert_eq!(root.attribute("failures"), Some("0"), "{report}");
    assert_eq!(root.attribute("errors"), Some("0"), "{report}");
    let names: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert_eq!(names, cases.iter().map(String::as_str).collect::<Vec<_>>());

    // A changed expectation in the recording is exit 1 and a JUnit failure with the diff.
    let snap = suite.join("0004_get_client/response.snap");
    std::fs::write(
        &snap,
        read(&snap).replace("<FirstName>Naledi<", "<FirstName>Nal<"),
    )
    .unwrap();
    let output = Command::new(bin)
        .args(["replay", "suite", "--spawn", "--junit", "again.xml"])
        .current_dir(&work)
        .env_remove("ALLPS_ENDPOINT")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = read(&work.join("again.xml"));
    assert!(
        report.contains(
            "/Envelope/Body/GetClientResponse/Client/FirstName: expected Nal, got Naledi</failure>"
        ),
        "{report}"
    );
}

const LOGIN: &str = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Login xmlns="urn:allps:ws:v1"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>MY-DMS</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></Login></soap:Body></soap:Envelope>"#;

fn with_session(session: &str, body: &str) -> String {
    format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><AuthHeader xmlns="urn:allps:ws:v1"><SessionId>{session}</SessionId></AuthHeader></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

/// Posts a session's calls: an employer, a client, a bank account and a payment to the
/// account by its generated AccountId; returns the AccountId the server generated.
fn dms_session(server: &common::Server, client: &str, id: &str) -> String {
    let (_, login) = server.post(LOGIN);
    let session = common::element_after(&login, "<LoginResponse", "SessionId").expect("session");
    let call = |body: &str| {
        let (status, answer) = server.post(&with_session(&session, body));
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            common::result_code(&answer).as_deref(),
            Some("0"),
            "{answer}"
        );
        answer
    };
    call(&format!(
        r#"<AddEmployer xmlns="urn:allps:ws:v1"><EmployerCode>E{client}</EmployerCode><EmployerName>Acme Mining</EmployerName><PayFrequency>MONTHLY</PayFrequency><PayDay>25</PayDay></AddEmployer>"#
    ));
    call(&format!(
        r#"<AddClient xmlns="urn:allps:ws:v1"><ClientNumber>{client}</ClientNumber><EmployerCode>E{client}</EmployerCode><FirstName>Naledi</FirstName><Surname>Khumalo</Surname><IdType>SA_ID</IdType><IdNumber>{id}</IdNumber><DateOfBirth>{}-{}-{}</DateOfBirth><Gender>{}</Gender></AddClient>"#,
        format_args!("19{}", &id[0..2]),
        &id[2..4],
        &id[4..6],
        if id[6..7] >= *"5" { "M" } else { "F" }
    ));
    let added = call(&format!(
        r#"<AddClientAccount xmlns="urn:allps:ws:v1"><ClientNumber>{client}</ClientNumber><BankBranchCode>470010</BankBranchCode><AccountNumber>1400001003</AccountNumber><AccountType>SAVINGS</AccountType></AddClientAccount>"#
    ));
    let account = common::element_after(&added, "<AddClientAccountResponse", "AccountId")
        .expect("an AccountId");
    call(&format!(
        r#"<PayToClientAccount xmlns="urn:allps:ws:v1"><ClientNumber>{client}</ClientNumber><PaymentReference>PAY-{client}</PaymentReference><Payment><AccountId>{account}</AccountId><Amount>1000.00</Amount></Payment></PayToClientAccount>"#
    ));
    account
}

/// Generated identifiers are recorded so that replay maps them: a recording replays
/// against a sandbox that already holds data (other AllpsClientNumbers and AccountIds),
/// the payment's AccountId rewritten to the one the replayed AddClientAccount returned.
#[test]
fn a_recording_replays_where_generated_identifiers_differ() {
    let tmp = TempDir::new("integrators-ids");
    let suite = tmp.join("suite");
    let fixed = ["--demo", "--fixed-time", "2026-11-23T08:00:00Z"];
    {
        let mut args = fixed.to_vec();
        args.extend(["--record", suite.to_str().unwrap()]);
        let server = common::Server::start(&tmp.join("record.db"), &args);
        assert_eq!(dms_session(&server, "C1001", "9007230124089"), "1");
    }
    let payment = read(&suite.join("0005_pay_to_client_account/request.xml"));
    assert!(payment.contains("<AccountId>1</AccountId>"), "{payment}");

    let server = common::Server::start(&tmp.join("busy.db"), &fixed);
    // Someone else's data first: the replayed session's identifiers come out different.
    assert_eq!(dms_session(&server, "C7001", "7901015001086"), "1");
    let output = common::run(
        &[
            "replay",
            suite.to_str().unwrap(),
            "--endpoint",
            &server.endpoint(),
        ],
        None,
    );
    let out = common::stdout(&output);
    assert!(output.status.success(), "{out}");
    assert!(
        out.ends_with("replay: 5 passed, 0 failed, 0 skipped\n"),
        "{out}"
    );
    // And the second account really got another id: the payment was rewritten to it.
    let (_, login) = server.post(LOGIN);
    let session = common::element_after(&login, "<LoginResponse", "SessionId").unwrap();
    let (_, client) = server.post(&with_session(
        &session,
        r#"<GetClient xmlns="urn:allps:ws:v1"><ClientNumber>C1001</ClientNumber></GetClient>"#,
    ));
    assert_eq!(
        common::element_after(&client, "<Accounts", "AccountId").as_deref(),
        Some("2"),
        "{client}"
    );
}
