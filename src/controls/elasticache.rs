//! ElastiCache controls. Each applies to replication groups (Redis/Valkey) and to cache clusters
//! that belong to no replication group (standalone Redis/Valkey nodes and Memcached clusters).
//! Where Memcached cannot offer a feature at all (AUTH, at-rest encryption, snapshots, failover)
//! its clusters are not applicable; a standalone Redis node that could be a replication group
//! but is not fails.

use super::{each, ControlFn, Params, Verdict};
use crate::model::elasticache::CacheCluster;
use crate::model::State;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("elasticache-encryption-at-rest", encryption_at_rest),
    ("elasticache-encryption-in-transit", encryption_in_transit),
    ("elasticache-auth-enabled", auth_enabled),
    ("elasticache-automatic-failover", automatic_failover),
    ("elasticache-multi-az", multi_az),
    ("elasticache-snapshot-retention", snapshot_retention),
];

const RG: &str = "elasticache:replication-group";
const CLUSTER: &str = "elasticache:cluster";

fn is_memcached(c: &CacheCluster) -> bool {
    c.engine.eq_ignore_ascii_case("memcached")
}

fn enabled_or_enabling(v: &str) -> bool {
    v.eq_ignore_ascii_case("enabled") || v.eq_ignore_ascii_case("enabling")
}

fn flag(m: &crate::model::Meta, on: bool, field: &str, what: &str) -> Verdict {
    if on {
        Verdict::pass(m, format!("{what} is enabled"), json!({ field: true }))
    } else {
        Verdict::fail(m, format!("{what} is disabled"), json!({ field: false }), json!({ field: true }))
    }
}

fn encryption_at_rest(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| flag(&g.meta, g.at_rest_encryption, "at_rest_encryption", "encryption at rest"));
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return Verdict::not_applicable(&c.meta, "Memcached clusters keep data only in memory and do not offer encryption at rest");
        }
        flag(&c.meta, c.at_rest_encryption, "at_rest_encryption", "encryption at rest")
    }));
    out
}

fn encryption_in_transit(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| flag(&g.meta, g.transit_encryption, "transit_encryption", "encryption in transit"));
    // Memcached 1.6.12+ supports TLS too, so every cluster is judged
    out.extend(each(&ec.clusters, CLUSTER, |c| flag(&c.meta, c.transit_encryption, "transit_encryption", "encryption in transit")));
    out
}

fn auth_enabled(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| {
        let observed = json!({"auth_token_enabled": g.auth_token_enabled, "user_group_ids": g.user_group_ids});
        if g.auth_token_enabled {
            Verdict::pass(&g.meta, "clients authenticate with an AUTH token", observed)
        } else if !g.user_group_ids.is_empty() {
            Verdict::pass(&g.meta, format!("clients authenticate through RBAC user groups {}", g.user_group_ids.join(", ")), observed)
        } else {
            Verdict::fail(&g.meta, "no AUTH token and no RBAC user group: any client that reaches the port is served", observed, json!({"auth_token_enabled_or_user_groups": true}))
        }
    });
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return Verdict::not_applicable(&c.meta, "ElastiCache for Memcached (node-based) offers no AUTH or RBAC");
        }
        let observed = json!({"auth_token_enabled": c.auth_token_enabled});
        if c.auth_token_enabled {
            Verdict::pass(&c.meta, "clients authenticate with an AUTH token", observed)
        } else {
            Verdict::fail(&c.meta, "no AUTH token: any client that reaches the port is served", observed, json!({"auth_token_enabled": true}))
        }
    }));
    out
}

/// A standalone Redis/Valkey node has no replica to promote: it fails (CP-10 asks for recovery
/// without manual intervention; the fix is a replication group with a replica). Memcached has
/// no replication, so failover does not apply to it.
fn automatic_failover(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| {
        if enabled_or_enabling(&g.automatic_failover) {
            Verdict::pass(&g.meta, format!("automatic failover is {}", g.automatic_failover), json!({"automatic_failover": g.automatic_failover}))
        } else {
            Verdict::fail(&g.meta, format!("automatic failover is {}", g.automatic_failover), json!({"automatic_failover": g.automatic_failover}), json!({"automatic_failover": "enabled"}))
        }
    });
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return Verdict::not_applicable(&c.meta, "Memcached has no replication, so no failover");
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

