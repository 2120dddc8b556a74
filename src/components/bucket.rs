//! `[buckets.<id>]`: an S3 bucket for logs, `<project>-<stack>-<id>-<account id>` (bucket names
//! are global, so the account makes them unique; the desired State uses the desired account).
//! Default encryption SSE-S3, every public-access-block setting on, ACLs disabled
//! (BucketOwnerEnforced), a policy that denies every request without TLS and, with
//! `log_delivery = "elb"`, lets Elastic Load Balancing write access logs under
//! `<prefix>/AWSLogs/<account>/`, and a lifecycle rule that expires objects after
//! `retention_days`. `destroy` deletes the bucket only when it is empty, or empties it first with
//! `force_destroy = true`.
//!
//! Why SSE-S3 and not a customer key: "The only server-side encryption option that's supported
//! is Amazon S3-managed keys (SSE-S3)" for ALB access-log buckets
//! (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html,
//! Step 1, Requirements).
//!
//! The log-delivery principal: ELB's current guidance grants `s3:PutObject` to the service
//! principal `logdelivery.elasticloadbalancing.amazonaws.com` in every Region; the legacy
//! per-Region ELB account policy of "Regions available before August 2022" is "still supported,
//! but we recommend that you replace it with the newer policy"
//! (https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/enable-access-logs.html,
//! Step 2; the Application Load Balancer guide's Step 2 gives the same policy).

use super::{Component, Cx, Kind, Output, Problem, Reference};
use crate::error::{Error, Result, SdkResultExt};
use crate::model::{Meta, State};
use crate::provision::{attrs, diff, tag_changes, Attrs, Change, Ctx, Found, Node};
use crate::vocab::policy;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration, Delete, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, ObjectIdentifier, ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The ELB access-log delivery service principal (see the module comment).
pub const ELB_LOG_DELIVERY: &str = "logdelivery.elasticloadbalancing.amazonaws.com";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Bucket {
    /// Who writes logs into the bucket: `elb` (load balancer access logs) or `none`.
    pub log_delivery: String,
    /// The key prefix the logs are written under (no leading or trailing `/`, not containing
    /// `AWSLogs`); empty for the bucket's root.
    pub prefix: String,
    /// Days objects are kept before they expire (at least the frameworks' log retention,
    /// `min_retention_days`).
    pub retention_days: u32,
    /// `destroy` empties the bucket before deleting it; otherwise a bucket that holds objects
    /// is left in place and destroy says so.
    pub force_destroy: bool,
}

impl Default for Bucket {
    fn default() -> Self {
        Bucket { log_delivery: "elb".into(), prefix: String::new(), retention_days: 365, force_destroy: false }
    }
}

/// The bucket's name in `account`.
pub fn bucket_name(cx_name: &str, account: &str) -> String {
    format!("{cx_name}-{account}")
}

/// The key path ELB writes under: `<bucket>[/<prefix>]/AWSLogs/<account>/*`.
fn log_path(bucket: &str, prefix: &str, account: &str) -> String {
    if prefix.is_empty() {
        format!("{bucket}/AWSLogs/{account}/*")
    } else {
        format!("{bucket}/{prefix}/AWSLogs/{account}/*")
    }
}

