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
    /// Managed prefix lists referenced by the collected security groups' rules (whatever
    /// their tags: they decide the groups' exposure).
    pub prefix_lists: Collection<PrefixList>,
    /// EBS snapshots this account owns.
    pub snapshots: Collection<Snapshot>,
    /// One item per region: EBS encryption by default.
    pub ebs_defaults: Collection<EbsDefaults>,
}

/// An EBS snapshot this account owns (DescribeSnapshots `OwnerIds=self`); id the snapshot id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub meta: Meta,
    pub volume_id: Option<String>,
    /// `pending`, `completed`, `error`, ... (None: not reported)
    pub state: Option<String>,
    pub encrypted: Observed<bool>,
    pub kms_key_id: Option<String>,
    /// Who may create volumes from it (DescribeSnapshotAttribute `createVolumePermission`).
    pub create_volume_permissions: Observed<Vec<VolumePermission>>,
}

/// One `createVolumePermission` entry: the group `all` (public) or an account id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumePermission {
    pub group: Option<String>,
    pub user_id: Option<String>,
}

/// The region's EBS encryption default (GetEbsEncryptionByDefault), one record per region,
/// account-wide scans only; id the region, arn `arn:<partition>:ec2:<region>:<account>:ebs-defaults`
/// (a record of the account's setting in the region, not an AWS resource ARN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EbsDefaults {
    pub meta: Meta,
    pub encryption_by_default: Observed<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    pub meta: Meta,
    pub cidr: String,
    pub is_default: Observed<bool>,
    pub dns_support: Observed<bool>,
    pub dns_hostnames: Observed<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    pub meta: Meta,
    pub vpc_id: String,
    pub cidr: String,
    pub availability_zone: String,
    pub map_public_ip_on_launch: Observed<bool>,
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
    /// The VPC's main route table (an association with `Main` true); Unknown when an
    /// association did not say.
    pub main: Observed<bool>,
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

/// One security-group rule, flattened (one peer per rule), as DescribeSecurityGroups returned
/// it. What it admits is judged by `semantics::network::ports_admitted`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp`, `-1` (all)
    pub protocol: String,
    /// Inclusive port range (ICMP: type and code) as returned; None when AWS returned none,
    /// which for `-1` means every port and for tcp/udp makes the rule unreadable.
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// `cidr:0.0.0.0/0`, `cidr6:::/0`, `sg:sg-…`, `pl:pl-…`
    pub peer: String,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let proto = if self.protocol == "-1" { "all" } else { &self.protocol };
        match (self.from_port, self.to_port) {
            _ if self.protocol == "-1" => write!(f, "all traffic from {}", self.peer),
            (Some(a), Some(b)) if a == b => write!(f, "{proto}/{a} from {}", self.peer),
            (Some(a), Some(b)) => write!(f, "{proto}/{a}-{b} from {}", self.peer),
            (None, None) if !matches!(proto, "tcp" | "udp" | "6" | "17") => write!(f, "{proto} from {}", self.peer),
            _ => write!(f, "{proto}/(no port range) from {}", self.peer),
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
    /// `FlowLogStatus`: `ACTIVE`
    pub status: String,
    /// `DeliverLogsStatus`: `SUCCESS` | `FAILED`.
    pub deliver_logs_status: Observed<String>,
    /// `DeliverLogsErrorMessage` (`Access error`, `Rate limited`, ...), when delivery failed.
    pub deliver_logs_error: Option<String>,
    /// The CloudWatch Logs log group it delivers to (`LogGroupName`), for that destination type.
    pub log_group_name: Option<String>,
}

/// A managed prefix list (customer- or AWS-managed) and its entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefixList {
    pub meta: Meta,
    /// `IPv4` | `IPv6`
    pub address_family: String,
    /// The CIDRs of its current version (GetManagedPrefixListEntries).
    pub entries: Observed<Vec<String>>,
}

resource!(Snapshot, EbsDefaults, Vpc, Subnet, RouteTable, InternetGateway, NatGateway, SecurityGroup, FlowLog, PrefixList);
