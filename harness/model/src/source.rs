//! Errors that point into a scenario or manifest file: `file:line:col`, what was wrong, what
//! was expected, and the offending line with a caret under the culprit.

use std::fmt;
use std::ops::Range;

/// A problem in a scenario or manifest file, located by line and column.
///
/// `Display` renders `file:line:col: <message>, expected <expected>` followed by the source
/// line and a caret, the way compilers show errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    kind: FileErrorKind,
    file: String,
    line: u32,
    column: u32,
    message: String,
    expected: Option<String>,
    snippet: String,
}

/// What sort of problem a [`FileError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileErrorKind {
    /// The text is not valid TOML.
    Syntax,
    /// The TOML is valid but does not describe a valid scenario or manifest.
    Invalid,
    /// The file is not UTF-8 text, or is larger than [`MAX_FILE_BYTES`].
    Encoding,
}

/// The largest scenario, manifest or expectations file read, in bytes. Callers reading a file
/// need read no more than one byte past it: [`decode`] and the readers refuse anything longer.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// A scenario file that cannot be read.
pub type ScenarioError = FileError;

/// An implementation manifest that cannot be read.
pub type ManifestError = FileError;

impl FileError {
    /// An error at byte range `span` of `text`.
    pub(crate) fn new(
        kind: FileErrorKind,
        file: &str,
        text: &str,
        span: Range<usize>,
        message: impl Into<String>,
        expected: Option<String>,
    ) -> Self {
        let (line, column, snippet) = locate(text, span);
        FileError {
            kind,
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
            expected,
            snippet,
        }
    }

    /// Syntax or validation problem.
    pub fn kind(&self) -> FileErrorKind {
        self.kind
    }

    /// The file name given to the parser.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// 1-based line.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// 1-based column, in characters.
    pub fn column(&self) -> u32 {
        self.column
    }

    /// What was wrong, as a lowercase sentence fragment.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What would have been accepted, when the parser can say.
    pub fn expected(&self) -> Option<&str> {
        self.expected.as_deref()
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(expected) = &self.expected {
            write!(f, ", expected {expected}")?;
        }
        write!(f, "\n{}", self.snippet)
    }
}

impl std::error::Error for FileError {}

/// `bytes`, the contents of `file`, as text: an error at the first byte that is not UTF-8, or
/// at the end of the limit when there are more than [`MAX_FILE_BYTES`].
pub fn decode<'b>(file: &str, bytes: &'b [u8]) -> Result<&'b str, FileError> {
    if let Some(err) = too_large(file, bytes) {
        return Err(err);
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = e.valid_up_to();
        // The prefix is valid; the line it ends in is shown up to the bad byte, then lossily.
        let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
        let rest = &bytes[line_start..];
        let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = String::from_utf8_lossy(&rest[..line_end]);
        let at = valid - line_start;
        let line_no = prefix.matches('\n').count() + 1;
        let column = prefix[line_start..].chars().count() + 1;
        FileError {
            kind: FileErrorKind::Encoding,
            file: file.to_owned(),
            line: u32::try_from(line_no).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            message: format!("byte {:#04x} is not UTF-8", bytes[valid]),
            expected: Some("UTF-8 text".to_owned()),
            snippet: render(line_no, line.trim_end_matches('\r'), at..at + 1),
        }
    })
}

/// The error for text longer than [`MAX_FILE_BYTES`], located where the limit falls.
pub(crate) fn too_large(file: &str, bytes: &[u8]) -> Option<FileError> {
    if bytes.len() <= MAX_FILE_BYTES {
        return None;
    }
    let upto = String::from_utf8_lossy(&bytes[..MAX_FILE_BYTES]);
    Some(FileError::new(
        FileErrorKind::Encoding,
        file,
        &upto,
        upto.len()..upto.len(),
        format!("the file is longer than {MAX_FILE_BYTES} bytes"),
        Some(format!("at most {MAX_FILE_BYTES} bytes")),
    ))
}

/// The widest a snippet's source line is shown, in display columns; a longer line is clipped
/// around the column, with `…` where text was left out.
pub const SNIPPET_WIDTH: usize = 100;

/// Line, column and a rendered snippet for the start of `span` (clamped into `text`).
fn locate(text: &str, span: Range<usize>) -> (u32, u32, String) {
    let start = text.floor_char_boundary(span.start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_no = text[..start].matches('\n').count() + 1;
    let source_line = text[line_start..line_end].trim_end_matches('\r');
    let column = text[line_start..start].chars().count() + 1;
    let end = text.floor_char_boundary(span.end.clamp(start, line_end));
    let at = (start - line_start).min(source_line.len());
    let end = (end - line_start).clamp(at, source_line.len());
    let snippet = render(line_no, source_line, at..end);
    (
        u32::try_from(line_no).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
        snippet,
    )
}

/// The snippet for `line` (number `line_no`) with a caret under byte range `culprit`: tabs
/// shown as one space, other control characters as U+FFFD (so nothing in a file can drive
/// the terminal), the line clipped to [`SNIPPET_WIDTH`] display columns around the
/// culprit's start, and the caret placed by display width, so that it lands under the culprit
/// after wide (CJK) or zero-width characters too.
pub(crate) fn render(line_no: usize, line: &str, culprit: Range<usize>) -> String {
    let shown: Vec<(usize, char, usize)> = line
        .char_indices()
        .map(|(i, c)| {
            let c = match c {
                '\t' => ' ',
                c if c.is_control() => '\u{fffd}',
                c => c,
            };
            (i, c, display_width(c))
        })
        .collect();
    let first = shown.partition_point(|&(i, _, _)| i < culprit.start);
    let culprit_end = shown.partition_point(|&(i, _, _)| i < culprit.end);

    // Keep about a third of the budget before the culprit, then fill the rest after it.
    let budget = SNIPPET_WIDTH;
    let mut from = first;
    let mut before = 0;
    while from > 0 && before + shown[from - 1].2 <= budget / 3 {
        from -= 1;
        before += shown[from].2;
    }
    let mut to = first;
    let mut used = before;
    while to < shown.len() && used + shown[to].2 <= budget {
        used += shown[to].2;
        to += 1;
    }
    while from > 0 && used + shown[from - 1].2 <= budget {
        from -= 1;
        used += shown[from].2;
        before += shown[from].2;
    }
    let clipped_left = from > 0;
    let clipped_right = to < shown.len();

    let mut body = String::new();
    if clipped_left {
        body.push('…');
    }
    body.extend(shown[from..to].iter().map(|&(_, c, _)| c));
    if clipped_right {
        body.push('…');
    }
    let lead = before + usize::from(clipped_left);
    let carets: usize = shown[first..culprit_end.min(to)]
        .iter()
        .map(|&(_, _, w)| w)
        .sum();

    let number = line_no.to_string();
    let pad = " ".repeat(number.len());
    format!(
        "{pad} |\n{number} | {body}\n{pad} | {}{}",
        " ".repeat(lead),
        "^".repeat(carets.max(1))
    )
}

/// Columns `c` takes on a terminal: two for wide characters, none for combining marks, one
/// for anything else.
fn display_width(c: char) -> usize {
    unicode_width::UnicodeWidthChar::width(c).unwrap_or(1)
}

/// 1-based line of byte offset `at` in `text`.
pub(crate) fn line_of(text: &str, at: usize) -> u32 {
    let at = at.min(text.len());
    let count = text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1;
    u32::try_from(count).unwrap_or(u32::MAX)
}
