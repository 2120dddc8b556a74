//! OSCAL 1.1 assessment results (`--format oscal`, written as `tapaudit.oscal.json`): the
//! machine-readable form of a FedRAMP Security Assessment Report, rendered purely from the
//! [`Report`] (plus the catalogue for requirement titles, rationales and remediation). No
//! verdict is computed here: every state below is a count over the report's findings.
//!
//! Checked by tests/oscal.rs with compliance-trestle (`scripts/oscal-venv.sh`), whose pydantic
//! models are generated from NIST's OSCAL JSON schema and reject unknown or malformed fields.
//!
//! # Shape
//! - `metadata`: title, `last-modified` = the report's `finished_at`, `version` = the same
//!   timestamp (each scan is a new version of the results), `oscal-version` [`OSCAL_VERSION`]
//!   (trestle 5.x reads 1.1.x documents: it does not enforce the version string).
//! - `import-ap`: OSCAL requires an assessment plan. tapaudit has none as a separate document:
//!   `href` is `#<uuid>` of a back-matter resource that describes the automated assessment
//!   (what was scanned, from which source, with which frameworks). A SAR that wraps this output
//!   should point `import-ap` at the real SAP instead.
//! - One `result` per scan: `start`/`end` = `started_at`/`finished_at`; props (namespace
//!   [`NS`]) carry the scope (stack, account, regions, source live/snapshot/desired), the
//!   finding counts and whether the scan was incomplete; `local-definitions` define tapaudit
//!   itself as a `software` component (the `tool` actor of every origin) and one
//!   `inventory-item` per scanned resource (props: ARN, type, id, region, logical id).
//! - `observations`: one per pass / fail / error finding, in the report's stable order
//!   (not-applicable findings are left out; `absent` baseline findings too, they are not
//!   observations of this scan). `methods` `TEST`; `subjects` the resource's inventory item
//!   (title = its ARN); `relevant-evidence` props `observed` and `expected` (compact JSON of the
//!   finding's evidence); `collected` = the report's `finished_at` (for `--from-snapshot`
//!   scans the report does not know when the snapshot was taken: the result's `source` prop
//!   says `snapshot`); props: tapaudit control id, status, severity, kind, each framework
//!   requirement id, suppression and baseline state when set.
//! - `findings`: one per NIST SP 800-53 control (FedRAMP Moderate requirement) that at least
//!   one observation assesses: `target` type `objective-id`, `target-id` the OSCAL control id
//!   ([`oscal_control_id`]: `SC-12` → `sc-12`, `AC-2(1)` → `ac-2.1`; the control as a whole,
//!   not one of its assessment objectives `sc-12_obj.*`). Honest aggregation over every
//!   observation of that control, whichever tapaudit controls made them:
//!   - any fail → `not-satisfied`, reason `fail` (also when the failure is suppressed: an
//!     accepted risk does not satisfy the control; its risk says `deviation-approved`);
//!   - else any error (evidence could not be read) → `not-satisfied`, reason `other`, target
//!     prop `assessment-status` = `incomplete` and remarks saying it is not a failure verdict.
//!     OSCAL 1.1's `state` has only satisfied / not-satisfied, and an unread control must never
//!     read as satisfied; `reason` (pass / fail / other) is OSCAL's way to tell the two apart;
//!   - else (every observation passes) → `satisfied`, reason `pass`, remarks noting that only
//!     the automatable part of the control was assessed.
//!
//!   Findings are ordered by family, then control and enhancement number (`sc-7` < `sc-12`).
//!   Only the FedRAMP Moderate mapping makes targets (FERPA and LGPD ids are not NIST
//!   controls; they stay as observation props), and only when `fedramp-moderate` is in the
//!   scan's scope, because thresholds are the in-scope frameworks' own.
//! - `risks`: one per failing observation, `status` `open` (`deviation-approved` with the
//!   suppression's reason and expiry as props when suppressed); statement = the finding's
//!   message, description = the control's rationale, a `severity` facet, and one
//!   `remediations` entry (lifecycle `recommendation`) with the catalogue's console, CLI and
//!   stack-file steps.
//! - `assessment-log`: one entry per collection error (service, operation, region, code).
//!
//! # Coverage (what is checked automatically vs. needs manual evidence)
//! `reviewed-controls.control-selections[0]`: `include-controls` = the controls this scan
//! assessed (those with findings); `exclude-controls` = the FedRAMP Rev 5 Moderate baseline
//! controls no tapaudit control evaluates, which need manual evidence (the report's
//! `summary.frameworks[].coverage`, the same view as `tapaudit controls coverage`). Props give
//! the totals (baseline, checkable automatically, assessed, manual) and per family
//! `automated-coverage` with `class` = the family and value `checked/total`; remarks name the
//! controls tapaudit can check but did not in this scan (no resource of the kind in scope).
//! Without `fedramp-moderate` in scope no control is assessed: the selection is `include-all`
//! with every baseline control excluded.
//!
//! # UUIDs
//! Version 5, namespace = v5(URL namespace, [`NS`]), name = `tapaudit/oscal/v1`, a kind and
//! stable ids joined by NUL: the scope key (account + SARIF's automation id, i.e. the stack or
//! account and whether desired State was checked) and, for observations and risks, the
//! finding's SARIF [`sarif::fingerprint`] (control, kind, resource ARN, drifted field; an occurrence
//! number when one run has the same identity twice), for findings the target id, for
//! inventory items the ARN. So two scans of the same account or stack give the same UUIDs for
//! the same things; only the document and result UUIDs also hash the scan's start and end
//! times (they identify this scan).
//!
//! Key order and list order are fixed; no secret is added (the report holds none).

