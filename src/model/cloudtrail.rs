//! CloudTrail: trails (each once, from its home region) and, per scanned region, which trails
//! apply there.

use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudTrail {
    pub trails: Collection<Trail>,
    pub regions: Collection<TrailRegion>,
}

/// One trail, collected in its home region (DescribeTrails, GetTrailStatus, GetEventSelectors,
/// ListTags). id and name: the trail name; arn: its TrailARN; region: its home region; account:
/// the scanned account (an organization trail that a member account receives keeps the
/// management account's ARN, and its key and log group are that account's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trail {
    pub meta: Meta,
    /// HomeRegion: the region the trail was created in (always `meta.region`).
    pub home_region: String,
    /// S3BucketName: where log files are delivered.
    pub s3_bucket: Observed<String>,
    /// IsMultiRegionTrail: the trail applies to every region of the partition.
    pub multi_region: Observed<bool>,
    /// IsOrganizationTrail: the trail logs every account of the organization.
    pub organization_trail: Observed<bool>,
    /// LogFileValidationEnabled: CloudTrail writes signed digest files.
    pub log_file_validation: Observed<bool>,
    /// KmsKeyId (a KMS key ARN): log files are encrypted with SSE-KMS; `None`: DescribeTrails
    /// reports no key, the log files are encrypted with SSE-S3 only.
    pub kms_key_id: Observed<Option<String>>,
    /// CloudWatchLogsLogGroupArn (`arn:…:log-group:NAME:*`); `None`: not delivered to
    /// CloudWatch Logs.
    pub cloudwatch_logs_log_group_arn: Observed<Option<String>>,
    /// CloudWatchLogsRoleArn: the role CloudTrail assumes to write to the log group.
    pub cloudwatch_logs_role_arn: Observed<Option<String>>,
    /// IncludeGlobalServiceEvents: events of global services (IAM, STS, CloudFront) are logged.
    pub include_global_service_events: Observed<bool>,
    /// GetTrailStatus IsLogging: false after StopLogging (or before StartLogging).
    pub is_logging: Observed<bool>,
    /// GetTrailStatus: the latest delivery errors CloudTrail reports.
    pub delivery_errors: Observed<DeliveryErrors>,
    /// GetEventSelectors: which events the trail records.
    pub event_selectors: Observed<EventSelectors>,
}

/// The latest delivery errors of a trail (GetTrailStatus); `None`: no error reported.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeliveryErrors {
    /// LatestDeliveryError: an Amazon S3 error delivering log files to the bucket.
    pub s3: Option<String>,
    /// LatestDigestDeliveryError: an Amazon S3 error delivering digest files.
    pub digest: Option<String>,
    /// LatestCloudWatchLogsDeliveryError.
    pub cloudwatch_logs: Option<String>,
}

/// A trail's event selectors (GetEventSelectors): basic or advanced ("You cannot apply both
/// event selectors and advanced event selectors to a trail"); an event is logged when it
/// matches any selector, and not logged when it matches none.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EventSelectors {
    pub basic: Vec<EventSelector>,
    pub advanced: Vec<AdvancedEventSelector>,
}

/// A basic event selector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSelector {
    /// ReadWriteType: `All`, `ReadOnly` or `WriteOnly`.
    pub read_write_type: Observed<String>,
    /// IncludeManagementEvents.
    pub include_management_events: Observed<bool>,
    /// ExcludeManagementEventSources (`kms.amazonaws.com`, `rdsdata.amazonaws.com`): management
    /// events of these sources are not logged.
    pub exclude_management_event_sources: Vec<String>,
}

/// An advanced event selector: an event matches when it matches every field selector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvancedEventSelector {
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

/// One field condition of an advanced event selector (`eventCategory`, `readOnly`,
/// `eventSource`, `resources.type`, ...); each list is one operator (empty: not used).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FieldSelector {
    pub field: String,
    pub equals: Vec<String>,
    pub starts_with: Vec<String>,
    pub ends_with: Vec<String>,
    pub not_equals: Vec<String>,
    pub not_starts_with: Vec<String>,
    pub not_ends_with: Vec<String>,
}

/// A record of the account, one per scanned region (account-wide scans only): the trails that
/// apply to the region (DescribeTrails with includeShadowTrails=true: the region's own trails,
/// multi-region trails of other home regions and organization trails appear there as shadow
/// trails). id: the region; arn: `arn:<partition>:cloudtrail:<region>:<account>:region` (a key
/// of this record, not an AWS resource); tags: none (known empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailRegion {
    pub meta: Meta,
    /// The TrailARNs of the trails that log the region's events; each trail is in
    /// [`CloudTrail::trails`] when its home region was scanned (the region in its ARN).
    pub trails: Vec<String>,
}

resource!(Trail, TrailRegion);
