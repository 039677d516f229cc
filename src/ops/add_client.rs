//! `AddClient`: registers a client (borrower) under an existing employer of the branch.
//! ClientNumber is the idempotency key: an identical repeat returns the same
//! AllpsClientNumber; the same number with other details is refused. SA ID numbers are
//! fully checked and must agree with DateOfBirth and Gender; passports by shape only.
//! Names must print exactly on the documents the client signs (`documents::prints_exactly`).

use time::Date;

use super::wire::{Fields, spellings};
use super::{Ctx, OpError, Operation};
use crate::clock::format_date;
use crate::documents::prints_exactly;
use crate::domain::validate;
use crate::domain::{Gender, IdType, Refusal, ResultCode, allps_client_number};
use crate::store::clients::{self, NewClient};
use crate::store::employers;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `AddClient` operation.
pub struct AddClient;

/// A decoded `AddClient` request.
#[derive(Debug)]
pub struct AddClientRequest {
    client_number: String,
    employer_code: String,
    first_name: String,
    surname: String,
    id_type: IdType,
    id_number: String,
    date_of_birth: Date,
    gender: Gender,
    initials: Option<String>,
    cellphone_number: Option<String>,
    employee_number: Option<String>,
    email: Option<String>,
}

/// The client's Allps number.
#[derive(Debug)]
pub struct AddClientResponse {
    allps_client_number: String,
}

impl Operation for AddClient {
    const NAME: &'static str = "AddClient";
    const WRITES: bool = true;
    type Request = AddClientRequest;
    type Response = AddClientResponse;

    fn decode(element: &Element) -> Result<AddClientRequest, ServiceError> {
        let f = Fields::new(
            element,
            &[
                ("ClientNumber", 1),
                ("EmployerCode", 1),
                ("FirstName", 1),
                ("Surname", 1),
                ("IdType", 1),
                ("IdNumber", 1),
                ("DateOfBirth", 1),
                ("Gender", 1),
                ("Initials", 1),
                ("CellphoneNumber", 1),
                ("EmployeeNumber", 1),
                ("Email", 1),
            ],
        )?;
        Ok(AddClientRequest {
            client_number: f.required_text("ClientNumber")?,
            employer_code: f.required_text("EmployerCode")?,
            first_name: f.required_text("FirstName")?,
            surname: f.required_text("Surname")?,
            id_type: f.required_enumeration(
                "IdType",
                IdType::parse,
                &spellings(IdType::ALL, IdType::as_str),
            )?,
            id_number: f.required_text("IdNumber")?,
            date_of_birth: f.required_date("DateOfBirth")?,
            gender: f.required_enumeration(
                "Gender",
                Gender::parse,
                &spellings(Gender::ALL, Gender::as_str),
            )?,
            initials: f.text("Initials")?,
            cellphone_number: f.text("CellphoneNumber")?,
            employee_number: f.text("EmployeeNumber")?,
            email: f.text("Email")?,
        })
    }

