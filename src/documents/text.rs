//! Text for the two embedded faces (DejaVu Sans and DejaVu Sans Bold, committed under
//! `data/fonts/` with their licence): sanitising arbitrary Unicode into characters both
//! faces can show, measuring strings with the fonts' advance widths, and greedy line
//! wrapping.
//!
//! DejaVu Sans covers the Latin letters of all eleven official languages (Tshivenḓa's
//! ḓ ḽ ṅ ṋ ṱ, Afrikaans ê ë ô, Sesotho sa Leboa's š, ...), Greek and Cyrillic, and the
//! combining diacritical marks.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::tables::cmap::Cmap;
use allsorts::tables::{FontTableProvider, HeadTable, HheaTable, HmtxTable, MaxpTable};
use allsorts::tag;

/// DejaVu Sans (Book), version 2.37 (Debian `fonts-dejavu-core`).
pub(crate) const DEJAVU_SANS: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold, same provenance.
pub(crate) const DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../data/fonts/DejaVuSans-Bold.ttf");

/// The two faces the renderer uses (ordered as their font resources are written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Face {
    /// DejaVu Sans.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
}

/// A parsed embedded font program: what layout and the PDF writer need of it.
pub(crate) struct FontProgram {
    /// The whole font file.
    pub(crate) bytes: &'static [u8],
    /// PostScript name, for /BaseFont.
    pub(crate) name: &'static str,
    /// Unicode code point to glyph id.
    cmap: BTreeMap<u32, u16>,
    /// Advance width of each glyph, in font units.
    advances: Vec<u16>,
    /// Font units per em.
    pub(crate) units_per_em: u16,
    /// Font bounding box (xMin, yMin, xMax, yMax), in font units.
    pub(crate) bbox: [i16; 4],
    /// Typographic ascender and descender, in font units.
    pub(crate) ascent: i16,
    /// See `ascent`.
    pub(crate) descent: i16,
}

impl FontProgram {
    fn load(bytes: &'static [u8], name: &'static str) -> Result<FontProgram, String> {
        Self::parse(bytes, name).map_err(|e| format!("{name}: {e}"))
    }

    fn parse(bytes: &'static [u8], name: &'static str) -> Result<FontProgram, String> {
        fn e(e: impl std::fmt::Display) -> String {
            e.to_string()
        }
        let font_file = ReadScope::new(bytes).read::<FontData<'_>>().map_err(e)?;
        let provider = font_file.table_provider(0).map_err(e)?;
        let head = ReadScope::new(&provider.read_table_data(tag::HEAD).map_err(e)?)
            .read::<HeadTable>()
            .map_err(e)?;
        let maxp = ReadScope::new(&provider.read_table_data(tag::MAXP).map_err(e)?)
            .read::<MaxpTable>()
            .map_err(e)?;
        let hhea = ReadScope::new(&provider.read_table_data(tag::HHEA).map_err(e)?)
            .read::<HheaTable>()
            .map_err(e)?;
        let cmap_data = provider.read_table_data(tag::CMAP).map_err(e)?;
        let cmap_table = ReadScope::new(&cmap_data).read::<Cmap<'_>>().map_err(e)?;
        let (_, subtable) = allsorts::font::read_cmap_subtable(&cmap_table)
            .map_err(e)?
            .ok_or_else(|| "no Unicode cmap".to_string())?;
        let mut cmap = BTreeMap::new();
        subtable
            .mappings_fn(|cp, gid| {
                cmap.insert(cp, gid);
            })
            .map_err(e)?;
        let hmtx_data = provider.read_table_data(tag::HMTX).map_err(e)?;
        let hmtx = ReadScope::new(&hmtx_data)
            .read_dep::<HmtxTable<'_>>((
                usize::from(maxp.num_glyphs),
                usize::from(hhea.num_h_metrics),
            ))
            .map_err(e)?;
        let advances = (0..maxp.num_glyphs)
            .map(|g| hmtx.horizontal_advance(g).unwrap_or(0))
            .collect();
        Ok(FontProgram {
            bytes,
            name,
            cmap,
            advances,
            units_per_em: head.units_per_em.max(1),
            bbox: [head.x_min, head.y_min, head.x_max, head.y_max],
            ascent: hhea.ascender,
            descent: hhea.descender,
        })
    }

    /// The glyph for `c`, if the font has one.
    pub(crate) fn glyph(&self, c: char) -> Option<u16> {
        self.cmap.get(&u32::from(c)).copied().filter(|&g| g != 0)
    }

    /// Advance width of glyph `g` in 1/1000 em.
    pub(crate) fn glyph_units(&self, g: u16) -> f32 {
        self.advances.get(usize::from(g)).map_or(0.0, |&w| {
            f32::from(w) * 1000.0 / f32::from(self.units_per_em)
        })
    }

    /// Advance width of `c` in 1/1000 em (0 for a character the font lacks).
    fn units(&self, c: char) -> f32 {
        self.glyph(c).map_or(0.0, |g| self.glyph_units(g))
    }

    /// A length in font units as 1/1000 em, for the PDF font descriptor.
    pub(crate) fn scaled(&self, v: i16) -> i64 {
        (i64::from(v) * 1000).div_euclid(i64::from(self.units_per_em))
    }
}

