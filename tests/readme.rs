//! README.md stays true to the code:
//!
//! - the result-code and fault-code tables between their `<!-- ...:begin -->` and
//!   `<!-- ...:end -->` markers are exactly what `ResultCode::ALL` and `FaultCode::ALL`
//!   render (numbers and names are API);
//! - every `serve` flag and its environment variable appear in the configuration table;
//! - every operation of the WSDL appears in the operations table.
//!
//! After adding a code: `ALLPS_UPDATE_README=1 cargo test --test readme` rewrites both
//! tables in place; review the diff.

use std::path::PathBuf;

use allps_ws::domain::ResultCode;
use allps_ws::error::FaultCode;
use allps_ws::ops::OPERATIONS;
use allps_ws::soap::SoapVersion;
use clap::CommandFactory;

fn readme_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md")
}

fn fault_table() -> String {
    let mut out = String::from(
        "| Code | SOAP 1.1 faultcode | SOAP 1.2 Code | HTTP (1.1 / 1.2) | Meaning |\n|---|---|---|---|---|\n",
    );
    for &code in FaultCode::ALL {
        let (v11, v12) = match code {
            FaultCode::VersionMismatch => ("soap:VersionMismatch", "soap:VersionMismatch"),
            FaultCode::MustUnderstand => ("soap:MustUnderstand", "soap:MustUnderstand"),
            c if c.is_server_side() => ("soap:Server", "soap:Receiver"),
            _ => ("soap:Client", "soap:Sender"),
        };
        out.push_str(&format!(
            "| `{}` | `{v11}` | `{v12}` | {} / {} | {} |\n",
            code.as_str(),
            SoapVersion::V11.fault_status(code),
            SoapVersion::V12.fault_status(code),
            code.meaning()
        ));
    }
    out
}

/// The text between `<!-- name:begin -->\n` and `<!-- name:end -->`.
fn section<'a>(readme: &'a str, name: &str) -> Option<(usize, usize, &'a str)> {
    let begin = format!("<!-- {name}:begin -->\n");
    let end = format!("<!-- {name}:end -->");
    let start = readme.find(&begin)? + begin.len();
    let stop = start + readme[start..].find(&end)?;
    Some((start, stop, &readme[start..stop]))
}

#[test]
fn code_tables_match_the_code() {
    let path = readme_path();
    let mut readme = std::fs::read_to_string(&path).expect("README.md");
    let tables = [
        ("result-codes", ResultCode::markdown_table()),
        ("fault-codes", fault_table()),
    ];
    let update = std::env::var_os("ALLPS_UPDATE_README").is_some();
    let mut stale = Vec::new();
    for (name, want) in &tables {
        let (start, stop, have) = section(&readme, name)
            .unwrap_or_else(|| panic!("README.md lacks the <!-- {name}:begin/end --> markers"));
        if have != want {
            if update {
                readme.replace_range(start..stop, want);
            } else {
                stale.push(format!("{name}: README.md should read\n{want}"));
            }
        }
    }
    if update {
        // write and rename, so the other tests never read a half-written README
        let tmp = path.with_extension("md.tmp");
        std::fs::write(&tmp, readme).expect("write README.md.tmp");
        std::fs::rename(&tmp, &path).expect("replace README.md");
    }
    assert!(
        stale.is_empty(),
        "stale README tables (ALLPS_UPDATE_README=1 cargo test --test readme rewrites them):\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_serve_flag_is_documented() {
    let readme = std::fs::read_to_string(readme_path()).expect("README.md");
    let cli = allps_ws::cli::Cli::command();
    let serve = cli.find_subcommand("serve").expect("serve subcommand");
    let mut missing = Vec::new();
    for arg in serve.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if long == "help" {
            continue;
        }
        let flag = format!("`--{long}`");
        if !readme.contains(&flag) {
            missing.push(flag);
        }
        if let Some(env) = arg.get_env() {
            let env = format!("`{}`", env.to_string_lossy());
            if !readme.contains(&env) {
                missing.push(env);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's configuration table lacks: {}",
        missing.join(", ")
    );
}

#[test]
fn every_operation_is_in_the_operations_table() {
    let readme = std::fs::read_to_string(readme_path()).expect("README.md");
    for op in OPERATIONS {
        assert!(
            readme.contains(&format!("| `{op}` |")),
            "README.md's operations table lacks {op}"
        );
    }
}
