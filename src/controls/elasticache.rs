//! ElastiCache controls. Each applies to replication groups (Redis/Valkey) and to cache clusters
//! that belong to no replication group (standalone Redis/Valkey nodes and Memcached clusters).
//! Where Memcached cannot offer a feature at all (AUTH, at-rest encryption, snapshots, failover)
//! its clusters are not applicable; a standalone Redis node that could be a replication group
//! but is not fails. Evidence that was not read is an error.
//!
//! Availability is judged by each engine's own semantics: a Redis/Valkey replication group needs
//! automatic failover, Multi-AZ and a replica in every shard; a Memcached cluster has no
//! replication, so it needs its nodes spread over Availability Zones (the `cross-az` AZ mode,
//! which DescribeCacheClusters shows as node zones and `PreferredAvailabilityZone: Multiple`).

use super::{customer_key_verdict, each, ControlFn, Params, Verdict};
use crate::model::elasticache::{CacheCluster, ReplicationGroup};
use crate::model::{Meta, Observed, State};
use serde_json::json;
use std::collections::BTreeSet;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("elasticache-encryption-at-rest", encryption_at_rest),
    ("elasticache-encryption-at-rest-cmk", encryption_at_rest_cmk),
    ("elasticache-encryption-in-transit", encryption_in_transit),
    ("elasticache-auth-enabled", auth_enabled),
    ("elasticache-automatic-failover", automatic_failover),
    ("elasticache-multi-az", multi_az),
    ("elasticache-snapshot-retention", snapshot_retention),
];

const RG: &str = "elasticache:replication-group";
const CLUSTER: &str = "elasticache:cluster";

/// The value of an Observed field, or (from the enclosing judge) an `error` verdict naming it.
macro_rules! known {
    ($meta:expr, $v:expr, $field:expr) => {
        match $v.get() {
            Ok(v) => v,
            Err(reason) => return Verdict::error($meta, format!("{}: {reason}", $field)),
        }
    };
}

fn is_memcached(c: &CacheCluster) -> bool {
    c.engine.eq_ignore_ascii_case("memcached")
}

fn enabled_or_enabling(v: &str) -> bool {
    v.eq_ignore_ascii_case("enabled") || v.eq_ignore_ascii_case("enabling")
}

fn flag(m: &Meta, on: &Observed<bool>, field: &str, what: &str) -> Verdict {
    match on.get() {
        Err(reason) => Verdict::error(m, format!("{what}: {reason}")),
        Ok(true) => Verdict::pass(m, format!("{what} is enabled"), json!({ field: true })),
        Ok(false) => Verdict::fail(m, format!("{what} is disabled"), json!({ field: false }), json!({ field: true })),
    }
}

fn encryption_at_rest(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| flag(&g.meta, &g.at_rest_encryption, "at_rest_encryption", "encryption at rest"));
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return Verdict::not_applicable(&c.meta, "Memcached clusters keep data only in memory and do not offer encryption at rest");
        }
        flag(&c.meta, &c.at_rest_encryption, "at_rest_encryption", "encryption at rest")
    }));
    out
}

/// Encrypted at rest under a customer-managed key (the shared key resolver decides). A group
/// encrypted at rest without a KmsKeyId uses ElastiCache's default key, which AWS owns ("you can
/// use the default AWS owned key or a customer managed key", ElastiCache User Guide, At-Rest
/// Encryption): it fails, as does a group that is not encrypted at all. A standalone Redis/Valkey
/// node cannot name a key (CreateCacheCluster has no KmsKeyId): it fails. Memcached keeps data
/// only in memory: not applicable.
fn encryption_at_rest_cmk(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let expected = json!({"at_rest_encryption": true, "kms_key_id": "a customer-managed KMS key"});
    let mut out = each(&ec.replication_groups, RG, |g| {
        let on = *known!(&g.meta, g.at_rest_encryption, "AtRestEncryptionEnabled");
        let observed = json!({"at_rest_encryption": on, "kms_key_id": g.kms_key_id});
        if !on {
            return Verdict::fail(&g.meta, "the replication group is not encrypted at rest", observed, expected.clone());
        }
        match g.kms_key_id.as_deref() {
            None => {
                Verdict::fail(&g.meta, "encrypted at rest with ElastiCache's default AWS-owned key, not a customer-managed key", observed, expected.clone())
            }
            Some(key) => customer_key_verdict(state, &g.meta, &format!("replication group {}", g.meta.id), key, observed, expected.clone()),
        }
    });
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return Verdict::not_applicable(&c.meta, "Memcached clusters keep data only in memory and do not offer encryption at rest");
        }
        Verdict::fail(
            &c.meta,
            format!("standalone {} node outside a replication group: it cannot be encrypted with a customer-managed key", c.engine),
            json!({"replication_group": null, "kms_key_id": null}),
            expected.clone(),
        )
    }));
    out
}

