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
    /// The service that created and manages the secret (`rds` for RDS-managed master
    /// passwords); None for secrets a user created. A label: rotation and key are judged by what
    /// Secrets Manager reports, whoever owns the secret.
    pub owning_service: Option<String>,
    /// False also when the secret was never configured for rotation (Secrets Manager reports
    /// no RotationEnabled then, as documented).
    pub rotation_enabled: bool,
    /// `RotationRules.AutomaticallyAfterDays`: Secrets Manager reports it computed from the
    /// schedule after every successful rotation.
    pub rotation_interval_days: Option<i64>,
    /// `RotationRules.ScheduleExpression` (`rate(10 days)`, `cron(0 16 1,15 * ? *)`).
    pub rotation_schedule: Option<String>,
    /// RFC 3339
    pub last_rotated: Option<String>,
    /// RFC 3339: when Secrets Manager will rotate next (reported while rotation is on).
    pub next_rotation: Option<String>,
    pub created: Option<String>,
    pub deleted: bool,
}

resource!(Secret);
