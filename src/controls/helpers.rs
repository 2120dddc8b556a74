//! Small pure helpers shared by controls.

use serde_json::Value;

/// Statements of a policy document as a list (a single statement object counts as one).
pub fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => vec![],
    }
}

/// A string-or-list policy field as a list of strings.
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => vec![],
    }
}

/// True when a statement's Principal is `*` or contains `{"AWS": "*"}`.
pub fn has_wildcard_principal(statement: &Value) -> bool {
    match statement.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => m.get("AWS").map(|v| string_list(Some(v)).iter().any(|p| p == "*")).unwrap_or(false),
        _ => false,
    }
}

/// True when the statement has a Condition block (which may narrow a wildcard principal).
pub fn has_condition(statement: &Value) -> bool {
    statement.get("Condition").is_some_and(|c| c.as_object().is_some_and(|m| !m.is_empty()))
}

pub fn is_allow(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}

/// The account id field of an ARN (`arn:partition:service:region:account:resource`), if any.
pub fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    parts.nth(3).filter(|a| !a.is_empty())
}

/// The values a statement's Condition gives `key` (matched case-insensitively, as IAM matches
/// keys) under the operators `op` accepts (operator names are case-sensitive in IAM).
pub fn condition_values(statement: &Value, op: impl Fn(&str) -> bool, key: &str) -> Vec<String> {
    let Some(Value::Object(ops)) = statement.get("Condition") else { return vec![] };
    ops.iter()
        .filter(|(o, _)| op(o))
        .filter_map(|(_, block)| block.as_object())
        .flat_map(|block| block.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
        .flat_map(|v| match v {
            Value::Array(a) => a.iter().map(scalar_string).collect::<Vec<_>>(),
            other => vec![scalar_string(other)],
        })
        .collect()
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// True when the policy denies every principal requests made without TLS: a Deny statement for
/// Principal `*` (or `{"AWS": "*"}`) whose Action is `*` or one of `actions` (compared
/// case-insensitively, e.g. `["s3:*"]`), with `Condition: {"Bool"|"BoolIfExists":
/// {"aws:SecureTransport": "false"}}`.
pub fn denies_insecure_transport(policy: &Value, actions: &[&str]) -> bool {
    statements(policy).into_iter().any(|s| {
        let deny = s.get("Effect").and_then(Value::as_str) == Some("Deny");
        let everyone = has_wildcard_principal(s);
        let covers = string_list(s.get("Action")).iter().any(|a| {
            let a = a.to_ascii_lowercase();
            a == "*" || actions.iter().any(|x| x.eq_ignore_ascii_case(&a))
        });
        let insecure = condition_values(s, |o| o == "Bool" || o == "BoolIfExists", "aws:SecureTransport").iter().any(|v| v.eq_ignore_ascii_case("false"));
        deny && everyone && covers && insecure
    })
}

// ---------- network: public vs private subnets ----------

/// True when the route table has a route to an internet gateway (`igw-…`), which is what makes
/// the subnets it governs public: the default route `0.0.0.0/0` / `::/0`, or any narrower prefix.
pub fn route_table_is_public(rt: &crate::model::ec2::RouteTable) -> bool {
    rt.routes.iter().any(|r| r.target.starts_with("igw-"))
}

/// The route table that governs a subnet: its explicit association, else the main table of its
/// VPC. `vpc_id` is a fallback for when the subnet itself is not in the State (the subnet's own
/// record wins). Err (the reason) when it cannot be told, e.g. because a listing failed.
pub fn subnet_route_table<'a>(
    ec2: &'a crate::model::ec2::Ec2,
    subnet_id: &str,
    vpc_id: Option<&str>,
    region: &str,
) -> Result<&'a crate::model::ec2::RouteTable, String> {
    if let Some(rt) = ec2.route_tables.iter().find(|rt| rt.subnet_ids.iter().any(|s| s == subnet_id)) {
        return Ok(rt);
    }
    if let Some(reason) = ec2.route_tables.failed_in(region) {
        return Err(format!("route tables could not be listed in {region}: {reason}"));
    }
    let subnet_vpc = ec2.subnets.iter().find(|s| s.meta.id == subnet_id).map(|s| s.vpc_id.as_str());
    let Some(vpc) = subnet_vpc.or(vpc_id) else {
        return Err(match ec2.subnets.failed_in(region) {
            Some(reason) => format!("subnet {subnet_id}: subnets could not be listed in {region}: {reason}"),
            None => format!("subnet {subnet_id} is not in the State, so its VPC and route table are unknown"),
        });
    };
    ec2.route_tables
        .iter()
        .find(|rt| rt.main && rt.vpc_id == vpc)
        .ok_or_else(|| format!("subnet {subnet_id} has no explicit route table association and the main route table of {vpc} is not in the State"))
}

/// True when the subnet routes to an internet gateway (see [`route_table_is_public`]).
pub fn subnet_is_public(ec2: &crate::model::ec2::Ec2, subnet_id: &str, vpc_id: Option<&str>, region: &str) -> Result<bool, String> {
    subnet_route_table(ec2, subnet_id, vpc_id, region).map(route_table_is_public)
}
