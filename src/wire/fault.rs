//! Everything that becomes a SOAP Fault: [`FaultCode`] (the stable detail codes) and
//! [`ServiceError`]. Business-rule refusals are not here; they are Result codes
//! (`domain::ResultCode`) inside a normal response.

use crate::wire::xml::XmlError;

/// The stable code carried in a fault's `<AllpsFault><Code>`. Append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultCode {
    /// The body is not UTF-8.
    XmlNotUtf8,
    /// The body is not well-formed XML.
    XmlMalformed,
    /// The body carries a DOCTYPE.
    DoctypeForbidden,
    /// The body references an entity other than the predefined five.
    EntityForbidden,
    /// The body is larger than allowed.
    LimitBodySize,
    /// Elements nest deeper than allowed.
    LimitDepth,
    /// Too many elements.
    LimitElements,
    /// Too many attributes on one element, or namespace declarations in scope.
    LimitAttributes,
    /// An element's text is too long.
    LimitText,
    /// The Content-Type is neither SOAP 1.1 nor SOAP 1.2.
    ContentType,
    /// The document is not a SOAP envelope with one Body child.
    EnvelopeInvalid,
    /// The envelope namespace does not match the binding used.
    VersionMismatch,
    /// A header block marked mustUnderstand is not understood.
    MustUnderstand,
    /// The Body's child names no operation of this service.
    UnknownOperation,
    /// The operation element does not match the schema.
    SchemaViolation,
    /// No credentials and no session were sent.
    AuthRequired,
    /// Unknown organisation, unknown user, wrong password or locked user (all read alike).
    AuthFailed,
    /// The session id is unknown or expired.
    SessionInvalid,
    /// The user is disabled.
    UserDisabled,
    /// The user lacks the right "Allow access to Allps web services".
    RightMissing,
    /// The branch is unknown, disabled, or not allocated to the user.
    BranchNotAllowed,
    /// The user is bound to computers and this is not one of them.
    ComputerNotAllowed,
    /// Something failed inside the server; details are only in the log.
    InternalError,
    /// The server is shutting down or overloaded.
    Unavailable,
    /// The request body did not arrive in time.
    RequestTimeout,
    /// The SOAPAction (or SOAP 1.2 `action`) names another operation than the Body.
    ActionMismatch,
}

