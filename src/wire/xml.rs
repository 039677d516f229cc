//! A bounded, namespace-aware XML reader and a small writer.
//!
//! [`parse`] turns a request body into an [`Element`] tree, resolving every name to its
//! namespace URI (prefixes are never compared), refusing any DOCTYPE and any entity other
//! than the five predefined ones and character references, and enforcing the configured
//! [`XmlLimits`] while it reads. [`XmlWriter`] writes escaped, indented output.

use quick_xml::events::Event;
use quick_xml::name::{NamespaceError, ResolveResult};
use quick_xml::reader::NsReader;

/// The `xsi` namespace (for `xsi:nil` and `xsi:type`).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Most namespace declarations in scope at once (quick-xml's resolver enforces it while
/// reading a start tag, before [`XmlLimits::max_attributes`] is looked at). Real SOAP
/// stacks declare a handful.
pub const MAX_NAMESPACE_BINDINGS: usize = 128;

/// Bounds on what one request body may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Deepest element nesting allowed (the Envelope is depth 1).
    pub max_depth: usize,
    /// Most elements allowed in one document.
    pub max_elements: usize,
    /// Most attributes (namespace declarations included) on one element.
    pub max_attributes: usize,
    /// Longest text content of one element, in bytes.
    pub max_text_bytes: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        XmlLimits {
            max_depth: 32,
            max_elements: 10_000,
            max_attributes: 64,
            max_text_bytes: 256 * 1024,
        }
    }
}

/// Why a body is not acceptable XML. Each variant becomes its own fault code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// The body is not UTF-8.
    #[error("the request body is not UTF-8")]
    NotUtf8,
    /// The body is not well-formed XML.
    #[error("the request body is not well-formed XML: {0}")]
    Malformed(String),
    /// The body carries a document type declaration.
    #[error("a DOCTYPE declaration is not allowed")]
    Doctype,
    /// The body references an entity other than the five predefined ones.
    #[error("entity reference &{0}; is not allowed")]
    Entity(String),
    /// A prefix is used without a namespace declaration.
    #[error("namespace prefix '{0}' is not declared")]
    UnboundPrefix(String),
    /// Elements nest deeper than allowed.
    #[error("elements nest deeper than {0} levels")]
    TooDeep(usize),
    /// The document has more elements than allowed.
    #[error("the document has more than {0} elements")]
    TooManyElements(usize),
    /// An element has more attributes than allowed.
    #[error("an element has more than {0} attributes")]
    TooManyAttributes(usize),
    /// An element's text is longer than allowed.
    #[error("an element's text is longer than {0} bytes")]
    TextTooLong(usize),
    /// More namespace declarations are in scope than allowed.
    #[error("more than {0} namespace declarations are in scope")]
    TooManyNamespaces(usize),
}

/// An attribute, resolved to its namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The namespace URI, if the attribute name has a prefix.
    pub ns: Option<String>,
    /// The local name.
    pub name: String,
    /// The unescaped value.
    pub value: String,
}

