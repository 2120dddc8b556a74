//! elbv2 controls.

use super::{ControlFn, Params, Verdict};
use crate::model::State;

pub const CONTROLS: &[(&str, ControlFn)] = &[];

#[allow(dead_code)]
fn _unused(_: &State, _: &Params) -> Vec<Verdict> {
    vec![]
}
