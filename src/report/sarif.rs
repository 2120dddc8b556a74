//! SARIF 2.1.0 for GitHub code scanning (rules in ../shared/notes/sarif.md; checked by
//! scripts/validate-sarif.sh).
//!
//! - One run. One rule per catalogue control that maps to a framework in scope (plus, should one
//!   ever appear, any control a finding names that the catalogue lacks), so rule metadata does
//!   not depend on which findings a run happened to have.
//! - Results: `fail` findings at their severity's level, `error` findings (evidence could not
//!   be read) at `warning`. Passing and not-applicable findings are left out.
//! - Location (GitHub needs a relative URI and a `startLine`; only the first location is used):
//!   1. the stack-file line that declared the resource or setting (`Finding::location`);
//!   2. else line 1 of the scanned stack file (`Scope::stack_file`);
//!   3. else (account-wide scans) a stable virtual path `aws/<account>/<region>/<service>/<type>`
//!      (e.g. `aws/123456789012/us-east-1/kms/key`), line 1. It is not a file in the
//!      repository; GitHub still accepts and lists the alert.
//!
//!   All URIs are relative with `uriBaseId` `%SRCROOT%`. The resource's ARN (or id when it has
//!   none) is the result's `logicalLocations[0].fullyQualifiedName`.
//! - Fingerprints: see [`fingerprint`]; set as both `tapaudit/v1` and GitHub's
//!   `primaryLocationLineHash`, so an alert keeps its identity when stack-file lines move or
//!   messages change, and the upload action does not try to hash a file that is not there.
//! - `automationDetails.id`: `tapaudit/<stack or account>/` (a category, GitHub adds the run
//!   id); checks of a stack file's desired State get `tapaudit/<stack>/desired/` so they do not
//!   replace the live scan's alerts.
//! - Collection errors become `invocations[0].toolExecutionNotifications` (level `error`; at most
//!   [`MAX_ERROR_NOTIFICATIONS`], then one saying how many more).
//!
//! # Limits
//!
//! GitHub rejects a whole file over one of its hard limits (the constants below, with the doc
//! pages they come from), so the log is made to fit instead of being split:
//! - One run (GitHub deprecates several runs of one tool and category in a file), so at most
//!   [`MAX_RESULTS_PER_RUN`] results. When there are more, the run keeps the most severe:
//!   ranked by severity (critical first, a finding's own severity whether it failed or errored),
//!   then the report's stable order; baseline findings that are gone (`absent`) come last.
//!   Kept results stay in the report's order.
//! - The gzipped document (exactly what [`to_sarif_string`] writes, measured with
//!   [`gzipped_len`]) must stay at or under [`GZIP_BUDGET_BYTES`] (5% under GitHub's
//!   [`MAX_GZIP_BYTES`]). When it does not, the least severe of the kept results are dropped in
//!   proportion to the excess (5% headroom, at least one) and the document is measured again.
//! - Whenever results are left out, `invocations[0].toolExecutionNotifications[0]` is a
//!   `warning` that says how many of how many were kept, which limits applied, how many were
//!   left out per severity, and where the full list is (`tapaudit.json`, relative to the SARIF
//!   file, see [`SarifOptions::full_report`]); `run.properties` then carries `truncated: true`
//!   and `resultLimits` (`total`, `included`, `omitted`, `omittedBySeverity`, `omittedAbsent`,
//!   `limits`, `maxResults`, `maxGzipBytes`, `fullReport`). Uncapped runs have neither.
//! - Rules: tags deduplicated and cut to [`MAX_TAGS_PER_RULE`], descriptions to
//!   [`MAX_DESCRIPTION_CHARS`], names to [`MAX_NAME_CHARS`]; result messages and suppression
//!   justifications to [`MAX_MESSAGE_CHARS`]. One location per result. Which findings become
//!   results is unchanged by all this: only how many.

