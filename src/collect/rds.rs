//! RDS: instances and Aurora clusters (tags, encryption, backups, logs come with the describe
//! calls), subnet groups, and the parameter groups the databases use with their TLS parameters
//! (`rds.force_ssl`, `require_secure_transport`), engine defaults included. Snapshots:
//! `rds/snapshots.rs`.

use super::{fan_out, reported, tag_map, Ctx};
use crate::model::rds::*;
use crate::model::Observed;
use crate::semantics::db_tls::{FORCE_SSL, REQUIRE_SECURE_TRANSPORT};
use aws_sdk_rds::types::{DbCluster as SdkCluster, DbInstance as SdkInstance, MasterUserSecret as SdkSecret, Tag};
use std::collections::{BTreeMap, BTreeSet};

fn tags(t: &[Tag]) -> Observed<BTreeMap<String, String>> {
    // a tag always has a key; its value may be empty
    Observed::Known(tag_map(t.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or(""))))))
}

/// A required string field: recorded as missing when absent.
fn need<'a>(missing: &mut Vec<&'static str>, field: &'static str, v: Option<&'a str>) -> &'a str {
    v.unwrap_or_else(|| {
        missing.push(field);
        ""
    })
}

const INSTANCES: &str = "DescribeDBInstances";
const CLUSTERS: &str = "DescribeDBClusters";

/// `MasterUserSecret` → model. The structure is "the secret managed by RDS in AWS Secrets
/// Manager for the master user password" (RDS API reference, MasterUserSecret:
/// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_MasterUserSecret.html): an
/// instance or cluster that reports none has no RDS-managed master password (None). Its fields
/// are optional in the API, so each one not reported is Unknown.
fn master_secret(s: Option<&SdkSecret>, operation: &str) -> Option<MasterUserSecret> {
    s.map(|s| MasterUserSecret {
        secret_arn: reported(s.secret_arn().map(str::to_string), operation, "MasterUserSecret.SecretArn"),
        kms_key_id: reported(s.kms_key_id().map(str::to_string), operation, "MasterUserSecret.KmsKeyId"),
        status: reported(s.secret_status().map(str::to_string), operation, "MasterUserSecret.SecretStatus"),
    })
}

/// SDK instance → model; Err(missing fields) when it lacks what identifies or classifies it.
fn instance(ctx: &Ctx, d: &SdkInstance, t: Observed<BTreeMap<String, String>>) -> Result<DbInstance, Vec<&'static str>> {
    let mut missing = Vec::new();
    let id = need(&mut missing, "DBInstanceIdentifier", d.db_instance_identifier());
    let arn = need(&mut missing, "DBInstanceArn", d.db_instance_arn());
    let engine = need(&mut missing, "Engine", d.engine());
    let engine_version = need(&mut missing, "EngineVersion", d.engine_version());
    let class = need(&mut missing, "DBInstanceClass", d.db_instance_class());
    let status = need(&mut missing, "DBInstanceStatus", d.db_instance_status());
    if !missing.is_empty() {
        return Err(missing);
    }
    let group = d.db_subnet_group();
    Ok(DbInstance {
        meta: ctx.meta("rds:db-instance", id, arn.to_string(), Some(id.to_string()), t),
        engine: engine.to_string(),
        engine_version: engine_version.to_string(),
        instance_class: class.to_string(),
        status: status.to_string(),
        storage_encrypted: reported(d.storage_encrypted(), INSTANCES, "StorageEncrypted"),
        kms_key_id: d.kms_key_id().map(str::to_string),
        publicly_accessible: reported(d.publicly_accessible(), INSTANCES, "PubliclyAccessible"),
        backup_retention_days: reported(d.backup_retention_period(), INSTANCES, "BackupRetentionPeriod"),
        backup_window: d.preferred_backup_window().map(str::to_string),
        log_exports: d.enabled_cloudwatch_logs_exports().to_vec(),
        multi_az: reported(d.multi_az(), INSTANCES, "MultiAZ"),
        deletion_protection: reported(d.deletion_protection(), INSTANCES, "DeletionProtection"),
        master_username: d.master_username().map(str::to_string),
        availability_zone: reported(d.availability_zone().map(str::to_string), INSTANCES, "AvailabilityZone"),
        subnet_group: group.and_then(|g| g.db_subnet_group_name()).map(str::to_string),
        // empty when the instance reports no subnet group: the control then reads the group
        subnet_ids: match group {
            Some(g) => g.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect(),
            None => Vec::new(),
        },
        vpc_id: group.and_then(|g| g.vpc_id()).map(str::to_string),
        security_groups: d.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id().map(str::to_string)).collect(),
        parameter_groups: d.db_parameter_groups().iter().filter_map(|p| p.db_parameter_group_name().map(str::to_string)).collect(),
        cluster_id: d.db_cluster_identifier().map(str::to_string),
        master_user_secret: master_secret(d.master_user_secret(), INSTANCES),
        iam_auth: reported(d.iam_database_authentication_enabled(), INSTANCES, "IAMDatabaseAuthenticationEnabled"),
        copy_tags_to_snapshot: reported(d.copy_tags_to_snapshot(), INSTANCES, "CopyTagsToSnapshot"),
    })
}

