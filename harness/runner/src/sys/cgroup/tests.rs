use super::*;

#[test]
fn the_cgroup2_mount_is_found_among_v1_mounts_and_unescaped() {
    let mountinfo = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 /delegated /sys/fs/cgroup/uni\\040fied rw,relatime shared:9 - cgroup2 cgroup2 rw
";
    assert_eq!(
        cgroup2_mount(mountinfo),
        Some(("/delegated".into(), "/sys/fs/cgroup/uni fied".into()))
    );
    assert_eq!(
        cgroup2_mount("32 31 0:29 / /x rw - cgroup cgroup rw,cpu\n"),
        None
    );
}

#[test]
fn the_runners_cgroup_is_the_unified_line() {
    let text = "9:name=systemd:/\n4:memory:/m\n0::/user.slice/session-1.scope\n";
    assert_eq!(
        unified_cgroup(text).as_deref(),
        Some("/user.slice/session-1.scope")
    );
    assert_eq!(unified_cgroup("4:memory:/m\n"), None);
}

#[test]
fn unescape_leaves_a_lone_backslash() {
    assert_eq!(unescape(r"a\134b\04"), r"a\b\04");
    // Past a byte: left as it is.
    assert_eq!(unescape(r"\777"), r"\777");
}
