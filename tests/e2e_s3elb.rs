//! End to end: what the FERPA blueprint's HTTPS load balancer needs, created in the emulator with
//! the SDK and scanned account-wide through the built binary.
//! - S3: an access-log bucket as the provisioner makes it (SSE-S3, all four public access block
//!   settings, TLS-only policy, ELB log delivery may write) passes; a bare bucket fails
//!   encryption, public access block and TLS; a TLS Deny scoped to one prefix, and one with the
//!   condition inverted, fail TLS-only; a public Allow behind NotPrincipal fails not-public; a
//!   bucket of another region is not in a us-east-1 scan at all.
//! - ALB: an HTTPS listener (TLS 1.2+ policy, ACM certificate) with an HTTP listener that only
//!   redirects; its default action forwards to an HTTPS target group, a rule forwards /api to an
//!   HTTP one (which fails); a second ALB presents an imported certificate that expires in ten
//!   days (fails).

mod support;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, LoadBalancerAttribute, ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum, RuleCondition,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use serde_json::{json, Value};
use support::{status_of, Emulator};

fn message_of(report: &Value, control: &str, resource_id: &str) -> String {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control_id"] == control && f["resource"]["id"] == resource_id)
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

fn tls_deny(resources: Value, secure_transport: &str) -> Value {
    json!({"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": resources, "Condition": {"Bool": {"aws:SecureTransport": secure_transport}}})
}

async fn put_policy(s3: &aws_sdk_s3::Client, bucket: &str, statements: Vec<Value>) {
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    s3.put_bucket_policy().bucket(bucket).policy(doc.to_string()).send().await.unwrap();
}

/// A self-signed certificate and key (PEM) valid for `days`, made with the openssl CLI.
fn self_signed(cn: &str, days: u32) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", &format!("/CN={cn}"), "-days", &days.to_string(), "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl req failed");
    (std::fs::read_to_string(cert).unwrap(), std::fs::read_to_string(key).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn log_bucket_target_groups_and_certificates() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;
    let s3 = aws_sdk_s3::Client::new(&cfg);

    // --- S3 ---
    let log_bucket = "alb-logs";
    let arn = format!("arn:aws:s3:::{log_bucket}");
    for b in [log_bucket, "bare", "prefix-tls", "inverted-tls"] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    s3.put_bucket_encryption()
        .bucket(log_bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256).build().unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_public_access_block()
        .bucket(log_bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_ownership_controls()
        .bucket(log_bucket)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(OwnershipControlsRule::builder().object_ownership(ObjectOwnership::BucketOwnerEnforced).build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // as the provisioner writes it: TLS only on the whole bucket, the ELB log-delivery service
    // principal may write its prefix
    put_policy(
        &s3,
        log_bucket,
        vec![
            tls_deny(json!([arn, format!("{arn}/*")]), "false"),
            json!({"Sid": "ElbLogDelivery", "Effect": "Allow", "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}, "Action": "s3:PutObject", "Resource": format!("{arn}/alb/AWSLogs/{}/*", support::ACCOUNT)}),
        ],
    )
    .await;
    // the Deny covers one prefix; the Allow is public behind NotPrincipal
    put_policy(
        &s3,
        "prefix-tls",
        vec![
            tls_deny(json!(["arn:aws:s3:::prefix-tls", "arn:aws:s3:::prefix-tls/alb/*"]), "false"),
            json!({"Sid": "Readers", "Effect": "Allow", "NotPrincipal": {"AWS": format!("arn:aws:iam::{}:root", support::ACCOUNT)}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::prefix-tls/*"}),
        ],
    )
    .await;
    // the condition inverted: it denies TLS requests
    put_policy(&s3, "inverted-tls", vec![tls_deny(json!(["arn:aws:s3:::inverted-tls", "arn:aws:s3:::inverted-tls/*"]), "true")]).await;
    s3.create_bucket()
        .bucket("elsewhere")
        .create_bucket_configuration(CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::EuWest1).build())
        .send()
        .await
        .unwrap();

    // --- network ---
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vpc = ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = vec![];
    for (cidr, az) in [("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b")] {
        let s = ec2.create_subnet().vpc_id(&vpc).cidr_block(cidr).availability_zone(az).send().await.unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }

    // --- certificates: one requested from ACM (issued at once with MOTO_ACM_VALIDATION_WAIT=0),
    // one imported that expires in ten days ---
    let acm = aws_sdk_acm::Client::new(&cfg);
    let requested = acm.request_certificate().domain_name("students.example.edu").send().await.unwrap().certificate_arn().unwrap().to_string();
    let (pem, key) = self_signed("soon.example.edu", 10);
    let expiring = acm
        .import_certificate()
        .certificate(aws_sdk_acm::primitives::Blob::new(pem))
        .private_key(aws_sdk_acm::primitives::Blob::new(key))
        .send()
        .await
        .unwrap()
        .certificate_arn()
        .unwrap()
        .to_string();

    // --- load balancers ---
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&cfg);
    let tg = |name: &'static str, protocol: ProtocolEnum, port: i32| {
        let (elb, vpc) = (elb.clone(), vpc.clone());
        async move {
            let out = elb
                .create_target_group()
                .name(name)
                .protocol(protocol.clone())
                .port(port)
                .vpc_id(vpc)
                .target_type("ip".into())
                .health_check_protocol(protocol)
                .send()
                .await
                .unwrap();
            out.target_groups()[0].target_group_arn().unwrap().to_string()
        }
    };
    let https_tg = tg("web-https", ProtocolEnum::Https, 443).await;
    let plain_tg = tg("web-plain", ProtocolEnum::Http, 80).await;
    let forward = |arn: &str| Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(arn).build();
    let redirect = Action::builder()
        .r#type(ActionTypeEnum::Redirect)
        .redirect_config(RedirectActionConfig::builder().protocol("HTTPS").port("443").status_code(RedirectActionStatusCodeEnum::Http301).build())
        .build();
    let mut https_listeners = vec![];
    for (name, cert) in [("web", &requested), ("soon", &expiring)] {
        let lb = elb.create_load_balancer().name(name).set_subnets(Some(subnets.clone())).send().await.unwrap();
        let lb_arn = lb.load_balancers()[0].load_balancer_arn().unwrap().to_string();
        let https = elb
            .create_listener()
            .load_balancer_arn(&lb_arn)
            .protocol(ProtocolEnum::Https)
            .port(443)
            .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
            .certificates(Certificate::builder().certificate_arn(cert.as_str()).build())
            .default_actions(forward(&https_tg))
            .send()
            .await
            .unwrap();
        https_listeners.push(https.listeners()[0].listener_arn().unwrap().to_string());
        elb.create_listener().load_balancer_arn(&lb_arn).protocol(ProtocolEnum::Http).port(80).default_actions(redirect.clone()).send().await.unwrap();
        let attr = |k: &str, v: &str| LoadBalancerAttribute::builder().key(k).value(v).build();
        elb.modify_load_balancer_attributes()
            .load_balancer_arn(&lb_arn)
            .attributes(attr("access_logs.s3.enabled", "true"))
            .attributes(attr("access_logs.s3.bucket", log_bucket))
            .attributes(attr("access_logs.s3.prefix", "alb"))
            .attributes(attr("routing.http.drop_invalid_header_fields.enabled", "true"))
            .send()
            .await
            .unwrap();
    }
    // the default action forwards over HTTPS, but /api/* goes to the plaintext group
    elb.create_rule()
        .listener_arn(&https_listeners[0])
        .priority(10)
        .conditions(RuleCondition::builder().field("path-pattern").values("/api/*").build())
        .actions(forward(&plain_tg))
        .send()
        .await
        .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let run = emu.run(&["scan", "--regions", "us-east-1", "--format", "json", "--output-dir", tmp.path().to_str().unwrap()]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap()).unwrap();

    let expect = [
        ("s3-bucket-default-encryption", log_bucket, "pass"),
        ("s3-bucket-public-access-block", log_bucket, "pass"),
        ("s3-bucket-tls-only", log_bucket, "pass"),
        ("s3-bucket-not-public", log_bucket, "pass"),
        ("s3-bucket-default-encryption", "bare", "fail"),
        ("s3-bucket-public-access-block", "bare", "fail"),
        ("s3-bucket-tls-only", "bare", "fail"),
        ("s3-bucket-not-public", "bare", "pass"),
        ("s3-bucket-tls-only", "prefix-tls", "fail"),
        ("s3-bucket-not-public", "prefix-tls", "fail"),
        ("s3-bucket-tls-only", "inverted-tls", "fail"),
        ("s3-bucket-not-public", "inverted-tls", "pass"),
        ("alb-https-only", "web:443", "pass"),
        ("alb-https-only", "web:80", "pass"),
        ("alb-modern-tls-policy", "web:443", "pass"),
        ("alb-access-logs", "web", "pass"),
        ("alb-drop-invalid-headers", "web", "pass"),
        ("alb-certificate-valid", "web:443", "pass"),
        ("alb-certificate-valid", "soon:443", "fail"),
        ("alb-target-group-https", "web-https", "pass"),
        ("alb-target-group-https", "web-plain", "fail"),
    ];
    let mut wrong = vec![];
    for (control, id, want) in expect {
        let got = status_of(&r, control, id);
        if got != want {
            wrong.push(format!("{control} on {id}: want {want}, got {got} ({})", message_of(&r, control, id)));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // a bucket of another region is out of a us-east-1 scan: no finding names it
    let elsewhere = r["findings"].as_array().unwrap().iter().filter(|f| f["resource"]["id"] == "elsewhere").count();
    assert_eq!(elsewhere, 0, "the eu-west-1 bucket is out of scope");
    // the verdicts say why
    assert!(message_of(&r, "alb-target-group-https", "web-plain").contains("web:443"), "{}", message_of(&r, "alb-target-group-https", "web-plain"));
    assert!(message_of(&r, "alb-certificate-valid", "soon:443").contains("days left"), "{}", message_of(&r, "alb-certificate-valid", "soon:443"));
    assert!(message_of(&r, "s3-bucket-not-public", "prefix-tls").contains("NotPrincipal"), "{}", message_of(&r, "s3-bucket-not-public", "prefix-tls"));
    // nothing the S3, ELBv2 or ACM collectors read failed
    let errors: Vec<&Value> =
        r["errors"].as_array().unwrap().iter().filter(|e| ["s3", "elbv2", "acm"].contains(&e["service"].as_str().unwrap_or_default())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    for (service, op) in
        [("s3", "GetBucketLocation"), ("elbv2", "DescribeListenerCertificates"), ("elbv2", "DescribeTargetGroups"), ("acm", "DescribeCertificate")]
    {
        assert!(r["stats"]["api_calls"][service][op].as_u64().is_some_and(|n| n >= 1), "{service} {op}: {}", r["stats"]["api_calls"]);
    }
}
