//! A compact text form for histories in tests, one event per line:
//!
//! ```text
//! 0    a spawn 100          Spawned, pid 100
//! 0    a hello kernel       Hello declaring kernel recovery (`stale_pid`, `lease=500`)
//! 1    a > acquire s0       Sent (ids count per participant); s0 = step 0, s0r2 = round 2
//! 2    a < ok               Received, answering a's oldest unanswered request
//! 2    a < error:not_held "message"   with a kind and a message
//! 2    a < ok winners=3 holder=100 holder=none   response fields
//! 2    a <# 42 ok           Received with an explicit id, matched to nothing on purpose
//! 3    a kill s1            Fault (kill, term, stop, cont)
//! 4    a exited             Exited
//! 5    a broken             Broken (bad line) for a; `- broken` for none
//! 6    - victim changed s4  Observed victim
//! 7    - unlink s2          Fault without a participant: unlink, symlink, remove_dir
//! 8    - mode file 666 s3   Observed lock path (type, octal mode or `-`)
//! 9    - leftovers locks/ x  Observed leftovers (none when no paths follow)
//! ```
//! Times are milliseconds (fractions allowed). Ops: acquire, acquire_shared, acquire_block,
//! release, holder, second, second_shared, release_second, thread_race, exit, spawn_child,
//! touch_fd.

use std::collections::{HashMap, VecDeque};

use lockcheck_model::{BrokenReason, Event, EventKind, Fault, History, Observation};
use lockcheck_protocol::{
    ErrorKind, Hello, HolderInfo, Implementation, Mode, Op, Recovery, Request, Response, Status,
    Vocabulary, Wait,
};

/// A request id with the step and round of the request.
type Tagged = (u64, Option<u32>, Option<u32>);

pub fn history(text: &str) -> History {
    let mut events = Vec::new();
    let mut next_id: HashMap<String, u64> = HashMap::new();
    let mut outstanding: HashMap<String, VecDeque<Tagged>> = HashMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let at_ns = (words[0].parse::<f64>().expect("time in ms") * 1e6).round() as u64;
        let who = words[1].to_owned();
        let (step, round) = words
            .iter()
            .find_map(|w| tag(w))
            .map_or((None, None), |(s, r)| (Some(s), r));
        let kind = match words[2] {
            "spawn" => EventKind::Spawned {
                participant: who,
                pid: words[3].parse().expect("pid"),
            },
            "hello" => EventKind::Hello {
                participant: who,
                hello: hello(words[3]),
            },
            ">" => {
                let id = next_id.entry(who.clone()).or_default();
                *id += 1;
                outstanding
                    .entry(who.clone())
                    .or_default()
                    .push_back((*id, step, round));
                EventKind::Sent {
                    participant: who,
                    request: Request::new(*id, op(words[3])),
                }
            }
            "<#" => EventKind::Received {
                response: response(words[3].parse().expect("id"), &words[4..], line),
                participant: who,
            },
            "<" => {
                let (id, s, r) = outstanding
                    .get_mut(&who)
                    .and_then(VecDeque::pop_front)
                    .expect("an outstanding request");
                let response = response(id, &words[3..], line);
                events.push(Event {
                    at_ns,
                    step: s,
                    round: r,
                    kind: EventKind::Received {
                        participant: who,
                        response,
                    },
                });
                continue;
            }
            "kill" | "term" | "stop" | "cont" => EventKind::Fault {
                participant: Some(who),
                fault: match words[2] {
                    "kill" => Fault::Kill,
                    "term" => Fault::Term,
                    "stop" => Fault::Stop,
                    _ => Fault::Cont,
                },
            },
            "exited" => EventKind::Exited {
                participant: who,
                code: Some(0),
                signal: None,
            },
            "broken" => EventKind::Broken {
                participant: (who != "-").then_some(who),
                reason: BrokenReason::BadLine {
                    message: "expected value at line 1 column 1".into(),
                    line: "hello world".into(),
                },
            },
            "unlink" | "symlink" | "remove_dir" => EventKind::Fault {
                participant: None,
                fault: match words[2] {
                    "unlink" => Fault::Unlink,
                    "symlink" => Fault::Symlink,
                    _ => Fault::RemoveDir,
                },
            },
            "mode" => EventKind::Observed {
                observation: Observation::LockPath {
                    file_type: words[3].to_owned(),
                    mode: u32::from_str_radix(words[4], 8).ok(),
                },
            },
            "leftovers" => EventKind::Observed {
                observation: Observation::Leftovers {
                    paths: words[3..]
                        .iter()
                        .filter(|w| tag(w).is_none())
                        .map(|w| (*w).to_owned())
                        .collect(),
                },
            },
            "victim" => EventKind::Observed {
                observation: Observation::Victim {
                    unchanged: words[3] != "changed",
                    detail: (words[3] == "changed").then(|| "truncated to 0 bytes".into()),
                },
            },
            other => panic!("unknown event `{other}` in `{line}`"),
        };
        events.push(Event {
            at_ns,
            step,
            round,
            kind,
        });
    }
    History {
        seed: 7,
        iteration: 0,
        events,
    }
}

