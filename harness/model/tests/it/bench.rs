//! The benchmark's figures, on samples whose answers are known.

use lockcheck_model::bench::{
    Change, Contender, Figure, Quantiles, Sample, Spread, compare, metrics, parse_samples,
    summarize,
};

/// An acquisition requested at `requested`, held from `acquired` to `releasing`, released
/// 1 ns later (microseconds, for readability).
fn s(requested: u64, acquired: u64, releasing: u64) -> Sample {
    Sample {
        requested: requested * 1000,
        acquired: acquired * 1000,
        releasing: releasing * 1000,
        released: releasing * 1000 + 1,
    }
}

fn contender(samples: Vec<Sample>, cpu_us: Option<u64>) -> Contender {
    Contender {
        samples,
        cpu_ns: cpu_us.map(|us| us * 1000),
    }
}

/// A waits from 0, B holds 0..10 and releases; A gets it at 13: one handoff of 3 µs. B's
/// second request comes after its release, so its next acquisition is no handoff.
#[test]
fn a_handoff_counts_only_a_waiter_that_was_already_waiting() {
    let a = contender(vec![s(1, 13, 20)], Some(30));
    let b = contender(vec![s(0, 0, 10), s(11, 21, 25)], Some(10));
    let m = metrics(&[a, b]);
    assert_eq!(m.acquisitions, 3);
    assert_eq!(m.handoffs, 2, "A waited for B's first hold, B for A's");
    let handoff = m.handoff_ns.unwrap();
    assert_eq!((handoff.p50, handoff.max), (1000, 3000));
    assert_eq!(m.overlap, None);
    assert_eq!(m.cpu_per_acquisition_ns, Some(40_000.0 / 3.0));
    assert_eq!(m.owner_changes, 1.0);
    // Waits: 0, 12, 10 µs.
    assert_eq!(m.wait_ns.unwrap().max, 12_000);
    assert_eq!(m.window_ns, 25_001);
}

/// Back-to-back reacquisitions by one process, with nobody waiting, are no handoffs.
#[test]
fn an_uncontended_run_has_no_handoffs_and_its_latency_is_request_to_release() {
    let m = metrics(&[contender(vec![s(0, 1, 2), s(3, 4, 5), s(6, 7, 9)], None)]);
    assert_eq!(m.handoffs, 0);
    assert_eq!(m.handoff_ns, None);
    assert_eq!(m.latency_ns.unwrap().max, 3001);
    assert_eq!(m.jain, 1.0);
    assert_eq!(Figure::Jain.of(&m), None, "no fairness with one contender");
    assert_eq!(m.cpu_per_acquisition_ns, None);
    assert!((m.throughput - 3.0 * 1e9 / 9001.0).abs() < 1e-6);
}

/// Jain's index: (Σx)² / (n Σx²). Counts 3 and 1 give 16 / (2 × 10) = 0.8.
#[test]
fn jain_index_of_uneven_counts() {
    let a = contender(vec![s(0, 0, 1), s(2, 2, 3), s(4, 4, 5)], None);
    let b = contender(vec![s(6, 6, 7)], None);
    let m = metrics(&[a, b]);
    assert!((m.jain - 0.8).abs() < 1e-12, "{}", m.jain);
}

/// Two credited holds that overlap are proof of two holders, and name both acquisitions.
#[test]
fn overlapping_holds_are_reported_with_both_acquisitions() {
    let a = contender(vec![s(0, 0, 10)], None);
    let b = contender(vec![s(0, 2, 5), s(6, 12, 13)], None);
    let overlap = metrics(&[a, b]).overlap.expect("an overlap");
    assert_eq!(overlap.first, (0, 0));
    assert_eq!(overlap.second, (1, 0));
    assert_eq!(overlap.overlap_ns, 3000);
}

/// A hold nested inside a long one is found even when a short hold ends in between.
#[test]
fn an_overlap_with_an_earlier_long_hold_is_found() {
    let a = contender(vec![s(0, 0, 100)], None);
    let b = contender(vec![s(0, 1, 2), s(3, 50, 60)], None);
    let overlap = metrics(&[a, b]).overlap.expect("an overlap");
    assert_eq!(overlap.first, (0, 0));
    assert_eq!(overlap.second, (1, 0));
}

#[test]
fn quantiles_are_exact_at_the_maximum() {
    let q = Quantiles::of((1..=100).map(|x| x * 1000)).unwrap();
    assert_eq!(q.max, 100_000);
    assert!((49_900..=50_100).contains(&q.p50), "{q:?}");
    assert!((98_900..=99_100).contains(&q.p99), "{q:?}");
    assert_eq!(Quantiles::of([]), None);
}

#[test]
fn spreads_take_the_median_and_the_range() {
    let spread = Spread::of(&[5.0, 1.0, 3.0, 100.0]).unwrap();
    assert_eq!((spread.median, spread.min, spread.max), (4.0, 1.0, 100.0));
    let m = metrics(&[contender(vec![s(0, 1, 2)], None)]);
    let summary = summarize(&[m.clone(), m]);
    assert_eq!(
        summary[&Figure::LatencyP50].min,
        summary[&Figure::LatencyP50].max
    );
    assert!(!summary.contains_key(&Figure::HandoffP50));
}

/// A change is flagged only beyond the noise: when the two ranges of repeats do not overlap.
#[test]
fn a_baseline_comparison_ignores_changes_within_the_noise() {
    let spread = |min, median, max| Spread { median, min, max };
    let old = spread(10.0, 12.0, 14.0);
    assert_eq!(
        compare(Figure::HandoffP50, old, spread(13.0, 15.0, 16.0)),
        Change::WithinNoise
    );
    assert_eq!(
        compare(Figure::HandoffP50, old, spread(15.0, 16.0, 17.0)),
        Change::Worse
    );
    assert_eq!(
        compare(Figure::Throughput, old, spread(15.0, 16.0, 17.0)),
        Change::Better
    );
    assert_eq!(
        compare(Figure::Throughput, old, spread(1.0, 2.0, 3.0)),
        Change::Worse
    );
}

#[test]
fn well_formed_samples_are_read_back() {
    let text = "lockcheck-bench 1\n10 11 12 13\n13 20 21 22\n";
    let samples = parse_samples(text, 2, (10, 22)).unwrap();
    assert_eq!(samples[1].acquired, 20);
}

/// Every way a samples file can be wrong, with the message a user sees.
#[test]
fn bad_samples_files_are_refused_with_the_line() {
    let cases = [
        ("", 0),
        ("garbage\n1 2 3 4\n", 1),
        ("lockcheck-bench 1\n1 2 3\n", 1),
        ("lockcheck-bench 1\n1 2 3 4 5\n", 1),
        ("lockcheck-bench 1\n1 2 x 4\n", 1),
        ("lockcheck-bench 1\n4 3 2 1\n", 1),
        ("lockcheck-bench 1\n1 2 3 4\n3 4 5 6\n", 2),
        ("lockcheck-bench 1\n1 2 3 4\n", 2),
        ("lockcheck-bench 1\n0 2 3 4\n", 1),
        ("lockcheck-bench 1\n1 2 3 400\n", 1),
        ("lockcheck-bench 1\n1 2 3 4\n5 6 7", 1),
    ];
    let report: Vec<String> = cases
        .iter()
        .map(|(text, expected)| {
            let error = parse_samples(text, *expected, (1, 100)).unwrap_err();
            format!("{text:?} -> {error}")
        })
        .collect();
    insta::assert_snapshot!(report.join("\n"));
}