/// SDK cluster → model; Err(missing fields) when it lacks what identifies or classifies it.
fn cluster(ctx: &Ctx, c: &SdkCluster, t: Observed<BTreeMap<String, String>>) -> Result<DbCluster, Vec<&'static str>> {
    let mut missing = Vec::new();
    let id = need(&mut missing, "DBClusterIdentifier", c.db_cluster_identifier());
    let arn = need(&mut missing, "DBClusterArn", c.db_cluster_arn());
    let engine = need(&mut missing, "Engine", c.engine());
    let engine_version = need(&mut missing, "EngineVersion", c.engine_version());
    let status = need(&mut missing, "Status", c.status());
    let members: Vec<ClusterMember> = c
        .db_cluster_members()
        .iter()
        .filter_map(|m| {
            Some(ClusterMember {
                instance_id: m.db_instance_identifier()?.to_string(),
                writer: reported(m.is_cluster_writer(), CLUSTERS, "DBClusterMembers[].IsClusterWriter"),
            })
        })
        .collect();
    if members.len() != c.db_cluster_members().len() {
        missing.push("DBClusterMembers[].DBInstanceIdentifier");
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(DbCluster {
        meta: ctx.meta("rds:db-cluster", id, arn.to_string(), Some(id.to_string()), t),
        engine: engine.to_string(),
        engine_version: engine_version.to_string(),
        status: status.to_string(),
        storage_encrypted: reported(c.storage_encrypted(), CLUSTERS, "StorageEncrypted"),
        kms_key_id: c.kms_key_id().map(str::to_string),
        // documented as "only for non-Aurora Multi-AZ DB clusters": absent for Aurora
        // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBCluster.html
        publicly_accessible: c.publicly_accessible(),
        backup_retention_days: reported(c.backup_retention_period(), CLUSTERS, "BackupRetentionPeriod"),
        backup_window: c.preferred_backup_window().map(str::to_string),
        log_exports: c.enabled_cloudwatch_logs_exports().to_vec(),
        multi_az: reported(c.multi_az(), CLUSTERS, "MultiAZ"),
        deletion_protection: reported(c.deletion_protection(), CLUSTERS, "DeletionProtection"),
        master_username: c.master_username().map(str::to_string),
        subnet_group: c.db_subnet_group().map(str::to_string),
        security_groups: c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id().map(str::to_string)).collect(),
        parameter_group: c.db_cluster_parameter_group().map(str::to_string),
        members,
        availability_zones: c.availability_zones().to_vec(),
        // absent for clusters that are not Aurora Serverless v2 (provisioned instances only)
        serverless_v2: c.serverless_v2_scaling_configuration().map(|v| ServerlessV2Scaling {
            min_acu: reported(v.min_capacity(), CLUSTERS, "ServerlessV2ScalingConfiguration.MinCapacity"),
            max_acu: reported(v.max_capacity(), CLUSTERS, "ServerlessV2ScalingConfiguration.MaxCapacity"),
        }),
        master_user_secret: master_secret(c.master_user_secret(), CLUSTERS),
        iam_auth: reported(c.iam_database_authentication_enabled(), CLUSTERS, "IAMDatabaseAuthenticationEnabled"),
        copy_tags_to_snapshot: reported(c.copy_tags_to_snapshot(), CLUSTERS, "CopyTagsToSnapshot"),
    })
}

