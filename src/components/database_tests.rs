use super::*;
use crate::drift::tests::{line, one, run};
use crate::finding::Status;
use std::path::Path;

/// `data-key` encrypts the flow logs (TAIL).
const HEAD: &str = "project = \"tapaudit\"\nstack = \"t\"\n\n[keys.db-key]\n\n[keys.secrets-key]\n\n[keys.data-key]\n\n";
/// After the body, so that line numbers in the body are unchanged.
const TAIL: &str = "\n[network]\nflow_logs_key = \"data-key\"\n\n[security_groups.db-sg]\ningress = [{ port = 5432, from = \"vpc\" }]\n";

fn parse(body: &str) -> std::result::Result<super::super::Stack, Vec<String>> {
    let text = format!("{HEAD}{body}{TAIL}");
    crate::spec::parse(Path::new("t.toml"), text).map_err(|e| match e {
        Error::Spec(lines) => lines,
        other => vec![other.to_string()],
    })
}

fn errors(body: &str) -> Vec<String> {
    parse(body).err().unwrap_or_default()
}

const AURORA: &str = "[databases.main]\nengine = \"aurora-postgresql\"\nkey = \"db-key\"\nsecrets_key = \"secrets-key\"\nsecurity_group = \"db-sg\"\n";
const POSTGRES: &str = "[databases.main]\nkey = \"db-key\"\nsecrets_key = \"secrets-key\"\nsecurity_group = \"db-sg\"\n";

#[test]
fn defaults_validate_for_both_engines() {
    assert_eq!(errors(POSTGRES), Vec::<String>::new());
    assert_eq!(errors(AURORA), Vec::<String>::new());
    let d = Database::default();
    assert_eq!(d.master_username, "pipeline_owner");
    assert!(!RESERVED_DB_USERNAMES.contains(&d.master_username.as_str()));
    assert_eq!(d.rotation_days, 30);
}

#[test]
fn every_setting_aws_rejects_is_a_file_line_error() {
    let cases: &[(&str, &str)] = &[
        ("backup_retention_days = 0", "t.toml:14: databases.main.backup_retention_days must be between 1 and 35 (got 0)"),
        ("rotation_days = 400", "t.toml:14: databases.main.rotation_days must be between 1 and 365 (got 400)"),
        ("port = 80", "t.toml:14: databases.main.port must be between 1150 and 65535 (got 80)"),
        ("db_name = \"1db\"", "t.toml:14: databases.main.db_name must start with a letter and contain 1–63 letters, digits or underscores (got \"1db\")"),
        ("db_name = \"postgres\"", "t.toml:14: databases.main.db_name \"postgres\" is a reserved database name"),
        (
            "master_username = \"admin\"",
            "t.toml:14: databases.main.master_username \"admin\" is a reserved or default database username; pick another (default \"pipeline_owner\")",
        ),
        (
            "master_username = \"a_very_long_user_name\"",
            "t.toml:14: databases.main.master_username must start with a letter and contain 1–16 letters, digits or underscores",
        ),
        ("backup_window = \"3:00-4:00\"", "t.toml:14: databases.main.backup_window must be hh:mm-hh:mm in UTC (got \"3:00-4:00\")"),
        (
            "log_exports = [\"audit\"]",
            "t.toml:14: databases.main.log_exports[0] \"audit\" is not a PostgreSQL log type (valid: postgresql, upgrade, iam-db-auth-error)",
        ),
        ("instance_class = \"t3.micro\"", "t.toml:14: databases.main.instance_class is not an RDS instance class such as db.t3.micro (got \"t3.micro\")"),
        ("storage_type = \"io1\"", "t.toml:10: databases.main.allocated_storage_gb must be between 100 and 65536 for io1 (got 20)"),
        ("allocated_storage_gb = 10", "t.toml:14: databases.main.allocated_storage_gb must be between 20 and 65536 for gp3 (got 10)"),
    ];
    for (line, want) in cases {
        assert_eq!(errors(&format!("{POSTGRES}{line}\n")), vec![want.to_string()], "{line}");
    }
}

