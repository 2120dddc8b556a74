//! Stack files with load balancers and APIs through the built binary: each class of bad input
//! gets its `file:line: field ...` message on stderr and exit code 2, before any AWS call.

use std::process::Command;

fn validate(name: &str, text: &str) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("tapaudit-stack-files-edge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
        .args(["validate", "--stack", path.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .expect("run tapaudit");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "nothing on stdout");
    (out.status.code().unwrap_or(-1), stderr.replace(&format!("{}/", dir.display()), ""))
}

/// The stack file is refused and `message` (at `file:line`) is one of its problems.
fn assert_refused(name: &str, text: &str, message: &str) {
    let (code, stderr) = validate(name, text);
    assert_eq!(code, 2, "{name}: {stderr}");
    assert!(stderr.lines().any(|l| l.trim_start_matches("tapaudit: error: ").trim() == message), "{name}: want {message:?} in\n{stderr}");
}

const HEAD: &str = r#"project = "tapaudit"
stack = "edge"
frameworks = ["ferpa"]

[keys.data-key]
"#;

fn lb(settings: &str) -> String {
    format!("{HEAD}\n[load_balancers.web]\nscheme = \"internet-facing\"\ndomain_name = \"app.example.org\"\n{settings}")
}

#[test]
fn a_missing_access_log_bucket_is_named() {
    let text = lb("security_group = \"web-sg\"\naccess_logs_bucket = \"alb-logs\"\n");
    assert_refused(
        "missing-bucket",
        &text,
        "missing-bucket.toml:11: load_balancers.web.access_logs_bucket names \"alb-logs\", which the stack file does not declare (expected a bucket)",
    );
}

#[test]
fn a_reference_to_the_wrong_kind_is_named() {
    let text = lb("security_group = \"web-sg\"\naccess_logs_bucket = \"data-key\"\n");
    assert_refused(
        "wrong-kind",
        &text,
        "wrong-kind.toml:11: load_balancers.web.access_logs_bucket names \"data-key\", which is a key (keys.data-key), not a bucket",
    );
}

#[test]
fn a_tls_policy_that_admits_old_protocols_is_refused() {
    let text = lb("security_group = \"web-sg\"\naccess_logs_bucket = \"alb-logs\"\nssl_policy = \"ELBSecurityPolicy-2016-08\"\n");
    assert_refused(
        "weak-tls",
        &text,
        "weak-tls.toml:12: load_balancers.web.ssl_policy \"ELBSecurityPolicy-2016-08\" admits TLS versions older than 1.2: use ELBSecurityPolicy-TLS13-1-2-2021-06 or another TLS 1.2+ ELB policy",
    );
}

#[test]
fn a_load_balancer_name_longer_than_elbv2_allows_is_refused() {
    let text = format!(
        "{HEAD}\n[load_balancers.student-records-web-lb]\ndomain_name = \"app.example.org\"\nsecurity_group = \"web-sg\"\naccess_logs_bucket = \"alb-logs\"\n"
    );
    assert_refused(
        "long-name",
        &text,
        "long-name.toml:7: load_balancers.student-records-web-lb makes the target group name \"tapaudit-edge-student-records-web-lb-tg\" (39 characters), longer than ELBv2's 32: use a shorter logical id",
    );
}

#[test]
fn unauthenticated_get_students_is_refused_under_ferpa() {
    let text = format!(
        "{HEAD}\n# seed 003's unauthenticated route\n[apis.students]\nlog_key = \"data-key\"\n\n[[apis.students.routes]]\nmethod = \"GET\"\npath = \"/students\"\nauthorization = \"NONE\"\nstream = \"stream\"\n"
    );
    assert_refused(
        "none-auth",
        &text,
        "none-auth.toml:14: apis.students.routes[0].authorization is NONE, but the stack's frameworks (ferpa) require authenticated API methods (apigw-method-authorization): use AWS_IAM",
    );
}

#[test]
fn an_api_route_to_a_missing_load_balancer_is_named() {
    let text = format!(
        "{HEAD}\n[apis.students]\nlog_key = \"data-key\"\n\n[[apis.students.routes]]\nmethod = \"GET\"\npath = \"/students\"\nload_balancer = \"web\"\n"
    );
    assert_refused(
        "missing-lb",
        &text,
        "missing-lb.toml:13: apis.students.routes[0].load_balancer names \"web\", which the stack file does not declare (expected a load balancer)",
    );
}
