//! IAM controls. Roles are judged; the managed policies attached to them (customer- and
//! AWS-managed, in `state.iam.policies`) and their inline policies are the evidence. A policy
//! that could not be read makes the verdict `error` unless what was read already fails.
//! Service-linked roles belong to AWS and are not applicable.

use super::{arn_account, each, has_wildcard_principal, is_allow, statements, string_list, ControlFn, Params, Verdict};
use crate::model::iam::Role;
use crate::model::State;
use serde_json::{json, Value};

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("iam-no-admin-wildcard", no_admin_wildcard),
    ("iam-no-service-wildcard-on-data-services", no_service_wildcard_on_data_services),
    ("iam-trust-policy-expected-principals", trust_policy_expected_principals),
];

/// The permission policies of a role: (where it comes from, document), plus what could not be read.
fn permission_documents<'a>(state: &'a State, role: &'a Role) -> (Vec<(String, &'a Value)>, Vec<String>) {
    let mut docs = Vec::new();
    let mut unread = Vec::new();
    match role.inline_policies.get() {
        Ok(m) => docs.extend(m.iter().map(|(name, d)| (format!("inline policy {name}"), d))),
        Err(reason) => unread.push(format!("inline policies: {reason}")),
    }
    match role.attached_policies.get() {
        Err(reason) => unread.push(format!("attached policies: {reason}")),
        Ok(arns) => {
            for arn in arns {
                match state.iam.policies.items.get(arn) {
                    Some(p) => match p.document.get() {
                        Ok(d) => docs.push((format!("managed policy {arn}"), d)),
                        Err(reason) => unread.push(format!("{arn}: {reason}")),
                    },
                    None => {
                        let why = match state.iam.policies.failures.first() {
                            Some(f) => format!("{arn}: managed policies could not be listed ({})", f.reason),
                            None => format!("{arn}: attached but not in the scanned state"),
                        };
                        unread.push(why);
                    }
                }
            }
        }
    }
    (docs, unread)
}

fn sid(statement: &Value) -> &str {
    statement.get("Sid").and_then(Value::as_str).unwrap_or("(no Sid)")
}

/// Resource `*`, or a NotResource (an Allow with NotResource covers every other resource).
fn on_every_resource(statement: &Value) -> bool {
    statement.get("NotResource").is_some() || string_list(statement.get("Resource")).iter().any(|r| r == "*")
}

fn actions(statement: &Value) -> Vec<String> {
    string_list(statement.get("Action")).iter().map(|a| a.to_ascii_lowercase()).collect()
}

fn is_all_actions(a: &str) -> bool {
    a == "*" || a == "*:*"
}

/// Judge a role's permission policies with `offence`, which describes an offending Allow
/// statement (or returns None).
fn judge_permissions(state: &State, offence: impl Fn(&Value) -> Option<String>, pass_msg: &'static str, expected: Value) -> Vec<Verdict> {
    each(&state.iam.roles, "iam:role", |role| {
        if role.is_service_linked() {
            return Verdict::not_applicable(&role.meta, "service-linked role: its policies are defined and maintained by AWS");
        }
        let (docs, unread) = permission_documents(state, role);
        let offending: Vec<String> = docs
            .iter()
            .flat_map(|(source, doc)| statements(doc).into_iter().filter(|s| is_allow(s)).filter_map(|s| offence(s).map(|o| format!("{source}, statement {}: {o}", sid(s)))).collect::<Vec<_>>())
            .collect();
        let sources: Vec<&str> = docs.iter().map(|(s, _)| s.as_str()).collect();
        if !offending.is_empty() {
            let also = if unread.is_empty() { String::new() } else { format!(" (also unread: {})", unread.join("; ")) };
            Verdict::fail(&role.meta, format!("{}{also}", offending.join("; ")), json!({"offending_statements": offending, "unread": unread}), expected.clone())
        } else if !unread.is_empty() {
            Verdict::error(&role.meta, unread.join("; "))
        } else {
            Verdict::pass(&role.meta, pass_msg, json!({"policies": sources, "offending_statements": []}))
        }
    })
}

fn no_admin_wildcard(state: &State, _: &Params) -> Vec<Verdict> {
    judge_permissions(
        state,
        |s| {
            if !on_every_resource(s) {
                return None;
            }
            if actions(s).iter().any(|a| is_all_actions(a)) {
                return Some("allows Action \"*\" on Resource \"*\"".to_string());
            }
            // an Allow with NotAction grants every action except the listed ones
            s.get("NotAction").map(|na| format!("allows every action except {} (NotAction) on Resource \"*\"", string_list(Some(na)).join(", ")))
        },
        "no statement allows every action on every resource",
        json!({"offending_statements": [], "statements": "specific actions on specific resource ARNs"}),
    )
}

