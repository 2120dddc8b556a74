use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kms {
    pub keys: Collection<Key>,
    /// ARNs of customer keys that ListKeys returned but the stack scope left out (no
    /// `tapaudit:stack` tag for the scanned stack): they exist and are customer-managed, but are
    /// not audited here. Lets the key resolver tell "outside the scope" from "does not exist".
    pub out_of_scope: BTreeSet<String>,
    /// Per region: every alias name → target key id (ListAliases), or why it could not be read.
    pub aliases: BTreeMap<String, Observed<BTreeMap<String, String>>>,
}

/// Who manages a key (`KeyManager` of DescribeKey).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Manager {
    Customer,
    Aws,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    pub meta: Meta,
    pub manager: Observed<Manager>,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub state: Observed<String>,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, `HMAC_256`, ...
    pub key_spec: Observed<String>,
    pub rotation_enabled: Observed<bool>,
    /// The key policy (`default`), parsed.
    pub policy: Observed<serde_json::Value>,
    pub aliases: Observed<Vec<String>>,
}

impl Key {
    pub fn is_pending_deletion(&self) -> Option<bool> {
        self.state.known().map(|s| s == "PendingDeletion" || s == "PendingReplicaDeletion")
    }
}

resource!(Key);
