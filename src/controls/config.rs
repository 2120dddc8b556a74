//! AWS Config: every scanned region has a configuration recorder that records every supported
//! resource type, is running and not failing, and a delivery channel.
//!
//! Coverage as Config applies it: ALL_SUPPORTED_RESOURCE_TYPES requires allSupported true;
//! INCLUSION_BY_RESOURCE_TYPES records only the listed types; "If you choose
//! EXCLUSION_BY_RESOURCE_TYPES for the recording strategy, the exclusionByResourceTypes field
//! overrides other properties in the request" (RecordingStrategy, AWS Config API Reference,
//! https://docs.aws.amazon.com/config/latest/APIReference/API_RecordingStrategy.html).
//! includeGlobalResourceTypes is not required here: the global IAM types "can only be recorded
//! by Config in Regions where Config was available before February 2022" (RecordingGroup,
//! ibid.), so a per-region check cannot demand it. A recorder's lastStatus is Pending, Success,
//! Failure or NotApplicable (DescribeConfigurationRecorderStatus); moto spells it upper case.

use super::{each, ControlFn, Params, Verdict};
use crate::model::config::{Recorder, RecordingGroup};
use crate::model::State;
use serde_json::{json, Value};

pub const CONTROLS: &[(&str, ControlFn)] = &[("config-recorder-enabled", recorder_enabled)];

#[derive(Debug, Clone, PartialEq)]
enum Judged {
    Qualifies,
    Short(Vec<String>),
    Unknown(String),
}

/// Err: what the recording group leaves out (or why that cannot be told, as `Ok(Err)`).
fn coverage(g: &RecordingGroup) -> Result<(), Result<String, String>> {
    match g.strategy.as_deref() {
        Some("EXCLUSION_BY_RESOURCE_TYPES") => Err(Ok(format!("records every type except {}", g.exclusions.join(", ")))),
        Some("INCLUSION_BY_RESOURCE_TYPES") => {
            Err(Ok(format!("records only {}", if g.resource_types.is_empty() { "the listed types (none)".to_string() } else { g.resource_types.join(", ") })))
        }
        Some("ALL_SUPPORTED_RESOURCE_TYPES") | None if g.all_supported => Ok(()),
        Some("ALL_SUPPORTED_RESOURCE_TYPES") | None => Err(Ok("allSupported is false: it does not record every supported resource type".into())),
        Some(other) => Err(Err(format!("unrecognised recording strategy {other:?}"))),
    }
}

