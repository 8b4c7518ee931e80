//! The bench formats, on a report whose figures the model computed from constructed samples.

use lockcheck_model::bench::{
    BENCH_REPORT_VERSION, BenchCell, BenchReport, BenchRow, Contender, Driver, Machine,
    PlanSummary, Quantiles, Sample, metrics, summarize,
};
use lockcheck_protocol::Implementation;

/// Two contenders taking turns: each holds `hold` µs, and the next one acquires `handoff`
/// µs after the release; `count` acquisitions in all.
fn turns(count: u64, hold: u64, handoff: u64, cpu_us: u64) -> Vec<Contender> {
    let mut contenders = vec![Contender::default(), Contender::default()];
    let mut t = 1_000_000;
    for i in 0..count {
        let acquired = t;
        let releasing = acquired + hold * 1000;
        contenders[(i % 2) as usize].samples.push(Sample {
            requested: acquired.saturating_sub(handoff * 1000 + 500),
            acquired,
            releasing,
            released: releasing + 100,
        });
        t = releasing + handoff * 1000;
    }
    for c in &mut contenders {
        c.cpu_ns = Some(cpu_us * 1000);
    }
    contenders
}

fn solo(count: u64, each: u64) -> Vec<Contender> {
    let samples = (0..count)
        .map(|i| {
            let t = 1_000_000 + i * each * 1000;
            Sample {
                requested: t,
                acquired: t + 200,
                releasing: t + 300,
                released: t + each * 1000 - 10,
            }
        })
        .collect();
    vec![Contender {
        samples,
        cpu_ns: Some(count * each * 900),
    }]
}

fn cell(contenders: u32, repeats: Vec<Vec<Contender>>) -> BenchCell {
    let repeats: Vec<_> = repeats.iter().map(|r| metrics(r)).collect();
    BenchCell {
        contenders,
        hold_us: 0,
        summary: summarize(&repeats),
        repeats,
        broken: None,
    }
}

fn implementation(name: &str, version: &str) -> Option<Implementation> {
    Some(Implementation {
        name: name.to_owned(),
        version: version.to_owned(),
        language: "rust".to_owned(),
    })
}

pub fn report() -> BenchReport {
    BenchReport {
        version: BENCH_REPORT_VERSION,
        lockcheck: "0.1.0".to_owned(),
        machine: Machine {
            os: "linux".to_owned(),
            kernel: "6.1.0".to_owned(),
            cpu: "Test CPU".to_owned(),
            cpus: 2,
            lock_fs: "ext4".to_owned(),
        },
        plan: PlanSummary {
            contenders: vec![1, 2],
            hold_us: vec![0],
            duration_ms: 250,
            repeats: 2,
        },
        rows: vec![
            BenchRow {
                name: "os-floor".to_owned(),
                implementation: implementation("os-floor", "flock"),
                floor: true,
                driver: Some(Driver::Adapter),
                round_trip_ns: None,
                unavailable: None,
                cells: vec![
                    cell(1, vec![solo(1000, 4), solo(1000, 5)]),
                    cell(2, vec![turns(1000, 1, 20, 2000), turns(1000, 1, 30, 2500)]),
                ],
            },
            BenchRow {
                name: "reflock".to_owned(),
                implementation: implementation("reflock", "0.1.0"),
                floor: false,
                driver: Some(Driver::Adapter),
                round_trip_ns: None,
                unavailable: None,
                cells: vec![
                    cell(1, vec![solo(1000, 8), solo(1000, 9)]),
                    cell(2, vec![turns(1000, 2, 24, 3000), turns(1000, 2, 26, 3100)]),
                ],
            },
            BenchRow {
                name: "flock-cli".to_owned(),
                implementation: implementation("flock(1)", "2.38"),
                floor: false,
                driver: Some(Driver::Runner),
                round_trip_ns: Some(Quantiles {
                    p50: 2_300_000,
                    p99: 4_000_000,
                    max: 5_000_000,
                }),
                unavailable: None,
                cells: vec![
                    cell(1, vec![solo(100, 5000)]),
                    BenchCell {
                        contenders: 2,
                        hold_us: 0,
                        summary: Default::default(),
                        repeats: Vec::new(),
                        broken: Some("contender c1: exited before answering".to_owned()),
                    },
                ],
            },
            BenchRow {
                name: "portalocker".to_owned(),
                implementation: None,
                floor: false,
                driver: None,
                round_trip_ns: None,
                unavailable: Some("python3 is not installed".to_owned()),
                cells: Vec::new(),
            },
        ],
    }
}

#[test]
fn terminal_table() {
    insta::assert_snapshot!(lockcheck_report::bench_table(&report()));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(lockcheck_report::bench_markdown(&report()));
}

#[test]
fn charts() {
    insta::assert_snapshot!(
        "throughput_svg",
        lockcheck_report::throughput_svg(&report())
    );
    insta::assert_snapshot!("handoff_svg", lockcheck_report::handoff_svg(&report()));
}

#[test]
fn json_reads_back_and_refuses_other_versions() {
    let report = report();
    let text = lockcheck_report::bench_to_json(&report);
    assert_eq!(lockcheck_report::bench_from_json(&text), Ok(report));
    let other = text.replacen("\"version\": 1", "\"version\": 7", 1);
    insta::assert_snapshot!(lockcheck_report::bench_from_json(&other).unwrap_err(), @"bench report version 7; this lockcheck reads version 1");
    assert_eq!(
        lockcheck_report::bench_from_json("{}").unwrap_err(),
        "not a bench report: no `version`"
    );
}

/// A baseline flags only what moved beyond both runs' ranges.
#[test]
fn baseline_changes() {
    let before = report();
    let mut after = report();
    // reflock's uncontended repeats get twice as slow; nothing else moves.
    after.rows[1].cells[0] = cell(1, vec![solo(1000, 16), solo(1000, 18)]);
    assert!(lockcheck_report::baseline_changes(&before, &before).is_empty());
    insta::assert_snapshot!(lockcheck_report::baseline_changes(&after, &before).join("\n"));
}

/// `schema/bench-report.schema.json` is what the types say. `LOCKCHECK_BLESS=1` rewrites it.
#[test]
fn bench_schema_is_committed() {
    crate::schema::check_committed(
        "bench-report.schema.json",
        &lockcheck_report::bench_schema(),
    );
}
