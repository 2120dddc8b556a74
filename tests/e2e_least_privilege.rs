//! End to end under the emulator's IAM enforcement: the policies `tapaudit policy scan` and
//! `tapaudit policy provision` print are enough, and no more.
//!
//! Each test starts an emulator that lets every request through while users and resources are
//! set up, then enforces SigV4 and IAM policies for the rest of the test.
//!
//! What the emulator can and cannot prove (moto 5.2.5, see ../shared/notes/moto.md):
//! - It evaluates actions, explicit Deny and `NotAction` as AWS does, so "this action set is
//!   enough" and "nothing else is allowed" are proven here for every service tapaudit uses
//!   (API Gateway, EFS and GuardDuty included: scripts/emulator/moto_gaps.py fixes moto's
//!   signature check for requests without a body, which failed for every user).
//! - It authorizes every request of most services against the resource `*` (IAM against the
//!   role's ARN once the role exists), so a statement scoped to ARNs never matches there. The
//!   provision test therefore attaches the generated policy with each `Resource` widened to
//!   `*` (actions, conditions and Deny statements unchanged); the scoping to the stack's names
//!   and tags is proven by the unit tests of `tapaudit::permissions` with AWS's semantics.
//! - It names some actions differently from IAM: API Gateway by operation (`apigateway:GetRestApis`
//!   where IAM authorizes `apigateway:GET` on a path) and a few S3 ones (`s3:HeadBucket` where
//!   IAM authorizes `s3:ListBucket`; bucket subresources it does not map fall back to
//!   `s3:ListBucket` for GET and `s3:CreateBucket` for PUT). [`spelled_for_moto`] adds moto's
//!   spelling beside every such action the generated policy grants, and nothing else.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use support::Emulator;

type Keys = (String, String);

/// An IAM user whose only permissions are `policy` (a managed policy attached to it).
async fn user_with(emu: &Emulator, name: &str, policy: &Value) -> Keys {
    user_with_all(emu, name, std::slice::from_ref(policy)).await
}

/// An IAM user whose only permissions are these managed policies.
async fn user_with_all(emu: &Emulator, name: &str, policies: &[Value]) -> Keys {
    let iam = aws_sdk_iam::Client::new(&emu.sdk().await);
    iam.create_user().user_name(name).send().await.unwrap();
    for (i, policy) in policies.iter().enumerate() {
        let created = iam.create_policy().policy_name(format!("{name}-policy-{i}")).policy_document(policy.to_string()).send().await.unwrap();
        iam.attach_user_policy().user_name(name).policy_arn(created.policy().unwrap().arn().unwrap()).send().await.unwrap();
    }
    let key = iam.create_access_key().user_name(name).send().await.unwrap();
    let key = key.access_key().unwrap();
    (key.access_key_id().to_string(), key.secret_access_key().to_string())
}

fn admin_policy() -> Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

/// The policy with every statement's resources widened to `*` (see the module doc).
fn resources_widened(policy: &Value) -> Value {
    let mut p = policy.clone();
    for st in p["Statement"].as_array_mut().unwrap() {
        st["Resource"] = Value::String("*".into());
    }
    p
}

/// moto's spellings of IAM actions (see the module doc): (IAM action, moto's actions).
const MOTO_SPELLINGS: &[(&str, &[&str])] = &[
    ("s3:ListBucket", &["s3:HeadBucket"]),
    ("s3:GetBucketPublicAccessBlock", &["s3:GetPublicAccessBlock"]),
    ("s3:PutBucketPublicAccessBlock", &["s3:PutPublicAccessBlock"]),
    ("s3:GetAccountPublicAccessBlock", &["s3:GetPublicAccessBlock"]),
    ("s3:GetEncryptionConfiguration", &["s3:ListBucket"]),
    ("s3:GetBucketOwnershipControls", &["s3:ListBucket"]),
    ("s3:GetBucketObjectLockConfiguration", &["s3:ListBucket"]),
    ("s3:PutEncryptionConfiguration", &["s3:CreateBucket"]),
    ("s3:PutBucketOwnershipControls", &["s3:CreateBucket"]),
];

