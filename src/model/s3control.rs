//! S3 Control: the account-level S3 Block Public Access settings.

use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Control {
    pub public_access_blocks: Collection<AccountPublicAccessBlock>,
}

/// The account-level Block Public Access settings (S3 Control GetPublicAccessBlock), one record,
/// account-wide scans only; id the account id, arn `arn:<partition>:s3:::account/<account>` (a
/// record of the account's setting). `settings` is None when none is configured
/// (NoSuchPublicAccessBlockConfiguration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountPublicAccessBlock {
    pub meta: Meta,
    pub settings: Observed<Option<crate::model::s3::PublicAccessBlock>>,
}

resource!(AccountPublicAccessBlock);
