//! S3 Control: the account-level S3 Block Public Access settings.

use super::{resource, Collection, Meta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Control {
    pub public_access_blocks: Collection<AccountPublicAccessBlock>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountPublicAccessBlock {
    pub meta: Meta,
}

resource!(AccountPublicAccessBlock);
