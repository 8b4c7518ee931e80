//! The topology keys of a scenario file: what they read as, and every error they give.

use lockcheck_model::{
    Host, LockDirFs, LockDirSpec, PidNamespace, Placement, Scenario, View, parse_scenario,
    parse_size,
};

/// A scenario with `top` among its top-level keys and `participant` in participant `a`.
fn with(top: &str, participant: &str) -> String {
    format!(
        "id = \"sample\"\nlevel = \"topology\"\ndescription = \"A sample.\"\n\
         catches = \"nothing\"\nrequires = [\"exclusive\", \"try\"]\n{top}\n\n\
         [[participants]]\nname = \"a\"\n{participant}\n[[participants]]\nname = \"b\"\n\n\
         [[steps]]\nwho = \"a\"\ndo = \"acquire\"\n"
    )
}

#[track_caller]
fn parse(text: &str) -> Scenario {
    parse_scenario("scenarios/sample.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

/// Parses `toml`, which must fail, and snapshots the rendered error under `name`.
#[track_caller]
fn check_err(name: &str, toml: &str) {
    match parse_scenario("scenarios/sample.toml", toml) {
        Ok(scenario) => panic!("expected an error for {name}, got {scenario:#?}"),
        Err(err) => insta::assert_snapshot!(name, err.to_string()),
    }
}

#[test]
fn no_topology_keys_is_the_plain_directory_and_the_runner_s_namespace() {
    let s = parse(&with("", ""));
    assert_eq!(s.lock_dir, LockDirSpec::default());
    assert_eq!(s.topology().placements, [Placement::default(); 2]);
    assert!(s.topology().privileged().is_empty());
    assert!(!s.topology().mounts());
}

#[test]
fn a_full_read_only_tmpfs_and_placements() {
    let s = parse(&with(
        "lock_dir = { fs = \"tmpfs\", size = \"16k\", full = true, read_only = true }",
        "pid_namespace = \"own\"\nview = \"bind_mount\"",
    ));
    assert_eq!(
        s.lock_dir,
        LockDirSpec {
            fs: LockDirFs::Tmpfs {
                size_bytes: 16 * 1024,
                full: true
            },
            read_only: true,
        }
    );
    let a = Placement {
        pid_namespace: PidNamespace::Own,
        view: View::BindMount,
        host: None,
    };
    assert_eq!(s.placement("a"), a);
    assert_eq!(s.placement("b"), Placement::default());
    assert_eq!(
        s.topology().privileged(),
        [
            "a tmpfs mount",
            "a read-only mount",
            "a PID namespace",
            "a bind mount"
        ]
    );
    assert!(s.topology().mounts());
}

#[test]
fn a_symlinked_directory_needs_no_privileges() {
    let s = parse(&with("", "view = \"symlinked_dir\""));
    assert_eq!(s.placement("a").view, View::SymlinkedDir);
    assert!(s.topology().privileged().is_empty());
    assert!(!s.topology().mounts());
}

#[test]
fn an_overlay_lock_dir() {
    let s = parse(&with("lock_dir = { fs = \"overlay\" }", ""));
    assert_eq!(s.lock_dir.fs, LockDirFs::Overlay);
    assert_eq!(s.topology().privileged(), ["an overlay mount"]);
    assert!(s.topology().mounts());
}

#[test]
fn two_hosts_need_fuse_mounts() {
    let s = parse(&with("", "host = \"a\""));
    assert_eq!(s.placement("a").host, Some(Host::A));
    assert_eq!(s.placement("b").host, None);
    assert!(s.topology().fuse());
    assert_eq!(s.topology().privileged(), ["FUSE mounts"]);
    assert!(s.topology().mounts());
}

#[test]
fn sizes() {
    assert_eq!(parse_size("4096"), Some(4096));
    assert_eq!(parse_size("64k"), Some(64 << 10));
    assert_eq!(parse_size("2M"), Some(2 << 20));
    assert_eq!(parse_size("1g"), Some(1 << 30));
    for bad in [
        "",
        "k",
        "1.5k",
        "-1",
        "12kb",
        "99999999999999999999g",
        "17179869184g",
    ] {
        assert_eq!(parse_size(bad), None, "{bad}");
    }
}

#[test]
fn lock_dir_not_a_table() {
    check_err("lock_dir_not_a_table", &with("lock_dir = \"tmpfs\"", ""));
}

#[test]
fn lock_dir_unknown_key() {
    check_err(
        "lock_dir_unknown_key",
        &with(
            "lock_dir = { fs = \"tmpfs\", size = \"4k\", ful = true }",
            "",
        ),
    );
}

#[test]
fn lock_dir_unknown_fs() {
    check_err(
        "lock_dir_unknown_fs",
        &with("lock_dir = { fs = \"nfs\" }", ""),
    );
}

#[test]
fn lock_dir_tmpfs_without_size() {
    check_err(
        "lock_dir_tmpfs_without_size",
        &with("lock_dir = { fs = \"tmpfs\" }", ""),
    );
}

#[test]
fn lock_dir_bad_size() {
    check_err(
        "lock_dir_bad_size",
        &with("lock_dir = { fs = \"tmpfs\", size = \"16 KiB\" }", ""),
    );
}

#[test]
fn lock_dir_zero_size() {
    check_err(
        "lock_dir_zero_size",
        &with("lock_dir = { fs = \"tmpfs\", size = \"0k\" }", ""),
    );
}

#[test]
fn lock_dir_size_above_a_gibibyte() {
    check_err(
        "lock_dir_size_above_a_gibibyte",
        &with("lock_dir = { fs = \"tmpfs\", size = \"2g\" }", ""),
    );
}

#[test]
fn lock_dir_size_on_host() {
    check_err(
        "lock_dir_size_on_host",
        &with("lock_dir = { fs = \"host\", size = \"4k\" }", ""),
    );
}

#[test]
fn lock_dir_read_only_host() {
    check_err(
        "lock_dir_read_only_host",
        &with("lock_dir = { fs = \"host\", read_only = true }", ""),
    );
}

#[test]
fn unknown_pid_namespace() {
    check_err(
        "unknown_pid_namespace",
        &with("", "pid_namespace = \"host\""),
    );
}

#[test]
fn unknown_view() {
    check_err("unknown_view", &with("", "view = \"bind\""));
}

#[test]
fn unknown_host() {
    check_err("unknown_host", &with("", "host = \"c\""));
}

#[test]
fn host_with_a_view() {
    check_err(
        "host_with_a_view",
        &with("", "view = \"bind_mount\"\nhost = \"b\""),
    );
}

#[test]
fn lock_dir_overlay_read_only() {
    check_err(
        "lock_dir_overlay_read_only",
        &with("lock_dir = { fs = \"overlay\", read_only = true }", ""),
    );
}
