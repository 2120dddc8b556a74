//! Secrets Manager controls (metadata only: secret values are never read).

use super::{customer_key_verdict, each, ControlFn, Params, Verdict};
use crate::model::secrets::Secret;
use crate::model::State;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const CONTROLS: &[(&str, ControlFn)] =
    &[("secrets-cmk", customer_key), ("secrets-rotation-enabled", rotation_enabled), ("secrets-rotated-recently", rotated_recently)];

const SCHEDULED_FOR_DELETION: &str = "secret is scheduled for deletion";

fn customer_key(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.secrets.secrets, "secretsmanager:secret", |s| {
        if s.deleted {
            return Verdict::not_applicable(&s.meta, SCHEDULED_FOR_DELETION);
        }
        let key = s.kms_key_id.as_deref();
        let observed = json!({"kms_key_id": key});
        let expected = json!({"kms_key_id": "a customer-managed KMS key"});
        match key {
            // "If the secret is encrypted with the Amazon Web Services managed key
            // aws/secretsmanager, this field is omitted" (Secrets Manager API, ListSecrets /
            // SecretListEntry.KmsKeyId)
            None => {
                Verdict::fail(&s.meta, format!("secret {} is encrypted with the AWS-managed key aws/secretsmanager", s.meta.display_name()), observed, expected)
            }
            Some(k) => customer_key_verdict(state, &s.meta, &format!("secret {}", s.meta.display_name()), k, observed, expected),
        }
    })
}

fn rotation_enabled(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.secrets.secrets, "secretsmanager:secret", |s| {
        if s.deleted {
            return Verdict::not_applicable(&s.meta, SCHEDULED_FOR_DELETION);
        }
        let observed = json!({"rotation_enabled": s.rotation_enabled, "rotation_interval_days": s.rotation_interval_days});
        if s.rotation_enabled {
            let every = s.rotation_interval_days.map(|d| format!(" every {d} days")).unwrap_or_default();
            Verdict::pass(&s.meta, format!("automatic rotation is enabled{every}"), observed)
        } else {
            Verdict::fail(&s.meta, format!("secret {} has no automatic rotation", s.meta.display_name()), observed, json!({"rotation_enabled": true}))
        }
    })
}

fn rotated_recently(state: &State, params: &Params) -> Vec<Verdict> {
    let max = params.get("max_rotation_age_days");
    let now = clock();
    each(&state.secrets.secrets, "secretsmanager:secret", |s| judge_rotation_age(s, max, now))
}

/// The evaluation time. Unit-test builds pin it to [`TEST_NOW`], so the compliant fixture (last
/// rotated 2026-11-01) stays "recent" forever, also in catalogue_tests, which evaluates every
/// control through the registry and cannot inject a clock; every other build reads the real clock.
#[cfg(not(test))]
fn clock() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[cfg(test)]
const TEST_NOW: OffsetDateTime = time::macros::datetime!(2026-11-22 00:00 UTC);

#[cfg(test)]
fn clock() -> OffsetDateTime {
    TEST_NOW
}

/// Whole days from `then` (RFC 3339) to `now`; a date in the future (clock skew) counts as 0.
pub fn age_days(then: &str, now: OffsetDateTime) -> Result<i64, String> {
    let t = OffsetDateTime::parse(then, &Rfc3339).map_err(|e| format!("timestamp {then:?} is not RFC 3339: {e}"))?;
    Ok((now - t).whole_days().max(0))
}

