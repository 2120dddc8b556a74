//! Controls: the catalogue (data, `controls/`) plus one pure function per control id, grouped
//! by service. A control reads only the State and returns a Verdict per resource it applies to.
//! Fail-closed: evidence that could not be read yields `error`, never `pass`.

pub mod catalogue;
pub mod coverage;
mod helpers;
mod keys;

mod apigw;
mod cloudtrail;
mod config;
mod ec2;
mod ecs;
mod efs;
mod elasticache;
mod elbv2;
pub(crate) use elbv2::is_tls12_plus_policy;
mod guardduty;
mod iam;
mod iam_identity;
mod kinesis;
mod kms;
mod logs;
mod rds;
mod s3;
mod secrets;
mod storage;

pub use catalogue::{Catalogue, ControlMeta};
pub use helpers::*;
pub use keys::{customer_key_verdict, resolve_key, KeyRef};

use crate::finding::{Evidence, Finding, FindingResource, Frameworks, Json, Kind, Status};
use crate::model::{Collection, Meta, Resource, State};
use serde_json::Value;
use std::collections::BTreeMap;

/// Resolved thresholds for one control.
#[derive(Debug, Clone, Default)]
pub struct Params(pub BTreeMap<String, i64>);

impl Params {
    /// A threshold the catalogue declares for this control (the catalogue tests make sure
    /// every name a control asks for exists).
    pub fn get(&self, name: &str) -> i64 {
        *self.0.get(name).unwrap_or_else(|| panic!("control parameter {name} is not in the catalogue"))
    }
}

/// One control's judgement of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub resource: FindingResource,
    pub status: Status,
    pub message: String,
    /// Held compactly from the start: a large scan holds hundreds of thousands of verdicts.
    pub observed: Json,
    pub expected: Json,
}

impl Verdict {
    fn new(m: &Meta, status: Status, message: impl Into<String>, observed: Json, expected: Json) -> Self {
        Verdict { resource: m.into(), status, message: message.into(), observed, expected }
    }
    /// Expected is what was observed: one value, shared by both sides.
    pub fn pass(m: &Meta, message: impl Into<String>, observed: Value) -> Self {
        let observed = Json::from(observed);
        Verdict::new(m, Status::Pass, message, observed.clone(), observed)
    }
    pub fn fail(m: &Meta, message: impl Into<String>, observed: Value, expected: Value) -> Self {
        Verdict::new(m, Status::Fail, message, observed.into(), expected.into())
    }
    /// The evidence could not be read.
    pub fn error(m: &Meta, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Verdict::new(m, Status::Error, format!("evidence could not be read: {reason}"), Json::Null, Json::Null)
    }
    pub fn not_applicable(m: &Meta, message: impl Into<String>) -> Self {
        Verdict::new(m, Status::NotApplicable, message, Json::Null, Json::Null)
    }
    /// A listing failed: every resource of this type in the region is unknown.
    pub fn collection_error(resource_type: &str, region: &str, reason: &str) -> Self {
        Verdict {
            resource: FindingResource {
                resource_type: resource_type.to_string(),
                id: format!("{resource_type} in {region}"),
                arn: String::new(),
                region: region.to_string(),
                logical_id: None,
                name: None,
            },
            status: Status::Error,
            message: format!("{resource_type} resources in {region} could not be listed: {reason}"),
            observed: Json::Null,
            expected: Json::Null,
        }
    }
}

/// Judge every item of a collection; a failed listing becomes an `error` verdict per region.
pub fn each<T: Resource>(c: &Collection<T>, resource_type: &str, mut judge: impl FnMut(&T) -> Verdict) -> Vec<Verdict> {
    let mut out: Vec<Verdict> = c.failures.iter().map(|f| Verdict::collection_error(resource_type, &f.region, &f.reason)).collect();
    out.extend(c.iter().map(&mut judge));
    out
}

pub type ControlFn = fn(&State, &Params) -> Vec<Verdict>;

/// Every implemented control, by catalogue id.
pub fn registry() -> BTreeMap<&'static str, ControlFn> {
    let mut r = BTreeMap::new();
    for list in [
        kms::CONTROLS,
        ec2::CONTROLS,
        kinesis::CONTROLS,
        rds::CONTROLS,
        logs::CONTROLS,
        secrets::CONTROLS,
        ecs::CONTROLS,
        apigw::CONTROLS,
        elasticache::CONTROLS,
        efs::CONTROLS,
        elbv2::CONTROLS,
        iam::CONTROLS,
        iam_identity::CONTROLS,
        s3::CONTROLS,
        storage::CONTROLS,
        cloudtrail::CONTROLS,
        guardduty::CONTROLS,
        config::CONTROLS,
    ] {
        for (id, f) in list {
            r.insert(*id, *f);
        }
    }
    r
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Frameworks in scope; a control runs when it maps to any of them.
    pub frameworks: Vec<String>,
    /// Stack-file parameter overrides.
    pub overrides: BTreeMap<String, i64>,
}

