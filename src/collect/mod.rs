//! AWS → State, one module per service. Collectors do not judge: they map SDK output into the
//! model, mark what they could not read as Unknown, and record calls, timings and errors.
//! Services and regions are collected concurrently; every API call (each page) takes a slot of
//! its (service, region) AIMD window (`aws::limiter`: grows while calls succeed, halves on
//! throttling) and a permit of one shared semaphore, so `--concurrency` bounds the load on the
//! account.

mod apigw;
mod cloudtrail;
mod config;
mod ec2;
mod ecs;
mod efs;
mod elasticache;
mod elbv2;
mod guardduty;
mod iam;
mod kinesis;
pub(crate) mod kms;
mod logs;
mod rds;
mod s3;
mod s3control;
mod secrets;
pub mod stats;

/// Measuring a variable is semantics; re-exported for the callers that knew it here.
pub use crate::semantics::secret_values::env_var;
pub use stats::{CollectionError, CollectionStats, Recorder};

use crate::aws::limiter::{self, Limiter};
use crate::aws::{self, AwsOptions, Clients};
use crate::error::Error;
use crate::model::{Meta, Observed, State};
use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

/// Which resources to audit.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Only resources tagged `tapaudit:stack=<stack>` (plus the untagged parts of their VPCs
    /// that decide their exposure: default security groups, main route tables).
    pub stack: Option<String>,
}

impl Scope {
    /// True when tags place a resource in scope. Unknown tags keep it in scope: better an
    /// audited resource too many than a skipped one.
    pub fn wants(&self, tags: &Observed<BTreeMap<String, String>>) -> bool {
        match (&self.stack, tags) {
            (None, _) => true,
            (Some(_), Observed::Unknown(_)) => true,
            (Some(s), Observed::Known(t)) => t.get(crate::vocab::TAG_STACK) == Some(s),
        }
    }
}

impl Scope {
    /// True when the scan is account-wide: account-level settings and per-region records of the
    /// account (`Scoping::Account`) are collected only then.
    pub fn account_wide(&self) -> bool {
        self.stack.is_none()
    }
}

/// Per-region collection context.
pub struct Ctx {
    pub clients: Clients,
    pub region: String,
    pub account: String,
    pub partition: String,
    pub scope: Scope,
    pub rec: Arc<Recorder>,
    /// Where the calls and the services' ends are reported (the collectors never print).
    pub progress: crate::progress::Progress,
    limiter: Arc<Limiter>,
    /// Concurrency for per-resource detail calls.
    pub fan_out: usize,
}

impl Ctx {
    pub fn meta(&self, resource_type: &str, id: &str, arn: String, name: Option<String>, tags: Observed<BTreeMap<String, String>>) -> Meta {
        Meta {
            resource_type: resource_type.to_string(),
            id: id.to_string(),
            arn,
            region: self.region.clone(),
            account: self.account.clone(),
            name,
            tags,
            source: None,
        }
    }

