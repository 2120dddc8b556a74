//! `[services.<id>]`: a container service on ECS Fargate — its cluster (Container Insights),
//! its task definition (one container `<id>`, read-only root, logs to its own encrypted log
//! group, credentials only through `secrets`), and the service itself in the private subnets
//! without public IPs, optionally behind a load balancer's target group and mounting an EFS
//! file system through its access point. Its two roles are least privilege: the execution role
//! pulls the image, writes logs and reads exactly the database secret; the task role reads
//! exactly the streams the service `reads` (and mounts exactly its file system).

use super::role::{Grant, Res, RoleDef};
use super::{desired_ids, log_group, role, Component, Cx, Kind, Output, Problem, Reference, Stack};
use crate::error::{Result, SdkResultExt};
use crate::model::ecs::{Cluster, Container, EnvVar, Service as ServiceModel, TaskDefinition};
use crate::model::{Observed, State};
use crate::provision::{attrs, diff, tag_changes, wait_for, Attrs, Change, Ctx, Found, Node};
use crate::semantics::secret_values;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ClusterField, ClusterSetting, ClusterSettingName, Compatibility, ContainerDefinition, EfsAuthorizationConfig,
    EfsAuthorizationConfigIam, EfsTransitEncryption, EfsVolumeConfiguration, KeyValuePair, LaunchType, LoadBalancer, LogConfiguration, LogDriver, MountPoint,
    NetworkConfiguration, NetworkMode, PortMapping, PropagateTags, Secret, TaskDefinitionField, TaskDefinitionStatus, TransportProtocol, Volume,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Service {
    /// Fargate task CPU units and memory (MiB): a valid Fargate combination.
    pub cpu: u32,
    pub memory: u32,
    /// Tasks to keep running (0–100), spread across the private subnets.
    pub desired_count: i32,
    /// Container image reference.
    pub image: String,
    /// The port the container listens on (the load balancer's target port).
    pub container_port: u16,
    /// Container Insights on the service's cluster.
    pub container_insights: bool,
    /// The container's root file system is read-only.
    pub readonly_root_filesystem: bool,
    /// The `[security_groups.<id>]` of the tasks (required).
    pub security_group: String,
    /// The `[keys.<id>]` that encrypts the service's log group (required).
    pub log_key: String,
    /// Streams the task may read (`[streams.<id>]`), and decrypt with their keys. Their names
    /// reach the container as `STREAM_NAMES` (comma-separated, in this order).
    pub reads: Vec<String>,
    /// The `[databases.<id>]` whose managed master secret the container receives as
    /// `DATABASE_SECRET` (through the task definition's `secrets`, never the environment).
    pub database: Option<String>,
    /// Plain configuration for the container. Credentials are refused here: use `database`.
    pub environment: BTreeMap<String, String>,
    /// The `[file_systems.<id>]` to mount (through its access point, TLS and IAM authorization).
    pub file_system: Option<String>,
    /// Where the file system is mounted in the container (absolute path; with `file_system`).
    pub mount_path: Option<String>,
    /// The `[load_balancers.<id>]` whose target group the service registers its port with.
    pub load_balancer: Option<String>,
}

impl Default for Service {
    fn default() -> Self {
        Service {
            cpu: 256,
            memory: 512,
            desired_count: 1,
            image: "public.ecr.aws/docker/library/python:3.12-slim".into(),
            container_port: 8080,
            container_insights: true,
            readonly_root_filesystem: true,
            security_group: String::new(),
            log_key: String::new(),
            reads: vec![],
            database: None,
            environment: BTreeMap::new(),
            file_system: None,
            mount_path: None,
            load_balancer: None,
        }
    }
}

/// The container environment variables the blueprint sets itself.
pub const RESERVED_ENV: &[&str] = &["AWS_REGION", "STREAM_NAMES"];
/// The name under which the container receives the database secret.
pub const DATABASE_SECRET: &str = "DATABASE_SECRET";

const TASK_TRUST: &str = "ecs-tasks.amazonaws.com";
const READ_STREAM: &[&str] =
    &["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards"];

/// Where the database's secret comes from: its node and attribute, and the key that encrypts it.
struct SecretSource {
    node: String,
    attr: &'static str,
    key: Option<String>,
}

fn secret_source(stack: &Stack, db: &str) -> SecretSource {
    // the key a database's secret is encrypted with is the key it references for Secrets Manager
    let key =
        stack.instances().iter().filter(|i| i.id == db).flat_map(|i| i.component.references()).find(|r| r.via == Some("secretsmanager")).map(|r| r.target);
    SecretSource { node: db.to_string(), attr: "secret_arn", key }
}

/// Valid Fargate CPU → memory (MiB) combinations.
pub fn fargate_memory_ok(cpu: u32, mem: u32) -> bool {
    match cpu {
        256 => [512, 1024, 2048].contains(&mem),
        512 => (1024..=4096).contains(&mem) && mem % 1024 == 0,
        1024 => (2048..=8192).contains(&mem) && mem % 1024 == 0,
        2048 => (4096..=16384).contains(&mem) && mem % 1024 == 0,
        4096 => (8192..=30720).contains(&mem) && mem % 1024 == 0,
        8192 => (16384..=61440).contains(&mem) && mem % 4096 == 0,
        16384 => (32768..=122880).contains(&mem) && mem % 8192 == 0,
        _ => false,
    }
}

/// Words that make an environment variable's name say "credential".
const SECRET_NAME_PARTS: &[&str] = &["PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "APIKEY", "API_KEY", "PRIVATE_KEY", "CREDENTIAL", "CREDENTIALS", "AUTH"];

fn secret_looking_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let parts: Vec<&str> = upper.split('_').collect();
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "API_KEY", "PRIVATE_KEY", "CREDENTIAL"].iter().any(|w| upper.contains(w))
        || parts.iter().any(|p| SECRET_NAME_PARTS.contains(p))
}

