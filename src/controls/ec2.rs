//! VPC, subnet and security-group controls. Security groups are judged the way EC2 evaluates
//! them: a group admits a packet when ANY of its rules does, so each port is judged on the union
//! of the sources of every ingress rule that admits it (`semantics::network`), prefix-list
//! peers by their entries.

use super::{each, log_group_arn_parts, log_group_exists, route_table_is_public, subnet_route_table, ControlFn, Params, Verdict};
use crate::model::ec2::{FlowLog, Rule, SecurityGroup};
use crate::model::State;
use crate::semantics::network::{self as net, Exposure, PortMatch, Transport};
use ipnet::IpNet;
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("vpc-flow-logs-enabled", flow_logs_enabled),
    ("vpc-default-security-group-closed", default_sg_closed),
    ("subnet-private-no-auto-public-ip", private_subnet_no_public_ip),
    ("sg-no-internet-ingress-data-ports", no_internet_data_ports),
    ("sg-no-internet-ingress-admin-ports", no_internet_admin_ports),
    ("sg-no-internet-ingress-all-ports", no_internet_all_ports),
];

/// Data-store ports, the transports their services listen on, and what listens there.
const DATA_PORTS: &[(Transport, u16, &str)] = &[
    (Transport::Tcp, 5432, "PostgreSQL"),
    (Transport::Tcp, 3306, "MySQL"),
    (Transport::Tcp, 6379, "Redis"),
    (Transport::Tcp, 2049, "NFS"),
    (Transport::Udp, 2049, "NFS"),
    (Transport::Tcp, 1433, "SQL Server"),
];
const ADMIN_PORTS: &[(Transport, u16, &str)] = &[(Transport::Tcp, 22, "SSH"), (Transport::Tcp, 3389, "RDP"), (Transport::Udp, 3389, "RDP")];

// ---------- vpc-flow-logs-enabled ----------

/// Why a flow log does not deliver: Ok(None) when it does, Ok(Some(why)) when it does not,
/// Err when that cannot be told. An ACTIVE flow log delivers when its DeliverLogsStatus is
/// SUCCESS and, for CloudWatch Logs, its log group still exists (EC2 keeps reporting a flow log
/// whose group was deleted). S3 and Firehose destinations are not collected: their
/// DeliverLogsStatus is the evidence.
fn delivery(state: &State, f: &FlowLog) -> Result<Option<String>, String> {
    if f.status != "ACTIVE" {
        return Ok(Some(format!("status {}", f.status)));
    }
    match f.deliver_logs_status.get().map_err(|r| r.to_string())?.as_str() {
        "SUCCESS" => {}
        "FAILED" => return Ok(Some(format!("delivery FAILED{}", f.deliver_logs_error.as_ref().map_or(String::new(), |m| format!(" ({m})"))))),
        other => return Err(format!("flow log {}: unrecognised DeliverLogsStatus {other:?}", f.meta.id)),
    }
    if f.destination_type != "cloud-watch-logs" {
        return Ok(None);
    }
    let region = f.meta.region.as_str();
    let name = match f.destination.strip_prefix("arn:") {
        Some(_) => match log_group_arn_parts(&f.destination) {
            Some((r, a, name)) if r == region && a == f.meta.account => name.to_string(),
            Some((r, a, _)) => return Err(format!("flow log {} delivers to a log group in {a}/{r}, outside the collected State", f.meta.id)),
            None => return Err(format!("flow log {}: destination {} is not a log group ARN", f.meta.id, f.destination)),
        },
        None => f.log_group_name.clone().unwrap_or_else(|| f.destination.clone()),
    };
    match log_group_exists(state, region, &f.meta.account, &name)? {
        true => Ok(None),
        false => Ok(Some(format!("its log group {name} does not exist"))),
    }
}

/// A VPC passes with a delivering flow log on the VPC itself capturing ALL traffic: the
/// rationale asks for the accepted and the rejected flows (who connected to a store, not only
/// who was refused), so ACCEPT-only or REJECT-only logs fail. Subnet- and ENI-level logs do not
/// count, nor do flow logs that cannot deliver (see [`delivery`]).
fn flow_logs_enabled(state: &State, _: &Params) -> Vec<Verdict> {
    let logs = &state.ec2.flow_logs;
    each(&state.ec2.vpcs, "ec2:vpc", |vpc| {
        let mine: Vec<(&FlowLog, Result<Option<String>, String>)> = logs
            .lookup("resource_id", &vpc.meta.id, |f| vec![f.resource_id.clone()])
            .into_iter()
            .map(|f| (f, if f.traffic_type == "ALL" { delivery(state, f) } else { Ok(Some(format!("captures {} traffic only", f.traffic_type))) }))
            .collect();
        let summary: Vec<Value> = mine
            .iter()
            .map(|(f, d)| {
                json!({"id": f.meta.id, "traffic_type": f.traffic_type, "status": f.status, "deliver_logs_status": f.deliver_logs_status.known(),
                       "destination": f.destination, "problem": match d { Ok(p) => p.clone(), Err(e) => Some(e.clone()) }})
            })
            .collect();
        let expected = json!({"flow_log": {"traffic_type": "ALL", "status": "ACTIVE", "deliver_logs_status": "SUCCESS", "destination": "exists"}});
        if let Some((f, _)) = mine.iter().find(|(_, d)| matches!(d, Ok(None))) {
            return Verdict::pass(&vpc.meta, format!("flow log {} captures ALL traffic to {}", f.meta.id, f.destination_type), json!({"flow_logs": summary}));
        }
        if let Some(reason) = mine.iter().find_map(|(_, d)| d.as_ref().err()) {
            return Verdict::error(&vpc.meta, reason.clone());
        }
        if let Some(reason) = logs.failed_in(&vpc.meta.region) {
            return Verdict::error(&vpc.meta, format!("flow logs could not be listed in {}: {reason}", vpc.meta.region));
        }
        let message = if mine.is_empty() {
            format!("VPC {} has no flow log", vpc.meta.id)
        } else {
            let found: Vec<String> = mine
                .iter()
                .map(|(f, d)| {
                    format!(
                        "{}: {}",
                        f.meta.id,
                        match d {
                            Ok(Some(why)) => why.as_str(),
                            _ => "",
                        }
                    )
                })
                .collect();
            format!("VPC {} has no delivering flow log capturing ALL traffic ({})", vpc.meta.id, found.join("; "))
        };
        Verdict::fail(&vpc.meta, message, json!({"flow_logs": summary}), expected)
    })
}