/// Pure: the age of the secret's current value (last rotation, else creation) against `max_days`.
pub fn judge_rotation_age(s: &Secret, max_days: i64, now: OffsetDateTime) -> Verdict {
    if s.deleted {
        return Verdict::not_applicable(&s.meta, SCHEDULED_FOR_DELETION);
    }
    let (field, when) = match (&s.last_rotated, &s.created) {
        (Some(r), _) => ("last_rotated", r),
        (None, Some(c)) => ("created", c),
        (None, None) => return Verdict::error(&s.meta, "the secret reports neither a last rotation nor a creation date"),
    };
    let age = match age_days(when, now) {
        Ok(a) => a,
        Err(reason) => return Verdict::error(&s.meta, reason),
    };
    let observed = json!({field: when, "age_days": age});
    let what = if field == "last_rotated" { "last rotated" } else { "never rotated; created" };
    if age <= max_days {
        Verdict::pass(&s.meta, format!("{what} {age} days ago (maximum {max_days})"), observed)
    } else {
        Verdict::fail(
            &s.meta,
            format!("secret {} was {what} {age} days ago, more than the {max_days}-day maximum", s.meta.display_name()),
            observed,
            json!({"age_days": format!("<= {max_days}")}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use time::macros::datetime;

    fn secret(s: &mut State) -> &mut Secret {
        s.secrets.secrets.items.values_mut().next().expect("secret in fixture")
    }

    fn unlisted() -> State {
        crate::controls::testing::unlisted(|s| &mut s.secrets.secrets)
    }

    #[test]
    fn customer_key() {
        assert_eq!(eval("secrets-cmk", &fixture()), vec![Status::Pass]);
        let mut default_key = fixture();
        secret(&mut default_key).kms_key_id = None;
        assert_eq!(eval("secrets-cmk", &default_key), vec![Status::Fail]);
        let mut alias = fixture();
        secret(&mut alias).kms_key_id = Some("alias/aws/secretsmanager".into());
        assert_eq!(eval("secrets-cmk", &alias), vec![Status::Fail]);
        let mut managed = fixture();
        managed.kms.keys.items.values_mut().for_each(|k| k.manager = crate::model::Observed::Known(crate::model::kms::Manager::Aws));
        assert_eq!(eval("secrets-cmk", &managed), vec![Status::Fail]);
        let mut unread = fixture();
        unread.kms.keys.items.values_mut().for_each(|k| k.manager = crate::model::Observed::Unknown("kms:DescribeKey failed: AccessDenied".into()));
        assert_eq!(eval("secrets-cmk", &unread), vec![Status::Error]);
        let mut deleted = fixture();
        secret(&mut deleted).kms_key_id = None;
        secret(&mut deleted).deleted = true;
        assert_eq!(eval("secrets-cmk", &deleted), vec![]);
        assert_eq!(eval("secrets-cmk", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn rotation() {
        assert_eq!(eval("secrets-rotation-enabled", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        secret(&mut bad).rotation_enabled = false;
        assert_eq!(eval("secrets-rotation-enabled", &bad), vec![Status::Fail]);
        assert_eq!(eval("secrets-rotation-enabled", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn rotated_recently_through_the_registry() {
        // unit-test builds evaluate at TEST_NOW (2026-11-22); the fixture rotated 2026-11-01
        assert_eq!(eval("secrets-rotated-recently", &fixture()), vec![Status::Pass]);
        let mut stale = fixture();
        secret(&mut stale).last_rotated = Some("2026-08-01T00:00:00Z".into());
        assert_eq!(eval("secrets-rotated-recently", &stale), vec![Status::Fail]);
        let mut garbled = fixture();
        secret(&mut garbled).last_rotated = Some("last tuesday".into());
        assert_eq!(eval("secrets-rotated-recently", &garbled), vec![Status::Error]);
        let mut undated = fixture();
        secret(&mut undated).last_rotated = None;
        secret(&mut undated).created = None;
        assert_eq!(eval("secrets-rotated-recently", &undated), vec![Status::Error]);
        assert_eq!(eval("secrets-rotated-recently", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn rotation_age_with_an_injected_clock() {
        let mut s = fixture();
        let sec = secret(&mut s).clone();
        let at = |now: OffsetDateTime, sec: &Secret| judge_rotation_age(sec, 90, now).status;
        // fixture: last_rotated 2026-11-01T03:00Z
        assert_eq!(at(datetime!(2026-11-02 00:00 UTC), &sec), Status::Pass);
        assert_eq!(at(datetime!(2027-01-30 03:00 UTC), &sec), Status::Pass); // exactly 90 days
        assert_eq!(at(datetime!(2027-01-31 03:00 UTC), &sec), Status::Fail); // 91 days
                                                                             // a rotation date after "now" (clock skew) is not evidence of staleness
        assert_eq!(at(datetime!(2026-10-31 00:00 UTC), &sec), Status::Pass);

        // never rotated: the creation date counts
        let mut never = sec.clone();
        never.last_rotated = None;
        never.created = Some("2026-06-01T12:00:00Z".into());
        assert_eq!(at(datetime!(2026-07-01 00:00 UTC), &never), Status::Pass);
        let v = judge_rotation_age(&never, 90, datetime!(2026-11-22 00:00 UTC));
        assert_eq!(v.status, Status::Fail);
        assert!(v.message.contains("never rotated") && v.message.contains("173 days") && v.message.contains("90-day"), "{}", v.message);

        // offsets and fractional seconds parse
        assert_eq!(age_days("2026-11-01T03:00:00.123+02:00", datetime!(2026-11-11 01:01 UTC)), Ok(10));
        assert!(age_days("2026-11-01", datetime!(2026-11-11 01:00 UTC)).is_err());
    }
}
