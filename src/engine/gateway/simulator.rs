//! The default gateway: a deterministic simulator of the banks and the wallet issuer.
//! Its answers depend only on the call's content and the configured rules, so a repeated
//! call gets the same answer (as a real, idempotent far end would give):
//!
//! | call | rule (default) | answer |
//! |---|---|---|
//! | wallet | cellphone ends in `0000` | refused, code `W01` |
//! | wallet | cellphone ends in `1111` | unavailable on attempts 1 and 2, created on the 3rd |
//! | wallet | otherwise | created, wallet number `W` + request id as 10 digits |
//! | credit submission | always | accepted |
//! | credit delivery | amount's cents are `.13` | rejected, code `26` NO SUCH ACCOUNT |
//! | credit delivery | otherwise | delivered |
//! | return check | account number ends in `99` | returned, code `12` ACCOUNT CLOSED |
//! | return check | otherwise | no return |
//! | collection | debtor account ends in `8` + an unpaid code `CC` (e.g. `812`) | unpaid `CC` at every attempt (`802`: insufficient funds through every tracking day) |
//! | collection | debtor account ends in `7` + `KK` (`01`-`32`, e.g. `703`) | insufficient funds (`02`) until tracking day `KK`, collected on it; an arrears attempt is collected |
//! | collection | otherwise | collected at first presentment |
//! | reversal check | debtor account ends in `6` + `NN` (`01`-`99`, e.g. `605`) | collected, then disputed and reversed `NN` days after collection, code `30` NO AUTHORITY TO DEBIT |
//! | reversal check | otherwise | never reversed |
//! | reversal check | as above, but the DebiCheck collection is not disputable | the dispute is declined `NN` days after collection (funds kept) |
//! | mandate authentication | payer's cellphone (or, without one, debtor account) ends in `99` + `1NNN` | authenticated `NNN` seconds after the request |
//! | mandate authentication | ... `99` + `2NNN` | authenticated after `NNN` minutes |
//! | mandate authentication | ... `99` + `3NNN` | authenticated after `NNN` hours |
//! | mandate authentication | ... `99` + `4NNN` | declined after `NNN` seconds |
//! | mandate authentication | ... `99` + `5NNN` | never answered (the request expires) |
//! | mandate authentication | ... `99` + `6NNN` | authenticated after the default delay, then suspended by the payer's bank `NNN` hours after authentication |
//! | mandate authentication | otherwise | authenticated 60 seconds after the request |
//! | TT3 (card and PIN) | `4NNN` or `5NNN` as above | declined at once; otherwise authenticated at once |
//!
//! The prefixes (`8`, `7`, `6`, `99`) are [`SimulatorRules`] fields; an empty prefix
//! turns its rule off. The answer's channel follows the type: TT1_REALTIME `USSD`,
//! TT1_DELAYED `MOBILE_APP`, TT2 `INTERNET_BANKING`, TT3 `CARD_AND_PIN`. Descriptions
//! come from the bundled unpaid-reason table.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use time::{Date, Duration, OffsetDateTime};

use super::{
    AttemptKind, CollectionItem, CollectionOutcome, CreditInstruction, DeliveryOutcome, Gateway,
    GatewayUnavailable, MandateAnswer, MandateRequest, ReturnAdvice, ReversalCheck,
    SuspensionCheck, WalletOutcome, WalletRequest,
};
use crate::domain::collection::{INSUFFICIENT_FUNDS, ReasonKind, UnpaidReasons};
use crate::domain::debicheck::{AuthenticationChannel, AuthenticationType};
use crate::domain::payouts::wallet_number;