impl FaultCode {
    /// Every code, in table order (the README's fault table follows it).
    pub const ALL: &'static [FaultCode] = &[
        FaultCode::XmlNotUtf8,
        FaultCode::XmlMalformed,
        FaultCode::DoctypeForbidden,
        FaultCode::EntityForbidden,
        FaultCode::LimitBodySize,
        FaultCode::LimitDepth,
        FaultCode::LimitElements,
        FaultCode::LimitAttributes,
        FaultCode::LimitText,
        FaultCode::ContentType,
        FaultCode::EnvelopeInvalid,
        FaultCode::VersionMismatch,
        FaultCode::MustUnderstand,
        FaultCode::UnknownOperation,
        FaultCode::SchemaViolation,
        FaultCode::AuthRequired,
        FaultCode::AuthFailed,
        FaultCode::SessionInvalid,
        FaultCode::UserDisabled,
        FaultCode::RightMissing,
        FaultCode::BranchNotAllowed,
        FaultCode::ComputerNotAllowed,
        FaultCode::InternalError,
        FaultCode::Unavailable,
        FaultCode::RequestTimeout,
        FaultCode::ActionMismatch,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultCode::XmlNotUtf8 => "XML_NOT_UTF8",
            FaultCode::XmlMalformed => "XML_MALFORMED",
            FaultCode::DoctypeForbidden => "DOCTYPE_FORBIDDEN",
            FaultCode::EntityForbidden => "ENTITY_FORBIDDEN",
            FaultCode::LimitBodySize => "LIMIT_BODY_SIZE",
            FaultCode::LimitDepth => "LIMIT_DEPTH",
            FaultCode::LimitElements => "LIMIT_ELEMENTS",
            FaultCode::LimitAttributes => "LIMIT_ATTRIBUTES",
            FaultCode::LimitText => "LIMIT_TEXT",
            FaultCode::ContentType => "CONTENT_TYPE",
            FaultCode::EnvelopeInvalid => "ENVELOPE_INVALID",
            FaultCode::VersionMismatch => "VERSION_MISMATCH",
            FaultCode::MustUnderstand => "MUST_UNDERSTAND",
            FaultCode::UnknownOperation => "UNKNOWN_OPERATION",
            FaultCode::SchemaViolation => "SCHEMA_VIOLATION",
            FaultCode::AuthRequired => "AUTH_REQUIRED",
            FaultCode::AuthFailed => "AUTH_FAILED",
            FaultCode::SessionInvalid => "SESSION_INVALID",
            FaultCode::UserDisabled => "USER_DISABLED",
            FaultCode::RightMissing => "RIGHT_MISSING",
            FaultCode::BranchNotAllowed => "BRANCH_NOT_ALLOWED",
            FaultCode::ComputerNotAllowed => "COMPUTER_NOT_ALLOWED",
            FaultCode::InternalError => "INTERNAL_ERROR",
            FaultCode::Unavailable => "UNAVAILABLE",
            FaultCode::RequestTimeout => "REQUEST_TIMEOUT",
            FaultCode::ActionMismatch => "ACTION_MISMATCH",
        }
    }

    /// Whether the fault is the server's (Server / Receiver) rather than the caller's.
    pub fn is_server_side(self) -> bool {
        matches!(self, FaultCode::InternalError | FaultCode::Unavailable)
    }

    /// Whether the caller should simply try again shortly (sent with `Retry-After`).
    pub fn is_retryable(self) -> bool {
        matches!(self, FaultCode::Unavailable)
    }

    /// The HTTP status the fault is sent with, when not the SOAP default.
    pub fn http_status_override(self) -> Option<u16> {
        match self {
            FaultCode::LimitBodySize => Some(413),
            FaultCode::ContentType => Some(415),
            FaultCode::Unavailable => Some(503),
            FaultCode::RequestTimeout => Some(408),
            _ => None,
        }
    }

    /// What the code means, for the README table.
    pub fn meaning(self) -> &'static str {
        match self {
            FaultCode::XmlNotUtf8 => "the body is not UTF-8",
            FaultCode::XmlMalformed => "the body is not well-formed XML",
            FaultCode::DoctypeForbidden => "a DOCTYPE was sent (no DTD is ever read)",
            FaultCode::EntityForbidden => {
                "an entity other than &lt; &gt; &amp; &apos; &quot; or a character reference"
            }
            FaultCode::LimitBodySize => "the body exceeds `--max-body-bytes` (HTTP 413)",
            FaultCode::LimitDepth => "elements nest deeper than `--max-depth`",
            FaultCode::LimitElements => "more elements than `--max-elements`",
            FaultCode::LimitAttributes => {
                "an element has more attributes than `--max-attributes`, or more than 128 namespace declarations are in scope"
            }
            FaultCode::LimitText => "an element's text exceeds `--max-text-bytes`",
            FaultCode::ContentType => {
                "Content-Type is neither text/xml nor application/soap+xml (HTTP 415)"
            }
            FaultCode::EnvelopeInvalid => "not a SOAP Envelope with a Body holding one element",
            FaultCode::VersionMismatch => "the envelope namespace does not match the binding",
            FaultCode::MustUnderstand => "a mustUnderstand header block is not understood",
            FaultCode::UnknownOperation => "the Body's element is not an operation of the WSDL",
            FaultCode::SchemaViolation => {
                "a required element is missing, an element is unknown or repeated, or a value is not of its type"
            }
            FaultCode::AuthRequired => "no AuthHeader credentials and no SessionId",
            FaultCode::AuthFailed => {
                "unknown organisation or user, wrong password, or a user locked after repeated failures"
            }
            FaultCode::SessionInvalid => "the SessionId is unknown, expired or revoked",
            FaultCode::UserDisabled => "the user is disabled",
            FaultCode::RightMissing => {
                "the user lacks the right \"Allow access to Allps web services\""
            }
            FaultCode::BranchNotAllowed => {
                "the branch is unknown, disabled or not allocated to the user"
            }
            FaultCode::ComputerNotAllowed => {
                "the user is bound to computers and ComputerName is not one of them"
            }
            FaultCode::InternalError => "the server failed; the log has the request id and cause",
            FaultCode::Unavailable => {
                "the server is shutting down, busy (request-body memory, password checks) or the store is busy; retry after `Retry-After` seconds (HTTP 503)"
            }
            FaultCode::RequestTimeout => {
                "the request body did not arrive within `--body-timeout-secs` (HTTP 408)"
            }
            FaultCode::ActionMismatch => {
                "the SOAPAction header or SOAP 1.2 `action` parameter names another operation than the Body's"
            }
        }
    }
}

impl FaultCode {
    /// Renders the README's Markdown table of every fault code.
    pub fn markdown_table() -> String {
        let mut out = String::from(
            "| Detail code | SOAP 1.1 faultcode | SOAP 1.2 Code | HTTP (1.1 / 1.2) | Meaning |\n|---|---|---|---|---|\n",
        );
        for code in FaultCode::ALL {
            let (v11, v12) = match code {
                FaultCode::VersionMismatch => ("VersionMismatch", "VersionMismatch"),
                FaultCode::MustUnderstand => ("MustUnderstand", "MustUnderstand"),
                c if c.is_server_side() => ("Server", "Receiver"),
                _ => ("Client", "Sender"),
            };
            let s11 = crate::wire::soap::SoapVersion::V11.fault_status(*code, 400);
            let s12 = crate::wire::soap::SoapVersion::V12.fault_status(*code, 400);
            out.push_str(&format!(
                "| `{}` | {v11} | {v12} | {s11} / {s12} | {} |\n",
                code.as_str(),
                code.meaning()
            ));
        }
        out
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

impl From<rusqlite::Error> for ServiceError {
    fn from(e: rusqlite::Error) -> Self {
        ServiceError::Internal(format!("storage: {e}"))
    }
}
