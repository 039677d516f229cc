//! The layering, enforced: reads every `src/**/*.rs` and fails when
//!
//! - a module outside `src/store/` uses a database crate (`rusqlite`, ...);
//! - `src/domain/` uses the wire, the store, the operations, the engine, hyper or tokio;
//! - an operation (`src/ops/`) uses hyper;
//! - production code (anything but `src/testing.rs`) uses `crate::testing`;
//! - a layer below the operator console (`ops`, `engine`, `auth`, `wire`, `store`,
//!   `domain`, `server`, ...) uses `crate::console`: only `cli` starts it;
//! - modules import each other in a cycle, either between the top-level layers (`server`,
//!   `ops`, `wire`, `store`, ...) or between the files of one layer.
//!
//! Comments and `#[cfg(test)]` modules are not production code and are not checked. Each
//! check is a function over source text, and each has a test that plants a violation and
//! sees it caught.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One source file: its path relative to `src/` (with `/`) and its production text.
struct Source {
    path: String,
    text: String,
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("reading src/") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).expect("reading a source file");
            let path = file
                .strip_prefix(&src)
                .expect("under src/")
                .to_string_lossy()
                .replace('\\', "/");
            Source {
                path,
                text: production(&text),
            }
        })
        .collect()
}

/// The text without comment lines and without `#[cfg(test)] mod … { … }` blocks.
fn production(text: &str) -> String {
    let text: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let is_module = after.trim_start().starts_with("mod ");
        match (is_module, after.find('{')) {
            (true, Some(open)) => {
                let end = matching_brace(after, open).unwrap_or(after.len() - 1);
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// The index of the `}` that closes the `{` at `open`.
fn matching_brace(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether `text` uses `name` as a path root or crate (`name::`, `use name`).
fn uses_crate(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = &text[at + name.len()..];
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            && (after.starts_with("::") || after.starts_with(';') || after.starts_with(" as "))
    })
}

const DB_CRATES: &[&str] = &[
    "rusqlite",
    "libsqlite3_sys",
    "postgres",
    "tokio_postgres",
    "sqlx",
    "diesel",
    "r2d2",
];

/// The store's files that may name a database crate: the facade and the backends'
/// plumbing (opening, migrating, the writer and reader threads).
const BACKEND_FILES: &[&str] = &["store/mod.rs", "store/sql.rs"];

/// A database crate used outside `store/`, or by a store file other than the facade and
/// the backends' plumbing (query code goes through `store::sql`, whatever the backend).
fn check_database(path: &str, text: &str) -> Vec<String> {
    if BACKEND_FILES.contains(&path) {
        return Vec::new();
    }
    if path.starts_with("store/") {
        return DB_CRATES
            .iter()
            .filter(|c| uses_crate(text, c))
            .map(|c| {
                format!("src/{path} uses {c}: store queries go through store::sql, the backend-neutral facade")
            })
            .collect();
    }
    DB_CRATES
        .iter()
        .filter(|c| uses_crate(text, c))
        .map(|c| format!("src/{path} uses {c}: only src/store/ may reach the database"))
        .collect()
}

/// The domain using a layer above it or the runtime.
fn check_domain(path: &str, text: &str) -> Vec<String> {
    if !path.starts_with("domain/") {
        return Vec::new();
    }
    let mut found = Vec::new();
    for layer in ["wire", "server", "store", "ops", "engine"] {
        if text.contains(&format!("crate::{layer}")) || uses_in_group(text, layer) {
            found.push(format!(
                "src/{path} uses crate::{layer}: the domain is below it"
            ));
        }
    }
    for runtime in ["hyper", "tokio"] {
        if uses_crate(text, runtime) {
            found.push(format!("src/{path} uses {runtime}: the domain is pure"));
        }
    }
    found
}

/// `use crate::{…, layer, …}` / `use crate::{layer::…}`.
fn uses_in_group(text: &str, layer: &str) -> bool {
    paths(text)
        .iter()
        .any(|p| p.first().is_some_and(|s| s == "crate") && p.get(1).is_some_and(|s| s == layer))
}

/// An operation using hyper.
fn check_handler(path: &str, text: &str) -> Vec<String> {
    if path.starts_with("ops/") && uses_crate(text, "hyper") {
        vec![format!("src/{path} uses hyper: handlers never see HTTP")]
    } else {
        Vec::new()
    }
}

/// The layers the operator console (`src/console/`) sits above: it may use the store,
/// auth, the domain and the server's `/metrics`, and none of them may use it.
const BELOW_CONSOLE: &[&str] = &[
    "ops/",
    "engine/",
    "store/",
    "domain/",
    "wire/",
    "documents/",
    "server/",
    "auth.rs",
    "app.rs",
    "metrics.rs",
    "clock.rs",
];

/// A layer below the console using it.
fn check_console(path: &str, text: &str) -> Vec<String> {
    if BELOW_CONSOLE.iter().any(|p| path.starts_with(p))
        && (text.contains("crate::console") || uses_in_group(text, "console"))
    {
        vec![format!(
            "src/{path} uses crate::console: the console is a layer above it"
        )]
    } else {
        Vec::new()
    }
}

/// Production code using the test support.
fn check_testing(path: &str, text: &str) -> Vec<String> {
    if path != "testing.rs" && (text.contains("crate::testing") || uses_in_group(text, "testing")) {
        vec![format!(
            "src/{path} uses crate::testing: production code must not"
        )]
    } else {
        Vec::new()
    }
}

/// Every `crate::…` and `super::…` path in the text, `use` groups expanded, as segments.
fn paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for root in ["crate", "super", "self"] {
        for (at, _) in text.match_indices(&format!("{root}::")) {
            if text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            {
                continue;
            }
            expand(&text[at..], Vec::new(), &mut out);
        }
    }
    out
}

/// Reads one path (with `::{…}` groups) at the start of `text`, after `prefix`.
fn expand(text: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut segments = prefix;
    let mut rest = text;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            break;
        }
        rest = &rest[ident.len()..];
        segments.push(ident);
        if let Some(next) = rest.strip_prefix("::") {
            rest = next;
            if rest.starts_with('{') {
                let Some(close) = matching_brace(rest, 0) else {
                    break;
                };
                for item in split_top_level(&rest[1..close]) {
                    expand(item.trim(), segments.clone(), out);
                }
                return;
            }
        } else {
            break;
        }
    }
    if !segments.is_empty() {
        out.push(segments);
    }
}

