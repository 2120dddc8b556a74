//! End to end: scans through the fault-injecting proxy (tests/support/fault_proxy.rs) in front
//! of a private emulator. Provisioning and account set-up talk to the emulator directly; only the
//! scans go through the proxy.
//! - 30% injected faults over several seeds: the same verdicts and exit code as a clean scan.
//! - one operation failing every time, for every operation a scan calls (enumerated from a clean
//!   scan's `stats`): exit 2, every verdict unchanged or `error`, never a new `pass` or
//!   `not_applicable`, never a `fail` lost without an `error` in its place.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use support::fault_proxy::{Fault, FaultProxy, Faults};
use support::{Emulator, Run};

/// Attempts per call under 30% faults. With the fault mix below (throttle, bare 503, reset,
/// truncated body, garbled body, and slow answers of 0.2–1.5 s against a 1 s attempt timeout,
/// so ~38% of the slow ones time out) an attempt fails with probability
/// 0.3 × (5 + 0.385) / 6 ≈ 0.27. A call then fails all 15 attempts with probability
/// 0.27^15 ≈ 3e-9; a scan makes 50–100 calls, so the chance of one spurious `error` over the
/// six faulty scans of this file is below 2e-6. (With the default 4 attempts it is ~0.5% per
/// call, i.e. most scans of a few hundred calls would end incomplete at 30% faults.)
const MAX_ATTEMPTS_UNDER_FAULTS: &str = "15";
const FAULT_RATE: f64 = 0.3;
const SEEDS: [u64; 3] = [7, 1931, 424242];

/// (control id, kind, resource) → status
type Verdicts = BTreeMap<(String, String, String), String>;

struct Scan {
    run: Run,
    report: Option<Value>,
}

fn scan(emu: &Emulator, endpoint: &str, args: &[&str], extra: &[&str]) -> Scan {
    let dir = tempfile::tempdir().unwrap();
    let mut a = vec!["scan", "--format", "json", "--output-dir", dir.path().to_str().unwrap()];
    a.extend_from_slice(args);
    a.extend_from_slice(extra);
    let out = emu.tapaudit(&a).env("AWS_ENDPOINT_URL", endpoint).output().expect("run tapaudit");
    let run = Run::from(out);
    assert!(!run.stderr.contains("panicked"), "scan panicked: {}", run.stderr);
    let report = std::fs::read_to_string(dir.path().join("tapaudit.json")).ok().map(|s| serde_json::from_str(&s).unwrap());
    Scan { run, report }
}

fn resource_key(f: &Value) -> String {
    let r = &f["resource"];
    let arn = r["arn"].as_str().unwrap_or_default();
    if arn.is_empty() {
        format!("{}:{}", r["type"].as_str().unwrap_or_default(), r["id"].as_str().unwrap_or_default())
    } else {
        arn.to_string()
    }
}

fn verdicts(report: &Value) -> Verdicts {
    let mut out = Verdicts::new();
    for f in report["findings"].as_array().unwrap() {
        let key = (f["control_id"].as_str().unwrap().to_string(), f["kind"].as_str().unwrap().to_string(), resource_key(f));
        let status = f["status"].as_str().unwrap().to_string();
        if let Some(prev) = out.insert(key.clone(), status.clone()) {
            assert_eq!(prev, status, "two findings for {key:?} with different statuses");
        }
    }
    out
}

/// Every (service, operation) the scan called, from its report's stats.
fn operations(report: &Value) -> Vec<(String, String)> {
    let mut ops = vec![];
    for (service, per_op) in report["stats"]["api_calls"].as_object().unwrap() {
        for op in per_op.as_object().unwrap().keys() {
            ops.push((service.clone(), op.clone()));
        }
    }
    ops
}

