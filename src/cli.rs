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
    /// No progress and no informational lines on stderr (errors still go there); stdout is the
    /// same as without it.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
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
    /// Attempts per AWS call. Reads are retried, with exponential backoff and jitter, on
    /// throttling, 5xx, resets, timeouts and truncated or unparseable answers; 8 attempts keep a
    /// scan's verdicts unchanged even when a third of all calls fail once.
    #[arg(long, global = true, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=20))]
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

/// The stack lock that `provision` and `destroy` take (a log group `/tapaudit/lock/<prefix>`).
#[derive(Debug, Args, Clone)]
pub struct LockArgs {
    /// Seconds to wait for another run of this stack to finish before refusing.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub lock_timeout: u64,
    /// Remove the stack's lock first, whoever holds it (only when that run is dead).
    #[arg(long)]
    pub force_unlock: bool,
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
        /// Refuse a stack file whose desired State fails a control at or above this severity.
        #[arg(long, value_enum, default_value = "high")]
        fail_on: crate::finding::Severity,
        /// Build it anyway.
        #[arg(long)]
        allow_noncompliant: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Print the stack outputs (ids, ARNs, endpoints) of an existing stack.
    Outputs {
        #[command(flatten)]
        stack: StackArg,
        #[arg(long, value_enum, default_value = "table")]
        output: OutputFormat,
    },
    /// Audit live resources (or a snapshot): controls mapped to FedRAMP Moderate, FERPA and LGPD.
    Scan(ScanArgs),
    /// Combine the JSON reports of scans of other accounts (shards of an organization) into one
    /// report, rendered in every format like a scan's, with the verdicts of one scan of them all.
    Merge(MergeArgs),
    /// The control catalogue.
    Controls {
        #[command(subcommand)]
        command: ControlsCommand,
    },
    /// The IAM policies tapaudit needs (JSON on stdout), generated from the operations it calls.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Delete every resource carrying the stack's tag, in reverse dependency order.
    Destroy {
        #[command(flatten)]
        stack: StackArg,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Delete the database without the final snapshot destroy takes by default.
        #[arg(long)]
        skip_final_snapshot: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Print a shell completion script to stdout (`tapaudit completions bash > ...`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, or write one page per command into --out-dir.
    Man {
        /// Write tapaudit.1, tapaudit-scan.1, ... into this directory instead.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Sarif,
    /// One self-contained page (tapaudit.html): summary, findings by control, filters, drift.
    Html,
    /// OSCAL 1.1 assessment results (tapaudit.oscal.json).
    Oscal,
}

#[derive(Debug, Args, Clone)]
pub struct ScanArgs {
    /// Audit the resources of this stack (name → stacks/NAME.toml, or a path). Without it, the
    /// whole account in the selected regions.
    #[arg(long, short = 's')]
    pub stack: Option<String>,
    /// Regions to scan, comma-separated, or `all`: the regions enabled for each account
    /// (default: the stack file's region, else AWS_REGION).
    #[arg(long = "regions", value_delimiter = ',', value_name = "REGION,...|all")]
    pub regions: Vec<String>,
    /// Scan these accounts, each as the role --role-name in it (assumed with your credentials).
    #[arg(long, value_delimiter = ',', value_name = "ID,...", requires = "role_name", conflicts_with_all = ["organization", "role_arn", "from_snapshot", "desired"])]
    pub accounts: Vec<String>,
    /// Scan every active account of the organization (Organizations ListAccounts, from the
    /// management account or a delegated administrator), each as the role --role-name in it.
    #[arg(long, requires = "role_name", conflicts_with_all = ["role_arn", "from_snapshot", "desired"])]
    pub organization: bool,
    /// The role to assume in each account of --accounts / --organization (a read-only role
    /// holding `tapaudit policy scan`; a path is allowed: `audit/tapaudit`).
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,
    /// Scan the account of this role, as this role.
    #[arg(long, value_name = "ARN", conflicts_with_all = ["from_snapshot", "desired"])]
    pub role_arn: Option<String>,
    /// The external id the roles' trust policies require (sts:ExternalId).
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Scan only the K-th of N parts of the accounts (sorted by id), for one CI job of N;
    /// `tapaudit merge` puts the parts' reports together.
    #[arg(long, value_name = "K/N", value_parser = clap::value_parser!(crate::accounts::Shard))]
    pub shard: Option<crate::accounts::Shard>,
    /// Frameworks to evaluate (default: the stack file's, else all).
    #[arg(long = "framework", value_delimiter = ',', value_name = "ID,...")]
    pub frameworks: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Write the collected State to this file (versioned JSON).
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<std::path::PathBuf>,
    /// Evaluate a saved State instead of reading AWS (no AWS access).
    #[arg(long, value_name = "FILE", conflicts_with = "save_snapshot")]
    pub from_snapshot: Option<std::path::PathBuf>,
    /// A previous JSON report: mark findings new / unchanged / absent (fixed).
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<std::path::PathBuf>,
    /// With --baseline: exit 1 only for failing findings that are new.
    #[arg(long, requires = "baseline")]
    pub fail_on_new: bool,
    /// Check the stack file's desired State before deployment (no AWS access; needs --stack).
    #[arg(long, requires = "stack", conflicts_with_all = ["from_snapshot", "save_snapshot"])]
    pub desired: bool,
}

/// How reports are written, printed and judged (`scan`, `merge`).
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// Report formats: the table goes to stdout, every format is written under --output-dir.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "table,json,sarif")]
    pub format: Vec<ReportFormat>,
    /// Where report files go (default: reports/<stack>, reports/account-<id>, reports/accounts
    /// or reports/organization; for merge reports/merged).
    #[arg(long)]
    pub output_dir: Option<std::path::PathBuf>,
    /// Exit 1 when a failing finding has at least this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: crate::finding::Severity,
    /// Terminal width for the table (default: the terminal's, else 120).
    #[arg(long)]
    pub width: Option<u16>,
    /// Above this many failing and errored findings the printed table summarises them (per
    /// control, the most severe resources) and names the files with the full list.
    #[arg(long, value_name = "N", default_value_t = crate::report::table::DEFAULT_MAX_ROWS)]
    pub max_rows: usize,
}

#[derive(Debug, Args, Clone)]
pub struct MergeArgs {
    /// JSON reports (`tapaudit.json`) of scans of the same frameworks, each account in one only.
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// The policy of the runner of a multi-account scan (`scan --accounts/--organization`): to
    /// assume the audit role in each account, and to list the organization's accounts.
    Orchestrate(OrchestrateArgs),
    /// The read-only policy `scan` needs: exactly the read actions its collectors call.
    Scan {
        #[command(flatten)]
        split: SplitArg,
    },
    /// The policy `provision` and `destroy` of one stack need, scoped to the stack's names and
    /// tags (no AWS access).
    Provision {
        #[command(flatten)]
        stack: StackArg,
        /// Account id for the ARNs (default: any account, `*`).
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        #[command(flatten)]
        split: SplitArg,
    },
}

#[derive(Debug, Args, Clone)]
pub struct OrchestrateArgs {
    /// The audit role's name in every account (as for `scan --role-name`).
    #[arg(long, value_name = "NAME")]
    pub role_name: String,
    /// Only these accounts' roles (default: the role of that name in any account).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub accounts: Vec<String>,
    /// Also list the organization's accounts (`scan --organization`).
    #[arg(long)]
    pub organization: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SplitArg {
    /// Print a JSON array of policy documents, each within IAM's 6,144-character limit of a
    /// managed policy (attach them all).
    #[arg(long)]
    pub split: bool,
}

#[derive(Debug, Subcommand)]
pub enum ControlsCommand {
    /// List the controls (optionally only those mapped to one framework).
    List {
        #[arg(long)]
        framework: Option<String>,
    },
    /// Show one control: rationale, remediation, framework requirements.
    Show { id: String },
    /// Per family, which requirements of a framework's baseline tapaudit checks automatically
    /// (and with which controls) and which need manual evidence.
    Coverage {
        #[arg(long, default_value = "fedramp-moderate")]
        framework: String,
        /// table or json
        #[arg(long, default_value = "table")]
        output: String,
    },
}
