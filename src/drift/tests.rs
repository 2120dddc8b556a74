//! diff on hand-built desired/live pairs: one case per field class, plus AWS-assigned values,
//! defaults and list order that must not drift.

use super::*;
use crate::components::drift as diff;
use crate::finding::Status;
use crate::model::ec2::Route;
use crate::model::Observed;
use crate::spec::Stack;
use std::path::Path;

pub(crate) fn stack() -> Stack {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/dev.toml")).unwrap();
    crate::spec::parse(Path::new("stacks/dev.toml"), text).unwrap()
}

/// The desired State as AWS would hold it: AWS-assigned ids and ARNs in a real account,
/// AWS-added routes and tags, lists in another order.
pub(crate) fn live_of(desired: &State) -> State {
    let mut json = serde_json::to_string(desired).unwrap();
    for (from, to) in [
        ("arn:aws:kms:us-east-1:000000000000:key/data-key", "arn:aws:kms:us-east-1:123456789012:key/5f0e-live"),
        ("\"id\":\"data-key\"", "\"id\":\"5f0e-live\""),
        ("vpc-vpc", "vpc-0a1b2c3d"),
        ("subnet-public-subnet-1", "subnet-0p1"),
        ("subnet-public-subnet-2", "subnet-0p2"),
        ("subnet-private-subnet-1", "subnet-0q1"),
        ("subnet-private-subnet-2", "subnet-0q2"),
        ("sg-ecs-tasks-sg", "sg-0e"),
        ("sg-db-sg", "sg-0d"),
        ("sg-default-sg", "sg-0f"),
        ("igw-internet-gateway", "igw-07"),
        ("nat-nat-gateway-1", "nat-09"),
        ("rtb-public-route-table", "rtb-01"),
        ("rtb-private-route-table-1", "rtb-02"),
        ("\"id\":\"ingest-api\"", "\"id\":\"a1b2c3\""),
        ("\"api_id\":\"ingest-api\"", "\"api_id\":\"a1b2c3\""),
        ("restapis/ingest-api", "restapis/a1b2c3"),
        ("000000000000", "123456789012"),
    ] {
        json = json.replace(from, to);
    }
    let mut live: State = serde_json::from_str(&json).unwrap();
    for rt in live.ec2.route_tables.items.values_mut() {
        rt.routes.insert(0, Route { destination: "10.0.0.0/16".into(), target: "local".into() });
    }
    for s in live.ec2.subnets.items.values_mut() {
        s.availability_zone = "us-east-1b".into();
        if let Observed::Known(t) = &mut s.meta.tags {
            t.insert("aws:cloudformation:stack-name".into(), "other-tooling".into());
        }
    }
    for db in live.rds.instances.items.values_mut() {
        db.log_exports.reverse();
        db.subnet_ids.reverse();
        db.engine_version = "16.3".into();
    }
    for svc in live.ecs.services.items.values_mut() {
        svc.subnets.reverse();
    }
    live
}