// ---------- vpc-default-security-group-closed ----------

fn default_sg_closed(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.ec2.security_groups, "ec2:security-group", |sg| {
        if !sg.is_default() {
            return Verdict::not_applicable(&sg.meta, "not a default security group");
        }
        let observed = json!({
            "ingress": sg.ingress.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "egress": sg.egress.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        if sg.ingress.is_empty() && sg.egress.is_empty() {
            return Verdict::pass(&sg.meta, format!("default security group of {} has no rules", sg.vpc_id), observed);
        }
        let rules: Vec<String> = sg
            .ingress
            .iter()
            .map(|r| format!("ingress {r}"))
            .chain(sg.egress.iter().map(|r| format!("egress {}", r.to_string().replacen(" from ", " to ", 1))))
            .collect();
        Verdict::fail(
            &sg.meta,
            format!("default security group of {} has {} rule(s): {}", sg.vpc_id, rules.len(), rules.join("; ")),
            observed,
            json!({"ingress": [], "egress": []}),
        )
    })
}

// ---------- subnet-private-no-auto-public-ip ----------

/// Private = the subnet's route table (explicit association, else the VPC's main table) has no
/// route to an internet gateway. Public subnets are not applicable: mapping public IPs there is
/// their purpose (load balancers, NAT gateways).
fn private_subnet_no_public_ip(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.ec2.subnets, "ec2:subnet", |s| {
        let rt = match subnet_route_table(&state.ec2, &s.meta.id, Some(&s.vpc_id), &s.meta.region) {
            Ok(rt) => rt,
            Err(reason) => return Verdict::error(&s.meta, reason),
        };
        if route_table_is_public(rt) {
            return Verdict::not_applicable(&s.meta, format!("public subnet: route table {} routes to an internet gateway", rt.meta.id));
        }
        let maps = match s.map_public_ip_on_launch.get() {
            Ok(m) => *m,
            Err(reason) => return Verdict::error(&s.meta, reason),
        };
        let observed = json!({"route_table": rt.meta.id, "public": false, "map_public_ip_on_launch": maps});
        if maps {
            Verdict::fail(
                &s.meta,
                format!("private subnet {} ({}) assigns a public IPv4 address to every interface launched in it", s.meta.id, s.cidr),
                observed,
                json!({"map_public_ip_on_launch": false}),
            )
        } else {
            Verdict::pass(&s.meta, format!("private subnet {} does not auto-assign public IPs", s.meta.id), observed)
        }
    })
}

// ---------- sg-no-internet-ingress-* ----------

/// What a rule's peer stands for as a traffic source.
enum Source {
    /// Address ranges: a CIDR, or a prefix list's entries.
    Nets(Vec<IpNet>),
    /// Members of a security group: their private addresses, never the internet.
    Group,
    /// Could not be resolved (why).
    Unknown(String),
}

fn source(state: &State, region: &str, peer: &str) -> Source {
    if let Some(c) = peer.strip_prefix("cidr:").or_else(|| peer.strip_prefix("cidr6:")) {
        return match net::parse_cidr(c) {
            Ok(n) => Source::Nets(vec![n]),
            Err(e) => Source::Unknown(format!("rule peer {peer}: {e}")),
        };
    }
    if peer.starts_with("sg:") {
        return Source::Group;
    }
    if let Some(id) = peer.strip_prefix("pl:") {
        return prefix_list_source(state, region, id);
    }
    Source::Unknown(format!("unrecognised rule peer {peer:?}"))
}

/// A prefix-list peer is its entries; an unknown or unreadable list is Unknown, never empty.
fn prefix_list_source(state: &State, region: &str, id: &str) -> Source {
    let lists = &state.ec2.prefix_lists;
    match lists.by_id(id).into_iter().find(|p| p.meta.id == id && p.meta.region == region) {
        Some(pl) => match pl.entries.get() {
            Ok(entries) => match entries.iter().map(|c| net::parse_cidr(c)).collect::<Result<Vec<_>, _>>() {
                Ok(nets) => Source::Nets(nets),
                Err(e) => Source::Unknown(format!("prefix list {id}: {e}")),
            },
            Err(reason) => Source::Unknown(format!("entries of prefix list {id} could not be read: {reason}")),
        },
        None => Source::Unknown(match lists.failed_in(region) {
            Some(reason) => format!("prefix list {id}: prefix lists could not be listed in {region}: {reason}"),
            None => format!("prefix list {id} is not in the State (DescribeManagedPrefixLists in {region} did not return it)"),
        }),
    }
}

/// An ingress rule with its peer resolved.
struct Judged<'a> {
    rule: &'a Rule,
    source: Source,
}

impl Judged<'_> {
    fn ports(&self, t: Transport) -> PortMatch {
        net::ports_admitted(&self.rule.protocol, self.rule.from_port, self.rule.to_port, t)
    }
}

fn judged<'a>(state: &State, sg: &'a SecurityGroup) -> Vec<Judged<'a>> {
    sg.ingress.iter().map(|rule| Judged { rule, source: source(state, &sg.meta.region, &rule.peer) }).collect()
}

/// The union of the sources a set of rules admits, the rules that bring public addresses into
/// it, and what could not be read.
#[derive(Default)]
struct Reach {
    nets: Vec<IpNet>,
    via: BTreeSet<String>,
    unknown: BTreeSet<String>,
}

