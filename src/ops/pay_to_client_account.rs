//! `PayToClientAccount`: a credit payment to one or two of the client's registered,
//! enabled accounts (bank accounts, or the client's ACTIVE wallet) plus an optional cash
//! part paid at the branch. Success means only that the request passed validation: the
//! payment is ACCEPTED and the processor submits and delivers it later (see
//! `processor`).
//!
//! PaymentReference is the branch's idempotency key: a repeat with the same content
//! (client, accounts and amounts in any order, cash amount, ActionDate as sent) returns
//! the original PaymentNumber and current status and pays nothing again; the same
//! reference with other content is refused. Requests are handled one at a time by the
//! store's single writer, and `(branch_id, payment_reference)` is UNIQUE, so concurrent
//! identical retries also create one payment.
//!
//! ActionDate: when sent, a business day, not before today, not more than the configured
//! days ahead, and not today once today's cut-off has passed. When absent: today if
//! today is a business day and the cut-off has not passed, else the next business day.

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::wire::Fields;
use super::{Ctx, OpError, Operation, require_client};
use crate::clock::{SAST, format_date};
use crate::domain::payouts::{
    AccountKind, PartStatus, PaymentStatus, RecipientType, WalletStatus, payment_number,
};
use crate::domain::calendar::Calendar;
use crate::domain::{Refusal, ResultCode, check_amount, money_scale, validate};
use crate::store::accounts;
use crate::store::jobs::{self, JobKind, NewJob};
use crate::store::money_text;
use crate::store::payments;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `PayToClientAccount` operation.
pub struct PayToClientAccount;

/// One `Payment` element.
#[derive(Debug, Clone)]
pub struct PaymentInstruction {
    account_id: i64,
    amount: Decimal,
}

/// A decoded `PayToClientAccount` request.
#[derive(Debug)]
pub struct PayToClientAccountRequest {
    client_number: String,
    payment_reference: String,
    payments: Vec<PaymentInstruction>,
    cash_amount: Option<Decimal>,
    action_date: Option<Date>,
}

/// The accepted (or earlier) payment.
#[derive(Debug)]
pub struct PayToClientAccountResponse {
    payment_number: String,
    status: PaymentStatus,
    total_amount: Decimal,
}

const AMOUNT_FIELDS: [&str; 2] = ["Payment[1]/Amount", "Payment[2]/Amount"];
const ACCOUNT_FIELDS: [&str; 2] = ["Payment[1]/AccountId", "Payment[2]/AccountId"];

/// The content a repeat is compared on.
#[derive(Debug, PartialEq, Eq)]
struct Content {
    client_id: i64,
    parts: Vec<(i64, Decimal)>,
    cash: Option<Decimal>,
    action_date: Option<String>,
}

impl Operation for PayToClientAccount {
    const NAME: &'static str = "PayToClientAccount";
    const WRITES: bool = true;
    type Request = PayToClientAccountRequest;
    type Response = PayToClientAccountResponse;

    fn decode(element: &Element) -> Result<PayToClientAccountRequest, ServiceError> {
        let f = Fields::new(
            element,
            &[
                ("ClientNumber", 1),
                ("PaymentReference", 1),
                ("Payment", 2),
                ("CashAmount", 1),
                ("ActionDate", 1),
            ],
        )?;
        let mut payments = Vec::new();
        for payment in f.all("Payment") {
            let p = Fields::new(payment, &[("AccountId", 1), ("Amount", 1)])?;
            payments.push(PaymentInstruction {
                account_id: p.required_integer("AccountId")?,
                amount: p.required_decimal("Amount")?,
            });
        }
        if payments.is_empty() {
            return Err(ServiceError::schema(
                "required element Payment is missing from PayToClientAccount",
            ));
        }
        Ok(PayToClientAccountRequest {
            client_number: f.required_text("ClientNumber")?,
            payment_reference: f.required_text("PaymentReference")?,
            payments,
            cash_amount: f.decimal("CashAmount")?,
            action_date: f.date("ActionDate")?,
        })
    }

