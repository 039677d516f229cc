//! PDF serialisation with `lopdf`: drawing primitives to content-stream operations, the
//! page tree with the standard-14 Helvetica faces (WinAnsi), deterministic metadata and
//! `/ID`, compressed streams. The object layout is the one printpdf 0.12 wrote (this
//! writer replaced it byte for byte), so documents and their snapshot hashes did not change.

use std::collections::BTreeSet;

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Object, ObjectId, Stream, StringFormat};
use sha2::{Digest as _, Sha256};
use time::{OffsetDateTime, UtcOffset};

use super::layout::{Draw, PAGE_H, PAGE_W};
use super::text::Face;
use super::{DocumentError, DocumentSpec};

/// Recorded as the PDF /Creator and /Producer. The "(printpdf)" suffix is kept from the
/// earlier writer: it is inside every document, so changing it changes every document's
/// bytes and hash.
const PRODUCER: &str = concat!("allps-ws ", env!("CARGO_PKG_VERSION"), " (printpdf)");

/// Rounds a coordinate to 1/100 pt: plenty for print, shorter content streams.
fn r(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// The resource name and base font of a face (standard-14, so nothing is embedded).
fn font(face: Face) -> (&'static str, &'static str) {
    match face {
        Face::Regular => ("F5", "Helvetica"),
        Face::Bold => ("F6", "Helvetica-Bold"),
    }
}

fn real(v: f32) -> Object {
    Object::Real(v)
}

fn op(operator: &str, operands: Vec<Object>) -> Operation {
    Operation::new(operator, operands)
}

/// Graphics state already set in the content stream, to skip redundant ops.
#[derive(Default)]
struct State {
    fill: Option<f32>,
    stroke: Option<f32>,
    width: Option<f32>,
}

impl State {
    fn fill(&mut self, ops: &mut Vec<Operation>, g: f32) {
        if self.fill != Some(g) {
            ops.push(op("g", vec![real(g.clamp(0.0, 1.0))]));
            self.fill = Some(g);
        }
    }

    fn stroke(&mut self, ops: &mut Vec<Operation>, width: f32, g: f32) {
        if self.stroke != Some(g) {
            ops.push(op("G", vec![real(g.clamp(0.0, 1.0))]));
            self.stroke = Some(g);
        }
        if self.width != Some(width) {
            ops.push(op("w", vec![real(width)]));
            self.width = Some(width);
        }
    }
}

/// WinAnsi bytes of text already reduced to WinAnsi characters by the layout (anything
/// else becomes `?`, as before).
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| super::text::win_ansi_byte(c).unwrap_or(b'?'))
        .collect()
}

/// A content-stream string: literal when every byte is printable ASCII other than
/// `(`, `)`, `\\` and `%`, hexadecimal otherwise.
fn shown_string(bytes: Vec<u8>) -> Object {
    let hex = bytes
        .iter()
        .any(|&b| !(32..=126).contains(&b) || matches!(b, b'(' | b')' | b'\\' | b'%'));
    let format = if hex {
        StringFormat::Hexadecimal
    } else {
        StringFormat::Literal
    };
    Object::String(bytes, format)
}

/// One page's content stream, and the faces it uses.
fn page_content(draws: Vec<Draw>, faces: &mut BTreeSet<Face>) -> Vec<Operation> {
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
                faces.insert(face);
                let (name, _) = font(face);
                ops.push(op("BT", vec![]));
                ops.push(op("Tf", vec![Object::Name(name.into()), real(size)]));
                // Inside a fresh BT the text matrix is the identity, so this
                // relative move is an absolute position.
                ops.push(op("Td", vec![real(r(x)), real(r(y))]));
                ops.push(op("Tj", vec![shown_string(win_ansi(&text))]));
                ops.push(op("ET", vec![]));
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
                ops.push(op("m", vec![real(r(x1)), real(r(y1))]));
                ops.push(op("l", vec![real(r(x2)), real(r(y2))]));
                ops.push(op("S", vec![]));
            }
            Draw::Rect {
                x,
                y,
                w,
                h,
                fill,
                stroke,
            } => {
                let paint = match (fill, stroke) {
                    (Some(f), Some((width, g))) => {
                        st.fill(&mut ops, f);
                        st.stroke(&mut ops, width, g);
                        "B"
                    }
                    (Some(f), None) => {
                        st.fill(&mut ops, f);
                        "f"
                    }
                    (None, Some((width, g))) => {
                        st.stroke(&mut ops, width, g);
                        "S"
                    }
                    (None, None) => continue,
                };
                ops.push(op(
                    "re",
                    vec![real(r(x)), real(r(y)), real(r(w)), real(r(h))],
                ));
                ops.push(op(paint, vec![]));
            }
        }
    }
    ops
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

