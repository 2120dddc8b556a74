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
}

/// Thread-safe recorder the collectors write to.
#[derive(Debug, Default)]
pub struct Recorder {
    calls: Mutex<BTreeMap<String, BTreeMap<String, u64>>>,
    seconds: Mutex<BTreeMap<String, f64>>,
    errors: Mutex<Vec<CollectionError>>,
}

impl Recorder {
    pub fn call(&self, service: &str, operation: &str) {
        let mut c = self.calls.lock().expect("stats lock");
        *c.entry(service.to_string()).or_default().entry(operation.to_string()).or_default() += 1;
    }

    pub fn time(&self, service: &str, d: Duration) {
        *self.seconds.lock().expect("stats lock").entry(service.to_string()).or_default() += d.as_secs_f64();
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
            },
            errors,
        )
    }
}
