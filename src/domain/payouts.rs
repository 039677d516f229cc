//! The payout vocabulary: account kinds, payment and part statuses, recipient types,
//! wallet statuses, reply types and card technologies with their contract spellings;
//! the identifier formats (PaymentNumber, WalletNumber); how a payment's status follows
//! from its parts; and the FEZA card number rules. Nothing here knows XML or SQL.

use crate::domain::result::{Refusal, ResultCode};

contract_enum!(
    /// What kind of registered client account a row is.
    AccountKind {
        /// A bank account registered with AddClientAccount (CDV-checked).
        BankAccount => "BANK_ACCOUNT",
        /// The client's Allps wallet, added when the wallet issuer created it.
        Wallet => "WALLET",
    }
);

contract_enum!(
    /// Where one part of a credit payment goes.
    RecipientType {
        /// A registered bank account: an SDV EFT credit through the bank.
        BankAccount => "BANK_ACCOUNT",
        /// The client's ACTIVE wallet: credited inside Allps.
        Wallet => "WALLET",
        /// Cash paid over the counter at the branch.
        Cash => "CASH",
    }
);

contract_enum!(
    /// The status of one part of a credit payment.
    PartStatus {
        /// Validated and stored; not yet handed to the bank (or wallet).
        Accepted => "ACCEPTED",
        /// Handed to the bank for payment on the action date.
        Submitted => "SUBMITTED",
        /// Delivered to the recipient bank, or credited to the wallet.
        Delivered => "DELIVERED",
        /// Returned (or rejected) by the recipient bank; the money did not arrive.
        Returned => "RETURNED",
        /// The cash part, paid over the counter at the branch.
        PaidAtBranch => "PAID_AT_BRANCH",
    }
);

contract_enum!(
    /// The status of a credit payment as a whole, derived from its parts
    /// (see [`payment_status`]).
    PaymentStatus {
        /// No account part has been submitted or delivered yet.
        Accepted => "ACCEPTED",
        /// At least one account part is submitted or delivered, not all delivered.
        Submitted => "SUBMITTED",
        /// Every account part is delivered.
        Delivered => "DELIVERED",
        /// Every part was returned and nothing else was paid.
        Returned => "RETURNED",
        /// Some part was returned while another part was paid or is still under way.
        PartiallyReturned => "PARTIALLY_RETURNED",
    }
);

contract_enum!(
    /// The state of a wallet request.
    WalletStatus {
        /// Waiting for the wallet issuer.
        Pending => "PENDING",
        /// Created: it has a wallet number and is one of the client's accounts.
        Active => "ACTIVE",
        /// The issuer refused it (or stayed unavailable); a new request may follow.
        Failed => "FAILED",
    }
);

contract_enum!(
    /// The type of an entry of the replies feed (GetReplies).
    ReplyType {
        /// An instalment was presented to the debtor bank.
        InstalmentPresented => "INSTALMENT_PRESENTED",
        /// An instalment was collected.
        InstalmentCollected => "INSTALMENT_COLLECTED",
        /// An instalment came back unpaid.
        InstalmentUnpaid => "INSTALMENT_UNPAID",
        /// An unpaid instalment is being tracked.
        InstalmentTracking => "INSTALMENT_TRACKING",
        /// A collected instalment was disputed and reversed.
        InstalmentReversed => "INSTALMENT_REVERSED",
        /// Every instalment of a note was collected.
        NoteCompleted => "NOTE_COMPLETED",
        /// A credit payment part was delivered (bank) or credited (wallet).
        PaymentDelivered => "PAYMENT_DELIVERED",
        /// A credit payment part was returned or rejected by the recipient bank.
        PaymentReturned => "PAYMENT_RETURNED",
        /// A wallet was created.
        WalletCreated => "WALLET_CREATED",
        /// A wallet request failed.
        WalletFailed => "WALLET_FAILED",
        /// A DebiCheck mandate was authenticated.
        MandateAuthenticated => "MANDATE_AUTHENTICATED",
        /// A DebiCheck mandate was declined.
        MandateDeclined => "MANDATE_DECLINED",
        /// A DebiCheck mandate's authentication window passed.
        MandateExpired => "MANDATE_EXPIRED",
        /// A DebiCheck mandate was suspended.
        MandateSuspended => "MANDATE_SUSPENDED",
        /// An instalment not yet presented was moved off a newly declared public holiday
        /// (`admin holiday add`) to the previous business day; ReasonText says from and to.
        InstalmentMoved => "INSTALMENT_MOVED",
        /// The payer disputed a DebiCheck collection within the authenticated mandate;
        /// the bank declined the dispute and the funds stay collected.
        InstalmentDisputeDeclined => "INSTALMENT_DISPUTE_DECLINED",
    }
);

