//! `[network]`: the stack's one VPC (logical id `network`) — internet gateway, a public and a
//! private subnet per availability zone, NAT gateways, route tables, VPC flow logs to an
//! encrypted log group, and the VPC's default security group closed. Every EC2 resource is
//! tagged at creation (TagSpecifications), so an interrupted run leaves nothing untagged and
//! the next run finds it.
//!
//! Node ids (the contract other components use): `vpc`, `internet-gateway`,
//! `public-subnet-N`, `private-subnet-N` (N = 1..az_count), `nat-gateway-N`,
//! `public-route-table`, `private-route-table-N`, `flow-log-group`, `flow-log-role`,
//! `vpc-flow-log`, `default-sg`.

use super::role::{Grant, Res, RoleDef};
use super::{desired_ids, log_group, role, Component, Cx, Kind, Output, Problem, Reference};
use crate::aws::Clients;
use crate::error::{Error, Result, SdkResultExt};
use crate::model::ec2::{FlowLog, InternetGateway, NatGateway, Route, RouteTable, SecurityGroup, Subnet, Vpc};
use crate::model::{Observed, State};
use crate::provision::{attrs, diff, tag_changes, wait_for, Attrs, Change, Ctx, Found, Node};
use crate::vocab::{TAG_LOGICAL_ID, TAG_STACK};
use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, FlowLogsResourceType, LogDestinationType, ResourceType, Tag, TagSpecification, TrafficType, VpcAttributeName,
};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;

/// The logical id of the stack's one network.
pub const ID: &str = "network";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NatMode {
    /// One NAT gateway for all private subnets (cost-optimised).
    Single,
    /// One NAT gateway per availability zone (zone-independent egress).
    PerAz,
    /// No NAT gateway: private subnets have no route out.
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    /// VPC CIDR block, /16 to /28.
    pub cidr: String,
    /// Availability zones to spread over (discovered at run time), 2–6.
    pub az_count: usize,
    /// Public subnet CIDRs, one per AZ; default: the first /24s of the VPC.
    pub public_subnets: Option<Vec<String>>,
    /// Private subnet CIDRs, one per AZ; default: the /24s from the 11th on.
    pub private_subnets: Option<Vec<String>>,
    /// NAT gateways: single | per-az | none.
    pub nat_gateways: NatMode,
    /// VPC flow logs (all traffic) to an encrypted log group.
    pub flow_logs: bool,
    /// The key (`[keys.<id>]`) the flow-log group is encrypted with; default: the stack's only
    /// key.
    pub flow_logs_key: Option<String>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            cidr: "10.0.0.0/16".into(),
            az_count: 2,
            public_subnets: None,
            private_subnets: None,
            nat_gateways: NatMode::Single,
            flow_logs: true,
            flow_logs_key: None,
        }
    }
}

/// `flow_logs_key` defaults to the stack's only key (resolved once, after parsing, so the
/// key's policy sees the reference).
pub fn default_key(spec: &mut crate::spec::Spec) {
    if spec.network.flow_logs_key.is_none() && spec.keys.len() == 1 {
        spec.network.flow_logs_key = spec.keys.keys().next().cloned();
    }
}

// ---------- node ids and helpers other components use ----------

pub fn public_subnet_id(i: usize) -> String {
    format!("public-subnet-{}", i + 1)
}
pub fn private_subnet_id(i: usize) -> String {
    format!("private-subnet-{}", i + 1)
}
pub fn nat_id(i: usize) -> String {
    format!("nat-gateway-{}", i + 1)
}
pub fn private_routes_id(i: usize) -> String {
    format!("private-route-table-{}", i + 1)
}

/// The public subnets' node ids.
pub fn public_subnets(stack: &super::Stack) -> Vec<String> {
    (0..stack.spec.network.az_count).map(public_subnet_id).collect()
}

/// The private subnets' node ids.
pub fn private_subnets(stack: &super::Stack) -> Vec<String> {
    (0..stack.spec.network.az_count).map(private_subnet_id).collect()
}

/// The desired id of a subnet node (`subnet-private-subnet-1`).
pub fn desired_subnet(node: &str) -> String {
    desired_ids::subnet(node)
}

impl Network {
    /// How many NAT gateways.
    pub fn nat_count(&self) -> usize {
        match self.nat_gateways {
            NatMode::Single => 1,
            NatMode::PerAz => self.az_count,
            NatMode::None => 0,
        }
    }

    /// How many private route tables: one per NAT gateway, at least one.
    pub fn private_route_tables(&self) -> usize {
        self.nat_count().max(1)
    }

    fn vpc_net(&self) -> Ipv4Net {
        Ipv4Net::from_str(&self.cidr).unwrap_or_default()
    }

    /// The subnet CIDRs in use (declared or derived from the VPC CIDR).
    pub fn subnet_cidrs(&self, public: bool) -> Vec<String> {
        let (declared, offset) = if public { (&self.public_subnets, 0) } else { (&self.private_subnets, 10) };
        subnet_cidrs(self.vpc_net(), self.az_count, declared.as_ref(), offset)
    }
}

/// The subnet CIDRs in use: the declared ones or the defaults derived from the VPC CIDR.
pub fn subnet_cidrs(vpc: Ipv4Net, az_count: usize, declared: Option<&Vec<String>>, offset: usize) -> Vec<String> {
    match declared {
        Some(list) => list.clone(),
        None => {
            let prefix = if vpc.prefix_len() <= 20 { 24 } else { (vpc.prefix_len() + 4).min(28) };
            vpc.subnets(prefix).map(|it| it.skip(offset).take(az_count).map(|n| n.to_string()).collect()).unwrap_or_default()
        }
    }
}

/// The stack-file setting a network node is declared by (its report location).
fn declared_at(node: &str) -> String {
    let numbered = |prefix: &str| node.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok()).map(|n| n.saturating_sub(1));
    if let Some(i) = numbered("public-subnet-") {
        return format!("{ID}.public_subnets[{i}]");
    }
    if let Some(i) = numbered("private-subnet-") {
        return format!("{ID}.private_subnets[{i}]");
    }
    let field = match node {
        "flow-log-group" | "flow-log-role" | "vpc-flow-log" => "flow_logs",
        n if n.starts_with("nat-") || n.starts_with("private-route-table") => "nat_gateways",
        _ => "cidr",
    };
    format!("{ID}.{field}")
}

