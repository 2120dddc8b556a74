//! S3: the general purpose buckets of this region (ListBuckets is global; it is asked for this
//! region's buckets, and each bucket's region is confirmed), their tags, and per bucket default
//! encryption, public access block, policy (and, when there is one, S3's own policy status),
//! ownership controls, ACL, logging, versioning and object lock.
//!
//! The "not configured" answers of the Get* calls have documented meanings (S3 API reference,
//! the Errors sections of each page, https://docs.aws.amazon.com/AmazonS3/latest/API/):
//! NoSuchTagSet (no tags), ServerSideEncryptionConfigurationNotFoundError (no default
//! encryption configuration), NoSuchPublicAccessBlockConfiguration (none configured),
//! NoSuchBucketPolicy (no policy), OwnershipControlsNotFoundError (no ownership controls),
//! ObjectLockConfigurationNotFoundError (no object lock configuration).

use super::{fan_out, reported, tag_map, Ctx};
use crate::model::s3::*;
use crate::model::Observed;
use aws_sdk_s3::types::{Grant, ServerSideEncryptionRule};
use std::collections::BTreeMap;

/// A bucket's region from GetBucketLocation's LocationConstraint: "Buckets in Region us-east-1
/// have a LocationConstraint of null", and the legacy `EU` is eu-west-1
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html).
pub(crate) fn location_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    }
}

fn encryption_rule(r: &ServerSideEncryptionRule) -> Result<EncryptionRule, String> {
    let d = r.apply_server_side_encryption_by_default().ok_or("a rule without ApplyServerSideEncryptionByDefault")?;
    Ok(EncryptionRule {
        algorithm: d.sse_algorithm().as_str().to_string(),
        kms_key_id: d.kms_master_key_id().map(str::to_string),
        bucket_key_enabled: r.bucket_key_enabled(),
    })
}

fn acl_grant(g: &Grant) -> Result<AclGrant, String> {
    let grantee = g.grantee().ok_or("a grant without Grantee")?;
    let permission = g.permission().ok_or("a grant without Permission")?;
    Ok(AclGrant {
        grantee_type: grantee.r#type().as_str().to_string(),
        grantee_uri: grantee.uri().map(str::to_string),
        grantee_id: grantee.id().map(str::to_string),
        permission: permission.as_str().to_string(),
    })
}

fn public_access_block(c: &aws_sdk_s3::types::PublicAccessBlockConfiguration) -> PublicAccessBlock {
    block_settings([c.block_public_acls(), c.ignore_public_acls(), c.block_public_policy(), c.restrict_public_buckets()])
}

/// The four Block Public Access settings as GetPublicAccessBlock (S3 or S3 Control) reports
/// them, in the order BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
/// RestrictPublicBuckets; each one not reported is Unknown.
pub(crate) fn block_settings([acls, ignore, policy, restrict]: [Option<bool>; 4]) -> PublicAccessBlock {
    let op = "GetPublicAccessBlock";
    PublicAccessBlock {
        block_public_acls: reported(acls, op, "BlockPublicAcls"),
        ignore_public_acls: reported(ignore, op, "IgnorePublicAcls"),
        block_public_policy: reported(policy, op, "BlockPublicPolicy"),
        restrict_public_buckets: reported(restrict, op, "RestrictPublicBuckets"),
    }
}

/// The region a listed bucket is in: ListBuckets' BucketRegion when reported, else
/// GetBucketLocation. Err: the location could not be read.
async fn region_of(ctx: &Ctx, name: &str, listed: Option<&str>) -> Result<String, String> {
    if let Some(r) = listed.filter(|r| !r.is_empty()) {
        return Ok(r.to_string());
    }
    let s3 = &ctx.clients.s3;
    let out = ctx.call("s3", "GetBucketLocation", Some(name), s3.get_bucket_location().bucket(name).send()).await?;
    Ok(location_region(out.location_constraint().map(|c| c.as_str())))
}

async fn tags(ctx: &Ctx, name: &str) -> Observed<BTreeMap<String, String>> {
    // account-wide: no verdict reads a bucket's tags, so they are not read
    if ctx.scope.account_wide() {
        return Observed::Unknown("not read: an account-wide scan needs no bucket tags".into());
    }
    let s3 = &ctx.clients.s3;
    ctx.call_opt("s3", "GetBucketTagging", Some(name), &["NoSuchTagSet"], s3.get_bucket_tagging().bucket(name).send())
        .await
        .map(|t| match t {
            // NoSuchTagSet: the bucket has no tags
            None => BTreeMap::new(),
            Some(t) => tag_map(t.tag_set().iter().map(|t| (t.key(), t.value()))),
        })
        .into()
}

