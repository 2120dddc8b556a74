//! The load balancer and the REST API end to end against the emulator, through the built
//! binary: a stack file with a key, a network, a security group, an access-log bucket, an
//! internet-facing ALB whose certificate is requested from ACM, and an API with an
//! IAM-authorized GET route proxied over HTTPS to it. Provision, re-run, plan, scan --stack,
//! a change behind tapaudit's back (a plain HTTP forward listener), destroy.

mod support;

use serde_json::Value;
use support::{status_of, Emulator};

const STACK: &str = r#"# seed 003's student-records front end: HTTPS only, the API authenticates its callers
project = "tapaudit"
stack = "edge"
region = "us-east-1"
frameworks = ["ferpa"]

[keys.data-key]

[network]
cidr = "10.7.0.0/16"

[security_groups.ecs-tasks-sg]
ingress = [{ port = 8080, from = "vpc" }]
egress = [{ protocol = "all", to = "0.0.0.0/0" }]

[security_groups.db-sg]
ingress = [{ port = 5432, from = "ecs-tasks-sg" }]

[security_groups.web-sg]
ingress = [{ port = 443, from = "0.0.0.0/0" }, { port = 80, from = "0.0.0.0/0" }]
egress = [{ port = 8443, to = "vpc" }]

[buckets.alb-logs]
force_destroy = true

[load_balancers.web]
scheme = "internet-facing"
security_group = "web-sg"
domain_name = "students.example.org"
access_logs_bucket = "alb-logs"
deletion_protection = false

[apis.students]
log_key = "data-key"

# seed 003 had GET /students without authorization: callers sign with SigV4 (AWS_IAM)
[[apis.students.routes]]
method = "GET"
path = "/students"
load_balancer = "web"
"#;

