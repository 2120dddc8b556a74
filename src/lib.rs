//! tapaudit: provision hardened AWS data pipelines from a stack file and audit them.
//! See ../shared/design.md for the layout; `run` is the CLI's entry point.

pub mod accounts;
pub mod aws;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod components;
pub mod console;
pub mod controls;
pub mod docs;
pub mod drift;
pub mod error;
pub mod finding;
pub mod model;
pub mod permissions;
pub mod progress;
pub mod provision;
pub mod report;
pub mod scan;
pub mod scan_accounts;
pub mod semantics;
pub mod spec;
pub mod suppress;
pub mod timings;
pub mod vocab;

pub use commands::run;

#[cfg(test)]
mod fuzz_tests;
