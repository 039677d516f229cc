//! What a console page is made of ([`Page`]: sections of text, key/value pairs, tables
//! and forms) and its one askama template (`templates/console/page.html`), which
//! escapes every value it prints (HTML auto-escaping of `.html` templates), so no text
//! from the store or a request can become markup. Also the small helpers the pages
//! share: percent-encoding for links, form decoding, escaping-free link building.

use askama::Template;

/// A link.
#[derive(Debug, Clone)]
pub struct Link {
    /// Target (already percent-encoded where it carries names).
    pub href: String,
    /// Text shown.
    pub text: String,
}

impl Link {
    /// A link to `href` showing `text`.
    pub fn new(href: impl Into<String>, text: impl Into<String>) -> Link {
        Link {
            href: href.into(),
            text: text.into(),
        }
    }
}

/// One table cell: text, a link, or a button posting a form (with its CSRF token).
#[derive(Debug, Clone, Default)]
pub struct Cell {
    /// Text shown (the link's or button's label).
    pub text: String,
    /// A link target.
    pub href: Option<String>,
    /// A form action: the cell is a button posting there.
    pub post: Option<String>,
    /// Hidden fields the button's form carries.
    pub hidden: Vec<(String, String)>,
}

impl Cell {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ..Cell::default()
        }
    }

    /// A link.
    pub fn link(href: impl Into<String>, text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: Some(href.into()),
            ..Cell::default()
        }
    }

    /// A button posting to `action`.
    pub fn button(action: impl Into<String>, label: impl Into<String>) -> Cell {
        Cell {
            text: label.into(),
            post: Some(action.into()),
            ..Cell::default()
        }
    }

    /// A button posting to `action` with hidden fields.
    pub fn button_with(
        action: impl Into<String>,
        label: impl Into<String>,
        hidden: &[(&str, &str)],
    ) -> Cell {
        Cell {
            text: label.into(),
            post: Some(action.into()),
            hidden: hidden
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            ..Cell::default()
        }
    }
}

/// A table, with an optional link to the next page.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column headings.
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Cell>>,
    /// The next page, when there is one.
    pub next: Option<Link>,
}

impl Table {
    /// A table with these headings and no rows yet.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| (*h).to_string()).collect(),
            ..Table::default()
        }
    }
}

/// One form field.
#[derive(Debug, Clone)]
pub struct Field {
    /// The name posted.
    pub name: String,
    /// The label shown.
    pub label: String,
    /// `text`, `password`, `date`, `hidden` or `select`.
    pub input_type: &'static str,
    /// The value (the selected option of a select).
    pub value: String,
    /// A select's options: value and text.
    pub options: Vec<(String, String)>,
    /// Whether the browser must require a value.
    pub required: bool,
}

impl Field {
    /// A required text field.
    pub fn text(name: &str, label: &str) -> Field {
        Field {
            name: name.into(),
            label: label.into(),
            input_type: "text",
            value: String::new(),
            options: Vec::new(),
            required: true,
        }
    }

    /// An optional text field with a value.
    pub fn optional(name: &str, label: &str, value: &str) -> Field {
        Field {
            value: value.into(),
            required: false,
            ..Field::text(name, label)
        }
    }

    /// A required password field.
    pub fn password(name: &str, label: &str) -> Field {
        Field {
            input_type: "password",
            ..Field::text(name, label)
        }
    }

    /// A required date field.
    pub fn date(name: &str, label: &str) -> Field {
        Field {
            input_type: "date",
            ..Field::text(name, label)
        }
    }

    /// A hidden field.
    pub fn hidden(name: &str, value: &str) -> Field {
        Field {
            input_type: "hidden",
            value: value.into(),
            ..Field::text(name, "")
        }
    }

    /// A select of `options` (value, text).
    pub fn select(name: &str, label: &str, options: Vec<(String, String)>) -> Field {
        Field {
            input_type: "select",
            options,
            required: false,
            ..Field::text(name, label)
        }
    }
}

