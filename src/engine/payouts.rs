//! Payout configuration: per-payment limits, the same-day cut-off and submission time,
//! how far ahead an ActionDate may be, the FEZA magstripe BIN list, the processor's
//! timings (wallet creation delay, delivery and return timings, poll interval, lease,
//! retries) and the simulator's outcome rules. [`PayoutConfig`] is a field of
//! `AppConfig`; [`PayoutArgs`] are the `serve` / `process` flags (each with an
//! environment variable) that build it.

use std::str::FromStr;

use clap::Args;
use rust_decimal::Decimal;
use time::{Duration, Time};

use crate::engine::gateway::SimulatorRules;

/// What an operator can set about payouts, wallets, cards and the processor.
#[derive(Debug, Clone, PartialEq)]
pub struct PayoutConfig {
    /// Smallest total (account parts + cash) of one credit payment.
    pub min_total: Decimal,
    /// Largest total of one credit payment.
    pub max_total: Decimal,
    /// Largest amount of one account part (bank account or wallet).
    pub max_part: Decimal,
    /// Largest cash part.
    pub max_cash: Decimal,
    /// Same-day cut-off (South African time): a payment accepted at or after it cannot
    /// take today as its ActionDate, and a defaulted ActionDate becomes the next
    /// business day.
    pub cut_off: Time,
    /// Time of day (South African time) at which payments for a later ActionDate are
    /// submitted on that date.
    pub submission_time: Time,
    /// How many calendar days ahead an ActionDate may be.
    pub max_days_ahead: i64,
    /// Magstripe FEZA card BIN prefixes; every other card number is EMV.
    pub magstripe_bins: Vec<String>,
    /// From CreateWallet to the issuer call (about 10 minutes at Allps).
    pub wallet_delay: Duration,
    /// From a bank part's submission to the bank's delivery report.
    pub delivery_delay: Duration,
    /// From a bank part's delivery to the check for a return by the recipient bank.
    pub return_delay: Duration,
    /// How often the server's processor looks for due jobs (wall time).
    pub poll_interval: std::time::Duration,
    /// How long a claimed job stays leased to its processor before another may take it
    /// over (crash recovery), on the processor's clock.
    pub lease: Duration,
    /// Attempts before a job whose gateway call keeps failing gives up.
    pub max_attempts: u32,
    /// First retry delay; it doubles per attempt up to [`PayoutConfig::retry_cap`].
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_cap: Duration,
    /// The default gateway's (simulator's) outcome rules.
    pub simulator: SimulatorRules,
}

/// The magstripe BIN list used when none is configured: `999999`, a prefix with major
/// industry identifier 9 (national use) that no bank-issued card carries, kept for the
/// fixtures and for integrators' tests. FEZA BIN ranges are not published; an operator
/// sets the real list with `--magstripe-bins`.
pub const DEFAULT_MAGSTRIPE_BINS: &str = "999999";

impl Default for PayoutConfig {
    fn default() -> Self {
        PayoutConfig {
            min_total: Decimal::new(1000, 2),
            max_total: Decimal::new(10_000_000, 2),
            max_part: Decimal::new(5_000_000, 2),
            max_cash: Decimal::new(500_000, 2),
            cut_off: Time::from_hms(15, 0, 0).expect("valid time"),
            submission_time: Time::from_hms(8, 0, 0).expect("valid time"),
            max_days_ahead: 60,
            magstripe_bins: parse_bins(DEFAULT_MAGSTRIPE_BINS).expect("valid default"),
            wallet_delay: Duration::minutes(10),
            delivery_delay: Duration::hours(2),
            return_delay: Duration::days(2),
            poll_interval: std::time::Duration::from_secs(5),
            lease: Duration::minutes(5),
            max_attempts: 8,
            retry_base: Duration::minutes(1),
            retry_cap: Duration::hours(1),
            simulator: SimulatorRules::default(),
        }
    }
}

impl PayoutConfig {
    /// The delay before retry number `attempts` + 1: `retry_base` doubled per attempt
    /// already made, at most `retry_cap`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(30);
        let delay = self.retry_base * (1i32 << shift);
        delay.min(self.retry_cap)
    }
}

