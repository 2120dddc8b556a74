//! The typed State: what a stack file wants or what AWS has, one module per service.
//! Stable ordering (BTreeMap keyed by ARN). A field that could not be read is
//! `Observed::Unknown(reason)`; a listing that failed in a region is a `Collection` failure.
//! Controls read this and nothing else.

pub mod apigw;
pub mod cloudtrail;
pub mod config;
pub mod ec2;
pub mod ecs;
pub mod efs;
pub mod elasticache;
pub mod elbv2;
pub mod guardduty;
pub mod iam;
pub mod kinesis;
pub mod kms;
pub mod logs;
pub mod rds;
pub mod registry;
pub mod s3;
pub mod s3control;
pub mod secrets;
pub mod strict;

pub use registry::{Reach, Scoping};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Version of the snapshot format (`--save-snapshot`); bumped on incompatible changes (for the
/// strict reader, any change to what a snapshot holds). Each version's shape is checked in as
/// `fixtures/snapshot-shape/v<N>.txt`.
/// 2: strict (no field or section may be missing), records what was collected and the
/// collection errors of the run; KMS records out-of-scope keys and every alias.
/// 3: Aurora members' roles, Serverless v2 scaling and RDS-managed master secrets; secrets'
/// owner and schedule; replication groups' member network; EFS access points, mount-target
/// security groups and lifecycle.
/// 4: S3 buckets; ELBv2 target groups, listener certificates (and their ACM certificates), the
/// target groups of forward actions, the rules of HTTPS listeners.
/// 5: the account around the pipeline: IAM users, groups and the account (password policy,
/// root user); CloudTrail trails and per-region records, GuardDuty and AWS Config per region;
/// the account-level S3 Block Public Access, bucket policy status, versioning and object lock;
/// EBS snapshots and EBS defaults; RDS DB and cluster snapshots.
pub const SNAPSHOT_VERSION: u32 = 5;

/// A value read from AWS, or the reason it could not be read. Never defaulted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observed<T> {
    Known(T),
    Unknown(String),
}

impl<T> Observed<T> {
    pub fn get(&self) -> Result<&T, &str> {
        match self {
            Observed::Known(v) => Ok(v),
            Observed::Unknown(r) => Err(r),
        }
    }

    pub fn known(&self) -> Option<&T> {
        self.get().ok()
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Observed<U> {
        match self {
            Observed::Known(v) => Observed::Known(f(v)),
            Observed::Unknown(r) => Observed::Unknown(r),
        }
    }
}

impl<T> From<Result<T, String>> for Observed<T> {
    fn from(r: Result<T, String>) -> Self {
        match r {
            Ok(v) => Observed::Known(v),
            Err(e) => Observed::Unknown(e),
        }
    }
}

/// Where a desired resource or setting was declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub path: String,
    pub line: usize,
}

/// What every resource carries. Deserialised strictly: only the two optional labels may be absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// e.g. `kms:key`, `ec2:security-group`, `rds:db-instance`
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The service's own id (key id, vpc id, DB identifier, stream name, ...).
    pub id: String,
    pub arn: String,
    pub region: String,
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub tags: Observed<BTreeMap<String, String>>,
    /// Declared in the stack file (desired State only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

impl Meta {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.known().and_then(|t| t.get(key)).map(String::as_str)
    }

    /// The `tapaudit:logical-id` tag.
    pub fn logical_id(&self) -> Option<&str> {
        self.tag(crate::vocab::TAG_LOGICAL_ID)
    }

    /// The `tapaudit:stack` tag.
    pub fn stack(&self) -> Option<&str> {
        self.tag(crate::vocab::TAG_STACK)
    }

    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

pub trait Resource {
    fn meta(&self) -> &Meta;
}

macro_rules! resource {
    ($($t:ty),* $(,)?) => { $(impl $crate::model::Resource for $t { fn meta(&self) -> &$crate::model::Meta { &self.meta } })* };
}
pub(crate) use resource;

/// A listing that could not be completed in a region: nothing about its resources there is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionFailure {
    pub region: String,
    pub reason: String,
}

/// The resources of one type, keyed by ARN, plus the regions where listing them failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Collection<T> {
    pub items: BTreeMap<String, T>,
    /// Always written and required on read: a snapshot without it cannot claim "no failures".
    pub failures: Vec<CollectionFailure>,
    /// Indexes built on first use by [`Collection::lookup`] (never serialized or compared).
    #[serde(skip)]
    lookups: Lookups,
}

