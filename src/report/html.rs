//! The HTML report (`--format html`, `tapaudit.html`): one self-contained file for people who
//! would rather look than read. Rendered from the [`Report`] like the table and SARIF; it shows
//! the findings' verdicts and the summary's counts, it judges nothing.
//!
//! - Self-contained: inline CSS and JS, no URL anywhere in markup or style (no CDN, fonts or
//!   images), and a Content-Security-Policy that allows only the page's own style and script
//!   (by SHA-256 hash) and no network at all. All report text is HTML-escaped ([`escape`]).
//! - Header: scope, times, an "incomplete scan" banner whenever errored findings or collection
//!   errors exist (a partial scan never looks clean), counts by status, failing by severity, and
//!   per framework pass / fail / error by family with the catalogue's coverage (checked
//!   automatically vs manual evidence).
//! - Failing and errored findings grouped by control (most severe first), each row with its
//!   resource, observed vs expected evidence, requirement ids, stack-file location, suppression
//!   and baseline state; the control's rationale and remediation once per group. Drift findings
//!   get their own section in the same form. Collection errors, expired suppressions and
//!   baseline-absent findings are listed.
//! - Filters (severity, status, framework, control/resource text) run in the inline script over
//!   the rendered rows' `data-*` attributes; they read and write the URL fragment
//!   (`#severity=critical,high&status=fail&framework=ferpa&q=bucket`). The script sets
//!   `data-ready="1"` on `<body>` when done (`data-js-error` on failure).
//! - Scale: passing and not-applicable findings are counted per control, not listed; at most
//!   [`MAX_ROWS_PER_CONTROL`] rows per control and [`MAX_ROWS`] in all are rendered, the rest
//!   counted ("N more — see tapaudit.json"); long evidence is cut at [`MAX_EVIDENCE_CHARS`].
//!
//! Stable hooks for tests and scripts: `#count-{total,pass,fail,error,not-applicable}` and
//! `#failing-{severity}` carry `data-count`; `article.framework[data-framework]` carries
//! `data-pass/fail/error`; `section.control[data-control]` carries `data-fail`, `data-error`,
//! `data-rendered`, `data-omitted` (and `data-visible` after filtering); `tr.finding` rows carry
//! `data-control`, `data-severity`, `data-status`, `data-kind`, `data-frameworks`.

use super::{one_line, resource_label, Report, Source};
use crate::controls::Catalogue;
use crate::finding::{BaselineState, Finding, Kind, Severity, Status};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Rows rendered per control at most; the rest are counted.
pub const MAX_ROWS_PER_CONTROL: usize = 200;
/// Finding rows rendered in all at most (controls in severity order take them first).
pub const MAX_ROWS: usize = 5000;
/// Characters of one side of a finding's evidence shown at most.
pub const MAX_EVIDENCE_CHARS: usize = 2000;

const SEVERITIES: [Severity; 5] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

/// Escape text for HTML element content and double- or single-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // control characters other than tab and newline are not valid in HTML text
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 (for the CSP hashes).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { A[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { A[n as usize & 63] as char } else { '=' });
    }
    out
}

fn csp_hash(text: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(text.as_bytes())))
}

/// The Content-Security-Policy of the page: nothing from anywhere, except its own inline style
/// and script (by hash).
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(CSS),
        csp_hash(JS)
    )
}

