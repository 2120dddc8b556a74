//! `tapaudit scan` and `tapaudit controls`: collect (or load a snapshot), evaluate the
//! catalogue, build one Report, render it.

use crate::cli::{AwsArgs, ControlsCommand, ReportFormat, ScanArgs};
use crate::collect::{self, CollectionStats, Options, Scope as CollectScope};
use crate::console::{aws_options, load_stack, table};
use crate::controls::{self, Catalogue, Selection};
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::model::{Snapshot, SourceRef, SNAPSHOT_VERSION};
use crate::progress::Progress;
use crate::report::{self, Report, Scope, Source};
use crate::spec::Stack;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

pub(crate) fn catalogue() -> Result<Catalogue> {
    Catalogue::load().map_err(|e| Error::usage(format!("internal: control catalogue: {e}")))
}

/// The frameworks to evaluate: --framework, else the stack's, else all; unknown ids refused.
fn frameworks(cat: &Catalogue, args: &ScanArgs, stack: Option<&Stack>) -> Result<Vec<String>> {
    let chosen: Vec<String> = if !args.frameworks.is_empty() {
        args.frameworks.clone()
    } else if let Some(s) = stack {
        s.spec.frameworks.clone()
    } else {
        cat.frameworks.keys().cloned().collect()
    };
    for f in &chosen {
        if !cat.frameworks.contains_key(f) {
            return Err(Error::usage(format!("unknown framework {f:?} (known: {})", cat.framework_ids().join(", "))));
        }
    }
    Ok(chosen)
}

/// `progress` hears each service's calls and end; it is erased before the results print.
pub async fn run(aws: &AwsArgs, args: &ScanArgs, progress: &Progress) -> Result<u8> {
    let started = now();
    let cat = catalogue()?;
    let stack = args.stack.as_deref().map(load_stack).transpose()?;
    let frameworks = frameworks(&cat, args, stack.as_ref())?;
    if args.desired {
        let Some(stack) = &stack else {
            return Err(Error::usage("--desired needs --stack: it checks a stack file before deployment"));
        };
        return check_desired(stack, &cat, &frameworks, args, started, progress);
    }
    let several = !args.accounts.is_empty() || args.organization || args.role_arn.is_some();
    if !several {
        // options of a multi-account scan without one: refused, never silently ignored
        for (given, flag) in [(args.shard.is_some(), "--shard"), (args.role_name.is_some(), "--role-name"), (args.external_id.is_some(), "--external-id")] {
            if given {
                return Err(Error::usage(format!("{flag} needs --accounts, --organization or --role-arn")));
            }
        }
    }
    if several {
        return crate::scan_accounts::run(aws, args, progress, &cat, stack.as_ref(), &frameworks, started).await;
    }
    let (state, mut scope, stats, errors) = match &args.from_snapshot {
        Some(path) => {
            let snap = crate::timings::phase("load", || read_snapshot(path))?;
            let scope = Scope {
                stack: stack.as_ref().map(|s| s.name.clone()).or(snap.stack.clone()),
                stack_file: None,
                account: snap.account.clone(),
                regions: snap.regions.clone(),
                endpoint: format!("snapshot {}", path.display()),
                frameworks: frameworks.clone(),
                source: Source::Snapshot,
            };
            let mut state = snap.state;
            if let Some(s) = &stack {
                // as a stack-scoped collection would have read it (the registry's scoping rules)
                state.retain_stack(&s.name);
            }
            let mut stats = CollectionStats { resources: collect::count_resources(&state), ..Default::default() };
            stats.wall_seconds = 0.0;
            // the collection errors of the run that took the snapshot: an incomplete scan stays
            // incomplete when it is evaluated again
            (state, scope, stats, snap.errors)
        }
        None => {
            let (regions, aws_opts) = live_target(aws, args, stack.as_ref());
            let opts = Options {
                aws: aws_opts,
                regions,
                scope: CollectScope { stack: stack.as_ref().map(|s| s.name.clone()) },
                concurrency: aws.concurrency as usize,
                progress: progress.clone(),
                budget: None,
            };
            let c = collect::collect(&opts).await?;
            if let Some(path) = &args.save_snapshot {
                write_snapshot(path, &c, stack.as_ref().map(|s| s.name.clone()))?;
            }
            let scope = Scope {
                stack: stack.as_ref().map(|s| s.name.clone()),
                stack_file: None,
                account: c.account.clone(),
                regions: c.regions.clone(),
                endpoint: c.endpoint.clone(),
                frameworks: frameworks.clone(),
                source: Source::Live,
            };
            (c.state, scope, c.stats, c.errors)
        }
    };
    scope.stack_file = stack.as_ref().map(|s| s.source.path.clone());
    let findings = crate::timings::phase("evaluate", || evaluate(&cat, &state, stack.as_ref(), &frameworks));
    // the findings own what they say: the State (a third of a large scan's memory) goes before
    // the reports are rendered
    drop(state);
    let report = crate::timings::phase("report", || Report::new(&cat, scope, findings, errors, stats, started, now()));
    finish(&cat, stack.as_ref(), report, args, progress)
}

