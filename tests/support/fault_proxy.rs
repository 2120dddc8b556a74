//! A loopback fault-injecting HTTP/1.1 proxy for end-to-end tests: it forwards every request to
//! the emulator and, driven by a seeded RNG, answers some of them with the failures real AWS
//! produces: throttling errors in each protocol's own shape, plain 503s, connection resets,
//! truncated bodies and slow responses. An outage mode fails one operation every time.
//!
//! The decision for a request is a pure function of (seed, the request's method/path/body, how
//! many times that same request was seen before), so a seed reproduces the same faults whatever
//! order concurrent requests arrive in. The proxy binds 127.0.0.1 only, runs on its own thread
//! and runtime (usable from sync and async tests alike), counts what it injected, and stops when
//! dropped.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What can go wrong with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// The service's own throttling error (status, code and body shape of its protocol).
    Throttle,
    /// A bare `503 Service Unavailable` with no AWS error document.
    Unavailable,
    /// The request is read, then the connection is reset (TCP RST) without an answer.
    Reset,
    /// The emulator's answer with its real `Content-Length`, but only half the body, then close.
    Truncate,
    /// The emulator's answer cut in half but framed as complete (`Content-Length` of what is
    /// sent), as a broken middlebox would: a body that does not parse.
    Garble,
    /// The emulator's answer, late.
    Slow,
}

impl Fault {
    pub const ALL: [Fault; 6] = [Fault::Throttle, Fault::Unavailable, Fault::Reset, Fault::Truncate, Fault::Garble, Fault::Slow];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Throttle => "throttle",
            Fault::Unavailable => "unavailable",
            Fault::Reset => "reset",
            Fault::Truncate => "truncate",
            Fault::Garble => "garble",
            Fault::Slow => "slow",
        }
    }
}

/// What the proxy injects.
#[derive(Debug, Clone)]
pub struct Faults {
    pub seed: u64,
    /// Probability that one request gets a fault (drawn uniformly from `kinds`).
    pub rate: f64,
    pub kinds: Vec<Fault>,
    /// `(service, operation)` as the scan's `stats` name them (`("kms", "DescribeKey")`):
    /// every request of it fails with `outage_fault`.
    pub outage: Option<(String, String)>,
    pub outage_fault: Fault,
    /// Delay range of `Fault::Slow`.
    pub slow: (Duration, Duration),
}

impl Faults {
    /// Forward everything untouched.
    pub fn none() -> Faults {
        Faults {
            seed: 0,
            rate: 0.0,
            kinds: Fault::ALL.to_vec(),
            outage: None,
            outage_fault: Fault::Throttle,
            slow: (Duration::from_millis(50), Duration::from_millis(400)),
        }
    }

    /// Each request fails with probability `rate`, with any of the fault kinds.
    pub fn random(seed: u64, rate: f64) -> Faults {
        Faults { seed, rate, ..Faults::none() }
    }

    /// One operation fails every time (with its service's throttling error, so the client
    /// retries it until it gives up); everything else passes.
    pub fn outage(service: &str, operation: &str) -> Faults {
        Faults { outage: Some((service.to_string(), operation.to_string())), ..Faults::none() }
    }
}

/// The wire protocol of a request, which decides the shape of an injected error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `X-Amz-Target` + JSON body: KMS, CloudWatch Logs, Kinesis, Secrets Manager, ECS.
    AwsJson,
    /// Form body with `Action=`: IAM, RDS, ElastiCache, ELBv2, STS.
    AwsQuery,
    /// EC2's own query dialect.
    Ec2,
    /// REST with JSON bodies: API Gateway, EFS.
    RestJson,
    /// REST with XML bodies, operations named by their query subresource: S3.
    RestXml,
}

/// A request as the proxy understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// As the scan's stats name services (`kms`, `elbv2`, `efs`, `apigateway`, ...).
    pub service: String,
    /// The SDK's operation name (`DescribeKey`), or `METHOD /path` for an unknown REST route.
    pub name: String,
    pub protocol: Protocol,
}

#[derive(Default)]
struct Counters {
    injected: BTreeMap<&'static str, u64>,
    outage_hits: u64,
    requests: BTreeMap<(String, String), u64>,
    seen: HashMap<u64, u64>,
}

