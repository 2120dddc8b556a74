//! Desired ids → live ids, through the logical id both carry.

use crate::model::{Resource, State};
use std::collections::BTreeMap;

/// Marks a reference whose target does not exist live.
pub const MISSING: &str = "(missing ";

pub struct Resolver {
    /// desired id or ARN → (logical id, was it the ARN)
    desired: BTreeMap<String, (String, bool)>,
    /// logical id → (live id, live ARN)
    live: BTreeMap<String, (String, String)>,
}

fn visit(state: &State, mut f: impl FnMut(&crate::model::Meta)) {
    macro_rules! all {
        ($($c:expr),*) => { $( for r in $c.iter() { f(r.meta()); } )* };
    }
    all!(
        state.kms.keys,
        state.ec2.vpcs,
        state.ec2.subnets,
        state.ec2.route_tables,
        state.ec2.internet_gateways,
        state.ec2.nat_gateways,
        state.ec2.security_groups,
        state.ec2.flow_logs,
        state.rds.instances,
        state.rds.clusters,
        state.rds.subnet_groups,
        state.rds.parameter_groups,
        state.kinesis.streams,
        state.logs.log_groups,
        state.secrets.secrets,
        state.ecs.clusters,
        state.ecs.services,
        state.ecs.task_definitions,
        state.apigw.rest_apis,
        state.elbv2.load_balancers,
        state.iam.roles
    );
}

impl Resolver {
    pub fn new(desired: &State, live: &State) -> Resolver {
        let mut d = BTreeMap::new();
        visit(desired, |m| {
            if let Some(l) = m.logical_id() {
                d.insert(m.id.clone(), (l.to_string(), false));
                d.insert(m.arn.clone(), (l.to_string(), true));
            }
        });
        let mut l = BTreeMap::new();
        visit(live, |m| {
            if let Some(id) = m.logical_id() {
                // the first (stable BTreeMap order) wins; duplicates are reported as unmanaged
                l.entry(id.to_string()).or_insert((m.id.clone(), m.arn.clone()));
            }
        });
        Resolver { desired: d, live: l }
    }

    /// The live id (or ARN, when `v` is a desired ARN) of the resource a desired reference
    /// names; `(missing <logical>)` when it does not exist; other values unchanged.
    pub fn res(&self, v: &str) -> String {
        match self.desired.get(v) {
            None => v.to_string(),
            Some((logical, is_arn)) => match self.live.get(logical) {
                Some((id, arn)) => {
                    if *is_arn {
                        arn.clone()
                    } else {
                        id.clone()
                    }
                }
                None => format!("{MISSING}{logical})"),
            },
        }
    }
}
