//! `CreateWallet`: queues a wallet request for a client. The client's cellphone must be
//! set and unique among the branch's clients, and its date of birth and gender valid (for
//! an SA ID, in agreement with the ID number). The request is answered PENDING; the
//! processor calls the wallet issuer after the configured delay (about 10 minutes) and the
//! wallet becomes ACTIVE (and one of the client's accounts) or FAILED.
//!
//! One wallet per client: while a request is PENDING or ACTIVE a repeat returns it (same
//! WalletRequestId, its current status, Code 0); after FAILED a new request is made.

use time::Date;

use super::wire::Fields;
use super::{Ctx, OpError, Operation, require_client};
use crate::clock::parse_date;
use crate::domain::payouts::WalletStatus;
use crate::domain::{IdType, Refusal, ResultCode, validate};
use crate::store::clients::ClientRow;
use crate::store::jobs::{self, JobKind, NewJob};
use crate::store::wallets;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `CreateWallet` operation.
pub struct CreateWallet;

/// A decoded `CreateWallet` request.
#[derive(Debug)]
pub struct CreateWalletRequest {
    client_number: String,
}

/// The wallet request.
#[derive(Debug)]
pub struct CreateWalletResponse {
    wallet_request_id: i64,
    status: WalletStatus,
}

/// Checks the client's stored date of birth and gender for a wallet.
fn check_identity(client: &ClientRow, today: Date) -> Result<(), Refusal> {
    let dob = parse_date(&client.date_of_birth)
        .filter(|d| *d <= today && today.year() - d.year() <= 130)
        .ok_or_else(|| {
            Refusal::new(
                ResultCode::ClientDateOfBirthInvalid,
                format!(
                    "client {} has no valid date of birth ({}); a wallet needs one",
                    client.client_number, client.date_of_birth
                ),
            )
        })?;
    let gender = client.gender;
    if client.id_type == IdType::SaId {
        let consistent = validate::sa_id_number("IdNumber", &client.id_number)
            .is_ok_and(|id| id.matches_birth_date(dob) && id.gender == gender);
        if !consistent {
            return Err(Refusal::new(
                ResultCode::ClientIdMismatch,
                format!(
                    "client {}'s date of birth or gender disagrees with its SA ID number",
                    client.client_number
                ),
            ));
        }
    }
    Ok(())
}

impl Operation for CreateWallet {
    const NAME: &'static str = "CreateWallet";
    const WRITES: bool = true;
    type Request = CreateWalletRequest;
    type Response = CreateWalletResponse;

    fn decode(element: &Element) -> Result<CreateWalletRequest, ServiceError> {
        let f = Fields::new(element, &[("ClientNumber", 1)])?;
        Ok(CreateWalletRequest {
            client_number: f.required_text("ClientNumber")?,
        })
    }

    fn handle(ctx: &Ctx<'_>, req: CreateWalletRequest) -> Result<CreateWalletResponse, OpError> {
        let client = require_client(ctx, &req.client_number)?;
        if let Some(wallet) = wallets::latest_wallet(ctx.tx, client.id)?
            && wallet.status != WalletStatus::Failed
        {
            return Ok(CreateWalletResponse {
                wallet_request_id: wallet.number,
                status: wallet.status,
            });
        }
        let Some(cellphone) = client.cellphone.clone().filter(|c| !c.is_empty()) else {
            return Err(Refusal::new(
                ResultCode::CellphoneMissing,
                format!(
                    "client {} has no cellphone number; a wallet is linked to one",
                    client.client_number
                ),
            )
            .into());
        };
        let other = wallets::other_client_with_cellphone(
            ctx.tx,
            ctx.principal.branch_id,
            &cellphone,
            client.id,
        )?;
        if let Some(other) = other {
            return Err(Refusal::new(
                ResultCode::CellphoneInUse,
                format!(
                    "client {other} in this branch has the same cellphone number; a wallet's cellphone must be unique in the branch"
                ),
            )
            .into());
        }
        check_identity(&client, ctx.today())?;
        let wallet = wallets::insert_request(
            ctx.tx,
            ctx.principal.branch_id,
            client.id,
            &cellphone,
            ctx.principal.user_id,
            ctx.now,
        )?;
        jobs::enqueue(
            ctx.tx,
            &NewJob {
                kind: JobKind::WalletCreate,
                subject_id: wallet.id,
                part_number: 0,
                due_at: ctx.now + ctx.app.config.payouts.wallet_delay,
            },
            ctx.now,
        )?;
        tracing::debug!(
            client_number = %client.client_number,
            wallet_request_id = wallet.number,
            "wallet requested"
        );
        Ok(CreateWalletResponse {
            wallet_request_id: wallet.number,
            status: WalletStatus::Pending,
        })
    }

    fn encode(response: &CreateWalletResponse, w: &mut XmlWriter) {
        w.leaf_display("WalletRequestId", response.wallet_request_id);
        w.leaf("Status", response.status.as_str());
    }
}