/// The policy with moto's spelling added beside each action it grants that moto names
/// differently (API Gateway: the operations of the registry whose IAM action the policy grants).
fn spelled_for_moto(policy: &Value) -> Value {
    let mut p = policy.clone();
    let mut extra = BTreeSet::new();
    for st in p["Statement"].as_array().unwrap().iter().filter(|st| st["Effect"] == "Allow") {
        for a in st["Action"].as_array().unwrap().iter().filter_map(Value::as_str) {
            for (iam, moto) in MOTO_SPELLINGS {
                if *iam == a {
                    extra.extend(moto.iter().map(|m| m.to_string()));
                }
            }
            if a.starts_with("apigateway:") {
                for registry in [tapaudit::aws::operations::SCAN, tapaudit::aws::operations::PROVISION] {
                    for s in registry.iter().filter(|s| s.prefix == "apigateway") {
                        for o in s.ops.iter().filter(|o| o.actions(s.prefix).iter().any(|x| x == a)) {
                            extra.insert(format!("apigateway:{}", o.name));
                        }
                    }
                }
            }
        }
    }
    if !extra.is_empty() {
        p["Statement"].as_array_mut().unwrap().push(serde_json::json!({"Sid": "MotoSpellings", "Effect": "Allow", "Action": extra, "Resource": "*"}));
    }
    p
}

fn scan_as(emu: &Emulator, keys: &Keys) -> (Value, i32, String) {
    let tmp = tempfile::tempdir().unwrap();
    let run = emu.run_as(keys, &["scan", "--regions", "us-east-1", "--format", "json", "--output-dir", tmp.path().to_str().unwrap()]);
    let text = std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap_or_else(|e| panic!("no report ({e}): {}", run.stderr));
    (serde_json::from_str(&text).unwrap(), run.code, run.stderr)
}

fn verdicts(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["control_id"].as_str().unwrap(),
                f["resource"]["arn"].as_str().unwrap_or(f["resource"]["id"].as_str().unwrap()),
                f["status"].as_str().unwrap()
            )
        })
        .collect()
}

fn errors(report: &Value) -> Vec<String> {
    report["errors"].as_array().unwrap().iter().map(|e| format!("{} {}: {} {}", e["service"], e["operation"], e["code"], e["message"])).collect()
}

fn policy_from(emu: &Emulator, args: &[&str]) -> Value {
    emu.run(args).ok("policy").json()
}

