//! S3 general purpose buckets of the scanned regions: default encryption, public access block,
//! bucket policy and AWS's own verdict on it (policy status), object ownership and ACL, server
//! access logging, versioning and object lock.

use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3 {
    pub buckets: Collection<Bucket>,
}

/// One default-encryption rule (GetBucketEncryption).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncryptionRule {
    /// `AES256` (SSE-S3), `aws:kms` (SSE-KMS), `aws:kms:dsse` (DSSE-KMS).
    pub algorithm: String,
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: Option<bool>,
}

/// The bucket's Block Public Access settings (GetPublicAccessBlock).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: Observed<bool>,
    pub ignore_public_acls: Observed<bool>,
    pub block_public_policy: Observed<bool>,
    pub restrict_public_buckets: Observed<bool>,
}

/// One grant of the bucket ACL (GetBucketAcl).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AclGrant {
    /// `CanonicalUser`, `Group`, `AmazonCustomerByEmail`.
    pub grantee_type: String,
    /// For `Group` grantees: `http://acs.amazonaws.com/groups/global/AllUsers`, ...
    pub grantee_uri: Option<String>,
    pub grantee_id: Option<String>,
    /// `FULL_CONTROL`, `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP`.
    pub permission: String,
}

/// Where server access logs go (GetBucketLogging).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggingTarget {
    pub target_bucket: String,
    pub target_prefix: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// id and name: the bucket name; arn `arn:<partition>:s3:::<name>`; region: where the bucket is.
    pub meta: Meta,
    /// The default-encryption rules; `None` when the endpoint answered
    /// ServerSideEncryptionConfigurationNotFoundError (no default encryption configuration).
    pub encryption: Observed<Option<Vec<EncryptionRule>>>,
    /// `None`: no public access block configured on the bucket (NoSuchPublicAccessBlockConfiguration).
    pub public_access_block: Observed<Option<PublicAccessBlock>>,
    /// `None`: no bucket policy (NoSuchBucketPolicy).
    pub policy: Observed<Option<Value>>,
    /// Object Ownership (`BucketOwnerEnforced` disables ACLs, `BucketOwnerPreferred`,
    /// `ObjectWriter`); `None`: no ownership controls (OwnershipControlsNotFoundError).
    pub object_ownership: Observed<Option<String>>,
    pub acl_grants: Observed<Vec<AclGrant>>,
    /// `None`: server access logging is off (GetBucketLogging returns no LoggingEnabled).
    pub logging: Observed<Option<LoggingTarget>>,
    /// GetBucketPolicyStatus `IsPublic`: whether S3 itself judges the bucket policy public;
    /// `None`: no bucket policy (NoSuchBucketPolicy).
    pub policy_is_public: Observed<Option<bool>>,
    /// GetBucketVersioning: `Enabled`, `Suspended`, or None (never enabled).
    pub versioning: Observed<Option<String>>,
    /// GetBucketVersioning `MFADelete`: `Enabled`, `Disabled`, or None (never configured).
    pub mfa_delete: Observed<Option<String>>,
    /// Object Lock; `None`: not configured (ObjectLockConfigurationNotFoundError).
    pub object_lock: Observed<Option<ObjectLock>>,
}

/// GetObjectLockConfiguration: whether Object Lock is on and its default retention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectLock {
    pub enabled: bool,
    /// `GOVERNANCE` or `COMPLIANCE`
    pub default_mode: Option<String>,
    pub default_days: Option<i32>,
    pub default_years: Option<i32>,
}

resource!(Bucket);
