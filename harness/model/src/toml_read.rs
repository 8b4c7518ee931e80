//! A small typed reader over toml's spanned document tree, shared by the scenario and
//! manifest parsers so that every message carries a position and says what was expected.

use std::fmt;
use std::ops::Range;

use lockcheck_protocol::Vocabulary;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::source::{FileError, FileErrorKind, too_large};

/// The file being read: its name and text, for positions in messages.
#[derive(Clone, Copy)]
pub(crate) struct Doc<'a> {
    pub(crate) file: &'a str,
    pub(crate) text: &'a str,
}

pub(crate) type Result<T> = std::result::Result<T, FileError>;

/// Strings read from a key, each with its span.
pub(crate) type SpannedStrs<'t> = Vec<(&'t str, Range<usize>)>;

impl<'a> Doc<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Doc { file, text }
    }

    /// Parses the text as TOML, turning syntax errors into positioned messages.
    pub(crate) fn parse(&self) -> Result<Spanned<DeTable<'a>>> {
        if let Some(err) = too_large(self.file, self.text.as_bytes()) {
            return Err(err);
        }
        DeTable::parse(self.text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().replace('\n', " ");
            FileError::new(
                FileErrorKind::Syntax,
                self.file,
                self.text,
                span,
                format!("invalid TOML: {message}"),
                None,
            )
        })
    }

    /// A validation error at `span`.
    pub(crate) fn err(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) -> FileError {
        FileError::new(
            FileErrorKind::Invalid,
            self.file,
            self.text,
            span,
            message,
            Some(expected.into()),
        )
    }

    /// The value of `T` called `name`, or "unknown {what} `name`" at `span`.
    pub(crate) fn lookup<T: Vocabulary>(
        &self,
        name: &str,
        span: Range<usize>,
        what: &str,
        expected: impl Into<String>,
    ) -> Result<T> {
        T::from_name(name)
            .ok_or_else(|| self.err(span, format!("unknown {what} `{name}`"), expected))
    }
}

/// One TOML table and where it sits, with a phrase naming it in messages ("the top level",
/// "this step").
pub(crate) struct Table<'t, 'a> {
    pub(crate) doc: Doc<'a>,
    pub(crate) table: &'t DeTable<'a>,
    pub(crate) span: Range<usize>,
    pub(crate) name: &'static str,
}

/// A value with the span of the value and of its key.
pub(crate) struct Field<'t, 'a> {
    pub(crate) key: &'t str,
    pub(crate) key_span: Range<usize>,
    pub(crate) value: &'t Spanned<DeValue<'a>>,
}

impl Field<'_, '_> {
    pub(crate) fn span(&self) -> Range<usize> {
        self.value.span()
    }
}

impl<'t, 'a> Table<'t, 'a> {
    pub(crate) fn new(
        doc: Doc<'a>,
        table: &'t DeTable<'a>,
        span: Range<usize>,
        name: &'static str,
    ) -> Self {
        Table {
            doc,
            table,
            span,
            name,
        }
    }

    /// Entries in source order.
    pub(crate) fn fields(&self) -> Vec<Field<'t, 'a>> {
        let mut fields: Vec<Field<'t, 'a>> = self
            .table
            .iter()
            .map(|(k, v)| Field {
                key: k.get_ref().as_ref(),
                key_span: k.span(),
                value: v,
            })
            .collect();
        fields.sort_by_key(|f| f.key_span.start);
        fields
    }