impl Reach {
    /// Add one rule: `admits` is whether it admits the traffic in question (Err: unreadable).
    fn add(&mut self, j: &Judged, admits: Result<bool, String>) {
        match (admits, &j.source) {
            (Ok(false), _) | (_, Source::Group) => {}
            (Ok(true), Source::Nets(n)) => {
                if n.iter().any(net::has_public) {
                    self.via.insert(j.rule.to_string());
                }
                self.nets.extend(n.iter().copied());
            }
            // unreadable ports, but nothing public to let in whatever they are
            (Err(_), Source::Nets(n)) if !n.iter().any(net::has_public) => {}
            (Err(why), Source::Nets(_)) => {
                self.unknown.insert(format!("{}: {why}", j.rule));
            }
            (_, Source::Unknown(why)) => {
                self.unknown.insert(why.clone());
            }
        }
    }

    fn exposure(&self) -> Exposure {
        net::exposure(&self.nets)
    }
}

/// Who may reach `port` of `t`: the union over every rule that admits it.
fn reach_at(rules: &[Judged], t: Transport, port: u16) -> Reach {
    let mut r = Reach::default();
    for j in rules {
        let admits = match j.ports(t) {
            PortMatch::Unknown(why) => Err(why),
            m => Ok(m.admits(port) == Some(true)),
        };
        r.add(j, admits);
    }
    r
}

/// One way a group lets the internet in.
struct Offence {
    /// "tcp/22 (SSH)", "every tcp port", "every protocol and port"
    what: String,
    exposure: Exposure,
    via: BTreeSet<String>,
}

/// The verdict from what was found: any offence fails; otherwise anything unreadable that
/// could have let the internet in is an error; otherwise pass.
fn verdict(sg: &SecurityGroup, what: &str, offences: Vec<Offence>, unknown: BTreeSet<String>) -> Verdict {
    if offences.is_empty() {
        if !unknown.is_empty() {
            return Verdict::error(&sg.meta, format!("{}: {}", sg.group_name, unknown.into_iter().collect::<Vec<_>>().join("; ")));
        }
        return Verdict::pass(&sg.meta, format!("no ingress rules open {what} to the internet"), json!({"internet_ingress": []}));
    }
    let detail: Vec<String> = offences
        .iter()
        .map(|o| format!("{} is open to {} by {}", o.what, o.exposure.describe(), o.via.iter().cloned().collect::<Vec<_>>().join(" + ")))
        .collect();
    let observed: Vec<Value> = offences.iter().map(|o| json!({"ports": o.what, "reach": o.exposure.describe(), "rules": o.via})).collect();
    Verdict::fail(
        &sg.meta,
        format!("{} allows internet ingress: {}", sg.group_name, detail.join("; ")),
        json!({"internet_ingress": observed}),
        json!({"internet_ingress": []}),
    )
}

/// Judge every group's ingress on the listed ports, each on the union of its admitting rules.
fn internet_ports(state: &State, what: &str, ports: &[(Transport, u16, &str)]) -> Vec<Verdict> {
    each(&state.ec2.security_groups, "ec2:security-group", |sg| {
        let rules = judged(state, sg);
        let mut offences = Vec::new();
        let mut unknown = BTreeSet::new();
        for &(t, port, service) in ports {
            let r = reach_at(&rules, t, port);
            let e = r.exposure();
            if e.is_internet() {
                offences.push(Offence { what: format!("{}/{port} ({service})", t.name()), exposure: e, via: r.via });
            } else {
                unknown.extend(r.unknown);
            }
        }
        verdict(sg, what, offences, unknown)
    })
}

fn no_internet_data_ports(state: &State, _: &Params) -> Vec<Verdict> {
    internet_ports(state, "a data port (5432, 3306, 6379, 2049, 1433)", DATA_PORTS)
}

fn no_internet_admin_ports(state: &State, _: &Params) -> Vec<Verdict> {
    internet_ports(state, "SSH (22) or RDP (3389)", ADMIN_PORTS)
}

/// All protocols (`-1`) from the internet, or every TCP or every UDP port open to the internet
/// — by one rule or by several that together cover 0-65535 (each port judged on the union of
/// its rules). ICMP and other port-less protocols are not "all ports".
fn no_internet_all_ports(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.ec2.security_groups, "ec2:security-group", |sg| {
        let rules = judged(state, sg);
        let mut offences = Vec::new();
        let mut unknown = BTreeSet::new();
        let mut every = Reach::default();
        for j in &rules {
            every.add(j, Ok(net::is_all_protocols(&j.rule.protocol)));
        }
        let e = every.exposure();
        if e.is_internet() {
            offences.push(Offence { what: "every protocol and port".into(), exposure: e, via: every.via });
        } else {
            unknown.extend(every.unknown);
            for t in [Transport::Tcp, Transport::Udp] {
                let ranges: Vec<(u16, u16)> = rules
                    .iter()
                    .filter_map(|j| match j.ports(t) {
                        PortMatch::Ports(a, b) => Some((a, b)),
                        _ => None,
                    })
                    .collect();
                let pieces: Vec<Reach> = net::port_pieces(&ranges).into_iter().map(|(first, _)| reach_at(&rules, t, first)).collect();
                if pieces.iter().all(|r| r.exposure().is_internet()) {
                    let narrowest = pieces.iter().map(Reach::exposure).min_by_key(|e| (e.public_v4, e.public_v6)).expect("at least one piece");
                    let via = pieces.into_iter().flat_map(|r| r.via).collect();
                    offences.push(Offence { what: format!("every {} port", t.name()), exposure: narrowest, via });
                } else {
                    unknown.extend(pieces.into_iter().flat_map(|r| r.unknown));
                }
            }
        }
        verdict(sg, "all protocols or all ports", offences, unknown)
    })
}

