//! EC2/VPC: VPCs (+ DNS attributes), subnets, route tables, gateways, security groups (rules
//! come with DescribeSecurityGroups), flow logs. One paginated list per type; with a stack
//! scope the untagged default security group and main route table of in-scope VPCs are kept.

use super::{fan_out, tag_map, Ctx};
use crate::model::ec2::*;
use crate::model::{Collection, Observed};
use aws_sdk_ec2::types::{IpPermission, Tag, VpcAttributeName};
use std::collections::{BTreeMap, BTreeSet};

fn tags(t: &[Tag]) -> Observed<BTreeMap<String, String>> {
    Observed::Known(tag_map(t.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))))
}

fn name_of(t: &[Tag]) -> Option<String> {
    t.iter().find(|t| t.key() == Some("Name")).and_then(|t| t.value()).map(str::to_string)
}

pub fn rules(perms: &[IpPermission]) -> Vec<Rule> {
    let mut out = BTreeSet::new();
    for p in perms {
        let protocol = p.ip_protocol().unwrap_or("-1").to_string();
        let (from, to) = if protocol == "-1" { (None, None) } else { (p.from_port(), p.to_port()) };
        let mut push = |peer: String| {
            out.insert(Rule { protocol: protocol.clone(), from_port: from, to_port: to, peer });
        };
        p.ip_ranges().iter().filter_map(|r| r.cidr_ip()).for_each(|c| push(format!("cidr:{c}")));
        p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()).for_each(|c| push(format!("cidr6:{c}")));
        p.user_id_group_pairs().iter().filter_map(|g| g.group_id()).for_each(|g| push(format!("sg:{g}")));
        p.prefix_list_ids().iter().filter_map(|g| g.prefix_list_id()).for_each(|g| push(format!("pl:{g}")));
    }
    out.into_iter().collect()
}

fn in_scope(ctx: &Ctx, t: &Observed<BTreeMap<String, String>>, vpc: &str, vpcs: &BTreeSet<String>, vpc_part: bool) -> bool {
    ctx.scope.wants(t) || (vpc_part && vpcs.contains(vpc))
}

