//! Small pure helpers shared by controls.

use serde_json::Value;

// ---------- policies (semantics in crate::semantics::policy; thin re-exports for controls) ----------

pub use crate::semantics::policy::{condition_values, has_condition, is_allow, statements, string_list};

/// True when a statement's Principal is `*` or contains `{"AWS": "*"}`.
pub fn has_wildcard_principal(statement: &Value) -> bool {
    crate::semantics::policy::is_everyone(statement)
}

/// The account id field of an ARN (`arn:partition:service:region:account:resource`), if any.
pub fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    parts.nth(3).filter(|a| !a.is_empty())
}

/// True when the policy denies every principal requests made without TLS for every one of
/// `actions` on every resource (see `semantics::policy::denies_insecure_transport`).
pub fn denies_insecure_transport(policy: &Value, actions: &[&str]) -> bool {
    crate::semantics::policy::denies_insecure_transport(policy, actions, None)
}

// ---------- log groups ----------

/// Region, account and name of a log group ARN (`arn:<p>:logs:<region>:<account>:log-group:NAME`,
/// with or without the trailing `:*`); None when it is not one.
pub fn log_group_arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    match arn.splitn(7, ':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "logs", r, a, "log-group", name] => Some((r, a, name.trim_end_matches(":*"))),
        _ => None,
    }
}

/// Whether the log group `name` of `account` exists in `region`: in the State, or among those
/// the stack scope left out (they exist, audited with their own stack). Err: the region's log
/// groups could not be listed.
pub fn log_group_exists(state: &crate::model::State, region: &str, account: &str, name: &str) -> Result<bool, String> {
    let groups = &state.logs.log_groups;
    if groups.by_id(name).iter().any(|g| g.meta.region == region && g.meta.id == name) {
        return Ok(true);
    }
    let outside = format!(":logs:{region}:{account}:log-group:{name}");
    if state.logs.out_of_scope.iter().any(|a| a.ends_with(&outside)) {
        return Ok(true);
    }
    match groups.failed_in(region) {
        Some(reason) => Err(format!("log groups could not be listed in {region}: {reason}")),
        None => Ok(false),
    }
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
    if let Some(rt) =
        ec2.route_tables.lookup("subnet", subnet_id, |rt| rt.subnet_ids.clone()).into_iter().find(|rt| rt.subnet_ids.iter().any(|s| s == subnet_id))
    {
        return Ok(rt);
    }
    if let Some(reason) = ec2.route_tables.failed_in(region) {
        return Err(format!("route tables could not be listed in {region}: {reason}"));
    }
    let subnet_vpc = ec2.subnets.by_id(subnet_id).into_iter().find(|s| s.meta.id == subnet_id).map(|s| s.vpc_id.as_str());
    let Some(vpc) = subnet_vpc.or(vpc_id) else {
        return Err(match ec2.subnets.failed_in(region) {
            Some(reason) => format!("subnet {subnet_id}: subnets could not be listed in {region}: {reason}"),
            None => format!("subnet {subnet_id} is not in the State, so its VPC and route table are unknown"),
        });
    };
    let tables: Vec<_> = ec2.route_tables.lookup("vpc", vpc, |rt| vec![rt.vpc_id.clone()]).into_iter().filter(|rt| rt.vpc_id == vpc).collect();
    if let Some(main) = tables.iter().find(|rt| rt.main == crate::model::Observed::Known(true)) {
        return Ok(main);
    }
    if let Some(reason) = tables.iter().find_map(|rt| rt.main.get().err()) {
        return Err(format!("subnet {subnet_id} has no explicit route table association and which table of {vpc} is main is unknown: {reason}"));
    }
    Err(format!("subnet {subnet_id} has no explicit route table association and the main route table of {vpc} is not in the State"))
}

/// True when the subnet routes to an internet gateway (see [`route_table_is_public`]).
pub fn subnet_is_public(ec2: &crate::model::ec2::Ec2, subnet_id: &str, vpc_id: Option<&str>, region: &str) -> Result<bool, String> {
    subnet_route_table(ec2, subnet_id, vpc_id, region).map(route_table_is_public)
}

// ---------- time ----------

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The evaluation time. Unit-test builds pin it to [`TEST_NOW`], so the compliant fixture (last
/// rotated 2026-11-01) stays "recent" forever, also in catalogue_tests, which evaluates every
/// control through the registry and cannot inject a clock; every other build reads the real clock.
#[cfg(not(test))]
pub fn clock() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[cfg(test)]
pub const TEST_NOW: OffsetDateTime = time::macros::datetime!(2026-11-22 00:00 UTC);

#[cfg(test)]
pub fn clock() -> OffsetDateTime {
    TEST_NOW
}

/// Whole days from `then` (RFC 3339) to `now`; a date in the future (clock skew) counts as 0.
pub fn age_days(then: &str, now: OffsetDateTime) -> Result<i64, String> {
    let t = OffsetDateTime::parse(then, &Rfc3339).map_err(|e| format!("timestamp {then:?} is not RFC 3339: {e}"))?;
    Ok((now - t).whole_days().max(0))
}