use super::{one_line, resource_label, resource_phrase, Report, Source};
use crate::controls::{Catalogue, ControlMeta};
use crate::finding::{Finding, Json, Kind, Severity, Status};
use serde_json::{json, Map, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification, PhysicalLocation, PropertyBag, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif, Suppression, Tool, ToolComponent,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// `$schema` of the log.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// `uriBaseId` of every location: the repository root.
pub const SRCROOT: &str = "%SRCROOT%";
/// Key of tapaudit's own partial fingerprint.
pub const FINGERPRINT_KEY: &str = "tapaudit/v1";

// GitHub code scanning's limits. Sources: "SARIF support for code scanning"
// (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning),
// "SARIF results exceed limits"
// (https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit)
// and "SARIF file is too large"
// (https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/file-too-large).
// Over a hard limit GitHub rejects the whole file.

/// Results per run (hard limit; GitHub shows the top 5,000 by severity).
pub const MAX_RESULTS_PER_RUN: usize = 25_000;
/// Runs per file (hard limit). tapaudit writes one.
pub const MAX_RUNS_PER_FILE: usize = 20;
/// Rules per run (hard limit). One per catalogue control in scope (85 controls today).
pub const MAX_RULES_PER_RUN: usize = 25_000;
/// Locations per result (hard limit; 100 shown). tapaudit writes one.
pub const MAX_LOCATIONS_PER_RESULT: usize = 1_000;
/// Tags per rule (hard limit; 10 shown).
pub const MAX_TAGS_PER_RULE: usize = 20;
/// Rule `shortDescription` / `fullDescription` text.
pub const MAX_DESCRIPTION_CHARS: usize = 1_024;
/// Rule `name`.
pub const MAX_NAME_CHARS: usize = 255;
/// The gzip-compressed file ("10 MB"; read as 10,000,000 bytes, the stricter reading).
pub const MAX_GZIP_BYTES: u64 = 10_000_000;
/// What tapaudit aims at: 5% under [`MAX_GZIP_BYTES`], for an uploader whose gzip compresses
/// a little worse than ours (flate2, default level 6, like zlib's).
pub const GZIP_BUDGET_BYTES: u64 = MAX_GZIP_BYTES / 20 * 19;
/// tapaudit's own cap on a result's or notification's message (GitHub sets none; an alert's
/// message is its headline).
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// tapaudit's own cap on collection-error notifications (one more says how many were left out).
pub const MAX_ERROR_NOTIFICATIONS: usize = 1_000;

/// SARIF level for a failing finding of this severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The changed field of a drift finding, for its fingerprint (so two fields drifting on one
/// resource are two alerts). Convention for drift findings: `evidence.expected.field` or
/// `evidence.observed.field` (a string) names the field; failing that, when both sides are JSON
/// objects, the sorted union of their keys is used. Empty for everything else.
pub fn drift_field(f: &Finding) -> String {
    if f.kind != Kind::Drift {
        return String::new();
    }
    let (exp, obs) = (&f.evidence.expected, &f.evidence.observed);
    for side in [exp, obs] {
        if let Some(field) = side.get("field").and_then(Json::as_str) {
            return field.to_string();
        }
    }
    match (exp.keys(), obs.keys()) {
        (Some(e), Some(o)) => {
            let mut keys: Vec<&str> = e.chain(o).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.join(",")
        }
        _ => String::new(),
    }
}

fn fingerprint_input(f: &Finding) -> String {
    let kind = match f.kind {
        Kind::Control => "control",
        Kind::Drift => "drift",
    };
    let r = &f.resource;
    let resource = if r.arn.is_empty() { format!("{}\u{0}{}\u{0}{}", r.resource_type, r.region, r.id) } else { r.arn.clone() };
    format!("{FINGERPRINT_KEY}\u{0}{}\u{0}{kind}\u{0}{resource}\u{0}{}", f.control_id, drift_field(f))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A finding's identity across runs: SHA-256 (hex) of control id, kind, the resource (ARN, or
/// type + region + id when it has no ARN) and, for drift, the changed field ([`drift_field`]).
/// Messages, evidence values, severity, status and stack-file lines are left out on purpose:
/// they change while the problem stays the same one.
pub fn fingerprint(f: &Finding) -> String {
    sha256_hex(&fingerprint_input(f))
}

/// Cut to at most `max` characters (on a char boundary), ending with "…" when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// `kms-key-rotation-enabled` → `KmsKeyRotationEnabled`.
pub fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|first| first.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// End a sentence with a period (SARIF's style rule for messages).
fn sentence(s: &str) -> String {
    let s = one_line(s);
    if s.ends_with(['.', '!', '?']) {
        s
    } else {
        s + "."
    }
}

/// Escape text for GitHub markdown (angle brackets would be taken as HTML and dropped).
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '*' | '_' | '`' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn md_code(s: &str) -> String {
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

fn text(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

fn message(s: impl Into<String>) -> Message {
    Message::builder().text(s.into()).build()
}

/// A property bag; `tags` are deduplicated and cut to [`MAX_TAGS_PER_RULE`] (`security`, which
/// GitHub needs for `security-severity`, comes first and stays).
fn properties(map: BTreeMap<String, Value>, tags: Option<Vec<String>>) -> PropertyBag {
    let mut bag = PropertyBag::builder().additional_properties(map).build();
    bag.tags = tags.map(|tags| {
        let mut out: Vec<String> = Vec::new();
        for t in tags {
            if !out.contains(&t) && out.len() < MAX_TAGS_PER_RULE {
                out.push(t);
            }
        }
        out
    });
    bag
}

/// A rule's `name`, at most [`MAX_NAME_CHARS`].
fn rule_name(id: &str) -> String {
    pascal_case(id).chars().take(MAX_NAME_CHARS).collect()
}

/// (framework id, framework name, [(requirement id, requirement title)])
type FrameworkRequirements = (String, String, Vec<(String, String)>);

/// The in-scope requirements of a control, per framework.
fn requirements(catalogue: &Catalogue, frameworks: &BTreeMap<String, Vec<String>>, in_scope: &[String]) -> Vec<FrameworkRequirements> {
    in_scope
        .iter()
        .filter_map(|fw| {
            let reqs = frameworks.get(fw)?;
            let name = catalogue.frameworks.get(fw).map(|f| f.name.clone()).unwrap_or_else(|| fw.clone());
            let reqs = reqs.iter().map(|r| (r.clone(), catalogue.requirement(fw, r).map(|q| one_line(&q.title)).unwrap_or_default())).collect();
            Some((fw.clone(), name, reqs))
        })
        .collect()
}

fn rule_from_meta(catalogue: &Catalogue, c: &ControlMeta, in_scope: &[String]) -> ReportingDescriptor {
    let rationale = one_line(&c.rationale);
    let reqs = requirements(catalogue, &c.frameworks, in_scope);

    let mut help_text = format!(
        "{rationale}\n\nRemediation\n- Console: {}\n- CLI: {}\n- Stack file: {}\n",
        one_line(&c.remediation.console),
        one_line(&c.remediation.cli),
        one_line(&c.remediation.stack)
    );
    let mut help_md = format!(
        "{}\n\n**Remediation**\n\n- **Console:** {}\n- **CLI:** {}\n- **Stack file:** {}\n",
        md(&rationale),
        md(&one_line(&c.remediation.console)),
        md_code(&one_line(&c.remediation.cli)),
        md(&one_line(&c.remediation.stack))
    );
    if !reqs.is_empty() {
        help_text.push_str("\nFramework requirements\n");
        help_md.push_str("\n**Framework requirements**\n");
        for (_, name, list) in &reqs {
            help_text.push_str(&format!("{name}\n"));
            help_md.push_str(&format!("\n- {}\n", md(name)));
            for (id, title) in list {
                let sep = if title.is_empty() { "" } else { ": " };
                help_text.push_str(&format!("- {id}{sep}{title}\n"));
                help_md.push_str(&format!("  - **{}**{sep}{}\n", md(id), md(title)));
            }
        }
    }

    let mut tags = vec!["security".to_string()];
    for (fw, _, _) in &reqs {
        tags.push(fw.clone());
    }
    if !tags.contains(&c.service) {
        tags.push(c.service.clone());
    }
    let frameworks: BTreeMap<String, Vec<String>> = reqs.iter().map(|(fw, _, list)| (fw.clone(), list.iter().map(|(id, _)| id.clone()).collect())).collect();

    ReportingDescriptor::builder()
        .id(c.id.clone())
        .name(rule_name(&c.id))
        .short_description(text(truncate(&one_line(&c.title), MAX_DESCRIPTION_CHARS)))
        .full_description(text(truncate(&rationale, MAX_DESCRIPTION_CHARS)))
        .help(MultiformatMessageString::builder().text(help_text.trim_end().to_string()).markdown(help_md.trim_end().to_string()).build())
        .default_configuration(ReportingConfiguration::builder().level(json!(level(c.severity))).build())
        .properties(properties(
            BTreeMap::from([
                ("security-severity".to_string(), json!(c.severity.score())),
                ("precision".to_string(), json!("high")),
                ("severity".to_string(), json!(c.severity.as_str())),
                ("resourceType".to_string(), json!(c.resource_type)),
                ("frameworks".to_string(), json!(frameworks)),
            ]),
            Some(tags),
        ))
        .build()
}

/// A rule for a control the catalogue does not know (should not happen; keeps ruleIndex valid).
fn rule_from_finding(f: &Finding) -> ReportingDescriptor {
    let title = if f.title.is_empty() { f.control_id.clone() } else { one_line(&f.title) };
    let mut tags = vec!["security".to_string()];
    tags.extend(f.frameworks.keys().cloned());
    ReportingDescriptor::builder()
        .id(f.control_id.clone())
        .name(rule_name(&f.control_id))
        .short_description(text(truncate(&title, MAX_DESCRIPTION_CHARS)))
        .full_description(text(truncate(&title, MAX_DESCRIPTION_CHARS)))
        .help(MultiformatMessageString::builder().text(title.clone()).markdown(md(&title)).build())
        .default_configuration(ReportingConfiguration::builder().level(json!(level(f.severity))).build())
        .properties(properties(
            BTreeMap::from([
                ("security-severity".to_string(), json!(f.severity.score())),
                ("precision".to_string(), json!("high")),
                ("severity".to_string(), json!(f.severity.as_str())),
            ]),
            Some(tags),
        ))
        .build()
}

/// Characters left as they are in a URI path segment (RFC 3986 unreserved).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// A file path as a relative URI reference (forward slashes, segments percent-encoded).
/// Absolute paths are made relative to the working directory when under it, else reduced to
/// their file name: GitHub rejects absolute locations.
fn path_uri(path: &str) -> String {
    let mut p = path.replace('\\', "/");
    if std::path::Path::new(&p).is_absolute() {
        let rel = std::env::current_dir().ok().and_then(|cwd| std::path::Path::new(&p).strip_prefix(cwd).ok().map(|r| r.to_string_lossy().replace('\\', "/")));
        p = rel.unwrap_or_else(|| p.rsplit('/').next().unwrap_or_default().to_string());
    }
    let segments: Vec<String> = p.split('/').filter(|s| !s.is_empty() && *s != ".").map(encode_segment).collect();
    if segments.is_empty() {
        "unknown".to_string()
    } else {
        segments.join("/")
    }
}

/// The virtual path of a resource in an account-wide scan: `aws/<account>/<region>/<service>/<type>`.
fn aws_uri(report: &Report, f: &Finding) -> String {
    let r = &f.resource;
    let arn: Vec<&str> = r.arn.splitn(6, ':').collect();
    let account =
        arn.get(4).filter(|a| !a.is_empty()).map(|a| a.to_string()).or_else(|| report.scope.account.clone()).unwrap_or_else(|| "unknown-account".to_string());
    let region = Some(r.region.as_str()).filter(|s| !s.is_empty()).or(arn.get(3).copied().filter(|s| !s.is_empty())).unwrap_or("global");
    let mut segments = vec!["aws".to_string(), encode_segment(&account), encode_segment(region)];
    let rtype = if r.resource_type.is_empty() { "unknown" } else { r.resource_type.as_str() };
    segments.extend(rtype.split(':').filter(|s| !s.is_empty()).map(encode_segment));
    segments.join("/")
}

/// (relative URI, start line) of a finding's result; see the module docs.
pub fn location(report: &Report, f: &Finding) -> (String, i64) {
    if let Some(src) = &f.location {
        return (path_uri(&src.path), src.line.max(1) as i64);
    }
    if let Some(stack_file) = report.scope.stack_file.as_deref().filter(|s| !s.is_empty()) {
        return (path_uri(stack_file), 1);
    }
    (aws_uri(report, f), 1)
}

fn result_message(f: &Finding) -> String {
    let resource = resource_phrase(&f.resource);
    match f.status {
        Status::Error => {
            let msg = one_line(&f.message);
            let prefix = "evidence could not be read: ";
            let reason = if msg.to_ascii_lowercase().starts_with(prefix) { msg[prefix.len()..].to_string() } else { msg };
            sentence(&format!("Evidence could not be read for {resource}, so {} was not evaluated: {reason}", f.control_id))
        }
        _ => sentence(&format!("{resource}: {}", f.message)),
    }
}

fn utc(ts: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(ts, &Rfc3339).ok()?;
    t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

/// `tapaudit/<stack or account>/` (`…/desired/` for desired-State checks).
pub fn automation_id(report: &Report) -> String {
    let target = report.scope.stack.as_deref().or(report.scope.account.as_deref()).filter(|s| !s.is_empty()).unwrap_or("unscoped");
    let target: String = target.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect();
    match report.scope.source {
        Source::Desired => format!("tapaudit/{target}/desired/"),
        Source::Live | Source::Snapshot => format!("tapaudit/{target}/"),
    }
}

/// How [`to_sarif_with`] fits the log into GitHub's limits. [`Default`]: GitHub's limits, the
/// full list in `tapaudit.json` next to the SARIF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SarifOptions {
    /// Where the full list of findings is, relative to the SARIF file (`tapaudit.json` when the
    /// JSON report is written beside it); None when no JSON report is written in this run.
    pub full_report: Option<String>,
    /// At most this many results in the run ([`MAX_RESULTS_PER_RUN`]).
    pub max_results: usize,
    /// The gzipped document stays at or under this many bytes ([`GZIP_BUDGET_BYTES`]).
    pub max_gzip_bytes: u64,
}

impl Default for SarifOptions {
    fn default() -> Self {
        SarifOptions { full_report: Some("tapaudit.json".to_string()), max_results: MAX_RESULTS_PER_RUN, max_gzip_bytes: GZIP_BUDGET_BYTES }
    }
}

/// The report as a SARIF log (one run), within GitHub's limits ([`SarifOptions::default`]).
pub fn to_sarif(report: &Report, catalogue: &Catalogue) -> Sarif {
    to_sarif_with(report, catalogue, &SarifOptions::default())
}

/// A result before selection: what builds it (its finding, rule and occurrence number) and
/// what ranks it. The result itself is built only when it is written, and only if it is kept:
/// a large scan has far more candidates than a run may hold.
struct Candidate<'a> {
    finding: &'a Finding,
    rule_index: usize,
    occurrence: usize,
    /// A baseline finding that is gone (fixed): ranked after every present one.
    absent: bool,
}

/// The report as a SARIF log (one run), results selected to fit `opts` (see the module docs,
/// "Limits"): the log [`to_sarif_string_with`] writes.
pub fn to_sarif_with(report: &Report, catalogue: &Catalogue, opts: &SarifOptions) -> Sarif {
    serde_json::from_slice(&to_sarif_bytes(report, catalogue, opts)).expect("tapaudit reads the SARIF it writes")
}

/// The text of [`to_sarif_with`]'s log, written once per try at the limits and measured as
/// written: the results go from the findings to the text without a copy of the whole log.
pub fn to_sarif_bytes(report: &Report, catalogue: &Catalogue, opts: &SarifOptions) -> Vec<u8> {
    let in_scope: Vec<String> = report.summary.frameworks.iter().map(|f| f.id.clone()).collect();

    let mut rules: Vec<ReportingDescriptor> =
        catalogue.controls.values().filter(|c| c.frameworks.keys().any(|fw| in_scope.contains(fw))).map(|c| rule_from_meta(catalogue, c, &in_scope)).collect();
    let mut index: HashMap<String, usize> = rules.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();

    // Every result, in the report's order (fingerprint occurrence numbers do not depend on
    // which results are kept).
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let present = report.findings.iter().filter(|f| matches!(f.status, Status::Fail | Status::Error)).map(|f| (f, false));
    for (f, absent) in present.chain(report.absent.iter().map(|f| (f, true))) {
        let rule_index = match index.get(&f.control_id) {
            Some(i) => *i,
            None => {
                let rule = catalogue.controls.get(&f.control_id).map(|c| rule_from_meta(catalogue, c, &in_scope)).unwrap_or_else(|| rule_from_finding(f));
                rules.push(rule);
                index.insert(f.control_id.clone(), rules.len() - 1);
                rules.len() - 1
            }
        };
        let n = seen.entry(fingerprint_input(f)).or_insert(0);
        *n += 1;
        candidates.push(Candidate { finding: f, rule_index, occurrence: *n, absent });
    }

    let mut driver = ToolComponent::builder()
        .name(report.tool.name.clone())
        .version(report.tool.version.clone())
        .semantic_version(report.tool.version.clone())
        .rules(rules)
        .build();
    driver.information_uri = information_uri();

    let mut notifications: Vec<Notification> = report
        .errors
        .iter()
        .take(MAX_ERROR_NOTIFICATIONS)
        .map(|e| {
            let what = e.resource.as_deref().map(|r| format!(" for {r}")).unwrap_or_default();
            let region = if e.region.is_empty() { String::new() } else { format!(" in {}", e.region) };
            Notification::builder()
                .level(json!("error"))
                .message(message(truncate(
                    &sentence(&format!("{} {}{what}{region} failed ({}): {}", e.service, e.operation, e.code, e.message)),
                    MAX_MESSAGE_CHARS,
                )))
                .build()
        })
        .collect();
    if report.errors.len() > MAX_ERROR_NOTIFICATIONS {
        let rest = report.errors.len() - MAX_ERROR_NOTIFICATIONS;
        notifications
            .push(Notification::builder().level(json!("error")).message(message(format!("{rest} more collection errors: {}", where_full(opts)))).build());
    }

    let scope = &report.scope;
    let run_props = BTreeMap::from([
        ("stack".to_string(), json!(scope.stack)),
        ("stackFile".to_string(), json!(scope.stack_file)),
        ("account".to_string(), json!(scope.account)),
        ("regions".to_string(), json!(scope.regions)),
        ("frameworks".to_string(), json!(in_scope)),
        ("source".to_string(), json!(scope.source)),
        ("incomplete".to_string(), json!(report.incomplete())),
    ]);

    // Most severe first: present before absent, then severity, then the report's order.
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&i| (candidates[i].absent, candidates[i].finding.severity, i));

    let total = candidates.len();
    let mut keep = total.min(opts.max_results);
    let mut over_size: Option<(u64, usize)> = None; // (gzipped bytes, results) of the first try over the size limit
    loop {
        let mut kept: Vec<usize> = order[..keep].to_vec();
        kept.sort_unstable();
        let results = Results { report, kept: kept.iter().map(|&i| &candidates[i]).collect() };

        let mut notes = notifications.clone();
        let mut props = run_props.clone();
        if keep < total {
            let omitted: Vec<&Candidate> = order[keep..].iter().map(|&i| &candidates[i]).collect();
            let (text, capped) = capped_note(opts, total, keep, &omitted, over_size);
            notes.insert(0, Notification::builder().level(json!("warning")).message(message(text)).build());
            props.insert("truncated".to_string(), json!(true));
            props.insert("resultLimits".to_string(), capped);
        }

        let mut invocation = Invocation::builder().execution_successful(true).build();
        invocation.start_time_utc = utc(&report.started_at);
        invocation.end_time_utc = utc(&report.finished_at);
        if !notes.is_empty() {
            invocation.tool_execution_notifications = Some(notes);
        }
        // the results are written from `candidates`, not copied into the run
        let run = Run::builder()
            .tool(Tool::builder().driver(driver.clone()).build())
            .automation_details(RunAutomationDetails::builder().id(automation_id(report)).build())
            .invocations(vec![invocation])
            .properties(properties(props, None))
            .build();
        let runs = vec![run];
        debug_assert!(runs.len() <= MAX_RUNS_PER_FILE);
        let log = Sarif::builder().schema(SCHEMA_URI.to_string()).version(json!("2.1.0")).runs(runs).build();
        let mut text = Vec::new();
        write_log(&mut text, &log, &results).expect("a SARIF log always serializes");

        let size = gzipped_bytes(&text);
        if size <= opts.max_gzip_bytes || keep == 0 {
            return text;
        }
        // Too big: keep proportionally fewer (5% headroom, at least one fewer) and measure again.
        over_size.get_or_insert((size, keep));
        let fits = (keep as f64 * opts.max_gzip_bytes as f64 / size as f64 * 0.95) as usize;
        keep = fits.min(keep - 1);
    }
}

/// Where the full list is, for notification texts.
fn where_full(opts: &SarifOptions) -> String {
    match &opts.full_report {
        Some(path) => format!("the full list is in {path}"),
        None => "the full list is in the JSON report (tapaudit scan --format json)".to_string(),
    }
}

/// The warning notification and the `resultLimits` run property of a capped run.
fn capped_note(opts: &SarifOptions, total: usize, keep: usize, omitted: &[&Candidate], over_size: Option<(u64, usize)>) -> (String, Value) {
    let omitted_n = total - keep;
    let mut by_severity: BTreeMap<Severity, usize> =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info].into_iter().map(|s| (s, 0)).collect();
    let mut absent = 0;
    for c in omitted {
        if c.absent {
            absent += 1;
        } else {
            *by_severity.entry(c.finding.severity).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = by_severity.iter().filter(|(_, n)| **n > 0).map(|(s, n)| format!("{n} {}", s.as_str())).collect();
    if absent > 0 {
        parts.push(format!("{absent} absent (fixed since the baseline)"));
    }
    let mut limits = Vec::new();
    let mut why = Vec::new();
    if total > opts.max_results {
        limits.push("results-per-run");
        why.push(format!("at most {} results per run", opts.max_results));
    }
    if let Some((bytes, n)) = over_size {
        limits.push("gzip-size");
        why.push(format!("at most {} bytes gzipped per file ({n} results came to {bytes} bytes)", opts.max_gzip_bytes));
    }
    let text = format!(
        "This run holds {keep} of {total} results, the most severe first, to stay within GitHub code scanning's limits ({}). \
         Left out: {omitted_n} results ({}); {}.",
        why.join("; "),
        parts.join(", "),
        where_full(opts)
    );
    let value = json!({
        "total": total,
        "included": keep,
        "omitted": omitted_n,
        "omittedBySeverity": by_severity.iter().map(|(s, n)| (s.as_str().to_string(), json!(n))).collect::<Map<String, Value>>(),
        "omittedAbsent": absent,
        "limits": limits,
        "maxResults": opts.max_results,
        "maxGzipBytes": opts.max_gzip_bytes,
        "fullReport": opts.full_report,
    });
    (text, value)
}

/// One result; `occurrence` numbers findings that share an identity in the run.
fn result(report: &Report, f: &Finding, rule_index: usize, occurrence: usize) -> SarifResult {
    let result_level = if f.status == Status::Error { "warning" } else { level(f.severity) };

    // Two findings with one identity in a run (a control reporting one resource twice) get
    // an occurrence number, so GitHub does not merge them; the first keeps the plain hash.
    let input = fingerprint_input(f);
    let fp = if occurrence == 1 { sha256_hex(&input) } else { sha256_hex(&format!("{input}\u{0}#{occurrence}")) };

    let (uri, line) = location(report, f);
    let r = &f.resource;
    let logical = LogicalLocation::builder()
        .fully_qualified_name(if r.arn.is_empty() { r.id.clone() } else { r.arn.clone() })
        .name(resource_label(r).to_string())
        .kind("resource".to_string())
        .build();
    let physical = PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(uri).uri_base_id(SRCROOT.to_string()).build())
        .region(Region::builder().start_line(line).build())
        .build();
    let mut props = BTreeMap::from([
        ("status".to_string(), json!(f.status.as_str())),
        ("severity".to_string(), json!(f.severity.as_str())),
        ("kind".to_string(), json!(f.kind)),
        ("resourceType".to_string(), json!(r.resource_type)),
        ("resourceId".to_string(), json!(r.id)),
        ("region".to_string(), json!(r.region)),
        ("frameworks".to_string(), json!(*f.frameworks)),
    ]);
    if let Some(l) = &r.logical_id {
        props.insert("logicalId".to_string(), json!(l));
    }
    let locations = vec![Location::builder().physical_location(physical).logical_locations(vec![logical]).build()];
    debug_assert!(locations.len() <= MAX_LOCATIONS_PER_RESULT);

    let mut out = SarifResult::builder()
        .rule_id(f.control_id.clone())
        .rule_index(rule_index as i64)
        .level(match result_level {
            "error" => ResultLevel::Error,
            "warning" => ResultLevel::Warning,
            _ => ResultLevel::Note,
        })
        .message(message(truncate(&result_message(f), MAX_MESSAGE_CHARS)))
        .locations(locations)
        .partial_fingerprints(BTreeMap::from([("primaryLocationLineHash".to_string(), fp.clone()), (FINGERPRINT_KEY.to_string(), fp)]))
        .properties(properties(props, None))
        .build();
    if let Some(s) = &f.suppression {
        let mut justification = s.reason.clone();
        if let Some(until) = &s.expires {
            justification.push_str(&format!(" (until {until})"));
        }
        out.suppressions = Some(vec![Suppression::builder()
            .kind(json!("external"))
            .status(json!("accepted"))
            .justification(truncate(&format!("{justification} [{}:{}]", s.source.path, s.source.line), MAX_MESSAGE_CHARS))
            .build()]);
    }
    if let Some(b) = f.baseline_state {
        out.baseline_state = Some(json!(b.as_str()));
    }
    out
}

/// Bytes of [`to_sarif_string`]'s text of `sarif` once gzipped (default level, as the upload
/// action's zlib).
pub fn gzipped_len(sarif: &Sarif) -> u64 {
    let mut text = Vec::new();
    let results: Vec<&SarifResult> = sarif.runs.iter().flat_map(|r| r.results.iter().flatten()).collect();
    let mut skeleton = sarif.clone();
    for run in &mut skeleton.runs {
        run.results = None;
    }
    write_log(&mut text, &skeleton, &results).expect("a SARIF log always serializes");
    gzipped_bytes(&text)
}

/// The size of `text` gzipped at the default level, counted while compressing.
fn gzipped_bytes(text: &[u8]) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Count(0), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, text).expect("writing to a counter does not fail");
    gz.finish().expect("writing to a counter does not fail").0
}

