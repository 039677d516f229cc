//! Generic, deterministic PDF rendering for printable documents.
//!
//! Business code (promissory notes, cancellation notices, payout
//! confirmations, card receipts ...) describes a document with a small layout
//! model, [`DocumentSpec`] made of [`Block`]s, and [`render`] turns it into an
//! A4 portrait PDF ([`Document`]). The model knows nothing about any business
//! type.
//!
//! Layout: A4 portrait, fixed margins, a title block on page 1 and a running
//! header on later pages, automatic page breaks (table headers repeat on every
//! page a table spans), and a footer on every page with the spec's footer
//! reference text and "Page N of M".
//!
//! Text: DejaVu Sans and DejaVu Sans Bold, committed under `data/fonts/` with
//! their licence and embedded subset to the glyphs each document uses (a few
//! KiB per face), so every letter of the eleven official languages prints
//! exactly (Tshivenḓa `Ṱhalefhi Nemaḓivhe`, Afrikaans `ê ë ô`, ...) and the
//! text extracts as the original characters. Characters the fonts lack are
//! replaced deterministically (typographic spaces and dashes by their plain
//! forms, invisible characters dropped, anything else by `'?'`); rendering
//! never panics on input text. Words too
//! long for their line or table cell are broken between characters.
//!
//! Determinism: the same spec always gives the same bytes. The PDF dates come
//! from [`DocumentSpec::issued`] (the caller's injected clock), the trailer
//! `/ID` is derived from a SHA-256 of the rendered content, no XMP metadata is
//! written, and nothing reads the wall clock, a random source or an unordered
//! map.
//!
//! PDF generation uses `lopdf` directly (`pdf.rs`): content streams from the
//! laid-out drawing primitives, the page tree, the two standard-14 font
//! dictionaries, the document information dictionary, the trailer `/ID`,
//! stream compression and saving.

pub mod format;
mod layout;
mod pdf;
mod text;

pub use text::prints_exactly;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

/// MIME type of every rendered [`Document`].
pub const PDF_CONTENT_TYPE: &str = "application/pdf";

/// Longest accepted [`DocumentSpec::file_name`], in bytes.
pub const MAX_FILE_NAME_LEN: usize = 200;

/// A printable document described independently of any business type.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentSpec {
    /// File name offered to the recipient, e.g. `"promissory-note-PN1001.pdf"`.
    /// Must be non-empty, at most [`MAX_FILE_NAME_LEN`] bytes, and free of
    /// path separators and control characters.
    pub file_name: String,
    /// Title printed at the top of page 1 (and in the running header of later
    /// pages and the PDF metadata). Must not be blank.
    pub title: String,
    /// Optional subtitle / reference line printed under the title, e.g.
    /// `"Contract reference PN1001 - Employer ACME (Pty) Ltd"`.
    pub subtitle: Option<String>,
    /// Reference text printed at the left of every page footer, e.g.
    /// `"Allps-i debit order PN1001"`. May be empty.
    pub footer: String,
    /// Author recorded in the PDF metadata (not printed). May be empty.
    pub author: String,
    /// Issue instant, supplied by the caller from its clock; it becomes the
    /// PDF creation and modification date. Never read from the wall clock.
    pub issued: OffsetDateTime,
    /// Body content, laid out top to bottom.
    pub blocks: Vec<Block>,
}

impl DocumentSpec {
    /// A spec with no subtitle, footer text, author or blocks.
    pub fn new(
        file_name: impl Into<String>,
        title: impl Into<String>,
        issued: OffsetDateTime,
    ) -> Self {
        Self {
            file_name: file_name.into(),
            title: title.into(),
            subtitle: None,
            footer: String::new(),
            author: String::new(),
            issued,
            blocks: Vec::new(),
        }
    }

    /// Sets the subtitle / reference line.
    #[must_use]
    pub fn with_subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = Some(subtitle.into());
        self
    }

    /// Sets the footer reference text.
    #[must_use]
    pub fn with_footer(mut self, footer: impl Into<String>) -> Self {
        self.footer = footer.into();
        self
    }

    /// Sets the metadata author.
    #[must_use]
    pub fn with_author(mut self, author: impl Into<String>) -> Self {
        self.author = author.into();
        self
    }

    /// Appends a block.
    #[must_use]
    pub fn block(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }

    /// Appends several blocks.
    #[must_use]
    pub fn blocks(mut self, blocks: impl IntoIterator<Item = Block>) -> Self {
        self.blocks.extend(blocks);
        self
    }

    /// Appends a block in place.
    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }
}

