//! End to end: a stack with two streams and a service that reads one of them, through the
//! built binary against the emulator: provision, re-run, plan, scan (no drift, ECS/Kinesis
//! controls pass), an environment change behind tapaudit's back (drift), destroy.

mod support;

use aws_sdk_ecs::types::{KeyValuePair, TaskDefinitionField};
use serde_json::Value;
use support::Emulator;

const STACK: &str = r#"
project = "tapaudit"
stack = "svc"
region = "us-east-1"

[keys.data-key]

[network]
cidr = "10.7.0.0/16"

[streams.stream]
key = "data-key"

[streams.events]
key = "data-key"
retention_hours = 48
shard_metrics = true

[security_groups.ecs-tasks-sg]
ingress = [{ port = 8080, from = "vpc" }]
egress = [{ protocol = "all", to = "0.0.0.0/0" }]

[security_groups.db-sg]
ingress = [{ port = 5432, from = "ecs-tasks-sg" }]

[services.worker]
security_group = "ecs-tasks-sg"
log_key = "data-key"
reads = ["stream"]
database = "db"
environment = { LOG_LEVEL = "info" }

[databases.db]
key = "data-key"
secrets_key = "data-key"
security_group = "db-sg"
deletion_protection = false
"#;

const CLUSTER: &str = "tapaudit-svc-worker-cluster";
const SERVICE: &str = "tapaudit-svc-worker";

fn statuses<'a>(report: &'a Value, prefix: &str) -> Vec<(&'a str, &'a str, &'a str)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control_id"].as_str().unwrap_or_default().starts_with(prefix))
        .map(|f| (f["control_id"].as_str().unwrap(), f["resource"]["id"].as_str().unwrap_or_default(), f["status"].as_str().unwrap()))
        .collect()
}

