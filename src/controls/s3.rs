//! S3 bucket controls: default encryption, Block Public Access, a TLS-only bucket policy, and
//! nothing granted to the public (bucket policy or ACL).

use super::{each, ControlFn, Params, Verdict};
use crate::model::s3::{AclGrant, Bucket, PublicAccessBlock};
use crate::model::{Observed, State};
use crate::semantics::policy::{denies_insecure_transport_on, parse_statements, public_grants};
use serde_json::{json, Value};

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("s3-bucket-default-encryption", default_encryption),
    ("s3-bucket-public-access-block", public_access_block),
    ("s3-bucket-tls-only", tls_only),
    ("s3-bucket-not-public", not_public),
    ("s3-account-public-access-block", account_public_access_block),
    ("s3-bucket-access-logging", access_logging),
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

const PAB_EXPECTED: [(&str, bool); 4] =
    [("block_public_acls", true), ("ignore_public_acls", true), ("block_public_policy", true), ("restrict_public_buckets", true)];

fn pab_expected() -> Value {
    PAB_EXPECTED.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>().into()
}

/// The four settings in a fixed order; a configuration that does not exist has all four off.
fn pab_flags(p: Option<&PublicAccessBlock>) -> [Observed<bool>; 4] {
    match p {
        None => std::array::from_fn(|_| Observed::Known(false)),
        Some(p) => [p.block_public_acls.clone(), p.ignore_public_acls.clone(), p.block_public_policy.clone(), p.restrict_public_buckets.clone()],
    }
}

/// All four settings unread, for `reason`.
fn pab_unread(reason: &str) -> [Observed<bool>; 4] {
    std::array::from_fn(|_| Observed::Unknown(reason.to_string()))
}

/// The account-level settings as the State holds them: `None` when they were not collected (a
/// stack-scoped scan reads no account-level settings: then the bucket's own settings decide).
fn account_pab_flags(state: &State) -> Option<[Observed<bool>; 4]> {
    let c = &state.s3control.public_access_blocks;
    if let Some(f) = c.failures.first() {
        return Some(pab_unread(&format!("the account-level public access block was not read: {}", f.reason)));
    }
    let a = c.iter().next()?;
    Some(match a.settings.get() {
        Err(r) => pab_unread(&format!("the account-level public access block was not read: {r}")),
        Ok(p) => pab_flags(p.as_ref()),
    })
}

/// The setting S3 applies: "the most restrictive combination of the bucket-level and
/// account-level settings" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html):
/// on when either level is on; off only when both are known to be off.
fn effective(bucket: &Observed<bool>, account: Option<&Observed<bool>>) -> Observed<bool> {
    match (bucket, account) {
        (Observed::Known(true), _) | (_, Some(Observed::Known(true))) => Observed::Known(true),
        (Observed::Known(false), None | Some(Observed::Known(false))) => Observed::Known(false),
        (Observed::Unknown(r), _) | (_, Some(Observed::Unknown(r))) => Observed::Unknown(r.clone()),
    }
}

/// Judge four Block Public Access settings: any off fails, any unread (and none off) is an error.
fn judge_pab(m: &crate::model::Meta, flags: &[Observed<bool>; 4], level: &str, observed_extra: Value) -> Verdict {
    let mut observed: serde_json::Map<String, Value> =
        PAB_EXPECTED.iter().zip(flags).map(|((k, _), v)| (k.to_string(), v.known().map(|b| json!(b)).unwrap_or(Value::Null))).collect();
    if let Value::Object(extra) = observed_extra {
        observed.extend(extra);
    }
    let off: Vec<&str> = PAB_EXPECTED.iter().zip(flags).filter(|(_, v)| v.known() == Some(&false)).map(|((k, _), _)| *k).collect();
    if !off.is_empty() {
        return Verdict::fail(m, format!("{level} public access block settings off: {}", off.join(", ")), observed.into(), pab_expected());
    }
    if let Some(((k, _), v)) = PAB_EXPECTED.iter().zip(flags).find(|(_, v)| v.known().is_none()) {
        return Verdict::error(m, format!("{k}: {}", v.get().err().unwrap_or_default()));
    }
    Verdict::pass(m, format!("all four {level} public access block settings are on"), observed.into())
}

fn public_access_block(state: &State, _: &Params) -> Vec<Verdict> {
    let account = account_pab_flags(state);
    each(&state.s3.buckets, "s3:bucket", |b| {
        let bucket_flags = match b.public_access_block.get() {
            Err(reason) => pab_unread(&format!("the public access block was not read: {reason}")),
            Ok(p) => pab_flags(p.as_ref()),
        };
        let flags: [Observed<bool>; 4] = std::array::from_fn(|i| effective(&bucket_flags[i], account.as_ref().map(|a| &a[i])));
        let extra = json!({
            "bucket_level_configured": b.public_access_block.known().map(|p| p.is_some()),
            "account_level": match &account { None => json!("not collected (stack-scoped scan): the bucket's own settings decide"), Some(_) => json!("combined") },
        });
        judge_pab(&b.meta, &flags, "effective (bucket and account level combined)", extra)
    })
}