fn is_env_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why an environment entry is not plain configuration, if it is not. The value is only
/// classified (`semantics::secret_values`), never repeated.
pub fn not_plain_configuration(name: &str, value: &str) -> Option<String> {
    let kind = secret_values::classify(value);
    if kind.is_credential() {
        return Some(format!("holds {}: credentials go through `database` (the task definition's secrets), never the environment", kind.describe()));
    }
    if kind == crate::model::ecs::ValueKind::Reference {
        return Some("holds a reference to a secret or parameter: credentials go through `database` (the task definition's secrets)".into());
    }
    if secret_looking_name(name) {
        return Some(
            "has a name that says it is a credential: credentials go through `database` (the task definition's secrets), never the environment".into(),
        );
    }
    None
}

impl Service {
    fn role_names(&self, cx: &Cx) -> (String, String) {
        (cx.name(&format!("{}-execution", cx.id)), cx.name(&format!("{}-task", cx.id)))
    }

    fn execution_role(&self, cx: &Cx) -> RoleDef {
        let mut grants = Vec::new();
        if let Some(db) = &self.database {
            let src = secret_source(cx.stack, db);
            grants.push(Grant::new("ReadDatabaseSecret", &["secretsmanager:GetSecretValue"], vec![Res::Attr { node: src.node, attr: src.attr, suffix: "" }]));
            if let Some(key) = src.key {
                grants.push(Grant::new("DecryptDatabaseSecret", &["kms:Decrypt"], vec![Res::arn_of(&key)]));
            }
        }
        RoleDef {
            name: self.role_names(cx).0,
            service: TASK_TRUST,
            description: format!("ECS pulls the image of {}, writes its logs and reads its database secret", cx.id),
            managed: vec!["service-role/AmazonECSTaskExecutionRolePolicy"],
            grants,
        }
    }

