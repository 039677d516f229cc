//! Comparing a stored response body with a live one as XML trees: element namespace URI
//! and local name, attributes by namespace and name, text trimmed; prefixes and
//! whitespace-only text never count. Volatile values are masked (see [`Masking`]) and
//! server-generated identifiers are matched by a consistent renaming ([`IdMap`]) instead
//! of by value, so a server whose store has seen other requests still compares equal.
//! Differences come out as path-based lines:
//! `/Envelope/Body/GetClientResponse/Result/Code: expected 0, got 201`.

use std::collections::BTreeMap;

use crate::wire::soap::SOAP12_NS;
use crate::wire::xml::{self, Attribute, Element, XmlLimits};

/// Elements whose text the server generates (row-derived numbers and ids). Against a
/// store that is not fresh they differ from the snapshot's, so they are compared through
/// an [`IdMap`]: each expected value must always stand for the same live value.
pub const GENERATED_IDS: &[&str] = &[
    "AllpsClientNumber",
    "AccountId",
    "PromissoryNumber",
    "PaymentNumber",
    "WalletRequestId",
    "WalletNumber",
    "Sequence",
    "NextSequence",
];

/// Elements whose text is always masked (random per call).
pub const VOLATILE: &[&str] = &["SessionId"];

/// Elements whose text is an xs:QName (`soap:Client`): only the local part is compared,
/// since the prefix is the writer's choice.
const QNAME_TEXT: &[&str] = &["faultcode", "Value"];

/// How values are compared.
#[derive(Debug, Clone, Copy, Default)]
pub struct Masking {
    /// Compare [`GENERATED_IDS`] by value (only meaningful against a freshly seeded store
    /// replaying one case).
    pub exact_ids: bool,
}

/// Which identifier sequence an element's text belongs to: each of
/// [`GENERATED_IDS`] is its own, except that the sequence elements share one.
pub fn id_kind(name: &str) -> Option<&'static str> {
    match name {
        "Sequence" | "NextSequence" | "SinceSequence" => Some("Sequence"),
        _ => GENERATED_IDS.iter().copied().find(|g| *g == name),
    }
}

/// A one-to-one correspondence, per identifier kind, between identifiers in the
/// snapshots' world (a fresh store) and the live server's.
#[derive(Debug, Default, Clone)]
pub struct IdMap {
    forward: BTreeMap<(&'static str, String), String>,
    backward: BTreeMap<(&'static str, String), String>,
}

impl IdMap {
    /// Records that `expected` stands for `actual` among identifiers of `kind` (see
    /// [`id_kind`]). `false` if either is already paired with something else.
    pub fn pair(&mut self, kind: &'static str, expected: &str, actual: &str) -> bool {
        let (fk, bk) = ((kind, expected.to_string()), (kind, actual.to_string()));
        match (self.forward.get(&fk), self.backward.get(&bk)) {
            (Some(a), _) => a == actual,
            (None, Some(_)) => false,
            (None, None) => {
                self.forward.insert(fk, actual.into());
                self.backward.insert(bk, expected.into());
                true
            }
        }
    }

    /// The live value an expected identifier of `kind` stands for, if known.
    pub fn live(&self, kind: &'static str, expected: &str) -> Option<&str> {
        self.forward
            .get(&(kind, expected.to_string()))
            .map(String::as_str)
    }

    /// Whether every pair maps a value to itself.
    pub fn is_identity(&self) -> bool {
        self.forward.iter().all(|((_, a), b)| a == b)
    }

    /// Replaces live identifiers long enough to be unambiguous (6+ characters, e.g.
    /// `PN00000042` in a file name or message) by their expected counterparts.
    fn to_expected_in_text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for ((_, live), expected) in &self.backward {
            if live != expected && live.len() >= 6 && out.contains(live.as_str()) {
                out = out.replace(live.as_str(), expected);
            }
        }
        out
    }

    /// Rewrites a request written for a fresh store: the text of every element that
    /// [`id_kind`] knows (the [`GENERATED_IDS`] and `SinceSequence`) whose value has a live counterpart is
    /// replaced by it. Everything else is left byte for byte.
    pub fn rewrite_request(&self, request: &str) -> String {
        if self.is_identity() {
            return request.to_string();
        }
        let mut out = String::with_capacity(request.len());
        let mut rest = request;
        // Each candidate is `>VALUE</[prefix:]Name` with Name an identifier element.
        while let Some(close) = rest.find("</") {
            let (before, after) = rest.split_at(close);
            let name_end = after[2..]
                .find(|c: char| c == '>' || c.is_whitespace())
                .map_or(after.len(), |i| i + 2);
            let qname = &after[2..name_end];
            let local = qname.rsplit(':').next().unwrap_or(qname);
            match (before.rfind('>'), id_kind(local)) {
                (Some(gt), Some(kind)) => {
                    let value = &before[gt + 1..];
                    let trimmed = value.trim();
                    match self.live(kind, trimmed) {
                        Some(live) if !trimmed.is_empty() => {
                            out.push_str(&before[..=gt]);
                            out.push_str(&value.replacen(trimmed, live, 1));
                        }
                        _ => out.push_str(before),
                    }
                }
                _ => out.push_str(before),
            }
            out.push_str(&after[..name_end]);
            rest = &after[name_end..];
        }
        out.push_str(rest);
        out
    }
}

/// Whether text is an xs:dateTime (`2026-11-23T08:00:00Z`, fractions and offsets allowed).
pub fn is_datetime(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    if b.len() < 19
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        "" | "Z" => true,
        zone => {
            let z = zone.as_bytes();
            z.len() == 6
                && (z[0] == b'+' || z[0] == b'-')
                && z[1..3].iter().all(u8::is_ascii_digit)
                && z[3] == b':'
                && z[4..6].iter().all(u8::is_ascii_digit)
        }
    }
}

