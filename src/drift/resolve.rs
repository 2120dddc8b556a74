//! Desired ids → live ids, through the logical id both carry.

use crate::model::State;
use std::collections::BTreeMap;

/// Marks a reference whose target does not exist live.
pub const MISSING: &str = "(missing ";

pub struct Resolver {
    /// desired id or ARN → (logical id, was it the ARN)
    desired: BTreeMap<String, (String, bool)>,
    /// logical id → (live id, live ARN)
    live: BTreeMap<String, (String, String)>,
}

/// Resource types collected with their parent's tags (and so its logical id): listeners and API
/// methods, and the snapshots AWS takes of a stack's volumes and databases (CopyTagsToSnapshot
/// copies the source's tags, logical id included).
const SHARES_PARENT_TAGS: &[&str] = &["elbv2:listener", "apigateway:method", "ec2:snapshot", "rds:db-snapshot", "rds:db-cluster-snapshot"];

/// Every resource of a State (through the service registry, so a new collection is resolved
/// without an edit here), and the resources nested in others that policies name by ARN (EFS
/// access points), as (logical id, id, ARN).
fn visit(state: &State, mut f: impl FnMut(&str, &str, &str)) {
    state.collections(&mut |_, _, c| {
        // listeners, API methods and snapshots carry their parent's tags: the logical id names the parent
        for m in c.metas().into_iter().filter(|m| !SHARES_PARENT_TAGS.contains(&m.resource_type.as_str())) {
            if let Some(l) = m.logical_id() {
                f(l, &m.id, &m.arn);
            }
        }
    });
    for fs in state.efs.file_systems.iter() {
        for ap in fs.access_points.known().into_iter().flatten() {
            if let Some(l) = ap.tags.get(crate::vocab::TAG_LOGICAL_ID) {
                f(l, &ap.id, &ap.arn);
            }
        }
    }
}

impl Resolver {
    pub fn new(desired: &State, live: &State) -> Resolver {
        let mut d = BTreeMap::new();
        visit(desired, |l, id, arn| {
            d.insert(id.to_string(), (l.to_string(), false));
            d.insert(arn.to_string(), (l.to_string(), true));
        });
        let mut l = BTreeMap::new();
        visit(live, |logical, id, arn| {
            // the first (stable order) wins; duplicates are reported as unmanaged
            l.entry(logical.to_string()).or_insert((id.to_string(), arn.to_string()));
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