/// Splits a `use` group's items at the commas outside nested braces.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
}

/// The module path of a file: `ops/add_client.rs` → `ops::add_client`, `ops/mod.rs` →
/// `ops`; `None` for the crate roots.
fn module_of(path: &str) -> Option<String> {
    let stem = path.strip_suffix(".rs")?;
    let mut parts: Vec<&str> = stem.split('/').collect();
    if parts.last() == Some(&"mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] || parts.is_empty() {
        return None;
    }
    Some(parts.join("::"))
}

/// Module → the modules it uses (the longest known prefix of each path it names).
fn import_graph(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    let mut graph = BTreeMap::new();
    for (path, text) in files {
        let Some(me) = module_of(path) else {
            continue;
        };
        let is_mod_rs = path.ends_with("mod.rs");
        let mut targets = BTreeSet::new();
        for segments in paths(text) {
            let mut absolute: Vec<String> = me.split("::").map(String::from).collect();
            // In `a/b.rs` (module a::b) `super` is `a`; in `a/b/mod.rs` too, one level up.
            let mut rest = segments.as_slice();
            match rest.first().map(String::as_str) {
                Some("crate") => {
                    absolute.clear();
                    rest = &rest[1..];
                }
                Some("self") => {
                    if !is_mod_rs {
                        absolute.pop();
                    }
                    rest = &rest[1..];
                }
                Some("super") => {
                    absolute.pop();
                    rest = &rest[1..];
                    while rest.first().is_some_and(|s| s == "super") {
                        absolute.pop();
                        rest = &rest[1..];
                    }
                }
                _ => continue,
            }
            absolute.extend(rest.iter().cloned());
            let target = (1..=absolute.len())
                .rev()
                .map(|n| absolute[..n].join("::"))
                .find(|m| modules.contains(m));
            if let Some(target) = target
                && target != me
                && !me.starts_with(&format!("{target}::"))
            {
                targets.insert(target);
            }
        }
        graph.insert(me, targets);
    }
    graph
}