fn limits() -> XmlLimits {
    XmlLimits {
        max_depth: 512,
        max_elements: 10_000_000,
        max_attributes: 4096,
        max_text_bytes: 512 * 1024 * 1024,
    }
}

/// Parses a response body for comparison (generous limits: it is the server's output).
pub fn parse_body(body: &str) -> Option<Element> {
    if body.trim().is_empty() {
        return None;
    }
    xml::parse(body.as_bytes(), &limits()).ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Only pair generated identifiers.
    Learn,
    /// Report differences.
    Compare,
}

struct Walk<'a> {
    masking: Masking,
    ids: &'a mut IdMap,
    /// Whether identifiers were renamed (documents that embed them cannot match).
    renamed: bool,
    mode: Mode,
    diffs: Vec<String>,
}

/// Compares two bodies; returns the differences (empty when they match). `ids` carries
/// identifier pairs learned earlier (setup steps) and gains this body's.
pub fn compare_bodies(
    expected: &str,
    actual: &str,
    masking: Masking,
    ids: &mut IdMap,
) -> Vec<String> {
    match (parse_body(expected), parse_body(actual)) {
        (Some(e), Some(a)) => compare_trees(&e, &a, masking, ids),
        (None, None) => {
            let (e, a) = (expected.trim(), actual.trim());
            if e == a || (!masking.exact_ids && e == ids.to_expected_in_text(a)) {
                Vec::new()
            } else {
                vec![format!("body: expected {}, got {}", show(e), show(a))]
            }
        }
        (Some(_), None) => vec![format!(
            "body: expected an XML document, got {}",
            show(actual.trim())
        )],
        (None, Some(_)) => vec![format!(
            "body: expected {}, got an XML document",
            show(expected.trim())
        )],
    }
}

/// Pairs the generated identifiers of two bodies that answer the same request (a setup
/// step run on a fresh store and on the live server) without reporting differences.
pub fn learn_ids(fresh: &str, live: &str, ids: &mut IdMap) {
    if let (Some(e), Some(a)) = (parse_body(fresh), parse_body(live)) {
        let mut walk = Walk {
            masking: Masking::default(),
            ids,
            renamed: false,
            mode: Mode::Learn,
            diffs: Vec::new(),
        };
        let path = format!("/{}", e.name);
        walk.element(&e, &a, &path, None);
    }
}

/// [`compare_bodies`] on parsed trees.
pub fn compare_trees(
    expected: &Element,
    actual: &Element,
    masking: Masking,
    ids: &mut IdMap,
) -> Vec<String> {
    let path = format!("/{}", expected.name);
    if !masking.exact_ids {
        let mut learn = Walk {
            masking,
            ids: &mut *ids,
            renamed: false,
            mode: Mode::Learn,
            diffs: Vec::new(),
        };
        learn.element(expected, actual, &path, None);
    }
    let renamed = !ids.is_identity();
    let mut walk = Walk {
        masking,
        ids,
        renamed,
        mode: Mode::Compare,
        diffs: Vec::new(),
    };
    walk.element(expected, actual, &path, None);
    walk.diffs
}

