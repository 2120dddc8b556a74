//! RDS controls.
//!
//! Aurora (and Multi-AZ DB cluster) members take storage encryption, backups, log exports,
//! availability, deletion protection, the master user (name and managed secret) and the TLS
//! parameter from their cluster,
//! so those controls judge standalone instances and clusters, and mark members not applicable
//! (or error when their cluster is missing from the State). Public accessibility and subnets
//! stay per instance.
//!
//! DescribeDBInstances and DescribeDBClusters also return Amazon DocumentDB and Amazon Neptune
//! databases; they are other services, out of these controls' scope (not applicable: their
//! engine was read). Evidence that was not read is an error.

use super::{customer_key_verdict, each, subnet_is_public, ControlFn, Params, Verdict};
use crate::model::rds::{DbCluster, DbInstance, ParameterGroup};
use crate::model::{Meta, Observed, State};
use crate::semantics::db_tls::{self, Engine, Listed};
use serde_json::{json, Map, Value};

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("rds-storage-encrypted-cmk", storage_encrypted_cmk),
    ("rds-not-publicly-accessible", not_publicly_accessible),
    ("rds-private-subnets-only", private_subnets_only),
    ("rds-backup-retention", backup_retention),
    ("rds-log-exports-enabled", log_exports),
    ("rds-force-ssl", force_ssl),
    ("rds-master-username-not-default", master_username),
    ("rds-multi-az", multi_az),
    ("rds-deletion-protection", deletion_protection),
    ("rds-master-credentials-managed", master_credentials_managed),
];

/// Well-known master user names (compared case-insensitively).
const DEFAULT_USERNAMES: &[&str] =
    &["admin", "administrator", "postgres", "root", "master", "sa", "rdsadmin", "user", "dbadmin", "dbuser", "awsuser", "mysql", "test"];

/// The value of an Observed field, or (from the enclosing judge) an `error` verdict naming it.
macro_rules! known {
    ($meta:expr, $v:expr, $field:expr) => {
        match $v.get() {
            Ok(v) => v,
            Err(reason) => return Verdict::error($meta, format!("{}: {reason}", $field)),
        }
    };
}

/// Whether a database is out of the RDS controls' scope: its engine is not an RDS database.
fn out_of_scope(meta: &Meta, engine: &str) -> Option<Verdict> {
    Engine::from_name(engine)
        .not_rds()
        .map(|product| Verdict::not_applicable(meta, format!("engine {engine} is {product}, not an RDS database engine: out of the RDS controls' scope")))
}

/// The owner of the database-level settings: a standalone instance or a cluster.
struct Db<'a> {
    meta: &'a Meta,
    kind: &'static str,
    engine: &'a str,
    engine_version: &'a str,
    storage_encrypted: &'a Observed<bool>,
    kms_key_id: Option<&'a str>,
    backup_retention_days: &'a Observed<i32>,
    log_exports: &'a [String],
    deletion_protection: &'a Observed<bool>,
    master_username: Option<&'a str>,
    /// Where the TLS parameter lives: the instance's DB parameter groups, or the cluster
    /// parameter group (for Aurora it decides: the parameter is cluster-level).
    parameter_groups: Vec<&'a str>,
    parameter_scope: &'static str,
    source: Source<'a>,
}

