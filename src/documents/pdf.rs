//! PDF serialisation: drawing primitives to `printpdf` page operations, the two
//! embedded fonts subset to the glyphs the document uses, then the `lopdf` object
//! model for deterministic metadata, `/ID` and bytes.

use std::collections::{BTreeMap, BTreeSet};

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{CmapTarget, SubsetProfile, subset};
use lopdf::{Dictionary, Object, StringFormat};
use printpdf::{
    Color, FontId, Greyscale, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFont,
    PdfFontHandle, PdfPage, PdfParseErrorSeverity, PdfSaveOptions, Point, Pt, Rect, TextItem,
};
use sha2::{Digest as _, Sha256};
use time::{OffsetDateTime, UtcOffset};

use super::layout::{Draw, PAGE_H, PAGE_W};
use super::text::Face;
use super::{DocumentError, DocumentSpec};

/// Recorded as the PDF /Creator and /Producer.
const PRODUCER: &str = concat!("allps-ws ", env!("CARGO_PKG_VERSION"), " (printpdf)");

/// Rounds a coordinate to 1/100 pt: plenty for print, shorter content streams.
fn r(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

fn grey(g: f32) -> Color {
    Color::Greyscale(Greyscale::new(g.clamp(0.0, 1.0), None))
}

fn point(x: f32, y: f32) -> Point {
    Point {
        x: Pt(r(x)),
        y: Pt(r(y)),
    }
}

/// Graphics state already set in the content stream, to skip redundant ops.
#[derive(Default)]
struct State {
    fill: Option<f32>,
    stroke: Option<f32>,
    width: Option<f32>,
}

impl State {
    fn fill(&mut self, ops: &mut Vec<Op>, g: f32) {
        if self.fill != Some(g) {
            ops.push(Op::SetFillColor { col: grey(g) });
            self.fill = Some(g);
        }
    }

    fn stroke(&mut self, ops: &mut Vec<Op>, width: f32, g: f32) {
        if self.stroke != Some(g) {
            ops.push(Op::SetOutlineColor { col: grey(g) });
            self.stroke = Some(g);
        }
        if self.width != Some(width) {
            ops.push(Op::SetOutlineThickness { pt: Pt(width) });
            self.width = Some(width);
        }
    }
}

fn page_ops(draws: Vec<Draw>) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut st = State::default();
    for d in draws {
        match d {
            Draw::Text {
                x,
                y,
                face,
                size,
                grey: g,
                text,
            } => {
                st.fill(&mut ops, g);
                ops.push(Op::StartTextSection);
                ops.push(Op::SetFont {
                    font: PdfFontHandle::External(font_id(face)),
                    size: Pt(size),
                });
                // Inside a fresh BT the text matrix is the identity, so this
                // relative move is an absolute position.
                ops.push(Op::SetTextCursor { pos: point(x, y) });
                ops.push(Op::ShowText {
                    items: vec![TextItem::Text(text)],
                });
                ops.push(Op::EndTextSection);
            }
            Draw::Line {
                x1,
                y1,
                x2,
                y2,
                width,
                grey: g,
            } => {
                st.stroke(&mut ops, width, g);
                ops.push(Op::DrawLine {
                    line: Line {
                        points: vec![
                            LinePoint {
                                p: point(x1, y1),
                                bezier: false,
                            },
                            LinePoint {
                                p: point(x2, y2),
                                bezier: false,
                            },
                        ],
                        is_closed: false,
                    },
                });
            }
            Draw::Rect {
                x,
                y,
                w,
                h,
                fill,
                stroke,
            } => {
                let mode = match (fill, stroke) {
                    (Some(f), Some((width, g))) => {
                        st.fill(&mut ops, f);
                        st.stroke(&mut ops, width, g);
                        PaintMode::FillStroke
                    }
                    (Some(f), None) => {
                        st.fill(&mut ops, f);
                        PaintMode::Fill
                    }
                    (None, Some((width, g))) => {
                        st.stroke(&mut ops, width, g);
                        PaintMode::Stroke
                    }
                    (None, None) => continue,
                };
                ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: Pt(r(x)),
                        y: Pt(r(y)),
                        width: Pt(r(w)),
                        height: Pt(r(h)),
                        mode: Some(mode),
                        winding_order: None,
                    },
                });
            }
        }
    }
    ops
}

/// The resource name of a face's font, the same in every document (printpdf's own
/// font ids are random).
fn font_id(face: Face) -> FontId {
    FontId(
        match face {
            Face::Regular => "FR",
            Face::Bold => "FB",
        }
        .to_string(),
    )
}

