//! RDS snapshots this account owns: DB snapshots and DB cluster snapshots (one paginated listing
//! each; tags, type and encryption come with it) and who may restore them (the `restore`
//! attribute of DescribeDB(Cluster)SnapshotAttributes, one call per manual snapshot).
//!
//! Automated snapshots are not asked: "You can't share an automated DB snapshot" (copy it to a
//! manual one first; https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html
//! and, for clusters, https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-share-snapshot.html),
//! so nobody else may restore one. A snapshot whose type is not reported is asked.

use super::{tags, Ctx};
use crate::collect::{fan_out, reported};
use crate::model::rds::DbSnapshot;
use crate::model::{Collection, Meta, Observed};
use aws_sdk_rds::types::DbSnapshotAttributesResult;

/// The account ids (or `all`) in the `restore` attribute; no `restore` attribute: nobody.
pub(crate) fn restore_values(attrs: &[aws_sdk_rds::types::DbSnapshotAttribute]) -> Vec<String> {
    attrs.iter().filter(|a| a.attribute_name() == Some("restore")).flat_map(|a| a.attribute_values().iter().cloned()).collect()
}

fn cluster_restore_values(attrs: &[aws_sdk_rds::types::DbClusterSnapshotAttribute]) -> Vec<String> {
    attrs.iter().filter(|a| a.attribute_name() == Some("restore")).flat_map(|a| a.attribute_values().iter().cloned()).collect()
}

/// A snapshot as listed, before its attributes are read.
struct Listed {
    meta: Meta,
    source: Option<String>,
    snapshot_type: Observed<String>,
    status: Option<String>,
    encrypted: Observed<bool>,
    kms_key_id: Option<String>,
}

impl Listed {
    fn shared_by_type(&self) -> bool {
        !matches!(self.snapshot_type.known().map(String::as_str), Some("automated"))
    }

    fn with(self, restore_allowed: Observed<Vec<String>>) -> DbSnapshot {
        DbSnapshot {
            meta: self.meta,
            source: self.source,
            snapshot_type: self.snapshot_type,
            status: self.status,
            encrypted: self.encrypted,
            kms_key_id: self.kms_key_id,
            restore_allowed,
        }
    }
}

const LIST: &str = "DescribeDBSnapshots";
const LIST_CLUSTER: &str = "DescribeDBClusterSnapshots";

async fn instance_snapshots(ctx: &Ctx) -> Collection<DbSnapshot> {
    let r = &ctx.clients.rds;
    let mut out = Collection::default();
    let pages = match ctx.pages("rds", LIST, r.describe_db_snapshots().into_paginator().send()).await {
        Ok(p) => p,
        Err(e) => {
            out.fail(&ctx.region, e);
            return out;
        }
    };
    let mut listed = Vec::new();
    for s in pages.iter().flat_map(|p| p.db_snapshots()) {
        let t = tags(s.tag_list());
        let (Some(id), Some(arn)) = (s.db_snapshot_identifier(), s.db_snapshot_arn()) else {
            let name = s.db_snapshot_identifier().unwrap_or("a DB snapshot");
            out.fail(&ctx.region, ctx.incomplete("rds", LIST, name, &["DBSnapshotIdentifier", "DBSnapshotArn"]));
            continue;
        };
        if !ctx.scope.wants(&t) {
            continue;
        }
        listed.push(Listed {
            meta: ctx.meta("rds:db-snapshot", id, arn.to_string(), Some(id.to_string()), t),
            source: s.db_instance_identifier().map(str::to_string),
            snapshot_type: reported(s.snapshot_type().map(str::to_string), LIST, "SnapshotType"),
            status: s.status().map(str::to_string),
            encrypted: reported(s.encrypted(), LIST, "Encrypted"),
            kms_key_id: s.kms_key_id().map(str::to_string),
        });
    }
    let found = fan_out(ctx, listed, |l| async move {
        if !l.shared_by_type() {
            return l.with(Observed::Known(vec![]));
        }
        let id = l.meta.id.clone();
        let got = ctx
            .call("rds", "DescribeDBSnapshotAttributes", Some(&id), r.describe_db_snapshot_attributes().db_snapshot_identifier(&id).send())
            .await
            .and_then(|o| {
                o.db_snapshot_attributes_result()
                    .map(|a: &DbSnapshotAttributesResult| restore_values(a.db_snapshot_attributes()))
                    .ok_or_else(|| format!("rds:DescribeDBSnapshotAttributes for {id} returned no DBSnapshotAttributesResult"))
            });
        l.with(got.into())
    })
    .await;
    for s in found {
        out.insert(s);
    }
    out
}

