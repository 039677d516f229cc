//! `EditInstalment`: changes the ActionDate, Amount or TrackingDays of one instalment not
//! yet presented (PENDING) of a PENDING or ACTIVE note. Amounts change only on EFT and
//! SOCIAL_GRANT_EFT notes (seed); TrackingDays obeys the stream's limits; a new date obeys
//! the same rules as FirstActionDate (registration cut-off, horizon, weekend, public
//! holiday) and must stay between the neighbouring instalments' dates, so the schedule
//! keeps its order. An instalment whose current date is already inside the cut-off
//! cannot change at all. The note's own InstalmentAmount and FirstActionDate keep the values
//! it was created with. An UNPAID instalment given a new ActionDate (same calendar and
//! cut-off rules, but it may fall after later instalments) is re-presented as an arrears
//! collection: PENDING again, marked arrears, presented on the new date.

use rust_decimal::Decimal;
use time::Date;

use super::shared::promissory::{register_due, require_note, write_instalment_fields};
use super::wire::Fields;
use super::{Ctx, OpError, Operation};
use crate::clock::format_date;
use crate::domain::promissory::{
    InstalmentStatus, check_action_date, check_instalment_amount, earliest_action_date,
    promissory_number,
};
use crate::domain::{Refusal, ResultCode};
use crate::store::promissory::{self, InstalmentRow};
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `EditInstalment` operation.
pub struct EditInstalment;

/// A decoded `EditInstalment` request.
#[derive(Debug)]
pub struct EditInstalmentRequest {
    promissory_number: String,
    instalment_number: i64,
    action_date: Option<Date>,
    amount: Option<Decimal>,
    tracking_days: Option<i64>,
}

/// The instalment as it now stands.
#[derive(Debug)]
pub struct EditInstalmentResponse {
    instalment: InstalmentRow,
}

impl Operation for EditInstalment {
    const NAME: &'static str = "EditInstalment";
    const WRITES: bool = true;
    type Request = EditInstalmentRequest;
    type Response = EditInstalmentResponse;

    fn decode(element: &Element) -> Result<EditInstalmentRequest, ServiceError> {
        let f = Fields::new(
            element,
            &[
                ("PromissoryNumber", 1),
                ("InstalmentNumber", 1),
                ("ActionDate", 1),
                ("Amount", 1),
                ("TrackingDays", 1),
            ],
        )?;
        Ok(EditInstalmentRequest {
            promissory_number: f.required_text("PromissoryNumber")?,
            instalment_number: f.required_integer("InstalmentNumber")?,
            action_date: f.date("ActionDate")?,
            amount: f.decimal("Amount")?,
            tracking_days: f.integer("TrackingDays")?,
        })
    }

