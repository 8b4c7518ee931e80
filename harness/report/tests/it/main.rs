//! Integration tests of the report formats, on hand-made run results.

mod bench;
mod checked;
mod fixture;
mod html;
mod json;
mod junit;
mod reproducible;
mod schema;
mod summary_md;
mod terminal;
mod transcript;