fn clean_scan(emu: &Emulator, args: &[&str]) -> (i32, Value) {
    let clean = scan(emu, &emu.url(), args, &[]);
    let report = clean.report.expect("clean scan writes a report");
    assert!(report["errors"].as_array().unwrap().is_empty(), "clean scan has no collection errors: {}", report["errors"]);
    let errored: Vec<_> = verdicts(&report).into_iter().filter(|(_, s)| s == "error").map(|(k, _)| k).collect();
    assert!(errored.is_empty(), "clean scan has no error findings: {errored:?}");
    (clean.run.code, report)
}

/// Scans through 30% faults, one per seed: the clean scan's verdicts, exit code and no
/// collection error. Returns the faults injected per kind over all seeds.
fn faulty_scans_match_clean(emu: &Emulator, args: &[&str]) -> BTreeMap<&'static str, u64> {
    let (clean_code, clean) = clean_scan(emu, args);
    let want = verdicts(&clean);
    let mut total_injected: BTreeMap<&str, u64> = BTreeMap::new();
    for seed in SEEDS {
        let faults = Faults { slow: (Duration::from_millis(200), Duration::from_millis(1500)), ..Faults::random(seed, FAULT_RATE) };
        let proxy = FaultProxy::start(emu.port, faults);
        let t = Instant::now();
        let s = scan(emu, &proxy.url(), args, &["--max-attempts", MAX_ATTEMPTS_UNDER_FAULTS, "--timeout", "1"]);
        let injected = proxy.injected();
        eprintln!(
            "{} seed {seed}: {:.1}s, injected {injected:?} into {} requests",
            args.join(" "),
            t.elapsed().as_secs_f64(),
            proxy.requests().values().sum::<u64>()
        );
        assert!(proxy.total_injected() > 5, "seed {seed}: faults were injected: {injected:?}");
        for (kind, n) in injected {
            *total_injected.entry(kind).or_default() += n;
        }
        let report = s.report.unwrap_or_else(|| panic!("seed {seed}: no report; stderr:\n{}", s.run.stderr));
        assert_eq!(report["errors"], Value::Array(vec![]), "seed {seed}: every failure was retried away");
        assert_eq!(s.run.code, clean_code, "seed {seed}: same exit code; stderr:\n{}", s.run.stderr);
        let got = verdicts(&report);
        let diff: Vec<String> = want
            .iter()
            .filter(|(k, v)| got.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k:?}: clean {v}, faulty {:?}", got.get(k)))
            .chain(got.keys().filter(|k| !want.contains_key(*k)).map(|k| format!("{k:?}: only under faults ({})", got[k])))
            .collect();
        assert!(diff.is_empty(), "seed {seed}: verdicts differ:\n{}", diff.join("\n"));
    }
    total_injected
}

#[test]
fn scans_under_30_percent_faults_give_the_clean_verdicts() {
    let started = Instant::now();
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev"]).ok("provision");
    let (_, clean) = clean_scan(&emu, &["--stack", "dev"]);
    assert!(verdicts(&clean).len() > 40, "the dev stack has many findings ({})", verdicts(&clean).len());
    let total_injected = faulty_scans_match_clean(&emu, &["--stack", "dev"]);
    for kind in Fault::ALL {
        assert!(total_injected.get(kind.name()).is_some_and(|n| *n > 0), "no {} injected over the seeds: {total_injected:?}", kind.name());
    }
    eprintln!("30% faults, {} seeds: {total_injected:?}; whole test {:.0}s", SEEDS.len(), started.elapsed().as_secs_f64());
}