    /// The Meta of a per-region record of the account (a setting such as GuardDuty's detectors or
    /// the EBS defaults in this region, `Scoping::Account`): id the region, ARN-like key
    /// `arn:<partition>:<service>:<region>:<account>:<resource>` (not an AWS resource ARN), no
    /// tags (a setting carries none).
    pub fn region_record(&self, resource_type: &str, service: &str, resource: &str) -> Meta {
        self.meta(resource_type, &self.region, self.arn(service, resource), None, Observed::Known(BTreeMap::new()))
    }

    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:{}:{}:{}:{}:{}", self.partition, service, self.region, self.account, resource)
    }

    /// Record a failed call and return the reason that Unknown fields carry: one line naming
    /// the call, the resource and the cause (`kms DescribeKey failed for key/1: TruncatedResponse:
    /// HTTP 200 answer, body could not be read: … [request id …]`).
    fn record<E>(&self, service: &str, operation: &str, resource: Option<&str>, e: SdkError<E, HttpResponse>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let cause = crate::error::cause(&e);
        let reason = crate::error::render(service, operation, resource, &cause);
        tracing::debug!("{reason}");
        let mut message = cause.message.clone();
        if let Some(id) = &cause.request_id {
            message.push_str(&format!(" [request id {id}]"));
        }
        self.rec.error(CollectionError {
            account: None,
            service: service.to_string(),
            operation: operation.to_string(),
            region: self.region.clone(),
            resource: resource.map(str::to_string),
            code: cause.code,
            message,
        });
        reason
    }

    /// Run one SDK call in its (service, region) window and the global budget; count it, its
    /// retries and its throttled attempts, and adapt the window to them.
    async fn bounded<F: Future>(&self, service: &str, operation: &str, fut: F) -> F::Output {
        let permit = self.limiter.acquire(service, &self.region).await;
        self.rec.call(service, operation);
        self.progress.call(service, &self.region);
        let (out, probe) = limiter::observe(fut).await;
        self.rec.attempts(service, probe.attempts(), probe.throttles());
        permit.finish(probe.throttles());
        out
    }

    /// One API call: bounded by its window and the budget, counted, and on failure recorded and turned into
    /// the reason string that Unknown fields carry.
    pub async fn call<T, E>(
        &self,
        service: &str,
        operation: &str,
        resource: Option<&str>,
        fut: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, String>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let out = self.bounded(service, operation, fut).await;
        out.map_err(|e| self.record(service, operation, resource, e))
    }

    /// Like `call`, but the listed `not_found` codes mean "no such thing": Ok(None).
    pub async fn call_opt<T, E>(
        &self,
        service: &str,
        operation: &str,
        resource: Option<&str>,
        not_found: &[&str],
        fut: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<Option<T>, String>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match self.bounded(service, operation, fut).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if crate::error::sdk_code(&e).is_some_and(|c| not_found.contains(&c)) => Ok(None),
            Err(e) => Err(self.record(service, operation, resource, e)),
        }
    }

    /// Every page of a paginated operation (each page is one counted, bounded call).
    pub async fn pages<T, E>(
        &self,
        service: &str,
        operation: &str,
        mut stream: PaginationStream<Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<Vec<T>, String>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut out = Vec::new();
        while let Some(p) = self.next_page(service, operation, &mut stream).await {
            out.push(p?);
        }
        Ok(out)
    }

    /// The next page of a listing: one counted call in its window; an error is recorded.
    async fn next_page<T, E>(
        &self,
        service: &str,
        operation: &str,
        stream: &mut PaginationStream<Result<T, SdkError<E, HttpResponse>>>,
    ) -> Option<Result<T, String>>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let permit = self.limiter.acquire(service, &self.region).await;
        let (next, probe) = limiter::observe(stream.next()).await;
        if next.is_some() {
            self.rec.call(service, operation);
            self.progress.call(service, &self.region);
        }
        self.rec.attempts(service, probe.attempts(), probe.throttles());
        permit.finish(probe.throttles());
        next.map(|page| page.map_err(|e| self.record(service, operation, None, e)))
    }

    /// A listing pipelined with the per-item work that follows it: `each` starts on page 1's
    /// items (at most `fan_out` in flight) while page 2 is fetched. Results keep the listing's
    /// order. A page that fails fails the whole listing (`Err`, as `pages`), whatever was done.
    pub async fn pages_each<T, E, I, U, Fut>(
        &self,
        service: &str,
        operation: &str,
        mut stream: PaginationStream<Result<T, SdkError<E, HttpResponse>>>,
        items: impl Fn(&T) -> Vec<I>,
        each: impl Fn(I) -> Fut,
    ) -> Result<Vec<U>, String>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        Fut: Future<Output = U>,
    {
        use futures::stream::StreamExt;
        let (tx, rx) = futures::channel::mpsc::unbounded::<I>();
        let list = async move {
            let tx = tx;
            while let Some(page) = self.next_page(service, operation, &mut stream).await {
                for item in items(&page?) {
                    // the receiver lives until the listing ends
                    let _ = tx.unbounded_send(item);
                }
            }
            Ok::<(), String>(())
        };
        let work = rx.map(each).buffered(self.fan_out.max(1)).collect::<Vec<U>>();
        let (listed, out) = futures::join!(list, work);
        listed.map(|()| out)
    }
}

