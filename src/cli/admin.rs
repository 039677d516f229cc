//! `allps-ws admin`: the operator's commands for organisations, branches, users,
//! passwords, rights, branch allocations and computers, and `seed-fixtures` for replay
//! set-ups. Each command's change, with its `audit_log` entry, runs in one IMMEDIATE
//! transaction on its own connection
//! ([`store::Direct`]: WAL, foreign keys, busy timeout, migrations), so it is
//! safe beside a running server; every user change goes through [`store::admin`], which
//! bumps `users.auth_version`, so the server applies it on the next call.
//!
//! Passwords come only from standard input (`--password-stdin`) or a no-echo prompt,
//! never from the command line, and are never printed or logged.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::auth::hash_password;
use crate::clock::format_timestamp;
use crate::domain::calendar::Calendar;
use crate::store::admin::{self as store_admin, AdminError, RIGHTS};
use crate::store::holidays;
use crate::store::lender::{self, LenderDetails};
use crate::store::{Direct, Tx, inspect, operators};

pub use crate::auth::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_password_policy};

/// How long an admin command waits for the server's writer to release the database.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// `allps-ws admin`.
#[derive(Debug, Args)]
#[command(
    about = "Manage organisations, branches, users, passwords, rights, branch allocations and computers",
    long_about = "Manage organisations, branches, users, passwords, rights, branch allocations and \
computers in an allps-ws database.\n\nEvery command runs in one transaction and is safe while \
`allps-ws serve` runs on the same database: the server applies the change on its next call \
(a changed password, disabled user, revoked right, removed branch or bound computer also \
invalidates the server's cached credentials and, where it matters, the user's sessions).\n\n\
Passwords are read from standard input with --password-stdin (one line) or from a prompt \
that does not echo; never from the command line.",
    after_help = "Examples:\n  allps-ws admin --db allps.db org add DEMO --name \"Demo Lender\"\n  \
allps-ws admin --db allps.db branch add --org DEMO BR001 --name \"Main\"\n  \
allps-ws admin --db allps.db user add --org DEMO alice --branch BR001 --right WEB_SERVICES\n  \
printf '%s\\n' \"$PASSWORD\" | allps-ws admin --db allps.db user passwd --org DEMO alice --password-stdin\n  \
allps-ws admin --db allps.db computer add --org DEMO alice LENDER-PC01\n  \
allps-ws admin --db allps.db user list --org DEMO"
)]
pub struct AdminArgs {
    /// SQLite database file, or a `postgres://` URL (the one `serve --db` uses).
    #[arg(long, env = "ALLPS_DB", default_value = "allps.db", global = true)]
    pub db: PathBuf,
    /// What to manage.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// The nouns of `admin`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Organisations (legal entities): add, list, enable, disable.
    #[command(subcommand)]
    Org(OrgCommand),
    /// An organisation's branches: add, list, enable, disable.
    #[command(subcommand)]
    Branch(BranchCommand),
    /// Integration users: add, passwd, enable, disable, unlock, list, allocate, deallocate.
    #[command(subcommand)]
    User(UserCommand),
    /// Rights: list the known rights, grant or revoke one.
    #[command(subcommand)]
    Right(RightCommand),
    /// Computers a user is bound to (a user with none may call from any computer).
    #[command(subcommand)]
    Computer(ComputerCommand),
    /// Public holidays declared while the service runs: add (moves every instalment not
    /// yet presented off the day, each move reported as an INSTALMENT_MOVED reply), list.
    #[command(subcommand)]
    Holiday(HolidayCommand),
    /// Console operators: add (a platform operator, or with --org an organisation's
    /// administrator), list, enable, disable, unlock, passwd.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Create the fixture principals and run the fixtures' base.sql into an empty
    /// database, so that `allps-ws replay` can run the bundled fixtures against a server
    /// on it (start that server with `--fixed-time 2026-11-23T08:00:00Z`).
    SeedFixtures(SeedArgs),
}

