//! ELBv2: load balancers (tags in batches of 20), their attributes and listeners, the rules of
//! HTTP and HTTPS listeners (every page of DescribeRules: a rule that forwards on HTTP serves
//! plaintext, one on HTTPS may forward to a plaintext target group), the certificates of HTTPS
//! listeners (DescribeListenerCertificates, then ACM DescribeCertificate), and target groups.

use super::{fan_out, reported, tag_map, Ctx};
use crate::model::elbv2::*;
use crate::model::Observed;
use aws_sdk_elasticloadbalancingv2::types::{Action as SdkAction, Listener as SdkListener, LoadBalancer as SdkLoadBalancer};
use std::collections::BTreeMap;
use std::collections::BTreeSet;

type Tags = Observed<BTreeMap<String, String>>;

/// SDK action → model; Err when it has no type (a rule or listener we cannot judge).
fn action(a: &SdkAction) -> Result<Action, String> {
    let Some(t) = a.r#type() else { return Err("an action without Type".into()) };
    Ok(Action {
        action_type: t.as_str().to_string(),
        redirect_protocol: a.redirect_config().and_then(|r| r.protocol()).map(str::to_string),
        fixed_response_body: a.fixed_response_config().map(|f| f.message_body().is_some_and(|b| !b.is_empty())),
        target_group_arns: forwarded_to(a),
    })
}

/// The target groups an action forwards to: TargetGroupArn, and the groups of ForwardConfig
/// ("If you specify both ForwardConfig and TargetGroupArn, you can specify only one target
/// group", https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html).
fn forwarded_to(a: &SdkAction) -> Vec<String> {
    let mut arns: BTreeSet<String> = a.target_group_arn().map(str::to_string).into_iter().collect();
    arns.extend(a.forward_config().into_iter().flat_map(|f| f.target_groups()).filter_map(|t| t.target_group_arn()).map(str::to_string));
    arns.into_iter().collect()
}

fn actions(list: &[SdkAction]) -> Result<Vec<Action>, String> {
    list.iter().map(action).collect()
}

/// The tags DescribeTags reported for `arn`: Unknown when the call failed or left it out.
fn tags_of(tags: &BTreeMap<String, Tags>, arn: &str) -> Tags {
    tags.get(arn).cloned().unwrap_or_else(|| Observed::Unknown(format!("elbv2:DescribeTags returned no tag description for {arn}")))
}

async fn resource_tags(ctx: &Ctx, arns: &[String]) -> BTreeMap<String, Tags> {
    let elb = &ctx.clients.elbv2;
    let mut tags = BTreeMap::new();
    // account-wide: no verdict reads load balancer or target group tags, so they are not read
    if ctx.scope.account_wide() {
        return arns.iter().map(|a| (a.clone(), Observed::Unknown("not read: an account-wide scan needs no load balancer tags".into()))).collect();
    }
    for chunk in arns.chunks(20) {
        match ctx.call("elbv2", "DescribeTags", None, elb.describe_tags().set_resource_arns(Some(chunk.to_vec())).send()).await {
            Ok(d) => {
                for td in d.tag_descriptions() {
                    let Some(arn) = td.resource_arn() else { continue };
                    let m = tag_map(td.tags().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or("")))));
                    tags.insert(arn.to_string(), Observed::Known(m));
                }
            }
            Err(e) => {
                for a in chunk {
                    tags.insert(a.clone(), Observed::Unknown(e.clone()));
                }
            }
        }
    }
    tags
}

/// The rules of an HTTP or HTTPS listener, every page.
async fn rules(ctx: &Ctx, listener_arn: &str) -> Observed<Vec<Rule>> {
    let elb = &ctx.clients.elbv2;
    let pages = match ctx.pages("elbv2", "DescribeRules", elb.describe_rules().listener_arn(listener_arn).into_paginator().send()).await {
        Ok(p) => p,
        Err(e) => return Observed::Unknown(e),
    };
    let mut out = Vec::new();
    for r in pages.iter().flat_map(|p| p.rules()) {
        let Some(arn) = r.rule_arn() else { return Observed::Unknown(format!("elbv2:DescribeRules returned a rule without RuleArn for {listener_arn}")) };
        match actions(r.actions()) {
            Ok(a) => out.push(Rule { arn: arn.to_string(), priority: r.priority().map(str::to_string), actions: a }),
            Err(e) => return Observed::Unknown(format!("elbv2:DescribeRules returned {e} in rule {arn}")),
        }
    }
    Observed::Known(out)
}

