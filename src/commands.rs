//! The CLI's commands: load the stack, connect, run, print. Results go to stdout, progress
//! and logs to stderr.

use crate::aws::{self, Clients};
use crate::cli::{AwsArgs, Cli, Command, LockArgs, OutputFormat};
use crate::console::{aws_options, load_stack, table};
use crate::error::{Error, Result};
use crate::progress::{self, Progress};
use crate::provision::lock::{LockOptions, StackLock};
use crate::provision::{self, Action, Ctx, RunSummary};
use crate::spec::Stack;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// The progress display the CLI's flags ask for: live on a terminal, plain lines otherwise,
/// nothing with --quiet.
pub fn progress_for(cli: &Cli) -> Progress {
    Progress::new(progress::Mode::choose(cli.quiet, std::io::stderr().is_terminal()))
}

pub async fn run(cli: Cli) -> Result<u8> {
    let progress = progress_for(&cli);
    run_with(cli, &progress).await
}

/// `run` with the progress handle the caller made (main shares it with the log lines).
pub async fn run_with(cli: Cli, progress: &Progress) -> Result<u8> {
    let aws_args = cli.aws.clone();
    match cli.command {
        Command::Validate { stack } => {
            let s = load_stack(&stack.stack)?;
            println!(
                "{}: ok: stack {} ({} logical resources, frameworks: {})",
                s.source.path,
                s.name,
                provision::nodes(&s).len(),
                s.spec.frameworks.join(", ")
            );
            Ok(0)
        }
        Command::Plan { stack, output } => {
            let ctx = Arc::new(connect(&aws_args, &load_stack(&stack.stack)?).await?);
            let summary = provision::plan(ctx, aws_args.concurrency as usize).await?;
            match output {
                OutputFormat::Json => println!("{}", to_json(&json!({"stack": summary.stack, "plan": summary.steps}))),
                OutputFormat::Table => print_plan(&summary),
            }
            Ok(0)
        }
        Command::Provision { stack, output, fail_on, allow_noncompliant, lock } => {
            let s = load_stack(&stack.stack)?;
            let failing = crate::scan::desired_failures(&s, fail_on)?;
            if !failing.is_empty() {
                for f in &failing {
                    let line = f.location.as_ref().map(|l| l.line).unwrap_or(1);
                    eprintln!("{}:{line}: {} {}: {}", s.source.path, f.severity.as_str(), f.control_id, f.message);
                }
                if !allow_noncompliant {
                    return Err(Error::usage(format!(
                        "{}: the stack file fails {} control(s) at or above {} before deployment; fix it or pass --allow-noncompliant",
                        s.source.path,
                        failing.len(),
                        fail_on.as_str()
                    )));
                }
                progress.note("provisioning anyway (--allow-noncompliant)");
            }
            let ctx = Arc::new(connect(&aws_args, &s).await?);
            let held = take_lock(&ctx, "provision", &lock).await?;
            ctx.attach_lock(&held);
            progress.note(&format!("provisioning stack {} in {} ({})", s.name, ctx.region, ctx.clients.endpoint));
            let concurrency = aws_args.concurrency as usize;
            let work = async {
                provision::preflight(ctx.clone(), concurrency).await?;
                Ok(provision::apply(ctx.clone(), concurrency, &progress).await)
            };
            let Some(summary) = locked(held, work).await? else {
                eprintln!("provision of {} stopped; run provision again to resume without duplicates", s.name);
                return Ok(INTERRUPTED);
            };
            let outputs = stack_outputs(&ctx);
            progress.finish();
            report_run(&summary, "provision", &progress);
            match output {
                OutputFormat::Json => println!("{}", to_json(&json!({"stack": summary.stack, "outputs": outputs, "steps": summary.steps}))),
                OutputFormat::Table => print_outputs(&outputs),
            }
            Ok(if summary.failed().is_empty() && summary.blocked.is_empty() { 0 } else { 1 })
        }
        Command::Outputs { stack, output } => {
            let ctx = Arc::new(connect(&aws_args, &load_stack(&stack.stack)?).await?);
            let summary = provision::plan(ctx.clone(), aws_args.concurrency as usize).await?;
            let missing: Vec<&str> = summary.steps.iter().filter(|s| s.action == Action::Create).map(|s| s.logical_id.as_str()).collect();
            let outputs = stack_outputs(&ctx);
            match output {
                OutputFormat::Json => println!("{}", to_json(&json!({"stack": summary.stack, "outputs": outputs, "missing": missing}))),
                OutputFormat::Table => print_outputs(&outputs),
            }
            if !missing.is_empty() {
                eprintln!("tapaudit: {} resource(s) of the stack do not exist: {}", missing.len(), missing.join(", "));
                return Ok(1);
            }
            Ok(0)
        }
        Command::Scan(args) => crate::scan::run(&aws_args, &args, &progress).await,
        Command::Merge(args) => crate::scan_accounts::merge_command(&args, &progress),
        Command::Controls { command } => crate::scan::controls(command),
        Command::Policy { command } => policy(command, &aws_args),
        Command::Destroy { stack, yes, skip_final_snapshot, lock } => {
            let s = load_stack(&stack.stack)?;
            let mut ctx = connect(&aws_args, &s).await?;
            ctx.final_snapshot = !skip_final_snapshot;
            if !yes {
                confirm_destroy(&s, &ctx)?;
            }
            let ctx = Arc::new(ctx);
            let held = take_lock(&ctx, "destroy", &lock).await?;
            progress.note(&format!("destroying stack {} in {} ({})", s.name, ctx.region, ctx.clients.endpoint));
            let work = async { Ok(provision::destroy(ctx.clone(), aws_args.concurrency as usize, &progress).await) };
            let Some(summary) = locked(held, work).await? else {
                eprintln!("destroy of {} stopped; run destroy again to finish", s.name);
                return Ok(INTERRUPTED);
            };
            progress.finish();
            report_run(&summary, "destroy", &progress);
            final_snapshot_note(&ctx, &summary);
            Ok(if summary.failed().is_empty() && summary.blocked.is_empty() { 0 } else { 1 })
        }
        Command::Completions { shell } => print_bytes(&crate::docs::completions(shell)),
        Command::Man { out_dir: None } => print_bytes(&crate::docs::man_page()),
        Command::Man { out_dir: Some(dir) } => {
            let written = crate::docs::man_pages(&dir)?;
            progress.note(&format!("man pages written: {}", written.join(", ")));
            Ok(0)
        }
    }
}

