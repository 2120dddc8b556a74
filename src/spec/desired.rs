//! The stack file as a desired State: the same types the collectors fill, so the same
//! controls judge a stack file before anything exists, and drift is a diff of two States.
//!
//! Desired resources carry AWS-shaped ids built from their logical ids (`vpc-vpc`,
//! `sg-db-sg`, `igw-internet-gateway`, key id `data-key`), every cross-reference uses those
//! ids, and every resource is tagged like provision tags it. `drift::diff` resolves desired
//! ids to live ones through the `tapaudit:logical-id` tag.

use super::Stack;
use crate::model::State;

pub use crate::components::DESIRED_ACCOUNT;

/// Everything the stack declares, as a State: each component's part.
pub fn desired(stack: &Stack) -> State {
    let mut st = State::default();
    crate::components::desired(stack, &mut st);
    st
}
