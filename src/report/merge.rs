//! Reports of several accounts as one: what `scan --accounts/--organization` prints and writes at
//! the top of its output directory, and what `tapaudit merge` makes of the JSON reports of
//! shards (CI jobs that each scanned part of an organization). Both go through [`merge`], so a
//! merge of shards has the verdicts of one run over all their accounts.
//!
//! Nothing is judged again: findings and collection errors are put together as they are, the
//! summary is counted anew from them ([`Report::new`]), and each account keeps a line of its own
//! ([`AccountResult`]), including the accounts that could not be scanned at all.

use super::{Report, Scope, StatusCounts};
use crate::collect::CollectionStats;
use crate::controls::Catalogue;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How the scan of one account went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountOutcome {
    /// Everything was read.
    Complete,
    /// Read in part: some calls failed, or some findings are `error`.
    Incomplete,
    /// Nothing could be read (the role could not be assumed, the identity check failed): every
    /// control of this account is unjudged.
    Failed,
    /// Not scanned on purpose (an organization account that is not ACTIVE), named so that it is
    /// no silent gap.
    Skipped,
}

/// One account of a report of several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountResult {
    pub account: String,
    /// The role the account was read as (None: the runner's own credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub outcome: AccountOutcome,
    pub regions: Vec<String>,
    pub findings: StatusCounts,
    pub collection_errors: usize,
    /// Why the account failed or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AccountResult {
    /// The line of a single account's report; `failed` when nothing of it could be read.
    pub fn of(report: &Report, role_arn: Option<String>, failed: bool) -> Option<AccountResult> {
        let account = report.scope.account.clone()?;
        let outcome = if failed {
            AccountOutcome::Failed
        } else if report.incomplete() {
            AccountOutcome::Incomplete
        } else {
            AccountOutcome::Complete
        };
        let reason = (outcome == AccountOutcome::Failed).then(|| report.errors.iter().map(error_line).collect::<Vec<_>>().join("; "));
        Some(AccountResult {
            account,
            role_arn,
            outcome,
            regions: report.scope.regions.clone(),
            findings: report.summary.findings,
            collection_errors: report.errors.len(),
            reason,
        })
    }

    pub fn skipped(account: &str, reason: &str) -> AccountResult {
        AccountResult {
            account: account.to_string(),
            role_arn: None,
            outcome: AccountOutcome::Skipped,
            regions: vec![],
            findings: StatusCounts::default(),
            collection_errors: 0,
            reason: Some(reason.to_string()),
        }
    }
}

fn error_line(e: &crate::model::CollectionError) -> String {
    let on = e.resource.as_deref().map(|r| format!(" for {r}")).unwrap_or_default();
    format!("{} {} failed{on}: {}: {}", e.service, e.operation, e.code, e.message)
}

