//! CloudTrail: one DescribeTrails per region (includeShadowTrails=true) lists every trail that
//! applies to the region, with its settings. "A shadow trail is the replication in a Region of a
//! trail that was created in a different Region, or in the case of an organization trail, the
//! replication of an organization trail in member accounts"
//! (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DescribeTrails.html), so:
//! - the whole list is the region's [`TrailRegion`] record (account-wide scans only);
//! - the trails whose HomeRegion is this region are collected here, once: tags (ListTags, up to
//!   20 ARNs a call), then for those in scope GetTrailStatus and GetEventSelectors by ARN ("To
//!   get the status of a shadow trail ... you must specify its ARN"; "If the trail is an
//!   organization trail and you are a member account ..., you must provide the full ARN",
//!   GetTrailStatus request parameters). An organization trail that a member account receives
//!   is collected in its home region too, under the management account's ARN.
//!
//! DescribeTrails is not paginated. A failed DescribeTrails is a collection failure of both
//! collections; a trail listed without TrailARN (or, for the trails, without HomeRegion or
//! Name) makes the affected collection incomplete in the region.

use super::{fan_out, reported, tag_map, Ctx};
use crate::model::cloudtrail::*;
use crate::model::Observed;
use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
use aws_sdk_cloudtrail::types::{AdvancedFieldSelector, ResourceTag, Trail as SdkTrail};
use std::collections::BTreeMap;

const SVC: &str = "cloudtrail";
/// "The list has a limit of 20 ARNs" (ListTags ResourceIdList).
const TAGS_PER_CALL: usize = 20;

type Tags = Observed<BTreeMap<String, String>>;

/// A trail of the listing that is collected in this region: named, with its home region here.
/// Err: the fields it lacks to tell (the listing is then incomplete).
fn homed_here(t: &SdkTrail, region: &str) -> Result<bool, Vec<&'static str>> {
    let missing: Vec<&str> = [("TrailARN", t.trail_arn().is_none()), ("Name", t.name().is_none()), ("HomeRegion", t.home_region().is_none())]
        .into_iter()
        .filter_map(|(f, m)| m.then_some(f))
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(t.home_region() == Some(region))
}

/// Empty strings are no error: moto (and older answers) report `""` for fields never set.
fn error_text(s: Option<&str>) -> Option<String> {
    s.filter(|e| !e.trim().is_empty()).map(str::to_string)
}

pub(crate) fn delivery_errors(o: &GetTrailStatusOutput) -> DeliveryErrors {
    DeliveryErrors {
        s3: error_text(o.latest_delivery_error()),
        digest: error_text(o.latest_digest_delivery_error()),
        cloudwatch_logs: error_text(o.latest_cloud_watch_logs_delivery_error()),
    }
}

fn field_selector(f: &AdvancedFieldSelector) -> FieldSelector {
    FieldSelector {
        field: f.field().to_string(),
        equals: f.equals().to_vec(),
        starts_with: f.starts_with().to_vec(),
        ends_with: f.ends_with().to_vec(),
        not_equals: f.not_equals().to_vec(),
        not_starts_with: f.not_starts_with().to_vec(),
        not_ends_with: f.not_ends_with().to_vec(),
    }
}

/// The selectors as reported; a basic selector's unreported ReadWriteType or
/// IncludeManagementEvents is Unknown (AWS documents request defaults, not what an answer
/// without them means).
pub(crate) fn event_selectors(o: &GetEventSelectorsOutput) -> EventSelectors {
    let op = "GetEventSelectors";
    EventSelectors {
        basic: o
            .event_selectors()
            .iter()
            .map(|s| EventSelector {
                read_write_type: reported(s.read_write_type().map(|r| r.as_str().to_string()), op, "ReadWriteType"),
                include_management_events: reported(s.include_management_events(), op, "IncludeManagementEvents"),
                exclude_management_event_sources: s.exclude_management_event_sources().to_vec(),
            })
            .collect(),
        advanced: o
            .advanced_event_selectors()
            .iter()
            .map(|s| AdvancedEventSelector { name: s.name().map(str::to_string), field_selectors: s.field_selectors().iter().map(field_selector).collect() })
            .collect(),
    }
}