/// `tool.driver.informationUri`: the crate's `repository` (or `homepage`) from Cargo.toml,
/// absent while neither is set.
fn information_uri() -> Option<String> {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")].into_iter().find(|s| !s.is_empty()).map(str::to_string)
}

/// Pretty JSON of [`to_sarif`], keys ordered for readers: `$schema`, `version`, `runs`; in the
/// run `tool`, `automationDetails`, `invocations`, `results`, then the rest.
pub fn to_sarif_string(report: &Report, catalogue: &Catalogue) -> String {
    to_sarif_string_with(report, catalogue, &SarifOptions::default())
}

/// [`to_sarif_string`] with [`SarifOptions`].
pub fn to_sarif_string_with(report: &Report, catalogue: &Catalogue, opts: &SarifOptions) -> String {
    String::from_utf8(to_sarif_bytes(report, catalogue, opts)).expect("serde_json writes UTF-8")
}

/// Pretty JSON of `log` (whose runs hold no results) with `results` as its one run's results;
/// keys ordered for readers: `$schema`, `version`, `runs`, and in the run `tool`,
/// `automationDetails`, `invocations`, `results`, then the rest. Only the small skeleton goes
/// through a `Value`; the results are written straight from the structs.
fn write_log<R: serde::Serialize>(out: &mut Vec<u8>, log: &Sarif, results: &R) -> serde_json::Result<()> {
    let Value::Object(top) = serde_json::to_value(log)? else { unreachable!("a SARIF log is an object") };
    serde_json::to_writer_pretty(out, &Ordered { map: &top, level: Level::Log, results })
}

