//! EC2/VPC: VPCs (+ DNS attributes), subnets, route tables, gateways, security groups (rules
//! come with DescribeSecurityGroups), flow logs, and the managed prefix lists the groups'
//! rules reference (with their entries). One paginated list per type; with a stack scope the
//! untagged default security group and main route table of in-scope VPCs are kept.
//! Fail-closed: an evidence flag AWS did not return is Unknown; a resource returned without a
//! field it cannot be judged without is a collection error naming it, and its listing counts
//! as failed in that region. EBS snapshots and the EBS encryption default: `ec2/storage.rs`.

use super::{fan_out, tag_map, Ctx};
use crate::model::ec2::*;
use crate::model::{Collection, Observed};
use aws_sdk_ec2::types::{IpPermission, Tag, VpcAttributeName};
use std::collections::{BTreeMap, BTreeSet};

/// Tags as read; a tag without a key or value makes the whole set Unknown (never a guess).
fn tags(t: &[Tag]) -> Observed<BTreeMap<String, String>> {
    match t.iter().map(|t| t.key().zip(t.value())).collect::<Option<Vec<_>>>() {
        Some(pairs) => Observed::Known(tag_map(pairs)),
        None => Observed::Unknown("ec2 returned a tag without a key or value".into()),
    }
}

fn name_of(t: &[Tag]) -> Option<String> {
    t.iter().find(|t| t.key() == Some("Name")).and_then(|t| t.value()).map(str::to_string)
}

/// A field the resource cannot be judged without: its absence makes the resource incomplete.
fn need<'a>(v: Option<&'a str>, what: &str) -> Result<&'a str, String> {
    v.ok_or_else(|| format!("no {what}"))
}

/// [`need`] for a resource whose id is known: the error names it.
fn need_of<'a>(id: &str, v: Option<&'a str>, what: &str) -> Result<&'a str, String> {
    v.ok_or_else(|| format!("{id}: no {what}"))
}

/// An evidence flag: Unknown (with what and where) when AWS did not return it.
fn flag(v: Option<bool>, operation: &str, field: &str, id: &str) -> Observed<bool> {
    match v {
        Some(b) => Observed::Known(b),
        None => Observed::Unknown(format!("ec2:{operation} returned no {field} for {id}")),
    }
}

/// Flatten IpPermissions into one rule per peer. Err (what is missing) when a permission or a
/// peer is returned incompletely: a group whose rules are partly unknown cannot be judged.
/// Ports are kept as returned, except that for `-1` (all protocols) they are dropped: per the
/// EC2 API reference (IpPermission), `-1` "allows traffic on all ports, regardless of any
/// port range you specify".
pub fn rules(perms: &[IpPermission]) -> Result<Vec<Rule>, String> {
    let mut out = BTreeSet::new();
    for p in perms {
        let protocol = need(p.ip_protocol(), "IpProtocol on a permission")?.to_string();
        let (from, to) = if protocol == "-1" { (None, None) } else { (p.from_port(), p.to_port()) };
        let mut push = |peer: String| {
            out.insert(Rule { protocol: protocol.clone(), from_port: from, to_port: to, peer });
        };
        for r in p.ip_ranges() {
            push(format!("cidr:{}", need(r.cidr_ip(), "CidrIp on an IPv4 range")?));
        }
        for r in p.ipv6_ranges() {
            push(format!("cidr6:{}", need(r.cidr_ipv6(), "CidrIpv6 on an IPv6 range")?));
        }
        for g in p.user_id_group_pairs() {
            push(format!("sg:{}", need(g.group_id(), "GroupId on a security-group peer")?));
        }
        for g in p.prefix_list_ids() {
            push(format!("pl:{}", need(g.prefix_list_id(), "PrefixListId on a prefix-list peer")?));
        }
    }
    Ok(out.into_iter().collect())
}

/// The prefix lists the rules reference (`pl:pl-…` peers).
pub fn referenced_prefix_lists<'a>(groups: impl IntoIterator<Item = &'a SecurityGroup>) -> BTreeSet<String> {
    groups.into_iter().flat_map(|g| g.ingress.iter().chain(&g.egress)).filter_map(|r| r.peer.strip_prefix("pl:").map(str::to_string)).collect()
}

