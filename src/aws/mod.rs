//! SdkConfig and service clients: region, profile, endpoint, retries, timeouts.
//! Only the standard AWS mechanisms: `--endpoint-url`/`AWS_ENDPOINT_URL` (and the per-service
//! `AWS_ENDPOINT_URL_<SERVICE>`), `--region`/`AWS_REGION`, `--profile`/`AWS_PROFILE`, and the
//! default credential chain. No emulator-specific code paths.

pub mod accounts;
pub mod limiter;
pub mod operations;
pub mod retry;
#[cfg(test)]
pub(crate) mod scripted;

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
    /// Credentials to use instead of the default chain's (an assumed audit role).
    pub credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
}

impl AwsOptions {
    /// Standard mode: exponential backoff with full jitter (each delay uniform in
    /// `0..min(200 ms * 2^attempt, 10 s)`), bounded by the SDK's retry quota.
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
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(opts.retry_config()).timeout_config(opts.timeout_config());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(credentials) = &opts.credentials {
        loader = loader.credentials_provider(credentials.clone());
    }
    let region_chain = aws_config::meta::region::RegionProviderChain::first_try(opts.region.clone().map(Region::new))
        .or_default_provider()
        .or_else(fallback_region.map(|r| Region::new(r.to_string())).unwrap_or_else(|| Region::new("us-east-1")));
    loader = loader.region(region_chain);
    loader.load().await
}

/// The endpoint in use, for error messages ("default AWS endpoints" when none is set).
pub fn endpoint_label(cfg: &SdkConfig) -> String {
    cfg.endpoint_url().map(str::to_string).unwrap_or_else(|| "default AWS endpoints".to_string())
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
    pub acm: aws_sdk_acm::Client,
    pub s3: aws_sdk_s3::Client,
    pub s3control: aws_sdk_s3control::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub guardduty: aws_sdk_guardduty::Client,
    pub config: aws_sdk_config::Client,
}

/// A client of `$krate` whose retries also cover the failures only a read may retry
/// (see `retry::ReadRetryClassifier`).
macro_rules! read_client {
    ($krate:ident, $cfg:expr) => {
        $krate::Client::from_conf(
            $krate::config::Builder::from($cfg)
                .retry_classifier(retry::ReadRetryClassifier)
                .interceptor(retry::CompleteAnswerCheck)
                .interceptor(limiter::AttemptObserver)
                .interceptor(operations::RegisteredOnly { registry: operations::SCAN, what: "scan" })
                .build(),
        )
    };
}

/// A client of `$krate` that calls only the operations of [`operations::PROVISION`].
macro_rules! provision_client {
    ($krate:ident, $cfg:expr) => {
        $krate::Client::from_conf(
            $krate::config::Builder::from($cfg).interceptor(operations::RegisteredOnly { registry: operations::PROVISION, what: "provision" }).build(),
        )
    };
}

macro_rules! plain_client {
    ($krate:ident, $cfg:expr) => {
        $krate::Client::new($cfg)
    };
}

/// Every service's client, each made by `$make` (one list for both kinds of clients).
macro_rules! clients {
    ($cfg:expr, $make:ident) => {
        Clients {
            region: $cfg.region().map(|r| r.to_string()).unwrap_or_default(),
            endpoint: endpoint_label($cfg),
            sts: $make!(aws_sdk_sts, $cfg),
            kms: $make!(aws_sdk_kms, $cfg),
            ec2: $make!(aws_sdk_ec2, $cfg),
            rds: $make!(aws_sdk_rds, $cfg),
            kinesis: $make!(aws_sdk_kinesis, $cfg),
            logs: $make!(aws_sdk_cloudwatchlogs, $cfg),
            secrets: $make!(aws_sdk_secretsmanager, $cfg),
            ecs: $make!(aws_sdk_ecs, $cfg),
            apigw: $make!(aws_sdk_apigateway, $cfg),
            iam: $make!(aws_sdk_iam, $cfg),
            elasticache: $make!(aws_sdk_elasticache, $cfg),
            efs: $make!(aws_sdk_efs, $cfg),
            elbv2: $make!(aws_sdk_elasticloadbalancingv2, $cfg),
            acm: $make!(aws_sdk_acm, $cfg),
            s3: s3_path_style($make!(aws_sdk_s3, $cfg), $cfg),
            s3control: s3control_without_account_host($make!(aws_sdk_s3control, $cfg), $cfg),
            cloudtrail: $make!(aws_sdk_cloudtrail, $cfg),
            guardduty: $make!(aws_sdk_guardduty, $cfg),
            config: $make!(aws_sdk_config, $cfg),
        }
    };
}

