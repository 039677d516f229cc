//! The `wallet_cards` table: FEZA card assignments to wallets. A card number is held by
//! at most one ACTIVE assignment (partial unique index); a REPLACED assignment is history
//! and releases the card, which may then be assigned again to any wallet.

use crate::store::sql::{OptionalExtension, Row, params};

use crate::domain::payouts::CardTechnology;
use crate::store::{DbError, Tx, parsed};

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

fn card_row(r: &Row<'_>) -> Result<CardRow, crate::store::sql::Error> {
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

/// The ACTIVE assignment holding a card number, whichever wallet (and organisation) it is
/// on; `None` when the card is free (never assigned, or released by a replacement).
///
/// # Errors
///
/// SQLite.
pub fn holder(tx: &Tx<'_>, card_number: &str) -> Result<Option<CardRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {CARD_COLUMNS} FROM wallet_cards c JOIN wallets w ON w.id = c.wallet_id
         WHERE c.card_number = ?1 AND c.status = 'ACTIVE'"
        ))?
        .query_row([card_number], card_row)
        .optional()
        .map_err(DbError::from)
}

/// The latest assignment of a card number to a wallet of this client (ACTIVE, or
/// REPLACED since); `None` when the card was never this client's. Reads nothing of other
/// clients' wallets.
///
/// # Errors
///
/// SQLite.
pub fn latest_of_client(
    tx: &Tx<'_>,
    card_number: &str,
    client_id: i64,
) -> Result<Option<CardRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {CARD_COLUMNS} FROM wallet_cards c JOIN wallets w ON w.id = c.wallet_id
         WHERE c.card_number = ?1 AND w.client_id = ?2 ORDER BY c.id DESC LIMIT 1"
        ))?
        .query_row(params![card_number, client_id], card_row)
        .optional()
        .map_err(DbError::from)
}

/// Every card a wallet has had, oldest first.
///
/// # Errors
///
/// SQLite.
pub fn cards_of_wallet(tx: &Tx<'_>, wallet_id: i64) -> Result<Vec<CardRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {CARD_COLUMNS} FROM wallet_cards c JOIN wallets w ON w.id = c.wallet_id
         WHERE c.wallet_id = ?1 ORDER BY c.id"
        ))?
        .query_map([wallet_id], card_row)?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// Assigns a free card to a wallet: the wallet's ACTIVE card (if any) becomes REPLACED
/// (and is released) and a new ACTIVE assignment is stored, also for a card the wallet
/// or another wallet held before.
///
/// # Errors
///
/// SQLite (a UNIQUE violation for a card number another wallet holds).
pub fn assign(
    tx: &Tx<'_>,
    wallet_id: i64,
    card_number: &str,
    technology: CardTechnology,
    pin_mailer_number: Option<&str>,
    assigned_by: i64,
    now: time::OffsetDateTime,
) -> Result<(), DbError> {
    let now = crate::clock::format_timestamp(now);
    tx.conn
        .prepare_cached(
            "UPDATE wallet_cards SET status = 'REPLACED', replaced_at = ?1
             WHERE wallet_id = ?2 AND status = 'ACTIVE'",
        )?
        .execute(params![now, wallet_id])?;
    tx.conn
        .prepare_cached(
            "INSERT INTO wallet_cards (wallet_id, card_number, technology, pin_mailer_number, status,
                                       assigned_by, assigned_at)
             VALUES (?1, ?2, ?3, ?4, 'ACTIVE', ?5, ?6)",
        )?
        .execute(params![
            wallet_id,
            card_number,
            technology.as_str(),
            pin_mailer_number,
            assigned_by,
            now
        ])?;
    Ok(())
}