pub async fn collect(ctx: &Ctx) -> Ec2 {
    let e = &ctx.clients.ec2;
    let (vpcs, subnets, rts, igws, nats, sgs, fls) = tokio::join!(
        ctx.pages("ec2", "DescribeVpcs", e.describe_vpcs().into_paginator().send()),
        ctx.pages("ec2", "DescribeSubnets", e.describe_subnets().into_paginator().send()),
        ctx.pages("ec2", "DescribeRouteTables", e.describe_route_tables().into_paginator().send()),
        ctx.pages("ec2", "DescribeInternetGateways", e.describe_internet_gateways().into_paginator().send()),
        ctx.pages("ec2", "DescribeNatGateways", e.describe_nat_gateways().into_paginator().send()),
        ctx.pages("ec2", "DescribeSecurityGroups", e.describe_security_groups().into_paginator().send()),
        ctx.pages("ec2", "DescribeFlowLogs", e.describe_flow_logs().into_paginator().send()),
    );
    let mut out = Ec2::default();
    let mut scoped_vpcs = BTreeSet::new();
    match vpcs {
        Err(r) => out.vpcs.fail(&ctx.region, r),
        Ok(pages) => {
            let list: Vec<_> = pages.iter().flat_map(|p| p.vpcs().to_vec()).filter(|v| ctx.scope.wants(&tags(v.tags()))).collect();
            let found = fan_out(ctx, list, |v| async move {
                let id = v.vpc_id().unwrap_or_default().to_string();
                let attr = |a: VpcAttributeName| {
                    let id = id.clone();
                    async move {
                        let r = ctx.call("ec2", "DescribeVpcAttribute", Some(&id), e.describe_vpc_attribute().vpc_id(&id).attribute(a.clone()).send()).await;
                        Observed::from(r.map(|o| {
                            let v = if a == VpcAttributeName::EnableDnsHostnames { o.enable_dns_hostnames() } else { o.enable_dns_support() };
                            v.and_then(|b| b.value()).unwrap_or(false)
                        }))
                    }
                };
                let (dns_support, dns_hostnames) = tokio::join!(attr(VpcAttributeName::EnableDnsSupport), attr(VpcAttributeName::EnableDnsHostnames));
                Vpc {
                    meta: ctx.meta("ec2:vpc", &id, ctx.arn("ec2", &format!("vpc/{id}")), name_of(v.tags()), tags(v.tags())),
                    cidr: v.cidr_block().unwrap_or_default().to_string(),
                    is_default: v.is_default().unwrap_or(false),
                    dns_support,
                    dns_hostnames,
                }
            })
            .await;
            for v in found {
                scoped_vpcs.insert(v.meta.id.clone());
                out.vpcs.insert(v);
            }
        }
    }
    fill(ctx, &mut out.subnets, subnets, |p| p.subnets().to_vec(), |s| {
        let t = tags(s.tags());
        if !in_scope(ctx, &t, s.vpc_id().unwrap_or_default(), &scoped_vpcs, false) {
            return None;
        }
        let id = s.subnet_id().unwrap_or_default();
        Some(Subnet {
            meta: ctx.meta("ec2:subnet", id, s.subnet_arn().map(str::to_string).unwrap_or_else(|| ctx.arn("ec2", &format!("subnet/{id}"))), name_of(s.tags()), t),
            vpc_id: s.vpc_id().unwrap_or_default().to_string(),
            cidr: s.cidr_block().unwrap_or_default().to_string(),
            availability_zone: s.availability_zone().unwrap_or_default().to_string(),
            map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
        })
    });
    fill(ctx, &mut out.route_tables, rts, |p| p.route_tables().to_vec(), |rt| {
        let t = tags(rt.tags());
        let vpc = rt.vpc_id().unwrap_or_default();
        let main = rt.associations().iter().any(|a| a.main().unwrap_or(false));
        if !in_scope(ctx, &t, vpc, &scoped_vpcs, true) {
            return None;
        }
        let id = rt.route_table_id().unwrap_or_default();
        Some(RouteTable {
            meta: ctx.meta("ec2:route-table", id, ctx.arn("ec2", &format!("route-table/{id}")), name_of(rt.tags()), t),
            vpc_id: vpc.to_string(),
            main,
            subnet_ids: rt.associations().iter().filter_map(|a| a.subnet_id().map(str::to_string)).collect(),
            routes: rt
                .routes()
                .iter()
                .map(|r| Route {
                    destination: r.destination_cidr_block().or(r.destination_ipv6_cidr_block()).or(r.destination_prefix_list_id()).unwrap_or_default().to_string(),
                    target: r
                        .gateway_id()
                        .or(r.nat_gateway_id())
                        .or(r.transit_gateway_id())
                        .or(r.vpc_peering_connection_id())
                        .or(r.network_interface_id())
                        .or(r.instance_id())
                        .or(r.egress_only_internet_gateway_id())
                        .unwrap_or_default()
                        .to_string(),
                })
                .collect(),
        })
    });
    fill(ctx, &mut out.internet_gateways, igws, |p| p.internet_gateways().to_vec(), |g| {
        let t = tags(g.tags());
        let vpcs: Vec<String> = g.attachments().iter().filter_map(|a| a.vpc_id().map(str::to_string)).collect();
        if !ctx.scope.wants(&t) {
            return None;
        }
        let id = g.internet_gateway_id().unwrap_or_default();
        Some(InternetGateway { meta: ctx.meta("ec2:internet-gateway", id, ctx.arn("ec2", &format!("internet-gateway/{id}")), name_of(g.tags()), t), vpc_ids: vpcs })
    });
    fill(ctx, &mut out.nat_gateways, nats, |p| p.nat_gateways().to_vec(), |n| {
        let t = tags(n.tags());
        let state = n.state().map(|s| s.as_str().to_string()).unwrap_or_default();
        if state == "deleted" || state == "deleting" || !ctx.scope.wants(&t) {
            return None;
        }
        let id = n.nat_gateway_id().unwrap_or_default();
        Some(NatGateway {
            meta: ctx.meta("ec2:nat-gateway", id, ctx.arn("ec2", &format!("natgateway/{id}")), name_of(n.tags()), t),
            vpc_id: n.vpc_id().unwrap_or_default().to_string(),
            subnet_id: n.subnet_id().unwrap_or_default().to_string(),
            state,
            allocation_ids: n.nat_gateway_addresses().iter().filter_map(|a| a.allocation_id().map(str::to_string)).collect(),
        })
    });
    fill(ctx, &mut out.security_groups, sgs, |p| p.security_groups().to_vec(), |g| {
        let t = tags(g.tags());
        let default = g.group_name() == Some("default");
        if !in_scope(ctx, &t, g.vpc_id().unwrap_or_default(), &scoped_vpcs, default) {
            return None;
        }
        let id = g.group_id().unwrap_or_default();
        Some(SecurityGroup {
            meta: ctx.meta("ec2:security-group", id, g.security_group_arn().map(str::to_string).unwrap_or_else(|| ctx.arn("ec2", &format!("security-group/{id}"))), g.group_name().map(str::to_string), t),
            group_name: g.group_name().unwrap_or_default().to_string(),
            vpc_id: g.vpc_id().unwrap_or_default().to_string(),
            ingress: rules(g.ip_permissions()),
            egress: rules(g.ip_permissions_egress()),
        })
    });
    fill(ctx, &mut out.flow_logs, fls, |p| p.flow_logs().to_vec(), |f| {
        let t = tags(f.tags());
        let target = f.resource_id().unwrap_or_default();
        if !(ctx.scope.wants(&t) || scoped_vpcs.contains(target)) {
            return None;
        }
        let id = f.flow_log_id().unwrap_or_default();
        Some(FlowLog {
            meta: ctx.meta("ec2:flow-log", id, ctx.arn("ec2", &format!("vpc-flow-log/{id}")), name_of(f.tags()), t),
            resource_id: target.to_string(),
            traffic_type: f.traffic_type().map(|x| x.as_str().to_string()).unwrap_or_default(),
            destination_type: f.log_destination_type().map(|x| x.as_str().to_string()).unwrap_or_else(|| "cloud-watch-logs".into()),
            destination: f.log_destination().or(f.log_group_name()).unwrap_or_default().to_string(),
            status: f.flow_log_status().unwrap_or_default().to_string(),
        })
    });
    out
}

