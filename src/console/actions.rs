//! The console's POST actions: every change `allps-ws admin` can make, through the same
//! `store::admin` / `store::lender` / `store::holidays` / `store::operators` functions,
//! each with its audit entry in the same transaction. The CSRF token was checked before
//! any of this runs; each action that names an organisation checks
//! [`Session::scope`] first, and what names a user or branch finds it inside that
//! organisation only. On success the browser is sent back to the page it came from.

use crate::auth::check_password_policy;
use crate::store::admin as store_admin;
use crate::store::lender::{self, LenderDetails};
use crate::store::{holidays, operators};

use super::view::{pct, value};
use super::{Console, Failure, Reply, Session, hash, write_audited};

type Form = [(String, String)];

fn field<'a>(form: &'a Form, name: &str) -> Result<&'a str, Failure> {
    match value(form, name).map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Failure::Invalid(format!("{name} is required"))),
    }
}

fn password<'a>(form: &'a Form, owner: &str) -> Result<&'a str, Failure> {
    let pw = value(form, "password").unwrap_or("");
    check_password_policy(pw, owner).map_err(Failure::Invalid)?;
    Ok(pw)
}

/// Routes a POST.
pub(super) async fn post(
    console: &Console,
    session: &Session,
    segments: &[&str],
    form: &Form,
) -> Result<Reply, Failure> {
    match segments {
        ["orgs"] => add_org(console, session, form).await,
        ["operators"] => add_operator(console, session, form, None).await,
        ["operators", login, action] => operator_action(console, session, login, action).await,
        ["holidays"] => declare_holiday(console, session, form).await,
        ["org", org, action @ ("enable" | "disable")] => {
            session.platform_only()?;
            let enabled = *action == "enable";
            let o = org.to_string();
            write_audited(
                console,
                session,
                Some(org),
                &format!("org.{action}"),
                org.to_string(),
                move |tx| Ok(store_admin::set_organisation_enabled(tx, &o, enabled)?),
            )
            .await?;
            Ok(back_to_org(org))
        }
        ["org", org, "details"] => details(console, session, org, form).await,
        ["org", org, "branches"] => {
            session.scope(org)?;
            let code = field(form, "code")?.to_string();
            let name = field(form, "name")?.to_string();
            let (o, now) = (org.to_string(), now(console));
            write_audited(
                console,
                session,
                Some(org),
                "branch.add",
                format!("{org}/{code} {name}"),
                move |tx| Ok(store_admin::add_branch(tx, &o, &code, &name, &now)?),
            )
            .await?;
            Ok(back_to_org(org))
        }
        [
            "org",
            org,
            "branch",
            branch,
            action @ ("enable" | "disable"),
        ] => {
            session.scope(org)?;
            let enabled = *action == "enable";
            let (o, b) = (org.to_string(), branch.to_string());
            write_audited(
                console,
                session,
                Some(org),
                &format!("branch.{action}"),
                format!("{org}/{branch}"),
                move |tx| Ok(store_admin::set_branch_enabled(tx, &o, &b, enabled)?),
            )
            .await?;
            Ok(back_to_org(org))
        }
        ["org", org, "users"] => add_user(console, session, org, form).await,
        ["org", org, "user", user, action] => {
            user_action(console, session, org, user, action, form).await
        }
        ["org", org, "operators"] => {
            session.scope(org)?;
            add_operator(console, session, form, Some(org)).await
        }
        _ => Err(Failure::NotFound),
    }
}

fn now(console: &Console) -> String {
    crate::clock::format_timestamp(console.app.clock.now())
}

fn back_to_org(org: &str) -> Reply {
    Reply::Redirect(format!("/org/{}", pct(org)))
}

async fn add_org(console: &Console, session: &Session, form: &Form) -> Result<Reply, Failure> {
    session.platform_only()?;
    let code = field(form, "code")?.to_string();
    let name = field(form, "name")?.to_string();
    let now = now(console);
    let (c, n) = (code.clone(), name.clone());
    write_audited(
        console,
        session,
        Some(&code),
        "org.add",
        format!("{code} {name}"),
        move |tx| Ok(store_admin::add_organisation(tx, &c, &n, &now)?),
    )
    .await?;
    Ok(back_to_org(&code))
}