/// A field the describe call did not report: Unknown, naming the operation and the field.
pub fn reported<T>(value: Option<T>, operation: &str, field: &str) -> Observed<T> {
    value.map(Observed::Known).unwrap_or_else(|| Observed::Unknown(format!("{operation} did not report {field}")))
}

impl Ctx {
    /// A resource a describe call returned without fields that identify or classify it: a
    /// collection error naming it (recorded like a failed call), never a silently dropped item.
    pub fn incomplete(&self, service: &str, operation: &str, resource: &str, missing: &[&str]) -> String {
        let message = format!("{operation} returned {resource} without {}", missing.join(", "));
        self.record_incomplete(service, operation, &self.region, Some(resource), "IncompleteResponse", &message);
        format!("{service}:{operation}: {message}")
    }

    /// Record that a call's answer was incomplete (a resource without what it must carry, or
    /// an entry of a `failures` list): a named collection error, so the scan is incomplete.
    /// The caller marks the affected collection failed.
    pub fn record_incomplete(&self, service: &str, operation: &str, region: &str, resource: Option<&str>, code: &str, message: &str) {
        self.rec.error(CollectionError {
            account: None,
            service: service.to_string(),
            operation: operation.to_string(),
            region: region.to_string(),
            resource: resource.map(str::to_string),
            code: code.to_string(),
            message: message.to_string(),
        });
    }
}

/// Apply `f` to every item with at most `ctx.fan_out` in flight, keeping order.
pub async fn fan_out<T, U, Fut>(ctx: &Ctx, items: Vec<T>, f: impl Fn(T) -> Fut) -> Vec<U>
where
    Fut: Future<Output = U>,
{
    use futures::stream::{self, StreamExt};
    stream::iter(items.into_iter().map(f)).buffered(ctx.fan_out.max(1)).collect().await
}

/// Tags as a map from any SDK's key/value pairs.
pub fn tag_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Options of one collection run.
#[derive(Debug, Clone)]
pub struct Options {
    pub aws: AwsOptions,
    pub regions: Vec<String>,
    pub scope: Scope,
    pub concurrency: usize,
    pub progress: crate::progress::Progress,
    /// The permits every call takes, shared by the accounts of one run (one concurrency budget
    /// for the whole scan); None: a budget of `concurrency` for this collection alone.
    pub budget: Option<Arc<Semaphore>>,
}

/// `--regions all`: the regions enabled for the account, as EC2 DescribeRegions lists them.
pub const ALL_REGIONS: &str = "all";

/// Where and as whom the collection ran.
#[derive(Debug, Clone)]
pub struct Collected {
    pub state: State,
    pub account: Option<String>,
    pub regions: Vec<String>,
    pub endpoint: String,
    pub stats: CollectionStats,
    pub errors: Vec<CollectionError>,
}

