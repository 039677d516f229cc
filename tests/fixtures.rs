//! Runs every fixture case, `fixtures/<operation>/<case>/request.xml`, against a fresh
//! in-memory service on the frozen fixture clock and snapshots the full response (status
//! line, content type, what changed in the store, body) next to it as `response.snap`.
//!
//! A case may also have `seeds.txt` (names of shared seeds, `fixtures/seeds/<name>.sql`,
//! run first, in order) and `seed.sql` (its own seed, run after them; see
//! `fixtures/README.md`), `setup/*.xml` (requests run first, in
//! name order, each of which must succeed), `headers.txt` (`Name: value` lines replacing
//! the default Content-Type) and `clock.txt` (an RFC 3339 instant to move the clock to).
//! `{{SESSION}}` in a request is replaced by the SessionId of a fresh `demo` Login.
//! `replay.skip` (first line: the reason) is read only by `allps-ws replay`, for a case
//! that cannot pass on one server whose store accumulates across cases.
//!
//! Update snapshots with `INSTA_UPDATE=always cargo test --test fixtures`; run one
//! operation with `INSTA_GLOB_FILTER='add_client/*'`.

use std::path::Path;

use allps_ws::testing::{TestService, case_seeds, describe_store_change};

fn read_optional(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

const LOGIN: &str = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Login xmlns="urn:allps:ws:v1"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></Login></soap:Body></soap:Envelope>"#;

fn session_id(body: &str) -> String {
    let start = body
        .find("<SessionId>")
        .expect("Login answered a SessionId")
        + "<SessionId>".len();
    let end = body[start..].find('<').expect("closing tag") + start;
    body[start..end].to_string()
}

async fn run_case(case: &Path, request_path: &Path) -> String {
    let service = TestService::new().await;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    service
        .execute_sql(
            &std::fs::read_to_string(fixtures.join("base.sql")).expect("fixtures/base.sql"),
        )
        .await;
    for sql in case_seeds(&fixtures, case).expect("the case's seeds") {
        service.execute_sql(&sql).await;
    }
    let setup_dir = case.join("setup");
    if setup_dir.is_dir() {
        let mut steps: Vec<_> = std::fs::read_dir(&setup_dir)
            .expect("setup dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "xml"))
            .collect();
        steps.sort();
        for step in steps {
            let body = std::fs::read_to_string(&step).expect("setup step");
            let response = service.post(&body).await;
            assert!(
                response.status == 200 && response.body.contains("<Code>0</Code>"),
                "setup step {} failed: {}",
                step.display(),
                response.body
            );
        }
    }
    if let Some(at) = read_optional(&case.join("clock.txt")) {
        let at = allps_ws::clock::parse_timestamp(at.trim()).expect("clock.txt is RFC 3339");
        service.clock.set(at);
    }
    let mut request = std::fs::read(request_path).expect("request.xml");
    if let Ok(text) = std::str::from_utf8(&request)
        && text.contains("{{SESSION}}")
    {
        let login = service.post(LOGIN).await;
        request = text
            .replace("{{SESSION}}", &session_id(&login.body))
            .into_bytes();
    }
    let before = service.store_digest().await;
    let response = match read_optional(&case.join("headers.txt")) {
        Some(text) => {
            let headers: Vec<(String, String)> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let (k, v) = l.split_once(':').expect("headers.txt: Name: value");
                    (k.trim().to_string(), v.trim().to_string())
                })
                .collect();
            let refs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            service.post_with(&refs, request.clone()).await
        }
        None => {
            let soap12 =
                String::from_utf8_lossy(&request).contains(allps_ws::wire::soap::SOAP12_NS);
            let content_type = if soap12 {
                "application/soap+xml; charset=utf-8"
            } else {
                "text/xml; charset=utf-8"
            };
            service
                .post_with(&[("Content-Type", content_type)], request.clone())
                .await
        }
    };
    let after = service.store_digest().await;
    // Every response is well-formed XML, whatever the request held.
    if response.content_type.contains("xml")
        && let Err(e) = roxmltree::Document::parse(&response.body)
    {
        panic!(
            "{}: the response is not well-formed XML: {e}\n{}",
            request_path.display(),
            response.body
        );
    }
    format!(
        "HTTP {}\ncontent-type: {}\nstore: {}\n\n{}",
        response.status,
        response.content_type,
        describe_store_change(&before, &after).replace('\n', "\n       "),
        response.body
    )
}

#[test]
fn fixtures() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    insta::glob!("../fixtures", "*/*/request.xml", |path| {
        let case = path.parent().expect("case dir");
        let rendered = runtime.block_on(run_case(case, path));
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(case);
        settings.set_prepend_module_to_snapshot(false);
        settings.remove_snapshot_suffix();
        settings.set_omit_expression(true);
        settings.add_filter(
            r"<SessionId>[0-9a-f]{32}</SessionId>",
            "<SessionId>[session-id]</SessionId>",
        );
        settings.bind(|| insta::assert_snapshot!("response", rendered));
    });
}

/// Seeds are shared, not copied: no case's `seed.sql` repeats another case's or a shared
/// seed byte for byte (put it in `fixtures/seeds/` and name it in `seeds.txt`), and every
/// shared seed is used.
#[test]
fn seeds_are_shared_not_copied() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut seen: std::collections::HashMap<String, std::path::PathBuf> = Default::default();
    let mut used = std::collections::HashSet::new();
    for entry in std::fs::read_dir(fixtures.join("seeds")).expect("fixtures/seeds") {
        let path = entry.expect("entry").path();
        seen.insert(std::fs::read_to_string(&path).expect("seed"), path);
    }
    let mut cases: Vec<_> = std::fs::read_dir(&fixtures)
        .expect("fixtures")
        .flat_map(|op| {
            std::fs::read_dir(op.expect("entry").path())
                .into_iter()
                .flatten()
        })
        .map(|case| case.expect("entry").path())
        .filter(|case| case.join("request.xml").exists())
        .collect();
    cases.sort();
    for case in cases {
        if let Some(list) = read_optional(&case.join("seeds.txt")) {
            used.extend(list.lines().map(|l| l.trim().to_string()));
        }
        let Some(sql) = read_optional(&case.join("seed.sql")) else {
            continue;
        };
        if let Some(first) = seen.insert(sql, case.join("seed.sql")) {
            panic!(
                "{} repeats {}: share it through fixtures/seeds/ and seeds.txt",
                case.display(),
                first.display()
            );
        }
    }
    for path in seen
        .values()
        .filter(|p| p.starts_with(fixtures.join("seeds")))
    {
        let name = path.file_stem().expect("stem").to_string_lossy();
        assert!(
            used.contains(name.as_ref()),
            "fixtures/seeds/{name}.sql is unused"
        );
    }
}