contract_enum!(
    /// How a FEZA card is used: EMV chip and PIN (every card ordered since 22 November
    /// 2017) or the old magnetic-stripe card with a PIN mailer.
    CardTechnology {
        /// EMV chip card; the PIN is not sent by PIN mailer.
        Emv => "EMV",
        /// Old magnetic-stripe card, issued with a numbered PIN mailer.
        Magstripe => "MAGSTRIPE",
    }
);

/// The PaymentNumber of a payment row: `CP` and eight digits (`CP00000042`).
pub fn payment_number(payment_id: i64) -> String {
    format!("CP{payment_id:08}")
}

/// The row id a PaymentNumber names, if it has the `CP` + digits shape (case-insensitive
/// prefix, surrounding blanks ignored).
pub fn parse_payment_number(text: &str) -> Option<i64> {
    let t = text.trim();
    let prefix = t.get(..2)?;
    if !prefix.eq_ignore_ascii_case("CP") {
        return None;
    }
    let rest = &t[2..];
    if rest.is_empty() || rest.len() > 18 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse::<i64>().ok().filter(|id| *id > 0)
}

/// The wallet number the simulated issuer gives a wallet request: `W`, the organisation
/// (three digits) and its WalletRequestId (seven digits): `W0010000007` for request 7
/// of organisation 1. Unique across organisations, and independent of what other
/// organisations request. It starts with a letter so it can never be mistaken for (or
/// pass as) a bank account number, which is digits only; it carries no check digit.
/// (Past organisation 999 or request 9 999 999 the number grows longer.)
pub fn wallet_number(organisation_id: i64, wallet_request_id: i64) -> String {
    format!("W{organisation_id:03}{wallet_request_id:07}")
}

/// A payment's status from its parts' statuses (cash included):
///
/// - some part RETURNED: RETURNED when every part is RETURNED, else PARTIALLY_RETURNED
///   (another part was paid, delivered, or is still under way);
/// - otherwise DELIVERED when every account part is DELIVERED;
/// - otherwise SUBMITTED when some account part is SUBMITTED or DELIVERED;
/// - otherwise ACCEPTED.
pub fn payment_status(parts: &[(RecipientType, PartStatus)]) -> PaymentStatus {
    let returned = parts
        .iter()
        .filter(|(_, s)| *s == PartStatus::Returned)
        .count();
    if returned > 0 {
        return if returned == parts.len() {
            PaymentStatus::Returned
        } else {
            PaymentStatus::PartiallyReturned
        };
    }
    let accounts: Vec<PartStatus> = parts
        .iter()
        .filter(|(r, _)| *r != RecipientType::Cash)
        .map(|(_, s)| *s)
        .collect();
    if !accounts.is_empty() && accounts.iter().all(|s| *s == PartStatus::Delivered) {
        PaymentStatus::Delivered
    } else if accounts
        .iter()
        .any(|s| matches!(s, PartStatus::Submitted | PartStatus::Delivered))
    {
        PaymentStatus::Submitted
    } else {
        PaymentStatus::Accepted
    }
}

/// Why a card number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardNumberError {
    /// Not exactly 16 digits.
    Format,
    /// The Luhn check digit is wrong.
    CheckDigit,
}

/// Checks a FEZA card number (PAN): exactly 16 digits after removing spaces, passing the
/// Luhn check. Returns the 16 digits.
///
/// # Errors
///
/// [`CardNumberError`].
pub fn card_number(text: &str) -> Result<String, CardNumberError> {
    let digits: String = text.chars().filter(|c| *c != ' ').collect();
    if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CardNumberError::Format);
    }
    let values: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    if !super::validate::luhn_valid(&values) {
        return Err(CardNumberError::CheckDigit);
    }
    Ok(digits)
}