    fn handle(
        ctx: &Ctx<'_>,
        req: PayToClientAccountRequest,
    ) -> Result<PayToClientAccountResponse, OpError> {
        let client = require_client(ctx, &req.client_number)?;
        let reference = validate::code("PaymentReference", &req.payment_reference, 30)?;
        let mut parts = Vec::with_capacity(req.payments.len());
        for (i, p) in req.payments.iter().enumerate() {
            parts.push((p.account_id, check_amount(AMOUNT_FIELDS[i], p.amount)?));
        }
        let cash = match req.cash_amount {
            None => None,
            Some(c) if c < Decimal::ZERO => {
                return Err(Refusal::field(
                    ResultCode::AmountNotPositive,
                    "CashAmount",
                    "CashAmount may not be negative",
                )
                .into());
            }
            Some(c) => Some(money_scale("CashAmount", c)?).filter(|c| !c.is_zero()),
        };
        if parts.len() == 2 && parts[0].0 == parts[1].0 {
            return Err(Refusal::field(
                ResultCode::PaymentAccountRepeated,
                ACCOUNT_FIELDS[1],
                "both Payment elements name the same AccountId; send one Payment with the sum",
            )
            .into());
        }

        let mut sorted = parts.clone();
        sorted.sort();
        let content = Content {
            client_id: client.id,
            parts: sorted,
            cash,
            action_date: req.action_date.map(format_date),
        };
        if let Some(existing) =
            payments::find_payment_by_reference(ctx.tx, ctx.principal.branch_id, &reference)?
        {
            let mut stored: Vec<(i64, Decimal)> = payments::parts_of(ctx.tx, existing.id)?
                .into_iter()
                .filter_map(|p| p.account_ref.map(|a| (a, p.amount)))
                .collect();
            stored.sort();
            let earlier = Content {
                client_id: existing.client_id,
                parts: stored,
                cash: existing.cash_amount,
                action_date: existing.requested_action_date.clone(),
            };
            if earlier == content {
                return Ok(PayToClientAccountResponse {
                    payment_number: payment_number(existing.number),
                    status: existing.status,
                    total_amount: existing.total_amount,
                });
            }
            return Err(Refusal::field(
                ResultCode::PaymentReferenceConflict,
                "PaymentReference",
                format!(
                    "PaymentReference {reference} was already used in this branch for payment {} with other content",
                    payment_number(existing.number)
                ),
            )
            .into());
        }

        let config = &ctx.app.config.payouts;
        let mut recipients = Vec::with_capacity(parts.len());
        for (i, (account_id, amount)) in parts.iter().enumerate() {
            let account = accounts::account_by_number(ctx.tx, client.id, *account_id)?.ok_or_else(|| {
                Refusal::field(
                    ResultCode::AccountNotFound,
                    ACCOUNT_FIELDS[i],
                    format!(
                        "account {account_id} is not a registered account of client {}; register it with AddClientAccount first",
                        client.client_number
                    ),
                )
            })?;
            if !account.enabled {
                return Err(Refusal::field(
                    ResultCode::AccountDisabled,
                    ACCOUNT_FIELDS[i],
                    format!("account {account_id} is disabled"),
                )
                .into());
            }
            let recipient = match account.kind {
                AccountKind::BankAccount => RecipientType::BankAccount,
                AccountKind::Wallet => {
                    if account.wallet_status != Some(WalletStatus::Active) {
                        return Err(Refusal::field(
                            ResultCode::WalletNotActive,
                            ACCOUNT_FIELDS[i],
                            format!("the wallet of account {account_id} is not ACTIVE"),
                        )
                        .into());
                    }
                    RecipientType::Wallet
                }
            };
            if *amount > config.max_part {
                return Err(Refusal::field(
                    ResultCode::PaymentPartAboveMaximum,
                    AMOUNT_FIELDS[i],
                    format!("at most {} may be paid to one account", config.max_part),
                )
                .into());
            }
            recipients.push((recipient, account.id));
        }
        if let Some(c) = cash
            && c > config.max_cash
        {
            return Err(Refusal::field(
                ResultCode::CashAboveLimit,
                "CashAmount",
                format!("the cash part may be at most {}", config.max_cash),
            )
            .into());
        }
        let total: Decimal =
            parts.iter().map(|(_, a)| *a).sum::<Decimal>() + cash.unwrap_or(Decimal::ZERO);
        if total < config.min_total {
            return Err(Refusal::new(
                ResultCode::PaymentBelowMinimum,
                format!(
                    "the payment total {total} is below the minimum of {}",
                    config.min_total
                ),
            )
            .into());
        }
        if total > config.max_total {
            return Err(Refusal::new(
                ResultCode::PaymentAboveMaximum,
                format!(
                    "the payment total {total} is above the maximum of {}",
                    config.max_total
                ),
            )
            .into());
        }
        let action_date = resolve_action_date(ctx, &*ctx.calendar()?, req.action_date)?;

        let action_date_text = format_date(action_date);
        let payment = payments::insert_payment(
            ctx.tx,
            &payments::NewPayment {
                branch_id: ctx.principal.branch_id,
                client_id: client.id,
                payment_reference: &reference,
                action_date: &action_date_text,
                requested_action_date: content.action_date.as_deref(),
                total,
                cash,
                created_by: ctx.principal.user_id,
            },
            ctx.now,
        )?;
        let payment_id = payment.id;
        let submit_at = submission_instant(ctx, action_date);
        for (i, ((_, amount), (recipient, account_id))) in parts.iter().zip(&recipients).enumerate()
        {
            let part_number = i as i64 + 1;
            payments::insert_part(
                ctx.tx,
                &payments::NewPart {
                    payment_id,
                    part_number,
                    recipient: *recipient,
                    account_id: Some(*account_id),
                    amount: *amount,
                    status: PartStatus::Accepted,
                },
                ctx.now,
            )?;
            let kind = match recipient {
                RecipientType::Wallet => JobKind::WalletCredit,
                _ => JobKind::CreditSubmit,
            };
            jobs::enqueue(
                ctx.tx,
                &NewJob {
                    kind,
                    subject_id: payment_id,
                    part_number,
                    due_at: submit_at,
                },
                ctx.now,
            )?;
        }
        if let Some(c) = cash {
            payments::insert_part(
                ctx.tx,
                &payments::NewPart {
                    payment_id,
                    part_number: parts.len() as i64 + 1,
                    recipient: RecipientType::Cash,
                    account_id: None,
                    amount: c,
                    status: PartStatus::PaidAtBranch,
                },
                ctx.now,
            )?;
        }
        tracing::debug!(
            payment = %payment_number(payment.number),
            client_number = %client.client_number,
            %total,
            action_date = %format_date(action_date),
            "credit payment accepted"
        );
        Ok(PayToClientAccountResponse {
            payment_number: payment_number(payment.number),
            status: PaymentStatus::Accepted,
            total_amount: total,
        })
    }

