//! Network sources as the internet sees them, and security-group protocol/port semantics.
//! Pure: no AWS calls, no State; the EC2 controls feed it the peers of a group's rules.
//!
//! **Public space.** An address is public when it is globally reachable unicast:
//! - IPv4: everything except the blocks of the IANA IPv4 Special-Purpose Address Registry
//!   (RFC 6890 and updates) whose "Globally Reachable" is False — 0.0.0.0/8, 10.0.0.0/8,
//!   100.64.0.0/10 (carrier-grade NAT), 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12,
//!   192.0.0.0/24 (but 192.0.0.9/32 and 192.0.0.10/32 are reachable), 192.0.2.0/24,
//!   192.168.0.0/16, 198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24, 240.0.0.0/4 (which holds
//!   255.255.255.255/32) — and multicast 224.0.0.0/4, which is never a unicast source. Blocks
//!   marked "N/A" (192.88.99.0/24, the deprecated 6to4 relay anycast) count as public: when in
//!   doubt, an address is reachable.
//! - IPv6: global unicast 2000::/3 (RFC 4291 §2.4; everything outside it — ::1, ::/128,
//!   fc00::/7 ULA, fe80::/10 link-local, ff00::/8 multicast, ::ffff:0:0/96 — is not public)
//!   minus the documentation blocks 2001:db8::/32 and 3fff::/20 and benchmarking 2001:2::/48
//!   (IANA IPv6 Special-Purpose Address Registry, Globally Reachable False), plus the NAT64
//!   well-known prefix 64:ff9b::/96 (Globally Reachable True). The rest of 2001::/23 (Teredo,
//!   ORCHID, AS112, ...) counts as public.
//!
//! **Internet exposure.** A set of sources is judged by its union, the way a security group
//! admits traffic (rules are permissive only; a packet is allowed when any rule matches it):
//! 0.0.0.0/1 + 128.0.0.0/1 is the whole internet, and so is 0.0.0.0/0 cut into a thousand
//! pieces. The union is "the internet" when it holds at least [`BROAD_V4`] public IPv4
//! addresses (a /8 worth, 2^24, about 0.45% of the public IPv4 space) or [`BROAD_V6`] public
//! IPv6 addresses (2^111: every /16 of global unicast, even 2001::/16 which holds the
//! documentation block; 2000::/3 is the whole IPv6 internet).
//! Narrower public ranges (an office /24, a partner's /16) are not the internet.
//!
//! **CIDRs.** Host bits are ignored (`10.1.2.3/8` matches what `10.0.0.0/8` matches, as a
//! prefix match does); a bare address is a /32 or /128 host.

use ipnet::IpNet;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::LazyLock;

/// Public IPv4 addresses that make a union "the internet": a /8 worth.
pub const BROAD_V4: u128 = 1 << 24;
/// Public IPv6 addresses that make a union "the internet": half a /16 of global unicast, so
/// that any /16 counts even when it holds a documentation or benchmarking block (2001::/16).
pub const BROAD_V6: u128 = 1 << 111;

/// Inclusive address interval; IPv4 addresses are held as u128 too.
type Span = (u128, u128);

/// IPv4 blocks that are not globally reachable unicast (see the module docs).
const NOT_PUBLIC_V4: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/29",
    "192.0.0.8/32",
    "192.0.0.11/32",
    "192.0.0.12/30",
    "192.0.0.16/28",
    "192.0.0.32/27",
    "192.0.0.64/26",
    "192.0.0.128/25",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
];

/// IPv6: what is public inside the whole space (see the module docs).
const PUBLIC_V6: &[&str] = &["2000::/3", "64:ff9b::/96"];
const NOT_PUBLIC_V6: &[&str] = &["2001:db8::/32", "3fff::/20", "2001:2::/48"];