/// `admin operator ...`: the people who log in to the console (`serve --console-listen`).
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator (password from --password-stdin or a prompt). Without --org it is
    /// a platform operator (sets up organisations); with --org, that organisation's
    /// administrator (sees and changes only it).
    Add {
        /// Login name.
        login: String,
        /// The organisation it administers (omit for a platform operator).
        #[arg(long)]
        org: Option<String>,
        /// Where the password comes from.
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List operators (all, or one organisation's administrators).
    List {
        /// Only this organisation's administrators.
        #[arg(long)]
        org: Option<String>,
    },
    /// Enable an operator.
    Enable {
        /// Login name.
        login: String,
    },
    /// Disable an operator: its console sessions end at once.
    Disable {
        /// Login name.
        login: String,
    },
    /// Clear an operator's lockout.
    Unlock {
        /// Login name.
        login: String,
    },
    /// Set an operator's password (clears a lockout, ends its sessions).
    Passwd {
        /// Login name.
        login: String,
        /// Where the password comes from.
        #[command(flatten)]
        password: PasswordSource,
    },
}

/// `admin holiday ...`.
#[derive(Debug, Subcommand)]
pub enum HolidayCommand {
    /// Declare a public holiday (e.g. an election day gazetted during the year). The
    /// running server applies it on its next call; every PENDING instalment on the day
    /// moves to the previous business day.
    Add {
        /// The date, YYYY-MM-DD.
        date: String,
        /// The holiday's name, e.g. "Local government elections".
        name: String,
        /// Declared-holidays file the server was started with (`serve --holidays-file`),
        /// so the move uses the same calendar; default: the bundled list.
        #[arg(long, env = "ALLPS_HOLIDAYS_FILE")]
        holidays_file: Option<PathBuf>,
    },
    /// List the holidays declared with `holiday add`.
    List,
}

/// `admin org ...`.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add an organisation.
    Add {
        /// Organisation code (1-20 letters, digits, - or _), e.g. DEMO.
        code: String,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// List organisations.
    List,
    /// Enable an organisation.
    Enable {
        /// Organisation code.
        code: String,
    },
    /// Disable an organisation: none of its users can call until it is enabled again.
    Disable {
        /// Organisation code.
        code: String,
    },
    /// Record the lender's details printed on every document (the next document printed
    /// shows them; no restart). Only the options given change; an empty value clears
    /// one. With no option, shows the recorded details.
    Details {
        /// Organisation code.
        code: String,
        /// Registered (legal) name, e.g. "Demo Micro Lender (Pty) Ltd".
        #[arg(long)]
        legal_name: Option<String>,
        /// National Credit Regulator registration number, e.g. NCRCP1234.
        #[arg(long)]
        ncr_number: Option<String>,
        /// Address, e.g. "12 Main Road, Polokwane, 0700".
        #[arg(long)]
        address: Option<String>,
        /// Telephone number.
        #[arg(long)]
        phone: Option<String>,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
        /// The name the debit shows on the payer's bank statement (at most 30 characters).
        #[arg(long)]
        statement_name: Option<String>,
    },
}

/// `admin branch ...`.
#[derive(Debug, Subcommand)]
pub enum BranchCommand {
    /// Add a branch to an organisation.
    Add {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// Branch code (1-20 letters, digits, - or _), e.g. BR001.
        code: String,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// List an organisation's branches.
    List {
        /// Organisation code.
        #[arg(long)]
        org: String,
    },
    /// Enable a branch.
    Enable {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// Branch code.
        code: String,
    },
    /// Disable a branch: calls acting in it are refused (BRANCH_NOT_ALLOWED).
    Disable {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// Branch code.
        code: String,
    },
}

/// Where a new password comes from.
#[derive(Debug, Args)]
pub struct PasswordSource {
    /// Read the password from standard input (one line; the newline is stripped).
    /// Without it the password is prompted for twice on the terminal, without echo.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `admin user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (password from --password-stdin or a prompt).
    Add {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name (1-50 characters, no spaces).
        user: String,
        /// Allocate these branches at once (repeatable).
        #[arg(long = "branch", value_name = "BRANCH")]
        branches: Vec<String>,
        /// Grant these rights at once (repeatable), e.g. WEB_SERVICES.
        #[arg(long = "right", value_name = "RIGHT")]
        rights: Vec<String>,
        /// Where the password comes from.
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a user's password; clears any lockout and ends the user's sessions.
    Passwd {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name.
        user: String,
        /// Where the password comes from.
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Enable a user.
    Enable {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name.
        user: String,
    },
    /// Disable a user (USER_DISABLED from the next call) and end the user's sessions.
    Disable {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name.
        user: String,
    },
    /// Clear a lockout and the failed-attempt count.
    Unlock {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name.
        user: String,
    },
    /// List an organisation's users with their state, rights, branches and computers.
    List {
        /// Organisation code.
        #[arg(long)]
        org: String,
    },
    /// Allocate a branch to a user (the user may then act in it).
    Allocate {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name.
        user: String,
        /// Branch code.
        branch: String,
    },
    /// Remove a branch allocation (BRANCH_NOT_ALLOWED from the next call; sessions in
    /// that branch end).
    Deallocate {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name.
        user: String,
        /// Branch code.
        branch: String,
    },
}

/// `admin right ...`.
#[derive(Debug, Subcommand)]
pub enum RightCommand {
    /// List the rights that can be granted, with their descriptions.
    List,
    /// Grant a right to a user.
    Grant {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name.
        user: String,
        /// Right code (see `right list`), e.g. WEB_SERVICES.
        right: String,
    },
    /// Revoke a right from a user (RIGHT_MISSING from the next call).
    Revoke {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name.
        user: String,
        /// Right code.
        right: String,
    },
}

/// `admin computer ...`.
#[derive(Debug, Subcommand)]
pub enum ComputerCommand {
    /// Bind a user to a computer name (compared without regard to case). Once a user
    /// has computers, calls with any other ComputerName fault COMPUTER_NOT_ALLOWED.
    Add {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name.
        user: String,
        /// Computer name as the client sends it in ComputerName.
        computer: String,
    },
    /// Remove a computer binding.
    Remove {
        /// Organisation code.
        #[arg(long)]
        org: String,
        /// User name.
        user: String,
        /// Computer name.
        computer: String,
    },
    /// List the computer bindings of an organisation's users.
    List {
        /// Organisation code.
        #[arg(long)]
        org: String,
    },
}

/// `admin seed-fixtures`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// A fixtures directory whose base.sql replaces the bundled one (default: the
    /// base.sql built into the binary).
    #[arg(long, env = "ALLPS_FIXTURES")]
    pub fixtures: Option<PathBuf>,
}

/// Runs an admin command; the returned text is the operator's error message.
///
/// # Errors
///
/// Refusals (unknown or duplicate names, a weak password, no password on standard
/// input) and database failures, as text.
pub fn run(args: AdminArgs) -> Result<(), String> {
    let db = args.db.as_path();
    let creates = matches!(
        args.command,
        AdminCommand::Org(OrgCommand::Add { .. }) | AdminCommand::SeedFixtures(_)
    );
    if !creates
        && !matches!(args.command, AdminCommand::Right(RightCommand::List))
        && !crate::store::is_postgres(db)
        && !db.exists()
    {
        return Err(format!(
            "database {} does not exist (check --db / ALLPS_DB; `admin org add` or `serve` creates one)",
            db.display()
        ));
    }
    // The audit entry goes into the same transaction as the change it records (see
    // [`Admin::change`]): both commit or neither does.
    let audit =
        describe(&args.command).map(|(organisation, action, detail)| operators::AuditEntry {
            id: 0,
            at: now(),
            actor: format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "?".into())
            ),
            organisation,
            action: action.to_string(),
            detail,
            peer: "cli".into(),
        });
    let admin = Admin { path: db, audit };
    let mut out = std::io::stdout().lock();
    let result = match args.command {
        AdminCommand::Org(c) => org(&admin, c, &mut out),
        AdminCommand::Branch(c) => branch(&admin, c, &mut out),
        AdminCommand::User(c) => user(&admin, c, &mut out),
        AdminCommand::Right(c) => right(&admin, c, &mut out),
        AdminCommand::Computer(c) => computer(&admin, c, &mut out),
        AdminCommand::Holiday(c) => holiday(&admin, c, &mut out),
        AdminCommand::Operator(c) => operator(&admin, c, &mut out),
        AdminCommand::SeedFixtures(a) => seed_fixtures(db, &a, &mut out),
    };
    out.flush().map_err(|e| e.to_string())?;
    result
}

/// The database of one admin command and the audit entry of its change (`None` for
/// lists, `seed-fixtures` and `org details` without a change).
struct Admin<'a> {
    path: &'a Path,
    audit: Option<operators::AuditEntry>,
}