pub(crate) fn run(mutate: impl FnOnce(&mut State)) -> Vec<(String, Status, String, String, usize)> {
    let stack = stack();
    let desired = crate::spec::desired::desired(&stack);
    let mut live = live_of(&desired);
    mutate(&mut live);
    let cat = Catalogue::load().unwrap();
    diff(&desired, &live, &stack, &cat, &["fedramp-moderate".to_string()])
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

pub(crate) fn line(path: &str) -> usize {
    stack().line_of(path)
}

pub(crate) fn one(control: &str, logical: &str, field: &str, setting: &str) -> Vec<(String, Status, String, String, usize)> {
    vec![(control.into(), Status::Fail, logical.into(), field.into(), line(setting))]
}

pub(crate) fn by_logical<T: crate::model::Resource>(c: &mut crate::model::Collection<T>, logical: &str) -> String {
    c.items.iter().find(|(_, r)| r.meta().logical_id() == Some(logical)).map(|(k, _)| k.clone()).unwrap()
}

#[test]
fn aws_assigned_ids_defaults_extra_tags_and_list_order_are_not_drift() {
    assert_eq!(run(|_| {}), vec![]);
}

#[test]
fn encryption_key_and_rotation() {
    assert_eq!(
        run(|l| l.kms.keys.items.values_mut().for_each(|k| k.rotation_enabled = Observed::Known(false))),
        one("drift-changed", "data-key", "rotation_enabled", "keys.data-key.rotation")
    );
    // a key scheduled for deletion (rotation then cannot be read): the key is gone, a failing
    // drift, never an error about its rotation
    assert_eq!(
        run(|l| l.kms.keys.items.values_mut().for_each(|k| {
            k.state = Observed::Known("PendingDeletion".into());
            k.rotation_enabled = Observed::Unknown("not read: the key is pending deletion".into());
        })),
        one("drift-changed", "data-key", "state", "keys.data-key")
    );
    assert_eq!(
        run(|l| l.kinesis.streams.items.values_mut().for_each(|s| s.key_id = crate::model::Observed::Known(Some("alias/aws/kinesis".into())))),
        one("drift-changed", "stream", "key_id", "streams.stream.key")
    );
    assert_eq!(
        run(|l| l.logs.log_groups.items.values_mut().filter(|g| g.meta.logical_id() == Some("data-processor-logs")).for_each(|g| g.kms_key_id = None)),
        one("drift-changed", "data-processor-logs", "kms_key_id", "services.data-processor")
    );
}

#[test]
fn retention_and_backups() {
    assert_eq!(
        run(|l| l.logs.log_groups.items.values_mut().filter(|g| g.meta.logical_id() == Some("ingest-api-logs")).for_each(|g| g.retention_days = None)),
        one("drift-changed", "ingest-api-logs", "retention_days", "logs.retention_days")
    );
    assert_eq!(
        run(|l| l.kinesis.streams.items.values_mut().for_each(|s| s.retention_hours = crate::model::Observed::Known(48))),
        one("drift-changed", "stream", "retention_hours", "streams.stream.retention_hours")
    );
}

#[test]
fn public_accessibility_subnets_and_log_exports() {
    assert_eq!(
        run(|l| l.ecs.services.items.values_mut().for_each(|s| s.subnets = vec!["subnet-0p1".into(), "subnet-0q2".into()])),
        one("drift-changed", "data-processor", "subnets", "services.data-processor")
    );
}

#[test]
fn container_insights() {
    assert_eq!(
        run(|l| l.ecs.clusters.items.values_mut().for_each(|c| c.container_insights = Observed::Known("disabled".into()))),
        one("drift-changed", "data-processor-cluster", "container_insights", "services.data-processor.container_insights")
    );
    // "enhanced" observability is Container Insights too
    assert_eq!(run(|l| l.ecs.clusters.items.values_mut().for_each(|c| c.container_insights = Observed::Known("enhanced".into()))), vec![]);
}

#[test]
fn tags_missing_resources_and_unmanaged_resources() {
    let got = run(|l| {
        let k = by_logical(&mut l.kinesis.streams, "stream");
        if let Observed::Known(t) = &mut l.kinesis.streams.items.get_mut(&k).unwrap().meta.tags {
            t.remove("Owner");
        }
    });
    assert_eq!(got, one("drift-changed", "stream", "tags.Owner", "tags.Owner"));
    let got = run(|l| {
        let k = by_logical(&mut l.logs.log_groups, "flow-log-group");
        l.logs.log_groups.items.remove(&k);
    });
    assert_eq!(got, one("drift-missing", "flow-log-group", "resource", "network.flow_logs"));
    let got = run(|l| {
        let mut extra = l.logs.log_groups.iter().next().unwrap().clone();
        extra.meta.arn = "arn:aws:logs:us-east-1:123456789012:log-group:/hand/made".into();
        extra.meta.id = "/hand/made".into();
        extra.meta.name = Some("/hand/made".into());
        if let Observed::Known(t) = &mut extra.meta.tags {
            t.remove(crate::spec::TAG_LOGICAL_ID);
        }
        let mut foreign = extra.clone();
        foreign.meta.arn.push_str("-foreign");
        foreign.meta.tags = Observed::Known(Default::default());
        l.logs.log_groups.insert(extra);
        l.logs.log_groups.insert(foreign);
    });
    assert_eq!(got, vec![("drift-unmanaged".into(), Status::Fail, "/hand/made".into(), "resource".into(), 1)], "only the one carrying the stack's tag");
}

#[test]
fn a_live_field_that_could_not_be_read_is_an_error_not_a_pass() {
    let got = run(|l| l.kms.keys.items.values_mut().for_each(|k| k.rotation_enabled = Observed::Unknown("AccessDenied".into())));
    assert_eq!(got, vec![("drift-changed".into(), Status::Error, "data-key".into(), "rotation_enabled".into(), line("keys.data-key.rotation"))]);
}

#[test]
fn a_declared_resource_whose_listing_failed_is_an_error_not_missing() {
    let got = run(|l| {
        l.kinesis.streams.items.clear();
        l.kinesis.streams.fail("us-east-1", "kinesis:ListStreams failed: ThrottlingException");
    });
    assert_eq!(got, vec![("drift-changed".into(), Status::Error, "stream".into(), "resource".into(), line("streams.stream"))]);
    let stack = stack();
    let desired = crate::spec::desired::desired(&stack);
    let mut live = live_of(&desired);
    live.iam.roles.items.clear();
    live.iam.roles.fail("global", "iam:ListRoles failed: AccessDenied");
    live.ecs.task_definitions.items.clear();
    live.ecs
        .task_definitions
        .fail("us-east-1", "task definition arn:aws:ecs:us-east-1:123456789012:task-definition/tapaudit-dev-processor:1 could not be described: AccessDenied");
    let cat = Catalogue::load().unwrap();
    let findings = diff(&desired, &live, &stack, &cat, &["fedramp-moderate".to_string()]);
    assert!(!findings.is_empty());
    for f in &findings {
        assert_eq!((f.control_id.as_str(), f.status), ("drift-changed", Status::Error), "{f:?}");
        assert!(f.message.contains("could not be read"), "{}", f.message);
    }
    let td = findings.iter().find(|f| f.resource.logical_id.as_deref() == Some("data-processor-task")).unwrap();
    assert!(td.message.contains("task-definition/tapaudit-dev-processor:1"), "names the task definition: {}", td.message);
    // a failure in another region does not excuse a missing resource here
    let got = run(|l| {
        l.kinesis.streams.items.clear();
        l.kinesis.streams.fail("eu-west-1", "AccessDenied");
    });
    assert_eq!(got, one("drift-missing", "stream", "resource", "streams.stream"));
}

fn role<'a>(l: &'a mut State, logical: &str) -> &'a mut crate::model::iam::Role {
    let k = by_logical(&mut l.iam.roles, logical);
    l.iam.roles.items.get_mut(&k).unwrap()
}

