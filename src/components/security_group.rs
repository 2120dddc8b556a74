//! `[security_groups.<id>]`: a security group in the stack's VPC with exactly the declared
//! rules (no default egress: every rule is explicit). A rule's peer is another security group
//! of the stack (by logical id), `"vpc"` (the VPC's CIDR) or an IPv4 CIDR.
//!
//! Two nodes per group: `<id>` creates the (empty) group, `<id>-rules` converges its rules and
//! waits for every group they name, so groups may reference each other (app → db, db ← app)
//! without a dependency cycle.

use super::network::{ec2_tags, owner_filters, retag, tag_spec};
use super::{desired_ids, Component, Cx, Kind, Output, Problem, Reference};
use crate::error::{Error, Result, SdkResultExt};
use crate::model::ec2::{Rule as ModelRule, SecurityGroup as Model};
use crate::model::State;
use crate::provision::{attrs, tag_changes, Attrs, Change, Ctx, Found, Node};
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, ResourceType, UserIdGroupPair};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::str::FromStr;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityGroup {
    /// What the group is for (EC2 group description; default: its name).
    pub description: Option<String>,
    /// Inbound rules: `{ port = 5432, from = "app-sg" }`. None by default.
    pub ingress: Vec<RuleSpec>,
    /// Outbound rules: `{ protocol = "all", to = "0.0.0.0/0" }`. None by default (no implicit
    /// allow-all egress).
    pub egress: Vec<RuleSpec>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    /// Every protocol and port (no `port`).
    All,
}

impl Protocol {
    /// The EC2 `IpProtocol` value.
    pub fn ec2(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::All => "-1",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuleSpec {
    /// tcp (default), udp, or all (every protocol and port, without `port`).
    pub protocol: Protocol,
    /// The port (first port of a range with `to_port`).
    pub port: Option<u16>,
    /// Last port of a range.
    pub to_port: Option<u16>,
    /// Ingress peer: a security group's logical id, "vpc" (the VPC CIDR) or an IPv4 CIDR.
    pub from: Option<String>,
    /// Egress peer: a security group's logical id, "vpc" or an IPv4 CIDR.
    pub to: Option<String>,
    /// The rule's description.
    pub description: Option<String>,
    /// Accept an ingress rule open to the internet (0.0.0.0/0) on a port other than 80/443;
    /// the network controls still judge it.
    pub public: bool,
}

/// A rule's peer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Peer {
    /// A security group of the stack (logical id).
    Group(String),
    /// The VPC's CIDR.
    Vpc,
    Cidr(String),
}

impl Peer {
    pub fn parse(s: &str) -> Peer {
        if s == "vpc" {
            Peer::Vpc
        } else if s.starts_with(|c: char| c.is_ascii_digit()) || s.contains('/') {
            Peer::Cidr(s.to_string())
        } else {
            Peer::Group(s.to_string())
        }
    }
}

/// Which side a rule is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Ingress,
    Egress,
}

impl Dir {
    fn field(self) -> &'static str {
        match self {
            Dir::Ingress => "ingress",
            Dir::Egress => "egress",
        }
    }
    /// The peer's setting name.
    fn peer(self) -> &'static str {
        match self {
            Dir::Ingress => "from",
            Dir::Egress => "to",
        }
    }
}

impl RuleSpec {
    fn peer_of(&self, dir: Dir) -> Option<&str> {
        match dir {
            Dir::Ingress => self.from.as_deref(),
            Dir::Egress => self.to.as_deref(),
        }
    }

    /// The port range (None = every port).
    fn ports(&self) -> Option<(i32, i32)> {
        match self.protocol {
            Protocol::All => None,
            _ => self.port.map(|p| (p as i32, self.to_port.unwrap_or(p) as i32)),
        }
    }
}

impl SecurityGroup {
    fn rules(&self, dir: Dir) -> &[RuleSpec] {
        match dir {
            Dir::Ingress => &self.ingress,
            Dir::Egress => &self.egress,
        }
    }

