//! The payment and wallet lookups the payout operations share: a payment of the caller's
//! branch from its PaymentNumber (GetClientCredit, PrintClientCredit) and a client's
//! latest wallet request (GetWallet, AssignCard).

use crate::domain::payouts::parse_payment_number;
use crate::domain::{Refusal, ResultCode, validate};
use crate::ops::{Ctx, OpError};
use crate::store::payments;
use crate::store::payments::PartRow;
use crate::store::payments::PaymentRow;
use crate::store::wallets;
use crate::store::wallets::WalletRow;

/// The branch's payment with this PaymentNumber, and its parts.
///
/// # Errors
///
/// `FIELD_REQUIRED` / `FIELD_TOO_LONG` for a blank or long number, `PAYMENT_NOT_FOUND`
/// when the branch has no such payment, or the store failing.
pub fn require_payment(ctx: &Ctx<'_>, text: &str) -> Result<(PaymentRow, Vec<PartRow>), OpError> {
    let number = validate::required("PaymentNumber", text, 20)?;
    let not_found = || {
        OpError::Refused(Refusal::field(
            ResultCode::PaymentNotFound,
            "PaymentNumber",
            format!(
                "payment {number} does not exist in branch {}",
                ctx.principal.branch_code
            ),
        ))
    };
    let digits = parse_payment_number(&number).ok_or_else(not_found)?;
    let payment = payments::payment_by_number(ctx.tx, ctx.principal.branch_id, digits)?
        .ok_or_else(not_found)?;
    let parts = payments::parts_of(ctx.tx, payment.id)?;
    Ok((payment, parts))
}

/// The client's latest wallet request.
///
/// # Errors
///
/// `WALLET_NOT_FOUND` when the client never asked for one, or the store failing.
pub fn require_wallet(
    ctx: &Ctx<'_>,
    client_id: i64,
    client_number: &str,
) -> Result<WalletRow, OpError> {
    wallets::latest_wallet(ctx.tx, client_id)?.ok_or_else(|| {
        OpError::Refused(Refusal::field(
            ResultCode::WalletNotFound,
            "ClientNumber",
            format!("client {client_number} has no wallet; request one with CreateWallet"),
        ))
    })
}
