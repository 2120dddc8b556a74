//! AWS Config: in account-wide scans, one record per region with its configuration recorders,
//! their status and the delivery channels: DescribeConfigurationRecorders,
//! DescribeConfigurationRecorderStatus and DescribeDeliveryChannels, each once (none is
//! paginated; without names they describe every recorder / channel of the region, and answer an
//! empty list when there is none). A failed call leaves its part of the record Unknown; when
//! all three failed, nothing about the region is known and it is a collection failure.

use super::{reported, Ctx};
use crate::model::config::*;
use crate::model::Observed;
use aws_sdk_config::types::{ConfigurationRecorder, ConfigurationRecorderStatus, DeliveryChannel as SdkChannel, RecordingGroup as SdkGroup};

const SVC: &str = "config";
const RECORDERS: &str = "DescribeConfigurationRecorders";
const STATUS: &str = "DescribeConfigurationRecorderStatus";
const CHANNELS: &str = "DescribeDeliveryChannels";

/// The recording group as reported. allSupported and includeGlobalResourceTypes are primitive
/// booleans of the API model: absent means false by the model's default, and the SDK reads
/// them so.
pub(crate) fn recording_group(g: &SdkGroup) -> RecordingGroup {
    RecordingGroup {
        all_supported: g.all_supported,
        include_global_resource_types: g.include_global_resource_types,
        strategy: g.recording_strategy().and_then(|s| s.use_only()).map(|u| u.as_str().to_string()),
        resource_types: g.resource_types().iter().map(|t| t.as_str().to_string()).collect(),
        // no exclusionByResourceTypes: nothing is excluded
        exclusions: g.exclusion_by_resource_types().map(|e| e.resource_types().iter().map(|t| t.as_str().to_string()).collect()).unwrap_or_default(),
    }
}

pub(crate) fn recorder_status(s: &ConfigurationRecorderStatus) -> RecorderStatus {
    RecorderStatus {
        recording: s.recording,
        last_status: s.last_status().map(|l| l.as_str().to_string()),
        last_error_code: s.last_error_code().map(str::to_string),
        last_error_message: s.last_error_message().map(str::to_string),
    }
}

/// The recorders with their status (joined by name). Err: a recorder without a name (the
/// answer is incomplete: it cannot be told apart or matched with its status).
pub(crate) fn recorders(list: &[ConfigurationRecorder], statuses: &Result<Vec<ConfigurationRecorderStatus>, String>) -> Result<Vec<Recorder>, String> {
    let mut out = Vec::new();
    for r in list {
        let name = r.name().ok_or_else(|| "a configuration recorder without a name".to_string())?;
        let status = match statuses {
            Err(reason) => Observed::Unknown(reason.clone()),
            Ok(all) => match all.iter().find(|s| s.name() == Some(name)) {
                Some(s) => Observed::Known(recorder_status(s)),
                None => Observed::Unknown(format!("{STATUS} did not report recorder {name}")),
            },
        };
        out.push(Recorder {
            name: name.to_string(),
            role_arn: r.role_arn().map(str::to_string),
            recording_group: reported(r.recording_group().map(recording_group), RECORDERS, "recordingGroup"),
            status,
        });
    }
    Ok(out)
}

pub(crate) fn delivery_channel(c: &SdkChannel) -> DeliveryChannel {
    DeliveryChannel {
        name: c.name().map(str::to_string),
        s3_bucket: c.s3_bucket_name().map(str::to_string),
        s3_key_prefix: c.s3_key_prefix().map(str::to_string),
        s3_kms_key_arn: c.s3_kms_key_arn().map(str::to_string),
        sns_topic_arn: c.sns_topic_arn().map(str::to_string),
        delivery_frequency: c.config_snapshot_delivery_properties().and_then(|p| p.delivery_frequency()).map(|f| f.as_str().to_string()),
    }
}

