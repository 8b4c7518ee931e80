//! Parsing single protocol lines, with errors precise enough to answer them.
//!
//! Both directions go through here: adapters written in Rust parse requests with
//! [`parse_request`], and the runner parses adapter output with [`parse_adapter_message`].

use serde_json::Value;

use crate::{AdapterMessage, ErrorKind, Op, Request, Response, Status, Wait};

/// The longest line, in bytes and without its newline, that either side may write.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Why a request line could not be turned into a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    id: Option<u64>,
    kind: RequestErrorKind,
    message: String,
}

/// What kind of problem a [`RequestError`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestErrorKind {
    /// A well-formed request whose `op` this protocol version does not know. Answer
    /// `unsupported`.
    UnknownOp {
        /// The op's name as sent.
        op: String,
    },
    /// Not JSON, not an object, a missing or mistyped field, or a field combination the
    /// protocol forbids. Answer `error` with kind `bad_request` when the id is known.
    Malformed,
    /// The line is longer than [`MAX_LINE_BYTES`].
    TooLong,
}

impl RequestError {
    fn new(id: Option<u64>, kind: RequestErrorKind, message: impl Into<String>) -> Self {
        RequestError {
            id,
            kind,
            message: message.into(),
        }
    }

    /// The request's id, when the line carried a valid one.
    pub fn id(&self) -> Option<u64> {
        self.id
    }

    /// What went wrong.
    pub fn kind(&self) -> &RequestErrorKind {
        &self.kind
    }

    /// A lowercase description, suitable after "bad request: ".
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The response an adapter should write for this line: `unsupported` for an unknown op,
    /// `error`/`bad_request` otherwise. `None` when the line has no usable id; the adapter then
    /// reports the problem on stderr and reads on.
    pub fn to_response(&self) -> Option<Response> {
        let id = self.id?;
        Some(match &self.kind {
            RequestErrorKind::UnknownOp { .. } => Response {
                message: Some(self.message.clone()),
                ..Response::new(id, Status::Unsupported)
            },
            RequestErrorKind::Malformed | RequestErrorKind::TooLong => {
                Response::error(id, ErrorKind::BadRequest, self.message.clone())
            }
        })
    }
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.id {
            Some(id) => write!(f, "request {id}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RequestError {}

/// Parses one line from the runner (a trailing `\n` or `\r\n` is allowed).
///
/// Unknown fields are ignored. An op this version does not know gives
/// [`RequestErrorKind::UnknownOp`] with the id, so that the adapter can answer `unsupported`
/// instead of failing; `acquire` with `wait: timeout` and no `timeout_ms` is malformed.
pub fn parse_request(line: &str) -> Result<Request, RequestError> {
    let line = trim_newline(line);
    if line.len() > MAX_LINE_BYTES {
        return Err(RequestError::new(
            None,
            RequestErrorKind::TooLong,
            format!("line of {} bytes exceeds {MAX_LINE_BYTES}", line.len()),
        ));
    }
    let malformed =
        |id, message: String| RequestError::new(id, RequestErrorKind::Malformed, message);
    let value: Value =
        serde_json::from_str(line).map_err(|e| malformed(None, format!("not JSON: {e}")))?;
    let Value::Object(map) = &value else {
        return Err(malformed(None, "not a JSON object".to_owned()));
    };
    let id = match map.get("id") {
        Some(id) => id.as_u64().ok_or_else(|| {
            malformed(
                None,
                format!("`id` must be a non-negative integer, got {id}"),
            )
        })?,
        None => return Err(malformed(None, "missing field `id`".to_owned())),
    };
    let op = match map.get("op") {
        Some(Value::String(op)) => op.clone(),
        Some(other) => {
            return Err(malformed(
                Some(id),
                format!("`op` must be a string, got {other}"),
            ));
        }
        None => return Err(malformed(Some(id), "missing field `op`".to_owned())),
    };
    if !Op::NAMES.contains(&op.as_str()) {
        return Err(RequestError::new(
            Some(id),
            RequestErrorKind::UnknownOp { op: op.clone() },
            format!("unknown op `{op}`"),
        ));
    }
    let request: Request = serde_json::from_value(value)
        .map_err(|e| malformed(Some(id), format!("op `{op}`: {e}")))?;
    if let Op::Acquire {
        wait: Wait::Timeout,
        timeout_ms: None,
        ..
    } = request.op
    {
        return Err(malformed(
            Some(id),
            "`acquire` with `wait: timeout` needs `timeout_ms`".to_owned(),
        ));
    }
    Ok(request)
}

/// Parses one line from an adapter (a trailing `\n` or `\r\n` is allowed). Unknown fields are
/// ignored; a response with `status: error` must carry `kind`. The error is a lowercase
/// description of what is wrong with the line.
pub fn parse_adapter_message(line: &str) -> Result<AdapterMessage, String> {
    let line = trim_newline(line);
    if line.len() > MAX_LINE_BYTES {
        return Err(format!(
            "line of {} bytes exceeds {MAX_LINE_BYTES}",
            line.len()
        ));
    }
    let message: AdapterMessage = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if let AdapterMessage::Response(response) = &message
        && response.status == Status::Error
        && response.kind.is_none()
    {
        return Err(format!(
            "response {}: `status: error` needs `kind`",
            response.id
        ));
    }
    Ok(message)
}

fn trim_newline(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}
