//! Pagination: turns a [`DocumentSpec`] into positioned drawing primitives,
//! page by page. All geometry is in PDF points; [`Draw`] coordinates use the
//! PDF convention (origin bottom-left), while the layout cursor measures
//! distance from the top edge.

use super::text::{Face, ellipsize, sanitize, text_width, wrap};
use super::{Align, Block, DocumentSpec};

/// A4 width (210 mm) in points.
pub(crate) const PAGE_W: f32 = 595.2756;
/// A4 height (297 mm) in points.
pub(crate) const PAGE_H: f32 = 841.8898;

const MARGIN_X: f32 = 50.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
/// Distance of the first line from the top edge.
const TOP: f32 = 48.0;
/// Body content ends this far above the bottom edge (the footer lives below).
const BOTTOM: f32 = 64.0;
/// Footer rule and baseline, measured from the bottom edge.
const FOOTER_RULE: f32 = 46.0;
const FOOTER_BASELINE: f32 = 34.0;
/// Where the body starts on pages after the first (below the running header).
const RUNNING_BODY_TOP: f32 = TOP + 24.0;

const TITLE: f32 = 17.0;
const TITLE_LH: f32 = 21.0;
const SUBTITLE: f32 = 10.0;
const SUBTITLE_LH: f32 = 13.0;
const HEADING: f32 = 12.0;
const HEADING_LH: f32 = 15.0;
const BODY: f32 = 9.5;
const BODY_LH: f32 = 12.5;
const LABEL: f32 = 9.0;
const TABLE: f32 = 8.5;
const TABLE_LH: f32 = 11.0;
const SMALL: f32 = 8.0;
const BLOCK_GAP: f32 = 9.0;
const SPACER: f32 = 14.0;

const BLACK: f32 = 0.0;
const DARK: f32 = 0.3;
const MUTED: f32 = 0.4;
const RULE_GREY: f32 = 0.55;
const HAIRLINE_GREY: f32 = 0.78;
const HEADER_FILL: f32 = 0.86;
const ZEBRA_FILL: f32 = 0.955;
const NOTICE_FILL: f32 = 0.92;

/// A positioned drawing primitive (PDF coordinates, points).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Draw {
    /// One line of sanitised text with its baseline starting at (x, y).
    Text {
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        grey: f32,
        text: String,
    },
    /// A straight stroked line.
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        grey: f32,
    },
    /// A rectangle with its lower-left corner at (x, y), filled and/or
    /// stroked (`stroke` = (line width, grey)).
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Option<f32>,
        stroke: Option<(f32, f32)>,
    },
}

/// One grid column: position, text style and alignment.
#[derive(Debug, Clone, Copy)]
struct GridCol {
    x: f32,
    w: f32,
    align: Align,
    face: Face,
    size: f32,
    grey: f32,
}

/// Visual style of a grid (table, key/value list, notice box).
#[derive(Debug, Clone, Copy)]
struct GridStyle {
    line_h: f32,
    pad_x: f32,
    pad_y: f32,
    zebra: bool,
    /// Hairline under every row chunk: (width, grey).
    separator: Option<(f32, f32)>,
    /// Box around every row chunk: (fill grey, stroke width, stroke grey).
    boxed: Option<(f32, f32, f32)>,
}

/// A grid's repeating header row: column styles and wrapped cell lines.
struct GridHeader {
    cols: Vec<GridCol>,
    cells: Vec<Vec<String>>,
}

struct Layout {
    pages: Vec<Vec<Draw>>,
    /// Cursor: distance of the next free line from the top edge.
    y: f32,
    /// Where the body of the current page starts.
    body_top: f32,
    running_left: String,
    running_right: String,
}

/// Lays out `spec` (already validated) into pages of drawing primitives,
/// including running headers and "Page N of M" footers.
pub(crate) fn layout(spec: &DocumentSpec) -> Vec<Vec<Draw>> {
    let title = sanitize(&spec.title);
    let subtitle = spec.subtitle.as_deref().map(sanitize).unwrap_or_default();
    let mut l = Layout {
        pages: vec![Vec::new()],
        y: TOP,
        body_top: TOP,
        running_left: title.clone(),
        running_right: subtitle.clone(),
    };
    l.title_block(&title, &subtitle);
    for block in &spec.blocks {
        l.block(block);
    }
    l.footers(&sanitize(&spec.footer));
    l.pages
}