/// `s3` or `s3r1`.
fn tag(word: &str) -> Option<(u32, Option<u32>)> {
    let rest = word.strip_prefix('s')?;
    let (step, round) = match rest.split_once('r') {
        Some((s, r)) => (s, Some(r.parse().ok()?)),
        None => (rest, None),
    };
    Some((step.parse().ok()?, round))
}

fn op(name: &str) -> Op {
    let acquire = |mode, wait| Op::Acquire {
        mode,
        wait,
        timeout_ms: None,
    };
    match name {
        "acquire" => acquire(Mode::Exclusive, Wait::Try),
        "acquire_shared" => acquire(Mode::Shared, Wait::Try),
        "acquire_block" => acquire(Mode::Exclusive, Wait::Block),
        "acquire_timeout" => Op::Acquire {
            mode: Mode::Exclusive,
            wait: Wait::Timeout,
            timeout_ms: Some(300),
        },
        "release" => Op::Release,
        "holder" => Op::Holder,
        "second" => Op::SecondHandle {
            mode: Mode::Exclusive,
        },
        "second_shared" => Op::SecondHandle { mode: Mode::Shared },
        "release_second" => Op::ReleaseSecond,
        "thread_race" => Op::ThreadRace {
            threads: 4,
            hold_ms: 1,
        },
        "exit" => Op::Exit,
        "spawn_child" => Op::SpawnChild,
        "touch_fd" => Op::TouchFd,
        other => panic!("unknown op `{other}`"),
    }
}

fn response(id: u64, words: &[&str], line: &str) -> Response {
    let (status, kind) = match words[0].split_once(':') {
        Some(("error", kind)) => (
            Status::Error,
            Some(ErrorKind::from_name(kind).expect("error kind")),
        ),
        _ => (Status::from_name(words[0]).expect("status"), None),
    };
    let mut r = Response::new(id, status);
    r.kind = kind;
    if let Some(start) = line.find('"') {
        r.message = Some(line[start + 1..line.len() - 1].to_owned());
    }
    for word in &words[1..] {
        if let Some(n) = word.strip_prefix("winners=") {
            r.winners = Some(n.parse().expect("winners"));
        } else if let Some(pid) = word.strip_prefix("holder=") {
            r.holder = Some(HolderInfo {
                pid: pid.parse().ok(),
                ..HolderInfo::default()
            });
        }
    }
    r
}

/// A hello declaring `recovery`: `kernel`, `stale_pid` or `lease=MS`.
fn hello(recovery: &str) -> Hello {
    let recovery = match recovery.split_once('=') {
        Some(("lease", ms)) => Recovery::Lease {
            ms: ms.parse().expect("lease ms"),
        },
        _ if recovery == "stale_pid" => Recovery::StalePid,
        _ => Recovery::Kernel,
    };
    Hello {
        protocol: 1,
        implementation: Implementation {
            name: "x".into(),
            version: "1".into(),
            language: "rust".into(),
        },
        capabilities: Vec::new(),
        recovery,
        timed_start: false,
    }
}
