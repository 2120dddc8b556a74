//! RDS: instances and Aurora clusters (tags, encryption, backups, logs come with the describe
//! calls), subnet groups, parameter groups with `rds.force_ssl`.

use super::{fan_out, tag_map, Ctx};
use crate::model::rds::*;
use crate::model::Observed;
use aws_sdk_rds::types::Tag;
use std::collections::BTreeSet;

fn tags(t: &[Tag]) -> Observed<std::collections::BTreeMap<String, String>> {
    Observed::Known(tag_map(t.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))))
}

pub async fn collect(ctx: &Ctx) -> Rds {
    let r = &ctx.clients.rds;
    let mut out = Rds::default();
    let (instances, clusters, groups) = tokio::join!(
        ctx.pages("rds", "DescribeDBInstances", r.describe_db_instances().into_paginator().send()),
        ctx.pages("rds", "DescribeDBClusters", r.describe_db_clusters().into_paginator().send()),
        ctx.pages("rds", "DescribeDBSubnetGroups", r.describe_db_subnet_groups().into_paginator().send()),
    );
    let mut wanted_params: BTreeSet<(String, &'static str)> = BTreeSet::new();
    let mut wanted_groups: BTreeSet<String> = BTreeSet::new();
    match instances {
        Err(e) => out.instances.fail(&ctx.region, e),
        Ok(pages) => {
            for d in pages.iter().flat_map(|p| p.db_instances()) {
                let t = tags(d.tag_list());
                if !ctx.scope.wants(&t) {
                    continue;
                }
                let id = d.db_instance_identifier().unwrap_or_default();
                let group = d.db_subnet_group();
                for p in d.db_parameter_groups().iter().filter_map(|p| p.db_parameter_group_name()) {
                    wanted_params.insert((p.to_string(), "instance"));
                }
                if let Some(g) = group.and_then(|g| g.db_subnet_group_name()) {
                    wanted_groups.insert(g.to_string());
                }
                out.instances.insert(DbInstance {
                    meta: ctx.meta("rds:db-instance", id, d.db_instance_arn().unwrap_or_default().to_string(), Some(id.to_string()), t),
                    engine: d.engine().unwrap_or_default().to_string(),
                    engine_version: d.engine_version().unwrap_or_default().to_string(),
                    instance_class: d.db_instance_class().unwrap_or_default().to_string(),
                    status: d.db_instance_status().unwrap_or_default().to_string(),
                    storage_encrypted: d.storage_encrypted().unwrap_or(false),
                    kms_key_id: d.kms_key_id().map(str::to_string),
                    publicly_accessible: d.publicly_accessible().unwrap_or(false),
                    backup_retention_days: d.backup_retention_period().unwrap_or(0),
                    backup_window: d.preferred_backup_window().map(str::to_string),
                    log_exports: d.enabled_cloudwatch_logs_exports().to_vec(),
                    multi_az: d.multi_az().unwrap_or(false),
                    deletion_protection: d.deletion_protection().unwrap_or(false),
                    master_username: d.master_username().map(str::to_string),
                    subnet_group: group.and_then(|g| g.db_subnet_group_name()).map(str::to_string),
                    subnet_ids: group.map(|g| g.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect()).unwrap_or_default(),
                    vpc_id: group.and_then(|g| g.vpc_id()).map(str::to_string),
                    security_groups: d.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id().map(str::to_string)).collect(),
                    parameter_groups: d.db_parameter_groups().iter().filter_map(|p| p.db_parameter_group_name().map(str::to_string)).collect(),
                    cluster_id: d.db_cluster_identifier().map(str::to_string),
                });
            }
        }
    }
    match clusters {
        Err(e) => out.clusters.fail(&ctx.region, e),
        Ok(pages) => {
            for c in pages.iter().flat_map(|p| p.db_clusters()) {
                let t = tags(c.tag_list());
                if !ctx.scope.wants(&t) {
                    continue;
                }
                let id = c.db_cluster_identifier().unwrap_or_default();
                if let Some(p) = c.db_cluster_parameter_group() {
                    wanted_params.insert((p.to_string(), "cluster"));
                }
                if let Some(g) = c.db_subnet_group() {
                    wanted_groups.insert(g.to_string());
                }
                out.clusters.insert(DbCluster {
                    meta: ctx.meta("rds:db-cluster", id, c.db_cluster_arn().unwrap_or_default().to_string(), Some(id.to_string()), t),
                    engine: c.engine().unwrap_or_default().to_string(),
                    engine_version: c.engine_version().unwrap_or_default().to_string(),
                    status: c.status().unwrap_or_default().to_string(),
                    storage_encrypted: c.storage_encrypted().unwrap_or(false),
                    kms_key_id: c.kms_key_id().map(str::to_string),
                    publicly_accessible: c.publicly_accessible(),
                    backup_retention_days: c.backup_retention_period().unwrap_or(0),
                    backup_window: c.preferred_backup_window().map(str::to_string),
                    log_exports: c.enabled_cloudwatch_logs_exports().to_vec(),
                    multi_az: c.multi_az().unwrap_or(false),
                    deletion_protection: c.deletion_protection().unwrap_or(false),
                    master_username: c.master_username().map(str::to_string),
                    subnet_group: c.db_subnet_group().map(str::to_string),
                    security_groups: c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id().map(str::to_string)).collect(),
                    parameter_group: c.db_cluster_parameter_group().map(str::to_string),
                    members: c.db_cluster_members().iter().filter_map(|m| m.db_instance_identifier().map(str::to_string)).collect(),
                    availability_zones: c.availability_zones().to_vec(),
                });
            }
        }
    }
    match groups {
        Err(e) => out.subnet_groups.fail(&ctx.region, e),
        Ok(pages) => {
            for g in pages.iter().flat_map(|p| p.db_subnet_groups()) {
                let name = g.db_subnet_group_name().unwrap_or_default();
                // subnet groups come without tags; they are kept when a database in scope uses them
                if ctx.scope.stack.is_some() && !wanted_groups.contains(name) {
                    continue;
                }
                out.subnet_groups.insert(SubnetGroup {
                    meta: ctx.meta("rds:subnet-group", name, g.db_subnet_group_arn().unwrap_or_default().to_string(), Some(name.to_string()), Observed::Unknown("not read: subnet group tags".into())),
                    vpc_id: g.vpc_id().unwrap_or_default().to_string(),
                    subnet_ids: g.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect(),
                });
            }
        }
    }
    // parameter groups: only those the databases in scope use (one parameter read each)
    let params = fan_out(ctx, wanted_params.into_iter().collect(), |(name, scope)| parameter_group(ctx, name, scope)).await;
    for p in params {
        out.parameter_groups.insert(p);
    }
    out
}

