//! S3 bucket controls: default encryption, Block Public Access, a TLS-only bucket policy, and
//! nothing granted to the public (bucket policy or ACL).

use super::{each, ControlFn, Params, Verdict};
use crate::model::s3::{AclGrant, Bucket};
use crate::model::State;
use crate::semantics::policy::{denies_insecure_transport_on, parse_statements, public_grants};
use serde_json::{json, Value};

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("s3-bucket-default-encryption", default_encryption),
    ("s3-bucket-public-access-block", public_access_block),
    ("s3-bucket-tls-only", tls_only),
    ("s3-bucket-not-public", not_public),
];

/// Default-encryption algorithms that encrypt at rest: SSE-S3, SSE-KMS, DSSE-KMS
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ServerSideEncryptionByDefault.html).
const ENCRYPTING: &[&str] = &["AES256", "aws:kms", "aws:kms:dsse"];

fn default_encryption(state: &State, _: &Params) -> Vec<Verdict> {
    let expected = json!({"default_encryption": "AES256 (SSE-S3) or aws:kms (SSE-KMS)"});
    each(&state.s3.buckets, "s3:bucket", |b| match b.encryption.get() {
        Err(reason) => Verdict::error(&b.meta, format!("default encryption was not read: {reason}")),
        // Since January 5, 2023 AWS configures SSE-S3 on every bucket that has no default
        // encryption ("All Amazon S3 buckets have encryption configured by default",
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html), so AWS
        // itself reports that configuration. An endpoint answering
        // ServerSideEncryptionConfigurationNotFoundError says the bucket has none: not a pass.
        Ok(None) => Verdict::fail(
            &b.meta,
            "the bucket has no default encryption configuration (ServerSideEncryptionConfigurationNotFoundError)",
            json!({"default_encryption": null}),
            expected.clone(),
        ),
        Ok(Some(rules)) => {
            let algorithms: Vec<&str> = rules.iter().map(|r| r.algorithm.as_str()).collect();
            let observed = json!({"default_encryption": algorithms, "kms_key_id": rules.iter().find_map(|r| r.kms_key_id.clone())});
            match algorithms.iter().find(|a| ENCRYPTING.contains(a)) {
                Some(a) => Verdict::pass(&b.meta, format!("objects are encrypted at rest by default ({a})"), observed),
                None => Verdict::fail(
                    &b.meta,
                    format!("the default encryption rules ({}) name no encrypting algorithm", algorithms.join(", ")),
                    observed,
                    expected.clone(),
                ),
            }
        }
    })
}

fn public_access_block(state: &State, _: &Params) -> Vec<Verdict> {
    let expected = json!({"block_public_acls": true, "ignore_public_acls": true, "block_public_policy": true, "restrict_public_buckets": true});
    each(&state.s3.buckets, "s3:bucket", |b| {
        let pab = match b.public_access_block.get() {
            Err(reason) => return Verdict::error(&b.meta, format!("the public access block was not read: {reason}")),
            Ok(None) => {
                return Verdict::fail(
                    &b.meta,
                    "no public access block is configured on the bucket (NoSuchPublicAccessBlockConfiguration)",
                    json!({"public_access_block": null}),
                    expected.clone(),
                )
            }
            Ok(Some(p)) => p,
        };
        let settings = [
            ("block_public_acls", &pab.block_public_acls),
            ("ignore_public_acls", &pab.ignore_public_acls),
            ("block_public_policy", &pab.block_public_policy),
            ("restrict_public_buckets", &pab.restrict_public_buckets),
        ];
        let observed: Value =
            settings.iter().map(|(k, v)| (k.to_string(), v.known().map(|b| json!(b)).unwrap_or(Value::Null))).collect::<serde_json::Map<_, _>>().into();
        let off: Vec<&str> = settings.iter().filter(|(_, v)| v.known() == Some(&false)).map(|(k, _)| *k).collect();
        if !off.is_empty() {
            return Verdict::fail(&b.meta, format!("public access block settings off: {}", off.join(", ")), observed, expected.clone());
        }
        if let Some((k, v)) = settings.iter().find(|(_, v)| v.known().is_none()) {
            return Verdict::error(&b.meta, format!("{k}: {}", v.get().err().unwrap_or_default()));
        }
        Verdict::pass(&b.meta, "all four public access block settings are on", observed)
    })
}

