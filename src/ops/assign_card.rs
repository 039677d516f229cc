//! `AssignCard`: links a FEZA card to the client's ACTIVE wallet.
//!
//! - The card number is a 16-digit PAN with a valid Luhn check digit.
//! - A card is a magstripe card when its number starts with a configured magstripe BIN
//!   prefix (`--magstripe-bins`), else EMV (every card ordered since 22 November 2017).
//!   A magstripe card comes with a numbered PIN mailer, which must be given; an EMV card
//!   has none, so a PinMailerNumber for it is refused.
//! - A card is held by one wallet only. Assigning the same card to the same wallet again
//!   (with the same PIN mailer) is an idempotent success. A card another wallet holds,
//!   in this organisation or any other, is refused with one answer (422, the same
//!   message, the same single lookup before it), so the answer never says where it is
//!   held.
//! - A wallet has one current card; a new card replaces it, and the replaced card is
//!   released: it may be assigned again, to this wallet or any other of any organisation
//!   (its receipt prints only while it is current). All of a wallet's cards share one
//!   technology: an EMV card cannot be linked to a wallet that had a magstripe card (a
//!   new wallet is needed), nor the other way round.


use super::shared::payouts::require_wallet;
use super::wire::Fields;
use super::{Ctx, OpError, Operation, require_client};
use crate::domain::payouts::{CardTechnology, WalletStatus, card_technology, check_card_number};
use crate::domain::{Refusal, ResultCode, validate};
use crate::store::cards;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `AssignCard` operation.
pub struct AssignCard;

/// A decoded `AssignCard` request.
#[derive(Debug)]
pub struct AssignCardRequest {
    client_number: String,
    card_number: String,
    pin_mailer_number: Option<String>,
}

/// `AssignCard` answers only its Result.
#[derive(Debug)]
pub struct AssignCardResponse;

impl Operation for AssignCard {
    const NAME: &'static str = "AssignCard";
    const WRITES: bool = true;
    type Request = AssignCardRequest;
    type Response = AssignCardResponse;

    fn decode(element: &Element) -> Result<AssignCardRequest, ServiceError> {
        let f = Fields::new(
            element,
            &[
                ("ClientNumber", 1),
                ("CardNumber", 1),
                ("PinMailerNumber", 1),
            ],
        )?;
        Ok(AssignCardRequest {
            client_number: f.required_text("ClientNumber")?,
            card_number: f.required_text("CardNumber")?,
            pin_mailer_number: f.text("PinMailerNumber")?,
        })
    }

    fn handle(ctx: &Ctx<'_>, req: AssignCardRequest) -> Result<AssignCardResponse, OpError> {
        let client = require_client(ctx, &req.client_number)?;
        let card = check_card_number(&req.card_number)?;
        let mailer = match req.pin_mailer_number.as_deref() {
            Some(m) if !m.trim().is_empty() => {
                Some(validate::alphanumeric("PinMailerNumber", m, 20)?)
            }
            _ => None,
        };
        let wallet = require_wallet(ctx, client.id, &client.client_number)?;
        if wallet.status != WalletStatus::Active {
            return Err(Refusal::field(
                ResultCode::WalletNotActive,
                "ClientNumber",
                format!(
                    "client {}'s wallet is {}; a card can be assigned once it is ACTIVE",
                    client.client_number,
                    wallet.status.as_str()
                ),
            )
            .into());
        }
        let technology = card_technology(&card, &ctx.app.config.payouts.magstripe_bins);
        if let Some(existing) = cards::holder(ctx.tx, &card)? {
            if existing.wallet_id != wallet.id {
                // Whoever holds it, in whichever organisation: one answer.
                return Err(Refusal::field(
                    ResultCode::CardAssignedElsewhere,
                    "CardNumber",
                    "the card is assigned to another wallet; a card belongs to one wallet only",
                )
                .into());
            }
            if existing.pin_mailer_number != mailer {
                return Err(Refusal::field(
                    ResultCode::CardPinMailerConflict,
                    "PinMailerNumber",
                    "the card is already assigned to this wallet with another PIN mailer number",
                )
                .into());
            }
            return Ok(AssignCardResponse);
        }
        match (technology, &mailer) {
            (CardTechnology::Emv, Some(_)) => {
                return Err(Refusal::field(
                    ResultCode::PinMailerNotAllowed,
                    "PinMailerNumber",
                    "EMV FEZA cards have no PIN mailer; leave PinMailerNumber out",
                )
                .into());
            }
            (CardTechnology::Magstripe, None) => {
                return Err(Refusal::field(
                    ResultCode::PinMailerRequired,
                    "PinMailerNumber",
                    "a magstripe FEZA card is assigned with the number of its PIN mailer",
                )
                .into());
            }
            _ => {}
        }
        let history = cards::cards_of_wallet(ctx.tx, wallet.id)?;
        if let Some(earlier) = history.iter().find(|c| c.technology != technology) {
            return Err(Refusal::field(
                ResultCode::CardWalletTypeMismatch,
                "CardNumber",
                format!(
                    "the card does not match the wallet type: this card is {} and the wallet's earlier card was {}; a new wallet is needed",
                    technology.as_str(),
                    earlier.technology.as_str()
                ),
            )
            .into());
        }
        cards::assign(
            ctx.tx,
            wallet.id,
            &card,
            technology,
            mailer.as_deref(),
            ctx.principal.user_id,
            ctx.now,
        )?;
        tracing::debug!(
            client_number = %client.client_number,
            card = %crate::domain::mask::card_number(&card),
            technology = technology.as_str(),
            "card assigned"
        );
        Ok(AssignCardResponse)
    }

    fn encode(_response: &AssignCardResponse, _w: &mut XmlWriter) {}
}
