//! `junit.xml`.

use lockcheck_report::junit;

use crate::fixture;

#[test]
fn every_verdict() {
    let run = fixture::run();
    insta::assert_snapshot!(junit(&run, &fixture::cells(&run)));
}

/// An expected failure passes with a note, a stale expectation fails, and a failure by
/// another check than the expected one fails with the reason.
#[test]
fn judged_against_expectations() {
    let run = fixture::run();
    insta::assert_snapshot!(junit(&run, &fixture::judged_cells(&run)));
}