/// An element, resolved to its namespace, with its direct text and child elements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The namespace URI, if any.
    pub ns: Option<String>,
    /// The local name.
    pub name: String,
    /// Attributes other than namespace declarations.
    pub attrs: Vec<Attribute>,
    /// The concatenated text and CDATA directly inside this element.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// Whether this element has the given namespace and local name.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    /// The value of an attribute by namespace and local name.
    pub fn attr(&self, ns: Option<&str>, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name == name && a.ns.as_deref() == ns)
            .map(|a| a.value.as_str())
    }

    /// Whether the element carries `xsi:nil="true"`.
    pub fn is_nil(&self) -> bool {
        matches!(self.attr(Some(XSI_NS), "nil"), Some("true" | "1"))
    }

    /// `{ns}name` for messages.
    pub fn qualified_name(&self) -> String {
        match &self.ns {
            Some(ns) => format!("{{{ns}}}{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Parses a whole document into its root element, enforcing `limits`.
///
/// A leading UTF-8 byte order mark is skipped.
///
/// # Errors
///
/// Any [`XmlError`]; nothing is expanded or fetched, whatever the input says.
pub fn parse(body: &[u8], limits: &XmlLimits) -> Result<Element, XmlError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
    if let Some(bad) = first_invalid_char(text) {
        return Err(XmlError::Malformed(format!(
            "character U+{:04X} is not allowed in XML 1.0",
            u32::from(bad)
        )));
    }
    let mut reader = NsReader::from_str(text);
    reader
        .resolver_mut()
        .set_max_namespace_bindings(MAX_NAMESPACE_BINDINGS);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    config.trim_text(false);

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let (element_ns, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => {
                let ns = match &event {
                    Event::Start(start) => Some(namespace(resolved, &start.name().prefix())),
                    _ => None,
                };
                (ns, event)
            }
            Err(quick_xml::Error::Namespace(NamespaceError::TooManyBindings(limit))) => {
                return Err(XmlError::TooManyNamespaces(limit));
            }
            Err(e) => {
                return Err(XmlError::Malformed(describe(&e, reader.buffer_position())));
            }
        };
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::Malformed("content after the root element".into()));
                }
                elements += 1;
                if elements > limits.max_elements {
                    return Err(XmlError::TooManyElements(limits.max_elements));
                }
                if stack.len() + 1 > limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                let ns = element_ns.expect("computed for every start tag")?;
                if !is_qname(start.name().as_ref()) {
                    return Err(XmlError::Malformed(format!(
                        "'{}' is not an element name",
                        clip_name(start.name().as_ref())
                    )));
                }
                let name = start.local_name().as_ref().to_string();
                let mut attrs = Vec::new();
                let mut count = 0usize;
                for attr in start.attributes() {
                    let attr =
                        attr.map_err(|e| XmlError::Malformed(format!("bad attribute: {e}")))?;
                    count += 1;
                    if count > limits.max_attributes {
                        return Err(XmlError::TooManyAttributes(limits.max_attributes));
                    }
                    let key = attr.key;
                    if !is_qname(key.as_ref()) {
                        return Err(XmlError::Malformed(format!(
                            "'{}' is not an attribute name",
                            clip_name(key.as_ref())
                        )));
                    }
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (attr_ns, local) = reader.resolver().resolve_attribute(key);
                    let attr_ns = match attr_ns {
                        ResolveResult::Bound(ns) => Some(ns.as_ref().to_string()),
                        ResolveResult::Unbound => None,
                        ResolveResult::Unknown(prefix) => {
                            return Err(XmlError::UnboundPrefix(prefix));
                        }
                    };
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| match e {
                            quick_xml::Error::Escape(
                                quick_xml::escape::EscapeError::UnrecognizedEntity(_, name),
                            ) => XmlError::Entity(name),
                            other => XmlError::Malformed(format!("bad attribute value: {other}")),
                        })?;
                    if let Some(bad) = first_invalid_char(&value) {
                        return Err(XmlError::Malformed(format!(
                            "character U+{:04X} in an attribute value is not allowed in XML 1.0",
                            u32::from(bad)
                        )));
                    }
                    if value.len() > limits.max_text_bytes {
                        return Err(XmlError::TextTooLong(limits.max_text_bytes));
                    }
                    let mut value = value.into_owned();
                    nfc_in_place(&mut value);
                    attrs.push(Attribute {
                        ns: attr_ns,
                        name: local.as_ref().to_string(),
                        value,
                    });
                }
                stack.push(Element {
                    ns,
                    name,
                    attrs,
                    text: String::new(),
                    children: Vec::new(),
                });
            }
            Event::End(_) => {
                let mut done = stack
                    .pop()
                    .ok_or_else(|| XmlError::Malformed("unexpected end tag".into()))?;
                nfc_in_place(&mut done.text);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Empty(_) => unreachable!("expand_empty_elements is on"),
            Event::Text(text) => {
                let content = text.xml10_content();
                push_text(&mut stack, &content, limits, root.is_some())?;
            }
            Event::CData(cdata) => {
                let content = cdata.into_inner().into_owned();
                if stack.is_empty() {
                    return Err(XmlError::Malformed("CDATA outside the root element".into()));
                }
                push_text(&mut stack, &content, limits, root.is_some())?;
            }
            Event::GeneralRef(reference) => {
                let ch = match reference.resolve_char_ref() {
                    Ok(Some(ch)) => ch,
                    Ok(None) => {
                        let name = reference.into_inner();
                        match predefined_entity(&name) {
                            Some(ch) => ch,
                            None => return Err(XmlError::Entity(name.into_owned())),
                        }
                    }
                    Err(_) => {
                        return Err(XmlError::Malformed("invalid character reference".into()));
                    }
                };
                if !is_xml_char(ch) {
                    return Err(XmlError::Malformed(format!(
                        "character reference to U+{:04X}, which XML 1.0 does not allow",
                        u32::from(ch)
                    )));
                }
                if stack.is_empty() {
                    return Err(XmlError::Malformed(
                        "a reference outside the root element".into(),
                    ));
                }
                let mut buf = [0u8; 4];
                push_text(&mut stack, ch.encode_utf8(&mut buf), limits, root.is_some())?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed(
            "the document ends inside an element".into(),
        ));
    }
    root.ok_or_else(|| XmlError::Malformed("the document has no root element".into()))
}

