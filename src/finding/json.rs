//! [`Json`]: a finding's evidence, held compactly.
//!
//! A `serde_json::Value` object (an IndexMap, for key order) costs several hundred bytes even
//! for two keys, and a passing finding's evidence is the same value on both sides; at 200,000
//! findings that was most of a scan's memory. `Json` keeps the same data in boxed slices, in
//! order, and shares arrays, objects and strings between clones (a passing finding's expected
//! side is its observed side). It serializes exactly as the `Value` it was made from.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};
use std::sync::Arc;

/// A JSON value: null, bool, number, string, array or object (keys in their order).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Json {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(Arc<str>),
    Array(Arc<[Json]>),
    Object(Arc<[(Box<str>, Json)]>),
}

static NULL: Json = Json::Null;

impl Json {
    /// The value of `key` when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(entries) => entries.iter().find(|(k, _)| &**k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The keys, in order, when this is an object.
    pub fn keys(&self) -> Option<impl Iterator<Item = &str>> {
        match self {
            Json::Object(entries) => Some(entries.iter().map(|(k, _)| &**k)),
            _ => None,
        }
    }

    /// The same value as a `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.to_string()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(entries) => Value::Object(entries.iter().map(|(k, v)| (k.to_string(), v.to_value())).collect()),
        }
    }
}

impl From<Value> for Json {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => Json::Number(n),
            Value::String(s) => Json::String(s.into()),
            Value::Array(items) => Json::Array(items.into_iter().map(Json::from).collect()),
            Value::Object(map) => Json::Object(map.into_iter().map(|(k, v)| (k.into_boxed_str(), Json::from(v))).collect()),
        }
    }
}

/// `json["key"]`: the value, or null when this is not an object or has no such key (as for a
/// `serde_json::Value`).
impl std::ops::Index<&str> for Json {
    type Output = Json;
    fn index(&self, key: &str) -> &Json {
        self.get(key).unwrap_or(&NULL)
    }
}

impl PartialEq<Value> for Json {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Json::Null, Value::Null) => true,
            (Json::Bool(a), Value::Bool(b)) => a == b,
            (Json::Number(a), Value::Number(b)) => a == b,
            (Json::String(a), Value::String(b)) => **a == **b,
            (Json::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y),
            (Json::Object(a), Value::Object(b)) => a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| **ka == **kb && va == vb),
            _ => false,
        }
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(v) => s.serialize_str(v),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries.iter() {
                    map.serialize_entry(&**k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(Json::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn samples() -> Vec<Value> {
        vec![
            json!(null),
            json!(true),
            json!(-3),
            json!(18446744073709551615u64),
            json!(1.5),
            json!("a \"quoted\" ünicode string"),
            json!([]),
            json!({}),
            // key order is kept, not sorted
            json!({"z": 1, "a": [1, {"y": null, "b": "x"}], "m": {"k": [true, false]}}),
        ]
    }

    #[test]
    fn serializes_exactly_as_the_value() {
        for v in samples() {
            let j = Json::from(v.clone());
            assert_eq!(serde_json::to_string(&j).unwrap(), serde_json::to_string(&v).unwrap(), "{v}");
            assert_eq!(serde_json::to_string_pretty(&j).unwrap(), serde_json::to_string_pretty(&v).unwrap(), "{v}");
            assert_eq!(j.to_value(), v);
            assert_eq!(j, v);
            let back: Json = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
            assert_eq!(back, j);
        }
    }

    #[test]
    fn equality_with_a_value_is_exact() {
        let j = Json::from(json!({"a": 1, "b": 2}));
        assert_ne!(j, json!({"b": 2, "a": 1}), "order differs: not the same document");
        assert_ne!(j, json!({"a": 1}));
        assert_ne!(j, json!({"a": 1, "b": 2, "c": 3}));
        assert_ne!(Json::from(json!([1, 2])), json!([1, 2, 3]));
        assert_ne!(Json::from(json!("1")), json!(1));
        assert_ne!(Json::Null, json!(false));
    }

    #[test]
    fn index_and_get() {
        let j = Json::from(json!({"field": "rotation", "n": 3}));
        assert_eq!(j["field"].as_str(), Some("rotation"));
        assert_eq!(j["missing"], Json::Null);
        assert_eq!(Json::from(json!([1]))["field"], Json::Null);
        assert_eq!(j.keys().map(|k| k.collect::<Vec<_>>()), Some(vec!["field", "n"]));
        assert!(Json::Bool(true).keys().is_none());
    }
}