enum Source<'a> {
    Instance(&'a DbInstance),
    Cluster(&'a DbCluster),
}

impl<'a> Db<'a> {
    fn instance(i: &'a DbInstance) -> Self {
        Db {
            meta: &i.meta,
            kind: "instance",
            engine: &i.engine,
            engine_version: &i.engine_version,
            storage_encrypted: &i.storage_encrypted,
            kms_key_id: i.kms_key_id.as_deref(),
            backup_retention_days: &i.backup_retention_days,
            log_exports: &i.log_exports,
            deletion_protection: &i.deletion_protection,
            master_username: i.master_username.as_deref(),
            parameter_groups: i.parameter_groups.iter().map(String::as_str).collect(),
            parameter_scope: "instance",
            source: Source::Instance(i),
        }
    }

    fn cluster(c: &'a DbCluster) -> Self {
        Db {
            meta: &c.meta,
            kind: "cluster",
            engine: &c.engine,
            engine_version: &c.engine_version,
            storage_encrypted: &c.storage_encrypted,
            kms_key_id: c.kms_key_id.as_deref(),
            backup_retention_days: &c.backup_retention_days,
            log_exports: &c.log_exports,
            deletion_protection: &c.deletion_protection,
            master_username: c.master_username.as_deref(),
            parameter_groups: c.parameter_group.iter().map(String::as_str).collect(),
            parameter_scope: "cluster",
            source: Source::Cluster(c),
        }
    }
}

/// Judge every standalone instance and every cluster; cluster members defer to their cluster;
/// engines that are not RDS databases are not applicable.
fn databases(state: &State, judge: impl Fn(&Db) -> Verdict) -> Vec<Verdict> {
    let clusters = &state.rds.clusters;
    let mut out = each(&state.rds.instances, "rds:db-instance", |i| {
        if let Some(v) = out_of_scope(&i.meta, &i.engine) {
            return v;
        }
        match &i.cluster_id {
            None => judge(&Db::instance(i)),
            Some(c) if clusters.iter().any(|k| k.meta.id == *c || k.meta.arn == *c) => {
                Verdict::not_applicable(&i.meta, format!("member of cluster {c}: the cluster holds this setting"))
            }
            Some(c) => Verdict::error(
                &i.meta,
                match clusters.failed_in(&i.meta.region) {
                    Some(reason) => format!("member of cluster {c}: DB clusters could not be listed in {}: {reason}", i.meta.region),
                    None => format!("member of cluster {c}, which is not in the State: the cluster holds this setting"),
                },
            ),
        }
    });
    out.extend(each(clusters, "rds:db-cluster", |c| out_of_scope(&c.meta, &c.engine).unwrap_or_else(|| judge(&Db::cluster(c)))));
    out
}

/// Judge every instance on its own (settings that stay per instance); engines that are not RDS
/// databases are not applicable.
fn instances(state: &State, judge: impl Fn(&DbInstance) -> Verdict) -> Vec<Verdict> {
    each(&state.rds.instances, "rds:db-instance", |i| out_of_scope(&i.meta, &i.engine).unwrap_or_else(|| judge(i)))
}

/// Encrypted, and with a customer-managed key (the shared key resolver decides: RDS reports the
/// AWS-managed `aws/rds` key as a key ARN too, so the key must be known to the State).
fn storage_encrypted_cmk(state: &State, _: &Params) -> Vec<Verdict> {
    databases(state, |db| {
        let encrypted = *known!(db.meta, db.storage_encrypted, "StorageEncrypted");
        let observed = json!({"storage_encrypted": encrypted, "kms_key_id": db.kms_key_id});
        let expected = json!({"storage_encrypted": true, "kms_key_id": "a customer-managed KMS key"});
        if !encrypted {
            return Verdict::fail(db.meta, format!("{} {} storage is not encrypted", db.kind, db.meta.id), observed, expected);
        }
        let Some(key) = db.kms_key_id else {
            return Verdict::error(db.meta, format!("{} is encrypted but reports no KMS key", db.kind));
        };
        customer_key_verdict(state, db.meta, &format!("{} {} storage", db.kind, db.meta.id), key, observed, expected)
    })
}

fn not_publicly_accessible(state: &State, _: &Params) -> Vec<Verdict> {
    instances(state, |i| {
        let public = *known!(&i.meta, i.publicly_accessible, "PubliclyAccessible");
        let observed = json!({"publicly_accessible": public});
        if public {
            Verdict::fail(
                &i.meta,
                format!("instance {} is publicly accessible: its endpoint resolves to a public address", i.meta.id),
                observed,
                json!({"publicly_accessible": false}),
            )
        } else {
            Verdict::pass(&i.meta, "instance is not publicly accessible", observed)
        }
    })
}

/// Every subnet the instance may be placed in (its subnet group's) must be private: no route to
/// an internet gateway, by its explicit route table or else its VPC's main table.
fn private_subnets_only(state: &State, _: &Params) -> Vec<Verdict> {
    instances(state, |i| {
        let group = i
            .subnet_group
            .as_deref()
            .and_then(|g| id_or_name(&state.rds.subnet_groups, g).into_iter().find(|sg| sg.meta.id == g || sg.meta.name.as_deref() == Some(g)));
        let subnets: Vec<&str> = if !i.subnet_ids.is_empty() {
            i.subnet_ids.iter().map(String::as_str).collect()
        } else if let Some(g) = group {
            g.subnet_ids.iter().map(String::as_str).collect()
        } else {
            return Verdict::error(
                &i.meta,
                format!("the subnets of instance {} are unknown (subnet group {})", i.meta.id, i.subnet_group.as_deref().unwrap_or("none")),
            );
        };
        let vpc = i.vpc_id.as_deref().or(group.map(|g| g.vpc_id.as_str()));
        let mut public = Vec::new();
        for s in &subnets {
            match subnet_is_public(&state.ec2, s, vpc, &i.meta.region) {
                Ok(true) => public.push(*s),
                Ok(false) => {}
                Err(reason) => return Verdict::error(&i.meta, reason),
            }
        }
        let observed = json!({"subnet_group": i.subnet_group, "subnets": subnets, "public_subnets": public});
        if public.is_empty() {
            Verdict::pass(&i.meta, format!("all {} subnets of the instance are private", subnets.len()), observed)
        } else {
            Verdict::fail(
                &i.meta,
                format!(
                    "subnet group {} includes subnet(s) routed to an internet gateway: {}",
                    i.subnet_group.as_deref().unwrap_or("(none)"),
                    public.join(", ")
                ),
                observed,
                json!({"public_subnets": []}),
            )
        }
    })
}

fn backup_retention(state: &State, params: &Params) -> Vec<Verdict> {
    let min = params.get("min_backup_retention_days");
    databases(state, |db| {
        let days = *known!(db.meta, db.backup_retention_days, "BackupRetentionPeriod");
        let observed = json!({"backup_retention_days": days});
        if i64::from(days) >= min {
            Verdict::pass(db.meta, format!("automated backups are kept {days} days (minimum {min})"), observed)
        } else if days == 0 {
            Verdict::fail(
                db.meta,
                format!("automated backups are disabled (retention 0, minimum {min} days)"),
                observed,
                json!({"backup_retention_days": format!(">= {min}")}),
            )
        } else {
            Verdict::fail(
                db.meta,
                format!("automated backups are kept {days} days, below the {min}-day minimum"),
                observed,
                json!({"backup_retention_days": format!(">= {min}")}),
            )
        }
    })
}

/// At least one log type exported; for PostgreSQL engines (`postgres`, `aurora-postgresql`) the
/// `postgresql` log, which holds connections, errors and audit statements.
fn log_exports(state: &State, _: &Params) -> Vec<Verdict> {
    databases(state, |db| {
        let observed = json!({"engine": db.engine, "log_exports": db.log_exports});
        let postgres = db.engine.contains("postgres");
        let expected = if postgres { json!({"log_exports": ["postgresql"]}) } else { json!({"log_exports": "at least one log type"}) };
        if db.log_exports.is_empty() {
            return Verdict::fail(db.meta, format!("{} {} exports no logs to CloudWatch Logs", db.engine, db.kind), observed, expected);
        }
        if postgres && !db.log_exports.iter().any(|l| l == "postgresql") {
            return Verdict::fail(db.meta, format!("the postgresql log is not exported (exports: {})", db.log_exports.join(", ")), observed, expected);
        }
        Verdict::pass(db.meta, format!("exports {} to CloudWatch Logs", db.log_exports.join(", ")), observed)
    })
}

/// The items of `c` whose id or name is `key` (indexed).
fn id_or_name<'a, T: crate::model::Resource>(c: &'a crate::model::Collection<T>, key: &str) -> Vec<&'a T> {
    c.lookup("id-or-name", key, |t| {
        let m = t.meta();
        m.name.iter().cloned().chain([m.id.clone()]).collect()
    })
}

/// The parameter group `name` as the State holds it (the one of the right scope first).
fn parameter_group<'a>(state: &'a State, name: &str, scope: &str) -> Option<&'a ParameterGroup> {
    let named: Vec<_> =
        id_or_name(&state.rds.parameter_groups, name).into_iter().filter(|g| g.meta.id == name || g.meta.name.as_deref() == Some(name)).collect();
    named.iter().find(|g| g.scope == scope).or(named.first()).copied()
}

