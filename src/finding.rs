//! Findings: what controls and drift detection produce, and what reports render.

use crate::model::{Meta, SourceRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Control,
    Drift,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fail,
    Error,
    Pass,
    NotApplicable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::NotApplicable => "not_applicable",
        }
    }
}

/// Ordered most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// GitHub's `security-severity` score for this level.
    pub fn score(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "3.0",
            Severity::Info => "1.0",
        }
    }

    /// True when `self` is at least as severe as `threshold`.
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

/// The resource a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingResource {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: String,
    pub arn: String,
    pub region: String,
    pub logical_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl From<&Meta> for FindingResource {
    fn from(m: &Meta) -> Self {
        FindingResource {
            resource_type: m.resource_type.clone(),
            id: m.id.clone(),
            arn: m.arn.clone(),
            region: m.region.clone(),
            logical_id: m.logical_id().map(str::to_string),
            name: m.name.clone(),
        }
    }
}

mod json;
pub use json::Json;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    pub observed: Json,
    pub expected: Json,
}

impl Evidence {
    /// Both sides, held compactly; when they are equal (a pass), one value shared by both.
    pub fn new(observed: serde_json::Value, expected: serde_json::Value) -> Self {
        if observed == expected {
            let one = Json::from(observed);
            Evidence { observed: one.clone(), expected: one }
        } else {
            Evidence { observed: observed.into(), expected: expected.into() }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub control_id: String,
    pub kind: Kind,
    pub status: Status,
    pub severity: Severity,
    pub title: String,
    pub resource: FindingResource,
    /// framework id → requirement ids (only the frameworks in scope); one map per control,
    /// shared by its findings
    #[serde(with = "shared")]
    pub frameworks: Frameworks,
    pub message: String,
    pub evidence: Evidence,
    /// The stack-file line that declared the resource or setting, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceRef>,
    /// Set when a suppression (with its reason) accepts this failing finding. Boxed: few
    /// findings have one, and every finding would carry its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Box<AppliedSuppression>>,
    /// Against `--baseline`: `new`, `unchanged` or `absent` (fixed since the baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<BaselineState>,
}

/// Framework id → requirement ids of a finding's control.
pub type Frameworks = std::sync::Arc<BTreeMap<String, Vec<String>>>;

/// serde for an `Arc<T>` as for a `T` (without serde's `rc` feature, which would rebuild every
/// crate that uses serde).
mod shared {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::Arc;

    pub fn serialize<T: Serialize, S: Serializer>(v: &Arc<T>, s: S) -> Result<S::Ok, S::Error> {
        T::serialize(v, s)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Arc<T>, D::Error> {
        T::deserialize(d).map(Arc::new)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedSuppression {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Where the suppression was declared.
    pub source: SourceRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineState {
    New,
    Unchanged,
    Absent,
}

impl BaselineState {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Absent => "absent",
        }
    }
}
