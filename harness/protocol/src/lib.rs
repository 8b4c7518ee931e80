//! The lockcheck adapter protocol, version 1: wire types and vocabularies.
//!
//! An adapter is a program that puts one lock implementation behind newline-delimited JSON on
//! stdin/stdout. The spec is `PROTOCOL.md` beside this crate; the JSON Schemas in `schema/` are
//! generated from these types. This crate does no I/O; it only reads the clock bench samples
//! are stamped with ([`monotonic_ns`]).

mod capability;
mod clock;
mod env;
mod message;
mod parse;
mod schema;
mod text;
mod vocabulary;

pub use capability::{Capability, IDLE_COMMAND, Recovery};
pub use clock::monotonic_ns;
pub use env::{ENV_LOCK_PATH, ENV_PARTICIPANT, ENV_PROTOCOL, ENV_SEED};
pub use message::{
    AdapterMessage, ErrorKind, Hello, HolderInfo, Implementation, Mode, Op, Request, Response,
    Status, Wait,
};
pub use parse::{
    MAX_LINE_BYTES, RequestError, RequestErrorKind, parse_adapter_message, parse_request,
};
pub use schema::{adapter_message_schema, request_schema};
pub use text::head;
pub use vocabulary::Vocabulary;

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The first line of a `bench` samples file (PROTOCOL.md, "bench").
pub const BENCH_SAMPLES_HEADER: &str = "lockcheck-bench 1";
