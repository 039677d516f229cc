//! One structured log line per request, with what an operator needs and nothing a
//! caller would not want written down.
//!
//! The real binary runs with `--log-format json`; a handful of requests (a wrong
//! password, an unknown user, a Login, AddEmployer, AddClient with an SA ID number,
//! GetClient by session, a schema fault, an oversized body, the WSDL, a 404) are sent,
//! the server is stopped, and its stderr is read back: every request has exactly one
//! `request` line carrying request id, operation, organisation, branch, user, result
//! or fault, status and duration; no password, SessionId or full ID number appears.

mod net;

use std::time::Duration;

use net::*;
use serde_json::Value;

const WRONG_PASSWORD: &str = "Wr0ng-S3cret-pw";
const STRAY_PASSWORD: &str = "Typed-1nto-UserName";
const ID_NUMBER: &str = "9007230124089";

fn login(user: &str, password: &str) -> String {
    format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><Login xmlns=\"urn:allps:ws:v1\"><UserName>{user}</UserName><Password>{password}</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></Login></soap:Body></soap:Envelope>"
    )
}

fn by_session(session: &str, body: &str) -> String {
    format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header><AuthHeader xmlns=\"urn:allps:ws:v1\"><SessionId>{session}</SessionId></AuthHeader></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

#[test]
fn one_masked_structured_line_per_request() {
    let dir = temp_dir("observability");
    let db = dir.join("allps.db");
    let mut server = Proc::start(
        &db,
        &["--log-format", "json", "--log-level", "info,allps_ws=debug"],
    );
    let addr = server.addr;

    // 1. A known user with a wrong password.
    let r = request(addr, &post(&login("demo", WRONG_PASSWORD)));
    assert_eq!(r.fault_code().as_deref(), Some("AUTH_FAILED"));
    // 2. A user name that matches no user (here: a password typed into the wrong box).
    let r = request(addr, &post(&login(STRAY_PASSWORD, "x")));
    assert_eq!(r.fault_code().as_deref(), Some("AUTH_FAILED"));
    // 3. A good Login.
    let r = request(addr, &post(&login("demo", "demo-password")));
    assert!(r.is_ok(), "{}", r.text());
    let session = r.leaf("SessionId").expect("SessionId");
    // 4. AddEmployer, 5. AddClient with an SA ID number.
    assert!(request(addr, &post(&add_employer("EMP1"))).is_ok());
    let add = envelope(&format!(
        "<AddClient xmlns=\"urn:allps:ws:v1\"><ClientNumber>C1002</ClientNumber><EmployerCode>EMP1</EmployerCode><FirstName>Naledi</FirstName><Surname>Khumalo</Surname><IdType>SA_ID</IdType><IdNumber>{ID_NUMBER}</IdNumber><DateOfBirth>1990-07-23</DateOfBirth><Gender>F</Gender><CellphoneNumber>082 555 0101</CellphoneNumber></AddClient>"
    ));
    let r = request(addr, &post(&add));
    assert!(r.is_ok(), "{}", r.text());
    // 6. GetClient by session.
    let r = request(
        addr,
        &post(&by_session(
            &session,
            "<GetClient xmlns=\"urn:allps:ws:v1\"><ClientNumber>C1002</ClientNumber></GetClient>",
        )),
    );
    assert!(r.is_ok(), "{}", r.text());
    // 7. A schema fault, credentials in the header.
    let r = request(
        addr,
        &post(&envelope(
            "<GetClient xmlns=\"urn:allps:ws:v1\"><Nope/></GetClient>",
        )),
    );
    assert_eq!(r.fault_code().as_deref(), Some("SCHEMA_VIOLATION"));
    // 8. Too large, 9. the WSDL, 10. not found.
    let r = request(addr, &post_with(&vec![b' '; 4 * 1024 * 1024 + 1], &[]));
    assert_eq!(r.status, 413);
    assert_eq!(
        request(addr, b"GET /allps?wsdl HTTP/1.1\r\nHost: x\r\n\r\n").status,
        200
    );
    assert_eq!(
        request(addr, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n").status,
        404
    );

    server.signal("TERM");
    assert!(server.wait_exit(Duration::from_secs(15)).success());
    let stderr = server.stderr_after_exit();

    let lines: Vec<Value> = stderr
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let requests: Vec<&Value> = lines.iter().filter(|v| v["message"] == "request").collect();
    assert_eq!(requests.len(), 10, "{requests:#?}");
    let mut ids: Vec<u64> = requests
        .iter()
        .map(|v| v["request_id"].as_u64().expect("request_id"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "request ids are unique");
    for line in &requests {
        assert!(line["duration_us"].is_u64(), "{line}");
        assert!(line["status"].is_u64(), "{line}");
        assert_eq!(line["level"], "INFO");
        match line["outcome"].as_str() {
            Some("result") => {
                assert!(line["result"].is_u64() && line["result_name"].is_string());
            }
            Some("fault") => assert!(line["fault"].is_string(), "{line}"),
            Some("http") => assert!(line["path"].is_string(), "{line}"),
            other => panic!("outcome {other:?}: {line}"),
        }
        if line["outcome"] != "http" {
            for field in ["soap", "op", "org", "branch", "user"] {
                assert!(line[field].is_string(), "{field} missing: {line}");
            }
        }
    }
    let who = |v: &Value| {
        (
            v["op"].as_str().unwrap().to_string(),
            v["org"].as_str().unwrap().to_string(),
            v["branch"].as_str().unwrap().to_string(),
            v["user"].as_str().unwrap().to_string(),
        )
    };
    let soap: Vec<&&Value> = requests.iter().filter(|v| v["outcome"] != "http").collect();
    let s = |op: &str, user: &str| {
        (
            op.to_string(),
            "DEMO".to_string(),
            "BR001".to_string(),
            user.to_string(),
        )
    };
    // The wrong password names the (existing) user; the stray name is never written.
    assert_eq!(who(soap[0]), s("Login", "demo"));
    assert_eq!(soap[0]["fault"], "AUTH_FAILED");
    assert_eq!(soap[0]["status"], 500);
    // An unknown user: nothing claimed is known to exist, so nothing claimed is logged
    // (the organisation or branch could be a password typed into the wrong field).
    assert_eq!(
        who(soap[1]),
        (
            "Login".to_string(),
            "?".to_string(),
            "?".to_string(),
            "?".to_string()
        )
    );
    assert_eq!(soap[1]["fault"], "AUTH_FAILED");
    assert_eq!(who(soap[2]), s("Login", "demo"));
    assert_eq!(soap[2]["result"], 0);
    assert_eq!(who(soap[3]), s("AddEmployer", "demo"));
    assert_eq!(who(soap[4]), s("AddClient", "demo"));
    assert_eq!(soap[4]["result_name"], "OK");
    assert_eq!(who(soap[5]), s("GetClient", "demo"));
    // A fault before authentication: the claimed codes are not known to exist (they
    // could be a password typed into OrgCode), so they are logged as `?`.
    assert_eq!(
        who(soap[6]),
        (
            "GetClient".to_string(),
            "?".to_string(),
            "?".to_string(),
            "-".to_string()
        )
    );
    assert_eq!(soap[6]["fault"], "SCHEMA_VIOLATION");
    assert_eq!(soap[7]["fault"], "LIMIT_BODY_SIZE");
    assert_eq!(soap[7]["status"], 413);
    let http: Vec<&&Value> = requests.iter().filter(|v| v["outcome"] == "http").collect();
    assert_eq!(
        http.iter()
            .map(|v| (v["path"].as_str().unwrap(), v["status"].as_u64().unwrap()))
            .collect::<Vec<_>>(),
        [("/allps", 200), ("/nothing", 404)]
    );

    // Masked, or absent.
    let everything = stderr.join("\n");
    for secret in [WRONG_PASSWORD, STRAY_PASSWORD, ID_NUMBER, session.as_str()] {
        assert!(!everything.contains(secret), "{secret} was logged");
    }
    let banner: Vec<&String> = stderr
        .iter()
        .filter(|l| l.contains("demo-password"))
        .collect();
    assert!(
        banner.len() == 1 && banner[0].starts_with("demo: "),
        "the demo password appears outside the start-up banner: {banner:?}"
    );
    let added = lines
        .iter()
        .find(|v| v["message"] == "client added")
        .expect("the debug line for AddClient");
    assert_eq!(added["id_number"], "*********4089");
    let _ = std::fs::remove_dir_all(&dir);
}
