//! Tests of the document renderer. The poppler-based ones (`pdftotext`,
//! `pdfinfo`) need `poppler-utils` installed and fail loudly without it.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use time::macros::datetime;

use super::*;

fn issued() -> OffsetDateTime {
    datetime!(2026-03-02 09:30:00 +02:00)
}

/// A file under the system temp dir, unique per process and call, removed
/// on drop.
struct TempPdf(PathBuf);

impl TempPdf {
    fn new(bytes: &[u8]) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "allps-ws-document-test-{}-{n}.pdf",
            std::process::id()
        ));
        std::fs::write(&path, bytes).expect("write temp PDF");
        Self(path)
    }
}

impl Drop for TempPdf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs a poppler tool on `bytes` (the file path is appended to `args`, then
/// `-` for tools writing text), returning stdout. Panics with install
/// instructions when the tool is missing, and on any error output.
fn poppler(tool: &str, args: &[&str], bytes: &[u8]) -> String {
    let file = TempPdf::new(bytes);
    let mut cmd = Command::new(tool);
    cmd.args(args).arg(&file.0);
    if tool == "pdftotext" {
        cmd.arg("-");
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!(
            "cannot run `{tool}` ({e}): these tests need poppler-utils \
             (apt-get install -y poppler-utils)"
        ),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{tool} failed: {stderr}");
    assert!(stderr.trim().is_empty(), "{tool} complained: {stderr}");
    String::from_utf8(out.stdout).expect("poppler output is UTF-8")
}

fn pdftotext(bytes: &[u8]) -> String {
    poppler("pdftotext", &["-layout", "-enc", "UTF-8"], bytes)
}

fn page_text(bytes: &[u8], page: usize) -> String {
    let p = page.to_string();
    poppler(
        "pdftotext",
        &["-layout", "-enc", "UTF-8", "-f", &p, "-l", &p],
        bytes,
    )
}

fn pdfinfo_pages(bytes: &[u8]) -> usize {
    let info = poppler("pdfinfo", &[], bytes);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in pdfinfo output:\n{info}"))
}

/// A word box from `pdftotext -bbox`: page index, xMin, yMin, xMax, yMax
/// (top-left origin, points) and the word.
#[derive(Debug)]
struct WordBox {
    page: usize,
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    word: String,
}

fn attr(tag: &str, name: &str) -> f32 {
    let key = format!("{name}=\"");
    let start = tag.find(&key).expect("attribute present") + key.len();
    let end = start + tag[start..].find('"').expect("closing quote");
    tag[start..end].parse().expect("numeric attribute")
}

fn word_boxes(bytes: &[u8]) -> Vec<WordBox> {
    let html = poppler("pdftotext", &["-bbox"], bytes);
    let mut page = 0;
    let mut boxes = Vec::new();
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            page += 1;
        } else if let Some(rest) = line.strip_prefix("<word ") {
            let (tag, tail) = rest.split_once('>').expect("word tag");
            let word = tail.trim_end_matches("</word>").to_owned();
            boxes.push(WordBox {
                page,
                x0: attr(tag, "xMin"),
                y0: attr(tag, "yMin"),
                x1: attr(tag, "xMax"),
                y1: attr(tag, "yMax"),
                word,
            });
        }
    }
    boxes
}

