//! `[services.<id>]` and `[streams.<id>]`: validation messages, nodes, desired State and drift
//! on hand-built stacks.

use crate::components::{Kind, Stack};
use crate::finding::Status;
use crate::model::{Observed, State};
use std::path::Path;

const BASE: &str = r#"
project = "tapaudit"
stack = "t"

[keys.data-key]

[streams.stream]
key = "data-key"

[streams.other]
key = "data-key"
retention_hours = 48
shard_metrics = true

[security_groups.ecs-tasks-sg]
ingress = [{ port = 8080, from = "vpc" }]
egress = [{ protocol = "all", to = "0.0.0.0/0" }]

[security_groups.db-sg]
ingress = [{ port = 5432, from = "ecs-tasks-sg" }]

[databases.db]
key = "data-key"
secrets_key = "data-key"
security_group = "db-sg"
"#;

fn parse(extra: &str) -> Result<Stack, Vec<String>> {
    let text = format!("{BASE}\n{extra}");
    crate::spec::parse(Path::new("t.toml"), text).map_err(|e| match e {
        crate::error::Error::Spec(v) => v,
        other => vec![other.to_string()],
    })
}

const SERVICE: &str = r#"
[services.data-processor]
security_group = "ecs-tasks-sg"
log_key = "data-key"
reads = ["stream"]
database = "db"
"#;

fn errors(extra: &str) -> Vec<String> {
    parse(extra).err().unwrap_or_default()
}

#[test]
fn a_valid_service_parses() {
    let stack = parse(SERVICE).unwrap();
    assert_eq!(stack.kind_of("data-processor"), Some(Kind::Service));
    assert_eq!(stack.kind_of("stream"), Some(Kind::Stream));
}

#[test]
fn validation_messages() {
    let e = errors(&SERVICE.replace("log_key = \"data-key\"", "log_key = \"data-key\"\nmemory = 4096"));
    assert!(e.iter().any(|m| m.ends_with("services.data-processor.memory 4096 MiB is not a valid Fargate memory size for 256 CPU units")), "{e:?}");
    let e = errors(&SERVICE.replace("reads = [\"stream\"]", "reads = [\"nope\"]"));
    assert!(
        e.iter().any(|m| m.contains("services.data-processor.reads[0] names \"nope\", which the stack file does not declare (expected a stream)")),
        "{e:?}"
    );
    let e = errors(&SERVICE.replace("reads = [\"stream\"]", "reads = [\"data-key\"]"));
    assert!(e.iter().any(|m| m.contains("reads[0] names \"data-key\", which is a key (keys.data-key), not a stream")), "{e:?}");
    let e = errors(&SERVICE.replace("log_key = \"data-key\"\n", ""));
    assert!(e.iter().any(|m| m.contains("services.data-processor.log_key is required")), "{e:?}");
    let e = errors(&format!("{SERVICE}file_system = \"files\"\n"));
    assert!(
        e.iter().any(|m| m.contains("services.data-processor.file_system names \"files\", which the stack file does not declare (expected a file system)")),
        "{e:?}"
    );
    assert!(e.iter().any(|m| m.contains("services.data-processor.mount_path is required with file_system")), "{e:?}");
    let e = errors(&format!("{SERVICE}load_balancer = \"web\"\n"));
    assert!(e.iter().any(|m| m.contains("load_balancer names \"web\", which the stack file does not declare (expected a load balancer)")), "{e:?}");
    let e = errors(&format!("{SERVICE}desired_count = 101\n"));
    assert!(e.iter().any(|m| m.contains("desired_count must be between 0 and 100 (got 101)")), "{e:?}");
}

