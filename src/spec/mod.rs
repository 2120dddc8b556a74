//! Stack files: parse (TOML, unknown keys rejected) → validate (errors with file:line) → `Spec`.
//! Every field has a safe default; see README "Stack file reference".

pub mod desired;
pub mod validate;

pub use crate::components::network::NatMode;
pub use crate::components::Stack;
pub use crate::vocab::{line_at, Source, FRAMEWORKS, TAG_LOGICAL_ID, TAG_STACK};

use crate::error::{Error, Result};
use crate::vocab::StackId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Resolve `--stack NAME` (→ `stacks/NAME.toml`) or a path to a stack file.
pub fn resolve_path(stack: &str) -> PathBuf {
    let p = Path::new(stack);
    if stack.ends_with(".toml") || p.components().count() > 1 {
        p.to_path_buf()
    } else {
        Path::new("stacks").join(format!("{stack}.toml"))
    }
}

/// Read, parse and validate a stack file.
pub fn load(path: &Path) -> Result<Stack> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
    parse(path, text)
}

/// Parse and validate stack-file text (the path is used in messages and for the default name).
pub fn parse(path: &Path, text: String) -> Result<Stack> {
    let display = path.display().to_string();
    let source = Source::new(display.clone(), text.clone()).map_err(|e| Error::Spec(vec![e]))?;
    let mut spec: Spec = toml::from_str(&text).map_err(|e| {
        let offset = e.span().map(|s| s.start);
        let line = offset.map(|o| line_at(&text, o)).unwrap_or(1);
        let field = offset.and_then(|o| source.path_at(o)).map(|p| format!("{p}: ")).unwrap_or_default();
        Error::Spec(vec![format!("{display}:{line}: {field}{}", e.message().trim().replace('\n', " "))])
    })?;
    crate::components::network::default_key(&mut spec);
    let name = spec.stack.clone().unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default());
    let id = StackId { project: spec.project.clone(), name: name.clone(), frameworks: spec.frameworks.clone(), tags: spec.tags.clone() };
    let stack = Stack { spec, id, name, source };
    let problems = validate::validate(&stack);
    if problems.is_empty() {
        Ok(stack)
    } else {
        Err(Error::Spec(problems.into_iter().map(|p| format!("{}:{}: {}", display, stack.line_of(&p.path), p.message)).collect()))
    }
}

/// The stack file's content. Field docs are the stack-file reference.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Project name: first part of every resource name. Lowercase letters, digits, hyphens.
    #[serde(default = "d_project")]
    pub project: String,
    /// Stack name; defaults to the file stem (`stacks/dev.toml` → `dev`).
    #[serde(default)]
    pub stack: Option<String>,
    /// AWS region to build in. `--region` overrides it; when absent, AWS_REGION or the
    /// profile's region applies.
    #[serde(default)]
    pub region: Option<String>,
    /// Frameworks the stack is audited against: fedramp-moderate, ferpa, lgpd.
    #[serde(default = "d_frameworks")]
    pub frameworks: Vec<String>,
    /// Extra tags on every resource (Environment and Compliance are set by default).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Customer-managed KMS keys: `[keys.<id>]`.
    #[serde(default)]
    pub keys: BTreeMap<String, crate::components::key::Key>,
    /// Application Load Balancers: `[load_balancers.<id>]`.
    #[serde(default)]
    pub load_balancers: BTreeMap<String, crate::components::load_balancer::LoadBalancer>,
    /// API Gateway REST APIs: `[apis.<id>]`.
    #[serde(default)]
    pub apis: BTreeMap<String, crate::components::api::Api>,
    /// The stack's VPC: `[network]`.
    #[serde(default)]
    pub network: crate::components::network::Network,
    /// Security groups in the stack's VPC: `[security_groups.<id>]`.
    #[serde(default)]
    pub security_groups: BTreeMap<String, crate::components::security_group::SecurityGroup>,
    #[serde(default)]
    pub kinesis: Kinesis,
    #[serde(default)]
    pub database: Database,
    #[serde(default)]
    pub logs: Logs,
    #[serde(default)]
    pub ecs: Ecs,
    /// Control thresholds overriding the frameworks' values (e.g. `min_retention_days = 731`).
    /// An override may only tighten: a value weaker than the frameworks' is rejected.
    #[serde(default)]
    pub parameters: BTreeMap<String, i64>,
    /// Accepted findings: `[[suppressions]]` with control, resource, reason, optional expires.
    #[serde(default)]
    pub suppressions: Vec<SuppressionSpec>,
}

