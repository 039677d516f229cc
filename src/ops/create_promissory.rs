//! `CreatePromissory`: a NAEDO, EFT or SOCIAL_GRANT_EFT promissory note for a client of
//! the branch, created without card or PIN (so Intecon transaction fees are not
//! recoverable from the client), with its instalment schedule on the business calendar.
//!
//! Checks, in order: the fields (ContractReference, amount, NumberOfInstalments,
//! TrackingDays against the stream), the client, then idempotency on ContractReference
//! (an identical repeat answers the stored note even if today's rules would now refuse
//! it, e.g. because the cut-off has passed; other content is a conflict), then the
//! client's age (`DEBTOR_MINOR` under the age of majority on the request's date), then
//! the debit account (CDV; Social Grant EFT only at banks that offer it), then FirstActionDate
//! (registration cut-off, horizon, weekend, public holiday).

use rust_decimal::Decimal;
use time::Date;

use super::shared::promissory::{
    NoteTerms, check_client_of_age, check_note_terms, reference_conflict, register_due,
    write_instalments,
};
use super::wire::{Fields, spellings};
use super::{Ctx, OpError, Operation, require_client};
use crate::domain::cdv::AccountType;
use crate::domain::mask;
use crate::domain::promissory::{
    Frequency, NoteStatus, NoteStream, check_action_date,
    promissory_number, schedule,
};
use crate::domain::{Refusal, ResultCode};
use crate::store::promissory::{self, InstalmentRow, NewNote, NoteRow};
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `CreatePromissory` operation.
pub struct CreatePromissory;

/// A decoded `CreatePromissory` request.
#[derive(Debug)]
pub struct CreatePromissoryRequest {
    client_number: String,
    contract_reference: String,
    stream: NoteStream,
    bank_branch_code: String,
    account_number: String,
    account_type: AccountType,
    instalment_amount: Decimal,
    number_of_instalments: i64,
    frequency: Frequency,
    first_action_date: Date,
    tracking_days: Option<i64>,
}

/// The note as created (or as stored, for an identical repeat).
#[derive(Debug)]
pub struct CreatePromissoryResponse {
    promissory_number: String,
    status: NoteStatus,
    instalments: Vec<InstalmentRow>,
}

impl Operation for CreatePromissory {
    const NAME: &'static str = "CreatePromissory";
    const WRITES: bool = true;
    type Request = CreatePromissoryRequest;
    type Response = CreatePromissoryResponse;

    fn decode(element: &Element) -> Result<CreatePromissoryRequest, ServiceError> {
        let f = Fields::new(
            element,
            &[
                ("ClientNumber", 1),
                ("ContractReference", 1),
                ("PaymentStream", 1),
                ("BankBranchCode", 1),
                ("AccountNumber", 1),
                ("AccountType", 1),
                ("InstalmentAmount", 1),
                ("NumberOfInstalments", 1),
                ("Frequency", 1),
                ("FirstActionDate", 1),
                ("TrackingDays", 1),
            ],
        )?;
        Ok(CreatePromissoryRequest {
            client_number: f.required_text("ClientNumber")?,
            contract_reference: f.required_text("ContractReference")?,
            stream: f.required_enumeration(
                "PaymentStream",
                NoteStream::parse_payment_stream,
                &spellings(NoteStream::CREATABLE, NoteStream::as_str),
            )?,
            bank_branch_code: f.required_text("BankBranchCode")?,
            account_number: f.required_text("AccountNumber")?,
            account_type: f.required_enumeration(
                "AccountType",
                AccountType::parse,
                &spellings(&AccountType::ALL, AccountType::as_str),
            )?,
            instalment_amount: f.required_decimal("InstalmentAmount")?,
            number_of_instalments: f.required_integer("NumberOfInstalments")?,
            frequency: f.required_enumeration(
                "Frequency",
                Frequency::parse,
                &spellings(Frequency::ALL, Frequency::as_str),
            )?,
            first_action_date: f.required_date("FirstActionDate")?,
            tracking_days: f.integer("TrackingDays")?,
        })
    }