fn in_scope(ctx: &Ctx, t: &Observed<BTreeMap<String, String>>, vpc: &str, vpcs: &BTreeSet<String>, vpc_part: bool) -> bool {
    ctx.scope.wants(t) || (vpc_part && vpcs.contains(vpc))
}

/// The route's target. Err when a route names none of the target kinds DescribeRouteTables
/// knows: what it routes to (an internet gateway?) would be unknown.
fn route_target(r: &aws_sdk_ec2::types::Route) -> Result<String, String> {
    r.gateway_id()
        .or(r.nat_gateway_id())
        .or(r.transit_gateway_id())
        .or(r.vpc_peering_connection_id())
        .or(r.network_interface_id())
        .or(r.instance_id())
        .or(r.egress_only_internet_gateway_id())
        .or(r.carrier_gateway_id())
        .or(r.local_gateway_id())
        .or(r.core_network_arn())
        .map(str::to_string)
        .ok_or_else(|| "a route without a target".into())
}

/// Main flag of a route table: true when an association says Main, Unknown when an association
/// does not say. A table without associations is not the main table (the main table is the one
/// with a `Main` association: EC2 API reference, RouteTableAssociation).
fn main_flag(rt: &aws_sdk_ec2::types::RouteTable, id: &str) -> Observed<bool> {
    let mut main = false;
    for a in rt.associations() {
        match a.main() {
            Some(m) => main |= m,
            None => return Observed::Unknown(format!("ec2:DescribeRouteTables returned an association without Main for {id}")),
        }
    }
    Observed::Known(main)
}

fn flow_log(ctx: &Ctx, f: &aws_sdk_ec2::types::FlowLog, scoped_vpcs: &BTreeSet<String>) -> Result<Option<FlowLog>, String> {
    let t = tags(f.tags());
    let id = need(f.flow_log_id(), "FlowLogId")?;
    let target = need_of(id, f.resource_id(), "ResourceId")?;
    if !(ctx.scope.wants(&t) || scoped_vpcs.contains(target)) {
        return Ok(None);
    }
    let traffic_type = match f.traffic_type() {
        Some(x) => x.as_str().to_string(),
        // "TrafficType ... not applicable to transit gateway flow logs" (EC2 API reference,
        // FlowLog): those watch no VPC, subnet or ENI, so no VPC control needs them.
        None if target.starts_with("tgw-") => return Ok(None),
        None => return Err(format!("{id}: no TrafficType")),
    };
    let log_group_name = f.log_group_name().map(str::to_string);
    let destination_type = match (f.log_destination_type(), &log_group_name) {
        (Some(x), _) => x.as_str().to_string(),
        // CreateFlowLogs: "LogDestinationType ... Default: cloud-watch-logs"; flow logs created
        // before the field existed name only their LogGroupName.
        (None, Some(_)) => "cloud-watch-logs".to_string(),
        (None, None) => return Err(format!("{id}: no LogDestinationType and no LogGroupName")),
    };
    let destination = f.log_destination().or(log_group_name.as_deref()).ok_or_else(|| format!("{id}: no LogDestination"))?.to_string();
    Ok(Some(FlowLog {
        meta: ctx.meta("ec2:flow-log", id, ctx.arn("ec2", &format!("vpc-flow-log/{id}")), name_of(f.tags()), t),
        resource_id: target.to_string(),
        traffic_type,
        destination_type,
        destination,
        status: need_of(id, f.flow_log_status(), "FlowLogStatus")?.to_string(),
        deliver_logs_status: match f.deliver_logs_status() {
            Some(s) => Observed::Known(s.to_string()),
            None => Observed::Unknown(format!("ec2:DescribeFlowLogs returned no DeliverLogsStatus for {id}")),
        },
        deliver_logs_error: f.deliver_logs_error_message().map(str::to_string),
        log_group_name,
    }))
}

mod storage;