/// Baseline (distance from top) of a line of `size` text in a line box of
/// height `line_h` starting at `top`: roughly centres the font's cap height.
fn baseline(top: f32, line_h: f32, size: f32) -> f32 {
    top + line_h / 2.0 + 0.32 * size
}

/// Left x of a text of width `w` aligned in the span [x, x + span].
fn aligned_x(align: Align, x: f32, span: f32, w: f32) -> f32 {
    match align {
        Align::Left => x,
        Align::Right => x + span - w,
        Align::Center => x + (span - w) / 2.0,
    }
}

impl Layout {
    fn draw(&mut self, d: Draw) {
        if let Some(page) = self.pages.last_mut() {
            page.push(d);
        }
    }

    /// Draws one text line; `top` is the line box top (distance from the top
    /// edge).
    #[allow(clippy::too_many_arguments)]
    fn text(&mut self, x: f32, top: f32, line_h: f32, face: Face, size: f32, grey: f32, s: &str) {
        if s.is_empty() {
            return;
        }
        self.draw(Draw::Text {
            x,
            y: PAGE_H - baseline(top, line_h, size),
            face,
            size,
            grey,
            text: s.to_owned(),
        });
    }

    /// Horizontal line at distance `top` from the top edge.
    fn hline(&mut self, x1: f32, x2: f32, top: f32, width: f32, grey: f32) {
        self.draw(Draw::Line {
            x1,
            y1: PAGE_H - top,
            x2,
            y2: PAGE_H - top,
            width,
            grey,
        });
    }

    /// Rectangle whose top edge is at distance `top` from the top edge.
    fn rect(
        &mut self,
        x: f32,
        top: f32,
        w: f32,
        h: f32,
        fill: Option<f32>,
        stroke: Option<(f32, f32)>,
    ) {
        self.draw(Draw::Rect {
            x,
            y: PAGE_H - top - h,
            w,
            h,
            fill,
            stroke,
        });
    }

    fn limit() -> f32 {
        PAGE_H - BOTTOM
    }

    fn remaining(&self) -> f32 {
        Self::limit() - self.y
    }

    fn at_top(&self) -> bool {
        self.y <= self.body_top + 0.01
    }