/// The resources a TLS-only bucket policy must cover: the bucket and every object in it.
fn bucket_resources(b: &Bucket) -> [String; 2] {
    [b.meta.arn.clone(), format!("{}/*", b.meta.arn)]
}

fn tls_only(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.s3.buckets, "s3:bucket", |b| {
        let [bucket, objects] = bucket_resources(b);
        let expected = json!({"policy": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [bucket, objects], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}});
        match b.policy.get() {
            Err(reason) => Verdict::error(&b.meta, format!("the bucket policy was not read: {reason}")),
            Ok(None) => {
                Verdict::fail(&b.meta, "no bucket policy (NoSuchBucketPolicy): requests without TLS are not refused", json!({"policy": null}), expected)
            }
            Ok(Some(p)) => match parse_statements(p) {
                Err(e) => Verdict::error(&b.meta, format!("bucket policy: {e}")),
                Ok(_) if denies_insecure_transport_on(p, "s3", &[bucket.as_str(), objects.as_str()]) => Verdict::pass(
                    &b.meta,
                    "the bucket policy denies every principal every S3 action on the bucket and all its objects without TLS",
                    json!({"denies_insecure_transport": true}),
                ),
                Ok(_) => Verdict::fail(
                    &b.meta,
                    format!("the bucket policy does not deny every principal s3:* on {bucket} and {objects} where aws:SecureTransport is false"),
                    json!({"denies_insecure_transport": false}),
                    expected,
                ),
            },
        }
    })
}

/// ACL grantee groups that are the public: everyone, and every AWS account
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#specifying-grantee-predefined-groups).
const PUBLIC_GROUPS: &[&str] = &["http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"];

fn public_acl_grants(grants: &[AclGrant]) -> Vec<String> {
    grants
        .iter()
        .filter(|g| g.grantee_uri.as_deref().is_some_and(|u| PUBLIC_GROUPS.contains(&u)))
        .map(|g| format!("{} to {}", g.permission, g.grantee_uri.as_deref().unwrap_or_default()))
        .collect()
}

/// Public ACL grants that AWS applies: none when Object Ownership is BucketOwnerEnforced
/// ("ACLs are disabled and no longer affect access permissions",
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html).
fn acl_exposure(b: &Bucket) -> Result<Vec<String>, String> {
    if b.object_ownership.known() == Some(&Some("BucketOwnerEnforced".to_string())) {
        return Ok(vec![]);
    }
    let grants = b.acl_grants.get().map_err(|r| format!("the bucket ACL was not read: {r}"))?;
    let public = public_acl_grants(grants);
    match (&public[..], b.object_ownership.get()) {
        // ownership unknown: ACL grants may or may not apply; a public one is then undecided
        ([_, ..], Err(r)) => Err(format!("the bucket ACL grants {} but whether ACLs are disabled was not read: {r}", public.join(", "))),
        _ => Ok(public),
    }
}