pub async fn collect(ctx: &Ctx) -> Ec2 {
    let (mut out, (snapshots, ebs_defaults)) = tokio::join!(network(ctx), storage::collect(ctx));
    out.snapshots = snapshots;
    out.ebs_defaults = ebs_defaults;
    out
}

/// VPCs, subnets, route tables, gateways, security groups, flow logs and prefix lists.
async fn network(ctx: &Ctx) -> Ec2 {
    let e = &ctx.clients.ec2;
    let (vpcs, subnets, rts, igws, nats, sgs, fls) = tokio::join!(
        ctx.pages("ec2", "DescribeVpcs", e.describe_vpcs().max_results(1000).into_paginator().send()),
        ctx.pages("ec2", "DescribeSubnets", e.describe_subnets().max_results(1000).into_paginator().send()),
        ctx.pages("ec2", "DescribeRouteTables", e.describe_route_tables().max_results(100).into_paginator().send()),
        ctx.pages("ec2", "DescribeInternetGateways", e.describe_internet_gateways().max_results(1000).into_paginator().send()),
        ctx.pages("ec2", "DescribeNatGateways", e.describe_nat_gateways().max_results(1000).into_paginator().send()),
        ctx.pages("ec2", "DescribeSecurityGroups", e.describe_security_groups().max_results(1000).into_paginator().send()),
        ctx.pages("ec2", "DescribeFlowLogs", e.describe_flow_logs().max_results(1000).into_paginator().send()),
    );
    let mut out = Ec2::default();
    let mut scoped_vpcs = BTreeSet::new();
    match vpcs {
        Err(r) => out.vpcs.fail(&ctx.region, r),
        Ok(pages) => {
            let mut list = Vec::new();
            for v in pages.iter().flat_map(|p| p.vpcs().to_vec()) {
                match (v.vpc_id(), v.cidr_block()) {
                    (Some(_), Some(_)) if ctx.scope.wants(&tags(v.tags())) => list.push(v),
                    (Some(_), Some(_)) => {}
                    (id, _) => incomplete(ctx, &mut out.vpcs, "DescribeVpcs", id, "no VpcId or CidrBlock".into()),
                }
            }
            let found = fan_out(ctx, list, |v| async move {
                let id = v.vpc_id().expect("checked above").to_string();
                let attr = |a: VpcAttributeName| {
                    let id = id.clone();
                    async move {
                        let r = ctx.call("ec2", "DescribeVpcAttribute", Some(&id), e.describe_vpc_attribute().vpc_id(&id).attribute(a.clone()).send()).await;
                        let field = a.as_str().to_string();
                        Observed::from(r.and_then(|o| {
                            let v = if a == VpcAttributeName::EnableDnsHostnames { o.enable_dns_hostnames() } else { o.enable_dns_support() };
                            v.and_then(|b| b.value()).ok_or_else(|| format!("ec2:DescribeVpcAttribute returned no {field} value for {id}"))
                        }))
                    }
                };
                let (dns_support, dns_hostnames) = tokio::join!(attr(VpcAttributeName::EnableDnsSupport), attr(VpcAttributeName::EnableDnsHostnames));
                Vpc {
                    meta: ctx.meta("ec2:vpc", &id, ctx.arn("ec2", &format!("vpc/{id}")), name_of(v.tags()), tags(v.tags())),
                    cidr: v.cidr_block().expect("checked above").to_string(),
                    is_default: flag(v.is_default(), "DescribeVpcs", "IsDefault", &id),
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
    fill(
        ctx,
        &mut out.subnets,
        subnets,
        "DescribeSubnets",
        |p| p.subnets().to_vec(),
        |s| {
            let t = tags(s.tags());
            let id = need(s.subnet_id(), "SubnetId")?;
            let vpc = need_of(id, s.vpc_id(), "VpcId")?;
            if !in_scope(ctx, &t, vpc, &scoped_vpcs, false) {
                return Ok(None);
            }
            // IPv6-only subnets have no IPv4 CidrBlock: their first IPv6 block names them.
            let cidr = s.cidr_block().or(s.ipv6_cidr_block_association_set().iter().find_map(|a| a.ipv6_cidr_block()));
            Ok(Some(Subnet {
                meta: ctx.meta(
                    "ec2:subnet",
                    id,
                    s.subnet_arn().map(str::to_string).unwrap_or_else(|| ctx.arn("ec2", &format!("subnet/{id}"))),
                    name_of(s.tags()),
                    t,
                ),
                vpc_id: vpc.to_string(),
                cidr: need_of(id, cidr, "CidrBlock")?.to_string(),
                availability_zone: need_of(id, s.availability_zone(), "AvailabilityZone")?.to_string(),
                map_public_ip_on_launch: flag(s.map_public_ip_on_launch(), "DescribeSubnets", "MapPublicIpOnLaunch", id),
            }))
        },
    );
    fill(
        ctx,
        &mut out.route_tables,
        rts,
        "DescribeRouteTables",
        |p| p.route_tables().to_vec(),
        |rt| {
            let t = tags(rt.tags());
            let id = need(rt.route_table_id(), "RouteTableId")?;
            let vpc = need_of(id, rt.vpc_id(), "VpcId")?;
            if !in_scope(ctx, &t, vpc, &scoped_vpcs, true) {
                return Ok(None);
            }
            let routes = rt
                .routes()
                .iter()
                .map(|r| {
                    let destination = r.destination_cidr_block().or(r.destination_ipv6_cidr_block()).or(r.destination_prefix_list_id());
                    Ok(Route {
                        destination: need_of(id, destination, "route destination")?.to_string(),
                        target: route_target(r).map_err(|e| format!("{id}: {e}"))?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Some(RouteTable {
                meta: ctx.meta("ec2:route-table", id, ctx.arn("ec2", &format!("route-table/{id}")), name_of(rt.tags()), t),
                vpc_id: vpc.to_string(),
                main: main_flag(rt, id),
                subnet_ids: rt.associations().iter().filter_map(|a| a.subnet_id().map(str::to_string)).collect(),
                routes,
            }))
        },
    );
    fill(
        ctx,
        &mut out.internet_gateways,
        igws,
        "DescribeInternetGateways",
        |p| p.internet_gateways().to_vec(),
        |g| {
            let t = tags(g.tags());
            let id = need(g.internet_gateway_id(), "InternetGatewayId")?;
            if !ctx.scope.wants(&t) {
                return Ok(None);
            }
            let vpcs = g.attachments().iter().map(|a| need_of(id, a.vpc_id(), "VpcId on an attachment").map(str::to_string)).collect::<Result<Vec<_>, _>>()?;
            Ok(Some(InternetGateway {
                meta: ctx.meta("ec2:internet-gateway", id, ctx.arn("ec2", &format!("internet-gateway/{id}")), name_of(g.tags()), t),
                vpc_ids: vpcs,
            }))
        },
    );
    fill(
        ctx,
        &mut out.nat_gateways,
        nats,
        "DescribeNatGateways",
        |p| p.nat_gateways().to_vec(),
        |n| {
            let t = tags(n.tags());
            let id = need(n.nat_gateway_id(), "NatGatewayId")?;
            let state = need_of(id, n.state().map(|s| s.as_str()), "State")?.to_string();
            if state == "deleted" || state == "deleting" || !ctx.scope.wants(&t) {
                return Ok(None);
            }
            Ok(Some(NatGateway {
                meta: ctx.meta("ec2:nat-gateway", id, ctx.arn("ec2", &format!("natgateway/{id}")), name_of(n.tags()), t),
                vpc_id: need_of(id, n.vpc_id(), "VpcId")?.to_string(),
                subnet_id: need_of(id, n.subnet_id(), "SubnetId")?.to_string(),
                state,
                // private NAT gateways have no Elastic IP allocation
                allocation_ids: n.nat_gateway_addresses().iter().filter_map(|a| a.allocation_id().map(str::to_string)).collect(),
            }))
        },
    );
    fill(
        ctx,
        &mut out.security_groups,
        sgs,
        "DescribeSecurityGroups",
        |p| p.security_groups().to_vec(),
        |g| {
            let t = tags(g.tags());
            let id = need(g.group_id(), "GroupId")?;
            let name = need_of(id, g.group_name(), "GroupName")?;
            let vpc = need_of(id, g.vpc_id(), "VpcId")?;
            if !in_scope(ctx, &t, vpc, &scoped_vpcs, name == "default") {
                return Ok(None);
            }
            Ok(Some(SecurityGroup {
                meta: ctx.meta(
                    "ec2:security-group",
                    id,
                    g.security_group_arn().map(str::to_string).unwrap_or_else(|| ctx.arn("ec2", &format!("security-group/{id}"))),
                    Some(name.to_string()),
                    t,
                ),
                group_name: name.to_string(),
                vpc_id: vpc.to_string(),
                ingress: rules(g.ip_permissions()).map_err(|e| format!("{id} ingress: {e}"))?,
                egress: rules(g.ip_permissions_egress()).map_err(|e| format!("{id} egress: {e}"))?,
            }))
        },
    );
    fill(ctx, &mut out.flow_logs, fls, "DescribeFlowLogs", |p| p.flow_logs().to_vec(), |f| flow_log(ctx, f, &scoped_vpcs));
    out.prefix_lists = prefix_lists(ctx, &out.security_groups).await;
    out
}

/// The managed prefix lists that the collected groups reference, with their entries. No calls
/// when nothing references one. A referenced list that the listing does not return stays out
/// of the collection (the controls say `error` for it).
async fn prefix_lists(ctx: &Ctx, groups: &Collection<SecurityGroup>) -> Collection<PrefixList> {
    let mut out = Collection::default();
    let wanted = referenced_prefix_lists(groups.iter());
    if wanted.is_empty() {
        return out;
    }
    let e = &ctx.clients.ec2;
    let pages = match ctx.pages("ec2", "DescribeManagedPrefixLists", e.describe_managed_prefix_lists().into_paginator().send()).await {
        Ok(p) => p,
        Err(r) => {
            out.fail(&ctx.region, r);
            return out;
        }
    };
    let mut lists = Vec::new();
    for pl in pages.iter().flat_map(|p| p.prefix_lists()) {
        match (pl.prefix_list_id(), pl.address_family()) {
            (Some(id), Some(_)) if wanted.contains(id) => lists.push(pl.clone()),
            (Some(_), Some(_)) => {}
            (id, _) => incomplete(ctx, &mut out, "DescribeManagedPrefixLists", id, "no PrefixListId or AddressFamily".into()),
        }
    }
    let found = fan_out(ctx, lists, |pl| async move {
        let id = pl.prefix_list_id().expect("checked above").to_string();
        let pages = ctx.pages("ec2", "GetManagedPrefixListEntries", e.get_managed_prefix_list_entries().prefix_list_id(&id).into_paginator().send()).await;
        let entries = pages.and_then(|pages| {
            pages
                .iter()
                .flat_map(|p| p.entries())
                .map(|x| x.cidr().map(str::to_string).ok_or_else(|| format!("ec2:GetManagedPrefixListEntries returned an entry without Cidr for {id}")))
                .collect::<Result<Vec<_>, _>>()
        });
        PrefixList {
            meta: ctx.meta(
                "ec2:prefix-list",
                &id,
                pl.prefix_list_arn().map(str::to_string).unwrap_or_else(|| ctx.arn("ec2", &format!("prefix-list/{id}"))),
                pl.prefix_list_name().map(str::to_string),
                tags(pl.tags()),
            ),
            address_family: pl.address_family().expect("checked above").to_string(),
            entries: Observed::from(entries),
        }
    })
    .await;
    for p in found {
        out.insert(p);
    }
    out
}

/// Record a resource that a describe call returned incompletely: a collection error naming it,
/// and the listing marked failed in this region so that every control over it says `error`.
fn incomplete<T: crate::model::Resource>(ctx: &Ctx, coll: &mut Collection<T>, operation: &str, resource: Option<&str>, what: String) {
    ctx.record_incomplete("ec2", operation, &ctx.region, resource, "IncompleteResponse", &what);
    coll.fail(&ctx.region, format!("ec2:{operation} returned an incomplete resource: {what}"));
}

/// Map a listing into a collection, or record its failure. `map` returns Ok(None) for an item
/// out of scope and Err for one returned incompletely.
fn fill<P, I, T: crate::model::Resource>(
    ctx: &Ctx,
    coll: &mut Collection<T>,
    pages: Result<Vec<P>, String>,
    operation: &str,
    items: impl Fn(&P) -> Vec<I>,
    mut map: impl FnMut(&I) -> Result<Option<T>, String>,
) {
    match pages {
        Err(r) => coll.fail(&ctx.region, r),
        Ok(pages) => {
            for p in &pages {
                for i in items(p) {
                    match map(&i) {
                        Ok(Some(t)) => coll.insert(t),
                        Ok(None) => {}
                        Err(what) => incomplete(ctx, coll, operation, None, what),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{IpRange, Ipv6Range, PrefixListId, RouteTableAssociation, UserIdGroupPair};

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
            // ICMP keeps its type/code
            IpPermission::builder().ip_protocol("icmp").from_port(8).to_port(-1).ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build(),
        ];
        let r = rules(&perms).unwrap();
        let peers: Vec<String> = r.iter().map(|x| x.peer.clone()).collect();
        assert_eq!(peers.len(), 7);
        for p in ["cidr:10.0.0.0/16", "cidr:0.0.0.0/0", "cidr6:::/0", "sg:sg-1", "pl:pl-1"] {
            assert!(peers.contains(&p.to_string()), "{p}");
        }
        let all = r.iter().find(|x| x.protocol == "-1").unwrap();
        assert_eq!((all.from_port, all.to_port), (None, None));
        let pg = r.iter().find(|x| x.peer == "cidr6:::/0").unwrap();
        assert_eq!((pg.protocol.as_str(), pg.from_port, pg.to_port), ("tcp", Some(5432), Some(5432)));
        let icmp = r.iter().find(|x| x.protocol == "icmp").unwrap();
        assert_eq!((icmp.from_port, icmp.to_port), (Some(8), Some(-1)));
        let ctx = crate::collect::testing::ctx(|_| {});
        let groups = [SecurityGroup {
            meta: ctx.meta(
                "ec2:security-group",
                "sg-9",
                "arn:aws:ec2:us-east-1:123456789012:security-group/sg-9".into(),
                None,
                Observed::Known(BTreeMap::new()),
            ),
            group_name: "g".into(),
            vpc_id: "vpc-1".into(),
            ingress: r.clone(),
            egress: vec![Rule { protocol: "-1".into(), from_port: None, to_port: None, peer: "pl:pl-2".into() }],
        }];
        assert_eq!(referenced_prefix_lists(groups.iter()).into_iter().collect::<Vec<_>>(), vec!["pl-1", "pl-2"]);
    }

    #[test]
    fn incomplete_permissions_are_errors_not_guesses() {
        let no_protocol = IpPermission::builder().from_port(22).to_port(22).ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build();
        assert!(rules(&[no_protocol]).unwrap_err().contains("IpProtocol"));
        let no_cidr = IpPermission::builder().ip_protocol("tcp").from_port(22).to_port(22).ip_ranges(IpRange::builder().description("x").build()).build();
        assert!(rules(&[no_cidr]).unwrap_err().contains("CidrIp"));
        let no_pl =
            IpPermission::builder().ip_protocol("tcp").from_port(22).to_port(22).prefix_list_ids(PrefixListId::builder().description("x").build()).build();
        assert!(rules(&[no_pl]).unwrap_err().contains("PrefixListId"));
        // a TCP rule without ports is kept as read (the controls judge it unreadable)
        let no_ports = IpPermission::builder().ip_protocol("tcp").ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build();
        assert_eq!(rules(&[no_ports]).unwrap()[0].from_port, None);
    }

    #[test]
    fn tags_and_flags_are_never_defaulted() {
        let ok = tags(&[Tag::builder().key("a").value("b").build()]);
        assert_eq!(ok.known().unwrap().get("a").map(String::as_str), Some("b"));
        assert!(tags(&[Tag::builder().key("a").build()]).known().is_none());
        assert_eq!(flag(Some(true), "DescribeSubnets", "MapPublicIpOnLaunch", "subnet-1"), Observed::Known(true));
        assert!(
            matches!(flag(None, "DescribeSubnets", "MapPublicIpOnLaunch", "subnet-1"), Observed::Unknown(r) if r.contains("MapPublicIpOnLaunch") && r.contains("subnet-1"))
        );
    }

    #[test]
    fn main_route_table_flag() {
        let rt = |assocs: Vec<RouteTableAssociation>| aws_sdk_ec2::types::RouteTable::builder().set_associations(Some(assocs)).build();
        assert_eq!(main_flag(&rt(vec![]), "rtb-1"), Observed::Known(false));
        assert_eq!(main_flag(&rt(vec![RouteTableAssociation::builder().main(true).build()]), "rtb-1"), Observed::Known(true));
        assert_eq!(main_flag(&rt(vec![RouteTableAssociation::builder().main(false).subnet_id("subnet-1").build()]), "rtb-1"), Observed::Known(false));
        assert!(main_flag(&rt(vec![RouteTableAssociation::builder().subnet_id("subnet-1").build()]), "rtb-1").known().is_none());
        let no_target = aws_sdk_ec2::types::Route::builder().destination_cidr_block("0.0.0.0/0").build();
        assert!(route_target(&no_target).is_err());
        let igw = aws_sdk_ec2::types::Route::builder().destination_cidr_block("0.0.0.0/0").gateway_id("igw-1").build();
        assert_eq!(route_target(&igw).unwrap(), "igw-1");
    }

    #[test]
    fn flow_log_mapping() {
        use aws_sdk_ec2::types::{FlowLog as F, LogDestinationType, TrafficType};
        let ctx = crate::collect::testing::ctx(|_| {});
        let none = BTreeSet::new();
        let base = || F::builder().flow_log_id("fl-1").resource_id("vpc-1").traffic_type(TrafficType::All).flow_log_status("ACTIVE");
        // legacy: only a LogGroupName → CloudWatch Logs (the documented default)
        let legacy = flow_log(&ctx, &base().log_group_name("/vpc").deliver_logs_status("SUCCESS").build(), &none).unwrap().unwrap();
        assert_eq!(
            (legacy.destination_type.as_str(), legacy.destination.as_str(), legacy.log_group_name.as_deref()),
            ("cloud-watch-logs", "/vpc", Some("/vpc"))
        );
        assert_eq!(legacy.deliver_logs_status, Observed::Known("SUCCESS".into()));
        // no DeliverLogsStatus → Unknown
        let s3 = flow_log(&ctx, &base().log_destination_type(LogDestinationType::S3).log_destination("arn:aws:s3:::b").build(), &none).unwrap().unwrap();
        assert!(s3.deliver_logs_status.known().is_none());
        // FAILED with its message
        let failed = flow_log(&ctx, &base().log_group_name("/vpc").deliver_logs_status("FAILED").deliver_logs_error_message("Access error").build(), &none)
            .unwrap()
            .unwrap();
        assert_eq!(failed.deliver_logs_error.as_deref(), Some("Access error"));
        // incomplete records are errors
        assert!(flow_log(&ctx, &base().build(), &none).is_err(), "no destination at all");
        assert!(
            flow_log(&ctx, &F::builder().flow_log_id("fl-1").resource_id("vpc-1").log_group_name("/x").flow_log_status("ACTIVE").build(), &none).is_err(),
            "no TrafficType"
        );
        assert!(
            flow_log(&ctx, &F::builder().flow_log_id("fl-1").resource_id("vpc-1").traffic_type(TrafficType::All).log_group_name("/x").build(), &none).is_err(),
            "no FlowLogStatus"
        );
        // transit gateway flow logs have no TrafficType and watch no VPC
        assert!(flow_log(&ctx, &F::builder().flow_log_id("fl-2").resource_id("tgw-1").log_group_name("/x").flow_log_status("ACTIVE").build(), &none)
            .unwrap()
            .is_none());
    }
}
