//! `AddClientAccount`: registers a bank account of a client for credit payments. The
//! branch code must belong to a known bank and the account number must pass that bank's
//! CDV check for the account type. The same account (branch code, number and type) for
//! the same client returns the existing AccountId. CDV failures answer the same codes as
//! for CreatePromissory (`Refusal::from(CdvError)` in `domain/cdv.rs`).


use super::wire::{Fields, spellings};
use super::{Ctx, OpError, Operation, require_client};
use crate::domain::cdv::AccountType;
use crate::domain::validate;
use crate::domain::{Refusal, ResultCode};
use crate::store::accounts;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `AddClientAccount` operation.
pub struct AddClientAccount;

/// A decoded `AddClientAccount` request.
#[derive(Debug)]
pub struct AddClientAccountRequest {
    client_number: String,
    bank_branch_code: String,
    account_number: String,
    account_type: AccountType,
    account_holder_name: Option<String>,
}

/// The registered account's id.
#[derive(Debug)]
pub struct AddClientAccountResponse {
    account_id: i64,
}

impl Operation for AddClientAccount {
    const NAME: &'static str = "AddClientAccount";
    const WRITES: bool = true;
    type Request = AddClientAccountRequest;
    type Response = AddClientAccountResponse;

    fn decode(element: &Element) -> Result<AddClientAccountRequest, ServiceError> {
        let f = Fields::new(
            element,
            &[
                ("ClientNumber", 1),
                ("BankBranchCode", 1),
                ("AccountNumber", 1),
                ("AccountType", 1),
                ("AccountHolderName", 1),
            ],
        )?;
        Ok(AddClientAccountRequest {
            client_number: f.required_text("ClientNumber")?,
            bank_branch_code: f.required_text("BankBranchCode")?,
            account_number: f.required_text("AccountNumber")?,
            account_type: f.required_enumeration(
                "AccountType",
                AccountType::parse,
                &spellings(&AccountType::ALL, AccountType::as_str),
            )?,
            account_holder_name: f.text("AccountHolderName")?,
        })
    }

    fn handle(
        ctx: &Ctx<'_>,
        req: AddClientAccountRequest,
    ) -> Result<AddClientAccountResponse, OpError> {
        let client = require_client(ctx, &req.client_number)?;
        let branch_code = req.bank_branch_code.trim();
        let account_number = req.account_number.trim();
        for (field, value) in [
            ("BankBranchCode", branch_code),
            ("AccountNumber", account_number),
        ] {
            if value.is_empty() {
                return Err(Refusal::field(
                    ResultCode::FieldRequired,
                    field,
                    format!("{field} is required"),
                )
                .into());
            }
        }
        let holder = match req.account_holder_name.as_deref() {
            Some(name) if !name.trim().is_empty() => {
                Some(validate::business_name("AccountHolderName", name, 60)?)
            }
            _ => None,
        };
        let bank_name = ctx
            .app
            .config
            .cdv
            .validate(branch_code, account_number, req.account_type)
            .map_err(Refusal::from)?
            .bank
            .name
            .clone();
        if let Some(id) = accounts::find_bank_account(
            ctx.tx,
            client.id,
            branch_code,
            account_number,
            req.account_type,
        )? {
            return Ok(AddClientAccountResponse { account_id: id });
        }
        let account_id = accounts::insert_bank_account(
            ctx.tx,
            &accounts::NewBankAccount {
                branch_id: ctx.principal.branch_id,
                client_id: client.id,
                bank_branch_code: branch_code,
                bank_name: &bank_name,
                account_number,
                account_type: req.account_type,
                holder_name: holder.as_deref(),
                created_by: ctx.principal.user_id,
            },
            ctx.now,
        )?
        .number;
        tracing::debug!(
            client_number = %client.client_number,
            account = %crate::domain::mask::account_number(account_number),
            account_id,
            "client account added"
        );
        Ok(AddClientAccountResponse { account_id })
    }

    fn encode(response: &AddClientAccountResponse, w: &mut XmlWriter) {
        w.leaf_display("AccountId", response.account_id);
    }
}
