//! What the five promissory-note operations share: finding a note of the caller's branch
//! from its PromissoryNumber, the registration step every write takes first, the wire
//! form of an instalment, the age-of-majority check every mandate creation makes, and
//! the disputability of a DebiCheck note's instalments (GetPromissory, PrintPromissory),
//! and the terms both note creations check first ([`check_note_terms`]).

use crate::clock::parse_date;
use rust_decimal::Decimal;

use crate::domain::promissory::{
    PromissoryConfig, check_instalment_amount, parse_promissory_number, promissory_number,
};
use crate::domain::{Refusal, ResultCode, validate};
use crate::ops::{Ctx, OpError};
use crate::store::clients::ClientRow;
use crate::store::promissory::{self, InstalmentRow, NoteRow};
use crate::wire::xml::XmlWriter;

/// Registers due notes (PENDING → ACTIVE) inside the request's transaction. Every
/// promissory write calls it before reading a note, so what it reads is current.
///
/// # Errors
///
/// The store failing.
pub fn register_due(ctx: &Ctx<'_>) -> Result<(), OpError> {
    promissory::activate_due(
        ctx.tx,
        ctx.now,
        ctx.app.config.promissory.registration_delay,
    )?;
    Ok(())
}

/// The note of the caller's branch with this PromissoryNumber.
///
/// # Errors
///
/// `FIELD_REQUIRED` for a blank number, `PROMISSORY_NOT_FOUND` when the branch has no
/// such note (including numbers that are not of the `PN` form), or the store failing.
pub fn require_note(ctx: &Ctx<'_>, number: &str) -> Result<NoteRow, OpError> {
    let number = validate::required("PromissoryNumber", number, 20)?;
    let not_found = || {
        OpError::Refused(Refusal::field(
            ResultCode::PromissoryNotFound,
            "PromissoryNumber",
            format!(
                "promissory note {number} does not exist in branch {}",
                ctx.principal.branch_code
            ),
        ))
    };
    let digits = parse_promissory_number(&number).ok_or_else(not_found)?;
    promissory::note_by_number(ctx.tx, ctx.principal.branch_id, digits)?.ok_or_else(not_found)
}

/// Writes the children of an `InstalmentType` (or the first five of an
/// `InstalmentDetailType`), in WSDL order.
pub fn write_instalment_fields(w: &mut XmlWriter, i: &InstalmentRow) {
    w.leaf_display("InstalmentNumber", i.number);
    w.leaf("ActionDate", &crate::clock::format_date(i.action_date));
    w.leaf_display("Amount", i.amount);
    w.leaf_display("TrackingDays", i.tracking_days);
    w.leaf("Status", i.status.as_str());
}

/// Writes `<Instalments>` of `InstalmentType` elements.
pub fn write_instalments(w: &mut XmlWriter, instalments: &[InstalmentRow]) {
    if instalments.is_empty() {
        w.empty("Instalments");
        return;
    }
    w.open("Instalments");
    for i in instalments {
        w.open("Instalment");
        write_instalment_fields(w, i);
        w.close("Instalment");
    }
    w.close("Instalments");
}

/// Refuses a client under the age of majority on the request's date (`DEBTOR_MINOR`):
/// a minor cannot sign a promissory note or debit order mandate. Shared by every
/// operation that creates a mandate.
pub fn check_client_of_age(ctx: &Ctx<'_>, client: &ClientRow) -> Result<(), OpError> {
    let dob = parse_date(&client.date_of_birth).ok_or_else(|| {
        OpError::Internal(format!(
            "client {} has an unreadable stored date of birth",
            client.client_number
        ))
    })?;
    ctx.app
        .config
        .promissory
        .check_of_age(dob, ctx.today())
        .map_err(OpError::Refused)
}

/// Writes `<Totals>` (WSDL `NoteTotalsType`): a note's collected, outstanding and
/// arrears totals, two decimals.
pub fn write_totals(w: &mut XmlWriter, totals: &crate::domain::collection::NoteTotals) {
    let text = |amount: rust_decimal::Decimal| {
        let mut a = amount;
        a.rescale(2);
        a.to_string()
    };
    w.open("Totals");
    w.leaf("CollectedTotal", &text(totals.collected));
    w.leaf("OutstandingTotal", &text(totals.outstanding));
    w.leaf("ArrearsTotal", &text(totals.arrears));
    w.close("Totals");
}

