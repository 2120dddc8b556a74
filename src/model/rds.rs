use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rds {
    pub instances: Collection<DbInstance>,
    pub clusters: Collection<DbCluster>,
    pub subnet_groups: Collection<SubnetGroup>,
    pub parameter_groups: Collection<ParameterGroup>,
    /// Manual and automated DB snapshots this account owns.
    pub snapshots: Collection<DbSnapshot>,
    pub cluster_snapshots: Collection<DbSnapshot>,
}

/// A DB snapshot (`rds:db-snapshot`) or DB cluster snapshot (`rds:db-cluster-snapshot`) this
/// account owns; id the snapshot identifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbSnapshot {
    pub meta: Meta,
    /// The DB instance or cluster it was taken of.
    pub source: Option<String>,
    /// `manual`, `automated`, `awsbackup`, ...
    pub snapshot_type: Observed<String>,
    pub status: Option<String>,
    pub encrypted: Observed<bool>,
    pub kms_key_id: Option<String>,
    /// The account ids (or `all`: public) allowed to copy or restore it (the `restore`
    /// attribute of DescribeDB(Cluster)SnapshotAttributes).
    pub restore_allowed: Observed<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbInstance {
    pub meta: Meta,
    pub engine: String,
    pub engine_version: String,
    pub instance_class: String,
    pub status: String,
    pub storage_encrypted: Observed<bool>,
    pub kms_key_id: Option<String>,
    pub publicly_accessible: Observed<bool>,
    pub backup_retention_days: Observed<i32>,
    pub backup_window: Option<String>,
    pub log_exports: Vec<String>,
    pub multi_az: Observed<bool>,
    pub deletion_protection: Observed<bool>,
    pub master_username: Option<String>,
    /// The Availability Zone the instance runs in (for Aurora members: where the cluster's
    /// instances are spread).
    pub availability_zone: Observed<String>,
    pub subnet_group: Option<String>,
    pub subnet_ids: Vec<String>,
    pub vpc_id: Option<String>,
    pub security_groups: Vec<String>,
    /// DB parameter group names (instance level).
    pub parameter_groups: Vec<String>,
    /// Set for Aurora members: their cluster holds encryption, backups and logs.
    pub cluster_id: Option<String>,
    /// The master password RDS manages in Secrets Manager (`ManageMasterUserPassword`); None
    /// when the instance reports no `MasterUserSecret` (the password is not managed by RDS, or,
    /// for an Aurora member, its cluster holds it).
    pub master_user_secret: Option<MasterUserSecret>,
    /// `IAMDatabaseAuthenticationEnabled` (for Aurora members the cluster's setting decides).
    pub iam_auth: Observed<bool>,
    pub copy_tags_to_snapshot: Observed<bool>,
}

/// `MasterUserSecret` of DescribeDBInstances / DescribeDBClusters: the secret RDS manages for
/// the master user password. The scanner never reads its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterUserSecret {
    pub secret_arn: Observed<String>,
    /// The KMS key that encrypts the secret.
    pub kms_key_id: Observed<String>,
    /// `creating`, `active`, `rotating` or `impaired` (usable, but RDS can no longer rotate it).
    pub status: Observed<String>,
}

/// One instance of a cluster (`DBClusterMembers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterMember {
    pub instance_id: String,
    /// `IsClusterWriter`: the primary (writer) instance; the others are readers.
    pub writer: Observed<bool>,
}

/// `ServerlessV2ScalingConfiguration`: the capacity range in Aurora capacity units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerlessV2Scaling {
    pub min_acu: Observed<f64>,
    pub max_acu: Observed<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbCluster {
    pub meta: Meta,
    pub engine: String,
    pub engine_version: String,
    pub status: String,
    pub storage_encrypted: Observed<bool>,
    pub kms_key_id: Option<String>,
    /// Only reported for non-Aurora Multi-AZ DB clusters (absent for Aurora, as documented).
    pub publicly_accessible: Option<bool>,
    pub backup_retention_days: Observed<i32>,
    pub backup_window: Option<String>,
    pub log_exports: Vec<String>,
    /// The cluster's own MultiAZ flag, as evidence only: availability is judged by where its
    /// instances run (moto reports false for every cluster).
    pub multi_az: Observed<bool>,
    pub deletion_protection: Observed<bool>,
    pub master_username: Option<String>,
    pub subnet_group: Option<String>,
    pub security_groups: Vec<String>,
    /// Cluster parameter group name.
    pub parameter_group: Option<String>,
    /// The cluster's instances, writer and readers (their zones are the instances' own).
    pub members: Vec<ClusterMember>,
    pub availability_zones: Vec<String>,
    /// None when the cluster reports no ServerlessV2ScalingConfiguration (not Serverless v2).
    pub serverless_v2: Option<ServerlessV2Scaling>,
    /// The master password RDS manages in Secrets Manager; None when not reported (not managed).
    pub master_user_secret: Option<MasterUserSecret>,
    pub iam_auth: Observed<bool>,
    pub copy_tags_to_snapshot: Observed<bool>,
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
    pub family: Observed<String>,
    /// `instance` or `cluster`
    pub scope: String,
    /// The parameters that decide transport encryption (`rds.force_ssl`,
    /// `require_secure_transport`) as DescribeDB(Cluster)Parameters lists them, engine defaults
    /// included. A parameter the complete listing does not contain is absent from the map.
    pub tls_parameters: Observed<BTreeMap<String, Parameter>>,
}

/// One parameter of a parameter group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    /// None when listed without a value: the engine's built-in default applies.
    pub value: Option<String>,
    /// `user`, `system` or `engine-default`, when reported.
    pub source: Option<String>,
}

resource!(DbSnapshot, DbInstance, DbCluster, SubnetGroup, ParameterGroup);