    fn encode(response: &PayToClientAccountResponse, w: &mut XmlWriter) {
        w.leaf("PaymentNumber", &response.payment_number);
        w.leaf("Status", response.status.as_str());
        w.leaf("TotalAmount", &money_text(response.total_amount));
    }
}

/// Whether the same-day cut-off has passed at `now` (South African time).
fn past_cut_off(ctx: &Ctx<'_>) -> bool {
    ctx.now.to_offset(SAST).time() >= ctx.app.config.payouts.cut_off
}

fn resolve_action_date(
    ctx: &Ctx<'_>,
    calendar: &Calendar,
    requested: Option<Date>,
) -> Result<Date, Refusal> {
    let config = &ctx.app.config.payouts;
    let today = ctx.today();
    let Some(date) = requested else {
        let date = if calendar.is_business_day(today) && !past_cut_off(ctx) {
            Some(today)
        } else {
            calendar.next_business_day(today)
        };
        return date.ok_or_else(|| {
            Refusal::new(
                ResultCode::ActionDateTooFar,
                "no business day follows today in the calendar",
            )
        });
    };
    if date < today {
        return Err(Refusal::field(
            ResultCode::ActionDateInPast,
            "ActionDate",
            format!(
                "ActionDate {} is before today, {}",
                format_date(date),
                format_date(today)
            ),
        ));
    }
    if (date - today).whole_days() > config.max_days_ahead {
        return Err(Refusal::field(
            ResultCode::ActionDateTooFar,
            "ActionDate",
            format!(
                "ActionDate may be at most {} days ahead",
                config.max_days_ahead
            ),
        ));
    }
    if let Some(reason) = calendar.non_business_reason(date) {
        let (code, why) = match reason {
            crate::domain::calendar::NonBusinessDay::PublicHoliday { name } => (
                ResultCode::ActionDatePublicHoliday,
                format!("a public holiday ({name})"),
            ),
            crate::domain::calendar::NonBusinessDay::Saturday => {
                (ResultCode::ActionDateWeekend, "a Saturday".to_string())
            }
            crate::domain::calendar::NonBusinessDay::Sunday => {
                (ResultCode::ActionDateWeekend, "a Sunday".to_string())
            }
        };
        return Err(Refusal::field(
            code,
            "ActionDate",
            format!(
                "ActionDate {} is {why}, not a business day",
                format_date(date)
            ),
        ));
    }
    if date == today && past_cut_off(ctx) {
        let cut = config.cut_off;
        return Err(Refusal::field(
            ResultCode::ActionDatePastCutOff,
            "ActionDate",
            format!(
                "today's cut-off ({:02}:{:02} South African time) has passed; use the next business day",
                cut.hour(),
                cut.minute()
            ),
        ));
    }
    Ok(date)
}

/// When the account parts are handed on: at once for today, else on the action date at
/// the configured submission time.
fn submission_instant(ctx: &Ctx<'_>, action_date: Date) -> OffsetDateTime {
    if action_date <= ctx.today() {
        ctx.now
    } else {
        PrimitiveDateTime::new(action_date, ctx.app.config.payouts.submission_time)
            .assume_offset(SAST)
            .max(ctx.now)
    }
}