/// TLS is on and plaintext is refused. `TransitEncryptionMode: preferred` (the migration mode)
/// still accepts unencrypted connections, so it fails; only `required` passes:
/// https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption-enable.html
/// For Valkey/Redis OSS an unreported mode is an error (AWS documents no default). Memcached has
/// no preferred mode (the migration mode is documented for Valkey/Redis OSS clients only), so its
/// TLS, when enabled and no mode is reported, refuses plaintext.
fn transit(m: &Meta, memcached: bool, enabled: &Observed<bool>, mode: Option<&str>) -> Verdict {
    let on = *known!(m, enabled, "TransitEncryptionEnabled");
    let observed = json!({"transit_encryption": on, "transit_encryption_mode": mode});
    let expected = json!({"transit_encryption": true, "transit_encryption_mode": "required"});
    if !on {
        return Verdict::fail(m, "encryption in transit is disabled: clients connect in plaintext", observed, expected);
    }
    match mode {
        Some(x) if x.eq_ignore_ascii_case("required") => Verdict::pass(m, "encryption in transit is required: plaintext connections are refused", observed),
        Some(x) if x.eq_ignore_ascii_case("preferred") => {
            Verdict::fail(m, "transit encryption mode is preferred: TLS is offered but unencrypted connections are still accepted", observed, expected)
        }
        Some(x) => Verdict::error(m, format!("transit encryption mode {x:?} is not one tapaudit knows")),
        None if memcached => Verdict::pass(m, "encryption in transit is enabled (Memcached has no preferred mode)", observed),
        None => {
            Verdict::error(m, "in-transit encryption is enabled but TransitEncryptionMode is not reported, so whether plaintext is still accepted is unknown")
        }
    }
}

fn encryption_in_transit(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| transit(&g.meta, false, &g.transit_encryption, g.transit_encryption_mode.as_deref()));
    // Memcached 1.6.12+ supports TLS too, so every cluster is judged
    out.extend(each(&ec.clusters, CLUSTER, |c| transit(&c.meta, is_memcached(c), &c.transit_encryption, c.transit_encryption_mode.as_deref())));
    out
}

fn auth_enabled(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| {
        let token = *known!(&g.meta, g.auth_token_enabled, "AuthTokenEnabled");
        let observed = json!({"auth_token_enabled": token, "user_group_ids": g.user_group_ids});
        if token {
            Verdict::pass(&g.meta, "clients authenticate with an AUTH token", observed)
        } else if !g.user_group_ids.is_empty() {
            Verdict::pass(&g.meta, format!("clients authenticate through RBAC user groups {}", g.user_group_ids.join(", ")), observed)
        } else {
            Verdict::fail(
                &g.meta,
                "no AUTH token and no RBAC user group: any client that reaches the port is served",
                observed,
                json!({"auth_token_enabled_or_user_groups": true}),
            )
        }
    });
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return Verdict::not_applicable(&c.meta, "ElastiCache for Memcached (node-based) offers no AUTH or RBAC");
        }
        let token = *known!(&c.meta, c.auth_token_enabled, "AuthTokenEnabled");
        let observed = json!({"auth_token_enabled": token});
        if token {
            Verdict::pass(&c.meta, "clients authenticate with an AUTH token", observed)
        } else {
            Verdict::fail(&c.meta, "no AUTH token: any client that reaches the port is served", observed, json!({"auth_token_enabled": true}))
        }
    }));
    out
}

