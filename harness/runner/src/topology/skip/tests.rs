use super::reason;

#[test]
fn a_topology_that_needs_nothing_is_never_skipped() {
    assert_eq!(reason(&[], Some("the runner is not root")), None);
}

#[test]
fn a_privileged_runner_skips_nothing() {
    assert_eq!(reason(&["a tmpfs mount"], None), None);
}

#[test]
fn the_reason_names_every_need_and_what_is_lacking() {
    insta::assert_snapshot!(
        reason(
            &["a tmpfs mount", "a read-only mount", "a PID namespace"],
            Some("the runner lacks CAP_SYS_ADMIN (run it as root)")
        )
        .unwrap(),
        @"the scenario needs a tmpfs mount, a read-only mount and a PID namespace, and the runner lacks CAP_SYS_ADMIN (run it as root)"
    );
    insta::assert_snapshot!(
        reason(&["a bind mount"], Some("mounts and namespaces need Linux")).unwrap(),
        @"the scenario needs a bind mount, and mounts and namespaces need Linux"
    );
}

#[test]
fn a_network_topology_without_fuse_names_what_is_missing() {
    insta::assert_snapshot!(
        reason(
            &["FUSE mounts"],
            Some("bindfs, its FUSE passthrough, is not installed (`apt-get install bindfs`)")
        )
        .unwrap(),
        @"the scenario needs FUSE mounts, and bindfs, its FUSE passthrough, is not installed (`apt-get install bindfs`)"
    );
}