/// Parses a comma-separated list of BIN prefixes (1 to 8 digits each).
///
/// # Errors
///
/// A prefix that is not 1 to 8 digits.
pub fn parse_bins(text: &str) -> Result<Vec<String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|bin| {
            if (1..=8).contains(&bin.len()) && bin.bytes().all(|b| b.is_ascii_digit()) {
                Ok(bin.to_string())
            } else {
                Err(format!("BIN prefix {bin:?} is not 1 to 8 digits"))
            }
        })
        .collect()
}

fn parse_money(text: &str) -> Result<Decimal, String> {
    let d = Decimal::from_str(text.trim()).map_err(|e| format!("{text:?}: {e}"))?;
    if d <= Decimal::ZERO || d.normalize().scale() > 2 {
        return Err(format!(
            "{text:?} is not a positive amount with at most 2 decimals"
        ));
    }
    let mut d = d.normalize();
    d.rescale(2);
    Ok(d)
}

fn parse_time(text: &str) -> Result<Time, String> {
    let bad = || format!("{text:?} is not a time of day HH:MM");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let h: u8 = h.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    Time::from_hms(h, m, 0).map_err(|_| bad())
}

/// The payout flags of `serve` and `process`; each has an environment variable.
#[derive(Debug, Clone, Args)]
pub struct PayoutArgs {
    /// Smallest credit payment total, in rand.
    #[arg(long, env = "ALLPS_PAYMENT_MIN_TOTAL", default_value = "10.00", value_parser = parse_money)]
    pub payment_min_total: Decimal,
    /// Largest credit payment total, in rand.
    #[arg(long, env = "ALLPS_PAYMENT_MAX_TOTAL", default_value = "100000.00", value_parser = parse_money)]
    pub payment_max_total: Decimal,
    /// Largest amount to one account (bank account or wallet) in a payment, in rand.
    #[arg(long, env = "ALLPS_PAYMENT_MAX_PART", default_value = "50000.00", value_parser = parse_money)]
    pub payment_max_part: Decimal,
    /// Largest cash part of a payment, in rand.
    #[arg(long, env = "ALLPS_PAYMENT_MAX_CASH", default_value = "5000.00", value_parser = parse_money)]
    pub payment_max_cash: Decimal,
    /// Same-day cut-off, HH:MM South African time.
    #[arg(long, env = "ALLPS_PAYMENT_CUT_OFF", default_value = "15:00", value_parser = parse_time)]
    pub payment_cut_off: Time,
    /// Submission time for later action dates, HH:MM South African time.
    #[arg(long, env = "ALLPS_PAYMENT_SUBMISSION_TIME", default_value = "08:00", value_parser = parse_time)]
    pub payment_submission_time: Time,
    /// How many days ahead an ActionDate may be.
    #[arg(long, env = "ALLPS_PAYMENT_MAX_DAYS_AHEAD", default_value_t = 60)]
    pub payment_max_days_ahead: u32,
    /// Magstripe FEZA card BIN prefixes, comma-separated (all other cards are EMV).
    #[arg(long, env = "ALLPS_MAGSTRIPE_BINS", default_value = DEFAULT_MAGSTRIPE_BINS)]
    pub magstripe_bins: String,
    /// Minutes from CreateWallet to the wallet issuer's answer.
    #[arg(long, env = "ALLPS_WALLET_DELAY_MINUTES", default_value_t = 10)]
    pub wallet_delay_minutes: u32,
    /// Minutes from a bank part's submission to its delivery report.
    #[arg(long, env = "ALLPS_DELIVERY_DELAY_MINUTES", default_value_t = 120)]
    pub delivery_delay_minutes: u32,
    /// Minutes from delivery to the recipient bank's return (if any).
    #[arg(long, env = "ALLPS_RETURN_DELAY_MINUTES", default_value_t = 2880)]
    pub return_delay_minutes: u32,
    /// Seconds between the server processor's looks for due jobs.
    #[arg(long, env = "ALLPS_PROCESSOR_POLL_SECONDS", default_value_t = 5)]
    pub processor_poll_seconds: u64,
    /// Seconds a claimed job stays leased (crash recovery).
    #[arg(long, env = "ALLPS_PROCESSOR_LEASE_SECONDS", default_value_t = 300)]
    pub processor_lease_seconds: u32,
    /// Attempts before a job whose gateway call keeps failing gives up.
    #[arg(long, env = "ALLPS_PROCESSOR_MAX_ATTEMPTS", default_value_t = 8)]
    pub processor_max_attempts: u32,
    /// Simulator: bank account numbers ending in this are returned by the recipient bank
    /// after delivery (reason 12, account closed). Empty disables the rule.
    #[arg(long, env = "ALLPS_SIM_RETURN_ACCOUNT_SUFFIX", default_value = "99")]
    pub sim_return_account_suffix: String,
    /// Simulator: bank parts whose amount has these cents are rejected at delivery
    /// (reason 26, no such account). A value above 99 disables the rule.
    #[arg(long, env = "ALLPS_SIM_REJECT_CENTS", default_value_t = 13)]
    pub sim_reject_cents: u32,
    /// Simulator: wallets for cellphone numbers ending in this fail. Empty disables it.
    #[arg(long, env = "ALLPS_SIM_WALLET_FAIL_SUFFIX", default_value = "0000")]
    pub sim_wallet_fail_suffix: String,
    /// Simulator: for cellphone numbers ending in this the issuer is unavailable on the
    /// first two attempts (the processor retries with backoff). Empty disables it.
    #[arg(long, env = "ALLPS_SIM_WALLET_RETRY_SUFFIX", default_value = "1111")]
    pub sim_wallet_retry_suffix: String,
    /// Simulator: debtor accounts ending in this plus an unpaid reason code (e.g.
    /// `812`) are unpaid with that code at every attempt (`802`: insufficient funds
    /// through every tracking day). Empty disables the rule.
    #[arg(long, env = "ALLPS_SIM_COLLECT_UNPAID_PREFIX", default_value = "8")]
    pub sim_collect_unpaid_prefix: String,
    /// Simulator: debtor accounts ending in this plus two digits KK (01-32, e.g. `703`)
    /// are unpaid 02 until tracking day KK and collected on it (and on an arrears
    /// attempt). Empty disables the rule.
    #[arg(long, env = "ALLPS_SIM_COLLECT_TRACK_PREFIX", default_value = "7")]
    pub sim_collect_track_prefix: String,
    /// Simulator: debtor accounts ending in this plus two digits NN (01-99, e.g.
    /// `605`) are collected, then disputed and reversed NN days later (reason 30).
    /// Empty disables the rule.
    #[arg(long, env = "ALLPS_SIM_COLLECT_DISPUTE_PREFIX", default_value = "6")]
    pub sim_collect_dispute_prefix: String,
    /// Simulator: DebiCheck payers whose cellphone (or, without one, debtor account)
    /// ends in this plus `KNNN` get mandate outcome K after NNN: 1 authenticated after
    /// NNN seconds, 2 after NNN minutes, 3 after NNN hours, 4 declined after NNN
    /// seconds, 5 never answered, 6 authenticated then suspended NNN hours later.
    /// Empty disables the rule.
    #[arg(long, env = "ALLPS_SIM_MANDATE_PREFIX", default_value = "99")]
    pub sim_mandate_prefix: String,
    /// Simulator: seconds after the request at which any other DebiCheck mandate is
    /// authenticated.
    #[arg(long, env = "ALLPS_SIM_MANDATE_APPROVE_SECONDS", default_value_t = 60)]
    pub sim_mandate_approve_seconds: u32,
}

