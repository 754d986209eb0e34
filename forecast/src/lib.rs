//! CDSi forecasting engine.
