//! CloudTrail controls: every scanned region is logged by a multi-region trail that records all
//! management events; each trail validates, encrypts (customer-managed key) and streams its
//! log files to CloudWatch Logs.
//!
//! Event selection as CloudTrail evaluates it: "For each trail, if the event matches any event
//! selector, the trail processes and logs the event. If the event doesn't match any event
//! selector, the trail doesn't log the event" (EventSelector, CloudTrail API Reference,
//! https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html), so a
//! trail without selectors logs nothing. An advanced selector matches an event when every one
//! of its field selectors does; for management events the supported fields are eventCategory
//! (required), eventSource and readOnly, and Equals is the only operator of eventCategory and
//! readOnly (AdvancedEventSelector / AdvancedFieldSelector, ibid.). A selector narrowed by
//! eventSource (e.g. NotEquals kms.amazonaws.com), like a basic selector with
//! ExcludeManagementEventSources, does not record all management events.

use super::{customer_key_verdict, each, log_group_arn_parts, ControlFn, Params, Verdict};
use crate::model::cloudtrail::{AdvancedEventSelector, EventSelectors, FieldSelector, Trail};
use crate::model::State;
use serde_json::{json, Value};

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("cloudtrail-multi-region-logging", multi_region_logging),
    ("cloudtrail-log-file-validation", log_file_validation),
    ("cloudtrail-encrypted-cmk", encrypted_cmk),
    ("cloudtrail-cloudwatch-logs", cloudwatch_logs),
];

// ---------- which management events a trail records ----------

/// What a trail's event selectors record of management events.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Coverage {
    /// Every management event, read and write.
    All,
    /// Less than that (what is missing).
    Partial(String),
    /// A selector that matters could not be read.
    Unknown(String),
}

/// True when the field selector lets `value` through: it matches one of the including
/// operators (Equals, StartsWith, EndsWith; none given: any value) and none of the excluding
/// ones (NotEquals, NotStartsWith, NotEndsWith).
fn admits(f: &FieldSelector, value: &str) -> bool {
    let including = !(f.equals.is_empty() && f.starts_with.is_empty() && f.ends_with.is_empty());
    let included = !including
        || f.equals.iter().any(|e| e == value)
        || f.starts_with.iter().any(|p| value.starts_with(p.as_str()))
        || f.ends_with.iter().any(|s| value.ends_with(s.as_str()));
    let excluded = f.not_equals.iter().any(|e| e == value)
        || f.not_starts_with.iter().any(|p| value.starts_with(p.as_str()))
        || f.not_ends_with.iter().any(|s| value.ends_with(s.as_str()));
    included && !excluded
}

/// True when the advanced selector matches every management event whose readOnly is
/// `read_only`: it selects eventCategory Management, admits that readOnly value, and is not
/// narrowed by any other field.
fn advanced_selects_all(a: &AdvancedEventSelector, read_only: bool) -> bool {
    let flag = if read_only { "true" } else { "false" };
    a.field_selectors.iter().any(|f| f.field == "eventCategory")
        && a.field_selectors.iter().all(|f| match f.field.as_str() {
            "eventCategory" => admits(f, "Management"),
            "readOnly" => admits(f, flag),
            _ => false,
        })
}

