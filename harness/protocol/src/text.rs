//! Cutting text for messages and transcripts.

/// The longest prefix of `text` that is at most `max_bytes` long and ends on a char boundary.
pub fn head(text: &str, max_bytes: usize) -> &str {
    &text[..text.floor_char_boundary(max_bytes)]
}
