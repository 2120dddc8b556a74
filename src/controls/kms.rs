//! KMS key controls.

use super::{each, has_condition, has_wildcard_principal, is_allow, statements, ControlFn, Params, Verdict};
use crate::model::kms::{Key, Manager};
use crate::model::State;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("kms-key-rotation-enabled", rotation_enabled),
    ("kms-key-not-pending-deletion", not_pending_deletion),
    ("kms-key-policy-no-wildcard-principal", no_wildcard_principal),
];

/// The key's manager, state and spec, or the `error` verdict when DescribeKey could not read
/// them: an unreadable key is never taken for an AWS-managed one.
fn described(k: &Key) -> Result<(Manager, &str, &str), Verdict> {
    match (k.manager.get(), k.state.get(), k.key_spec.get()) {
        (Ok(m), Ok(st), Ok(spec)) => Ok((*m, st.as_str(), spec.as_str())),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => Err(Verdict::error(&k.meta, format!("key {} could not be described: {r}", k.meta.id))),
    }
}

/// Applies to customer-managed symmetric keys (AWS rotates its own; asymmetric and HMAC keys
/// cannot rotate automatically).
fn rotation_enabled(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.kms.keys, "kms:key", |k| {
        let (manager, key_state, spec) = match described(k) {
            Ok(d) => d,
            Err(v) => return v,
        };
        if manager != Manager::Customer {
            return Verdict::not_applicable(&k.meta, "AWS-managed key: AWS rotates it");
        }
        if spec != "SYMMETRIC_DEFAULT" {
            return Verdict::not_applicable(&k.meta, format!("{spec} keys do not support automatic rotation"));
        }
        if k.is_pending_deletion() == Some(true) {
            return Verdict::not_applicable(&k.meta, format!("key is {key_state}"));
        }
        match k.rotation_enabled.get() {
            Err(reason) => Verdict::error(&k.meta, reason),
            Ok(true) => Verdict::pass(&k.meta, "automatic rotation is enabled", json!({"rotation_enabled": true})),
            Ok(false) => Verdict::fail(&k.meta, "automatic key rotation is disabled", json!({"rotation_enabled": false}), json!({"rotation_enabled": true})),
        }
    })
}

fn not_pending_deletion(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.kms.keys, "kms:key", |k| {
        let (manager, key_state, _) = match described(k) {
            Ok(d) => d,
            Err(v) => return v,
        };
        if manager != Manager::Customer {
            return Verdict::not_applicable(&k.meta, "AWS-managed key");
        }
        if k.is_pending_deletion() == Some(true) {
            Verdict::fail(&k.meta, format!("key is {key_state}: data encrypted under it becomes unrecoverable"), json!({"state": key_state}), json!({"state": "Enabled"}))
        } else {
            Verdict::pass(&k.meta, format!("key state is {key_state}"), json!({"state": key_state}))
        }
    })
}

fn no_wildcard_principal(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.kms.keys, "kms:key", |k| {
        let manager = match k.manager.get() {
            Ok(m) => *m,
            Err(r) => return Verdict::error(&k.meta, format!("key {} could not be described: {r}", k.meta.id)),
        };
        if manager != Manager::Customer {
            return Verdict::not_applicable(&k.meta, "AWS-managed key: AWS owns its policy");
        }
        let policy = match k.policy.get() {
            Ok(p) => p,
            Err(reason) => return Verdict::error(&k.meta, reason),
        };
        let open: Vec<String> = statements(policy)
            .into_iter()
            .filter(|s| is_allow(s) && has_wildcard_principal(s) && !has_condition(s))
            .map(|s| s.get("Sid").and_then(|v| v.as_str()).unwrap_or("(no Sid)").to_string())
            .collect();
        if open.is_empty() {
            Verdict::pass(&k.meta, "no statement allows an unconditioned wildcard principal", json!({"wildcard_statements": []}))
        } else {
            Verdict::fail(
                &k.meta,
                format!("key policy allows any principal without a condition (statements: {})", open.join(", ")),
                json!({"wildcard_statements": open}),
                json!({"wildcard_statements": []}),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;

    #[test]
    fn rotation() {
        let good = fixture();
        assert_eq!(eval("kms-key-rotation-enabled", &good), vec![Status::Pass]);
        let mut bad = fixture();
        bad.kms.keys.items.values_mut().for_each(|k| k.rotation_enabled = crate::model::Observed::Known(false));
        assert_eq!(eval("kms-key-rotation-enabled", &bad), vec![Status::Fail]);
        let mut unknown = fixture();
        unknown.kms.keys.items.values_mut().for_each(|k| k.rotation_enabled = crate::model::Observed::Unknown("AccessDenied".into()));
        assert_eq!(eval("kms-key-rotation-enabled", &unknown), vec![Status::Error]);
    }

    #[test]
    fn pending_deletion() {
        assert_eq!(eval("kms-key-not-pending-deletion", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        bad.kms.keys.items.values_mut().for_each(|k| k.state = crate::model::Observed::Known("PendingDeletion".into()));
        assert_eq!(eval("kms-key-not-pending-deletion", &bad), vec![Status::Fail]);
    }

    #[test]
    fn wildcard_principal() {
        assert_eq!(eval("kms-key-policy-no-wildcard-principal", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        bad.kms.keys.items.values_mut().for_each(|k| {
            k.policy = crate::model::Observed::Known(json!({"Statement": [{"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]}))
        });
        assert_eq!(eval("kms-key-policy-no-wildcard-principal", &bad), vec![Status::Fail]);
    }

    #[test]
    fn failed_listing_is_an_error_not_a_pass() {
        let s = crate::controls::testing::unlisted(|s| &mut s.kms.keys);
        assert_eq!(eval("kms-key-rotation-enabled", &s), vec![Status::Error]);
    }
}