use super::{one_line, resource_label, resource_phrase, sarif, Report};
use crate::controls::coverage::{self, Coverage};
use crate::controls::Catalogue;
use crate::finding::{Finding, Kind, Status};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// The OSCAL version the document claims.
pub const OSCAL_VERSION: &str = "1.1.2";
/// Namespace of tapaudit's own props (and the seed of the UUID namespace).
pub const NS: &str = "urn:tapaudit:oscal";
/// The framework whose requirement ids are NIST SP 800-53 controls.
pub const FEDRAMP: &str = "fedramp-moderate";

/// `SC-12` → `sc-12`, `AC-2(1)` → `ac-2.1`, `SC-7(12)` → `sc-7.12`; `None` for anything that is
/// not a NIST SP 800-53 control id (`PTAC-encryption`, `Art. 46`).
pub fn oscal_control_id(nist: &str) -> Option<String> {
    let s = nist.trim();
    let (family, rest) = s.split_once('-')?;
    if family.len() != 2 || !family.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let (number, enhancement) = match rest.split_once('(') {
        Some((n, e)) => (n, Some(e.strip_suffix(')')?)),
        None => (rest, None),
    };
    let num = |d: &str| -> Option<u32> { (!d.is_empty() && d.len() <= 3 && d.chars().all(|c| c.is_ascii_digit())).then(|| d.parse().ok()).flatten() };
    let base = format!("{}-{}", family.to_ascii_lowercase(), num(number)?);
    Some(match enhancement {
        Some(e) => format!("{base}.{}", num(e)?),
        None => base,
    })
}

/// Sort key of an OSCAL control id: family, then number, then enhancement (base first).
fn control_order(id: &str) -> (String, u32, Option<u32>) {
    let (family, rest) = id.split_once('-').unwrap_or((id, ""));
    let (n, e) = match rest.split_once('.') {
        Some((n, e)) => (n, Some(e.parse().unwrap_or(u32::MAX))),
        None => (rest, None),
    };
    (family.to_string(), n.parse().unwrap_or(u32::MAX), e)
}

fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, NS.as_bytes())
}

/// A v5 UUID for `kind` and stable `parts` (see the module docs).
pub fn stable_uuid(kind: &str, parts: &[&str]) -> String {
    let mut name = format!("tapaudit/oscal/v1\u{0}{kind}");
    for p in parts {
        name.push('\u{0}');
        name.push_str(p);
    }
    Uuid::new_v5(&namespace(), name.as_bytes()).to_string()
}

/// What two scans of the same thing share: the account and SARIF's automation id.
fn scope_key(report: &Report) -> String {
    format!("{}\u{0}{}", report.scope.account.as_deref().unwrap_or(""), sarif::automation_id(report))
}

fn utc(ts: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(ts, &Rfc3339).ok().and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()).unwrap_or_else(|| ts.to_string())
}

/// A single-line, non-empty text (OSCAL titles and prop values may not be empty or span lines).
fn line(s: &str, fallback: &str) -> String {
    let s = one_line(s);
    if s.is_empty() {
        fallback.to_string()
    } else {
        s
    }
}

/// A tapaudit prop; `None` when the value is empty.
fn prop(name: &str, value: impl AsRef<str>) -> Option<Value> {
    let v = one_line(value.as_ref());
    (!v.is_empty()).then(|| json!({"name": name, "ns": NS, "value": v}))
}

fn prop_class(name: &str, class: &str, value: impl AsRef<str>) -> Option<Value> {
    let v = one_line(value.as_ref());
    (!v.is_empty()).then(|| json!({"name": name, "ns": NS, "class": class, "value": v}))
}

/// Insert `key: [items]` only when there are items (OSCAL arrays have at least one member).
fn put_list(obj: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        obj.insert(key.to_string(), Value::Array(items));
    }
}

fn props(list: impl IntoIterator<Item = Option<Value>>) -> Vec<Value> {
    list.into_iter().flatten().collect()
}

fn resource_key(f: &Finding) -> String {
    let r = &f.resource;
    if r.arn.is_empty() {
        format!("{}\u{0}{}\u{0}{}", r.resource_type, r.region, r.id)
    } else {
        r.arn.clone()
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "passed",
        Status::Fail => "failed",
        Status::Error => "not evaluated (evidence could not be read)",
        Status::NotApplicable => "not applicable",
    }
}

/// The tool component every origin names.
fn tool_uuid() -> String {
    stable_uuid("component", &["tapaudit"])
}

fn origins() -> Value {
    json!([{"actors": [{"type": "tool", "actor-uuid": tool_uuid()}]}])
}

/// The OSCAL targets of a finding: its FedRAMP Moderate requirement ids as OSCAL control ids.
fn targets(f: &Finding) -> Vec<String> {
    let mut out: Vec<String> = f.frameworks.get(FEDRAMP).into_iter().flatten().filter_map(|r| oscal_control_id(r)).collect();
    out.sort_by_key(|id| control_order(id));
    out.dedup();
    out
}

struct Obs<'a> {
    finding: &'a Finding,
    uuid: String,
    risk: Option<String>,
}

