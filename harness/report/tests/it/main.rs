//! Integration tests of the report formats, on hand-made run results.

mod fixture;
mod json;
mod terminal;
mod transcript;