fn judge(r: &Recorder) -> Judged {
    let mut short = Vec::new();
    let mut unknown = None;
    match r.recording_group.get() {
        Err(reason) => unknown = Some(format!("recording group of {}: {reason}", r.name)),
        Ok(g) => match coverage(g) {
            Ok(()) => {}
            Err(Ok(why)) => short.push(why),
            Err(Err(why)) => unknown = Some(why),
        },
    }
    match r.status.get() {
        Err(reason) => unknown = unknown.or(Some(format!("status of {}: {reason}", r.name))),
        Ok(s) => {
            if !s.recording {
                short.push("is not recording (stopped)".into());
            }
            if s.last_status.as_deref().is_some_and(|l| l.eq_ignore_ascii_case("Failure")) {
                let why = [s.last_error_code.as_deref(), s.last_error_message.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(": ");
                short.push(format!("last status FAILURE{}", if why.is_empty() { String::new() } else { format!(" ({why})") }));
            }
        }
    }
    match (short.is_empty(), unknown) {
        (false, _) => Judged::Short(short),
        (true, Some(u)) => Judged::Unknown(u),
        (true, None) => Judged::Qualifies,
    }
}

fn recorder_enabled(state: &State, _: &Params) -> Vec<Verdict> {
    let expected = json!({"recorder": {"recording": true, "last_status": "not FAILURE", "all_supported": true}, "delivery_channels": "at least one"});
    each(&state.config.regions, "config:region", |r| {
        let region = &r.meta.id;
        let channels = r.delivery_channels.get().map(Vec::len);
        let recorders = match r.recorders.get() {
            Ok(list) => list,
            Err(reason) if channels == Ok(0) => {
                return Verdict::fail(
                    &r.meta,
                    format!("no delivery channel in {region} (recorders unread: {reason})"),
                    json!({"delivery_channels": 0}),
                    expected.clone(),
                )
            }
            Err(reason) => return Verdict::error(&r.meta, format!("configuration recorders in {region}: {reason}")),
        };
        let judged: Vec<(&Recorder, Judged)> = recorders.iter().map(|rec| (rec, judge(rec))).collect();
        let summary: Vec<Value> = judged
            .iter()
            .map(|(rec, j)| {
                json!({
                    "name": rec.name,
                    "recording": rec.status.known().map(|s| s.recording),
                    "last_status": rec.status.known().and_then(|s| s.last_status.clone()),
                    "all_supported": rec.recording_group.known().map(|g| g.all_supported),
                    "strategy": rec.recording_group.known().and_then(|g| g.strategy.clone()),
                    "problem": match j { Judged::Qualifies => Value::Null, Judged::Short(s) => json!(s.join("; ")), Judged::Unknown(u) => json!(u) },
                })
            })
            .collect();
        let observed = json!({"recorders": summary, "delivery_channels": channels.as_ref().ok()});
        if recorders.is_empty() {
            return Verdict::fail(
                &r.meta,
                format!("AWS Config has no configuration recorder in {region}: configuration changes are not recorded"),
                observed,
                expected.clone(),
            );
        }
        if channels == Ok(0) {
            return Verdict::fail(
                &r.meta,
                format!("AWS Config has no delivery channel in {region}: configuration history is not delivered"),
                observed,
                expected.clone(),
            );
        }
        if let Some((rec, _)) = judged.iter().find(|(_, j)| *j == Judged::Qualifies) {
            return match channels {
                Err(reason) => Verdict::error(&r.meta, format!("delivery channels in {region}: {reason}")),
                Ok(_) => Verdict::pass(&r.meta, format!("recorder {} records every supported resource type in {region} and delivers it", rec.name), observed),
            };
        }
        if let Some(u) = judged.iter().find_map(|(_, j)| if let Judged::Unknown(u) = j { Some(u) } else { None }) {
            return Verdict::error(&r.meta, u.clone());
        }
        let why: Vec<String> =
            judged.iter().map(|(rec, j)| if let Judged::Short(s) = j { format!("{} {}", rec.name, s.join(", ")) } else { String::new() }).collect();
        Verdict::fail(
            &r.meta,
            format!("no configuration recorder in {region} records every supported resource type: {}", why.join("; ")),
            observed,
            expected.clone(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture, unlisted};
    use crate::finding::Status;
    use crate::model::config::ConfigRegion;
    use crate::model::Observed;

    fn region(s: &mut State) -> &mut ConfigRegion {
        s.config.regions.items.values_mut().next().expect("fixture region")
    }

    fn recorder(s: &mut State) -> &mut Recorder {
        match &mut region(s).recorders {
            Observed::Known(r) => &mut r[0],
            Observed::Unknown(_) => unreachable!("fixture recorders are known"),
        }
    }

    fn group(s: &mut State) -> &mut RecordingGroup {
        match &mut recorder(s).recording_group {
            Observed::Known(g) => g,
            Observed::Unknown(_) => unreachable!(),
        }
    }

    const ID: &str = "config-recorder-enabled";

    #[test]
    fn nothing_configured_or_stopped_fails() {
        assert_eq!(eval(ID, &fixture()), vec![Status::Pass]);
        // the fresh account: no recorder and no channel is a fail, not an error
        let mut fresh = fixture();
        region(&mut fresh).recorders = Observed::Known(vec![]);
        region(&mut fresh).delivery_channels = Observed::Known(vec![]);
        assert_eq!(eval(ID, &fresh), vec![Status::Fail]);
        let mut no_channel = fixture();
        region(&mut no_channel).delivery_channels = Observed::Known(vec![]);
        assert_eq!(eval(ID, &no_channel), vec![Status::Fail]);
        let mut stopped = fixture();
        if let Observed::Known(st) = &mut recorder(&mut stopped).status {
            st.recording = false;
        }
        assert_eq!(eval(ID, &stopped), vec![Status::Fail]);
        // adversarial: recording, but its last delivery failed
        let mut failing = fixture();
        if let Observed::Known(st) = &mut recorder(&mut failing).status {
            st.last_status = Some("FAILURE".into());
            st.last_error_code = Some("AccessDenied".into());
        }
        assert_eq!(eval(ID, &failing), vec![Status::Fail]);
        // PENDING (moto after StartConfigurationRecorder) is no failure
        let mut pending = fixture();
        if let Observed::Known(st) = &mut recorder(&mut pending).status {
            st.last_status = Some("PENDING".into());
        }
        assert_eq!(eval(ID, &pending), vec![Status::Pass]);
    }

    #[test]
    fn coverage_is_judged_as_config_records() {
        // adversarial: allSupported true but the exclusion strategy overrides it
        let mut excluded = fixture();
        group(&mut excluded).strategy = Some("EXCLUSION_BY_RESOURCE_TYPES".into());
        group(&mut excluded).exclusions = vec!["AWS::RDS::DBInstance".into()];
        assert_eq!(eval(ID, &excluded), vec![Status::Fail]);
        let mut included = fixture();
        group(&mut included).strategy = Some("INCLUSION_BY_RESOURCE_TYPES".into());
        group(&mut included).all_supported = false;
        group(&mut included).resource_types = vec!["AWS::S3::Bucket".into()];
        assert_eq!(eval(ID, &included), vec![Status::Fail]);
        let mut not_all = fixture();
        group(&mut not_all).strategy = None;
        group(&mut not_all).all_supported = false;
        assert_eq!(eval(ID, &not_all), vec![Status::Fail]);
        // global IAM types are not demanded per region
        let mut regional = fixture();
        group(&mut regional).include_global_resource_types = false;
        assert_eq!(eval(ID, &regional), vec![Status::Pass]);
    }

    #[test]
    fn unread_evidence_is_an_error() {
        let mut status = fixture();
        recorder(&mut status).status = Observed::Unknown("config DescribeConfigurationRecorderStatus failed: AccessDenied".into());
        assert_eq!(eval(ID, &status), vec![Status::Error]);
        let mut recorders = fixture();
        region(&mut recorders).recorders = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval(ID, &recorders), vec![Status::Error]);
        // ... but no channel decides
        region(&mut recorders).delivery_channels = Observed::Known(vec![]);
        assert_eq!(eval(ID, &recorders), vec![Status::Fail]);
        let mut channels = fixture();
        region(&mut channels).delivery_channels = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval(ID, &channels), vec![Status::Error]);
        // a recorder known to fall short decides whatever the channels
        if let Observed::Known(st) = &mut recorder(&mut channels).status {
            st.recording = false;
        }
        assert_eq!(eval(ID, &channels), vec![Status::Fail]);
        assert_eq!(eval(ID, &unlisted(|s| &mut s.config.regions)), vec![Status::Error]);
    }
}
