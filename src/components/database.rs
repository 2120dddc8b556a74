//! `[databases.<id>]`: a PostgreSQL database in the stack's private subnets, either an RDS
//! instance (`engine = "postgres"`) or an Aurora Serverless v2 cluster with a writer and
//! readers spread over the stack's zones (`engine = "aurora-postgresql"`), with its subnet group,
//! a parameter group that forces TLS, storage encrypted with a key of the stack, and the master
//! password managed by RDS in Secrets Manager (`ManageMasterUserPassword`, encrypted with
//! `secrets_key`, rotated every `rotation_days`). The password never passes through tapaudit.
//!
//! Nodes of `<id>`: `<id>-subnet-group`, `<id>-parameter-group`, `<id>` (the instance or the
//! cluster: attrs `id`, `arn`, `endpoint`, `port`, `secret_arn`), for Aurora
//! `<id>-instance-N`, and `<id>-master-secret` (the RDS-managed secret: tagged with the stack's
//! tags and its rotation schedule set; RDS deletes it with the database).

use super::{desired_ids, Component, Cx, Kind, Output, Problem, Reference};
use crate::error::{Error, Result, SdkResultExt};
use crate::model::rds::{DbCluster, DbInstance, Parameter as ModelParameter, ParameterGroup, SubnetGroup};
use crate::model::secrets::Secret;
use crate::model::{Observed, State};
use crate::provision::{attrs, diff, tag_changes, wait_for, Attrs, Change, Ctx, Found, Node};
use crate::semantics::db_tls::FORCE_SSL;
use aws_sdk_rds::types::{ApplyMethod, CloudwatchLogsExportConfiguration, Parameter, ServerlessV2ScalingConfiguration, Tag};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// PostgreSQL versions RDS offers that the blueprints support.
pub const POSTGRES_VERSIONS: &[&str] =
    &["13.15", "13.16", "13.18", "13.20", "14.12", "14.13", "14.15", "14.17", "15.7", "15.8", "15.10", "15.12", "16.3", "16.4", "16.6", "16.8", "17.2", "17.4"];
/// Aurora PostgreSQL versions with Serverless v2 that the blueprints support.
pub const AURORA_POSTGRES_VERSIONS: &[&str] = &["13.15", "13.16", "14.12", "14.13", "15.7", "15.8", "15.10", "16.3", "16.4", "16.6", "17.4"];

/// Master usernames RDS reserves or that every attacker tries first.
pub const RESERVED_DB_USERNAMES: &[&str] = &[
    "admin",
    "administrator",
    "postgres",
    "rdsadmin",
    "rdsrepladmin",
    "rds_superuser",
    "rdsproxyadmin",
    "root",
    "master",
    "sa",
    "user",
    "superuser",
    "guest",
    "test",
    "pg_signal_backend",
];

/// PostgreSQL log types RDS and Aurora export to CloudWatch Logs.
pub const LOG_EXPORTS: &[&str] = &["postgresql", "upgrade", "iam-db-auth-error"];

/// The default master username: not reserved, not a name attackers try first.
pub const DEFAULT_MASTER_USERNAME: &str = "pipeline_owner";

/// The instance class of Aurora Serverless v2 instances.
pub const SERVERLESS_CLASS: &str = "db.serverless";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// An RDS for PostgreSQL instance.
    Postgres,
    /// An Aurora PostgreSQL Serverless v2 cluster with its instances.
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
    /// `postgres` (an RDS instance) or `aurora-postgresql` (an Aurora Serverless v2 cluster).
    pub engine: Engine,
    /// Engine version (default 16.3), one of the versions RDS offers for the engine.
    pub engine_version: String,
    /// postgres only: the instance class (default `db.t3.micro`).
    pub instance_class: Option<String>,
    /// postgres only: storage in GiB, 20–65536 (default 20).
    pub allocated_storage_gb: Option<u32>,
    /// postgres only: gp2, gp3 (default), io1 or io2.
    pub storage_type: Option<String>,
    /// postgres only: a standby in a second zone (default true). Aurora spreads its instances
    /// over the zones instead (`instances`).
    pub multi_az: Option<bool>,
    /// aurora-postgresql only: minimum Serverless v2 capacity in ACUs, 0.5–128 (default 0.5).
    pub min_capacity: Option<f64>,
    /// aurora-postgresql only: maximum Serverless v2 capacity in ACUs, 1–128 and at least
    /// min_capacity (default 4).
    pub max_capacity: Option<f64>,
    /// aurora-postgresql only: instances of class db.serverless, a writer and readers, each in
    /// the next of the stack's zones (default 2, at most 15).
    pub instances: Option<u32>,
    /// The database created at launch: a letter, then letters, digits or underscores (≤ 63).
    pub db_name: String,
    /// Port, 1150–65535 (default 5432).
    pub port: u16,
    /// Master username (default `pipeline_owner`); never a reserved or default name. Its
    /// password is generated, kept and rotated by RDS in Secrets Manager.
    pub master_username: String,
    /// Automated backup retention in days, 1–35 (default 7).
    pub backup_retention_days: u32,
    /// Daily backup window, UTC, `hh:mm-hh:mm`, at least 30 minutes.
    pub backup_window: String,
    /// CloudWatch Logs exports (postgresql, upgrade, iam-db-auth-error).
    pub log_exports: Vec<String>,
    /// Deletion protection (destroy lifts it first).
    pub deletion_protection: bool,
    /// The parameter group sets `rds.force_ssl = 1` (the cluster parameter group for Aurora).
    pub force_ssl: bool,
    /// The key (`[keys.<id>]`) that encrypts the storage. Required.
    pub key: String,
    /// The key (`[keys.<id>]`) that encrypts the RDS-managed master secret. Required.
    pub secrets_key: String,
    /// The security group (`[security_groups.<id>]`) of the database. Required.
    pub security_group: Option<String>,
    /// Rotation of the master password every this many days, 1–365 (default 30).
    pub rotation_days: u32,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            engine: Engine::Postgres,
            engine_version: "16.3".into(),
            instance_class: None,
            allocated_storage_gb: None,
            storage_type: None,
            multi_az: None,
            min_capacity: None,
            max_capacity: None,
            instances: None,
            db_name: "pipeline".into(),
            port: 5432,
            master_username: DEFAULT_MASTER_USERNAME.into(),
            backup_retention_days: 7,
            backup_window: "03:00-04:00".into(),
            log_exports: vec!["postgresql".into(), "upgrade".into()],
            deletion_protection: true,
            force_ssl: true,
            key: String::new(),
            secrets_key: String::new(),
            security_group: None,
            rotation_days: 30,
        }
    }
}

impl Database {
    pub fn instance_class(&self) -> &str {
        match self.engine {
            Engine::Postgres => self.instance_class.as_deref().unwrap_or("db.t3.micro"),
            Engine::AuroraPostgresql => SERVERLESS_CLASS,
        }
    }
    pub fn allocated_storage_gb(&self) -> u32 {
        self.allocated_storage_gb.unwrap_or(20)
    }
    pub fn storage_type(&self) -> &str {
        self.storage_type.as_deref().unwrap_or("gp3")
    }
    pub fn multi_az(&self) -> bool {
        self.multi_az.unwrap_or(true)
    }
    pub fn min_capacity(&self) -> f64 {
        self.min_capacity.unwrap_or(0.5)
    }
    pub fn max_capacity(&self) -> f64 {
        self.max_capacity.unwrap_or(4.0)
    }
    pub fn instances(&self) -> u32 {
        self.instances.unwrap_or(2)
    }
    /// The security group's node id.
    pub fn security_group_node(&self) -> &str {
        self.security_group.as_deref().unwrap_or_default()
    }
    /// `postgres16`, `aurora-postgresql16`
    pub fn family(&self) -> String {
        let major = self.engine_version.split('.').next().unwrap_or("16");
        format!("{}{major}", self.engine.as_str())
    }
    fn is_aurora(&self) -> bool {
        self.engine == Engine::AuroraPostgresql
    }
}

/// The physical names of one database's resources.
#[derive(Debug, Clone)]
pub struct Names {
    /// The instance or cluster identifier: `<project>-<stack>-<id>`.
    pub db: String,
    pub subnet_group: String,
    pub parameter_group: String,
    /// Aurora instance identifiers, writer first.
    pub members: Vec<String>,
    /// The name the desired State gives the managed secret (RDS names it `rds!...`).
    pub secret: String,
}

pub fn names(cx: &Cx, d: &Database) -> Names {
    let members = if d.is_aurora() { (1..=d.instances()).map(|n| cx.name(&format!("{}-instance-{n}", cx.id))).collect() } else { vec![] };
    Names {
        db: cx.name(cx.id),
        subnet_group: cx.name(&format!("{}-subnets", cx.id)),
        parameter_group: cx.name(&format!("{}-{}", cx.id, d.family().replace('.', "-"))),
        members,
        secret: cx.name(&format!("{}-master-secret", cx.id)),
    }
}

