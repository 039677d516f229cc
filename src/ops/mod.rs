//! The operation table and the generic runner. The `operations!` table below names every
//! operation once, in contract order: each handler is a unit struct implementing
//! [`Operation`] in its own file named after it, or is declared not available yet.
//! [`dispatch`] routes on the Body child's namespace and local name; [`run`] decodes,
//! authenticates, runs the handler inside one transaction (a SAVEPOINT of the writer's
//! batch for writes, a read transaction for reads) and writes the response envelope.

mod shared;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use time::{Date, OffsetDateTime};

use crate::app::App;
use crate::auth::{self, AuthInput, AuthStep, Credentials, Principal, Verdict};
use crate::clock::SAST;
use crate::domain::{Refusal, ResultCode, TerminalType};
use crate::store;
use crate::wire::fault::{FaultCode, ServiceError};
use crate::wire::reqlog;
use crate::wire::soap::{self, Envelope, TNS};
use crate::wire::xml::{Element, XmlWriter};

/// Declares the operations, once each, in contract order. A row is either
/// `file::Type` (the handler `Type` in `ops/file.rs`; its module is declared and the type
/// re-exported here) or `not_available::Name` (an operation of the WSDL whose handler a
/// later release brings: it authenticates like any other and answers `NOT_AVAILABLE`
/// in a `<NameResponse>`; no row is, today). From the rows follow [`OPERATIONS`] and the routing in
/// [`dispatch`]; nothing else lists operations.
macro_rules! operations {
    ($($module:ident :: $op:ident),+ $(,)?) => {
        $(operations!(@item $module $op);)+

        /// Every operation of the WSDL, in contract order.
        pub const OPERATIONS: &[&str] = &[$($op::NAME),+];

        /// Runs the operation called `name`; `None` when no operation has that name.
        async fn route(
            app: &Arc<App>,
            env: &Envelope,
            name: &str,
        ) -> Option<Result<Reply, ServiceError>> {
            Some(match name {
                $($op::NAME => run::<$op>(app, env).await,)+
                _ => return None,
            })
        }
    };
    (@item not_available $op:ident) => {
        #[doc = concat!(
            "`", stringify!($op), "`: declared in the WSDL, not available on this server ",
            "yet; answers `NOT_AVAILABLE`."
        )]
        pub struct $op;

        impl Operation for $op {
            const NAME: &'static str = stringify!($op);
            const WRITES: bool = false;
            type Request = ();
            type Response = ();
            fn decode(_: &Element) -> Result<(), ServiceError> {
                Ok(())
            }
            fn handle(_: &Ctx<'_>, _: ()) -> Result<(), OpError> {
                Err(OpError::Refused(not_available()))
            }
            fn encode(_: &(), _: &mut XmlWriter) {}
        }
    };
    (@item $module:ident $op:ident) => {
        mod $module;
        pub use $module::$op;
    };
}

operations! {
    login::Login,
    add_employer::AddEmployer,
    add_client::AddClient,
    get_client::GetClient,
    add_client_account::AddClientAccount,
    create_promissory::CreatePromissory,
    create_debicheck_promissory::CreateDebiCheckPromissory,
    get_promissory::GetPromissory,
    cancel_promissory::CancelPromissory,
    edit_instalment::EditInstalment,
    print_promissory::PrintPromissory,
    pay_to_client_account::PayToClientAccount,
    get_client_credit::GetClientCredit,
    print_client_credit::PrintClientCredit,
    create_wallet::CreateWallet,
    get_wallet::GetWallet,
    assign_card::AssignCard,
    print_card_issue_receipt::PrintCardIssueReceipt,
    get_replies::GetReplies,
}

/// The refusal of an operation declared `not_available` in the table (no row is today;
/// the table's own unit test declares some).
#[cfg_attr(not(test), allow(dead_code))]
fn not_available() -> Refusal {
    Refusal::new(
        ResultCode::NotAvailable,
        "this operation is not available on this server yet",
    )
}

