//! The scenario file reader: TOML text in, a validated [`Scenario`] or a positioned error out.
//!
//! Validation is as strict as the checker needs: every key is known, every name resolves,
//! every background acquire is awaited, and every capability a step uses is declared in
//! `requires`, so a scenario that parses can run without surprises.

use std::collections::HashMap;
use std::ops::Range;

use lockcheck_protocol::{Capability, Vocabulary};

use crate::scenario::{Action, Expect, Level, Outcome, ParticipantGroup, Scenario, Step};
use crate::source::{ScenarioError, decode, line_of};
use crate::toml_read::{Doc, Result, Table, a_or_an, closest, is_kebab, one_of};

mod actions;
mod limits;
mod topology;

use limits::limit;
pub use limits::{MAX_PARTICIPANTS, MAX_STEPS};

use actions::{ACTIONS, StepAt, Target, action_names, bounds, expect, octal};

const TOP_KEYS: &[&str] = &[
    "id",
    "level",
    "description",
    "catches",
    "requires",
    "repeat",
    "recovery_slack_ms",
    "umask",
    "unprivileged",
    "lock_dir",
    "participants",
    "steps",
];

/// The keys of a `[[participants]]` section.
const PARTICIPANT_KEYS: &[&str] = &["name", "count", "pid_namespace", "view", "host"];

/// A key the scenario reader accepts: where it may appear, and the range of its value when it
/// is a number. `docs/scenarios.md` documents every one (a test checks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioKey {
    /// `scenario` (the top level), `participants`, or the `do` value of a step.
    pub section: &'static str,
    /// The key.
    pub key: &'static str,
    /// For a number, its range as the docs write it, such as `0 to 60000`.
    pub range: Option<String>,
}

/// Every key the scenario reader accepts, section by section, in the order messages list
/// them.
pub fn scenario_keys() -> Vec<ScenarioKey> {
    let sections = [
        ("scenario", TOP_KEYS),
        ("participants", PARTICIPANT_KEYS),
        ("lock_dir", topology::LOCK_DIR_KEYS),
    ]
    .into_iter()
    .chain(ACTIONS.iter().map(|a| (a.name, a.keys)));
    sections
        .flat_map(|(section, keys)| {
            keys.iter().map(move |&key| ScenarioKey {
                section,
                key,
                range: limits::LIMITS
                    .iter()
                    .find(|l| l.key == key)
                    .map(|l| l.range()),
            })
        })
        .collect()
}

/// Reads one scenario. `file_name` is only used in messages.
pub fn parse_scenario(file_name: &str, text: &str) -> std::result::Result<Scenario, ScenarioError> {
    read(file_name, text, false)
}

/// Reads one scenario file of a catalogue: as [`parse_scenario`], and its id must be its file
/// name without `.toml` (`scenarios/race-50.toml` holds `race-50`), so that a file is found by
/// its id.
pub fn parse_scenario_file(path: &str, text: &str) -> std::result::Result<Scenario, ScenarioError> {
    read(path, text, true)
}

/// Reads a catalogue: every file of `files` (path for messages, contents) decoded with
/// [`decode`] and read with
/// [`parse_scenario_file`], and no id twice. Returns the scenarios that read, in the order
/// given, and an error for every file that did not, so a user sees every bad file at once; a
/// second file with an id already taken is an error at its id, naming the first.
pub fn parse_catalogue(files: &[(&str, &[u8])]) -> (Vec<Scenario>, Vec<ScenarioError>) {
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut first: HashMap<String, &str> = HashMap::new();
    let mut errors = Vec::new();
    for &(path, bytes) in files {
        let text = match decode(path, bytes) {
            Ok(text) => text,
            Err(err) => {
                errors.push(err);
                continue;
            }
        };
        match parse_scenario_file(path, text) {
            Ok(scenario) => match first.get(&scenario.id) {
                Some(earlier) => errors.push(id_error(
                    path,
                    text,
                    format!("scenario id `{}` is also the id of {earlier}", scenario.id),
                    "each scenario id in one file only",
                )),
                None => {
                    first.insert(scenario.id.clone(), path);
                    scenarios.push(scenario);
                }
            },
            Err(err) => errors.push(err),
        }
    }
    (scenarios, errors)
}

/// An error at the `id` of a scenario that has already been read once.
fn id_error(path: &str, text: &str, message: String, expected: &str) -> ScenarioError {
    let doc = Doc::new(path, text);
    let span = doc
        .parse()
        .ok()
        .and_then(|root| {
            Table::new(doc, root.get_ref(), 0..0, "the scenario")
                .field("id")
                .map(|f| f.span())
        })
        .unwrap_or(0..0);
    doc.err(span, message, expected)
}

