//! ECS controls: clusters, services and the task definitions they run.

use super::{each, ControlFn, Params, Verdict};
use crate::model::ecs::{Container, EnvVar, TaskDefinition, ValueKind};
use crate::model::State;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("ecs-cluster-container-insights", container_insights),
    ("ecs-service-no-public-ip", no_public_ip),
    ("ecs-task-logging", task_logging),
    ("ecs-task-no-privileged", no_privileged),
    ("ecs-task-readonly-rootfs", readonly_rootfs),
    ("ecs-task-no-plaintext-secrets", no_plaintext_secrets),
];

fn container_insights(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.ecs.clusters, "ecs:cluster", |c| {
        if c.status.known().is_some_and(|s| s.eq_ignore_ascii_case("INACTIVE")) {
            return Verdict::not_applicable(&c.meta, "cluster is INACTIVE (deleted)");
        }
        match c.container_insights.get() {
            Err(reason) => Verdict::error(&c.meta, reason),
            Ok(v) if v.eq_ignore_ascii_case("enabled") || v.eq_ignore_ascii_case("enhanced") => {
                Verdict::pass(&c.meta, format!("Container Insights is {v}"), json!({"container_insights": v}))
            }
            Ok(v) => Verdict::fail(
                &c.meta,
                format!("Container Insights is {v}"),
                json!({"container_insights": v}),
                json!({"container_insights": ["enabled", "enhanced"]}),
            ),
        }
    })
}

fn no_public_ip(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.ecs.services, "ecs:service", |s| {
        // an unknown status is judged: only a status that was read can make the control irrelevant
        if let Ok(status) = s.status.get() {
            if !status.eq_ignore_ascii_case("ACTIVE") && !status.eq_ignore_ascii_case("DRAINING") {
                return Verdict::not_applicable(&s.meta, format!("service is {status}"));
            }
        }
        match s.assign_public_ip.as_deref() {
            None => Verdict::not_applicable(&s.meta, "not an awsvpc service: tasks get no address of their own"),
            Some(v) if v.eq_ignore_ascii_case("ENABLED") => {
                Verdict::fail(&s.meta, "tasks are launched with a public IP address", json!({"assign_public_ip": v}), json!({"assign_public_ip": "DISABLED"}))
            }
            Some(v) => Verdict::pass(&s.meta, "tasks get no public IP address", json!({"assign_public_ip": v})),
        }
    })
}

/// Task definitions in use: ACTIVE revisions (and any whose status was not read), plus an
/// INACTIVE (deregistered) revision that a service still runs. Other revisions are history and
/// cannot start new tasks.
fn in_use(state: &State, td: &TaskDefinition) -> bool {
    td.status.known().is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE"))
        || !state.ecs.services.lookup("task_definition", &td.meta.arn, |s| vec![s.task_definition.clone()]).is_empty()
}

fn status_text(td: &TaskDefinition) -> &str {
    td.status.known().map(String::as_str).unwrap_or("of unknown status")
}

/// Judge each in-use task definition by the containers `bad` picks out (name and evidence).
fn per_container(
    state: &State,
    bad: impl Fn(&Container) -> Option<serde_json::Value>,
    pass_msg: &str,
    fail_msg: &str,
    expected: serde_json::Value,
) -> Vec<Verdict> {
    each(&state.ecs.task_definitions, "ecs:task-definition", |td| {
        if !in_use(state, td) {
            return Verdict::not_applicable(&td.meta, format!("task definition is {} and no service runs it", status_text(td)));
        }
        if td.containers.is_empty() {
            return Verdict::not_applicable(&td.meta, "task definition has no containers");
        }
        let offenders: Vec<serde_json::Value> = td.containers.iter().filter_map(&bad).collect();
        if offenders.is_empty() {
            let names: Vec<&str> = td.containers.iter().map(|c| c.name.as_str()).collect();
            Verdict::pass(&td.meta, pass_msg, json!({"containers": names, "offending": []}))
        } else {
            let names: Vec<String> = offenders.iter().filter_map(|o| o.get("container").and_then(|n| n.as_str()).map(str::to_string)).collect();
            Verdict::fail(&td.meta, format!("{fail_msg}: {}", names.join(", ")), json!({"offending": offenders}), expected.clone())
        }
    })
}

