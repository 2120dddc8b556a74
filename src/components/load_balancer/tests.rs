use super::*;
use crate::finding::Status;
use crate::model::elbv2::Action;
use std::path::Path;

fn dev() -> crate::spec::Stack {
    crate::spec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/dev.toml")).unwrap()
}

fn web() -> LoadBalancer {
    LoadBalancer {
        scheme: "internet-facing".into(),
        security_group: "web-sg".into(),
        domain_name: Some("app.example.org".into()),
        access_logs_bucket: "alb-logs".into(),
        ..LoadBalancer::default()
    }
}

/// dev with a load balancer `id` (its references are not declared: the component's own parts
/// are tested here; the registry's reference checks in tests/stack_files_edge.rs).
fn with(id: &str, lb: LoadBalancer) -> crate::spec::Stack {
    let mut s = dev();
    s.spec.load_balancers.insert(id.to_string(), lb);
    s
}

fn problems(id: &str, lb: LoadBalancer) -> Vec<String> {
    let stack = with(id, lb.clone());
    let cx = Cx { stack: &stack, id, path: format!("load_balancers.{id}") };
    lb.validate(&cx).into_iter().map(|p| p.message).collect()
}

#[test]
fn hardened_defaults_validate() {
    assert_eq!(problems("web", web()), Vec::<String>::new());
    let d = LoadBalancer::default();
    assert_eq!((d.scheme.as_str(), d.ssl_policy.as_str(), d.target_protocol.as_str(), d.deletion_protection), ("internal", DEFAULT_SSL_POLICY, "HTTPS", true));
}

#[test]
fn settings_elbv2_would_reject_or_that_weaken_tls_are_refused() {
    let lb = LoadBalancer {
        scheme: "public".into(),
        ssl_policy: "ELBSecurityPolicy-TLS-1-1-2017-01".into(),
        certificate_arn: Some("arn:aws:iam::123456789012:server-certificate/x".into()),
        domain_name: None,
        target_protocol: "TCP".into(),
        ..web()
    };
    assert_eq!(
        problems("web", lb),
        vec![
            "load_balancers.web.scheme must be internal or internet-facing (got \"public\")",
            "load_balancers.web.certificate_arn must be an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id> (got \"arn:aws:iam::123456789012:server-certificate/x\")",
            "load_balancers.web.ssl_policy \"ELBSecurityPolicy-TLS-1-1-2017-01\" admits TLS versions older than 1.2: use ELBSecurityPolicy-TLS13-1-2-2021-06 or another TLS 1.2+ ELB policy",
            "load_balancers.web.target_protocol must be HTTPS or HTTP (got \"TCP\")",
        ]
    );
    assert_eq!(
        problems("web", LoadBalancer { certificate_arn: Some("arn:aws:acm:us-east-1:123456789012:certificate/abc".into()), ..web() }),
        vec!["load_balancers.web.certificate_arn and domain_name are exclusive: give an ACM certificate ARN or a domain to request one for"]
    );
    assert_eq!(
        problems("web", LoadBalancer { domain_name: None, ..web() }),
        vec!["load_balancers.web needs a certificate for its HTTPS listener: set certificate_arn or domain_name"]
    );
    assert_eq!(
        problems("web", LoadBalancer { domain_name: Some("localhost".into()), ..web() }),
        vec!["load_balancers.web.domain_name must be a DNS name such as app.example.org (got \"localhost\")"]
    );
}

#[test]
fn names_must_fit_elbv2s_32_characters() {
    // the load balancer's name is exactly 32 characters (accepted), its target group's is not
    assert_eq!(
        problems("student-records-alb", web()),
        vec!["load_balancers.student-records-alb makes the target group name \"tapaudit-dev-student-records-alb-tg\" (35 characters), longer than ELBv2's 32: use a shorter logical id"]
    );
}

#[test]
fn nodes_and_their_dependencies() {
    let stack = with("web", web());
    let cx = Cx { stack: &stack, id: "web", path: "load_balancers.web".into() };
    let nodes = web().nodes(&cx);
    let got: Vec<(&str, &str, Vec<&str>)> = nodes.iter().map(|n| (n.id.as_str(), n.kind.label(), n.deps.iter().map(String::as_str).collect())).collect();
    assert_eq!(
        got,
        vec![
            ("web-certificate", "acm:certificate", vec![]),
            ("web", "elbv2:load-balancer", vec!["public-subnet-1", "public-subnet-2", "web-sg", "alb-logs", "web-target-group"]),
            ("web-target-group", "elbv2:target-group", vec!["vpc"]),
            ("web-https-listener", "elbv2:listener", vec!["web", "web-target-group", "web-certificate"]),
            ("web-http-listener", "elbv2:listener", vec!["web"]),
        ]
    );
    // internal: the private subnets; a certificate from the stack file: no certificate node
    let internal =
        LoadBalancer { scheme: "internal".into(), domain_name: None, certificate_arn: Some("arn:aws:acm:us-east-1:1:certificate/c".into()), ..web() };
    let nodes = internal.nodes(&cx);
    assert_eq!(nodes[0].deps[..2], ["private-subnet-1".to_string(), "private-subnet-2".to_string()]);
    assert!(!nodes.iter().any(|n| n.id == "web-certificate"));
    assert_eq!(
        web().outputs(&cx),
        vec![
            Output { name: "load_balancers.web.arn".into(), node: "web".into(), attr: "arn".into() },
            Output { name: "load_balancers.web.dns_name".into(), node: "web".into(), attr: "dns_name".into() }
        ]
    );
}

