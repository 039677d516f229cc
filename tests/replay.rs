//! `allps-ws replay` end to end: a server on a database prepared with
//! `admin seed-fixtures`, on the fixtures' frozen time, replays the bundled fixtures
//! with no difference; a changed expectation is a DIFF with a non-zero exit; setup steps,
//! skips and failing setups behave as documented; a run that cannot reach its server
//! exits 2.

mod common;

use std::path::{Path, PathBuf};

use allps_ws::testing::{TestService, describe_store_change};
use common::{Server, TempDir, admin, ok, run, stdout};

const FIXED_TIME: &str = "2026-11-23T08:00:00Z";

/// A seeded database and a server on it.
fn seeded_server(tmp: &TempDir) -> Server {
    // ALLPS_TEST_DATABASE_URL replays against PostgreSQL (a fresh schema of it).
    let db = match std::env::var("ALLPS_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            allps_ws::store::fresh_postgres_schema(&url).expect("a PostgreSQL test schema")
        }
        _ => tmp.join("replay.db"),
    };
    let fixtures = common::manifest_dir().join("fixtures");
    ok(admin(
        &db,
        &["seed-fixtures", "--fixtures", fixtures.to_str().unwrap()],
        None,
    ));
    Server::start(&db, &["--fixed-time", FIXED_TIME])
}

fn replay(dir: &Path, server: &Server) -> std::process::Output {
    run(
        &[
            "replay",
            dir.to_str().unwrap(),
            "--endpoint",
            &server.endpoint(),
        ],
        None,
    )
}