    /// Starts a new page with the running header.
    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
        let half = CONTENT_W / 2.0 - 6.0;
        let left = ellipsize(&self.running_left, Face::Bold, SMALL, half);
        let right = ellipsize(&self.running_right, Face::Regular, SMALL, half);
        let right_w = text_width(&right, Face::Regular, SMALL);
        self.text(MARGIN_X, TOP, 10.0, Face::Bold, SMALL, MUTED, &left);
        let rx = MARGIN_X + CONTENT_W - right_w;
        self.text(rx, TOP, 10.0, Face::Regular, SMALL, MUTED, &right);
        self.hline(MARGIN_X, MARGIN_X + CONTENT_W, TOP + 14.0, 0.5, RULE_GREY);
        self.body_top = RUNNING_BODY_TOP;
        self.y = RUNNING_BODY_TOP;
    }

    /// Breaks the page unless `needed` points fit (or the page is empty).
    fn ensure(&mut self, needed: f32) {
        if !self.at_top() && self.remaining() < needed {
            self.new_page();
        }
    }

    fn title_block(&mut self, title: &str, subtitle: &str) {
        for line in wrap(title, Face::Bold, TITLE, CONTENT_W) {
            self.text(MARGIN_X, self.y, TITLE_LH, Face::Bold, TITLE, BLACK, &line);
            self.y += TITLE_LH;
        }
        if !subtitle.is_empty() {
            self.y += 1.0;
            for line in wrap(subtitle, Face::Regular, SUBTITLE, CONTENT_W) {
                self.text(
                    MARGIN_X,
                    self.y,
                    SUBTITLE_LH,
                    Face::Regular,
                    SUBTITLE,
                    DARK,
                    &line,
                );
                self.y += SUBTITLE_LH;
            }
        }
        self.y += 5.0;
        self.hline(MARGIN_X, MARGIN_X + CONTENT_W, self.y, 1.2, BLACK);
        self.y += 14.0;
        self.body_top = self.y;
    }

    fn block(&mut self, block: &Block) {
        match block {
            Block::Heading(s) => self.heading(&sanitize(s)),
            Block::Paragraph(s) => {
                self.paragraph(&sanitize(s));
                self.y += BLOCK_GAP;
            }
            Block::KeyValues(pairs) => {
                self.key_values(pairs);
                self.y += BLOCK_GAP;
            }
            Block::Table { columns, rows } => {
                self.table(columns, rows);
                self.y += BLOCK_GAP;
            }
            Block::Notice(s) => {
                self.notice(&sanitize(s));
                self.y += BLOCK_GAP;
            }
            Block::Signatures(labels) => {
                self.signatures(labels);
                self.y += BLOCK_GAP;
            }
            Block::Spacer => self.y += SPACER,
            Block::PageBreak => {
                if !self.at_top() {
                    self.new_page();
                }
            }
        }
    }

    fn heading(&mut self, s: &str) {
        let lines = wrap(s, Face::Bold, HEADING, CONTENT_W);
        // Keep the heading with at least three lines of what follows.
        let own = lines.len() as f32 * HEADING_LH + 8.0;
        self.ensure(own + 3.0 * BODY_LH);
        if !self.at_top() {
            self.y += 4.0;
        }
        for line in &lines {
            self.text(
                MARGIN_X,
                self.y,
                HEADING_LH,
                Face::Bold,
                HEADING,
                BLACK,
                line,
            );
            self.y += HEADING_LH;
        }
        self.y += 1.5;
        self.hline(MARGIN_X, MARGIN_X + CONTENT_W, self.y, 0.6, RULE_GREY);
        self.y += 6.5;
    }

    fn paragraph(&mut self, s: &str) {
        for line in wrap(s, Face::Regular, BODY, CONTENT_W) {
            if self.remaining() < BODY_LH {
                self.new_page();
            }
            self.text(MARGIN_X, self.y, BODY_LH, Face::Regular, BODY, BLACK, &line);
            self.y += BODY_LH;
        }
    }

    fn key_values(&mut self, pairs: &[(String, String)]) {
        let label_w = (CONTENT_W * 0.34).round();
        let cols = [
            GridCol {
                x: MARGIN_X,
                w: label_w,
                align: Align::Left,
                face: Face::Bold,
                size: LABEL,
                grey: DARK,
            },
            GridCol {
                x: MARGIN_X + label_w,
                w: CONTENT_W - label_w,
                align: Align::Left,
                face: Face::Regular,
                size: BODY,
                grey: BLACK,
            },
        ];
        let style = GridStyle {
            line_h: BODY_LH,
            pad_x: 4.0,
            pad_y: 2.5,
            zebra: false,
            separator: Some((0.4, HAIRLINE_GREY)),
            boxed: None,
        };
        let rows = pairs
            .iter()
            .map(|(k, v)| vec![sanitize(k), sanitize(v)])
            .collect::<Vec<_>>();
        self.grid(&cols, None, &rows, style);
    }

    fn table(&mut self, columns: &[super::Column], rows: &[Vec<String>]) {
        let total: f32 = columns.iter().map(|c| c.width).sum();
        let mut x = MARGIN_X;
        let mut body_cols = Vec::with_capacity(columns.len());
        for c in columns {
            let w = CONTENT_W * c.width / total;
            body_cols.push(GridCol {
                x,
                w,
                align: c.align,
                face: Face::Regular,
                size: TABLE,
                grey: BLACK,
            });
            x += w;
        }
        let style = GridStyle {
            line_h: TABLE_LH,
            pad_x: 4.0,
            pad_y: 3.0,
            zebra: true,
            separator: Some((0.4, HAIRLINE_GREY)),
            boxed: None,
        };
        let header_cols: Vec<GridCol> = body_cols
            .iter()
            .map(|c| GridCol {
                face: Face::Bold,
                ..*c
            })
            .collect();
        let header_cells = columns
            .iter()
            .zip(&header_cols)
            .map(|(c, g)| wrap(&sanitize(&c.title), g.face, g.size, g.w - 2.0 * style.pad_x))
            .collect();
        let header = GridHeader {
            cols: header_cols,
            cells: header_cells,
        };
        let rows = rows
            .iter()
            .map(|r| r.iter().map(|c| sanitize(c)).collect())
            .collect::<Vec<Vec<String>>>();
        self.grid(&body_cols, Some(&header), &rows, style);
    }

    fn notice(&mut self, s: &str) {
        let cols = [GridCol {
            x: MARGIN_X,
            w: CONTENT_W,
            align: Align::Left,
            face: Face::Bold,
            size: BODY,
            grey: BLACK,
        }];
        let style = GridStyle {
            line_h: BODY_LH,
            pad_x: 9.0,
            pad_y: 7.0,
            zebra: false,
            separator: None,
            boxed: Some((NOTICE_FILL, 1.0, 0.15)),
        };
        self.grid(&cols, None, &[vec![s.to_owned()]], style);
    }

    /// Draws a grid: rows of wrapped cells, split across pages line by line
    /// when a row cannot fit on a page of its own, with the header repeated
    /// at the top of every page.
    fn grid(
        &mut self,
        cols: &[GridCol],
        header: Option<&GridHeader>,
        rows: &[Vec<String>],
        style: GridStyle,
    ) {
        let wrapped: Vec<Vec<Vec<String>>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(cols)
                    .map(|(cell, c)| wrap(cell, c.face, c.size, c.w - 2.0 * style.pad_x))
                    .collect()
            })
            .collect();
        let lh = style.line_h;
        let pad = 2.0 * style.pad_y;
        let header_h = header.map_or(0.0, |h| {
            h.cells.iter().map(Vec::len).max().unwrap_or(1).max(1) as f32 * lh + pad
        });
        let row_lines =
            |cells: &Vec<Vec<String>>| cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let fresh_capacity = Self::limit() - RUNNING_BODY_TOP - header_h;
        // Keep the header with the first row (or as much of it as a page holds).
        let first_h = wrapped.first().map_or(1, row_lines) as f32 * lh + pad;
        self.ensure(header_h + first_h.min(fresh_capacity));
        if let Some(h) = header {
            self.grid_header(h, header_h, style);
        }
        let mut rows_on_page = 0_usize;
        for (index, cells) in wrapped.iter().enumerate() {
            let n = row_lines(cells);
            let mut start = 0;
            while start < n {
                let full = (n - start) as f32 * lh + pad;
                if full <= self.remaining() + 0.01 {
                    self.grid_chunk(cols, cells, index, start, n, style);
                    rows_on_page += 1;
                    break;
                }
                let page_fresh = rows_on_page == 0 && self.y <= self.body_top + header_h + 0.01;
                if !page_fresh && full <= fresh_capacity {
                    self.grid_page_break(header, header_h, style);
                    rows_on_page = 0;
                    continue;
                }
                // Split the row: as many lines as fit here (at least one on
                // an otherwise empty page, so layout always progresses).
                let fit = ((self.remaining() - pad) / lh).floor().max(0.0) as usize;
                let k = fit.min(n - start).max(usize::from(page_fresh));
                if k > 0 {
                    self.grid_chunk(cols, cells, index, start, start + k, style);
                    start += k;
                    rows_on_page += 1;
                }
                if start < n {
                    self.grid_page_break(header, header_h, style);
                    rows_on_page = 0;
                }
            }
        }
    }

    fn grid_page_break(&mut self, header: Option<&GridHeader>, header_h: f32, style: GridStyle) {
        self.new_page();
        if let Some(h) = header {
            self.grid_header(h, header_h, style);
        }
    }

    fn grid_header(&mut self, h: &GridHeader, header_h: f32, style: GridStyle) {
        let x0 = h.cols.first().map_or(MARGIN_X, |c| c.x);
        let x1 = h.cols.last().map_or(MARGIN_X, |c| c.x + c.w);
        self.rect(x0, self.y, x1 - x0, header_h, Some(HEADER_FILL), None);
        let top = self.y + style.pad_y;
        for (c, lines) in h.cols.iter().zip(&h.cells) {
            self.cell_lines(c, lines, 0, lines.len(), top, style);
        }
        self.y += header_h;
        self.hline(x0, x1, self.y, 0.7, RULE_GREY);
    }

    /// Draws lines `start..end` of every cell of one row at the cursor.
    fn grid_chunk(
        &mut self,
        cols: &[GridCol],
        cells: &[Vec<String>],
        index: usize,
        start: usize,
        end: usize,
        style: GridStyle,
    ) {
        let h = (end - start) as f32 * style.line_h + 2.0 * style.pad_y;
        let x0 = cols.first().map_or(MARGIN_X, |c| c.x);
        let x1 = cols.last().map_or(MARGIN_X, |c| c.x + c.w);
        if let Some((fill, width, grey)) = style.boxed {
            self.rect(x0, self.y, x1 - x0, h, Some(fill), Some((width, grey)));
        } else if style.zebra && !index.is_multiple_of(2) {
            self.rect(x0, self.y, x1 - x0, h, Some(ZEBRA_FILL), None);
        }
        let top = self.y + style.pad_y;
        for (c, lines) in cols.iter().zip(cells) {
            self.cell_lines(c, lines, start, end, top, style);
        }
        self.y += h;
        if let Some((width, grey)) = style.separator {
            self.hline(x0, x1, self.y, width, grey);
        }
    }

    fn cell_lines(
        &mut self,
        c: &GridCol,
        lines: &[String],
        start: usize,
        end: usize,
        top: f32,
        style: GridStyle,
    ) {
        let inner = c.w - 2.0 * style.pad_x;
        for (i, line) in lines.iter().enumerate().take(end).skip(start) {
            let w = text_width(line, c.face, c.size);
            let x = aligned_x(c.align, c.x + style.pad_x, inner, w);
            let line_top = top + (i - start) as f32 * style.line_h;
            self.text(x, line_top, style.line_h, c.face, c.size, c.grey, line);
        }
    }

    fn signatures(&mut self, labels: &[String]) {
        const GAP: f32 = 30.0;
        const SIGN_SPACE: f32 = 38.0;
        const LABEL_LH: f32 = 11.0;
        let col_w = (CONTENT_W - GAP) / 2.0;
        for pair in labels.chunks(2) {
            let wrapped: Vec<Vec<String>> = pair
                .iter()
                .map(|l| wrap(&sanitize(l), Face::Bold, LABEL, col_w))
                .collect();
            let label_lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
            let row_h = SIGN_SPACE + 4.0 + label_lines as f32 * LABEL_LH + 22.0;
            self.ensure(row_h);
            let top = self.y;
            for (i, lines) in wrapped.iter().enumerate() {
                let x = MARGIN_X + i as f32 * (col_w + GAP);
                let line_top = top + SIGN_SPACE;
                self.hline(x, x + col_w, line_top, 0.8, BLACK);
                let mut t = line_top + 3.0;
                for line in lines {
                    self.text(x, t, LABEL_LH, Face::Bold, LABEL, BLACK, line);
                    t += LABEL_LH;
                }
                let date_top = line_top + 4.0 + label_lines as f32 * LABEL_LH + 6.0;
                let date = "Date:";
                self.text(x, date_top, LABEL_LH, Face::Regular, LABEL, DARK, date);
                let dx = x + text_width(date, Face::Regular, LABEL) + 4.0;
                let base = baseline(date_top, LABEL_LH, LABEL) + 1.5;
                self.hline(dx, x + col_w * 0.62, base, 0.5, BLACK);
            }
            self.y = top + row_h;
        }
    }

    /// Adds the footer (reference text and "Page N of M") to every page.
    fn footers(&mut self, footer: &str) {
        let total = self.pages.len();
        for (i, page) in self.pages.iter_mut().enumerate() {
            let number = format!("Page {} of {}", i + 1, total);
            let number_w = text_width(&number, Face::Regular, SMALL);
            let left = ellipsize(footer, Face::Regular, SMALL, CONTENT_W - number_w - 16.0);
            page.push(Draw::Line {
                x1: MARGIN_X,
                y1: FOOTER_RULE,
                x2: MARGIN_X + CONTENT_W,
                y2: FOOTER_RULE,
                width: 0.5,
                grey: RULE_GREY,
            });
            if !left.is_empty() {
                page.push(Draw::Text {
                    x: MARGIN_X,
                    y: FOOTER_BASELINE,
                    face: Face::Regular,
                    size: SMALL,
                    grey: MUTED,
                    text: left,
                });
            }
            page.push(Draw::Text {
                x: MARGIN_X + CONTENT_W - number_w,
                y: FOOTER_BASELINE,
                face: Face::Regular,
                size: SMALL,
                grey: MUTED,
                text: number,
            });
        }
    }
}