fn is_denied<T, E: std::fmt::Debug>(r: Result<T, E>) -> bool {
    match r {
        Ok(_) => false,
        Err(e) => {
            let text = format!("{e:?}");
            text.contains("AccessDenied") || text.contains("403") || text.contains("not authorized")
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_scan_policy_sees_what_an_administrator_sees_and_changes_nothing() {
    let emu = Emulator::start_enforcing();
    // a stack with every kind of resource (VPC, KMS, RDS cluster, cache, EFS, ALB + S3 logs,
    // ECS, API Gateway, Kinesis, logs) and the account-level services' detail paths
    emu.run(&["provision", "--stack", "ferpa"]).ok("provision ferpa");
    let cfg = emu.sdk().await;
    let s3 = tapaudit::aws::Clients::new(&cfg).s3;
    s3.create_bucket().bucket("trail-logs-lp").send().await.unwrap();
    let ct = aws_sdk_cloudtrail::Client::new(&cfg);
    ct.create_trail().name("org-trail").s3_bucket_name("trail-logs-lp").is_multi_region_trail(true).send().await.unwrap();
    ct.start_logging().name("org-trail").send().await.unwrap();
    aws_sdk_guardduty::Client::new(&cfg).create_detector().enable(true).send().await.unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vol = ec2.create_volume().availability_zone("us-east-1a").size(1).send().await.unwrap();
    ec2.create_snapshot().volume_id(vol.volume_id().unwrap()).send().await.unwrap();

    let admin = user_with(&emu, "admin", &admin_policy()).await;
    let scan_policy = policy_from(&emu, &["policy", "scan"]);
    let auditor = user_with(&emu, "auditor", &spelled_for_moto(&scan_policy)).await;
    let secret = aws_sdk_secretsmanager::Client::new(&cfg).list_secrets().send().await.unwrap().secret_list()[0].arn().unwrap().to_string();
    emu.enforce_iam();

    let (by_admin, admin_code, admin_err) = scan_as(&emu, &admin);
    assert!(errors(&by_admin).is_empty(), "the administrator's scan has access errors (emulator gap?): {:#?}\n{admin_err}", errors(&by_admin));
    let (by_auditor, auditor_code, auditor_err) = scan_as(&emu, &auditor);
    assert!(errors(&by_auditor).is_empty(), "the scan policy lacks permissions: {:#?}\n{auditor_err}", errors(&by_auditor));
    assert_eq!(auditor_code, admin_code);
    let (a, b) = (verdicts(&by_admin), verdicts(&by_auditor));
    assert_eq!(a.difference(&b).collect::<Vec<_>>(), Vec::<&String>::new(), "verdicts the auditor did not reach");
    assert_eq!(b.difference(&a).collect::<Vec<_>>(), Vec::<&String>::new(), "verdicts only the auditor reached");
    assert!(a.len() > 100, "a scan of a whole blueprint: {} findings", a.len());

    // ... and it can change nothing, nor read a secret's value
    let run = emu.run_as(&auditor, &["provision", "--stack", "dev"]);
    assert_ne!(run.code, 0, "the auditor provisioned a stack:\n{}", run.stderr);
    assert!(run.stderr.contains("AccessDenied") || run.stderr.contains("not authorized") || run.stderr.contains("403"), "{}", run.stderr);
    let run = emu.run_as(&auditor, &["destroy", "--stack", "ferpa", "--yes"]);
    assert_ne!(run.code, 0, "the auditor destroyed a stack:\n{}", run.stderr);
    let as_auditor = emu.sdk_as(&auditor).await;
    assert!(is_denied(aws_sdk_secretsmanager::Client::new(&as_auditor).get_secret_value().secret_id(&secret).send().await), "the auditor read a secret value");
    assert!(is_denied(aws_sdk_ec2::Client::new(&as_auditor).create_vpc().cidr_block("10.9.0.0/16").send().await));
    assert!(is_denied(tapaudit::aws::Clients::new(&as_auditor).s3.delete_bucket().bucket("trail-logs-lp").send().await));
    assert!(is_denied(aws_sdk_iam::Client::new(&as_auditor).create_user().user_name("mallory").send().await));
    // the failed attempts left everything in place
    let (after, _, _) = scan_as(&emu, &admin);
    assert_eq!(verdicts(&after), a, "the auditor's attempts changed the account");
}

/// Provision, converge again and destroy one blueprint as a user holding only the generated
/// provision policy of that stack.
async fn provision_and_destroy_with_the_generated_policy(stack: &str) {
    let emu = Emulator::start_enforcing();
    // as a team attaches it to a role: managed policies of at most 6,144 characters each
    let parts = policy_from(&emu, &["policy", "provision", "--stack", stack, "--split"]);
    let parts: Vec<Value> = parts.as_array().unwrap().iter().map(|p| spelled_for_moto(&resources_widened(p))).collect();
    let provisioner = user_with_all(&emu, "provisioner", &parts).await;
    emu.enforce_iam();

    emu.run_as(&provisioner, &["provision", "--stack", stack]).ok("provision with the generated policy");
    let again = emu.run_as(&provisioner, &["provision", "--stack", stack, "--output", "json"]).ok("converge with the generated policy");
    let steps = again.json()["steps"].as_array().unwrap().clone();
    assert!(steps.iter().all(|s| s["action"] == "unchanged"), "a second run changed something: {steps:#?}");
    // nothing beyond the stack's work: no user, no secret value
    let as_provisioner = emu.sdk_as(&provisioner).await;
    assert!(is_denied(aws_sdk_iam::Client::new(&as_provisioner).create_user().user_name("mallory").send().await));
    let secrets = aws_sdk_secretsmanager::Client::new(&as_provisioner);
    assert!(is_denied(secrets.get_secret_value().secret_id("anything").send().await), "the provisioner may read secret values");
    emu.run_as(&provisioner, &["destroy", "--stack", stack, "--yes"]).ok("destroy with the generated policy");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_provision_policy_builds_and_destroys_the_fedramp_pipeline() {
    provision_and_destroy_with_the_generated_policy("dev").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_provision_policy_builds_and_destroys_the_iot_pipeline() {
    provision_and_destroy_with_the_generated_policy("iot").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_provision_policy_builds_and_destroys_the_ferpa_system() {
    provision_and_destroy_with_the_generated_policy("ferpa").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_provision_policy_builds_and_destroys_the_lgpd_system() {
    provision_and_destroy_with_the_generated_policy("lgpd").await;
}