/// The account-level settings (S3 Control): all four on protects every bucket, present and future.
fn account_public_access_block(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.s3control.public_access_blocks, "s3control:public-access-block", |a| match a.settings.get() {
        Err(reason) => Verdict::error(&a.meta, format!("the account-level public access block was not read: {reason}")),
        Ok(None) => Verdict::fail(
            &a.meta,
            "no account-level public access block is configured (NoSuchPublicAccessBlockConfiguration)",
            json!({"public_access_block": null}),
            pab_expected(),
        ),
        Ok(Some(p)) => judge_pab(&a.meta, &pab_flags(Some(p)), "account-level", json!({})),
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
        let mut statements: Vec<String> = open.iter().map(|g| g.describe()).collect();
        // S3's own verdict on the policy (GetBucketPolicyStatus): a policy S3 calls public is
        // public whatever this reading of it says; unread, the policy's own reading stands
        let s3_says_public = b.policy_is_public.known() == Some(&Some(true));
        if s3_says_public && statements.is_empty() {
            statements.push("S3 reports the bucket policy as public (GetBucketPolicyStatus IsPublic)".into());
        }
        let observed = json!({"public_policy_statements": statements, "public_acl_grants": acl, "policy_status_is_public": b.policy_is_public.known()});
        if statements.is_empty() && acl.is_empty() {
            Verdict::pass(&b.meta, "neither the bucket policy nor the ACL grants anything to the public", observed)
        } else {
            let mut why = statements.clone();
            why.extend(acl.iter().map(|a| format!("ACL grants {a}")));
            Verdict::fail(&b.meta, format!("the bucket is open to the public: {}", why.join("; ")), observed, expected.clone())
        }
    })
}

/// The buckets that hold an audit trail: each bucket a trail of the State delivers to, with the
/// trails. Err: which trails' buckets are unknown (a listing failed or a trail's bucket unread).
fn audit_log_buckets(state: &State) -> (std::collections::BTreeMap<&str, Vec<&str>>, Vec<String>) {
    let mut by_bucket: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    let mut unknown: Vec<String> =
        state.cloudtrail.trails.failures.iter().map(|f| format!("trails could not be listed in {}: {}", f.region, f.reason)).collect();
    for t in state.cloudtrail.trails.iter() {
        match t.s3_bucket.get() {
            Ok(b) => by_bucket.entry(b.as_str()).or_default().push(t.meta.display_name()),
            Err(r) => unknown.push(format!("the bucket of trail {} was not read: {r}", t.meta.display_name())),
        }
    }
    (by_bucket, unknown)
}

