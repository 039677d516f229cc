//! The SOAP 1.1 / 1.2 envelope: version detection, envelope parsing, header blocks, and
//! the writing of response and fault envelopes. Routing happens on the Body's first
//! child by namespace URI and local name; prefixes are never looked at.

use crate::wire::fault::{FaultClass, FaultCode, ServiceError};
use crate::wire::xml::{self, Element, XmlLimits, XmlWriter};

/// The service's target namespace (the WSDL's `targetNamespace`).
pub const TNS: &str = "urn:allps:ws:v1";
/// SOAP 1.1 envelope namespace.
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope namespace.
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

/// The SOAP version of a request; the answer uses the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoapVersion {
    /// SOAP 1.1 (`text/xml`).
    V11,
    /// SOAP 1.2 (`application/soap+xml`).
    V12,
}

impl SoapVersion {
    /// The version a Content-Type header names, if any.
    pub fn from_content_type(content_type: &str) -> Option<SoapVersion> {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "text/xml" => Some(SoapVersion::V11),
            "application/soap+xml" => Some(SoapVersion::V12),
            _ => None,
        }
    }

    /// The `action` parameter of a SOAP 1.2 Content-Type, unquoted.
    pub fn action_parameter(content_type: &str) -> Option<&str> {
        content_type.split(';').skip(1).find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("action")
                .then(|| value.trim().trim_matches('"').trim())
        })
    }

    /// The envelope namespace.
    pub fn envelope_ns(self) -> &'static str {
        match self {
            SoapVersion::V11 => SOAP11_NS,
            SoapVersion::V12 => SOAP12_NS,
        }
    }

    /// The response Content-Type.
    pub fn content_type(self) -> &'static str {
        match self {
            SoapVersion::V11 => "text/xml; charset=utf-8",
            SoapVersion::V12 => "application/soap+xml; charset=utf-8",
        }
    }

    /// The HTTP status of a fault with this code.
    /// `sender_status` is the status of SOAP 1.2 Sender faults: 400 by the SOAP 1.2 HTTP
    /// binding, 500 for WCF clients (which read a fault body only from a 500).
    pub fn fault_status(self, code: FaultCode, sender_status: u16) -> u16 {
        if let Some(status) = code.http_status_override() {
            return status;
        }
        match (self, code.class()) {
            (SoapVersion::V12, FaultClass::Caller) => sender_status,
            _ => 500,
        }
    }

    /// `"1.1"` or `"1.2"`, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SoapVersion::V11 => "1.1",
            SoapVersion::V12 => "1.2",
        }
    }
}

/// A parsed request envelope.
#[derive(Debug)]
pub struct Envelope {
    /// The SOAP version.
    pub version: SoapVersion,
    /// Header blocks addressed to this node, in order.
    pub headers: Vec<Element>,
    /// The Body's one child: the operation element.
    pub operation: Element,
}

impl Envelope {
    /// The header block with the given name in the service namespace.
    pub fn header(&self, name: &str) -> Option<&Element> {
        self.headers.iter().find(|h| h.is(TNS, name))
    }
}