/// What a handler sees: the request's store transaction, the caller, and the instant.
pub struct Ctx<'a> {
    /// The request's transaction: every read and write goes through `store` with it.
    pub tx: &'a store::Tx<'a>,
    /// The authenticated caller and branch.
    pub principal: &'a Principal,
    /// "Now", from the injected clock, fixed for the whole request.
    pub now: OffsetDateTime,
    /// Shared state (configuration).
    pub app: &'a App,
}

impl Ctx<'_> {
    /// Today in South Africa.
    pub fn today(&self) -> Date {
        self.now.to_offset(SAST).date()
    }

    /// The business calendar, including holidays declared at run time.
    ///
    /// # Errors
    ///
    /// The store failing.
    pub fn calendar(&self) -> Result<std::sync::Arc<crate::domain::calendar::Calendar>, OpError> {
        Ok(self.app.calendar(self.tx)?)
    }
}

/// A handler's failure: a business refusal (a Result code) or the store failing.
#[derive(Debug)]
pub enum OpError {
    /// A business rule refused the request.
    Refused(Refusal),
    /// The store failed; the request becomes an internal-error fault.
    Storage(store::DbError),
    /// Something else failed inside the server (e.g. rendering a document); an
    /// internal-error fault whose text is only logged.
    Internal(String),
}

impl From<Refusal> for OpError {
    fn from(r: Refusal) -> Self {
        OpError::Refused(r)
    }
}

impl From<store::DbError> for OpError {
    fn from(e: store::DbError) -> Self {
        OpError::Storage(e)
    }
}

/// One SOAP operation.
pub trait Operation: 'static {
    /// The local name of the request element, exactly as in the WSDL.
    const NAME: &'static str;
    /// Whether the handler writes (runs on the writer) or only reads.
    const WRITES: bool;
    /// The decoded request.
    type Request: Send + 'static;
    /// What the handler returns on success.
    type Response: Send + 'static;

    /// Decodes the request element.
    ///
    /// # Errors
    ///
    /// `SCHEMA_VIOLATION` faults.
    fn decode(element: &Element) -> Result<Self::Request, ServiceError>;

    /// Credentials carried in the request itself (only `Login`).
    fn credentials(_request: &Self::Request) -> Option<Credentials> {
        None
    }

    /// Runs the business rules inside the request's transaction.
    ///
    /// # Errors
    ///
    /// [`OpError::Refused`] for a rule; anything it wrote is rolled back.
    fn handle(ctx: &Ctx<'_>, request: Self::Request) -> Result<Self::Response, OpError>;

    /// Writes the response's elements after `Result`.
    fn encode(response: &Self::Response, w: &mut XmlWriter);
}

/// What a request came to, for the response and the log line.
#[derive(Debug)]
pub struct Reply {
    /// The response envelope.
    pub body: String,
    /// The caller, once authenticated.
    pub principal: Option<Principal>,
    /// The Result code answered.
    pub result: ResultCode,
}

/// Routes a parsed envelope to its operation.
///
/// # Errors
///
/// Faults: unknown operation, schema, authentication, internal.
pub async fn dispatch(app: &Arc<App>, env: &Envelope) -> Result<Reply, ServiceError> {
    let op = &env.operation;
    if op.ns.as_deref() != Some(TNS) {
        return Err(ServiceError::fault(
            FaultCode::UnknownOperation,
            format!(
                "{} is not an operation of this service (namespace {TNS})",
                op.qualified_name()
            ),
        ));
    }
    match route(app, env, &op.name).await {
        Some(reply) => reply,
        None => Err(ServiceError::fault(
            FaultCode::UnknownOperation,
            format!("{} is not an operation of this service", op.name),
        )),
    }
}