/// The database refuses unencrypted connections, judged by engine from the effective value of
/// its TLS parameter: `rds.force_ssl` (PostgreSQL, Aurora PostgreSQL, SQL Server) or
/// `require_secure_transport` (MySQL, MariaDB, Aurora MySQL), in every DB parameter group of a
/// standalone instance or in the cluster parameter group of a cluster. A parameter left at the
/// engine default takes the documented default of the engine version (PostgreSQL 15+: on;
/// MySQL 8.4 and earlier: off; ...); an undocumented default, an unread group, or an engine
/// whose TLS is not a parameter (Oracle, Db2) is an error.
fn force_ssl(state: &State, _: &Params) -> Vec<Verdict> {
    databases(state, |db| {
        let engine = Engine::from_name(db.engine);
        let Some(param) = engine.tls_parameter() else {
            return Verdict::error(
                db.meta,
                format!(
                    "engine {}: transport encryption is not set by a parameter tapaudit reads (for Oracle and Db2 it is an option or a certificate setting)",
                    db.engine
                ),
            );
        };
        if db.parameter_groups.is_empty() {
            return Verdict::error(db.meta, format!("{} reports no {} parameter group", db.kind, db.parameter_scope));
        }
        let mut observed = Map::new();
        let mut off = Vec::new();
        for name in &db.parameter_groups {
            let Some(g) = parameter_group(state, name, db.parameter_scope) else {
                return Verdict::error(
                    db.meta,
                    match state.rds.parameter_groups.failed_in(&db.meta.region) {
                        Some(reason) => format!("parameter group {name}: parameter groups could not be listed in {}: {reason}", db.meta.region),
                        None => format!("parameter group {name} is not in the State, so {param} is unknown"),
                    },
                );
            };
            let params = match g.tls_parameters.get() {
                Ok(p) => p,
                Err(reason) => return Verdict::error(db.meta, format!("{param} of parameter group {name}: {reason}")),
            };
            let listed = params.get(param);
            let value = match listed.and_then(|p| p.value.as_deref()) {
                Some(v) => Listed::Value(v),
                None => Listed::Default,
            };
            let (on, why) = match db_tls::requires_tls(engine, db.engine_version, value) {
                Ok(r) => r,
                Err(reason) => return Verdict::error(db.meta, format!("parameter group {name}: {reason}")),
            };
            observed.insert(
                name.to_string(),
                json!({"parameter": param, "value": listed.and_then(|p| p.value.clone()), "source": listed.and_then(|p| p.source.clone()), "requires_tls": on}),
            );
            if !on {
                off.push(format!("{name} ({why})"));
            }
        }
        let observed = json!({"engine": db.engine, "engine_version": db.engine_version, "parameter_groups": Value::Object(observed)});
        if off.is_empty() {
            Verdict::pass(db.meta, format!("{param} requires TLS in {}", db.parameter_groups.join(", ")), observed)
        } else {
            let expected = json!({ param: "1 (ON) in every parameter group" });
            Verdict::fail(db.meta, format!("plaintext connections are accepted: parameter group {}", off.join(", ")), observed, expected)
        }
    })
}

fn master_username(state: &State, _: &Params) -> Vec<Verdict> {
    databases(state, |db| {
        let Some(user) = db.master_username else {
            return Verdict::error(db.meta, format!("{} reports no master username", db.kind));
        };
        let observed = json!({"master_username": user});
        if DEFAULT_USERNAMES.iter().any(|d| d.eq_ignore_ascii_case(user)) {
            Verdict::fail(
                db.meta,
                format!("master username {user:?} is a well-known default"),
                observed,
                json!({"master_username": "not one of the well-known defaults"}),
            )
        } else {
            Verdict::pass(db.meta, "master username is not a well-known default", observed)
        }
    })
}

/// Where one member of a cluster runs, read from the instance itself, and its role.
struct Placed<'a> {
    id: &'a str,
    zone: Result<&'a str, String>,
    writer: Result<bool, String>,
}

/// The members of a cluster with their zones (from DescribeDBInstances) and roles (from
/// DBClusterMembers[].IsClusterWriter).
fn placed<'a>(state: &'a State, c: &'a DbCluster) -> Vec<Placed<'a>> {
    c.members
        .iter()
        .map(|m| {
            let id = m.instance_id.as_str();
            let zone = match state.rds.instances.by_id(id).into_iter().find(|i| i.meta.id == id && i.meta.region == c.meta.region) {
                Some(i) => i.availability_zone.get().map(String::as_str).map_err(|r| format!("{id}: {r}")),
                None => Err(match state.rds.instances.failed_in(&c.meta.region) {
                    Some(reason) => format!("{id}: DB instances could not be listed in {}: {reason}", c.meta.region),
                    None => format!("{id} is not in the State"),
                }),
            };
            Placed { id, zone, writer: m.writer.get().copied().map_err(|r| format!("{id}: {r}")) }
        })
        .collect()
}

/// A cluster (Aurora, or a Multi-AZ DB cluster) survives the loss of a zone when a reader runs
/// in another Availability Zone than the writer, so it can be promoted. Judged by the members'
/// own zones and roles, never by the cluster's MultiAZ flag (moto reports it either way; it is
/// kept as evidence only). Pass as soon as one such reader is known; fail only when every
/// member's zone and role is known; otherwise error.
fn cluster_availability(state: &State, meta: &Meta, c: &DbCluster) -> Verdict {
    let members = placed(state, c);
    let writers: Vec<&Placed> = members.iter().filter(|m| m.writer == Ok(true)).collect();
    let readers: Vec<&Placed> = members.iter().filter(|m| m.writer == Ok(false)).collect();
    let zone_list = |ms: &[&Placed]| ms.iter().filter_map(|m| m.zone.as_ref().ok().map(|z| format!("{} ({z})", m.id))).collect::<Vec<_>>();
    let observed = json!({
        "writer": zone_list(&writers),
        "readers": zone_list(&readers),
        "multi_az_flag": c.multi_az.known(),
    });
    let expected = json!({"reader_in_another_availability_zone_than_the_writer": true});
    let standby = writers.iter().find_map(|w| {
        let wz = w.zone.as_ref().ok()?;
        readers.iter().find(|r| r.zone.as_ref().is_ok_and(|rz| rz != wz)).map(|r| (w, r))
    });
    if let Some((w, r)) = standby {
        let (wz, rz) = (w.zone.as_deref().unwrap_or_default(), r.zone.as_deref().unwrap_or_default());
        return Verdict::pass(meta, format!("writer {} runs in {wz} and reader {} in {rz}: a reader in another zone can take over", w.id, r.id), observed);
    }
    let unknown: Vec<String> = members.iter().flat_map(|m| [m.zone.as_ref().err().cloned(), m.writer.as_ref().err().cloned()]).flatten().collect();
    if !unknown.is_empty() {
        return Verdict::error(meta, format!("the zones or roles of cluster members are unknown: {}", unknown.join("; ")));
    }
    let why = if members.is_empty() {
        format!("cluster {} has no DB instances", meta.id)
    } else if writers.is_empty() {
        format!("cluster {} has no writer instance", meta.id)
    } else if readers.is_empty() {
        format!("cluster {} has only its writer ({}): no reader to fail over to", meta.id, zone_list(&writers).join(", "))
    } else {
        format!("every reader of cluster {} runs in the writer's Availability Zone ({})", meta.id, zone_list(&members.iter().collect::<Vec<_>>()).join(", "))
    };
    Verdict::fail(meta, why, observed, expected)
}

/// A standalone instance: a Multi-AZ deployment (a standby in another zone). A cluster: a
/// reader in another Availability Zone than the writer ([`cluster_availability`]).
fn multi_az(state: &State, _: &Params) -> Vec<Verdict> {
    databases(state, |db| match db.source {
        Source::Instance(i) => {
            let multi = *known!(db.meta, i.multi_az, "MultiAZ");
            let observed = json!({"multi_az": multi});
            if multi {
                Verdict::pass(db.meta, "instance is a Multi-AZ deployment", observed)
            } else {
                Verdict::fail(db.meta, format!("instance {} runs in a single Availability Zone", db.meta.id), observed, json!({"multi_az": true}))
            }
        }
        Source::Cluster(c) => cluster_availability(state, db.meta, c),
    })
}

