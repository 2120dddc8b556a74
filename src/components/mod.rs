//! Components: the kinds of thing a stack file declares. A blueprint (`stacks/*.toml`) is a
//! composition of named component instances (`[databases.main]`, `[keys.db-key]`) that
//! reference each other by logical id (`key = "db-key"`).
//!
//! One module per kind owns, for its kind:
//! - its stack-file section (a serde struct: unknown keys rejected, hardened defaults) and its
//!   validation (`validate`, problems at a dotted path that becomes `file:line`);
//! - its references to other components (`references`), checked before any AWS call;
//! - its provisioning nodes (`nodes`: find by tag → create → converge → delete);
//! - its part of the desired State (`desired`: the same model types the collectors fill);
//! - its drift comparison (`drift`, for the model types it owns);
//! - its outputs (`outputs`: what `provision` prints).
//!
//! Adding a kind = one module + one line in `registry!` below. `Component` has no default
//! methods, so a kind that lacks a part does not compile, and `registry_tests` fails when a
//! registered kind's parts come back empty for its blueprint examples.

pub mod api;
pub mod bucket;
pub mod cache;
pub mod database;
pub mod file_system;
pub mod key;
pub mod load_balancer;
pub mod log_group;
pub mod network;
pub mod role;
pub mod security_group;
pub mod service;
pub mod stream;

use crate::drift::{Drift, StackView};
use crate::model::{Meta, Observed, SourceRef, State};
use crate::provision::Node;
use crate::vocab::{Source, StackId, TAG_LOGICAL_ID};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::BTreeMap;
use std::fmt::Debug;

/// The account of desired resources (the real one is unknown before deployment).
pub const DESIRED_ACCOUNT: &str = "000000000000";

/// A problem in the stack file at a dotted setting path (mapped to `file:line` by `spec`).
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// A problem at `path`; the message is prefixed with the path.
pub fn problem(path: impl Into<String>, message: impl Into<String>) -> Problem {
    let path = path.into();
    let message = message.into();
    let message = if path.is_empty() { message } else { format!("{path} {message}") };
    Problem { message, path }
}

/// The kinds a stack file can declare, one per component module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Key,
    Network,
    SecurityGroup,
    Stream,
    Database,
    Cache,
    FileSystem,
    Service,
    LoadBalancer,
    Api,
    Bucket,
}

impl Kind {
    /// How messages name the kind ("a key", "a security group").
    pub fn label(self) -> &'static str {
        match self {
            Kind::Key => "key",
            Kind::Network => "network",
            Kind::SecurityGroup => "security group",
            Kind::Stream => "stream",
            Kind::Database => "database",
            Kind::Cache => "cache",
            Kind::FileSystem => "file system",
            Kind::Service => "service",
            Kind::LoadBalancer => "load balancer",
            Kind::Api => "api",
            Kind::Bucket => "bucket",
        }
    }
}

/// A reference from one component to another by logical id.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The setting, relative to the instance (`key`, `ingress[0].from`).
    pub field: String,
    /// The logical id it names.
    pub target: String,
    /// The kinds it may name.
    pub kinds: &'static [Kind],
    /// For a key: the service that uses it (`kms:ViaService` name such as `rds`, or `logs` for
    /// CloudWatch Logs); the key's policy admits exactly its referrers' services.
    pub via: Option<&'static str>,
}

impl Reference {
    pub fn new(field: impl Into<String>, target: &str, kinds: &'static [Kind]) -> Self {
        Reference { field: field.into(), target: target.to_string(), kinds, via: None }
    }

    /// A reference to a key that `via` uses.
    pub fn key(field: impl Into<String>, target: &str, via: &'static str) -> Self {
        Reference { field: field.into(), target: target.to_string(), kinds: &[Kind::Key], via: Some(via) }
    }
}

/// A stack output: a node's attribute under a name (`database.main.endpoint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub name: String,
    pub node: String,
    pub attr: String,
}

/// What one component instance sees: the stack, its logical id, its stack-file path.
pub struct Cx<'a> {
    pub stack: &'a Stack,
    /// The instance's logical id (`db-key`).
    pub id: &'a str,
    /// Its table in the stack file (`keys.db-key`, `network`).
    pub path: String,
}

