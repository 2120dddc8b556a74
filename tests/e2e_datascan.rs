//! End to end: what the data blueprints build, created in the emulator with the SDK and scanned
//! account-wide through the built binary, each next to a variant that must fail.
//! - Aurora PostgreSQL Serverless v2 with an RDS-managed master password (customer key), a
//!   writer and a reader in two zones, its secret rotated on a schedule (RotateSecret with
//!   RotationRules) — against a cluster whose secret uses the default aws/secretsmanager key and
//!   is never rotated, with both instances in one zone, and an instance whose password is not
//!   managed at all.
//! - ElastiCache Redis (ReplicasPerNodeGroup=1: moto makes one member for NumCacheClusters=2)
//!   with a customer key and TLS required — against one with the default key and TLS preferred.
//! - EFS with a mount target whose group admits NFS from the VPC only, an access point with a
//!   POSIX user and its own directory, and a TLS-only policy — against one open to 0.0.0.0/0
//!   with a root access point and no policy.

mod support;

use aws_sdk_elasticache::types::TransitEncryptionMode;
use aws_sdk_rds::types::ServerlessV2ScalingConfiguration;
use aws_sdk_secretsmanager::types::RotationRulesType;
use serde_json::Value;
use support::{status_of, Emulator};

fn message_of(report: &Value, control: &str, resource: &str) -> String {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control_id"] == control && (f["resource"]["id"] == resource || f["resource"]["name"] == resource))
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// An Aurora PostgreSQL Serverless v2 cluster with an RDS-managed master password (under `key`,
/// or the default key when None) and one db.serverless instance per zone given.
async fn aurora(rds: &aws_sdk_rds::Client, id: &str, key: Option<&str>, storage_key: &str, zones: &[&str]) -> String {
    let c = rds
        .create_db_cluster()
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .engine_version("16.4")
        .database_name("records")
        .master_username("records_owner")
        .manage_master_user_password(true)
        .set_master_user_secret_kms_key_id(key.map(str::to_string))
        .storage_encrypted(true)
        .kms_key_id(storage_key)
        .backup_retention_period(30)
        .deletion_protection(true)
        .enable_cloudwatch_logs_exports("postgresql")
        .enable_iam_database_authentication(true)
        .copy_tags_to_snapshot(true)
        .serverless_v2_scaling_configuration(ServerlessV2ScalingConfiguration::builder().min_capacity(0.5).max_capacity(2.0).build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("create cluster {id}: {e:?}"));
    for (n, az) in zones.iter().enumerate() {
        rds.create_db_instance()
            .db_instance_identifier(format!("{id}-{}", n + 1))
            .db_cluster_identifier(id)
            .engine("aurora-postgresql")
            .db_instance_class("db.serverless")
            .availability_zone(*az)
            // moto reports no PubliclyAccessible for Aurora instances unless it is given
            .publicly_accessible(false)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create instance {id}-{}: {e:?}", n + 1));
    }
    let secret = c.db_cluster().and_then(|c| c.master_user_secret()).and_then(|s| s.secret_arn()).expect("the cluster reports its managed secret");
    secret.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn data_blueprints_are_judged_where_their_settings_live() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;

    let kms = aws_sdk_kms::Client::new(&cfg);
    let key = kms.create_key().description("records").send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_string();

    // ---------- network ----------
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vpc = ec2.create_vpc().cidr_block("10.20.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = vec![];
    for (i, az) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let s = ec2.create_subnet().vpc_id(&vpc).cidr_block(format!("10.20.{}.0/24", 10 + i)).availability_zone(*az).send().await.unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let sg = |name: &'static str, cidr: &'static str| {
        let ec2 = ec2.clone();
        let vpc = vpc.clone();
        async move {
            let id = ec2.create_security_group().group_name(name).description(name).vpc_id(&vpc).send().await.unwrap().group_id().unwrap().to_string();
            ec2.authorize_security_group_ingress().group_id(&id).ip_protocol("tcp").from_port(2049).to_port(2049).cidr_ip(cidr).send().await.unwrap();
            id
        }
    };
    let nfs_vpc = sg("nfs-vpc", "10.20.0.0/16").await;
    let nfs_open = sg("nfs-open", "0.0.0.0/0").await;

    // ---------- RDS / Aurora ----------
    let rds = aws_sdk_rds::Client::new(&cfg);
    let records_secret = aurora(&rds, "records-db", Some(&key), &key, &["us-east-1a", "us-east-1b"]).await;
    // default aws/secretsmanager key, never rotated, both instances in one zone
    let _ = aurora(&rds, "onezone-db", None, &key, &["us-east-1a", "us-east-1a"]).await;
    // a password set by whoever created it
    rds.create_db_instance()
        .db_instance_identifier("typed-password-db")
        .engine("postgres")
        .engine_version("16.3")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("owner_x7")
        .master_user_password("not-a-real-password-0")
        .send()
        .await
        .unwrap();

    // ---------- Secrets Manager: the schedule on the RDS-managed secret ----------
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    sm.rotate_secret()
        .secret_id(&records_secret)
        .rotation_rules(RotationRulesType::builder().automatically_after_days(30).build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("rotate {records_secret}: {e:?}"));

    // ---------- ElastiCache ----------
    let ec = aws_sdk_elasticache::Client::new(&cfg);
    for (id, mode, cache_key) in
        [("records-cache", TransitEncryptionMode::Required, Some(key.clone())), ("prefer-cache", TransitEncryptionMode::Preferred, None)]
    {
        ec.create_replication_group()
            .replication_group_id(id)
            .replication_group_description(id)
            .engine("redis")
            .cache_node_type("cache.t3.micro")
            .num_node_groups(1)
            .replicas_per_node_group(1)
            .automatic_failover_enabled(true)
            .multi_az_enabled(true)
            .at_rest_encryption_enabled(true)
            .set_kms_key_id(cache_key)
            .transit_encryption_enabled(true)
            .transit_encryption_mode(mode)
            .auth_token("a-token-that-is-long-enough-0123")
            .snapshot_retention_limit(7)
            .security_group_ids(&nfs_vpc)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create {id}: {e:?}"));
    }

    // ---------- EFS ----------
    let efs = aws_sdk_efs::Client::new(&cfg);
    let mut file_systems = vec![];
    for (name, group, confined) in [("records-fs", &nfs_vpc, true), ("open-fs", &nfs_open, false)] {
        let fs = efs
            .create_file_system()
            .creation_token(name)
            .encrypted(true)
            .kms_key_id(&key)
            // moto does not implement PutBackupPolicy: backups are chosen at creation
            .backup(true)
            .tags(aws_sdk_efs::types::Tag::builder().key("Name").value(name).build().unwrap())
            .send()
            .await
            .unwrap();
        let id = fs.file_system_id().to_string();
        efs.create_mount_target().file_system_id(&id).subnet_id(&subnets[0]).security_groups(group.as_str()).send().await.unwrap();
        let ap = efs.create_access_point().file_system_id(&id);
        let ap = if confined {
            ap.posix_user(aws_sdk_efs::types::PosixUser::builder().uid(1000).gid(1000).build().unwrap()).root_directory(
                aws_sdk_efs::types::RootDirectory::builder()
                    .path("/records")
                    .creation_info(aws_sdk_efs::types::CreationInfo::builder().owner_uid(1000).owner_gid(1000).permissions("750").build().unwrap())
                    .build(),
            )
        } else {
            ap
        };
        ap.send().await.unwrap();
        if confined {
            let arn = fs.file_system_arn().unwrap();
            let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
            efs.put_file_system_policy().file_system_id(&id).policy(policy.to_string()).send().await.unwrap();
        }
        file_systems.push(id);
    }
    efs.put_lifecycle_configuration()
        .file_system_id(&file_systems[0])
        .lifecycle_policies(aws_sdk_efs::types::LifecyclePolicy::builder().transition_to_ia(aws_sdk_efs::types::TransitionToIaRules::After30Days).build())
        .send()
        .await
        .unwrap();

    // ---------- scan ----------
    let tmp = tempfile::tempdir().unwrap();
    let snapshot = tmp.path().join("state.json");
    let run = emu.run(&[
        "scan",
        "--regions",
        "us-east-1",
        "--format",
        "json",
        "--output-dir",
        tmp.path().to_str().unwrap(),
        "--save-snapshot",
        snapshot.to_str().unwrap(),
    ]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap()).unwrap();

    let records_name = records_secret.rsplit(':').next().unwrap().rsplit_once('-').unwrap().0.to_string();
    let onezone_secret = sm
        .list_secrets()
        .send()
        .await
        .unwrap()
        .secret_list()
        .iter()
        .find(|s| s.tags().iter().any(|t| t.value().is_some_and(|v| v.ends_with(":cluster:onezone-db"))))
        .and_then(|s| s.name().map(str::to_string))
        .expect("the onezone-db secret");
    let (fs_ok, fs_open) = (file_systems[0].as_str(), file_systems[1].as_str());
    let expect: Vec<(&str, &str, &str)> = vec![
        // Aurora: cluster-level settings on the cluster, never on its instances
        ("rds-master-credentials-managed", "records-db", "pass"),
        // onezone-db (the default aws/secretsmanager key): judged below, on the snapshot with
        // the key's KeyManager as AWS reports it (moto reports CUSTOMER)
        ("rds-master-credentials-managed", "typed-password-db", "fail"),
        ("rds-master-credentials-managed", "records-db-1", "not_applicable"),
        ("rds-multi-az", "records-db", "pass"),
        ("rds-multi-az", "onezone-db", "fail"),
        ("rds-multi-az", "records-db-2", "not_applicable"),
        ("rds-storage-encrypted-cmk", "records-db", "pass"),
        ("rds-storage-encrypted-cmk", "records-db-1", "not_applicable"),
        ("rds-backup-retention", "records-db", "pass"),
        ("rds-deletion-protection", "records-db", "pass"),
        ("rds-deletion-protection", "records-db-1", "not_applicable"),
        ("rds-log-exports-enabled", "records-db", "pass"),
        // instance-level settings on each instance
        ("rds-not-publicly-accessible", "records-db-1", "pass"),
        ("rds-not-publicly-accessible", "records-db-2", "pass"),
        // Secrets Manager: RDS-managed secrets by what AWS reports
        ("secrets-rotation-enabled", records_name.as_str(), "pass"),
        ("secrets-rotation-enabled", onezone_secret.as_str(), "fail"),
        ("secrets-cmk", records_name.as_str(), "pass"),
        ("secrets-cmk", onezone_secret.as_str(), "fail"),
        // ElastiCache
        ("elasticache-encryption-at-rest", "records-cache", "pass"),
        ("elasticache-encryption-at-rest", "prefer-cache", "pass"),
        ("elasticache-encryption-at-rest-cmk", "records-cache", "pass"),
        ("elasticache-encryption-at-rest-cmk", "prefer-cache", "fail"),
        ("elasticache-encryption-in-transit", "records-cache", "pass"),
        ("elasticache-encryption-in-transit", "prefer-cache", "fail"),
        ("elasticache-auth-enabled", "records-cache", "pass"),
        ("elasticache-automatic-failover", "records-cache", "pass"),
        ("elasticache-multi-az", "records-cache", "pass"),
        ("elasticache-snapshot-retention", "records-cache", "pass"),
        // EFS
        ("efs-encrypted-cmk", fs_ok, "pass"),
        ("efs-backups-enabled", fs_ok, "pass"),
        ("efs-tls-enforced", fs_ok, "pass"),
        ("efs-tls-enforced", fs_open, "fail"),
        ("efs-mount-targets-nfs-vpc-only", fs_ok, "pass"),
        ("efs-mount-targets-nfs-vpc-only", fs_open, "fail"),
        ("efs-access-points-enforce-identity", fs_ok, "pass"),
        ("efs-access-points-enforce-identity", fs_open, "fail"),
    ];
    let mut wrong = vec![];
    for (control, id, want) in &expect {
        let got = status_of(&r, control, id);
        if got != *want {
            wrong.push(format!("{control} on {id}: want {want}, got {got} ({})", message_of(&r, control, id)));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");

    // moto gap: the key behind alias/aws/secretsmanager reports KeyManager CUSTOMER (AWS:
    // AWS), so under moto the default-key secret reads as customer-managed. With the key as AWS
    // reports it, re-evaluating the saved snapshot fails the cluster whose secret uses it.
    let mut snap: Value = serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    let mut corrected = 0;
    for k in snap["state"]["kms"]["keys"]["items"].as_object_mut().unwrap().values_mut() {
        let aws_alias = k["aliases"]["known"].as_array().is_some_and(|a| a.iter().any(|x| x.as_str().is_some_and(|x| x.starts_with("alias/aws/"))));
        if aws_alias {
            k["manager"] = serde_json::json!({"known": "aws"});
            corrected += 1;
        }
    }
    assert!(corrected >= 1, "the emulator created the aws/secretsmanager key");
    let fixed = tmp.path().join("state-aws-managed.json");
    std::fs::write(&fixed, snap.to_string()).unwrap();
    let again = tmp.path().join("again");
    let run = emu.run(&["scan", "--from-snapshot", fixed.to_str().unwrap(), "--format", "json", "--output-dir", again.to_str().unwrap()]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let r2: Value = serde_json::from_str(&std::fs::read_to_string(again.join("tapaudit.json")).unwrap()).unwrap();
    for (id, want) in [("onezone-db", "fail"), ("records-db", "pass"), ("typed-password-db", "fail")] {
        assert_eq!(status_of(&r2, "rds-master-credentials-managed", id), want, "{id}: {}", message_of(&r2, "rds-master-credentials-managed", id));
    }
    assert!(message_of(&r2, "rds-master-credentials-managed", "onezone-db").contains("AWS-managed key"));

    // the failures say why
    let m = message_of(&r, "rds-multi-az", "onezone-db");
    assert!(m.contains("writer's Availability Zone") && m.contains("us-east-1a"), "{m}");
    assert!(message_of(&r, "rds-master-credentials-managed", "typed-password-db").contains("not managed by RDS"));
    assert!(message_of(&r, "elasticache-encryption-in-transit", "prefer-cache").contains("preferred"));
    let m = message_of(&r, "efs-mount-targets-nfs-vpc-only", fs_open);
    assert!(m.contains("0.0.0.0/0") && m.contains("public"), "{m}");

    // what the model read, as the snapshot keeps it
    let st: Value = serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    let state = &st["state"];
    let cluster = state["rds"]["clusters"]["items"].as_object().unwrap().values().find(|c| c["meta"]["id"] == "records-db").unwrap();
    assert_eq!(cluster["serverless_v2"]["min_acu"]["known"], 0.5);
    assert_eq!(cluster["serverless_v2"]["max_acu"]["known"], 2.0);
    assert_eq!(cluster["iam_auth"]["known"], true);
    assert_eq!(cluster["master_user_secret"]["kms_key_id"]["known"], key.as_str());
    assert_eq!(cluster["members"].as_array().unwrap().iter().filter(|m| m["writer"]["known"] == true).count(), 1);
    let secret = state["secrets"]["secrets"]["items"].as_object().unwrap().values().find(|s| s["meta"]["name"] == records_name.as_str()).unwrap();
    assert_eq!(secret["owning_service"], "rds");
    assert_eq!(secret["rotation_interval_days"], 30);
    assert!(secret["next_rotation"].is_string(), "{secret}");
    let group = state["elasticache"]["replication_groups"]["items"].as_object().unwrap().values().find(|g| g["meta"]["id"] == "records-cache").unwrap();
    // moto lists no member clusters: their security groups are unknown, never "none"
    assert!(group["security_groups"]["unknown"].as_str().is_some_and(|r| r.contains("did not return member cluster")), "{}", group["security_groups"]);
    let fs = state["efs"]["file_systems"]["items"].as_object().unwrap().values().find(|f| f["meta"]["id"] == fs_ok).unwrap();
    assert_eq!(fs["transition_to_ia"]["known"], "AFTER_30_DAYS");
    assert_eq!(fs["mount_targets"]["known"][0]["security_groups"]["known"][0], nfs_vpc.as_str());
    assert_eq!(fs["mount_targets"]["known"][0]["availability_zone"], "us-east-1a");
    assert_eq!(fs["access_points"]["known"][0]["root_directory"]["known"], "/records");
    // no secret value anywhere in what the scan wrote
    for f in std::fs::read_dir(tmp.path()).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap_or_default();
        assert!(!text.contains("a-token-that-is-long-enough") && !text.contains("not-a-real-password"), "a secret value was written");
    }
}
