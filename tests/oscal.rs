//! `--format oscal` through the built binary, offline: `scan --from-snapshot` of a saved
//! snapshot with failing findings writes tapaudit.json and tapaudit.oscal.json; the OSCAL
//! document is read by compliance-trestle (a real OSCAL implementation whose models are
//! generated from NIST's schema; installed by scripts/oscal-venv.sh into .tools/oscal-venv),
//! and every failing finding of the JSON report (control + resource ARN) must be there, as an
//! observation of a not-satisfied finding with a risk that carries the remediation.
//!
//! The fixture fixtures/snapshots/noncompliant.json was saved from the emulator:
//! `provision --stack fixtures/stacks/noncompliant.toml --allow-noncompliant`, then
//! `scan --stack fixtures/stacks/noncompliant.toml --save-snapshot …`. Take it again the same
//! way when the snapshot version changes.
//!
//! Update the snapshot of the small document: `INSTA_UPDATE=always cargo test --test oscal`.

mod support;

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::Emulator;

const FIXTURE: &str = "fixtures/snapshots/noncompliant.json";

/// The python of the trestle venv (created on first use).
fn trestle_python() -> PathBuf {
    let out = Command::new("bash").arg(support::root().join("scripts/oscal-venv.sh")).output().expect("run scripts/oscal-venv.sh");
    assert!(out.status.success(), "scripts/oscal-venv.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Read `path` with trestle's AssessmentResults model (raises on any schema violation), then
/// list, from the parsed model, each (finding target, state, reason, observation control id,
/// observation status, subject title, risk remediation count) row.
const READ: &str = r#"
import json, pathlib, sys
from trestle.oscal.assessment_results import AssessmentResults
ar = AssessmentResults.oscal_read(pathlib.Path(sys.argv[1]))
rows = []
for res in ar.results:
    obs = {str(o.uuid): o for o in (res.observations or [])}
    risks = {str(r.uuid): r for r in (res.risks or [])}
    def prop(o, name):
        return next((p.value for p in (o.props or []) if p.name == name), None)
    for f in res.findings or []:
        st = f.target.status
        linked = [risks[str(r.risk_uuid)] for r in (f.related_risks or [])]
        for ro in f.related_observations or []:
            o = obs[str(ro.observation_uuid)]
            mine = [r for r in linked if any(str(x.observation_uuid) == str(o.uuid) for x in (r.related_observations or []))]
            rows.append({
                "target": f.target.target_id,
                "state": st.state.value,
                "reason": st.reason.value if hasattr(st.reason, "value") else st.reason,
                "control": prop(o, "control-id"),
                "status": prop(o, "status"),
                "arn": o.subjects[0].title,
                "remediations": sum(len(r.remediations or []) for r in mine),
            })
print(json.dumps(rows))
"#;

fn trestle_read(path: &Path) -> Result<Vec<Value>, String> {
    let out = Command::new(trestle_python()).arg("-c").arg(READ).arg(path).output().expect("run trestle");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).expect("rows"))
}

fn scan(snapshot: &Path, out: &Path) -> support::Run {
    Emulator::offline_run(&["scan", "--from-snapshot", snapshot.to_str().unwrap(), "--format", "json,oscal", "--output-dir", out.to_str().unwrap()])
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// (control id, ARN) of the report's findings with `status`.
fn with_status(report: &Value, status: &str) -> BTreeSet<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == status)
        .map(|f| (f["control_id"].as_str().unwrap().to_string(), f["resource"]["arn"].as_str().unwrap().to_string()))
        .collect()
}

/// Every uuid of the document by JSON path.
fn uuids(v: &Value, path: String, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            if k == "uuid" {
                out.insert(path.clone(), x.as_str().unwrap().to_string());
            }
            uuids(x, format!("{path}.{k}"), out)
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| uuids(x, format!("{path}[{i}]"), out)),
        _ => {}
    }
}

