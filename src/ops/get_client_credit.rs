//! `GetClientCredit`: a credit payment of the branch and the status of each of its parts,
//! as known on the Allps side (not at the recipient bank).

use super::shared::payouts::require_payment;
use super::wire::Fields;
use super::{Ctx, OpError, Operation};
use crate::clock::sast_date;
use crate::domain::payouts::payment_number;
use crate::store::payments::PartRow;
use crate::store::payments::PaymentRow;
use crate::store::money_text;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `GetClientCredit` operation.
pub struct GetClientCredit;

/// A decoded `GetClientCredit` request.
#[derive(Debug)]
pub struct GetClientCreditRequest {
    payment_number: String,
}

/// The payment and its parts.
#[derive(Debug)]
pub struct GetClientCreditResponse {
    payment: PaymentRow,
    parts: Vec<PartRow>,
}

impl Operation for GetClientCredit {
    const NAME: &'static str = "GetClientCredit";
    const WRITES: bool = false;
    type Request = GetClientCreditRequest;
    type Response = GetClientCreditResponse;

    fn decode(element: &Element) -> Result<GetClientCreditRequest, ServiceError> {
        let f = Fields::new(element, &[("PaymentNumber", 1)])?;
        Ok(GetClientCreditRequest {
            payment_number: f.required_text("PaymentNumber")?,
        })
    }

    fn handle(
        ctx: &Ctx<'_>,
        req: GetClientCreditRequest,
    ) -> Result<GetClientCreditResponse, OpError> {
        let (payment, parts) = require_payment(ctx, &req.payment_number)?;
        Ok(GetClientCreditResponse { payment, parts })
    }

    fn encode(response: &GetClientCreditResponse, w: &mut XmlWriter) {
        let p = &response.payment;
        w.open("CreditPayment");
        w.leaf("PaymentNumber", &payment_number(p.number));
        w.leaf("ClientNumber", &p.client_number);
        w.leaf("PaymentReference", &p.payment_reference);
        w.leaf("Status", p.status.as_str());
        w.leaf("ActionDate", &p.action_date);
        w.leaf("TotalAmount", &money_text(p.total_amount));
        w.opt_leaf("CashAmount", p.cash_amount.map(money_text).as_deref());
        w.leaf("CreatedAt", &p.created_at);
        w.open("Parts");
        for part in &response.parts {
            w.open("Part");
            w.leaf_display("PartNumber", part.part_number);
            w.leaf("RecipientType", part.recipient_type.as_str());
            if let Some(id) = part.account_ref {
                w.leaf_display("AccountId", id);
            }
            w.opt_leaf("AccountNumber", part.account_number.as_deref());
            w.leaf("Amount", &money_text(part.amount));
            w.leaf("Status", part.status.as_str());
            w.leaf("StatusDate", &sast_date(&part.status_at));
            let reason = match (&part.return_code, &part.return_reason) {
                (Some(code), Some(text)) => Some(format!("{code} {text}")),
                (None, Some(text)) => Some(text.clone()),
                (Some(code), None) => Some(code.clone()),
                (None, None) => None,
            };
            w.opt_leaf("ReturnReason", reason.as_deref());
            w.close("Part");
        }
        w.close("Parts");
        w.close("CreditPayment");
    }
}
