//! `[network]`: validation messages, nodes, desired State, drift on hand-built live State.

use crate::drift::tests::{by_logical, line, one, run};
use crate::finding::Status;
use crate::model::ec2::Route;
use crate::model::{Observed, State};
use crate::spec::Stack;
use std::path::Path;

const BASE: &str = "project = \"tapaudit\"\nstack = \"t\"\n\n[keys.data-key]\n";

fn parse(text: &str) -> Result<Stack, Vec<String>> {
    crate::spec::parse(Path::new("t.toml"), text.to_string()).map_err(|e| match e {
        crate::error::Error::Spec(v) => v,
        other => vec![other.to_string()],
    })
}

fn errors(extra: &str) -> Vec<String> {
    parse(&format!("{BASE}{extra}")).err().unwrap_or_default()
}

fn desired(extra: &str) -> State {
    let stack = parse(&format!("{BASE}{extra}")).unwrap();
    crate::spec::desired::desired(&stack)
}

#[test]
fn vpc_cidr_problems_name_the_line() {
    assert_eq!(errors("\n[network]\ncidr = \"10.0.0.1/16\"\n"), vec!["t.toml:7: network.cidr has host bits set: 10.0.0.1/16 (did you mean 10.0.0.0/16?)"]);
    assert_eq!(errors("\n[network]\ncidr = \"10.0.0.0/8\"\n"), vec!["t.toml:7: network.cidr prefix must be between /16 and /28 (got /8)"]);
    assert_eq!(errors("\n[network]\naz_count = 1\n"), vec!["t.toml:7: network.az_count must be between 2 and 6 (got 1); RDS needs subnets in two zones"]);
    assert_eq!(
        errors("\n[network]\npublic_subnets = [\"10.0.0.0/24\"]\n"),
        vec!["t.toml:7: network.public_subnets must list one CIDR per availability zone (2 expected, got 1)"]
    );
    assert_eq!(
        errors("\n[network]\npublic_subnets = [\"10.0.0.0/24\", \"10.0.0.0/24\"]\n"),
        vec!["t.toml:7: network.public_subnets[1] 10.0.0.0/24 overlaps network.public_subnets[0] (10.0.0.0/24)"]
    );
}

#[test]
fn the_flow_log_key_defaults_to_the_only_key_and_must_be_named_otherwise() {
    let stack = parse(BASE).unwrap();
    assert_eq!(stack.spec.network.flow_logs_key.as_deref(), Some("data-key"));
    let two = "project = \"tapaudit\"\nstack = \"t\"\n\n[keys.data-key]\n[keys.other]\n\n[network]\ncidr = \"10.0.0.0/16\"\n";
    let errs = parse(two).unwrap_err();
    assert!(
        errs.contains(
            &"t.toml:7: network.flow_logs_key must name the key that encrypts the flow-log group: the stack declares 2 keys (data-key, other)".to_string()
        ),
        "{errs:?}"
    );
    // naming it works, and the key's policy admits CloudWatch Logs through the reference
    let named = format!("{two}flow_logs_key = \"other\"\n\n[security_groups.x]\n");
    let errs = parse(&named).err().unwrap_or_default();
    assert!(!errs.iter().any(|e| e.contains("network.")), "{errs:?}");
    // without flow logs no key is needed
    let none = "project = \"tapaudit\"\nstack = \"t\"\n\n[keys.data-key]\n[keys.other]\n\n[network]\nflow_logs = false\n";
    assert!(!parse(none).err().unwrap_or_default().iter().any(|e| e.contains("network.")));
}

#[test]
fn the_flow_log_key_must_name_a_key() {
    let errs = errors("\n[security_groups.x]\n\n[network]\nflow_logs_key = \"x\"\n");
    // the key nothing names is refused too: every key must be used by a component
    assert_eq!(
        errs,
        vec![
            "t.toml:4: keys.data-key is not used by any component: remove it, or name it in a component's `key`",
            "t.toml:9: network.flow_logs_key names \"x\", which is a security group (security_groups.x), not a key"
        ]
    );
    let errs = errors("\n[network]\nflow_logs_key = \"nope\"\n");
    assert_eq!(
        errs,
        vec![
            "t.toml:4: keys.data-key is not used by any component: remove it, or name it in a component's `key`",
            "t.toml:7: network.flow_logs_key names \"nope\", which the stack file does not declare (expected a key)"
        ]
    );
}

