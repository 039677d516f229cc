//! `AddEmployer`: registers an employer in the caller's branch. EmployerCode is unique in
//! the branch; sending the same employer again succeeds without change, the same code
//! with other details is refused.

use super::wire::{Fields, spellings};
use super::{Ctx, OpError, Operation};
use crate::domain::validate;
use crate::domain::{PayFrequency, Refusal, ResultCode};
use crate::store::employers;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `AddEmployer` operation.
pub struct AddEmployer;

/// A decoded `AddEmployer` request.
#[derive(Debug)]
pub struct AddEmployerRequest {
    employer_code: String,
    employer_name: String,
    pay_frequency: Option<PayFrequency>,
    pay_day: Option<i64>,
}

impl Operation for AddEmployer {
    const NAME: &'static str = "AddEmployer";
    const WRITES: bool = true;
    type Request = AddEmployerRequest;
    type Response = ();

    fn decode(element: &Element) -> Result<AddEmployerRequest, ServiceError> {
        let f = Fields::new(
            element,
            &[
                ("EmployerCode", 1),
                ("EmployerName", 1),
                ("PayFrequency", 1),
                ("PayDay", 1),
            ],
        )?;
        Ok(AddEmployerRequest {
            employer_code: f.required_text("EmployerCode")?,
            employer_name: f.required_text("EmployerName")?,
            pay_frequency: f.enumeration(
                "PayFrequency",
                PayFrequency::parse,
                &spellings(PayFrequency::ALL, PayFrequency::as_str),
            )?,
            pay_day: f.integer("PayDay")?,
        })
    }

    fn handle(ctx: &Ctx<'_>, req: AddEmployerRequest) -> Result<(), OpError> {
        let code = validate::code("EmployerCode", &req.employer_code, 20)?;
        let name = validate::business_name("EmployerName", &req.employer_name, 60)?;
        let frequency = req.pay_frequency.unwrap_or(PayFrequency::Monthly);
        if let Some(day) = req.pay_day {
            let max = match frequency {
                PayFrequency::Monthly => 31,
                PayFrequency::Weekly | PayFrequency::Fortnightly => 7,
            };
            if !(1..=max).contains(&day) {
                return Err(Refusal::field(
                    ResultCode::PayDayInvalid,
                    "PayDay",
                    format!("PayDay must be 1 to {max} for a {frequency} pay frequency"),
                )
                .into());
            }
        }
        let existing = employers::find_employer(ctx.tx, ctx.principal.branch_id, &code)?;
        if let Some(old) = existing {
            if old.name == name && old.pay_frequency == frequency && old.pay_day == req.pay_day {
                return Ok(());
            }
            return Err(Refusal::field(
                ResultCode::EmployerCodeConflict,
                "EmployerCode",
                format!(
                    "employer {code} already exists in branch {} with other details",
                    ctx.principal.branch_code
                ),
            )
            .into());
        }
        employers::insert_employer(
            ctx.tx,
            &employers::NewEmployer {
                branch_id: ctx.principal.branch_id,
                code: &code,
                name: &name,
                pay_frequency: frequency,
                pay_day: req.pay_day,
                created_by: ctx.principal.user_id,
            },
            ctx.now,
        )?;
        tracing::debug!(employer_code = %code, "employer added");
        Ok(())
    }

    fn encode(_: &(), _: &mut XmlWriter) {}
}
