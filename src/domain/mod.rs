//! The business vocabulary: enumerations with their contract spellings, identifier
//! formats, money rules, and the field validators every operation shares. Nothing here
//! knows XML, HTTP or SQL.

pub mod calendar;
pub mod cdv;
pub mod collection;
pub mod mask;
pub mod result;
pub mod validate;

pub use result::{Refusal, ResultCode};

use rust_decimal::Decimal;

macro_rules! contract_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in contract order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The contract spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses the contract spelling (exact, upper case).
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod payouts;

contract_enum!(
    /// How often an employer pays its employees.
    PayFrequency {
        /// Once a month.
        Monthly => "MONTHLY",
        /// Every second week.
        Fortnightly => "FORTNIGHTLY",
        /// Every week.
        Weekly => "WEEKLY",
    }
);

contract_enum!(
    /// The kind of identity document a client's IdNumber belongs to.
    IdType {
        /// A South African identity number.
        SaId => "SA_ID",
        /// A passport number.
        Passport => "PASSPORT",
    }
);

contract_enum!(
    /// A client's gender as the ID number encodes it.
    Gender {
        /// Male.
        Male => "M",
        /// Female.
        Female => "F",
    }
);

contract_enum!(
    /// The payment terminal an integration user works with.
    TerminalType {
        /// No terminal.
        None => "NONE",
        /// A GPRS terminal.
        Gprs => "GPRS",
        /// A USB terminal.
        Usb => "USB",
        /// A USB terminal with a signature pad.
        UsbSignaturePad => "USB_SIGNATURE_PAD",
    }
);

// Declared after `contract_enum!` so the module can use it.
pub mod promissory;

pub mod debicheck;

/// The Allps client number for a client row: `AC` and eight digits.
pub fn allps_client_number(client_id: i64) -> String {
    format!("AC{client_id:08}")
}

/// Checks a money amount: positive and at most two decimals. Returns it at scale 2.
///
/// # Errors
///
/// `AMOUNT_NOT_POSITIVE` or `AMOUNT_PRECISION`, naming `field`.
pub fn check_amount(field: &'static str, amount: Decimal) -> Result<Decimal, Refusal> {
    if amount <= Decimal::ZERO {
        return Err(Refusal::field(
            ResultCode::AmountNotPositive,
            field,
            format!("{field} must be greater than zero"),
        ));
    }
    money_scale(field, amount)
}

/// Checks that an amount has at most two decimals and returns it at scale 2.
///
/// # Errors
///
/// `AMOUNT_PRECISION`, naming `field`.
pub fn money_scale(field: &'static str, amount: Decimal) -> Result<Decimal, Refusal> {
    let normalised = amount.normalize();
    if normalised.scale() > 2 {
        return Err(Refusal::field(
            ResultCode::AmountPrecision,
            field,
            format!("{field} may have at most two decimals"),
        ));
    }
    let mut at_two = normalised;
    at_two.rescale(2);
    Ok(at_two)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(
            check_amount("Amount", d("10")).unwrap().to_string(),
            "10.00"
        );
        assert_eq!(
            check_amount("Amount", d("10.500")).unwrap().to_string(),
            "10.50"
        );
        assert_eq!(
            check_amount("Amount", d("0.00")).unwrap_err().code,
            ResultCode::AmountNotPositive
        );
        assert_eq!(
            check_amount("Amount", d("-1")).unwrap_err().code,
            ResultCode::AmountNotPositive
        );
        assert_eq!(
            check_amount("Amount", d("1.005")).unwrap_err().code,
            ResultCode::AmountPrecision
        );
    }

    #[test]
    fn enums_round_trip() {
        for t in TerminalType::ALL {
            assert_eq!(TerminalType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(IdType::parse("sa_id"), None);
        assert_eq!(allps_client_number(42), "AC00000042");
    }
}
