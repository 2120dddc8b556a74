use super::{resource, Collection, Meta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logs {
    pub log_groups: Collection<LogGroup>,
    /// ARNs of log groups that DescribeLogGroups returned but the stack scope left out: they
    /// exist (a flow log of the stack may deliver to one) but are not audited here.
    pub out_of_scope: std::collections::BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    pub meta: Meta,
    pub kms_key_id: Option<String>,
    /// None = never expire
    pub retention_days: Option<i32>,
}

resource!(LogGroup);