/// The report as an OSCAL assessment-results document (`{"assessment-results": …}`).
pub fn to_oscal(report: &Report, catalogue: &Catalogue) -> Value {
    let key = scope_key(report);
    let started = utc(&report.started_at);
    let finished = utc(&report.finished_at);

    // ---- observations (and the risks of failing ones)
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut obs: Vec<Obs> = Vec::new();
    for f in report.findings.iter().filter(|f| f.status != Status::NotApplicable) {
        let fp = sarif::fingerprint(f);
        let n = seen.entry(fp.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { fp } else { format!("{fp}#{n}") };
        let risk = (f.status == Status::Fail).then(|| stable_uuid("risk", &[&key, &id]));
        obs.push(Obs { finding: f, uuid: stable_uuid("observation", &[&key, &id]), risk });
    }

    // ---- inventory: one item per resource, first-seen order
    let mut inventory: Vec<Value> = Vec::new();
    let mut item_of: HashMap<String, String> = HashMap::new();
    for o in &obs {
        let rk = resource_key(o.finding);
        if item_of.contains_key(&rk) {
            continue;
        }
        let uuid = stable_uuid("inventory-item", &[&rk]);
        let r = &o.finding.resource;
        let mut item = Map::new();
        item.insert("uuid".into(), json!(uuid));
        item.insert("description".into(), json!(line(&resource_phrase(r), &r.id)));
        put_list(
            &mut item,
            "props",
            props([
                prop("arn", &r.arn),
                prop("resource-type", &r.resource_type),
                prop("resource-id", &r.id),
                prop("region", &r.region),
                prop("logical-id", r.logical_id.as_deref().unwrap_or("")),
            ]),
        );
        inventory.push(Value::Object(item));
        item_of.insert(rk, uuid);
    }

    let observations: Vec<Value> = obs.iter().map(|o| observation(o, &item_of, &finished)).collect();
    let risks: Vec<Value> = obs.iter().filter_map(|o| o.risk.as_ref().map(|r| risk(o.finding, r, &o.uuid, &key, catalogue))).collect();

    // ---- findings: one per NIST control assessed
    let fedramp_in_scope = report.summary.frameworks.iter().any(|f| f.id == FEDRAMP);
    let mut by_target: BTreeMap<(String, u32, Option<u32>), (String, Vec<&Obs>)> = BTreeMap::new();
    if fedramp_in_scope {
        for o in &obs {
            for t in targets(o.finding) {
                by_target.entry(control_order(&t)).or_insert_with(|| (t.clone(), vec![])).1.push(o);
            }
        }
    }
    let findings: Vec<Value> = by_target.values().map(|(t, list)| finding(t, list, &key, report, catalogue)).collect();

    // ---- reviewed controls + coverage
    let assessed: Vec<String> = by_target.values().map(|(t, _)| t.clone()).collect();
    let cov: Option<Coverage> =
        report.summary.frameworks.iter().find(|f| f.id == FEDRAMP).and_then(|f| f.coverage.clone()).or_else(|| coverage::coverage(catalogue, FEDRAMP));
    let reviewed = reviewed_controls(&assessed, cov.as_ref(), fedramp_in_scope);

    // ---- assessment log: collection errors
    let log: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let mut entry = Map::new();
            entry.insert(
                "uuid".into(),
                json!(stable_uuid("log-entry", &[&key, &e.service, &e.operation, &e.region, e.resource.as_deref().unwrap_or(""), &e.code])),
            );
            entry.insert("title".into(), json!(line(&format!("{} {} failed ({})", e.service, e.operation, e.code), "collection error")));
            let what = e.resource.as_deref().map(|r| format!(" for {r}")).unwrap_or_default();
            let region = if e.region.is_empty() { String::new() } else { format!(" in {}", e.region) };
            entry.insert(
                "description".into(),
                json!(format!(
                    "Evidence could not be collected: {} {}{what}{region} failed ({}): {}. The controls that needed it report an error, not a verdict.",
                    e.service,
                    e.operation,
                    e.code,
                    one_line(&e.message)
                )),
            );
            entry.insert("start".into(), json!(started));
            entry.insert("end".into(), json!(finished));
            put_list(
                &mut entry,
                "props",
                props([prop("service", &e.service), prop("operation", &e.operation), prop("region", &e.region), prop("code", &e.code)]),
            );
            Value::Object(entry)
        })
        .collect();

    // ---- result
    let scope = &report.scope;
    let target = target_phrase(report);
    let counts = &report.summary.findings;
    let incomplete = report.incomplete();
    let mut result = Map::new();
    result.insert("uuid".into(), json!(stable_uuid("result", &[&key, &report.started_at, &report.finished_at])));
    result.insert("title".into(), json!(format!("tapaudit automated scan of {target}")));
    result.insert(
        "description".into(),
        json!(format!(
            "Automated configuration assessment by tapaudit {} of {target} ({} State; regions: {}; frameworks: {}). Each observation is one check of one resource; each finding aggregates the observations of one NIST SP 800-53 control of the FedRAMP Moderate baseline.",
            report.tool.version,
            scope.source.as_str(),
            if scope.regions.is_empty() { "none".to_string() } else { scope.regions.join(", ") },
            report.summary.frameworks.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", "),
        )),
    );
    result.insert("start".into(), json!(started));
    result.insert("end".into(), json!(finished));
    let mut rprops = props([
        prop("source", scope.source.as_str()),
        prop("stack", scope.stack.as_deref().unwrap_or("")),
        prop("stack-file", scope.stack_file.as_deref().unwrap_or("")),
        prop("account", scope.account.as_deref().unwrap_or("")),
    ]);
    rprops.extend(scope.regions.iter().filter_map(|r| prop("region", r)));
    rprops.extend(report.summary.frameworks.iter().filter_map(|f| prop("framework", &f.id)));
    rprops.extend(props([
        prop("incomplete", incomplete.to_string()),
        prop("findings-pass", counts.pass.to_string()),
        prop("findings-fail", counts.fail.to_string()),
        prop("findings-error", counts.error.to_string()),
        prop("findings-not-applicable", counts.not_applicable.to_string()),
        prop("collection-errors", report.errors.len().to_string()),
    ]));
    put_list(&mut result, "props", rprops);
    let mut local = Map::new();
    local.insert(
        "components".into(),
        json!([{
            "uuid": tool_uuid(),
            "type": "software",
            "title": "tapaudit",
            "description": "tapaudit: AWS provisioner and compliance scanner (FedRAMP Moderate, FERPA, LGPD). It reads the configuration of AWS resources and evaluates its control catalogue over it.",
            "props": [{"name": "version", "value": line(&report.tool.version, "unknown")}],
            "status": {"state": "operational"}
        }]),
    );
    put_list(&mut local, "inventory-items", inventory);
    result.insert("local-definitions".into(), Value::Object(local));
    result.insert("reviewed-controls".into(), reviewed);
    if !log.is_empty() {
        result.insert("assessment-log".into(), json!({"entries": log}));
    }
    put_list(&mut result, "observations", observations);
    put_list(&mut result, "risks", risks);
    put_list(&mut result, "findings", findings);
    if incomplete {
        result.insert(
            "remarks".into(),
            json!(format!(
                "Incomplete scan: {} check(s) could not read their evidence and {} collection call(s) failed. What was not read was not judged; the findings concerned are not-satisfied with reason \"other\", not failures.",
                counts.error,
                report.errors.len()
            )),
        );
    }

    // ---- the document
    let plan_uuid = stable_uuid("assessment-plan", &[&key]);
    let plan = json!({
        "uuid": plan_uuid,
        "title": format!("tapaudit automated assessment of {target}"),
        "description": format!(
            "There is no separate assessment plan document: tapaudit's plan is its control catalogue, evaluated automatically over the {} State of {target} (frameworks: {}). Replace import-ap with the system's SAP when this result is part of a SAR.",
            scope.source.as_str(),
            report.summary.frameworks.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", ")
        ),
        "props": props([prop("automation-id", sarif::automation_id(report))]),
    });
    let mut metadata = Map::new();
    metadata.insert("title".into(), json!(format!("tapaudit assessment results: {target}")));
    metadata.insert("last-modified".into(), json!(finished));
    metadata.insert("version".into(), json!(line(&finished, "1")));
    metadata.insert("oscal-version".into(), json!(OSCAL_VERSION));
    put_list(&mut metadata, "props", props([prop("tool", &report.tool.name), prop("tool-version", &report.tool.version)]));

    let mut doc = Map::new();
    doc.insert("uuid".into(), json!(stable_uuid("assessment-results", &[&key, &report.started_at, &report.finished_at])));
    doc.insert("metadata".into(), Value::Object(metadata));
    doc.insert(
        "import-ap".into(),
        json!({"href": format!("#{plan_uuid}"), "remarks": "No separate assessment plan: the back-matter resource this points to describes the automated assessment."}),
    );
    doc.insert("results".into(), json!([Value::Object(result)]));
    doc.insert("back-matter".into(), json!({"resources": [plan]}));
    json!({"assessment-results": Value::Object(doc)})
}

