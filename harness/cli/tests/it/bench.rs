//! `lockcheck bench`: a tiny real benchmark of reflock and the floor, and adapters whose
//! samples are wrong.

use std::path::Path;

use serde_json::Value;

use crate::assert_redacted_snapshot;
use crate::support::{lockcheck, write};

/// A tiny bench produces every figure, and the figures agree with each other: counts add up,
/// percentiles are ordered, fairness is an index. No timing is asserted.
#[test]
fn a_tiny_bench_of_reflock_has_every_figure_and_they_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let output = lockcheck()
        .args([
            "bench",
            "--contenders",
            "1,3",
            "--duration",
            "40",
            "--repeats",
            "2",
        ])
        .arg("--report")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("os-floor flock") && table.contains("reflock"),
        "{table}"
    );

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("bench.json")).unwrap())
            .unwrap();
    assert_eq!(report["version"], 1);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["name"].as_str(), rows[0]["floor"].as_bool()),
        (Some("os-floor"), Some(true))
    );
    assert_eq!(rows[1]["name"], "reflock");
    for row in rows {
        assert_eq!(row["driver"], "adapter");
        let cells = row["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 2);
        for cell in cells {
            assert!(cell["broken"].is_null(), "{cell}");
            let n = cell["contenders"].as_u64().unwrap();
            let summary = cell["summary"].as_object().unwrap();
            let mut expected = vec![
                "throughput",
                "latency_p50",
                "latency_p99",
                "wait_max",
                "cpu_per_acquisition",
            ];
            if n > 1 {
                expected.extend(["handoff_p50", "handoff_p99", "handoff_max", "jain"]);
            }
            for figure in expected {
                assert!(
                    summary.contains_key(figure),
                    "{figure} missing at N={n}: {cell}"
                );
            }
            let repeats = cell["repeats"].as_array().unwrap();
            assert_eq!(repeats.len(), 2);
            for m in repeats {
                let acquisitions = m["acquisitions"].as_f64().unwrap();
                assert!(acquisitions > 0.0);
                let window = m["window_ns"].as_f64().unwrap();
                let throughput = m["throughput"].as_f64().unwrap();
                assert!((throughput * window / 1e9 - acquisitions).abs() < 1.0);
                assert!(m["handoffs"].as_f64().unwrap() <= acquisitions - 1.0);
                let jain = m["jain"].as_f64().unwrap();
                assert!(jain > 1.0 / n as f64 - 1e-9 && jain <= 1.0 + 1e-9, "{jain}");
                assert!(m["overlap"].is_null(), "two holders: {m}");
                assert!(m["cpu_per_acquisition_ns"].as_f64().unwrap() > 0.0);
                for q in ["latency_ns", "wait_ns", "handoff_ns"] {
                    if m[q].is_null() {
                        assert!(q == "handoff_ns" && n == 1);
                        continue;
                    }
                    let (p50, p99, max) = (&m[q]["p50"], &m[q]["p99"], &m[q]["max"]);
                    assert!(
                        p50.as_u64() <= p99.as_u64() && p99.as_u64() <= max.as_u64(),
                        "{q}: {m}"
                    );
                }
                // Every wait ends in an acquisition, so no wait is longer than the window.
                assert!(m["wait_ns"]["max"].as_f64().unwrap() <= window);
            }
        }
    }
    let markdown = std::fs::read_to_string(dir.path().join("bench.md")).unwrap();
    assert!(markdown.contains("| reflock 0.1.0 |"), "{markdown}");
    for svg in ["throughput.svg", "handoff.svg"] {
        let text = std::fs::read_to_string(dir.path().join(svg)).unwrap();
        assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
        assert!(text.contains("reflock"), "{svg} has no reflock series");
    }
}

