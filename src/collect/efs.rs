//! EFS: file systems (encryption and tags in the list), and per file system its backup policy,
//! file system policy, lifecycle configuration, access points and mount targets with each
//! mount target's security groups.

use super::{fan_out, reported, tag_map, Ctx};
use crate::model::efs::*;
use crate::model::Observed;
use aws_sdk_efs::types::AccessPointDescription;

/// An access point → model; Err when it lacks its id or ARN (an incomplete answer).
/// `PosixUser` absent: the access point enforces no identity, NFS clients keep their own user
/// and group ids (EFS API, AccessPointDescription.PosixUser, "used for all file operations by
/// NFS clients using the access point"; AWS Security Hub EFS.4 fails an access point without
/// one). `RootDirectory.Path` absent: Unknown (AWS reports `/` for an access point created
/// without one).
fn access_point(fs: &str, a: &AccessPointDescription) -> Result<AccessPoint, String> {
    let (Some(id), Some(arn)) = (a.access_point_id(), a.access_point_arn()) else {
        return Err(format!("efs:DescribeAccessPoints returned an access point of {fs} without AccessPointId or AccessPointArn"));
    };
    Ok(AccessPoint {
        id: id.to_string(),
        arn: arn.to_string(),
        name: a.name().map(str::to_string),
        tags: tag_map(a.tags().iter().map(|t| (t.key(), t.value()))),
        root_directory: reported(a.root_directory().and_then(|r| r.path()).map(str::to_string), "DescribeAccessPoints", "RootDirectory.Path"),
        posix_user: a.posix_user().map(|u| PosixUser { uid: u.uid(), gid: u.gid(), secondary_gids: u.secondary_gids().to_vec() }),
    })
}

/// The mount targets of a file system, each with its security groups (one
/// DescribeMountTargetSecurityGroups call per mount target). A failed call leaves that mount
/// target's groups Unknown.
async fn mount_targets(ctx: &Ctx, fs: &str) -> Result<Vec<MountTarget>, String> {
    let efs = &ctx.clients.efs;
    let list = ctx.call("efs", "DescribeMountTargets", Some(fs), efs.describe_mount_targets().file_system_id(fs).send()).await?;
    let targets = list.mount_targets().to_vec();
    Ok(fan_out(ctx, targets, |t| async move {
        let id = t.mount_target_id().to_string();
        let groups = ctx
            .call("efs", "DescribeMountTargetSecurityGroups", Some(&id), efs.describe_mount_target_security_groups().mount_target_id(&id).send())
            .await
            .map(|g| g.security_groups().to_vec());
        MountTarget {
            id,
            subnet_id: t.subnet_id().to_string(),
            vpc_id: t.vpc_id().map(str::to_string),
            availability_zone: t.availability_zone_name().map(str::to_string),
            security_groups: groups.into(),
        }
    })
    .await)
}

pub async fn collect(ctx: &Ctx) -> Efs {
    let efs = &ctx.clients.efs;
    let mut out = Efs::default();
    let list = match ctx.pages("efs", "DescribeFileSystems", efs.describe_file_systems().into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.file_systems().to_vec()).collect::<Vec<_>>(),
        Err(e) => {
            out.file_systems.fail(&ctx.region, e);
            return out;
        }
    };
    let list: Vec<_> = list.into_iter().filter(|f| ctx.scope.wants(&Observed::Known(tag_map(f.tags().iter().map(|t| (t.key(), t.value())))))).collect();
    let found = fan_out(ctx, list, |f| async move {
        let id = f.file_system_id().to_string();
        let (backup, policy, mounts, points, lifecycle) = tokio::join!(
            ctx.call_opt("efs", "DescribeBackupPolicy", Some(&id), &["PolicyNotFound"], efs.describe_backup_policy().file_system_id(&id).send()),
            ctx.call_opt("efs", "DescribeFileSystemPolicy", Some(&id), &["PolicyNotFound"], efs.describe_file_system_policy().file_system_id(&id).send()),
            mount_targets(ctx, &id),
            ctx.pages("efs", "DescribeAccessPoints", efs.describe_access_points().file_system_id(&id).into_paginator().send()),
            ctx.call("efs", "DescribeLifecycleConfiguration", Some(&id), efs.describe_lifecycle_configuration().file_system_id(&id).send()),
        );
        FileSystem {
            meta: ctx.meta(
                "efs:file-system",
                &id,
                f.file_system_arn().map(str::to_string).unwrap_or_else(|| ctx.arn("elasticfilesystem", &format!("file-system/{id}"))),
                f.name().map(str::to_string),
                Observed::Known(tag_map(f.tags().iter().map(|t| (t.key(), t.value())))),
            ),
            encrypted: f
                .encrypted()
                .map(Observed::Known)
                .unwrap_or_else(|| Observed::Unknown(format!("efs:DescribeFileSystems returned no Encrypted for {id}"))),
            kms_key_id: f.kms_key_id().map(str::to_string),
            // PolicyNotFound: "Returned if the default backup policy is not enabled for the file
            // system" (EFS API, DescribeBackupPolicy errors): automatic backups are off
            backup_policy: backup
                .and_then(|b| match b {
                    None => Ok("DISABLED".to_string()),
                    Some(b) => b
                        .backup_policy()
                        .map(|p| p.status().as_str().to_string())
                        .ok_or_else(|| format!("efs:DescribeBackupPolicy for {id} returned no BackupPolicy")),
                })
                .into(),
            // PolicyNotFound: "Returned if no backup policy exists for the specified file system"
            // — for DescribeFileSystemPolicy, no file system policy: the default (open to clients
            // with network access) applies
            policy: policy
                .and_then(|p| match p {
                    None => Ok(None),
                    Some(p) => {
                        let doc = p.policy().ok_or_else(|| format!("efs:DescribeFileSystemPolicy for {id} returned no Policy"))?;
                        serde_json::from_str(doc).map(Some).map_err(|e| format!("file system policy of {id} is not JSON: {e}"))
                    }
                })
                .into(),
            mount_targets: mounts.into(),
            access_points: points
                .and_then(|pages| pages.iter().flat_map(|p| p.access_points()).map(|a| access_point(&id, a)).collect::<Result<Vec<_>, String>>())
                .into(),
            // an empty LifecyclePolicies list: no lifecycle management (files stay in Standard)
            transition_to_ia: lifecycle.map(|l| l.lifecycle_policies().iter().find_map(|p| p.transition_to_ia()).map(|r| r.as_str().to_string())).into(),
        }
    })
    .await;
    for f in found {
        out.file_systems.insert(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_efs::types::{PosixUser as SdkUser, RootDirectory};

    #[test]
    fn access_points() {
        let base = || {
            AccessPointDescription::builder().access_point_id("fsap-1").access_point_arn("arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1")
        };
        let confined = base()
            .posix_user(SdkUser::builder().uid(1000).gid(1000).secondary_gids(2000).build().unwrap())
            .root_directory(RootDirectory::builder().path("/records").build())
            .build();
        let a = access_point("fs-1", &confined).unwrap();
        assert_eq!(a.root_directory, Observed::Known("/records".into()));
        assert_eq!(a.posix_user, Some(PosixUser { uid: 1000, gid: 1000, secondary_gids: vec![2000] }));
        // no PosixUser: none enforced; no RootDirectory: unknown, not "/"
        let open = access_point("fs-1", &base().build()).unwrap();
        assert_eq!(open.posix_user, None);
        assert_eq!(open.root_directory, Observed::Unknown("DescribeAccessPoints did not report RootDirectory.Path".into()));
        assert!(access_point("fs-1", &AccessPointDescription::builder().build()).is_err());
    }
}
