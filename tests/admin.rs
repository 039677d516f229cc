//! `allps-ws admin` through the real binary on temporary databases: every command's
//! happy path and main refusals, and a live server that applies each change on its next
//! call.

mod common;

use common::{Server, TempDir, admin, fails, fault_code, ok, result_code, run, stdout};

const PASSWORD: &str = "correct-horse-battery";

fn org_and_branch(db: &std::path::Path) {
    ok(admin(
        db,
        &["org", "add", "DEMO", "--name", "Demo Lender"],
        None,
    ));
    ok(admin(
        db,
        &["branch", "add", "--org", "DEMO", "BR001", "--name", "Main"],
        None,
    ));
}

#[test]
fn organisations_and_branches() {
    let tmp = TempDir::new("admin-org");
    let db = tmp.join("allps.db");

    let err = fails(admin(&db, &["org", "list"], None), 1);
    assert!(err.starts_with("allps-ws: database "), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert!(!db.exists(), "a list must not create a database");

    let out = ok(admin(
        &db,
        &["org", "add", "DEMO", "--name", "Demo Lender"],
        None,
    ));
    assert_eq!(out, "organisation DEMO added\n");
    let err = fails(
        admin(&db, &["org", "add", "DEMO", "--name", "Again"], None),
        1,
    );
    assert_eq!(err, "allps-ws: organisation DEMO already exists\n");
    let err = fails(
        admin(&db, &["org", "add", "BAD CODE", "--name", "x"], None),
        1,
    );
    assert!(err.contains("organisation code must be"), "{err}");
    let err = fails(
        admin(&db, &["org", "add", "OTHER", "--name", "  "], None),
        1,
    );
    assert!(err.contains("--name must be"), "{err}");
    ok(admin(
        &db,
        &["org", "add", "OTHER", "--name", "Other Lender"],
        None,
    ));

    let out = ok(admin(&db, &["org", "list"], None));
    assert_eq!(
        out,
        "CODE   ENABLED  NAME\nDEMO   yes      Demo Lender\nOTHER  yes      Other Lender\n"
    );
    assert_eq!(
        ok(admin(&db, &["org", "disable", "OTHER"], None)),
        "organisation OTHER disabled\n"
    );
    assert!(ok(admin(&db, &["org", "list"], None)).contains("OTHER  no       Other Lender"));
    ok(admin(&db, &["org", "enable", "OTHER"], None));
    assert!(ok(admin(&db, &["org", "list"], None)).contains("OTHER  yes      Other Lender"));
    let err = fails(admin(&db, &["org", "enable", "NOPE"], None), 1);
    assert_eq!(err, "allps-ws: organisation NOPE not found\n");

    // The lender's details printed on documents: shown, recorded, partly changed, cleared.
    let out = ok(admin(&db, &["org", "details", "DEMO"], None));
    assert!(out.contains("NCR number      -"), "{out}");
    let out = ok(admin(
        &db,
        &[
            "org",
            "details",
            "DEMO",
            "--legal-name",
            "Demo Lender (Pty) Ltd",
            "--ncr-number",
            "NCRCP00000",
            "--address",
            "12 Main Road, Polokwane",
            "--statement-name",
            "DEMO LENDER",
        ],
        None,
    ));
    assert!(
        out.starts_with("organisation DEMO details recorded\n"),
        "{out}"
    );
    assert!(
        out.contains("legal name      Demo Lender (Pty) Ltd"),
        "{out}"
    );
    assert!(out.contains("statement name  DEMO LENDER"), "{out}");
    let out = ok(admin(
        &db,
        &[
            "org",
            "details",
            "DEMO",
            "--address",
            "",
            "--phone",
            "015 000 0000",
        ],
        None,
    ));
    assert!(out.contains("address         -"), "{out}");
    assert!(out.contains("phone           015 000 0000"), "{out}");
    assert!(out.contains("NCR number      NCRCP00000"), "{out}");
    let long = "X".repeat(31);
    let err = fails(
        admin(
            &db,
            &["org", "details", "DEMO", "--statement-name", &long],
            None,
        ),
        1,
    );
    assert!(err.contains("--statement-name must be at most 30"), "{err}");
    fails(admin(&db, &["org", "details", "NOPE"], None), 1);

    // Holidays declared at run time: added (nothing to move in an empty portfolio), listed,
    // and refused twice, on a statutory day, or with a bad date.
    let out = ok(admin(
        &db,
        &["holiday", "add", "2030-05-15", "By-election"],
        None,
    ));
    assert_eq!(
        out,
        "public holiday 2030-05-15 declared; 0 instalment(s) moved\n"
    );
    let out = ok(admin(&db, &["holiday", "list"], None));
    assert!(out.contains("2030-05-15  By-election"), "{out}");
    fails(
        admin(&db, &["holiday", "add", "2030-05-15", "Again"], None),
        1,
    );
    fails(
        admin(&db, &["holiday", "add", "2030-12-25", "Christmas"], None),
        1,
    );
    fails(admin(&db, &["holiday", "add", "15/05/2030", "X"], None), 1);

    let out = ok(admin(
        &db,
        &["branch", "add", "--org", "DEMO", "BR001", "--name", "Main"],
        None,
    ));
    assert_eq!(out, "branch DEMO/BR001 added\n");
    ok(admin(
        &db,
        &[
            "branch", "add", "--org", "DEMO", "BR002", "--name", "Second",
        ],
        None,
    ));
    let err = fails(
        admin(
            &db,
            &["branch", "add", "--org", "DEMO", "BR001", "--name", "x"],
            None,
        ),
        1,
    );
    assert_eq!(err, "allps-ws: branch DEMO/BR001 already exists\n");
    let err = fails(
        admin(
            &db,
            &["branch", "add", "--org", "NOPE", "BR001", "--name", "x"],
            None,
        ),
        1,
    );
    assert_eq!(err, "allps-ws: organisation NOPE not found\n");
    ok(admin(
        &db,
        &["branch", "disable", "--org", "DEMO", "BR002"],
        None,
    ));
    let out = ok(admin(&db, &["branch", "list", "--org", "DEMO"], None));
    assert_eq!(
        out,
        "CODE   ENABLED  NAME\nBR001  yes      Main\nBR002  no       Second\n"
    );
    ok(admin(
        &db,
        &["branch", "enable", "--org", "DEMO", "BR002"],
        None,
    ));
    let err = fails(
        admin(&db, &["branch", "disable", "--org", "DEMO", "BR404"], None),
        1,
    );
    assert_eq!(err, "allps-ws: branch DEMO/BR404 not found\n");
    // The same organisation's branches are independent of another's.
    assert_eq!(
        ok(admin(&db, &["branch", "list", "--org", "OTHER"], None)),
        "CODE  ENABLED  NAME\n"
    );

    // Usage errors are clap's: exit 2.
    fails(
        admin(&db, &["branch", "add", "BR003", "--name", "x"], None),
        2,
    );
    fails(admin(&db, &["org", "frobnicate"], None), 2);

    // ALLPS_DB stands for --db, and --db may follow the subcommand.
    let via_env = std::process::Command::new(common::BIN)
        .args(["admin", "org", "list"])
        .env("ALLPS_DB", &db)
        .output()
        .unwrap();
    assert!(stdout(&via_env).contains("DEMO"), "{via_env:?}");
    let after = run(
        &["admin", "org", "list", "--db", db.to_str().unwrap()],
        None,
    );
    assert!(ok(after).contains("DEMO"));
}

#[test]
fn users_passwords_rights_allocations_and_computers() {
    let tmp = TempDir::new("admin-user");
    let db = tmp.join("allps.db");
    org_and_branch(&db);

    // No password on the command line, no hanging on a non-terminal stdin.
    let err = fails(
        admin(&db, &["user", "add", "--org", "DEMO", "alice"], None),
        1,
    );
    assert!(err.contains("not a terminal"), "{err}");
    assert!(err.contains("--password-stdin"), "{err}");
    let err = fails(
        admin(
            &db,
            &["user", "add", "--org", "DEMO", "alice", "--password-stdin"],
            Some(""),
        ),
        1,
    );
    assert!(err.contains("standard input is empty"), "{err}");
    let err = fails(
        admin(
            &db,
            &["user", "add", "--org", "DEMO", "alice", "--password-stdin"],
            Some("short\n"),
        ),
        1,
    );
    assert_eq!(
        err,
        "allps-ws: the password is too short: use at least 10 characters\n"
    );
    fails(
        admin(
            &db,
            &["user", "add", "--org", "DEMO", "alice", "--password", "x"],
            None,
        ),
        2,
    );

    let out = ok(admin(
        &db,
        &[
            "user",
            "add",
            "--org",
            "DEMO",
            "alice",
            "--branch",
            "BR001",
            "--right",
            "WEB_SERVICES",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    ));
    assert_eq!(
        out,
        "user DEMO/alice added; branches BR001; rights WEB_SERVICES\n"
    );
    assert!(!out.contains(PASSWORD));
    let hash = stored_hash(&db, "alice");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(allps_ws::auth::verify_password(PASSWORD, &hash));

    // Refusals that need no password are made before one is read.
    let err = fails(
        admin(&db, &["user", "add", "--org", "DEMO", "alice"], None),
        1,
    );
    assert_eq!(err, "allps-ws: user DEMO/alice already exists\n");
    let err = fails(
        admin(&db, &["user", "add", "--org", "NOPE", "bob"], None),
        1,
    );
    assert_eq!(err, "allps-ws: organisation NOPE not found\n");
    let err = fails(
        admin(
            &db,
            &[
                "user",
                "add",
                "--org",
                "DEMO",
                "bob",
                "--branch",
                "BR404",
                "--password-stdin",
            ],
            Some(&format!("{PASSWORD}\n")),
        ),
        1,
    );
    assert_eq!(err, "allps-ws: branch DEMO/BR404 not found\n");
    assert!(
        !ok(admin(&db, &["user", "list", "--org", "DEMO"], None)).contains("bob"),
        "a refused command leaves nothing behind"
    );

    let out = ok(admin(&db, &["user", "list", "--org", "DEMO"], None));
    assert_eq!(
        out,
        "USER   ENABLED  LOCKED_UNTIL  FAILED  RIGHTS        BRANCHES  COMPUTERS\n\
         alice  yes      -             0       WEB_SERVICES  BR001     -\n"
    );

    // Passwords: stdin with CRLF, policy, unknown user.
    let out = ok(admin(
        &db,
        &[
            "user",
            "passwd",
            "--org",
            "DEMO",
            "alice",
            "--password-stdin",
        ],
        Some("another-good-password\r\n"),
    ));
    assert!(out.starts_with("password of DEMO/alice changed"), "{out}");
    assert!(allps_ws::auth::verify_password(
        "another-good-password",
        &stored_hash(&db, "alice")
    ));
    let err = fails(
        admin(
            &db,
            &[
                "user",
                "passwd",
                "--org",
                "DEMO",
                "alice",
                "--password-stdin",
            ],
            Some("alice\n"),
        ),
        1,
    );
    assert!(err.contains("too short"), "{err}");
    let err = fails(
        admin(
            &db,
            &[
                "user",
                "passwd",
                "--org",
                "DEMO",
                "nobody",
                "--password-stdin",
            ],
            Some(&format!("{PASSWORD}\n")),
        ),
        1,
    );
    assert_eq!(err, "allps-ws: user DEMO/nobody not found\n");

    // Enable, disable, unlock.
    assert_eq!(
        ok(admin(
            &db,
            &["user", "disable", "--org", "DEMO", "alice"],
            None
        )),
        "user DEMO/alice disabled; sessions ended\n"
    );
    assert!(ok(admin(&db, &["user", "list", "--org", "DEMO"], None)).contains("alice  no "));
    ok(admin(
        &db,
        &["user", "enable", "--org", "DEMO", "alice"],
        None,
    ));
    set_locked(&db, "alice");
    assert!(
        ok(admin(&db, &["user", "list", "--org", "DEMO"], None))
            .contains("2099-01-01T00:00:00Z  3")
    );
    assert_eq!(
        ok(admin(
            &db,
            &["user", "unlock", "--org", "DEMO", "alice"],
            None
        )),
        "user DEMO/alice unlocked\n"
    );
    assert!(
        ok(admin(&db, &["user", "list", "--org", "DEMO"], None)).contains("alice  yes      -  ")
    );
    let err = fails(
        admin(&db, &["user", "enable", "--org", "DEMO", "bob"], None),
        1,
    );
    assert_eq!(err, "allps-ws: user DEMO/bob not found\n");

    // Rights.
    assert_eq!(
        ok(admin(&db, &["right", "list"], None)),
        "CODE          DESCRIPTION\nWEB_SERVICES  Allow access to Allps web services\n"
    );
    let version = auth_version(&db, "alice");
    assert_eq!(
        ok(admin(
            &db,
            &["right", "revoke", "--org", "DEMO", "alice", "WEB_SERVICES"],
            None
        )),
        "right WEB_SERVICES revoked from DEMO/alice\n"
    );
    assert!(
        auth_version(&db, "alice") > version,
        "admin changes bump auth_version"
    );
    let err = fails(
        admin(
            &db,
            &["right", "revoke", "--org", "DEMO", "alice", "WEB_SERVICES"],
            None,
        ),
        1,
    );
    assert_eq!(
        err,
        "allps-ws: right WEB_SERVICES held by DEMO/alice not found\n"
    );
    let err = fails(
        admin(
            &db,
            &["right", "grant", "--org", "DEMO", "alice", "ROOT"],
            None,
        ),
        1,
    );
    assert_eq!(
        err,
        "allps-ws: right ROOT (known: WEB_SERVICES) not found\n"
    );
    ok(admin(
        &db,
        &["right", "grant", "--org", "DEMO", "alice", "WEB_SERVICES"],
        None,
    ));

    // Branch allocations.
    ok(admin(
        &db,
        &[
            "branch", "add", "--org", "DEMO", "BR002", "--name", "Second",
        ],
        None,
    ));
    assert_eq!(
        ok(admin(
            &db,
            &["user", "allocate", "--org", "DEMO", "alice", "BR002"],
            None
        )),
        "user DEMO/alice allocated to branch BR002\n"
    );
    assert!(ok(admin(&db, &["user", "list", "--org", "DEMO"], None)).contains("BR001,BR002"));
    let err = fails(
        admin(
            &db,
            &["user", "allocate", "--org", "DEMO", "alice", "BR404"],
            None,
        ),
        1,
    );
    assert_eq!(err, "allps-ws: branch DEMO/BR404 not found\n");
    ok(admin(
        &db,
        &["user", "deallocate", "--org", "DEMO", "alice", "BR002"],
        None,
    ));
    let err = fails(
        admin(
            &db,
            &["user", "deallocate", "--org", "DEMO", "alice", "BR002"],
            None,
        ),
        1,
    );
    assert_eq!(
        err,
        "allps-ws: allocation of DEMO/alice to branch BR002 not found\n"
    );

    // Computers.
    assert_eq!(
        ok(admin(
            &db,
            &["computer", "add", "--org", "DEMO", "alice", "LENDER-PC01"],
            None
        )),
        "user DEMO/alice bound to computer LENDER-PC01\n"
    );
    ok(admin(
        &db,
        &["computer", "add", "--org", "DEMO", "alice", "LENDER-PC02"],
        None,
    ));
    assert_eq!(
        ok(admin(&db, &["computer", "list", "--org", "DEMO"], None)),
        "USER   COMPUTER\nalice  LENDER-PC01\nalice  LENDER-PC02\n"
    );
    ok(admin(
        &db,
        &[
            "computer",
            "remove",
            "--org",
            "DEMO",
            "alice",
            "lender-pc02",
        ],
        None,
    ));
    let err = fails(
        admin(
            &db,
            &[
                "computer",
                "remove",
                "--org",
                "DEMO",
                "alice",
                "LENDER-PC02",
            ],
            None,
        ),
        1,
    );
    assert_eq!(
        err,
        "allps-ws: computer LENDER-PC02 bound to DEMO/alice not found\n"
    );
    let err = fails(
        admin(
            &db,
            &["computer", "add", "--org", "DEMO", "nobody", "PC"],
            None,
        ),
        1,
    );
    assert_eq!(err, "allps-ws: user DEMO/nobody not found\n");
    assert!(
        ok(admin(&db, &["user", "list", "--org", "DEMO"], None)).contains("BR001     LENDER-PC01")
    );
}

#[test]
fn help_is_there_at_every_level() {
    for args in [
        &["admin", "--help"][..],
        &["admin", "user", "--help"],
        &["admin", "user", "add", "--help"],
        &["admin", "computer", "add", "--help"],
        &["admin", "seed-fixtures", "--help"],
        &["replay", "--help"],
    ] {
        let out = ok(run(args, None));
        assert!(out.contains("Usage: allps-ws"), "{args:?}: {out}");
    }
    let top = ok(run(&["admin", "--help"], None));
    for noun in [
        "org",
        "branch",
        "user",
        "right",
        "computer",
        "seed-fixtures",
    ] {
        assert!(top.contains(noun), "{top}");
    }
    let add = ok(run(&["admin", "user", "add", "--help"], None));
    assert!(add.contains("--password-stdin"), "{add}");
    let replay = ok(run(&["replay", "--help"], None));
    assert!(replay.contains("Masking"), "{replay}");
}

#[test]
fn seed_fixtures_seeds_an_empty_database_once() {
    let tmp = TempDir::new("admin-seed");
    let db = tmp.join("allps.db");
    let fixtures = common::manifest_dir().join("fixtures");
    let fixtures = fixtures.to_str().unwrap();
    let out = ok(admin(&db, &["seed-fixtures", "--fixtures", fixtures], None));
    assert!(out.starts_with("seeded "), "{out}");
    let users = ok(admin(&db, &["user", "list", "--org", "DEMO"], None));
    for user in ["demo", "noright", "disabled", "bound", "nobranch", "locked"] {
        assert!(users.contains(&format!("\n{user} ")), "{users}");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let clients: i64 = conn
        .query_row("SELECT count(*) FROM clients", [], |r| r.get(0))
        .unwrap();
    assert_eq!(clients, 2, "base.sql ran");
    let err = fails(
        admin(&db, &["seed-fixtures", "--fixtures", fixtures], None),
        1,
    );
    assert!(err.contains("already has organisations"), "{err}");
    let err = fails(
        admin(
            &tmp.join("other.db"),
            &["seed-fixtures", "--fixtures", "/nonexistent"],
            None,
        ),
        1,
    );
    assert!(err.contains("/nonexistent/base.sql"), "{err}");
}

/// Without --fixtures, seed-fixtures uses the base.sql built into the binary: it works
/// from a directory with no fixtures/ in it and seeds the same data.
#[test]
fn seed_fixtures_needs_no_fixtures_directory() {
    let tmp = TempDir::new("admin-seed-anywhere");
    let out = std::process::Command::new(common::BIN)
        .current_dir(&tmp.0)
        .args(["admin", "--db", "replay.db", "seed-fixtures"])
        .env_remove("ALLPS_DB")
        .env_remove("ALLPS_FIXTURES")
        .output()
        .unwrap();
    let text = ok(out);
    assert!(text.contains("the bundled fixtures/base.sql"), "{text}");
    let conn = rusqlite::Connection::open(tmp.join("replay.db")).unwrap();
    let clients: i64 = conn
        .query_row("SELECT count(*) FROM clients", [], |r| r.get(0))
        .unwrap();
    assert_eq!(clients, 2, "the bundled base.sql ran");
}

fn stored_hash(db: &std::path::Path, user: &str) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT password_hash FROM users WHERE user_name = ?1",
        [user],
        |r| r.get(0),
    )
    .unwrap()
}

fn auth_version(db: &std::path::Path, user: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT auth_version FROM users WHERE user_name = ?1",
        [user],
        |r| r.get(0),
    )
    .unwrap()
}

