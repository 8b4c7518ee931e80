//! `bench`: the loop inside the adapter and the samples file it leaves.

use lockcheck_protocol::{ErrorKind, Status};

use crate::support::{only, serve_all};

fn bench_line(id: u64, max: u64, samples: &std::path::Path) -> String {
    format!(
        "{{\"id\":{id},\"op\":\"bench\",\"hold_us\":0,\"duration_ms\":50,\
         \"max_acquisitions\":{max},\"samples\":{}}}\n",
        serde_json::to_string(samples.to_str().unwrap()).unwrap()
    )
}

/// The loop runs in the adapter and leaves one ordered, clock-stamped line per
/// acquisition, as many as the answer says, and stops at `max_acquisitions`.
#[test]
fn bench_writes_one_ordered_sample_per_acquisition() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("c0.samples");
    let before = lockcheck_protocol::monotonic_ns();
    let response = only(serve_all(&bench_line(1, 500, &samples)));
    let after = lockcheck_protocol::monotonic_ns();
    assert_eq!(response.status, Status::Ok, "{response:?}");
    assert_eq!(response.acquisitions, Some(500));
    assert!(response.cpu_ns.is_some());
    let text = std::fs::read_to_string(&samples).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(lockcheck_protocol::BENCH_SAMPLES_HEADER));
    let stamps: Vec<Vec<u64>> = lines
        .map(|l| l.split(' ').map(|n| n.parse().unwrap()).collect())
        .collect();
    assert_eq!(stamps.len(), 500);
    let mut last = before;
    for s in &stamps {
        assert_eq!(s.len(), 4);
        assert!(
            last <= s[0] && s[0] <= s[1] && s[1] <= s[2] && s[2] <= s[3],
            "{s:?}"
        );
        last = s[3];
    }
    assert!(last <= after);
}

/// A samples path that cannot be created is an `io` error, not a crash.
#[test]
fn bench_answers_an_unwritable_samples_file_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("missing").join("c0.samples");
    let response = only(serve_all(&bench_line(1, 3, &samples)));
    assert_eq!(response.status, Status::Error);
    assert_eq!(response.kind, Some(ErrorKind::Io));
}
