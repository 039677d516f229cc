//! `replay --junit FILE`: the JUnit XML report CI systems show natively. One `testsuite`
//! per top-level folder (an operation, `_auth`, `_envelope`, or the recording), one
//! `testcase` per fixture case; a difference or a failed case is a `failure` whose text is
//! the diff, a transport error an `error`, a skipped case `skipped` with its reason.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::{Outcome, Ran};

/// Escapes text for an XML attribute or element (and drops characters XML 1.0 forbids).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The report as text.
pub fn render(results: &[Ran], seconds: f64) -> String {
    let mut suites: BTreeMap<String, Vec<&Ran>> = BTreeMap::new();
    for ran in results {
        let name = ran.case.name.replace('\\', "/");
        let suite = match name.split_once('/') {
            Some((first, _)) => first.to_string(),
            None => "replay".to_string(),
        };
        suites.entry(suite).or_default().push(ran);
    }
    let count =
        |rans: &[&Ran], f: fn(&Outcome) -> bool| rans.iter().filter(|r| f(&r.outcome)).count();
    let failure = |o: &Outcome| matches!(o, Outcome::Diff(_) | Outcome::Error(_));
    let error = |o: &Outcome| matches!(o, Outcome::Transport(_));
    let skipped = |o: &Outcome| matches!(o, Outcome::Skipped(_));
    let all: Vec<&Ran> = results.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"allps-ws replay\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{seconds:.3}\">",
        all.len(),
        count(&all, failure),
        count(&all, error),
        count(&all, skipped)
    );
    for (suite, rans) in &suites {
        let time: f64 = rans.iter().map(|r| r.seconds).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\">",
            escape(suite),
            rans.len(),
            count(rans, failure),
            count(rans, error),
            count(rans, skipped)
        );
        for ran in rans {
            let name = ran.case.name.replace('\\', "/");
            let short = name.split_once('/').map_or(name.as_str(), |(_, rest)| rest);
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(suite),
                escape(short),
                ran.seconds
            );
            match &ran.outcome {
                Outcome::Ok => out.push_str("/>\n"),
                Outcome::Skipped(reason) => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(reason)
                    );
                }
                Outcome::Diff(lines) => {
                    let first = lines.first().map_or("", String::as_str);
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"difference\" message=\"{}\">{}</failure>\n    </testcase>",
                        escape(first),
                        escape(&lines.join("\n"))
                    );
                }
                Outcome::Error(reason) => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"case\" message=\"{0}\">{0}</failure>\n    </testcase>",
                        escape(reason)
                    );
                }
                Outcome::Transport(reason) => {
                    let _ = writeln!(
                        out,
                        ">\n      <error type=\"transport\" message=\"{0}\">{0}</error>\n    </testcase>",
                        escape(reason)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Writes the report to `path`.
///
/// # Errors
///
/// The file cannot be written.
pub fn write(path: &Path, results: &[Ran], seconds: f64) -> std::io::Result<()> {
    std::fs::write(path, render(results, seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::replay::case::Case;

    fn ran(name: &str, outcome: Outcome) -> Ran {
        Ran {
            case: Case {
                dir: name.into(),
                name: name.into(),
                skip: None,
            },
            outcome,
            seconds: 0.5,
        }
    }

    #[test]
    fn one_testcase_per_case_with_the_diff_as_failure_text() {
        let xml = render(
            &[
                ran("add_client/ok", Outcome::Ok),
                ran(
                    "add_client/bad",
                    Outcome::Diff(vec![
                        "/Envelope/Code: expected 0, got <1>".into(),
                        "x".into(),
                    ]),
                ),
                ran("login/down", Outcome::Transport("refused".into())),
                ran("login/skip", Outcome::Skipped("why & how".into())),
            ],
            2.0,
        );
        assert!(xml.contains("<testsuites name=\"allps-ws replay\" tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""), "{xml}");
        assert!(
            xml.contains("<testcase classname=\"add_client\" name=\"ok\" time=\"0.500\"/>"),
            "{xml}"
        );
        assert!(xml.contains("<failure type=\"difference\" message=\"/Envelope/Code: expected 0, got &lt;1&gt;\">/Envelope/Code: expected 0, got &lt;1&gt;\nx</failure>"), "{xml}");
        assert!(
            xml.contains("<error type=\"transport\" message=\"refused\">refused</error>"),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"why &amp; how\"/>"),
            "{xml}"
        );
    }
}
