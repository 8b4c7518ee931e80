use lockcheck_protocol::head;

#[test]
fn head_never_splits_a_char() {
    assert_eq!(head("abc", 10), "abc");
    assert_eq!(head("abc", 2), "ab");
    assert_eq!(head("aé", 2), "a");
    assert_eq!(head("aé", 3), "aé");
    assert_eq!(head("", 0), "");
}
