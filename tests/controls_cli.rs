//! `tapaudit controls coverage` through the built binary: the FedRAMP Moderate baseline's 323
//! requirement ids, split into those some control checks and those that need manual evidence.

use serde_json::Value;
use std::process::Command;

fn tapaudit(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run tapaudit");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn fedramp_moderate_coverage_accounts_for_every_baseline_requirement() {
    let (code, stdout, stderr) = tapaudit(&["controls", "coverage", "--framework", "fedramp-moderate", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let cov: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(cov["total"], 323);
    let families = cov["families"].as_array().unwrap();
    let checked: Vec<&str> = families.iter().flat_map(|f| f["checked"].as_array().unwrap()).map(|r| r["id"].as_str().unwrap()).collect();
    let manual: Vec<&str> = families.iter().flat_map(|f| f["not_checked"].as_array().unwrap()).map(|r| r.as_str().unwrap()).collect();
    assert_eq!(checked.len() + manual.len(), 323);
    assert_eq!(cov["checked"].as_u64().unwrap() as usize, checked.len());
    assert!(checked.contains(&"SC-28") && checked.contains(&"AU-11"), "{checked:?}");
    assert!(manual.contains(&"PE-3") && manual.contains(&"AT-2"), "physical access and training are manual evidence");
    // every checked requirement names the controls that check it
    assert!(families.iter().flat_map(|f| f["checked"].as_array().unwrap()).all(|r| !r["controls"].as_array().unwrap().is_empty()));

    let (code, table, _) = tapaudit(&["controls", "coverage"]);
    assert_eq!(code, 0);
    assert!(table.contains(&format!("fedramp-moderate: {} of 323 requirements checked automatically", checked.len())), "{table}");
}

#[test]
fn an_unknown_framework_is_one_line_and_exit_2() {
    let (code, stdout, stderr) = tapaudit(&["controls", "coverage", "--framework", "pci-dss"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(stderr.trim_end(), "tapaudit: error: unknown framework \"pci-dss\" (known: fedramp-moderate, ferpa, lgpd)");
}