impl Admin<'_> {
    /// One transaction that changes nothing the audit log records: checks made before
    /// asking for a password, and lists.
    fn tx<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, AdminError>) -> Result<T, String> {
        in_tx(self.path, f)
    }

    /// The command's change and, in the SAME transaction, its audit entry: a change the
    /// store refuses leaves no entry, and a committed change always has its one entry.
    fn change<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, AdminError>) -> Result<T, String> {
        in_tx(self.path, |c| {
            let out = f(c)?;
            if let Some(entry) = &self.audit {
                operators::audit(c, entry)?;
            }
            Ok(out)
        })
    }
}

/// The audit-log entry of a command that changes something (organisation, action,
/// detail); `None` for lists and `seed-fixtures`.
fn describe(command: &AdminCommand) -> Option<(Option<String>, &'static str, String)> {
    let org = |o: &str| Some(o.to_string());
    Some(match command {
        AdminCommand::Org(c) => match c {
            OrgCommand::Add { code, name } => (org(code), "org.add", format!("{code} {name}")),
            OrgCommand::Enable { code } => (org(code), "org.enable", code.clone()),
            OrgCommand::Disable { code } => (org(code), "org.disable", code.clone()),
            OrgCommand::Details {
                code,
                legal_name,
                ncr_number,
                address,
                phone,
                email,
                statement_name,
            } => {
                if [
                    legal_name,
                    ncr_number,
                    address,
                    phone,
                    email,
                    statement_name,
                ]
                .iter()
                .all(|v| v.is_none())
                {
                    return None;
                }
                (org(code), "org.details", code.clone())
            }
            OrgCommand::List => return None,
        },
        AdminCommand::Branch(c) => match c {
            BranchCommand::Add { org: o, code, name } => {
                (org(o), "branch.add", format!("{o}/{code} {name}"))
            }
            BranchCommand::Enable { org: o, code } => {
                (org(o), "branch.enable", format!("{o}/{code}"))
            }
            BranchCommand::Disable { org: o, code } => {
                (org(o), "branch.disable", format!("{o}/{code}"))
            }
            BranchCommand::List { .. } => return None,
        },
        AdminCommand::User(c) => match c {
            UserCommand::Add {
                org: o,
                user,
                branches,
                rights,
                ..
            } => (
                org(o),
                "user.add",
                format!(
                    "{o}/{user} branches {} rights {}",
                    branches.join(","),
                    rights.join(",")
                ),
            ),
            UserCommand::Passwd { org: o, user, .. } => {
                (org(o), "user.password", format!("{o}/{user}"))
            }
            UserCommand::Enable { org: o, user } => (org(o), "user.enable", format!("{o}/{user}")),
            UserCommand::Disable { org: o, user } => {
                (org(o), "user.disable", format!("{o}/{user}"))
            }
            UserCommand::Unlock { org: o, user } => (org(o), "user.unlock", format!("{o}/{user}")),
            UserCommand::Allocate {
                org: o,
                user,
                branch,
            } => (org(o), "user.allocate", format!("{o}/{user} {branch}")),
            UserCommand::Deallocate {
                org: o,
                user,
                branch,
            } => (org(o), "user.deallocate", format!("{o}/{user} {branch}")),
            UserCommand::List { .. } => return None,
        },
        AdminCommand::Right(c) => match c {
            RightCommand::Grant {
                org: o,
                user,
                right,
            } => (org(o), "right.grant", format!("{o}/{user} {right}")),
            RightCommand::Revoke {
                org: o,
                user,
                right,
            } => (org(o), "right.revoke", format!("{o}/{user} {right}")),
            RightCommand::List => return None,
        },
        AdminCommand::Computer(c) => match c {
            ComputerCommand::Add {
                org: o,
                user,
                computer,
            } => (org(o), "computer.add", format!("{o}/{user} {computer}")),
            ComputerCommand::Remove {
                org: o,
                user,
                computer,
            } => (org(o), "computer.remove", format!("{o}/{user} {computer}")),
            ComputerCommand::List { .. } => return None,
        },
        AdminCommand::Holiday(c) => match c {
            HolidayCommand::Add { date, name, .. } => {
                (None, "holiday.add", format!("{date} {name}"))
            }
            HolidayCommand::List => return None,
        },
        AdminCommand::Operator(c) => match c {
            OperatorCommand::Add { login, org: o, .. } => (
                o.clone(),
                "operator.add",
                match o {
                    Some(o) => format!("{login} administrator of {o}"),
                    None => format!("{login} platform operator"),
                },
            ),
            OperatorCommand::Enable { login } => (None, "operator.enable", login.clone()),
            OperatorCommand::Disable { login } => (None, "operator.disable", login.clone()),
            OperatorCommand::Unlock { login } => (None, "operator.unlock", login.clone()),
            OperatorCommand::Passwd { login, .. } => (None, "operator.password", login.clone()),
            OperatorCommand::List { .. } => return None,
        },
        AdminCommand::SeedFixtures(_) => return None,
    })
}

