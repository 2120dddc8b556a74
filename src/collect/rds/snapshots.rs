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
use crate::model::{Collection, Observed};
use aws_sdk_rds::types::DbSnapshotAttributesResult;

/// The account ids (or `all`) in the `restore` attribute; no `restore` attribute: nobody.
pub(crate) fn restore_values(attrs: &[aws_sdk_rds::types::DbSnapshotAttribute]) -> Vec<String> {
    attrs.iter().filter(|a| a.attribute_name() == Some("restore")).flat_map(|a| a.attribute_values().iter().cloned()).collect()
}

fn cluster_restore_values(attrs: &[aws_sdk_rds::types::DbClusterSnapshotAttribute]) -> Vec<String> {
    attrs.iter().filter(|a| a.attribute_name() == Some("restore")).flat_map(|a| a.attribute_values().iter().cloned()).collect()
}

/// A snapshot as either listing describes it, before its attributes are read.
struct Raw {
    id: Option<String>,
    arn: Option<String>,
    tags: Observed<std::collections::BTreeMap<String, String>>,
    source: Option<String>,
    snapshot_type: Option<String>,
    status: Option<String>,
    encrypted: Option<bool>,
    kms_key_id: Option<String>,
}

fn raw_instance(s: &aws_sdk_rds::types::DbSnapshot) -> Raw {
    Raw {
        id: s.db_snapshot_identifier().map(str::to_string),
        arn: s.db_snapshot_arn().map(str::to_string),
        tags: tags(s.tag_list()),
        source: s.db_instance_identifier().map(str::to_string),
        snapshot_type: s.snapshot_type().map(str::to_string),
        status: s.status().map(str::to_string),
        encrypted: s.encrypted(),
        kms_key_id: s.kms_key_id().map(str::to_string),
    }
}

fn raw_cluster(s: &aws_sdk_rds::types::DbClusterSnapshot) -> Raw {
    Raw {
        id: s.db_cluster_snapshot_identifier().map(str::to_string),
        arn: s.db_cluster_snapshot_arn().map(str::to_string),
        tags: tags(s.tag_list()),
        source: s.db_cluster_identifier().map(str::to_string),
        snapshot_type: s.snapshot_type().map(str::to_string),
        status: s.status().map(str::to_string),
        encrypted: s.storage_encrypted(),
        kms_key_id: s.kms_key_id().map(str::to_string),
    }
}

