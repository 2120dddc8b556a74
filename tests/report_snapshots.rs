//! The report layer through the public API: snapshots of the table, the JSON and the SARIF of
//! a hand-made scan, and the SARIF checked by scripts/validate-sarif.sh (OASIS schema + the
//! SARIF Multitool with GitHub's rules).
//!
//! Update snapshots: `INSTA_UPDATE=always cargo test --test report_snapshots`, then read the
//! .snap files. Regenerate fixtures/reports/sample.sarif: `TAPAUDIT_WRITE_FIXTURES=1 cargo test
//! --test report_snapshots` (it is written when missing too).

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use tapaudit::collect::stats::{CollectionError, CollectionStats};
use tapaudit::controls::Catalogue;
use tapaudit::finding::{Evidence, Finding, FindingResource, Kind, Status};
use tapaudit::model::SourceRef;
use tapaudit::report::{self, Report, Scope, Source};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const FRAMEWORKS: [&str; 3] = ["fedramp-moderate", "ferpa", "lgpd"];

fn catalogue() -> Catalogue {
    Catalogue::load().expect("the compiled-in catalogue parses")
}

fn res(rtype: &str, id: &str, arn_tail: &str, logical: Option<&str>) -> FindingResource {
    let service = rtype.split(':').next().unwrap();
    let region = if service == "iam" { "" } else { REGION };
    FindingResource {
        resource_type: rtype.to_string(),
        id: id.to_string(),
        arn: format!("arn:aws:{service}:{region}:{ACCOUNT}:{arn_tail}"),
        region: region.to_string(),
        logical_id: logical.map(str::to_string),
        name: None,
    }
}

/// A finding as the controls would make it: severity, title and in-scope requirements from the catalogue.
fn finding(cat: &Catalogue, control: &str, status: Status, resource: FindingResource, message: &str, observed: Value, expected: Value) -> Finding {
    let meta = cat.controls.get(control).unwrap_or_else(|| panic!("{control} is in the catalogue"));
    Finding {
        control_id: control.to_string(),
        kind: if meta.service == "drift" { Kind::Drift } else { Kind::Control },
        status,
        severity: meta.severity,
        title: meta.title.clone(),
        resource,
        frameworks: meta.frameworks.iter().filter(|(f, _)| FRAMEWORKS.contains(&f.as_str())).map(|(f, r)| (f.clone(), r.clone())).collect(),
        message: message.to_string(),
        evidence: Evidence { observed, expected },
        location: None,
        suppression: None,
        baseline_state: None,
    }
}

fn findings(cat: &Catalogue) -> Vec<Finding> {
    let data_key = || res("kms:key", "0b1c2d3e-1111-2222-3333-444455556666", "key/0b1c2d3e-1111-2222-3333-444455556666", Some("data-key"));
    let mut drift = finding(
        cat,
        "drift-changed",
        Status::Fail,
        res("logs:log-group", "/tapaudit/dev/app", "log-group:/tapaudit/dev/app", Some("app-logs")),
        "retention_days is 7 in AWS, the stack file declares 365",
        json!({"field": "retention_days", "value": 7}),
        json!({"field": "retention_days", "value": 365}),
    );
    drift.location = Some(SourceRef { path: "stacks/dev.toml".to_string(), line: 41 });
    vec![
        finding(cat, "kms-key-rotation-enabled", Status::Fail, data_key(), "automatic key rotation is disabled", json!(false), json!(true)),
        finding(cat, "kms-key-policy-no-wildcard-principal", Status::Pass, data_key(), "the key policy names its principals", json!([]), json!([])),
        finding(
            cat,
            "rds-not-publicly-accessible",
            Status::Fail,
            res("rds:db-instance", "tapaudit-dev-db", "db:tapaudit-dev-db", Some("db")),
            "the instance is publicly accessible",
            json!(true),
            json!(false),
        ),
        finding(
            cat,
            "sg-no-internet-ingress-admin-ports",
            Status::Fail,
            res("ec2:security-group", "sg-0123456789abcdef0", "security-group/sg-0123456789abcdef0", None),
            "tcp/22 is open to 0.0.0.0/0",
            json!(["0.0.0.0/0 tcp/22"]),
            json!([]),
        ),
        drift,
        finding(
            cat,
            "logs-log-group-retention",
            Status::Pass,
            res("logs:log-group", "/tapaudit/dev/audit", "log-group:/tapaudit/dev/audit", Some("audit-logs")),
            "retention is 365 days",
            json!(365),
            json!(365),
        ),
        finding(
            cat,
            "secrets-rotation-enabled",
            Status::Error,
            res("secretsmanager:secret", "tapaudit/dev/db-master", "secret:tapaudit/dev/db-master-AbCdEf", Some("db-secret")),
            "evidence could not be read: DescribeSecret: AccessDeniedException",
            Value::Null,
            Value::Null,
        ),
        finding(
            cat,
            "rds-multi-az",
            Status::NotApplicable,
            res("rds:db-instance", "tapaudit-dev-replica", "db:tapaudit-dev-replica", Some("replica")),
            "read replicas inherit availability from their source",
            Value::Null,
            Value::Null,
        ),
    ]
}