    /// Every (direction, index, peer) of the group's rules.
    fn peers(&self) -> Vec<(Dir, usize, Peer)> {
        let mut out = Vec::new();
        for dir in [Dir::Ingress, Dir::Egress] {
            for (i, r) in self.rules(dir).iter().enumerate() {
                if let Some(p) = r.peer_of(dir) {
                    out.push((dir, i, Peer::parse(p)));
                }
            }
        }
        out
    }

    /// The groups its rules name (logical ids).
    pub fn groups_named(&self) -> BTreeSet<String> {
        self.peers().into_iter().filter_map(|(_, _, p)| if let Peer::Group(g) = p { Some(g) } else { None }).collect()
    }

    /// The rules as the EC2 model flattens them, peers resolved by `group` (logical id → group
    /// id) and `vpc_cidr`.
    fn flat(&self, dir: Dir, vpc_cidr: &str, group: &dyn Fn(&str) -> String) -> BTreeSet<Rule> {
        self.rules(dir)
            .iter()
            .filter_map(|r| {
                let peer = match Peer::parse(r.peer_of(dir)?) {
                    Peer::Group(g) => format!("sg:{}", group(&g)),
                    Peer::Vpc => format!("cidr:{vpc_cidr}"),
                    Peer::Cidr(c) => format!("cidr:{c}"),
                };
                Some(Rule { protocol: r.protocol.ec2().to_string(), ports: r.ports(), peer, description: r.description.clone() })
            })
            .collect()
    }

    fn description(&self, cx: &Cx) -> String {
        self.description.clone().unwrap_or_else(|| format!("{} (tapaudit)", cx.name(cx.id)))
    }
}

/// Characters EC2 accepts in a group or rule description (VPC groups).
fn description_ok(s: &str) -> bool {
    s.len() <= 255 && s.chars().all(|c| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c))
}

fn check_rule(cx: &Cx, dir: Dir, i: usize, r: &RuleSpec) -> Vec<Problem> {
    let mut out = Vec::new();
    let at = |f: &str| format!("{}[{i}]{}", dir.field(), if f.is_empty() { String::new() } else { format!(".{f}") });
    let other = match dir {
        Dir::Ingress => r.to.is_some().then_some("to"),
        Dir::Egress => r.from.is_some().then_some("from"),
    };
    if let Some(f) = other {
        out.push(cx.problem(&at(f), format!("is not a setting of an {} rule: name the peer with `{}`", dir.field(), dir.peer())));
    }
    let Some(peer) = r.peer_of(dir) else {
        out.push(cx.problem(&at(""), format!("needs `{}`: a security group's logical id, \"vpc\" or an IPv4 CIDR", dir.peer())));
        return out;
    };
    match r.protocol {
        Protocol::All => {
            if r.port.is_some() || r.to_port.is_some() {
                out.push(cx.problem(&at("port"), "must be omitted with protocol = \"all\" (every port)"));
            }
        }
        _ => match (r.port, r.to_port) {
            (None, _) => out.push(cx.problem(&at(""), "needs `port` (tcp and udp rules name their ports; use protocol = \"all\" for every port)")),
            (Some(p), Some(to)) if to < p => out.push(cx.problem(&at("to_port"), format!("must not be below port ({to} < {p})"))),
            _ => {}
        },
    }
    if let Some(d) = &r.description {
        if !description_ok(d) {
            out.push(cx.problem(&at("description"), "must be at most 255 characters of letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*"));
        }
    }
    if let Peer::Cidr(c) = Peer::parse(peer) {
        match Ipv4Net::from_str(c.as_str()) {
            Ok(net) if net.network() != net.addr() => out.push(cx.problem(&at(dir.peer()), format!("has host bits set: {c} (did you mean {}?)", net.trunc()))),
            Ok(net) => {
                let web = matches!(r.ports(), Some((a, b)) if (a == 80 || a == 443) && a == b);
                if dir == Dir::Ingress && net.prefix_len() == 0 && !web && !r.public {
                    let what = match r.ports() {
                        None => "every port".to_string(),
                        Some((a, b)) if a == b => format!("port {a}"),
                        Some((a, b)) => format!("ports {a}-{b}"),
                    };
                    out.push(cx.problem(
                        &at("from"),
                        format!("opens {what} to the internet (0.0.0.0/0): only 80 and 443 may be public; set `public = true` on this rule to accept it (the network controls still judge it)"),
                    ));
                }
            }
            Err(_) => out.push(cx.problem(&at(dir.peer()), format!("is not \"vpc\", a security group's logical id or an IPv4 CIDR block (got {c:?})"))),
        }
    }
    out
}

