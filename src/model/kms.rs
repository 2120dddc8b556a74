use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Kms {
    pub keys: Collection<Key>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    pub meta: Meta,
    /// `CUSTOMER` or `AWS`
    pub manager: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub state: String,
    pub key_spec: String,
    pub rotation_enabled: Observed<bool>,
    /// The key policy (`default`), parsed.
    pub policy: Observed<serde_json::Value>,
    pub aliases: Vec<String>,
}

resource!(Key);