/// Parses a request body sent with `version`'s Content-Type.
///
/// # Errors
///
/// XML faults from [`xml::parse`], `VERSION_MISMATCH` when the envelope namespace is not
/// the binding's, `ENVELOPE_INVALID` when Envelope/Body are missing or the Body does not
/// hold exactly one element, `MUST_UNDERSTAND` for a mandatory header block we do not know.
pub fn parse_envelope(
    version: SoapVersion,
    body: &[u8],
    limits: &XmlLimits,
) -> Result<Envelope, ServiceError> {
    let root = xml::parse(body, limits)?;
    if root.name != "Envelope" {
        return Err(ServiceError::fault(
            FaultCode::EnvelopeInvalid,
            format!(
                "the root element is {}, not a SOAP Envelope",
                root.qualified_name()
            ),
        ));
    }
    if root.ns.as_deref() != Some(version.envelope_ns()) {
        let found = root.ns.as_deref().unwrap_or("no namespace");
        return Err(ServiceError::fault(
            FaultCode::VersionMismatch,
            format!(
                "the Content-Type selects SOAP {} (envelope namespace {}), but the Envelope is in {}",
                version.as_str(),
                version.envelope_ns(),
                found
            ),
        ));
    }
    let env_ns = version.envelope_ns();
    let mut header: Option<Element> = None;
    let mut body_el: Option<Element> = None;
    for child in root.children {
        if child.is(env_ns, "Header") && header.is_none() && body_el.is_none() {
            header = Some(child);
        } else if child.is(env_ns, "Body") && body_el.is_none() {
            body_el = Some(child);
        } else {
            return Err(ServiceError::fault(
                FaultCode::EnvelopeInvalid,
                format!(
                    "unexpected element {} in the Envelope",
                    child.qualified_name()
                ),
            ));
        }
    }
    let body_el = body_el.ok_or_else(|| {
        ServiceError::fault(FaultCode::EnvelopeInvalid, "the Envelope has no Body")
    })?;
    if !body_el.text.trim().is_empty() {
        return Err(ServiceError::fault(
            FaultCode::EnvelopeInvalid,
            "the Body holds text outside an element",
        ));
    }
    let mut children = body_el.children.into_iter();
    let operation = children
        .next()
        .ok_or_else(|| ServiceError::fault(FaultCode::EnvelopeInvalid, "the Body is empty"))?;
    if children.next().is_some() {
        return Err(ServiceError::fault(
            FaultCode::EnvelopeInvalid,
            "the Body must hold exactly one element",
        ));
    }

    let blocks = header.map(|h| h.children).unwrap_or_default();
    // One AuthHeader at most, whoever it is addressed to: with two, which one holds the
    // credentials would depend on the reader.
    let auth_headers = blocks.iter().filter(|b| b.is(TNS, "AuthHeader")).count();
    if auth_headers > 1 {
        return Err(ServiceError::fault(
            FaultCode::SchemaViolation,
            format!("the Header holds {auth_headers} AuthHeader blocks; send exactly one"),
        ));
    }
    let mut headers = Vec::new();
    for block in blocks {
        if !addressed_to_us(version, &block) {
            continue;
        }
        let understood = block.is(TNS, "AuthHeader");
        if !understood && must_understand(version, &block) {
            return Err(ServiceError::fault(
                FaultCode::MustUnderstand,
                format!(
                    "header block {} is marked mustUnderstand and is not understood",
                    block.qualified_name()
                ),
            ));
        }
        headers.push(block);
    }
    Ok(Envelope {
        version,
        headers,
        operation,
    })
}

fn must_understand(version: SoapVersion, block: &Element) -> bool {
    match block.attr(Some(version.envelope_ns()), "mustUnderstand") {
        Some(v) => matches!(v.trim(), "1" | "true"),
        None => false,
    }
}

fn addressed_to_us(version: SoapVersion, block: &Element) -> bool {
    match version {
        SoapVersion::V11 => match block.attr(Some(SOAP11_NS), "actor") {
            None => true,
            Some(actor) => actor == "http://schemas.xmlsoap.org/soap/actor/next",
        },
        SoapVersion::V12 => match block.attr(Some(SOAP12_NS), "role") {
            None => true,
            Some(role) => matches!(
                role,
                "http://www.w3.org/2003/05/soap-envelope/role/next"
                    | "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"
            ),
        },
    }
}

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

/// Wraps body content (already indented at depth 2) in a response envelope.
pub fn response_envelope(version: SoapVersion, body_content: &str) -> String {
    let mut out = String::with_capacity(body_content.len() + 200);
    out.push_str(XML_DECL);
    out.push_str("<soap:Envelope xmlns:soap=\"");
    out.push_str(version.envelope_ns());
    out.push_str("\">\n  <soap:Body>");
    out.push_str(body_content);
    out.push_str("\n  </soap:Body>\n</soap:Envelope>\n");
    out
}