fn errors() -> Vec<CollectionError> {
    vec![CollectionError {
        service: "secretsmanager".to_string(),
        operation: "DescribeSecret".to_string(),
        region: REGION.to_string(),
        resource: Some(format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:tapaudit/dev/db-master-AbCdEf")),
        code: "AccessDeniedException".to_string(),
        message: "User is not authorized to perform secretsmanager:DescribeSecret".to_string(),
    }]
}

fn stats() -> CollectionStats {
    let mut api_calls = BTreeMap::new();
    api_calls.insert("kms".to_string(), BTreeMap::from([("ListKeys".to_string(), 1), ("DescribeKey".to_string(), 1), ("GetKeyRotationStatus".to_string(), 1)]));
    api_calls.insert("secretsmanager".to_string(), BTreeMap::from([("ListSecrets".to_string(), 1), ("DescribeSecret".to_string(), 1)]));
    CollectionStats {
        api_calls,
        total_api_calls: 5,
        service_seconds: BTreeMap::from([("kms".to_string(), 0.25), ("secretsmanager".to_string(), 0.5)]),
        resources: BTreeMap::from([("kms:key".to_string(), 1), ("secretsmanager:secret".to_string(), 1)]),
        wall_seconds: 1.5,
    }
}

fn stack_report(cat: &Catalogue) -> Report {
    let scope = Scope {
        stack: Some("dev".to_string()),
        stack_file: Some("stacks/dev.toml".to_string()),
        account: Some(ACCOUNT.to_string()),
        regions: vec![REGION.to_string()],
        endpoint: "http://127.0.0.1:5000".to_string(),
        frameworks: FRAMEWORKS.iter().map(|s| s.to_string()).collect(),
        source: Source::Live,
    };
    Report::new(cat, scope, findings(cat), errors(), stats(), "2026-01-15T10:00:00Z".to_string(), "2026-01-15T10:00:02Z".to_string())
}

/// Everything in the account, no stack file: locations fall back to `aws/<account>/<region>/...`.
fn account_report(cat: &Catalogue) -> Report {
    let scope = Scope {
        stack: None,
        stack_file: None,
        account: Some(ACCOUNT.to_string()),
        regions: vec![REGION.to_string()],
        endpoint: "https://sts.us-east-1.amazonaws.com".to_string(),
        frameworks: vec!["fedramp-moderate".to_string()],
        source: Source::Live,
    };
    let mut fs: Vec<Finding> = findings(cat).into_iter().filter(|f| f.kind == Kind::Control).collect();
    fs.push(finding(
        cat,
        "iam-no-admin-wildcard",
        Status::Fail,
        res("iam:policy", "ANPAEXAMPLE", "policy/everything", None),
        "the policy allows * on *",
        json!({"Action": "*", "Resource": "*"}),
        Value::Null,
    ));
    Report::new(cat, scope, fs, vec![], stats(), "2026-01-15T10:00:00+01:00".to_string(), "2026-01-15T10:00:03+01:00".to_string())
}

fn sarif_value(report: &Report, cat: &Catalogue) -> Value {
    serde_json::from_str(&report::to_sarif_string(report, cat)).expect("to_sarif_string is JSON")
}

#[test]
fn table_snapshot() {
    let cat = catalogue();
    let text = report::render(&stack_report(&cat), Some(120), false);
    assert!(!text.contains('\u{1b}'));
    for line in text.lines() {
        assert!(line.chars().count() <= 120, "wider than 120: {line}");
    }
    insta::assert_snapshot!("table", text);
}

#[test]
fn json_snapshot() {
    let cat = catalogue();
    let r = stack_report(&cat);
    assert_eq!(r.exit_code(tapaudit::finding::Severity::High), 2, "incomplete wins");
    let back: Report = serde_json::from_str(&r.to_json()).expect("the JSON reads back");
    assert_eq!(back, r);
    insta::assert_json_snapshot!("json", r, {
        ".tool.version" => "[version]",
        ".started_at" => "[timestamp]",
        ".finished_at" => "[timestamp]",
    });
}

#[test]
fn sarif_snapshot() {
    let cat = catalogue();
    let v = sarif_value(&stack_report(&cat), &cat);
    assert_eq!(v["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
    assert_eq!(v["version"], "2.1.0");
    insta::assert_json_snapshot!("sarif", v, {
        ".runs[].tool.driver.version" => "[version]",
        ".runs[].tool.driver.semanticVersion" => "[version]",
        ".runs[].invocations[].startTimeUtc" => "[timestamp]",
        ".runs[].invocations[].endTimeUtc" => "[timestamp]",
    });
}

#[test]
fn sarif_account_wide_snapshot() {
    let cat = catalogue();
    let v = sarif_value(&account_report(&cat), &cat);
    // the rules are the same as in the stack snapshot's fedramp part; snapshot the results
    insta::assert_json_snapshot!(
        "sarif_account_results",
        json!({
            "automationDetails": v["runs"][0]["automationDetails"],
            "results": v["runs"][0]["results"],
        })
    );
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validate(files: &[&Path]) {
    let script = manifest_dir().join("scripts/validate-sarif.sh");
    let out = Command::new("bash").arg(&script).args(files).current_dir(manifest_dir()).output().expect("run scripts/validate-sarif.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(0), "validate-sarif.sh rejected the SARIF:\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
}

#[test]
fn sarif_passes_schema_and_github_rules() {
    let cat = catalogue();
    let dir = tempfile::tempdir().expect("temp dir");
    let stack = dir.path().join("stack.sarif");
    let account = dir.path().join("account.sarif");
    let clean = dir.path().join("clean.sarif");
    std::fs::write(&stack, report::to_sarif_string(&stack_report(&cat), &cat)).unwrap();
    std::fs::write(&account, report::to_sarif_string(&account_report(&cat), &cat)).unwrap();
    // no results at all is valid too
    let mut empty = account_report(&cat);
    empty.findings.clear();
    std::fs::write(&clean, report::to_sarif_string(&empty, &cat)).unwrap();

    let sample = manifest_dir().join("fixtures/reports/sample.sarif");
    if !sample.exists() || std::env::var_os("TAPAUDIT_WRITE_FIXTURES").is_some() {
        std::fs::create_dir_all(sample.parent().unwrap()).unwrap();
        std::fs::write(&sample, report::to_sarif_string(&stack_report(&cat), &cat) + "\n").unwrap();
    }
    validate(&[&stack, &account, &clean, &sample]);
}