impl Cx<'_> {
    /// The dotted path of one of its settings.
    pub fn at(&self, field: &str) -> String {
        if field.is_empty() {
            self.path.clone()
        } else {
            format!("{}.{field}", self.path)
        }
    }

    pub fn problem(&self, field: &str, message: impl Into<String>) -> Problem {
        problem(self.at(field), message)
    }

    /// `<project>-<stack>-<suffix>`
    pub fn name(&self, suffix: &str) -> String {
        self.stack.id.name(suffix)
    }

    /// A provisioning node of this instance; its findings point at this instance's table.
    pub fn node(&self, id: impl Into<String>, op: impl crate::provision::NodeOps, deps: &[&str]) -> Node {
        Node::new(id, op, deps.iter().map(|d| d.to_string()).collect(), self.path.clone())
    }

    /// The region desired resources live in.
    pub fn region(&self) -> String {
        self.stack.region()
    }

    /// A desired ARN in the desired account.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{DESIRED_ACCOUNT}:{resource}", self.region())
    }

    /// The Meta of a desired resource: tagged as provision tags it, located at `field`.
    pub fn meta(&self, resource_type: &str, logical: &str, id: &str, arn: String, name: &str, field: &str) -> Meta {
        let mut tags = self.stack.id.base_tags();
        tags.insert(TAG_LOGICAL_ID.to_string(), logical.to_string());
        tags.entry("Name".into()).or_insert_with(|| name.to_string());
        Meta {
            resource_type: resource_type.to_string(),
            id: id.to_string(),
            arn,
            region: self.region(),
            account: DESIRED_ACCOUNT.to_string(),
            name: Some(name.to_string()),
            tags: Observed::Known(tags),
            source: Some(SourceRef { path: self.stack.source.path.clone(), line: self.stack.line_of(&self.at(field)) }),
        }
    }
}

/// Desired ids: every desired resource's id is built from its logical id, so references between
/// desired resources are known before anything exists, and drift resolves them through the
/// `tapaudit:logical-id` tag.
pub mod desired_ids {
    use super::DESIRED_ACCOUNT;

    pub fn key_arn(region: &str, key: &str) -> String {
        format!("arn:aws:kms:{region}:{DESIRED_ACCOUNT}:key/{key}")
    }
    pub fn security_group(sg: &str) -> String {
        format!("sg-{sg}")
    }
    pub fn subnet(logical: &str) -> String {
        format!("subnet-{logical}")
    }
    pub const VPC: &str = "vpc-vpc";
}

/// What every component kind provides. No default methods: a kind lacking a part does not
/// compile.
pub trait Component: Clone + Debug + Serialize + DeserializeOwned + 'static {
    const KIND: Kind;
    /// Every logical id this instance names, with the kinds each may name.
    fn references(&self) -> Vec<Reference>;
    /// Its settings' problems (references are checked by the registry).
    fn validate(&self, cx: &Cx) -> Vec<Problem>;
    /// Its provisioning nodes, with their dependencies.
    fn nodes(&self, cx: &Cx) -> Vec<Node>;
    /// Its resources as desired State.
    fn desired(&self, cx: &Cx, st: &mut State);
    /// What provision prints for it.
    fn outputs(&self, cx: &Cx) -> Vec<Output>;
}

/// `Component` as an object, for the registry's lists.
pub trait Declared: Debug {
    fn kind(&self) -> Kind;
    fn references(&self) -> Vec<Reference>;
    fn validate(&self, cx: &Cx) -> Vec<Problem>;
    fn nodes(&self, cx: &Cx) -> Vec<Node>;
    fn desired(&self, cx: &Cx, st: &mut State);
    fn outputs(&self, cx: &Cx) -> Vec<Output>;
}

impl<C: Component> Declared for C {
    fn kind(&self) -> Kind {
        C::KIND
    }
    fn references(&self) -> Vec<Reference> {
        Component::references(self)
    }
    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        Component::validate(self, cx)
    }
    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        Component::nodes(self, cx)
    }
    fn desired(&self, cx: &Cx, st: &mut State) {
        Component::desired(self, cx, st)
    }
    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        Component::outputs(self, cx)
    }
}

/// One declared instance: its logical id, its table, and the component.
pub struct Instance<'a> {
    pub id: &'a str,
    pub path: String,
    pub component: &'a dyn Declared,
}

/// A loaded, validated stack file.
#[derive(Debug, Clone)]
pub struct Stack {
    pub spec: crate::spec::Spec,
    /// Project, stack name, frameworks and tags.
    pub id: StackId,
    /// The stack name (same as `id.name`).
    pub name: String,
    pub source: Source,
}

