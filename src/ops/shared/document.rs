//! The `Document` element of the printing operations (PrintPromissory,
//! PrintClientCredit, PrintCardIssueReceipt): a rendered PDF as the response carries it.

use crate::documents::{self, DocumentSpec};
use crate::ops::OpError;
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
