//! Secrets Manager controls (metadata only: secret values are never read).

use super::{age_days, clock, customer_key_verdict, each, ControlFn, Params, Verdict};
use crate::model::secrets::Secret;
use crate::model::State;
use serde_json::json;
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

/// The rotation interval of a schedule, in hours: `AutomaticallyAfterDays` when reported
/// (Secrets Manager computes it from the schedule after every successful rotation, also for a
/// ScheduleExpression: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html),
/// else a `rate(N days|hours)` expression. A `cron(...)` expression without a reported interval
/// is not evaluated here: Err.
pub fn rotation_interval_hours(days: Option<i64>, schedule: Option<&str>) -> Result<i64, String> {
    if let Some(d) = days {
        return Ok(d.saturating_mul(24));
    }
    let Some(expr) = schedule.map(str::trim) else {
        return Err("rotation is enabled but Secrets Manager reports no RotationRules (neither AutomaticallyAfterDays nor ScheduleExpression)".into());
    };
    let Some(inner) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) else {
        return Err(format!("the interval of schedule {expr:?} is not computed by tapaudit and Secrets Manager reports no AutomaticallyAfterDays"));
    };
    let mut parts = inner.split_whitespace();
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("schedule {expr:?} is not a rate(N days|hours) expression"));
    };
    let n: i64 = n.parse().map_err(|_| format!("schedule {expr:?}: {n:?} is not a number"))?;
    match unit {
        "day" | "days" => Ok(n.saturating_mul(24)),
        "hour" | "hours" => Ok(n),
        other => Err(format!("schedule {expr:?}: unit {other:?} is not days or hours")),
    }
}

/// Rotation is on, as Secrets Manager reports it (RotationEnabled), and its interval is within
/// the framework's maximum. Who owns the secret does not matter: an RDS-managed master secret
/// (OwningService `rds`) is judged by the same flags and fails the same way when they are off.
fn rotation_enabled(state: &State, params: &Params) -> Vec<Verdict> {
    let max = params.get("max_rotation_interval_days");
    each(&state.secrets.secrets, "secretsmanager:secret", |s| judge_rotation_schedule(s, max))
}

/// Pure: the rotation flag and schedule of one secret against `max_days`.
pub fn judge_rotation_schedule(s: &Secret, max_days: i64) -> Verdict {
    if s.deleted {
        return Verdict::not_applicable(&s.meta, SCHEDULED_FOR_DELETION);
    }
    let observed = json!({
        "rotation_enabled": s.rotation_enabled,
        "rotation_interval_days": s.rotation_interval_days,
        "rotation_schedule": s.rotation_schedule,
        "next_rotation": s.next_rotation,
        "owning_service": s.owning_service,
    });
    let expected = json!({"rotation_enabled": true, "rotation_interval_days": format!("<= {max_days}")});
    let owner = s.owning_service.as_deref().map(|o| format!(" (managed by {o})")).unwrap_or_default();
    if !s.rotation_enabled {
        return Verdict::fail(&s.meta, format!("secret {}{owner} has no automatic rotation", s.meta.display_name()), observed, expected);
    }
    let hours = match rotation_interval_hours(s.rotation_interval_days, s.rotation_schedule.as_deref()) {
        Ok(h) => h,
        Err(reason) => return Verdict::error(&s.meta, reason),
    };
    let every = if hours % 24 == 0 { format!("{} days", hours / 24) } else { format!("{hours} hours") };
    if hours <= max_days.saturating_mul(24) {
        Verdict::pass(&s.meta, format!("automatic rotation is enabled every {every} (maximum {max_days} days){owner}"), observed)
    } else {
        Verdict::fail(
            &s.meta,
            format!("secret {}{owner} rotates only every {every}, more than the {max_days}-day maximum", s.meta.display_name()),
            observed,
            expected,
        )
    }
}

fn rotated_recently(state: &State, params: &Params) -> Vec<Verdict> {
    let max = params.get("max_rotation_age_days");
    let now = clock();
    each(&state.secrets.secrets, "secretsmanager:secret", |s| judge_rotation_age(s, max, now))
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
        const ID: &str = "secrets-rotation-enabled";
        assert_eq!(eval(ID, &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        secret(&mut bad).rotation_enabled = false;
        assert_eq!(eval(ID, &bad), vec![Status::Fail]);
        // adversarial: rotation "enabled", but once a year
        let mut yearly = fixture();
        secret(&mut yearly).rotation_interval_days = Some(365);
        assert_eq!(eval(ID, &yearly), vec![Status::Fail]);
        // a schedule expression without a reported interval
        let mut rate = fixture();
        secret(&mut rate).rotation_interval_days = None;
        secret(&mut rate).rotation_schedule = Some("rate(10 days)".into());
        assert_eq!(eval(ID, &rate), vec![Status::Pass]);
        secret(&mut rate).rotation_schedule = Some("rate(120 days)".into());
        assert_eq!(eval(ID, &rate), vec![Status::Fail]);
        // cron without AutomaticallyAfterDays, or no rules at all: error, never a pass
        secret(&mut rate).rotation_schedule = Some("cron(0 16 1,15 * ? *)".into());
        assert_eq!(eval(ID, &rate), vec![Status::Error]);
        secret(&mut rate).rotation_schedule = None;
        assert_eq!(eval(ID, &rate), vec![Status::Error]);
        assert_eq!(eval(ID, &unlisted()), vec![Status::Error]);
    }

    /// An RDS-managed master secret as Secrets Manager lists it before RotateSecret: the
    /// emulator (and a secret whose managed rotation was turned off) reports no RotationEnabled.
    fn rds_managed(s: &mut State) -> &mut Secret {
        let sec = secret(s);
        sec.meta.name = Some("rds!cluster-2176d020-c93d-460b-837b-8c9de2b81d6e".into());
        sec.owning_service = Some("rds".into());
        sec.rotation_enabled = false;
        sec.rotation_interval_days = None;
        sec.next_rotation = None;
        sec
    }

    #[test]
    fn rds_managed_secrets_are_judged_by_what_aws_reports() {
        // not by who owns them: an RDS-managed secret without rotation fails
        let mut off = fixture();
        rds_managed(&mut off);
        assert_eq!(eval("secrets-rotation-enabled", &off), vec![Status::Fail]);
        // rotation configured (RotateSecret with RotationRules): passes like any other
        let mut on = fixture();
        let sec = rds_managed(&mut on);
        sec.rotation_enabled = true;
        sec.rotation_interval_days = Some(30);
        sec.next_rotation = Some("2026-12-01T03:00:00Z".into());
        assert_eq!(eval("secrets-rotation-enabled", &on), vec![Status::Pass]);
        // ...and its key is judged like any other secret's
        assert_eq!(eval("secrets-cmk", &on), vec![Status::Pass]);
        rds_managed(&mut on).kms_key_id = None;
        assert_eq!(eval("secrets-cmk", &on), vec![Status::Fail]);
    }

    #[test]
    fn rotation_intervals() {
        assert_eq!(rotation_interval_hours(Some(30), Some("cron(0 0 1 * ? *)")), Ok(720), "the reported interval wins");
        assert_eq!(rotation_interval_hours(None, Some("rate(4 hours)")), Ok(4));
        assert_eq!(rotation_interval_hours(None, Some("rate(1 day)")), Ok(24));
        assert!(rotation_interval_hours(None, Some("rate(ten days)")).is_err());
        assert!(rotation_interval_hours(None, Some("rate(3 weeks)")).is_err());
        assert!(rotation_interval_hours(None, None).is_err());
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