/// Generated text to stdout; a closed pipe (`| head`) is not an error.
fn print_bytes(bytes: &[u8]) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io { path: "stdout".into(), source: e }),
        _ => Ok(0),
    }
}

/// Exit code of a provision or destroy stopped by SIGINT/SIGTERM (128 + SIGINT).
const INTERRUPTED: u8 = 130;

async fn take_lock(ctx: &Ctx, command: &str, args: &LockArgs) -> Result<StackLock> {
    let opts = LockOptions { wait: std::time::Duration::from_secs(args.lock_timeout), force_unlock: args.force_unlock };
    StackLock::acquire(&ctx.clients, &ctx.stack, &ctx.caller, command, &opts).await
}

/// Run `work` holding `lock`, and release the lock at the end: after success, after a failure,
/// and on SIGINT/SIGTERM (then the work is dropped mid-flight and `Ok(None)` comes back).
async fn locked<T>(lock: StackLock, work: impl std::future::Future<Output = Result<T>>) -> Result<Option<T>> {
    let out = tokio::select! {
        r = work => Some(r),
        why = interrupted() => {
            eprintln!("tapaudit: {why}: stopping and releasing the stack lock {}", lock.name);
            None
        }
    };
    let name = lock.name.clone();
    if let Err(e) = lock.release().await {
        eprintln!("tapaudit: could not release the stack lock {name}: {e}; the next run from another host needs --force-unlock");
    }
    out.transpose()
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM; never when no handler can be installed.
async fn interrupted() -> &'static str {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = ctrl_c => "interrupted (SIGINT)",
                _ = term.recv() => "terminated (SIGTERM)",
            };
        }
    }
    ctrl_c.await;
    "interrupted (SIGINT)"
}

