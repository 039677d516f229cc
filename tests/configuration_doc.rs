//! docs/configuration.md's table names every `serve` flag and its environment variable
//! (the code tables and the README's map of the docs are checked by tests/docs.rs).

use std::path::PathBuf;

use clap::CommandFactory;

fn configuration_doc() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md")
}

#[test]
fn every_serve_flag_is_documented() {
    let doc = std::fs::read_to_string(configuration_doc()).expect("docs/configuration.md");
    let cli = allps_ws::cli::Cli::command();
    let serve = cli.find_subcommand("serve").expect("serve subcommand");
    let mut missing = Vec::new();
    for arg in serve.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if long == "help" {
            continue;
        }
        let flag = format!("`--{long}`");
        if !doc.contains(&flag) {
            missing.push(flag);
        }
        if let Some(env) = arg.get_env() {
            let env = format!("`{}`", env.to_string_lossy());
            if !doc.contains(&env) {
                missing.push(env);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/configuration.md's table lacks: {}",
        missing.join(", ")
    );
}
