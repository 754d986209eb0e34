//! The crate's errors: configuration and estimation refusals. Matching itself never fails: any
//! two records get a decision.

/// Why a configuration, an estimation or a test file was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IdentityError {
    /// A configured or estimated model is malformed.
    #[error("invalid matching model: {0}")]
    InvalidModel(String),
    /// Thresholds that cannot order the three decisions.
    #[error("invalid thresholds: {0}")]
    InvalidThresholds(String),
    /// Estimation needs at least one pair.
    #[error("no pairs to estimate from")]
    NoPairs,
    /// A labelled-pair file that does not follow the format.
    #[error("line {line}: {problem}")]
    PairFile { line: usize, problem: String },
}
