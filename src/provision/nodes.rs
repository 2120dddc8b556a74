//! The logical resources of a stack and their dependencies, and the dispatch from a node
//! kind to its service module.

use super::{compute, data, iam, logs, network, Attrs, Ctx, Found};
use crate::error::Result;
use crate::spec::{NatMode, Stack};
use futures::future::BoxFuture;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogPurpose {
    Ecs,
    FlowLogs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    EcsExecution,
    EcsTask,
    FlowLogs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SgKind {
    EcsTasks,
    Database,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Vpc,
    InternetGateway,
    Subnet { public: bool, index: usize },
    Nat { index: usize },
    PublicRoutes,
    PrivateRoutes { index: usize },
    LogGroup(LogPurpose),
    Role(RoleKind),
    FlowLog,
    SecurityGroup(SgKind),
    DefaultSecurityGroup,
    Stream,
    DbSecret,
    DbSubnetGroup,
    DbParameterGroup,
    Database,
    DbSecretEndpoint,
    Cluster,
    TaskDefinition,
    Service,
}

/// What the engine does with one node: find it (and what differs), create or converge it,
/// delete it. Component modules implement it for their resource types (usually through
/// `node_ops!`, over inherent `async fn inspect/apply/delete`).
pub trait NodeOps: Send + Sync + 'static {
    /// `service:type`, as plans show it (`kms:key`).
    fn label(&self) -> &'static str;
    fn inspect<'a>(&'a self, ctx: &'a Ctx, id: &'a str) -> BoxFuture<'a, Result<Found>>;
    /// Create the resource (`found` is Absent) or converge its settings (Present with changes).
    fn apply<'a>(&'a self, ctx: &'a Ctx, id: &'a str, found: &'a Found) -> BoxFuture<'a, Result<Attrs>>;
    /// Delete this stack's resource if it exists; returns its physical id when deleted.
    fn delete<'a>(&'a self, ctx: &'a Ctx, id: &'a str) -> BoxFuture<'a, Result<Option<String>>>;
}

/// `impl NodeOps for $ty` over its inherent `async fn inspect(&self, ctx, id)`,
/// `async fn apply(&self, ctx, id, found)` and `async fn delete(&self, ctx, id)`.
#[macro_export]
macro_rules! node_ops {
    ($ty:ty, $label:expr) => {
        impl $crate::provision::NodeOps for $ty {
            fn label(&self) -> &'static str {
                $label
            }
            fn inspect<'a>(
                &'a self,
                ctx: &'a $crate::provision::Ctx,
                id: &'a str,
            ) -> futures::future::BoxFuture<'a, $crate::error::Result<$crate::provision::Found>> {
                Box::pin(<$ty>::inspect(self, ctx, id))
            }
            fn apply<'a>(
                &'a self,
                ctx: &'a $crate::provision::Ctx,
                id: &'a str,
                found: &'a $crate::provision::Found,
            ) -> futures::future::BoxFuture<'a, $crate::error::Result<$crate::provision::Attrs>> {
                Box::pin(<$ty>::apply(self, ctx, id, found))
            }
            fn delete<'a>(&'a self, ctx: &'a $crate::provision::Ctx, id: &'a str) -> futures::future::BoxFuture<'a, $crate::error::Result<Option<String>>> {
                Box::pin(<$ty>::delete(self, ctx, id))
            }
        }
    };
}

/// One logical resource: its id, what to do with it, what it waits for, and the stack-file
/// table that declares it (for report locations).
#[derive(Clone)]
pub struct Node {
    pub id: String,
    pub kind: Arc<dyn NodeOps>,
    pub deps: Vec<String>,
    pub declared_at: String,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.id)
            .field("kind", &self.kind.label())
            .field("deps", &self.deps)
            .field("declared_at", &self.declared_at)
            .finish()
    }
}

impl Node {
    pub fn new(id: impl Into<String>, op: impl NodeOps, deps: Vec<String>, declared_at: String) -> Self {
        Node { id: id.into(), kind: Arc::new(op), deps, declared_at }
    }
}

fn node(id: impl Into<String>, kind: Kind, deps: &[&str]) -> Node {
    let id = id.into();
    let at = legacy_declared_at(&id);
    Node::new(id, kind, deps.iter().map(|d| d.to_string()).collect(), at)
}

fn node_deps(id: impl Into<String>, kind: Kind, deps: Vec<String>) -> Node {
    let id = id.into();
    let at = legacy_declared_at(&id);
    Node::new(id, kind, deps, at)
}