/// One element of the document body.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Section heading (bold, ruled underneath); kept on the same page as the
    /// first lines that follow it.
    Heading(String),
    /// Body text wrapped to the page width; `'\n'` forces a line break and an
    /// empty line leaves a blank line. May continue on the next page.
    Paragraph(String),
    /// Two-column label/value table (labels bold on the left, values wrapped
    /// on the right), one row per pair.
    KeyValues(Vec<(String, String)>),
    /// Table with a shaded header row that repeats on every page the table
    /// spans. Every row must have exactly one cell per column; cells wrap
    /// within their column, `'\n'` forces a line break.
    Table {
        /// Column definitions, left to right.
        columns: Vec<Column>,
        /// Body rows, top to bottom.
        rows: Vec<Vec<String>>,
    },
    /// Emphasised paragraph: bold text in a shaded, bordered box (fees
    /// clause, "CANCELLED", warnings).
    Notice(String),
    /// Signature blocks, two per row: a signing line with the label under it
    /// and a "Date:" line. A row of signature blocks is never split.
    Signatures(Vec<String>),
    /// Fixed vertical space.
    Spacer,
    /// Continues on a new page (ignored at the top of a page).
    PageBreak,
}

/// A [`Block::Table`] column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header text.
    pub title: String,
    /// Relative width: the table spans the page width and each column gets
    /// `width / sum of widths` of it. Must be finite and positive.
    pub width: f32,
    /// Horizontal alignment of the header and cells.
    pub align: Align,
}

impl Column {
    /// A left-aligned column.
    pub fn new(title: impl Into<String>, width: f32) -> Self {
        Self {
            title: title.into(),
            width,
            align: Align::Left,
        }
    }

    /// A right-aligned column (amounts, counts).
    pub fn right(title: impl Into<String>, width: f32) -> Self {
        Self {
            align: Align::Right,
            ..Self::new(title, width)
        }
    }

    /// A centred column.
    pub fn center(title: impl Into<String>, width: f32) -> Self {
        Self {
            align: Align::Center,
            ..Self::new(title, width)
        }
    }
}

/// Horizontal text alignment within a table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    /// Flush left.
    #[default]
    Left,
    /// Centred.
    Center,
    /// Flush right.
    Right,
}

/// A rendered PDF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The spec's file name.
    pub file_name: String,
    /// Always [`PDF_CONTENT_TYPE`].
    pub content_type: &'static str,
    /// The PDF file.
    pub bytes: Vec<u8>,
    /// Lower-case hex SHA-256 of [`Document::bytes`].
    pub sha256_hex: String,
    /// Number of pages.
    pub page_count: usize,
}

impl Document {
    /// The PDF bytes in standard (padded) base64, as carried in SOAP
    /// `xs:base64Binary` elements.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.bytes)
    }
}

/// Why a spec could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DocumentError {
    /// The file name is empty, too long, or contains a path separator or a
    /// control character.
    #[error("invalid document file name {0:?}")]
    InvalidFileName(String),
    /// The title is empty or only whitespace.
    #[error("document title is empty")]
    EmptyTitle,
    /// A table block has no columns.
    #[error("block {block}: table has no columns")]
    NoColumns {
        /// Index of the block in [`DocumentSpec::blocks`].
        block: usize,
    },
    /// A table column width is not finite and positive.
    #[error("block {block}: column {column} has width {width}, expected a finite positive number")]
    InvalidColumnWidth {
        /// Index of the block in [`DocumentSpec::blocks`].
        block: usize,
        /// Index of the column.
        column: usize,
        /// The offending width.
        width: f32,
    },
    /// A table row does not have one cell per column.
    #[error("block {block}: row {row} has {found} cells, expected {expected}")]
    RowShape {
        /// Index of the block in [`DocumentSpec::blocks`].
        block: usize,
        /// Index of the row.
        row: usize,
        /// Number of columns.
        expected: usize,
        /// Number of cells in the row.
        found: usize,
    },
    /// The PDF library reported an error while building or saving the file.
    #[error("PDF generation failed: {0}")]
    Pdf(String),
}

/// Renders `spec` to a PDF. Pure and deterministic: the same spec always
/// yields the same bytes.
///
/// # Errors
/// [`DocumentError`] when the spec is invalid (file name, blank title,
/// malformed table) or the PDF cannot be written.
pub fn render(spec: &DocumentSpec) -> Result<Document, DocumentError> {
    validate(spec)?;
    let pages = layout::layout(spec);
    let page_count = pages.len();
    let bytes = pdf::write(spec, pages)?;
    let sha256_hex = hex(&Sha256::digest(&bytes));
    Ok(Document {
        file_name: spec.file_name.clone(),
        content_type: PDF_CONTENT_TYPE,
        bytes,
        sha256_hex,
        page_count,
    })
}

