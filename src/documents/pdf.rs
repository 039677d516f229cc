//! PDF serialisation with `lopdf`: drawing primitives to content-stream operations, the
//! page tree, the two embedded DejaVu faces (each subset with allsorts to the glyphs the
//! document uses, written as a Type0 / CIDFontType2 font with Identity-H glyph codes and a
//! /ToUnicode map, so text extracts as the original characters), deterministic metadata
//! and `/ID`, compressed streams.

use std::collections::{BTreeMap, BTreeSet};

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{CmapTarget, SubsetProfile, subset};

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

/// The resource name of a face's font.
fn font(face: Face) -> &'static str {
    match face {
        Face::Regular => "FR",
        Face::Bold => "FB",
    }
}

/// A face subset to the characters a document uses: glyph codes for the content stream.
struct Subset {
    /// Character to glyph id in the subset (the content stream's 2-byte code).
    codes: BTreeMap<char, u16>,
    /// Original glyph ids, in subset order (index = subset glyph id; 0 is .notdef).
    glyphs: Vec<u16>,
    /// The subset font program.
    bytes: Vec<u8>,
}

/// The tables a subset keeps: those ISO 32000-1 (9.9) requires of an embedded TrueType
/// program (head, hhea, loca, maxp, cvt, prep, glyf, hmtx, fpgm), plus cmap and post.
/// allsorts' own PDF profile also keeps `name`, which in DejaVu is 15 KiB of licence text
/// per face.
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

fn subset_face(face: Face, chars: &BTreeSet<char>) -> Result<Subset, DocumentError> {
    let program = face.font();
    let fail = |e: String| DocumentError::Pdf(format!("font subset {}: {e}", program.name));
    let originals: BTreeSet<u16> = chars.iter().filter_map(|&c| program.glyph(c)).collect();
    let glyphs: Vec<u16> = std::iter::once(0).chain(originals).collect();
    let new_id: BTreeMap<u16, u16> = glyphs
        .iter()
        .enumerate()
        .map(|(i, &g)| (g, u16::try_from(i).unwrap_or(0)))
        .collect();
    let codes = chars
        .iter()
        .map(|&c| {
            let code = program
                .glyph(c)
                .and_then(|g| new_id.get(&g).copied())
                .unwrap_or(0);
            (c, code)
        })
        .collect();
    let data = ReadScope::new(program.bytes)
        .read::<FontData<'_>>()
        .map_err(|e| fail(e.to_string()))?;
    let provider = data.table_provider(0).map_err(|e| fail(e.to_string()))?;
    let bytes = subset(&provider, &glyphs, &subset_profile(), CmapTarget::Unicode)
        .map_err(|e| fail(e.to_string()))?;
    Ok(Subset {
        codes,
        glyphs,
        bytes,
    })
}