#[test]
fn aurora_capacity_and_instances() {
    let cases: &[(&str, &str)] = &[
        ("min_capacity = 0.25", "t.toml:15: databases.main.min_capacity must be between 0.5 and 128 ACUs in steps of 0.5 (got 0.25)"),
        ("max_capacity = 200.0", "t.toml:15: databases.main.max_capacity must be between 1 and 128 ACUs in steps of 0.5 (got 200)"),
        ("min_capacity = 8.0\nmax_capacity = 2.0", "t.toml:16: databases.main.max_capacity must be at least min_capacity (got 8–2)"),
        ("instances = 0", "t.toml:15: databases.main.instances must be between 1 and 15 (got 0)"),
        ("engine_version = \"16.8\"", "t.toml:15: databases.main.engine_version \"16.8\" is not a supported aurora-postgresql version (supported: 13.15, 13.16, 14.12, 14.13, 15.7, 15.8, 15.10, 16.3, 16.4, 16.6, 17.4)"),
    ];
    for (line, want) in cases {
        assert_eq!(errors(&format!("{AURORA}{line}\n")), vec![want.to_string()], "{line}");
    }
}

#[test]
fn settings_of_the_other_engine_are_errors_at_their_line() {
    assert_eq!(
        errors(&format!("{AURORA}multi_az = true\ninstance_class = \"db.r6g.large\"\n")),
        vec![
            "t.toml:16: databases.main.instance_class is a setting of engine \"postgres\"; aurora-postgresql (Serverless v2) does not take it: remove it",
            "t.toml:15: databases.main.multi_az is a setting of engine \"postgres\"; aurora-postgresql (Serverless v2) does not take it: remove it",
        ]
    );
    assert_eq!(
        errors(&format!("{POSTGRES}max_capacity = 8.0\n")),
        vec!["t.toml:14: databases.main.max_capacity is a setting of engine \"aurora-postgresql\"; an RDS postgres instance does not take it: remove it"]
    );
}

#[test]
fn references_are_checked() {
    assert_eq!(
        errors("[databases.main]\nsecrets_key = \"secrets-key\"\nsecurity_group = \"db-sg\"\n"),
        vec![
            "t.toml:4: keys.db-key is not used by any component: remove it, or name it in a component's `key`",
            "t.toml:10: databases.main.key is required: name a key of the stack ([keys.<id>])"
        ]
    );
    assert_eq!(
        errors("[databases.main]\nkey = \"nope\"\nsecrets_key = \"secrets-key\"\nsecurity_group = \"db-sg\"\n"),
        vec![
            "t.toml:4: keys.db-key is not used by any component: remove it, or name it in a component's `key`",
            "t.toml:11: databases.main.key names \"nope\", which the stack file does not declare (expected a key)"
        ]
    );
    assert_eq!(
        errors("[databases.main]\nkey = \"db-key\"\nsecrets_key = \"secrets-key\"\nsecurity_group = \"db-key\"\n"),
        vec!["t.toml:13: databases.main.security_group names \"db-key\", which is a key (keys.db-key), not a security group"]
    );
    // the keys' policies admit the services that use them
    let stack = parse(POSTGRES).unwrap();
    let cx = |id: &'static str| super::super::Cx { stack: &stack, id, path: format!("keys.{id}") };
    assert!(super::super::key::uses(&cx("db-key")).services.contains("rds"));
    assert!(super::super::key::uses(&cx("secrets-key")).services.contains("secretsmanager"));
    assert!(!super::super::key::uses(&cx("secrets-key")).services.contains("rds"));
}