/// Node ids of one database.
pub fn subnet_group_node(id: &str) -> String {
    format!("{id}-subnet-group")
}
pub fn parameter_group_node(id: &str) -> String {
    format!("{id}-parameter-group")
}
pub fn member_node(id: &str, n: u32) -> String {
    format!("{id}-instance-{n}")
}
pub fn secret_node(id: &str) -> String {
    format!("{id}-master-secret")
}
/// The logical id on the tags of a destroyed database's final snapshot.
pub fn final_snapshot_logical_id(id: &str) -> String {
    format!("{id}-final-snapshot")
}

/// The private subnets' node ids of the stack's network (`private-subnet-N`).
fn private_subnets(cx: &Cx) -> Vec<String> {
    (0..cx.stack.spec.network.az_count).map(|i| format!("private-subnet-{}", i + 1)).collect()
}

/// The first database the stack declares (its outputs are also the stack's top-level `db_*`).
pub fn first_database(stack: &super::Stack) -> Option<String> {
    stack.spec.databases.keys().next().cloned()
}

/// The desired ARN of database `id`'s master secret.
pub fn desired_secret_arn(stack: &super::Stack, id: &str) -> String {
    format!("arn:aws:secretsmanager:{}:{}:secret:{}", stack.region(), super::DESIRED_ACCOUNT, stack.id.name(&format!("{id}-master-secret")))
}

impl Component for Database {
    const KIND: Kind = Kind::Database;

    fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        if !self.key.is_empty() {
            out.push(Reference::key("key", &self.key, "rds"));
        }
        if !self.secrets_key.is_empty() {
            out.push(Reference::key("secrets_key", &self.secrets_key, "secretsmanager"));
        }
        if let Some(sg) = &self.security_group {
            out.push(Reference::new("security_group", sg, &[Kind::SecurityGroup]));
        }
        out
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        validate(self, cx)
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        let n = names(cx, self);
        let id = cx.id;
        let sng = subnet_group_node(id);
        let pg = parameter_group_node(id);
        let subnets = private_subnets(cx);
        let mut out = vec![
            cx.node(&sng, SubnetGroupNode { name: n.subnet_group.clone(), subnets: subnets.clone() }, &subnets.iter().map(String::as_str).collect::<Vec<_>>()),
            cx.node(
                &pg,
                ParameterGroupNode { name: n.parameter_group.clone(), family: self.family(), cluster: self.is_aurora(), force_ssl: self.force_ssl },
                &[],
            ),
        ];
        let deps = [sng.as_str(), pg.as_str(), self.security_group_node(), self.key.as_str(), self.secrets_key.as_str()];
        let db = DbNode { spec: self.clone(), names: n.clone() };
        if self.is_aurora() {
            out.push(cx.node(id, ClusterNode(db), &deps));
            for (i, member) in n.members.iter().enumerate() {
                let node = MemberNode {
                    cluster: id.to_string(),
                    cluster_name: n.db.clone(),
                    name: member.clone(),
                    subnet_group: n.subnet_group.clone(),
                    zone: i,
                    spec: self.clone(),
                };
                out.push(cx.node(member_node(id, i as u32 + 1), node, &[id]));
            }
        } else {
            out.push(cx.node(id, InstanceNode(db), &deps));
        }
        let mut secret_deps = vec![id.to_string()];
        secret_deps.extend(n.members.iter().enumerate().map(|(i, _)| member_node(id, i as u32 + 1)));
        let secret = SecretNode { db: id.to_string(), key: self.secrets_key.clone(), rotation_days: self.rotation_days };
        out.push(cx.node(secret_node(id), secret, &secret_deps.iter().map(String::as_str).collect::<Vec<_>>()));
        out
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        desired(self, cx, st)
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        ["endpoint", "port", "arn", "secret_arn"].iter().map(|a| Output { name: cx.at(a), node: cx.id.to_string(), attr: a.to_string() }).collect()
    }
}

// ---------- validation ----------

fn is_db_identifier(s: &str) -> bool {
    (1..=63).contains(&s.len()) && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `hh:mm-hh:mm` → minutes since midnight.
pub fn parse_window(w: &str) -> Option<(u32, u32)> {
    let (a, b) = w.split_once('-')?;
    Some((hhmm(a)?, hhmm(b)?))
}

fn hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Is this a multiple of 0.5 (Serverless v2 capacities step by half ACUs)?
fn half_step(v: f64) -> bool {
    (v * 2.0).fract() == 0.0
}

fn validate(d: &Database, cx: &Cx) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut p = |field: &str, msg: String| out.push(cx.problem(field, msg));
    let versions = if d.is_aurora() { AURORA_POSTGRES_VERSIONS } else { POSTGRES_VERSIONS };
    if !versions.contains(&d.engine_version.as_str()) {
        p("engine_version", format!("{:?} is not a supported {} version (supported: {})", d.engine_version, d.engine.as_str(), versions.join(", ")));
    }
    // settings of the other engine: an error, not silently ignored
    let postgres_only = [
        ("instance_class", d.instance_class.is_some()),
        ("allocated_storage_gb", d.allocated_storage_gb.is_some()),
        ("storage_type", d.storage_type.is_some()),
        ("multi_az", d.multi_az.is_some()),
    ];
    let aurora_only = [("min_capacity", d.min_capacity.is_some()), ("max_capacity", d.max_capacity.is_some()), ("instances", d.instances.is_some())];
    match d.engine {
        Engine::AuroraPostgresql => {
            for (f, set) in postgres_only {
                if set {
                    p(f, "is a setting of engine \"postgres\"; aurora-postgresql (Serverless v2) does not take it: remove it".into());
                }
            }
            let (min, max) = (d.min_capacity(), d.max_capacity());
            if !(0.5..=128.0).contains(&min) || !half_step(min) {
                p("min_capacity", format!("must be between 0.5 and 128 ACUs in steps of 0.5 (got {min})"));
            }
            if !(1.0..=128.0).contains(&max) || !half_step(max) {
                p("max_capacity", format!("must be between 1 and 128 ACUs in steps of 0.5 (got {max})"));
            } else if min > max {
                p("max_capacity", format!("must be at least min_capacity (got {min}–{max})"));
            }
            if !(1..=15).contains(&d.instances()) {
                p("instances", format!("must be between 1 and 15 (got {})", d.instances()));
            }
        }
        Engine::Postgres => {
            for (f, set) in aurora_only {
                if set {
                    p(f, "is a setting of engine \"aurora-postgresql\"; an RDS postgres instance does not take it: remove it".into());
                }
            }
            let class = d.instance_class();
            let shape = class.strip_prefix("db.").map(|r| r.split('.').collect::<Vec<_>>());
            let ok = shape
                .as_ref()
                .is_some_and(|s| s.len() == 2 && s.iter().all(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())));
            if !ok || class == SERVERLESS_CLASS {
                p("instance_class", format!("is not an RDS instance class such as db.t3.micro (got {class:?})"));
            }
            let storage = d.allocated_storage_gb();
            let min = if matches!(d.storage_type(), "io1" | "io2") { 100 } else { 20 };
            if !(min..=65536).contains(&storage) {
                p("allocated_storage_gb", format!("must be between {min} and 65536 for {} (got {storage})", d.storage_type()));
            }
            if !["gp2", "gp3", "io1", "io2"].contains(&d.storage_type()) {
                p("storage_type", format!("must be gp2, gp3, io1 or io2 (got {:?})", d.storage_type()));
            }
        }
    }
    if !(1..=35).contains(&d.backup_retention_days) {
        p("backup_retention_days", format!("must be between 1 and 35 (got {})", d.backup_retention_days));
    }
    if !(1..=365).contains(&d.rotation_days) {
        p("rotation_days", format!("must be between 1 and 365 (got {})", d.rotation_days));
    }
    if !is_db_identifier(&d.db_name) {
        p("db_name", format!("must start with a letter and contain 1–63 letters, digits or underscores (got {:?})", d.db_name));
    } else if ["postgres", "template0", "template1", "rdsadmin"].contains(&d.db_name.to_ascii_lowercase().as_str()) {
        p("db_name", format!("{:?} is a reserved database name", d.db_name));
    }
    if d.port < 1150 {
        p("port", format!("must be between 1150 and 65535 (got {})", d.port));
    }
    let u = d.master_username.to_ascii_lowercase();
    if RESERVED_DB_USERNAMES.contains(&u.as_str()) || u.starts_with("pg_") || u.starts_with("rds") {
        p("master_username", format!("{:?} is a reserved or default database username; pick another (default {DEFAULT_MASTER_USERNAME:?})", d.master_username));
    } else if !is_db_identifier(&d.master_username) || d.master_username.len() > 16 {
        p("master_username", "must start with a letter and contain 1–16 letters, digits or underscores".into());
    }
    match parse_window(&d.backup_window) {
        Some((start, end)) if (end + 1440 - start) % 1440 < 30 => p("backup_window", format!("must be at least 30 minutes long (got {:?})", d.backup_window)),
        Some(_) => {}
        None => p("backup_window", format!("must be hh:mm-hh:mm in UTC (got {:?})", d.backup_window)),
    }
    for (i, e) in d.log_exports.iter().enumerate() {
        if !LOG_EXPORTS.contains(&e.as_str()) {
            p(&format!("log_exports[{i}]"), format!("{e:?} is not a PostgreSQL log type (valid: {})", LOG_EXPORTS.join(", ")));
        }
    }
    for (field, v) in [("key", &d.key), ("secrets_key", &d.secrets_key)] {
        if v.is_empty() {
            p(field, "is required: name a key of the stack ([keys.<id>])".into());
        }
    }
    if d.security_group.as_deref().unwrap_or_default().is_empty() {
        p("security_group", "is required: name the [security_groups.<id>] that admits the database's clients".into());
    }
    let n = names(cx, d);
    for name in std::iter::once(&n.db).chain(&n.members) {
        if name.len() > 63 {
            p("", format!("makes the RDS identifier {name:?}, longer than 63 characters: use a shorter logical id"));
        }
    }
    if d.is_aurora() && (d.instances() as usize) > 1 && cx.stack.spec.network.az_count < 2 {
        p("instances", "need at least two zones to spread over".into());
    }
    out
}