fn set_locked(db: &std::path::Path, user: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "UPDATE users SET locked_until = '2099-01-01T00:00:00Z', failed_attempts = 3 WHERE user_name = ?1",
        [user],
    )
    .unwrap();
}

fn get_client(user: &str, password: &str, computer: &str) -> String {
    format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><AuthHeader xmlns="urn:allps:ws:v1"><UserName>{user}</UserName><Password>{password}</Password><ComputerName>{computer}</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader></soap:Header><soap:Body><GetClient xmlns="urn:allps:ws:v1"><ClientNumber>C404</ClientNumber></GetClient></soap:Body></soap:Envelope>"#
    )
}

fn add_employer(password: &str, code: &str) -> String {
    format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><AuthHeader xmlns="urn:allps:ws:v1"><UserName>demo</UserName><Password>{password}</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader></soap:Header><soap:Body><AddEmployer xmlns="urn:allps:ws:v1"><EmployerCode>{code}</EmployerCode><EmployerName>Acme Mining (Pty) Ltd</EmployerName><PayFrequency>MONTHLY</PayFrequency><PayDay>25</PayDay></AddEmployer></soap:Body></soap:Envelope>"#
    )
}

/// The call is authorised: a normal response (GetClient of an unknown client is a
/// Result code, not a fault).
#[track_caller]
fn assert_authorised(server: &Server, body: &str) {
    let (status, response) = server.post(body);
    assert_eq!(status, 200, "{response}");
    assert_eq!(fault_code(&response), None, "{response}");
    assert!(result_code(&response).is_some(), "{response}");
}