impl PayoutArgs {
    /// The configuration these flags describe.
    ///
    /// # Errors
    ///
    /// Inconsistent limits or a malformed BIN list.
    pub fn config(&self) -> Result<PayoutConfig, String> {
        if self.payment_min_total > self.payment_max_total {
            return Err("--payment-min-total is above --payment-max-total".into());
        }
        let digits = |name: &str, s: &str| {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(s.to_string())
            } else {
                Err(format!("{name} {s:?} must be digits"))
            }
        };
        Ok(PayoutConfig {
            min_total: self.payment_min_total,
            max_total: self.payment_max_total,
            max_part: self.payment_max_part,
            max_cash: self.payment_max_cash,
            cut_off: self.payment_cut_off,
            submission_time: self.payment_submission_time,
            max_days_ahead: i64::from(self.payment_max_days_ahead),
            magstripe_bins: parse_bins(&self.magstripe_bins)?,
            wallet_delay: Duration::minutes(i64::from(self.wallet_delay_minutes)),
            delivery_delay: Duration::minutes(i64::from(self.delivery_delay_minutes)),
            return_delay: Duration::minutes(i64::from(self.return_delay_minutes)),
            poll_interval: std::time::Duration::from_secs(self.processor_poll_seconds.max(1)),
            lease: Duration::seconds(i64::from(self.processor_lease_seconds.max(1))),
            max_attempts: self.processor_max_attempts.max(1),
            retry_base: Duration::minutes(1),
            retry_cap: Duration::hours(1),
            simulator: SimulatorRules {
                return_account_suffix: digits(
                    "--sim-return-account-suffix",
                    &self.sim_return_account_suffix,
                )?,
                reject_cents: self.sim_reject_cents,
                wallet_fail_suffix: digits(
                    "--sim-wallet-fail-suffix",
                    &self.sim_wallet_fail_suffix,
                )?,
                wallet_retry_suffix: digits(
                    "--sim-wallet-retry-suffix",
                    &self.sim_wallet_retry_suffix,
                )?,
                wallet_retry_failures: 2,
                collect_unpaid_prefix: digits(
                    "--sim-collect-unpaid-prefix",
                    &self.sim_collect_unpaid_prefix,
                )?,
                collect_track_prefix: digits(
                    "--sim-collect-track-prefix",
                    &self.sim_collect_track_prefix,
                )?,
                collect_dispute_prefix: digits(
                    "--sim-collect-dispute-prefix",
                    &self.sim_collect_dispute_prefix,
                )?,
                mandate_prefix: digits("--sim-mandate-prefix", &self.sim_mandate_prefix)?,
                mandate_approve_seconds: self.sim_mandate_approve_seconds,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        payouts: PayoutArgs,
    }

    #[test]
    fn flag_defaults_equal_the_default_config() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(cli.payouts.config().unwrap(), PayoutConfig::default());
    }

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from([
            "x",
            "--payment-max-cash",
            "2500",
            "--payment-cut-off",
            "14:30",
            "--magstripe-bins",
            "639100, 5019",
            "--wallet-delay-minutes",
            "1",
        ])
        .unwrap();
        let c = cli.payouts.config().unwrap();
        assert_eq!(c.max_cash.to_string(), "2500.00");
        assert_eq!(c.cut_off, Time::from_hms(14, 30, 0).unwrap());
        assert_eq!(c.magstripe_bins, vec!["639100", "5019"]);
        assert_eq!(c.wallet_delay, Duration::minutes(1));
        assert!(Cli::try_parse_from(["x", "--payment-max-cash", "1.001"]).is_err());
        assert!(Cli::try_parse_from(["x", "--payment-cut-off", "25:00"]).is_err());
        let cli = Cli::try_parse_from(["x", "--magstripe-bins", "12a"]).unwrap();
        assert!(cli.payouts.config().is_err());
        let cli = Cli::try_parse_from([
            "x",
            "--sim-collect-unpaid-prefix",
            "91",
            "--sim-collect-track-prefix",
            "",
        ])
        .unwrap();
        let c = cli.payouts.config().unwrap();
        assert_eq!(c.simulator.collect_unpaid_prefix, "91");
        assert_eq!(c.simulator.collect_track_prefix, "");
        assert_eq!(c.simulator.collect_dispute_prefix, "6");
        let cli = Cli::try_parse_from(["x", "--sim-collect-dispute-prefix", "x"]).unwrap();
        assert!(cli.payouts.config().is_err());
    }

    #[test]
    fn backoff_doubles_to_the_cap() {
        let c = PayoutConfig::default();
        assert_eq!(c.backoff(1), Duration::minutes(1));
        assert_eq!(c.backoff(2), Duration::minutes(2));
        assert_eq!(c.backoff(4), Duration::minutes(8));
        assert_eq!(c.backoff(10), Duration::hours(1));
        assert_eq!(c.backoff(1000), Duration::hours(1));
    }
}
