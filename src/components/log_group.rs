//! CloudWatch log groups, which other components create for themselves (a service's container
//! logs, an API's access logs, the network's flow logs): under the stack's prefix
//! `/<project>/<stack>/`, encrypted with a key of the stack, with the stack's retention
//! (`[logs] retention_days`). Not a stack-file section of its own.

use super::{desired_ids, Cx};
use crate::error::{Result, SdkResultExt};
use crate::model::logs::LogGroup as Model;
use crate::model::State;
use crate::provision::{attrs, diff, tag_changes, Attrs, Ctx, Found, Node};
use aws_sdk_cloudwatchlogs::types::LogGroup;
use serde_json::json;

/// A log group node: `name` under the stack's prefix, encrypted with the key of node `key`.
#[derive(Debug, Clone)]
pub struct LogGroupNode {
    pub name: String,
    /// The key's node (logical) id.
    pub key: String,
    pub retention_days: i32,
}

crate::node_ops!(LogGroupNode, "logs:log-group");

/// The log group `<prefix><leaf>` of a component, encrypted with `key`, as a node with id `id`.
pub fn node(cx: &Cx, id: &str, leaf: &str, key: &str) -> Node {
    let n = LogGroupNode { name: cx.stack.id.log_group(leaf), key: key.to_string(), retention_days: cx.stack.spec.logs.retention_days };
    cx.node(id, n, &[key])
}

/// The same log group as desired State.
pub fn desired(cx: &Cx, st: &mut State, id: &str, leaf: &str, key: &str) {
    let name = cx.stack.id.log_group(leaf);
    st.logs.log_groups.insert(Model {
        meta: cx.meta("logs:log-group", id, &name, cx.arn("logs", &format!("log-group:{name}")), &name, ""),
        kms_key_id: Some(desired_ids::key_arn(&cx.region(), key)),
        retention_days: Some(cx.stack.spec.logs.retention_days),
    });
}

/// Drift of the stack's log groups: key and retention.
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.logs.log_groups, &live.logs.log_groups, |d, w, g| {
        let at = d.setting(&w.meta, "");
        d.field(&g.meta, "kms_key_id", &at, json!(w.kms_key_id.as_deref().map(|k| d.res(k))), json!(g.kms_key_id));
        d.field(&g.meta, "retention_days", "logs.retention_days", json!(w.retention_days), json!(g.retention_days));
    });
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

impl LogGroupNode {
    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let name = &self.name;
        let Some(g) = find(ctx, name).await? else { return Ok(Found::Absent) };
        let arn = bare_arn(&g);
        let live = tags(ctx, &arn).await?;
        ctx.claim(id, "logs:log-group", name, live.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let mut changes = Vec::new();
        if let Some(key) = ctx.get(&self.key, "arn") {
            diff(&mut changes, "kms_key", Some(key.as_str()), g.kms_key_id());
        }
        diff(&mut changes, "retention_days", Some(self.retention_days), g.retention_in_days());
        changes.extend(tag_changes(&ctx.tags(id, name), live.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        Ok(Found::Present { attrs: attrs([("name", name.clone()), ("arn", arn)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let logs = &ctx.clients.logs;
        let name = &self.name;
        let key = ctx.need(&self.key, "arn")?;
        let tag_map = ctx.tags(id, name).into_iter().collect();
        match found {
            Found::Absent => {
                logs.create_log_group().log_group_name(name).kms_key_id(&key).set_tags(Some(tag_map)).send().await.ctx("logs", "CreateLogGroup", name)?;
            }
            Found::Present { changes, attrs } => {
                if changes.iter().any(|c| c.field == "kms_key") {
                    logs.associate_kms_key().log_group_name(name).kms_key_id(&key).send().await.ctx("logs", "AssociateKmsKey", name)?;
                }
                if changes.iter().any(|c| c.field.starts_with("tags.")) {
                    logs.tag_resource().resource_arn(&attrs["arn"]).set_tags(Some(tag_map)).send().await.ctx("logs", "TagResource", name)?;
                }
            }
        }
        logs.put_retention_policy().log_group_name(name).retention_in_days(self.retention_days).send().await.ctx("logs", "PutRetentionPolicy", name)?;
        let g = find(ctx, name).await?;
        let arn = g.as_ref().map(bare_arn).unwrap_or_else(|| ctx.arn("logs", &format!("log-group:{name}")));
        Ok(attrs([("name", name.clone()), ("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let name = &self.name;
        let Some(g) = find(ctx, name).await? else { return Ok(None) };
        let live = tags(ctx, &bare_arn(&g)).await?;
        if !ctx.owns(id, live.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            tracing::warn!("log group {name} does not carry this stack's tags; left alone");
            return Ok(None);
        }
        ctx.clients.logs.delete_log_group().log_group_name(name).send().await.ctx("logs", "DeleteLogGroup", name)?;
        Ok(Some(name.clone()))
    }
}