pub fn public_subnet_id(i: usize) -> String {
    format!("public-subnet-{}", i + 1)
}
pub fn private_subnet_id(i: usize) -> String {
    format!("private-subnet-{}", i + 1)
}
pub fn nat_id(i: usize) -> String {
    format!("nat-gateway-{}", i + 1)
}
pub fn private_routes_id(i: usize) -> String {
    format!("private-route-table-{}", i + 1)
}

/// How many NAT gateways (and private route tables) the stack has.
pub fn nat_count(stack: &Stack) -> usize {
    match stack.spec.network.nat_gateways {
        NatMode::Single => 1,
        NatMode::PerAz => stack.spec.network.az_count,
        NatMode::None => 0,
    }
}

pub fn private_route_table_count(stack: &Stack) -> usize {
    nat_count(stack).max(1)
}

/// Every logical resource of the stack, in a stable order, with its dependencies.
pub fn nodes(stack: &Stack) -> Vec<Node> {
    let mut v = crate::components::nodes(stack);
    v.extend(legacy_nodes(stack));
    v
}

fn legacy_nodes(stack: &Stack) -> Vec<Node> {
    let azs = stack.spec.network.az_count;
    let mut v = vec![node("vpc", Kind::Vpc, &[]), node("internet-gateway", Kind::InternetGateway, &["vpc"])];
    for i in 0..azs {
        v.push(node(public_subnet_id(i), Kind::Subnet { public: true, index: i }, &["vpc"]));
    }
    for i in 0..azs {
        v.push(node(private_subnet_id(i), Kind::Subnet { public: false, index: i }, &["vpc"]));
    }
    for i in 0..nat_count(stack) {
        let subnet = public_subnet_id(i);
        v.push(node(nat_id(i), Kind::Nat { index: i }, &[subnet.as_str(), "internet-gateway"]));
    }
    let mut public_rt_deps: Vec<String> = vec!["vpc".into(), "internet-gateway".into()];
    public_rt_deps.extend((0..azs).map(public_subnet_id));
    v.push(node_deps("public-route-table", Kind::PublicRoutes, public_rt_deps));
    let tables = private_route_table_count(stack);
    for t in 0..tables {
        let mut deps: Vec<String> = vec!["vpc".into()];
        if nat_count(stack) > 0 {
            deps.push(nat_id(t));
        }
        deps.extend((0..azs).filter(|i| i % tables == t).map(private_subnet_id));
        v.push(node_deps(private_routes_id(t), Kind::PrivateRoutes { index: t }, deps));
    }
    if stack.spec.network.flow_logs {
        v.push(node("flow-log-group", Kind::LogGroup(LogPurpose::FlowLogs), &["data-key"]));
        v.push(node("flow-log-role", Kind::Role(RoleKind::FlowLogs), &["flow-log-group"]));
        v.push(node("vpc-flow-log", Kind::FlowLog, &["vpc", "flow-log-group", "flow-log-role"]));
    }
    v.push(node("default-sg", Kind::DefaultSecurityGroup, &["vpc"]));
    v.push(node("ecs-tasks-sg", Kind::SecurityGroup(SgKind::EcsTasks), &["vpc"]));
    v.push(node("db-sg", Kind::SecurityGroup(SgKind::Database), &["vpc", "ecs-tasks-sg"]));
    v.push(node("stream", Kind::Stream, &["data-key"]));
    v.push(node("db-credentials", Kind::DbSecret, &["data-key"]));
    let mut sng_deps: Vec<String> = (0..azs).map(private_subnet_id).collect();
    sng_deps.push("vpc".into());
    v.push(node_deps("db-subnet-group", Kind::DbSubnetGroup, sng_deps));
    v.push(node("db-parameter-group", Kind::DbParameterGroup, &[]));
    v.push(node("database", Kind::Database, &["db-subnet-group", "db-parameter-group", "db-sg", "data-key", "db-credentials"]));
    v.push(node("db-credentials-endpoint", Kind::DbSecretEndpoint, &["database", "db-credentials"]));
    v.push(node("ecs-log-group", Kind::LogGroup(LogPurpose::Ecs), &["data-key"]));
    v.push(node("ecs-execution-role", Kind::Role(RoleKind::EcsExecution), &[]));
    v.push(node("ecs-task-role", Kind::Role(RoleKind::EcsTask), &["stream", "data-key", "db-credentials"]));
    v.push(node("cluster", Kind::Cluster, &[]));
    v.push(node("task-definition", Kind::TaskDefinition, &["ecs-execution-role", "ecs-task-role", "ecs-log-group", "stream", "db-credentials"]));
    let mut svc_deps: Vec<String> = vec!["cluster".into(), "task-definition".into(), "ecs-tasks-sg".into()];
    svc_deps.extend((0..azs).map(private_subnet_id));
    v.push(node_deps("service", Kind::Service, svc_deps));
    v
}

