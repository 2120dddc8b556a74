//! End to end: `[network]` with a NAT gateway per zone and three security groups that
//! reference each other (lb → tasks, tasks ← lb, db ← tasks): provision, re-run (no changes),
//! plan (no changes), scan (no drift, the network controls pass), destroy (nothing tagged
//! remains).

mod support;

use aws_sdk_ec2::types::Filter;
use serde_json::Value;
use std::collections::BTreeSet;
use support::Emulator;

const STACK: &str = r#"
project = "tapaudit"
stack = "net"
region = "us-east-1"

[tags]
Owner = "data-platform"

[keys.data-key]

[network]
cidr = "10.4.0.0/16"
az_count = 2
nat_gateways = "per-az"

[security_groups.lb-sg]
description = "load balancer: HTTPS from anywhere"
ingress = [{ port = 443, from = "0.0.0.0/0" }]
egress = [{ port = 8080, to = "ecs-tasks-sg" }]

[security_groups.ecs-tasks-sg]
ingress = [{ port = 8080, from = "lb-sg" }, { port = 8080, from = "vpc", description = "health checks" }]
egress = [{ protocol = "all", to = "0.0.0.0/0" }, { port = 5432, to = "db-sg" }]

[security_groups.db-sg]
ingress = [{ port = 5432, from = "ecs-tasks-sg" }]

[database]
deletion_protection = false
"#;

