//! The scan report: one serde struct whose JSON form IS `--format json`; the terminal table
//! ([`table::render`]), SARIF ([`sarif::to_sarif`]), the HTML page ([`html::render`]) and OSCAL
//! assessment results ([`oscal::to_oscal`]) are rendered from it.
//!
//! Reporters do not judge: every verdict comes from the findings. The report only counts them
//! (the summary) and decides the exit code from them.
//!
//! Field names of [`Report`] and everything under it are a stable interface (CI jobs read the
//! JSON with jq): add fields, do not rename or remove them.

pub mod html;
pub mod merge;
pub mod oscal;
pub mod sarif;
pub mod table;

pub use sarif::{fingerprint, to_sarif, to_sarif_string, to_sarif_string_with, to_sarif_with, SarifOptions};
pub use table::render;

use crate::collect::stats::{CollectionError, CollectionStats};
use crate::controls::Catalogue;
use crate::finding::{Finding, Severity, Status};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The tool that produced the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Always "tapaudit".
    pub name: String,
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo { name: "tapaudit".to_string(), version: env!("CARGO_PKG_VERSION").to_string() }
    }
}

/// What the evaluated State came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Read from AWS during this run.
    #[default]
    Live,
    /// A State saved by an earlier `--save-snapshot`.
    Snapshot,
    /// The stack file's desired State (checked before anything exists).
    Desired,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Live => "live",
            Source::Snapshot => "snapshot",
            Source::Desired => "desired",
        }
    }
}

/// What was scanned.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Scope {
    /// Stack name (`scan --stack dev`); None for an account-wide scan.
    pub stack: Option<String>,
    /// The stack file, relative to the repository root (e.g. `stacks/dev.toml`).
    pub stack_file: Option<String>,
    pub account: Option<String>,
    pub regions: Vec<String>,
    /// The AWS endpoint used (the emulator's URL, or the default AWS endpoint).
    pub endpoint: String,
    /// Framework ids in scope (e.g. `fedramp-moderate`).
    pub frameworks: Vec<String>,
    pub source: Source,
}

/// Findings counted by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusCounts {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub not_applicable: usize,
}

/// Pass / fail / error counts (not_applicable findings are not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
}

impl Counts {
    fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Error => self.error += 1,
            Status::NotApplicable => {}
        }
    }
}

/// One framework requirement: the findings whose `frameworks` map lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementSummary {
    pub id: String,
    pub title: String,
    pub family: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// One requirement family (e.g. `AC`): each finding counted once per family, however many of
/// the family's requirements it maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilySummary {
    pub family: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkSummary {
    pub id: String,
    pub name: String,
    /// Each finding mapped to this framework counted once.
    #[serde(flatten)]
    pub counts: Counts,
    /// In catalogue order.
    pub families: Vec<FamilySummary>,
    /// Every requirement of the framework, in catalogue order (zero counts included).
    pub requirements: Vec<RequirementSummary>,
    /// What the catalogue checks automatically of the framework's baseline (FedRAMP Moderate:
    /// all 323 requirement ids) and which ids still need manual evidence, per family (the same
    /// view as `tapaudit controls coverage`). Absent in reports written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<crate::controls::coverage::Coverage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub findings: StatusCounts,
    /// Failing findings by severity (all five severities present, most severe first).
    pub failing_by_severity: BTreeMap<Severity, usize>,
    pub collection_errors: usize,
    /// True when any finding is `error` or any collection call failed: the verdict is partial.
    pub incomplete: bool,
    /// The frameworks in scope, in scope order.
    pub frameworks: Vec<FrameworkSummary>,
}

/// A whole scan. Its serde form is the `--format json` output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub tool: ToolInfo,
    pub scope: Scope,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    pub summary: Summary,
    /// Stable order: status (fail, error, pass, n/a), severity, control, resource.
    pub findings: Vec<Finding>,
    pub errors: Vec<CollectionError>,
    pub stats: CollectionStats,
    /// Suppressions past their expiry: they no longer apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired_suppressions: Vec<crate::suppress::Expired>,
    /// With `--baseline`: failing/errored findings of the baseline that are gone (fixed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<Finding>,
    /// A report of several accounts (`scan --accounts/--organization`, `tapaudit merge`): how
    /// each account's scan went, those that failed or were skipped included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<merge::AccountResult>,
}