fn qualified(ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{{{ns}}}{name}"),
        None => name.to_string(),
    }
}

/// A value as it appears in a diff line: bare when plain, quoted when empty or padded,
/// shortened when long.
fn show(value: &str) -> String {
    const MAX: usize = 120;
    let shortened: String = if value.chars().count() > MAX {
        let head: String = value.chars().take(MAX).collect();
        format!("{head}… ({} characters)", value.chars().count())
    } else {
        value.to_string()
    };
    if shortened.is_empty()
        || shortened.trim() != shortened
        || shortened.contains('\n')
        || shortened.contains(", got ")
    {
        format!("{shortened:?}")
    } else {
        shortened
    }
}

impl Walk<'_> {
    fn diff(&mut self, line: String) {
        if self.mode == Mode::Compare {
            self.diffs.push(line);
        }
    }

    fn element(&mut self, e: &Element, a: &Element, path: &str, parent: Option<&str>) {
        if e.name != a.name || e.ns != a.ns {
            self.diff(format!(
                "{path}: expected element {}, got {}",
                qualified(e.ns.as_deref(), &e.name),
                qualified(a.ns.as_deref(), &a.name)
            ));
            return;
        }
        self.attributes(e, a, path);
        self.text(e, a, path, parent);
        let count = |list: &[Element], el: &Element| {
            list.iter()
                .filter(|c| c.name == el.name && c.ns == el.ns)
                .count()
        };
        let mut seen: BTreeMap<(Option<String>, String), usize> = BTreeMap::new();
        for (i, ec) in e.children.iter().enumerate() {
            let key = (ec.ns.clone(), ec.name.clone());
            let nth = {
                let n = seen.entry(key).or_insert(0);
                *n += 1;
                *n
            };
            let child_path = if count(&e.children, ec) > 1 || count(&a.children, ec) > 1 {
                format!("{path}/{}[{nth}]", ec.name)
            } else {
                format!("{path}/{}", ec.name)
            };
            match a.children.get(i) {
                Some(ac) => self.element(ec, ac, &child_path, Some(&e.name)),
                None => self.diff(format!(
                    "{child_path}: missing (expected element {}{})",
                    qualified(ec.ns.as_deref(), &ec.name),
                    if ec.children.is_empty() && !ec.text.trim().is_empty() {
                        format!(" with {}", show(ec.text.trim()))
                    } else {
                        String::new()
                    }
                )),
            }
        }
        for ac in a.children.iter().skip(e.children.len()) {
            self.diff(format!(
                "{path}/{}: unexpected element {}{}",
                ac.name,
                qualified(ac.ns.as_deref(), &ac.name),
                if ac.children.is_empty() && !ac.text.trim().is_empty() {
                    format!(" with {}", show(ac.text.trim()))
                } else {
                    String::new()
                }
            ));
        }
    }

    fn attributes(&mut self, e: &Element, a: &Element, path: &str) {
        let key = |x: &Attribute| (x.ns.clone(), x.name.clone());
        let expected: BTreeMap<_, _> = e.attrs.iter().map(|x| (key(x), x)).collect();
        let actual: BTreeMap<_, _> = a.attrs.iter().map(|x| (key(x), x)).collect();
        for (k, ex) in &expected {
            let at = format!("{path}/@{}", ex.name);
            match actual.get(k) {
                None => self.diff(format!("{at}: missing (expected {})", show(&ex.value))),
                Some(ax) => {
                    if !self.values_match(ex.value.trim(), ax.value.trim()) {
                        self.diff(format!(
                            "{at}: expected {}, got {}",
                            show(&ex.value),
                            show(&ax.value)
                        ));
                    }
                }
            }
        }
        for (k, ax) in &actual {
            if !expected.contains_key(k) {
                self.diff(format!(
                    "{path}/@{}: unexpected attribute {}",
                    ax.name,
                    show(&ax.value)
                ));
            }
        }
    }

    fn text(&mut self, e: &Element, a: &Element, path: &str, parent: Option<&str>) {
        let (et, at) = (e.text.trim(), a.text.trim());
        if VOLATILE.contains(&e.name.as_str()) {
            return;
        }
        if let Some(kind) = id_kind(&e.name).filter(|_| !self.masking.exact_ids) {
            let paired = self.ids.pair(kind, et, at);
            if !paired && self.mode == Mode::Compare {
                let note = match self.ids.live(kind, et) {
                    Some(other) => format!(" (the snapshot's {et} already stands for {other})"),
                    None => " (that value already stands for another identifier)".into(),
                };
                self.diff(format!(
                    "{path}: expected {}, got {}{note}",
                    show(et),
                    show(at)
                ));
            }
            return;
        }
        if self.mode == Mode::Learn {
            return;
        }
        // A printed document embeds identifiers; once they were renamed it cannot match.
        if self.renamed
            && parent == Some("Document")
            && matches!(e.name.as_str(), "Content" | "Sha256")
        {
            return;
        }
        let qname = QNAME_TEXT.contains(&e.name.as_str())
            && (e.name == "faultcode" && e.ns.is_none() || e.ns.as_deref() == Some(SOAP12_NS));
        let (et, at) = if qname {
            (local_part(et), local_part(at))
        } else {
            (et, at)
        };
        if !self.values_match(et, at) {
            self.diff(format!("{path}: expected {}, got {}", show(et), show(at)));
        }
    }

    fn values_match(&self, expected: &str, actual: &str) -> bool {
        if expected == actual {
            return true;
        }
        if is_datetime(expected) && is_datetime(actual) {
            return true;
        }
        !self.masking.exact_ids && self.renamed && expected == self.ids.to_expected_in_text(actual)
    }
}