/// The catalogue's findings on `state`, and with a stack, located on its lines and with drift.
pub(crate) fn evaluate(cat: &Catalogue, state: &crate::model::State, stack: Option<&Stack>, frameworks: &[String]) -> Vec<Finding> {
    let overrides = stack.map(|s| s.spec.parameters.clone()).unwrap_or_default();
    let mut findings = controls::evaluate(cat, state, &Selection { frameworks: frameworks.to_vec(), overrides });
    if let Some(s) = stack {
        locate(&mut findings, s, cat);
        // drift from the same State: no second round of API calls
        let drift = crate::timings::phase("drift", || crate::components::drift(&crate::spec::desired::desired(s), state, s, cat, frameworks));
        findings.extend(drift);
    }
    findings
}

/// The regions to collect and the AWS options of a live scan: `--regions` (or a list in
/// `--region`), else the stack file's region; the client's region is the first of them.
pub(crate) fn live_target(aws: &AwsArgs, args: &ScanArgs, stack: Option<&Stack>) -> (Vec<String>, crate::aws::AwsOptions) {
    let mut regions = args.regions.clone();
    // `--region a,b` (the global flag) works as well as `--regions a,b`
    if regions.is_empty() {
        if let Some(r) = aws.region.as_deref().filter(|r| r.contains(',')) {
            regions = r.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect();
        }
    }
    if regions.is_empty() {
        if let Some(r) = stack.and_then(|s| s.spec.region.clone()) {
            regions.push(r);
        }
    }
    let mut aws_opts = aws_options(aws);
    if aws_opts.region.is_none() || aws_opts.region.as_deref().is_some_and(|r| r.contains(',')) {
        aws_opts.region = regions.first().filter(|r| *r != collect::ALL_REGIONS).cloned();
    }
    (regions, aws_opts)
}

/// Apply suppressions and the baseline, render, and compute the exit code.
fn finish(cat: &Catalogue, stack: Option<&Stack>, mut report: Report, args: &ScanArgs, progress: &Progress) -> Result<u8> {
    if let Some(s) = stack {
        apply_suppressions(&mut report, s, cat)?;
    }
    finish_suppressed(cat, report, args, progress)
}

/// One stderr line per suppression past its expiry.
pub(crate) fn warn_expired(report: &Report) {
    for e in &report.expired_suppressions {
        eprintln!("{}:{}: suppression of {} on {} expired on {}: it no longer applies", e.source.path, e.source.line, e.control, e.resource, e.expired);
    }
}

/// The stack file's suppressions on `report`'s findings (those past their expiry listed).
pub(crate) fn apply_suppressions(report: &mut Report, stack: &Stack, cat: &Catalogue) -> Result<()> {
    let suppressions = crate::suppress::load(stack, cat)?;
    let today = time::OffsetDateTime::now_utc().date();
    report.expired_suppressions = crate::suppress::apply(&mut report.findings, &suppressions, today);
    Ok(())
}

/// `finish` of a report whose suppressions are applied: warn of the expired ones, apply the
/// baseline, render, and compute the exit code.
pub(crate) fn finish_suppressed(cat: &Catalogue, mut report: Report, args: &ScanArgs, progress: &Progress) -> Result<u8> {
    warn_expired(&report);
    if let Some(path) = &args.baseline {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        let previous: Report =
            serde_json::from_str(&text).map_err(|e| Error::usage(format!("{}:{}: not a tapaudit JSON report: {e}", path.display(), e.line())))?;
        report.apply_baseline(&previous);
    }
    emit(&report, cat, &Emit::of(args, &report), progress)?;
    Ok(report.exit_code_with(args.report.fail_on, args.fail_on_new))
}

/// Point each control finding at the stack-file line to fix: the setting the control judges
/// when the resource is the stack's, else the line that declared the resource, else line 1.
fn locate(findings: &mut [Finding], stack: &Stack, cat: &Catalogue) {
    let tables: std::collections::BTreeMap<String, String> = crate::provision::nodes(stack).into_iter().map(|n| (n.id, n.declared_at)).collect();
    for f in findings.iter_mut().filter(|f| f.location.is_none()) {
        let declared = f.resource.logical_id.as_deref().and_then(|l| tables.get(l)).filter(|p| !p.is_empty()).cloned();
        let setting = cat.controls.get(&f.control_id).and_then(|c| c.setting.clone());
        let line = finding_path(stack, declared, setting).map(|p| stack.line_of(&p)).unwrap_or(1);
        f.location = Some(SourceRef { path: stack.source.path.clone(), line });
    }
}

