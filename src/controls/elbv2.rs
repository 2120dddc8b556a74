//! Application Load Balancer controls: HTTPS-only listeners, TLS policy, access logs, header
//! validation. Network and gateway load balancers are not applicable.

use super::{each, ControlFn, Params, Verdict};
use crate::model::elbv2::{Action, Listener, LoadBalancer};
use crate::model::State;
use serde_json::{json, Value};

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("alb-https-only", https_only),
    ("alb-modern-tls-policy", modern_tls_policy),
    ("alb-access-logs", access_logs),
    ("alb-drop-invalid-headers", drop_invalid_headers),
];

fn is_alb(lb: &LoadBalancer) -> Result<bool, String> {
    lb.lb_type.get().map(|t| t.eq_ignore_ascii_case("application")).map_err(|r| format!("load balancer type: {r}"))
}

/// Whether a listener belongs to an ALB: its load balancer's type when the State holds it,
/// otherwise its protocol (only ALB listeners speak HTTP/HTTPS; NLB ones TCP/TLS/UDP, GWLB
/// ones GENEVE).
fn on_alb(state: &State, l: &Listener) -> Result<bool, String> {
    match state.elbv2.load_balancers.items.get(&l.load_balancer_arn) {
        Some(lb) => is_alb(lb),
        None => Ok(l.protocol.eq_ignore_ascii_case("HTTP") || l.protocol.eq_ignore_ascii_case("HTTPS")),
    }
}

/// An action that serves nothing over plaintext: a redirect to HTTPS, or a fixed response
/// without a message body (a bare status such as 403 or 404). Everything else (forward,
/// authenticate-*, a redirect that keeps `#{protocol}`, a fixed response with content) serves
/// the request or content over HTTP.
fn serves_nothing_in_plaintext(a: &Action) -> bool {
    match a.action_type.to_ascii_lowercase().as_str() {
        "redirect" => a.redirect_protocol.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("HTTPS")),
        "fixed-response" => a.fixed_response_body == Some(false),
        _ => false,
    }
}

fn all_safe(actions: &[Action]) -> bool {
    !actions.is_empty() && actions.iter().all(serves_nothing_in_plaintext)
}

fn show(actions: &[Action]) -> Vec<Value> {
    actions.iter().map(|a| json!({"type": a.action_type, "redirect_protocol": a.redirect_protocol, "fixed_response_body": a.fixed_response_body})).collect()
}

