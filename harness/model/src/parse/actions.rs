//! The action table: every `do` value a step may have, what it acts on, its keys, and how the
//! rest of its table is read.

use std::ops::Range;

use lockcheck_protocol::{ErrorKind, Mode, Vocabulary};

use super::StepReader;
use super::limits::limit;
use crate::scenario::{Action, Bounds, Expect, Outcome, PlantKind, RaceEnd, SleepSpec, WaitSpec};
use crate::toml_read::{Result, Table, closest, one_of};

/// What a step acts on, and how.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
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
pub(super) struct ActionSpec {
    pub(super) name: &'static str,
    pub(super) target: Target,
    /// Every key the step may have, in the order messages list them.
    pub(super) keys: &'static [&'static str],
    pub(super) read: ReadAction,
}

/// Reads the rest of a step's table into its action.
pub(super) type ReadAction = fn(&mut StepReader<'_, '_>, &StepAt<'_, '_, '_>) -> Result<Action>;

/// The step being read, once its `who` is resolved.
pub(super) struct StepAt<'x, 't, 'a> {
    pub(super) index: usize,
    pub(super) table: &'x Table<'t, 'a>,
    pub(super) members: &'x [String],
    pub(super) who_span: &'x Range<usize>,
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
pub(super) const ACTIONS: &[ActionSpec] = &[
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
        &["do", "ms", "lease_factor", "recovery_factor"],
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
                window: at.table.fraction(limit("window"))?.unwrap_or(1.5),
            })
        },
    ),
];

pub(super) fn action_names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|a| a.name)
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
            .int_u32(limit("threads"))?
            .ok_or_else(|| table.missing("threads", "`threads = <count>` (at least 2)"))?,
        hold_ms: table.int(limit("hold_ms"))?.unwrap_or(0),
        max_winners: table.int_u32(limit("max_winners"))?.unwrap_or(1),
    })
}

fn sleep(table: &Table<'_, '_>) -> Result<Action> {
    Ok(Action::Sleep(SleepSpec {
        ms: table
            .int(limit("ms"))?
            .ok_or_else(|| table.missing("ms", "`ms = <milliseconds>`"))?,
        lease_factor: table.fraction(limit("lease_factor"))?,
        recovery_factor: table.fraction(limit("recovery_factor"))?,
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
    let rounds = table.int_u32(limit("rounds"))?.unwrap_or(1);
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
        hold_ms: table.int(limit("hold_ms"))?.unwrap_or(0),
        jitter_us: table.int(limit("jitter_us"))?.unwrap_or(0),
        end,
    })
}

fn churn(table: &Table<'_, '_>) -> Result<Action> {
    Ok(Action::Churn {
        duration_ms: table
            .int(limit("duration_ms"))?
            .ok_or_else(|| table.missing("duration_ms", "`duration_ms = <milliseconds>`"))?,
        hold_us: table.int(limit("hold_us"))?.unwrap_or(0),
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
        &["try", "block", "timeout", "recovery", "measure_recovery"]
    } else {
        &["try", "timeout", "recovery"]
    };
    let timeout = table.int(limit("timeout_ms"))?;
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
        Some((name @ ("timeout" | "measure_recovery"), field)) => match (name, timeout) {
            ("timeout", Some(ms)) => WaitSpec::Timeout { ms },
            (_, Some(ms)) => WaitSpec::MeasureRecovery { ms },
            (_, None) => {
                return Err(doc.err(
                    field.span(),
                    format!("`wait = \"{name}\"` needs `timeout_ms`"),
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
    if !matches!(
        spec,
        WaitSpec::Timeout { .. } | WaitSpec::MeasureRecovery { .. }
    ) && let Some(field) = table.field("timeout_ms")
    {
        return Err(doc.err(
            field.key_span,
            "`timeout_ms` is only meaningful with `wait = \"timeout\"` or \
             `wait = \"measure_recovery\"`",
            "`wait = \"timeout\"`, or no `timeout_ms`",
        ));
    }
    Ok(spec)
}

pub(super) fn expect(table: &Table<'_, '_>, default: Expect) -> Result<Expect> {
    let doc = table.doc;
    let expected = format!(
        "an outcome or an array of outcomes: {}",
        one_of(Outcome::NAMES)
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
        let outcome = match Outcome::from_name(text) {
            Ok(outcome) => outcome,
            Err(Some(kind)) => {
                return Err(doc.err(
                    span,
                    format!("unknown error kind `{kind}` in `{text}`"),
                    one_of(ErrorKind::names()),
                ));
            }
            Err(None) => {
                let mut message = format!("unknown outcome `{text}`");
                if let Some(close) = closest(text, &Outcome::NAMES) {
                    message.push_str(&format!(" (did you mean `{close}`?)"));
                }
                return Err(doc.err(span, message, one_of(Outcome::NAMES)));
            }
        };
        if !outcomes.contains(&outcome) {
            outcomes.push(outcome);
        }
    }
    Ok(Expect(outcomes))
}

pub(super) fn bounds(table: &Table<'_, '_>) -> Result<Bounds> {
    let min_ms = table.int(limit("min_ms"))?;
    let within_ms = table.int(limit("within_ms"))?;
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
pub(super) fn octal(
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
