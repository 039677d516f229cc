//! Build script: embeds the fixtures' shared seeds (`fixtures/seeds/*.sql`) as a table in
//! the binary (`$OUT_DIR/fixture_seeds.rs`), so that `replay` and `admin seed-fixtures`
//! work from any directory. `fixtures/base.sql` is embedded with `include_str!` directly.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("seeds");
    println!("cargo:rerun-if-changed={}", seeds.display());
    let mut names: Vec<(String, String)> = std::fs::read_dir(&seeds)
        .expect("fixtures/seeds")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| {
            println!("cargo:rerun-if-changed={}", p.display());
            let name = p.file_stem().expect("name").to_string_lossy().into_owned();
            (name, p.display().to_string())
        })
        .collect();
    names.sort();
    let mut out = String::from(
        "/// The shared seeds `fixtures/seeds/<name>.sql`, by name, in name order.\n\
         pub const SHARED_SEEDS: &[(&str, &str)] = &[\n",
    );
    for (name, path) in names {
        writeln!(out, "    ({name:?}, include_str!({path:?})),").expect("write");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("fixture_seeds.rs");
    std::fs::write(dest, out).expect("writing fixture_seeds.rs");
}
