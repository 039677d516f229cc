//! Every response and fault detail in the fixture snapshots must validate against the
//! schema embedded in the WSDL: element names, order (generated .NET clients are
//! order-sensitive), types, enumerations and occurrences. Uses `xmllint` (libxml2-utils)
//! and `tests/wsdl/wsdl_tool.py` to extract the schema; both are installed by tests/run.sh.

use std::path::{Path, PathBuf};
use std::process::Command;

fn snapshots(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            snapshots(&path, out);
        } else if path.file_name().is_some_and(|n| n == "response.snap") {
            out.push(path);
        }
    }
}

/// The payload element of a response body: the operation response or the fault detail.
fn payload(body: &str) -> Option<String> {
    if let Some(start) = body.find("<AllpsFault ") {
        let end = body.find("</AllpsFault>")? + "</AllpsFault>".len();
        return Some(body[start..end].to_string());
    }
    let start = body.find("<soap:Body>")? + "<soap:Body>".len();
    let end = body.rfind("</soap:Body>")?;
    let inner = body[start..end].trim();
    (!inner.is_empty()).then(|| inner.to_string())
}

#[test]
fn fixture_responses_validate_against_the_wsdl_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        Command::new("xmllint").arg("--version").output().is_ok(),
        "xmllint is missing: apt-get install -y libxml2-utils (tests/run.sh installs it)"
    );
    let work = std::env::temp_dir().join(format!("allps-schema-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("temp dir");
    let xsd = work.join("types.xsd");
    let status = Command::new("python3")
        .arg(root.join("tests/wsdl/wsdl_tool.py"))
        .arg("extract")
        .arg(root.join("wsdl/allps.wsdl"))
        .arg(&xsd)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "extracting the schema failed");

    let mut snaps = Vec::new();
    snapshots(&root.join("fixtures"), &mut snaps);
    snaps.sort();
    let mut files = Vec::new();
    for (i, snap) in snaps.iter().enumerate() {
        let text = std::fs::read_to_string(snap).expect("snapshot");
        if let Some(xml) = payload(&text) {
            let file = work.join(format!("{i:04}.xml"));
            std::fs::write(&file, xml).expect("write payload");
            files.push((file, snap.clone()));
        }
    }
    assert!(
        files.len() > 50,
        "expected the fixture responses, found {}",
        files.len()
    );
    let output = Command::new("xmllint")
        .arg("--nonet")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .args(files.iter().map(|(f, _)| f))
        .output()
        .expect("xmllint runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut failures = Vec::new();
    for line in stderr.lines() {
        if line.ends_with(" validates") {
            continue;
        }
        let named = files
            .iter()
            .find(|(f, _)| line.starts_with(&f.display().to_string()))
            .map(|(_, s)| s.display().to_string());
        failures.push(format!("{} :: {line}", named.unwrap_or_default()));
    }
    let _ = std::fs::remove_dir_all(&work);
    assert!(
        output.status.success() && failures.is_empty(),
        "responses that do not match the WSDL schema:\n{}",
        failures.join("\n")
    );
}