fn operator(db: &Admin<'_>, command: OperatorCommand, out: &mut Out<'_>) -> Result<(), String> {
    match command {
        OperatorCommand::Add {
            login,
            org,
            password,
        } => {
            db.tx(|c| {
                operators::check_login(&login)?;
                if let Some(org) = &org {
                    store_admin::organisation_id(c, org)?;
                }
                if operators::by_login(c, &login)?.is_some() {
                    return Err(AdminError::Exists(format!("operator {login}")));
                }
                Ok(())
            })?;
            let hash = hash_password(&new_password(&password, "console", &login)?);
            db.change(|c| operators::add(c, &login, &hash, org.as_deref(), &now()).map(|_| ()))?;
            say(
                out,
                &match &org {
                    Some(org) => format!("operator {login} added (administrator of {org})"),
                    None => format!("operator {login} added (platform operator)"),
                },
            )
        }
        OperatorCommand::List { org } => {
            let rows = db.tx(|c| operators::list(c, org.as_deref()))?;
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|o| {
                    vec![
                        o.login,
                        o.organisation.unwrap_or_else(|| "(platform)".into()),
                        if o.enabled { "yes" } else { "no" }.into(),
                        o.locked_until.unwrap_or_default(),
                    ]
                })
                .collect();
            table(
                out,
                &["LOGIN", "ADMINISTERS", "ENABLED", "LOCKED_UNTIL"],
                &rows,
            )
        }
        OperatorCommand::Enable { login } => {
            db.change(|c| operators::set_enabled(c, &login, true))?;
            say(out, &format!("operator {login} enabled"))
        }
        OperatorCommand::Disable { login } => {
            db.change(|c| operators::set_enabled(c, &login, false))?;
            say(out, &format!("operator {login} disabled; sessions ended"))
        }
        OperatorCommand::Unlock { login } => {
            db.change(|c| operators::unlock(c, &login))?;
            say(out, &format!("operator {login} unlocked"))
        }
        OperatorCommand::Passwd { login, password } => {
            db.tx(|c| {
                operators::by_login(c, &login)?
                    .map(|_| ())
                    .ok_or_else(|| AdminError::NotFound(format!("operator {login}")))
            })?;
            let hash = hash_password(&new_password(&password, "console", &login)?);
            db.change(|c| operators::set_password(c, &login, &hash))?;
            say(
                out,
                &format!("password of operator {login} changed; lockout cleared, sessions ended"),
            )
        }
    }
}