/// The simulator's outcome rules (see the module table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorRules {
    /// Bank account numbers ending in this are returned after delivery; empty: never.
    pub return_account_suffix: String,
    /// Bank parts with this many cents are rejected at delivery; above 99: never.
    pub reject_cents: u32,
    /// Wallet requests for cellphones ending in this are refused; empty: never.
    pub wallet_fail_suffix: String,
    /// Wallet requests for cellphones ending in this find the issuer unavailable on the
    /// first [`SimulatorRules::wallet_retry_failures`] attempts; empty: never.
    pub wallet_retry_suffix: String,
    /// How many attempts the retry rule fails.
    pub wallet_retry_failures: u32,
    /// Debtor accounts ending in this + an unpaid reason code are unpaid with that
    /// code at every attempt; empty: never.
    pub collect_unpaid_prefix: String,
    /// Debtor accounts ending in this + `KK` (01-32) are unpaid 02 until tracking
    /// day `KK` and collected on it; empty: never.
    pub collect_track_prefix: String,
    /// Debtor accounts ending in this + `NN` (01-99) are reversed `NN` days after
    /// collection; empty: never.
    pub collect_dispute_prefix: String,
    /// Payers' cellphones (or debtor accounts) ending in this + `KNNN` get the
    /// mandate outcome `K` after `NNN` (see the module table); empty: never.
    pub mandate_prefix: String,
    /// Seconds after the request at which any other mandate is authenticated.
    pub mandate_approve_seconds: u32,
}

impl Default for SimulatorRules {
    fn default() -> Self {
        SimulatorRules {
            return_account_suffix: "99".into(),
            reject_cents: 13,
            wallet_fail_suffix: "0000".into(),
            wallet_retry_suffix: "1111".into(),
            wallet_retry_failures: 2,
            collect_unpaid_prefix: "8".into(),
            collect_track_prefix: "7".into(),
            collect_dispute_prefix: "6".into(),
            mandate_prefix: "99".into(),
            mandate_approve_seconds: 60,
        }
    }
}

/// Reason code of a simulated dispute: `30` NO AUTHORITY TO DEBIT.
pub const DISPUTE_CODE: &str = "30";

/// Reason code of a wallet the simulated issuer refuses.
pub const WALLET_REFUSED_CODE: &str = "W01";

/// The simulated banks and wallet issuer.
#[derive(Debug, Clone, Default)]
pub struct Simulator {
    rules: SimulatorRules,
}

impl Simulator {
    /// A simulator following `rules`.
    pub fn new(rules: SimulatorRules) -> Self {
        Simulator { rules }
    }
}

fn ends_with(value: &str, suffix: &str) -> bool {
    !suffix.is_empty() && value.ends_with(suffix)
}

/// The two digits after `prefix` when `account` ends in `prefix` + two digits.
fn marked(account: &str, prefix: &str) -> Option<u32> {
    if prefix.is_empty() || account.len() < prefix.len() + 2 {
        return None;
    }
    let (head, digits) = account.split_at(account.len() - 2);
    if !head.ends_with(prefix) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The mandate outcome a payer's marker asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MandateRule {
    /// Authenticated after this long.
    Approve(Duration),
    /// Declined after this long.
    Decline(Duration),
    /// No answer ever.
    Silent,
    /// Authenticated after the default delay, suspended this long after.
    Suspend(Duration),
}

fn channel_of(kind: AuthenticationType) -> AuthenticationChannel {
    match kind {
        AuthenticationType::Tt1Realtime => AuthenticationChannel::Ussd,
        AuthenticationType::Tt1Delayed => AuthenticationChannel::MobileApp,
        AuthenticationType::Tt2 => AuthenticationChannel::InternetBanking,
        AuthenticationType::Tt3 => AuthenticationChannel::CardAndPin,
    }
}

fn advice(code: &str) -> ReturnAdvice {
    ReturnAdvice {
        code: code.to_string(),
        reason: UnpaidReasons::bundled()
            .get(code)
            .map_or_else(|| "UNKNOWN REASON".to_string(), |r| r.description.clone()),
    }
}

impl Simulator {
    /// The unpaid code the unpaid rule gives this account, if it applies.
    fn unpaid_code(&self, account: &str) -> Option<String> {
        let code = format!("{:02}", marked(account, &self.rules.collect_unpaid_prefix)?);
        UnpaidReasons::bundled()
            .get(&code)
            .filter(|r| r.kind == ReasonKind::Unpaid)
            .map(|r| r.code.clone())
    }
}

