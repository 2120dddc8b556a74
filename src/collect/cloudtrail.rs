//! (in progress) records calls under "cloudtrail".

use super::Ctx;
use crate::model::cloudtrail::CloudTrail;

pub async fn collect(_ctx: &Ctx) -> CloudTrail {
    CloudTrail::default()
}
