use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ec2 {
    pub vpcs: Collection<Vpc>,
    pub subnets: Collection<Subnet>,
    pub route_tables: Collection<RouteTable>,
    pub internet_gateways: Collection<InternetGateway>,
    pub nat_gateways: Collection<NatGateway>,
    pub security_groups: Collection<SecurityGroup>,
    pub flow_logs: Collection<FlowLog>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    pub meta: Meta,
    pub cidr: String,
    pub is_default: bool,
    pub dns_support: Observed<bool>,
    pub dns_hostnames: Observed<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    pub meta: Meta,
    pub vpc_id: String,
    pub cidr: String,
    pub availability_zone: String,
    pub map_public_ip_on_launch: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub destination: String,
    /// `igw-…`, `nat-…`, `local`, `vpce-…`, `pcx-…`, `eni-…`, …
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTable {
    pub meta: Meta,
    pub vpc_id: String,
    pub main: bool,
    pub subnet_ids: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InternetGateway {
    pub meta: Meta,
    pub vpc_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NatGateway {
    pub meta: Meta,
    pub vpc_id: String,
    pub subnet_id: String,
    pub state: String,
    pub allocation_ids: Vec<String>,
}

/// One security-group rule, flattened (one peer per rule).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp`, `-1` (all)
    pub protocol: String,
    /// Inclusive port range; None = all ports.
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// `cidr:0.0.0.0/0`, `cidr6:::/0`, `sg:sg-…`, `pl:pl-…`
    pub peer: String,
}

impl Rule {
    /// True when the rule admits `port` (all-protocol rules admit every port).
    pub fn covers_port(&self, port: i32) -> bool {
        match (self.protocol.as_str(), self.from_port, self.to_port) {
            ("-1", _, _) => true,
            ("tcp" | "6" | "udp" | "17", Some(a), Some(b)) => a <= port && port <= b,
            ("tcp" | "6" | "udp" | "17", None, None) => true,
            _ => false,
        }
    }

    pub fn is_internet(&self) -> bool {
        self.peer == "cidr:0.0.0.0/0" || self.peer == "cidr6:::/0"
    }

    pub fn all_ports(&self) -> bool {
        self.protocol == "-1" || (self.from_port.unwrap_or(0) <= 0 && self.to_port.unwrap_or(65535) >= 65535)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let proto = if self.protocol == "-1" { "all" } else { &self.protocol };
        match (self.from_port, self.to_port) {
            _ if self.protocol == "-1" => write!(f, "all traffic from {}", self.peer),
            (Some(a), Some(b)) if a == b => write!(f, "{proto}/{a} from {}", self.peer),
            (Some(a), Some(b)) => write!(f, "{proto}/{a}-{b} from {}", self.peer),
            _ => write!(f, "{proto}/all from {}", self.peer),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub meta: Meta,
    pub group_name: String,
    pub vpc_id: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

impl SecurityGroup {
    pub fn is_default(&self) -> bool {
        self.group_name == "default"
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowLog {
    pub meta: Meta,
    /// The VPC, subnet or ENI it watches.
    pub resource_id: String,
    pub traffic_type: String,
    /// `cloud-watch-logs`, `s3`, `kinesis-data-firehose`
    pub destination_type: String,
    pub destination: String,
    /// `ACTIVE` when delivering
    pub status: String,
}

resource!(Vpc, Subnet, RouteTable, InternetGateway, NatGateway, SecurityGroup, FlowLog);

/// Hold back an unused-import warning for Observed in modules that only re-export it.
#[allow(dead_code)]
type _O = Observed<()>;
