//! Adaptive concurrency per (service, region): an AIMD window on top of the global budget.
//!
//! Every read takes a slot of its (service, region) window, then a permit of the global budget
//! (`--concurrency`, one `Arc<Semaphore>` that several accounts can share). A window starts at
//! [`START`], grows additively while calls succeed (+1 per window's worth of successes, as TCP
//! congestion avoidance), halves on a call that met a throttling answer (at most once per
//! window: calls that started before the last decrease do not halve it again), never drops below
//! 1 and never exceeds the budget.
//!
//! Throttling is observed per attempt: the SDK retries throttled attempts itself, so
//! [`AttemptObserver`] (an interceptor of the read clients) counts attempts and throttled
//! answers into the [`Probe`] of the call in progress (a task-local set by [`observe`]).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The window a (service, region) starts with.
pub const START: usize = 4;

/// AWS error codes that mean "slow down", in every protocol (the SDK's own throttling list,
/// aws-smithy-runtime `THROTTLING_ERRORS`).
pub const THROTTLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "PriorRequestNotComplete",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "EC2ThrottledException",
];

/// True for an error code that means throttling.
pub fn is_throttle_code(code: &str) -> bool {
    // JSON `__type` may carry a namespace (`com.amazon.coral.availability#ThrottlingException`)
    let code = code.rsplit('#').next().unwrap_or(code).split(':').next().unwrap_or(code).trim();
    THROTTLE_CODES.contains(&code)
}

/// The AWS error code of an answer: the `x-amzn-ErrorType` header, JSON `__type`/`code`, or the
/// XML `<Code>` element.
pub fn error_code(error_type_header: Option<&str>, body: &[u8]) -> Option<String> {
    if let Some(h) = error_type_header.filter(|h| !h.trim().is_empty()) {
        return Some(h.to_string());
    }
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(body) {
        return ["__type", "code", "Code"].iter().find_map(|k| m.get(*k).and_then(|v| v.as_str()).map(str::to_string));
    }
    let text = String::from_utf8_lossy(body);
    text.split_once("<Code>").and_then(|(_, rest)| rest.split_once("</Code>")).map(|(c, _)| c.trim().to_string())
}

/// Whether an HTTP answer is a throttle: HTTP 429, or an error status with a throttling code.
pub fn is_throttle_answer(status: u16, error_type_header: Option<&str>, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    status >= 400 && error_code(error_type_header, body).is_some_and(|c| is_throttle_code(&c))
}

/// The pure AIMD state machine of one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Aimd {
    window: f64,
    cap: f64,
    /// Incremented by every decrease; a throttle seen by a call admitted in an older epoch was
    /// already answered.
    epoch: u64,
}

impl Aimd {
    pub fn new(start: usize, cap: usize) -> Aimd {
        let cap = cap.max(1) as f64;
        Aimd { window: (start.max(1) as f64).min(cap), cap, epoch: 0 }
    }

    /// Calls allowed in flight.
    pub fn limit(&self) -> usize {
        self.window.floor().max(1.0) as usize
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// A call succeeded without throttling: +1 per window's worth of successes.
    pub fn on_success(&mut self) {
        self.window = (self.window + 1.0 / self.window).min(self.cap);
    }

    /// A call admitted in `epoch` met a throttle: halve (floor 1), once per epoch.
    pub fn on_throttle(&mut self, epoch: u64) {
        if epoch == self.epoch {
            self.window = (self.window / 2.0).max(1.0);
            self.epoch += 1;
        }
    }
}

#[derive(Debug)]
struct Slot {
    state: Mutex<(Aimd, usize)>,
    notify: Notify,
}

/// Windows per (service, region) under one global budget.
#[derive(Debug)]
pub struct Limiter {
    budget: Arc<Semaphore>,
    cap: usize,
    /// false: every window is fixed at the cap (the behaviour before the windows: the budget
    /// alone bounds the calls); for benchmarks, `TAPAUDIT_LIMITER=fixed`.
    adaptive: bool,
    windows: Mutex<HashMap<(String, String), Arc<Slot>>>,
}

/// A call's place in its window and in the budget; report the outcome with [`Permit::finish`].
#[derive(Debug)]
pub struct Permit {
    adaptive: bool,
    slot: Arc<Slot>,
    epoch: u64,
    _global: Option<OwnedSemaphorePermit>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.slot.state.lock().expect("limiter lock").1 -= 1;
        self.slot.notify.notify_waiters();
    }
}