#[test]
fn the_bundled_fixtures_replay_without_differences() {
    let tmp = TempDir::new("replay-all");
    let server = seeded_server(&tmp);
    let output = replay(&common::manifest_dir().join("fixtures"), &server);
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "replay failed:\n{out}\n{}",
        common::stderr(&output)
    );
    assert!(!out.contains("\nDIFF") && !out.contains("\nERROR"), "{out}");
    let summary = out.lines().last().unwrap_or("");
    assert!(
        summary.starts_with("replay: ") && summary.contains(" passed, 0 failed, "),
        "{summary}"
    );
    let passed: usize = summary["replay: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(passed >= 100, "{summary}");
    for line in out.lines().filter(|l| l.starts_with("skipped")) {
        assert!(line.contains('('), "a skip says why: {line}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_changed_expectation_is_a_diff_and_fails() {
    let tmp = TempDir::new("replay-diff");
    let server = seeded_server(&tmp);
    let case = tmp.join("cases/get_client/ok");
    copy_dir(
        &common::manifest_dir().join("fixtures/get_client/ok"),
        &case,
    );
    let snap = case.join("response.snap");
    let text = std::fs::read_to_string(&snap).unwrap();
    std::fs::write(
        &snap,
        text.replace(
            "<FirstName>Thabo</FirstName>",
            "<FirstName>Thabiso</FirstName>",
        )
        .replace("HTTP 200", "HTTP 201"),
    )
    .unwrap();

    let output = replay(&tmp.join("cases"), &server);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("DIFF     get_client/ok\n"), "{out}");
    assert!(
        out.contains("    HTTP status: expected 201, got 200\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "    /Envelope/Body/GetClientResponse/Client/FirstName: expected Thabiso, got Thabo\n"
        ),
        "{out}"
    );
    assert!(
        out.ends_with("replay: 0 passed, 1 failed, 0 skipped\n"),
        "{out}"
    );

    // The unchanged case, replayed on its own (a case directory), passes.
    let output = replay(
        &common::manifest_dir().join("fixtures/get_client/ok"),
        &server,
    );
    assert!(output.status.success(), "{}", stdout(&output));
    assert!(stdout(&output).ends_with("replay: 1 passed, 0 failed, 0 skipped\n"));
}

const AUTH: &str = r#"<soap:Header><AuthHeader xmlns="urn:allps:ws:v1"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader></soap:Header>"#;

fn envelope(header: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">{header}<soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

fn add_client(number: &str, id: &str) -> String {
    envelope(
        AUTH,
        &format!(
            r#"<AddClient xmlns="urn:allps:ws:v1"><ClientNumber>{number}</ClientNumber><EmployerCode>EMP001</EmployerCode><FirstName>Sipho</FirstName><Surname>Ndlovu</Surname><IdType>SA_ID</IdType><IdNumber>{id}</IdNumber><DateOfBirth>1979-01-01</DateOfBirth><Gender>M</Gender></AddClient>"#
        ),
    )
}

/// Writes a case and its snapshot as the fixture harness would (run in-process on a
/// fresh store with the fixtures' base data).
fn write_case(dir: &Path, setup: &[String], request: &str) {
    std::fs::create_dir_all(dir.join("setup")).unwrap();
    for (i, step) in setup.iter().enumerate() {
        std::fs::write(dir.join(format!("setup/{:02}.xml", i + 1)), step).unwrap();
    }
    std::fs::write(dir.join("request.xml"), request).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rendered = runtime.block_on(async {
        let service = TestService::new().await;
        let base = common::manifest_dir().join("fixtures/base.sql");
        service
            .execute_sql(&std::fs::read_to_string(base).unwrap())
            .await;
        for step in setup {
            service.post(step).await;
        }
        let before = service.store_digest().await;
        let response = service.post(request).await;
        let after = service.store_digest().await;
        format!(
            "---\nsource: tests/replay.rs\n---\nHTTP {}\ncontent-type: {}\nstore: {}\n\n{}",
            response.status,
            response.content_type,
            describe_store_change(&before, &after).replace('\n', "\n       "),
            response.body
        )
    });
    std::fs::write(dir.join("response.snap"), rendered).unwrap();
}

#[test]
fn setup_steps_skips_and_failing_setups() {
    let tmp = TempDir::new("replay-setup");
    let server = seeded_server(&tmp);
    // Make the live store's generated numbers differ from a fresh store's.
    let fixtures = common::manifest_dir().join("fixtures");
    let warm = replay(&fixtures.join("add_client"), &server);
    assert!(warm.status.success(), "{}", stdout(&warm));

    let root: PathBuf = tmp.join("cases");
    std::fs::copy(fixtures.join("base.sql"), tmp.join("base.sql")).unwrap();
    // A case whose request reads what its setup step created: the AllpsClientNumber is
    // AC00000003 on a fresh store and something else on the live one.
    write_case(
        &root.join("get_client/after_setup"),
        &[add_client("C3001", "7901015001086")],
        &envelope(
            AUTH,
            r#"<GetClient xmlns="urn:allps:ws:v1"><ClientNumber>C3001</ClientNumber></GetClient>"#,
        ),
    );
    let snap = std::fs::read_to_string(root.join("get_client/after_setup/response.snap")).unwrap();
    assert!(
        snap.contains("<AllpsClientNumber>AC00000003</AllpsClientNumber>"),
        "{snap}"
    );
    // A case whose setup step is refused.
    write_case(
        &root.join("get_client/setup_refused"),
        &[add_client("C3002", "7901015002085")],
        &envelope(
            AUTH,
            r#"<GetClient xmlns="urn:allps:ws:v1"><ClientNumber>C3002</ClientNumber></GetClient>"#,
        ),
    );
    // A case that needs the store: skipped.
    write_case(
        &root.join("get_client/seeded"),
        &[],
        &envelope(
            AUTH,
            r#"<GetClient xmlns="urn:allps:ws:v1"><ClientNumber>C1001</ClientNumber></GetClient>"#,
        ),
    );
    std::fs::write(root.join("get_client/seeded/seed.sql"), "SELECT 1;").unwrap();
    // A case that needs a shared seed (fixtures/seeds/): skipped too.
    write_case(
        &root.join("get_client/shared_seed"),
        &[],
        &envelope(
            AUTH,
            r#"<GetClient xmlns="urn:allps:ws:v1"><ClientNumber>C1001</ClientNumber></GetClient>"#,
        ),
    );
    std::fs::write(
        root.join("get_client/shared_seed/seeds.txt"),
        "payout_accounts\n",
    )
    .unwrap();

    let output = replay(&root, &server);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("ok       get_client/after_setup\n"), "{out}");
    assert!(
        out.contains(
            "ERROR    get_client/setup_refused: setup step 01.xml failed: HTTP 200, Result Code 1"
        ),
        "{out}"
    );
    assert!(
        out.contains("skipped  get_client/seeded (needs seed.sql)\n"),
        "{out}"
    );
    assert!(
        out.contains("skipped  get_client/shared_seed (needs seeds.txt)\n"),
        "{out}"
    );
    assert!(
        out.ends_with("replay: 1 passed, 1 failed, 2 skipped\n"),
        "{out}"
    );
}

#[test]
fn replay_refuses_a_bad_endpoint_or_an_empty_directory() {
    let tmp = TempDir::new("replay-usage");
    let out = run(
        &[
            "replay",
            tmp.0.to_str().unwrap(),
            "--endpoint",
            "http://127.0.0.1:9/allps",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("no fixture cases"), "{out:?}");
    let out = run(
        &[
            "replay",
            "fixtures",
            "--endpoint",
            "https://example.invalid/allps",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("only http://"), "{out:?}");
    // Nothing listens on the discard port: every case is a transport error.
    let case = common::manifest_dir().join("fixtures/get_client/ok");
    let out = run(
        &[
            "replay",
            case.to_str().unwrap(),
            "--endpoint",
            "http://127.0.0.1:9/allps",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("ERROR    "), "{}", stdout(&out));
    assert!(
        stdout(&out).ends_with("replay: 0 passed, 1 failed, 0 skipped (1 transport errors)\n"),
        "{}",
        stdout(&out)
    );
}

/// Every case under `dir` (a directory holding `request.xml`), `setup/` left out.
fn count_cases(dir: &Path) -> usize {
    let mut n = usize::from(dir.join("request.xml").is_file());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.ends_with("setup") {
            n += count_cases(&path);
        }
    }
    n
}

/// `replay --spawn` from an empty directory: sandboxes of its own, the bundled seeds and
/// clocks, every bundled case replayed and none skipped, a JUnit report with one test
/// case per fixture case.
#[test]
fn with_spawn_every_bundled_case_replays_from_anywhere() {
    let tmp = TempDir::new("replay-spawn");
    let fixtures = common::manifest_dir().join("fixtures");
    let output = std::process::Command::new(common::BIN)
        .current_dir(&tmp.0)
        .args(["replay", fixtures.to_str().unwrap(), "--spawn"])
        .args(["--junit", "report.xml"])
        .env_remove("ALLPS_ENDPOINT")
        .output()
        .unwrap();
    let out = stdout(&output);
    let total = count_cases(&fixtures);
    assert!(total > 300, "{total}");
    assert!(
        output.status.success(),
        "{out}\n{}",
        common::stderr(&output)
    );
    assert!(
        out.ends_with(&format!("replay: {total} passed, 0 failed, 0 skipped\n")),
        "{out}"
    );
    let report = std::fs::read_to_string(tmp.join("report.xml")).unwrap();
    let doc = roxmltree::Document::parse(&report).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), total);
    assert!(cases.iter().all(|c| !c.has_children()), "{report}");
    assert!(
        cases.iter().any(
            |c| c.attribute("classname") == Some("pay_to_client_account")
                && c.attribute("name") == Some("ok_after_cut_off_defaults_to_next_day")
        ),
        "a clock.txt case is in the report"
    );
}

/// A difference under --spawn is exit 1 and a JUnit failure whose text is the diff.
#[test]
fn a_difference_is_a_junit_failure_with_the_diff() {
    let tmp = TempDir::new("replay-junit");
    let case = tmp.join("cases/get_client/ok");
    copy_dir(
        &common::manifest_dir().join("fixtures/get_client/ok"),
        &case,
    );
    let snap = case.join("response.snap");
    let text = std::fs::read_to_string(&snap).unwrap();
    std::fs::write(
        &snap,
        text.replace(
            "<FirstName>Thabo</FirstName>",
            "<FirstName>Thabiso</FirstName>",
        ),
    )
    .unwrap();
    let report = tmp.join("report.xml");
    let output = run(
        &[
            "replay",
            tmp.join("cases").to_str().unwrap(),
            "--spawn",
            "--junit",
            report.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report = std::fs::read_to_string(report).unwrap();
    let doc = roxmltree::Document::parse(&report).unwrap();
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert_eq!(
        failure.parent().unwrap().attribute("name"),
        Some("ok"),
        "{report}"
    );
    assert_eq!(
        failure.text(),
        Some("/Envelope/Body/GetClientResponse/Client/FirstName: expected Thabiso, got Thabo"),
        "{report}"
    );
}