/// One accepted finding. Also read from `tapaudit.ignore.toml` beside the stack file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionSpec {
    /// Control id (e.g. `secrets-rotation-enabled`, `drift-changed`).
    pub control: String,
    /// Logical id, resource id, name or ARN; `*` for every resource; a trailing `*` matches a prefix.
    #[serde(default = "any_resource")]
    pub resource: String,
    /// Why this is accepted (required; shown in reports and SARIF).
    pub reason: String,
    /// Last day it applies (YYYY-MM-DD); afterwards the finding counts again and the expiry is reported.
    #[serde(default)]
    pub expires: Option<String>,
}

fn any_resource() -> String {
    "*".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Kinesis {
    pub shard_count: u32,
    /// Data retention in hours (24–8760).
    pub retention_hours: u32,
}

impl Default for Kinesis {
    fn default() -> Self {
        Kinesis { shard_count: 1, retention_hours: 24 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    Postgres,
    AuroraPostgresql,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::AuroraPostgresql => "aurora-postgresql",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Database {
    /// postgres (RDS instance) or aurora-postgresql (Aurora Serverless v2).
    pub engine: Engine,
    pub engine_version: String,
    pub instance_class: String,
    pub allocated_storage_gb: u32,
    pub storage_type: String,
    pub db_name: String,
    pub port: u16,
    /// Master username; generated at run time when absent. Never a reserved name.
    pub master_username: Option<String>,
    /// Automated backup retention in days (1–35).
    pub backup_retention_days: u32,
    /// Daily backup window, UTC, `hh:mm-hh:mm`, at least 30 minutes.
    pub backup_window: String,
    /// CloudWatch Logs exports (postgresql, upgrade).
    pub log_exports: Vec<String>,
    pub multi_az: bool,
    pub deletion_protection: bool,
    /// Parameter group sets rds.force_ssl = 1.
    pub force_ssl: bool,
    /// Aurora Serverless v2 capacity range (ACUs).
    pub min_capacity: f64,
    pub max_capacity: f64,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            engine: Engine::Postgres,
            engine_version: "16.3".into(),
            instance_class: "db.t3.micro".into(),
            allocated_storage_gb: 20,
            storage_type: "gp3".into(),
            db_name: "pipeline".into(),
            port: 5432,
            master_username: None,
            backup_retention_days: 7,
            backup_window: "03:00-04:00".into(),
            log_exports: vec!["postgresql".into(), "upgrade".into()],
            multi_az: true,
            deletion_protection: true,
            force_ssl: true,
            min_capacity: 0.5,
            max_capacity: 4.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Logs {
    /// Retention of every log group, in days (a value CloudWatch Logs accepts).
    pub retention_days: i32,
}

impl Default for Logs {
    fn default() -> Self {
        Logs { retention_days: 365 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ecs {
    /// Fargate task CPU units and memory (MiB): a valid Fargate combination.
    pub cpu: u32,
    pub memory: u32,
    pub desired_count: i32,
    pub image: String,
    pub container_port: u16,
    pub container_insights: bool,
    pub readonly_root_filesystem: bool,
}

impl Default for Ecs {
    fn default() -> Self {
        Ecs {
            cpu: 256,
            memory: 512,
            desired_count: 1,
            image: "public.ecr.aws/docker/library/python:3.12-slim".into(),
            container_port: 8080,
            container_insights: true,
            readonly_root_filesystem: true,
        }
    }
}

fn d_project() -> String {
    "tapaudit".into()
}
fn d_frameworks() -> Vec<String> {
    vec!["fedramp-moderate".into()]
}
