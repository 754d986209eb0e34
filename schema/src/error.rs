//! API errors and their stable `extensions.code` values. Storage and policy errors are mapped
//! here, once; internal causes are logged and never sent to clients.

use async_graphql::ErrorExtensions;
use entities::StoreError;

/// The `extensions.code` values clients can rely on: every code the gateway sends, each with
/// the HTTP status it is answered with when it refuses a whole request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadUserInput,
    Forbidden,
    NotFound,
    RecordLocked,
    /// A write raced another one to the same unique row; retrying sees the winner.
    Conflict,
    Unauthenticated,
    ServiceUnavailable,
    InternalServerError,
    /// The document does not parse.
    GraphqlParseFailed,
    /// The document is not valid against the schema.
    GraphqlValidationFailed,
    /// Operation limits: refused before anything is executed or logged.
    QueryTooDeep,
    QueryTooComplex,
    TooManyAliases,
    TooManyRootFields,
    IntrospectionDisabled,
    /// HTTP-level refusals: a body or query string that is no GraphQL request, a batch of
    /// none, a non-JSON POST (415).
    BadRequest,
    /// A mutation sent with GET.
    MethodNotAllowed,
    /// An `Accept` header that allows neither response type.
    NotAcceptable,
    /// HTTP-level limits and persisted documents, refused by the gateway.
    RequestTooLarge,
    BatchTooLarge,
    PersistedQueryNotFound,
    PersistedQueryNotInList,
}

impl ErrorCode {
    /// Every code, for documentation and tests.
    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::BadUserInput,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::RecordLocked,
        ErrorCode::Conflict,
        ErrorCode::Unauthenticated,
        ErrorCode::ServiceUnavailable,
        ErrorCode::InternalServerError,
        ErrorCode::GraphqlParseFailed,
        ErrorCode::GraphqlValidationFailed,
        ErrorCode::QueryTooDeep,
        ErrorCode::QueryTooComplex,
        ErrorCode::TooManyAliases,
        ErrorCode::TooManyRootFields,
        ErrorCode::IntrospectionDisabled,
        ErrorCode::BadRequest,
        ErrorCode::MethodNotAllowed,
        ErrorCode::NotAcceptable,
        ErrorCode::RequestTooLarge,
        ErrorCode::BatchTooLarge,
        ErrorCode::PersistedQueryNotFound,
        ErrorCode::PersistedQueryNotInList,
    ];

    /// A server error carrying this code, for refusals made outside any resolver.
    pub fn error(self, message: impl Into<String>) -> async_graphql::ServerError {
        let mut error = async_graphql::ServerError::new(message, None);
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", self.as_str());
        error.extensions = Some(ext);
        error
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::RecordLocked => "RECORD_LOCKED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
            ErrorCode::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            ErrorCode::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            ErrorCode::QueryTooDeep => "QUERY_TOO_DEEP",
            ErrorCode::QueryTooComplex => "QUERY_TOO_COMPLEX",
            ErrorCode::TooManyAliases => "TOO_MANY_ALIASES",
            ErrorCode::TooManyRootFields => "TOO_MANY_ROOT_FIELDS",
            ErrorCode::IntrospectionDisabled => "INTROSPECTION_DISABLED",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::NotAcceptable => "NOT_ACCEPTABLE",
            ErrorCode::RequestTooLarge => "REQUEST_TOO_LARGE",
            ErrorCode::BatchTooLarge => "BATCH_TOO_LARGE",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ErrorCode::PersistedQueryNotInList => "PERSISTED_QUERY_NOT_IN_LIST",
        }
    }

    /// The code a GraphQL error carries, if it is one of these.
    pub fn from_code(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The HTTP status a request refused with this code is answered with. Request errors
    /// (parse, validation, limits) are 400 under `application/graphql-response+json`; legacy
    /// `application/json` clients get them with 200, as GraphQL over HTTP says.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadUserInput
            | ErrorCode::GraphqlParseFailed
            | ErrorCode::GraphqlValidationFailed
            | ErrorCode::QueryTooDeep
            | ErrorCode::QueryTooComplex
            | ErrorCode::TooManyAliases
            | ErrorCode::TooManyRootFields
            | ErrorCode::IntrospectionDisabled
            | ErrorCode::BadRequest
            | ErrorCode::BatchTooLarge
            | ErrorCode::PersistedQueryNotFound
            | ErrorCode::PersistedQueryNotInList => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden | ErrorCode::RecordLocked => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::NotAcceptable => 406,
            ErrorCode::Conflict => 409,
            ErrorCode::RequestTooLarge => 413,
            ErrorCode::InternalServerError => 500,
            ErrorCode::ServiceUnavailable => 503,
        }
    }

    /// The code of a GraphQL error (`extensions.code`), if it carries a known one.
    pub fn of(error: &async_graphql::ServerError) -> Option<ErrorCode> {
        match error.extensions.as_ref()?.get("code")? {
            async_graphql::Value::String(code) => ErrorCode::from_code(code),
            _ => None,
        }
    }
}

/// An error a resolver returns.
///
/// Deliberately not `Display`: async-graphql converts any `Display` type into an error without
/// a code, so this type can only become a GraphQL error through the `From` below, which always
/// sets `extensions.code`.
#[derive(Debug)]
pub enum ApiError {
    BadInput(String),
    Forbidden(String),
    NotFound,
    RecordLocked,
    Conflict(String),
    Unavailable,
    Internal { request_id: String },
}

impl ApiError {
    /// The client-facing message; internal causes are never part of it.
    pub fn message(&self) -> String {
        match self {
            ApiError::BadInput(m) | ApiError::Forbidden(m) | ApiError::Conflict(m) => m.clone(),
            ApiError::NotFound => "not found".into(),
            ApiError::RecordLocked => "the record is locked to another provider".into(),
            ApiError::Unavailable => "the database is unavailable; try again".into(),
            ApiError::Internal { request_id } => format!("internal error (request {request_id})"),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadInput(_) => ErrorCode::BadUserInput,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::RecordLocked => ErrorCode::RecordLocked,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::Unavailable => ErrorCode::ServiceUnavailable,
            ApiError::Internal { .. } => ErrorCode::InternalServerError,
        }
    }

    /// Maps a storage error; `request_id` goes into internal errors so support can find the
    /// logged cause.
    pub fn from_store(err: StoreError, request_id: &str) -> ApiError {
        ApiError::from_store_ref(&err, request_id)
    }

    /// [`ApiError::from_store`] for an error several callers share (a batch load's).
    pub fn from_store_ref(err: &StoreError, request_id: &str) -> ApiError {
        match err {
            StoreError::Invalid(msg) => ApiError::BadInput(msg.clone()),
            StoreError::NotFound { .. } => ApiError::NotFound,
            StoreError::RecordLocked => ApiError::RecordLocked,
            StoreError::Forbidden(what) => {
                ApiError::Forbidden(format!("the caller may not {what}"))
            }
            StoreError::Conflict(msg) => ApiError::Conflict(msg.clone()),
            StoreError::Unavailable(why) => {
                tracing::warn!(request_id, why = %why, "storage unavailable");
                ApiError::Unavailable
            }
            other => {
                tracing::error!(request_id, error = %other, "internal error");
                ApiError::Internal {
                    request_id: request_id.to_owned(),
                }
            }
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let code = err.code();
        async_graphql::Error::new(err.message()).extend_with(|_, e| e.set("code", code.as_str()))
    }
}
