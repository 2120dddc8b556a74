//! The terminal table: a per-framework summary (requirement family → pass / fail / error), the
//! failing and errored findings grouped by severity (critical first), collection errors, and a
//! totals sentence (one line unless a width makes it wrap). Deterministic (no times, no version) so it can be snapshotted.
//!
//! At scale (more than [`TableOptions::max_rows`] failing and errored findings, default
//! [`DEFAULT_MAX_ROWS`]) the findings are not listed one per row. Instead, after the framework
//! tables: a per-control table (controls with failing or errored findings, most severe first:
//! fail / error / pass counts and the number of resources affected; at most
//! [`MAX_CONTROL_ROWS`], then a line for the rest), the [`TOP_RESOURCES`] most severe failing
//! resources (worst severity, then most failing controls), and a line naming the files that
//! hold the full list ([`TableOptions::full_list`]). Collection errors, expired suppressions
//! and fixed baseline findings are cut the same way when there are more than `max_rows` of
//! them. Small reports print exactly as before.

use super::{one_line, resource_label, resource_phrase, Report};
use crate::finding::{Finding, FindingResource, Severity, Status};
use comfy_table::{presets, Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, Width};
use std::collections::{BTreeMap, BTreeSet};

/// More failing and errored findings than this, and the table summarises them.
pub const DEFAULT_MAX_ROWS: usize = 200;
/// Controls listed in a summary's per-control table.
pub const MAX_CONTROL_ROWS: usize = 50;
/// Failing resources listed in a summary.
pub const TOP_RESOURCES: usize = 20;
/// Rows of other long lists (collection errors, fixed findings, expired suppressions) kept when
/// there are more than `max_rows` of them.
const CUT_LIST_ROWS: usize = 20;

/// How [`render_with`] renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// The terminal width to fit (cells wrap); None = no limit (for pipes and files).
    pub width: Option<u16>,
    /// ANSI styling; false when `NO_COLOR` is set or stdout is not a terminal.
    pub color: bool,
    /// Above this many failing and errored findings, summarise (`usize::MAX`: never).
    pub max_rows: usize,
    /// The files holding the full list (e.g. `reports/dev/tapaudit.json`), named by the
    /// summary; empty: the summary names the default file names and `--output-dir`.
    pub full_list: Vec<String>,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions { width: None, color: false, max_rows: DEFAULT_MAX_ROWS, full_list: vec![] }
    }
}

/// Render the report. `width`: the terminal width to fit (cells wrap); None = no limit (for
/// pipes and files). `color`: ANSI styling; pass false when `NO_COLOR` is set or stdout is not
/// a terminal — no escape codes are written then. Summarises above [`DEFAULT_MAX_ROWS`].
pub fn render(report: &Report, width: Option<u16>, color: bool) -> String {
    render_with(report, &TableOptions { width, color, ..TableOptions::default() })
}

