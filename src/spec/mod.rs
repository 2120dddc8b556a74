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
    /// Kinesis data streams: `[streams.<id>]`.
    #[serde(default)]
    pub streams: BTreeMap<String, crate::components::stream::Stream>,
    /// ECS Fargate services: `[services.<id>]`.
    #[serde(default)]
    pub services: BTreeMap<String, crate::components::service::Service>,
    /// Databases: `[databases.<id>]` (an RDS PostgreSQL instance or an Aurora Serverless v2 cluster).
    #[serde(default)]
    pub databases: BTreeMap<String, crate::components::database::Database>,
    /// ElastiCache Redis/Valkey replication groups: `[caches.<id>]`.
    #[serde(default)]
    pub caches: BTreeMap<String, crate::components::cache::Cache>,
    /// EFS file systems: `[file_systems.<id>]`.
    #[serde(default)]
    pub file_systems: BTreeMap<String, crate::components::file_system::FileSystem>,
    /// S3 buckets (for logs): `[buckets.<id>]`.
    #[serde(default)]
    pub buckets: BTreeMap<String, crate::components::bucket::Bucket>,
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
    pub logs: Logs,
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
pub struct Logs {
    /// Retention of every log group, in days (a value CloudWatch Logs accepts).
    pub retention_days: i32,
}

impl Default for Logs {
    fn default() -> Self {
        Logs { retention_days: 365 }
    }
}

fn d_project() -> String {
    "tapaudit".into()
}
fn d_frameworks() -> Vec<String> {
    vec!["fedramp-moderate".into()]
}