/// A standalone Redis/Valkey node lives in one AZ: it fails. A Memcached cluster is judged by
/// its AZ mode (`cross-az` spreads its nodes over zones, the Memcached form of Multi-AZ).
fn multi_az(state: &State, _: &Params) -> Vec<Verdict> {
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| {
        if enabled_or_enabling(&g.multi_az) {
            Verdict::pass(&g.meta, format!("Multi-AZ is {}", g.multi_az), json!({"multi_az": g.multi_az}))
        } else {
            Verdict::fail(&g.meta, format!("Multi-AZ is {}", g.multi_az), json!({"multi_az": g.multi_az}), json!({"multi_az": "enabled"}))
        }
    });
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return match c.az_mode.as_deref() {
                Some(m) if m.eq_ignore_ascii_case("cross-az") => Verdict::pass(&c.meta, "nodes are spread across Availability Zones", json!({"az_mode": m})),
                other => Verdict::fail(&c.meta, "all nodes are in one Availability Zone", json!({"az_mode": other}), json!({"az_mode": "cross-az"})),
            };
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
    let judge = |m: &crate::model::Meta, days: i32| {
        if i64::from(days) >= min {
            Verdict::pass(m, format!("automatic snapshots are kept {days} days (minimum {min})"), json!({"snapshot_retention_days": days}))
        } else if days == 0 {
            Verdict::fail(m, "automatic snapshots are disabled (retention 0)", json!({"snapshot_retention_days": 0}), json!({"snapshot_retention_days": format!(">= {min}")}))
        } else {
            Verdict::fail(m, format!("automatic snapshots are kept {days} days, less than {min}"), json!({"snapshot_retention_days": days}), json!({"snapshot_retention_days": format!(">= {min}")}))
        }
    };
    let ec = &state.elasticache;
    let mut out = each(&ec.replication_groups, RG, |g| judge(&g.meta, g.snapshot_retention_days));
    out.extend(each(&ec.clusters, CLUSTER, |c| {
        if is_memcached(c) {
            return Verdict::not_applicable(&c.meta, "Memcached does not support snapshots");
        }
        judge(&c.meta, c.snapshot_retention_days)
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::elasticache::ReplicationGroup;
    use crate::model::{Meta, Observed};

    fn group(s: &mut State) -> &mut ReplicationGroup {
        s.elasticache.replication_groups.items.values_mut().next().expect("fixture has a replication group")
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
            at_rest_encryption: true,
            transit_encryption: true,
            auth_token_enabled: true,
            snapshot_retention_days: 7,
            az_mode: Some("single-az".into()),
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
        group(&mut bad).at_rest_encryption = false;
        assert_eq!(eval("elasticache-encryption-at-rest", &bad), vec![Status::Fail]);
        assert_eq!(eval("elasticache-encryption-at-rest", &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval("elasticache-encryption-at-rest", &with_cluster(cluster("memcached"))), vec![]);
        let mut plain_redis = cluster("redis");
        plain_redis.at_rest_encryption = false;
        assert_eq!(eval("elasticache-encryption-at-rest", &with_cluster(plain_redis)), vec![Status::Fail]);
    }

    #[test]
    fn in_transit() {
        assert_eq!(eval("elasticache-encryption-in-transit", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        group(&mut bad).transit_encryption = false;
        assert_eq!(eval("elasticache-encryption-in-transit", &bad), vec![Status::Fail]);
        assert_eq!(eval("elasticache-encryption-in-transit", &failed_listing()), vec![Status::Error, Status::Error]);
        let mut memcached = cluster("memcached");
        memcached.transit_encryption = false;
        assert_eq!(eval("elasticache-encryption-in-transit", &with_cluster(memcached)), vec![Status::Fail], "Memcached supports TLS");
    }

    #[test]
    fn auth() {
        assert_eq!(eval("elasticache-auth-enabled", &fixture()), vec![Status::Pass]);
        let mut rbac = fixture();
        group(&mut rbac).auth_token_enabled = false;
        group(&mut rbac).user_group_ids = vec!["tapaudit-dev-users".into()];
        assert_eq!(eval("elasticache-auth-enabled", &rbac), vec![Status::Pass]);
        let mut bad = fixture();
        group(&mut bad).auth_token_enabled = false;
        group(&mut bad).user_group_ids.clear();
        assert_eq!(eval("elasticache-auth-enabled", &bad), vec![Status::Fail]);
        assert_eq!(eval("elasticache-auth-enabled", &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval("elasticache-auth-enabled", &with_cluster(cluster("memcached"))), vec![]);
        let mut open_redis = cluster("redis");
        open_redis.auth_token_enabled = false;
        assert_eq!(eval("elasticache-auth-enabled", &with_cluster(open_redis)), vec![Status::Fail]);
    }

    #[test]
    fn failover() {
        assert_eq!(eval("elasticache-automatic-failover", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        group(&mut bad).automatic_failover = "disabled".into();
        assert_eq!(eval("elasticache-automatic-failover", &bad), vec![Status::Fail]);
        assert_eq!(eval("elasticache-automatic-failover", &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval("elasticache-automatic-failover", &with_cluster(cluster("redis"))), vec![Status::Fail], "a single node cannot fail over");
        assert_eq!(eval("elasticache-automatic-failover", &with_cluster(cluster("memcached"))), vec![]);
    }

    #[test]
    fn multi_az() {
        assert_eq!(eval("elasticache-multi-az", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        group(&mut bad).multi_az = "disabled".into();
        assert_eq!(eval("elasticache-multi-az", &bad), vec![Status::Fail]);
        assert_eq!(eval("elasticache-multi-az", &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval("elasticache-multi-az", &with_cluster(cluster("redis"))), vec![Status::Fail]);
        assert_eq!(eval("elasticache-multi-az", &with_cluster(cluster("memcached"))), vec![Status::Fail]);
        let mut spread = cluster("memcached");
        spread.az_mode = Some("cross-az".into());
        assert_eq!(eval("elasticache-multi-az", &with_cluster(spread)), vec![Status::Pass]);
    }

    #[test]
    fn snapshots() {
        assert_eq!(eval("elasticache-snapshot-retention", &fixture()), vec![Status::Pass]);
        let mut short = fixture();
        group(&mut short).snapshot_retention_days = 6;
        assert_eq!(eval("elasticache-snapshot-retention", &short), vec![Status::Fail]);
        let mut off = fixture();
        group(&mut off).snapshot_retention_days = 0;
        assert_eq!(eval("elasticache-snapshot-retention", &off), vec![Status::Fail]);
        assert_eq!(eval("elasticache-snapshot-retention", &failed_listing()), vec![Status::Error, Status::Error]);
        assert_eq!(eval("elasticache-snapshot-retention", &with_cluster(cluster("memcached"))), vec![]);
        let mut redis = cluster("redis");
        redis.snapshot_retention_days = 1;
        assert_eq!(eval("elasticache-snapshot-retention", &with_cluster(redis)), vec![Status::Fail]);
    }
}
