//! End to end: transport encryption and availability judged by engine, on resources created in
//! the emulator with the SDK and scanned account-wide through the built binary.
//! - RDS: MySQL's `require_secure_transport` left at the default fails, set to 1 passes;
//!   PostgreSQL on a default parameter group passes from version 15 (rds.force_ssl defaults to 1)
//!   and fails before; an Aurora cluster is available when its instances span two zones; a
//!   Neptune cluster (listed by the RDS API) is out of the RDS controls' scope.
//! - ElastiCache: TransitEncryptionMode `preferred` fails, `required` passes; a single-az
//!   Memcached cluster fails the availability control.
//! - ALB: an HTTP listener whose default action redirects to HTTPS but with a rule that
//!   forwards fails HTTPS-only; one that only redirects passes.

mod support;

use aws_sdk_elasticache::types::TransitEncryptionMode;
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum, RedirectActionConfig, RuleCondition};
use aws_sdk_rds::types::{ApplyMethod, Parameter};
use serde_json::Value;
use support::{status_of, Emulator};

fn message_of(report: &Value, control: &str, resource_id: &str) -> String {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control_id"] == control && f["resource"]["id"] == resource_id)
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

async fn rds_instance(rds: &aws_sdk_rds::Client, id: &str, engine: &str, version: &str, group: Option<&str>) {
    rds.create_db_instance()
        .db_instance_identifier(id)
        .engine(engine)
        .engine_version(version)
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("owner_x7")
        .master_user_password("not-a-real-password-0")
        .set_db_parameter_group_name(group.map(str::to_string))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {id}: {e:?}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn transport_encryption_and_availability_by_engine() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;

    // ---------- RDS ----------
    let rds = aws_sdk_rds::Client::new(&cfg);
    for (name, family) in [("mysql-defaults", "mysql8.0"), ("mysql-tls", "mysql8.0")] {
        rds.create_db_parameter_group().db_parameter_group_name(name).db_parameter_group_family(family).description(name).send().await.unwrap();
    }
    rds.modify_db_parameter_group()
        .db_parameter_group_name("mysql-tls")
        .parameters(Parameter::builder().parameter_name("require_secure_transport").parameter_value("1").apply_method(ApplyMethod::Immediate).build())
        .send()
        .await
        .unwrap();
    rds_instance(&rds, "mysql-plain", "mysql", "8.0.39", Some("mysql-defaults")).await;
    rds_instance(&rds, "mysql-secure", "mysql", "8.0.39", Some("mysql-tls")).await;
    // default parameter groups: rds.force_ssl at the engine default
    rds_instance(&rds, "pg16-default", "postgres", "16.3", None).await;
    rds_instance(&rds, "pg14-default", "postgres", "14.12", None).await;
    // Aurora MySQL: two instances in two zones, and two in one; the cluster itself reports
    // MultiAZ=false either way
    for (cluster, members) in [
        ("aurora-two-az", &[("aurora-two-az-1", "us-east-1a"), ("aurora-two-az-2", "us-east-1b")][..]),
        ("aurora-one-az", &[("aurora-one-az-1", "us-east-1a")][..]),
    ] {
        rds.create_db_cluster()
            .db_cluster_identifier(cluster)
            .engine("aurora-mysql")
            .engine_version("8.0.mysql_aurora.3.05.2")
            .master_username("owner_x7")
            .master_user_password("not-a-real-password-0")
            .send()
            .await
            .unwrap();
        for (id, az) in members {
            rds.create_db_instance()
                .db_instance_identifier(*id)
                .db_cluster_identifier(cluster)
                .engine("aurora-mysql")
                .db_instance_class("db.r6g.large")
                .availability_zone(*az)
                .send()
                .await
                .unwrap_or_else(|e| panic!("create {id}: {e:?}"));
        }
    }

    // Amazon Neptune through the RDS API: not an RDS database, out of the RDS controls' scope
    // (moto rejects engine docdb on CreateDBCluster, so Neptune stands for both)
    rds.create_db_cluster()
        .db_cluster_identifier("graph")
        .engine("neptune")
        .master_username("owner_x7")
        .master_user_password("not-a-real-password-0")
        .send()
        .await
        .unwrap();
    rds.create_db_instance()
        .db_instance_identifier("graph-1")
        .db_cluster_identifier("graph")
        .engine("neptune")
        .db_instance_class("db.r5.large")
        .send()
        .await
        .unwrap();

    // ---------- ElastiCache ----------
    let ec = aws_sdk_elasticache::Client::new(&cfg);
    for (id, mode) in [("tls-preferred", TransitEncryptionMode::Preferred), ("tls-required", TransitEncryptionMode::Required)] {
        ec.create_replication_group()
            .replication_group_id(id)
            .replication_group_description(id)
            .engine("redis")
            .cache_node_type("cache.t3.micro")
            .num_node_groups(1)
            .replicas_per_node_group(1)
            .transit_encryption_enabled(true)
            .transit_encryption_mode(mode)
            .automatic_failover_enabled(true)
            .multi_az_enabled(true)
            .send()
            .await
            .unwrap();
    }
    support::single_az_memcached(&ec, "memcached-one-az").await;

    // ---------- ALB ----------
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vpc = ec2.create_vpc().cidr_block("10.30.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = vec![];
    for (i, az) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let s = ec2.create_subnet().vpc_id(&vpc).cidr_block(format!("10.30.{i}.0/24")).availability_zone(*az).send().await.unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&cfg);
    let tg = elb.create_target_group().name("app-tg").protocol(ProtocolEnum::Http).port(80).vpc_id(&vpc).send().await.unwrap();
    let tg_arn = tg.target_groups()[0].target_group_arn().unwrap().to_string();
    let redirect = || {
        Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .status_code(aws_sdk_elasticloadbalancingv2::types::RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build()
    };
    let mut listeners = vec![];
    for name in ["sneaky-rule", "redirect-only"] {
        let lb = elb.create_load_balancer().name(name).set_subnets(Some(subnets.clone())).send().await.unwrap();
        let lb_arn = lb.load_balancers()[0].load_balancer_arn().unwrap().to_string();
        let l = elb.create_listener().load_balancer_arn(&lb_arn).protocol(ProtocolEnum::Http).port(80).default_actions(redirect()).send().await.unwrap();
        listeners.push(l.listeners()[0].listener_arn().unwrap().to_string());
    }
    // the default action redirects, but /health is forwarded in plaintext
    elb.create_rule()
        .listener_arn(&listeners[0])
        .priority(10)
        .conditions(RuleCondition::builder().field("path-pattern").values("/health").build())
        .actions(Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&tg_arn).build())
        .send()
        .await
        .unwrap();
    // a rule that redirects too changes nothing
    elb.create_rule()
        .listener_arn(&listeners[1])
        .priority(10)
        .conditions(RuleCondition::builder().field("path-pattern").values("/old/*").build())
        .actions(redirect())
        .send()
        .await
        .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let run = emu.run(&["scan", "--regions", "us-east-1", "--format", "json", "--output-dir", tmp.path().to_str().unwrap()]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap()).unwrap();

    let expect = [
        ("rds-force-ssl", "mysql-plain", "fail"),
        ("rds-force-ssl", "mysql-secure", "pass"),
        ("rds-force-ssl", "pg16-default", "pass"),
        ("rds-force-ssl", "pg14-default", "fail"),
        ("rds-multi-az", "aurora-two-az", "pass"),
        ("rds-multi-az", "aurora-one-az", "fail"),
        ("elasticache-encryption-in-transit", "tls-preferred", "fail"),
        ("elasticache-encryption-in-transit", "tls-required", "pass"),
        ("elasticache-multi-az", "tls-required", "pass"),
        ("elasticache-multi-az", "memcached-one-az", "fail"),
        ("alb-https-only", "sneaky-rule:80", "fail"),
        ("alb-https-only", "redirect-only:80", "pass"),
        ("rds-deletion-protection", "graph", "not_applicable"),
        ("rds-force-ssl", "graph", "not_applicable"),
        ("rds-not-publicly-accessible", "graph-1", "not_applicable"),
        ("rds-multi-az", "graph-1", "not_applicable"),
    ];
    let mut wrong = vec![];
    for (control, id, want) in expect {
        let got = status_of(&r, control, id);
        if got != want {
            wrong.push(format!("{control} on {id}: want {want}, got {got} ({})", message_of(&r, control, id)));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // the failing verdicts say why, in AWS's terms
    assert!(
        message_of(&r, "rds-force-ssl", "mysql-plain").contains("require_secure_transport left at the engine default"),
        "{}",
        message_of(&r, "rds-force-ssl", "mysql-plain")
    );
    assert!(message_of(&r, "elasticache-encryption-in-transit", "tls-preferred").contains("preferred"));
    assert!(message_of(&r, "alb-https-only", "sneaky-rule:80").contains("priority 10"));
    // the HTTP listeners' rules were read, every page
    let calls = &r["stats"]["api_calls"]["elbv2"]["DescribeRules"];
    assert!(calls.as_u64().is_some_and(|n| n >= 2), "DescribeRules calls: {calls}");
}