#[cfg(test)]
mod tests {
    use crate::controls::testing::{eval, fixture, unlisted};
    use crate::finding::Status;
    use crate::model::ec2::{FlowLog, PrefixList, Rule};
    use crate::model::{Observed, State};

    fn rule(protocol: &str, from: Option<i32>, to: Option<i32>, peer: &str) -> Rule {
        Rule { protocol: protocol.into(), from_port: from, to_port: to, peer: peer.into() }
    }

    fn tcp(port: i32, peer: &str) -> Rule {
        rule("tcp", Some(port), Some(port), peer)
    }

    /// The fixture with extra ingress rules on the database security group.
    fn with_db_rules(rules: Vec<Rule>) -> State {
        let mut s = fixture();
        s.ec2.security_groups.items.values_mut().find(|g| g.group_name.ends_with("db-sg")).expect("db-sg in fixture").ingress.extend(rules);
        s
    }

    fn with_db_ingress(r: Rule) -> State {
        with_db_rules(vec![r])
    }

    /// The same rule template from every source in `cidrs`.
    fn from_each(cidrs: &[&str], make: impl Fn(&str) -> Rule) -> Vec<Rule> {
        cidrs.iter().map(|c| make(&format!("{}:{c}", if c.contains(':') { "cidr6" } else { "cidr" }))).collect()
    }

    /// 0.0.0.0/0 as 512 /9s: each piece alone is below the "internet" threshold.
    fn ninths() -> Vec<String> {
        (0..512u32).map(|i| format!("{}.{}.0.0/9", i / 2, (i % 2) * 128)).collect()
    }

    fn flow_log(s: &mut State) -> &mut FlowLog {
        s.ec2.flow_logs.items.values_mut().next().expect("flow log in fixture")
    }

    fn prefix_list(id: &str, entries: Observed<Vec<String>>) -> PrefixList {
        let mut meta = fixture().ec2.vpcs.items.values().next().unwrap().meta.clone();
        meta.resource_type = "ec2:prefix-list".into();
        meta.id = id.into();
        meta.arn = format!("arn:aws:ec2:us-east-1:123456789012:prefix-list/{id}");
        PrefixList { meta, address_family: "IPv4".into(), entries }
    }

    fn with_prefix_list(mut s: State, pl: PrefixList) -> State {
        s.ec2.prefix_lists.insert(pl);
        s
    }

    const PASS3: [Status; 3] = [Status::Pass, Status::Pass, Status::Pass];
    const FAIL: [Status; 3] = [Status::Fail, Status::Pass, Status::Pass];
    const ERROR: [Status; 3] = [Status::Error, Status::Pass, Status::Pass];

    // ---------- vpc-flow-logs-enabled ----------

    #[test]
    fn flow_logs() {
        assert_eq!(eval("vpc-flow-logs-enabled", &fixture()), vec![Status::Pass]);

        let mut none = fixture();
        none.ec2.flow_logs.items.clear();
        assert_eq!(eval("vpc-flow-logs-enabled", &none), vec![Status::Fail]);

        let mut reject_only = fixture();
        flow_log(&mut reject_only).traffic_type = "REJECT".into();
        assert_eq!(eval("vpc-flow-logs-enabled", &reject_only), vec![Status::Fail]);

        let mut inactive = fixture();
        flow_log(&mut inactive).status = "FAILED".into();
        assert_eq!(eval("vpc-flow-logs-enabled", &inactive), vec![Status::Fail]);

        let mut subnet_level = fixture();
        flow_log(&mut subnet_level).resource_id = "subnet-0a1b2c3d4e5f60021".into();
        assert_eq!(eval("vpc-flow-logs-enabled", &subnet_level), vec![Status::Fail]);
    }

    /// Adversarial: an ACTIVE, ALL-traffic flow log that delivers nowhere.
    #[test]
    fn flow_logs_that_cannot_deliver_do_not_count() {
        let mut failed = fixture();
        flow_log(&mut failed).deliver_logs_status = Observed::Known("FAILED".into());
        flow_log(&mut failed).deliver_logs_error = Some("Access error".into());
        assert_eq!(eval("vpc-flow-logs-enabled", &failed), vec![Status::Fail]);

        let mut group_gone = fixture();
        group_gone.logs.log_groups.retain(|g| g.meta.id != "/tapaudit/dev/vpc-flow-logs");
        // the same group left out by the stack scope still exists
        let mut outside = group_gone.clone();
        outside.logs.out_of_scope.insert("arn:aws:logs:us-east-1:123456789012:log-group:/tapaudit/dev/vpc-flow-logs".into());
        assert_eq!(eval("vpc-flow-logs-enabled", &outside), vec![Status::Pass], "a log group outside the stack's scope exists");
        assert_eq!(eval("vpc-flow-logs-enabled", &group_gone), vec![Status::Fail]);
        let v = crate::controls::registry()["vpc-flow-logs-enabled"](&group_gone, &Default::default());
        assert!(v[0].message.contains("log group /tapaudit/dev/vpc-flow-logs does not exist"), "{}", v[0].message);

        // the same log group name in another region is not the destination
        let mut other_region = fixture();
        other_region.logs.log_groups.items.values_mut().for_each(|g| g.meta.region = "eu-west-1".into());
        assert_eq!(eval("vpc-flow-logs-enabled", &other_region), vec![Status::Fail]);

        // a second, good flow log makes the VPC pass
        let mut one_good = failed.clone();
        let mut good = one_good.ec2.flow_logs.items.values().next().unwrap().clone();
        good.meta.id = "fl-good".into();
        good.meta.arn = "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/fl-good".into();
        good.deliver_logs_status = Observed::Known("SUCCESS".into());
        one_good.ec2.flow_logs.insert(good);
        assert_eq!(eval("vpc-flow-logs-enabled", &one_good), vec![Status::Pass]);

        // S3 destinations: DeliverLogsStatus is the evidence
        let mut s3 = fixture();
        flow_log(&mut s3).destination_type = "s3".into();
        flow_log(&mut s3).destination = "arn:aws:s3:::flow-logs-bucket".into();
        flow_log(&mut s3).log_group_name = None;
        assert_eq!(eval("vpc-flow-logs-enabled", &s3), vec![Status::Pass]);
        flow_log(&mut s3).deliver_logs_status = Observed::Known("FAILED".into());
        assert_eq!(eval("vpc-flow-logs-enabled", &s3), vec![Status::Fail]);
    }

