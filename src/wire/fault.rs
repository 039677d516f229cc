//! Everything that becomes a SOAP Fault: [`FaultCode`] (the stable detail codes) and
//! [`ServiceError`]. Business-rule refusals are not here; they are Result codes
//! (`domain::ResultCode`) inside a normal response.

use crate::wire::xml::XmlError;

/// Declares every fault code once: `Variant = "WIRE_CODE", class, HTTP status override,
/// "meaning";`, in the docs' table order. Generates the enum, its wire spelling, class,
/// status override, meaning, parsing and [`FaultCode::ALL`].
macro_rules! fault_codes {
    ($($variant:ident = $wire:literal, $class:ident, $status:expr, $meaning:literal;)+) => {
        /// The stable code carried in a fault's `<AllpsFault><Code>`. Append-only.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FaultCode {
            $(
                #[doc = $meaning]
                $variant,
            )+
        }

        impl FaultCode {
            /// Every code, in table order (the docs' fault table follows it).
            pub const ALL: &'static [FaultCode] = &[$(FaultCode::$variant),+];

            /// The wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(FaultCode::$variant => $wire,)+
                }
            }

            /// Whose fault it is, which picks the SOAP fault code.
            pub const fn class(self) -> FaultClass {
                match self {
                    $(FaultCode::$variant => FaultClass::$class,)+
                }
            }

            /// The HTTP status the fault is sent with, when not the SOAP default.
            pub const fn http_status_override(self) -> Option<u16> {
                match self {
                    $(FaultCode::$variant => $status,)+
                }
            }

            /// What the code means, for the docs' table.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $(FaultCode::$variant => $meaning,)+
                }
            }

            /// The code whose wire spelling is `wire`, if there is one.
            pub fn parse(wire: &str) -> Option<FaultCode> {
                match wire {
                    $($wire => Some(FaultCode::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

fault_codes! {
    XmlNotUtf8 = "XML_NOT_UTF8", Caller, None, "the body is not UTF-8";
    XmlMalformed = "XML_MALFORMED", Caller, None, "the body is not well-formed XML";
    DoctypeForbidden = "DOCTYPE_FORBIDDEN", Caller, None, "a DOCTYPE was sent (no DTD is ever read)";
    EntityForbidden = "ENTITY_FORBIDDEN", Caller, None, "an entity other than &lt; &gt; &amp; &apos; &quot; or a character reference";
    LimitBodySize = "LIMIT_BODY_SIZE", Caller, Some(413), "the body exceeds `--max-body-bytes` (HTTP 413)";
    LimitDepth = "LIMIT_DEPTH", Caller, None, "elements nest deeper than `--max-depth`";
    LimitElements = "LIMIT_ELEMENTS", Caller, None, "more elements than `--max-elements`";
    LimitAttributes = "LIMIT_ATTRIBUTES", Caller, None, "an element has more attributes than `--max-attributes`, or more than 128 namespace declarations are in scope";
    LimitText = "LIMIT_TEXT", Caller, None, "an element's text exceeds `--max-text-bytes`";
    ContentType = "CONTENT_TYPE", Caller, Some(415), "Content-Type is neither text/xml nor application/soap+xml (HTTP 415)";
    EnvelopeInvalid = "ENVELOPE_INVALID", Caller, None, "not a SOAP Envelope with a Body holding one element";
    VersionMismatch = "VERSION_MISMATCH", VersionMismatch, None, "the envelope namespace does not match the binding";
    MustUnderstand = "MUST_UNDERSTAND", MustUnderstand, None, "a mustUnderstand header block is not understood";
    UnknownOperation = "UNKNOWN_OPERATION", Caller, None, "the Body's element is not an operation of the WSDL";
    SchemaViolation = "SCHEMA_VIOLATION", Caller, None, "a required element is missing, an element is unknown or repeated, or a value is not of its type";
    AuthRequired = "AUTH_REQUIRED", Caller, None, "no AuthHeader credentials and no SessionId";
    AuthFailed = "AUTH_FAILED", Caller, None, "unknown organisation or user, wrong password, or a user locked after repeated failures";
    SessionInvalid = "SESSION_INVALID", Caller, None, "the SessionId is unknown, expired or revoked";
    UserDisabled = "USER_DISABLED", Caller, None, "the user is disabled";
    RightMissing = "RIGHT_MISSING", Caller, None, "the user lacks the right \"Allow access to Allps web services\"";
    BranchNotAllowed = "BRANCH_NOT_ALLOWED", Caller, None, "the branch is unknown, disabled or not allocated to the user";
    ComputerNotAllowed = "COMPUTER_NOT_ALLOWED", Caller, None, "the user is bound to computers and ComputerName is not one of them";
    InternalError = "INTERNAL_ERROR", Server, None, "the server failed; the log has the request id and cause";
    Unavailable = "UNAVAILABLE", Server, Some(503), "the server is shutting down, busy (request-body memory, password checks) or the store is busy; retry after `Retry-After` seconds (HTTP 503)";
    RequestTimeout = "REQUEST_TIMEOUT", Caller, Some(408), "the request body did not arrive within `--body-timeout-secs` (HTTP 408)";
    ActionMismatch = "ACTION_MISMATCH", Caller, None, "the SOAPAction header or SOAP 1.2 `action` parameter names another operation than the Body's";
}

/// Which SOAP fault code a [`FaultCode`] is sent under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultClass {
    /// The caller's fault: SOAP 1.1 `Client`, SOAP 1.2 `Sender` (HTTP 400 under 1.2).
    Caller,
    /// The server's fault: SOAP 1.1 `Server`, SOAP 1.2 `Receiver`.
    Server,
    /// The envelope namespace does not match: `VersionMismatch` in both versions.
    VersionMismatch,
    /// A mustUnderstand header is not understood: `MustUnderstand` in both versions.
    MustUnderstand,
}

impl FaultClass {
    /// The SOAP 1.1 `faultcode` local name.
    pub const fn soap11(self) -> &'static str {
        match self {
            FaultClass::Caller => "Client",
            FaultClass::Server => "Server",
            FaultClass::VersionMismatch => "VersionMismatch",
            FaultClass::MustUnderstand => "MustUnderstand",
        }
    }

    /// The SOAP 1.2 `Code/Value` local name.
    pub const fn soap12(self) -> &'static str {
        match self {
            FaultClass::Caller => "Sender",
            FaultClass::Server => "Receiver",
            FaultClass::VersionMismatch => "VersionMismatch",
            FaultClass::MustUnderstand => "MustUnderstand",
        }
    }
}

impl FaultCode {
    /// Whether the caller should simply try again shortly (sent with `Retry-After`).
    pub const fn is_retryable(self) -> bool {
        matches!(self, FaultCode::Unavailable)
    }

    /// Whether the fault is the server's (Server / Receiver) rather than the caller's.
    pub const fn is_server_side(self) -> bool {
        matches!(self.class(), FaultClass::Server)
    }
}

impl std::fmt::Display for FaultCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that ends a request with a SOAP Fault.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A fault whose message is safe to send.
    #[error("{code}: {message}")]
    Fault {
        /// The detail code.
        code: FaultCode,
        /// The caller-facing message.
        message: String,
    },
    /// An internal failure; its text is logged and never sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl ServiceError {
    /// A fault with a caller-facing message.
    pub fn fault(code: FaultCode, message: impl Into<String>) -> Self {
        ServiceError::Fault {
            code,
            message: message.into(),
        }
    }

    /// A schema violation naming what is wrong.
    pub fn schema(message: impl Into<String>) -> Self {
        ServiceError::fault(FaultCode::SchemaViolation, message)
    }

    /// The fault code this error is sent with.
    pub fn code(&self) -> FaultCode {
        match self {
            ServiceError::Fault { code, .. } => *code,
            ServiceError::Internal(_) => FaultCode::InternalError,
        }
    }
}