#[test]
fn every_failing_finding_is_in_the_trestle_validated_oscal_document() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = scan(&support::root().join(FIXTURE), &out);
    assert_eq!(run.code, 1, "failing findings exit 1: {}", run.stderr);
    let report = read_json(&out.join("tapaudit.json"));
    let oscal_path = out.join("tapaudit.oscal.json");
    let rows = trestle_read(&oscal_path).unwrap_or_else(|e| panic!("trestle rejects {}:\n{e}", oscal_path.display()));

    let failing = with_status(&report, "fail");
    assert!(failing.len() >= 3, "the fixture has failures: {failing:?}");
    let mapped: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail" && f["frameworks"]["fedramp-moderate"].as_array().is_some_and(|a| !a.is_empty()))
        .map(|f| (f["control_id"].as_str().unwrap().to_string(), f["resource"]["arn"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(mapped, failing, "every failing control maps to FedRAMP Moderate");
    for (control, arn) in &failing {
        let hits: Vec<&Value> = rows.iter().filter(|r| r["control"] == control.as_str() && r["arn"] == arn.as_str()).collect();
        assert!(!hits.is_empty(), "{control} on {arn} is in the OSCAL findings");
        for h in hits {
            assert_eq!(h["status"], "fail", "{h}");
            assert_eq!((h["state"].as_str(), h["reason"].as_str()), (Some("not-satisfied"), Some("fail")), "{h}");
            assert!(h["remediations"].as_u64().unwrap() >= 1, "a risk with remediation: {h}");
        }
    }
    // honest aggregation: a satisfied target has only passing observations
    for r in &rows {
        if r["state"] == "satisfied" {
            assert_eq!(r["status"], "pass", "{r}");
        } else {
            assert!(rows.iter().any(|x| x["target"] == r["target"] && x["status"] != "pass"), "{r}");
        }
    }
    assert!(rows.iter().any(|r| r["state"] == "satisfied"), "passing controls are satisfied");

    // the JSON's failing findings and the OSCAL risks match one to one
    let doc = read_json(&oscal_path);
    let result = &doc["assessment-results"]["results"][0];
    assert_eq!(result["risks"].as_array().unwrap().len(), failing.len());
    assert_eq!(result["start"].as_str().unwrap()[..19], report["started_at"].as_str().unwrap()[..19], "the scan's start");
    let n_obs = report["findings"].as_array().unwrap().iter().filter(|f| f["status"] != "not_applicable").count();
    assert_eq!(result["observations"].as_array().unwrap().len(), n_obs);
    assert_eq!(doc["assessment-results"]["metadata"]["oscal-version"], "1.1.2");

    // the same snapshot again: the same uuids except the document's and the result's
    let again = tmp.path().join("again");
    assert_eq!(scan(&support::root().join(FIXTURE), &again).code, 1);
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    uuids(&doc, String::new(), &mut a);
    uuids(&read_json(&again.join("tapaudit.oscal.json")), String::new(), &mut b);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let differ: Vec<&String> = a.keys().filter(|k| a[*k] != b[*k]).collect();
    assert!(differ.iter().all(|k| *k == ".assessment-results" || *k == ".assessment-results.results[0]"), "{differ:?}");

    // the validator is live: a document with a state OSCAL does not know is rejected
    let mut broken = doc.clone();
    broken["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = json!("passed");
    let bad = tmp.path().join("broken.oscal.json");
    std::fs::write(&bad, serde_json::to_string(&broken).unwrap()).unwrap();
    assert!(trestle_read(&bad).is_err(), "trestle rejects an unknown state");
    let mut broken = doc;
    broken["assessment-results"].as_object_mut().unwrap().remove("import-ap");
    std::fs::write(&bad, serde_json::to_string(&broken).unwrap()).unwrap();
    assert!(trestle_read(&bad).is_err(), "trestle rejects a document without import-ap");
}

#[test]
fn unread_evidence_is_never_satisfied_in_the_validated_document() {
    // the same snapshot with the KMS key listing failed: the key controls report `error`
    let mut snap = read_json(&support::root().join(FIXTURE));
    let keys = &mut snap["state"]["kms"]["keys"];
    assert!(!keys["items"].as_object().unwrap().is_empty(), "the fixture has keys");
    keys["items"] = json!({});
    keys["failures"] = json!([{"region": "us-east-1", "reason": "AccessDenied"}]);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("unread-keys.json");
    std::fs::write(&path, serde_json::to_string_pretty(&snap).unwrap()).unwrap();
    let out = tmp.path().join("out");
    let run = scan(&path, &out);
    assert_eq!(run.code, 2, "incomplete: {}", run.stderr);
    let report = read_json(&out.join("tapaudit.json"));
    let errored = with_status(&report, "error");
    assert!(!errored.is_empty(), "error findings: {}", report["summary"]);
    let rows = trestle_read(&out.join("tapaudit.oscal.json")).unwrap_or_else(|e| panic!("trestle rejects the document:\n{e}"));
    for (control, arn) in &errored {
        // a failed listing's finding names no resource ARN (its subject is "kms:key in us-east-1")
        let hits: Vec<&Value> =
            rows.iter().filter(|r| r["control"] == control.as_str() && r["status"] == "error" && (arn.is_empty() || r["arn"] == arn.as_str())).collect();
        assert!(!hits.is_empty(), "{control} on {arn}");
        for h in hits {
            assert_eq!(h["state"], "not-satisfied", "{h}");
            assert!(h["reason"] == "other" || h["reason"] == "fail", "{h}");
            assert_eq!(h["remediations"], 0, "an unread check carries no risk: {h}");
        }
    }
    assert!(rows.iter().any(|r| r["reason"] == "other"), "a control only errored is not-satisfied for reason other");
}

#[test]
fn oscal_alone_prints_the_document() {
    let tmp = tempfile::tempdir().unwrap();
    let run = Emulator::offline_run(&["scan", "--from-snapshot", FIXTURE, "--format", "oscal", "--output-dir", tmp.path().to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let printed: Value = serde_json::from_str(&run.stdout).expect("stdout is the OSCAL document");
    assert_eq!(printed, read_json(&tmp.path().join("tapaudit.oscal.json")));
    assert!(!tmp.path().join("tapaudit.json").exists(), "only the asked format is written");
}

/// A small hand-made report, as the OSCAL document (version redacted by construction).
#[test]
fn small_document_snapshot() {
    use tapaudit::collect::stats::CollectionStats;
    use tapaudit::controls::Catalogue;
    use tapaudit::finding::{Evidence, Finding, FindingResource, Kind, Status};
    use tapaudit::report::{Report, Scope, Source};
    let cat = Catalogue::load().unwrap();
    let key = FindingResource {
        resource_type: "kms:key".into(),
        id: "0b1c2d3e".into(),
        arn: "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e".into(),
        region: "us-east-1".into(),
        logical_id: Some("data-key".into()),
        name: None,
    };
    let f = |control: &str, status: Status, msg: &str, observed: Value| {
        let meta = &cat.controls[control];
        Finding {
            control_id: control.into(),
            kind: Kind::Control,
            status,
            severity: meta.severity,
            title: meta.title.clone(),
            resource: key.clone(),
            frameworks: std::sync::Arc::new(meta.frameworks.iter().filter(|(fw, _)| *fw == "fedramp-moderate").map(|(a, b)| (a.clone(), b.clone())).collect()),
            message: msg.into(),
            evidence: Evidence::new(observed, json!(true)),
            location: None,
            suppression: None,
            baseline_state: None,
        }
    };
    let scope = Scope {
        stack: Some("dev".into()),
        stack_file: Some("stacks/dev.toml".into()),
        account: Some("123456789012".into()),
        regions: vec!["us-east-1".into()],
        endpoint: "http://127.0.0.1:5000".into(),
        frameworks: vec!["fedramp-moderate".into()],
        source: Source::Live,
    };
    let mut report = Report::new(
        &cat,
        scope,
        vec![
            f("kms-key-rotation-enabled", Status::Fail, "automatic key rotation is disabled", json!(false)),
            f("kms-key-policy-no-wildcard-principal", Status::Pass, "the key policy names its principals", json!(true)),
        ],
        vec![],
        CollectionStats::default(),
        "2026-12-01T10:00:00Z".into(),
        "2026-12-01T10:00:04Z".into(),
    );
    report.tool.version = "0.0.0-test".into();
    let doc = tapaudit::report::oscal::to_oscal(&report, &cat);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("small.oscal.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    trestle_read(&path).unwrap_or_else(|e| panic!("trestle rejects the small document:\n{e}"));
    // the coverage lists follow the catalogue's growth: shown by shape only
    let mut doc = doc;
    let rc = &mut doc["assessment-results"]["results"][0]["reviewed-controls"];
    let manual = rc["control-selections"][0]["exclude-controls"].as_array().map_or(0, Vec::len);
    assert!(manual > 0, "the baseline controls that need manual evidence are listed");
    rc["control-selections"][0]["exclude-controls"] = json!(["[the baseline controls no tapaudit control evaluates]"]);
    rc["props"] = json!(["[baseline totals and per-family automated coverage]"]);
    rc["remarks"] = json!("[checkable controls not assessed in this scan]");
    insta::assert_json_snapshot!("oscal_small", doc);
}