#[test]
fn aurora_desired_state_is_a_serverless_cluster_spread_over_zones_with_a_rotated_managed_secret() {
    let stack = parse(&format!("{AURORA}min_capacity = 0.5\nmax_capacity = 2.0\nrotation_days = 14\n")).unwrap();
    let st = crate::spec::desired::desired(&stack);
    let c = st.rds.clusters.iter().next().expect("cluster");
    assert_eq!(c.meta.id, "tapaudit-t-main");
    assert_eq!(c.meta.logical_id(), Some("main"));
    assert_eq!(c.kms_key_id.as_deref(), Some("arn:aws:kms:us-east-1:000000000000:key/db-key"));
    assert_eq!(c.members.iter().map(|m| m.instance_id.as_str()).collect::<Vec<_>>(), vec!["tapaudit-t-main-instance-1", "tapaudit-t-main-instance-2"]);
    assert_eq!(c.parameter_group.as_deref(), Some("tapaudit-t-main-aurora-postgresql16"));
    let members: Vec<&DbInstance> = st.rds.instances.iter().collect();
    assert_eq!(members.len(), 2);
    let zones: BTreeSet<String> = members.iter().map(|m| m.availability_zone.known().cloned().unwrap()).collect();
    assert_eq!(zones.len(), 2, "writer and reader in different zones");
    assert!(members.iter().all(|m| m.instance_class == "db.serverless" && m.cluster_id.as_deref() == Some("tapaudit-t-main")));
    let pg = st.rds.parameter_groups.iter().next().unwrap();
    assert_eq!(pg.scope, "cluster");
    assert_eq!(pg.tls_parameters.known().unwrap()[FORCE_SSL].value.as_deref(), Some("1"));
    let s = st.secrets.secrets.iter().next().unwrap();
    assert_eq!(s.meta.logical_id(), Some("main-master-secret"));
    assert_eq!(s.kms_key_id.as_deref(), Some("arn:aws:kms:us-east-1:000000000000:key/secrets-key"));
    assert!(s.rotation_enabled);
    assert_eq!(s.rotation_interval_days, Some(14));
}

#[test]
fn postgres_desired_state_and_nodes() {
    let stack = parse(POSTGRES).unwrap();
    let st = crate::spec::desired::desired(&stack);
    let i = st.rds.instances.iter().next().unwrap();
    assert_eq!((i.meta.id.as_str(), i.instance_class.as_str(), i.master_username.as_deref()), ("tapaudit-t-main", "db.t3.micro", Some("pipeline_owner")));
    assert_eq!(i.multi_az, Observed::Known(true));
    assert_eq!(i.parameter_groups, vec!["tapaudit-t-main-postgres16"]);
    assert!(st.rds.clusters.is_empty());
    let ids: Vec<String> = crate::components::nodes(&stack).into_iter().filter(|n| n.id.starts_with("main")).map(|n| n.id).collect();
    assert_eq!(ids, vec!["main-subnet-group", "main-parameter-group", "main", "main-master-secret"]);
    let aurora = parse(AURORA).unwrap();
    let ids: Vec<String> = crate::components::nodes(&aurora).into_iter().filter(|n| n.id.starts_with("main")).map(|n| n.id).collect();
    assert_eq!(ids, vec!["main-subnet-group", "main-parameter-group", "main", "main-instance-1", "main-instance-2", "main-master-secret"]);
}

#[test]
fn the_dev_stack_judges_its_managed_secret_with_zero_suppressions() {
    let stack = crate::drift::tests::stack();
    assert!(stack.spec.suppressions.is_empty());
    let st = crate::spec::desired::desired(&stack);
    let s = st.secrets.secrets.iter().next().unwrap();
    assert_eq!(s.meta.logical_id(), Some("db-master-secret"));
    assert!(s.rotation_enabled && s.rotation_interval_days == Some(30));
}

// ---- drift (moved from drift::tests, on the dev stack's `[databases.db]`)

#[test]
fn backups_public_access_and_log_exports_drift() {
    assert_eq!(
        run(|l| l.rds.instances.items.values_mut().for_each(|d| d.backup_retention_days = Observed::Known(1))),
        one("drift-changed", "db", "backup_retention_days", "databases.db.backup_retention_days")
    );
    assert_eq!(
        run(|l| l.rds.instances.items.values_mut().for_each(|d| d.publicly_accessible = Observed::Known(true))),
        one("drift-changed", "db", "publicly_accessible", "databases.db")
    );
    assert_eq!(
        run(|l| l.rds.instances.items.values_mut().for_each(|d| d.log_exports = vec!["postgresql".into()])),
        one("drift-changed", "db", "log_exports", "databases.db.log_exports")
    );
}