// ---------- desired State ----------

fn desired(d: &Database, cx: &Cx, st: &mut State) {
    let n = names(cx, d);
    let region = cx.region();
    let key = desired_ids::key_arn(&region, &d.key);
    let sg = desired_ids::security_group(d.security_group_node());
    let subnets: Vec<String> = private_subnets(cx).iter().map(|s| desired_ids::subnet(s)).collect();
    let id = cx.id;
    let scope = if d.is_aurora() { "cluster" } else { "instance" };
    let pg_arn = cx.arn("rds", &format!("{}:{}", if d.is_aurora() { "cluster-pg" } else { "pg" }, n.parameter_group));
    st.rds.parameter_groups.insert(ParameterGroup {
        meta: cx.meta("rds:parameter-group", &parameter_group_node(id), &n.parameter_group, pg_arn, &n.parameter_group, "force_ssl"),
        family: Observed::Known(d.family()),
        scope: scope.into(),
        tls_parameters: Observed::Known(BTreeMap::from([(
            FORCE_SSL.to_string(),
            ModelParameter { value: Some(if d.force_ssl { "1" } else { "0" }.into()), source: Some("user".into()) },
        )])),
    });
    st.rds.subnet_groups.insert(SubnetGroup {
        meta: cx.meta("rds:subnet-group", &subnet_group_node(id), &n.subnet_group, cx.arn("rds", &format!("subgrp:{}", n.subnet_group)), &n.subnet_group, ""),
        vpc_id: desired_ids::VPC.into(),
        subnet_ids: subnets.clone(),
    });
    let secret_arn = desired_secret_arn(cx.stack, id);
    st.secrets.secrets.insert(Secret {
        meta: cx.meta("secretsmanager:secret", &secret_node(id), &n.secret, secret_arn, &n.secret, "rotation_days"),
        kms_key_id: Some(desired_ids::key_arn(&region, &d.secrets_key)),
        owning_service: Some("rds".into()),
        rotation_enabled: true,
        rotation_interval_days: Some(d.rotation_days as i64),
        rotation_schedule: None,
        last_rotated: None,
        next_rotation: None,
        // created with the database: as fresh as a secret can be
        created: time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).ok(),
        deleted: false,
    });
    let managed_secret = crate::model::rds::MasterUserSecret {
        secret_arn: Observed::Known(desired_secret_arn(cx.stack, id)),
        kms_key_id: Observed::Known(desired_ids::key_arn(&region, &d.secrets_key)),
        status: Observed::Known("active".into()),
    };
    let instance = |meta, class: &str, zone: Observed<String>, cluster: Option<String>, pgs: Vec<String>| DbInstance {
        meta,
        engine: d.engine.as_str().into(),
        engine_version: d.engine_version.clone(),
        instance_class: class.to_string(),
        status: "available".into(),
        storage_encrypted: Observed::Known(true),
        kms_key_id: Some(key.clone()),
        publicly_accessible: Observed::Known(false),
        backup_retention_days: Observed::Known(d.backup_retention_days as i32),
        backup_window: Some(d.backup_window.clone()),
        log_exports: if cluster.is_some() { vec![] } else { d.log_exports.clone() },
        multi_az: Observed::Known(cluster.is_none() && d.multi_az()),
        deletion_protection: Observed::Known(cluster.is_none() && d.deletion_protection),
        master_username: Some(d.master_username.clone()),
        availability_zone: zone,
        subnet_group: Some(n.subnet_group.clone()),
        subnet_ids: subnets.clone(),
        vpc_id: Some(desired_ids::VPC.into()),
        security_groups: vec![sg.clone()],
        parameter_groups: pgs,
        // an Aurora member's credentials are its cluster's
        master_user_secret: if cluster.is_none() { Some(managed_secret.clone()) } else { None },
        iam_auth: Observed::Known(false),
        copy_tags_to_snapshot: Observed::Known(true),
        cluster_id: cluster,
    };
    if !d.is_aurora() {
        let meta = cx.meta("rds:db-instance", id, &n.db, cx.arn("rds", &format!("db:{}", n.db)), &n.db, "");
        st.rds.instances.insert(instance(
            meta,
            d.instance_class(),
            Observed::Unknown("not declared: RDS chooses the Availability Zone".into()),
            None,
            vec![n.parameter_group.clone()],
        ));
        return;
    }
    let zones: Vec<String> = (0..cx.stack.spec.network.az_count).map(|z| desired_zone(&region, z)).collect();
    for (i, m) in n.members.iter().enumerate() {
        let meta = cx.meta("rds:db-instance", &member_node(id, i as u32 + 1), m, cx.arn("rds", &format!("db:{m}")), m, "instances");
        let zone = Observed::Known(zones[i % zones.len()].clone());
        st.rds.instances.insert(instance(meta, SERVERLESS_CLASS, zone, Some(n.db.clone()), vec![format!("default.{}", d.family())]));
    }
    st.rds.clusters.insert(DbCluster {
        meta: cx.meta("rds:db-cluster", id, &n.db, cx.arn("rds", &format!("cluster:{}", n.db)), &n.db, ""),
        engine: d.engine.as_str().into(),
        engine_version: d.engine_version.clone(),
        status: "available".into(),
        storage_encrypted: Observed::Known(true),
        kms_key_id: Some(key.clone()),
        publicly_accessible: None,
        backup_retention_days: Observed::Known(d.backup_retention_days as i32),
        backup_window: Some(d.backup_window.clone()),
        log_exports: d.log_exports.clone(),
        // Aurora reports the flag for its storage, not its instances: availability is where its
        // instances run (below); not a declared setting
        multi_az: Observed::Unknown("not declared: the instances' zones decide".into()),
        deletion_protection: Observed::Known(d.deletion_protection),
        master_username: Some(d.master_username.clone()),
        subnet_group: Some(n.subnet_group.clone()),
        security_groups: vec![sg],
        parameter_group: Some(n.parameter_group.clone()),
        members: n
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| crate::model::rds::ClusterMember { instance_id: m.clone(), writer: Observed::Known(i == 0) })
            .collect(),
        availability_zones: zones,
        serverless_v2: Some(crate::model::rds::ServerlessV2Scaling { min_acu: Observed::Known(d.min_capacity()), max_acu: Observed::Known(d.max_capacity()) }),
        master_user_secret: Some(managed_secret.clone()),
        iam_auth: Observed::Known(false),
        copy_tags_to_snapshot: Observed::Known(true),
    });
}

/// The desired name of the stack's zone `z` (the real names are discovered at provision time).
fn desired_zone(region: &str, z: usize) -> String {
    format!("{region}:zone-{}", z + 1)
}

// ---------- drift ----------

