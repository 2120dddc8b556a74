//! Property-based fuzzing of the two parsers that take untrusted files: stack files and
//! snapshots. No input may panic; every refusal is an error naming the file (and, for stack
//! files, a line that exists). Inputs are mutations of real files (the shipped stacks, a
//! snapshot of the compliant fixture) plus arbitrary text, so the fuzzer reaches deep into the
//! schema instead of stopping at the first byte. Each target runs a bounded number of cases
//! (`TAPAUDIT_FUZZ_CASES`, default 200) so CI time stays fixed; raise it locally for a longer run.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use std::path::Path;

fn cases() -> u32 {
    std::env::var("TAPAUDIT_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
}

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() })
}

const STACKS: &[&str] = &[include_str!("../stacks/dev.toml"), include_str!("../stacks/qa.toml"), include_str!("../fixtures/stacks/strict.toml")];

/// One edit of a text: delete, duplicate or insert at a position, or swap two lines.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceValue(usize, String),
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("=".to_string()),
        Just("[".to_string()),
        Just("]]".to_string()),
        Just("[[suppressions]]\n".to_string()),
        Just("[databases.main]\n".to_string()),
        Just("\"".to_string()),
        Just("'''".to_string()),
        Just("\n".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("18446744073709551616".to_string()),
        Just("1e400".to_string()),
        Just("nan".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("[1, \"x\", {}]".to_string()),
        Just("2026-13-45".to_string()),
        Just("\u{0}".to_string()),
        Just("é\u{202e}".to_string()),
        "[ -~]{0,12}".prop_map(|s| s),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), token()).prop_map(|(a, t)| Edit::Insert(a, t)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<usize>(), token()).prop_map(|(a, t)| Edit::ReplaceValue(a, t)),
    ]
}

fn boundary(text: &str, at: usize) -> usize {
    let mut i = if text.is_empty() { 0 } else { at % (text.len() + 1) };
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, e: &Edit) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match e {
        Edit::Delete(a, n) => {
            let s = boundary(text, *a);
            let end = boundary(text, s + n).max(s);
            format!("{}{}", &text[..s], &text[end..])
        }
        Edit::Insert(a, t) => {
            let s = boundary(text, *a);
            format!("{}{t}{}", &text[..s], &text[s..])
        }
        Edit::DuplicateLine(a) if !lines.is_empty() => {
            let i = a % lines.len();
            let mut l = lines.clone();
            l.insert(i, lines[i]);
            l.join("\n")
        }
        Edit::SwapLines(a, b) if !lines.is_empty() => {
            let mut l = lines.clone();
            l.swap(a % lines.len(), b % lines.len());
            l.join("\n")
        }
        Edit::ReplaceValue(a, t) if !lines.is_empty() => {
            let i = a % lines.len();
            let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            if let Some((k, _)) = l[i].split_once('=') {
                l[i] = format!("{k}= {t}");
            }
            l.join("\n")
        }
        _ => text.to_string(),
    }
}

/// The stack-file contract: accepted, or refused with lines `fuzz.toml:N: ...` where N is a
/// line of the file; never a panic. An accepted stack also builds its desired State and passes
/// through the controls without panicking.
fn check_stack(text: String) -> Result<(), TestCaseError> {
    let line_count = text.lines().count().max(1);
    match crate::spec::parse(Path::new("fuzz.toml"), text) {
        Ok(stack) => {
            let state = crate::spec::desired::desired(&stack);
            let cat = crate::controls::Catalogue::load().expect("catalogue");
            let sel = crate::controls::Selection { frameworks: stack.spec.frameworks.clone(), overrides: stack.spec.parameters.clone() };
            let _ = crate::controls::evaluate(&cat, &state, &sel);
        }
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(!msg.is_empty());
            for line in msg.lines() {
                let rest = line.strip_prefix("fuzz.toml:");
                prop_assert!(rest.is_some(), "error does not name the file: {line}");
                let n: usize =
                    rest.unwrap().split(':').next().unwrap_or_default().parse().map_err(|_| TestCaseError::fail(format!("no line number: {line}")))?;
                prop_assert!(n >= 1 && n <= line_count + 1, "line {n} outside the file ({line_count} lines): {line}");
            }
        }
    }
    Ok(())
}

#[test]
fn stack_file_parser_survives_mutations_of_the_shipped_stacks() {
    runner()
        .run(&(0..STACKS.len(), proptest::collection::vec(edit(), 1..6)), |(i, edits)| {
            let text = edits.iter().fold(STACKS[i].to_string(), |t, e| apply(&t, e));
            check_stack(text)
        })
        .unwrap();
}

#[test]
fn stack_file_parser_survives_arbitrary_text() {
    runner().run(&"(?s).{0,400}", |text: String| check_stack(text)).unwrap();
}

fn snapshot_value() -> Value {
    crate::scan::snapshot_tests::snapshot_json()
}

