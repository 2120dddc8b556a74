use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Iam {
    pub roles: Collection<Role>,
    /// Managed policies attached to the roles, users and groups in scope (customer and
    /// AWS-managed), by ARN.
    pub policies: Collection<Policy>,
    pub users: Collection<User>,
    pub groups: Collection<Group>,
    /// One item: the account (password policy, root user, credential summary).
    pub accounts: Collection<Account>,
}

/// An IAM user: its own permissions and groups (GetAccountAuthorizationDetails), its console
/// password (GetLoginProfile, ListUsers' PasswordLastUsed), MFA devices and access keys.
/// Timestamps are RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub meta: Meta,
    pub path: String,
    pub created: Observed<String>,
    /// The user's own inline policies, by name.
    pub inline_policies: Observed<BTreeMap<String, serde_json::Value>>,
    /// ARNs of the managed policies attached to the user itself (not through a group).
    pub attached_policies: Observed<Vec<String>>,
    /// Names of the groups the user belongs to.
    pub groups: Observed<Vec<String>>,
    /// The console password: `None` when the user has none (GetLoginProfile: NoSuchEntity).
    pub login_profile: Observed<Option<LoginProfile>>,
    /// When the console password was last used (ListUsers); `None`: never, or not since IAM
    /// began tracking it. It may date from an earlier, deleted password.
    pub password_last_used: Observed<Option<String>>,
    /// The MFA devices assigned to the user (ListMFADevices).
    pub mfa_devices: Observed<Vec<MfaDevice>>,
    /// The user's access keys (ListAccessKeys, GetAccessKeyLastUsed).
    pub access_keys: Observed<Vec<AccessKey>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginProfile {
    /// When the user's first console password was created.
    pub created: String,
    pub password_reset_required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MfaDevice {
    pub serial_number: String,
    pub enabled: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    /// As ListAccessKeys reports it: `Active`, `Inactive` or `Expired`.
    pub status: Observed<String>,
    pub created: Observed<String>,
    /// GetAccessKeyLastUsed's LastUsedDate; `None`: never used (or not since IAM began tracking).
    pub last_used: Observed<Option<String>>,
}

impl AccessKey {
    /// Whether the key can sign requests: Ok(true) for `Active`, Ok(false) for `Inactive` and
    /// `Expired`, Err for a status that could not be read or that tapaudit does not know.
    pub fn is_active(&self) -> Result<bool, String> {
        match self.status.get() {
            Ok(s) if s == "Active" => Ok(true),
            Ok(s) if s == "Inactive" || s == "Expired" => Ok(false),
            Ok(s) => Err(format!("access key {} has status {s:?}, which tapaudit does not know", self.id)),
            Err(reason) => Err(format!("access key {}: status unknown: {reason}", self.id)),
        }
    }
}

/// An IAM group and its permission policies (GetAccountAuthorizationDetails).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub meta: Meta,
    pub path: String,
    pub inline_policies: Observed<BTreeMap<String, serde_json::Value>>,
    pub attached_policies: Observed<Vec<String>>,
}

/// The account itself: its IAM password policy and its root user (GetAccountSummary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub meta: Meta,
    /// `None`: the account has no password policy (GetAccountPasswordPolicy: NoSuchEntity).
    pub password_policy: Observed<Option<PasswordPolicy>>,
    /// SummaryMap AccountMFAEnabled: whether the root user has an MFA device.
    pub root_mfa_enabled: Observed<bool>,
    /// SummaryMap AccountAccessKeysPresent: whether the root user has access keys.
    pub root_access_keys_present: Observed<bool>,
}

/// The account password policy as GetAccountPasswordPolicy reports it
/// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_PasswordPolicy.html). The AWS SDK
/// for Rust reads the six booleans as `false` when absent, so an absent requirement reads as
/// not required (it can only make a policy weaker, never pass one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub minimum_password_length: Observed<i32>,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    /// "true if MaxPasswordAge contains a value greater than 0".
    pub expire_passwords: bool,
    /// Days a password is valid; absent or 0: passwords never expire.
    pub max_password_age: Option<i32>,
    /// Previous passwords that cannot be reused; absent: reuse is not prevented.
    pub password_reuse_prevention: Option<i32>,
    pub hard_expiry: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub meta: Meta,
    pub path: String,
    pub trust_policy: Observed<serde_json::Value>,
    pub inline_policies: Observed<BTreeMap<String, serde_json::Value>>,
    pub attached_policies: Observed<Vec<String>>,
}

impl Role {
    pub fn is_service_linked(&self) -> bool {
        self.path.starts_with("/aws-service-role/")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub meta: Meta,
    pub aws_managed: bool,
    pub document: Observed<serde_json::Value>,
}

resource!(Role, Policy, User, Group, Account);
