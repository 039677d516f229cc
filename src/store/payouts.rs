//! Rows and queries of the payout tables: client accounts, wallet requests, FEZA cards,
//! credit payments and their parts. Shared by the payout operations and the processor.

use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, Row, params};
use rust_decimal::Decimal;

use crate::domain::payouts::{
    AccountKind, CardTechnology, PartStatus, PaymentStatus, RecipientType, WalletStatus,
    payment_status,
};

fn bad(column: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(column, what.to_string(), rusqlite::types::Type::Text)
}

fn parsed<T>(row: &Row<'_>, i: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = row.get(i)?;
    parse(&text).ok_or_else(|| bad(i, &text))
}

fn money(row: &Row<'_>, i: usize) -> rusqlite::Result<Decimal> {
    let text: String = row.get(i)?;
    Decimal::from_str(&text).map_err(|_| bad(i, &text))
}

fn opt_money(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<Decimal>> {
    let text: Option<String> = row.get(i)?;
    text.map(|t| Decimal::from_str(&t).map_err(|_| bad(i, &t)))
        .transpose()
}

/// Money as stored: canonical text with two decimals.
pub fn money_text(amount: Decimal) -> String {
    let mut a = amount;
    a.rescale(2);
    a.to_string()
}

/// A registered client account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    /// AccountId.
    pub id: i64,
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
    pub account_type: Option<String>,
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
     a.holder_name, a.enabled, a.wallet_id, w.status";

fn account_row(r: &Row<'_>) -> rusqlite::Result<AccountRow> {
    let wallet_status: Option<String> = r.get(10)?;
    Ok(AccountRow {
        id: r.get(0)?,
        client_id: r.get(1)?,
        kind: parsed(r, 2, AccountKind::parse)?,
        bank_branch_code: r.get(3)?,
        bank_name: r.get(4)?,
        account_number: r.get(5)?,
        account_type: r.get(6)?,
        holder_name: r.get(7)?,
        enabled: r.get(8)?,
        wallet_id: r.get(9)?,
        wallet_status: wallet_status
            .map(|s| WalletStatus::parse(&s).ok_or_else(|| bad(10, &s)))
            .transpose()?,
    })
}

/// Every account of a client, in AccountId order.
///
/// # Errors
///
/// SQLite.
pub fn accounts_of_client(conn: &Connection, client_id: i64) -> rusqlite::Result<Vec<AccountRow>> {
    conn.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM client_accounts a LEFT JOIN wallets w ON w.id = a.wallet_id
         WHERE a.client_id = ?1 ORDER BY a.id"
    ))?
    .query_map([client_id], account_row)?
    .collect()
}

/// One account of a client.
///
/// # Errors
///
/// SQLite.
pub fn find_account(
    conn: &Connection,
    client_id: i64,
    account_id: i64,
) -> rusqlite::Result<Option<AccountRow>> {
    conn.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM client_accounts a LEFT JOIN wallets w ON w.id = a.wallet_id
         WHERE a.client_id = ?1 AND a.id = ?2"
    ))?
    .query_row(params![client_id, account_id], account_row)
    .optional()
}

/// The AccountId of a client's bank account with these details, if registered.
///
/// # Errors
///
/// SQLite.
pub fn find_bank_account(
    conn: &Connection,
    client_id: i64,
    branch_code: &str,
    account_number: &str,
    account_type: &str,
) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT id FROM client_accounts
         WHERE client_id = ?1 AND kind = 'BANK_ACCOUNT' AND bank_branch_code = ?2 AND account_number = ?3
           AND account_type = ?4",
    )?
    .query_row(
        params![client_id, branch_code, account_number, account_type],
        |r| r.get(0),
    )
    .optional()
}

/// A wallet request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletRow {
    /// WalletRequestId.
    pub id: i64,
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
    /// The wallet's AccountId (ACTIVE).
    pub account_id: Option<i64>,
}

const WALLET_COLUMNS: &str =
    "w.id, w.branch_id, w.client_id, w.status, w.cellphone, w.wallet_number, w.failure_code,
     w.failure_reason, w.requested_at, w.completed_at, a.id";

fn wallet_row(r: &Row<'_>) -> rusqlite::Result<WalletRow> {
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
        account_id: r.get(10)?,
    })
}

/// The client's most recent wallet request.
///
/// # Errors
///
/// SQLite.
pub fn latest_wallet(conn: &Connection, client_id: i64) -> rusqlite::Result<Option<WalletRow>> {
    conn.prepare_cached(&format!(
        "SELECT {WALLET_COLUMNS} FROM wallets w LEFT JOIN client_accounts a ON a.wallet_id = w.id
         WHERE w.client_id = ?1 ORDER BY w.id DESC LIMIT 1"
    ))?
    .query_row([client_id], wallet_row)
    .optional()
}

