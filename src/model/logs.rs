use super::{resource, Collection, Meta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logs {
    pub log_groups: Collection<LogGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    pub meta: Meta,
    pub kms_key_id: Option<String>,
    /// None = never expire
    pub retention_days: Option<i32>,
}

resource!(LogGroup);
