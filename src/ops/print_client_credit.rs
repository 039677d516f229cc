//! `PrintClientCredit`: the credit payment confirmation handed to the client, as a PDF.
//! It shows the payment as the Allps side sees it, worded per recipient type: a wallet
//! part's funds are available once credited; a bank part was accepted, submitted or
//! delivered, and a delivered bank part may still be returned by the recipient bank; a
//! returned part did not reach the account; the cash part was paid at the branch. The
//! document is deterministic: its issue instant is the payment's latest stored status
//! change, never the wall clock, so the same stored state always prints the same bytes.

use super::shared::document::{PrintedDocument, lender_blocks, lender_name};
use super::shared::payouts::require_payment;
use super::wire::Fields;
use super::{Ctx, OpError, Operation};
use crate::clock::{parse_timestamp, sast_date};
use crate::documents::format::{rands, sast_minute};
use crate::documents::{Block, Column, DocumentSpec};
use crate::domain::allps_client_number;
use crate::domain::mask;
use crate::domain::payouts::{PartStatus, RecipientType, payment_number};
use crate::store::payments::PartRow;
use crate::store::payments::PaymentRow;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `PrintClientCredit` operation.
pub struct PrintClientCredit;

/// A decoded `PrintClientCredit` request.
#[derive(Debug)]
pub struct PrintClientCreditRequest {
    payment_number: String,
}

/// The confirmation document.
#[derive(Debug)]
pub struct PrintClientCreditResponse {
    document: PrintedDocument,
}