/// Run every selected control over the State.
pub fn evaluate(catalogue: &Catalogue, state: &State, selection: &Selection) -> Vec<Finding> {
    let registry = registry();
    // the controls to run, in catalogue order
    let mut jobs = Vec::new();
    for (id, meta) in &catalogue.controls {
        if meta.service == "drift" {
            continue;
        }
        let frameworks: BTreeMap<String, Vec<String>> =
            meta.frameworks.iter().filter(|(f, _)| selection.frameworks.contains(f)).map(|(f, r)| (f.clone(), r.clone())).collect();
        if frameworks.is_empty() {
            continue;
        }
        let Some(control) = registry.get(id.as_str()) else { continue };
        let params = Params(catalogue.parameters(meta, &selection.frameworks, &selection.overrides));
        jobs.push((id, meta, *control, Frameworks::new(frameworks), params));
    }
    type Job<'a> = (&'a String, &'a ControlMeta, ControlFn, Frameworks, Params);
    let finding = |(id, meta, _, frameworks, _): &Job, v: Verdict| Finding {
        control_id: (*id).clone(),
        kind: Kind::Control,
        status: v.status,
        severity: meta.severity,
        title: meta.title.clone(),
        resource: v.resource,
        frameworks: frameworks.clone(),
        message: v.message,
        evidence: Evidence { observed: v.observed, expected: v.expected },
        location: None,
        suppression: None,
        baseline_state: None,
    };
    // controls are pure and independent: as many at once as there are cores, taken in turn
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, jobs.len().max(1));
    let mut per_control: Vec<Vec<Verdict>> = (0..jobs.len()).map(|_| Vec::new()).collect();
    let mut took_by_control = Vec::new();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((_, _, control, _, params)) = jobs.get(i) else { return done };
                        let started = std::time::Instant::now();
                        let verdicts = control(state, params);
                        done.push((i, verdicts, started.elapsed()));
                    }
                })
            })
            .collect();
        for w in workers {
            for (i, verdicts, took) in w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)) {
                per_control[i] = verdicts;
                took_by_control.push((took, jobs[i].0.as_str()));
            }
        }
    });
    if crate::timings::enabled() {
        // the slowest controls, for the benchmark
        took_by_control.sort_by(|a, b| b.cmp(a));
        for (took, id) in took_by_control.iter().take(8) {
            eprintln!("timing:   control {id} {:.3} s", took.as_secs_f64());
        }
    }
    // one allocation of the exact size (a collected flatten grows by doubling and copying);
    // the verdicts, smaller than findings, become findings only here, and each control's
    // verdicts are freed as they are turned: a large scan never holds its findings twice
    let mut findings: Vec<Finding> = Vec::with_capacity(per_control.iter().map(Vec::len).sum());
    for (job, verdicts) in jobs.iter().zip(per_control) {
        findings.extend(verdicts.into_iter().map(|v| finding(job, v)));
    }
    sort_findings(&mut findings);
    findings
}

/// Stable order: status (fail, error, pass, n/a), severity, control, resource.
/// Findings are large: their order is found by sorting indices (stable), and each finding is
/// then moved once, along the cycles of that permutation.
pub fn sort_findings(findings: &mut [Finding]) {
    fn key(f: &Finding) -> (Status, crate::finding::Severity, &str, &str, &str) {
        (f.status, f.severity, f.control_id.as_str(), f.resource.arn.as_str(), f.resource.id.as_str())
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| key(&findings[a]).cmp(&key(&findings[b])));
    apply_order(findings, &order);
}

/// Rearrange `items` so that position k holds what was at `order[k]` (a permutation).
fn apply_order<T>(items: &mut [T], order: &[usize]) {
    let mut placed = vec![false; items.len()];
    for start in 0..items.len() {
        let mut k = start;
        while !placed[k] {
            placed[k] = true;
            let from = order[k];
            if from == start {
                break;
            }
            items.swap(k, from);
            k = from;
        }
    }
}

