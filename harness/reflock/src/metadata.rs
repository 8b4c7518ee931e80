//! The holder record that exclusive holders write at the start of the lock file.
//!
//! The format is line-oriented UTF-8 text, so that `cat` on a lock file tells a person who
//! holds it:
//!
//! ```text
//! reflock-holder v1
//! state held
//! token 42
//! pid 4121
//! start 183354
//! boot 5c0d4c1e-6f65-4a43-9a43-8c1f6a3e0b1d
//! host build-07
//! since 1732276924.000123456
//! command app --serve
//! end
//! ```
//!
//! `state` is `held` while an exclusive holder has the lock and `free` once it released it.
//! Both words have the same length and sit at a fixed offset ([`STATE_OFFSET`]), so release
//! rewrites four bytes in place. `start` and `boot` identify the holder process across PID
//! reuse (see `sys` for what they mean on each platform). `since` is seconds and nanoseconds
//! since the Unix epoch. Values escape `\` as `\\` and control characters as `\xNN`. Anything
//! after `end` is ignored: the record is rewritten in place and the file is only shortened when
//! the old content was longer.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MAGIC: &str = "reflock-holder v1\n";
const STATE_KEY: &str = "state ";
/// Byte offset of the `held`/`free` word.
pub(crate) const STATE_OFFSET: u64 = (MAGIC.len() + STATE_KEY.len()) as u64;
/// The bytes written at [`STATE_OFFSET`] on release.
pub(crate) const FREE: &[u8; 4] = b"free";
const HELD: &str = "held";
/// The most a reader looks at; a longer record is not one reflock wrote.
pub(crate) const MAX_RECORD: usize = 4096;
/// Commands longer than this are cut (on a character boundary) so a record always fits.
const MAX_COMMAND: usize = 1024;
const MAX_FIELD: usize = 512;

/// Everything an exclusive holder records about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) held: bool,
    pub(crate) token: u64,
    pub(crate) pid: u32,
    pub(crate) start: u64,
    pub(crate) boot: String,
    pub(crate) host: String,
    pub(crate) since: SystemTime,
    pub(crate) command: String,
}

/// Why bytes could not be read as a record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DecodeError(&'static str);

impl Record {
    /// Appends the encoded record to `out`.
    pub(crate) fn encode_into(&self, out: &mut String) {
        let since = self
            .since
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        out.push_str(MAGIC);
        out.push_str(STATE_KEY);
        out.push_str(if self.held { HELD } else { "free" });
        // Writing into a String cannot fail.
        let _ = write!(
            out,
            "\ntoken {}\npid {}\nstart {}\nboot ",
            self.token, self.pid, self.start
        );
        escape_into(out, cut(&self.boot, MAX_FIELD));
        out.push_str("\nhost ");
        escape_into(out, cut(&self.host, MAX_FIELD));
        let _ = write!(
            out,
            "\nsince {}.{:09}\ncommand ",
            since.as_secs(),
            since.subsec_nanos()
        );
        escape_into(out, cut(&self.command, MAX_COMMAND));
        out.push_str("\nend\n");
    }

    #[cfg(test)]
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        self.encode_into(&mut out);
        out
    }

    /// Reads a record from the start of `bytes`. Never panics, whatever the bytes.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Record, DecodeError> {
        let bytes = &bytes[..bytes.len().min(MAX_RECORD)];
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            // A record followed by the torn tail of a longer one: decode up to the bad byte.
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        };
        let rest = text
            .strip_prefix(MAGIC)
            .ok_or(DecodeError("not a reflock holder record"))?;
        let mut lines = rest.split('\n');
        let mut field = |key: &'static str| -> Result<&str, DecodeError> {
            let line = lines.next().ok_or(DecodeError("record ends early"))?;
            line.strip_prefix(key)
                .and_then(|l| l.strip_prefix(' '))
                .ok_or(DecodeError("unexpected field"))
        };
        let held = match field("state")? {
            HELD => true,
            "free" => false,
            _ => return Err(DecodeError("bad state")),
        };
        let token = number(field("token")?)?;
        let pid = u32::try_from(number(field("pid")?)?).map_err(|_| DecodeError("bad pid"))?;
        let start = number(field("start")?)?;
        let boot = unescape(field("boot")?)?;
        let host = unescape(field("host")?)?;
        let since = time(field("since")?)?;
        let command = unescape(field("command")?)?;
        match lines.next() {
            Some("end") if lines.next().is_some() => {}
            _ => return Err(DecodeError("missing end")),
        }
        Ok(Record {
            held,
            token,
            pid,
            start,
            boot,
            host,
            since,
            command,
        })
    }
}

fn number(s: &str) -> Result<u64, DecodeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecodeError("bad number"));
    }
    s.parse().map_err(|_| DecodeError("number out of range"))
}

fn time(s: &str) -> Result<SystemTime, DecodeError> {
    let (secs, nanos) = s.split_once('.').ok_or(DecodeError("bad time"))?;
    if nanos.len() != 9 {
        return Err(DecodeError("bad time"));
    }
    let nanos = u32::try_from(number(nanos)?).map_err(|_| DecodeError("bad time"))?;
    let since = Duration::new(number(secs)?, 0)
        .checked_add(Duration::from_nanos(u64::from(nanos)))
        .ok_or(DecodeError("bad time"))?;
    UNIX_EPOCH
        .checked_add(since)
        .ok_or(DecodeError("time out of range"))
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

fn unescape(s: &str) -> Result<String, DecodeError> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                if hex.len() != 2 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(DecodeError("bad escape"));
                }
                let code = u8::from_str_radix(&hex, 16).map_err(|_| DecodeError("bad escape"))?;
                if !code.is_ascii_control() {
                    return Err(DecodeError("bad escape"));
                }
                out.push(char::from(code));
            }
            _ => return Err(DecodeError("bad escape")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
