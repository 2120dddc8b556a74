//! ELBv2: load balancers (tags in batches of 20), their attributes and listeners.

use super::{fan_out, tag_map, Ctx};
use crate::model::elbv2::*;
use crate::model::Observed;
use std::collections::BTreeMap;

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
    let mut tags: BTreeMap<String, Observed<BTreeMap<String, String>>> = BTreeMap::new();
    let arns: Vec<String> = lbs.iter().filter_map(|l| l.load_balancer_arn().map(str::to_string)).collect();
    for chunk in arns.chunks(20) {
        match ctx.call("elbv2", "DescribeTags", None, elb.describe_tags().set_resource_arns(Some(chunk.to_vec())).send()).await {
            Ok(d) => {
                for td in d.tag_descriptions() {
                    let m = tag_map(td.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())));
                    tags.insert(td.resource_arn().unwrap_or_default().to_string(), Observed::Known(m));
                }
            }
            Err(e) => {
                for a in chunk {
                    tags.insert(a.clone(), Observed::Unknown(e.clone()));
                }
            }
        }
    }
    let lbs: Vec<_> = lbs
        .into_iter()
        .map(|l| {
            let t = tags.get(l.load_balancer_arn().unwrap_or_default()).cloned().unwrap_or_else(|| Observed::Known(BTreeMap::new()));
            (l, t)
        })
        .filter(|(_, t)| ctx.scope.wants(t))
        .collect();
    let found = fan_out(ctx, lbs, |(l, t)| async move {
        let arn = l.load_balancer_arn().unwrap_or_default().to_string();
        let (attrs, listeners) = tokio::join!(
            ctx.call("elbv2", "DescribeLoadBalancerAttributes", Some(&arn), elb.describe_load_balancer_attributes().load_balancer_arn(&arn).send()),
            ctx.pages("elbv2", "DescribeListeners", elb.describe_listeners().load_balancer_arn(&arn).into_paginator().send()),
        );
        let lb = LoadBalancer {
            meta: ctx.meta("elbv2:load-balancer", l.load_balancer_name().unwrap_or_default(), arn.clone(), l.load_balancer_name().map(str::to_string), t.clone()),
            lb_type: l.r#type().map(|x| x.as_str().to_string()).unwrap_or_default(),
            scheme: l.scheme().map(|x| x.as_str().to_string()).unwrap_or_default(),
            vpc_id: l.vpc_id().map(str::to_string),
            security_groups: l.security_groups().to_vec(),
            attributes: attrs
                .map(|a| a.attributes().iter().filter_map(|x| Some((x.key()?.to_string(), x.value().unwrap_or_default().to_string()))).collect())
                .into(),
        };
        let listeners = listeners.map(|pages| {
            pages
                .iter()
                .flat_map(|p| p.listeners().to_vec())
                .map(|li| Listener {
                    meta: ctx.meta(
                        "elbv2:listener",
                        &format!("{}:{}", l.load_balancer_name().unwrap_or_default(), li.port().unwrap_or(0)),
                        li.listener_arn().unwrap_or_default().to_string(),
                        None,
                        t.clone(),
                    ),
                    load_balancer_arn: arn.clone(),
                    protocol: li.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
                    port: li.port().unwrap_or(0),
                    ssl_policy: li.ssl_policy().map(str::to_string),
                    default_actions: li
                        .default_actions()
                        .iter()
                        .map(|a| Action {
                            action_type: a.r#type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                            redirect_protocol: a.redirect_config().and_then(|r| r.protocol()).map(str::to_string),
                        })
                        .collect(),
                })
                .collect::<Vec<_>>()
        });
        (lb, listeners)
    })
    .await;
    for (lb, listeners) in found {
        match listeners {
            Ok(ls) => ls.into_iter().for_each(|li| out.listeners.insert(li)),
            Err(e) => out.listeners.fail(&ctx.region, format!("{}: {e}", lb.meta.id)),
        }
        out.load_balancers.insert(lb);
    }
    out
}
