//! Application Load Balancer controls: HTTPS-only listeners, TLS policy, access logs, header
//! validation, HTTPS to the targets behind HTTPS listeners, valid listener certificates.
//! Network and gateway load balancers are not applicable.

use super::{each, ControlFn, Params, Verdict};
use crate::model::elbv2::{Action, Certificate, Listener, LoadBalancer, TargetGroup};
use crate::model::State;
use serde_json::{json, Value};
use std::collections::HashMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("alb-https-only", https_only),
    ("alb-modern-tls-policy", modern_tls_policy),
    ("alb-access-logs", access_logs),
    ("alb-drop-invalid-headers", drop_invalid_headers),
    ("alb-target-group-https", target_group_https),
    ("alb-certificate-valid", certificate_valid),
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

/// Access logging on, to a named bucket (`access_logs.s3.bucket`; AWS refuses to enable
/// logging without one, so an enabled attribute with no bucket was not fully reported).
fn access_logs(state: &State, _: &Params) -> Vec<Verdict> {
    let mut out = attribute_true(state, "access_logs.s3.enabled", "access logging");
    for v in out.iter_mut().filter(|v| v.status == crate::finding::Status::Pass) {
        let Some(lb) = state.elbv2.load_balancers.items.get(&v.resource.arn) else { continue };
        let bucket = lb.attributes.known().and_then(|a| a.get("access_logs.s3.bucket")).filter(|b| !b.is_empty());
        *v = match bucket {
            Some(b) => Verdict::pass(
                &lb.meta,
                format!("access logging is enabled to bucket {b}"),
                json!({"access_logs.s3.enabled": "true", "access_logs.s3.bucket": b}),
            ),
            None => Verdict::error(&lb.meta, "access logging is enabled but the load balancer attributes report no access_logs.s3.bucket"),
        };
    }
    out
}

fn drop_invalid_headers(state: &State, _: &Params) -> Vec<Verdict> {
    attribute_true(state, "routing.http.drop_invalid_header_fields.enabled", "dropping invalid header fields")
}

/// Whether a listener forwards to `tg` in its default actions or any rule; Err when its rules
/// were not read and the default actions do not already forward there.
fn forwards_to(l: &Listener, tg: &str) -> Result<bool, String> {
    let hit = |actions: &[Action]| actions.iter().any(|a| a.target_group_arns.iter().any(|t| t == tg));
    if hit(&l.default_actions) {
        return Ok(true);
    }
    let rules = l.rules.get().map_err(|r| format!("the rules of listener {} were not read: {r}", l.meta.id))?;
    Ok(rules.iter().any(|r| hit(&r.actions)))
}

/// The HTTPS listeners, read once for all target groups (asking each of them about each group
/// made the control quadratic): in ARN order, with whether each is on an ALB, indexed by the
/// groups their actions name and by load balancer, and those whose rules were not read.
struct HttpsListeners<'a> {
    listeners: Vec<(&'a Listener, Result<bool, String>)>,
    by_group: HashMap<&'a str, Vec<usize>>,
    by_load_balancer: HashMap<&'a str, Vec<usize>>,
    /// Rules unread, on an ALB or not known not to be: undecided for any group they do not
    /// name in their default actions.
    unread: Vec<usize>,
}

impl<'a> HttpsListeners<'a> {
    fn of(state: &'a State) -> Self {
        let listeners: Vec<(&Listener, Result<bool, String>)> =
            state.elbv2.listeners.iter().filter(|l| l.protocol.eq_ignore_ascii_case("HTTPS")).map(|l| (l, on_alb(state, l))).collect();
        let (mut by_group, mut by_load_balancer, mut unread) = (HashMap::<&str, Vec<usize>>::new(), HashMap::<&str, Vec<usize>>::new(), Vec::new());
        for (i, (l, alb)) in listeners.iter().enumerate() {
            let rules: &[_] = l.rules.known().map(Vec::as_slice).unwrap_or_default();
            let mut named: Vec<&str> = l
                .default_actions
                .iter()
                .chain(rules.iter().flat_map(|r| r.actions.iter()))
                .flat_map(|a| a.target_group_arns.iter().map(String::as_str))
                .collect();
            named.sort_unstable();
            named.dedup();
            for g in named {
                by_group.entry(g).or_default().push(i);
            }
            by_load_balancer.entry(l.load_balancer_arn.as_str()).or_default().push(i);
            if l.rules.known().is_none() && *alb != Ok(false) {
                unread.push(i);
            }
        }
        HttpsListeners { listeners, by_group, by_load_balancer, unread }
    }