/// One edit of a JSON document at the `at`-th node (pre-order).
#[derive(Debug, Clone)]
enum JsonEdit {
    Remove(usize),
    Replace(usize, Value),
    Wrap(usize),
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "[ -~]{0,10}".prop_map(Value::String),
        Just(serde_json::json!({"known": null})),
        Just(serde_json::json!({"unknown": 1})),
        Just(serde_json::json!({"known": true, "unknown": "x"})),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
    ]
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        any::<usize>().prop_map(JsonEdit::Remove),
        (any::<usize>(), json_leaf()).prop_map(|(a, v)| JsonEdit::Replace(a, v)),
        any::<usize>().prop_map(JsonEdit::Wrap),
    ]
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Object(m) => m.values().map(count).sum(),
        Value::Array(a) => a.iter().map(count).sum(),
        _ => 0,
    }
}

/// Apply `e` to the node numbered `*n` (counting down); returns true once done.
fn edit_at(v: &mut Value, n: &mut usize, e: &JsonEdit) -> bool {
    let children: Vec<String> = match v {
        Value::Object(m) => m.keys().cloned().collect(),
        Value::Array(a) => (0..a.len()).map(|i| i.to_string()).collect(),
        _ => vec![],
    };
    for key in children {
        if *n == 0 {
            match (v.clone(), e) {
                (Value::Object(_), JsonEdit::Remove(_)) => {
                    v.as_object_mut().unwrap().remove(&key);
                }
                (Value::Array(_), JsonEdit::Remove(_)) => {
                    v.as_array_mut().unwrap().remove(key.parse().unwrap());
                }
                (_, JsonEdit::Replace(_, new)) => *child(v, &key) = new.clone(),
                (_, JsonEdit::Wrap(_)) => {
                    let c = child(v, &key);
                    *c = Value::Array(vec![c.take()]);
                }
                _ => {}
            }
            return true;
        }
        *n -= 1;
        if edit_at(child(v, &key), n, e) {
            return true;
        }
    }
    false
}

fn child<'a>(v: &'a mut Value, key: &str) -> &'a mut Value {
    match v {
        Value::Object(m) => m.get_mut(key).unwrap(),
        Value::Array(a) => &mut a[key.parse::<usize>().unwrap()],
        _ => unreachable!(),
    }
}

fn check_snapshot(text: &str) -> Result<(), TestCaseError> {
    match crate::scan::parse_snapshot("fuzz.json", text) {
        Ok(snap) => {
            let cat = crate::controls::Catalogue::load().expect("catalogue");
            let sel = crate::controls::Selection { frameworks: cat.frameworks.keys().cloned().collect(), overrides: Default::default() };
            let _ = crate::controls::evaluate(&cat, &snap.state, &sel);
        }
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(msg.starts_with("fuzz.json"), "error does not name the file: {msg}");
            prop_assert_eq!(msg.lines().count(), 1, "not one line: {}", msg);
        }
    }
    Ok(())
}

#[test]
fn snapshot_parser_survives_structural_mutations() {
    let base = snapshot_value();
    let nodes = count(&base);
    runner()
        .run(&proptest::collection::vec(json_edit(), 1..4), |edits| {
            let mut v = base.clone();
            for e in &edits {
                let at = match e {
                    JsonEdit::Remove(a) | JsonEdit::Replace(a, _) | JsonEdit::Wrap(a) => *a,
                };
                let mut n = at % nodes;
                edit_at(&mut v, &mut n, e);
            }
            check_snapshot(&v.to_string())
        })
        .unwrap();
}

#[test]
fn snapshot_parser_survives_byte_level_damage() {
    let base = serde_json::to_string_pretty(&snapshot_value()).unwrap();
    runner()
        .run(&proptest::collection::vec(edit(), 1..4), |edits| {
            let text = edits.iter().fold(base.clone(), |t, e| apply(&t, e));
            check_snapshot(&text)
        })
        .unwrap();
}

#[test]
fn a_removed_evidence_field_is_never_accepted() {
    // every leaf field of every resource is required: removing any one must be refused
    let base = snapshot_value();
    let mut paths = Vec::new();
    fn walk(v: &Value, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        if let Value::Object(m) = v {
            for (k, c) in m {
                let mut p = path.clone();
                p.push(k.clone());
                // keys of maps are data, not fields: resources by ARN (`items`), regions of the
                // alias listing, per-method settings, and anything inside an Observed value
                // (tags, policies, attributes); Meta's two optional labels may be absent
                let parent_is_map = path.last().is_some_and(|l| matches!(l.as_str(), "items" | "aliases" | "method_settings" | "known" | "unknown"));
                if !parent_is_map && !matches!(k.as_str(), "name" | "source") && path.len() >= 4 {
                    out.push(p.clone());
                }
                if k != "known" && k != "unknown" {
                    walk(c, p, out);
                }
            }
        }
    }
    walk(&base["state"], vec!["state".into()], &mut paths);
    assert!(paths.len() > 100, "the fixture has many fields ({})", paths.len());
    let mut accepted = Vec::new();
    for p in &paths {
        let mut v = base.clone();
        let (last, parents) = p.split_last().unwrap();
        let mut node = &mut v;
        for k in parents {
            node = node.get_mut(k).unwrap();
        }
        if node.as_object_mut().and_then(|m| m.remove(last)).is_none() {
            continue;
        }
        // Option<T> fields may be absent only where serde treats absence as None: we want none
        if crate::scan::parse_snapshot("fuzz.json", &v.to_string()).is_ok() {
            accepted.push(p.join("."));
        }
    }
    assert!(accepted.is_empty(), "snapshot fields that may silently go missing: {accepted:#?}");
}
