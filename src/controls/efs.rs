//! EFS controls: CMK encryption, automatic backups, TLS-only file system policy, NFS reachable
//! only from inside the VPC through the mount targets' security groups, and access points that
//! force a POSIX identity and a directory below the root.

use super::{customer_key_verdict, each, ControlFn, Params, Verdict};
use crate::model::efs::{AccessPoint, FileSystem, MountTarget};
use crate::model::State;
use crate::semantics::network::{self as net, Transport};
use crate::semantics::policy::{denies_insecure_transport, parse_statements};
use ipnet::IpNet;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("efs-encrypted-cmk", encrypted_cmk),
    ("efs-backups-enabled", backups_enabled),
    ("efs-tls-enforced", tls_enforced),
    ("efs-mount-targets-nfs-vpc-only", nfs_vpc_only),
    ("efs-access-points-enforce-identity", access_points_enforce_identity),
];

/// The NFS port every EFS mount uses.
const NFS: u16 = 2049;

/// Encrypted under a customer-managed key. The key must be in the State to tell: a key the
/// State does not hold (a stack-scoped scan lists only the stack's keys, or the KMS listing
/// failed) is an `error`, never a guess, with one exception: a key in another account is
/// necessarily customer-managed (AWS-managed keys cannot be used across accounts).
fn encrypted_cmk(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.efs.file_systems, "efs:file-system", |fs: &FileSystem| {
        let expected = json!({"encrypted": true, "kms_key": "a customer-managed key"});
        match fs.encrypted.get() {
            Err(reason) => return Verdict::error(&fs.meta, format!("whether the file system is encrypted was not read: {reason}")),
            Ok(false) => return Verdict::fail(&fs.meta, "file system is not encrypted at rest", json!({"encrypted": false}), expected),
            Ok(true) => {}
        }
        // an encrypted file system always reports its key (DescribeFileSystems KmsKeyId, the
        // aws/elasticfilesystem key ARN when AWS-managed): an absent one was not read
        let Some(key_ref) = fs.kms_key_id.as_deref() else {
            return Verdict::error(&fs.meta, "the file system is encrypted but DescribeFileSystems reported no KmsKeyId");
        };
        let observed = json!({"encrypted": true, "kms_key_id": key_ref});
        customer_key_verdict(state, &fs.meta, "the file system", key_ref, observed, expected)
    })
}

fn backups_enabled(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.efs.file_systems, "efs:file-system", |fs| match fs.backup_policy.get() {
        Err(reason) => Verdict::error(&fs.meta, reason),
        Ok(p) if p.eq_ignore_ascii_case("ENABLED") || p.eq_ignore_ascii_case("ENABLING") => {
            Verdict::pass(&fs.meta, format!("automatic backups are {p}"), json!({"backup_policy": p}))
        }
        Ok(p) => Verdict::fail(&fs.meta, format!("automatic backups are {p}"), json!({"backup_policy": p}), json!({"backup_policy": "ENABLED"})),
    })
}

/// The EFS client action a TLS-enforcing Deny must cover: every NFS client needs
/// ClientMount to mount at all (ClientWrite and ClientRootAccess only add to a mount), so a
/// Deny of ClientMount without TLS refuses every plaintext client. A Deny of ClientWrite or
/// ClientRootAccess alone leaves plaintext read-only mounts open.
const EFS_ACTIONS: &[&str] = &["elasticfilesystem:ClientMount"];

fn tls_enforced(state: &State, _: &Params) -> Vec<Verdict> {
    let expected = json!({"policy": {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}});
    each(&state.efs.file_systems, "efs:file-system", |fs| match fs.policy.get() {
        Err(reason) => Verdict::error(&fs.meta, reason),
        Ok(None) => Verdict::fail(&fs.meta, "no file system policy: clients may mount without TLS", json!({"policy": null}), expected.clone()),
        Ok(Some(p)) if parse_statements(p).is_err() => {
            Verdict::error(&fs.meta, format!("file system policy: {}", parse_statements(p).err().unwrap_or_default()))
        }
        Ok(Some(p)) if denies_insecure_transport(p, EFS_ACTIONS, Some(&fs.meta.arn)) => Verdict::pass(
            &fs.meta,
            "the file system policy denies every principal elasticfilesystem:ClientMount without TLS",
            json!({"denies_insecure_transport": true}),
        ),
        Ok(Some(_)) => Verdict::fail(
            &fs.meta,
            "the file system policy does not deny every principal elasticfilesystem:ClientMount on this file system where aws:SecureTransport is false",
            json!({"denies_insecure_transport": false}),
            expected.clone(),
        ),
    })
}