    #[test]
    fn flow_logs_unknown_delivery_is_an_error() {
        let s = unlisted(|s| &mut s.ec2.flow_logs);
        assert_eq!(eval("vpc-flow-logs-enabled", &s), vec![Status::Error]);

        let vpcs = unlisted(|s| &mut s.ec2.vpcs);
        assert_eq!(eval("vpc-flow-logs-enabled", &vpcs), vec![Status::Error]);

        // the destination's log group cannot be told to exist
        let groups = unlisted(|s| &mut s.logs.log_groups);
        assert_eq!(eval("vpc-flow-logs-enabled", &groups), vec![Status::Error]);

        let mut status = fixture();
        flow_log(&mut status).deliver_logs_status = Observed::Unknown("not returned".into());
        assert_eq!(eval("vpc-flow-logs-enabled", &status), vec![Status::Error]);

        let mut odd = fixture();
        flow_log(&mut odd).deliver_logs_status = Observed::Known("PENDING".into());
        assert_eq!(eval("vpc-flow-logs-enabled", &odd), vec![Status::Error]);

        // a log group in another account is outside the State
        let mut cross = fixture();
        flow_log(&mut cross).destination = "arn:aws:logs:us-east-1:210987654321:log-group:/central/vpc".into();
        assert_eq!(eval("vpc-flow-logs-enabled", &cross), vec![Status::Error]);

        // but a REJECT-only log with unknown delivery still fails: it could never count
        let mut reject = status.clone();
        flow_log(&mut reject).traffic_type = "REJECT".into();
        assert_eq!(eval("vpc-flow-logs-enabled", &reject), vec![Status::Fail]);
    }

    // ---------- vpc-default-security-group-closed ----------

    #[test]
    fn default_sg() {
        assert_eq!(eval("vpc-default-security-group-closed", &fixture()), vec![Status::Pass]);

        let mut egress = fixture();
        egress.ec2.security_groups.items.values_mut().find(|g| g.is_default()).unwrap().egress.push(rule("-1", None, None, "cidr:0.0.0.0/0"));
        assert_eq!(eval("vpc-default-security-group-closed", &egress), vec![Status::Fail]);

        let mut self_ref = fixture();
        let def = self_ref.ec2.security_groups.items.values_mut().find(|g| g.is_default()).unwrap();
        let peer = format!("sg:{}", def.meta.id);
        def.ingress.push(rule("-1", None, None, &peer));
        assert_eq!(eval("vpc-default-security-group-closed", &self_ref), vec![Status::Fail]);

        let mut unlisted = fixture();
        unlisted.ec2.security_groups.fail("us-east-1", "Throttling");
        assert_eq!(eval("vpc-default-security-group-closed", &unlisted), vec![Status::Error, Status::Pass]);
    }

    // ---------- subnet-private-no-auto-public-ip ----------

    #[test]
    fn private_subnets() {
        // two private subnets pass, two public ones are not applicable
        assert_eq!(eval("subnet-private-no-auto-public-ip", &fixture()), vec![Status::Pass, Status::Pass]);

        let mut bad = fixture();
        bad.ec2.subnets.items.values_mut().find(|s| s.meta.logical_id() == Some("private-subnet-1")).unwrap().map_public_ip_on_launch = Observed::Known(true);
        assert_eq!(eval("subnet-private-no-auto-public-ip", &bad), vec![Status::Fail, Status::Pass]);

        // a public subnet mapping public IPs is fine
        let mut public = fixture();
        public
            .ec2
            .subnets
            .items
            .values_mut()
            .filter(|s| s.meta.logical_id().is_some_and(|l| l.starts_with("public")))
            .for_each(|s| s.map_public_ip_on_launch = Observed::Known(true));
        assert_eq!(eval("subnet-private-no-auto-public-ip", &public), vec![Status::Pass, Status::Pass]);

        // not read → error, never pass
        let mut unknown = fixture();
        unknown.ec2.subnets.items.values_mut().find(|s| s.meta.logical_id() == Some("private-subnet-1")).unwrap().map_public_ip_on_launch =
            Observed::Unknown("not returned".into());
        assert_eq!(eval("subnet-private-no-auto-public-ip", &unknown), vec![Status::Error, Status::Pass]);
    }

    #[test]
    fn subnet_without_explicit_association_uses_the_main_table() {
        // drop the private table: private subnets fall back to the main table (local only) → still private
        let mut s = fixture();
        s.ec2.route_tables.retain(|rt| rt.meta.logical_id() != Some("private-route-table-1"));
        s.ec2.subnets.items.values_mut().for_each(|s| s.map_public_ip_on_launch = Observed::Known(true));
        assert_eq!(eval("subnet-private-no-auto-public-ip", &s), vec![Status::Fail, Status::Fail]);

        // a main table with an IPv6 default route to the IGW makes them public → not applicable
        let mut v6 = s.clone();
        let main = v6.ec2.route_tables.items.values_mut().find(|rt| rt.main == Observed::Known(true)).unwrap();
        main.routes.push(crate::model::ec2::Route { destination: "::/0".into(), target: "igw-0d1e2f3a4b5c60001".into() });
        assert_eq!(eval("subnet-private-no-auto-public-ip", &v6), Vec::<Status>::new());

        // which table is main cannot be told → error
        let mut unknown_main = s.clone();
        unknown_main.ec2.route_tables.items.values_mut().find(|rt| rt.main == Observed::Known(true)).unwrap().main = Observed::Unknown("no Main".into());
        assert_eq!(eval("subnet-private-no-auto-public-ip", &unknown_main), vec![Status::Error, Status::Error]);
    }