struct Shared {
    upstream: SocketAddr,
    faults: Faults,
    counters: Mutex<Counters>,
}

/// The running proxy; stops when dropped.
pub struct FaultProxy {
    pub port: u16,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultProxy {
    /// Start a proxy on a free 127.0.0.1 port in front of `127.0.0.1:upstream_port`.
    pub fn start(upstream_port: u16, faults: Faults) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy on loopback");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared { upstream: SocketAddr::from(([127, 0, 0, 1], upstream_port)), faults, counters: Mutex::default() });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let for_thread = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{port}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("proxy runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    let mut stopped = stopped;
                    loop {
                        tokio::select! {
                            _ = &mut stopped => break,
                            accepted = listener.accept() => {
                                if let Ok((client, _)) = accepted {
                                    tokio::spawn(serve(client, for_thread.clone()));
                                }
                            }
                        }
                    }
                });
                rt.shutdown_timeout(Duration::from_secs(1));
            })
            .expect("spawn the proxy thread");
        FaultProxy { port, shared, stop: Some(stop), thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many faults of each kind were injected (outage failures under `"outage"`).
    pub fn injected(&self) -> BTreeMap<&'static str, u64> {
        let c = self.shared.counters.lock().unwrap();
        let mut m = c.injected.clone();
        if c.outage_hits > 0 {
            m.insert("outage", c.outage_hits);
        }
        m
    }

    pub fn total_injected(&self) -> u64 {
        self.injected().values().sum()
    }

    /// Requests seen per `(service, operation)`, faulted or not.
    pub fn requests(&self) -> BTreeMap<(String, String), u64> {
        self.shared.counters.lock().unwrap().requests.clone()
    }

    pub fn outage_hits(&self) -> u64 {
        self.shared.counters.lock().unwrap().outage_hits
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------- HTTP plumbing

struct Request {
    method: String,
    path: String,
    /// (name as sent, value)
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

struct Response {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

fn parse_head(head: &str) -> Option<(String, Vec<(String, String)>)> {
    let mut lines = head.split("\r\n");
    let first = lines.next()?.to_string();
    let headers = lines.filter(|l| !l.is_empty()).filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    Some((first, headers))
}

fn content_length(headers: &[(String, String)]) -> Option<usize> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.parse().ok())
}

/// Read one request from a keep-alive connection; None when the client closed it.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = find_head_end(buf) {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let (request_line, headers) = parse_head(&head)?;
    let mut parts = request_line.split(' ');
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let len = content_length(&headers).unwrap_or(0);
    let body_start = head_end + 4;
    while buf.len() < body_start + len {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[body_start..body_start + len].to_vec();
    buf.drain(..body_start + len);
    Some(Request { method, path, headers, body })
}

/// Send the request to the emulator on a fresh connection and read the whole answer.
async fn forward(upstream: SocketAddr, req: &Request) -> std::io::Result<Response> {
    let mut up = TcpStream::connect(upstream).await?;
    let mut out = format!("{} {} HTTP/1.1\r\n", req.method, req.path).into_bytes();
    for (k, v) in &req.headers {
        if !k.eq_ignore_ascii_case("connection") {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&req.body);
    up.write_all(&out).await?;
    let mut raw = Vec::new();
    up.read_to_end(&mut raw).await?;
    let head_end = find_head_end(&raw).ok_or_else(|| std::io::Error::other("emulator answer without a header end"))?;
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let (status_line, headers) = parse_head(&head).ok_or_else(|| std::io::Error::other("unparseable emulator answer"))?;
    let rest = &raw[head_end + 4..];
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        match content_length(&headers) {
            Some(n) => rest[..n.min(rest.len())].to_vec(),
            None => rest.to_vec(),
        }
    };
    let headers = headers
        .into_iter()
        .filter(|(k, _)| !["content-length", "transfer-encoding", "connection", "keep-alive"].iter().any(|h| k.eq_ignore_ascii_case(h)))
        .collect();
    Ok(Response { status_line, headers, body })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..i]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = i + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = &data[(end + 2).min(data.len())..];
    }
    out
}

fn encode(resp: &Response, declared_len: usize, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{}\r\n", resp.status_line).into_bytes();
    for (k, v) in &resp.headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {declared_len}\r\n\r\n").as_bytes());
    out.extend_from_slice(body);
    out
}

