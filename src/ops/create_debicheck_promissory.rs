//! `CreateDebiCheckPromissory`: a DebiCheck mandate and its promissory note for a client
//! of the branch, and the request for the payer's authentication. The note is PENDING
//! with AuthenticationStatus AWAITING_AUTHENTICATION until the payer answers: TT1 and
//! TT2 answers arrive through the processor's mandate jobs (`engine::mandate_jobs`:
//! MANDATE_AUTHENTICATED / _DECLINED / _EXPIRED replies); TT3 (card and PIN on the
//! card payment device) is answered in real time, so its outcome is in the response.
//! Only an AUTHENTICATED mandate's note turns ACTIVE and presents.
//!
//! Checks, in order: the fields (ContractReference, amounts, NumberOfInstalments,
//! TrackingDays 0-10, CollectionDay against the frequency and FirstActionDate, the
//! maximum collection amount, once-off and adjustment rules), the client, then
//! idempotency on ContractReference (an identical repeat answers the stored note; other
//! content is a conflict), then TT3's hours (00:30-23:30 SAST), the client's age, the
//! cellphone TT1 needs, the account type DebiCheck allows, the debit account (CDV), and
//! FirstActionDate (registration cut-off and horizon; a collection day that is not a
//! processing day of the debtor bank moves by the bank's rule instead of being
//! refused: `domain::debicheck::presentment_date`).

use rust_decimal::Decimal;
use time::Date;

use super::shared::promissory::{
    NoteTerms, check_client_of_age, check_note_terms, reference_conflict, register_due,
    write_instalments,
};
use super::wire::{Fields, spellings};
use super::{Ctx, OpError, Operation, require_client};
use crate::domain::cdv::AccountType;
use crate::domain::debicheck::{
    AdjustmentCategory, AuthenticationStatus, AuthenticationType, CollectionDay, DebitSequence,
    DebitValueType, MandateAsked, account_type_allowed, authentication_deadline, check_mandate,
    collection_dates, nominal_dates, tt3_open,
};
use crate::domain::promissory::{
    Frequency, NoteStatus, NoteStream, check_action_date, check_instalment_amount,
    earliest_action_date, promissory_number,
};
use crate::domain::{Refusal, ResultCode, mask, money_scale};
use crate::engine::gateway::{MandateAnswer, Simulator};
use crate::engine::mandate_jobs;
use crate::store::mandates::{self, MandateRow, NewMandate};
use crate::store::promissory::{self, InstalmentRow, NewNote, NoteRow};
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `CreateDebiCheckPromissory` operation.
pub struct CreateDebiCheckPromissory;

/// A decoded `CreateDebiCheckPromissory` request.
#[derive(Debug)]
pub struct CreateDebiCheckPromissoryRequest {
    client_number: String,
    contract_reference: String,
    bank_branch_code: String,
    account_number: String,
    account_type: AccountType,
    instalment_amount: Decimal,
    number_of_instalments: i64,
    frequency: Frequency,
    first_action_date: Date,
    authentication_type: AuthenticationType,
    value_type: DebitValueType,
    maximum: Decimal,
    date_adjustment_allowed: bool,
    tracking_days: Option<i64>,
    sequence: Option<DebitSequence>,
    adjustment: Option<AdjustmentCategory>,
    collection_day: Option<i64>,
    adjustment_rate: Option<Decimal>,
    adjustment_amount: Option<Decimal>,
}

/// The note as created (or as stored, for an identical repeat).
#[derive(Debug)]
pub struct CreateDebiCheckPromissoryResponse {
    promissory_number: String,
    status: NoteStatus,
    authentication_status: AuthenticationStatus,
    instalments: Vec<InstalmentRow>,
}

impl Operation for CreateDebiCheckPromissory {
    const NAME: &'static str = "CreateDebiCheckPromissory";
    const WRITES: bool = true;
    type Request = CreateDebiCheckPromissoryRequest;
    type Response = CreateDebiCheckPromissoryResponse;

