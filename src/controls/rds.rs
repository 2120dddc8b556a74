//! RDS controls.
//!
//! Aurora (and Multi-AZ DB cluster) members take storage encryption, backups, log exports,
//! Multi-AZ, deletion protection, the master user and the TLS parameter from their cluster, so
//! those controls judge standalone instances and clusters, and mark members not applicable (or
//! error when their cluster is missing from the State). Public accessibility and subnets stay per
//! instance.

use super::{customer_key_verdict, each, subnet_is_public, ControlFn, Params, Verdict};
use crate::model::rds::{DbCluster, DbInstance};
use crate::model::{Meta, State};
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
];

/// Well-known master user names (compared case-insensitively).
const DEFAULT_USERNAMES: &[&str] =
    &["admin", "administrator", "postgres", "root", "master", "sa", "rdsadmin", "user", "dbadmin", "dbuser", "awsuser", "mysql", "test"];

/// The owner of the database-level settings: a standalone instance or a cluster.
struct Db<'a> {
    meta: &'a Meta,
    kind: &'static str,
    engine: &'a str,
    storage_encrypted: bool,
    kms_key_id: Option<&'a str>,
    backup_retention_days: i32,
    log_exports: &'a [String],
    multi_az: bool,
    deletion_protection: bool,
    master_username: Option<&'a str>,
    /// Where `rds.force_ssl` lives: the instance's DB parameter groups, or the cluster parameter group.
    parameter_groups: Vec<&'a str>,
    parameter_scope: &'static str,
}

impl<'a> Db<'a> {
    fn instance(i: &'a DbInstance) -> Self {
        Db {
            meta: &i.meta,
            kind: "instance",
            engine: &i.engine,
            storage_encrypted: i.storage_encrypted,
            kms_key_id: i.kms_key_id.as_deref(),
            backup_retention_days: i.backup_retention_days,
            log_exports: &i.log_exports,
            multi_az: i.multi_az,
            deletion_protection: i.deletion_protection,
            master_username: i.master_username.as_deref(),
            parameter_groups: i.parameter_groups.iter().map(String::as_str).collect(),
            parameter_scope: "instance",
        }
    }

    fn cluster(c: &'a DbCluster) -> Self {
        Db {
            meta: &c.meta,
            kind: "cluster",
            engine: &c.engine,
            storage_encrypted: c.storage_encrypted,
            kms_key_id: c.kms_key_id.as_deref(),
            backup_retention_days: c.backup_retention_days,
            log_exports: &c.log_exports,
            multi_az: c.multi_az,
            deletion_protection: c.deletion_protection,
            master_username: c.master_username.as_deref(),
            parameter_groups: c.parameter_group.iter().map(String::as_str).collect(),
            parameter_scope: "cluster",
        }
    }
}

/// Judge every standalone instance and every cluster; cluster members defer to their cluster.
fn databases(state: &State, judge: impl Fn(&Db) -> Verdict) -> Vec<Verdict> {
    let clusters = &state.rds.clusters;
    let mut out = each(&state.rds.instances, "rds:db-instance", |i| match &i.cluster_id {
        None => judge(&Db::instance(i)),
        Some(c) if clusters.iter().any(|k| k.meta.id == *c || k.meta.arn == *c) => {
            Verdict::not_applicable(&i.meta, format!("member of cluster {c}: the cluster holds this setting"))
        }
        Some(c) => Verdict::error(&i.meta, format!("member of cluster {c}, which is not in the State: the cluster holds this setting")),
    });
    out.extend(each(clusters, "rds:db-cluster", |c| judge(&Db::cluster(c))));
    out
}

/// Encrypted, and with a customer-managed key (the shared key resolver decides: RDS reports the
/// AWS-managed `aws/rds` key as a key ARN too, so the key must be known to the State).
fn storage_encrypted_cmk(state: &State, _: &Params) -> Vec<Verdict> {
    databases(state, |db| {
        let observed = json!({"storage_encrypted": db.storage_encrypted, "kms_key_id": db.kms_key_id});
        let expected = json!({"storage_encrypted": true, "kms_key_id": "a customer-managed KMS key"});
        if !db.storage_encrypted {
            return Verdict::fail(db.meta, format!("{} {} storage is not encrypted", db.kind, db.meta.id), observed, expected);
        }
        let Some(key) = db.kms_key_id else {
            return Verdict::error(db.meta, format!("{} is encrypted but reports no KMS key", db.kind));
        };
        customer_key_verdict(state, db.meta, &format!("{} {} storage", db.kind, db.meta.id), key, observed, expected)
    })
}