/// The stack-file path a finding points at: the control's setting inside the table that
/// declared the resource when the file sets it there (`keys.data-key` and `kms.rotation` →
/// `keys.data-key.rotation`); else the setting itself when it lies in the declaring section
/// (`db-sg`, declared at `database.port`, judged by `database.allowed_cidrs`); else the
/// declaring path.
fn finding_path(stack: &Stack, declared: Option<String>, setting: Option<String>) -> Option<String> {
    let (Some(table), Some(setting)) = (&declared, &setting) else { return declared };
    let leaf = setting.split_once('.').map(|(_, leaf)| leaf).unwrap_or(setting);
    let inside = format!("{table}.{leaf}");
    if stack.line_of(&inside) != stack.line_of(table) {
        return Some(inside);
    }
    let section = |p: &str| p.split('.').next().unwrap_or(p).to_string();
    if section(setting) == section(table) {
        return Some(setting.clone());
    }
    declared
}

/// `scan --stack X --desired`: the catalogue over the stack file's desired State, no AWS.
fn check_desired(stack: &Stack, cat: &Catalogue, frameworks: &[String], args: &ScanArgs, started: String, progress: &Progress) -> Result<u8> {
    let state = crate::spec::desired::desired(stack);
    let mut findings = controls::evaluate(cat, &state, &Selection { frameworks: frameworks.to_vec(), overrides: stack.spec.parameters.clone() });
    locate(&mut findings, stack, cat);
    let scope = Scope {
        stack: Some(stack.name.clone()),
        stack_file: Some(stack.source.path.clone()),
        account: None,
        regions: stack.spec.region.clone().into_iter().collect(),
        endpoint: "none (stack file only)".into(),
        frameworks: frameworks.to_vec(),
        source: Source::Desired,
    };
    let stats = CollectionStats { resources: collect::count_resources(&state), ..Default::default() };
    finish(cat, Some(stack), Report::new(cat, scope, findings, vec![], stats, started, now()), args, progress)
}

/// Failing findings of the stack file's desired State at or above `fail_on` (for provision).
pub fn desired_failures(stack: &Stack, fail_on: crate::finding::Severity) -> Result<Vec<Finding>> {
    let cat = catalogue()?;
    let state = crate::spec::desired::desired(stack);
    let mut findings = controls::evaluate(&cat, &state, &Selection { frameworks: stack.spec.frameworks.clone(), overrides: stack.spec.parameters.clone() });
    locate(&mut findings, stack, &cat);
    Ok(findings.into_iter().filter(|f| f.status == crate::finding::Status::Fail && f.severity.at_least(fail_on)).collect())
}

fn write_snapshot(path: &Path, c: &collect::Collected, stack: Option<String>) -> Result<()> {
    let snap = Snapshot {
        snapshot_version: SNAPSHOT_VERSION,
        tool: "tapaudit".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        collected_at: now(),
        account: c.account.clone(),
        regions: c.regions.clone(),
        stack,
        services: crate::model::SERVICES.iter().map(|s| s.to_string()).collect(),
        errors: c.errors.clone(),
        state: c.state.clone(),
    };
    let text = serde_json::to_string_pretty(&snap).map_err(|e| Error::usage(format!("cannot serialize the snapshot: {e}")))?;
    write_file(path, &text)
}

/// Load a snapshot; corrupt, incomplete, older or newer files get a one-line error naming the
/// file and the JSON path of what is wrong (`snapshot.json: state.rds: missing`).
pub fn read_snapshot(path: &Path) -> Result<Snapshot> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
    parse_snapshot_bytes(&path.display().to_string(), &bytes)
}

/// The pure part of [`read_snapshot`]: `label` names the file in errors.
pub fn parse_snapshot(label: &str, text: &str) -> Result<Snapshot> {
    parse_snapshot_bytes(label, text.as_bytes())
}

/// [`parse_snapshot`] of the file's bytes. One pass: the text is read straight into the model,
/// strictly ([`crate::model::strict`]: serde reads a missing `Option` field as `None`, and every
/// field the model writes must be in the file, or the snapshot claims "none" where it says
/// nothing). Only when that fails is the file read again, for the error to give: invalid JSON
/// first (with its line), then a missing, older or newer version, then what is wrong.
pub fn parse_snapshot_bytes(label: &str, bytes: &[u8]) -> Result<Snapshot> {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    // the JSON path of an error is tracked only when there is one: tracking costs a copy of
    // every key
    let snap = match Snapshot::deserialize(crate::model::strict::Strict(&mut de)).and_then(|snap| de.end().map(|()| snap)) {
        Ok(snap) => snap,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(invalid_json(label, &e)),
        Err(_) => {
            check_version(label, bytes)?;
            let mut de = serde_json::Deserializer::from_slice(bytes);
            return Err(match serde_path_to_error::deserialize::<_, Snapshot>(crate::model::strict::Strict(&mut de)) {
                Err(e) => Error::usage(format!("{label}: {}", snapshot_problem(&e))),
                Ok(_) => Error::usage(format!("{label}: not a tapaudit snapshot")),
            });
        }
    };
    version_problem(label, Some(snap.snapshot_version as u64))?;
    let services: Vec<&str> = snap.services.iter().map(String::as_str).collect();
    if let Some(missing) = crate::model::SERVICES.iter().find(|s| !services.contains(s)) {
        return Err(Error::usage(format!("{label}: services: {missing} was not collected in this snapshot, so nothing about it is known")));
    }
    Ok(snap)
}