/// With an endpoint URL (an S3-compatible endpoint such as the emulator), S3 is addressed
/// path-style (`http://host:port/bucket`): virtual-hosted names (`bucket.host`) resolve only under
/// AWS's own domains. Without one, the SDK's default addressing applies.
fn s3_path_style(client: aws_sdk_s3::Client, cfg: &SdkConfig) -> aws_sdk_s3::Client {
    match cfg.endpoint_url() {
        None => client,
        Some(_) => aws_sdk_s3::Client::from_conf(client.config().to_builder().force_path_style(true).build()),
    }
}

/// S3 Control addresses the account as a host label (`<account>.s3-control.<region>.amazonaws.com`,
/// the service's endpoint rules). With an endpoint URL (an S3-compatible endpoint such as the
/// emulator, where `<account>.127.0.0.1` does not resolve) requests go to that URL as given, as S3
/// goes path-style there; the account id still travels in the `x-amz-account-id` header. Without
/// one, the SDK's endpoint rules apply unchanged.
fn s3control_without_account_host(client: aws_sdk_s3control::Client, cfg: &SdkConfig) -> aws_sdk_s3control::Client {
    match cfg.endpoint_url() {
        None => client,
        Some(url) => aws_sdk_s3control::Client::from_conf(client.config().to_builder().endpoint_resolver(AsGiven(url.to_string())).build()),
    }
}

/// An endpoint resolver that answers the configured endpoint URL (see
/// [`s3control_without_account_host`]).
#[derive(Debug)]
struct AsGiven(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for AsGiven {
    fn resolve_endpoint<'a>(&'a self, _: &'a aws_sdk_s3control::config::endpoint::Params) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(aws_smithy_types::endpoint::Endpoint::builder().url(self.0.clone()).build()))
    }
}

impl Clients {
    /// Clients for provisioning (reads and writes): the SDK's standard retry classification,
    /// which does not retry a failure that leaves a write's outcome unknown beyond what the
    /// SDK itself considers safe.
    pub fn new(cfg: &SdkConfig) -> Self {
        clients!(cfg, plain_client)
    }

    /// `new`, calling only the operations of [`operations::PROVISION`] (what
    /// `tapaudit policy provision` grants): provision, plan, outputs and destroy use these.
    pub fn provisioning(cfg: &SdkConfig) -> Self {
        clients!(cfg, provision_client)
    }

    /// Clients for the scan, which only reads (Describe/List/Get; the e2e fault test checks the
    /// operation names of a whole scan): every failure a retry may cure is retried, up to
    /// `--max-attempts` with exponential backoff and full jitter. Reads and writes are kept
    /// apart by construction: provisioning builds `Clients::new`, the collectors get only these.
    pub fn read_only(cfg: &SdkConfig) -> Self {
        clients!(cfg, read_client)
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
    let out = clients.sts.get_caller_identity().send().await.ctx("sts", "GetCallerIdentity", &clients.endpoint)?;
    let arn = out.arn().unwrap_or_default().to_string();
    let partition = arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws").to_string();
    Ok(Identity { account: out.account().unwrap_or_default().to_string(), arn, partition })
}

/// The regions enabled for the account (DescribeRegions without `AllRegions` lists only those:
/// regions that need no opt-in and those the account opted in to), sorted.
pub async fn enabled_regions(clients: &Clients) -> Result<Vec<String>> {
    let out = clients.ec2.describe_regions().send().await.ctx("ec2", "DescribeRegions", &clients.endpoint)?;
    let mut regions: Vec<String> =
        out.regions().iter().filter(|r| r.opt_in_status() != Some("not-opted-in")).filter_map(|r| r.region_name().map(str::to_string)).collect();
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        return Err(crate::error::Error::usage(format!("ec2 DescribeRegions at {} listed no enabled region", clients.endpoint)));
    }
    Ok(regions)
}

#[cfg(test)]
mod tests {
    //! What the SDK's standard retry does with each failure, and what the scan's clients do,
    //! measured against a scripted loopback server (first answer a failure, then success).
    use super::scripted::{cut_short, http, Answer, Scripted};
    use super::*;
    use crate::error::from_sdk;

    const JSON: (&str, &str) = ("Content-Type", "application/x-amz-json-1.1");
    const KEY: &str = r#"{"KeyMetadata":{"KeyId":"k1","Arn":"arn:aws:kms:us-east-1:123456789012:key/k1"}}"#;