/// A Python adapter that declares `bench` and answers it the way `mode` says.
fn bad_bench_manifest(dir: &Path, mode: &str) -> std::path::PathBuf {
    let script = r#"
import json, os, sys, time
mode = sys.argv[1]
if mode == "flood":
    sys.stderr.write("about to flood\n")
    sys.stdout.write("x" * 1100000)
    sys.stdout.flush()
    time.sleep(30)
print(json.dumps({"type": "hello", "protocol": 1,
    "implementation": {"name": "bad-bench", "version": "0", "language": "python"},
    "capabilities": ["exclusive", "block", "bench"], "recovery": {"kind": "kernel"}}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    if request["op"] != "bench":
        print(json.dumps({"type": "response", "id": request["id"], "status": "ok"}), flush=True)
        continue
    t = time.monotonic_ns()
    good = "%d %d %d %d\n" % (t, t + 1, t + 2, t + 3)
    if mode == "overlap":
        # Claims to hold from its start until both contenders have started (each leaves a
        # marker beside its samples file), so the two claimed holds overlap however the
        # contenders are scheduled.
        here = os.path.dirname(request["samples"])
        open(os.path.join(here, "started-%d" % os.getpid()), "w").close()
        deadline = time.monotonic() + 10
        while len([n for n in os.listdir(here) if n.startswith("started-")]) < 2:
            if time.monotonic() > deadline:
                break
            time.sleep(0.001)
        end = time.monotonic_ns()
        good = "%d %d %d %d\n" % (t, t + 1, end, end + 1)
    body = {
        "garbage": "lockcheck-bench 1\n" + good + "not numbers at all\n",
        "truncated": "lockcheck-bench 1\n" + good,
        "overlap": "lockcheck-bench 1\n" + good,
        "clock": "lockcheck-bench 1\n1 2 3 4\n",
    }.get(mode)
    if mode == "dies":
        sys.stderr.write("Traceback: the lock exploded\n")
        sys.exit(3)
    if body is not None:
        with open(request["samples"], "w") as f:
            f.write(body)
    count = {"truncated": 2}.get(mode, 1 if mode in ("overlap", "clock") else 2)
    print(json.dumps({"type": "response", "id": request["id"], "status": "ok",
        "acquisitions": count}), flush=True)
"#;
    write(dir, "bad_bench.py", script);
    write(
        dir,
        &format!("{mode}.toml"),
        &format!(
            "name = \"bad-bench-{mode}\"\ncommand = [\"python3\", \"{{root}}/bad_bench.py\", \"{mode}\"]\n"
        ),
    )
}

fn bench_once(manifest: &Path, contenders: &str) -> (Option<i32>, String) {
    let output = lockcheck()
        .args([
            "bench",
            "--contenders",
            contenders,
            "--duration",
            "20",
            "--repeats",
            "1",
            "--impl",
        ])
        .arg(manifest)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// Garbage, truncated, missing or off-clock samples, and an adapter that dies mid-bench:
/// each a `broken` cell with the reason (exit 101), never a crash or a hang.
#[test]
fn bad_samples_make_the_cell_broken_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = Vec::new();
    for mode in ["garbage", "truncated", "missing", "clock", "dies"] {
        let manifest = bad_bench_manifest(dir.path(), mode);
        let (code, stdout) = bench_once(&manifest, "1");
        assert_eq!(code, Some(101), "{mode}: {stdout}");
        let notes: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("bad-bench") || l.starts_with("  "))
            .filter(|l| !l.starts_with("  implementation") && !l.starts_with("  os-floor"))
            .collect();
        report.push(format!("{mode}:\n{}", without_clock(&notes.join("\n"))));
    }
    assert_redacted_snapshot!("bad_samples", report.join("\n"));
}

/// The runner's clock reading in a message, which differs in every run.
fn without_clock(text: &str) -> String {
    match text.split_once("sent the request (") {
        Some((head, tail)) => {
            let rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{head}sent the request (<clock>{rest}")
        }
        None => text.to_owned(),
    }
}

/// An adapter whose first line is over the protocol's limit is not measured, and told why
/// with its stderr, not reported as having exited: it is still running.
#[test]
fn an_over_long_hello_is_not_called_an_exit() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = bad_bench_manifest(dir.path(), "flood");
    let (_, stdout) = bench_once(&manifest, "1");
    let note: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("over the protocol's limit") || l.contains("about to flood"))
        .collect();
    assert_eq!(note.len(), 2, "{stdout}");
}