    /// The listeners whose verdict on `tg` is not "does not forward there", in ARN order: those
    /// naming it, those of its load balancers, and (for a group attached to none) the unread
    /// ones up to the first that does not name it (only the first undecided one is reported).
    fn candidates(&self, tg: &TargetGroup) -> Vec<&(&'a Listener, Result<bool, String>)> {
        let named = self.by_group.get(tg.meta.arn.as_str()).map(Vec::as_slice).unwrap_or_default();
        let mut picked: Vec<usize> = named.to_vec();
        if tg.load_balancer_arns.is_empty() {
            if let Some(&first) = self.unread.iter().find(|i| !named.contains(i)) {
                picked.push(first);
            }
        } else {
            for lb in &tg.load_balancer_arns {
                picked.extend(self.by_load_balancer.get(lb.as_str()).into_iter().flatten());
            }
        }
        picked.sort_unstable();
        picked.dedup();
        picked.into_iter().map(|i| &self.listeners[i]).collect()
    }
}

/// A target group that an HTTPS listener of an ALB forwards to (by its default action or by any
/// listener rule) must speak HTTPS to its targets: otherwise the load balancer terminates TLS
/// and carries the request on in plaintext. Lambda targets are invoked through the Lambda API
/// (no protocol). Target groups no HTTPS listener forwards to are not applicable.
fn target_group_https(state: &State, _: &Params) -> Vec<Verdict> {
    let https = HttpsListeners::of(state);
    each(&state.elbv2.target_groups, "elbv2:target-group", |tg: &TargetGroup| {
        if tg.target_type.known().is_some_and(|t| t == "lambda") {
            return Verdict::not_applicable(&tg.meta, "lambda target group: targets are invoked through the Lambda API");
        }
        let mut behind = Vec::new();
        let mut undecided = Vec::new();
        for &(l, ref alb) in https.candidates(tg) {
            match (alb.clone(), forwards_to(l, &tg.meta.arn)) {
                (Ok(false), _) | (_, Ok(false)) => {}
                (Ok(true), Ok(true)) => behind.push(l.meta.id.clone()),
                (Err(r), _) | (_, Err(r)) => {
                    // only listeners of this target group's load balancers can forward to it
                    if tg.load_balancer_arns.is_empty() || tg.load_balancer_arns.contains(&l.load_balancer_arn) {
                        undecided.push(r)
                    }
                }
            }
        }
        if behind.is_empty() {
            if let Some(r) = undecided.first() {
                return Verdict::error(&tg.meta, format!("whether an HTTPS listener forwards to this target group is unknown: {r}"));
            }
            if let Some(r) = state.elbv2.listeners.failed_in(&tg.meta.region).filter(|_| !tg.load_balancer_arns.is_empty()) {
                return Verdict::error(&tg.meta, format!("listeners could not be listed in {}: {r}", tg.meta.region));
            }
            return Verdict::not_applicable(&tg.meta, "no HTTPS listener forwards to this target group");
        }
        let observed = json!({"protocol": tg.protocol.known(), "health_check_protocol": tg.health_check_protocol, "behind_https_listeners": behind});
        let expected = json!({"protocol": "HTTPS"});
        match tg.protocol.get() {
            Err(reason) => Verdict::error(&tg.meta, format!("the target group's protocol was not read: {reason}")),
            Ok(p) if p.eq_ignore_ascii_case("HTTPS") => {
                Verdict::pass(&tg.meta, format!("HTTPS listener(s) {} forward to targets over HTTPS", behind.join(", ")), observed)
            }
            Ok(p) => Verdict::fail(
                &tg.meta,
                format!("HTTPS listener(s) {} forward to this target group, which speaks {p} to its targets: TLS ends at the load balancer", behind.join(", ")),
                observed,
                expected,
            ),
        }
    })
}

/// The evaluation time. Unit-test builds pin it to [`TEST_NOW`] (as the secrets controls do), so
/// the compliant fixture's certificate does not expire in the tests; other builds read the clock.
#[cfg(not(test))]
fn clock() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[cfg(test)]
const TEST_NOW: OffsetDateTime = time::macros::datetime!(2026-11-22 00:00 UTC);

