//! CloudWatch Logs controls.

use super::{customer_key_verdict, each, ControlFn, Params, Verdict};
use crate::model::State;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[("logs-log-group-cmk", customer_key), ("logs-log-group-retention", retention)];

/// No key = CloudWatch Logs' own service key (fail); a key is judged by the shared resolver.
fn customer_key(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.logs.log_groups, "logs:log-group", |g| {
        let key = g.kms_key_id.as_deref();
        let observed = json!({"kms_key_id": key});
        let expected = json!({"kms_key_id": "a customer-managed KMS key"});
        match key {
            None => Verdict::fail(
                &g.meta,
                format!("log group {} has no KMS key: it is encrypted with the CloudWatch Logs service key", g.meta.id),
                observed,
                expected,
            ),
            Some(k) => customer_key_verdict(state, &g.meta, &format!("log group {}", g.meta.id), k, observed, expected),
        }
    })
}

/// A retention must be set and at least the minimum: `None` (never expire) fails.
fn retention(state: &State, params: &Params) -> Vec<Verdict> {
    let min = params.get("min_retention_days");
    each(&state.logs.log_groups, "logs:log-group", |g| {
        let observed = json!({"retention_days": g.retention_days});
        match g.retention_days {
            // the requirement is a retention that is SET and long enough: "never expire" keeps
            // personal data in logs without limit (LGPD Art. 6 III, FERPA 99.35(b)) and is not a
            // decided retention period (AU-11)
            None => Verdict::fail(
                &g.meta,
                format!("log group {} has no retention policy: events never expire", g.meta.id),
                observed,
                json!({"retention_days": format!(">= {min}")}),
            ),
            Some(d) if i64::from(d) >= min => Verdict::pass(&g.meta, format!("events are kept {d} days (minimum {min})"), observed),
            Some(d) => Verdict::fail(
                &g.meta,
                format!("log group {} keeps events {d} days, below the {min}-day minimum", g.meta.id),
                observed,
                json!({"retention_days": format!(">= {min}")}),
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::logs::LogGroup;
    use crate::model::State;

    fn first(s: &mut State) -> &mut LogGroup {
        s.logs.log_groups.items.values_mut().next().expect("log group in fixture")
    }

    fn unlisted() -> State {
        crate::controls::testing::unlisted(|s| &mut s.logs.log_groups)
    }

    #[test]
    fn customer_key() {
        assert_eq!(eval("logs-log-group-cmk", &fixture()), vec![Status::Pass; 3]);
        let mut none = fixture();
        first(&mut none).kms_key_id = None;
        assert_eq!(eval("logs-log-group-cmk", &none), vec![Status::Fail, Status::Pass, Status::Pass]);
        let mut managed = fixture();
        managed.kms.keys.items.values_mut().for_each(|k| k.manager = crate::model::Observed::Known(crate::model::kms::Manager::Aws));
        assert_eq!(eval("logs-log-group-cmk", &managed), vec![Status::Fail; 3]);
        let mut unread = fixture();
        unread.kms.keys.items.values_mut().for_each(|k| k.manager = crate::model::Observed::Unknown("kms:DescribeKey failed: AccessDenied".into()));
        assert_eq!(eval("logs-log-group-cmk", &unread), vec![Status::Error; 3]);
        assert_eq!(eval("logs-log-group-cmk", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn retention() {
        // 365 days meets the strictest framework (FedRAMP, 365)
        assert_eq!(eval("logs-log-group-retention", &fixture()), vec![Status::Pass; 3]);
        let mut short = fixture();
        first(&mut short).retention_days = Some(180);
        assert_eq!(eval("logs-log-group-retention", &short), vec![Status::Fail, Status::Pass, Status::Pass]);
        let mut never = fixture();
        first(&mut never).retention_days = None;
        assert_eq!(eval("logs-log-group-retention", &never), vec![Status::Fail, Status::Pass, Status::Pass]);
        assert_eq!(eval("logs-log-group-retention", &unlisted()), vec![Status::Error]);
    }

    #[test]
    fn retention_follows_the_frameworks_in_scope() {
        use crate::controls::{evaluate, Catalogue, Selection};
        use std::collections::BTreeMap;
        let mut s = fixture();
        first(&mut s).retention_days = Some(180);
        let cat = Catalogue::load().unwrap();
        let statuses = |fws: &[&str]| -> Vec<Status> {
            let sel = Selection { frameworks: fws.iter().map(|f| f.to_string()).collect(), overrides: BTreeMap::new() };
            evaluate(&cat, &s, &sel).into_iter().filter(|f| f.control_id == "logs-log-group-retention").map(|f| f.status).collect()
        };
        assert_eq!(statuses(&["lgpd"]), vec![Status::Pass; 3]);
        assert_eq!(statuses(&["lgpd", "fedramp-moderate"]), vec![Status::Fail, Status::Pass, Status::Pass]);
    }
}
