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

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{
    CreditInstruction, DeliveryOutcome, Gateway, GatewayUnavailable, ReturnAdvice, WalletOutcome,
    WalletRequest,
};
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
}

impl Default for SimulatorRules {
    fn default() -> Self {
        SimulatorRules {
            return_account_suffix: "99".into(),
            reject_cents: 13,
            wallet_fail_suffix: "0000".into(),
            wallet_retry_suffix: "1111".into(),
            wallet_retry_failures: 2,
        }
    }
}

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
            wallet_number: wallet_number(request.request_id),
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use time::macros::date;

    fn wallet(cell: &str, attempt: u32) -> WalletRequest {
        WalletRequest {
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
                wallet_number: "W0000000007".into()
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
}
