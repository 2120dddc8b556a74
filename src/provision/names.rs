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
        LogPurpose::Api => "api-gateway",
        LogPurpose::FlowLogs => "vpc-flow-logs",
    };
    format!("{}{leaf}", log_group_prefix(stack))
}

pub fn rest_api(stack: &Stack) -> String {
    prefixed(stack, "ingest-api")
}

pub fn role(stack: &Stack, kind: RoleKind) -> String {
    let suffix = match kind {
        RoleKind::ApiKinesis => "api-kinesis",
        RoleKind::ApiCloudWatch => "api-cloudwatch",
        RoleKind::FlowLogs => "flow-logs",
    };
    prefixed(stack, suffix)
}

/// The stack lock (see `provision::lock`): outside the stack's log group prefix, untagged by
/// `tapaudit:stack`.
pub fn lock_group(stack: &Stack) -> String {
    format!("/tapaudit/lock/{}", stack.prefix())
}