/// Serve one client connection (keep-alive) until it closes or a fault ends it.
async fn serve(mut client: TcpStream, shared: Arc<Shared>) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut client, &mut buf).await {
        let op = identify(&req);
        let fault = decide(&shared, &req, &op);
        let keep_open = match fault {
            Some(Fault::Throttle) => client.write_all(&throttle_response(&op, request_id(&shared))).await.is_ok(),
            Some(Fault::Unavailable) => {
                let resp = Response { status_line: "HTTP/1.1 503 Service Unavailable".into(), headers: vec![], body: vec![] };
                client.write_all(&encode(&resp, 0, &[])).await.is_ok()
            }
            Some(Fault::Reset) => {
                let _ = client.set_zero_linger();
                false
            }
            Some(Fault::Truncate) => {
                if let Ok(resp) = forward(shared.upstream, &req).await {
                    // declare the real length (at least 1), send half of it, close
                    let declared = resp.body.len().max(1);
                    let sent = resp.body.len() / 2;
                    let _ = client.write_all(&encode(&resp, declared, &resp.body[..sent])).await;
                    let _ = client.flush().await;
                    let _ = client.shutdown().await;
                }
                false
            }
            Some(Fault::Garble) => match forward(shared.upstream, &req).await {
                // an empty body cut in half is still empty (and may parse): cut it short instead
                Ok(resp) if resp.body.len() >= 2 => {
                    let half = &resp.body[..resp.body.len() / 2];
                    client.write_all(&encode(&resp, half.len(), half)).await.is_ok()
                }
                Ok(resp) => {
                    let _ = client.write_all(&encode(&resp, resp.body.len() + 1, &resp.body)).await;
                    let _ = client.shutdown().await;
                    false
                }
                Err(_) => false,
            },
            Some(Fault::Slow) | None => {
                if fault == Some(Fault::Slow) {
                    let (lo, hi) = shared.faults.slow;
                    let ms = seeded_rng(&shared, &req, u64::MAX).random_range(lo.as_millis() as u64..=hi.as_millis().max(lo.as_millis()) as u64);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                match forward(shared.upstream, &req).await {
                    Ok(resp) => client.write_all(&encode(&resp, resp.body.len(), &resp.body)).await.is_ok(),
                    Err(_) => false,
                }
            }
        };
        if !keep_open {
            return;
        }
    }
}

// ---------------------------------------------------------------- decisions

fn fingerprint(req: &Request) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    req.method.hash(&mut h);
    req.path.hash(&mut h);
    req.header("x-amz-target").hash(&mut h);
    req.body.hash(&mut h);
    h.finish()
}

fn seeded_rng(shared: &Shared, req: &Request, salt: u64) -> StdRng {
    let mut h = std::hash::DefaultHasher::new();
    shared.faults.seed.hash(&mut h);
    fingerprint(req).hash(&mut h);
    salt.hash(&mut h);
    StdRng::seed_from_u64(h.finish())
}

fn decide(shared: &Shared, req: &Request, op: &Operation) -> Option<Fault> {
    let mut c = shared.counters.lock().unwrap();
    *c.requests.entry((op.service.clone(), op.name.clone())).or_default() += 1;
    if let Some((service, name)) = &shared.faults.outage {
        if *service == op.service && *name == op.name {
            c.outage_hits += 1;
            return Some(shared.faults.outage_fault);
        }
    }
    if shared.faults.rate <= 0.0 || shared.faults.kinds.is_empty() {
        return None;
    }
    let fp = fingerprint(req);
    let nth = {
        let n = c.seen.entry(fp).or_default();
        *n += 1;
        *n
    };
    let mut rng = seeded_rng(shared, req, nth);
    if !rng.random_bool(shared.faults.rate.min(1.0)) {
        return None;
    }
    let fault = shared.faults.kinds[rng.random_range(0..shared.faults.kinds.len())];
    *c.injected.entry(fault.name()).or_default() += 1;
    Some(fault)
}

fn request_id(shared: &Shared) -> String {
    let c = shared.counters.lock().unwrap();
    let n: u64 = c.requests.values().sum();
    format!("fault-proxy-{:08}-0000-4000-8000-000000000000", n)
}