async fn cluster_snapshots(ctx: &Ctx) -> Collection<DbSnapshot> {
    let r = &ctx.clients.rds;
    let mut out = Collection::default();
    let pages = match ctx.pages("rds", LIST_CLUSTER, r.describe_db_cluster_snapshots().into_paginator().send()).await {
        Ok(p) => p,
        Err(e) => {
            out.fail(&ctx.region, e);
            return out;
        }
    };
    let mut listed = Vec::new();
    for s in pages.iter().flat_map(|p| p.db_cluster_snapshots()) {
        let t = tags(s.tag_list());
        let (Some(id), Some(arn)) = (s.db_cluster_snapshot_identifier(), s.db_cluster_snapshot_arn()) else {
            let name = s.db_cluster_snapshot_identifier().unwrap_or("a DB cluster snapshot");
            out.fail(&ctx.region, ctx.incomplete("rds", LIST_CLUSTER, name, &["DBClusterSnapshotIdentifier", "DBClusterSnapshotArn"]));
            continue;
        };
        if !ctx.scope.wants(&t) {
            continue;
        }
        listed.push(Listed {
            meta: ctx.meta("rds:db-cluster-snapshot", id, arn.to_string(), Some(id.to_string()), t),
            source: s.db_cluster_identifier().map(str::to_string),
            snapshot_type: reported(s.snapshot_type().map(str::to_string), LIST_CLUSTER, "SnapshotType"),
            status: s.status().map(str::to_string),
            encrypted: reported(s.storage_encrypted(), LIST_CLUSTER, "StorageEncrypted"),
            kms_key_id: s.kms_key_id().map(str::to_string),
        });
    }
    let found = fan_out(ctx, listed, |l| async move {
        if !l.shared_by_type() {
            return l.with(Observed::Known(vec![]));
        }
        let id = l.meta.id.clone();
        let got = ctx
            .call(
                "rds",
                "DescribeDBClusterSnapshotAttributes",
                Some(&id),
                r.describe_db_cluster_snapshot_attributes().db_cluster_snapshot_identifier(&id).send(),
            )
            .await
            .and_then(|o| {
                o.db_cluster_snapshot_attributes_result()
                    .map(|a| cluster_restore_values(a.db_cluster_snapshot_attributes()))
                    .ok_or_else(|| format!("rds:DescribeDBClusterSnapshotAttributes for {id} returned no DBClusterSnapshotAttributesResult"))
            });
        l.with(got.into())
    })
    .await;
    for s in found {
        out.insert(s);
    }
    out
}

/// DB snapshots and DB cluster snapshots in scope.
pub async fn collect(ctx: &Ctx) -> (Collection<DbSnapshot>, Collection<DbSnapshot>) {
    tokio::join!(instance_snapshots(ctx), cluster_snapshots(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::types::DbSnapshotAttribute;

    #[test]
    fn only_the_restore_attribute_says_who_may_restore() {
        let attrs = vec![
            DbSnapshotAttribute::builder().attribute_name("restore").attribute_values("210987654321").attribute_values("all").build(),
            DbSnapshotAttribute::builder().attribute_name("other").attribute_values("x").build(),
        ];
        assert_eq!(restore_values(&attrs), vec!["210987654321".to_string(), "all".to_string()]);
        assert!(restore_values(&[]).is_empty());
    }
}