fn inline(l: &mut State, logical: &str) -> serde_json::Value {
    role(l, logical).inline_policies.known().unwrap()[crate::components::role::INLINE_POLICY].clone()
}

fn set_inline(l: &mut State, logical: &str, doc: serde_json::Value) {
    if let Observed::Known(m) = &mut role(l, logical).inline_policies {
        m.insert(crate::components::role::INLINE_POLICY.to_string(), doc);
    }
}

#[test]
fn inline_policies_are_compared_by_meaning() {
    let field = format!("inline_policies.{}", crate::components::role::INLINE_POLICY);
    // broadened behind the stack's back: named by the policy
    let got = run(|l| {
        let mut doc = inline(l, "data-processor-task-role");
        doc["Statement"][0]["Action"] = json!("kinesis:*");
        set_inline(l, "data-processor-task-role", doc);
    });
    assert_eq!(got, vec![("drift-changed".into(), Status::Fail, "data-processor-task-role".into(), field.clone(), line("services.data-processor"))]);
    // a resource widened to "*"
    let got = run(|l| {
        let mut doc = inline(l, "data-processor-task-role");
        doc["Statement"][1]["Resource"] = json!("*");
        set_inline(l, "data-processor-task-role", doc);
    });
    assert_eq!(got, vec![("drift-changed".into(), Status::Fail, "data-processor-task-role".into(), field.clone(), line("services.data-processor"))]);
    // the same meaning written differently is no drift: statements reordered, a one-element
    // array for a string, keys in another order, Sids changed, action case
    let got = run(|l| {
        let doc = inline(l, "data-processor-task-role");
        let mut statements: Vec<serde_json::Value> = doc["Statement"].as_array().unwrap().clone();
        statements.reverse();
        let rewritten: Vec<serde_json::Value> = statements
            .into_iter()
            .map(|s| {
                let mut o = serde_json::Map::new();
                let resource = match &s["Resource"] {
                    serde_json::Value::Array(a) if a.len() == 1 => a[0].clone(),
                    serde_json::Value::String(r) => json!([r]),
                    other => other.clone(),
                };
                o.insert("Resource".into(), resource);
                let actions: Vec<String> = match &s["Action"] {
                    serde_json::Value::String(a) => vec![a.to_ascii_uppercase()],
                    serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).map(|x| x.to_ascii_uppercase()).collect(),
                    _ => vec![],
                };
                o.insert("Action".into(), json!(actions));
                o.insert("Effect".into(), s["Effect"].clone());
                o.insert("Sid".into(), json!("Renamed"));
                serde_json::Value::Object(o)
            })
            .collect();
        set_inline(l, "data-processor-task-role", json!({"Statement": rewritten, "Version": doc["Version"].clone()}));
    });
    assert_eq!(got, vec![]);
    // removed, and an undeclared extra one
    let got = run(|l| {
        if let Observed::Known(m) = &mut role(l, "data-processor-task-role").inline_policies {
            m.clear();
            m.insert("handmade".into(), json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}));
        }
    });
    let mut want = vec![
        ("drift-changed".to_string(), Status::Fail, "data-processor-task-role".to_string(), field.clone(), line("services.data-processor")),
        (
            "drift-unmanaged".to_string(),
            Status::Fail,
            "data-processor-task-role".to_string(),
            "inline_policies.handmade".to_string(),
            line("services.data-processor"),
        ),
    ];
    let mut got = got;
    want.sort_by(|a, b| a.0.cmp(&b.0));
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want);
    // unread inline policies are an error
    let got = run(|l| role(l, "data-processor-task-role").inline_policies = Observed::Unknown("iam:ListRolePolicies failed: AccessDenied".into()));
    assert_eq!(
        got,
        vec![("drift-changed".into(), Status::Error, "data-processor-task-role".into(), "inline_policies".into(), line("services.data-processor"))]
    );
}

