//! The stack file as a desired State: the same types the collectors fill, so the same
//! controls judge a stack file before anything exists, and drift is a diff of two States.
//!
//! Desired resources carry AWS-shaped ids built from their logical ids (`vpc-vpc`,
//! `sg-db-sg`, `igw-internet-gateway`, key id `data-key`), every cross-reference uses those
//! ids, and every resource is tagged like provision tags it. `drift::diff` resolves desired
//! ids to live ones through the `tapaudit:logical-id` tag.

use super::{NatMode, Stack, TAG_LOGICAL_ID};
use crate::model::ec2::*;
use crate::model::ecs::{Cluster, Container, EnvVar, Service, TaskDefinition};
use crate::model::iam::Role;
use crate::model::kinesis::Stream;
use crate::model::logs::LogGroup;
use crate::model::rds::{DbInstance, Parameter, ParameterGroup, SubnetGroup};
use crate::model::secrets::Secret;
use crate::model::{Meta, Observed, SourceRef, State};
use crate::provision::names;
use crate::provision::nodes::{LogPurpose, RoleKind, SgKind};
use std::collections::BTreeMap;
use std::str::FromStr;

pub use crate::components::DESIRED_ACCOUNT;

/// Stands for the username provision generates (`u` + 11 random characters).
pub const GENERATED_USERNAME: &str = "generated-at-provision";

struct B<'a> {
    stack: &'a Stack,
    region: String,
}

impl B<'_> {
    fn meta(&self, resource_type: &str, logical: &str, id: &str, arn: String, name: &str) -> Meta {
        let mut tags = self.stack.base_tags();
        tags.insert(TAG_LOGICAL_ID.to_string(), logical.to_string());
        tags.entry("Name".into()).or_insert_with(|| name.to_string());
        let path = crate::provision::nodes::legacy_declared_at(logical);
        Meta {
            resource_type: resource_type.to_string(),
            id: id.to_string(),
            arn,
            region: self.region.clone(),
            account: DESIRED_ACCOUNT.to_string(),
            name: Some(name.to_string()),
            tags: Observed::Known(tags),
            source: Some(SourceRef { path: self.stack.source.path.clone(), line: if path.is_empty() { 1 } else { self.stack.line_of(&path) } }),
        }
    }
    fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{DESIRED_ACCOUNT}:{resource}", self.region)
    }
    fn name(&self, suffix: &str) -> String {
        names::prefixed(self.stack, suffix)
    }
}

/// The legacy sections' one key (until they are components that name their key).
pub fn key_arn(region: &str) -> String {
    crate::components::desired_ids::key_arn(region, "data-key")
}