#[cfg(test)]
fn clock() -> OffsetDateTime {
    TEST_NOW
}

enum CertJudgement {
    Good(String),
    Bad(String),
    Unknown(String),
}

/// One listener certificate: ISSUED and valid for at least `min_days` more days.
fn judge_certificate(state: &State, region: &str, arn: &str, min_days: i64, now: OffsetDateTime) -> CertJudgement {
    let Some(c): Option<&Certificate> = state.elbv2.certificates.items.get(arn) else {
        if arn.split(':').nth(2) != Some("acm") {
            return CertJudgement::Unknown(format!("{arn} is not an ACM certificate (an IAM server certificate?): its status and validity were not read"));
        }
        return CertJudgement::Unknown(match state.elbv2.certificates.failed_in(region) {
            Some(r) => format!("certificates could not be read in {region}: {r}"),
            None => format!("certificate {arn} is not in the State"),
        });
    };
    let name = c.meta.display_name();
    match c.status.get() {
        Err(r) => return CertJudgement::Unknown(format!("status of {name}: {r}")),
        Ok(s) if s != "ISSUED" => return CertJudgement::Bad(format!("certificate {name} is {s}, not ISSUED")),
        Ok(_) => {}
    }
    let not_after = match c.not_after.get() {
        Err(r) => return CertJudgement::Unknown(format!("expiry of {name}: {r}")),
        Ok(t) => t,
    };
    let end = match OffsetDateTime::parse(not_after, &Rfc3339) {
        Err(e) => return CertJudgement::Unknown(format!("expiry of {name} {not_after:?} is not RFC 3339: {e}")),
        Ok(t) => t,
    };
    let left = (end - now).whole_days();
    if left < min_days {
        CertJudgement::Bad(format!("certificate {name} expires on {not_after} ({left} days left, at least {min_days} required)"))
    } else {
        CertJudgement::Good(format!("{name} ISSUED, valid until {not_after}"))
    }
}