#[cfg(test)]
mod order_tests {
    #[test]
    fn apply_order_moves_each_item_where_the_order_says() {
        for order in [vec![], vec![0], vec![1, 0], vec![2, 0, 1], vec![3, 1, 0, 2, 5, 4], vec![4, 3, 2, 1, 0]] {
            let mut items: Vec<usize> = (0..order.len()).map(|i| i * 10).collect();
            super::apply_order(&mut items, &order);
            assert_eq!(items, order.iter().map(|i| i * 10).collect::<Vec<_>>(), "{order:?}");
        }
    }
}

#[cfg(test)]
mod catalogue_tests;

#[cfg(test)]
pub mod testing {
    //! Fixtures for control tests: a compliant State (fixtures/state/compliant-*.json, one
    //! resource of each kind) that every control passes; tests break one field to fail it.
    use super::*;
    use crate::finding::Status;

    const PLATFORM: &str = include_str!("../../fixtures/state/compliant-platform.json");
    const APPS: &str = include_str!("../../fixtures/state/compliant-apps.json");
    const IDENTITY: &str = include_str!("../../fixtures/state/compliant-identity.json");
    const AUDIT: &str = include_str!("../../fixtures/state/compliant-audit.json");
    const STORAGE: &str = include_str!("../../fixtures/state/compliant-storage.json");

    /// kms, ec2, rds, kinesis, logs, secrets from compliant-platform.json; ecs, apigw,
    /// elasticache, efs, elbv2, iam roles from compliant-apps.json; the account around them from
    /// compliant-identity.json (IAM users, groups, the account), compliant-audit.json
    /// (CloudTrail, GuardDuty, Config) and compliant-storage.json (S3 account settings, EBS and
    /// RDS snapshots). A file may add collections to a section another file fills (each
    /// collection comes from one file). Hand-written fixtures may leave
    /// out empty collections and empty `failures` lists; those are filled in from an empty
    /// State, and everything else is read strictly (as a snapshot is).
    pub fn fixture() -> State {
        let Value::Object(mut sections) = serde_json::to_value(State::default()).expect("State serializes") else { unreachable!() };
        for (file, text) in [
            ("compliant-platform.json", PLATFORM),
            ("compliant-apps.json", APPS),
            ("compliant-identity.json", IDENTITY),
            ("compliant-audit.json", AUDIT),
            ("compliant-storage.json", STORAGE),
        ] {
            let Value::Object(m) = serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("fixtures/state/{file}: {e}")) else {
                panic!("fixtures/state/{file} is not an object")
            };
            for (k, mut v) in m {
                fill_failures(&mut v);
                let Some(Value::Object(skeleton)) = sections.get_mut(&k) else { panic!("fixtures/state/{file}: {k} is not a State section") };
                let Value::Object(given) = v else { panic!("fixtures/state/{file}: {k} is not an object") };
                skeleton.extend(given);
            }
        }
        serde_json::from_value(Value::Object(sections)).unwrap_or_else(|e| panic!("fixtures/state/compliant-*.json is not a State: {e}"))
    }

    /// Hand-written fixtures may leave out empty `failures` lists of collections.
    fn fill_failures(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if m.contains_key("items") && !m.contains_key("failures") {
                    m.insert("failures".into(), Value::Array(vec![]));
                }
                m.values_mut().for_each(fill_failures);
            }
            Value::Array(a) => a.iter_mut().for_each(fill_failures),
            _ => {}
        }
    }

    /// The fixture with one collection's listing failed in us-east-1: nothing of that type is
    /// known there, so controls over it must say `error`.
    pub fn unlisted<T: crate::model::Resource>(pick: impl FnOnce(&mut State) -> &mut Collection<T>) -> State {
        let mut s = fixture();
        let c = pick(&mut s);
        c.items.clear();
        c.fail("us-east-1", "AccessDenied");
        s
    }

    /// Statuses a control yields on `state` (thresholds for all frameworks), not_applicable left out.
    pub fn eval(id: &str, state: &State) -> Vec<Status> {
        let cat = Catalogue::load().unwrap();
        let meta = cat.controls.get(id).unwrap_or_else(|| panic!("{id} not in catalogue"));
        let control = registry().get(id).copied().unwrap_or_else(|| panic!("{id} not implemented"));
        let fws: Vec<String> = cat.frameworks.keys().cloned().collect();
        let params = Params(cat.parameters(meta, &fws, &BTreeMap::new()));
        let mut s: Vec<Status> = control(state, &params).into_iter().map(|v| v.status).filter(|s| *s != Status::NotApplicable).collect();
        s.sort();
        s
    }
}
