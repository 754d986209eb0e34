//! izgraph's GraphQL schema: types, resolvers and the one place where storage and policy
//! errors become GraphQL error codes.
//!
//! [`build`] has no side effects: the gateway attaches the [`entities::Store`] and, per
//! request, a [`RequestContext`] carrying the principal.

mod access_log;
mod consent;
mod context;
pub mod coverage;
mod dose;
mod error;
mod error_codes;
mod federation;
mod forecast_cache;
mod forecasts;
mod guard;
mod ids;
mod inline;
mod limits;
mod loaders;
mod matching;
mod nulls;
mod official_record;
mod organization;
mod page;
mod person;
pub mod population;
mod principal;
mod roster;
mod scalars;
mod spans;
mod vaccine;

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};

pub use context::RequestContext;
pub use error::{ApiError, ErrorCode};
pub use forecast_cache::{ForecastCache, ForecastCacheConfig, ForecastCacheStatus};
pub use limits::{Limits, MAX_STRING_CHARS};
pub use nulls::{Nulls, MAX_ERRORS};
pub use official_record::RecordDownload;
pub use spans::Spans;

/// The query root: every root field, with `_entities` representations failing one by one.
pub type Query = federation::EntityRoot<QueryFields>;

/// Every query root field, merged from the domain modules.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryFields(
    principal::MeQuery,
    person::PersonQuery,
    matching::MatchingQuery,
    organization::OrganizationQuery,
    vaccine::VaccineQuery,
    access_log::AccessLogQuery,
    roster::RosterQuery,
    official_record::OfficialRecordQuery,
    population::PopulationQuery,
    federation::EntityQuery,
);

/// Every mutation, merged from the domain modules.
#[derive(MergedObject, Default)]
pub struct Mutation(
    organization::OrganizationMutation,
    person::PersonMutation,
    matching::MatchingMutation,
    dose::DoseMutation,
    consent::ConsentMutation,
    population::PopulationMutation,
);

/// The executable schema type.
pub type IzSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema builder, with Apollo Federation v2 enabled (`Person`, `Organization` and `Dose`
/// are entities), [`Nulls`] (refused fields answer `null`, as the specification says) and,
/// outermost so it sees every error, the codes of async-graphql's own errors
/// (`error_codes`).
pub fn build() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .enable_federation()
        .extension(error_codes::ErrorCodes)
        .extension(Nulls)
}

/// The SDL as served, federation directives included.
pub fn sdl() -> String {
    build()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}
