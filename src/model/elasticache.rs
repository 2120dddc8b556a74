use super::{resource, Collection, Meta, Observed};
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
    /// `redis` or `valkey` (older API versions do not report it).
    pub engine: Option<String>,
    pub status: String,
    pub at_rest_encryption: Observed<bool>,
    pub transit_encryption: Observed<bool>,
    /// `preferred` (TLS and plaintext both accepted) or `required` (TLS only); None when the
    /// group does not report one.
    pub transit_encryption_mode: Option<String>,
    pub kms_key_id: Option<String>,
    pub auth_token_enabled: Observed<bool>,
    /// RBAC user groups (an alternative to AUTH tokens)
    pub user_group_ids: Vec<String>,
    /// `enabled`, `disabled`, `enabling`, `disabling`
    pub automatic_failover: Observed<String>,
    /// `enabled` / `disabled`
    pub multi_az: Observed<String>,
    pub snapshot_retention_days: Observed<i32>,
    pub member_clusters: Vec<String>,
    /// Shards (one for cluster mode disabled) and their nodes.
    pub node_groups: Vec<NodeGroup>,
    /// The VPC security groups of the member clusters (DescribeCacheClusters; the replication
    /// group itself does not report them), union over the members. Unknown when a member was
    /// not returned or the listing failed.
    pub security_groups: Observed<Vec<String>>,
    /// The cache subnet group of the member clusters; Unknown as above.
    pub cache_subnet_group: Observed<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeGroup {
    pub id: String,
    /// The cache clusters (nodes) of the shard, primary and replicas.
    pub members: Vec<NodeGroupMember>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeGroupMember {
    pub cache_cluster_id: String,
    /// `primary` / `replica`: reported for cluster mode disabled only.
    pub role: Option<String>,
    pub availability_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheCluster {
    pub meta: Meta,
    pub engine: String,
    pub status: String,
    pub at_rest_encryption: Observed<bool>,
    pub transit_encryption: Observed<bool>,
    pub transit_encryption_mode: Option<String>,
    pub auth_token_enabled: Observed<bool>,
    pub snapshot_retention_days: Observed<i32>,
    pub num_cache_nodes: Observed<i32>,
    /// The Availability Zone of the cluster's nodes, or `Multiple` when they are in different
    /// zones (the cross-az mode of Memcached).
    pub preferred_availability_zone: Observed<String>,
    /// The Availability Zones of the nodes, as DescribeCacheClusters (ShowCacheNodeInfo)
    /// reports them.
    pub node_availability_zones: Vec<String>,
    /// VPC security groups (`SecurityGroups[].SecurityGroupId`).
    pub security_groups: Vec<String>,
    pub cache_subnet_group: Option<String>,
}

resource!(ReplicationGroup, CacheCluster);