impl Simulator {
    /// The mandate rule of a payer (cellphone, else debtor account).
    fn mandate_rule(&self, mandate: &MandateRequest) -> MandateRule {
        let default = Duration::seconds(i64::from(self.rules.mandate_approve_seconds));
        let key = mandate
            .cellphone
            .as_deref()
            .unwrap_or(&mandate.account_number);
        let prefix = &self.rules.mandate_prefix;
        if prefix.is_empty() || key.len() < prefix.len() + 4 {
            return MandateRule::Approve(default);
        }
        let (head, tail) = key.split_at(key.len() - 4);
        if !head.ends_with(prefix.as_str()) || !tail.bytes().all(|b| b.is_ascii_digit()) {
            return MandateRule::Approve(default);
        }
        let n: i64 = tail[1..].parse().unwrap_or(0);
        match tail.as_bytes()[0] {
            b'1' => MandateRule::Approve(Duration::seconds(n)),
            b'2' => MandateRule::Approve(Duration::minutes(n)),
            b'3' => MandateRule::Approve(Duration::hours(n)),
            b'4' => MandateRule::Decline(Duration::seconds(n)),
            b'5' => MandateRule::Silent,
            b'6' => MandateRule::Suspend(Duration::hours(n)),
            _ => MandateRule::Approve(default),
        }
    }

    /// The answer of a TT3 (card and PIN) authentication, given in real time at
    /// `at`: declined for the decline and silent markers, otherwise authenticated.
    pub fn card_and_pin(&self, mandate: &MandateRequest, at: OffsetDateTime) -> MandateAnswer {
        let authenticated = !matches!(
            self.mandate_rule(mandate),
            MandateRule::Decline(_) | MandateRule::Silent
        );
        MandateAnswer::Answered {
            at,
            authenticated,
            channel: AuthenticationChannel::CardAndPin,
        }
    }
}

fn cents(amount: Decimal) -> u32 {
    let fraction = (amount.abs() * Decimal::ONE_HUNDRED) % Decimal::ONE_HUNDRED;
    fraction.trunc().to_u32().unwrap_or(u32::MAX)
}

impl Gateway for Simulator {
    fn create_wallet(&self, request: &WalletRequest) -> Result<WalletOutcome, GatewayUnavailable> {
        if ends_with(&request.cellphone, &self.rules.wallet_fail_suffix) {
            return Ok(WalletOutcome::Refused {
                code: WALLET_REFUSED_CODE.into(),
                reason: "the cellphone number could not be verified with the mobile network".into(),
            });
        }
        if ends_with(&request.cellphone, &self.rules.wallet_retry_suffix)
            && request.attempt <= self.rules.wallet_retry_failures
        {
            return Err(GatewayUnavailable(
                "the wallet issuer is temporarily unavailable (simulated)".into(),
            ));
        }
        Ok(WalletOutcome::Created {
            wallet_number: wallet_number(request.organisation_id, request.request_id),
        })
    }

    fn submit_credit(&self, _credit: &CreditInstruction) -> Result<(), GatewayUnavailable> {
        Ok(())
    }

    fn credit_delivery(
        &self,
        credit: &CreditInstruction,
    ) -> Result<DeliveryOutcome, GatewayUnavailable> {
        if cents(credit.amount) == self.rules.reject_cents {
            return Ok(DeliveryOutcome::Rejected(ReturnAdvice {
                code: "26".into(),
                reason: "NO SUCH ACCOUNT".into(),
            }));
        }
        Ok(DeliveryOutcome::Delivered)
    }

    fn credit_return(
        &self,
        credit: &CreditInstruction,
    ) -> Result<Option<ReturnAdvice>, GatewayUnavailable> {
        if ends_with(&credit.account_number, &self.rules.return_account_suffix) {
            return Ok(Some(ReturnAdvice {
                code: "12".into(),
                reason: "ACCOUNT CLOSED".into(),
            }));
        }
        Ok(None)
    }

