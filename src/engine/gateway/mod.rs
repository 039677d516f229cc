//! The one interface to the outside world: [`Gateway`]. The processor (never a request
//! handler) calls it for the work Allps hands to others: SDV EFT credits to the
//! recipient banks (submission, delivery report, return check), wallet creation at
//! the wallet issuer, and collections from debtor banks (presenting an instalment,
//! checking a collected one for a dispute) and DebiCheck mandates at the payer's bank
//! (the authentication request and its answer, suspension, cancellation).
//!
//! Every call carries the stable identifiers of what it is about (wallet request id,
//! payment number and part number), so a real implementation can make it idempotent at
//! the far end: the processor may repeat a call after a crash between the call and the
//! commit of its outcome, and must get the same answer.
//!
//! The default implementation is [`Simulator`]: deterministic outcomes decided by
//! documented, configurable rules ([`SimulatorRules`]) so integrators can produce a
//! return, a rejection or a failed wallet on purpose.

mod simulator;

pub use simulator::{Simulator, SimulatorRules};

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use crate::domain::debicheck::{AuthenticationChannel, AuthenticationType};
use crate::domain::promissory::NoteStream;

/// A wallet to create at the issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletRequest {
    /// The organisation's row id; with `request_id`, the issuer's idempotency key.
    pub organisation_id: i64,
    /// The WalletRequestId (counts within the organisation).
    pub request_id: i64,
    /// Which attempt this is (1 for the first call).
    pub attempt: u32,
    /// The Allps branch code the wallet is homed at.
    pub branch_code: String,
    /// The client's cellphone, `0821234567`.
    pub cellphone: String,
    /// First name(s).
    pub first_name: String,
    /// Surname.
    pub surname: String,
    /// `SA_ID` or `PASSPORT`.
    pub id_type: String,
    /// ID or passport number.
    pub id_number: String,
    /// Date of birth.
    pub date_of_birth: Date,
    /// `M` or `F`.
    pub gender: String,
}

/// The issuer's answer to a wallet request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalletOutcome {
    /// The wallet exists with this number (not a bank account number).
    Created {
        /// The wallet number.
        wallet_number: String,
    },
    /// The issuer refused the request for good.
    Refused {
        /// The issuer's reason code.
        code: String,
        /// The reason in words.
        reason: String,
    },
}

/// One account part of a credit payment as the bank sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditInstruction {
    /// `CP` + the payment's row id (`CP00000001`): unique across organisations, so the
    /// bank's idempotency key (the caller's PaymentNumber counts within its organisation).
    pub payment_number: String,
    /// The part's number within the payment.
    pub part_number: i64,
    /// Which attempt of this call this is (1 for the first).
    pub attempt: u32,
    /// The recipient's bank branch code.
    pub branch_code: String,
    /// The recipient's account number.
    pub account_number: String,
    /// `CURRENT`, `SAVINGS`, ...
    pub account_type: String,
    /// The account holder's name as registered (or the client's name).
    pub holder_name: String,
    /// The amount in rand.
    pub amount: Decimal,
    /// The payment's action date.
    pub action_date: Date,
}

/// What the recipient bank reported about a submitted credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The credit reached the recipient bank. It may still be returned later.
    Delivered,
    /// The recipient bank rejected the credit; the money did not arrive.
    Rejected(ReturnAdvice),
}

/// A return (or rejection) of a credit by the recipient bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnAdvice {
    /// The bank's reason code (ACB style, e.g. `12`).
    pub code: String,
    /// The reason in words (e.g. `ACCOUNT CLOSED`).
    pub reason: String,
}

/// What an attempt to collect an instalment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// The presentment on the action date.
    First,
    /// A credit-tracking re-presentment on tracking day `day` (1-based).
    Tracking {
        /// The tracking day.
        day: u32,
    },
    /// An arrears re-presentment of an UNPAID instalment (`EditInstalment`).
    Arrears,
}