impl Stack {
    /// `<project>-<stack>`: the prefix of every resource name.
    pub fn prefix(&self) -> String {
        self.id.prefix()
    }

    /// The tags every resource of this stack carries (without the logical id).
    pub fn base_tags(&self) -> BTreeMap<String, String> {
        self.id.base_tags()
    }

    /// Line in the stack file of a dotted setting path (or of its nearest declared parent).
    pub fn line_of(&self, path: &str) -> usize {
        self.source.line_of(path)
    }

    /// The region the desired State is in (the stack's, else us-east-1).
    pub fn region(&self) -> String {
        self.spec.region.clone().unwrap_or_else(|| "us-east-1".into())
    }

    /// Every declared component instance, in section order then logical-id order.
    pub fn instances(&self) -> Vec<Instance<'_>> {
        self.spec.instances()
    }

    /// The kind of the component with this logical id.
    pub fn kind_of(&self, id: &str) -> Option<Kind> {
        self.instances().iter().find(|i| i.id == id).map(|i| i.component.kind())
    }

    /// The components of this stack that reference `id`.
    pub fn referrers(&self, id: &str) -> Vec<Instance<'_>> {
        self.instances().into_iter().filter(|i| i.component.references().iter().any(|r| r.target == id)).collect()
    }

    /// The context of one instance.
    pub fn cx<'a>(&'a self, i: &Instance<'a>) -> Cx<'a> {
        Cx { stack: self, id: i.id, path: i.path.clone() }
    }
}

/// The registry: one line per declarable kind, `many section: module::Type` for a map of named
/// instances (`[keys.<id>]`) or `one section: module::Type` for a singular section whose one
/// instance has the section's name as logical id (`[network]`, a plain field with Default). It
/// generates the instance walk every layer uses (validation, nodes, desired State, outputs);
/// the sections themselves are fields of `spec::Spec`, which the
/// `registry_covers_every_section` test keeps in step with this list.
macro_rules! registry {
    ($( $form:ident $section:ident : $module:ident :: $ty:ident ),* $(,)?) => {
        /// The declarable sections, in the order their instances are walked.
        pub const SECTIONS: &[(&str, Kind)] = &[$( (stringify!($section), <$module::$ty as Component>::KIND) ),*];

        impl crate::spec::Spec {
            /// Every declared instance of every registered kind.
            pub fn instances(&self) -> Vec<Instance<'_>> {
                let mut out: Vec<Instance<'_>> = Vec::new();
                $( registry!(@walk $form, self, $section, out); )*
                out
            }
        }
    };
    (@walk many, $spec:ident, $section:ident, $out:ident) => {
        for (id, c) in &$spec.$section {
            $out.push(Instance { id: id.as_str(), path: format!("{}.{id}", stringify!($section)), component: c });
        }
    };
    (@walk one, $spec:ident, $section:ident, $out:ident) => {
        $out.push(Instance { id: stringify!($section), path: stringify!($section).to_string(), component: &$spec.$section });
    };
}

registry! {
    many keys: key::Key,
    one network: network::Network,
    many security_groups: security_group::SecurityGroup,
    many streams: stream::Stream,
    many databases: database::Database,
    many caches: cache::Cache,
    many file_systems: file_system::FileSystem,
    many buckets: bucket::Bucket,
    many load_balancers: load_balancer::LoadBalancer,
    many services: service::Service,
    many apis: api::Api,
}

/// Every instance's provisioning nodes.
pub fn nodes(stack: &Stack) -> Vec<Node> {
    stack.instances().iter().flat_map(|i| i.component.nodes(&stack.cx(i))).collect()
}

/// Every instance's desired resources.
pub fn desired(stack: &Stack, st: &mut State) {
    for i in stack.instances() {
        i.component.desired(&stack.cx(&i), st);
    }
}

/// Every instance's outputs.
pub fn outputs(stack: &Stack) -> Vec<Output> {
    stack.instances().iter().flat_map(|i| i.component.outputs(&stack.cx(i))).collect()
}