impl Report {
    /// Build a report and compute its summary. Findings are put in the stable order of
    /// [`crate::controls::sort_findings`] and collection errors sorted, so the output does not
    /// depend on the order collectors and controls finished in.
    ///
    /// Frameworks in the summary: `scope.frameworks`; when that is empty, the frameworks the
    /// findings map to; when there are none either, every framework of the catalogue.
    pub fn new(
        catalogue: &Catalogue,
        scope: Scope,
        mut findings: Vec<Finding>,
        mut errors: Vec<CollectionError>,
        stats: CollectionStats,
        started_at: String,
        finished_at: String,
    ) -> Report {
        crate::controls::sort_findings(&mut findings);
        errors.sort_by(|a, b| {
            (&a.service, &a.region, &a.operation, &a.resource, &a.code, &a.message).cmp(&(
                &b.service,
                &b.region,
                &b.operation,
                &b.resource,
                &b.code,
                &b.message,
            ))
        });
        let summary = summarize(catalogue, &scope, &findings, &errors);
        Report {
            tool: ToolInfo::default(),
            scope,
            started_at,
            finished_at,
            summary,
            findings,
            errors,
            stats,
            expired_suppressions: vec![],
            absent: vec![],
            accounts: vec![],
        }
    }

    /// Failing findings at or above `threshold` (`Severity::Info` counts every failure).
    pub fn failing(&self, threshold: Severity) -> usize {
        self.findings.iter().filter(|f| f.status == Status::Fail && f.suppression.is_none() && f.severity.at_least(threshold)).count()
    }

    /// Like `failing`, counting only findings that are new against the baseline.
    pub fn failing_new(&self, threshold: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.status == Status::Fail && f.suppression.is_none() && f.severity.at_least(threshold))
            .filter(|f| f.baseline_state != Some(crate::finding::BaselineState::Unchanged))
            .count()
    }

    /// Mark failing and errored findings `new` or `unchanged` against a previous report (same
    /// fingerprint as SARIF's), and collect the previous ones that are gone as `absent`.
    pub fn apply_baseline(&mut self, previous: &Report) {
        let judged = |f: &&Finding| matches!(f.status, Status::Fail | Status::Error);
        let before: std::collections::BTreeMap<String, &Finding> = previous.findings.iter().filter(judged).map(|f| (sarif::fingerprint(f), f)).collect();
        let mut now = BTreeSet::new();
        for f in self.findings.iter_mut().filter(|f| matches!(f.status, Status::Fail | Status::Error)) {
            let fp = sarif::fingerprint(f);
            f.baseline_state = Some(if before.contains_key(&fp) { crate::finding::BaselineState::Unchanged } else { crate::finding::BaselineState::New });
            now.insert(fp);
        }
        self.absent = before
            .into_iter()
            .filter(|(fp, _)| !now.contains(fp))
            .map(|(_, f)| {
                let mut f = f.clone();
                f.baseline_state = Some(crate::finding::BaselineState::Absent);
                f
            })
            .collect();
    }

    /// True when any finding is `error` (evidence could not be read) or any collection call
    /// failed: what was not read was not judged, so the verdict is partial.
    pub fn incomplete(&self) -> bool {
        !self.errors.is_empty() || self.findings.iter().any(|f| f.status == Status::Error)
    }

    /// The process exit code for `--fail-on fail_on`:
    /// - 2 when the scan is [`incomplete`](Report::incomplete) — this wins over failures: a
    ///   partial scan must not pass or fail silently on the part that was read;
    /// - 1 when any finding fails at or above `fail_on`;
    /// - 0 otherwise.
    pub fn exit_code(&self, fail_on: Severity) -> u8 {
        self.exit_code_with(fail_on, false)
    }

    /// `exit_code`, optionally failing only on findings new against the baseline.
    pub fn exit_code_with(&self, fail_on: Severity, only_new: bool) -> u8 {
        let failing = if only_new { self.failing_new(fail_on) } else { self.failing(fail_on) };
        if self.incomplete() {
            2
        } else if failing > 0 {
            1
        } else {
            0
        }
    }

    /// The `--format json` document (pretty, no trailing newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a Report always serializes")
    }

    /// [`Report::to_json`]'s text, written to `out` as it is produced.
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(out, self).map_err(std::io::Error::other)
    }
}