/// For a file the strict read refused: invalid JSON, or a version other than this one's, is
/// the error to give before any detail of its shape.
fn check_version(label: &str, bytes: &[u8]) -> Result<()> {
    #[derive(serde::Deserialize)]
    struct Probe {
        snapshot_version: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Probe>(bytes) {
        Err(e) if e.is_syntax() || e.is_eof() => Err(invalid_json(label, &e)),
        Err(_) => version_problem(label, None),
        Ok(p) => version_problem(label, p.snapshot_version.as_ref().and_then(serde_json::Value::as_u64)),
    }
}

fn invalid_json(label: &str, e: &serde_json::Error) -> Error {
    Error::usage(format!("{label}:{}: not a tapaudit snapshot: invalid JSON: {e}", e.line()))
}

fn version_problem(label: &str, version: Option<u64>) -> Result<()> {
    match version {
        None => Err(Error::usage(format!("{label}: not a tapaudit snapshot (no snapshot_version)"))),
        Some(v) if v > SNAPSHOT_VERSION as u64 => {
            Err(Error::usage(format!("{label}: snapshot version {v} is newer than this tapaudit understands ({SNAPSHOT_VERSION}); upgrade tapaudit")))
        }
        Some(v) if v < SNAPSHOT_VERSION as u64 => Err(Error::usage(format!(
            "{label}: snapshot version {v} is older than this tapaudit reads ({SNAPSHOT_VERSION}): it may omit evidence; take a new snapshot with --save-snapshot"
        ))),
        Some(_) => Ok(()),
    }
}

/// `state.rds: missing`, `state.kms.keys.items.arn:…: unknown field ...`: the JSON path first.
fn snapshot_problem(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    // serde reports a missing field at its parent: name the field itself
    if let Some(field) = inner.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
        let full = if path == "." || path.is_empty() { field.to_string() } else { format!("{path}.{field}") };
        return format!("{full}: missing");
    }
    let inner = inner.split(" at line ").next().unwrap_or(&inner).to_string();
    if path == "." || path.is_empty() {
        inner
    } else {
        format!("{path}: {inner}")
    }
}

fn write_file(path: &Path, text: impl AsRef<[u8]>) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.display().to_string(), source })?;
    }
    std::fs::write(path, text).map_err(|source| Error::Io { path: path.display().to_string(), source })
}

/// Where and how reports are written and printed.
pub(crate) struct Emit {
    pub formats: Vec<ReportFormat>,
    pub dir: PathBuf,
    pub width: Option<u16>,
    pub max_rows: usize,
}

impl Emit {
    fn of(args: &ScanArgs, report: &Report) -> Emit {
        Emit {
            formats: args.report.format.clone(),
            dir: args.report.output_dir.clone().unwrap_or_else(|| default_output_dir(report)),
            width: args.report.width,
            max_rows: args.report.max_rows,
        }
    }
}

/// reports/<stack>, reports/account-<id>, or reports/accounts for several.
pub(crate) fn default_output_dir(report: &Report) -> PathBuf {
    let name = match (&report.scope.stack, &report.scope.account) {
        (Some(s), _) => s.clone(),
        (None, Some(a)) => format!("account-{a}"),
        (None, None) if !report.accounts.is_empty() => "accounts".into(),
        (None, None) => "account".into(),
    };
    Path::new("reports").join(name)
}

/// Write every format's file under `dir`; their paths, in the order of `formats`. The formats
/// render at the same time, one thread each (they only read the report); the JSON report is
/// streamed to its file, never held as text.
pub(crate) fn write_reports(report: &Report, cat: &Catalogue, formats: &[ReportFormat], dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.display().to_string(), source })?;
    // SARIF stays within GitHub's limits and points at the JSON report (beside it) for the rest.
    let sarif_opts = sarif_options(formats);
    let write_one = |f: ReportFormat| -> Result<String> {
        let name = match f {
            ReportFormat::Table => "tapaudit.txt",
            ReportFormat::Json => "tapaudit.json",
            ReportFormat::Sarif => "tapaudit.sarif",
            ReportFormat::Html => "tapaudit.html",
            ReportFormat::Oscal => "tapaudit.oscal.json",
        };
        let path = dir.join(name);
        crate::timings::phase(&format!("render and write {}", format_name(f)), || match f {
            // the file keeps every row; the terminal gets a summary at scale
            ReportFormat::Table => write_file(
                &path,
                &report::table::render_with(report, &report::table::TableOptions { width: Some(120), max_rows: usize::MAX, ..Default::default() }),
            ),
            ReportFormat::Json => stream_file(&path, |w| report.write_json(w)),
            ReportFormat::Sarif => write_file(&path, report::sarif::to_sarif_bytes(report, cat, &sarif_opts)),
            ReportFormat::Html => write_file(&path, &report::html::render(report, cat)),
            ReportFormat::Oscal => write_file(&path, &report::oscal::to_oscal_string(report, cat)),
        })?;
        Ok(path.display().to_string())
    };
    let results: Vec<Result<String>> = crate::timings::phase("reports", || {
        std::thread::scope(|scope| {
            let handles: Vec<_> = formats.iter().map(|&f| scope.spawn(move || write_one(f))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        })
    });
    results.into_iter().collect()
}

