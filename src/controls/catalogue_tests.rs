//! Catalogue invariants: metadata ↔ implementation, unique ids, framework mappings consistent
//! both ways, every control mapped, every compliant fixture passes every control.

use super::*;
use crate::finding::Status;
use std::collections::BTreeSet;

#[test]
fn catalogue_parses_and_ids_match_files() {
    let cat = Catalogue::load().expect("catalogue parses");
    assert_eq!(cat.controls.len(), catalogue::CONTROL_FILES.len(), "control ids are unique");
    for (stem, _) in catalogue::CONTROL_FILES {
        assert!(cat.controls.contains_key(*stem), "controls/{stem}.toml: id must equal the file stem");
    }
    let fws: BTreeSet<&str> = cat.framework_ids().into_iter().collect();
    assert_eq!(fws, BTreeSet::from(["fedramp-moderate", "ferpa", "lgpd"]));
    assert_eq!(crate::vocab::FRAMEWORKS.iter().copied().collect::<BTreeSet<_>>(), fws);
}

#[test]
fn every_control_is_mapped_and_mappings_agree_both_ways() {
    let cat = Catalogue::load().unwrap();
    let mut from_frameworks = BTreeSet::new();
    for (fid, f) in &cat.frameworks {
        let mut req_ids = BTreeSet::new();
        for r in &f.requirements {
            assert!(req_ids.insert(&r.id), "{fid}: duplicate requirement {}", r.id);
            assert!(!r.controls.is_empty(), "{fid} {} maps no control", r.id);
            for c in &r.controls {
                assert!(cat.controls.contains_key(&c.id), "{fid} {} names unknown control {}", r.id, c.id);
                assert!(!c.rationale.trim().is_empty(), "{fid} {} → {}: no rationale", r.id, c.id);
                from_frameworks.insert((fid.clone(), r.id.clone(), c.id.clone()));
            }
        }
    }
    let mut from_controls = BTreeSet::new();
    for (cid, c) in &cat.controls {
        assert!(c.frameworks.values().any(|v| !v.is_empty()), "{cid} maps to no framework");
        for (fid, reqs) in &c.frameworks {
            assert!(cat.frameworks.contains_key(fid), "{cid}: unknown framework {fid}");
            for r in reqs {
                from_controls.insert((fid.clone(), r.clone(), cid.clone()));
            }
        }
    }
    assert_eq!(from_frameworks, from_controls, "controls/*.toml [frameworks] and controls/frameworks/*.toml must agree");
}

#[test]
fn every_control_has_an_implementation_and_every_implementation_metadata() {
    let cat = Catalogue::load().unwrap();
    let reg = registry();
    for (id, meta) in &cat.controls {
        if meta.service == "drift" {
            continue; // produced by drift::diff, not by a control function
        }
        assert!(reg.contains_key(id.as_str()), "{id} has metadata but no implementation");
    }
    for id in reg.keys() {
        assert!(cat.controls.contains_key(*id), "{id} is implemented but not in controls/");
    }
}

#[test]
fn the_compliant_fixture_passes_every_control() {
    let state = testing::fixture();
    let cat = Catalogue::load().unwrap();
    let all: Vec<String> = cat.frameworks.keys().cloned().collect();
    let findings = evaluate(&cat, &state, &Selection { frameworks: all, overrides: BTreeMap::new() });
    let bad: Vec<String> = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error))
        .map(|f| format!("{} {} {}: {}", f.control_id, f.resource.id, f.status.as_str(), f.message))
        .collect();
    assert!(bad.is_empty(), "compliant fixture: {bad:#?}");
    let passed: BTreeSet<&str> = findings.iter().filter(|f| f.status == Status::Pass).map(|f| f.control_id.as_str()).collect();
    for id in registry().keys() {
        assert!(passed.contains(id), "{id}: the compliant fixture has nothing it passes (add a resource)");
    }
}
