use super::sarif::{drift_field, fingerprint, level, location, pascal_case, to_sarif, FINGERPRINT_KEY};
use super::*;
use crate::finding::{Evidence, FindingResource, Kind};
use crate::model::SourceRef;
use serde_json::json;

fn cat() -> Catalogue {
    Catalogue::load().expect("catalogue parses")
}

fn resource(id: &str) -> FindingResource {
    FindingResource {
        resource_type: "kms:key".to_string(),
        id: id.to_string(),
        arn: format!("arn:aws:kms:us-east-1:123456789012:key/{id}"),
        region: "us-east-1".to_string(),
        logical_id: Some(format!("{id}-logical")),
        name: None,
    }
}

fn finding(control: &str, status: Status, severity: Severity, frameworks: &[(&str, &[&str])], res: &str) -> Finding {
    Finding {
        control_id: control.to_string(),
        kind: Kind::Control,
        status,
        severity,
        title: format!("title of {control}"),
        resource: resource(res),
        frameworks: crate::finding::Frameworks::new(frameworks.iter().map(|(f, r)| (f.to_string(), r.iter().map(|s| s.to_string()).collect())).collect()),
        message: format!("{control} says {}", status.as_str()),
        evidence: Evidence::new(json!(false), json!(true)),
        location: None,
        suppression: None,
        baseline_state: None,
    }
}

fn scope(frameworks: &[&str]) -> Scope {
    Scope {
        stack: Some("dev".to_string()),
        stack_file: Some("stacks/dev.toml".to_string()),
        account: Some("123456789012".to_string()),
        regions: vec!["us-east-1".to_string()],
        endpoint: "http://127.0.0.1:5000".to_string(),
        frameworks: frameworks.iter().map(|s| s.to_string()).collect(),
        source: Source::Live,
    }
}

fn report(findings: Vec<Finding>, errors: Vec<CollectionError>) -> Report {
    Report::new(
        &cat(),
        scope(&["fedramp-moderate"]),
        findings,
        errors,
        CollectionStats::default(),
        "2026-01-01T00:00:00Z".into(),
        "2026-01-01T00:00:05Z".into(),
    )
}

fn collection_error() -> CollectionError {
    CollectionError {
        account: None,
        service: "kms".into(),
        operation: "ListKeys".into(),
        region: "us-east-1".into(),
        resource: None,
        code: "AccessDeniedException".into(),
        message: "not authorized".into(),
    }
}

const FR: &str = "fedramp-moderate";

#[test]
fn summary_counts_statuses_requirements_and_families() {
    let findings = vec![
        finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, &[(FR, &["SC-12"])], "a"),
        finding("kms-key-rotation-enabled", Status::Pass, Severity::Medium, &[(FR, &["SC-12"])], "b"),
        // two requirements in one family (AC): counted once for the family
        finding("kms-key-policy-no-wildcard-principal", Status::Fail, Severity::Critical, &[(FR, &["AC-3", "AC-6", "SC-12"])], "a"),
        finding("kms-key-not-pending-deletion", Status::Error, Severity::High, &[(FR, &["SC-12", "SC-13"])], "c"),
        finding("kms-key-not-pending-deletion", Status::NotApplicable, Severity::High, &[(FR, &["SC-12"])], "d"),
        // a framework not in scope is not summarised
        finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, &[("ferpa", &["PTAC-encryption"])], "e"),
    ];
    let r = report(findings, vec![]);
    let s = &r.summary;
    assert_eq!(s.findings, StatusCounts { total: 6, pass: 1, fail: 3, error: 1, not_applicable: 1 });
    assert_eq!(s.failing_by_severity[&Severity::Critical], 1);
    assert_eq!(s.failing_by_severity[&Severity::Medium], 2);
    assert_eq!(s.failing_by_severity[&Severity::High], 0);
    assert!(s.incomplete);
    assert_eq!(s.frameworks.len(), 1);
    let fw = &s.frameworks[0];
    assert_eq!(fw.id, FR);
    assert!(fw.name.starts_with("FedRAMP Moderate"));
    assert_eq!(fw.counts, Counts { pass: 1, fail: 2, error: 1 });

    let req = |id: &str| fw.requirements.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("{id}"));
    assert_eq!(req("SC-12").counts, Counts { pass: 1, fail: 2, error: 1 });
    assert_eq!(req("SC-12").family, "SC");
    assert!(!req("SC-12").title.is_empty());
    assert_eq!(req("SC-13").counts, Counts { pass: 0, fail: 0, error: 1 });
    assert_eq!(req("AC-3").counts, Counts { pass: 0, fail: 1, error: 0 });
    assert_eq!(req("AC-2").counts, Counts::default(), "untouched requirements are listed with zeros");
    let catalogue = cat();
    assert_eq!(fw.requirements.len(), catalogue.frameworks[FR].requirements.len());

    let fam = |f: &str| fw.families.iter().find(|x| x.family == f).unwrap().counts;
    assert_eq!(fam("AC"), Counts { pass: 0, fail: 1, error: 0 }, "one finding, two AC requirements: counted once");
    assert_eq!(fam("SC"), Counts { pass: 1, fail: 2, error: 1 });
    assert_eq!(fam("AU"), Counts::default());
    let order: Vec<&str> = fw.families.iter().map(|f| f.family.as_str()).collect();
    assert_eq!(order.first(), Some(&"AC"), "catalogue order");
}

