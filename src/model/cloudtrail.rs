//! CloudTrail: trails (each once, from its home region) and, per scanned region, which trails
//! apply there.

use super::{resource, Collection, Meta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudTrail {
    pub trails: Collection<Trail>,
    pub regions: Collection<TrailRegion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trail {
    pub meta: Meta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailRegion {
    pub meta: Meta,
}

resource!(Trail, TrailRegion);
