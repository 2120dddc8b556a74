use super::*;
use serde::Deserialize;

#[derive(Debug, PartialEq, Deserialize)]
struct Inner {
    label: Option<String>,
    count: u32,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Observed {
    Known(Inner),
    Unknown(String),
}

#[derive(Debug, PartialEq, Deserialize)]
struct Outer {
    note: Option<String>,
    items: Vec<Inner>,
    by_key: std::collections::BTreeMap<String, Observed>,
}

fn strict<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(Strict(&mut de)).map_err(|e| format!("{}: {}", e.path(), e.inner()))
}

#[test]
fn a_missing_option_is_refused_where_plain_serde_reads_none() {
    let text = r#"{"items": [], "by_key": {}}"#;
    assert_eq!(serde_json::from_str::<Outer>(text).unwrap().note, None, "plain serde defaults it: the reason for Strict");
    assert!(strict::<Outer>(text).unwrap_err().contains("missing field `note`"));
    let ok: Outer = strict(r#"{"note": null, "items": [], "by_key": {}}"#).unwrap();
    assert_eq!(ok.note, None, "an explicit null is a value");
}

#[test]
fn missing_fields_are_found_in_sequences_maps_and_enum_variants_with_their_path() {
    let in_seq = r#"{"note": null, "items": [{"label": "a", "count": 1}, {"count": 2}], "by_key": {}}"#;
    assert!(strict::<Outer>(in_seq).unwrap_err().starts_with("items[1]: missing field `label`"));
    let in_variant = r#"{"note": null, "items": [], "by_key": {"k": {"known": {"count": 3}}}}"#;
    assert!(strict::<Outer>(in_variant).unwrap_err().starts_with("by_key.k.known: missing field `label`"));
    let fine =
        r#"{"note": "n", "items": [{"label": null, "count": 1}], "by_key": {"k": {"unknown": "AccessDenied"}, "j": {"known": {"label": "x", "count": 0}}}}"#;
    let o: Outer = strict(fine).unwrap();
    assert_eq!(o.by_key["j"], Observed::Known(Inner { label: Some("x".into()), count: 0 }));
    assert_eq!(o.by_key["k"], Observed::Unknown("AccessDenied".into()));
}

#[test]
fn escaped_keys_and_other_errors_pass_through() {
    // a key with an escape is not borrowed from the input: still recognised
    let escaped = r#"{"no\u0074e": null, "items": [], "by_key": {}}"#;
    assert!(strict::<Outer>(escaped).is_ok());
    assert!(strict::<Outer>(r#"{"note": 1, "items": [], "by_key": {}}"#).unwrap_err().starts_with("note: invalid type"));
    assert!(strict::<Outer>(r#"{"note": null, "items": [{"label": null, "count": -1}], "by_key": {}}"#).unwrap_err().starts_with("items[0].count"));
}

#[test]
fn the_fields_the_model_may_skip_may_be_absent() {
    let meta = r#"{"type": "kms:key", "id": "k", "arn": "arn:k", "region": "r", "account": "1", "tags": {"known": {}}}"#;
    let m: crate::model::Meta = strict(meta).unwrap();
    assert_eq!((m.name, m.source), (None, None));
    let no_tags = r#"{"type": "kms:key", "id": "k", "arn": "arn:k", "region": "r", "account": "1"}"#;
    assert!(strict::<crate::model::Meta>(no_tags).unwrap_err().contains("missing field `tags`"));
}

/// MAY_BE_ABSENT lists exactly the model's `skip_serializing_if` fields, by struct: a new
/// optional label must be added there (or its snapshots would be refused), and nothing else may.
#[test]
fn the_optional_fields_are_exactly_those_the_model_may_skip() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut current = String::new();
        let mut skip_next = false;
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("pub struct ") {
                current = rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap().to_string();
            }
            if line.starts_with("#[serde(") && line.contains("skip_serializing_if") {
                skip_next = true;
            } else if skip_next && line.starts_with("pub ") {
                let field = line.trim_start_matches("pub ").split(':').next().unwrap().trim().to_string();
                found.push((current.clone(), field));
                skip_next = false;
            }
        }
    }
    found.sort();
    let mut listed: Vec<(String, String)> = MAY_BE_ABSENT.iter().map(|(s, f)| (s.to_string(), f.to_string())).collect();
    listed.sort();
    assert_eq!(found, listed);
}