/// Rewrites `text` in Unicode Normalization Form C, so a name typed decomposed (NFD,
/// `e` + combining acute) is validated, compared and stored exactly like the same name
/// composed. ASCII and text already in NFC (almost everything) cost one quick check.
fn nfc_in_place(text: &mut String) {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    if text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
        return;
    }
    *text = text.nfc().collect();
}

fn push_text(
    stack: &mut [Element],
    content: &str,
    limits: &XmlLimits,
    after_root: bool,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(current) => {
            if current.text.len() + content.len() > limits.max_text_bytes {
                return Err(XmlError::TextTooLong(limits.max_text_bytes));
            }
            current.text.push_str(content);
            Ok(())
        }
        None if content.trim().is_empty() => Ok(()),
        None if after_root => Err(XmlError::Malformed("content after the root element".into())),
        None => Err(XmlError::Malformed("text before the root element".into())),
    }
}

fn namespace(
    resolved: ResolveResult<'_>,
    prefix: &Option<quick_xml::name::Prefix<'_>>,
) -> Result<Option<String>, XmlError> {
    match resolved {
        ResolveResult::Bound(ns) => Ok(Some(ns.as_ref().to_string())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(XmlError::UnboundPrefix(
            prefix.map(|p| p.as_ref().to_string()).unwrap_or(p),
        )),
    }
}

/// Whether `name` is a namespace-aware XML name: `local` or `prefix:local`, each part
/// starting with a letter, `_` or a non-ASCII character and going on with letters,
/// digits, `_`, `-`, `.` or non-ASCII characters. (quick-xml does not check names, so
/// `<>` or `<a"b>` would otherwise pass.) Non-ASCII is taken on trust: a slightly
/// lenient reading of the XML Name production.
fn is_qname(name: &str) -> bool {
    fn ncname(part: &str) -> bool {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_' || !c.is_ascii())
            && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.') || !c.is_ascii())
    }
    match name.split_once(':') {
        Some((prefix, local)) => ncname(prefix) && ncname(local),
        None => ncname(name),
    }
}

/// A name for an error message: at most 40 characters.
fn clip_name(name: &str) -> String {
    match name.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &name[..end]),
        None => name.to_string(),
    }
}

fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

fn describe(error: &quick_xml::Error, position: u64) -> String {
    // The parser's own wording is about the caller's document, never about our internals,
    // so it is safe (and useful) on the wire; keep it to one line.
    let text = error.to_string().replace('\n', " ");
    format!("{text} (near byte {position})")
}

