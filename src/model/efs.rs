use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Efs {
    pub file_systems: Collection<FileSystem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountTarget {
    pub subnet_id: String,
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
}

resource!(FileSystem);