fn cut(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        (s.to_string(), false)
    } else {
        (s.chars().take(max).collect(), true)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Render the report as one HTML document.
pub fn render(report: &Report, catalogue: &Catalogue) -> String {
    let mut out = String::with_capacity(64 * 1024 + report.findings.len().min(MAX_ROWS) * 1200);
    let s = &report.scope;
    let title = match &s.stack {
        Some(stack) => format!("tapaudit report: stack {stack} ({})", s.source.as_str()),
        None => format!(
            "tapaudit report: {} ({})",
            s.account.as_deref().map(|a| format!("account {a}")).unwrap_or_else(|| "all resources".into()),
            s.source.as_str()
        ),
    };
    let c = &report.summary.findings;
    let incomplete = report.summary.incomplete || report.incomplete();
    let verdict = if incomplete {
        "incomplete"
    } else if c.fail > 0 {
        "failing"
    } else if c.total == 0 {
        "empty"
    } else {
        "clean"
    };

    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">", escape(&content_security_policy()));
    out.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<meta name=\"generator\" content=\"tapaudit {}\">", escape(&report.tool.version));
    let _ = writeln!(out, "<title>{}</title>", escape(&title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>");
    let _ = writeln!(out, "<body data-ready=\"0\" data-verdict=\"{verdict}\" data-incomplete=\"{}\">", u8::from(incomplete));

    header(&mut out, report, &title);
    banners(&mut out, report, incomplete, verdict);
    totals(&mut out, report);
    frameworks(&mut out, report);
    filters(&mut out, report);

    let problems =
        |kind: Kind| -> Vec<&Finding> { report.findings.iter().filter(|f| f.kind == kind && matches!(f.status, Status::Fail | Status::Error)).collect() };
    let mut budget = MAX_ROWS;
    out.push_str("<section id=\"findings\" class=\"findings-section\" data-kind=\"control\">\n<h2>Failing and errored findings by control</h2>\n");
    let _ = writeln!(
        out,
        "<p class=\"note\">Most severe first. At most {MAX_ROWS_PER_CONTROL} rows per control and {MAX_ROWS} in all are shown; every finding is in <code>tapaudit.json</code>. Passing findings are counted below, not listed.</p>"
    );
    groups(&mut out, catalogue, &problems(Kind::Control), &mut budget, "No failing or errored control findings.");
    out.push_str("</section>\n");

    out.push_str("<section id=\"drift\" class=\"findings-section\" data-kind=\"drift\">\n<h2>Drift: live resources against the stack file</h2>\n");
    let drift = problems(Kind::Drift);
    let drift_empty = if report.scope.stack.is_some() || report.findings.iter().any(|f| f.kind == Kind::Drift) {
        "No drift: the resources match the stack file."
    } else {
        "No drift checked: drift is compared only when a stack is scanned (--stack)."
    };
    groups(&mut out, catalogue, &drift, &mut budget, drift_empty);
    out.push_str("</section>\n");

    collection_errors(&mut out, report);
    suppressions_and_baseline(&mut out, report);
    passing(&mut out, report, catalogue);

    let _ = writeln!(
        out,
        "<footer><p>Generated by tapaudit {} from the same report as <code>tapaudit.json</code>. This file is self-contained: it loads nothing from the network.</p></footer>",
        escape(&report.tool.version)
    );
    out.push_str("<noscript><p class=\"note\">Scripts are off: every row is shown and the filters do nothing.</p></noscript>\n");
    let _ = writeln!(out, "<script>{JS}</script>\n</body>\n</html>");
    out
}

fn header(out: &mut String, report: &Report, title: &str) {
    let s = &report.scope;
    let _ = writeln!(out, "<header>\n<h1>{}</h1>", escape(title));
    let _ = writeln!(out, "<dl id=\"scope\" data-source=\"{}\">", s.source.as_str());
    let mut item = |k: &str, id: &str, v: &str| {
        let _ = writeln!(out, "<div><dt>{}</dt><dd id=\"scope-{id}\">{}</dd></div>", escape(k), escape(v));
    };
    item("Stack", "stack", s.stack.as_deref().unwrap_or("(account-wide scan)"));
    if let Some(f) = &s.stack_file {
        item("Stack file", "stack-file", f);
    }
    item("Account", "account", s.account.as_deref().unwrap_or("unknown"));
    item("Regions", "regions", &if s.regions.is_empty() { "none".to_string() } else { s.regions.join(", ") });
    let source = match s.source {
        Source::Live => "live: read from AWS during this run",
        Source::Snapshot => "snapshot: a State saved by an earlier scan",
        Source::Desired => "desired: the stack file, before deployment",
    };
    item("Source", "source", source);
    item("Endpoint", "endpoint", &s.endpoint);
    let fws: Vec<&str> = report.summary.frameworks.iter().map(|f| f.id.as_str()).collect();
    item("Frameworks", "frameworks", &if fws.is_empty() { "none".to_string() } else { fws.join(", ") });
    item("Started", "started", &report.started_at);
    item("Finished", "finished", &report.finished_at);
    let st = &report.stats;
    let resources: usize = st.resources.values().sum();
    item(
        "Collection",
        "collection",
        &format!("{} in scope, {} API calls, {:.1} s", plural(resources, "resource", "resources"), st.total_api_calls, st.wall_seconds),
    );
    item("Tool", "tool", &format!("{} {}", report.tool.name, report.tool.version));
    out.push_str("</dl>\n</header>\n");
}

fn banners(out: &mut String, report: &Report, incomplete: bool, verdict: &str) {
    let c = &report.summary.findings;
    if incomplete {
        let _ = writeln!(
            out,
            "<div id=\"incomplete-banner\" class=\"banner incomplete\" role=\"alert\" data-errored=\"{}\" data-collection-errors=\"{}\"><strong>Incomplete scan.</strong> {} and {}: what could not be read was not judged, so this report is no clean bill of health for it. See <a href=\"#collection-errors\">collection errors</a> and the errored rows below.</div>",
            c.error,
            report.errors.len(),
            plural(c.error, "finding could not be evaluated (error)", "findings could not be evaluated (error)"),
            plural(report.errors.len(), "collection call failed", "collection calls failed"),
        );
    }
    let text = match verdict {
        "incomplete" if c.fail > 0 => format!("{} and the scan is incomplete.", plural(c.fail, "failing finding", "failing findings")),
        "incomplete" => "No failing findings in what was read, but the scan is incomplete.".to_string(),
        "failing" => format!("{}.", plural(c.fail, "failing finding", "failing findings")),
        "empty" => "Nothing was checked: the report has no findings at all.".to_string(),
        _ => format!("No failing findings: all {} judged findings pass or do not apply.", c.total),
    };
    let _ = writeln!(out, "<p id=\"verdict\" class=\"verdict {verdict}\" data-verdict=\"{verdict}\">{}</p>", escape(&text));
}

fn totals(out: &mut String, report: &Report) {
    let c = &report.summary.findings;
    let suppressed = report.findings.iter().filter(|f| f.suppression.is_some()).count();
    out.push_str("<section id=\"totals\">\n<h2>Findings</h2>\n<div class=\"tiles\">\n");
    for (id, label, n) in [
        ("total", "total", c.total),
        ("fail", "failing", c.fail),
        ("error", "errored", c.error),
        ("pass", "passing", c.pass),
        ("not-applicable", "not applicable", c.not_applicable),
        ("collection-errors", "collection errors", report.summary.collection_errors),
        ("suppressed", "suppressed (still failing, accepted)", suppressed),
    ] {
        let _ = writeln!(
            out,
            "<div class=\"tile t-{id}\" id=\"count-{id}\" data-count=\"{n}\"><span class=\"n\">{n}</span> <span class=\"l\">{label}</span></div>"
        );
    }
    out.push_str("</div>\n<table id=\"failing-by-severity\" class=\"compact\"><caption>Failing findings by severity</caption><tr>");
    for sev in SEVERITIES {
        let _ = write!(out, "<th><span class=\"sev sev-{0}\">{0}</span></th>", sev.as_str());
    }
    out.push_str("</tr><tr>");
    for sev in SEVERITIES {
        let n = report.summary.failing_by_severity.get(&sev).copied().unwrap_or(0);
        let _ = write!(out, "<td id=\"failing-{}\" data-count=\"{n}\">{n}</td>", sev.as_str());
    }
    out.push_str("</tr></table>\n</section>\n");
}

fn frameworks(out: &mut String, report: &Report) {
    out.push_str("<section id=\"frameworks\">\n<h2>Frameworks</h2>\n");
    if report.summary.frameworks.is_empty() {
        out.push_str("<p>No framework in scope.</p>\n");
    }
    for fw in &report.summary.frameworks {
        let k = &fw.counts;
        let _ = writeln!(
            out,
            "<article class=\"framework\" id=\"fw-{0}\" data-framework=\"{0}\" data-pass=\"{1}\" data-fail=\"{2}\" data-error=\"{3}\">\n<h3>{4} <code>{0}</code></h3>",
            escape(&fw.id),
            k.pass,
            k.fail,
            k.error,
            escape(&fw.name)
        );
        let _ = writeln!(
            out,
            "<p class=\"fw-counts\"><span class=\"c-fail\">{} failing</span>, <span class=\"c-error\">{} errored</span>, <span class=\"c-pass\">{} passing</span> (each finding mapped to the framework counted once)</p>",
            k.fail, k.error, k.pass
        );
        if let Some(cov) = &fw.coverage {
            let manual = cov.total.saturating_sub(cov.checked);
            let _ = writeln!(
                out,
                "<p class=\"coverage\" data-checked=\"{}\" data-total=\"{}\" data-manual=\"{manual}\">Coverage: {} of {} requirement ids of {} are checked automatically; {manual} need manual evidence.</p>",
                cov.checked,
                cov.total,
                cov.checked,
                cov.total,
                escape(&cov.baseline)
            );
        }
        out.push_str("<table class=\"families compact\"><thead><tr><th>Family</th><th>Fail</th><th>Error</th><th>Pass</th>");
        let coverage: BTreeMap<&str, &crate::controls::coverage::FamilyCoverage> =
            fw.coverage.iter().flat_map(|c| c.families.iter()).map(|f| (f.family.as_str(), f)).collect();
        if fw.coverage.is_some() {
            out.push_str("<th>Checked automatically</th><th>Manual evidence</th>");
        }
        out.push_str("</tr></thead><tbody>\n");
        let mut shown = std::collections::BTreeSet::new();
        for fam in &fw.families {
            shown.insert(fam.family.as_str());
            let k = &fam.counts;
            let cls = if k.fail > 0 {
                " class=\"has-fail\""
            } else if k.error > 0 {
                " class=\"has-error\""
            } else {
                ""
            };
            let _ = write!(
                out,
                "<tr{cls} data-family=\"{0}\" data-fail=\"{1}\" data-error=\"{2}\" data-pass=\"{3}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td>",
                escape(&fam.family),
                k.fail,
                k.error,
                k.pass
            );
            if fw.coverage.is_some() {
                coverage_cells(out, coverage.get(fam.family.as_str()).copied());
            }
            out.push_str("</tr>\n");
        }
        // families of the baseline no catalogue requirement belongs to (manual evidence only)
        if let Some(cov) = &fw.coverage {
            for fam in cov.families.iter().filter(|f| !shown.contains(f.family.as_str())) {
                let _ = write!(
                    out,
                    "<tr data-family=\"{0}\" data-fail=\"0\" data-error=\"0\" data-pass=\"0\"><td>{0}</td><td>0</td><td>0</td><td>0</td>",
                    escape(&fam.family)
                );
                coverage_cells(out, Some(fam));
                out.push_str("</tr>\n");
            }
        }
        out.push_str("</tbody></table>\n");
        let hit: Vec<&super::RequirementSummary> = fw.requirements.iter().filter(|r| r.counts.fail + r.counts.error > 0).collect();
        if !hit.is_empty() {
            let _ = writeln!(
                out,
                "<details class=\"requirements\"><summary>{} with failing or errored findings</summary><table class=\"compact\"><thead><tr><th>Requirement</th><th>Title</th><th>Fail</th><th>Error</th><th>Pass</th></tr></thead><tbody>",
                plural(hit.len(), "requirement", "requirements")
            );
            for r in hit {
                let _ = writeln!(
                    out,
                    "<tr data-requirement=\"{0}\" data-fail=\"{2}\" data-error=\"{3}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td></tr>",
                    escape(&r.id),
                    escape(&one_line(&r.title)),
                    r.counts.fail,
                    r.counts.error,
                    r.counts.pass
                );
            }
            out.push_str("</tbody></table></details>\n");
        }
        out.push_str("</article>\n");
    }
    out.push_str("</section>\n");
}

fn coverage_cells(out: &mut String, fam: Option<&crate::controls::coverage::FamilyCoverage>) {
    match fam {
        Some(f) => {
            let _ = write!(out, "<td data-checked=\"{0}\">{0}</td><td data-manual=\"{1}\">", f.checked.len(), f.not_checked.len());
            if f.not_checked.is_empty() {
                out.push('0');
            } else {
                let _ = write!(out, "<details><summary>{}</summary>{}</details>", f.not_checked.len(), escape(&f.not_checked.join(", ")));
            }
            out.push_str("</td>");
        }
        None => out.push_str("<td>-</td><td>-</td>"),
    }
}

fn filters(out: &mut String, report: &Report) {
    out.push_str(
        "<section id=\"filters\">\n<h2>Filter the findings below</h2>\n<form id=\"filter-form\" autocomplete=\"off\">\n<fieldset><legend>Severity</legend>",
    );
    for sev in SEVERITIES {
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" name=\"severity\" value=\"{0}\" checked> <span class=\"sev sev-{0}\">{0}</span></label> ",
            sev.as_str()
        );
    }
    out.push_str("</fieldset>\n<fieldset><legend>Status</legend>");
    for st in ["fail", "error"] {
        let _ = write!(out, "<label><input type=\"checkbox\" name=\"status\" value=\"{st}\" checked> {st}</label> ");
    }
    out.push_str("</fieldset>\n<label class=\"field\">Framework <select name=\"framework\"><option value=\"\">all</option>");
    for fw in &report.summary.frameworks {
        let _ = write!(out, "<option value=\"{}\">{}</option>", escape(&fw.id), escape(&fw.name));
    }
    out.push_str("</select></label>\n<label class=\"field\">Control or resource <input type=\"search\" name=\"q\" placeholder=\"e.g. kms, bucket name, ARN\"></label>\n<button type=\"reset\" id=\"filter-reset\">Show all</button>\n</form>\n");
    out.push_str("<p id=\"filter-result\" class=\"note\" data-visible-rows=\"\"></p>\n<p class=\"note\">Filters can be set in the address: <code>#severity=critical,high&amp;status=fail&amp;framework=fedramp-moderate&amp;q=bucket</code>. They apply to the rows shown in this page.</p>\n</section>\n");
}

