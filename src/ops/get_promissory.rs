//! `GetPromissory`: one note of the branch, its instalments and each instalment's
//! replies (collection outcomes from the `replies` table). A read: the status is the
//! effective one (a PENDING note past its registration delay reads ACTIVE). Appended
//! after the existing elements (all optional in the WSDL): per instalment its collection
//! attempts (outcome and reason once the bank's answer is applied), collected amount,
//! settlement date and arrears flag when there are any; per note the collected,
//! outstanding and arrears totals (`Totals`, the last element of `Promissory`, so clients
//! generated in wrapper style keep their GetPromissory signature). A DebiCheck note also
//! shows its mandate (the WSDL's DebiCheck elements before `Totals`, then after it the
//! authentication's request, deadline, time and channel, the adjustment and the
//! cancellation at the bank) and each instalment's `Disputable` and `DisputableReason`
//! (`domain::debicheck::disputability`).

use super::shared::promissory::{
    debicheck_disputability, require_note, write_instalment_fields, write_totals,
};
use crate::domain::debicheck::DisputableReason;
use crate::store::mandates::{self, MandateRow};
use super::wire::Fields;
use super::{Ctx, OpError, Operation};
use crate::clock::{format_date, format_timestamp};
use crate::domain::promissory::{NoteStatus, promissory_number};
use crate::domain::collection::NoteTotals;
use crate::store::collections::{self, AttemptView, CollectionDetail};
use crate::store::promissory::{self, InstalmentRow, NoteRow, ReplyRow};
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `GetPromissory` operation.
pub struct GetPromissory;

/// A decoded `GetPromissory` request.
#[derive(Debug)]
pub struct GetPromissoryRequest {
    promissory_number: String,
}

/// The note, its instalments and their replies.
#[derive(Debug)]
pub struct GetPromissoryResponse {
    note: NoteRow,
    status: NoteStatus,
    instalments: Vec<InstalmentRow>,
    replies: Vec<ReplyRow>,
    attempts: Vec<AttemptView>,
    details: Vec<CollectionDetail>,
    totals: NoteTotals,
    mandate: Option<MandateRow>,
    disputability: Vec<(u16, bool, DisputableReason)>,
}

impl Operation for GetPromissory {
    const NAME: &'static str = "GetPromissory";
    const WRITES: bool = false;
    type Request = GetPromissoryRequest;
    type Response = GetPromissoryResponse;

    fn decode(element: &Element) -> Result<GetPromissoryRequest, ServiceError> {
        let f = Fields::new(element, &[("PromissoryNumber", 1)])?;
        Ok(GetPromissoryRequest {
            promissory_number: f.required_text("PromissoryNumber")?,
        })
    }

    fn handle(ctx: &Ctx<'_>, req: GetPromissoryRequest) -> Result<GetPromissoryResponse, OpError> {
        let note = require_note(ctx, &req.promissory_number)?;
        let status = note.status_at(ctx.now, ctx.app.config.promissory.registration_delay);
        let instalments = promissory::instalments(ctx.tx, note.id)?;
        let replies = promissory::replies(ctx.tx, note.id)?;
        let attempts = collections::attempts_of(ctx.tx, note.id)?;
        let details = collections::details_of(ctx.tx, note.id)?;
        let totals = collections::totals_of(ctx.tx, note.id)?;
        let mandate = mandates::find(ctx.tx, note.id)?;
        let disputability = match &mandate {
            Some(m) => debicheck_disputability(ctx, &note, m)?,
            None => Vec::new(),
        };
        Ok(GetPromissoryResponse {
            mandate,
            disputability,
            note,
            status,
            instalments,
            replies,
            attempts,
            details,
            totals,
        })
    }