/// The management events the selectors record, read and write, as CloudTrail evaluates them
/// (any matching selector logs the event).
pub(crate) fn management_coverage(s: &EventSelectors) -> Coverage {
    let (mut read, mut write) = (false, false);
    let mut unknown: Option<String> = None;
    let mut notes: Vec<String> = Vec::new();
    for b in &s.basic {
        match b.include_management_events.get() {
            Err(r) => {
                unknown.get_or_insert_with(|| r.to_string());
                continue;
            }
            Ok(false) => {
                notes.push("a basic selector has IncludeManagementEvents false".into());
                continue;
            }
            Ok(true) => {}
        }
        if !b.exclude_management_event_sources.is_empty() {
            notes.push(format!("a basic selector excludes the management events of {}", b.exclude_management_event_sources.join(", ")));
            continue;
        }
        match b.read_write_type.get().map(String::as_str) {
            Ok("All") => (read, write) = (true, true),
            Ok("ReadOnly") => read = true,
            Ok("WriteOnly") => write = true,
            Ok(other) => {
                unknown.get_or_insert_with(|| format!("unrecognised ReadWriteType {other:?}"));
            }
            Err(r) => {
                unknown.get_or_insert_with(|| r.to_string());
            }
        }
    }
    for a in &s.advanced {
        read |= advanced_selects_all(a, true);
        write |= advanced_selects_all(a, false);
    }
    if read && write {
        return Coverage::All;
    }
    if let Some(u) = unknown {
        return Coverage::Unknown(format!("event selectors: {u}"));
    }
    if s.basic.is_empty() && s.advanced.is_empty() {
        return Coverage::Partial("has no event selectors: it records no events".into());
    }
    let what = match (read, write) {
        (true, false) => "records read-only management events only",
        (false, true) => "records write-only management events only",
        _ => "does not record all management events",
    };
    Coverage::Partial(if notes.is_empty() { what.to_string() } else { format!("{what} ({})", notes.join("; ")) })
}

fn coverage_label(t: &Trail) -> Value {
    match t.event_selectors.get() {
        Err(_) => Value::Null,
        Ok(s) => match management_coverage(s) {
            Coverage::All => json!("all, read and write"),
            Coverage::Partial(w) => json!(w),
            Coverage::Unknown(_) => Value::Null,
        },
    }
}

// ---------- cloudtrail-multi-region-logging ----------

#[derive(Debug, Clone, PartialEq)]
enum Judged {
    Qualifies,
    /// Known shortfalls.
    Short(Vec<String>),
    Unknown(String),
}

/// A trail's contribution to logging a region: multi-region, logging, all management events.
/// A known shortfall decides even when another field is unknown.
fn judge_logging(t: &Trail) -> Judged {
    let mut short = Vec::new();
    let mut unknown = None;
    match t.multi_region.get() {
        Ok(true) => {}
        Ok(false) => short.push("is a single-region trail".to_string()),
        Err(r) => unknown = Some(format!("IsMultiRegionTrail: {r}")),
    }
    match t.is_logging.get() {
        Ok(true) => {}
        Ok(false) => short.push("is not logging (stopped)".to_string()),
        Err(r) => unknown = unknown.or(Some(format!("logging status: {r}"))),
    }
    match t.event_selectors.get() {
        Err(r) => unknown = unknown.or(Some(format!("event selectors: {r}"))),
        Ok(s) => match management_coverage(s) {
            Coverage::All => {}
            Coverage::Partial(w) => short.push(w),
            Coverage::Unknown(r) => unknown = unknown.or(Some(r)),
        },
    }
    match (short.is_empty(), unknown) {
        (false, _) => Judged::Short(short),
        (true, Some(r)) => Judged::Unknown(r),
        (true, None) => Judged::Qualifies,
    }
}

/// The trail of an ARN that applies to a region, from its home region's collection (the
/// region in the trail ARN). Err: why it is not known.
fn lookup<'a>(state: &'a State, arn: &str) -> Result<&'a Trail, String> {
    let trails = &state.cloudtrail.trails;
    if let Some(t) = trails.items.get(arn) {
        return Ok(t);
    }
    let home = arn.split(':').nth(3).unwrap_or_default();
    match trails.failed_in(home) {
        Some(reason) => Err(format!("trail {arn}: trails could not be listed in its home region {home}: {reason}")),
        None => Err(format!("trail {arn} was not collected: it is read in its home region {home}, which this scan did not cover")),
    }
}