/// The frameworks the summary (and the SARIF rules) cover; see [`Report::new`].
fn frameworks_in_scope(catalogue: &Catalogue, scope: &Scope, findings: &[Finding]) -> Vec<String> {
    if !scope.frameworks.is_empty() {
        let mut seen = BTreeSet::new();
        return scope.frameworks.iter().filter(|f| seen.insert(f.as_str())).cloned().collect();
    }
    let from_findings: BTreeSet<&String> = findings.iter().flat_map(|f| f.frameworks.keys()).collect();
    if !from_findings.is_empty() {
        return from_findings.into_iter().cloned().collect();
    }
    catalogue.frameworks.keys().cloned().collect()
}

fn summarize(catalogue: &Catalogue, scope: &Scope, findings: &[Finding], errors: &[CollectionError]) -> Summary {
    let mut counts = StatusCounts { total: findings.len(), ..Default::default() };
    let mut failing_by_severity: BTreeMap<Severity, usize> =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info].into_iter().map(|s| (s, 0)).collect();
    for f in findings {
        match f.status {
            Status::Pass => counts.pass += 1,
            Status::Fail => {
                counts.fail += 1;
                *failing_by_severity.entry(f.severity).or_default() += 1;
            }
            Status::Error => counts.error += 1,
            Status::NotApplicable => counts.not_applicable += 1,
        }
    }

    let frameworks = frameworks_in_scope(catalogue, scope, findings)
        .into_iter()
        .map(|fw_id| {
            let fw = catalogue.frameworks.get(&fw_id);
            let mut requirements: Vec<RequirementSummary> = fw
                .map(|fw| {
                    fw.requirements
                        .iter()
                        .map(|r| RequirementSummary { id: r.id.clone(), title: r.title.clone(), family: r.family.clone(), counts: Counts::default() })
                        .collect()
                })
                .unwrap_or_default();
            let mut fw_counts = Counts::default();
            let mut family_counts: BTreeMap<String, Counts> = BTreeMap::new();
            for f in findings {
                let Some(req_ids) = f.frameworks.get(&fw_id) else { continue };
                if f.status == Status::NotApplicable {
                    continue;
                }
                fw_counts.add(f.status);
                let mut families = BTreeSet::new();
                for req_id in req_ids {
                    let idx = match requirements.iter().position(|r| &r.id == req_id) {
                        Some(i) => i,
                        None => {
                            // Not in the catalogue (should not happen): keep it visible anyway.
                            requirements.push(RequirementSummary {
                                id: req_id.clone(),
                                title: String::new(),
                                family: req_id.clone(),
                                counts: Counts::default(),
                            });
                            requirements.len() - 1
                        }
                    };
                    requirements[idx].counts.add(f.status);
                    families.insert(requirements[idx].family.clone());
                }
                for family in families {
                    family_counts.entry(family).or_default().add(f.status);
                }
            }
            // Families in the order they first appear in the catalogue's requirement list.
            let mut families: Vec<FamilySummary> = Vec::new();
            for r in &requirements {
                if !families.iter().any(|fam| fam.family == r.family) {
                    families.push(FamilySummary { family: r.family.clone(), counts: family_counts.get(&r.family).copied().unwrap_or_default() });
                }
            }
            let coverage = crate::controls::coverage::coverage(catalogue, &fw_id);
            FrameworkSummary {
                name: fw.map(|f| f.name.clone()).unwrap_or_else(|| fw_id.clone()),
                id: fw_id,
                counts: fw_counts,
                families,
                requirements,
                coverage,
            }
        })
        .collect();

    Summary { findings: counts, failing_by_severity, collection_errors: errors.len(), incomplete: counts.error > 0 || !errors.is_empty(), frameworks }
}

/// How a resource is named to humans: its logical id, else its name, else its id.
pub(crate) fn resource_label(r: &crate::finding::FindingResource) -> &str {
    r.logical_id.as_deref().filter(|s| !s.is_empty()).or(r.name.as_deref().filter(|s| !s.is_empty())).unwrap_or(&r.id)
}

/// "label (type)", unless the label already names the type (collection-error findings do).
pub(crate) fn resource_phrase(r: &crate::finding::FindingResource) -> String {
    let label = resource_label(r);
    if r.resource_type.is_empty() || label.contains(&r.resource_type) {
        label.to_string()
    } else {
        format!("{label} ({})", r.resource_type)
    }
}

/// Collapse whitespace (newlines included) to single spaces.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
