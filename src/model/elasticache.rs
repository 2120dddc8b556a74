use super::{resource, Collection, Meta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElastiCache {
    pub replication_groups: Collection<ReplicationGroup>,
    /// Clusters that belong to no replication group.
    pub clusters: Collection<CacheCluster>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationGroup {
    pub meta: Meta,
    pub engine: Option<String>,
    pub status: String,
    pub at_rest_encryption: bool,
    pub transit_encryption: bool,
    pub kms_key_id: Option<String>,
    pub auth_token_enabled: bool,
    /// RBAC user groups (an alternative to AUTH tokens)
    pub user_group_ids: Vec<String>,
    /// `enabled`, `disabled`, `enabling`, `disabling`
    pub automatic_failover: String,
    /// `enabled` / `disabled`
    pub multi_az: String,
    pub snapshot_retention_days: i32,
    pub member_clusters: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheCluster {
    pub meta: Meta,
    pub engine: String,
    pub status: String,
    pub at_rest_encryption: bool,
    pub transit_encryption: bool,
    pub auth_token_enabled: bool,
    pub snapshot_retention_days: i32,
    pub az_mode: Option<String>,
}

resource!(ReplicationGroup, CacheCluster);
