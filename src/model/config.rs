//! AWS Config: per scanned region, its configuration recorders and delivery channels.

use super::{resource, Collection, Meta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub regions: Collection<ConfigRegion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigRegion {
    pub meta: Meta,
}

resource!(ConfigRegion);