// ---------- efs-mount-targets-nfs-vpc-only ----------

/// The VPC a mount target lives in and its CIDR: the mount target's own VpcId, else its
/// subnet's VPC, resolved in the State.
fn vpc_cidr(state: &State, region: &str, mt: &MountTarget) -> Result<(String, IpNet), String> {
    let subnet_vpc =
        || state.ec2.subnets.by_id(&mt.subnet_id).into_iter().find(|s| s.meta.id == mt.subnet_id && s.meta.region == region).map(|s| s.vpc_id.clone());
    let Some(vpc_id) = mt.vpc_id.clone().or_else(subnet_vpc) else {
        return Err(format!("the VPC of mount target {} (subnet {}) is not known", mt.id, mt.subnet_id));
    };
    match state.ec2.vpcs.by_id(&vpc_id).into_iter().find(|v| v.meta.id == vpc_id && v.meta.region == region) {
        Some(v) => net::parse_cidr(&v.cidr).map(|n| (vpc_id.clone(), n)).map_err(|e| format!("VPC {vpc_id}: {e}")),
        None => Err(match state.ec2.vpcs.failed_in(region) {
            Some(reason) => format!("VPC {vpc_id}: VPCs could not be listed in {region}: {reason}"),
            None => format!("VPC {vpc_id} of mount target {} is not in the State", mt.id),
        }),
    }
}

/// The address ranges a rule peer stands for; None for a security-group reference (the private
/// addresses of that group's members); Err when it cannot be resolved.
fn peer_nets(state: &State, region: &str, peer: &str) -> Result<Option<Vec<IpNet>>, String> {
    if let Some(c) = peer.strip_prefix("cidr:").or_else(|| peer.strip_prefix("cidr6:")) {
        return net::parse_cidr(c).map(|n| Some(vec![n]));
    }
    if peer.starts_with("sg:") {
        return Ok(None);
    }
    if let Some(id) = peer.strip_prefix("pl:") {
        let lists = &state.ec2.prefix_lists;
        return match lists.by_id(id).into_iter().find(|p| p.meta.id == id && p.meta.region == region) {
            Some(pl) => match pl.entries.get() {
                Ok(entries) => entries.iter().map(|c| net::parse_cidr(c)).collect::<Result<Vec<_>, _>>().map(Some),
                Err(reason) => Err(format!("entries of prefix list {id} could not be read: {reason}")),
            },
            None => Err(match lists.failed_in(region) {
                Some(reason) => format!("prefix list {id}: prefix lists could not be listed in {region}: {reason}"),
                None => format!("prefix list {id} is not in the State"),
            }),
        };
    }
    Err(format!("unrecognised rule peer {peer:?}"))
}

/// What one mount target's groups let reach NFS from outside its VPC: offending rules, and what
/// could not be read.
fn outside_nfs(state: &State, region: &str, mt: &MountTarget) -> (Vec<String>, Vec<String>) {
    let (mut outside, mut unknown) = (Vec::new(), Vec::new());
    let groups = match mt.security_groups.get() {
        Ok(g) => g,
        Err(reason) => return (outside, vec![format!("security groups of mount target {}: {reason}", mt.id)]),
    };
    let vpc = vpc_cidr(state, region, mt);
    for gid in groups {
        let Some(sg) = state.ec2.security_groups.by_id(gid).into_iter().find(|g| g.meta.id == *gid && g.meta.region == region) else {
            unknown.push(match state.ec2.security_groups.failed_in(region) {
                Some(reason) => format!("security group {gid}: security groups could not be listed in {region}: {reason}"),
                None => format!("security group {gid} of mount target {} is not in the State", mt.id),
            });
            continue;
        };
        for rule in &sg.ingress {
            match net::ports_admitted(&rule.protocol, rule.from_port, rule.to_port, Transport::Tcp).admits(NFS) {
                Some(false) => continue,
                None => {
                    unknown.push(format!("{gid}: rule {rule} cannot be read"));
                    continue;
                }
                Some(true) => {}
            }
            let nets = match peer_nets(state, region, &rule.peer) {
                Ok(None) => continue,
                Ok(Some(n)) => n,
                Err(reason) => {
                    unknown.push(format!("{gid}: {reason}"));
                    continue;
                }
            };
            if nets.iter().any(net::has_public) {
                outside.push(format!("{gid}: {rule} (public addresses)"));
                continue;
            }
            match &vpc {
                Ok((id, cidr)) => {
                    if nets.iter().any(|n| !cidr.contains(n)) {
                        outside.push(format!("{gid}: {rule} (outside VPC {id} {cidr})"));
                    }
                }
                Err(reason) => unknown.push(reason.clone()),
            }
        }
    }
    (outside, unknown)
}

