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
        frameworks: std::sync::Arc::new(
            meta.frameworks.iter().filter(|(f, _)| FRAMEWORKS.contains(&f.as_str())).map(|(f, r)| (f.clone(), r.clone())).collect(),
        ),
        message: message.to_string(),
        evidence: Evidence::new(observed, expected),
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
        account: None,
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
        ..Default::default()
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

// ---- reports at scale: GitHub's SARIF limits and the table's summary ----

/// Failing (or errored) findings in bulk: `(control, status, how many)`, each on its own
/// resource, messages from `message(n)`; an account-wide report over the three frameworks.
fn bulk_report(cat: &Catalogue, plan: &[(&str, Status, usize)], message: &dyn Fn(usize) -> String) -> Report {
    let mut fs = Vec::new();
    let mut n = 0;
    for (control, status, count) in plan {
        let rtype = cat.controls[*control].resource_type.clone();
        for _ in 0..*count {
            let id = format!("r-{n:06}");
            fs.push(finding(cat, control, *status, res(&rtype, &id, &format!("thing/{id}"), None), &message(n), Value::Null, Value::Null));
            n += 1;
        }
    }
    let scope = Scope {
        stack: None,
        stack_file: None,
        account: Some(ACCOUNT.to_string()),
        regions: vec![REGION.to_string()],
        endpoint: "https://sts.us-east-1.amazonaws.com".to_string(),
        frameworks: FRAMEWORKS.iter().map(|s| s.to_string()).collect(),
        source: Source::Snapshot,
    };
    Report::new(cat, scope, fs, vec![], CollectionStats::default(), "2026-01-15T10:00:00Z".to_string(), "2026-01-15T10:05:00Z".to_string())
}

fn gzip_len(text: &str) -> usize {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap().len()
}