/// One report of `parts` (each a single account's report, or itself a merge), plus the accounts
/// `skipped`. Refused, with the reason, when the parts cannot be one scan: the same account in
/// two parts, other frameworks, another stack or another kind of source.
///
/// Each part comes with a label (its file) that the refusals name.
pub fn merge(catalogue: &Catalogue, parts: Vec<(String, Report)>, skipped: Vec<AccountResult>) -> Result<Report, String> {
    let Some((_, first)) = parts.first() else { return Err("nothing to merge".into()) };
    let frameworks = first.scope.frameworks.clone();
    let stack = first.scope.stack.clone();
    let source = first.scope.source;
    let mut accounts: BTreeMap<String, (AccountResult, String)> = BTreeMap::new();
    let mut add_account = |a: AccountResult, label: &str| -> Result<(), String> {
        if let Some((_, other)) = accounts.get(&a.account) {
            return Err(format!("{label}: account {} is also in {other}: each account may be merged once", a.account));
        }
        accounts.insert(a.account.clone(), (a, label.to_string()));
        Ok(())
    };
    for a in skipped {
        add_account(a, "the organization's account list")?;
    }
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut stats = CollectionStats::default();
    let mut regions = BTreeSet::new();
    let mut endpoints = BTreeSet::new();
    let mut expired = Vec::new();
    let mut absent = Vec::new();
    let (mut started, mut finished) = (first.started_at.clone(), first.finished_at.clone());
    let stack_file = first.scope.stack_file.clone();
    for (label, part) in parts {
        if part.scope.frameworks != frameworks {
            return Err(format!(
                "{label}: covers the frameworks {}, the first report {}: merge reports of scans of the same frameworks",
                part.scope.frameworks.join(","),
                frameworks.join(",")
            ));
        }
        if part.scope.stack != stack {
            return Err(format!("{label}: a report of stack {:?}, the first one of {:?}", part.scope.stack, stack));
        }
        if part.scope.source != source {
            return Err(format!("{label}: a report of a {:?} scan, the first one of a {source:?} scan", part.scope.source));
        }
        if part.accounts.is_empty() {
            let Some(line) = AccountResult::of(&part, None, false) else {
                return Err(format!("{label}: a report of no account (a --desired check) cannot be merged"));
            };
            add_account(line, &label)?;
        } else {
            for a in part.accounts.iter().cloned() {
                add_account(a, &label)?;
            }
        }
        let account = part.scope.account.clone();
        errors.extend(part.errors.into_iter().map(|mut e| {
            if e.account.is_none() {
                e.account = account.clone();
            }
            e
        }));
        findings.extend(part.findings);
        add_stats(&mut stats, &part.stats);
        regions.extend(part.scope.regions);
        endpoints.insert(part.scope.endpoint);
        expired.extend(part.expired_suppressions);
        absent.extend(part.absent);
        started = started.min(part.started_at);
        finished = finished.max(part.finished_at);
    }
    let single = (accounts.len() == 1).then(|| accounts.keys().next().cloned()).flatten();
    let scope = Scope {
        stack,
        stack_file,
        account: single,
        regions: regions.into_iter().collect(),
        endpoint: endpoints.into_iter().collect::<Vec<_>>().join(", "),
        frameworks,
        source,
    };
    let mut report = Report::new(catalogue, scope, findings, errors, stats, started, finished);
    report.accounts = accounts.into_values().map(|(a, _)| a).collect();
    expired.sort_by(|a, b| (&a.control, &a.resource, &a.source.line).cmp(&(&b.control, &b.resource, &b.source.line)));
    expired.dedup_by(|a, b| a.control == b.control && a.resource == b.resource && a.source == b.source);
    report.expired_suppressions = expired;
    crate::controls::sort_findings(&mut absent);
    report.absent = absent;
    Ok(report)
}

