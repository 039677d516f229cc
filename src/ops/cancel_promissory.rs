//! `CancelPromissory`: stops every instalment of a note not yet presented (PENDING →
//! CANCELLED) and records when, why and by whom. Instalments already presented
//! (PRESENTED, TRACKING, COLLECTED, UNPAID) are left to the collection engine.
//! Cancelling a CANCELLED note answers it again (Code 0, nothing changes); a COMPLETED
//! note cannot be cancelled. A DebiCheck note's mandate is also cancelled at the
//! payer's bank (a MANDATE_CANCEL job, `engine::mandate_jobs`), and a collection it is
//! tracking stops at its next tracking day.

use super::shared::promissory::{register_due, require_note};
use super::wire::Fields;
use super::{Ctx, OpError, Operation};
use crate::domain::promissory::{NoteStatus, NoteStream, promissory_number};
use crate::engine::mandate_jobs;
use crate::domain::{Refusal, ResultCode, validate};
use crate::store::promissory;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `CancelPromissory` operation.
pub struct CancelPromissory;

/// A decoded `CancelPromissory` request.
#[derive(Debug)]
pub struct CancelPromissoryRequest {
    promissory_number: String,
    reason: Option<String>,
}

/// The note's status after the call (CANCELLED).
#[derive(Debug)]
pub struct CancelPromissoryResponse {
    status: NoteStatus,
}

impl Operation for CancelPromissory {
    const NAME: &'static str = "CancelPromissory";
    const WRITES: bool = true;
    type Request = CancelPromissoryRequest;
    type Response = CancelPromissoryResponse;

    fn decode(element: &Element) -> Result<CancelPromissoryRequest, ServiceError> {
        let f = Fields::new(element, &[("PromissoryNumber", 1), ("Reason", 1)])?;
        Ok(CancelPromissoryRequest {
            promissory_number: f.required_text("PromissoryNumber")?,
            reason: f.text("Reason")?,
        })
    }

    fn handle(
        ctx: &Ctx<'_>,
        req: CancelPromissoryRequest,
    ) -> Result<CancelPromissoryResponse, OpError> {
        register_due(ctx)?;
        let reason = validate::optional("Reason", req.reason.as_deref(), 100)?;
        let note = require_note(ctx, &req.promissory_number)?;
        match note.status {
            NoteStatus::Cancelled => {}
            NoteStatus::Completed => {
                return Err(Refusal::field(
                    ResultCode::PromissoryNotCancellable,
                    "PromissoryNumber",
                    format!(
                        "promissory note {} is COMPLETED: every instalment was collected",
                        promissory_number(note.number)
                    ),
                )
                .into());
            }
            NoteStatus::Pending | NoteStatus::Active => {
                let stopped = promissory::cancel(
                    ctx.tx,
                    note.id,
                    ctx.now,
                    reason.as_deref(),
                    ctx.principal.user_id,
                )?;
                if note.stream == NoteStream::DebiCheck {
                    mandate_jobs::queue_cancel(ctx.tx, note.id, ctx.now)?;
                }
                tracing::info!(
                    promissory = %promissory_number(note.number),
                    instalments_stopped = stopped,
                    "promissory note cancelled"
                );
            }
        }
        Ok(CancelPromissoryResponse {
            status: NoteStatus::Cancelled,
        })
    }

    fn encode(response: &CancelPromissoryResponse, w: &mut XmlWriter) {
        w.leaf("Status", response.status.as_str());
    }
}