/// The failing and errored findings of one kind, grouped by control, most severe first.
fn groups(out: &mut String, catalogue: &Catalogue, findings: &[&Finding], budget: &mut usize, empty: &str) {
    if findings.is_empty() {
        let _ = writeln!(out, "<p class=\"empty\">{}</p>", escape(empty));
        return;
    }
    let mut by_control: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_control.entry(f.control_id.as_str()).or_default().push(f);
    }
    let mut order: Vec<(&str, Vec<&Finding>)> = by_control.into_iter().collect();
    let rank = |fs: &[&Finding]| {
        let sev = fs.iter().map(|f| f.severity).min().unwrap_or(Severity::Info);
        let only_errors = fs.iter().all(|f| f.status == Status::Error);
        (sev, only_errors)
    };
    order.sort_by(|(a_id, a), (b_id, b)| (rank(a), *a_id).cmp(&(rank(b), *b_id)));
    for (control, fs) in order {
        let meta = catalogue.controls.get(control);
        let severity = rank(&fs).0;
        let fails = fs.iter().filter(|f| f.status == Status::Fail).count();
        let errors = fs.len() - fails;
        let rendered = fs.len().min(MAX_ROWS_PER_CONTROL).min(*budget);
        *budget -= rendered;
        let omitted = fs.len() - rendered;
        let title = meta.map(|m| m.title.as_str()).unwrap_or(fs[0].title.as_str());
        let _ = writeln!(
            out,
            "<section class=\"control\" id=\"control-{0}\" data-control=\"{0}\" data-kind=\"{1}\" data-severity=\"{2}\" data-fail=\"{3}\" data-error=\"{4}\" data-rendered=\"{5}\" data-omitted=\"{6}\">",
            escape(control),
            if fs[0].kind == Kind::Drift { "drift" } else { "control" },
            severity.as_str(),
            fails,
            errors,
            rendered,
            omitted
        );
        let mut counts = Vec::new();
        if fails > 0 {
            counts.push(format!("{fails} failing"));
        }
        if errors > 0 {
            counts.push(format!("{errors} errored"));
        }
        let _ = writeln!(
            out,
            "<h3><span class=\"sev sev-{0}\">{0}</span> <code>{1}</code> {2} <span class=\"group-count\">{3}</span></h3>",
            severity.as_str(),
            escape(control),
            escape(&one_line(title)),
            counts.join(", ")
        );
        if let Some(m) = meta {
            let _ = writeln!(
                out,
                "<div class=\"remediation\"><dl><dt>Fix in the stack file</dt><dd>{}</dd><dt>Console</dt><dd>{}</dd><dt>CLI</dt><dd><code>{}</code></dd></dl><details><summary>Why it matters</summary><p>{}</p></details></div>",
                escape(&one_line(&m.remediation.stack)),
                escape(&one_line(&m.remediation.console)),
                escape(&one_line(&m.remediation.cli)),
                escape(&one_line(&m.rationale))
            );
        }
        if rendered > 0 {
            out.push_str("<table class=\"findings\"><thead><tr><th>Status</th><th>Resource</th><th>Finding</th><th>Evidence</th><th>Requirements</th><th>Stack file</th></tr></thead><tbody>\n");
            for f in &fs[..rendered] {
                row(out, f);
            }
            out.push_str("</tbody></table>\n");
        }
        if omitted > 0 {
            let _ = writeln!(
                out,
                "<p class=\"more\" data-omitted=\"{omitted}\">{omitted} more {} of this control not shown here — see <code>tapaudit.json</code>.</p>",
                if omitted == 1 { "finding" } else { "findings" }
            );
        }
        out.push_str("<p class=\"none-visible\" hidden>No row of this control matches the filters.</p>\n</section>\n");
    }
}