fn span(net: &IpNet) -> Span {
    match net {
        IpNet::V4(n) => (u32::from(n.network()) as u128, u32::from(n.broadcast()) as u128),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

fn spans(cidrs: &[&str]) -> Vec<Span> {
    cidrs.iter().map(|c| span(&IpNet::from_str(c).expect("built-in CIDR"))).collect()
}

/// Sorted, non-overlapping, non-adjacent intervals covering exactly the input.
fn union(mut v: Vec<Span>) -> Vec<Span> {
    v.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some((_, end)) if a <= end.saturating_add(1) => *end = (*end).max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// `a` minus `b` (both normalised by [`union`]).
fn subtract(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    for &(mut lo, hi) in a {
        let mut done = false;
        for &(x, y) in b {
            if y < lo || x > hi {
                continue;
            }
            if x > lo {
                out.push((lo, x - 1));
            }
            if y >= hi {
                done = true;
                break;
            }
            lo = y + 1;
        }
        if !done {
            out.push((lo, hi));
        }
    }
    out
}

/// Addresses in both (both normalised).
fn intersect(a: &[Span], b: &[Span]) -> Vec<Span> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Number of addresses (saturating; public space is at most 2^125 + 2^32, so exact there).
fn count(v: &[Span]) -> u128 {
    v.iter().fold(0u128, |n, (a, b)| n.saturating_add((b - a).saturating_add(1)))
}

static PUBLIC_V4_SPACE: LazyLock<Vec<Span>> = LazyLock::new(|| subtract(&[(0, u32::MAX as u128)], &union(spans(NOT_PUBLIC_V4))));
static PUBLIC_V6_SPACE: LazyLock<Vec<Span>> = LazyLock::new(|| subtract(&union(spans(PUBLIC_V6)), &union(spans(NOT_PUBLIC_V6))));

/// Every public IPv4 address (about 3.7 billion).
pub fn public_v4_total() -> u128 {
    count(&PUBLIC_V4_SPACE)
}

/// Every public IPv6 address (about 2^125).
pub fn public_v6_total() -> u128 {
    count(&PUBLIC_V6_SPACE)
}

/// A CIDR as a security group matches it: host bits ignored, a bare address is a host.
pub fn parse_cidr(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(n) = IpNet::from_str(s) {
        return Ok(n.trunc());
    }
    if let Ok(a) = IpAddr::from_str(s) {
        return Ok(IpNet::from(a));
    }
    Err(format!("{s:?} is not an IPv4 or IPv6 CIDR"))
}

/// How much of the public internet a set of sources covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exposure {
    /// Public IPv4 addresses in the union.
    pub public_v4: u128,
    /// Public IPv6 addresses in the union.
    pub public_v6: u128,
}

impl Exposure {
    /// The union is the internet: broad enough public space in either family.
    pub fn is_internet(&self) -> bool {
        self.public_v4 >= BROAD_V4 || self.public_v6 >= BROAD_V6
    }

    /// No public address at all (private, CGN, link-local, ULA, security-group references).
    pub fn is_private(&self) -> bool {
        self.public_v4 == 0 && self.public_v6 == 0
    }

    pub fn whole_v4(&self) -> bool {
        self.public_v4 == public_v4_total()
    }

    pub fn whole_v6(&self) -> bool {
        self.public_v6 == public_v6_total()
    }

    /// Words for a message: "all public IPv4 space", "50.0% of public IPv4 space (2^31 addresses)".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.public_v4 > 0 {
            parts.push(if self.whole_v4() { "all public IPv4 space".to_string() } else { share(self.public_v4, public_v4_total(), "IPv4") });
        }
        if self.public_v6 > 0 {
            parts.push(if self.whole_v6() { "all public IPv6 space".to_string() } else { share(self.public_v6, public_v6_total(), "IPv6") });
        }
        if parts.is_empty() {
            "no public addresses".into()
        } else {
            parts.join(" and ")
        }
    }
}

fn share(n: u128, total: u128, family: &str) -> String {
    let pct = n as f64 / total as f64 * 100.0;
    let pow = 127 - n.leading_zeros();
    let size = if n == 1 << pow { format!("2^{pow}") } else { format!("~2^{pow}") };
    format!("{pct:.3}% of public {family} space ({size} addresses)")
}

