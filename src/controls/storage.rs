//! Stored copies of data outside the databases and volumes: EBS snapshots, RDS DB and DB
//! cluster snapshots (neither public nor unencrypted), and the EBS encryption default of each
//! scanned region (account-wide scans).

use super::{each, ControlFn, Params, Verdict};
use crate::model::ec2::Snapshot;
use crate::model::rds::DbSnapshot;
use crate::model::State;
use serde_json::json;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("ebs-encryption-by-default", ebs_encryption_by_default),
    ("ebs-snapshot-not-public", ebs_snapshot_not_public),
    ("ebs-snapshot-encrypted", ebs_snapshot_encrypted),
    ("rds-snapshot-not-public", rds_snapshot_not_public),
    ("rds-snapshot-encrypted", rds_snapshot_encrypted),
];

fn ebs_encryption_by_default(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.ec2.ebs_defaults, "ec2:ebs-defaults", |d| match d.encryption_by_default.get() {
        Err(reason) => Verdict::error(&d.meta, reason),
        Ok(true) => Verdict::pass(
            &d.meta,
            format!("new EBS volumes and snapshot copies in {} are encrypted by default", d.meta.region),
            json!({"ebs_encryption_by_default": true}),
        ),
        Ok(false) => Verdict::fail(
            &d.meta,
            format!("EBS encryption by default is off in {}: a volume created without the encrypted flag stores data in the clear", d.meta.region),
            json!({"ebs_encryption_by_default": false}),
            json!({"ebs_encryption_by_default": true}),
        ),
    })
}

/// `createVolumePermission` with the group `all` makes a snapshot public: "anyone can create a
/// volume from it" (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-modifying-snapshot-permissions.html).
fn ebs_public_grants(s: &Snapshot) -> Result<Vec<String>, String> {
    let perms = s.create_volume_permissions.get().map_err(|r| format!("who may create volumes from it was not read: {r}"))?;
    Ok(perms.iter().filter_map(|p| p.group.as_deref()).filter(|g| *g == "all").map(|g| format!("createVolumePermission group {g}")).collect())
}

fn ebs_snapshot_not_public(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.ec2.snapshots, "ec2:snapshot", |s| match ebs_public_grants(s) {
        Err(reason) => Verdict::error(&s.meta, reason),
        Ok(g) if g.is_empty() => {
            let accounts: Vec<&str> = s.create_volume_permissions.known().into_iter().flatten().filter_map(|p| p.user_id.as_deref()).collect();
            Verdict::pass(&s.meta, "the snapshot is not shared with everyone", json!({"public": false, "shared_with_accounts": accounts}))
        }
        Ok(g) => Verdict::fail(
            &s.meta,
            format!("snapshot {} is public: anyone with an AWS account can create a volume from it and read its data", s.meta.id),
            json!({"public": true, "permissions": g}),
            json!({"public": false}),
        ),
    })
}

fn ebs_snapshot_encrypted(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.ec2.snapshots, "ec2:snapshot", |s| match s.encrypted.get() {
        Err(reason) => Verdict::error(&s.meta, reason),
        Ok(true) => Verdict::pass(&s.meta, "the snapshot is encrypted", json!({"encrypted": true, "kms_key_id": s.kms_key_id})),
        Ok(false) => Verdict::fail(
            &s.meta,
            format!("snapshot {} is not encrypted (of volume {})", s.meta.id, s.volume_id.as_deref().unwrap_or("unreported")),
            json!({"encrypted": false}),
            json!({"encrypted": true}),
        ),
    })
}

/// Both kinds of RDS snapshot, with the resource type each is listed under.
fn rds_snapshots(state: &State, judge: impl Fn(&DbSnapshot) -> Verdict) -> Vec<Verdict> {
    let mut out = each(&state.rds.snapshots, "rds:db-snapshot", &judge);
    out.extend(each(&state.rds.cluster_snapshots, "rds:db-cluster-snapshot", &judge));
    out
}

/// The `restore` attribute value `all` makes a manual snapshot public: any AWS account can
/// copy or restore it (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html).
fn rds_snapshot_not_public(state: &State, _: &Params) -> Vec<Verdict> {
    rds_snapshots(state, |s| match s.restore_allowed.get() {
        Err(reason) => Verdict::error(&s.meta, format!("who may restore it was not read: {reason}")),
        Ok(v) if v.iter().any(|a| a == "all") => Verdict::fail(
            &s.meta,
            format!("snapshot {} is public: any AWS account can restore it and read the database", s.meta.id),
            json!({"restore": v}),
            json!({"restore": "named account ids only, never all"}),
        ),
        Ok(v) => Verdict::pass(&s.meta, "the snapshot is not shared with everyone", json!({"restore": v})),
    })
}

fn rds_snapshot_encrypted(state: &State, _: &Params) -> Vec<Verdict> {
    rds_snapshots(state, |s| match s.encrypted.get() {
        Err(reason) => Verdict::error(&s.meta, reason),
        Ok(true) => Verdict::pass(&s.meta, "the snapshot is encrypted", json!({"encrypted": true, "kms_key_id": s.kms_key_id})),
        Ok(false) => Verdict::fail(
            &s.meta,
            format!("snapshot {} of {} is not encrypted", s.meta.id, s.source.as_deref().unwrap_or("an unreported database")),
            json!({"encrypted": false}),
            json!({"encrypted": true}),
        ),
    })
}

