//! How every schema this crate publishes is written (`schema/*.schema.json`).

/// A schema as its committed file holds it: pretty-printed, ending with a newline.
pub(crate) fn schema_text(schema: schemars::Schema) -> String {
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}