    fn encode(response: &GetPromissoryResponse, w: &mut XmlWriter) {
        let n = &response.note;
        let number = promissory_number(n.number);
        w.open("Promissory");
        w.leaf("PromissoryNumber", &number);
        w.leaf("ClientNumber", &n.client_number);
        w.leaf("ContractReference", &n.contract_reference);
        w.leaf("PaymentStream", n.stream.as_str());
        w.leaf("Status", response.status.as_str());
        w.leaf("BankBranchCode", &n.bank_branch_code);
        w.leaf("AccountNumber", &n.account_number);
        w.leaf("AccountType", n.account_type.as_str());
        w.leaf_display("InstalmentAmount", n.instalment_amount);
        w.leaf_display("NumberOfInstalments", n.number_of_instalments);
        w.leaf("Frequency", n.frequency.as_str());
        w.leaf("FirstActionDate", &format_date(n.first_action_date));
        w.leaf_display("TrackingDays", n.tracking_days);
        w.leaf_display("CreatedWithoutCardOrPin", n.created_without_card_or_pin);
        w.leaf_display("TransactionFeesRecoverable", n.transaction_fees_recoverable);
        w.leaf("CreatedAt", &format_timestamp(n.created_at));
        w.opt_leaf(
            "CancelledAt",
            n.cancelled_at.map(format_timestamp).as_deref(),
        );
        w.opt_leaf("CancelReason", n.cancel_reason.as_deref());
        if let Some(m) = &response.mandate {
            w.leaf("AuthenticationType", m.authentication_type.as_str());
            w.leaf("AuthenticationStatus", m.status.as_str());
            w.leaf("DebitValueType", m.value_type.as_str());
            w.leaf("MaximumCollectionAmount", &money_text(m.maximum));
            w.leaf_display("DateAdjustmentAllowed", m.date_adjustment_allowed);
            w.leaf("DebitSequence", m.sequence.as_str());
            w.leaf("AdjustmentCategory", m.adjustment.as_str());
            w.leaf_display("CollectionDay", m.collection_day.0);
        }
        write_totals(w, &response.totals);
        if let Some(m) = &response.mandate {
            w.leaf("AuthenticationRequestedAt", &format_timestamp(m.requested_at));
            w.leaf("AuthenticationDeadline", &format_timestamp(m.deadline));
            w.opt_leaf(
                "AuthenticationTime",
                m.status_changed_at().map(format_timestamp).as_deref(),
            );
            w.opt_leaf("AuthenticationChannel", m.channel.map(|c| c.as_str()));
            w.opt_leaf(
                "AdjustmentRate",
                m.adjustment_rate.map(|r| r.to_string()).as_deref(),
            );
            w.opt_leaf(
                "AdjustmentAmount",
                m.adjustment_amount.map(money_text).as_deref(),
            );
            w.opt_leaf(
                "MandateCancelledAt",
                m.cancelled_at_bank.map(format_timestamp).as_deref(),
            );
        }
        w.close("Promissory");
        if response.instalments.is_empty() {
            w.empty("Instalments");
            return;
        }
        w.open("Instalments");
        for i in &response.instalments {
            w.open("Instalment");
            write_instalment_fields(w, i);
            let replies: Vec<&ReplyRow> = response
                .replies
                .iter()
                .filter(|r| r.instalment_number == i.number)
                .collect();
            if replies.is_empty() {
                w.empty("Replies");
            } else {
                w.open("Replies");
                for r in replies {
                    w.open("Reply");
                    w.leaf_display("Sequence", r.sequence);
                    w.leaf("ReplyType", &r.reply_type);
                    w.leaf("OccurredAt", &r.occurred_at);
                    w.leaf("ClientNumber", &n.client_number);
                    w.leaf("PromissoryNumber", &number);
                    w.leaf_display("InstalmentNumber", r.instalment_number);
                    w.opt_leaf("Amount", r.amount.as_deref());
                    w.opt_leaf("ReasonCode", r.reason_code.as_deref());
                    w.opt_leaf("ReasonText", r.reason_text.as_deref());
                    if let Some(d) = r.disputable {
                        w.leaf_display("Disputable", d);
                    }
                    w.opt_leaf("DisputableReason", r.disputable_reason.as_deref());
                    w.close("Reply");
                }
                w.close("Replies");
            }
            write_collection(w, response, u32::from(i.number));
            w.close("Instalment");
        }
        w.close("Instalments");
    }
}

/// Money as the wire shows it: two decimals.
fn money_text(amount: rust_decimal::Decimal) -> String {
    let mut a = amount;
    a.rescale(2);
    a.to_string()
}

/// An instalment's attempts, collected amount, settlement date and arrears flag, each
/// only when there is one.
fn write_collection(w: &mut XmlWriter, response: &GetPromissoryResponse, number: u32) {
    let attempts: Vec<&AttemptView> = response
        .attempts
        .iter()
        .filter(|a| a.instalment_number == number)
        .collect();
    if !attempts.is_empty() {
        w.open("Attempts");
        for a in attempts {
            w.open("Attempt");
            w.leaf_display("AttemptNumber", a.number);
            w.leaf("Kind", &a.kind);
            w.leaf("PresentedAt", &a.presented_at);
            w.opt_leaf("Outcome", a.outcome.as_deref());
            w.opt_leaf("ReasonCode", a.reason_code.as_deref());
            w.close("Attempt");
        }
        w.close("Attempts");
    }
    if let Some(d) = response.details.iter().find(|d| d.number == number) {
        if let Some(amount) = d.collected_amount {
            w.leaf("CollectedAmount", &money_text(amount));
        }
        if let Some(date) = d.settlement_date {
            w.leaf("SettlementDate", &format_date(date));
        }
        if d.arrears {
            w.leaf("Arrears", "true");
        }
    }
    if let Some((_, yes, why)) = response
        .disputability
        .iter()
        .find(|(n, _, _)| u32::from(*n) == number)
    {
        w.leaf_display("Disputable", yes);
        w.leaf("DisputableReason", why.as_str());
    }
}
