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
