//! Drift: the stack file's desired State against the live State, from the same collection
//! pass as the controls. Findings of kind `drift`:
//! - `drift-missing`: a declared resource that does not exist (or lost its tags);
//! - `drift-changed`: a declared setting that differs, per field, with want and got;
//! - `drift-unmanaged`: a resource carrying the stack's tag that the stack does not declare,
//!   and an ingress rule on a managed security group that the stack does not declare.
//!
//! Desired ids are resolved to live ids through the `tapaudit:logical-id` tag; only declared
//! settings are compared, lists as sets, so AWS-assigned values never count as drift.

mod resolve;

use crate::controls::Catalogue;
use crate::finding::{Evidence, Finding, FindingResource, Kind, Status};
use crate::model::{Collection, Meta, Resource, SourceRef, State};
use crate::semantics::policy::meaning as policy_meaning;
use crate::vocab::Source;
use resolve::Resolver;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What drift needs to know of the stack: its name, its file, the tags it declares, and the
/// stack-file table that declares each logical id.
pub struct StackView<'a> {
    pub name: &'a str,
    pub source: &'a Source,
    pub declared_tags: BTreeSet<String>,
    pub paths: BTreeMap<String, String>,
}

/// Collects drift findings for one stack. Component modules compare their kinds with it
/// (`each`, `field`, `observed`, ...); `finish` returns the findings.
pub struct Drift<'a> {
    stack: StackView<'a>,
    catalogue: &'a Catalogue,
    frameworks: &'a [String],
    r: Resolver,
    out: Vec<Finding>,
}

impl<'a> Drift<'a> {
    pub fn new(stack: StackView<'a>, desired: &State, live: &State, catalogue: &'a Catalogue, frameworks: &'a [String]) -> Self {
        Drift { stack, catalogue, frameworks, r: Resolver::new(desired, live), out: Vec::new() }
    }

    /// The findings, sorted.
    pub fn finish(mut self) -> Vec<Finding> {
        crate::controls::sort_findings(&mut self.out);
        self.out
    }

    /// The stack-file path of a desired resource's setting: its declaring table, then `field`.
    pub fn setting(&self, desired: &Meta, field: &str) -> String {
        let table = self.stack.paths.get(desired.logical_id().unwrap_or_default()).cloned().unwrap_or_default();
        match (table.is_empty(), field.is_empty()) {
            (true, _) => String::new(),
            (false, true) => table,
            (false, false) => format!("{table}.{field}"),
        }
    }

    /// The live id (or ARN) a desired reference names (see `resolve::Resolver::res`).
    pub fn res(&self, v: &str) -> String {
        self.r.res(v)
    }

    /// Compare one resource type: declared resources matched to live ones (missing, or tags and
    /// `cmp`), and live ones carrying the stack's tag that the stack does not declare.
    pub fn each<T: Resource>(&mut self, desired: &Collection<T>, live: &Collection<T>, mut cmp: impl FnMut(&mut Drift, &T, &T)) {
        let name = self.stack.name.to_string();
        let (pairs, extra) = pair(&name, desired.iter(), live.iter());
        for (want, got) in pairs {
            match got {
                None => self.absent(want.meta(), live),
                Some(got) => {
                    self.tags(want.meta(), got.meta());
                    cmp(self, want, got);
                }
            }
        }
        for l in extra {
            let m = l.meta();
            self.unmanaged(
                m,
                format!("{} {} carries tapaudit:stack={} but the stack file does not declare it", m.resource_type, m.display_name(), name),
                "resource",
                json!(m.id),
                "",
            );
        }
    }
}

/// A desired policy document with the desired account replaced by the live one.
pub fn with_account(doc: &Value, account: &str) -> Value {
    let text = doc.to_string().replace(crate::components::DESIRED_ACCOUNT, account);
    serde_json::from_str(&text).unwrap_or_else(|_| doc.clone())
}

impl Drift<'_> {
    #[allow(clippy::too_many_arguments)] // one call site per kind; a struct would only rename these
    fn finding(&mut self, control: &str, status: Status, resource: FindingResource, message: String, field: &str, want: Value, got: Value, setting: &str) {
        let Some(meta) = self.catalogue.controls.get(control) else { return };
        let frameworks =
            crate::finding::Frameworks::new(meta.frameworks.iter().filter(|(f, _)| self.frameworks.contains(f)).map(|(f, r)| (f.clone(), r.clone())).collect());
        let line = if setting.is_empty() { 1 } else { self.stack.source.line_of(setting) };
        self.out.push(Finding {
            control_id: control.to_string(),
            kind: Kind::Drift,
            status,
            severity: meta.severity,
            title: meta.title.clone(),
            resource,
            frameworks,
            message,
            evidence: Evidence::new(json!({"field": field, "value": got}), json!({"field": field, "value": want})),
            location: Some(SourceRef { path: self.stack.source.path.clone(), line }),
            suppression: None,
            baseline_state: None,
        });
    }
}