/// Collect every service in every region into one State.
pub async fn collect(opts: &Options) -> Result<Collected, Error> {
    let started = Instant::now();
    let rec = Arc::new(Recorder::default());
    let sem = opts.budget.clone().unwrap_or_else(|| Arc::new(Semaphore::new(opts.concurrency.max(1))));
    let all = opts.regions.iter().any(|r| r == ALL_REGIONS);
    let mut regions: Vec<String> = if all { vec![] } else { opts.regions.clone() };
    if regions.is_empty() {
        regions.push(String::new());
    }
    // identity first: one clear error for bad credentials or an unreachable endpoint
    let first_cfg = aws::load_config(&AwsOptions { region: regions[0].clone().into_nonempty(), ..opts.aws.clone() }, None).await;
    let first = Clients::read_only(&first_cfg);
    // a scan that cannot even tell whom it audits is incomplete (exit 2), whatever the cause
    let ident = {
        let _permit = sem.acquire().await.expect("semaphore open");
        aws::identity(&first).await.map_err(|e| Error::Incomplete(Box::new(e)))?
    };
    rec.call("sts", "GetCallerIdentity");
    if all {
        // nor can one that does not know which regions it covers
        let _permit = sem.acquire().await.expect("semaphore open");
        regions = aws::enabled_regions(&first).await.map_err(|e| Error::Incomplete(Box::new(e)))?;
        rec.call("ec2", "DescribeRegions");
    }
    let limiter = Arc::new(Limiter::from_env(sem.clone(), opts.concurrency));
    let mut contexts = Vec::new();
    for region in &regions {
        let cfg = aws::load_config(&AwsOptions { region: region.clone().into_nonempty(), ..opts.aws.clone() }, None).await;
        let clients = Clients::read_only(&cfg);
        contexts.push(Arc::new(Ctx {
            region: clients.region.clone(),
            clients,
            account: ident.account.clone(),
            partition: ident.partition.clone(),
            scope: opts.scope.clone(),
            rec: rec.clone(),
            progress: opts.progress.clone(),
            limiter: limiter.clone(),
            fan_out: opts.concurrency.max(1),
        }));
    }
    let endpoint = first.endpoint.clone();
    let region_names: Vec<String> = contexts.iter().map(|c| c.region.clone()).collect();
    opts.progress.begin_scan();
    let parts = futures::future::join_all(contexts.iter().enumerate().map(|(i, ctx)| collect_region(ctx.clone(), i == 0))).await;
    opts.progress.finish();
    let mut state = State::default();
    for part in parts {
        state.merge(part);
    }
    let resources = count_resources(&state);
    let (stats, errors) = rec.finish(resources, started.elapsed());
    Ok(Collected { state, account: Some(ident.account), regions: region_names, endpoint, stats, errors })
}

trait NonEmpty {
    fn into_nonempty(self) -> Option<String>;
}
impl NonEmpty for String {
    fn into_nonempty(self) -> Option<String> {
        (!self.is_empty()).then_some(self)
    }
}

/// Time one service's collection in one region, and report its start and end as progress.
async fn timed<T>(ctx: &Ctx, service: &str, fut: impl Future<Output = T>) -> T {
    ctx.progress.service_started(service, &ctx.region);
    let t = Instant::now();
    let out = fut.await;
    ctx.rec.time(service, t.elapsed());
    ctx.progress.service_done(service, &ctx.region, t.elapsed());
    out
}

/// The per-region collection, from the service registry (`model::services!`): each service's
/// `collect` (the module of the same name), timed under its recorder name, in every region or
/// (global services) only with the first. A service of the registry without a collector module
/// does not compile.
macro_rules! collectors {
    ($(
        $(#[$doc:meta])*
        $section:ident : $part:ty, recorder $recorder:literal, $reach:ident { $($collections:tt)* } $(also { $($extra:tt)* })? ;
    )*) => {
        /// All services of one region concurrently; global ones only with the first region.
        async fn collect_region(ctx: Arc<Ctx>, first: bool) -> State {
            let c = &*ctx;
            let ($($section,)*) = tokio::join!($(
                async {
                    if crate::model::Reach::$reach.collected_in(first) {
                        timed(c, $recorder, $section::collect(c)).await
                    } else {
                        Default::default()
                    }
                },
            )*);
            State { $($section),* }
        }

        /// The services `collect_region` reads, by section name (the registry's, in its order).
        #[cfg(test)]
        const COLLECTED: &[&str] = &[$(stringify!($section)),*];
    };
}
crate::model::services!(collectors);

/// Resources per type, for the report's statistics.
pub fn count_resources(s: &State) -> BTreeMap<String, usize> {
    s.count_resources()
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A collection context for unit tests: real clients that go nowhere, replaced per test by
    /// aws-smithy-mocks clients for the service under test.
    pub fn ctx(edit: impl FnOnce(&mut Clients)) -> Ctx {
        let cfg = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).region(aws_config::Region::new("us-east-1")).build();
        let mut clients = Clients::new(&cfg);
        edit(&mut clients);
        Ctx {
            clients,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            partition: "aws".into(),
            scope: Scope::default(),
            rec: Arc::new(Recorder::default()),
            progress: Default::default(),
            limiter: Arc::new(Limiter::new(Arc::new(Semaphore::new(4)), 4)),
            fan_out: 4,
        }
    }

    pub fn calls(ctx: &Ctx, service: &str, op: &str) -> u64 {
        let (stats, _) = ctx.rec.finish(Default::default(), Default::default());
        stats.api_calls.get(service).and_then(|m| m.get(op)).copied().unwrap_or(0)
    }

    /// Every call the context recorded, of every service.
    pub fn total_calls(ctx: &Ctx) -> u64 {
        ctx.rec.finish(Default::default(), Default::default()).0.total_api_calls
    }

    /// Each resource's tags are Unknown ("not read"), never an empty map: no call read them.
    pub fn assert_tags_not_read<'a>(metas: impl IntoIterator<Item = &'a crate::model::Meta>) {
        for m in metas {
            match &m.tags {
                crate::model::Observed::Unknown(r) => assert!(r.starts_with("not read"), "{}: {r}", m.id),
                other => panic!("{}: tags must be Unknown when not read, got {other:?}", m.id),
            }
        }
    }
}

