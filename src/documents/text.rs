//! WinAnsi text handling for the two built-in fonts: sanitising arbitrary
//! Unicode into characters the standard Helvetica fonts can show, measuring
//! strings with the fonts' advance widths, and greedy line wrapping.

/// The two built-in faces the renderer uses (ordered as their font resources are written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Face {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
}

/// Unicode code points of WinAnsiEncoding bytes 0x80..=0x9F (0 = unassigned).
const WIN_ANSI_HIGH: [u32; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

/// Advance widths (1/1000 em) of Helvetica for WinAnsi bytes 0x20..=0xFF.
///
/// Generated once from the metrics of the standard-font programs that printpdf 0.12
/// bundled (`BuiltinFont::get_parsed_font`), rounded to 1/1000 em; they equal Adobe's
/// Helvetica AFM widths, which a viewer uses for the non-embedded standard font.
/// Unassigned bytes are 0 and are never emitted, because [`sanitize`] maps every
/// character to an assigned byte.
#[rustfmt::skip]
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0,
    744, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 222, 222, 333, 278, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 0, 737, 333,
    400, 549, 333, 333, 333, 576, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 549, 611, 556, 556, 556, 556, 500, 556, 500,
];

/// Advance widths (1/1000 em) of Helvetica-Bold for WinAnsi bytes 0x20..=0xFF.
/// Same provenance as [`HELVETICA`].
#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0,
    744, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 278, 278, 500, 333, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 0, 737, 333,
    400, 549, 333, 333, 333, 576, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 549, 611, 611, 611, 611, 611, 556, 611, 556,
];

/// Width used for a character the tables do not know (never hit for
/// sanitised text; a safe over-estimate otherwise).
const FALLBACK_WIDTH: u16 = 556;

/// The WinAnsiEncoding byte for `c`, if the encoding has one.
pub(crate) fn win_ansi_byte(c: char) -> Option<u8> {
    let cp = u32::from(c);
    match cp {
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(cp).ok(),
        _ => WIN_ANSI_HIGH
            .iter()
            .position(|&h| h != 0 && h == cp)
            .and_then(|i| u8::try_from(0x80 + i).ok()),
    }
}

/// Maps one character to what the document shows for it: `Some(c)` keeps a
/// WinAnsi character, a substitute for common typographic characters the
/// encoding lacks, `None` drops invisible characters, and anything else
/// becomes `'?'`. Line feeds are kept (they are explicit line breaks).
fn map_char(c: char) -> Option<char> {
    match c {
        '\n' => Some('\n'),
        '\t' => Some(' '),
        '\r' => None,
        // Soft hyphen, zero-width spaces/joiners, word joiner, BOM.
        '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => None,
        // Combining diacritics (decomposed text degrades to the base letter).
        '\u{0300}'..='\u{036F}' => None,
        // Typographic spaces: thin, narrow no-break (used as a digit-group
        // separator in South African amounts), figure, ideographic ...
        '\u{2007}' | '\u{202F}' => Some('\u{00A0}'),
        '\u{2000}'..='\u{200A}' | '\u{205F}' | '\u{3000}' => Some(' '),
        '\u{2010}'..='\u{2012}' | '\u{2212}' => Some('-'),
        '\u{2015}' => Some('\u{2014}'),
        '\u{2032}' => Some('\''),
        '\u{2033}' => Some('"'),
        c if c.is_control() => Some('?'),
        c if win_ansi_byte(c).is_some() => Some(c),
        _ => Some('?'),
    }
}

/// Returns `s` reduced to characters the built-in fonts can show (see
/// [`map_char`]). Deterministic, never fails.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars().filter_map(map_char).collect()
}

/// Width of one (sanitised) character in 1/1000 em.
fn char_units(c: char, face: Face) -> u16 {
    let table = match face {
        Face::Regular => &HELVETICA,
        Face::Bold => &HELVETICA_BOLD,
    };
    win_ansi_byte(c)
        .and_then(|b| table.get(usize::from(b).wrapping_sub(0x20)).copied())
        .filter(|&w| w != 0)
        .unwrap_or(FALLBACK_WIDTH)
}

/// Width of `s` set in `face` at `size` points, in points.
pub(crate) fn text_width(s: &str, face: Face, size: f32) -> f32 {
    let units: u32 = s.chars().map(|c| u32::from(char_units(c, face))).sum();
    // Exact for any realistic line (< 2^24 units).
    units as f32 * size / 1000.0
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
    fn sanitize_replaces_outside_win_ansi() {
        assert_eq!(sanitize("Café – “ok” €5"), "Café – “ok” €5");
        assert_eq!(sanitize("R\u{202F}1\u{202F}234,56"), "R\u{a0}1\u{a0}234,56");
        assert_eq!(sanitize("漢字 ok"), "?? ok");
        assert_eq!(sanitize("a\tb\r\nc\u{0}"), "a b\nc?");
        assert_eq!(sanitize("e\u{301}"), "e");
        assert_eq!(sanitize("😀"), "?");
        for c in sanitize("Ω≈√∞ Ǆ ẞ ĳ ŉ").chars() {
            assert!(win_ansi_byte(c).is_some(), "{c:?}");
        }
    }

    #[test]
    fn widths_match_known_afm_values() {
        assert_eq!(char_units(' ', Face::Regular), 278);
        assert_eq!(char_units('W', Face::Regular), 944);
        assert_eq!(char_units('i', Face::Regular), 222);
        assert_eq!(char_units('!', Face::Bold), 333);
        assert_eq!(char_units('m', Face::Bold), 889);
        assert!((text_width("Page", Face::Regular, 10.0) - 23.35).abs() < 0.001);
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