/// Map a listing into a collection, or record its failure.
fn fill<P, I, T: crate::model::Resource>(ctx: &Ctx, coll: &mut Collection<T>, pages: Result<Vec<P>, String>, items: impl Fn(&P) -> Vec<I>, map: impl Fn(&I) -> Option<T>) {
    match pages {
        Err(r) => coll.fail(&ctx.region, r),
        Ok(pages) => {
            for p in &pages {
                for i in items(p) {
                    if let Some(t) = map(&i) {
                        coll.insert(t);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};

    #[test]
    fn rules_flatten_one_per_peer_and_keep_ports_and_protocols() {
        let perms = vec![
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").build())
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
                .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-1").build())
                .prefix_list_ids(PrefixListId::builder().prefix_list_id("pl-1").build())
                .build(),
            // all protocols: AWS sends -1 and sometimes stray ports, which mean nothing here
            IpPermission::builder().ip_protocol("-1").from_port(-1).to_port(-1).ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build(),
        ];
        let r = rules(&perms);
        let peers: Vec<String> = r.iter().map(|x| x.peer.clone()).collect();
        assert_eq!(peers.len(), 6);
        for p in ["cidr:10.0.0.0/16", "cidr:0.0.0.0/0", "cidr6:::/0", "sg:sg-1", "pl:pl-1"] {
            assert!(peers.contains(&p.to_string()), "{p}");
        }
        let all = r.iter().find(|x| x.protocol == "-1").unwrap();
        assert_eq!((all.from_port, all.to_port), (None, None));
        assert!(all.is_internet() && all.all_ports() && all.covers_port(22));
        let pg = r.iter().find(|x| x.peer == "cidr6:::/0").unwrap();
        assert!(pg.is_internet() && pg.covers_port(5432) && !pg.covers_port(22));
    }
}