/// A run's kept results, in the report's order, each built as it is written and dropped after.
struct Results<'a> {
    report: &'a Report,
    kept: Vec<&'a Candidate<'a>>,
}

impl serde::Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut out = s.serialize_seq(Some(self.kept.len()))?;
        for c in &self.kept {
            out.serialize_element(&result(self.report, c.finding, c.rule_index, c.occurrence))?;
        }
        out.end()
    }
}

/// Which object [`Ordered`] writes: the log or one of its runs.
#[derive(Clone, Copy)]
enum Level {
    Log,
    Run,
}

impl Level {
    fn first(self) -> &'static [&'static str] {
        match self {
            Level::Log => &["$schema", "version", "runs"],
            Level::Run => &["tool", "automationDetails", "invocations", "results"],
        }
    }
}

/// An object written with its level's keys first: the log's `runs` as ordered runs, a run's
/// `results` from `results`.
struct Ordered<'a, R> {
    map: &'a Map<String, Value>,
    level: Level,
    results: &'a R,
}

impl<R: serde::Serialize> serde::Serialize for Ordered<'_, R> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let first = self.level.first();
        let mut out = s.serialize_map(None)?;
        let rest = self.map.keys().map(String::as_str).filter(|k| !first.contains(k));
        for key in first.iter().copied().chain(rest) {
            match (self.level, key, self.map.get(key)) {
                (Level::Log, "runs", Some(Value::Array(runs))) => {
                    let runs: Vec<Ordered<R>> =
                        runs.iter().filter_map(Value::as_object).map(|map| Ordered { map, level: Level::Run, results: self.results }).collect();
                    out.serialize_entry(key, &runs)?;
                }
                (Level::Run, "results", _) => out.serialize_entry(key, self.results)?,
                (_, _, Some(v)) => out.serialize_entry(key, v)?,
                (_, _, None) => {}
            }
        }
        out.end()
    }
}
