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
    // account-wide: no verdict reads a cache's tags, so they are not read
    if ctx.scope.account_wide() {
        return Observed::Unknown("not read: an account-wide scan needs no cache tags".into());
    }
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

/// What DescribeCacheClusters says of one member cluster of a replication group.
#[derive(Debug, Clone, PartialEq)]
struct MemberInfo {
    security_groups: Result<Vec<String>, String>,
    subnet_group: Option<String>,
}

/// The member clusters DescribeCacheClusters listed, by id; Err(reason) when it failed.
type Members = Result<BTreeMap<String, MemberInfo>, String>;

fn member_info(c: &SdkCluster) -> MemberInfo {
    let sgs = c.security_groups();
    let ids: Vec<String> = sgs.iter().filter_map(|m| m.security_group_id().map(str::to_string)).collect();
    MemberInfo {
        security_groups: if ids.len() == sgs.len() {
            Ok(ids)
        } else {
            Err(format!("{CLUSTERS} returned a security group of {} without an id", c.cache_cluster_id().unwrap_or("a member cluster")))
        },
        subnet_group: c.cache_subnet_group_name().map(str::to_string),
    }
}

/// The security groups (union) and the cache subnet group of a group's member clusters, read
/// from DescribeCacheClusters: the replication group does not report them itself. Unknown when
/// the listing failed, the group names no members, or a member was not returned (moto lists no
/// member clusters at all).
fn member_network(members: &[String], listed: &Members) -> (Observed<Vec<String>>, Observed<String>) {
    let unknown = |r: String| (Observed::Unknown(r.clone()), Observed::Unknown(r));
    let listed = match listed {
        Err(e) => return unknown(format!("member clusters could not be listed: {e}")),
        Ok(l) => l,
    };
    if members.is_empty() {
        return unknown(format!("{GROUPS} reported no member clusters"));
    }
    let mut sgs = std::collections::BTreeSet::new();
    let mut subnet_groups = std::collections::BTreeSet::new();
    for m in members {
        let Some(info) = listed.get(m) else {
            return unknown(format!("{CLUSTERS} did not return member cluster {m}"));
        };
        match &info.security_groups {
            Ok(ids) => sgs.extend(ids.iter().cloned()),
            Err(reason) => return unknown(reason.clone()),
        }
        match &info.subnet_group {
            Some(g) => {
                subnet_groups.insert(g.clone());
            }
            None => return (Observed::Known(sgs.into_iter().collect()), Observed::Unknown(format!("{CLUSTERS} did not report CacheSubnetGroupName of {m}"))),
        }
    }
    let subnet_group = match subnet_groups.len() {
        1 => Observed::Known(subnet_groups.into_iter().next().unwrap_or_default()),
        _ => Observed::Unknown(format!("member clusters report different cache subnet groups: {}", subnet_groups.into_iter().collect::<Vec<_>>().join(", "))),
    };
    (Observed::Known(sgs.into_iter().collect()), subnet_group)
}

/// SDK replication group → model; Err(missing fields) when it lacks what identifies it.
fn group(ctx: &Ctx, g: &SdkGroup, t: Observed<BTreeMap<String, String>>, listed: &Members) -> Result<ReplicationGroup, Vec<&'static str>> {
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
    let (security_groups, cache_subnet_group) = member_network(g.member_clusters(), listed);
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
        security_groups,
        cache_subnet_group,
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
        security_groups: c.security_groups().iter().filter_map(|m| m.security_group_id().map(str::to_string)).collect(),
        cache_subnet_group: c.cache_subnet_group_name().map(str::to_string),
    })
}

pub async fn collect(ctx: &Ctx) -> ElastiCache {
    let ec = &ctx.clients.elasticache;
    let mut out = ElastiCache::default();
    let (groups, clusters) = tokio::join!(
        ctx.pages("elasticache", GROUPS, ec.describe_replication_groups().max_records(100).into_paginator().send()),
        // node info: the Availability Zone of every node (how a Memcached cluster is spread)
        ctx.pages("elasticache", CLUSTERS, ec.describe_cache_clusters().show_cache_node_info(true).max_records(100).into_paginator().send()),
    );
    // the member clusters of replication groups: their security groups and subnet group
    let listed: Members = match &clusters {
        Err(e) => Err(e.clone()),
        Ok(pages) => Ok(pages
            .iter()
            .flat_map(|p| p.cache_clusters())
            .filter(|c| c.replication_group_id().is_some())
            .filter_map(|c| Some((c.cache_cluster_id()?.to_string(), member_info(c))))
            .collect()),
    };
    let listed = &listed;
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
                Some(group(ctx, &g, t, listed).map_err(|missing| ctx.incomplete("elasticache", GROUPS, g.replication_group_id().unwrap_or(arn), &missing)))
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
        let m = group(&c, &g, known(), &Ok(Default::default())).unwrap();
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
        assert_eq!(group(&c, &broken, known(), &Ok(Default::default())).unwrap_err(), vec!["NodeGroups[].NodeGroupId"]);
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

    #[test]
    fn member_network_is_unknown_unless_every_member_was_listed() {
        let info = |sgs: &[&str], group: Option<&str>| MemberInfo {
            security_groups: Ok(sgs.iter().map(|s| s.to_string()).collect()),
            subnet_group: group.map(str::to_string),
        };
        let members = vec!["rg-001".to_string(), "rg-002".to_string()];
        let both: Members =
            Ok([("rg-001".to_string(), info(&["sg-1"], Some("cache-subnets"))), ("rg-002".to_string(), info(&["sg-1", "sg-2"], Some("cache-subnets")))].into());
        let (sgs, group) = member_network(&members, &both);
        assert_eq!(sgs, Observed::Known(vec!["sg-1".to_string(), "sg-2".to_string()]));
        assert_eq!(group, Observed::Known("cache-subnets".to_string()));
        // moto: DescribeCacheClusters lists no member clusters
        let (sgs, _) = member_network(&members, &Ok(Default::default()));
        assert_eq!(sgs, Observed::Unknown("DescribeCacheClusters did not return member cluster rg-001".into()));
        let one: Members = Ok([("rg-001".to_string(), info(&["sg-1"], Some("cache-subnets")))].into());
        assert!(matches!(member_network(&members, &one).0, Observed::Unknown(_)), "one member missing: not the union of the other");
        let (sgs, group) = member_network(&members, &Err("AccessDenied".into()));
        assert!(matches!((sgs, group), (Observed::Unknown(a), Observed::Unknown(_)) if a.contains("AccessDenied")));
        assert!(matches!(member_network(&[], &both).0, Observed::Unknown(_)));
    }
}
