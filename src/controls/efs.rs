//! EFS controls: CMK encryption, automatic backups, TLS-only file system policy.

use super::{customer_key_verdict, each, ControlFn, Params, Verdict};
use crate::model::efs::FileSystem;
use crate::model::State;
use crate::semantics::policy::{denies_insecure_transport, parse_statements};
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] =
    &[("efs-encrypted-cmk", encrypted_cmk), ("efs-backups-enabled", backups_enabled), ("efs-tls-enforced", tls_enforced)];

/// Encrypted under a customer-managed key. The key must be in the State to tell: a key the
/// State does not hold (a stack-scoped scan lists only the stack's keys, or the KMS listing
/// failed) is an `error`, never a guess, with one exception: a key in another account is
/// necessarily customer-managed (AWS-managed keys cannot be used across accounts).
fn encrypted_cmk(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.efs.file_systems, "efs:file-system", |fs: &FileSystem| {
        let expected = json!({"encrypted": true, "kms_key": "a customer-managed key"});
        match fs.encrypted.get() {
            Err(reason) => return Verdict::error(&fs.meta, format!("whether the file system is encrypted was not read: {reason}")),
            Ok(false) => return Verdict::fail(&fs.meta, "file system is not encrypted at rest", json!({"encrypted": false}), expected),
            Ok(true) => {}
        }
        // an encrypted file system always reports its key (DescribeFileSystems KmsKeyId, the
        // aws/elasticfilesystem key ARN when AWS-managed): an absent one was not read
        let Some(key_ref) = fs.kms_key_id.as_deref() else {
            return Verdict::error(&fs.meta, "the file system is encrypted but DescribeFileSystems reported no KmsKeyId");
        };
        let observed = json!({"encrypted": true, "kms_key_id": key_ref});
        customer_key_verdict(state, &fs.meta, "the file system", key_ref, observed, expected)
    })
}

fn backups_enabled(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.efs.file_systems, "efs:file-system", |fs| match fs.backup_policy.get() {
        Err(reason) => Verdict::error(&fs.meta, reason),
        Ok(p) if p.eq_ignore_ascii_case("ENABLED") || p.eq_ignore_ascii_case("ENABLING") => {
            Verdict::pass(&fs.meta, format!("automatic backups are {p}"), json!({"backup_policy": p}))
        }
        Ok(p) => Verdict::fail(&fs.meta, format!("automatic backups are {p}"), json!({"backup_policy": p}), json!({"backup_policy": "ENABLED"})),
    })
}

/// The EFS client action a TLS-enforcing Deny must cover: every NFS client needs
/// ClientMount to mount at all (ClientWrite and ClientRootAccess only add to a mount), so a
/// Deny of ClientMount without TLS refuses every plaintext client. A Deny of ClientWrite or
/// ClientRootAccess alone leaves plaintext read-only mounts open.
const EFS_ACTIONS: &[&str] = &["elasticfilesystem:ClientMount"];

