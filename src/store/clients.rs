//! The `clients` table: the one client row every operation and the processor read, the
//! lookups by ClientNumber and by identity document, and the insert.

use crate::store::sql::{OptionalExtension, Row, params};
use time::OffsetDateTime;

use crate::clock::format_timestamp;
use crate::domain::{Gender, IdType};
use crate::store::counters::{self, Kind, Numbered};
use crate::store::{DbError, Tx, conversion, text_ref};

/// A client with its employer's code and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    /// Row id.
    pub id: i64,
    /// The number in the organisation (the AllpsClientNumber's digits).
    pub number: i64,
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
    /// The kind of identity document.
    pub id_type: IdType,
    /// The ID or passport number.
    pub id_number: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// As the ID number encodes it.
    pub gender: Gender,
    /// Normalised cellphone (`0821234567`), if given.
    pub cellphone: Option<String>,
    /// The employee number at the employer, if given.
    pub employee_number: Option<String>,
    /// E-mail address, if given.
    pub email: Option<String>,
    /// The employer's code.
    pub employer_code: String,
    /// The employer's name.
    pub employer_name: String,
}

fn client_row(r: &Row<'_>) -> crate::store::sql::Result<ClientRow> {
    let id_type = text_ref(r, 7)?;
    let gender = text_ref(r, 10)?;
    Ok(ClientRow {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        employer_id: r.get(2)?,
        client_number: r.get(3)?,
        first_name: r.get(4)?,
        surname: r.get(5)?,
        initials: r.get(6)?,
        id_type: IdType::parse(id_type).ok_or_else(|| conversion(7, "id_type", id_type))?,
        id_number: r.get(8)?,
        date_of_birth: r.get(9)?,
        gender: Gender::parse(gender).ok_or_else(|| conversion(10, "gender", gender))?,
        cellphone: r.get(11)?,
        employee_number: r.get(12)?,
        email: r.get(13)?,
        employer_code: r.get(14)?,
        employer_name: r.get(15)?,
        number: r.get(16)?,
    })
}

macro_rules! client_select {
    ($where:literal) => {
        concat!(
            "SELECT c.id, c.branch_id, c.employer_id, c.client_number, c.first_name, c.surname, c.initials,
        c.id_type, c.id_number, c.date_of_birth, c.gender, c.cellphone, c.employee_number, c.email,
        e.employer_code, e.employer_name, c.number
 FROM clients c JOIN employers e ON e.id = c.employer_id ",
            $where
        )
    };
}

/// Finds a client of a branch by ClientNumber.
///
/// # Errors
///
/// SQLite.
pub fn find_client(
    tx: &Tx<'_>,
    branch_id: i64,
    client_number: &str,
) -> Result<Option<ClientRow>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(client_select!(
            "WHERE c.branch_id = ?1 AND c.client_number = ?2"
        ))?
        .query_row(params![branch_id, client_number], client_row)
        .optional()?)
}

/// The client with this row id.
///
/// # Errors
///
/// SQLite.
pub fn client(tx: &Tx<'_>, client_id: i64) -> Result<Option<ClientRow>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(client_select!("WHERE c.id = ?1"))?
        .query_row(params![client_id], client_row)
        .optional()?)
}

/// The ClientNumber of the branch's client registered with this identity document.
///
/// # Errors
///
/// SQLite.
pub fn number_with_id(
    tx: &Tx<'_>,
    branch_id: i64,
    id_type: IdType,
    id_number: &str,
) -> Result<Option<String>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(
            "SELECT client_number FROM clients WHERE branch_id = ?1 AND id_type = ?2 AND id_number = ?3",
        )?
        .query_row(params![branch_id, id_type.as_str(), id_number], |r| {
            r.get(0)
        })
        .optional()?)
}

/// A client to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    /// The employer row id.
    pub employer_id: i64,
    /// First name(s).
    pub first_name: String,
    /// Surname.
    pub surname: String,
    /// Initials, if given.
    pub initials: Option<String>,
    /// The kind of identity document.
    pub id_type: IdType,
    /// The ID or passport number.
    pub id_number: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// As the ID number encodes it.
    pub gender: Gender,
    /// Normalised cellphone, if given.
    pub cellphone: Option<String>,
    /// The employee number at the employer, if given.
    pub employee_number: Option<String>,
    /// E-mail address, if given.
    pub email: Option<String>,
}

impl NewClient {
    /// Whether a stored client carries exactly these details.
    pub fn matches(&self, stored: &ClientRow) -> bool {
        stored.employer_id == self.employer_id
            && stored.first_name == self.first_name
            && stored.surname == self.surname
            && stored.initials == self.initials
            && stored.id_type == self.id_type
            && stored.id_number == self.id_number
            && stored.date_of_birth == self.date_of_birth
            && stored.gender == self.gender
            && stored.cellphone == self.cellphone
            && stored.employee_number == self.employee_number
            && stored.email == self.email
    }
}

/// Stores a new client of a branch with the next client number of its organisation;
/// returns its row id and number.
///
/// # Errors
///
/// SQLite (a UNIQUE violation for a ClientNumber or document already in the branch).
pub fn insert_client(
    tx: &Tx<'_>,
    branch_id: i64,
    client_number: &str,
    client: &NewClient,
    created_by: i64,
    now: OffsetDateTime,
) -> Result<Numbered, DbError> {
    let (org_id, number) = counters::allocate_for_branch(tx, branch_id, Kind::Client, 1)?;
    tx.conn
        .prepare_cached(
            "INSERT INTO clients (branch_id, employer_id, client_number, first_name, surname, initials, id_type,
                                  id_number, date_of_birth, gender, cellphone, employee_number, email,
                                  created_by, created_at, organisation_id, number)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?
        .execute(params![
            branch_id,
            client.employer_id,
            client_number,
            client.first_name,
            client.surname,
            client.initials,
            client.id_type.as_str(),
            client.id_number,
            client.date_of_birth,
            client.gender.as_str(),
            client.cellphone,
            client.employee_number,
            client.email,
            created_by,
            format_timestamp(now),
            org_id,
            number
        ])?;
    Ok(Numbered {
        id: tx.conn.last_insert_rowid()?,
        number,
    })
}
