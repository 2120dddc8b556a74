//! SdkConfig and service clients: region, profile, endpoint, retries, timeouts.
//! Only the standard AWS mechanisms: `--endpoint-url`/`AWS_ENDPOINT_URL` (and the per-service
//! `AWS_ENDPOINT_URL_<SERVICE>`), `--region`/`AWS_REGION`, `--profile`/`AWS_PROFILE`, and the
//! default credential chain. No emulator-specific code paths.

use crate::error::{Result, SdkResultExt};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

/// How to reach AWS, from the command line.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// Maximum attempts per call (retries with exponential backoff on throttling and transient errors).
    pub max_attempts: u32,
    /// Per-attempt timeout in seconds.
    pub attempt_timeout_secs: u64,
}

impl AwsOptions {
    fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts.max(1))
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(10))
    }

    fn timeout_config(&self) -> TimeoutConfig {
        let attempt = Duration::from_secs(self.attempt_timeout_secs.max(1));
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(attempt)
            .operation_attempt_timeout(attempt)
            .operation_timeout(attempt * self.max_attempts.max(1) + Duration::from_secs(30))
            .build()
    }
}

/// Load the shared SDK configuration. `fallback_region` (from the stack file) applies only
/// when neither `--region` nor the environment/profile names one.
pub async fn load_config(opts: &AwsOptions, fallback_region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(opts.retry_config())
        .timeout_config(opts.timeout_config());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let region_chain = aws_config::meta::region::RegionProviderChain::first_try(
        opts.region.clone().map(Region::new),
    )
    .or_default_provider()
    .or_else(fallback_region.map(|r| Region::new(r.to_string())).unwrap_or_else(|| Region::new("us-east-1")));
    loader = loader.region(region_chain);
    loader.load().await
}

/// The endpoint in use, for error messages ("default AWS endpoints" when none is set).
pub fn endpoint_label(cfg: &SdkConfig) -> String {
    cfg.endpoint_url()
        .map(str::to_string)
        .unwrap_or_else(|| "default AWS endpoints".to_string())
}

/// One client per service, built from one SdkConfig. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Clients {
    pub region: String,
    pub endpoint: String,
    pub sts: aws_sdk_sts::Client,
    pub kms: aws_sdk_kms::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub rds: aws_sdk_rds::Client,
    pub kinesis: aws_sdk_kinesis::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub apigw: aws_sdk_apigateway::Client,
    pub iam: aws_sdk_iam::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub efs: aws_sdk_efs::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
}

impl Clients {
    pub fn new(cfg: &SdkConfig) -> Self {
        Clients {
            region: cfg.region().map(|r| r.to_string()).unwrap_or_default(),
            endpoint: endpoint_label(cfg),
            sts: aws_sdk_sts::Client::new(cfg),
            kms: aws_sdk_kms::Client::new(cfg),
            ec2: aws_sdk_ec2::Client::new(cfg),
            rds: aws_sdk_rds::Client::new(cfg),
            kinesis: aws_sdk_kinesis::Client::new(cfg),
            logs: aws_sdk_cloudwatchlogs::Client::new(cfg),
            secrets: aws_sdk_secretsmanager::Client::new(cfg),
            ecs: aws_sdk_ecs::Client::new(cfg),
            apigw: aws_sdk_apigateway::Client::new(cfg),
            iam: aws_sdk_iam::Client::new(cfg),
            elasticache: aws_sdk_elasticache::Client::new(cfg),
            efs: aws_sdk_efs::Client::new(cfg),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(cfg),
        }
    }
}

/// Who we are: account id and partition, from STS. This is also the first reachability and
/// credentials check, so its error names the endpoint.
#[derive(Debug, Clone)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub partition: String,
}

pub async fn identity(clients: &Clients) -> Result<Identity> {
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .ctx("sts", "GetCallerIdentity", &clients.endpoint)?;
    let arn = out.arn().unwrap_or_default().to_string();
    let partition = arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws").to_string();
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        arn,
        partition,
    })
}
