//! The scenario file reader: TOML text in, a validated [`Scenario`] or a positioned error out.
//!
//! Validation is as strict as the checker needs: every key is known, every name resolves,
//! every background acquire is awaited, and every capability a step uses is declared in
//! `requires`, so a scenario that parses can run without surprises.

use std::collections::HashMap;
use std::ops::Range;

use lockcheck_protocol::{Capability, ErrorKind, Mode, Vocabulary};

use crate::scenario::{
    Action, Bounds, Expect, Level, Outcome, ParticipantGroup, PlantKind, RaceEnd, Scenario,
    SleepSpec, Step, WaitSpec,
};
use crate::source::{ScenarioError, line_of};
use crate::toml_read::{Doc, Result, Table, a_or_an, closest, is_kebab, one_of};

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
    "participants",
    "steps",
];

const OUTCOME_NAMES: &[&str] = &[
    "ok",
    "busy",
    "timeout",
    "unsupported",
    "error",
    "error:<kind>",
];

/// What a step acts on, and how.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A participant or group, sent requests: not while a background acquire is pending.
    Request,
    /// A group of at least two, sent requests.
    Group,
    /// A participant or group, sent signals: allowed while a background acquire is pending.
    Signal,
    /// A participant or group whose background acquire the step collects.
    Await,
    /// The lock directory: the step takes no `who`.
    LockDir,
}

/// One `do` value: its name, its target, its keys, and how the rest of its table is read.
struct ActionSpec {
    name: &'static str,
    target: Target,
    /// Every key the step may have, in the order messages list them.
    keys: &'static [&'static str],
    read: ReadAction,
}

/// Reads the rest of a step's table into its action.
type ReadAction = fn(&mut StepReader<'_, '_>, &StepAt<'_, '_, '_>) -> Result<Action>;

/// The step being read, once its `who` is resolved.
struct StepAt<'x, 't, 'a> {
    index: usize,
    table: &'x Table<'t, 'a>,
    members: &'x [String],
    who_span: &'x Range<usize>,
}

const WHO_DO: &[&str] = &["who", "do"];
const DO: &[&str] = &["do"];

const fn action(
    name: &'static str,
    target: Target,
    keys: &'static [&'static str],
    read: ReadAction,
) -> ActionSpec {
    ActionSpec {
        name,
        target,
        keys,
        read,
    }
}