/// SDK listener → model (rules read separately); Err(missing fields).
fn listener(ctx: &Ctx, lb_name: &str, lb_arn: &str, li: &SdkListener, t: Tags) -> Result<Listener, Vec<&'static str>> {
    let mut missing = Vec::new();
    if li.listener_arn().is_none() {
        missing.push("ListenerArn");
    }
    if li.protocol().is_none() {
        missing.push("Protocol");
    }
    if li.port().is_none() {
        missing.push("Port");
    }
    let default_actions = actions(li.default_actions());
    if default_actions.is_err() {
        missing.push("DefaultActions[].Type");
    }
    let (Some(arn), Some(protocol), Some(port), Ok(default_actions)) = (li.listener_arn(), li.protocol(), li.port(), default_actions) else {
        return Err(missing);
    };
    Ok(Listener {
        meta: ctx.meta("elbv2:listener", &format!("{lb_name}:{port}"), arn.to_string(), None, t),
        load_balancer_arn: lb_arn.to_string(),
        protocol: protocol.as_str().to_string(),
        port,
        ssl_policy: li.ssl_policy().map(str::to_string),
        default_actions,
        rules: Observed::Unknown("not read: rules are read for HTTP and HTTPS listeners only".into()),
        certificate_arns: Observed::Unknown("not read: certificates are read for HTTPS listeners only".into()),
    })
}

/// Every certificate of an HTTPS listener (the default one and the additional ones).
async fn listener_certificates(ctx: &Ctx, listener_arn: &str) -> Observed<Vec<String>> {
    let elb = &ctx.clients.elbv2;
    let pages =
        match ctx.pages("elbv2", "DescribeListenerCertificates", elb.describe_listener_certificates().listener_arn(listener_arn).into_paginator().send()).await
        {
            Ok(p) => p,
            Err(e) => return Observed::Unknown(e),
        };
    let mut arns = BTreeSet::new();
    for c in pages.iter().flat_map(|p| p.certificates()) {
        match c.certificate_arn() {
            Some(a) => arns.insert(a.to_string()),
            None => return Observed::Unknown(format!("elbv2:DescribeListenerCertificates returned a certificate without CertificateArn for {listener_arn}")),
        };
    }
    Observed::Known(arns.into_iter().collect())
}