fn local_part(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, local)| local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diffs(expected: &str, actual: &str) -> Vec<String> {
        compare_bodies(expected, actual, Masking::default(), &mut IdMap::default())
    }

    const RESPONSE: &str = r#"<?xml version="1.0"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <GetClientResponse xmlns="urn:allps:ws:v1">
      <Result><Code>0</Code><Message>OK</Message></Result>
      <Client><AllpsClientNumber>AC00000001</AllpsClientNumber><FirstName>Thabo</FirstName></Client>
    </GetClientResponse>
  </soap:Body>
</soap:Envelope>"#;

    #[test]
    fn prefixes_and_whitespace_do_not_count() {
        let other = r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><t:GetClientResponse xmlns:t="urn:allps:ws:v1"><t:Result><t:Code> 0 </t:Code><t:Message>OK</t:Message></t:Result><t:Client><t:AllpsClientNumber>AC00000001</t:AllpsClientNumber><t:FirstName>Thabo</t:FirstName></t:Client></t:GetClientResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
        assert_eq!(diffs(RESPONSE, other), Vec::<String>::new());
    }

    #[test]
    fn a_changed_value_is_reported_by_path() {
        let changed = RESPONSE.replace("<Code>0</Code>", "<Code>201</Code>");
        assert_eq!(
            diffs(RESPONSE, &changed),
            vec!["/Envelope/Body/GetClientResponse/Result/Code: expected 0, got 201"]
        );
    }

    #[test]
    fn namespaces_count() {
        let moved = RESPONSE.replace("urn:allps:ws:v1", "urn:other");
        let d = diffs(RESPONSE, &moved);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].contains("expected element {urn:allps:ws:v1}GetClientResponse, got {urn:other}GetClientResponse"),
            "{d:?}"
        );
    }

    #[test]
    fn missing_extra_and_attribute_differences() {
        let fewer = RESPONSE.replace("<FirstName>Thabo</FirstName>", "");
        assert_eq!(
            diffs(RESPONSE, &fewer),
            vec![
                "/Envelope/Body/GetClientResponse/Client/FirstName: missing (expected element {urn:allps:ws:v1}FirstName with Thabo)"
            ]
        );
        let more = RESPONSE.replace(
            "<FirstName>Thabo</FirstName>",
            "<FirstName>Thabo</FirstName><Email>x@y.z</Email>",
        );
        assert_eq!(
            diffs(RESPONSE, &more),
            vec![
                "/Envelope/Body/GetClientResponse/Client/Email: unexpected element {urn:allps:ws:v1}Email with x@y.z"
            ]
        );
        let attr = RESPONSE.replace("<FirstName>", "<FirstName kind=\"given\">");
        assert_eq!(
            diffs(RESPONSE, &attr),
            vec![
                "/Envelope/Body/GetClientResponse/Client/FirstName/@kind: unexpected attribute given"
            ]
        );
    }

    #[test]
    fn session_ids_and_timestamps_are_masked_dates_are_not() {
        let e = r#"<a xmlns="urn:x"><SessionId>[session-id]</SessionId><ExpiresAt>2026-11-23T20:00:00Z</ExpiresAt><D>2026-11-23</D></a>"#;
        let a = r#"<a xmlns="urn:x"><SessionId>0123456789abcdef0123456789abcdef</SessionId><ExpiresAt>2027-01-01T00:00:00.5+02:00</ExpiresAt><D>2026-11-23</D></a>"#;
        assert!(diffs(e, a).is_empty());
        let other_date = a.replace("<D>2026-11-23</D>", "<D>2026-11-24</D>");
        assert_eq!(
            diffs(e, &other_date),
            vec!["/a/D: expected 2026-11-23, got 2026-11-24"]
        );
    }

    #[test]
    fn generated_ids_must_be_renamed_consistently() {
        let e = r#"<r><AllpsClientNumber>AC00000003</AllpsClientNumber><Note>client AC00000003 added</Note><AllpsClientNumber>AC00000003</AllpsClientNumber></r>"#;
        let ok = e.replace("AC00000003", "AC00000041");
        assert!(diffs(e, &ok).is_empty());
        let bad = r#"<r><AllpsClientNumber>AC00000041</AllpsClientNumber><Note>client AC00000041 added</Note><AllpsClientNumber>AC00000042</AllpsClientNumber></r>"#;
        let d = diffs(e, bad);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("/r/AllpsClientNumber[2]: expected AC00000003, got AC00000042"),
            "{d:?}"
        );
        let mut ids = IdMap::default();
        let exact = compare_bodies(e, &ok, Masking { exact_ids: true }, &mut ids);
        assert_eq!(exact.len(), 3, "{exact:?}");
    }

    #[test]
    fn fault_codes_compare_without_prefix() {
        let e = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode></s:Fault></s:Body></s:Envelope>"#;
        let a = r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
        assert!(diffs(e, a).is_empty());
        let server = a.replace(":Client<", ":Server<");
        assert_eq!(diffs(e, &server).len(), 1);
    }

    #[test]
    fn non_xml_bodies_compare_as_text() {
        assert!(diffs("payload too large", "payload too large\n").is_empty());
        assert_eq!(diffs("", "x"), vec!["body: expected \"\", got x"]);
        assert_eq!(diffs("<a/>", "oops").len(), 1);
    }

    #[test]
    fn requests_are_rewritten_only_inside_identifier_elements() {
        let mut ids = IdMap::default();
        assert!(ids.pair("PromissoryNumber", "PN00000001", "PN00000042"));
        assert!(ids.pair("AccountId", "1", "7"));
        assert!(ids.pair("Sequence", "1", "3"));
        let request = r#"<s:Body><t:GetPromissory xmlns:t="urn:allps:ws:v1"><t:PromissoryNumber> PN00000001 </t:PromissoryNumber><InstalmentNumber>1</InstalmentNumber><AccountId>1</AccountId><SinceSequence>1</SinceSequence></t:GetPromissory></s:Body>"#;
        assert_eq!(
            ids.rewrite_request(request),
            r#"<s:Body><t:GetPromissory xmlns:t="urn:allps:ws:v1"><t:PromissoryNumber> PN00000042 </t:PromissoryNumber><InstalmentNumber>1</InstalmentNumber><AccountId>7</AccountId><SinceSequence>3</SinceSequence></t:GetPromissory></s:Body>"#
        );
        assert!(!ids.pair("PromissoryNumber", "PN00000002", "PN00000042"));
        assert!(!ids.pair("PromissoryNumber", "PN00000001", "PN00000043"));
        assert!(ids.pair("Sequence", "2", "7"), "kinds are separate");
    }

    #[test]
    fn datetime_shapes() {
        assert!(is_datetime("2026-11-23T08:00:00Z"));
        assert!(is_datetime("2026-11-23T08:00:00.123+02:00"));
        assert!(is_datetime("2026-11-23T08:00:00"));
        assert!(!is_datetime("2026-11-23"));
        assert!(!is_datetime("2026-11-23T08:00"));
        assert!(!is_datetime("2026-11-23T08:00:00Zjunk"));
    }
}