    fn present_collection(
        &self,
        item: &CollectionItem,
    ) -> Result<CollectionOutcome, GatewayUnavailable> {
        if let Some(code) = self.unpaid_code(&item.account_number) {
            return Ok(CollectionOutcome::Unpaid(advice(&code)));
        }
        if let Some(k) = marked(&item.account_number, &self.rules.collect_track_prefix)
            .filter(|k| (1..=32).contains(k))
        {
            let paid = match item.kind {
                AttemptKind::First => false,
                AttemptKind::Tracking { day } => day >= k,
                AttemptKind::Arrears => true,
            };
            if !paid {
                return Ok(CollectionOutcome::Unpaid(advice(INSUFFICIENT_FUNDS)));
            }
        }
        Ok(CollectionOutcome::Collected)
    }

    fn check_reversal(
        &self,
        item: &CollectionItem,
        collected_on: Date,
        today: Date,
    ) -> Result<ReversalCheck, GatewayUnavailable> {
        let Some(days) =
            marked(&item.account_number, &self.rules.collect_dispute_prefix).filter(|n| *n >= 1)
        else {
            return Ok(ReversalCheck::NotYet {
                check_again_on: None,
            });
        };
        let Some(on) = collected_on.checked_add(Duration::days(i64::from(days))) else {
            return Ok(ReversalCheck::NotYet {
                check_again_on: None,
            });
        };
        if today >= on && !item.disputable {
            Ok(ReversalCheck::DisputeDeclined {
                on,
                advice: advice(DISPUTE_CODE),
            })
        } else if today >= on {
            Ok(ReversalCheck::Reversed {
                on,
                advice: advice(DISPUTE_CODE),
            })
        } else {
            Ok(ReversalCheck::NotYet {
                check_again_on: Some(on),
            })
        }
    }

    fn mandate_authentication(
        &self,
        mandate: &MandateRequest,
        now: OffsetDateTime,
    ) -> Result<MandateAnswer, GatewayUnavailable> {
        if mandate.authentication_type == AuthenticationType::Tt3 {
            return Ok(self.card_and_pin(mandate, mandate.requested_at));
        }
        let channel = channel_of(mandate.authentication_type);
        let default = Duration::seconds(i64::from(self.rules.mandate_approve_seconds));
        let (after, authenticated) = match self.mandate_rule(mandate) {
            MandateRule::Approve(after) => (after, true),
            MandateRule::Decline(after) => (after, false),
            MandateRule::Suspend(_) => (default, true),
            MandateRule::Silent => return Ok(MandateAnswer::Awaiting { ask_again_at: None }),
        };
        let at = mandate.requested_at + after;
        if now >= at {
            Ok(MandateAnswer::Answered {
                at,
                authenticated,
                channel,
            })
        } else {
            Ok(MandateAnswer::Awaiting {
                ask_again_at: Some(at),
            })
        }
    }