/// Everything the stack declares, as a State.
pub fn desired(stack: &Stack) -> State {
    let b = B { stack, region: stack.spec.region.clone().unwrap_or_else(|| "us-east-1".into()) };
    let s = &stack.spec;
    let mut st = State::default();
    let key = key_arn(&b.region);

    // network
    let n = &s.network;
    st.ec2.vpcs.insert(Vpc {
        meta: b.meta("ec2:vpc", "vpc", "vpc-vpc", b.arn("ec2", "vpc/vpc-vpc"), &b.name("vpc")),
        cidr: n.cidr.clone(),
        is_default: Observed::Known(false),
        dns_support: Observed::Known(true),
        dns_hostnames: Observed::Known(true),
    });
    st.ec2.internet_gateways.insert(InternetGateway {
        meta: b.meta("ec2:internet-gateway", "internet-gateway", "igw-internet-gateway", b.arn("ec2", "internet-gateway/igw-internet-gateway"), &b.name("igw")),
        vpc_ids: vec!["vpc-vpc".into()],
    });
    let vpc_net = ipnet::Ipv4Net::from_str(&n.cidr).unwrap_or_default();
    for (public, field, offset) in [(true, &n.public_subnets, 0), (false, &n.private_subnets, 10)] {
        for (i, cidr) in super::validate::subnet_cidrs(vpc_net, n.az_count, field.as_ref(), offset).into_iter().enumerate() {
            let logical = if public { crate::provision::nodes::public_subnet_id(i) } else { crate::provision::nodes::private_subnet_id(i) };
            let id = format!("subnet-{logical}");
            st.ec2.subnets.insert(Subnet {
                meta: b.meta("ec2:subnet", &logical, &id, b.arn("ec2", &format!("subnet/{id}")), &b.name(&logical)),
                vpc_id: "vpc-vpc".into(),
                cidr,
                availability_zone: String::new(),
                map_public_ip_on_launch: Observed::Known(false),
            });
        }
    }
    let nats = match n.nat_gateways {
        NatMode::Single => 1,
        NatMode::PerAz => n.az_count,
        NatMode::None => 0,
    };
    for i in 0..nats {
        let logical = crate::provision::nodes::nat_id(i);
        let id = format!("nat-{logical}");
        st.ec2.nat_gateways.insert(NatGateway {
            meta: b.meta("ec2:nat-gateway", &logical, &id, b.arn("ec2", &format!("natgateway/{id}")), &b.name(&logical)),
            vpc_id: "vpc-vpc".into(),
            subnet_id: format!("subnet-{}", crate::provision::nodes::public_subnet_id(i)),
            state: "available".into(),
            allocation_ids: vec![],
        });
    }
    let default_route = |target: &str| Route { destination: "0.0.0.0/0".into(), target: target.into() };
    st.ec2.route_tables.insert(RouteTable {
        meta: b.meta(
            "ec2:route-table",
            "public-route-table",
            "rtb-public-route-table",
            b.arn("ec2", "route-table/rtb-public-route-table"),
            &b.name("public-route-table"),
        ),
        vpc_id: "vpc-vpc".into(),
        main: Observed::Known(false),
        subnet_ids: (0..n.az_count).map(|i| format!("subnet-{}", crate::provision::nodes::public_subnet_id(i))).collect(),
        routes: vec![default_route("igw-internet-gateway")],
    });
    let tables = nats.max(1);
    for t in 0..tables {
        let logical = crate::provision::nodes::private_routes_id(t);
        let id = format!("rtb-{logical}");
        st.ec2.route_tables.insert(RouteTable {
            meta: b.meta("ec2:route-table", &logical, &id, b.arn("ec2", &format!("route-table/{id}")), &b.name(&logical)),
            vpc_id: "vpc-vpc".into(),
            main: Observed::Known(false),
            subnet_ids: (0..n.az_count).filter(|i| i % tables == t).map(|i| format!("subnet-{}", crate::provision::nodes::private_subnet_id(i))).collect(),
            routes: if nats > 0 { vec![default_route(&format!("nat-{}", crate::provision::nodes::nat_id(t)))] } else { vec![] },
        });
    }
    let rule = |protocol: &str, port: Option<i32>, peer: String| Rule { protocol: protocol.into(), from_port: port, to_port: port, peer };
    let app = s.ecs.container_port as i32;
    let db = s.database.port as i32;
    let mut db_ingress = vec![rule("tcp", Some(db), "sg:sg-ecs-tasks-sg".into())];
    db_ingress.extend(s.database.allowed_cidrs.iter().map(|c| rule("tcp", Some(db), format!("cidr:{c}"))));
    for (logical, group_name, ingress, egress) in [
        ("default-sg", "default".to_string(), vec![], vec![]),
        (
            "ecs-tasks-sg",
            names::security_group(stack, SgKind::EcsTasks),
            vec![rule("tcp", Some(app), format!("cidr:{}", n.cidr))],
            vec![rule("-1", None, "cidr:0.0.0.0/0".into())],
        ),
        ("db-sg", names::security_group(stack, SgKind::Database), db_ingress, vec![]),
    ] {
        let id = format!("sg-{logical}");
        st.ec2.security_groups.insert(SecurityGroup {
            meta: b.meta("ec2:security-group", logical, &id, b.arn("ec2", &format!("security-group/{id}")), &group_name),
            group_name,
            vpc_id: "vpc-vpc".into(),
            ingress,
            egress,
        });
    }
    if n.flow_logs {
        st.ec2.flow_logs.insert(FlowLog {
            meta: b.meta("ec2:flow-log", "vpc-flow-log", "fl-vpc-flow-log", b.arn("ec2", "vpc-flow-log/fl-vpc-flow-log"), &b.name("vpc-flow-log")),
            resource_id: "vpc-vpc".into(),
            traffic_type: "ALL".into(),
            destination_type: "cloud-watch-logs".into(),
            destination: names::log_group(stack, LogPurpose::FlowLogs),
            status: "ACTIVE".into(),
            deliver_logs_status: Observed::Known("SUCCESS".into()),
            deliver_logs_error: None,
            log_group_name: Some(names::log_group(stack, LogPurpose::FlowLogs)),
        });
    }

    // log groups
    let mut groups = vec![("ecs-log-group", LogPurpose::Ecs)];
    if n.flow_logs {
        groups.push(("flow-log-group", LogPurpose::FlowLogs));
    }
    for (logical, purpose) in groups {
        let name = names::log_group(stack, purpose);
        st.logs.log_groups.insert(LogGroup {
            meta: b.meta("logs:log-group", logical, &name, b.arn("logs", &format!("log-group:{name}")), &name),
            kms_key_id: Some(key.clone()),
            retention_days: Some(s.logs.retention_days),
        });
    }

    // data
    let stream = names::stream(stack);
    st.kinesis.streams.insert(Stream {
        meta: b.meta("kinesis:stream", "stream", &stream, b.arn("kinesis", &format!("stream/{stream}")), &stream),
        status: Observed::Known("ACTIVE".into()),
        encryption_type: Observed::Known("KMS".into()),
        key_id: Observed::Known(Some(key.clone())),
        retention_hours: Observed::Known(s.kinesis.retention_hours as i32),
        open_shards: Observed::Known(s.kinesis.shard_count as i32),
    });
    let secret = names::secret(stack);
    st.secrets.secrets.insert(Secret {
        meta: b.meta("secretsmanager:secret", "db-credentials", &secret, b.arn("secretsmanager", &format!("secret:{secret}")), &secret),
        kms_key_id: Some(key.clone()),
        rotation_enabled: false,
        rotation_interval_days: None,
        last_rotated: None,
        // about to be created: as fresh as a secret can be
        created: time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).ok(),
        deleted: false,
    });
    let d = &s.database;
    let pg = names::parameter_group(stack);
    st.rds.parameter_groups.insert(ParameterGroup {
        meta: b.meta("rds:parameter-group", "db-parameter-group", &pg, b.arn("rds", &format!("pg:{pg}")), &pg),
        family: Observed::Known(names::parameter_family(stack)),
        scope: "instance".into(),
        tls_parameters: Observed::Known(
            [(
                crate::semantics::db_tls::FORCE_SSL.to_string(),
                Parameter { value: Some(if d.force_ssl { "1" } else { "0" }.into()), source: Some("user".into()) },
            )]
            .into_iter()
            .collect(),
        ),
    });
    let private: Vec<String> = (0..n.az_count).map(|i| format!("subnet-{}", crate::provision::nodes::private_subnet_id(i))).collect();
    let sng = names::db_subnet_group(stack);
    st.rds.subnet_groups.insert(SubnetGroup {
        meta: b.meta("rds:subnet-group", "db-subnet-group", &sng, b.arn("rds", &format!("subgrp:{sng}")), &sng),
        vpc_id: "vpc-vpc".into(),
        subnet_ids: private.clone(),
    });
    let dbid = names::db_instance(stack);
    st.rds.instances.insert(DbInstance {
        meta: b.meta("rds:db-instance", "database", &dbid, b.arn("rds", &format!("db:{dbid}")), &dbid),
        engine: d.engine.as_str().into(),
        engine_version: d.engine_version.clone(),
        instance_class: d.instance_class.clone(),
        status: "available".into(),
        storage_encrypted: Observed::Known(true),
        kms_key_id: Some(key.clone()),
        publicly_accessible: Observed::Known(false),
        backup_retention_days: Observed::Known(d.backup_retention_days as i32),
        backup_window: Some(d.backup_window.clone()),
        log_exports: d.log_exports.clone(),
        multi_az: Observed::Known(d.multi_az),
        deletion_protection: Observed::Known(d.deletion_protection),
        // generated at provision time, never a reserved name, when the stack does not set one
        master_username: Some(d.master_username.clone().unwrap_or_else(|| GENERATED_USERNAME.to_string())),
        availability_zone: Observed::Unknown("not declared: RDS chooses the Availability Zone".into()),
        subnet_group: Some(sng.clone()),
        subnet_ids: private.clone(),
        vpc_id: Some("vpc-vpc".into()),
        security_groups: vec!["sg-db-sg".into()],
        parameter_groups: vec![pg],
        cluster_id: None,
    });

    // ECS
    let cluster = names::cluster(stack);
    let cluster_arn = b.arn("ecs", &format!("cluster/{cluster}"));
    st.ecs.clusters.insert(Cluster {
        meta: b.meta("ecs:cluster", "cluster", &cluster, cluster_arn.clone(), &cluster),
        status: Observed::Known("ACTIVE".into()),
        container_insights: Observed::Known(if s.ecs.container_insights { "enabled" } else { "disabled" }.into()),
    });
    let family = names::task_family(stack);
    let td_arn = b.arn("ecs", &format!("task-definition/{family}"));
    let env = |name: &str, value: &str| crate::collect::env_var(name, value);
    st.ecs.task_definitions.insert(TaskDefinition {
        meta: b.meta("ecs:task-definition", "task-definition", &family, td_arn.clone(), &family),
        family: family.clone(),
        revision: 0,
        status: Observed::Known("ACTIVE".into()),
        network_mode: Some("awsvpc".into()),
        cpu: Some(s.ecs.cpu.to_string()),
        memory: Some(s.ecs.memory.to_string()),
        task_role_arn: Some(format!("arn:aws:iam::{DESIRED_ACCOUNT}:role/{}", names::role(stack, RoleKind::EcsTask))),
        execution_role_arn: Some(format!("arn:aws:iam::{DESIRED_ACCOUNT}:role/{}", names::role(stack, RoleKind::EcsExecution))),
        containers: vec![Container {
            name: names::CONTAINER.into(),
            image: s.ecs.image.clone(),
            privileged: Some(false),
            readonly_root_filesystem: Some(s.ecs.readonly_root_filesystem),
            log_driver: Some("awslogs".into()),
            log_group: Some(names::log_group(stack, LogPurpose::Ecs)),
            environment: vec![
                env("STREAM_NAME", &stream),
                env("DB_SECRET_ARN", &b.arn("secretsmanager", &format!("secret:{secret}"))),
                env("AWS_REGION", &b.region),
            ] as Vec<EnvVar>,
            secret_names: vec![],
        }],
    });
    let svc = names::service(stack);
    st.ecs.services.insert(Service {
        meta: b.meta("ecs:service", "service", &svc, b.arn("ecs", &format!("service/{cluster}/{svc}")), &svc),
        cluster_arn,
        status: Observed::Known("ACTIVE".into()),
        task_definition: td_arn,
        launch_type: Some("FARGATE".into()),
        desired_count: s.ecs.desired_count,
        assign_public_ip: Some("DISABLED".into()),
        subnets: private,
        security_groups: vec!["sg-ecs-tasks-sg".into()],
    });

    // IAM roles: the provisioner's own definitions over the desired ARNs
    let inputs = crate::provision::iam::RoleInputs {
        partition: "aws".into(),
        stream: Some(b.arn("kinesis", &format!("stream/{stream}"))),
        key: Some(key.clone()),
        secret: Some(b.arn("secretsmanager", &format!("secret:{secret}"))),
        flow_group: Some(b.arn("logs", &format!("log-group:{}", names::log_group(stack, LogPurpose::FlowLogs)))),
    };
    let mut roles = vec![("ecs-execution-role", RoleKind::EcsExecution), ("ecs-task-role", RoleKind::EcsTask)];
    if n.flow_logs {
        roles.push(("flow-log-role", RoleKind::FlowLogs));
    }
    for (logical, kind) in roles {
        let Ok(def) = crate::provision::iam::role_definition(kind, &inputs) else { continue };
        let name = names::role(stack, kind);
        let mut meta = b.meta("iam:role", logical, &name, format!("arn:aws:iam::{DESIRED_ACCOUNT}:role/{name}"), &name);
        meta.region = "global".into();
        for arn in &def.managed {
            if let Some(doc) = aws_managed_policy(arn) {
                let pname = arn.rsplit('/').next().unwrap_or(arn).to_string();
                let mut pm = b.meta("iam:policy", "", &pname, arn.clone(), &pname);
                pm.region = "global".into();
                pm.tags = Observed::Known(BTreeMap::new());
                pm.source = None;
                st.iam.policies.insert(crate::model::iam::Policy { meta: pm, aws_managed: true, document: Observed::Known(doc) });
            }
        }
        st.iam.roles.insert(Role {
            meta,
            path: "/".into(),
            trust_policy: Observed::Known(trust_policy(DESIRED_ACCOUNT, def.service)),
            inline_policies: Observed::Known(def.inline.map(|p| BTreeMap::from([(crate::provision::iam::INLINE_POLICY.to_string(), p)])).unwrap_or_default()),
            attached_policies: Observed::Known(def.managed.clone()),
        });
    }
    crate::components::desired(stack, &mut st);
    st
}

pub fn trust_policy(account: &str, service: &str) -> serde_json::Value {
    crate::vocab::policy::trust_policy_for(account, service)
}

/// The AWS-managed policies the blueprint attaches, as AWS publishes them (so the pre-deployment
/// check can judge the roles' full permissions).
fn aws_managed_policy(arn: &str) -> Option<serde_json::Value> {
    let doc = if arn.ends_with("/AmazonECSTaskExecutionRolePolicy") {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
            "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]})
    } else if arn.ends_with("/AmazonAPIGatewayPushToCloudWatchLogs") {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
            "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"], "Resource": "*"}]})
    } else {
        return None;
    };
    Some(doc)
}
