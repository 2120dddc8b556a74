//! What every command shares, below both `commands` (the dispatcher) and `scan`: the stack file
//! named on the command line, AWS options from the global flags, and the table style of plain
//! listings. Imports no command module, so the commands do not import each other.

use crate::aws::AwsOptions;
use crate::cli::AwsArgs;
use crate::error::Result;
use crate::spec::{self, Stack};
use comfy_table::{presets, ContentArrangement, Table};
use std::io::IsTerminal;

/// The stack file a `--stack` argument names (a path, or a name under `stacks/`).
pub fn load_stack(stack: &str) -> Result<Stack> {
    spec::load(&spec::resolve_path(stack))
}

pub fn aws_options(args: &AwsArgs) -> AwsOptions {
    AwsOptions {
        region: args.region.clone(),
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
        max_attempts: args.max_attempts,
        attempt_timeout_secs: args.timeout,
        credentials: None,
    }
}

/// A table for the terminal (plain when NO_COLOR is set or stdout is not a terminal).
pub fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    if std::env::var_os("NO_COLOR").is_some() || !std::io::stdout().is_terminal() {
        t.force_no_tty();
    }
    t
}