/// "stack dev (account 123456789012)", "account 123456789012", "stack dev (stack file only)".
fn target_phrase(report: &Report) -> String {
    let s = &report.scope;
    match (&s.stack, &s.account) {
        (Some(st), Some(a)) => format!("stack {st} (account {a})"),
        (Some(st), None) => format!("stack {st}"),
        (None, Some(a)) => format!("account {a}"),
        (None, None) => "an unidentified account".to_string(),
    }
}

fn observation(o: &Obs, item_of: &HashMap<String, String>, collected: &str) -> Value {
    let f = o.finding;
    let r = &f.resource;
    let mut m = Map::new();
    m.insert("uuid".into(), json!(o.uuid));
    m.insert("title".into(), json!(line(&format!("{} on {}: {}", f.control_id, resource_phrase(r), status_word(f.status)), &f.control_id)));
    m.insert("description".into(), json!(line(&format!("{}: {}", resource_phrase(r), f.message), &f.control_id)));
    let mut p = props([
        prop("control-id", &f.control_id),
        prop("status", f.status.as_str()),
        prop("severity", f.severity.as_str()),
        prop("kind", if f.kind == Kind::Drift { "drift" } else { "control" }),
        prop("assessment-status", if f.status == Status::Error { "incomplete" } else { "complete" }),
    ]);
    for (fw, reqs) in f.frameworks.iter() {
        p.extend(reqs.iter().filter_map(|req| prop_class("requirement", fw, req)));
    }
    if let Some(s) = &f.suppression {
        p.extend(props([prop("suppressed", "true"), prop("suppression-reason", &s.reason), prop("suppression-expires", s.expires.as_deref().unwrap_or(""))]));
    }
    if let Some(b) = f.baseline_state {
        p.extend(prop("baseline-state", b.as_str()));
    }
    put_list(&mut m, "props", p);
    m.insert("methods".into(), json!(["TEST"]));
    m.insert("origins".into(), origins());
    let item = item_of.get(&resource_key(f)).cloned().unwrap_or_default();
    let subject_title = if r.arn.is_empty() { line(resource_label(r), &r.id) } else { r.arn.clone() };
    m.insert("subjects".into(), json!([{"subject-uuid": item, "type": "inventory-item", "title": subject_title}]));
    let compact = |v: &crate::finding::Json| serde_json::to_string(v).expect("JSON values serialize");
    let evidence_text = match f.status {
        Status::Error => "The evidence could not be read; the observed value says why. The check was not evaluated.",
        _ => "The configuration tapaudit read (observed) and what the control expects (expected), as JSON.",
    };
    m.insert(
        "relevant-evidence".into(),
        json!([{"description": evidence_text, "props": props([prop("observed", compact(&f.evidence.observed)), prop("expected", compact(&f.evidence.expected))])}]),
    );
    m.insert("collected".into(), json!(collected));
    if f.status == Status::Error {
        m.insert("remarks".into(), json!("Incomplete: the evidence could not be read, so this check is neither a pass nor a fail."));
    }
    Value::Object(m)
}

