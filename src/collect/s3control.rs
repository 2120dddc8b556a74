//! S3 Control (global): the account-level Block Public Access settings (GetPublicAccessBlock with
//! the account id), account-wide scans only. NoSuchPublicAccessBlockConfiguration means none is
//! configured (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html).

use super::Ctx;
use crate::model::s3::PublicAccessBlock;
use crate::model::s3control::{AccountPublicAccessBlock, S3Control};
use crate::model::Observed;
use std::collections::BTreeMap;

fn settings(c: &aws_sdk_s3control::types::PublicAccessBlockConfiguration) -> PublicAccessBlock {
    super::s3::block_settings([c.block_public_acls(), c.ignore_public_acls(), c.block_public_policy(), c.restrict_public_buckets()])
}

pub async fn collect(ctx: &Ctx) -> S3Control {
    let mut out = S3Control::default();
    if !ctx.scope.account_wide() {
        return out;
    }
    let c = &ctx.clients.s3control;
    let got = ctx
        .call_opt(
            "s3control",
            "GetPublicAccessBlock",
            None,
            &["NoSuchPublicAccessBlockConfiguration"],
            c.get_public_access_block().account_id(&ctx.account).send(),
        )
        .await;
    let settings = got.and_then(|o| match o {
        None => Ok(None),
        Some(o) => o
            .public_access_block_configuration()
            .map(|c| Some(settings(c)))
            .ok_or_else(|| "s3control:GetPublicAccessBlock returned no configuration".to_string()),
    });
    let arn = format!("arn:{}:s3:::account/{}", ctx.partition, ctx.account);
    // the account-level setting carries no tags
    let mut meta = ctx.meta("s3control:public-access-block", &ctx.account, arn, None, Observed::Known(BTreeMap::new()));
    meta.region = "global".to_string();
    out.public_access_blocks.insert(AccountPublicAccessBlock { meta, settings: settings.into() });
    out
}
