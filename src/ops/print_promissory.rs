//! `PrintPromissory`: the documents the payer signs, as a PDF. For a PENDING or ACTIVE
//! note: the promissory note and debit-order authority (parties, the debit account with
//! its number masked, the payment instruction, the instalment schedule, the promise to
//! pay, the authority, the fees clause and signature blocks). For a CANCELLED note: the
//! cancellation notice instead. COMPLETED notes do not print (seed). A PENDING or ACTIVE
//! DebiCheck note prints its mandate: the authenticated parameters (value type,
//! instalment, maximum collection amount, collection day, date adjustment, tracking,
//! adjustment category, sequence), once authenticated when and by which type and
//! channel (until then: that the payer's authentication is awaited and when its window
//! closes), and the schedule with each collection's disputability.
//!
//! The PDF is deterministic: its date is the note's `created_at` (the notice's:
//! `cancelled_at`; a DebiCheck mandate's: its last authentication change), never the
//! wall clock, and nothing transient (the note's status) is
//! printed on the signing documents, so the same note prints the same bytes.

use rust_decimal::Decimal;
use time::Date;

use super::shared::document::{PrintedDocument, lender_blocks, lender_name};
use super::shared::promissory::{debicheck_disputability, require_note};
use crate::domain::debicheck::{
    AdjustmentCategory, AuthenticationChannel, AuthenticationStatus, DebitSequence, DisputableReason, weekday_name,
};
use crate::store::mandates::{self, MandateRow};
use super::wire::Fields;
use super::{Ctx, OpError, Operation};
use crate::clock::format_date;
use crate::documents::format::{rands, sast_minute};
use crate::documents::{Block, Column, DocumentSpec};
use crate::domain::mask;
use crate::domain::promissory::{Frequency, InstalmentStatus, NoteStatus, promissory_number};
use crate::domain::{IdType, Refusal, ResultCode, allps_client_number};
use crate::store::clients::{ClientRow, find_client};
use crate::store::lender;
use crate::store::promissory::{self, InstalmentRow, NoteRow};
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `PrintPromissory` operation.
pub struct PrintPromissory;

/// A decoded `PrintPromissory` request.
#[derive(Debug)]
pub struct PrintPromissoryRequest {
    promissory_number: String,
}

/// The rendered document.
#[derive(Debug)]
pub struct PrintPromissoryResponse {
    document: PrintedDocument,
}

impl Operation for PrintPromissory {
    const NAME: &'static str = "PrintPromissory";
    const WRITES: bool = false;
    type Request = PrintPromissoryRequest;
    type Response = PrintPromissoryResponse;

    fn decode(element: &Element) -> Result<PrintPromissoryRequest, ServiceError> {
        let f = Fields::new(element, &[("PromissoryNumber", 1)])?;
        Ok(PrintPromissoryRequest {
            promissory_number: f.required_text("PromissoryNumber")?,
        })
    }

    fn handle(
        ctx: &Ctx<'_>,
        req: PrintPromissoryRequest,
    ) -> Result<PrintPromissoryResponse, OpError> {
        let note = require_note(ctx, &req.promissory_number)?;
        let status = note.status_at(ctx.now, ctx.app.config.promissory.registration_delay);
        if !status.printable() {
            return Err(Refusal::field(
                ResultCode::PromissoryNotPrintable,
                "PromissoryNumber",
                format!(
                    "promissory note {} is {status}: only ACTIVE, PENDING and CANCELLED notes print",
                    promissory_number(note.number)
                ),
            )
            .into());
        }
        let client =
            find_client(ctx.tx, note.branch_id, &note.client_number)?.ok_or_else(|| {
                OpError::Internal(format!("promissory note {} has no client", note.id))
            })?;
        let lender = lender::for_branch(ctx.tx, note.branch_id)?;
        let instalments = promissory::instalments(ctx.tx, note.id)?;
        let mandate = mandates::find(ctx.tx, note.id)?;
        let disputability = match &mandate {
            Some(m) => debicheck_disputability(ctx, &note, m)?,
            None => Vec::new(),
        };
        let paper = Paper {
            note: &note,
            client: &client,
            creditor: format!(
                "{}, {} ({})",
                lender_name(&lender),
                lender.branch_name,
                ctx.principal.branch_code
            ),
            organisation: lender_name(&lender),
            lender_blocks: lender_blocks(&lender, &ctx.principal.branch_code),
            statement_name: lender
                .statement_name
                .clone()
                .unwrap_or_else(|| lender.name.clone()),
            instalments: &instalments,
        };
        let spec = match &mandate {
            _ if status == NoteStatus::Cancelled => paper.cancellation_notice(),
            Some(m) => paper.debicheck_mandate(m, &disputability),
            None => paper.note_and_authority(),
        };
        let document = PrintedDocument::render(&spec)?;
        Ok(PrintPromissoryResponse { document })
    }

