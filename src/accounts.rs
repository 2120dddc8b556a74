//! Which accounts a multi-account scan covers, and as which role (pure: no AWS calls).
//!
//! - `--role-arn ARN`: one account, the role's.
//! - `--accounts ID,... --role-name NAME`: those accounts, `arn:<partition>:iam::<id>:role/NAME`.
//! - `--organization --role-name NAME`: the organization's accounts (Organizations
//!   ListAccounts); accounts that are not `ACTIVE` are listed as skipped, never dropped.
//! - `--shard K/N`: the K-th of N disjoint parts of the sorted account list, so that CI jobs can
//!   share an organization and `tapaudit merge` can put the parts together again.

use crate::error::{Error, Result};

/// An account to scan and the role that reads it (None: the runner's own credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub account: String,
    pub role_arn: String,
}

/// An account of the organization that is not scanned, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub account: String,
    pub reason: String,
}

/// `--shard K/N` (1 ≤ K ≤ N).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let bad = || format!("--shard {s:?}: expected K/N with 1 <= K <= N (e.g. 2/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// True for a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account of an IAM role ARN (`arn:<partition>:iam::<account>:role/<path/name>`).
pub fn role_account(arn: &str) -> Result<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if !partition.is_empty() && is_account_id(account) && resource.starts_with("role/") && resource.len() > 5 =>
        {
            Ok(account.to_string())
        }
        _ => Err(Error::usage(format!("--role-arn {arn:?}: not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"))),
    }
}

/// The role `name` (may carry a path: `audit/tapaudit`) in `account`.
pub fn role_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{}", name.trim_start_matches('/'))
}

/// `--accounts`: valid ids, each once, sorted.
pub fn parse_accounts(ids: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for id in ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !is_account_id(id) {
            return Err(Error::usage(format!("--accounts: {id:?} is not a 12-digit AWS account id")));
        }
        out.push(id.to_string());
    }
    if out.is_empty() {
        return Err(Error::usage("--accounts: no account id given"));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The targets for `accounts` with role `name`.
pub fn targets(partition: &str, accounts: &[String], name: &str) -> Vec<Target> {
    accounts.iter().map(|a| Target { account: a.clone(), role_arn: role_arn(partition, a, name) }).collect()
}

/// The organization's accounts split into those to scan (`ACTIVE`) and those skipped (any
/// other status, or none reported: an account whose state is unknown is not silently assumed
/// to be active, nor silently dropped).
pub fn from_organization(listed: &[crate::aws::accounts::OrgAccount]) -> (Vec<String>, Vec<Skipped>) {
    let mut active = Vec::new();
    let mut skipped = Vec::new();
    for a in listed {
        match a.status.as_deref() {
            Some("ACTIVE") => active.push(a.id.clone()),
            Some(other) => skipped.push(Skipped { account: a.id.clone(), reason: format!("account status {other}: not scanned") }),
            None => skipped.push(Skipped { account: a.id.clone(), reason: "ListAccounts did not report the account's status: not scanned".into() }),
        }
    }
    active.sort();
    active.dedup();
    skipped.sort_by(|a, b| a.account.cmp(&b.account));
    (active, skipped)
}

/// The `shard`-th part of `accounts` (sorted): every N-th account, starting at the K-th. Every
/// account is in exactly one part.
pub fn shard<T: Clone>(items: &[T], shard: Shard) -> Vec<T> {
    items.iter().enumerate().filter(|(i, _)| i % shard.count == shard.index - 1).map(|(_, t)| t.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::accounts::OrgAccount;

    #[test]
    fn shards_partition_the_accounts() {
        let ids: Vec<String> = (0..10).map(|i| format!("{i:012}")).collect();
        for n in 1..=4 {
            let mut all: Vec<String> = (1..=n).flat_map(|k| shard(&ids, Shard { index: k, count: n })).collect();
            all.sort();
            assert_eq!(all, ids, "{n} shards");
        }
        assert_eq!(shard(&ids, "2/3".parse().unwrap()), vec![ids[1].clone(), ids[4].clone(), ids[7].clone()]);
        // more shards than accounts: some parts are empty, none overlaps
        assert!(shard(&ids[..2], Shard { index: 3, count: 3 }).is_empty());
    }

    #[test]
    fn shard_specs_are_checked() {
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/2", "3/2", "2", "a/b", "1/0", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn account_ids_and_role_arns_are_checked() {
        assert_eq!(parse_accounts(&["222222222222".into(), " 111111111111".into(), "222222222222".into()]).unwrap(), vec!["111111111111", "222222222222"]);
        for bad in ["12345678901", "1234567890123", "12345678901a", "arn:aws:iam::123456789012:root"] {
            assert!(parse_accounts(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(parse_accounts(&[" ".into()]).is_err());
        assert_eq!(role_account("arn:aws:iam::123456789012:role/audit/tapaudit").unwrap(), "123456789012");
        assert_eq!(role_account("arn:aws-us-gov:iam::123456789012:role/x").unwrap(), "123456789012");
        for bad in [
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:sts::123456789012:role/x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "role/x",
        ] {
            assert!(role_account(bad).is_err(), "{bad}");
        }
        assert_eq!(role_arn("aws-cn", "123456789012", "/audit/x"), "arn:aws-cn:iam::123456789012:role/audit/x");
    }

    #[test]
    fn only_active_accounts_are_scanned_and_the_others_are_named() {
        let a = |id: &str, s: Option<&str>| OrgAccount { id: id.into(), name: None, status: s.map(str::to_string) };
        let (active, skipped) = from_organization(&[
            a("333333333333", Some("ACTIVE")),
            a("111111111111", Some("SUSPENDED")),
            a("222222222222", None),
            a("000000000000", Some("ACTIVE")),
        ]);
        assert_eq!(active, vec!["000000000000", "333333333333"]);
        assert_eq!(skipped.iter().map(|s| s.account.as_str()).collect::<Vec<_>>(), vec!["111111111111", "222222222222"]);
        assert!(skipped[0].reason.contains("SUSPENDED"));
    }
}