fn drift(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "drift")
        .map(|f| {
            (
                f["control_id"].as_str().unwrap().to_string(),
                f["resource"]["logical_id"].as_str().unwrap_or_default().to_string(),
                f["evidence"]["expected"]["field"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_streams_and_a_service_reading_one() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.toml");
    std::fs::write(&file, STACK).unwrap();
    let stack = file.to_str().unwrap();

    emu.run(&["provision", "--stack", stack]).ok("provision");
    let cfg = emu.sdk().await;

    // the task role reads exactly the stream the service names
    let iam = aws_sdk_iam::Client::new(&cfg);
    let doc = iam.get_role_policy().role_name("tapaudit-svc-worker-task").policy_name("tapaudit-least-privilege").send().await.unwrap();
    let doc = policy(doc.policy_document());
    let read = doc["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "ReadStreams").unwrap();
    assert_eq!(read["Resource"].as_array().unwrap().len(), 1, "{doc}");
    assert!(read["Resource"][0].as_str().unwrap().ends_with(":stream/tapaudit-svc-stream"), "{doc}");
    // the execution role reads exactly the database secret
    let exec = iam.get_role_policy().role_name("tapaudit-svc-worker-execution").policy_name("tapaudit-least-privilege").send().await.unwrap();
    let exec = policy(exec.policy_document());
    assert_eq!(exec["Statement"][0]["Action"], serde_json::json!(["secretsmanager:GetSecretValue"]));

    // the container gets its credentials through secrets, its configuration through environment
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    let svc = ecs.describe_services().cluster(CLUSTER).services(SERVICE).send().await.unwrap();
    let svc = svc.services()[0].clone();
    let td = ecs.describe_task_definition().task_definition(svc.task_definition().unwrap()).include(TaskDefinitionField::Tags).send().await.unwrap();
    let tags = td.tags().to_vec();
    let td = td.task_definition().unwrap().clone();
    let c = &td.container_definitions()[0];
    assert_eq!(c.secrets().iter().map(|s| s.name()).collect::<Vec<_>>(), vec!["DATABASE_SECRET"]);
    let env: Vec<(&str, &str)> = c.environment().iter().map(|e| (e.name().unwrap(), e.value().unwrap())).collect();
    assert!(env.contains(&("STREAM_NAMES", "tapaudit-svc-stream")), "{env:?}");
    assert!(env.contains(&("LOG_LEVEL", "info")), "{env:?}");
    assert!(!env.iter().any(|(k, _)| k.contains("SECRET")), "{env:?}");

    // re-run and plan: nothing changes
    let again = emu.run(&["provision", "--stack", stack, "--output", "json"]).ok("second provision");
    let steps = again.json()["steps"].as_array().unwrap().clone();
    let changed: Vec<&Value> = steps.iter().filter(|s| s["action"] != "unchanged").collect();
    assert!(changed.is_empty(), "{changed:?}");
    let plan = emu.run(&["plan", "--stack", stack, "--output", "json"]).ok("plan").json();
    let changed: Vec<&Value> = plan["plan"].as_array().unwrap().iter().filter(|s| s["action"] != "unchanged").collect();
    assert!(changed.is_empty(), "{changed:?}");

    // scan: no drift, the ECS and Kinesis controls pass
    let out = dir.path().join("clean");
    let run = emu.run(&["scan", "--stack", stack, "--format", "json", "--output-dir", out.to_str().unwrap()]);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("tapaudit.json")).unwrap_or_else(|_| panic!("{}", run.stderr))).unwrap();
    assert_eq!(drift(&report), vec![], "no phantom drift right after provision");
    for prefix in ["ecs-", "kinesis-"] {
        let got = statuses(&report, prefix);
        assert!(!got.is_empty(), "{prefix} controls ran");
        assert!(got.iter().all(|(_, _, s)| *s == "pass"), "{got:?}");
    }
    let streams: Vec<_> = statuses(&report, "kinesis-").into_iter().map(|(_, r, _)| r).collect();
    assert!(streams.iter().any(|r| r.contains("tapaudit-svc-events")) && streams.iter().any(|r| r.contains("tapaudit-svc-stream")), "{streams:?}");

    // behind tapaudit's back: a new revision with a changed environment
    let mut reg = ecs
        .register_task_definition()
        .family(td.family().unwrap())
        .set_network_mode(td.network_mode().cloned())
        .set_requires_compatibilities(Some(td.requires_compatibilities().to_vec()))
        .set_cpu(td.cpu().map(str::to_string))
        .set_memory(td.memory().map(str::to_string))
        .set_execution_role_arn(td.execution_role_arn().map(str::to_string))
        .set_task_role_arn(td.task_role_arn().map(str::to_string))
        .set_tags(Some(tags));
    let mut changed = c.clone();
    changed.environment = Some(vec![KeyValuePair::builder().name("DEBUG").value("1").build()]);
    reg = reg.container_definitions(changed);
    let arn = reg.send().await.unwrap().task_definition().unwrap().task_definition_arn().unwrap().to_string();
    ecs.update_service().cluster(CLUSTER).service(SERVICE).task_definition(&arn).send().await.unwrap();
    ecs.deregister_task_definition().task_definition(td.task_definition_arn().unwrap()).send().await.unwrap();

    let out = dir.path().join("drifted");
    let run = emu.run(&["scan", "--stack", stack, "--format", "json", "--output-dir", out.to_str().unwrap()]);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("tapaudit.json")).unwrap_or_else(|_| panic!("{}", run.stderr))).unwrap();
    let d = drift(&report);
    assert!(d.contains(&("drift-changed".into(), "worker-task".into(), "containers.worker.environment".into())), "{d:?}");
    let plan = emu.run(&["plan", "--stack", stack, "--output", "json"]).ok("plan after change").json();
    assert!(plan["plan"].as_array().unwrap().iter().any(|s| s["logical_id"] == "worker-task" && s["action"] != "unchanged"), "{plan}");

    // destroy: nothing tagged with the stack remains
    emu.run(&["destroy", "--stack", stack, "--yes"]).ok("destroy");
    let kinesis = aws_sdk_kinesis::Client::new(&cfg);
    let names = kinesis.list_streams().send().await.unwrap();
    assert!(!names.stream_names().iter().any(|s| s.starts_with("tapaudit-svc-")), "{names:?}");
    let clusters = ecs.describe_clusters().clusters(CLUSTER).send().await.unwrap();
    assert!(!clusters.clusters().iter().any(|c| c.status() == Some("ACTIVE")), "cluster");
    let tds = ecs.list_task_definitions().family_prefix("tapaudit-svc-worker").status(aws_sdk_ecs::types::TaskDefinitionStatus::Active).send().await.unwrap();
    assert!(tds.task_definition_arns().is_empty(), "{:?}", tds.task_definition_arns());
    for role in ["tapaudit-svc-worker-task", "tapaudit-svc-worker-execution"] {
        assert!(iam.get_role().role_name(role).send().await.is_err(), "{role} remains");
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let groups = logs.describe_log_groups().log_group_name_prefix("/tapaudit/svc/").send().await.unwrap();
    assert!(groups.log_groups().is_empty(), "{:?}", groups.log_groups());
    let tagging = aws_sdk_ec2::Client::new(&cfg);
    let vpcs = tagging.describe_vpcs().filters(aws_sdk_ec2::types::Filter::builder().name("tag:tapaudit:stack").values("svc").build()).send().await.unwrap();
    assert!(vpcs.vpcs().is_empty(), "vpc");
}

/// IAM returns policy documents URL-encoded (moto: sometimes not).
fn policy(doc: &str) -> Value {
    serde_json::from_str(doc).or_else(|_| serde_json::from_str(&percent_encoding::percent_decode_str(doc).decode_utf8_lossy())).expect("policy JSON")
}
