//! What `lockcheck adapter-check` found: for each rule of PROTOCOL.md it checks, whether the
//! adapter kept it, and for each miss what was sent and what came back.

/// A rule of PROTOCOL.md that adapter-check checks. [`Rule::title`] is the rule's own words
/// in PROTOCOL.md (a heading, or a bold phrase), so that a miss can be looked up there; a test
/// holds the document to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// The first line is a `hello` that matches `schema/adapter-message.schema.json` and
    /// speaks this protocol version.
    Hello,
    /// Every line arrives when it is written, not when the adapter exits.
    Flush,
    /// Every stdout line is a protocol message, ended by a newline, within the length limit.
    StdoutProtocolOnly,
    /// Every request gets exactly one answer.
    OneResponse,
    /// Every answer carries its request's id.
    EchoId,
    /// Every op the capabilities promise answers as PROTOCOL.md's table of ops says.
    Requests,
    /// An unknown op is answered `unsupported`, and reading goes on.
    UnknownOps,
    /// A malformed line with an id is answered `error`/`bad_request`; one without is not
    /// answered; reading goes on.
    MalformedRequests,
    /// A release when not held answers `ok` or `error`/`not_held`, and the lock stays usable.
    ReleaseWhenNotHeld,
    /// `timeout_ms: 0` is one attempt: `ok` when free, `timeout` when held.
    TimeoutZero,
    /// `t_ns` never decreases within one adapter process.
    Timestamps,
    /// A child started by `spawn_child` does not hold the protocol's stdin or stdout.
    SpawnedChildren,
    /// `exit` is answered `ok`, then the adapter exits with status 0.
    CleanExit,
    /// At the end of stdin the adapter exits with status 0.
    EndOfInput,
    /// A request with `after_us` is not answered sooner (only for adapters that say
    /// `timed_start`).
    TimedStarts,
}

impl Rule {
    /// Every rule, in the order the checklist shows them.
    pub const ALL: [Rule; 15] = [
        Rule::Hello,
        Rule::Flush,
        Rule::StdoutProtocolOnly,
        Rule::OneResponse,
        Rule::EchoId,
        Rule::Requests,
        Rule::UnknownOps,
        Rule::MalformedRequests,
        Rule::ReleaseWhenNotHeld,
        Rule::TimeoutZero,
        Rule::Timestamps,
        Rule::SpawnedChildren,
        Rule::CleanExit,
        Rule::EndOfInput,
        Rule::TimedStarts,
    ];

    /// The rule's words in PROTOCOL.md.
    pub fn title(self) -> &'static str {
        match self {
            Rule::Hello => "The `hello` line",
            Rule::Flush => "Flush after every line",
            Rule::StdoutProtocolOnly => "stdout is for the protocol only",
            Rule::OneResponse => "One response per request",
            Rule::EchoId => "Echo the `id` in the response",
            Rule::Requests => "Requests",
            Rule::UnknownOps => "Unknown ops",
            Rule::MalformedRequests => "Malformed requests",
            Rule::ReleaseWhenNotHeld => "`release` when not held",
            Rule::TimeoutZero => "`timeout_ms: 0`",
            Rule::Timestamps => "Timestamps",
            Rule::SpawnedChildren => "Spawned children and the protocol's pipes",
            Rule::CleanExit => "`exit` is a clean exit",
            Rule::EndOfInput => "End of input",
            Rule::TimedStarts => "Timed starts",
        }
    }

    /// The section of PROTOCOL.md the rule is written in.
    pub fn section(self) -> &'static str {
        match self {
            Rule::Flush | Rule::StdoutProtocolOnly | Rule::OneResponse | Rule::EndOfInput => {
                "Transport"
            }
            Rule::Hello => "The `hello` line",
            Rule::EchoId | Rule::Requests => "Requests",
            Rule::UnknownOps => "Unknown ops",
            Rule::MalformedRequests => "Malformed requests",
            Rule::Timestamps => "Timestamps",
            Rule::TimedStarts => "Timed starts",
            Rule::ReleaseWhenNotHeld
            | Rule::TimeoutZero
            | Rule::SpawnedChildren
            | Rule::CleanExit => "Rules the runner relies on",
        }
    }
}

/// One time the adapter broke a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// What went wrong, as a lowercase sentence fragment.
    pub what: String,
    /// The line the check wrote to the adapter, if a request was involved.
    pub sent: Option<String>,
    /// The line the adapter wrote back, if any.
    pub got: Option<String>,
}

/// How one rule fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOutcome {
    /// Kept every time it was checked: how many times.
    Kept {
        /// The number of answers or events the rule was checked on.
        checks: usize,
    },
    /// Broken at least once.
    Broken(Vec<Miss>),
    /// Not checked, and why: the adapter declares nothing that exercises it, or the
    /// conversation ended before it.
    NotChecked(String),
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    /// Which rule.
    pub rule: Rule,
    /// How it fared.
    pub outcome: RuleOutcome,
}

/// A variable taken out of the environment the adapter inherits, because it hides a missing
/// flush here that would hang the adapter elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedVar {
    /// The variable's name.
    pub name: &'static str,
    /// What it does to an adapter.
    pub why: &'static str,
    /// Whether it was set in the checker's environment (and so was really removed).
    pub was_set: bool,
}

/// Everything `adapter-check` found about one adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// The adapter's command line.
    pub command: String,
    /// The variables removed from its environment.
    pub masked: Vec<MaskedVar>,
    /// The implementation the hello names (`filelock 3.16.1 (python)`), once it said hello.
    pub implementation: Option<String>,
    /// One entry per rule, in [`Rule::ALL`] order.
    pub rules: Vec<RuleResult>,
    /// The last lines the adapter wrote to stderr, shown when a rule is broken.
    pub stderr: Vec<String>,
}

impl Checklist {
    /// Whether no rule was broken.
    pub fn holds(&self) -> bool {
        !self
            .rules
            .iter()
            .any(|r| matches!(r.outcome, RuleOutcome::Broken(_)))
    }

    /// The rules broken, in checklist order.
    pub fn broken(&self) -> impl Iterator<Item = Rule> + '_ {
        self.rules
            .iter()
            .filter(|r| matches!(r.outcome, RuleOutcome::Broken(_)))
            .map(|r| r.rule)
    }
}
