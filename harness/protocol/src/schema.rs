//! JSON Schemas of both directions, generated from the wire types.
//!
//! The committed copies live in `schema/`; a test fails when they are stale, and
//! `LOCKCHECK_BLESS=1 cargo nextest run -p lockcheck-protocol` rewrites them.

use schemars::JsonSchema;

use crate::{AdapterMessage, Request};

/// The JSON Schema (draft 2020-12) of one line the runner writes: a [`Request`].
pub fn request_schema() -> serde_json::Value {
    schema_of::<Request>()
}

/// The JSON Schema (draft 2020-12) of one line an adapter writes: an [`AdapterMessage`].
pub fn adapter_message_schema() -> serde_json::Value {
    schema_of::<AdapterMessage>()
}

fn schema_of<T: JsonSchema>() -> serde_json::Value {
    schemars::schema_for!(T).to_value()
}
