//! `[security_groups.<id>]`: validation messages, references, nodes without cycles, desired
//! rules, drift on hand-built live State.

use super::*;
use crate::drift::tests::{by_logical, line, one, run};
use crate::finding::Status;
use crate::model::ec2::Rule as ModelRule;
use crate::spec::Stack;
use std::path::Path;

const BASE: &str = "project = \"tapaudit\"\nstack = \"t\"\n\n[keys.data-key]\n";

fn parse(text: &str) -> std::result::Result<Stack, Vec<String>> {
    crate::spec::parse(Path::new("t.toml"), text.to_string()).map_err(|e| match e {
        crate::error::Error::Spec(v) => v,
        other => vec![other.to_string()],
    })
}

/// The problems of one group `[security_groups.g]` (line 6) with `body`, others declared after.
fn errors(body: &str) -> Vec<String> {
    parse(&format!("{BASE}\n[security_groups.g]\n{body}\n\n[security_groups.other]\n\n[network]\n")).err().unwrap_or_default()
}

#[test]
fn rule_problems_name_the_rule() {
    assert_eq!(
        errors("ingress = [{ port = 5432, from = \"10.0.0.1/16\" }]"),
        vec!["t.toml:7: security_groups.g.ingress[0].from has host bits set: 10.0.0.1/16 (did you mean 10.0.0.0/16?)"]
    );
    assert_eq!(
        errors("ingress = [{ port = 5432, from = \"10.0.0.0/33\" }]"),
        vec!["t.toml:7: security_groups.g.ingress[0].from is not \"vpc\", a security group's logical id or an IPv4 CIDR block (got \"10.0.0.0/33\")"]
    );
    assert_eq!(
        errors("ingress = [{ from = \"vpc\" }]"),
        vec!["t.toml:7: security_groups.g.ingress[0] needs `port` (tcp and udp rules name their ports; use protocol = \"all\" for every port)"]
    );
    assert_eq!(
        errors("egress = [{ protocol = \"all\", port = 5, to = \"vpc\" }]"),
        vec!["t.toml:7: security_groups.g.egress[0].port must be omitted with protocol = \"all\" (every port)"]
    );
    assert_eq!(
        errors("ingress = [{ port = 2000, to_port = 1000, from = \"vpc\" }]"),
        vec!["t.toml:7: security_groups.g.ingress[0].to_port must not be below port (1000 < 2000)"]
    );
    assert_eq!(
        errors("ingress = [{ port = 443 }]"),
        vec!["t.toml:7: security_groups.g.ingress[0] needs `from`: a security group's logical id, \"vpc\" or an IPv4 CIDR"]
    );
    assert_eq!(
        errors("egress = [{ port = 443, from = \"vpc\" }]"),
        vec![
            "t.toml:7: security_groups.g.egress[0].from is not a setting of an egress rule: name the peer with `to`",
            "t.toml:7: security_groups.g.egress[0] needs `to`: a security group's logical id, \"vpc\" or an IPv4 CIDR",
        ]
    );
    assert_eq!(errors("ingress = [{ port = 70000, from = \"vpc\" }]").len(), 1, "a port beyond 65535 is rejected by the parser");
}

#[test]
fn public_ingress_needs_public_true_except_on_web_ports() {
    assert_eq!(
        errors("ingress = [{ port = 5432, from = \"0.0.0.0/0\" }]"),
        vec!["t.toml:7: security_groups.g.ingress[0].from opens port 5432 to the internet (0.0.0.0/0): only 80 and 443 may be public; set `public = true` on this rule to accept it (the network controls still judge it)"]
    );
    assert_eq!(
        errors("ingress = [{ protocol = \"all\", from = \"0.0.0.0/0\" }]"),
        vec!["t.toml:7: security_groups.g.ingress[0].from opens every port to the internet (0.0.0.0/0): only 80 and 443 may be public; set `public = true` on this rule to accept it (the network controls still judge it)"]
    );
    assert_eq!(
        errors("ingress = [{ port = 80, to_port = 443, from = \"0.0.0.0/0\" }]"),
        vec!["t.toml:7: security_groups.g.ingress[0].from opens ports 80-443 to the internet (0.0.0.0/0): only 80 and 443 may be public; set `public = true` on this rule to accept it (the network controls still judge it)"]
    );
    assert_eq!(errors("ingress = [{ port = 443, from = \"0.0.0.0/0\" }, { port = 80, from = \"0.0.0.0/0\" }]"), Vec::<String>::new());
    assert_eq!(errors("ingress = [{ port = 5432, from = \"0.0.0.0/0\", public = true }]"), Vec::<String>::new());
    // egress to the internet is not ingress
    assert_eq!(errors("egress = [{ protocol = \"all\", to = \"0.0.0.0/0\" }]"), Vec::<String>::new());
}

#[test]
fn group_references_are_checked() {
    assert_eq!(
        errors("ingress = [{ port = 5432, from = \"app-sg\" }]"),
        vec!["t.toml:7: security_groups.g.ingress[0].from names \"app-sg\", which the stack file does not declare (expected a security group)"]
    );
    assert_eq!(
        errors("egress = [{ port = 5432, to = \"data-key\" }]"),
        vec!["t.toml:7: security_groups.g.egress[0].to names \"data-key\", which is a key (keys.data-key), not a security group"]
    );
}

