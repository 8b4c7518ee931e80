//! Expected results of one implementation (`fixtures/expectations/NAME.toml`): the scenarios
//! it is known to fail, each with the check that must fire, a reason and, where one exists,
//! an upstream link. A failure of another check is not the known failure.
//!
//! ```toml
//! [[fail]]
//! scenario = "touch-fd"
//! check = "overlap"
//! reason = "fcntl locks are dropped when any descriptor of the file closes"
//! link = "https://github.com/owner/repo/issues/1"
//! ```
//!
//! A failure that shows only in some runs, for a reason that has been found, says why with
//! `intermittent = "..."`. Such an entry is `xfail` when its check fires and
//! `xfail_not_shown` (not a failure) when the scenario passes; another check firing is still
//! a failure. [`crate::Judgement`] is the whole rule.

use serde::Serialize;

use crate::manifest::MustFail;
use crate::source::FileError;
use crate::toml_read::{Doc, Result, Table, closest, one_of};
use crate::verdict::{FindingKind, Verdict};

const KEYS: &[&str] = &["fail"];
const FAIL_KEYS: &[&str] = &["scenario", "check", "reason", "link", "intermittent"];

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
    /// The check whose finding is the known failure ([`FindingKind::check_name`]).
    pub check: String,
    /// Why it fails, in one line.
    pub reason: String,
    /// The upstream issue or documentation that describes the behaviour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Set when the failure shows only in some runs: why, in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intermittent: Option<String>,
}

impl From<&MustFail> for Expectation {
    /// A mutant's target as an expectation: the mutant is caught exactly when the judgement
    /// is `xfail`.
    fn from(target: &MustFail) -> Expectation {
        Expectation {
            scenario: target.scenario.clone(),
            check: target.check.clone(),
            reason: "a deliberately broken lock this scenario must catch".to_owned(),
            link: None,
            intermittent: None,
        }
    }
}

impl Expectations {
    /// The expectation for `scenario`, if it is expected to fail.
    pub fn get(&self, scenario: &str) -> Option<&Expectation> {
        self.entries.iter().find(|e| e.scenario == scenario)
    }

    /// The file text that [`parse_expectations`] reads back as `self`, entries in order.
    pub fn to_toml(&self) -> String {
        #[derive(Serialize)]
        struct File<'a> {
            fail: &'a [Expectation],
        }
        if self.entries.is_empty() {
            return String::new();
        }
        toml::to_string(&File {
            fail: &self.entries,
        })
        .expect("expectations are strings and tables only")
    }
}

/// Reads one expectations file. `file_name` is only used in messages.
pub fn parse_expectations(
    file_name: &str,
    text: &str,
) -> std::result::Result<Expectations, FileError> {
    let doc = Doc::new(file_name, text);
    let root = doc.parse()?;
    let top = Table::new(doc, root.get_ref(), 0..0, "the expectations file");
    top.allow(KEYS, "an expectations file")?;
    let fail_expected = "`[[fail]]` sections, each with `scenario`, `check` and `reason`";
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
        let reason = one_line(
            &table,
            "reason",
            "one line saying why the implementation fails the scenario",
        )?;
        let intermittent = match table.str("intermittent", INTERMITTENT_EXPECTED)? {
            Some(_) => Some(one_line(&table, "intermittent", INTERMITTENT_EXPECTED)?),
            None => None,
        };
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
        let check = required_check(&table)?;
        entries.push(Expectation {
            scenario,
            check,
            reason,
            link,
            intermittent,
        });
    }
    Ok(Expectations { entries })
}

const INTERMITTENT_EXPECTED: &str = "one line saying why the failure shows only in some runs";

/// A required one-line text field of a `[[fail]]` entry.
fn one_line(table: &Table<'_, '_>, key: &str, expected: &str) -> Result<String> {
    let text = table.required_text(key, expected)?;
    if text.contains('\n') {
        let (_, field) = table.required_str(key, expected)?;
        return Err(table.doc.err(
            field.span(),
            format!("`{key}` spans several lines"),
            expected,
        ));
    }
    Ok(text)
}

/// The `check` key of a table: one of [`FindingKind::CHECK_NAMES`].
pub(crate) fn required_check(table: &Table<'_, '_>) -> Result<String> {
    let expected = one_of(FindingKind::CHECK_NAMES.iter().copied());
    let (name, field) = table.required_str("check", &expected)?;
    if !FindingKind::CHECK_NAMES.contains(&name) {
        let mut message = format!("unknown check `{name}`");
        if let Some(close) = closest(name, FindingKind::CHECK_NAMES) {
            message.push_str(&format!(" (did you mean `{close}`?)"));
        }
        return Err(table.doc.err(field.span(), message, expected));
    }
    Ok(name.to_owned())
}

/// The checks whose findings a verdict holds, each once, in finding order; empty unless the
/// verdict is a failure.
pub fn fired_checks(verdict: &Verdict) -> Vec<&'static str> {
    let mut fired = Vec::new();
    if let Verdict::Fail { findings } = verdict {
        for finding in findings {
            let name = finding.kind.check_name();
            if !fired.contains(&name) {
                fired.push(name);
            }
        }
    }
    fired
}

/// Says that `check` did not fire while the `fired` checks did, e.g. "the `overlap` check did
/// not fire; `latency` did".
pub fn wrong_check(check: &str, fired: &[&str]) -> String {
    let list: Vec<String> = fired.iter().map(|c| format!("`{c}`")).collect();
    format!(
        "the `{check}` check did not fire; {} did",
        if list.is_empty() {
            "no check".to_owned()
        } else {
            list.join(" and ")
        }
    )
}

#[cfg(test)]
mod tests;