impl Permit {
    /// The call ended: shrink the window when it met a throttle, else grow it.
    pub fn finish(self, throttles: u32) {
        if !self.adaptive {
            return;
        }
        let mut s = self.slot.state.lock().expect("limiter lock");
        if throttles > 0 {
            s.0.on_throttle(self.epoch);
        } else {
            s.0.on_success();
        }
    }
}

impl Limiter {
    /// Windows capped by `cap` (the `--concurrency` of this run) under `budget`.
    pub fn new(budget: Arc<Semaphore>, cap: usize) -> Limiter {
        Limiter { budget, cap: cap.max(1), adaptive: true, windows: Mutex::new(HashMap::new()) }
    }

    /// Windows fixed at `cap`: only the budget bounds the calls.
    pub fn fixed(budget: Arc<Semaphore>, cap: usize) -> Limiter {
        Limiter { budget, cap: cap.max(1), adaptive: false, windows: Mutex::new(HashMap::new()) }
    }

    /// `TAPAUDIT_LIMITER=fixed` selects [`Limiter::fixed`] (to measure the difference).
    pub fn from_env(budget: Arc<Semaphore>, cap: usize) -> Limiter {
        match std::env::var("TAPAUDIT_LIMITER").as_deref() {
            Ok("fixed") => Limiter::fixed(budget, cap),
            _ => Limiter::new(budget, cap),
        }
    }

    fn slot(&self, service: &str, region: &str) -> Arc<Slot> {
        let mut w = self.windows.lock().expect("limiter lock");
        w.entry((service.to_string(), region.to_string()))
            .or_insert_with(|| {
                let start = if self.adaptive { START } else { self.cap };
                Arc::new(Slot { state: Mutex::new((Aimd::new(start, self.cap), 0)), notify: Notify::new() })
            })
            .clone()
    }

    /// The current window of (service, region).
    pub fn window(&self, service: &str, region: &str) -> usize {
        self.slot(service, region).state.lock().expect("limiter lock").0.limit()
    }

    /// Wait for a slot in the window, then for a permit of the budget.
    pub async fn acquire(&self, service: &str, region: &str) -> Permit {
        let slot = self.slot(service, region);
        let epoch = loop {
            let notified = slot.notify.notified();
            {
                let mut s = slot.state.lock().expect("limiter lock");
                if s.1 < s.0.limit() {
                    s.1 += 1;
                    break s.0.epoch();
                }
            }
            notified.await;
        };
        let mut permit = Permit { adaptive: self.adaptive, slot, epoch, _global: None };
        permit._global = Some(self.budget.clone().acquire_owned().await.expect("budget open"));
        permit
    }
}

/// Attempts and throttled answers of one call.
#[derive(Debug, Default)]
pub struct Probe {
    attempts: AtomicU32,
    throttles: AtomicU32,
}

impl Probe {
    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::Relaxed)
    }
    pub fn throttles(&self) -> u32 {
        self.throttles.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    static PROBE: Arc<Probe>;
}

/// Run one call (its SDK future) with a probe that the read clients' interceptor fills.
pub async fn observe<F: Future>(fut: F) -> (F::Output, Arc<Probe>) {
    let probe = Arc::new(Probe::default());
    let out = PROBE.scope(probe.clone(), fut).await;
    (out, probe)
}

/// Counts attempts and throttled answers into the probe of the call in progress (none outside
/// [`observe`]: then it does nothing).
#[derive(Debug, Default, Clone, Copy)]
pub struct AttemptObserver;