fn stack_file() -> String {
    let dir = std::env::temp_dir().join(format!("tapaudit-e2e-edge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("edge.toml");
    std::fs::write(&path, STACK).unwrap();
    path.display().to_string()
}

fn steps(v: &Value) -> Vec<Value> {
    v["steps"].as_array().or_else(|| v["plan"].as_array()).cloned().unwrap_or_default()
}

#[tokio::test]
async fn load_balancer_and_api_end_to_end() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;
    let file = stack_file();
    let f = file.as_str();

    let first = emu.run(&["provision", "--stack", f, "--output", "json"]).ok("provision");
    let out = first.json();
    assert!(steps(&out).iter().any(|s| s["logical_id"] == "web-certificate" && s["action"] == "create"), "{out}");

    // ---- ELBv2
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&cfg);
    let lbs = elb.describe_load_balancers().names("tapaudit-edge-web").send().await.unwrap();
    let lb = &lbs.load_balancers()[0];
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internet-facing"));
    let lb_arn = lb.load_balancer_arn().unwrap();
    let dns = lb.dns_name().unwrap().to_string();
    let attrs = elb.describe_load_balancer_attributes().load_balancer_arn(lb_arn).send().await.unwrap();
    let get = |k: &str| attrs.attributes().iter().find(|a| a.key() == Some(k)).and_then(|a| a.value()).map(str::to_string);
    assert_eq!(get("routing.http.drop_invalid_header_fields.enabled").as_deref(), Some("true"));
    assert_eq!(get("access_logs.s3.enabled").as_deref(), Some("true"));
    assert!(get("access_logs.s3.bucket").unwrap().starts_with("tapaudit-edge-alb-logs"));
    let listeners = elb.describe_listeners().load_balancer_arn(lb_arn).send().await.unwrap();
    let by_port = |p: i32| listeners.listeners().iter().find(|l| l.port() == Some(p)).unwrap().clone();
    let https = by_port(443);
    assert_eq!(https.ssl_policy(), Some("ELBSecurityPolicy-TLS13-1-2-2021-06"));
    let cert = https.certificates()[0].certificate_arn().unwrap().to_string();
    let acm = aws_sdk_acm::Client::new(&cfg);
    let c = acm.describe_certificate().certificate_arn(&cert).send().await.unwrap();
    assert_eq!(c.certificate().unwrap().domain_name(), Some("students.example.org"));
    assert_eq!(c.certificate().unwrap().status().map(|s| s.as_str()), Some("ISSUED"));
    let http = by_port(80);
    let redirect = http.default_actions()[0].redirect_config().unwrap();
    assert_eq!((redirect.protocol(), redirect.status_code().map(|s| s.as_str())), (Some("HTTPS"), Some("HTTP_301")));
    let tgs = elb.describe_target_groups().names("tapaudit-edge-web-tg").send().await.unwrap();
    assert_eq!(tgs.target_groups()[0].protocol().map(|p| p.as_str()), Some("HTTPS"));

    // ---- API Gateway: GET /students, AWS_IAM, HTTP_PROXY to https://<dns>/students
    let api = aws_sdk_apigateway::Client::new(&cfg);
    let apis = api.get_rest_apis().send().await.unwrap();
    let rest = apis.items().iter().find(|a| a.name() == Some("tapaudit-edge-students")).unwrap();
    let api_id = rest.id().unwrap();
    let resources = api.get_resources().rest_api_id(api_id).send().await.unwrap();
    let students = resources.items().iter().find(|r| r.path() == Some("/students")).unwrap();
    let m = api.get_method().rest_api_id(api_id).resource_id(students.id().unwrap()).http_method("GET").send().await.unwrap();
    assert_eq!(m.authorization_type(), Some("AWS_IAM"));
    let i = m.method_integration().unwrap();
    assert_eq!(i.r#type().map(|t| t.as_str()), Some("HTTP_PROXY"));
    assert_eq!(i.uri(), Some(format!("https://{dns}/students").as_str()));

    // ---- converged: a re-run and plan change nothing
    let again = emu.run(&["provision", "--stack", f, "--output", "json"]).ok("second provision");
    assert!(steps(&again.json()).iter().all(|s| s["action"] == "unchanged"), "{}", again.stdout);
    let plan = emu.run(&["plan", "--stack", f, "--output", "json"]).ok("plan");
    assert!(steps(&plan.json()).iter().all(|s| s["action"] == "unchanged"), "{}", plan.stdout);

    // ---- scan: ALB and API controls pass, no drift
    let reports = tempfile::tempdir().unwrap();
    let out_dir = reports.path().to_string_lossy().to_string();
    let scan = emu.run(&["scan", "--stack", f, "--format", "json", "--output-dir", &out_dir]);
    let report = scan.json();
    // listener controls on each listener (the redirecting HTTP one has no TLS policy), load
    // balancer controls on the load balancer (dropping invalid headers is checked on the
    // attributes above: no FERPA control maps it)
    for (control, resource, want) in [
        ("alb-https-only", "tapaudit-edge-web:80", "pass"),
        ("alb-https-only", "tapaudit-edge-web:443", "pass"),
        ("alb-modern-tls-policy", "tapaudit-edge-web:443", "pass"),
        ("alb-modern-tls-policy", "tapaudit-edge-web:80", "not_applicable"),
        ("alb-certificate-valid", "tapaudit-edge-web:443", "pass"),
        ("alb-access-logs", "tapaudit-edge-web", "pass"),
        ("alb-target-group-https", "tapaudit-edge-web-tg", "pass"),
    ] {
        assert_eq!(status_of(&report, control, resource), want, "{control} on {resource}");
    }
    let drift: Vec<&Value> = report["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "drift" && f["status"] != "pass").collect();
    assert!(drift.is_empty(), "{drift:?}");

    // ---- behind tapaudit's back: a plain HTTP listener that forwards
    let tg = tgs.target_groups()[0].target_group_arn().unwrap();
    let forward = aws_sdk_elasticloadbalancingv2::types::Action::builder()
        .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
        .target_group_arn(tg)
        .build();
    elb.create_listener()
        .load_balancer_arn(lb_arn)
        .port(8080)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .default_actions(forward)
        .send()
        .await
        .unwrap();
    let report = emu.run(&["scan", "--stack", f, "--format", "json", "--output-dir", &out_dir]).json();
    assert_eq!(status_of(&report, "alb-https-only", "tapaudit-edge-web:8080"), "fail");
    let unmanaged =
        report["findings"].as_array().unwrap().iter().any(|x| x["control_id"] == "drift-unmanaged" && x["resource"]["id"] == "tapaudit-edge-web:8080");
    assert!(unmanaged, "the added listener is drift");

    // ---- destroy: nothing tagged remains
    emu.run(&["destroy", "--stack", f, "--yes"]).ok("destroy");
    let left = elb.describe_load_balancers().send().await.unwrap();
    assert!(left.load_balancers().iter().all(|l| l.load_balancer_name() != Some("tapaudit-edge-web")));
    let left = elb.describe_target_groups().send().await.unwrap();
    assert!(left.target_groups().iter().all(|t| t.target_group_name() != Some("tapaudit-edge-web-tg")));
    let certs = acm.list_certificates().send().await.unwrap();
    assert!(certs.certificate_summary_list().iter().all(|c| c.domain_name() != Some("students.example.org")));
    let apis = api.get_rest_apis().send().await.unwrap();
    assert!(apis.items().iter().all(|a| a.name() != Some("tapaudit-edge-students")));
}