async fn details(
    console: &Console,
    session: &Session,
    org: &str,
    form: &Form,
) -> Result<Reply, Failure> {
    session.scope(org)?;
    let get = |name: &str| value(form, name).map(|v| v.trim().to_string());
    let details = LenderDetails {
        legal_name: get("legal_name"),
        ncr_number: get("ncr_number"),
        address: get("address"),
        phone: get("phone"),
        email: get("email"),
        statement_name: get("statement_name"),
    };
    if details
        .statement_name
        .as_ref()
        .is_some_and(|s| s.chars().count() > 30)
    {
        return Err(Failure::Invalid(
            "the bank-statement name has at most 30 characters".into(),
        ));
    }
    let o = org.to_string();
    write_audited(
        console,
        session,
        Some(org),
        "org.details",
        org.to_string(),
        move |tx| Ok(lender::set_details(tx, &o, &details)?),
    )
    .await?;
    Ok(back_to_org(org))
}

async fn add_user(
    console: &Console,
    session: &Session,
    org: &str,
    form: &Form,
) -> Result<Reply, Failure> {
    session.scope(org)?;
    let user = field(form, "user")?.to_string();
    let hashed = hash(password(form, &user)?.to_string()).await?;
    let branch = value(form, "branch").unwrap_or("").trim().to_string();
    let right = value(form, "right").unwrap_or("").trim().to_string();
    let (o, u, now) = (org.to_string(), user.clone(), now(console));
    let mut detail = format!("{org}/{user}");
    if !branch.is_empty() {
        detail.push_str(&format!(" branch {branch}"));
    }
    if !right.is_empty() {
        detail.push_str(&format!(" right {right}"));
    }
    write_audited(console, session, Some(org), "user.add", detail, move |tx| {
        store_admin::add_user(tx, &o, &u, &hashed, &now)?;
        if !branch.is_empty() {
            store_admin::set_branch_allocation(tx, &o, &u, &branch, true)?;
        }
        if !right.is_empty() {
            store_admin::set_right(tx, &o, &u, &right, true)?;
        }
        Ok(())
    })
    .await?;
    Ok(Reply::Redirect(format!("/org/{}/users", pct(org))))
}

async fn user_action(
    console: &Console,
    session: &Session,
    org: &str,
    user: &str,
    action: &str,
    form: &Form,
) -> Result<Reply, Failure> {
    session.scope(org)?;
    let (o, u) = (org.to_string(), user.to_string());
    let subject = format!("{org}/{user}");
    let (name, detail, change): (&str, String, Change) = match action {
        "enable" => ("user.enable", subject, Change::Enabled(true)),
        "disable" => ("user.disable", subject, Change::Enabled(false)),
        "unlock" => ("user.unlock", subject, Change::Unlock),
        "password" => {
            let hashed = hash(password(form, user)?.to_string()).await?;
            ("user.password", subject, Change::Password(hashed))
        }
        "grant" | "revoke" => {
            let right = field(form, "right")?.to_string();
            (
                if action == "grant" {
                    "right.grant"
                } else {
                    "right.revoke"
                },
                format!("{subject} {right}"),
                Change::Right(right, action == "grant"),
            )
        }
        "allocate" | "deallocate" => {
            let branch = field(form, "branch")?.to_string();
            (
                if action == "allocate" {
                    "user.allocate"
                } else {
                    "user.deallocate"
                },
                format!("{subject} {branch}"),
                Change::Branch(branch, action == "allocate"),
            )
        }
        "computer-add" | "computer-remove" => {
            let computer = field(form, "computer")?.to_string();
            (
                if action == "computer-add" {
                    "computer.add"
                } else {
                    "computer.remove"
                },
                format!("{subject} {computer}"),
                Change::Computer(computer, action == "computer-add"),
            )
        }
        _ => return Err(Failure::NotFound),
    };
    write_audited(console, session, Some(org), name, detail, move |tx| {
        if !store_admin::user_exists(tx, &o, &u)? {
            return Err(Failure::NotFound);
        }
        match change {
            Change::Enabled(on) => store_admin::set_user_enabled(tx, &o, &u, on)?,
            Change::Unlock => store_admin::unlock_user(tx, &o, &u)?,
            Change::Password(h) => store_admin::set_password(tx, &o, &u, &h)?,
            Change::Right(r, grant) => store_admin::set_right(tx, &o, &u, &r, grant)?,
            Change::Branch(b, on) => store_admin::set_branch_allocation(tx, &o, &u, &b, on)?,
            Change::Computer(c, bind) => store_admin::set_computer(tx, &o, &u, &c, bind)?,
        }
        Ok(())
    })
    .await?;
    Ok(Reply::Redirect(format!(
        "/org/{}/user/{}",
        pct(org),
        pct(user)
    )))
}