/// The replicas of each shard (node group): the members whose role is `replica` when roles are
/// reported (cluster mode disabled), else every member but the primary. Err when the group
/// reports no shards.
fn replicas_per_shard(g: &ReplicationGroup) -> Result<Vec<(&str, usize)>, String> {
    if g.node_groups.is_empty() {
        return Err("DescribeReplicationGroups reported no node groups, so the replicas are unknown".into());
    }
    Ok(g.node_groups
        .iter()
        .map(|ng| {
            let by_role = ng.members.iter().any(|m| m.role.is_some());
            let n = if by_role {
                ng.members.iter().filter(|m| m.role.as_deref().is_some_and(|r| r.eq_ignore_ascii_case("replica"))).count()
            } else {
                ng.members.len().saturating_sub(1)
            };
            (ng.id.as_str(), n)
        })
        .collect())
}

/// Shards without a replica, by id.
fn shards_without_replica(g: &ReplicationGroup) -> Result<Vec<&str>, String> {
    replicas_per_shard(g).map(|s| s.into_iter().filter(|(_, n)| *n == 0).map(|(id, _)| id).collect())
}

/// A replication group fails over automatically when failover is enabled and every shard has
/// a replica to promote. A standalone Redis/Valkey node has no replica: it fails (CP-10 asks for
/// recovery without manual intervention). Memcached has no replication, so failover does not
/// apply to it (its availability is the Multi-AZ control's cross-AZ spread).
fn automatic_failover(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| {
        let failover = known!(&g.meta, g.automatic_failover, "AutomaticFailover");
        let lonely = match shards_without_replica(g) {
            Ok(l) => l,
            Err(reason) => return Verdict::error(&g.meta, reason),
        };
        let observed = json!({"automatic_failover": failover, "shards_without_replica": lonely});
        let expected = json!({"automatic_failover": "enabled", "shards_without_replica": []});
        if !enabled_or_enabling(failover) {
            Verdict::fail(&g.meta, format!("automatic failover is {failover}"), observed, expected)
        } else if !lonely.is_empty() {
            Verdict::fail(
                &g.meta,
                format!("automatic failover is {failover} but shard(s) {} have no replica to promote", lonely.join(", ")),
                observed,
                expected,
            )
        } else {
            Verdict::pass(&g.meta, format!("automatic failover is {failover} and every shard has a replica"), observed)
        }
    });
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return Verdict::not_applicable(
                &c.meta,
                "Memcached has no replication, so no failover (its nodes' spread over zones is judged by elasticache-multi-az)",
            );
        }
        Verdict::fail(
            &c.meta,
            format!("standalone {} node outside a replication group: no replica to fail over to", c.engine),
            json!({"replication_group": null, "automatic_failover": "disabled"}),
            json!({"automatic_failover": "enabled"}),
        )
    }));
    out
}

/// The Availability Zones a Memcached cluster's nodes run in: the nodes' own zones when
/// reported, else the cluster's PreferredAvailabilityZone ("Multiple" when the nodes are in
/// different zones, as the API reference documents:
/// https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CacheCluster.html).
fn memcached_spread(c: &CacheCluster) -> Verdict {
    let zones: BTreeSet<&str> = c.node_availability_zones.iter().map(String::as_str).collect();
    let expected = json!({"az_mode": "cross-az", "node_availability_zones": "at least 2"});
    if !zones.is_empty() {
        let observed = json!({"node_availability_zones": zones});
        return if zones.len() >= 2 {
            Verdict::pass(&c.meta, format!("nodes are spread across {} Availability Zones", zones.len()), observed)
        } else {
            Verdict::fail(
                &c.meta,
                format!("all nodes are in one Availability Zone ({}): AZ mode single-az", zones.iter().next().copied().unwrap_or("?")),
                observed,
                expected,
            )
        };
    }
    let preferred = known!(&c.meta, c.preferred_availability_zone, "PreferredAvailabilityZone");
    let observed = json!({"preferred_availability_zone": preferred, "num_cache_nodes": c.num_cache_nodes.known()});
    if preferred.eq_ignore_ascii_case("Multiple") {
        Verdict::pass(&c.meta, "nodes are spread across Availability Zones (PreferredAvailabilityZone: Multiple)", observed)
    } else {
        Verdict::fail(&c.meta, format!("all nodes are in one Availability Zone ({preferred}): AZ mode single-az"), observed, expected)
    }
}