#[test]
fn summary_frameworks_fall_back_to_findings_then_catalogue() {
    let c = cat();
    let f = finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, &[("lgpd", &["Art. 46"])], "a");
    let r = Report::new(&c, scope(&[]), vec![f], vec![], CollectionStats::default(), String::new(), String::new());
    assert_eq!(r.summary.frameworks.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), vec!["lgpd"]);
    let r = Report::new(&c, scope(&[]), vec![], vec![], CollectionStats::default(), String::new(), String::new());
    assert_eq!(r.summary.frameworks.len(), c.frameworks.len());
}

#[test]
fn exit_code_threshold() {
    let medium = || finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, &[(FR, &["SC-12"])], "a");
    let clean = report(vec![finding("kms-key-rotation-enabled", Status::Pass, Severity::Medium, &[(FR, &["SC-12"])], "a")], vec![]);
    assert_eq!(clean.exit_code(Severity::Info), 0);
    let r = report(vec![medium()], vec![]);
    assert_eq!(r.failing(Severity::High), 0);
    assert_eq!(r.failing(Severity::Medium), 1);
    assert_eq!(r.exit_code(Severity::Critical), 0);
    assert_eq!(r.exit_code(Severity::High), 0);
    assert_eq!(r.exit_code(Severity::Medium), 1);
    assert_eq!(r.exit_code(Severity::Info), 1);
    assert!(!r.incomplete());
}

#[test]
fn exit_code_incomplete_wins() {
    let critical = finding("kms-key-policy-no-wildcard-principal", Status::Fail, Severity::Critical, &[(FR, &["AC-3"])], "a");
    let errored = finding("kms-key-rotation-enabled", Status::Error, Severity::Low, &[(FR, &["SC-12"])], "b");
    let r = report(vec![critical.clone(), errored], vec![]);
    assert!(r.incomplete());
    assert_eq!(r.exit_code(Severity::Critical), 2, "an error finding makes the scan incomplete, even with failures");
    let r = report(vec![critical], vec![collection_error()]);
    assert!(r.incomplete());
    assert_eq!(r.exit_code(Severity::High), 2, "a collection error makes the scan incomplete");
    let r = report(vec![], vec![collection_error()]);
    assert_eq!(r.exit_code(Severity::Info), 2);
    assert_eq!(r.summary.collection_errors, 1);
}