/// Reads the `AuthHeader` block.
///
/// # Errors
///
/// `AUTH_REQUIRED` when neither a session nor full credentials are present;
/// `SCHEMA_VIOLATION` for a malformed header.
pub fn auth_input(env: &Envelope) -> Result<AuthInput, ServiceError> {
    let Some(header) = env.header("AuthHeader") else {
        return Err(ServiceError::fault(
            FaultCode::AuthRequired,
            "this operation needs an AuthHeader with credentials or a SessionId",
        ));
    };
    let f = wire::Fields::new(
        header,
        &[
            ("UserName", 1),
            ("Password", 1),
            ("ComputerName", 1),
            ("OrgCode", 1),
            ("BranchCode", 1),
            ("TerminalType", 1),
            ("SessionId", 1),
        ],
    )?;
    if let Some(session) = f.text("SessionId")?.filter(|s| !s.trim().is_empty()) {
        return Ok(AuthInput::Session(session.trim().to_string()));
    }
    let terminal_type = f
        .enumeration(
            "TerminalType",
            TerminalType::parse,
            &wire::spellings(TerminalType::ALL, TerminalType::as_str),
        )?
        .unwrap_or(TerminalType::None);
    let get = |name| -> Result<String, ServiceError> {
        Ok(f.text(name)?
            .map(|s| s.trim().to_string())
            .unwrap_or_default())
    };
    let credentials = Credentials {
        user_name: get("UserName")?,
        password: f.text("Password")?.unwrap_or_default(),
        computer_name: get("ComputerName")?,
        org_code: get("OrgCode")?,
        branch_code: get("BranchCode")?,
        terminal_type,
    };
    if credentials.user_name.is_empty()
        || credentials.password.is_empty()
        || credentials.org_code.is_empty()
        || credentials.branch_code.is_empty()
    {
        return Err(ServiceError::fault(
            FaultCode::AuthRequired,
            "the AuthHeader needs UserName, Password, OrgCode and BranchCode, or a SessionId",
        ));
    }
    Ok(AuthInput::Credentials(credentials))
}

enum Outcome<Req, Resp> {
    Done {
        result: Result<Resp, Refusal>,
        principal: Principal,
    },
    Auth(AuthStep, Req),
    /// A writing handler collided with what another transaction committed after this
    /// one's snapshot (another node took the same ClientNumber, ContractReference or
    /// PaymentReference at the same moment, or changed a row it read): nothing of it was
    /// kept, and the request runs again in a new transaction, whose lookups see the
    /// other node's work (a repeat then answers as a repeat).
    Conflict(store::DbError),
}

fn attempt<Op: Operation>(
    tx: &store::Tx<'_>,
    app: &App,
    input: &AuthInput,
    now: OffsetDateTime,
    request: Op::Request,
) -> Result<Outcome<Op::Request, Op::Response>, ServiceError> {
    let principal = match auth::authorize(tx, &app.auth_cache, input, now) {
        Ok(p) => p,
        Err(step) => return Ok(Outcome::Auth(step, request)),
    };
    let ctx = Ctx {
        tx,
        principal: &principal,
        now,
        app,
    };
    // A writing handler runs in a savepoint so a refusal leaves nothing behind. A
    // read-only one (on a read-only connection) has nothing to undo: skipping the two
    // statements saves ~2 us per read.
    let handled = if Op::WRITES {
        // One writer per organisation at a time across nodes (nothing on SQLite).
        store::lock_organisation(tx, principal.org_id).map_err(ServiceError::storage)?;
        tx.savepoint(|_| Op::handle(&ctx, request))
            .map_err(ServiceError::storage)?
    } else {
        Op::handle(&ctx, request)
    };
    let result = match handled {
        Ok(response) => Ok(response),
        Err(OpError::Refused(r)) => Err(r),
        Err(OpError::Storage(e)) if Op::WRITES && e.is_conflict() => {
            return Ok(Outcome::Conflict(e));
        }
        Err(OpError::Storage(e)) => return Err(ServiceError::storage(e)),
        Err(OpError::Internal(message)) => return Err(ServiceError::Internal(message)),
    };
    Ok(Outcome::Done { result, principal })
}

async fn execute<Op: Operation>(
    app: &Arc<App>,
    input: &AuthInput,
    request: Op::Request,
) -> Result<Outcome<Op::Request, Op::Response>, ServiceError> {
    let now = app.clock.now();
    let shared = app.clone();
    let input = input.clone();
    let job = move |tx: &store::Tx<'_>| attempt::<Op>(tx, &shared, &input, now, request);
    let result = if Op::WRITES {
        app.db.write(job).await
    } else {
        app.db.read(job).await
    };
    result.map_err(ServiceError::storage)?
}