/// Writes a complete fault envelope with the typed `AllpsFault` detail.
pub fn fault_envelope(version: SoapVersion, code: FaultCode, message: &str) -> String {
    let mut w = XmlWriter::at_depth(2);
    w.open("soap:Fault");
    match version {
        SoapVersion::V11 => {
            let faultcode = format!("soap:{}", code.class().soap11());
            w.leaf("faultcode", &faultcode);
            w.leaf("faultstring", message);
            w.open("detail");
            write_detail(&mut w, code, message);
            w.close("detail");
        }
        SoapVersion::V12 => {
            let value = format!("soap:{}", code.class().soap12());
            w.open("soap:Code");
            w.leaf("soap:Value", &value);
            w.close("soap:Code");
            w.open("soap:Reason");
            w.leaf_with("soap:Text", &[("xml:lang", "en")], message);
            w.close("soap:Reason");
            w.open("soap:Detail");
            write_detail(&mut w, code, message);
            w.close("soap:Detail");
        }
    }
    w.close("soap:Fault");
    let mut out = response_envelope(version, &w.finish());
    if version == SoapVersion::V12 && code == FaultCode::VersionMismatch {
        out = out.replacen(
            "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\">\n",
            "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\">\n  <soap:Header>\n    <soap:Upgrade>\n      <soap:SupportedEnvVersion xmlns:s11=\"http://schemas.xmlsoap.org/soap/envelope/\" qname=\"s11:Envelope\"/>\n      <soap:SupportedEnvVersion qname=\"soap:Envelope\"/>\n    </soap:Upgrade>\n  </soap:Header>\n",
            1,
        );
    }
    out
}

fn write_detail(w: &mut XmlWriter, code: FaultCode, message: &str) {
    w.open_with("AllpsFault", &[("xmlns", TNS)]);
    w.leaf("Code", code.as_str());
    w.leaf("Message", message);
    w.close("AllpsFault");
}

/// Checks a SOAPAction (or SOAP 1.2 `action`) against the Body's operation. Empty is
/// fine; otherwise its last segment (after `/`, `#` or `:`) must not name another
/// operation of the service (`known`), so an intermediary routing on the action sees
/// what runs.
///
/// # Errors
///
/// `ACTION_MISMATCH`.
pub fn check_action(action: &str, operation: &str, known: &[&str]) -> Result<(), ServiceError> {
    let action = action.trim().trim_matches('"').trim();
    if action.is_empty() {
        return Ok(());
    }
    let named = action
        .rsplit(['/', '#', ':'])
        .next()
        .unwrap_or(action)
        .trim();
    if named == operation {
        return Ok(());
    }
    let another = known.iter().any(|op| op.eq_ignore_ascii_case(named));
    if another || named.eq_ignore_ascii_case(operation) {
        return Err(ServiceError::fault(
            FaultCode::ActionMismatch,
            format!(
                "the SOAP action names {} but the Body holds {operation}",
                named.chars().take(64).collect::<String>()
            ),
        ));
    }
    Ok(())
}

