//! Integration tests of the report formats, on run results the checker judged.

mod bench;
mod checked;
mod fixture;
mod fuzz;
mod html;
mod json;
mod junit;
mod reproducible;
mod schema;
mod summary_md;
mod terminal;
mod transcript;
