//! The IAM policies tapaudit needs, generated from the one operation registry
//! ([`crate::aws::operations`]): `tapaudit policy scan` and `tapaudit policy provision`.
//!
//! - Scan: exactly the read actions of the collectors' operations, on `*` (the scan reads the
//!   whole account), except API Gateway, whose single read action `apigateway:GET` is scoped to
//!   the REST API paths so that API key values (`/apikeys?includeValues`) stay unreadable. No
//!   wildcard action; an explicit Deny of the actions that read secret or data values keeps that
//!   true when the role also holds broader policies (SecurityAudit, ViewOnlyAccess).
//! - Provision: the operations provisioning, destroying and the stack lock call, for the
//!   services the stack's resources use, per the registry's target of each: names the stack chooses are listed as the stack's name
//!   patterns; resources with ids AWS chooses are limited to those tagged
//!   `tapaudit:stack=<stack>` for every change to an existing one; `*` only where IAM has no
//!   resource-level permission for the action or the resource does not exist before the call.
//!   `iam:PassRole` only for the stack's roles.

use crate::aws::operations::{Grant, Op, Service, Target, ORCHESTRATE, PROVISION, SCAN};
use crate::vocab::{StackId, TAG_STACK};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The actions the scanner never needs: they read secret or data values.
pub const NEVER_FOR_SCAN: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "kinesis:GetRecords",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "apigateway:GET",
];

/// IAM's limit on a customer managed policy, in characters without whitespace.
pub const MANAGED_POLICY_LIMIT: usize = 6_144;

/// IAM's limit on all inline policies of one role together, in characters without whitespace.
pub const INLINE_ROLE_LIMIT: usize = 10_240;

/// The API Gateway paths the scan reads.
const SCAN_APIGW_PATHS: &[&str] = &["arn:aws:apigateway:*::/restapis", "arn:aws:apigateway:*::/restapis/*"];

fn actions_of(registry: &[Service], keep: impl Fn(&Service, &Op) -> bool) -> BTreeSet<String> {
    registry.iter().flat_map(|s| s.ops.iter().filter(|o| keep(s, o)).flat_map(move |o| o.actions(s.prefix))).collect()
}

/// The scanner's policy.
pub fn scan_policy() -> Value {
    let reads = actions_of(SCAN, |s, _| s.prefix != "apigateway");
    let apigw = actions_of(SCAN, |s, _| s.prefix == "apigateway");
    let deny: Vec<&str> = NEVER_FOR_SCAN.iter().copied().filter(|a| *a != "apigateway:GET").collect();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "TapauditScanRead", "Effect": "Allow", "Action": reads, "Resource": "*"},
            {"Sid": "TapauditScanRestApis", "Effect": "Allow", "Action": apigw, "Resource": SCAN_APIGW_PATHS},
            {"Sid": "TapauditNeverReadsValues", "Effect": "Deny", "Action": deny, "Resource": "*"},
        ]
    })
}

/// Where a provision policy applies: one stack in one region of one account (`*` for any),
/// and the services (SDK names) its resources use.
/// The runner's policy for `scan --accounts/--organization` (registry
/// [`ORCHESTRATE`](crate::aws::operations::ORCHESTRATE)): `sts:AssumeRole` of the audit role
/// `role_name` only (in `accounts`, or in any account), and with `organization`
/// `organizations:ListAccounts`. Nothing else: the reading is done as the audit roles.
pub fn orchestrate_policy(role_name: &str, accounts: &[String], organization: bool) -> Value {
    let name = role_name.trim_start_matches('/');
    let roles: Vec<String> = if accounts.is_empty() {
        vec![format!("arn:aws:iam::*:role/{name}")]
    } else {
        accounts.iter().map(|a| format!("arn:aws:iam::{a}:role/{name}")).collect()
    };
    let mut statements = Vec::new();
    for s in ORCHESTRATE {
        for op in s.ops {
            let actions = op.actions(s.prefix);
            if actions.is_empty() || (s.prefix == "organizations" && !organization) {
                continue;
            }
            let resource = match op.target {
                Target::Named("audit-role") => json!(roles),
                Target::Any => json!("*"),
                other => unreachable!("orchestration target {other:?}: scope it here"),
            };
            let sid = format!("Tapaudit{}", op.name);
            statements.push(json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}));
        }
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[derive(Debug, Clone)]
pub struct Place<'a> {
    pub stack: &'a StackId,
    pub region: &'a str,
    pub account: &'a str,
    pub services: BTreeSet<&'static str>,
}