    fn handle(
        ctx: &Ctx<'_>,
        req: CreatePromissoryRequest,
    ) -> Result<CreatePromissoryResponse, OpError> {
        register_due(ctx)?;
        let config = &ctx.app.config.promissory;
        let NoteTerms {
            reference,
            branch_code,
            account_number,
            amount,
            count,
        } = check_note_terms(
            config,
            &req.contract_reference,
            &req.bank_branch_code,
            &req.account_number,
            req.instalment_amount,
            req.number_of_instalments,
        )?;
        let tracking_days =
            config.check_tracking_days(req.stream, req.tracking_days.unwrap_or(0))?;

        let client = require_client(ctx, &req.client_number)?;

        if let Some(stored) =
            promissory::find_by_reference(ctx.tx, ctx.principal.branch_id, &reference)?
        {
            let same = stored.client_id == client.id
                && stored.stream == req.stream
                && stored.bank_branch_code == branch_code
                && stored.account_number == account_number
                && stored.account_type == req.account_type
                && stored.instalment_amount == amount
                && stored.number_of_instalments == count
                && stored.frequency == req.frequency
                && stored.first_action_date == req.first_action_date
                && stored.tracking_days == tracking_days;
            if !same {
                return Err(reference_conflict(ctx, &reference, &stored));
            }
            return respond(ctx, &stored);
        }

        check_client_of_age(ctx, &client)?;

        let pass = ctx
            .app
            .config
            .cdv
            .validate(&branch_code, &account_number, req.account_type)
            .map_err(Refusal::from)?;
        if req.stream == NoteStream::SocialGrantEft && !pass.bank.social_grant_eft {
            let offering: Vec<&str> = ctx
                .app
                .config
                .cdv
                .banks()
                .iter()
                .filter(|b| b.social_grant_eft)
                .map(|b| b.name.as_str())
                .collect();
            return Err(Refusal::field(
                ResultCode::SocialGrantEftNotAllowed,
                "PaymentStream",
                format!(
                    "SOCIAL_GRANT_EFT is offered only for accounts at {}; branch {branch_code} belongs to {}",
                    offering.join(" and "),
                    pass.bank.name
                ),
            )
            .into());
        }

        let calendar = &*ctx.calendar()?;
        check_action_date(
            calendar,
            ctx.today(),
            req.first_action_date,
            req.stream,
            config,
            "FirstActionDate",
        )?;
        let dates =
            schedule(calendar, req.first_action_date, req.frequency, count).ok_or_else(|| {
                Refusal::field(
                    ResultCode::ActionDateTooFar,
                    "FirstActionDate",
                    "the instalment schedule runs past the last representable date",
                )
            })?;

        let note = promissory::insert_note(
            ctx.tx,
            &NewNote {
                branch_id: ctx.principal.branch_id,
                client_id: client.id,
                contract_reference: &reference,
                stream: req.stream,
                bank_branch_code: &branch_code,
                bank_id: &pass.bank.id,
                bank_name: &pass.bank.name,
                account_number: &account_number,
                account_type: req.account_type,
                check_digit_verified: pass.check_digit_verified,
                instalment_amount: amount,
                frequency: req.frequency,
                first_action_date: req.first_action_date,
                tracking_days,
                action_dates: &dates,
                card_and_pin: false,
                created_by: ctx.principal.user_id,
                created_at: ctx.now,
            },
        )?;
        tracing::info!(
            promissory = %promissory_number(note.number),
            client = %client.client_number,
            stream = %req.stream,
            bank = %pass.bank.id,
            account = %mask::account_number(&account_number),
            check_digit_verified = pass.check_digit_verified,
            instalments = count,
            "promissory note created"
        );
        if !pass.check_digit_verified {
            tracing::warn!(
                promissory = %promissory_number(note.number),
                bank = %pass.bank.id,
                "account accepted without a check-digit verification: the CDV data has no rule for this bank"
            );
        }
        let stored =
            promissory::note(ctx.tx, note.id)?.ok_or_else(|| {
                OpError::Internal(format!("promissory note {} is missing after its insert", note.id))
            })?;
        respond(ctx, &stored)
    }

    fn encode(response: &CreatePromissoryResponse, w: &mut XmlWriter) {
        w.leaf("PromissoryNumber", &response.promissory_number);
        w.leaf("Status", response.status.as_str());
        write_instalments(w, &response.instalments);
    }
}

fn respond(ctx: &Ctx<'_>, note: &NoteRow) -> Result<CreatePromissoryResponse, OpError> {
    Ok(CreatePromissoryResponse {
        promissory_number: promissory_number(note.number),
        status: note.status,
        instalments: promissory::instalments(ctx.tx, note.id)?,
    })
}