/// Drift of the stack's databases: instance and cluster settings, subnet groups, parameter
/// groups (force_ssl), and the master secrets' key and rotation.
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    fn set<T: Serialize + Ord + Clone>(items: impl IntoIterator<Item = T>) -> serde_json::Value {
        json!(items.into_iter().collect::<BTreeSet<T>>())
    }
    d.each(&desired.secrets.secrets, &live.secrets.secrets, |d, w, g| {
        let at = d.setting(&w.meta, "secrets_key");
        d.field(&g.meta, "kms_key_id", &at, json!(w.kms_key_id.as_deref().map(|k| d.res(k))), json!(g.kms_key_id));
        let at = d.setting(&w.meta, "rotation_days");
        d.field(&g.meta, "rotation_enabled", &at, json!(w.rotation_enabled), json!(g.rotation_enabled));
        d.field(&g.meta, "rotation_interval_days", &at, json!(w.rotation_interval_days), json!(g.rotation_interval_days));
    });
    d.each(&desired.rds.parameter_groups, &live.rds.parameter_groups, |d, w, g| {
        fn force_ssl(p: &ParameterGroup) -> std::result::Result<Option<String>, &str> {
            p.tls_parameters.get().map(|m| m.get(FORCE_SSL).and_then(|p| p.value.clone()))
        }
        let at = d.setting(&w.meta, "force_ssl");
        match force_ssl(g) {
            Ok(v) => d.field(&g.meta, FORCE_SSL, &at, json!(force_ssl(w).ok().flatten()), json!(v)),
            Err(e) => d.unknown(&g.meta, FORCE_SSL, &at, e),
        }
    });
    d.each(&desired.rds.subnet_groups, &live.rds.subnet_groups, |d, w, g| {
        let at = d.setting(&w.meta, "");
        d.field(&g.meta, "subnet_ids", &at, set(w.subnet_ids.iter().map(|s| d.res(s))), set(g.subnet_ids.clone()));
    });
    d.each(&desired.rds.instances, &live.rds.instances, |d, w, g| {
        let m = &g.meta;
        let at = |d: &crate::drift::Drift, f: &str| d.setting(&w.meta, f);
        d.observed(m, "publicly_accessible", &at(d, ""), json!(w.publicly_accessible.known()), &g.publicly_accessible);
        d.field(m, "instance_class", &at(d, "instance_class"), json!(w.instance_class), json!(g.instance_class));
        d.field(m, "security_groups", &at(d, "security_group"), set(w.security_groups.iter().map(|s| d.res(s))), set(g.security_groups.clone()));
        if w.cluster_id.is_some() {
            // an Aurora member: its cluster holds storage, backups, logs and the master user
            d.field(m, "cluster_id", &at(d, "instances"), json!(w.cluster_id), json!(g.cluster_id));
            return;
        }
        d.observed(m, "storage_encrypted", &at(d, "key"), json!(w.storage_encrypted.known()), &g.storage_encrypted);
        d.field(m, "kms_key_id", &at(d, "key"), json!(w.kms_key_id.as_deref().map(|k| d.res(k))), json!(g.kms_key_id));
        d.observed(m, "backup_retention_days", &at(d, "backup_retention_days"), json!(w.backup_retention_days.known()), &g.backup_retention_days);
        d.field(m, "backup_window", &at(d, "backup_window"), json!(w.backup_window), json!(g.backup_window));
        d.field(m, "log_exports", &at(d, "log_exports"), set(w.log_exports.clone()), set(g.log_exports.clone()));
        d.observed(m, "multi_az", &at(d, "multi_az"), json!(w.multi_az.known()), &g.multi_az);
        d.observed(m, "deletion_protection", &at(d, "deletion_protection"), json!(w.deletion_protection.known()), &g.deletion_protection);
        d.field(m, "engine_version", &at(d, "engine_version"), json!(w.engine_version), json!(g.engine_version));
        d.field(m, "subnet_group", &at(d, ""), json!(w.subnet_group), json!(g.subnet_group));
        d.field(m, "parameter_groups", &at(d, "force_ssl"), set(w.parameter_groups.clone()), set(g.parameter_groups.clone()));
        d.field(m, "master_username", &at(d, "master_username"), json!(w.master_username), json!(g.master_username));
    });
    d.each(&desired.rds.clusters, &live.rds.clusters, |d, w, g| {
        let m = &g.meta;
        let at = |d: &crate::drift::Drift, f: &str| d.setting(&w.meta, f);
        d.observed(m, "storage_encrypted", &at(d, "key"), json!(w.storage_encrypted.known()), &g.storage_encrypted);
        d.field(m, "kms_key_id", &at(d, "key"), json!(w.kms_key_id.as_deref().map(|k| d.res(k))), json!(g.kms_key_id));
        d.observed(m, "backup_retention_days", &at(d, "backup_retention_days"), json!(w.backup_retention_days.known()), &g.backup_retention_days);
        d.field(m, "backup_window", &at(d, "backup_window"), json!(w.backup_window), json!(g.backup_window));
        d.field(m, "log_exports", &at(d, "log_exports"), set(w.log_exports.clone()), set(g.log_exports.clone()));
        d.observed(m, "deletion_protection", &at(d, "deletion_protection"), json!(w.deletion_protection.known()), &g.deletion_protection);
        d.field(m, "engine_version", &at(d, "engine_version"), json!(w.engine_version), json!(g.engine_version));
        d.field(m, "subnet_group", &at(d, ""), json!(w.subnet_group), json!(g.subnet_group));
        d.field(m, "security_groups", &at(d, "security_group"), set(w.security_groups.iter().map(|s| d.res(s))), set(g.security_groups.clone()));
        d.field(m, "parameter_group", &at(d, "force_ssl"), json!(w.parameter_group), json!(g.parameter_group));
        d.field(m, "master_username", &at(d, "master_username"), json!(w.master_username), json!(g.master_username));
        d.field(m, "members", &at(d, "instances"), set(w.members.iter().map(|x| d.res(&x.instance_id))), set(g.members.iter().map(|x| x.instance_id.clone())));
    });
}

// ---------- provisioning ----------

fn rds_tags(tags: BTreeMap<String, String>) -> Vec<Tag> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

fn tag_pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

async fn tag_list(ctx: &Ctx, arn: &str) -> Result<Vec<Tag>> {
    let out = ctx.clients.rds.list_tags_for_resource().resource_name(arn).send().await.ctx("rds", "ListTagsForResource", arn)?;
    Ok(out.tag_list().to_vec())
}

async fn add_tags(ctx: &Ctx, arn: &str, tags: BTreeMap<String, String>) -> Result<()> {
    ctx.clients.rds.add_tags_to_resource().resource_name(arn).set_tags(Some(rds_tags(tags))).send().await.map(|_| ()).ctx("rds", "AddTagsToResource", arn)
}

/// Is `got` the key `want` (an ARN), given as its ARN or its id?
fn same_key(want: &str, got: Option<&str>) -> bool {
    let id = want.rsplit('/').next().unwrap_or_default();
    got.is_some_and(|g| g == want || g == id)
}

fn key_change(changes: &mut Vec<Change>, field: &str, want: Option<String>, got: Option<&str>) {
    if let Some(want) = want {
        if !same_key(&want, got) {
            changes.push(Change::new(field, &want, got.unwrap_or("(none: an AWS-managed key)")));
        }
    }
}

#[derive(Debug, Clone)]
struct SubnetGroupNode {
    name: String,
    /// The private subnets' node ids.
    subnets: Vec<String>,
}

#[derive(Debug, Clone)]
struct ParameterGroupNode {
    name: String,
    family: String,
    /// A DB cluster parameter group (Aurora) rather than a DB parameter group.
    cluster: bool,
    force_ssl: bool,
}

/// What the instance and the cluster nodes share.
#[derive(Debug, Clone)]
struct DbNode {
    spec: Database,
    names: Names,
}

#[derive(Debug, Clone)]
struct InstanceNode(DbNode);

#[derive(Debug, Clone)]
struct ClusterNode(DbNode);

#[derive(Debug, Clone)]
struct MemberNode {
    /// The cluster's node id and identifier.
    cluster: String,
    cluster_name: String,
    name: String,
    subnet_group: String,
    /// Index into the stack's zones (the writer in the first, each reader in the next).
    zone: usize,
    spec: Database,
}

#[derive(Debug, Clone)]
struct SecretNode {
    /// The database's node id.
    db: String,
    /// The secrets key's node id.
    key: String,
    rotation_days: u32,
}

crate::node_ops!(SubnetGroupNode, "rds:subnet-group");
crate::node_ops!(ParameterGroupNode, "rds:parameter-group");
crate::node_ops!(InstanceNode, "rds:db-instance");
crate::node_ops!(ClusterNode, "rds:db-cluster");
crate::node_ops!(MemberNode, "rds:db-instance");
crate::node_ops!(SecretNode, "secretsmanager:secret");

impl SubnetGroupNode {
    async fn describe(&self, ctx: &Ctx) -> Result<Option<aws_sdk_rds::types::DbSubnetGroup>> {
        let out = ctx.clients.rds.describe_db_subnet_groups().db_subnet_group_name(&self.name).send().await.found(
            "rds",
            "DescribeDBSubnetGroups",
            &self.name,
            &["DBSubnetGroupNotFoundFault"],
        )?;
        Ok(out.and_then(|o| o.db_subnet_groups().first().cloned()))
    }