    pub(crate) fn field(&self, key: &str) -> Option<Field<'t, 'a>> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(k, v)| Field {
                key: k.get_ref().as_ref(),
                key_span: k.span(),
                value: v,
            })
    }

    /// Rejects the first key (in source order) that is not in `allowed`.
    pub(crate) fn allow(&self, allowed: &[&str], what: &str) -> Result<()> {
        for field in self.fields() {
            if !allowed.contains(&field.key) {
                let mut message = format!("unknown key `{}` in {what}", field.key);
                if let Some(close) = closest(field.key, allowed) {
                    message.push_str(&format!(" (did you mean `{close}`?)"));
                }
                return Err(self
                    .doc
                    .err(field.key_span, message, one_of(allowed.iter().copied())));
            }
        }
        Ok(())
    }

    /// The error for a missing required key.
    pub(crate) fn missing(&self, key: &str, expected: impl Into<String>) -> FileError {
        self.doc.err(
            self.span.clone(),
            format!("{} has no `{key}`", self.name),
            expected,
        )
    }

    /// A type error for `field`.
    pub(crate) fn wrong_type(&self, field: &Field<'_, '_>, expected: &str) -> FileError {
        self.doc.err(
            field.span(),
            format!(
                "`{}` is {}",
                field.key,
                article(field.value.get_ref().type_str())
            ),
            expected,
        )
    }

    pub(crate) fn str(
        &self,
        key: &str,
        expected: &str,
    ) -> Result<Option<(&'t str, Field<'t, 'a>)>> {
        let Some(field) = self.field(key) else {
            return Ok(None);
        };
        match field.value.get_ref() {
            DeValue::String(s) => Ok(Some((s.as_ref(), field))),
            _ => Err(self.wrong_type(&field, expected)),
        }
    }

    /// The value of `T` named at `key`, if the key is present (see [`Doc::lookup`]).
    pub(crate) fn named<T: Vocabulary>(
        &self,
        key: &str,
        what: &str,
        expected: &str,
    ) -> Result<Option<T>> {
        match self.str(key, expected)? {
            Some((name, field)) => self
                .doc
                .lookup(name, field.span(), what, expected)
                .map(Some),
            None => Ok(None),
        }
    }

    pub(crate) fn required_str(
        &self,
        key: &str,
        expected: &str,
    ) -> Result<(&'t str, Field<'t, 'a>)> {
        self.str(key, expected)?
            .ok_or_else(|| self.missing(key, expected))
    }

    /// A non-empty string, after trimming.
    pub(crate) fn required_text(&self, key: &str, expected: &str) -> Result<String> {
        let (s, field) = self.required_str(key, expected)?;
        if s.trim().is_empty() {
            return Err(self
                .doc
                .err(field.span(), format!("`{key}` is empty"), expected));
        }
        Ok(s.trim().to_owned())
    }

    /// The integer at `limit.key`, if present, within `limit`'s range.
    pub(crate) fn int(&self, limit: &Limit) -> Result<Option<u64>> {
        let Some(field) = self.field(limit.key) else {
            return Ok(None);
        };
        let DeValue::Integer(int) = field.value.get_ref() else {
            return Err(self.wrong_type(&field, &limit.expected()));
        };
        match u64::from_str_radix(int.as_str(), int.radix()) {
            Ok(n) if limit.holds(n as f64) => Ok(Some(n)),
            _ => Err(limit.out_of_range(self.doc, &field, int)),
        }
    }

    /// [`Table::int`] for a limit whose maximum fits in a `u32`.
    pub(crate) fn int_u32(&self, limit: &Limit) -> Result<Option<u32>> {
        debug_assert!(limit.max <= f64::from(u32::MAX));
        Ok(self.int(limit)?.map(|n| n as u32))
    }

    /// The number (integer or float) at `limit.key`, if present, within `limit`'s range.
    pub(crate) fn fraction(&self, limit: &Limit) -> Result<Option<f64>> {
        let Some(field) = self.field(limit.key) else {
            return Ok(None);
        };
        let (n, text) = match field.value.get_ref() {
            DeValue::Float(f) => (
                f.as_str().replace('_', "").parse::<f64>().ok(),
                f.to_string(),
            ),
            DeValue::Integer(i) => (
                i64::from_str_radix(i.as_str(), i.radix())
                    .ok()
                    .map(|i| i as f64),
                i.to_string(),
            ),
            _ => return Err(self.wrong_type(&field, &limit.expected())),
        };
        match n {
            Some(n) if limit.holds(n) => Ok(Some(n)),
            _ => Err(limit.out_of_range(self.doc, &field, text)),
        }
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>> {
        let Some(field) = self.field(key) else {
            return Ok(None);
        };
        match field.value.get_ref() {
            DeValue::Boolean(b) => Ok(Some(*b)),
            _ => Err(self.wrong_type(&field, "`true` or `false`")),
        }
    }

    /// A string, or an array of strings; each with its span.
    pub(crate) fn strings(
        &self,
        key: &str,
        expected: &str,
        allow_single: bool,
    ) -> Result<Option<SpannedStrs<'t>>> {
        let Some(field) = self.field(key) else {
            return Ok(None);
        };
        match field.value.get_ref() {
            DeValue::String(s) if allow_single => Ok(Some(vec![(s.as_ref(), field.span())])),
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push((s.as_ref(), item.span())),
                        other => {
                            return Err(self.doc.err(
                                item.span(),
                                format!("an item of `{key}` is {}", article(other.type_str())),
                                expected,
                            ));
                        }
                    }
                }
                Ok(Some(out))
            }
            _ => Err(self.wrong_type(&field, expected)),
        }
    }

    /// A table (`[key]` section or an inline table), if the key is present.
    pub(crate) fn table(
        &self,
        key: &str,
        expected: &str,
        name: &'static str,
    ) -> Result<Option<Table<'t, 'a>>> {
        let Some(field) = self.field(key) else {
            return Ok(None);
        };
        match field.value.get_ref() {
            DeValue::Table(t) => Ok(Some(Table::new(self.doc, t, field.span(), name))),
            _ => Err(self.wrong_type(&field, expected)),
        }
    }

    /// An array of tables (`[[key]]` sections or an inline array of inline tables).
    pub(crate) fn tables(
        &self,
        key: &str,
        expected: &str,
        item_name: &'static str,
    ) -> Result<Option<Vec<Table<'t, 'a>>>> {
        let Some(field) = self.field(key) else {
            return Ok(None);
        };
        let DeValue::Array(items) = field.value.get_ref() else {
            return Err(self.wrong_type(&field, expected));
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::Table(t) => out.push(Table::new(self.doc, t, item.span(), item_name)),
                other => {
                    return Err(self.doc.err(
                        item.span(),
                        format!("an item of `{key}` is {}", article(other.type_str())),
                        expected,
                    ));
                }
            }
        }
        Ok(Some(out))
    }
}