#[track_caller]
fn assert_fault(server: &Server, body: &str, code: &str) {
    let (status, response) = server.post(body);
    assert_eq!(status, 500, "{response}");
    assert_eq!(fault_code(&response).as_deref(), Some(code), "{response}");
}

#[test]
fn changes_apply_to_the_running_server_on_its_next_call() {
    let tmp = TempDir::new("admin-live");
    let db = tmp.join("allps.db");
    let server = Server::start(&db, &["--demo"]);
    let old = "demo-password";
    let call = |password: &str| get_client("demo", password, "LENDER-PC01");

    let (status, response) = server.post(&add_employer(old, "EMP100"));
    assert_eq!(status, 200, "{response}");
    assert_eq!(result_code(&response).as_deref(), Some("0"), "{response}");
    assert_authorised(&server, &call(old));

    // (a) disable, enable
    ok(admin(
        &db,
        &["user", "disable", "--org", "DEMO", "demo"],
        None,
    ));
    assert_fault(&server, &call(old), "USER_DISABLED");
    ok(admin(
        &db,
        &["user", "enable", "--org", "DEMO", "demo"],
        None,
    ));
    assert_authorised(&server, &call(old));

    // (b) a new password: the old one was verified and cached, and must stop working.
    let new = "a-brand-new-password";
    ok(admin(
        &db,
        &[
            "user",
            "passwd",
            "--org",
            "DEMO",
            "demo",
            "--password-stdin",
        ],
        Some(&format!("{new}\n")),
    ));
    assert_fault(&server, &call(old), "AUTH_FAILED");
    assert_authorised(&server, &call(new));
    let (status, response) = server.post(&add_employer(new, "EMP101"));
    assert_eq!(
        (status, result_code(&response).as_deref()),
        (200, Some("0"))
    );

    // (c) the right
    ok(admin(
        &db,
        &["right", "revoke", "--org", "DEMO", "demo", "WEB_SERVICES"],
        None,
    ));
    assert_fault(&server, &call(new), "RIGHT_MISSING");
    ok(admin(
        &db,
        &["right", "grant", "--org", "DEMO", "demo", "WEB_SERVICES"],
        None,
    ));
    assert_authorised(&server, &call(new));

    // (d) the branch allocation
    ok(admin(
        &db,
        &["user", "deallocate", "--org", "DEMO", "demo", "BR001"],
        None,
    ));
    assert_fault(&server, &call(new), "BRANCH_NOT_ALLOWED");
    ok(admin(
        &db,
        &["user", "allocate", "--org", "DEMO", "demo", "BR001"],
        None,
    ));
    assert_authorised(&server, &call(new));

    // (e) a computer binding
    assert_authorised(&server, &get_client("demo", new, "OTHER-PC"));
    ok(admin(
        &db,
        &["computer", "add", "--org", "DEMO", "demo", "LENDER-PC01"],
        None,
    ));
    assert_fault(
        &server,
        &get_client("demo", new, "OTHER-PC"),
        "COMPUTER_NOT_ALLOWED",
    );
    assert_authorised(&server, &get_client("demo", new, "lender-pc01"));

    // And a user added while the server runs can call at once.
    ok(admin(
        &db,
        &[
            "user",
            "add",
            "--org",
            "DEMO",
            "alice",
            "--branch",
            "BR001",
            "--right",
            "WEB_SERVICES",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    ));
    assert_authorised(&server, &get_client("alice", PASSWORD, "ANY-PC"));
}

#[test]
fn console_operators_and_the_audit_log() {
    let tmp = TempDir::new("admin-operator");
    let db = tmp.join("allps.db");
    org_and_branch(&db);
    let pw = format!("{PASSWORD}\n");
    let out = ok(admin(
        &db,
        &["operator", "add", "root", "--password-stdin"],
        Some(&pw),
    ));
    assert_eq!(out, "operator root added (platform operator)\n");
    let out = ok(admin(
        &db,
        &[
            "operator",
            "add",
            "boss",
            "--org",
            "DEMO",
            "--password-stdin",
        ],
        Some(&pw),
    ));
    assert_eq!(out, "operator boss added (administrator of DEMO)\n");
    let err = fails(
        admin(
            &db,
            &["operator", "add", "boss", "--password-stdin"],
            Some(&pw),
        ),
        1,
    );
    assert!(err.contains("operator boss already exists"), "{err}");
    let err = fails(
        admin(
            &db,
            &["operator", "add", "x", "--org", "NOPE", "--password-stdin"],
            Some(&pw),
        ),
        1,
    );
    assert!(err.contains("organisation NOPE not found"), "{err}");
    let err = fails(
        admin(
            &db,
            &["operator", "add", "weak", "--password-stdin"],
            Some("short\n"),
        ),
        1,
    );
    assert!(err.contains("too short"), "{err}");
    ok(admin(&db, &["operator", "disable", "boss"], None));
    let list = ok(admin(&db, &["operator", "list"], None));
    assert!(
        list.contains("boss") && list.contains("DEMO") && list.contains("no"),
        "{list}"
    );
    assert!(
        list.contains("root") && list.contains("(platform)"),
        "{list}"
    );

    // Every change above is in the audit log, newest first; lists and refusals are not.
    let mut direct =
        allps_ws::store::Direct::open(&db, std::time::Duration::from_secs(5)).expect("open");
    let entries = direct
        .immediate(|tx| allps_ws::store::operators::audit_page(tx, None, None, 50))
        .expect("store")
        .expect("audit");
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "operator.disable",
            "operator.add",
            "operator.add",
            "branch.add",
            "org.add"
        ]
    );
    assert!(
        entries
            .iter()
            .all(|e| e.peer == "cli" && e.actor.starts_with("cli:"))
    );
    assert_eq!(entries[2].detail, "root platform operator");
}