fn rfc3339(d: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

/// An ACM certificate (DescribeCertificate, ListTagsForCertificate); a failed describe leaves
/// every field Unknown with its reason.
async fn certificate(ctx: &Ctx, arn: String) -> Certificate {
    let acm = &ctx.clients.acm;
    // account-wide: no verdict reads a certificate's tags, so they are not read
    let list_tags = async {
        if ctx.scope.account_wide() {
            return Observed::Unknown("not read: an account-wide scan needs no certificate tags".into());
        }
        ctx.call("acm", "ListTagsForCertificate", Some(&arn), acm.list_tags_for_certificate().certificate_arn(&arn).send())
            .await
            .map(|t| tag_map(t.tags().iter().map(|t| (t.key(), t.value().unwrap_or("")))))
            .into()
    };
    let (detail, tags) = tokio::join!(ctx.call("acm", "DescribeCertificate", Some(&arn), acm.describe_certificate().certificate_arn(&arn).send()), list_tags);
    let tags: Tags = tags;
    let id = arn.rsplit('/').next().unwrap_or(&arn).to_string();
    let op = "DescribeCertificate";
    match detail.and_then(|d| d.certificate().cloned().ok_or_else(|| format!("acm:DescribeCertificate returned no Certificate for {arn}"))) {
        Err(e) => Certificate {
            meta: ctx.meta("elbv2:certificate", &id, arn.clone(), None, tags),
            status: Observed::Unknown(e.clone()),
            not_after: Observed::Unknown(e.clone()),
            key_algorithm: Observed::Unknown(e.clone()),
            cert_type: Observed::Unknown(e),
            in_use_by: vec![],
        },
        Ok(c) => Certificate {
            meta: ctx.meta("elbv2:certificate", &id, arn.clone(), c.domain_name().map(str::to_string), tags),
            status: reported(c.status().map(|s| s.as_str().to_string()), op, "Status"),
            not_after: reported(rfc3339(c.not_after()), op, "NotAfter"),
            key_algorithm: reported(c.key_algorithm().map(|k| k.as_str().to_string()), op, "KeyAlgorithm"),
            cert_type: reported(c.r#type().map(|t| t.as_str().to_string()), op, "Type"),
            in_use_by: c.in_use_by().to_vec(),
        },
    }
}

/// Target groups, tagged and scoped like load balancers.
async fn target_groups(ctx: &Ctx, out: &mut Elbv2) {
    let elb = &ctx.clients.elbv2;
    let groups = match ctx.pages("elbv2", "DescribeTargetGroups", elb.describe_target_groups().page_size(400).into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.target_groups().to_vec()).collect::<Vec<_>>(),
        Err(e) => return out.target_groups.fail(&ctx.region, e),
    };
    let mut complete = Vec::new();
    for g in groups {
        match (g.target_group_arn(), g.target_group_name()) {
            (Some(arn), Some(name)) => complete.push((arn.to_string(), name.to_string(), g)),
            (arn, name) => {
                let missing: Vec<&str> =
                    [("TargetGroupArn", arn.is_none()), ("TargetGroupName", name.is_none())].iter().filter(|(_, m)| *m).map(|(f, _)| *f).collect();
                let reason = ctx.incomplete("elbv2", "DescribeTargetGroups", name.or(arn).unwrap_or("a target group"), &missing);
                out.target_groups.fail(&ctx.region, reason);
            }
        }
    }
    let arns: Vec<String> = complete.iter().map(|(arn, _, _)| arn.clone()).collect();
    let tags = resource_tags(ctx, &arns).await;
    for (arn, name, g) in complete {
        let t = tags_of(&tags, &arn);
        if !ctx.scope.wants(&t) {
            continue;
        }
        let target_type = reported(g.target_type().map(|x| x.as_str().to_string()), "DescribeTargetGroups", "TargetType");
        let protocol = match (g.protocol(), target_type.known().map(String::as_str)) {
            (Some(p), _) => Observed::Known(p.as_str().to_string()),
            (None, Some("lambda")) => Observed::Unknown("a lambda target group has no protocol".into()),
            (None, _) => Observed::Unknown("DescribeTargetGroups did not report Protocol".into()),
        };
        out.target_groups.insert(TargetGroup {
            meta: ctx.meta("elbv2:target-group", &name, arn.clone(), Some(name.clone()), t),
            protocol,
            port: g.port(),
            target_type,
            vpc_id: g.vpc_id().map(str::to_string),
            health_check_protocol: g.health_check_protocol().map(|p| p.as_str().to_string()),
            load_balancer_arns: g.load_balancer_arns().to_vec(),
        });
    }
}

pub async fn collect(ctx: &Ctx) -> Elbv2 {
    let elb = &ctx.clients.elbv2;
    let mut out = Elbv2::default();
    let lbs = match ctx.pages("elbv2", "DescribeLoadBalancers", elb.describe_load_balancers().page_size(400).into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.load_balancers().to_vec()).collect::<Vec<_>>(),
        Err(e) => {
            out.load_balancers.fail(&ctx.region, e.clone());
            out.listeners.fail(&ctx.region, e.clone());
            out.certificates.fail(&ctx.region, e);
            target_groups(ctx, &mut out).await;
            return out;
        }
    };
    let mut complete: Vec<(SdkLoadBalancer, String, String)> = Vec::new();
    for l in lbs {
        match (l.load_balancer_arn(), l.load_balancer_name()) {
            (Some(arn), Some(name)) => {
                let (arn, name) = (arn.to_string(), name.to_string());
                complete.push((l, arn, name));
            }
            (arn, name) => {
                let missing: Vec<&str> =
                    [("LoadBalancerArn", arn.is_none()), ("LoadBalancerName", name.is_none())].iter().filter(|(_, m)| *m).map(|(f, _)| *f).collect();
                let reason = ctx.incomplete("elbv2", "DescribeLoadBalancers", name.or(arn).unwrap_or("a load balancer"), &missing);
                out.load_balancers.fail(&ctx.region, reason.clone());
                out.listeners.fail(&ctx.region, reason.clone());
                out.certificates.fail(&ctx.region, reason);
            }
        }
    }
    let arns: Vec<String> = complete.iter().map(|(_, arn, _)| arn.clone()).collect();
    let tags = resource_tags(ctx, &arns).await;
    let in_scope: Vec<_> = complete
        .into_iter()
        .map(|(l, arn, name)| {
            let t = tags_of(&tags, &arn);
            (l, arn, name, t)
        })
        .filter(|(_, _, _, t)| ctx.scope.wants(t))
        .collect();
    let found = fan_out(ctx, in_scope, |(l, arn, name, t)| async move {
        let (attrs, listeners) = tokio::join!(
            ctx.call("elbv2", "DescribeLoadBalancerAttributes", Some(&arn), elb.describe_load_balancer_attributes().load_balancer_arn(&arn).send()),
            ctx.pages("elbv2", "DescribeListeners", elb.describe_listeners().load_balancer_arn(&arn).into_paginator().send()),
        );
        let lb = LoadBalancer {
            meta: ctx.meta("elbv2:load-balancer", &name, arn.clone(), Some(name.clone()), t.clone()),
            lb_type: reported(l.r#type().map(|x| x.as_str().to_string()), "DescribeLoadBalancers", "Type"),
            scheme: reported(l.scheme().map(|x| x.as_str().to_string()), "DescribeLoadBalancers", "Scheme"),
            vpc_id: l.vpc_id().map(str::to_string),
            security_groups: l.security_groups().to_vec(),
            // an attribute reported without a value is left out: the controls treat a missing
            // attribute as unread
            attributes: attrs.map(|a| a.attributes().iter().filter_map(|x| Some((x.key()?.to_string(), x.value()?.to_string()))).collect()).into(),
        };
        let listeners: Result<Vec<Result<Listener, String>>, String> = match listeners {
            Err(e) => Err(e),
            Ok(pages) => {
                let mut ls = Vec::new();
                for li in pages.iter().flat_map(|p| p.listeners()) {
                    match listener(ctx, &name, &arn, li, t.clone()) {
                        Ok(mut x) => {
                            let https = x.protocol.eq_ignore_ascii_case("HTTPS");
                            if https || x.protocol.eq_ignore_ascii_case("HTTP") {
                                x.rules = rules(ctx, &x.meta.arn).await;
                            }
                            if https {
                                x.certificate_arns = listener_certificates(ctx, &x.meta.arn).await;
                            }
                            ls.push(Ok(x));
                        }
                        Err(missing) => {
                            ls.push(Err(ctx.incomplete("elbv2", "DescribeListeners", li.listener_arn().unwrap_or(&format!("a listener of {name}")), &missing)))
                        }
                    }
                }
                Ok(ls)
            }
        };
        (lb, listeners)
    })
    .await;
    for (lb, listeners) in found {
        match listeners {
            Ok(ls) => {
                for li in ls {
                    match li {
                        Ok(li) => out.listeners.insert(li),
                        Err(reason) => out.listeners.fail(&ctx.region, reason),
                    }
                }
            }
            Err(e) => {
                out.listeners.fail(&ctx.region, format!("{}: {e}", lb.meta.id));
                // the certificates of listeners that could not be listed are unknown too
                out.certificates.fail(&ctx.region, format!("{}: {e}", lb.meta.id));
            }
        }
        out.load_balancers.insert(lb);
    }
    // the ACM certificates the HTTPS listeners use (IAM server certificates are not ACM's)
    let acm_arns: BTreeSet<String> =
        out.listeners.iter().filter_map(|l| l.certificate_arns.known()).flatten().filter(|a| a.split(':').nth(2) == Some("acm")).cloned().collect();
    for c in fan_out(ctx, acm_arns.into_iter().collect(), |arn| certificate(ctx, arn)).await {
        out.certificates.insert(c);
    }
    target_groups(ctx, &mut out).await;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, FixedResponseActionConfig, ProtocolEnum, RedirectActionConfig};

    #[test]
    fn actions_map_type_protocol_and_body() {
        let redirect = SdkAction::builder().r#type(ActionTypeEnum::Redirect).redirect_config(RedirectActionConfig::builder().protocol("HTTPS").build()).build();
        let empty = SdkAction::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(FixedResponseActionConfig::builder().status_code("404").build())
            .build();
        let body = SdkAction::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(FixedResponseActionConfig::builder().status_code("200").message_body("hello").build())
            .build();
        let a = actions(&[redirect, empty, body]).unwrap();
        assert_eq!(a[0].redirect_protocol.as_deref(), Some("HTTPS"));
        assert_eq!(a[1].fixed_response_body, Some(false));
        assert_eq!(a[2].fixed_response_body, Some(true));
        assert!(actions(&[SdkAction::builder().build()]).is_err());
    }

    #[test]
    fn tags_missing_from_describe_tags_are_unknown() {
        let mut m = BTreeMap::new();
        m.insert("arn:a".to_string(), Observed::Known(BTreeMap::new()));
        assert_eq!(tags_of(&m, "arn:a"), Observed::Known(BTreeMap::new()));
        assert!(matches!(tags_of(&m, "arn:b"), Observed::Unknown(_)));
    }

    #[test]
    fn listener_needs_arn_protocol_port() {
        let c = crate::collect::testing::ctx(|_| {});
        let t = || Observed::Known(BTreeMap::new());
        let ok = SdkListener::builder().listener_arn("arn:l").protocol(ProtocolEnum::Http).port(80).build();
        let l = listener(&c, "lb", "arn:lb", &ok, t()).unwrap();
        assert_eq!(l.meta.id, "lb:80");
        assert!(matches!(l.rules, Observed::Unknown(_)));
        let bad = SdkListener::builder().listener_arn("arn:l").build();
        assert_eq!(listener(&c, "lb", "arn:lb", &bad, t()).unwrap_err(), vec!["Protocol", "Port"]);
    }
}
