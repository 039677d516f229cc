//! The `wallets` table (wallet requests): the only module that writes it.

use crate::store::sql::{OptionalExtension, Row, params};

use crate::clock::format_timestamp;
use crate::domain::payouts::WalletStatus;
use crate::store::counters::{self, Kind, Numbered};
use crate::store::{DbError, Tx, parsed};
use time::OffsetDateTime;

/// A wallet request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletRow {
    /// Row id (the issuer's idempotency key).
    pub id: i64,
    /// The number in the organisation (WalletRequestId).
    pub number: i64,
    /// The organisation.
    pub organisation_id: i64,
    /// The branch.
    pub branch_id: i64,
    /// The client.
    pub client_id: i64,
    /// PENDING, ACTIVE or FAILED.
    pub status: WalletStatus,
    /// The cellphone it was requested for.
    pub cellphone: String,
    /// The wallet number (ACTIVE).
    pub wallet_number: Option<String>,
    /// The issuer's reason code (FAILED).
    pub failure_code: Option<String>,
    /// The reason in words (FAILED).
    pub failure_reason: Option<String>,
    /// When CreateWallet was accepted.
    pub requested_at: String,
    /// When the issuer answered.
    pub completed_at: Option<String>,
    /// The wallet account's number, its AccountId (ACTIVE).
    pub account_number: Option<i64>,
}

const WALLET_COLUMNS: &str =
    "w.id, w.branch_id, w.client_id, w.status, w.cellphone, w.wallet_number, w.failure_code,
     w.failure_reason, w.requested_at, w.completed_at, a.number, w.number, w.organisation_id";

fn wallet_row(r: &Row<'_>) -> Result<WalletRow, crate::store::sql::Error> {
    Ok(WalletRow {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        client_id: r.get(2)?,
        status: parsed(r, 3, WalletStatus::parse)?,
        cellphone: r.get(4)?,
        wallet_number: r.get(5)?,
        failure_code: r.get(6)?,
        failure_reason: r.get(7)?,
        requested_at: r.get(8)?,
        completed_at: r.get(9)?,
        account_number: r.get(10)?,
        number: r.get(11)?,
        organisation_id: r.get(12)?,
    })
}

/// The client's most recent wallet request.
///
/// # Errors
///
/// SQLite.
pub fn latest_wallet(tx: &Tx<'_>, client_id: i64) -> Result<Option<WalletRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
        "SELECT {WALLET_COLUMNS} FROM wallets w LEFT JOIN client_accounts a ON a.wallet_id = w.id
         WHERE w.client_id = ?1 ORDER BY w.id DESC LIMIT 1"
    ))?
        .query_row([client_id], wallet_row)
        .optional()
        .map_err(DbError::from)
}

/// A wallet request by id.
///
/// # Errors
///
/// SQLite.
pub fn wallet(tx: &Tx<'_>, wallet_id: i64) -> Result<Option<WalletRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
        "SELECT {WALLET_COLUMNS} FROM wallets w LEFT JOIN client_accounts a ON a.wallet_id = w.id
         WHERE w.id = ?1"
    ))?
        .query_row([wallet_id], wallet_row)
        .optional()
        .map_err(DbError::from)
}

/// Stores a PENDING wallet request with the next wallet-request number of its
/// organisation; returns its row id and number (WalletRequestId).
///
/// # Errors
///
/// SQLite (the partial unique index allows one PENDING or ACTIVE request per client).
pub fn insert_request(
    tx: &Tx<'_>,
    branch_id: i64,
    client_id: i64,
    cellphone: &str,
    requested_by: i64,
    now: OffsetDateTime,
) -> Result<Numbered, DbError> {
    let (org_id, number) = counters::allocate_for_branch(tx, branch_id, Kind::WalletRequest, 1)?;
    tx.conn
        .prepare_cached(
            "INSERT INTO wallets (branch_id, client_id, status, cellphone, requested_by, requested_at,
                                  organisation_id, number)
             VALUES (?1, ?2, 'PENDING', ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            branch_id,
            client_id,
            cellphone,
            requested_by,
            format_timestamp(now),
            org_id,
            number
        ])?;
    Ok(Numbered {
        id: tx.conn.last_insert_rowid()?,
        number,
    })
}

/// Marks a PENDING wallet request ACTIVE with the issuer's wallet number; false if it
/// was no longer PENDING.
///
/// # Errors
///
/// SQLite.
pub fn activate(
    tx: &Tx<'_>,
    wallet_id: i64,
    wallet_number: &str,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE wallets SET status = 'ACTIVE', wallet_number = ?1, completed_at = ?2
             WHERE id = ?3 AND status = 'PENDING'",
        )?
        .execute(params![wallet_number, format_timestamp(at), wallet_id])?;
    Ok(changed == 1)
}

/// Marks a PENDING wallet request FAILED with the reason; false if it was no longer
/// PENDING.
///
/// # Errors
///
/// SQLite.
pub fn fail(
    tx: &Tx<'_>,
    wallet_id: i64,
    code: &str,
    reason: &str,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE wallets SET status = 'FAILED', failure_code = ?1, failure_reason = ?2, completed_at = ?3
             WHERE id = ?4 AND status = 'PENDING'",
        )?
        .execute(params![code, reason, format_timestamp(at), wallet_id])?;
    Ok(changed == 1)
}

/// The ClientNumber of another client of the branch with this cellphone number, if any.
///
/// # Errors
///
/// SQLite.
pub fn other_client_with_cellphone(
    tx: &Tx<'_>,
    branch_id: i64,
    cellphone: &str,
    client_id: i64,
) -> Result<Option<String>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(
            "SELECT client_number FROM clients WHERE branch_id = ?1 AND cellphone = ?2 AND id <> ?3
             ORDER BY id LIMIT 1",
        )?
        .query_row(params![branch_id, cellphone, client_id], |r| r.get(0))
        .optional()?)
}