/// Every run needs these, whatever the stack holds: who am I (STS), the zones (EC2), the stack
/// lock (a log group).
const ALWAYS: &[&str] = &["STS", "EC2", "CloudWatch Logs"];

/// The services (SDK names, as in the registry) a stack's resources use, from the kinds of its
/// provisioning nodes (`ec2:vpc`, `rds:db-instance`, ...), plus [`ALWAYS`].
pub fn services_of<'a>(node_kinds: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'static str> {
    let mut out: BTreeSet<&'static str> = ALWAYS.iter().copied().collect();
    for kind in node_kinds {
        let service = match kind.split(':').next().unwrap_or_default() {
            "ec2" => "EC2",
            "kms" => "KMS",
            "rds" => "RDS",
            "kinesis" => "Kinesis",
            "logs" => "CloudWatch Logs",
            "secretsmanager" => "Secrets Manager",
            "ecs" => "ECS",
            "apigateway" => "API Gateway",
            "elasticache" => "ElastiCache",
            "efs" => "EFS",
            "elbv2" => "Elastic Load Balancing v2",
            "acm" => "ACM",
            "iam" => "IAM",
            "s3" => "S3",
            other => unreachable!("node kind {other}: map its service here"),
        };
        out.insert(service);
    }
    out
}

/// Every service of the provision registry (for tests and the widest stack).
pub fn every_provision_service() -> BTreeSet<&'static str> {
    PROVISION.iter().map(|s| s.sdk).collect()
}

/// The stack's name patterns of a `Target::Named` kind.
pub fn named(kind: &str, p: &Place) -> Vec<String> {
    let (r, a, n) = (p.region, p.account, p.stack.prefix());
    let logs = p.stack.log_group_prefix();
    let lock = p.stack.lock_group();
    let v: Vec<String> = match kind {
        "alias" => vec![format!("arn:aws:kms:{r}:{a}:alias/{n}-*"), format!("arn:aws:kms:{r}:{a}:key/*")],
        "rds" => ["db", "cluster", "pg", "cluster-pg", "subgrp", "snapshot", "cluster-snapshot"]
            .iter()
            .map(|t| format!("arn:aws:rds:{r}:{a}:{t}:{n}-*"))
            .chain([format!("arn:aws:rds:{r}:{a}:og:default:*")])
            .collect(),
        "kinesis" => vec![format!("arn:aws:kinesis:{r}:{a}:stream/{n}-*")],
        "logs" => vec![
            format!("arn:aws:logs:{r}:{a}:log-group:{logs}*"),
            format!("arn:aws:logs:{r}:{a}:log-group:{lock}"),
            format!("arn:aws:logs:{r}:{a}:log-group:{lock}:*"),
        ],
        // the database's master secret: created by RDS, named rds!…
        "secret" => vec![format!("arn:aws:secretsmanager:{r}:{a}:secret:rds!*")],
        "ecs" => vec![
            format!("arn:aws:ecs:{r}:{a}:cluster/{n}-*"),
            format!("arn:aws:ecs:{r}:{a}:service/{n}-*/*"),
            format!("arn:aws:ecs:{r}:{a}:task-definition/{n}-*"),
        ],
        // REST APIs have ids AWS chooses; the paths limit the verbs to REST APIs, stages,
        // the account's logging role and tags (never /apikeys)
        "apigateway" => ["/restapis", "/restapis/*", "/account", "/tags/*"].iter().map(|path| format!("arn:aws:apigateway:{r}::{path}")).collect(),
        "elasticache" => ["replicationgroup", "cluster", "subnetgroup", "user", "usergroup"]
            .iter()
            .map(|t| format!("arn:aws:elasticache:{r}:{a}:{t}:{n}-*"))
            .chain([format!("arn:aws:elasticache:{r}:{a}:parametergroup:*")])
            .collect(),
        "elb" => vec![
            format!("arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/app/{n}-*/*"),
            format!("arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{n}-*/*"),
            format!("arn:aws:elasticloadbalancing:{r}:{a}:listener/app/{n}-*/*"),
            format!("arn:aws:elasticloadbalancing:{r}:{a}:listener-rule/app/{n}-*/*"),
        ],
        "role" => vec![format!("arn:aws:iam::{a}:role/{n}-*")],
        "s3" => vec![format!("arn:aws:s3:::{n}-*"), format!("arn:aws:s3:::{n}-*/*")],
        other => unreachable!("no name patterns for {other}: add them beside the registry entry"),
    };
    v
}

