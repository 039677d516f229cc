//! README.md's configuration table names every `serve` flag and its environment
//! variable (the code tables are checked by tests/docs.rs).

use std::path::PathBuf;

use clap::CommandFactory;

fn readme_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md")
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
