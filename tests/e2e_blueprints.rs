//! Every blueprint in stacks/ end to end against the emulator, through the built binary:
//! validate, plan, provision, re-run (nothing changes), plan (no changes), scan (zero failing,
//! zero errored, zero suppressed, no drift), `scan --desired` (the same control verdicts),
//! kill mid-provision and resume (no duplicates), destroy (nothing tagged remains). One
//! emulator, reset between blueprints.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use support::{Emulator, Run};

/// The blueprints and the region each builds in (from its stack file).
const BLUEPRINTS: &[&str] = &["dev", "iot", "ferpa", "lgpd"];

fn reset(emu: &Emulator) {
    let out = std::process::Command::new("curl").args(["-s", "-X", "POST", &format!("{}/moto-api/reset", emu.url())]).output().expect("curl");
    assert!(out.status.success(), "reset the emulator");
}

fn run(emu: &Emulator, _stack: &str, args: &[&str]) -> Run {
    // the stack file's region applies (it takes precedence over the harness's AWS_REGION)
    emu.run(args)
}

fn steps(v: &Value) -> Vec<Value> {
    v["steps"].as_array().or_else(|| v["plan"].as_array()).cloned().unwrap_or_default()
}

/// Every resource the scanner reads that carries the stack's tag, as (type, logical id) with
/// a count: what "no duplicates" and "nothing remains" are checked against. Keys pending
/// deletion and resources being deleted are gone for this purpose.
fn tagged(emu: &Emulator, stack: &str) -> BTreeMap<(String, String), usize> {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.json");
    let snap_arg = snap.to_string_lossy().to_string();
    let out = run(emu, stack, &["scan", "--stack", stack, "--save-snapshot", &snap_arg, "--output-dir", &dir.path().to_string_lossy(), "--format", "json"]);
    assert!(out.code == 0 || out.code == 1, "scan for the inventory: {}", out.stderr);
    let snap: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    let mut found = BTreeMap::new();
    visit(&snap["state"], stack, &mut found);
    found
}

/// Resources are objects with a `meta` (type, tags); a key pending deletion or a resource
/// being deleted no longer counts.
fn visit(v: &Value, stack: &str, out: &mut BTreeMap<(String, String), usize>) {
    match v {
        Value::Object(m) => {
            if let Some(meta) = m.get("meta").filter(|x| x.get("type").is_some()) {
                let tags = &meta["tags"]["known"];
                let state = m.get("state").and_then(|s| s["known"].as_str().or(s.as_str())).unwrap_or_default();
                let status = m.get("status").and_then(|s| s.as_str().or(s["known"].as_str())).unwrap_or_default().to_ascii_lowercase();
                let gone = matches!(state, "PendingDeletion" | "PendingReplicaDeletion") || matches!(status.as_str(), "deleting" | "deleted" | "inactive");
                if tags["tapaudit:stack"] == stack && !gone {
                    let logical = tags["tapaudit:logical-id"].as_str().unwrap_or_default().to_string();
                    *out.entry((meta["type"].as_str().unwrap_or_default().to_string(), logical)).or_insert(0) += 1;
                }
            }
            m.iter().filter(|(k, _)| k.as_str() != "meta").for_each(|(_, x)| visit(x, stack, out));
        }
        Value::Array(a) => a.iter().for_each(|x| visit(x, stack, out)),
        _ => {}
    }
}

