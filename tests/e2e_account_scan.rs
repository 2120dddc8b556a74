//! End to end: an account-wide scan (no stack) of resources created directly with the SDK,
//! good and bad, through the built binary.

mod support;

use aws_sdk_ec2::types::{IpPermission, IpRange};
use serde_json::Value;
use support::{status_of, Emulator};

#[tokio::test(flavor = "multi_thread")]
async fn account_wide_scan_judges_resources_it_did_not_create() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;

    // KMS: one rotating key, one not
    let kms = aws_sdk_kms::Client::new(&cfg);
    let good_key = kms.create_key().description("good").send().await.unwrap().key_metadata().unwrap().key_id().to_string();
    kms.enable_key_rotation().key_id(&good_key).send().await.unwrap();
    let good_key_arn = kms.describe_key().key_id(&good_key).send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_string();
    let bad_key = kms.create_key().description("bad").send().await.unwrap().key_metadata().unwrap().key_id().to_string();

    // network: SSH open to the world, Postgres only internal
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vpc = ec2.create_vpc().cidr_block("10.20.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let azs = ["us-east-1a", "us-east-1b"];
    let mut subnets = vec![];
    for (i, az) in azs.iter().enumerate() {
        let s = ec2.create_subnet().vpc_id(&vpc).cidr_block(format!("10.20.{i}.0/24")).availability_zone(*az).send().await.unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let sg = |name: &'static str| {
        let ec2 = ec2.clone();
        let vpc = vpc.clone();
        async move { ec2.create_security_group().group_name(name).description(name).vpc_id(&vpc).send().await.unwrap().group_id().unwrap().to_string() }
    };
    let open_ssh = sg("open-ssh").await;
    let internal_db = sg("internal-db").await;
    let rule = |port: i32, cidr: &str| {
        IpPermission::builder().ip_protocol("tcp").from_port(port).to_port(port).ip_ranges(IpRange::builder().cidr_ip(cidr).build()).build()
    };
    ec2.authorize_security_group_ingress().group_id(&open_ssh).ip_permissions(rule(22, "0.0.0.0/0")).send().await.unwrap();
    ec2.authorize_security_group_ingress().group_id(&internal_db).ip_permissions(rule(5432, "10.0.0.0/8")).send().await.unwrap();

    // ElastiCache: hardened and bare replication groups
    let ec = aws_sdk_elasticache::Client::new(&cfg);
    ec.create_replication_group()
        .replication_group_id("good-redis")
        .replication_group_description("good")
        .engine("redis")
        .cache_node_type("cache.t3.micro")
        .num_node_groups(1)
        .replicas_per_node_group(1)
        .at_rest_encryption_enabled(true)
        .transit_encryption_enabled(true)
        // moto echoes no TransitEncryptionMode unless one is given (AWS documents no default)
        .transit_encryption_mode(aws_sdk_elasticache::types::TransitEncryptionMode::Required)
        .auth_token("a-very-long-auth-token-0123456789")
        .automatic_failover_enabled(true)
        .multi_az_enabled(true)
        .snapshot_retention_limit(7)
        .kms_key_id(&good_key_arn)
        .send()
        .await
        .unwrap();
    ec.create_replication_group()
        .replication_group_id("bare-redis")
        .replication_group_description("bare")
        .engine("redis")
        .cache_node_type("cache.t3.micro")
        .num_node_groups(1)
        .replicas_per_node_group(1)
        .send()
        .await
        .unwrap();

    // EFS: encrypted with a CMK + backups + TLS policy, and a bare one
    let efs = aws_sdk_efs::Client::new(&cfg);
    let good_fs = efs
        .create_file_system()
        .creation_token("good-fs")
        .encrypted(true)
        .kms_key_id(&good_key_arn)
        .backup(true)
        .send()
        .await
        .unwrap()
        .file_system_id()
        .to_string();
    let tls = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "TLSOnly", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    efs.put_file_system_policy().file_system_id(&good_fs).policy(tls.to_string()).send().await.unwrap();
    let bare_fs = efs.create_file_system().creation_token("bare-fs").send().await.unwrap().file_system_id().to_string();

    // ALB: HTTP only, default attributes
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&cfg);
    let lb = elb.create_load_balancer().name("plain-http").set_subnets(Some(subnets.clone())).security_groups(&internal_db).send().await.unwrap();
    let lb_arn = lb.load_balancers()[0].load_balancer_arn().unwrap().to_string();
    let tg = elb
        .create_target_group()
        .name("plain-tg")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let tg_arn = tg.target_groups()[0].target_group_arn().unwrap().to_string();
    elb.create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
                .target_group_arn(&tg_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // a secret on the AWS-managed key, a log group that never expires and is not encrypted
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    sm.create_secret().name("legacy-secret").secret_string("{\"k\":\"v\"}").send().await.unwrap();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    logs.create_log_group().log_group_name("/legacy/app").send().await.unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let run = emu.run(&["scan", "--regions", "us-east-1", "--format", "json,sarif", "--output-dir", tmp.path().to_str().unwrap()]);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap()).unwrap();
    let errors: Vec<&Value> = r["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "error").collect();
    assert_eq!(run.code, 1, "{}\nerror findings: {errors:#?}\ncollection errors: {:#?}", run.stderr, r["errors"]);
    assert_eq!(r["scope"]["stack"], Value::Null);
    assert_eq!(r["scope"]["frameworks"].as_array().unwrap().len(), 3, "account-wide scans evaluate every framework");

    let expect = [
        ("kms-key-rotation-enabled", good_key.as_str(), "pass"),
        ("kms-key-rotation-enabled", bad_key.as_str(), "fail"),
        ("sg-no-internet-ingress-admin-ports", open_ssh.as_str(), "fail"),
        ("sg-no-internet-ingress-admin-ports", internal_db.as_str(), "pass"),
        ("sg-no-internet-ingress-data-ports", internal_db.as_str(), "pass"),
        ("elasticache-encryption-at-rest", "good-redis", "pass"),
        ("elasticache-encryption-at-rest", "bare-redis", "fail"),
        ("elasticache-encryption-in-transit", "good-redis", "pass"),
        ("elasticache-encryption-in-transit", "bare-redis", "fail"),
        ("elasticache-auth-enabled", "good-redis", "pass"),
        ("elasticache-auth-enabled", "bare-redis", "fail"),
        ("elasticache-snapshot-retention", "good-redis", "pass"),
        ("elasticache-snapshot-retention", "bare-redis", "fail"),
        ("efs-encrypted-cmk", good_fs.as_str(), "pass"),
        ("efs-encrypted-cmk", bare_fs.as_str(), "fail"),
        ("efs-backups-enabled", good_fs.as_str(), "pass"),
        ("efs-backups-enabled", bare_fs.as_str(), "fail"),
        ("efs-tls-enforced", good_fs.as_str(), "pass"),
        ("efs-tls-enforced", bare_fs.as_str(), "fail"),
        ("alb-access-logs", "plain-http", "fail"),
        ("alb-drop-invalid-headers", "plain-http", "fail"),
        ("secrets-cmk", "legacy-secret", "fail"),
        ("logs-log-group-cmk", "/legacy/app", "fail"),
    ];
    let mut wrong = vec![];
    for (control, id, want) in expect {
        let got = status_of(&r, control, id);
        if got != want {
            wrong.push(format!("{control} on {id}: want {want}, got {got}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // the HTTP-only listener fails HTTPS-only
    assert!(r["findings"].as_array().unwrap().iter().any(|f| f["control_id"] == "alb-https-only" && f["status"] == "fail"));
    let status = std::process::Command::new(support::root().join("scripts/validate-sarif.sh")).arg(tmp.path().join("tapaudit.sarif")).status().unwrap();
    assert!(status.success(), "account-wide SARIF validates");

    // baseline: fix one finding, add another → exactly one absent and one new
    kms.enable_key_rotation().key_id(&bad_key).send().await.unwrap();
    ec2.authorize_security_group_ingress().group_id(&internal_db).ip_permissions(rule(3389, "0.0.0.0/0")).send().await.unwrap();
    let next = tempfile::tempdir().unwrap();
    let baseline = tmp.path().join("tapaudit.json");
    let run = emu.run(&[
        "scan",
        "--regions",
        "us-east-1",
        "--format",
        "json",
        "--output-dir",
        next.path().to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(next.path().join("tapaudit.json")).unwrap()).unwrap();
    let absent: Vec<(String, String)> =
        r["absent"].as_array().unwrap().iter().map(|f| (f["control_id"].as_str().unwrap().into(), f["resource"]["id"].as_str().unwrap().into())).collect();
    let new: Vec<(String, String)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baseline_state"] == "new")
        .map(|f| (f["control_id"].as_str().unwrap().into(), f["resource"]["id"].as_str().unwrap().into()))
        .collect();
    assert_eq!(absent, vec![("kms-key-rotation-enabled".to_string(), bad_key.clone())]);
    assert_eq!(new, vec![("sg-no-internet-ingress-admin-ports".to_string(), internal_db.clone())]);
    let unchanged = r["findings"].as_array().unwrap().iter().filter(|f| f["baseline_state"] == "unchanged").count();
    assert!(unchanged > 10, "everything else is unchanged ({unchanged})");
}