async fn spend_argon2(
    app: &Arc<App>,
    password: String,
    hash: String,
) -> Result<bool, ServiceError> {
    // A fixed pool of verifications with a short queue: past it the call is refused at
    // once (retryable) rather than waiting behind a flood of guesses. Session and cached
    // callers never come here.
    let _permit = app.argon2_permit().await.map_err(|_| {
        ServiceError::fault(
            FaultCode::Unavailable,
            "too many password checks are waiting; retry shortly or use a SessionId",
        )
    })?;
    tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .map_err(|e| ServiceError::Internal(format!("password check panicked: {e}")))
}

/// A claimed password check not yet reported: dropping it (the request's future was
/// cancelled) gives the attempt back.
struct Claimed<'a> {
    app: &'a App,
    user_id: i64,
}

impl Drop for Claimed<'_> {
    fn drop(&mut self) {
        let app = self.app;
        app.lockout.finish(
            self.user_id,
            Verdict::Abandoned,
            app.clock.now(),
            &app.config.auth,
        );
    }
}

fn auth_failed() -> ServiceError {
    ServiceError::fault(
        FaultCode::AuthFailed,
        "the organisation, user name or password is not valid",
    )
}

async fn write_small(
    app: &Arc<App>,
    f: impl for<'t> FnOnce(&store::Tx<'t>) -> Result<(), store::DbError> + Send + 'static,
) -> Result<(), ServiceError> {
    app.db
        .write(f)
        .await
        .map_err(ServiceError::storage)?
        .map_err(ServiceError::storage)
}

/// How often a writing request that collided with another node's concurrent commit is
/// run again ([`Outcome::Conflict`]).
const MAX_CONFLICT_RETRIES: u32 = 3;

