//! (in progress) records calls under "s3control".

use super::Ctx;
use crate::model::s3control::S3Control;

pub async fn collect(_ctx: &Ctx) -> S3Control {
    S3Control::default()
}
