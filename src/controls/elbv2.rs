//! Application Load Balancer controls: HTTPS-only listeners, TLS policy, access logs, header
//! validation. Network and gateway load balancers are not applicable.

use super::{each, ControlFn, Params, Verdict};
use crate::model::elbv2::{Listener, LoadBalancer};
use crate::model::State;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("alb-https-only", https_only),
    ("alb-modern-tls-policy", modern_tls_policy),
    ("alb-access-logs", access_logs),
    ("alb-drop-invalid-headers", drop_invalid_headers),
];

fn is_alb(lb: &LoadBalancer) -> bool {
    lb.lb_type.eq_ignore_ascii_case("application")
}

/// Whether a listener belongs to an ALB: its load balancer's type when the State holds it,
/// otherwise its protocol (only ALB listeners speak HTTP/HTTPS; NLB ones TCP/TLS/UDP, GWLB
/// ones GENEVE).
fn on_alb(state: &State, l: &Listener) -> bool {
    match state.elbv2.load_balancers.items.get(&l.load_balancer_arn) {
        Some(lb) => is_alb(lb),
        None => l.protocol.eq_ignore_ascii_case("HTTP") || l.protocol.eq_ignore_ascii_case("HTTPS"),
    }
}

fn redirects_to_https(l: &Listener) -> bool {
    !l.default_actions.is_empty()
        && l.default_actions
            .iter()
            .all(|a| a.action_type.eq_ignore_ascii_case("redirect") && a.redirect_protocol.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("HTTPS")))
}

/// HTTPS listeners pass; an HTTP listener passes only when its default action is a redirect to
/// HTTPS. (The State models default actions only, not listener rules.)
fn https_only(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.elbv2.listeners, "elbv2:listener", |l| {
        if !on_alb(state, l) {
            return Verdict::not_applicable(&l.meta, "not an Application Load Balancer listener");
        }
        let actions: Vec<serde_json::Value> = l.default_actions.iter().map(|a| json!({"type": a.action_type, "redirect_protocol": a.redirect_protocol})).collect();
        let observed = json!({"protocol": l.protocol, "port": l.port, "default_actions": actions});
        if l.protocol.eq_ignore_ascii_case("HTTPS") {
            return Verdict::pass(&l.meta, format!("port {} serves HTTPS", l.port), observed);
        }
        if l.protocol.eq_ignore_ascii_case("HTTP") && redirects_to_https(l) {
            return Verdict::pass(&l.meta, format!("HTTP port {} only redirects to HTTPS", l.port), observed);
        }
        Verdict::fail(
            &l.meta,
            format!("{} listener on port {} serves requests without TLS", l.protocol, l.port),
            observed,
            json!({"protocol": "HTTPS", "or": {"protocol": "HTTP", "default_actions": [{"type": "redirect", "redirect_protocol": "HTTPS"}]}}),
        )
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
        if !on_alb(state, l) {
            return Verdict::not_applicable(&l.meta, "not an Application Load Balancer listener");
        }
        if !l.protocol.eq_ignore_ascii_case("HTTPS") {
            return Verdict::not_applicable(&l.meta, format!("{} listener: no TLS policy", l.protocol));
        }
        let expected = json!({"ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06 (or another TLS 1.2+ policy, e.g. ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04)"});
        match l.ssl_policy.as_deref() {
            Some(p) if is_tls12_plus_policy(p) => Verdict::pass(&l.meta, format!("security policy {p} requires TLS 1.2 or later"), json!({"ssl_policy": p})),
            Some(p) => Verdict::fail(&l.meta, format!("security policy {p} is not a TLS 1.2+ policy (it accepts older protocols or is unknown)"), json!({"ssl_policy": p}), expected),
            None => Verdict::fail(
                &l.meta,
                "HTTPS listener has no security policy recorded (the API default, ELBSecurityPolicy-2016-08, accepts TLS 1.0)",
                json!({"ssl_policy": null}),
                expected,
            ),
        }
    })
}

/// An ALB attribute that must be `"true"`; unreadable attributes are an error.
fn attribute_true(state: &State, key: &'static str, what: &'static str) -> Vec<Verdict> {
    each(&state.elbv2.load_balancers, "elbv2:load-balancer", |lb| {
        if !is_alb(lb) {
            return Verdict::not_applicable(&lb.meta, format!("{} load balancer, not an Application Load Balancer", lb.lb_type));
        }
        let attrs = match lb.attributes.get() {
            Ok(a) => a,
            Err(reason) => return Verdict::error(&lb.meta, reason),
        };
        match attrs.get(key).map(String::as_str) {
            Some(v) if v.eq_ignore_ascii_case("true") => Verdict::pass(&lb.meta, format!("{what} is enabled"), json!({ key: v })),
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
    use crate::model::elbv2::Action;
    use crate::model::Observed;

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
        listener(&mut forward, "HTTP").default_actions = vec![Action { action_type: "forward".into(), redirect_protocol: None }];
        assert_eq!(eval("alb-https-only", &forward), vec![Status::Fail, Status::Pass]);
        let mut same_protocol = fixture();
        listener(&mut same_protocol, "HTTP").default_actions = vec![Action { action_type: "redirect".into(), redirect_protocol: Some("#{protocol}".into()) }];
        assert_eq!(eval("alb-https-only", &same_protocol), vec![Status::Fail, Status::Pass]);
        let mut no_action = fixture();
        listener(&mut no_action, "HTTP").default_actions.clear();
        assert_eq!(eval("alb-https-only", &no_action), vec![Status::Fail, Status::Pass]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.elbv2.listeners);
        assert_eq!(eval("alb-https-only", &failed), vec![Status::Error]);
    }

    #[test]
    fn network_load_balancers_are_not_applicable() {
        let mut nlb = fixture();
        lb(&mut nlb).lb_type = "network".into();
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
        assert_eq!(eval("alb-access-logs", &missing), vec![Status::Fail]);
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
