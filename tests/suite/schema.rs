//! The committed SDL is the partners' data dictionary: it must match the code
//! and describe everything.

use serde_json::Value;
use std::path::PathBuf;

fn committed_sdl_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql")
}

#[test]
fn committed_schema_matches_the_code() {
    let code = api::schema::sdl();
    let path = committed_sdl_path();
    if std::env::var("UPDATE_SCHEMA").is_ok() {
        std::fs::write(&path, &code).expect("write schema.graphql");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == code,
        "schema.graphql differs from the schema built by the code; regenerate it with \
         `cargo run -q -- schema > schema.graphql` (or `UPDATE_SCHEMA=1 cargo test`) and review the diff"
    );
}

/// Every type, field, argument, input field and enum value of the schema, with its description.
fn undocumented(schema: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    let described = |v: &Value| v["description"].as_str().is_some_and(|d| !d.trim().is_empty());
    for ty in schema["types"].as_array().expect("types") {
        let name = ty["name"].as_str().unwrap_or("");
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(format!("type {name}"));
        }
        for field in ty["fields"].as_array().into_iter().flatten() {
            let field_name = field["name"].as_str().unwrap_or("");
            if !described(field) {
                missing.push(format!("field {name}.{field_name}"));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if !described(arg) {
                    missing.push(format!(
                        "argument {name}.{field_name}({})",
                        arg["name"].as_str().unwrap_or("")
                    ));
                }
            }
        }
        for field in ty["inputFields"].as_array().into_iter().flatten() {
            if !described(field) {
                missing.push(format!("input field {name}.{}", field["name"].as_str().unwrap_or("")));
            }
        }
        for value in ty["enumValues"].as_array().into_iter().flatten() {
            if !described(value) {
                missing.push(format!("enum value {name}.{}", value["name"].as_str().unwrap_or("")));
            }
        }
    }
    missing
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_is_described() {
    let query = r#"{ __schema { types { name description
        fields(includeDeprecated: true) { name description args { name description } }
        inputFields { name description }
        enumValues(includeDeprecated: true) { name description } } } }"#;
    let response = api::schema::build().execute(query).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().expect("json");
    let missing = undocumented(&data["__schema"]);
    assert!(
        missing.is_empty(),
        "undocumented schema elements:\n{}",
        missing.join("\n")
    );
}

#[tokio::test]
async fn the_description_check_notices_a_missing_description() {
    let schema = serde_json::json!({ "types": [
        { "name": "Thing", "description": "A thing.", "fields": [ { "name": "size", "description": null, "args": [] } ] }
    ]});
    assert_eq!(undocumented(&schema), vec!["field Thing.size".to_owned()]);
}
