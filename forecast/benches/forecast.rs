//! Placeholder until the forecasting benchmark lands.
fn main() {}
