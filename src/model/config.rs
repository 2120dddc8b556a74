//! AWS Config: per scanned region, its configuration recorders and delivery channels.

use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub regions: Collection<ConfigRegion>,
}

/// A record of the account, one per scanned region (account-wide scans only): the region's
/// configuration recorders with their status (DescribeConfigurationRecorders,
/// DescribeConfigurationRecorderStatus) and its delivery channels (DescribeDeliveryChannels).
/// id: the region; arn: `arn:<partition>:config:<region>:<account>:region` (a key of this
/// record, not an AWS resource); tags: none (known empty). A call that failed makes its part
/// Unknown; when every call failed the region is a collection failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigRegion {
    pub meta: Meta,
    /// Empty: no configuration recorder in the region.
    pub recorders: Observed<Vec<Recorder>>,
    /// Empty: no delivery channel in the region.
    pub delivery_channels: Observed<Vec<DeliveryChannel>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorder {
    pub name: String,
    /// roleARN: the role AWS Config uses to read resource configurations.
    pub role_arn: Option<String>,
    pub recording_group: Observed<RecordingGroup>,
    /// DescribeConfigurationRecorderStatus, by recorder name.
    pub status: Observed<RecorderStatus>,
}

/// Which resource types the recorder records (RecordingGroup). The two flags are primitive
/// booleans of the Config API model (an absent value is false by the model's own default, and
/// the SDK reads it so): they are always known when the recording group is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingGroup {
    /// allSupported: every current and future supported resource type of the region.
    pub all_supported: bool,
    /// includeGlobalResourceTypes: also the global IAM resource types (only possible in regions
    /// where Config was available before February 2022).
    pub include_global_resource_types: bool,
    /// recordingStrategy.useOnly: `ALL_SUPPORTED_RESOURCE_TYPES`, `INCLUSION_BY_RESOURCE_TYPES`
    /// or `EXCLUSION_BY_RESOURCE_TYPES` (the last overrides allSupported); `None`: not reported.
    pub strategy: Option<String>,
    /// resourceTypes: the types recorded under INCLUSION_BY_RESOURCE_TYPES.
    pub resource_types: Vec<String>,
    /// exclusionByResourceTypes.resourceTypes: the types not recorded under
    /// EXCLUSION_BY_RESOURCE_TYPES.
    pub exclusions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecorderStatus {
    /// recording: the recorder is started (a primitive boolean of the API model, like the
    /// recording group's flags).
    pub recording: bool,
    /// lastStatus: `Pending`, `Success`, `Failure` (AWS spelling; moto answers upper case);
    /// `None`: not reported (the recorder never ran).
    pub last_status: Option<String>,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryChannel {
    pub name: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_key_prefix: Option<String>,
    pub s3_kms_key_arn: Option<String>,
    pub sns_topic_arn: Option<String>,
    /// configSnapshotDeliveryProperties.deliveryFrequency (`TwentyFour_Hours`, ...).
    pub delivery_frequency: Option<String>,
}

resource!(ConfigRegion);
