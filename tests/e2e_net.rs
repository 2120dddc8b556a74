//! End to end: network semantics on resources created directly with the SDK, judged by an
//! account-wide scan through the built binary. The internet split across rules, private and
//! carrier-grade NAT space, a managed prefix list that holds 0.0.0.0/0, and a flow log whose
//! log group was deleted behind its back.

mod support;

use aws_sdk_ec2::types::{AddPrefixListEntry, FlowLogsResourceType, IpPermission, IpRange, LogDestinationType, PrefixListId, TrafficType};
use serde_json::Value;
use support::Emulator;

fn finding<'a>(report: &'a Value, control: &str, resource_id: &str) -> &'a Value {
    let hits: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["control_id"] == control && f["resource"]["id"] == resource_id).collect();
    assert_eq!(hits.len(), 1, "{control} on {resource_id}: {hits:#?}");
    hits[0]
}

fn ssh_from(cidrs: &[&str]) -> IpPermission {
    let mut p = IpPermission::builder().ip_protocol("tcp").from_port(22).to_port(22);
    for c in cidrs {
        p = p.ip_ranges(IpRange::builder().cidr_ip(*c).build());
    }
    p.build()
}

#[tokio::test(flavor = "multi_thread")]
async fn network_sources_prefix_lists_and_flow_log_delivery() {
    let emu = Emulator::start();
    let cfg = emu.sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vpc = ec2.create_vpc().cidr_block("10.30.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let sg = |name: &'static str| {
        let ec2 = ec2.clone();
        let vpc = vpc.clone();
        async move { ec2.create_security_group().group_name(name).description(name).vpc_id(&vpc).send().await.unwrap().group_id().unwrap().to_string() }
    };

    // the internet as two halves, in two separate rules (two authorize calls)
    let split = sg("split-ssh").await;
    ec2.authorize_security_group_ingress().group_id(&split).ip_permissions(ssh_from(&["0.0.0.0/1"])).send().await.unwrap();
    ec2.authorize_security_group_ingress().group_id(&split).ip_permissions(ssh_from(&["128.0.0.0/1"])).send().await.unwrap();
    // broad, but private and carrier-grade NAT space only
    let private = sg("private-ssh").await;
    ec2.authorize_security_group_ingress().group_id(&private).ip_permissions(ssh_from(&["10.0.0.0/8", "100.64.0.0/10"])).send().await.unwrap();
    // all TCP ports, split in two port ranges
    let halves = sg("all-tcp-halves").await;
    for (a, b) in [(0, 32767), (32768, 65535)] {
        let p = IpPermission::builder().ip_protocol("tcp").from_port(a).to_port(b).ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build();
        ec2.authorize_security_group_ingress().group_id(&halves).ip_permissions(p).send().await.unwrap();
    }

    // managed prefix lists: one holding the internet, one holding private space
    let pl = |name: &'static str, cidrs: &'static [&'static str]| {
        let ec2 = ec2.clone();
        async move {
            let mut req = ec2.create_managed_prefix_list().prefix_list_name(name).address_family("IPv4").max_entries(5);
            for c in cidrs {
                req = req.entries(AddPrefixListEntry::builder().cidr(*c).build());
            }
            req.send().await.unwrap().prefix_list().unwrap().prefix_list_id().unwrap().to_string()
        }
    };
    let open_pl = pl("everyone", &["192.168.0.0/16", "0.0.0.0/0"]).await;
    let office_pl = pl("office", &["10.1.0.0/16", "172.16.0.0/12"]).await;
    let via_pl = |pl: &str| {
        IpPermission::builder().ip_protocol("tcp").from_port(22).to_port(22).prefix_list_ids(PrefixListId::builder().prefix_list_id(pl).build()).build()
    };
    let open_by_pl = sg("open-by-prefix-list").await;
    ec2.authorize_security_group_ingress().group_id(&open_by_pl).ip_permissions(via_pl(&open_pl)).send().await.unwrap();
    let office_by_pl = sg("office-by-prefix-list").await;
    ec2.authorize_security_group_ingress().group_id(&office_by_pl).ip_permissions(via_pl(&office_pl)).send().await.unwrap();

    // flow logs: one VPC whose log group is deleted afterwards, one whose group stays
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let good_vpc = ec2.create_vpc().cidr_block("10.31.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    for (v, group) in [(&vpc, "/net/deleted-later"), (&good_vpc, "/net/kept")] {
        logs.create_log_group().log_group_name(group).send().await.unwrap();
        let out = ec2
            .create_flow_logs()
            .resource_ids(v.as_str())
            .resource_type(FlowLogsResourceType::Vpc)
            .traffic_type(TrafficType::All)
            .log_destination_type(LogDestinationType::CloudWatchLogs)
            .log_group_name(group)
            .deliver_logs_permission_arn("arn:aws:iam::123456789012:role/flow-logs")
            .send()
            .await
            .unwrap();
        assert!(out.unsuccessful().is_empty(), "{:?}", out.unsuccessful());
    }
    logs.delete_log_group().log_group_name("/net/deleted-later").send().await.unwrap();
    let fl = ec2.describe_flow_logs().send().await.unwrap();
    assert!(
        fl.flow_logs().iter().all(|f| f.deliver_logs_status() == Some("SUCCESS")),
        "the emulator (like EC2) still reports SUCCESS: the log group lookup is what catches it"
    );
    // a flow log to a group that never existed: the emulator reports DeliverLogsStatus FAILED
    let failed_vpc = ec2.create_vpc().cidr_block("10.32.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    ec2.create_flow_logs()
        .resource_ids(failed_vpc.as_str())
        .resource_type(FlowLogsResourceType::Vpc)
        .traffic_type(TrafficType::All)
        .log_destination_type(LogDestinationType::CloudWatchLogs)
        .log_group_name("/net/never-created")
        .deliver_logs_permission_arn("arn:aws:iam::123456789012:role/flow-logs")
        .send()
        .await
        .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let run = emu.run(&["scan", "--regions", "us-east-1", "--format", "json", "--output-dir", tmp.path().to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("tapaudit.json")).unwrap()).unwrap();

    let expect = [
        ("sg-no-internet-ingress-admin-ports", split.as_str(), "fail"),
        ("sg-no-internet-ingress-admin-ports", private.as_str(), "pass"),
        ("sg-no-internet-ingress-admin-ports", open_by_pl.as_str(), "fail"),
        ("sg-no-internet-ingress-admin-ports", office_by_pl.as_str(), "pass"),
        ("sg-no-internet-ingress-all-ports", halves.as_str(), "fail"),
        ("sg-no-internet-ingress-all-ports", split.as_str(), "pass"),
        ("sg-no-internet-ingress-data-ports", halves.as_str(), "fail"),
        ("vpc-flow-logs-enabled", vpc.as_str(), "fail"),
        ("vpc-flow-logs-enabled", good_vpc.as_str(), "pass"),
        ("vpc-flow-logs-enabled", failed_vpc.as_str(), "fail"),
    ];
    let mut wrong = vec![];
    for (control, id, want) in expect {
        let f = finding(&r, control, id);
        if f["status"] != want {
            wrong.push(format!("{control} on {id}: want {want}, got {} ({})", f["status"], f["message"]));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");

    let split_msg = finding(&r, "sg-no-internet-ingress-admin-ports", &split)["message"].as_str().unwrap().to_string();
    assert!(split_msg.contains("all public IPv4 space") && split_msg.contains("cidr:0.0.0.0/1") && split_msg.contains("cidr:128.0.0.0/1"), "{split_msg}");
    let pl_msg = finding(&r, "sg-no-internet-ingress-admin-ports", &open_by_pl)["message"].as_str().unwrap().to_string();
    assert!(pl_msg.contains(&format!("pl:{open_pl}")), "{pl_msg}");
    let fl_msg = finding(&r, "vpc-flow-logs-enabled", &vpc)["message"].as_str().unwrap().to_string();
    assert!(fl_msg.contains("/net/deleted-later does not exist"), "{fl_msg}");
    let failed_msg = finding(&r, "vpc-flow-logs-enabled", &failed_vpc)["message"].as_str().unwrap().to_string();
    assert!(failed_msg.contains("delivery FAILED (Access error)"), "{failed_msg}");

    // the referenced prefix lists were collected (and only those), with their entries
    assert_eq!(r["errors"], serde_json::json!([]), "a clean collection");
    let calls = &r["stats"]["api_calls"]["ec2"];
    assert_eq!(calls["GetManagedPrefixListEntries"], 2, "{calls:#?}");
}