/// One attempt to collect an instalment, as the debtor bank sees it. The
/// (PromissoryNumber, instalment, attempt) triple is the far end's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionItem {
    /// `PN` + the note's row id (`PN00000001`): unique across organisations, so part of
    /// the far end's idempotency key (the caller's PromissoryNumber counts within its
    /// organisation).
    pub promissory_number: String,
    /// The instalment's number within the note.
    pub instalment_number: u32,
    /// Which attempt on this instalment this is (1 for the first presentment; each
    /// tracking or arrears attempt adds one).
    pub attempt: u32,
    /// First presentment, tracking day or arrears.
    pub kind: AttemptKind,
    /// The stream it is collected through.
    pub stream: NoteStream,
    /// The debtor's bank branch code.
    pub branch_code: String,
    /// The debtor's account number.
    pub account_number: String,
    /// `CURRENT`, `SAVINGS`, ...
    pub account_type: String,
    /// The amount in rand.
    pub amount: Decimal,
    /// The instalment's action date.
    pub action_date: Date,
    /// The date of this attempt (South African time).
    pub attempted_on: Date,
    /// Whether the payer can have it reversed: every non-authenticated debit; a
    /// DebiCheck collection only outside its authenticated mandate
    /// (`domain::debicheck::disputability`).
    pub disputable: bool,
}

/// The debtor bank's answer to an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectionOutcome {
    /// Paid.
    Collected,
    /// Returned unpaid; the code is an ACB reason code (`02` insufficient funds).
    Unpaid(ReturnAdvice),
}

/// Whether a collected debit was disputed and reversed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReversalCheck {
    /// The payer disputed it and the funds went back on `on`.
    Reversed {
        /// The reversal date.
        on: Date,
        /// The dispute reason (ACB dispute code, e.g. `30`).
        advice: ReturnAdvice,
    },
    /// The payer disputed a collection that matches the authenticated DebiCheck
    /// mandate: the bank declined the dispute on `on` and the funds stay collected.
    DisputeDeclined {
        /// When the dispute was declined.
        on: Date,
        /// The dispute the payer raised (ACB dispute code, e.g. `30`).
        advice: ReturnAdvice,
    },
    /// Not reversed (yet). Ask again on `check_again_on`; `None`: never (the dispute
    /// period is over, or the debit cannot be disputed).
    NotYet {
        /// When to ask again.
        check_again_on: Option<Date>,
    },
}

/// A DebiCheck mandate as the payer's bank sees it. The PromissoryNumber is the far
/// end's idempotency key (the mandate reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateRequest {
    /// The PromissoryNumber (`PN00000001`).
    pub promissory_number: String,
    /// How the payer authenticates.
    pub authentication_type: AuthenticationType,
    /// The debtor's bank branch code.
    pub branch_code: String,
    /// The debtor's account number.
    pub account_number: String,
    /// The cellphone the request goes to, if any.
    pub cellphone: Option<String>,
    /// The instalment amount.
    pub instalment: Decimal,
    /// The maximum collection amount.
    pub maximum: Decimal,
    /// When authentication was requested.
    pub requested_at: OffsetDateTime,
    /// When the window closes (an answer counts only before it).
    pub deadline: OffsetDateTime,
}

/// Where the payer's answer to an authentication request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MandateAnswer {
    /// The payer answered at `at`.
    Answered {
        /// When.
        at: OffsetDateTime,
        /// True: authenticated; false: declined.
        authenticated: bool,
        /// Through which channel.
        channel: AuthenticationChannel,
    },
    /// No answer yet. Ask again at `ask_again_at` (`None`: no answer is coming).
    Awaiting {
        /// When an answer may be there.
        ask_again_at: Option<OffsetDateTime>,
    },
}

/// Whether the payer's bank suspended an authenticated mandate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuspensionCheck {
    /// Suspended at `at`.
    Suspended {
        /// When.
        at: OffsetDateTime,
    },
    /// Not suspended (yet). Ask again at `ask_again_at` (`None`: never).
    NotSuspended {
        /// When to ask again.
        ask_again_at: Option<OffsetDateTime>,
    },
}

