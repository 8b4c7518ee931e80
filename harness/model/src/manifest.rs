//! Implementation manifests (`fixtures/impls/NAME.toml`): how to start an implementation's
//! adapter, how to set it up once, and where its expected results live. Known-broken mutants
//! (`fixtures/mutants/NAME.toml`) use the same format plus `[[must_fail]]`, the scenarios
//! that must catch them and the check whose finding is the catch.

use serde::Serialize;
use toml::de::DeValue;

use crate::expectations::required_check;
use crate::source::ManifestError;
use crate::toml_read::{Doc, Result, Table, article, is_kebab, one_of};

const KEYS: &[&str] = &[
    "name",
    "description",
    "command",
    "setup",
    "expectations",
    "must_fail",
];
const MUST_FAIL_KEYS: &[&str] = &["scenario", "check"];

/// The placeholders an argument may contain.
const PLACEHOLDERS: &[&str] = &["{lockcheck}", "{root}", "{target}"];

/// One implementation under test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// Short name used in reports and test names, e.g. `reflock` or `filelock`.
    pub name: String,
    /// One line about the implementation.
    pub description: Option<String>,
    /// The adapter command: program and arguments, with placeholders.
    pub command: Vec<String>,
    /// Commands run once before the first scenario (e.g. create a venv), with placeholders.
    pub setup: Vec<Vec<String>>,
    /// Path of the expectations file, relative to the repository root.
    pub expectations: Option<String>,
    /// The scenarios that must fail against this implementation, each by a named check: set
    /// for the deliberately broken locks in `fixtures/mutants/`, empty for real
    /// implementations.
    pub must_fail: Vec<MustFail>,
}

/// A scenario that must catch a broken lock, and the check whose finding is the catch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MustFail {
    /// The scenario id, e.g. `race-50`.
    pub scenario: String,
    /// The check that must fire ([`crate::FindingKind::check_name`]), e.g. `overlap`.
    pub check: String,
}

/// Values for the placeholders in manifest commands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Placeholders {
    /// `{lockcheck}`: path of the lockcheck binary.
    pub lockcheck: String,
    /// `{root}`: the repository root.
    pub root: String,
    /// `{target}`: the cargo target directory.
    pub target: String,
}

impl Placeholders {
    /// `arg` with every placeholder replaced by its value.
    pub fn expand(&self, arg: &str) -> String {
        arg.replace("{lockcheck}", &self.lockcheck)
            .replace("{root}", &self.root)
            .replace("{target}", &self.target)
    }
}

impl Manifest {
    /// The adapter command with placeholders replaced.
    pub fn expand(&self, vars: &Placeholders) -> Vec<String> {
        self.command.iter().map(|a| vars.expand(a)).collect()
    }

    /// The setup commands with placeholders replaced.
    pub fn expand_setup(&self, vars: &Placeholders) -> Vec<Vec<String>> {
        self.setup
            .iter()
            .map(|cmd| cmd.iter().map(|a| vars.expand(a)).collect())
            .collect()
    }
}

/// Reads one manifest. `file_name` is only used in messages.
pub fn parse_manifest(file_name: &str, text: &str) -> std::result::Result<Manifest, ManifestError> {
    let doc = Doc::new(file_name, text);
    let root = doc.parse()?;
    let top = Table::new(doc, root.get_ref(), 0..0, "the manifest");
    top.allow(KEYS, "a manifest")?;

    let name_expected = "a short name without spaces or slashes, such as `filelock`";
    let (name, field) = top.required_str("name", name_expected)?;
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == '\\')
    {
        return Err(doc.err(
            field.span(),
            format!("`{name}` is not a valid implementation name"),
            name_expected,
        ));
    }
    let description = top
        .str("description", "a one-line description")?
        .map(|(s, _)| s.trim().to_owned());

    let command_expected = "an array of strings: the adapter program and its arguments, such as `[\"{lockcheck}\", \"adapter\"]`";
    let command_field = top
        .field("command")
        .ok_or_else(|| top.missing("command", command_expected))?;
    let command = argv(&top, command_field.value, command_expected)?;

    let mut setup = Vec::new();
    if let Some(field) = top.field("setup") {
        let expected = "an array of commands, each an array of strings";
        let DeValue::Array(items) = field.value.get_ref() else {
            return Err(top.wrong_type(&field, expected));
        };
        for item in items.iter() {
            setup.push(argv(&top, item, expected)?);
        }
    }

    let expectations = top
        .str("expectations", "a path relative to the repository root")?
        .map(|(s, _)| s.to_owned());

    let must_fail = must_fail(&top)?;

    Ok(Manifest {
        name: name.to_owned(),
        description,
        command,
        setup,
        expectations,
        must_fail,
    })
}