/// The master password is managed by RDS in Secrets Manager (`MasterUserSecret` reported: RDS
/// generated it, nobody typed or stored it elsewhere, and RDS can rotate it), encrypted with a
/// customer-managed key (the shared key resolver: RDS reports the AWS-managed
/// `aws/secretsmanager` key as a key ARN too), and not `impaired` (RDS can no longer rotate
/// it: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_MasterUserSecret.html).
/// For Aurora the cluster holds the secret; its members defer to it.
fn master_credentials_managed(state: &State, _: &Params) -> Vec<Verdict> {
    databases(state, |db| {
        let secret = match db.source {
            Source::Instance(i) => i.master_user_secret.as_ref(),
            Source::Cluster(c) => c.master_user_secret.as_ref(),
        };
        let expected = json!({"master_user_secret": {"status": "active", "kms_key_id": "a customer-managed KMS key"}});
        let Some(secret) = secret else {
            return Verdict::fail(
                db.meta,
                format!("the master password of {} {} is not managed by RDS in Secrets Manager (ManageMasterUserPassword is off)", db.kind, db.meta.id),
                json!({"master_user_secret": null}),
                expected,
            );
        };
        let key = known!(db.meta, secret.kms_key_id, "MasterUserSecret.KmsKeyId");
        let status = known!(db.meta, secret.status, "MasterUserSecret.SecretStatus");
        let observed = json!({"master_user_secret": {"secret_arn": secret.secret_arn.known(), "status": status, "kms_key_id": key}});
        if status.eq_ignore_ascii_case("impaired") {
            return Verdict::fail(
                db.meta,
                format!(
                    "the master user secret of {} {} is impaired: RDS can no longer rotate it (it lost access to the secret or its key)",
                    db.kind, db.meta.id
                ),
                observed,
                expected,
            );
        }
        customer_key_verdict(state, db.meta, &format!("the RDS-managed master user secret of {} {}", db.kind, db.meta.id), key, observed, expected)
    })
}