    #[test]
    fn subnet_route_tables_unknown_is_an_error() {
        let s = unlisted(|s| &mut s.ec2.route_tables);
        assert_eq!(eval("subnet-private-no-auto-public-ip", &s), vec![Status::Error; 4]);

        let mut no_main = fixture();
        no_main.ec2.route_tables.retain(|rt| rt.main != Observed::Known(true) && rt.meta.logical_id() != Some("private-route-table-1"));
        assert_eq!(eval("subnet-private-no-auto-public-ip", &no_main), vec![Status::Error, Status::Error]);

        let mut subnets = fixture();
        subnets.ec2.subnets.fail("us-east-1", "AccessDenied");
        assert_eq!(eval("subnet-private-no-auto-public-ip", &subnets), vec![Status::Error, Status::Pass, Status::Pass]);
    }

    // ---------- sg-no-internet-ingress-* ----------

    #[test]
    fn data_ports() {
        let c = "sg-no-internet-ingress-data-ports";
        assert_eq!(eval(c, &fixture()), PASS3);
        assert_eq!(eval(c, &with_db_ingress(tcp(5432, "cidr:0.0.0.0/0"))), FAIL);
        assert_eq!(eval(c, &with_db_ingress(tcp(6379, "cidr6:::/0"))), FAIL);
        assert_eq!(eval(c, &with_db_ingress(rule("tcp", Some(0), Some(65535), "cidr:0.0.0.0/0"))), FAIL);
        assert_eq!(eval(c, &with_db_ingress(rule("tcp", Some(2000), Some(2100), "cidr:0.0.0.0/0"))), FAIL);
        assert_eq!(eval(c, &with_db_ingress(rule("udp", Some(2049), Some(2049), "cidr:0.0.0.0/0"))), FAIL, "NFS over UDP");
        assert_eq!(eval(c, &with_db_ingress(rule("-1", None, None, "cidr:0.0.0.0/0"))), FAIL);
        // internal or other-port rules are fine; ICMP has no ports; Postgres does not speak UDP
        assert_eq!(eval(c, &with_db_ingress(tcp(5432, "cidr:10.0.0.0/8"))), PASS3);
        assert_eq!(eval(c, &with_db_ingress(tcp(443, "cidr:0.0.0.0/0"))), PASS3);
        assert_eq!(eval(c, &with_db_ingress(rule("icmp", Some(-1), Some(-1), "cidr:0.0.0.0/0"))), PASS3);
        assert_eq!(eval(c, &with_db_ingress(rule("udp", Some(5432), Some(5432), "cidr:0.0.0.0/0"))), PASS3);

        assert_eq!(eval(c, &unlisted(|s| &mut s.ec2.security_groups)), vec![Status::Error]);
    }

