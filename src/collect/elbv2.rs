//! ELBv2: load balancers (tags in batches of 20), their attributes and listeners, and the rules
//! of HTTP listeners (every page of DescribeRules: a rule that forwards serves plaintext).

use super::{fan_out, reported, tag_map, Ctx};
use crate::model::elbv2::*;
use crate::model::Observed;
use aws_sdk_elasticloadbalancingv2::types::{Action as SdkAction, Listener as SdkListener, LoadBalancer as SdkLoadBalancer};
use std::collections::BTreeMap;

type Tags = Observed<BTreeMap<String, String>>;

/// SDK action → model; Err when it has no type (a rule or listener we cannot judge).
fn action(a: &SdkAction) -> Result<Action, String> {
    let Some(t) = a.r#type() else { return Err("an action without Type".into()) };
    Ok(Action {
        action_type: t.as_str().to_string(),
        redirect_protocol: a.redirect_config().and_then(|r| r.protocol()).map(str::to_string),
        fixed_response_body: a.fixed_response_config().map(|f| f.message_body().is_some_and(|b| !b.is_empty())),
    })
}

fn actions(list: &[SdkAction]) -> Result<Vec<Action>, String> {
    list.iter().map(action).collect()
}

/// The tags DescribeTags reported for `arn`: Unknown when the call failed or left it out.
fn tags_of(tags: &BTreeMap<String, Tags>, arn: &str) -> Tags {
    tags.get(arn).cloned().unwrap_or_else(|| Observed::Unknown(format!("elbv2:DescribeTags returned no tag description for {arn}")))
}

async fn load_balancer_tags(ctx: &Ctx, arns: &[String]) -> BTreeMap<String, Tags> {
    let elb = &ctx.clients.elbv2;
    let mut tags = BTreeMap::new();
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

/// The rules of an HTTP listener, every page.
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
        rules: Observed::Unknown("not read: rules are read for HTTP listeners only".into()),
    })
}

pub async fn collect(ctx: &Ctx) -> Elbv2 {
    let elb = &ctx.clients.elbv2;
    let mut out = Elbv2::default();
    let lbs = match ctx.pages("elbv2", "DescribeLoadBalancers", elb.describe_load_balancers().into_paginator().send()).await {
        Ok(pages) => pages.iter().flat_map(|p| p.load_balancers().to_vec()).collect::<Vec<_>>(),
        Err(e) => {
            out.load_balancers.fail(&ctx.region, e.clone());
            out.listeners.fail(&ctx.region, e);
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
                out.listeners.fail(&ctx.region, reason);
            }
        }
    }
    let arns: Vec<String> = complete.iter().map(|(_, arn, _)| arn.clone()).collect();
    let tags = load_balancer_tags(ctx, &arns).await;
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
                            if x.protocol.eq_ignore_ascii_case("HTTP") {
                                x.rules = rules(ctx, &x.meta.arn).await;
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
            Err(e) => out.listeners.fail(&ctx.region, format!("{}: {e}", lb.meta.id)),
        }
        out.load_balancers.insert(lb);
    }
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
