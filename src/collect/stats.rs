//! Collection statistics and errors, recorded by the collectors and reported with the scan.

pub use crate::model::CollectionError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CollectionStats {
    /// service → operation → calls made (each page counts)
    pub api_calls: BTreeMap<String, BTreeMap<String, u64>>,
    pub total_api_calls: u64,
    /// service → wall time in seconds (summed over regions)
    pub service_seconds: BTreeMap<String, f64>,
    /// resource type → count in scope
    pub resources: BTreeMap<String, usize>,
    pub wall_seconds: f64,
    /// service → throttled answers (each throttled attempt counts; the SDK retried them)
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttles: BTreeMap<String, u64>,
    /// service → retries (attempts beyond the first of each call)
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub retries: BTreeMap<String, u64>,
}

/// Thread-safe recorder the collectors write to.
#[derive(Debug, Default)]
pub struct Recorder {
    calls: Mutex<BTreeMap<String, BTreeMap<String, u64>>>,
    seconds: Mutex<BTreeMap<String, f64>>,
    errors: Mutex<Vec<CollectionError>>,
    throttles: Mutex<BTreeMap<String, u64>>,
    retries: Mutex<BTreeMap<String, u64>>,
}

impl Recorder {
    pub fn call(&self, service: &str, operation: &str) {
        let mut c = self.calls.lock().expect("stats lock");
        *c.entry(service.to_string()).or_default().entry(operation.to_string()).or_default() += 1;
    }

    pub fn time(&self, service: &str, d: Duration) {
        *self.seconds.lock().expect("stats lock").entry(service.to_string()).or_default() += d.as_secs_f64();
    }

    /// What the SDK did for one call: its attempts and the throttled answers among them.
    pub fn attempts(&self, service: &str, attempts: u32, throttles: u32) {
        if attempts > 1 {
            *self.retries.lock().expect("stats lock").entry(service.to_string()).or_default() += u64::from(attempts - 1);
        }
        if throttles > 0 {
            *self.throttles.lock().expect("stats lock").entry(service.to_string()).or_default() += u64::from(throttles);
        }
    }

    pub fn error(&self, e: CollectionError) {
        self.errors.lock().expect("stats lock").push(e);
    }

    pub fn finish(&self, resources: BTreeMap<String, usize>, wall: Duration) -> (CollectionStats, Vec<CollectionError>) {
        let api_calls = self.calls.lock().expect("stats lock").clone();
        let total_api_calls = api_calls.values().flat_map(|m| m.values()).sum();
        let mut errors = self.errors.lock().expect("stats lock").clone();
        errors.sort_by(|a, b| (&a.service, &a.region, &a.operation, &a.resource).cmp(&(&b.service, &b.region, &b.operation, &b.resource)));
        errors.dedup();
        (
            CollectionStats {
                api_calls,
                total_api_calls,
                service_seconds: self.seconds.lock().expect("stats lock").clone(),
                resources,
                wall_seconds: wall.as_secs_f64(),
                throttles: self.throttles.lock().expect("stats lock").clone(),
                retries: self.retries.lock().expect("stats lock").clone(),
            },
            errors,
        )
    }
}
