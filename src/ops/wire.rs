//! Decoding a request wrapper element into typed fields, by namespace URI and local
//! name. Structural problems (unknown, repeated or missing elements, values that are not
//! of their XSD type or enumeration) are `SCHEMA_VIOLATION` faults; value rules are left
//! to the handlers, which answer them with Result codes.

use std::str::FromStr;

use rust_decimal::Decimal;
use time::Date;

use crate::clock::parse_date;
use crate::wire::fault::ServiceError;
use crate::wire::soap::TNS;
use crate::wire::xml::Element;

/// The children of one request element, checked against the names it may hold.
#[derive(Debug)]
pub struct Fields<'a> {
    parent: &'a str,
    children: Vec<&'a Element>,
}

impl<'a> Fields<'a> {
    /// Checks that every child of `element` is in the service namespace, is one of
    /// `allowed` (name, most occurrences), and occurs no more often than allowed.
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` naming the offending element.
    pub fn new(element: &'a Element, allowed: &[(&str, usize)]) -> Result<Self, ServiceError> {
        let parent = element.name.as_str();
        if !element.text.trim().is_empty() {
            return Err(ServiceError::schema(format!(
                "{parent} holds text outside its elements"
            )));
        }
        let mut counts = vec![0usize; allowed.len()];
        for child in &element.children {
            if child.ns.as_deref() != Some(TNS) {
                return Err(ServiceError::schema(format!(
                    "element {} in {parent} is not in namespace {TNS}",
                    child.qualified_name()
                )));
            }
            let Some(index) = allowed.iter().position(|(n, _)| *n == child.name) else {
                return Err(ServiceError::schema(format!(
                    "unexpected element {} in {parent}",
                    child.name
                )));
            };
            counts[index] += 1;
            if counts[index] > allowed[index].1 {
                return Err(ServiceError::schema(format!(
                    "element {} occurs more than {} time(s) in {parent}",
                    child.name, allowed[index].1
                )));
            }
        }
        Ok(Fields {
            parent,
            children: element.children.iter().collect(),
        })
    }

    /// The element named `name`, unless absent or `xsi:nil`.
    pub fn element(&self, name: &str) -> Option<&'a Element> {
        self.children
            .iter()
            .copied()
            .find(|c| c.name == name && !c.is_nil())
    }

    /// Every element named `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&'a Element> {
        self.children
            .iter()
            .copied()
            .filter(|c| c.name == name && !c.is_nil())
            .collect()
    }

    fn simple(&self, name: &str) -> Result<Option<&'a str>, ServiceError> {
        match self.element(name) {
            None => Ok(None),
            Some(el) if !el.children.is_empty() => Err(ServiceError::schema(format!(
                "element {name} in {} must hold text, not elements",
                self.parent
            ))),
            Some(el) => Ok(Some(el.text.as_str())),
        }
    }

    /// An optional xs:string.
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if the element holds elements.
    pub fn text(&self, name: &str) -> Result<Option<String>, ServiceError> {
        Ok(self.simple(name)?.map(str::to_string))
    }

    /// A required xs:string (it may still be blank; handlers refuse that with a code).
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if absent.
    pub fn required_text(&self, name: &str) -> Result<String, ServiceError> {
        self.text(name)?.ok_or_else(|| self.missing(name))
    }

    fn missing(&self, name: &str) -> ServiceError {
        ServiceError::schema(format!(
            "required element {name} is missing from {}",
            self.parent
        ))
    }

    /// An optional xs:date.
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if not a date.
    pub fn date(&self, name: &str) -> Result<Option<Date>, ServiceError> {
        match self.simple(name)? {
            None => Ok(None),
            Some(t) => parse_date(t).map(Some).ok_or_else(|| {
                ServiceError::schema(format!(
                    "element {name} must be an xs:date (YYYY-MM-DD), got '{}'",
                    clip(t)
                ))
            }),
        }
    }

    /// A required xs:date.
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if absent or not a date.
    pub fn required_date(&self, name: &str) -> Result<Date, ServiceError> {
        self.date(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional xs:decimal (any precision; handlers check money rules).
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if not a decimal.
    pub fn decimal(&self, name: &str) -> Result<Option<Decimal>, ServiceError> {
        match self.simple(name)? {
            None => Ok(None),
            Some(t) => parse_decimal(t.trim()).map(Some).ok_or_else(|| {
                ServiceError::schema(format!(
                    "element {name} must be an xs:decimal, got '{}'",
                    clip(t)
                ))
            }),
        }
    }

    /// A required xs:decimal.
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if absent or not a decimal.
    pub fn required_decimal(&self, name: &str) -> Result<Decimal, ServiceError> {
        self.decimal(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional integer (xs:int / xs:long).
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if not an integer.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ServiceError> {
        match self.simple(name)? {
            None => Ok(None),
            Some(t) => {
                let v = t.trim();
                let v = v.strip_prefix('+').unwrap_or(v);
                v.parse::<i64>().map(Some).map_err(|_| {
                    ServiceError::schema(format!(
                        "element {name} must be an integer, got '{}'",
                        clip(t)
                    ))
                })
            }
        }
    }

    /// A required integer.
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if absent or not an integer.
    pub fn required_integer(&self, name: &str) -> Result<i64, ServiceError> {
        self.integer(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional xs:boolean (`true`, `false`, `1`, `0`).
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if not a boolean.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ServiceError> {
        match self.simple(name)?.map(str::trim) {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(t) => Err(ServiceError::schema(format!(
                "element {name} must be an xs:boolean, got '{}'",
                clip(t)
            ))),
        }
    }

    /// A required xs:boolean.
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if absent or not a boolean.
    pub fn required_boolean(&self, name: &str) -> Result<bool, ServiceError> {
        self.boolean(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional enumeration value, parsed by `parse`; `allowed` lists the spellings for
    /// the message.
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if not one of the values.
    pub fn enumeration<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &[&str],
    ) -> Result<Option<T>, ServiceError> {
        match self.simple(name)? {
            None => Ok(None),
            Some(t) => parse(t.trim()).map(Some).ok_or_else(|| {
                ServiceError::schema(format!(
                    "element {name} must be one of {}, got '{}'",
                    allowed.join(", "),
                    clip(t)
                ))
            }),
        }
    }

    /// A required enumeration value.
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` if absent or not one of the values.
    pub fn required_enumeration<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &[&str],
    ) -> Result<T, ServiceError> {
        self.enumeration(name, parse, allowed)?
            .ok_or_else(|| self.missing(name))
    }
}

/// Parses the xs:decimal lexical form (no exponent, optional sign, optional fraction)
/// without ever rounding a fraction away: a value `Decimal` holds exactly is returned
/// as is; one with more fraction digits than it can hold becomes the nearest value
/// that still has more than two decimals (so the money rules refuse it with
/// `AMOUNT_PRECISION` rather than storing a rounded amount); `None` when the integer
/// part alone does not fit.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let valid = !body.is_empty()
        && body != "."
        && body.chars().all(|c| c.is_ascii_digit() || c == '.')
        && body.chars().filter(|&c| c == '.').count() <= 1;
    if !valid {
        return None;
    }
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = match int.trim_start_matches('0') {
        "" => "0",
        digits => digits,
    };
    let sign = if negative { "-" } else { "" };
    let exact_in = |frac: &str, digits: usize| -> Option<Decimal> {
        let candidate = if digits == 0 {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{}", &frac[..digits])
        };
        let value = Decimal::from_str(&candidate).ok()?;
        // Decimal rounds silently past its precision: keep only what it holds exactly.
        (value.scale() as usize == digits
            && value.abs().to_string() == candidate.trim_start_matches('-'))
        .then_some(value)
    };
    // As written (keeping the scale, e.g. 10.50), then without trailing zeros.
    if let Some(value) = exact_in(frac, frac.len()) {
        return Some(value);
    }
    let frac = frac.trim_end_matches('0');
    let exact = |digits: usize| exact_in(frac, digits);
    if let Some(value) = exact(frac.len()) {
        return Some(value);
    }
    if frac.len() <= 2 {
        return None;
    }
    // More decimals than Decimal holds: the longest exact prefix of the fraction, kept
    // visibly longer than two decimals.
    (3..frac.len().min(29))
        .rev()
        .find_map(exact)
        .map(|mut value| {
            if value.normalize().scale() <= 2 {
                let ulp = Decimal::new(1, value.scale());
                value = if negative { value - ulp } else { value + ulp };
            }
            value
        })
}

fn clip(text: &str) -> String {
    let t = text.trim();
    if t.chars().count() > 40 {
        format!("{}…", t.chars().take(40).collect::<String>())
    } else {
        t.to_string()
    }
}

/// Spellings of a contract enumeration, for messages.
pub fn spellings<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| as_str(*v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::xml::{XmlLimits, parse};

    fn el(body: &str) -> Element {
        parse(
            format!(r#"<Op xmlns="urn:allps:ws:v1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{body}</Op>"#)
                .as_bytes(),
            &XmlLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn typed_fields() {
        let e = el("<A>x</A><D>2026-01-31</D><M>10.50</M><N>+7</N><B>1</B><Z xsi:nil=\"true\"/>");
        let f = Fields::new(
            &e,
            &[("A", 1), ("D", 1), ("M", 1), ("N", 1), ("B", 1), ("Z", 1)],
        )
        .unwrap();
        assert_eq!(f.required_text("A").unwrap(), "x");
        assert_eq!(f.required_date("D").unwrap().day(), 31);
        assert_eq!(f.required_decimal("M").unwrap().to_string(), "10.50");
        assert_eq!(f.required_integer("N").unwrap(), 7);
        assert!(f.required_boolean("B").unwrap());
        assert_eq!(f.text("Z").unwrap(), None);
        assert!(f.required_text("Z").is_err());
    }

    #[test]
    fn structural_violations() {
        let e = el("<A>x</A><A>y</A>");
        assert!(Fields::new(&e, &[("A", 1)]).is_err());
        assert!(Fields::new(&e, &[("A", 2)]).is_ok());
        let e = el("<Q>x</Q>");
        assert!(Fields::new(&e, &[("A", 1)]).is_err());
        let e = parse(
            br#"<Op xmlns="urn:allps:ws:v1"><A xmlns="">x</A></Op>"#,
            &XmlLimits::default(),
        )
        .unwrap();
        assert!(Fields::new(&e, &[("A", 1)]).is_err());
        let e = el("<M>1e3</M><D>31/01/2026</D>");
        let f = Fields::new(&e, &[("M", 1), ("D", 1)]).unwrap();
        assert!(f.decimal("M").is_err());
        assert!(f.date("D").is_err());
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("-0.5").unwrap().to_string(), "-0.5");
        assert_eq!(parse_decimal(".5").unwrap().to_string(), "0.5");
        assert!(parse_decimal("1.2.3").is_none());
        // Never rounded: more decimals than Decimal holds stay more than two decimals.
        for text in [
            "10.009999999999999999999999999999",
            "10.00000000000000000000000000000000001",
            "0.0000000000000000000000000000001",
            "-10.009999999999999999999999999999",
            "79228162514264.123456789012345678901234567890",
        ] {
            let value = parse_decimal(text).expect(text);
            assert!(value.normalize().scale() > 2, "{text} became {value}");
        }
        assert_eq!(parse_decimal("0010.5000").unwrap().to_string(), "10.5000");
        assert_eq!(parse_decimal("+3").unwrap().to_string(), "3");
        assert_eq!(parse_decimal("-0.50").unwrap().to_string(), "-0.50");
        assert!(parse_decimal("99999999999999999999999999999999.5").is_none());
        assert!(parse_decimal("NaN").is_none());
        assert!(parse_decimal("").is_none());
    }
}
