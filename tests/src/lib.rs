//! End-to-end tests of izgraph live in `tests/e2e/`; this crate has no library code.