type Out<'a> = std::io::StdoutLock<'a>;

fn now() -> String {
    format_timestamp(time::OffsetDateTime::now_utc())
}

/// Opens the database and runs `f` in one IMMEDIATE transaction, committed only on `Ok`.
fn in_tx<T>(db: &Path, f: impl FnOnce(&Tx<'_>) -> Result<T, AdminError>) -> Result<T, String> {
    let mut direct = Direct::open(db, BUSY_TIMEOUT)
        .map_err(|e| format!("opening {}: {e}", crate::store::redacted(db)))?;
    direct
        .immediate(f)
        .map_err(|e| format!("writing to {}: {e}", crate::store::redacted(db)))?
        .map_err(|e| e.to_string())
}

fn say(out: &mut Out<'_>, line: &str) -> Result<(), String> {
    writeln!(out, "{line}").map_err(|e| e.to_string())
}

/// Writes rows as left-aligned columns under a header; the last column is not padded.
fn table(out: &mut Out<'_>, header: &[&str], rows: &[Vec<String>]) -> Result<(), String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let cells: Vec<&str> = cells.collect();
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(cell);
                let pad = widths[i] - cell.chars().count() + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text
    };
    say(out, &line(&mut header.iter().copied()))?;
    for row in rows {
        say(out, &line(&mut row.iter().map(String::as_str)))?;
    }
    Ok(())
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(",")
    }
}