pub async fn collect(ctx: &Ctx) -> Config {
    let mut out = Config::default();
    // the region's recorders are the account's, never a stack's (registry: account(..))
    if !ctx.scope.account_wide() {
        return out;
    }
    let cf = &ctx.clients.config;
    let (listed, statuses, channels) = tokio::join!(
        ctx.call(SVC, RECORDERS, None, cf.describe_configuration_recorders().send()),
        ctx.call(SVC, STATUS, None, cf.describe_configuration_recorder_status().send()),
        ctx.call(SVC, CHANNELS, None, cf.describe_delivery_channels().send()),
    );
    if let (Err(reason), Err(_), Err(_)) = (&listed, &statuses, &channels) {
        out.regions.fail(&ctx.region, reason.clone());
        return out;
    }
    let statuses = statuses.map(|s| s.configuration_recorders_status().to_vec());
    let recorders: Observed<Vec<Recorder>> = listed
        .and_then(|l| {
            recorders(l.configuration_recorders(), &statuses).map_err(|what| {
                ctx.record_incomplete(SVC, RECORDERS, &ctx.region, None, "IncompleteResponse", &format!("{RECORDERS} returned {what}"));
                format!("{SVC}:{RECORDERS} returned {what}")
            })
        })
        .into();
    let delivery_channels: Observed<Vec<DeliveryChannel>> = channels.map(|c| c.delivery_channels().iter().map(delivery_channel).collect()).into();
    let meta = ctx.region_record("config:region", SVC, "region");
    out.regions.insert(ConfigRegion { meta, recorders, delivery_channels });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::{calls, ctx};
    use aws_sdk_config::operation::describe_configuration_recorder_status::{
        DescribeConfigurationRecorderStatusError, DescribeConfigurationRecorderStatusOutput,
    };
    use aws_sdk_config::operation::describe_configuration_recorders::{DescribeConfigurationRecordersError, DescribeConfigurationRecordersOutput};
    use aws_sdk_config::operation::describe_delivery_channels::{DescribeDeliveryChannelsError, DescribeDeliveryChannelsOutput};
    use aws_sdk_config::types::{ExclusionByResourceTypes, RecorderStatus as SdkStatus, RecordingStrategy, RecordingStrategyType, ResourceType};
    use aws_sdk_config::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    fn client(rules: &[&aws_smithy_mocks::Rule]) -> Client {
        mock_client!(aws_sdk_config, RuleMode::MatchAny, rules)
    }

    fn denied() -> ErrorMetadata {
        ErrorMetadata::builder().code("AccessDeniedException").message("not allowed").build()
    }

    fn sdk_recorder() -> ConfigurationRecorder {
        ConfigurationRecorder::builder()
            .name("default")
            .role_arn("arn:aws:iam::123456789012:role/config")
            .recording_group(
                SdkGroup::builder()
                    .all_supported(false)
                    .include_global_resource_types(false)
                    .exclusion_by_resource_types(ExclusionByResourceTypes::builder().resource_types(ResourceType::Instance).build())
                    .recording_strategy(RecordingStrategy::builder().use_only(RecordingStrategyType::ExclusionByResourceTypes).build())
                    .build(),
            )
            .build()
    }

    #[test]
    fn recorders_map_and_join_their_status_by_name() {
        let st = ConfigurationRecorderStatus::builder().name("default").recording(true).last_status(SdkStatus::from("PENDING")).build();
        let r = recorders(&[sdk_recorder()], &Ok(vec![st])).unwrap();
        let g = r[0].recording_group.known().unwrap();
        assert!(!g.all_supported);
        assert_eq!(g.strategy.as_deref(), Some("EXCLUSION_BY_RESOURCE_TYPES"));
        assert_eq!(g.exclusions, vec!["AWS::EC2::Instance".to_string()]);
        let s = r[0].status.known().unwrap();
        assert_eq!((s.recording, s.last_status.as_deref()), (true, Some("PENDING")));
        // no status for the recorder, or the status call failed: Unknown
        let r = recorders(&[sdk_recorder()], &Ok(vec![])).unwrap();
        assert!(matches!(r[0].status, Observed::Unknown(_)));
        let r = recorders(&[sdk_recorder()], &Err("denied".into())).unwrap();
        assert_eq!(r[0].status, Observed::Unknown("denied".into()));
        // an unreported recording group is Unknown
        let r = recorders(&[ConfigurationRecorder::builder().name("bare").build()], &Ok(vec![])).unwrap();
        assert!(matches!(r[0].recording_group, Observed::Unknown(_)));
        assert!(recorders(&[ConfigurationRecorder::builder().build()], &Ok(vec![])).is_err());
    }

    #[tokio::test]
    async fn one_record_per_region_with_each_failed_part_unknown() {
        let rec = mock!(Client::describe_configuration_recorders)
            .then_output(|| DescribeConfigurationRecordersOutput::builder().configuration_recorders(sdk_recorder()).build());
        let st = mock!(Client::describe_configuration_recorder_status).then_error(|| DescribeConfigurationRecorderStatusError::generic(denied()));
        let ch = mock!(Client::describe_delivery_channels).then_output(|| {
            DescribeDeliveryChannelsOutput::builder().delivery_channels(SdkChannel::builder().name("default").s3_bucket_name("cfg").build()).build()
        });
        let c = ctx(|cl| cl.config = client(&[&rec, &st, &ch]));
        let out = collect(&c).await;
        let r = out.regions.iter().next().expect("the region's record");
        assert_eq!(r.meta.arn, "arn:aws:config:us-east-1:123456789012:region");
        let recs = r.recorders.known().unwrap();
        assert!(matches!(&recs[0].status, Observed::Unknown(reason) if reason.contains("AccessDeniedException")));
        assert_eq!(r.delivery_channels.known().unwrap()[0].s3_bucket.as_deref(), Some("cfg"));
        assert_eq!(calls(&c, "config", "DescribeConfigurationRecorders"), 1);
    }

    #[tokio::test]
    async fn nothing_configured_is_known_empty_and_all_calls_failing_is_a_collection_failure() {
        let rec = mock!(Client::describe_configuration_recorders).then_output(|| DescribeConfigurationRecordersOutput::builder().build());
        let st = mock!(Client::describe_configuration_recorder_status).then_output(|| DescribeConfigurationRecorderStatusOutput::builder().build());
        let ch = mock!(Client::describe_delivery_channels).then_output(|| DescribeDeliveryChannelsOutput::builder().build());
        let c = ctx(|cl| cl.config = client(&[&rec, &st, &ch]));
        let out = collect(&c).await;
        let r = out.regions.iter().next().unwrap();
        assert_eq!((r.recorders.known().map(Vec::len), r.delivery_channels.known().map(Vec::len)), (Some(0), Some(0)));

        let rec = mock!(Client::describe_configuration_recorders).then_error(|| DescribeConfigurationRecordersError::generic(denied()));
        let st = mock!(Client::describe_configuration_recorder_status).then_error(|| DescribeConfigurationRecorderStatusError::generic(denied()));
        let ch = mock!(Client::describe_delivery_channels).then_error(|| DescribeDeliveryChannelsError::generic(denied()));
        let c = ctx(|cl| cl.config = client(&[&rec, &st, &ch]));
        let out = collect(&c).await;
        assert!(out.regions.is_empty());
        assert!(out.regions.failed_in("us-east-1").is_some_and(|r| r.contains("AccessDeniedException")));

        let mut c = ctx(|_| {});
        c.scope = crate::collect::Scope { stack: Some("dev".into()) };
        assert!(collect(&c).await.regions.is_empty());
    }
}