    fn decode(element: &Element) -> Result<CreateDebiCheckPromissoryRequest, ServiceError> {
        let f = Fields::new(
            element,
            &[
                ("ClientNumber", 1),
                ("ContractReference", 1),
                ("BankBranchCode", 1),
                ("AccountNumber", 1),
                ("AccountType", 1),
                ("InstalmentAmount", 1),
                ("NumberOfInstalments", 1),
                ("Frequency", 1),
                ("FirstActionDate", 1),
                ("AuthenticationType", 1),
                ("DebitValueType", 1),
                ("MaximumCollectionAmount", 1),
                ("DateAdjustmentAllowed", 1),
                ("TrackingDays", 1),
                ("DebitSequence", 1),
                ("AdjustmentCategory", 1),
                ("CollectionDay", 1),
                ("AdjustmentRate", 1),
                ("AdjustmentAmount", 1),
            ],
        )?;
        Ok(CreateDebiCheckPromissoryRequest {
            client_number: f.required_text("ClientNumber")?,
            contract_reference: f.required_text("ContractReference")?,
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
            authentication_type: f.required_enumeration(
                "AuthenticationType",
                AuthenticationType::parse,
                &spellings(AuthenticationType::ALL, AuthenticationType::as_str),
            )?,
            value_type: f.required_enumeration(
                "DebitValueType",
                DebitValueType::parse,
                &spellings(DebitValueType::ALL, DebitValueType::as_str),
            )?,
            maximum: f.required_decimal("MaximumCollectionAmount")?,
            date_adjustment_allowed: f.required_boolean("DateAdjustmentAllowed")?,
            tracking_days: f.integer("TrackingDays")?,
            sequence: f.enumeration(
                "DebitSequence",
                DebitSequence::parse,
                &spellings(DebitSequence::ALL, DebitSequence::as_str),
            )?,
            adjustment: f.enumeration(
                "AdjustmentCategory",
                AdjustmentCategory::parse,
                &spellings(AdjustmentCategory::ALL, AdjustmentCategory::as_str),
            )?,
            collection_day: f.integer("CollectionDay")?,
            adjustment_rate: f.decimal("AdjustmentRate")?,
            adjustment_amount: f.decimal("AdjustmentAmount")?,
        })
    }