/// Services that hold or guard the pipeline's data (and its audit trail).
const DATA_SERVICES: &[&str] = &[
    "s3",
    "kms",
    "rds",
    "rds-data",
    "dynamodb",
    "kinesis",
    "firehose",
    "secretsmanager",
    "ssm",
    "elasticfilesystem",
    "elasticache",
    "logs",
    "backup",
];

/// `s3:*`, `kms:*`, ... on Resource `*`. Action `*` includes all of them and fails too
/// (it is also reported by iam-no-admin-wildcard).
fn no_service_wildcard_on_data_services(state: &State, _: &Params) -> Vec<Verdict> {
    judge_permissions(
        state,
        |s| {
            if !on_every_resource(s) {
                return None;
            }
            let acts = actions(s);
            if acts.iter().any(|a| is_all_actions(a)) {
                return Some("allows Action \"*\" (every data service) on Resource \"*\"".to_string());
            }
            let wild: Vec<&String> = acts.iter().filter(|a| a.strip_suffix(":*").is_some_and(|svc| DATA_SERVICES.contains(&svc))).collect();
            (!wild.is_empty()).then(|| format!("allows {} on Resource \"*\"", wild.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")))
        },
        "no service-wide wildcard on a data service over Resource \"*\"",
        json!({"offending_statements": [], "statements": "specific actions on the stack's resource ARNs"}),
    )
}

/// Condition keys that tie a wildcard principal to an organisation, account or source.
const NARROWING_KEYS: &[&str] = &["aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn", "aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid"];

/// Condition keys under positive operators (not `...Not...`, not `...IfExists`, which would
/// also match requests without the key).
fn positive_condition_keys(statement: &Value) -> Vec<String> {
    let Some(Value::Object(ops)) = statement.get("Condition") else { return vec![] };
    ops.iter()
        .filter(|(op, _)| !op.contains("Not") && !op.ends_with("IfExists") && op.as_str() != "Null")
        .filter_map(|(_, block)| block.as_object())
        .flat_map(|block| block.keys().map(|k| k.to_ascii_lowercase()))
        .collect()
}

fn has_any_condition(statement: &Value) -> bool {
    statement.get("Condition").is_some_and(|c| c.as_object().is_some_and(|m| !m.is_empty()))
}

/// What is unexpected about one Allow statement of a trust policy, if anything.
fn trust_problems(statement: &Value, own_account: Option<&str>) -> Vec<String> {
    let keys = positive_condition_keys(statement);
    let narrowed = keys.iter().any(|k| NARROWING_KEYS.contains(&k.as_str()));
    let external_id = keys.iter().any(|k| k == "sts:externalid");
    let mut out = Vec::new();
    if statement.get("NotPrincipal").is_some() && !narrowed {
        out.push("NotPrincipal in an Allow trusts every principal not listed".to_string());
    }
    if has_wildcard_principal(statement) && !narrowed {
        out.push("trusts any principal (\"*\") without an organisation, account or source condition".to_string());
    }
    if let Some(Value::Object(p)) = statement.get("Principal") {
        if let Some(aws) = p.get("AWS") {
            for principal in string_list(Some(aws)) {
                if principal == "*" {
                    continue;
                }
                let account = if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) { Some(principal.as_str()) } else { arn_account(&principal) };
                if let (Some(a), Some(own)) = (account, own_account) {
                    if a != own && !external_id {
                        out.push(format!("trusts {principal} in account {a} without an sts:ExternalId condition"));
                    }
                }
            }
        }
        if let Some(fed) = p.get("Federated") {
            if !has_any_condition(statement) {
                out.push(format!("trusts federated provider {} without a condition (any of its identities may assume the role)", string_list(Some(fed)).join(", ")));
            }
        }
    }
    out
}

/// Service principals are expected (the State does not say which service a role was built
/// for); a wildcard principal must be narrowed by an organisation/account/source condition, a
/// principal in another account needs sts:ExternalId, a federated provider needs a condition.
fn trust_policy_expected_principals(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.iam.roles, "iam:role", |role| {
        if role.is_service_linked() {
            return Verdict::not_applicable(&role.meta, "service-linked role: AWS defines its trust policy");
        }
        let policy = match role.trust_policy.get() {
            Ok(p) => p,
            Err(reason) => return Verdict::error(&role.meta, reason),
        };
        let own = Some(role.meta.account.as_str()).filter(|a| !a.is_empty()).or_else(|| arn_account(&role.meta.arn));
        let problems: Vec<String> = statements(policy)
            .into_iter()
            .filter(|s| is_allow(s))
            .flat_map(|s| trust_problems(s, own).into_iter().map(move |p| format!("statement {}: {p}", sid(s))))
            .collect();
        if problems.is_empty() {
            Verdict::pass(&role.meta, "the trust policy allows only expected principals", json!({"unexpected_principals": []}))
        } else {
            Verdict::fail(
                &role.meta,
                problems.join("; "),
                json!({"unexpected_principals": problems}),
                json!({"unexpected_principals": [], "principals": "the one service or account the role exists for, with aws:SourceAccount / sts:ExternalId conditions"}),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::Observed;

    const EXEC_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

    fn role<'a>(s: &'a mut State, suffix: &str) -> &'a mut Role {
        s.iam.roles.items.values_mut().find(|r| r.meta.arn.ends_with(suffix)).unwrap_or_else(|| panic!("fixture has a role ending {suffix}"))
    }

    fn add_inline(s: &mut State, doc: Value) {
        if let Observed::Known(m) = &mut role(s, "ecs-task").inline_policies {
            m.insert("extra".into(), doc);
        }
    }

    fn allow(action: Value, resource: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "Extra", "Effect": "Allow", "Action": action, "Resource": resource}]})
    }

    fn trust(statement: Value) -> State {
        let mut s = fixture();
        role(&mut s, "ecs-task").trust_policy = Observed::Known(json!({"Version": "2012-10-17", "Statement": [statement]}));
        s
    }

    #[test]
    fn fixture_roles_and_the_aws_managed_execution_policy_pass() {
        let s = fixture();
        assert!(s.iam.policies.items.contains_key(EXEC_POLICY), "the fixture carries the AWS-managed policy document");
        for id in ["iam-no-admin-wildcard", "iam-no-service-wildcard-on-data-services", "iam-trust-policy-expected-principals"] {
            assert_eq!(eval(id, &s), vec![Status::Pass, Status::Pass], "{id}");
        }
    }

    #[test]
    fn admin_wildcard() {
        for (action, resource) in [(json!("*"), json!("*")), (json!(["s3:GetObject", "*:*"]), json!(["*"]))] {
            let mut bad = fixture();
            add_inline(&mut bad, allow(action, resource));
            assert_eq!(eval("iam-no-admin-wildcard", &bad), vec![Status::Fail, Status::Pass]);
        }
        let mut not_action = fixture();
        add_inline(&mut not_action, json!({"Statement": {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}}));
        assert_eq!(eval("iam-no-admin-wildcard", &not_action), vec![Status::Fail, Status::Pass], "PowerUserAccess-style NotAction");
        let mut scoped = fixture();
        add_inline(&mut scoped, allow(json!("*"), json!("arn:aws:s3:::tapaudit-dev-bucket/*")));
        assert_eq!(eval("iam-no-admin-wildcard", &scoped), vec![Status::Pass, Status::Pass]);
        let mut deny = fixture();
        add_inline(&mut deny, json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}));
        assert_eq!(eval("iam-no-admin-wildcard", &deny), vec![Status::Pass, Status::Pass]);
        // attached AdministratorAccess
        let mut admin = fixture();
        let mut p = admin.iam.policies.items[EXEC_POLICY].clone();
        p.meta.arn = "arn:aws:iam::aws:policy/AdministratorAccess".into();
        p.document = Observed::Known(allow(json!("*"), json!("*")));
        admin.iam.policies.insert(p);
        if let Observed::Known(v) = &mut role(&mut admin, "ecs-execution").attached_policies {
            v.push("arn:aws:iam::aws:policy/AdministratorAccess".into());
        }
        assert_eq!(eval("iam-no-admin-wildcard", &admin), vec![Status::Fail, Status::Pass]);
    }

    #[test]
    fn unreadable_evidence_is_an_error() {
        let mut inline = fixture();
        role(&mut inline, "ecs-task").inline_policies = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("iam-no-admin-wildcard", &inline), vec![Status::Error, Status::Pass]);
        let mut attached = fixture();
        role(&mut attached, "ecs-execution").attached_policies = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("iam-no-service-wildcard-on-data-services", &attached), vec![Status::Error, Status::Pass]);
        let mut document = fixture();
        document.iam.policies.items.values_mut().for_each(|p| p.document = Observed::Unknown("AccessDenied".into()));
        assert_eq!(eval("iam-no-admin-wildcard", &document), vec![Status::Error, Status::Pass]);
        let mut missing = fixture();
        missing.iam.policies.items.clear();
        assert_eq!(eval("iam-no-admin-wildcard", &missing), vec![Status::Error, Status::Pass]);
        assert_eq!(eval("iam-no-service-wildcard-on-data-services", &missing), vec![Status::Error, Status::Pass]);
        let mut failed = fixture();
        failed.iam.roles.items.clear();
        failed.iam.roles.fail("global", "AccessDenied");
        for id in ["iam-no-admin-wildcard", "iam-no-service-wildcard-on-data-services", "iam-trust-policy-expected-principals"] {
            assert_eq!(eval(id, &failed), vec![Status::Error], "{id}");
        }
        // what was read already fails: a fail, not an error
        let mut both = fixture();
        add_inline(&mut both, allow(json!("*"), json!("*")));
        both.iam.policies.items.clear();
        role(&mut both, "ecs-task").attached_policies = Observed::Known(vec![EXEC_POLICY.into()]);
        assert_eq!(eval("iam-no-admin-wildcard", &both), vec![Status::Fail, Status::Error]);
    }

    #[test]
    fn service_wildcards() {
        assert_eq!(eval("iam-no-service-wildcard-on-data-services", &fixture()), vec![Status::Pass, Status::Pass]);
        for action in ["s3:*", "KMS:*", "secretsmanager:*", "elasticfilesystem:*", "logs:*", "*"] {
            let mut bad = fixture();
            add_inline(&mut bad, allow(json!([action]), json!("*")));
            assert_eq!(eval("iam-no-service-wildcard-on-data-services", &bad), vec![Status::Fail, Status::Pass], "{action}");
        }
        let mut scoped = fixture();
        add_inline(&mut scoped, allow(json!("kinesis:*"), json!("arn:aws:kinesis:us-east-1:123456789012:stream/tapaudit-dev-ingest")));
        assert_eq!(eval("iam-no-service-wildcard-on-data-services", &scoped), vec![Status::Pass, Status::Pass]);
        let mut other_service = fixture();
        add_inline(&mut other_service, allow(json!(["cloudwatch:*", "s3:GetObject"]), json!("*")));
        assert_eq!(eval("iam-no-service-wildcard-on-data-services", &other_service), vec![Status::Pass, Status::Pass]);
    }

    #[test]
    fn service_linked_roles_are_not_applicable() {
        let mut s = fixture();
        let r = role(&mut s, "ecs-task");
        r.path = "/aws-service-role/ecs.amazonaws.com/".into();
        r.inline_policies = Observed::Known([("x".to_string(), allow(json!("*"), json!("*")))].into());
        r.trust_policy = Observed::Known(json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}));
        for id in ["iam-no-admin-wildcard", "iam-no-service-wildcard-on-data-services", "iam-trust-policy-expected-principals"] {
            assert_eq!(eval(id, &s), vec![Status::Pass], "{id}");
        }
    }

    #[test]
    fn trust_policies() {
        assert_eq!(eval("iam-trust-policy-expected-principals", &fixture()), vec![Status::Pass, Status::Pass]);
        let cases = [
            (json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}), Status::Fail),
            (json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}), Status::Fail),
            (json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}), Status::Fail),
            (json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}), Status::Fail),
            (json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}), Status::Pass),
            (json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}), Status::Fail),
            (json!({"Effect": "Allow", "Principal": {"AWS": ["999999999999"]}, "Action": "sts:AssumeRole"}), Status::Fail),
            (json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:role/partner"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x-1"}}}), Status::Pass),
            (json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}), Status::Pass),
            (json!({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}), Status::Fail),
            (
                json!({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/repo:*"}}}),
                Status::Pass,
            ),
            (json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}), Status::Fail),
            (json!({"Effect": "Allow", "Principal": {"Service": ["ecs-tasks.amazonaws.com"]}, "Action": "sts:AssumeRole"}), Status::Pass),
            (json!({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}), Status::Pass),
        ];
        for (statement, want) in cases {
            let got = eval("iam-trust-policy-expected-principals", &trust(statement.clone()));
            let mut expected = vec![want, Status::Pass];
            expected.sort();
            assert_eq!(got, expected, "{statement}");
        }
        let mut unknown = fixture();
        role(&mut unknown, "ecs-task").trust_policy = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("iam-trust-policy-expected-principals", &unknown), vec![Status::Error, Status::Pass]);
    }
}