    fn encode(response: &PrintPromissoryResponse, w: &mut XmlWriter) {
        response.document.encode(w);
    }
}

/// Everything a printed note shows.
struct Paper<'a> {
    note: &'a NoteRow,
    client: &'a ClientRow,
    organisation: String,
    creditor: String,
    /// The lender block every document opens with.
    lender_blocks: Vec<Block>,
    /// The name the debit shows on the payer's bank statement.
    statement_name: String,
    instalments: &'a [InstalmentRow],
}

impl Paper<'_> {
    fn number(&self) -> String {
        promissory_number(self.note.number)
    }

    fn payer(&self) -> String {
        format!("{} {}", self.client.first_name, self.client.surname)
    }

    fn total(&self) -> Decimal {
        self.instalments.iter().map(|i| i.amount).sum()
    }

    fn parties(&self) -> Vec<Block> {
        let c = self.client;
        let id_kind = if c.id_type == IdType::SaId {
            "SA identity number"
        } else {
            "passport"
        };
        let mut rows = vec![
            ("Payer (debtor)".to_string(), self.payer()),
            (
                "Identity".to_string(),
                format!("{} ({id_kind})", c.id_number),
            ),
            ("Date of birth".to_string(), c.date_of_birth.clone()),
            (
                "Client number".to_string(),
                format!("{} (Allps {})", c.client_number, allps_client_number(c.number)),
            ),
        ];
        if let Some(cell) = &c.cellphone {
            rows.push(("Cellphone".to_string(), cell.clone()));
        }
        rows.push((
            "Employer".to_string(),
            format!("{} ({})", c.employer_name, c.employer_code),
        ));
        rows.push(("Creditor".to_string(), self.creditor.clone()));
        vec![Block::Heading("Parties".into()), Block::KeyValues(rows)]
    }

    fn account(&self, heading: &str) -> Vec<Block> {
        let n = self.note;
        vec![
            Block::Heading(heading.into()),
            Block::KeyValues(vec![
                ("Bank".into(), n.bank_name.clone()),
                ("Branch code".into(), n.bank_branch_code.clone()),
                (
                    "Account number".into(),
                    mask::account_number(&n.account_number),
                ),
                ("Account type".into(), words(n.account_type.as_str())),
                ("Account holder".into(), self.payer()),
            ]),
        ]
    }

    fn note_and_authority(&self) -> DocumentSpec {
        let n = self.note;
        let number = self.number();
        let total = rands(self.total());
        let count = self.instalments.len();
        let frequency = frequency_word(n.frequency);
        let tracking = if n.tracking_days == 0 {
            "Instructions are not tracked: an instalment returned unpaid is not presented again \
             automatically."
                .to_string()
        } else {
            format!(
                "If the account does not hold enough funds on an action date, the instruction may \
                 be tracked and presented again within {} days.",
                n.tracking_days
            )
        };
        let mut spec = DocumentSpec::new(
            format!("promissory-note-{number}.pdf"),
            "Promissory Note and Debit Order Authority",
            n.created_at,
        )
        .with_subtitle(format!(
            "Promissory note {number} - contract reference {} - {}",
            n.contract_reference,
            n.stream.description()
        ))
        .with_footer(format!("Allps-i promissory note {number}"))
        .with_author(self.organisation.clone());
        for b in self.lender_blocks.iter().cloned().chain(self.parties()) {
            spec.push(b);
        }
        for b in self.account("Bank account to be debited") {
            spec.push(b);
        }
        spec.push(Block::Heading("Payment instruction".into()));
        spec.push(Block::KeyValues(vec![
            ("Promissory number".into(), number.clone()),
            ("Contract reference".into(), n.contract_reference.clone()),
            ("Payment stream".into(), n.stream.description().into()),
            ("Instalment amount".into(), rands(n.instalment_amount)),
            ("Number of instalments".into(), count.to_string()),
            ("Frequency".into(), words(n.frequency.as_str())),
            ("First action date".into(), long_date(n.first_action_date)),
            ("Total of instalments".into(), total.clone()),
            (
                "Tracking days".into(),
                if n.tracking_days == 0 {
                    "none".into()
                } else {
                    n.tracking_days.to_string()
                },
            ),
            (
                "Name on your bank statement".into(),
                self.statement_name.clone(),
            ),
            ("Created".into(), sast_minute(n.created_at)),
        ]));
        spec.push(Block::Heading("Instalment schedule".into()));
        spec.push(Block::Table {
            columns: vec![
                Column::right("No.", 0.6),
                Column::new("Action date", 1.6),
                Column::right("Amount", 1.4),
                Column::right("Tracking days", 1.2),
            ],
            rows: self
                .instalments
                .iter()
                .map(|i| {
                    vec![
                        i.number.to_string(),
                        long_date(i.action_date),
                        rands(i.amount),
                        i.tracking_days.to_string(),
                    ]
                })
                .collect(),
        });
        spec.push(Block::Heading("Promissory note".into()));
        spec.push(Block::Paragraph(format!(
            "I, {payer}, {id_kind} {id}, promise to pay {creditor} the sum of {total} in {count} \
             {frequency} instalment(s), on the action dates and in the amounts of the schedule \
             above.",
            payer = self.payer(),
            id_kind = if self.client.id_type == IdType::SaId {
                "identity number"
            } else {
                "passport number"
            },
            id = self.client.id_number,
            creditor = self.organisation,
        )));
        spec.push(Block::Heading("Debit order authority".into()));
        spec.push(Block::Paragraph(format!(
            "I authorise {creditor}, through Allps-i, to issue and deliver payment instructions \
             to my bank for collection from the account above, under the {stream}, on the action \
             dates and for the amounts in the schedule. An action date that is not a business day \
             is moved to the previous business day. {tracking} I may cancel this authority by \
             notice to the creditor: the cancellation stops every instalment not yet presented, \
             but does not cancel any amount I still owe.",
            creditor = self.organisation,
            stream = n.stream.description(),
        )));
        spec.push(Block::Notice(format!(
            "Fees: this promissory note was created without the payer's card or PIN, so the \
             payer's presence was not verified. Intecon transaction fees therefore cannot be \
             recovered from the payer{}.",
            if n.transaction_fees_recoverable {
                ""
            } else {
                " and are not part of the instalments"
            }
        )));
        spec.push(Block::Paragraph(format!(
            "Each debit shows on the payer's bank statement as \"{}\" with contract reference {}.",
            self.statement_name, n.contract_reference
        )));
        spec.push(Block::Paragraph(
            "Signed at (place): ______________________________    \
             on (date): ____________________"
                .into(),
        ));
        spec.push(Block::Signatures(vec![
            format!("Payer: {}", self.payer()),
            format!("For the creditor: {}", self.organisation),
            "Witness 1".into(),
            "Witness 2".into(),
        ]));
        spec
    }

    fn debicheck_mandate(
        &self,
        m: &MandateRow,
        disputability: &[(u16, bool, DisputableReason)],
    ) -> DocumentSpec {
        let n = self.note;
        let number = self.number();
        let authenticated = matches!(
            m.status,
            AuthenticationStatus::Authenticated | AuthenticationStatus::Suspended
        );
        let dated = if authenticated {
            m.answered_at.unwrap_or(n.created_at)
        } else {
            n.created_at
        };
        let mut spec = DocumentSpec::new(
            format!("debicheck-mandate-{number}.pdf"),
            "DebiCheck Mandate and Promissory Note",
            dated,
        )
        .with_subtitle(format!(
            "Promissory note {number} - contract reference {} - {}",
            n.contract_reference,
            n.stream.description()
        ))
        .with_footer(format!("Allps-i DebiCheck mandate {number}"))
        .with_author(self.organisation.clone());
        for b in self.lender_blocks.iter().cloned().chain(self.parties()) {
            spec.push(b);
        }
        for b in self.account("Bank account to be debited") {
            spec.push(b);
        }
        let collection_day = match n.frequency {
            Frequency::Monthly if m.collection_day.0 >= 31 => "last day of the month".to_string(),
            Frequency::Monthly => format!("day {} of the month", m.collection_day.0),
            Frequency::Weekly | Frequency::Fortnightly => {
                format!("{} ({})", weekday_name(m.collection_day), frequency_word(n.frequency))
            }
        };
        let adjustment = match (m.adjustment, m.adjustment_rate, m.adjustment_amount) {
            (AdjustmentCategory::Never, _, _) => "never".to_string(),
            (c, Some(rate), _) => format!("{} by {rate}%", words(c.as_str())),
            (c, None, Some(amount)) => format!("{} by {}", words(c.as_str()), rands(amount)),
            (c, None, None) => words(c.as_str()),
        };
        spec.push(Block::Heading("Mandate parameters".into()));
        spec.push(Block::KeyValues(vec![
            ("Promissory number".into(), number.clone()),
            ("Contract reference".into(), n.contract_reference.clone()),
            ("Debit value type".into(), words(m.value_type.as_str())),
            ("Instalment amount".into(), rands(n.instalment_amount)),
            ("Maximum collection amount".into(), rands(m.maximum)),
            ("Number of instalments".into(), self.instalments.len().to_string()),
            ("Frequency".into(), words(n.frequency.as_str())),
            ("Collection day".into(), collection_day),
            ("First collection date".into(), long_date(n.first_action_date)),
            (
                "Date adjustment allowed".into(),
                if m.date_adjustment_allowed { "yes" } else { "no" }.into(),
            ),
            (
                "Tracking days".into(),
                if n.tracking_days == 0 {
                    "none".into()
                } else {
                    n.tracking_days.to_string()
                },
            ),
            ("Adjustment".into(), adjustment),
            (
                "Debit sequence".into(),
                if m.sequence == DebitSequence::Ooff {
                    "once-off".into()
                } else {
                    "recurring".into()
                },
            ),
            ("Authentication type".into(), m.authentication_type.as_str().into()),
            (
                "Name on your bank statement".into(),
                self.statement_name.clone(),
            ),
            ("Created".into(), sast_minute(n.created_at)),
        ]));
        spec.push(Block::Heading("Authentication".into()));
        spec.push(Block::Notice(match (authenticated, m.answered_at) {
            (true, Some(at)) => format!(
                "AUTHENTICATED: the payer authenticated this mandate on {} by {}{}. It is held in \
                 the payer's bank's mandate register.",
                sast_minute(at),
                m.authentication_type,
                m.channel
                    .map(|c| format!(" through {}", channel_words(c)))
                    .unwrap_or_default()
            ),
            _ => format!(
                "Not yet authenticated: the payer's bank asks the payer to authenticate this \
                 mandate ({}); the request closes on {}. Nothing is collected before it is \
                 authenticated.",
                m.authentication_type,
                sast_minute(m.deadline)
            ),
        }));
        spec.push(Block::Heading("Collection schedule".into()));
        spec.push(Block::Table {
            columns: vec![
                Column::right("No.", 0.6),
                Column::new("Action date", 1.6),
                Column::right("Amount", 1.3),
                Column::new("Disputable", 2.4),
            ],
            rows: self
                .instalments
                .iter()
                .map(|i| {
                    let disputable = disputability
                        .iter()
                        .find(|(number, _, _)| *number == i.number)
                        .map(|(_, yes, why)| {
                            format!(
                                "{} ({})",
                                if *yes { "yes" } else { "no" },
                                words(why.as_str()).to_lowercase()
                            )
                        })
                        .unwrap_or_default();
                    vec![
                        i.number.to_string(),
                        long_date(i.action_date),
                        rands(i.amount),
                        disputable,
                    ]
                })
                .collect(),
        });
        spec.push(Block::Heading("DebiCheck authority".into()));
        spec.push(Block::Paragraph(format!(
            "I authorise {creditor}, through Allps-i, to collect from the account above the \
             amounts of the schedule under this DebiCheck mandate, once I have authenticated it \
             with my bank. A collection that keeps to the authenticated mandate cannot be \
             disputed and reversed. A collection is disputable when it is an arrears collection \
             (presented again after a failure), when it is above the authenticated instalment \
             (fixed mandates) or the maximum collection amount (variable and usage-based \
             mandates), when the instalment was changed after authentication, or when it is \
             presented off the collection day other than as the date adjustment indicator \
             allows. My bank may suspend the mandate at my request; I may cancel it by notice \
             to the creditor, which does not cancel any amount I still owe.",
            creditor = self.organisation,
        )));
        spec.push(Block::Notice(if n.transaction_fees_recoverable {
            "Fees: the payer authenticated this mandate with card and PIN (TT3), so the payer's \
             presence was verified and Intecon transaction fees may be recovered from the payer."
                .to_string()
        } else {
            "Fees: this mandate was created without the payer's card or PIN, so the payer's \
             presence was not verified. Intecon transaction fees therefore cannot be recovered \
             from the payer and are not part of the instalments."
                .to_string()
        }));
        spec.push(Block::Signatures(vec![
            format!("Payer: {}", self.payer()),
            format!("For the creditor: {}", self.organisation),
        ]));
        spec
    }

    fn cancellation_notice(&self) -> DocumentSpec {
        let n = self.note;
        let number = self.number();
        let cancelled_at = n.cancelled_at.unwrap_or(n.created_at);
        let stopped = self
            .instalments
            .iter()
            .filter(|i| i.status == InstalmentStatus::Cancelled)
            .count();
        let presented = self.instalments.len() - stopped;
        let mut spec = DocumentSpec::new(
            format!("promissory-cancellation-{number}.pdf"),
            "Cancellation of Promissory Note and Debit Order Authority",
            cancelled_at,
        )
        .with_subtitle(format!(
            "Promissory note {number} - contract reference {} - {}",
            n.contract_reference,
            n.stream.description()
        ))
        .with_footer(format!("Allps-i cancellation of promissory note {number}"))
        .with_author(self.organisation.clone());
        spec.push(Block::Notice(format!(
            "CANCELLED: promissory note {number} and its debit order authority were cancelled on \
             {}. No instalment that had not been presented will be presented for collection.",
            sast_minute(cancelled_at)
        )));
        for b in self.lender_blocks.iter().cloned().chain(self.parties()) {
            spec.push(b);
        }
        for b in self.account("Bank account of the cancelled debit order") {
            spec.push(b);
        }
        spec.push(Block::Heading("Cancellation".into()));
        spec.push(Block::KeyValues(vec![
            ("Cancelled".into(), sast_minute(cancelled_at)),
            (
                "Reason".into(),
                n.cancel_reason
                    .clone()
                    .unwrap_or_else(|| "none given".into()),
            ),
            ("Instalments stopped".into(), stopped.to_string()),
            (
                "Instalments already presented".into(),
                presented.to_string(),
            ),
            ("Note created".into(), sast_minute(n.created_at)),
        ]));
        spec.push(Block::Heading("Instalments at cancellation".into()));
        spec.push(Block::Table {
            columns: vec![
                Column::right("No.", 0.6),
                Column::new("Action date", 1.6),
                Column::right("Amount", 1.3),
                Column::new("Status", 1.3),
            ],
            rows: self
                .instalments
                .iter()
                .map(|i| {
                    vec![
                        i.number.to_string(),
                        long_date(i.action_date),
                        rands(i.amount),
                        i.status.as_str().to_string(),
                    ]
                })
                .collect(),
        });
        spec.push(Block::Paragraph(
            "The cancellation withdraws the debit order authority; it does not cancel any amount \
             the payer still owes under the loan agreement. Instalments already presented keep \
             their outcome."
                .into(),
        ));
        spec.push(Block::Signatures(vec![
            format!("Payer: {}", self.payer()),
            format!("For the creditor: {}", self.organisation),
        ]));
        spec
    }
}