impl Face {
    /// The font program for this face, parsed once per process.
    pub(crate) fn font(self) -> &'static FontProgram {
        static FONTS: OnceLock<[FontProgram; 2]> = OnceLock::new();
        let fonts = FONTS.get_or_init(|| {
            [
                FontProgram::load(DEJAVU_SANS, "DejaVuSans")
                    .unwrap_or_else(|e| panic!("bundled font (checked by unit tests): {e}")),
                FontProgram::load(DEJAVU_SANS_BOLD, "DejaVuSans-Bold")
                    .unwrap_or_else(|e| panic!("bundled font (checked by unit tests): {e}")),
            ]
        });
        match self {
            Face::Regular => &fonts[0],
            Face::Bold => &fonts[1],
        }
    }
}

/// Whether both faces have a glyph for `c`, so it prints exactly wherever it appears.
pub fn printable(c: char) -> bool {
    Face::Regular.font().glyph(c).is_some() && Face::Bold.font().glyph(c).is_some()
}

/// Whether every character of `s` prints exactly as given on a document: both faces
/// have its glyph and it needs no right-to-left ordering or contextual shaping (Hebrew,
/// Arabic and their presentation forms are refused: the renderer lays text out left to
/// right, glyph by glyph).
pub fn prints_exactly(s: &str) -> bool {
    s.chars().all(|c| {
        !matches!(u32::from(c), 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
            && (c == ' ' || printable(c))
    })
}

/// Maps one character to what the document shows for it: `Some(c)` keeps a
/// character both faces have, a substitute for typographic spaces and dashes,
/// `None` drops invisible characters, and anything else becomes `'?'`. Line
/// feeds are kept (they are explicit line breaks).
fn map_char(c: char) -> Option<char> {
    match c {
        '\n' => Some('\n'),
        '\t' => Some(' '),
        '\r' => None,
        // Soft hyphen, zero-width spaces/joiners, word joiner, BOM.
        '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => None,
        // Typographic spaces: thin, narrow no-break (used as a digit-group
        // separator in South African amounts), figure, ideographic ...
        '\u{2007}' | '\u{202F}' => Some('\u{00A0}'),
        '\u{2000}'..='\u{200A}' | '\u{205F}' | '\u{3000}' => Some(' '),
        '\u{2010}'..='\u{2012}' | '\u{2212}' => Some('-'),
        c if c.is_control() => Some('?'),
        c if printable(c) => Some(c),
        _ => Some('?'),
    }
}

/// Returns `s` reduced to characters the embedded fonts can show (see
/// [`map_char`]). Deterministic, never fails.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars().filter_map(map_char).collect()
}

/// Width of one (sanitised) character in 1/1000 em.
fn char_units(c: char, face: Face) -> f32 {
    face.font().units(c)
}

/// Width of `s` set in `face` at `size` points, in points.
pub(crate) fn text_width(s: &str, face: Face, size: f32) -> f32 {
    let units: f32 = s.chars().map(|c| char_units(c, face)).sum();
    units * size / 1000.0
}

/// Tolerance for width comparisons, in points.
const EPS: f32 = 0.01;