/// Every word lies within the horizontal margins and no two words on a
/// page overlap (allowing poppler's glyph-box slack).
fn assert_clean_layout(bytes: &[u8]) {
    let boxes = word_boxes(bytes);
    assert!(!boxes.is_empty());
    for b in &boxes {
        assert!(!b.word.is_empty());
        assert!(
            b.x0 >= 49.0 && b.x1 <= 595.28 - 49.0 && b.y0 >= 40.0 && b.y1 <= 841.89 - 25.0,
            "word outside the printable area: {b:?}"
        );
    }
    for (i, a) in boxes.iter().enumerate() {
        for b in boxes.iter().skip(i + 1).filter(|b| b.page == a.page) {
            let overlap_x = a.x1.min(b.x1) - a.x0.max(b.x0);
            let overlap_y = a.y1.min(b.y1) - a.y0.max(b.y0);
            assert!(
                overlap_x <= 0.5 || overlap_y <= 1.0,
                "overlapping words: {a:?} and {b:?}"
            );
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    let spec = sample_spec(issued(), 12);
    let a = render(&spec).expect("render");
    let b = render(&spec.clone()).expect("render again");
    assert_eq!(a, b);
    assert_eq!(a.sha256_hex, hex(&Sha256::digest(&a.bytes)));
    assert_eq!(a.sha256_hex.len(), 64);

    // Another issue instant changes the dates and therefore the /ID.
    let later = render(&sample_spec(issued() + time::Duration::seconds(1), 12)).expect("render");
    assert_ne!(a.bytes, later.bytes);

    let raw = String::from_utf8_lossy(&a.bytes);
    assert!(
        raw.contains("/CreationDate(D:20260302093000+02'00')"),
        "{raw}"
    );
    assert!(raw.contains("/ModDate(D:20260302093000+02'00')"));
    assert!(!raw.contains("/Metadata"), "no XMP metadata stream");
    let id_at = raw.find("/ID[<").expect("trailer /ID");
    let id = &raw[id_at + 5..id_at + 37];
    assert!(id.bytes().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert!(raw[id_at..].starts_with(&format!("/ID[<{id}><{id}>]")));
}

#[test]
fn document_metadata_and_base64() {
    use base64::Engine as _;
    let doc = render(&sample_spec(issued(), 12)).expect("render");
    assert_eq!(doc.content_type, "application/pdf");
    assert_eq!(doc.file_name, "promissory-note-PN100245.pdf");
    assert!(doc.bytes.starts_with(b"%PDF-"));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(doc.base64())
        .expect("valid base64");
    assert_eq!(decoded, doc.bytes);
}

#[test]
fn typical_document_is_small() {
    let doc = render(&sample_spec(issued(), 12)).expect("render");
    assert!(doc.bytes.len() < 40 * 1024, "{} bytes", doc.bytes.len());
    assert!(doc.base64().len() < 64 * 1024);
    // Even a long schedule stays far below the SOAP budget.
    let long = render(&sample_spec(issued(), 120)).expect("render");
    assert!(long.bytes.len() < 40 * 1024, "{} bytes", long.bytes.len());
}

#[test]
fn pdftotext_shows_content() {
    let doc = render(&sample_spec(issued(), 12)).expect("render");
    let text = pdftotext(&doc.bytes);
    for needle in [
        "Promissory Note and Debit Order Authority",
        "Contract reference PN100245 \u{2013} Employer",
        "INS-0007",
        "R 1 250.00",
        "Branch code",
        "470010",
        "Debtor: Thandiwe Nomsa Dlamini",
        "Witness 2",
        "Date:",
        "Fees: an initiation fee of R 165.00",
        "Allps-i debit order PN100245",
        "Page 1 of 2",
        "Page 2 of 2",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // Label and value of a key/value row stay on one line.
    assert!(
        text.lines()
            .any(|l| l.contains("Account number") && l.contains("1234567890")),
        "{text}"
    );
    assert_eq!(pdfinfo_pages(&doc.bytes), doc.page_count);
    assert_clean_layout(&doc.bytes);

    // Right-aligned amount cells share their right edge (the balance
    // column, further right, also has some "x 250.00" values).
    let amounts: Vec<f32> = word_boxes(&doc.bytes)
        .iter()
        .filter(|b| b.word == "250.00" && b.x1 < 480.0)
        .map(|b| b.x1)
        .collect();
    assert_eq!(amounts.len(), 12);
    assert!(
        amounts.iter().all(|x| (x - amounts[0]).abs() < 0.5),
        "{amounts:?}"
    );
}

#[test]
fn pure_rust_extraction_sees_the_text() {
    let doc = render(&sample_spec(issued(), 12)).expect("render");
    let pdf = lopdf::Document::load_mem(&doc.bytes).expect("lopdf parses the output");
    assert_eq!(pdf.get_pages().len(), doc.page_count);
    let text = pdf.extract_text(&[1]).expect("extract page 1");
    for needle in [
        "Promissory Note",
        "INS-0012",
        "Identity number",
        "Page 1 of 2",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn long_table_paginates_and_repeats_the_header() {
    let doc = render(&sample_spec(issued(), 120)).expect("render");
    assert!(doc.page_count >= 3, "{} pages", doc.page_count);
    assert_eq!(pdfinfo_pages(&doc.bytes), doc.page_count);
    let text = pdftotext(&doc.bytes);
    // Every row exactly once, none lost or duplicated at page breaks.
    for i in 1..=120 {
        let cell = format!("INS-{i:04}");
        assert_eq!(text.matches(&cell).count(), 1, "{cell}");
    }
    // The table spans pages 1..=k; each of them shows the header row.
    let last_row_page = (1..=doc.page_count)
        .find(|&p| page_text(&doc.bytes, p).contains("INS-0120"))
        .expect("last row printed");
    assert!(last_row_page >= 3);
    for p in 1..=last_row_page {
        let page = page_text(&doc.bytes, p);
        assert!(
            page.contains("Collection date") && page.contains("Balance after"),
            "page {p} lacks the table header:\n{page}"
        );
        assert!(page.contains(&format!("Page {p} of {}", doc.page_count)));
        if p > 1 {
            // Running header with the title on continuation pages.
            assert!(page.contains("Promissory Note and Debit Order Authority"));
        }
    }
    assert_clean_layout(&doc.bytes);
}

#[test]
fn text_outside_the_fonts_is_replaced_not_fatal() {
    let spec = DocumentSpec::new("odd.pdf", "Cafe\u{301} \u{4E00} \u{6F22}\u{5B57}", issued())
        .with_subtitle("ref \u{2116} 5 \u{00e9}t\u{00e9}")
        .block(Block::Paragraph(r"esc (a) \b) \\ (".into()))
        .block(Block::Paragraph(
            "tab\there\r\nnul\u{0} smart \u{201C}quotes\u{201D} \u{20AC}5".into(),
        ))
        .block(Block::Table {
            columns: vec![Column::new("\u{0416}", 1.0)],
            rows: vec![vec!["R\u{202F}1\u{202F}000,00".into()]],
        });
    let doc = render(&spec).expect("render");
    assert_eq!(render(&spec).expect("again"), doc);
    let text = pdftotext(&doc.bytes);
    for needle in [
        " ? ??",
        "ref \u{2116} 5 \u{00e9}t\u{00e9}",
        "\u{0416}",
        "tab here",
        r"esc (a) \b) \\ (",
        "nul? smart \u{201C}quotes\u{201D} \u{20AC}5",
        "R 1 000,00", // NBSP (from U+202F) extracts as a space
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn long_words_and_tall_rows_stay_on_the_page() {
    let token = "ACCOUNT".repeat(60);
    let tall_cell = (1..=150)
        .map(|i| format!("line {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    let spec = DocumentSpec::new("long.pdf", "X".repeat(150), issued())
        .with_footer("F".repeat(400))
        .block(Block::Heading(token.clone()))
        .block(Block::Paragraph(format!("start {token} end")))
        .block(Block::KeyValues(vec![(token.clone(), token.clone())]))
        .block(Block::Table {
            columns: vec![Column::new("A", 1.0), Column::right("B", 0.3)],
            rows: vec![
                vec![token.clone(), token.clone()],
                vec![tall_cell, "x".into()],
            ],
        })
        .block(Block::Notice(token.clone()))
        .block(Block::Signatures(vec![token.clone(); 3]));
    let doc = render(&spec).expect("render");
    assert!(doc.page_count >= 2);
    let text = pdftotext(&doc.bytes);
    assert!(
        text.contains("line 1\n") || text.contains("line 1 "),
        "{text}"
    );
    assert!(text.contains("line 150"));
    assert_eq!(pdfinfo_pages(&doc.bytes), doc.page_count);
    assert_clean_layout(&doc.bytes);
}

#[test]
fn empty_and_edge_blocks_render() {
    let spec = DocumentSpec::new("e.pdf", "Edge", issued())
        .block(Block::PageBreak)
        .block(Block::KeyValues(Vec::new()))
        .block(Block::Table {
            columns: vec![Column::center("Only header", 1.0)],
            rows: Vec::new(),
        })
        .block(Block::Signatures(Vec::new()))
        .block(Block::Paragraph(String::new()))
        .block(Block::Spacer)
        .block(Block::Notice("CANCELLED".into()))
        .block(Block::PageBreak)
        .block(Block::Paragraph("second page".into()));
    let doc = render(&spec).expect("render");
    assert_eq!(doc.page_count, 2);
    let page2 = page_text(&doc.bytes, 2);
    assert!(page2.contains("second page") && page2.contains("Page 2 of 2"));
    assert!(page_text(&doc.bytes, 1).contains("CANCELLED"));
}

#[test]
fn invalid_specs_are_rejected() {
    let base = || DocumentSpec::new("a.pdf", "T", issued());
    let bad_name = |n: &str| DocumentSpec {
        file_name: n.into(),
        ..base()
    };
    for n in ["", "../x.pdf", "a\\b.pdf", "a\nb.pdf", &"n".repeat(201)] {
        assert_eq!(
            render(&bad_name(n)),
            Err(DocumentError::InvalidFileName(n.into()))
        );
    }
    let blank = DocumentSpec {
        title: "  ".into(),
        ..base()
    };
    assert_eq!(render(&blank), Err(DocumentError::EmptyTitle));
    let table = |columns, rows| {
        base()
            .block(Block::Paragraph("p".into()))
            .block(Block::Table { columns, rows })
    };
    assert_eq!(
        render(&table(Vec::new(), Vec::new())),
        Err(DocumentError::NoColumns { block: 1 })
    );
    assert!(matches!(
        render(&table(vec![Column::new("a", 1.0), Column::new("b", f32::NAN)], Vec::new())),
        Err(DocumentError::InvalidColumnWidth { block: 1, column: 1, width }) if width.is_nan()
    ));
    assert_eq!(
        render(&table(vec![Column::new("a", 0.0)], Vec::new())),
        Err(DocumentError::InvalidColumnWidth {
            block: 1,
            column: 0,
            width: 0.0
        })
    );
    assert_eq!(
        render(&table(
            vec![Column::new("a", 1.0), Column::new("b", 1.0)],
            vec![vec!["1".into(), "2".into()], vec!["3".into()]]
        )),
        Err(DocumentError::RowShape {
            block: 1,
            row: 1,
            expected: 2,
            found: 1
        })
    );
}