/// The signing name from the SigV4 credential scope (`Credential=AKID/date/region/kms/aws4_request`).
fn signing_name(req: &Request) -> String {
    req.header("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split(',').next())
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("")
        .to_string()
}

/// The service name as the scan's stats spell it.
fn stats_service(signing_name: &str) -> &str {
    match signing_name {
        "elasticfilesystem" => "efs",
        "elasticloadbalancing" => "elbv2",
        other => other,
    }
}

fn form_action(body: &[u8]) -> Option<String> {
    String::from_utf8_lossy(body).split('&').find_map(|kv| kv.strip_prefix("Action=").map(str::to_string))
}

/// Which service and operation a request is, from `X-Amz-Target`, the `Action=` of a query
/// body, or the method and path of a REST call.
pub fn identify_parts(method: &str, path: &str, target: Option<&str>, body: &[u8], signing: &str) -> Operation {
    let service = stats_service(signing).to_string();
    if let Some(t) = target {
        let name = t.rsplit('.').next().unwrap_or(t).to_string();
        return Operation { service, name, protocol: Protocol::AwsJson };
    }
    if let Some(action) = form_action(body) {
        let protocol = if service == "ec2" { Protocol::Ec2 } else { Protocol::AwsQuery };
        return Operation { service, name: action, protocol };
    }
    // S3 Control signs as s3; its routes live under /v20180820/
    if service == "s3" && path.starts_with("/v20180820/") {
        let route = path.split('?').next().unwrap_or(path);
        let name = rest_operation("s3control", method, route).map(str::to_string).unwrap_or_else(|| format!("{method} {route}"));
        return Operation { service: "s3control".to_string(), name, protocol: Protocol::RestXml };
    }
    if service == "s3" {
        return Operation { service, name: s3_operation(method, path), protocol: Protocol::RestXml };
    }
    let route = path.split('?').next().unwrap_or(path);
    let name = rest_operation(&service, method, route).map(str::to_string).unwrap_or_else(|| format!("{method} {route}"));
    Operation { service, name, protocol: Protocol::RestJson }
}

fn identify(req: &Request) -> Operation {
    identify_parts(&req.method, &req.path, req.header("x-amz-target"), &req.body, &signing_name(req))
}

/// REST routes of the read operations the collectors use (API Gateway, EFS, GuardDuty, S3
/// Control). `*` is one path segment.
const REST_ROUTES: &[(&str, &str, &str, &str)] = &[
    ("apigateway", "GET", "/restapis", "GetRestApis"),
    ("apigateway", "GET", "/restapis/*", "GetRestApi"),
    ("apigateway", "GET", "/restapis/*/resources", "GetResources"),
    ("apigateway", "GET", "/restapis/*/resources/*", "GetResource"),
    ("apigateway", "GET", "/restapis/*/resources/*/methods/*", "GetMethod"),
    ("apigateway", "GET", "/restapis/*/resources/*/methods/*/integration", "GetIntegration"),
    ("apigateway", "GET", "/restapis/*/stages", "GetStages"),
    ("apigateway", "GET", "/restapis/*/stages/*", "GetStage"),
    ("apigateway", "GET", "/restapis/*/authorizers", "GetAuthorizers"),
    ("apigateway", "GET", "/restapis/*/deployments", "GetDeployments"),
    ("apigateway", "GET", "/account", "GetAccount"),
    ("apigateway", "GET", "/tags/*", "GetTags"),
    ("efs", "GET", "/2015-02-01/file-systems", "DescribeFileSystems"),
    ("efs", "GET", "/2015-02-01/file-systems/*/policy", "DescribeFileSystemPolicy"),
    ("efs", "GET", "/2015-02-01/file-systems/*/backup-policy", "DescribeBackupPolicy"),
    ("efs", "GET", "/2015-02-01/file-systems/*/lifecycle-configuration", "DescribeLifecycleConfiguration"),
    ("efs", "GET", "/2015-02-01/mount-targets", "DescribeMountTargets"),
    ("efs", "GET", "/2015-02-01/mount-targets/*/security-groups", "DescribeMountTargetSecurityGroups"),
    ("efs", "GET", "/2015-02-01/access-points", "DescribeAccessPoints"),
    ("efs", "GET", "/2015-02-01/resource-tags/*", "ListTagsForResource"),
    ("efs", "GET", "/2015-02-01/tags/*", "DescribeTags"),
    ("guardduty", "GET", "/detector", "ListDetectors"),
    ("guardduty", "GET", "/detector/*", "GetDetector"),
    ("s3control", "GET", "/v20180820/configuration/publicAccessBlock", "GetPublicAccessBlock"),
];

/// The S3 read operations the collector uses, by query subresource of `GET /<bucket>?<key>`.
const S3_SUBRESOURCES: &[(&str, &str)] = &[
    ("location", "GetBucketLocation"),
    ("tagging", "GetBucketTagging"),
    ("encryption", "GetBucketEncryption"),
    ("publicAccessBlock", "GetPublicAccessBlock"),
    ("policy", "GetBucketPolicy"),
    ("ownershipControls", "GetBucketOwnershipControls"),
    ("acl", "GetBucketAcl"),
    ("logging", "GetBucketLogging"),
    ("policyStatus", "GetBucketPolicyStatus"),
    ("versioning", "GetBucketVersioning"),
    ("object-lock", "GetObjectLockConfiguration"),
];

/// An S3 request (path-style): `GET /` lists buckets, `GET /<bucket>?<subresource>` reads one.
fn s3_operation(method: &str, path: &str) -> String {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let keys: Vec<&str> = query.split('&').map(|kv| kv.split('=').next().unwrap_or_default()).collect();
    let bucket = route.trim_matches('/');
    let name = match method {
        "GET" if bucket.is_empty() => Some("ListBuckets"),
        "GET" if !bucket.contains('/') => S3_SUBRESOURCES.iter().find(|(k, _)| keys.contains(k)).map(|(_, op)| *op),
        _ => None,
    };
    name.map(str::to_string).unwrap_or_else(|| format!("{method} {route}"))
}

fn rest_operation(service: &str, method: &str, route: &str) -> Option<&'static str> {
    let segs: Vec<&str> = route.trim_end_matches('/').split('/').collect();
    REST_ROUTES.iter().find_map(|(s, m, pattern, op)| {
        let pat: Vec<&str> = pattern.split('/').collect();
        let matches = *s == service && *m == method && pat.len() == segs.len() && pat.iter().zip(&segs).all(|(p, s)| *p == "*" || p == s);
        matches.then_some(*op)
    })
}