/// The public internet a set of sources covers, judged on their union.
pub fn exposure<'a>(nets: impl IntoIterator<Item = &'a IpNet>) -> Exposure {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for n in nets {
        match n {
            IpNet::V4(_) => v4.push(span(n)),
            IpNet::V6(_) => v6.push(span(n)),
        }
    }
    Exposure { public_v4: count(&intersect(&union(v4), &PUBLIC_V4_SPACE)), public_v6: count(&intersect(&union(v6), &PUBLIC_V6_SPACE)) }
}

/// True when the one network holds any public address.
pub fn has_public(net: &IpNet) -> bool {
    !exposure([net]).is_private()
}

/// Convenience for tests and messages: parse then judge.
pub fn exposure_of(cidrs: &[&str]) -> Result<Exposure, String> {
    let nets = cidrs.iter().map(|c| parse_cidr(c)).collect::<Result<Vec<_>, _>>()?;
    Ok(exposure(&nets))
}

// ---------- protocols and ports ----------

/// The port-carrying transports that the port controls look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// What one rule admits of one transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortMatch {
    /// Nothing of this transport (another protocol, ICMP).
    Nothing,
    /// These ports, inclusive.
    Ports(u16, u16),
    /// The rule cannot be read (reason).
    Unknown(String),
}

impl PortMatch {
    pub fn admits(&self, port: u16) -> Option<bool> {
        match self {
            PortMatch::Nothing => Some(false),
            PortMatch::Ports(a, b) => Some(*a <= port && port <= *b),
            PortMatch::Unknown(_) => None,
        }
    }
}

/// True for the all-protocols rule (`-1`).
pub fn is_all_protocols(protocol: &str) -> bool {
    protocol.trim() == "-1"
}

/// What a security-group rule (`IpProtocol`, `FromPort`, `ToPort` as DescribeSecurityGroups
/// returns them) admits of `t`. Per the EC2 API reference (IpPermission): `-1` is every
/// protocol; `-1` or a protocol number other than tcp (6), udp (17), icmp (1) and icmpv6 (58)
/// "allows traffic on all ports, regardless of any port range you specify" — of that protocol,
/// not of TCP or UDP; "for tcp, udp and icmp you must specify a port range", so a TCP/UDP rule
/// without one (or with an impossible one) is unreadable, not "all ports". ICMP's "ports" are
/// types and codes: ICMP admits no TCP/UDP port.
pub fn ports_admitted(protocol: &str, from: Option<i32>, to: Option<i32>, t: Transport) -> PortMatch {
    let p = protocol.trim().to_ascii_lowercase();
    let mine = match (p.as_str(), t) {
        ("-1", _) => return PortMatch::Ports(0, u16::MAX),
        ("tcp" | "6", Transport::Tcp) | ("udp" | "17", Transport::Udp) => true,
        ("tcp" | "6" | "udp" | "17" | "icmp" | "1" | "icmpv6" | "58", _) => false,
        (n, _) if n.parse::<u8>().is_ok() => false,
        (other, _) => return PortMatch::Unknown(format!("unrecognised IP protocol {other:?}")),
    };
    if !mine {
        return PortMatch::Nothing;
    }
    match (from, to) {
        (Some(a), Some(b)) if (0..=65535).contains(&a) && (0..=65535).contains(&b) && a <= b => PortMatch::Ports(a as u16, b as u16),
        (Some(a), Some(b)) => PortMatch::Unknown(format!("{p} rule with an invalid port range {a}-{b}")),
        _ => PortMatch::Unknown(format!("{p} rule without a port range")),
    }
}