/// What differs between the two kinds of snapshot.
struct Kind {
    resource_type: &'static str,
    list: &'static str,
    /// The listing's field names, for what a snapshot was returned without.
    fields: [&'static str; 3],
}

const INSTANCE: Kind = Kind { resource_type: "rds:db-snapshot", list: "DescribeDBSnapshots", fields: ["DBSnapshotIdentifier", "DBSnapshotArn", "Encrypted"] };
const CLUSTER: Kind = Kind {
    resource_type: "rds:db-cluster-snapshot",
    list: "DescribeDBClusterSnapshots",
    fields: ["DBClusterSnapshotIdentifier", "DBClusterSnapshotArn", "StorageEncrypted"],
};

/// The snapshots in scope of one listing, each with who may restore it (`restore_of`: the
/// attribute call for one snapshot identifier), asked only of snapshots that can be shared.
async fn gather<F, Fut>(ctx: &Ctx, kind: &Kind, listing: Result<Vec<Raw>, String>, restore_of: F) -> Collection<DbSnapshot>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<String>, String>>,
{
    let mut out = Collection::default();
    let listed = match listing {
        Ok(l) => l,
        Err(e) => {
            out.fail(&ctx.region, e);
            return out;
        }
    };
    let mut wanted = Vec::new();
    for r in listed {
        let (Some(id), Some(arn)) = (r.id.clone(), r.arn.clone()) else {
            let name = r.id.as_deref().unwrap_or("a snapshot");
            out.fail(&ctx.region, ctx.incomplete("rds", kind.list, name, &kind.fields[..2]));
            continue;
        };
        if ctx.scope.wants(&r.tags) {
            wanted.push((id, arn, r));
        }
    }
    let restore_of = &restore_of;
    let found = fan_out(ctx, wanted, |(id, arn, r)| async move {
        let snapshot_type = reported(r.snapshot_type, kind.list, "SnapshotType");
        let restore_allowed = match snapshot_type.known().map(String::as_str) {
            Some("automated") => Observed::Known(vec![]),
            _ => restore_of(id.clone()).await.into(),
        };
        DbSnapshot {
            meta: ctx.meta(kind.resource_type, &id, arn, Some(id.clone()), r.tags),
            source: r.source,
            snapshot_type,
            status: r.status,
            encrypted: reported(r.encrypted, kind.list, kind.fields[2]),
            kms_key_id: r.kms_key_id,
            restore_allowed,
        }
    })
    .await;
    for s in found {
        out.insert(s);
    }
    out
}

async fn instance_snapshots(ctx: &Ctx) -> Collection<DbSnapshot> {
    let r = &ctx.clients.rds;
    let listing = ctx.pages("rds", INSTANCE.list, r.describe_db_snapshots().into_paginator().send()).await;
    let listing = listing.map(|pages| pages.iter().flat_map(|p| p.db_snapshots()).map(raw_instance).collect());
    gather(ctx, &INSTANCE, listing, |id| async move {
        ctx.call("rds", "DescribeDBSnapshotAttributes", Some(&id), r.describe_db_snapshot_attributes().db_snapshot_identifier(&id).send())
            .await?
            .db_snapshot_attributes_result()
            .map(|a: &DbSnapshotAttributesResult| restore_values(a.db_snapshot_attributes()))
            .ok_or_else(|| format!("rds:DescribeDBSnapshotAttributes for {id} returned no DBSnapshotAttributesResult"))
    })
    .await
}

async fn cluster_snapshots(ctx: &Ctx) -> Collection<DbSnapshot> {
    let r = &ctx.clients.rds;
    let listing = ctx.pages("rds", CLUSTER.list, r.describe_db_cluster_snapshots().into_paginator().send()).await;
    let listing = listing.map(|pages| pages.iter().flat_map(|p| p.db_cluster_snapshots()).map(raw_cluster).collect());
    gather(ctx, &CLUSTER, listing, |id| async move {
        ctx.call(
            "rds",
            "DescribeDBClusterSnapshotAttributes",
            Some(&id),
            r.describe_db_cluster_snapshot_attributes().db_cluster_snapshot_identifier(&id).send(),
        )
        .await?
        .db_cluster_snapshot_attributes_result()
        .map(|a| cluster_restore_values(a.db_cluster_snapshot_attributes()))
        .ok_or_else(|| format!("rds:DescribeDBClusterSnapshotAttributes for {id} returned no DBClusterSnapshotAttributesResult"))
    })
    .await
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

#[cfg(test)]
mod collect_tests {
    use super::*;
    use crate::collect::testing::{calls, ctx};
    use aws_sdk_rds::operation::describe_db_cluster_snapshots::DescribeDBClusterSnapshotsError;
    use aws_sdk_rds::operation::describe_db_snapshot_attributes::{DescribeDBSnapshotAttributesError, DescribeDbSnapshotAttributesOutput};
    use aws_sdk_rds::operation::describe_db_snapshots::DescribeDbSnapshotsOutput;
    use aws_sdk_rds::types::{DbSnapshot as SdkSnapshot, DbSnapshotAttribute};
    use aws_sdk_rds::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    fn snap(id: &str, kind: &str) -> SdkSnapshot {
        SdkSnapshot::builder()
            .db_snapshot_identifier(id)
            .db_snapshot_arn(format!("arn:aws:rds:us-east-1:123456789012:snapshot:{id}"))
            .snapshot_type(kind)
            .encrypted(true)
            .build()
    }

    fn denied() -> ErrorMetadata {
        ErrorMetadata::builder().code("AccessDenied").message("not allowed").build()
    }

    #[tokio::test]
    async fn only_shareable_snapshots_are_asked_and_what_fails_is_unknown() {
        let list = mock!(Client::describe_db_snapshots).then_output(|| {
            DescribeDbSnapshotsOutput::builder()
                .db_snapshots(snap("rds:db-2026-11-30", "automated"))
                .db_snapshots(snap("export", "manual"))
                .db_snapshots(snap("denied", "manual"))
                .build()
        });
        let export = mock!(Client::describe_db_snapshot_attributes).match_requests(|r| r.db_snapshot_identifier() == Some("export")).then_output(|| {
            DescribeDbSnapshotAttributesOutput::builder()
                .db_snapshot_attributes_result(
                    DbSnapshotAttributesResult::builder()
                        .db_snapshot_attributes(DbSnapshotAttribute::builder().attribute_name("restore").attribute_values("all").build())
                        .build(),
                )
                .build()
        });
        let denied_attr = mock!(Client::describe_db_snapshot_attributes)
            .match_requests(|r| r.db_snapshot_identifier() == Some("denied"))
            .then_error(|| DescribeDBSnapshotAttributesError::generic(denied()));
        let clusters = mock!(Client::describe_db_cluster_snapshots).then_error(|| DescribeDBClusterSnapshotsError::generic(denied()));
        let client = mock_client!(aws_sdk_rds, RuleMode::MatchAny, &[&list, &export, &denied_attr, &clusters]);
        let c = ctx(|cl| cl.rds = client);
        let (snaps, cluster_snaps) = collect(&c).await;
        let by_id = |id: &str| snaps.iter().find(|s| s.meta.id == id).unwrap_or_else(|| panic!("{id} collected"));
        assert_eq!(by_id("rds:db-2026-11-30").restore_allowed, Observed::Known(vec![]), "automated snapshots cannot be shared");
        assert_eq!(by_id("export").restore_allowed, Observed::Known(vec!["all".to_string()]));
        assert!(matches!(by_id("denied").restore_allowed, Observed::Unknown(_)), "a failed attribute call is unknown, never nobody");
        assert_eq!(calls(&c, "rds", "DescribeDBSnapshotAttributes"), 2, "one call per manual snapshot, none for the automated one");
        assert!(cluster_snaps.is_empty() && cluster_snaps.failed_in("us-east-1").is_some(), "a failed listing is a collection failure");
    }
}