fn title_case(text: &str) -> String {
    let lower = text.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn recipient_label(part: &PartRow) -> String {
    match part.recipient_type {
        RecipientType::BankAccount => format!(
            "Bank account\n{} {}\n{} account",
            part.bank_name.as_deref().unwrap_or("Bank"),
            part.bank_branch_code.as_deref().unwrap_or(""),
            title_case(part.account_type.map_or("", |t| t.as_str()))
        ),
        RecipientType::Wallet => "Allps wallet".into(),
        RecipientType::Cash => "Cash at the branch".into(),
    }
}

/// The account or wallet number as printed: a bank account number masked exactly as on
/// the promissory note (all but the last four digits hidden); a wallet number in full.
fn shown_number(part: &PartRow) -> String {
    match (part.recipient_type, part.account_number.as_deref()) {
        (_, None) => "-".into(),
        (RecipientType::BankAccount, Some(n)) => mask::account_number(n),
        (_, Some(n)) => n.to_string(),
    }
}

fn part_wording(payment: &PaymentRow, part: &PartRow) -> String {
    let amount = rands(part.amount);
    let number = shown_number(part);
    let on = sast_date(&part.status_at);
    let action = &payment.action_date;
    match (part.recipient_type, part.status) {
        (RecipientType::Cash, _) => {
            format!("{amount} was paid to the client in cash at the branch on {on}.")
        }
        (RecipientType::Wallet, PartStatus::Delivered) => format!(
            "{amount} was credited to the client's Allps wallet {number} on {on}. The funds are \
             available to the client now."
        ),
        (RecipientType::Wallet, _) => format!(
            "{amount} will be credited to the client's Allps wallet {number} on {action}. The funds \
             will be available to the client from then."
        ),
        (RecipientType::BankAccount, status) => {
            let bank = part.bank_name.as_deref().unwrap_or("the bank");
            match status {
                PartStatus::Accepted => format!(
                    "{amount} to {bank} account {number} was accepted for payment on {action}. It has \
                     not yet been submitted to the bank."
                ),
                PartStatus::Submitted => format!(
                    "{amount} to {bank} account {number} was submitted to the bank on {on} for payment \
                     on {action}. The recipient bank has not yet reported delivery."
                ),
                PartStatus::Delivered => format!(
                    "{amount} was delivered to {bank} account {number} on {on}. This confirms delivery \
                     from the Allps side only: the recipient bank may still return the payment, on the \
                     payment date or a few days later, in which case the amount does not reach the \
                     account."
                ),
                PartStatus::Returned => {
                    let reason = match (&part.return_code, &part.return_reason) {
                        (Some(code), Some(text)) => format!(" (reason {code}: {text})"),
                        _ => String::new(),
                    };
                    format!(
                        "{amount} to {bank} account {number} was returned by the recipient bank on \
                         {on}{reason}. The amount was not paid into the account."
                    )
                }
                PartStatus::PaidAtBranch => format!("{amount} was paid at the branch on {on}."),
            }
        }
    }
}

/// The confirmation's layout, from stored data only.
fn spec(ctx: &Ctx<'_>, payment: &PaymentRow, parts: &[PartRow]) -> Result<DocumentSpec, OpError> {
    let client =
        crate::store::clients::find_client(ctx.tx, payment.branch_id, &payment.client_number)?
            .ok_or_else(|| OpError::Internal(format!("payment {} has no client", payment.id)))?;
    let issued = std::iter::once(payment.created_at.as_str())
        .chain(parts.iter().map(|p| p.status_at.as_str()))
        .filter_map(parse_timestamp)
        .max()
        .ok_or_else(|| {
            OpError::Internal(format!("payment {} has no valid timestamp", payment.id))
        })?;
    let created = parse_timestamp(&payment.created_at).unwrap_or(issued);
    let number = payment_number(payment.number);
    let name = format!("{} {}", client.first_name, client.surname);
    let lender = crate::store::lender::for_branch(ctx.tx, payment.branch_id)?;
    let rows = parts
        .iter()
        .map(|p| {
            vec![
                p.part_number.to_string(),
                recipient_label(p),
                shown_number(p),
                rands(p.amount),
                format!(
                    "{}\n{}",
                    p.status.as_str().replace('_', " "),
                    sast_date(&p.status_at)
                ),
            ]
        })
        .collect();
    let mut spec = DocumentSpec::new(
        format!("client-credit-{number}.pdf"),
        "Client Credit Payment Confirmation",
        issued,
    )
    .with_subtitle(format!(
        "Payment {number} - reference {}",
        payment.payment_reference
    ))
    .with_footer(format!("Allps-i credit payment {number}"))
    .with_author(lender_name(&lender))
    .blocks(lender_blocks(&lender, &ctx.principal.branch_code))
    .block(Block::Heading("Client".into()))
    .block(Block::KeyValues(vec![
        ("Client".into(), name.clone()),
        ("Client number".into(), client.client_number.clone()),
        ("Allps client number".into(), allps_client_number(client.number)),
        ("Identity number".into(), client.id_number.clone()),
        ("Employer".into(), client.employer_name.clone()),
    ]))
    .block(Block::Heading("Payment".into()))
    .block(Block::KeyValues(vec![
        ("Payment number".into(), number.clone()),
        (
            "Payment reference".into(),
            payment.payment_reference.clone(),
        ),
        ("Accepted".into(), sast_minute(created)),
        ("Action date".into(), payment.action_date.clone()),
        ("Total amount".into(), rands(payment.total_amount)),
        (
            "Status (Allps side)".into(),
            payment.status.as_str().replace('_', " "),
        ),
        ("Status as at".into(), sast_minute(issued)),
    ]))
    .block(Block::Heading("Payment parts".into()))
    .block(Block::Table {
        columns: vec![
            Column::right("Part", 0.5),
            Column::new("Paid to", 1.8),
            Column::new("Account / wallet", 1.5),
            Column::right("Amount", 1.1),
            Column::new("Status", 1.3),
        ],
        rows,
    })
    .block(Block::Heading("What this means".into()));
    for part in parts {
        spec.push(Block::Paragraph(format!(
            "Part {}: {}",
            part.part_number,
            part_wording(payment, part)
        )));
    }
    spec.push(Block::Notice(format!(
        "This confirmation reflects the payment status on the Allps side as at {} (South African \
         time). It does not show the status at the recipient bank.",
        sast_minute(issued)
    )));
    spec.push(Block::Signatures(vec![
        format!("Client: {name}"),
        format!(
            "For the lender: {}, branch {}",
            lender_name(&lender),
            ctx.principal.branch_code
        ),
    ]));
    Ok(spec)
}

impl Operation for PrintClientCredit {
    const NAME: &'static str = "PrintClientCredit";
    const WRITES: bool = false;
    type Request = PrintClientCreditRequest;
    type Response = PrintClientCreditResponse;

    fn decode(element: &Element) -> Result<PrintClientCreditRequest, ServiceError> {
        let f = Fields::new(element, &[("PaymentNumber", 1)])?;
        Ok(PrintClientCreditRequest {
            payment_number: f.required_text("PaymentNumber")?,
        })
    }

    fn handle(
        ctx: &Ctx<'_>,
        req: PrintClientCreditRequest,
    ) -> Result<PrintClientCreditResponse, OpError> {
        let (payment, parts) = require_payment(ctx, &req.payment_number)?;
        let spec = spec(ctx, &payment, &parts)?;
        Ok(PrintClientCreditResponse {
            document: PrintedDocument::render(&spec)?,
        })
    }

    fn encode(response: &PrintClientCreditResponse, w: &mut XmlWriter) {
        response.document.encode(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(title_case("SUBSCRIPTION_SHARE"), "Subscription share");
    }
}
