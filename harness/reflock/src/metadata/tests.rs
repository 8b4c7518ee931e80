use super::{DecodeError, FREE, MAX_RECORD, Record, STATE_OFFSET};
use proptest::prelude::*;
use std::time::{Duration, UNIX_EPOCH};

fn record() -> impl Strategy<Value = Record> {
    (
        any::<bool>(),
        any::<u64>(),
        any::<u32>(),
        any::<u64>(),
        ".{0,40}",
        ".{0,40}",
        (0u64..=u64::from(u32::MAX) * 4, 0u32..1_000_000_000),
        prop_oneof![".{0,200}", "[ -~\n\t\\\\]{0,200}"],
    )
        .prop_map(
            |(held, token, pid, start, boot, host, (secs, nanos), command)| Record {
                held,
                token,
                pid,
                start,
                boot,
                host,
                since: UNIX_EPOCH + Duration::new(secs, nanos),
                command,
            },
        )
}

proptest! {
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