fn multi_region_logging(state: &State, _: &Params) -> Vec<Verdict> {
    let expected = json!({"trail": {"multi_region": true, "is_logging": true, "management_events": "all, read and write"}});
    each(&state.cloudtrail.regions, "cloudtrail:region", |r| {
        let judged: Vec<(&str, Option<&Trail>, Judged)> = r
            .trails
            .iter()
            .map(|arn| match lookup(state, arn) {
                Ok(t) => (arn.as_str(), Some(t), judge_logging(t)),
                Err(reason) => (arn.as_str(), None, Judged::Unknown(reason)),
            })
            .collect();
        let summary: Vec<Value> = judged
            .iter()
            .map(|(arn, t, j)| {
                json!({
                    "arn": arn,
                    "multi_region": t.and_then(|t| t.multi_region.known()),
                    "is_logging": t.and_then(|t| t.is_logging.known()),
                    "management_events": t.map(coverage_label).unwrap_or(Value::Null),
                    "latest_delivery_error": t.and_then(|t| t.delivery_errors.known()).and_then(|e| e.s3.clone()),
                    "problem": match j { Judged::Qualifies => Value::Null, Judged::Short(s) => json!(s.join("; ")), Judged::Unknown(u) => json!(u) },
                })
            })
            .collect();
        let observed = json!({"trails": summary});
        if let Some((arn, t, _)) = judged.iter().find(|(_, _, j)| *j == Judged::Qualifies) {
            let warning = t
                .and_then(|t| t.delivery_errors.known())
                .and_then(|e| e.s3.as_ref())
                .map(|e| format!(" (its latest S3 delivery error: {e})"))
                .unwrap_or_default();
            return Verdict::pass(
                &r.meta,
                format!("{} is logged by multi-region trail {arn}, recording all read and write management events{warning}", r.meta.id),
                observed,
            );
        }
        let unknown: Vec<&str> = judged.iter().filter_map(|(_, _, j)| if let Judged::Unknown(u) = j { Some(u.as_str()) } else { None }).collect();
        if !unknown.is_empty() {
            return Verdict::error(&r.meta, format!("no trail is known to log {} and {}", r.meta.id, unknown.join("; ")));
        }
        let message = if judged.is_empty() {
            format!("no trail logs the events of {}", r.meta.id)
        } else {
            let why: Vec<String> =
                judged.iter().map(|(arn, _, j)| if let Judged::Short(s) = j { format!("{arn} {}", s.join(", ")) } else { String::new() }).collect();
            format!("no multi-region trail records all management events of {}: {}", r.meta.id, why.join("; "))
        };
        Verdict::fail(&r.meta, message, observed, expected.clone())
    })
}

// ---------- per trail ----------

fn log_file_validation(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.cloudtrail.trails, "cloudtrail:trail", |t| match t.log_file_validation.get() {
        Err(r) => Verdict::error(&t.meta, format!("log file validation: {r}")),
        Ok(true) => {
            Verdict::pass(&t.meta, "CloudTrail writes signed digest files: altered or deleted log files can be detected", json!({"log_file_validation": true}))
        }
        Ok(false) => Verdict::fail(
            &t.meta,
            "log file validation is off: log files can be altered or deleted without a trace",
            json!({"log_file_validation": false}),
            json!({"log_file_validation": true}),
        ),
    })
}

/// KmsKeyId set: SSE-KMS with that key, judged by the shared key resolver (a key of the State
/// must be customer-managed); absent: "by default, the log files delivered by CloudTrail to your
/// buckets are encrypted by Amazon server-side encryption with Amazon S3-managed encryption keys
/// (SSE-S3)" (AWS Control Tower control reference, CT.CLOUDTRAIL.PR.1,
/// https://docs.aws.amazon.com/controltower/latest/controlreference/cloudtrail-rules.html).
fn encrypted_cmk(state: &State, _: &Params) -> Vec<Verdict> {
    let expected = json!({"kms_key_id": "a customer-managed KMS key"});
    each(&state.cloudtrail.trails, "cloudtrail:trail", |t| match t.kms_key_id.get() {
        Err(r) => Verdict::error(&t.meta, format!("the trail's KMS key: {r}")),
        Ok(None) => Verdict::fail(&t.meta, "the log files are encrypted with SSE-S3 only (no KmsKeyId)", json!({"kms_key_id": null}), expected.clone()),
        Ok(Some(k)) => customer_key_verdict(state, &t.meta, &format!("trail {}", t.meta.display_name()), k, json!({"kms_key_id": k}), expected.clone()),
    })
}

