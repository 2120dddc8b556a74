//! The terminal table: a per-framework summary (requirement family → pass / fail / error), the
//! failing and errored findings grouped by severity (critical first), collection errors, and a
//! one-line totals sentence. Deterministic (no times, no version) so it can be snapshotted.

use super::{one_line, resource_label, resource_phrase, Report};
use crate::finding::{Finding, Severity, Status};
use comfy_table::{presets, Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};

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

    let mut out = String::new();
    out.push_str(&scope_line(report));
    out.push_str("\n\n");

    for fw in &report.summary.frameworks {
        let mut t = new_table();
        t.set_header(vec![head(&fw.name), head("Pass"), head("Fail"), head("Error")]);
        for fam in &fw.families {
            t.add_row(vec![Cell::new(&fam.family), count(fam.counts.pass, Color::Green), count(fam.counts.fail, Color::Red), count(fam.counts.error, Color::Yellow)]);
        }
        t.add_row(vec![head("All families"), count(fw.counts.pass, Color::Green), count(fw.counts.fail, Color::Red), count(fw.counts.error, Color::Yellow)]);
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }

    let mut problems: Vec<&Finding> = report.findings.iter().filter(|f| matches!(f.status, Status::Fail | Status::Error)).collect();
    problems.sort_by(|a, b| {
        (a.severity, a.status, &a.control_id, resource_label(&a.resource), &a.resource.arn).cmp(&(b.severity, b.status, &b.control_id, resource_label(&b.resource), &b.resource.arn))
    });
    if problems.is_empty() {
        out.push_str("No failing or errored findings.\n\n");
    } else {
        out.push_str("Failing and errored findings, most severe first:\n");
        let mut t = new_table();
        t.set_header(vec![head("Severity"), head("Status"), head("Control"), head("Resource"), head("Reason")]);
        for f in problems {
            let sev = Cell::new(f.severity.as_str());
            let sev = if color { sev.fg(severity_color(f.severity)).add_attribute(Attribute::Bold) } else { sev };
            let status = Cell::new(f.status.as_str());
            let status = if color { status.fg(if f.status == Status::Fail { Color::Red } else { Color::Yellow }) } else { status };
            t.add_row(vec![sev, status, Cell::new(&f.control_id), Cell::new(resource_phrase(&f.resource)), Cell::new(one_line(&f.message))]);
        }
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }

    if !report.errors.is_empty() {
        out.push_str("Collection errors (what these calls would have read was not checked):\n");
        let mut t = new_table();
        t.set_header(vec![head("Service"), head("Operation"), head("Region"), head("Resource"), head("Code"), head("Message")]);
        for e in &report.errors {
            t.add_row(vec![
                Cell::new(&e.service),
                Cell::new(&e.operation),
                Cell::new(&e.region),
                Cell::new(e.resource.as_deref().unwrap_or("-")),
                Cell::new(&e.code),
                Cell::new(one_line(&e.message)),
            ]);
        }
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }

    out.push_str(&totals(report));
    out.push('\n');
    out
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

/// E.g. "8 findings: 4 failing (1 critical, 2 high, 1 medium), 2 errored, 1 passing, 1 not applicable; 1 collection error. The scan is incomplete."
pub fn totals(report: &Report) -> String {
    let c = &report.summary.findings;
    let by_sev: Vec<String> = report.summary.failing_by_severity.iter().filter(|(_, n)| **n > 0).map(|(s, n)| format!("{n} {}", s.as_str())).collect();
    let failing = if by_sev.is_empty() { format!("{} failing", c.fail) } else { format!("{} failing ({})", c.fail, by_sev.join(", ")) };
    let mut s = format!(
        "{}: {failing}, {} errored, {} passing, {} not applicable; {}.",
        plural(c.total, "finding", "findings"),
        c.error,
        c.pass,
        c.not_applicable,
        plural(report.errors.len(), "collection error", "collection errors")
    );
    if report.incomplete() {
        s.push_str(" The scan is incomplete: what could not be read was not judged.");
    }
    s
}
