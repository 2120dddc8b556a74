//! `scan --accounts / --organization / --role-arn`: several accounts in one run, and
//! `tapaudit merge`.
//!
//! Each account is scanned as the audit role assumed in it, concurrently (at most
//! [`ACCOUNTS_AT_ONCE`] at a time, all under one budget of `--concurrency` calls in flight), and
//! gets a report of its own under `<output-dir>/accounts/<id>/`. The report at `<output-dir>`
//! merges them (`report::merge`), and its exit code is the run's. An account whose role cannot
//! be assumed, or whose identity check fails, is a failed account: a collection error naming the
//! role and the cause, so the run is incomplete (exit 2), never a silent gap.

use crate::accounts::{self, Target};
use crate::cli::{AwsArgs, MergeArgs, ScanArgs};
use crate::collect::{self, CollectionError, CollectionStats, Options, Scope as CollectScope};
use crate::controls::Catalogue;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::report::merge::{merge, AccountResult};
use crate::report::{Report, Scope, Source};
use crate::scan::now;
use crate::spec::Stack;
use aws_config::SdkConfig;
use futures::stream::{self, StreamExt};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Accounts collected at the same time. Their calls share one budget; this bounds how many
/// accounts' States are held in memory at once.
pub const ACCOUNTS_AT_ONCE: usize = 4;

/// Everything one account's scan needs besides its target.
struct Run<'a> {
    base: SdkConfig,
    aws: crate::aws::AwsOptions,
    regions: Vec<String>,
    args: &'a ScanArgs,
    stack: Option<&'a Stack>,
    cat: &'a Catalogue,
    frameworks: &'a [String],
    budget: Arc<Semaphore>,
    concurrency: usize,
    progress: &'a Progress,
}

pub async fn run(
    aws: &AwsArgs,
    args: &ScanArgs,
    progress: &Progress,
    cat: &Catalogue,
    stack: Option<&Stack>,
    frameworks: &[String],
    started: String,
) -> Result<u8> {
    if args.save_snapshot.is_some() {
        return Err(Error::usage("--save-snapshot saves one account's State: scan the accounts one at a time to save theirs"));
    }
    let (regions, aws_opts) = crate::scan::live_target(aws, args, stack);
    let base = crate::aws::load_config(&aws_opts, None).await;
    let (targets, skipped) = targets(args, &base).await?;
    let run = Run {
        base,
        aws: aws_opts,
        regions,
        args,
        stack,
        cat,
        frameworks,
        budget: Arc::new(Semaphore::new(aws.concurrency.max(1) as usize)),
        concurrency: aws.concurrency.max(1) as usize,
        progress,
    };
    let out_dir = args.report.output_dir.clone().unwrap_or_else(|| Path::new("reports").join(if args.organization { "organization" } else { "accounts" }));
    progress.note(&format!("scanning {} account(s){}", targets.len(), if skipped.is_empty() { String::new() } else { format!(", {} skipped", skipped.len()) }));
    let reports: Vec<Result<Report>> = stream::iter(targets.iter().map(|t| scan_account(&run, t, &out_dir))).buffer_unordered(ACCOUNTS_AT_ONCE).collect().await;
    let mut parts = Vec::new();
    for r in reports {
        let r = r?;
        let label = format!("account {}", r.scope.account.clone().unwrap_or_default());
        parts.push((label, r));
    }
    let skipped: Vec<AccountResult> = skipped.iter().map(|s| AccountResult::skipped(&s.account, &s.reason)).collect();
    let mut merged = merge(cat, parts, skipped).map_err(Error::usage)?;
    merged.started_at = started;
    let mut args = args.clone();
    args.report.output_dir = Some(out_dir);
    crate::scan::finish_suppressed(cat, merged, &args, progress)
}

/// The accounts to scan (sorted, this shard's) and the organization's accounts skipped.
async fn targets(args: &ScanArgs, base: &SdkConfig) -> Result<(Vec<Target>, Vec<accounts::Skipped>)> {
    if let Some(arn) = &args.role_arn {
        let account = accounts::role_account(arn)?;
        if args.shard.is_some() {
            return Err(Error::usage("--shard splits --accounts or --organization, not one --role-arn"));
        }
        return Ok((vec![Target { account, role_arn: arn.clone() }], vec![]));
    }
    let Some(role) = args.role_name.as_deref() else {
        return Err(Error::usage("--accounts and --organization need --role-name: the role to assume in each account"));
    };
    // the runner's identity: who assumes the roles, and the partition of their ARNs
    let runner = crate::aws::Clients::read_only(base);
    let ident = crate::aws::identity(&runner).await.map_err(|e| Error::Incomplete(Box::new(e)))?;
    let (ids, skipped) = if args.organization {
        let listed = crate::aws::accounts::organization_accounts(base).await.map_err(|e| Error::Incomplete(Box::new(e)))?;
        accounts::from_organization(&listed)
    } else {
        (accounts::parse_accounts(&args.accounts)?, vec![])
    };
    let total = ids.len() + skipped.len();
    let (ids, skipped) = match args.shard {
        None => (ids, skipped),
        Some(sh) => {
            // one split of all the accounts, skipped ones included, so each is in one part only
            let mut all: Vec<(String, Option<String>)> =
                ids.into_iter().map(|a| (a, None)).chain(skipped.into_iter().map(|s| (s.account, Some(s.reason)))).collect();
            all.sort();
            let mine = accounts::shard(&all, sh);
            if mine.is_empty() {
                return Err(Error::usage(format!(
                    "--shard {}/{}: no account in this part ({total} accounts in all): use at most {total} shards",
                    sh.index, sh.count
                )));
            }
            let ids = mine.iter().filter(|(_, r)| r.is_none()).map(|(a, _)| a.clone()).collect();
            let skipped = mine.into_iter().filter_map(|(account, r)| r.map(|reason| accounts::Skipped { account, reason })).collect();
            (ids, skipped)
        }
    };
    if ids.is_empty() && skipped.is_empty() {
        return Err(Error::usage("the organization lists no account"));
    }
    Ok((accounts::targets(&ident.partition, &ids, role), skipped))
}