/// A final snapshot is encrypted with the stack's key, which destroy schedules for deletion.
fn final_snapshot_note(ctx: &Ctx, summary: &RunSummary) {
    let snaps: Vec<String> = ctx.outputs().values().filter_map(|a| a.get("final_snapshot").cloned()).collect();
    let Some(snap) = (!snaps.is_empty()).then(|| snaps.join(", ")) else { return };
    let key = summary.steps.iter().find(|s| s.kind == "kms:key" && s.action == Action::Delete).and_then(|s| s.physical_id.clone());
    let window = ctx.stack.spec.keys.values().map(|k| k.deletion_window_days).min().unwrap_or(7);
    match key {
        Some(key) => eprintln!(
            "note: final snapshot {snap} is encrypted with KMS key {key}, which this destroy scheduled for deletion in {window} days: \
             to keep the snapshot restorable, cancel that deletion (kms CancelKeyDeletion) or copy the snapshot with another key before then"
        ),
        None => eprintln!("note: final snapshot {snap} is kept; it is encrypted with the stack's KMS key"),
    }
}

/// Load AWS config (region: --region, else the stack file's, else the environment/profile),
/// check who we are, discover the zones.
async fn connect(args: &AwsArgs, stack: &Stack) -> Result<Ctx> {
    let mut opts = aws_options(args);
    if opts.region.is_none() {
        opts.region = stack.spec.region.clone();
    }
    let cfg = aws::load_config(&opts, None).await;
    let clients = Clients::provisioning(&cfg);
    let ident = aws::identity(&clients).await?;
    tracing::debug!("account {} as {} in {}", ident.account, ident.arn, clients.region);
    Ctx::new(clients, stack.clone(), ident).await
}

/// `tapaudit policy scan|provision`: the generated policy on stdout.
fn policy(cmd: crate::cli::PolicyCommand, aws: &AwsArgs) -> Result<u8> {
    use crate::permissions::{policy_size, split as split_policy, INLINE_ROLE_LIMIT, MANAGED_POLICY_LIMIT};
    let (doc, split) = match cmd {
        crate::cli::PolicyCommand::Scan { split } => (crate::permissions::scan_policy(), split.split),
        crate::cli::PolicyCommand::Orchestrate(o) => {
            let accounts = if o.accounts.is_empty() { vec![] } else { crate::accounts::parse_accounts(&o.accounts)? };
            (crate::permissions::orchestrate_policy(&o.role_name, &accounts, o.organization), false)
        }
        crate::cli::PolicyCommand::Provision { stack, account, split } => {
            let s = load_stack(&stack.stack)?;
            let account = account.unwrap_or_else(|| "*".to_string());
            if account != "*" && !(account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())) {
                return Err(Error::usage(format!("--account {account}: an AWS account id is 12 digits")));
            }
            let region = aws
                .region
                .clone()
                .or_else(|| s.spec.region.clone())
                .ok_or_else(|| Error::usage(format!("{}: the stack file names no region; pass --region", s.source.path)))?;
            let nodes = provision::nodes(&s);
            let services = crate::permissions::services_of(nodes.iter().map(|n| n.kind.label()));
            (crate::permissions::provision_policy(&crate::permissions::Place { stack: &s.id, region: &region, account: &account, services }), split.split)
        }
    };
    if split {
        println!("{}", to_json(&serde_json::Value::Array(split_policy(&doc, MANAGED_POLICY_LIMIT))));
    } else {
        let size = policy_size(&doc);
        if size > MANAGED_POLICY_LIMIT {
            let inline = if size <= INLINE_ROLE_LIMIT { "attach it inline (10,240 per role) or " } else { "" };
            eprintln!("note: this policy has {size} characters, more than one managed policy holds ({MANAGED_POLICY_LIMIT}); {inline}print it with --split as managed policies");
        }
        println!("{}", to_json(&doc));
    }
    Ok(0)
}

fn confirm_destroy(stack: &Stack, ctx: &Ctx) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage(format!("refusing to destroy stack {} without confirmation: stdin is not a terminal; pass --yes", stack.name)));
    }
    let db = if ctx.final_snapshot { "the database (a final snapshot is kept)" } else { "the database, without a final snapshot" };
    eprint!(
        "This deletes every resource of stack {} (tag tapaudit:stack={}) in {}, including {db}. Type the stack name to confirm: ",
        stack.name, stack.name, ctx.region
    );
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|e| Error::usage(format!("cannot read confirmation: {e}")))?;
    if answer.trim() != stack.name {
        return Err(Error::usage("destroy cancelled"));
    }
    Ok(())
}

