//! GuardDuty: every scanned region has an enabled detector. A detector's Status is `ENABLED` or
//! `DISABLED` (GetDetector); a suspended detector (UpdateDetector Enable=false) reports DISABLED,
//! and "If you suspend GuardDuty, it no longer monitors the security of your AWS environment or
//! generates new findings"; GuardDuty is enabled per region ("When you disable GuardDuty in an
//! account, it will be disabled only for the currently selected AWS Region"), GuardDuty User
//! Guide, https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_suspend-disable.html.

use super::{each, ControlFn, Params, Verdict};
use crate::model::State;
use serde_json::{json, Value};

pub const CONTROLS: &[(&str, ControlFn)] = &[("guardduty-enabled", enabled)];

fn enabled(state: &State, _: &Params) -> Vec<Verdict> {
    let expected = json!({"detector": {"status": "ENABLED"}});
    each(&state.guardduty.regions, "guardduty:region", |r| {
        let summary: Vec<Value> = r.detectors.iter().map(|d| json!({"id": d.id, "status": d.status.known()})).collect();
        let observed = json!({"detectors": summary});
        if let Some(d) = r.detectors.iter().find(|d| d.status.known().is_some_and(|s| s == "ENABLED")) {
            return Verdict::pass(&r.meta, format!("GuardDuty detector {} is enabled in {}", d.id, r.meta.id), observed);
        }
        if let Some((d, reason)) = r.detectors.iter().find_map(|d| d.status.get().err().map(|e| (d, e))) {
            return Verdict::error(&r.meta, format!("the status of GuardDuty detector {}: {reason}", d.id));
        }
        let message = match r.detectors.as_slice() {
            [] => format!("GuardDuty has no detector in {}: threats in the region are not detected", r.meta.id),
            ds => format!(
                "no GuardDuty detector is enabled in {} ({})",
                r.meta.id,
                ds.iter().map(|d| format!("{} {}", d.id, d.status.known().map(String::as_str).unwrap_or_default())).collect::<Vec<_>>().join(", ")
            ),
        };
        Verdict::fail(&r.meta, message, observed, expected.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture, unlisted};
    use crate::finding::Status;
    use crate::model::guardduty::Detector;
    use crate::model::Observed;

    fn detectors(s: &mut State) -> &mut Vec<Detector> {
        &mut s.guardduty.regions.items.values_mut().next().expect("fixture region").detectors
    }

    const ID: &str = "guardduty-enabled";

    #[test]
    fn enabled() {
        assert_eq!(eval(ID, &fixture()), vec![Status::Pass]);
        // the fresh account: no detector is a fail, not an error
        let mut none = fixture();
        detectors(&mut none).clear();
        assert_eq!(eval(ID, &none), vec![Status::Fail]);
        // adversarial: a detector exists but is suspended
        let mut suspended = fixture();
        detectors(&mut suspended)[0].status = Observed::Known("DISABLED".into());
        assert_eq!(eval(ID, &suspended), vec![Status::Fail]);
        // unread status: error; unless another detector is known enabled
        let mut unread = fixture();
        detectors(&mut unread)[0].status = Observed::Unknown("guardduty GetDetector failed: AccessDenied".into());
        assert_eq!(eval(ID, &unread), vec![Status::Error]);
        let mut other = fixture().guardduty.regions.items.values().next().unwrap().detectors[0].clone();
        other.id = "other".into();
        detectors(&mut unread).push(other);
        assert_eq!(eval(ID, &unread), vec![Status::Pass]);
        assert_eq!(eval(ID, &unlisted(|s| &mut s.guardduty.regions)), vec![Status::Error]);
    }
}
