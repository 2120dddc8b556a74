use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rds {
    pub instances: Collection<DbInstance>,
    pub clusters: Collection<DbCluster>,
    pub subnet_groups: Collection<SubnetGroup>,
    pub parameter_groups: Collection<ParameterGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbInstance {
    pub meta: Meta,
    pub engine: String,
    pub engine_version: String,
    pub instance_class: String,
    pub status: String,
    pub storage_encrypted: bool,
    pub kms_key_id: Option<String>,
    pub publicly_accessible: bool,
    pub backup_retention_days: i32,
    pub backup_window: Option<String>,
    pub log_exports: Vec<String>,
    pub multi_az: bool,
    pub deletion_protection: bool,
    pub master_username: Option<String>,
    pub subnet_group: Option<String>,
    pub subnet_ids: Vec<String>,
    pub vpc_id: Option<String>,
    pub security_groups: Vec<String>,
    /// DB parameter group names (instance level).
    pub parameter_groups: Vec<String>,
    /// Set for Aurora members: their cluster holds encryption, backups and logs.
    pub cluster_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbCluster {
    pub meta: Meta,
    pub engine: String,
    pub engine_version: String,
    pub status: String,
    pub storage_encrypted: bool,
    pub kms_key_id: Option<String>,
    pub publicly_accessible: Option<bool>,
    pub backup_retention_days: i32,
    pub backup_window: Option<String>,
    pub log_exports: Vec<String>,
    pub multi_az: bool,
    pub deletion_protection: bool,
    pub master_username: Option<String>,
    pub subnet_group: Option<String>,
    pub security_groups: Vec<String>,
    /// Cluster parameter group name.
    pub parameter_group: Option<String>,
    pub members: Vec<String>,
    pub availability_zones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetGroup {
    pub meta: Meta,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterGroup {
    pub meta: Meta,
    pub family: String,
    /// `instance` or `cluster`
    pub scope: String,
    /// The value of `rds.force_ssl` (None when left at the engine default).
    pub force_ssl: Observed<Option<String>>,
}

resource!(DbInstance, DbCluster, SubnetGroup, ParameterGroup);