/// The finding resource of a declared (desired) resource, its logical id and the stack-file
/// setting that declared it.
fn declared(d: &Meta) -> (FindingResource, String) {
    let logical = d.logical_id().unwrap_or_default().to_string();
    let resource = FindingResource {
        resource_type: d.resource_type.clone(),
        id: d.display_name().to_string(),
        arn: String::new(),
        region: d.region.clone(),
        logical_id: Some(logical.clone()),
        name: d.name.clone(),
    };
    (resource, logical)
}

impl Drift<'_> {
    fn missing(&mut self, d: &Meta) {
        let (resource, logical) = declared(d);
        let setting = self.setting(d, "");
        self.finding(
            "drift-missing",
            Status::Fail,
            resource,
            format!("{} {} ({logical}) is declared but does not exist (or lost its tapaudit tags)", d.resource_type, d.display_name()),
            "resource",
            json!("present"),
            json!("absent"),
            &setting,
        );
    }

    /// A declared resource that was not found where its listing failed: it could not be read,
    /// which is an error, never `drift-missing`.
    fn unread(&mut self, d: &Meta, reason: &str) {
        let (resource, logical) = declared(d);
        let setting = self.setting(d, "");
        let msg = format!("{} {} ({logical}) could not be read: {reason}", d.resource_type, d.display_name());
        self.finding("drift-changed", Status::Error, resource, msg, "resource", Value::Null, Value::Null, &setting);
    }

    /// Not found live: missing, unless listing that type failed in its region.
    pub fn absent<T: Resource>(&mut self, d: &Meta, live: &crate::model::Collection<T>) {
        match live.failed_in(&d.region) {
            Some(reason) => self.unread(d, reason),
            None => self.missing(d),
        }
    }

    pub fn unmanaged(&mut self, l: &Meta, what: String, field: &str, got: Value, setting: &str) {
        self.finding("drift-unmanaged", Status::Fail, l.into(), what, field, json!("(not declared)"), got, setting);
    }

    /// Compare one declared setting; values are JSON so lists can be compared as sets first.
    pub fn field(&mut self, live: &Meta, field: &str, setting: &str, want: Value, got: Value) {
        // a reference to a resource that is missing is reported once, as that resource's
        // drift-missing, not again on everything that refers to it
        if want == got || want.to_string().contains(resolve::MISSING) {
            return;
        }
        let msg = format!("{} {}: {field} is {} but the stack file declares {}", live.resource_type, live.display_name(), short(&got), short(&want));
        self.finding("drift-changed", Status::Fail, live.into(), msg, field, want, got, setting);
    }

    /// Compare a live field that may not have been read: Unknown is an `error`, never "no drift".
    pub fn observed<T: serde::Serialize>(&mut self, live: &Meta, field: &str, setting: &str, want: Value, got: &crate::model::Observed<T>) {
        match got.get() {
            Ok(v) => self.field(live, field, setting, want, json!(v)),
            Err(reason) => self.unknown(live, field, setting, reason),
        }
    }

    /// A live field that could not be read: drift cannot be judged, which is an error, not a pass.
    pub fn unknown(&mut self, live: &Meta, field: &str, setting: &str, reason: &str) {
        let msg = format!("{} {}: {field} could not be read: {reason}", live.resource_type, live.display_name());
        self.finding("drift-changed", Status::Error, live.into(), msg, field, Value::Null, Value::Null, setting);
    }

    fn tags(&mut self, d: &Meta, l: &Meta) {
        let (Some(want), Some(got)) = (d.tags.known(), l.tags.known()) else { return };
        let setting = self.setting(d, "");
        for (k, v) in want {
            // the Name tag is informational and often edited by hand in the console
            if k == "Name" {
                continue;
            }
            let g = got.get(k);
            if g != Some(v) {
                let field = format!("tags.{k}");
                let setting = if k.starts_with("tapaudit:") || !self.stack.declared_tags.contains(k) { setting.clone() } else { format!("tags.{k}") };
                self.field(l, &field, &setting, json!(v), g.map(|g| json!(g)).unwrap_or(Value::Null));
            }
        }
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::Null => "(absent)".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

fn set<T: serde::Serialize + Ord + Clone>(items: impl IntoIterator<Item = T>) -> Value {
    json!(items.into_iter().collect::<BTreeSet<T>>())
}

/// Pairs (desired, live) of one resource type, matched by logical id, else by name; plus the
/// unmatched live resources that carry the stack's tag.
fn pair<'a, T: Resource + 'a>(
    stack: &str,
    desired: impl Iterator<Item = &'a T>,
    live: impl Iterator<Item = &'a T>,
) -> (Vec<(&'a T, Option<&'a T>)>, Vec<&'a T>) {
    let live: Vec<&T> = live.collect();
    let mut used = BTreeSet::new();
    let mut pairs = Vec::new();
    for d in desired {
        let logical = d.meta().logical_id();
        let by_logical = live.iter().position(|l| l.meta().logical_id() == logical && l.meta().stack() == Some(stack));
        let by_name = || live.iter().position(|l| l.meta().logical_id().is_none() && l.meta().name.is_some() && l.meta().name == d.meta().name);
        let hit = by_logical.or_else(by_name);
        if let Some(i) = hit {
            used.insert(i);
        }
        pairs.push((d, hit.map(|i| live[i])));
    }
    let extra = live.iter().enumerate().filter(|(i, l)| !used.contains(i) && l.meta().stack() == Some(stack)).map(|(_, l)| *l).collect();
    (pairs, extra)
}

/// The permission policies of a role: inline documents by name, compared by meaning with the
/// desired ARNs resolved to live ones, and the set of attached managed policy ARNs.
impl Drift<'_> {
    /// The permission policies of a role: inline documents by name, compared by meaning with
    /// the desired ARNs resolved to live ones, and the set of attached managed policy ARNs.
    pub fn permissions(&mut self, setting: &str, w: &crate::model::iam::Role, g: &crate::model::iam::Role) {
        permissions(self, setting, w, g)
    }
}