fn not_public(state: &State, _: &Params) -> Vec<Verdict> {
    let expected = json!({"public_policy_statements": [], "public_acl_grants": []});
    each(&state.s3.buckets, "s3:bucket", |b| {
        let policy = match b.policy.get() {
            Err(reason) => return Verdict::error(&b.meta, format!("the bucket policy was not read: {reason}")),
            Ok(p) => p,
        };
        let open = match policy.as_ref().map(public_grants).transpose() {
            Err(e) => return Verdict::error(&b.meta, format!("bucket policy: {e}")),
            Ok(g) => g.unwrap_or_default(),
        };
        let acl = match acl_exposure(b) {
            Err(reason) => return Verdict::error(&b.meta, reason),
            Ok(a) => a,
        };
        let statements: Vec<String> = open.iter().map(|g| g.describe()).collect();
        let observed = json!({"public_policy_statements": statements, "public_acl_grants": acl});
        if statements.is_empty() && acl.is_empty() {
            Verdict::pass(&b.meta, "neither the bucket policy nor the ACL grants anything to the public", observed)
        } else {
            let mut why = statements.clone();
            why.extend(acl.iter().map(|a| format!("ACL grants {a}")));
            Verdict::fail(&b.meta, format!("the bucket is open to the public: {}", why.join("; ")), observed, expected.clone())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture, unlisted};
    use crate::finding::Status;
    use crate::model::s3::{EncryptionRule, PublicAccessBlock};
    use crate::model::Observed;

    fn bucket(s: &mut State) -> &mut Bucket {
        s.s3.buckets.items.values_mut().next().expect("fixture has a bucket")
    }

    const ARN: &str = "arn:aws:s3:::tapaudit-ferpa-alb-logs";

    fn tls() -> Value {
        json!({"Bool": {"aws:SecureTransport": "false"}})
    }

    fn with_policy(statements: Value) -> State {
        let mut s = fixture();
        bucket(&mut s).policy = Observed::Known(Some(json!({"Version": "2012-10-17", "Statement": statements})));
        s
    }

    /// The policy the provisioner gives an ALB access-log bucket: TLS only, log delivery may write.
    fn log_bucket_statements() -> Vec<Value> {
        vec![
            json!({"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [ARN, format!("{ARN}/*")], "Condition": tls()}),
            json!({"Sid": "ElbLogDelivery", "Effect": "Allow", "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}, "Action": "s3:PutObject", "Resource": format!("{ARN}/alb/AWSLogs/123456789012/*")}),
        ]
    }

    #[test]
    fn the_fixture_bucket_is_the_log_bucket() {
        assert_eq!(bucket(&mut fixture()).meta.arn, ARN);
    }

    #[test]
    fn default_encryption() {
        assert_eq!(eval("s3-bucket-default-encryption", &fixture()), vec![Status::Pass]);
        let mut kms = fixture();
        bucket(&mut kms).encryption = Observed::Known(Some(vec![EncryptionRule {
            algorithm: "aws:kms".into(),
            kms_key_id: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            bucket_key_enabled: Some(true),
        }]));
        assert_eq!(eval("s3-bucket-default-encryption", &kms), vec![Status::Pass]);
        // adversarial: "not found" is not "AWS applies SSE-S3 anyway"
        let mut none = fixture();
        bucket(&mut none).encryption = Observed::Known(None);
        assert_eq!(eval("s3-bucket-default-encryption", &none), vec![Status::Fail]);
        let mut empty = fixture();
        bucket(&mut empty).encryption = Observed::Known(Some(vec![]));
        assert_eq!(eval("s3-bucket-default-encryption", &empty), vec![Status::Fail]);
        let mut unknown = fixture();
        bucket(&mut unknown).encryption = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("s3-bucket-default-encryption", &unknown), vec![Status::Error]);
        assert_eq!(eval("s3-bucket-default-encryption", &unlisted(|s| &mut s.s3.buckets)), vec![Status::Error]);
    }

    #[test]
    fn public_access_block() {
        assert_eq!(eval("s3-bucket-public-access-block", &fixture()), vec![Status::Pass]);
        let mut none = fixture();
        bucket(&mut none).public_access_block = Observed::Known(None);
        assert_eq!(eval("s3-bucket-public-access-block", &none), vec![Status::Fail]);
        // adversarial: three of four on (the policy block alone still lets a public policy work)
        let mut three = fixture();
        if let Observed::Known(Some(p)) = &mut bucket(&mut three).public_access_block {
            p.restrict_public_buckets = Observed::Known(false);
        }
        assert_eq!(eval("s3-bucket-public-access-block", &three), vec![Status::Fail]);
        // one setting unread: error; unread and another off: fail
        let mut unread = fixture();
        let all_on = || PublicAccessBlock {
            block_public_acls: Observed::Known(true),
            ignore_public_acls: Observed::Known(true),
            block_public_policy: Observed::Known(true),
            restrict_public_buckets: Observed::Unknown("GetPublicAccessBlock did not report RestrictPublicBuckets".into()),
        };
        bucket(&mut unread).public_access_block = Observed::Known(Some(all_on()));
        assert_eq!(eval("s3-bucket-public-access-block", &unread), vec![Status::Error]);
        let mut p = all_on();
        p.block_public_acls = Observed::Known(false);
        bucket(&mut unread).public_access_block = Observed::Known(Some(p));
        assert_eq!(eval("s3-bucket-public-access-block", &unread), vec![Status::Fail]);
        let mut unknown = fixture();
        bucket(&mut unknown).public_access_block = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("s3-bucket-public-access-block", &unknown), vec![Status::Error]);
        assert_eq!(eval("s3-bucket-public-access-block", &unlisted(|s| &mut s.s3.buckets)), vec![Status::Error]);
    }

    #[test]
    fn tls_only() {
        assert_eq!(eval("s3-bucket-tls-only", &fixture()), vec![Status::Pass]);
        assert_eq!(eval("s3-bucket-tls-only", &with_policy(json!(log_bucket_statements()))), vec![Status::Pass]);
        // split by resource over two statements, "*" resource, no principal wrapper
        let split = json!([
            {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": ARN, "Condition": tls()},
            {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": format!("{ARN}/*"), "Condition": {"BoolIfExists": {"aws:securetransport": false}}}
        ]);
        assert_eq!(eval("s3-bucket-tls-only", &with_policy(split)), vec![Status::Pass]);
        assert_eq!(
            eval("s3-bucket-tls-only", &with_policy(json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": tls()}]))),
            vec![Status::Pass]
        );
        for (why, statements) in [
            // adversarial: the Deny covers one object prefix only
            ("one prefix", json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [ARN, format!("{ARN}/alb/*")], "Condition": tls()}])),
            // the objects, not the bucket
            ("objects only", json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": format!("{ARN}/*"), "Condition": tls()}])),
            // adversarial: the condition inverted denies TLS requests, not plaintext ones
            (
                "inverted",
                json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [ARN, format!("{ARN}/*")], "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]),
            ),
            (
                "some actions",
                json!([{"Effect": "Deny", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": [ARN, format!("{ARN}/*")], "Condition": tls()}]),
            ),
            (
                "one principal",
                json!([{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:*", "Resource": [ARN, format!("{ARN}/*")], "Condition": tls()}]),
            ),
            (
                "another bucket",
                json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::other", "arn:aws:s3:::other/*"], "Condition": tls()}]),
            ),
            ("an Allow", json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": [ARN, format!("{ARN}/*")], "Condition": tls()}])),
            ("NotResource", json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "NotResource": "arn:aws:s3:::other", "Condition": tls()}])),
        ] {
            assert_eq!(eval("s3-bucket-tls-only", &with_policy(statements)), vec![Status::Fail], "{why}");
        }
        let mut none = fixture();
        bucket(&mut none).policy = Observed::Known(None);
        assert_eq!(eval("s3-bucket-tls-only", &none), vec![Status::Fail]);
        let mut malformed = fixture();
        bucket(&mut malformed).policy = Observed::Known(Some(json!({"Statement": [{"Effect": "Maybe"}]})));
        assert_eq!(eval("s3-bucket-tls-only", &malformed), vec![Status::Error]);
        let mut unknown = fixture();
        bucket(&mut unknown).policy = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("s3-bucket-tls-only", &unknown), vec![Status::Error]);
        assert_eq!(eval("s3-bucket-tls-only", &unlisted(|s| &mut s.s3.buckets)), vec![Status::Error]);
    }

    #[test]
    fn not_public() {
        assert_eq!(eval("s3-bucket-not-public", &fixture()), vec![Status::Pass]);
        // the ELB log-delivery service principal and the regional ELB account are not the public
        assert_eq!(eval("s3-bucket-not-public", &with_policy(json!(log_bucket_statements()))), vec![Status::Pass]);
        let mut elb_account = log_bucket_statements();
        elb_account.push(json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::127311923021:root"}, "Action": "s3:PutObject", "Resource": format!("{ARN}/alb/AWSLogs/123456789012/*")}));
        assert_eq!(eval("s3-bucket-not-public", &with_policy(json!(elb_account))), vec![Status::Pass]);
        let mut none = fixture();
        bucket(&mut none).policy = Observed::Known(None);
        assert_eq!(eval("s3-bucket-not-public", &none), vec![Status::Pass]);
        for (why, statement) in [
            ("Principal *", json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("{ARN}/*")})),
            // adversarial: NotPrincipal in an Allow grants everyone not listed
            (
                "NotPrincipal",
                json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject", "Resource": format!("{ARN}/*")}),
            ),
            (
                "account wildcard",
                json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "s3:GetObject", "Resource": format!("{ARN}/*")}),
            ),
            // a condition that does not restrict the caller
            (
                "TLS condition",
                json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("{ARN}/*"), "Condition": {"Bool": {"aws:SecureTransport": "true"}}}),
            ),
        ] {
            let mut statements = log_bucket_statements();
            statements.push(statement);
            assert_eq!(eval("s3-bucket-not-public", &with_policy(json!(statements))), vec![Status::Fail], "{why}");
        }
        // restricted to the account: not public
        let mut restricted = log_bucket_statements();
        restricted.push(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("{ARN}/*"), "Condition": {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}}));
        assert_eq!(eval("s3-bucket-not-public", &with_policy(json!(restricted))), vec![Status::Pass]);
        // ACLs: a public grant counts unless ACLs are disabled
        let public_read = AclGrant { grantee_type: "Group".into(), grantee_uri: Some(PUBLIC_GROUPS[0].into()), grantee_id: None, permission: "READ".into() };
        let mut acl = fixture();
        bucket(&mut acl).acl_grants = Observed::Known(vec![public_read.clone()]);
        assert_eq!(eval("s3-bucket-not-public", &acl), vec![Status::Pass], "BucketOwnerEnforced disables ACLs");
        bucket(&mut acl).object_ownership = Observed::Known(Some("BucketOwnerPreferred".into()));
        assert_eq!(eval("s3-bucket-not-public", &acl), vec![Status::Fail]);
        bucket(&mut acl).object_ownership = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("s3-bucket-not-public", &acl), vec![Status::Error]);
        let log_delivery = AclGrant {
            grantee_type: "Group".into(),
            grantee_uri: Some("http://acs.amazonaws.com/groups/s3/LogDelivery".into()),
            grantee_id: None,
            permission: "WRITE".into(),
        };
        bucket(&mut acl).acl_grants = Observed::Known(vec![log_delivery]);
        assert_eq!(eval("s3-bucket-not-public", &acl), vec![Status::Pass]);
        let mut acl_unread = fixture();
        bucket(&mut acl_unread).object_ownership = Observed::Known(None);
        bucket(&mut acl_unread).acl_grants = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("s3-bucket-not-public", &acl_unread), vec![Status::Error]);
        let mut unknown = fixture();
        bucket(&mut unknown).policy = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("s3-bucket-not-public", &unknown), vec![Status::Error]);
        let mut malformed = fixture();
        bucket(&mut malformed).policy = Observed::Known(Some(json!({"Statement": "nope"})));
        assert_eq!(eval("s3-bucket-not-public", &malformed), vec![Status::Error]);
        assert_eq!(eval("s3-bucket-not-public", &unlisted(|s| &mut s.s3.buckets)), vec![Status::Error]);
    }
}
