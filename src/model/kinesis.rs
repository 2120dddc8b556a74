use super::{resource, Collection, Meta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Kinesis {
    pub streams: Collection<Stream>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stream {
    pub meta: Meta,
    pub status: String,
    /// `KMS` or `NONE`
    pub encryption_type: String,
    /// Key id, ARN or alias as returned (`alias/aws/kinesis` = AWS-managed key).
    pub key_id: Option<String>,
    pub retention_hours: i32,
    pub open_shards: Option<i32>,
}

resource!(Stream);