/// Server access logging on the buckets that hold CloudTrail's log files (CIS AWS Foundations
/// 3.6): who read, deleted or overwrote the audit trail is itself evidence. Access logs of the
/// trail's bucket written into that same bucket are not: whoever can delete the trail's files
/// there can delete the record of it, and S3 advises a different target bucket
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
/// Buckets no trail of the State delivers to are not applicable; trails whose bucket is not in
/// the State (another account or an unscanned region) are errors on the trail.
fn access_logging(state: &State, _: &Params) -> Vec<Verdict> {
    let (by_bucket, unknown) = audit_log_buckets(state);
    let mut out = each(&state.s3.buckets, "s3:bucket", |b| {
        let Some(trails) = by_bucket.get(b.meta.id.as_str()) else {
            return match unknown.first() {
                Some(reason) => Verdict::error(&b.meta, format!("whether the bucket holds an audit trail is unknown: {reason}")),
                None => Verdict::not_applicable(&b.meta, "no trail in the scanned state delivers its log files here"),
            };
        };
        let expected = json!({"logging": {"target_bucket": "another bucket"}});
        match b.logging.get() {
            Err(reason) => Verdict::error(&b.meta, format!("server access logging was not read: {reason}")),
            Ok(None) => Verdict::fail(
                &b.meta,
                format!("the bucket holds the log files of trail {} but does not log access to them", trails.join(", ")),
                json!({"trails": trails, "logging": null}),
                expected,
            ),
            Ok(Some(t)) if t.target_bucket == b.meta.id => Verdict::fail(
                &b.meta,
                format!(
                    "the bucket of trail {} logs access to itself: whoever can remove the trail's files there can remove the record of it",
                    trails.join(", ")
                ),
                json!({"trails": trails, "logging": {"target_bucket": t.target_bucket, "target_prefix": t.target_prefix}}),
                expected,
            ),
            Ok(Some(t)) => Verdict::pass(
                &b.meta,
                format!("access to the log files of trail {} is logged to {}", trails.join(", "), t.target_bucket),
                json!({"trails": trails, "logging": {"target_bucket": t.target_bucket, "target_prefix": t.target_prefix}}),
            ),
        }
    });
    let present: std::collections::BTreeSet<&str> = state.s3.buckets.iter().map(|b| b.meta.id.as_str()).collect();
    for t in state.cloudtrail.trails.iter() {
        if let Ok(bucket) = t.s3_bucket.get() {
            if !present.contains(bucket.as_str()) && state.s3.buckets.failures.is_empty() {
                out.push(Verdict::error(
                    &t.meta,
                    format!("trail {} delivers to bucket {bucket}, which is not in the scanned state (another account, or a region not scanned): its access logging is unknown", t.meta.display_name()),
                ));
            }
        }
    }
    out
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

    /// The fixture without the account-level settings (as a stack-scoped scan reads it).
    fn bucket_level_only() -> State {
        let mut s = fixture();
        s.s3control.public_access_blocks.items.clear();
        s
    }

    fn account_level(s: &mut State) -> &mut crate::model::s3control::AccountPublicAccessBlock {
        s.s3control.public_access_blocks.items.values_mut().next().expect("fixture has the account-level settings")
    }

    fn all_on() -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: Observed::Known(true),
            ignore_public_acls: Observed::Known(true),
            block_public_policy: Observed::Known(true),
            restrict_public_buckets: Observed::Known(true),
        }
    }

    #[test]
    fn public_access_block() {
        assert_eq!(eval("s3-bucket-public-access-block", &fixture()), vec![Status::Pass]);
        assert_eq!(eval("s3-bucket-public-access-block", &bucket_level_only()), vec![Status::Pass]);
        let mut none = bucket_level_only();
        bucket(&mut none).public_access_block = Observed::Known(None);
        assert_eq!(eval("s3-bucket-public-access-block", &none), vec![Status::Fail]);
        // adversarial: three of four on (the policy block alone still lets a public policy work)
        let mut three = bucket_level_only();
        if let Observed::Known(Some(p)) = &mut bucket(&mut three).public_access_block {
            p.restrict_public_buckets = Observed::Known(false);
        }
        assert_eq!(eval("s3-bucket-public-access-block", &three), vec![Status::Fail]);
        // one setting unread: error; unread and another off: fail
        let mut unread = bucket_level_only();
        let mut p = all_on();
        p.restrict_public_buckets = Observed::Unknown("GetPublicAccessBlock did not report RestrictPublicBuckets".into());
        bucket(&mut unread).public_access_block = Observed::Known(Some(p.clone()));
        assert_eq!(eval("s3-bucket-public-access-block", &unread), vec![Status::Error]);
        p.block_public_acls = Observed::Known(false);
        bucket(&mut unread).public_access_block = Observed::Known(Some(p));
        assert_eq!(eval("s3-bucket-public-access-block", &unread), vec![Status::Fail]);
        let mut unknown = bucket_level_only();
        bucket(&mut unknown).public_access_block = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("s3-bucket-public-access-block", &unknown), vec![Status::Error]);
        assert_eq!(eval("s3-bucket-public-access-block", &unlisted(|s| &mut s.s3.buckets)), vec![Status::Error]);
    }

    /// S3 applies the most restrictive combination of the bucket and account levels.
    #[test]
    fn public_access_block_combines_the_account_level() {
        // no bucket-level configuration, all four on for the account: blocked
        let mut covered = fixture();
        bucket(&mut covered).public_access_block = Observed::Known(None);
        assert_eq!(eval("s3-bucket-public-access-block", &covered), vec![Status::Pass]);
        // each level has two of four: together all four are on
        let mut halves = fixture();
        let mut b = all_on();
        b.block_public_acls = Observed::Known(false);
        b.ignore_public_acls = Observed::Known(false);
        bucket(&mut halves).public_access_block = Observed::Known(Some(b));
        let mut a = all_on();
        a.block_public_policy = Observed::Known(false);
        a.restrict_public_buckets = Observed::Known(false);
        account_level(&mut halves).settings = Observed::Known(Some(a.clone()));
        assert_eq!(eval("s3-bucket-public-access-block", &halves), vec![Status::Pass]);
        // the same setting off at both levels: open
        let mut both_off = halves.clone();
        if let Observed::Known(Some(b)) = &mut bucket(&mut both_off).public_access_block {
            b.block_public_policy = Observed::Known(false);
        }
        assert_eq!(eval("s3-bucket-public-access-block", &both_off), vec![Status::Fail]);
        // account level not configured: the bucket's own settings decide
        let mut unconfigured = fixture();
        account_level(&mut unconfigured).settings = Observed::Known(None);
        bucket(&mut unconfigured).public_access_block = Observed::Known(None);
        assert_eq!(eval("s3-bucket-public-access-block", &unconfigured), vec![Status::Fail]);
        // account level unread and the bucket's setting off: unknown, not a pass and not a fail
        let mut unread = fixture();
        account_level(&mut unread).settings = Observed::Unknown("AccessDenied".into());
        bucket(&mut unread).public_access_block = Observed::Known(None);
        assert_eq!(eval("s3-bucket-public-access-block", &unread), vec![Status::Error]);
        // ... but with the bucket's own four on, the bucket is blocked whatever the account says
        let mut own = fixture();
        account_level(&mut own).settings = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("s3-bucket-public-access-block", &own), vec![Status::Pass]);
        let mut failed = fixture();
        failed.s3control.public_access_blocks.items.clear();
        failed.s3control.public_access_blocks.fail("global", "AccessDenied");
        bucket(&mut failed).public_access_block = Observed::Known(None);
        assert_eq!(eval("s3-bucket-public-access-block", &failed), vec![Status::Error]);
    }

    #[test]
    fn account_public_access_block() {
        assert_eq!(eval("s3-account-public-access-block", &fixture()), vec![Status::Pass]);
        let mut none = fixture();
        account_level(&mut none).settings = Observed::Known(None);
        assert_eq!(eval("s3-account-public-access-block", &none), vec![Status::Fail]);
        let mut three = fixture();
        let mut p = all_on();
        p.ignore_public_acls = Observed::Known(false);
        account_level(&mut three).settings = Observed::Known(Some(p));
        assert_eq!(eval("s3-account-public-access-block", &three), vec![Status::Fail]);
        let mut unread = fixture();
        account_level(&mut unread).settings = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("s3-account-public-access-block", &unread), vec![Status::Error]);
        assert_eq!(eval("s3-account-public-access-block", &unlisted(|s| &mut s.s3control.public_access_blocks)), vec![Status::Error]);
        // a stack-scoped scan holds no account-level record: nothing to judge, nothing passed
        assert_eq!(eval("s3-account-public-access-block", &bucket_level_only()), vec![]);
    }

    /// S3's own policy status decides when it calls the policy public; unread, the policy's
    /// reading stands.
    #[test]
    fn s3_policy_status_is_heard() {
        let mut s3_says_public = fixture();
        bucket(&mut s3_says_public).policy_is_public = Observed::Known(Some(true));
        assert_eq!(eval("s3-bucket-not-public", &s3_says_public), vec![Status::Fail]);
        let mut unread = fixture();
        bucket(&mut unread).policy_is_public = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("s3-bucket-not-public", &unread), vec![Status::Pass]);
        let mut public = with_policy(json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("{ARN}/*")}]));
        bucket(&mut public).policy_is_public = Observed::Known(Some(false));
        assert_eq!(eval("s3-bucket-not-public", &public), vec![Status::Fail], "a policy S3 calls private but that grants * is still judged");
    }

    fn trail(s: &mut State) -> &mut crate::model::cloudtrail::Trail {
        s.cloudtrail.trails.items.values_mut().next().expect("fixture has a trail")
    }

    #[test]
    fn the_trails_bucket_logs_access_elsewhere() {
        let id = "s3-bucket-access-logging";
        assert_eq!(eval(id, &fixture()), vec![Status::Pass], "the fixture trail delivers to the fixture bucket, which logs to another");
        let mut off = fixture();
        bucket(&mut off).logging = Observed::Known(None);
        assert_eq!(eval(id, &off), vec![Status::Fail]);
        // adversarial: logging is on, into the trail's own bucket
        let mut itself = fixture();
        bucket(&mut itself).logging =
            Observed::Known(Some(crate::model::s3::LoggingTarget { target_bucket: "tapaudit-ferpa-alb-logs".into(), target_prefix: "self/".into() }));
        assert_eq!(eval(id, &itself), vec![Status::Fail]);
        let mut unread = fixture();
        bucket(&mut unread).logging = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval(id, &unread), vec![Status::Error]);
        // whether the bucket holds a trail is unknown: never not-applicable
        let mut trail_bucket_unread = fixture();
        trail(&mut trail_bucket_unread).s3_bucket = Observed::Unknown("DescribeTrails did not report S3BucketName".into());
        assert_eq!(eval(id, &trail_bucket_unread), vec![Status::Error]);
        assert_eq!(eval(id, &unlisted(|s| &mut s.cloudtrail.trails)), vec![Status::Error]);
        // no trail delivers here: nothing to judge
        let mut elsewhere = fixture();
        trail(&mut elsewhere).s3_bucket = Observed::Known("tapaudit-ferpa-alb-logs-archive".into());
        let got = eval(id, &elsewhere);
        assert_eq!(got, vec![Status::Error], "the trail's bucket is not in the state: an error on the trail, the fixture bucket not applicable");
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