impl Intercept for AttemptObserver {
    fn name(&self) -> &'static str {
        "tapaudit attempt observer"
    }

    fn read_before_transmit(&self, _: &BeforeTransmitInterceptorContextRef<'_>, _: &RuntimeComponents, _: &mut ConfigBag) -> Result<(), BoxError> {
        let _ = PROBE.try_with(|p| p.attempts.fetch_add(1, Ordering::Relaxed));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let status = response.status().as_u16();
        if status >= 400 {
            let header = response.headers().get("x-amzn-ErrorType");
            let body = response.body().bytes().unwrap_or_default();
            if is_throttle_answer(status, header, body) {
                let _ = PROBE.try_with(|p| p.throttles.fetch_add(1, Ordering::Relaxed));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_additively_up_to_the_cap() {
        let mut a = Aimd::new(4, 8);
        assert_eq!(a.limit(), 4);
        for _ in 0..4 {
            a.on_success();
        }
        // +1 per window's worth of successes
        assert_eq!(a.limit(), 4, "4 successes at window 4 add just under 1");
        a.on_success();
        assert_eq!(a.limit(), 5);
        for _ in 0..1000 {
            a.on_success();
        }
        assert_eq!(a.limit(), 8, "capped by the budget");
    }

    #[test]
    fn halves_once_per_epoch_with_floor_one() {
        let mut a = Aimd::new(8, 8);
        let e = a.epoch();
        a.on_throttle(e);
        assert_eq!(a.limit(), 4);
        // a second call admitted before the decrease does not halve again
        a.on_throttle(e);
        assert_eq!(a.limit(), 4);
        for _ in 0..10 {
            let e = a.epoch();
            a.on_throttle(e);
        }
        assert_eq!(a.limit(), 1, "never below 1");
        a.on_success();
        assert_eq!(a.limit(), 2, "grows again from the floor");
    }

    #[test]
    fn start_is_capped() {
        assert_eq!(Aimd::new(4, 2).limit(), 2);
        assert_eq!(Aimd::new(0, 0).limit(), 1);
    }

    #[test]
    fn classifies_throttles_in_every_protocol() {
        // JSON 1.0/1.1
        assert!(is_throttle_answer(400, None, br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#));
        assert!(is_throttle_answer(400, None, br#"{"__type":"com.amazonaws.kms#ThrottlingException"}"#));
        assert!(is_throttle_answer(400, None, br#"{"__type":"ProvisionedThroughputExceededException"}"#));
        // awsQuery
        assert!(is_throttle_answer(
            400,
            None,
            b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>"
        ));
        // EC2
        assert!(is_throttle_answer(503, None, b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>"));
        // REST-JSON
        assert!(is_throttle_answer(429, Some("TooManyRequestsException"), b"{}"));
        assert!(is_throttle_answer(429, None, b""));
        assert!(is_throttle_answer(400, Some("TooManyRequestsException:http://internal"), b"{}"));
        // S3
        assert!(is_throttle_answer(503, None, b"<Error><Code>SlowDown</Code><Message>Please reduce</Message></Error>"));
        assert!(is_throttle_answer(400, None, b"<Error><Code>RequestThrottled</Code></Error>"));
        // not throttles
        assert!(!is_throttle_answer(400, None, br#"{"__type":"AccessDeniedException"}"#));
        assert!(!is_throttle_answer(503, None, b"<html>bad gateway</html>"));
        assert!(!is_throttle_answer(500, None, b""));
        assert!(!is_throttle_answer(200, None, br#"{"__type":"ThrottlingException"}"#));
    }

    #[tokio::test]
    async fn the_window_bounds_calls_in_flight_and_shrinks_on_throttles() {
        let lim = Arc::new(Limiter::new(Arc::new(Semaphore::new(8)), 8));
        assert_eq!(lim.window("kms", "us-east-1"), START);
        let held: Vec<Permit> = futures::future::join_all((0..START).map(|_| lim.acquire("kms", "us-east-1"))).await;
        // the window is full: a fifth call waits, another service does not
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), lim.acquire("kms", "us-east-1")).await;
        assert!(waiting.is_err(), "a call beyond the window must wait");
        let other = tokio::time::timeout(std::time::Duration::from_millis(50), lim.acquire("logs", "us-east-1")).await;
        assert!(other.is_ok(), "windows are per service");
        drop(other);
        for p in held {
            p.finish(1);
        }
        assert_eq!(lim.window("kms", "us-east-1"), START / 2, "concurrent throttles halve once");
        assert_eq!(lim.window("kms", "sa-east-1"), START, "windows are per region");
    }

    #[tokio::test]
    async fn a_fixed_limiter_does_not_adapt() {
        let lim = Limiter::fixed(Arc::new(Semaphore::new(8)), 8);
        assert_eq!(lim.window("kms", "us-east-1"), 8);
        lim.acquire("kms", "us-east-1").await.finish(3);
        assert_eq!(lim.window("kms", "us-east-1"), 8);
    }

    #[tokio::test]
    async fn the_budget_caps_every_window() {
        let budget = Arc::new(Semaphore::new(1));
        let lim = Limiter::new(budget.clone(), 8);
        let a = lim.acquire("kms", "us-east-1").await;
        let b = tokio::time::timeout(std::time::Duration::from_millis(50), lim.acquire("logs", "us-east-1")).await;
        assert!(b.is_err(), "the shared budget is the global cap");
        drop(a);
        assert_eq!(budget.available_permits(), 1);
    }
}
