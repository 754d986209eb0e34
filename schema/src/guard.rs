//! The single entry point through which every person-data field is read.
//!
//! Each guarded resolver calls [`read`] before touching data: it asks `policies` for the
//! decision, records the read (or the denial) for the access log, and returns `FORBIDDEN`
//! for a refused cell so the field alone becomes `null`.

use async_graphql::Context;
use policies::{Field, RowsOf, Scope, WriteAction};
use uuid::Uuid;

use crate::context::{request, RequestContext};
use crate::ApiError;

/// Authorizes reading `field` of `person`'s record.
pub(crate) fn read<'a>(
    ctx: &'a Context<'_>,
    person: Uuid,
    field: Field,
) -> Result<&'a RequestContext, ApiError> {
    read_rows(ctx, person, field).map(|(rc, _)| rc)
}

/// Whether a row naming `org` is among the readable rows of a field.
pub(crate) fn row_visible(rows: RowsOf, org: Uuid) -> bool {
    match rows {
        RowsOf::All => true,
        RowsOf::Organization(own) => own == org,
    }
}

/// Notes that the response reveals that `person` exists (its id, a cursor, a page position):
/// a read, logged like any field (rule: every answer that reveals a person is a read).
pub(crate) fn reveal(ctx: &Context<'_>, person: Uuid, what: &'static str) -> Result<(), ApiError> {
    let (rc, _) = request(ctx)?;
    rc.record_reveal(person, what);
    Ok(())
}

/// [`read`], and which of the field's rows the principal may see.
pub(crate) fn read_rows<'a>(
    ctx: &'a Context<'_>,
    person: Uuid,
    field: Field,
) -> Result<(&'a RequestContext, RowsOf), ApiError> {
    let (rc, _) = request(ctx)?;
    // The matrix cell depends on the principal and the field only (which records the caller
    // may see at all is the row scope's, applied in the SQL), so it is decided — and traced —
    // once per request and field, however many persons the request reads.
    let decision = rc.field_decision(field, || {
        let span = decision_span(field.as_str());
        let _entered = span.enter();
        let decision = policies::read_rows(&rc.access.principal, field);
        span.record("policy.allowed", decision.is_ok());
        if let Err(denial) = decision {
            span.record("policy.rule", denial.rule);
        }
        decision
    });
    match decision {
        Ok(rows) => {
            rc.record_read(person, field);
            Ok((rc, rows))
        }
        Err(denial) => {
            rc.record_denial(Some(person), field.as_str(), denial.rule);
            Err(ApiError::Forbidden(format!(
                "{} is not visible to this role ({})",
                field.as_str(),
                denial.rule
            )))
        }
    }
}

/// Authorizes attempting a write at all; the repository then checks the target record.
pub(crate) fn write(ctx: &Context<'_>, action: WriteAction) -> Result<(), ApiError> {
    let (rc, _) = request(ctx)?;
    let span = decision_span("mutation");
    let _entered = span.enter();
    let decision = policies::authorize_write(&rc.access.principal, action);
    span.record("policy.allowed", decision.is_ok());
    decision.map_err(|denial| {
        span.record("policy.rule", denial.rule);
        rc.record_denial(None, "mutation", denial.rule);
        ApiError::Forbidden(format!(
            "this action needs the `{}` scope ({})",
            denial.required, denial.rule
        ))
    })
}

/// Authorizes a non-person capability (the access log).
pub(crate) fn scope(ctx: &Context<'_>, scope: Scope, what: &'static str) -> Result<(), ApiError> {
    let (rc, _) = request(ctx)?;
    let span = decision_span(what);
    let _entered = span.enter();
    let allowed = rc.access.principal.has(scope);
    span.record("policy.allowed", allowed);
    if allowed {
        Ok(())
    } else {
        span.record("policy.rule", "deny_by_default");
        rc.record_denial(None, what, "deny_by_default");
        Err(ApiError::Forbidden(format!(
            "{what} needs the `{scope}` scope"
        )))
    }
}

/// One policy decision's span: what was asked and the answer, never whose record.
fn decision_span(what: &'static str) -> tracing::Span {
    tracing::info_span!(
        "policy.decision",
        policy.field = what,
        policy.allowed = tracing::field::Empty,
        policy.rule = tracing::field::Empty,
    )
}
