//! Stack files through the built binary: the shipped stacks validate; every class of bad
//! input gets exactly one `file:line: field ...` message on stderr and exit code 2.

use std::process::Command;

fn validate(path: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
        .args(["validate", "--stack", path])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run tapaudit");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn assert_rejected(path: &str, message: &str) {
    let (code, stdout, stderr) = validate(path);
    assert_eq!(code, 2, "{path}: exit code (stderr: {stderr})");
    assert_eq!(stdout, "", "{path}: nothing on stdout");
    assert_eq!(stderr.trim_end(), format!("tapaudit: error: {message}"), "{path}");
    assert!(!stderr.contains("panicked"), "{path}");
}

#[test]
fn shipped_stacks_validate() {
    // the four blueprints, qa (dev again, beside it) and the all-defaults stack
    for (stack, name, resources) in [
        ("dev", "dev", 37),
        ("qa", "qa", 37),
        ("iot", "iot", 36),
        ("ferpa", "ferpa", 70),
        ("lgpd", "lgpd", 27),
        ("fixtures/stacks/minimal.toml", "minimal", 37),
    ] {
        let (code, stdout, stderr) = validate(stack);
        assert_eq!(code, 0, "{stack}: {stderr}");
        assert!(stdout.contains(&format!("ok: stack {name} ({resources} logical resources")), "{stdout}");
    }
}

#[test]
fn out_of_range_backup_retention() {
    assert_rejected(
        "fixtures/stacks/bad-backup.toml",
        "fixtures/stacks/bad-backup.toml:6: databases.main.backup_retention_days must be between 1 and 35 (got 40)",
    );
}

#[test]
fn retention_cloudwatch_does_not_accept() {
    assert_rejected(
        "fixtures/stacks/bad-retention.toml",
        "fixtures/stacks/bad-retention.toml:5: logs.retention_days 400000 is not a retention CloudWatch Logs accepts (one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)",
    );
}

#[test]
fn invalid_cidr() {
    assert_rejected("fixtures/stacks/bad-cidr.toml", "fixtures/stacks/bad-cidr.toml:4: network.cidr is not an IPv4 CIDR block (got \"10.0.0.300/16\")");
}

#[test]
fn overlapping_subnets_point_at_the_array_element() {
    assert_rejected(
        "fixtures/stacks/bad-overlap.toml",
        "fixtures/stacks/bad-overlap.toml:8: network.private_subnets[1] 10.0.1.0/25 overlaps network.public_subnets[1] (10.0.1.0/24)",
    );
}

#[test]
fn subnet_outside_the_vpc() {
    assert_rejected(
        "fixtures/stacks/bad-outside.toml",
        "fixtures/stacks/bad-outside.toml:3: network.private_subnets[1] 10.9.11.0/24 is not inside the VPC CIDR 10.0.0.0/16",
    );
}

