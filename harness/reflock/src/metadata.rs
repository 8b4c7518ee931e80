//! The holder record that exclusive holders write at the start of the lock file: at every
//! acquisition where no kernel lock table names holders (macOS, Windows), and on Linux when a
//! holder asks for its fencing token, which the record carries.
//!
//! The format is line-oriented UTF-8 text, so that `cat` on a lock file tells a person who
//! holds it:
//!
//! ```text
//! reflock-holder v1
//! state held
//! token 42
//! pid 4121
//! pidns 4026531836
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
//! reuse (see `sys` for what they mean on each platform). `pidns` names the PID namespace the
//! pid belongs to (the inode of `/proc/self/ns/pid` on Linux, 0 elsewhere): a pid recorded in
//! a container means nothing outside it. `since` is seconds and nanoseconds
//! since the Unix epoch. Values escape `\` as `\\` and control characters as `\xNN`. Anything
//! after `end` is ignored: the record is rewritten in place, in one write, and when the old
//! content was longer the new record is followed by spaces and a newline up to the old length
//! (see [`HeldTemplate::encode`]), so the file need not be truncated.
//!
//! An acquisition only needs the previous token, so it reads the old record with
//! [`Record::decode_token`], which accepts exactly what [`Record::decode`] accepts without
//! building the strings, and writes its own from a [`HeldTemplate`]: the parts that stay the
//! same for the life of a process, encoded once.

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

/// `command` cut as a record cuts it.
pub(crate) fn cut_command(command: String) -> String {
    match cut(&command, MAX_COMMAND).len() {
        len if len == command.len() => command,
        len => command[..len].to_owned(),
    }
}

/// Everything an exclusive holder records about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) held: bool,
    pub(crate) token: u64,
    pub(crate) pid: u32,
    pub(crate) pid_ns: u64,
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
    /// The encoded record, as an exclusive holder writes it (through [`HeldTemplate`]) and
    /// release then marks free.
    #[cfg(test)]
    pub(crate) fn encode(&self) -> String {
        let template = HeldTemplate::new(
            self.pid,
            self.pid_ns,
            self.start,
            &self.boot,
            &self.host,
            &self.command,
        );
        let mut out = Vec::new();
        template.encode(self.token, self.since, 0, &mut out);
        if !self.held {
            let at = STATE_OFFSET as usize;
            out[at..at + FREE.len()].copy_from_slice(FREE);
        }
        String::from_utf8(out).expect("records are UTF-8")
    }

    /// Reads a record from the start of `bytes`. Never panics, whatever the bytes.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Record, DecodeError> {
        let fields = Fields::parse(bytes)?;
        Ok(Record {
            held: fields.held,
            token: fields.token,
            pid: fields.pid,
            pid_ns: fields.pid_ns,
            start: fields.start,
            boot: unescape(fields.boot)?,
            host: unescape(fields.host)?,
            since: fields.since,
            command: unescape(fields.command)?,
        })
    }

    /// The token of the record at the start of `bytes`: the same checks as [`Record::decode`]
    /// (so it fails exactly when `decode` does), without allocating.
    pub(crate) fn decode_token(bytes: &[u8]) -> Result<u64, DecodeError> {
        Fields::parse(bytes).map(|fields| fields.token)
    }
}

/// A record's fields as they stand in the bytes, the strings still escaped but checked.
struct Fields<'a> {
    held: bool,
    token: u64,
    pid: u32,
    pid_ns: u64,
    start: u64,
    boot: &'a str,
    host: &'a str,
    since: SystemTime,
    command: &'a str,
}

impl<'a> Fields<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Fields<'a>, DecodeError> {
        let bytes = &bytes[..bytes.len().min(MAX_RECORD)];
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            // A record followed by the torn tail of a longer one: decode up to the bad byte.
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        };
        let rest = text
            .strip_prefix(MAGIC)
            .ok_or(DecodeError("not a reflock holder record"))?;
        let mut lines = Lines(Some(rest));
        let mut field = |key: &'static str| -> Result<&'a str, DecodeError> {
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
        let pid_ns = number(field("pidns")?)?;
        let start = number(field("start")?)?;
        let boot = escaped(field("boot")?)?;
        let host = escaped(field("host")?)?;
        let since = time(field("since")?)?;
        let command = escaped(field("command")?)?;
        match lines.next() {
            Some("end") if lines.next().is_some() => {}
            _ => return Err(DecodeError("missing end")),
        }
        Ok(Fields {
            held,
            token,
            pid,
            pid_ns,
            start,
            boot,
            host,
            since,
            command,
        })
    }
}

