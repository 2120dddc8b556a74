//! ElastiCache: replication groups (with their shards and nodes) and stand-alone cache clusters
//! (with their nodes' Availability Zones); tags per ARN.
//!
//! Absent flags: the API reference documents `Default: false` for `TransitEncryptionEnabled`
//! and `AuthTokenEnabled` on both ReplicationGroup and CacheCluster
//! (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_ReplicationGroup.html,
//! https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CacheCluster.html), so an
//! absent value is `false`. Everything else that is absent (at-rest encryption, automatic
//! failover, Multi-AZ, snapshot retention, the node count and zones) is Unknown.

use super::{fan_out, reported, tag_map, Ctx};
use crate::model::elasticache::*;
use crate::model::Observed;
use aws_sdk_elasticache::types::{CacheCluster as SdkCluster, ReplicationGroup as SdkGroup};
use std::collections::BTreeMap;

async fn tags(ctx: &Ctx, arn: &str) -> Observed<BTreeMap<String, String>> {
    ctx.call("elasticache", "ListTagsForResource", Some(arn), ctx.clients.elasticache.list_tags_for_resource().resource_name(arn).send())
        .await
        .map(|t| tag_map(t.tag_list().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or(""))))))
        .into()
}

const GROUPS: &str = "DescribeReplicationGroups";
const CLUSTERS: &str = "DescribeCacheClusters";

/// `Default: false`, as the API reference documents for this flag (see the module comment).
fn documented_false(v: Option<bool>) -> Observed<bool> {
    Observed::Known(v.unwrap_or(false))
}

/// SDK replication group → model; Err(missing fields) when it lacks what identifies it.
fn group(ctx: &Ctx, g: &SdkGroup, t: Observed<BTreeMap<String, String>>) -> Result<ReplicationGroup, Vec<&'static str>> {
    let mut missing = Vec::new();
    if g.replication_group_id().is_none() {
        missing.push("ReplicationGroupId");
    }
    if g.arn().is_none() {
        missing.push("ARN");
    }
    if g.status().is_none() {
        missing.push("Status");
    }
    let mut node_groups = Vec::new();
    for ng in g.node_groups() {
        let Some(id) = ng.node_group_id() else {
            missing.push("NodeGroups[].NodeGroupId");
            continue;
        };
        let mut members = Vec::new();
        for m in ng.node_group_members() {
            match m.cache_cluster_id() {
                Some(c) => members.push(NodeGroupMember {
                    cache_cluster_id: c.to_string(),
                    role: m.current_role().map(str::to_string),
                    availability_zone: m.preferred_availability_zone().map(str::to_string),
                }),
                None => missing.push("NodeGroupMembers[].CacheClusterId"),
            }
        }
        node_groups.push(NodeGroup { id: id.to_string(), members });
    }
    let (Some(id), Some(arn), Some(status)) = (g.replication_group_id(), g.arn(), g.status()) else { return Err(missing) };
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(ReplicationGroup {
        meta: ctx.meta("elasticache:replication-group", id, arn.to_string(), Some(id.to_string()), t),
        engine: g.engine().map(str::to_string),
        status: status.to_string(),
        at_rest_encryption: reported(g.at_rest_encryption_enabled(), GROUPS, "AtRestEncryptionEnabled"),
        transit_encryption: documented_false(g.transit_encryption_enabled()),
        transit_encryption_mode: g.transit_encryption_mode().map(|m| m.as_str().to_string()),
        kms_key_id: g.kms_key_id().map(str::to_string),
        auth_token_enabled: documented_false(g.auth_token_enabled()),
        user_group_ids: g.user_group_ids().to_vec(),
        automatic_failover: reported(g.automatic_failover().map(|a| a.as_str().to_string()), GROUPS, "AutomaticFailover"),
        multi_az: reported(g.multi_az().map(|a| a.as_str().to_string()), GROUPS, "MultiAZ"),
        snapshot_retention_days: reported(g.snapshot_retention_limit(), GROUPS, "SnapshotRetentionLimit"),
        member_clusters: g.member_clusters().to_vec(),
        node_groups,
    })
}

