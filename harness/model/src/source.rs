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
}

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

/// Line, column and a rendered snippet for the start of `span` (clamped into `text`).
fn locate(text: &str, span: Range<usize>) -> (u32, u32, String) {
    let start = text.floor_char_boundary(span.start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_no = text[..start].matches('\n').count() + 1;
    let source_line = text[line_start..line_end].trim_end_matches('\r');
    let column = text[line_start..start].chars().count() + 1;
    let end = text.floor_char_boundary(span.end.clamp(start, line_end));
    let width = text[start..end]
        .trim_end_matches('\r')
        .chars()
        .count()
        .max(1);

    let number = line_no.to_string();
    let pad = " ".repeat(number.len());
    let shown: String = source_line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let snippet = format!(
        "{pad} |\n{number} | {shown}\n{pad} | {}{}",
        " ".repeat(column - 1),
        "^".repeat(width)
    );
    (
        u32::try_from(line_no).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
        snippet,
    )
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
