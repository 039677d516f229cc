//! `GetReplies`: the caller's branch's replies feed, a page at a time: the replies with
//! Sequence greater than SinceSequence in ascending order, at most MaxCount (default 100,
//! at most 1000). NextSequence is the last Sequence returned, or SinceSequence when none
//! was: a reader that stores it and passes it back never misses or repeats a reply (see
//! `store::replies`). Reading consumes nothing.

use super::wire::Fields;
use super::{Ctx, OpError, Operation};
use crate::domain::payouts::payment_number;
use crate::domain::promissory::promissory_number;
use crate::domain::{Refusal, ResultCode};
use crate::store::replies::{self, ReplyRow};
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `GetReplies` operation.
pub struct GetReplies;

/// A decoded `GetReplies` request.
#[derive(Debug)]
pub struct GetRepliesRequest {
    since_sequence: i64,
    max_count: Option<i64>,
}

/// One page of the feed.
#[derive(Debug)]
pub struct GetRepliesResponse {
    replies: Vec<ReplyRow>,
    next_sequence: i64,
}

/// MaxCount when absent.
pub const DEFAULT_MAX_COUNT: i64 = 100;
/// The largest MaxCount.
pub const MAX_MAX_COUNT: i64 = 1000;

impl Operation for GetReplies {
    const NAME: &'static str = "GetReplies";
    const WRITES: bool = false;
    type Request = GetRepliesRequest;
    type Response = GetRepliesResponse;

    fn decode(element: &Element) -> Result<GetRepliesRequest, ServiceError> {
        let f = Fields::new(element, &[("SinceSequence", 1), ("MaxCount", 1)])?;
        Ok(GetRepliesRequest {
            since_sequence: f.required_integer("SinceSequence")?,
            max_count: f.integer("MaxCount")?,
        })
    }

    fn handle(ctx: &Ctx<'_>, req: GetRepliesRequest) -> Result<GetRepliesResponse, OpError> {
        if req.since_sequence < 0 {
            return Err(Refusal::field(
                ResultCode::SinceSequenceInvalid,
                "SinceSequence",
                "SinceSequence may not be negative; start with 0",
            )
            .into());
        }
        let limit = req.max_count.unwrap_or(DEFAULT_MAX_COUNT);
        if !(1..=MAX_MAX_COUNT).contains(&limit) {
            return Err(Refusal::field(
                ResultCode::MaxCountOutOfRange,
                "MaxCount",
                format!("MaxCount must be between 1 and {MAX_MAX_COUNT}"),
            )
            .into());
        }
        let replies = replies::page(ctx.tx, ctx.principal.branch_id, req.since_sequence, limit)?;
        let next_sequence = replies.last().map_or(req.since_sequence, |r| r.sequence);
        Ok(GetRepliesResponse {
            replies,
            next_sequence,
        })
    }

    fn encode(response: &GetRepliesResponse, w: &mut XmlWriter) {
        if response.replies.is_empty() {
            w.empty("Replies");
        } else {
            w.open("Replies");
        }
        for r in &response.replies {
            w.open("Reply");
            w.leaf_display("Sequence", r.sequence);
            w.leaf("ReplyType", &r.reply_type);
            w.leaf("OccurredAt", &r.occurred_at);
            w.opt_leaf("ClientNumber", r.client_number.as_deref());
            if let Some(id) = r.promissory_number {
                w.leaf("PromissoryNumber", &promissory_number(id));
            }
            if let Some(n) = r.instalment_number {
                w.leaf_display("InstalmentNumber", n);
            }
            if let Some(id) = r.payment_number {
                w.leaf("PaymentNumber", &payment_number(id));
            }
            if let Some(n) = r.part_number {
                w.leaf_display("PartNumber", n);
            }
            w.opt_leaf("WalletNumber", r.wallet_number.as_deref());
            w.opt_leaf("Amount", r.amount.as_deref());
            w.opt_leaf("ReasonCode", r.reason_code.as_deref());
            w.opt_leaf("ReasonText", r.reason_text.as_deref());
            if let Some(d) = r.disputable {
                w.leaf_display("Disputable", d);
            }
            w.opt_leaf("DisputableReason", r.disputable_reason.as_deref());
            w.close("Reply");
        }
        if !response.replies.is_empty() {
            w.close("Replies");
        }
        w.leaf_display("NextSequence", response.next_sequence);
    }
}