/// What an outage of one operation did that it must not do.
fn outage_violations(service: &str, op: &str, fault: Fault, clean_code: i32, clean: &Verdicts, s: &Scan, proxy: &FaultProxy) -> Vec<String> {
    let who = format!("{service} {op}");
    let mut bad = vec![];
    if proxy.outage_hits() == 0 {
        bad.push(format!("{who}: the proxy never saw the operation (its REST route table lacks it?)"));
    }
    if s.run.code != 2 {
        bad.push(format!("{who}: exit {} (clean {clean_code}), want 2", s.run.code));
    }
    let Some(report) = &s.report else {
        // without an identity there is no scan at all: one clear error naming the call
        if !(s.run.stderr.contains(service) && s.run.stderr.contains(op)) {
            bad.push(format!("{who}: no report, and stderr does not name the call: {}", s.run.stderr.trim()));
        }
        return bad;
    };
    let errors = report["errors"].as_array().unwrap();
    for e in errors {
        let text = format!("{} {}", e["code"], e["message"]);
        if text.contains("unhandled") || text.contains("UnknownError") {
            bad.push(format!("{who}: a collection error without its cause: {e}"));
        }
    }
    let own: Vec<&Value> = errors.iter().filter(|e| e["service"] == service && e["operation"] == op).collect();
    if own.is_empty() {
        bad.push(format!("{who}: the failed operation is not among the collection errors: {}", Value::Array(errors.clone())));
    }
    // the error that remains names its cause, with the request id when the answer had one
    for e in own {
        let (code, message) = (e["code"].as_str().unwrap_or_default(), e["message"].as_str().unwrap_or_default());
        let named = match fault {
            Fault::Throttle => {
                ["Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "SlowDown"].contains(&code)
                    && message.contains("[request id fault-proxy-")
            }
            Fault::Unavailable => code == "HTTP503" && message.contains("503 Service Unavailable"),
            Fault::Reset => code == "ConnectionError" && message.to_ascii_lowercase().contains("reset"),
            Fault::Truncate => code == "TruncatedResponse" && message.contains("body could not be read"),
            // a garbled success does not parse; a garbled error answer loses its code
            Fault::Garble => {
                (code == "UnparseableResponse" && message.contains("could not be parsed"))
                    || (code.starts_with("HTTP") && message.contains("without an AWS error code"))
            }
            Fault::Slow => true,
        };
        if !named {
            bad.push(format!("{who}: a {} outage is reported as {code}: {message}", fault.name()));
        }
    }
    let got = verdicts(report);
    if errors.is_empty() && !got.values().any(|s| s == "error") {
        bad.push(format!("{who}: neither an error finding nor a collection error"));
    }
    let error_controls: BTreeSet<&str> = got.iter().filter(|(_, s)| *s == "error").map(|((c, _, _), _)| c.as_str()).collect();
    for (key, status) in &got {
        match clean.get(key) {
            Some(was) if was == status || status == "error" => {}
            Some(was) => bad.push(format!("{who}: {} on {} ({}) was {was}, became {status}", key.0, key.2, key.1)),
            None if status == "error" => {}
            None => bad.push(format!("{who}: {} on {} ({}) is new with status {status}", key.0, key.2, key.1)),
        }
    }
    for (key, was) in clean {
        if !got.contains_key(key) && was != "pass" && was != "not_applicable" && !error_controls.contains(key.0.as_str()) {
            bad.push(format!("{who}: {} on {} ({}) was {was}, vanished without an error in its place", key.0, key.2, key.1));
        }
    }
    bad
}

/// Every operation of a clean scan, failing alone, each in its own scan.
fn outage_of_every_operation(emu: &Emulator, args: &[&str], min_ops: usize) {
    let started = Instant::now();
    let (clean_code, clean) = clean_scan(emu, args);
    let want = verdicts(&clean);
    let ops = operations(&clean);
    assert!(ops.len() >= min_ops, "a scan calls many operations ({}): {ops:?}", ops.len());
    for (service, op) in &ops {
        assert!(["Describe", "List", "Get"].iter().any(|p| op.starts_with(p)), "the scan only reads: {service} {op}");
    }
    let mut violations = vec![];
    let mut summary = vec![];
    // each outage fails in one of the ways that exhaust the retries, in turn
    let failing = [Fault::Throttle, Fault::Unavailable, Fault::Reset, Fault::Truncate, Fault::Garble];
    for (i, (service, op)) in ops.iter().enumerate() {
        let fault = failing[i % failing.len()];
        let proxy = FaultProxy::start(emu.port, Faults { outage_fault: fault, ..Faults::outage(service, op) });
        let s = scan(emu, &proxy.url(), args, &["--max-attempts", "2"]);
        violations.extend(outage_violations(service, op, fault, clean_code, &want, &s, &proxy));
        let errors = s.report.as_ref().map(|r| verdicts(r).values().filter(|v| *v == "error").count());
        summary.push(format!(
            "{service} {op} ({}): exit {}, {} error findings",
            fault.name(),
            s.run.code,
            errors.map_or("no report".to_string(), |n| n.to_string())
        ));
    }
    eprintln!("{} single-operation outages ({}) in {:.0}s:\n  {}", ops.len(), args.join(" "), started.elapsed().as_secs_f64(), summary.join("\n  "));
    assert!(violations.is_empty(), "{} violations:\n{}", violations.len(), violations.join("\n"));
}

#[test]
fn an_outage_of_any_operation_only_turns_dependent_verdicts_into_error_stack_scan() {
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev"]).ok("provision");
    outage_of_every_operation(&emu, &["--stack", "dev"], 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn account_scan_survives_faults_and_any_single_operation_outage() {
    let emu = Emulator::start();
    emu.run(&["provision", "--stack", "dev"]).ok("provision");
    richer_account(&emu).await;
    let emu_ref = &emu;
    tokio::task::block_in_place(|| {
        faulty_scans_match_clean(emu_ref, &["--regions", "us-east-1"]);
        outage_of_every_operation(emu_ref, &["--regions", "us-east-1"], 40)
    });
}

/// Beyond the dev stack: ElastiCache, EFS, a load balancer with a listener, an unrotated key,
/// and the account baseline's identities, trail, detection and snapshots.
async fn richer_account(emu: &Emulator) {
    let cfg = emu.sdk().await;
    let kms = aws_sdk_kms::Client::new(&cfg);
    let key = kms.create_key().description("extra").send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_string();
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vpc = ec2.create_vpc().cidr_block("10.30.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = vec![];
    for (i, az) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let s = ec2.create_subnet().vpc_id(&vpc).cidr_block(format!("10.30.{i}.0/24")).availability_zone(*az).send().await.unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let sg = ec2.create_security_group().group_name("extra-lb").description("extra").vpc_id(&vpc).send().await.unwrap().group_id().unwrap().to_string();
    let ec = aws_sdk_elasticache::Client::new(&cfg);
    ec.create_replication_group()
        .replication_group_id("extra-redis")
        .replication_group_description("extra")
        .engine("redis")
        .cache_node_type("cache.t3.micro")
        .num_node_groups(1)
        .replicas_per_node_group(1)
        .at_rest_encryption_enabled(true)
        .kms_key_id(&key)
        .send()
        .await
        .unwrap();
    support::single_az_memcached(&ec, "extra-memcached").await;
    let efs = aws_sdk_efs::Client::new(&cfg);
    let fs =
        efs.create_file_system().creation_token("extra-fs").encrypted(true).kms_key_id(&key).backup(true).send().await.unwrap().file_system_id().to_string();
    let tls = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    efs.put_file_system_policy().file_system_id(&fs).policy(tls.to_string()).send().await.unwrap();
    efs.create_mount_target().file_system_id(&fs).subnet_id(&subnets[0]).security_groups(&sg).send().await.unwrap();
    use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum};
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&cfg);
    let lb = elb.create_load_balancer().name("extra-lb").set_subnets(Some(subnets.clone())).security_groups(&sg).send().await.unwrap();
    let lb_arn = lb.load_balancers()[0].load_balancer_arn().unwrap().to_string();
    let tg = elb.create_target_group().name("extra-tg").protocol(ProtocolEnum::Http).port(80).vpc_id(&vpc).send().await.unwrap();
    let tg_arn = tg.target_groups()[0].target_group_arn().unwrap().to_string();
    elb.create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&tg_arn).build())
        .send()
        .await
        .unwrap();
    // an HTTPS listener with an ACM certificate, and a bucket with a policy (S3 and ACM reads)
    let acm = aws_sdk_acm::Client::new(&cfg);
    let cert = acm.request_certificate().domain_name("extra.example.com").send().await.unwrap().certificate_arn().unwrap().to_string();
    elb.create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Https)
        .port(443)
        .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
        .certificates(aws_sdk_elasticloadbalancingv2::types::Certificate::builder().certificate_arn(cert).build())
        .default_actions(Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&tg_arn).build())
        .send()
        .await
        .unwrap();
    let s3 = aws_sdk_s3::Client::new(&cfg);
    s3.create_bucket().bucket("extra-logs").send().await.unwrap();
    let deny = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::extra-logs", "arn:aws:s3:::extra-logs/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    s3.put_bucket_policy().bucket("extra-logs").policy(deny.to_string()).send().await.unwrap();

    // the account around the pipeline: a console user with MFA and a key, a group, the password
    // policy, a logging trail, GuardDuty, AWS Config, EBS and RDS snapshots
    let iam = aws_sdk_iam::Client::new(&cfg);
    iam.create_user().user_name("operator").send().await.unwrap();
    iam.create_login_profile().user_name("operator").password("Correct-Horse-Battery-9").send().await.unwrap();
    let mfa = iam.create_virtual_mfa_device().virtual_mfa_device_name("operator-mfa").send().await.unwrap();
    let serial = mfa.virtual_mfa_device().unwrap().serial_number().to_string();
    iam.enable_mfa_device().user_name("operator").serial_number(&serial).authentication_code1("123456").authentication_code2("654321").send().await.unwrap();
    iam.create_access_key().user_name("operator").send().await.unwrap();
    iam.create_group().group_name("operators").send().await.unwrap();
    iam.add_user_to_group().group_name("operators").user_name("operator").send().await.unwrap();
    iam.update_account_password_policy().minimum_password_length(14).send().await.unwrap();
    let ct = aws_sdk_cloudtrail::Client::new(&cfg);
    ct.create_trail().name("extra-trail").s3_bucket_name("extra-logs").is_multi_region_trail(true).kms_key_id(&key).send().await.unwrap();
    ct.start_logging().name("extra-trail").send().await.unwrap();
    aws_sdk_guardduty::Client::new(&cfg).create_detector().enable(true).send().await.unwrap();
    let config = aws_sdk_config::Client::new(&cfg);
    let recorder = aws_sdk_config::types::ConfigurationRecorder::builder()
        .name("default")
        .role_arn(format!("arn:aws:iam::{}:role/config", support::ACCOUNT))
        .recording_group(aws_sdk_config::types::RecordingGroup::builder().all_supported(true).build())
        .build();
    config.put_configuration_recorder().configuration_recorder(recorder).send().await.unwrap();
    config
        .put_delivery_channel()
        .delivery_channel(aws_sdk_config::types::DeliveryChannel::builder().name("default").s3_bucket_name("extra-logs").build())
        .send()
        .await
        .unwrap();
    let vol =
        ec2.create_volume().availability_zone("us-east-1a").size(1).encrypted(true).kms_key_id(&key).send().await.unwrap().volume_id().unwrap().to_string();
    ec2.create_snapshot().volume_id(&vol).send().await.unwrap();
    let rds = aws_sdk_rds::Client::new(&cfg);
    let db = rds.describe_db_instances().send().await.unwrap().db_instances()[0].db_instance_identifier().unwrap().to_string();
    rds.create_db_snapshot().db_instance_identifier(&db).db_snapshot_identifier("extra-export").send().await.unwrap();
}

