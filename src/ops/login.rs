//! `Login`: checks full credentials exactly as the `AuthHeader` would and starts a
//! session whose `SessionId` later calls may send instead of the password.

use time::OffsetDateTime;

use super::wire::{Fields, spellings};
use super::{Ctx, OpError, Operation};
use crate::auth::{self, Credentials};
use crate::clock::format_timestamp;
use crate::domain::TerminalType;
use crate::wire::fault::ServiceError;
use crate::wire::xml::{Element, XmlWriter};

/// The `Login` operation.
pub struct Login;

/// A decoded `Login` request.
#[derive(Debug)]
pub struct LoginRequest {
    credentials: Credentials,
}

/// A started session.
#[derive(Debug)]
pub struct LoginResponse {
    session_id: String,
    expires_at: OffsetDateTime,
}

impl Operation for Login {
    const NAME: &'static str = "Login";
    const WRITES: bool = true;
    type Request = LoginRequest;
    type Response = LoginResponse;

    fn decode(element: &Element) -> Result<LoginRequest, ServiceError> {
        let f = Fields::new(
            element,
            &[
                ("UserName", 1),
                ("Password", 1),
                ("ComputerName", 1),
                ("OrgCode", 1),
                ("BranchCode", 1),
                ("TerminalType", 1),
            ],
        )?;
        let terminal_type = f
            .enumeration(
                "TerminalType",
                TerminalType::parse,
                &spellings(TerminalType::ALL, TerminalType::as_str),
            )?
            .unwrap_or(TerminalType::None);
        Ok(LoginRequest {
            credentials: Credentials {
                user_name: f.required_text("UserName")?.trim().to_string(),
                password: f.required_text("Password")?,
                computer_name: f.required_text("ComputerName")?.trim().to_string(),
                org_code: f.required_text("OrgCode")?.trim().to_string(),
                branch_code: f.required_text("BranchCode")?.trim().to_string(),
                terminal_type,
            },
        })
    }

    fn credentials(request: &LoginRequest) -> Option<Credentials> {
        Some(request.credentials.clone())
    }

    fn handle(ctx: &Ctx<'_>, _request: LoginRequest) -> Result<LoginResponse, OpError> {
        let (session_id, expires_at) =
            auth::create_session(ctx.tx, ctx.principal, ctx.now, &ctx.app.config.auth)?;
        Ok(LoginResponse {
            session_id,
            expires_at,
        })
    }

    fn encode(response: &LoginResponse, w: &mut XmlWriter) {
        w.leaf("SessionId", &response.session_id);
        w.leaf("ExpiresAt", &format_timestamp(response.expires_at));
    }
}