/// Cut 0..=65535 at the edges of `ranges`: on each piece, every range either holds all of it
/// or none of it, so judging one port per piece judges every port.
pub fn port_pieces(ranges: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut cuts: Vec<u32> = vec![0, 65536];
    for &(a, b) in ranges {
        cuts.push(a as u32);
        cuts.push(b as u32 + 1);
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2).map(|w| (w[0] as u16, (w[1] - 1) as u16)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(cidrs: &[&str]) -> Exposure {
        exposure_of(cidrs).unwrap_or_else(|e| panic!("{e}"))
    }

    /// (sources, is the internet) — single ranges, unions, private space, both families.
    #[test]
    fn internet_table() {
        let cases: &[(&[&str], bool)] = &[
            // the literal internet
            (&["0.0.0.0/0"], true),
            (&["::/0"], true),
            (&["2000::/3"], true),
            // split across rules
            (&["0.0.0.0/1", "128.0.0.0/1"], true),
            (&["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"], true),
            (&["2000::/4", "3000::/4"], true),
            // single broad public ranges
            (&["0.0.0.0/1"], true),
            (&["128.0.0.0/1"], true),
            (&["1.0.0.0/8"], true),
            (&["52.0.0.0/6"], true),
            (&["2001::/16"], true),
            (&["2600::/12"], true),
            // half private, half public: 11.0.0.0/8 is public, a /8 worth
            (&["10.0.0.0/7"], true),
            // a /8 minus its private part is less than a /8 of public space
            (&["172.0.0.0/8"], false),
            (&["2001::/16"], true),
            (&["2001:db8::/32", "2001::/17"], false),
            // two /9s that together make a public /8
            (&["8.0.0.0/9", "8.128.0.0/9"], true),
            // narrow public ranges are not the internet
            (&["1.0.0.0/9"], false),
            (&["8.8.8.8/32"], false),
            (&["52.94.0.0/16", "54.239.0.0/16"], false),
            (&["2001:db8::/32"], false),
            (&["2600:1f00::/24"], false),
            (&["2001:4860::/32"], false),
            // private and special-purpose space, however broad
            (&["10.0.0.0/8"], false),
            (&["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], false),
            (&["100.64.0.0/10"], false),
            (&["10.0.0.0/8", "100.64.0.0/10"], false),
            (&["127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8"], false),
            (&["224.0.0.0/3"], false),
            (&["240.0.0.0/4"], false),
            (&["198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"], false),
            (&["fc00::/7"], false),
            (&["fe80::/10"], false),
            (&["::1/128"], false),
            (&["ff00::/8"], false),
            (&["::ffff:0:0/96"], false),
            (&["4000::/2", "8000::/1"], false),
            (&["fc00::/7", "fe80::/10", "::1/128", "ff00::/8"], false),
            // host bits set: judged as the network they name
            (&["10.1.2.3/8"], false),
            (&["1.2.3.4/1"], true),
            (&["128.9.9.9/1", "0.1.2.3/1"], true),
            // hosts
            (&["203.0.113.7"], false),
            (&["8.8.8.8"], false),
            // overlaps count once
            (&["8.0.0.0/9", "8.0.0.0/9", "8.64.0.0/10"], false),
            (&["0.0.0.0/1", "0.0.0.0/2", "64.0.0.0/3"], true),
            // many small pieces that add up
            (&["8.0.0.0/10", "8.64.0.0/10", "8.128.0.0/10", "8.192.0.0/10"], true),
            (&["8.0.0.0/10", "8.64.0.0/10", "8.128.0.0/10"], false),
            // mixed families: each judged on its own
            (&["10.0.0.0/8", "fd00::/8"], false),
            (&["10.0.0.0/8", "2000::/3"], true),
            (&["0.0.0.0/0", "fd00::/8"], true),
            (&["8.8.8.0/24", "2001:4860::/32"], false),
        ];
        for (cidrs, internet) in cases {
            assert_eq!(exp(cidrs).is_internet(), *internet, "{cidrs:?}: {}", exp(cidrs).describe());
        }
    }

    #[test]
    fn zero_slash_zero_in_many_pieces_is_the_whole_internet() {
        let pieces: Vec<String> = (0..=255u32).map(|i| format!("{i}.0.0.0/8")).collect();
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        let e = exp(&refs);
        assert!(e.is_internet() && e.whole_v4(), "{}", e.describe());
        assert_eq!(e.describe(), "all public IPv4 space");
        // the same minus one public /8 is still the internet, but no longer all of it
        let without_8: Vec<&str> = refs.iter().copied().filter(|c| *c != "8.0.0.0/8").collect();
        let e = exp(&without_8);
        assert!(e.is_internet() && !e.whole_v4());
        // 65536 /24s of one public /8 cover it exactly
        let mut small: Vec<String> = Vec::new();
        for b in 0..=255u32 {
            for c in 0..=255u32 {
                small.push(format!("44.{b}.{c}.0/24"));
            }
        }
        let refs: Vec<&str> = small.iter().map(String::as_str).collect();
        assert_eq!(exp(&refs).public_v4, BROAD_V4);
        assert!(exp(&refs).is_internet());
        assert!(!exp(&refs[1..]).is_internet(), "one /24 short of a /8");
    }

    #[test]
    fn whole_spaces_and_totals() {
        assert!(exp(&["0.0.0.0/0"]).whole_v4());
        assert!(exp(&["0.0.0.0/1", "128.0.0.0/1"]).whole_v4());
        assert!(exp(&["::/0"]).whole_v6());
        assert!(exp(&["2000::/3", "64:ff9b::/96"]).whole_v6());
        assert!(!exp(&["2000::/3"]).whole_v6(), "NAT64 well-known prefix is public too");
        assert!(exp(&["2000::/3"]).is_internet());
        // the IPv4 total: 2^32 minus the special-purpose blocks, minus multicast and reserved
        let not_public: u128 = (1 << 24) * 3 + (1 << 22) + (1 << 16) * 2 + (1 << 20) + (1 << 17) + 256 * 3 + 254 + (1 << 28) * 2;
        assert_eq!(public_v4_total(), (1u128 << 32) - not_public);
        assert_eq!(exp(&["192.0.0.0/24"]).public_v4, 2, "PCP and TURN anycast are reachable");
        assert_eq!(exp(&["192.88.99.0/24"]).public_v4, 256, "N/A counts as reachable");
        assert_eq!(exp(&["100.64.0.0/10", "100.128.0.0/9"]).public_v4, 1 << 23);
        assert!(exp(&["10.0.0.0/8"]).is_private());
        assert!(!exp(&["8.8.8.8/32"]).is_private());
    }

    #[test]
    fn describe_names_the_share() {
        assert_eq!(exp(&["0.0.0.0/0", "::/0"]).describe(), "all public IPv4 space and all public IPv6 space");
        assert_eq!(exp(&["10.0.0.0/8"]).describe(), "no public addresses");
        assert!(exp(&["1.0.0.0/8"]).describe().contains("(2^24 addresses)"), "{}", exp(&["1.0.0.0/8"]).describe());
    }

    #[test]
    fn cidr_parsing() {
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_cidr("8.8.8.8").unwrap().to_string(), "8.8.8.8/32");
        assert_eq!(parse_cidr("2001:db8::1/32").unwrap().to_string(), "2001:db8::/32");
        assert_eq!(parse_cidr(" ::/0 ").unwrap().to_string(), "::/0");
        for bad in ["", "10.0.0.0/33", "300.1.1.1/8", "any", "10.0.0.0/-1", "::/129"] {
            assert!(parse_cidr(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn interval_arithmetic() {
        assert_eq!(union(vec![(5, 9), (0, 3), (4, 4), (20, 30), (25, 26)]), vec![(0, 9), (20, 30)]);
        assert_eq!(union(vec![(0, u128::MAX), (3, 4)]), vec![(0, u128::MAX)]);
        assert_eq!(subtract(&[(0, 100)], &[(0, 9), (50, 60), (100, 200)]), vec![(10, 49), (61, 99)]);
        assert_eq!(subtract(&[(10, 20)], &[(0, 30)]), vec![]);
        assert_eq!(intersect(&[(0, 10), (20, 30)], &[(5, 25)]), vec![(5, 10), (20, 25)]);
        assert_eq!(count(&[(0, 0), (10, 19)]), 11);
    }

    /// (protocol, from, to, transport, expected)
    type PortCase = (&'static str, Option<i32>, Option<i32>, Transport, PortMatch);

    #[test]
    fn protocol_and_port_table() {
        use PortMatch::*;
        use Transport::*;
        let cases: &[PortCase] = &[
            ("-1", None, None, Tcp, Ports(0, 65535)),
            ("-1", Some(-1), Some(-1), Udp, Ports(0, 65535)),
            ("-1", Some(22), Some(22), Tcp, Ports(0, 65535)),
            ("tcp", Some(22), Some(22), Tcp, Ports(22, 22)),
            ("tcp", Some(22), Some(22), Udp, Nothing),
            ("TCP", Some(0), Some(65535), Tcp, Ports(0, 65535)),
            ("6", Some(1000), Some(2000), Tcp, Ports(1000, 2000)),
            ("udp", Some(3389), Some(3389), Udp, Ports(3389, 3389)),
            ("17", Some(53), Some(53), Udp, Ports(53, 53)),
            ("17", Some(53), Some(53), Tcp, Nothing),
            ("icmp", Some(-1), Some(-1), Tcp, Nothing),
            ("icmp", Some(8), Some(0), Udp, Nothing),
            ("icmpv6", None, None, Tcp, Nothing),
            ("58", Some(-1), Some(-1), Udp, Nothing),
            ("1", Some(3), Some(4), Tcp, Nothing),
            // other protocol numbers admit all ports of THAT protocol, no TCP/UDP
            ("50", None, None, Tcp, Nothing),
            ("132", Some(22), Some(22), Tcp, Nothing),
            // unreadable
            ("tcp", None, None, Tcp, Unknown("tcp rule without a port range".into())),
            ("udp", Some(10), None, Udp, Unknown("udp rule without a port range".into())),
            ("tcp", Some(-1), Some(-1), Tcp, Unknown("tcp rule with an invalid port range -1--1".into())),
            ("tcp", Some(100), Some(10), Tcp, Unknown("tcp rule with an invalid port range 100-10".into())),
            ("tcp", Some(0), Some(70000), Tcp, Unknown("tcp rule with an invalid port range 0-70000".into())),
            ("sctp", Some(1), Some(2), Tcp, Unknown("unrecognised IP protocol \"sctp\"".into())),
            ("", None, None, Tcp, Unknown("unrecognised IP protocol \"\"".into())),
            ("256", None, None, Tcp, Unknown("unrecognised IP protocol \"256\"".into())),
        ];
        for (p, f, t, tr, want) in cases {
            assert_eq!(&ports_admitted(p, *f, *t, *tr), want, "{p} {f:?}-{t:?} {tr:?}");
        }
        assert_eq!(Ports(20, 30).admits(22), Some(true));
        assert_eq!(Ports(20, 30).admits(31), Some(false));
        assert_eq!(Nothing.admits(22), Some(false));
        assert_eq!(Unknown("x".into()).admits(22), None);
        assert!(is_all_protocols("-1") && !is_all_protocols("tcp"));
    }

    #[test]
    fn port_pieces_cover_everything_once() {
        assert_eq!(port_pieces(&[]), vec![(0, 65535)]);
        assert_eq!(port_pieces(&[(0, 65535)]), vec![(0, 65535)]);
        assert_eq!(port_pieces(&[(0, 32767), (32768, 65535)]), vec![(0, 32767), (32768, 65535)]);
        assert_eq!(port_pieces(&[(22, 22), (20, 30)]), vec![(0, 19), (20, 21), (22, 22), (23, 30), (31, 65535)]);
        assert_eq!(port_pieces(&[(65535, 65535)]), vec![(0, 65534), (65535, 65535)]);
    }
}
