//! The stack file as a desired State: the same types the collectors fill, so the same
//! controls judge a stack file before anything exists, and drift is a diff of two States.
//!
//! Desired resources carry AWS-shaped ids built from their logical ids (`vpc-vpc`,
//! `sg-db-sg`, `igw-internet-gateway`, key id `data-key`), every cross-reference uses those
//! ids, and every resource is tagged like provision tags it. `drift::diff` resolves desired
//! ids to live ones through the `tapaudit:logical-id` tag.

use super::{Stack, TAG_LOGICAL_ID};
use crate::model::ecs::{Cluster, Container, EnvVar, Service, TaskDefinition};
use crate::model::iam::Role;
use crate::model::kinesis::Stream;
use crate::model::logs::LogGroup;
use crate::model::rds::{DbInstance, Parameter, ParameterGroup, SubnetGroup};
use crate::model::secrets::Secret;
use crate::model::{Meta, Observed, SourceRef, State};
use crate::provision::names;
use crate::provision::nodes::{LogPurpose, RoleKind};
use std::collections::BTreeMap;

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

    // log groups
    let groups = vec![("ecs-log-group", LogPurpose::Ecs)];
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
        owning_service: None,
        rotation_enabled: false,
        rotation_interval_days: None,
        rotation_schedule: None,
        last_rotated: None,
        next_rotation: None,
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
    let private: Vec<String> = crate::components::network::private_subnets(stack).iter().map(|s| crate::components::desired_ids::subnet(s)).collect();
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
        // the password is generated at provision time, not managed by RDS
        master_user_secret: None,
        iam_auth: Observed::Unknown("not declared by the stack file".into()),
        copy_tags_to_snapshot: Observed::Unknown("not declared by the stack file".into()),
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
    let env = |name: &str, value: &str| crate::semantics::secret_values::env_var(name, value);
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
        flow_group: None,
    };
    let roles = vec![("ecs-execution-role", RoleKind::EcsExecution), ("ecs-task-role", RoleKind::EcsTask)];
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