/// The bucket policy: every request without TLS denied; with ELB log delivery, the service
/// principal may put objects under the account's log path.
pub fn bucket_policy(partition: &str, account: &str, bucket: &str, spec: &Bucket) -> Value {
    let arn = format!("arn:{partition}:s3:::{bucket}");
    let mut statements = vec![json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [arn.clone(), format!("{arn}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })];
    if spec.log_delivery == "elb" {
        statements.push(json!({
            "Sid": "ElbAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": ELB_LOG_DELIVERY},
            "Action": "s3:PutObject",
            "Resource": format!("arn:{partition}:s3:::{}", log_path(bucket, &spec.prefix, account))
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The desired bucket's settings (`desired` turns them into a `model::s3::Bucket`).
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredBucket {
    pub meta: Meta,
    /// `AES256` (SSE-S3).
    pub encryption_algorithm: String,
    /// All four settings on.
    pub public_access_block: [bool; 4],
    pub policy: Value,
    pub object_ownership: String,
    pub expiration_days: u32,
}

/// The bucket as desired State.
pub fn desired_bucket(b: &Bucket, cx: &Cx) -> DesiredBucket {
    let name = bucket_name(&cx.name(cx.id), super::DESIRED_ACCOUNT);
    let mut meta = cx.meta("s3:bucket", cx.id, &name, format!("arn:aws:s3:::{name}"), &name, "");
    meta.name = Some(name.clone());
    DesiredBucket {
        meta,
        encryption_algorithm: "AES256".into(),
        public_access_block: [true; 4],
        policy: bucket_policy("aws", super::DESIRED_ACCOUNT, &name, b),
        object_ownership: "BucketOwnerEnforced".into(),
        expiration_days: b.retention_days,
    }
}

impl Component for Bucket {
    const KIND: Kind = Kind::Bucket;

    fn references(&self) -> Vec<Reference> {
        vec![]
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        let mut out = Vec::new();
        if !["elb", "none"].contains(&self.log_delivery.as_str()) {
            out.push(cx.problem("log_delivery", format!("must be \"elb\" or \"none\" (got {:?})", self.log_delivery)));
        }
        let p = &self.prefix;
        if p.starts_with('/') || p.ends_with('/') || p.contains("//") {
            out.push(cx.problem("prefix", format!("must not start or end with \"/\" nor contain \"//\" (got {p:?})")));
        } else if p.contains("AWSLogs") {
            out.push(cx.problem("prefix", format!("must not contain \"AWSLogs\": ELB adds AWSLogs/<account>/ after the prefix (got {p:?})")));
        } else if !p.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) || p.len() > 200 {
            out.push(cx.problem("prefix", format!("must be at most 200 letters, digits, '-', '_', '.' or '/' (got {p:?})")));
        }
        if self.retention_days == 0 {
            out.push(cx.problem("retention_days", "must be at least 1"));
        } else if let Some(min) = super::cache::threshold(cx, "logs-log-group-retention", "min_retention_days") {
            if i64::from(self.retention_days) < min {
                out.push(cx.problem(
                    "retention_days",
                    format!(
                        "{} is less than {min}, the log retention {} requires (min_retention_days)",
                        self.retention_days,
                        cx.stack.spec.frameworks.join(", ")
                    ),
                ));
            }
        }
        // <project>-<stack>-<id>-<12-digit account>: S3 allows 63 characters
        let len = cx.name(cx.id).len() + 13;
        if len > 63 {
            out.push(
                cx.problem("", format!("makes a bucket name of {len} characters (\"{}-<account id>\"); S3 allows 63: shorten the logical id", cx.name(cx.id))),
            );
        }
        out
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        vec![cx.node(cx.id, BucketNode { spec: self.clone(), base: cx.name(cx.id) }, &[])]
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        use crate::model::s3::{Bucket as Model, EncryptionRule, PublicAccessBlock};
        use crate::model::Observed;
        let d = desired_bucket(self, cx);
        let [a, b, c, e] = d.public_access_block;
        st.s3.buckets.insert(Model {
            meta: d.meta,
            encryption: Observed::Known(Some(vec![EncryptionRule { algorithm: d.encryption_algorithm, kms_key_id: None, bucket_key_enabled: None }])),
            public_access_block: Observed::Known(Some(PublicAccessBlock {
                block_public_acls: Observed::Known(a),
                ignore_public_acls: Observed::Known(b),
                block_public_policy: Observed::Known(c),
                restrict_public_buckets: Observed::Known(e),
            })),
            policy: Observed::Known(Some(d.policy)),
            object_ownership: Observed::Known(Some(d.object_ownership)),
            // BucketOwnerEnforced: ACLs are disabled; only the owner's grant remains
            acl_grants: Observed::Known(vec![]),
            logging: Observed::Known(None),
            // S3 says whether it judges a policy public once the policy is applied
            policy_is_public: Observed::Unknown("S3 reports the policy status of a deployed bucket only".into()),
            // provision enables neither versioning nor object lock on the log buckets
            versioning: Observed::Known(None),
            mfa_delete: Observed::Known(None),
            object_lock: Observed::Known(None),
        });
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        vec![Output { name: cx.at("name"), node: cx.id.to_string(), attr: "name".into() }]
    }
}

/// Drift of the stack's buckets: default encryption, public access block, ownership and the
/// policy (by meaning, with the live account). Lifecycle expiry is not in the model yet.
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    use serde_json::json;
    d.each(&desired.s3.buckets, &live.s3.buckets, |d, w, g| {
        let at = d.setting(&w.meta, "");
        fn algos(b: &crate::model::s3::Bucket) -> Result<Option<Vec<String>>, &str> {
            b.encryption.get().map(|r| r.as_ref().map(|r| r.iter().map(|x| x.algorithm.clone()).collect()))
        }
        match algos(g) {
            Ok(v) => d.field(&g.meta, "encryption", &at, json!(algos(w).ok()), json!(v)),
            Err(e) => d.unknown(&g.meta, "encryption", &at, e),
        }
        d.observed(&g.meta, "public_access_block", &at, json!(w.public_access_block.known()), &g.public_access_block);
        d.observed(&g.meta, "object_ownership", &at, json!(w.object_ownership.known()), &g.object_ownership);
        let want = w.policy.known().cloned().flatten().map(|p| crate::drift::with_account(&p, &g.meta.account));
        match g.policy.get() {
            Ok(got) => {
                let meaning = |p: &Option<serde_json::Value>| p.as_ref().map(crate::semantics::policy::meaning);
                let got_name = g.meta.name.clone().unwrap_or_default();
                let want = want.map(|p| serde_json::from_str(&p.to_string().replace(w.meta.name.as_deref().unwrap_or_default(), &got_name)).unwrap_or(p));
                if meaning(&want) != meaning(got) {
                    d.field(&g.meta, "policy", &at, json!("the stack's bucket policy"), json!("a different policy"));
                }
            }
            Err(e) => d.unknown(&g.meta, "policy", &at, e),
        }
    });
}

#[derive(Debug, Clone)]
struct BucketNode {
    spec: Bucket,
    /// `<project>-<stack>-<id>`; the account is appended at run time.
    base: String,
}

crate::node_ops!(BucketNode, "s3:bucket");

const LIFECYCLE_RULE: &str = "expire-logs";

impl BucketNode {
    fn name(&self, ctx: &Ctx) -> String {
        bucket_name(&self.base, &ctx.account)
    }

    async fn exists(&self, ctx: &Ctx, name: &str) -> Result<bool> {
        let out = ctx.clients.s3.head_bucket().bucket(name).send().await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
            Err(e) => Err(e).ctx("s3", "HeadBucket", name),
        }
    }

    async fn tags(&self, ctx: &Ctx, name: &str) -> Result<Vec<(String, String)>> {
        let out = ctx.clients.s3.get_bucket_tagging().bucket(name).send().await.found("s3", "GetBucketTagging", name, &["NoSuchTagSet"])?;
        Ok(out.map(|o| o.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()).unwrap_or_default())
    }

    async fn changes(&self, ctx: &Ctx, name: &str) -> Result<Vec<Change>> {
        let s3 = &ctx.clients.s3;
        let mut c = Vec::new();
        let enc = s3.get_bucket_encryption().bucket(name).send().await.found(
            "s3",
            "GetBucketEncryption",
            name,
            &["ServerSideEncryptionConfigurationNotFoundError"],
        )?;
        let algo = enc
            .as_ref()
            .and_then(|e| e.server_side_encryption_configuration())
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_string());
        diff(&mut c, "encryption", Some("AES256".to_string()), algo);
        let pab =
            s3.get_public_access_block().bucket(name).send().await.found("s3", "GetPublicAccessBlock", name, &["NoSuchPublicAccessBlockConfiguration"])?;
        let flags = pab
            .as_ref()
            .and_then(|p| p.public_access_block_configuration())
            .map(|p| [p.block_public_acls(), p.ignore_public_acls(), p.block_public_policy(), p.restrict_public_buckets()].map(|f| f.unwrap_or(false)));
        diff(&mut c, "public_access_block", Some([true; 4]), flags);
        let own = s3.get_bucket_ownership_controls().bucket(name).send().await.found(
            "s3",
            "GetBucketOwnershipControls",
            name,
            &["OwnershipControlsNotFoundError"],
        )?;
        let own = own.as_ref().and_then(|o| o.ownership_controls()).and_then(|o| o.rules().first()).map(|r| r.object_ownership().as_str().to_string());
        diff(&mut c, "object_ownership", Some("BucketOwnerEnforced".to_string()), own);
        let pol = s3.get_bucket_policy().bucket(name).send().await.found("s3", "GetBucketPolicy", name, &["NoSuchBucketPolicy"])?;
        let want = bucket_policy(&ctx.partition, &ctx.account, name, &self.spec);
        if !pol.as_ref().and_then(|p| p.policy()).is_some_and(|p| policy::same(p, &want)) {
            c.push(Change::new("policy", "the stack's bucket policy", "a different policy"));
        }
        let lc = s3.get_bucket_lifecycle_configuration().bucket(name).send().await.found(
            "s3",
            "GetBucketLifecycleConfiguration",
            name,
            &["NoSuchLifecycleConfiguration"],
        )?;
        let days = lc
            .as_ref()
            .and_then(|l| l.rules().iter().find(|r| r.status() == &ExpirationStatus::Enabled && r.expiration().and_then(|e| e.days()).is_some()))
            .and_then(|r| r.expiration().and_then(|e| e.days()));
        diff(&mut c, "retention_days", Some(self.spec.retention_days as i32), days);
        Ok(c)
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let name = self.name(ctx);
        if !self.exists(ctx, &name).await? {
            return Ok(Found::Absent);
        }
        let live = self.tags(ctx, &name).await?;
        let pairs = || live.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        ctx.claim(id, "s3:bucket", &name, pairs())?;
        let mut changes = self.changes(ctx, &name).await?;
        changes.extend(tag_changes(&ctx.tags(id, &name), pairs()));
        Ok(Found::Present { attrs: bucket_attrs(ctx, &name), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let s3 = &ctx.clients.s3;
        let name = self.name(ctx);
        if let Found::Absent = found {
            let mut create = s3.create_bucket().bucket(&name).object_ownership(ObjectOwnership::BucketOwnerEnforced);
            // us-east-1 takes no location constraint (CreateBucket API reference)
            if ctx.region != "us-east-1" {
                let cfg = CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(ctx.region.as_str())).build();
                create = create.create_bucket_configuration(cfg);
            }
            // the bucket's tags are put right after; until then it is journalled
            ctx.journal_begin(id, &name).await?;
            create.send().await.ctx("s3", "CreateBucket", &name)?;
        }
        let tags: Vec<Tag> = ctx.tags(id, &name).iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect::<std::result::Result<_, _>>()?;
        s3.put_bucket_tagging().bucket(&name).tagging(Tagging::builder().set_tag_set(Some(tags)).build()?).send().await.ctx("s3", "PutBucketTagging", &name)?;
        if let Found::Absent = found {
            ctx.journal_end(id).await?;
        }
        s3.put_public_access_block()
            .bucket(&name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .ctx("s3", "PutPublicAccessBlock", &name)?;
        s3.put_bucket_ownership_controls()
            .bucket(&name)
            .ownership_controls(
                OwnershipControls::builder().rules(OwnershipControlsRule::builder().object_ownership(ObjectOwnership::BucketOwnerEnforced).build()?).build()?,
            )
            .send()
            .await
            .ctx("s3", "PutBucketOwnershipControls", &name)?;
        let sse = ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build()?;
        s3.put_bucket_encryption()
            .bucket(&name)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(sse).build())
                    .build()?,
            )
            .send()
            .await
            .ctx("s3", "PutBucketEncryption", &name)?;
        let doc = bucket_policy(&ctx.partition, &ctx.account, &name, &self.spec);
        s3.put_bucket_policy().bucket(&name).policy(doc.to_string()).send().await.ctx("s3", "PutBucketPolicy", &name)?;
        let rule = LifecycleRule::builder()
            .id(LIFECYCLE_RULE)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .expiration(LifecycleExpiration::builder().days(self.spec.retention_days as i32).build())
            .build()?;
        s3.put_bucket_lifecycle_configuration()
            .bucket(&name)
            .lifecycle_configuration(BucketLifecycleConfiguration::builder().rules(rule).build()?)
            .send()
            .await
            .ctx("s3", "PutBucketLifecycleConfiguration", &name)?;
        Ok(bucket_attrs(ctx, &name))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let s3 = &ctx.clients.s3;
        let name = self.name(ctx);
        if !self.exists(ctx, &name).await? {
            return Ok(None);
        }
        let live = self.tags(ctx, &name).await?;
        if !ctx.owns(id, live.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            tracing::warn!("bucket {name} does not carry this stack's tags; left alone");
            return Ok(None);
        }
        loop {
            let page = s3.list_objects_v2().bucket(&name).max_keys(1000).send().await.ctx("s3", "ListObjectsV2", &name)?;
            let keys: Vec<String> = page.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect();
            if keys.is_empty() {
                break;
            }
            if !self.spec.force_destroy {
                return Err(Error::usage(format!(
                    "bucket {name} is not empty; destroy deletes a bucket's objects only with force_destroy = true: empty it yourself (or set force_destroy), then run destroy again"
                )));
            }
            let objects = keys.iter().map(|k| ObjectIdentifier::builder().key(k).build()).collect::<std::result::Result<Vec<_>, _>>()?;
            s3.delete_objects().bucket(&name).delete(Delete::builder().set_objects(Some(objects)).quiet(true).build()?).send().await.ctx(
                "s3",
                "DeleteObjects",
                &name,
            )?;
        }
        s3.delete_bucket().bucket(&name).send().await.ctx("s3", "DeleteBucket", &name)?;
        Ok(Some(name))
    }
}

fn bucket_attrs(ctx: &Ctx, name: &str) -> Attrs {
    attrs([("name", name.to_string()), ("arn", format!("arn:{}:s3:::{name}", ctx.partition))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::cache::testing::{cx_of, stack_with};
    use crate::semantics::policy::{denies_insecure_transport, parse_statements, service_principals};

    fn problems(extra: &str) -> Vec<String> {
        let stack = stack_with(&format!("[buckets.alb-logs]\n{extra}"));
        stack.spec.buckets["alb-logs"].validate(&cx_of(&stack, "alb-logs")).into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn validation_messages() {
        assert_eq!(problems(""), Vec::<String>::new());
        let cases = [
            ("log_delivery = \"cloudfront\"\n", "buckets.alb-logs.log_delivery must be \"elb\" or \"none\" (got \"cloudfront\")"),
            ("prefix = \"/alb\"\n", "buckets.alb-logs.prefix must not start or end with \"/\" nor contain \"//\" (got \"/alb\")"),
            (
                "prefix = \"x/AWSLogs\"\n",
                "buckets.alb-logs.prefix must not contain \"AWSLogs\": ELB adds AWSLogs/<account>/ after the prefix (got \"x/AWSLogs\")",
            ),
            ("prefix = \"a b\"\n", "buckets.alb-logs.prefix must be at most 200 letters, digits, '-', '_', '.' or '/' (got \"a b\")"),
            ("retention_days = 30\n", "buckets.alb-logs.retention_days 30 is less than 365, the log retention fedramp-moderate requires (min_retention_days)"),
            ("retention_days = 0\n", "buckets.alb-logs.retention_days must be at least 1"),
        ];
        for (extra, want) in cases {
            assert_eq!(problems(extra), vec![want.to_string()], "{extra}");
        }
    }

    #[test]
    fn the_name_carries_the_account() {
        let stack = stack_with("[buckets.alb-logs]\n");
        let d = desired_bucket(&stack.spec.buckets["alb-logs"], &cx_of(&stack, "alb-logs"));
        assert_eq!(d.meta.id, "tapaudit-t-alb-logs-000000000000");
        assert_eq!(d.meta.arn, "arn:aws:s3:::tapaudit-t-alb-logs-000000000000");
        assert_eq!((d.encryption_algorithm.as_str(), d.object_ownership.as_str(), d.expiration_days), ("AES256", "BucketOwnerEnforced", 365));
        assert_eq!(bucket_name("tapaudit-t-alb-logs", "123456789012"), "tapaudit-t-alb-logs-123456789012");
    }

    #[test]
    fn the_policy_denies_plaintext_and_lets_elb_write_its_path_only() {
        let mut b = Bucket { prefix: "alb".into(), ..Bucket::default() };
        let p = bucket_policy("aws", "123456789012", "logs", &b);
        assert!(denies_insecure_transport(&p, &["s3:GetObject", "s3:PutObject"], Some("arn:aws:s3:::logs")));
        let st = parse_statements(&p).unwrap();
        assert_eq!(service_principals(st[1]), vec![ELB_LOG_DELIVERY.to_string()]);
        assert_eq!(st[1]["Action"], "s3:PutObject");
        assert_eq!(st[1]["Resource"], "arn:aws:s3:::logs/alb/AWSLogs/123456789012/*");
        b.prefix.clear();
        assert_eq!(parse_statements(&bucket_policy("aws", "1", "logs", &b)).unwrap()[1]["Resource"], "arn:aws:s3:::logs/AWSLogs/1/*");
        b.log_delivery = "none".into();
        assert_eq!(parse_statements(&bucket_policy("aws", "1", "logs", &b)).unwrap().len(), 1);
    }
}