/// `SUBSCRIPTION_SHARE` → `Subscription share`.
fn words(code: &str) -> String {
    let lower = code.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn channel_words(c: AuthenticationChannel) -> &'static str {
    match c {
        AuthenticationChannel::Ussd => "USSD",
        AuthenticationChannel::MobileApp => "the banking app",
        AuthenticationChannel::InternetBanking => "internet banking",
        AuthenticationChannel::Atm => "an ATM",
        AuthenticationChannel::Branch => "a bank branch",
        AuthenticationChannel::CallCentre => "the bank's call centre",
        AuthenticationChannel::CardAndPin => "card and PIN",
    }
}

fn frequency_word(f: Frequency) -> &'static str {
    match f {
        Frequency::Monthly => "monthly",
        Frequency::Fortnightly => "fortnightly",
        Frequency::Weekly => "weekly",
    }
}

/// `2026-11-26 (Thu)`.
fn long_date(d: Date) -> String {
    let weekday = d.weekday().to_string();
    format!("{} ({})", format_date(d), &weekday[..3])
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn formats() {
        assert_eq!(long_date(date!(2026 - 11 - 26)), "2026-11-26 (Thu)");
        assert_eq!(words("SUBSCRIPTION_SHARE"), "Subscription share");
        assert_eq!(words("SAVINGS"), "Savings");
    }
}