/// The file name of `path` without its directories and its `.toml`.
fn file_stem(path: &str) -> &str {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.strip_suffix(".toml").unwrap_or(name)
}

fn read(file_name: &str, text: &str, id_is_file_name: bool) -> Result<Scenario> {
    let doc = Doc::new(file_name, text);
    let root = doc.parse()?;
    let top = Table::new(doc, root.get_ref(), 0..0, "the scenario");
    top.allow(TOP_KEYS, "a scenario")?;

    let (id, id_field) = top.required_str("id", "a kebab-case id such as `exclusive-basic`")?;
    if !is_kebab(id) {
        return Err(doc.err(
            id_field.span(),
            format!("`{id}` is not a valid scenario id"),
            "kebab-case: lowercase letters and digits separated by single dashes, such as `exclusive-basic`",
        ));
    }
    if id_is_file_name && id != file_stem(file_name) {
        return Err(doc.err(
            id_field.span(),
            format!("the id `{id}` is not the file's name"),
            format!(
                "`id = \"{}\"`, or the file renamed to {id}.toml",
                file_stem(file_name)
            ),
        ));
    }
    let level_expected = one_of(Level::names());
    let level = top
        .named::<Level>("level", "level", &level_expected)?
        .ok_or_else(|| top.missing("level", &level_expected))?;
    let description = top.required_text("description", "a sentence saying what happens")?;
    let catches = top.required_text(
        "catches",
        "a sentence saying which broken locks this catches",
    )?;

    let mut requires = Vec::new();
    let requires_span = top.field("requires").map(|f| f.span());
    for (name, span) in top
        .strings("requires", "an array of capability names", false)?
        .unwrap_or_default()
    {
        let cap: Capability = doc.lookup(name, span, "capability", one_of(Capability::names()))?;
        if !requires.contains(&cap) {
            requires.push(cap);
        }
    }
    let repeat = top.int_u32(limit("repeat"))?.unwrap_or(1);
    let recovery_slack_ms = top.int(limit("recovery_slack_ms"))?.unwrap_or(500);
    let umask = octal(
        &top,
        "umask",
        "umask",
        "a umask as an octal string, such as `\"0000\"`",
        0o777,
    )?;
    let unprivileged = top.bool("unprivileged")?.unwrap_or(false);

    let lock_dir = topology::lock_dir(&top)?;
    let participants = read_participants(&top)?;

    let tables = top
        .tables("steps", "`[[steps]]` sections", "this step")?
        .ok_or_else(|| top.missing("steps", "at least one `[[steps]]` section"))?;
    if tables.len() > MAX_STEPS {
        return Err(doc.err(
            tables[MAX_STEPS].span.clone(),
            format!("this is step {}, one too many", MAX_STEPS + 1),
            format!("at most {MAX_STEPS} `[[steps]]` sections"),
        ));
    }
    if tables.is_empty() {
        return Err(doc.err(
            top.field("steps").map_or(0..0, |f| f.span()),
            "`steps` is empty",
            "at least one `[[steps]]` section",
        ));
    }

    let mut scenario = Scenario {
        id: id.to_owned(),
        level,
        description,
        catches,
        requires,
        repeat,
        recovery_slack_ms,
        umask,
        unprivileged,
        lock_dir,
        participants,
        steps: Vec::new(),
    };
    let mut reader = StepReader {
        doc,
        scenario: &scenario,
        requires_span,
        pending: HashMap::new(),
        fills: Vec::new(),
    };
    let mut steps = Vec::new();
    for (index, table) in tables.iter().enumerate() {
        steps.push(reader.step(index, table)?);
    }
    if let Some((member, pending)) = reader.pending.iter().min_by_key(|(_, p)| p.step) {
        return Err(doc.err(
            pending.span.clone(),
            format!("the background acquire for `{member}` is never awaited"),
            format!("a later step with `do = \"await\"` and `who = \"{member}\"`"),
        ));
    }
    // A background acquire is judged by the expectation of the await that collects it.
    for (acquire, from_await) in std::mem::take(&mut reader.fills) {
        let expect = match &steps[from_await].action {
            Action::Await { expect, .. } => expect.clone(),
            _ => continue,
        };
        if let Action::Acquire { expect: e, .. } = &mut steps[acquire].action {
            *e = expect;
        }
    }
    scenario.steps = steps;
    Ok(scenario)
}

