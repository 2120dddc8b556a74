use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Efs {
    pub file_systems: Collection<FileSystem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountTarget {
    pub id: String,
    pub subnet_id: String,
    pub vpc_id: Option<String>,
    pub availability_zone: Option<String>,
    /// DescribeMountTargetSecurityGroups: who may reach NFS (2049) on the mount target.
    pub security_groups: Observed<Vec<String>>,
}

/// An access point: the identity and directory every NFS client using it is forced into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessPoint {
    pub id: String,
    pub arn: String,
    pub name: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// `RootDirectory.Path`: `/` is the file system's root (AWS reports it when none was set).
    pub root_directory: Observed<String>,
    /// `PosixUser`: None when the access point enforces no user (clients keep their own ids).
    pub posix_user: Option<PosixUser>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PosixUser {
    pub uid: i64,
    pub gid: i64,
    pub secondary_gids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSystem {
    pub meta: Meta,
    pub encrypted: Observed<bool>,
    pub kms_key_id: Option<String>,
    /// `ENABLED`, `DISABLED`, `ENABLING`, `DISABLING`
    pub backup_policy: Observed<String>,
    /// The file system policy; None when there is none.
    pub policy: Observed<Option<serde_json::Value>>,
    pub mount_targets: Observed<Vec<MountTarget>>,
    pub access_points: Observed<Vec<AccessPoint>>,
    /// `TransitionToIA` of the lifecycle configuration (`AFTER_30_DAYS`); None when no policy
    /// transitions files to Infrequent Access.
    pub transition_to_ia: Observed<Option<String>>,
}

resource!(FileSystem);