#[test]
fn attached_managed_policies_are_compared_as_a_set() {
    let got = run(|l| {
        if let Observed::Known(a) = &mut role(l, "data-processor-execution-role").attached_policies {
            a.push("arn:aws:iam::aws:policy/AdministratorAccess".into());
        }
    });
    assert_eq!(
        got,
        vec![("drift-changed".into(), Status::Fail, "data-processor-execution-role".into(), "attached_policies".into(), line("services.data-processor"))]
    );
    let got = run(|l| role(l, "data-processor-execution-role").attached_policies = Observed::Known(vec![]));
    assert_eq!(
        got,
        vec![("drift-changed".into(), Status::Fail, "data-processor-execution-role".into(), "attached_policies".into(), line("services.data-processor"))]
    );
}

#[test]
fn policy_meaning_ignores_form_but_not_content() {
    let a = json!({"Version": "2012-10-17", "Statement": {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}});
    let b = json!({"Statement": [{"Resource": ["arn:aws:s3:::b/*"], "Action": ["S3:GetObject"], "Effect": "Allow",
        "Condition": {"StringEquals": {"AWS:SourceAccount": ["123456789012"]}}}], "Version": "2012-10-17"});
    assert_eq!(policy_meaning(&a), policy_meaning(&b));
    let c = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
    assert_ne!(policy_meaning(&a), policy_meaning(&c), "dropping a condition changes the meaning");
    let d = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::B/*"}]});
    assert_ne!(policy_meaning(&c), policy_meaning(&d), "resource ARNs are case-sensitive");
}

#[test]
fn every_container_of_a_task_definition_is_compared() {
    let sidecar = |l: &mut State| {
        let td = l.ecs.task_definitions.items.values_mut().next().unwrap();
        let mut c = td.containers[0].clone();
        c.name = "sidecar".into();
        c.image = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0".into();
        td.containers.push(c);
    };
    // a container the stack does not declare
    let got = run(sidecar);
    assert_eq!(got, one("drift-changed", "data-processor-task", "containers", "services.data-processor"));
    // the second container changed, the first unchanged: both declared
    let stack = stack();
    let mut desired = crate::spec::desired::desired(&stack);
    sidecar(&mut desired);
    let mut live = live_of(&desired);
    {
        let td = live.ecs.task_definitions.items.values_mut().next().unwrap();
        let second = td.containers.iter_mut().find(|c| c.name == "sidecar").unwrap();
        second.privileged = Some(true);
        second.environment.push(crate::semantics::secret_values::env_var("APP_CONFIG", "postgres://app:S3cr3tPassw0rdExample@db:5432/x"));
    }
    let cat = Catalogue::load().unwrap();
    let mut got: Vec<(String, String)> = diff(&desired, &live, &stack, &cat, &["fedramp-moderate".to_string()])
        .into_iter()
        .map(|f| (f.control_id, f.evidence.expected["field"].as_str().unwrap_or_default().to_string()))
        .collect();
    got.sort();
    assert_eq!(got, vec![("drift-changed".into(), "containers.sidecar.environment".into()), ("drift-changed".into(), "containers.sidecar.privileged".into())]);
    // absent privileged equals false (the documented default), so no drift
    let got = run(|l| l.ecs.task_definitions.items.values_mut().for_each(|t| t.containers[0].privileged = None));
    assert_eq!(got, vec![]);
}