/// Write `path` through `fill` (buffered), naming the file in any error.
fn stream_file(path: &Path, fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> Result<()> {
    let io = |source| Error::Io { path: path.display().to_string(), source };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    fill(&mut out).map_err(io)?;
    std::io::Write::flush(&mut out).map_err(io)
}

fn format_name(f: ReportFormat) -> &'static str {
    match f {
        ReportFormat::Table => "table",
        ReportFormat::Json => "json",
        ReportFormat::Sarif => "sarif",
        ReportFormat::Html => "html",
        ReportFormat::Oscal => "oscal",
    }
}

fn sarif_options(formats: &[ReportFormat]) -> report::SarifOptions {
    report::SarifOptions { full_report: formats.contains(&ReportFormat::Json).then(|| "tapaudit.json".to_string()), ..report::SarifOptions::default() }
}

pub(crate) fn emit(report: &Report, cat: &Catalogue, how: &Emit, progress: &Progress) -> Result<()> {
    let color = std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let width = how.width.or_else(terminal_width).or(Some(120));
    let written = write_reports(report, cat, &how.formats, &how.dir)?;
    if how.formats.contains(&ReportFormat::Table) {
        let opts = report::table::TableOptions { width, color, max_rows: how.max_rows, full_list: written.clone() };
        let text = crate::timings::phase("render stdout table", || report::table::render_with(report, &opts));
        println!("{text}");
    } else if let [only] = how.formats.as_slice() {
        let text = match only {
            // streamed: a large report is never held as text
            ReportFormat::Json => return print_json(report).map(|()| progress.note(&format!("reports written: {}", written.join(", ")))),
            ReportFormat::Html => report::html::render(report, cat),
            ReportFormat::Oscal => report::oscal::to_oscal_string(report, cat),
            _ => report::sarif::to_sarif_string_with(report, cat, &sarif_options(&how.formats)),
        };
        println!("{text}");
    }
    progress.note(&format!("reports written: {}", written.join(", ")));
    Ok(())
}

/// The JSON report on stdout, as it is produced.
fn print_json(report: &Report) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    report.write_json(&mut out).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()).map_err(|source| Error::Io { path: "stdout".into(), source })
}

/// The terminal's width when stdout is one (COLUMNS wins, as shells set it for this).
fn terminal_width() -> Option<u16> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).or_else(|| comfy_table::Table::new().width())
}

pub fn controls(cmd: ControlsCommand) -> Result<u8> {
    let cat = catalogue()?;
    match cmd {
        ControlsCommand::List { framework } => {
            if let Some(f) = &framework {
                if !cat.frameworks.contains_key(f) {
                    return Err(Error::usage(format!("unknown framework {f:?} (known: {})", cat.framework_ids().join(", "))));
                }
            }
            let mut t = table();
            t.set_header(vec!["control", "severity", "resource", "title", "requirements"]);
            let mut n = 0;
            for c in cat.controls.values() {
                let reqs: Vec<String> = match &framework {
                    Some(f) => match c.frameworks.get(f) {
                        Some(r) if !r.is_empty() => r.clone(),
                        _ => continue,
                    },
                    None => c.frameworks.iter().map(|(f, r)| format!("{f}: {}", r.join(", "))).collect(),
                };
                n += 1;
                t.add_row(vec![c.id.clone(), c.severity.as_str().to_string(), c.resource_type.clone(), c.title.clone(), reqs.join("\n")]);
            }
            println!("{t}");
            println!("{n} controls");
            Ok(0)
        }
        ControlsCommand::Coverage { framework, output } => {
            let Some(cov) = crate::controls::coverage::coverage(&cat, &framework) else {
                return Err(Error::usage(format!("unknown framework {framework:?} (known: {})", cat.framework_ids().join(", "))));
            };
            match output.as_str() {
                "json" => println!("{}", serde_json::to_string_pretty(&cov).map_err(|e| Error::usage(format!("coverage as JSON: {e}")))?),
                "table" => print_coverage(&cov),
                other => return Err(Error::usage(format!("--output must be table or json (got {other:?})"))),
            }
            Ok(0)
        }
        ControlsCommand::Show { id } => {
            let Some(c) = cat.controls.get(&id) else {
                return Err(Error::usage(format!("unknown control {id:?}; `tapaudit controls list` shows them")));
            };
            println!("{} — {}", c.id, c.title);
            println!("severity: {}   service: {}   resource: {}", c.severity.as_str(), c.service, c.resource_type);
            println!("\n{}\n", c.rationale.trim());
            println!("Remediation\n  console: {}\n  cli:     {}\n  stack:   {}", c.remediation.console, c.remediation.cli, c.remediation.stack);
            println!("\nRequirements");
            for (f, reqs) in &c.frameworks {
                for r in reqs {
                    let title = cat.requirement(f, r).map(|q| q.title.as_str()).unwrap_or("");
                    println!("  {f} {r}: {title}");
                }
            }
            for (name, p) in &c.parameters {
                println!("\nParameter {name} (default {}): {}", p.default, p.description);
            }
            Ok(0)
        }
    }
}