async fn bucket(ctx: &Ctx, name: String, region: String, t: Observed<BTreeMap<String, String>>) -> Bucket {
    let s3 = &ctx.clients.s3;
    let n = name.as_str();
    let (enc, pab, (policy, policy_status), ownership, acl, logging, versioning, lock) = tokio::join!(
        ctx.call_opt("s3", "GetBucketEncryption", Some(n), &["ServerSideEncryptionConfigurationNotFoundError"], s3.get_bucket_encryption().bucket(n).send()),
        ctx.call_opt("s3", "GetPublicAccessBlock", Some(n), &["NoSuchPublicAccessBlockConfiguration"], s3.get_public_access_block().bucket(n).send()),
        policy_and_status(ctx, n),
        ctx.call_opt("s3", "GetBucketOwnershipControls", Some(n), &["OwnershipControlsNotFoundError"], s3.get_bucket_ownership_controls().bucket(n).send()),
        ctx.call("s3", "GetBucketAcl", Some(n), s3.get_bucket_acl().bucket(n).send()),
        ctx.call("s3", "GetBucketLogging", Some(n), s3.get_bucket_logging().bucket(n).send()),
        ctx.call("s3", "GetBucketVersioning", Some(n), s3.get_bucket_versioning().bucket(n).send()),
        ctx.call_opt(
            "s3",
            "GetObjectLockConfiguration",
            Some(n),
            &["ObjectLockConfigurationNotFoundError"],
            s3.get_object_lock_configuration().bucket(n).send()
        ),
    );
    let arn = format!("arn:{}:s3:::{name}", ctx.partition);
    let mut meta = ctx.meta("s3:bucket", &name, arn, Some(name.clone()), t);
    meta.region = region;
    Bucket {
        meta,
        encryption: enc
            .and_then(|e| match e {
                None => Ok(None),
                Some(e) => {
                    let c = e.server_side_encryption_configuration().ok_or_else(|| format!("s3:GetBucketEncryption for {n} returned no configuration"))?;
                    c.rules()
                        .iter()
                        .map(encryption_rule)
                        .collect::<Result<Vec<_>, _>>()
                        .map(Some)
                        .map_err(|e| format!("s3:GetBucketEncryption for {n} returned {e}"))
                }
            })
            .into(),
        public_access_block: pab
            .and_then(|p| match p {
                None => Ok(None),
                Some(p) => p
                    .public_access_block_configuration()
                    .map(|c| Some(public_access_block(c)))
                    .ok_or_else(|| format!("s3:GetPublicAccessBlock for {n} returned no configuration")),
            })
            .into(),
        policy: policy
            .and_then(|p| match p {
                None => Ok(None),
                Some(p) => {
                    let doc = p.policy().ok_or_else(|| format!("s3:GetBucketPolicy for {n} returned no Policy"))?;
                    serde_json::from_str(doc).map(Some).map_err(|e| format!("bucket policy of {n} is not JSON: {e}"))
                }
            })
            .into(),
        object_ownership: ownership
            .and_then(|o| match o {
                None => Ok(None),
                Some(o) => {
                    let c = o.ownership_controls().ok_or_else(|| format!("s3:GetBucketOwnershipControls for {n} returned no OwnershipControls"))?;
                    match c.rules() {
                        [r] => Ok(Some(r.object_ownership().as_str().to_string())),
                        rules => Err(format!("s3:GetBucketOwnershipControls for {n} returned {} rules (one expected)", rules.len())),
                    }
                }
            })
            .into(),
        acl_grants: acl
            .and_then(|a| a.grants().iter().map(acl_grant).collect::<Result<Vec<_>, _>>().map_err(|e| format!("s3:GetBucketAcl for {n} returned {e}")))
            .into(),
        // no LoggingEnabled element: logging is off
        // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLogging.html)
        logging: logging
            .map(|l| l.logging_enabled().map(|e| LoggingTarget { target_bucket: e.target_bucket().to_string(), target_prefix: e.target_prefix().to_string() }))
            .into(),
        policy_is_public: policy_status.into(),
        // no Status / MFADelete element: never configured
        // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html)
        versioning: versioning.as_ref().map(|v| v.status().map(|s| s.as_str().to_string())).map_err(Clone::clone).into(),
        mfa_delete: versioning.map(|v| v.mfa_delete().map(|m| m.as_str().to_string())).into(),
        object_lock: lock.map(|l| l.and_then(|l| l.object_lock_configuration().map(object_lock))).into(),
    }
}