    #[test]
    fn admin_ports() {
        let c = "sg-no-internet-ingress-admin-ports";
        assert_eq!(eval(c, &fixture()), PASS3);
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "cidr:0.0.0.0/0"))), FAIL);
        assert_eq!(eval(c, &with_db_ingress(tcp(3389, "cidr6:::/0"))), FAIL);
        assert_eq!(eval(c, &with_db_ingress(rule("udp", Some(3389), Some(3389), "cidr:0.0.0.0/0"))), FAIL, "RDP over UDP");
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "cidr:203.0.113.0/24"))), PASS3);
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "cidr:8.8.8.0/24"))), PASS3, "a narrow public range is not the internet");
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "sg:sg-0f1a2b3c4d5e60001"))), PASS3);
        assert_eq!(eval(c, &with_db_ingress(rule("udp", Some(22), Some(22), "cidr:0.0.0.0/0"))), PASS3, "SSH is TCP");
        // other protocol numbers open all ports of THAT protocol only
        assert_eq!(eval(c, &with_db_ingress(rule("50", None, None, "cidr:0.0.0.0/0"))), PASS3);

        let mut unlisted = fixture();
        unlisted.ec2.security_groups.fail("us-east-1", "AccessDenied");
        assert_eq!(eval(c, &unlisted), vec![Status::Error, Status::Pass, Status::Pass, Status::Pass]);
    }

    /// Adversarial: the internet split across rules, or hidden in broad public ranges.
    #[test]
    fn split_and_broad_sources_are_the_internet() {
        let c = "sg-no-internet-ingress-admin-ports";
        assert_eq!(eval(c, &with_db_rules(vec![tcp(22, "cidr:0.0.0.0/1"), tcp(22, "cidr:128.0.0.0/1")])), FAIL);
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "cidr:52.0.0.0/8"))), FAIL, "one public /8");
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "cidr6:2000::/3"))), FAIL, "the whole IPv6 internet");
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "cidr6:2600::/16"))), FAIL);
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "cidr:1.2.3.4/1"))), FAIL, "host bits set");
        // 0/0 as 512 /9s: no piece is broad, the union is everything
        let pieces = ninths();
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        assert_eq!(eval(c, &with_db_rules(from_each(&refs, |p| tcp(22, p)))), FAIL);
        // one /9 is not the internet; two /9s making a public /8 are
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "cidr:8.0.0.0/9"))), PASS3);
        assert_eq!(eval(c, &with_db_rules(vec![tcp(22, "cidr:8.0.0.0/9"), tcp(22, "cidr:8.128.0.0/9")])), FAIL);
        // a port range rule and a single-port rule combine on the port they share
        assert_eq!(eval(c, &with_db_rules(vec![rule("tcp", Some(1), Some(1024), "cidr:8.0.0.0/9"), tcp(22, "cidr:8.128.0.0/9")])), FAIL);
        assert_eq!(eval(c, &with_db_rules(vec![rule("-1", None, None, "cidr:8.0.0.0/9"), tcp(22, "cidr:8.128.0.0/9")])), FAIL);
        // ... but sources on different ports do not
        assert_eq!(eval(c, &with_db_rules(vec![tcp(22, "cidr:8.0.0.0/9"), tcp(23, "cidr:8.128.0.0/9")])), PASS3);
        // nor do sources on different transports
        assert_eq!(eval(c, &with_db_rules(vec![tcp(3389, "cidr:8.0.0.0/9"), rule("udp", Some(3389), Some(3389), "cidr:8.128.0.0/9")])), PASS3);

        let m = crate::controls::registry()[c](&with_db_rules(vec![tcp(22, "cidr:0.0.0.0/1"), tcp(22, "cidr:128.0.0.0/1")]), &Default::default());
        let fail = m.iter().find(|v| v.status == Status::Fail).unwrap();
        assert!(
            fail.message.contains("tcp/22 (SSH) is open to all public IPv4 space by tcp/22 from cidr:0.0.0.0/1 + tcp/22 from cidr:128.0.0.0/1"),
            "{}",
            fail.message
        );
    }

    /// Good variants: however broad, private and special-purpose space is not the internet.
    #[test]
    fn private_space_is_not_the_internet() {
        let c = "sg-no-internet-ingress-admin-ports";
        let private = ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8", "fc00::/7", "fe80::/10", "::1/128"];
        assert_eq!(eval(c, &with_db_rules(from_each(&private, |p| tcp(22, p)))), PASS3);
        assert_eq!(eval(c, &with_db_rules(from_each(&private, |p| rule("-1", None, None, p)))), PASS3);
        assert_eq!(eval("sg-no-internet-ingress-all-ports", &with_db_rules(from_each(&private, |p| rule("-1", None, None, p)))), PASS3);
    }

    #[test]
    fn unreadable_rules_are_errors_unless_something_else_fails() {
        let c = "sg-no-internet-ingress-admin-ports";
        // a TCP rule without a port range from the internet: could be anything
        assert_eq!(eval(c, &with_db_ingress(rule("tcp", None, None, "cidr:0.0.0.0/0"))), ERROR);
        // ... from private space it cannot let the internet in
        assert_eq!(eval(c, &with_db_ingress(rule("tcp", None, None, "cidr:10.0.0.0/8"))), PASS3);
        assert_eq!(eval(c, &with_db_ingress(rule("sctp-ish", Some(1), Some(2), "cidr:0.0.0.0/0"))), ERROR);
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "cidr:not-a-cidr"))), ERROR);
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "eni:weird"))), ERROR);
        // a definite failure wins over an unknown
        assert_eq!(eval(c, &with_db_rules(vec![tcp(22, "cidr:not-a-cidr"), tcp(22, "cidr:0.0.0.0/0")])), FAIL);
        // an unreadable rule that does not admit the port in question changes nothing
        assert_eq!(eval(c, &with_db_ingress(tcp(8443, "cidr:not-a-cidr"))), PASS3);
    }

    #[test]
    fn prefix_lists_are_judged_by_their_entries() {
        let c = "sg-no-internet-ingress-admin-ports";
        let open = with_prefix_list(
            with_db_ingress(tcp(22, "pl:pl-0123456789abcdef0")),
            prefix_list("pl-0123456789abcdef0", Observed::Known(vec!["10.0.0.0/8".into(), "0.0.0.0/0".into()])),
        );
        assert_eq!(eval(c, &open), FAIL);
        let split = with_prefix_list(with_db_ingress(tcp(22, "pl:pl-1")), prefix_list("pl-1", Observed::Known(vec!["0.0.0.0/1".into(), "128.0.0.0/1".into()])));
        assert_eq!(eval(c, &split), FAIL);
        // half of the internet from a list, the other half from a CIDR rule
        let mixed = with_prefix_list(
            with_db_rules(vec![tcp(22, "pl:pl-1"), tcp(22, "cidr:8.128.0.0/9")]),
            prefix_list("pl-1", Observed::Known(vec!["8.0.0.0/9".into()])),
        );
        assert_eq!(eval(c, &mixed), FAIL);
        let private =
            with_prefix_list(with_db_ingress(tcp(22, "pl:pl-1")), prefix_list("pl-1", Observed::Known(vec!["10.0.0.0/8".into(), "100.64.0.0/10".into()])));
        assert_eq!(eval(c, &private), PASS3);
        let empty = with_prefix_list(with_db_ingress(tcp(22, "pl:pl-1")), prefix_list("pl-1", Observed::Known(vec![])));
        assert_eq!(eval(c, &empty), PASS3);
        // unknown, unreadable or unlisted lists are errors, never a pass
        assert_eq!(eval(c, &with_db_ingress(tcp(22, "pl:pl-missing"))), ERROR);
        assert_eq!(eval(c, &with_prefix_list(with_db_ingress(tcp(22, "pl:pl-1")), prefix_list("pl-1", Observed::Unknown("AccessDenied".into())))), ERROR);
        assert_eq!(eval(c, &with_prefix_list(with_db_ingress(tcp(22, "pl:pl-1")), prefix_list("pl-1", Observed::Known(vec!["bogus".into()])))), ERROR);
        let mut failed = with_db_ingress(tcp(22, "pl:pl-1"));
        failed.ec2.prefix_lists.fail("us-east-1", "Throttling");
        assert_eq!(eval(c, &failed), ERROR);
        let v = crate::controls::registry()[c](&failed, &Default::default());
        assert!(v.iter().any(|v| v.status == Status::Error && v.message.contains("pl-1") && v.message.contains("Throttling")));
        // a list in another region is not this one
        let mut elsewhere = prefix_list("pl-1", Observed::Known(vec!["10.0.0.0/8".into()]));
        elsewhere.meta.region = "eu-west-1".into();
        assert_eq!(eval(c, &with_prefix_list(with_db_ingress(tcp(22, "pl:pl-1")), elsewhere)), ERROR);
    }

    #[test]
    fn all_ports() {
        let c = "sg-no-internet-ingress-all-ports";
        // the ECS group's all-traffic EGRESS to 0.0.0.0/0 is not ingress
        assert_eq!(eval(c, &fixture()), PASS3);
        assert_eq!(eval(c, &with_db_ingress(rule("-1", None, None, "cidr:0.0.0.0/0"))), FAIL);
        assert_eq!(eval(c, &with_db_ingress(rule("-1", None, None, "cidr6:::/0"))), FAIL);
        assert_eq!(eval(c, &with_db_ingress(rule("tcp", Some(0), Some(65535), "cidr:0.0.0.0/0"))), FAIL);
        assert_eq!(eval(c, &with_db_ingress(rule("udp", Some(0), Some(65535), "cidr:0.0.0.0/0"))), FAIL);
        // a range is not all ports, internal all-traffic is not internet, ICMP has no ports
        assert_eq!(eval(c, &with_db_ingress(rule("tcp", Some(1024), Some(65535), "cidr:0.0.0.0/0"))), PASS3);
        assert_eq!(eval(c, &with_db_ingress(rule("-1", None, None, "cidr:10.0.0.0/16"))), PASS3);
        assert_eq!(eval(c, &with_db_ingress(rule("icmp", Some(-1), Some(-1), "cidr:0.0.0.0/0"))), PASS3);
        assert_eq!(eval(c, &with_db_ingress(rule("icmpv6", None, None, "cidr6:::/0"))), PASS3);
        // unreadable ports from the internet
        assert_eq!(eval(c, &with_db_ingress(rule("udp", None, None, "cidr:0.0.0.0/0"))), ERROR);

        assert_eq!(eval(c, &unlisted(|s| &mut s.ec2.security_groups)), vec![Status::Error]);
    }

    /// Adversarial: all ports opened by several rules together.
    #[test]
    fn all_ports_split_across_rules() {
        let c = "sg-no-internet-ingress-all-ports";
        let halves = |a: &str, b: &str| vec![rule("tcp", Some(0), Some(32767), a), rule("tcp", Some(32768), Some(65535), b)];
        assert_eq!(eval(c, &with_db_rules(halves("cidr:0.0.0.0/0", "cidr:0.0.0.0/0"))), FAIL);
        assert_eq!(eval(c, &with_db_rules(halves("cidr:0.0.0.0/0", "cidr6:::/0"))), FAIL, "each half open to one family's internet");
        // a one-port gap is not all ports
        assert_eq!(
            eval(c, &with_db_rules(vec![rule("tcp", Some(0), Some(32767), "cidr:0.0.0.0/0"), rule("tcp", Some(32769), Some(65535), "cidr:0.0.0.0/0")])),
            PASS3
        );
        // all protocols, split by source
        assert_eq!(eval(c, &with_db_rules(vec![rule("-1", None, None, "cidr:0.0.0.0/1"), rule("-1", None, None, "cidr:128.0.0.0/1")])), FAIL);
        // all TCP ports from 512 /9s, each rule narrow
        let pieces = ninths();
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        assert_eq!(eval(c, &with_db_rules(from_each(&refs, |p| rule("tcp", Some(0), Some(65535), p)))), FAIL);
        // overlapping port ranges and sources: every port sees a /8 of public space
        let overlap = vec![
            rule("tcp", Some(0), Some(40000), "cidr:8.0.0.0/9"),
            rule("tcp", Some(30000), Some(65535), "cidr:8.0.0.0/9"),
            rule("-1", None, None, "cidr:8.128.0.0/9"),
        ];
        assert_eq!(eval(c, &with_db_rules(overlap)), FAIL);
        // -1 from a /9 plus TCP all ports from the other half of a /8: TCP is fully open
        assert_eq!(eval(c, &with_db_rules(vec![rule("-1", None, None, "cidr:8.0.0.0/9"), rule("tcp", Some(0), Some(65535), "cidr:8.128.0.0/9")])), FAIL);
        // ... but TCP and UDP halves do not add up
        assert_eq!(
            eval(c, &with_db_rules(vec![rule("udp", Some(0), Some(65535), "cidr:8.0.0.0/9"), rule("tcp", Some(0), Some(65535), "cidr:8.128.0.0/9")])),
            PASS3
        );
        // the prefix list variant
        let s = with_prefix_list(with_db_ingress(rule("-1", None, None, "pl:pl-1")), prefix_list("pl-1", Observed::Known(vec!["0.0.0.0/0".into()])));
        assert_eq!(eval(c, &s), FAIL);
        assert_eq!(eval(c, &with_db_ingress(rule("-1", None, None, "pl:pl-1"))), ERROR);
    }

    #[test]
    fn messages_name_the_rule_and_port() {
        use crate::controls::{registry, Params};
        let s = with_db_ingress(rule("tcp", Some(0), Some(65535), "cidr:0.0.0.0/0"));
        let v = registry()["sg-no-internet-ingress-data-ports"](&s, &Params::default());
        let fail = v.iter().find(|v| v.status == Status::Fail).unwrap();
        assert!(fail.message.contains("tcp/0-65535 from cidr:0.0.0.0/0") && fail.message.contains("5432 (PostgreSQL)"), "{}", fail.message);
        assert!(!fail.message.contains('\n'));
        let v = registry()["sg-no-internet-ingress-all-ports"](&s, &Params::default());
        let fail = v.iter().find(|v| v.status == Status::Fail).unwrap();
        assert!(fail.message.contains("every tcp port is open to all public IPv4 space by tcp/0-65535 from cidr:0.0.0.0/0"), "{}", fail.message);
    }
}
