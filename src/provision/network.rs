//! VPC, internet gateway, subnets, NAT gateways, route tables, flow logs, security groups.
//! Every EC2 resource is tagged at creation (TagSpecifications), so an interrupted run
//! leaves nothing untagged and the next run finds it.

use super::nodes::{nat_count, nat_id, private_route_table_count, private_subnet_id, public_subnet_id, SgKind};
use super::{attrs, diff, tag_changes, wait_for, Attrs, Change, Ctx, Found};
use crate::aws::Clients;
use crate::error::{Error, Result, SdkResultExt};
use crate::spec::validate::subnet_cidrs;
use crate::spec::{TAG_LOGICAL_ID, TAG_STACK};
use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, FlowLogsResourceType, IpPermission, IpRange, LogDestinationType, ResourceType, Tag, TagSpecification,
    TrafficType, UserIdGroupPair, VpcAttributeName,
};
use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;

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

fn tag_spec(ctx: &Ctx, rt: ResourceType, id: &str, name: &str) -> TagSpecification {
    let tags = ctx.tags(id, name).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build());
    TagSpecification::builder().resource_type(rt).set_tags(Some(tags.collect())).build()
}

fn owner_filters(ctx: &Ctx, id: &str) -> Vec<Filter> {
    vec![
        Filter::builder().name(format!("tag:{TAG_STACK}")).values(ctx.stack_name()).build(),
        Filter::builder().name(format!("tag:{TAG_LOGICAL_ID}")).values(id).build(),
    ]
}

fn ec2_tags(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

fn immutable(changes: &[Change], fields: &[&str]) -> Result<()> {
    match changes.iter().find(|c| fields.contains(&c.field.as_str())) {
        Some(c) => {
            Err(Error::usage(format!("{} cannot be changed in place (want {}, got {}): destroy the stack and provision it again", c.field, c.want, c.got)))
        }
        None => Ok(()),
    }
}

// ---------- VPC ----------

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

pub async fn inspect_vpc(ctx: &Ctx, id: &str) -> Result<Found> {
    let Some(vpc) = find_vpc(ctx, id).await? else { return Ok(Found::Absent) };
    let vpc_id = vpc.vpc_id().unwrap_or_default().to_string();
    let mut changes = Vec::new();
    diff(&mut changes, "network.cidr", ctx.stack.spec.network.cidr.as_str(), vpc.cidr_block().unwrap_or_default());
    diff(&mut changes, "network.dns_support", true, vpc_attr(ctx, &vpc_id, VpcAttributeName::EnableDnsSupport).await?);
    diff(&mut changes, "network.dns_hostnames", true, vpc_attr(ctx, &vpc_id, VpcAttributeName::EnableDnsHostnames).await?);
    changes.extend(tag_changes(&ctx.tags(id, &ctx.name("vpc")), ec2_tags(vpc.tags())));
    Ok(Found::Present { attrs: attrs([("id", vpc_id), ("cidr", vpc.cidr_block().unwrap_or_default().to_string())]), changes })
}

pub async fn apply_vpc(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let ec2 = &ctx.clients.ec2;
    let vpc_id = match found {
        Found::Present { attrs, changes } => {
            immutable(changes, &["network.cidr"])?;
            retag(ctx, &attrs["id"], id, &ctx.name("vpc")).await?;
            attrs["id"].clone()
        }
        Found::Absent => {
            let out = ec2
                .create_vpc()
                .cidr_block(&ctx.stack.spec.network.cidr)
                .tag_specifications(tag_spec(ctx, ResourceType::Vpc, id, &ctx.name("vpc")))
                .send()
                .await
                .ctx("ec2", "CreateVpc", id)?;
            out.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string()
        }
    };
    let on = || AttributeBooleanValue::builder().value(true).build();
    ec2.modify_vpc_attribute().vpc_id(&vpc_id).enable_dns_support(on()).send().await.ctx("ec2", "ModifyVpcAttribute", &vpc_id)?;
    ec2.modify_vpc_attribute().vpc_id(&vpc_id).enable_dns_hostnames(on()).send().await.ctx("ec2", "ModifyVpcAttribute", &vpc_id)?;
    Ok(attrs([("id", vpc_id), ("cidr", ctx.stack.spec.network.cidr.clone())]))
}

async fn retag(ctx: &Ctx, resource: &str, id: &str, name: &str) -> Result<()> {
    let tags = ctx.tags(id, name).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build());
    ctx.clients.ec2.create_tags().resources(resource).set_tags(Some(tags.collect())).send().await.ctx("ec2", "CreateTags", resource)?;
    Ok(())
}

