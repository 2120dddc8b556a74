//! Kinesis: streams with encryption, key, retention and shard count (one summary call each).

use super::{fan_out, tag_map, Ctx};
use crate::model::kinesis::{Kinesis, Stream};
use crate::model::Observed;

pub async fn collect(ctx: &Ctx) -> Kinesis {
    let mut out = Kinesis::default();
    let k = &ctx.clients.kinesis;
    let names = match ctx.pages("kinesis", "ListStreams", k.list_streams().into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.stream_names().to_vec()).collect::<Vec<_>>(),
        Err(e) => {
            out.streams.fail(&ctx.region, e);
            return out;
        }
    };
    for s in fan_out(ctx, names, |n| stream(ctx, n)).await.into_iter().flatten() {
        out.streams.insert(s);
    }
    out
}

async fn stream(ctx: &Ctx, name: String) -> Option<Stream> {
    let k = &ctx.clients.kinesis;
    let tags: Observed<_> = ctx
        .call("kinesis", "ListTagsForStream", Some(&name), k.list_tags_for_stream().stream_name(&name).send())
        .await
        .map(|t| tag_map(t.tags().iter().map(|t| (t.key(), t.value().unwrap_or_default()))))
        .into();
    if !ctx.scope.wants(&tags) {
        return None;
    }
    let arn = ctx.arn("kinesis", &format!("stream/{name}"));
    match ctx.call("kinesis", "DescribeStreamSummary", Some(&name), k.describe_stream_summary().stream_name(&name).send()).await {
        Ok(out) => {
            let s = out.stream_description_summary()?;
            Some(Stream {
                meta: ctx.meta("kinesis:stream", &name, s.stream_arn().to_string(), Some(name.clone()), tags),
                status: s.stream_status().as_str().to_string(),
                encryption_type: s.encryption_type().map(|e| e.as_str().to_string()).unwrap_or_else(|| "NONE".into()),
                key_id: s.key_id().map(str::to_string),
                retention_hours: s.retention_period_hours(),
                open_shards: Some(s.open_shard_count()),
            })
        }
        Err(reason) => {
            // listed but unreadable: keep it, with nothing claimed about it
            tracing::debug!("{reason}");
            Some(Stream {
                meta: ctx.meta("kinesis:stream", &name, arn, Some(name.clone()), Observed::Unknown(reason)),
                status: "UNKNOWN".into(),
                encryption_type: "UNKNOWN".into(),
                key_id: None,
                retention_hours: -1,
                open_shards: None,
            })
        }
    }
}