const MUTUAL: &str = "
[security_groups.app]
ingress = [{ port = 8080, from = \"vpc\" }]
egress = [{ port = 5432, to = \"db\" }]

[security_groups.db]
description = \"the database\"
ingress = [{ port = 5432, from = \"app\", description = \"from the app\" }, { port = 5432, from = \"db\" }]
";

#[test]
fn groups_that_reference_each_other_form_no_cycle() {
    let stack = parse(&format!("{BASE}{MUTUAL}")).unwrap();
    let nodes = crate::provision::nodes(&stack);
    let edges = nodes.iter().map(|n| (n.id.clone(), n.deps.clone())).collect();
    let order = crate::provision::graph::check_acyclic(&edges).unwrap();
    let pos = |id: &str| order.iter().position(|o| o == id).unwrap();
    assert!(pos("app") < pos("db-rules") && pos("db") < pos("app-rules"), "{order:?}");
    let deps = |id: &str| nodes.iter().find(|n| n.id == id).unwrap().deps.clone();
    assert_eq!(deps("app"), vec!["vpc"]);
    assert_eq!(deps("app-rules"), vec!["db", "app", "vpc"]);
    assert_eq!(deps("db-rules"), vec!["app", "db", "vpc"]);
}

#[test]
fn desired_rules_name_groups_by_desired_id() {
    let stack = parse(&format!("{BASE}{MUTUAL}")).unwrap();
    let st = crate::spec::desired::desired(&stack);
    let g = |l: &str| st.ec2.security_groups.iter().find(|g| g.meta.logical_id() == Some(l)).unwrap().clone();
    let rule = |protocol: &str, port: Option<i32>, peer: &str| ModelRule { protocol: protocol.into(), from_port: port, to_port: port, peer: peer.into() };
    let app = g("app");
    assert_eq!((app.meta.id.as_str(), app.group_name.as_str(), app.vpc_id.as_str()), ("sg-app", "tapaudit-t-app", "vpc-vpc"));
    assert_eq!(app.ingress, vec![rule("tcp", Some(8080), "cidr:10.0.0.0/16")]);
    assert_eq!(app.egress, vec![rule("tcp", Some(5432), "sg:sg-db")]);
    let db = g("db");
    assert_eq!(db.ingress, vec![rule("tcp", Some(5432), "sg:sg-app"), rule("tcp", Some(5432), "sg:sg-db")]);
    assert!(db.egress.is_empty(), "no default egress");
    let all = parse(&format!("{BASE}\n[security_groups.x]\negress = [{{ protocol = \"all\", to = \"0.0.0.0/0\" }}, {{ protocol = \"udp\", port = 53, to_port = 54, to = \"vpc\" }}]\n")).unwrap();
    let st = crate::spec::desired::desired(&all);
    let x = st.ec2.security_groups.iter().find(|g| g.meta.logical_id() == Some("x")).unwrap();
    assert_eq!(
        x.egress,
        vec![
            ModelRule { protocol: "-1".into(), from_port: None, to_port: None, peer: "cidr:0.0.0.0/0".into() },
            ModelRule { protocol: "udp".into(), from_port: Some(53), to_port: Some(54), peer: "cidr:10.0.0.0/16".into() },
        ]
    );
}

#[test]
fn rules_are_compared_without_descriptions() {
    let r = |d: Option<&str>| Rule { protocol: "tcp".into(), ports: Some((1, 1)), peer: "cidr:10.0.0.0/8".into(), description: d.map(str::to_string) };
    assert!(rule_changes("ingress", &BTreeSet::from([r(Some("a"))]), &BTreeSet::from([r(None)])).is_empty());
    let other = Rule { ports: Some((2, 2)), ..r(None) };
    let changes = rule_changes("ingress", &BTreeSet::from([r(None)]), &BTreeSet::from([other]));
    assert_eq!(changes.len(), 2);
}

#[test]
fn drift_of_security_group_rules() {
    let open = ModelRule { protocol: "tcp".into(), from_port: Some(5432), to_port: Some(5432), peer: "cidr:0.0.0.0/0".into() };
    let got = run(|l| {
        let k = by_logical(&mut l.ec2.security_groups, "db-sg");
        l.ec2.security_groups.items.get_mut(&k).unwrap().ingress.push(open.clone());
    });
    assert_eq!(got, vec![("drift-unmanaged".into(), Status::Fail, "db-sg".into(), "ingress".into(), line("security_groups.db-sg.ingress"))]);
    let got = run(|l| {
        let k = by_logical(&mut l.ec2.security_groups, "db-sg");
        l.ec2.security_groups.items.get_mut(&k).unwrap().ingress.clear();
    });
    assert_eq!(got, one("drift-changed", "db-sg", "ingress", "security_groups.db-sg.ingress"));
    // the same rules in another order are no drift
    assert_eq!(
        run(|l| {
            let k = by_logical(&mut l.ec2.security_groups, "ecs-tasks-sg");
            l.ec2.security_groups.items.get_mut(&k).unwrap().ingress.reverse();
        }),
        vec![]
    );
    let got = run(|l| {
        let k = by_logical(&mut l.ec2.security_groups, "ecs-tasks-sg");
        l.ec2.security_groups.items.get_mut(&k).unwrap().egress.clear();
    });
    assert_eq!(got, one("drift-changed", "ecs-tasks-sg", "egress", "security_groups.ecs-tasks-sg.egress"));
    // the VPC's default group allows nothing
    let got = run(|l| {
        let k = by_logical(&mut l.ec2.security_groups, "default-sg");
        l.ec2.security_groups.items.get_mut(&k).unwrap().egress.push(ModelRule {
            protocol: "-1".into(),
            from_port: None,
            to_port: None,
            peer: "cidr:0.0.0.0/0".into(),
        });
    });
    assert_eq!(got, one("drift-changed", "default-sg", "egress", "network.cidr"));
    assert_eq!(
        run(|l| l.ec2.security_groups.items.clear()).iter().filter(|f| f.0 == "drift-missing").map(|f| f.2.clone()).collect::<BTreeSet<_>>(),
        BTreeSet::from(["db-sg".to_string(), "default-sg".into(), "ecs-tasks-sg".into()])
    );
}
