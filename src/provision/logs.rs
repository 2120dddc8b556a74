//! CloudWatch log groups, encrypted with the data key, with the stack's retention.

use super::nodes::LogPurpose;
use super::{attrs, diff, tag_changes, Attrs, Ctx, Found};
use crate::error::{Result, SdkResultExt};
use aws_sdk_cloudwatchlogs::types::LogGroup;

pub fn group_name(ctx: &Ctx, purpose: LogPurpose) -> String {
    super::names::log_group(&ctx.stack, purpose)
}

async fn find(ctx: &Ctx, name: &str) -> Result<Option<LogGroup>> {
    let mut pages = ctx.clients.logs.describe_log_groups().log_group_name_prefix(name).into_paginator().items().send();
    while let Some(g) = pages.next().await {
        let g = g.ctx("logs", "DescribeLogGroups", name)?;
        if g.log_group_name() == Some(name) {
            return Ok(Some(g));
        }
    }
    Ok(None)
}

fn bare_arn(g: &LogGroup) -> String {
    g.arn().unwrap_or_default().trim_end_matches(":*").to_string()
}

async fn tags(ctx: &Ctx, arn: &str) -> Result<Vec<(String, String)>> {
    let out = ctx.clients.logs.list_tags_for_resource().resource_arn(arn).send().await.ctx("logs", "ListTagsForResource", arn)?;
    Ok(out.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())
}

pub async fn inspect(ctx: &Ctx, id: &str, purpose: LogPurpose) -> Result<Found> {
    let name = group_name(ctx, purpose);
    let Some(g) = find(ctx, &name).await? else { return Ok(Found::Absent) };
    let arn = bare_arn(&g);
    let live = tags(ctx, &arn).await?;
    ctx.claim(id, "logs:log-group", &name, live.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let mut changes = Vec::new();
    if let Some(key) = ctx.get("data-key", "arn") {
        diff(&mut changes, "logs.kms_key", Some(key.as_str()), g.kms_key_id());
    }
    diff(&mut changes, "logs.retention_days", Some(ctx.stack.spec.logs.retention_days), g.retention_in_days());
    changes.extend(tag_changes(&ctx.tags(id, &name), live.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    Ok(Found::Present { attrs: attrs([("name", name), ("arn", arn)]), changes })
}

pub async fn apply(ctx: &Ctx, id: &str, purpose: LogPurpose, found: &Found) -> Result<Attrs> {
    let logs = &ctx.clients.logs;
    let name = group_name(ctx, purpose);
    let key = ctx.need("data-key", "arn")?;
    let tag_map = ctx.tags(id, &name).into_iter().collect();
    match found {
        Found::Absent => {
            logs.create_log_group().log_group_name(&name).kms_key_id(&key).set_tags(Some(tag_map)).send().await.ctx("logs", "CreateLogGroup", &name)?;
        }
        Found::Present { changes, attrs } => {
            if changes.iter().any(|c| c.field == "logs.kms_key") {
                logs.associate_kms_key().log_group_name(&name).kms_key_id(&key).send().await.ctx("logs", "AssociateKmsKey", &name)?;
            }
            if changes.iter().any(|c| c.field.starts_with("tags.")) {
                logs.tag_resource().resource_arn(&attrs["arn"]).set_tags(Some(tag_map)).send().await.ctx("logs", "TagResource", &name)?;
            }
        }
    }
    logs.put_retention_policy().log_group_name(&name).retention_in_days(ctx.stack.spec.logs.retention_days).send().await.ctx(
        "logs",
        "PutRetentionPolicy",
        &name,
    )?;
    let g = find(ctx, &name).await?;
    let arn = g.as_ref().map(bare_arn).unwrap_or_else(|| ctx.arn("logs", &format!("log-group:{name}")));
    Ok(attrs([("name", name), ("arn", arn)]))
}

pub async fn delete(ctx: &Ctx, id: &str, purpose: LogPurpose) -> Result<Option<String>> {
    let name = group_name(ctx, purpose);
    let Some(g) = find(ctx, &name).await? else { return Ok(None) };
    let live = tags(ctx, &bare_arn(&g)).await?;
    if !ctx.owns(id, live.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        tracing::warn!("log group {name} does not carry this stack's tags; left alone");
        return Ok(None);
    }
    ctx.clients.logs.delete_log_group().log_group_name(&name).send().await.ctx("logs", "DeleteLogGroup", &name)?;
    Ok(Some(name))
}