/// SDK cache cluster → model; Err(missing fields) when it lacks what identifies it.
fn cluster(ctx: &Ctx, c: &SdkCluster, t: Observed<BTreeMap<String, String>>) -> Result<CacheCluster, Vec<&'static str>> {
    let mut missing = Vec::new();
    for (field, v) in [("CacheClusterId", c.cache_cluster_id()), ("ARN", c.arn()), ("Engine", c.engine()), ("CacheClusterStatus", c.cache_cluster_status())] {
        if v.is_none() {
            missing.push(field);
        }
    }
    let (Some(id), Some(arn), Some(engine), Some(status)) = (c.cache_cluster_id(), c.arn(), c.engine(), c.cache_cluster_status()) else { return Err(missing) };
    Ok(CacheCluster {
        meta: ctx.meta("elasticache:cluster", id, arn.to_string(), Some(id.to_string()), t),
        engine: engine.to_string(),
        status: status.to_string(),
        at_rest_encryption: reported(c.at_rest_encryption_enabled(), CLUSTERS, "AtRestEncryptionEnabled"),
        transit_encryption: documented_false(c.transit_encryption_enabled()),
        transit_encryption_mode: c.transit_encryption_mode().map(|m| m.as_str().to_string()),
        auth_token_enabled: documented_false(c.auth_token_enabled()),
        snapshot_retention_days: reported(c.snapshot_retention_limit(), CLUSTERS, "SnapshotRetentionLimit"),
        num_cache_nodes: reported(c.num_cache_nodes(), CLUSTERS, "NumCacheNodes"),
        preferred_availability_zone: reported(c.preferred_availability_zone().map(str::to_string), CLUSTERS, "PreferredAvailabilityZone"),
        node_availability_zones: c.cache_nodes().iter().filter_map(|n| n.customer_availability_zone().map(str::to_string)).collect(),
    })
}