/// Redis/Valkey replication groups: Multi-AZ enabled, with automatic failover (Multi-AZ requires
/// it) and a replica in every shard (so the replica in another zone can take over). A standalone
/// Redis/Valkey node lives in one AZ: it fails. A Memcached cluster: its nodes spread over zones.
fn multi_az(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| {
        let multi = known!(&g.meta, g.multi_az, "MultiAZ");
        let failover = known!(&g.meta, g.automatic_failover, "AutomaticFailover");
        let lonely = match shards_without_replica(g) {
            Ok(l) => l,
            Err(reason) => return Verdict::error(&g.meta, reason),
        };
        let observed = json!({"multi_az": multi, "automatic_failover": failover, "shards_without_replica": lonely});
        let expected = json!({"multi_az": "enabled", "automatic_failover": "enabled", "shards_without_replica": []});
        let mut missing = Vec::new();
        if !enabled_or_enabling(multi) {
            missing.push(format!("Multi-AZ is {multi}"));
        }
        if !enabled_or_enabling(failover) {
            missing.push(format!("automatic failover is {failover}"));
        }
        if !lonely.is_empty() {
            missing.push(format!("shard(s) {} have no replica", lonely.join(", ")));
        }
        if missing.is_empty() {
            Verdict::pass(&g.meta, format!("Multi-AZ is {multi} with automatic failover and a replica in every shard"), observed)
        } else {
            Verdict::fail(&g.meta, missing.join("; "), observed, expected)
        }
    });
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return memcached_spread(c);
        }
        Verdict::fail(
            &c.meta,
            format!("standalone {} node in a single Availability Zone (not in a replication group)", c.engine),
            json!({"replication_group": null, "multi_az": "disabled"}),
            json!({"multi_az": "enabled"}),
        )
    }));
    out
}