    fn handle(
        ctx: &Ctx<'_>,
        req: EditInstalmentRequest,
    ) -> Result<EditInstalmentResponse, OpError> {
        register_due(ctx)?;
        if req.action_date.is_none() && req.amount.is_none() && req.tracking_days.is_none() {
            return Err(Refusal::new(
                ResultCode::EditNothingRequested,
                "give at least one of ActionDate, Amount and TrackingDays",
            )
            .into());
        }
        let amount = req
            .amount
            .map(|a| check_instalment_amount("Amount", a))
            .transpose()?;
        let note = require_note(ctx, &req.promissory_number)?;
        let number = promissory_number(note.number);
        if !note.status.editable() {
            return Err(Refusal::field(
                ResultCode::PromissoryNotEditable,
                "PromissoryNumber",
                format!(
                    "promissory note {number} is {}: only PENDING and ACTIVE notes can be edited",
                    note.status
                ),
            )
            .into());
        }
        let schedule = promissory::instalments(ctx.tx, note.id)?;
        let index = schedule
            .iter()
            .position(|i| i64::from(i.number) == req.instalment_number)
            .ok_or_else(|| {
                Refusal::field(
                    ResultCode::InstalmentNotFound,
                    "InstalmentNumber",
                    format!(
                        "promissory note {number} has instalments 1 to {}, not {}",
                        schedule.len(),
                        req.instalment_number
                    ),
                )
            })?;
        let current = &schedule[index];
        // An UNPAID instalment is re-presented as an arrears collection on a new date.
        let arrears = current.status == InstalmentStatus::Unpaid;
        if arrears && req.action_date.is_none_or(|d| d == current.action_date) {
            return Err(Refusal::field(
                ResultCode::InstalmentAlreadyPresented,
                "ActionDate",
                format!(
                    "instalment {} of {number} is UNPAID: give a new ActionDate to re-present it as arrears",
                    current.number
                ),
            )
            .into());
        }
        if !arrears && !current.status.not_yet_presented() {
            return Err(Refusal::field(
                ResultCode::InstalmentAlreadyPresented,
                "InstalmentNumber",
                format!(
                    "instalment {} of {number} is {}: only instalments not yet presented (PENDING) can be edited",
                    current.number, current.status
                ),
            )
            .into());
        }
        // An instalment whose date is already inside the stream's registration cut-off
        // has been (or is being) submitted to the bank: it can no longer change.
        let lead = ctx.app.config.promissory.lead_days(note.stream);
        let calendar = ctx.calendar()?;
        if let Some(earliest) = earliest_action_date(&calendar, ctx.today(), lead)
            && !arrears
            && current.action_date < earliest
        {
            return Err(Refusal::field(
                ResultCode::ActionDateBeforeCutOff,
                "InstalmentNumber",
                format!(
                    "instalment {} of {number} falls due on {}, inside the {} registration cut-off (the earliest date still open to changes is {}): it can no longer be changed",
                    current.number,
                    format_date(current.action_date),
                    note.stream,
                    format_date(earliest)
                ),
            )
            .into());
        }
        let mut edited = current.clone();
        if let Some(amount) = amount {
            if !note.stream.amount_editable() {
                return Err(Refusal::field(
                    ResultCode::AmountNotEditable,
                    "Amount",
                    format!(
                        "amounts change only on EFT and SOCIAL_GRANT_EFT notes; {number} is {}",
                        note.stream
                    ),
                )
                .into());
            }
            edited.amount = amount;
        }
        if let Some(days) = req.tracking_days {
            edited.tracking_days = ctx
                .app
                .config
                .promissory
                .check_tracking_days(note.stream, days)?;
        }
        if let Some(date) = req.action_date.filter(|d| *d != current.action_date) {
            check_action_date(
                &calendar,
                ctx.today(),
                date,
                note.stream,
                &ctx.app.config.promissory,
                "ActionDate",
            )?;
            // An arrears date may fall after later instalments: only a scheduled
            // instalment keeps its place between its neighbours.
            let after = index
                .checked_sub(1)
                .map(|p| schedule[p].action_date)
                .filter(|_| !arrears);
            let before = schedule
                .get(index + 1)
                .map(|n| n.action_date)
                .filter(|_| !arrears);
            if after.is_some_and(|a| date <= a) || before.is_some_and(|b| date >= b) {
                let window = match (after, before) {
                    (Some(a), Some(b)) => {
                        format!("after {} and before {}", format_date(a), format_date(b))
                    }
                    (Some(a), None) => format!("after {}", format_date(a)),
                    (None, Some(b)) => format!("before {}", format_date(b)),
                    (None, None) => String::new(),
                };
                return Err(Refusal::field(
                    ResultCode::ActionDateOutOfSequence,
                    "ActionDate",
                    format!(
                        "instalment {}'s ActionDate must fall {window}, between the neighbouring instalments' dates",
                        current.number
                    ),
                )
                .into());
            }
            edited.action_date = date;
        }
        if arrears {
            edited.status = InstalmentStatus::Pending;
            promissory::represent_as_arrears(
                ctx.tx,
                note.id,
                &edited,
                ctx.now,
                ctx.principal.user_id,
            )?;
            tracing::info!(
                promissory = %number,
                instalment = edited.number,
                action_date = %format_date(edited.action_date),
                "unpaid instalment re-presented as arrears"
            );
        } else if edited != *current {
            promissory::update_instalment(
                ctx.tx,
                note.id,
                &edited,
                ctx.now,
                ctx.principal.user_id,
            )?;
            tracing::info!(
                promissory = %number,
                instalment = edited.number,
                "instalment edited"
            );
        }
        Ok(EditInstalmentResponse { instalment: edited })
    }

    fn encode(response: &EditInstalmentResponse, w: &mut XmlWriter) {
        w.open("Instalment");
        write_instalment_fields(w, &response.instalment);
        w.close("Instalment");
    }
}