fn at(mut n: Node) -> Node {
    n.declared_at = declared_at(&n.id);
    n
}

/// The flow-log role: delivers to its log group only.
fn flow_role(cx: &Cx) -> RoleDef {
    RoleDef {
        name: cx.name("flow-logs"),
        service: "vpc-flow-logs.amazonaws.com",
        description: "VPC flow logs deliver to their log group".into(),
        managed: vec![],
        grants: vec![Grant::new(
            "DeliverFlowLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
            vec![Res::arn_of("flow-log-group"), Res::Attr { node: "flow-log-group".into(), attr: "arn", suffix: ":*" }],
        )],
    }
}

const FLOW_LOG_LEAF: &str = "vpc-flow-logs";

impl Component for Network {
    const KIND: Kind = Kind::Network;

    fn references(&self) -> Vec<Reference> {
        match (&self.flow_logs_key, self.flow_logs) {
            (Some(k), true) => vec![Reference::key("flow_logs_key", k, "logs")],
            _ => vec![],
        }
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        let mut out = check(self, cx);
        if self.flow_logs && self.flow_logs_key.is_none() {
            let keys: Vec<&str> = cx.stack.spec.keys.keys().map(String::as_str).collect();
            let declared = if keys.is_empty() { "declares no key".to_string() } else { format!("declares {} keys ({})", keys.len(), keys.join(", ")) };
            out.push(cx.problem("flow_logs_key", format!("must name the key that encrypts the flow-log group: the stack {declared}")));
        }
        out
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        let azs = self.az_count;
        let mut v = vec![at(cx.node("vpc", VpcNode { cidr: self.cidr.clone() }, &[])), at(cx.node("internet-gateway", IgwNode, &["vpc"]))];
        for public in [true, false] {
            for (i, cidr) in self.subnet_cidrs(public).into_iter().enumerate() {
                let id = if public { public_subnet_id(i) } else { private_subnet_id(i) };
                v.push(at(cx.node(id, SubnetNode { public, index: i, cidr }, &["vpc"])));
            }
        }
        for i in 0..self.nat_count() {
            let subnet = public_subnet_id(i);
            v.push(at(cx.node(nat_id(i), NatNode { index: i, subnet: subnet.clone() }, &[subnet.as_str(), "internet-gateway"])));
        }
        let public: Vec<String> = (0..azs).map(public_subnet_id).collect();
        let rt = RouteTableNode { target: Some("internet-gateway".into()), subnets: public.clone() };
        let mut deps = vec!["vpc", "internet-gateway"];
        deps.extend(public.iter().map(String::as_str));
        v.push(at(cx.node("public-route-table", rt, &deps)));
        let tables = self.private_route_tables();
        for t in 0..tables {
            let target = (self.nat_count() > 0).then(|| nat_id(t));
            let subnets: Vec<String> = (0..azs).filter(|i| i % tables == t).map(private_subnet_id).collect();
            let mut deps: Vec<&str> = vec!["vpc"];
            deps.extend(target.iter().map(String::as_str));
            deps.extend(subnets.iter().map(String::as_str));
            let node = cx.node(private_routes_id(t), RouteTableNode { target: target.clone(), subnets: subnets.clone() }, &deps);
            v.push(at(node));
        }
        if let (true, Some(key)) = (self.flow_logs, &self.flow_logs_key) {
            v.push(at(log_group::node(cx, "flow-log-group", FLOW_LOG_LEAF, key)));
            v.push(at(role::node(cx, "flow-log-role", flow_role(cx))));
            v.push(at(cx.node("vpc-flow-log", FlowLogNode, &["vpc", "flow-log-group", "flow-log-role"])));
        }
        v.push(at(cx.node("default-sg", DefaultSgNode, &["vpc"])));
        v
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        let meta = |rt: &str, logical: &str, id: &str, arn_res: &str, name: &str| {
            let field = declared_at(logical);
            let field = field.strip_prefix(&format!("{ID}.")).unwrap_or_default().to_string();
            cx.meta(rt, logical, id, cx.arn("ec2", arn_res), name, &field)
        };
        let vpc = desired_ids::VPC;
        st.ec2.vpcs.insert(Vpc {
            meta: meta("ec2:vpc", "vpc", vpc, &format!("vpc/{vpc}"), &cx.name("vpc")),
            cidr: self.cidr.clone(),
            is_default: Observed::Known(false),
            dns_support: Observed::Known(true),
            dns_hostnames: Observed::Known(true),
        });
        st.ec2.internet_gateways.insert(InternetGateway {
            meta: meta("ec2:internet-gateway", "internet-gateway", "igw-internet-gateway", "internet-gateway/igw-internet-gateway", &cx.name("igw")),
            vpc_ids: vec![vpc.into()],
        });
        for public in [true, false] {
            for (i, cidr) in self.subnet_cidrs(public).into_iter().enumerate() {
                let logical = if public { public_subnet_id(i) } else { private_subnet_id(i) };
                let id = desired_ids::subnet(&logical);
                st.ec2.subnets.insert(Subnet {
                    meta: meta("ec2:subnet", &logical, &id, &format!("subnet/{id}"), &cx.name(&logical)),
                    vpc_id: vpc.into(),
                    cidr,
                    availability_zone: String::new(),
                    map_public_ip_on_launch: Observed::Known(false),
                });
            }
        }
        let nats = self.nat_count();
        for i in 0..nats {
            let logical = nat_id(i);
            let id = format!("nat-{logical}");
            st.ec2.nat_gateways.insert(NatGateway {
                meta: meta("ec2:nat-gateway", &logical, &id, &format!("natgateway/{id}"), &cx.name(&logical)),
                vpc_id: vpc.into(),
                subnet_id: desired_ids::subnet(&public_subnet_id(i)),
                state: "available".into(),
                allocation_ids: vec![],
            });
        }
        let default_route = |target: &str| Route { destination: "0.0.0.0/0".into(), target: target.into() };
        st.ec2.route_tables.insert(RouteTable {
            meta: meta("ec2:route-table", "public-route-table", "rtb-public-route-table", "route-table/rtb-public-route-table", &cx.name("public-route-table")),
            vpc_id: vpc.into(),
            main: Observed::Known(false),
            subnet_ids: (0..self.az_count).map(|i| desired_ids::subnet(&public_subnet_id(i))).collect(),
            routes: vec![default_route("igw-internet-gateway")],
        });
        let tables = self.private_route_tables();
        for t in 0..tables {
            let logical = private_routes_id(t);
            let id = format!("rtb-{logical}");
            st.ec2.route_tables.insert(RouteTable {
                meta: meta("ec2:route-table", &logical, &id, &format!("route-table/{id}"), &cx.name(&logical)),
                vpc_id: vpc.into(),
                main: Observed::Known(false),
                subnet_ids: (0..self.az_count).filter(|i| i % tables == t).map(|i| desired_ids::subnet(&private_subnet_id(i))).collect(),
                routes: if nats > 0 { vec![default_route(&format!("nat-{}", nat_id(t)))] } else { vec![] },
            });
        }
        st.ec2.security_groups.insert(SecurityGroup {
            meta: meta("ec2:security-group", "default-sg", "sg-default-sg", "security-group/sg-default-sg", "default"),
            group_name: "default".into(),
            vpc_id: vpc.into(),
            ingress: vec![],
            egress: vec![],
        });
        if let (true, Some(key)) = (self.flow_logs, &self.flow_logs_key) {
            let group = cx.stack.id.log_group(FLOW_LOG_LEAF);
            st.ec2.flow_logs.insert(FlowLog {
                meta: meta("ec2:flow-log", "vpc-flow-log", "fl-vpc-flow-log", "vpc-flow-log/fl-vpc-flow-log", &cx.name("vpc-flow-log")),
                resource_id: vpc.into(),
                traffic_type: "ALL".into(),
                destination_type: "cloud-watch-logs".into(),
                destination: group.clone(),
                status: "ACTIVE".into(),
                deliver_logs_status: Observed::Known("SUCCESS".into()),
                deliver_logs_error: None,
                log_group_name: Some(group.clone()),
            });
            let before: BTreeSet<String> = st.logs.log_groups.iter().map(|g| g.meta.id.clone()).collect();
            log_group::desired(cx, st, "flow-log-group", FLOW_LOG_LEAF, key);
            relocate_log_groups(cx, st, &before);
            let arn = cx.arn("logs", &format!("log-group:{group}"));
            let resolve = |node: &str, attr: &str| (node == "flow-log-group" && attr == "arn").then(|| arn.clone());
            role::desired(cx, st, "flow-log-role", &flow_role(cx), &resolve);
            if let Some(r) = st.iam.roles.items.values_mut().find(|r| r.meta.logical_id() == Some("flow-log-role")) {
                r.meta.source = Some(crate::model::SourceRef { path: cx.stack.source.path.clone(), line: cx.stack.line_of(&cx.at("flow_logs")) });
            }
        }
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        let _ = cx;
        vec![Output { name: format!("{ID}.vpc_id"), node: "vpc".into(), attr: "id".into() }]
    }
}

