//! End to end: the account around the pipeline (identities, the audit trail, storage, detection)
//! through the built binary. Resources are created with the SDK, good and bad side by side, and
//! the account-wide scan must judge each; a freshly provisioned stack's account reports the
//! emulator account's gaps (no password policy, no trail, ...) as failures, never as errors.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::{status_of, Emulator, ACCOUNT};

/// Scan the whole account (us-east-1) and return the JSON report and the exit code.
fn scan_account(emu: &Emulator) -> (Value, i32, String) {
    let tmp = tempfile::tempdir().unwrap();
    let run = emu.run(&["scan", "--regions", "us-east-1", "--format", "json", "--output-dir", tmp.path().to_str().unwrap()]);
    let text = std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap_or_else(|e| panic!("no report ({e}): {}", run.stderr));
    (serde_json::from_str(&text).unwrap(), run.code, run.stderr)
}

/// Findings of a status, as "control resource: message" lines (for assertion messages).
fn with_status(r: &Value, status: &str) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == status)
        .map(|f| format!("{} {}: {}", f["control_id"].as_str().unwrap(), f["resource"]["id"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect()
}

/// S3 and S3 Control clients as the product builds them against an endpoint URL (path-style S3;
/// S3 Control at the URL as given).
fn s3(cfg: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    tapaudit::aws::Clients::new(cfg).s3
}

fn s3control(cfg: &aws_config::SdkConfig) -> aws_sdk_s3control::Client {
    tapaudit::aws::Clients::new(cfg).s3control
}

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

#[tokio::test(flavor = "multi_thread")]
async fn the_account_baseline_is_judged_on_resources_created_with_the_sdk() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;

    // ---- IAM: a console user without MFA, one with MFA but an inline admin policy and a
    // stale key, a group with AdministratorAccess, a strong password policy
    let iam = aws_sdk_iam::Client::new(&cfg);
    for user in ["alice", "bob"] {
        iam.create_user().user_name(user).send().await.unwrap();
        iam.create_login_profile().user_name(user).password("Correct-Horse-Battery-9").send().await.unwrap();
    }
    let mfa = iam.create_virtual_mfa_device().virtual_mfa_device_name("bob-mfa").send().await.unwrap();
    let serial = mfa.virtual_mfa_device().unwrap().serial_number().to_string();
    iam.enable_mfa_device().user_name("bob").serial_number(&serial).authentication_code1("123456").authentication_code2("654321").send().await.unwrap();
    let admin_doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    iam.put_user_policy().user_name("bob").policy_name("everything").policy_document(admin_doc.to_string()).send().await.unwrap();
    iam.create_access_key().user_name("bob").send().await.unwrap();
    iam.create_group().group_name("admins").send().await.unwrap();
    iam.attach_group_policy().group_name("admins").policy_arn(ADMIN).send().await.unwrap();
    iam.create_group().group_name("readers").send().await.unwrap();
    iam.attach_group_policy().group_name("readers").policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").send().await.unwrap();
    iam.add_user_to_group().group_name("readers").user_name("alice").send().await.unwrap();
    iam.update_account_password_policy()
        .minimum_password_length(14)
        .require_symbols(true)
        .require_numbers(true)
        .require_uppercase_characters(true)
        .require_lowercase_characters(true)
        .max_password_age(90)
        .password_reuse_prevention(24)
        .send()
        .await
        .unwrap();

    // ---- KMS key for the trail, a log group and role for its CloudWatch delivery
    let kms = aws_sdk_kms::Client::new(&cfg);
    let key = kms.create_key().description("trail").send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_string();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    logs.create_log_group().log_group_name("/audit/trail").send().await.unwrap();
    let log_group = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/audit/trail:*");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]});
    let role = iam.create_role().role_name("trail-to-logs").assume_role_policy_document(trust.to_string()).send().await.unwrap();
    let role_arn = role.role().unwrap().arn().to_string();

    // ---- S3: the trail's bucket (access-logged, private, encrypted, TLS only) and a bare one
    let s3 = s3(&cfg);
    for b in ["audit-trail-logs", "audit-access-logs", "bare-bucket", "bare-trail-logs"] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    // S3 log delivery may write to the access-log bucket
    let log_delivery = "uri=http://acs.amazonaws.com/groups/s3/LogDelivery";
    s3.put_bucket_acl().bucket("audit-access-logs").grant_write(log_delivery).grant_read_acp(log_delivery).send().await.unwrap();
    s3.put_bucket_logging()
        .bucket("audit-trail-logs")
        .bucket_logging_status(
            aws_sdk_s3::types::BucketLoggingStatus::builder()
                .logging_enabled(aws_sdk_s3::types::LoggingEnabled::builder().target_bucket("audit-access-logs").target_prefix("trail/").build().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let public = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bare-bucket/*"}]});
    s3.put_bucket_policy().bucket("bare-bucket").policy(public.to_string()).send().await.unwrap();
    let all_on = |b: aws_sdk_s3control::types::builders::PublicAccessBlockConfigurationBuilder| {
        b.block_public_acls(true).ignore_public_acls(true).block_public_policy(true).restrict_public_buckets(true).build()
    };
    s3control(&cfg)
        .put_public_access_block()
        .account_id(ACCOUNT)
        .public_access_block_configuration(all_on(aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()))
        .send()
        .await
        .unwrap();

    // ---- CloudTrail: one compliant multi-region trail, one bare single-region trail, stopped
    let ct = aws_sdk_cloudtrail::Client::new(&cfg);
    ct.create_trail()
        .name("org-audit")
        .s3_bucket_name("audit-trail-logs")
        .is_multi_region_trail(true)
        .include_global_service_events(true)
        .enable_log_file_validation(true)
        .kms_key_id(&key)
        .cloud_watch_logs_log_group_arn(&log_group)
        .cloud_watch_logs_role_arn(&role_arn)
        .send()
        .await
        .unwrap();
    ct.start_logging().name("org-audit").send().await.unwrap();
    // AWS gives a new trail a selector for all management events; moto gives it none
    ct.put_event_selectors()
        .trail_name("org-audit")
        .event_selectors(
            aws_sdk_cloudtrail::types::EventSelector::builder()
                .read_write_type(aws_sdk_cloudtrail::types::ReadWriteType::All)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    ct.create_trail().name("bare-trail").s3_bucket_name("bare-trail-logs").send().await.unwrap();

    // ---- EBS: a public unencrypted snapshot and a private encrypted one
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let plain_vol = ec2.create_volume().availability_zone("us-east-1a").size(1).send().await.unwrap().volume_id().unwrap().to_string();
    let enc_vol =
        ec2.create_volume().availability_zone("us-east-1a").size(1).encrypted(true).kms_key_id(&key).send().await.unwrap().volume_id().unwrap().to_string();
    let public_snap = ec2.create_snapshot().volume_id(&plain_vol).send().await.unwrap().snapshot_id().unwrap().to_string();
    let private_snap = ec2.create_snapshot().volume_id(&enc_vol).send().await.unwrap().snapshot_id().unwrap().to_string();
    ec2.modify_snapshot_attribute()
        .snapshot_id(&public_snap)
        .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
        .operation_type(aws_sdk_ec2::types::OperationType::Add)
        .group_names("all")
        .send()
        .await
        .unwrap();

    // ---- RDS: an unencrypted database (private, in its own subnets) with a public manual snapshot
    let vpc = ec2.create_vpc().cidr_block("10.30.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = vec![];
    for (i, az) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let s = ec2.create_subnet().vpc_id(&vpc).cidr_block(format!("10.30.{i}.0/24")).availability_zone(*az).send().await.unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let rds = aws_sdk_rds::Client::new(&cfg);
    rds.create_db_subnet_group().db_subnet_group_name("legacy").db_subnet_group_description("legacy").set_subnet_ids(Some(subnets)).send().await.unwrap();
    rds.create_db_instance()
        .db_subnet_group_name("legacy")
        .publicly_accessible(false)
        .db_instance_identifier("legacy-db")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .master_username("legacy")
        .master_user_password("not-a-real-password-1")
        .allocated_storage(20)
        .send()
        .await
        .unwrap();
    rds.create_db_snapshot().db_instance_identifier("legacy-db").db_snapshot_identifier("legacy-export").send().await.unwrap();
    rds.modify_db_snapshot_attribute().db_snapshot_identifier("legacy-export").attribute_name("restore").values_to_add("all").send().await.unwrap();

    // ---- detection: GuardDuty on, AWS Config recording everything and delivering
    let gd = aws_sdk_guardduty::Client::new(&cfg);
    gd.create_detector().enable(true).send().await.unwrap();
    let config = aws_sdk_config::Client::new(&cfg);
    config
        .put_configuration_recorder()
        .configuration_recorder(
            aws_sdk_config::types::ConfigurationRecorder::builder()
                .name("default")
                .role_arn(&role_arn)
                .recording_group(aws_sdk_config::types::RecordingGroup::builder().all_supported(true).include_global_resource_types(true).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    config
        .put_delivery_channel()
        .delivery_channel(aws_sdk_config::types::DeliveryChannel::builder().name("default").s3_bucket_name("audit-access-logs").build())
        .send()
        .await
        .unwrap();
    config.start_configuration_recorder().configuration_recorder_name("default").send().await.unwrap();

    let (r, code, stderr) = scan_account(&emu);
    let errors = with_status(&r, "error");
    assert!(errors.is_empty(), "no verdict may be an error here: {errors:#?}\ncollection errors: {:#?}", r["errors"]);
    assert_eq!(r["errors"], json!([]), "{stderr}");
    assert_eq!(code, 1, "failures, no errors: exit 1\n{stderr}");

    let expect = [
        // identities
        ("iam-user-console-mfa", "alice", "fail"),
        ("iam-user-console-mfa", "bob", "pass"),
        ("iam-user-no-direct-policies", "alice", "pass"),
        ("iam-user-no-direct-policies", "bob", "fail"),
        ("iam-no-admin-wildcard", "bob", "fail"),
        ("iam-no-admin-wildcard", "alice", "pass"),
        ("iam-no-admin-wildcard", "admins", "fail"),
        ("iam-no-admin-wildcard", "readers", "pass"),
        ("iam-no-service-wildcard-on-data-services", "readers", "fail"),
        ("iam-access-keys-rotated", "bob", "pass"),
        ("iam-unused-credentials-disabled", "alice", "pass"),
        ("iam-password-policy-strong", ACCOUNT, "pass"),
        ("iam-root-mfa", ACCOUNT, "fail"),
        // the audit trail and its bucket
        ("cloudtrail-multi-region-logging", "us-east-1", "pass"),
        ("cloudtrail-log-file-validation", "org-audit", "pass"),
        ("cloudtrail-log-file-validation", "bare-trail", "fail"),
        ("cloudtrail-encrypted-cmk", "org-audit", "pass"),
        ("cloudtrail-encrypted-cmk", "bare-trail", "fail"),
        ("cloudtrail-cloudwatch-logs", "org-audit", "pass"),
        ("cloudtrail-cloudwatch-logs", "bare-trail", "fail"),
        ("s3-bucket-access-logging", "audit-trail-logs", "pass"),
        ("s3-bucket-access-logging", "bare-trail-logs", "fail"),
        // storage
        ("s3-account-public-access-block", ACCOUNT, "pass"),
        // the account-level block neutralises what the bucket lacks; its policy still grants *
        ("s3-bucket-public-access-block", "bare-bucket", "pass"),
        ("s3-bucket-not-public", "bare-bucket", "fail"),
        ("s3-bucket-not-public", "audit-trail-logs", "pass"),
        ("ebs-snapshot-not-public", public_snap.as_str(), "fail"),
        ("ebs-snapshot-not-public", private_snap.as_str(), "pass"),
        ("ebs-snapshot-encrypted", public_snap.as_str(), "fail"),
        ("ebs-snapshot-encrypted", private_snap.as_str(), "pass"),
        ("ebs-encryption-by-default", "us-east-1", "fail"),
        ("rds-snapshot-not-public", "legacy-export", "fail"),
        ("rds-snapshot-encrypted", "legacy-export", "fail"),
        // detection
        ("guardduty-enabled", "us-east-1", "pass"),
        ("config-recorder-enabled", "us-east-1", "pass"),
    ];
    let mut wrong = vec![];
    for (control, resource, want) in expect {
        let got = status_of(&r, control, resource);
        if got != want {
            wrong.push(format!("{control} on {resource}: {got}, expected {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // not read is never a pass: no credential a scan did not read is reported as fine
    let secrets = r.to_string();
    assert!(!secrets.contains("Correct-Horse-Battery-9") && !secrets.contains("not-a-real-password-1"), "a password reached the report");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_accounts_gaps_are_failures_not_errors() {
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev", "--output", "json"]).ok("provision dev");
    // the stack's own scan stays clean: account-level records are not part of a stack
    let tmp = tempfile::tempdir().unwrap();
    let stack = emu.run(&["scan", "--stack", "dev", "--format", "json", "--output-dir", tmp.path().to_str().unwrap()]);
    let sr: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap()).unwrap();
    assert_eq!(stack.code, 0, "{:#?}", with_status(&sr, "fail"));
    for f in sr["findings"].as_array().unwrap() {
        let t = f["resource"]["type"].as_str().unwrap_or_default();
        assert!(
            !["iam:account", "cloudtrail:region", "guardduty:region", "config:region", "ec2:ebs-defaults", "s3control:public-access-block"].contains(&t),
            "an account-level record in a stack scan: {f}"
        );
    }

    let (r, code, stderr) = scan_account(&emu);
    let errors = with_status(&r, "error");
    assert!(errors.is_empty(), "the emulator account's gaps are failures, not errors: {errors:#?}\ncollection errors: {:#?}", r["errors"]);
    assert_eq!(r["errors"], json!([]), "{stderr}");
    assert_eq!(code, 1, "{stderr}");
    for (control, resource) in [
        ("iam-password-policy-strong", ACCOUNT),
        ("iam-root-mfa", ACCOUNT),
        ("cloudtrail-multi-region-logging", "us-east-1"),
        ("guardduty-enabled", "us-east-1"),
        ("config-recorder-enabled", "us-east-1"),
        ("ebs-encryption-by-default", "us-east-1"),
        ("s3-account-public-access-block", ACCOUNT),
    ] {
        assert_eq!(status_of(&r, control, resource), "fail", "{control} on {resource}");
    }
    // the coverage view travels with the report
    let fedramp = r["summary"]["frameworks"].as_array().unwrap().iter().find(|f| f["id"] == "fedramp-moderate").expect("fedramp in scope");
    assert_eq!(fedramp["coverage"]["total"], 323);
    let checked = fedramp["coverage"]["checked"].as_u64().unwrap();
    assert!(checked > 39, "the account baseline checks more of the baseline than the pipeline alone: {checked}");
    let ia = fedramp["coverage"]["families"].as_array().unwrap().iter().find(|f| f["family"] == "IA").unwrap();
    let ia2_1 = ia["checked"].as_array().unwrap().iter().find(|c| c["id"] == "IA-2(1)").expect("IA-2(1) checked");
    assert!(ia2_1["controls"].as_array().unwrap().contains(&json!("iam-user-console-mfa")), "{ia2_1}");
}

/// "In every scanned region": GuardDuty and Config are judged per region, and a multi-region
/// trail homed in one region covers the other (where it appears as a shadow trail). A user
/// tagged for a stack is in that stack's scope; an untagged one is not.
#[tokio::test(flavor = "multi_thread")]
async fn every_scanned_region_is_judged_and_a_multi_region_trail_covers_them_all() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;
    let west = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .endpoint_url(emu.url())
        .credentials_provider(cfg.credentials_provider().unwrap())
        .build();
    s3(&cfg).create_bucket().bucket("org-trail-logs").send().await.unwrap();
    let ct = aws_sdk_cloudtrail::Client::new(&cfg);
    ct.create_trail().name("org-audit").s3_bucket_name("org-trail-logs").is_multi_region_trail(true).send().await.unwrap();
    ct.start_logging().name("org-audit").send().await.unwrap();
    let all = aws_sdk_cloudtrail::types::EventSelector::builder()
        .read_write_type(aws_sdk_cloudtrail::types::ReadWriteType::All)
        .include_management_events(true)
        .build();
    ct.put_event_selectors().trail_name("org-audit").event_selectors(all).send().await.unwrap();
    // GuardDuty in us-east-1 only; a disabled detector in eu-west-1 is not "enabled"
    aws_sdk_guardduty::Client::new(&cfg).create_detector().enable(true).send().await.unwrap();
    aws_sdk_guardduty::Client::new(&west).create_detector().enable(false).send().await.unwrap();
    // users: one tagged for the stack "dev", one not
    let iam = aws_sdk_iam::Client::new(&cfg);
    let tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().unwrap();
    iam.create_user().user_name("dev-deployer").tags(tag("tapaudit:stack", "dev")).send().await.unwrap();
    iam.create_login_profile().user_name("dev-deployer").password("Correct-Horse-Battery-9").send().await.unwrap();
    iam.create_user().user_name("someone").send().await.unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let run = emu.run(&["scan", "--regions", "us-east-1,eu-west-1", "--format", "json", "--output-dir", tmp.path().to_str().unwrap()]);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap()).unwrap();
    assert!(with_status(&r, "error").is_empty(), "{:#?}\n{}", with_status(&r, "error"), run.stderr);
    for (control, region, want) in [
        ("cloudtrail-multi-region-logging", "us-east-1", "pass"),
        ("cloudtrail-multi-region-logging", "eu-west-1", "pass"),
        ("guardduty-enabled", "us-east-1", "pass"),
        ("guardduty-enabled", "eu-west-1", "fail"),
        ("config-recorder-enabled", "us-east-1", "fail"),
        ("config-recorder-enabled", "eu-west-1", "fail"),
        ("ebs-encryption-by-default", "eu-west-1", "fail"),
    ] {
        assert_eq!(status_of(&r, control, region), want, "{control} in {region}");
    }
    let trails: Vec<&Value> = r["findings"].as_array().unwrap().iter().filter(|f| f["control_id"] == "cloudtrail-log-file-validation").collect();
    assert_eq!(trails.len(), 1, "the trail is judged once, in its home region, not again as a shadow: {trails:#?}");

    // a stack scan: the tagged user only, and nothing of the account
    let dir = tempfile::tempdir().unwrap();
    let stack = emu.run(&["scan", "--stack", "dev", "--format", "json", "--output-dir", dir.path().to_str().unwrap()]);
    let s: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("tapaudit.json")).unwrap()).unwrap();
    let users: BTreeSet<&str> =
        s["findings"].as_array().unwrap().iter().filter(|f| f["resource"]["type"] == "iam:user").map(|f| f["resource"]["id"].as_str().unwrap()).collect();
    assert_eq!(users, BTreeSet::from(["dev-deployer"]), "{}", stack.stderr);
    assert_eq!(status_of(&s, "iam-user-console-mfa", "dev-deployer"), "fail");
    assert!(!s["findings"].as_array().unwrap().iter().any(|f| f["control_id"] == "guardduty-enabled"), "account-level records are not a stack's");
}