#[cfg(test)]
mod tests {
    use crate::controls::testing::{eval, fixture, unlisted};
    use crate::finding::Status;
    use crate::model::ec2::VolumePermission;
    use crate::model::{Observed, State};

    fn snapshot(s: &mut State) -> &mut crate::model::ec2::Snapshot {
        s.ec2.snapshots.items.values_mut().next().expect("fixture has an EBS snapshot")
    }

    fn db_snapshot(s: &mut State) -> &mut crate::model::rds::DbSnapshot {
        s.rds.snapshots.items.values_mut().next().expect("fixture has a DB snapshot")
    }

    fn cluster_snapshot(s: &mut State) -> &mut crate::model::rds::DbSnapshot {
        s.rds.cluster_snapshots.items.values_mut().next().expect("fixture has a DB cluster snapshot")
    }

    #[test]
    fn ebs_encryption_by_default() {
        let id = "ebs-encryption-by-default";
        assert_eq!(eval(id, &fixture()), vec![Status::Pass]);
        let mut off = fixture();
        off.ec2.ebs_defaults.items.values_mut().for_each(|d| d.encryption_by_default = Observed::Known(false));
        assert_eq!(eval(id, &off), vec![Status::Fail]);
        let mut unread = fixture();
        unread.ec2.ebs_defaults.items.values_mut().for_each(|d| d.encryption_by_default = Observed::Unknown("UnauthorizedOperation".into()));
        assert_eq!(eval(id, &unread), vec![Status::Error]);
        assert_eq!(eval(id, &unlisted(|s| &mut s.ec2.ebs_defaults)), vec![Status::Error]);
    }

    #[test]
    fn ebs_snapshots_are_private_and_encrypted() {
        assert_eq!(eval("ebs-snapshot-not-public", &fixture()), vec![Status::Pass], "shared with one named account: not public");
        // adversarial: shared with a named account and with everyone
        let mut public = fixture();
        snapshot(&mut public).create_volume_permissions = Observed::Known(vec![
            VolumePermission { group: None, user_id: Some("210987654321".into()) },
            VolumePermission { group: Some("all".into()), user_id: None },
        ]);
        assert_eq!(eval("ebs-snapshot-not-public", &public), vec![Status::Fail]);
        let mut unread = fixture();
        snapshot(&mut unread).create_volume_permissions = Observed::Unknown("UnauthorizedOperation".into());
        assert_eq!(eval("ebs-snapshot-not-public", &unread), vec![Status::Error], "permissions unread: never a pass");
        assert_eq!(eval("ebs-snapshot-not-public", &unlisted(|s| &mut s.ec2.snapshots)), vec![Status::Error]);

        assert_eq!(eval("ebs-snapshot-encrypted", &fixture()), vec![Status::Pass]);
        let mut plain = fixture();
        snapshot(&mut plain).encrypted = Observed::Known(false);
        assert_eq!(eval("ebs-snapshot-encrypted", &plain), vec![Status::Fail]);
        // a KMS key id alone is not encryption: the flag decides
        let mut key_but_plain = fixture();
        snapshot(&mut key_but_plain).encrypted = Observed::Unknown("DescribeSnapshots did not report Encrypted".into());
        assert!(snapshot(&mut key_but_plain).kms_key_id.is_some());
        assert_eq!(eval("ebs-snapshot-encrypted", &key_but_plain), vec![Status::Error]);
    }

    #[test]
    fn rds_snapshots_are_private_and_encrypted() {
        let id = "rds-snapshot-not-public";
        assert_eq!(eval(id, &fixture()), vec![Status::Pass, Status::Pass], "a DB snapshot and a cluster snapshot");
        // adversarial: a named account and `all`; and the cluster snapshot, judged like the others
        let mut public = fixture();
        db_snapshot(&mut public).restore_allowed = Observed::Known(vec!["210987654321".into(), "all".into()]);
        assert_eq!(eval(id, &public), vec![Status::Fail, Status::Pass]);
        let mut cluster = fixture();
        cluster_snapshot(&mut cluster).restore_allowed = Observed::Known(vec!["all".into()]);
        assert_eq!(eval(id, &cluster), vec![Status::Fail, Status::Pass]);
        let mut shared = fixture();
        db_snapshot(&mut shared).restore_allowed = Observed::Known(vec!["210987654321".into()]);
        assert_eq!(eval(id, &shared), vec![Status::Pass, Status::Pass], "shared with a named account is not public");
        let mut unread = fixture();
        db_snapshot(&mut unread).restore_allowed = Observed::Unknown("AccessDenied".into());
        assert_eq!(eval(id, &unread), vec![Status::Error, Status::Pass]);
        assert_eq!(eval(id, &unlisted(|s| &mut s.rds.cluster_snapshots)), vec![Status::Error, Status::Pass]);

        let id = "rds-snapshot-encrypted";
        assert_eq!(eval(id, &fixture()), vec![Status::Pass, Status::Pass]);
        let mut plain = fixture();
        cluster_snapshot(&mut plain).encrypted = Observed::Known(false);
        assert_eq!(eval(id, &plain), vec![Status::Fail, Status::Pass]);
        let mut unread = fixture();
        db_snapshot(&mut unread).encrypted = Observed::Unknown("DescribeDBSnapshots did not report Encrypted".into());
        assert_eq!(eval(id, &unread), vec![Status::Error, Status::Pass]);
    }
}