    fn task_role(&self, cx: &Cx) -> RoleDef {
        let mut grants = Vec::new();
        if !self.reads.is_empty() {
            grants.push(Grant::new("ReadStreams", READ_STREAM, self.reads.iter().map(|s| Res::arn_of(s)).collect()));
            let keys: BTreeSet<String> = self.reads.iter().filter_map(|s| super::stream::key_of(cx.stack, s)).filter(|k| !k.is_empty()).collect();
            if !keys.is_empty() {
                grants.push(Grant::new("DecryptStreams", &["kms:Decrypt"], keys.iter().map(|k| Res::arn_of(k)).collect()));
            }
        }
        if let Some(fs) = &self.file_system {
            grants.push(
                Grant::new("MountFileSystem", &["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], vec![Res::arn_of(fs)])
                    .when_equals("elasticfilesystem:AccessPointArn", Res::arn_of(&format!("{fs}-access-point"))),
            );
        }
        RoleDef {
            name: self.role_names(cx).1,
            service: TASK_TRUST,
            description: format!("{} reads its streams{}", cx.id, if self.file_system.is_some() { " and mounts its file system" } else { "" }),
            managed: vec![],
            grants,
        }
    }

    /// The container's environment: the stack file's, then the blueprint's own.
    fn environment(&self, cx: &Cx) -> Vec<EnvSrc> {
        let mut out: Vec<EnvSrc> = self.environment.iter().map(|(k, v)| EnvSrc { name: k.clone(), value: EnvValue::Literal(v.clone()) }).collect();
        out.push(EnvSrc { name: "AWS_REGION".into(), value: EnvValue::Region });
        if !self.reads.is_empty() {
            out.push(EnvSrc { name: "STREAM_NAMES".into(), value: EnvValue::StreamNames(self.reads.clone()) });
        }
        let _ = cx;
        out
    }

    fn task(&self, cx: &Cx) -> TaskNode {
        TaskNode {
            family: cx.name(cx.id),
            container: cx.id.to_string(),
            cpu: self.cpu,
            memory: self.memory,
            image: self.image.clone(),
            port: self.container_port,
            readonly_root: self.readonly_root_filesystem,
            execution_role: format!("{}-execution-role", cx.id),
            task_role: format!("{}-task-role", cx.id),
            log_group: cx.stack.id.log_group(cx.id),
            environment: self.environment(cx),
            secret: self.database.as_ref().map(|db| {
                let s = secret_source(cx.stack, db);
                (s.node, s.attr)
            }),
            file_system: self.file_system.clone().map(|fs| (fs, self.mount_path.clone().unwrap_or_default())),
        }
    }
}

impl Component for Service {
    const KIND: Kind = Kind::Service;

    fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        if !self.security_group.is_empty() {
            out.push(Reference::new("security_group", &self.security_group, &[Kind::SecurityGroup]));
        }
        if !self.log_key.is_empty() {
            out.push(Reference::key("log_key", &self.log_key, "logs"));
        }
        for (i, s) in self.reads.iter().enumerate() {
            out.push(Reference::new(format!("reads[{i}]"), s, &[Kind::Stream]));
        }
        if let Some(db) = &self.database {
            out.push(Reference::new("database", db, &[Kind::Database]));
        }
        if let Some(fs) = &self.file_system {
            out.push(Reference::new("file_system", fs, &[Kind::FileSystem]));
        }
        if let Some(lb) = &self.load_balancer {
            out.push(Reference::new("load_balancer", lb, &[Kind::LoadBalancer]));
        }
        out
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        let mut out = Vec::new();
        if !fargate_memory_ok(self.cpu, self.memory) {
            out.push(cx.problem("memory", format!("{} MiB is not a valid Fargate memory size for {} CPU units", self.memory, self.cpu)));
        }
        if !(0..=100).contains(&self.desired_count) {
            out.push(cx.problem("desired_count", format!("must be between 0 and 100 (got {})", self.desired_count)));
        }
        if self.image.trim().is_empty() || self.image.contains(char::is_whitespace) {
            out.push(cx.problem("image", "must be a container image reference"));
        }
        if self.container_port == 0 {
            out.push(cx.problem("container_port", "must be between 1 and 65535"));
        }
        if self.security_group.is_empty() {
            out.push(cx.problem("security_group", "is required: name the `[security_groups.<id>]` of the tasks"));
        }
        if self.log_key.is_empty() {
            out.push(cx.problem("log_key", "is required: name the `[keys.<id>]` that encrypts the service's log group"));
        }
        let mut seen = BTreeSet::new();
        for (i, s) in self.reads.iter().enumerate() {
            if !seen.insert(s) {
                out.push(cx.problem(&format!("reads[{i}]"), format!("names {s:?} twice")));
            }
        }
        for (k, v) in &self.environment {
            let at = format!("environment.{k}");
            if !is_env_name(k) {
                out.push(cx.problem(&at, "is not an environment variable name (letters, digits and underscores, not starting with a digit)"));
            } else if RESERVED_ENV.contains(&k.as_str()) || k.starts_with("ECS_") || k.starts_with("AWS_") {
                out.push(cx.problem(&at, format!("is set by the blueprint or by ECS (reserved: {}, ECS_*, AWS_*)", RESERVED_ENV.join(", "))));
            } else if k == DATABASE_SECRET {
                out.push(cx.problem(&at, "is where the database secret goes: set `database` instead"));
            } else if let Some(why) = not_plain_configuration(k, v) {
                out.push(cx.problem(&at, why));
            }
        }
        match (&self.file_system, &self.mount_path) {
            (Some(_), None) => out.push(cx.problem("mount_path", "is required with file_system: where the file system is mounted")),
            (None, Some(_)) => out.push(cx.problem("mount_path", "needs file_system")),
            (Some(_), Some(p)) if !p.starts_with('/') || p == "/" || p.contains(char::is_whitespace) => {
                out.push(cx.problem("mount_path", format!("must be an absolute path other than / (got {p:?})")))
            }
            _ => {}
        }
        let (exec, task) = self.role_names(cx);
        for (field, name) in [("", exec), ("", task)] {
            if name.len() > 64 {
                out.push(cx.problem(field, format!("gives the role name {name:?}, longer than IAM's 64 characters: shorten the logical id")));
            }
        }
        out
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        let id = cx.id;
        let (logs, exec, task_role, cluster, task) =
            (format!("{id}-logs"), format!("{id}-execution-role"), format!("{id}-task-role"), format!("{id}-cluster"), format!("{id}-task"));
        let mut v = vec![
            log_group::node(cx, &logs, id, &self.log_key),
            role::node(cx, &exec, self.execution_role(cx)),
            role::node(cx, &task_role, self.task_role(cx)),
            cx.node(&cluster, ClusterNode { name: cx.name(&cluster), insights: self.container_insights }, &[]),
        ];
        let td = self.task(cx);
        let mut deps: Vec<String> = vec![exec, task_role, logs];
        deps.extend(self.reads.iter().cloned());
        if let Some((node, _)) = &td.secret {
            deps.push(node.clone());
        }
        if let Some(fs) = &self.file_system {
            deps.push(fs.clone());
            deps.push(format!("{fs}-access-point"));
        }
        let deps_ref: Vec<&str> = deps.iter().map(String::as_str).collect();
        v.push(cx.node(&task, td, &deps_ref));
        let subnets = super::network::private_subnets(cx.stack);
        let target_group = self.load_balancer.as_ref().map(|lb| format!("{lb}-target-group"));
        let mut deps: Vec<String> = vec![cluster.clone(), task.clone(), self.security_group.clone()];
        deps.extend(subnets.iter().cloned());
        deps.extend(target_group.iter().cloned());
        let svc = ServiceNode {
            name: cx.name(id),
            cluster_name: cx.name(&cluster),
            task,
            desired_count: self.desired_count,
            security_group: self.security_group.clone(),
            subnets,
            target_group,
            container: id.to_string(),
            port: self.container_port,
        };
        let deps_ref: Vec<&str> = deps.iter().map(String::as_str).collect();
        v.push(cx.node(id, svc, &deps_ref));
        v
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        let id = cx.id;
        let region = cx.region();
        let secret_arn = self.database.as_ref().map(|db| super::database::desired_secret_arn(cx.stack, db));
        let resolve = |node: &str, attr: &str| -> Option<String> {
            if attr != "arn" && attr != "secret_arn" {
                return None;
            }
            if cx.stack.spec.keys.contains_key(node) || node == "data-key" {
                return Some(desired_ids::key_arn(&region, node));
            }
            if cx.stack.spec.streams.contains_key(node) {
                return Some(super::stream::arn(cx, node));
            }
            if self.database.as_deref().is_some_and(|db| secret_source(cx.stack, db).node == node) {
                return secret_arn.clone();
            }
            if let Some(fs) = &self.file_system {
                if node == fs {
                    return Some(super::file_system::desired_arns_of(cx, fs).0);
                }
                if node == format!("{fs}-access-point") {
                    return Some(super::file_system::desired_arns_of(cx, fs).1);
                }
            }
            None
        };
        log_group::desired(cx, st, &format!("{id}-logs"), id, &self.log_key);
        let exec = self.execution_role(cx);
        let task_role = self.task_role(cx);
        role::desired(cx, st, &format!("{id}-execution-role"), &exec, &resolve);
        role::desired(cx, st, &format!("{id}-task-role"), &task_role, &resolve);
        let cluster_id = format!("{id}-cluster");
        let cluster = cx.name(&cluster_id);
        let cluster_arn = cx.arn("ecs", &format!("cluster/{cluster}"));
        st.ecs.clusters.insert(Cluster {
            meta: cx.meta("ecs:cluster", &cluster_id, &cluster, cluster_arn.clone(), &cluster, "container_insights"),
            status: Observed::Known("ACTIVE".into()),
            container_insights: Observed::Known(if self.container_insights { "enabled" } else { "disabled" }.into()),
        });
        let td = self.task(cx);
        let td_arn = cx.arn("ecs", &format!("task-definition/{}", td.family));
        let role_arn = |name: &str| format!("arn:aws:iam::{}:role/{name}", super::DESIRED_ACCOUNT);
        let environment: Vec<EnvVar> = td.environment.iter().map(|e| secret_values::env_var(&e.name, &e.value.desired(cx, &region))).collect();
        st.ecs.task_definitions.insert(TaskDefinition {
            meta: cx.meta("ecs:task-definition", &format!("{id}-task"), &td.family, td_arn.clone(), &td.family, "image"),
            family: td.family.clone(),
            revision: 0,
            status: Observed::Known("ACTIVE".into()),
            network_mode: Some("awsvpc".into()),
            cpu: Some(self.cpu.to_string()),
            memory: Some(self.memory.to_string()),
            task_role_arn: Some(role_arn(&task_role.name)),
            execution_role_arn: Some(role_arn(&exec.name)),
            containers: vec![Container {
                name: td.container.clone(),
                image: self.image.clone(),
                privileged: Some(false),
                readonly_root_filesystem: Some(self.readonly_root_filesystem),
                log_driver: Some("awslogs".into()),
                log_group: Some(td.log_group.clone()),
                environment,
                secret_names: self.database.iter().map(|_| DATABASE_SECRET.to_string()).collect(),
            }],
        });
        let name = cx.name(id);
        st.ecs.services.insert(ServiceModel {
            meta: cx.meta("ecs:service", id, &name, cx.arn("ecs", &format!("service/{cluster}/{name}")), &name, ""),
            cluster_arn,
            status: Observed::Known("ACTIVE".into()),
            task_definition: td_arn,
            launch_type: Some("FARGATE".into()),
            desired_count: self.desired_count,
            assign_public_ip: Some("DISABLED".into()),
            subnets: super::network::private_subnets(cx.stack).iter().map(|s| desired_ids::subnet(s)).collect(),
            security_groups: vec![desired_ids::security_group(&self.security_group)],
        });
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        let id = cx.id;
        vec![
            Output { name: cx.at("arn"), node: id.to_string(), attr: "arn".into() },
            Output { name: cx.at("cluster_arn"), node: format!("{id}-cluster"), attr: "arn".into() },
            Output { name: cx.at("task_definition_arn"), node: format!("{id}-task"), attr: "arn".into() },
            Output { name: cx.at("log_group"), node: format!("{id}-logs"), attr: "name".into() },
        ]
    }
}

/// Drift of the stack's clusters, services and task definitions.
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.ecs.clusters, &live.ecs.clusters, |d, w, g| {
        let at = d.setting(&w.meta, "container_insights");
        let norm = |v: &str| if v == "enhanced" { "enabled".to_string() } else { v.to_string() };
        match g.container_insights.get() {
            Ok(v) => d.field(&g.meta, "container_insights", &at, json!(w.container_insights.known().map(|s| norm(s))), json!(norm(v))),
            Err(e) => d.unknown(&g.meta, "container_insights", &at, e),
        }
    });
    d.each(&desired.ecs.services, &live.ecs.services, |d, w, g| {
        let m = &g.meta;
        let at = |f: &str| d.setting(&w.meta, f);
        let (count_at, table, sg_at) = (at("desired_count"), at(""), at("security_group"));
        d.field(m, "desired_count", &count_at, json!(w.desired_count), json!(g.desired_count));
        d.field(m, "assign_public_ip", &table, json!(w.assign_public_ip), json!(g.assign_public_ip));
        d.field(m, "launch_type", &table, json!(w.launch_type), json!(g.launch_type));
        d.field(m, "subnets", &table, set(w.subnets.iter().map(|s| d.res(s))), set(g.subnets.clone()));
        d.field(m, "security_groups", &sg_at, set(w.security_groups.iter().map(|s| d.res(s))), set(g.security_groups.clone()));
    });
    d.each(&desired.ecs.task_definitions, &live.ecs.task_definitions, |d, w, g| {
        let m = &g.meta;
        let (cpu_at, memory_at) = (d.setting(&w.meta, "cpu"), d.setting(&w.meta, "memory"));
        d.field(m, "cpu", &cpu_at, json!(w.cpu), json!(g.cpu));
        d.field(m, "memory", &memory_at, json!(w.memory), json!(g.memory));
        containers(d, &w.meta, m, &w.containers, &g.containers);
    });
}