fn risk(f: &Finding, uuid: &str, obs_uuid: &str, key: &str, catalogue: &Catalogue) -> Value {
    let meta = catalogue.controls.get(&f.control_id);
    let title = meta.map(|c| c.title.as_str()).filter(|t| !t.trim().is_empty()).unwrap_or(f.title.as_str());
    let mut m = Map::new();
    m.insert("uuid".into(), json!(uuid));
    m.insert("title".into(), json!(line(&format!("{}: {}", resource_label(&f.resource), title), &f.control_id)));
    m.insert("description".into(), json!(line(meta.map(|c| c.rationale.as_str()).unwrap_or(f.title.as_str()), &f.control_id)));
    m.insert("statement".into(), json!(line(&format!("{}: {}", resource_phrase(&f.resource), f.message), &f.control_id)));
    let mut p = props([prop("control-id", &f.control_id), prop("severity", f.severity.as_str())]);
    if let Some(s) = &f.suppression {
        p.extend(props([prop("suppression-reason", &s.reason), prop("suppression-expires", s.expires.as_deref().unwrap_or(""))]));
    }
    put_list(&mut m, "props", p);
    m.insert("status".into(), json!(if f.suppression.is_some() { "deviation-approved" } else { "open" }));
    m.insert("origins".into(), origins());
    m.insert(
        "characterizations".into(),
        json!([{"origin": origins()[0].clone(), "facets": [{"name": "severity", "system": NS, "value": f.severity.as_str()}]}]),
    );
    let description = match meta {
        Some(c) => {
            format!("Console: {}\n\nCLI: {}\n\nStack file: {}", one_line(&c.remediation.console), one_line(&c.remediation.cli), one_line(&c.remediation.stack))
        }
        None => format!("The catalogue has no remediation for {}; see the finding's message.", f.control_id),
    };
    m.insert(
        "remediations".into(),
        json!([{
            "uuid": stable_uuid("remediation", &[key, uuid]),
            "lifecycle": "recommendation",
            "title": line(&format!("Remediate {} on {}", f.control_id, resource_label(&f.resource)), &f.control_id),
            "description": description,
            "origins": origins(),
        }]),
    );
    m.insert("related-observations".into(), json!([{"observation-uuid": obs_uuid}]));
    Value::Object(m)
}

fn finding(target: &str, list: &[&Obs], key: &str, report: &Report, catalogue: &Catalogue) -> Value {
    let nist = coverage::nist_id(target);
    let (mut pass, mut fail, mut error) = (0usize, 0usize, 0usize);
    let mut controls: BTreeSet<&str> = BTreeSet::new();
    for o in list {
        controls.insert(o.finding.control_id.as_str());
        match o.finding.status {
            Status::Pass => pass += 1,
            Status::Fail => fail += 1,
            Status::Error => error += 1,
            Status::NotApplicable => {}
        }
    }
    let req_title = catalogue.requirement(FEDRAMP, &nist).map(|r| one_line(&r.title)).filter(|t| !t.is_empty());
    let title = match &req_title {
        Some(t) => format!("{nist} {t}"),
        None => nist.clone(),
    };
    let (state, reason, remarks) = if fail > 0 {
        ("not-satisfied", "fail", format!("{fail} of {} automated check(s) failed.", list.len()))
    } else if error > 0 {
        (
            "not-satisfied",
            "other",
            format!(
                "Not assessed completely: {error} of {} automated check(s) could not read their evidence. This is not a failure verdict; the control cannot be called satisfied until the evidence is read.",
                list.len()
            ),
        )
    } else {
        ("satisfied", "pass", format!("All {pass} automated check(s) passed. Only what tapaudit checks automatically was assessed; parts of the control that need manual evidence are not covered by this finding."))
    };
    let mut target_obj = Map::new();
    target_obj.insert("type".into(), json!("objective-id"));
    target_obj.insert("target-id".into(), json!(target));
    target_obj.insert("title".into(), json!(line(&title, &nist)));
    if error > 0 && fail == 0 {
        target_obj.insert("props".into(), json!(props([prop("assessment-status", "incomplete")])));
    }
    target_obj.insert("status".into(), json!({"state": state, "reason": reason, "remarks": remarks}));

    let mut m = Map::new();
    m.insert("uuid".into(), json!(stable_uuid("finding", &[key, target])));
    m.insert("title".into(), json!(line(&title, &nist)));
    m.insert(
        "description".into(),
        json!(format!(
            "{nist} in {}: {} automated check(s) by tapaudit ({pass} passed, {fail} failed, {error} could not be evaluated), made by the controls {}.",
            target_phrase(report),
            list.len(),
            controls.iter().copied().collect::<Vec<_>>().join(", ")
        )),
    );
    let mut p = props([prop("checks-pass", pass.to_string()), prop("checks-fail", fail.to_string()), prop("checks-error", error.to_string())]);
    p.extend(controls.iter().filter_map(|c| prop("assessed-by", c)));
    put_list(&mut m, "props", p);
    m.insert("origins".into(), origins());
    m.insert("target".into(), Value::Object(target_obj));
    m.insert("related-observations".into(), Value::Array(list.iter().map(|o| json!({"observation-uuid": o.uuid})).collect()));
    let mut risks: Vec<Value> = Vec::new();
    for o in list {
        if let Some(r) = &o.risk {
            risks.push(json!({"risk-uuid": r}));
        }
    }
    put_list(&mut m, "related-risks", risks);
    Value::Object(m)
}

fn select(ids: impl IntoIterator<Item = String>) -> Vec<Value> {
    ids.into_iter().map(|id| json!({"control-id": id})).collect()
}

