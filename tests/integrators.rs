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
