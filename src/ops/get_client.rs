//! `GetClient`: one client of the branch with its accounts (wallet included) and its
//! promissory notes.

use super::shared::promissory::write_totals;
use super::wire::Fields;
use super::{Ctx, OpError, Operation};
use crate::domain::cdv::AccountType;
use crate::domain::promissory::{NoteStatus, NoteStream, promissory_number};
use crate::domain::{Refusal, ResultCode, allps_client_number};
use crate::store::accounts::AccountRow;
use crate::store::accounts::accounts_of_client;
use crate::store::clients::{ClientRow, find_client};
use crate::domain::collection::NoteTotals;
use crate::store::collections;
use crate::store::promissory::notes_of_client;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `GetClient` operation.
pub struct GetClient;

/// A decoded `GetClient` request.
#[derive(Debug)]
pub struct GetClientRequest {
    client_number: String,
}

/// The client, its accounts and its notes.
#[derive(Debug)]
pub struct GetClientResponse {
    client: ClientRow,
    accounts: Vec<AccountRow>,
    /// The client's notes, oldest first: number, stream, effective status.
    promissories: Vec<(String, NoteStream, NoteStatus, NoteTotals)>,
}

impl Operation for GetClient {
    const NAME: &'static str = "GetClient";
    const WRITES: bool = false;
    type Request = GetClientRequest;
    type Response = GetClientResponse;

    fn decode(element: &Element) -> Result<GetClientRequest, ServiceError> {
        let f = Fields::new(element, &[("ClientNumber", 1)])?;
        Ok(GetClientRequest {
            client_number: f.required_text("ClientNumber")?,
        })
    }

    fn handle(ctx: &Ctx<'_>, req: GetClientRequest) -> Result<GetClientResponse, OpError> {
        let number = crate::domain::validate::required("ClientNumber", &req.client_number, 20)?;
        let number = number.as_str();
        let client = find_client(ctx.tx, ctx.principal.branch_id, number)?.ok_or_else(|| {
            Refusal::field(
                ResultCode::ClientNotFound,
                "ClientNumber",
                format!(
                    "client {number} does not exist in branch {}",
                    ctx.principal.branch_code
                ),
            )
        })?;
        let accounts = accounts_of_client(ctx.tx, client.id)?;
        let delay = ctx.app.config.promissory.registration_delay;
        let mut promissories = Vec::new();
        for n in notes_of_client(ctx.tx, client.id)? {
            let totals = collections::totals_of(ctx.tx, n.id)?;
            promissories.push((
                promissory_number(n.number),
                n.stream,
                n.status_at(ctx.now, delay),
                totals,
            ));
        }
        Ok(GetClientResponse {
            client,
            accounts,
            promissories,
        })
    }

    fn encode(response: &GetClientResponse, w: &mut XmlWriter) {
        let c = &response.client;
        w.open("Client");
        w.leaf("ClientNumber", &c.client_number);
        w.leaf("AllpsClientNumber", &allps_client_number(c.number));
        w.leaf("EmployerCode", &c.employer_code);
        w.leaf("FirstName", &c.first_name);
        w.leaf("Surname", &c.surname);
        w.opt_leaf("Initials", c.initials.as_deref());
        w.leaf("IdType", c.id_type.as_str());
        w.leaf("IdNumber", &c.id_number);
        w.leaf("DateOfBirth", &c.date_of_birth);
        w.leaf("Gender", c.gender.as_str());
        w.opt_leaf("CellphoneNumber", c.cellphone.as_deref());
        w.opt_leaf("EmployeeNumber", c.employee_number.as_deref());
        w.opt_leaf("Email", c.email.as_deref());
        w.close("Client");
        if response.accounts.is_empty() {
            w.empty("Accounts");
        } else {
            w.open("Accounts");
        }
        for a in &response.accounts {
            w.open("Account");
            w.leaf_display("AccountId", a.number);
            w.leaf("AccountKind", a.kind.as_str());
            w.opt_leaf("BankBranchCode", a.bank_branch_code.as_deref());
            w.opt_leaf("BankName", a.bank_name.as_deref());
            w.leaf("AccountNumber", &a.account_number);
            w.opt_leaf("AccountType", a.account_type.map(AccountType::as_str));
            w.opt_leaf("AccountHolderName", a.holder_name.as_deref());
            w.leaf_display("Enabled", a.enabled);
            w.close("Account");
        }
        if !response.accounts.is_empty() {
            w.close("Accounts");
        }
        if response.promissories.is_empty() {
            w.empty("Promissories");
        } else {
            w.open("Promissories");
            for (number, stream, status, totals) in &response.promissories {
                w.open("Promissory");
                w.leaf("PromissoryNumber", number);
                w.leaf("PaymentStream", stream.as_str());
                w.leaf("Status", status.as_str());
                write_totals(w, totals);
                w.close("Promissory");
            }
            w.close("Promissories");
        }
    }
}
