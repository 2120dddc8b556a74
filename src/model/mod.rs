//! The typed State: what a stack file wants or what AWS has, one module per service.
//! Stable ordering (BTreeMap keyed by ARN). A field that could not be read is
//! `Observed::Unknown(reason)`; a listing that failed in a region is a `Collection` failure.
//! Controls read this and nothing else.

pub mod apigw;
pub mod ec2;
pub mod ecs;
pub mod efs;
pub mod elasticache;
pub mod elbv2;
pub mod iam;
pub mod kinesis;
pub mod kms;
pub mod logs;
pub mod rds;
pub mod s3;
pub mod secrets;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the snapshot format (`--save-snapshot`); bumped on incompatible changes.
/// 2: strict (no field or section may be missing), records what was collected and the
/// collection errors of the run; KMS records out-of-scope keys and every alias.
pub const SNAPSHOT_VERSION: u32 = 2;

/// A value read from AWS, or the reason it could not be read. Never defaulted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observed<T> {
    Known(T),
    Unknown(String),
}

impl<T> Observed<T> {
    pub fn get(&self) -> Result<&T, &str> {
        match self {
            Observed::Known(v) => Ok(v),
            Observed::Unknown(r) => Err(r),
        }
    }

    pub fn known(&self) -> Option<&T> {
        self.get().ok()
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Observed<U> {
        match self {
            Observed::Known(v) => Observed::Known(f(v)),
            Observed::Unknown(r) => Observed::Unknown(r),
        }
    }
}

impl<T> From<Result<T, String>> for Observed<T> {
    fn from(r: Result<T, String>) -> Self {
        match r {
            Ok(v) => Observed::Known(v),
            Err(e) => Observed::Unknown(e),
        }
    }
}

/// Where a desired resource or setting was declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub path: String,
    pub line: usize,
}

/// What every resource carries. Deserialised strictly: only the two optional labels may be absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// e.g. `kms:key`, `ec2:security-group`, `rds:db-instance`
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The service's own id (key id, vpc id, DB identifier, stream name, ...).
    pub id: String,
    pub arn: String,
    pub region: String,
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub tags: Observed<BTreeMap<String, String>>,
    /// Declared in the stack file (desired State only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

impl Meta {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.known().and_then(|t| t.get(key)).map(String::as_str)
    }

    /// The `tapaudit:logical-id` tag.
    pub fn logical_id(&self) -> Option<&str> {
        self.tag(crate::spec::TAG_LOGICAL_ID)
    }

    /// The `tapaudit:stack` tag.
    pub fn stack(&self) -> Option<&str> {
        self.tag(crate::spec::TAG_STACK)
    }

    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

pub trait Resource {
    fn meta(&self) -> &Meta;
}

macro_rules! resource {
    ($($t:ty),* $(,)?) => { $(impl $crate::model::Resource for $t { fn meta(&self) -> &$crate::model::Meta { &self.meta } })* };
}
pub(crate) use resource;

/// A listing that could not be completed in a region: nothing about its resources there is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionFailure {
    pub region: String,
    pub reason: String,
}

/// The resources of one type, keyed by ARN, plus the regions where listing them failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Collection<T> {
    pub items: BTreeMap<String, T>,
    /// Always written and required on read: a snapshot without it cannot claim "no failures".
    pub failures: Vec<CollectionFailure>,
}

impl<T> Default for Collection<T> {
    fn default() -> Self {
        Collection { items: BTreeMap::new(), failures: Vec::new() }
    }
}

impl<T: Resource> Collection<T> {
    pub fn insert(&mut self, item: T) {
        self.items.insert(item.meta().arn.clone(), item);
    }

    pub fn fail(&mut self, region: &str, reason: impl Into<String>) {
        self.failures.push(CollectionFailure { region: region.to_string(), reason: reason.into() });
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.values()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Why this collection is incomplete in `region`, if it is.
    pub fn failed_in(&self, region: &str) -> Option<&str> {
        self.failures.iter().find(|f| f.region == region).map(|f| f.reason.as_str())
    }

    pub fn extend(&mut self, other: Collection<T>) {
        self.items.extend(other.items);
        self.failures.extend(other.failures);
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.items.retain(|_, v| keep(v));
    }
}

/// Everything known about an account (live) or declared by a stack file (desired).
/// Deserialised strictly: every section must be present (a missing one is an error, never an
/// empty, clean service).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub kms: kms::Kms,
    pub ec2: ec2::Ec2,
    pub rds: rds::Rds,
    pub kinesis: kinesis::Kinesis,
    pub logs: logs::Logs,
    pub secrets: secrets::Secrets,
    pub ecs: ecs::Ecs,
    pub apigw: apigw::ApiGateway,
    pub elasticache: elasticache::ElastiCache,
    pub efs: efs::Efs,
    pub elbv2: elbv2::Elbv2,
    pub iam: iam::Iam,
    pub s3: s3::S3,
}

/// A saved State (`--save-snapshot`): versioned, with where and when it was collected, which
/// services were read and the collection errors of that run, so that re-evaluating a snapshot
/// taken during an outage is still incomplete. Every field is required.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub snapshot_version: u32,
    pub tool: String,
    pub tool_version: String,
    pub collected_at: String,
    pub account: Option<String>,
    pub regions: Vec<String>,
    pub stack: Option<String>,
    /// The services collected (`kms`, `ec2`, ...), in the order of [`SERVICES`].
    pub services: Vec<String>,
    /// The calls that failed during collection.
    pub errors: Vec<crate::collect::CollectionError>,
    pub state: State,
}

/// The services a State holds, by their section name in the State and in snapshots.
pub const SERVICES: &[&str] = &["kms", "ec2", "rds", "kinesis", "logs", "secrets", "ecs", "apigw", "elasticache", "efs", "elbv2", "iam", "s3"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_serializes_compactly() {
        let k: Observed<bool> = Observed::Known(true);
        let u: Observed<bool> = Observed::Unknown("AccessDenied".into());
        assert_eq!(serde_json::to_string(&k).unwrap(), r#"{"known":true}"#);
        assert_eq!(serde_json::to_string(&u).unwrap(), r#"{"unknown":"AccessDenied"}"#);
        assert_eq!(serde_json::from_str::<Observed<bool>>(r#"{"unknown":"x"}"#).unwrap(), Observed::Unknown("x".into()));
    }
}