fn not_publicly_accessible(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.rds.instances, "rds:db-instance", |i| {
        let observed = json!({"publicly_accessible": i.publicly_accessible});
        if i.publicly_accessible {
            Verdict::fail(&i.meta, format!("instance {} is publicly accessible: its endpoint resolves to a public address", i.meta.id), observed, json!({"publicly_accessible": false}))
        } else {
            Verdict::pass(&i.meta, "instance is not publicly accessible", observed)
        }
    })
}

/// Every subnet the instance may be placed in (its subnet group's) must be private: no route to
/// an internet gateway, by its explicit route table or else its VPC's main table.
fn private_subnets_only(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.rds.instances, "rds:db-instance", |i| {
        let group = i.subnet_group.as_deref().and_then(|g| state.rds.subnet_groups.iter().find(|sg| sg.meta.id == g || sg.meta.name.as_deref() == Some(g)));
        let subnets: Vec<&str> = if !i.subnet_ids.is_empty() {
            i.subnet_ids.iter().map(String::as_str).collect()
        } else if let Some(g) = group {
            g.subnet_ids.iter().map(String::as_str).collect()
        } else {
            return Verdict::error(&i.meta, format!("the subnets of instance {} are unknown (subnet group {})", i.meta.id, i.subnet_group.as_deref().unwrap_or("none")));
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
                format!("subnet group {} includes subnet(s) routed to an internet gateway: {}", i.subnet_group.as_deref().unwrap_or("(none)"), public.join(", ")),
                observed,
                json!({"public_subnets": []}),
            )
        }
    })
}

fn backup_retention(state: &State, params: &Params) -> Vec<Verdict> {
    let min = params.get("min_backup_retention_days");
    databases(state, |db| {
        let days = db.backup_retention_days;
        let observed = json!({"backup_retention_days": days});
        if i64::from(days) >= min {
            Verdict::pass(db.meta, format!("automated backups are kept {days} days (minimum {min})"), observed)
        } else if days == 0 {
            Verdict::fail(db.meta, format!("automated backups are disabled (retention 0, minimum {min} days)"), observed, json!({"backup_retention_days": format!(">= {min}")}))
        } else {
            Verdict::fail(db.meta, format!("automated backups are kept {days} days, below the {min}-day minimum"), observed, json!({"backup_retention_days": format!(">= {min}")}))
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
            return Verdict::fail(
                db.meta,
                format!("the postgresql log is not exported (exports: {})", db.log_exports.join(", ")),
                observed,
                expected,
            );
        }
        Verdict::pass(db.meta, format!("exports {} to CloudWatch Logs", db.log_exports.join(", ")), observed)
    })
}

/// Every parameter group of the instance (or the cluster parameter group) sets `rds.force_ssl`
/// to 1 (`ON` accepted for engines that spell it so). Left at the engine default → fail; unread,
/// or the group missing from the State → error.
fn force_ssl(state: &State, _: &Params) -> Vec<Verdict> {
    let groups = &state.rds.parameter_groups;
    databases(state, |db| {
        if db.parameter_groups.is_empty() {
            return Verdict::error(db.meta, format!("{} reports no parameter group", db.kind));
        }
        let mut observed = Map::new();
        let mut off = Vec::new();
        for name in &db.parameter_groups {
            let named: Vec<_> = groups.iter().filter(|g| g.meta.id == *name || g.meta.name.as_deref() == Some(*name)).collect();
            let Some(g) = named.iter().find(|g| g.scope == db.parameter_scope).or(named.first()) else {
                return Verdict::error(
                    db.meta,
                    match groups.failed_in(&db.meta.region) {
                        Some(reason) => format!("parameter group {name}: parameter groups could not be listed in {}: {reason}", db.meta.region),
                        None => format!("parameter group {name} is not in the State, so rds.force_ssl is unknown"),
                    },
                );
            };
            match g.force_ssl.get() {
                Err(reason) => return Verdict::error(db.meta, format!("rds.force_ssl of parameter group {name}: {reason}")),
                Ok(Some(v)) if v == "1" || v.eq_ignore_ascii_case("on") => {
                    observed.insert(name.to_string(), json!(v));
                }
                Ok(value) => {
                    observed.insert(name.to_string(), json!(value));
                    off.push(format!("{name} ({})", value.as_deref().map(|v| format!("rds.force_ssl = {v}")).unwrap_or_else(|| "rds.force_ssl left at the engine default".into())));
                }
            }
        }
        let observed = json!({"force_ssl": Value::Object(observed)});
        if off.is_empty() {
            Verdict::pass(db.meta, format!("rds.force_ssl = 1 in {}", db.parameter_groups.join(", ")), observed)
        } else {
            let expected = json!({"force_ssl": db.parameter_groups.iter().map(|g| (g.to_string(), json!("1"))).collect::<Map<_, _>>()});
            Verdict::fail(db.meta, format!("plaintext connections are allowed: parameter group {}", off.join(", ")), observed, expected)
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
            Verdict::fail(db.meta, format!("master username {user:?} is a well-known default"), observed, json!({"master_username": "not one of the well-known defaults"}))
        } else {
            Verdict::pass(db.meta, "master username is not a well-known default", observed)
        }
    })
}