#[test]
fn fingerprint_ignores_message_line_evidence_and_status() {
    let a = finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, &[(FR, &["SC-12"])], "a");
    let mut b = a.clone();
    b.message = "a different wording".into();
    b.location = Some(SourceRef { path: "stacks/dev.toml".into(), line: 42 });
    b.evidence = Evidence::new(json!("x"), json!("y"));
    b.status = Status::Error;
    b.severity = Severity::High;
    b.title = "retitled".into();
    assert_eq!(fingerprint(&a), fingerprint(&b));
    assert_eq!(fingerprint(&a).len(), 64);
    assert!(fingerprint(&a).chars().all(|c| c.is_ascii_hexdigit()));

    let other_resource = finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, &[(FR, &["SC-12"])], "z");
    assert_ne!(fingerprint(&a), fingerprint(&other_resource));
    let other_control = finding("kms-key-not-pending-deletion", Status::Fail, Severity::Medium, &[(FR, &["SC-12"])], "a");
    assert_ne!(fingerprint(&a), fingerprint(&other_control));

    // without an ARN: type + region + id
    let mut no_arn = a.clone();
    no_arn.resource.arn.clear();
    let mut other_region = no_arn.clone();
    other_region.resource.region = "sa-east-1".into();
    assert_ne!(fingerprint(&no_arn), fingerprint(&other_region));
}

#[test]
fn fingerprint_of_drift_depends_on_field_not_values() {
    let mut d = finding("drift-changed", Status::Fail, Severity::Medium, &[(FR, &["CM-2"])], "a");
    d.kind = Kind::Drift;
    d.evidence = Evidence::new(json!({"field": "rotation", "value": false}), json!({"field": "rotation", "value": true}));
    let mut same_field = d.clone();
    same_field.evidence.observed = json!({"field": "rotation", "value": "something else"}).into();
    same_field.location = Some(SourceRef { path: "stacks/dev.toml".into(), line: 7 });
    same_field.message = "changed again".into();
    assert_eq!(drift_field(&d), "rotation");
    assert_eq!(fingerprint(&d), fingerprint(&same_field));
    let mut other_field = d.clone();
    other_field.evidence = Evidence::new(json!({"field": "deletion_window", "value": 7}), json!({"field": "deletion_window", "value": 30}));
    assert_ne!(fingerprint(&d), fingerprint(&other_field));
    // fallback: keys of the two evidence objects
    let mut keyed = d.clone();
    keyed.evidence = Evidence::new(json!({"retention_days": 7}), json!({"retention_days": 30}));
    assert_eq!(drift_field(&keyed), "retention_days");
    // a control finding's evidence never enters its fingerprint
    let c = finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, &[(FR, &["SC-12"])], "a");
    let mut c2 = c.clone();
    c2.evidence = Evidence::new(json!({"field": "x"}), json!({"field": "y"}));
    assert_eq!(drift_field(&c2), "");
    assert_eq!(fingerprint(&c), fingerprint(&c2));
}

#[test]
fn severity_to_level() {
    assert_eq!(level(Severity::Critical), "error");
    assert_eq!(level(Severity::High), "error");
    assert_eq!(level(Severity::Medium), "warning");
    assert_eq!(level(Severity::Low), "note");
    assert_eq!(level(Severity::Info), "note");
}

#[test]
fn long_descriptions_are_cut_on_char_boundaries() {
    let long = "çã ".repeat(600);
    let cut = super::sarif::truncate(&long, 1024);
    assert!(cut.chars().count() <= 1024);
    assert!(cut.ends_with('…'));
    assert_eq!(super::sarif::truncate("short", 1024), "short");
}

#[test]
fn pascal_case_of_ids() {
    assert_eq!(pascal_case("kms-key-rotation-enabled"), "KmsKeyRotationEnabled");
    assert_eq!(pascal_case("sg-no-internet-ingress-all-ports"), "SgNoInternetIngressAllPorts");
}

fn sarif_json(r: &Report) -> serde_json::Value {
    serde_json::to_value(to_sarif(r, &cat())).unwrap()
}