async fn parameter_group(ctx: &Ctx, name: String, scope: &'static str) -> ParameterGroup {
    let r = &ctx.clients.rds;
    let (family, arn, force_ssl) = if scope == "instance" {
        let desc = ctx.call("rds", "DescribeDBParameterGroups", Some(&name), r.describe_db_parameter_groups().db_parameter_group_name(&name).send()).await;
        let g = desc.as_ref().ok().and_then(|d| d.db_parameter_groups().first().cloned());
        let params = ctx
            .pages("rds", "DescribeDBParameters", r.describe_db_parameters().db_parameter_group_name(&name).into_paginator().send())
            .await
            .map(|pages| force_ssl_of(pages.iter().flat_map(|p| p.parameters())));
        (
            g.as_ref().and_then(|g| g.db_parameter_group_family()).unwrap_or_default().to_string(),
            g.as_ref().and_then(|g| g.db_parameter_group_arn()).map(str::to_string).unwrap_or_else(|| ctx.arn("rds", &format!("pg:{name}"))),
            params,
        )
    } else {
        let desc = ctx.call("rds", "DescribeDBClusterParameterGroups", Some(&name), r.describe_db_cluster_parameter_groups().db_cluster_parameter_group_name(&name).send()).await;
        let g = desc.as_ref().ok().and_then(|d| d.db_cluster_parameter_groups().first().cloned());
        let params = ctx
            .pages("rds", "DescribeDBClusterParameters", r.describe_db_cluster_parameters().db_cluster_parameter_group_name(&name).into_paginator().send())
            .await
            .map(|pages| force_ssl_of(pages.iter().flat_map(|p| p.parameters())));
        (
            g.as_ref().and_then(|g| g.db_parameter_group_family()).unwrap_or_default().to_string(),
            g.as_ref().and_then(|g| g.db_cluster_parameter_group_arn()).map(str::to_string).unwrap_or_else(|| ctx.arn("rds", &format!("cluster-pg:{name}"))),
            params,
        )
    };
    ParameterGroup {
        meta: ctx.meta("rds:parameter-group", &name, arn, Some(name.clone()), Observed::Unknown("not read: parameter group tags".into())),
        family,
        scope: scope.to_string(),
        force_ssl: force_ssl.into(),
    }
}

fn force_ssl_of<'a>(params: impl Iterator<Item = &'a aws_sdk_rds::types::Parameter>) -> Option<String> {
    params.filter(|p| p.parameter_name() == Some("rds.force_ssl")).find_map(|p| p.parameter_value().map(str::to_string))
}
