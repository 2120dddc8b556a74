//! EC2 storage: the EBS snapshots this account owns (DescribeSnapshots `OwnerIds=self`, one
//! paginated listing, plus DescribeSnapshotAttribute `createVolumePermission` per snapshot: the
//! listing does not say who may use a snapshot) and, account-wide, the region's EBS encryption
//! by default (GetEbsEncryptionByDefault).

use super::{tags, Ctx};
use crate::collect::fan_out;
use crate::model::ec2::{EbsDefaults, Snapshot, VolumePermission};
use crate::model::{Collection, Observed};
use aws_sdk_ec2::types::{CreateVolumePermission, SnapshotAttributeName};

/// One `createVolumePermission` entry as DescribeSnapshotAttribute lists it.
pub(crate) fn volume_permission(p: &CreateVolumePermission) -> Result<VolumePermission, String> {
    let group = p.group().map(|g| g.as_str().to_string());
    let user_id = p.user_id().map(str::to_string);
    if group.is_none() && user_id.is_none() {
        return Err("a createVolumePermission entry without Group or UserId".into());
    }
    Ok(VolumePermission { group, user_id })
}

async fn permissions(ctx: &Ctx, id: &str) -> Observed<Vec<VolumePermission>> {
    let e = &ctx.clients.ec2;
    ctx.call(
        "ec2",
        "DescribeSnapshotAttribute",
        Some(id),
        e.describe_snapshot_attribute().snapshot_id(id).attribute(SnapshotAttributeName::CreateVolumePermission).send(),
    )
    .await
    .and_then(|o| {
        o.create_volume_permissions()
            .iter()
            .map(volume_permission)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| format!("ec2:DescribeSnapshotAttribute for {id} returned {m}"))
    })
    .into()
}

async fn snapshots(ctx: &Ctx) -> Collection<Snapshot> {
    let e = &ctx.clients.ec2;
    let mut out = Collection::default();
    let pages = match ctx.pages("ec2", "DescribeSnapshots", e.describe_snapshots().owner_ids("self").max_results(1000).into_paginator().send()).await {
        Ok(p) => p,
        Err(r) => {
            out.fail(&ctx.region, r);
            return out;
        }
    };
    let mut listed = Vec::new();
    for s in pages.iter().flat_map(|p| p.snapshots().to_vec()) {
        let t = tags(s.tags());
        match s.snapshot_id() {
            None => {
                let reason = ctx.incomplete("ec2", "DescribeSnapshots", "a snapshot", &["SnapshotId"]);
                out.fail(&ctx.region, reason);
            }
            Some(_) if ctx.scope.wants(&t) => listed.push((s, t)),
            Some(_) => {}
        }
    }
    let found = fan_out(ctx, listed, |(s, t)| async move {
        let id = s.snapshot_id().expect("checked above").to_string();
        let name = super::name_of(s.tags());
        Snapshot {
            meta: ctx.meta("ec2:snapshot", &id, ctx.arn("ec2", &format!("snapshot/{id}")), name, t),
            volume_id: s.volume_id().map(str::to_string),
            state: s.state().map(|s| s.as_str().to_string()),
            encrypted: crate::collect::reported(s.encrypted(), "DescribeSnapshots", "Encrypted"),
            kms_key_id: s.kms_key_id().map(str::to_string),
            create_volume_permissions: permissions(ctx, &id).await,
        }
    })
    .await;
    for s in found {
        out.insert(s);
    }
    out
}

async fn ebs_defaults(ctx: &Ctx) -> Collection<EbsDefaults> {
    let e = &ctx.clients.ec2;
    let on = ctx
        .call("ec2", "GetEbsEncryptionByDefault", None, e.get_ebs_encryption_by_default().send())
        .await
        .and_then(|o| o.ebs_encryption_by_default().ok_or_else(|| "ec2:GetEbsEncryptionByDefault did not report EbsEncryptionByDefault".to_string()));
    let meta = ctx.region_record("ec2:ebs-defaults", "ec2", "ebs-defaults");
    let mut out = Collection::default();
    out.insert(EbsDefaults { meta, encryption_by_default: on.into() });
    out
}

/// The snapshots in scope and, account-wide, the region's EBS defaults.
pub async fn collect(ctx: &Ctx) -> (Collection<Snapshot>, Collection<EbsDefaults>) {
    let defaults = async {
        if ctx.scope.account_wide() {
            ebs_defaults(ctx).await
        } else {
            Collection::default()
        }
    };
    tokio::join!(snapshots(ctx), defaults)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::PermissionGroup;

    #[test]
    fn volume_permissions_map_or_name_what_is_missing() {
        let all = CreateVolumePermission::builder().group(PermissionGroup::All).build();
        assert_eq!(volume_permission(&all).unwrap(), VolumePermission { group: Some("all".into()), user_id: None });
        let account = CreateVolumePermission::builder().user_id("210987654321").build();
        assert_eq!(volume_permission(&account).unwrap().user_id.as_deref(), Some("210987654321"));
        assert!(volume_permission(&CreateVolumePermission::builder().build()).is_err(), "an entry naming nobody is not an empty grant");
    }
}