/// Every `do` value, in the order the docs list them.
const ACTIONS: &[ActionSpec] = &[
    action(
        "acquire",
        Target::Request,
        &[
            "who",
            "do",
            "mode",
            "wait",
            "timeout_ms",
            "expect",
            "min_ms",
            "within_ms",
            "background",
        ],
        |_, at| acquire(at.table),
    ),
    action(
        "release",
        Target::Request,
        &["who", "do", "expect"],
        |_, at| {
            Ok(Action::Release {
                expect: expect(at.table, Expect::one(Outcome::Ok))?,
            })
        },
    ),
    action(
        "await",
        Target::Await,
        &["who", "do", "expect", "min_ms", "within_ms"],
        |r, at| r.collect(at),
    ),
    action(
        "holder",
        Target::Request,
        &["who", "do", "holder_is"],
        |r, at| {
            Ok(Action::Holder {
                holder_is: r.holder_is(at.table)?,
            })
        },
    ),
    action("spawn_child", Target::Request, WHO_DO, |_, _| {
        Ok(Action::SpawnChild)
    }),
    action("touch_fd", Target::Request, WHO_DO, |_, _| {
        Ok(Action::TouchFd)
    }),
    action(
        "second_handle",
        Target::Request,
        &["who", "do", "mode", "expect"],
        |_, at| {
            Ok(Action::SecondHandle {
                mode: mode(at.table)?,
                expect: expect(at.table, Expect::default())?,
            })
        },
    ),
    action("release_second", Target::Request, WHO_DO, |_, _| {
        Ok(Action::ReleaseSecond)
    }),
    action(
        "thread_race",
        Target::Request,
        &["who", "do", "threads", "hold_ms", "max_winners"],
        |_, at| thread_race(at.table),
    ),
    action("exit", Target::Request, WHO_DO, |_, _| Ok(Action::Exit)),
    action("kill", Target::Signal, WHO_DO, |_, _| Ok(Action::Kill)),
    action("stop", Target::Signal, WHO_DO, |_, _| Ok(Action::Stop)),
    action("cont", Target::Signal, WHO_DO, |_, _| Ok(Action::Cont)),
    action("term", Target::Signal, WHO_DO, |_, _| Ok(Action::Term)),
    action(
        "sleep",
        Target::LockDir,
        &["do", "ms", "lease_factor"],
        |_, at| sleep(at.table),
    ),
    action("plant", Target::LockDir, &["do", "content"], |_, at| {
        plant(at.table)
    }),
    action("symlink", Target::LockDir, DO, |_, _| Ok(Action::Symlink)),
    action("unlink", Target::LockDir, DO, |_, _| Ok(Action::Unlink)),
    action("chmod_dir", Target::LockDir, &["do", "mode"], |_, at| {
        chmod_dir(at.table)
    }),
    action("check_victim", Target::LockDir, DO, |_, _| {
        Ok(Action::CheckVictim)
    }),
    action("remove_dir", Target::LockDir, DO, |_, _| {
        Ok(Action::RemoveDir)
    }),
    action("check_mode", Target::LockDir, &["do", "forbid"], |_, at| {
        check_mode(at.table)
    }),
    action("check_leftovers", Target::LockDir, DO, |_, _| {
        Ok(Action::CheckLeftovers)
    }),
    action(
        "race",
        Target::Group,
        &[
            "who",
            "do",
            "rounds",
            "wait",
            "timeout_ms",
            "hold_ms",
            "jitter_us",
            "end",
        ],
        |_, at| race(at),
    ),
    action(
        "churn",
        Target::Group,
        &["who", "do", "duration_ms", "hold_us", "mode"],
        |_, at| churn(at.table),
    ),
    action(
        "crash_acquire",
        Target::Group,
        &["who", "do", "window"],
        |_, at| {
            Ok(Action::CrashAcquire {
                window: at
                    .table
                    .positive_f64("window", "a positive number, such as `1.5`")?
                    .unwrap_or(1.5),
            })
        },
    ),
];

fn action_names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|a| a.name)
}