fn print_coverage(cov: &crate::controls::coverage::Coverage) {
    let mut t = table();
    t.set_header(vec!["family", "checked", "checked automatically (controls)", "needs manual evidence"]);
    for f in &cov.families {
        let checked: Vec<String> = f.checked.iter().map(|r| format!("{} ({})", r.id, r.controls.join(", "))).collect();
        t.add_row(vec![
            f.family.clone(),
            format!("{}/{}", f.checked.len(), f.checked.len() + f.not_checked.len()),
            checked.join("\n"),
            f.not_checked.join(", "),
        ]);
    }
    println!("{t}");
    println!("{}: {} of {} requirements checked automatically ({})", cov.framework, cov.checked, cov.total, cov.baseline);
    if !cov.outside_baseline.is_empty() {
        println!("mapped but outside the baseline: {}", cov.outside_baseline.join(", "));
    }
}

#[cfg(test)]
pub(crate) mod snapshot_tests {
    use super::*;
    use serde_json::{json, Value};

    /// A snapshot of the compliant fixture State, as `--save-snapshot` would write it.
    pub(crate) fn snapshot_json() -> Value {
        let snap = Snapshot {
            snapshot_version: SNAPSHOT_VERSION,
            tool: "tapaudit".into(),
            tool_version: "test".into(),
            collected_at: "2026-12-01T00:00:00Z".into(),
            account: Some("123456789012".into()),
            regions: vec!["us-east-1".into()],
            stack: Some("dev".into()),
            services: crate::model::SERVICES.iter().map(|s| s.to_string()).collect(),
            errors: vec![],
            state: crate::controls::testing::fixture(),
        };
        serde_json::to_value(snap).unwrap()
    }

    fn problem(v: &Value) -> String {
        match parse_snapshot("snap.json", &v.to_string()) {
            Ok(_) => panic!("a tampered snapshot was accepted"),
            Err(e) => e.to_string(),
        }
    }

    fn first_item(v: &mut Value, service: &str, collection: &str) -> (String, serde_json::Map<String, Value>) {
        let items = v["state"][service][collection]["items"].as_object_mut().unwrap();
        let (k, item) = items.iter_mut().next().unwrap();
        (k.clone(), item.as_object().unwrap().clone())
    }

    #[test]
    fn the_untampered_snapshot_round_trips() {
        let v = snapshot_json();
        let snap = parse_snapshot("snap.json", &v.to_string()).unwrap();
        assert_eq!(snap.state, crate::controls::testing::fixture());
    }