fn org(db: &Admin<'_>, command: OrgCommand, out: &mut Out<'_>) -> Result<(), String> {
    match command {
        OrgCommand::Add { code, name } => {
            let name = non_blank("--name", &name)?;
            db.change(|c| store_admin::add_organisation(c, &code, &name, &now()))?;
            say(out, &format!("organisation {code} added"))
        }
        OrgCommand::List => {
            let rows = db.tx(store_admin::list_organisations)?;
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|(code, name, enabled)| vec![code, yes_no(enabled), name])
                .collect();
            table(out, &["CODE", "ENABLED", "NAME"], &rows)
        }
        OrgCommand::Enable { code } => {
            db.change(|c| store_admin::set_organisation_enabled(c, &code, true))?;
            say(out, &format!("organisation {code} enabled"))
        }
        OrgCommand::Disable { code } => {
            db.change(|c| store_admin::set_organisation_enabled(c, &code, false))?;
            say(out, &format!("organisation {code} disabled"))
        }
        OrgCommand::Details {
            code,
            legal_name,
            ncr_number,
            address,
            phone,
            email,
            statement_name,
        } => {
            let mut details = LenderDetails {
                legal_name,
                ncr_number,
                address,
                phone,
                email,
                statement_name,
            };
            for (what, value) in [
                ("--legal-name", &mut details.legal_name),
                ("--ncr-number", &mut details.ncr_number),
                ("--address", &mut details.address),
                ("--phone", &mut details.phone),
                ("--email", &mut details.email),
                ("--statement-name", &mut details.statement_name),
            ] {
                if let Some(v) = value.as_deref() {
                    let max = if what == "--statement-name" { 30 } else { 200 };
                    if v.trim().chars().count() > max || v.chars().any(char::is_control) {
                        return Err(format!(
                            "{what} must be at most {max} characters, without control characters"
                        ));
                    }
                }
            }
            let changing = details != LenderDetails::default();
            let stored = db.change(|c| {
                if changing {
                    lender::set_details(c, &code, &details)?;
                }
                lender::details(c, &code)
            })?;
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            let rows = vec![
                vec!["legal name".into(), show(&stored.legal_name)],
                vec!["NCR number".into(), show(&stored.ncr_number)],
                vec!["address".into(), show(&stored.address)],
                vec!["phone".into(), show(&stored.phone)],
                vec!["email".into(), show(&stored.email)],
                vec!["statement name".into(), show(&stored.statement_name)],
            ];
            if changing {
                say(out, &format!("organisation {code} details recorded"))?;
            }
            table(out, &["DETAIL", "VALUE"], &rows)
        }
    }
}

fn holiday(db: &Admin<'_>, command: HolidayCommand, out: &mut Out<'_>) -> Result<(), String> {
    match command {
        HolidayCommand::Add {
            date,
            name,
            holidays_file,
        } => {
            let day = crate::clock::parse_date(&date)
                .ok_or_else(|| format!("{date:?} is not a date (YYYY-MM-DD)"))?;
            let base = match &holidays_file {
                Some(path) => Calendar::from_declared_file(path)
                    .map_err(|e| format!("holidays file {}: {e}", path.display()))?,
                None => Calendar::south_africa(),
            };
            let now = time::OffsetDateTime::now_utc();
            let moved = db.change(|c| holidays::declare(c, &base, day, &name, now))?;
            say(
                out,
                &format!(
                    "public holiday {date} declared; {} instalment(s) moved",
                    moved.len()
                ),
            )?;
            let rows: Vec<Vec<String>> = moved
                .iter()
                .map(|m| {
                    vec![
                        m.organisation.clone(),
                        crate::domain::promissory::promissory_number(m.promissory_number),
                        m.instalment_number.to_string(),
                        crate::clock::format_date(m.from),
                        crate::clock::format_date(m.to),
                    ]
                })
                .collect();
            if rows.is_empty() {
                Ok(())
            } else {
                table(
                    out,
                    &["ORGANISATION", "PROMISSORY", "INSTALMENT", "FROM", "TO"],
                    &rows,
                )
            }
        }
        HolidayCommand::List => {
            let rows = db.tx(|c| Ok(holidays::all(c)?))?;
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|(d, n)| vec![crate::clock::format_date(d), n])
                .collect();
            table(out, &["DATE", "NAME"], &rows)
        }
    }
}

fn non_blank(what: &str, value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 100 {
        return Err(format!("{what} must be 1-100 characters"));
    }
    Ok(value.to_string())
}

fn branch(db: &Admin<'_>, command: BranchCommand, out: &mut Out<'_>) -> Result<(), String> {
    match command {
        BranchCommand::Add { org, code, name } => {
            let name = non_blank("--name", &name)?;
            db.change(|c| store_admin::add_branch(c, &org, &code, &name, &now()))?;
            say(out, &format!("branch {org}/{code} added"))
        }
        BranchCommand::List { org } => {
            let rows = db.tx(|c| store_admin::list_branches(c, &org))?;
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|(code, name, enabled)| vec![code, yes_no(enabled), name])
                .collect();
            table(out, &["CODE", "ENABLED", "NAME"], &rows)
        }
        BranchCommand::Enable { org, code } => {
            db.change(|c| store_admin::set_branch_enabled(c, &org, &code, true))?;
            say(out, &format!("branch {org}/{code} enabled"))
        }
        BranchCommand::Disable { org, code } => {
            db.change(|c| store_admin::set_branch_enabled(c, &org, &code, false))?;
            say(out, &format!("branch {org}/{code} disabled"))
        }
    }
}

