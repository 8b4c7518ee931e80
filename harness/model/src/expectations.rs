//! Expected results of one implementation (`fixtures/expectations/NAME.toml`): the scenarios
//! it is known to fail, each with a reason and, where one exists, an upstream link.
//!
//! ```toml
//! [[fail]]
//! scenario = "touch-fd"
//! reason = "fcntl locks are dropped when any descriptor of the file closes"
//! link = "https://github.com/owner/repo/issues/1"
//! ```

use serde::Serialize;

use crate::source::FileError;
use crate::toml_read::{Doc, Table};

const KEYS: &[&str] = &["fail"];
const FAIL_KEYS: &[&str] = &["scenario", "reason", "link"];

/// The known failures of one implementation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Expectations {
    /// One entry per scenario expected to fail, in file order.
    pub entries: Vec<Expectation>,
}

/// One scenario the implementation is expected to fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// The scenario id, e.g. `touch-fd`.
    pub scenario: String,
    /// Why it fails, in one line.
    pub reason: String,
    /// The upstream issue or documentation that describes the behaviour.
    pub link: Option<String>,
}

impl Expectations {
    /// The expectation for `scenario`, if it is expected to fail.
    pub fn get(&self, scenario: &str) -> Option<&Expectation> {
        self.entries.iter().find(|e| e.scenario == scenario)
    }

    /// The file text that [`parse_expectations`] reads back as `self`, entries in order.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str("[[fail]]\n");
            out.push_str(&format!("scenario = {}\n", quote(&e.scenario)));
            out.push_str(&format!("reason = {}\n", quote(&e.reason)));
            if let Some(link) = &e.link {
                out.push_str(&format!("link = {}\n", quote(link)));
            }
        }
        out
    }
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads one expectations file. `file_name` is only used in messages.
pub fn parse_expectations(file_name: &str, text: &str) -> Result<Expectations, FileError> {
    let doc = Doc::new(file_name, text);
    let root = doc.parse()?;
    let top = Table::new(doc, root.get_ref(), 0..0, "the expectations file");
    top.allow(KEYS, "an expectations file")?;
    let fail_expected = "`[[fail]]` sections, each with `scenario` and `reason`";
    let tables = top.tables("fail", fail_expected, "this `[[fail]]`")?;

    let mut entries: Vec<Expectation> = Vec::new();
    for table in tables.unwrap_or_default() {
        table.allow(FAIL_KEYS, "a `[[fail]]` entry")?;
        let id_expected = "a scenario id, such as `touch-fd`";
        let scenario = table.required_text("scenario", id_expected)?;
        if entries.iter().any(|e| e.scenario == scenario) {
            let (_, field) = table.required_str("scenario", id_expected)?;
            return Err(doc.err(
                field.span(),
                format!("scenario `{scenario}` is listed twice"),
                "each scenario at most once",
            ));
        }
        let reason_expected = "one line saying why the implementation fails the scenario";
        let reason = table.required_text("reason", reason_expected)?;
        if reason.contains('\n') {
            let (_, field) = table.required_str("reason", reason_expected)?;
            return Err(doc.err(
                field.span(),
                "`reason` spans several lines",
                reason_expected,
            ));
        }
        let link_expected = "an `https://` or `http://` address";
        let link = match table.str("link", link_expected)? {
            Some((link, field)) => {
                let link = link.trim();
                if !(link.starts_with("https://") || link.starts_with("http://"))
                    || link.contains(char::is_whitespace)
                {
                    return Err(doc.err(
                        field.span(),
                        format!("`{link}` is not a web address"),
                        link_expected,
                    ));
                }
                Some(link.to_owned())
            }
            None => None,
        };
        entries.push(Expectation {
            scenario,
            reason,
            link,
        });
    }
    Ok(Expectations { entries })
}

#[cfg(test)]
mod tests;