/// Whether XML 1.0 allows `c` in a document (the `Char` production: tab, line feed,
/// carriage return, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF; Rust strings hold
/// no surrogates).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character of `text` that XML 1.0 does not allow. Scans bytes: only a
/// control byte or the encodings of U+FFFE / U+FFFF (`EF BF BE`, `EF BF BF`) can be one.
pub fn first_invalid_char(text: &str) -> Option<char> {
    let bytes = text.as_bytes();
    let at = bytes.iter().enumerate().position(|(i, &b)| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            || (b == 0xEF
                && bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)))
    })?;
    text[at..].chars().next()
}

/// `text` with every character XML 1.0 does not allow replaced by U+FFFD, so whatever
/// reaches the writer (stored data, echoed input) cannot make a response ill-formed.
pub fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if first_invalid_char(text).is_none() {
        return text.into();
    }
    text.chars()
        .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
        .collect::<String>()
        .into()
}

/// Escapes text for attribute values (`<`, `>`, `&`, `'`, `"`); characters XML 1.0
/// does not allow become U+FFFD.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    match xml_safe(text) {
        std::borrow::Cow::Borrowed(text) => quick_xml::escape::escape(text),
        std::borrow::Cow::Owned(safe) => quick_xml::escape::escape(&safe).into_owned().into(),
    }
}

/// Escapes text for element content (`<`, `>`, `&` only, so messages stay readable);
/// characters XML 1.0 does not allow become U+FFFD.
pub fn escape_text(text: &str) -> std::borrow::Cow<'_, str> {
    match xml_safe(text) {
        std::borrow::Cow::Borrowed(text) => quick_xml::escape::partial_escape(text),
        std::borrow::Cow::Owned(safe) => {
            quick_xml::escape::partial_escape(&safe).into_owned().into()
        }
    }
}

/// A minimal indented XML writer producing UTF-8 bytes.
///
/// Elements are written with no prefix; the caller declares the default namespace on the
/// element that starts it. Empty optional values are simply not written.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
    depth: usize,
}

impl XmlWriter {
    /// A writer whose first element is indented as if it stood at `depth`.
    pub fn at_depth(depth: usize) -> Self {
        XmlWriter {
            buf: String::with_capacity(1024),
            depth,
        }
    }

    fn indent(&mut self) {
        self.buf.push('\n');
        for _ in 0..self.depth {
            self.buf.push_str("  ");
        }
    }

    /// Writes raw, already well-formed markup.
    pub fn raw(&mut self, markup: &str) {
        self.buf.push_str(markup);
    }

    /// Opens `<name attrs…>`; attribute values are escaped.
    pub fn open_with(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(name);
        for (key, value) in attrs {
            self.buf.push(' ');
            self.buf.push_str(key);
            self.buf.push_str("=\"");
            self.buf.push_str(&escape(value));
            self.buf.push('"');
        }
        self.buf.push('>');
        self.depth += 1;
    }

    /// Opens `<name>`.
    pub fn open(&mut self, name: &str) {
        self.open_with(name, &[]);
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// Writes `<name>text</name>`.
    pub fn leaf(&mut self, name: &str, text: &str) {
        self.leaf_with(name, &[], text);
    }

    /// Writes `<name attrs…>text</name>`.
    pub fn leaf_with(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(name);
        for (key, value) in attrs {
            self.buf.push(' ');
            self.buf.push_str(key);
            self.buf.push_str("=\"");
            self.buf.push_str(&escape(value));
            self.buf.push('"');
        }
        self.buf.push('>');
        self.buf.push_str(&escape_text(text));
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// Writes `<name>value</name>` for anything displayable.
    pub fn leaf_display(&mut self, name: &str, value: impl std::fmt::Display) {
        self.leaf(name, &value.to_string());
    }

    /// Writes the leaf only when there is a value.
    pub fn opt_leaf(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.leaf(name, value);
        }
    }

    /// Writes `<name/>`.
    pub fn empty(&mut self, name: &str) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str("/>");
    }

