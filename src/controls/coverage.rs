//! What a framework's baseline asks for and what tapaudit checks automatically: per family,
//! the requirement ids some control evaluates (and which controls), and the ids no control
//! evaluates (the assessor still needs manual evidence for those). Pure: the catalogue in,
//! the view out.

use super::catalogue::Catalogue;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The FedRAMP Rev 5 Moderate baseline's NIST SP 800-53 rev5 control ids (OSCAL form:
/// lowercase, enhancements as `ac-2.1`), from the FedRAMP PMO's OSCAL profile.
const FEDRAMP_MODERATE_BASELINE: &str = include_str!("../../controls/frameworks/fedramp-rev5-moderate-ids.txt");

/// One requirement of the baseline and the controls that evaluate it (empty: none does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementCoverage {
    pub id: String,
    pub controls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyCoverage {
    pub family: String,
    pub checked: Vec<RequirementCoverage>,
    /// Requirement ids of the baseline no control evaluates.
    pub not_checked: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub framework: String,
    /// Where the list of requirement ids comes from.
    pub baseline: String,
    pub total: usize,
    pub checked: usize,
    pub families: Vec<FamilyCoverage>,
    /// Requirement ids controls map to that the baseline does not select (kept visible: a
    /// mapping outside the baseline is either a typo or evidence beyond it).
    pub outside_baseline: Vec<String>,
}

/// `ac-2.1` → `AC-2(1)`; `ac-2` → `AC-2`.
pub fn nist_id(oscal: &str) -> String {
    let upper = oscal.trim().to_ascii_uppercase();
    match upper.split_once('.') {
        Some((base, enh)) => format!("{base}({enh})"),
        None => upper,
    }
}

/// The family of a NIST id (`AC-2(1)` → `AC`).
fn nist_family(id: &str) -> String {
    id.split('-').next().unwrap_or(id).to_string()
}

/// The FedRAMP Moderate baseline ids, in NIST form and baseline order.
pub fn fedramp_moderate_baseline() -> Vec<String> {
    FEDRAMP_MODERATE_BASELINE.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(nist_id).collect()
}

/// The coverage of `framework`: for FedRAMP Moderate against its full baseline, for the other
/// frameworks against the requirements their catalogue file lists. `None` for an unknown id.
pub fn coverage(cat: &Catalogue, framework: &str) -> Option<Coverage> {
    let fw = cat.frameworks.get(framework)?;
    // requirement id → the controls that map to it
    let mut by_req: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in cat.controls.values() {
        for r in c.frameworks.get(framework).into_iter().flatten() {
            by_req.entry(r.clone()).or_default().insert(c.id.clone());
        }
    }
    let (baseline, universe): (String, Vec<(String, String)>) = if framework == "fedramp-moderate" {
        (
            "FedRAMP Rev 5 Moderate baseline (OSCAL profile 5.1.1+fedramp-20240111-0)".into(),
            fedramp_moderate_baseline().into_iter().map(|id| (nist_family(&id), id)).collect(),
        )
    } else {
        (format!("the requirements of {} in the catalogue", fw.name), fw.requirements.iter().map(|r| (r.family.clone(), r.id.clone())).collect())
    };
    let in_universe: BTreeSet<&str> = universe.iter().map(|(_, id)| id.as_str()).collect();
    let mut families: BTreeMap<String, FamilyCoverage> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (family, id) in &universe {
        let f = families.entry(family.clone()).or_insert_with(|| {
            order.push(family.clone());
            FamilyCoverage { family: family.clone(), checked: vec![], not_checked: vec![] }
        });
        match by_req.get(id) {
            Some(controls) => f.checked.push(RequirementCoverage { id: id.clone(), controls: controls.iter().cloned().collect() }),
            None => f.not_checked.push(id.clone()),
        }
    }
    let families: Vec<FamilyCoverage> = order.into_iter().filter_map(|f| families.remove(&f)).collect();
    let checked = families.iter().map(|f| f.checked.len()).sum();
    let outside_baseline = by_req.keys().filter(|r| !in_universe.contains(r.as_str())).cloned().collect();
    Some(Coverage { framework: framework.to_string(), baseline, total: universe.len(), checked, families, outside_baseline })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oscal_ids_read_as_nist_ids() {
        assert_eq!(nist_id("ac-2"), "AC-2");
        assert_eq!(nist_id("ac-2.1"), "AC-2(1)");
        assert_eq!(nist_id(" sc-7.12 "), "SC-7(12)");
        assert_eq!(nist_family("AC-2(1)"), "AC");
    }

    #[test]
    fn the_baseline_has_its_323_ids_once_each() {
        let ids = fedramp_moderate_baseline();
        assert_eq!(ids.len(), 323);
        assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 323);
        for id in ["AC-2", "AC-2(1)", "AU-11", "SC-7(5)", "SC-28(1)", "IA-5(1)"] {
            assert!(ids.iter().any(|i| i == id), "{id}");
        }
    }

    #[test]
    fn every_mapped_requirement_is_checked_and_the_rest_is_listed_as_not_checked() {
        let cat = Catalogue::load().unwrap();
        let cov = coverage(&cat, "fedramp-moderate").unwrap();
        assert_eq!(cov.total, 323);
        let checked: usize = cov.families.iter().map(|f| f.checked.len()).sum();
        let not: usize = cov.families.iter().map(|f| f.not_checked.len()).sum();
        assert_eq!((cov.checked, checked + not), (checked, 323));
        // AU-11 (retention) is checked by the log-group retention control; AT-1 (awareness
        // training policy) is nothing a scanner can check
        let au = cov.families.iter().find(|f| f.family == "AU").unwrap();
        let au11 = au.checked.iter().find(|r| r.id == "AU-11").expect("AU-11 checked");
        assert!(au11.controls.iter().any(|c| c == "logs-log-group-retention"), "{au11:?}");
        let at = cov.families.iter().find(|f| f.family == "AT").unwrap();
        assert!(at.checked.is_empty() && at.not_checked.contains(&"AT-1".to_string()));
        // every requirement a control names is in the baseline (no typo hides a gap)
        assert_eq!(cov.outside_baseline, Vec::<String>::new());
        // the controls named are exactly the catalogue's fedramp mappings
        let named: BTreeSet<&str> = cov.families.iter().flat_map(|f| &f.checked).flat_map(|r| &r.controls).map(String::as_str).collect();
        let mapped: BTreeSet<&str> =
            cat.controls.values().filter(|c| c.frameworks.get("fedramp-moderate").is_some_and(|r| !r.is_empty())).map(|c| c.id.as_str()).collect();
        assert_eq!(named, mapped);
    }

    #[test]
    fn other_frameworks_are_covered_against_their_catalogue_requirements() {
        let cat = Catalogue::load().unwrap();
        for fw in ["ferpa", "lgpd"] {
            let cov = coverage(&cat, fw).unwrap();
            assert_eq!(cov.total, cat.frameworks[fw].requirements.len(), "{fw}");
            assert!(cov.checked > 0, "{fw}");
        }
        assert!(coverage(&cat, "pci-dss").is_none());
    }
}