pub async fn collect(ctx: &Ctx) -> ElastiCache {
    let ec = &ctx.clients.elasticache;
    let mut out = ElastiCache::default();
    let (groups, clusters) = tokio::join!(
        ctx.pages("elasticache", GROUPS, ec.describe_replication_groups().into_paginator().send()),
        // node info: the Availability Zone of every node (how a Memcached cluster is spread)
        ctx.pages("elasticache", CLUSTERS, ec.describe_cache_clusters().show_cache_node_info(true).into_paginator().send()),
    );
    match groups {
        Err(e) => out.replication_groups.fail(&ctx.region, e),
        Ok(pages) => {
            let list: Vec<_> = pages.iter().flat_map(|p| p.replication_groups().to_vec()).collect();
            let found = fan_out(ctx, list, |g| async move {
                let Some(arn) = g.arn() else {
                    let name = g.replication_group_id().unwrap_or("a replication group");
                    return Some(Err(ctx.incomplete("elasticache", GROUPS, name, &["ARN"])));
                };
                let t = tags(ctx, arn).await;
                if !ctx.scope.wants(&t) {
                    return None;
                }
                Some(group(ctx, &g, t).map_err(|missing| ctx.incomplete("elasticache", GROUPS, g.replication_group_id().unwrap_or(arn), &missing)))
            })
            .await;
            for g in found.into_iter().flatten() {
                match g {
                    Ok(g) => out.replication_groups.insert(g),
                    Err(reason) => out.replication_groups.fail(&ctx.region, reason),
                }
            }
        }
    }
    match clusters {
        Err(e) => out.clusters.fail(&ctx.region, e),
        Ok(pages) => {
            let list: Vec<_> = pages.iter().flat_map(|p| p.cache_clusters().to_vec()).filter(|c| c.replication_group_id().is_none()).collect();
            let found = fan_out(ctx, list, |c| async move {
                let Some(arn) = c.arn() else {
                    let name = c.cache_cluster_id().unwrap_or("a cache cluster");
                    return Some(Err(ctx.incomplete("elasticache", CLUSTERS, name, &["ARN"])));
                };
                let t = tags(ctx, arn).await;
                if !ctx.scope.wants(&t) {
                    return None;
                }
                Some(cluster(ctx, &c, t).map_err(|missing| ctx.incomplete("elasticache", CLUSTERS, c.cache_cluster_id().unwrap_or(arn), &missing)))
            })
            .await;
            for c in found.into_iter().flatten() {
                match c {
                    Ok(c) => out.clusters.insert(c),
                    Err(reason) => out.clusters.fail(&ctx.region, reason),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::ctx;
    use aws_sdk_elasticache::types::{AutomaticFailoverStatus, CacheNode, NodeGroup as SdkNodeGroup, NodeGroupMember as SdkMember, TransitEncryptionMode};

    fn known() -> Observed<BTreeMap<String, String>> {
        Observed::Known(Default::default())
    }

    #[test]
    fn group_flags() {
        let c = ctx(|_| {});
        let base = || {
            SdkGroup::builder()
                .replication_group_id("rg")
                .arn("arn:aws:elasticache:us-east-1:123456789012:replicationgroup:rg")
                .status("available")
                .transit_encryption_enabled(true)
                .transit_encryption_mode(TransitEncryptionMode::Preferred)
                .automatic_failover(AutomaticFailoverStatus::Enabled)
        };
        let g = base()
            .node_groups(
                SdkNodeGroup::builder()
                    .node_group_id("0001")
                    .node_group_members(
                        SdkMember::builder().cache_cluster_id("rg-001").current_role("primary").preferred_availability_zone("us-east-1a").build(),
                    )
                    .node_group_members(
                        SdkMember::builder().cache_cluster_id("rg-002").current_role("replica").preferred_availability_zone("us-east-1b").build(),
                    )
                    .build(),
            )
            .build();
        let m = group(&c, &g, known()).unwrap();
        assert_eq!(m.transit_encryption, Observed::Known(true));
        assert_eq!(m.transit_encryption_mode.as_deref(), Some("preferred"));
        // documented Default: false
        assert_eq!(m.auth_token_enabled, Observed::Known(false));
        // not documented: unknown, never a default
        assert_eq!(m.multi_az, Observed::Unknown("DescribeReplicationGroups did not report MultiAZ".into()));
        assert!(matches!(m.at_rest_encryption, Observed::Unknown(_)));
        assert!(matches!(m.snapshot_retention_days, Observed::Unknown(_)));
        assert_eq!(m.automatic_failover, Observed::Known("enabled".into()));
        assert_eq!(m.node_groups.len(), 1);
        assert_eq!(m.node_groups[0].members.len(), 2);

        let broken = base().set_node_groups(Some(vec![SdkNodeGroup::builder().node_group_members(SdkMember::builder().build()).build()])).build();
        assert_eq!(group(&c, &broken, known()).unwrap_err(), vec!["NodeGroups[].NodeGroupId"]);
    }

    #[test]
    fn cluster_zones() {
        let c = ctx(|_| {});
        let mc = SdkCluster::builder()
            .cache_cluster_id("mc")
            .arn("arn:aws:elasticache:us-east-1:123456789012:cluster:mc")
            .engine("memcached")
            .cache_cluster_status("available")
            .num_cache_nodes(2)
            .preferred_availability_zone("Multiple")
            .cache_nodes(CacheNode::builder().customer_availability_zone("us-east-1a").build())
            .cache_nodes(CacheNode::builder().customer_availability_zone("us-east-1b").build())
            .build();
        let m = cluster(&c, &mc, known()).unwrap();
        assert_eq!(m.preferred_availability_zone, Observed::Known("Multiple".into()));
        assert_eq!(m.node_availability_zones, vec!["us-east-1a".to_string(), "us-east-1b".to_string()]);
        assert_eq!(m.transit_encryption, Observed::Known(false));
        let bare = SdkCluster::builder().cache_cluster_id("mc").build();
        assert_eq!(cluster(&c, &bare, known()).unwrap_err(), vec!["ARN", "Engine", "CacheClusterStatus"]);
    }
}