fn snapshot_retention(state: &State, params: &Params) -> Vec<Verdict> {
    let min = params.get("min_snapshot_retention_days");
    let judge = |m: &Meta, days: &Observed<i32>| {
        let days = *known!(m, days, "SnapshotRetentionLimit");
        if i64::from(days) >= min {
            Verdict::pass(m, format!("automatic snapshots are kept {days} days (minimum {min})"), json!({"snapshot_retention_days": days}))
        } else if days == 0 {
            Verdict::fail(
                m,
                "automatic snapshots are disabled (retention 0)",
                json!({"snapshot_retention_days": 0}),
                json!({"snapshot_retention_days": format!(">= {min}")}),
            )
        } else {
            Verdict::fail(
                m,
                format!("automatic snapshots are kept {days} days, less than {min}"),
                json!({"snapshot_retention_days": days}),
                json!({"snapshot_retention_days": format!(">= {min}")}),
            )
        }
    };
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| judge(&g.meta, &g.snapshot_retention_days));
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return Verdict::not_applicable(&c.meta, "Memcached does not support snapshots");
        }
        judge(&c.meta, &c.snapshot_retention_days)
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::elasticache::{NodeGroup, NodeGroupMember, ReplicationGroup};
    use crate::model::{Meta, Observed};

    fn group(s: &mut State) -> &mut ReplicationGroup {
        s.elasticache.replication_groups.items.values_mut().next().expect("fixture has a replication group")
    }

    fn k<T>(v: T) -> Observed<T> {
        Observed::Known(v)
    }

    fn unknown<T>(field: &str) -> Observed<T> {
        Observed::Unknown(format!("DescribeReplicationGroups did not report {field}"))
    }

    fn cluster(engine: &str) -> CacheCluster {
        CacheCluster {
            meta: Meta {
                resource_type: CLUSTER.into(),
                id: format!("{engine}-node"),
                arn: format!("arn:aws:elasticache:us-east-1:123456789012:cluster:{engine}-node"),
                region: "us-east-1".into(),
                account: "123456789012".into(),
                name: None,
                tags: Observed::Known(Default::default()),
                source: None,
            },
            engine: engine.into(),
            status: "available".into(),
            at_rest_encryption: k(true),
            transit_encryption: k(true),
            transit_encryption_mode: Some("required".into()),
            auth_token_enabled: k(true),
            snapshot_retention_days: k(7),
            num_cache_nodes: k(2),
            preferred_availability_zone: k("us-east-1a".into()),
            node_availability_zones: vec!["us-east-1a".into(), "us-east-1a".into()],
            security_groups: vec!["sg-0f1a2b3c4d5e60003".into()],
            cache_subnet_group: Some("tapaudit-dev-cache-subnets".into()),
        }
    }

    fn with_cluster(c: CacheCluster) -> State {
        let mut s = fixture();
        s.elasticache.replication_groups.items.clear();
        s.elasticache.clusters.insert(c);
        s
    }

    fn failed_listing() -> State {
        let mut s = crate::controls::testing::unlisted(|s| &mut s.elasticache.replication_groups);
        s.elasticache.clusters.fail("us-east-1", "AccessDenied");
        s
    }

    #[test]
    fn at_rest() {
        assert_eq!(eval("elasticache-encryption-at-rest", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        group(&mut bad).at_rest_encryption = k(false);
        assert_eq!(eval("elasticache-encryption-at-rest", &bad), vec![Status::Fail]);
        let mut unreported = fixture();
        group(&mut unreported).at_rest_encryption = unknown("AtRestEncryptionEnabled");
        assert_eq!(eval("elasticache-encryption-at-rest", &unreported), vec![Status::Error]);
        assert_eq!(eval("elasticache-encryption-at-rest", &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval("elasticache-encryption-at-rest", &with_cluster(cluster("memcached"))), vec![]);
        let mut plain_redis = cluster("redis");
        plain_redis.at_rest_encryption = k(false);
        assert_eq!(eval("elasticache-encryption-at-rest", &with_cluster(plain_redis)), vec![Status::Fail]);
    }

    #[test]
    fn at_rest_cmk() {
        const ID: &str = "elasticache-encryption-at-rest-cmk";
        assert_eq!(eval(ID, &fixture()), vec![Status::Pass]);
        let mut plain = fixture();
        group(&mut plain).at_rest_encryption = k(false);
        assert_eq!(eval(ID, &plain), vec![Status::Fail]);
        // adversarial: encrypted at rest (the flag a naive check reads), but with the default key
        let mut default_key = fixture();
        group(&mut default_key).kms_key_id = None;
        assert_eq!(eval(ID, &default_key), vec![Status::Fail]);
        assert_eq!(eval("elasticache-encryption-at-rest", &default_key), vec![Status::Pass], "encrypted all the same");
        // a key the State knows is AWS-managed, or one that no longer exists
        let mut aws_key = fixture();
        aws_key.kms.keys.items.values_mut().for_each(|k| k.manager = k_manager_aws());
        assert_eq!(eval(ID, &aws_key), vec![Status::Fail]);
        let mut gone = fixture();
        group(&mut gone).kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:key/99999999-8888-7777-6666-555555555555".into());
        assert_eq!(eval(ID, &gone), vec![Status::Fail]);
        // evidence not read
        let mut unread = fixture();
        group(&mut unread).at_rest_encryption = unknown("AtRestEncryptionEnabled");
        assert_eq!(eval(ID, &unread), vec![Status::Error]);
        let keys_unlisted = crate::controls::testing::unlisted(|s| &mut s.kms.keys);
        assert_eq!(eval(ID, &keys_unlisted), vec![Status::Error]);
        assert_eq!(eval(ID, &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval(ID, &with_cluster(cluster("memcached"))), vec![]);
        assert_eq!(eval(ID, &with_cluster(cluster("redis"))), vec![Status::Fail]);
    }

    fn k_manager_aws() -> Observed<crate::model::kms::Manager> {
        Observed::Known(crate::model::kms::Manager::Aws)
    }

    #[test]
    fn in_transit() {
        assert_eq!(eval("elasticache-encryption-in-transit", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        group(&mut bad).transit_encryption = k(false);
        group(&mut bad).transit_encryption_mode = None;
        assert_eq!(eval("elasticache-encryption-in-transit", &bad), vec![Status::Fail]);
        // adversarial: TLS enabled, but in preferred mode plaintext is still accepted
        let mut preferred = fixture();
        group(&mut preferred).transit_encryption_mode = Some("preferred".into());
        assert_eq!(eval("elasticache-encryption-in-transit", &preferred), vec![Status::Fail]);
        // enabled without a reported mode: error, not a pass
        let mut no_mode = fixture();
        group(&mut no_mode).transit_encryption_mode = None;
        assert_eq!(eval("elasticache-encryption-in-transit", &no_mode), vec![Status::Error]);
        let mut unreported = fixture();
        group(&mut unreported).transit_encryption = unknown("TransitEncryptionEnabled");
        assert_eq!(eval("elasticache-encryption-in-transit", &unreported), vec![Status::Error]);
        assert_eq!(eval("elasticache-encryption-in-transit", &failed_listing()), vec![Status::Error, Status::Error]);
        let mut memcached = cluster("memcached");
        memcached.transit_encryption = k(false);
        assert_eq!(eval("elasticache-encryption-in-transit", &with_cluster(memcached)), vec![Status::Fail], "Memcached supports TLS");
        let mut memcached_tls = cluster("memcached");
        memcached_tls.transit_encryption_mode = None;
        assert_eq!(eval("elasticache-encryption-in-transit", &with_cluster(memcached_tls)), vec![Status::Pass], "Memcached has no preferred mode");
        let mut redis_preferred = cluster("redis");
        redis_preferred.transit_encryption_mode = Some("preferred".into());
        assert_eq!(eval("elasticache-encryption-in-transit", &with_cluster(redis_preferred)), vec![Status::Fail]);
    }

    #[test]
    fn auth() {
        assert_eq!(eval("elasticache-auth-enabled", &fixture()), vec![Status::Pass]);
        let mut rbac = fixture();
        group(&mut rbac).auth_token_enabled = k(false);
        group(&mut rbac).user_group_ids = vec!["tapaudit-dev-users".into()];
        assert_eq!(eval("elasticache-auth-enabled", &rbac), vec![Status::Pass]);
        let mut bad = fixture();
        group(&mut bad).auth_token_enabled = k(false);
        group(&mut bad).user_group_ids.clear();
        assert_eq!(eval("elasticache-auth-enabled", &bad), vec![Status::Fail]);
        let mut unread = fixture();
        group(&mut unread).auth_token_enabled = unknown("AuthTokenEnabled");
        assert_eq!(eval("elasticache-auth-enabled", &unread), vec![Status::Error]);
        assert_eq!(eval("elasticache-auth-enabled", &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval("elasticache-auth-enabled", &with_cluster(cluster("memcached"))), vec![]);
        let mut open_redis = cluster("redis");
        open_redis.auth_token_enabled = k(false);
        assert_eq!(eval("elasticache-auth-enabled", &with_cluster(open_redis)), vec![Status::Fail]);
    }

    #[test]
    fn failover() {
        assert_eq!(eval("elasticache-automatic-failover", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        group(&mut bad).automatic_failover = k("disabled".into());
        assert_eq!(eval("elasticache-automatic-failover", &bad), vec![Status::Fail]);
        // adversarial: failover "enabled" with no replica to promote
        let mut lonely = fixture();
        group(&mut lonely).node_groups[0].members.retain(|m| m.role.as_deref() == Some("primary"));
        assert_eq!(eval("elasticache-automatic-failover", &lonely), vec![Status::Fail]);
        let mut unreported = fixture();
        group(&mut unreported).automatic_failover = unknown("AutomaticFailover");
        assert_eq!(eval("elasticache-automatic-failover", &unreported), vec![Status::Error]);
        let mut no_shards = fixture();
        group(&mut no_shards).node_groups.clear();
        assert_eq!(eval("elasticache-automatic-failover", &no_shards), vec![Status::Error]);
        assert_eq!(eval("elasticache-automatic-failover", &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval("elasticache-automatic-failover", &with_cluster(cluster("redis"))), vec![Status::Fail], "a single node cannot fail over");
        assert_eq!(eval("elasticache-automatic-failover", &with_cluster(cluster("memcached"))), vec![]);
    }

    #[test]
    fn multi_az_replication_groups() {
        assert_eq!(eval("elasticache-multi-az", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        group(&mut bad).multi_az = k("disabled".into());
        assert_eq!(eval("elasticache-multi-az", &bad), vec![Status::Fail]);
        // adversarial: the Multi-AZ flag alone is not enough
        let mut no_failover = fixture();
        group(&mut no_failover).automatic_failover = k("disabled".into());
        assert_eq!(eval("elasticache-multi-az", &no_failover), vec![Status::Fail]);
        // adversarial: cluster mode enabled, one of two shards without a replica
        let mut shard = fixture();
        group(&mut shard).node_groups.push(NodeGroup {
            id: "0002".into(),
            members: vec![NodeGroupMember { cache_cluster_id: "tapaudit-dev-cache-0002-001".into(), role: None, availability_zone: Some("us-east-1a".into()) }],
        });
        assert_eq!(eval("elasticache-multi-az", &shard), vec![Status::Fail]);
        let mut unreported = fixture();
        group(&mut unreported).multi_az = unknown("MultiAZ");
        assert_eq!(eval("elasticache-multi-az", &unreported), vec![Status::Error]);
        assert_eq!(eval("elasticache-multi-az", &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval("elasticache-multi-az", &with_cluster(cluster("redis"))), vec![Status::Fail]);
    }

    #[test]
    fn multi_az_memcached_by_its_node_zones() {
        // both nodes in us-east-1a: single-az
        assert_eq!(eval("elasticache-multi-az", &with_cluster(cluster("memcached"))), vec![Status::Fail]);
        let mut spread = cluster("memcached");
        spread.node_availability_zones = vec!["us-east-1a".into(), "us-east-1b".into()];
        assert_eq!(eval("elasticache-multi-az", &with_cluster(spread)), vec![Status::Pass]);
        // no node info: PreferredAvailabilityZone decides ("Multiple" for cross-az)
        let mut multiple = cluster("memcached");
        multiple.node_availability_zones.clear();
        multiple.preferred_availability_zone = k("Multiple".into());
        assert_eq!(eval("elasticache-multi-az", &with_cluster(multiple)), vec![Status::Pass]);
        let mut one = cluster("memcached");
        one.node_availability_zones.clear();
        assert_eq!(eval("elasticache-multi-az", &with_cluster(one)), vec![Status::Fail]);
        let mut unread = cluster("memcached");
        unread.node_availability_zones.clear();
        unread.preferred_availability_zone = Observed::Unknown("DescribeCacheClusters did not report PreferredAvailabilityZone".into());
        assert_eq!(eval("elasticache-multi-az", &with_cluster(unread)), vec![Status::Error]);
    }

    #[test]
    fn snapshots() {
        assert_eq!(eval("elasticache-snapshot-retention", &fixture()), vec![Status::Pass]);
        let mut short = fixture();
        group(&mut short).snapshot_retention_days = k(6);
        assert_eq!(eval("elasticache-snapshot-retention", &short), vec![Status::Fail]);
        let mut off = fixture();
        group(&mut off).snapshot_retention_days = k(0);
        assert_eq!(eval("elasticache-snapshot-retention", &off), vec![Status::Fail]);
        let mut unreported = fixture();
        group(&mut unreported).snapshot_retention_days = unknown("SnapshotRetentionLimit");
        assert_eq!(eval("elasticache-snapshot-retention", &unreported), vec![Status::Error]);
        assert_eq!(eval("elasticache-snapshot-retention", &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval("elasticache-snapshot-retention", &with_cluster(cluster("memcached"))), vec![]);
        let mut redis = cluster("redis");
        redis.snapshot_retention_days = k(1);
        assert_eq!(eval("elasticache-snapshot-retention", &with_cluster(redis)), vec![Status::Fail]);
    }
}