/// The stack-file table that declares a logical resource (for report locations).
pub fn declared_at(stack: &Stack, logical_id: &str) -> String {
    nodes(stack).into_iter().find(|n| n.id == logical_id).map(|n| n.declared_at).unwrap_or_default()
}

pub fn legacy_declared_at(logical_id: &str) -> String {
    let numbered = |prefix: &str| logical_id.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok()).map(|n| n.saturating_sub(1));
    if let Some(i) = numbered("public-subnet-") {
        return format!("network.public_subnets[{i}]");
    }
    if let Some(i) = numbered("private-subnet-") {
        return format!("network.private_subnets[{i}]");
    }
    let section = match logical_id {
        "vpc" | "internet-gateway" | "public-route-table" | "default-sg" => "network.cidr",
        "flow-log-group" | "flow-log-role" | "vpc-flow-log" => "network.flow_logs",
        "ecs-tasks-sg" => "ecs.container_port",
        "db-sg" => "database.port",
        "stream" => "kinesis",
        "db-credentials" | "db-credentials-endpoint" | "db-subnet-group" | "database" => "database",
        "db-parameter-group" => "database.force_ssl",
        "ecs-log-group" => "logs.retention_days",
        "ecs-execution-role" | "ecs-task-role" | "cluster" | "task-definition" | "service" => "ecs",
        id if id.starts_with("nat-") => "network.nat_gateways",
        id if id.starts_with("private-route-table") => "network.nat_gateways",
        _ => "",
    };
    section.to_string()
}

impl NodeOps for Kind {
    fn label(&self) -> &'static str {
        Kind::label(self)
    }
    fn inspect<'a>(&'a self, ctx: &'a Ctx, id: &'a str) -> BoxFuture<'a, Result<Found>> {
        Box::pin(Kind::inspect(self, ctx, id))
    }
    fn apply<'a>(&'a self, ctx: &'a Ctx, id: &'a str, found: &'a Found) -> BoxFuture<'a, Result<Attrs>> {
        Box::pin(Kind::apply(self, ctx, id, found))
    }
    fn delete<'a>(&'a self, ctx: &'a Ctx, id: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(Kind::delete(self, ctx, id))
    }
}

