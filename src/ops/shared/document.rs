//! The `Document` element of the printing operations (PrintPromissory,
//! PrintClientCredit, PrintCardIssueReceipt): a rendered PDF as the response carries it;
//! and the lender block every one of those documents prints.

use crate::documents::{self, Block, DocumentSpec};
use crate::ops::OpError;
use crate::store::lender::Lender;
use crate::wire::xml::XmlWriter;

/// A rendered document as the response carries it.
#[derive(Debug)]
pub struct PrintedDocument {
    /// File name offered to the client.
    pub file_name: String,
    /// `application/pdf`.
    pub content_type: &'static str,
    /// Base64 of the PDF.
    pub content: String,
    /// SHA-256 of the PDF, lower-case hex.
    pub sha256: String,
}

impl PrintedDocument {
    /// Renders a spec.
    ///
    /// # Errors
    ///
    /// An invalid spec: a programming error, answered as an internal error.
    pub fn render(spec: &DocumentSpec) -> Result<PrintedDocument, OpError> {
        let doc = documents::render(spec)
            .map_err(|e| OpError::Internal(format!("rendering {}: {e}", spec.file_name)))?;
        Ok(PrintedDocument {
            file_name: doc.file_name.clone(),
            content_type: doc.content_type,
            content: doc.base64(),
            sha256: doc.sha256_hex,
        })
    }

    /// Writes the `Document` element.
    pub fn encode(&self, w: &mut XmlWriter) {
        w.open("Document");
        w.leaf("FileName", &self.file_name);
        w.leaf("ContentType", self.content_type);
        w.leaf("Content", &self.content);
        w.leaf("Sha256", &self.sha256);
        w.close("Document");
    }
}

/// The lender's name as it signs: the registered name when recorded, else the display name.
pub fn lender_name(lender: &Lender) -> String {
    lender
        .legal_name
        .clone()
        .unwrap_or_else(|| lender.name.clone())
}

/// The "Lender" heading and rows every document prints first: registered name, trading
/// name, NCR registration number (or that none is recorded), branch, and the address and
/// contact details recorded with `admin org details`.
pub fn lender_blocks(lender: &Lender, branch_code: &str) -> Vec<Block> {
    let mut rows = vec![("Lender".to_string(), lender_name(lender))];
    if lender
        .legal_name
        .as_deref()
        .is_some_and(|l| l != lender.name)
    {
        rows.push(("Trading as".into(), lender.name.clone()));
    }
    rows.push((
        "NCR registration number".into(),
        lender
            .ncr_number
            .clone()
            .unwrap_or_else(|| "not recorded".into()),
    ));
    rows.push((
        "Branch".into(),
        format!("{} ({branch_code})", lender.branch_name),
    ));
    for (label, value) in [
        ("Address", &lender.address),
        ("Telephone", &lender.phone),
        ("E-mail", &lender.email),
    ] {
        if let Some(v) = value {
            rows.push((label.into(), v.clone()));
        }
    }
    vec![Block::Heading("Lender".into()), Block::KeyValues(rows)]
}