#[cfg(test)]
mod call_tests {
    use super::testing::{calls, ctx};
    use crate::aws::retry::ReadRetryClassifier;
    use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
    use aws_sdk_kms::types::KeyMetadata;
    use aws_sdk_kms::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use std::time::Duration;

    fn garbled() -> HttpResponse {
        let mut r = HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::from(r#"{"KeyMetadata":{"KeyId":"#));
        r.headers_mut().insert("x-amzn-RequestId", "req-garbled");
        r
    }

    fn client(rules: &[&aws_smithy_mocks::Rule], read_only: bool) -> Client {
        mock_client!(aws_sdk_kms, RuleMode::Sequential, rules, |c| {
            let c = c.retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(1)));
            if read_only {
                c.retry_classifier(ReadRetryClassifier)
            } else {
                c
            }
        })
    }

    fn key() -> DescribeKeyOutput {
        DescribeKeyOutput::builder().key_metadata(KeyMetadata::builder().key_id("k1").build().unwrap()).build()
    }

    #[tokio::test]
    async fn an_unparseable_answer_is_retried_for_reads_and_named_when_it_remains() {
        // read-only clients get through two garbled answers
        let rule = mock!(Client::describe_key).sequence().http_response(garbled).times(2).output(key).build();
        let kms = client(&[&rule], true);
        let c = ctx(|_| {});
        let got = c.call("kms", "DescribeKey", Some("key/k1"), kms.describe_key().key_id("k1").send()).await;
        assert!(got.is_ok(), "{got:?}");
        assert_eq!(rule.num_calls(), 3);
        assert_eq!(calls(&c, "kms", "DescribeKey"), 1, "one call, whatever its attempts");

        // the SDK's standard classification gives up at once
        let rule = mock!(Client::describe_key).sequence().http_response(garbled).times(2).output(key).build();
        let kms = client(&[&rule], false);
        let c = ctx(|_| {});
        let reason = c.call("kms", "DescribeKey", Some("key/k1"), kms.describe_key().key_id("k1").send()).await.unwrap_err();
        assert_eq!(rule.num_calls(), 1);
        assert!(reason.starts_with("kms DescribeKey failed for key/k1: UnparseableResponse: HTTP 200 answer could not be parsed: "), "{reason}");
        assert!(reason.ends_with("[request id req-garbled]"), "{reason}");
        assert!(!reason.contains("unhandled"), "{reason}");
        let (_, errors) = c.rec.finish(Default::default(), Default::default());
        assert_eq!(errors.len(), 1);
        let e = &errors[0];
        assert_eq!(
            (e.service.as_str(), e.operation.as_str(), e.resource.as_deref(), e.code.as_str()),
            ("kms", "DescribeKey", Some("key/k1"), "UnparseableResponse")
        );
        assert!(e.message.starts_with("HTTP 200 answer could not be parsed: ") && e.message.ends_with("[request id req-garbled]"), "{}", e.message);
    }

    #[tokio::test]
    async fn not_found_codes_are_answers_and_other_errors_keep_their_code() {
        let nf = mock!(Client::describe_key)
            .sequence()
            .http_response(|| HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::from(r#"{"__type":"NotFoundException","message":"no such key"}"#)))
            .times(2)
            .build();
        let kms = client(&[&nf], true);
        let c = ctx(|_| {});
        let got = c.call_opt("kms", "DescribeKey", Some("key/k9"), &["NotFoundException"], kms.describe_key().key_id("k9").send()).await;
        assert!(matches!(got, Ok(None)), "{got:?}");
        assert_eq!(nf.num_calls(), 1, "an AWS error document is not retried");
        let reason = c.call("kms", "DescribeKey", Some("key/k9"), kms.describe_key().key_id("k9").send()).await.unwrap_err();
        assert_eq!(reason, "kms DescribeKey failed for key/k9: NotFoundException: no such key");
        assert_eq!(nf.num_calls(), 2);
    }
}

#[cfg(test)]
mod registry_tests {
    use super::COLLECTED;
    use crate::model::{State, REGISTRY, SERVICES};

    #[test]
    fn every_service_of_the_registry_is_collected_and_nothing_else() {
        assert_eq!(COLLECTED, SERVICES);
    }

    /// String literals of a source file that look like resource types of `service`
    /// (`"rds:db-instance"`), and whether it names `service` at all (`"rds"`).
    fn literals(source: &str, service: &str) -> (Vec<String>, bool) {
        let prefix = format!("{service}:");
        let mut types = Vec::new();
        let mut named = false;
        for (i, lit) in source.split('"').enumerate() {
            if i % 2 == 0 {
                continue;
            }
            named |= lit == service;
            if let Some(rest) = lit.strip_prefix(&prefix) {
                if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                    types.push(lit.to_string());
                }
            }
        }
        (types, named)
    }

    /// Each collector records its calls under the registry's recorder name and gives its items
    /// only resource types the registry lists for its service (the counts and the snapshot's
    /// collections are keyed by them).
    #[test]
    fn collectors_use_the_registry_names() {
        let mut types: Vec<(&str, &str)> = Vec::new();
        State::default().collections(&mut |s, e, _| types.push((s.name, e.resource_type)));
        for s in REGISTRY {
            let path = format!("{}/src/collect/{}.rs", env!("CARGO_MANIFEST_DIR"), s.name);
            let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let (emitted, named) = literals(&source, s.recorder);
            assert!(named, "{path} never records a call under {:?}", s.recorder);
            let listed: Vec<&str> = types.iter().filter(|(n, _)| *n == s.name).map(|(_, t)| *t).collect();
            for t in emitted {
                assert!(listed.contains(&t.as_str()), "{path}: resource type {t} is not in the registry's {} entry ({listed:?})", s.name);
            }
        }
    }
}