/// HTTPS listeners pass. An HTTP listener passes only when its default action and every action
/// of every listener rule (DescribeRules) redirect to HTTPS or return a fixed response without a
/// body: a single rule that forwards (say, `/health` or a host header) serves that traffic in
/// plaintext. Rules that could not be read are an error.
fn https_only(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.elbv2.listeners, "elbv2:listener", |l| {
        match on_alb(state, l) {
            Err(reason) => return Verdict::error(&l.meta, reason),
            Ok(false) => return Verdict::not_applicable(&l.meta, "not an Application Load Balancer listener"),
            Ok(true) => {}
        }
        let mut observed = json!({"protocol": l.protocol, "port": l.port, "default_actions": show(&l.default_actions)});
        if l.protocol.eq_ignore_ascii_case("HTTPS") {
            return Verdict::pass(&l.meta, format!("port {} serves HTTPS", l.port), observed);
        }
        let expected = json!({"protocol": "HTTPS", "or": {"protocol": "HTTP", "default_actions and every rule": [{"type": "redirect", "redirect_protocol": "HTTPS"}, {"type": "fixed-response", "message_body": null}]}});
        if !l.protocol.eq_ignore_ascii_case("HTTP") || !all_safe(&l.default_actions) {
            return Verdict::fail(
                &l.meta,
                format!("{} listener on port {} serves requests without TLS (default action)", l.protocol, l.port),
                observed,
                expected,
            );
        }
        let rules = match l.rules.get() {
            Ok(r) => r,
            Err(reason) => return Verdict::error(&l.meta, format!("listener rules: {reason}")),
        };
        let unsafe_rules: Vec<&crate::model::elbv2::Rule> = rules.iter().filter(|r| !all_safe(&r.actions)).collect();
        observed["rules"] = json!(rules.iter().map(|r| json!({"priority": r.priority, "actions": show(&r.actions)})).collect::<Vec<_>>());
        if unsafe_rules.is_empty() {
            Verdict::pass(&l.meta, format!("HTTP port {} only redirects to HTTPS (default action and {} rule(s))", l.port, rules.len()), observed)
        } else {
            let which: Vec<String> = unsafe_rules
                .iter()
                .map(|r| {
                    format!(
                        "priority {} ({})",
                        r.priority.as_deref().unwrap_or("?"),
                        r.actions.iter().map(|a| a.action_type.as_str()).collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            Verdict::fail(
                &l.meta,
                format!("HTTP listener on port {} redirects by default, but rule(s) {} serve requests without TLS", l.port, which.join("; ")),
                observed,
                expected,
            )
        }
    })
}

/// ELB security policies whose minimum protocol is TLS 1.2 or 1.3:
/// `ELBSecurityPolicy-TLS13-1-2-*` / `-TLS13-1-3-*` (including the FIPS, Res, Ext and PQ
/// variants), `ELBSecurityPolicy-TLS-1-2-*` and `ELBSecurityPolicy-FS-1-2-*`. Everything else
/// (`ELBSecurityPolicy-2016-08`, `-2015-05`, `-TLS-1-0-*`, `-TLS-1-1-*`, `-FS-2018-06`,
/// `-FS-1-1-*`, `-TLS13-1-0-*`, `-TLS13-1-1-*`, unknown names) accepts older protocols or is not
/// known to be TLS 1.2+.
pub(crate) fn is_tls12_plus_policy(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("ELBSecurityPolicy-") else { return false };
    ["TLS13-1-2-", "TLS13-1-3-", "TLS-1-2-", "FS-1-2-"].iter().any(|p| rest.starts_with(p))
}

fn modern_tls_policy(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.elbv2.listeners, "elbv2:listener", |l| {
        match on_alb(state, l) {
            Err(reason) => return Verdict::error(&l.meta, reason),
            Ok(false) => return Verdict::not_applicable(&l.meta, "not an Application Load Balancer listener"),
            Ok(true) => {}
        }
        if !l.protocol.eq_ignore_ascii_case("HTTPS") {
            return Verdict::not_applicable(&l.meta, format!("{} listener: no TLS policy", l.protocol));
        }
        let expected = json!({"ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06 (or another TLS 1.2+ policy, e.g. ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04)"});
        match l.ssl_policy.as_deref() {
            Some(p) if is_tls12_plus_policy(p) => Verdict::pass(&l.meta, format!("security policy {p} requires TLS 1.2 or later"), json!({"ssl_policy": p})),
            Some(p) => Verdict::fail(
                &l.meta,
                format!("security policy {p} is not a TLS 1.2+ policy (it accepts older protocols or is unknown)"),
                json!({"ssl_policy": p}),
                expected,
            ),
            None => Verdict::fail(
                &l.meta,
                "HTTPS listener has no security policy recorded (the API default, ELBSecurityPolicy-2016-08, accepts TLS 1.0)",
                json!({"ssl_policy": null}),
                expected,
            ),
        }
    })
}

/// An ALB attribute that must be `"true"`; unreadable attributes are an error. An attribute the
/// listing does not contain has its documented default, `false` for both attributes judged here
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html:
/// "access_logs.s3.enabled ... The default is false", "routing.http.drop_invalid_header_fields.enabled
/// ... The default is false"); moto reports only the attributes that were set.
fn attribute_true(state: &State, key: &'static str, what: &'static str) -> Vec<Verdict> {
    each(&state.elbv2.load_balancers, "elbv2:load-balancer", |lb| {
        match is_alb(lb) {
            Err(reason) => return Verdict::error(&lb.meta, reason),
            Ok(false) => {
                return Verdict::not_applicable(
                    &lb.meta,
                    format!("{} load balancer, not an Application Load Balancer", lb.lb_type.known().map(String::as_str).unwrap_or("?")),
                )
            }
            Ok(true) => {}
        }
        let attrs = match lb.attributes.get() {
            Ok(a) => a,
            Err(reason) => return Verdict::error(&lb.meta, reason),
        };
        match attrs.get(key).map(String::as_str) {
            Some(v) if v.eq_ignore_ascii_case("true") => Verdict::pass(&lb.meta, format!("{what} is enabled"), json!({ key: v })),
            None => Verdict::fail(
                &lb.meta,
                format!("{what} is disabled (attribute not reported: its documented default is false)"),
                json!({ key: null }),
                json!({ key: "true" }),
            ),
            other => Verdict::fail(&lb.meta, format!("{what} is disabled"), json!({ key: other }), json!({ key: "true" })),
        }
    })
}

fn access_logs(state: &State, _: &Params) -> Vec<Verdict> {
    attribute_true(state, "access_logs.s3.enabled", "access logging")
}

fn drop_invalid_headers(state: &State, _: &Params) -> Vec<Verdict> {
    attribute_true(state, "routing.http.drop_invalid_header_fields.enabled", "dropping invalid header fields")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::elbv2::{Action, Rule};
    use crate::model::Observed;

    fn act(action_type: &str, redirect_protocol: Option<&str>, fixed_response_body: Option<bool>) -> Action {
        Action { action_type: action_type.into(), redirect_protocol: redirect_protocol.map(str::to_string), fixed_response_body }
    }

    fn rule(priority: &str, actions: Vec<Action>) -> Rule {
        Rule {
            arn: format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/tapaudit-dev-alb/50dc6c495c0c9188/0b1c2d3e4f5a6b7c/{priority}"),
            priority: Some(priority.into()),
            actions,
        }
    }

    fn listener<'a>(s: &'a mut State, protocol: &str) -> &'a mut Listener {
        s.elbv2.listeners.items.values_mut().find(|l| l.protocol == protocol).unwrap_or_else(|| panic!("fixture has an {protocol} listener"))
    }

    fn lb(s: &mut State) -> &mut LoadBalancer {
        s.elbv2.load_balancers.items.values_mut().next().expect("fixture has a load balancer")
    }

    #[test]
    fn https_only() {
        assert_eq!(eval("alb-https-only", &fixture()), vec![Status::Pass, Status::Pass]);
        let mut forward = fixture();
        listener(&mut forward, "HTTP").default_actions = vec![act("forward", None, None)];
        assert_eq!(eval("alb-https-only", &forward), vec![Status::Fail, Status::Pass]);
        let mut same_protocol = fixture();
        listener(&mut same_protocol, "HTTP").default_actions = vec![act("redirect", Some("#{protocol}"), None)];
        assert_eq!(eval("alb-https-only", &same_protocol), vec![Status::Fail, Status::Pass]);
        let mut no_action = fixture();
        listener(&mut no_action, "HTTP").default_actions.clear();
        assert_eq!(eval("alb-https-only", &no_action), vec![Status::Fail, Status::Pass]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.elbv2.listeners);
        assert_eq!(eval("alb-https-only", &failed), vec![Status::Error]);
    }

    #[test]
    fn https_only_judges_every_rule() {
        // adversarial: the default action redirects, but one rule forwards /health in plaintext
        let mut forwarding_rule = fixture();
        if let Observed::Known(rules) = &mut listener(&mut forwarding_rule, "HTTP").rules {
            rules.insert(0, rule("10", vec![act("forward", None, None)]));
        }
        assert_eq!(eval("alb-https-only", &forwarding_rule), vec![Status::Fail, Status::Pass]);
        // authenticate then forward is still plaintext
        let mut auth = fixture();
        if let Observed::Known(rules) = &mut listener(&mut auth, "HTTP").rules {
            rules.push(rule("20", vec![act("authenticate-oidc", None, None), act("forward", None, None)]));
        }
        assert_eq!(eval("alb-https-only", &auth), vec![Status::Fail, Status::Pass]);
        // a redirect rule that keeps the protocol
        let mut keep = fixture();
        if let Observed::Known(rules) = &mut listener(&mut keep, "HTTP").rules {
            rules.push(rule("30", vec![act("redirect", Some("#{protocol}"), None)]));
        }
        assert_eq!(eval("alb-https-only", &keep), vec![Status::Fail, Status::Pass]);
        // fixed responses: without a body nothing is served; with one, content goes out in plaintext
        let mut bare_404 = fixture();
        if let Observed::Known(rules) = &mut listener(&mut bare_404, "HTTP").rules {
            rules.push(rule("40", vec![act("fixed-response", None, Some(false))]));
        }
        assert_eq!(eval("alb-https-only", &bare_404), vec![Status::Pass, Status::Pass]);
        let mut page = fixture();
        if let Observed::Known(rules) = &mut listener(&mut page, "HTTP").rules {
            rules.push(rule("50", vec![act("fixed-response", None, Some(true))]));
        }
        assert_eq!(eval("alb-https-only", &page), vec![Status::Fail, Status::Pass]);
        let mut bare_default = fixture();
        listener(&mut bare_default, "HTTP").default_actions = vec![act("fixed-response", None, Some(false))];
        assert_eq!(eval("alb-https-only", &bare_default), vec![Status::Pass, Status::Pass]);
        // rules not read: an error, never the default action's pass
        let mut unread = fixture();
        listener(&mut unread, "HTTP").rules = Observed::Unknown("elbv2:DescribeRules failed: AccessDenied".into());
        assert_eq!(eval("alb-https-only", &unread), vec![Status::Error, Status::Pass]);
        // ...but a listener that already fails by its default action fails
        listener(&mut unread, "HTTP").default_actions = vec![act("forward", None, None)];
        assert_eq!(eval("alb-https-only", &unread), vec![Status::Fail, Status::Pass]);
        // the load balancer's type not read: error
        let mut untyped = fixture();
        lb(&mut untyped).lb_type = Observed::Unknown("DescribeLoadBalancers did not report Type".into());
        assert_eq!(eval("alb-https-only", &untyped), vec![Status::Error, Status::Error]);
        assert_eq!(eval("alb-access-logs", &untyped), vec![Status::Error]);
    }

    #[test]
    fn network_load_balancers_are_not_applicable() {
        let mut nlb = fixture();
        lb(&mut nlb).lb_type = Observed::Known("network".into());
        listener(&mut nlb, "HTTP").default_actions.clear();
        listener(&mut nlb, "HTTPS").ssl_policy = Some("ELBSecurityPolicy-2016-08".into());
        lb(&mut nlb).attributes = Observed::Unknown("AccessDenied".into());
        for id in ["alb-https-only", "alb-modern-tls-policy", "alb-access-logs", "alb-drop-invalid-headers"] {
            assert_eq!(eval(id, &nlb), vec![], "{id}");
        }
        // a listener whose load balancer is not in the State is judged by its protocol
        let mut orphan = fixture();
        orphan.elbv2.load_balancers.items.clear();
        listener(&mut orphan, "HTTP").default_actions.clear();
        assert_eq!(eval("alb-https-only", &orphan), vec![Status::Fail, Status::Pass]);
        orphan.elbv2.listeners.items.values_mut().for_each(|l| l.protocol = "TCP".into());
        assert_eq!(eval("alb-https-only", &orphan), vec![]);
    }

    #[test]
    fn tls_policy() {
        assert_eq!(eval("alb-modern-tls-policy", &fixture()), vec![Status::Pass]);
        let mut legacy = fixture();
        listener(&mut legacy, "HTTPS").ssl_policy = Some("ELBSecurityPolicy-2016-08".into());
        assert_eq!(eval("alb-modern-tls-policy", &legacy), vec![Status::Fail]);
        let mut none = fixture();
        listener(&mut none, "HTTPS").ssl_policy = None;
        assert_eq!(eval("alb-modern-tls-policy", &none), vec![Status::Fail]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.elbv2.listeners);
        assert_eq!(eval("alb-modern-tls-policy", &failed), vec![Status::Error]);
    }

    #[test]
    fn policy_names() {
        for p in [
            "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
            "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
            "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
            "ELBSecurityPolicy-TLS13-1-3-2021-06",
            "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
            "ELBSecurityPolicy-TLS-1-2-2017-01",
            "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
            "ELBSecurityPolicy-FS-1-2-2019-08",
            "ELBSecurityPolicy-FS-1-2-Res-2020-10",
        ] {
            assert!(is_tls12_plus_policy(p), "{p}");
        }
        for p in [
            "ELBSecurityPolicy-2016-08",
            "ELBSecurityPolicy-2015-05",
            "ELBSecurityPolicy-TLS-1-0-2015-04",
            "ELBSecurityPolicy-TLS-1-1-2017-01",
            "ELBSecurityPolicy-FS-2018-06",
            "ELBSecurityPolicy-FS-1-1-2019-08",
            "ELBSecurityPolicy-TLS13-1-0-2021-06",
            "ELBSecurityPolicy-TLS13-1-1-2021-06",
            "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
            "my-custom-policy",
            "",
        ] {
            assert!(!is_tls12_plus_policy(p), "{p}");
        }
    }

    #[test]
    fn access_logs() {
        assert_eq!(eval("alb-access-logs", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        if let Observed::Known(a) = &mut lb(&mut bad).attributes {
            a.insert("access_logs.s3.enabled".into(), "false".into());
        }
        assert_eq!(eval("alb-access-logs", &bad), vec![Status::Fail]);
        let mut missing = fixture();
        lb(&mut missing).attributes = Observed::Known(Default::default());
        assert_eq!(eval("alb-access-logs", &missing), vec![Status::Fail], "the documented default is false");
        let mut unknown = fixture();
        lb(&mut unknown).attributes = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("alb-access-logs", &unknown), vec![Status::Error]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.elbv2.load_balancers);
        assert_eq!(eval("alb-access-logs", &failed), vec![Status::Error]);
    }

    #[test]
    fn drop_invalid_headers() {
        assert_eq!(eval("alb-drop-invalid-headers", &fixture()), vec![Status::Pass]);
        let mut bad = fixture();
        if let Observed::Known(a) = &mut lb(&mut bad).attributes {
            a.insert("routing.http.drop_invalid_header_fields.enabled".into(), "false".into());
        }
        assert_eq!(eval("alb-drop-invalid-headers", &bad), vec![Status::Fail]);
        let mut unknown = fixture();
        lb(&mut unknown).attributes = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("alb-drop-invalid-headers", &unknown), vec![Status::Error]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.elbv2.load_balancers);
        assert_eq!(eval("alb-drop-invalid-headers", &failed), vec![Status::Error]);
    }
}
