//! The terminal table: a per-framework summary (requirement family → pass / fail / error), the
//! failing and errored findings grouped by severity (critical first), collection errors, and a
//! totals sentence (one line unless a width makes it wrap). Deterministic (no times, no version) so it can be snapshotted.

use super::{one_line, resource_label, resource_phrase, Report};
use crate::finding::{Finding, Severity, Status};
use comfy_table::{presets, Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, Width};

/// Render the report. `width`: the terminal width to fit (cells wrap); None = no limit (for
/// pipes and files). `color`: ANSI styling; pass false when `NO_COLOR` is set or stdout is not
/// a terminal — no escape codes are written then.
pub fn render(report: &Report, width: Option<u16>, color: bool) -> String {
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
    problems.sort_by(|a, b| {
        (a.severity, a.status, &a.control_id, resource_label(&a.resource), &a.resource.arn).cmp(&(
            b.severity,
            b.status,
            &b.control_id,
            resource_label(&b.resource),
            &b.resource.arn,
        ))
    });
    if problems.is_empty() {
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
        for e in &report.errors {
            t.add_row(vec![
                Cell::new(call(e)),
                Cell::new(&e.region),
                Cell::new(e.resource.as_deref().unwrap_or("-")),
                Cell::new(format!("{}: {}", e.code, one_line(&e.message))),
            ]);
        }
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }

    let suppressed = report.findings.iter().filter(|f| f.suppression.is_some()).count();
    if suppressed > 0 {
        out.push_str(&prose(&format!(
            "{} accepted by suppressions (kept in the reports, not in the exit code).",
            plural(suppressed, "failing finding is", "failing findings are")
        )));
        out.push('\n');
    }
    for e in &report.expired_suppressions {
        out.push_str(&prose(&format!(
            "Expired suppression ({}:{}): {} on {} ended {}; it no longer applies.",
            e.source.path, e.source.line, e.control, e.resource, e.expired
        )));
        out.push('\n');
    }
    if report.findings.iter().any(|f| f.baseline_state.is_some()) || !report.absent.is_empty() {
        let new = report.findings.iter().filter(|f| f.baseline_state == Some(crate::finding::BaselineState::New)).count();
        let same = report.findings.iter().filter(|f| f.baseline_state == Some(crate::finding::BaselineState::Unchanged)).count();
        out.push_str(&prose(&format!("Against the baseline: {new} new, {same} unchanged, {} absent (fixed).", report.absent.len())));
        out.push('\n');
        for f in &report.absent {
            out.push_str(&prose(&format!("  fixed: {} on {}", f.control_id, resource_phrase(&f.resource))));
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