fn certificate_valid(state: &State, params: &Params) -> Vec<Verdict> {
    let min_days = params.get("min_certificate_validity_days");
    let now = clock();
    each(&state.elbv2.listeners, "elbv2:listener", |l| {
        match on_alb(state, l) {
            Err(reason) => return Verdict::error(&l.meta, reason),
            Ok(false) => return Verdict::not_applicable(&l.meta, "not an Application Load Balancer listener"),
            Ok(true) => {}
        }
        if !l.protocol.eq_ignore_ascii_case("HTTPS") {
            return Verdict::not_applicable(&l.meta, format!("{} listener: no certificate", l.protocol));
        }
        let expected = json!({"certificates": format!("ISSUED, valid for at least {min_days} more days")});
        let arns = match l.certificate_arns.get() {
            Err(reason) => return Verdict::error(&l.meta, format!("the listener's certificates were not read: {reason}")),
            Ok(a) if a.is_empty() => return Verdict::fail(&l.meta, "HTTPS listener has no certificate", json!({"certificates": []}), expected),
            Ok(a) => a,
        };
        let judged: Vec<CertJudgement> = arns.iter().map(|a| judge_certificate(state, &l.meta.region, a, min_days, now)).collect();
        let observed = json!({"certificates": arns});
        let bad: Vec<&str> = judged.iter().filter_map(|j| if let CertJudgement::Bad(m) = j { Some(m.as_str()) } else { None }).collect();
        if !bad.is_empty() {
            return Verdict::fail(&l.meta, bad.join("; "), observed, expected);
        }
        if let Some(CertJudgement::Unknown(r)) = judged.iter().find(|j| matches!(j, CertJudgement::Unknown(_))) {
            return Verdict::error(&l.meta, r.clone());
        }
        let good: Vec<&str> = judged.iter().filter_map(|j| if let CertJudgement::Good(m) = j { Some(m.as_str()) } else { None }).collect();
        Verdict::pass(&l.meta, format!("certificate(s): {}", good.join("; ")), observed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::elbv2::{Action, Rule};
    use crate::model::Observed;

    fn act(action_type: &str, redirect_protocol: Option<&str>, fixed_response_body: Option<bool>) -> Action {
        Action { action_type: action_type.into(), redirect_protocol: redirect_protocol.map(str::to_string), fixed_response_body, target_group_arns: vec![] }
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

    const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tapaudit-dev-web/73e2d6bc24d8a067";
    const PLAIN_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tapaudit-dev-plain/0a0b0c0d0e0f0a0b";

    fn forward(arns: &[&str]) -> Action {
        Action { target_group_arns: arns.iter().map(|a| a.to_string()).collect(), ..act("forward", None, None) }
    }

    /// The fixture plus a second target group speaking `protocol` on the same load balancer.
    fn with_second_group(protocol: &str) -> State {
        let mut s = fixture();
        let mut tg = s.elbv2.target_groups.items[TG].clone();
        tg.meta.arn = PLAIN_TG.into();
        tg.meta.id = "tapaudit-dev-plain".into();
        tg.protocol = Observed::Known(protocol.into());
        s.elbv2.target_groups.insert(tg);
        s
    }

    fn https_rules(s: &mut State) -> &mut Vec<Rule> {
        match &mut listener(s, "HTTPS").rules {
            Observed::Known(r) => r,
            Observed::Unknown(_) => panic!("fixture HTTPS listener has rules"),
        }
    }

    #[test]
    fn target_group_https() {
        assert_eq!(eval("alb-target-group-https", &fixture()), vec![Status::Pass]);
        let mut http = fixture();
        http.elbv2.target_groups.items.get_mut(TG).unwrap().protocol = Observed::Known("HTTP".into());
        assert_eq!(eval("alb-target-group-https", &http), vec![Status::Fail]);
        // a second, plaintext group nobody forwards to: not applicable
        assert_eq!(eval("alb-target-group-https", &with_second_group("HTTP")), vec![Status::Pass]);
        // adversarial: the default action forwards over HTTPS, a rule forwards /api to HTTP
        let mut rule = with_second_group("HTTP");
        https_rules(&mut rule).insert(0, self::rule("10", vec![forward(&[PLAIN_TG])]));
        assert_eq!(eval("alb-target-group-https", &rule), vec![Status::Fail, Status::Pass]);
        // ...or the default action splits its weight over both groups
        let mut weighted = with_second_group("HTTP");
        listener(&mut weighted, "HTTPS").default_actions = vec![forward(&[TG, PLAIN_TG])];
        assert_eq!(eval("alb-target-group-https", &weighted), vec![Status::Fail, Status::Pass]);
        // an HTTP listener that forwards there is alb-https-only's business, not this control's
        let mut from_http = with_second_group("HTTP");
        listener(&mut from_http, "HTTP").default_actions = vec![forward(&[PLAIN_TG])];
        assert_eq!(eval("alb-target-group-https", &from_http), vec![Status::Pass]);
        // the HTTPS listener's rules unread: unknown whether the plaintext group is behind it
        let mut unread = with_second_group("HTTP");
        listener(&mut unread, "HTTPS").rules = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("alb-target-group-https", &unread), vec![Status::Error, Status::Pass]);
        let mut no_protocol = fixture();
        no_protocol.elbv2.target_groups.items.get_mut(TG).unwrap().protocol = Observed::Unknown("DescribeTargetGroups did not report Protocol".into());
        assert_eq!(eval("alb-target-group-https", &no_protocol), vec![Status::Error]);
        let mut lambda = fixture();
        let tg = lambda.elbv2.target_groups.items.get_mut(TG).unwrap();
        tg.target_type = Observed::Known("lambda".into());
        tg.protocol = Observed::Unknown("a lambda target group has no protocol".into());
        assert_eq!(eval("alb-target-group-https", &lambda), vec![]);
        let unlisted_listeners = crate::controls::testing::unlisted(|s| &mut s.elbv2.listeners);
        assert_eq!(eval("alb-target-group-https", &unlisted_listeners), vec![Status::Error]);
        assert_eq!(eval("alb-target-group-https", &crate::controls::testing::unlisted(|s| &mut s.elbv2.target_groups)), vec![Status::Error]);
    }

    /// The control as first written (every HTTPS listener asked about every target group): the
    /// reference that the indexed one must equal.
    fn target_group_https_per_pair(state: &State) -> Vec<(String, Status, String)> {
        let verdicts = each(&state.elbv2.target_groups, "elbv2:target-group", |tg: &TargetGroup| {
            if tg.target_type.known().is_some_and(|t| t == "lambda") {
                return Verdict::not_applicable(&tg.meta, "lambda");
            }
            let (mut behind, mut undecided) = (Vec::new(), Vec::new());
            for l in state.elbv2.listeners.iter().filter(|l| l.protocol.eq_ignore_ascii_case("HTTPS")) {
                match (on_alb(state, l), forwards_to(l, &tg.meta.arn)) {
                    (Ok(false), _) | (_, Ok(false)) => {}
                    (Ok(true), Ok(true)) => behind.push(l.meta.id.clone()),
                    (Err(r), _) | (_, Err(r)) => {
                        if tg.load_balancer_arns.is_empty() || tg.load_balancer_arns.contains(&l.load_balancer_arn) {
                            undecided.push(r)
                        }
                    }
                }
            }
            match (behind.is_empty(), undecided.first()) {
                (true, Some(r)) => Verdict::error(&tg.meta, format!("whether an HTTPS listener forwards to this target group is unknown: {r}")),
                (true, None) => Verdict::not_applicable(&tg.meta, "none"),
                (false, _) => Verdict::pass(&tg.meta, behind.join(", "), json!(null)),
            }
        });
        verdicts.into_iter().map(|v| (v.resource.arn, v.status, if v.status == Status::Error { v.message } else { String::new() })).collect()
    }

    /// Many listeners and groups in every combination (rules read or not, on an ALB, an NLB or
    /// an unknown type, naming groups by default action or by rule, groups attached or not):
    /// the indexed control decides each group as the per-pair one does, listener for listener.
    #[test]
    fn target_group_https_indexed_equals_per_pair() {
        let mut s = fixture();
        let base_l = s.elbv2.listeners.iter().find(|l| l.protocol == "HTTPS").unwrap().clone();
        let base_tg = s.elbv2.target_groups.iter().next().unwrap().clone();
        let base_lb = s.elbv2.load_balancers.iter().next().unwrap().clone();
        let lbs: Vec<String> = (0..4).map(|i| format!("{}-{i}", base_lb.meta.arn)).collect();
        for (i, arn) in lbs.iter().enumerate() {
            let mut lb = base_lb.clone();
            lb.meta.arn = arn.clone();
            lb.lb_type = match i {
                0 | 1 => Observed::Known("application".into()),
                2 => Observed::Known("network".into()),
                _ => Observed::Unknown("DescribeLoadBalancers did not report Type".into()),
            };
            s.elbv2.load_balancers.insert(lb);
        }
        let groups: Vec<String> = (0..15).map(|i| format!("{}-{i:02}", base_tg.meta.arn)).collect();
        for (i, arn) in groups.iter().enumerate() {
            let mut tg = base_tg.clone();
            tg.meta.arn = arn.clone();
            tg.protocol = Observed::Known(if i % 2 == 0 { "HTTPS" } else { "HTTP" }.into());
            tg.load_balancer_arns = if i % 3 == 0 { vec![] } else { vec![lbs[i % 4].clone()] };
            s.elbv2.target_groups.insert(tg);
        }
        for i in 0..40 {
            let mut l = base_l.clone();
            l.meta.arn = format!("{}-{i:02}", base_l.meta.arn);
            l.meta.id = format!("listener-{i:02}");
            // one in five on a load balancer that is not in the State
            l.load_balancer_arn =
                if i % 5 == 4 { "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/gone/1".into() } else { lbs[i % 4].clone() };
            l.default_actions = vec![forward(&[groups[i % 6].as_str()])];
            l.rules = if i % 3 == 1 {
                Observed::Unknown("AccessDenied".into())
            } else {
                Observed::Known(vec![rule("10", vec![forward(&[groups[6 + (i * 7) % 5].as_str()])])])
            };
            s.elbv2.listeners.insert(l);
        }
        let indexed: Vec<(String, Status, String)> =
            eval_verdicts(&s).into_iter().map(|(a, st, m)| (a, st, if st == Status::Error { m } else { String::new() })).collect();
        let reference = target_group_https_per_pair(&s);
        assert_eq!(indexed, reference);
        for st in [Status::Pass, Status::Fail, Status::Error, Status::NotApplicable] {
            let reference_status = if st == Status::Fail { Status::Pass } else { st };
            assert!(reference.iter().any(|(_, s, _)| *s == reference_status), "the mix has a {reference_status:?} group");
        }
    }

    /// (arn, status, message) of the indexed control, with a fail counted as the reference's
    /// pass (the reference stops at "some HTTPS listener forwards here").
    fn eval_verdicts(s: &State) -> Vec<(String, Status, String)> {
        super::target_group_https(s, &Params::default())
            .into_iter()
            .map(|v| (v.resource.arn, if v.status == Status::Fail { Status::Pass } else { v.status }, v.message))
            .collect()
    }

    const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/8c3a1f52-6e2b-4d1c-9a57-2f0e4b7d9c11";

    fn cert(s: &mut State) -> &mut Certificate {
        s.elbv2.certificates.items.get_mut(CERT).expect("fixture has the listener certificate")
    }

    #[test]
    fn certificate_valid() {
        assert_eq!(eval("alb-certificate-valid", &fixture()), vec![Status::Pass]);
        for status in ["PENDING_VALIDATION", "EXPIRED", "REVOKED", "INACTIVE", "FAILED"] {
            let mut s = fixture();
            cert(&mut s).status = Observed::Known(status.into());
            assert_eq!(eval("alb-certificate-valid", &s), vec![Status::Fail], "{status}");
        }
        // 29 days left (TEST_NOW is 2026-11-22): fail; 31: pass
        let mut soon = fixture();
        cert(&mut soon).not_after = Observed::Known("2026-12-21T00:00:00Z".into());
        assert_eq!(eval("alb-certificate-valid", &soon), vec![Status::Fail]);
        cert(&mut soon).not_after = Observed::Known("2026-12-23T00:00:00Z".into());
        assert_eq!(eval("alb-certificate-valid", &soon), vec![Status::Pass]);
        // adversarial: the default certificate is fine, an additional one has expired
        let mut extra = fixture();
        let mut old = extra.elbv2.certificates.items[CERT].clone();
        old.meta.arn = format!("{CERT}-old");
        old.not_after = Observed::Known("2026-10-01T00:00:00Z".into());
        extra.elbv2.certificates.insert(old);
        listener(&mut extra, "HTTPS").certificate_arns = Observed::Known(vec![CERT.into(), format!("{CERT}-old")]);
        assert_eq!(eval("alb-certificate-valid", &extra), vec![Status::Fail]);
        let mut none = fixture();
        listener(&mut none, "HTTPS").certificate_arns = Observed::Known(vec![]);
        assert_eq!(eval("alb-certificate-valid", &none), vec![Status::Fail]);
        // unknowns: the listener's certificates, the certificate's status or expiry, an IAM certificate
        let mut unread = fixture();
        listener(&mut unread, "HTTPS").certificate_arns = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("alb-certificate-valid", &unread), vec![Status::Error]);
        let mut status = fixture();
        cert(&mut status).status = Observed::Unknown("acm DescribeCertificate failed: AccessDenied".into());
        assert_eq!(eval("alb-certificate-valid", &status), vec![Status::Error]);
        let mut expiry = fixture();
        cert(&mut expiry).not_after = Observed::Unknown("DescribeCertificate did not report NotAfter".into());
        assert_eq!(eval("alb-certificate-valid", &expiry), vec![Status::Error]);
        let mut iam = fixture();
        listener(&mut iam, "HTTPS").certificate_arns = Observed::Known(vec!["arn:aws:iam::123456789012:server-certificate/web".into()]);
        assert_eq!(eval("alb-certificate-valid", &iam), vec![Status::Error]);
        let missing = crate::controls::testing::unlisted(|s| &mut s.elbv2.certificates);
        assert_eq!(eval("alb-certificate-valid", &missing), vec![Status::Error], "certificates not read in the region");
        assert_eq!(eval("alb-certificate-valid", &crate::controls::testing::unlisted(|s| &mut s.elbv2.listeners)), vec![Status::Error]);
    }

    #[test]
    fn access_logs_name_their_bucket() {
        let mut no_bucket = fixture();
        if let Observed::Known(a) = &mut lb(&mut no_bucket).attributes {
            a.remove("access_logs.s3.bucket");
        }
        assert_eq!(eval("alb-access-logs", &no_bucket), vec![Status::Error]);
    }
}
