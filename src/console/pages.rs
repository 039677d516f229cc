//! The console's GET pages: organisations, branches, users, operators, holidays, the
//! audit log, the job queue, and the read-only views of a branch (clients, notes with
//! instalments and collection attempts, payments and parts, wallets and cards, replies).
//! Each page that names an organisation calls [`Session::scope`] before reading
//! anything; each branch view resolves the branch inside that organisation. Lists show
//! one page ([`PAGE_ROWS`]) and link to the next. ID, account and card numbers are
//! masked with `domain::mask`.

use crate::domain::mask;
use crate::store::admin::{self as store_admin, RIGHTS};
use crate::store::{console as views, holidays, lender, operators};

use super::view::{Cell, Field, Form, Link, Page, Section, Table, pct, value};
use super::{Console, Failure, PAGE_ROWS, Reply, Session, read};

type Query = [(String, String)];

/// Routes a GET.
pub(super) async fn get(
    console: &Console,
    session: &Session,
    segments: &[&str],
    query: &Query,
) -> Result<Reply, Failure> {
    let page = match segments {
        [] => {
            return Ok(Reply::Redirect(match &session.operator.organisation {
                None => "/orgs".into(),
                Some(org) => format!("/org/{}", pct(org)),
            }));
        }
        ["orgs"] => organisations(console, session).await?,
        ["operators"] => all_operators(console, session).await?,
        ["holidays"] => holiday_page(console, session).await?,
        ["audit"] => audit(console, session, query).await?,
        ["jobs"] => jobs(console, session, query).await?,
        ["org", org] => organisation(console, session, org).await?,
        ["org", org, "users"] => users(console, session, org).await?,
        ["org", org, "user", name] => user_page(console, session, org, name).await?,
        ["org", org, "operators"] => org_operators(console, session, org).await?,
        ["org", org, "branch", code] => branch_page(console, session, org, code).await?,
        ["org", org, "branch", branch, "clients"] => {
            clients(console, session, org, branch, query).await?
        }
        ["org", org, "branch", branch, "client", number] => {
            client(console, session, org, branch, number).await?
        }
        ["org", org, "branch", branch, "notes"] => {
            notes(console, session, org, branch, query).await?
        }
        ["org", org, "branch", branch, "note", id] => {
            note(console, session, org, branch, id).await?
        }
        ["org", org, "branch", branch, "payments"] => {
            payments(console, session, org, branch, query).await?
        }
        ["org", org, "branch", branch, "payment", id] => {
            payment(console, session, org, branch, id).await?
        }
        ["org", org, "branch", branch, "wallets"] => {
            wallets(console, session, org, branch, query).await?
        }
        ["org", org, "branch", branch, "wallet", id] => {
            wallet(console, session, org, branch, id).await?
        }
        ["org", org, "branch", branch, "replies"] => {
            replies(console, session, org, branch, query).await?
        }
        _ => return Err(Failure::NotFound),
    };
    Ok(Reply::Page(page))
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn org_href(org: &str) -> String {
    format!("/org/{}", pct(org))
}

fn branch_href(org: &str, branch: &str) -> String {
    format!("/org/{}/branch/{}", pct(org), pct(branch))
}

/// The `before` cursor of a paged list (a row id; the newest page when absent or bad).
fn before(query: &Query) -> i64 {
    value(query, "before")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(i64::MAX)
}

/// Takes one row more than a page to know whether a next page exists.
fn split_page<T>(mut rows: Vec<T>) -> (Vec<T>, bool) {
    let more = rows.len() > PAGE_ROWS;
    rows.truncate(PAGE_ROWS);
    (rows, more)
}

fn cells(row: &[String]) -> Vec<Cell> {
    row.iter().map(|c| Cell::text(c.clone())).collect()
}

async fn organisations(console: &Console, session: &Session) -> Result<Page, Failure> {
    session.platform_only()?;
    let orgs = read(console, |tx| Ok(store_admin::list_organisations(tx)?)).await?;
    let mut page = Page::new("Organisations");
    let mut table = Table::new(&["Code", "Name", "Enabled", ""]);
    for (code, name, enabled) in orgs {
        let action = format!(
            "{}/{}",
            org_href(&code),
            if enabled { "disable" } else { "enable" }
        );
        table.rows.push(vec![
            Cell::link(org_href(&code), code.clone()),
            Cell::text(name),
            Cell::text(yes_no(enabled)),
            Cell::button(action, if enabled { "Disable" } else { "Enable" }),
        ]);
    }
    page.push(Section::new("").table(table));
    page.push(Section::new("Add an organisation").form(Form::post(
        "/orgs",
        "Add organisation",
        vec![
            Field::text("code", "Code (letters, digits, - or _)"),
            Field::text("name", "Name"),
        ],
    )));
    Ok(page)
}

async fn organisation(console: &Console, session: &Session, org: &str) -> Result<Page, Failure> {
    session.scope(org)?;
    let o = org.to_string();
    let (name, enabled, branches, details) = read(console, move |tx| {
        let orgs = store_admin::list_organisations(tx)?;
        let Some((_, name, enabled)) = orgs.into_iter().find(|(c, _, _)| *c == o) else {
            return Err(Failure::NotFound);
        };
        let branches = store_admin::list_branches(tx, &o)?;
        let details = lender::details(tx, &o)?;
        Ok((name, enabled, branches, details))
    })
    .await?;
    let href = org_href(org);
    let mut page = Page::new(format!("Organisation {org}"));
    page.push(Section::new("").pairs(vec![
        ("Code".into(), org.into()),
        ("Name".into(), name),
        ("Enabled".into(), yes_no(enabled).into()),
    ]));
    let mut links = Table::new(&["", ""]);
    links.rows.push(vec![
        Cell::link(format!("{href}/users"), "Integration users"),
        Cell::link(format!("{href}/operators"), "Administrators"),
    ]);
    if session.is_platform() {
        links.rows.push(vec![
            Cell::button(
                format!("{href}/{}", if enabled { "disable" } else { "enable" }),
                if enabled {
                    "Disable organisation"
                } else {
                    "Enable organisation"
                },
            ),
            Cell::text(""),
        ]);
    }
    page.push(Section::new("").table(links));
    let mut table = Table::new(&["Branch", "Name", "Enabled", "Data", ""]);
    for (code, bname, benabled) in branches {
        let b = branch_href(org, &code);
        table.rows.push(vec![
            Cell::link(b.clone(), code.clone()),
            Cell::text(bname),
            Cell::text(yes_no(benabled)),
            Cell::link(format!("{b}/clients"), "clients"),
            Cell::button(
                format!("{b}/{}", if benabled { "disable" } else { "enable" }),
                if benabled { "Disable" } else { "Enable" },
            ),
        ]);
    }
    page.push(Section::new("Branches").table(table));
    page.push(Section::new("Add a branch").form(Form::post(
        format!("{href}/branches"),
        "Add branch",
        vec![
            Field::text("code", "Code (letters, digits, - or _)"),
            Field::text("name", "Name"),
        ],
    )));
    let d = |v: &Option<String>| v.clone().unwrap_or_default();
    page.push(
        Section::new("Lender details printed on documents")
            .line("Only filled-in fields change; a field cleared to nothing is removed. The next document printed shows them.")
            .form(Form::post(
                format!("{href}/details"),
                "Save details",
                vec![
                    Field::optional("legal_name", "Legal name", &d(&details.legal_name)),
                    Field::optional("ncr_number", "NCR number", &d(&details.ncr_number)),
                    Field::optional("address", "Address", &d(&details.address)),
                    Field::optional("phone", "Phone", &d(&details.phone)),
                    Field::optional("email", "E-mail", &d(&details.email)),
                    Field::optional(
                        "statement_name",
                        "Bank-statement name",
                        &d(&details.statement_name),
                    ),
                ],
            )),
    );
    Ok(page)
}

fn branch_options(branches: &[(String, String, bool)]) -> Vec<(String, String)> {
    let mut options = vec![(String::new(), "(none)".to_string())];
    options.extend(
        branches
            .iter()
            .map(|(code, name, _)| (code.clone(), format!("{code} {name}"))),
    );
    options
}

fn right_options(with_none: bool) -> Vec<(String, String)> {
    let mut options = Vec::new();
    if with_none {
        options.push((String::new(), "(none)".to_string()));
    }
    options.extend(
        RIGHTS
            .iter()
            .map(|(code, text)| ((*code).to_string(), format!("{code}: {text}"))),
    );
    options
}

async fn users(console: &Console, session: &Session, org: &str) -> Result<Page, Failure> {
    session.scope(org)?;
    let o = org.to_string();
    let (users, branches) = read(console, move |tx| {
        Ok((
            store_admin::list_users(tx, &o)?,
            store_admin::list_branches(tx, &o)?,
        ))
    })
    .await?;
    let href = org_href(org);
    let mut page = Page::new(format!("Integration users of {org}"));
    let mut table = Table::new(&[
        "User",
        "Enabled",
        "Locked",
        "Rights",
        "Branches",
        "Computers",
        "",
    ]);
    for u in users {
        let uh = format!("{href}/user/{}", pct(&u.user_name));
        table.rows.push(vec![
            Cell::link(uh.clone(), u.user_name.clone()),
            Cell::text(yes_no(u.enabled)),
            Cell::text(u.locked_until.clone().unwrap_or_default()),
            Cell::text(u.rights.join(", ")),
            Cell::text(u.branches.join(", ")),
            Cell::text(u.computers.join(", ")),
            Cell::button(
                format!("{uh}/{}", if u.enabled { "disable" } else { "enable" }),
                if u.enabled { "Disable" } else { "Enable" },
            ),
        ]);
    }
    page.push(Section::new("").table(table));
    page.push(
        Section::new("Add an integration user")
            .line("The password needs 10-128 characters and must not be the user name.")
            .form(Form::post(
                format!("{href}/users"),
                "Add user",
                vec![
                    Field::text("user", "User name"),
                    Field::password("password", "Password"),
                    Field::select("branch", "Branch", branch_options(&branches)),
                    Field::select("right", "Right", right_options(true)),
                ],
            )),
    );
    Ok(page)
}

async fn user_page(
    console: &Console,
    session: &Session,
    org: &str,
    name: &str,
) -> Result<Page, Failure> {
    session.scope(org)?;
    let o = org.to_string();
    let n = name.to_string();
    let (info, branches) = read(console, move |tx| {
        let users = store_admin::list_users(tx, &o)?;
        let Some(info) = users.into_iter().find(|u| u.user_name == n) else {
            return Err(Failure::NotFound);
        };
        Ok((info, store_admin::list_branches(tx, &o)?))
    })
    .await?;
    let uh = format!("{}/user/{}", org_href(org), pct(name));
    let mut page = Page::new(format!("User {org}/{name}"));
    page.push(Section::new("").pairs(vec![
        ("Enabled".into(), yes_no(info.enabled).into()),
        ("Failed attempts".into(), info.failed_attempts.to_string()),
        (
            "Locked until".into(),
            info.locked_until.clone().unwrap_or_else(|| "-".into()),
        ),
    ]));
    let mut actions = Table::new(&["", "", ""]);
    actions.rows.push(vec![
        Cell::button(
            format!("{uh}/{}", if info.enabled { "disable" } else { "enable" }),
            if info.enabled {
                "Disable user"
            } else {
                "Enable user"
            },
        ),
        Cell::button(format!("{uh}/unlock"), "Unlock"),
        Cell::link(format!("{}/users", org_href(org)), "All users"),
    ]);
    page.push(Section::new("Actions").table(actions));
    let mut rights = Table::new(&["Right", ""]);
    for r in &info.rights {
        rights.rows.push(vec![
            Cell::text(r.clone()),
            Cell::button_with(format!("{uh}/revoke"), "Revoke", &[("right", r)]),
        ]);
    }
    page.push(Section::new("Rights").table(rights).form(Form::post(
        format!("{uh}/grant"),
        "Grant",
        vec![Field::select("right", "Right", right_options(false))],
    )));
    let mut allocated = Table::new(&["Branch", ""]);
    for b in &info.branches {
        allocated.rows.push(vec![
            Cell::text(b.clone()),
            Cell::button_with(format!("{uh}/deallocate"), "Remove", &[("branch", b)]),
        ]);
    }
    let mut options = branch_options(&branches);
    options.remove(0);
    page.push(
        Section::new("Branch allocations")
            .table(allocated)
            .form(Form::post(
                format!("{uh}/allocate"),
                "Allocate",
                vec![Field::select("branch", "Branch", options)],
            )),
    );
    let mut computers = Table::new(&["Computer", ""]);
    for c in &info.computers {
        computers.rows.push(vec![
            Cell::text(c.clone()),
            Cell::button_with(
                format!("{uh}/computer-remove"),
                "Remove",
                &[("computer", c)],
            ),
        ]);
    }
    page.push(
        Section::new("Computers")
            .line("A user with no computers may call from any computer.")
            .table(computers)
            .form(Form::post(
                format!("{uh}/computer-add"),
                "Bind computer",
                vec![Field::text("computer", "Computer name")],
            )),
    );
    page.push(
        Section::new("Set password")
            .line("Clears a lockout and ends the user's sessions.")
            .form(Form::post(
                format!("{uh}/password"),
                "Set password",
                vec![Field::password("password", "New password")],
            )),
    );
    Ok(page)
}

fn operator_table(rows: &[operators::OperatorRow]) -> Table {
    let mut table = Table::new(&[
        "Operator",
        "Organisation",
        "Enabled",
        "Locked until",
        "",
        "",
    ]);
    for op in rows {
        let base = format!("/operators/{}", pct(&op.login));
        table.rows.push(vec![
            Cell::text(op.login.clone()),
            Cell::text(
                op.organisation
                    .clone()
                    .unwrap_or_else(|| "(platform)".into()),
            ),
            Cell::text(yes_no(op.enabled)),
            Cell::text(op.locked_until.clone().unwrap_or_default()),
            Cell::button(
                format!("{base}/{}", if op.enabled { "disable" } else { "enable" }),
                if op.enabled { "Disable" } else { "Enable" },
            ),
            Cell::button(format!("{base}/unlock"), "Unlock"),
        ]);
    }
    table
}

async fn all_operators(console: &Console, session: &Session) -> Result<Page, Failure> {
    session.platform_only()?;
    let (rows, orgs) = read(console, |tx| {
        Ok((
            operators::list(tx, None)?,
            store_admin::list_organisations(tx)?,
        ))
    })
    .await?;
    let mut page = Page::new("Operators");
    page.push(Section::new("").table(operator_table(&rows)));
    let mut options = vec![(String::new(), "(platform operator)".to_string())];
    options.extend(
        orgs.into_iter()
            .map(|(c, n, _)| (c.clone(), format!("{c} {n}"))),
    );
    page.push(
        Section::new("Add an operator")
            .line("A platform operator sets up organisations; an organisation's administrator sees and changes only that organisation.")
            .form(Form::post(
                "/operators",
                "Add operator",
                vec![
                    Field::text("login", "Login"),
                    Field::password("password", "Password"),
                    Field::select("org", "Administers", options),
                ],
            )),
    );
    Ok(page)
}

async fn org_operators(console: &Console, session: &Session, org: &str) -> Result<Page, Failure> {
    session.scope(org)?;
    let o = org.to_string();
    let rows = read(console, move |tx| Ok(operators::list(tx, Some(&o))?)).await?;
    let mut page = Page::new(format!("Administrators of {org}"));
    page.push(Section::new("").table(operator_table(&rows)));
    page.push(Section::new("Add an administrator").form(Form::post(
        format!("{}/operators", org_href(org)),
        "Add administrator",
        vec![
            Field::text("login", "Login"),
            Field::password("password", "Password"),
        ],
    )));
    Ok(page)
}

async fn holiday_page(console: &Console, session: &Session) -> Result<Page, Failure> {
    let days = read(console, |tx| Ok(holidays::all(tx)?)).await?;
    let mut page = Page::new("Declared public holidays");
    let mut table = Table::new(&["Date", "Name"]);
    for (date, name) in days {
        table.rows.push(vec![
            Cell::text(crate::clock::format_date(date)),
            Cell::text(name),
        ]);
    }
    let mut section = Section::new("")
        .line("Holidays declared while the service runs (the statutory ones are built in).")
        .table(table);
    if session.is_platform() {
        section = section.form(Form::post(
            "/holidays",
            "Declare holiday",
            vec![Field::date("date", "Date"), Field::text("name", "Name")],
        ));
        section = section.line("Declaring a day moves every instalment not yet presented on it to the previous business day (each move is an INSTALMENT_MOVED reply).");
    }
    page.push(section);
    Ok(page)
}

async fn audit(console: &Console, session: &Session, query: &Query) -> Result<Page, Failure> {
    let before = value(query, "before").and_then(|b| b.parse::<i64>().ok());
    let org = session.operator.organisation.clone();
    let rows = read(console, move |tx| {
        Ok(operators::audit_page(
            tx,
            org.as_deref(),
            before,
            PAGE_ROWS + 1,
        )?)
    })
    .await?;
    let (rows, more) = split_page(rows);
    let mut page = Page::new("Audit log");
    let mut table = Table::new(&["#", "When", "Who", "Organisation", "What", "Detail", "From"]);
    for e in &rows {
        table.rows.push(vec![
            Cell::text(e.id.to_string()),
            Cell::text(e.at.clone()),
            Cell::text(e.actor.clone()),
            Cell::text(e.organisation.clone().unwrap_or_default()),
            Cell::text(e.action.clone()),
            Cell::text(e.detail.clone()),
            Cell::text(e.peer.clone()),
        ]);
    }
    if more && let Some(last) = rows.last() {
        table.next = Some(Link::new(
            format!("/audit?before={}", last.id),
            "Older entries",
        ));
    }
    page.push(
        Section::new("")
            .line("Every change made in the console or with allps-ws admin; entries cannot be changed or removed.")
            .table(table),
    );
    Ok(page)
}

async fn jobs(console: &Console, session: &Session, query: &Query) -> Result<Page, Failure> {
    session.platform_only()?;
    let state = value(query, "state").unwrap_or("due").to_string();
    let after_due = value(query, "after_due").unwrap_or("").to_string();
    let after_id = value(query, "after_id")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let now = console.app.clock.now();
    let s = state.clone();
    let (figures, rows) = read(console, move |tx| {
        Ok((
            views::metrics_figures(tx, now)?,
            views::jobs_page(tx, &s, now, (&after_due, after_id), PAGE_ROWS + 1)?,
        ))
    })
    .await?;
    let (rows, more) = split_page(rows);
    let mut page = Page::new("Job queue");
    let mut summary = Table::new(&["State", "Jobs"]);
    for (name, n) in [
        ("due", figures.jobs_due),
        ("scheduled", figures.jobs_scheduled),
        ("running", figures.jobs_running),
        ("retrying", figures.jobs_retrying),
        ("failed", figures.jobs_failed),
    ] {
        summary.rows.push(vec![
            Cell::link(format!("/jobs?state={name}"), name),
            Cell::text(n.to_string()),
        ]);
    }
    page.push(
        Section::new("")
            .line(format!(
                "Oldest due job waiting: {} s.",
                figures.oldest_due_age_secs
            ))
            .table(summary),
    );
    let mut table = Table::new(&[
        "Job",
        "Kind",
        "Subject",
        "Part",
        "Status",
        "Due",
        "Age",
        "Attempts",
        "Last error",
    ]);
    for r in &rows {
        let age = crate::clock::parse_timestamp(&r[5])
            .map(|due| (now - due).whole_seconds())
            .map_or_else(String::new, |s| format!("{s} s"));
        table.rows.push(vec![
            Cell::text(r[0].clone()),
            Cell::text(r[1].clone()),
            Cell::text(r[2].clone()),
            Cell::text(r[3].clone()),
            Cell::text(r[4].clone()),
            Cell::text(r[5].clone()),
            Cell::text(age),
            Cell::text(r[6].clone()),
            Cell::text(r[7].clone()),
        ]);
    }
    if more && let Some(last) = rows.last() {
        table.next = Some(Link::new(
            format!(
                "/jobs?state={}&after_due={}&after_id={}",
                pct(&state),
                pct(&last[5]),
                last[0]
            ),
            "Next page",
        ));
    }
    page.push(Section::new(&format!("Jobs {state}")).table(table));
    Ok(page)
}

/// Resolves a branch inside the operator's organisation.
async fn branch_id(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
) -> Result<i64, Failure> {
    session.scope(org)?;
    let (o, b) = (org.to_string(), branch.to_string());
    read(console, move |tx| {
        views::branch_id(tx, &o, &b)?.ok_or(Failure::NotFound)
    })
    .await
}

fn branch_nav(org: &str, branch: &str) -> Section {
    let b = branch_href(org, branch);
    let mut table = Table::new(&["", "", "", "", "", ""]);
    table.rows.push(vec![
        Cell::link(format!("{b}/clients"), "Clients"),
        Cell::link(format!("{b}/notes"), "Promissory notes"),
        Cell::link(format!("{b}/payments"), "Payments"),
        Cell::link(format!("{b}/wallets"), "Wallets and cards"),
        Cell::link(format!("{b}/replies"), "Replies feed"),
        Cell::link(org_href(org), format!("Organisation {org}")),
    ]);
    Section::new("").table(table)
}

async fn branch_page(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
) -> Result<Page, Failure> {
    branch_id(console, session, org, branch).await?;
    let mut page = Page::new(format!("Branch {org}/{branch}"));
    page.push(branch_nav(org, branch));
    page.push(Section::new("").line("Read-only views of the branch's data, one page at a time."));
    Ok(page)
}

async fn clients(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
    query: &Query,
) -> Result<Page, Failure> {
    let id = branch_id(console, session, org, branch).await?;
    let prefix = value(query, "q").unwrap_or("").trim().to_string();
    let after = value(query, "after").unwrap_or("").to_string();
    let (p, a) = (prefix.clone(), after.clone());
    let rows = read(console, move |tx| {
        Ok(views::clients_page(tx, id, &p, &a, PAGE_ROWS + 1)?)
    })
    .await?;
    let (rows, more) = split_page(rows);
    let b = branch_href(org, branch);
    let mut page = Page::new(format!("Clients of {org}/{branch}"));
    page.push(branch_nav(org, branch));
    let mut table = Table::new(&[
        "Client number",
        "Name",
        "ID type",
        "ID number",
        "Cellphone",
        "Created",
    ]);
    for c in &rows {
        table.rows.push(vec![
            Cell::link(
                format!("{b}/client/{}", pct(&c.client_number)),
                c.client_number.clone(),
            ),
            Cell::text(c.name.clone()),
            Cell::text(c.id_type.clone()),
            Cell::text(mask::id_number(&c.id_number)),
            Cell::text(c.cellphone.clone().unwrap_or_default()),
            Cell::text(c.created_at.clone()),
        ]);
    }
    if more && let Some(last) = rows.last() {
        table.next = Some(Link::new(
            format!(
                "{b}/clients?q={}&after={}",
                pct(&prefix),
                pct(&last.client_number)
            ),
            "Next page",
        ));
    }
    let mut search = Field::optional("q", "Client number starts with", &prefix);
    search.required = false;
    page.push(
        Section::new("")
            .form(Form::get(format!("{b}/clients"), "Search", vec![search]))
            .table(table),
    );
    Ok(page)
}

async fn client(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
    number: &str,
) -> Result<Page, Failure> {
    let id = branch_id(console, session, org, branch).await?;
    let n = number.to_string();
    let (line, notes, accounts, payments) = read(console, move |tx| {
        let Some((client_id, line)) = views::client(tx, id, &n)? else {
            return Err(Failure::NotFound);
        };
        Ok((
            line,
            views::client_notes(tx, client_id, PAGE_ROWS)?,
            views::client_accounts(tx, client_id, PAGE_ROWS)?,
            views::client_payments(tx, client_id, PAGE_ROWS)?,
        ))
    })
    .await?;
    let b = branch_href(org, branch);
    let mut page = Page::new(format!("Client {number}"));
    page.push(branch_nav(org, branch));
    page.push(Section::new("").pairs(vec![
        ("Name".into(), line.name.clone()),
        (
            "ID".into(),
            format!("{} {}", line.id_type, mask::id_number(&line.id_number)),
        ),
        (
            "Cellphone".into(),
            line.cellphone.clone().unwrap_or_default(),
        ),
        ("Created".into(), line.created_at.clone()),
    ]));
    page.push(Section::new("Promissory notes (newest first)").table(note_table(&b, &notes)));
    let mut table = Table::new(&[
        "Account", "Kind", "Bank", "Number", "Type", "Holder", "Enabled", "Created",
    ]);
    for r in &accounts {
        let mut row = cells(r);
        row[3] = Cell::text(mask::account_number(&r[3]));
        table.rows.push(row);
    }
    page.push(Section::new("Accounts").table(table));
    page.push(Section::new("Payments (newest first)").table(payment_table(&b, &payments)));
    Ok(page)
}

fn note_table(branch: &str, notes: &[views::NoteLine]) -> Table {
    let mut table = Table::new(&[
        "Note",
        "Contract reference",
        "Client",
        "Stream",
        "Status",
        "Instalment",
        "Count",
        "First date",
        "Bank",
        "Account",
    ]);
    for n in notes {
        table.rows.push(vec![
            Cell::link(
                format!("{branch}/note/{}", n.id),
                crate::domain::promissory::promissory_number(n.number),
            ),
            Cell::text(n.contract_reference.clone()),
            Cell::link(
                format!("{branch}/client/{}", pct(&n.client_number)),
                n.client_number.clone(),
            ),
            Cell::text(n.payment_stream.clone()),
            Cell::text(n.status.clone()),
            Cell::text(n.instalment_amount.clone()),
            Cell::text(n.instalments.to_string()),
            Cell::text(n.first_action_date.clone()),
            Cell::text(n.bank_name.clone()),
            Cell::text(mask::account_number(&n.account_number)),
        ]);
    }
    table
}

fn payment_table(branch: &str, rows: &[Vec<String>]) -> Table {
    let mut table = Table::new(&[
        "Payment",
        "Reference",
        "Client",
        "Status",
        "Action date",
        "Total",
        "Cash",
        "Created",
    ]);
    for r in rows {
        let mut row = cells(r);
        row[0] = Cell::link(
            format!("{branch}/payment/{}", r[0]),
            format!("CP{:0>8}", r[0]),
        );
        row[2] = Cell::link(format!("{branch}/client/{}", pct(&r[2])), r[2].clone());
        table.rows.push(row);
    }
    table
}

async fn notes(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
    query: &Query,
) -> Result<Page, Failure> {
    let id = branch_id(console, session, org, branch).await?;
    let after = value(query, "after").unwrap_or("").to_string();
    let rows = read(console, move |tx| {
        Ok(views::notes_page(tx, id, &after, PAGE_ROWS + 1)?)
    })
    .await?;
    let (rows, more) = split_page(rows);
    let b = branch_href(org, branch);
    let mut table = note_table(&b, &rows);
    if more && let Some(last) = rows.last() {
        table.next = Some(Link::new(
            format!("{b}/notes?after={}", pct(&last.contract_reference)),
            "Next page",
        ));
    }
    let mut page = Page::new(format!("Promissory notes of {org}/{branch}"));
    page.push(branch_nav(org, branch));
    page.push(Section::new("").table(table));
    Ok(page)
}

async fn note(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
    id: &str,
) -> Result<Page, Failure> {
    let bid = branch_id(console, session, org, branch).await?;
    let note_id: i64 = id.parse().map_err(|_| Failure::NotFound)?;
    let (line, instalments, attempts) = read(console, move |tx| {
        let Some(line) = views::note(tx, bid, note_id)? else {
            return Err(Failure::NotFound);
        };
        Ok((
            line,
            views::instalments(tx, note_id, 400)?,
            views::attempts(tx, note_id, 1000)?,
        ))
    })
    .await?;
    let b = branch_href(org, branch);
    let mut page = Page::new(format!(
        "Promissory note {}",
        crate::domain::promissory::promissory_number(line.number)
    ));
    page.push(branch_nav(org, branch));
    page.push(Section::new("").table(note_table(&b, std::slice::from_ref(&line))));
    let mut table = Table::new(&[
        "#",
        "Action date",
        "Amount",
        "Status",
        "Arrears",
        "Presented on",
        "Collected",
        "Settlement date",
    ]);
    for r in &instalments {
        table.rows.push(cells(r));
    }
    page.push(Section::new("Instalments").table(table));
    let mut table = Table::new(&[
        "Instalment",
        "Attempt",
        "Kind",
        "Presented at",
        "Outcome",
        "Reason code",
        "Reason",
        "Answered at",
    ]);
    for r in &attempts {
        table.rows.push(cells(r));
    }
    page.push(Section::new("Collection attempts and outcomes").table(table));
    Ok(page)
}

async fn payments(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
    query: &Query,
) -> Result<Page, Failure> {
    let id = branch_id(console, session, org, branch).await?;
    let after = value(query, "after").unwrap_or("").to_string();
    let rows = read(console, move |tx| {
        Ok(views::payments_page(tx, id, &after, PAGE_ROWS + 1)?)
    })
    .await?;
    let (rows, more) = split_page(rows);
    let b = branch_href(org, branch);
    let mut table = payment_table(&b, &rows);
    if more && let Some(last) = rows.last() {
        table.next = Some(Link::new(
            format!("{b}/payments?after={}", pct(&last[1])),
            "Next page",
        ));
    }
    let mut page = Page::new(format!("Payments of {org}/{branch}"));
    page.push(branch_nav(org, branch));
    page.push(Section::new("").table(table));
    Ok(page)
}

async fn payment(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
    id: &str,
) -> Result<Page, Failure> {
    let bid = branch_id(console, session, org, branch).await?;
    let payment_id: i64 = id.parse().map_err(|_| Failure::NotFound)?;
    let (line, parts) = read(console, move |tx| {
        let Some(line) = views::payment(tx, bid, payment_id)? else {
            return Err(Failure::NotFound);
        };
        Ok((line, views::payment_parts(tx, payment_id, 200)?))
    })
    .await?;
    let b = branch_href(org, branch);
    let number = line[8].parse::<i64>().unwrap_or(payment_id);
    let mut page = Page::new(format!(
        "Payment {}",
        crate::domain::payouts::payment_number(number)
    ));
    page.push(branch_nav(org, branch));
    page.push(Section::new("").table(payment_table(&b, std::slice::from_ref(&line))));
    let mut table = Table::new(&[
        "Part",
        "Recipient",
        "Account",
        "Amount",
        "Status",
        "Since",
        "Return code",
        "Return reason",
    ]);
    for r in &parts {
        let mut row = cells(r);
        row[2] = Cell::text(mask::account_number(&r[2]));
        table.rows.push(row);
    }
    page.push(Section::new("Parts").table(table));
    Ok(page)
}

async fn wallets(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
    query: &Query,
) -> Result<Page, Failure> {
    let id = branch_id(console, session, org, branch).await?;
    let before = before(query);
    let rows = read(console, move |tx| {
        Ok(views::wallets_page(tx, id, before, PAGE_ROWS + 1)?)
    })
    .await?;
    let (rows, more) = split_page(rows);
    let b = branch_href(org, branch);
    let mut table = Table::new(&[
        "Wallet request",
        "Client",
        "Status",
        "Cellphone",
        "Wallet number",
        "Requested",
        "Completed",
        "Active card",
    ]);
    for r in &rows {
        let mut row = cells(r);
        row[0] = Cell::link(format!("{b}/wallet/{}", r[0]), r[0].clone());
        row[1] = Cell::link(format!("{b}/client/{}", pct(&r[1])), r[1].clone());
        row[7] = Cell::text(if r[7].is_empty() {
            String::new()
        } else {
            mask::card_number(&r[7])
        });
        table.rows.push(row);
    }
    if more && let Some(last) = rows.last() {
        table.next = Some(Link::new(
            format!("{b}/wallets?before={}", last[0]),
            "Next page",
        ));
    }
    let mut page = Page::new(format!("Wallets of {org}/{branch}"));
    page.push(branch_nav(org, branch));
    page.push(Section::new("Newest first").table(table));
    Ok(page)
}

async fn wallet(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
    id: &str,
) -> Result<Page, Failure> {
    let bid = branch_id(console, session, org, branch).await?;
    let wallet_id: i64 = id.parse().map_err(|_| Failure::NotFound)?;
    let (line, cards) = read(console, move |tx| {
        let line = views::wallets_page(tx, bid, wallet_id + 1, 1)?
            .into_iter()
            .find(|r| r[0] == wallet_id.to_string())
            .ok_or(Failure::NotFound)?;
        Ok((line, views::wallet_cards(tx, bid, wallet_id, 200)?))
    })
    .await?;
    let mut page = Page::new(format!("Wallet request {wallet_id}"));
    page.push(branch_nav(org, branch));
    page.push(Section::new("").pairs(vec![
        ("Client".into(), line[1].clone()),
        ("Status".into(), line[2].clone()),
        ("Cellphone".into(), line[3].clone()),
        ("Wallet number".into(), line[4].clone()),
        ("Requested".into(), line[5].clone()),
    ]));
    let mut table = Table::new(&[
        "Card",
        "Number",
        "Technology",
        "Status",
        "Assigned",
        "Replaced",
    ]);
    for r in &cards {
        let mut row = cells(r);
        row[1] = Cell::text(mask::card_number(&r[1]));
        table.rows.push(row);
    }
    page.push(Section::new("Cards").table(table));
    Ok(page)
}

async fn replies(
    console: &Console,
    session: &Session,
    org: &str,
    branch: &str,
    query: &Query,
) -> Result<Page, Failure> {
    let id = branch_id(console, session, org, branch).await?;
    let before = before(query);
    let rows = read(console, move |tx| {
        Ok(views::replies_page(tx, id, before, PAGE_ROWS + 1)?)
    })
    .await?;
    let (rows, more) = split_page(rows);
    let b = branch_href(org, branch);
    let mut table = Table::new(&[
        "Sequence",
        "Type",
        "Occurred",
        "Note",
        "Instalment",
        "Payment",
        "Part",
        "Wallet",
        "Amount",
        "Reason",
    ]);
    for r in &rows {
        let mut row = cells(r);
        if !r[3].is_empty() {
            row[3] = Cell::link(format!("{b}/note/{}", r[3]), r[3].clone());
        }
        if !r[5].is_empty() {
            row[5] = Cell::link(format!("{b}/payment/{}", r[5]), r[5].clone());
        }
        table.rows.push(row);
    }
    if more && let Some(last) = rows.last() {
        table.next = Some(Link::new(
            format!("{b}/replies?before={}", last[0]),
            "Older replies",
        ));
    }
    let mut page = Page::new(format!("Replies feed of {org}/{branch}"));
    page.push(branch_nav(org, branch));
    page.push(Section::new("Newest first").table(table));
    Ok(page)
}
