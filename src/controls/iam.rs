//! IAM policy controls. Roles, users and groups are judged, each on its own permission
//! policies: the managed policies attached to it (customer- and AWS-managed, in
//! `state.iam.policies`) and its inline policies (a user's verdict covers what is attached to
//! the user itself; its groups have their own verdicts). A policy that could not be read (or is
//! not a policy document AWS would evaluate) makes the verdict `error` unless what was read
//! already fails. Service-linked roles belong to AWS and are not applicable. The policy
//! semantics (wildcards, NotAction/NotResource, conditions) are `semantics::policy`'s. The
//! identity controls (credentials, MFA, the account) are in `iam_identity`.

use super::{arn_account, each, ControlFn, Params, Verdict};
use crate::model::{Meta, Observed, State};
use crate::semantics::policy::{self as pol, SetQualifier};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("iam-no-admin-wildcard", no_admin_wildcard),
    ("iam-no-service-wildcard-on-data-services", no_service_wildcard_on_data_services),
    ("iam-trust-policy-expected-principals", trust_policy_expected_principals),
];

/// The permission policies of a role, user or group (its inline policies and the managed
/// policies attached to it): (where it comes from, its statements), plus what could not be read.
fn permission_documents<'a>(
    state: &'a State,
    inline: &'a Observed<BTreeMap<String, Value>>,
    attached: &'a Observed<Vec<String>>,
) -> (Vec<(String, Vec<&'a Value>)>, Vec<String>) {
    let mut docs: Vec<(String, &Value)> = Vec::new();
    let mut unread = Vec::new();
    match inline.get() {
        Ok(m) => docs.extend(m.iter().map(|(name, d)| (format!("inline policy {name}"), d))),
        Err(reason) => unread.push(format!("inline policies: {reason}")),
    }
    match attached.get() {
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
    let mut parsed = Vec::new();
    for (source, doc) in docs {
        match pol::parse_statements(doc) {
            Ok(s) => parsed.push((source, s)),
            Err(e) => unread.push(format!("{source}: {e}")),
        }
    }
    (parsed, unread)
}

/// Judge the permission policies of every role, user and group with `offence`, which
/// describes what an Allow statement grants that it should not (one line per finding, none when
/// it is fine).
fn judge_permissions(state: &State, offence: impl Fn(&Value) -> Vec<String>, pass_msg: &'static str, expected: Value) -> Vec<Verdict> {
    // a managed policy is attached to many principals: judge each of its statements once (the
    // statements are the State's own values, so their address identifies them)
    let judged: std::cell::RefCell<std::collections::HashMap<*const Value, std::rc::Rc<Vec<String>>>> = Default::default();
    let offences_of = |s: &Value| judged.borrow_mut().entry(s as *const Value).or_insert_with(|| std::rc::Rc::new(offence(s))).clone();
    let judge = |meta: &Meta, inline: &Observed<BTreeMap<String, Value>>, attached: &Observed<Vec<String>>| {
        let (docs, unread) = permission_documents(state, inline, attached);
        let mut offending: Vec<String> = Vec::new();
        for (source, statements) in &docs {
            for s in statements.iter().filter(|s| pol::is_allow(s)) {
                offending.extend(offences_of(s).iter().map(|o| format!("{source}, statement {}: {o}", pol::sid(s))));
            }
        }
        let sources: Vec<&str> = docs.iter().map(|(s, _)| s.as_str()).collect();
        if !offending.is_empty() {
            let also = if unread.is_empty() { String::new() } else { format!(" (also unread: {})", unread.join("; ")) };
            Verdict::fail(meta, format!("{}{also}", offending.join("; ")), json!({"offending_statements": offending, "unread": unread}), expected.clone())
        } else if !unread.is_empty() {
            Verdict::error(meta, unread.join("; "))
        } else {
            Verdict::pass(meta, pass_msg, json!({"policies": sources, "offending_statements": []}))
        }
    };
    let mut out = each(&state.iam.roles, "iam:role", |role| {
        if role.is_service_linked() {
            return Verdict::not_applicable(&role.meta, "service-linked role: its policies are defined and maintained by AWS");
        }
        judge(&role.meta, &role.inline_policies, &role.attached_policies)
    });
    out.extend(each(&state.iam.users, "iam:user", |u| judge(&u.meta, &u.inline_policies, &u.attached_policies)));
    out.extend(each(&state.iam.groups, "iam:group", |g| judge(&g.meta, &g.inline_policies, &g.attached_policies)));
    out
}

/// Administrator access as `semantics::policy::admin_grant` defines it: every action, any
/// NotAction, or every IAM action, on every resource (or a NotResource).
fn no_admin_wildcard(state: &State, _: &Params) -> Vec<Verdict> {
    judge_permissions(
        state,
        |s| pol::admin_grant(s).into_iter().collect(),
        "no statement grants administrator access (every action, a NotAction, or every IAM action) on every resource",
        json!({"offending_statements": [], "statements": "specific actions on specific resource ARNs"}),
    )
}

/// A data service granted whole (`kms:*`, `*`, a NotAction that leaves it out) or its
/// read-everything / destroy actions (`kinesis:Get*`, `secretsmanager:GetSecretValue`,
/// `kms:Decrypt`, `dynamodb:Scan`, ...) on every resource of the service.
fn no_service_wildcard_on_data_services(state: &State, _: &Params) -> Vec<Verdict> {
    judge_permissions(
        state,
        pol::data_service_grants,
        "no statement grants a data service wholesale, or its data-reading actions, on every resource",
        json!({"offending_statements": [], "statements": "specific actions on the stack's resource ARNs"}),
    )
}

/// An `sts:ExternalId` condition that a caller must match exactly (a wildcard, `...IfExists`
/// or ForAllValues would let a caller without the id in).
fn requires_external_id(statement: &Value) -> bool {
    pol::condition_entries(statement).unwrap_or_default().iter().any(|e| {
        e.key == "sts:externalid"
            && !e.if_exists
            && e.qualifier != Some(SetQualifier::ForAllValues)
            && matches!(e.base, Some("StringEquals") | Some("StringLike"))
            && !e.values.is_empty()
            && e.values.iter().all(|v| !v.is_empty() && !v.contains('*') && !v.contains('?') && !v.contains("${"))
    })
}

/// What is unexpected about one Allow statement of a trust policy (besides being public,
/// which `public_grants` judges over the whole policy).
fn trust_problems(statement: &Value, own_account: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    if pol::public_principal(statement).is_some() {
        return out;
    }
    let Some(Value::Object(p)) = statement.get("Principal") else { return out };
    if let Some(aws) = p.get("AWS") {
        for principal in pol::string_list(Some(aws)) {
            let account =
                if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) { Some(principal.as_str()) } else { arn_account(&principal) };
            if let (Some(a), Some(own)) = (account, own_account) {
                if a != own && !requires_external_id(statement) {
                    out.push(format!("trusts {principal} in account {a} without an sts:ExternalId condition"));
                }
            }
        }
    }
    if let Some(fed) = p.get("Federated") {
        if !pol::has_condition(statement) {
            out.push(format!(
                "trusts federated provider {} without a condition (any of its identities may assume the role)",
                pol::string_list(Some(fed)).join(", ")
            ));
        }
    }
    for service in pol::service_principals(statement) {
        if pol::needs_source_condition(&service) {
            if let Err(why) = pol::source_restriction(statement) {
                out.push(format!(
                    "trusts {service} without an aws:SourceAccount / aws:SourceArn condition naming this account's resources (confused deputy: {})",
                    why.join("; ")
                ));
            }
        }
    }
    out
}

/// A wildcard principal (`*`, `{"AWS": "*"}`, `arn:aws:iam::*:root`, NotPrincipal) must be
/// restricted by an organisation/account/source condition (or a Deny for everyone outside);
/// a principal in another account needs sts:ExternalId; a federated provider needs a
/// condition; a service that supports it needs aws:SourceAccount / aws:SourceArn (confused
/// deputy; `semantics::policy::CONFUSED_DEPUTY_SERVICES`). Other service principals are
/// expected (the State does not say which service a role was built for).
fn trust_policy_expected_principals(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.iam.roles, "iam:role", |role| {
        if role.is_service_linked() {
            return Verdict::not_applicable(&role.meta, "service-linked role: AWS defines its trust policy");
        }
        let policy = match role.trust_policy.get() {
            Ok(p) => p,
            Err(reason) => return Verdict::error(&role.meta, reason),
        };
        let (statements, public) = match (pol::parse_statements(policy), pol::public_grants(policy)) {
            (Ok(s), Ok(p)) => (s, p),
            (Err(e), _) | (_, Err(e)) => return Verdict::error(&role.meta, format!("trust policy: {e}")),
        };
        let own = Some(role.meta.account.as_str()).filter(|a| !a.is_empty()).or_else(|| arn_account(&role.meta.arn));
        let mut problems: Vec<String> = public.iter().map(|g| format!("{}: trusts everyone", g.describe())).collect();
        problems.extend(
            statements
                .into_iter()
                .filter(|s| pol::is_allow(s))
                .flat_map(|s| trust_problems(s, own).into_iter().map(move |p| format!("statement {}: {p}", pol::sid(s)))),
        );
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
    use crate::controls::testing::fixture;
    use crate::finding::Status;
    use crate::model::iam::Role;

    /// The statuses of `id` on the state's roles (users and groups are judged in `users_and_groups`).
    fn eval(id: &str, state: &State) -> Vec<Status> {
        let mut roles_only = state.clone();
        roles_only.iam.users = Default::default();
        roles_only.iam.groups = Default::default();
        crate::controls::testing::eval(id, &roles_only)
    }

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
        add_inline(&mut other_service, allow(json!(["cloudwatch:*", "s3:ListBucket"]), json!("*")));
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
            (
                json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
                Status::Fail,
            ),
            (
                json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}),
                Status::Fail,
            ),
            (
                json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}),
                Status::Pass,
            ),
            (json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}), Status::Fail),
            (json!({"Effect": "Allow", "Principal": {"AWS": ["999999999999"]}, "Action": "sts:AssumeRole"}), Status::Fail),
            (
                json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:role/partner"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x-1"}}}),
                Status::Pass,
            ),
            (json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}), Status::Pass),
            (
                json!({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}),
                Status::Fail,
            ),
            (
                json!({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/repo:*"}}}),
                Status::Pass,
            ),
            (json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}), Status::Fail),
            // confused deputy: ECS honours aws:SourceAccount / aws:SourceArn, so it must be bound
            (json!({"Effect": "Allow", "Principal": {"Service": ["ecs-tasks.amazonaws.com"]}, "Action": "sts:AssumeRole"}), Status::Fail),
            (
                json!({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"}}}),
                Status::Pass,
            ),
            (
                json!({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}}}),
                Status::Fail,
            ),
            (
                json!({"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:ec2:*:*:vpc-flow-log/*"}}}),
                Status::Fail,
            ),
            // EC2 instance roles cannot carry the condition: not demanded
            (json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}), Status::Pass),
            // account wildcards are everyone, whatever else the statement says
            (
                json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x-1"}}}),
                Status::Fail,
            ),
            (
                json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringLike": {"aws:PrincipalOrgID": "*"}}}),
                Status::Fail,
            ),
            (
                json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}),
                Status::Fail,
            ),
            (
                json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}}),
                Status::Pass,
            ),
            (
                json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:role/partner"}, "Action": "sts:AssumeRole", "Condition": {"StringLike": {"sts:ExternalId": "*"}}}),
                Status::Fail,
            ),
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

    #[test]
    fn public_trust_restricted_by_a_deny() {
        let mut s = fixture();
        role(&mut s, "ecs-task").trust_policy = Observed::Known(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
            {"Sid": "OnlyOurOrg", "Effect": "Deny", "Principal": "*", "Action": "sts:*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}
        ]}));
        assert_eq!(eval("iam-trust-policy-expected-principals", &s), vec![Status::Pass, Status::Pass]);
        let mut partial = fixture();
        role(&mut partial, "ecs-task").trust_policy = Observed::Known(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["sts:AssumeRole", "sts:TagSession"]},
            {"Sid": "OnlyOurOrg", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}
        ]}));
        assert_eq!(eval("iam-trust-policy-expected-principals", &partial), vec![Status::Fail, Status::Pass], "the Deny leaves sts:TagSession open");
        let mut malformed = fixture();
        role(&mut malformed, "ecs-task").trust_policy = Observed::Known(json!({"Statement": "sts:AssumeRole"}));
        assert_eq!(eval("iam-trust-policy-expected-principals", &malformed), vec![Status::Error, Status::Pass]);
    }

    #[test]
    fn admin_is_more_than_the_literal_star() {
        for (statement, why) in [
            (json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), "everything but IAM"),
            (json!({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}), "IAM grants everything"),
            (json!({"Effect": "Allow", "Action": ["*:*"], "NotResource": "arn:aws:s3:::audit/*"}), "NotResource"),
            (json!({"Effect": "Allow", "Action": "**", "Resource": "**"}), "double star"),
        ] {
            let mut bad = fixture();
            add_inline(&mut bad, json!({"Statement": [statement]}));
            assert_eq!(eval("iam-no-admin-wildcard", &bad), vec![Status::Fail, Status::Pass], "{why}");
        }
        let mut read_only = fixture();
        add_inline(&mut read_only, allow(json!(["iam:Get*", "iam:List*"]), json!("*")));
        assert_eq!(eval("iam-no-admin-wildcard", &read_only), vec![Status::Pass, Status::Pass]);
        let mut not_a_policy = fixture();
        add_inline(&mut not_a_policy, json!({"Version": "2012-10-17"}));
        assert_eq!(eval("iam-no-admin-wildcard", &not_a_policy), vec![Status::Error, Status::Pass], "a document without statements is unread evidence");
    }

    #[test]
    fn data_service_reads_on_every_resource() {
        for (action, resource) in [
            (json!("kinesis:Get*"), json!("*")),
            (json!(["s3:Get*"]), json!("*")),
            (json!("secretsmanager:GetSecretValue"), json!("arn:aws:secretsmanager:us-east-1:123456789012:secret:*")),
            (json!("kms:*crypt*"), json!("*")),
            (json!("rds-data:*"), json!("*")),
            (json!("dynamodb:Scan"), json!("arn:aws:dynamodb:*:*:table/*")),
            (json!("K*:*"), json!("*")),
        ] {
            let mut bad = fixture();
            add_inline(&mut bad, allow(action.clone(), resource));
            assert_eq!(eval("iam-no-service-wildcard-on-data-services", &bad), vec![Status::Fail, Status::Pass], "{action}");
        }
        let mut not_action = fixture();
        add_inline(&mut not_action, json!({"Statement": [{"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}]}));
        assert_eq!(eval("iam-no-service-wildcard-on-data-services", &not_action), vec![Status::Fail, Status::Pass]);
        // the fixture's own read of one stream, and a write-only grant on *, pass
        let mut write_only = fixture();
        add_inline(&mut write_only, allow(json!(["logs:CreateLogStream", "logs:PutLogEvents", "kms:GenerateDataKey"]), json!("*")));
        assert_eq!(eval("iam-no-service-wildcard-on-data-services", &write_only), vec![Status::Pass, Status::Pass]);
    }

    /// Verdicts of `id` on the fixture's users and groups: (resource type, status), sorted.
    fn identities(id: &str, state: &State) -> Vec<(String, Status)> {
        let cat = crate::controls::Catalogue::load().unwrap();
        let fws: Vec<String> = cat.frameworks.keys().cloned().collect();
        let params = Params(cat.parameters(&cat.controls[id], &fws, &Default::default()));
        let control = crate::controls::registry()[id];
        let mut out: Vec<(String, Status)> =
            control(state, &params).into_iter().filter(|v| v.resource.resource_type != "iam:role").map(|v| (v.resource.resource_type, v.status)).collect();
        out.sort();
        out
    }

    fn user(s: &mut State) -> &mut crate::model::iam::User {
        s.iam.users.items.values_mut().next().expect("the fixture has a user")
    }

    fn group(s: &mut State) -> &mut crate::model::iam::Group {
        s.iam.groups.items.values_mut().next().expect("the fixture has a group")
    }

    fn pair(user: Status, group: Status) -> Vec<(String, Status)> {
        vec![("iam:group".to_string(), group), ("iam:user".to_string(), user)]
    }

    #[test]
    fn users_and_groups_are_judged_on_their_own_policies() {
        for id in ["iam-no-admin-wildcard", "iam-no-service-wildcard-on-data-services"] {
            assert_eq!(identities(id, &fixture()), pair(Status::Pass, Status::Pass), "{id}");
        }
        // an admin grant inline on the group: the group fails, its member's own verdict does not
        let mut group_admin = fixture();
        if let Observed::Known(m) = &mut group(&mut group_admin).inline_policies {
            m.insert("break-glass".into(), allow(json!("*"), json!("*")));
        }
        assert_eq!(identities("iam-no-admin-wildcard", &group_admin), pair(Status::Pass, Status::Fail));
        // AdministratorAccess attached to the user itself
        let mut user_admin = fixture();
        let mut p = user_admin.iam.policies.items[EXEC_POLICY].clone();
        p.meta.arn = "arn:aws:iam::aws:policy/AdministratorAccess".into();
        p.document = Observed::Known(allow(json!("*"), json!("*")));
        user_admin.iam.policies.insert(p);
        user(&mut user_admin).attached_policies = Observed::Known(vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()]);
        assert_eq!(identities("iam-no-admin-wildcard", &user_admin), pair(Status::Fail, Status::Pass));
        assert_eq!(identities("iam-no-service-wildcard-on-data-services", &user_admin), pair(Status::Fail, Status::Pass), "* covers every data service");
        // a data-service read on every resource, spelled as a wildcard, inline on the group
        let mut group_reads = fixture();
        if let Observed::Known(m) = &mut group(&mut group_reads).inline_policies {
            m.insert("debug".into(), allow(json!(["secretsmanager:Get*"]), json!("*")));
        }
        assert_eq!(identities("iam-no-service-wildcard-on-data-services", &group_reads), pair(Status::Pass, Status::Fail));
        assert_eq!(identities("iam-no-admin-wildcard", &group_reads), pair(Status::Pass, Status::Pass));
        // an attached policy that is not in the state, and unread inline policies: error
        let mut missing = fixture();
        user(&mut missing).attached_policies = Observed::Known(vec!["arn:aws:iam::123456789012:policy/ops".into()]);
        group(&mut missing).inline_policies = Observed::Unknown("AccessDenied".into());
        for id in ["iam-no-admin-wildcard", "iam-no-service-wildcard-on-data-services"] {
            assert_eq!(identities(id, &missing), pair(Status::Error, Status::Error), "{id}");
        }
        // listings that failed
        let mut failed = fixture();
        failed.iam.users.items.clear();
        failed.iam.users.fail("global", "AccessDenied");
        failed.iam.groups.items.clear();
        failed.iam.groups.fail("global", "AccessDenied");
        assert_eq!(identities("iam-no-admin-wildcard", &failed), pair(Status::Error, Status::Error));
    }

    /// The stacks' own roles and key policy, as the pre-deployment check sees them (provision
    /// refuses a stack that fails them): every policy control passes.
    #[test]
    fn shipped_stacks_pass_the_policy_controls() {
        for stack in ["stacks/dev.toml", "stacks/qa.toml"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(stack);
            let desired = crate::spec::desired::desired(&crate::spec::load(&path).unwrap());
            assert!(desired.iam.roles.len() >= 3, "{stack}");
            for id in [
                "iam-no-admin-wildcard",
                "iam-no-service-wildcard-on-data-services",
                "iam-trust-policy-expected-principals",
                "kms-key-policy-no-wildcard-principal",
            ] {
                let got = eval(id, &desired);
                assert!(!got.is_empty() && got.iter().all(|s| *s == Status::Pass), "{stack} {id}: {got:?}");
            }
        }
    }
}