fn task_logging(state: &State, _: &Params) -> Vec<Verdict> {
    per_container(
        state,
        |c| match c.log_driver.as_deref() {
            Some(d) if !d.trim().is_empty() => None,
            _ => Some(json!({"container": c.name, "log_driver": null})),
        },
        "every container sends its logs to a log driver",
        "containers without a log configuration",
        json!({"offending": [], "log_driver": "awslogs (or another driver) on every container"}),
    )
}

fn no_privileged(state: &State, _: &Params) -> Vec<Verdict> {
    per_container(
        state,
        |c| c.runs_privileged().then(|| json!({"container": c.name, "privileged": true})),
        "no container runs privileged",
        "privileged containers",
        json!({"offending": [], "privileged": false}),
    )
}

fn readonly_rootfs(state: &State, _: &Params) -> Vec<Verdict> {
    per_container(
        state,
        |c| (!c.root_is_read_only()).then(|| json!({"container": c.name, "readonly_root_filesystem": c.readonly_root_filesystem})),
        "every container has a read-only root file system",
        "containers with a writable root file system",
        json!({"offending": [], "readonly_root_filesystem": true}),
    )
}

fn no_plaintext_secrets(state: &State, _: &Params) -> Vec<Verdict> {
    per_container(
        state,
        |c| {
            let leaks: Vec<serde_json::Value> = c
                .environment
                .iter()
                .filter_map(|e| plaintext_secret(e).map(|why| json!({"name": e.name, "kind": e.kind, "length": e.length, "entropy": e.entropy, "why": why})))
                .collect();
            (!leaks.is_empty()).then(|| json!({"container": c.name, "variables": leaks}))
        },
        "no environment variable holds a plaintext secret (credentials come from `secrets`)",
        "environment variables that look like plaintext secrets in containers",
        json!({"offending": [], "secrets": "referenced through the container's secrets (Secrets Manager / SSM), not environment values"}),
    )
}

/// Words that make a variable name look like it holds a credential (matched inside the
/// upper-cased name).
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "CREDENTIAL",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "PRIVATEKEY",
    "ACCESS_KEY",
    "ACCESSKEY",
    "SECRET_KEY",
    "SIGNING_KEY",
    "ENCRYPTION_KEY",
    "MASTER_KEY",
    "SESSION_KEY",
    "AUTH_KEY",
    "CONNECTION_STRING",
];

/// Whole name parts (split on `_`, `-`, `.`) that look like a credential.
const SECRET_PARTS: &[&str] = &["TOKEN", "TOKENS", "PWD", "PASS", "CREDS", "AUTHTOKEN", "APITOKEN"];

/// Last name parts that say the variable points at a secret or configures one instead of
/// holding it (`DB_SECRET_ARN`, `SECRET_NAME`, `PASSWORD_FILE`, `TOKEN_URL`, `TOKEN_TTL`).
const POINTER_SUFFIXES: &[&str] = &[
    "ARN",
    "NAME",
    "ID",
    "IDS",
    "PATH",
    "FILE",
    "URL",
    "URI",
    "ENDPOINT",
    "HOST",
    "PORT",
    "REGION",
    "TTL",
    "TIMEOUT",
    "EXPIRY",
    "HEADER",
    "ENABLED",
    "TYPE",
    "MODE",
    "PARAM",
    "PARAMETER",
];

/// A name that says "credential": PASSWORD, SECRET, TOKEN, API_KEY, ... unless its last part
/// says it only names or configures one. `PWD` alone is the shell's working directory.
fn secret_looking_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let parts: Vec<&str> = upper.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()).collect();
    if upper == "PWD" || upper == "OLDPWD" || parts.last().is_some_and(|l| POINTER_SUFFIXES.contains(l)) {
        return false;
    }
    SECRET_WORDS.iter().any(|w| upper.contains(w)) || parts.iter().any(|p| SECRET_PARTS.contains(p))
}

