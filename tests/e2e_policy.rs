//! End to end: resource, trust and identity policies created directly with the SDK, judged the
//! way AWS evaluates them by an account-wide scan through the built binary; and the dev
//! stack's own roles and key policy under the same checks.

mod support;

use serde_json::{json, Value};
use support::{status_of, Emulator, ACCOUNT};

fn message_of(report: &Value, control: &str, resource: &str) -> String {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control_id"] == control && f["resource"]["id"] == resource)
        .map(|f| f["message"].to_string())
        .unwrap_or_default()
}

fn root_admin() -> Value {
    json!({"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"})
}

fn key_policy(extra: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": [root_admin(), extra]}).to_string()
}

fn ecs_trust(condition: Option<Value>) -> String {
    let mut s = json!({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"});
    if let Some(c) = condition {
        s["Condition"] = c;
    }
    json!({"Version": "2012-10-17", "Statement": [s]}).to_string()
}

fn own_account() -> Option<Value> {
    Some(json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}}))
}

#[tokio::test(flavor = "multi_thread")]
async fn policies_are_judged_as_aws_evaluates_them() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;

    // ---- KMS key policies
    let kms = aws_sdk_kms::Client::new(&cfg);
    let key = |policy: String| {
        let kms = kms.clone();
        async move { kms.create_key().policy(policy).send().await.unwrap().key_metadata().unwrap().key_id().to_string() }
    };
    let open = |condition: Value| json!({"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*", "Condition": condition});
    let tls_only = key(key_policy(open(json!({"Bool": {"aws:SecureTransport": "true"}})))).await;
    let caller_account = key(key_policy(open(json!({"StringEquals": {"kms:CallerAccount": ACCOUNT}})))).await;
    let any_root =
        key(key_policy(json!({"Sid": "AnyRoot", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "kms:Decrypt", "Resource": "*"})))
            .await;
    let via_service_only = key(key_policy(open(json!({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})))).await;

    // ---- IAM roles
    let iam = aws_sdk_iam::Client::new(&cfg);
    let role = |name: &'static str, trust: String, inline: Option<Value>| {
        let iam = iam.clone();
        async move {
            iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.unwrap();
            if let Some(doc) = inline {
                iam.put_role_policy().role_name(name).policy_name("p").policy_document(doc.to_string()).send().await.unwrap();
            }
        }
    };
    let doc = |statement: Value| json!({"Version": "2012-10-17", "Statement": [statement]});
    role("not-action-admin", ecs_trust(own_account()), Some(doc(json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})))).await;
    role("kinesis-reader", ecs_trust(own_account()), Some(doc(json!({"Effect": "Allow", "Action": "kinesis:Get*", "Resource": "*"})))).await;
    role("no-source-account", ecs_trust(None), None).await;
    role("source-if-exists", ecs_trust(Some(json!({"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}))), None).await;
    role(
        "least-privilege",
        ecs_trust(own_account()),
        Some(doc(json!({"Effect": "Allow", "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator"], "Resource": format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/ingest")}))),
    )
    .await;
    // a customer-managed policy whose default version is harmless but whose first version is not
    let versions = iam
        .create_policy()
        .policy_name("versioned")
        .policy_document(doc(json!({"Effect": "Allow", "Action": "*", "Resource": "*"})).to_string())
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    iam.create_policy_version()
        .policy_arn(&versions)
        .policy_document(doc(json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"})).to_string())
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    role("attached-versioned", ecs_trust(own_account()), None).await;
    iam.attach_role_policy().role_name("attached-versioned").policy_arn(&versions).send().await.unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let run = emu.run(&["scan", "--regions", "us-east-1", "--format", "json", "--output-dir", tmp.path().to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap()).unwrap();

    let expect = [
        ("kms-key-policy-no-wildcard-principal", tls_only.as_str(), "fail"),
        ("kms-key-policy-no-wildcard-principal", caller_account.as_str(), "pass"),
        ("kms-key-policy-no-wildcard-principal", any_root.as_str(), "fail"),
        ("kms-key-policy-no-wildcard-principal", via_service_only.as_str(), "fail"),
        ("iam-no-admin-wildcard", "not-action-admin", "fail"),
        ("iam-no-service-wildcard-on-data-services", "not-action-admin", "fail"),
        ("iam-trust-policy-expected-principals", "not-action-admin", "pass"),
        ("iam-no-admin-wildcard", "kinesis-reader", "pass"),
        ("iam-no-service-wildcard-on-data-services", "kinesis-reader", "fail"),
        ("iam-trust-policy-expected-principals", "no-source-account", "fail"),
        ("iam-trust-policy-expected-principals", "source-if-exists", "fail"),
        ("iam-no-admin-wildcard", "least-privilege", "pass"),
        ("iam-no-service-wildcard-on-data-services", "least-privilege", "pass"),
        ("iam-trust-policy-expected-principals", "least-privilege", "pass"),
        ("iam-no-admin-wildcard", "attached-versioned", "pass"),
    ];
    let mut wrong = vec![];
    for (control, id, want) in expect {
        let got = status_of(&r, control, id);
        if got != want {
            wrong.push(format!("{control} on {id}: want {want}, got {got}: {}", message_of(&r, control, id)));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(
        message_of(&r, "kms-key-policy-no-wildcard-principal", &tls_only).contains("aws:securetransport does not restrict who calls"),
        "the message says why the condition does not count"
    );
    assert!(message_of(&r, "iam-no-service-wildcard-on-data-services", "kinesis-reader").contains("kinesis:GetRecords (via kinesis:Get*)"));
}

/// The dev stack provisions roles and a key policy that must pass the AWS-exact checks
/// (its pre-deployment check runs the same controls, so provision itself would refuse).
#[tokio::test(flavor = "multi_thread")]
async fn dev_stack_roles_and_key_policy_pass_the_policy_checks() {
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev", "--output", "json"]).ok("provision");
    let tmp = tempfile::tempdir().unwrap();
    let run = emu.run(&["scan", "--stack", "dev", "--format", "json", "--output-dir", tmp.path().to_str().unwrap()]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap()).unwrap();
    let ours = [
        "kms-key-policy-no-wildcard-principal",
        "iam-no-admin-wildcard",
        "iam-no-service-wildcard-on-data-services",
        "iam-trust-policy-expected-principals",
        "efs-tls-enforced",
    ];
    let findings: Vec<&Value> = r["findings"].as_array().unwrap().iter().filter(|f| ours.contains(&f["control_id"].as_str().unwrap())).collect();
    let roles = findings.iter().filter(|f| f["resource"]["type"] == "iam:role").count();
    assert!(roles >= 3 * 4, "every dev role is judged by the three IAM controls ({roles})");
    assert!(findings.iter().any(|f| f["control_id"] == "kms-key-policy-no-wildcard-principal" && f["status"] == "pass"), "the data key policy passes");
    let not_passing: Vec<(String, String, String)> = findings
        .iter()
        .filter(|f| f["status"] != "pass" && f["status"] != "not_applicable")
        .map(|f| {
            (
                f["control_id"].as_str().unwrap().to_string(),
                f["resource"]["logical_id"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(not_passing.is_empty(), "{not_passing:#?}");
}
