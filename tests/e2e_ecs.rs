//! End to end: secrets in task definitions judged by their values (and never written anywhere),
//! and drift of IAM permission policies, through the built binary against the emulator.

mod support;

use aws_sdk_ecs::types::{KeyValuePair, Tag};
use serde_json::Value;
use support::Emulator;

/// Obviously fake, but a real-looking password inside a URL: it must appear in no output.
const PASSWORD: &str = "S3cr3tPassw0rdExample";
const CLUSTER: &str = "tapaudit-dev-data-processor-cluster";
const SERVICE: &str = "tapaudit-dev-data-processor";

fn findings<'a>(report: &'a Value, control: &str) -> Vec<&'a Value> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["control_id"] == control).collect()
}

/// Register a new revision of the service's task definition with `extra` environment variables
/// (untagged: a stack-scoped scan must still read it because the stack's service runs it) and
/// point the service at it. Returns the new revision's ARN.
async fn new_revision(cfg: &aws_config::SdkConfig, extra: &[(&str, &str)], tagged: bool) -> String {
    let ecs = aws_sdk_ecs::Client::new(cfg);
    let svc = ecs.describe_services().cluster(CLUSTER).services(SERVICE).send().await.unwrap();
    let current = svc.services()[0].task_definition().unwrap().to_string();
    let td = ecs.describe_task_definition().task_definition(&current).include(aws_sdk_ecs::types::TaskDefinitionField::Tags).send().await.unwrap();
    let tags: Vec<Tag> = td.tags().to_vec();
    let td = td.task_definition().unwrap().clone();
    let mut containers = td.container_definitions().to_vec();
    for (name, value) in extra {
        let kv = KeyValuePair::builder().name(*name).value(*value).build();
        containers[0].environment.get_or_insert_with(Vec::new).push(kv);
    }
    let mut reg = ecs
        .register_task_definition()
        .family(td.family().unwrap())
        .set_container_definitions(Some(containers))
        .set_network_mode(td.network_mode().cloned())
        .set_requires_compatibilities(Some(td.requires_compatibilities().to_vec()))
        .set_cpu(td.cpu().map(str::to_string))
        .set_memory(td.memory().map(str::to_string))
        .set_task_role_arn(td.task_role_arn().map(str::to_string))
        .set_execution_role_arn(td.execution_role_arn().map(str::to_string));
    if tagged {
        reg = reg.set_tags(Some(tags));
    }
    let arn = reg.send().await.unwrap().task_definition().unwrap().task_definition_arn().unwrap().to_string();
    ecs.update_service().cluster(CLUSTER).service(SERVICE).task_definition(&arn).send().await.unwrap();
    arn
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_in_a_url_fails_whatever_the_variable_is_called_and_is_written_nowhere() {
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev"]).ok("provision");
    let cfg = emu.sdk().await;
    let arn = new_revision(
        &cfg,
        &[
            ("APP_CONFIG", &format!("postgres://app:{PASSWORD}@db:5432/x")),
            ("DATABASE_PASSWORD_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:tapaudit-dev-db-AbCdEf"),
        ],
        false,
    )
    .await;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let snapshot = tmp.path().join("snapshot.json");
    let run =
        emu.run(&["scan", "--stack", "dev", "--format", "json,sarif", "--output-dir", dir.to_str().unwrap(), "--save-snapshot", snapshot.to_str().unwrap()]);
    assert_eq!(run.code, 1, "a failing high finding: {}", run.stderr);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("tapaudit.json")).unwrap()).unwrap();
    let secrets = findings(&report, "ecs-task-no-plaintext-secrets");
    let on_new: Vec<&&Value> = secrets.iter().filter(|f| f["resource"]["arn"] == arn.as_str()).collect();
    assert_eq!(on_new.len(), 1, "the untagged revision the stack's service runs is judged: {secrets:#?}");
    let f = on_new[0];
    assert_eq!(f["status"], "fail", "{f:#}");
    let offending = f["evidence"]["observed"]["offending"].to_string();
    assert!(offending.contains("APP_CONFIG") && offending.contains("url-credentials"), "{offending}");
    assert!(!offending.contains("DATABASE_PASSWORD_ARN"), "a reference under a password-like name passes: {offending}");
    assert!(report["errors"].as_array().is_none_or(|e| e.is_empty()), "{:#}", report["errors"]);

    // the password is nowhere: stdout, stderr, JSON, SARIF, snapshot
    let sarif = std::fs::read_to_string(dir.join("tapaudit.sarif")).unwrap();
    let json = std::fs::read_to_string(dir.join("tapaudit.json")).unwrap();
    let snap = std::fs::read_to_string(&snapshot).unwrap();
    for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr), ("json", &json), ("sarif", &sarif), ("snapshot", &snap)] {
        assert!(!text.contains(PASSWORD), "the password leaked into {what}");
        assert!(!text.contains("app:S3cr"), "part of the URL's credentials leaked into {what}");
    }
    assert!(snap.contains("url-credentials"), "the snapshot keeps the kind");

    // the snapshot gives the same verdict
    let again = tmp.path().join("again");
    let from = emu.run(&["scan", "--from-snapshot", snapshot.to_str().unwrap(), "--stack", "dev", "--format", "json", "--output-dir", again.to_str().unwrap()]);
    let r2: Value = serde_json::from_str(&std::fs::read_to_string(again.join("tapaudit.json")).unwrap_or_else(|_| panic!("{}", from.stderr))).unwrap();
    let f2: Vec<&Value> = findings(&r2, "ecs-task-no-plaintext-secrets").into_iter().filter(|f| f["resource"]["arn"] == arn.as_str()).collect();
    assert_eq!(f2.len(), 1);
    assert_eq!(f2[0]["status"], "fail");
    assert!(!from.stdout.contains(PASSWORD) && !from.stderr.contains(PASSWORD));

    // drift sees the changed environment of the container, by name and kind only
    let drift: Vec<&Value> = report["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "drift").collect();
    let env =
        drift.iter().find(|f| f["evidence"]["expected"]["field"].as_str().is_some_and(|s| s.ends_with(".environment"))).unwrap_or_else(|| panic!("{drift:#?}"));
    assert!(env["evidence"]["observed"]["value"].to_string().contains("APP_CONFIG (url-credentials)"), "{env:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn inline_and_attached_policy_changes_behind_the_stacks_back_are_drift() {
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev"]).ok("provision");
    let tmp = tempfile::tempdir().unwrap();
    let scan = |name: &str| {
        let dir = tmp.path().join(name);
        let run = emu.run(&["scan", "--stack", "dev", "--format", "json", "--output-dir", dir.to_str().unwrap()]);
        let report: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("tapaudit.json")).unwrap_or_else(|_| panic!("{}", run.stderr))).unwrap();
        (run, report)
    };
    let drift = |r: &Value| -> Vec<(String, String, String, String)> {
        let mut d: Vec<_> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "drift")
            .map(|f| {
                (
                    f["control_id"].as_str().unwrap().to_string(),
                    f["status"].as_str().unwrap().to_string(),
                    f["resource"]["logical_id"].as_str().unwrap_or_default().to_string(),
                    f["evidence"]["expected"]["field"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        d.sort();
        d
    };
    let (clean, r) = scan("clean");
    assert!(drift(&r).is_empty(), "no phantom policy drift right after provision: {:#?} {}", drift(&r), clean.stderr);

    let cfg = emu.sdk().await;
    let iam = aws_sdk_iam::Client::new(&cfg);
    let role = "tapaudit-dev-data-processor-task";
    let policy = iam.get_role_policy().role_name(role).policy_name("tapaudit-least-privilege").send().await.unwrap();
    let raw = policy.policy_document();
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8().unwrap().to_string();
    let mut doc: Value = serde_json::from_str(&decoded).unwrap();
    doc["Statement"][0]["Action"] = serde_json::json!("kinesis:*");
    iam.put_role_policy().role_name(role).policy_name("tapaudit-least-privilege").policy_document(doc.to_string()).send().await.unwrap();
    iam.attach_role_policy().role_name("tapaudit-dev-data-processor-execution").policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").send().await.unwrap();

    let (run, r) = scan("drifted");
    assert_ne!(run.code, 2, "a complete scan: {}", run.stderr);
    assert_eq!(
        drift(&r),
        vec![
            ("drift-changed".to_string(), "fail".to_string(), "data-processor-execution-role".to_string(), "attached_policies".to_string()),
            ("drift-changed".to_string(), "fail".to_string(), "data-processor-task-role".to_string(), "inline_policies.tapaudit-least-privilege".to_string()),
        ]
    );
    let changed = r["findings"].as_array().unwrap().iter().find(|f| f["evidence"]["expected"]["field"] == "inline_policies.tapaudit-least-privilege").unwrap();
    assert!(changed["message"].as_str().unwrap().contains("tapaudit-least-privilege"), "the finding names the policy: {changed:#}");
    assert!(changed["evidence"]["observed"]["value"].to_string().contains("kinesis:*"), "{changed:#}");
}