/// Why an environment variable holds a plaintext secret, if it does. First by what the value IS
/// (`semantics::secret_values`: credentials in URLs, AWS keys, private keys, JWTs, vendor tokens,
/// high-entropy tokens), whatever the variable is called and even under a pointer-like name
/// (`DB_SECRET_ARN=postgres://u:pw@db`); then by a credential-like name holding a literal.
/// References (ARNs, `{{resolve:…}}`) and empty values never do.
pub(crate) fn plaintext_secret(e: &EnvVar) -> Option<String> {
    if e.kind.is_credential() {
        return Some(format!("the value is {}", e.kind.describe()));
    }
    let upper = e.name.to_ascii_uppercase();
    match e.kind {
        ValueKind::Empty | ValueKind::Reference => None,
        _ if upper.ends_with("_ARN") || upper == "ARN" => None,
        _ if secret_looking_name(&e.name) => Some("the name looks like a credential and the value is a literal".to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::ecs::EnvVar;
    use crate::model::Observed;

    /// A variable as the collector measures it (the value goes no further).
    fn env(name: &str, value: &str) -> EnvVar {
        crate::semantics::secret_values::env_var(name, value)
    }

    fn td(s: &mut State) -> &mut TaskDefinition {
        s.ecs.task_definitions.items.values_mut().next().expect("fixture has a task definition")
    }

    fn container(s: &mut State) -> &mut Container {
        td(s).containers.first_mut().expect("fixture task definition has a container")
    }

    #[test]
    fn container_insights() {
        assert_eq!(eval("ecs-cluster-container-insights", &fixture()), vec![Status::Pass]);
        let mut enhanced = fixture();
        enhanced.ecs.clusters.items.values_mut().for_each(|c| c.container_insights = Observed::Known("enhanced".into()));
        assert_eq!(eval("ecs-cluster-container-insights", &enhanced), vec![Status::Pass]);
        let mut bad = fixture();
        bad.ecs.clusters.items.values_mut().for_each(|c| c.container_insights = Observed::Known("disabled".into()));
        assert_eq!(eval("ecs-cluster-container-insights", &bad), vec![Status::Fail]);
        let mut unknown = fixture();
        unknown.ecs.clusters.items.values_mut().for_each(|c| c.container_insights = Observed::Unknown("AccessDenied".into()));
        assert_eq!(eval("ecs-cluster-container-insights", &unknown), vec![Status::Error]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.ecs.clusters);
        assert_eq!(eval("ecs-cluster-container-insights", &failed), vec![Status::Error]);
    }

    #[test]
    fn service_public_ip() {
        assert_eq!(eval("ecs-service-no-public-ip", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        bad.ecs.services.items.values_mut().for_each(|s| s.assign_public_ip = Some("ENABLED".into()));
        assert_eq!(eval("ecs-service-no-public-ip", &bad), vec![Status::Fail]);
        let mut bridge = fixture();
        bridge.ecs.services.items.values_mut().for_each(|s| s.assign_public_ip = None);
        assert_eq!(eval("ecs-service-no-public-ip", &bridge), vec![], "non-awsvpc services are not applicable");
        let mut failed = fixture();
        failed.ecs.services.fail("us-east-1", "ThrottlingException");
        assert_eq!(eval("ecs-service-no-public-ip", &failed), vec![Status::Error, Status::Pass]);
    }

    #[test]
    fn task_logging() {
        assert_eq!(eval("ecs-task-logging", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        container(&mut bad).log_driver = None;
        assert_eq!(eval("ecs-task-logging", &bad), vec![Status::Fail]);
        // one container of two without logs still fails the task definition
        let mut sidecar = fixture();
        let mut c = container(&mut sidecar).clone();
        c.name = "sidecar".into();
        c.log_driver = None;
        td(&mut sidecar).containers.push(c);
        assert_eq!(eval("ecs-task-logging", &sidecar), vec![Status::Fail]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.ecs.task_definitions);
        assert_eq!(eval("ecs-task-logging", &failed), vec![Status::Error]);
    }

    #[test]
    fn only_task_definitions_in_use_are_judged() {
        let mut old = fixture();
        container(&mut old).privileged = Some(true);
        td(&mut old).status = Observed::Known("INACTIVE".into());
        old.ecs.services.items.clear();
        assert_eq!(eval("ecs-task-no-privileged", &old), vec![], "a deregistered revision no service runs is history");
        let mut still_running = fixture();
        container(&mut still_running).privileged = Some(true);
        td(&mut still_running).status = Observed::Known("INACTIVE".into());
        assert_eq!(eval("ecs-task-no-privileged", &still_running), vec![Status::Fail], "a service still runs it");
    }

    #[test]
    fn privileged() {
        assert_eq!(eval("ecs-task-no-privileged", &fixture()), vec![Status::Pass]);
        let mut unset = fixture();
        container(&mut unset).privileged = None;
        assert_eq!(eval("ecs-task-no-privileged", &unset), vec![Status::Pass], "privileged defaults to false");
        let mut bad = fixture();
        container(&mut bad).privileged = Some(true);
        assert_eq!(eval("ecs-task-no-privileged", &bad), vec![Status::Fail]);
        let mut failed = fixture();
        failed.ecs.task_definitions.fail("us-east-1", "AccessDenied");
        assert_eq!(eval("ecs-task-no-privileged", &failed), vec![Status::Error, Status::Pass]);
    }

    #[test]
    fn readonly_root() {
        assert_eq!(eval("ecs-task-readonly-rootfs", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        container(&mut bad).readonly_root_filesystem = Some(false);
        assert_eq!(eval("ecs-task-readonly-rootfs", &bad), vec![Status::Fail]);
        let mut unset = fixture();
        container(&mut unset).readonly_root_filesystem = None;
        assert_eq!(eval("ecs-task-readonly-rootfs", &unset), vec![Status::Fail], "the default is a writable root");
        let mut failed = fixture();
        failed.ecs.task_definitions.fail("us-east-1", "AccessDenied");
        assert_eq!(eval("ecs-task-readonly-rootfs", &failed), vec![Status::Error, Status::Pass]);
    }

    fn with_env(vars: &[(&str, &str)]) -> State {
        let mut s = fixture();
        container(&mut s).environment.extend(vars.iter().map(|(n, v)| env(n, v)));
        s
    }

    #[test]
    fn plaintext_secrets() {
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &fixture()), vec![Status::Pass]);
        // by name (as before): a literal under a credential-like name
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &with_env(&[("DB_PASSWORD", "hunter2")])), vec![Status::Fail]);
        // by value, whatever the name
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &with_env(&[("UPSTREAM", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")])), vec![Status::Fail]);
        // adversarial: an innocent name over a URL with a password in it
        let url = with_env(&[("APP_CONFIG", "postgres://app:S3cr3tPassw0rdExample@db:5432/x")]);
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &url), vec![Status::Fail]);
        // adversarial: a pointer-like name does not excuse a credential value
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &with_env(&[("DB_SECRET_ARN", "postgres://app:S3cr3tPassw0rdExample@db/x")])), vec![Status::Fail]);
        // a second container with the secret fails the task definition too
        let mut sidecar = fixture();
        let mut c = container(&mut sidecar).clone();
        c.name = "sidecar".into();
        c.environment.push(env("AUTH", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLWV4YW1wbGU"));
        td(&mut sidecar).containers.push(c);
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &sidecar), vec![Status::Fail]);
        // references and URLs without credentials pass
        let ok = with_env(&[
            ("DATABASE_PASSWORD_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:tapaudit-dev-db-AbCdEf"),
            ("DB_PASSWORD", "{{resolve:secretsmanager:MyRDSSecret:SecretString:password}}"),
            ("DATABASE_URL", "postgres://app@db:5432/x"),
            ("TEMPLATE_URL", "postgres://app:${DB_PASSWORD}@db:5432/x"),
            ("IMAGE", "public.ecr.aws/nginx/nginx:1.25@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"),
            ("RUN_ID", "550e8400-e29b-41d4-a716-446655440000"),
            ("KINESIS_ENDPOINT_URL", "https://kinesis.us-east-1.amazonaws.com"),
            ("AWS_ACCESS_KEY_ID_PARAM", "/app/aws/access-key-id"),
        ]);
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &ok), vec![Status::Pass]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.ecs.task_definitions);
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &failed), vec![Status::Error]);
    }

    #[test]
    fn plaintext_secret_evidence_carries_the_kind_never_the_value() {
        let s = with_env(&[("APP_CONFIG", "postgres://app:S3cr3tPassw0rdExample@db:5432/x")]);
        let cat = crate::controls::Catalogue::load().unwrap();
        let fws: Vec<String> = cat.frameworks.keys().cloned().collect();
        let sel = crate::controls::Selection { frameworks: fws, overrides: Default::default() };
        let findings = crate::controls::evaluate(&cat, &s, &sel);
        let f = findings.iter().find(|f| f.control_id == "ecs-task-no-plaintext-secrets").unwrap();
        let text = serde_json::to_string(f).unwrap();
        assert!(text.contains("url-credentials") && text.contains("APP_CONFIG"), "{text}");
        assert!(!text.contains("S3cr3t"), "{text}");
    }

    #[test]
    fn secret_heuristics() {
        for name in [
            "DB_PASSWORD",
            "db_passwd",
            "API_KEY",
            "ApiKey",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY",
            "JWT_PRIVATE_KEY",
            "SMTP_CREDENTIALS",
            "DB_PWD",
            "DB_PASS",
            "CLIENT_SECRET",
            "dbPassword",
        ] {
            assert!(plaintext_secret(&env(name, "hunter2")).is_some(), "{name} should look like a secret");
        }
        for name in [
            "DB_SECRET_ARN",
            "SECRET_NAME",
            "PASSWORD_FILE",
            "TOKEN_URL",
            "TOKEN_TTL",
            "AWS_ACCESS_KEY_ID",
            "PWD",
            "TOKENIZER_MODEL",
            "STREAM_NAME",
            "AWS_REGION",
            "PASSENGER_COUNT",
        ] {
            assert!(plaintext_secret(&env(name, "hunter2")).is_none(), "{name} should not look like a secret");
        }
        // references and empty values are never plaintext secrets, whatever the name
        assert!(plaintext_secret(&env("DB_PASSWORD", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf")).is_none());
        assert!(plaintext_secret(&env("DB_PASSWORD", "")).is_none());
        // values are judged whatever the name: keys under a pointer-like name still fail
        assert!(plaintext_secret(&env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")).is_some());
        assert!(plaintext_secret(&env("TOKEN_URL", "https://x-access-token:ghp_EXAMPLE00000000000000000000000000000@github.com")).is_some());
        assert!(plaintext_secret(&env("UPSTREAM", "q8Xv2LmN7pR4tY9wK3zB6cJ1hF5dG0sA")).is_some());
        // ordinary values under ordinary names pass
        for (name, value) in [
            ("RUST_LOG", "info,tapaudit=debug"),
            ("JAVA_OPTS", "-XX:MaxRAMPercentage=75.0 -Xss512k"),
            ("SHORT", "abc123"),
            ("GIT_SHA", "0d17b565c37bcbd895e9d92315a05c1c3c9a29f7"),
        ] {
            assert!(plaintext_secret(&env(name, value)).is_none(), "{name}");
        }
    }

    #[test]
    fn unknown_status_is_judged_not_skipped() {
        let mut s = fixture();
        container(&mut s).privileged = Some(true);
        td(&mut s).status = Observed::Unknown("DescribeTaskDefinition returned no status".into());
        s.ecs.services.items.clear();
        assert_eq!(eval("ecs-task-no-privileged", &s), vec![Status::Fail], "a revision of unknown status may be in use");
        let mut svc = fixture();
        svc.ecs.services.items.values_mut().for_each(|s| {
            s.status = Observed::Unknown("no status".into());
            s.assign_public_ip = Some("ENABLED".into());
        });
        assert_eq!(eval("ecs-service-no-public-ip", &svc), vec![Status::Fail]);
    }
}
