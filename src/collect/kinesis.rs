//! Kinesis: streams with encryption, key, retention and shard count (one summary call each).

use super::{fan_out, tag_map, Ctx};
use crate::model::kinesis::{Kinesis, Stream};
use crate::model::Observed;

pub async fn collect(ctx: &Ctx) -> Kinesis {
    let mut out = Kinesis::default();
    let k = &ctx.clients.kinesis;
    let names = match ctx.pages("kinesis", "ListStreams", k.list_streams().limit(10000).into_paginator().send()).await {
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
    // account-wide: no verdict reads a stream's tags, so they are not read
    let tags: Observed<_> = if ctx.scope.account_wide() {
        Observed::Unknown("not read: an account-wide scan needs no stream tags".into())
    } else {
        ctx.call("kinesis", "ListTagsForStream", Some(&name), k.list_tags_for_stream().stream_name(&name).send())
            .await
            .map(|t| tag_map(t.tags().iter().map(|t| (t.key(), t.value().unwrap_or_default()))))
            .into()
    };
    if !ctx.scope.wants(&tags) {
        return None;
    }
    let arn = ctx.arn("kinesis", &format!("stream/{name}"));
    let summary = ctx.call("kinesis", "DescribeStreamSummary", Some(&name), k.describe_stream_summary().stream_name(&name).send()).await.and_then(|out| {
        out.stream_description_summary().cloned().ok_or_else(|| format!("kinesis:DescribeStreamSummary for {name} returned no StreamDescriptionSummary"))
    });
    Some(match summary {
        Ok(s) => {
            let encryption: Observed<String> = match s.encryption_type() {
                Some(e) => Observed::Known(e.as_str().to_string()),
                None => Observed::Unknown(format!("kinesis:DescribeStreamSummary for {name} returned no EncryptionType")),
            };
            let key_id = match (encryption.known().map(String::as_str), s.key_id()) {
                (Some("KMS"), Some(k)) => Observed::Known(Some(k.to_string())),
                (Some("KMS"), None) => Observed::Unknown(format!("stream {name} is KMS-encrypted but DescribeStreamSummary returned no KeyId")),
                (Some(_), key) => Observed::Known(key.map(str::to_string)),
                (None, _) => Observed::Unknown(format!("kinesis:DescribeStreamSummary for {name} returned no EncryptionType")),
            };
            Stream {
                meta: ctx.meta("kinesis:stream", &name, s.stream_arn().to_string(), Some(name.clone()), tags),
                status: Observed::Known(s.stream_status().as_str().to_string()),
                encryption_type: encryption,
                key_id,
                retention_hours: Observed::Known(s.retention_period_hours()),
                open_shards: Observed::Known(s.open_shard_count()),
            }
        }
        Err(reason) => Stream {
            // listed but unreadable: kept, with nothing claimed about it
            meta: ctx.meta("kinesis:stream", &name, arn, Some(name.clone()), tags),
            status: Observed::Unknown(reason.clone()),
            encryption_type: Observed::Unknown(reason.clone()),
            key_id: Observed::Unknown(reason.clone()),
            retention_hours: Observed::Unknown(reason.clone()),
            open_shards: Observed::Unknown(reason),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::{assert_tags_not_read, calls, ctx, total_calls};
    use aws_sdk_kinesis::operation::describe_stream_summary::DescribeStreamSummaryOutput;
    use aws_sdk_kinesis::operation::list_streams::ListStreamsOutput;
    use aws_sdk_kinesis::operation::list_tags_for_stream::ListTagsForStreamOutput;
    use aws_sdk_kinesis::types::{EncryptionType, StreamDescriptionSummary, StreamStatus, Tag};
    use aws_sdk_kinesis::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    #[tokio::test]
    async fn maps_encryption_key_retention_and_shards_and_honours_the_stack_scope() {
        let list = mock!(Client::list_streams)
            .then_output(|| ListStreamsOutput::builder().stream_names("mine").stream_names("theirs").has_more_streams(false).build().unwrap());
        let tags_mine = mock!(Client::list_tags_for_stream).match_requests(|r| r.stream_name() == Some("mine")).then_output(|| {
            ListTagsForStreamOutput::builder().tags(Tag::builder().key("tapaudit:stack").value("dev").build().unwrap()).has_more_tags(false).build().unwrap()
        });
        let tags_theirs = mock!(Client::list_tags_for_stream)
            .match_requests(|r| r.stream_name() == Some("theirs"))
            .then_output(|| ListTagsForStreamOutput::builder().set_tags(Some(vec![])).has_more_tags(false).build().unwrap());
        let summary = mock!(Client::describe_stream_summary).match_requests(|r| r.stream_name() == Some("mine")).then_output(|| {
            DescribeStreamSummaryOutput::builder()
                .stream_description_summary(
                    StreamDescriptionSummary::builder()
                        .stream_name("mine")
                        .stream_arn("arn:aws:kinesis:us-east-1:123456789012:stream/mine")
                        .stream_status(StreamStatus::Active)
                        .retention_period_hours(48)
                        .stream_creation_timestamp(aws_smithy_types::DateTime::from_secs(0))
                        .set_enhanced_monitoring(Some(vec![]))
                        .encryption_type(EncryptionType::Kms)
                        .key_id("arn:aws:kms:us-east-1:123456789012:key/k1")
                        .open_shard_count(2)
                        .build()
                        .unwrap(),
                )
                .build()
        });
        let k = mock_client!(aws_sdk_kinesis, RuleMode::MatchAny, [&list, &tags_mine, &tags_theirs, &summary]);
        let mut c = ctx(|cl| cl.kinesis = k);
        c.scope = crate::collect::Scope { stack: Some("dev".into()) };
        let out = collect(&c).await;
        assert_eq!(out.streams.len(), 1, "the untagged stream is out of the stack's scope");
        assert_eq!(summary.num_calls(), 1, "no describe call for out-of-scope streams");
        let s = out.streams.iter().next().unwrap();
        assert_eq!(s.meta.arn, "arn:aws:kinesis:us-east-1:123456789012:stream/mine");
        assert_eq!(s.meta.resource_type, "kinesis:stream");
        assert_eq!(s.encryption_type, Observed::Known("KMS".to_string()));
        assert_eq!(s.key_id, Observed::Known(Some("arn:aws:kms:us-east-1:123456789012:key/k1".to_string())));
        assert_eq!(s.retention_hours, Observed::Known(48));
        assert_eq!(s.open_shards, Observed::Known(2));
        assert_eq!(s.status, Observed::Known("ACTIVE".to_string()));
    }

    fn summary_of(name: &str) -> StreamDescriptionSummary {
        StreamDescriptionSummary::builder()
            .stream_name(name)
            .stream_arn(format!("arn:aws:kinesis:us-east-1:123456789012:stream/{name}"))
            .stream_status(StreamStatus::Active)
            .retention_period_hours(24)
            .stream_creation_timestamp(aws_smithy_types::DateTime::from_secs(0))
            .set_enhanced_monitoring(Some(vec![]))
            .encryption_type(EncryptionType::None)
            .open_shard_count(1)
            .build()
            .unwrap()
    }

    /// Issue 11: N streams in an account-wide scan cost the minimum of bench/minimum-calls.md,
    /// one ListStreams page of the largest size (10,000) and one DescribeStreamSummary per
    /// stream. No tag call: the tags are Unknown ("not read"), never an empty map, and every
    /// stream is kept.
    #[tokio::test]
    async fn an_account_wide_scan_makes_one_list_page_and_one_summary_per_stream_and_reads_no_tags() {
        const N: usize = 30;
        let list = mock!(Client::list_streams)
            .match_requests(|r| r.limit() == Some(10000))
            .then_output(|| (0..N).fold(ListStreamsOutput::builder(), |b, i| b.stream_names(format!("s{i}"))).has_more_streams(false).build().unwrap());
        let summary = mock!(Client::describe_stream_summary).then_compute_output(|r| {
            DescribeStreamSummaryOutput::builder().stream_description_summary(summary_of(r.stream_name().unwrap_or_default())).build()
        });
        let tags =
            mock!(Client::list_tags_for_stream).then_output(|| ListTagsForStreamOutput::builder().set_tags(Some(vec![])).has_more_tags(false).build().unwrap());
        let k = mock_client!(aws_sdk_kinesis, RuleMode::MatchAny, [&list, &summary, &tags]);
        let c = ctx(|cl| cl.kinesis = k);
        assert!(c.scope.account_wide());
        let out = collect(&c).await;
        assert_eq!(list.num_calls(), 1, "one page of the largest size");
        assert_eq!(calls(&c, "kinesis", "ListStreams"), 1);
        assert_eq!(calls(&c, "kinesis", "DescribeStreamSummary"), N as u64, "one per stream");
        assert_eq!(calls(&c, "kinesis", "ListTagsForStream"), 0, "no verdict needs a stream's tags");
        assert_eq!(tags.num_calls(), 0);
        assert_eq!(total_calls(&c), 1 + N as u64);
        assert_eq!(out.streams.len(), N, "every listed stream is kept");
        assert_tags_not_read(out.streams.iter().map(|s| &s.meta));
    }

    /// A stack-scoped scan reads one tag call per stream (the scope needs them) and describes
    /// only the streams in scope.
    #[tokio::test]
    async fn a_stack_scoped_scan_reads_one_tag_call_per_stream_and_describes_only_its_own() {
        const N: usize = 12;
        let list = mock!(Client::list_streams)
            .then_output(|| (0..N).fold(ListStreamsOutput::builder(), |b, i| b.stream_names(format!("s{i}"))).has_more_streams(false).build().unwrap());
        // even-numbered streams are the stack's
        let tags = mock!(Client::list_tags_for_stream).then_compute_output(|r| {
            let i: usize = r.stream_name().unwrap_or_default().trim_start_matches('s').parse().unwrap();
            let mut b = ListTagsForStreamOutput::builder().set_tags(Some(vec![])).has_more_tags(false);
            if i % 2 == 0 {
                b = b.tags(Tag::builder().key("tapaudit:stack").value("dev").build().unwrap());
            }
            b.build().unwrap()
        });
        let summary = mock!(Client::describe_stream_summary).then_compute_output(|r| {
            DescribeStreamSummaryOutput::builder().stream_description_summary(summary_of(r.stream_name().unwrap_or_default())).build()
        });
        let k = mock_client!(aws_sdk_kinesis, RuleMode::MatchAny, [&list, &tags, &summary]);
        let mut c = ctx(|cl| cl.kinesis = k);
        c.scope = crate::collect::Scope { stack: Some("dev".into()) };
        let out = collect(&c).await;
        assert_eq!(calls(&c, "kinesis", "ListTagsForStream"), N as u64);
        assert_eq!(calls(&c, "kinesis", "DescribeStreamSummary"), (N / 2) as u64, "only the stack's streams are described");
        assert_eq!(out.streams.len(), N / 2);
        assert!(out.streams.iter().all(|s| s.meta.stack() == Some("dev")));
    }
}