/// The graph between top-level layers (`ops::add_client` → `ops`).
fn layer_graph(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let layer = |m: &str| m.split("::").next().unwrap_or(m).to_string();
    let mut layers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in graph {
        let entry = layers.entry(layer(from)).or_default();
        for to in targets {
            if layer(to) != layer(from) {
                entry.insert(layer(to));
            }
        }
    }
    layers
}

/// One cycle of the graph, as a path that returns to its start, if there is any.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_string(), Mark::Open);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

/// Import cycles between layers and between the files of the crate.
fn check_cycles(files: &[(String, String)]) -> Vec<String> {
    let graph = import_graph(files);
    let mut found = Vec::new();
    if let Some(cycle) = find_cycle(&layer_graph(&graph)) {
        found.push(format!("layers import each other: {}", cycle.join(" -> ")));
    }
    if let Some(cycle) = find_cycle(&graph) {
        found.push(format!("modules import each other: {}", cycle.join(" -> ")));
    }
    found
}

/// Every violation in a set of files (path relative to `src/`, production text).
fn violations(files: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in files {
        found.extend(check_database(path, text));
        found.extend(check_domain(path, text));
        found.extend(check_handler(path, text));
        found.extend(check_console(path, text));
        found.extend(check_testing(path, text));
    }
    found.extend(check_cycles(files));
    found
}

#[test]
fn the_sources_keep_the_layering() {
    let files: Vec<(String, String)> = sources().into_iter().map(|s| (s.path, s.text)).collect();
    assert!(files.len() > 50, "found only {} source files", files.len());
    let found = violations(&files);
    assert!(
        found.is_empty(),
        "layering violations:\n{}",
        found.join("\n")
    );
    // The graph is really read: the request's path is in it.
    let layers = layer_graph(&import_graph(&files));
    for (from, to) in [
        ("server", "ops"),
        ("ops", "wire"),
        ("ops", "store"),
        ("store", "domain"),
        ("console", "store"),
        ("console", "auth"),
        ("cli", "console"),
    ] {
        assert!(
            layers[from].contains(to),
            "{from} -> {to} not found: {layers:?}"
        );
    }
}

fn file(path: &str, text: &str) -> (String, String) {
    (path.to_string(), production(text))
}

#[test]
fn a_database_crate_outside_the_store_is_caught() {
    assert_eq!(
        check_database("ops/add_client.rs", "use rusqlite::params;\n").len(),
        1
    );
    assert_eq!(
        check_database("engine/processor.rs", "fn f(e: rusqlite::Error) {}").len(),
        1
    );
    // Inside the store only the facade and the backend plumbing name the crate.
    assert_eq!(
        check_database("store/clients.rs", "use rusqlite::params;").len(),
        1
    );
    assert!(check_database("store/clients.rs", "use crate::store::sql::params;").is_empty());
    assert!(check_database("store/sql.rs", "fn f(e: rusqlite::Error) {}").is_empty());
    assert!(check_database("store/sql.rs", "fn f(e: postgres::Error) {}").is_empty());
    assert_eq!(
        check_database("store/jobs.rs", "fn f(e: postgres::Error) {}").len(),
        1
    );
    // A URL in a string is not a use of the crate.
    assert!(check_database("cli/mod.rs", "let u = \"postgres://h/db\";").is_empty());
    // Words that merely contain the name, and comments, are not uses.
    assert!(check_database("ops/a.rs", "let my_rusqlite_note = 1;").is_empty());
    assert!(violations(&[file("ops/a.rs", "// rusqlite::Error is hidden\n")]).is_empty());
}