    fn handle(
        ctx: &Ctx<'_>,
        req: CreateDebiCheckPromissoryRequest,
    ) -> Result<CreateDebiCheckPromissoryResponse, OpError> {
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
            config.check_tracking_days(NoteStream::DebiCheck, req.tracking_days.unwrap_or(0))?;
        let maximum = check_instalment_amount("MaximumCollectionAmount", req.maximum)?;
        let collection_day = match req.collection_day {
            Some(day) => CollectionDay::check(day, req.frequency, req.first_action_date)?,
            None => CollectionDay::of(req.first_action_date, req.frequency),
        };
        let adjustment_rate = req
            .adjustment_rate
            .map(check_rate)
            .transpose()?;
        let adjustment_amount = req
            .adjustment_amount
            .map(|a| money_scale("AdjustmentAmount", a))
            .transpose()?;
        let sequence = req.sequence.unwrap_or(DebitSequence::Rcur);
        let adjustment = req.adjustment.unwrap_or(AdjustmentCategory::Never);
        check_mandate(
            &config.debicheck,
            &MandateAsked {
                value_type: req.value_type,
                instalment: amount,
                maximum,
                sequence,
                count,
                adjustment,
                adjustment_rate,
                adjustment_amount,
            },
        )?;

        let client = require_client(ctx, &req.client_number)?;

        let asked = Asked {
            client_id: client.id,
            branch_code: &branch_code,
            account_number: &account_number,
            account_type: req.account_type,
            amount,
            count,
            frequency: req.frequency,
            first: req.first_action_date,
            tracking_days,
            authentication_type: req.authentication_type,
            value_type: req.value_type,
            maximum,
            date_adjustment_allowed: req.date_adjustment_allowed,
            sequence,
            adjustment,
            adjustment_rate,
            adjustment_amount,
            collection_day,
        };
        if let Some(stored) =
            promissory::find_by_reference(ctx.tx, ctx.principal.branch_id, &reference)?
        {
            let mandate = match stored.stream {
                NoteStream::DebiCheck => mandates::find(ctx.tx, stored.id)?,
                _ => None,
            };
            return match mandate {
                Some(m) if asked.same_as(&stored, &m) => respond(ctx, &stored, &m),
                _ => Err(reference_conflict(ctx, &reference, &stored)),
            };
        }

        if req.authentication_type == AuthenticationType::Tt3 && !tt3_open(ctx.now) {
            return Err(Refusal::field(
                ResultCode::Tt3OutsideHours,
                "AuthenticationType",
                "TT3 (card and PIN) authentication is available only from 00:30 to 23:30 South African time",
            )
            .into());
        }
        check_client_of_age(ctx, &client)?;
        if req.authentication_type.needs_cellphone() && client.cellphone.is_none() {
            return Err(Refusal::field(
                ResultCode::AuthenticationCellphoneMissing,
                "ClientNumber",
                format!(
                    "{} authentication reaches the payer on the cellphone: client {} has no cellphone number",
                    req.authentication_type, client.client_number
                ),
            )
            .into());
        }
        if !account_type_allowed(req.account_type) {
            return Err(Refusal::field(
                ResultCode::DebicheckAccountTypeNotAllowed,
                "AccountType",
                format!(
                    "DebiCheck collects only from CURRENT, SAVINGS and TRANSMISSION accounts, not {}",
                    req.account_type
                ),
            )
            .into());
        }
        let pass = ctx
            .app
            .config
            .cdv
            .validate(&branch_code, &account_number, req.account_type)
            .map_err(Refusal::from)?;

        let calendar = &*ctx.calendar()?;
        // The collection day may be a weekend or holiday (it is the payer's day); the
        // cut-off and the horizon still apply to it.
        match check_action_date(
            calendar,
            ctx.today(),
            req.first_action_date,
            NoteStream::DebiCheck,
            config,
            "FirstActionDate",
        ) {
            Err(r)
                if r.code == ResultCode::ActionDateWeekend
                    || r.code == ResultCode::ActionDatePublicHoliday => {}
            other => other?,
        }
        let week = ctx
            .app
            .config
            .collections
            .banks
            .profile_for_branch(&ctx.app.config.cdv, &branch_code)
            .week;
        let too_far = || {
            Refusal::field(
                ResultCode::ActionDateTooFar,
                "FirstActionDate",
                "the instalment schedule runs past the last representable date",
            )
        };
        let nominal = nominal_dates(req.first_action_date, req.frequency, collection_day, count)
            .ok_or_else(too_far)?;
        let dates = collection_dates(calendar, week, &nominal).ok_or_else(too_far)?;
        let earliest = earliest_action_date(
            calendar,
            ctx.today(),
            config.lead_days(NoteStream::DebiCheck),
        );
        if let (Some(first), Some(earliest)) = (dates.first(), earliest)
            && *first < earliest
        {
            return Err(Refusal::field(
                ResultCode::ActionDateBeforeCutOff,
                "FirstActionDate",
                format!(
                    "the first collection would be presented on {}, before the DEBICHECK registration cut-off (earliest {})",
                    crate::clock::format_date(*first),
                    crate::clock::format_date(earliest)
                ),
            )
            .into());
        }

        let inserted = promissory::insert_note(
            ctx.tx,
            &NewNote {
                branch_id: ctx.principal.branch_id,
                client_id: client.id,
                contract_reference: &reference,
                stream: NoteStream::DebiCheck,
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
                card_and_pin: req.authentication_type == AuthenticationType::Tt3,
                created_by: ctx.principal.user_id,
                created_at: ctx.now,
            },
        )?;
        let id = inserted.id;
        mandates::insert(
            ctx.tx,
            &NewMandate {
                note_id: id,
                authentication_type: req.authentication_type,
                value_type: req.value_type,
                maximum,
                date_adjustment_allowed: req.date_adjustment_allowed,
                sequence,
                adjustment,
                adjustment_rate,
                adjustment_amount,
                collection_day,
                cellphone: client.cellphone.as_deref(),
                requested_at: ctx.now,
                deadline: authentication_deadline(req.authentication_type, ctx.now),
            },
        )?;
        let stored =
            promissory::note(ctx.tx, id)?.ok_or_else(|| {
                OpError::Internal(format!("promissory note {id} is missing after its insert"))
            })?;
        let mandate = mandates::find(ctx.tx, id)?.ok_or_else(|| {
            OpError::Internal(format!("mandate of note {id} is missing after its insert"))
        })?;
        if req.authentication_type == AuthenticationType::Tt3 {
            // Card and PIN on the device: answered now, in this transaction.
            let device = Simulator::new(ctx.app.config.payouts.simulator.clone());
            if let MandateAnswer::Answered {
                at,
                authenticated,
                channel,
            } = device.card_and_pin(&mandate_jobs::request(&stored, &mandate), ctx.now)
            {
                mandate_jobs::record_answer(ctx.tx, id, authenticated, at, channel)?;
            }
        } else {
            mandate_jobs::queue_request(ctx.tx, id, &mandate)?;
        }
        tracing::info!(
            promissory = %promissory_number(inserted.number),
            client = %client.client_number,
            authentication = %req.authentication_type,
            bank = %pass.bank.id,
            account = %mask::account_number(&account_number),
            instalments = count,
            "DebiCheck mandate created"
        );
        let stored =
            promissory::note(ctx.tx, id)?.ok_or_else(|| {
                OpError::Internal(format!("promissory note {id} is missing after its insert"))
            })?;
        let mandate = mandates::find(ctx.tx, id)?.ok_or_else(|| {
            OpError::Internal(format!("mandate of note {id} is missing after its insert"))
        })?;
        respond(ctx, &stored, &mandate)
    }