/// Checks a CardNumber field: [`card_number`] with the refusal each failure is answered
/// with.
///
/// # Errors
///
/// `CARD_NUMBER_FORMAT` or `CARD_NUMBER_CHECK_DIGIT`.
pub fn check_card_number(text: &str) -> Result<String, Refusal> {
    card_number(text.trim()).map_err(|e| match e {
        CardNumberError::Format => Refusal::field(
            ResultCode::CardNumberFormat,
            "CardNumber",
            "CardNumber must be the 16 digits of the card",
        ),
        CardNumberError::CheckDigit => Refusal::field(
            ResultCode::CardNumberCheckDigit,
            "CardNumber",
            "CardNumber fails its check digit; check the number on the card",
        ),
    })
}

/// The technology of a card: MAGSTRIPE when its number starts with one of the
/// configured magstripe BIN prefixes, EMV otherwise.
pub fn card_technology(card_number: &str, magstripe_bins: &[String]) -> CardTechnology {
    if magstripe_bins
        .iter()
        .any(|bin| !bin.is_empty() && card_number.starts_with(bin.as_str()))
    {
        CardTechnology::Magstripe
    } else {
        CardTechnology::Emv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(payment_number(42), "CP00000042");
        assert_eq!(parse_payment_number("CP00000042"), Some(42));
        assert_eq!(parse_payment_number(" cp42 "), Some(42));
        assert_eq!(parse_payment_number("CP"), None);
        assert_eq!(parse_payment_number("CP-1"), None);
        assert_eq!(parse_payment_number("CP00000000"), None);
        assert_eq!(parse_payment_number("XX00000001"), None);
        assert_eq!(parse_payment_number("C"), None);
        assert_eq!(parse_payment_number("CP99999999999999999999"), None);
        assert_eq!(wallet_number(1, 7), "W0010000007");
        assert_eq!(wallet_number(12, 1), "W0120000001");
    }

    #[test]
    fn payment_status_follows_the_parts() {
        use PartStatus as S;
        use RecipientType as R;
        assert_eq!(
            payment_status(&[(R::BankAccount, S::Accepted), (R::Cash, S::PaidAtBranch)]),
            PaymentStatus::Accepted
        );
        assert_eq!(
            payment_status(&[(R::BankAccount, S::Submitted), (R::Wallet, S::Delivered)]),
            PaymentStatus::Submitted
        );
        assert_eq!(
            payment_status(&[
                (R::BankAccount, S::Delivered),
                (R::Wallet, S::Delivered),
                (R::Cash, S::PaidAtBranch)
            ]),
            PaymentStatus::Delivered
        );
        assert_eq!(
            payment_status(&[(R::BankAccount, S::Returned)]),
            PaymentStatus::Returned
        );
        assert_eq!(
            payment_status(&[(R::BankAccount, S::Returned), (R::Cash, S::PaidAtBranch)]),
            PaymentStatus::PartiallyReturned
        );
        assert_eq!(
            payment_status(&[
                (R::BankAccount, S::Returned),
                (R::BankAccount, S::Submitted)
            ]),
            PaymentStatus::PartiallyReturned
        );
    }

    #[test]
    fn card_numbers() {
        assert_eq!(
            card_number("4111 1111 1111 1111").unwrap(),
            "4111111111111111"
        );
        assert_eq!(
            card_number("4111111111111112"),
            Err(CardNumberError::CheckDigit)
        );
        assert_eq!(card_number("411111111111111"), Err(CardNumberError::Format));
        assert_eq!(
            card_number("41111111111111a1"),
            Err(CardNumberError::Format)
        );
        let bins = vec!["999999".to_string()];
        assert_eq!(
            card_technology("9999990000000001", &bins),
            CardTechnology::Magstripe
        );
        assert_eq!(
            card_technology("4111111111111111", &bins),
            CardTechnology::Emv
        );
        assert_eq!(
            card_technology("4111111111111111", &[]),
            CardTechnology::Emv
        );
    }
}