pub async fn delete_vpc(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let Some(vpc) = find_vpc(ctx, id).await? else { return Ok(None) };
    let vpc_id = vpc.vpc_id().unwrap_or_default().to_string();
    ctx.clients.ec2.delete_vpc().vpc_id(&vpc_id).send().await.ctx("ec2", "DeleteVpc", &vpc_id)?;
    Ok(Some(vpc_id))
}

// ---------- Internet gateway ----------

async fn find_igw(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::InternetGateway>> {
    let out = ctx.clients.ec2.describe_internet_gateways().set_filters(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeInternetGateways", id)?;
    let found = out.internet_gateways().iter().filter(|g| ctx.owns(id, ec2_tags(g.tags()))).cloned().collect();
    ctx.single(id, "ec2:internet-gateway", found, |g| g.internet_gateway_id().unwrap_or_default().to_string())
}

pub async fn inspect_igw(ctx: &Ctx, id: &str) -> Result<Found> {
    let Some(igw) = find_igw(ctx, id).await? else { return Ok(Found::Absent) };
    let mut changes = Vec::new();
    let attached: Vec<String> = igw.attachments().iter().filter_map(|a| a.vpc_id().map(str::to_string)).collect();
    if let Some(vpc_id) = ctx.get("vpc", "id") {
        if !attached.contains(&vpc_id) {
            changes.push(Change::new("network.internet_gateway.vpc", &vpc_id, attached.join(",")));
        }
    }
    let igw_id = igw.internet_gateway_id().unwrap_or_default().to_string();
    Ok(Found::Present { attrs: attrs([("id", igw_id)]), changes })
}

pub async fn apply_igw(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let ec2 = &ctx.clients.ec2;
    let vpc_id = ctx.need("vpc", "id")?;
    let igw_id = match found {
        Found::Present { attrs, .. } => attrs["id"].clone(),
        Found::Absent => {
            let out = ec2.create_internet_gateway().tag_specifications(tag_spec(ctx, ResourceType::InternetGateway, id, &ctx.name("igw"))).send().await.ctx(
                "ec2",
                "CreateInternetGateway",
                id,
            )?;
            out.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default().to_string()
        }
    };
    ec2.attach_internet_gateway().internet_gateway_id(&igw_id).vpc_id(&vpc_id).send().await.ctx("ec2", "AttachInternetGateway", &igw_id)?;
    Ok(attrs([("id", igw_id)]))
}

pub async fn delete_igw(ctx: &Ctx, id: &str) -> Result<Option<String>> {
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

// ---------- Subnets ----------

fn subnet_cidr(ctx: &Ctx, public: bool, index: usize) -> String {
    let n = &ctx.stack.spec.network;
    let vpc = ipnet::Ipv4Net::from_str(&n.cidr).expect("validated CIDR");
    let (declared, offset) = if public { (&n.public_subnets, 0) } else { (&n.private_subnets, 10) };
    subnet_cidrs(vpc, n.az_count, declared.as_ref(), offset)[index].clone()
}

async fn find_subnet(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::Subnet>> {
    let out = ctx.clients.ec2.describe_subnets().set_filters(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeSubnets", id)?;
    let found = out.subnets().iter().filter(|x| ctx.owns(id, ec2_tags(x.tags()))).cloned().collect();
    ctx.single(id, "ec2:subnet", found, |x| x.subnet_id().unwrap_or_default().to_string())
}

pub async fn inspect_subnet(ctx: &Ctx, id: &str, public: bool, index: usize) -> Result<Found> {
    let Some(s) = find_subnet(ctx, id).await? else { return Ok(Found::Absent) };
    let field = if public { "network.public_subnets" } else { "network.private_subnets" };
    let mut changes = Vec::new();
    diff(&mut changes, &format!("{field}[{index}]"), subnet_cidr(ctx, public, index).as_str(), s.cidr_block().unwrap_or_default());
    diff(&mut changes, &format!("{field}[{index}].availability_zone"), ctx.azs[index].as_str(), s.availability_zone().unwrap_or_default());
    diff(&mut changes, &format!("{field}[{index}].map_public_ip_on_launch"), false, s.map_public_ip_on_launch().unwrap_or(false));
    let name = ctx.name(id);
    changes.extend(tag_changes(&ctx.tags(id, &name), ec2_tags(s.tags())));
    let subnet_id = s.subnet_id().unwrap_or_default().to_string();
    Ok(Found::Present { attrs: attrs([("id", subnet_id), ("az", ctx.azs[index].clone())]), changes })
}

pub async fn apply_subnet(ctx: &Ctx, id: &str, public: bool, index: usize, found: &Found) -> Result<Attrs> {
    let ec2 = &ctx.clients.ec2;
    let subnet_id = match found {
        Found::Present { attrs, changes } => {
            let field = if public { "network.public_subnets" } else { "network.private_subnets" };
            immutable(changes, &[&format!("{field}[{index}]"), &format!("{field}[{index}].availability_zone")])?;
            retag(ctx, &attrs["id"], id, &ctx.name(id)).await?;
            attrs["id"].clone()
        }
        Found::Absent => {
            let out = ec2
                .create_subnet()
                .vpc_id(ctx.need("vpc", "id")?)
                .cidr_block(subnet_cidr(ctx, public, index))
                .availability_zone(&ctx.azs[index])
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
    Ok(attrs([("id", subnet_id), ("az", ctx.azs[index].clone())]))
}

pub async fn delete_subnet(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let Some(s) = find_subnet(ctx, id).await? else { return Ok(None) };
    let subnet_id = s.subnet_id().unwrap_or_default().to_string();
    ctx.clients.ec2.delete_subnet().subnet_id(&subnet_id).send().await.ctx("ec2", "DeleteSubnet", &subnet_id)?;
    Ok(Some(subnet_id))
}

// ---------- NAT gateways (with their Elastic IPs) ----------

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

pub async fn inspect_nat(ctx: &Ctx, id: &str, index: usize) -> Result<Found> {
    let Some(nat) = find_nat(ctx, id).await? else { return Ok(Found::Absent) };
    let mut changes = Vec::new();
    if let Some(subnet) = ctx.get(&public_subnet_id(index), "id") {
        diff(&mut changes, "network.nat_gateways.subnet", subnet.as_str(), nat.subnet_id().unwrap_or_default());
    }
    let nat_id = nat.nat_gateway_id().unwrap_or_default().to_string();
    Ok(Found::Present { attrs: attrs([("id", nat_id)]), changes })
}

pub async fn apply_nat(ctx: &Ctx, id: &str, index: usize, found: &Found) -> Result<Attrs> {
    if let Found::Present { attrs, changes } = found {
        immutable(changes, &["network.nat_gateways.subnet"])?;
        return Ok(attrs.clone());
    }
    let ec2 = &ctx.clients.ec2;
    let allocation = match find_eip(ctx, index).await? {
        Some(a) => a.allocation_id().unwrap_or_default().to_string(),
        None => {
            let eid = eip_id(index);
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
        .subnet_id(ctx.need(&public_subnet_id(index), "id")?)
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

pub async fn delete_nat(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let index: usize = id.trim_start_matches("nat-gateway-").parse::<usize>().unwrap_or(1) - 1;
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
    if let Some(eip) = find_eip(ctx, index).await? {
        let alloc = eip.allocation_id().unwrap_or_default().to_string();
        if let Some(assoc) = eip.association_id() {
            ec2.disassociate_address().association_id(assoc).send().await.ctx("ec2", "DisassociateAddress", &alloc)?;
        }
        ec2.release_address().allocation_id(&alloc).send().await.ctx("ec2", "ReleaseAddress", &alloc)?;
        return Ok(Some(nat_id.map(|n| format!("{n} + {alloc}")).unwrap_or(alloc)));
    }
    Ok(nat_id)
}

// ---------- Route tables ----------

/// What a route table should hold: its default-route target and its subnets.
fn route_plan(ctx: &Ctx, private: Option<usize>) -> (Option<String>, Vec<String>) {
    let azs = ctx.stack.spec.network.az_count;
    match private {
        None => (ctx.get("internet-gateway", "id"), (0..azs).filter_map(|i| ctx.get(&public_subnet_id(i), "id")).collect()),
        Some(t) => {
            let tables = private_route_table_count(&ctx.stack);
            let target = (nat_count(&ctx.stack) > 0).then(|| ctx.get(&nat_id(t), "id")).flatten();
            let subnets = (0..azs).filter(|i| i % tables == t).filter_map(|i| ctx.get(&private_subnet_id(i), "id")).collect();
            (target, subnets)
        }
    }
}

async fn find_rt(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::RouteTable>> {
    let out = ctx.clients.ec2.describe_route_tables().set_filters(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeRouteTables", id)?;
    let found = out.route_tables().iter().filter(|r| ctx.owns(id, ec2_tags(r.tags()))).cloned().collect();
    ctx.single(id, "ec2:route-table", found, |r| r.route_table_id().unwrap_or_default().to_string())
}

fn default_route_target(rt: &aws_sdk_ec2::types::RouteTable) -> Option<String> {
    rt.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0")).and_then(|r| r.gateway_id().or(r.nat_gateway_id()).map(str::to_string))
}

pub async fn inspect_routes(ctx: &Ctx, id: &str, private: Option<usize>) -> Result<Found> {
    let Some(rt) = find_rt(ctx, id).await? else { return Ok(Found::Absent) };
    let (target, subnets) = route_plan(ctx, private);
    let mut changes = Vec::new();
    let got_target = default_route_target(&rt);
    if private.is_none() || nat_count(&ctx.stack) > 0 {
        diff(&mut changes, "network.routes.default", target.clone(), got_target);
    } else {
        diff(&mut changes, "network.routes.default", None, got_target);
    }
    let associated: BTreeSet<String> = rt.associations().iter().filter_map(|a| a.subnet_id().map(str::to_string)).collect();
    let want: BTreeSet<String> = subnets.into_iter().collect();
    diff(&mut changes, "network.routes.subnets", want, associated);
    let rt_id = rt.route_table_id().unwrap_or_default().to_string();
    Ok(Found::Present { attrs: attrs([("id", rt_id)]), changes })
}

pub async fn apply_routes(ctx: &Ctx, id: &str, private: Option<usize>, found: &Found) -> Result<Attrs> {
    let ec2 = &ctx.clients.ec2;
    let rt_id = match found {
        Found::Present { attrs, .. } => attrs["id"].clone(),
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
    let (target, subnets) = route_plan(ctx, private);
    let current = default_route_target(&rt);
    if let Some(target) = &target {
        if current.as_deref() != Some(target.as_str()) {
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

pub async fn delete_routes(ctx: &Ctx, id: &str) -> Result<Option<String>> {
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

// ---------- Flow logs ----------

async fn find_flow_log(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::FlowLog>> {
    let out = ctx.clients.ec2.describe_flow_logs().set_filter(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeFlowLogs", id)?;
    let found = out.flow_logs().iter().filter(|f| ctx.owns(id, ec2_tags(f.tags()))).cloned().collect();
    ctx.single(id, "ec2:flow-log", found, |f| f.flow_log_id().unwrap_or_default().to_string())
}

pub async fn inspect_flow_log(ctx: &Ctx, id: &str) -> Result<Found> {
    let Some(fl) = find_flow_log(ctx, id).await? else { return Ok(Found::Absent) };
    let mut changes = Vec::new();
    if let Some(vpc) = ctx.get("vpc", "id") {
        diff(&mut changes, "network.flow_logs.vpc", vpc.as_str(), fl.resource_id().unwrap_or_default());
    }
    if let Some(group) = ctx.get("flow-log-group", "name") {
        diff(&mut changes, "network.flow_logs.log_group", group.as_str(), fl.log_group_name().unwrap_or_default());
    }
    diff(&mut changes, "network.flow_logs.traffic_type", "ALL", fl.traffic_type().map(|t| t.as_str()).unwrap_or_default());
    let fl_id = fl.flow_log_id().unwrap_or_default().to_string();
    Ok(Found::Present { attrs: attrs([("id", fl_id)]), changes })
}

pub async fn apply_flow_log(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
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

pub async fn delete_flow_log(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let Some(fl) = find_flow_log(ctx, id).await? else { return Ok(None) };
    let fl_id = fl.flow_log_id().unwrap_or_default().to_string();
    ctx.clients.ec2.delete_flow_logs().flow_log_ids(&fl_id).send().await.ctx("ec2", "DeleteFlowLogs", &fl_id)?;
    Ok(Some(fl_id))
}

// ---------- Security groups ----------

/// One security-group rule, flattened: protocol, port range (None = all), and source/destination
/// (`cidr:…`, `cidr6:…`, `sg:…`, `pl:…`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub protocol: String,
    pub ports: Option<(i32, i32)>,
    pub peer: String,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ports {
            Some((a, b)) if a == b => write!(f, "{}/{} from {}", self.protocol, a, self.peer),
            Some((a, b)) => write!(f, "{}/{}-{} from {}", self.protocol, a, b, self.peer),
            None => write!(f, "{}/all from {}", if self.protocol == "-1" { "all" } else { &self.protocol }, self.peer),
        }
    }
}

pub fn flatten(perms: &[IpPermission]) -> BTreeSet<Rule> {
    let mut out = BTreeSet::new();
    for p in perms {
        let protocol = p.ip_protocol().unwrap_or("-1").to_string();
        let ports = match (protocol.as_str(), p.from_port(), p.to_port()) {
            ("-1", _, _) => None,
            (_, Some(a), Some(b)) if a >= 0 => Some((a, b)),
            _ => None,
        };
        let mut push = |peer: String| {
            out.insert(Rule { protocol: protocol.clone(), ports, peer });
        };
        p.ip_ranges().iter().filter_map(|r| r.cidr_ip()).for_each(|c| push(format!("cidr:{c}")));
        p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()).for_each(|c| push(format!("cidr6:{c}")));
        p.user_id_group_pairs().iter().filter_map(|g| g.group_id()).for_each(|g| push(format!("sg:{g}")));
        p.prefix_list_ids().iter().filter_map(|g| g.prefix_list_id()).for_each(|g| push(format!("pl:{g}")));
    }
    out
}

fn to_permission(rule: &Rule, description: &str) -> IpPermission {
    let mut b = IpPermission::builder().ip_protocol(&rule.protocol);
    if let Some((a, z)) = rule.ports {
        b = b.from_port(a).to_port(z);
    }
    if let Some(c) = rule.peer.strip_prefix("cidr:") {
        b = b.ip_ranges(IpRange::builder().cidr_ip(c).description(description).build());
    } else if let Some(g) = rule.peer.strip_prefix("sg:") {
        b = b.user_id_group_pairs(UserIdGroupPair::builder().group_id(g).description(description).build());
    } else if let Some(c) = rule.peer.strip_prefix("cidr6:") {
        b = b.ipv6_ranges(aws_sdk_ec2::types::Ipv6Range::builder().cidr_ipv6(c).build());
    } else if let Some(p) = rule.peer.strip_prefix("pl:") {
        b = b.prefix_list_ids(aws_sdk_ec2::types::PrefixListId::builder().prefix_list_id(p).build());
    }
    b.build()
}

/// The exact rules each group must have: (ingress, egress).
pub fn desired_rules(ctx: &Ctx, kind: SgKind) -> (BTreeSet<Rule>, BTreeSet<Rule>) {
    match kind {
        SgKind::EcsTasks => {
            let port = crate::components::service::legacy_app_port(&ctx.stack) as i32;
            let ingress = Rule { protocol: "tcp".into(), ports: Some((port, port)), peer: format!("cidr:{}", ctx.stack.spec.network.cidr) };
            let egress = Rule { protocol: "-1".into(), ports: None, peer: "cidr:0.0.0.0/0".into() };
            (BTreeSet::from([ingress]), BTreeSet::from([egress]))
        }
        SgKind::Database => {
            let port = ctx.stack.spec.database.port as i32;
            let ecs = ctx.get("ecs-tasks-sg", "id").unwrap_or_else(|| "(ecs-tasks-sg)".into());
            let mut ingress = BTreeSet::from([Rule { protocol: "tcp".into(), ports: Some((port, port)), peer: format!("sg:{ecs}") }]);
            for cidr in &ctx.stack.spec.database.allowed_cidrs {
                ingress.insert(Rule { protocol: "tcp".into(), ports: Some((port, port)), peer: format!("cidr:{cidr}") });
            }
            (ingress, BTreeSet::new())
        }
    }
}

async fn find_sg(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::SecurityGroup>> {
    let out = ctx.clients.ec2.describe_security_groups().set_filters(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeSecurityGroups", id)?;
    let found = out.security_groups().iter().filter(|g| ctx.owns(id, ec2_tags(g.tags()))).cloned().collect();
    ctx.single(id, "ec2:security-group", found, |g| g.group_id().unwrap_or_default().to_string())
}

fn rule_changes(field: &str, want: &BTreeSet<Rule>, got: &BTreeSet<Rule>) -> Vec<Change> {
    let mut changes = Vec::new();
    for r in want.difference(got) {
        changes.push(Change::new(field, r, "(absent)"));
    }
    for r in got.difference(want) {
        changes.push(Change::new(field, "(absent)", r));
    }
    changes
}

/// A group with the stack's name in the stack's VPC but without its tags (group names are
/// unique per VPC, so provision could not create its own): not adopted.
async fn claim_sg_name(ctx: &Ctx, id: &str, kind: SgKind) -> Result<()> {
    let Some(vpc) = ctx.get("vpc", "id") else { return Ok(()) };
    let name = super::names::security_group(&ctx.stack, kind);
    let out = ctx
        .clients
        .ec2
        .describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(Filter::builder().name("group-name").values(&name).build())
        .send()
        .await
        .ctx("ec2", "DescribeSecurityGroups", &name)?;
    for g in out.security_groups().iter().filter(|g| g.group_name() == Some(name.as_str())) {
        ctx.claim(id, "ec2:security-group", &format!("{name} ({})", g.group_id().unwrap_or_default()), ec2_tags(g.tags()))?;
    }
    Ok(())
}

pub async fn inspect_sg(ctx: &Ctx, id: &str, kind: SgKind) -> Result<Found> {
    let Some(sg) = find_sg(ctx, id).await? else {
        claim_sg_name(ctx, id, kind).await?;
        return Ok(Found::Absent);
    };
    let (want_in, want_out) = desired_rules(ctx, kind);
    let mut changes = rule_changes(&format!("security.{}.ingress", super::names::security_group_suffix(kind)), &want_in, &flatten(sg.ip_permissions()));
    changes.extend(rule_changes(&format!("security.{}.egress", super::names::security_group_suffix(kind)), &want_out, &flatten(sg.ip_permissions_egress())));
    changes.extend(tag_changes(&ctx.tags(id, &super::names::security_group(&ctx.stack, kind)), ec2_tags(sg.tags())));
    let sg_id = sg.group_id().unwrap_or_default().to_string();
    Ok(Found::Present { attrs: attrs([("id", sg_id)]), changes })
}

pub async fn apply_sg(ctx: &Ctx, id: &str, kind: SgKind, found: &Found) -> Result<Attrs> {
    let ec2 = &ctx.clients.ec2;
    let name = super::names::security_group(&ctx.stack, kind);
    let sg_id = match found {
        Found::Present { attrs, .. } => attrs["id"].clone(),
        Found::Absent => {
            let description = match kind {
                SgKind::EcsTasks => format!("{name}: ECS tasks, app port from the VPC only"),
                SgKind::Database => format!("{name}: database, from the ECS tasks only, no egress"),
            };
            ec2.create_security_group()
                .group_name(&name)
                .description(description)
                .vpc_id(ctx.need("vpc", "id")?)
                .tag_specifications(tag_spec(ctx, ResourceType::SecurityGroup, id, &name))
                .send()
                .await
                .ctx("ec2", "CreateSecurityGroup", &name)?
                .group_id()
                .unwrap_or_default()
                .to_string()
        }
    };
    let current = ec2.describe_security_groups().group_ids(&sg_id).send().await.ctx("ec2", "DescribeSecurityGroups", &sg_id)?;
    let current = current.security_groups().first().cloned().ok_or_else(|| Error::usage(format!("security group {sg_id} vanished")))?;
    let (want_in, want_out) = desired_rules(ctx, kind);
    let (got_in, got_out) = (flatten(current.ip_permissions()), flatten(current.ip_permissions_egress()));
    let description = format!("tapaudit {}", ctx.stack.name);
    let add_in: Vec<_> = want_in.difference(&got_in).map(|r| to_permission(r, &description)).collect();
    let del_in: Vec<_> = got_in.difference(&want_in).map(|r| to_permission(r, "")).collect();
    let add_out: Vec<_> = want_out.difference(&got_out).map(|r| to_permission(r, &description)).collect();
    let del_out: Vec<_> = got_out.difference(&want_out).map(|r| to_permission(r, "")).collect();
    if !del_in.is_empty() {
        ec2.revoke_security_group_ingress().group_id(&sg_id).set_ip_permissions(Some(del_in)).send().await.ctx("ec2", "RevokeSecurityGroupIngress", &sg_id)?;
    }
    if !add_in.is_empty() {
        ec2.authorize_security_group_ingress().group_id(&sg_id).set_ip_permissions(Some(add_in)).send().await.ctx(
            "ec2",
            "AuthorizeSecurityGroupIngress",
            &sg_id,
        )?;
    }
    if !del_out.is_empty() {
        ec2.revoke_security_group_egress().group_id(&sg_id).set_ip_permissions(Some(del_out)).send().await.ctx("ec2", "RevokeSecurityGroupEgress", &sg_id)?;
    }
    if !add_out.is_empty() {
        ec2.authorize_security_group_egress().group_id(&sg_id).set_ip_permissions(Some(add_out)).send().await.ctx(
            "ec2",
            "AuthorizeSecurityGroupEgress",
            &sg_id,
        )?;
    }
    retag(ctx, &sg_id, id, &name).await?;
    Ok(attrs([("id", sg_id)]))
}

pub async fn delete_sg(ctx: &Ctx, id: &str, _kind: SgKind) -> Result<Option<String>> {
    let Some(sg) = find_sg(ctx, id).await? else { return Ok(None) };
    let sg_id = sg.group_id().unwrap_or_default().to_string();
    ctx.clients.ec2.delete_security_group().group_id(&sg_id).send().await.ctx("ec2", "DeleteSecurityGroup", &sg_id)?;
    Ok(Some(sg_id))
}

// ---------- the VPC's default security group: closed ----------

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

/// The default group must allow nothing: anything launched without a group lands in it.
pub async fn inspect_default_sg(ctx: &Ctx, id: &str) -> Result<Found> {
    let Some(sg) = find_default_sg(ctx).await? else { return Ok(Found::Absent) };
    let mut changes = rule_changes("network.default_security_group.ingress", &BTreeSet::new(), &flatten(sg.ip_permissions()));
    changes.extend(rule_changes("network.default_security_group.egress", &BTreeSet::new(), &flatten(sg.ip_permissions_egress())));
    changes.extend(tag_changes(&ctx.tags(id, &ctx.name("default-sg")), ec2_tags(sg.tags())));
    Ok(Found::Present { attrs: attrs([("id", sg.group_id().unwrap_or_default().to_string())]), changes })
}

pub async fn apply_default_sg(ctx: &Ctx, id: &str) -> Result<Attrs> {
    let Some(sg) = find_default_sg(ctx).await? else {
        return Err(Error::usage(format!("VPC {} has no default security group", ctx.get("vpc", "id").unwrap_or_default())));
    };
    let sg_id = sg.group_id().unwrap_or_default().to_string();
    let ec2 = &ctx.clients.ec2;
    if !sg.ip_permissions().is_empty() {
        ec2.revoke_security_group_ingress().group_id(&sg_id).set_ip_permissions(Some(sg.ip_permissions().to_vec())).send().await.ctx(
            "ec2",
            "RevokeSecurityGroupIngress",
            &sg_id,
        )?;
    }
    if !sg.ip_permissions_egress().is_empty() {
        ec2.revoke_security_group_egress().group_id(&sg_id).set_ip_permissions(Some(sg.ip_permissions_egress().to_vec())).send().await.ctx(
            "ec2",
            "RevokeSecurityGroupEgress",
            &sg_id,
        )?;
    }
    retag(ctx, &sg_id, id, &ctx.name("default-sg")).await?;
    Ok(attrs([("id", sg_id)]))
}
