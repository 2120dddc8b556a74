//! GuardDuty: per scanned region, its detectors.

use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardDuty {
    pub regions: Collection<GuardDutyRegion>,
}

/// A record of the account, one per scanned region (account-wide scans only): the region's
/// detectors (ListDetectors, then GetDetector for each). id: the region; arn:
/// `arn:<partition>:guardduty:<region>:<account>:region` (a key of this record, not an AWS
/// resource); tags: none (known empty). A failed ListDetectors is a collection failure: nothing
/// about the region is known, never "no detectors".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardDutyRegion {
    pub meta: Meta,
    /// The detectors ListDetectors returned (one per region and account on AWS); empty: none.
    pub detectors: Vec<Detector>,
}

/// One detector (GetDetector), as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detector {
    pub id: String,
    /// `arn:<partition>:guardduty:<region>:<account>:detector/<id>`.
    pub arn: String,
    /// Status: `ENABLED` or `DISABLED`.
    pub status: Observed<String>,
    /// FindingPublishingFrequency: `FIFTEEN_MINUTES`, `ONE_HOUR`, `SIX_HOURS`.
    pub finding_publishing_frequency: Observed<String>,
    /// DataSources (deprecated by AWS in favour of Features): source → status, e.g.
    /// `CloudTrail`, `DNSLogs`, `FlowLogs`, `S3Logs`, `Kubernetes.AuditLogs`,
    /// `MalwareProtection.ScanEc2InstanceWithFindings.EbsVolumes` → `ENABLED`/`DISABLED`.
    pub data_sources: Observed<BTreeMap<String, String>>,
    /// Features (`S3_DATA_EVENTS`, `EKS_AUDIT_LOGS`, `RUNTIME_MONITORING`, ...) with their status
    /// and additional configuration.
    pub features: Observed<Vec<Feature>>,
}

/// A detector feature, or one of its additional configurations (`EKS_ADDON_MANAGEMENT`, ...);
/// fields `None` where GetDetector did not report them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    pub name: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub status: Option<String>,
    pub additional: Vec<FeatureSetting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSetting {
    pub name: Option<String>,
    pub status: Option<String>,
}

resource!(GuardDutyRegion);
