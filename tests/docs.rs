//! Keeps the README honest: its fault-code and Result-code tables must equal the tables
//! rendered from `FaultCode::ALL` and `ResultCode::ALL`, and the WSDL's operations must
//! equal the server's operation table.

use allps_ws::domain::ResultCode;
use allps_ws::wire::fault::FaultCode;

fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let start_marker = format!("<!-- {name}:start -->\n");
    let end_marker = format!("<!-- {name}:end -->");
    let start = text
        .find(&start_marker)
        .unwrap_or_else(|| panic!("README lacks {start_marker}"))
        + start_marker.len();
    let end = text[start..]
        .find(&end_marker)
        .unwrap_or_else(|| panic!("README lacks {end_marker}"))
        + start;
    &text[start..end]
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md")
}

#[test]
fn readme_result_code_table_matches_the_code() {
    let expected = ResultCode::markdown_table();
    let readme = readme();
    assert_eq!(
        section(&readme, "result-codes"),
        expected,
        "README result-code table is stale; replace it with:\n{expected}"
    );
}

#[test]
fn readme_fault_code_table_matches_the_code() {
    let expected = FaultCode::markdown_table();
    let readme = readme();
    assert_eq!(
        section(&readme, "fault-codes"),
        expected,
        "README fault-code table is stale; replace it with:\n{expected}"
    );
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