/// [`render`] with [`TableOptions`].
pub fn render_with(report: &Report, opts: &TableOptions) -> String {
    let (width, color) = (opts.width, opts.color);
    let new_table = || {
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED);
        match width {
            Some(w) => {
                t.set_content_arrangement(ContentArrangement::Dynamic).set_width(w);
            }
            None => {
                t.set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        if color {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        t
    };
    let head = |s: &str| if color { Cell::new(s).add_attribute(Attribute::Bold) } else { Cell::new(s) };
    let count = |n: usize, c: Color| {
        let cell = Cell::new(n).set_alignment(CellAlignment::Right);
        if color && n > 0 {
            cell.fg(c)
        } else {
            cell
        }
    };

    let prose = |s: &str| wrap(s, width);
    let mut out = String::new();
    out.push_str(&prose(&scope_line(report)));
    out.push_str("\n\n");

    if !report.accounts.is_empty() {
        let mut t = new_table();
        t.set_header(vec![head("Account"), head("Outcome"), head("Regions"), head("Pass"), head("Fail"), head("Error"), head("Why")]);
        for a in &report.accounts {
            let outcome = match a.outcome {
                super::merge::AccountOutcome::Complete => "complete",
                super::merge::AccountOutcome::Incomplete => "incomplete",
                super::merge::AccountOutcome::Failed => "failed",
                super::merge::AccountOutcome::Skipped => "skipped",
            };
            t.add_row(vec![
                Cell::new(&a.account),
                Cell::new(outcome),
                Cell::new(a.regions.len()).set_alignment(CellAlignment::Right),
                count(a.findings.pass, Color::Green),
                count(a.findings.fail, Color::Red),
                count(a.findings.error + a.collection_errors, Color::Yellow),
                Cell::new(a.reason.as_deref().unwrap_or("")),
            ]);
        }
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }

    for fw in &report.summary.frameworks {
        let mut t = new_table();
        t.set_header(vec![head(&fw.name), head("Pass"), head("Fail"), head("Error")]);
        for fam in &fw.families {
            t.add_row(vec![
                Cell::new(&fam.family),
                count(fam.counts.pass, Color::Green),
                count(fam.counts.fail, Color::Red),
                count(fam.counts.error, Color::Yellow),
            ]);
        }
        t.add_row(vec![head("All families"), count(fw.counts.pass, Color::Green), count(fw.counts.fail, Color::Red), count(fw.counts.error, Color::Yellow)]);
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }

    let mut problems: Vec<&Finding> = report.findings.iter().filter(|f| matches!(f.status, Status::Fail | Status::Error)).collect();
    let summarise = problems.len() > opts.max_rows;
    if summarise {
        out.push_str(&prose(&format!(
            "{} failing and errored findings are more than the table lists (--max-rows {}): a summary follows.",
            problems.len(),
            opts.max_rows
        )));
        out.push_str("\n\n");
        out.push_str(&control_summary(report, &new_table, &head, &count, &prose, width, color));
        out.push_str(&resource_summary(&problems, &new_table, &head, &prose, width, color));
        out.push_str(&prose(&full_list_line(opts)));
        out.push_str("\n\n");
        problems.clear();
    }
    problems.sort_by(|a, b| {
        (a.severity, a.status, &a.control_id, resource_label(&a.resource), &a.resource.arn).cmp(&(
            b.severity,
            b.status,
            &b.control_id,
            resource_label(&b.resource),
            &b.resource.arn,
        ))
    });
    if summarise {
    } else if problems.is_empty() {
        out.push_str(&prose("No failing or errored findings."));
        out.push_str("\n\n");
    } else {
        out.push_str(&prose("Failing and errored findings, most severe first:"));
        out.push('\n');
        let mut t = new_table();
        t.set_header(vec![head("Severity"), head("Status"), head("Control"), head("Resource"), head("Reason")]);
        let control_w = problems.iter().map(|f| f.control_id.chars().count()).max().unwrap_or(0);
        keep_width(&mut t, 0, 8, width, 1);
        keep_width(&mut t, 1, 6, width, 1);
        keep_width(&mut t, 2, control_w, width, 3);
        for f in problems {
            let sev = Cell::new(f.severity.as_str());
            let sev = if color { sev.fg(severity_color(f.severity)).add_attribute(Attribute::Bold) } else { sev };
            let mut status_text = f.status.as_str().to_string();
            if let Some(b) = f.baseline_state {
                status_text = format!("{status_text} ({})", b.as_str());
            }
            let mut reason = one_line(&f.message);
            if let Some(s) = &f.suppression {
                status_text = format!("{status_text}, suppressed");
                reason = format!("{reason} [suppressed: {}]", one_line(&s.reason));
            }
            let status = Cell::new(status_text);
            let status = if color && f.suppression.is_none() { status.fg(if f.status == Status::Fail { Color::Red } else { Color::Yellow }) } else { status };
            t.add_row(vec![sev, status, Cell::new(&f.control_id), Cell::new(resource_phrase(&f.resource)), Cell::new(reason)]);
        }
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }

    if !report.errors.is_empty() {
        out.push_str(&prose("Collection errors (what these calls would have read was not checked):"));
        out.push('\n');
        let mut t = new_table();
        t.set_header(vec![head("Call"), head("Region"), head("Resource"), head("Error")]);
        let call = |e: &crate::collect::stats::CollectionError| format!("{} {}", e.service, e.operation);
        keep_width(&mut t, 0, report.errors.iter().map(|e| call(e).chars().count()).max().unwrap_or(0), width, 4);
        keep_width(&mut t, 1, report.errors.iter().map(|e| e.region.chars().count()).max().unwrap_or(0).max(6), width, 8);
        let shown = if report.errors.len() > opts.max_rows { CUT_LIST_ROWS } else { report.errors.len() };
        for e in &report.errors[..shown] {
            t.add_row(vec![
                Cell::new(call(e)),
                Cell::new(&e.region),
                Cell::new(e.resource.as_deref().unwrap_or("-")),
                Cell::new(format!("{}: {}", e.code, one_line(&e.message))),
            ]);
        }
        out.push_str(&t.to_string());
        out.push_str("\n\n");
        if shown < report.errors.len() {
            out.push_str(&prose(&format!("… and {} more collection errors. {}", report.errors.len() - shown, full_list_line(opts))));
            out.push_str("\n\n");
        }
    }

    let suppressed = report.findings.iter().filter(|f| f.suppression.is_some()).count();
    if suppressed > 0 {
        out.push_str(&prose(&format!(
            "{} accepted by suppressions (kept in the reports, not in the exit code).",
            plural(suppressed, "failing finding is", "failing findings are")
        )));
        out.push('\n');
    }
    let expired_shown = if report.expired_suppressions.len() > opts.max_rows { CUT_LIST_ROWS } else { report.expired_suppressions.len() };
    for e in &report.expired_suppressions[..expired_shown] {
        out.push_str(&prose(&format!(
            "Expired suppression ({}:{}): {} on {} ended {}; it no longer applies.",
            e.source.path, e.source.line, e.control, e.resource, e.expired
        )));
        out.push('\n');
    }
    if expired_shown < report.expired_suppressions.len() {
        out.push_str(&prose(&format!("… and {} more expired suppressions.", report.expired_suppressions.len() - expired_shown)));
        out.push('\n');
    }
    if report.findings.iter().any(|f| f.baseline_state.is_some()) || !report.absent.is_empty() {
        let new = report.findings.iter().filter(|f| f.baseline_state == Some(crate::finding::BaselineState::New)).count();
        let same = report.findings.iter().filter(|f| f.baseline_state == Some(crate::finding::BaselineState::Unchanged)).count();
        out.push_str(&prose(&format!("Against the baseline: {new} new, {same} unchanged, {} absent (fixed).", report.absent.len())));
        out.push('\n');
        let absent_shown = if report.absent.len() > opts.max_rows { CUT_LIST_ROWS } else { report.absent.len() };
        for f in &report.absent[..absent_shown] {
            out.push_str(&prose(&format!("  fixed: {} on {}", f.control_id, resource_phrase(&f.resource))));
            out.push('\n');
        }
        if absent_shown < report.absent.len() {
            out.push_str(&prose(&format!("  … and {} more fixed.", report.absent.len() - absent_shown)));
            out.push('\n');
        }
    }
    if report.incomplete() {
        out.push_str(&prose(&format!(
            "The scan is incomplete ({}, {}): what could not be read was not judged.",
            plural(report.summary.findings.error, "errored finding", "errored findings"),
            plural(report.errors.len(), "collection error", "collection errors")
        )));
        out.push('\n');
    }
    out.push_str(&prose(&totals(report)));
    out.push('\n');
    out
}

/// The summary's pointer at the files holding the full list.
fn full_list_line(opts: &TableOptions) -> String {
    if opts.full_list.is_empty() {
        "The full list is in tapaudit.json (every finding; tapaudit.sarif holds the most severe, within GitHub's limits) \
         under the output directory (--output-dir, default reports/<stack> or reports/account-<id>)."
            .to_string()
    } else {
        format!("The full list is in {}.", opts.full_list.join(", "))
    }
}

/// Identity of a resource across findings: its ARN, else type + region + id.
fn resource_key(r: &FindingResource) -> (&str, &str, &str, &str) {
    if r.arn.is_empty() {
        ("", &r.resource_type, &r.region, &r.id)
    } else {
        (&r.arn, "", "", "")
    }
}

/// Per control with failing or errored findings: severity, counts, resources affected.
fn control_summary(
    report: &Report,
    new_table: &dyn Fn() -> Table,
    head: &dyn Fn(&str) -> Cell,
    count: &dyn Fn(usize, Color) -> Cell,
    prose: &dyn Fn(&str) -> String,
    width: Option<u16>,
    color: bool,
) -> String {
    #[derive(Default)]
    struct Row<'a> {
        severity: Option<Severity>,
        counts: super::Counts,
        resources: BTreeSet<(&'a str, &'a str, &'a str, &'a str)>,
    }
    let mut by_control: BTreeMap<&str, Row> = BTreeMap::new();
    for f in &report.findings {
        let row = by_control.entry(f.control_id.as_str()).or_default();
        row.severity = Some(row.severity.map_or(f.severity, |s| s.min(f.severity)));
        row.counts.add(f.status);
        if matches!(f.status, Status::Fail | Status::Error) {
            row.resources.insert(resource_key(&f.resource));
        }
    }
    let mut rows: Vec<(&str, Row)> = by_control.into_iter().filter(|(_, r)| r.counts.fail + r.counts.error > 0).collect();
    rows.sort_by(|(a_id, a), (b_id, b)| {
        (a.severity, std::cmp::Reverse(a.counts.fail + a.counts.error), a_id).cmp(&(b.severity, std::cmp::Reverse(b.counts.fail + b.counts.error), b_id))
    });

    let mut out = prose("Per control (failing or errored), most severe first:");
    out.push('\n');
    let mut t = new_table();
    t.set_header(vec![head("Severity"), head("Control"), head("Fail"), head("Error"), head("Pass"), head("Resources")]);
    keep_width(&mut t, 0, 8, width, 1);
    keep_width(&mut t, 1, rows.iter().take(MAX_CONTROL_ROWS).map(|(id, _)| id.chars().count()).max().unwrap_or(0), width, 2);
    for (id, row) in rows.iter().take(MAX_CONTROL_ROWS) {
        let severity = row.severity.unwrap_or(Severity::Info);
        let sev = Cell::new(severity.as_str());
        let sev = if color { sev.fg(severity_color(severity)).add_attribute(Attribute::Bold) } else { sev };
        t.add_row(vec![
            sev,
            Cell::new(id),
            count(row.counts.fail, Color::Red),
            count(row.counts.error, Color::Yellow),
            count(row.counts.pass, Color::Green),
            Cell::new(row.resources.len()).set_alignment(CellAlignment::Right),
        ]);
    }
    out.push_str(&t.to_string());
    out.push_str("\n\n");
    if rows.len() > MAX_CONTROL_ROWS {
        let rest = &rows[MAX_CONTROL_ROWS..];
        let n: usize = rest.iter().map(|(_, r)| r.counts.fail + r.counts.error).sum();
        out.push_str(&prose(&format!("… and {} more controls with {n} failing or errored findings.", rest.len())));
        out.push_str("\n\n");
    }
    out
}

/// The [`TOP_RESOURCES`] most severe failing resources: worst severity, then most failing
/// findings, then name.
fn resource_summary(
    problems: &[&Finding],
    new_table: &dyn Fn() -> Table,
    head: &dyn Fn(&str) -> Cell,
    prose: &dyn Fn(&str) -> String,
    width: Option<u16>,
    color: bool,
) -> String {
    struct Res<'a> {
        resource: &'a FindingResource,
        worst: Severity,
        controls: Vec<(Severity, &'a str)>,
    }
    let mut by_resource: BTreeMap<(&str, &str, &str, &str), Res> = BTreeMap::new();
    for f in problems.iter().filter(|f| f.status == Status::Fail) {
        let r = by_resource.entry(resource_key(&f.resource)).or_insert(Res { resource: &f.resource, worst: f.severity, controls: vec![] });
        r.worst = r.worst.min(f.severity);
        r.controls.push((f.severity, &f.control_id));
    }
    if by_resource.is_empty() {
        return String::new();
    }
    let total = by_resource.len();
    let mut list: Vec<Res> = by_resource.into_values().collect();
    for r in &mut list {
        r.controls.sort();
        r.controls.dedup();
    }
    list.sort_by(|a, b| {
        (a.worst, std::cmp::Reverse(a.controls.len()), resource_label(a.resource), &a.resource.arn).cmp(&(
            b.worst,
            std::cmp::Reverse(b.controls.len()),
            resource_label(b.resource),
            &b.resource.arn,
        ))
    });
    list.truncate(TOP_RESOURCES);

    let mut out = prose(&format!("The {} most severe of {total} failing resources:", list.len()));
    out.push('\n');
    let mut t = new_table();
    t.set_header(vec![head("Severity"), head("Resource"), head("Failing"), head("Controls")]);
    keep_width(&mut t, 0, 8, width, 1);
    keep_width(&mut t, 2, 7, width, 1);
    for r in list {
        let names: Vec<&str> = r.controls.iter().take(3).map(|(_, c)| *c).collect();
        let more = r.controls.len() - names.len();
        let mut controls = names.join(", ");
        if more > 0 {
            controls.push_str(&format!(", +{more} more"));
        }
        let sev = Cell::new(r.worst.as_str());
        let sev = if color { sev.fg(severity_color(r.worst)).add_attribute(Attribute::Bold) } else { sev };
        t.add_row(vec![sev, Cell::new(resource_phrase(r.resource)), Cell::new(r.controls.len()).set_alignment(CellAlignment::Right), Cell::new(controls)]);
    }
    out.push_str(&t.to_string());
    out.push_str("\n\n");
    out
}

/// Word-wrap prose to `width` columns (no wrapping without a width).
fn wrap(text: &str, width: Option<u16>) -> String {
    let Some(width) = width.map(usize::from).filter(|w| *w > 0) else { return text.to_string() };
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}

/// Keep column `col` at least as wide as its content (`content` characters, header included by
/// the caller), but no wider than 1/`share` of the table width, so short identifiers are not
/// broken mid-word while long text columns take the wrapping.
fn keep_width(t: &mut Table, col: usize, content: usize, width: Option<u16>, share: usize) {
    let Some(w) = width else { return };
    let cap = (usize::from(w) / share).saturating_sub(3).max(4);
    let min = content.min(cap) as u16 + 2; // + padding
    if let Some(c) = t.column_mut(col) {
        c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(min)));
    }
}