/// The `XXXXXX+` tag of a subset font (ISO 32000-1, 9.6.4): six capitals derived
/// from the subset's bytes, so the same glyphs always give the same name.
fn subset_tag(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(6)
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

/// The tables a subset keeps: those ISO 32000-1 (9.9) requires of an embedded TrueType
/// program (head, hhea, loca, maxp, cvt, prep, glyf, hmtx, fpgm), plus cmap (printpdf
/// maps characters to glyphs with it) and post. allsorts' own PDF profile also keeps
/// `name`, which in DejaVu is 15 KiB of licence text per face.
fn subset_profile() -> SubsetProfile {
    use allsorts::tag;
    SubsetProfile::Custom(vec![
        tag::CMAP,
        tag::HEAD,
        tag::CVT,
        tag::FPGM,
        tag::HHEA,
        tag::HMTX,
        tag::MAXP,
        tag::POST,
        tag::PREP,
    ])
}

/// Embeds each face the pages use, subset to the glyphs of the characters drawn in it
/// (plus `.notdef`), so a document carries a few KiB of font instead of the whole
/// program. Text is written as glyph ids (Identity-H) with a /ToUnicode map, so it
/// extracts and copies as the original characters.
fn embed_fonts(doc: &mut PdfDocument, pages: &[Vec<Draw>]) -> Result<(), DocumentError> {
    let mut used: BTreeMap<Face, BTreeSet<char>> = BTreeMap::new();
    for draw in pages.iter().flatten() {
        if let Draw::Text { face, text, .. } = draw {
            used.entry(*face).or_default().extend(text.chars());
        }
    }
    let fail = |e: String| DocumentError::Pdf(format!("font subset: {e}"));
    for (face, chars) in used {
        let font = face.font();
        let glyphs: BTreeSet<u16> = chars.iter().filter_map(|&c| font.glyph(c)).collect();
        let ids: Vec<u16> = std::iter::once(0).chain(glyphs).collect();
        let data = ReadScope::new(font.bytes)
            .read::<FontData<'_>>()
            .map_err(|e| fail(e.to_string()))?;
        let provider = data.table_provider(0).map_err(|e| fail(e.to_string()))?;
        let bytes = subset(&provider, &ids, &subset_profile(), CmapTarget::Unicode)
            .map_err(|e| fail(e.to_string()))?;
        let mut warnings = Vec::new();
        let mut parsed = ParsedFont::from_bytes(&bytes, 0, &mut warnings)
            .ok_or_else(|| fail(format!("the {} subset does not parse", font.name)))?;
        parsed.font_name = Some(format!("{}+{}", subset_tag(&bytes), font.name));
        doc.resources
            .fonts
            .map
            .insert(font_id(face), PdfFont::new(parsed));
    }
    Ok(())
}

/// A PDF text string: literal for ASCII, UTF-16BE with BOM otherwise.
fn text_string(s: &str) -> Object {
    if s.is_ascii() {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        bytes.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// A PDF date string `D:YYYYMMDDHHmmSS+HH'mm'` keeping the instant's offset.
fn pdf_date(t: OffsetDateTime) -> Object {
    let (oh, om, _) = t.offset().as_hms();
    let sign = if t.offset().is_negative() { '-' } else { '+' };
    let s = format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{sign}{:02}'{:02}'",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        oh.unsigned_abs(),
        om.unsigned_abs(),
    );
    Object::String(s.into_bytes(), StringFormat::Literal)
}

fn info_dict(spec: &DocumentSpec) -> Dictionary {
    // A PDF date has a four-digit year; an instant outside 0..=9999 (only a
    // caller bug could produce one) is recorded as the Unix epoch.
    let issued = if (0..=9999).contains(&spec.issued.year()) {
        spec.issued
    } else {
        OffsetDateTime::UNIX_EPOCH.to_offset(UtcOffset::UTC)
    };
    let mut d = Dictionary::new();
    d.set("Title", text_string(&spec.title));
    if let Some(subtitle) = &spec.subtitle {
        d.set("Subject", text_string(subtitle));
    }
    if !spec.author.is_empty() {
        d.set("Author", text_string(&spec.author));
    }
    d.set("Creator", text_string(PRODUCER));
    d.set("Producer", text_string(PRODUCER));
    d.set("CreationDate", pdf_date(issued));
    d.set("ModDate", pdf_date(issued));
    d
}

fn save(doc: &mut lopdf::Document) -> Result<Vec<u8>, DocumentError> {
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes)
        .map_err(|e| DocumentError::Pdf(e.to_string()))?;
    Ok(bytes)
}

/// Serialises laid-out pages into PDF bytes.
pub(crate) fn write(spec: &DocumentSpec, pages: Vec<Vec<Draw>>) -> Result<Vec<u8>, DocumentError> {
    let mut doc = PdfDocument::new(&spec.title);
    let page_w = Mm::from(Pt(PAGE_W));
    let page_h = Mm::from(Pt(PAGE_H));
    embed_fonts(&mut doc, &pages)?;
    doc.with_pages(
        pages
            .into_iter()
            .map(|draws| PdfPage::new(page_w, page_h, page_ops(draws)))
            .collect(),
    );
    let opts = PdfSaveOptions {
        optimize: true,
        subset_fonts: false,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = doc.to_lopdf_document(&opts, &mut warnings);
    if let Some(w) = warnings
        .iter()
        .find(|w| w.severity == PdfParseErrorSeverity::Error)
    {
        return Err(DocumentError::Pdf(w.msg.clone()));
    }

    // Replace printpdf's information dictionary (its dates are written as
    // UTC whatever the offset, plus empty PDF/X keys) with our own.
    let info_id = lo
        .trailer
        .get(b"Info")
        .and_then(Object::as_reference)
        .map_err(|e| DocumentError::Pdf(e.to_string()))?;
    lo.objects
        .insert(info_id, Object::Dictionary(info_dict(spec)));
    lo.compress();

    // printpdf writes a random trailer /ID; derive it from the content
    // instead: hash the file saved with an empty ID, then save again.
    lo.trailer.set("ID", Object::Array(Vec::new()));
    let provisional = save(&mut lo)?;
    let digest = Sha256::digest(&provisional);
    let id = digest.get(..16).unwrap_or_default().to_vec();
    lo.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(id.clone(), StringFormat::Hexadecimal),
            Object::String(id, StringFormat::Hexadecimal),
        ]),
    );
    save(&mut lo)
}