#[test]
fn the_domain_using_upper_layers_or_the_runtime_is_caught() {
    assert_eq!(
        check_domain("domain/cdv.rs", "use crate::store::Tx;").len(),
        1
    );
    assert_eq!(
        check_domain(
            "domain/cdv.rs",
            "use crate::{clock, wire::fault::FaultCode};"
        )
        .len(),
        1
    );
    assert_eq!(
        check_domain("domain/x.rs", "fn f() { tokio::spawn(async {}); }").len(),
        1
    );
    assert_eq!(check_domain("domain/x.rs", "use hyper::Request;").len(), 1);
    assert_eq!(
        check_domain("domain/x.rs", "use crate::engine::payouts::PayoutConfig;").len(),
        1
    );
    assert!(check_domain("domain/x.rs", "use crate::clock::SAST;").is_empty());
    assert!(check_domain("ops/x.rs", "use crate::store::Tx;").is_empty());
}

#[test]
fn a_handler_using_hyper_is_caught() {
    assert_eq!(
        check_handler("ops/get_client.rs", "use hyper::StatusCode;").len(),
        1
    );
    assert!(check_handler("server/http.rs", "use hyper::StatusCode;").is_empty());
}

#[test]
fn production_code_using_testing_is_caught() {
    assert_eq!(
        check_testing("cli/admin.rs", "crate::testing::seed_principals(tx, now)").len(),
        1
    );
    assert_eq!(
        check_testing(
            "cli/replay/mod.rs",
            "use crate::{store, testing::TestService};"
        )
        .len(),
        1
    );
    assert!(check_testing("testing.rs", "use crate::testing::X;").is_empty());
    // Tests inside a production file may use it.
    let with_tests = "fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::testing::TestService;\n    fn g() { if true { } }\n}\nfn h() {}\n";
    assert!(violations(&[file("ops/mod.rs", with_tests)]).is_empty());
    assert!(production(with_tests).contains("fn h()"));
}

#[test]
fn import_cycles_are_caught_between_files_and_between_layers() {
    // Today's shape, and the cycle fault ⇄ soap the layering test broke.
    let planted = [
        file("wire/mod.rs", "pub mod fault;\npub mod soap;\n"),
        file(
            "wire/fault.rs",
            "fn t() { crate::wire::soap::SoapVersion::V11; }",
        ),
        file(
            "wire/soap.rs",
            "use crate::wire::fault::{FaultCode, ServiceError};",
        ),
    ];
    let found = check_cycles(&planted);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("wire::fault") && found[0].contains("wire::soap"));
    // `super::` inside a layer counts too.
    let siblings = [
        file("ops/mod.rs", "mod a;\nmod b;\n"),
        file("ops/a.rs", "use super::b::B;"),
        file("ops/b.rs", "use super::{a::A, Ctx};"),
    ];
    assert_eq!(check_cycles(&siblings).len(), 1);
    // Two layers using each other through different files.
    let layers = [
        file("wire/mod.rs", "pub mod http;\npub mod xml;\n"),
        file("wire/http.rs", "use crate::ops::dispatch;"),
        file("wire/xml.rs", "pub struct Element;"),
        file("ops/mod.rs", "use crate::wire::xml::Element;"),
    ];
    let found = check_cycles(&layers);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("layers"));
    // One-way uses are fine.
    let fine = [
        file("server/mod.rs", "use crate::ops::dispatch;"),
        file("ops/mod.rs", "use crate::wire::xml::Element;"),
        file("wire/mod.rs", "pub mod xml;\n"),
        file("wire/xml.rs", "pub struct Element;"),
    ];
    assert!(check_cycles(&fine).is_empty());
}

#[test]
fn a_layer_below_the_console_using_it_is_caught() {
    assert_eq!(
        check_console("ops/get_client.rs", "use crate::console::Session;\n").len(),
        1
    );
    assert_eq!(
        check_console("store/admin.rs", "use crate::{console, store};\n").len(),
        1
    );
    assert!(check_console("cli/mod.rs", "use crate::console::Console;").is_empty());
    assert!(check_console("console/pages.rs", "use crate::console::view;").is_empty());
}
