//! The logical resources of a stack and their dependencies, and the dispatch from a node
//! kind to its service module.

use super::{compute, data, iam, logs, Attrs, Ctx, Found};
use crate::error::Result;
use crate::spec::Stack;
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
pub enum Kind {
    LogGroup(LogPurpose),
    Role(RoleKind),
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

pub use crate::components::network::{private_subnet_id, public_subnet_id};

/// Every logical resource of the stack, in a stable order, with its dependencies.
pub fn nodes(stack: &Stack) -> Vec<Node> {
    let mut v = crate::components::nodes(stack);
    v.extend(legacy_nodes(stack));
    v
}

fn legacy_nodes(stack: &Stack) -> Vec<Node> {
    let azs = stack.spec.network.az_count;
    // the legacy database and service use the security groups `db-sg` and `ecs-tasks-sg`
    // when the stack declares them
    let sg = |id: &'static str| stack.kind_of(id).is_some_and(|k| k == crate::components::Kind::SecurityGroup).then_some(id);
    let mut v = Vec::new();
    v.push(node("stream", Kind::Stream, &["data-key"]));
    v.push(node("db-credentials", Kind::DbSecret, &["data-key"]));
    let mut sng_deps: Vec<String> = (0..azs).map(private_subnet_id).collect();
    sng_deps.push("vpc".into());
    v.push(node_deps("db-subnet-group", Kind::DbSubnetGroup, sng_deps));
    v.push(node("db-parameter-group", Kind::DbParameterGroup, &[]));
    let mut db_deps: Vec<String> = ["db-subnet-group", "db-parameter-group", "data-key", "db-credentials"].map(String::from).to_vec();
    db_deps.extend(sg("db-sg").map(String::from));
    v.push(node_deps("database", Kind::Database, db_deps));
    v.push(node("db-credentials-endpoint", Kind::DbSecretEndpoint, &["database", "db-credentials"]));
    v.push(node("ecs-log-group", Kind::LogGroup(LogPurpose::Ecs), &["data-key"]));
    v.push(node("ecs-execution-role", Kind::Role(RoleKind::EcsExecution), &[]));
    v.push(node("ecs-task-role", Kind::Role(RoleKind::EcsTask), &["stream", "data-key", "db-credentials"]));
    v.push(node("cluster", Kind::Cluster, &[]));
    v.push(node("task-definition", Kind::TaskDefinition, &["ecs-execution-role", "ecs-task-role", "ecs-log-group", "stream", "db-credentials"]));
    let mut svc_deps: Vec<String> = vec!["cluster".into(), "task-definition".into()];
    svc_deps.extend(sg("ecs-tasks-sg").map(String::from));
    svc_deps.extend((0..azs).map(private_subnet_id));
    v.push(node_deps("service", Kind::Service, svc_deps));
    v
}

/// The stack-file table that declares a logical resource (for report locations).
pub fn declared_at(stack: &Stack, logical_id: &str) -> String {
    nodes(stack).into_iter().find(|n| n.id == logical_id).map(|n| n.declared_at).unwrap_or_default()
}

pub fn legacy_declared_at(logical_id: &str) -> String {
    let section = match logical_id {
        "stream" => "kinesis",
        "db-credentials" | "db-credentials-endpoint" | "db-subnet-group" | "database" => "database",
        "db-parameter-group" => "database.force_ssl",
        "ecs-log-group" => "logs.retention_days",
        "ecs-execution-role" | "ecs-task-role" | "cluster" | "task-definition" | "service" => "ecs",
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
            Kind::LogGroup(_) => "logs:log-group",
            Kind::Role(_) => "iam:role",
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
            Kind::LogGroup(p) => logs::inspect(ctx, id, p).await,
            Kind::Role(r) => iam::inspect(ctx, id, r).await,
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
            Kind::LogGroup(p) => logs::apply(ctx, id, p, found).await,
            Kind::Role(r) => iam::apply(ctx, id, r, found).await,
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
            Kind::LogGroup(p) => logs::delete(ctx, id, p).await,
            Kind::Role(r) => iam::delete(ctx, id, r).await,
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