    fn subnet_ids(&self, ctx: &Ctx) -> Vec<String> {
        self.subnets.iter().filter_map(|s| ctx.get(s, "id")).collect()
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(g) = self.describe(ctx).await? else { return Ok(Found::Absent) };
        let arn = g.db_subnet_group_arn().unwrap_or_default().to_string();
        let tags = tag_list(ctx, &arn).await?;
        ctx.claim(id, "rds:subnet-group", &self.name, tag_pairs(&tags))?;
        let mut changes = Vec::new();
        let got: BTreeSet<String> = g.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect();
        let want: BTreeSet<String> = self.subnet_ids(ctx).into_iter().collect();
        if !want.is_empty() {
            diff(&mut changes, "subnets", want, got);
        }
        changes.extend(tag_changes(&ctx.tags(id, &self.name), tag_pairs(&tags)));
        Ok(Found::Present { attrs: attrs([("name", self.name.clone()), ("arn", arn)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let rds = &ctx.clients.rds;
        let name = &self.name;
        let subnets: Vec<String> = self.subnets.iter().map(|s| ctx.need(s, "id")).collect::<Result<_>>()?;
        let arn = match found {
            Found::Absent => rds
                .create_db_subnet_group()
                .db_subnet_group_name(name)
                .db_subnet_group_description(format!("{}: private subnets only", ctx.stack.prefix()))
                .set_subnet_ids(Some(subnets))
                .set_tags(Some(rds_tags(ctx.tags(id, name))))
                .send()
                .await
                .ctx("rds", "CreateDBSubnetGroup", name)?
                .db_subnet_group()
                .and_then(|g| g.db_subnet_group_arn())
                .unwrap_or_default()
                .to_string(),
            Found::Present { attrs, .. } => {
                rds.modify_db_subnet_group().db_subnet_group_name(name).set_subnet_ids(Some(subnets)).send().await.ctx("rds", "ModifyDBSubnetGroup", name)?;
                add_tags(ctx, &attrs["arn"], ctx.tags(id, name)).await?;
                attrs["arn"].clone()
            }
        };
        Ok(attrs([("name", name.clone()), ("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(g) = self.describe(ctx).await? else { return Ok(None) };
        let Some(arn) = g.db_subnet_group_arn() else { return Ok(None) };
        if !ctx.owns(id, tag_pairs(&tag_list(ctx, arn).await?)) {
            tracing::warn!("DB subnet group {} does not carry this stack's tags; left alone", self.name);
            return Ok(None);
        }
        ctx.clients.rds.delete_db_subnet_group().db_subnet_group_name(&self.name).send().await.ctx("rds", "DeleteDBSubnetGroup", &self.name)?;
        Ok(Some(self.name.clone()))
    }
}

impl ParameterGroupNode {
    /// The group's ARN, if it exists.
    async fn find(&self, ctx: &Ctx) -> Result<Option<String>> {
        let rds = &ctx.clients.rds;
        let name = &self.name;
        if self.cluster {
            let out = rds.describe_db_cluster_parameter_groups().db_cluster_parameter_group_name(name).send().await.found(
                "rds",
                "DescribeDBClusterParameterGroups",
                name,
                &["DBParameterGroupNotFound", "DBParameterGroupNotFoundFault"],
            )?;
            Ok(out.and_then(|o| o.db_cluster_parameter_groups().first().and_then(|g| g.db_cluster_parameter_group_arn().map(str::to_string))))
        } else {
            let out = rds.describe_db_parameter_groups().db_parameter_group_name(name).send().await.found(
                "rds",
                "DescribeDBParameterGroups",
                name,
                &["DBParameterGroupNotFound", "DBParameterGroupNotFoundFault"],
            )?;
            Ok(out.and_then(|o| o.db_parameter_groups().first().and_then(|g| g.db_parameter_group_arn().map(str::to_string))))
        }
    }

    async fn force_ssl(&self, ctx: &Ctx) -> Result<Option<String>> {
        let rds = &ctx.clients.rds;
        let name = &self.name;
        let params: Vec<Parameter> = if self.cluster {
            let mut out = Vec::new();
            let mut marker: Option<String> = None;
            loop {
                let page =
                    rds.describe_db_cluster_parameters().db_cluster_parameter_group_name(name).source("user").set_marker(marker.clone()).send().await.ctx(
                        "rds",
                        "DescribeDBClusterParameters",
                        name,
                    )?;
                out.extend(page.parameters().iter().cloned());
                marker = page.marker().map(str::to_string);
                if marker.is_none() {
                    break out;
                }
            }
        } else {
            let mut out = Vec::new();
            let mut pages = rds.describe_db_parameters().db_parameter_group_name(name).source("user").into_paginator().items().send();
            while let Some(p) = pages.next().await {
                out.push(p.ctx("rds", "DescribeDBParameters", name)?);
            }
            out
        };
        Ok(params.iter().find(|p| p.parameter_name() == Some(FORCE_SSL)).and_then(|p| p.parameter_value().map(str::to_string)))
    }

    fn value(&self) -> &'static str {
        if self.force_ssl {
            "1"
        } else {
            "0"
        }
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(arn) = self.find(ctx).await? else { return Ok(Found::Absent) };
        let tags = tag_list(ctx, &arn).await?;
        let kind = if self.cluster { "rds:cluster-parameter-group" } else { "rds:parameter-group" };
        ctx.claim(id, kind, &self.name, tag_pairs(&tags))?;
        let mut changes = Vec::new();
        diff(&mut changes, "force_ssl", Some(self.value().to_string()), self.force_ssl(ctx).await?);
        changes.extend(tag_changes(&ctx.tags(id, &self.name), tag_pairs(&tags)));
        Ok(Found::Present { attrs: attrs([("name", self.name.clone()), ("arn", arn)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let rds = &ctx.clients.rds;
        let name = &self.name;
        let description = format!("{}: TLS required", ctx.stack.prefix());
        let arn = match found {
            Found::Absent if self.cluster => rds
                .create_db_cluster_parameter_group()
                .db_cluster_parameter_group_name(name)
                .db_parameter_group_family(&self.family)
                .description(description)
                .set_tags(Some(rds_tags(ctx.tags(id, name))))
                .send()
                .await
                .ctx("rds", "CreateDBClusterParameterGroup", name)?
                .db_cluster_parameter_group()
                .and_then(|g| g.db_cluster_parameter_group_arn())
                .unwrap_or_default()
                .to_string(),
            Found::Absent => rds
                .create_db_parameter_group()
                .db_parameter_group_name(name)
                .db_parameter_group_family(&self.family)
                .description(description)
                .set_tags(Some(rds_tags(ctx.tags(id, name))))
                .send()
                .await
                .ctx("rds", "CreateDBParameterGroup", name)?
                .db_parameter_group()
                .and_then(|g| g.db_parameter_group_arn())
                .unwrap_or_default()
                .to_string(),
            Found::Present { attrs, .. } => {
                add_tags(ctx, &attrs["arn"], ctx.tags(id, name)).await?;
                attrs["arn"].clone()
            }
        };
        let param = Parameter::builder().parameter_name(FORCE_SSL).parameter_value(self.value()).apply_method(ApplyMethod::Immediate).build();
        if self.cluster {
            rds.modify_db_cluster_parameter_group().db_cluster_parameter_group_name(name).parameters(param).send().await.ctx(
                "rds",
                "ModifyDBClusterParameterGroup",
                name,
            )?;
        } else {
            rds.modify_db_parameter_group().db_parameter_group_name(name).parameters(param).send().await.ctx("rds", "ModifyDBParameterGroup", name)?;
        }
        Ok(attrs([("name", name.clone()), ("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(arn) = self.find(ctx).await? else { return Ok(None) };
        if !ctx.owns(id, tag_pairs(&tag_list(ctx, &arn).await?)) {
            tracing::warn!("parameter group {} does not carry this stack's tags; left alone", self.name);
            return Ok(None);
        }
        let rds = &ctx.clients.rds;
        let name = &self.name;
        if self.cluster {
            rds.delete_db_cluster_parameter_group().db_cluster_parameter_group_name(name).send().await.ctx("rds", "DeleteDBClusterParameterGroup", name)?;
        } else {
            rds.delete_db_parameter_group().db_parameter_group_name(name).send().await.ctx("rds", "DeleteDBParameterGroup", name)?;
        }
        Ok(Some(name.clone()))
    }
}

/// Log exports to enable and disable to go from `current` to `want`.
fn export_config(current: &[String], want: &[String]) -> Option<CloudwatchLogsExportConfiguration> {
    let current: BTreeSet<&String> = current.iter().collect();
    let want: BTreeSet<&String> = want.iter().collect();
    let enable: Vec<String> = want.difference(&current).map(|s| s.to_string()).collect();
    let disable: Vec<String> = current.difference(&want).map(|s| s.to_string()).collect();
    (!enable.is_empty() || !disable.is_empty())
        .then(|| CloudwatchLogsExportConfiguration::builder().set_enable_log_types(Some(enable)).set_disable_log_types(Some(disable)).build())
}

/// Settings that cannot change in place.
const IMMUTABLE: &[&str] = &["storage_encrypted", "key", "master_username"];

fn refuse_immutable(changes: &[Change]) -> Result<()> {
    match changes.iter().find(|c| IMMUTABLE.contains(&c.field.as_str())) {
        Some(c) => Err(Error::usage(format!(
            "{} cannot be changed on an existing database (want {}, got {}): restore a snapshot into a new database instead",
            c.field, c.want, c.got
        ))),
        None => Ok(()),
    }
}

fn wants(changes: &[Change], field: &str) -> bool {
    changes.iter().any(|c| c.field == field)
}

impl DbNode {
    /// The final snapshot of a destroy (when asked for): its id, tagged right after.
    async fn tag_final_snapshot(&self, ctx: &Ctx, id: &str, snap: &str, arn_kind: &str) {
        let arn = ctx.arn("rds", &format!("{arn_kind}:{snap}"));
        if let Err(e) = add_tags(ctx, &arn, ctx.tags(&final_snapshot_logical_id(id), snap)).await {
            eprintln!("warning: final snapshot {snap} could not be tagged with the stack's tags: {e}");
        }
        eprintln!("final snapshot {snap} of database {} (kept after destroy; delete it when no longer needed)", self.names.db);
        ctx.set(id, attrs([("final_snapshot", snap.to_string())]));
    }
}

/// `<db>-final-<UTC yyyymmdd-hhmmss>`: letters, digits and single hyphens, as RDS requires.
pub fn final_snapshot_id(db: &str, at: time::OffsetDateTime) -> String {
    format!("{db}-final-{:04}{:02}{:02}-{:02}{:02}{:02}", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute(), at.second())
}

fn deleted_message(ident: &str, ctx: &Ctx, id: &str) -> String {
    match ctx.get(id, "final_snapshot") {
        Some(snap) => format!("{ident} (final snapshot {snap})"),
        None => ident.to_string(),
    }
}

async fn describe_instance(ctx: &Ctx, ident: &str) -> Result<Option<aws_sdk_rds::types::DbInstance>> {
    let out = ctx.clients.rds.describe_db_instances().db_instance_identifier(ident).send().await.found(
        "rds",
        "DescribeDBInstances",
        ident,
        &["DBInstanceNotFound", "DBInstanceNotFoundFault"],
    )?;
    Ok(out.and_then(|o| o.db_instances().first().cloned()))
}

async fn wait_instance(ctx: &Ctx, ident: &str) -> Result<aws_sdk_rds::types::DbInstance> {
    wait_for(&format!("database {ident}"), Duration::from_secs(10), Duration::from_secs(2400), || async {
        Ok(describe_instance(ctx, ident).await?.filter(|db| db.db_instance_status() == Some("available")))
    })
    .await
}

async fn wait_instance_gone(ctx: &Ctx, ident: &str) -> Result<()> {
    wait_for(&format!("deletion of database {ident}"), Duration::from_secs(10), Duration::from_secs(2400), || async {
        Ok(describe_instance(ctx, ident).await?.is_none().then_some(()))
    })
    .await
}

fn instance_attrs(db: &aws_sdk_rds::types::DbInstance) -> Attrs {
    let endpoint = db.endpoint();
    attrs([
        ("id", db.db_instance_identifier().unwrap_or_default().to_string()),
        ("arn", db.db_instance_arn().unwrap_or_default().to_string()),
        ("endpoint", endpoint.and_then(|e| e.address()).unwrap_or_default().to_string()),
        ("port", endpoint.and_then(|e| e.port()).map(|p| p.to_string()).unwrap_or_default()),
        ("secret_arn", db.master_user_secret().and_then(|s| s.secret_arn()).unwrap_or_default().to_string()),
    ])
}

impl InstanceNode {
    fn changes(&self, ctx: &Ctx, db: &aws_sdk_rds::types::DbInstance) -> Vec<Change> {
        let DbNode { spec: d, names, .. } = &self.0;
        let mut c = Vec::new();
        diff(&mut c, "storage_encrypted", Some(true), db.storage_encrypted());
        key_change(&mut c, "key", ctx.get(&d.key, "arn"), db.kms_key_id());
        diff(&mut c, "publicly_accessible", Some(false), db.publicly_accessible());
        diff(&mut c, "backup_retention_days", Some(d.backup_retention_days as i32), db.backup_retention_period());
        diff(&mut c, "backup_window", Some(d.backup_window.as_str()), db.preferred_backup_window());
        let exports: BTreeSet<&str> = db.enabled_cloudwatch_logs_exports().iter().map(String::as_str).collect();
        diff(&mut c, "log_exports", d.log_exports.iter().map(String::as_str).collect::<BTreeSet<_>>(), exports);
        diff(&mut c, "multi_az", Some(d.multi_az()), db.multi_az());
        diff(&mut c, "deletion_protection", Some(d.deletion_protection), db.deletion_protection());
        diff(&mut c, "instance_class", Some(d.instance_class()), db.db_instance_class());
        diff(&mut c, "allocated_storage_gb", Some(d.allocated_storage_gb() as i32), db.allocated_storage());
        diff(&mut c, "engine_version", Some(d.engine_version.as_str()), db.engine_version());
        diff(&mut c, "master_username", Some(d.master_username.as_str()), db.master_username());
        diff(&mut c, "subnet_group", Some(names.subnet_group.as_str()), db.db_subnet_group().and_then(|g| g.db_subnet_group_name()));
        let pgs: Vec<&str> = db.db_parameter_groups().iter().filter_map(|p| p.db_parameter_group_name()).collect();
        diff(&mut c, "parameter_group", vec![names.parameter_group.as_str()], pgs);
        if let Some(sg) = ctx.get(d.security_group_node(), "id") {
            let got: Vec<&str> = db.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect();
            diff(&mut c, "security_group", vec![sg.as_str()], got);
        }
        match db.master_user_secret() {
            None => c.push(Change::new("manage_master_user_password", true, false)),
            Some(s) => key_change(&mut c, "secrets_key", ctx.get(&d.secrets_key, "arn"), s.kms_key_id()),
        }
        c
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let ident = &self.0.names.db;
        let Some(db) = describe_instance(ctx, ident).await? else { return Ok(Found::Absent) };
        ctx.claim(id, "rds:db-instance", ident, tag_pairs(db.tag_list()))?;
        if db.db_instance_status() == Some("deleting") {
            return Err(Error::usage(format!("database {ident} is being deleted; run provision again once it is gone")));
        }
        let mut changes = self.changes(ctx, &db);
        changes.extend(tag_changes(&ctx.tags(id, ident), tag_pairs(db.tag_list())));
        Ok(Found::Present { attrs: instance_attrs(&db), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let DbNode { spec: d, names, .. } = &self.0;
        let rds = &ctx.clients.rds;
        let ident = &names.db;
        let key = ctx.need(&d.key, "arn")?;
        let secrets_key = ctx.need(&d.secrets_key, "arn")?;
        let sg = ctx.need(d.security_group_node(), "id")?;
        match found {
            Found::Absent => {
                rds.create_db_instance()
                    .db_instance_identifier(ident)
                    .engine(d.engine.as_str())
                    .engine_version(&d.engine_version)
                    .db_instance_class(d.instance_class())
                    .allocated_storage(d.allocated_storage_gb() as i32)
                    .storage_type(d.storage_type())
                    .storage_encrypted(true)
                    .kms_key_id(&key)
                    .master_username(&d.master_username)
                    .manage_master_user_password(true)
                    .master_user_secret_kms_key_id(&secrets_key)
                    .db_name(&d.db_name)
                    .port(d.port as i32)
                    .publicly_accessible(false)
                    .db_subnet_group_name(&names.subnet_group)
                    .vpc_security_group_ids(&sg)
                    .db_parameter_group_name(&names.parameter_group)
                    .backup_retention_period(d.backup_retention_days as i32)
                    .preferred_backup_window(&d.backup_window)
                    .set_enable_cloudwatch_logs_exports(Some(d.log_exports.clone()))
                    .multi_az(d.multi_az())
                    .deletion_protection(d.deletion_protection)
                    .copy_tags_to_snapshot(true)
                    .auto_minor_version_upgrade(true)
                    .set_tags(Some(rds_tags(ctx.tags(id, ident))))
                    .send()
                    .await
                    .ctx("rds", "CreateDBInstance", ident)?;
            }
            Found::Present { changes, attrs } => {
                refuse_immutable(changes)?;
                let db = wait_instance(ctx, ident).await?;
                let mut m = rds
                    .modify_db_instance()
                    .db_instance_identifier(ident)
                    .apply_immediately(true)
                    .publicly_accessible(false)
                    .backup_retention_period(d.backup_retention_days as i32)
                    .preferred_backup_window(&d.backup_window)
                    .multi_az(d.multi_az())
                    .deletion_protection(d.deletion_protection)
                    .db_instance_class(d.instance_class())
                    .db_subnet_group_name(&names.subnet_group)
                    .vpc_security_group_ids(&sg)
                    .db_parameter_group_name(&names.parameter_group)
                    .set_cloudwatch_logs_export_configuration(export_config(db.enabled_cloudwatch_logs_exports(), &d.log_exports));
                if wants(changes, "allocated_storage_gb") {
                    m = m.allocated_storage(d.allocated_storage_gb() as i32);
                }
                if wants(changes, "engine_version") {
                    m = m.engine_version(&d.engine_version).allow_major_version_upgrade(false);
                }
                if wants(changes, "manage_master_user_password") || wants(changes, "secrets_key") {
                    m = m.manage_master_user_password(true).master_user_secret_kms_key_id(&secrets_key);
                }
                m.send().await.ctx("rds", "ModifyDBInstance", ident)?;
                if changes.iter().any(|c| c.field.starts_with("tags.")) {
                    add_tags(ctx, &attrs["arn"], ctx.tags(id, ident)).await?;
                }
            }
        }
        Ok(instance_attrs(&wait_instance(ctx, ident).await?))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let ident = &self.0.names.db;
        let Some(db) = describe_instance(ctx, ident).await? else { return Ok(None) };
        if !ctx.owns(id, tag_pairs(db.tag_list())) {
            tracing::warn!("database {ident} does not carry this stack's tags; left alone");
            return Ok(None);
        }
        let rds = &ctx.clients.rds;
        if db.db_instance_status() != Some("deleting") {
            if db.deletion_protection() == Some(true) {
                rds.modify_db_instance().db_instance_identifier(ident).deletion_protection(false).apply_immediately(true).send().await.ctx(
                    "rds",
                    "ModifyDBInstance",
                    ident,
                )?;
            }
            let snapshot = ctx.final_snapshot.then(|| final_snapshot_id(ident, time::OffsetDateTime::now_utc()));
            let delete = rds.delete_db_instance().db_instance_identifier(ident).delete_automated_backups(true);
            let delete = match &snapshot {
                Some(snap) => delete.skip_final_snapshot(false).final_db_snapshot_identifier(snap),
                None => delete.skip_final_snapshot(true),
            };
            delete.send().await.ctx("rds", "DeleteDBInstance", ident)?;
            if let Some(snap) = snapshot {
                self.0.tag_final_snapshot(ctx, id, &snap, "snapshot").await;
            }
        }
        wait_instance_gone(ctx, ident).await?;
        Ok(Some(deleted_message(ident, ctx, id)))
    }
}

async fn describe_cluster(ctx: &Ctx, ident: &str) -> Result<Option<aws_sdk_rds::types::DbCluster>> {
    let out = ctx.clients.rds.describe_db_clusters().db_cluster_identifier(ident).send().await.found(
        "rds",
        "DescribeDBClusters",
        ident,
        &["DBClusterNotFoundFault", "DBClusterNotFound"],
    )?;
    Ok(out.and_then(|o| o.db_clusters().first().cloned()))
}

async fn wait_cluster(ctx: &Ctx, ident: &str) -> Result<aws_sdk_rds::types::DbCluster> {
    wait_for(&format!("cluster {ident}"), Duration::from_secs(10), Duration::from_secs(2400), || async {
        Ok(describe_cluster(ctx, ident).await?.filter(|c| c.status() == Some("available")))
    })
    .await
}

fn cluster_attrs(c: &aws_sdk_rds::types::DbCluster) -> Attrs {
    attrs([
        ("id", c.db_cluster_identifier().unwrap_or_default().to_string()),
        ("arn", c.db_cluster_arn().unwrap_or_default().to_string()),
        ("endpoint", c.endpoint().unwrap_or_default().to_string()),
        ("reader_endpoint", c.reader_endpoint().unwrap_or_default().to_string()),
        ("port", c.port().map(|p| p.to_string()).unwrap_or_default()),
        ("secret_arn", c.master_user_secret().and_then(|s| s.secret_arn()).unwrap_or_default().to_string()),
    ])
}

impl ClusterNode {
    fn scaling(&self) -> ServerlessV2ScalingConfiguration {
        let d = &self.0.spec;
        ServerlessV2ScalingConfiguration::builder().min_capacity(d.min_capacity()).max_capacity(d.max_capacity()).build()
    }

    fn changes(&self, ctx: &Ctx, c: &aws_sdk_rds::types::DbCluster) -> Vec<Change> {
        let DbNode { spec: d, names, .. } = &self.0;
        let mut out = Vec::new();
        diff(&mut out, "storage_encrypted", Some(true), c.storage_encrypted());
        key_change(&mut out, "key", ctx.get(&d.key, "arn"), c.kms_key_id());
        diff(&mut out, "backup_retention_days", Some(d.backup_retention_days as i32), c.backup_retention_period());
        diff(&mut out, "backup_window", Some(d.backup_window.as_str()), c.preferred_backup_window());
        let exports: BTreeSet<&str> = c.enabled_cloudwatch_logs_exports().iter().map(String::as_str).collect();
        diff(&mut out, "log_exports", d.log_exports.iter().map(String::as_str).collect::<BTreeSet<_>>(), exports);
        diff(&mut out, "deletion_protection", Some(d.deletion_protection), c.deletion_protection());
        diff(&mut out, "engine_version", Some(d.engine_version.as_str()), c.engine_version());
        diff(&mut out, "master_username", Some(d.master_username.as_str()), c.master_username());
        diff(&mut out, "subnet_group", Some(names.subnet_group.as_str()), c.db_subnet_group());
        diff(&mut out, "parameter_group", Some(names.parameter_group.as_str()), c.db_cluster_parameter_group());
        let scaling = c.serverless_v2_scaling_configuration();
        diff(&mut out, "min_capacity", Some(d.min_capacity()), scaling.and_then(|s| s.min_capacity()));
        diff(&mut out, "max_capacity", Some(d.max_capacity()), scaling.and_then(|s| s.max_capacity()));
        if let Some(sg) = ctx.get(d.security_group_node(), "id") {
            let got: Vec<&str> = c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect();
            diff(&mut out, "security_group", vec![sg.as_str()], got);
        }
        match c.master_user_secret() {
            None => out.push(Change::new("manage_master_user_password", true, false)),
            Some(s) => key_change(&mut out, "secrets_key", ctx.get(&d.secrets_key, "arn"), s.kms_key_id()),
        }
        out
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let ident = &self.0.names.db;
        let Some(c) = describe_cluster(ctx, ident).await? else { return Ok(Found::Absent) };
        ctx.claim(id, "rds:db-cluster", ident, tag_pairs(c.tag_list()))?;
        if c.status() == Some("deleting") {
            return Err(Error::usage(format!("cluster {ident} is being deleted; run provision again once it is gone")));
        }
        let mut changes = self.changes(ctx, &c);
        changes.extend(tag_changes(&ctx.tags(id, ident), tag_pairs(c.tag_list())));
        Ok(Found::Present { attrs: cluster_attrs(&c), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let DbNode { spec: d, names, .. } = &self.0;
        let rds = &ctx.clients.rds;
        let ident = &names.db;
        let key = ctx.need(&d.key, "arn")?;
        let secrets_key = ctx.need(&d.secrets_key, "arn")?;
        let sg = ctx.need(d.security_group_node(), "id")?;
        match found {
            Found::Absent => {
                rds.create_db_cluster()
                    .db_cluster_identifier(ident)
                    .engine(d.engine.as_str())
                    .engine_version(&d.engine_version)
                    .serverless_v2_scaling_configuration(self.scaling())
                    .storage_encrypted(true)
                    .kms_key_id(&key)
                    .master_username(&d.master_username)
                    .manage_master_user_password(true)
                    .master_user_secret_kms_key_id(&secrets_key)
                    .database_name(&d.db_name)
                    .port(d.port as i32)
                    .db_subnet_group_name(&names.subnet_group)
                    .vpc_security_group_ids(&sg)
                    .db_cluster_parameter_group_name(&names.parameter_group)
                    .backup_retention_period(d.backup_retention_days as i32)
                    .preferred_backup_window(&d.backup_window)
                    .set_enable_cloudwatch_logs_exports(Some(d.log_exports.clone()))
                    .deletion_protection(d.deletion_protection)
                    .copy_tags_to_snapshot(true)
                    .set_tags(Some(rds_tags(ctx.tags(id, ident))))
                    .send()
                    .await
                    .ctx("rds", "CreateDBCluster", ident)?;
            }
            Found::Present { changes, attrs } => {
                refuse_immutable(changes)?;
                let c = wait_cluster(ctx, ident).await?;
                let mut m = rds
                    .modify_db_cluster()
                    .db_cluster_identifier(ident)
                    .apply_immediately(true)
                    .backup_retention_period(d.backup_retention_days as i32)
                    .preferred_backup_window(&d.backup_window)
                    .deletion_protection(d.deletion_protection)
                    .vpc_security_group_ids(&sg)
                    .db_cluster_parameter_group_name(&names.parameter_group)
                    .serverless_v2_scaling_configuration(self.scaling())
                    .set_cloudwatch_logs_export_configuration(export_config(c.enabled_cloudwatch_logs_exports(), &d.log_exports));
                if wants(changes, "engine_version") {
                    m = m.engine_version(&d.engine_version).allow_major_version_upgrade(false);
                }
                if wants(changes, "manage_master_user_password") || wants(changes, "secrets_key") {
                    m = m.manage_master_user_password(true).master_user_secret_kms_key_id(&secrets_key);
                }
                m.send().await.ctx("rds", "ModifyDBCluster", ident)?;
                if changes.iter().any(|c| c.field.starts_with("tags.")) {
                    add_tags(ctx, &attrs["arn"], ctx.tags(id, ident)).await?;
                }
            }
        }
        Ok(cluster_attrs(&wait_cluster(ctx, ident).await?))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let ident = &self.0.names.db;
        let Some(c) = describe_cluster(ctx, ident).await? else { return Ok(None) };
        if !ctx.owns(id, tag_pairs(c.tag_list())) {
            tracing::warn!("cluster {ident} does not carry this stack's tags; left alone");
            return Ok(None);
        }
        let rds = &ctx.clients.rds;
        if c.status() != Some("deleting") {
            if c.deletion_protection() == Some(true) {
                rds.modify_db_cluster().db_cluster_identifier(ident).deletion_protection(false).apply_immediately(true).send().await.ctx(
                    "rds",
                    "ModifyDBCluster",
                    ident,
                )?;
            }
            let snapshot = ctx.final_snapshot.then(|| final_snapshot_id(ident, time::OffsetDateTime::now_utc()));
            let delete = rds.delete_db_cluster().db_cluster_identifier(ident);
            let delete = match &snapshot {
                Some(snap) => delete.skip_final_snapshot(false).final_db_snapshot_identifier(snap),
                None => delete.skip_final_snapshot(true),
            };
            delete.send().await.ctx("rds", "DeleteDBCluster", ident)?;
            if let Some(snap) = snapshot {
                self.0.tag_final_snapshot(ctx, id, &snap, "cluster-snapshot").await;
            }
        }
        wait_for(&format!("deletion of cluster {ident}"), Duration::from_secs(10), Duration::from_secs(2400), || async {
            Ok(describe_cluster(ctx, ident).await?.is_none().then_some(()))
        })
        .await?;
        Ok(Some(deleted_message(ident, ctx, id)))
    }
}

impl MemberNode {
    fn zone<'a>(&self, ctx: &'a Ctx) -> Option<&'a str> {
        (!ctx.azs.is_empty()).then(|| ctx.azs[self.zone % ctx.azs.len()].as_str())
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(db) = describe_instance(ctx, &self.name).await? else { return Ok(Found::Absent) };
        ctx.claim(id, "rds:db-instance", &self.name, tag_pairs(db.tag_list()))?;
        let mut changes = Vec::new();
        diff(&mut changes, "instances.cluster", Some(self.cluster_name.as_str()), db.db_cluster_identifier());
        diff(&mut changes, "instances.class", Some(SERVERLESS_CLASS), db.db_instance_class());
        diff(&mut changes, "instances.publicly_accessible", Some(false), db.publicly_accessible());
        diff(&mut changes, "instances.availability_zone", self.zone(ctx), db.availability_zone());
        changes.extend(tag_changes(&ctx.tags(id, &self.name), tag_pairs(db.tag_list())));
        Ok(Found::Present { attrs: instance_attrs(&db), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let rds = &ctx.clients.rds;
        let name = &self.name;
        match found {
            Found::Absent => {
                rds.create_db_instance()
                    .db_instance_identifier(name)
                    .db_cluster_identifier(&self.cluster_name)
                    .engine(self.spec.engine.as_str())
                    .db_instance_class(SERVERLESS_CLASS)
                    // the cluster's group (AWS takes it from the cluster; named here so every
                    // endpoint reports the instance's subnets)
                    .db_subnet_group_name(&self.subnet_group)
                    .set_availability_zone(self.zone(ctx).map(str::to_string))
                    .publicly_accessible(false)
                    .auto_minor_version_upgrade(true)
                    .set_tags(Some(rds_tags(ctx.tags(id, name))))
                    .send()
                    .await
                    .ctx("rds", "CreateDBInstance", name)?;
            }
            Found::Present { changes, attrs } => {
                if let Some(c) = changes.iter().find(|c| c.field == "instances.cluster" || c.field == "instances.availability_zone") {
                    return Err(Error::usage(format!(
                        "instance {name}: {} cannot be changed in place (want {}, got {}): delete the instance and provision again",
                        c.field, c.want, c.got
                    )));
                }
                rds.modify_db_instance()
                    .db_instance_identifier(name)
                    .apply_immediately(true)
                    .db_instance_class(SERVERLESS_CLASS)
                    .publicly_accessible(false)
                    .send()
                    .await
                    .ctx("rds", "ModifyDBInstance", name)?;
                if changes.iter().any(|c| c.field.starts_with("tags.")) {
                    add_tags(ctx, &attrs["arn"], ctx.tags(id, name)).await?;
                }
            }
        }
        let _ = ctx.need(&self.cluster, "id")?;
        Ok(instance_attrs(&wait_instance(ctx, name).await?))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let name = &self.name;
        let Some(db) = describe_instance(ctx, name).await? else { return Ok(None) };
        if !ctx.owns(id, tag_pairs(db.tag_list())) {
            tracing::warn!("instance {name} does not carry this stack's tags; left alone");
            return Ok(None);
        }
        if db.db_instance_status() != Some("deleting") {
            // an Aurora instance has no snapshot of its own: the cluster's final snapshot keeps the data
            ctx.clients.rds.delete_db_instance().db_instance_identifier(name).send().await.ctx("rds", "DeleteDBInstance", name)?;
        }
        wait_instance_gone(ctx, name).await?;
        Ok(Some(name.clone()))
    }
}

fn sm_tags(tags: BTreeMap<String, String>) -> Vec<aws_sdk_secretsmanager::types::Tag> {
    tags.into_iter().map(|(k, v)| aws_sdk_secretsmanager::types::Tag::builder().key(k).value(v).build()).collect()
}

impl SecretNode {
    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        // the secret RDS manages for the database; none until the database exists
        let Some(arn) = ctx.get(&self.db, "secret_arn").filter(|a| !a.is_empty()) else { return Ok(Found::Absent) };
        let sm = &ctx.clients.secrets;
        let Some(s) = sm.describe_secret().secret_id(&arn).send().await.found("secretsmanager", "DescribeSecret", &arn, &["ResourceNotFoundException"])? else {
            return Ok(Found::Absent);
        };
        let tags: Vec<(&str, &str)> = s.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())).collect();
        if !ctx.owns(id, tags.iter().copied()) {
            // RDS created it for this stack's database: tagging it is what "creating" it means here
            return Ok(Found::Absent);
        }
        let mut changes = Vec::new();
        key_change(&mut changes, "secrets_key", ctx.get(&self.key, "arn"), s.kms_key_id());
        diff(&mut changes, "rotation_enabled", Some(true), s.rotation_enabled());
        let days = s.rotation_rules().and_then(|r| r.automatically_after_days());
        diff(&mut changes, "rotation_days", Some(self.rotation_days as i64), days);
        changes.extend(tag_changes(&ctx.tags(id, s.name().unwrap_or_default()), tags.iter().copied()));
        Ok(Found::Present { attrs: attrs([("arn", arn), ("name", s.name().unwrap_or_default().to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let sm = &ctx.clients.secrets;
        let arn = ctx.need(&self.db, "secret_arn")?;
        if arn.is_empty() {
            return Err(Error::usage(format!("database {} reports no master user secret", self.db)));
        }
        let s = sm.describe_secret().secret_id(&arn).send().await.ctx("secretsmanager", "DescribeSecret", &arn)?;
        let name = s.name().unwrap_or_default().to_string();
        let changes: &[Change] = match found {
            Found::Present { changes, .. } => changes,
            Found::Absent => &[],
        };
        let all = matches!(found, Found::Absent);
        if all || changes.iter().any(|c| c.field.starts_with("tags.")) {
            sm.tag_resource().secret_id(&arn).set_tags(Some(sm_tags(ctx.tags(id, &name)))).send().await.ctx("secretsmanager", "TagResource", &arn)?;
        }
        let days = s.rotation_rules().and_then(|r| r.automatically_after_days());
        if s.rotation_enabled() != Some(true) || days != Some(self.rotation_days as i64) {
            // RDS rotates its managed secrets itself; this sets the schedule without rotating now
            let rules = aws_sdk_secretsmanager::types::RotationRulesType::builder().automatically_after_days(self.rotation_days as i64).build();
            sm.rotate_secret().secret_id(&arn).rotation_rules(rules).rotate_immediately(false).send().await.ctx("secretsmanager", "RotateSecret", &arn)?;
        }
        if changes.iter().any(|c| c.field == "secrets_key") {
            return Err(Error::usage(format!(
                "secret {name} is encrypted with another key than secrets_key: the database node re-keys it; run provision again"
            )));
        }
        Ok(attrs([("arn", arn), ("name", name)]))
    }

    async fn delete(&self, _ctx: &Ctx, _id: &str) -> Result<Option<String>> {
        // RDS deletes the secret it manages with the database
        Ok(None)
    }
}

#[cfg(test)]
#[path = "database_tests.rs"]
mod tests;