/// One change to an integration user.
enum Change {
    Enabled(bool),
    Unlock,
    Password(String),
    Right(String, bool),
    Branch(String, bool),
    Computer(String, bool),
}

/// Adds an operator: from `/operators` (platform only; the form's `org` picks a
/// platform operator or an organisation's administrator) or from
/// `/org/{org}/operators` (`fixed_org`: always that organisation's administrator).
async fn add_operator(
    console: &Console,
    session: &Session,
    form: &Form,
    fixed_org: Option<&str>,
) -> Result<Reply, Failure> {
    let org: Option<String> = match fixed_org {
        Some(org) => Some(org.to_string()),
        None => {
            session.platform_only()?;
            value(form, "org")
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
        }
    };
    let login = field(form, "login")?.to_string();
    operators::check_login(&login)?;
    let hashed = hash(password(form, &login)?.to_string()).await?;
    let (l, o, now) = (login.clone(), org.clone(), now(console));
    write_audited(
        console,
        session,
        org.as_deref(),
        "operator.add",
        match &org {
            Some(org) => format!("{login} administrator of {org}"),
            None => format!("{login} platform operator"),
        },
        move |tx| Ok(operators::add(tx, &l, &hashed, o.as_deref(), &now)?),
    )
    .await?;
    Ok(Reply::Redirect(match (fixed_org, org) {
        (Some(org), _) => format!("/org/{}/operators", pct(org)),
        _ => "/operators".into(),
    }))
}

/// Enables, disables or unlocks an operator: a platform operator any, an
/// organisation's administrator only its own organisation's (never a platform
/// operator, never itself disabled by mistake of scope).
async fn operator_action(
    console: &Console,
    session: &Session,
    login: &str,
    action: &str,
) -> Result<Reply, Failure> {
    let change = match action {
        "enable" => Some(true),
        "disable" => Some(false),
        "unlock" => None,
        _ => return Err(Failure::NotFound),
    };
    let target = {
        let l = login.to_string();
        super::read(console, move |tx| Ok(operators::by_login(tx, &l)?)).await?
    };
    let Some(target) = target else {
        return Err(Failure::NotFound);
    };
    match (&session.operator.organisation, &target.organisation) {
        (None, _) => {}
        (Some(own), Some(theirs)) if own == theirs => {}
        _ => return Err(Failure::NotFound),
    }
    let l = login.to_string();
    write_audited(
        console,
        session,
        target.organisation.as_deref(),
        &format!("operator.{action}"),
        login.to_string(),
        move |tx| {
            match change {
                Some(on) => operators::set_enabled(tx, &l, on)?,
                None => operators::unlock(tx, &l)?,
            }
            Ok(())
        },
    )
    .await?;
    Ok(Reply::Redirect(match &session.operator.organisation {
        None => "/operators".into(),
        Some(org) => format!("/org/{}/operators", pct(org)),
    }))
}

async fn declare_holiday(
    console: &Console,
    session: &Session,
    form: &Form,
) -> Result<Reply, Failure> {
    session.platform_only()?;
    let date_text = field(form, "date")?.to_string();
    let name = field(form, "name")?.to_string();
    let date = crate::clock::parse_date(&date_text)
        .ok_or_else(|| Failure::Invalid(format!("{date_text} is not a date (YYYY-MM-DD)")))?;
    let base = console.app.config.calendar.clone();
    let at = console.app.clock.now();
    let n = name.clone();
    let moved = write_audited(
        console,
        session,
        None,
        "holiday.add",
        format!("{date_text} {name}"),
        move |tx| Ok(holidays::declare(tx, &base, date, &n, at)?),
    )
    .await?;
    tracing::info!(console = true, date = %date_text, moved = moved.len(), "holiday declared");
    Ok(Reply::Redirect("/holidays".into()))
}
