//! End to end: `tapaudit scan` against the emulator through the built binary.

mod support;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange};
use serde_json::Value;
use std::collections::BTreeSet;
use support::{Emulator, Run};

fn scan(emu: &Emulator, args: &[&str], dir: &std::path::Path) -> Run {
    let mut a = vec!["scan", "--format", "json", "--output-dir", dir.to_str().unwrap()];
    a.extend_from_slice(args);
    emu.run(&a)
}

fn report(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("tapaudit.json")).unwrap()).unwrap()
}

/// (control id, logical id or resource id) of every finding with this status.
fn with_status(report: &Value, status: &str) -> BTreeSet<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == status)
        .map(|f| {
            let r = &f["resource"];
            let who = r["logical_id"].as_str().or(r["id"].as_str()).unwrap_or_default().to_string();
            (f["control_id"].as_str().unwrap().to_string(), who)
        })
        .collect()
}

/// Like `with_status`, for control findings only.
fn controls_with_status(report: &Value, status: &str) -> BTreeSet<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == status && f["kind"] == "control")
        .map(|f| {
            let r = &f["resource"];
            let who = r["logical_id"].as_str().or(r["id"].as_str()).unwrap_or_default().to_string();
            (f["control_id"].as_str().unwrap().to_string(), who)
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// The gaps the default stack knowingly has: rotating the database secret needs a rotation
/// Lambda, which provision does not build (see README), and the master password is generated
/// by provision rather than managed by RDS in Secrets Manager (issue 8 moves it to
/// ManageMasterUserPassword; both entries go away then).
const KNOWN: &[(&str, &str)] = &[("secrets-rotation-enabled", "db-credentials"), ("rds-master-credentials-managed", "database")];

#[tokio::test(flavor = "multi_thread")]
async fn provisioned_stack_scans_clean_then_changes_behind_our_back_fail_exactly() {
    let emu = Emulator::start();
    let prov = emu.run(&["provision", "--stack", "dev", "--output", "json"]).ok("provision");
    let outputs = prov.json()["outputs"].clone();
    let tmp = tempfile::tempdir().unwrap();

    // ---- clean: nothing failing at or above high, no errors, exit 0
    let clean_dir = tmp.path().join("clean");
    let clean = scan(&emu, &["--stack", "dev", "--format", "table,sarif"], &clean_dir);
    assert!(clean.stdout.contains("FedRAMP Moderate"), "the table goes to stdout: {}", clean.stdout);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    let r = report(&clean_dir);
    assert_eq!(with_status(&r, "fail"), set(KNOWN), "only the known gap fails");
    assert!(with_status(&r, "error").is_empty(), "{:?}", with_status(&r, "error"));
    assert!(r["errors"].as_array().unwrap().is_empty(), "{}", r["errors"]);
    assert_eq!(r["scope"]["stack"], "dev");
    assert!(r["stats"]["total_api_calls"].as_u64().unwrap() > 10);
    let passing = with_status(&r, "pass");
    for control in [
        "kms-key-rotation-enabled",
        "rds-storage-encrypted-cmk",
        "rds-force-ssl",
        "sg-no-internet-ingress-data-ports",
        "vpc-flow-logs-enabled",
        "apigw-method-authorization",
        "ecs-service-no-public-ip",
        "logs-log-group-cmk",
        "vpc-default-security-group-closed",
    ] {
        assert!(passing.iter().any(|(c, _)| c == control), "{control} passes on the provisioned stack");
    }
    // every finding carries the minimum JSON contract
    for f in r["findings"].as_array().unwrap() {
        for key in ["control_id", "kind", "status", "severity", "resource", "frameworks", "message", "evidence"] {
            assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
        }
        for key in ["type", "id", "arn", "region", "logical_id"] {
            assert!(f["resource"].get(key).is_some(), "resource lacks {key}: {f}");
        }
    }

    // ---- the password never reaches a report
    let cfg = emu.sdk().await;
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    let secret: Value =
        serde_json::from_str(sm.get_secret_value().secret_id(outputs["db_secret_arn"].as_str().unwrap()).send().await.unwrap().secret_string().unwrap())
            .unwrap();
    let password = secret["password"].as_str().unwrap();
    for f in ["tapaudit.json", "tapaudit.sarif", "tapaudit.txt"] {
        assert!(!std::fs::read_to_string(clean_dir.join(f)).unwrap().contains(password), "{f}");
    }

    // ---- behind tapaudit's back
    let kms = aws_sdk_kms::Client::new(&cfg);
    kms.disable_key_rotation().key_id(outputs["kms_key_id"].as_str().unwrap()).send().await.unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let sgs = ec2.describe_security_groups().filters(Filter::builder().name("group-name").values("tapaudit-dev-db-sg").build()).send().await.unwrap();
    let db_sg = sgs.security_groups()[0].group_id().unwrap().to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&db_sg)
        .ip_permissions(
            IpPermission::builder().ip_protocol("tcp").from_port(5432).to_port(5432).ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build(),
        )
        .send()
        .await
        .unwrap();
    let rds = aws_sdk_rds::Client::new(&cfg);
    rds.modify_db_instance().db_instance_identifier("tapaudit-dev-db").publicly_accessible(true).apply_immediately(true).send().await.unwrap();
    let kinesis = aws_sdk_kinesis::Client::new(&cfg);
    kinesis
        .stop_stream_encryption()
        .stream_name("tapaudit-dev-ingest")
        .encryption_type(aws_sdk_kinesis::types::EncryptionType::Kms)
        .key_id(outputs["kms_key_arn"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    logs.delete_retention_policy().log_group_name("/tapaudit/dev/ecs").send().await.unwrap();

    let bad_dir = tmp.path().join("bad");
    let bad = scan(&emu, &["--stack", "dev", "--format", "sarif"], &bad_dir);
    assert_eq!(bad.code, 1, "failing findings at or above high exit 1: {}", bad.stderr);
    let r = report(&bad_dir);
    let mut want_controls = set(KNOWN);
    want_controls.extend(set(&[
        ("kms-key-rotation-enabled", "data-key"),
        ("sg-no-internet-ingress-data-ports", "db-sg"),
        ("rds-not-publicly-accessible", "database"),
        ("kinesis-stream-encrypted", "stream"),
        ("kinesis-stream-cmk", "stream"),
        ("logs-log-group-retention", "ecs-log-group"),
    ]));
    assert_eq!(controls_with_status(&r, "fail"), want_controls);
    // the same changes, seen as drift from the stack file in the same report
    let mut want = want_controls.clone();
    want.extend(set(&[
        ("drift-changed", "data-key"),
        ("drift-unmanaged", "db-sg"),
        ("drift-changed", "database"),
        ("drift-changed", "stream"),
        ("drift-changed", "ecs-log-group"),
    ]));
    assert_eq!(with_status(&r, "fail"), want);
    assert!(with_status(&r, "error").is_empty());
    // located at the stack-file line of the declaring section
    let sg_finding =
        r["findings"].as_array().unwrap().iter().find(|f| f["control_id"] == "sg-no-internet-ingress-data-ports" && f["status"] == "fail").unwrap();
    let line = sg_finding["location"]["line"].as_u64().unwrap() as usize;
    let dev = std::fs::read_to_string(support::root().join("stacks/dev.toml")).unwrap();
    assert!(dev.lines().nth(line - 1).unwrap().starts_with("ingress = [{ port = 5432"), "line {line}");

    // ---- the SARIF of a live scan passes both validators
    let status = std::process::Command::new(support::root().join("scripts/validate-sarif.sh")).arg(bad_dir.join("tapaudit.sarif")).status().unwrap();
    assert!(status.success(), "SARIF of a live scan validates");
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(bad_dir.join("tapaudit.sarif")).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let failing = r["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "fail" || f["status"] == "error").count();
    assert_eq!(results.len(), failing, "one SARIF result per failing or errored finding");
    assert!(results.iter().all(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "stacks/dev.toml"));

    // ---- snapshot round trip: same verdicts offline, no AWS access
    let snap = tmp.path().join("state.json");
    let live_dir = tmp.path().join("live");
    scan(&emu, &["--stack", "dev", "--save-snapshot", snap.to_str().unwrap()], &live_dir);
    assert!(!std::fs::read_to_string(&snap).unwrap().contains(password), "no secret in the snapshot");
    let off_dir = tmp.path().join("offline");
    let offline = support::Emulator::offline_run(&[
        "scan",
        "--stack",
        "dev",
        "--from-snapshot",
        snap.to_str().unwrap(),
        "--format",
        "json",
        "--output-dir",
        off_dir.to_str().unwrap(),
    ]);
    assert_eq!(offline.code, 1, "{}", offline.stderr);
    assert_eq!(with_status(&report(&off_dir), "fail"), want);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_service_errors_its_controls_and_exits_2() {
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev"]).ok("provision");
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("outage.json");
    let out = emu
        .tapaudit(&[
            "scan",
            "--stack",
            "dev",
            "--format",
            "json",
            "--output-dir",
            tmp.path().to_str().unwrap(),
            "--max-attempts",
            "1",
            "--timeout",
            "3",
            "--save-snapshot",
            snap.to_str().unwrap(),
        ])
        .env("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let run = Run::from(out);
    assert_eq!(run.code, 2, "incomplete scan exits 2: {}", run.stderr);
    let r = report(tmp.path());
    let errors = with_status(&r, "error");
    let errored: BTreeSet<&str> = errors.iter().map(|(c, _)| c.as_str()).collect();
    // drift of the declared stream cannot be judged either: an error ("could not be read"), not drift-missing
    assert_eq!(errored, BTreeSet::from(["drift-changed", "kinesis-stream-cmk", "kinesis-stream-encrypted", "kinesis-stream-retention"]));
    assert!(!r["findings"].as_array().unwrap().iter().any(|f| f["control_id"] == "drift-missing"), "an unread stream is not missing");
    assert!(r["errors"].as_array().unwrap().iter().any(|e| e["service"] == "kinesis" && e["code"] == "ConnectionError"), "{}", r["errors"]);
    // the other services were still evaluated
    assert!(with_status(&r, "pass").iter().any(|(c, _)| c == "rds-storage-encrypted-cmk"));

    // a snapshot taken during the outage stays incomplete when evaluated again: exit 2, the
    // same error verdicts, the same collection errors
    let off = tmp.path().join("offline");
    let again = support::Emulator::offline_run(&[
        "scan",
        "--stack",
        "dev",
        "--from-snapshot",
        snap.to_str().unwrap(),
        "--format",
        "json",
        "--output-dir",
        off.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    let r2 = report(&off);
    assert_eq!(with_status(&r2, "error"), errors);
    assert_eq!(with_status(&r2, "pass"), with_status(&r, "pass"));
    assert_eq!(r2["errors"], r["errors"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_snapshots_are_refused_naming_the_json_path() {
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev"]).ok("provision");
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("state.json");
    let r = scan(&emu, &["--stack", "dev", "--save-snapshot", snap.to_str().unwrap()], &tmp.path().join("live"));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let good: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    let tamper = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        edit(&mut v);
        let path = tmp.path().join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        let r = support::Emulator::offline_run(&["scan", "--from-snapshot", path.to_str().unwrap(), "--output-dir", tmp.path().join("out").to_str().unwrap()]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{name}: one line: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{name}: nothing evaluated: {}", r.stdout);
        r.stderr
    };
    let e = tamper("empty-state.json", &|v| v["state"] = serde_json::json!({}));
    assert!(e.contains("empty-state.json: state.kms: missing"), "{e}");
    let e = tamper("no-rds.json", &|v| {
        v["state"].as_object_mut().unwrap().remove("rds");
    });
    assert!(e.contains("no-rds.json: state.rds: missing"), "{e}");
    let e = tamper("no-failures.json", &|v| {
        v["state"]["ec2"]["security_groups"].as_object_mut().unwrap().remove("failures");
    });
    assert!(e.contains("state.ec2.security_groups.failures: missing"), "{e}");
    let e = tamper("no-errors.json", &|v| {
        v.as_object_mut().unwrap().remove("errors");
    });
    assert!(e.contains("no-errors.json: errors: missing"), "{e}");
    let e = tamper("old.json", &|v| v["snapshot_version"] = serde_json::json!(1));
    assert!(e.contains("snapshot version 1 is older"), "{e}");
    let truncated = tmp.path().join("truncated.json");
    let text = std::fs::read_to_string(&snap).unwrap();
    std::fs::write(&truncated, &text[..text.len() * 2 / 3]).unwrap();
    let r = support::Emulator::offline_run(&["scan", "--from-snapshot", truncated.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("truncated.json:") && r.stderr.contains("invalid JSON"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_and_future_snapshots_are_refused_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let corrupt = tmp.path().join("corrupt.json");
    std::fs::write(&corrupt, "{\"snapshot_version\": 2, \"state\": [").unwrap();
    let r = support::Emulator::offline_run(&["scan", "--from-snapshot", corrupt.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("corrupt.json:1: not a tapaudit snapshot: invalid JSON"), "{}", r.stderr);
    let future = tmp.path().join("future.json");
    std::fs::write(&future, "{\"snapshot_version\": 99}").unwrap();
    let r = support::Emulator::offline_run(&["scan", "--from-snapshot", future.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("snapshot version 99 is newer than this tapaudit understands"), "{}", r.stderr);
    let r = support::Emulator::offline_run(&["scan", "--framework", "hipaa", "--from-snapshot", future.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown framework \"hipaa\""), "{}", r.stderr);
}
