//! Suppressions: accepted failing findings, each with a required reason and an optional expiry.
//! Declared in the stack file (`[[suppressions]]`) or in `tapaudit.ignore.toml` beside it.
//! They never hide an `error` (an incomplete scan stays incomplete), and an expired one stops
//! applying and is reported.

use crate::controls::Catalogue;
use crate::error::{Error, Result};
use crate::finding::{AppliedSuppression, Finding, Status};
use crate::model::SourceRef;
use crate::spec::{Source, Stack, SuppressionSpec};
use serde::{Deserialize, Serialize};
use std::path::Path;
use time::Date;

pub const IGNORE_FILE: &str = "tapaudit.ignore.toml";

/// A suppression with where it was declared.
#[derive(Debug, Clone)]
pub struct Suppression {
    pub spec: SuppressionSpec,
    pub expires: Option<Date>,
    pub source: SourceRef,
}

/// An expired suppression, reported so someone renews or removes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expired {
    pub control: String,
    pub resource: String,
    pub reason: String,
    pub expired: String,
    pub source: SourceRef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreFile {
    #[serde(default)]
    suppressions: Vec<SuppressionSpec>,
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, &time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn check(spec: SuppressionSpec, source: SourceRef, catalogue: &Catalogue) -> Result<Suppression> {
    let at = format!("{}:{}", source.path, source.line);
    if !catalogue.controls.contains_key(&spec.control) {
        return Err(Error::usage(format!("{at}: suppression names unknown control {:?}", spec.control)));
    }
    if spec.reason.trim().is_empty() {
        return Err(Error::usage(format!("{at}: suppression of {} needs a reason", spec.control)));
    }
    let expires = match &spec.expires {
        None => None,
        Some(d) => Some(parse_date(d).ok_or_else(|| Error::usage(format!("{at}: suppression expires must be a date YYYY-MM-DD (got {d:?})")))?),
    };
    Ok(Suppression { spec, expires, source })
}

/// The stack file's suppressions plus those of `tapaudit.ignore.toml` beside it.
pub fn load(stack: &Stack, catalogue: &Catalogue) -> Result<Vec<Suppression>> {
    let mut out = Vec::new();
    for (i, spec) in stack.spec.suppressions.iter().enumerate() {
        let line = stack.line_of(&format!("suppressions[{i}]"));
        out.push(check(spec.clone(), SourceRef { path: stack.source.path.clone(), line }, catalogue)?);
    }
    let dir = Path::new(&stack.source.path).parent().unwrap_or(Path::new(""));
    let ignore = dir.join(IGNORE_FILE);
    if ignore.exists() {
        let display = ignore.display().to_string();
        let text = std::fs::read_to_string(&ignore).map_err(|source| Error::Io { path: display.clone(), source })?;
        let src = Source::new(display.clone(), text.clone()).map_err(|e| Error::Spec(vec![e]))?;
        let file: IgnoreFile = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| crate::spec::line_at(&text, s.start)).unwrap_or(1);
            Error::Spec(vec![format!("{display}:{line}: {}", e.message().trim())])
        })?;
        for (i, spec) in file.suppressions.into_iter().enumerate() {
            let line = src.line_of(&format!("suppressions[{i}]"));
            out.push(check(spec, SourceRef { path: display.clone(), line }, catalogue)?);
        }
    }
    Ok(out)
}

fn selects(selector: &str, f: &Finding) -> bool {
    let r = &f.resource;
    let candidates = [r.logical_id.as_deref(), Some(r.id.as_str()), Some(r.arn.as_str()), r.name.as_deref()];
    match selector.strip_suffix('*') {
        Some(prefix) => candidates.into_iter().flatten().any(|c| c.starts_with(prefix)),
        None => candidates.into_iter().flatten().any(|c| c == selector),
    }
}

/// Mark failing findings accepted by a live suppression; return the expired ones.
pub fn apply(findings: &mut [Finding], suppressions: &[Suppression], today: Date) -> Vec<Expired> {
    let mut expired = Vec::new();
    for s in suppressions {
        if let Some(until) = s.expires.filter(|d| *d < today) {
            expired.push(Expired {
                control: s.spec.control.clone(),
                resource: s.spec.resource.clone(),
                reason: s.spec.reason.clone(),
                expired: until.to_string(),
                source: s.source.clone(),
            });
            continue;
        }
        for f in findings.iter_mut() {
            if f.status == Status::Fail && f.suppression.is_none() && f.control_id == s.spec.control && selects(&s.spec.resource, f) {
                f.suppression = Some(Box::new(AppliedSuppression { reason: s.spec.reason.clone(), expires: s.spec.expires.clone(), source: s.source.clone() }));
            }
        }
    }
    expired
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Evidence, FindingResource, Kind, Severity};
    use time::macros::date;

    fn finding(control: &str, logical: &str, status: Status) -> Finding {
        Finding {
            control_id: control.into(),
            kind: Kind::Control,
            status,
            severity: Severity::High,
            title: String::new(),
            resource: FindingResource {
                resource_type: "kms:key".into(),
                id: "k1".into(),
                arn: "arn:aws:kms:us-east-1:1:key/k1".into(),
                region: "us-east-1".into(),
                logical_id: Some(logical.into()),
                name: None,
            },
            frameworks: Default::default(),
            message: String::new(),
            evidence: Evidence::default(),
            location: None,
            suppression: None,
            baseline_state: None,
        }
    }

    fn sup(control: &str, resource: &str, expires: Option<Date>) -> Suppression {
        Suppression {
            spec: SuppressionSpec {
                control: control.into(),
                resource: resource.into(),
                reason: "accepted risk".into(),
                expires: expires.map(|d| d.to_string()),
            },
            expires,
            source: SourceRef { path: "stacks/dev.toml".into(), line: 9 },
        }
    }

    #[test]
    fn live_suppressions_accept_matching_failures_only() {
        let mut f = vec![
            finding("kms-key-rotation-enabled", "data-key", Status::Fail),
            finding("kms-key-rotation-enabled", "other", Status::Fail),
            finding("kms-key-rotation-enabled", "data-key", Status::Error),
        ];
        let expired = apply(&mut f, &[sup("kms-key-rotation-enabled", "data-key", Some(date!(2030 - 01 - 01)))], date!(2026 - 11 - 22));
        assert!(expired.is_empty());
        assert_eq!(f[0].suppression.as_ref().map(|s| s.reason.as_str()), Some("accepted risk"));
        assert!(f[1].suppression.is_none(), "another resource");
        assert!(f[2].suppression.is_none(), "errors are never suppressed");
    }

    #[test]
    fn expired_suppressions_stop_applying_and_are_reported() {
        let mut f = vec![finding("kms-key-rotation-enabled", "data-key", Status::Fail)];
        let expired = apply(&mut f, &[sup("kms-key-rotation-enabled", "*", Some(date!(2026 - 11 - 21)))], date!(2026 - 11 - 22));
        assert!(f[0].suppression.is_none());
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].expired, "2026-11-21");
        // the last day still applies
        let mut f = vec![finding("kms-key-rotation-enabled", "data-key", Status::Fail)];
        assert!(apply(&mut f, &[sup("kms-key-rotation-enabled", "data-*", Some(date!(2026 - 11 - 22)))], date!(2026 - 11 - 22)).is_empty());
        assert!(f[0].suppression.is_some(), "prefix selector, expiry day inclusive");
    }
}