    /// The markup written so far.
    pub fn finish(self) -> String {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_default(text: &str) -> Result<Element, XmlError> {
        parse(text.as_bytes(), &XmlLimits::default())
    }

    #[test]
    fn resolves_names_by_namespace_not_prefix() {
        let a = parse_default(r#"<a:X xmlns:a="urn:n"><a:Y>1</a:Y></a:X>"#).unwrap();
        let b = parse_default(r#"<X xmlns="urn:n"><Y>1</Y></X>"#).unwrap();
        assert_eq!(a, b);
        assert!(a.is("urn:n", "X"));
        assert!(a.children[0].is("urn:n", "Y"));
    }

    #[test]
    fn refuses_doctype_and_entities() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>"#;
        assert_eq!(parse_default(xxe), Err(XmlError::Doctype));
        assert_eq!(
            parse_default("<x>&e;</x>"),
            Err(XmlError::Entity("e".into()))
        );
        assert_eq!(
            parse_default(r#"<x a="&e;"/>"#),
            Err(XmlError::Entity("e".into()))
        );
        let el = parse_default("<x>&lt;&amp;&#65;&#x42;</x>").unwrap();
        assert_eq!(el.text, "<&AB");
    }

    #[test]
    fn enforces_limits() {
        let limits = XmlLimits {
            max_depth: 3,
            max_elements: 5,
            max_attributes: 2,
            max_text_bytes: 4,
        };
        assert_eq!(
            parse(b"<a><b><c><d/></c></b></a>", &limits),
            Err(XmlError::TooDeep(3))
        );
        assert_eq!(
            parse(b"<a><b/><b/><b/><b/><b/></a>", &limits),
            Err(XmlError::TooManyElements(5))
        );
        assert_eq!(
            parse(br#"<a x="1" y="2" z="3"/>"#, &limits),
            Err(XmlError::TooManyAttributes(2))
        );
        assert_eq!(
            parse(b"<a>12345</a>", &limits),
            Err(XmlError::TextTooLong(4))
        );
        assert!(parse(b"<a><b>1234</b></a>", &limits).is_ok());
    }

    #[test]
    fn names_must_be_xml_names() {
        // Regression (found by fuzz/xml_parse): quick-xml reads `<>Y</>` as an element
        // with an empty name.
        for bad in [
            "<>Y</>",
            "<a><></></a>",
            "<:a/>",
            "<p:/>",
            "<a:b:c xmlns:a=\"urn:x\"/>",
            "<1a/>",
            "<a\"b/>",
            "<a =\"1\"/>",
            "<a 1=\"1\"/>",
            "<a b:=\"1\"/>",
        ] {
            // Both are XML_MALFORMED on the wire.
            assert!(
                matches!(
                    parse_default(bad),
                    Err(XmlError::Malformed(_) | XmlError::UnboundPrefix(_))
                ),
                "{bad}: {:?}",
                parse_default(bad)
            );
        }
        for good in [
            "<a/>",
            "<_a.b-c1/>",
            "<p:a xmlns:p=\"urn:x\" p:b=\"1\" c-d=\"2\"/>",
            "<naïve/>",
            "<名前/>",
        ] {
            assert!(parse_default(good).is_ok(), "{good}");
        }
        let long = format!("<a{}\"/>", "\"".repeat(100));
        let Err(XmlError::Malformed(message)) = parse_default(&long) else {
            panic!("accepted")
        };
        assert!(message.len() < 100, "{message}");
    }

    #[test]
    fn namespace_declarations_are_a_limit_not_malformation() {
        // Regression: quick-xml's own bound on bindings in scope surfaced as
        // XML_MALFORMED, with advice about quick-xml's API in the message.
        let decls: String = (0..200)
            .map(|i| format!(" xmlns:p{i}=\"urn:{i}\""))
            .collect();
        assert_eq!(
            parse_default(&format!("<a{decls}/>")),
            Err(XmlError::TooManyNamespaces(MAX_NAMESPACE_BINDINGS))
        );
        // Spread over nested elements, each well under the attribute limit.
        let mut nested = String::new();
        for level in 0..10 {
            nested.push_str("<e");
            for i in 0..20 {
                nested.push_str(&format!(" xmlns:l{level}p{i}=\"urn:{i}\""));
            }
            nested.push('>');
        }
        nested.push_str(&"</e>".repeat(10));
        assert_eq!(
            parse_default(&nested),
            Err(XmlError::TooManyNamespaces(MAX_NAMESPACE_BINDINGS))
        );
        let fine: String = (0..40)
            .map(|i| format!(" xmlns:p{i}=\"urn:{i}\""))
            .collect();
        assert!(parse_default(&format!("<a{fine}/>")).is_ok());
    }

    #[test]
    fn accepts_bom_cdata_and_comments() {
        let el = parse_default("\u{feff}<?xml version=\"1.0\"?><!-- hi --><x><![CDATA[a<b]]></x>")
            .unwrap();
        assert_eq!(el.text, "a<b");
    }

    #[test]
    fn refuses_malformed_input() {
        assert!(matches!(
            parse_default("<a><b></a>"),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(parse_default("<a>"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse_default(""), Err(XmlError::Malformed(_))));
        assert!(matches!(
            parse_default("<a/><b/>"),
            Err(XmlError::Malformed(_))
        ));
        assert_eq!(
            parse_default("<p:a/>"),
            Err(XmlError::UnboundPrefix("p".into()))
        );
        assert_eq!(
            parse(b"<a>\xff</a>", &XmlLimits::default()),
            Err(XmlError::NotUtf8)
        );
    }

    #[test]
    fn refuses_characters_xml_does_not_allow() {
        for body in [
            "<a>100\u{0}</a>",
            "<a>x\u{1}</a>",
            "<a>\u{FFFE}</a>",
            "<a>\u{FFFF}</a>",
            "<a>&#1;</a>",
            "<a>&#0;</a>",
            "<a>&#xFFFE;</a>",
            "<a>&#xffff;</a>",
            "<a>&#x1F;</a>",
            "<a b=\"&#2;\"/>",
            "<a b=\"\u{7}\"/>",
            "<a><![CDATA[\u{8}]]></a>",
            "<!-- \u{1} --><a/>",
            "<a>&#xD800;</a>",
        ] {
            assert!(
                matches!(parse_default(body), Err(XmlError::Malformed(_))),
                "{body:?} must be refused"
            );
        }
        // What XML 1.0 does allow still parses.
        let ok = parse_default("<a>tab\there&#9;&#xA;&#xD;&#x10000;\u{FFFD}\u{E000}</a>")
            .expect("valid");
        assert!(ok.text.contains('\u{10000}'));
    }

    #[test]
    fn text_and_attributes_are_normalised_to_nfc() {
        let decomposed = "Rene\u{301}e Mu\u{308}ller";
        let composed = "Ren\u{e9}e M\u{fc}ller";
        let el = parse_default(&format!("<a b=\"{decomposed}\">{decomposed}</a>")).expect("parses");
        assert_eq!(el.text, composed);
        assert_eq!(el.attrs[0].value, composed);
        // A character reference to a combining mark composes with what precedes it.
        let el = parse_default("<a>Jose&#x301;</a>").expect("parses");
        assert_eq!(el.text, "Jos\u{e9}");
    }

    #[test]
    fn output_escaping_replaces_characters_xml_does_not_allow() {
        assert_eq!(escape_text("a\u{0}b<\u{FFFE}"), "a\u{FFFD}b&lt;\u{FFFD}");
        assert_eq!(escape("\u{1}\""), "\u{FFFD}&quot;");
        assert!(matches!(
            escape_text("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
        let mut w = XmlWriter::default();
        w.leaf_with("x", &[("k", "\u{2}")], "100\u{0}");
        roxmltree::Document::parse(&w.finish()).expect("well-formed");
    }

    #[test]
    fn writer_escapes_and_indents() {
        let mut w = XmlWriter::default();
        w.open_with("A", &[("xmlns", "urn:x")]);
        w.leaf("B", "1 < 2 & \"q\"");
        w.opt_leaf("C", None);
        w.close("A");
        assert_eq!(
            w.finish(),
            "\n<A xmlns=\"urn:x\">\n  <B>1 &lt; 2 &amp; \"q\"</B>\n</A>"
        );
    }
}