/// Results per severity (the result's `properties.severity`).
fn by_severity(results: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in results {
        *out.entry(r["properties"]["severity"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    out
}

/// Everything GitHub checks on upload, whatever the report: returns the run.
fn assert_within_github_limits(text: &str) -> Value {
    let gz = gzip_len(text);
    assert!(gz as u64 <= report::sarif::MAX_GZIP_BYTES, "gzipped {gz} bytes");
    let v: Value = serde_json::from_str(text).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert!(runs.len() <= 20 && runs.len() == 1, "{} runs", runs.len());
    let run = &runs[0];
    let results = run["results"].as_array().unwrap();
    assert!(results.len() <= 25_000, "{} results", results.len());
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() <= 25_000);
    for rule in rules {
        assert!(rule["properties"]["tags"].as_array().unwrap().len() <= 20, "{}", rule["id"]);
        assert!(rule["shortDescription"]["text"].as_str().unwrap().chars().count() <= 1024);
        assert!(rule["fullDescription"]["text"].as_str().unwrap().chars().count() <= 1024);
        assert!(rule["name"].as_str().unwrap().chars().count() <= 255);
    }
    for r in results {
        assert!(r["locations"].as_array().unwrap().len() <= 1000);
        assert!(r["message"]["text"].as_str().unwrap().chars().count() <= report::sarif::MAX_MESSAGE_CHARS);
    }
    run.clone()
}

/// The capped run's warning: (its text, the `resultLimits` property).
fn cap_notice(run: &Value) -> (String, Value) {
    let note = &run["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "warning");
    assert_eq!(run["properties"]["truncated"], true);
    (note["message"]["text"].as_str().unwrap().to_string(), run["properties"]["resultLimits"].clone())
}

#[test]
fn sarif_at_scale_keeps_the_most_severe_25000_and_says_so() {
    let cat = catalogue();
    // 26,000 failing or errored findings: 4,000 critical, 8,000 high (200 errored), 8,000 medium, 6,000 low
    let plan = [
        ("rds-not-publicly-accessible", Status::Fail, 2_000),
        ("s3-bucket-not-public", Status::Fail, 2_000),
        ("sg-no-internet-ingress-admin-ports", Status::Fail, 4_000),
        ("elasticache-encryption-at-rest", Status::Fail, 3_800),
        ("elasticache-encryption-at-rest", Status::Error, 200),
        ("kms-key-rotation-enabled", Status::Fail, 4_000),
        ("alb-access-logs", Status::Fail, 4_000),
        ("iam-user-no-direct-policies", Status::Fail, 3_000),
        ("rds-master-username-not-default", Status::Fail, 3_000),
        ("kms-key-rotation-enabled", Status::Pass, 500),
    ];
    let r = bulk_report(&cat, &plan, &|n| format!("finding number {n} fails"));
    assert_eq!(r.summary.findings.fail + r.summary.findings.error, 26_000);
    let text = report::to_sarif_string(&r, &cat);
    let run = assert_within_github_limits(&text);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 25_000);
    let expected: BTreeMap<String, usize> =
        [("critical", 4_000), ("high", 8_000), ("medium", 8_000), ("low", 5_000)].into_iter().map(|(s, n)| (s.to_string(), n)).collect();
    assert_eq!(by_severity(results), expected, "the 1,000 left out are low ones");
    assert_eq!(results.iter().filter(|r| r["properties"]["status"] == "error").count(), 200, "errored findings rank by their severity");

    let (note, limits) = cap_notice(&run);
    assert!(note.contains("holds 25000 of 26000 results"), "{note}");
    assert!(note.contains("at most 25000 results per run"), "{note}");
    assert!(note.contains("Left out: 1000 results (1000 low)"), "{note}");
    assert!(note.contains("tapaudit.json"), "{note}");
    assert!(!note.contains("gzipped"), "the size limit did not apply: {note}");
    assert_eq!(limits["omitted"], 1000);
    assert_eq!(limits["omittedBySeverity"]["low"], 1000);
    assert_eq!(limits["omittedBySeverity"]["critical"], 0);
    assert_eq!(limits["limits"], json!(["results-per-run"]));
    assert_eq!(limits["fullReport"], "tapaudit.json");

    // the kept low findings are the first in the report's order; fingerprints unaffected by the cap
    let fps: std::collections::BTreeSet<&str> = results.iter().map(|r| r["partialFingerprints"]["tapaudit/v1"].as_str().unwrap()).collect();
    assert_eq!(fps.len(), 25_000);
    for f in r.findings.iter().filter(|f| f.severity != tapaudit::finding::Severity::Low && f.status != Status::Pass) {
        assert!(fps.contains(report::fingerprint(f).as_str()), "{} on {} kept", f.control_id, f.resource.id);
    }

    eprintln!("26,000 findings: SARIF {} bytes, {} bytes gzipped", text.len(), gzip_len(&text));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scale.sarif");
    std::fs::write(&path, &text).unwrap();
    validate(&[&path]);
}

/// Pseudo-random text that gzip cannot shrink much (so the size limit trips before the count).
fn noise(seed: usize, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-";
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % 64) as usize] as char
        })
        .collect()
}

