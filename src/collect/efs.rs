//! EFS: file systems (encryption and tags in the list), backup policy, file system policy and
//! mount targets per file system.

use super::{fan_out, tag_map, Ctx};
use crate::model::efs::*;
use crate::model::Observed;

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
        let (backup, policy, mounts) = tokio::join!(
            ctx.call_opt("efs", "DescribeBackupPolicy", Some(&id), &["PolicyNotFound"], efs.describe_backup_policy().file_system_id(&id).send()),
            ctx.call_opt("efs", "DescribeFileSystemPolicy", Some(&id), &["PolicyNotFound"], efs.describe_file_system_policy().file_system_id(&id).send()),
            ctx.call("efs", "DescribeMountTargets", Some(&id), efs.describe_mount_targets().file_system_id(&id).send()),
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
            mount_targets: mounts.map(|m| m.mount_targets().iter().map(|t| MountTarget { subnet_id: t.subnet_id().to_string() }).collect()).into(),
        }
    })
    .await;
    for f in found {
        out.file_systems.insert(f);
    }
    out
}