// ---------------------------------------------------------------- injected answers

/// The service's own throttling error, as AWS sends it for that protocol.
pub fn throttle_response(op: &Operation, request_id: String) -> Vec<u8> {
    let (status, headers, body): (&str, Vec<(String, String)>, String) = match op.protocol {
        Protocol::AwsJson => (
            "400 Bad Request",
            vec![("Content-Type".into(), "application/x-amz-json-1.1".into())],
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
        ),
        Protocol::AwsQuery => (
            "400 Bad Request",
            vec![("Content-Type".into(), "text/xml".into())],
            format!(
                r#"<ErrorResponse xmlns="https://{}.amazonaws.com/doc/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"#,
                op.service
            ),
        ),
        Protocol::Ec2 => (
            "503 Service Unavailable",
            vec![("Content-Type".into(), "text/xml;charset=UTF-8".into())],
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"#
            ),
        ),
        Protocol::RestJson if op.service == "apigateway" => (
            "429 Too Many Requests",
            vec![("Content-Type".into(), "application/json".into()), ("x-amzn-ErrorType".into(), "TooManyRequestsException".into())],
            r#"{"message":"Too Many Requests"}"#.into(),
        ),
        Protocol::RestXml => (
            "503 Slow Down",
            vec![("Content-Type".into(), "application/xml".into()), ("x-amz-request-id".into(), request_id.clone())],
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>{request_id}</RequestId></Error>"#
            ),
        ),
        Protocol::RestJson => (
            "429 Too Many Requests",
            vec![("Content-Type".into(), "application/json".into()), ("x-amzn-ErrorType".into(), "ThrottlingException".into())],
            r#"{"ErrorCode":"ThrottlingException","Message":"Rate exceeded"}"#.into(),
        ),
    };
    let mut all = vec![("x-amzn-RequestId".to_string(), request_id)];
    all.extend(headers);
    let resp = Response { status_line: format!("HTTP/1.1 {status}"), headers: all, body: body.clone().into_bytes() };
    encode(&resp, body.len(), body.as_bytes())
}