/// The flow-log group's desired location is `network.flow_logs`.
fn relocate_log_groups(cx: &Cx, st: &mut State, before: &BTreeSet<String>) {
    for g in st.logs.log_groups.items.values_mut().filter(|g| !before.contains(&g.meta.id)) {
        g.meta.source = Some(crate::model::SourceRef { path: cx.stack.source.path.clone(), line: cx.stack.line_of(&cx.at("flow_logs")) });
    }
}

/// Everything EC2 would reject, before any call.
fn check(n: &Network, cx: &Cx) -> Vec<Problem> {
    let mut out = Vec::new();
    let vpc = match Ipv4Net::from_str(&n.cidr) {
        Ok(v) if v.network() == v.addr() => v,
        Ok(v) => {
            out.push(cx.problem("cidr", format!("has host bits set: {} (did you mean {}?)", n.cidr, v.trunc())));
            return out;
        }
        Err(_) => {
            out.push(cx.problem("cidr", format!("is not an IPv4 CIDR block (got {:?})", n.cidr)));
            return out;
        }
    };
    if !(16..=28).contains(&vpc.prefix_len()) {
        out.push(cx.problem("cidr", format!("prefix must be between /16 and /28 (got /{})", vpc.prefix_len())));
    }
    if !(2..=6).contains(&n.az_count) {
        out.push(cx.problem("az_count", format!("must be between 2 and 6 (got {}); RDS needs subnets in two zones", n.az_count)));
        return out;
    }
    let mut all: Vec<(String, Ipv4Net)> = Vec::new();
    for (field, declared, public) in [("public_subnets", &n.public_subnets, true), ("private_subnets", &n.private_subnets, false)] {
        let cidrs = n.subnet_cidrs(public);
        if declared.is_some() && cidrs.len() != n.az_count {
            out.push(cx.problem(field, format!("must list one CIDR per availability zone ({} expected, got {})", n.az_count, cidrs.len())));
        }
        if declared.is_none() && cidrs.len() != n.az_count {
            out.push(cx.problem("cidr", format!("is too small for {} default {field}; declare {}", n.az_count, cx.at(field))));
        }
        for (i, c) in cidrs.iter().enumerate() {
            let f = format!("{field}[{i}]");
            match Ipv4Net::from_str(c) {
                Ok(net) if net.network() != net.addr() => out.push(cx.problem(&f, format!("has host bits set: {c}"))),
                Ok(net) if !vpc.contains(&net) => out.push(cx.problem(&f, format!("{c} is not inside the VPC CIDR {vpc}"))),
                Ok(net) if !(16..=28).contains(&net.prefix_len()) => out.push(cx.problem(&f, format!("prefix must be between /16 and /28 (got {c})"))),
                Ok(net) => {
                    if let Some((other, _)) = all.iter().find(|(_, o)| o.contains(&net.network()) || net.contains(&o.network())) {
                        out.push(cx.problem(&f, format!("{c} overlaps {other}")));
                    }
                    all.push((format!("{} ({c})", cx.at(&f)), net));
                }
                Err(_) => out.push(cx.problem(&f, format!("is not an IPv4 CIDR block (got {c:?})"))),
            }
        }
    }
    out
}

