//! End to end: drift, suppressions and baselines through the built binary against the emulator.

mod support;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange};
use serde_json::Value;
use support::{Emulator, Run};

fn scan(emu: &Emulator, stack: &str, dir: &std::path::Path, extra: &[&str]) -> (Run, Value) {
    let mut args = vec!["scan", "--stack", stack, "--format", "json,sarif", "--output-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = emu.run(&args);
    let report = serde_json::from_str(&std::fs::read_to_string(dir.join("tapaudit.json")).unwrap_or_else(|_| panic!("no report: {}", run.stderr))).unwrap();
    (run, report)
}

fn drift(report: &Value) -> Vec<&Value> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "drift").collect()
}

fn line_of(needle: &str) -> u64 {
    let text = std::fs::read_to_string(support::root().join("stacks/dev.toml")).unwrap();
    text.lines().position(|l| l.trim_start().starts_with(needle)).unwrap_or_else(|| panic!("{needle} not in dev.toml")) as u64 + 1
}

fn validate_sarif(path: &std::path::Path) {
    let ok = std::process::Command::new(support::root().join("scripts/validate-sarif.sh")).arg(path).status().unwrap().success();
    assert!(ok, "{} validates", path.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_reported_once_per_change_with_field_want_got_and_line() {
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev"]).ok("provision");
    let tmp = tempfile::tempdir().unwrap();
    let (clean, r) = scan(&emu, "dev", &tmp.path().join("clean"), &[]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert!(drift(&r).is_empty(), "no phantom drift right after provision: {:#?}", drift(&r));

    let cfg = emu.sdk().await;
    // missing: delete a log group
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    logs.delete_log_group().log_group_name("/tapaudit/dev/ingest-api").send().await.unwrap();
    // changed: RDS backup retention
    let rds = aws_sdk_rds::Client::new(&cfg);
    rds.modify_db_instance().db_instance_identifier("tapaudit-dev-db").backup_retention_period(3).apply_immediately(true).send().await.unwrap();
    // unmanaged rule: an ingress rule the stack does not declare
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let sg = ec2.describe_security_groups().filters(Filter::builder().name("group-name").values("tapaudit-dev-ecs-tasks-sg").build()).send().await.unwrap();
    let sg_id = sg.security_groups()[0].group_id().unwrap().to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&sg_id)
        .ip_permissions(
            IpPermission::builder().ip_protocol("tcp").from_port(22).to_port(22).ip_ranges(IpRange::builder().cidr_ip("10.9.0.0/16").build()).build(),
        )
        .send()
        .await
        .unwrap();
    // changed + control fail: key rotation off
    let kms = aws_sdk_kms::Client::new(&cfg);
    let alias = kms.list_aliases().send().await.unwrap();
    let key_id = alias.aliases().iter().find(|a| a.alias_name() == Some("alias/tapaudit-dev-data-key")).unwrap().target_key_id().unwrap().to_string();
    kms.disable_key_rotation().key_id(&key_id).send().await.unwrap();
    // unmanaged resource: something else carrying the stack's tag
    logs.create_log_group().log_group_name("/tapaudit/dev/handmade").tags("tapaudit:stack", "dev").send().await.unwrap();
    // a removed tag
    let kinesis = aws_sdk_kinesis::Client::new(&cfg);
    kinesis.remove_tags_from_stream().stream_name("tapaudit-dev-stream").tag_keys("Environment").send().await.unwrap();

    let dir = tmp.path().join("drifted");
    let (run, r) = scan(&emu, "dev", &dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found: Vec<(String, String, String, String, String, u64)> = drift(&r)
        .iter()
        .map(|f| {
            (
                f["control_id"].as_str().unwrap().to_string(),
                f["resource"]["logical_id"].as_str().or(f["resource"]["id"].as_str()).unwrap_or_default().to_string(),
                f["evidence"]["expected"]["field"].as_str().unwrap_or_default().to_string(),
                f["evidence"]["expected"]["value"].to_string(),
                f["evidence"]["observed"]["value"].to_string(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = vec![
        ("drift-missing", "ingest-api-logs", "resource", "\"present\"", "\"absent\"", line_of("[apis.ingest-api]")),
        ("drift-changed", "db", "backup_retention_days", "7", "3", line_of("backup_retention_days")),
        ("drift-unmanaged", "ecs-tasks-sg", "ingress", "\"(not declared)\"", "\"tcp/22 from cidr:10.9.0.0/16\"", line_of("ingress = [{ port = 8080")),
        ("drift-changed", "data-key", "rotation_enabled", "true", "false", line_of("rotation = true")),
        ("drift-unmanaged", "/tapaudit/dev/handmade", "resource", "\"(not declared)\"", "\"/tapaudit/dev/handmade\"", 1),
        ("drift-changed", "stream", "tags.Environment", "\"dev\"", "null", line_of("[streams.stream]")),
    ];
    let mut want: Vec<(String, String, String, String, String, u64)> =
        expected.into_iter().map(|(a, b, c, d, e, l)| (a.into(), b.into(), c.into(), d.into(), e.into(), l)).collect();
    let mut got = found.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want, "each change exactly once, with kind, field, want/got and line");
    for f in drift(&r) {
        assert_eq!(f["status"], "fail");
        assert!(f["frameworks"]["fedramp-moderate"].as_array().unwrap().iter().any(|id| id == "CM-2" || id == "CM-3" || id == "CM-6" || id == "CM-8"), "{f}");
    }
    // the rotation change also fails its control
    assert!(r["findings"].as_array().unwrap().iter().any(|f| f["control_id"] == "kms-key-rotation-enabled" && f["status"] == "fail"));
    validate_sarif(&dir.join("tapaudit.sarif"));
    // drift comes from the same collection: the call count matches a clean scan's
    let calls = |r: &Value| r["stats"]["total_api_calls"].as_u64().unwrap();
    let (_, again) = scan(&emu, "dev", &tmp.path().join("again"), &["--format", "json"]);
    assert!(calls(&again) <= calls(&r) + 2, "no second round of API calls");
}

#[tokio::test(flavor = "multi_thread")]
async fn suppressions_and_baselines() {
    let emu = Emulator::start();
    let tmp = tempfile::tempdir().unwrap();
    // a copy of dev.toml with its own suppression file beside it
    let dir = tmp.path().join("stacks");
    std::fs::create_dir_all(&dir).unwrap();
    let stack = dir.join("dev.toml");
    std::fs::copy(support::root().join("stacks/dev.toml"), &stack).unwrap();
    emu.run(&["provision", "--stack", stack.to_str().unwrap()]).ok("provision");
    let cfg = emu.sdk().await;
    let kms = aws_sdk_kms::Client::new(&cfg);
    let alias = kms.list_aliases().send().await.unwrap();
    let key_id = alias.aliases().iter().find(|a| a.alias_name() == Some("alias/tapaudit-dev-data-key")).unwrap().target_key_id().unwrap().to_string();
    kms.disable_key_rotation().key_id(&key_id).send().await.unwrap();

    // a live suppression hides the failure from the exit code and shows it in SARIF
    std::fs::write(
        dir.join("tapaudit.ignore.toml"),
        "[[suppressions]]\ncontrol = \"drift-changed\"\nresource = \"data-key\"\nreason = \"key rotation paused during the HSM migration, ticket SEC-42\"\nexpires = \"2099-12-31\"\n\n[[suppressions]]\ncontrol = \"kms-key-rotation-enabled\"\nresource = \"data-key\"\nreason = \"key rotation paused during the HSM migration, ticket SEC-42\"\nexpires = \"2099-12-31\"\n",
    )
    .unwrap();
    let out = tmp.path().join("suppressed");
    let (run, r) = scan(&emu, stack.to_str().unwrap(), &out, &["--fail-on", "medium"]);
    let rot = r["findings"].as_array().unwrap().iter().find(|f| f["control_id"] == "kms-key-rotation-enabled" && f["status"] == "fail").unwrap().clone();
    assert_eq!(rot["suppression"]["reason"], "key rotation paused during the HSM migration, ticket SEC-42");
    let unsuppressed: Vec<&Value> = r["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "fail" && f["suppression"].is_null()).collect();
    let only_known = unsuppressed.iter().all(|f| f["control_id"] == "secrets-rotation-enabled");
    assert!(only_known, "{unsuppressed:#?}");
    assert_eq!(run.code, if unsuppressed.is_empty() { 0 } else { 1 });
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(out.join("tapaudit.sarif")).unwrap()).unwrap();
    let res = sarif["runs"][0]["results"].as_array().unwrap().iter().find(|x| x["ruleId"] == "kms-key-rotation-enabled").unwrap();
    assert_eq!(res["suppressions"][0]["kind"], "external");
    assert!(res["suppressions"][0]["justification"].as_str().unwrap().contains("SEC-42"));
    validate_sarif(&out.join("tapaudit.sarif"));

    // an expired suppression applies no more and is reported
    let ignore = std::fs::read_to_string(dir.join("tapaudit.ignore.toml")).unwrap().replace("2099-12-31", "2020-01-31");
    std::fs::write(dir.join("tapaudit.ignore.toml"), ignore).unwrap();
    let (run, r) = scan(&emu, stack.to_str().unwrap(), &tmp.path().join("expired"), &[]);
    assert_eq!(run.code, 0, "medium failures stay below the default high threshold: {}", run.stderr);
    assert_eq!(r["expired_suppressions"].as_array().unwrap().len(), 2);
    assert!(run.stderr.contains("expired on 2020-01-31: it no longer applies"), "{}", run.stderr);
    let rot = r["findings"].as_array().unwrap().iter().find(|f| f["control_id"] == "kms-key-rotation-enabled" && f["status"] == "fail").unwrap();
    assert!(rot["suppression"].is_null());
    std::fs::remove_file(dir.join("tapaudit.ignore.toml")).unwrap();

    // baseline: fix one finding (rotation back on), add another (MySQL open to the world)
    let base = tmp.path().join("base");
    scan(&emu, stack.to_str().unwrap(), &base, &[]);
    kms.enable_key_rotation().key_id(&key_id).send().await.unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let sg = ec2.describe_security_groups().filters(Filter::builder().name("group-name").values("tapaudit-dev-db-sg").build()).send().await.unwrap();
    ec2.authorize_security_group_ingress()
        .group_id(sg.security_groups()[0].group_id().unwrap())
        .ip_permissions(
            IpPermission::builder().ip_protocol("tcp").from_port(3306).to_port(3306).ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build(),
        )
        .send()
        .await
        .unwrap();
    let now = tmp.path().join("now");
    let baseline = base.join("tapaudit.json");
    let (run, r) = scan(&emu, stack.to_str().unwrap(), &now, &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    let absent: Vec<(&str, &str)> = r["absent"].as_array().unwrap().iter().map(|f| (f["control_id"].as_str().unwrap(), f["kind"].as_str().unwrap())).collect();
    let new: Vec<(&str, &str)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baseline_state"] == "new")
        .map(|f| (f["control_id"].as_str().unwrap(), f["kind"].as_str().unwrap()))
        .collect();
    // one control finding fixed and one added; the same changes are also drift (its own kind)
    let control_absent: Vec<_> = absent.iter().filter(|(_, k)| *k == "control").collect();
    let control_new: Vec<_> = new.iter().filter(|(_, k)| *k == "control").collect();
    assert_eq!(control_absent, vec![&("kms-key-rotation-enabled", "control")], "{absent:?}");
    assert_eq!(control_new, vec![&("sg-no-internet-ingress-data-ports", "control")], "{new:?}");
    assert_eq!(absent.len(), 2, "plus the rotation drift: {absent:?}");
    assert_eq!(new.len(), 2, "plus the undeclared rule: {new:?}");
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(now.join("tapaudit.sarif")).unwrap()).unwrap();
    let states: Vec<&str> = sarif["runs"][0]["results"].as_array().unwrap().iter().filter_map(|x| x["baselineState"].as_str()).collect();
    assert_eq!(states.iter().filter(|s| **s == "absent").count(), 2);
    assert_eq!(states.iter().filter(|s| **s == "new").count(), 2);
    validate_sarif(&now.join("tapaudit.sarif"));
    // --fail-on-new: the same state against itself has nothing new
    let (run, _) = scan(&emu, stack.to_str().unwrap(), &tmp.path().join("same"), &["--baseline", now.join("tapaudit.json").to_str().unwrap(), "--fail-on-new"]);
    assert_eq!(run.code, 0, "nothing new: {}", run.stderr);
}
