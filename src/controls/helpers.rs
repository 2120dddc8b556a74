//! Small pure helpers shared by controls.

use serde_json::Value;

/// True for a KMS key reference that is AWS-managed (`alias/aws/...`) or absent.
pub fn is_aws_managed_key(key: Option<&str>) -> bool {
    match key {
        None => true,
        Some(k) => k.is_empty() || k.contains("alias/aws/"),
    }
}

/// Statements of a policy document as a list (a single statement object counts as one).
pub fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => vec![],
    }
}

/// A string-or-list policy field as a list of strings.
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => vec![],
    }
}

/// True when a statement's Principal is `*` or contains `{"AWS": "*"}`.
pub fn has_wildcard_principal(statement: &Value) -> bool {
    match statement.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => m.get("AWS").map(|v| string_list(Some(v)).iter().any(|p| p == "*")).unwrap_or(false),
        _ => false,
    }
}

/// True when the statement has a Condition block (which may narrow a wildcard principal).
pub fn has_condition(statement: &Value) -> bool {
    statement.get("Condition").is_some_and(|c| c.as_object().is_some_and(|m| !m.is_empty()))
}

pub fn is_allow(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}
