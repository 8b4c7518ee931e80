use super::{DecodeError, FREE, HeldTemplate, MAX_RECORD, Record, STATE_OFFSET};
use proptest::prelude::*;
use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

fn record() -> impl Strategy<Value = Record> {
    (
        any::<bool>(),
        any::<u64>(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        ".{0,40}",
        ".{0,40}",
        (0u64..=u64::from(u32::MAX) * 4, 0u32..1_000_000_000),
        prop_oneof![".{0,200}", "[ -~\n\t\\\\]{0,200}"],
    )
        .prop_map(
            |(held, token, pid, pid_ns, start, boot, host, (secs, nanos), command)| Record {
                held,
                token,
                pid,
                pid_ns,
                start,
                boot,
                host,
                since: UNIX_EPOCH + Duration::new(secs, nanos),
                command,
            },
        )
}

/// The encoder as it was before the per-process template (`format!` for every field), kept
/// to pin the format: records written by the template must be byte for byte what earlier
/// versions wrote and read.
fn encode_with_format(record: &Record) -> String {
    fn escape(out: &mut String, s: &str, max: usize) {
        for c in super::cut(s, max).chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if c.is_ascii_control() => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => out.push(c),
            }
        }
    }
    let since = record.since.duration_since(UNIX_EPOCH).unwrap();
    let mut out = String::from("reflock-holder v1\nstate ");
    out.push_str(if record.held { "held" } else { "free" });
    let _ = write!(
        out,
        "\ntoken {}\npid {}\npidns {}\nstart {}\nboot ",
        record.token, record.pid, record.pid_ns, record.start
    );
    escape(&mut out, &record.boot, 512);
    out.push_str("\nhost ");
    escape(&mut out, &record.host, 512);
    let _ = write!(
        out,
        "\nsince {}.{:09}\ncommand ",
        since.as_secs(),
        since.subsec_nanos()
    );
    escape(&mut out, &record.command, 1024);
    out.push_str("\nend\n");
    out
}

proptest! {
    #[test]
    fn the_template_writes_the_same_bytes_as_the_format_encoder(record in record()) {
        prop_assert_eq!(record.encode(), encode_with_format(&record));
    }

    #[test]
    fn a_padded_record_decodes_the_same_and_has_the_old_length(
        record in record().prop_map(|r| Record { held: true, ..r }),
        extra in 0usize..300,
    ) {
        let template = HeldTemplate::new(record.pid, record.pid_ns, record.start, &record.boot, &record.host, &record.command);
        let plain = record.encode();
        let mut padded = Vec::new();
        template.encode(record.token, record.since, plain.len() + extra, &mut padded);
        prop_assert_eq!(padded.len(), plain.len() + extra);
        prop_assert_eq!(&padded[..plain.len()], plain.as_bytes());
        prop_assert!(padded[plain.len()..].iter().all(|&b| b == b' ' || b == b'\n'));
        prop_assert_eq!(Record::decode(&padded), Ok(record.clone()));
        // A shorter pad_to than the record changes nothing.
        template.encode(record.token, record.since, extra.min(plain.len()), &mut padded);
        prop_assert_eq!(padded, plain.into_bytes());
    }

    #[test]
    fn decode_token_accepts_exactly_what_decode_accepts(
        record in record(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
        mangle in any::<bool>(),
    ) {
        let mut bytes = record.encode().into_bytes();
        if mangle {
            let i = at.index(bytes.len());
            bytes[i] = byte;
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        prop_assert_eq!(
            Record::decode_token(&bytes),
            Record::decode(&bytes).map(|r| r.token)
        );
    }

    #[test]
    fn decode_token_agrees_with_decode_on_garbage(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        prop_assert_eq!(
            Record::decode_token(&bytes),
            Record::decode(&bytes).map(|r| r.token)
        );
    }

    #[test]
    fn encode_then_decode_gives_the_record_back(record in record()) {
        let encoded = record.encode();
        prop_assert!(encoded.len() <= MAX_RECORD);
        prop_assert_eq!(Record::decode(encoded.as_bytes()), Ok(record));
    }

    #[test]
    fn trailing_bytes_of_an_older_longer_record_are_ignored(
        record in record(),
        tail in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = record.encode().into_bytes();
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(Record::decode(&bytes), Ok(record));
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Record::decode(&bytes);
    }

    #[test]
    fn mangled_records_never_panic(record in record(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut bytes = record.encode().into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = Record::decode(&bytes);
    }
}

#[test]
fn release_flips_the_state_word_in_place() {
    let record = Record {
        held: true,
        token: 3,
        pid: 10,
        pid_ns: 12,
        start: 11,
        boot: "b".into(),
        host: "h".into(),
        since: UNIX_EPOCH,
        command: "c".into(),
    };
    let mut bytes = record.encode().into_bytes();
    let at = usize::try_from(STATE_OFFSET).unwrap();
    bytes[at..at + FREE.len()].copy_from_slice(FREE);
    assert_eq!(
        Record::decode(&bytes),
        Ok(Record {
            held: false,
            ..record
        })
    );
}

#[test]
fn empty_and_foreign_files_are_not_records() {
    for bytes in [
        &b""[..],
        b"4121\n",
        b"reflock-holder v1\n",
        b"reflock-holder v2\nstate held\n",
    ] {
        assert!(Record::decode(bytes).is_err(), "{bytes:?}");
    }
    assert_eq!(
        Record::decode(b"x"),
        Err(DecodeError("not a reflock holder record"))
    );
}

#[test]
fn escapes_decode_and_bad_ones_are_refused() {
    let mut record = Record {
        held: true,
        token: 1,
        pid: 2,
        pid_ns: 0,
        start: 3,
        boot: "b\\\u{1}\u{7f}é".into(),
        host: "h\n".into(),
        since: UNIX_EPOCH,
        command: "a\\b \\x41 \u{1b}[0m".into(),
    };
    assert_eq!(
        Record::decode(record.encode().as_bytes()),
        Ok(record.clone())
    );
    for bad in ["\\", "\\q", "\\x4", "\\x41", "\\xg0", "\\xé0", "a\\x0"] {
        record.command = String::new();
        let text = record
            .encode()
            .replace("\ncommand \n", &format!("\ncommand {bad}\n"));
        assert_eq!(
            Record::decode(text.as_bytes()),
            Err(DecodeError("bad escape")),
            "{bad}"
        );
        assert_eq!(
            Record::decode_token(text.as_bytes()),
            Err(DecodeError("bad escape"))
        );
    }
}