/// One account: assume its role, collect, evaluate, write its reports; a failure is a report of
/// the failure.
async fn scan_account(run: &Run<'_>, t: &Target, out_dir: &Path) -> Result<Report> {
    let started = now();
    let failed = |e: &Error| failed_report(run, t, e, started.clone());
    let collected = match crate::aws::accounts::assume_role(&run.base, &t.role_arn, run.args.external_id.as_deref()).await {
        Err(e) => Err(e),
        Ok(credentials) => {
            let opts = Options {
                aws: crate::aws::AwsOptions { credentials: Some(credentials), ..run.aws.clone() },
                regions: run.regions.clone(),
                scope: CollectScope { stack: run.stack.map(|s| s.name.clone()) },
                concurrency: run.concurrency,
                progress: run.progress.clone(),
                budget: Some(run.budget.clone()),
            };
            collect::collect(&opts).await.and_then(|c| match c.account.as_deref() {
                Some(a) if a == t.account => Ok(c),
                other => Err(Error::usage(format!("the credentials of {} belong to account {}, not {}", t.role_arn, other.unwrap_or("?"), t.account))),
            })
        }
    };
    let mut report = match collected {
        Err(e) => failed(&e),
        Ok(c) => {
            let findings = crate::scan::evaluate(run.cat, &c.state, run.stack, run.frameworks);
            let scope = Scope {
                stack: run.stack.map(|s| s.name.clone()),
                stack_file: run.stack.map(|s| s.source.path.clone()),
                account: c.account.clone(),
                regions: c.regions.clone(),
                endpoint: c.endpoint.clone(),
                frameworks: run.frameworks.to_vec(),
                source: Source::Live,
            };
            let mut r = Report::new(run.cat, scope, findings, c.errors, c.stats, started, now());
            r.accounts = AccountResult::of(&r, Some(t.role_arn.clone()), false).into_iter().collect();
            r
        }
    };
    if let Some(s) = run.stack {
        crate::scan::apply_suppressions(&mut report, s, run.cat)?;
    }
    let dir = out_dir.join("accounts").join(&t.account);
    crate::scan::write_reports(&report, run.cat, &run.args.report.format, &dir)?;
    Ok(report)
}

/// The report of an account that could not be read at all: no findings, one collection error
/// naming the call, the role and the cause.
fn failed_report(run: &Run<'_>, t: &Target, e: &Error, started: String) -> Report {
    let error = collection_error(e, &t.role_arn, &t.account);
    let regions = run.regions.iter().filter(|r| *r != collect::ALL_REGIONS).cloned().collect();
    let scope = Scope {
        stack: run.stack.map(|s| s.name.clone()),
        stack_file: run.stack.map(|s| s.source.path.clone()),
        account: Some(t.account.clone()),
        regions,
        endpoint: crate::aws::endpoint_label(&run.base),
        frameworks: run.frameworks.to_vec(),
        source: Source::Live,
    };
    let mut r = Report::new(run.cat, scope, vec![], vec![error], CollectionStats::default(), started, now());
    r.accounts = AccountResult::of(&r, Some(t.role_arn.clone()), true).into_iter().collect();
    r
}

/// A run-stopping error of one account as that account's collection error.
fn collection_error(e: &Error, role_arn: &str, account: &str) -> CollectionError {
    match e {
        Error::Incomplete(inner) => collection_error(inner, role_arn, account),
        Error::Aws(a) => {
            let mut message = a.message.clone();
            if let Some(id) = &a.request_id {
                message.push_str(&format!(" [request id {id}]"));
            }
            CollectionError {
                service: a.service.to_string(),
                operation: a.operation.to_string(),
                region: String::new(),
                resource: Some(if a.resource.is_empty() { role_arn.to_string() } else { a.resource.clone() }),
                code: a.code.clone(),
                message,
                account: Some(account.to_string()),
            }
        }
        other => CollectionError {
            service: "sts".into(),
            operation: "AssumeRole".into(),
            region: String::new(),
            resource: Some(role_arn.to_string()),
            code: "AccountUnreadable".into(),
            message: other.to_string(),
            account: Some(account.to_string()),
        },
    }
}

/// `tapaudit merge`: the JSON reports as one, rendered and judged like a scan's.
pub fn merge_command(args: &MergeArgs, progress: &Progress) -> Result<u8> {
    let cat = crate::scan::catalogue()?;
    let mut parts = Vec::new();
    for path in &args.reports {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: label.clone(), source })?;
        let report: Report = serde_json::from_str(&text).map_err(|e| Error::usage(format!("{label}:{}: not a tapaudit JSON report: {e}", e.line())))?;
        parts.push((label, report));
    }
    let merged = merge(&cat, parts, vec![]).map_err(Error::usage)?;
    let how = crate::scan::Emit {
        formats: args.report.format.clone(),
        dir: args.report.output_dir.clone().unwrap_or_else(|| Path::new("reports").join("merged")),
        width: args.report.width,
        max_rows: args.report.max_rows,
    };
    crate::scan::warn_expired(&merged);
    crate::scan::emit(&merged, &cat, &how, progress)?;
    Ok(merged.exit_code(args.report.fail_on))
}
