//! Integration tests of the report formats, on hand-made run results.

mod bench;
mod fixture;
mod json;
mod schema;
mod terminal;
mod transcript;