impl FaultCode {
    /// Renders the docs' Markdown table of every fault code.
    pub fn markdown_table() -> String {
        let mut out = String::from(
            "| Detail code | SOAP 1.1 faultcode | SOAP 1.2 Code | HTTP (1.1 / 1.2) | Meaning |\n|---|---|---|---|---|\n",
        );
        for code in FaultCode::ALL {
            let s11 = SoapVersion::V11.fault_status(*code, 400);
            let s12 = SoapVersion::V12.fault_status(*code, 400);
            out.push_str(&format!(
                "| `{}` | {} | {} | {s11} / {s12} | {} |\n",
                code.as_str(),
                code.class().soap11(),
                code.class().soap12(),
                code.meaning()
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(version: SoapVersion, text: &str) -> Result<Envelope, ServiceError> {
        parse_envelope(version, text.as_bytes(), &XmlLimits::default())
    }

    #[test]
    fn routes_on_namespace_whatever_the_prefixes() {
        let a = env(
            SoapVersion::V11,
            r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body xmlns:x="urn:allps:ws:v1"><x:GetClient><x:ClientNumber>1</x:ClientNumber></x:GetClient></SOAP-ENV:Body></SOAP-ENV:Envelope>"#,
        )
        .unwrap();
        assert!(a.operation.is(TNS, "GetClient"));
        let b = env(
            SoapVersion::V12,
            r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header><AuthHeader xmlns="urn:allps:ws:v1"><UserName>u</UserName></AuthHeader></e:Header><e:Body><GetClient xmlns="urn:allps:ws:v1"/></e:Body></e:Envelope>"#,
        )
        .unwrap();
        assert!(b.operation.is(TNS, "GetClient"));
        assert!(b.header("AuthHeader").is_some());
    }

    #[test]
    fn version_mismatch_and_structure() {
        let err = env(
            SoapVersion::V12,
            r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><a/></e:Body></e:Envelope>"#,
        )
        .unwrap_err();
        assert_eq!(err.code(), FaultCode::VersionMismatch);
        let err = env(
            SoapVersion::V11,
            r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>"#,
        )
        .unwrap_err();
        assert_eq!(err.code(), FaultCode::EnvelopeInvalid);
        // An Envelope in no namespace is another version of SOAP, as SOAP 1.1 section 4.4 says.
        let err = env(SoapVersion::V11, "<Envelope/>").unwrap_err();
        assert_eq!(err.code(), FaultCode::VersionMismatch);
        let err = env(SoapVersion::V11, "<Letter/>").unwrap_err();
        assert_eq!(err.code(), FaultCode::EnvelopeInvalid);
    }

    #[test]
    fn must_understand_unknown_header_faults() {
        let err = env(
            SoapVersion::V11,
            r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header><t:Tx xmlns:t="urn:other" e:mustUnderstand="1"/></e:Header><e:Body><a/></e:Body></e:Envelope>"#,
        )
        .unwrap_err();
        assert_eq!(err.code(), FaultCode::MustUnderstand);
        let ok = env(
            SoapVersion::V11,
            r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header><t:Tx xmlns:t="urn:other" e:mustUnderstand="0"/></e:Header><e:Body><a/></e:Body></e:Envelope>"#,
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn faults_parse_back() {
        for version in [SoapVersion::V11, SoapVersion::V12] {
            let text = fault_envelope(version, FaultCode::AuthFailed, "bad <creds>");
            let parsed = xml::parse(text.as_bytes(), &XmlLimits::default()).unwrap();
            assert!(parsed.is(version.envelope_ns(), "Envelope"));
            assert!(text.contains("<Code>AUTH_FAILED</Code>"));
            assert!(text.contains("bad &lt;creds&gt;"));
        }
        let upgrade = fault_envelope(SoapVersion::V12, FaultCode::VersionMismatch, "x");
        assert!(upgrade.contains("soap:Upgrade"));
        assert!(xml::parse(upgrade.as_bytes(), &XmlLimits::default()).is_ok());
    }

    #[test]
    fn soap_action_must_not_name_another_operation() {
        let known = ["GetClient", "CancelPromissory"];
        for ok in [
            "",
            "\"\"",
            "urn:allps:ws:v1/CancelPromissory",
            "\"CancelPromissory\"",
            "http://x/y#CancelPromissory",
            "SomethingElse",
        ] {
            assert!(check_action(ok, "CancelPromissory", &known).is_ok(), "{ok}");
        }
        for bad in [
            "GetClient",
            "\"urn:allps:ws:v1/GetClient\"",
            "urn:allps:ws:v1:getclient",
            "cancelpromissory",
        ] {
            let e = check_action(bad, "CancelPromissory", &known).unwrap_err();
            assert_eq!(e.code(), FaultCode::ActionMismatch, "{bad}");
        }
        assert_eq!(
            SoapVersion::action_parameter(
                "application/soap+xml; charset=utf-8; action=\"urn:a/GetClient\""
            ),
            Some("urn:a/GetClient")
        );
        assert_eq!(SoapVersion::action_parameter("application/soap+xml"), None);
    }
}