/// Control verdicts by (control, logical id), from a report.
fn verdicts(report: &Value) -> BTreeSet<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "control")
        .map(|f| {
            (
                f["control_id"].as_str().unwrap().to_string(),
                f["resource"]["logical_id"].as_str().unwrap_or_default().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn assert_clean(stack: &str, report: &Value) {
    let bad: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["status"].as_str(), Some("fail") | Some("error")) || !f["suppression"].is_null())
        .map(|f| format!("{} {} {} {}: {}", f["status"], f["kind"], f["control_id"], f["resource"]["id"], f["message"]))
        .collect();
    assert!(bad.is_empty(), "{stack}: the blueprint does not pass its own audit:\n{}", bad.join("\n"));
    assert_eq!(report["summary"]["collection_errors"], 0, "{stack}: {}", report["errors"]);
}

/// Kill a provision after `after` finished resources, then resume it.
fn kill_and_resume(emu: &Emulator, stack: &str, after: usize) {
    let mut child = emu
        .tapaudit(&["provision", "--stack", stack, "--concurrency", "4"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = 0;
    for line in BufReader::new(stderr).lines() {
        if line.unwrap().starts_with('[') {
            seen += 1;
        }
        if seen >= after {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let resumed = run(emu, stack, &["provision", "--stack", stack, "--output", "json"]).ok(&format!("{stack}: resume after a kill at {after}"));
    assert!(steps(&resumed.json()).iter().all(|s| s["error"].is_null()), "{stack}: {}", resumed.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_blueprint_builds_converges_passes_its_own_audit_and_destroys_cleanly() {
    let emu = Emulator::start();
    for stack in BLUEPRINTS {
        reset(&emu);
        run(&emu, stack, &["validate", "--stack", stack]).ok(&format!("{stack}: validate"));

        let plan = run(&emu, stack, &["plan", "--stack", stack, "--output", "json"]).ok(&format!("{stack}: plan")).json();
        assert!(steps(&plan).iter().all(|s| s["action"] == "create"), "{stack}: a fresh account plans only creations: {plan}");

        let first = run(&emu, stack, &["provision", "--stack", stack, "--output", "json"]).ok(&format!("{stack}: provision")).json();
        assert!(steps(&first).iter().all(|s| s["error"].is_null()), "{stack}: {first}");
        let built = tagged(&emu, stack);
        assert!(!built.is_empty(), "{stack}: the scanner sees nothing tagged");

        let again = run(&emu, stack, &["provision", "--stack", stack, "--output", "json"]).ok(&format!("{stack}: provision again")).json();
        let changed: Vec<Value> = steps(&again).into_iter().filter(|s| s["action"] != "unchanged").collect();
        assert!(changed.is_empty(), "{stack}: a second provision changes nothing: {changed:?}");
        let plan = run(&emu, stack, &["plan", "--stack", stack, "--output", "json"]).ok(&format!("{stack}: plan after")).json();
        assert!(steps(&plan).iter().all(|s| s["action"] == "unchanged"), "{stack}: plan after provision: {plan}");

        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().to_string_lossy().to_string();
        let scan = run(&emu, stack, &["scan", "--stack", stack, "--format", "json", "--output-dir", &out_dir]);
        assert_eq!(scan.code, 0, "{stack}: scan: {}\n{}", scan.stderr, scan.stdout);
        let live: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("tapaudit.json")).unwrap()).unwrap();
        assert_clean(stack, &live);
        assert!(!live["findings"].as_array().unwrap().iter().any(|f| f["kind"] == "drift" && f["status"] != "pass"), "{stack}: drift right after provision");

        let desired = run(&emu, stack, &["scan", "--stack", stack, "--desired", "--format", "json", "--output-dir", &out_dir]);
        assert_eq!(desired.code, 0, "{stack}: scan --desired: {}", desired.stderr);
        let want: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("tapaudit.json")).unwrap()).unwrap();
        assert_clean(stack, &want);
        let (w, l) = (verdicts(&want), verdicts(&live));
        let only_desired: Vec<_> = w.difference(&l).collect();
        let only_live: Vec<_> = l.difference(&w).collect();
        assert!(only_desired.is_empty() && only_live.is_empty(), "{stack}: scan --desired and the live scan differ:\n desired only: {only_desired:?}\n live only: {only_live:?}");

        // interrupted runs resume without duplicates
        run(&emu, stack, &["destroy", "--stack", stack, "--yes", "--skip-final-snapshot"]).ok(&format!("{stack}: destroy before the kill test"));
        for after in [3usize, 12] {
            kill_and_resume(&emu, stack, after);
            assert_eq!(tagged(&emu, stack), built, "{stack}: after a kill at {after} and a resume, the same resources exist once each");
        }

        run(&emu, stack, &["destroy", "--stack", stack, "--yes", "--skip-final-snapshot"]).ok(&format!("{stack}: destroy"));
        let left = tagged(&emu, stack);
        assert!(left.is_empty(), "{stack}: destroy left resources carrying its tag: {left:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_blueprints_side_by_side_do_not_collide() {
    let emu = Emulator::start();
    // iot is in sa-east-1 and lgpd in us-east-1: put both in one region and account
    for stack in ["lgpd", "dev"] {
        run(&emu, stack, &["provision", "--stack", stack, "--output", "json"]).ok(&format!("{stack}: provision beside the other"));
    }
    let before = tagged(&emu, "dev");
    for stack in ["lgpd", "dev"] {
        let dir = tempfile::tempdir().unwrap();
        let scan = run(&emu, stack, &["scan", "--stack", stack, "--format", "json", "--output-dir", &dir.path().to_string_lossy()]);
        assert_eq!(scan.code, 0, "{stack}: {}", scan.stderr);
        let report: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("tapaudit.json")).unwrap()).unwrap();
        assert_clean(stack, &report);
    }
    run(&emu, "lgpd", &["destroy", "--stack", "lgpd", "--yes", "--skip-final-snapshot"]).ok("destroy lgpd");
    assert!(tagged(&emu, "lgpd").is_empty(), "lgpd destroyed");
    assert_eq!(tagged(&emu, "dev"), before, "destroying lgpd left dev untouched");
}