/// Samples of two contenders that say both held the lock at once are a finding of the
/// benchmark (exit 100), naming both acquisitions.
#[test]
fn overlapping_samples_are_reported_as_two_holders() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = bad_bench_manifest(dir.path(), "overlap");
    let (code, stdout) = bench_once(&manifest, "2");
    assert_eq!(code, Some(100), "{stdout}");
    let finding = stdout
        .lines()
        .find(|l| l.starts_with("FINDING"))
        .unwrap_or_default();
    assert!(
        finding.starts_with(
            "FINDING bad-bench-overlap at 2 contenders: two holders at once: contender c"
        ),
        "{stdout}"
    );
}

/// An adapter without `bench` is driven by the runner, with the round trip shown beside it;
/// a lock that grants every acquire is then caught by its own samples. Each contender holds
/// 20 ms of every cycle of about 25 ms (the round trips of a shell adapter are a few ms), so
/// two contenders running together must overlap: more than half the time each.
#[test]
fn a_driven_adapter_shows_its_round_trip_and_a_lock_that_locks_nothing_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = crate::support::noop_manifest(dir.path());
    let report = dir.path().join("out");
    let output = lockcheck()
        .args([
            "bench",
            "--contenders",
            "1,2",
            "--hold-us",
            "20000",
            "--duration",
            "100",
            "--repeats",
            "1",
        ])
        .arg("--impl")
        .arg(&manifest)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(100), "{stdout}");
    assert!(stdout.contains("noop 0 [driven]"), "{stdout}");
    assert!(
        stdout
            .contains("noop: driven by the runner, so every figure includes protocol round trips"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FINDING noop at 2 contenders: two holders at once"),
        "{stdout}"
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("bench.json")).unwrap()).unwrap();
    let row = &json["rows"][1];
    assert_eq!(row["driver"], "runner");
    assert!(row["round_trip_ns"]["p50"].as_u64().unwrap() > 0);
}

/// A saved baseline is found again by name and compared with; the names stay under the
/// target directory.
#[test]
fn a_saved_baseline_is_compared_with() {
    let target = tempfile::tempdir().unwrap();
    let tiny = [
        "bench",
        "--contenders",
        "1",
        "--duration",
        "20",
        "--repeats",
        "2",
    ];
    let saved = lockcheck()
        .env("CARGO_TARGET_DIR", target.path())
        .args(tiny)
        .args(["--save-baseline", "before"])
        .output()
        .unwrap();
    assert_eq!(saved.status.code(), Some(0));
    let file = target.path().join("lockcheck-bench/baselines/before.json");
    assert!(file.is_file(), "{}", String::from_utf8_lossy(&saved.stdout));

    let compared = lockcheck()
        .env("CARGO_TARGET_DIR", target.path())
        .args(tiny)
        .args(["--baseline", "before"])
        .output()
        .unwrap();
    assert_eq!(compared.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&compared.stdout);
    assert!(stdout.contains("against baseline `before`"), "{stdout}");
}

/// An adapter that can only try is not measured, and says why: the benchmark never sends it
/// an op it did not declare (this one answers any acquire with an error, which would make the
/// cell broken).
#[test]
fn an_adapter_without_blocking_acquires_is_not_measured() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import json, sys
print(json.dumps({"type": "hello", "protocol": 1,
    "implementation": {"name": "try-only", "version": "0", "language": "python"},
    "capabilities": ["exclusive", "try"], "recovery": {"kind": "kernel"}}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    status = "error" if request["op"] == "acquire" else "ok"
    print(json.dumps({"type": "response", "id": request["id"], "status": status}), flush=True)
"#;
    write(dir.path(), "try_only.py", script);
    let manifest = write(
        dir.path(),
        "try-only.toml",
        "name = \"try-only\"\ncommand = [\"python3\", \"{root}/try_only.py\"]\n",
    );
    let (code, stdout) = bench_once(&manifest, "1,2");
    assert_eq!(code, Some(0), "{stdout}");
    let why: Vec<&str> = stdout.lines().filter(|l| l.contains("try-only")).collect();
    assert_redacted_snapshot!("not_measured", why.join("\n"));
}