fn reviewed_controls(assessed: &[String], cov: Option<&Coverage>, fedramp_in_scope: bool) -> Value {
    let baseline: Vec<String> = coverage::fedramp_moderate_baseline().iter().filter_map(|id| oscal_control_id(id)).collect();
    let manual: Vec<String> =
        cov.map(|c| c.families.iter().flat_map(|f| f.not_checked.iter()).filter_map(|id| oscal_control_id(id)).collect()).unwrap_or_default();
    let checkable: Vec<String> =
        cov.map(|c| c.families.iter().flat_map(|f| f.checked.iter()).filter_map(|r| oscal_control_id(&r.id)).collect()).unwrap_or_default();
    let assessed_set: BTreeSet<&String> = assessed.iter().collect();
    let not_this_scan: Vec<&str> = checkable.iter().filter(|id| !assessed_set.contains(id)).map(String::as_str).collect();

    let mut p = props([
        prop("baseline", cov.map(|c| c.baseline.as_str()).unwrap_or("FedRAMP Rev 5 Moderate baseline")),
        prop("baseline-controls", baseline.len().to_string()),
        prop("automated-controls", checkable.len().to_string()),
        prop("assessed-controls", assessed.len().to_string()),
        prop("manual-evidence-controls", manual.len().to_string()),
    ]);
    if let Some(c) = cov {
        for fam in &c.families {
            let total = fam.checked.len() + fam.not_checked.len();
            p.extend(prop_class("automated-coverage", &fam.family, format!("{}/{total}", fam.checked.len())));
        }
    }

    let selection = if fedramp_in_scope && !assessed.is_empty() {
        let mut s = Map::new();
        s.insert(
            "description".into(),
            json!("include-controls: the NIST SP 800-53 controls of the FedRAMP Moderate baseline that tapaudit assessed automatically in this scan. exclude-controls: the baseline controls no tapaudit control evaluates; they need manual evidence."),
        );
        s.insert("include-controls".into(), json!(select(assessed.iter().cloned())));
        put_list(&mut s, "exclude-controls", select(manual.iter().cloned()));
        Value::Object(s)
    } else {
        json!({
            "description": "No NIST SP 800-53 control was assessed in this scan (FedRAMP Moderate not in scope, or no finding maps to it): every baseline control is excluded.",
            "include-all": {},
            "exclude-controls": select(baseline.iter().cloned()),
        })
    };
    let mut m = Map::new();
    m.insert(
        "description".into(),
        json!("The controls this automated scan assessed, and the FedRAMP Rev 5 Moderate baseline controls that need manual evidence (tapaudit controls coverage)."),
    );
    put_list(&mut m, "props", p);
    m.insert("control-selections".into(), json!([selection]));
    if !not_this_scan.is_empty() {
        m.insert(
            "remarks".into(),
            json!(format!("Checked automatically by tapaudit but not assessed in this scan (no resource of the kind in scope): {}.", not_this_scan.join(", "))),
        );
    }
    Value::Object(m)
}

