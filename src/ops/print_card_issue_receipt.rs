//! `PrintCardIssueReceipt`: the acknowledgement of FEZA card (and, for a magstripe card,
//! PIN mailer) receipt that the card recipient signs, as a PDF. Only for a card that
//! AssignCard linked to this client's wallet and that is still the wallet's current card.
//! Deterministic: issued at the assignment's stored time.

use super::shared::document::{PrintedDocument, lender_blocks, lender_name};
use super::wire::Fields;
use super::{Ctx, OpError, Operation, require_client};
use crate::clock::parse_timestamp;
use crate::documents::format::sast_minute;
use crate::documents::{Block, DocumentSpec};
use crate::domain::allps_client_number;
use crate::domain::mask;
use crate::domain::payouts::{CardTechnology, check_card_number};
use crate::domain::{Refusal, ResultCode};
use crate::store::cards;
use crate::store::wallets;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `PrintCardIssueReceipt` operation.
pub struct PrintCardIssueReceipt;

/// A decoded `PrintCardIssueReceipt` request.
#[derive(Debug)]
pub struct PrintCardIssueReceiptRequest {
    client_number: String,
    card_number: String,
}

/// The receipt document.
#[derive(Debug)]
pub struct PrintCardIssueReceiptResponse {
    document: PrintedDocument,
}

impl Operation for PrintCardIssueReceipt {
    const NAME: &'static str = "PrintCardIssueReceipt";
    const WRITES: bool = false;
    type Request = PrintCardIssueReceiptRequest;
    type Response = PrintCardIssueReceiptResponse;

    fn decode(element: &Element) -> Result<PrintCardIssueReceiptRequest, ServiceError> {
        let f = Fields::new(element, &[("ClientNumber", 1), ("CardNumber", 1)])?;
        Ok(PrintCardIssueReceiptRequest {
            client_number: f.required_text("ClientNumber")?,
            card_number: f.required_text("CardNumber")?,
        })
    }

    fn handle(
        ctx: &Ctx<'_>,
        req: PrintCardIssueReceiptRequest,
    ) -> Result<PrintCardIssueReceiptResponse, OpError> {
        let client = require_client(ctx, &req.client_number)?;
        let card_number = check_card_number(&req.card_number)?;
        // Only this client's own assignments are read: a card held by anyone else (of any
        // organisation) answers exactly like a card never assigned.
        let card = cards::latest_of_client(ctx.tx, &card_number, client.id)?
            .ok_or_else(|| {
                Refusal::field(
                    ResultCode::CardNotAssigned,
                    "CardNumber",
                    format!(
                        "the card was not assigned to client {}; assign it with AssignCard first",
                        client.client_number
                    ),
                )
            })?;
        if !card.active {
            return Err(Refusal::field(
                ResultCode::CardReplaced,
                "CardNumber",
                "the card was replaced by a later card on the wallet; print the receipt of the current card",
            )
            .into());
        }
        let wallet = wallets::wallet(ctx.tx, card.wallet_id)?
            .ok_or_else(|| OpError::Internal(format!("card {} has no wallet", card.id)))?;
        let issued = parse_timestamp(&card.assigned_at)
            .ok_or_else(|| OpError::Internal(format!("card {} assigned_at", card.id)))?;
        let name = format!("{} {}", client.first_name, client.surname);
        let lender = crate::store::lender::for_branch(ctx.tx, client.branch_id)?;
        let masked = mask::card_number(&card.card_number);
        let last4 = &card.card_number[12..];
        let (title, pin_line, pin_paragraph) = match card.technology {
            CardTechnology::Emv => (
                "FEZA Card Receipt",
                "Not applicable: EMV chip card".to_string(),
                "This is an EMV chip card: no PIN mailer is issued with it. I will keep my PIN \
                 secret and apart from the card."
                    .to_string(),
            ),
            CardTechnology::Magstripe => (
                "FEZA Card and PIN Mailer Receipt",
                card.pin_mailer_number.clone().unwrap_or_default(),
                format!(
                    "I received the sealed PIN mailer number {} with the card. I will keep the PIN \
                     secret and apart from the card.",
                    card.pin_mailer_number.as_deref().unwrap_or("")
                ),
            ),
        };
        let spec = DocumentSpec::new(
            format!("card-receipt-{}-{last4}.pdf", client.client_number),
            title,
            issued,
        )
        .with_subtitle(format!(
            "Card {masked} - wallet {}",
            wallet.wallet_number.as_deref().unwrap_or("")
        ))
        .with_footer(format!("Allps-i FEZA card receipt {masked}"))
        .with_author(lender_name(&lender))
        .blocks(lender_blocks(&lender, &ctx.principal.branch_code))
        .block(Block::Heading("Card holder".into()))
        .block(Block::KeyValues(vec![
            ("Name".into(), name.clone()),
            ("Client number".into(), client.client_number.clone()),
            ("Allps client number".into(), allps_client_number(client.number)),
            ("Identity number".into(), client.id_number.clone()),
            ("Cellphone".into(), wallet.cellphone.clone()),
        ]))
        .block(Block::Heading("Card".into()))
        .block(Block::KeyValues(vec![
            ("Card number".into(), masked.clone()),
            ("Card type".into(), card.technology.as_str().to_string()),
            ("PIN mailer".into(), pin_line),
            (
                "Wallet number".into(),
                wallet.wallet_number.clone().unwrap_or_default(),
            ),
            ("Assigned".into(), sast_minute(issued)),
            ("Branch".into(), ctx.principal.branch_code.clone()),
        ]))
        .block(Block::Heading("Acknowledgement".into()))
        .block(Block::Paragraph(format!(
            "I, {name}, acknowledge that I received the FEZA card {masked}, linked to my Allps \
             wallet {}. The wallet number is not a bank account number and is used only within \
             Allps.",
            wallet.wallet_number.as_deref().unwrap_or("")
        )))
        .block(Block::Paragraph(pin_paragraph))
        .block(Block::Signatures(vec![
            format!("Card recipient: {name}"),
            format!(
                "Issued by {}, branch {}",
                lender_name(&lender),
                ctx.principal.branch_code
            ),
        ]));
        Ok(PrintCardIssueReceiptResponse {
            document: PrintedDocument::render(&spec)?,
        })
    }

    fn encode(response: &PrintCardIssueReceiptResponse, w: &mut XmlWriter) {
        response.document.encode(w);
    }
}