/// A wallet request by id.
///
/// # Errors
///
/// SQLite.
pub fn wallet(conn: &Connection, wallet_id: i64) -> rusqlite::Result<Option<WalletRow>> {
    conn.prepare_cached(&format!(
        "SELECT {WALLET_COLUMNS} FROM wallets w LEFT JOIN client_accounts a ON a.wallet_id = w.id
         WHERE w.id = ?1"
    ))?
    .query_row([wallet_id], wallet_row)
    .optional()
}

/// A FEZA card assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRow {
    /// Row id.
    pub id: i64,
    /// The wallet it is assigned to.
    pub wallet_id: i64,
    /// The wallet's client.
    pub client_id: i64,
    /// The 16-digit card number.
    pub card_number: String,
    /// EMV or magstripe.
    pub technology: CardTechnology,
    /// The PIN mailer number (magstripe cards).
    pub pin_mailer_number: Option<String>,
    /// ACTIVE, or REPLACED by a later card.
    pub active: bool,
    /// When it was assigned.
    pub assigned_at: String,
}

const CARD_COLUMNS: &str =
    "c.id, c.wallet_id, w.client_id, c.card_number, c.technology, c.pin_mailer_number, c.status,
     c.assigned_at";

fn card_row(r: &Row<'_>) -> rusqlite::Result<CardRow> {
    let status: String = r.get(6)?;
    Ok(CardRow {
        id: r.get(0)?,
        wallet_id: r.get(1)?,
        client_id: r.get(2)?,
        card_number: r.get(3)?,
        technology: parsed(r, 4, CardTechnology::parse)?,
        pin_mailer_number: r.get(5)?,
        active: status == "ACTIVE",
        assigned_at: r.get(7)?,
    })
}

/// The assignment of a card number, whichever wallet it is on.
///
/// # Errors
///
/// SQLite.
pub fn find_card(conn: &Connection, card_number: &str) -> rusqlite::Result<Option<CardRow>> {
    conn.prepare_cached(&format!(
        "SELECT {CARD_COLUMNS} FROM wallet_cards c JOIN wallets w ON w.id = c.wallet_id
         WHERE c.card_number = ?1"
    ))?
    .query_row([card_number], card_row)
    .optional()
}

/// Every card a wallet has had, oldest first.
///
/// # Errors
///
/// SQLite.
pub fn cards_of_wallet(conn: &Connection, wallet_id: i64) -> rusqlite::Result<Vec<CardRow>> {
    conn.prepare_cached(&format!(
        "SELECT {CARD_COLUMNS} FROM wallet_cards c JOIN wallets w ON w.id = c.wallet_id
         WHERE c.wallet_id = ?1 ORDER BY c.id"
    ))?
    .query_map([wallet_id], card_row)?
    .collect()
}

/// A credit payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    /// Row id (PaymentNumber = `CP` + id).
    pub id: i64,
    /// The branch.
    pub branch_id: i64,
    /// The client.
    pub client_id: i64,
    /// The client's ClientNumber.
    pub client_number: String,
    /// The integrator's PaymentReference.
    pub payment_reference: String,
    /// The payment's status.
    pub status: PaymentStatus,
    /// The action date, `YYYY-MM-DD`.
    pub action_date: String,
    /// The ActionDate as requested (None when defaulted).
    pub requested_action_date: Option<String>,
    /// Account parts + cash.
    pub total_amount: Decimal,
    /// The cash part, if any.
    pub cash_amount: Option<Decimal>,
    /// When it was accepted.
    pub created_at: String,
}

const PAYMENT_COLUMNS: &str =
    "p.id, p.branch_id, p.client_id, c.client_number, p.payment_reference, p.status,
     p.action_date, p.requested_action_date, p.total_amount, p.cash_amount, p.created_at";

fn payment_row(r: &Row<'_>) -> rusqlite::Result<PaymentRow> {
    Ok(PaymentRow {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        client_id: r.get(2)?,
        client_number: r.get(3)?,
        payment_reference: r.get(4)?,
        status: parsed(r, 5, PaymentStatus::parse)?,
        action_date: r.get(6)?,
        requested_action_date: r.get(7)?,
        total_amount: money(r, 8)?,
        cash_amount: opt_money(r, 9)?,
        created_at: r.get(10)?,
    })
}

