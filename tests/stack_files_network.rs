//! `[network]` and `[security_groups.*]` stack files through the built binary: every class of
//! bad input gets exactly one `file:line: field ...` message on stderr and exit code 2, before
//! any AWS call.

use std::process::Command;

fn assert_rejected(path: &str, message: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
        .args(["validate", "--stack", path])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9") // nothing may be called
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run tapaudit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{path}: exit code (stderr: {stderr})");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{path}: nothing on stdout");
    assert_eq!(stderr.trim_end(), format!("tapaudit: error: {message}"), "{path}");
}

#[test]
fn a_rule_naming_an_undeclared_group() {
    assert_rejected(
        "fixtures/stacks/bad-sg-ref.toml",
        "fixtures/stacks/bad-sg-ref.toml:6: security_groups.db-sg.ingress[0].from names \"app-sg\", which the stack file does not declare (expected a security group)",
    );
}

#[test]
fn a_rule_naming_something_that_is_not_a_group() {
    assert_rejected(
        "fixtures/stacks/bad-sg-kind.toml",
        "fixtures/stacks/bad-sg-kind.toml:8: security_groups.db-sg.ingress[1].from names \"data-key\", which is a key (keys.data-key), not a security group",
    );
}

#[test]
fn a_bad_cidr_in_a_rule() {
    assert_rejected(
        "fixtures/stacks/bad-sg-cidr.toml",
        "fixtures/stacks/bad-sg-cidr.toml:6: security_groups.app-sg.egress[0].to is not \"vpc\", a security group's logical id or an IPv4 CIDR block (got \"10.0.0.0/40\")",
    );
}

#[test]
fn public_ingress_on_a_data_port() {
    assert_rejected(
        "fixtures/stacks/bad-sg-public.toml",
        "fixtures/stacks/bad-sg-public.toml:6: security_groups.db-sg.ingress[0].from opens port 5432 to the internet (0.0.0.0/0): only 80 and 443 may be public; set `public = true` on this rule to accept it (the network controls still judge it)",
    );
}

#[test]
fn flow_logs_with_two_keys_must_name_theirs() {
    let out = Command::new(env!("CARGO_BIN_EXE_tapaudit"))
        .args(["validate", "--stack", "fixtures/stacks/bad-flow-key.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("fixtures/stacks/bad-flow-key.toml:6: network.flow_logs_key must name the key that encrypts the flow-log group: the stack declares 2 keys (audit-key, data-key)"),
        "{stderr}"
    );
}
