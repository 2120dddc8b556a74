//! End to end against the emulator, through the built binary: provision the default stack,
//! then check every promised property with the SDK; idempotence; plan; resume after a kill;
//! two stacks side by side; destroy.

mod support;

use aws_sdk_ec2::types::Filter;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use support::{Emulator, ACCOUNT};

fn stack_filter(stack: &str) -> Filter {
    Filter::builder().name("tag:tapaudit:stack").values(stack).build()
}

fn has_stack_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, stack: &str) -> bool {
    let tags: std::collections::BTreeMap<&str, &str> = tags.into_iter().collect();
    tags.get("tapaudit:stack") == Some(&stack)
        && tags.contains_key("tapaudit:logical-id")
        && tags.get("Environment") == Some(&stack)
        && tags.get("Compliance") == Some(&"FedRAMP-Moderate")
        && tags.get("Owner") == Some(&"data-platform")
}

fn policy(doc: &str) -> Value {
    serde_json::from_str(doc).or_else(|_| serde_json::from_str(&percent_encoding::percent_decode_str(doc).decode_utf8_lossy())).expect("policy JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn provision_builds_the_hardened_pipeline_idempotently_and_destroy_removes_it() {
    let emu = Emulator::start();
    let run = emu.run(&["provision", "--stack", "dev", "--output", "json"]).ok("provision dev");
    let out = run.json();
    let outputs = &out["outputs"];
    assert_eq!(out["steps"].as_array().unwrap().len(), 37);
    let created = out["steps"].as_array().unwrap().iter().filter(|s| s["action"] == "create").count();
    assert!(created >= 31 && run.stderr.contains(&format!("provision dev: {created} created")), "{}", run.stderr);

    let cfg = emu.sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let kms = aws_sdk_kms::Client::new(&cfg);

    // ---- KMS: rotation, policy principals, alias, tags
    let key_id = outputs["kms_key_id"].as_str().unwrap();
    let key_arn = outputs["kms_key_arn"].as_str().unwrap();
    assert!(kms.get_key_rotation_status().key_id(key_id).send().await.unwrap().key_rotation_enabled());
    let pol = policy(kms.get_key_policy().key_id(key_id).policy_name("default").send().await.unwrap().policy().unwrap());
    let principals: BTreeSet<String> = pol["Statement"].as_array().unwrap().iter().map(|s| s["Principal"].to_string()).collect();
    assert!(principals.contains(&format!("{{\"AWS\":\"arn:aws:iam::{ACCOUNT}:root\"}}")), "{principals:?}");
    assert!(principals.contains("{\"Service\":\"logs.us-east-1.amazonaws.com\"}"), "{principals:?}");
    assert!(!pol.to_string().contains("\"Principal\":\"*\"") && !pol.to_string().contains("{\"AWS\":\"*\"}"), "no wildcard principal");
    let via: String = pol.to_string();
    for svc in ["secretsmanager", "rds", "kinesis"] {
        assert!(via.contains(&format!("{svc}.us-east-1.amazonaws.com")), "key policy lets {svc} use the key");
    }
    let aliases = kms.list_aliases().key_id(key_id).send().await.unwrap();
    assert!(aliases.aliases().iter().any(|a| a.alias_name() == Some("alias/tapaudit-dev-data-key")));
    let ktags = kms.list_resource_tags().key_id(key_id).send().await.unwrap();
    assert!(has_stack_tags(ktags.tags().iter().map(|t| (t.tag_key(), t.tag_value())), "dev"));

    // ---- VPC, subnets, gateways, routes, flow logs
    let vpc_id = outputs["vpc_id"].as_str().unwrap();
    let vpcs = ec2.describe_vpcs().vpc_ids(vpc_id).send().await.unwrap();
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.0.0.0/16"));
    for attr in [aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames, aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport] {
        let a = ec2.describe_vpc_attribute().vpc_id(vpc_id).attribute(attr.clone()).send().await.unwrap();
        let v = a.enable_dns_hostnames().or(a.enable_dns_support()).and_then(|b| b.value());
        assert_eq!(v, Some(true), "{attr:?}");
    }
    let subnets = ec2.describe_subnets().filters(stack_filter("dev")).send().await.unwrap();
    assert_eq!(subnets.subnets().len(), 4);
    let private: Vec<String> = outputs["private_subnet_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let public: Vec<String> = outputs["public_subnet_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let mut azs = BTreeSet::new();
    for s in subnets.subnets() {
        assert_eq!(s.map_public_ip_on_launch(), Some(false), "no auto-assigned public IPs: {:?}", s.subnet_id());
        assert!(has_stack_tags(s.tags().iter().map(|t| (t.key().unwrap(), t.value().unwrap())), "dev"));
        if private.contains(&s.subnet_id().unwrap().to_string()) {
            azs.insert(s.availability_zone().unwrap().to_string());
            assert!(s.cidr_block().unwrap().starts_with("10.0.1"), "{:?}", s.cidr_block());
        }
    }
    assert_eq!(azs.len(), 2, "private subnets in two zones");
    let nats = ec2.describe_nat_gateways().filter(stack_filter("dev")).send().await.unwrap();
    let nats: Vec<_> = nats.nat_gateways().iter().filter(|n| n.tags().iter().any(|t| t.value() == Some("dev"))).collect();
    assert_eq!(nats.len(), 1, "one NAT gateway");
    assert!(public.contains(&nats[0].subnet_id().unwrap().to_string()), "NAT in a public subnet");
    assert!(nats[0].nat_gateway_addresses()[0].allocation_id().is_some(), "NAT has an Elastic IP");
    let rts = ec2.describe_route_tables().filters(stack_filter("dev")).send().await.unwrap();
    for rt in rts.route_tables() {
        let default = rt.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0")).expect("default route");
        let subnets: BTreeSet<String> = rt.associations().iter().filter_map(|a| a.subnet_id().map(str::to_string)).collect();
        if default.nat_gateway_id().is_some() {
            assert_eq!(subnets, private.iter().cloned().collect(), "private subnets route through the NAT");
        } else {
            assert!(default.gateway_id().unwrap().starts_with("igw-"));
            assert_eq!(subnets, public.iter().cloned().collect(), "public subnets route to the IGW");
        }
    }
    let fl = ec2.describe_flow_logs().filter(Filter::builder().name("resource-id").values(vpc_id).build()).send().await.unwrap();
    assert_eq!(fl.flow_logs().len(), 1);
    assert_eq!(fl.flow_logs()[0].log_group_name(), Some("/tapaudit/dev/vpc-flow-logs"));
    assert_eq!(fl.flow_logs()[0].traffic_type().map(|t| t.as_str()), Some("ALL"));

    // ---- security groups: exactly the declared rules
    let sgs = ec2.describe_security_groups().filters(stack_filter("dev")).send().await.unwrap();
    let ecs_sg = sgs.security_groups().iter().find(|g| g.group_name() == Some("tapaudit-dev-ecs-tasks-sg")).expect("ecs sg");
    let db_sg = sgs.security_groups().iter().find(|g| g.group_name() == Some("tapaudit-dev-db-sg")).expect("db sg");
    let ing = ecs_sg.ip_permissions();
    assert_eq!(ing.len(), 1);
    assert_eq!((ing[0].ip_protocol(), ing[0].from_port(), ing[0].to_port()), (Some("tcp"), Some(8080), Some(8080)));
    assert_eq!(ing[0].ip_ranges().iter().map(|r| r.cidr_ip().unwrap()).collect::<Vec<_>>(), vec!["10.0.0.0/16"]);
    assert!(ing[0].user_id_group_pairs().is_empty());
    let eg = ecs_sg.ip_permissions_egress();
    assert_eq!(eg.len(), 1);
    assert_eq!(eg[0].ip_protocol(), Some("-1"));
    let ding = db_sg.ip_permissions();
    assert_eq!(ding.len(), 1);
    assert_eq!((ding[0].from_port(), ding[0].to_port()), (Some(5432), Some(5432)));
    assert!(ding[0].ip_ranges().is_empty(), "database reachable by CIDR: {:?}", ding[0].ip_ranges());
    assert_eq!(ding[0].user_id_group_pairs().iter().map(|p| p.group_id().unwrap()).collect::<Vec<_>>(), vec![ecs_sg.group_id().unwrap()]);
    assert!(db_sg.ip_permissions_egress().is_empty(), "database has no egress");

    // ---- Kinesis
    let kinesis = aws_sdk_kinesis::Client::new(&cfg);
    let s = kinesis.describe_stream_summary().stream_name("tapaudit-dev-stream").send().await.unwrap();
    let s = s.stream_description_summary().unwrap();
    assert_eq!(s.encryption_type().map(|e| e.as_str()), Some("KMS"));
    assert_eq!(s.key_id(), Some(key_arn));
    assert_eq!(s.retention_period_hours(), 24);
    assert_eq!(s.open_shard_count(), 1);
    let st = kinesis.list_tags_for_stream().stream_name("tapaudit-dev-stream").send().await.unwrap();
    assert!(has_stack_tags(st.tags().iter().map(|t| (t.key(), t.value().unwrap_or_default())), "dev"));

    // ---- the master secret: managed by RDS, encrypted with the stack's key, rotated every 30
    // days, tagged; the password never passed through tapaudit
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    let secret_arn = outputs["db_secret_arn"].as_str().unwrap();
    let d = sm.describe_secret().secret_id(secret_arn).send().await.unwrap();
    assert_eq!(d.kms_key_id(), Some(key_arn));
    assert_eq!(d.rotation_enabled(), Some(true));
    assert_eq!(d.rotation_rules().and_then(|r| r.automatically_after_days()), Some(30));
    assert!(has_stack_tags(d.tags().iter().map(|t| (t.key().unwrap(), t.value().unwrap())), "dev"));
    let value: Value = serde_json::from_str(sm.get_secret_value().secret_id(secret_arn).send().await.unwrap().secret_string().unwrap()).unwrap();
    let password = value["password"].as_str().unwrap().to_string();
    let username = "pipeline_owner".to_string();
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(&password), "the password leaked into the output");
    }
    assert!(!std::fs::read_to_string(support::root().join("stacks/dev.toml")).unwrap().contains(&password));

    // ---- RDS
    let rds = aws_sdk_rds::Client::new(&cfg);
    let db = rds.describe_db_instances().db_instance_identifier("tapaudit-dev-db").send().await.unwrap();
    let db = &db.db_instances()[0];
    assert_eq!(db.engine(), Some("postgres"));
    assert_eq!(db.engine_version(), Some("16.3"));
    assert_eq!(db.db_instance_class(), Some("db.t3.micro"));
    assert_eq!(db.allocated_storage(), Some(20));
    assert_eq!(db.storage_type(), Some("gp3"));
    assert_eq!(db.storage_encrypted(), Some(true));
    assert_eq!(db.kms_key_id(), Some(key_arn));
    assert_eq!(db.publicly_accessible(), Some(false));
    assert_eq!(db.backup_retention_period(), Some(7));
    assert_eq!(db.preferred_backup_window(), Some("03:00-04:00"));
    assert_eq!(db.master_username(), Some(username.as_str()));
    let exports: BTreeSet<&str> = db.enabled_cloudwatch_logs_exports().iter().map(String::as_str).collect();
    assert_eq!(exports, BTreeSet::from(["postgresql", "upgrade"]));
    assert_eq!(db.multi_az(), Some(true));
    assert_eq!(db.deletion_protection(), Some(true));
    let group = db.db_subnet_group().unwrap();
    let group_subnets: BTreeSet<String> = group.subnets().iter().map(|s| s.subnet_identifier().unwrap().to_string()).collect();
    assert_eq!(group_subnets, private.iter().cloned().collect(), "DB subnet group = private subnets");
    assert_eq!(db.vpc_security_groups()[0].vpc_security_group_id(), db_sg.group_id());
    let pg = db.db_parameter_groups()[0].db_parameter_group_name().unwrap();
    let params = rds.describe_db_parameters().db_parameter_group_name(pg).source("user").send().await.unwrap();
    assert!(params.parameters().iter().any(|p| p.parameter_name() == Some("rds.force_ssl") && p.parameter_value() == Some("1")));
    assert!(has_stack_tags(db.tag_list().iter().map(|t| (t.key().unwrap(), t.value().unwrap())), "dev"));

    // ---- log groups: KMS + retention
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let groups = logs.describe_log_groups().log_group_name_prefix("/tapaudit/dev/").send().await.unwrap();
    let names: BTreeSet<&str> = groups.log_groups().iter().filter_map(|g| g.log_group_name()).collect();
    assert_eq!(names, BTreeSet::from(["/tapaudit/dev/data-processor", "/tapaudit/dev/ingest-api", "/tapaudit/dev/vpc-flow-logs"]));
    for g in groups.log_groups() {
        assert_eq!(g.kms_key_id(), Some(key_arn), "{:?}", g.log_group_name());
        assert_eq!(g.retention_in_days(), Some(365), "{:?}", g.log_group_name());
    }

    // ---- ECS
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    let cl = ecs.describe_clusters().clusters("tapaudit-dev-data-processor-cluster").include(aws_sdk_ecs::types::ClusterField::Settings).send().await.unwrap();
    let setting = cl.clusters()[0].settings().iter().find(|s| s.name().map(|n| n.as_str()) == Some("containerInsights")).unwrap();
    assert_eq!(setting.value(), Some("enabled"));
    let svc = ecs.describe_services().cluster("tapaudit-dev-data-processor-cluster").services("tapaudit-dev-data-processor").send().await.unwrap();
    let svc = &svc.services()[0];
    assert_eq!(svc.desired_count(), 1);
    assert_eq!(svc.launch_type().map(|l| l.as_str()), Some("FARGATE"));
    let net = svc.network_configuration().unwrap().awsvpc_configuration().unwrap();
    assert_eq!(net.assign_public_ip().map(|a| a.as_str()), Some("DISABLED"));
    assert_eq!(net.subnets().iter().cloned().collect::<BTreeSet<_>>(), private.iter().cloned().collect());
    assert_eq!(net.security_groups(), &[ecs_sg.group_id().unwrap().to_string()]);
    let td = ecs.describe_task_definition().task_definition(outputs["services.data-processor.task_definition_arn"].as_str().unwrap()).send().await.unwrap();
    let td = td.task_definition().unwrap();
    assert_eq!((td.cpu(), td.memory()), (Some("256"), Some("512")));
    assert_eq!(td.family(), Some("tapaudit-dev-data-processor"));
    assert!(td.execution_role_arn().unwrap().ends_with("role/tapaudit-dev-data-processor-execution"));
    assert!(td.task_role_arn().unwrap().ends_with("role/tapaudit-dev-data-processor-task"));
    let c = &td.container_definitions()[0];
    assert_eq!(c.name(), Some("data-processor"));
    let log = c.log_configuration().unwrap();
    assert_eq!(log.log_driver().as_str(), "awslogs");
    assert_eq!(log.options().unwrap().get("awslogs-group").map(String::as_str), Some("/tapaudit/dev/data-processor"));
    let env: BTreeSet<(String, String)> = c.environment().iter().map(|kv| (kv.name().unwrap().into(), kv.value().unwrap().into())).collect();
    assert!(env.contains(&("STREAM_NAMES".into(), "tapaudit-dev-stream".into())));
    // credentials through secrets (valueFrom), never the environment
    let secrets: Vec<(&str, &str)> = c.secrets().iter().map(|s| (s.name(), s.value_from())).collect();
    assert_eq!(secrets, vec![("DATABASE_SECRET", secret_arn)]);
    assert!(!env.iter().any(|(_, v)| v == &password), "no password in the task environment");

    // ---- IAM: least privilege
    let iam = aws_sdk_iam::Client::new(&cfg);
    let p = iam.get_role_policy().role_name("tapaudit-dev-ingest-api-integration").policy_name("tapaudit-least-privilege").send().await.unwrap();
    let p = policy(p.policy_document());
    let stream_arn = outputs["stream_arn"].as_str().unwrap();
    let put = p["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "PutIntoStream").unwrap();
    assert_eq!(put["Resource"], serde_json::json!([stream_arn]));
    assert_eq!(put["Action"], serde_json::json!(["kinesis:PutRecord", "kinesis:PutRecords"]));
    let task = policy(
        iam.get_role_policy().role_name("tapaudit-dev-data-processor-task").policy_name("tapaudit-least-privilege").send().await.unwrap().policy_document(),
    );
    assert!(!task.to_string().contains("\"*\""), "no wildcard resource in the task role: {task}");
    let exec = iam.list_attached_role_policies().role_name("tapaudit-dev-data-processor-execution").send().await.unwrap();
    assert_eq!(exec.attached_policies()[0].policy_name(), Some("AmazonECSTaskExecutionRolePolicy"));

    // ---- API Gateway
    let api = aws_sdk_apigateway::Client::new(&cfg);
    let api_id = outputs["api_id"].as_str().unwrap();
    let resources = api.get_resources().rest_api_id(api_id).send().await.unwrap();
    let ingest = resources.items().iter().find(|r| r.path() == Some("/ingest")).unwrap();
    let m = api.get_method().rest_api_id(api_id).resource_id(ingest.id().unwrap()).http_method("POST").send().await.unwrap();
    assert_eq!(m.authorization_type(), Some("AWS_IAM"));
    let i = m.method_integration().unwrap();
    assert_eq!(i.r#type().map(|t| t.as_str()), Some("AWS"));
    assert_eq!(i.uri(), Some("arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"));
    assert!(i.credentials().unwrap().ends_with("role/tapaudit-dev-ingest-api-integration"));
    assert!(i.request_templates().unwrap()["application/json"].contains("tapaudit-dev-stream"));
    let stage = api.get_stage().rest_api_id(api_id).stage_name("prod").send().await.unwrap();
    assert!(stage.deployment_id().is_some());
    assert!(stage.tracing_enabled());
    let all = &stage.method_settings().unwrap()["*/*"];
    assert_eq!(all.logging_level(), Some("INFO"));
    assert!(all.metrics_enabled());
    assert!(!all.data_trace_enabled(), "no data tracing of PII bodies");
    assert!(stage.access_log_settings().unwrap().destination_arn().unwrap().ends_with("log-group:/tapaudit/dev/ingest-api"));
    let account = api.get_account().send().await.unwrap();
    assert!(account.cloudwatch_role_arn().unwrap().ends_with("role/tapaudit-dev-api-cloudwatch"));

    // ---- idempotent: a second run creates nothing; plan shows no changes
    let again = emu.run(&["provision", "--stack", "dev", "--output", "json"]).ok("second provision");
    let steps = again.json()["steps"].as_array().unwrap().clone();
    assert!(steps.iter().all(|s| s["action"] == "unchanged"), "{steps:?}");
    for text in [&again.stdout, &again.stderr] {
        assert!(!text.contains(&password));
    }
    let plan = emu.run(&["plan", "--stack", "dev", "--output", "json"]).ok("plan");
    let plan = plan.json();
    let not_unchanged: Vec<&Value> = plan["plan"].as_array().unwrap().iter().filter(|s| s["action"] != "unchanged").collect();
    assert!(not_unchanged.is_empty(), "{not_unchanged:?}");

    // ---- plan sees a change made behind tapaudit's back, provision converges it
    kms.disable_key_rotation().key_id(key_id).send().await.unwrap();
    let plan = emu.run(&["plan", "--stack", "dev", "--output", "json"]).ok("plan after change").json();
    let key_step = plan["plan"].as_array().unwrap().iter().find(|s| s["logical_id"] == "data-key").unwrap().clone();
    assert_eq!(key_step["action"], "update");
    assert_eq!(key_step["changes"][0]["field"], "rotation");
    emu.run(&["provision", "--stack", "dev"]).ok("converge");
    assert!(kms.get_key_rotation_status().key_id(key_id).send().await.unwrap().key_rotation_enabled());

    // ---- destroy: nothing carrying the stack's tag remains (the key waits out its window)
    let d = emu.run(&["destroy", "--stack", "dev", "--yes"]).ok("destroy");
    assert!(d.stderr.contains("destroy dev:"), "{}", d.stderr);
    assert_no_stack_resources(&cfg, "dev").await;
    let key = kms.describe_key().key_id(key_id).send().await.unwrap();
    assert_eq!(key.key_metadata().unwrap().key_state().map(|s| s.as_str()), Some("PendingDeletion"));
}

/// Every service: no live resource carries `tapaudit:stack=<stack>`.
async fn assert_no_stack_resources(cfg: &aws_config::SdkConfig, stack: &str) {
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let f = || stack_filter(stack);
    assert!(ec2.describe_vpcs().filters(f()).send().await.unwrap().vpcs().is_empty(), "vpc");
    assert!(ec2.describe_subnets().filters(f()).send().await.unwrap().subnets().is_empty(), "subnets");
    assert!(ec2.describe_security_groups().filters(f()).send().await.unwrap().security_groups().is_empty(), "sgs");
    assert!(ec2.describe_route_tables().filters(f()).send().await.unwrap().route_tables().is_empty(), "route tables");
    assert!(ec2.describe_internet_gateways().filters(f()).send().await.unwrap().internet_gateways().is_empty(), "igw");
    assert!(ec2.describe_addresses().filters(f()).send().await.unwrap().addresses().is_empty(), "eip");
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    assert!(
        !nats
            .nat_gateways()
            .iter()
            .any(|n| n.state().map(|s| s.as_str()) == Some("available")
                && n.tags().iter().any(|t| t.key() == Some("tapaudit:stack") && t.value() == Some(stack))),
        "nat"
    );
    let fls = ec2.describe_flow_logs().send().await.unwrap();
    assert!(!fls.flow_logs().iter().any(|f| f.tags().iter().any(|t| t.value() == Some(stack) && t.key() == Some("tapaudit:stack"))), "flow logs");
    let prefix = format!("tapaudit-{stack}-");
    let kinesis = aws_sdk_kinesis::Client::new(cfg);
    assert!(!kinesis.list_streams().send().await.unwrap().stream_names().iter().any(|s| s.starts_with(&prefix)), "streams");
    let sm = aws_sdk_secretsmanager::Client::new(cfg);
    assert!(!sm.list_secrets().send().await.unwrap().secret_list().iter().any(|s| s.name().unwrap_or_default().starts_with(&prefix)), "secrets");
    let rds = aws_sdk_rds::Client::new(cfg);
    assert!(
        !rds.describe_db_instances().send().await.unwrap().db_instances().iter().any(|d| d.db_instance_identifier().unwrap_or_default().starts_with(&prefix)),
        "db"
    );
    assert!(
        !rds.describe_db_subnet_groups()
            .send()
            .await
            .unwrap()
            .db_subnet_groups()
            .iter()
            .any(|d| d.db_subnet_group_name().unwrap_or_default().starts_with(&prefix)),
        "subnet group"
    );
    assert!(
        !rds.describe_db_parameter_groups()
            .send()
            .await
            .unwrap()
            .db_parameter_groups()
            .iter()
            .any(|d| d.db_parameter_group_name().unwrap_or_default().starts_with(&prefix)),
        "param group"
    );
    let logs = aws_sdk_cloudwatchlogs::Client::new(cfg);
    assert!(logs.describe_log_groups().log_group_name_prefix(format!("/tapaudit/{stack}/")).send().await.unwrap().log_groups().is_empty(), "log groups");
    let iam = aws_sdk_iam::Client::new(cfg);
    assert!(!iam.list_roles().send().await.unwrap().roles().iter().any(|r| r.role_name().starts_with(&prefix)), "roles");
    let ecs = aws_sdk_ecs::Client::new(cfg);
    let clusters = ecs.describe_clusters().clusters(format!("{prefix}data-processor-cluster")).send().await.unwrap();
    assert!(!clusters.clusters().iter().any(|c| c.status() == Some("ACTIVE")), "cluster");
    let tds = ecs.list_task_definitions().family_prefix(format!("{prefix}data-processor")).send().await.unwrap();
    assert!(tds.task_definition_arns().is_empty(), "task definitions: {:?}", tds.task_definition_arns());
    let api = aws_sdk_apigateway::Client::new(cfg);
    assert!(!api.get_rest_apis().send().await.unwrap().items().iter().any(|a| a.name().unwrap_or_default().starts_with(&prefix)), "apis");
    let kms = aws_sdk_kms::Client::new(cfg);
    for k in kms.list_keys().send().await.unwrap().keys() {
        let id = k.key_id().unwrap();
        let tags = kms.list_resource_tags().key_id(id).send().await.unwrap();
        if tags.tags().iter().any(|t| t.tag_key() == "tapaudit:stack" && t.tag_value() == stack) {
            let state = kms.describe_key().key_id(id).send().await.unwrap();
            assert_eq!(state.key_metadata().unwrap().key_state().map(|s| s.as_str()), Some("PendingDeletion"), "key {id}");
        }
    }
    let aliases = kms.list_aliases().send().await.unwrap();
    assert!(!aliases.aliases().iter().any(|a| a.alias_name().unwrap_or_default().starts_with(&format!("alias/{prefix}"))), "alias");
}

/// Count of this stack's resources of each kind that must never be duplicated.
async fn inventory(cfg: &aws_config::SdkConfig, stack: &str) -> Vec<(&'static str, usize)> {
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let f = || stack_filter(stack);
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    let nat_count = nats
        .nat_gateways()
        .iter()
        .filter(|n| matches!(n.state().map(|s| s.as_str()), Some("available") | Some("pending")))
        .filter(|n| n.tags().iter().any(|t| t.key() == Some("tapaudit:stack") && t.value() == Some(stack)))
        .count();
    let kms = aws_sdk_kms::Client::new(cfg);
    let mut keys = 0;
    for k in kms.list_keys().send().await.unwrap().keys() {
        let id = k.key_id().unwrap();
        let tags = kms.list_resource_tags().key_id(id).send().await.unwrap();
        let live = kms.describe_key().key_id(id).send().await.unwrap().key_metadata().unwrap().key_state().map(|s| s.as_str()) != Some("PendingDeletion");
        if live && tags.tags().iter().any(|t| t.tag_key() == "tapaudit:stack" && t.tag_value() == stack) {
            keys += 1;
        }
    }
    let api = aws_sdk_apigateway::Client::new(cfg);
    let prefix = format!("tapaudit-{stack}-");
    let apis = api.get_rest_apis().send().await.unwrap().items().iter().filter(|a| a.name().unwrap_or_default().starts_with(&prefix)).count();
    let ecs = aws_sdk_ecs::Client::new(cfg);
    let tds = ecs
        .list_task_definitions()
        .family_prefix(format!("{prefix}data-processor"))
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap()
        .task_definition_arns()
        .len();
    let fls = ec2.describe_flow_logs().send().await.unwrap();
    let fl = fls.flow_logs().iter().filter(|f| f.tags().iter().any(|t| t.key() == Some("tapaudit:stack") && t.value() == Some(stack))).count();
    vec![
        ("kms keys", keys),
        ("vpcs", ec2.describe_vpcs().filters(f()).send().await.unwrap().vpcs().len()),
        ("subnets", ec2.describe_subnets().filters(f()).send().await.unwrap().subnets().len()),
        ("internet gateways", ec2.describe_internet_gateways().filters(f()).send().await.unwrap().internet_gateways().len()),
        ("elastic ips", ec2.describe_addresses().filters(f()).send().await.unwrap().addresses().len()),
        ("nat gateways", nat_count),
        ("route tables", ec2.describe_route_tables().filters(f()).send().await.unwrap().route_tables().len()),
        ("security groups", ec2.describe_security_groups().filters(f()).send().await.unwrap().security_groups().len()),
        ("flow logs", fl),
        ("rest apis", apis),
        ("task definitions", tds),
    ]
}

/// Per stack; the security groups are the tasks', the database's and the VPC's default one
/// (closed and tagged by provision).
const EXPECTED: [(&str, usize); 11] = [
    ("kms keys", 1),
    ("vpcs", 1),
    ("subnets", 4),
    ("internet gateways", 1),
    ("elastic ips", 1),
    ("nat gateways", 1),
    ("route tables", 2),
    ("security groups", 3),
    ("flow logs", 1),
    ("rest apis", 1),
    ("task definitions", 1),
];

#[tokio::test(flavor = "multi_thread")]
async fn provision_killed_midway_resumes_without_duplicates() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;
    // kill the process after it reported this many finished resources (and once right at the start)
    for kill_after in [0usize, 4, 11, 19, 27] {
        let mut child = emu.tapaudit(&["provision", "--stack", "dev", "--concurrency", "4"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut seen = 0;
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            // plain progress: `provision: vpc created (0.1 s) vpc-... [3/31]`
            if line.starts_with("provision: ") && line.ends_with(']') {
                seen += 1;
            }
            if seen >= kill_after {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let resumed = emu.run(&["provision", "--stack", "dev", "--output", "json"]).ok(&format!("resume after kill at {kill_after}"));
        assert!(resumed.json()["steps"].as_array().unwrap().iter().all(|s| s["error"].is_null()));
        assert_eq!(inventory(&cfg, "dev").await, EXPECTED.to_vec(), "after a kill at step {kill_after}");
        let plan = emu.run(&["plan", "--stack", "dev", "--output", "json"]).ok("plan").json();
        assert!(plan["plan"].as_array().unwrap().iter().all(|s| s["action"] == "unchanged"), "{plan}");
        emu.run(&["destroy", "--stack", "dev", "--yes"]).ok("destroy between rounds");
        assert_no_stack_resources(&cfg, "dev").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_and_qa_side_by_side_and_destroy_touches_only_its_stack() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;
    emu.run(&["provision", "--stack", "dev"]).ok("provision dev");
    emu.run(&["provision", "--stack", "qa"]).ok("provision qa");
    assert_eq!(inventory(&cfg, "dev").await, EXPECTED.to_vec());
    assert_eq!(inventory(&cfg, "qa").await, EXPECTED.to_vec());
    for stack in ["dev", "qa"] {
        let plan = emu.run(&["plan", "--stack", stack, "--output", "json"]).ok("plan").json();
        let changed: Vec<&Value> = plan["plan"].as_array().unwrap().iter().filter(|s| s["action"] != "unchanged").collect();
        assert!(changed.is_empty(), "{stack}: {changed:?}");
    }
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vpcs = ec2.describe_vpcs().filters(stack_filter("qa")).send().await.unwrap();
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.1.0.0/16"));

    let d = emu.run(&["destroy", "--stack", "qa"]);
    assert_eq!(d.code, 2, "destroy without --yes and no terminal refuses");
    assert!(d.stderr.contains("pass --yes"));
    assert_eq!(inventory(&cfg, "qa").await, EXPECTED.to_vec(), "refused destroy deleted nothing");

    emu.run(&["destroy", "--stack", "qa", "--yes"]).ok("destroy qa");
    assert_no_stack_resources(&cfg, "qa").await;
    assert_eq!(inventory(&cfg, "dev").await, EXPECTED.to_vec(), "dev untouched");
    let plan = emu.run(&["plan", "--stack", "dev", "--output", "json"]).ok("plan dev").json();
    let changed: Vec<&Value> = plan["plan"].as_array().unwrap().iter().filter(|s| s["action"] != "unchanged").collect();
    assert!(changed.is_empty(), "dev after qa's destroy: {changed:?}");
    // a second destroy of qa finds nothing and succeeds
    let again = emu.run(&["destroy", "--stack", "qa", "--yes"]).ok("destroy qa again");
    assert!(again.stderr.contains("0 deleted"), "{}", again.stderr);
}