/// Whether the log group a trail delivers to exists. CloudTrail delivers to a log group of its
/// own account in its home region (`arn:…:logs:<region>:<account>:log-group:NAME:*`), which the
/// scan read with the trail.
fn trail_log_group_exists(state: &State, t: &Trail, group_arn: &str) -> Result<bool, String> {
    let (region, account, name) = log_group_arn_parts(group_arn).ok_or_else(|| format!("CloudWatchLogsLogGroupArn {group_arn} is not a log group ARN"))?;
    if region != t.meta.region || account != t.meta.account {
        return Err(format!("log group {group_arn} is outside the trail's account and home region, which this check does not see"));
    }
    super::log_group_exists(state, region, account, name)
}

fn cloudwatch_logs(state: &State, _: &Params) -> Vec<Verdict> {
    let expected = json!({"cloudwatch_logs_log_group_arn": "an existing log group", "cloudwatch_logs_role_arn": "a role CloudTrail assumes"});
    each(&state.cloudtrail.trails, "cloudtrail:trail", |t| {
        let group = match t.cloudwatch_logs_log_group_arn.get() {
            Err(r) => return Verdict::error(&t.meta, format!("CloudWatch Logs delivery: {r}")),
            Ok(None) => {
                return Verdict::fail(
                    &t.meta,
                    "the trail does not deliver to CloudWatch Logs: its events cannot be monitored or alarmed on as they happen",
                    json!({"cloudwatch_logs_log_group_arn": null}),
                    expected.clone(),
                )
            }
            Ok(Some(g)) => g,
        };
        let error = t.delivery_errors.known().and_then(|e| e.cloudwatch_logs.clone());
        let observed = json!({"cloudwatch_logs_log_group_arn": group, "cloudwatch_logs_role_arn": t.cloudwatch_logs_role_arn.known(), "latest_cloudwatch_logs_delivery_error": error});
        match t.cloudwatch_logs_role_arn.get() {
            Err(r) => return Verdict::error(&t.meta, format!("CloudWatch Logs role: {r}")),
            Ok(None) => return Verdict::fail(&t.meta, format!("the trail names log group {group} but no role to write to it"), observed, expected.clone()),
            Ok(Some(_)) => {}
        }
        match trail_log_group_exists(state, t, group) {
            Err(r) => Verdict::error(&t.meta, r),
            Ok(false) => Verdict::fail(&t.meta, format!("the trail delivers to log group {group}, which does not exist"), observed, expected.clone()),
            Ok(true) => {
                let warning = error.map(|e| format!(" (its latest delivery error: {e})")).unwrap_or_default();
                Verdict::pass(&t.meta, format!("the trail delivers its events to log group {group}{warning}"), observed)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture, unlisted};
    use crate::finding::Status;
    use crate::model::cloudtrail::EventSelector;
    use crate::model::Observed;

    const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/tapaudit-account-trail";

    fn trail(s: &mut State) -> &mut Trail {
        s.cloudtrail.trails.items.get_mut(ARN).expect("fixture trail")
    }

    fn basic(rw: &str, management: bool, exclude: &[&str]) -> EventSelector {
        EventSelector {
            read_write_type: Observed::Known(rw.into()),
            include_management_events: Observed::Known(management),
            exclude_management_event_sources: exclude.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn field(name: &str, equals: &[&str]) -> FieldSelector {
        FieldSelector { field: name.into(), equals: equals.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    fn advanced(fields: Vec<FieldSelector>) -> AdvancedEventSelector {
        AdvancedEventSelector { name: None, field_selectors: fields }
    }

    fn with_selectors(basic: Vec<EventSelector>, advanced: Vec<AdvancedEventSelector>) -> State {
        let mut s = fixture();
        trail(&mut s).event_selectors = Observed::Known(EventSelectors { basic, advanced });
        s
    }

    /// A second trail applying to us-east-1, with the fixture trail's settings.
    fn second(s: &mut State) -> &mut Trail {
        let mut t = s.cloudtrail.trails.items[ARN].clone();
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/second".to_string();
        t.meta.arn = arn.clone();
        t.meta.id = "second".into();
        s.cloudtrail.trails.items.insert(arn.clone(), t);
        s.cloudtrail.regions.items.values_mut().for_each(|r| r.trails.push(arn.clone()));
        s.cloudtrail.trails.items.get_mut(&arn).unwrap()
    }

    const MR: &str = "cloudtrail-multi-region-logging";

    #[test]
    fn multi_region_logging_passes_and_fails_as_cloudtrail_logs() {
        assert_eq!(eval(MR, &fixture()), vec![Status::Pass]);
        // no trail at all (the fresh account): fail, not error
        let mut none = fixture();
        none.cloudtrail.regions.items.values_mut().for_each(|r| r.trails.clear());
        none.cloudtrail.trails.items.clear();
        assert_eq!(eval(MR, &none), vec![Status::Fail]);
        // adversarial: multi-region but StopLogging'd
        let mut stopped = fixture();
        trail(&mut stopped).is_logging = Observed::Known(false);
        assert_eq!(eval(MR, &stopped), vec![Status::Fail]);
        let mut single = fixture();
        trail(&mut single).multi_region = Observed::Known(false);
        assert_eq!(eval(MR, &single), vec![Status::Fail]);
        // a known shortfall decides although the status is unread
        trail(&mut single).is_logging = Observed::Unknown("GetTrailStatus failed".into());
        assert_eq!(eval(MR, &single), vec![Status::Fail]);
    }

    #[test]
    fn multi_region_logging_reads_basic_and_advanced_selectors() {
        let mgmt = || field("eventCategory", &["Management"]);
        for (why, state, want) in [
            ("WriteOnly", with_selectors(vec![basic("WriteOnly", true, &[])], vec![]), Status::Fail),
            ("ReadOnly", with_selectors(vec![basic("ReadOnly", true, &[])], vec![]), Status::Fail),
            ("ReadOnly + WriteOnly", with_selectors(vec![basic("ReadOnly", true, &[]), basic("WriteOnly", true, &[])], vec![]), Status::Pass),
            ("data events only", with_selectors(vec![basic("All", false, &[])], vec![]), Status::Fail),
            ("KMS excluded", with_selectors(vec![basic("All", true, &["kms.amazonaws.com"])], vec![]), Status::Fail),
            ("no selectors", with_selectors(vec![], vec![]), Status::Fail),
            ("advanced: all management", with_selectors(vec![], vec![advanced(vec![mgmt()])]), Status::Pass),
            // adversarial: an advanced selector that selects data events, not management events
            (
                "advanced: data only",
                with_selectors(vec![], vec![advanced(vec![field("eventCategory", &["Data"]), field("resources.type", &["AWS::S3::Object"])])]),
                Status::Fail,
            ),
            ("advanced: read only", with_selectors(vec![], vec![advanced(vec![mgmt(), field("readOnly", &["true"])])]), Status::Fail),
            (
                "advanced: read and write in two selectors",
                with_selectors(vec![], vec![advanced(vec![mgmt(), field("readOnly", &["true"])]), advanced(vec![mgmt(), field("readOnly", &["false"])])]),
                Status::Pass,
            ),
            (
                "advanced: KMS excluded",
                with_selectors(
                    vec![],
                    vec![advanced(vec![
                        mgmt(),
                        FieldSelector { field: "eventSource".into(), not_equals: vec!["kms.amazonaws.com".into()], ..Default::default() },
                    ])],
                ),
                Status::Fail,
            ),
            (
                "advanced: Management excluded",
                with_selectors(
                    vec![],
                    vec![advanced(vec![FieldSelector { field: "eventCategory".into(), not_equals: vec!["Management".into()], ..Default::default() }])],
                ),
                Status::Fail,
            ),
        ] {
            assert_eq!(eval(MR, &state), vec![want], "{why}");
        }
        // an unread selector field: error, unless another selector already records everything
        let unread = EventSelector { read_write_type: Observed::Unknown("GetEventSelectors did not report ReadWriteType".into()), ..basic("All", true, &[]) };
        assert_eq!(eval(MR, &with_selectors(vec![unread.clone()], vec![])), vec![Status::Error]);
        assert_eq!(eval(MR, &with_selectors(vec![unread, basic("All", true, &[])], vec![])), vec![Status::Pass]);
    }

    #[test]
    fn one_compliant_trail_suffices_and_an_unread_one_alone_is_an_error() {
        // the only trail's status unread: error, never pass or fail
        let mut unread = fixture();
        trail(&mut unread).is_logging = Observed::Unknown("cloudtrail GetTrailStatus failed: AccessDenied".into());
        assert_eq!(eval(MR, &unread), vec![Status::Error]);
        // another trail passes decisively: pass
        let mut one_good = unread.clone();
        second(&mut one_good).is_logging = Observed::Known(true);
        assert_eq!(eval(MR, &one_good), vec![Status::Pass]);
        // the other one falls short: still undecided
        let mut one_bad = unread.clone();
        second(&mut one_bad).is_logging = Observed::Known(false);
        assert_eq!(eval(MR, &one_bad), vec![Status::Error]);
        // selectors unread
        let mut selectors = fixture();
        trail(&mut selectors).event_selectors = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval(MR, &selectors), vec![Status::Error]);
    }

    #[test]
    fn a_trail_that_was_not_collected_is_unknown() {
        // a multi-region trail homed in a region this scan did not read
        let mut elsewhere = fixture();
        elsewhere.cloudtrail.regions.items.values_mut().for_each(|r| r.trails = vec!["arn:aws:cloudtrail:eu-west-1:123456789012:trail/eu".into()]);
        assert_eq!(eval(MR, &elsewhere), vec![Status::Error]);
        // its home region's listing failed
        let mut failed = fixture();
        failed.cloudtrail.trails.items.clear();
        failed.cloudtrail.trails.fail("us-east-1", "AccessDenied");
        assert_eq!(eval(MR, &failed), vec![Status::Error]);
        assert_eq!(eval(MR, &unlisted(|s| &mut s.cloudtrail.regions)), vec![Status::Error]);
    }

    #[test]
    fn log_file_validation() {
        let id = "cloudtrail-log-file-validation";
        assert_eq!(eval(id, &fixture()), vec![Status::Pass]);
        let mut off = fixture();
        trail(&mut off).log_file_validation = Observed::Known(false);
        assert_eq!(eval(id, &off), vec![Status::Fail]);
        // adversarial: a second, unvalidated trail is judged on its own
        let mut two = fixture();
        second(&mut two).log_file_validation = Observed::Known(false);
        assert_eq!(eval(id, &two), vec![Status::Fail, Status::Pass]);
        let mut unknown = fixture();
        trail(&mut unknown).log_file_validation = Observed::Unknown("DescribeTrails did not report LogFileValidationEnabled".into());
        assert_eq!(eval(id, &unknown), vec![Status::Error]);
        assert_eq!(eval(id, &unlisted(|s| &mut s.cloudtrail.trails)), vec![Status::Error]);
    }

    #[test]
    fn encrypted_cmk() {
        let id = "cloudtrail-encrypted-cmk";
        assert_eq!(eval(id, &fixture()), vec![Status::Pass]);
        let mut sse_s3 = fixture();
        trail(&mut sse_s3).kms_key_id = Observed::Known(None);
        assert_eq!(eval(id, &sse_s3), vec![Status::Fail]);
        // adversarial: a key id is set, but the key is AWS-managed, or gone
        let mut aws = fixture();
        aws.kms.keys.items.values_mut().for_each(|k| k.manager = Observed::Known(crate::model::kms::Manager::Aws));
        assert_eq!(eval(id, &aws), vec![Status::Fail]);
        let mut gone = fixture();
        trail(&mut gone).kms_key_id = Observed::Known(Some("arn:aws:kms:us-east-1:123456789012:key/deadbeef-0000-0000-0000-000000000000".into()));
        assert_eq!(eval(id, &gone), vec![Status::Fail]);
        // a key in a region that was not scanned, or KMS unlisted: cannot tell
        let mut elsewhere = fixture();
        trail(&mut elsewhere).kms_key_id = Observed::Known(Some("arn:aws:kms:eu-west-1:123456789012:key/deadbeef-0000-0000-0000-000000000000".into()));
        assert_eq!(eval(id, &elsewhere), vec![Status::Error]);
        assert_eq!(eval(id, &unlisted(|s| &mut s.kms.keys)), vec![Status::Error]);
        let mut unknown = fixture();
        trail(&mut unknown).kms_key_id = Observed::Unknown("x".into());
        assert_eq!(eval(id, &unknown), vec![Status::Error]);
        // an organization trail received from the management account: its key is that account's,
        // customer-managed by construction (AWS-managed keys are not shared across accounts)
        let mut organization = fixture();
        trail(&mut organization).kms_key_id = Observed::Known(Some("arn:aws:kms:us-east-1:210987654321:key/0f0f0f0f-1111-2222-3333-444455556666".into()));
        assert_eq!(eval(id, &organization), vec![Status::Pass]);
    }

    #[test]
    fn cloudwatch_logs() {
        let id = "cloudtrail-cloudwatch-logs";
        assert_eq!(eval(id, &fixture()), vec![Status::Pass]);
        let mut none = fixture();
        trail(&mut none).cloudwatch_logs_log_group_arn = Observed::Known(None);
        assert_eq!(eval(id, &none), vec![Status::Fail]);
        let mut no_role = fixture();
        trail(&mut no_role).cloudwatch_logs_role_arn = Observed::Known(None);
        assert_eq!(eval(id, &no_role), vec![Status::Fail]);
        // adversarial: the trail still names a log group that was deleted
        let mut deleted = fixture();
        deleted.logs.log_groups.retain(|g| g.meta.id != "/tapaudit/dev/api-gateway");
        assert_eq!(eval(id, &deleted), vec![Status::Fail]);
        // ... unless it only left the stack's scope
        deleted.logs.out_of_scope.insert("arn:aws:logs:us-east-1:123456789012:log-group:/tapaudit/dev/api-gateway".into());
        assert_eq!(eval(id, &deleted), vec![Status::Pass]);
        assert_eq!(eval(id, &unlisted(|s| &mut s.logs.log_groups)), vec![Status::Error]);
        let mut other_account = fixture();
        trail(&mut other_account).cloudwatch_logs_log_group_arn = Observed::Known(Some("arn:aws:logs:us-east-1:210987654321:log-group:central:*".into()));
        assert_eq!(eval(id, &other_account), vec![Status::Error]);
        let mut unknown = fixture();
        trail(&mut unknown).cloudwatch_logs_log_group_arn = Observed::Unknown("x".into());
        assert_eq!(eval(id, &unknown), vec![Status::Error]);
        assert_eq!(eval(id, &unlisted(|s| &mut s.cloudtrail.trails)), vec![Status::Error]);
    }
}