impl<T> Default for Collection<T> {
    fn default() -> Self {
        Collection { items: BTreeMap::new(), failures: Vec::new(), lookups: Lookups::default() }
    }
}

/// Index name → (the item count it was built for, key → ARNs). Controls look resources up by
/// id, by subnet, by name; a scan over every item per lookup made evaluation quadratic.
#[derive(Default)]
struct Lookups(std::sync::Mutex<HashMap<&'static str, (usize, HashMap<String, Vec<String>>)>>);

impl Clone for Lookups {
    fn clone(&self) -> Self {
        Lookups::default()
    }
}

impl PartialEq for Lookups {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lookups")
    }
}

impl<T: Resource> Collection<T> {
    /// The items whose `keys_of` include `key`, in ARN order, through an index built on first
    /// use (and again when the number of items changed). `name` identifies `keys_of`: one name,
    /// one function. Callers still check what they need of each item.
    pub fn lookup(&self, name: &'static str, key: &str, keys_of: impl Fn(&T) -> Vec<String>) -> Vec<&T> {
        let mut cache = self.lookups.0.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = cache.get(name).is_some_and(|(n, _)| *n == self.items.len());
        if !fresh {
            let mut index: HashMap<String, Vec<String>> = HashMap::new();
            for (arn, item) in &self.items {
                let mut keys = keys_of(item);
                keys.sort();
                keys.dedup();
                for k in keys {
                    index.entry(k).or_default().push(arn.clone());
                }
            }
            cache.insert(name, (self.items.len(), index));
        }
        cache.get(name).and_then(|(_, index)| index.get(key)).map(|arns| arns.iter().filter_map(|a| self.items.get(a)).collect()).unwrap_or_default()
    }

    /// The items with this id or whose ARN ends in `/<id>` or `:<id>` (see [`Collection::lookup`]).
    pub fn by_id(&self, id: &str) -> Vec<&T> {
        self.lookup("id", id, |t| {
            let m = t.meta();
            let last = m.arn.rsplit(['/', ':']).next().unwrap_or_default().to_string();
            vec![m.id.clone(), last]
        })
    }
}

impl<T: Resource> Collection<T> {
    pub fn insert(&mut self, item: T) {
        self.items.insert(item.meta().arn.clone(), item);
    }

    pub fn fail(&mut self, region: &str, reason: impl Into<String>) {
        self.failures.push(CollectionFailure { region: region.to_string(), reason: reason.into() });
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.values()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Why this collection is incomplete in `region`, if it is.
    pub fn failed_in(&self, region: &str) -> Option<&str> {
        self.failures.iter().find(|f| f.region == region).map(|f| f.reason.as_str())
    }

    pub fn extend(&mut self, other: Collection<T>) {
        self.items.extend(other.items);
        self.failures.extend(other.failures);
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.items.retain(|_, v| keep(v));
    }
}

/// A call that failed while collecting (the affected fields are Unknown, the controls `error`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionError {
    pub service: String,
    pub operation: String,
    pub region: String,
    /// The resource the call was about, if any.
    pub resource: Option<String>,
    pub code: String,
    pub message: String,
    /// The account the call was made in, in a report of several accounts (`scan --accounts`,
    /// `tapaudit merge`); absent in a single account's report, whose scope names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// A saved State (`--save-snapshot`): versioned, with where and when it was collected, which
/// services were read and the collection errors of that run, so that re-evaluating a snapshot
/// taken during an outage is still incomplete. Every field is required.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub snapshot_version: u32,
    pub tool: String,
    pub tool_version: String,
    pub collected_at: String,
    pub account: Option<String>,
    pub regions: Vec<String>,
    pub stack: Option<String>,
    /// The services collected (`kms`, `ec2`, ...), in the order of [`SERVICES`].
    pub services: Vec<String>,
    /// The calls that failed during collection.
    pub errors: Vec<CollectionError>,
    pub state: State,
}