/// Every mount target's security groups admit NFS (tcp/2049) only from inside the file system's
/// VPC: from security groups, or from address ranges within the VPC's CIDR. A source with public
/// addresses, or a private range outside the VPC (another network reached through peering, VPN
/// or Direct Connect), fails. A file system without mount targets has no network path: not
/// applicable. Judged on the VPC's primary CIDR (a range within a secondary CIDR reads as outside).
fn nfs_vpc_only(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.efs.file_systems, "efs:file-system", |fs| {
        let targets = match fs.mount_targets.get() {
            Ok(t) => t,
            Err(reason) => return Verdict::error(&fs.meta, format!("mount targets: {reason}")),
        };
        if targets.is_empty() {
            return Verdict::not_applicable(&fs.meta, "the file system has no mount targets: NFS clients cannot reach it");
        }
        let (mut outside, mut unknown) = (Vec::new(), Vec::new());
        for mt in targets {
            let (o, u) = outside_nfs(state, &fs.meta.region, mt);
            outside.extend(o);
            unknown.extend(u);
        }
        let observed = json!({"mount_targets": targets.iter().map(|t| json!({"id": t.id, "availability_zone": t.availability_zone, "security_groups": t.security_groups.known()})).collect::<Vec<_>>(), "nfs_from_outside_the_vpc": outside});
        if !outside.is_empty() {
            return Verdict::fail(
                &fs.meta,
                format!("NFS (tcp/{NFS}) is open from outside the VPC: {}", outside.join("; ")),
                observed,
                json!({"nfs_from_outside_the_vpc": []}),
            );
        }
        if !unknown.is_empty() {
            return Verdict::error(&fs.meta, unknown.join("; "));
        }
        Verdict::pass(&fs.meta, format!("the {} mount target(s) admit NFS only from inside the VPC", targets.len()), observed)
    })
}

// ---------- efs-access-points-enforce-identity ----------

/// Why one access point does not confine its clients (empty when it does), or Err when its
/// root directory was not read.
fn access_point_gaps(ap: &AccessPoint) -> Result<Vec<String>, String> {
    let root = ap.root_directory.get().map_err(|r| format!("access point {}: {r}", ap.id))?;
    let mut gaps = Vec::new();
    if ap.posix_user.is_none() {
        gaps.push(format!("access point {} enforces no POSIX user (clients keep their own uid/gid)", ap.id));
    }
    if root.trim_end_matches('/').is_empty() {
        gaps.push(format!("access point {} exposes the file system root (/)", ap.id));
    }
    Ok(gaps)
}

