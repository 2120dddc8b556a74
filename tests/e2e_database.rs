//! End to end against the emulator, through the built binary: `[databases.<id>]` as an Aurora
//! Serverless v2 cluster (writer + reader in different zones) and as an RDS PostgreSQL instance,
//! with the master password managed by RDS in Secrets Manager and rotated on the stack file's
//! schedule: provision, re-run (nothing changes), plan (no changes), a stack scan with zero
//! failing and zero suppressed findings, changes behind tapaudit's back (drift and a failing
//! control), destroy (nothing tagged remains).

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use support::{Emulator, Run};

fn stack_file(dir: &std::path::Path, stack: &str, database: &str) -> String {
    // a service receives the database's managed secret through its task definition's secrets
    let text = format!(
        r#"project = "tapaudit"
stack = "{stack}"
region = "us-east-1"
frameworks = ["fedramp-moderate"]

[keys.data-key]

[keys.db-key]

[keys.secrets-key]

[network]
az_count = 2
nat_gateways = "single"
flow_logs_key = "data-key"

[security_groups.ecs-tasks-sg]
ingress = [{{ port = 8080, from = "vpc" }}]
egress = [{{ protocol = "all", to = "0.0.0.0/0" }}]

[security_groups.db-sg]
ingress = [{{ port = 5432, from = "ecs-tasks-sg" }}]

[databases.main]
{database}
key = "db-key"
secrets_key = "secrets-key"
security_group = "db-sg"
deletion_protection = true

[services.app]
security_group = "ecs-tasks-sg"
log_key = "data-key"
database = "main"
"#
    );
    let path = dir.join(format!("{stack}.toml"));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn scan(emu: &Emulator, stack: &str, dir: &std::path::Path) -> (Run, Value) {
    let run = emu.run(&["scan", "--stack", stack, "--format", "json", "--output-dir", dir.to_str().unwrap()]);
    let report = serde_json::from_str(&std::fs::read_to_string(dir.join("tapaudit.json")).unwrap()).unwrap();
    (run, report)
}

/// (control id, logical id or resource id) of every finding with this status.
fn with_status(report: &Value, status: &str) -> BTreeSet<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == status)
        .map(|f| {
            let r = &f["resource"];
            let who = r["logical_id"].as_str().or(r["id"].as_str()).unwrap_or_default().to_string();
            (f["control_id"].as_str().unwrap().to_string(), who)
        })
        .collect()
}

fn suppressed(report: &Value) -> usize {
    report["findings"].as_array().unwrap().iter().filter(|f| !f["suppression"].is_null()).count()
}

fn all_unchanged(run: &Run, key: &str) {
    let steps = run.json()[key].as_array().unwrap().clone();
    let changed: Vec<&Value> = steps.iter().filter(|s| s["action"] != "unchanged").collect();
    assert!(changed.is_empty(), "{changed:?}");
}

fn has_stack_tags(tags: &[(String, String)], stack: &str, logical: &str) -> bool {
    tags.iter().any(|(k, v)| k == "tapaudit:stack" && v == stack) && tags.iter().any(|(k, v)| k == "tapaudit:logical-id" && v == logical)
}

async fn secret_of(sm: &aws_sdk_secretsmanager::Client, arn: &str) -> aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput {
    sm.describe_secret().secret_id(arn).send().await.unwrap()
}

async fn key_arn(kms: &aws_sdk_kms::Client, stack: &str, key: &str) -> String {
    let alias = format!("alias/tapaudit-{stack}-{key}");
    kms.describe_key().key_id(alias).send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_string()
}

