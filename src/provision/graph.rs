//! The dependency-graph executor shared by plan, provision and destroy.
//! Independent nodes run concurrently (bounded); a failed node stops only its dependents.

use crate::error::Error;
use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::{Duration, Instant};

/// Which way edges are followed: dependencies first (create) or dependents first (destroy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    DepsFirst,
    DependentsFirst,
}

pub struct Outcome<T> {
    pub id: String,
    pub result: Result<T, Error>,
    pub elapsed: Duration,
}

/// Nodes that never started because something they wait for failed.
pub struct RunResult<T> {
    pub done: Vec<Outcome<T>>,
    pub blocked: Vec<String>,
}

/// Ids that `id` must wait for under `order`.
fn waits_for<'a>(id: &str, edges: &'a BTreeMap<String, Vec<String>>, order: Order) -> Vec<&'a str> {
    match order {
        Order::DepsFirst => edges.get(id).map(|d| d.iter().map(String::as_str).collect()).unwrap_or_default(),
        Order::DependentsFirst => edges.iter().filter(|(_, deps)| deps.iter().any(|d| d == id)).map(|(k, _)| k.as_str()).collect(),
    }
}

/// Topological order check: every dependency names a node and there is no cycle.
pub fn check_acyclic(edges: &BTreeMap<String, Vec<String>>) -> Result<Vec<String>, String> {
    let mut order = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    while done.len() < edges.len() {
        let before = done.len();
        for (id, deps) in edges {
            if done.contains(id.as_str()) {
                continue;
            }
            for d in deps {
                if !edges.contains_key(d) {
                    return Err(format!("{id} depends on unknown {d}"));
                }
            }
            if deps.iter().all(|d| done.contains(d.as_str())) {
                done.insert(id);
                order.push(id.clone());
            }
        }
        if done.len() == before {
            return Err("dependency cycle".into());
        }
    }
    Ok(order)
}

/// Run `work` for every node, respecting `order`, at most `concurrency` at a time.
/// `work` is called with the node id; results come back in completion order.
pub async fn run<T, F, Fut>(edges: &BTreeMap<String, Vec<String>>, order: Order, concurrency: usize, work: F) -> RunResult<T>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut started: BTreeSet<String> = BTreeSet::new();
    let mut ok: BTreeSet<String> = BTreeSet::new();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut done = Vec::new();
    let mut running = FuturesUnordered::new();
    loop {
        for id in edges.keys() {
            if running.len() >= concurrency.max(1) {
                break;
            }
            if started.contains(id) {
                continue;
            }
            let waits = waits_for(id, edges, order);
            if waits.iter().all(|w| ok.contains(*w)) {
                started.insert(id.clone());
                let fut = work(id.clone());
                let id = id.clone();
                running.push(async move {
                    let t = Instant::now();
                    let result = fut.await;
                    Outcome { id, result, elapsed: t.elapsed() }
                });
            }
        }
        match running.next().await {
            Some(outcome) => {
                if outcome.result.is_ok() {
                    ok.insert(outcome.id.clone());
                } else {
                    failed.insert(outcome.id.clone());
                }
                done.push(outcome);
            }
            None => break,
        }
    }
    let blocked = edges.keys().filter(|id| !started.contains(*id)).cloned().collect();
    RunResult { done, blocked }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn edges(list: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        list.iter().map(|(k, d)| (k.to_string(), d.iter().map(|s| s.to_string()).collect())).collect()
    }

    #[tokio::test]
    async fn runs_dependencies_first_and_dependents_first_in_reverse() {
        let e = edges(&[("a", &[]), ("b", &["a"]), ("c", &["b"]), ("d", &["a"])]);
        for (order, want_before) in [(Order::DepsFirst, ("a", "c")), (Order::DependentsFirst, ("c", "a"))] {
            let log = Arc::new(Mutex::new(Vec::new()));
            let r = run(&e, order, 2, |id| {
                let log = log.clone();
                async move {
                    log.lock().unwrap().push(id);
                    Ok::<_, Error>(())
                }
            })
            .await;
            assert_eq!(r.done.len(), 4);
            let log = log.lock().unwrap();
            let pos = |x: &str| log.iter().position(|i| i == x).unwrap();
            assert!(pos(want_before.0) < pos(want_before.1), "{order:?}: {log:?}");
        }
    }

    #[tokio::test]
    async fn a_failure_blocks_only_its_dependents() {
        let e = edges(&[("a", &[]), ("b", &["a"]), ("c", &[])]);
        let r = run(&e, Order::DepsFirst, 4, |id| async move {
            if id == "a" {
                Err(Error::usage("boom"))
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(r.blocked, vec!["b".to_string()]);
        assert!(r.done.iter().any(|o| o.id == "c" && o.result.is_ok()));
    }

    #[test]
    fn detects_cycles_and_unknown_deps() {
        assert!(check_acyclic(&edges(&[("a", &["b"]), ("b", &["a"])])).is_err());
        assert!(check_acyclic(&edges(&[("a", &["x"])])).is_err());
        assert_eq!(check_acyclic(&edges(&[("b", &["a"]), ("a", &[])])).unwrap(), vec!["a", "b"]);
    }
}