fn to_json(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn print_plan(summary: &RunSummary) {
    let mut t = table();
    t.set_header(vec!["logical id", "type", "action", "physical id", "changes"]);
    for s in &summary.steps {
        let changes: Vec<String> = s.changes.iter().map(|c| format!("{}: {} → {}", c.field, c.got, c.want)).collect();
        t.add_row(vec![s.logical_id.clone(), s.kind.clone(), s.action.as_str().to_string(), s.physical_id.clone().unwrap_or_default(), changes.join("\n")]);
    }
    println!("{t}");
    println!(
        "plan for stack {}: {} to create, {} to update, {} unchanged",
        summary.stack,
        summary.count(Action::Create),
        summary.count(Action::Update),
        summary.count(Action::Unchanged)
    );
}

/// Summary on stderr (a note: not with --quiet); on failure, what failed, what never ran, and
/// what exists so far (always).
fn report_run(summary: &RunSummary, verb: &str, progress: &Progress) {
    let failed = summary.failed();
    progress.note(&format!(
        "{verb} {}: {} created, {} updated, {} unchanged, {} deleted, {} failed, {} not started",
        summary.stack,
        summary.count(Action::Create),
        summary.count(Action::Update),
        summary.count(Action::Unchanged),
        summary.count(Action::Delete),
        failed.len(),
        summary.blocked.len()
    ));
    if failed.is_empty() && summary.blocked.is_empty() {
        return;
    }
    for s in &failed {
        eprintln!("  failed: {}: {}", s.logical_id, s.error.as_deref().unwrap_or_default());
    }
    if !summary.blocked.is_empty() {
        eprintln!("  not started (a dependency failed): {}", summary.blocked.join(", "));
    }
    if verb == "provision" {
        let existing: Vec<String> =
            summary.steps.iter().filter(|s| s.error.is_none()).map(|s| format!("{} ({})", s.logical_id, s.physical_id.as_deref().unwrap_or("-"))).collect();
        eprintln!("  exist so far: {}", if existing.is_empty() { "none".to_string() } else { existing.join(", ") });
        eprintln!("  fix the cause and run provision again: it resumes without duplicates");
    }
}

/// The stack outputs: ids, ARNs and endpoints downstream automation needs.
pub fn stack_outputs(ctx: &Ctx) -> BTreeMap<String, serde_json::Value> {
    let outs = ctx.outputs();
    let get = |node: &str, key: &str| outs.get(node).and_then(|a| a.get(key)).cloned();
    let list = |prefix: &str| -> Vec<String> {
        let mut ids: Vec<(String, String)> =
            outs.iter().filter(|(k, _)| k.starts_with(prefix)).filter_map(|(k, a)| a.get("id").map(|id| (k.clone(), id.clone()))).collect();
        ids.sort();
        ids.into_iter().map(|(_, id)| id).collect()
    };
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            m.insert(k.to_string(), json!(v));
        }
    };
    put("vpc_id", get("vpc", "id"));
    put("kms_key_id", get("data-key", "id"));
    put("kms_key_arn", get("data-key", "arn"));
    put("kms_key_alias", get("data-key-alias", "name"));
    put("stream_name", get("stream", "name"));
    put("stream_arn", get("stream", "arn"));
    // the first database's (its `[databases.<id>]` outputs name each one)
    let db = crate::components::database::first_database(&ctx.stack).unwrap_or_default();
    put("db_instance_id", get(&db, "id"));
    put("db_endpoint", get(&db, "endpoint"));
    put("db_port", get(&db, "port"));
    put("db_arn", get(&db, "arn"));
    put("db_secret_arn", get(&db, "secret_arn"));
    let api = ctx.stack.spec.apis.keys().next().cloned().unwrap_or_default();
    put("api_id", get(&api, "id"));
    put("api_url", get(&format!("{api}-stage"), "url"));
    put("api_log_group", get(&format!("{api}-logs"), "name"));
    // each component's own outputs, under their stack-file paths (`services.web.arn`)
    for o in crate::components::outputs(&ctx.stack) {
        put(&o.name, get(&o.node, &o.attr));
    }
    let public = list("public-subnet-");
    let private = list("private-subnet-");
    if !public.is_empty() {
        m.insert("public_subnet_ids".into(), json!(public));
    }
    if !private.is_empty() {
        m.insert("private_subnet_ids".into(), json!(private));
    }
    m
}

fn print_outputs(outputs: &BTreeMap<String, serde_json::Value>) {
    let mut t = table();
    t.set_header(vec!["output", "value"]);
    for (k, v) in outputs {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
        };
        t.add_row(vec![k.clone(), v]);
    }
    println!("{t}");
}
