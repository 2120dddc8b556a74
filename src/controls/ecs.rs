//! ECS controls: clusters, services and the task definitions they run.

use super::{each, ControlFn, Params, Verdict};
use crate::model::ecs::{Container, EnvVar, TaskDefinition};
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
        if c.status.eq_ignore_ascii_case("INACTIVE") {
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
        if !s.status.eq_ignore_ascii_case("ACTIVE") && !s.status.eq_ignore_ascii_case("DRAINING") {
            return Verdict::not_applicable(&s.meta, format!("service is {}", s.status));
        }
        match s.assign_public_ip.as_deref() {
            None => Verdict::not_applicable(&s.meta, "not an awsvpc service: tasks get no address of their own"),
            Some(v) if v.eq_ignore_ascii_case("ENABLED") => Verdict::fail(
                &s.meta,
                "tasks are launched with a public IP address",
                json!({"assign_public_ip": v}),
                json!({"assign_public_ip": "DISABLED"}),
            ),
            Some(v) => Verdict::pass(&s.meta, "tasks get no public IP address", json!({"assign_public_ip": v})),
        }
    })
}

/// Task definitions in use: ACTIVE revisions, plus an INACTIVE (deregistered) revision that a
/// service still runs. Other revisions are history and cannot start new tasks.
fn in_use(state: &State, td: &TaskDefinition) -> bool {
    td.status.eq_ignore_ascii_case("ACTIVE") || state.ecs.services.iter().any(|s| s.task_definition == td.meta.arn)
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
            return Verdict::not_applicable(&td.meta, format!("task definition is {} and no service runs it", td.status));
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
        |c| (c.privileged == Some(true)).then(|| json!({"container": c.name, "privileged": true})),
        "no container runs privileged",
        "privileged containers",
        json!({"offending": [], "privileged": false}),
    )
}

fn readonly_rootfs(state: &State, _: &Params) -> Vec<Verdict> {
    per_container(
        state,
        |c| (c.readonly_root_filesystem != Some(true)).then(|| json!({"container": c.name, "readonly_root_filesystem": c.readonly_root_filesystem})),
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
                .filter_map(|e| plaintext_secret(e).map(|why| json!({"name": e.name, "length": e.length, "entropy": e.entropy, "why": why})))
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
    "ARN", "NAME", "ID", "IDS", "PATH", "FILE", "URL", "URI", "ENDPOINT", "HOST", "PORT", "REGION", "TTL", "TIMEOUT", "EXPIRY", "HEADER", "ENABLED",
    "TYPE", "MODE", "PARAM", "PARAMETER",
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

/// Entropy (bits per character) at or above which a value of `length` characters looks random.
/// Random base64/alphanumeric strings come close to log2(length) bits (the most `length`
/// characters can carry) while URLs, host names, log filters and JVM flags stay well below it;
/// a flat 4.0 would flag every AWS endpoint URL. Never below 4.0, capped at 5.2 for long values.
pub(crate) fn random_entropy_threshold(length: usize) -> f64 {
    (0.85 * (length.max(1) as f64).log2()).clamp(4.0, 5.2)
}

/// Shortest value the entropy rule considers (shorter random strings are not credentials).
const MIN_RANDOM_LENGTH: usize = 20;

/// Why an environment variable looks like a plaintext secret, if it does. References (ARNs,
/// `{{resolve:...}}`, `ssm:`...) and names ending in `_ARN` never do.
pub(crate) fn plaintext_secret(e: &EnvVar) -> Option<&'static str> {
    let upper = e.name.to_ascii_uppercase();
    if e.is_reference || e.length == 0 || upper.ends_with("_ARN") || upper == "ARN" {
        return None;
    }
    if secret_looking_name(&e.name) {
        return Some("name looks like a credential and the value is a literal");
    }
    if e.length >= MIN_RANDOM_LENGTH && e.entropy >= random_entropy_threshold(e.length) {
        return Some("long high-entropy literal value (looks like a key or token)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::ecs::EnvVar;
    use crate::model::Observed;

    fn env(name: &str, length: usize, entropy: f64, is_reference: bool) -> EnvVar {
        EnvVar { name: name.into(), length, is_reference, entropy }
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
        td(&mut old).status = "INACTIVE".into();
        old.ecs.services.items.clear();
        assert_eq!(eval("ecs-task-no-privileged", &old), vec![], "a deregistered revision no service runs is history");
        let mut still_running = fixture();
        container(&mut still_running).privileged = Some(true);
        td(&mut still_running).status = "INACTIVE".into();
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

    #[test]
    fn plaintext_secrets() {
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        container(&mut bad).environment.push(env("DB_PASSWORD", 12, 3.3, false));
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &bad), vec![Status::Fail]);
        let mut random = fixture();
        container(&mut random).environment.push(env("UPSTREAM", 40, 4.66, false));
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &random), vec![Status::Fail]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.ecs.task_definitions);
        assert_eq!(eval("ecs-task-no-plaintext-secrets", &failed), vec![Status::Error]);
    }

    #[test]
    fn secret_heuristics() {
        for name in ["DB_PASSWORD", "db_passwd", "API_KEY", "ApiKey", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "JWT_PRIVATE_KEY", "SMTP_CREDENTIALS", "DB_PWD", "DB_PASS", "CLIENT_SECRET", "dbPassword"] {
            assert!(plaintext_secret(&env(name, 8, 2.5, false)).is_some(), "{name} should look like a secret");
        }
        for name in ["DB_SECRET_ARN", "SECRET_NAME", "PASSWORD_FILE", "TOKEN_URL", "TOKEN_TTL", "AWS_ACCESS_KEY_ID", "PWD", "TOKENIZER_MODEL", "STREAM_NAME", "AWS_REGION", "PASSENGER_COUNT"] {
            assert!(plaintext_secret(&env(name, 8, 2.5, false)).is_none(), "{name} should not look like a secret");
        }
        // references and empty values are never plaintext secrets
        assert!(plaintext_secret(&env("DB_PASSWORD", 80, 4.6, true)).is_none());
        assert!(plaintext_secret(&env("DB_PASSWORD", 0, 0.0, false)).is_none());
        // entropy: a 40-char AWS-style secret key and a 20-char random token are caught ...
        assert!(plaintext_secret(&env("UPSTREAM", 40, 4.66, false)).is_some());
        assert!(plaintext_secret(&env("UPSTREAM", 20, 4.02, false)).is_some());
        assert!(plaintext_secret(&env("UPSTREAM", 100, 5.45, false)).is_some());
        // ... endpoint URLs, UUIDs, log filters and JVM flags are not
        assert!(plaintext_secret(&env("KINESIS_ENDPOINT_URL", 39, 4.08, false)).is_none());
        assert!(plaintext_secret(&env("UPSTREAM", 39, 4.08, false)).is_none(), "https://kinesis.us-east-1.amazonaws.com");
        assert!(plaintext_secret(&env("RUN_ID", 36, 3.39, false)).is_none(), "a UUID");
        assert!(plaintext_secret(&env("RUST_LOG", 35, 4.12, false)).is_none());
        assert!(plaintext_secret(&env("JAVA_OPTS", 83, 5.0, false)).is_none());
        assert!(plaintext_secret(&env("SHORT", 12, 3.58, false)).is_none(), "short values are not judged by entropy");
        // a name ending in _ARN is a pointer even if the collector did not recognise the value
        assert!(plaintext_secret(&env("DB_SECRET_ARN", 75, 4.57, false)).is_none());
    }
}