#[test]
fn the_proxy_names_operations_and_answers_in_each_protocols_shape() {
    use support::fault_proxy::{identify_parts, throttle_response, Operation, Protocol};
    /// method, path, X-Amz-Target, body, signing name → (service, operation, protocol)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, &'a str, (&'a str, &'a str, Protocol));
    let cases: &[Case] = &[
        ("POST", "/", Some("TrentService.DescribeKey"), "{}", "kms", ("kms", "DescribeKey", Protocol::AwsJson)),
        ("POST", "/", Some("Logs_20140328.DescribeLogGroups"), "{}", "logs", ("logs", "DescribeLogGroups", Protocol::AwsJson)),
        ("POST", "/", None, "Action=DescribeDBInstances&Version=2014-10-31", "rds", ("rds", "DescribeDBInstances", Protocol::AwsQuery)),
        ("POST", "/", None, "Action=DescribeVpcs&Version=2016-11-15", "ec2", ("ec2", "DescribeVpcs", Protocol::Ec2)),
        ("POST", "/", None, "Action=DescribeTags&Version=2015-12-01", "elasticloadbalancing", ("elbv2", "DescribeTags", Protocol::AwsQuery)),
        ("GET", "/restapis/abc/resources?limit=500", None, "", "apigateway", ("apigateway", "GetResources", Protocol::RestJson)),
        ("GET", "/2015-02-01/file-systems/fs-1/policy", None, "", "elasticfilesystem", ("efs", "DescribeFileSystemPolicy", Protocol::RestJson)),
        ("GET", "/2015-02-01/unknown", None, "", "elasticfilesystem", ("efs", "GET /2015-02-01/unknown", Protocol::RestJson)),
        ("GET", "/?bucket-region=us-east-1", None, "", "s3", ("s3", "ListBuckets", Protocol::RestXml)),
        ("GET", "/logs?publicAccessBlock", None, "", "s3", ("s3", "GetPublicAccessBlock", Protocol::RestXml)),
        ("GET", "/logs?policy", None, "", "s3", ("s3", "GetBucketPolicy", Protocol::RestXml)),
        ("GET", "/logs/key.txt", None, "", "s3", ("s3", "GET /logs/key.txt", Protocol::RestXml)),
    ];
    for (method, path, target, body, signing, (service, name, protocol)) in cases {
        let op = identify_parts(method, path, *target, body.as_bytes(), signing);
        assert_eq!((op.service.as_str(), op.name.as_str(), op.protocol), (*service, *name, *protocol), "{method} {path}");
    }
    let text = |service: &str, protocol| {
        let op = Operation { service: service.replace("elasticfilesystem", "efs"), name: "Op".into(), protocol };
        String::from_utf8(throttle_response(&op, "rid-1".into())).unwrap()
    };
    let json = text("kms", Protocol::AwsJson);
    assert!(json.starts_with("HTTP/1.1 400 ") && json.contains(r#""__type":"ThrottlingException""#), "{json}");
    let query = text("iam", Protocol::AwsQuery);
    assert!(query.starts_with("HTTP/1.1 400 ") && query.contains("<ErrorResponse") && query.contains("<Code>Throttling</Code>"), "{query}");
    let ec2 = text("ec2", Protocol::Ec2);
    assert!(ec2.starts_with("HTTP/1.1 503 ") && ec2.contains("<Code>RequestLimitExceeded</Code>"), "{ec2}");
    let apigw = text("apigateway", Protocol::RestJson);
    assert!(apigw.starts_with("HTTP/1.1 429 ") && apigw.contains("x-amzn-ErrorType: TooManyRequestsException"), "{apigw}");
    let efs = text("elasticfilesystem", Protocol::RestJson);
    assert!(efs.starts_with("HTTP/1.1 429 ") && efs.contains("x-amzn-ErrorType: ThrottlingException"), "{efs}");
    let s3 = text("s3", Protocol::RestXml);
    assert!(s3.starts_with("HTTP/1.1 503 ") && s3.contains("<Code>SlowDown</Code>") && s3.contains("x-amz-request-id: rid-1"), "{s3}");
    for t in [json, query, ec2, apigw, efs, s3] {
        assert!(t.contains("x-amzn-RequestId: rid-1"), "{t}");
    }
}