/// THE SERVICE REGISTRY: the one list of the services tapaudit reads. From it come the `State`
/// struct, [`SERVICES`] (what a snapshot must hold), [`REGISTRY`], the per-region collection
/// (`collect`), merging across regions ([`State::merge`]), the statistics' resource counts
/// ([`State::count_resources`]) and stack scoping of snapshots ([`State::retain_stack`]).
///
/// One entry per service: `section: part type, recorder "name", Regional|Global { collections }
/// also { other fields };`. Each `Collection` field of the part is listed with the
/// `Meta::resource_type` of its items and its stack-scoping rule:
/// - `by_tag` — kept when tagged for the stack or untagged (add `, remembered in <field>` to
///   record what is left out by ARN in a set of the part);
/// - `tagged` — kept only when tagged for the stack (or tags unknown): things of the account
///   that a stack may own but rarely does (IAM users, trails, snapshots);
/// - `account("…")` — account-level settings and per-region records of the account: collected
///   and judged in account-wide scans only (say what they are);
/// - `part_of("…")` — kept as part of in-scope resources whatever its tags (say of which); the
///   collectors keep only those; scoping a snapshot keeps them all (it does not follow references);
/// - `kept("…")` — deliberately kept (say why).
///
/// Every other field of the part goes in `also { … }` (merged by union). A part field that is
/// not listed, or listed in the wrong place, does not compile.
///
/// Adding a service `x` is this one entry plus its modules:
/// 1. `src/model/x.rs` (`pub mod x;` above): the part `X` (`Default`, serde, each `Collection`
///    of items that implement `Resource`) — then its entry here;
/// 2. `src/collect/x.rs` with `pub async fn collect(ctx: &Ctx) -> model::x::X` (`mod x;` in
///    `collect/mod.rs`): collection, merging, counting, scoping and snapshots follow from here;
/// 3. its controls (`controls/`), as for any other service.
///
/// Adding a collection to a part is one line in its entry. A new service, collection or
/// evidence field changes what a snapshot holds: bump [`SNAPSHOT_VERSION`] and write the new
/// version's shape (`UPDATE_SNAPSHOT_SHAPE=1 cargo test --lib snapshot_format`), or
/// `the_snapshot_format_changes_only_with_its_version` fails.
macro_rules! services {
    ($($then:ident)::+) => {
        $($then)::+! {
            kms: crate::model::kms::Kms, recorder "kms", Regional {
                keys: "kms:key", by_tag, remembered in out_of_scope;
            } also { out_of_scope, aliases };
            ec2: crate::model::ec2::Ec2, recorder "ec2", Regional {
                vpcs: "ec2:vpc", by_tag;
                subnets: "ec2:subnet", by_tag;
                // the untagged main route table and default security group of a VPC stay
                // in scope with it (untagged is kept by tag)
                route_tables: "ec2:route-table", by_tag;
                internet_gateways: "ec2:internet-gateway", by_tag;
                nat_gateways: "ec2:nat-gateway", by_tag;
                security_groups: "ec2:security-group", by_tag;
                flow_logs: "ec2:flow-log", by_tag;
                prefix_lists: "ec2:prefix-list", part_of("the collected security groups' rules: they decide the groups' exposure");
                snapshots: "ec2:snapshot", tagged;
                ebs_defaults: "ec2:ebs-defaults", account("the region's EBS encryption-by-default setting");
            };
            rds: crate::model::rds::Rds, recorder "rds", Regional {
                instances: "rds:db-instance", by_tag;
                clusters: "rds:db-cluster", by_tag;
                subnet_groups: "rds:subnet-group", part_of("the databases in scope (subnet groups carry no tags)");
                parameter_groups: "rds:parameter-group", part_of("the databases in scope");
                snapshots: "rds:db-snapshot", tagged;
                cluster_snapshots: "rds:db-cluster-snapshot", tagged;
            };
            kinesis: crate::model::kinesis::Kinesis, recorder "kinesis", Regional {
                streams: "kinesis:stream", by_tag;
            };
            logs: crate::model::logs::Logs, recorder "logs", Regional {
                log_groups: "logs:log-group", by_tag, remembered in out_of_scope;
            } also { out_of_scope };
            secrets: crate::model::secrets::Secrets, recorder "secretsmanager", Regional {
                secrets: "secretsmanager:secret", by_tag;
            };
            ecs: crate::model::ecs::Ecs, recorder "ecs", Regional {
                clusters: "ecs:cluster", by_tag;
                services: "ecs:service", by_tag;
                task_definitions: "ecs:task-definition", by_tag;
            };
            apigw: crate::model::apigw::ApiGateway, recorder "apigateway", Regional {
                rest_apis: "apigateway:rest-api", by_tag;
                methods: "apigateway:method", by_tag;
                stages: "apigateway:stage", by_tag;
            };
            elasticache: crate::model::elasticache::ElastiCache, recorder "elasticache", Regional {
                replication_groups: "elasticache:replication-group", by_tag;
                clusters: "elasticache:cluster", by_tag;
            };
            efs: crate::model::efs::Efs, recorder "efs", Regional {
                file_systems: "efs:file-system", by_tag;
            };
            elbv2: crate::model::elbv2::Elbv2, recorder "elbv2", Regional {
                load_balancers: "elbv2:load-balancer", by_tag;
                listeners: "elbv2:listener", by_tag;
                target_groups: "elbv2:target-group", by_tag;
                certificates: "elbv2:certificate", part_of("the HTTPS listeners in scope (the ACM certificates they present)");
            };
            // global: read once, with the first scanned region
            iam: crate::model::iam::Iam, recorder "iam", Global {
                roles: "iam:role", by_tag;
                policies: "iam:policy", part_of("the roles, users and groups in scope (the managed policies attached to them)");
                users: "iam:user", tagged;
                groups: "iam:group", account("the account's IAM groups (groups carry no tags)");
                accounts: "iam:account", account("the account's password policy, root user and credential summary");
            };
            s3control: crate::model::s3control::S3Control, recorder "s3control", Global {
                public_access_blocks: "s3control:public-access-block", account("the account-level S3 Block Public Access settings");
            };
            // ListBuckets is global; each region's collector reads the buckets located there
            s3: crate::model::s3::S3, recorder "s3", Regional {
                buckets: "s3:bucket", by_tag;
            };
            cloudtrail: crate::model::cloudtrail::CloudTrail, recorder "cloudtrail", Regional {
                trails: "cloudtrail:trail", tagged;
                regions: "cloudtrail:region", account("which trails log the region's events");
            };
            guardduty: crate::model::guardduty::GuardDuty, recorder "guardduty", Regional {
                regions: "guardduty:region", account("the region's GuardDuty detectors");
            };
            config: crate::model::config::Config, recorder "config", Regional {
                regions: "config:region", account("the region's AWS Config recorders and delivery channels");
            };
        }
    };
}
pub(crate) use services;