fn set<T: Serialize + Ord + Clone>(items: impl IntoIterator<Item = T>) -> serde_json::Value {
    json!(items.into_iter().collect::<BTreeSet<T>>())
}

/// Every container of a task definition, matched by name: the set of containers, then each
/// one's image, root file system, privilege, log group, environment (names and what their values
/// are, never the values) and secrets.
fn containers(d: &mut crate::drift::Drift, wm: &crate::model::Meta, m: &crate::model::Meta, want: &[Container], got: &[Container]) {
    let by_name = |cs: &'_ [Container]| cs.iter().map(|c| (c.name.clone(), c.clone())).collect::<BTreeMap<_, _>>();
    let (w, g) = (by_name(want), by_name(got));
    let at = |f: &str| d.setting(wm, f);
    let (table, image_at, root_at, env_at, db_at) = (at(""), at("image"), at("readonly_root_filesystem"), at("environment"), at("database"));
    d.field(m, "containers", &table, set(w.keys().cloned()), set(g.keys().cloned()));
    let env = |c: &Container| set(c.environment.iter().map(|e| format!("{} ({})", e.name, e.kind.slug())));
    for (name, wc) in &w {
        let Some(gc) = g.get(name) else { continue };
        let f = |field: &str| format!("containers.{name}.{field}");
        d.field(m, &f("image"), &image_at, json!(wc.image), json!(gc.image));
        d.field(m, &f("readonly_root_filesystem"), &root_at, json!(wc.root_is_read_only()), json!(gc.root_is_read_only()));
        d.field(m, &f("privileged"), &table, json!(wc.runs_privileged()), json!(gc.runs_privileged()));
        d.field(m, &f("log_group"), &table, json!(wc.log_group), json!(gc.log_group));
        d.field(m, &f("environment"), &env_at, env(wc), env(gc));
        d.field(m, &f("secrets"), &db_at, set(wc.secret_names.clone()), set(gc.secret_names.clone()));
    }
}