    async fn config(url: &str, attempts: u32) -> SdkConfig {
        let creds = aws_sdk_kms::config::Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None, None, "test");
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(url)
            .credentials_provider(creds)
            .retry_config(RetryConfig::standard().with_max_attempts(attempts).with_initial_backoff(Duration::from_millis(1)))
            .timeout_config(TimeoutConfig::builder().operation_attempt_timeout(Duration::from_millis(400)).build())
            .load()
            .await
    }

    /// One classic client (KMS) and one schema-based client (Kinesis), which report an answer
    /// without an error code differently (a service error vs. a response error).
    #[derive(Debug, Clone, Copy)]
    enum Api {
        KmsDescribeKey,
        KinesisListTags,
    }

    impl Api {
        fn ok(self) -> Answer {
            let body = match self {
                Api::KmsDescribeKey => KEY,
                Api::KinesisListTags => r#"{"Tags":[],"HasMoreTags":false}"#,
            };
            Answer::Raw(http("200 OK", &[JSON, ("x-amzn-RequestId", "req-ok")], body))
        }

        /// The call, and on failure the error as tapaudit reports it.
        async fn call(self, clients: &Clients) -> Result<(), String> {
            match self {
                Api::KmsDescribeKey => {
                    clients.kms.describe_key().key_id("k1").send().await.map(|_| ()).map_err(|e| from_sdk("kms", "DescribeKey", "key/k1", e).to_string())
                }
                Api::KinesisListTags => clients
                    .kinesis
                    .list_tags_for_stream()
                    .stream_name("s1")
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| from_sdk("kinesis", "ListTagsForStream", "s1", e).to_string()),
            }
        }

        fn prefix(self) -> &'static str {
            match self {
                Api::KmsDescribeKey => "kms DescribeKey failed for key/k1: ",
                Api::KinesisListTags => "kinesis ListTagsForStream failed for s1: ",
            }
        }
    }

    const APIS: [Api; 2] = [Api::KmsDescribeKey, Api::KinesisListTags];

    fn failures() -> Vec<(&'static str, Answer)> {
        vec![
            (
                "throttling error",
                Answer::Raw(http(
                    "400 Bad Request",
                    &[JSON, ("x-amzn-RequestId", "req-throttle")],
                    r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
                )),
            ),
            ("bare 503", Answer::Raw(http("503 Service Unavailable", &[], ""))),
            ("HTML 502 from a proxy", Answer::Raw(http("502 Bad Gateway", &[("Content-Type", "text/html")], "<html><body>bad gateway</body></html>"))),
            ("connection reset", Answer::Reset),
            ("body cut short of its Content-Length", Answer::RawClose(cut_short("200 OK", &[JSON, ("x-amzn-RequestId", "req-cut")], &KEY[..40], KEY.len()))),
            ("slow answer past the attempt timeout", Answer::Late(Duration::from_millis(1500), http("200 OK", &[JSON], KEY))),
            ("unparseable 200 (cut short, framed as complete)", Answer::Raw(http("200 OK", &[JSON, ("x-amzn-RequestId", "req-garbled")], &KEY[..40]))),
            ("429 without an error code", Answer::Raw(http("429 Too Many Requests", &[], ""))),
            ("HTML 403 from a proxy", Answer::Raw(http("403 Forbidden", &[("Content-Type", "text/html")], "<html>blocked</html>"))),
            ("AccessDeniedException", Answer::Raw(http("400 Bad Request", &[JSON], r#"{"__type":"AccessDeniedException","message":"not allowed"}"#))),
        ]
    }

    /// (failure, retried by the SDK's standard classifiers, retried by the scan's clients), the
    /// same for both clients.
    const EXPECTED: &[(&str, bool, bool)] = &[
        ("throttling error", true, true),
        ("bare 503", true, true),
        ("HTML 502 from a proxy", true, true),
        ("connection reset", true, true),
        ("body cut short of its Content-Length", true, true),
        ("slow answer past the attempt timeout", true, true),
        ("unparseable 200 (cut short, framed as complete)", false, true),
        ("429 without an error code", false, true),
        ("HTML 403 from a proxy", false, true),
        ("AccessDeniedException", false, false),
    ];

    #[tokio::test]
    async fn which_failures_are_retried_standard_and_read_only() {
        for api in APIS {
            let mut measured = vec![];
            for (name, failure) in failures() {
                let mut row = (name, false, false);
                for read_only in [false, true] {
                    let server = Scripted::start(vec![failure.clone()], api.ok()).await;
                    let cfg = config(&server.url, 2).await;
                    let clients = if read_only { Clients::read_only(&cfg) } else { Clients::new(&cfg) };
                    let result = api.call(&clients).await;
                    let retried = server.requests() == 2;
                    assert_eq!(retried, result.is_ok(), "{api:?} {name}: a retry succeeds, no retry fails: {result:?}");
                    if read_only {
                        row.2 = retried;
                    } else {
                        row.1 = retried;
                    }
                }
                measured.push(row);
            }
            assert_eq!(measured, EXPECTED.to_vec(), "{api:?}");
        }
    }

    #[tokio::test]
    async fn remaining_errors_name_their_cause_in_words() {
        let want: &[(&str, &[&str])] = &[
            ("throttling error", &["ThrottlingException: Rate exceeded", "[request id req-throttle]"]),
            ("bare 503", &["HTTP503: HTTP 503 Service Unavailable without an AWS error code (an empty body)"]),
            ("HTML 502 from a proxy", &["HTTP502: HTTP 502 Bad Gateway without an AWS error code (body <html><body>bad gateway"]),
            ("connection reset", &["ConnectionError: ", "Connection reset by peer"]),
            (
                "body cut short of its Content-Length",
                &["TruncatedResponse: HTTP 200 answer, body could not be read: ", "end of file before message length reached", "[request id req-cut]"],
            ),
            ("slow answer past the attempt timeout", &["Timeout: ", "timeout", "400ms"]),
            ("unparseable 200 (cut short, framed as complete)", &["UnparseableResponse: HTTP 200 answer could not be parsed", "[request id req-garbled]"]),
            ("429 without an error code", &["HTTP429: HTTP 429 Too Many Requests without an AWS error code"]),
            ("HTML 403 from a proxy", &["HTTP403: HTTP 403 Forbidden without an AWS error code (body <html>blocked</html>)"]),
            ("AccessDeniedException", &["AccessDeniedException: not allowed"]),
        ];
        for api in APIS {
            for ((name, failure), (want_name, parts)) in failures().into_iter().zip(want) {
                assert_eq!(name, *want_name);
                let server = Scripted::start(vec![], failure).await;
                let cfg = config(&server.url, 2).await;
                let msg = api.call(&Clients::read_only(&cfg)).await.expect_err("every attempt fails");
                assert!(msg.starts_with(api.prefix()), "{msg}");
                for part in *parts {
                    assert!(msg.contains(part), "{api:?} {name}: {msg:?} lacks {part:?}");
                }
                assert!(!msg.contains("unhandled"), "{api:?} {name}: {msg}");
                assert!(!msg.contains("UnknownError"), "{api:?} {name}: {msg}");
            }
        }
        // the kms answer parses to a position in the JSON
        let server = Scripted::start(vec![], failures().remove(6).1).await;
        let msg = Api::KmsDescribeKey.call(&Clients::read_only(&config(&server.url, 1).await)).await.unwrap_err();
        assert!(msg.contains("unexpected end of stream"), "{msg}");
    }
    const VPCS: &str = r#"<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><vpcSet><item><vpcId>vpc-1</vpcId><cidrBlock>10.0.0.0/16</cidrBlock></item><item><vpcId>vpc-2</vpcId><cidrBlock>10.1.0.0/16</cidrBlock></item></vpcSet></DescribeVpcsResponse>"#;

    fn xml(body: &str) -> Answer {
        Answer::Raw(http("200 OK", &[("Content-Type", "text/xml;charset=UTF-8")], body))
    }

    #[tokio::test]
    async fn a_cut_xml_answer_is_a_success_for_the_sdk_and_a_retried_failure_for_the_scan() {
        let cut = &VPCS[..VPCS.find("<item><vpcId>vpc-2").unwrap()];
        // the SDK's standard client takes half an answer for the whole account
        let server = Scripted::start(vec![xml(cut)], xml(VPCS)).await;
        let out = Clients::new(&config(&server.url, 3).await).ec2.describe_vpcs().send().await.expect("accepted");
        assert_eq!((server.requests(), out.vpcs().len()), (1, 1), "one VPC of two, silently");
        // the scan's client rejects it and asks again
        let server = Scripted::start(vec![xml(cut)], xml(VPCS)).await;
        let out = Clients::read_only(&config(&server.url, 3).await).ec2.describe_vpcs().send().await.expect("retried");
        assert_eq!((server.requests(), out.vpcs().len()), (2, 2));
        // and names it when it remains
        let server = Scripted::start(vec![], xml(cut)).await;
        let err = Clients::read_only(&config(&server.url, 2).await).ec2.describe_vpcs().send().await.expect_err("every answer cut");
        let msg = from_sdk("ec2", "DescribeVpcs", "", err).to_string();
        assert_eq!(server.requests(), 2);
        assert!(
            msg.starts_with("ec2 DescribeVpcs failed: UnparseableResponse: HTTP 200 answer could not be parsed: ")
                && msg.contains(&format!("the XML answer ends after {} bytes, before its root element <DescribeVpcsResponse> is closed", cut.len())),
            "{msg}"
        );
    }
}