fn severity_color(s: Severity) -> Color {
    match s {
        Severity::Critical => Color::Magenta,
        Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Blue,
        Severity::Info => Color::Grey,
    }
}

fn scope_line(report: &Report) -> String {
    let s = &report.scope;
    let mut what = match (&s.stack, &s.stack_file) {
        (Some(stack), Some(file)) => format!("Stack {stack} ({file})"),
        (Some(stack), None) => format!("Stack {stack}"),
        (None, Some(file)) => format!("Stack file {file}"),
        (None, None) => "All resources".to_string(),
    };
    if let Some(account) = &s.account {
        what.push_str(&format!(", account {account}"));
    } else if report.accounts.len() > 1 {
        what.push_str(&format!(", {} accounts", report.accounts.len()));
    }
    if !s.regions.is_empty() {
        what.push_str(&format!(", {}", s.regions.join(", ")));
    }
    let source = match s.source {
        super::Source::Live => "live AWS state",
        super::Source::Snapshot => "a saved snapshot",
        super::Source::Desired => "the stack file's desired state",
    };
    let frameworks: Vec<&str> = report.summary.frameworks.iter().map(|f| f.id.as_str()).collect();
    format!("{what}: {source}, frameworks: {}.", if frameworks.is_empty() { "none".to_string() } else { frameworks.join(", ") })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// E.g. "8 findings: 4 failing (1 critical, 2 high, 1 medium), 2 errored, 1 passing, 1 not applicable; 1 collection error."
pub fn totals(report: &Report) -> String {
    let c = &report.summary.findings;
    let by_sev: Vec<String> = report.summary.failing_by_severity.iter().filter(|(_, n)| **n > 0).map(|(s, n)| format!("{n} {}", s.as_str())).collect();
    let failing = if by_sev.is_empty() { format!("{} failing", c.fail) } else { format!("{} failing ({})", c.fail, by_sev.join(", ")) };
    format!(
        "{}: {failing}, {} errored, {} passing, {} not applicable; {}.",
        plural(c.total, "finding", "findings"),
        c.error,
        c.pass,
        c.not_applicable,
        plural(report.errors.len(), "collection error", "collection errors")
    )
}