#[test]
fn environment_takes_plain_configuration_only() {
    let ok = parse(&format!("{SERVICE}environment = {{ LOG_LEVEL = \"info\", REGION_LABEL = \"east\" }}\n"));
    assert!(ok.is_ok(), "{:?}", ok.err());
    for (k, v, says) in [
        ("DB_PASSWORD", "hunter2", "name that says it is a credential"),
        ("APP_CONFIG", "postgres://app:S3cr3tPassw0rdExample@db:5432/x", "holds a URL with credentials"),
        ("UPSTREAM", "AKIAIOSFODNN7EXAMPLE", "holds an AWS access key id"),
        ("CREDS_REF", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf", "holds a reference"),
        ("AWS_REGION", "eu-west-1", "is set by the blueprint"),
        ("DATABASE_SECRET", "x", "is where the database secret goes"),
    ] {
        let e = errors(&format!("{SERVICE}environment = {{ {k} = \"{v}\" }}\n"));
        assert!(e.iter().any(|m| m.contains(&format!("services.data-processor.environment.{k} ")) && m.contains(says)), "{k}: {e:?}");
        // the value is never repeated
        assert!(!e.iter().any(|m| m.contains(v) && v.len() > 4), "{k}: {e:?}");
    }
}

#[test]
fn stream_validation_messages() {
    let e = errors("[streams.bad]\nkey = \"data-key\"\nretention_hours = 12\nshard_count = 0\n");
    assert!(e.iter().any(|m| m.ends_with("streams.bad.retention_hours must be between 24 and 8760 (got 12)")), "{e:?}");
    assert!(e.iter().any(|m| m.ends_with("streams.bad.shard_count must be between 1 and 500 (got 0)")), "{e:?}");
    let e = errors("[streams.bad]\n");
    assert!(e.iter().any(|m| m.contains("streams.bad.key is required")), "{e:?}");
}

#[test]
fn nodes_and_their_dependencies() {
    let stack = parse(SERVICE).unwrap();
    let nodes = crate::components::nodes(&stack);
    let get = |id: &str| nodes.iter().find(|n| n.id == id).unwrap_or_else(|| panic!("{id} missing"));
    for id in
        ["data-processor", "data-processor-cluster", "data-processor-task", "data-processor-logs", "data-processor-execution-role", "data-processor-task-role"]
    {
        assert_eq!(get(id).declared_at, "services.data-processor");
    }
    assert_eq!(get("stream").declared_at, "streams.stream");
    let task = get("data-processor-task");
    for dep in ["data-processor-execution-role", "data-processor-task-role", "data-processor-logs", "stream", "db"] {
        assert!(task.deps.contains(&dep.to_string()), "{dep} not in {:?}", task.deps);
    }
    let svc = get("data-processor");
    for dep in ["data-processor-cluster", "data-processor-task", "ecs-tasks-sg", "private-subnet-1", "private-subnet-2"] {
        assert!(svc.deps.contains(&dep.to_string()), "{dep} not in {:?}", svc.deps);
    }
    assert!(get("data-processor-task-role").deps.contains(&"stream".to_string()));
    assert!(!get("data-processor-task-role").deps.contains(&"other".to_string()), "reads only the streams it names");
}

/// A hand-built stack with a file system and a load balancer (kinds other helpers add): the
/// instances are built directly, past the registry's reference check.
fn with_fs_and_lb() -> Stack {
    let mut stack = parse(SERVICE).unwrap();
    let svc = stack.spec.services.get_mut("data-processor").unwrap();
    svc.file_system = Some("files".into());
    svc.mount_path = Some("/data".into());
    svc.load_balancer = Some("web".into());
    stack
}

#[test]
fn file_system_and_load_balancer_wire_their_nodes() {
    let stack = with_fs_and_lb();
    let nodes = crate::components::nodes(&stack);
    let get = |id: &str| nodes.iter().find(|n| n.id == id).unwrap();
    let task = get("data-processor-task");
    assert!(task.deps.contains(&"files".to_string()) && task.deps.contains(&"files-access-point".to_string()), "{:?}", task.deps);
    assert!(get("data-processor").deps.contains(&"web-target-group".to_string()));
    let role = get("data-processor-task-role");
    assert!(role.deps.contains(&"files".to_string()) && role.deps.contains(&"files-access-point".to_string()));
    let svc = &stack.spec.services["data-processor"];
    let cx = crate::components::Cx { stack: &stack, id: "data-processor", path: "services.data-processor".into() };
    let def = svc.task_role(&cx);
    let doc = def.inline(&|node, attr| Some(format!("arn:{node}:{attr}"))).unwrap().unwrap();
    let mount = doc["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "MountFileSystem").unwrap();
    assert_eq!(mount["Action"], serde_json::json!(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]));
    assert_eq!(mount["Resource"], serde_json::json!(["arn:files:arn"]));
    assert_eq!(mount["Condition"], serde_json::json!({"StringEquals": {"elasticfilesystem:AccessPointArn": "arn:files-access-point:arn"}}));
}

#[test]
fn roles_are_least_privilege() {
    let stack = parse(SERVICE).unwrap();
    let svc = &stack.spec.services["data-processor"];
    let cx = crate::components::Cx { stack: &stack, id: "data-processor", path: "services.data-processor".into() };
    let resolve = |node: &str, attr: &str| Some(format!("arn:{node}:{attr}"));
    let task = svc.task_role(&cx).inline(&resolve).unwrap().unwrap();
    assert_eq!(
        task["Statement"],
        serde_json::json!([
            {"Sid": "ReadStreams", "Effect": "Allow", "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards"], "Resource": ["arn:stream:arn"]},
            {"Sid": "DecryptStreams", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": ["arn:data-key:arn"]},
        ])
    );
    let exec = svc.execution_role(&cx);
    assert_eq!(exec.managed, vec!["service-role/AmazonECSTaskExecutionRolePolicy"]);
    let exec = exec.inline(&resolve).unwrap().unwrap();
    assert_eq!(
        exec["Statement"],
        serde_json::json!([
            {"Sid": "ReadDatabaseSecret", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": ["arn:db:secret_arn"]},
            {"Sid": "DecryptDatabaseSecret", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": ["arn:data-key:arn"]},
        ])
    );
}

fn desired(stack: &Stack) -> State {
    let mut st = State::default();
    crate::components::desired(stack, &mut st);
    st
}

#[test]
fn desired_state() {
    let stack = parse(&format!("{SERVICE}environment = {{ LOG_LEVEL = \"info\" }}\n")).unwrap();
    let st = desired(&stack);
    let td = st.ecs.task_definitions.iter().next().unwrap();
    assert_eq!(td.meta.logical_id(), Some("data-processor-task"));
    assert_eq!(td.family, "tapaudit-t-data-processor");
    let c = &td.containers[0];
    assert_eq!(c.name, "data-processor");
    assert_eq!(c.log_group.as_deref(), Some("/tapaudit/t/data-processor"));
    assert_eq!(c.secret_names, vec!["DATABASE_SECRET".to_string()]);
    let env: Vec<(&str, &str)> = c.environment.iter().map(|e| (e.name.as_str(), e.kind.slug())).collect();
    assert_eq!(env, vec![("LOG_LEVEL", "literal"), ("AWS_REGION", "literal"), ("STREAM_NAMES", "literal")]);
    assert!(td.task_role_arn.as_deref().unwrap().ends_with(":role/tapaudit-t-data-processor-task"));
    let svc = st.ecs.services.iter().next().unwrap();
    assert_eq!(svc.meta.logical_id(), Some("data-processor"));
    assert_eq!(svc.assign_public_ip.as_deref(), Some("DISABLED"));
    assert_eq!(svc.subnets, vec!["subnet-private-subnet-1", "subnet-private-subnet-2"]);
    assert_eq!(svc.security_groups, vec!["sg-ecs-tasks-sg"]);
    let cl = st.ecs.clusters.iter().next().unwrap();
    assert_eq!(cl.container_insights, Observed::Known("enabled".into()));
    let mine = |l: Option<&str>| l.is_some_and(|l| l.starts_with("data-processor-"));
    assert_eq!(st.iam.roles.iter().filter(|r| mine(r.meta.logical_id())).count(), 2);
    assert_eq!(st.logs.log_groups.iter().filter(|g| mine(g.meta.logical_id())).count(), 1);
    let streams: Vec<_> = st.kinesis.streams.iter().map(|s| (s.meta.name.clone().unwrap(), s.retention_hours.clone())).collect();
    assert_eq!(streams, vec![("tapaudit-t-other".to_string(), Observed::Known(48)), ("tapaudit-t-stream".to_string(), Observed::Known(24))]);
}

// ---------- drift (moved from drift::tests for streams and ECS) ----------

fn drift_of(stack: &Stack, mutate: impl FnOnce(&mut State)) -> Vec<(String, Status, String, String, usize)> {
    let want = desired(stack);
    let text = serde_json::to_string(&want).unwrap().replace("000000000000", "123456789012");
    let mut live: State = serde_json::from_str(&text).unwrap();
    mutate(&mut live);
    let cat = crate::controls::Catalogue::load().unwrap();
    let mut d = crate::drift::Drift::new(
        crate::drift::StackView {
            name: &stack.name,
            source: &stack.source,
            declared_tags: Default::default(),
            paths: crate::components::nodes(stack).into_iter().map(|n| (n.id, n.declared_at)).collect(),
        },
        &want,
        &live,
        &cat,
        &[],
    );
    crate::components::stream::drift(&mut d, &want, &live);
    crate::components::service::drift(&mut d, &want, &live);
    d.finish()
        .into_iter()
        .map(|f| {
            (
                f.control_id,
                f.status,
                f.resource.logical_id.unwrap_or(f.resource.id),
                f.evidence.expected["field"].as_str().unwrap_or_default().to_string(),
                f.location.map(|l| l.line).unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn drift_of_streams_and_services() {
    let stack = parse(&format!("{SERVICE}environment = {{ LOG_LEVEL = \"info\" }}\n")).unwrap();
    let line = |p: &str| stack.line_of(p);
    assert_eq!(drift_of(&stack, |_| {}), vec![]);
    let got = drift_of(&stack, |l| l.kinesis.streams.items.values_mut().for_each(|s| s.retention_hours = Observed::Known(72)));
    assert_eq!(
        got,
        vec![
            ("drift-changed".into(), Status::Fail, "other".into(), "retention_hours".into(), line("streams.other.retention_hours")),
            ("drift-changed".into(), Status::Fail, "stream".into(), "retention_hours".into(), line("streams.stream"))
        ]
    );
    let got = drift_of(&stack, |l| l.kinesis.streams.items.values_mut().for_each(|s| s.key_id = Observed::Known(Some("alias/aws/kinesis".into()))));
    assert_eq!(got.iter().map(|g| g.3.as_str()).collect::<Vec<_>>(), vec!["key_id", "key_id"]);
    assert_eq!(got[1].4, line("streams.stream.key"));
    let got = drift_of(&stack, |l| l.kinesis.streams.items.values_mut().for_each(|s| s.open_shards = Observed::Unknown("AccessDenied".into())));
    assert!(got.iter().all(|g| g.1 == Status::Error && g.3 == "open_shards"), "{got:?}");
    let got = drift_of(&stack, |l| l.ecs.clusters.items.values_mut().for_each(|c| c.container_insights = Observed::Known("disabled".into())));
    assert_eq!(
        got,
        vec![("drift-changed".into(), Status::Fail, "data-processor-cluster".into(), "container_insights".into(), line("services.data-processor"))]
    );
    assert_eq!(drift_of(&stack, |l| l.ecs.clusters.items.values_mut().for_each(|c| c.container_insights = Observed::Known("enhanced".into()))), vec![]);
    let got = drift_of(&stack, |l| l.ecs.services.items.values_mut().for_each(|s| s.desired_count = 3));
    assert_eq!(got, vec![("drift-changed".into(), Status::Fail, "data-processor".into(), "desired_count".into(), line("services.data-processor"))]);
    let got = drift_of(&stack, |l| l.ecs.services.items.values_mut().for_each(|s| s.assign_public_ip = Some("ENABLED".into())));
    assert_eq!(got[0].3, "assign_public_ip");
    // environment: names and what the values are, never the values
    let got = drift_of(&stack, |l| {
        let td = l.ecs.task_definitions.items.values_mut().next().unwrap();
        td.containers[0].environment.push(crate::semantics::secret_values::env_var("APP_CONFIG", "postgres://app:S3cr3tPassw0rdExample@db:5432/x"));
    });
    assert_eq!(
        got,
        vec![(
            "drift-changed".into(),
            Status::Fail,
            "data-processor-task".into(),
            "containers.data-processor.environment".into(),
            line("services.data-processor.environment")
        )]
    );
    let got = drift_of(&stack, |l| l.ecs.task_definitions.items.values_mut().for_each(|t| t.containers[0].secret_names.clear()));
    assert_eq!(got[0].3, "containers.data-processor.secrets");
    assert_eq!(got[0].4, line("services.data-processor.database"));
    let got = drift_of(&stack, |l| l.ecs.task_definitions.items.values_mut().for_each(|t| t.containers[0].readonly_root_filesystem = Some(false)));
    assert_eq!(got[0].3, "containers.data-processor.readonly_root_filesystem");
    let got = drift_of(&stack, |l| l.ecs.task_definitions.items.clear());
    assert_eq!(got, vec![("drift-missing".into(), Status::Fail, "data-processor-task".into(), "resource".into(), line("services.data-processor"))]);
}