/// The ARNs of a `Target::Tagged` kind (limited further by the stack's tag).
pub fn tagged(kind: &str, p: &Place) -> Vec<String> {
    let (r, a) = (p.region, p.account);
    match kind {
        "key" => vec![format!("arn:aws:kms:{r}:{a}:key/*")],
        "ec2" => vec![format!("arn:aws:ec2:{r}:{a}:*")],
        "efs" => vec![format!("arn:aws:elasticfilesystem:{r}:{a}:file-system/*"), format!("arn:aws:elasticfilesystem:{r}:{a}:access-point/*")],
        "acm" => vec![format!("arn:aws:acm:{r}:{a}:certificate/*")],
        other => unreachable!("no tagged ARNs for {other}: add them beside the registry entry"),
    }
}

/// A statement's key: which resources, under which condition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    Any,
    Named(&'static str),
    Tagged(&'static str),
}

/// The policy provisioning and destroying one stack need.
pub fn provision_policy(p: &Place) -> Value {
    let mut by_scope: BTreeMap<(String, Scope), BTreeSet<String>> = BTreeMap::new();
    for s in PROVISION.iter().filter(|s| p.services.contains(s.sdk)) {
        for o in s.ops {
            for action in o.actions(s.prefix) {
                let own = action.split(':').next() == Some(s.prefix);
                let scope = match o.target {
                    // another service's action the call also needs, on that service's resource
                    _ if !own => foreign_scope(&action),
                    Target::Any => Scope::Any,
                    Target::Named(k) => Scope::Named(k),
                    Target::Tagged(k) => Scope::Tagged(k),
                };
                if matches!(o.grant, Grant::Nothing) {
                    continue;
                }
                let prefix = action.split(':').next().unwrap_or_default().to_string();
                by_scope.entry((prefix, scope)).or_default().insert(action);
            }
        }
    }
    let tag_key = format!("aws:ResourceTag/{TAG_STACK}");
    let mut statements: Vec<Value> = by_scope
        .into_iter()
        .map(|((prefix, scope), actions)| {
            let sid = format!("{}{}", camel(&prefix), scope_sid(&scope));
            match scope {
                Scope::Any => json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*"}),
                Scope::Named(k) => json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": named(k, p)}),
                Scope::Tagged(k) => json!({
                    "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": tagged(k, p),
                    "Condition": {"StringEquals": {tag_key.clone(): p.stack.name.clone()}}
                }),
            }
        })
        .collect();
    if p.services.contains("IAM") {
        statements.push(json!({"Sid": "PassOnlyTheStacksRoles", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": named("role", p)}));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Where another service's action that a call needs applies: the database's master secret
/// (RDS names it `rds!…`), the stack's keys (tagged), else `*` (the network interfaces EFS
/// creates for its mount targets carry no tag of the stack).
fn foreign_scope(action: &str) -> Scope {
    match action.split(':').next() {
        Some("secretsmanager") => Scope::Named("secret"),
        Some("kms") => Scope::Tagged("key"),
        _ => Scope::Any,
    }
}

fn scope_sid(s: &Scope) -> String {
    match s {
        Scope::Any => "Any".to_string(),
        Scope::Named(k) => format!("Named{}", camel(k)),
        Scope::Tagged(k) => format!("Tagged{}", camel(k)),
    }
}

fn camel(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w[..1].to_ascii_uppercase() + &w[1..]).collect()
}

/// The policy as several documents, each within IAM's managed-policy limit, statements kept
/// whole and in order (a role holds up to 10 managed policies by default). One document when it
/// fits.
pub fn split(policy: &Value, limit: usize) -> Vec<Value> {
    let empty = || json!({"Version": "2012-10-17", "Statement": []});
    let mut docs = vec![empty()];
    for st in crate::semantics::policy::statements(policy) {
        let last = docs.last_mut().expect("one document at least");
        let mut candidate = last.clone();
        candidate["Statement"].as_array_mut().expect("statements").push(st.clone());
        if policy_size(&candidate) <= limit || last["Statement"].as_array().is_some_and(|a| a.is_empty()) {
            *last = candidate;
        } else {
            let mut next = empty();
            next["Statement"].as_array_mut().expect("statements").push(st.clone());
            docs.push(next);
        }
    }
    docs
}

/// A policy's size as IAM counts it for the managed-policy limit (whitespace excluded).
pub fn policy_size(policy: &Value) -> usize {
    serde_json::to_string(policy).expect("a JSON value serializes").chars().filter(|c| !c.is_whitespace()).count()
}

/// Does an identity policy allow `action` on `resource` with the request's condition context
/// (`key` → value; a condition whose key is absent does not hold)? AWS's evaluation for the
/// statements this module writes: an explicit Deny wins, then any Allow; `Action`/`Resource`
/// with `*` and `?` wildcards (actions case-insensitive), `StringEquals` conditions.
pub fn allows(policy: &Value, action: &str, resource: &str, context: &BTreeMap<String, String>) -> bool {
    use crate::semantics::policy::{glob_match, statements, string_list};
    let matching = |st: &Value| {
        string_list(st.get("Action")).iter().any(|a| glob_match(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
            && string_list(st.get("Resource")).iter().any(|r| glob_match(r, resource))
            && conditions_hold(st.get("Condition"), context)
    };
    let sts = statements(policy);
    if sts.iter().any(|st| st.get("Effect").and_then(Value::as_str) == Some("Deny") && matching(st)) {
        return false;
    }
    sts.iter().any(|st| st.get("Effect").and_then(Value::as_str) == Some("Allow") && matching(st))
}

fn conditions_hold(condition: Option<&Value>, context: &BTreeMap<String, String>) -> bool {
    let Some(ops) = condition.and_then(Value::as_object) else { return true };
    ops.iter().all(|(op, keys)| {
        let Some(keys) = keys.as_object() else { return false };
        keys.iter().all(|(k, want)| {
            let got = context.iter().find(|(ck, _)| ck.eq_ignore_ascii_case(k)).map(|(_, v)| v);
            match (op.as_str(), got) {
                ("StringEquals", Some(got)) => crate::semantics::policy::string_list(Some(want)).iter().any(|w| w == got),
                _ => false,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    #[test]
    fn the_runner_may_assume_only_the_audit_role_and_list_accounts() {
        let p = orchestrate_policy("audit/tapaudit", &[], true);
        assert!(allows(&p, "sts:AssumeRole", "arn:aws:iam::111111111111:role/audit/tapaudit", &none()));
        assert!(allows(&p, "organizations:ListAccounts", "*", &none()));
        for (action, resource) in [
            ("sts:AssumeRole", "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"),
            ("sts:AssumeRole", "arn:aws:iam::111111111111:role/audit/tapaudit-admin"),
            ("sts:AssumeRole", "arn:aws:iam::111111111111:role/tapaudit"),
            ("iam:ListRoles", "*"),
            ("organizations:DescribeAccount", "*"),
        ] {
            assert!(!allows(&p, action, resource, &none()), "{action} {resource}");
        }
        let p = orchestrate_policy("tapaudit", &["222222222222".into()], false);
        assert!(allows(&p, "sts:AssumeRole", "arn:aws:iam::222222222222:role/tapaudit", &none()));
        assert!(!allows(&p, "sts:AssumeRole", "arn:aws:iam::111111111111:role/tapaudit", &none()));
        assert!(!allows(&p, "organizations:ListAccounts", "*", &none()), "not without --organization");
    }

    fn tag(stack: &str) -> BTreeMap<String, String> {
        [(format!("aws:ResourceTag/{TAG_STACK}"), stack.to_string())].into_iter().collect()
    }

    fn stack(project: &str, name: &str) -> StackId {
        StackId { project: project.into(), name: name.into(), frameworks: vec![], tags: Default::default() }
    }

    #[test]
    fn the_scan_policy_grants_every_registered_read_and_nothing_else() {
        let p = scan_policy();
        for s in SCAN {
            for o in s.ops {
                for a in o.actions(s.prefix) {
                    let resource =
                        if s.prefix == "apigateway" { "arn:aws:apigateway:us-east-1::/restapis/abc123/stages" } else { "arn:aws:ec2:us-east-1:1:vpc/vpc-1" };
                    assert!(allows(&p, &a, resource, &none()), "{a} not granted");
                }
            }
        }
        for write in ["ec2:CreateVpc", "s3:PutBucketPolicy", "iam:CreateUser", "kms:ScheduleKeyDeletion", "rds:ModifyDBInstance"] {
            assert!(!allows(&p, write, "*", &none()), "{write} granted");
        }
        for never in NEVER_FOR_SCAN {
            assert!(!allows(&p, never, "arn:aws:secretsmanager:us-east-1:1:secret:x", &none()), "{never} granted");
        }
        // an attacker's read of API key values through the HTTP-verb action
        assert!(!allows(&p, "apigateway:GET", "arn:aws:apigateway:us-east-1::/apikeys/k1", &none()));
        assert!(!allows(&p, "apigateway:GET", "arn:aws:apigateway:us-east-1::/apikeys", &none()));
        assert_no_wildcard_action(&p);
        assert!(policy_size(&p) <= MANAGED_POLICY_LIMIT, "{} characters", policy_size(&p));
    }

    #[test]
    fn the_provision_policy_is_scoped_to_the_stacks_names_and_tags() {
        let dev = stack("tapaudit", "dev");
        let p = provision_policy(&Place { stack: &dev, region: "us-east-1", account: "111122223333", services: every_provision_service() });
        let acct = "111122223333";
        let cases: &[(&str, String, bool)] = &[
            ("rds:CreateDBInstance", format!("arn:aws:rds:us-east-1:{acct}:db:tapaudit-dev-db"), true),
            ("rds:DeleteDBInstance", format!("arn:aws:rds:us-east-1:{acct}:db:tapaudit-prod-db"), false),
            ("rds:DeleteDBInstance", format!("arn:aws:rds:us-east-1:{acct}:db:tapaudit-dev-db"), true),
            // a prefix that merely starts alike: tapaudit-dev2 is another stack
            ("rds:DeleteDBInstance", format!("arn:aws:rds:us-east-1:{acct}:db:tapaudit-dev2-db"), false),
            ("iam:PassRole", format!("arn:aws:iam::{acct}:role/tapaudit-dev-flow-logs"), true),
            ("iam:PassRole", format!("arn:aws:iam::{acct}:role/OrganizationAccountAccessRole"), false),
            ("iam:DeleteRole", format!("arn:aws:iam::{acct}:role/admin"), false),
            ("logs:DeleteLogGroup", format!("arn:aws:logs:us-east-1:{acct}:log-group:/tapaudit/dev/ingest-api"), true),
            ("logs:DeleteLogGroup", format!("arn:aws:logs:us-east-1:{acct}:log-group:/aws/lambda/prod"), false),
            ("s3:DeleteBucket", "arn:aws:s3:::tapaudit-dev-alb-logs-1".to_string(), true),
            ("s3:DeleteBucket", "arn:aws:s3:::payroll".to_string(), false),
            ("s3:DeleteObject", "arn:aws:s3:::payroll/q1.csv".to_string(), false),
            ("kinesis:DeleteStream", format!("arn:aws:kinesis:us-east-1:{acct}:stream/tapaudit-prod-stream"), false),
            ("rds:DeleteDBInstance", format!("arn:aws:rds:eu-west-1:{acct}:db:tapaudit-dev-db"), false),
        ];
        for (action, arn, want) in cases {
            assert_eq!(allows(&p, action, arn, &none()), *want, "{action} on {arn}");
        }
        // ids AWS chooses: only what carries the stack's tag
        let vpc = format!("arn:aws:ec2:us-east-1:{acct}:vpc/vpc-0abc");
        assert!(allows(&p, "ec2:DeleteVpc", &vpc, &tag("dev")));
        assert!(!allows(&p, "ec2:DeleteVpc", &vpc, &tag("prod")));
        assert!(!allows(&p, "ec2:DeleteVpc", &vpc, &none()), "an untagged VPC is not the stack's");
        let key = format!("arn:aws:kms:us-east-1:{acct}:key/1234");
        assert!(allows(&p, "kms:ScheduleKeyDeletion", &key, &tag("dev")));
        assert!(!allows(&p, "kms:ScheduleKeyDeletion", &key, &tag("prod")));
        assert!(!allows(&p, "kms:PutKeyPolicy", &key, &none()));
        assert!(allows(&p, "ec2:CreateVpc", "*", &none()), "a VPC has no id before it exists");
        // never a value; the database's master secret is made by RDS with the stack's key only
        for never in ["secretsmanager:GetSecretValue", "kms:Decrypt", "s3:GetObject"] {
            assert!(!allows(&p, never, "*", &none()), "{never}");
        }
        assert!(!allows(&p, "secretsmanager:GetSecretValue", &format!("arn:aws:secretsmanager:us-east-1:{acct}:secret:rds!db-1"), &none()));
        assert!(allows(&p, "secretsmanager:CreateSecret", &format!("arn:aws:secretsmanager:us-east-1:{acct}:secret:rds!db-1-AbCdEf"), &none()));
        assert!(!allows(&p, "secretsmanager:CreateSecret", &format!("arn:aws:secretsmanager:us-east-1:{acct}:secret:payroll"), &none()));
        assert!(allows(&p, "kms:GenerateDataKey", &key, &tag("dev")));
        assert!(!allows(&p, "kms:Decrypt", &key, &tag("prod")), "another stack's key");
        assert_no_wildcard_action(&p);
    }

    fn assert_no_wildcard_action(p: &Value) {
        for st in crate::semantics::policy::statements(p) {
            for a in crate::semantics::policy::string_list(st.get("Action")) {
                assert!(!a.contains('*') && !a.contains('?'), "wildcard action {a}");
            }
            assert!(st.get("NotAction").is_none());
        }
    }

    #[test]
    fn the_provision_policy_grants_every_registered_operation() {
        let dev = stack("tapaudit", "dev");
        let p = provision_policy(&Place { stack: &dev, region: "us-east-1", account: "1", services: every_provision_service() });
        for s in PROVISION {
            for o in s.ops {
                for a in o.actions(s.prefix) {
                    let granted =
                        crate::semantics::policy::statements(&p).iter().any(|st| crate::semantics::policy::string_list(st.get("Action")).contains(&a));
                    assert!(granted, "{a} ({} {}) not granted", s.sdk, o.name);
                }
            }
        }
    }

    #[test]
    fn a_policy_too_large_for_one_managed_policy_splits_into_documents_that_fit() {
        let dev = stack("tapaudit", "dev");
        let p = provision_policy(&Place { stack: &dev, region: "us-east-1", account: "111122223333", services: every_provision_service() });
        assert!(policy_size(&p) > MANAGED_POLICY_LIMIT, "the case this test is about: {}", policy_size(&p));
        let docs = split(&p, MANAGED_POLICY_LIMIT);
        assert!(docs.len() >= 2 && docs.len() <= 10, "{} documents", docs.len());
        let mut joined = vec![];
        for d in &docs {
            assert!(policy_size(d) <= MANAGED_POLICY_LIMIT, "{}", policy_size(d));
            joined.extend(crate::semantics::policy::statements(d).into_iter().cloned());
        }
        assert_eq!(joined, crate::semantics::policy::statements(&p).into_iter().cloned().collect::<Vec<_>>());
        assert_eq!(split(&scan_policy(), MANAGED_POLICY_LIMIT), vec![scan_policy()], "a policy that fits stays one document");
    }

    #[test]
    fn a_stack_is_granted_only_the_services_its_resources_use() {
        let services = services_of(["ec2:vpc", "kinesis:stream", "kms:key"]);
        assert_eq!(services, ["CloudWatch Logs", "EC2", "KMS", "Kinesis", "STS"].into_iter().collect());
        let dev = stack("tapaudit", "dev");
        let p = provision_policy(&Place { stack: &dev, region: "us-east-1", account: "1", services });
        assert!(allows(&p, "kinesis:CreateStream", "arn:aws:kinesis:us-east-1:1:stream/tapaudit-dev-s", &none()));
        for other in ["elasticfilesystem:CreateFileSystem", "rds:CreateDBInstance", "iam:PassRole", "iam:CreateRole", "s3:CreateBucket"] {
            assert!(!allows(&p, other, "*", &none()) && !allows(&p, other, "arn:aws:iam::1:role/tapaudit-dev-x", &none()), "{other}");
        }
        assert!(allows(&p, "logs:CreateLogGroup", "arn:aws:logs:us-east-1:1:log-group:/tapaudit/lock/tapaudit-dev", &none()), "the stack lock");
    }

    #[test]
    fn every_blueprint_maps_to_services_and_the_fedramp_one_has_no_file_system_grant() {
        for name in ["dev", "iot", "ferpa", "lgpd"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("stacks/{name}.toml"));
            let stack = crate::spec::parse(&path, std::fs::read_to_string(&path).unwrap()).unwrap();
            let nodes = crate::provision::nodes(&stack);
            let services = services_of(nodes.iter().map(|n| n.kind.label()));
            let p = provision_policy(&Place { stack: &stack.id, region: "us-east-1", account: "1", services: services.clone() });
            let has_efs = crate::semantics::policy::statements(&p).iter().any(|st| st["Sid"].as_str().is_some_and(|s| s.starts_with("Elasticfilesystem")));
            assert_eq!(has_efs, services.contains("EFS"), "{name}");
            if name == "dev" {
                assert!(!has_efs && !services.contains("Elastic Load Balancing v2"), "dev has neither a file system nor a load balancer");
            }
        }
    }

    #[test]
    fn the_evaluator_follows_aws_for_deny_wildcards_and_conditions() {
        let p = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret*"},
            {"Effect": "Allow", "Action": "ec2:DeleteVpc", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": "a"}}},
        ]});
        assert!(allows(&p, "s3:GetObject", "arn:aws:s3:::b/x", &none()));
        assert!(allows(&p, "S3:getobject", "arn:aws:s3:::b/x", &none()), "actions are case-insensitive");
        assert!(!allows(&p, "s3:GetObject", "arn:aws:s3:::b/secret.txt", &none()), "explicit deny wins");
        assert!(!allows(&p, "s3:PutObject", "arn:aws:s3:::b/x", &none()));
        assert!(!allows(&p, "ec2:DeleteVpc", "arn:aws:ec2:r:1:vpc/v", &none()), "absent key: condition fails");
        let team: BTreeMap<String, String> = [("aws:resourcetag/team".to_string(), "a".to_string())].into_iter().collect();
        assert!(allows(&p, "ec2:DeleteVpc", "arn:aws:ec2:r:1:vpc/v", &team), "condition keys are case-insensitive");
    }
}