impl From<XmlError> for ServiceError {
    fn from(e: XmlError) -> Self {
        let code = match &e {
            XmlError::NotUtf8 => FaultCode::XmlNotUtf8,
            XmlError::Malformed(_) | XmlError::UnboundPrefix(_) => FaultCode::XmlMalformed,
            XmlError::Doctype => FaultCode::DoctypeForbidden,
            XmlError::Entity(_) => FaultCode::EntityForbidden,
            XmlError::TooDeep(_) => FaultCode::LimitDepth,
            XmlError::TooManyElements(_) => FaultCode::LimitElements,
            XmlError::TooManyAttributes(_) | XmlError::TooManyNamespaces(_) => {
                FaultCode::LimitAttributes
            }
            XmlError::TextTooLong(_) => FaultCode::LimitText,
        };
        ServiceError::fault(code, e.to_string())
    }
}

impl ServiceError {
    /// The store failed: a busy or locked store is `UNAVAILABLE` (retryable, HTTP 503);
    /// anything else an internal error whose text is only logged.
    pub fn storage(e: crate::store::DbError) -> Self {
        if e.is_busy() {
            return store_busy();
        }
        ServiceError::Internal(format!("storage: {e}"))
    }
}

/// A busy or locked store: retryable (`UNAVAILABLE`, HTTP 503 with `Retry-After`), not
/// an internal error.
fn store_busy() -> ServiceError {
    ServiceError::fault(FaultCode::Unavailable, "the store is busy; retry shortly")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn wire_codes_are_unique_and_parse_back() {
        let wire: HashSet<_> = FaultCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(wire.len(), FaultCode::ALL.len());
        for &code in FaultCode::ALL {
            assert_eq!(FaultCode::parse(code.as_str()), Some(code));
            assert!(!code.meaning().is_empty());
        }
        assert_eq!(FaultCode::parse("internal_error"), None);
    }

    #[test]
    fn classes_pick_the_soap_codes() {
        assert_eq!(FaultCode::SchemaViolation.class().soap11(), "Client");
        assert_eq!(FaultCode::SchemaViolation.class().soap12(), "Sender");
        assert_eq!(FaultCode::InternalError.class().soap12(), "Receiver");
        assert!(FaultCode::Unavailable.is_server_side());
        assert!(!FaultCode::VersionMismatch.is_server_side());
        assert_eq!(FaultCode::LimitBodySize.http_status_override(), Some(413));
        assert_eq!(FaultCode::AuthFailed.http_status_override(), None);
    }
}