#[cfg(test)]
mod limiter_tests {
    use super::testing::ctx;
    use crate::aws::limiter::{AttemptObserver, START};
    use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
    use aws_sdk_kms::operation::list_keys::{ListKeysError, ListKeysOutput};
    use aws_sdk_kms::types::{KeyListEntry, KeyMetadata};
    use aws_sdk_kms::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use std::time::Duration;

    fn client(rules: &[&aws_smithy_mocks::Rule]) -> Client {
        mock_client!(aws_sdk_kms, RuleMode::MatchAny, rules, |c| c
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(4).with_initial_backoff(Duration::from_millis(1)))
            .interceptor(AttemptObserver))
    }

    /// Throttled attempts, which the SDK retries itself, halve the window and are counted.
    #[tokio::test]
    async fn throttled_attempts_shrink_the_window_and_count_as_throttles_and_retries() {
        let describe = mock!(Client::describe_key)
            .sequence()
            .http_status(400, Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()))
            .times(2)
            .output(|| DescribeKeyOutput::builder().key_metadata(KeyMetadata::builder().key_id("k1").build().unwrap()).build())
            .build();
        let kms = client(&[&describe]);
        let c = ctx(|cl| cl.kms = kms.clone());
        assert_eq!(c.limiter.window("kms", "us-east-1"), START);
        let out = c.call("kms", "DescribeKey", Some("key/k1"), kms.describe_key().key_id("k1").send()).await;
        assert!(out.is_ok(), "retried through the throttles: {out:?}");
        assert_eq!(c.limiter.window("kms", "us-east-1"), START / 2, "a throttled call halves the window");
        let (stats, errors) = c.rec.finish(Default::default(), Default::default());
        assert!(errors.is_empty());
        assert_eq!(stats.throttles.get("kms"), Some(&2));
        assert_eq!(stats.retries.get("kms"), Some(&2));
        assert_eq!(stats.api_calls["kms"]["DescribeKey"], 1, "one call, three attempts");
        // clean calls grow it back (+1 per window's worth), and count nothing
        let ok = mock!(Client::describe_key).then_output(|| DescribeKeyOutput::builder().build());
        let kms = client(&[&ok]);
        for _ in 0..3 {
            c.call("kms", "DescribeKey", None, kms.describe_key().key_id("k1").send()).await.unwrap();
        }
        assert_eq!(c.limiter.window("kms", "us-east-1"), START / 2 + 1);
        let (again, _) = c.rec.finish(Default::default(), Default::default());
        assert_eq!((again.throttles, again.retries), (stats.throttles, stats.retries));
    }

    fn page(ids: &[&str], next: Option<&str>) -> ListKeysOutput {
        let mut b = ListKeysOutput::builder().truncated(next.is_some());
        for id in ids {
            b = b.keys(KeyListEntry::builder().key_id(*id).build());
        }
        if let Some(m) = next {
            b = b.next_marker(m);
        }
        b.build()
    }

    /// Items of every page, in listing order; a page that fails fails the listing.
    #[tokio::test]
    async fn pages_each_keeps_listing_order_and_fails_with_any_page() {
        let p1 = mock!(Client::list_keys).match_requests(|r| r.marker().is_none()).then_output(|| page(&["a", "b", "c"], Some("m1")));
        let p2 = mock!(Client::list_keys).match_requests(|r| r.marker() == Some("m1")).then_output(|| page(&["d", "e"], None));
        let kms = client(&[&p1, &p2]);
        let c = ctx(|cl| cl.kms = kms.clone());
        let ids = |p: &ListKeysOutput| p.keys().iter().filter_map(|k| k.key_id().map(str::to_string)).collect();
        let out = c
            .pages_each("kms", "ListKeys", kms.list_keys().into_paginator().send(), ids, |id: String| async move {
                // later items finish first: the order must still be the listing's
                tokio::time::sleep(Duration::from_millis(if id == "a" { 30 } else { 1 })).await;
                id.to_uppercase()
            })
            .await;
        assert_eq!(out, Ok(vec!["A".to_string(), "B".into(), "C".into(), "D".into(), "E".into()]));
        assert_eq!(super::testing::calls(&c, "kms", "ListKeys"), 2);

        let p1 = mock!(Client::list_keys).match_requests(|r| r.marker().is_none()).then_output(|| page(&["a"], Some("m1")));
        let p2 = mock!(Client::list_keys)
            .match_requests(|r| r.marker() == Some("m1"))
            .then_error(|| ListKeysError::generic(aws_smithy_types::error::ErrorMetadata::builder().code("AccessDeniedException").build()));
        let kms = client(&[&p1, &p2]);
        let c = ctx(|cl| cl.kms = kms.clone());
        let out = c.pages_each("kms", "ListKeys", kms.list_keys().into_paginator().send(), ids, |id: String| async move { id }).await;
        assert!(out.as_ref().is_err_and(|e| e.contains("AccessDeniedException")), "{out:?}");
    }
}