/// Provision, idempotence, plan, a clean stack scan, drift behind tapaudit's back, destroy.
async fn lifecycle(emu: &Emulator, path: &str, stack: &str, aurora: bool) {
    let cfg = emu.sdk().await;
    let rds = aws_sdk_rds::Client::new(&cfg);
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    let kms = aws_sdk_kms::Client::new(&cfg);

    let run = emu.run(&["provision", "--stack", path, "--output", "json"]).ok("provision");
    let ident = format!("tapaudit-{stack}-main");
    let db_key = key_arn(&kms, stack, "db-key").await;
    let secrets_key = key_arn(&kms, stack, "secrets-key").await;

    // ---- the database and its RDS-managed master secret
    let (secret_arn, secret_kms) = if aurora {
        let c = rds.describe_db_clusters().db_cluster_identifier(&ident).send().await.unwrap();
        let c = &c.db_clusters()[0];
        assert_eq!(c.engine(), Some("aurora-postgresql"));
        assert_eq!(c.storage_encrypted(), Some(true));
        assert_eq!(c.kms_key_id(), Some(db_key.as_str()));
        let scaling = c.serverless_v2_scaling_configuration().unwrap();
        assert_eq!((scaling.min_capacity(), scaling.max_capacity()), (Some(0.5), Some(2.0)));
        assert_eq!(c.backup_retention_period(), Some(30));
        assert_eq!(c.master_username(), Some("pipeline_owner"));
        let pg = c.db_cluster_parameter_group().unwrap().to_string();
        let params = rds.describe_db_cluster_parameters().db_cluster_parameter_group_name(&pg).source("user").send().await.unwrap();
        assert!(params.parameters().iter().any(|p| p.parameter_name() == Some("rds.force_ssl") && p.parameter_value() == Some("1")), "{pg}");
        let members: Vec<String> = c.db_cluster_members().iter().map(|m| m.db_instance_identifier().unwrap().to_string()).collect();
        assert_eq!(members.len(), 2, "a writer and a reader");
        let mut zones = BTreeSet::new();
        for m in &members {
            let i = rds.describe_db_instances().db_instance_identifier(m).send().await.unwrap();
            let i = &i.db_instances()[0];
            assert_eq!(i.db_instance_class(), Some("db.serverless"));
            assert_eq!(i.publicly_accessible(), Some(false));
            zones.insert(i.availability_zone().unwrap().to_string());
        }
        assert_eq!(zones.len(), 2, "writer and reader in different zones: {zones:?}");
        let s = c.master_user_secret().expect("RDS manages the master password");
        (s.secret_arn().unwrap().to_string(), s.kms_key_id().map(str::to_string))
    } else {
        let i = rds.describe_db_instances().db_instance_identifier(&ident).send().await.unwrap();
        let i = &i.db_instances()[0];
        assert_eq!(i.engine(), Some("postgres"));
        assert_eq!(i.kms_key_id(), Some(db_key.as_str()));
        assert_eq!(i.multi_az(), Some(true));
        assert_eq!(i.master_username(), Some("pipeline_owner"));
        let s = i.master_user_secret().expect("RDS manages the master password");
        (s.secret_arn().unwrap().to_string(), s.kms_key_id().map(str::to_string))
    };
    assert_eq!(secret_kms.as_deref(), Some(secrets_key.as_str()), "the master secret is encrypted with secrets_key");
    let outputs = &run.json()["outputs"];
    assert_eq!(outputs["db_secret_arn"].as_str(), Some(secret_arn.as_str()));
    let s = secret_of(&sm, &secret_arn).await;
    assert_eq!(s.rotation_enabled(), Some(true));
    assert_eq!(s.rotation_rules().and_then(|r| r.automatically_after_days()), Some(30));
    let tags: Vec<(String, String)> = s.tags().iter().map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string())).collect();
    assert!(has_stack_tags(&tags, stack, "main-master-secret"), "{tags:?}");
    // the password never passed through tapaudit: no secret value in its output
    let value = sm.get_secret_value().secret_id(&secret_arn).send().await.unwrap();
    let value: Value = serde_json::from_str(value.secret_string().unwrap()).unwrap();
    if let Some(pw) = value["password"].as_str() {
        assert!(!run.stdout.contains(pw) && !run.stderr.contains(pw));
    }
    // the service receives this database's secret through `secrets` (valueFrom), never its environment
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    let td = ecs.describe_task_definition().task_definition(outputs["services.app.task_definition_arn"].as_str().unwrap()).send().await.unwrap();
    let c = &td.task_definition().unwrap().container_definitions()[0];
    assert!(c.secrets().iter().any(|s| s.name() == "DATABASE_SECRET" && s.value_from() == secret_arn), "{:?}", c.secrets());
    assert!(!c.environment().iter().any(|kv| kv.value() == Some(secret_arn.as_str())), "{:?}", c.environment());

    // ---- idempotent; plan shows nothing to do
    all_unchanged(&emu.run(&["provision", "--stack", path, "--output", "json"]).ok("second provision"), "steps");
    all_unchanged(&emu.run(&["plan", "--stack", path, "--output", "json"]).ok("plan"), "plan");

    // ---- the stack scan: zero failing, zero suppressed, zero errored; rotation passes
    let tmp = tempfile::tempdir().unwrap();
    let (clean, r) = scan(emu, path, &tmp.path().join("clean"));
    assert_eq!(clean.code, 0, "{}\nfail: {:?}\nerror: {:?}\n{}", clean.stderr, with_status(&r, "fail"), with_status(&r, "error"), r["errors"]);
    assert_eq!(with_status(&r, "fail"), BTreeSet::new());
    assert_eq!(with_status(&r, "error"), BTreeSet::new());
    assert_eq!(suppressed(&r), 0);
    let pass = with_status(&r, "pass");
    for (control, who) in [("secrets-rotation-enabled", "main-master-secret"), ("secrets-cmk", "main-master-secret"), ("rds-force-ssl", "main")] {
        assert!(pass.contains(&(control.to_string(), who.to_string())), "{control} passes on {who}: {pass:?}");
    }
    if aurora {
        assert!(pass.contains(&("rds-multi-az".to_string(), "main".to_string())), "{pass:?}");
    }

    // ---- behind tapaudit's back: a longer rotation interval, shorter backups (moto refuses
    // CancelRotateSecret on a secret without a rotation Lambda, so rotation cannot be turned off)
    let rules = aws_sdk_secretsmanager::types::RotationRulesType::builder().automatically_after_days(90).build();
    sm.rotate_secret().secret_id(&secret_arn).rotation_rules(rules).rotate_immediately(false).send().await.unwrap();
    if aurora {
        rds.modify_db_cluster().db_cluster_identifier(&ident).backup_retention_period(3).apply_immediately(true).send().await.unwrap();
    } else {
        rds.modify_db_instance().db_instance_identifier(&ident).backup_retention_period(3).apply_immediately(true).send().await.unwrap();
    }
    let (bad, r) = scan(emu, path, &tmp.path().join("bad"));
    // (exit 0 or 1 by the findings' severity; the findings are what is checked)
    assert!(bad.code == 0 || bad.code == 1, "{}", bad.stderr);
    let fail = with_status(&r, "fail");
    for (control, who) in [("drift-changed", "main-master-secret"), ("drift-changed", "main"), ("rds-backup-retention", "main")] {
        assert!(fail.contains(&(control.to_string(), who.to_string())), "{control} fails on {who}: {fail:?}");
    }
    let plan = emu.run(&["plan", "--stack", path, "--output", "json"]).ok("plan after drift").json();
    let changed: BTreeSet<String> =
        plan["plan"].as_array().unwrap().iter().filter(|s| s["action"] == "update").map(|s| s["logical_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(changed, BTreeSet::from(["main".to_string(), "main-master-secret".to_string()]));
    // provision converges both
    emu.run(&["provision", "--stack", path]).ok("converge");
    let s = secret_of(&sm, &secret_arn).await;
    assert_eq!((s.rotation_enabled(), s.rotation_rules().and_then(|r| r.automatically_after_days())), (Some(true), Some(30)));
    all_unchanged(&emu.run(&["plan", "--stack", path, "--output", "json"]).ok("plan after converge"), "plan");

    // ---- destroy: nothing tagged with the stack remains (RDS deletes its managed secret)
    emu.run(&["destroy", "--stack", path, "--yes", "--skip-final-snapshot"]).ok("destroy");
    let prefix = format!("tapaudit-{stack}-");
    let instances = rds.describe_db_instances().send().await.unwrap();
    assert!(!instances.db_instances().iter().any(|d| d.db_instance_identifier().unwrap_or_default().starts_with(&prefix)), "instances");
    let clusters = rds.describe_db_clusters().send().await.unwrap();
    assert!(!clusters.db_clusters().iter().any(|d| d.db_cluster_identifier().unwrap_or_default().starts_with(&prefix)), "clusters");
    let groups = rds.describe_db_subnet_groups().send().await.unwrap();
    assert!(!groups.db_subnet_groups().iter().any(|g| g.db_subnet_group_name().unwrap_or_default().starts_with(&prefix)), "subnet groups");
    let pgs = rds.describe_db_parameter_groups().send().await.unwrap();
    assert!(!pgs.db_parameter_groups().iter().any(|g| g.db_parameter_group_name().unwrap_or_default().starts_with(&prefix)), "parameter groups");
    let cpgs = rds.describe_db_cluster_parameter_groups().send().await.unwrap();
    assert!(!cpgs.db_cluster_parameter_groups().iter().any(|g| g.db_cluster_parameter_group_name().unwrap_or_default().starts_with(&prefix)), "cluster pgs");
    let secrets = sm.list_secrets().send().await.unwrap();
    let tagged = secrets.secret_list().iter().filter(|s| s.tags().iter().any(|t| t.key() == Some("tapaudit:stack") && t.value() == Some(stack))).count();
    assert_eq!(tagged, 0, "secrets tagged with the stack");
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let f = aws_sdk_ec2::types::Filter::builder().name("tag:tapaudit:stack").values(stack).build();
    assert!(ec2.describe_vpcs().filters(f).send().await.unwrap().vpcs().is_empty(), "vpc");
}

#[tokio::test(flavor = "multi_thread")]
async fn aurora_serverless_and_postgres_databases_with_rds_managed_rotated_credentials() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let aurora = stack_file(
        dir.path(),
        "dbaurora",
        "engine = \"aurora-postgresql\"\nengine_version = \"16.4\"\nmin_capacity = 0.5\nmax_capacity = 2.0\ninstances = 2\ndb_name = \"sensordata\"\nbackup_retention_days = 30\nrotation_days = 30",
    );
    assert_eq!(emu.run(&["validate", "--stack", &aurora]).code, 0);
    lifecycle(&emu, &aurora, "dbaurora", true).await;
    let postgres = stack_file(dir.path(), "dbpostgres", "engine = \"postgres\"\ninstance_class = \"db.t3.micro\"\nmulti_az = true\nbackup_retention_days = 7");
    lifecycle(&emu, &postgres, "dbpostgres", false).await;
}