/// The optional `[[must_fail]]` sections: distinct kebab-case scenario ids, each with a check.
fn must_fail(top: &Table<'_, '_>) -> Result<Vec<MustFail>> {
    let key = "must_fail";
    let expected = "`[[must_fail]]` sections, each with `scenario` and `check`";
    let Some(tables) = top.tables(key, expected, "this `[[must_fail]]`")? else {
        return Ok(Vec::new());
    };
    let mut entries: Vec<MustFail> = Vec::with_capacity(tables.len());
    for table in tables {
        table.allow(MUST_FAIL_KEYS, "a `[[must_fail]]` entry")?;
        let (id, field) = table.required_str("scenario", "a scenario id, such as `race-50`")?;
        let span = field.span();
        if !is_kebab(id) {
            return Err(top.doc.err(
                span,
                format!("`{id}` is not a valid scenario id"),
                "kebab-case: lowercase letters and digits separated by single dashes, such as `stale-race-50`",
            ));
        }
        if entries.iter().any(|seen| seen.scenario == id) {
            return Err(top.doc.err(
                span,
                format!("scenario `{id}` is listed twice in `{key}`"),
                "each scenario id once",
            ));
        }
        entries.push(MustFail {
            scenario: id.to_owned(),
            check: required_check(&table)?,
        });
    }
    Ok(entries)
}

/// A non-empty array of strings whose first item is non-empty and whose placeholders are known.
fn argv(
    top: &Table<'_, '_>,
    value: &toml::Spanned<DeValue<'_>>,
    expected: &str,
) -> Result<Vec<String>> {
    let doc = top.doc;
    let DeValue::Array(items) = value.get_ref() else {
        return Err(doc.err(
            value.span(),
            format!("a command is {}", article(value.get_ref().type_str())),
            expected,
        ));
    };
    if items.is_empty() {
        return Err(doc.err(value.span(), "a command is an empty array", expected));
    }
    let mut out = Vec::new();
    for item in items.iter() {
        let DeValue::String(arg) = item.get_ref() else {
            return Err(doc.err(
                item.span(),
                format!("an argument is {}", article(item.get_ref().type_str())),
                "a string",
            ));
        };
        if let Some(unknown) = unknown_placeholder(arg) {
            return Err(doc.err(
                item.span(),
                format!("unknown placeholder `{unknown}`"),
                one_of(PLACEHOLDERS.iter().copied()),
            ));
        }
        out.push(arg.to_string());
    }
    if out[0].trim().is_empty() {
        return Err(doc.err(
            items[0].span(),
            "the program name is empty",
            "a program name or path",
        ));
    }
    Ok(out)
}

/// The first `{word}` in `arg` that is not a known placeholder.
fn unknown_placeholder(arg: &str) -> Option<&str> {
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let word_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if word_len > 0 && after[word_len..].starts_with('}') {
            let placeholder = &rest[open..open + word_len + 2];
            if !PLACEHOLDERS.contains(&placeholder) {
                return Some(placeholder);
            }
        }
        rest = after;
    }
    None
}