    /// Deleting any key anywhere (inside Observed values too) is refused, or is a deletion of
    /// data (a map entry, an optional label) that the parsed snapshot reproduces exactly: never
    /// a field read as `None` or a default.
    #[test]
    fn no_field_can_go_missing_silently() {
        fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            if let Value::Object(m) = v {
                for (k, c) in m {
                    at.push(k.clone());
                    out.push(at.clone());
                    paths(c, at, out);
                    at.pop();
                }
            } else if let Value::Array(a) = v {
                for (i, c) in a.iter().enumerate() {
                    at.push(i.to_string());
                    paths(c, at, out);
                    at.pop();
                }
            }
        }
        let base = snapshot_json();
        let mut all = Vec::new();
        paths(&base, &mut Vec::new(), &mut all);
        assert!(all.len() > 1000, "the fixture has many keys ({})", all.len());
        let (mut refused, mut silent) = (0, Vec::new());
        for p in &all {
            let mut v = base.clone();
            let (last, parents) = p.split_last().unwrap();
            let node = parents.iter().fold(&mut v, |n, k| if n.is_array() { &mut n[k.parse::<usize>().unwrap()] } else { &mut n[k.as_str()] });
            node.as_object_mut().unwrap().remove(last);
            match parse_snapshot("snap.json", &v.to_string()) {
                Err(_) => refused += 1,
                Ok(snap) if serde_json::to_value(&snap).unwrap() == v => {}
                Ok(_) => silent.push(p.join(".")),
            }
        }
        assert!(silent.is_empty(), "keys whose absence is read as a value: {silent:#?}");
        assert!(refused > all.len() / 2, "most keys are fields ({refused} of {})", all.len());
    }

    #[test]
    fn an_empty_state_or_a_missing_section_is_refused_naming_the_path() {
        let mut v = snapshot_json();
        v["state"] = json!({});
        assert_eq!(problem(&v), "snap.json: state.kms: missing");
        for section in crate::model::SERVICES {
            let mut v = snapshot_json();
            v["state"].as_object_mut().unwrap().remove(*section);
            assert_eq!(problem(&v), format!("snap.json: state.{section}: missing"));
        }
    }

    #[test]
    fn a_missing_collection_field_or_failures_list_is_refused() {
        let mut v = snapshot_json();
        v["state"]["rds"].as_object_mut().unwrap().remove("clusters");
        assert_eq!(problem(&v), "snap.json: state.rds.clusters: missing");
        let mut v = snapshot_json();
        v["state"]["kms"]["keys"].as_object_mut().unwrap().remove("failures");
        assert_eq!(problem(&v), "snap.json: state.kms.keys.failures: missing");
        let mut v = snapshot_json();
        v.as_object_mut().unwrap().remove("errors");
        assert_eq!(problem(&v), "snap.json: errors: missing");
    }

    #[test]
    fn a_missing_evidence_field_is_refused_never_defaulted() {
        let mut v = snapshot_json();
        let (arn, mut item) = first_item(&mut v, "kms", "keys");
        item.remove("rotation_enabled");
        v["state"]["kms"]["keys"]["items"][&arn] = Value::Object(item);
        assert_eq!(problem(&v), format!("snap.json: state.kms.keys.items.{arn}.rotation_enabled: missing"));
        let mut v = snapshot_json();
        let (arn, mut item) = first_item(&mut v, "rds", "instances");
        item.remove("storage_encrypted");
        v["state"]["rds"]["instances"]["items"][&arn] = Value::Object(item);
        assert_eq!(problem(&v), format!("snap.json: state.rds.instances.items.{arn}.storage_encrypted: missing"));
        // tags are evidence (stack scope, drift): required too
        let mut v = snapshot_json();
        let (arn, mut item) = first_item(&mut v, "kinesis", "streams");
        item.get_mut("meta").unwrap().as_object_mut().unwrap().remove("tags");
        v["state"]["kinesis"]["streams"]["items"][&arn] = Value::Object(item);
        assert_eq!(problem(&v), format!("snap.json: state.kinesis.streams.items.{arn}.meta.tags: missing"));
    }

    #[test]
    fn unknown_fields_wrong_types_truncation_and_versions_are_refused() {
        let mut v = snapshot_json();
        // a section this tapaudit does not know (a newer one's service)
        v["state"]["nosuchservice"] = json!({});
        assert!(problem(&v).starts_with("snap.json: state.nosuchservice: unknown field `nosuchservice`"), "{}", problem(&v));
        let mut v = snapshot_json();
        let (arn, _) = first_item(&mut v, "kinesis", "streams");
        v["state"]["kinesis"]["streams"]["items"][&arn]["retention_hours"] = json!({"known": "a day"});
        assert!(problem(&v).starts_with(&format!("snap.json: state.kinesis.streams.items.{arn}.retention_hours")), "{}", problem(&v));
        let text = snapshot_json().to_string();
        let cut = parse_snapshot("snap.json", &text[..text.len() / 2]).unwrap_err().to_string();
        assert!(cut.starts_with("snap.json:1: not a tapaudit snapshot: invalid JSON"), "{cut}");
        let mut v = snapshot_json();
        v["snapshot_version"] = json!(SNAPSHOT_VERSION + 1);
        assert!(problem(&v).contains("is newer than this tapaudit understands"));
        let mut v = snapshot_json();
        v["snapshot_version"] = json!(1);
        assert!(problem(&v).contains("snapshot version 1 is older than this tapaudit reads"));
        let mut v = snapshot_json();
        v.as_object_mut().unwrap().remove("snapshot_version");
        assert_eq!(problem(&v), "snap.json: not a tapaudit snapshot (no snapshot_version)");
        let mut v = snapshot_json();
        v["services"] = json!(["kms"]);
        assert!(problem(&v).starts_with("snap.json: services: ec2 was not collected"), "{}", problem(&v));
    }

    #[test]
    fn every_error_is_one_line() {
        let mut v = snapshot_json();
        v["state"] = json!({"kms": 1});
        let e = problem(&v);
        assert!(!e.contains('\n'), "{e}");
    }
}

#[cfg(test)]
mod registry_tests {
    use crate::model::State;

    fn assert_types_match(state: &State, what: &str) -> usize {
        let mut n = 0;
        state.collections(&mut |s, e, c| {
            for m in c.metas() {
                n += 1;
                assert_eq!(m.resource_type, e.resource_type, "{what}: {}.{} holds {}", s.name, e.field, m.arn);
            }
        });
        n
    }