fn user(db: &Admin<'_>, command: UserCommand, out: &mut Out<'_>) -> Result<(), String> {
    match command {
        UserCommand::Add {
            org,
            user,
            branches,
            rights,
            password,
        } => {
            // Refuse what can be refused before asking for a password.
            db.tx(|c| {
                store_admin::organisation_id(c, &org)?;
                if store_admin::user_exists(c, &org, &user)? {
                    return Err(AdminError::Exists(format!("user {org}/{user}")));
                }
                Ok(())
            })?;
            let hash = hash_password(&new_password(&password, &org, &user)?);
            db.change(|c| {
                store_admin::add_user(c, &org, &user, &hash, &now())?;
                for branch in &branches {
                    store_admin::set_branch_allocation(c, &org, &user, branch, true)?;
                }
                for right in &rights {
                    store_admin::set_right(c, &org, &user, right, true)?;
                }
                Ok(())
            })?;
            let mut line = format!("user {org}/{user} added");
            if !branches.is_empty() {
                line.push_str(&format!("; branches {}", branches.join(",")));
            }
            if !rights.is_empty() {
                line.push_str(&format!("; rights {}", rights.join(",")));
            }
            say(out, &line)
        }
        UserCommand::Passwd {
            org,
            user,
            password,
        } => {
            db.tx(|c| {
                if store_admin::user_exists(c, &org, &user)? {
                    Ok(())
                } else {
                    Err(AdminError::NotFound(format!("user {org}/{user}")))
                }
            })?;
            let hash = hash_password(&new_password(&password, &org, &user)?);
            db.change(|c| store_admin::set_password(c, &org, &user, &hash))?;
            say(
                out,
                &format!("password of {org}/{user} changed; lockout cleared, sessions ended"),
            )
        }
        UserCommand::Enable { org, user } => {
            db.change(|c| store_admin::set_user_enabled(c, &org, &user, true))?;
            say(out, &format!("user {org}/{user} enabled"))
        }
        UserCommand::Disable { org, user } => {
            db.change(|c| store_admin::set_user_enabled(c, &org, &user, false))?;
            say(out, &format!("user {org}/{user} disabled; sessions ended"))
        }
        UserCommand::Unlock { org, user } => {
            db.change(|c| store_admin::unlock_user(c, &org, &user))?;
            say(out, &format!("user {org}/{user} unlocked"))
        }
        UserCommand::List { org } => {
            let users = db.tx(|c| store_admin::list_users(c, &org))?;
            let rows: Vec<Vec<String>> = users
                .into_iter()
                .map(|u| {
                    vec![
                        u.user_name,
                        yes_no(u.enabled),
                        u.locked_until.unwrap_or_else(|| "-".into()),
                        u.failed_attempts.to_string(),
                        list_or_dash(&u.rights),
                        list_or_dash(&u.branches),
                        list_or_dash(&u.computers),
                    ]
                })
                .collect();
            table(
                out,
                &[
                    "USER",
                    "ENABLED",
                    "LOCKED_UNTIL",
                    "FAILED",
                    "RIGHTS",
                    "BRANCHES",
                    "COMPUTERS",
                ],
                &rows,
            )
        }
        UserCommand::Allocate { org, user, branch } => {
            db.change(|c| store_admin::set_branch_allocation(c, &org, &user, &branch, true))?;
            say(
                out,
                &format!("user {org}/{user} allocated to branch {branch}"),
            )
        }
        UserCommand::Deallocate { org, user, branch } => {
            db.change(|c| store_admin::set_branch_allocation(c, &org, &user, &branch, false))?;
            say(
                out,
                &format!("user {org}/{user} no longer allocated to branch {branch}"),
            )
        }
    }
}

fn right(db: &Admin<'_>, command: RightCommand, out: &mut Out<'_>) -> Result<(), String> {
    match command {
        RightCommand::List => {
            let rows: Vec<Vec<String>> = RIGHTS
                .iter()
                .map(|(code, description)| vec![code.to_string(), description.to_string()])
                .collect();
            table(out, &["CODE", "DESCRIPTION"], &rows)
        }
        RightCommand::Grant { org, user, right } => {
            db.change(|c| store_admin::set_right(c, &org, &user, &right, true))?;
            say(out, &format!("right {right} granted to {org}/{user}"))
        }
        RightCommand::Revoke { org, user, right } => {
            db.change(|c| store_admin::set_right(c, &org, &user, &right, false))?;
            say(out, &format!("right {right} revoked from {org}/{user}"))
        }
    }
}