/// The `XXXXXX+` tag of a subset font (ISO 32000-1, 9.6.4): six capitals derived from
/// the subset's bytes, so the same glyphs always give the same name.
fn subset_tag(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(6)
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

/// The /ToUnicode CMap: each subset glyph code to its character (the lowest character
/// when several share a glyph).
fn to_unicode(subset: &Subset) -> Vec<u8> {
    let mut by_code: BTreeMap<u16, char> = BTreeMap::new();
    for (&c, &code) in &subset.codes {
        if code != 0 {
            by_code.entry(code).or_insert(c);
        }
    }
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(u16, char)> = by_code.into_iter().collect();
    for chunk in entries.chunks(100) {
        out.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (code, c) in chunk {
            let utf16: String = c
                .encode_utf16(&mut [0; 2])
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            out.push_str(&format!("<{code:04X}> <{utf16}>\n"));
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out.into_bytes()
}

/// Adds a face's Type0 font (and its descendant, descriptor, program and /ToUnicode) to
/// the document; returns the Type0 font's id.
fn add_font(doc: &mut lopdf::Document, face: Face, subset: &Subset) -> ObjectId {
    let program = face.font();
    let base_font = format!("{}+{}", subset_tag(&subset.bytes), program.name);
    let file_id = doc.add_object(Stream::new(
        Dictionary::from_iter(vec![(
            "Length1",
            Object::Integer(subset.bytes.len() as i64),
        )]),
        subset.bytes.clone(),
    ));
    let [x0, y0, x1, y1] = program.bbox;
    let descriptor_id = doc.add_object(Dictionary::from_iter(vec![
        ("Type", name("FontDescriptor")),
        ("FontName", name(&base_font)),
        ("Flags", Object::Integer(32)),
        (
            "FontBBox",
            Object::Array(
                [x0, y0, x1, y1]
                    .iter()
                    .map(|v| Object::Integer(program.scaled(*v)))
                    .collect(),
            ),
        ),
        ("ItalicAngle", Object::Integer(0)),
        ("Ascent", Object::Integer(program.scaled(program.ascent))),
        ("Descent", Object::Integer(program.scaled(program.descent))),
        ("CapHeight", Object::Integer(program.scaled(program.ascent))),
        (
            "StemV",
            Object::Integer(if face == Face::Bold { 140 } else { 80 }),
        ),
        ("FontFile2", reference(file_id)),
    ]));
    let widths: Vec<Object> = subset
        .glyphs
        .iter()
        .map(|&g| Object::Integer(program.glyph_units(g).round() as i64))
        .collect();
    let cid_font_id = doc.add_object(Dictionary::from_iter(vec![
        ("Type", name("Font")),
        ("Subtype", name("CIDFontType2")),
        ("BaseFont", name(&base_font)),
        (
            "CIDSystemInfo",
            Object::Dictionary(Dictionary::from_iter(vec![
                ("Registry", Object::string_literal("Adobe")),
                ("Ordering", Object::string_literal("Identity")),
                ("Supplement", Object::Integer(0)),
            ])),
        ),
        ("FontDescriptor", reference(descriptor_id)),
        (
            "W",
            Object::Array(vec![Object::Integer(0), Object::Array(widths)]),
        ),
        ("CIDToGIDMap", name("Identity")),
    ]));
    let to_unicode_id = doc.add_object(Stream::new(Dictionary::new(), to_unicode(subset)));
    doc.add_object(Dictionary::from_iter(vec![
        ("Type", name("Font")),
        ("Subtype", name("Type0")),
        ("BaseFont", name(&base_font)),
        ("Encoding", name("Identity-H")),
        (
            "DescendantFonts",
            Object::Array(vec![reference(cid_font_id)]),
        ),
        ("ToUnicode", reference(to_unicode_id)),
    ]))
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

/// Text as 2-byte glyph codes of the face's subset (Identity-H), a hexadecimal string.
fn shown_string(text: &str, subset: &Subset) -> Object {
    let bytes = text
        .chars()
        .flat_map(|c| subset.codes.get(&c).copied().unwrap_or(0).to_be_bytes())
        .collect();
    Object::String(bytes, StringFormat::Hexadecimal)
}

/// One page's content stream.
fn page_content(draws: Vec<Draw>, subsets: &BTreeMap<Face, Subset>) -> Vec<Operation> {
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
                let Some(subset) = subsets.get(&face) else {
                    continue;
                };
                let name = font(face);
                ops.push(op("BT", vec![]));
                ops.push(op("Tf", vec![Object::Name(name.into()), real(size)]));
                // Inside a fresh BT the text matrix is the identity, so this
                // relative move is an absolute position.
                ops.push(op("Td", vec![real(r(x)), real(r(y))]));
                ops.push(op("Tj", vec![shown_string(&text, subset)]));
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
    let mut used: BTreeMap<Face, BTreeSet<char>> = BTreeMap::new();
    for draw in pages.iter().flatten() {
        if let Draw::Text { face, text, .. } = draw {
            used.entry(*face).or_default().extend(text.chars());
        }
    }
    let subsets: BTreeMap<Face, Subset> = used
        .iter()
        .map(|(face, chars)| Ok((*face, subset_face(*face, chars)?)))
        .collect::<Result<_, DocumentError>>()?;
    let contents: Vec<Vec<u8>> = pages
        .into_iter()
        .map(|draws| {
            let operations = page_content(draws, &subsets);
            Content { operations }
                .encode()
                .map_err(|e| DocumentError::Pdf(e.to_string()))
        })
        .collect::<Result<_, _>>()?;

    let mut doc = lopdf::Document::with_version("1.3");
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let pages_id = doc.new_object_id();
    let mut fonts = Dictionary::new();
    for (face, subset) in &subsets {
        let font_id = add_font(&mut doc, *face, subset);
        fonts.set(font(*face), reference(font_id));
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