/// A payment of a branch by id.
///
/// # Errors
///
/// SQLite.
pub fn find_payment(
    conn: &Connection,
    branch_id: i64,
    payment_id: i64,
) -> rusqlite::Result<Option<PaymentRow>> {
    conn.prepare_cached(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM credit_payments p JOIN clients c ON c.id = p.client_id
         WHERE p.branch_id = ?1 AND p.id = ?2"
    ))?
    .query_row(params![branch_id, payment_id], payment_row)
    .optional()
}

/// A payment by id, whatever its branch (the processor).
///
/// # Errors
///
/// SQLite.
pub fn payment(conn: &Connection, payment_id: i64) -> rusqlite::Result<Option<PaymentRow>> {
    conn.prepare_cached(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM credit_payments p JOIN clients c ON c.id = p.client_id
         WHERE p.id = ?1"
    ))?
    .query_row([payment_id], payment_row)
    .optional()
}

/// A payment of a branch by its PaymentReference.
///
/// # Errors
///
/// SQLite.
pub fn find_payment_by_reference(
    conn: &Connection,
    branch_id: i64,
    reference: &str,
) -> rusqlite::Result<Option<PaymentRow>> {
    conn.prepare_cached(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM credit_payments p JOIN clients c ON c.id = p.client_id
         WHERE p.branch_id = ?1 AND p.payment_reference = ?2"
    ))?
    .query_row(params![branch_id, reference], payment_row)
    .optional()
}

/// One part of a payment, with its account's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRow {
    /// 1-based part number.
    pub part_number: i64,
    /// Bank account, wallet or cash.
    pub recipient_type: RecipientType,
    /// The account (not for cash).
    pub account_id: Option<i64>,
    /// The account or wallet number (not for cash).
    pub account_number: Option<String>,
    /// The bank branch code (bank parts).
    pub bank_branch_code: Option<String>,
    /// The bank's name (bank parts).
    pub bank_name: Option<String>,
    /// The account type (bank parts).
    pub account_type: Option<String>,
    /// The registered holder name (bank parts).
    pub holder_name: Option<String>,
    /// The amount.
    pub amount: Decimal,
    /// The part's status.
    pub status: PartStatus,
    /// When it reached that status.
    pub status_at: String,
    /// When it was submitted to the bank.
    pub submitted_at: Option<String>,
    /// When it was delivered (or credited).
    pub delivered_at: Option<String>,
    /// When it was returned.
    pub returned_at: Option<String>,
    /// The bank's return code.
    pub return_code: Option<String>,
    /// The bank's return reason.
    pub return_reason: Option<String>,
}

/// The parts of a payment, in part order.
///
/// # Errors
///
/// SQLite.
pub fn parts_of(conn: &Connection, payment_id: i64) -> rusqlite::Result<Vec<PartRow>> {
    conn.prepare_cached(
        "SELECT p.part_number, p.recipient_type, p.account_id, a.account_number, a.bank_branch_code, a.bank_name,
                a.account_type, a.holder_name, p.amount, p.status, p.status_at, p.submitted_at, p.delivered_at,
                p.returned_at, p.return_code, p.return_reason
         FROM credit_payment_parts p LEFT JOIN client_accounts a ON a.id = p.account_id
         WHERE p.payment_id = ?1 ORDER BY p.part_number",
    )?
    .query_map([payment_id], |r| {
        Ok(PartRow {
            part_number: r.get(0)?,
            recipient_type: parsed(r, 1, RecipientType::parse)?,
            account_id: r.get(2)?,
            account_number: r.get(3)?,
            bank_branch_code: r.get(4)?,
            bank_name: r.get(5)?,
            account_type: r.get(6)?,
            holder_name: r.get(7)?,
            amount: money(r, 8)?,
            status: parsed(r, 9, PartStatus::parse)?,
            status_at: r.get(10)?,
            submitted_at: r.get(11)?,
            delivered_at: r.get(12)?,
            returned_at: r.get(13)?,
            return_code: r.get(14)?,
            return_reason: r.get(15)?,
        })
    })?
    .collect()
}

/// Recomputes a payment's status from its parts and stores it; returns it.
///
/// # Errors
///
/// SQLite.
pub fn refresh_payment_status(
    conn: &Connection,
    payment_id: i64,
) -> rusqlite::Result<PaymentStatus> {
    let parts: Vec<(RecipientType, PartStatus)> = parts_of(conn, payment_id)?
        .into_iter()
        .map(|p| (p.recipient_type, p.status))
        .collect();
    let status = payment_status(&parts);
    conn.prepare_cached("UPDATE credit_payments SET status = ?1 WHERE id = ?2 AND status <> ?1")?
        .execute(params![status.as_str(), payment_id])?;
    Ok(status)
}