/// Authenticates and runs the handler, answering the caller's refusals and faults.
///
/// # Errors
///
/// Faults.
pub async fn run<Op: Operation>(app: &Arc<App>, env: &Envelope) -> Result<Reply, ServiceError> {
    note_header_claim(env);
    let mut request = Op::decode(&env.operation)?;
    let input = match Op::credentials(&request) {
        Some(c) => AuthInput::Credentials(c),
        None => auth_input(env)?,
    };
    if let AuthInput::Credentials(c) = &input {
        reqlog::note_claim(&c.org_code, &c.branch_code);
    }
    let mut verified = false;
    let mut conflicts = 0;
    loop {
        match execute::<Op>(app, &input, request).await? {
            Outcome::Conflict(e) => {
                // A few times: past that it is not a race (and on SQLite, whose one
                // writer makes races impossible, the same error comes back at once).
                conflicts += 1;
                if conflicts > MAX_CONFLICT_RETRIES {
                    return Err(ServiceError::storage(e));
                }
                request = Op::decode(&env.operation)?;
            }
            Outcome::Done { result, principal } => {
                reqlog::note_principal(
                    &principal.org_code,
                    &principal.branch_code,
                    &principal.user_name,
                );
                if principal.reset_failures {
                    let user = principal.user_id;
                    write_small(app, move |c| store::users::reset_failures(c, user)).await?;
                }
                let (code, body) = render::<Op>(env, &result);
                return Ok(Reply {
                    body,
                    principal: Some(principal),
                    result: code,
                });
            }
            Outcome::Auth(
                AuthStep::VerifyPassword {
                    user_id,
                    password_hash,
                    auth_version,
                    failed_attempts,
                    branch_exists,
                },
                back,
            ) => {
                let AuthInput::Credentials(c) = &input else {
                    return Err(ServiceError::Internal(
                        "password check for a session".into(),
                    ));
                };
                reqlog::note_user(&c.user_name);
                if branch_exists {
                    reqlog::note_branch(&c.branch_code);
                }
                if verified {
                    return Err(ServiceError::Internal(
                        "credentials changed during the call".into(),
                    ));
                }
                let config = app.config.auth;
                // Check and count are one step: without a claimed attempt the password
                // is not looked at (a locked user's answer, same cost, same fault).
                if !app
                    .lockout
                    .claim(
                        user_id,
                        failed_attempts,
                        auth_version,
                        app.clock.as_ref(),
                        &config,
                    )
                    .await
                {
                    spend_argon2(app, c.password.clone(), auth::dummy_hash().to_string()).await?;
                    return Err(auth_failed());
                }
                // A claim that waited may find this password verified meanwhile.
                if app
                    .auth_cache
                    .matches(user_id, &c.password, &password_hash, auth_version)
                {
                    app.lockout
                        .finish(user_id, Verdict::Right, app.clock.now(), &config);
                    verified = true;
                    request = back;
                    continue;
                }
                // Given back if this call is dropped mid-check (the client went away).
                let claim = Claimed { app, user_id };
                app.password_checks.fetch_add(1, Ordering::Relaxed);
                let checked = spend_argon2(app, c.password.clone(), password_hash.clone()).await;
                let now = app.clock.now();
                std::mem::forget(claim);
                match checked {
                    Ok(true) => {
                        app.lockout.finish(user_id, Verdict::Right, now, &config);
                        app.auth_cache
                            .remember(user_id, &c.password, &password_hash, auth_version);
                        verified = true;
                        request = back;
                    }
                    Ok(false) => {
                        app.lockout.finish(user_id, Verdict::Wrong, now, &config);
                        app.auth_cache.forget(user_id);
                        // Recorded in the store off the answer's path: the in-memory gate
                        // already counts it, and a wrong password for a known user must
                        // take no longer to answer than an unknown user (no fsync wait).
                        // Queued for the writer now (in order with later writes), its
                        // commit not awaited.
                        let recorded = app.db.write_detached(move |c| {
                            auth::record_failure(c, user_id, now, &config)
                        });
                        tokio::spawn(async move {
                            match recorded.await {
                                Ok(Ok(())) => {}
                                Ok(Err(e)) => {
                                    tracing::warn!(user_id, error = %e, "recording a failed login");
                                }
                                Err(e) => {
                                    tracing::warn!(user_id, error = %e, "recording a failed login");
                                }
                            }
                        });
                        return Err(auth_failed());
                    }
                    Err(e) => {
                        app.lockout
                            .finish(user_id, Verdict::Abandoned, now, &config);
                        return Err(e);
                    }
                }
            }
            Outcome::Auth(
                AuthStep::Denied {
                    error,
                    record_failure,
                    dummy_verify,
                    user_exists,
                    branch_exists,
                },
                _,
            ) => {
                if let AuthInput::Credentials(c) = &input {
                    if branch_exists {
                        reqlog::note_branch(&c.branch_code);
                    }
                    if user_exists {
                        reqlog::note_user(&c.user_name);
                    } else {
                        reqlog::note_unknown_user();
                    }
                }
                if dummy_verify && let AuthInput::Credentials(c) = &input {
                    spend_argon2(app, c.password.clone(), auth::dummy_hash().to_string()).await?;
                }
                if let Some(user_id) = record_failure {
                    let now = app.clock.now();
                    let config = app.config.auth;
                    write_small(app, move |c| auth::record_failure(c, user_id, now, &config))
                        .await?;
                }
                return Err(error);
            }
        }
    }
}

/// Notes the organisation and branch an `AuthHeader` claims, before anything else can
/// fail, so even a schema fault's log line says whose request it was.
fn note_header_claim(env: &Envelope) {
    let Some(header) = env.header("AuthHeader") else {
        return;
    };
    let text = |name: &str| {
        header
            .children
            .iter()
            .find(|c| c.is(TNS, name))
            .map_or("", |c| c.text.as_str())
    };
    reqlog::note_claim(text("OrgCode"), text("BranchCode"));
}

fn render<Op: Operation>(
    env: &Envelope,
    result: &Result<Op::Response, Refusal>,
) -> (ResultCode, String) {
    let response_name = format!("{}Response", Op::NAME);
    let mut w = XmlWriter::at_depth(2);
    w.open_with(&response_name, &[("xmlns", TNS)]);
    let code = match result {
        Ok(response) => {
            write_result(&mut w, ResultCode::Ok, "OK", None);
            Op::encode(response, &mut w);
            ResultCode::Ok
        }
        Err(refusal) => {
            write_result(&mut w, refusal.code, &refusal.message, refusal.field);
            refusal.code
        }
    };
    w.close(&response_name);
    (code, soap::response_envelope(env.version, &w.finish()))
}

