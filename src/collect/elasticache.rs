//! ElastiCache: replication groups and stand-alone cache clusters (tags per ARN).

use super::{fan_out, tag_map, Ctx};
use crate::model::elasticache::*;
use crate::model::Observed;

async fn tags(ctx: &Ctx, arn: &str) -> Observed<std::collections::BTreeMap<String, String>> {
    ctx.call("elasticache", "ListTagsForResource", Some(arn), ctx.clients.elasticache.list_tags_for_resource().resource_name(arn).send())
        .await
        .map(|t| tag_map(t.tag_list().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))))
        .into()
}

pub async fn collect(ctx: &Ctx) -> ElastiCache {
    let ec = &ctx.clients.elasticache;
    let mut out = ElastiCache::default();
    let (groups, clusters) = tokio::join!(
        ctx.pages("elasticache", "DescribeReplicationGroups", ec.describe_replication_groups().into_paginator().send()),
        ctx.pages("elasticache", "DescribeCacheClusters", ec.describe_cache_clusters().into_paginator().send()),
    );
    match groups {
        Err(e) => out.replication_groups.fail(&ctx.region, e),
        Ok(pages) => {
            let list: Vec<_> = pages.iter().flat_map(|p| p.replication_groups().to_vec()).collect();
            let found = fan_out(ctx, list, |g| async move {
                let arn = g.arn().unwrap_or_default().to_string();
                let t = tags(ctx, &arn).await;
                let id = g.replication_group_id().unwrap_or_default();
                ctx.scope.wants(&t).then(|| ReplicationGroup {
                    meta: ctx.meta("elasticache:replication-group", id, arn.clone(), Some(id.to_string()), t),
                    engine: g.engine().map(str::to_string),
                    status: g.status().unwrap_or_default().to_string(),
                    at_rest_encryption: g.at_rest_encryption_enabled().unwrap_or(false),
                    transit_encryption: g.transit_encryption_enabled().unwrap_or(false),
                    kms_key_id: g.kms_key_id().map(str::to_string),
                    auth_token_enabled: g.auth_token_enabled().unwrap_or(false),
                    user_group_ids: g.user_group_ids().to_vec(),
                    automatic_failover: g.automatic_failover().map(|a| a.as_str().to_string()).unwrap_or_else(|| "disabled".into()),
                    multi_az: g.multi_az().map(|a| a.as_str().to_string()).unwrap_or_else(|| "disabled".into()),
                    snapshot_retention_days: g.snapshot_retention_limit().unwrap_or(0),
                    member_clusters: g.member_clusters().to_vec(),
                })
            })
            .await;
            for g in found.into_iter().flatten() {
                out.replication_groups.insert(g);
            }
        }
    }
    match clusters {
        Err(e) => out.clusters.fail(&ctx.region, e),
        Ok(pages) => {
            let list: Vec<_> = pages.iter().flat_map(|p| p.cache_clusters().to_vec()).filter(|c| c.replication_group_id().is_none()).collect();
            let found = fan_out(ctx, list, |c| async move {
                let arn = c.arn().unwrap_or_default().to_string();
                let t = tags(ctx, &arn).await;
                let id = c.cache_cluster_id().unwrap_or_default();
                ctx.scope.wants(&t).then(|| CacheCluster {
                    meta: ctx.meta("elasticache:cluster", id, arn.clone(), Some(id.to_string()), t),
                    engine: c.engine().unwrap_or_default().to_string(),
                    status: c.cache_cluster_status().unwrap_or_default().to_string(),
                    at_rest_encryption: c.at_rest_encryption_enabled().unwrap_or(false),
                    transit_encryption: c.transit_encryption_enabled().unwrap_or(false),
                    auth_token_enabled: c.auth_token_enabled().unwrap_or(false),
                    snapshot_retention_days: c.snapshot_retention_limit().unwrap_or(0),
                    az_mode: None,
                })
            })
            .await;
            for c in found.into_iter().flatten() {
                out.clusters.insert(c);
            }
        }
    }
    out
}
