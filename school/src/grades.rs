//! The grade codes an enrollment carries.

/// Child care and early childhood (`CC`, `EC`), pre-kindergarten, kindergarten and grades 1
/// to 12: the codes `entities` accepts for an enrollment (a schema test keeps the two lists
/// equal), so a rule naming any other grade could never apply and is refused at load.
pub const GRADES: [&str; 16] = [
    "CC", "EC", "PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
];