    fn mandate_suspension(
        &self,
        mandate: &MandateRequest,
        authenticated_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<SuspensionCheck, GatewayUnavailable> {
        let MandateRule::Suspend(after) = self.mandate_rule(mandate) else {
            return Ok(SuspensionCheck::NotSuspended { ask_again_at: None });
        };
        let at = authenticated_at + after;
        if now >= at {
            Ok(SuspensionCheck::Suspended { at })
        } else {
            Ok(SuspensionCheck::NotSuspended {
                ask_again_at: Some(at),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use time::macros::date;

    fn wallet(cell: &str, attempt: u32) -> WalletRequest {
        WalletRequest {
            organisation_id: 1,
            request_id: 7,
            attempt,
            branch_code: "BR001".into(),
            cellphone: cell.into(),
            first_name: "Thabo".into(),
            surname: "Mokoena".into(),
            id_type: "SA_ID".into(),
            id_number: "8503145123084".into(),
            date_of_birth: date!(1985 - 03 - 14),
            gender: "M".into(),
        }
    }

    fn credit(account: &str, amount: &str) -> CreditInstruction {
        CreditInstruction {
            payment_number: "CP00000001".into(),
            part_number: 1,
            attempt: 1,
            branch_code: "250655".into(),
            account_number: account.into(),
            account_type: "CURRENT".into(),
            holder_name: "T Mokoena".into(),
            amount: Decimal::from_str(amount).unwrap(),
            action_date: date!(2026 - 11 - 23),
        }
    }

    #[test]
    fn wallet_rules() {
        let sim = Simulator::default();
        assert_eq!(
            sim.create_wallet(&wallet("0821234567", 1)).unwrap(),
            WalletOutcome::Created {
                wallet_number: "W0010000007".into()
            }
        );
        assert!(matches!(
            sim.create_wallet(&wallet("0820000000", 1)).unwrap(),
            WalletOutcome::Refused { ref code, .. } if code == "W01"
        ));
        assert!(sim.create_wallet(&wallet("0821111111", 1)).is_err());
        assert!(sim.create_wallet(&wallet("0821111111", 2)).is_err());
        assert!(sim.create_wallet(&wallet("0821111111", 3)).is_ok());
        // The same request always gets the same answer.
        assert_eq!(
            sim.create_wallet(&wallet("0821234567", 1)),
            sim.create_wallet(&wallet("0821234567", 1))
        );
    }

    #[test]
    fn credit_rules() {
        let sim = Simulator::default();
        assert_eq!(
            sim.credit_delivery(&credit("62001234567", "100.00"))
                .unwrap(),
            DeliveryOutcome::Delivered
        );
        assert!(matches!(
            sim.credit_delivery(&credit("62001234567", "100.13")).unwrap(),
            DeliveryOutcome::Rejected(ref r) if r.code == "26"
        ));
        assert_eq!(
            sim.credit_return(&credit("62001234567", "100.00")).unwrap(),
            None
        );
        assert_eq!(
            sim.credit_return(&credit("62001234599", "100.00"))
                .unwrap()
                .map(|r| r.code),
            Some("12".to_string())
        );
        let off = Simulator::new(SimulatorRules {
            return_account_suffix: String::new(),
            reject_cents: 100,
            ..SimulatorRules::default()
        });
        assert_eq!(
            off.credit_delivery(&credit("62001234599", "100.13"))
                .unwrap(),
            DeliveryOutcome::Delivered
        );
        assert_eq!(
            off.credit_return(&credit("62001234599", "100.13")).unwrap(),
            None
        );
        assert_eq!(cents(Decimal::from_str("5.13").unwrap()), 13);
        assert_eq!(cents(Decimal::from_str("5").unwrap()), 0);
        assert_eq!(cents(Decimal::from_str("5.1").unwrap()), 10);
    }

    fn item(account: &str, kind: AttemptKind) -> CollectionItem {
        CollectionItem {
            promissory_number: "PN00000001".into(),
            instalment_number: 1,
            attempt: 1,
            kind,
            stream: crate::domain::promissory::NoteStream::Naedo,
            branch_code: "250655".into(),
            account_number: account.into(),
            account_type: "CURRENT".into(),
            amount: Decimal::from_str("500.00").unwrap(),
            action_date: date!(2026 - 12 - 01),
            attempted_on: date!(2026 - 12 - 01),
            disputable: true,
        }
    }

    fn code(outcome: CollectionOutcome) -> Option<String> {
        match outcome {
            CollectionOutcome::Collected => None,
            CollectionOutcome::Unpaid(a) => Some(a.code),
        }
    }

    #[test]
    fn collection_rules() {
        let sim = Simulator::default();
        let present = |acct: &str, kind| code(sim.present_collection(&item(acct, kind)).unwrap());
        // Collected at first presentment by default.
        assert_eq!(present("62001234567", AttemptKind::First), None);
        // 8 + code: that code at every attempt; unknown or dispute codes do not apply.
        for c in [
            "02", "03", "04", "06", "08", "10", "12", "18", "22", "26", "56",
        ] {
            let acct = format!("6200123458{c}");
            assert_eq!(
                present(&acct, AttemptKind::First).as_deref(),
                Some(c),
                "{acct}"
            );
            assert_eq!(
                present(&acct, AttemptKind::Tracking { day: 5 }).as_deref(),
                Some(c)
            );
            assert_eq!(present(&acct, AttemptKind::Arrears).as_deref(), Some(c));
        }
        let a = sim
            .present_collection(&item("62001234812", AttemptKind::First))
            .unwrap();
        assert_eq!(
            a,
            CollectionOutcome::Unpaid(ReturnAdvice {
                code: "12".into(),
                reason: "ACCOUNT CLOSED".into()
            })
        );
        assert_eq!(present("62001234899", AttemptKind::First), None);
        assert_eq!(present("62001234830", AttemptKind::First), None);
        // 7 + KK: insufficient funds until tracking day KK.
        assert_eq!(
            present("62001234703", AttemptKind::First).as_deref(),
            Some("02")
        );
        assert_eq!(
            present("62001234703", AttemptKind::Tracking { day: 1 }).as_deref(),
            Some("02")
        );
        assert_eq!(
            present("62001234703", AttemptKind::Tracking { day: 2 }).as_deref(),
            Some("02")
        );
        assert_eq!(
            present("62001234703", AttemptKind::Tracking { day: 3 }),
            None
        );
        assert_eq!(present("62001234703", AttemptKind::Arrears), None);
        assert_eq!(present("62001234700", AttemptKind::First), None);
        assert_eq!(present("62001234733", AttemptKind::First), None);
        // The same attempt always gets the same answer.
        let i = item("62001234703", AttemptKind::Tracking { day: 2 });
        assert_eq!(sim.present_collection(&i), sim.present_collection(&i));
        // Rules off.
        let off = Simulator::new(SimulatorRules {
            collect_unpaid_prefix: String::new(),
            collect_track_prefix: String::new(),
            collect_dispute_prefix: String::new(),
            ..SimulatorRules::default()
        });
        for acct in ["62001234812", "62001234703"] {
            assert_eq!(
                code(
                    off.present_collection(&item(acct, AttemptKind::First))
                        .unwrap()
                ),
                None
            );
        }
        assert_eq!(marked("12", "8"), None);
        assert_eq!(marked("812", "8"), Some(12));
        assert_eq!(marked("8x2", "8"), None);
    }

    #[test]
    fn reversal_rule() {
        let sim = Simulator::default();
        let collected = date!(2026 - 12 - 01);
        let i = item("62001234605", AttemptKind::First);
        assert_eq!(
            sim.check_reversal(&i, collected, date!(2026 - 12 - 03))
                .unwrap(),
            ReversalCheck::NotYet {
                check_again_on: Some(date!(2026 - 12 - 06))
            }
        );
        match sim
            .check_reversal(&i, collected, date!(2026 - 12 - 06))
            .unwrap()
        {
            ReversalCheck::Reversed { on, advice } => {
                assert_eq!(on, date!(2026 - 12 - 06));
                assert_eq!(advice.code, "30");
                assert_eq!(advice.reason, "NO AUTHORITY TO DEBIT");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            sim.check_reversal(
                &item("62001234567", AttemptKind::First),
                collected,
                collected
            )
            .unwrap(),
            ReversalCheck::NotYet {
                check_again_on: None
            }
        );
        assert_eq!(
            sim.check_reversal(
                &item("62001234600", AttemptKind::First),
                collected,
                collected
            )
            .unwrap(),
            ReversalCheck::NotYet {
                check_again_on: None
            }
        );
    }

    fn mandate(kind: AuthenticationType, cell: Option<&str>) -> MandateRequest {
        let at = time::macros::datetime!(2026-11-23 10:00 +2);
        MandateRequest {
            promissory_number: "PN00000001".into(),
            authentication_type: kind,
            branch_code: "250655".into(),
            account_number: "62001234567".into(),
            cellphone: cell.map(String::from),
            instalment: Decimal::from_str("500.00").unwrap(),
            maximum: Decimal::from_str("750.00").unwrap(),
            requested_at: at,
            deadline: crate::domain::debicheck::authentication_deadline(kind, at),
        }
    }

    #[test]
    fn mandate_outcomes_follow_the_cellphone_marker() {
        use AuthenticationType::{Tt1Realtime, Tt2, Tt3};
        let sim = Simulator::default();
        let t0 = time::macros::datetime!(2026-11-23 10:00 +2);
        let answer = |kind, cell: Option<&str>, now| {
            sim.mandate_authentication(&mandate(kind, cell), now)
                .unwrap()
        };
        // 99 + 1119: authenticated after 119 s; before then "ask again at".
        assert_eq!(
            answer(Tt1Realtime, Some("0829991119"), t0),
            MandateAnswer::Awaiting {
                ask_again_at: Some(t0 + Duration::seconds(119))
            }
        );
        assert_eq!(
            answer(Tt1Realtime, Some("0829991119"), t0 + Duration::seconds(119)),
            MandateAnswer::Answered {
                at: t0 + Duration::seconds(119),
                authenticated: true,
                channel: AuthenticationChannel::Ussd
            }
        );
        // minutes, hours, decline, silence.
        assert!(matches!(
            answer(Tt2, Some("0829992045"), t0 + Duration::hours(1)),
            MandateAnswer::Answered { at, authenticated: true, channel: AuthenticationChannel::InternetBanking }
                if at == t0 + Duration::minutes(45)
        ));
        assert!(matches!(
            answer(Tt2, Some("0829993030"), t0 + Duration::hours(30)),
            MandateAnswer::Answered {
                authenticated: true,
                ..
            }
        ));
        assert!(matches!(
            answer(Tt1Realtime, Some("0829994030"), t0 + Duration::seconds(30)),
            MandateAnswer::Answered {
                authenticated: false,
                ..
            }
        ));
        assert_eq!(
            answer(Tt2, Some("0829995000"), t0 + Duration::days(5)),
            MandateAnswer::Awaiting { ask_again_at: None }
        );
        // No marker (or no cellphone: the account decides): 60 s.
        assert!(matches!(
            answer(Tt2, None, t0 + Duration::seconds(60)),
            MandateAnswer::Answered {
                authenticated: true,
                ..
            }
        ));
        assert!(matches!(
            answer(Tt2, Some("0821234567"), t0 + Duration::seconds(59)),
            MandateAnswer::Awaiting { .. }
        ));
        // TT3: at once, declined for the decline and silent markers.
        assert_eq!(
            answer(Tt3, Some("0829995000"), t0),
            MandateAnswer::Answered {
                at: t0,
                authenticated: false,
                channel: AuthenticationChannel::CardAndPin
            }
        );
        assert!(matches!(
            answer(Tt3, Some("0821234567"), t0),
            MandateAnswer::Answered {
                authenticated: true,
                ..
            }
        ));
        // 99 + 6NNN: suspended NNN hours after authentication.
        let m = mandate(Tt2, Some("0829996048"));
        let auth = t0 + Duration::seconds(60);
        assert_eq!(
            sim.mandate_suspension(&m, auth, auth).unwrap(),
            SuspensionCheck::NotSuspended {
                ask_again_at: Some(auth + Duration::hours(48))
            }
        );
        assert_eq!(
            sim.mandate_suspension(&m, auth, auth + Duration::hours(48))
                .unwrap(),
            SuspensionCheck::Suspended {
                at: auth + Duration::hours(48)
            }
        );
        assert_eq!(
            sim.mandate_suspension(&mandate(Tt2, Some("0821234567")), auth, auth)
                .unwrap(),
            SuspensionCheck::NotSuspended { ask_again_at: None }
        );
        // Off: an empty prefix approves everything after the default delay.
        let off = Simulator::new(SimulatorRules {
            mandate_prefix: String::new(),
            ..SimulatorRules::default()
        });
        assert!(matches!(
            off.mandate_authentication(
                &mandate(Tt1Realtime, Some("0829994030")),
                t0 + Duration::seconds(60)
            )
            .unwrap(),
            MandateAnswer::Answered {
                authenticated: true,
                ..
            }
        ));
    }

    #[test]
    fn a_dispute_of_a_collection_within_the_mandate_is_declined() {
        let mut collected = item("62001234605", AttemptKind::First);
        collected.disputable = false;
        let on = date!(2026 - 12 - 06);
        assert_eq!(
            Simulator::default()
                .check_reversal(&collected, date!(2026 - 12 - 01), on)
                .unwrap(),
            ReversalCheck::DisputeDeclined {
                on,
                advice: advice(DISPUTE_CODE)
            }
        );
    }
}
