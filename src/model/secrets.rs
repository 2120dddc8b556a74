use super::{resource, Collection, Meta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    pub secrets: Collection<Secret>,
}

/// Metadata only: the scanner never reads secret values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    pub meta: Meta,
    /// None = the AWS-managed key `aws/secretsmanager`.
    pub kms_key_id: Option<String>,
    pub rotation_enabled: bool,
    pub rotation_interval_days: Option<i64>,
    /// RFC 3339
    pub last_rotated: Option<String>,
    pub created: Option<String>,
    pub deleted: bool,
}

resource!(Secret);
