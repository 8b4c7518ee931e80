//! The exit status of judged runs: one rule for `run` and `matrix`.

use lockcheck_model::Judgement;

use super::Exit;

#[track_caller]
fn check(judgements: &[Judgement], want: Exit) {
    assert_eq!(Exit::of(judgements.iter().copied()), want, "{judgements:?}");
}

#[test]
fn failures_beat_broken_beats_the_rest() {
    use Judgement::*;
    check(&[], Exit::Ok);
    check(&[Pass, Skip, Xfail, XfailNotShown], Exit::Ok);
    check(&[Pass, Broken, Skip], Exit::Broken);
    check(&[Broken, Fail], Exit::Failed);
    check(&[Xpass, Broken], Exit::Failed);
    check(&[Pass, Xpass], Exit::Failed);
}