/// The pieces of a text between newlines, like `str::split('\n')` (a last piece after the
/// last newline, empty if the text ends with one), with a plain byte search: records are a
/// few hundred bytes in short lines, where that beats `split`'s searcher.
struct Lines<'a>(Option<&'a str>);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.0?;
        match rest.bytes().position(|b| b == b'\n') {
            Some(at) => {
                self.0 = Some(&rest[at + 1..]);
                Some(&rest[..at])
            }
            None => {
                self.0 = None;
                Some(rest)
            }
        }
    }
}

/// The parts of an exclusive holder's record that stay the same for the life of a process,
/// encoded once; [`HeldTemplate::encode`] adds the token and the time.
#[derive(Debug)]
pub(crate) struct HeldTemplate {
    /// `pid` to `host`, each line ending in a newline.
    who: String,
    /// The `command` line and `end`.
    tail: String,
}

impl HeldTemplate {
    pub(crate) fn new(
        pid: u32,
        pid_ns: u64,
        start: u64,
        boot: &str,
        host: &str,
        command: &str,
    ) -> Self {
        let mut who = String::with_capacity(64 + boot.len() + host.len());
        // Writing into a String cannot fail.
        let _ = write!(who, "pid {pid}\npidns {pid_ns}\nstart {start}\nboot ");
        escape_into(&mut who, cut(boot, MAX_FIELD));
        who.push_str("\nhost ");
        escape_into(&mut who, cut(host, MAX_FIELD));
        who.push('\n');
        let mut tail = String::with_capacity(16 + command.len());
        tail.push_str("command ");
        escape_into(&mut tail, cut(command, MAX_COMMAND));
        tail.push_str("\nend\n");
        HeldTemplate { who, tail }
    }

    /// Replaces `out` with the bytes of the held record with `token` and `since`. When
    /// `pad_to` is longer, the record is followed by spaces and a final newline up to `pad_to` bytes, which
    /// [`Record::decode`] ignores like anything after `end`: one write then covers all of an
    /// older, longer record and the file need not be truncated.
    pub(crate) fn encode(&self, token: u64, since: SystemTime, pad_to: usize, out: &mut Vec<u8>) {
        let since = since.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        out.clear();
        out.extend_from_slice(MAGIC.as_bytes());
        out.extend_from_slice(STATE_KEY.as_bytes());
        out.extend_from_slice(HELD.as_bytes());
        out.extend_from_slice(b"\ntoken ");
        push_decimal(out, token, 1);
        out.push(b'\n');
        out.extend_from_slice(self.who.as_bytes());
        out.extend_from_slice(b"since ");
        push_decimal(out, since.as_secs(), 1);
        out.push(b'.');
        push_decimal(out, u64::from(since.subsec_nanos()), 9);
        out.push(b'\n');
        out.extend_from_slice(self.tail.as_bytes());
        if pad_to > out.len() {
            out.resize(pad_to - 1, b' ');
            out.push(b'\n');
        }
    }
}

/// Appends `n` in decimal, with leading zeros up to `width` digits.
fn push_decimal(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    while n > 0 || digits.len() - at < width {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits[at..]);
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
    &s[..s.floor_char_boundary(max)]
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

/// Checks that `s` is a well-formed escaped value, and returns it still escaped.
fn escaped(s: &str) -> Result<&str, DecodeError> {
    unescape_into(s, None).map(|()| s)
}

fn unescape(s: &str) -> Result<String, DecodeError> {
    if !s.contains('\\') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    unescape_into(s, Some(&mut out))?;
    Ok(out)
}

/// Unescapes `s` into `out`, or only checks it when `out` is `None`.
fn unescape_into(s: &str, mut out: Option<&mut String>) -> Result<(), DecodeError> {
    let mut push = |s: &str| {
        if let Some(out) = out.as_deref_mut() {
            out.push_str(s);
        }
    };
    let mut rest = s;
    while let Some(at) = rest.bytes().position(|b| b == b'\\') {
        push(&rest[..at]);
        let escape = &rest.as_bytes()[at + 1..];
        match escape.first() {
            Some(b'\\') => {
                push("\\");
                rest = &rest[at + 2..];
            }
            Some(b'x') => {
                let hex = escape.get(1..3).ok_or(DecodeError("bad escape"))?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(DecodeError("bad escape"));
                }
                // Two ASCII hex digits: a valid str and a number below 256.
                let hex = std::str::from_utf8(hex).map_err(|_| DecodeError("bad escape"))?;
                let code = u8::from_str_radix(hex, 16).map_err(|_| DecodeError("bad escape"))?;
                if !code.is_ascii_control() {
                    return Err(DecodeError("bad escape"));
                }
                push(char::from(code).encode_utf8(&mut [0; 4]));
                rest = &rest[at + 4..];
            }
            _ => return Err(DecodeError("bad escape")),
        }
    }
    push(rest);
    Ok(())
}

#[cfg(test)]
mod tests;
