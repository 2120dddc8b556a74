use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Iam {
    pub roles: Collection<Role>,
    /// Managed policies attached to roles in scope (customer and AWS-managed), by ARN.
    pub policies: Collection<Policy>,
    pub users: Collection<User>,
    pub groups: Collection<Group>,
    /// One item: the account (password policy, root user, credential summary).
    pub accounts: Collection<Account>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub meta: Meta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub meta: Meta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub meta: Meta,
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
