//! Renders the sample document to a PDF file, for eyeballing the layout.
//!
//! ```text
//! cargo run --example render_document -- /tmp/sample.pdf [ROWS]
//! pdftoppm -png -r 60 /tmp/sample.pdf /tmp/sample
//! ```

use std::process::ExitCode;

use allps_ws::documents::{render, sample_spec};
use time::macros::datetime;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: render_document OUTPUT.pdf [ROWS]");
        return ExitCode::from(2);
    };
    let rows = match args.next().map(|s| s.parse::<usize>()) {
        None => 12,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("ROWS must be a number: {e}");
            return ExitCode::from(2);
        }
    };
    let spec = sample_spec(datetime!(2026-03-02 09:30:00 +02:00), rows);
    let doc = match render(&spec) {
        Ok(doc) => doc,
        Err(e) => {
            eprintln!("render failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(&path, &doc.bytes) {
        eprintln!("cannot write {path}: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "{path}: {} bytes ({} base64), {} page(s), sha256 {}",
        doc.bytes.len(),
        doc.base64().len(),
        doc.page_count,
        doc.sha256_hex
    );
    ExitCode::SUCCESS
}
