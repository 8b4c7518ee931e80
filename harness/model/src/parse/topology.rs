//! The topology keys of a scenario file: `lock_dir = { fs = "tmpfs", size = "16k", ... }` at
//! the top, `pid_namespace`, `view` and `host` in a participant.

use lockcheck_protocol::Vocabulary;

use crate::toml_read::{Result, Table, one_of};
use crate::topology::{Host, LockDirFs, LockDirSpec, PidNamespace, Placement, View, parse_size};

/// The keys of a scenario's `lock_dir` table.
pub(super) const LOCK_DIR_KEYS: &[&str] = &["fs", "size", "full", "read_only"];
/// The largest tmpfs a scenario may ask for: 1 GiB.
const MAX_TMPFS_BYTES: u64 = 1 << 30;
const FILE_SYSTEMS: &[&str] = &["host", "tmpfs", "overlay"];

/// The scenario's `lock_dir`, or the plain directory when it has none.
pub(super) fn lock_dir(top: &Table<'_, '_>) -> Result<LockDirSpec> {
    let expected = "a table such as `{ fs = \"tmpfs\", size = \"16k\" }`";
    let Some(table) = top.table("lock_dir", expected, "`lock_dir`")? else {
        return Ok(LockDirSpec::default());
    };
    let doc = table.doc;
    table.allow(LOCK_DIR_KEYS, "`lock_dir`")?;
    let fs_expected = one_of(FILE_SYSTEMS.iter().copied());
    let (fs_name, fs_field) = table.required_str("fs", &fs_expected)?;
    let size_expected =
        "a size in bytes from 1 to 1g, with an optional `k`, `m` or `g` suffix, such as `\"16k\"`";
    let size = match table.str("size", size_expected)? {
        Some((text, field)) => match parse_size(text) {
            Some(bytes) if bytes == 0 || bytes > MAX_TMPFS_BYTES => {
                return Err(doc.err(
                    field.span(),
                    format!("`{text}` is outside the range of a scenario's tmpfs"),
                    size_expected,
                ));
            }
            None => {
                return Err(doc.err(
                    field.span(),
                    format!("`{text}` is not a size tmpfs can have"),
                    size_expected,
                ));
            }
            Some(bytes) => Some((bytes, field)),
        },
        None => None,
    };
    let full = table.bool("full")?;
    let read_only = table.bool("read_only")?.unwrap_or(false);
    let fs = match fs_name {
        "tmpfs" => {
            let (size_bytes, _) = size.ok_or_else(|| {
                doc.err(
                    table.span.clone(),
                    "a tmpfs `lock_dir` has no `size`",
                    size_expected,
                )
            })?;
            LockDirFs::Tmpfs {
                size_bytes,
                full: full.unwrap_or(false),
            }
        }
        "host" | "overlay" => {
            // An overlay could be remounted read-only, but no scenario needs it yet.
            let overlay_read_only = fs_name == "overlay" && read_only;
            let only_tmpfs = [
                ("size", size.is_some()),
                ("full", full.is_some()),
                ("read_only", overlay_read_only),
            ];
            if let Some((key, _)) = only_tmpfs.iter().find(|(_, present)| *present) {
                let field = table.field(key).expect("the key is present");
                return Err(doc.err(
                    field.key_span,
                    format!("`{key}` applies only to `fs = \"tmpfs\"`"),
                    format!("no `{key}` key, or `fs = \"tmpfs\"`"),
                ));
            }
            if read_only {
                // A read-only remount of the temp dir's own file system would reach far
                // beyond the scenario.
                return Err(doc.err(
                    table.field("read_only").expect("present").key_span,
                    "`read_only` needs a file system mounted for the scenario",
                    "`fs = \"tmpfs\"`",
                ));
            }
            if fs_name == "overlay" {
                LockDirFs::Overlay
            } else {
                LockDirFs::Host
            }
        }
        other => {
            return Err(doc.err(
                fs_field.span(),
                format!("unknown file system `{other}`"),
                fs_expected,
            ));
        }
    };
    Ok(LockDirSpec { fs, read_only })
}

/// A participant's `pid_namespace`, `view` and `host`.
pub(super) fn placement(table: &Table<'_, '_>) -> Result<Placement> {
    let ns_expected = one_of(PidNamespace::names());
    let pid_namespace = table
        .named::<PidNamespace>("pid_namespace", "PID namespace", &ns_expected)?
        .unwrap_or_default();
    let view_expected = one_of(View::names());
    let view = table
        .named::<View>("view", "view", &view_expected)?
        .unwrap_or_default();
    let host_expected = one_of(Host::names());
    let host = table.named::<Host>("host", "host", &host_expected)?;
    if host.is_some() && view != View::Direct {
        // A host's FUSE mount is its path to the lock directory already.
        return Err(table.doc.err(
            table
                .field("view")
                .expect("a view other than direct is set")
                .key_span,
            "`view` and `host` are two paths to the lock directory; a participant has one",
            "`view` or `host`, not both",
        ));
    }
    Ok(Placement {
        pid_namespace,
        view,
        host,
    })
}