/// Pretty JSON of [`to_oscal`] (no trailing newline).
pub fn to_oscal_string(report: &Report, catalogue: &Catalogue) -> String {
    serde_json::to_string_pretty(&to_oscal(report, catalogue)).expect("JSON always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::stats::{CollectionError, CollectionStats};
    use crate::finding::{AppliedSuppression, Evidence, FindingResource};
    use crate::report::{Scope, Source};

    const ACCOUNT: &str = "123456789012";

    fn cat() -> Catalogue {
        Catalogue::load().expect("catalogue")
    }

    fn key(id: &str) -> FindingResource {
        FindingResource {
            resource_type: "kms:key".into(),
            id: id.into(),
            arn: format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}"),
            region: "us-east-1".into(),
            logical_id: Some(format!("logical-{id}")),
            name: None,
        }
    }

    /// A finding of `control` with the catalogue's severity, title and framework mapping.
    fn finding(cat: &Catalogue, control: &str, status: Status, resource: FindingResource) -> Finding {
        let meta = &cat.controls[control];
        Finding {
            control_id: control.into(),
            kind: Kind::Control,
            status,
            severity: meta.severity,
            title: meta.title.clone(),
            resource,
            frameworks: meta.frameworks.clone().into(),
            message: format!("{control} is {}", status.as_str()),
            evidence: Evidence::new(json!({"enabled": status == Status::Pass}), json!({"enabled": true})),
            location: None,
            suppression: None,
            baseline_state: None,
        }
    }

    fn report_at(cat: &Catalogue, findings: Vec<Finding>, errors: Vec<CollectionError>, started: &str, finished: &str) -> Report {
        let scope = Scope {
            stack: Some("dev".into()),
            stack_file: Some("stacks/dev.toml".into()),
            account: Some(ACCOUNT.into()),
            regions: vec!["us-east-1".into()],
            endpoint: "http://127.0.0.1:5000".into(),
            frameworks: vec!["fedramp-moderate".into(), "ferpa".into(), "lgpd".into()],
            source: Source::Live,
        };
        Report::new(cat, scope, findings, errors, CollectionStats::default(), started.into(), finished.into())
    }

    fn report(cat: &Catalogue, findings: Vec<Finding>) -> Report {
        report_at(cat, findings, vec![], "2026-12-01T10:00:00Z", "2026-12-01T10:00:05.5+00:00")
    }

    fn result(doc: &Value) -> &Value {
        &doc["assessment-results"]["results"][0]
    }

    /// The OSCAL finding whose target is `target`.
    fn target<'a>(doc: &'a Value, target: &str) -> &'a Value {
        let all = result(doc)["findings"].as_array().expect("findings");
        let hits: Vec<&Value> = all.iter().filter(|f| f["target"]["target-id"] == target).collect();
        assert_eq!(hits.len(), 1, "one finding for {target}: {all:#?}");
        hits[0]
    }

    fn state(doc: &Value, t: &str) -> (String, String) {
        let s = &target(doc, t)["target"]["status"];
        (s["state"].as_str().unwrap().to_string(), s["reason"].as_str().unwrap().to_string())
    }

    /// Every `uuid` field, with the JSON path where it is.
    fn uuids(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "uuid" {
                        out.push((path.to_string(), x.as_str().unwrap().to_string()));
                    }
                    uuids(x, &format!("{path}.{k}"), out);
                }
            }
            Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| uuids(x, &format!("{path}[{i}]"), out)),
            _ => {}
        }
    }

    /// Every value of a reference field (`observation-uuid`, `risk-uuid`, ...).
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if ["observation-uuid", "risk-uuid", "subject-uuid", "actor-uuid"].contains(&k.as_str()) {
                        out.push(x.as_str().unwrap().to_string());
                    }
                    refs(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }

    #[test]
    fn nist_ids_become_oscal_control_ids() {
        let table: [(&str, Option<&str>); 14] = [
            ("SC-12", Some("sc-12")),
            ("AC-2(1)", Some("ac-2.1")),
            ("SC-8(1)", Some("sc-8.1")),
            ("SC-7(12)", Some("sc-7.12")),
            (" AC-6(10) ", Some("ac-6.10")),
            ("sc-28", Some("sc-28")),
            ("SC-07", Some("sc-7")),
            ("PTAC-encryption", None),
            ("Art. 46", None),
            ("SC-", None),
            ("SC-7(", None),
            ("SC-7()", None),
            ("S-1", None),
            ("SC-7(1)x", None),
        ];
        for (nist, want) in table {
            assert_eq!(oscal_control_id(nist).as_deref(), want, "{nist:?}");
        }
        // every baseline id and every FedRAMP id of the catalogue converts, and back
        for id in coverage::fedramp_moderate_baseline() {
            let o = oscal_control_id(&id).unwrap_or_else(|| panic!("{id}"));
            assert_eq!(coverage::nist_id(&o), id);
        }
        for c in cat().controls.values() {
            for id in c.frameworks.get(FEDRAMP).into_iter().flatten() {
                assert!(oscal_control_id(id).is_some(), "{}: {id}", c.id);
            }
        }
    }

    #[test]
    fn findings_are_ordered_by_family_and_number() {
        let mut ids = vec!["sc-12", "sc-7.3", "ac-2", "sc-7", "ac-2.1", "sc-28.1", "sc-28"];
        ids.sort_by_key(|i| control_order(i));
        assert_eq!(ids, ["ac-2", "ac-2.1", "sc-7", "sc-7.3", "sc-12", "sc-28", "sc-28.1"]);
    }

    #[test]
    fn uuids_are_stable_unique_and_resolve() {
        let cat = cat();
        let fs = || {
            vec![
                finding(&cat, "kms-key-rotation-enabled", Status::Fail, key("a")),
                finding(&cat, "kms-key-rotation-enabled", Status::Pass, key("b")),
                finding(&cat, "kms-key-policy-no-wildcard-principal", Status::Error, key("a")),
            ]
        };
        let one = to_oscal(&report(&cat, fs()), &cat);
        let two = to_oscal(&report(&cat, fs()), &cat);
        assert_eq!(one, two, "the same report gives the same document");

        let mut all = Vec::new();
        uuids(&one, "", &mut all);
        let distinct: BTreeSet<&String> = all.iter().map(|(_, u)| u).collect();
        assert_eq!(distinct.len(), all.len(), "uuids are unique: {all:#?}");
        for (path, u) in &all {
            let parsed = Uuid::parse_str(u).unwrap_or_else(|e| panic!("{path}: {u}: {e}"));
            assert_eq!(parsed.get_version_num(), 5, "{path}");
        }
        let mut r = Vec::new();
        refs(&one, &mut r);
        assert!(!r.is_empty());
        for u in &r {
            assert!(distinct.contains(u), "reference {u} resolves");
        }
        let href = one["assessment-results"]["import-ap"]["href"].as_str().unwrap();
        assert_eq!(href, format!("#{}", one["assessment-results"]["back-matter"]["resources"][0]["uuid"].as_str().unwrap()));

        // a later scan of the same stack: only the document and result uuids change
        let later = to_oscal(&report_at(&cat, fs(), vec![], "2026-12-02T10:00:00Z", "2026-12-02T10:00:09Z"), &cat);
        let mut then = Vec::new();
        uuids(&later, "", &mut then);
        assert_eq!(then.len(), all.len());
        let changed: Vec<&str> = all.iter().zip(&then).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0.as_str()).collect();
        assert_eq!(changed, [".assessment-results", ".assessment-results.results[0]"]);

        // another resource: another observation
        let obs =
            |doc: &Value| -> Vec<String> { result(doc)["observations"].as_array().unwrap().iter().map(|o| o["uuid"].as_str().unwrap().to_string()).collect() };
        let other = to_oscal(&report(&cat, vec![finding(&cat, "kms-key-rotation-enabled", Status::Fail, key("c"))]), &cat);
        let base = to_oscal(&report(&cat, vec![finding(&cat, "kms-key-rotation-enabled", Status::Fail, key("a"))]), &cat);
        assert_ne!(obs(&other), obs(&base));
        assert!(obs(&one).contains(&obs(&base)[0]), "the same finding keeps its uuid in a bigger scan");
        // the same control's finding keeps its uuid whatever the resources
        assert_eq!(target(&other, "sc-12")["uuid"], target(&base, "sc-12")["uuid"]);
    }

    #[test]
    fn an_error_is_never_satisfied() {
        let cat = cat();
        let doc = to_oscal(&report(&cat, vec![finding(&cat, "kms-key-rotation-enabled", Status::Error, key("a"))]), &cat);
        assert_eq!(state(&doc, "sc-12"), ("not-satisfied".to_string(), "other".to_string()));
        let t = &target(&doc, "sc-12")["target"];
        assert_eq!(t["props"][0]["name"], "assessment-status");
        assert_eq!(t["props"][0]["value"], "incomplete");
        assert!(result(&doc).get("risks").is_none(), "an unread check is no risk");
        assert_eq!(
            result(&doc)["observations"][0]["props"].as_array().unwrap().iter().find(|p| p["name"] == "assessment-status").unwrap()["value"],
            "incomplete"
        );
        assert!(result(&doc)["remarks"].as_str().unwrap().starts_with("Incomplete"));

        // passes beside an error do not make it satisfied either
        let doc = to_oscal(
            &report(
                &cat,
                vec![
                    finding(&cat, "kms-key-rotation-enabled", Status::Pass, key("a")),
                    finding(&cat, "kms-key-rotation-enabled", Status::Error, key("b")),
                    finding(&cat, "kms-key-rotation-enabled", Status::Pass, key("c")),
                ],
            ),
            &cat,
        );
        assert_eq!(state(&doc, "sc-12"), ("not-satisfied".to_string(), "other".to_string()));
        assert_eq!(target(&doc, "sc-12")["related-observations"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn only_all_passing_controls_are_satisfied() {
        let cat = cat();
        let passes = vec![finding(&cat, "kms-key-rotation-enabled", Status::Pass, key("a")), finding(&cat, "kms-key-rotation-enabled", Status::Pass, key("b"))];
        let doc = to_oscal(&report(&cat, passes.clone()), &cat);
        assert_eq!(state(&doc, "sc-12"), ("satisfied".to_string(), "pass".to_string()));
        assert!(target(&doc, "sc-12").get("related-risks").is_none());

        let mut mixed = passes;
        mixed.push(finding(&cat, "kms-key-rotation-enabled", Status::Fail, key("c")));
        mixed.push(finding(&cat, "kms-key-rotation-enabled", Status::Error, key("d")));
        let doc = to_oscal(&report(&cat, mixed), &cat);
        assert_eq!(state(&doc, "sc-12"), ("not-satisfied".to_string(), "fail".to_string()));

        // not-applicable findings are no evidence: not observations, not findings
        let doc = to_oscal(&report(&cat, vec![finding(&cat, "kms-key-rotation-enabled", Status::NotApplicable, key("a"))]), &cat);
        assert!(result(&doc).get("observations").is_none());
        assert!(result(&doc).get("findings").is_none());
        assert!(result(&doc)["reviewed-controls"]["control-selections"][0].get("include-all").is_some());
    }

    #[test]
    fn a_failure_carries_a_risk_with_the_remediation() {
        let cat = cat();
        let meta = &cat.controls["kms-key-rotation-enabled"];
        let mut suppressed = finding(&cat, "kms-key-rotation-enabled", Status::Fail, key("b"));
        suppressed.suppression = Some(Box::new(AppliedSuppression {
            reason: "legacy key, retired in Q1".into(),
            expires: None,
            source: crate::model::SourceRef { path: "x.toml".into(), line: 3 },
        }));
        let doc = to_oscal(&report(&cat, vec![finding(&cat, "kms-key-rotation-enabled", Status::Fail, key("a")), suppressed]), &cat);
        let res = result(&doc);
        let risks = res["risks"].as_array().unwrap();
        assert_eq!(risks.len(), 2);
        let open = risks.iter().find(|r| r["status"] == "open").expect("open risk");
        let accepted = risks.iter().find(|r| r["status"] == "deviation-approved").expect("accepted risk");
        assert!(accepted["props"].as_array().unwrap().iter().any(|p| p["value"] == "legacy key, retired in Q1"));
        let remediation = &open["remediations"][0];
        assert_eq!(remediation["lifecycle"], "recommendation");
        let text = remediation["description"].as_str().unwrap();
        assert!(text.contains(&one_line(&meta.remediation.cli)), "{text}");
        assert!(text.contains(&one_line(&meta.remediation.console)), "{text}");

        // the risk names its observation; the finding names both
        let obs = &open["related-observations"][0]["observation-uuid"];
        let o = res["observations"].as_array().unwrap().iter().find(|o| &o["uuid"] == obs).expect("observation");
        assert_eq!(o["subjects"][0]["title"], format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/a"));
        assert_eq!(o["relevant-evidence"][0]["props"][0]["value"], r#"{"enabled":false}"#);
        let f = target(&doc, "sc-12");
        assert_eq!(f["target"]["status"]["state"], "not-satisfied");
        let linked: BTreeSet<&str> = f["related-risks"].as_array().unwrap().iter().map(|r| r["risk-uuid"].as_str().unwrap()).collect();
        assert_eq!(linked, BTreeSet::from([open["uuid"].as_str().unwrap(), accepted["uuid"].as_str().unwrap()]));
    }

    #[test]
    fn reviewed_controls_carry_the_coverage() {
        let cat = cat();
        let errors = vec![CollectionError {
            account: None,
            service: "kinesis".into(),
            operation: "ListStreams".into(),
            region: "us-east-1".into(),
            resource: None,
            code: "ConnectionError".into(),
            message: "connection refused".into(),
        }];
        let r =
            report_at(&cat, vec![finding(&cat, "kms-key-rotation-enabled", Status::Pass, key("a"))], errors, "2026-12-01T10:00:00Z", "2026-12-01T10:00:05Z");
        let doc = to_oscal(&r, &cat);
        let rc = &result(&doc)["reviewed-controls"];
        let sel = &rc["control-selections"][0];
        assert_eq!(sel["include-controls"], json!([{"control-id": "sc-12"}]));
        let cov = r.summary.frameworks.iter().find(|f| f.id == FEDRAMP).unwrap().coverage.clone().unwrap();
        let manual: usize = cov.families.iter().map(|f| f.not_checked.len()).sum();
        assert_eq!(sel["exclude-controls"].as_array().unwrap().len(), manual);
        assert!(manual > 0 && manual < 323);
        let prop_value = |name: &str| rc["props"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["value"].clone();
        assert_eq!(prop_value("baseline-controls"), "323");
        assert_eq!(prop_value("automated-controls"), cov.checked.to_string());
        assert!(rc["remarks"].as_str().unwrap().contains("sc-28"), "checkable SC-28 was not assessed in this scan");
        let log = &result(&doc)["assessment-log"]["entries"];
        assert_eq!(log.as_array().unwrap().len(), 1);
        assert!(log[0]["description"].as_str().unwrap().contains("ListStreams"));
    }
}