/// A form.
#[derive(Debug, Clone)]
pub struct Form {
    /// `post` (carries the CSRF token) or `get`.
    pub method: &'static str,
    /// Where it goes.
    pub action: String,
    /// Its fields.
    pub fields: Vec<Field>,
    /// The button's label.
    pub submit: String,
}

impl Form {
    /// A form posting to `action`.
    pub fn post(action: impl Into<String>, submit: &str, fields: Vec<Field>) -> Form {
        Form {
            method: "post",
            action: action.into(),
            fields,
            submit: submit.into(),
        }
    }

    /// A search form (GET).
    pub fn get(action: impl Into<String>, submit: &str, fields: Vec<Field>) -> Form {
        Form {
            method: "get",
            action: action.into(),
            fields,
            submit: submit.into(),
        }
    }
}

/// One section of a page.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// Heading (empty: none).
    pub heading: String,
    /// Paragraphs.
    pub text: Vec<String>,
    /// Key/value pairs.
    pub pairs: Vec<(String, String)>,
    /// A table.
    pub table: Option<Table>,
    /// A form.
    pub form: Option<Form>,
}

impl Section {
    /// A section with a heading.
    pub fn new(heading: &str) -> Section {
        Section {
            heading: heading.into(),
            ..Section::default()
        }
    }

    /// With a table.
    pub fn table(mut self, table: Table) -> Section {
        self.table = Some(table);
        self
    }

    /// With a form.
    pub fn form(mut self, form: Form) -> Section {
        self.form = Some(form);
        self
    }

    /// With a paragraph.
    pub fn line(mut self, text: impl Into<String>) -> Section {
        self.text.push(text.into());
        self
    }

    /// With key/value pairs.
    pub fn pairs(mut self, pairs: Vec<(String, String)>) -> Section {
        self.pairs = pairs;
        self
    }
}

/// A whole page.
#[derive(Debug, Clone, Default, Template)]
#[template(path = "console/page.html")]
pub struct Page {
    /// Title and heading.
    pub title: String,
    /// The logged-in operator's description (`None`: the login page).
    pub operator: Option<String>,
    /// Navigation links.
    pub nav: Vec<Link>,
    /// The session's CSRF token (the login form's own before a session exists).
    pub csrf: String,
    /// An error to show.
    pub error: Option<String>,
    /// A notice to show.
    pub notice: Option<String>,
    /// The content.
    pub sections: Vec<Section>,
}

impl Page {
    /// A page with a title.
    pub fn new(title: impl Into<String>) -> Page {
        Page {
            title: title.into(),
            ..Page::default()
        }
    }

    /// Adds a section.
    pub fn push(&mut self, section: Section) {
        self.sections.push(section);
    }

    /// The HTML.
    pub fn html(&self) -> String {
        self.render().unwrap_or_else(|e| {
            format!(
                "<!DOCTYPE html><p>page could not be rendered: {}</p>",
                escape(&e.to_string())
            )
        })
    }
}

/// Minimal HTML escaping for the one string built outside the template.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Percent-encodes a path segment or query value (everything but unreserved characters).
pub fn pct(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a percent-encoded component (`+` as space in forms); `None` when the result
/// is not UTF-8.
pub fn unpct(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Decoded `application/x-www-form-urlencoded` pairs (also a query string). Pairs that
/// do not decode are dropped.
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((unpct(k, true)?, unpct(v, true)?))
        })
        .collect()
}

/// The first value of `name` among decoded pairs.
pub fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_in_the_page() {
        let mut page = Page::new("<script>alert(1)</script>");
        page.push(Section::new("x").line("a & b \" <i>"));
        let html = page.html();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(
            html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"),
            "{html}"
        );
        assert!(!html.contains("<i>"));
    }

    #[test]
    fn forms_decode_and_links_encode() {
        let pairs = form_pairs("a=1+2&b=%C3%A9%26&c&bad=%ZZ");
        assert_eq!(value(&pairs, "a"), Some("1 2"));
        assert_eq!(value(&pairs, "b"), Some("é&"));
        assert_eq!(value(&pairs, "c"), Some(""));
        assert_eq!(value(&pairs, "bad"), None);
        assert_eq!(pct("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(unpct("%2", false), Some("%2".into()));
    }
}