/// Drift of the network's resource types (security groups, the default one included, are
/// compared by `security_group::drift`).
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.ec2.vpcs, &live.ec2.vpcs, |d, w, g| {
        let at = d.setting(&w.meta, "");
        d.field(&g.meta, "cidr", &at, json!(w.cidr), json!(g.cidr));
        d.observed(&g.meta, "dns_support", &at, json!(w.dns_support.known()), &g.dns_support);
        d.observed(&g.meta, "dns_hostnames", &at, json!(w.dns_hostnames.known()), &g.dns_hostnames);
    });
    d.each(&desired.ec2.subnets, &live.ec2.subnets, |d, w, g| {
        let at = d.setting(&w.meta, "");
        d.field(&g.meta, "cidr", &at, json!(w.cidr), json!(g.cidr));
        d.field(&g.meta, "vpc_id", &at, json!(d.res(&w.vpc_id)), json!(g.vpc_id));
        d.observed(&g.meta, "map_public_ip_on_launch", &at, json!(w.map_public_ip_on_launch.known()), &g.map_public_ip_on_launch);
    });
    d.each(&desired.ec2.internet_gateways, &live.ec2.internet_gateways, |d, w, g| {
        let at = d.setting(&w.meta, "");
        d.field(&g.meta, "vpc_ids", &at, set(w.vpc_ids.iter().map(|v| d.res(v))), set(g.vpc_ids.clone()));
    });
    d.each(&desired.ec2.nat_gateways, &live.ec2.nat_gateways, |d, w, g| {
        let at = d.setting(&w.meta, "");
        d.field(&g.meta, "subnet_id", &at, json!(d.res(&w.subnet_id)), json!(g.subnet_id));
    });
    d.each(&desired.ec2.route_tables, &live.ec2.route_tables, |d, w, g| {
        let at = d.setting(&w.meta, "");
        let default_route = |rt: &RouteTable| rt.routes.iter().find(|r| r.destination == "0.0.0.0/0").map(|r| r.target.clone());
        d.field(&g.meta, "routes.0.0.0.0/0", &at, json!(default_route(w).map(|t| d.res(&t))), json!(default_route(g)));
        d.field(&g.meta, "subnet_ids", &at, set(w.subnet_ids.iter().map(|s| d.res(s))), set(g.subnet_ids.clone()));
    });
    d.each(&desired.ec2.flow_logs, &live.ec2.flow_logs, |d, w, g| {
        let at = d.setting(&w.meta, "");
        d.field(&g.meta, "resource_id", &at, json!(d.res(&w.resource_id)), json!(g.resource_id));
        d.field(&g.meta, "traffic_type", &at, json!(w.traffic_type), json!(g.traffic_type));
        let to_group = g.destination.ends_with(&w.destination) || g.destination.contains(&format!(":log-group:{}", w.destination));
        d.field(&g.meta, "destination", &at, json!(w.destination), json!(if to_group { w.destination.clone() } else { g.destination.clone() }));
    });
}

fn set<T: Serialize + Ord>(items: impl IntoIterator<Item = T>) -> serde_json::Value {
    json!(items.into_iter().collect::<BTreeSet<T>>())
}

// ---------- availability zones ----------

/// The first `count` available zones of the region, sorted (provision spreads subnets over them).
pub async fn discover_azs(clients: &Clients, count: usize) -> Result<Vec<String>> {
    let out = clients.ec2.describe_availability_zones().filters(Filter::builder().name("state").values("available").build()).send().await.ctx(
        "ec2",
        "DescribeAvailabilityZones",
        &clients.region,
    )?;
    let mut zones: Vec<String> = out
        .availability_zones()
        .iter()
        .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect();
    zones.sort();
    if zones.len() < count {
        return Err(Error::usage(format!("region {} has {} available zones; network.az_count asks for {count}", clients.region, zones.len())));
    }
    zones.truncate(count);
    Ok(zones)
}

// ---------- EC2 helpers (security groups use them too) ----------

pub(crate) fn tag_spec(ctx: &Ctx, rt: ResourceType, id: &str, name: &str) -> TagSpecification {
    let tags = ctx.tags(id, name).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build());
    TagSpecification::builder().resource_type(rt).set_tags(Some(tags.collect())).build()
}

pub(crate) fn owner_filters(ctx: &Ctx, id: &str) -> Vec<Filter> {
    vec![
        Filter::builder().name(format!("tag:{TAG_STACK}")).values(ctx.stack_name()).build(),
        Filter::builder().name(format!("tag:{TAG_LOGICAL_ID}")).values(id).build(),
    ]
}

pub(crate) fn ec2_tags(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

pub(crate) fn immutable(changes: &[Change], fields: &[&str]) -> Result<()> {
    match changes.iter().find(|c| fields.contains(&c.field.as_str())) {
        Some(c) => {
            Err(Error::usage(format!("{} cannot be changed in place (want {}, got {}): destroy the stack and provision it again", c.field, c.want, c.got)))
        }
        None => Ok(()),
    }
}

pub(crate) async fn retag(ctx: &Ctx, resource: &str, id: &str, name: &str) -> Result<()> {
    let tags = ctx.tags(id, name).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build());
    ctx.clients.ec2.create_tags().resources(resource).set_tags(Some(tags.collect())).send().await.ctx("ec2", "CreateTags", resource)?;
    Ok(())
}

// ---------- VPC ----------

#[derive(Debug, Clone)]
struct VpcNode {
    cidr: String,
}
crate::node_ops!(VpcNode, "ec2:vpc");