#[test]
fn sarif_results_levels_rules_and_locations() {
    let mut located = finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, &[(FR, &["SC-12"])], "a");
    located.location = Some(SourceRef { path: "./stacks/dev.toml".into(), line: 12 });
    let findings = vec![
        located,
        finding("kms-key-policy-no-wildcard-principal", Status::Fail, Severity::Critical, &[(FR, &["AC-3"])], "b"),
        finding("kms-key-not-pending-deletion", Status::Error, Severity::Critical, &[(FR, &["SC-12"])], "c"),
        finding("kms-key-rotation-enabled", Status::Pass, Severity::Medium, &[(FR, &["SC-12"])], "d"),
        finding("kms-key-rotation-enabled", Status::NotApplicable, Severity::Medium, &[(FR, &["SC-12"])], "e"),
    ];
    let r = report(findings, vec![collection_error()]);
    let v = sarif_json(&r);
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "pass and not_applicable are left out");

    // every in-scope control has a rule, drift controls included
    let catalogue = cat();
    let expected = catalogue.controls.values().filter(|c| c.frameworks.contains_key(FR)).count();
    assert_eq!(rules.len(), expected);
    assert!(rules.iter().any(|r| r["id"] == "drift-changed"));
    for rule in rules {
        let sev = rule["properties"]["security-severity"].as_str().expect("security-severity is a string");
        let score: f64 = sev.parse().unwrap();
        assert!((0.1..=10.0).contains(&score));
        assert!(rule["properties"]["tags"].as_array().unwrap().iter().any(|t| t == "security"));
        assert!(rule["fullDescription"]["text"].as_str().unwrap().chars().count() <= 1024);
        assert!(rule["shortDescription"]["text"].as_str().unwrap().chars().count() <= 1024);
        assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
        assert!(rule["help"]["markdown"].as_str().unwrap().contains("**Remediation**"));
    }

    for res in results {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with('/') && !uri.contains("://"), "{uri}");
        assert!(loc["region"]["startLine"].as_i64().unwrap() >= 1);
        assert_eq!(res["partialFingerprints"]["primaryLocationLineHash"], res["partialFingerprints"][FINGERPRINT_KEY]);
        assert!(res["message"]["text"].as_str().unwrap().ends_with('.'));
    }
    let by_rule = |id: &str| results.iter().find(|r| r["ruleId"] == id).unwrap();
    assert_eq!(by_rule("kms-key-rotation-enabled")["level"], "warning");
    assert_eq!(by_rule("kms-key-rotation-enabled")["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "stacks/dev.toml");
    assert_eq!(by_rule("kms-key-rotation-enabled")["locations"][0]["physicalLocation"]["region"]["startLine"], 12);
    assert_eq!(by_rule("kms-key-policy-no-wildcard-principal")["level"], "error");
    assert_eq!(by_rule("kms-key-policy-no-wildcard-principal")["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    let err = by_rule("kms-key-not-pending-deletion");
    assert_eq!(err["level"], "warning", "error findings are warnings whatever their severity");
    assert!(err["message"]["text"].as_str().unwrap().contains("could not be read"));
    assert_eq!(err["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "arn:aws:kms:us-east-1:123456789012:key/c");
    assert_eq!(err["locations"][0]["logicalLocations"][0]["kind"], "resource");

    assert_eq!(run["automationDetails"]["id"], "tapaudit/dev/");
    assert_eq!(run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap().len(), 1);
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["$schema"], super::sarif::SCHEMA_URI);
}

#[test]
fn sarif_account_wide_locations_and_duplicate_fingerprints() {
    let c = cat();
    let mut s = scope(&[FR]);
    s.stack = None;
    s.stack_file = None;
    let a = finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, &[(FR, &["SC-12"])], "a");
    let mut iam = finding("iam-no-admin-wildcard", Status::Fail, Severity::High, &[(FR, &["AC-6"])], "x");
    iam.resource = FindingResource {
        resource_type: "iam:role".into(),
        id: "admin".into(),
        arn: "arn:aws:iam::123456789012:role/admin".into(),
        region: String::new(),
        logical_id: None,
        name: Some("admin".into()),
    };
    let r = Report::new(&c, s, vec![a.clone(), a.clone(), iam.clone()], vec![], CollectionStats::default(), String::new(), String::new());
    assert_eq!(location(&r, &a), ("aws/123456789012/us-east-1/kms/key".to_string(), 1));
    assert_eq!(location(&r, &iam), ("aws/123456789012/global/iam/role".to_string(), 1));
    let v = sarif_json(&r);
    let run = &v["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "tapaudit/123456789012/");
    let fps: Vec<&str> = run["results"].as_array().unwrap().iter().map(|r| r["partialFingerprints"][FINGERPRINT_KEY].as_str().unwrap()).collect();
    assert_eq!(fps.len(), 3);
    assert_ne!(fps[0], fps[1], "duplicates in one run get distinct fingerprints");
    assert!(fps.contains(&fingerprint(&a).as_str()), "the first keeps the plain fingerprint");
    assert!(run["invocations"][0].get("toolExecutionNotifications").is_none());
}

#[test]
fn desired_state_checks_get_their_own_category() {
    let c = cat();
    let mut s = scope(&[FR]);
    s.source = Source::Desired;
    let r = Report::new(&c, s, vec![], vec![], CollectionStats::default(), String::new(), String::new());
    assert_eq!(super::sarif::automation_id(&r), "tapaudit/dev/desired/");
}

#[test]
fn json_round_trips_with_stable_field_names() {
    let r = report(vec![finding("kms-key-rotation-enabled", Status::Fail, Severity::Medium, &[(FR, &["SC-12"])], "a")], vec![collection_error()]);
    let text = r.to_json();
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["tool", "scope", "started_at", "finished_at", "summary", "findings", "errors", "stats"] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["tool"]["name"], "tapaudit");
    assert_eq!(v["scope"]["source"], "live");
    assert_eq!(v["summary"]["failing_by_severity"]["medium"], 1);
    let sc12 = v["summary"]["frameworks"][0]["requirements"].as_array().unwrap().iter().find(|r| r["id"] == "SC-12").unwrap().clone();
    assert_eq!((sc12["pass"].as_u64(), sc12["fail"].as_u64(), sc12["error"].as_u64()), (Some(0), Some(1), Some(0)));
}

#[test]
fn table_fits_width_and_honours_color() {
    let findings = vec![
        finding(
            "kms-key-rotation-enabled",
            Status::Fail,
            Severity::Medium,
            &[(FR, &["SC-12"])],
            "a-key-with-a-rather-long-logical-identifier-that-needs-wrapping",
        ),
        finding("kms-key-not-pending-deletion", Status::Error, Severity::High, &[(FR, &["SC-12"])], "b"),
    ];
    let r = report(findings, vec![collection_error()]);
    let plain = render(&r, Some(80), false);
    assert!(!plain.contains('\u{1b}'), "no ANSI without color");
    for line in plain.lines() {
        assert!(line.chars().count() <= 80, "{} > 80: {line}", line.chars().count());
    }
    let last_paragraph = plain.trim_end().rsplit("\n\n").next().unwrap().replace('\n', " ");
    assert!(last_paragraph.starts_with("The scan is incomplete (1 errored finding, 1 collection error)"), "{last_paragraph}");
    assert!(last_paragraph.contains("2 findings: 1 failing (1 medium), 1 errored"), "{last_paragraph}");
    let unwrapped = render(&r, None, false);
    assert!(unwrapped.trim_end().lines().last().unwrap().starts_with("2 findings: 1 failing (1 medium), 1 errored"));
    let colored = render(&r, Some(80), true);
    assert!(colored.contains('\u{1b}'));
    // high before medium
    let high = plain.find("│ high").unwrap();
    let medium = plain.find("│ medium").unwrap();
    assert!(high < medium);
    assert_eq!(render(&r, None, false), render(&r, None, false));
}

fn sarif_with(r: &Report, opts: &super::sarif::SarifOptions) -> serde_json::Value {
    serde_json::to_value(super::sarif::to_sarif_with(r, &cat(), opts)).unwrap()
}

/// Ten failing findings: 1 critical, 2 high, 3 medium, 4 low (in that order of resources r0..r9).
fn graded() -> Vec<Finding> {
    let plan = [(Severity::Critical, 1), (Severity::High, 2), (Severity::Medium, 3), (Severity::Low, 4)];
    let mut out = Vec::new();
    for (sev, n) in plan {
        for _ in 0..n {
            let i = out.len();
            out.push(finding("kms-key-rotation-enabled", Status::Fail, sev, &[(FR, &["SC-12"])], &format!("r{i}")));
        }
    }
    out
}

#[test]
fn sarif_small_runs_are_not_marked() {
    let r = report(graded(), vec![]);
    let v = sarif_json(&r);
    let run = &v["runs"][0];
    assert_eq!(run["results"].as_array().unwrap().len(), 10);
    assert!(run["properties"].get("truncated").is_none());
    assert!(run["properties"].get("resultLimits").is_none());
    assert!(run["invocations"][0].get("toolExecutionNotifications").is_none());
}

#[test]
fn sarif_over_the_result_limit_keeps_the_most_severe_and_says_what_was_left_out() {
    let mut fs = graded();
    // an errored critical ranks with the criticals; a fixed (absent) critical ranks last
    fs.push(finding("kms-key-not-pending-deletion", Status::Error, Severity::Critical, &[(FR, &["SC-12"])], "e"));
    let mut r = report(fs, vec![collection_error()]);
    let mut gone = finding("kms-key-policy-no-wildcard-principal", Status::Fail, Severity::Critical, &[(FR, &["AC-3"])], "gone");
    gone.baseline_state = Some(crate::finding::BaselineState::Absent);
    r.absent.push(gone);
    let opts = super::sarif::SarifOptions { max_results: 4, ..Default::default() };
    let v = sarif_with(&r, &opts);
    let run = &v["runs"][0];
    let results = run["results"].as_array().unwrap();
    let kept: Vec<(&str, &str)> =
        results.iter().map(|r| (r["properties"]["severity"].as_str().unwrap(), r["properties"]["resourceId"].as_str().unwrap())).collect();
    assert_eq!(kept, [("critical", "r0"), ("high", "r1"), ("high", "r2"), ("critical", "e")], "most severe, in the report's order");
    let notes = run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 2, "the cap's warning and the collection error");
    assert_eq!(notes[0]["level"], "warning");
    let text = notes[0]["message"]["text"].as_str().unwrap();
    assert!(text.contains("holds 4 of 12 results"), "{text}");
    assert!(text.contains("at most 4 results per run"), "{text}");
    assert!(text.contains("Left out: 8 results (3 medium, 4 low, 1 absent (fixed since the baseline))"), "{text}");
    assert!(text.ends_with("the full list is in tapaudit.json."), "{text}");
    assert_eq!(notes[1]["level"], "error");
    let limits = &run["properties"]["resultLimits"];
    assert_eq!(run["properties"]["truncated"], true);
    assert_eq!((limits["total"].as_u64(), limits["included"].as_u64(), limits["omitted"].as_u64()), (Some(12), Some(4), Some(8)));
    assert_eq!(limits["omittedBySeverity"], json!({"critical": 0, "high": 0, "medium": 3, "low": 4, "info": 0}));
    assert_eq!(limits["omittedAbsent"], 1);

    // no JSON report written: the notification says how to get one
    let opts = super::sarif::SarifOptions { max_results: 4, full_report: None, ..Default::default() };
    let v = sarif_with(&r, &opts);
    let text = v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].as_str().unwrap().to_string();
    assert!(text.contains("--format json"), "{text}");
    assert_eq!(v["runs"][0]["properties"]["resultLimits"]["fullReport"], serde_json::Value::Null);
}

#[test]
fn sarif_over_the_size_budget_is_trimmed_until_it_fits() {
    let mut fs = graded();
    for (i, f) in fs.iter_mut().enumerate() {
        // hex of a hash chain: about 1 KB gzipped per result, more than the cap's own notice
        let mut h = format!("{i}");
        f.message = (0..32)
            .map(|_| {
                h = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(h.as_bytes()));
                h.clone()
            })
            .collect();
    }
    let r = report(fs, vec![]);
    let full = super::sarif::to_sarif(&r, &cat());
    let full_size = super::sarif::gzipped_len(&full);
    // a budget that fits roughly half the results
    let per_result = (full_size - super::sarif::gzipped_len(&super::sarif::to_sarif(&report(vec![], vec![]), &cat()))) / 10;
    let budget = full_size - per_result * 5;
    let opts = super::sarif::SarifOptions { max_gzip_bytes: budget, ..Default::default() };
    let sarif = super::sarif::to_sarif_with(&r, &cat(), &opts);
    assert!(super::sarif::gzipped_len(&sarif) <= budget);
    let text = super::sarif::to_sarif_string_with(&r, &cat(), &opts);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    assert_eq!(gz.finish().unwrap().len() as u64, super::sarif::gzipped_len(&sarif), "gzipped_len measures what to_sarif_string writes");
    let v = serde_json::to_value(&sarif).unwrap();
    let run = &v["runs"][0];
    let n = run["results"].as_array().unwrap().len();
    assert!((1..10).contains(&n), "{n}");
    let sev: Vec<&str> = run["results"].as_array().unwrap().iter().map(|r| r["properties"]["severity"].as_str().unwrap()).collect();
    let order = ["critical", "high", "medium", "low"];
    assert!(sev.windows(2).all(|w| order.iter().position(|s| *s == w[0]) <= order.iter().position(|s| *s == w[1])), "{sev:?}");
    let text = run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].as_str().unwrap();
    assert!(text.contains(&format!("holds {n} of 10 results")), "{text}");
    assert!(text.contains(&format!("at most {budget} bytes gzipped per file (10 results came to {full_size} bytes)")), "{text}");
    assert!(text.contains(&format!("Left out: {} results", 10 - n)), "{text}");
    assert_eq!(run["properties"]["resultLimits"]["limits"], json!(["gzip-size"]));
}