    fn encode(response: &CreateDebiCheckPromissoryResponse, w: &mut XmlWriter) {
        w.leaf("PromissoryNumber", &response.promissory_number);
        w.leaf("Status", response.status.as_str());
        w.leaf(
            "AuthenticationStatus",
            response.authentication_status.as_str(),
        );
        write_instalments(w, &response.instalments);
    }
}

/// What the request asks for, to compare with a stored note (idempotency).
struct Asked<'a> {
    client_id: i64,
    branch_code: &'a str,
    account_number: &'a str,
    account_type: AccountType,
    amount: Decimal,
    count: u16,
    frequency: Frequency,
    first: Date,
    tracking_days: u8,
    authentication_type: AuthenticationType,
    value_type: DebitValueType,
    maximum: Decimal,
    date_adjustment_allowed: bool,
    sequence: DebitSequence,
    adjustment: AdjustmentCategory,
    adjustment_rate: Option<Decimal>,
    adjustment_amount: Option<Decimal>,
    collection_day: CollectionDay,
}

impl Asked<'_> {
    fn same_as(&self, note: &NoteRow, m: &MandateRow) -> bool {
        note.client_id == self.client_id
            && note.bank_branch_code == self.branch_code
            && note.account_number == self.account_number
            && note.account_type == self.account_type
            && note.instalment_amount == self.amount
            && note.number_of_instalments == self.count
            && note.frequency == self.frequency
            && note.first_action_date == self.first
            && note.tracking_days == self.tracking_days
            && m.authentication_type == self.authentication_type
            && m.value_type == self.value_type
            && m.maximum == self.maximum
            && m.date_adjustment_allowed == self.date_adjustment_allowed
            && m.sequence == self.sequence
            && m.adjustment == self.adjustment
            && m.adjustment_rate.map(|r| r.normalize()) == self.adjustment_rate.map(|r| r.normalize())
            && m.adjustment_amount == self.adjustment_amount
            && m.collection_day == self.collection_day
    }
}

/// An adjustment rate in percent: -100 to 100, at most four decimals.
fn check_rate(rate: Decimal) -> Result<Decimal, Refusal> {
    let hundred = Decimal::ONE_HUNDRED;
    if rate.normalize().scale() > 4 || rate < -hundred || rate > hundred {
        return Err(Refusal::field(
            ResultCode::AdjustmentInvalid,
            "AdjustmentRate",
            format!("AdjustmentRate must be a percentage from -100 to 100 with at most four decimals, got {rate}"),
        ));
    }
    Ok(rate.normalize())
}

fn respond(
    ctx: &Ctx<'_>,
    note: &NoteRow,
    m: &MandateRow,
) -> Result<CreateDebiCheckPromissoryResponse, OpError> {
    Ok(CreateDebiCheckPromissoryResponse {
        promissory_number: promissory_number(note.number),
        status: note.status,
        authentication_status: m.status,
        instalments: promissory::instalments(ctx.tx, note.id)?,
    })
}