/// GetBucketPolicy, then (only when there is a policy) GetBucketPolicyStatus: S3's own judgement
/// of whether the policy is public. No policy: no status (None) and no second call.
async fn policy_and_status(
    ctx: &Ctx,
    n: &str,
) -> (Result<Option<aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyOutput>, String>, Result<Option<bool>, String>) {
    let s3 = &ctx.clients.s3;
    let policy = ctx.call_opt("s3", "GetBucketPolicy", Some(n), &["NoSuchBucketPolicy"], s3.get_bucket_policy().bucket(n).send()).await;
    let status = match &policy {
        Ok(None) => Ok(None),
        Err(e) => Err(format!("not read: the bucket policy was not read ({e})")),
        Ok(Some(_)) => ctx
            .call_opt("s3", "GetBucketPolicyStatus", Some(n), &["NoSuchBucketPolicy"], s3.get_bucket_policy_status().bucket(n).send())
            .await
            .and_then(|o| match o {
                // deleted between the two calls: no policy now
                None => Ok(None),
                Some(o) => {
                    o.policy_status().and_then(|p| p.is_public()).map(Some).ok_or_else(|| format!("s3:GetBucketPolicyStatus for {n} did not report IsPublic"))
                }
            }),
    };
    (policy, status)
}

/// Object Lock as configured: on or not, and the default retention rule if any.
fn object_lock(c: &aws_sdk_s3::types::ObjectLockConfiguration) -> ObjectLock {
    let retention = c.rule().and_then(|r| r.default_retention());
    ObjectLock {
        enabled: c.object_lock_enabled().is_some_and(|e| e.as_str() == "Enabled"),
        default_mode: retention.and_then(|r| r.mode()).map(|m| m.as_str().to_string()),
        default_days: retention.and_then(|r| r.days()),
        default_years: retention.and_then(|r| r.years()),
    }
}

pub async fn collect(ctx: &Ctx) -> S3 {
    let s3 = &ctx.clients.s3;
    let mut out = S3::default();
    // BucketRegion: "Limits the response to buckets that are located in the specified Amazon Web
    // Services Region" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html)
    let listed = match ctx.pages("s3", "ListBuckets", s3.list_buckets().bucket_region(&ctx.region).into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.buckets().to_vec()).collect::<Vec<_>>(),
        Err(e) => {
            out.buckets.fail(&ctx.region, e);
            return out;
        }
    };
    let mut named = Vec::new();
    for b in listed {
        match b.name() {
            Some(n) => named.push((n.to_string(), b.bucket_region().map(str::to_string))),
            None => {
                let reason = ctx.incomplete("s3", "ListBuckets", "a bucket", &["Name"]);
                out.buckets.fail(&ctx.region, reason);
            }
        }
    }
    let located = fan_out(ctx, named, |(name, listed_region)| async move {
        let region = region_of(ctx, &name, listed_region.as_deref()).await;
        (name, region)
    })
    .await;
    let mut here = Vec::new();
    for (name, region) in located {
        match region {
            // a bucket of another region is out of scope here (its own region's scan reads it)
            Ok(r) if r != ctx.region => continue,
            Ok(r) => here.push((name, r)),
            // listed for this region, location unreadable: kept here (as ListBuckets says)
            Err(_) => here.push((name, ctx.region.clone())),
        }
    }
    let found = fan_out(ctx, here, |(name, region)| async move {
        let t = tags(ctx, &name).await;
        if !ctx.scope.wants(&t) {
            return None;
        }
        Some(bucket(ctx, name, region, t).await)
    })
    .await;
    for b in found.into_iter().flatten() {
        out.buckets.insert(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::types::{Grantee, Permission, ServerSideEncryption, ServerSideEncryptionByDefault, Type};

    #[test]
    fn location_constraint_null_is_us_east_1() {
        assert_eq!(location_region(None), "us-east-1");
        assert_eq!(location_region(Some("")), "us-east-1");
        assert_eq!(location_region(Some("EU")), "eu-west-1");
        assert_eq!(location_region(Some("sa-east-1")), "sa-east-1");
    }

    #[test]
    fn encryption_rules_and_grants_map_or_name_what_is_missing() {
        let r = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).kms_master_key_id("arn:k").build().unwrap(),
            )
            .bucket_key_enabled(true)
            .build();
        assert_eq!(
            encryption_rule(&r).unwrap(),
            EncryptionRule { algorithm: "aws:kms".into(), kms_key_id: Some("arn:k".into()), bucket_key_enabled: Some(true) }
        );
        assert!(encryption_rule(&ServerSideEncryptionRule::builder().build()).is_err());
        let g = Grant::builder()
            .grantee(Grantee::builder().r#type(Type::Group).uri("http://acs.amazonaws.com/groups/global/AllUsers").build().unwrap())
            .permission(Permission::Read)
            .build();
        let m = acl_grant(&g).unwrap();
        assert_eq!((m.grantee_type.as_str(), m.permission.as_str()), ("Group", "READ"));
        assert!(acl_grant(&Grant::builder().permission(Permission::Read).build()).is_err());
    }
}