fn validate(spec: &DocumentSpec) -> Result<(), DocumentError> {
    let name = &spec.file_name;
    if name.is_empty()
        || name.len() > MAX_FILE_NAME_LEN
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(DocumentError::InvalidFileName(name.clone()));
    }
    if spec.title.trim().is_empty() {
        return Err(DocumentError::EmptyTitle);
    }
    for (block, b) in spec.blocks.iter().enumerate() {
        let Block::Table { columns, rows } = b else {
            continue;
        };
        if columns.is_empty() {
            return Err(DocumentError::NoColumns { block });
        }
        for (column, c) in columns.iter().enumerate() {
            if !(c.width.is_finite() && c.width > 0.0) {
                return Err(DocumentError::InvalidColumnWidth {
                    block,
                    column,
                    width: c.width,
                });
            }
        }
        for (row, r) in rows.iter().enumerate() {
            if r.len() != columns.len() {
                return Err(DocumentError::RowShape {
                    block,
                    row,
                    expected: columns.len(),
                    found: r.len(),
                });
            }
        }
    }
    Ok(())
}

/// A representative sample document: a debit-order style form with
/// key/value blocks, an instalment table of `rows` rows, legal paragraphs,
/// a notice and signature blocks. Used by `examples/render_document.rs` and
/// the tests to check layout, size and determinism; all content is made up.
pub fn sample_spec(issued: OffsetDateTime, rows: usize) -> DocumentSpec {
    const INSTALMENT_CENTS: u64 = 125_000;
    let total = INSTALMENT_CENTS * rows as u64;
    let schedule = (1..=rows)
        .map(|i| {
            let month = (i - 1) % 12 + 1;
            let year = 2026 + (i - 1) / 12;
            vec![
                format!("{i}"),
                format!("{year}-{month:02}-25"),
                format!("INS-{i:04}"),
                rands(INSTALMENT_CENTS),
                rands(total - INSTALMENT_CENTS * i as u64),
            ]
        })
        .collect();
    DocumentSpec::new(
        "promissory-note-PN100245.pdf",
        "Promissory Note and Debit Order Authority",
        issued,
    )
    .with_subtitle("Contract reference PN100245 \u{2013} Employer: Mkhize Logistics (Pty) Ltd")
    .with_footer("Allps-i debit order PN100245 \u{00b7} Generated by allps-ws")
    .with_author("Allps-i")
    .block(Block::Heading("Parties".into()))
    .block(Block::KeyValues(vec![
        ("Debtor".into(), "Thandiwe Nomsa Dlamini".into()),
        ("Identity number".into(), "8001015009087".into()),
        (
            "Employer".into(),
            "Mkhize Logistics (Pty) Ltd, employee number 004512".into(),
        ),
        ("Creditor".into(), "Allps-i Collections (Pty) Ltd".into()),
    ]))
    .block(Block::Heading("Bank account to be debited".into()))
    .block(Block::KeyValues(vec![
        ("Bank".into(), "Capitec Bank".into()),
        ("Branch code".into(), "470010".into()),
        ("Account number".into(), "1234567890".into()),
        ("Account type".into(), "Savings".into()),
    ]))
    .block(Block::Heading("Instalment schedule".into()))
    .block(Block::Table {
        columns: vec![
            Column::right("No.", 0.6),
            Column::new("Collection date", 1.4),
            Column::new("Reference", 1.4),
            Column::right("Amount", 1.2),
            Column::right("Balance after", 1.4),
        ],
        rows: schedule,
    })
    .block(Block::Heading("Authority".into()))
    .block(Block::Paragraph(format!(
        "I, the debtor named above, promise to pay the creditor the amount of {} in the \
             instalments listed in the schedule, fees included. I authorise the creditor to \
             issue and deliver payment instructions to my bank for collection against my \
             account on the dates shown, and agree that the instruction may be tracked for up \
             to ten days where funds are insufficient on the collection date.",
        rands(total)
    )))
    .block(Block::Paragraph(
        "This authority may be cancelled by written notice to the creditor, but cancellation \
         does not cancel the debt. I may not stop a collection in respect of a completed \
         transaction without prior notice to the creditor. I acknowledge that the debt may be \
         ceded to a third party and that this note is governed by the laws of the Republic of \
         South Africa."
            .into(),
    ))
    .block(Block::Notice(
        "Fees: an initiation fee of R 165.00 and a monthly service fee of R 69.00 are included \
         in each instalment. A dishonoured-debit fee of R 95.00 applies per failed collection."
            .into(),
    ))
    .block(Block::Signatures(vec![
        "Debtor: Thandiwe Nomsa Dlamini".into(),
        "For the creditor: Allps-i Collections".into(),
        "Witness 1".into(),
        "Witness 2".into(),
    ]))
}

/// Formats cents as South African rands with space digit grouping
/// ("R 13 750.00"), for [`sample_spec`].
fn rands(cents: u64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("R {grouped}.{:02}", cents % 100)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests;