#[test]
fn sarif_rules_respect_tag_name_and_description_limits() {
    // a control the catalogue does not know, mapped to many frameworks, with a huge id and title
    let frameworks: Vec<(String, Vec<&str>)> = (0..30).map(|i| (format!("fw-{i:02}"), vec!["X-1"])).collect();
    let fw_refs: Vec<(&str, &[&str])> = frameworks.iter().map(|(f, r)| (f.as_str(), r.as_slice())).collect();
    let id = format!("custom-{}", "x".repeat(400));
    let mut f = finding(&id, Status::Fail, Severity::High, &fw_refs, "a");
    f.title = "word ".repeat(500);
    f.message = "m".repeat(10_000);
    let r = report(vec![f], vec![]);
    let v = sarif_json(&r);
    let run = &v["runs"][0];
    let rule = run["tool"]["driver"]["rules"].as_array().unwrap().iter().find(|r| r["id"] == id.as_str()).unwrap();
    let tags = rule["properties"]["tags"].as_array().unwrap();
    assert_eq!(tags.len(), super::sarif::MAX_TAGS_PER_RULE);
    assert_eq!(tags[0], "security");
    assert!(rule["name"].as_str().unwrap().chars().count() <= super::sarif::MAX_NAME_CHARS);
    assert!(rule["shortDescription"]["text"].as_str().unwrap().chars().count() <= 1024);
    assert!(rule["fullDescription"]["text"].as_str().unwrap().chars().count() <= 1024);
    let msg = run["results"][0]["message"]["text"].as_str().unwrap();
    assert!(msg.chars().count() <= super::sarif::MAX_MESSAGE_CHARS && msg.ends_with('…'));
}