/// The disputability of each instalment of a DebiCheck note (number, disputable,
/// reason), judged against its authenticated mandate at the debtor bank's processing
/// week, as the collection engine judges each collection.
///
/// # Errors
///
/// The store failing.
pub fn debicheck_disputability(
    ctx: &Ctx<'_>,
    note: &NoteRow,
    mandate: &crate::store::mandates::MandateRow,
) -> Result<Vec<(u16, bool, crate::domain::debicheck::DisputableReason)>, OpError> {
    use crate::domain::debicheck::{Collection, CollectionTerms, disputability, nominal_date};
    let calendar = ctx.calendar()?;
    let week = ctx
        .app
        .config
        .collections
        .banks
        .profile_for_branch(&ctx.app.config.cdv, &note.bank_branch_code)
        .week;
    let terms = CollectionTerms {
        value_type: mandate.value_type,
        instalment: note.instalment_amount,
        maximum: mandate.maximum,
        date_adjustment_allowed: mandate.date_adjustment_allowed,
        week,
    };
    Ok(crate::store::mandates::instalment_terms(ctx.tx, note.id)?
        .into_iter()
        .map(|i| {
            let nominal = nominal_date(
                note.first_action_date,
                note.frequency,
                mandate.collection_day,
                u32::from(i.number.saturating_sub(1)),
            )
            .unwrap_or(i.action_date);
            let (yes, why) = disputability(
                &calendar,
                &terms,
                &Collection {
                    amount: i.amount,
                    nominal,
                    presented: i.action_date,
                    arrears: i.arrears,
                    edited: i.edited,
                },
            );
            (i.number, yes, why)
        })
        .collect())
}

/// The terms `CreatePromissory` and `CreateDebiCheckPromissory` check first, in order.
pub struct NoteTerms {
    /// ContractReference, validated.
    pub reference: String,
    /// BankBranchCode, validated.
    pub branch_code: String,
    /// AccountNumber, validated.
    pub account_number: String,
    /// InstalmentAmount, a positive amount of cents.
    pub amount: Decimal,
    /// NumberOfInstalments, within the configured maximum.
    pub count: u16,
}

/// Checks ContractReference, BankBranchCode, AccountNumber, InstalmentAmount and
/// NumberOfInstalments, in that order (the first refusal wins).
///
/// # Errors
///
/// The field's Refusal.
pub fn check_note_terms(
    config: &PromissoryConfig,
    contract_reference: &str,
    bank_branch_code: &str,
    account_number: &str,
    instalment_amount: Decimal,
    number_of_instalments: i64,
) -> Result<NoteTerms, Refusal> {
    let reference = validate::code("ContractReference", contract_reference, 14)?;
    let branch_code = validate::required("BankBranchCode", bank_branch_code, 6)
        .map_err(|r| refine_length(r, ResultCode::BankBranchCodeFormat))?;
    let account_number = validate::required("AccountNumber", account_number, 13)
        .map_err(|r| refine_length(r, ResultCode::AccountNumberFormat))?;
    let amount = check_instalment_amount("InstalmentAmount", instalment_amount)?;
    let count = u16::try_from(number_of_instalments)
        .ok()
        .filter(|n| (1..=config.max_instalments).contains(n))
        .ok_or_else(|| {
            Refusal::field(
                ResultCode::NumberOfInstalmentsOutOfRange,
                "NumberOfInstalments",
                format!(
                    "NumberOfInstalments must be 1 to {}, got {number_of_instalments}",
                    config.max_instalments
                ),
            )
        })?;
    Ok(NoteTerms {
        reference,
        branch_code,
        account_number,
        amount,
        count,
    })
}

/// A branch code or account number longer than its field is a format error of that
/// field, not a generic length error.
fn refine_length(refusal: Refusal, code: ResultCode) -> Refusal {
    if refusal.code == ResultCode::FieldTooLong {
        Refusal { code, ..refusal }
    } else {
        refusal
    }
}

/// The refusal of a ContractReference the branch already used for a note with other
/// details.
pub fn reference_conflict(ctx: &Ctx<'_>, reference: &str, stored: &NoteRow) -> OpError {
    Refusal::field(
        ResultCode::ContractReferenceConflict,
        "ContractReference",
        format!(
            "ContractReference {reference} is already used in branch {} by promissory note {} with other details",
            ctx.principal.branch_code,
            promissory_number(stored.number)
        ),
    )
    .into()
}