#[test]
fn sarif_over_the_gzip_limit_drops_the_least_severe_until_it_fits() {
    let cat = catalogue();
    let plan = [
        ("rds-not-publicly-accessible", Status::Fail, 3_000),
        ("sg-no-internet-ingress-admin-ports", Status::Fail, 5_000),
        ("kms-key-rotation-enabled", Status::Fail, 6_000),
        ("iam-user-no-direct-policies", Status::Fail, 6_000),
    ];
    let r = bulk_report(&cat, &plan, &|n| noise(n, 1_000));
    let text = report::to_sarif_string(&r, &cat);
    let gz = gzip_len(&text);
    let run = assert_within_github_limits(&text);
    assert!(gz as u64 <= report::sarif::GZIP_BUDGET_BYTES, "{gz}");
    let results = run["results"].as_array().unwrap();
    let kept = results.len();
    assert!(kept < 20_000 && kept > 3_000, "{kept} results kept");
    let counts = by_severity(results);
    // most severe first: a severity is only cut once every more severe one is complete
    let generated = [("critical", 3_000), ("high", 5_000), ("medium", 6_000), ("low", 6_000)];
    let mut cut = false;
    for (sev, n) in generated {
        let k = counts.get(sev).copied().unwrap_or(0);
        assert!(!cut || k == 0, "{sev}: {k} kept after a more severe level was cut ({counts:?})");
        if k < n {
            cut = true;
        }
    }
    let (note, limits) = cap_notice(&run);
    let omitted = 20_000 - kept;
    assert!(note.contains(&format!("holds {kept} of 20000 results")), "{note}");
    assert!(note.contains(&format!("Left out: {omitted} results")), "{note}");
    assert!(note.contains("bytes gzipped per file"), "{note}");
    assert_eq!(limits["omitted"], omitted);
    assert_eq!(limits["limits"], json!(["gzip-size"]));
    let by_sev_omitted: u64 = limits["omittedBySeverity"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(by_sev_omitted, omitted as u64);
    eprintln!("20,000 noisy findings: {kept} results kept, SARIF {} bytes, {gz} bytes gzipped", text.len());
}

#[test]
fn table_at_scale_prints_a_summary_and_points_at_the_files() {
    let cat = catalogue();
    // 60,000 findings: 55,000 failing or errored over eight controls, 5,000 passing
    let plan = [
        ("rds-not-publicly-accessible", Status::Fail, 5_000),
        ("s3-bucket-not-public", Status::Fail, 5_000),
        ("sg-no-internet-ingress-admin-ports", Status::Fail, 10_000),
        ("elasticache-encryption-at-rest", Status::Error, 5_000),
        ("kms-key-rotation-enabled", Status::Fail, 10_000),
        ("kms-key-rotation-enabled", Status::Pass, 5_000),
        ("alb-access-logs", Status::Fail, 10_000),
        ("iam-user-no-direct-policies", Status::Fail, 10_000),
    ];
    let r = bulk_report(&cat, &plan, &|n| format!("finding number {n} fails for a reason that takes some words to explain"));
    assert_eq!(r.findings.len(), 60_000);
    for width in [Some(120), Some(80), None] {
        let text = report::render(&r, width, false);
        let lines = text.lines().count();
        assert!(lines < 200, "{lines} lines at width {width:?}:\n{text}");
        assert!(text.len() < 40_000, "{} bytes", text.len());
        if let Some(w) = width {
            assert!(text.lines().all(|l| l.chars().count() <= w as usize));
        }
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("55000 failing and errored findings are more than the table lists (--max-rows 200)"), "{flat}");
        assert!(flat.contains("Per control"), "{flat}");
        assert!(flat.contains("most severe of 50000 failing resources"), "{flat}");
        assert!(flat.contains("The full list is in tapaudit.json"), "{flat}");
        assert!(flat.contains("60000 findings: 50000 failing"), "the totals line stays: {flat}");
    }
    let text = report::render(&r, None, false);
    // per-control counts: fail, error, pass, resources
    let row = |control: &str| text.lines().find(|l| l.contains(&format!(" {control} "))).unwrap_or_else(|| panic!("{control}:\n{text}")).to_string();
    let cells = |line: String| line.split(['│', '┆']).map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect::<Vec<_>>();
    assert_eq!(cells(row("kms-key-rotation-enabled")), ["medium", "kms-key-rotation-enabled", "10000", "0", "5000", "10000"]);
    assert_eq!(cells(row("elasticache-encryption-at-rest")), ["high", "elasticache-encryption-at-rest", "0", "5000", "0", "5000"]);
    let critical = text.find("rds-not-publicly-accessible").unwrap();
    let low = text.find("iam-user-no-direct-policies").unwrap();
    assert!(critical < low, "most severe first");

    // the files the scan wrote, when it says which
    let opts = report::table::TableOptions {
        width: Some(120),
        full_list: vec!["reports/account-123456789012/tapaudit.json".into(), "reports/account-123456789012/tapaudit.sarif".into()],
        ..Default::default()
    };
    let text = report::table::render_with(&r, &opts);
    assert!(text.contains("The full list is in reports/account-123456789012/tapaudit.json, reports/account-123456789012/tapaudit.sarif."), "{text}");
    // and without a row limit, every row (the tapaudit.txt file)
    let small = bulk_report(&cat, &plan[..1], &|n| format!("n{n}"));
    let full = report::table::render_with(&small, &report::table::TableOptions { max_rows: usize::MAX, ..Default::default() });
    assert!(full.lines().count() > 5_000);
    assert!(!full.contains("Per control"));
    eprintln!("60,000 findings: table {} lines, {} bytes", report::render(&r, Some(120), false).lines().count(), report::render(&r, Some(120), false).len());
}
