//! The logical resources of a stack and their dependencies: every node comes from a component
//! (`components::nodes`), and `NodeOps` is what the engine does with one.

use super::{Attrs, Ctx, Found};
use crate::components::Stack;
use crate::error::Result;
use futures::future::BoxFuture;
use std::sync::Arc;

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

pub use crate::components::network::{private_subnet_id, public_subnet_id};

/// Every logical resource of the stack, in a stable order, with its dependencies.
pub fn nodes(stack: &Stack) -> Vec<Node> {
    crate::components::nodes(stack)
}

/// The stack-file table that declares a logical resource (for report locations).
pub fn declared_at(stack: &Stack, logical_id: &str) -> String {
    nodes(stack).into_iter().find(|n| n.id == logical_id).map(|n| n.declared_at).unwrap_or_default()
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
        for id in ["data-key", "vpc", "nat-gateway-1", "db", "db-master-secret", "data-processor", "stream", "ingest-api-stage", "vpc-flow-log"] {
            assert!(order.iter().any(|o| o == id), "{id} missing");
        }
        let ids: std::collections::BTreeSet<_> = nodes.iter().map(|n| &n.id).collect();
        assert_eq!(ids.len(), nodes.len(), "logical ids are unique");
    }
}
