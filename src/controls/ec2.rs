//! VPC, subnet and security-group controls.

use super::{each, subnet_route_table, route_table_is_public, ControlFn, Params, Verdict};
use crate::model::ec2::{Rule, SecurityGroup};
use crate::model::State;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("vpc-flow-logs-enabled", flow_logs_enabled),
    ("vpc-default-security-group-closed", default_sg_closed),
    ("subnet-private-no-auto-public-ip", private_subnet_no_public_ip),
    ("sg-no-internet-ingress-data-ports", no_internet_data_ports),
    ("sg-no-internet-ingress-admin-ports", no_internet_admin_ports),
    ("sg-no-internet-ingress-all-ports", no_internet_all_ports),
];

/// Data-store ports and what listens there.
const DATA_PORTS: &[(i32, &str)] = &[(5432, "PostgreSQL"), (3306, "MySQL"), (6379, "Redis"), (2049, "NFS"), (1433, "SQL Server")];
const ADMIN_PORTS: &[(i32, &str)] = &[(22, "SSH"), (3389, "RDP")];

/// A VPC passes with an ACTIVE flow log on the VPC itself capturing ALL traffic: the rationale
/// asks for the accepted and the rejected flows (who connected to a store, not only who was
/// refused), so ACCEPT-only or REJECT-only logs fail. Subnet- and ENI-level logs do not count.
fn flow_logs_enabled(state: &State, _: &Params) -> Vec<Verdict> {
    let logs = &state.ec2.flow_logs;
    each(&state.ec2.vpcs, "ec2:vpc", |vpc| {
        let mine: Vec<_> = logs.iter().filter(|f| f.resource_id == vpc.meta.id).collect();
        let summary: Vec<_> = mine.iter().map(|f| json!({"id": f.meta.id, "traffic_type": f.traffic_type, "status": f.status})).collect();
        let expected = json!({"flow_log": {"traffic_type": "ALL", "status": "ACTIVE"}});
        if let Some(f) = mine.iter().find(|f| f.traffic_type == "ALL" && f.status == "ACTIVE") {
            return Verdict::pass(&vpc.meta, format!("flow log {} captures ALL traffic to {}", f.meta.id, f.destination_type), json!({"flow_logs": summary}));
        }
        if let Some(reason) = logs.failed_in(&vpc.meta.region) {
            return Verdict::error(&vpc.meta, format!("flow logs could not be listed in {}: {reason}", vpc.meta.region));
        }
        let message = if mine.is_empty() {
            format!("VPC {} has no flow log", vpc.meta.id)
        } else {
            let found: Vec<String> = mine.iter().map(|f| format!("{} ({}, {})", f.meta.id, f.traffic_type, f.status)).collect();
            format!("VPC {} has no ACTIVE flow log capturing ALL traffic (found {})", vpc.meta.id, found.join(", "))
        };
        Verdict::fail(&vpc.meta, message, json!({"flow_logs": summary}), expected)
    })
}

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
        let observed = json!({"route_table": rt.meta.id, "public": false, "map_public_ip_on_launch": s.map_public_ip_on_launch});
        if s.map_public_ip_on_launch {
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

/// Judge every group by the internet ingress rules `offends` picks out (with a label each).
fn internet_ingress(state: &State, what: &str, offends: impl Fn(&Rule) -> Option<String>) -> Vec<Verdict> {
    each(&state.ec2.security_groups, "ec2:security-group", |sg: &SecurityGroup| {
        let bad: Vec<(String, String)> = sg.ingress.iter().filter(|r| r.is_internet()).filter_map(|r| offends(r).map(|why| (r.to_string(), why))).collect();
        if bad.is_empty() {
            return Verdict::pass(&sg.meta, format!("no ingress rule opens {what} to the internet"), json!({"internet_ingress": []}));
        }
        let rules: Vec<&String> = bad.iter().map(|(r, _)| r).collect();
        let detail: Vec<String> = bad.iter().map(|(r, why)| format!("{r} opens {why}")).collect();
        Verdict::fail(
            &sg.meta,
            format!("{} allows internet ingress: {}", sg.group_name, detail.join("; ")),
            json!({"internet_ingress": rules}),
            json!({"internet_ingress": []}),
        )
    })
}

fn port_list(rule: &Rule, ports: &[(i32, &str)]) -> Option<String> {
    let hit: Vec<String> = ports.iter().filter(|(p, _)| rule.covers_port(*p)).map(|(p, name)| format!("{p} ({name})")).collect();
    (!hit.is_empty()).then(|| hit.join(", "))
}

fn no_internet_data_ports(state: &State, _: &Params) -> Vec<Verdict> {
    internet_ingress(state, "a data port (5432, 3306, 6379, 2049, 1433)", |r| port_list(r, DATA_PORTS))
}

fn no_internet_admin_ports(state: &State, _: &Params) -> Vec<Verdict> {
    internet_ingress(state, "SSH (22) or RDP (3389)", |r| port_list(r, ADMIN_PORTS))
}

/// All protocols (`-1`), or TCP/UDP over the full 0-65535 range. ICMP and other port-less
/// protocols are not "all ports".
fn no_internet_all_ports(state: &State, _: &Params) -> Vec<Verdict> {
    internet_ingress(state, "all protocols or all ports", |r| {
        if r.protocol == "-1" {
            Some("every protocol and port".into())
        } else if matches!(r.protocol.as_str(), "tcp" | "6" | "udp" | "17") && r.all_ports() {
            Some(format!("every {} port", r.protocol))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::controls::testing::{eval, fixture};
    use crate::finding::Status;
    use crate::model::ec2::{FlowLog, Rule};
    use crate::model::State;

    fn rule(protocol: &str, from: Option<i32>, to: Option<i32>, peer: &str) -> Rule {
        Rule { protocol: protocol.into(), from_port: from, to_port: to, peer: peer.into() }
    }

    /// The fixture with one extra ingress rule on the database security group.
    fn with_db_ingress(r: Rule) -> State {
        let mut s = fixture();
        s.ec2.security_groups.items.values_mut().find(|g| g.group_name.ends_with("db-sg")).expect("db-sg in fixture").ingress.push(r);
        s
    }

    fn flow_log(s: &mut State) -> &mut FlowLog {
        s.ec2.flow_logs.items.values_mut().next().expect("flow log in fixture")
    }

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

    #[test]
    fn flow_logs_unlistable_is_an_error() {
        let s = crate::controls::testing::unlisted(|s| &mut s.ec2.flow_logs);
        assert_eq!(eval("vpc-flow-logs-enabled", &s), vec![Status::Error]);

        let vpcs = crate::controls::testing::unlisted(|s| &mut s.ec2.vpcs);
        assert_eq!(eval("vpc-flow-logs-enabled", &vpcs), vec![Status::Error]);
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
        bad.ec2.subnets.items.values_mut().find(|s| s.meta.logical_id() == Some("private-subnet-1")).unwrap().map_public_ip_on_launch = true;
        assert_eq!(eval("subnet-private-no-auto-public-ip", &bad), vec![Status::Fail, Status::Pass]);

        // a public subnet mapping public IPs is fine
        let mut public = fixture();
        public.ec2.subnets.items.values_mut().filter(|s| s.meta.logical_id().is_some_and(|l| l.starts_with("public"))).for_each(|s| s.map_public_ip_on_launch = true);
        assert_eq!(eval("subnet-private-no-auto-public-ip", &public), vec![Status::Pass, Status::Pass]);
    }

    #[test]
    fn subnet_without_explicit_association_uses_the_main_table() {
        // drop the private table: private subnets fall back to the main table (local only) → still private
        let mut s = fixture();
        s.ec2.route_tables.retain(|rt| rt.meta.logical_id() != Some("private-route-table-1"));
        s.ec2.subnets.items.values_mut().for_each(|s| s.map_public_ip_on_launch = true);
        assert_eq!(eval("subnet-private-no-auto-public-ip", &s), vec![Status::Fail, Status::Fail]);

        // a main table with an IPv6 default route to the IGW makes them public → not applicable
        let mut v6 = s.clone();
        let main = v6.ec2.route_tables.items.values_mut().find(|rt| rt.main).unwrap();
        main.routes.push(crate::model::ec2::Route { destination: "::/0".into(), target: "igw-0d1e2f3a4b5c60001".into() });
        assert_eq!(eval("subnet-private-no-auto-public-ip", &v6), Vec::<Status>::new());
    }

    #[test]
    fn subnet_route_tables_unknown_is_an_error() {
        let s = crate::controls::testing::unlisted(|s| &mut s.ec2.route_tables);
        assert_eq!(eval("subnet-private-no-auto-public-ip", &s), vec![Status::Error; 4]);

        let mut no_main = fixture();
        no_main.ec2.route_tables.retain(|rt| !rt.main && rt.meta.logical_id() != Some("private-route-table-1"));
        assert_eq!(eval("subnet-private-no-auto-public-ip", &no_main), vec![Status::Error, Status::Error]);

        let mut subnets = fixture();
        subnets.ec2.subnets.fail("us-east-1", "AccessDenied");
        assert_eq!(eval("subnet-private-no-auto-public-ip", &subnets), vec![Status::Error, Status::Pass, Status::Pass]);
    }

    // ---------- sg-no-internet-ingress-* ----------

    #[test]
    fn data_ports() {
        assert_eq!(eval("sg-no-internet-ingress-data-ports", &fixture()), vec![Status::Pass; 3]);
        let fail = vec![Status::Fail, Status::Pass, Status::Pass];
        assert_eq!(eval("sg-no-internet-ingress-data-ports", &with_db_ingress(rule("tcp", Some(5432), Some(5432), "cidr:0.0.0.0/0"))), fail);
        assert_eq!(eval("sg-no-internet-ingress-data-ports", &with_db_ingress(rule("tcp", Some(6379), Some(6379), "cidr6:::/0"))), fail);
        assert_eq!(eval("sg-no-internet-ingress-data-ports", &with_db_ingress(rule("tcp", Some(0), Some(65535), "cidr:0.0.0.0/0"))), fail);
        assert_eq!(eval("sg-no-internet-ingress-data-ports", &with_db_ingress(rule("tcp", Some(2000), Some(2100), "cidr:0.0.0.0/0"))), fail);
        assert_eq!(eval("sg-no-internet-ingress-data-ports", &with_db_ingress(rule("-1", None, None, "cidr:0.0.0.0/0"))), fail);
        // internal or other-port rules are fine
        assert_eq!(eval("sg-no-internet-ingress-data-ports", &with_db_ingress(rule("tcp", Some(5432), Some(5432), "cidr:10.0.0.0/8"))), vec![Status::Pass; 3]);
        assert_eq!(eval("sg-no-internet-ingress-data-ports", &with_db_ingress(rule("tcp", Some(443), Some(443), "cidr:0.0.0.0/0"))), vec![Status::Pass; 3]);
        assert_eq!(eval("sg-no-internet-ingress-data-ports", &with_db_ingress(rule("icmp", Some(-1), Some(-1), "cidr:0.0.0.0/0"))), vec![Status::Pass; 3]);

        let unlisted = crate::controls::testing::unlisted(|s| &mut s.ec2.security_groups);
        assert_eq!(eval("sg-no-internet-ingress-data-ports", &unlisted), vec![Status::Error]);
    }

    #[test]
    fn admin_ports() {
        assert_eq!(eval("sg-no-internet-ingress-admin-ports", &fixture()), vec![Status::Pass; 3]);
        let fail = vec![Status::Fail, Status::Pass, Status::Pass];
        assert_eq!(eval("sg-no-internet-ingress-admin-ports", &with_db_ingress(rule("tcp", Some(22), Some(22), "cidr:0.0.0.0/0"))), fail);
        assert_eq!(eval("sg-no-internet-ingress-admin-ports", &with_db_ingress(rule("tcp", Some(3389), Some(3389), "cidr6:::/0"))), fail);
        assert_eq!(eval("sg-no-internet-ingress-admin-ports", &with_db_ingress(rule("tcp", None, None, "cidr:0.0.0.0/0"))), fail);
        assert_eq!(eval("sg-no-internet-ingress-admin-ports", &with_db_ingress(rule("tcp", Some(22), Some(22), "cidr:203.0.113.0/24"))), vec![Status::Pass; 3]);
        assert_eq!(eval("sg-no-internet-ingress-admin-ports", &with_db_ingress(rule("tcp", Some(22), Some(22), "sg:sg-0f1a2b3c4d5e60001"))), vec![Status::Pass; 3]);

        let mut unlisted = fixture();
        unlisted.ec2.security_groups.fail("us-east-1", "AccessDenied");
        assert_eq!(eval("sg-no-internet-ingress-admin-ports", &unlisted), vec![Status::Error, Status::Pass, Status::Pass, Status::Pass]);
    }

    #[test]
    fn all_ports() {
        // the ECS group's all-traffic EGRESS to 0.0.0.0/0 is not ingress
        assert_eq!(eval("sg-no-internet-ingress-all-ports", &fixture()), vec![Status::Pass; 3]);
        let fail = vec![Status::Fail, Status::Pass, Status::Pass];
        assert_eq!(eval("sg-no-internet-ingress-all-ports", &with_db_ingress(rule("-1", None, None, "cidr:0.0.0.0/0"))), fail);
        assert_eq!(eval("sg-no-internet-ingress-all-ports", &with_db_ingress(rule("-1", None, None, "cidr6:::/0"))), fail);
        assert_eq!(eval("sg-no-internet-ingress-all-ports", &with_db_ingress(rule("tcp", Some(0), Some(65535), "cidr:0.0.0.0/0"))), fail);
        assert_eq!(eval("sg-no-internet-ingress-all-ports", &with_db_ingress(rule("udp", None, None, "cidr:0.0.0.0/0"))), fail);
        // a range is not all ports, internal all-traffic is not internet, ICMP has no ports
        assert_eq!(eval("sg-no-internet-ingress-all-ports", &with_db_ingress(rule("tcp", Some(1024), Some(65535), "cidr:0.0.0.0/0"))), vec![Status::Pass; 3]);
        assert_eq!(eval("sg-no-internet-ingress-all-ports", &with_db_ingress(rule("-1", None, None, "cidr:10.0.0.0/16"))), vec![Status::Pass; 3]);
        assert_eq!(eval("sg-no-internet-ingress-all-ports", &with_db_ingress(rule("icmp", None, None, "cidr:0.0.0.0/0"))), vec![Status::Pass; 3]);

        let unlisted = crate::controls::testing::unlisted(|s| &mut s.ec2.security_groups);
        assert_eq!(eval("sg-no-internet-ingress-all-ports", &unlisted), vec![Status::Error]);
    }

    #[test]
    fn messages_name_the_rule_and_port() {
        use crate::controls::{registry, Params};
        let s = with_db_ingress(rule("tcp", Some(0), Some(65535), "cidr:0.0.0.0/0"));
        let v = registry()["sg-no-internet-ingress-data-ports"](&s, &Params::default());
        let fail = v.iter().find(|v| v.status == Status::Fail).unwrap();
        assert!(fail.message.contains("tcp/0-65535 from cidr:0.0.0.0/0") && fail.message.contains("5432 (PostgreSQL)"), "{}", fail.message);
        assert!(!fail.message.contains('\n'));
    }
}
