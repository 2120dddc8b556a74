//! CloudWatch Logs: log groups with KMS key and retention (both in DescribeLogGroups).
//!
//! Calls: DescribeLogGroups pages (limit=50, the maximum); ListTagsForResource per group only in
//! a stack-scoped scan, where the scope needs the tags. See bench/minimum-calls.md.

use super::{fan_out, tag_map, Ctx};
use crate::model::logs::{LogGroup, Logs};
use crate::model::Observed;

pub async fn collect(ctx: &Ctx) -> Logs {
    let mut out = Logs::default();
    let l = &ctx.clients.logs;
    let groups = match ctx.pages("logs", "DescribeLogGroups", l.describe_log_groups().limit(50).into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.log_groups().to_vec()).collect::<Vec<_>>(),
        Err(e) => {
            out.log_groups.fail(&ctx.region, e);
            return out;
        }
    };
    // a log group without a name or ARN cannot be judged or even named: the listing is incomplete
    let (groups, nameless): (Vec<_>, Vec<_>) = groups.into_iter().partition(|g| g.log_group_name().is_some() && g.arn().is_some());
    if !nameless.is_empty() {
        out.log_groups.fail(&ctx.region, format!("logs:DescribeLogGroups returned {} log group(s) without a name or ARN", nameless.len()));
    }
    let found = fan_out(ctx, groups, |g| async move {
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
    })
    .await;
    for g in found {
        match g {
            Ok(g) => out.log_groups.insert(g),
            Err(arn) => {
                out.out_of_scope.insert(arn);
            }
        }
    }
    out
}
