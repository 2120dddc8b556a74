//! diff on hand-built desired/live pairs: one case per field class, plus AWS-assigned values,
//! defaults and list order that must not drift.

use super::*;
use crate::finding::Status;
use crate::model::ec2::{Route, Rule};
use crate::model::Observed;
use std::path::Path;

fn stack() -> Stack {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/dev.toml")).unwrap();
    crate::spec::parse(Path::new("stacks/dev.toml"), text).unwrap()
}

/// The desired State as AWS would hold it: AWS-assigned ids and ARNs in a real account,
/// AWS-added routes and tags, lists in another order.
fn live_of(desired: &State) -> State {
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
        ("\"id\":\"rest-api\"", "\"id\":\"a1b2c3\""),
        ("\"api_id\":\"rest-api\"", "\"api_id\":\"a1b2c3\""),
        ("restapis/rest-api", "restapis/a1b2c3"),
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
        db.master_username = Some("u7f3k2m9q1zx".into());
        db.engine_version = "16.3".into();
    }
    for svc in live.ecs.services.items.values_mut() {
        svc.subnets.reverse();
    }
    live
}

fn run(mutate: impl FnOnce(&mut State)) -> Vec<(String, Status, String, String, usize)> {
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

fn line(path: &str) -> usize {
    stack().line_of(path)
}

fn one(control: &str, logical: &str, field: &str, setting: &str) -> Vec<(String, Status, String, String, usize)> {
    vec![(control.into(), Status::Fail, logical.into(), field.into(), line(setting))]
}

fn by_logical<T: crate::model::Resource>(c: &mut crate::model::Collection<T>, logical: &str) -> String {
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
        one("drift-changed", "data-key", "rotation_enabled", "kms.rotation")
    );
    assert_eq!(
        run(|l| l.kinesis.streams.items.values_mut().for_each(|s| s.key_id = crate::model::Observed::Known(Some("alias/aws/kinesis".into())))),
        one("drift-changed", "stream", "key_id", "kinesis")
    );
    assert_eq!(
        run(|l| l.logs.log_groups.items.values_mut().filter(|g| g.meta.logical_id() == Some("ecs-log-group")).for_each(|g| g.kms_key_id = None)),
        one("drift-changed", "ecs-log-group", "kms_key_id", "kms")
    );
}

#[test]
fn retention_and_backups() {
    assert_eq!(
        run(|l| l.logs.log_groups.items.values_mut().filter(|g| g.meta.logical_id() == Some("api-log-group")).for_each(|g| g.retention_days = None)),
        one("drift-changed", "api-log-group", "retention_days", "logs.retention_days")
    );
    assert_eq!(
        run(|l| l.rds.instances.items.values_mut().for_each(|d| d.backup_retention_days = 1)),
        one("drift-changed", "database", "backup_retention_days", "database.backup_retention_days")
    );
    assert_eq!(run(|l| l.kinesis.streams.items.values_mut().for_each(|s| s.retention_hours = crate::model::Observed::Known(48))), one("drift-changed", "stream", "retention_hours", "kinesis.retention_hours"));
}

#[test]
fn public_accessibility_subnets_and_log_exports() {
    assert_eq!(run(|l| l.rds.instances.items.values_mut().for_each(|d| d.publicly_accessible = true)), one("drift-changed", "database", "publicly_accessible", "database"));
    assert_eq!(
        run(|l| l.ecs.services.items.values_mut().for_each(|s| s.subnets = vec!["subnet-0p1".into(), "subnet-0q2".into()])),
        one("drift-changed", "service", "subnets", "network.private_subnets")
    );
    assert_eq!(
        run(|l| l.rds.instances.items.values_mut().for_each(|d| d.log_exports = vec!["postgresql".into()])),
        one("drift-changed", "database", "log_exports", "database.log_exports")
    );
    assert_eq!(
        run(|l| l.ec2.subnets.items.values_mut().filter(|s| s.meta.logical_id() == Some("private-subnet-2")).for_each(|s| s.map_public_ip_on_launch = true)),
        one("drift-changed", "private-subnet-2", "map_public_ip_on_launch", "network.private_subnets[1]")
    );
}

#[test]
fn security_group_rules_missing_and_undeclared() {
    let open = Rule { protocol: "tcp".into(), from_port: Some(5432), to_port: Some(5432), peer: "cidr:0.0.0.0/0".into() };
    let got = run(|l| {
        let k = by_logical(&mut l.ec2.security_groups, "db-sg");
        l.ec2.security_groups.items.get_mut(&k).unwrap().ingress.push(open.clone());
    });
    assert_eq!(got, vec![("drift-unmanaged".into(), Status::Fail, "db-sg".into(), "ingress".into(), line("database.port"))]);
    let got = run(|l| {
        let k = by_logical(&mut l.ec2.security_groups, "db-sg");
        l.ec2.security_groups.items.get_mut(&k).unwrap().ingress.clear();
    });
    assert_eq!(got, one("drift-changed", "db-sg", "ingress", "database.port"));
    // the same rules in another order are no drift
    assert_eq!(
        run(|l| {
            let k = by_logical(&mut l.ec2.security_groups, "ecs-tasks-sg");
            l.ec2.security_groups.items.get_mut(&k).unwrap().ingress.reverse();
        }),
        vec![]
    );
}

#[test]
fn container_insights_method_authorization_and_stage_logging() {
    assert_eq!(
        run(|l| l.ecs.clusters.items.values_mut().for_each(|c| c.container_insights = Observed::Known("disabled".into()))),
        one("drift-changed", "cluster", "container_insights", "ecs.container_insights")
    );
    // "enhanced" observability is Container Insights too
    assert_eq!(run(|l| l.ecs.clusters.items.values_mut().for_each(|c| c.container_insights = Observed::Known("enhanced".into()))), vec![]);
    assert_eq!(run(|l| l.apigw.methods.items.values_mut().for_each(|m| m.authorization_type = "NONE".into())), one("drift-changed", "ingest-method", "authorization_type", "api"));
    let got = run(|l| {
        for s in l.apigw.stages.items.values_mut() {
            s.method_settings.get_mut("*/*").unwrap().logging_level = Some("OFF".into());
        }
    });
    assert_eq!(got, one("drift-changed", "api-stage", "logging_level", "api.logging_level"));
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
    assert_eq!(got, vec![("drift-changed".into(), Status::Error, "data-key".into(), "rotation_enabled".into(), line("kms.rotation"))]);
}
