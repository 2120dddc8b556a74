//! GuardDuty: in account-wide scans, one record per region with its detectors (ListDetectors,
//! then GetDetector for each: there is no batch describe). A failed ListDetectors is a
//! collection failure of the region, never "no detectors"; a failed GetDetector leaves that
//! detector's fields Unknown.

use super::{fan_out, reported, Ctx};
use crate::model::guardduty::*;
use crate::model::Observed;
use aws_sdk_guardduty::operation::get_detector::GetDetectorOutput;
use aws_sdk_guardduty::types::{DataSourceConfigurationsResult, DetectorFeatureConfigurationResult};
use std::collections::BTreeMap;

const SVC: &str = "guardduty";

/// DataSources as source → status, for the sources GetDetector reported a status for.
pub(crate) fn data_sources(d: &DataSourceConfigurationsResult) -> BTreeMap<String, String> {
    let ebs = d.malware_protection().and_then(|m| m.scan_ec2_instance_with_findings()).and_then(|s| s.ebs_volumes()).and_then(|e| e.status());
    [
        ("CloudTrail", d.cloud_trail().and_then(|s| s.status())),
        ("DNSLogs", d.dns_logs().and_then(|s| s.status())),
        ("FlowLogs", d.flow_logs().and_then(|s| s.status())),
        ("S3Logs", d.s3_logs().and_then(|s| s.status())),
        ("Kubernetes.AuditLogs", d.kubernetes().and_then(|k| k.audit_logs()).and_then(|a| a.status())),
        ("MalwareProtection.ScanEc2InstanceWithFindings.EbsVolumes", ebs),
    ]
    .into_iter()
    .filter_map(|(k, s)| Some((k.to_string(), s?.as_str().to_string())))
    .collect()
}

fn feature(f: &DetectorFeatureConfigurationResult) -> Feature {
    Feature {
        name: f.name().map(|n| n.as_str().to_string()),
        status: f.status().map(|s| s.as_str().to_string()),
        additional: f
            .additional_configuration()
            .iter()
            .map(|a| FeatureSetting { name: a.name().map(|n| n.as_str().to_string()), status: a.status().map(|s| s.as_str().to_string()) })
            .collect(),
    }
}

/// A detector from its GetDetector answer (Err: the reason every field is Unknown).
pub(crate) fn detector(id: String, arn: String, got: Result<GetDetectorOutput, String>) -> Detector {
    let op = "GetDetector";
    match got {
        Err(reason) => Detector {
            id,
            arn,
            status: Observed::Unknown(reason.clone()),
            finding_publishing_frequency: Observed::Unknown(reason.clone()),
            data_sources: Observed::Unknown(reason.clone()),
            features: Observed::Unknown(reason),
        },
        Ok(d) => Detector {
            id,
            arn,
            status: reported(d.status().map(|s| s.as_str().to_string()), op, "Status"),
            finding_publishing_frequency: reported(d.finding_publishing_frequency().map(|f| f.as_str().to_string()), op, "FindingPublishingFrequency"),
            // deprecated by AWS in favour of Features, still reported: kept as evidence
            #[allow(deprecated)]
            data_sources: reported(d.data_sources().map(data_sources), op, "DataSources"),
            features: reported(d.features.as_ref().map(|f| f.iter().map(feature).collect()), op, "Features"),
        },
    }
}

