//! `GetWallet`: the state of the client's latest wallet request: PENDING, ACTIVE (with
//! its wallet number, AccountId and current card) or FAILED (with the reason).

use super::shared::payouts::require_wallet;
use super::wire::Fields;
use super::{Ctx, OpError, Operation, require_client};
use crate::domain::payouts::WalletStatus;
use crate::store::wallets::WalletRow;
use crate::store::cards;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `GetWallet` operation.
pub struct GetWallet;

/// A decoded `GetWallet` request.
#[derive(Debug)]
pub struct GetWalletRequest {
    client_number: String,
}

/// The wallet and its current card.
#[derive(Debug)]
pub struct GetWalletResponse {
    wallet: WalletRow,
    card_number: Option<String>,
}

impl Operation for GetWallet {
    const NAME: &'static str = "GetWallet";
    const WRITES: bool = false;
    type Request = GetWalletRequest;
    type Response = GetWalletResponse;

    fn decode(element: &Element) -> Result<GetWalletRequest, ServiceError> {
        let f = Fields::new(element, &[("ClientNumber", 1)])?;
        Ok(GetWalletRequest {
            client_number: f.required_text("ClientNumber")?,
        })
    }

    fn handle(ctx: &Ctx<'_>, req: GetWalletRequest) -> Result<GetWalletResponse, OpError> {
        let client = require_client(ctx, &req.client_number)?;
        let wallet = require_wallet(ctx, client.id, &client.client_number)?;
        let card_number = cards::cards_of_wallet(ctx.tx, wallet.id)?
            .into_iter()
            .find(|c| c.active)
            .map(|c| c.card_number);
        Ok(GetWalletResponse {
            wallet,
            card_number,
        })
    }

    fn encode(response: &GetWalletResponse, w: &mut XmlWriter) {
        let wallet = &response.wallet;
        w.leaf("Status", wallet.status.as_str());
        if wallet.status == WalletStatus::Active {
            w.opt_leaf("WalletNumber", wallet.wallet_number.as_deref());
            if let Some(id) = wallet.account_number {
                w.leaf_display("AccountId", id);
            }
            w.opt_leaf("CardNumber", response.card_number.as_deref());
        }
        if wallet.status == WalletStatus::Failed {
            let reason = match (&wallet.failure_code, &wallet.failure_reason) {
                (Some(code), Some(text)) => Some(format!("{code} {text}")),
                (None, Some(text)) => Some(text.clone()),
                (Some(code), None) => Some(code.clone()),
                (None, None) => None,
            };
            w.opt_leaf("FailureReason", reason.as_deref());
        }
    }
}
