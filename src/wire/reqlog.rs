//! Who a request was, for its one log line: the organisation, branch and user it
//! claimed and, as authentication proceeds, what of that turned out to be true.
//! [`crate::ops`] notes it while a request runs (a task-local record, so no signature
//! changes); [`crate::server::http`] writes it.
//!
//! What may be logged:
//! - `org` and `branch`: only codes known to exist. The principal's once authenticated;
//!   on a refusal, the claimed organisation only when a user of the claimed name exists in
//!   it, and the claimed branch only when it exists in that organisation; anything else
//!   claimed is logged as `?` (a password or SessionId typed into OrgCode or BranchCode
//!   must never reach the log).
//! - `user`: the principal's user name once authenticated; on a refusal, the attempted
//!   name only when a user of that name exists in the named organisation (wrong
//!   password, locked, disabled, no right, branch not allocated). A name that matches
//!   no user may be a password typed into the wrong field, so it is logged as `?`.
//! - never a password, a SessionId, or a request body value; ID, account and card
//!   numbers elsewhere only through [`crate::domain::mask`].
//!
//! Every value is cut to [`MAX_FIELD_CHARS`] so a hostile header cannot bloat the log.

use std::cell::RefCell;
use std::future::Future;

/// Longest value logged for one identity field.
pub const MAX_FIELD_CHARS: usize = 64;

/// The identity fields of a request's log line; `None` prints as `-`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// Organisation code.
    pub org: Option<String>,
    /// Branch code.
    pub branch: Option<String>,
    /// User name, or `?` for a name that matches no user.
    pub user: Option<String>,
    /// The organisation code claimed, not yet known to exist (never logged).
    pub claimed_org: Option<String>,
}

impl Caller {
    /// The organisation for the log line.
    pub fn org(&self) -> &str {
        self.org.as_deref().unwrap_or("-")
    }

    /// The branch for the log line.
    pub fn branch(&self) -> &str {
        self.branch.as_deref().unwrap_or("-")
    }

    /// The user for the log line.
    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or("-")
    }
}

tokio::task_local! {
    static CALLER: RefCell<Caller>;
}

/// Runs `f` (one request's dispatch) with a fresh record, and returns what was noted.
pub async fn scope<F: Future>(f: F) -> (Caller, F::Output) {
    CALLER
        .scope(RefCell::new(Caller::default()), async move {
            let output = f.await;
            (CALLER.with(|c| c.take()), output)
        })
        .await
}

fn note(update: impl FnOnce(&mut Caller)) {
    // Outside a scope (a handler called directly by a test) there is nothing to note.
    let _ = CALLER.try_with(|c| update(&mut c.borrow_mut()));
}

fn clip(value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    Some(match value.char_indices().nth(MAX_FIELD_CHARS) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_string(),
    })
}

/// The organisation and branch a request claims: logged as `?` until known to exist.
pub fn note_claim(org: &str, branch: &str) {
    note(|c| {
        c.claimed_org = clip(org);
        c.org = c.claimed_org.as_ref().map(|_| "?".to_string());
        c.branch = clip(branch).map(|_| "?".to_string());
    });
}

/// The attempted user exists (in the claimed organisation, which therefore exists): its
/// name and the organisation may be logged.
pub fn note_user(user: &str) {
    note(|c| {
        c.user = clip(user);
        if c.claimed_org.is_some() {
            c.org = c.claimed_org.clone();
        }
    });
}

/// The claimed branch exists in the (existing) claimed organisation: it may be logged.
pub fn note_branch(branch: &str) {
    note(|c| c.branch = clip(branch));
}

/// The attempted user name matches no user: logged as `?`.
pub fn note_unknown_user() {
    note(|c| c.user = Some("?".into()));
}

/// The caller is authenticated as this user of this organisation and branch.
pub fn note_principal(org_code: &str, branch_code: &str, user_name: &str) {
    note(|c| {
        c.org = clip(org_code);
        c.branch = clip(branch_code);
        c.user = clip(user_name);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notes_inside_a_scope_only() {
        note_user("outside");
        let (caller, value) = scope(async {
            note_claim(&"D".repeat(200), "secret-password");
            note_unknown_user();
            7
        })
        .await;
        assert_eq!(value, 7);
        assert_eq!(
            caller.org(),
            "?",
            "an unverified organisation is not logged"
        );
        assert_eq!(caller.branch(), "?", "an unverified branch is not logged");
        assert_eq!(caller.user(), "?");
        let (known, ()) = scope(async {
            note_claim(&"D".repeat(200), "BR001");
            note_user("demo");
        })
        .await;
        let org = known.org.clone().unwrap();
        assert_eq!(org.chars().count(), MAX_FIELD_CHARS + 1);
        assert!(org.ends_with('…'));
        assert_eq!(known.branch(), "?");
        let (empty, ()) = scope(async {}).await;
        assert_eq!((empty.org(), empty.branch(), empty.user()), ("-", "-", "-"));
    }
}