fn deletion_protection(state: &State, _: &Params) -> Vec<Verdict> {
    databases(state, |db| {
        let on = *known!(db.meta, db.deletion_protection, "DeletionProtection");
        let observed = json!({"deletion_protection": on});
        if on {
            Verdict::pass(db.meta, "deletion protection is enabled", observed)
        } else {
            Verdict::fail(
                db.meta,
                format!("{} {} can be deleted in one call: deletion protection is off", db.kind, db.meta.id),
                observed,
                json!({"deletion_protection": true}),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::controls::testing::{eval, fixture};
    use crate::controls::{registry, Catalogue, Params};
    use crate::finding::Status;
    use crate::model::rds::{ClusterMember, DbCluster, DbInstance, MasterUserSecret, Parameter, ServerlessV2Scaling};
    use crate::model::{Meta, Observed, State};
    use std::collections::BTreeMap;

    fn db(s: &mut State) -> &mut DbInstance {
        s.rds.instances.items.values_mut().next().expect("instance in fixture")
    }

    fn unlisted() -> State {
        crate::controls::testing::unlisted(|s| &mut s.rds.instances)
    }

    /// Every status a control yields, not_applicable included.
    fn statuses(id: &str, s: &State) -> Vec<Status> {
        let cat = Catalogue::load().unwrap();
        let fws: Vec<String> = cat.frameworks.keys().cloned().collect();
        let params = Params(cat.parameters(&cat.controls[id], &fws, &BTreeMap::new()));
        registry()[id](s, &params).into_iter().map(|v| v.status).collect()
    }

    /// The TLS parameter of every parameter group in the State.
    fn set_tls(s: &mut State, param: &str, value: Option<&str>) {
        s.rds.parameter_groups.items.values_mut().for_each(|g| {
            let mut m = BTreeMap::new();
            m.insert(
                param.to_string(),
                Parameter { value: value.map(str::to_string), source: Some(if value.is_some() { "user" } else { "engine-default" }.into()) },
            );
            g.tls_parameters = Observed::Known(m);
        });
    }

    /// The fixture with its instance turned into an Aurora cluster of two members (us-east-1a and
    /// us-east-1b), whose settings are copied from the instance (so compliant), and the members'
    /// own settings cleared.
    fn aurora() -> State {
        let mut s = fixture();
        let i = db(&mut s).clone();
        let arn = "arn:aws:rds:us-east-1:123456789012:cluster:tapaudit-dev-aurora".to_string();
        let cluster = DbCluster {
            meta: Meta { resource_type: "rds:db-cluster".into(), id: "tapaudit-dev-aurora".into(), arn: arn.clone(), ..i.meta.clone() },
            engine: "aurora-postgresql".into(),
            engine_version: "16.4".into(),
            status: "available".into(),
            storage_encrypted: Observed::Known(true),
            kms_key_id: i.kms_key_id.clone(),
            publicly_accessible: None,
            backup_retention_days: Observed::Known(7),
            backup_window: i.backup_window.clone(),
            log_exports: vec!["postgresql".into()],
            // as moto reports it: the members decide
            multi_az: Observed::Known(false),
            deletion_protection: Observed::Known(true),
            master_username: Some("pipeline_owner".into()),
            subnet_group: i.subnet_group.clone(),
            security_groups: i.security_groups.clone(),
            parameter_group: Some("tapaudit-dev-aurora-pg16".into()),
            members: vec![writer(&i.meta.id), reader("tapaudit-dev-aurora-2")],
            availability_zones: vec!["us-east-1a".into(), "us-east-1b".into()],
            serverless_v2: Some(ServerlessV2Scaling { min_acu: Observed::Known(0.5), max_acu: Observed::Known(2.0) }),
            master_user_secret: i.master_user_secret.clone(),
            iam_auth: Observed::Known(true),
            copy_tags_to_snapshot: Observed::Known(true),
        };
        s.rds.clusters.items.insert(arn, cluster);
        let mut pg = s.rds.parameter_groups.items.values().next().unwrap().clone();
        pg.meta.id = "tapaudit-dev-aurora-pg16".into();
        pg.meta.name = Some("tapaudit-dev-aurora-pg16".into());
        pg.meta.arn = "arn:aws:rds:us-east-1:123456789012:cluster-pg:tapaudit-dev-aurora-pg16".into();
        pg.scope = "cluster".into();
        pg.family = Observed::Known("aurora-postgresql16".into());
        s.rds.parameter_groups.items.insert(pg.meta.arn.clone(), pg);
        let m = db(&mut s);
        m.cluster_id = Some("tapaudit-dev-aurora".into());
        m.engine = "aurora-postgresql".into();
        m.storage_encrypted = Observed::Known(false);
        m.kms_key_id = None;
        m.backup_retention_days = Observed::Known(0);
        m.log_exports.clear();
        m.multi_az = Observed::Known(false);
        m.deletion_protection = Observed::Known(false);
        m.master_username = None;
        m.availability_zone = Observed::Known("us-east-1a".into());
        m.parameter_groups = vec!["default.aurora-postgresql16".into()];
        m.instance_class = "db.serverless".into();
        // as DescribeDBInstances reports Aurora members: the secret is the cluster's
        m.master_user_secret = None;
        let mut second = m.clone();
        second.meta.id = "tapaudit-dev-aurora-2".into();
        second.meta.name = Some("tapaudit-dev-aurora-2".into());
        second.meta.arn = "arn:aws:rds:us-east-1:123456789012:db:tapaudit-dev-aurora-2".into();
        second.availability_zone = Observed::Known("us-east-1b".into());
        s.rds.instances.insert(second);
        s
    }

    fn writer(id: &str) -> ClusterMember {
        ClusterMember { instance_id: id.into(), writer: Observed::Known(true) }
    }

    fn reader(id: &str) -> ClusterMember {
        ClusterMember { instance_id: id.into(), writer: Observed::Known(false) }
    }

    fn cluster(s: &mut State) -> &mut DbCluster {
        s.rds.clusters.items.values_mut().next().expect("cluster")
    }

    fn member<'a>(s: &'a mut State, id: &str) -> &'a mut DbInstance {
        s.rds.instances.items.values_mut().find(|i| i.meta.id == id).expect("member")
    }

    // ---------- rds-storage-encrypted-cmk ----------

    #[test]
    fn encrypted_cmk() {
        assert_eq!(eval("rds-storage-encrypted-cmk", &fixture()), vec![Status::Pass]);

        let mut plain = fixture();
        db(&mut plain).storage_encrypted = Observed::Known(false);
        db(&mut plain).kms_key_id = None;
        assert_eq!(eval("rds-storage-encrypted-cmk", &plain), vec![Status::Fail]);

        let mut alias = fixture();
        db(&mut alias).kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:alias/aws/rds".into());
        assert_eq!(eval("rds-storage-encrypted-cmk", &alias), vec![Status::Fail]);

        // the aws/rds key as RDS reports it: a key ARN, known to the State as AWS-managed
        let mut managed = fixture();
        managed.kms.keys.items.values_mut().for_each(|k| {
            k.manager = Observed::Known(crate::model::kms::Manager::Aws);
            k.aliases = Observed::Known(vec!["alias/aws/rds".into()]);
        });
        assert_eq!(eval("rds-storage-encrypted-cmk", &managed), vec![Status::Fail]);

        let mut unread = fixture();
        unread.kms.keys.items.values_mut().for_each(|k| k.manager = Observed::Unknown("kms:DescribeKey failed: AccessDenied".into()));
        assert_eq!(eval("rds-storage-encrypted-cmk", &unread), vec![Status::Error]);

        // a same-account key the complete KMS listing does not have: it does not exist
        let mut gone = fixture();
        db(&mut gone).kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:key/99999999-8888-7777-6666-555555555555".into());
        assert_eq!(eval("rds-storage-encrypted-cmk", &gone), vec![Status::Fail]);
        // a key in a region that was not scanned cannot be judged
        let mut elsewhere = fixture();
        db(&mut elsewhere).kms_key_id = Some("arn:aws:kms:eu-west-1:123456789012:key/99999999-8888-7777-6666-555555555555".into());
        assert_eq!(eval("rds-storage-encrypted-cmk", &elsewhere), vec![Status::Error]);

        let keys_unlisted = crate::controls::testing::unlisted(|s| &mut s.kms.keys);
        assert_eq!(eval("rds-storage-encrypted-cmk", &keys_unlisted), vec![Status::Error]);

        // StorageEncrypted not reported: never a pass
        let mut unreported = fixture();
        db(&mut unreported).storage_encrypted = Observed::Unknown("DescribeDBInstances did not report StorageEncrypted".into());
        assert_eq!(eval("rds-storage-encrypted-cmk", &unreported), vec![Status::Error]);

        assert_eq!(eval("rds-storage-encrypted-cmk", &unlisted()), vec![Status::Error]);
    }

    // ---------- rds-not-publicly-accessible ----------

    #[test]
    fn public_access() {
        assert_eq!(eval("rds-not-publicly-accessible", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        db(&mut bad).publicly_accessible = Observed::Known(true);
        assert_eq!(eval("rds-not-publicly-accessible", &bad), vec![Status::Fail]);
        // per instance, also for Aurora members
        let mut m = aurora();
        member(&mut m, "tapaudit-dev-aurora-2").publicly_accessible = Observed::Known(true);
        assert_eq!(eval("rds-not-publicly-accessible", &m), vec![Status::Fail, Status::Pass]);
        // not reported: an error, not "private"
        let mut unreported = fixture();
        db(&mut unreported).publicly_accessible = Observed::Unknown("DescribeDBInstances did not report PubliclyAccessible".into());
        assert_eq!(eval("rds-not-publicly-accessible", &unreported), vec![Status::Error]);
        assert_eq!(eval("rds-not-publicly-accessible", &unlisted()), vec![Status::Error]);
    }

    // ---------- rds-private-subnets-only ----------

    #[test]
    fn private_subnets() {
        assert_eq!(eval("rds-private-subnets-only", &fixture()), vec![Status::Pass]);

        let mut public = fixture();
        db(&mut public).subnet_ids.push("subnet-0a1b2c3d4e5f60011".into());
        assert_eq!(eval("rds-private-subnets-only", &public), vec![Status::Fail]);

        // the private route table gains a default route to the IGW
        let mut routed = fixture();
        routed.ec2.route_tables.items.values_mut().filter(|rt| rt.meta.logical_id() == Some("private-route-table-1")).for_each(|rt| {
            rt.routes.retain(|r| r.destination != "0.0.0.0/0");
            rt.routes.push(crate::model::ec2::Route { destination: "0.0.0.0/0".into(), target: "igw-0d1e2f3a4b5c60001".into() });
        });
        assert_eq!(eval("rds-private-subnets-only", &routed), vec![Status::Fail]);

        // subnet ids not reported: the subnet group supplies them
        let mut from_group = fixture();
        db(&mut from_group).subnet_ids.clear();
        assert_eq!(eval("rds-private-subnets-only", &from_group), vec![Status::Pass]);

        let tables_unlisted = crate::controls::testing::unlisted(|s| &mut s.ec2.route_tables);
        assert_eq!(eval("rds-private-subnets-only", &tables_unlisted), vec![Status::Error]);

        let mut nothing = fixture();
        db(&mut nothing).subnet_ids.clear();
        db(&mut nothing).subnet_group = None;
        assert_eq!(eval("rds-private-subnets-only", &nothing), vec![Status::Error]);

        assert_eq!(eval("rds-private-subnets-only", &unlisted()), vec![Status::Error]);
    }

    // ---------- rds-backup-retention ----------

    #[test]
    fn backups() {
        assert_eq!(eval("rds-backup-retention", &fixture()), vec![Status::Pass]);
        let mut short = fixture();
        db(&mut short).backup_retention_days = Observed::Known(6);
        assert_eq!(eval("rds-backup-retention", &short), vec![Status::Fail]);
        let mut off = fixture();
        db(&mut off).backup_retention_days = Observed::Known(0);
        assert_eq!(eval("rds-backup-retention", &off), vec![Status::Fail]);
        let mut unreported = fixture();
        db(&mut unreported).backup_retention_days = Observed::Unknown("DescribeDBInstances did not report BackupRetentionPeriod".into());
        assert_eq!(eval("rds-backup-retention", &unreported), vec![Status::Error]);
        assert_eq!(eval("rds-backup-retention", &unlisted()), vec![Status::Error]);
    }

    // ---------- rds-log-exports-enabled ----------

    #[test]
    fn logs() {
        assert_eq!(eval("rds-log-exports-enabled", &fixture()), vec![Status::Pass]);
        let mut none = fixture();
        db(&mut none).log_exports.clear();
        assert_eq!(eval("rds-log-exports-enabled", &none), vec![Status::Fail]);
        let mut upgrade_only = fixture();
        db(&mut upgrade_only).log_exports = vec!["upgrade".into()];
        assert_eq!(eval("rds-log-exports-enabled", &upgrade_only), vec![Status::Fail]);
        // other engines: any export will do
        let mut mysql = fixture();
        db(&mut mysql).engine = "mysql".into();
        db(&mut mysql).log_exports = vec!["audit".into(), "error".into()];
        assert_eq!(eval("rds-log-exports-enabled", &mysql), vec![Status::Pass]);
        assert_eq!(eval("rds-log-exports-enabled", &unlisted()), vec![Status::Error]);
    }

    // ---------- rds-force-ssl ----------

    #[test]
    fn force_ssl_postgres() {
        assert_eq!(eval("rds-force-ssl", &fixture()), vec![Status::Pass]);

        let mut zero = fixture();
        set_tls(&mut zero, "rds.force_ssl", Some("0"));
        assert_eq!(eval("rds-force-ssl", &zero), vec![Status::Fail]);

        // PostgreSQL 16 left at the engine default: on (documented default from version 15)
        let mut default16 = fixture();
        set_tls(&mut default16, "rds.force_ssl", None);
        assert_eq!(eval("rds-force-ssl", &default16), vec![Status::Pass]);
        // ...also when the listing does not contain the parameter at all
        let mut unlisted16 = fixture();
        unlisted16.rds.parameter_groups.items.values_mut().for_each(|g| g.tls_parameters = Observed::Known(BTreeMap::new()));
        assert_eq!(eval("rds-force-ssl", &unlisted16), vec![Status::Pass]);

        // adversarial: PostgreSQL 14 left at the default is off, whatever a newer version does
        let mut default14 = fixture();
        set_tls(&mut default14, "rds.force_ssl", None);
        db(&mut default14).engine_version = "14.12".into();
        assert_eq!(eval("rds-force-ssl", &default14), vec![Status::Fail]);
        let mut explicit14 = default14.clone();
        set_tls(&mut explicit14, "rds.force_ssl", Some("1"));
        assert_eq!(eval("rds-force-ssl", &explicit14), vec![Status::Pass]);

        // adversarial: require_secure_transport means nothing to PostgreSQL
        let mut wrong_param = fixture();
        set_tls(&mut wrong_param, "require_secure_transport", Some("1"));
        db(&mut wrong_param).engine_version = "14.12".into();
        assert_eq!(eval("rds-force-ssl", &wrong_param), vec![Status::Fail]);

        // a value that cannot be read as a switch: error
        let mut odd = fixture();
        set_tls(&mut odd, "rds.force_ssl", Some("{TrueIfReplica}"));
        assert_eq!(eval("rds-force-ssl", &odd), vec![Status::Error]);

        let mut unread = fixture();
        unread.rds.parameter_groups.items.values_mut().for_each(|g| g.tls_parameters = Observed::Unknown("AccessDenied".into()));
        assert_eq!(eval("rds-force-ssl", &unread), vec![Status::Error]);

        let mut missing = fixture();
        db(&mut missing).parameter_groups = vec!["default.postgres16".into()];
        assert_eq!(eval("rds-force-ssl", &missing), vec![Status::Error]);

        let mut groups_unlisted = fixture();
        groups_unlisted.rds.parameter_groups.items.clear();
        groups_unlisted.rds.parameter_groups.fail("us-east-1", "Throttling");
        assert_eq!(eval("rds-force-ssl", &groups_unlisted), vec![Status::Error]);

        assert_eq!(eval("rds-force-ssl", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn force_ssl_mysql_and_mariadb() {
        let mysql = |version: &str, value: Option<&str>| {
            let mut s = fixture();
            db(&mut s).engine = "mysql".into();
            db(&mut s).engine_version = version.into();
            set_tls(&mut s, "require_secure_transport", value);
            s
        };
        assert_eq!(eval("rds-force-ssl", &mysql("8.0.39", None)), vec![Status::Fail], "default OFF");
        assert_eq!(eval("rds-force-ssl", &mysql("8.0.39", Some("0"))), vec![Status::Fail]);
        assert_eq!(eval("rds-force-ssl", &mysql("8.0.39", Some("1"))), vec![Status::Pass]);
        assert_eq!(eval("rds-force-ssl", &mysql("8.4.3", Some("ON"))), vec![Status::Pass]);
        assert_eq!(eval("rds-force-ssl", &mysql("9.7.0", None)), vec![Status::Pass], "9.7 defaults to ON");
        assert_eq!(eval("rds-force-ssl", &mysql("9.1.0", None)), vec![Status::Error], "undocumented default");
        // adversarial: rds.force_ssl = 1 does nothing for MySQL
        let mut wrong = mysql("8.0.39", None);
        set_tls(&mut wrong, "rds.force_ssl", Some("1"));
        assert_eq!(eval("rds-force-ssl", &wrong), vec![Status::Fail]);

        let mut mariadb = mysql("10.11.8", None);
        db(&mut mariadb).engine = "mariadb".into();
        assert_eq!(eval("rds-force-ssl", &mariadb), vec![Status::Fail]);
        set_tls(&mut mariadb, "require_secure_transport", Some("1"));
        assert_eq!(eval("rds-force-ssl", &mariadb), vec![Status::Pass]);
    }

    #[test]
    fn force_ssl_other_engines_are_errors_not_passes() {
        let mut oracle = fixture();
        db(&mut oracle).engine = "oracle-ee".into();
        assert_eq!(eval("rds-force-ssl", &oracle), vec![Status::Error]);
        let mut sqlserver = fixture();
        db(&mut sqlserver).engine = "sqlserver-se".into();
        db(&mut sqlserver).engine_version = "15.00.4415.2.v1".into();
        set_tls(&mut sqlserver, "rds.force_ssl", None);
        assert_eq!(eval("rds-force-ssl", &sqlserver), vec![Status::Error], "default not known");
        set_tls(&mut sqlserver, "rds.force_ssl", Some("1"));
        assert_eq!(eval("rds-force-ssl", &sqlserver), vec![Status::Pass]);
    }

    #[test]
    fn force_ssl_aurora_cluster_parameter_group_decides() {
        // Aurora PostgreSQL left at the default: off (unlike RDS for PostgreSQL 16)
        let mut s = aurora();
        set_tls(&mut s, "rds.force_ssl", None);
        assert_eq!(eval("rds-force-ssl", &s), vec![Status::Fail]);
        // the cluster parameter group sets it
        let mut on = aurora();
        set_tls(&mut on, "rds.force_ssl", Some("1"));
        assert_eq!(eval("rds-force-ssl", &on), vec![Status::Pass]);
        // Aurora MySQL reads require_secure_transport from the cluster parameter group
        let mut my = aurora();
        cluster(&mut my).engine = "aurora-mysql".into();
        cluster(&mut my).engine_version = "8.0.mysql_aurora.3.05.2".into();
        set_tls(&mut my, "require_secure_transport", None);
        assert_eq!(eval("rds-force-ssl", &my), vec![Status::Fail]);
        set_tls(&mut my, "require_secure_transport", Some("ON"));
        assert_eq!(eval("rds-force-ssl", &my), vec![Status::Pass]);
        // a cluster with no cluster parameter group reported
        let mut none = aurora();
        cluster(&mut none).parameter_group = None;
        assert_eq!(eval("rds-force-ssl", &none), vec![Status::Error]);
    }

    // ---------- rds-master-username-not-default ----------

    #[test]
    fn username() {
        assert_eq!(eval("rds-master-username-not-default", &fixture()), vec![Status::Pass]);
        for name in ["postgres", "Admin", "ROOT", "sa"] {
            let mut bad = fixture();
            db(&mut bad).master_username = Some(name.into());
            assert_eq!(eval("rds-master-username-not-default", &bad), vec![Status::Fail], "{name}");
        }
        let mut similar = fixture();
        db(&mut similar).master_username = Some("postgres_owner".into());
        assert_eq!(eval("rds-master-username-not-default", &similar), vec![Status::Pass]);
        let mut unreported = fixture();
        db(&mut unreported).master_username = None;
        assert_eq!(eval("rds-master-username-not-default", &unreported), vec![Status::Error]);
        assert_eq!(eval("rds-master-username-not-default", &unlisted()), vec![Status::Error]);
    }

    // ---------- rds-multi-az / rds-deletion-protection ----------

    #[test]
    fn multi_az() {
        assert_eq!(eval("rds-multi-az", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        db(&mut bad).multi_az = Observed::Known(false);
        assert_eq!(eval("rds-multi-az", &bad), vec![Status::Fail]);
        let mut unreported = fixture();
        db(&mut unreported).multi_az = Observed::Unknown("DescribeDBInstances did not report MultiAZ".into());
        assert_eq!(eval("rds-multi-az", &unreported), vec![Status::Error]);
        assert_eq!(eval("rds-multi-az", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn aurora_availability_is_its_members_zones() {
        // two members in two zones pass although the cluster's MultiAZ flag says false
        assert_eq!(eval("rds-multi-az", &aurora()), vec![Status::Pass]);
        // adversarial: the flag says true, but both members run in us-east-1a
        let mut one_zone = aurora();
        cluster(&mut one_zone).multi_az = Observed::Known(true);
        member(&mut one_zone, "tapaudit-dev-aurora-2").availability_zone = Observed::Known("us-east-1a".into());
        assert_eq!(eval("rds-multi-az", &one_zone), vec![Status::Fail]);
        // adversarial: the cluster's subnet group spans two zones, but it has one instance
        let mut single = aurora();
        cluster(&mut single).members.truncate(1);
        assert_eq!(eval("rds-multi-az", &single), vec![Status::Fail]);
        // a member's zone not reported, and the known one alone: error
        let mut unknown = aurora();
        member(&mut unknown, "tapaudit-dev-aurora-2").availability_zone = Observed::Unknown("DescribeDBInstances did not report AvailabilityZone".into());
        assert_eq!(eval("rds-multi-az", &unknown), vec![Status::Error]);
        // a member that is not in the State
        let mut absent = aurora();
        cluster(&mut absent).members.push(reader("tapaudit-dev-aurora-3"));
        member(&mut absent, "tapaudit-dev-aurora-2").availability_zone = Observed::Known("us-east-1a".into());
        assert_eq!(eval("rds-multi-az", &absent), vec![Status::Error]);
        // ...but two known zones already decide
        let mut decided = aurora();
        cluster(&mut decided).members.push(reader("tapaudit-dev-aurora-3"));
        assert_eq!(eval("rds-multi-az", &decided), vec![Status::Pass]);
        let mut empty = aurora();
        cluster(&mut empty).members.clear();
        assert_eq!(eval("rds-multi-az", &empty), vec![Status::Fail]);
    }

    #[test]
    fn aurora_availability_is_a_reader_away_from_the_writer() {
        // writer in 1a, a reader in 1a and one in 1b: the one in 1b can take over
        let mut third = aurora();
        let mut m = member(&mut third, "tapaudit-dev-aurora-2").clone();
        m.meta.id = "tapaudit-dev-aurora-3".into();
        m.meta.arn = "arn:aws:rds:us-east-1:123456789012:db:tapaudit-dev-aurora-3".into();
        member(&mut third, "tapaudit-dev-aurora-2").availability_zone = Observed::Known("us-east-1a".into());
        third.rds.instances.insert(m);
        cluster(&mut third).members.push(reader("tapaudit-dev-aurora-3"));
        assert_eq!(eval("rds-multi-az", &third), vec![Status::Pass]);
        // adversarial: two instances in two zones, but both report being readers (no writer)
        let mut no_writer = aurora();
        cluster(&mut no_writer).members[0].writer = Observed::Known(false);
        assert_eq!(eval("rds-multi-az", &no_writer), vec![Status::Fail]);
        // roles not reported: the zones alone do not decide
        let mut roles = aurora();
        cluster(&mut roles).members[0].writer = Observed::Unknown("DescribeDBClusters did not report DBClusterMembers[].IsClusterWriter".into());
        assert_eq!(eval("rds-multi-az", &roles), vec![Status::Error]);
        // the writer's zone unknown, the readers spread: still unknown
        let mut writer_zone = aurora();
        let w = cluster(&mut writer_zone).members[0].instance_id.clone();
        member(&mut writer_zone, &w).availability_zone = Observed::Unknown("DescribeDBInstances did not report AvailabilityZone".into());
        assert_eq!(eval("rds-multi-az", &writer_zone), vec![Status::Error]);
    }

    // ---------- rds-master-credentials-managed ----------

    fn managed_secret(key: &str) -> MasterUserSecret {
        MasterUserSecret {
            secret_arn: Observed::Known("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0f1e2d3c-aaaa-bbbb-cccc-000000000001-AbCdEf".into()),
            kms_key_id: Observed::Known(key.into()),
            status: Observed::Known("active".into()),
        }
    }

    #[test]
    fn master_credentials_managed() {
        const ID: &str = "rds-master-credentials-managed";
        assert_eq!(eval(ID, &fixture()), vec![Status::Pass]);
        let mut unmanaged = fixture();
        db(&mut unmanaged).master_user_secret = None;
        assert_eq!(eval(ID, &unmanaged), vec![Status::Fail]);
        // adversarial: managed, but under the AWS-managed aws/secretsmanager key, by alias or
        // by the key ARN RDS reports (known to the State as AWS-managed)
        let mut alias = fixture();
        db(&mut alias).master_user_secret = Some(managed_secret("arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager"));
        assert_eq!(eval(ID, &alias), vec![Status::Fail]);
        let mut aws_key = fixture();
        aws_key.kms.keys.items.values_mut().for_each(|k| {
            k.manager = Observed::Known(crate::model::kms::Manager::Aws);
            k.aliases = Observed::Known(vec!["alias/aws/secretsmanager".into()]);
        });
        assert_eq!(eval(ID, &aws_key), vec![Status::Fail]);
        // a secret RDS can no longer rotate
        let mut impaired = fixture();
        if let Some(sec) = db(&mut impaired).master_user_secret.as_mut() {
            sec.status = Observed::Known("impaired".into());
        }
        assert_eq!(eval(ID, &impaired), vec![Status::Fail]);
        // evidence not read
        let mut no_key = fixture();
        if let Some(sec) = db(&mut no_key).master_user_secret.as_mut() {
            sec.kms_key_id = Observed::Unknown("DescribeDBInstances did not report MasterUserSecret.KmsKeyId".into());
        }
        assert_eq!(eval(ID, &no_key), vec![Status::Error]);
        let keys_unlisted = crate::controls::testing::unlisted(|s| &mut s.kms.keys);
        assert_eq!(eval(ID, &keys_unlisted), vec![Status::Error]);
        assert_eq!(eval(ID, &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn master_credentials_of_aurora_are_the_clusters() {
        const ID: &str = "rds-master-credentials-managed";
        // members report no secret (it is the cluster's): not failed, not passed
        assert_eq!(statuses(ID, &aurora()), vec![Status::NotApplicable, Status::NotApplicable, Status::Pass]);
        // adversarial: a member reports a managed secret, the cluster does not: the cluster fails
        let mut s = aurora();
        let secret = cluster(&mut s).master_user_secret.take();
        member(&mut s, "tapaudit-dev-aurora-2").master_user_secret = secret;
        assert_eq!(statuses(ID, &s), vec![Status::NotApplicable, Status::NotApplicable, Status::Fail]);
    }

    #[test]
    fn deletion_protection() {
        assert_eq!(eval("rds-deletion-protection", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        db(&mut bad).deletion_protection = Observed::Known(false);
        assert_eq!(eval("rds-deletion-protection", &bad), vec![Status::Fail]);
        let mut unreported = fixture();
        db(&mut unreported).deletion_protection = Observed::Unknown("DescribeDBInstances did not report DeletionProtection".into());
        assert_eq!(eval("rds-deletion-protection", &unreported), vec![Status::Error]);
        assert_eq!(eval("rds-deletion-protection", &unlisted()), vec![Status::Error]);
    }

    // ---------- engines that are not RDS databases ----------

    #[test]
    fn documentdb_and_neptune_are_out_of_scope() {
        for engine in ["docdb", "neptune"] {
            let mut s = fixture();
            db(&mut s).engine = engine.into();
            // and as bad as can be: not one control judges it
            db(&mut s).publicly_accessible = Observed::Known(true);
            db(&mut s).storage_encrypted = Observed::Known(false);
            for (id, _) in super::CONTROLS {
                assert_eq!(statuses(id, &s), vec![Status::NotApplicable], "{id} on {engine}");
            }
        }
        // a DocumentDB cluster too
        let mut s = aurora();
        cluster(&mut s).engine = "docdb".into();
        cluster(&mut s).deletion_protection = Observed::Known(false);
        assert_eq!(statuses("rds-deletion-protection", &s), vec![Status::NotApplicable, Status::NotApplicable, Status::NotApplicable]);
        // an engine tapaudit does not know stays in scope
        let mut unknown = fixture();
        db(&mut unknown).engine = "cassandra".into();
        assert_eq!(eval("rds-deletion-protection", &unknown), vec![Status::Pass]);
        assert_eq!(eval("rds-force-ssl", &unknown), vec![Status::Error]);
    }

    // ---------- Aurora ----------

    const CLUSTER_LEVEL: &[&str] = &[
        "rds-storage-encrypted-cmk",
        "rds-backup-retention",
        "rds-log-exports-enabled",
        "rds-force-ssl",
        "rds-master-username-not-default",
        "rds-multi-az",
        "rds-deletion-protection",
        "rds-master-credentials-managed",
    ];

    #[test]
    fn aurora_members_defer_to_their_cluster() {
        // the members' own (non-compliant) values are ignored: only the cluster is judged
        let mut s = aurora();
        set_tls(&mut s, "rds.force_ssl", Some("1"));
        for id in CLUSTER_LEVEL {
            assert_eq!(eval(id, &s), vec![Status::Pass], "{id}");
        }
        assert_eq!(eval("rds-private-subnets-only", &s), vec![Status::Pass, Status::Pass]);
        assert_eq!(eval("rds-not-publicly-accessible", &s), vec![Status::Pass, Status::Pass]);
    }

    #[test]
    fn aurora_cluster_settings_fail_on_the_cluster() {
        type Breaker = (&'static str, fn(&mut DbCluster));
        let breakers: &[Breaker] = &[
            ("rds-storage-encrypted-cmk", |c| c.storage_encrypted = Observed::Known(false)),
            ("rds-backup-retention", |c| c.backup_retention_days = Observed::Known(1)),
            ("rds-log-exports-enabled", |c| c.log_exports.clear()),
            ("rds-force-ssl", |c| c.parameter_group = Some("default.aurora-postgresql16".into())),
            ("rds-master-username-not-default", |c| c.master_username = Some("postgres".into())),
            ("rds-multi-az", |c| c.members.truncate(1)),
            ("rds-deletion-protection", |c| c.deletion_protection = Observed::Known(false)),
            ("rds-master-credentials-managed", |c| c.master_user_secret = None),
        ];
        for (id, breaks) in breakers {
            let mut s = aurora();
            set_tls(&mut s, "rds.force_ssl", Some("1"));
            breaks(cluster(&mut s));
            let expect = if *id == "rds-force-ssl" { Status::Error } else { Status::Fail };
            assert_eq!(eval(id, &s), vec![expect], "{id}");
        }
    }

    #[test]
    fn aurora_member_without_its_cluster_is_an_error() {
        let mut s = aurora();
        s.rds.clusters.items.clear();
        for id in CLUSTER_LEVEL {
            assert_eq!(eval(id, &s), vec![Status::Error, Status::Error], "{id}");
        }
        let mut unlisted = aurora();
        unlisted.rds.clusters.items.clear();
        unlisted.rds.clusters.fail("us-east-1", "AccessDenied");
        assert_eq!(eval("rds-multi-az", &unlisted), vec![Status::Error, Status::Error, Status::Error]);
    }
}