#[test]
fn unknown_engine_version() {
    let (code, _, stderr) = validate("fixtures/stacks/bad-engine.toml");
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(
            "tapaudit: error: fixtures/stacks/bad-engine.toml:3: databases.main.engine_version \"9.6\" is not a supported postgres version (supported: "
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn reserved_db_username() {
    assert_rejected(
        "fixtures/stacks/bad-username.toml",
        "fixtures/stacks/bad-username.toml:3: databases.main.master_username \"postgres\" is a reserved or default database username; pick another (default \"pipeline_owner\")",
    );
}

#[test]
fn unknown_key_is_rejected_with_its_path() {
    assert_rejected(
        "fixtures/stacks/bad-unknown-key.toml",
        "fixtures/stacks/bad-unknown-key.toml:5: streams.stream.encryption: unknown field `encryption`, expected one of `shard_count`, `retention_hours`, `key`, `shard_metrics`",
    );
}

#[test]
fn unknown_framework() {
    assert_rejected(
        "fixtures/stacks/bad-framework.toml",
        "fixtures/stacks/bad-framework.toml:3: frameworks[1] names an unknown framework \"hipaa\" (known: fedramp-moderate, ferpa, lgpd)",
    );
}

#[test]
fn toml_syntax_error() {
    assert_rejected("fixtures/stacks/bad-syntax.toml", "fixtures/stacks/bad-syntax.toml:2: invalid table header expected `.`, `]`");
}

#[test]
fn wrong_value_type_names_the_field() {
    assert_rejected(
        "fixtures/stacks/bad-type.toml",
        "fixtures/stacks/bad-type.toml:2: databases.main.backup_retention_days: invalid type: string \"seven\", expected u32",
    );
}

#[test]
fn invalid_fargate_size() {
    assert_rejected(
        "fixtures/stacks/bad-fargate.toml",
        "fixtures/stacks/bad-fargate.toml:3: services.web.memory 4096 MiB is not a valid Fargate memory size for 256 CPU units",
    );
}

#[test]
fn short_backup_window() {
    assert_rejected(
        "fixtures/stacks/bad-window.toml",
        "fixtures/stacks/bad-window.toml:2: databases.main.backup_window must be at least 30 minutes long (got \"03:00-03:10\")",
    );
}

#[test]
fn invalid_project_name() {
    assert_rejected(
        "fixtures/stacks/bad-name.toml",
        "fixtures/stacks/bad-name.toml:1: project must be 1–20 lowercase letters, digits or single hyphens, starting with a letter (got \"Tap_Audit\")",
    );
}

#[test]
fn missing_stack_file() {
    assert_rejected("nope", "stacks/nope.toml: No such file or directory (os error 2)");
}

#[test]
fn unreachable_endpoint_is_one_line_naming_the_endpoint() {
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
        .args(["plan", "--stack", "dev", "--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1", "--timeout", "3"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("tapaudit: error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("sts GetCallerIdentity failed for http://127.0.0.1:9: ConnectionError"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_noncompliant_stack_fails_before_deployment_with_sarif_on_the_offending_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = "fixtures/stacks/noncompliant.toml";
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
        .args(["scan", "--stack", stack, "--desired", "--format", "json,sarif", "--output-dir", tmp.path().to_str().unwrap()])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9") // nothing may be called
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(stack)).unwrap();
    let line = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() as i64 + 1;
    let sarif: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.sarif")).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let at = |rule: &str| -> Vec<(String, i64)> {
        results
            .iter()
            .filter(|r| r["ruleId"] == rule)
            .map(|r| {
                let p = &r["locations"][0]["physicalLocation"];
                (p["artifactLocation"]["uri"].as_str().unwrap().to_string(), p["region"]["startLine"].as_i64().unwrap())
            })
            .collect()
    };
    assert_eq!(at("kms-key-rotation-enabled"), vec![(stack.to_string(), line("rotation = false"))]);
    assert_eq!(at("rds-backup-retention"), vec![(stack.to_string(), line("backup_retention_days"))]);
    assert_eq!(at("sg-no-internet-ingress-data-ports"), vec![(stack.to_string(), line("ingress = ["))]);
    assert!(sarif["runs"][0]["automationDetails"]["id"].as_str().unwrap().contains("desired"));
    let valid = Command::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/validate-sarif.sh"))
        .arg(tmp.path().join("tapaudit.sarif"))
        .status()
        .unwrap();
    assert!(valid.success(), "pre-deployment SARIF validates");

    // provision refuses it before any AWS call (the endpoint is dead on purpose)
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
        .args(["provision", "--stack", stack])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{stack}:{}: high sg-no-internet-ingress-data-ports", line("ingress = ["))), "{stderr}");
    assert!(stderr.contains("fix it or pass --allow-noncompliant"), "{stderr}");
    assert!(!stderr.contains("GetCallerIdentity"), "no AWS call was made: {stderr}");
    // the shipped stacks pass their own pre-deployment check
    for stack in ["dev", "qa", "iot", "ferpa", "lgpd"] {
        let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
            .args(["scan", "--stack", stack, "--desired", "--format", "json", "--output-dir", tmp.path().join(stack).to_str().unwrap()])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{stack}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn missing_credentials_are_one_line_naming_the_cause() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
        .args(["plan", "--stack", "dev", "--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1", "--timeout", "3"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.path().join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("credentials"))
        .env("HOME", home.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("tapaudit: error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("CredentialsError") && errors[0].contains("configure credentials"), "{stderr}");
}

#[test]
fn parameters_may_only_tighten_the_frameworks() {
    assert_rejected(
        "fixtures/stacks/bad-parameter.toml",
        "fixtures/stacks/bad-parameter.toml:5: parameters.min_retention_days 30 is weaker than 365, which fedramp-moderate requires for logs-log-group-retention",
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
        .args([
            "scan",
            "--stack",
            "fixtures/stacks/strict.toml",
            "--desired",
            "--format",
            "json",
            "--fail-on",
            "medium",
            "--output-dir",
            tmp.path().to_str().unwrap(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap()).unwrap();
    let retention: Vec<&serde_json::Value> = r["findings"].as_array().unwrap().iter().filter(|f| f["control_id"] == "logs-log-group-retention").collect();
    assert!(!retention.is_empty());
    assert!(retention.iter().all(|f| f["status"] == "fail" && f["message"].as_str().unwrap().contains("731")), "{retention:#?}");
}
