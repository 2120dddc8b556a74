use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kinesis {
    pub streams: Collection<Stream>,
}

/// A stream. Everything but the name comes from DescribeStreamSummary: a stream that was listed
/// but could not be described has every field Unknown (with the reason), never a sentinel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stream {
    pub meta: Meta,
    pub status: Observed<String>,
    /// `KMS` or `NONE`
    pub encryption_type: Observed<String>,
    /// Key id, ARN or alias as returned (`alias/aws/kinesis` = AWS-managed key); None when the
    /// stream is not encrypted.
    pub key_id: Observed<Option<String>>,
    pub retention_hours: Observed<i32>,
    pub open_shards: Observed<i32>,
}

resource!(Stream);