/// Every access point forces a POSIX user and a root directory below `/` (AWS Security Hub
/// EFS.3 and EFS.4 judge the same two settings), so an application mounting through it acts as
/// that user inside its own directory only. A file system without access points: not applicable
/// (nothing here to judge; who may mount the root is the file system policy's business).
fn access_points_enforce_identity(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.efs.file_systems, "efs:file-system", |fs| {
        let points = match fs.access_points.get() {
            Ok(p) => p,
            Err(reason) => return Verdict::error(&fs.meta, format!("access points: {reason}")),
        };
        if points.is_empty() {
            return Verdict::not_applicable(&fs.meta, "the file system has no access points");
        }
        let mut gaps = Vec::new();
        for ap in points {
            match access_point_gaps(ap) {
                Ok(g) => gaps.extend(g),
                Err(reason) => return Verdict::error(&fs.meta, reason),
            }
        }
        let observed = json!({"access_points": points.iter().map(|a| json!({"id": a.id, "root_directory": a.root_directory.known(), "posix_user": a.posix_user.as_ref().map(|u| json!({"uid": u.uid, "gid": u.gid}))})).collect::<Vec<_>>()});
        if gaps.is_empty() {
            Verdict::pass(&fs.meta, format!("all {} access point(s) enforce a POSIX user and a directory below the root", points.len()), observed)
        } else {
            Verdict::fail(&fs.meta, gaps.join("; "), observed, json!({"access_points": {"posix_user": "set", "root_directory": "not /"}}))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::eval;
    use crate::controls::{resolve_key, KeyRef};
    use crate::finding::Status;
    use crate::model::kms::Key;
    use crate::model::Observed;

    fn fs(s: &mut State) -> &mut FileSystem {
        s.efs.file_systems.items.values_mut().next().expect("fixture has a file system")
    }

    /// The fixture, with the file system's key present (customer-managed) even if
    /// compliant-platform.json, another module's fixture, does not hold it: these tests do not
    /// depend on the two fixtures agreeing (the catalogue test checks that they do).
    fn fixture() -> State {
        let mut s = crate::controls::testing::fixture();
        let arn = fs(&mut s).kms_key_id.clone().expect("the fixture file system names its key");
        let owner = fs(&mut s).meta.clone();
        if !matches!(resolve_key(&s, &owner, &arn), KeyRef::Customer(_)) {
            s.kms.keys.insert(Key {
                meta: crate::model::Meta {
                    resource_type: "kms:key".into(),
                    id: arn.rsplit('/').next().unwrap_or_default().into(),
                    arn: arn.clone(),
                    region: "us-east-1".into(),
                    account: "123456789012".into(),
                    name: None,
                    tags: Observed::Known(Default::default()),
                    source: None,
                },
                manager: Observed::Known(crate::model::kms::Manager::Customer),
                state: Observed::Known("Enabled".into()),
                key_spec: Observed::Known("SYMMETRIC_DEFAULT".into()),
                rotation_enabled: Observed::Known(true),
                policy: Observed::Known(json!({})),
                aliases: Observed::Known(vec![]),
            });
        }
        s
    }

    #[test]
    fn encrypted_cmk() {
        assert_eq!(eval("efs-encrypted-cmk", &fixture()), vec![Status::Pass]);
        let mut plain = fixture();
        fs(&mut plain).encrypted = Observed::Known(false);
        fs(&mut plain).kms_key_id = None;
        assert_eq!(eval("efs-encrypted-cmk", &plain), vec![Status::Fail]);
        let mut alias = fixture();
        fs(&mut alias).kms_key_id = Some("arn:aws:kms:us-east-1:123456789012:alias/aws/elasticfilesystem".into());
        assert_eq!(eval("efs-encrypted-cmk", &alias), vec![Status::Fail]);
        let mut aws_key = fixture();
        aws_key.kms.keys.items.values_mut().for_each(|k| k.manager = crate::model::Observed::Known(crate::model::kms::Manager::Aws));
        assert_eq!(eval("efs-encrypted-cmk", &aws_key), vec![Status::Fail], "a key the State knows is AWS-managed");
        let failed = crate::controls::testing::unlisted(|s| &mut s.efs.file_systems);
        assert_eq!(eval("efs-encrypted-cmk", &failed), vec![Status::Error]);
        let mut unread = fixture();
        fs(&mut unread).encrypted = Observed::Unknown("DescribeFileSystems returned no Encrypted".into());
        assert_eq!(eval("efs-encrypted-cmk", &unread), vec![Status::Error]);
    }

    #[test]
    fn a_key_outside_the_state_fails_when_deleted_errs_when_unlisted_passes_cross_account() {
        // the region's complete KMS listing does not have it: deleted
        let mut missing = fixture();
        missing.kms.keys.items.clear();
        assert_eq!(eval("efs-encrypted-cmk", &missing), vec![Status::Fail]);
        let mut no_key = fixture();
        fs(&mut no_key).kms_key_id = None;
        assert_eq!(eval("efs-encrypted-cmk", &no_key), vec![Status::Error]);
        let kms_failed = crate::controls::testing::unlisted(|s| &mut s.kms.keys);
        assert_eq!(eval("efs-encrypted-cmk", &kms_failed), vec![Status::Error]);
        let mut other_account = fixture();
        fs(&mut other_account).kms_key_id = Some("arn:aws:kms:us-east-1:999999999999:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into());
        assert_eq!(eval("efs-encrypted-cmk", &other_account), vec![Status::Pass]);
    }

    #[test]
    fn key_found_by_id_or_alias() {
        let mut s = fixture();
        let arn = fs(&mut s).kms_key_id.clone().unwrap();
        let owner = fs(&mut s).meta.clone();
        let KeyRef::Customer(key) = resolve_key(&s, &owner, &arn) else { panic!("the file system's key") };
        assert!(matches!(resolve_key(&s, &owner, &key.meta.id), KeyRef::Customer(_)));
        let mut aliased = fixture();
        aliased.kms.keys.items.values_mut().for_each(|k| k.aliases = crate::model::Observed::Known(vec!["alias/tapaudit-dev-data".into()]));
        assert!(matches!(resolve_key(&aliased, &owner, "alias/tapaudit-dev-data"), KeyRef::Customer(_)));
        assert!(matches!(resolve_key(&aliased, &owner, "arn:aws:kms:us-east-1:123456789012:alias/tapaudit-dev-data"), KeyRef::Customer(_)));
        assert!(matches!(resolve_key(&aliased, &owner, "alias/other"), KeyRef::Missing { .. }));
    }

    #[test]
    fn backups() {
        assert_eq!(eval("efs-backups-enabled", &fixture()), vec![Status::Pass]);
        let mut enabling = fixture();
        fs(&mut enabling).backup_policy = Observed::Known("ENABLING".into());
        assert_eq!(eval("efs-backups-enabled", &enabling), vec![Status::Pass]);
        let mut bad = fixture();
        fs(&mut bad).backup_policy = Observed::Known("DISABLED".into());
        assert_eq!(eval("efs-backups-enabled", &bad), vec![Status::Fail]);
        let mut unknown = fixture();
        fs(&mut unknown).backup_policy = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("efs-backups-enabled", &unknown), vec![Status::Error]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.efs.file_systems);
        assert_eq!(eval("efs-backups-enabled", &failed), vec![Status::Error]);
    }

    #[test]
    fn tls() {
        assert_eq!(eval("efs-tls-enforced", &fixture()), vec![Status::Pass]);
        let mut none = fixture();
        fs(&mut none).policy = Observed::Known(None);
        assert_eq!(eval("efs-tls-enforced", &none), vec![Status::Fail]);
        let mut unknown = fixture();
        fs(&mut unknown).policy = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval("efs-tls-enforced", &unknown), vec![Status::Error]);
        let failed = crate::controls::testing::unlisted(|s| &mut s.efs.file_systems);
        assert_eq!(eval("efs-tls-enforced", &failed), vec![Status::Error]);
    }

    #[test]
    fn tls_policy_shapes() {
        let judge = |p: serde_json::Value| {
            let mut s = fixture();
            fs(&mut s).policy = Observed::Known(Some(p));
            eval("efs-tls-enforced", &s)
        };
        // the console's "enforce in-transit encryption" statement, as a single object
        assert_eq!(
            judge(json!({"Statement": {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}})),
            vec![Status::Pass]
        );
        // ClientMount only, Principal "*", boolean false, case-insensitive key
        assert_eq!(
            judge(
                json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": ["elasticfilesystem:ClientMount"], "Condition": {"Bool": {"aws:securetransport": false}}}]})
            ),
            vec![Status::Pass]
        );
        // an Allow with the condition does not enforce anything
        assert_eq!(
            judge(
                json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
            ),
            vec![Status::Fail]
        );
        // denying only one principal, or only writes, leaves plaintext mounts open
        assert_eq!(
            judge(
                json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:role/x"}, "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
            ),
            vec![Status::Fail]
        );
        assert_eq!(
            judge(
                json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:ClientWrite", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
            ),
            vec![Status::Fail]
        );
        // the condition the other way round denies TLS clients
        assert_eq!(
            judge(json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})),
            vec![Status::Fail]
        );
    }

    #[test]
    fn tls_denial_must_be_aws_exact() {
        let judge = |p: serde_json::Value| {
            let mut s = fixture();
            fs(&mut s).policy = Observed::Known(Some(p));
            eval("efs-tls-enforced", &s)
        };
        let arn = fs(&mut fixture()).meta.arn.clone();
        let deny = |resource: serde_json::Value, condition: serde_json::Value| json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": resource, "Condition": condition}]});
        let tls = json!({"Bool": {"aws:SecureTransport": "false"}});
        assert_eq!(judge(deny(json!(arn), tls.clone())), vec![Status::Pass], "the file system's own ARN");
        assert_eq!(judge(deny(json!("*"), json!({"BoolIfExists": {"aws:SecureTransport": "false"}}))), vec![Status::Pass]);
        // adversarial: look right to a naive reader, leave plaintext mounts open
        let other = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-00000000000000000";
        assert_eq!(judge(deny(json!(other), tls.clone())), vec![Status::Fail], "another file system");
        assert_eq!(
            judge(deny(json!("*"), json!({"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:PrincipalAccount": "123456789012"}}))),
            vec![Status::Fail],
            "only this account's callers"
        );
        assert_eq!(judge(deny(json!("*"), json!({"bool": {"aws:SecureTransport": "false"}}))), vec![Status::Fail], "not an IAM operator name");
        assert_eq!(
            judge(
                json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"], "Condition": tls}]})
            ),
            vec![Status::Fail],
            "read-only plaintext mounts stay open"
        );
        assert_eq!(
            judge(json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:Client?ount", "Condition": tls}]})),
            vec![Status::Pass],
            "IAM wildcard"
        );
        // a document that is not a policy: error, not a verdict on nothing
        assert_eq!(judge(json!({"Version": "2012-10-17"})), vec![Status::Error]);
    }

    // ---------- efs-mount-targets-nfs-vpc-only ----------

    /// The fixture with one ingress rule added to the mount target's security group.
    fn nfs_from(peer: &str, protocol: &str, from: Option<i32>, to: Option<i32>) -> State {
        let mut s = fixture();
        let gid = match fs(&mut s).mount_targets.known() {
            Some(t) => t[0].security_groups.known().expect("fixture groups")[0].clone(),
            None => panic!("fixture mount targets"),
        };
        let sg = s.ec2.security_groups.items.values_mut().find(|g| g.meta.id == gid).expect("the group in the fixture");
        sg.ingress.push(crate::model::ec2::Rule { protocol: protocol.into(), from_port: from, to_port: to, peer: peer.into() });
        s
    }

    fn targets(s: &mut State) -> &mut Vec<MountTarget> {
        match &mut fs(s).mount_targets {
            Observed::Known(t) => t,
            Observed::Unknown(_) => panic!("fixture mount targets"),
        }
    }

    #[test]
    fn nfs_only_from_the_vpc() {
        const ID: &str = "efs-mount-targets-nfs-vpc-only";
        assert_eq!(eval(ID, &fixture()), vec![Status::Pass]);
        // from inside the VPC (its CIDR, a subnet of it, a security group): pass
        for peer in ["cidr:10.0.0.0/16", "cidr:10.0.10.0/24", "sg:sg-0f1a2b3c4d5e60001"] {
            assert_eq!(eval(ID, &nfs_from(peer, "tcp", Some(2049), Some(2049))), vec![Status::Pass], "{peer}");
        }
        // the internet, or any public range: fail
        assert_eq!(eval(ID, &nfs_from("cidr:0.0.0.0/0", "tcp", Some(2049), Some(2049))), vec![Status::Fail]);
        assert_eq!(eval(ID, &nfs_from("cidr6:::/0", "tcp", Some(0), Some(65535))), vec![Status::Fail]);
        // adversarial: private, so "not the internet", but outside the VPC (every 10/8 network)
        assert_eq!(eval(ID, &nfs_from("cidr:10.0.0.0/8", "tcp", Some(2049), Some(2049))), vec![Status::Fail]);
        assert_eq!(eval(ID, &nfs_from("cidr:172.16.0.0/12", "-1", None, None)), vec![Status::Fail], "all traffic admits NFS");
        // adversarial: a port range that merely contains 2049
        assert_eq!(eval(ID, &nfs_from("cidr:0.0.0.0/0", "tcp", Some(2000), Some(3000))), vec![Status::Fail]);
        // other ports or protocols do not admit NFS
        assert_eq!(eval(ID, &nfs_from("cidr:0.0.0.0/0", "udp", Some(2049), Some(2049))), vec![Status::Pass]);
        assert_eq!(eval(ID, &nfs_from("cidr:0.0.0.0/0", "tcp", Some(443), Some(443))), vec![Status::Pass]);
        // a prefix list the State does not hold, an unreadable rule: error
        assert_eq!(eval(ID, &nfs_from("pl:pl-0123456789abcdef0", "tcp", Some(2049), Some(2049))), vec![Status::Error]);
        assert_eq!(eval(ID, &nfs_from("cidr:0.0.0.0/0", "tcp", None, None)), vec![Status::Error]);
        // the mount target's groups not read, the group or the VPC not in the State: error
        let mut groups = fixture();
        targets(&mut groups)[0].security_groups = Observed::Unknown("efs DescribeMountTargetSecurityGroups failed: AccessDenied".into());
        assert_eq!(eval(ID, &groups), vec![Status::Error]);
        let mut missing = fixture();
        targets(&mut missing)[0].security_groups = Observed::Known(vec!["sg-00000000000000000".into()]);
        assert_eq!(eval(ID, &missing), vec![Status::Error]);
        let mut no_vpc = nfs_from("cidr:10.0.0.0/16", "tcp", Some(2049), Some(2049));
        no_vpc.ec2.vpcs.items.clear();
        assert_eq!(eval(ID, &no_vpc), vec![Status::Error]);
        // ...but a public source fails whatever the VPC
        let mut public_no_vpc = nfs_from("cidr:0.0.0.0/0", "tcp", Some(2049), Some(2049));
        public_no_vpc.ec2.vpcs.items.clear();
        assert_eq!(eval(ID, &public_no_vpc), vec![Status::Fail]);
        // no mount targets: nothing reaches NFS
        let mut none = fixture();
        targets(&mut none).clear();
        assert_eq!(eval(ID, &none), vec![]);
        let mut unread = fixture();
        fs(&mut unread).mount_targets = Observed::Unknown("efs DescribeMountTargets failed: Throttling".into());
        assert_eq!(eval(ID, &unread), vec![Status::Error]);
        assert_eq!(eval(ID, &crate::controls::testing::unlisted(|s| &mut s.efs.file_systems)), vec![Status::Error]);
    }

    // ---------- efs-access-points-enforce-identity ----------

    fn points(s: &mut State) -> &mut Vec<AccessPoint> {
        match &mut fs(s).access_points {
            Observed::Known(p) => p,
            Observed::Unknown(_) => panic!("fixture access points"),
        }
    }

    #[test]
    fn access_points_confine_their_clients() {
        const ID: &str = "efs-access-points-enforce-identity";
        assert_eq!(eval(ID, &fixture()), vec![Status::Pass]);
        let mut no_user = fixture();
        points(&mut no_user)[0].posix_user = None;
        assert_eq!(eval(ID, &no_user), vec![Status::Fail]);
        for root in ["/", "//"] {
            let mut at_root = fixture();
            points(&mut at_root)[0].root_directory = Observed::Known(root.into());
            assert_eq!(eval(ID, &at_root), vec![Status::Fail], "{root}");
        }
        // adversarial: one good access point does not excuse another that exposes everything
        let mut second = fixture();
        let mut open = points(&mut second)[0].clone();
        open.id = "fsap-0a1b2c3d4e5f60002".into();
        open.root_directory = Observed::Known("/".into());
        open.posix_user = None;
        points(&mut second).push(open);
        assert_eq!(eval(ID, &second), vec![Status::Fail]);
        let mut unread_root = fixture();
        points(&mut unread_root)[0].root_directory = Observed::Unknown("DescribeAccessPoints did not report RootDirectory.Path".into());
        assert_eq!(eval(ID, &unread_root), vec![Status::Error]);
        let mut unread = fixture();
        fs(&mut unread).access_points = Observed::Unknown("efs DescribeAccessPoints failed: AccessDenied".into());
        assert_eq!(eval(ID, &unread), vec![Status::Error]);
        let mut none = fixture();
        points(&mut none).clear();
        assert_eq!(eval(ID, &none), vec![]);
        assert_eq!(eval(ID, &crate::controls::testing::unlisted(|s| &mut s.efs.file_systems)), vec![Status::Error]);
    }
}