/// A call that could not be answered now (network, far end down); the processor
/// retries it with backoff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gateway unavailable: {0}")]
pub struct GatewayUnavailable(pub String);

/// The outside world, as the processor talks to it. Calls are blocking; the processor
/// runs them on a blocking thread.
pub trait Gateway: Send + Sync + 'static {
    /// Asks the wallet issuer to create a wallet.
    ///
    /// # Errors
    ///
    /// [`GatewayUnavailable`] when the issuer cannot answer now.
    fn create_wallet(&self, request: &WalletRequest) -> Result<WalletOutcome, GatewayUnavailable>;

    /// Hands a credit to the bank for payment on its action date.
    ///
    /// # Errors
    ///
    /// [`GatewayUnavailable`] when the bank cannot take it now.
    fn submit_credit(&self, credit: &CreditInstruction) -> Result<(), GatewayUnavailable>;

    /// The delivery report of a submitted credit.
    ///
    /// # Errors
    ///
    /// [`GatewayUnavailable`] when no report can be fetched now.
    fn credit_delivery(
        &self,
        credit: &CreditInstruction,
    ) -> Result<DeliveryOutcome, GatewayUnavailable>;

    /// Whether the recipient bank returned a delivered credit (checked once, a
    /// configured time after delivery).
    ///
    /// # Errors
    ///
    /// [`GatewayUnavailable`] when no answer can be fetched now.
    fn credit_return(
        &self,
        credit: &CreditInstruction,
    ) -> Result<Option<ReturnAdvice>, GatewayUnavailable>;

    /// Presents an instalment for collection at the debtor bank (first presentment,
    /// tracking attempt or arrears) and returns the bank's answer. A repeated call for
    /// the same attempt gets the same answer.
    ///
    /// # Errors
    ///
    /// [`GatewayUnavailable`] when the bank cannot take it now.
    fn present_collection(
        &self,
        item: &CollectionItem,
    ) -> Result<CollectionOutcome, GatewayUnavailable>;

    /// Whether the collected attempt `item` (collected on `collected_on`) has been
    /// disputed and reversed by `today`, and if not, when to ask again.
    ///
    /// # Errors
    ///
    /// [`GatewayUnavailable`] when no answer can be fetched now.
    fn check_reversal(
        &self,
        item: &CollectionItem,
        collected_on: Date,
        today: Date,
    ) -> Result<ReversalCheck, GatewayUnavailable>;

    /// Where the payer's answer to the mandate's authentication request stands at
    /// `now` (the first call lodges the request). A repeated call at the same `now`
    /// gets the same answer. The default refuses: a gateway that does not handle
    /// mandates leaves them to expire.
    ///
    /// # Errors
    ///
    /// [`GatewayUnavailable`] when the bank cannot answer now.
    fn mandate_authentication(
        &self,
        mandate: &MandateRequest,
        now: OffsetDateTime,
    ) -> Result<MandateAnswer, GatewayUnavailable> {
        let _ = (mandate, now);
        Ok(MandateAnswer::Awaiting { ask_again_at: None })
    }

    /// Whether the payer's bank suspended the mandate (authenticated at
    /// `authenticated_at`) by `now`. The default: never.
    ///
    /// # Errors
    ///
    /// [`GatewayUnavailable`] when the bank cannot answer now.
    fn mandate_suspension(
        &self,
        mandate: &MandateRequest,
        authenticated_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<SuspensionCheck, GatewayUnavailable> {
        let _ = (mandate, authenticated_at, now);
        Ok(SuspensionCheck::NotSuspended { ask_again_at: None })
    }

    /// Cancels the mandate in the payer's bank's mandate register (idempotent). The
    /// default accepts.
    ///
    /// # Errors
    ///
    /// [`GatewayUnavailable`] when the bank cannot take it now.
    fn cancel_mandate(&self, mandate: &MandateRequest) -> Result<(), GatewayUnavailable> {
        let _ = mandate;
        Ok(())
    }
}
