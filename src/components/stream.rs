//! `[streams.<id>]`: a Kinesis data stream `<project>-<stack>-<id>`, encrypted with a key of
//! the stack (`key`), with its shard count, retention and (optionally) shard-level metrics.

use super::{desired_ids, Component, Cx, Kind, Output, Problem, Reference};
use crate::error::{Result, SdkResultExt};
use crate::model::kinesis::Stream as Model;
use crate::model::{Observed, State};
use crate::provision::{attrs, diff, tag_changes, wait_for, Attrs, Change, Ctx, Found, Node};
use aws_sdk_kinesis::types::{EncryptionType, MetricsName, StreamStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Stream {
    /// Open shards (1–500).
    pub shard_count: u32,
    /// Data retention in hours (24–8760).
    pub retention_hours: u32,
    /// The `[keys.<id>]` that encrypts the stream (required).
    pub key: String,
    /// Shard-level metrics (EnableEnhancedMonitoring with ShardLevelMetrics ALL).
    pub shard_metrics: bool,
}

impl Default for Stream {
    fn default() -> Self {
        Stream { shard_count: 1, retention_hours: 24, key: String::new(), shard_metrics: false }
    }
}

impl Component for Stream {
    const KIND: Kind = Kind::Stream;

    fn references(&self) -> Vec<Reference> {
        if self.key.is_empty() {
            return vec![];
        }
        vec![Reference::key("key", &self.key, "kinesis")]
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.key.is_empty() {
            out.push(cx.problem("key", "is required: name the `[keys.<id>]` that encrypts the stream"));
        }
        if !(1..=500).contains(&self.shard_count) {
            out.push(cx.problem("shard_count", format!("must be between 1 and 500 (got {})", self.shard_count)));
        }
        if !(24..=8760).contains(&self.retention_hours) {
            out.push(cx.problem("retention_hours", format!("must be between 24 and 8760 (got {})", self.retention_hours)));
        }
        let name = cx.name(cx.id);
        if name.len() > 128 {
            out.push(cx.problem("", format!("gives the stream name {name:?}, longer than Kinesis's 128 characters")));
        }
        out
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        let n = StreamNode { spec: self.clone(), name: cx.name(cx.id) };
        vec![cx.node(cx.id, n, &[self.key.as_str()])]
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        let name = cx.name(cx.id);
        st.kinesis.streams.insert(Model {
            meta: cx.meta("kinesis:stream", cx.id, &name, arn(cx, cx.id), &name, ""),
            status: Observed::Known("ACTIVE".into()),
            encryption_type: Observed::Known("KMS".into()),
            key_id: Observed::Known(Some(desired_ids::key_arn(&cx.region(), &self.key))),
            retention_hours: Observed::Known(self.retention_hours as i32),
            open_shards: Observed::Known(self.shard_count as i32),
        });
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        ["name", "arn"].iter().map(|a| Output { name: cx.at(a), node: cx.id.to_string(), attr: a.to_string() }).collect()
    }
}

/// The desired ARN of stream `id` (services grant access to it).
pub fn arn(cx: &Cx, id: &str) -> String {
    cx.arn("kinesis", &format!("stream/{}", cx.name(id)))
}

/// The key (logical id) that encrypts stream `id`, if `id` is a stream of the stack.
pub fn key_of(stack: &super::Stack, id: &str) -> Option<String> {
    stack.spec.streams.get(id).map(|s| s.key.clone())
}

/// Drift of the stack's streams: encryption, key, retention, shards.
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.kinesis.streams, &live.kinesis.streams, |d, w, g| {
        let m = &g.meta;
        let at = |f: &str| d.setting(&w.meta, f);
        let (key_at, retention_at, shards_at) = (at("key"), at("retention_hours"), at("shard_count"));
        d.observed(m, "encryption_type", &key_at, json!(w.encryption_type.known()), &g.encryption_type);
        d.observed(m, "key_id", &key_at, json!(w.key_id.known().and_then(|k| k.as_deref()).map(|k| d.res(k))), &g.key_id);
        d.observed(m, "retention_hours", &retention_at, json!(w.retention_hours.known()), &g.retention_hours);
        d.observed(m, "open_shards", &shards_at, json!(w.open_shards.known()), &g.open_shards);
    });
}

#[derive(Debug, Clone)]
struct StreamNode {
    spec: Stream,
    name: String,
}

crate::node_ops!(StreamNode, "kinesis:stream");

async fn stream_tags(ctx: &Ctx, name: &str) -> Result<Vec<(String, String)>> {
    let out = ctx.clients.kinesis.list_tags_for_stream().stream_name(name).send().await.ctx("kinesis", "ListTagsForStream", name)?;
    Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().unwrap_or_default().to_string())).collect())
}

async fn wait_active(ctx: &Ctx, name: &str) -> Result<aws_sdk_kinesis::types::StreamDescriptionSummary> {
    wait_for(&format!("stream {name}"), Duration::from_secs(2), Duration::from_secs(300), || async {
        let out = ctx.clients.kinesis.describe_stream_summary().stream_name(name).send().await.ctx("kinesis", "DescribeStreamSummary", name)?;
        Ok(out.stream_description_summary().filter(|s| s.stream_status() == &StreamStatus::Active).cloned())
    })
    .await
}

/// Whether every shard-level metric is enabled (`ALL`, or each metric listed).
fn all_shard_metrics(s: &aws_sdk_kinesis::types::StreamDescriptionSummary) -> bool {
    let on: BTreeSet<&str> = s.enhanced_monitoring().iter().flat_map(|e| e.shard_level_metrics().iter().map(|m| m.as_str())).collect();
    on.contains("ALL") || MetricsName::values().iter().filter(|m| **m != "ALL").all(|m| on.contains(m))
}