/// A trail from its DescribeTrails entry (`meta` already built) and the two detail answers.
/// Absent KmsKeyId / CloudWatchLogs* in a DescribeTrails entry: not configured.
pub(crate) fn trail(
    meta: crate::model::Meta,
    t: &SdkTrail,
    status: Result<GetTrailStatusOutput, String>,
    selectors: Result<GetEventSelectorsOutput, String>,
) -> Trail {
    let op = "DescribeTrails";
    let home_region = meta.region.clone();
    Trail {
        meta,
        home_region,
        s3_bucket: reported(t.s3_bucket_name().map(str::to_string), op, "S3BucketName"),
        multi_region: reported(t.is_multi_region_trail(), op, "IsMultiRegionTrail"),
        organization_trail: reported(t.is_organization_trail(), op, "IsOrganizationTrail"),
        log_file_validation: reported(t.log_file_validation_enabled(), op, "LogFileValidationEnabled"),
        kms_key_id: Observed::Known(t.kms_key_id().map(str::to_string)),
        cloudwatch_logs_log_group_arn: Observed::Known(t.cloud_watch_logs_log_group_arn().map(str::to_string)),
        cloudwatch_logs_role_arn: Observed::Known(t.cloud_watch_logs_role_arn().map(str::to_string)),
        include_global_service_events: reported(t.include_global_service_events(), op, "IncludeGlobalServiceEvents"),
        is_logging: status.clone().and_then(|s| s.is_logging().ok_or_else(|| "GetTrailStatus did not report IsLogging".to_string())).into(),
        delivery_errors: status.map(|s| delivery_errors(&s)).into(),
        event_selectors: selectors.map(|s| event_selectors(&s)).into(),
    }
}

/// Tags by ARN from ListTags answers; an ARN the answers do not mention is Unknown.
pub(crate) fn tags_by_arn(arns: &[String], listed: Result<Vec<ResourceTag>, String>) -> BTreeMap<String, Tags> {
    match listed {
        Err(reason) => arns.iter().map(|a| (a.clone(), Observed::Unknown(reason.clone()))).collect(),
        Ok(list) => {
            let found: BTreeMap<&str, &ResourceTag> = list.iter().filter_map(|r| Some((r.resource_id()?, r))).collect();
            arns.iter()
                .map(|a| {
                    let t = match found.get(a.as_str()) {
                        // a tag without a value is a tag whose value is empty
                        Some(r) => Observed::Known(tag_map(r.tags_list().iter().map(|t| (t.key(), t.value().unwrap_or(""))))),
                        None => Observed::Unknown(format!("cloudtrail:ListTags did not report the tags of {a}")),
                    };
                    (a.clone(), t)
                })
                .collect()
        }
    }
}

/// ListTags for the trails, 20 ARNs per call.
async fn tags(ctx: &Ctx, arns: &[String]) -> BTreeMap<String, Tags> {
    let ct = &ctx.clients.cloudtrail;
    let mut out = BTreeMap::new();
    for chunk in arns.chunks(TAGS_PER_CALL) {
        let listed = ctx
            .pages(SVC, "ListTags", ct.list_tags().set_resource_id_list(Some(chunk.to_vec())).into_paginator().send())
            .await
            .map(|pages| pages.iter().flat_map(|p| p.resource_tag_list().to_vec()).collect());
        out.extend(tags_by_arn(chunk, listed));
    }
    out
}

/// One failure per collection and region, however many entries were incomplete.
fn fail_once<T: crate::model::Resource>(c: &mut crate::model::Collection<T>, region: &str, reason: &str) {
    if c.failed_in(region).is_none() {
        c.fail(region, reason);
    }
}

async fn detail(ctx: &Ctx, t: SdkTrail, tags: Tags) -> Trail {
    let ct = &ctx.clients.cloudtrail;
    let arn = t.trail_arn().unwrap_or_default().to_string();
    let name = t.name().unwrap_or_default().to_string();
    let (status, selectors) = tokio::join!(
        ctx.call(SVC, "GetTrailStatus", Some(&arn), ct.get_trail_status().name(&arn).send()),
        ctx.call(SVC, "GetEventSelectors", Some(&arn), ct.get_event_selectors().trail_name(&arn).send()),
    );
    // account: the scanned account, also for an organization trail it receives (whose ARN, key
    // and log group are the management account's: outside this State, and judged so)
    let meta = ctx.meta("cloudtrail:trail", &name, arn.clone(), Some(name.clone()), tags);
    trail(meta, &t, status, selectors)
}

