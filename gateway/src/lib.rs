//! The izgraph gateway: configuration, authentication, the HTTP server and the CLI commands
//! built on them. `main.rs` only parses arguments and calls in here, so end-to-end tests run
//! exactly the server `izgraph serve` runs.

pub mod app;
pub mod auth;
pub mod checkpoints;
pub mod config;
pub mod hl7;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod school;
mod serve;
pub mod telemetry;

pub use app::Application;
pub use config::Settings;

/// mimalloc rather than the system allocator. A GraphQL response is built as a tree of small
/// allocations (one map per object, one string per name) and freed at once: on a 1,000-student
/// roster glibc's malloc and free were a third of the CPU time. Declared here, in the library,
/// so the tests and benchmarks that run the server in-process use the allocator it ships with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