/// Calls, resources and service time add up; wall time is the longest part's (they ran side by
/// side, or on other machines).
fn add_stats(total: &mut CollectionStats, part: &CollectionStats) {
    for (service, ops) in &part.api_calls {
        let t = total.api_calls.entry(service.clone()).or_default();
        for (op, n) in ops {
            *t.entry(op.clone()).or_default() += n;
        }
    }
    total.total_api_calls += part.total_api_calls;
    for (s, secs) in &part.service_seconds {
        *total.service_seconds.entry(s.clone()).or_default() += secs;
    }
    for (t, n) in &part.resources {
        *total.resources.entry(t.clone()).or_default() += n;
    }
    total.wall_seconds = total.wall_seconds.max(part.wall_seconds);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Evidence, Finding, FindingResource, Kind, Severity, Status};
    use crate::report::Source;
    use serde_json::json;

    fn cat() -> Catalogue {
        Catalogue::load().expect("catalogue parses")
    }

    fn finding(account: &str, key: &str, status: Status) -> Finding {
        Finding {
            control_id: "kms-key-rotation-enabled".into(),
            kind: Kind::Control,
            status,
            severity: Severity::Medium,
            title: "rotation".into(),
            resource: FindingResource {
                resource_type: "kms:key".into(),
                id: key.into(),
                arn: format!("arn:aws:kms:us-east-1:{account}:key/{key}"),
                region: "us-east-1".into(),
                logical_id: None,
                name: None,
            },
            frameworks: crate::finding::Frameworks::new([("fedramp-moderate".to_string(), vec!["SC-12".to_string()])].into()),
            message: format!("{status:?}"),
            evidence: Evidence::new(json!(false), json!(true)),
            location: None,
            suppression: None,
            baseline_state: None,
        }
    }

    fn single(account: &str, findings: Vec<Finding>, errors: usize, calls: u64) -> Report {
        let scope = Scope {
            stack: None,
            stack_file: None,
            account: Some(account.into()),
            regions: vec!["us-east-1".into()],
            endpoint: "http://127.0.0.1:5000".into(),
            frameworks: vec!["fedramp-moderate".into()],
            source: Source::Live,
        };
        let errors = (0..errors)
            .map(|i| crate::model::CollectionError {
                service: "kms".into(),
                operation: "ListKeys".into(),
                region: "us-east-1".into(),
                resource: None,
                code: format!("E{i}"),
                message: "throttled".into(),
                account: None,
            })
            .collect();
        let stats = CollectionStats {
            api_calls: [("kms".to_string(), [("ListKeys".to_string(), calls)].into())].into(),
            total_api_calls: calls,
            wall_seconds: calls as f64,
            ..Default::default()
        };
        Report::new(&cat(), scope, findings, errors, stats, format!("2026-01-01T00:00:0{calls}Z"), "2026-01-01T00:01:00Z".into())
    }

    #[test]
    fn merging_keeps_every_verdict_and_names_each_account() {
        let a = single("111111111111", vec![finding("111111111111", "k1", Status::Fail), finding("111111111111", "k2", Status::Pass)], 0, 2);
        let b = single("222222222222", vec![finding("222222222222", "k3", Status::Error)], 1, 3);
        let m =
            merge(&cat(), vec![("b.json".into(), b.clone()), ("a.json".into(), a.clone())], vec![AccountResult::skipped("333333333333", "SUSPENDED")]).unwrap();
        assert_eq!(m.findings.len(), 3);
        assert_eq!((m.summary.findings.fail, m.summary.findings.pass, m.summary.findings.error), (1, 1, 1));
        assert!(m.incomplete());
        assert_eq!(m.scope.account, None);
        assert_eq!(m.stats.total_api_calls, 5);
        assert_eq!(m.stats.api_calls["kms"]["ListKeys"], 5);
        assert_eq!(m.stats.wall_seconds, 3.0, "parts ran side by side: the longest");
        assert_eq!(m.started_at, "2026-01-01T00:00:02Z");
        // B's error now says whose it is
        assert_eq!(m.errors[0].account.as_deref(), Some("222222222222"));
        let outcomes: Vec<(&str, AccountOutcome)> = m.accounts.iter().map(|a| (a.account.as_str(), a.outcome)).collect();
        assert_eq!(
            outcomes,
            vec![("111111111111", AccountOutcome::Complete), ("222222222222", AccountOutcome::Incomplete), ("333333333333", AccountOutcome::Skipped)]
        );
        // the order of the parts does not matter, and a merge of merges is the same merge
        let again =
            merge(&cat(), vec![("a.json".into(), a.clone()), ("b.json".into(), b.clone())], vec![AccountResult::skipped("333333333333", "SUSPENDED")]).unwrap();
        assert_eq!(again.findings, m.findings);
        assert_eq!(again.summary, m.summary);
        let ab = merge(&cat(), vec![("a.json".into(), a.clone())], vec![]).unwrap();
        let nested = merge(&cat(), vec![("ab.json".into(), ab), ("b.json".into(), b)], vec![AccountResult::skipped("333333333333", "SUSPENDED")]).unwrap();
        assert_eq!((nested.findings, nested.summary, nested.accounts, nested.errors), (m.findings, m.summary, m.accounts, m.errors));
    }

    #[test]
    fn what_cannot_be_one_scan_is_refused_naming_the_report() {
        let a = single("111111111111", vec![finding("111111111111", "k1", Status::Fail)], 0, 1);
        let err = merge(&cat(), vec![("x.json".into(), a.clone()), ("y.json".into(), a.clone())], vec![]).unwrap_err();
        assert!(err.starts_with("y.json: account 111111111111 is also in x.json"), "{err}");
        let mut other = single("222222222222", vec![], 0, 1);
        other.scope.frameworks = vec!["ferpa".into()];
        let err = merge(&cat(), vec![("x.json".into(), a.clone()), ("z.json".into(), other)], vec![]).unwrap_err();
        assert!(err.starts_with("z.json: covers the frameworks ferpa"), "{err}");
        let mut stack = single("222222222222", vec![], 0, 1);
        stack.scope.stack = Some("dev".into());
        assert!(merge(&cat(), vec![("x.json".into(), a.clone()), ("s.json".into(), stack)], vec![]).unwrap_err().starts_with("s.json: a report of stack"));
        let mut desired = single("222222222222", vec![], 0, 1);
        desired.scope.account = None;
        assert!(merge(&cat(), vec![("x.json".into(), a.clone()), ("d.json".into(), desired)], vec![]).unwrap_err().contains("of no account"));
        assert!(merge(&cat(), vec![], vec![]).is_err());
    }
}