// ---------- provisioning ----------

#[derive(Debug, Clone)]
enum EnvValue {
    Literal(String),
    Region,
    /// The names of these streams (node ids), comma-separated.
    StreamNames(Vec<String>),
}

impl EnvValue {
    fn live(&self, ctx: &Ctx) -> Result<String> {
        Ok(match self {
            EnvValue::Literal(v) => v.clone(),
            EnvValue::Region => ctx.region.clone(),
            EnvValue::StreamNames(s) => s.iter().map(|s| ctx.need(s, "name")).collect::<Result<Vec<_>>>()?.join(","),
        })
    }

    fn desired(&self, cx: &Cx, region: &str) -> String {
        match self {
            EnvValue::Literal(v) => v.clone(),
            EnvValue::Region => region.to_string(),
            EnvValue::StreamNames(s) => s.iter().map(|s| cx.name(s)).collect::<Vec<_>>().join(","),
        }
    }
}

#[derive(Debug, Clone)]
struct EnvSrc {
    name: String,
    value: EnvValue,
}

fn ecs_tags(tags: BTreeMap<String, String>) -> Vec<aws_sdk_ecs::types::Tag> {
    tags.into_iter().map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build()).collect()
}

fn ecs_tag_pairs(tags: &[aws_sdk_ecs::types::Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

#[derive(Debug, Clone)]
struct ClusterNode {
    name: String,
    insights: bool,
}

crate::node_ops!(ClusterNode, "ecs:cluster");

impl ClusterNode {
    fn insights_value(&self) -> &'static str {
        if self.insights {
            "enabled"
        } else {
            "disabled"
        }
    }

    async fn describe(&self, ctx: &Ctx) -> Result<Option<aws_sdk_ecs::types::Cluster>> {
        let name = &self.name;
        let out = ctx.clients.ecs.describe_clusters().clusters(name).include(ClusterField::Settings).include(ClusterField::Tags).send().await.ctx(
            "ecs",
            "DescribeClusters",
            name,
        )?;
        Ok(out.clusters().iter().find(|c| c.status() == Some("ACTIVE") || c.status() == Some("PROVISIONING")).cloned())
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(c) = self.describe(ctx).await? else { return Ok(Found::Absent) };
        ctx.claim(id, "ecs:cluster", &self.name, ecs_tag_pairs(c.tags()))?;
        let mut changes = Vec::new();
        // an absent setting is Container Insights' default: disabled (ECS ClusterSetting)
        let got = c.settings().iter().find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights)).and_then(|s| s.value()).unwrap_or("disabled");
        // "enhanced" observability also satisfies Container Insights
        let got = if got == "enhanced" { "enabled" } else { got };
        diff(&mut changes, "container_insights", self.insights_value(), got);
        changes.extend(tag_changes(&ctx.tags(id, &self.name), ecs_tag_pairs(c.tags())));
        Ok(Found::Present { attrs: attrs([("name", self.name.clone()), ("arn", c.cluster_arn().unwrap_or_default().to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let ecs = &ctx.clients.ecs;
        let name = &self.name;
        let setting = ClusterSetting::builder().name(ClusterSettingName::ContainerInsights).value(self.insights_value()).build();
        let arn = match found {
            Found::Absent => ecs
                .create_cluster()
                .cluster_name(name)
                .settings(setting)
                .set_tags(Some(ecs_tags(ctx.tags(id, name))))
                .send()
                .await
                .ctx("ecs", "CreateCluster", name)?
                .cluster()
                .and_then(|c| c.cluster_arn())
                .unwrap_or_default()
                .to_string(),
            Found::Present { attrs, .. } => {
                ecs.update_cluster().cluster(name).settings(setting).send().await.ctx("ecs", "UpdateCluster", name)?;
                ecs.tag_resource().resource_arn(&attrs["arn"]).set_tags(Some(ecs_tags(ctx.tags(id, name)))).send().await.ctx("ecs", "TagResource", name)?;
                attrs["arn"].clone()
            }
        };
        Ok(attrs([("name", name.clone()), ("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(c) = self.describe(ctx).await? else { return Ok(None) };
        if !ctx.owns(id, ecs_tag_pairs(c.tags())) {
            tracing::warn!("cluster {} does not carry this stack's tags; left alone", self.name);
            return Ok(None);
        }
        ctx.clients.ecs.delete_cluster().cluster(&self.name).send().await.ctx("ecs", "DeleteCluster", &self.name)?;
        Ok(Some(self.name.clone()))
    }
}

#[derive(Debug, Clone)]
struct TaskNode {
    family: String,
    container: String,
    cpu: u32,
    memory: u32,
    image: String,
    port: u16,
    readonly_root: bool,
    /// Node ids of the roles.
    execution_role: String,
    task_role: String,
    log_group: String,
    environment: Vec<EnvSrc>,
    /// The database secret's node and attribute.
    secret: Option<(String, &'static str)>,
    /// The file system's node id and mount path.
    file_system: Option<(String, String)>,
}

crate::node_ops!(TaskNode, "ecs:task-definition");

/// The settings of a task definition that matter, as comparable text.
#[derive(Debug, PartialEq)]
struct TaskShape {
    cpu: String,
    memory: String,
    image: String,
    execution_role: String,
    task_role: String,
    log_group: String,
    environment: BTreeSet<(String, String)>,
    secrets: BTreeSet<(String, String)>,
    readonly_root: bool,
    privileged: bool,
    port: i32,
    /// (file system id, access point id, container path, transit encryption, IAM)
    volume: Option<(String, String, String, bool, bool)>,
}

const VOLUME: &str = "data";

impl TaskNode {
    fn environment(&self, ctx: &Ctx) -> Result<Vec<(String, String)>> {
        self.environment.iter().map(|e| Ok((e.name.clone(), e.value.live(ctx)?))).collect()
    }

    fn secrets(&self, ctx: &Ctx) -> Result<Vec<(String, String)>> {
        match &self.secret {
            Some((node, attr)) => Ok(vec![(DATABASE_SECRET.to_string(), ctx.need(node, attr)?)]),
            None => Ok(vec![]),
        }
    }

    fn volume(&self, ctx: &Ctx) -> Result<Option<(String, String, String, bool, bool)>> {
        match &self.file_system {
            Some((fs, path)) => Ok(Some((ctx.need(fs, "id")?, ctx.need(&format!("{fs}-access-point"), "id")?, path.clone(), true, true))),
            None => Ok(None),
        }
    }

    fn desired_shape(&self, ctx: &Ctx) -> Result<TaskShape> {
        Ok(TaskShape {
            cpu: self.cpu.to_string(),
            memory: self.memory.to_string(),
            image: self.image.clone(),
            execution_role: ctx.need(&self.execution_role, "arn")?,
            task_role: ctx.need(&self.task_role, "arn")?,
            log_group: self.log_group.clone(),
            environment: self.environment(ctx)?.into_iter().collect(),
            secrets: self.secrets(ctx)?.into_iter().collect(),
            readonly_root: self.readonly_root,
            privileged: false,
            port: self.port as i32,
            volume: self.volume(ctx)?,
        })
    }

    /// What a registered revision says; absent booleans read as ECS's documented defaults
    /// (readonlyRootFilesystem and privileged default to false: ContainerDefinition).
    fn live_shape(&self, td: &aws_sdk_ecs::types::TaskDefinition) -> TaskShape {
        let c = td.container_definitions().iter().find(|c| c.name() == Some(self.container.as_str()));
        let volume = td.volumes().iter().find(|v| v.name() == Some(VOLUME)).and_then(|v| v.efs_volume_configuration()).map(|e| {
            let path = c
                .and_then(|c| c.mount_points().iter().find(|m| m.source_volume() == Some(VOLUME)))
                .and_then(|m| m.container_path())
                .unwrap_or_default()
                .to_string();
            let auth = e.authorization_config();
            (
                e.file_system_id().to_string(),
                auth.and_then(|a| a.access_point_id()).unwrap_or_default().to_string(),
                path,
                e.transit_encryption() == Some(&EfsTransitEncryption::Enabled),
                auth.and_then(|a| a.iam()) == Some(&EfsAuthorizationConfigIam::Enabled),
            )
        });
        TaskShape {
            cpu: td.cpu().unwrap_or_default().to_string(),
            memory: td.memory().unwrap_or_default().to_string(),
            image: c.and_then(|c| c.image()).unwrap_or_default().to_string(),
            execution_role: td.execution_role_arn().unwrap_or_default().to_string(),
            task_role: td.task_role_arn().unwrap_or_default().to_string(),
            log_group: c.and_then(|c| c.log_configuration()).and_then(|l| l.options()).and_then(|o| o.get("awslogs-group")).cloned().unwrap_or_default(),
            environment: c
                .map(|c| c.environment().iter().map(|kv| (kv.name().unwrap_or_default().to_string(), kv.value().unwrap_or_default().to_string())).collect())
                .unwrap_or_default(),
            secrets: c.map(|c| c.secrets().iter().map(|s| (s.name().to_string(), s.value_from().to_string())).collect()).unwrap_or_default(),
            readonly_root: c.and_then(|c| c.readonly_root_filesystem()).unwrap_or(false),
            privileged: c.and_then(|c| c.privileged()).unwrap_or(false),
            port: c.and_then(|c| c.port_mappings().first()).and_then(|p| p.container_port()).unwrap_or(0),
            volume,
        }
    }

    async fn describe(&self, ctx: &Ctx) -> Result<Option<(aws_sdk_ecs::types::TaskDefinition, Vec<aws_sdk_ecs::types::Tag>)>> {
        let fam = &self.family;
        let out = ctx.clients.ecs.describe_task_definition().task_definition(fam).include(TaskDefinitionField::Tags).send().await.found(
            "ecs",
            "DescribeTaskDefinition",
            fam,
            &["ClientException"],
        )?;
        Ok(out.and_then(|o| {
            let tags = o.tags().to_vec();
            o.task_definition().filter(|t| t.status() == Some(&TaskDefinitionStatus::Active)).cloned().map(|t| (t, tags))
        }))
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some((td, tags)) = self.describe(ctx).await? else { return Ok(Found::Absent) };
        ctx.claim(id, "ecs:task-definition", td.task_definition_arn().unwrap_or(&self.family), ecs_tag_pairs(&tags))?;
        let mut changes = Vec::new();
        if let Ok(want) = self.desired_shape(ctx) {
            let got = self.live_shape(&td);
            if want != got {
                for (field, w, g) in [
                    ("cpu", want.cpu.clone(), got.cpu.clone()),
                    ("memory", want.memory.clone(), got.memory.clone()),
                    ("image", want.image.clone(), got.image.clone()),
                    ("execution_role", want.execution_role.clone(), got.execution_role.clone()),
                    ("task_role", want.task_role.clone(), got.task_role.clone()),
                    ("log_group", want.log_group.clone(), got.log_group.clone()),
                    // names only: values may be configuration the plan should not print
                    ("environment", format!("{:?}", names(&want.environment)), format!("{:?}", names(&got.environment))),
                    ("database", format!("{:?}", want.secrets), format!("{:?}", got.secrets)),
                    ("readonly_root_filesystem", want.readonly_root.to_string(), got.readonly_root.to_string()),
                    ("privileged", want.privileged.to_string(), got.privileged.to_string()),
                    ("container_port", want.port.to_string(), got.port.to_string()),
                    ("file_system", format!("{:?}", want.volume), format!("{:?}", got.volume)),
                ] {
                    if w != g {
                        changes.push(Change::new(field, w, g));
                    }
                }
                if want.environment != got.environment && names(&want.environment) == names(&got.environment) {
                    changes.push(Change::new("environment", "the stack file's values", "different values"));
                }
            }
        }
        changes.extend(tag_changes(&ctx.tags(id, &self.family), ecs_tag_pairs(&tags)));
        Ok(Found::Present { attrs: attrs([("family", self.family.clone()), ("arn", td.task_definition_arn().unwrap_or_default().to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, _found: &Found) -> Result<Attrs> {
        let shape = self.desired_shape(ctx)?;
        let fam = &self.family;
        let log = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options("awslogs-group", &shape.log_group)
            .options("awslogs-region", &ctx.region)
            .options("awslogs-stream-prefix", &self.container)
            .build()?;
        let mut container = ContainerDefinition::builder()
            .name(&self.container)
            .image(&shape.image)
            .essential(true)
            .readonly_root_filesystem(shape.readonly_root)
            .privileged(false)
            .port_mappings(PortMapping::builder().container_port(shape.port).protocol(TransportProtocol::Tcp).build())
            .log_configuration(log)
            .set_environment(Some(self.environment(ctx)?.into_iter().map(|(k, v)| KeyValuePair::builder().name(k).value(v).build()).collect()));
        for (name, from) in self.secrets(ctx)? {
            container = container.secrets(Secret::builder().name(name).value_from(from).build()?);
        }
        let mut volumes = Vec::new();
        if let Some((fs, ap, path, _, _)) = &shape.volume {
            container = container.mount_points(MountPoint::builder().source_volume(VOLUME).container_path(path).read_only(false).build());
            let efs = EfsVolumeConfiguration::builder()
                .file_system_id(fs)
                .transit_encryption(EfsTransitEncryption::Enabled)
                .authorization_config(EfsAuthorizationConfig::builder().access_point_id(ap).iam(EfsAuthorizationConfigIam::Enabled).build())
                .build()?;
            volumes.push(Volume::builder().name(VOLUME).efs_volume_configuration(efs).build());
        }
        let out = ctx
            .clients
            .ecs
            .register_task_definition()
            .family(fam)
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .cpu(&shape.cpu)
            .memory(&shape.memory)
            .execution_role_arn(&shape.execution_role)
            .task_role_arn(&shape.task_role)
            .container_definitions(container.build())
            .set_volumes((!volumes.is_empty()).then_some(volumes))
            .set_tags(Some(ecs_tags(ctx.tags(id, fam))))
            .send()
            .await
            .ctx("ecs", "RegisterTaskDefinition", fam)?;
        let arn = out.task_definition().and_then(|t| t.task_definition_arn()).unwrap_or_default().to_string();
        Ok(attrs([("family", fam.clone()), ("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let fam = &self.family;
        let ecs = &ctx.clients.ecs;
        let mut arns = Vec::new();
        let mut pages = ecs.list_task_definitions().family_prefix(fam).status(TaskDefinitionStatus::Active).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.ctx("ecs", "ListTaskDefinitions", fam)?;
            arns.extend(page.task_definition_arns().iter().filter(|a| a.contains(&format!("/{fam}:"))).cloned());
        }
        let mut owned = Vec::new();
        for arn in arns {
            let out = ecs.describe_task_definition().task_definition(&arn).include(TaskDefinitionField::Tags).send().await.ctx(
                "ecs",
                "DescribeTaskDefinition",
                &arn,
            )?;
            if ctx.owns(id, ecs_tag_pairs(out.tags())) {
                owned.push(arn);
            } else {
                tracing::warn!("task definition {arn} does not carry this stack's tags; left alone");
            }
        }
        if owned.is_empty() {
            return Ok(None);
        }
        for arn in &owned {
            ecs.deregister_task_definition().task_definition(arn).send().await.ctx("ecs", "DeregisterTaskDefinition", arn)?;
        }
        // deregistered revisions stay (INACTIVE, still tagged) until deleted
        for chunk in owned.chunks(10) {
            ecs.delete_task_definitions().set_task_definitions(Some(chunk.to_vec())).send().await.ctx("ecs", "DeleteTaskDefinitions", fam)?;
        }
        Ok(Some(format!("{fam} ({} revision(s))", owned.len())))
    }
}

fn names(env: &BTreeSet<(String, String)>) -> BTreeSet<&str> {
    env.iter().map(|(k, _)| k.as_str()).collect()
}

#[derive(Debug, Clone)]
struct ServiceNode {
    name: String,
    cluster_name: String,
    /// The task definition's node id.
    task: String,
    desired_count: i32,
    /// Node ids.
    security_group: String,
    subnets: Vec<String>,
    target_group: Option<String>,
    container: String,
    port: u16,
}

crate::node_ops!(ServiceNode, "ecs:service");

impl ServiceNode {
    async fn describe(&self, ctx: &Ctx) -> Result<Option<aws_sdk_ecs::types::Service>> {
        let name = &self.name;
        let out =
            ctx.clients.ecs.describe_services().cluster(&self.cluster_name).services(name).include(aws_sdk_ecs::types::ServiceField::Tags).send().await.found(
                "ecs",
                "DescribeServices",
                name,
                &["ClusterNotFoundException"],
            )?;
        Ok(out.and_then(|o| o.services().iter().find(|s| s.status() == Some("ACTIVE")).cloned()))
    }

    fn subnet_ids(&self, ctx: &Ctx) -> Vec<String> {
        self.subnets.iter().filter_map(|s| ctx.get(s, "id")).collect()
    }

    fn network(&self, ctx: &Ctx) -> Result<NetworkConfiguration> {
        Ok(NetworkConfiguration::builder()
            .awsvpc_configuration(
                AwsVpcConfiguration::builder()
                    .set_subnets(Some(self.subnet_ids(ctx)))
                    .security_groups(ctx.need(&self.security_group, "id")?)
                    .assign_public_ip(AssignPublicIp::Disabled)
                    .build()?,
            )
            .build())
    }

    fn load_balancers(&self, ctx: &Ctx) -> Result<Option<Vec<LoadBalancer>>> {
        let Some(tg) = &self.target_group else { return Ok(None) };
        let arn = ctx.need(tg, "arn")?;
        Ok(Some(vec![LoadBalancer::builder().target_group_arn(arn).container_name(&self.container).container_port(self.port as i32).build()]))
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(s) = self.describe(ctx).await? else { return Ok(Found::Absent) };
        ctx.claim(id, "ecs:service", &self.name, ecs_tag_pairs(s.tags()))?;
        let mut changes = Vec::new();
        diff(&mut changes, "desired_count", self.desired_count, s.desired_count());
        if let Some(td) = ctx.get(&self.task, "arn") {
            diff(&mut changes, "task_definition", Some(td.as_str()), s.task_definition());
        }
        let net = s.network_configuration().and_then(|n| n.awsvpc_configuration());
        // absent assignPublicIp is DISABLED, its documented default (AwsVpcConfiguration)
        diff(&mut changes, "assign_public_ip", "DISABLED", net.and_then(|n| n.assign_public_ip()).map(|a| a.as_str()).unwrap_or("DISABLED"));
        let subnets: BTreeSet<String> = net.map(|n| n.subnets().iter().cloned().collect()).unwrap_or_default();
        let want: BTreeSet<String> = self.subnet_ids(ctx).into_iter().collect();
        if !want.is_empty() {
            diff(&mut changes, "subnets", want, subnets);
        }
        if let Some(sg) = ctx.get(&self.security_group, "id") {
            let got: BTreeSet<String> = net.map(|n| n.security_groups().iter().cloned().collect()).unwrap_or_default();
            diff(&mut changes, "security_group", BTreeSet::from([sg]), got);
        }
        if let Some(tg) = self.target_group.as_ref().and_then(|tg| ctx.get(tg, "arn")) {
            let got: BTreeSet<(String, String, i32)> = s
                .load_balancers()
                .iter()
                .map(|l| {
                    (l.target_group_arn().unwrap_or_default().to_string(), l.container_name().unwrap_or_default().to_string(), l.container_port().unwrap_or(0))
                })
                .collect();
            diff(&mut changes, "load_balancer", BTreeSet::from([(tg, self.container.clone(), self.port as i32)]), got);
        }
        changes.extend(tag_changes(&ctx.tags(id, &self.name), ecs_tag_pairs(s.tags())));
        Ok(Found::Present { attrs: attrs([("name", self.name.clone()), ("arn", s.service_arn().unwrap_or_default().to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let ecs = &ctx.clients.ecs;
        let name = &self.name;
        let td = ctx.need(&self.task, "arn")?;
        let arn = match found {
            Found::Absent => ecs
                .create_service()
                .cluster(&self.cluster_name)
                .service_name(name)
                .task_definition(&td)
                .desired_count(self.desired_count)
                .launch_type(LaunchType::Fargate)
                .network_configuration(self.network(ctx)?)
                .set_load_balancers(self.load_balancers(ctx)?)
                .propagate_tags(PropagateTags::Service)
                .enable_ecs_managed_tags(true)
                .set_tags(Some(ecs_tags(ctx.tags(id, name))))
                .send()
                .await
                .ctx("ecs", "CreateService", name)?
                .service()
                .and_then(|s| s.service_arn())
                .unwrap_or_default()
                .to_string(),
            Found::Present { attrs, .. } => {
                ecs.update_service()
                    .cluster(&self.cluster_name)
                    .service(name)
                    .task_definition(&td)
                    .desired_count(self.desired_count)
                    .network_configuration(self.network(ctx)?)
                    .set_load_balancers(self.load_balancers(ctx)?)
                    .send()
                    .await
                    .ctx("ecs", "UpdateService", name)?;
                ecs.tag_resource().resource_arn(&attrs["arn"]).set_tags(Some(ecs_tags(ctx.tags(id, name)))).send().await.ctx("ecs", "TagResource", name)?;
                attrs["arn"].clone()
            }
        };
        Ok(attrs([("name", name.clone()), ("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(s) = self.describe(ctx).await? else { return Ok(None) };
        if !ctx.owns(id, ecs_tag_pairs(s.tags())) {
            tracing::warn!("service {} does not carry this stack's tags; left alone", self.name);
            return Ok(None);
        }
        let name = &self.name;
        let ecs = &ctx.clients.ecs;
        ecs.delete_service().cluster(&self.cluster_name).service(name).force(true).send().await.ctx("ecs", "DeleteService", name)?;
        // tasks must stop (and release their network interfaces) before subnets and groups go
        wait_for(&format!("service {name} to drain"), Duration::from_secs(5), Duration::from_secs(900), || async {
            Ok(self.describe(ctx).await?.is_none().then_some(()))
        })
        .await?;
        Ok(Some(name.clone()))
    }
}

#[cfg(test)]
mod tests;