#[test]
fn the_master_secret_drifts_on_rotation_and_key() {
    assert_eq!(
        run(|l| l.secrets.secrets.items.values_mut().for_each(|s| s.rotation_enabled = false)),
        one("drift-changed", "db-master-secret", "rotation_enabled", "databases.db.rotation_days")
    );
    assert_eq!(
        run(|l| l.secrets.secrets.items.values_mut().for_each(|s| s.rotation_interval_days = Some(90))),
        one("drift-changed", "db-master-secret", "rotation_interval_days", "databases.db.rotation_days")
    );
    assert_eq!(
        run(|l| l.secrets.secrets.items.values_mut().for_each(|s| s.kms_key_id = None)),
        one("drift-changed", "db-master-secret", "kms_key_id", "databases.db.secrets_key")
    );
    assert_eq!(line("databases.db.rotation_days"), crate::drift::tests::stack().line_of("databases.db.rotation_days"));
}

#[test]
fn parameter_group_force_ssl_and_unknown_evidence() {
    assert_eq!(
        run(|l| l.rds.parameter_groups.items.values_mut().for_each(|g| {
            if let Observed::Known(m) = &mut g.tls_parameters {
                m.get_mut(FORCE_SSL).unwrap().value = Some("0".into());
            }
        })),
        one("drift-changed", "db-parameter-group", FORCE_SSL, "databases.db.force_ssl")
    );
    let got = run(|l| l.rds.instances.items.values_mut().for_each(|d| d.deletion_protection = Observed::Unknown("AccessDenied".into())));
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].1, got[0].2.as_str()), (Status::Error, "db"));
}

#[test]
fn aurora_cluster_drift_on_hand_built_live_state() {
    let stack = parse(AURORA).unwrap();
    let desired = crate::spec::desired::desired(&stack);
    let json = serde_json::to_string(&desired).unwrap().replace("000000000000", "123456789012");
    let mut live: State = serde_json::from_str(&json).unwrap();
    let cat = crate::controls::Catalogue::load().unwrap();
    let fw = ["fedramp-moderate".to_string()];
    let resolve = |live: &State| {
        crate::components::drift(&desired, live, &stack, &cat, &fw)
            .into_iter()
            .map(|f| (f.status, f.evidence.expected["field"].as_str().unwrap_or_default().to_string()))
            .collect::<Vec<_>>()
    };
    // zones are AWS-assigned names, not drift; and a fresh copy has none
    for m in live.rds.instances.items.values_mut() {
        m.availability_zone = Observed::Known("us-east-1a".into());
    }
    assert_eq!(resolve(&live), vec![]);
    live.rds.clusters.items.values_mut().for_each(|c| c.backup_retention_days = Observed::Known(3));
    assert_eq!(resolve(&live), vec![(Status::Fail, "backup_retention_days".to_string())]);
    live.rds.clusters.items.values_mut().for_each(|c| {
        c.backup_retention_days = Observed::Known(7);
        c.members.pop();
    });
    assert_eq!(resolve(&live), vec![(Status::Fail, "members".to_string())]);
}

#[test]
fn final_snapshot_ids_are_valid_rds_identifiers_and_sort_by_time() {
    let at = time::macros::datetime!(2026-12-01 08:05:09 UTC);
    let id = final_snapshot_id("tapaudit-dev-db", at);
    assert_eq!(id, "tapaudit-dev-db-final-20261201-080509");
    assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    assert!(!id.contains("--") && !id.ends_with('-') && id.len() <= 255);
    let later = final_snapshot_id("tapaudit-dev-db", time::macros::datetime!(2026-12-01 10:00:00 UTC));
    assert!(later > id);
}
