//! Names that several layers share: the stack file, provisioning, the collectors, drift and the
//! scan all speak of the same tags, logical ids and definitions. A leaf: it imports nothing from
//! the crate, so any layer may import it without creating a cycle.

/// The tag that places a resource in a stack (`tapaudit:stack=<stack name>`): provisioning
/// writes it, the collectors and `scan --stack` scope by it.
pub const TAG_STACK: &str = "tapaudit:stack";

/// The tag that names a resource's logical id in its stack file (`tapaudit:logical-id=db-key`):
/// provisioning finds resources by it, drift and findings point back at the stack file with it.
pub const TAG_LOGICAL_ID: &str = "tapaudit:logical-id";
