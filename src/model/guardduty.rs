//! GuardDuty: per scanned region, its detectors.

use super::{resource, Collection, Meta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardDuty {
    pub regions: Collection<GuardDutyRegion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardDutyRegion {
    pub meta: Meta,
}

resource!(GuardDutyRegion);