/// Wraps sanitised text to `max_width` points. Explicit `'\n'` start new
/// lines (an empty line is kept as an empty string); runs of spaces collapse
/// to one; words wider than the line are broken between characters, at least
/// one character per line, so the result always fits (or holds a single
/// character) and the loop always progresses. Returns at least one line.
pub(crate) fn wrap(text: &str, face: Face, size: f32, max_width: f32) -> Vec<String> {
    let space = text_width(" ", face, size);
    let mut lines = Vec::new();
    for source_line in text.split('\n') {
        let mut current = String::new();
        let mut current_width = 0.0_f32;
        for word in source_line.split(' ').filter(|w| !w.is_empty()) {
            let word_width = text_width(word, face, size);
            if !current.is_empty() && current_width + space + word_width <= max_width + EPS {
                current.push(' ');
                current.push_str(word);
                current_width += space + word_width;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            if word_width <= max_width + EPS {
                current.push_str(word);
                current_width = word_width;
            } else {
                // Hard-break an over-long word; the last piece stays open so
                // the next word may follow it on the same line.
                current_width = 0.0;
                for c in word.chars() {
                    let w = text_width(c.encode_utf8(&mut [0; 4]), face, size);
                    if !current.is_empty() && current_width + w > max_width + EPS {
                        lines.push(std::mem::take(&mut current));
                        current_width = 0.0;
                    }
                    current.push(c);
                    current_width += w;
                }
            }
        }
        lines.push(current);
    }
    lines
}

/// Shortens sanitised `text` with a trailing "..." so it fits `max_width`.
pub(crate) fn ellipsize(text: &str, face: Face, size: f32, max_width: f32) -> String {
    if text_width(text, face, size) <= max_width + EPS {
        return text.to_owned();
    }
    let dots = "...";
    let budget = max_width - text_width(dots, face, size);
    let mut out = String::new();
    let mut width = 0.0_f32;
    for c in text.chars() {
        let w = text_width(c.encode_utf8(&mut [0; 4]), face, size);
        if width + w > budget + EPS {
            break;
        }
        out.push(c);
        width += w;
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push_str(dots);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_what_the_fonts_show() {
        assert_eq!(sanitize("Café – “ok” €5"), "Café – “ok” €5");
        assert_eq!(sanitize("R\u{202F}1\u{202F}234,56"), "R\u{a0}1\u{a0}234,56");
        assert_eq!(sanitize("漢字 ok"), "?? ok");
        assert_eq!(sanitize("a\tb\r\nc\u{0}"), "a b\nc?");
        // Decomposed text keeps its combining mark (DejaVu has them, zero width).
        assert_eq!(sanitize("e\u{301}"), "e\u{301}");
        assert_eq!(sanitize("\u{4E00}"), "?");
        assert_eq!(sanitize("Ṱhalefhi Nemaḓivhe"), "Ṱhalefhi Nemaḓivhe");
    }

    /// The letters of the eleven official languages' Latin orthographies (PanSALB
    /// spelling rules; Unicode CLDR exemplar characters for af, nr, nso, st, ss, tn, ts,
    /// ve, xh, zu, en) print in both faces.
    #[test]
    fn official_languages_letters_are_printable() {
        let letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\
                       áàâäéèêëíìîïóòôöúùûüýÁÀÂÄÉÈÊËÍÎÏÓÔÖÚÛÜÝ\
                       ŉ šŠ ḓḼḽṄṅṊṋṰṱḒ ŋŊ ñÑ çÇ\
                       ʼ’'-.";
        for c in letters.chars().filter(|c| !c.is_whitespace()) {
            assert!(printable(c), "{c:?} U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn prints_exactly_refuses_what_would_not_print() {
        assert!(prints_exactly("Ṱhalefhi Nemaḓivhe"));
        assert!(prints_exactly("Anêl du Toit-Bôë"));
        assert!(prints_exactly("Ζωή Παπαδοπούλου"));
        assert!(!prints_exactly("漢字"));
        assert!(!prints_exactly("שרה"));
        assert!(!prints_exactly("فاطمة"));
    }

    #[test]
    fn widths_come_from_the_fonts() {
        // DejaVu Sans: space 651/2048 em, W 2025/2048, i 569/2048.
        assert!((char_units(' ', Face::Regular) - 317.87).abs() < 0.01);
        assert!((char_units('W', Face::Regular) - 988.77).abs() < 0.01);
        assert!(char_units('m', Face::Bold) > char_units('m', Face::Regular));
        assert_eq!(char_units('漢', Face::Regular), 0.0);
        assert!(text_width("Ṱhalefhi", Face::Regular, 10.0) > 30.0);
    }

    #[test]
    fn wrap_breaks_words_and_long_tokens() {
        let lines = wrap("the quick brown fox", Face::Regular, 10.0, 50.0);
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(text_width(l, Face::Regular, 10.0) <= 50.01, "{l}");
        }
        let long = "X".repeat(200);
        let lines = wrap(&long, Face::Bold, 10.0, 100.0);
        assert!(lines.len() > 10);
        assert_eq!(lines.concat(), long);
        for l in &lines {
            assert!(text_width(l, Face::Bold, 10.0) <= 100.01);
        }
        assert_eq!(wrap("a\n\nb", Face::Regular, 9.0, 100.0), ["a", "", "b"]);
        assert_eq!(wrap("", Face::Regular, 9.0, 100.0), [""]);
        // A column narrower than one glyph still progresses.
        assert_eq!(wrap("WW", Face::Regular, 9.0, 1.0), ["W", "W"]);
    }

    #[test]
    fn ellipsize_fits() {
        let s = ellipsize(&"word ".repeat(50), Face::Regular, 8.0, 100.0);
        assert!(s.ends_with("..."));
        assert!(text_width(&s, Face::Regular, 8.0) <= 100.01);
        assert_eq!(ellipsize("short", Face::Regular, 8.0, 100.0), "short");
    }
}