mod snapshots;

pub async fn collect(ctx: &Ctx) -> Rds {
    let (mut out, (instance_snapshots, cluster_snapshots)) = tokio::join!(databases(ctx), snapshots::collect(ctx));
    out.snapshots = instance_snapshots;
    out.cluster_snapshots = cluster_snapshots;
    out
}

/// Instances, clusters, subnet groups and parameter groups.
async fn databases(ctx: &Ctx) -> Rds {
    let r = &ctx.clients.rds;
    let mut out = Rds::default();
    let (instances, clusters, groups) = tokio::join!(
        ctx.pages("rds", INSTANCES, r.describe_db_instances().max_records(100).into_paginator().send()),
        ctx.pages("rds", CLUSTERS, r.describe_db_clusters().max_records(100).into_paginator().send()),
        ctx.pages("rds", "DescribeDBSubnetGroups", r.describe_db_subnet_groups().max_records(100).into_paginator().send()),
    );
    let mut wanted_params: BTreeSet<(String, &'static str)> = BTreeSet::new();
    let mut wanted_groups: BTreeSet<String> = BTreeSet::new();
    // clusters first: their member instances stay in scope with them, tagged or not (Aurora
    // members are often created without the stack's tags and decide the cluster's availability)
    let mut clusters_in_scope: BTreeSet<String> = BTreeSet::new();
    match clusters {
        Err(e) => {
            // the parameter and (in a stack scope) subnet groups are read for the databases
            // that use them: with the databases unknown, so are they
            out.parameter_groups.fail(&ctx.region, format!("not read: the DB clusters that use them could not be listed: {e}"));
            if ctx.scope.stack.is_some() {
                out.subnet_groups.fail(&ctx.region, format!("not read: the DB clusters that use them could not be listed: {e}"));
            }
            out.clusters.fail(&ctx.region, e)
        }
        Ok(pages) => {
            for c in pages.iter().flat_map(|p| p.db_clusters()) {
                let t = tags(c.tag_list());
                if !ctx.scope.wants(&t) {
                    continue;
                }
                match cluster(ctx, c, t) {
                    Ok(k) => {
                        if let Some(p) = &k.parameter_group {
                            wanted_params.insert((p.clone(), "cluster"));
                        }
                        if let Some(g) = &k.subnet_group {
                            wanted_groups.insert(g.clone());
                        }
                        clusters_in_scope.insert(k.meta.id.clone());
                        out.clusters.insert(k);
                    }
                    Err(missing) => {
                        let name = c.db_cluster_identifier().or(c.db_cluster_arn()).unwrap_or("a DB cluster");
                        out.clusters.fail(&ctx.region, ctx.incomplete("rds", CLUSTERS, name, &missing));
                    }
                }
            }
        }
    }
    match instances {
        Err(e) => {
            out.parameter_groups.fail(&ctx.region, format!("not read: the DB instances that use them could not be listed: {e}"));
            if ctx.scope.stack.is_some() {
                out.subnet_groups.fail(&ctx.region, format!("not read: the DB instances that use them could not be listed: {e}"));
            }
            out.instances.fail(&ctx.region, e)
        }
        Ok(pages) => {
            for d in pages.iter().flat_map(|p| p.db_instances()) {
                let t = tags(d.tag_list());
                let member = d.db_cluster_identifier().is_some_and(|c| clusters_in_scope.contains(c));
                if !member && !ctx.scope.wants(&t) {
                    continue;
                }
                match instance(ctx, d, t) {
                    Ok(i) => {
                        for p in &i.parameter_groups {
                            wanted_params.insert((p.clone(), "instance"));
                        }
                        if let Some(g) = &i.subnet_group {
                            wanted_groups.insert(g.clone());
                        }
                        out.instances.insert(i);
                    }
                    Err(missing) => {
                        let name = d.db_instance_identifier().or(d.db_instance_arn()).unwrap_or("a DB instance");
                        out.instances.fail(&ctx.region, ctx.incomplete("rds", INSTANCES, name, &missing));
                    }
                }
            }
        }
    }
    match groups {
        Err(e) => out.subnet_groups.fail(&ctx.region, e),
        Ok(pages) => {
            for g in pages.iter().flat_map(|p| p.db_subnet_groups()) {
                let (Some(name), Some(arn), Some(vpc)) = (g.db_subnet_group_name(), g.db_subnet_group_arn(), g.vpc_id()) else {
                    let name = g.db_subnet_group_name().unwrap_or("a DB subnet group");
                    let missing: Vec<&str> =
                        [("DBSubnetGroupName", g.db_subnet_group_name()), ("DBSubnetGroupArn", g.db_subnet_group_arn()), ("VpcId", g.vpc_id())]
                            .iter()
                            .filter(|(_, v)| v.is_none())
                            .map(|(f, _)| *f)
                            .collect();
                    out.subnet_groups.fail(&ctx.region, ctx.incomplete("rds", "DescribeDBSubnetGroups", name, &missing));
                    continue;
                };
                // subnet groups come without tags; they are kept when a database in scope uses them
                if ctx.scope.stack.is_some() && !wanted_groups.contains(name) {
                    continue;
                }
                out.subnet_groups.insert(SubnetGroup {
                    meta: ctx.meta("rds:subnet-group", name, arn.to_string(), Some(name.to_string()), Observed::Unknown("not read: subnet group tags".into())),
                    vpc_id: vpc.to_string(),
                    subnet_ids: g.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect(),
                });
            }
        }
    }
    // parameter groups: only those the databases in scope use
    let params = fan_out(ctx, wanted_params.into_iter().collect(), |(name, scope)| parameter_group(ctx, name, scope)).await;
    for p in params {
        out.parameter_groups.insert(p);
    }
    out
}

async fn parameter_group(ctx: &Ctx, name: String, scope: &'static str) -> ParameterGroup {
    let r = &ctx.clients.rds;
    let (family, arn, tls) = if scope == "instance" {
        let (desc, params) = tokio::join!(
            ctx.call("rds", "DescribeDBParameterGroups", Some(&name), r.describe_db_parameter_groups().db_parameter_group_name(&name).send()),
            ctx.pages("rds", "DescribeDBParameters", r.describe_db_parameters().db_parameter_group_name(&name).into_paginator().send()),
        );
        let g = desc.map(|d| d.db_parameter_groups().first().cloned());
        let family = family_of(g.as_ref().map(|o| o.as_ref().map(|g| g.db_parameter_group_family())), "DescribeDBParameterGroups", &name);
        let arn = g.ok().flatten().and_then(|g| g.db_parameter_group_arn().map(str::to_string)).unwrap_or_else(|| ctx.arn("rds", &format!("pg:{name}")));
        (family, arn, params.map(|pages| tls_parameters(pages.iter().flat_map(|p| p.parameters()))))
    } else {
        let (desc, params) = tokio::join!(
            ctx.call(
                "rds",
                "DescribeDBClusterParameterGroups",
                Some(&name),
                r.describe_db_cluster_parameter_groups().db_cluster_parameter_group_name(&name).send()
            ),
            ctx.pages("rds", "DescribeDBClusterParameters", r.describe_db_cluster_parameters().db_cluster_parameter_group_name(&name).into_paginator().send()),
        );
        let g = desc.map(|d| d.db_cluster_parameter_groups().first().cloned());
        let family = family_of(g.as_ref().map(|o| o.as_ref().map(|g| g.db_parameter_group_family())), "DescribeDBClusterParameterGroups", &name);
        let arn = g
            .ok()
            .flatten()
            .and_then(|g| g.db_cluster_parameter_group_arn().map(str::to_string))
            .unwrap_or_else(|| ctx.arn("rds", &format!("cluster-pg:{name}")));
        (family, arn, params.map(|pages| tls_parameters(pages.iter().flat_map(|p| p.parameters()))))
    };
    ParameterGroup {
        meta: ctx.meta("rds:parameter-group", &name, arn, Some(name.clone()), Observed::Unknown("not read: parameter group tags".into())),
        family,
        scope: scope.to_string(),
        tls_parameters: tls.into(),
    }
}

/// A parameter group's family from its describe call: unknown when the call failed, did not
/// return the group, or returned it without a family.
fn family_of(found: Result<Option<Option<&str>>, &String>, operation: &str, name: &str) -> Observed<String> {
    match found {
        Err(e) => Observed::Unknown(e.clone()),
        Ok(None) => Observed::Unknown(format!("{operation} did not return {name}")),
        Ok(Some(family)) => reported(family.map(str::to_string), operation, "DBParameterGroupFamily"),
    }
}

/// The TLS parameters among a group's parameters. DescribeDB(Cluster)Parameters lists the
/// engine's defaults too (Source `engine-default`), so a parameter missing from a complete
/// listing is one the group leaves at the engine's built-in default.
/// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBParameters.html
fn tls_parameters<'a>(params: impl Iterator<Item = &'a aws_sdk_rds::types::Parameter>) -> BTreeMap<String, Parameter> {
    params
        .filter_map(|p| {
            let name = p.parameter_name()?;
            [FORCE_SSL, REQUIRE_SECURE_TRANSPORT]
                .contains(&name)
                .then(|| (name.to_string(), Parameter { value: p.parameter_value().map(str::to_string), source: p.source().map(str::to_string) }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::ctx;
    use aws_sdk_rds::types::{DbClusterMember, DbParameterGroupStatus};

    #[test]
    fn instance_evidence_that_is_not_reported_is_unknown() {
        let c = ctx(|_| {});
        let base = || {
            SdkInstance::builder()
                .db_instance_identifier("db1")
                .db_instance_arn("arn:aws:rds:us-east-1:123456789012:db:db1")
                .engine("mysql")
                .engine_version("8.0.39")
                .db_instance_class("db.t3.micro")
                .db_instance_status("available")
                .db_parameter_groups(DbParameterGroupStatus::builder().db_parameter_group_name("default.mysql8.0").build())
        };
        let bare = base().build();
        let i = instance(&c, &bare, Observed::Known(Default::default())).unwrap();
        for (field, v) in [
            ("PubliclyAccessible", &i.publicly_accessible),
            ("StorageEncrypted", &i.storage_encrypted),
            ("MultiAZ", &i.multi_az),
            ("DeletionProtection", &i.deletion_protection),
        ] {
            assert_eq!(v, &Observed::Unknown(format!("DescribeDBInstances did not report {field}")), "{field}");
        }
        assert!(matches!(i.backup_retention_days, Observed::Unknown(_)));
        assert!(matches!(i.availability_zone, Observed::Unknown(_)));
        assert_eq!(i.parameter_groups, vec!["default.mysql8.0".to_string()]);

        let full = base()
            .publicly_accessible(false)
            .storage_encrypted(true)
            .multi_az(false)
            .deletion_protection(true)
            .backup_retention_period(0)
            .availability_zone("us-east-1a")
            .build();
        let i = instance(&c, &full, Observed::Known(Default::default())).unwrap();
        assert_eq!(i.publicly_accessible, Observed::Known(false));
        assert_eq!(i.backup_retention_days, Observed::Known(0));
        assert_eq!(i.availability_zone, Observed::Known("us-east-1a".into()));
    }

    #[test]
    fn incomplete_resources_name_what_is_missing() {
        let c = ctx(|_| {});
        let no_engine = SdkInstance::builder()
            .db_instance_identifier("db1")
            .db_instance_arn("arn:x")
            .engine_version("1")
            .db_instance_class("c")
            .db_instance_status("s")
            .build();
        assert_eq!(instance(&c, &no_engine, Observed::Known(Default::default())).unwrap_err(), vec!["Engine"]);
        let member_without_id = SdkCluster::builder()
            .db_cluster_identifier("c1")
            .db_cluster_arn("arn:y")
            .engine("aurora-mysql")
            .engine_version("8.0.mysql_aurora.3.05.2")
            .status("available")
            .db_cluster_members(DbClusterMember::builder().build())
            .build();
        assert_eq!(cluster(&c, &member_without_id, Observed::Known(Default::default())).unwrap_err(), vec!["DBClusterMembers[].DBInstanceIdentifier"]);
        let reason = c.incomplete("rds", INSTANCES, "db1", &["Engine"]);
        assert!(reason.contains("db1") && reason.contains("Engine"), "{reason}");
        let (_, errors) = c.rec.finish(Default::default(), Default::default());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "IncompleteResponse");
    }

    #[test]
    fn tls_parameters_keep_value_and_source() {
        use aws_sdk_rds::types::Parameter as P;
        let params = [
            P::builder().parameter_name("rds.force_ssl").parameter_value("1").source("engine-default").build(),
            P::builder().parameter_name("require_secure_transport").source("engine-default").build(),
            P::builder().parameter_name("max_connections").parameter_value("100").build(),
        ];
        let m = tls_parameters(params.iter());
        assert_eq!(m.len(), 2);
        assert_eq!(m["rds.force_ssl"], Parameter { value: Some("1".into()), source: Some("engine-default".into()) });
        assert_eq!(m["require_secure_transport"].value, None);
    }

    #[test]
    fn aurora_serverless_cluster_with_managed_secret() {
        use aws_sdk_rds::types::ServerlessV2ScalingConfigurationInfo;
        let c = ctx(|_| {});
        let base = || {
            SdkCluster::builder()
                .db_cluster_identifier("records")
                .db_cluster_arn("arn:aws:rds:us-east-1:123456789012:cluster:records")
                .engine("aurora-postgresql")
                .engine_version("16.4")
                .status("available")
                .db_cluster_members(DbClusterMember::builder().db_instance_identifier("records-1").is_cluster_writer(true).build())
                .db_cluster_members(DbClusterMember::builder().db_instance_identifier("records-2").build())
        };
        let full = base()
            .serverless_v2_scaling_configuration(ServerlessV2ScalingConfigurationInfo::builder().min_capacity(0.5).max_capacity(2.0).build())
            .master_user_secret(
                SdkSecret::builder().secret_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-x").kms_key_id("key-1").build(),
            )
            .iam_database_authentication_enabled(true)
            .build();
        let k = cluster(&c, &full, Observed::Known(Default::default())).unwrap();
        let v2 = k.serverless_v2.expect("serverless v2");
        assert_eq!((v2.min_acu, v2.max_acu), (Observed::Known(0.5), Observed::Known(2.0)));
        let secret = k.master_user_secret.expect("managed secret");
        assert_eq!(secret.kms_key_id, Observed::Known("key-1".into()));
        // not reported: unknown, never "active"
        assert_eq!(secret.status, Observed::Unknown("DescribeDBClusters did not report MasterUserSecret.SecretStatus".into()));
        assert_eq!(k.members[0].writer, Observed::Known(true));
        assert!(matches!(k.members[1].writer, Observed::Unknown(_)), "IsClusterWriter not reported");
        assert_eq!(k.iam_auth, Observed::Known(true));
        assert!(matches!(k.copy_tags_to_snapshot, Observed::Unknown(_)));
        // no MasterUserSecret: the password is not managed by RDS; no scaling: not Serverless v2
        let bare = cluster(&c, &base().build(), Observed::Known(Default::default())).unwrap();
        assert_eq!(bare.master_user_secret, None);
        assert_eq!(bare.serverless_v2, None);
    }
}