fn permissions(d: &mut Drift, setting: &str, w: &crate::model::iam::Role, g: &crate::model::iam::Role) {
    match g.attached_policies.get() {
        Ok(got) => d.field(&g.meta, "attached_policies", setting, set(w.attached_policies.known().cloned().unwrap_or_default()), set(got.clone())),
        Err(e) => d.unknown(&g.meta, "attached_policies", setting, e),
    }
    let (Some(want), got) = (w.inline_policies.known(), g.inline_policies.get()) else { return };
    let got = match got {
        Ok(got) => got,
        Err(e) => return d.unknown(&g.meta, "inline_policies", setting, e),
    };
    for (name, doc) in want {
        let field = format!("inline_policies.{name}");
        // declared resources resolve to their live ARNs; the rest of the desired account's ARNs
        // (patterns such as API Gateway's execution-log groups) are in the live account
        let want_doc = policy_meaning(&with_account(&resolve_strings(&d.r, doc), &g.meta.account));
        match got.get(name) {
            None => d.field(&g.meta, &field, setting, want_doc, Value::Null),
            Some(g_doc) => {
                let got_doc = policy_meaning(g_doc);
                if want_doc != got_doc && !want_doc.to_string().contains(resolve::MISSING) {
                    let msg =
                        format!("{} {}: inline policy {name} differs from the stack's least-privilege policy", g.meta.resource_type, g.meta.display_name());
                    d.finding("drift-changed", Status::Fail, (&g.meta).into(), msg, &field, want_doc, got_doc, setting);
                }
            }
        }
    }
    for name in got.keys().filter(|n| !want.contains_key(*n)) {
        let what = format!("inline policy {name} on role {} is not declared by the stack file", g.meta.display_name());
        d.unmanaged(&g.meta, what, &format!("inline_policies.{name}"), json!(name), setting);
    }
}

/// Desired ids and ARNs inside a document replaced by the live ones (`arn…:*` too).
fn resolve_strings(r: &Resolver, v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let resolved = r.res(s);
            if resolved != *s {
                return json!(resolved);
            }
            match s.strip_suffix(":*") {
                Some(base) if r.res(base) != base => json!(format!("{}:*", r.res(base))),
                _ => v.clone(),
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve_strings(r, x)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), resolve_strings(r, x))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
pub(crate) mod tests;
