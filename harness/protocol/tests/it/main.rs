//! Integration tests of the protocol crate: the wire format, the spec and the schemas.

mod doc;
mod examples;
mod parse;
mod prop;
mod schema;
mod text;
mod wire;
