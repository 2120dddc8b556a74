//! KMS key controls.

use super::{each, ControlFn, Params, Verdict};
use crate::model::kms::{Key, Manager};
use crate::model::State;
use crate::semantics::policy::public_grants;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("kms-key-rotation-enabled", rotation_enabled),
    ("kms-key-not-pending-deletion", not_pending_deletion),
    ("kms-key-policy-no-wildcard-principal", no_wildcard_principal),
];

/// The key's manager, state and spec, or why DescribeKey could not read them (an `error`
/// verdict): an unreadable key is never taken for an AWS-managed one.
fn described(k: &Key) -> Result<(Manager, &str, &str), String> {
    match (k.manager.get(), k.state.get(), k.key_spec.get()) {
        (Ok(m), Ok(st), Ok(spec)) => Ok((*m, st.as_str(), spec.as_str())),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => Err(format!("key {} could not be described: {r}", k.meta.id)),
    }
}

/// Applies to customer-managed symmetric keys (AWS rotates its own; asymmetric and HMAC keys
/// cannot rotate automatically).
fn rotation_enabled(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.kms.keys, "kms:key", |k| {
        let (manager, key_state, spec) = match described(k) {
            Ok(d) => d,
            Err(why) => return Verdict::error(&k.meta, why),
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
            Err(why) => return Verdict::error(&k.meta, why),
        };
        if manager != Manager::Customer {
            return Verdict::not_applicable(&k.meta, "AWS-managed key");
        }
        if k.is_pending_deletion() == Some(true) {
            Verdict::fail(
                &k.meta,
                format!("key is {key_state}: data encrypted under it becomes unrecoverable"),
                json!({"state": key_state}),
                json!({"state": "Enabled"}),
            )
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
        // public: Principal "*", {"AWS": "*"}, an account wildcard or NotPrincipal, not
        // restricted to concrete accounts / organizations / VPCs / source ARNs by a condition
        // (aws:SecureTransport, kms:ViaService alone, wildcard values, ...IfExists, negated
        // operators do not restrict) nor by a Deny for everyone outside them
        let open = match public_grants(policy) {
            Ok(g) => g,
            Err(e) => return Verdict::error(&k.meta, format!("key policy: {e}")),
        };
        if open.is_empty() {
            Verdict::pass(&k.meta, "no statement grants the key to every principal", json!({"wildcard_statements": []}))
        } else {
            let described: Vec<String> = open.iter().map(|g| g.describe()).collect();
            Verdict::fail(
                &k.meta,
                format!("key policy grants the key to any principal: {}", described.join("; ")),
                json!({"wildcard_statements": open.iter().map(|g| g.sid.clone()).collect::<Vec<_>>(), "why": described}),
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

    fn with_policy(statements: serde_json::Value) -> State {
        let mut s = fixture();
        s.kms.keys.items.values_mut().for_each(|k| k.policy = crate::model::Observed::Known(json!({"Version": "2012-10-17", "Statement": statements})));
        s
    }

    #[test]
    fn wildcard_principal() {
        assert_eq!(eval("kms-key-policy-no-wildcard-principal", &fixture()), vec![Status::Pass]);
        let open = |condition: serde_json::Value| {
            let mut st = json!({"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"});
            if !condition.is_null() {
                st["Condition"] = condition;
            }
            with_policy(json!([st]))
        };
        let cases = [
            (serde_json::Value::Null, Status::Fail),
            // from the KMS developer guide: any principal of one account, through one service
            (json!({"StringEquals": {"kms:CallerAccount": "123456789012", "kms:ViaService": "ec2.us-east-1.amazonaws.com"}}), Status::Pass),
            (json!({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}), Status::Pass),
            // conditions that do not say who calls
            (json!({"Bool": {"aws:SecureTransport": "true"}}), Status::Fail),
            (json!({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}), Status::Fail),
            (json!({"StringLike": {"kms:CallerAccount": "*"}}), Status::Fail),
            (json!({"StringEqualsIfExists": {"kms:CallerAccount": "123456789012"}}), Status::Fail),
            (json!({"StringNotEquals": {"kms:CallerAccount": "999999999999"}}), Status::Fail),
            (json!({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}), Status::Fail),
            (json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}), Status::Fail),
        ];
        for (condition, want) in cases {
            assert_eq!(eval("kms-key-policy-no-wildcard-principal", &open(condition.clone())), vec![want], "{condition}");
        }
        let root_of_any = with_policy(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "kms:*", "Resource": "*"}]));
        assert_eq!(eval("kms-key-policy-no-wildcard-principal", &root_of_any), vec![Status::Fail]);
        let not_principal =
            with_policy(json!([{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]));
        assert_eq!(eval("kms-key-policy-no-wildcard-principal", &not_principal), vec![Status::Fail]);
        // a Deny for every caller outside the account restricts the open statement
        let fenced = with_policy(json!([
            {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
            {"Sid": "Fence", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}}}
        ]));
        assert_eq!(eval("kms-key-policy-no-wildcard-principal", &fenced), vec![Status::Pass]);
        // the dev stack's own key policy passes (service principal with an encryption-context
        // condition, account root, CallerAccount + ViaService)
        let uses = crate::vocab::policy::KeyUses { logs: true, services: ["kinesis", "rds", "secretsmanager"].map(String::from).into() };
        let dev = crate::vocab::policy::key_policy_for("tapaudit-dev-data-key", "/tapaudit/dev/", &uses, "aws", "us-east-1", "123456789012");
        let mut s = fixture();
        s.kms.keys.items.values_mut().for_each(|k| k.policy = crate::model::Observed::Known(dev.clone()));
        assert_eq!(eval("kms-key-policy-no-wildcard-principal", &s), vec![Status::Pass]);
        // unreadable or not a policy: error
        let mut unknown = fixture();
        unknown.kms.keys.items.values_mut().for_each(|k| k.policy = crate::model::Observed::Unknown("AccessDenied".into()));
        assert_eq!(eval("kms-key-policy-no-wildcard-principal", &unknown), vec![Status::Error]);
        let mut garbage = fixture();
        garbage.kms.keys.items.values_mut().for_each(|k| k.policy = crate::model::Observed::Known(json!({"Version": "2012-10-17"})));
        assert_eq!(eval("kms-key-policy-no-wildcard-principal", &garbage), vec![Status::Error]);
    }

    #[test]
    fn failed_listing_is_an_error_not_a_pass() {
        let s = crate::controls::testing::unlisted(|s| &mut s.kms.keys);
        assert_eq!(eval("kms-key-rotation-enabled", &s), vec![Status::Error]);
    }
}