fn f(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

#[tokio::test(flavor = "multi_thread")]
async fn per_az_nat_and_mutually_referencing_groups_provision_idempotently_scan_clean_and_destroy() {
    let emu = Emulator::start();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("net.toml");
    std::fs::write(&path, STACK).unwrap();
    let stack = path.to_str().unwrap();
    emu.run(&["provision", "--stack", stack, "--output", "json"]).ok("provision");

    let cfg = emu.sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let tagged = || f("tag:tapaudit:stack", "net");
    // a NAT gateway per zone, each private table routing through its own
    let nats = ec2.describe_nat_gateways().filter(tagged()).send().await.unwrap();
    let nats: Vec<_> = nats.nat_gateways().iter().filter(|n| n.state().map(|s| s.as_str()) == Some("available")).collect();
    assert_eq!(nats.len(), 2);
    let rts = ec2.describe_route_tables().filters(tagged()).send().await.unwrap();
    let targets: BTreeSet<String> = rts
        .route_tables()
        .iter()
        .flat_map(|t| t.routes())
        .filter(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
        .filter_map(|r| r.nat_gateway_id().map(str::to_string))
        .collect();
    assert_eq!(targets, nats.iter().map(|n| n.nat_gateway_id().unwrap().to_string()).collect(), "one private route table per NAT gateway");
    // the groups' rules name each other
    let sgs = ec2.describe_security_groups().filters(tagged()).send().await.unwrap();
    let id =
        |name: &str| sgs.security_groups().iter().find(|g| g.group_name() == Some(name)).unwrap_or_else(|| panic!("{name}")).group_id().unwrap().to_string();
    let group = |name: &str| sgs.security_groups().iter().find(|g| g.group_name() == Some(name)).unwrap().clone();
    let peers = |perms: &[aws_sdk_ec2::types::IpPermission]| -> BTreeSet<String> {
        perms
            .iter()
            .flat_map(|p| {
                let port = p.from_port().map(|x| x.to_string()).unwrap_or("all".into());
                let mut v: Vec<String> = p.user_id_group_pairs().iter().map(|g| format!("{port} sg:{}", g.group_id().unwrap())).collect();
                v.extend(p.ip_ranges().iter().map(|r| format!("{port} cidr:{}", r.cidr_ip().unwrap())));
                v
            })
            .collect()
    };
    let (lb, tasks, db) = (id("tapaudit-net-lb-sg"), id("tapaudit-net-ecs-tasks-sg"), id("tapaudit-net-db-sg"));
    assert_eq!(peers(group("tapaudit-net-lb-sg").ip_permissions()), BTreeSet::from(["443 cidr:0.0.0.0/0".to_string()]));
    assert_eq!(peers(group("tapaudit-net-lb-sg").ip_permissions_egress()), BTreeSet::from([format!("8080 sg:{tasks}")]));
    assert_eq!(peers(group("tapaudit-net-ecs-tasks-sg").ip_permissions()), BTreeSet::from([format!("8080 sg:{lb}"), "8080 cidr:10.4.0.0/16".to_string()]));
    assert_eq!(peers(group("tapaudit-net-ecs-tasks-sg").ip_permissions_egress()), BTreeSet::from([format!("5432 sg:{db}"), "all cidr:0.0.0.0/0".to_string()]));
    assert_eq!(peers(group("tapaudit-net-db-sg").ip_permissions()), BTreeSet::from([format!("5432 sg:{tasks}")]));
    assert!(group("tapaudit-net-db-sg").ip_permissions_egress().is_empty(), "no default egress");
    assert_eq!(group("tapaudit-net-lb-sg").description(), Some("load balancer: HTTPS from anywhere"));

    // re-run and plan: nothing to do
    let again = emu.run(&["provision", "--stack", stack, "--output", "json"]).ok("second provision").json();
    let changed: Vec<&Value> = again["steps"].as_array().unwrap().iter().filter(|s| s["action"] != "unchanged").collect();
    assert!(changed.is_empty(), "{changed:?}");
    let plan = emu.run(&["plan", "--stack", stack, "--output", "json"]).ok("plan").json();
    let changed: Vec<&Value> = plan["plan"].as_array().unwrap().iter().filter(|s| s["action"] != "unchanged").collect();
    assert!(changed.is_empty(), "{changed:?}");

    // scan: no drift, the network controls pass
    let dir = tmp.path().join("scan");
    let scan = emu.run(&["scan", "--stack", stack, "--format", "json", "--output-dir", dir.to_str().unwrap()]);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("tapaudit.json")).unwrap_or_else(|_| panic!("{}", scan.stderr))).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let drift: Vec<&Value> = findings.iter().filter(|f| f["kind"] == "drift").collect();
    assert!(drift.is_empty(), "no drift right after provision: {drift:#?}");
    let network: Vec<&Value> = findings
        .iter()
        .filter(|f| ["sg-", "vpc-", "subnet-"].iter().any(|p| f["control_id"].as_str().unwrap().starts_with(p)))
        .filter(|f| f["resource"]["logical_id"].is_string())
        .collect();
    assert!(!network.is_empty(), "the network controls judged the stack");
    let bad: Vec<&&Value> = network.iter().filter(|f| !["pass", "not_applicable"].contains(&f["status"].as_str().unwrap())).collect();
    assert!(bad.is_empty(), "{bad:#?}");

    // destroy: nothing tagged remains
    emu.run(&["destroy", "--stack", stack, "--yes"]).ok("destroy");
    assert!(ec2.describe_vpcs().filters(tagged()).send().await.unwrap().vpcs().is_empty(), "vpc");
    assert!(ec2.describe_subnets().filters(tagged()).send().await.unwrap().subnets().is_empty(), "subnets");
    assert!(ec2.describe_security_groups().filters(tagged()).send().await.unwrap().security_groups().is_empty(), "security groups");
    assert!(ec2.describe_route_tables().filters(tagged()).send().await.unwrap().route_tables().is_empty(), "route tables");
    assert!(ec2.describe_internet_gateways().filters(tagged()).send().await.unwrap().internet_gateways().is_empty(), "igw");
    assert!(ec2.describe_addresses().filters(tagged()).send().await.unwrap().addresses().is_empty(), "elastic ips");
    assert!(ec2.describe_flow_logs().filter(tagged()).send().await.unwrap().flow_logs().is_empty(), "flow logs");
    let nats = ec2.describe_nat_gateways().filter(tagged()).send().await.unwrap();
    assert!(!nats.nat_gateways().iter().any(|n| matches!(n.state().map(|s| s.as_str()), Some("available") | Some("pending"))), "nat gateways");
}