#[test]
fn per_az_nat_gateways_have_one_private_route_table_each() {
    let stack = parse(&format!("{BASE}\n[network]\naz_count = 3\nnat_gateways = \"per-az\"\n")).unwrap();
    let nodes = crate::components::nodes(&stack);
    let ids: Vec<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    for id in [
        "vpc",
        "internet-gateway",
        "public-subnet-3",
        "private-subnet-3",
        "nat-gateway-3",
        "private-route-table-3",
        "flow-log-group",
        "flow-log-role",
        "vpc-flow-log",
        "default-sg",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    let rt = nodes.iter().find(|n| n.id == "private-route-table-2").unwrap();
    assert_eq!(rt.deps, vec!["vpc", "nat-gateway-2", "private-subnet-2"]);
    assert_eq!(rt.declared_at, "network.nat_gateways");
    assert_eq!(nodes.iter().find(|n| n.id == "flow-log-role").unwrap().deps, vec!["flow-log-group"]);
    assert_eq!(super::public_subnets(&stack), vec!["public-subnet-1", "public-subnet-2", "public-subnet-3"]);
    assert_eq!(super::private_subnets(&stack), vec!["private-subnet-1", "private-subnet-2", "private-subnet-3"]);
    let st = crate::spec::desired::desired(&stack);
    assert_eq!(st.ec2.nat_gateways.iter().count(), 3);
    let rt = st.ec2.route_tables.iter().find(|r| r.meta.logical_id() == Some("private-route-table-3")).unwrap();
    assert_eq!(rt.routes, vec![Route { destination: "0.0.0.0/0".into(), target: "nat-nat-gateway-3".into() }]);
    assert_eq!(rt.subnet_ids, vec!["subnet-private-subnet-3"]);
}

#[test]
fn without_nat_or_flow_logs() {
    // no flow logs: no key is used, so none is declared
    let stack = parse("project = \"tapaudit\"\nstack = \"t\"\n\n[network]\nnat_gateways = \"none\"\nflow_logs = false\n").unwrap();
    let ids: Vec<String> = crate::components::nodes(&stack).into_iter().map(|n| n.id).collect();
    assert!(!ids.iter().any(|i| i.starts_with("nat-") || i.contains("flow-log")), "{ids:?}");
    let st = crate::spec::desired::desired(&stack);
    assert!(st.ec2.flow_logs.iter().next().is_none());
    let rt = st.ec2.route_tables.iter().find(|r| r.meta.logical_id() == Some("private-route-table-1")).unwrap();
    assert!(rt.routes.is_empty(), "no route out");
    assert_eq!(rt.subnet_ids, vec!["subnet-private-subnet-1", "subnet-private-subnet-2"]);
}

#[test]
fn desired_network_of_the_default_stack() {
    let st = desired("");
    let vpc = st.ec2.vpcs.iter().next().unwrap();
    assert_eq!((vpc.meta.id.as_str(), vpc.cidr.as_str(), vpc.dns_hostnames.known()), ("vpc-vpc", "10.0.0.0/16", Some(&true)));
    let cidrs: std::collections::BTreeSet<(String, String)> =
        st.ec2.subnets.iter().map(|s| (s.meta.logical_id().unwrap().to_string(), s.cidr.clone())).collect();
    let want =
        [("private-subnet-1", "10.0.10.0/24"), ("private-subnet-2", "10.0.11.0/24"), ("public-subnet-1", "10.0.0.0/24"), ("public-subnet-2", "10.0.1.0/24")];
    assert_eq!(cidrs, want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect());
    assert!(st.ec2.subnets.iter().all(|s| s.map_public_ip_on_launch.known() == Some(&false) && s.vpc_id == "vpc-vpc"));
    let default = st.ec2.security_groups.iter().find(|g| g.is_default()).unwrap();
    assert!(default.ingress.is_empty() && default.egress.is_empty(), "the default group allows nothing");
    let fl = st.ec2.flow_logs.iter().next().unwrap();
    assert_eq!((fl.resource_id.as_str(), fl.traffic_type.as_str(), fl.destination.as_str()), ("vpc-vpc", "ALL", "/tapaudit/t/vpc-flow-logs"));
    let group = st.logs.log_groups.iter().find(|g| g.meta.logical_id() == Some("flow-log-group")).unwrap();
    assert_eq!(group.kms_key_id.as_deref(), Some("arn:aws:kms:us-east-1:000000000000:key/data-key"));
    let role = st.iam.roles.iter().find(|r| r.meta.logical_id() == Some("flow-log-role")).unwrap();
    let doc = role.inline_policies.known().unwrap().values().next().unwrap().to_string();
    assert!(doc.contains("log-group:/tapaudit/t/vpc-flow-logs:*") && doc.contains("logs:PutLogEvents"), "{doc}");
    assert!(role.trust_policy.known().unwrap().to_string().contains("vpc-flow-logs.amazonaws.com"));
}

fn set_subnet(l: &mut State, logical: &str, f: impl FnOnce(&mut crate::model::ec2::Subnet)) {
    let k = by_logical(&mut l.ec2.subnets, logical);
    f(l.ec2.subnets.items.get_mut(&k).unwrap());
}

#[test]
fn drift_of_vpc_subnets_gateways_routes_and_flow_logs() {
    assert_eq!(run(|_| {}), vec![]);
    let k = |l: &mut State| by_logical(&mut l.ec2.vpcs, "vpc");
    assert_eq!(
        run(|l| {
            let k = k(l);
            l.ec2.vpcs.items.get_mut(&k).unwrap().dns_hostnames = Observed::Known(false);
        }),
        one("drift-changed", "vpc", "dns_hostnames", "network.cidr")
    );
    assert_eq!(
        run(|l| {
            let k = k(l);
            l.ec2.vpcs.items.get_mut(&k).unwrap().dns_support = Observed::Unknown("AccessDenied".into());
        }),
        vec![("drift-changed".into(), Status::Error, "vpc".into(), "dns_support".into(), line("network.cidr"))]
    );
    assert_eq!(
        run(|l| set_subnet(l, "private-subnet-2", |s| s.map_public_ip_on_launch = Observed::Known(true))),
        one("drift-changed", "private-subnet-2", "map_public_ip_on_launch", "network.private_subnets[1]")
    );
    assert_eq!(
        run(|l| set_subnet(l, "public-subnet-1", |s| s.cidr = "10.0.5.0/24".into())),
        one("drift-changed", "public-subnet-1", "cidr", "network.public_subnets[0]")
    );
    assert_eq!(
        run(|l| l.ec2.internet_gateways.items.values_mut().for_each(|g| g.vpc_ids.clear())),
        one("drift-changed", "internet-gateway", "vpc_ids", "network.cidr")
    );
    assert_eq!(
        run(|l| l.ec2.nat_gateways.items.values_mut().for_each(|n| n.subnet_id = "subnet-0q1".into())),
        one("drift-changed", "nat-gateway-1", "subnet_id", "network.nat_gateways")
    );
    assert_eq!(
        run(|l| {
            let k = by_logical(&mut l.ec2.route_tables, "private-route-table-1");
            let rt = l.ec2.route_tables.items.get_mut(&k).unwrap();
            rt.routes.retain(|r| r.destination != "0.0.0.0/0");
            rt.routes.push(Route { destination: "0.0.0.0/0".into(), target: "igw-07".into() });
        }),
        one("drift-changed", "private-route-table-1", "routes.0.0.0.0/0", "network.nat_gateways")
    );
    assert_eq!(
        run(|l| {
            let k = by_logical(&mut l.ec2.route_tables, "public-route-table");
            l.ec2.route_tables.items.get_mut(&k).unwrap().subnet_ids.push("subnet-0q1".into());
        }),
        one("drift-changed", "public-route-table", "subnet_ids", "network.cidr")
    );
    assert_eq!(
        run(|l| l.ec2.flow_logs.items.values_mut().for_each(|f| f.traffic_type = "REJECT".into())),
        one("drift-changed", "vpc-flow-log", "traffic_type", "network.flow_logs")
    );
    assert_eq!(run(|l| l.ec2.flow_logs.items.clear()), one("drift-missing", "vpc-flow-log", "resource", "network.flow_logs"));
    // a flow log whose destination is the log group's ARN is the same destination
    assert_eq!(
        run(|l| l
            .ec2
            .flow_logs
            .items
            .values_mut()
            .for_each(|f| f.destination = "arn:aws:logs:us-east-1:123456789012:log-group:/tapaudit/dev/vpc-flow-logs".into())),
        vec![]
    );
}