fn read_participants(top: &Table<'_, '_>) -> Result<Vec<ParticipantGroup>> {
    let doc = top.doc;
    let tables = top
        .tables(
            "participants",
            "`[[participants]]` sections",
            "this participant",
        )?
        .ok_or_else(|| top.missing("participants", "at least one `[[participants]]` section"))?;
    if tables.is_empty() {
        return Err(doc.err(
            top.field("participants").map_or(0..0, |f| f.span()),
            "`participants` is empty",
            "at least one `[[participants]]` section",
        ));
    }
    let mut groups: Vec<ParticipantGroup> = Vec::new();
    let mut first_seen: HashMap<String, u32> = HashMap::new();
    let mut total = 0u64;
    for table in &tables {
        table.allow(PARTICIPANT_KEYS, "a participant")?;
        let name_expected = "a name matching [a-z][a-z0-9_]*, such as `a` or `writer_2`";
        let (name, field) = table.required_str("name", name_expected)?;
        if !is_participant_name(name) {
            return Err(doc.err(
                field.span(),
                format!("`{name}` is not a valid participant name"),
                name_expected,
            ));
        }
        if let Some(line) = first_seen.get(name) {
            return Err(doc.err(
                field.span(),
                format!("participant `{name}` is declared twice (first on line {line})"),
                "a unique name for each participant",
            ));
        }
        first_seen.insert(name.to_owned(), line_of(doc.text, table.span.start));
        let count = table.int_u32(limit("count"))?.unwrap_or(1);
        total += u64::from(count);
        if total > MAX_PARTICIPANTS {
            let span = table.field("count").map_or(field.span(), |f| f.span());
            return Err(doc.err(
                span,
                format!("this brings the participants to {total}, too many"),
                format!(
                    "at most {MAX_PARTICIPANTS} participants in all, counting every group member"
                ),
            ));
        }
        groups.push(ParticipantGroup {
            name: name.to_owned(),
            count,
            placement: topology::placement(table)?,
        });
    }
    Ok(groups)
}

/// A background acquire that no `await` has collected yet.
struct Pending {
    step: usize,
    span: Range<usize>,
}

struct StepReader<'s, 'a> {
    doc: Doc<'a>,
    scenario: &'s Scenario,
    requires_span: Option<Range<usize>>,
    /// Members with a background acquire outstanding.
    pending: HashMap<String, Pending>,
    /// (background acquire step, await step that collects it).
    fills: Vec<(usize, usize)>,
}

impl StepReader<'_, '_> {
    fn step(&mut self, index: usize, table: &Table<'_, '_>) -> Result<Step> {
        let doc = self.doc;
        let (name, do_field) = table.required_str("do", &one_of(action_names()))?;
        let Some(spec) = ACTIONS.iter().find(|a| a.name == name) else {
            let mut message = format!("unknown action `{name}`");
            if let Some(close) = closest(name, &action_names().collect::<Vec<_>>()) {
                message.push_str(&format!(" (did you mean `{close}`?)"));
            }
            return Err(doc.err(do_field.span(), message, one_of(action_names())));
        };
        if spec.target == Target::LockDir
            && let Some(field) = table.field("who")
        {
            return Err(doc.err(
                field.key_span,
                format!(
                    "`who` is not allowed with `do = \"{name}\"`, which acts on the lock \
                     directory rather than on a participant"
                ),
                "no `who` key",
            ));
        }
        table.allow(spec.keys, &format!("{} `{name}` step", a_or_an(name)))?;

        let who = match spec.target {
            Target::LockDir => None,
            _ => Some(self.who(name, table)?),
        };
        let members = who
            .as_ref()
            .map(|(w, _)| self.scenario.resolve(w))
            .unwrap_or_default();
        let who_span = who.as_ref().map_or(table.span.clone(), |(_, s)| s.clone());
        if matches!(spec.target, Target::Request | Target::Group) {
            self.not_pending(&members, &who_span)?;
        }
        if spec.target == Target::Group {
            self.group(name, &who_span, who.as_ref())?;
        }

        let at = StepAt {
            index,
            table,
            members: &members,
            who_span: &who_span,
        };
        let action = (spec.read)(self, &at)?;

        // `not_pending` above guarantees none of these members is waiting already.
        if let Action::Acquire {
            background: true, ..
        } = &action
        {
            for member in &members {
                self.pending.insert(
                    member.clone(),
                    Pending {
                        step: index,
                        span: table.span.clone(),
                    },
                );
            }
        }
        self.required(&action, do_field.span())?;

        Ok(Step {
            line: line_of(doc.text, table.span.start),
            who: who.map(|(w, _)| w),
            action,
        })
    }