pub async fn collect(ctx: &Ctx) -> CloudTrail {
    let ct = &ctx.clients.cloudtrail;
    let mut out = CloudTrail::default();
    let account_wide = ctx.scope.account_wide();
    let listed = match ctx.call(SVC, "DescribeTrails", None, ct.describe_trails().include_shadow_trails(true).send()).await {
        Ok(o) => o.trail_list().to_vec(),
        Err(e) => {
            if account_wide {
                out.regions.fail(&ctx.region, e.clone());
            }
            out.trails.fail(&ctx.region, e);
            return out;
        }
    };
    let mut applying = Vec::new();
    let mut here = Vec::new();
    let mut region_complete = true;
    for t in listed {
        match t.trail_arn() {
            Some(arn) => applying.push(arn.to_string()),
            None => region_complete = false,
        }
        match homed_here(&t, &ctx.region) {
            Ok(true) => here.push(t),
            Ok(false) => {}
            Err(missing) => {
                let who = t.trail_arn().or(t.name()).unwrap_or("a trail").to_string();
                let reason = ctx.incomplete(SVC, "DescribeTrails", &who, &missing);
                fail_once(&mut out.trails, &ctx.region, &reason);
                if t.trail_arn().is_none() && account_wide {
                    fail_once(&mut out.regions, &ctx.region, &reason);
                }
            }
        }
    }
    if account_wide && region_complete {
        applying.sort();
        applying.dedup();
        let meta = ctx.region_record("cloudtrail:region", SVC, "region");
        out.regions.insert(TrailRegion { meta, trails: applying });
    }
    let arns: Vec<String> = here.iter().filter_map(|t| t.trail_arn().map(str::to_string)).collect();
    let mut tags = tags(ctx, &arns).await;
    let in_scope: Vec<(SdkTrail, Tags)> = here
        .into_iter()
        .filter_map(|t| {
            let tg = tags.remove(t.trail_arn().unwrap_or_default()).unwrap_or_else(|| Observed::Unknown("cloudtrail:ListTags was not asked".into()));
            ctx.scope.wants(&tg).then_some((t, tg))
        })
        .collect();
    for t in fan_out(ctx, in_scope, |(t, tg)| detail(ctx, t, tg)).await {
        out.trails.insert(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::{calls, ctx};
    use aws_sdk_cloudtrail::operation::describe_trails::{DescribeTrailsError, DescribeTrailsOutput};
    use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsError;
    use aws_sdk_cloudtrail::operation::list_tags::ListTagsOutput;
    use aws_sdk_cloudtrail::types::{AdvancedEventSelector as SdkAdvanced, EventSelector as SdkSelector, ReadWriteType, Tag};
    use aws_sdk_cloudtrail::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    const HOME: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org";
    const SHADOW: &str = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/eu";

    fn sdk_trail(arn: &str, home: &str) -> SdkTrail {
        SdkTrail::builder()
            .name(arn.rsplit('/').next().unwrap())
            .trail_arn(arn)
            .home_region(home)
            .s3_bucket_name("trail-bucket")
            .is_multi_region_trail(true)
            .is_organization_trail(false)
            .log_file_validation_enabled(true)
            .include_global_service_events(true)
            .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/k")
            .build()
    }

    fn client(rules: &[&aws_smithy_mocks::Rule]) -> Client {
        mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, rules)
    }

    fn denied() -> ErrorMetadata {
        ErrorMetadata::builder().code("AccessDeniedException").message("not allowed").build()
    }

    #[test]
    fn selectors_map_as_reported_and_unreported_fields_are_unknown() {
        let o = GetEventSelectorsOutput::builder()
            .event_selectors(
                SdkSelector::builder()
                    .read_write_type(ReadWriteType::WriteOnly)
                    .include_management_events(true)
                    .exclude_management_event_sources("kms.amazonaws.com")
                    .build(),
            )
            .event_selectors(SdkSelector::builder().build())
            .advanced_event_selectors(
                SdkAdvanced::builder()
                    .name("mgmt")
                    .field_selectors(AdvancedFieldSelector::builder().field("eventCategory").equals("Management").build().unwrap())
                    .field_selectors(AdvancedFieldSelector::builder().field("readOnly").equals("false").build().unwrap())
                    .build()
                    .unwrap(),
            )
            .build();
        let s = event_selectors(&o);
        assert_eq!(s.basic[0].read_write_type, Observed::Known("WriteOnly".into()));
        assert_eq!(s.basic[0].include_management_events, Observed::Known(true));
        assert_eq!(s.basic[0].exclude_management_event_sources, vec!["kms.amazonaws.com".to_string()]);
        assert!(matches!(s.basic[1].read_write_type, Observed::Unknown(_)), "no default for an unreported ReadWriteType");
        assert!(matches!(s.basic[1].include_management_events, Observed::Unknown(_)));
        assert_eq!(s.advanced[0].name.as_deref(), Some("mgmt"));
        assert_eq!(s.advanced[0].field_selectors[1], FieldSelector { field: "readOnly".into(), equals: vec!["false".into()], ..Default::default() });
    }

    #[test]
    fn status_and_settings_map_and_empty_errors_are_no_errors() {
        let status = GetTrailStatusOutput::builder().is_logging(true).latest_delivery_error("").latest_cloud_watch_logs_delivery_error("AccessDenied").build();
        let meta = ctx(|_| {}).meta("cloudtrail:trail", "org", HOME.into(), Some("org".into()), Observed::Known(BTreeMap::new()));
        let t = trail(meta.clone(), &sdk_trail(HOME, "us-east-1"), Ok(status), Err("GetEventSelectors failed".into()));
        assert_eq!(t.is_logging, Observed::Known(true));
        assert_eq!(t.delivery_errors, Observed::Known(DeliveryErrors { s3: None, digest: None, cloudwatch_logs: Some("AccessDenied".into()) }));
        assert_eq!(t.event_selectors, Observed::Unknown("GetEventSelectors failed".into()));
        assert_eq!(t.multi_region, Observed::Known(true));
        assert_eq!(t.kms_key_id, Observed::Known(Some("arn:aws:kms:us-east-1:123456789012:key/k".into())));
        assert_eq!(t.cloudwatch_logs_log_group_arn, Observed::Known(None), "absent: not delivered to CloudWatch Logs");
        assert_eq!(t.home_region, "us-east-1");
        // IsLogging absent: unknown, not "stopped"
        let t = trail(meta, &SdkTrail::builder().build(), Ok(GetTrailStatusOutput::builder().build()), Err("x".into()));
        assert!(matches!(t.is_logging, Observed::Unknown(_)));
        assert!(matches!(t.multi_region, Observed::Unknown(_)));
    }

    #[test]
    fn tags_by_arn_never_defaults_a_missing_answer() {
        let arns = vec![HOME.to_string(), SHADOW.to_string()];
        let listed = vec![ResourceTag::builder().resource_id(HOME).tags_list(Tag::builder().key("tapaudit:stack").value("dev").build().unwrap()).build()];
        let m = tags_by_arn(&arns, Ok(listed));
        assert_eq!(m[HOME], Observed::Known([("tapaudit:stack".to_string(), "dev".to_string())].into_iter().collect()));
        assert!(matches!(m[SHADOW], Observed::Unknown(_)));
        let m = tags_by_arn(&arns, Err("denied".into()));
        assert!(m.values().all(|t| matches!(t, Observed::Unknown(_))));
    }

    #[tokio::test]
    async fn home_trails_are_collected_here_and_every_applying_trail_is_recorded() {
        let list = mock!(Client::describe_trails)
            .match_requests(|r| r.include_shadow_trails() == Some(true))
            .then_output(|| DescribeTrailsOutput::builder().trail_list(sdk_trail(HOME, "us-east-1")).trail_list(sdk_trail(SHADOW, "eu-west-1")).build());
        let tags = mock!(Client::list_tags).match_requests(|r| r.resource_id_list() == [HOME.to_string()]).then_output(|| {
            ListTagsOutput::builder()
                .resource_tag_list(ResourceTag::builder().resource_id(HOME).tags_list(Tag::builder().key("Environment").value("prod").build().unwrap()).build())
                .build()
        });
        let status =
            mock!(Client::get_trail_status).match_requests(|r| r.name() == Some(HOME)).then_output(|| GetTrailStatusOutput::builder().is_logging(true).build());
        let selectors =
            mock!(Client::get_event_selectors).match_requests(|r| r.trail_name() == Some(HOME)).then_error(|| GetEventSelectorsError::generic(denied()));
        let c = ctx(|cl| cl.cloudtrail = client(&[&list, &tags, &status, &selectors]));
        let out = collect(&c).await;
        assert!(out.trails.failures.is_empty() && out.regions.failures.is_empty());
        assert_eq!(out.trails.items.keys().collect::<Vec<_>>(), vec![HOME], "the shadow trail is collected in its own home region");
        let t = &out.trails.items[HOME];
        assert_eq!(t.meta.tag("Environment"), Some("prod"));
        assert_eq!(t.is_logging, Observed::Known(true));
        match &t.event_selectors {
            Observed::Unknown(r) => assert!(r.contains("AccessDeniedException"), "{r}"),
            other => panic!("selectors must be Unknown, got {other:?}"),
        }
        let r = out.regions.iter().next().expect("the region's record");
        assert_eq!((r.meta.id.as_str(), r.meta.arn.as_str()), ("us-east-1", "arn:aws:cloudtrail:us-east-1:123456789012:region"));
        assert_eq!(r.trails, vec![SHADOW.to_string(), HOME.to_string()]);
        assert_eq!(calls(&c, "cloudtrail", "DescribeTrails"), 1);
        assert_eq!(calls(&c, "cloudtrail", "ListTags"), 1);
    }

    #[tokio::test]
    async fn a_failed_listing_is_a_collection_failure_of_both_and_stack_scans_keep_only_their_trails() {
        let denied_list = mock!(Client::describe_trails).then_error(|| DescribeTrailsError::generic(denied()));
        let c = ctx(|cl| cl.cloudtrail = client(&[&denied_list]));
        let out = collect(&c).await;
        assert!(out.trails.is_empty() && out.regions.is_empty());
        assert!(out.trails.failed_in("us-east-1").is_some_and(|r| r.contains("AccessDeniedException")));
        assert!(out.regions.failed_in("us-east-1").is_some(), "never an empty region: nothing about it is known");

        // a stack scan: no region record, and an untagged trail is the account's, not the stack's
        let list = mock!(Client::describe_trails).then_output(|| DescribeTrailsOutput::builder().trail_list(sdk_trail(HOME, "us-east-1")).build());
        let tags =
            mock!(Client::list_tags).then_output(|| ListTagsOutput::builder().resource_tag_list(ResourceTag::builder().resource_id(HOME).build()).build());
        let mut c = ctx(|cl| cl.cloudtrail = client(&[&list, &tags]));
        c.scope = crate::collect::Scope { stack: Some("dev".into()) };
        let out = collect(&c).await;
        assert!(out.trails.is_empty() && out.regions.is_empty() && out.regions.failures.is_empty());
        assert_eq!(calls(&c, "cloudtrail", "GetTrailStatus"), 0, "no detail calls for a trail out of scope");
    }

    #[tokio::test]
    async fn a_trail_without_its_arn_makes_both_collections_incomplete() {
        let list = mock!(Client::describe_trails)
            .then_output(|| DescribeTrailsOutput::builder().trail_list(SdkTrail::builder().name("anonymous").home_region("us-east-1").build()).build());
        let c = ctx(|cl| cl.cloudtrail = client(&[&list]));
        let out = collect(&c).await;
        assert!(out.regions.is_empty(), "the region's list of trails is incomplete");
        assert!(out.regions.failed_in("us-east-1").is_some_and(|r| r.contains("TrailARN")));
        assert!(out.trails.failed_in("us-east-1").is_some());
        let (_, errors) = c.rec.finish(Default::default(), Default::default());
        assert_eq!(errors[0].code, "IncompleteResponse");
    }
}