#[test]
fn table_summarises_above_max_rows_and_not_below() {
    let r = report(graded(), vec![collection_error()]);
    let listed = render(&r, Some(100), false);
    assert!(listed.contains("Failing and errored findings, most severe first:"));
    assert!(!listed.contains("Per control"));
    assert_eq!(
        listed,
        super::table::render_with(&r, &super::table::TableOptions { width: Some(100), max_rows: 10, ..Default::default() }),
        "10 rows: still listed"
    );

    let opts = super::table::TableOptions { width: Some(100), max_rows: 9, full_list: vec!["out/tapaudit.json".into()], ..Default::default() };
    let text = super::table::render_with(&r, &opts);
    assert!(!text.contains("Failing and errored findings, most severe first:"), "{text}");
    assert!(text.contains("10 failing and errored findings are more than the table lists (--max-rows 9)"), "{text}");
    let control = text.lines().find(|l| l.contains("kms-key-rotation-enabled")).unwrap();
    let cells: Vec<&str> = control.split(['│', '┆']).map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(cells, ["critical", "kms-key-rotation-enabled", "10", "0", "0", "10"]);
    assert!(text.contains("The 10 most severe of 10 failing resources:"), "{text}");
    let r0 = text.find("r0-logical").unwrap();
    let r9 = text.find("r9-logical").unwrap();
    assert!(r0 < r9, "critical resource first");
    assert!(text.contains("The full list is in out/tapaudit.json."), "{text}");
    assert!(text.contains("Collection errors"), "a short error list is kept");
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "{line}");
    }
}
