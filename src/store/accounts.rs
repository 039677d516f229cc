//! The `client_accounts` table: a client's bank accounts and wallet accounts.

use crate::store::sql::{OptionalExtension, Row, params};

use crate::domain::cdv::AccountType;
use crate::domain::payouts::{AccountKind, WalletStatus};
use crate::store::counters::{self, Kind, Numbered};
use crate::store::{DbError, Tx, bad, opt_parsed, parsed};

/// A registered client account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    /// Row id.
    pub id: i64,
    /// The number in the organisation (the AccountId callers see and send).
    pub number: i64,
    /// The owning client.
    pub client_id: i64,
    /// Bank account or wallet.
    pub kind: AccountKind,
    /// Bank branch code (bank accounts).
    pub bank_branch_code: Option<String>,
    /// Bank name (bank accounts).
    pub bank_name: Option<String>,
    /// Bank account number, or wallet number.
    pub account_number: String,
    /// Account type (bank accounts).
    pub account_type: Option<AccountType>,
    /// Account holder name as registered.
    pub holder_name: Option<String>,
    /// Whether payments may go to it.
    pub enabled: bool,
    /// The wallet request (wallets).
    pub wallet_id: Option<i64>,
    /// The wallet's status (wallets).
    pub wallet_status: Option<WalletStatus>,
}

const ACCOUNT_COLUMNS: &str =
    "a.id, a.client_id, a.kind, a.bank_branch_code, a.bank_name, a.account_number, a.account_type,
     a.holder_name, a.enabled, a.wallet_id, w.status, a.number";

fn account_row(r: &Row<'_>) -> Result<AccountRow, crate::store::sql::Error> {
    let wallet_status: Option<String> = r.get(10)?;
    Ok(AccountRow {
        id: r.get(0)?,
        client_id: r.get(1)?,
        kind: parsed(r, 2, AccountKind::parse)?,
        bank_branch_code: r.get(3)?,
        bank_name: r.get(4)?,
        account_number: r.get(5)?,
        account_type: opt_parsed(r, 6, AccountType::parse)?,
        holder_name: r.get(7)?,
        enabled: r.get(8)?,
        wallet_id: r.get(9)?,
        wallet_status: wallet_status
            .map(|s| WalletStatus::parse(&s).ok_or_else(|| bad(10, &s)))
            .transpose()?,
        number: r.get(11)?,
    })
}

/// Every account of a client, oldest first (AccountId order).
///
/// # Errors
///
/// SQLite.
pub fn accounts_of_client(tx: &Tx<'_>, client_id: i64) -> Result<Vec<AccountRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM client_accounts a LEFT JOIN wallets w ON w.id = a.wallet_id
         WHERE a.client_id = ?1 ORDER BY a.id"
    ))?
        .query_map([client_id], account_row)?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// The account of a client with this AccountId (its number in the organisation; the
/// client, of one branch, scopes the lookup).
///
/// # Errors
///
/// SQLite.
pub fn account_by_number(
    tx: &Tx<'_>,
    client_id: i64,
    number: i64,
) -> Result<Option<AccountRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM client_accounts a LEFT JOIN wallets w ON w.id = a.wallet_id
         WHERE a.client_id = ?1 AND a.number = ?2"
    ))?
        .query_row(params![client_id, number], account_row)
        .optional()
        .map_err(DbError::from)
}

/// The AccountId of a client's bank account with these details, if registered.
///
/// # Errors
///
/// SQLite.
pub fn find_bank_account(
    tx: &Tx<'_>,
    client_id: i64,
    branch_code: &str,
    account_number: &str,
    account_type: AccountType,
) -> Result<Option<i64>, DbError> {
    tx.conn.prepare_cached(
        "SELECT number FROM client_accounts
         WHERE client_id = ?1 AND kind = 'BANK_ACCOUNT' AND bank_branch_code = ?2 AND account_number = ?3
           AND account_type = ?4",
    )?
    .query_row(
        params![client_id, branch_code, account_number, account_type.as_str()],
        |r| r.get(0),
    )
    .optional().map_err(DbError::from)
}

/// A bank account to register for a client.
#[derive(Debug, Clone, Copy)]
pub struct NewBankAccount<'a> {
    /// The branch the client belongs to.
    pub branch_id: i64,
    /// The client's row id.
    pub client_id: i64,
    /// The bank branch code.
    pub bank_branch_code: &'a str,
    /// The bank's name, from the CDV table.
    pub bank_name: &'a str,
    /// The account number.
    pub account_number: &'a str,
    /// The account type's contract spelling.
    pub account_type: AccountType,
    /// The account holder's name.
    pub holder_name: Option<&'a str>,
    /// The user registering it.
    pub created_by: i64,
}

/// Registers an enabled bank account with the next account number of its organisation;
/// returns its row id and number (AccountId).
///
/// # Errors
///
/// SQLite.
pub fn insert_bank_account(
    tx: &Tx<'_>,
    account: &NewBankAccount<'_>,
    now: time::OffsetDateTime,
) -> Result<Numbered, DbError> {
    let (org_id, number) = counters::allocate_for_branch(tx, account.branch_id, Kind::Account, 1)?;
    tx.conn
        .prepare_cached(
            "INSERT INTO client_accounts (branch_id, client_id, kind, bank_branch_code, bank_name, account_number,
                                          account_type, holder_name, enabled, created_by, created_at,
                                          organisation_id, number)
             VALUES (?1, ?2, 'BANK_ACCOUNT', ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            account.branch_id,
            account.client_id,
            account.bank_branch_code,
            account.bank_name,
            account.account_number,
            account.account_type.as_str(),
            account.holder_name,
            account.created_by,
            crate::clock::format_timestamp(now),
            org_id,
            number
        ])?;
    Ok(Numbered {
        id: tx.conn.last_insert_rowid()?,
        number,
    })
}

/// Registers the enabled wallet account of a wallet that has just become ACTIVE, with the
/// next account number of its organisation; returns its row id and number.
///
/// # Errors
///
/// SQLite.
pub fn insert_wallet_account(
    tx: &Tx<'_>,
    branch_id: i64,
    client_id: i64,
    wallet_number: &str,
    wallet_id: i64,
    at: time::OffsetDateTime,
) -> Result<Numbered, DbError> {
    let (org_id, number) = counters::allocate_for_branch(tx, branch_id, Kind::Account, 1)?;
    tx.conn
        .prepare_cached(
            "INSERT INTO client_accounts (branch_id, client_id, kind, account_number, wallet_id, enabled,
                                          created_at, organisation_id, number)
             VALUES (?1, ?2, 'WALLET', ?3, ?4, 1, ?5, ?6, ?7)",
        )?
        .execute(params![
            branch_id,
            client_id,
            wallet_number,
            wallet_id,
            crate::clock::format_timestamp(at),
            org_id,
            number
        ])?;
    Ok(Numbered {
        id: tx.conn.last_insert_rowid()?,
        number,
    })
}