impl StreamNode {
    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let name = &self.name;
        let k = &ctx.clients.kinesis;
        let Some(out) =
            k.describe_stream_summary().stream_name(name).send().await.found("kinesis", "DescribeStreamSummary", name, &["ResourceNotFoundException"])?
        else {
            return Ok(Found::Absent);
        };
        let Some(s) = out.stream_description_summary() else { return Ok(Found::Absent) };
        if s.stream_status() == &StreamStatus::Deleting {
            return Ok(Found::Absent);
        }
        let tags = stream_tags(ctx, name).await?;
        if tags.is_empty() && ctx.inherited(id, name) {
            tracing::info!("stream {name}: the interrupted run that held the lock was creating it; adopting it");
        } else {
            ctx.claim(id, "kinesis:stream", name, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        }
        let spec = &self.spec;
        let mut changes = Vec::new();
        diff(&mut changes, "encryption", "KMS", s.encryption_type().map(|e| e.as_str()).unwrap_or("NONE"));
        if let Some(key) = ctx.get(&spec.key, "arn") {
            diff(&mut changes, "key", Some(key.as_str()), s.key_id());
        }
        diff(&mut changes, "retention_hours", spec.retention_hours as i32, s.retention_period_hours());
        diff(&mut changes, "shard_count", spec.shard_count as i32, s.open_shard_count());
        diff(&mut changes, "shard_metrics", spec.shard_metrics, all_shard_metrics(s));
        changes.extend(tag_changes(&ctx.tags(id, name), tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        Ok(Found::Present { attrs: attrs([("name", name.clone()), ("arn", s.stream_arn().to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let k = &ctx.clients.kinesis;
        let name = &self.name;
        let spec = &self.spec;
        let key = ctx.need(&spec.key, "arn")?;
        let changes: Vec<Change> = match found {
            Found::Absent => {
                // tags at creation; AddTagsToStream below sets them again once the stream is
                // ACTIVE, for endpoints that ignore creation tags (moto drops them). Until then
                // the stream is journalled on the stack lock, so a run killed in between is
                // resumed by the next one instead of leaving an untagged stream it would refuse
                // to adopt.
                ctx.journal_begin(id, name).await?;
                let tags: HashMap<String, String> = ctx.tags(id, name).into_iter().collect();
                k.create_stream().stream_name(name).shard_count(spec.shard_count as i32).set_tags(Some(tags)).send().await.ctx(
                    "kinesis",
                    "CreateStream",
                    name,
                )?;
                vec![]
            }
            Found::Present { changes, .. } => changes.clone(),
        };
        let created = matches!(found, Found::Absent);
        let mut summary = wait_active(ctx, name).await?;
        let has = |f: &str| created || changes.iter().any(|c| c.field == f || c.field.starts_with(f));
        if has("tags.") {
            let tags: HashMap<String, String> = ctx.tags(id, name).into_iter().collect();
            k.add_tags_to_stream().stream_name(name).set_tags(Some(tags)).send().await.ctx("kinesis", "AddTagsToStream", name)?;
            ctx.journal_end(id).await?;
        }
        if has("encryption") || has("key") {
            k.start_stream_encryption().stream_name(name).encryption_type(EncryptionType::Kms).key_id(&key).send().await.ctx(
                "kinesis",
                "StartStreamEncryption",
                name,
            )?;
            summary = wait_active(ctx, name).await?;
        }
        if has("retention_hours") {
            let current = summary.retention_period_hours();
            let want = spec.retention_hours as i32;
            if want > current {
                k.increase_stream_retention_period().stream_name(name).retention_period_hours(want).send().await.ctx(
                    "kinesis",
                    "IncreaseStreamRetentionPeriod",
                    name,
                )?;
            } else if want < current {
                k.decrease_stream_retention_period().stream_name(name).retention_period_hours(want).send().await.ctx(
                    "kinesis",
                    "DecreaseStreamRetentionPeriod",
                    name,
                )?;
            }
            summary = wait_active(ctx, name).await?;
        }
        if !created && has("shard_count") {
            k.update_shard_count()
                .stream_name(name)
                .target_shard_count(spec.shard_count as i32)
                .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
                .send()
                .await
                .ctx("kinesis", "UpdateShardCount", name)?;
            summary = wait_active(ctx, name).await?;
        }
        if spec.shard_metrics && (has("shard_metrics") || !all_shard_metrics(&summary)) {
            k.enable_enhanced_monitoring().stream_name(name).shard_level_metrics(MetricsName::All).send().await.ctx(
                "kinesis",
                "EnableEnhancedMonitoring",
                name,
            )?;
            wait_active(ctx, name).await?;
        } else if !spec.shard_metrics && !created && has("shard_metrics") {
            k.disable_enhanced_monitoring().stream_name(name).shard_level_metrics(MetricsName::All).send().await.ctx(
                "kinesis",
                "DisableEnhancedMonitoring",
                name,
            )?;
            wait_active(ctx, name).await?;
        }
        Ok(attrs([("name", name.clone()), ("arn", summary.stream_arn().to_string())]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let name = &self.name;
        let k = &ctx.clients.kinesis;
        if k.describe_stream_summary().stream_name(name).send().await.found("kinesis", "DescribeStreamSummary", name, &["ResourceNotFoundException"])?.is_none()
        {
            return Ok(None);
        }
        let tags = stream_tags(ctx, name).await?;
        if !ctx.owns(id, tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            tracing::warn!("stream {name} does not carry this stack's tags; left alone");
            return Ok(None);
        }
        k.delete_stream().stream_name(name).enforce_consumer_deletion(true).send().await.ctx("kinesis", "DeleteStream", name)?;
        Ok(Some(name.clone()))
    }
}