pub async fn collect(ctx: &Ctx) -> GuardDuty {
    let mut out = GuardDuty::default();
    // the region's detectors are the account's, never a stack's (registry: account(..))
    if !ctx.scope.account_wide() {
        return out;
    }
    let gd = &ctx.clients.guardduty;
    let ids: Vec<String> = match ctx.pages(SVC, "ListDetectors", gd.list_detectors().into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.detector_ids().to_vec()).collect(),
        Err(e) => {
            out.regions.fail(&ctx.region, e);
            return out;
        }
    };
    let detectors = fan_out(ctx, ids, |id| async move {
        let got = ctx.call(SVC, "GetDetector", Some(&id), gd.get_detector().detector_id(&id).send()).await;
        detector(id.clone(), ctx.arn(SVC, &format!("detector/{id}")), got)
    })
    .await;
    let meta = ctx.region_record("guardduty:region", SVC, "region");
    out.regions.insert(GuardDutyRegion { meta, detectors });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::{calls, ctx};
    use aws_sdk_guardduty::operation::get_detector::GetDetectorError;
    use aws_sdk_guardduty::operation::list_detectors::{ListDetectorsError, ListDetectorsOutput};
    use aws_sdk_guardduty::types::{
        DataSourceStatus, DetectorAdditionalConfigurationResult, DetectorFeatureResult, DetectorStatus, FeatureAdditionalConfiguration, FeatureStatus,
        FindingPublishingFrequency, KubernetesAuditLogsConfigurationResult, KubernetesConfigurationResult, S3LogsConfigurationResult,
    };
    use aws_sdk_guardduty::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    fn client(rules: &[&aws_smithy_mocks::Rule]) -> Client {
        mock_client!(aws_sdk_guardduty, RuleMode::MatchAny, rules)
    }

    fn denied() -> ErrorMetadata {
        ErrorMetadata::builder().code("AccessDeniedException").message("not allowed").build()
    }

    #[test]
    #[allow(deprecated)]
    fn a_detector_maps_as_reported() {
        let d = GetDetectorOutput::builder()
            .status(DetectorStatus::Enabled)
            .finding_publishing_frequency(FindingPublishingFrequency::FifteenMinutes)
            .data_sources(
                DataSourceConfigurationsResult::builder()
                    .s3_logs(S3LogsConfigurationResult::builder().status(DataSourceStatus::Enabled).build())
                    .kubernetes(
                        KubernetesConfigurationResult::builder()
                            .audit_logs(KubernetesAuditLogsConfigurationResult::builder().status(DataSourceStatus::Disabled).build())
                            .build(),
                    )
                    .build(),
            )
            .features(
                DetectorFeatureConfigurationResult::builder()
                    .name(DetectorFeatureResult::EksRuntimeMonitoring)
                    .status(FeatureStatus::Enabled)
                    .additional_configuration(
                        DetectorAdditionalConfigurationResult::builder()
                            .name(FeatureAdditionalConfiguration::EksAddonManagement)
                            .status(FeatureStatus::Enabled)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let m = detector("d1".into(), "arn:d1".into(), Ok(d));
        assert_eq!(m.status, Observed::Known("ENABLED".into()));
        assert_eq!(m.finding_publishing_frequency, Observed::Known("FIFTEEN_MINUTES".into()));
        assert_eq!(
            m.data_sources,
            Observed::Known(
                [("S3Logs".to_string(), "ENABLED".to_string()), ("Kubernetes.AuditLogs".to_string(), "DISABLED".to_string())].into_iter().collect()
            )
        );
        let f = &m.features.known().unwrap()[0];
        assert_eq!((f.name.as_deref(), f.status.as_deref()), (Some("EKS_RUNTIME_MONITORING"), Some("ENABLED")));
        assert_eq!(f.additional[0].name.as_deref(), Some("EKS_ADDON_MANAGEMENT"));
        // nothing reported: Unknown, not DISABLED
        let m = detector("d1".into(), "arn:d1".into(), Ok(GetDetectorOutput::builder().build()));
        assert!(matches!(m.status, Observed::Unknown(_)) && matches!(m.features, Observed::Unknown(_)));
    }

    #[tokio::test]
    async fn detectors_are_read_and_a_failed_get_leaves_them_unknown() {
        let list = mock!(Client::list_detectors).then_output(|| ListDetectorsOutput::builder().detector_ids("d1").detector_ids("d2").build());
        let ok = mock!(Client::get_detector)
            .match_requests(|r| r.detector_id() == Some("d1"))
            .then_output(|| GetDetectorOutput::builder().status(DetectorStatus::Enabled).build());
        let bad = mock!(Client::get_detector).match_requests(|r| r.detector_id() == Some("d2")).then_error(|| GetDetectorError::generic(denied()));
        let c = ctx(|cl| cl.guardduty = client(&[&list, &ok, &bad]));
        let out = collect(&c).await;
        let r = out.regions.iter().next().expect("the region's record");
        assert_eq!((r.meta.id.as_str(), r.meta.arn.as_str()), ("us-east-1", "arn:aws:guardduty:us-east-1:123456789012:region"));
        assert_eq!(r.detectors.len(), 2);
        assert_eq!(r.detectors[0].arn, "arn:aws:guardduty:us-east-1:123456789012:detector/d1");
        assert_eq!(r.detectors[0].status, Observed::Known("ENABLED".into()));
        assert!(matches!(&r.detectors[1].status, Observed::Unknown(reason) if reason.contains("AccessDeniedException")));
        assert_eq!(calls(&c, "guardduty", "GetDetector"), 2);
    }

    #[tokio::test]
    async fn a_failed_listing_is_a_collection_failure_and_stack_scans_read_nothing() {
        let list = mock!(Client::list_detectors).then_error(|| ListDetectorsError::generic(denied()));
        let c = ctx(|cl| cl.guardduty = client(&[&list]));
        let out = collect(&c).await;
        assert!(out.regions.is_empty(), "never 'no detectors'");
        assert!(out.regions.failed_in("us-east-1").is_some_and(|r| r.contains("AccessDeniedException")));

        let none = mock!(Client::list_detectors).then_output(|| ListDetectorsOutput::builder().build());
        let mut c = ctx(|cl| cl.guardduty = client(&[&none]));
        c.scope = crate::collect::Scope { stack: Some("dev".into()) };
        let out = collect(&c).await;
        assert!(out.regions.is_empty() && out.regions.failures.is_empty());
        assert_eq!(none.num_calls(), 0);
    }

    #[tokio::test]
    async fn no_detector_is_a_known_empty_list() {
        let none = mock!(Client::list_detectors).then_output(|| ListDetectorsOutput::builder().build());
        let c = ctx(|cl| cl.guardduty = client(&[&none]));
        let out = collect(&c).await;
        assert_eq!(out.regions.iter().next().map(|r| r.detectors.len()), Some(0));
        assert!(out.regions.failures.is_empty());
    }
}