impl Component for SecurityGroup {
    const KIND: Kind = Kind::SecurityGroup;

    fn references(&self) -> Vec<Reference> {
        self.peers()
            .into_iter()
            .filter_map(|(dir, i, p)| match p {
                Peer::Group(g) => Some(Reference::new(format!("{}[{i}].{}", dir.field(), dir.peer()), &g, &[Kind::SecurityGroup])),
                _ => None,
            })
            .collect()
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        let mut out = Vec::new();
        if let Some(d) = &self.description {
            if d.is_empty() || !description_ok(d) {
                out.push(cx.problem("description", "must be 1–255 characters of letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*"));
            }
        }
        let name = cx.name(cx.id);
        if name.len() > 255 {
            out.push(cx.problem("", format!("makes the group name {name:?} longer than EC2's 255 characters")));
        }
        for dir in [Dir::Ingress, Dir::Egress] {
            for (i, r) in self.rules(dir).iter().enumerate() {
                out.extend(check_rule(cx, dir, i, r));
            }
        }
        out
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        let name = cx.name(cx.id);
        let group = GroupNode { name: name.clone(), description: self.description(cx) };
        let mut groups: Vec<String> = self.groups_named().into_iter().collect();
        if !groups.iter().any(|g| g == cx.id) {
            groups.push(cx.id.to_string());
        }
        let rules = RulesNode { group: cx.id.to_string(), spec: self.clone(), vpc_cidr: cx.stack.spec.network.cidr.clone() };
        let mut deps: Vec<&str> = groups.iter().map(String::as_str).collect();
        deps.push("vpc");
        vec![cx.node(cx.id, group, &["vpc"]), cx.node(rules_id(cx.id), rules, &deps)]
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        let id = desired_ids::security_group(cx.id);
        let name = cx.name(cx.id);
        let vpc_cidr = &cx.stack.spec.network.cidr;
        let model = |rules: BTreeSet<Rule>| rules.into_iter().map(|r| r.model()).collect();
        st.ec2.security_groups.insert(Model {
            meta: cx.meta("ec2:security-group", cx.id, &id, cx.arn("ec2", &format!("security-group/{id}")), &name, ""),
            group_name: name,
            vpc_id: desired_ids::VPC.into(),
            ingress: model(self.flat(Dir::Ingress, vpc_cidr, &desired_ids::security_group)),
            egress: model(self.flat(Dir::Egress, vpc_cidr, &desired_ids::security_group)),
        });
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        vec![Output { name: cx.at("id"), node: cx.id.to_string(), attr: "id".into() }]
    }
}

/// The node that converges a group's rules.
pub fn rules_id(group: &str) -> String {
    format!("{group}-rules")
}

/// Drift of the stack's security groups (the VPC's default group included): every declared
/// rule present, no undeclared ingress, egress exactly as declared.
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.ec2.security_groups, &live.ec2.security_groups, |d, w, g| {
        let resolve = |d: &crate::drift::Drift, r: &ModelRule| {
            let mut r = r.clone();
            if let Some(sg) = r.peer.strip_prefix("sg:") {
                r.peer = format!("sg:{}", d.res(sg));
            }
            r
        };
        let setting = d.setting(&w.meta, "ingress");
        let want_in: BTreeSet<_> = w.ingress.iter().map(|r| resolve(d, r)).collect();
        let got_in: BTreeSet<_> = g.ingress.iter().cloned().collect();
        for r in want_in.difference(&got_in) {
            d.field(&g.meta, "ingress", &setting, json!(r.to_string()), Value::Null);
        }
        for r in got_in.difference(&want_in) {
            let what = format!("ingress rule {r} on security group {} is not declared by the stack file", g.meta.display_name());
            d.unmanaged(&g.meta, what, "ingress", json!(r.to_string()), &setting);
        }
        let setting = d.setting(&w.meta, "egress");
        let want_out: BTreeSet<_> = w.egress.iter().map(|r| resolve(d, r)).collect();
        let got_out: BTreeSet<_> = g.egress.iter().cloned().collect();
        if want_out != got_out {
            let show = |s: &BTreeSet<ModelRule>| json!(s.iter().map(|r| r.to_string()).collect::<Vec<_>>());
            d.field(&g.meta, "egress", &setting, show(&want_out), show(&got_out));
        }
    });
}

