//! The lender's details (the organisation a branch belongs to) as printed on every
//! document, and the operator change that records them (`admin org details`).

use crate::store::sql::{OptionalExtension, params};

use crate::store::admin::{AdminError, organisation_id};
use crate::store::{DbError, Tx};

/// What a document says about the lender.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lender {
    /// The organisation's display (trading) name.
    pub name: String,
    /// The branch's name.
    pub branch_name: String,
    /// The registered (legal) name, if recorded.
    pub legal_name: Option<String>,
    /// The National Credit Regulator registration number (e.g. `NCRCP1234`), if recorded.
    pub ncr_number: Option<String>,
    /// Postal or street address, if recorded.
    pub address: Option<String>,
    /// Telephone number, if recorded.
    pub phone: Option<String>,
    /// E-mail address, if recorded.
    pub email: Option<String>,
    /// The name a debit order shows on the payer's bank statement, if recorded.
    pub statement_name: Option<String>,
}

/// The details an operator records; `None` leaves a value as it is, an empty string
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LenderDetails {
    /// Registered (legal) name.
    pub legal_name: Option<String>,
    /// NCR registration number.
    pub ncr_number: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Bank-statement name of the debit.
    pub statement_name: Option<String>,
}

/// The lender of a branch row.
///
/// # Errors
///
/// SQLite, or no such branch.
pub fn for_branch(tx: &Tx<'_>, branch_id: i64) -> Result<Lender, DbError> {
    tx.conn
        .prepare_cached(
            "SELECT o.name, b.name, o.legal_name, o.ncr_number, o.address, o.phone, o.email,
                    o.statement_name
             FROM branches b JOIN organisations o ON o.id = b.organisation_id WHERE b.id = ?1",
        )?
        .query_row(params![branch_id], |r| {
            Ok(Lender {
                name: r.get(0)?,
                branch_name: r.get(1)?,
                legal_name: r.get(2)?,
                ncr_number: r.get(3)?,
                address: r.get(4)?,
                phone: r.get(5)?,
                email: r.get(6)?,
                statement_name: r.get(7)?,
            })
        })
        .map_err(DbError::from)
}

/// Records an organisation's details: each given value replaces the stored one (an
/// empty value clears it).
///
/// # Errors
///
/// Unknown organisation, or SQLite.
pub fn set_details(tx: &Tx<'_>, org: &str, details: &LenderDetails) -> Result<(), AdminError> {
    let id = organisation_id(tx, org)?;
    for (column, value) in [
        ("legal_name", &details.legal_name),
        ("ncr_number", &details.ncr_number),
        ("address", &details.address),
        ("phone", &details.phone),
        ("email", &details.email),
        ("statement_name", &details.statement_name),
    ] {
        if let Some(value) = value {
            let value = Some(value.trim()).filter(|v| !v.is_empty());
            // The column name comes from the fixed list above, never from input.
            tx.conn.execute(
                &format!("UPDATE organisations SET {column} = ?1 WHERE id = ?2"),
                params![value, id],
            )?;
        }
    }
    Ok(())
}

/// An organisation's recorded details, by code.
///
/// # Errors
///
/// Unknown organisation, or SQLite.
pub fn details(tx: &Tx<'_>, org: &str) -> Result<LenderDetails, AdminError> {
    let id = organisation_id(tx, org)?;
    tx.conn
        .query_row(
            "SELECT legal_name, ncr_number, address, phone, email, statement_name
             FROM organisations WHERE id = ?1",
            [id],
            |r| {
                Ok(LenderDetails {
                    legal_name: r.get(0)?,
                    ncr_number: r.get(1)?,
                    address: r.get(2)?,
                    phone: r.get(3)?,
                    email: r.get(4)?,
                    statement_name: r.get(5)?,
                })
            },
        )
        .optional()?
        .ok_or_else(|| AdminError::NotFound(format!("organisation {org}")))
}