    fn handle(ctx: &Ctx<'_>, req: AddClientRequest) -> Result<AddClientResponse, OpError> {
        let client_number = validate::alphanumeric("ClientNumber", &req.client_number, 20)?;
        let employer_code = validate::code("EmployerCode", &req.employer_code, 20)?;
        let first_name = validate::person_name("FirstName", &req.first_name, 30)?;
        let surname = validate::person_name("Surname", &req.surname, 30)?;
        for (field, name) in [("FirstName", &first_name), ("Surname", &surname)] {
            if !prints_exactly(name) {
                return Err(Refusal::field(
                    ResultCode::NameInvalid,
                    field,
                    format!(
                        "{field} holds letters the printed documents cannot show exactly (Latin, Greek and Cyrillic letters print)"
                    ),
                )
                .into());
            }
        }
        let initials = match req
            .initials
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(given) => {
                let cleaned: String = given.chars().filter(|c| !matches!(c, ' ' | '.')).collect();
                if cleaned.chars().count() > 7 {
                    return Err(Refusal::field(
                        ResultCode::FieldTooLong,
                        "Initials",
                        "Initials may be at most 7 letters",
                    )
                    .into());
                }
                if cleaned.is_empty() || !cleaned.chars().all(char::is_alphabetic) {
                    return Err(Refusal::field(
                        ResultCode::NameInvalid,
                        "Initials",
                        "Initials may hold only letters",
                    )
                    .into());
                }
                Some(cleaned.to_uppercase())
            }
            None => None,
        };
        let today = ctx.today();
        if req.date_of_birth > today {
            return Err(Refusal::field(
                ResultCode::DateOfBirthInvalid,
                "DateOfBirth",
                "DateOfBirth is in the future",
            )
            .into());
        }
        if today.year() - req.date_of_birth.year() > 130 {
            return Err(Refusal::field(
                ResultCode::DateOfBirthInvalid,
                "DateOfBirth",
                "DateOfBirth is more than 130 years ago",
            )
            .into());
        }
        let id_number = match req.id_type {
            IdType::SaId => {
                let id = validate::sa_id_number("IdNumber", &req.id_number)?;
                if !id.matches_birth_date(req.date_of_birth) {
                    return Err(Refusal::field(
                        ResultCode::DateOfBirthMismatch,
                        "DateOfBirth",
                        "DateOfBirth does not agree with the date in the SA ID number",
                    )
                    .into());
                }
                if id.gender != req.gender {
                    return Err(Refusal::field(
                        ResultCode::GenderMismatch,
                        "Gender",
                        format!(
                            "Gender {} does not agree with the SA ID number, which encodes {}",
                            req.gender, id.gender
                        ),
                    )
                    .into());
                }
                req.id_number.trim().to_string()
            }
            IdType::Passport => validate::passport_number("IdNumber", &req.id_number)?,
        };
        let cellphone = match req
            .cellphone_number
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(c) => Some(validate::cellphone("CellphoneNumber", c)?),
            None => None,
        };
        let employee_number =
            validate::optional("EmployeeNumber", req.employee_number.as_deref(), 20)?;
        let email = match req
            .email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(e) => Some(validate::email("Email", e, 100)?),
            None => None,
        };

        let employer_id = employers::employer_id(ctx.tx, ctx.principal.branch_id, &employer_code)?
            .ok_or_else(|| {
                Refusal::field(
                    ResultCode::EmployerNotFound,
                    "EmployerCode",
                    format!("employer {employer_code} does not exist in branch {}; add it with AddEmployer first", ctx.principal.branch_code),
                )
            })?;

        let details = NewClient {
            employer_id,
            first_name,
            surname,
            initials,
            id_type: req.id_type,
            id_number,
            date_of_birth: format_date(req.date_of_birth),
            gender: req.gender,
            cellphone,
            employee_number,
            email,
        };

        let existing = clients::find_client(ctx.tx, ctx.principal.branch_id, &client_number)?;
        if let Some(stored) = existing {
            if details.matches(&stored) {
                return Ok(AddClientResponse {
                    allps_client_number: allps_client_number(stored.number),
                });
            }
            return Err(Refusal::field(
                ResultCode::ClientNumberConflict,
                "ClientNumber",
                format!(
                    "client {client_number} already exists in branch {} with other details",
                    ctx.principal.branch_code
                ),
            )
            .into());
        }

        let id_in_use = clients::number_with_id(
            ctx.tx,
            ctx.principal.branch_id,
            details.id_type,
            &details.id_number,
        )?;
        if let Some(other) = id_in_use {
            return Err(Refusal::field(
                ResultCode::IdNumberInUse,
                "IdNumber",
                format!("the ID number is already registered in this branch as client {other}"),
            )
            .into());
        }

        let client = clients::insert_client(
            ctx.tx,
            ctx.principal.branch_id,
            &client_number,
            &details,
            ctx.principal.user_id,
            ctx.now,
        )?;
        tracing::debug!(
            client_number = %client_number,
            id_number = %crate::domain::mask::id_number(&details.id_number),
            "client added"
        );
        Ok(AddClientResponse {
            allps_client_number: allps_client_number(client.number),
        })
    }

    fn encode(response: &AddClientResponse, w: &mut XmlWriter) {
        w.leaf("AllpsClientNumber", &response.allps_client_number);
    }
}