/// Each kind's drift comparison, over the model types it owns (`drift_tests` checks that
/// every type a desired State holds is listed here).
pub const DRIFT: &[(&[&str], fn(&mut Drift, &State, &State))] = &[
    (&["kms:key"], key::drift),
    (&["elasticache:replication-group"], cache::drift),
    (&["efs:file-system"], file_system::drift),
    (&["s3:bucket"], bucket::drift),
    (&["logs:log-group"], log_group::drift),
    (&["iam:role", "iam:policy"], role::drift),
    (&["ec2:vpc", "ec2:subnet", "ec2:internet-gateway", "ec2:nat-gateway", "ec2:route-table", "ec2:flow-log"], network::drift),
    (&["ec2:security-group"], security_group::drift),
    (&["rds:db-instance", "rds:db-cluster", "rds:subnet-group", "rds:parameter-group", "secretsmanager:secret"], database::drift),
    (&["kinesis:stream"], stream::drift),
    (&["ecs:cluster", "ecs:service", "ecs:task-definition"], service::drift),
    (&["elbv2:load-balancer", "elbv2:listener", "elbv2:target-group", "elbv2:certificate"], load_balancer::drift),
    (&["apigateway:rest-api", "apigateway:method", "apigateway:stage"], api::drift),
];

/// Drift of the whole stack: every kind's comparison over the two States.
pub fn drift(desired: &State, live: &State, stack: &Stack, catalogue: &crate::controls::Catalogue, frameworks: &[String]) -> Vec<crate::finding::Finding> {
    let view = StackView {
        name: &stack.name,
        source: &stack.source,
        declared_tags: stack.spec.tags.keys().cloned().collect(),
        paths: crate::provision::nodes(stack).into_iter().map(|n| (n.id, n.declared_at)).collect(),
    };
    let mut d = Drift::new(view, desired, live, catalogue, frameworks);
    for (_, compare) in DRIFT {
        compare(&mut d, desired, live);
    }
    d.finish()
}

/// Logical ids: lowercase letters, digits and single hyphens, starting with a letter, at most
/// 24 characters (they become part of AWS names with length limits).
pub fn is_logical_id(s: &str) -> bool {
    s.len() <= 24
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// The registry's checks over all instances: well-formed and unique logical ids, references
/// that name a declared component of an accepted kind, each instance's own validation, and
/// node ids that do not collide.
pub fn validate(stack: &Stack) -> Vec<Problem> {
    let mut out = Vec::new();
    let instances = stack.instances();
    let mut seen: BTreeMap<&str, String> = BTreeMap::new();
    for i in &instances {
        if !is_logical_id(i.id) {
            out.push(problem(&i.path, format!("has logical id {:?}: use 1–24 lowercase letters, digits or single hyphens, starting with a letter", i.id)));
        }
        if let Some(first) = seen.get(i.id) {
            out.push(problem(&i.path, format!("reuses the logical id {:?} of {first}: logical ids are unique across the stack file", i.id)));
        } else {
            seen.insert(i.id, i.path.clone());
        }
    }
    for i in &instances {
        let cx = stack.cx(i);
        for r in i.component.references() {
            let want = r.kinds.iter().map(|k| k.label()).collect::<Vec<_>>().join(" or ");
            match instances.iter().find(|o| o.id == r.target) {
                None => out.push(cx.problem(&r.field, format!("names {:?}, which the stack file does not declare (expected a {want})", r.target))),
                Some(o) if !r.kinds.contains(&o.component.kind()) => {
                    out.push(cx.problem(&r.field, format!("names {:?}, which is a {} ({}), not a {want}", r.target, o.component.kind().label(), o.path)))
                }
                Some(_) => {}
            }
        }
        out.extend(i.component.validate(&cx));
    }
    if out.is_empty() {
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        for i in &instances {
            for n in i.component.nodes(&stack.cx(i)) {
                if let Some(other) = ids.insert(n.id.clone(), i.path.clone()) {
                    out.push(problem(&i.path, format!("creates a resource with logical id {:?}, which {other} also uses: rename one of them", n.id)));
                }
            }
        }
    }
    if out.is_empty() {
        out.extend(check_graph(stack));
    }
    out
}

/// The nodes of every component form one acyclic graph over declared nodes (the references
/// were checked first, so a failure here is a component module's bug, reported, not a panic).
fn check_graph(stack: &Stack) -> Vec<Problem> {
    let edges = nodes(stack).into_iter().map(|n| (n.id, n.deps)).collect();
    match crate::provision::graph::check_acyclic(&edges) {
        Ok(_) => vec![],
        Err(e) => vec![problem("", format!("the stack's resources do not form a dependency graph: {e}"))],
    }
}

#[cfg(test)]
mod registry_tests;