/// The client of the caller's branch with this ClientNumber: the prerequisite of every
/// client-level operation.
///
/// # Errors
///
/// `FIELD_REQUIRED` for a blank number, `CLIENT_NOT_FOUND` when the branch has no such
/// client, or the store failing.
pub fn require_client(
    ctx: &Ctx<'_>,
    client_number: &str,
) -> Result<store::clients::ClientRow, OpError> {
    let number = crate::domain::validate::required("ClientNumber", client_number, 20)?;
    store::clients::find_client(ctx.tx, ctx.principal.branch_id, &number)?.ok_or_else(|| {
        OpError::Refused(Refusal::field(
            ResultCode::ClientNotFound,
            "ClientNumber",
            format!(
                "client {number} does not exist in branch {}",
                ctx.principal.branch_code
            ),
        ))
    })
}

/// Writes `<Result>`.
pub fn write_result(w: &mut XmlWriter, code: ResultCode, message: &str, field: Option<&str>) {
    w.open("Result");
    w.leaf_display("Code", code.number());
    w.leaf("Message", message);
    w.opt_leaf("Field", field);
    w.close("Result");
}

#[cfg(test)]
mod tests {
    /// A second table with two new rows and nothing else: the names, the routing and the
    /// response element all follow from the rows.
    mod one_row_per_operation {
        use super::super::*;
        use crate::testing::TestService;
        use crate::wire::soap::SoapVersion;
        use crate::wire::xml::XmlLimits;

        operations! {
            not_available::LaterOperation,
            not_available::AnotherOperation,
        }

        fn envelope(operation: &str) -> Envelope {
            let body = format!(
                r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><AuthHeader xmlns="urn:allps:ws:v1"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader></soap:Header><soap:Body><{operation} xmlns="urn:allps:ws:v1"/></soap:Body></soap:Envelope>"#
            );
            soap::parse_envelope(SoapVersion::V11, body.as_bytes(), &XmlLimits::default())
                .expect("envelope")
        }

        #[tokio::test]
        async fn a_row_is_listed_routed_and_answered_under_its_own_name() {
            assert_eq!(OPERATIONS, ["LaterOperation", "AnotherOperation"]);
            let service = TestService::new().await;
            let reply = route(&service.app, &envelope("LaterOperation"), "LaterOperation")
                .await
                .expect("routed")
                .expect("answered");
            assert_eq!(reply.result, ResultCode::NotAvailable);
            assert!(
                reply.body.contains(
                    "<LaterOperationResponse xmlns=\"urn:allps:ws:v1\">\n      <Result>\n        <Code>500</Code>"
                ),
                "{}",
                reply.body
            );
            assert!(reply.body.contains("</LaterOperationResponse>"));
            assert!(
                route(&service.app, &envelope("Login"), "Login")
                    .await
                    .is_none()
            );
        }
    }

    /// Operations share code through `ops/shared/` or `domain`, never by importing one
    /// another.
    #[test]
    fn no_operation_imports_another() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ops");
        let handlers: Vec<String> = std::fs::read_dir(&dir)
            .expect("src/ops")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
            .filter(|stem| stem != "mod" && stem != "wire")
            .collect();
        assert!(handlers.len() >= 18, "{handlers:?}");
        for file in &handlers {
            let text = std::fs::read_to_string(dir.join(format!("{file}.rs"))).expect("source");
            for other in handlers.iter().filter(|o| *o != file) {
                for path in [format!("super::{other}::"), format!("ops::{other}::")] {
                    assert!(!text.contains(&path), "ops/{file}.rs uses {path}");
                }
            }
        }
    }

    #[test]
    fn the_real_table_lists_each_operation_once_in_contract_order() {
        assert_eq!(super::OPERATIONS.len(), 19);
        assert_eq!(super::OPERATIONS[0], "Login");
        assert_eq!(super::OPERATIONS[6], "CreateDebiCheckPromissory");
        let unique: std::collections::HashSet<_> = super::OPERATIONS.iter().collect();
        assert_eq!(unique.len(), super::OPERATIONS.len());
    }
}