    /// The registry's resource types are the ones the model's States carry: counts, drift and
    /// findings key by them.
    #[test]
    fn fixture_and_desired_items_carry_their_collections_resource_type() {
        assert!(assert_types_match(&crate::controls::testing::fixture(), "fixture") > 20);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
        let mut stacks = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let stack = crate::spec::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(assert_types_match(&crate::spec::desired::desired(&stack), &path.display().to_string()) > 0);
                stacks += 1;
            }
        }
        assert!(stacks > 0);
    }

    /// Drift resolves by the registry's resource types: a type it names that no collection
    /// holds would never be compared.
    #[test]
    fn drift_names_only_resource_types_of_the_registry() {
        let mut types = Vec::new();
        State::default().collections(&mut |_, e, _| types.push(e.resource_type));
        for (kinds, _) in crate::components::DRIFT {
            for t in *kinds {
                assert!(types.contains(t), "components::DRIFT compares {t}, which no collection of the registry holds ({types:?})");
            }
        }
    }

    /// Scoping a snapshot to its own stack keeps what a stack-scoped collection keeps; to
    /// another stack, only what is untagged or kept as part of something.
    #[test]
    fn a_snapshot_scoped_to_a_stack_keeps_its_resources_and_remembers_the_others() {
        let fixture = crate::controls::testing::fixture();
        let stack = fixture.kinesis.streams.iter().next().and_then(|s| s.meta.stack()).expect("fixture streams carry a stack tag").to_string();
        let mut own = fixture.clone();
        own.retain_stack(&stack);
        // account-level records are never part of a stack; everything else of the fixture is the stack's
        let mut stack_part = fixture.clone();
        stack_part.collections_mut(&mut |_, e, c| {
            if matches!(e.scoping, crate::model::Scoping::Account(_)) {
                c.retain_stack(e.scoping, &stack);
            }
        });
        assert_eq!(own.count_resources(), stack_part.count_resources());
        let mut other = fixture.clone();
        other.retain_stack("someone-else");
        other.collections(&mut |s, e, c| {
            for m in c.metas() {
                let kept_by_rule = matches!(e.scoping, crate::model::Scoping::PartOf(_) | crate::model::Scoping::Kept(_));
                assert!(kept_by_rule || m.stack().is_none(), "{}.{}: {} of stack {stack} kept for another stack", s.name, e.field, m.arn);
            }
        });
        for k in fixture.kms.keys.iter().filter(|k| k.meta.stack().is_some()) {
            assert!(other.kms.out_of_scope.contains(&k.meta.arn), "key {} remembered as out of scope", k.meta.arn);
        }
        for g in fixture.logs.log_groups.iter().filter(|g| g.meta.stack().is_some()) {
            assert!(other.logs.out_of_scope.contains(&g.meta.arn), "log group {} remembered as out of scope", g.meta.arn);
        }
    }
}

#[cfg(test)]
mod layer_tests {
    //! Collector → controls across the layers (collect and controls do not import each other).
    use crate::finding::Status;
    use crate::model::State;
    use aws_sdk_kms::operation::list_aliases::ListAliasesOutput;
    use aws_sdk_kms::operation::list_keys::ListKeysOutput;
    use aws_sdk_kms::types::KeyListEntry;
    use aws_sdk_kms::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    #[tokio::test]
    async fn a_key_the_collector_cannot_describe_is_an_error_for_its_controls() {
        let list =
            mock!(Client::list_keys).then_output(|| ListKeysOutput::builder().keys(KeyListEntry::builder().key_id("k1").build()).truncated(false).build());
        let aliases = mock!(Client::list_aliases).then_output(|| ListAliasesOutput::builder().build());
        let denied = mock!(Client::describe_key).then_error(|| {
            aws_sdk_kms::operation::describe_key::DescribeKeyError::generic(
                aws_smithy_types::error::ErrorMetadata::builder().code("AccessDeniedException").build(),
            )
        });
        let kms = mock_client!(aws_sdk_kms, RuleMode::MatchAny, &[&list, &aliases, &denied]);
        let c = crate::collect::testing::ctx(|cl| cl.kms = kms);
        let state = State { kms: crate::collect::kms::collect(&c).await, ..Default::default() };
        assert_eq!(state.kms.keys.len(), 1, "the listed key is kept");
        for id in ["kms-key-rotation-enabled", "kms-key-not-pending-deletion", "kms-key-policy-no-wildcard-principal"] {
            assert_eq!(crate::controls::testing::eval(id, &state), vec![Status::Error], "{id}");
        }
    }
}

#[cfg(test)]
mod locate_tests {
    use super::finding_path;

    fn dev() -> crate::spec::Stack {
        crate::spec::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/dev.toml")).unwrap()
    }

    fn path(declared: &str, setting: &str) -> Option<String> {
        finding_path(&dev(), Some(declared.into()), Some(setting.into()))
    }

    #[test]
    fn a_finding_points_at_its_setting_inside_the_declaring_table_or_section() {
        // a component's table sets it
        assert_eq!(path("keys.data-key", "kms.rotation").as_deref(), Some("keys.data-key.rotation"));
        // a component's table leaves it at its default: the table
        assert_eq!(path("keys.data-key", "kms.no_such_setting").as_deref(), Some("keys.data-key"));
        // a resource declared by one key of a section, judged by another key of it
        assert_eq!(path("database.port", "database.allowed_cidrs").as_deref(), Some("database.allowed_cidrs"));
        let s = dev();
        // no setting: where it was declared
        assert_eq!(finding_path(&s, Some("network.cidr".into()), None).as_deref(), Some("network.cidr"));
        assert_eq!(finding_path(&s, None, Some("kms.rotation".into())), None);
    }
}