/// The range a number in a file may take, and what it counts.
pub(crate) struct Limit {
    /// The key it is read from.
    pub(crate) key: &'static str,
    /// The smallest value allowed; exclusive when `above` is set.
    pub(crate) min: f64,
    /// The largest value allowed.
    pub(crate) max: f64,
    /// Whether the value is a fraction that must lie above `min` (integers are at least `min`).
    pub(crate) above: bool,
    /// What it counts, such as `milliseconds`; empty for a plain count.
    pub(crate) unit: &'static str,
}

impl Limit {
    /// The range as the docs write it: "0 to 60000", or "above 0, up to 10" for a fraction.
    pub(crate) fn range(&self) -> String {
        if self.above {
            format!("above {}, up to {}", self.min, self.max)
        } else {
            format!("{} to {}", self.min, self.max)
        }
    }

    /// What a message says is expected: "an integer from 0 to 60000 (milliseconds)".
    pub(crate) fn expected(&self) -> String {
        let mut text = if self.above {
            format!("a number {}", self.range())
        } else {
            format!("an integer from {}", self.range())
        };
        if !self.unit.is_empty() {
            text.push_str(&format!(" ({})", self.unit));
        }
        text
    }

    fn holds(&self, n: f64) -> bool {
        let low = if self.above {
            n > self.min
        } else {
            n >= self.min
        };
        n.is_finite() && low && n <= self.max
    }

    fn out_of_range(
        &self,
        doc: Doc<'_>,
        field: &Field<'_, '_>,
        shown: impl fmt::Display,
    ) -> FileError {
        doc.err(
            field.span(),
            format!("`{}` is {shown}, out of range", self.key),
            self.expected(),
        )
    }
}

/// "one of `a`, `b`, `c`".
pub(crate) fn one_of<'s>(items: impl IntoIterator<Item = &'s str>) -> String {
    let list: Vec<String> = items.into_iter().map(|s| format!("`{s}`")).collect();
    match list.len() {
        0 => "nothing".to_owned(),
        1 => list[0].clone(),
        _ => format!("one of {}", list.join(", ")),
    }
}

/// "an array", "a string".
pub(crate) fn article(type_name: &str) -> String {
    format!("{} {type_name}", a_or_an(type_name))
}

/// The indefinite article for `word`.
pub(crate) fn a_or_an(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// The scenario id rule: lowercase letters and digits in dash-separated parts, such as
/// `exclusive-basic` or `race-50`.
pub(crate) fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// The allowed word nearest to a misspelt one, if it is close enough to be a likely typo.
pub(crate) fn closest<'s>(word: &str, candidates: &[&'s str]) -> Option<&'s str> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
