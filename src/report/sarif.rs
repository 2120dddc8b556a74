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
//! - Collection errors become `invocations[0].toolExecutionNotifications` (level `error`).

use super::{one_line, resource_label, resource_phrase, Report, Source};
use crate::controls::{Catalogue, ControlMeta};
use crate::finding::{Finding, Kind, Severity, Status};
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
/// GitHub's limit for short and full descriptions.
const MAX_DESCRIPTION_CHARS: usize = 1024;

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
        if let Some(field) = side.get("field").and_then(Value::as_str) {
            return field.to_string();
        }
    }
    match (exp.as_object(), obs.as_object()) {
        (Some(e), Some(o)) => {
            let mut keys: Vec<&str> = e.keys().chain(o.keys()).map(String::as_str).collect();
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

fn properties(map: BTreeMap<String, Value>, tags: Option<Vec<String>>) -> PropertyBag {
    let mut bag = PropertyBag::builder().additional_properties(map).build();
    bag.tags = tags;
    bag
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
        .name(pascal_case(&c.id))
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
        .name(pascal_case(&f.control_id))
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

/// The report as a SARIF log (one run).
pub fn to_sarif(report: &Report, catalogue: &Catalogue) -> Sarif {
    let in_scope: Vec<String> = report.summary.frameworks.iter().map(|f| f.id.clone()).collect();

    let mut rules: Vec<ReportingDescriptor> =
        catalogue.controls.values().filter(|c| c.frameworks.keys().any(|fw| in_scope.contains(fw))).map(|c| rule_from_meta(catalogue, c, &in_scope)).collect();
    let mut index: HashMap<String, usize> = rules.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();

    let mut results = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for f in report.findings.iter().filter(|f| matches!(f.status, Status::Fail | Status::Error)).chain(report.absent.iter()) {
        let rule_index = match index.get(&f.control_id) {
            Some(i) => *i,
            None => {
                let rule = catalogue.controls.get(&f.control_id).map(|c| rule_from_meta(catalogue, c, &in_scope)).unwrap_or_else(|| rule_from_finding(f));
                rules.push(rule);
                index.insert(f.control_id.clone(), rules.len() - 1);
                rules.len() - 1
            }
        };
        let result_level = if f.status == Status::Error { "warning" } else { level(f.severity) };

        // Two findings with one identity in a run (a control reporting one resource twice) get
        // an occurrence number, so GitHub does not merge them; the first keeps the plain hash.
        let input = fingerprint_input(f);
        let n = seen.entry(input.clone()).or_insert(0);
        *n += 1;
        let fp = if *n == 1 { sha256_hex(&input) } else { sha256_hex(&format!("{input}\u{0}#{n}")) };

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
            ("frameworks".to_string(), json!(f.frameworks)),
        ]);
        if let Some(l) = &r.logical_id {
            props.insert("logicalId".to_string(), json!(l));
        }

        results.push(
            SarifResult::builder()
                .rule_id(f.control_id.clone())
                .rule_index(rule_index as i64)
                .level(match result_level {
                    "error" => ResultLevel::Error,
                    "warning" => ResultLevel::Warning,
                    _ => ResultLevel::Note,
                })
                .message(message(result_message(f)))
                .locations(vec![Location::builder().physical_location(physical).logical_locations(vec![logical]).build()])
                .partial_fingerprints(BTreeMap::from([("primaryLocationLineHash".to_string(), fp.clone()), (FINGERPRINT_KEY.to_string(), fp)]))
                .properties(properties(props, None))
                .build(),
        );
        let last = results.last_mut().expect("just pushed");
        if let Some(s) = &f.suppression {
            let mut justification = s.reason.clone();
            if let Some(until) = &s.expires {
                justification.push_str(&format!(" (until {until})"));
            }
            last.suppressions = Some(vec![Suppression::builder()
                .kind(json!("external"))
                .status(json!("accepted"))
                .justification(format!("{justification} [{}:{}]", s.source.path, s.source.line))
                .build()]);
        }
        if let Some(b) = f.baseline_state {
            last.baseline_state = Some(json!(b.as_str()));
        }
    }

    let mut driver = ToolComponent::builder()
        .name(report.tool.name.clone())
        .version(report.tool.version.clone())
        .semantic_version(report.tool.version.clone())
        .rules(rules)
        .build();
    driver.information_uri = information_uri();

    let notifications: Vec<Notification> = report
        .errors
        .iter()
        .map(|e| {
            let what = e.resource.as_deref().map(|r| format!(" for {r}")).unwrap_or_default();
            let region = if e.region.is_empty() { String::new() } else { format!(" in {}", e.region) };
            Notification::builder()
                .level(json!("error"))
                .message(message(sentence(&format!("{} {}{what}{region} failed ({}): {}", e.service, e.operation, e.code, e.message))))
                .build()
        })
        .collect();
    let mut invocation = Invocation::builder().execution_successful(true).build();
    invocation.start_time_utc = utc(&report.started_at);
    invocation.end_time_utc = utc(&report.finished_at);
    if !notifications.is_empty() {
        invocation.tool_execution_notifications = Some(notifications);
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

    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .automation_details(RunAutomationDetails::builder().id(automation_id(report)).build())
        .invocations(vec![invocation])
        .results(results)
        .properties(properties(run_props, None))
        .build();

    Sarif::builder().schema(SCHEMA_URI.to_string()).version(json!("2.1.0")).runs(vec![run]).build()
}

/// `tool.driver.informationUri`: the crate's `repository` (or `homepage`) from Cargo.toml,
/// absent while neither is set.
fn information_uri() -> Option<String> {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")].into_iter().find(|s| !s.is_empty()).map(str::to_string)
}

/// Pretty JSON of [`to_sarif`], keys ordered for readers: `$schema`, `version`, `runs`; in the
/// run `tool`, `automationDetails`, `invocations`, `results`, then the rest.
pub fn to_sarif_string(report: &Report, catalogue: &Catalogue) -> String {
    let value = serde_json::to_value(to_sarif(report, catalogue)).expect("a SARIF log always serializes");
    serde_json::to_string_pretty(&reorder(value)).expect("JSON always serializes")
}

fn reorder(value: Value) -> Value {
    fn order(mut map: Map<String, Value>, first: &[&str]) -> Map<String, Value> {
        let mut out = Map::new();
        for k in first {
            if let Some(v) = map.remove(*k) {
                out.insert(k.to_string(), v);
            }
        }
        out.extend(map);
        out
    }
    let Value::Object(top) = value else { return value };
    let mut top = order(top, &["$schema", "version", "runs"]);
    if let Some(Value::Array(runs)) = top.get_mut("runs") {
        for run in runs.iter_mut() {
            if let Value::Object(m) = std::mem::take(run) {
                *run = Value::Object(order(m, &["tool", "automationDetails", "invocations", "results"]));
            }
        }
    }
    Value::Object(top)
}