    /// The step's `who`, which must name a participant, a group or a group member.
    fn who(&self, action: &str, table: &Table<'_, '_>) -> Result<(String, Range<usize>)> {
        let expected = format!(
            "the name of a participant: {}",
            one_of(self.scenario.participants.iter().map(|g| g.name.as_str()))
        );
        let (who, field) = table.str("who", &expected)?.ok_or_else(|| {
            self.doc.err(
                table.span.clone(),
                format!("this `{action}` step has no `who`"),
                expected.clone(),
            )
        })?;
        if self.scenario.resolve(who).is_empty() {
            return Err(self.doc.err(
                field.span(),
                format!("unknown participant `{who}`"),
                self.who_expected(),
            ));
        }
        Ok((who.to_owned(), field.span()))
    }

    /// A participant waiting on a background acquire cannot be sent another request.
    fn not_pending(&self, members: &[String], who_span: &Range<usize>) -> Result<()> {
        for member in members {
            if let Some(p) = self.pending.get(member) {
                let line = line_of(self.doc.text, p.span.start);
                return Err(self.doc.err(
                    who_span.clone(),
                    format!(
                        "`{member}` is still waiting for its background acquire from line {line}"
                    ),
                    format!("a `do = \"await\"` step for `{member}` before this one"),
                ));
            }
        }
        Ok(())
    }

    /// Every capability the action's requests need must be in `requires`.
    fn required(&self, action: &Action, do_span: Range<usize>) -> Result<()> {
        let Some(cap) = action
            .needed_capabilities()
            .into_iter()
            .find(|cap| !self.scenario.requires.contains(cap))
        else {
            return Ok(());
        };
        let where_ = match &self.requires_span {
            Some(span) => format!(" (line {})", line_of(self.doc.text, span.start)),
            None => String::new(),
        };
        Err(self.doc.err(
            do_span,
            format!("this step needs the `{cap}` capability, which `requires` does not list"),
            format!("`\"{cap}\"` in `requires`{where_}"),
        ))
    }

    /// An `await`: collects the background acquire of every member.
    fn collect(&mut self, at: &StepAt<'_, '_, '_>) -> Result<Action> {
        let expect = expect(at.table, Expect::one(Outcome::Ok))?;
        let bounds = bounds(at.table)?;
        let mut collected = Vec::new();
        for member in at.members {
            let Some(p) = self.pending.remove(member) else {
                return Err(self.doc.err(
                    at.who_span.clone(),
                    format!("`{member}` has no background acquire outstanding to await"),
                    format!(
                        "an earlier `do = \"acquire\"` step with `background = true` for `{member}`"
                    ),
                ));
            };
            collected.push(p.step);
        }
        collected.sort_unstable();
        collected.dedup();
        self.fills
            .extend(collected.into_iter().map(|s| (s, at.index)));
        Ok(Action::Await { expect, bounds })
    }

    fn who_expected(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        for g in &self.scenario.participants {
            names.push(g.name.clone());
        }
        let mut text = one_of(names.iter().map(String::as_str));
        let groups: Vec<String> = self
            .scenario
            .participants
            .iter()
            .filter(|g| g.count > 1)
            .map(|g| format!("`{0}.0` .. `{0}.{1}`", g.name, g.count - 1))
            .collect();
        if !groups.is_empty() {
            text.push_str(&format!(", or a group member {}", groups.join(", ")));
        }
        text
    }

    fn group(
        &self,
        action: &str,
        who_span: &Range<usize>,
        who: Option<&(String, Range<usize>)>,
    ) -> Result<()> {
        let who = who.map(|(w, _)| w.as_str()).unwrap_or_default();
        let is_group = self
            .scenario
            .participants
            .iter()
            .any(|g| g.name == who && g.count >= 2);
        if is_group {
            return Ok(());
        }
        let groups: Vec<&str> = self
            .scenario
            .participants
            .iter()
            .filter(|g| g.count >= 2)
            .map(|g| g.name.as_str())
            .collect();
        let expected = if groups.is_empty() {
            "a group: a participant declared with `count` >= 2".to_owned()
        } else {
            format!("a group with `count` >= 2: {}", one_of(groups))
        };
        Err(self.doc.err(
            who_span.clone(),
            format!(
                "`{action}` needs a group of participants, but `{who}` is a single participant"
            ),
            expected,
        ))
    }

    fn holder_is(&self, table: &Table<'_, '_>) -> Result<Option<String>> {
        let Some((name, field)) = table.str(
            "holder_is",
            "the name of a single participant, or no `holder_is` for nobody",
        )?
        else {
            return Ok(None);
        };
        let members = self.scenario.resolve(name);
        if members.len() == 1 && members[0] == name {
            return Ok(Some(name.to_owned()));
        }
        let message = if members.is_empty() {
            format!("unknown participant `{name}`")
        } else {
            format!("`{name}` is a group, not a single participant")
        };
        Err(self.doc.err(field.span(), message, self.who_expected()))
    }
}

fn is_participant_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