fn evidence_block(out: &mut String, label: &str, v: &crate::finding::Json) {
    let text = match v {
        crate::finding::Json::String(s) => s.to_string(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    let (text, was_cut) = cut(&text, MAX_EVIDENCE_CHARS);
    let _ = write!(out, "<div class=\"ev\"><span class=\"ev-l\">{label}</span><pre>{}", escape(&text));
    if was_cut {
        out.push_str("\n… (cut; the whole value is in tapaudit.json)");
    }
    out.push_str("</pre></div>");
}

fn row(out: &mut String, f: &Finding) {
    let r = &f.resource;
    let label = resource_label(r);
    let mut text = [f.control_id.as_str(), f.title.as_str(), r.resource_type.as_str(), r.id.as_str(), r.arn.as_str(), r.region.as_str(), label]
        .into_iter()
        .chain(r.name.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    text = one_line(&text);
    let frameworks: Vec<&str> = f.frameworks.keys().map(String::as_str).collect();
    let _ = write!(
        out,
        "<tr class=\"finding s-{1}\" data-control=\"{0}\" data-severity=\"{2}\" data-status=\"{1}\" data-kind=\"{3}\" data-frameworks=\"{4}\" data-suppressed=\"{5}\" data-baseline=\"{6}\" data-text=\"{7}\">",
        escape(&f.control_id),
        f.status.as_str(),
        f.severity.as_str(),
        if f.kind == Kind::Drift { "drift" } else { "control" },
        escape(&frameworks.join(" ")),
        u8::from(f.suppression.is_some()),
        f.baseline_state.map(BaselineState::as_str).unwrap_or(""),
        escape(&text)
    );
    // status
    let _ = write!(out, "<td class=\"status\"><span class=\"st st-{0}\">{0}</span>", f.status.as_str());
    if let Some(b) = f.baseline_state {
        let _ = write!(out, " <span class=\"badge b-{0}\">{0}</span>", b.as_str());
    }
    if f.suppression.is_some() {
        out.push_str(" <span class=\"badge b-suppressed\">suppressed</span>");
    }
    out.push_str("</td>");
    // resource
    let _ = write!(out, "<td class=\"resource\"><strong>{}</strong><br><code>{}</code>", escape(label), escape(&r.resource_type));
    if !r.region.is_empty() {
        let _ = write!(out, " · {}", escape(&r.region));
    }
    if label != r.id {
        let _ = write!(out, "<br><span class=\"rid\">id {}</span>", escape(&r.id));
    }
    if !r.arn.is_empty() {
        let _ = write!(out, "<br><code class=\"arn\">{}</code>", escape(&r.arn));
    }
    out.push_str("</td>");
    // message + suppression
    let _ = write!(out, "<td class=\"message\">{}", escape(&one_line(&f.message)));
    if let Some(s) = &f.suppression {
        let _ = write!(out, "<p class=\"suppression\">Suppressed: {}", escape(&one_line(&s.reason)));
        if let Some(exp) = &s.expires {
            let _ = write!(out, " (until {})", escape(exp));
        }
        let _ = write!(out, " — {}:{}</p>", escape(&s.source.path), s.source.line);
    }
    out.push_str("</td><td class=\"evidence\">");
    evidence_block(out, "observed", &f.evidence.observed);
    evidence_block(out, "expected", &f.evidence.expected);
    out.push_str("</td><td class=\"reqs\">");
    for (fw, reqs) in f.frameworks.iter() {
        let _ = write!(out, "<div><span class=\"fw\">{}</span> {}</div>", escape(fw), escape(&reqs.join(", ")));
    }
    out.push_str("</td><td class=\"loc\">");
    match &f.location {
        Some(l) => {
            let _ = write!(out, "<code>{}:{}</code>", escape(&l.path), l.line);
        }
        None => out.push('-'),
    }
    out.push_str("</td></tr>\n");
}

fn collection_errors(out: &mut String, report: &Report) {
    let _ = writeln!(out, "<section id=\"collection-errors\" data-count=\"{}\">\n<h2>Collection errors</h2>", report.errors.len());
    if report.errors.is_empty() {
        out.push_str("<p class=\"empty\">Every collection call succeeded.</p>\n</section>\n");
        return;
    }
    out.push_str("<p class=\"note\">What these calls would have read was not checked.</p>\n<table class=\"compact\"><thead><tr><th>Service</th><th>Operation</th><th>Region</th><th>Resource</th><th>Code</th><th>Message</th></tr></thead><tbody>\n");
    for e in &report.errors {
        let _ = writeln!(
            out,
            "<tr class=\"collection-error\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&e.service),
            escape(&e.operation),
            escape(&e.region),
            escape(e.resource.as_deref().unwrap_or("-")),
            escape(&e.code),
            escape(&one_line(&e.message))
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

fn suppressions_and_baseline(out: &mut String, report: &Report) {
    let suppressed = report.findings.iter().filter(|f| f.suppression.is_some()).count();
    if suppressed > 0 || !report.expired_suppressions.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"suppressions\" data-suppressed=\"{suppressed}\" data-expired=\"{}\">\n<h2>Suppressions</h2>",
            report.expired_suppressions.len()
        );
        let _ = writeln!(
            out,
            "<p>{} accepted by suppressions: shown in the rows above with their reason, left out of the exit code.</p>",
            plural(suppressed, "failing finding is", "failing findings are")
        );
        if !report.expired_suppressions.is_empty() {
            out.push_str("<table class=\"compact\"><caption>Expired suppressions (they no longer apply)</caption><thead><tr><th>Control</th><th>Resource</th><th>Reason</th><th>Expired</th><th>Declared at</th></tr></thead><tbody>\n");
            for e in &report.expired_suppressions {
                let _ = writeln!(
                    out,
                    "<tr class=\"expired-suppression\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}:{}</code></td></tr>",
                    escape(&e.control),
                    escape(&e.resource),
                    escape(&one_line(&e.reason)),
                    escape(&e.expired),
                    escape(&e.source.path),
                    e.source.line
                );
            }
            out.push_str("</tbody></table>\n");
        }
        out.push_str("</section>\n");
    }
    if report.findings.iter().any(|f| f.baseline_state.is_some()) || !report.absent.is_empty() {
        let new = report.findings.iter().filter(|f| f.baseline_state == Some(BaselineState::New)).count();
        let same = report.findings.iter().filter(|f| f.baseline_state == Some(BaselineState::Unchanged)).count();
        let _ = writeln!(
            out,
            "<section id=\"baseline\" data-new=\"{new}\" data-unchanged=\"{same}\" data-absent=\"{}\">\n<h2>Against the baseline</h2>\n<p>{new} new, {same} unchanged, {} absent (fixed since the baseline).</p>",
            report.absent.len(),
            report.absent.len()
        );
        if !report.absent.is_empty() {
            let shown = report.absent.len().min(MAX_ROWS_PER_CONTROL);
            out.push_str("<table class=\"compact\"><caption>Fixed since the baseline</caption><thead><tr><th>Control</th><th>Resource</th><th>Severity</th></tr></thead><tbody>\n");
            for f in &report.absent[..shown] {
                let _ = writeln!(
                    out,
                    "<tr class=\"absent\"><td><code>{0}</code></td><td>{1} <code>{2}</code></td><td><span class=\"sev sev-{3}\">{3}</span></td></tr>",
                    escape(&f.control_id),
                    escape(resource_label(&f.resource)),
                    escape(&f.resource.resource_type),
                    f.severity.as_str()
                );
            }
            out.push_str("</tbody></table>\n");
            if shown < report.absent.len() {
                let _ = writeln!(out, "<p class=\"more\">{} more — see <code>tapaudit.json</code>.</p>", report.absent.len() - shown);
            }
        }
        out.push_str("</section>\n");
    }
}

fn passing(out: &mut String, report: &Report, catalogue: &Catalogue) {
    let mut by_control: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for f in &report.findings {
        let e = by_control.entry(f.control_id.as_str()).or_default();
        match f.status {
            Status::Pass => e.0 += 1,
            Status::NotApplicable => e.1 += 1,
            Status::Fail | Status::Error => e.2 += 1,
        }
    }
    let c = &report.summary.findings;
    let _ = writeln!(
        out,
        "<section id=\"passing\" data-pass=\"{}\" data-not-applicable=\"{}\">\n<h2>Passing and not applicable, per control</h2>\n<p class=\"note\">Counted, not listed: every one is in <code>tapaudit.json</code>.</p>",
        c.pass, c.not_applicable
    );
    if by_control.is_empty() {
        out.push_str("<p class=\"empty\">No findings.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table class=\"compact\"><thead><tr><th>Control</th><th>Title</th><th>Pass</th><th>Not applicable</th><th>Fail or error</th></tr></thead><tbody>\n",
    );
    for (control, (pass, na, bad)) in by_control {
        let title = catalogue.controls.get(control).map(|m| m.title.clone()).unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr class=\"control-total\" data-control=\"{0}\" data-pass=\"{2}\" data-not-applicable=\"{3}\" data-problems=\"{4}\"><td><code>{0}</code></td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td></tr>",
            escape(control),
            escape(&one_line(&title)),
            pass,
            na,
            bad
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

const CSS: &str = r#"
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--panel:#f6f8fa;--fail:#cf222e;--error:#9a6700;--pass:#1a7f37;--crit:#8250df}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--panel:#161b22;--fail:#ff7b72;--error:#d29922;--pass:#3fb950;--crit:#bc8cff}}
[hidden]{display:none!important}
body{margin:0 auto;max-width:1400px;padding:1rem 1.5rem 3rem;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
h1{font-size:1.5rem;margin:.2rem 0 .6rem}h2{font-size:1.2rem;margin:1.8rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}h3{font-size:1rem;margin:1.2rem 0 .4rem}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
pre{margin:.1rem 0 .3rem;padding:.3rem .4rem;background:var(--panel);border:1px solid var(--line);border-radius:4px;white-space:pre-wrap;word-break:break-word;max-height:16rem;overflow:auto}
#scope{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:.2rem 1rem;margin:0}
#scope div{display:flex;gap:.5rem}#scope dt{color:var(--muted);min-width:6.5rem}#scope dd{margin:0;word-break:break-all}
.banner{margin:1rem 0;padding:.8rem 1rem;border-radius:6px;border:2px solid var(--error);background:rgba(210,153,34,.15)}
.verdict{font-size:1.1rem;font-weight:600;margin:.8rem 0}.verdict.failing,.verdict.incomplete{color:var(--fail)}.verdict.empty{color:var(--error)}.verdict.clean{color:var(--pass)}
.tiles{display:flex;flex-wrap:wrap;gap:.6rem;margin-bottom:.8rem}.tile{border:1px solid var(--line);border-radius:6px;padding:.4rem .8rem;background:var(--panel);min-width:6rem}
.tile .n{display:block;font-size:1.5rem;font-weight:700}.t-fail .n{color:var(--fail)}.t-error .n,.t-collection-errors .n{color:var(--error)}.t-pass .n{color:var(--pass)}
table{border-collapse:collapse;width:100%;margin:.3rem 0}th,td{border:1px solid var(--line);padding:.25rem .45rem;text-align:left;vertical-align:top}th{background:var(--panel)}
table.compact{width:auto}caption{text-align:left;font-weight:600;padding:.2rem 0}
tr.has-fail td:nth-child(2){color:var(--fail);font-weight:600}tr.has-error td:nth-child(3){color:var(--error);font-weight:600}
.sev{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:12px;font-weight:600;color:#fff;background:#6e7781}
.sev-critical{background:var(--crit)}.sev-high{background:#cf222e}.sev-medium{background:#bf8700}.sev-low{background:#0969da}.sev-info{background:#6e7781}
.st{font-weight:700}.st-fail{color:var(--fail)}.st-error{color:var(--error)}
.badge{display:inline-block;margin-top:.2rem;padding:0 .3rem;border:1px solid var(--line);border-radius:3px;font-size:11px}
.b-suppressed{border-style:dashed}.b-new{border-color:var(--fail)}
section.control{border:1px solid var(--line);border-radius:6px;padding:.2rem .8rem .6rem;margin:.8rem 0}
.group-count{color:var(--muted);font-weight:400}
.remediation dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.2rem 0}.remediation dt{color:var(--muted)}.remediation dd{margin:0}
td.resource{word-break:break-all;min-width:12rem}td.evidence{min-width:16rem;max-width:32rem}.ev-l{color:var(--muted);font-size:12px}
tr.finding.s-error{background:rgba(210,153,34,.08)}.suppression{color:var(--muted);margin:.3rem 0 0}
.note,.empty{color:var(--muted)}.more{font-weight:600}
#filters form{display:flex;flex-wrap:wrap;gap:.6rem 1.2rem;align-items:center}fieldset{border:1px solid var(--line);border-radius:6px;padding:.2rem .6rem}
input[type=search]{min-width:16rem}
footer{margin-top:2rem;color:var(--muted)}
"#;

const JS: &str = r##"
(function () {
  "use strict";
  var body = document.body;
  window.addEventListener("error", function (e) {
    body.setAttribute("data-js-error", String((e && e.message) || e));
  });
  var SEVERITIES = ["critical", "high", "medium", "low", "info"];
  var STATUSES = ["fail", "error"];
  var form = document.getElementById("filter-form");
  var result = document.getElementById("filter-result");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.finding"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("section.control"));

  function list(v, all) {
    if (v === undefined || v === null) return all.slice();
    return String(v).toLowerCase().split(",").map(function (s) { return s.trim(); }).filter(function (s) { return s; });
  }
  function fromHash() {
    var p = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf("=");
      var k = i < 0 ? kv : kv.slice(0, i);
      var v = i < 0 ? "" : kv.slice(i + 1);
      try { p[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, " ")); } catch (err) { p[k] = v; }
    });
    return {
      severity: list(p.severity, SEVERITIES),
      status: list(p.status, STATUSES),
      framework: (p.framework || "").trim(),
      q: (p.q || "").trim().toLowerCase()
    };
  }
  function checked(name) {
    return Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name="' + name + '"]'))
      .filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
  }
  function fromForm() {
    return {
      severity: checked("severity"),
      status: checked("status"),
      framework: form.elements.framework.value,
      q: form.elements.q.value.trim().toLowerCase()
    };
  }
  function toForm(f) {
    Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox]")).forEach(function (b) {
      b.checked = (f[b.name] || []).indexOf(b.value) >= 0;
    });
    var sel = form.elements.framework;
    sel.value = f.framework;
    if (sel.value !== f.framework) {
      // an id not in this report: keep it visible as an option (it matches nothing)
      var o = document.createElement("option");
      o.value = f.framework; o.textContent = f.framework + " (not in this report)";
      sel.appendChild(o); sel.value = f.framework;
    }
    form.elements.q.value = f.q;
  }
  function same(a, b) { return a.length === b.length && a.every(function (x) { return b.indexOf(x) >= 0; }); }
  function toHash(f) {
    var parts = [];
    if (!same(f.severity, SEVERITIES)) parts.push("severity=" + encodeURIComponent(f.severity.join(",")));
    if (!same(f.status, STATUSES)) parts.push("status=" + encodeURIComponent(f.status.join(",")));
    if (f.framework) parts.push("framework=" + encodeURIComponent(f.framework));
    if (f.q) parts.push("q=" + encodeURIComponent(f.q));
    return parts.join("&");
  }
  function apply(f) {
    var filtering = toHash(f) !== "";
    var shown = 0;
    rows.forEach(function (r) {
      var d = r.dataset;
      var ok = f.severity.indexOf(d.severity) >= 0 &&
        f.status.indexOf(d.status) >= 0 &&
        (!f.framework || (" " + d.frameworks + " ").indexOf(" " + f.framework + " ") >= 0) &&
        (!f.q || d.text.indexOf(f.q) >= 0);
      r.hidden = !ok;
      if (ok) shown++;
    });
    groups.forEach(function (g) {
      var n = g.querySelectorAll("tr.finding:not([hidden])").length;
      g.setAttribute("data-visible", String(n));
      g.hidden = filtering && n === 0;
      var none = g.querySelector(".none-visible");
      if (none) none.hidden = !(filtering && n === 0 && Number(g.dataset.rendered) > 0);
    });
    result.setAttribute("data-visible-rows", String(shown));
    result.setAttribute("data-filter", toHash(f));
    result.textContent = shown + " of " + rows.length + " finding rows shown" + (filtering ? " (filtered: " + toHash(f) + ")" : "") + ".";
  }
  function writeHash(f) {
    var h = toHash(f);
    var url = location.pathname + location.search + (h ? "#" + h : "");
    try { history.replaceState(null, "", url); } catch (err) { location.hash = h; }
  }
  function onHash() { var f = fromHash(); toForm(f); apply(f); }
  form.addEventListener("input", function () { var f = fromForm(); apply(f); writeHash(f); });
  form.addEventListener("change", function () { var f = fromForm(); apply(f); writeHash(f); });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("reset", function () {
    setTimeout(function () { var f = fromForm(); apply(f); writeHash(f); }, 0);
  });
  window.addEventListener("hashchange", onHash);
  onHash();
  body.setAttribute("data-ready", "1");
})();
"##;

#[cfg(test)]
mod tests;
