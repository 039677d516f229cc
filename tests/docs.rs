//! Keeps the documentation honest: the fault-code and Result-code tables in
//! `docs/codes.md` must equal the tables rendered from `FaultCode::ALL` and
//! `ResultCode::ALL`, the WSDL's operations must equal the server's operation table, and
//! every document the README's map links to must exist (and every `docs/*.md` be linked),
//! and ARCHITECTURE.md must say why each dependency in Cargo.toml is there.

use std::path::Path;

use allps_ws::domain::ResultCode;
use allps_ws::wire::fault::FaultCode;

fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let start_marker = format!("<!-- {name}:start -->\n");
    let end_marker = format!("<!-- {name}:end -->");
    let start = text
        .find(&start_marker)
        .unwrap_or_else(|| panic!("docs/codes.md lacks {start_marker}"))
        + start_marker.len();
    let end = text[start..]
        .find(&end_marker)
        .unwrap_or_else(|| panic!("docs/codes.md lacks {end_marker}"))
        + start;
    &text[start..end]
}

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn result_code_table_matches_the_code() {
    let expected = ResultCode::markdown_table();
    assert_eq!(
        section(&read("docs/codes.md"), "result-codes"),
        expected,
        "docs/codes.md's result-code table is stale; replace it with:\n{expected}"
    );
}

#[test]
fn fault_code_table_matches_the_code() {
    let expected = FaultCode::markdown_table();
    assert_eq!(
        section(&read("docs/codes.md"), "fault-codes"),
        expected,
        "docs/codes.md's fault-code table is stale; replace it with:\n{expected}"
    );
}

#[test]
fn the_readme_maps_every_document() {
    let readme = read("README.md");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let mut documents: Vec<String> = std::fs::read_dir(&dir)
        .expect("docs/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .collect();
    documents.sort();
    assert!(!documents.is_empty());
    for name in &documents {
        let link = format!("](docs/{name})");
        assert!(
            readme.contains(&link),
            "README.md does not link docs/{name}"
        );
    }
    for (at, _) in readme.match_indices("](") {
        let target = &readme[at + 2..];
        let target = &target[..target.find(')').expect("link closes")];
        if target.starts_with("http") {
            continue;
        }
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(target).exists(),
            "README.md links to missing {target}"
        );
    }
}

#[test]
fn wsdl_operations_equal_the_operation_table() {
    let wsdl = allps_ws::app::WSDL;
    let doc = roxmltree::Document::parse(wsdl).expect("the WSDL is XML");
    let wsdl_ns = "http://schemas.xmlsoap.org/wsdl/";
    let port_type = doc
        .descendants()
        .find(|n| n.has_tag_name((wsdl_ns, "portType")))
        .expect("portType");
    let mut in_wsdl: Vec<&str> = port_type
        .children()
        .filter(|n| n.has_tag_name((wsdl_ns, "operation")))
        .map(|n| n.attribute("name").expect("operation name"))
        .collect();
    let mut in_code: Vec<&str> = allps_ws::ops::OPERATIONS.to_vec();
    in_wsdl.sort_unstable();
    in_code.sort_unstable();
    assert_eq!(in_wsdl, in_code);
    for binding in doc
        .descendants()
        .filter(|n| n.has_tag_name((wsdl_ns, "binding")))
    {
        let mut ops: Vec<&str> = binding
            .children()
            .filter(|n| n.has_tag_name((wsdl_ns, "operation")))
            .map(|n| n.attribute("name").expect("operation name"))
            .collect();
        ops.sort_unstable();
        assert_eq!(ops, in_code, "binding {:?}", binding.attribute("name"));
    }
}

#[test]
fn architecture_explains_every_dependency() {
    let manifest = read("Cargo.toml");
    let architecture = read("ARCHITECTURE.md");
    let start = architecture
        .find("## Dependencies and why")
        .expect("ARCHITECTURE.md has a Dependencies section");
    let section = &architecture[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut in_dependencies = false;
    let mut missing = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]" || line == "[dev-dependencies]";
            continue;
        }
        if !in_dependencies || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split(['=', ' ']).next().unwrap_or("").trim();
        let named = section
            .lines()
            .filter(|l| l.starts_with("| "))
            .filter_map(|l| l.split('|').nth(1))
            .any(|cell| cell.split([',', ' ']).any(|word| word == name));
        if !named {
            missing.push(name.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's Dependencies table does not explain: {}",
        missing.join(", ")
    );
}