fn computer(db: &Admin<'_>, command: ComputerCommand, out: &mut Out<'_>) -> Result<(), String> {
    match command {
        ComputerCommand::Add {
            org,
            user,
            computer,
        } => {
            db.change(|c| store_admin::set_computer(c, &org, &user, &computer, true))?;
            say(
                out,
                &format!("user {org}/{user} bound to computer {computer}"),
            )
        }
        ComputerCommand::Remove {
            org,
            user,
            computer,
        } => {
            db.change(|c| store_admin::set_computer(c, &org, &user, &computer, false))?;
            say(
                out,
                &format!("user {org}/{user} no longer bound to computer {computer}"),
            )
        }
        ComputerCommand::List { org } => {
            let users = db.tx(|c| store_admin::list_users(c, &org))?;
            let rows: Vec<Vec<String>> = users
                .into_iter()
                .flat_map(|u| {
                    let name = u.user_name;
                    u.computers
                        .into_iter()
                        .map(move |computer| vec![name.clone(), computer])
                })
                .collect();
            table(out, &["USER", "COMPUTER"], &rows)
        }
    }
}

fn seed_fixtures(db: &Path, args: &SeedArgs, out: &mut Out<'_>) -> Result<(), String> {
    let (sql, source) = match &args.fixtures {
        Some(dir) => {
            let base = dir.join("base.sql");
            let sql = std::fs::read_to_string(&base)
                .map_err(|e| format!("reading {}: {e}", base.display()))?;
            (sql, base.display().to_string())
        }
        None => (
            crate::cli::fixtures::BASE_SQL.to_string(),
            "the bundled fixtures/base.sql".to_string(),
        ),
    };
    in_tx(db, |c| {
        let organisations = inspect::organisations(c)?;
        if organisations > 0 {
            return Err(AdminError::Invalid(format!(
                "{} already has organisations; seed-fixtures needs an empty database \
                 (base.sql uses fixed row ids)",
                db.display()
            )));
        }
        crate::cli::fixtures::seed_principals(c, crate::cli::fixtures::FIXED_NOW)?;
        inspect::run_script(c, &sql).map_err(|e| AdminError::Invalid(format!("{source}: {e}")))
    })?;
    say(
        out,
        &format!(
            "seeded {}: fixture principals (organisations DEMO and OTHER; users demo, noright, \
             disabled, bound, nobranch, locked; password {}) and {source}",
            db.display(),
            crate::cli::fixtures::PASSWORD,
        ),
    )
}

/// Reads a new password (from standard input or a no-echo prompt) and checks the policy.
fn new_password(source: &PasswordSource, org: &str, user: &str) -> Result<String, String> {
    let password = if source.password_stdin {
        let mut line = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("reading the password from standard input: {e}"))?;
        if read == 0 {
            return Err(
                "--password-stdin: standard input is empty; send the password as one line".into(),
            );
        }
        if line.ends_with('\n') {
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
        }
        line
    } else {
        if !std::io::stdin().is_terminal() {
            return Err(
                "standard input is not a terminal: pass --password-stdin and send the password \
                 as one line on standard input (passwords are never taken from the command line)"
                    .into(),
            );
        }
        let first = rpassword::prompt_password(format!("New password for {org}/{user}: "))
            .map_err(|e| format!("reading the password: {e}"))?;
        check_password_policy(&first, user)?;
        let second = rpassword::prompt_password("Repeat it: ")
            .map_err(|e| format!("reading the password: {e}"))?;
        if first != second {
            return Err("the passwords do not match".into());
        }
        first
    };
    check_password_policy(&password, user)?;
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(check_password_policy("correct-horse", "alice").is_ok());
        assert!(
            check_password_policy("short", "alice")
                .unwrap_err()
                .contains("at least 10")
        );
        assert!(check_password_policy(" leading-space", "alice").is_err());
        assert!(check_password_policy("tab\tinside-it", "alice").is_err());
        assert!(check_password_policy("alice-admin", "alice-admin").is_err());
        assert!(check_password_policy(&"x".repeat(129), "alice").is_err());
        assert!(check_password_policy("ünïcödé-pässwörd", "alice").is_ok());
    }
}
