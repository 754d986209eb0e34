//! The single entry point through which every person-data field is read.
//!
//! Each guarded resolver calls [`read`] before touching data: it asks `policies` for the
//! decision, records the read (or the denial) for the access log, and returns `FORBIDDEN`
//! for a refused cell so the field alone becomes `null`.

use async_graphql::Context;
use policies::{Field, Scope, WriteAction};
use uuid::Uuid;

use crate::context::{request, RequestContext};
use crate::ApiError;

/// Authorizes reading `field` of `person`'s record.
pub(crate) fn read<'a>(
    ctx: &'a Context<'_>,
    person: Uuid,
    field: Field,
) -> Result<&'a RequestContext, ApiError> {
    let (rc, _) = request(ctx)?;
    match policies::read_field(&rc.access.principal, field) {
        Ok(()) => {
            rc.record_read(person, field);
            Ok(rc)
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
    policies::authorize_write(&rc.access.principal, action).map_err(|denial| {
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
    if rc.access.principal.has(scope) {
        Ok(())
    } else {
        rc.record_denial(None, what, "deny_by_default");
        Err(ApiError::Forbidden(format!(
            "{what} needs the `{scope}` scope"
        )))
    }
}
