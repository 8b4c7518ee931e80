//! The committed JSON Schemas match the types. `LOCKCHECK_BLESS=1` rewrites them.

use std::path::PathBuf;

use lockcheck_protocol::{adapter_message_schema, request_schema};
use serde_json::Value;

use crate::examples;

fn schema_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name)
}

#[track_caller]
fn check_committed(name: &str, schema: Value) {
    let path = schema_path(name);
    let fresh = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("LOCKCHECK_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: regenerate it with `LOCKCHECK_BLESS=1 cargo nextest run -p lockcheck-protocol`",
        path.display()
    );
}

#[test]
fn request_schema_is_committed() {
    check_committed("request.schema.json", request_schema());
}

#[test]
fn adapter_message_schema_is_committed() {
    check_committed("adapter-message.schema.json", adapter_message_schema());
}

/// The flattened `op` must show up as one alternative per op, each naming its tag, so that
/// a schema validator in another language tells an adapter author which fields an op needs.
#[test]
fn request_schema_lists_every_op_with_its_required_fields() {
    let schema = request_schema();
    assert_eq!(schema["required"], serde_json::json!(["id"]));
    assert!(schema["properties"]["id"].is_object());
    let variants = schema["oneOf"].as_array().expect("oneOf of ops");
    let summary: Vec<String> = variants
        .iter()
        .map(|v| {
            let tag = v["properties"]["op"]["const"].as_str().expect("op const");
            let required: Vec<&str> = v["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            format!("{tag}: {}", required.join(", "))
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"));
}

/// Each example request matches exactly one of the schema's op alternatives by tag, and carries
/// every field that alternative requires. (A poor man's validator: no schema crate needed.)
#[test]
fn examples_satisfy_the_required_fields_of_their_op() {
    let schema = request_schema();
    for request in examples::requests() {
        let value = serde_json::to_value(&request).unwrap();
        let matching: Vec<&Value> = schema["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["properties"]["op"]["const"] == value["op"])
            .collect();
        assert_eq!(matching.len(), 1, "{value}");
        for field in matching[0]["required"].as_array().unwrap() {
            assert!(
                value.get(field.as_str().unwrap()).is_some(),
                "{value} lacks {field}"
            );
        }
    }
}