fn reference(id: ObjectId) -> Object {
    Object::Reference(id)
}

fn name(value: &str) -> Object {
    Object::Name(value.into())
}

/// Serialises laid-out pages into PDF bytes.
pub(crate) fn write(spec: &DocumentSpec, pages: Vec<Vec<Draw>>) -> Result<Vec<u8>, DocumentError> {
    let mut faces = BTreeSet::new();
    let contents: Vec<Vec<u8>> = pages
        .into_iter()
        .map(|draws| {
            let operations = page_content(draws, &mut faces);
            Content { operations }
                .encode()
                .map_err(|e| DocumentError::Pdf(e.to_string()))
        })
        .collect::<Result<_, _>>()?;

    let mut doc = lopdf::Document::with_version("1.3");
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let pages_id = doc.new_object_id();
    let mut fonts = Dictionary::new();
    for face in &faces {
        let (resource, base_font) = font(*face);
        let font_id = doc.add_object(Dictionary::from_iter(vec![
            ("Type", name("Font")),
            ("Subtype", name("Type1")),
            ("BaseFont", name(base_font)),
            ("Encoding", name("WinAnsiEncoding")),
        ]));
        fonts.set(resource, reference(font_id));
    }
    let fonts_id = doc.add_object(fonts);
    // Empty XObject, ExtGState and Shading resource dictionaries, as the earlier
    // writer left them: they are part of the bytes.
    let xobjects_id = doc.add_object(Dictionary::new());
    let extgstates_id = doc.add_object(Dictionary::new());
    let shadings_id = doc.add_object(Dictionary::new());
    let page_ids: Vec<ObjectId> = contents.iter().map(|_| doc.new_object_id()).collect();
    // The page size as A4 in millimetres converted back to points (f32).
    let page_w = PAGE_W * 0.352_778_f32 * 2.834_646_f32;
    let page_h = PAGE_H * 0.352_778_f32 * 2.834_646_f32;
    let page_box = || Object::Array(vec![real(0.0), real(0.0), real(page_w), real(page_h)]);
    for (content, page_id) in contents.into_iter().zip(&page_ids) {
        let resources = Dictionary::from_iter(vec![
            ("Font", reference(fonts_id)),
            ("XObject", reference(xobjects_id)),
            ("ExtGState", reference(extgstates_id)),
            ("Shading", reference(shadings_id)),
        ]);
        let resources_id = doc.add_object(resources);
        let content_id = doc.add_object(Stream::new(Dictionary::new(), content));
        let page = Dictionary::from_iter(vec![
            ("Type", name("Page")),
            ("MediaBox", page_box()),
            ("TrimBox", page_box()),
            ("CropBox", page_box()),
            ("Parent", reference(pages_id)),
            ("Resources", reference(resources_id)),
            ("Contents", reference(content_id)),
            ("Annots", Object::Array(Vec::new())),
        ]);
        doc.set_object(*page_id, page);
    }
    doc.set_object(
        pages_id,
        Dictionary::from_iter(vec![
            ("Type", name("Pages")),
            ("Count", Object::Integer(page_ids.len() as i64)),
            (
                "Kids",
                Object::Array(page_ids.iter().map(|id| reference(*id)).collect()),
            ),
        ]),
    );
    let catalog_id = doc.add_object(Dictionary::from_iter(vec![
        ("Type", name("Catalog")),
        ("PageLayout", name("OneColumn")),
        ("PageMode", name("UseNone")),
        ("Pages", reference(pages_id)),
    ]));
    let info_id = doc.add_object(info_dict(spec));
    doc.trailer.set("Root", reference(catalog_id));
    doc.trailer.set("Info", reference(info_id));
    doc.compress();

    // The trailer /ID comes from the content: hash the file saved with an empty ID,
    // then save again.
    doc.trailer.set("ID", Object::Array(Vec::new()));
    let provisional = save(&mut doc)?;
    let digest = Sha256::digest(&provisional);
    let id = digest.get(..16).unwrap_or_default().to_vec();
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(id.clone(), StringFormat::Hexadecimal),
            Object::String(id, StringFormat::Hexadecimal),
        ]),
    );
    save(&mut doc)
}