fn desired_state() -> (crate::spec::Stack, State) {
    let stack = with("web", web());
    let cx = Cx { stack: &stack, id: "web", path: "load_balancers.web".into() };
    let mut st = State::default();
    web().desired(&cx, &mut st);
    (stack, st)
}

#[test]
fn desired_state_passes_the_alb_controls() {
    let (_, st) = desired_state();
    let lb = st.elbv2.load_balancers.iter().next().unwrap();
    assert_eq!(lb.scheme.known().map(String::as_str), Some("internet-facing"));
    assert_eq!(lb.security_groups, vec!["sg-web-sg"]);
    let a = lb.attributes.known().unwrap();
    assert_eq!(a["routing.http.drop_invalid_header_fields.enabled"], "true");
    assert_eq!(a["access_logs.s3.enabled"], "true");
    assert_eq!(a["deletion_protection.enabled"], "true");
    let ports: Vec<(i32, &str)> = st.elbv2.listeners.iter().map(|l| (l.port, l.protocol.as_str())).collect();
    assert_eq!(ports, vec![(443, "HTTPS"), (80, "HTTP")]);
    let cat = crate::controls::Catalogue::load().unwrap();
    let sel = crate::controls::Selection { frameworks: vec!["ferpa".into(), "fedramp-moderate".into()], overrides: Default::default() };
    let findings = crate::controls::evaluate(&cat, &st, &sel);
    let alb: Vec<_> = findings.iter().filter(|f| f.control_id.starts_with("alb-")).map(|f| (f.control_id.as_str(), f.status)).collect();
    assert!(!alb.is_empty());
    // every control passes, except the certificate and TLS policy of the redirecting HTTP
    // listener, which has neither
    let not_passing: Vec<_> = alb.iter().filter(|(_, s)| *s != Status::Pass).collect();
    assert_eq!(not_passing, vec![&("alb-certificate-valid", Status::NotApplicable), &("alb-modern-tls-policy", Status::NotApplicable)], "{alb:?}");
}

fn drift_of(mutate: impl FnOnce(&mut State)) -> Vec<(String, String, String)> {
    let (stack, desired) = desired_state();
    let mut live = desired.clone();
    mutate(&mut live);
    let cat = crate::controls::Catalogue::load().unwrap();
    let mut d = crate::drift::Drift::new(
        crate::drift::StackView {
            name: &stack.name,
            source: &stack.source,
            declared_tags: Default::default(),
            paths: crate::provision::nodes(&stack).into_iter().map(|n| (n.id, n.declared_at)).collect(),
        },
        &desired,
        &live,
        &cat,
        &[],
    );
    drift(&mut d, &desired, &live);
    d.finish().into_iter().map(|f| (f.control_id, f.resource.id, f.evidence.expected["field"].as_str().unwrap_or_default().to_string())).collect()
}

#[test]
fn no_drift_when_live_matches() {
    assert_eq!(drift_of(|_| {}), vec![]);
}

#[test]
fn a_plain_http_listener_added_behind_tapauditss_back_is_unmanaged_and_a_weaker_policy_changed() {
    let got = drift_of(|l| {
        let mut extra = l.elbv2.listeners.iter().find(|x| x.port == 80).unwrap().clone();
        extra.port = 8080;
        extra.meta.id = "tapaudit-dev-web:8080".into();
        extra.meta.arn = format!("{}/listener-8080", extra.load_balancer_arn);
        extra.default_actions = vec![Action { action_type: "forward".into(), redirect_protocol: None, fixed_response_body: None, target_group_arns: vec![] }];
        l.elbv2.listeners.insert(extra);
        for x in l.elbv2.listeners.items.values_mut().filter(|x| x.port == 443) {
            x.ssl_policy = Some("ELBSecurityPolicy-2016-08".into());
        }
    });
    assert_eq!(
        got,
        vec![
            ("drift-changed".to_string(), "tapaudit-dev-web:443".to_string(), "ssl_policy".to_string()),
            ("drift-unmanaged".to_string(), "tapaudit-dev-web:8080".to_string(), "resource".to_string()),
        ]
    );
}

#[test]
fn attributes_and_unread_attributes() {
    let got = drift_of(|l| {
        for lb in l.elbv2.load_balancers.items.values_mut() {
            if let Observed::Known(a) = &mut lb.attributes {
                a.insert("routing.http.drop_invalid_header_fields.enabled".into(), "false".into());
            }
        }
    });
    assert_eq!(
        got,
        vec![("drift-changed".to_string(), "tapaudit-dev-web".to_string(), "attributes.routing.http.drop_invalid_header_fields.enabled".to_string())]
    );
    let got = drift_of(|l| l.elbv2.load_balancers.items.values_mut().for_each(|lb| lb.attributes = Observed::Unknown("AccessDenied".into())));
    assert_eq!(got, vec![("drift-changed".to_string(), "tapaudit-dev-web".to_string(), "attributes".to_string())]);
}

#[test]
fn certificate_request_tokens_differ_per_request_and_fit_acm() {
    let a = request_token("web-certificate", 1_764_590_000);
    let b = request_token("web-certificate", 1_764_590_001);
    assert_ne!(a, b, "a later request (after a destroy) must not get the deleted certificate back");
    for t in [&a, &b, &request_token("a-very-long-logical-id-for-a-load-balancer-certificate", i64::MAX)] {
        assert!(t.len() <= 32 && t.chars().all(|c| c.is_ascii_alphanumeric()), "{t}");
    }
}