impl Kind {
    pub fn label(&self) -> &'static str {
        match self {
            Kind::Vpc => "ec2:vpc",
            Kind::InternetGateway => "ec2:internet-gateway",
            Kind::Subnet { .. } => "ec2:subnet",
            Kind::Nat { .. } => "ec2:nat-gateway",
            Kind::PublicRoutes | Kind::PrivateRoutes { .. } => "ec2:route-table",
            Kind::LogGroup(_) => "logs:log-group",
            Kind::Role(_) => "iam:role",
            Kind::FlowLog => "ec2:flow-log",
            Kind::SecurityGroup(_) | Kind::DefaultSecurityGroup => "ec2:security-group",
            Kind::Stream => "kinesis:stream",
            Kind::DbSecret => "secretsmanager:secret",
            Kind::DbSubnetGroup => "rds:subnet-group",
            Kind::DbParameterGroup => "rds:parameter-group",
            Kind::Database => "rds:db-instance",
            Kind::DbSecretEndpoint => "secretsmanager:secret-value",
            Kind::Cluster => "ecs:cluster",
            Kind::TaskDefinition => "ecs:task-definition",
            Kind::Service => "ecs:service",
        }
    }

    pub async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        match *self {
            Kind::Vpc => network::inspect_vpc(ctx, id).await,
            Kind::InternetGateway => network::inspect_igw(ctx, id).await,
            Kind::Subnet { public, index } => network::inspect_subnet(ctx, id, public, index).await,
            Kind::Nat { index } => network::inspect_nat(ctx, id, index).await,
            Kind::PublicRoutes => network::inspect_routes(ctx, id, None).await,
            Kind::PrivateRoutes { index } => network::inspect_routes(ctx, id, Some(index)).await,
            Kind::LogGroup(p) => logs::inspect(ctx, id, p).await,
            Kind::Role(r) => iam::inspect(ctx, id, r).await,
            Kind::FlowLog => network::inspect_flow_log(ctx, id).await,
            Kind::SecurityGroup(k) => network::inspect_sg(ctx, id, k).await,
            Kind::DefaultSecurityGroup => network::inspect_default_sg(ctx, id).await,
            Kind::Stream => data::inspect_stream(ctx, id).await,
            Kind::DbSecret => data::inspect_secret(ctx, id).await,
            Kind::DbSubnetGroup => data::inspect_subnet_group(ctx, id).await,
            Kind::DbParameterGroup => data::inspect_parameter_group(ctx, id).await,
            Kind::Database => data::inspect_database(ctx, id).await,
            Kind::DbSecretEndpoint => data::inspect_secret_endpoint(ctx).await,
            Kind::Cluster => compute::inspect_cluster(ctx, id).await,
            Kind::TaskDefinition => compute::inspect_task_definition(ctx, id).await,
            Kind::Service => compute::inspect_service(ctx, id).await,
        }
    }

    /// Create the resource (`found` is Absent) or converge its settings (Present with changes).
    pub async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        match *self {
            Kind::Vpc => network::apply_vpc(ctx, id, found).await,
            Kind::InternetGateway => network::apply_igw(ctx, id, found).await,
            Kind::Subnet { public, index } => network::apply_subnet(ctx, id, public, index, found).await,
            Kind::Nat { index } => network::apply_nat(ctx, id, index, found).await,
            Kind::PublicRoutes => network::apply_routes(ctx, id, None, found).await,
            Kind::PrivateRoutes { index } => network::apply_routes(ctx, id, Some(index), found).await,
            Kind::LogGroup(p) => logs::apply(ctx, id, p, found).await,
            Kind::Role(r) => iam::apply(ctx, id, r, found).await,
            Kind::FlowLog => network::apply_flow_log(ctx, id, found).await,
            Kind::SecurityGroup(k) => network::apply_sg(ctx, id, k, found).await,
            Kind::DefaultSecurityGroup => network::apply_default_sg(ctx, id).await,
            Kind::Stream => data::apply_stream(ctx, id, found).await,
            Kind::DbSecret => data::apply_secret(ctx, id, found).await,
            Kind::DbSubnetGroup => data::apply_subnet_group(ctx, id, found).await,
            Kind::DbParameterGroup => data::apply_parameter_group(ctx, id, found).await,
            Kind::Database => data::apply_database(ctx, id, found).await,
            Kind::DbSecretEndpoint => data::apply_secret_endpoint(ctx).await,
            Kind::Cluster => compute::apply_cluster(ctx, id, found).await,
            Kind::TaskDefinition => compute::apply_task_definition(ctx, id, found).await,
            Kind::Service => compute::apply_service(ctx, id, found).await,
        }
    }

    /// Delete this stack's resource if it exists; returns its physical id when deleted.
    pub async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        match *self {
            Kind::Vpc => network::delete_vpc(ctx, id).await,
            Kind::InternetGateway => network::delete_igw(ctx, id).await,
            Kind::Subnet { .. } => network::delete_subnet(ctx, id).await,
            Kind::Nat { .. } => network::delete_nat(ctx, id).await,
            Kind::PublicRoutes | Kind::PrivateRoutes { .. } => network::delete_routes(ctx, id).await,
            Kind::LogGroup(p) => logs::delete(ctx, id, p).await,
            Kind::Role(r) => iam::delete(ctx, id, r).await,
            Kind::FlowLog => network::delete_flow_log(ctx, id).await,
            Kind::SecurityGroup(k) => network::delete_sg(ctx, id, k).await,
            // deleted with its VPC
            Kind::DefaultSecurityGroup => Ok(None),
            Kind::Stream => data::delete_stream(ctx, id).await,
            Kind::DbSecret => data::delete_secret(ctx, id).await,
            Kind::DbSubnetGroup => data::delete_subnet_group(ctx, id).await,
            Kind::DbParameterGroup => data::delete_parameter_group(ctx, id).await,
            Kind::Database => data::delete_database(ctx, id).await,
            Kind::DbSecretEndpoint => Ok(None),
            Kind::Cluster => compute::delete_cluster(ctx, id).await,
            Kind::TaskDefinition => compute::delete_task_definition(ctx, id).await,
            Kind::Service => compute::delete_service(ctx, id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::graph::check_acyclic;

    #[test]
    fn default_stack_graph_is_acyclic_and_complete() {
        let stack = crate::spec::load(std::path::Path::new("stacks/dev.toml")).unwrap();
        let nodes = nodes(&stack);
        let edges = nodes.iter().map(|n| (n.id.clone(), n.deps.clone())).collect();
        let order = check_acyclic(&edges).unwrap();
        assert_eq!(order.len(), nodes.len());
        for id in ["data-key", "vpc", "nat-gateway-1", "database", "service", "ingest-api-stage", "vpc-flow-log"] {
            assert!(order.iter().any(|o| o == id), "{id} missing");
        }
        let ids: std::collections::BTreeSet<_> = nodes.iter().map(|n| &n.id).collect();
        assert_eq!(ids.len(), nodes.len(), "logical ids are unique");
    }
}
