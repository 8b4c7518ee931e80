//! Integration tests of the report formats, on hand-made run results.

mod bench;
mod checked;
mod fixture;
mod html;
mod json;
mod schema;
mod terminal;
mod transcript;