fn multi_az(state: &State, _: &Params) -> Vec<Verdict> {
    databases(state, |db| {
        let observed = json!({"multi_az": db.multi_az});
        if db.multi_az {
            Verdict::pass(db.meta, format!("{} is Multi-AZ", db.kind), observed)
        } else {
            Verdict::fail(db.meta, format!("{} {} runs in a single Availability Zone", db.kind, db.meta.id), observed, json!({"multi_az": true}))
        }
    })
}

fn deletion_protection(state: &State, _: &Params) -> Vec<Verdict> {
    databases(state, |db| {
        let observed = json!({"deletion_protection": db.deletion_protection});
        if db.deletion_protection {
            Verdict::pass(db.meta, "deletion protection is enabled", observed)
        } else {
            Verdict::fail(db.meta, format!("{} {} can be deleted in one call: deletion protection is off", db.kind, db.meta.id), observed, json!({"deletion_protection": true}))
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::rds::{DbCluster, DbInstance};
    use crate::model::{Meta, Observed, State};

    fn db(s: &mut State) -> &mut DbInstance {
        s.rds.instances.items.values_mut().next().expect("instance in fixture")
    }

    fn unlisted() -> State {
        crate::controls::testing::unlisted(|s| &mut s.rds.instances)
    }

    /// The fixture with its instance turned into the only member of an Aurora cluster, whose
    /// settings are copied from the instance (so compliant), and the instance's own cleared.
    fn aurora() -> State {
        let mut s = fixture();
        let i = db(&mut s).clone();
        let arn = "arn:aws:rds:us-east-1:123456789012:cluster:tapaudit-dev-aurora".to_string();
        let cluster = DbCluster {
            meta: Meta { resource_type: "rds:db-cluster".into(), id: "tapaudit-dev-aurora".into(), arn: arn.clone(), ..i.meta.clone() },
            engine: "aurora-postgresql".into(),
            engine_version: "16.4".into(),
            status: "available".into(),
            storage_encrypted: true,
            kms_key_id: i.kms_key_id.clone(),
            publicly_accessible: None,
            backup_retention_days: 7,
            backup_window: i.backup_window.clone(),
            log_exports: vec!["postgresql".into()],
            multi_az: true,
            deletion_protection: true,
            master_username: Some("pipeline_owner".into()),
            subnet_group: i.subnet_group.clone(),
            security_groups: i.security_groups.clone(),
            parameter_group: Some("tapaudit-dev-aurora-pg16".into()),
            members: vec![i.meta.id.clone()],
            availability_zones: vec!["us-east-1a".into(), "us-east-1b".into()],
        };
        s.rds.clusters.items.insert(arn, cluster);
        let mut pg = s.rds.parameter_groups.items.values().next().unwrap().clone();
        pg.meta.id = "tapaudit-dev-aurora-pg16".into();
        pg.meta.name = Some("tapaudit-dev-aurora-pg16".into());
        pg.meta.arn = "arn:aws:rds:us-east-1:123456789012:cluster-pg:tapaudit-dev-aurora-pg16".into();
        pg.scope = "cluster".into();
        pg.family = "aurora-postgresql16".into();
        s.rds.parameter_groups.items.insert(pg.meta.arn.clone(), pg);
        let m = db(&mut s);
        m.cluster_id = Some("tapaudit-dev-aurora".into());
        m.engine = "aurora-postgresql".into();
        m.storage_encrypted = false;
        m.kms_key_id = None;
        m.backup_retention_days = 0;
        m.log_exports.clear();
        m.multi_az = false;
        m.deletion_protection = false;
        m.master_username = None;
        m.parameter_groups = vec!["default.aurora-postgresql16".into()];
        s
    }

    fn cluster(s: &mut State) -> &mut DbCluster {
        s.rds.clusters.items.values_mut().next().expect("cluster")
    }

    // ---------- rds-storage-encrypted-cmk ----------

    #[test]
    fn encrypted_cmk() {
        assert_eq!(eval("rds-storage-encrypted-cmk", &fixture()), vec![Status::Pass]);

        let mut plain = fixture();
        db(&mut plain).storage_encrypted = false;
        db(&mut plain).kms_key_id = None;
        assert_eq!(eval("rds-storage-encrypted-cmk", &plain), vec![Status::Fail]);

        let mut alias = fixture();
        db(&mut alias).kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:alias/aws/rds".into());
        assert_eq!(eval("rds-storage-encrypted-cmk", &alias), vec![Status::Fail]);

        // the aws/rds key as RDS reports it: a key ARN, known to the State as AWS-managed
        let mut managed = fixture();
        managed.kms.keys.items.values_mut().for_each(|k| {
            k.manager = crate::model::Observed::Known(crate::model::kms::Manager::Aws);
            k.aliases = crate::model::Observed::Known(vec!["alias/aws/rds".into()]);
        });
        assert_eq!(eval("rds-storage-encrypted-cmk", &managed), vec![Status::Fail]);

        let mut unread = fixture();
        unread.kms.keys.items.values_mut().for_each(|k| k.manager = crate::model::Observed::Unknown("kms:DescribeKey failed: AccessDenied".into()));
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

        assert_eq!(eval("rds-storage-encrypted-cmk", &unlisted()), vec![Status::Error]);
    }

    // ---------- rds-not-publicly-accessible ----------

    #[test]
    fn public_access() {
        assert_eq!(eval("rds-not-publicly-accessible", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        db(&mut bad).publicly_accessible = true;
        assert_eq!(eval("rds-not-publicly-accessible", &bad), vec![Status::Fail]);
        // per instance, also for Aurora members
        let mut member = aurora();
        db(&mut member).publicly_accessible = true;
        assert_eq!(eval("rds-not-publicly-accessible", &member), vec![Status::Fail]);
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
        db(&mut short).backup_retention_days = 6;
        assert_eq!(eval("rds-backup-retention", &short), vec![Status::Fail]);
        let mut off = fixture();
        db(&mut off).backup_retention_days = 0;
        assert_eq!(eval("rds-backup-retention", &off), vec![Status::Fail]);
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
    fn force_ssl() {
        assert_eq!(eval("rds-force-ssl", &fixture()), vec![Status::Pass]);

        let mut zero = fixture();
        zero.rds.parameter_groups.items.values_mut().for_each(|g| g.force_ssl = Observed::Known(Some("0".into())));
        assert_eq!(eval("rds-force-ssl", &zero), vec![Status::Fail]);

        let mut default = fixture();
        default.rds.parameter_groups.items.values_mut().for_each(|g| g.force_ssl = Observed::Known(None));
        assert_eq!(eval("rds-force-ssl", &default), vec![Status::Fail]);

        let mut unread = fixture();
        unread.rds.parameter_groups.items.values_mut().for_each(|g| g.force_ssl = Observed::Unknown("AccessDenied".into()));
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
        db(&mut bad).multi_az = false;
        assert_eq!(eval("rds-multi-az", &bad), vec![Status::Fail]);
        assert_eq!(eval("rds-multi-az", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn deletion_protection() {
        assert_eq!(eval("rds-deletion-protection", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        db(&mut bad).deletion_protection = false;
        assert_eq!(eval("rds-deletion-protection", &bad), vec![Status::Fail]);
        assert_eq!(eval("rds-deletion-protection", &unlisted()), vec![Status::Error]);
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
    ];

    #[test]
    fn aurora_members_defer_to_their_cluster() {
        // the member's own (non-compliant) values are ignored: only the cluster is judged
        let s = aurora();
        for id in CLUSTER_LEVEL {
            assert_eq!(eval(id, &s), vec![Status::Pass], "{id}");
        }
        assert_eq!(eval("rds-private-subnets-only", &s), vec![Status::Pass]);
        assert_eq!(eval("rds-not-publicly-accessible", &s), vec![Status::Pass]);
    }

    #[test]
    fn aurora_cluster_settings_fail_on_the_cluster() {
        type Breaker = (&'static str, fn(&mut DbCluster));
        let breakers: &[Breaker] = &[
            ("rds-storage-encrypted-cmk", |c| c.storage_encrypted = false),
            ("rds-backup-retention", |c| c.backup_retention_days = 1),
            ("rds-log-exports-enabled", |c| c.log_exports.clear()),
            ("rds-force-ssl", |c| c.parameter_group = Some("default.aurora-postgresql16".into())),
            ("rds-master-username-not-default", |c| c.master_username = Some("postgres".into())),
            ("rds-multi-az", |c| c.multi_az = false),
            ("rds-deletion-protection", |c| c.deletion_protection = false),
        ];
        for (id, breaks) in breakers {
            let mut s = aurora();
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
            assert_eq!(eval(id, &s), vec![Status::Error], "{id}");
        }
        let mut unlisted = aurora();
        unlisted.rds.clusters.items.clear();
        unlisted.rds.clusters.fail("us-east-1", "AccessDenied");
        assert_eq!(eval("rds-multi-az", &unlisted), vec![Status::Error, Status::Error]);
    }
}