services!(registry::define_state);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_serializes_compactly() {
        let k: Observed<bool> = Observed::Known(true);
        let u: Observed<bool> = Observed::Unknown("AccessDenied".into());
        assert_eq!(serde_json::to_string(&k).unwrap(), r#"{"known":true}"#);
        assert_eq!(serde_json::to_string(&u).unwrap(), r#"{"unknown":"AccessDenied"}"#);
        assert_eq!(serde_json::from_str::<Observed<bool>>(r#"{"unknown":"x"}"#).unwrap(), Observed::Unknown("x".into()));
    }
}

#[cfg(test)]
mod lookup_tests {
    /// An index answers what a scan over the items answers, and is rebuilt when items come or go.
    #[test]
    fn lookups_equal_a_scan_and_follow_changes() {
        let mut s = crate::controls::testing::fixture();
        let subnets = &s.ec2.subnets;
        for want in subnets.iter() {
            let got = subnets.by_id(&want.meta.id);
            let scanned: Vec<_> = subnets.iter().filter(|x| x.meta.id == want.meta.id).collect();
            assert_eq!(got.iter().map(|x| &x.meta.arn).collect::<Vec<_>>(), scanned.iter().map(|x| &x.meta.arn).collect::<Vec<_>>());
        }
        assert!(subnets.by_id("subnet-nowhere").is_empty());
        let first = s.ec2.subnets.iter().next().unwrap().clone();
        let mut copy = first.clone();
        copy.meta.id = "subnet-added".into();
        copy.meta.arn = format!("{}-added", first.meta.arn);
        s.ec2.subnets.insert(copy);
        assert_eq!(s.ec2.subnets.by_id("subnet-added").len(), 1, "an item added after the index was built is found");
        s.ec2.subnets.retain(|x| x.meta.id != "subnet-added");
        assert!(s.ec2.subnets.by_id("subnet-added").is_empty(), "nor is a removed one kept");
    }
}