async fn find_vpc(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::Vpc>> {
    let out = ctx.clients.ec2.describe_vpcs().set_filters(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeVpcs", id)?;
    let found = out.vpcs().iter().filter(|v| ctx.owns(id, ec2_tags(v.tags()))).cloned().collect();
    ctx.single(id, "ec2:vpc", found, |v| v.vpc_id().unwrap_or_default().to_string())
}

async fn vpc_attr(ctx: &Ctx, vpc_id: &str, attr: VpcAttributeName) -> Result<bool> {
    let out = ctx.clients.ec2.describe_vpc_attribute().vpc_id(vpc_id).attribute(attr.clone()).send().await.ctx("ec2", "DescribeVpcAttribute", vpc_id)?;
    let v = match attr {
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
        _ => out.enable_dns_support(),
    };
    Ok(v.and_then(|b| b.value()).unwrap_or(false))
}

impl VpcNode {
    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(vpc) = find_vpc(ctx, id).await? else { return Ok(Found::Absent) };
        let vpc_id = vpc.vpc_id().unwrap_or_default().to_string();
        let mut changes = Vec::new();
        diff(&mut changes, "cidr", self.cidr.as_str(), vpc.cidr_block().unwrap_or_default());
        diff(&mut changes, "dns_support", true, vpc_attr(ctx, &vpc_id, VpcAttributeName::EnableDnsSupport).await?);
        diff(&mut changes, "dns_hostnames", true, vpc_attr(ctx, &vpc_id, VpcAttributeName::EnableDnsHostnames).await?);
        changes.extend(tag_changes(&ctx.tags(id, &ctx.name("vpc")), ec2_tags(vpc.tags())));
        Ok(Found::Present { attrs: attrs([("id", vpc_id), ("cidr", vpc.cidr_block().unwrap_or_default().to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let ec2 = &ctx.clients.ec2;
        let vpc_id = match found {
            Found::Present { attrs, changes } => {
                immutable(changes, &["cidr"])?;
                retag(ctx, &attrs["id"], id, &ctx.name("vpc")).await?;
                attrs["id"].clone()
            }
            Found::Absent => {
                let out = ec2.create_vpc().cidr_block(&self.cidr).tag_specifications(tag_spec(ctx, ResourceType::Vpc, id, &ctx.name("vpc"))).send().await.ctx(
                    "ec2",
                    "CreateVpc",
                    id,
                )?;
                out.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string()
            }
        };
        let on = || AttributeBooleanValue::builder().value(true).build();
        ec2.modify_vpc_attribute().vpc_id(&vpc_id).enable_dns_support(on()).send().await.ctx("ec2", "ModifyVpcAttribute", &vpc_id)?;
        ec2.modify_vpc_attribute().vpc_id(&vpc_id).enable_dns_hostnames(on()).send().await.ctx("ec2", "ModifyVpcAttribute", &vpc_id)?;
        Ok(attrs([("id", vpc_id), ("cidr", self.cidr.clone())]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(vpc) = find_vpc(ctx, id).await? else { return Ok(None) };
        let vpc_id = vpc.vpc_id().unwrap_or_default().to_string();
        ctx.clients.ec2.delete_vpc().vpc_id(&vpc_id).send().await.ctx("ec2", "DeleteVpc", &vpc_id)?;
        Ok(Some(vpc_id))
    }
}

// ---------- Internet gateway ----------

#[derive(Debug, Clone)]
struct IgwNode;
crate::node_ops!(IgwNode, "ec2:internet-gateway");

async fn find_igw(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::InternetGateway>> {
    let out = ctx.clients.ec2.describe_internet_gateways().set_filters(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeInternetGateways", id)?;
    let found = out.internet_gateways().iter().filter(|g| ctx.owns(id, ec2_tags(g.tags()))).cloned().collect();
    ctx.single(id, "ec2:internet-gateway", found, |g| g.internet_gateway_id().unwrap_or_default().to_string())
}

impl IgwNode {
    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(igw) = find_igw(ctx, id).await? else { return Ok(Found::Absent) };
        let mut changes = Vec::new();
        let attached: Vec<String> = igw.attachments().iter().filter_map(|a| a.vpc_id().map(str::to_string)).collect();
        if let Some(vpc_id) = ctx.get("vpc", "id") {
            if !attached.contains(&vpc_id) {
                changes.push(Change::new("internet_gateway.vpc", &vpc_id, attached.join(",")));
            }
        }
        let igw_id = igw.internet_gateway_id().unwrap_or_default().to_string();
        Ok(Found::Present { attrs: attrs([("id", igw_id)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let ec2 = &ctx.clients.ec2;
        let vpc_id = ctx.need("vpc", "id")?;
        let igw_id = match found {
            Found::Present { attrs, changes } => {
                if changes.is_empty() {
                    return Ok(attrs.clone());
                }
                attrs["id"].clone()
            }
            Found::Absent => {
                let out = ec2
                    .create_internet_gateway()
                    .tag_specifications(tag_spec(ctx, ResourceType::InternetGateway, id, &ctx.name("igw")))
                    .send()
                    .await
                    .ctx("ec2", "CreateInternetGateway", id)?;
                out.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default().to_string()
            }
        };
        ec2.attach_internet_gateway().internet_gateway_id(&igw_id).vpc_id(&vpc_id).send().await.ctx("ec2", "AttachInternetGateway", &igw_id)?;
        Ok(attrs([("id", igw_id)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(igw) = find_igw(ctx, id).await? else { return Ok(None) };
        let igw_id = igw.internet_gateway_id().unwrap_or_default().to_string();
        for a in igw.attachments() {
            if let Some(vpc) = a.vpc_id() {
                ctx.clients.ec2.detach_internet_gateway().internet_gateway_id(&igw_id).vpc_id(vpc).send().await.ctx("ec2", "DetachInternetGateway", &igw_id)?;
            }
        }
        ctx.clients.ec2.delete_internet_gateway().internet_gateway_id(&igw_id).send().await.ctx("ec2", "DeleteInternetGateway", &igw_id)?;
        Ok(Some(igw_id))
    }
}

// ---------- Subnets ----------

#[derive(Debug, Clone)]
struct SubnetNode {
    public: bool,
    index: usize,
    cidr: String,
}
crate::node_ops!(SubnetNode, "ec2:subnet");

async fn find_subnet(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::Subnet>> {
    let out = ctx.clients.ec2.describe_subnets().set_filters(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeSubnets", id)?;
    let found = out.subnets().iter().filter(|x| ctx.owns(id, ec2_tags(x.tags()))).cloned().collect();
    ctx.single(id, "ec2:subnet", found, |x| x.subnet_id().unwrap_or_default().to_string())
}

impl SubnetNode {
    fn field(&self) -> String {
        format!("{}[{}]", if self.public { "public_subnets" } else { "private_subnets" }, self.index)
    }

    fn az<'a>(&self, ctx: &'a Ctx) -> Result<&'a str> {
        ctx.azs.get(self.index).map(String::as_str).ok_or_else(|| Error::usage(format!("internal: no availability zone {} discovered", self.index + 1)))
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(s) = find_subnet(ctx, id).await? else { return Ok(Found::Absent) };
        let field = self.field();
        let az = self.az(ctx)?;
        let mut changes = Vec::new();
        diff(&mut changes, &field, self.cidr.as_str(), s.cidr_block().unwrap_or_default());
        diff(&mut changes, &format!("{field}.availability_zone"), az, s.availability_zone().unwrap_or_default());
        diff(&mut changes, &format!("{field}.map_public_ip_on_launch"), false, s.map_public_ip_on_launch().unwrap_or(false));
        changes.extend(tag_changes(&ctx.tags(id, &ctx.name(id)), ec2_tags(s.tags())));
        let subnet_id = s.subnet_id().unwrap_or_default().to_string();
        Ok(Found::Present { attrs: attrs([("id", subnet_id), ("az", az.to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let ec2 = &ctx.clients.ec2;
        let az = self.az(ctx)?;
        let subnet_id = match found {
            Found::Present { attrs, changes } => {
                let field = self.field();
                immutable(changes, &[&field, &format!("{field}.availability_zone")])?;
                retag(ctx, &attrs["id"], id, &ctx.name(id)).await?;
                attrs["id"].clone()
            }
            Found::Absent => {
                let out = ec2
                    .create_subnet()
                    .vpc_id(ctx.need("vpc", "id")?)
                    .cidr_block(&self.cidr)
                    .availability_zone(az)
                    .tag_specifications(tag_spec(ctx, ResourceType::Subnet, id, &ctx.name(id)))
                    .send()
                    .await
                    .ctx("ec2", "CreateSubnet", id)?;
                out.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string()
            }
        };
        ec2.modify_subnet_attribute().subnet_id(&subnet_id).map_public_ip_on_launch(AttributeBooleanValue::builder().value(false).build()).send().await.ctx(
            "ec2",
            "ModifySubnetAttribute",
            &subnet_id,
        )?;
        Ok(attrs([("id", subnet_id), ("az", az.to_string())]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(s) = find_subnet(ctx, id).await? else { return Ok(None) };
        let subnet_id = s.subnet_id().unwrap_or_default().to_string();
        ctx.clients.ec2.delete_subnet().subnet_id(&subnet_id).send().await.ctx("ec2", "DeleteSubnet", &subnet_id)?;
        Ok(Some(subnet_id))
    }
}

// ---------- NAT gateways (with their Elastic IPs) ----------

#[derive(Debug, Clone)]
struct NatNode {
    index: usize,
    /// The public subnet's node id.
    subnet: String,
}
crate::node_ops!(NatNode, "ec2:nat-gateway");

fn eip_id(index: usize) -> String {
    format!("nat-eip-{}", index + 1)
}

async fn find_eip(ctx: &Ctx, index: usize) -> Result<Option<aws_sdk_ec2::types::Address>> {
    let id = eip_id(index);
    let out = ctx.clients.ec2.describe_addresses().set_filters(Some(owner_filters(ctx, &id))).send().await.ctx("ec2", "DescribeAddresses", &id)?;
    let found = out.addresses().iter().filter(|a| ctx.owns(&id, ec2_tags(a.tags()))).cloned().collect();
    ctx.single(&id, "ec2:elastic-ip", found, |a| a.allocation_id().unwrap_or_default().to_string())
}

async fn find_nat(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::NatGateway>> {
    let mut filters = owner_filters(ctx, id);
    filters.push(Filter::builder().name("state").values("pending").values("available").build());
    let out = ctx.clients.ec2.describe_nat_gateways().set_filter(Some(filters)).send().await.ctx("ec2", "DescribeNatGateways", id)?;
    let found = out
        .nat_gateways()
        .iter()
        .filter(|n| matches!(n.state().map(|s| s.as_str()), Some("pending") | Some("available")))
        .filter(|n| ctx.owns(id, ec2_tags(n.tags())))
        .cloned()
        .collect();
    ctx.single(id, "ec2:nat-gateway", found, |n| n.nat_gateway_id().unwrap_or_default().to_string())
}

impl NatNode {
    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(nat) = find_nat(ctx, id).await? else { return Ok(Found::Absent) };
        let mut changes = Vec::new();
        if let Some(subnet) = ctx.get(&self.subnet, "id") {
            diff(&mut changes, "nat_gateways.subnet", subnet.as_str(), nat.subnet_id().unwrap_or_default());
        }
        let nat_id = nat.nat_gateway_id().unwrap_or_default().to_string();
        Ok(Found::Present { attrs: attrs([("id", nat_id)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        if let Found::Present { attrs, changes } = found {
            immutable(changes, &["nat_gateways.subnet"])?;
            return Ok(attrs.clone());
        }
        let ec2 = &ctx.clients.ec2;
        let allocation = match find_eip(ctx, self.index).await? {
            Some(a) => a.allocation_id().unwrap_or_default().to_string(),
            None => {
                let eid = eip_id(self.index);
                ec2.allocate_address()
                    .domain(DomainType::Vpc)
                    .tag_specifications(tag_spec(ctx, ResourceType::ElasticIp, &eid, &ctx.name(&eid)))
                    .send()
                    .await
                    .ctx("ec2", "AllocateAddress", &eid)?
                    .allocation_id()
                    .unwrap_or_default()
                    .to_string()
            }
        };
        let out = ec2
            .create_nat_gateway()
            .subnet_id(ctx.need(&self.subnet, "id")?)
            .allocation_id(&allocation)
            .tag_specifications(tag_spec(ctx, ResourceType::Natgateway, id, &ctx.name(id)))
            .send()
            .await
            .ctx("ec2", "CreateNatGateway", id)?;
        let nat_id = out.nat_gateway().and_then(|n| n.nat_gateway_id()).unwrap_or_default().to_string();
        wait_for(&format!("NAT gateway {nat_id}"), Duration::from_secs(5), Duration::from_secs(600), || async {
            let out = ec2.describe_nat_gateways().nat_gateway_ids(&nat_id).send().await.ctx("ec2", "DescribeNatGateways", &nat_id)?;
            let state = out.nat_gateways().first().and_then(|n| n.state()).map(|s| s.as_str().to_string());
            match state.as_deref() {
                Some("available") => Ok(Some(())),
                Some("failed") => Err(Error::usage(format!("NAT gateway {nat_id} failed"))),
                _ => Ok(None),
            }
        })
        .await?;
        Ok(attrs([("id", nat_id), ("allocation_id", allocation)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let ec2 = &ctx.clients.ec2;
        let nat_id = match find_nat(ctx, id).await? {
            Some(nat) => {
                let nat_id = nat.nat_gateway_id().unwrap_or_default().to_string();
                ec2.delete_nat_gateway().nat_gateway_id(&nat_id).send().await.ctx("ec2", "DeleteNatGateway", &nat_id)?;
                wait_for(&format!("NAT gateway {nat_id} deletion"), Duration::from_secs(5), Duration::from_secs(600), || async {
                    let out = ec2.describe_nat_gateways().nat_gateway_ids(&nat_id).send().await.ctx("ec2", "DescribeNatGateways", &nat_id)?;
                    let state = out.nat_gateways().first().and_then(|n| n.state()).map(|s| s.as_str().to_string());
                    Ok(matches!(state.as_deref(), None | Some("deleted") | Some("failed")).then_some(()))
                })
                .await?;
                Some(nat_id)
            }
            None => None,
        };
        // the Elastic IP goes with its NAT gateway (also after an interrupted run left it alone)
        if let Some(eip) = find_eip(ctx, self.index).await? {
            let alloc = eip.allocation_id().unwrap_or_default().to_string();
            if let Some(assoc) = eip.association_id() {
                ec2.disassociate_address().association_id(assoc).send().await.ctx("ec2", "DisassociateAddress", &alloc)?;
            }
            ec2.release_address().allocation_id(&alloc).send().await.ctx("ec2", "ReleaseAddress", &alloc)?;
            return Ok(Some(nat_id.map(|n| format!("{n} + {alloc}")).unwrap_or(alloc)));
        }
        Ok(nat_id)
    }
}

// ---------- Route tables ----------

/// A route table: its default route's target node (an internet or NAT gateway; none for
/// private subnets without NAT) and its subnets' nodes.
#[derive(Debug, Clone)]
struct RouteTableNode {
    target: Option<String>,
    subnets: Vec<String>,
}
crate::node_ops!(RouteTableNode, "ec2:route-table");

async fn find_rt(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::RouteTable>> {
    let out = ctx.clients.ec2.describe_route_tables().set_filters(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeRouteTables", id)?;
    let found = out.route_tables().iter().filter(|r| ctx.owns(id, ec2_tags(r.tags()))).cloned().collect();
    ctx.single(id, "ec2:route-table", found, |r| r.route_table_id().unwrap_or_default().to_string())
}

fn default_route_target(rt: &aws_sdk_ec2::types::RouteTable) -> Option<String> {
    rt.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0")).and_then(|r| r.gateway_id().or(r.nat_gateway_id()).map(str::to_string))
}

impl RouteTableNode {
    /// The live default-route target and subnet ids, from the nodes that ran before.
    fn plan(&self, ctx: &Ctx) -> (Option<String>, Vec<String>) {
        (self.target.as_ref().and_then(|t| ctx.get(t, "id")), self.subnets.iter().filter_map(|s| ctx.get(s, "id")).collect())
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(rt) = find_rt(ctx, id).await? else { return Ok(Found::Absent) };
        let (target, subnets) = self.plan(ctx);
        let mut changes = Vec::new();
        diff(&mut changes, "routes.default", target, default_route_target(&rt));
        let associated: BTreeSet<String> = rt.associations().iter().filter_map(|a| a.subnet_id().map(str::to_string)).collect();
        let want: BTreeSet<String> = subnets.into_iter().collect();
        diff(&mut changes, "routes.subnets", want, associated);
        changes.extend(tag_changes(&ctx.tags(id, &ctx.name(id)), ec2_tags(rt.tags())));
        let rt_id = rt.route_table_id().unwrap_or_default().to_string();
        Ok(Found::Present { attrs: attrs([("id", rt_id)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let ec2 = &ctx.clients.ec2;
        let rt_id = match found {
            Found::Present { attrs, .. } => {
                retag(ctx, &attrs["id"], id, &ctx.name(id)).await?;
                attrs["id"].clone()
            }
            Found::Absent => ec2
                .create_route_table()
                .vpc_id(ctx.need("vpc", "id")?)
                .tag_specifications(tag_spec(ctx, ResourceType::RouteTable, id, &ctx.name(id)))
                .send()
                .await
                .ctx("ec2", "CreateRouteTable", id)?
                .route_table()
                .and_then(|r| r.route_table_id())
                .unwrap_or_default()
                .to_string(),
        };
        let rt = ec2.describe_route_tables().route_table_ids(&rt_id).send().await.ctx("ec2", "DescribeRouteTables", &rt_id)?;
        let rt = rt.route_tables().first().cloned().ok_or_else(|| Error::usage(format!("route table {rt_id} vanished")))?;
        let target = match &self.target {
            Some(t) => Some(ctx.need(t, "id")?),
            None => None,
        };
        let subnets: Vec<String> = self.subnets.iter().map(|s| ctx.need(s, "id")).collect::<Result<_>>()?;
        let current = default_route_target(&rt);
        match &target {
            Some(target) if current.as_deref() != Some(target.as_str()) => {
                let is_nat = target.starts_with("nat-");
                if current.is_some() {
                    let r = ec2.replace_route().route_table_id(&rt_id).destination_cidr_block("0.0.0.0/0");
                    let r = if is_nat { r.nat_gateway_id(target) } else { r.gateway_id(target) };
                    r.send().await.ctx("ec2", "ReplaceRoute", &rt_id)?;
                } else {
                    let r = ec2.create_route().route_table_id(&rt_id).destination_cidr_block("0.0.0.0/0");
                    let r = if is_nat { r.nat_gateway_id(target) } else { r.gateway_id(target) };
                    r.send().await.ctx("ec2", "CreateRoute", &rt_id)?;
                }
            }
            None if current.is_some() => {
                // no NAT: the private subnets have no route out
                ec2.delete_route().route_table_id(&rt_id).destination_cidr_block("0.0.0.0/0").send().await.ctx("ec2", "DeleteRoute", &rt_id)?;
            }
            _ => {}
        }
        let associated: BTreeSet<String> = rt.associations().iter().filter_map(|a| a.subnet_id().map(str::to_string)).collect();
        for subnet in subnets.iter().filter(|s| !associated.contains(*s)) {
            // a subnet may still be associated with another table (e.g. after a layout change)
            let other = ec2.describe_route_tables().filters(Filter::builder().name("association.subnet-id").values(subnet).build()).send().await.ctx(
                "ec2",
                "DescribeRouteTables",
                subnet,
            )?;
            let existing = other
                .route_tables()
                .iter()
                .flat_map(|t| t.associations())
                .find(|a| a.subnet_id() == Some(subnet.as_str()))
                .and_then(|a| a.route_table_association_id().map(str::to_string));
            match existing {
                Some(assoc) => {
                    ec2.replace_route_table_association().association_id(assoc).route_table_id(&rt_id).send().await.ctx(
                        "ec2",
                        "ReplaceRouteTableAssociation",
                        subnet,
                    )?;
                }
                None => {
                    ec2.associate_route_table().route_table_id(&rt_id).subnet_id(subnet).send().await.ctx("ec2", "AssociateRouteTable", subnet)?;
                }
            }
        }
        Ok(attrs([("id", rt_id)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(rt) = find_rt(ctx, id).await? else { return Ok(None) };
        let rt_id = rt.route_table_id().unwrap_or_default().to_string();
        for a in rt.associations() {
            if let (Some(assoc), false) = (a.route_table_association_id(), a.main().unwrap_or(false)) {
                ctx.clients.ec2.disassociate_route_table().association_id(assoc).send().await.ctx("ec2", "DisassociateRouteTable", &rt_id)?;
            }
        }
        ctx.clients.ec2.delete_route_table().route_table_id(&rt_id).send().await.ctx("ec2", "DeleteRouteTable", &rt_id)?;
        Ok(Some(rt_id))
    }
}

// ---------- Flow logs ----------

#[derive(Debug, Clone)]
struct FlowLogNode;
crate::node_ops!(FlowLogNode, "ec2:flow-log");

async fn find_flow_log(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::FlowLog>> {
    let out = ctx.clients.ec2.describe_flow_logs().set_filter(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeFlowLogs", id)?;
    let found = out.flow_logs().iter().filter(|f| ctx.owns(id, ec2_tags(f.tags()))).cloned().collect();
    ctx.single(id, "ec2:flow-log", found, |f| f.flow_log_id().unwrap_or_default().to_string())
}

impl FlowLogNode {
    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(fl) = find_flow_log(ctx, id).await? else { return Ok(Found::Absent) };
        let mut changes = Vec::new();
        if let Some(vpc) = ctx.get("vpc", "id") {
            diff(&mut changes, "flow_logs.vpc", vpc.as_str(), fl.resource_id().unwrap_or_default());
        }
        if let Some(group) = ctx.get("flow-log-group", "name") {
            diff(&mut changes, "flow_logs.log_group", group.as_str(), fl.log_group_name().unwrap_or_default());
        }
        diff(&mut changes, "flow_logs.traffic_type", "ALL", fl.traffic_type().map(|t| t.as_str()).unwrap_or_default());
        let fl_id = fl.flow_log_id().unwrap_or_default().to_string();
        Ok(Found::Present { attrs: attrs([("id", fl_id)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        if let Found::Present { attrs, .. } = found {
            // flow logs are immutable: replace
            ctx.clients.ec2.delete_flow_logs().flow_log_ids(&attrs["id"]).send().await.ctx("ec2", "DeleteFlowLogs", &attrs["id"])?;
        }
        let out = ctx
            .clients
            .ec2
            .create_flow_logs()
            .resource_ids(ctx.need("vpc", "id")?)
            .resource_type(FlowLogsResourceType::Vpc)
            .traffic_type(TrafficType::All)
            .log_destination_type(LogDestinationType::CloudWatchLogs)
            .log_group_name(ctx.need("flow-log-group", "name")?)
            .deliver_logs_permission_arn(ctx.need("flow-log-role", "arn")?)
            .tag_specifications(tag_spec(ctx, ResourceType::VpcFlowLog, id, &ctx.name(id)))
            .send()
            .await
            .ctx("ec2", "CreateFlowLogs", id)?;
        if let Some(item) = out.unsuccessful().first() {
            let msg = item.error().and_then(|e| e.message()).unwrap_or("unknown error");
            return Err(Error::usage(format!("ec2 CreateFlowLogs failed for {id}: {msg}")));
        }
        let fl_id = out.flow_log_ids().first().cloned().unwrap_or_default();
        Ok(attrs([("id", fl_id)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(fl) = find_flow_log(ctx, id).await? else { return Ok(None) };
        let fl_id = fl.flow_log_id().unwrap_or_default().to_string();
        ctx.clients.ec2.delete_flow_logs().flow_log_ids(&fl_id).send().await.ctx("ec2", "DeleteFlowLogs", &fl_id)?;
        Ok(Some(fl_id))
    }
}

// ---------- the VPC's default security group: closed ----------

#[derive(Debug, Clone)]
struct DefaultSgNode;
crate::node_ops!(DefaultSgNode, "ec2:security-group");

async fn find_default_sg(ctx: &Ctx) -> Result<Option<aws_sdk_ec2::types::SecurityGroup>> {
    let Some(vpc) = ctx.get("vpc", "id") else { return Ok(None) };
    let out = ctx
        .clients
        .ec2
        .describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(Filter::builder().name("group-name").values("default").build())
        .send()
        .await
        .ctx("ec2", "DescribeSecurityGroups", &vpc)?;
    Ok(out.security_groups().iter().find(|g| g.vpc_id() == Some(vpc.as_str()) && g.group_name() == Some("default")).cloned())
}

impl DefaultSgNode {
    /// The default group must allow nothing: anything launched without a group lands in it.
    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        use super::security_group::{flatten, rule_changes};
        let Some(sg) = find_default_sg(ctx).await? else { return Ok(Found::Absent) };
        let mut changes = rule_changes("default_security_group.ingress", &BTreeSet::new(), &flatten(sg.ip_permissions()));
        changes.extend(rule_changes("default_security_group.egress", &BTreeSet::new(), &flatten(sg.ip_permissions_egress())));
        changes.extend(tag_changes(&ctx.tags(id, &ctx.name("default-sg")), ec2_tags(sg.tags())));
        Ok(Found::Present { attrs: attrs([("id", sg.group_id().unwrap_or_default().to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, _found: &Found) -> Result<Attrs> {
        let Some(sg) = find_default_sg(ctx).await? else {
            return Err(Error::usage(format!("VPC {} has no default security group", ctx.get("vpc", "id").unwrap_or_default())));
        };
        let sg_id = sg.group_id().unwrap_or_default().to_string();
        // tagged first: the provision policy allows changing an EC2 resource whose id AWS chose
        // only while it carries the stack's tag, and AWS creates the default group untagged
        retag(ctx, &sg_id, id, &ctx.name("default-sg")).await?;
        super::security_group::revoke_all(ctx, &sg).await?;
        Ok(attrs([("id", sg_id)]))
    }

    /// Deleted with its VPC.
    async fn delete(&self, _ctx: &Ctx, _id: &str) -> Result<Option<String>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