fn tls_enforced(state: &State, _: &Params) -> Vec<Verdict> {
    let expected = json!({"policy": {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}});
    each(&state.efs.file_systems, "efs:file-system", |fs| match fs.policy.get() {
        Err(reason) => Verdict::error(&fs.meta, reason),
        Ok(None) => Verdict::fail(&fs.meta, "no file system policy: clients may mount without TLS", json!({"policy": null}), expected.clone()),
        Ok(Some(p)) if parse_statements(p).is_err() => {
            Verdict::error(&fs.meta, format!("file system policy: {}", parse_statements(p).err().unwrap_or_default()))
        }
        Ok(Some(p)) if denies_insecure_transport(p, EFS_ACTIONS, Some(&fs.meta.arn)) => Verdict::pass(
            &fs.meta,
            "the file system policy denies every principal elasticfilesystem:ClientMount without TLS",
            json!({"denies_insecure_transport": true}),
        ),
        Ok(Some(_)) => Verdict::fail(
            &fs.meta,
            "the file system policy does not deny every principal elasticfilesystem:ClientMount on this file system where aws:SecureTransport is false",
            json!({"denies_insecure_transport": false}),
            expected.clone(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::eval;
    use crate::controls::{resolve_key, KeyRef};
    use crate::finding::Status;
    use crate::model::kms::Key;
    use crate::model::Observed;

    fn fs(s: &mut State) -> &mut FileSystem {
        s.efs.file_systems.items.values_mut().next().expect("fixture has a file system")
    }

    /// The fixture, with the file system's key present (customer-managed) even if
    /// compliant-platform.json, another module's fixture, does not hold it: these tests do not
    /// depend on the two fixtures agreeing (the catalogue test checks that they do).
    fn fixture() -> State {
        let mut s = crate::controls::testing::fixture();
        let arn = fs(&mut s).kms_key_id.clone().expect("the fixture file system names its key");
        let owner = fs(&mut s).meta.clone();
        if !matches!(resolve_key(&s, &owner, &arn), KeyRef::Customer(_)) {
            s.kms.keys.insert(Key {
                meta: crate::model::Meta {
                    resource_type: "kms:key".into(),
                    id: arn.rsplit('/').next().unwrap_or_default().into(),
                    arn: arn.clone(),
                    region: "us-east-1".into(),
                    account: "123456789012".into(),
                    name: None,
                    tags: Observed::Known(Default::default()),
                    source: None,
                },
                manager: Observed::Known(crate::model::kms::Manager::Customer),
                state: Observed::Known("Enabled".into()),
                key_spec: Observed::Known("SYMMETRIC_DEFAULT".into()),
                rotation_enabled: Observed::Known(true),
                policy: Observed::Known(json!({})),
                aliases: Observed::Known(vec![]),
            });
        }
        s
    }

    #[test]
    fn encrypted_cmk() {
        assert_eq!(eval("efs-encrypted-cmk", &fixture()), vec![Status::Pass]);
        let mut plain = fixture();
        fs(&mut plain).encrypted = Observed::Known(false);
        fs(&mut plain).kms_key_id = None;
        assert_eq!(eval("efs-encrypted-cmk", &plain), vec![Status::Fail]);
        let mut alias = fixture();
        fs(&mut alias).kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:alias/aws/elasticfilesystem".into());
        assert_eq!(eval("efs-encrypted-cmk", &alias), vec![Status::Fail]);
        let mut aws_key = fixture();
        aws_key.kms.keys.items.values_mut().for_each(|k| k.manager = crate::model::Observed::Known(crate::model::kms::Manager::Aws));
        assert_eq!(eval("efs-encrypted-cmk", &aws_key), vec![Status::Fail], "a key the State knows is AWS-managed");
        let failed = crate::controls::testing::unlisted(|s| &mut s.efs.file_systems);
        assert_eq!(eval("efs-encrypted-cmk", &failed), vec![Status::Error]);
        let mut unread = fixture();
        fs(&mut unread).encrypted = Observed::Unknown("DescribeFileSystems returned no Encrypted".into());
        assert_eq!(eval("efs-encrypted-cmk", &unread), vec![Status::Error]);
    }

    #[test]
    fn a_key_outside_the_state_fails_when_deleted_errs_when_unlisted_passes_cross_account() {
        // the region's complete KMS listing does not have it: deleted
        let mut missing = fixture();
        missing.kms.keys.items.clear();
        assert_eq!(eval("efs-encrypted-cmk", &missing), vec![Status::Fail]);
        let mut no_key = fixture();
        fs(&mut no_key).kms_key_id = None;
        assert_eq!(eval("efs-encrypted-cmk", &no_key), vec![Status::Error]);
        let kms_failed = crate::controls::testing::unlisted(|s| &mut s.kms.keys);
        assert_eq!(eval("efs-encrypted-cmk", &kms_failed), vec![Status::Error]);
        let mut other_account = fixture();
        fs(&mut other_account).kms_key_id = Some("arn:aws:kms:us-east-1:999999999999:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into());
        assert_eq!(eval("efs-encrypted-cmk", &other_account), vec![Status::Pass]);
    }

    #[test]
    fn key_found_by_id_or_alias() {
        let mut s = fixture();
        let arn = fs(&mut s).kms_key_id.clone().unwrap();
        let owner = fs(&mut s).meta.clone();
        let KeyRef::Customer(key) = resolve_key(&s, &owner, &arn) else { panic!("the file system's key") };
        assert!(matches!(resolve_key(&s, &owner, &key.meta.id), KeyRef::Customer(_)));
        let mut aliased = fixture();
        aliased.kms.keys.items.values_mut().for_each(|k| k.aliases = crate::model::Observed::Known(vec!["alias/tapaudit-dev-data".into()]));
        assert!(matches!(resolve_key(&aliased, &owner, "alias/tapaudit-dev-data"), KeyRef::Customer(_)));
        assert!(matches!(resolve_key(&aliased, &owner, "arn:aws:kms:us-east-1:123456789012:alias/tapaudit-dev-data"), KeyRef::Customer(_)));
        assert!(matches!(resolve_key(&aliased, &owner, "alias/other"), KeyRef::Missing { .. }));
    }

    #[test]
    fn backups() {
        assert_eq!(eval("efs-backups-enabled", &fixture()), vec![Status::Pass]);
        let mut enabling = fixture();
        fs(&mut enabling).backup_policy = Observed::Known("ENABLING".into());
        assert_eq!(eval("efs-backups-enabled", &enabling), vec![Status::Pass]);
        let mut bad = fixture();
        fs(&mut bad).backup_policy = Observed::Known("DISABLED".into());
        assert_eq!(eval("efs-backups-enabled", &bad), vec![Status::Fail]);
        let mut unknown = fixture();
        fs(&mut unknown).backup_policy = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("efs-backups-enabled", &unknown), vec![Status::Error]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.efs.file_systems);
        assert_eq!(eval("efs-backups-enabled", &failed), vec![Status::Error]);
    }

    #[test]
    fn tls() {
        assert_eq!(eval("efs-tls-enforced", &fixture()), vec![Status::Pass]);
        let mut none = fixture();
        fs(&mut none).policy = Observed::Known(None);
        assert_eq!(eval("efs-tls-enforced", &none), vec![Status::Fail]);
        let mut unknown = fixture();
        fs(&mut unknown).policy = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("efs-tls-enforced", &unknown), vec![Status::Error]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.efs.file_systems);
        assert_eq!(eval("efs-tls-enforced", &failed), vec![Status::Error]);
    }

    #[test]
    fn tls_policy_shapes() {
        let judge = |p: serde_json::Value| {
            let mut s = fixture();
            fs(&mut s).policy = Observed::Known(Some(p));
            eval("efs-tls-enforced", &s)
        };
        // the console's "enforce in-transit encryption" statement, as a single object
        assert_eq!(
            judge(json!({"Statement": {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}})),
            vec![Status::Pass]
        );
        // ClientMount only, Principal "*", boolean false, case-insensitive key
        assert_eq!(
            judge(
                json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": ["elasticfilesystem:ClientMount"], "Condition": {"Bool": {"aws:securetransport": false}}}]})
            ),
            vec![Status::Pass]
        );
        // an Allow with the condition does not enforce anything
        assert_eq!(
            judge(
                json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
            ),
            vec![Status::Fail]
        );
        // denying only one principal, or only writes, leaves plaintext mounts open
        assert_eq!(
            judge(
                json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:role/x"}, "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
            ),
            vec![Status::Fail]
        );
        assert_eq!(
            judge(
                json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:ClientWrite", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
            ),
            vec![Status::Fail]
        );
        // the condition the other way round denies TLS clients
        assert_eq!(
            judge(json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})),
            vec![Status::Fail]
        );
    }

    #[test]
    fn tls_denial_must_be_aws_exact() {
        let judge = |p: serde_json::Value| {
            let mut s = fixture();
            fs(&mut s).policy = Observed::Known(Some(p));
            eval("efs-tls-enforced", &s)
        };
        let arn = fs(&mut fixture()).meta.arn.clone();
        let deny = |resource: serde_json::Value, condition: serde_json::Value| json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": resource, "Condition": condition}]});
        let tls = json!({"Bool": {"aws:SecureTransport": "false"}});
        assert_eq!(judge(deny(json!(arn), tls.clone())), vec![Status::Pass], "the file system's own ARN");
        assert_eq!(judge(deny(json!("*"), json!({"BoolIfExists": {"aws:SecureTransport": "false"}}))), vec![Status::Pass]);
        // adversarial: look right to a naive reader, leave plaintext mounts open
        let other = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-00000000000000000";
        assert_eq!(judge(deny(json!(other), tls.clone())), vec![Status::Fail], "another file system");
        assert_eq!(
            judge(deny(json!("*"), json!({"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:PrincipalAccount": "123456789012"}}))),
            vec![Status::Fail],
            "only this account's callers"
        );
        assert_eq!(judge(deny(json!("*"), json!({"bool": {"aws:SecureTransport": "false"}}))), vec![Status::Fail], "not an IAM operator name");
        assert_eq!(
            judge(
                json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"], "Condition": tls}]})
            ),
            vec![Status::Fail],
            "read-only plaintext mounts stay open"
        );
        assert_eq!(
            judge(json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:Client?ount", "Condition": tls}]})),
            vec![Status::Pass],
            "IAM wildcard"
        );
        // a document that is not a policy: error, not a verdict on nothing
        assert_eq!(judge(json!({"Version": "2012-10-17"})), vec![Status::Error]);
    }
}
