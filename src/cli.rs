//! Command-line types (clap derive only).

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "tapaudit", version, about = "Provision hardened AWS data pipelines and audit them for FedRAMP Moderate, FERPA and LGPD")]
pub struct Cli {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// More logging on stderr (-v, -vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct AwsArgs {
    /// AWS region (default: the stack file's region, then AWS_REGION / the profile).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config (default: AWS_PROFILE, then the default chain).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Endpoint for every service (default: AWS_ENDPOINT_URL, then AWS's own endpoints).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Maximum concurrent AWS operations.
    #[arg(long, global = true, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Attempts per AWS call (retries back off exponentially on throttling and transient errors).
    #[arg(long, global = true, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// Timeout of one attempt of an AWS call, in seconds.
    #[arg(long, global = true, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Args, Clone)]
pub struct StackArg {
    /// Stack name (reads stacks/NAME.toml) or the path of a stack file.
    #[arg(long, short = 's', default_value = "dev")]
    pub stack: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a stack file: parse and validate it, no AWS access.
    Validate {
        #[command(flatten)]
        stack: StackArg,
    },
    /// Show what provision would create, change or leave alone (reads AWS, writes nothing).
    Plan {
        #[command(flatten)]
        stack: StackArg,
        #[arg(long, value_enum, default_value = "table")]
        output: OutputFormat,
    },
    /// Build or converge the stack's resources.
    Provision {
        #[command(flatten)]
        stack: StackArg,
        #[arg(long, value_enum, default_value = "table")]
        output: OutputFormat,
    },
    /// Print the stack outputs (ids, ARNs, endpoints) of an existing stack.
    Outputs {
        #[command(flatten)]
        stack: StackArg,
        #[arg(long, value_enum, default_value = "table")]
        output: OutputFormat,
    },
    /// Delete every resource carrying the stack's tag, in reverse dependency order.
    Destroy {
        #[command(flatten)]
        stack: StackArg,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}