/// Reads one scenario file. `file_name` is only used in messages.
pub fn parse_scenario(file_name: &str, text: &str) -> std::result::Result<Scenario, ScenarioError> {
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
    let repeat = top.u32_min("repeat", 1, "an integer >= 1")?.unwrap_or(1);
    let recovery_slack_ms = top
        .u64_min("recovery_slack_ms", 0, "a number of milliseconds")?
        .unwrap_or(500);
    let umask = octal(
        &top,
        "umask",
        "umask",
        "a umask as an octal string, such as `\"0000\"`",
        0o777,
    )?;
    let unprivileged = top.bool("unprivileged")?.unwrap_or(false);

    let participants = read_participants(&top)?;

    let tables = top
        .tables("steps", "`[[steps]]` sections", "this step")?
        .ok_or_else(|| top.missing("steps", "at least one `[[steps]]` section"))?;
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
    for table in &tables {
        table.allow(&["name", "count"], "a participant")?;
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
        let count = table.u32_min("count", 1, "an integer >= 1")?.unwrap_or(1);
        groups.push(ParticipantGroup {
            name: name.to_owned(),
            count,
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

fn acquire(table: &Table<'_, '_>) -> Result<Action> {
    let background = table.bool("background")?.unwrap_or(false);
    if background {
        for key in ["expect", "min_ms", "within_ms"] {
            if let Some(field) = table.field(key) {
                return Err(table.doc.err(
                    field.key_span,
                    format!("`{key}` is not allowed on a background acquire"),
                    format!("`{key}` on the `do = \"await\"` step that collects the answer"),
                ));
            }
        }
    }
    Ok(Action::Acquire {
        mode: mode(table)?,
        wait: wait(table, true)?,
        expect: expect(table, Expect::one(Outcome::Ok))?,
        bounds: bounds(table)?,
        background,
    })
}

fn thread_race(table: &Table<'_, '_>) -> Result<Action> {
    Ok(Action::ThreadRace {
        threads: table
            .u32_min("threads", 2, "an integer >= 2")?
            .ok_or_else(|| table.missing("threads", "`threads = <count>` (at least 2)"))?,
        hold_ms: table
            .u64_min("hold_ms", 0, "a number of milliseconds")?
            .unwrap_or(0),
        max_winners: table
            .u32_min("max_winners", 1, "an integer >= 1")?
            .unwrap_or(1),
    })
}

fn sleep(table: &Table<'_, '_>) -> Result<Action> {
    Ok(Action::Sleep(SleepSpec {
        ms: table
            .u64_min("ms", 0, "a number of milliseconds")?
            .ok_or_else(|| table.missing("ms", "`ms = <milliseconds>`"))?,
        lease_factor: table
            .positive_f64("lease_factor", "a positive number, such as `2` or `1.5`")?,
    }))
}

fn plant(table: &Table<'_, '_>) -> Result<Action> {
    let expected = one_of(PlantKind::names());
    let content = table
        .named("content", "plant content", &expected)?
        .ok_or_else(|| table.missing("content", format!("`content` = {expected}")))?;
    Ok(Action::Plant { content })
}

fn chmod_dir(table: &Table<'_, '_>) -> Result<Action> {
    let expected = "permission bits as an octal string, such as `\"0500\"`";
    Ok(Action::ChmodDir {
        mode: octal(table, "mode", "permission mode", expected, 0o7777)?
            .ok_or_else(|| table.missing("mode", format!("`mode` = {expected}")))?,
    })
}

fn check_mode(table: &Table<'_, '_>) -> Result<Action> {
    Ok(Action::CheckMode {
        forbid: octal(
            table,
            "forbid",
            "set of permission bits",
            "permission bits that must be clear, as an octal string, such as `\"0022\"`",
            0o7777,
        )?
        .unwrap_or(0o022),
    })
}

fn race(at: &StepAt<'_, '_, '_>) -> Result<Action> {
    let table = at.table;
    let rounds = table.u32_min("rounds", 1, "an integer >= 1")?.unwrap_or(1);
    let end = table
        .named(
            "end",
            "race end",
            "`release` (winners release the lock) or `kill` (winners are SIGKILLed)",
        )?
        .unwrap_or(RaceEnd::Release);
    let members = at.members.len() as u64;
    if end == RaceEnd::Kill && u64::from(rounds) >= members {
        let span = table
            .field("rounds")
            .map_or(table.span.clone(), |f| f.span());
        return Err(table.doc.err(
            span,
            format!(
                "{rounds} rounds that each kill their winner need more than {members} contenders"
            ),
            format!("`rounds` < {members}, the number of members of the group"),
        ));
    }
    Ok(Action::Race {
        rounds,
        wait: wait(table, false)?,
        hold_ms: table
            .u64_min("hold_ms", 0, "a number of milliseconds")?
            .unwrap_or(0),
        jitter_us: table
            .u64_min("jitter_us", 0, "a number of microseconds")?
            .unwrap_or(0),
        end,
    })
}

fn churn(table: &Table<'_, '_>) -> Result<Action> {
    Ok(Action::Churn {
        duration_ms: table
            .u64_min("duration_ms", 1, "a number of milliseconds >= 1")?
            .ok_or_else(|| table.missing("duration_ms", "`duration_ms = <milliseconds>`"))?,
        hold_us: table
            .u64_min("hold_us", 0, "a number of microseconds")?
            .unwrap_or(0),
        mode: mode(table)?,
    })
}

fn mode(table: &Table<'_, '_>) -> Result<Mode> {
    Ok(table
        .named("mode", "mode", "`exclusive` or `shared`")?
        .unwrap_or(Mode::Exclusive))
}

fn wait(table: &Table<'_, '_>, allow_block: bool) -> Result<WaitSpec> {
    let doc = table.doc;
    let names: &[&str] = if allow_block {
        &["try", "block", "timeout", "recovery"]
    } else {
        &["try", "timeout", "recovery"]
    };
    let timeout = table.u64_min("timeout_ms", 0, "a number of milliseconds")?;
    let wait = table.str("wait", &one_of(names.iter().copied()))?;
    let spec = match wait {
        None | Some(("try", _)) => WaitSpec::Try,
        Some(("block", field)) if !allow_block => {
            return Err(doc.err(
                field.span(),
                "`wait = \"block\"` is not allowed in a race: with a correct lock the \
                 losers would wait for ever",
                one_of(names.iter().copied()),
            ));
        }
        Some(("block", _)) => WaitSpec::Block,
        Some(("recovery", _)) => WaitSpec::Recovery,
        Some(("timeout", field)) => match timeout {
            Some(ms) => WaitSpec::Timeout { ms },
            None => {
                return Err(doc.err(
                    field.span(),
                    "`wait = \"timeout\"` needs `timeout_ms`",
                    "`timeout_ms = <milliseconds>` in the same step",
                ));
            }
        },
        Some((other, field)) => {
            return Err(doc.err(
                field.span(),
                format!("unknown wait `{other}`"),
                one_of(names.iter().copied()),
            ));
        }
    };
    if !matches!(spec, WaitSpec::Timeout { .. })
        && let Some(field) = table.field("timeout_ms")
    {
        return Err(doc.err(
            field.key_span,
            "`timeout_ms` is only meaningful with `wait = \"timeout\"`",
            "`wait = \"timeout\"`, or no `timeout_ms`",
        ));
    }
    Ok(spec)
}

fn expect(table: &Table<'_, '_>, default: Expect) -> Result<Expect> {
    let doc = table.doc;
    let expected = format!(
        "an outcome or an array of outcomes: {}",
        one_of(OUTCOME_NAMES.iter().copied())
    );
    let Some(items) = table.strings("expect", &expected, true)? else {
        return Ok(default);
    };
    if items.is_empty() {
        return Err(doc.err(
            table
                .field("expect")
                .map_or(table.span.clone(), |f| f.span()),
            "`expect` is an empty array",
            "at least one outcome; leave `expect` out to use the default",
        ));
    }
    let mut outcomes = Vec::new();
    for (text, span) in items {
        let outcome = match text {
            "ok" => Outcome::Ok,
            "busy" => Outcome::Busy,
            "timeout" => Outcome::Timeout,
            "unsupported" => Outcome::Unsupported,
            "error" => Outcome::Error(None),
            _ => match text.strip_prefix("error:") {
                Some(kind) => {
                    Outcome::Error(Some(ErrorKind::from_name(kind).ok_or_else(|| {
                        doc.err(
                            span.clone(),
                            format!("unknown error kind `{kind}` in `{text}`"),
                            one_of(ErrorKind::names()),
                        )
                    })?))
                }
                None => {
                    let mut message = format!("unknown outcome `{text}`");
                    if let Some(close) = closest(text, OUTCOME_NAMES) {
                        message.push_str(&format!(" (did you mean `{close}`?)"));
                    }
                    return Err(doc.err(span, message, one_of(OUTCOME_NAMES.iter().copied())));
                }
            },
        };
        if !outcomes.contains(&outcome) {
            outcomes.push(outcome);
        }
    }
    Ok(Expect(outcomes))
}

fn bounds(table: &Table<'_, '_>) -> Result<Bounds> {
    let min_ms = table.u64_min("min_ms", 0, "a number of milliseconds")?;
    let within_ms = table.u64_min("within_ms", 0, "a number of milliseconds")?;
    if let (Some(min), Some(within)) = (min_ms, within_ms)
        && within < min
    {
        let span = table
            .field("within_ms")
            .map_or(table.span.clone(), |f| f.span());
        return Err(table.doc.err(
            span,
            format!("`within_ms` ({within}) is less than `min_ms` ({min})"),
            "`within_ms` >= `min_ms`",
        ));
    }
    Ok(Bounds { min_ms, within_ms })
}

/// An octal string such as `"0500"` or `"0o022"` of at most `max`, if `key` is present.
fn octal(
    table: &Table<'_, '_>,
    key: &str,
    what: &str,
    expected: &str,
    max: u32,
) -> Result<Option<u32>> {
    let Some((text, field)) = table.str(key, expected)? else {
        return Ok(None);
    };
    let digits = text.strip_prefix("0o").unwrap_or(text);
    match u32::from_str_radix(digits, 8) {
        Ok(bits) if !digits.is_empty() && digits.len() <= 4 && bits <= max => Ok(Some(bits)),
        _ => Err(table.doc.err(
            field.span(),
            format!("`{text}` is not an octal {what}"),
            expected,
        )),
    }
}

fn is_participant_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
