//! CloudWatch Logs: log groups with KMS key and retention (both in DescribeLogGroups).
//!
//! Calls: DescribeLogGroups pages (limit=50, the maximum); ListTagsForResource per group only in
//! a stack-scoped scan, where the scope needs the tags. See bench/minimum-calls.md.

use super::{tag_map, Ctx};
use crate::model::logs::{LogGroup, Logs};
use crate::model::Observed;

pub async fn collect(ctx: &Ctx) -> Logs {
    let mut out = Logs::default();
    let l = &ctx.clients.logs;
    // pipelined: page 1's groups are tagged while page 2 is listed
    let listing = ctx.pages_each(
        "logs",
        "DescribeLogGroups",
        l.describe_log_groups().limit(50).into_paginator().send(),
        |p| p.log_groups().to_vec(),
        |g| async move {
            // a log group without a name or ARN cannot be judged or even named: the listing is incomplete
            if g.log_group_name().is_none() || g.arn().is_none() {
                return None;
            }
            Some(group(ctx, g).await)
        },
    );
    let found = match listing.await {
        Ok(found) => found,
        Err(e) => {
            out.log_groups.fail(&ctx.region, e);
            return out;
        }
    };
    let nameless = found.iter().filter(|g| g.is_none()).count();
    if nameless > 0 {
        out.log_groups.fail(&ctx.region, format!("logs:DescribeLogGroups returned {nameless} log group(s) without a name or ARN"));
    }
    for g in found.into_iter().flatten() {
        match g {
            Ok(g) => out.log_groups.insert(g),
            Err(arn) => {
                out.out_of_scope.insert(arn);
            }
        }
    }
    out
}

/// One listed log group with its tags; Err(ARN) when out of scope.
async fn group(ctx: &Ctx, g: aws_sdk_cloudwatchlogs::types::LogGroup) -> Result<LogGroup, String> {
    let l = &ctx.clients.logs;
    {
        let name = g.log_group_name().unwrap_or_default().to_string();
        let arn = g.arn().unwrap_or_default().trim_end_matches(":*").to_string();
        // an absent `tags` map is a log group without tags (ListTagsForResource returns the
        // map only when there is one)
        // account-wide: no verdict reads a log group's tags and DescribeLogGroups does not
        // return them, so they are not read (one call per group saved)
        let tags: Observed<_> = if ctx.scope.account_wide() {
            Observed::Unknown("not read: an account-wide scan needs no log group tags".into())
        } else {
            ctx.call("logs", "ListTagsForResource", Some(&name), l.list_tags_for_resource().resource_arn(&arn).send())
                .await
                .map(|t| t.tags().map(|m| tag_map(m.iter().map(|(k, v)| (k.as_str(), v.as_str())))).unwrap_or_default())
                .into()
        };
        if !ctx.scope.wants(&tags) {
            return Err(arn);
        }
        Ok(LogGroup {
            meta: ctx.meta("logs:log-group", &name, arn, Some(name.clone()), tags),
            // absent kmsKeyId: not encrypted with a KMS key (CloudWatch Logs encrypts with its
            // own service key); absent retentionInDays: events never expire ("If you don't
            // specify a retention period, log events are kept indefinitely", LogGroup / PutRetentionPolicy)
            kms_key_id: g.kms_key_id().map(str::to_string),
            retention_days: g.retention_in_days(),
        })
    }
}
