//! Every physical name a stack uses, derived from the stack file alone: provision creates
//! and finds resources by them, and the desired State declares them, so the two never differ.

use super::nodes::{LogPurpose, RoleKind};
use crate::spec::Stack;

/// `<project>-<stack>-<suffix>`
pub fn prefixed(stack: &Stack, suffix: &str) -> String {
    format!("{}-{suffix}", stack.prefix())
}

pub fn key_alias(stack: &Stack) -> String {
    format!("alias/{}", prefixed(stack, "data-key"))
}

/// `/<project>/<stack>/`: every log group of the stack lives under it.
pub fn log_group_prefix(stack: &Stack) -> String {
    format!("/{}/{}/", stack.spec.project, stack.name)
}

pub fn log_group(stack: &Stack, purpose: LogPurpose) -> String {
    let leaf = match purpose {
        LogPurpose::Ecs => "ecs",
        LogPurpose::FlowLogs => "vpc-flow-logs",
    };
    format!("{}{leaf}", log_group_prefix(stack))
}

pub fn stream(stack: &Stack) -> String {
    prefixed(stack, "ingest")
}

pub fn secret(stack: &Stack) -> String {
    prefixed(stack, "db-credentials")
}

pub fn db_subnet_group(stack: &Stack) -> String {
    prefixed(stack, "db-subnets")
}

/// `postgres16`, `aurora-postgresql16`
pub fn parameter_family(stack: &Stack) -> String {
    let major = stack.spec.database.engine_version.split('.').next().unwrap_or("16");
    format!("{}{major}", stack.spec.database.engine.as_str())
}

pub fn parameter_group(stack: &Stack) -> String {
    prefixed(stack, &parameter_family(stack).replace('.', "-"))
}

pub fn db_instance(stack: &Stack) -> String {
    prefixed(stack, "db")
}

pub fn cluster(stack: &Stack) -> String {
    prefixed(stack, "cluster")
}

/// The container, its task definition family and its service share this name.
pub const CONTAINER: &str = "data-processor";

pub fn task_family(stack: &Stack) -> String {
    prefixed(stack, CONTAINER)
}

pub fn service(stack: &Stack) -> String {
    prefixed(stack, CONTAINER)
}

pub fn role(stack: &Stack, kind: RoleKind) -> String {
    let suffix = match kind {
        RoleKind::EcsExecution => "ecs-execution",
        RoleKind::EcsTask => "ecs-task",
        RoleKind::FlowLogs => "flow-logs",
    };
    prefixed(stack, suffix)
}

/// The stack lock (see `provision::lock`): outside the stack's log group prefix, untagged by
/// `tapaudit:stack`.
pub fn lock_group(stack: &Stack) -> String {
    format!("/tapaudit/lock/{}", stack.prefix())
}
