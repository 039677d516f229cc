//! Client lookups shared by every operation that starts from a ClientNumber.

use rusqlite::{Connection, OptionalExtension, params};

/// A client row, as the prerequisite checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    /// Row id.
    pub id: i64,
    /// The branch the client belongs to.
    pub branch_id: i64,
    /// The employer row id.
    pub employer_id: i64,
    /// The lender's client number.
    pub client_number: String,
    /// First name(s).
    pub first_name: String,
    /// Surname.
    pub surname: String,
    /// Initials, if given.
    pub initials: Option<String>,
    /// `SA_ID` or `PASSPORT`.
    pub id_type: String,
    /// The ID or passport number.
    pub id_number: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// `M` or `F`.
    pub gender: String,
    /// Normalised cellphone (`0821234567`), if given.
    pub cellphone: Option<String>,
    /// The employer's code.
    pub employer_code: String,
    /// The employer's name.
    pub employer_name: String,
}

/// Finds a client of a branch by ClientNumber.
///
/// # Errors
///
/// SQLite.
pub fn find_client(
    conn: &Connection,
    branch_id: i64,
    client_number: &str,
) -> rusqlite::Result<Option<ClientRow>> {
    conn.prepare_cached(
        "SELECT c.id, c.branch_id, c.employer_id, c.client_number, c.first_name, c.surname, c.initials,
                c.id_type, c.id_number, c.date_of_birth, c.gender, c.cellphone, e.employer_code, e.employer_name
         FROM clients c JOIN employers e ON e.id = c.employer_id
         WHERE c.branch_id = ?1 AND c.client_number = ?2",
    )?
    .query_row(params![branch_id, client_number], |r| {
        Ok(ClientRow {
            id: r.get(0)?,
            branch_id: r.get(1)?,
            employer_id: r.get(2)?,
            client_number: r.get(3)?,
            first_name: r.get(4)?,
            surname: r.get(5)?,
            initials: r.get(6)?,
            id_type: r.get(7)?,
            id_number: r.get(8)?,
            date_of_birth: r.get(9)?,
            gender: r.get(10)?,
            cellphone: r.get(11)?,
            employer_code: r.get(12)?,
            employer_name: r.get(13)?,
        })
    })
    .optional()
}
