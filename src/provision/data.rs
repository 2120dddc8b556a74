//! The data plane: the Kinesis stream (databases are `components::database`).

use super::{attrs, diff, tag_changes, wait_for, Attrs, Change, Ctx, Found};
use crate::error::{Result, SdkResultExt};
use aws_sdk_kinesis::types::{EncryptionType, StreamStatus};
use std::collections::HashMap;
use std::time::Duration;

// ---------- Kinesis ----------

pub fn stream_name(ctx: &Ctx) -> String {
    super::names::stream(&ctx.stack)
}

async fn stream_tags(ctx: &Ctx, name: &str) -> Result<Vec<(String, String)>> {
    let out = ctx.clients.kinesis.list_tags_for_stream().stream_name(name).send().await.ctx("kinesis", "ListTagsForStream", name)?;
    Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().unwrap_or_default().to_string())).collect())
}

pub async fn inspect_stream(ctx: &Ctx, id: &str) -> Result<Found> {
    let name = stream_name(ctx);
    let k = &ctx.clients.kinesis;
    let Some(out) =
        k.describe_stream_summary().stream_name(&name).send().await.found("kinesis", "DescribeStreamSummary", &name, &["ResourceNotFoundException"])?
    else {
        return Ok(Found::Absent);
    };
    let Some(s) = out.stream_description_summary() else { return Ok(Found::Absent) };
    if s.stream_status() == &StreamStatus::Deleting {
        return Ok(Found::Absent);
    }
    let tags = stream_tags(ctx, &name).await?;
    if tags.is_empty() && ctx.inherited(id, &name) {
        tracing::info!("stream {name}: the interrupted run that held the lock was creating it; adopting it");
    } else {
        ctx.claim(id, "kinesis:stream", &name, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    }
    let spec = &ctx.stack.spec.kinesis;
    let mut changes = Vec::new();
    diff(&mut changes, "kinesis.encryption", "KMS", s.encryption_type().map(|e| e.as_str()).unwrap_or("NONE"));
    if let Some(key) = ctx.get("data-key", "arn") {
        diff(&mut changes, "kinesis.kms_key", Some(key.as_str()), s.key_id());
    }
    diff(&mut changes, "kinesis.retention_hours", spec.retention_hours as i32, s.retention_period_hours());
    diff(&mut changes, "kinesis.shard_count", spec.shard_count as i32, s.open_shard_count());
    changes.extend(tag_changes(&ctx.tags(id, &name), tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    Ok(Found::Present { attrs: attrs([("name", name), ("arn", s.stream_arn().to_string())]), changes })
}

async fn wait_stream_active(ctx: &Ctx, name: &str) -> Result<String> {
    wait_for(&format!("stream {name}"), Duration::from_secs(2), Duration::from_secs(300), || async {
        let out = ctx.clients.kinesis.describe_stream_summary().stream_name(name).send().await.ctx("kinesis", "DescribeStreamSummary", name)?;
        Ok(out.stream_description_summary().filter(|s| s.stream_status() == &StreamStatus::Active).map(|s| s.stream_arn().to_string()))
    })
    .await
}

pub async fn apply_stream(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let k = &ctx.clients.kinesis;
    let name = stream_name(ctx);
    let spec = &ctx.stack.spec.kinesis;
    let key = ctx.need("data-key", "arn")?;
    let changes: Vec<Change> = match found {
        Found::Absent => {
            // tags at creation; AddTagsToStream below sets them again once the stream is ACTIVE,
            // for endpoints that ignore creation tags (moto drops them). Until then the stream
            // is journalled on the stack lock, so a run killed in between is resumed by the
            // next one instead of leaving an untagged stream it would refuse to adopt.
            ctx.journal_begin(id, &name).await?;
            let tags: HashMap<String, String> = ctx.tags(id, &name).into_iter().collect();
            k.create_stream().stream_name(&name).shard_count(spec.shard_count as i32).set_tags(Some(tags)).send().await.ctx(
                "kinesis",
                "CreateStream",
                &name,
            )?;
            vec![]
        }
        Found::Present { changes, .. } => changes.clone(),
    };
    let created = matches!(found, Found::Absent);
    let arn = wait_stream_active(ctx, &name).await?;
    let has = |f: &str| created || changes.iter().any(|c| c.field == f || c.field.starts_with(f));
    if has("tags.") {
        let tags: HashMap<String, String> = ctx.tags(id, &name).into_iter().collect();
        k.add_tags_to_stream().stream_name(&name).set_tags(Some(tags)).send().await.ctx("kinesis", "AddTagsToStream", &name)?;
        ctx.journal_end(id).await?;
    }
    if has("kinesis.encryption") || has("kinesis.kms_key") {
        k.start_stream_encryption().stream_name(&name).encryption_type(EncryptionType::Kms).key_id(&key).send().await.ctx(
            "kinesis",
            "StartStreamEncryption",
            &name,
        )?;
        wait_stream_active(ctx, &name).await?;
    }
    if has("kinesis.retention_hours") {
        let current = k.describe_stream_summary().stream_name(&name).send().await.ctx("kinesis", "DescribeStreamSummary", &name)?;
        let current = current.stream_description_summary().map(|s| s.retention_period_hours()).unwrap_or(24);
        let want = spec.retention_hours as i32;
        if want > current {
            k.increase_stream_retention_period().stream_name(&name).retention_period_hours(want).send().await.ctx(
                "kinesis",
                "IncreaseStreamRetentionPeriod",
                &name,
            )?;
        } else if want < current {
            k.decrease_stream_retention_period().stream_name(&name).retention_period_hours(want).send().await.ctx(
                "kinesis",
                "DecreaseStreamRetentionPeriod",
                &name,
            )?;
        }
        wait_stream_active(ctx, &name).await?;
    }
    if !created && has("kinesis.shard_count") {
        k.update_shard_count()
            .stream_name(&name)
            .target_shard_count(spec.shard_count as i32)
            .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
            .send()
            .await
            .ctx("kinesis", "UpdateShardCount", &name)?;
        wait_stream_active(ctx, &name).await?;
    }
    Ok(attrs([("name", name), ("arn", arn)]))
}

pub async fn delete_stream(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let name = stream_name(ctx);
    let k = &ctx.clients.kinesis;
    if k.describe_stream_summary().stream_name(&name).send().await.found("kinesis", "DescribeStreamSummary", &name, &["ResourceNotFoundException"])?.is_none() {
        return Ok(None);
    }
    let tags = stream_tags(ctx, &name).await?;
    if !ctx.owns(id, tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        tracing::warn!("stream {name} does not carry this stack's tags; left alone");
        return Ok(None);
    }
    k.delete_stream().stream_name(&name).enforce_consumer_deletion(true).send().await.ctx("kinesis", "DeleteStream", &name)?;
    Ok(Some(name))
}