// ---------- rules as EC2 holds them ----------

/// One security-group rule, flattened: protocol, port range (None = all), peer (`cidr:…`,
/// `cidr6:…`, `sg:…`, `pl:…`); the description is carried along but not compared.
#[derive(Debug, Clone)]
pub struct Rule {
    pub protocol: String,
    pub ports: Option<(i32, i32)>,
    pub peer: String,
    pub description: Option<String>,
}

impl Rule {
    fn key(&self) -> (&str, Option<(i32, i32)>, &str) {
        (&self.protocol, self.ports, &self.peer)
    }

    fn model(&self) -> ModelRule {
        ModelRule { protocol: self.protocol.clone(), from_port: self.ports.map(|p| p.0), to_port: self.ports.map(|p| p.1), peer: self.peer.clone() }
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Rule {}
impl PartialOrd for Rule {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Rule {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.model().fmt(f)
    }
}

/// The rules of EC2 permissions, one per peer.
pub fn flatten(perms: &[IpPermission]) -> BTreeSet<Rule> {
    let mut out = BTreeSet::new();
    for p in perms {
        let protocol = p.ip_protocol().unwrap_or("-1").to_string();
        let ports = match (protocol.as_str(), p.from_port(), p.to_port()) {
            ("-1", _, _) => None,
            (_, Some(a), Some(b)) if a >= 0 => Some((a, b)),
            _ => None,
        };
        let mut push = |peer: String, description: Option<&str>| {
            out.insert(Rule { protocol: protocol.clone(), ports, peer, description: description.map(str::to_string) });
        };
        p.ip_ranges().iter().for_each(|r| {
            if let Some(c) = r.cidr_ip() {
                push(format!("cidr:{c}"), r.description())
            }
        });
        p.ipv6_ranges().iter().for_each(|r| {
            if let Some(c) = r.cidr_ipv6() {
                push(format!("cidr6:{c}"), r.description())
            }
        });
        p.user_id_group_pairs().iter().for_each(|g| {
            if let Some(id) = g.group_id() {
                push(format!("sg:{id}"), g.description())
            }
        });
        p.prefix_list_ids().iter().for_each(|l| {
            if let Some(id) = l.prefix_list_id() {
                push(format!("pl:{id}"), l.description())
            }
        });
    }
    out
}

fn to_permission(rule: &Rule) -> IpPermission {
    let mut b = IpPermission::builder().ip_protocol(&rule.protocol);
    if let Some((a, z)) = rule.ports {
        b = b.from_port(a).to_port(z);
    }
    let d = rule.description.clone();
    if let Some(c) = rule.peer.strip_prefix("cidr:") {
        b = b.ip_ranges(IpRange::builder().cidr_ip(c).set_description(d).build());
    } else if let Some(g) = rule.peer.strip_prefix("sg:") {
        b = b.user_id_group_pairs(UserIdGroupPair::builder().group_id(g).set_description(d).build());
    } else if let Some(c) = rule.peer.strip_prefix("cidr6:") {
        b = b.ipv6_ranges(aws_sdk_ec2::types::Ipv6Range::builder().cidr_ipv6(c).build());
    } else if let Some(p) = rule.peer.strip_prefix("pl:") {
        b = b.prefix_list_ids(aws_sdk_ec2::types::PrefixListId::builder().prefix_list_id(p).build());
    }
    b.build()
}

/// The differences between wanted and live rules, one change per rule.
pub fn rule_changes(field: &str, want: &BTreeSet<Rule>, got: &BTreeSet<Rule>) -> Vec<Change> {
    let mut changes = Vec::new();
    for r in want.difference(got) {
        changes.push(Change::new(field, r, "(absent)"));
    }
    for r in got.difference(want) {
        changes.push(Change::new(field, "(absent)", r));
    }
    changes
}

// ---------- the group ----------

#[derive(Debug, Clone)]
struct GroupNode {
    name: String,
    description: String,
}
crate::node_ops!(GroupNode, "ec2:security-group");

async fn find_sg(ctx: &Ctx, id: &str) -> Result<Option<aws_sdk_ec2::types::SecurityGroup>> {
    let out = ctx.clients.ec2.describe_security_groups().set_filters(Some(owner_filters(ctx, id))).send().await.ctx("ec2", "DescribeSecurityGroups", id)?;
    let found = out.security_groups().iter().filter(|g| ctx.owns(id, ec2_tags(g.tags()))).cloned().collect();
    ctx.single(id, "ec2:security-group", found, |g| g.group_id().unwrap_or_default().to_string())
}

impl GroupNode {
    /// A group with the stack's name in the stack's VPC but without its tags (group names are
    /// unique per VPC, so provision could not create its own): not adopted.
    async fn claim_name(&self, ctx: &Ctx, id: &str) -> Result<()> {
        let Some(vpc) = ctx.get("vpc", "id") else { return Ok(()) };
        let name = &self.name;
        let out = ctx
            .clients
            .ec2
            .describe_security_groups()
            .filters(Filter::builder().name("vpc-id").values(&vpc).build())
            .filters(Filter::builder().name("group-name").values(name).build())
            .send()
            .await
            .ctx("ec2", "DescribeSecurityGroups", name)?;
        for g in out.security_groups().iter().filter(|g| g.group_name() == Some(name.as_str())) {
            ctx.claim(id, "ec2:security-group", &format!("{name} ({})", g.group_id().unwrap_or_default()), ec2_tags(g.tags()))?;
        }
        Ok(())
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(sg) = find_sg(ctx, id).await? else {
            self.claim_name(ctx, id).await?;
            return Ok(Found::Absent);
        };
        let changes = tag_changes(&ctx.tags(id, &self.name), ec2_tags(sg.tags()));
        Ok(Found::Present { attrs: attrs([("id", sg.group_id().unwrap_or_default().to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let sg_id = match found {
            Found::Present { attrs, .. } => {
                retag(ctx, &attrs["id"], id, &self.name).await?;
                attrs["id"].clone()
            }
            Found::Absent => ctx
                .clients
                .ec2
                .create_security_group()
                .group_name(&self.name)
                .description(&self.description)
                .vpc_id(ctx.need("vpc", "id")?)
                .tag_specifications(tag_spec(ctx, ResourceType::SecurityGroup, id, &self.name))
                .send()
                .await
                .ctx("ec2", "CreateSecurityGroup", &self.name)?
                .group_id()
                .unwrap_or_default()
                .to_string(),
        };
        Ok(attrs([("id", sg_id)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(sg) = find_sg(ctx, id).await? else { return Ok(None) };
        let sg_id = sg.group_id().unwrap_or_default().to_string();
        ctx.clients.ec2.delete_security_group().group_id(&sg_id).send().await.ctx("ec2", "DeleteSecurityGroup", &sg_id)?;
        Ok(Some(sg_id))
    }
}

// ---------- its rules ----------

#[derive(Debug, Clone)]
struct RulesNode {
    /// The group's node (logical) id.
    group: String,
    spec: SecurityGroup,
    vpc_cidr: String,
}
crate::node_ops!(RulesNode, "ec2:security-group-rules");

impl RulesNode {
    /// The wanted (ingress, egress), group references resolved through the groups' nodes
    /// (`None` while a named group does not exist yet).
    fn want(&self, ctx: &Ctx) -> Option<(BTreeSet<Rule>, BTreeSet<Rule>)> {
        let missing = self.spec.groups_named().iter().any(|g| ctx.get(g, "id").is_none());
        if missing {
            return None;
        }
        let group = |g: &str| ctx.get(g, "id").unwrap_or_default();
        Some((self.spec.flat(Dir::Ingress, &self.vpc_cidr, &group), self.spec.flat(Dir::Egress, &self.vpc_cidr, &group)))
    }

    async fn live(&self, ctx: &Ctx) -> Result<Option<aws_sdk_ec2::types::SecurityGroup>> {
        let Some(sg_id) = ctx.get(&self.group, "id") else { return Ok(None) };
        let out = ctx.clients.ec2.describe_security_groups().group_ids(&sg_id).send().await.found(
            "ec2",
            "DescribeSecurityGroups",
            &sg_id,
            &["InvalidGroup.NotFound"],
        )?;
        Ok(out.and_then(|o| o.security_groups().first().cloned()))
    }

    async fn inspect(&self, ctx: &Ctx, _id: &str) -> Result<Found> {
        let Some(sg) = self.live(ctx).await? else { return Ok(Found::Absent) };
        let sg_id = sg.group_id().unwrap_or_default().to_string();
        let changes = match self.want(ctx) {
            Some((want_in, want_out)) => {
                let mut c = rule_changes("ingress", &want_in, &flatten(sg.ip_permissions()));
                c.extend(rule_changes("egress", &want_out, &flatten(sg.ip_permissions_egress())));
                c
            }
            // a group it names does not exist yet: its rules will be authorized once it does
            None => vec![Change::new("rules", "the declared rules", "(a named group does not exist yet)")],
        };
        Ok(Found::Present { attrs: attrs([("id", sg_id)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, _id: &str, _found: &Found) -> Result<Attrs> {
        let ec2 = &ctx.clients.ec2;
        let sg_id = ctx.need(&self.group, "id")?;
        for g in self.spec.groups_named() {
            ctx.need(&g, "id")?;
        }
        let sg = self.live(ctx).await?.ok_or_else(|| Error::usage(format!("security group {sg_id} vanished")))?;
        let (want_in, want_out) = self.want(ctx).ok_or_else(|| Error::usage(format!("internal: a group named by {}'s rules is unknown", self.group)))?;
        let (got_in, got_out) = (flatten(sg.ip_permissions()), flatten(sg.ip_permissions_egress()));
        let perms = |a: &BTreeSet<Rule>, b: &BTreeSet<Rule>| -> Option<Vec<IpPermission>> {
            let v: Vec<IpPermission> = a.difference(b).map(to_permission).collect();
            (!v.is_empty()).then_some(v)
        };
        if let Some(p) = perms(&got_in, &want_in) {
            ec2.revoke_security_group_ingress().group_id(&sg_id).set_ip_permissions(Some(p)).send().await.ctx("ec2", "RevokeSecurityGroupIngress", &sg_id)?;
        }
        if let Some(p) = perms(&want_in, &got_in) {
            ec2.authorize_security_group_ingress().group_id(&sg_id).set_ip_permissions(Some(p)).send().await.ctx(
                "ec2",
                "AuthorizeSecurityGroupIngress",
                &sg_id,
            )?;
        }
        if let Some(p) = perms(&got_out, &want_out) {
            ec2.revoke_security_group_egress().group_id(&sg_id).set_ip_permissions(Some(p)).send().await.ctx("ec2", "RevokeSecurityGroupEgress", &sg_id)?;
        }
        if let Some(p) = perms(&want_out, &got_out) {
            ec2.authorize_security_group_egress().group_id(&sg_id).set_ip_permissions(Some(p)).send().await.ctx(
                "ec2",
                "AuthorizeSecurityGroupEgress",
                &sg_id,
            )?;
        }
        Ok(attrs([("id", sg_id)]))
    }

    /// Revoke every rule of the stack's group (a group another group's rule names cannot be
    /// deleted), before the groups are deleted.
    async fn delete(&self, ctx: &Ctx, _id: &str) -> Result<Option<String>> {
        let Some(sg) = find_sg(ctx, &self.group).await? else { return Ok(None) };
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
        Ok((!sg.ip_permissions().is_empty() || !sg.ip_permissions_egress().is_empty()).then(|| format!("{sg_id} rules")))
    }
}

#[cfg(test)]
mod tests;
