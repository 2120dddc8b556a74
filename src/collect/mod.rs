//! AWS → State, one module per service. Collectors do not judge: they map SDK output into the
//! model, mark what they could not read as Unknown, and record calls, timings and errors.
//! Services and regions are collected concurrently; every API call (each page) takes a permit
//! of one shared semaphore, so `--concurrency` bounds the load on the account.

mod apigw;
mod ec2;
mod ecs;
mod efs;
mod elasticache;
mod elbv2;
mod iam;
mod kinesis;
mod kms;
mod logs;
mod rds;
mod secrets;
pub mod stats;

pub use ecs::env_var;
pub use stats::{CollectionError, CollectionStats, Recorder};

use crate::aws::{self, AwsOptions, Clients};
use crate::error::{from_sdk, Error};
use crate::model::{Meta, Observed, State};
use aws_smithy_async::future::pagination_stream::PaginationStream;
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
            (Some(s), Observed::Known(t)) => t.get(crate::spec::TAG_STACK) == Some(s),
        }
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
    sem: Arc<Semaphore>,
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

    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:{}:{}:{}:{}:{}", self.partition, service, self.region, self.account, resource)
    }

    fn record<E, R>(&self, service: &str, operation: &str, resource: Option<&str>, e: SdkError<E, R>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let (code, message) = match from_sdk("", "", "", e) {
            Error::Aws(a) => (a.code, a.message),
            other => ("Error".to_string(), other.to_string()),
        };
        self.rec.error(CollectionError {
            service: service.to_string(),
            operation: operation.to_string(),
            region: self.region.clone(),
            resource: resource.map(str::to_string),
            code: code.clone(),
            message: message.clone(),
        });
        let short: String = message.chars().take(160).collect();
        format!("{service}:{operation} failed: {code}{}", if short.is_empty() { String::new() } else { format!(": {short}") })
    }

    /// One API call: bounded by the semaphore, counted, and on failure recorded and turned into
    /// the reason string that Unknown fields carry.
    pub async fn call<T, E, R>(
        &self,
        service: &str,
        operation: &str,
        resource: Option<&str>,
        fut: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, String>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let _permit = self.sem.acquire().await.expect("semaphore open");
        self.rec.call(service, operation);
        fut.await.map_err(|e| self.record(service, operation, resource, e))
    }

    /// Like `call`, but the listed `not_found` codes mean "no such thing": Ok(None).
    pub async fn call_opt<T, E, R>(
        &self,
        service: &str,
        operation: &str,
        resource: Option<&str>,
        not_found: &[&str],
        fut: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<Option<T>, String>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let _permit = self.sem.acquire().await.expect("semaphore open");
        self.rec.call(service, operation);
        match fut.await {
            Ok(v) => Ok(Some(v)),
            Err(e) if crate::error::sdk_code(&e).is_some_and(|c| not_found.contains(&c)) => Ok(None),
            Err(e) => Err(self.record(service, operation, resource, e)),
        }
    }

    /// Every page of a paginated operation (each page is one counted, bounded call).
    pub async fn pages<T, E, R>(&self, service: &str, operation: &str, mut stream: PaginationStream<Result<T, SdkError<E, R>>>) -> Result<Vec<T>, String>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let mut out = Vec::new();
        loop {
            let page = {
                let _permit = self.sem.acquire().await.expect("semaphore open");
                let next = stream.next().await;
                if next.is_some() {
                    self.rec.call(service, operation);
                }
                next
            };
            match page {
                None => return Ok(out),
                Some(Ok(p)) => out.push(p),
                Some(Err(e)) => return Err(self.record(service, operation, None, e)),
            }
        }
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
}

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
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut regions = opts.regions.clone();
    if regions.is_empty() {
        regions.push(String::new());
    }
    // identity first: one clear error for bad credentials or an unreachable endpoint
    let first_cfg = aws::load_config(&AwsOptions { region: regions[0].clone().into_nonempty(), ..opts.aws.clone() }, None).await;
    let first = Clients::new(&first_cfg);
    let ident = aws::identity(&first).await?;
    rec.call("sts", "GetCallerIdentity");
    let mut contexts = Vec::new();
    for region in &regions {
        let cfg = aws::load_config(&AwsOptions { region: region.clone().into_nonempty(), ..opts.aws.clone() }, None).await;
        let clients = Clients::new(&cfg);
        contexts.push(Arc::new(Ctx {
            region: clients.region.clone(),
            clients,
            account: ident.account.clone(),
            partition: ident.partition.clone(),
            scope: opts.scope.clone(),
            rec: rec.clone(),
            sem: sem.clone(),
            fan_out: opts.concurrency.max(1),
        }));
    }
    let endpoint = first.endpoint.clone();
    let region_names: Vec<String> = contexts.iter().map(|c| c.region.clone()).collect();
    let parts = futures::future::join_all(contexts.iter().enumerate().map(|(i, ctx)| collect_region(ctx.clone(), i == 0))).await;
    let mut state = State::default();
    for part in parts {
        merge(&mut state, part);
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

async fn timed<T>(rec: &Recorder, service: &str, fut: impl Future<Output = T>) -> T {
    let t = Instant::now();
    let out = fut.await;
    rec.time(service, t.elapsed());
    out
}

/// All services of one region concurrently; IAM (global) only with the first region.
async fn collect_region(ctx: Arc<Ctx>, with_global: bool) -> State {
    let c = &*ctx;
    let r = &*ctx.rec;
    let (kms, ec2, rds, kinesis, logs, secrets, ecs, apigw, elasticache, efs, elbv2, iam) = tokio::join!(
        timed(r, "kms", kms::collect(c)),
        timed(r, "ec2", ec2::collect(c)),
        timed(r, "rds", rds::collect(c)),
        timed(r, "kinesis", kinesis::collect(c)),
        timed(r, "logs", logs::collect(c)),
        timed(r, "secretsmanager", secrets::collect(c)),
        timed(r, "ecs", ecs::collect(c)),
        timed(r, "apigateway", apigw::collect(c)),
        timed(r, "elasticache", elasticache::collect(c)),
        timed(r, "efs", efs::collect(c)),
        timed(r, "elbv2", elbv2::collect(c)),
        async {
            if with_global {
                timed(r, "iam", iam::collect(c)).await
            } else {
                Default::default()
            }
        },
    );
    State { kms, ec2, rds, kinesis, logs, secrets, ecs, apigw, elasticache, efs, elbv2, iam }
}

fn merge(into: &mut State, part: State) {
    into.kms.keys.extend(part.kms.keys);
    into.kms.out_of_scope.extend(part.kms.out_of_scope);
    into.kms.aliases.extend(part.kms.aliases);
    into.ec2.vpcs.extend(part.ec2.vpcs);
    into.ec2.subnets.extend(part.ec2.subnets);
    into.ec2.route_tables.extend(part.ec2.route_tables);
    into.ec2.internet_gateways.extend(part.ec2.internet_gateways);
    into.ec2.nat_gateways.extend(part.ec2.nat_gateways);
    into.ec2.security_groups.extend(part.ec2.security_groups);
    into.ec2.flow_logs.extend(part.ec2.flow_logs);
    into.rds.instances.extend(part.rds.instances);
    into.rds.clusters.extend(part.rds.clusters);
    into.rds.subnet_groups.extend(part.rds.subnet_groups);
    into.rds.parameter_groups.extend(part.rds.parameter_groups);
    into.kinesis.streams.extend(part.kinesis.streams);
    into.logs.log_groups.extend(part.logs.log_groups);
    into.secrets.secrets.extend(part.secrets.secrets);
    into.ecs.clusters.extend(part.ecs.clusters);
    into.ecs.services.extend(part.ecs.services);
    into.ecs.task_definitions.extend(part.ecs.task_definitions);
    into.apigw.rest_apis.extend(part.apigw.rest_apis);
    into.apigw.methods.extend(part.apigw.methods);
    into.apigw.stages.extend(part.apigw.stages);
    into.elasticache.replication_groups.extend(part.elasticache.replication_groups);
    into.elasticache.clusters.extend(part.elasticache.clusters);
    into.efs.file_systems.extend(part.efs.file_systems);
    into.elbv2.load_balancers.extend(part.elbv2.load_balancers);
    into.elbv2.listeners.extend(part.elbv2.listeners);
    into.iam.roles.extend(part.iam.roles);
    into.iam.policies.extend(part.iam.policies);
}

/// Resources per type, for the report's statistics.
pub fn count_resources(s: &State) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    let mut add = |t: &str, n: usize| {
        if n > 0 {
            m.insert(t.to_string(), n);
        }
    };
    add("kms:key", s.kms.keys.len());
    add("ec2:vpc", s.ec2.vpcs.len());
    add("ec2:subnet", s.ec2.subnets.len());
    add("ec2:route-table", s.ec2.route_tables.len());
    add("ec2:internet-gateway", s.ec2.internet_gateways.len());
    add("ec2:nat-gateway", s.ec2.nat_gateways.len());
    add("ec2:security-group", s.ec2.security_groups.len());
    add("ec2:flow-log", s.ec2.flow_logs.len());
    add("rds:db-instance", s.rds.instances.len());
    add("rds:db-cluster", s.rds.clusters.len());
    add("rds:subnet-group", s.rds.subnet_groups.len());
    add("rds:parameter-group", s.rds.parameter_groups.len());
    add("kinesis:stream", s.kinesis.streams.len());
    add("logs:log-group", s.logs.log_groups.len());
    add("secretsmanager:secret", s.secrets.secrets.len());
    add("ecs:cluster", s.ecs.clusters.len());
    add("ecs:service", s.ecs.services.len());
    add("ecs:task-definition", s.ecs.task_definitions.len());
    add("apigateway:rest-api", s.apigw.rest_apis.len());
    add("apigateway:method", s.apigw.methods.len());
    add("apigateway:stage", s.apigw.stages.len());
    add("elasticache:replication-group", s.elasticache.replication_groups.len());
    add("elasticache:cluster", s.elasticache.clusters.len());
    add("efs:file-system", s.efs.file_systems.len());
    add("elbv2:load-balancer", s.elbv2.load_balancers.len());
    add("elbv2:listener", s.elbv2.listeners.len());
    add("iam:role", s.iam.roles.len());
    add("iam:policy", s.iam.policies.len());
    m
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A collection context for unit tests: real clients that go nowhere, replaced per test by
    /// aws-smithy-mocks clients for the service under test.
    pub fn ctx(edit: impl FnOnce(&mut Clients)) -> Ctx {
        let cfg = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let mut clients = Clients::new(&cfg);
        edit(&mut clients);
        Ctx {
            clients,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            partition: "aws".into(),
            scope: Scope::default(),
            rec: Arc::new(Recorder::default()),
            sem: Arc::new(Semaphore::new(4)),
            fan_out: 4,
        }
    }

    pub fn calls(ctx: &Ctx, service: &str, op: &str) -> u64 {
        let (stats, _) = ctx.rec.finish(Default::default(), Default::default());
        stats.api_calls.get(service).and_then(|m| m.get(op)).copied().unwrap_or(0)
    }
}
