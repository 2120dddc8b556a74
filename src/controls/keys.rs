//! One resolver for "which KMS key encrypts this": every control that judges a key reference
//! goes through [`resolve_key`], so a reference is never judged by how it reads.
//!
//! A reference is a key id, a key ARN, an alias name (`alias/x`) or an alias ARN. It resolves to:
//! - a customer-managed key of the State (audited here),
//! - a customer-managed key outside the State: another account's key (AWS-managed keys cannot
//!   be used across accounts, so such a key is customer-managed — "AWS managed keys ... you
//!   cannot use them in cryptographic operations directly ... or share them with other
//!   accounts", AWS KMS Developer Guide, "AWS managed keys"), or one the stack scope left out,
//! - an AWS-managed key (`alias/aws/<service>`, or a key whose KeyManager is AWS),
//! - a key that does not exist (the region's complete KMS listing does not have it),
//! - unknown: the KMS or alias listing failed, the region was not scanned, or the key's manager
//!   could not be read. Controls turn this into `error`, never into a guess.

use super::Verdict;
use crate::model::kms::{Key, Manager};
use crate::model::{Meta, Observed, State};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum KeyRef<'a> {
    Customer(&'a Key),
    CustomerOutside { arn: String, why: String },
    AwsManaged { name: String },
    Missing { reference: String },
    Unknown { reason: String },
}

/// The parts of a reference: where the key lives and what names it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed {
    region: String,
    account: String,
    /// `Some(alias name)` for `alias/...` references, else the key id.
    alias: Option<String>,
    key_id: Option<String>,
}

fn parse(reference: &str, owner: &Meta) -> Option<Parsed> {
    let r = reference.trim();
    if r.is_empty() {
        return None;
    }
    let (region, account, resource) = if let Some(rest) = r.strip_prefix("arn:") {
        // arn:partition:kms:region:account:key/id | alias/name
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if parts.len() != 5 || parts[1] != "kms" || parts[2].is_empty() || parts[3].is_empty() {
            return None;
        }
        (parts[2].to_string(), parts[3].to_string(), parts[4].to_string())
    } else {
        (owner.region.clone(), owner.account.clone(), r.to_string())
    };
    if resource.starts_with("alias/") {
        Some(Parsed { region, account, alias: Some(resource), key_id: None })
    } else {
        let id = resource.strip_prefix("key/").unwrap_or(&resource).to_string();
        (!id.is_empty() && !id.contains('/')).then_some(Parsed { region, account, alias: None, key_id: Some(id) })
    }
}

/// Resolve `reference`, made by the resource `owner`, against the State.
pub fn resolve_key<'a>(state: &'a State, owner: &Meta, reference: &str) -> KeyRef<'a> {
    let Some(p) = parse(reference, owner) else {
        return KeyRef::Unknown { reason: format!("{reference:?} is not a KMS key id, key ARN or alias") };
    };
    if let Some(alias) = &p.alias {
        if alias.starts_with("alias/aws/") {
            return KeyRef::AwsManaged { name: alias.clone() };
        }
    }
    if !owner.account.is_empty() && p.account != owner.account {
        return KeyRef::CustomerOutside {
            arn: reference.to_string(),
            why: format!("a key of account {} (AWS-managed keys cannot be used across accounts); its rotation and policy are not audited here", p.account),
        };
    }
    let kms = &state.kms;
    let listing_failed = kms.keys.failed_in(&p.region).map(|r| format!("KMS keys could not be listed in {}: {r}", p.region));
    let key_id = match (&p.alias, &p.key_id) {
        (_, Some(id)) => id.clone(),
        (Some(alias), None) => {
            // the key's own alias list first (the desired State carries it there), then the
            // region's alias listing
            if let Some(k) = kms
                .keys
                .lookup("alias", alias, |k| k.aliases.known().cloned().unwrap_or_default())
                .into_iter()
                .find(|k| k.meta.region == p.region && k.aliases.known().is_some_and(|a| a.iter().any(|x| x == alias)))
            {
                k.meta.id.clone()
            } else {
                match kms.aliases.get(&p.region) {
                    None => return KeyRef::Unknown { reason: format!("alias {alias}: KMS was not scanned in {}", p.region) },
                    Some(Observed::Unknown(r)) => {
                        return KeyRef::Unknown { reason: format!("alias {alias}: KMS aliases could not be listed in {}: {r}", p.region) }
                    }
                    Some(Observed::Known(m)) => match m.get(alias) {
                        Some(target) => target.clone(),
                        None if listing_failed.is_some() => return KeyRef::Unknown { reason: listing_failed.unwrap_or_default() },
                        None => return KeyRef::Missing { reference: reference.to_string() },
                    },
                }
            }
        }
        (None, None) => unreachable!("parse yields an alias or a key id"),
    };
    let found =
        kms.keys.by_id(&key_id).into_iter().find(|k| k.meta.region == p.region && (k.meta.id == key_id || k.meta.arn.ends_with(&format!(":key/{key_id}"))));
    match found {
        Some(k) => match &k.manager {
            Observed::Known(Manager::Customer) => KeyRef::Customer(k),
            Observed::Known(Manager::Aws) => {
                let name = k.aliases.known().and_then(|a| a.first().cloned()).unwrap_or_else(|| k.meta.id.clone());
                KeyRef::AwsManaged { name }
            }
            Observed::Unknown(r) => KeyRef::Unknown { reason: format!("the manager of KMS key {key_id} could not be read: {r}") },
        },
        None => {
            if let Some(reason) = listing_failed {
                return KeyRef::Unknown { reason };
            }
            if kms.out_of_scope.iter().any(|arn| arn.ends_with(&format!(":key/{key_id}")) && arn.contains(&format!(":{}:", p.region))) {
                return KeyRef::CustomerOutside {
                    arn: reference.to_string(),
                    why: "a customer-managed key outside the scanned stack; its rotation and policy are audited by a scan of its own stack".into(),
                };
            }
            if !kms.aliases.contains_key(&p.region) {
                return KeyRef::Unknown { reason: format!("KMS key {key_id}: KMS was not scanned in {}", p.region) };
            }
            KeyRef::Missing { reference: reference.to_string() }
        }
    }
}

/// The common verdict of "encrypted with a customer-managed key" controls, for a resource that
/// is encrypted with `reference`. `what` names the thing (`"storage"`, `"secret"`, ...).
pub fn customer_key_verdict(state: &State, owner: &Meta, what: &str, reference: &str, observed: Value, expected: Value) -> Verdict {
    match resolve_key(state, owner, reference) {
        KeyRef::Customer(k) => Verdict::pass(owner, format!("{what} is encrypted with customer-managed key {}", k.meta.arn), observed),
        KeyRef::CustomerOutside { arn, why } => Verdict::pass(owner, format!("{what} is encrypted with customer-managed key {arn}: {why}"), observed),
        KeyRef::AwsManaged { name } => Verdict::fail(owner, format!("{what} is encrypted with the AWS-managed key {name}, not a customer-managed key"), observed, expected),
        KeyRef::Missing { reference } => Verdict::fail(
            owner,
            format!("{what} is encrypted with KMS key {reference}, which does not exist in the account (deleted, or a stale reference): the data cannot be decrypted"),
            observed,
            expected,
        ),
        KeyRef::Unknown { reason } => Verdict::error(owner, format!("cannot tell whether the key of {what} is customer-managed: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::fixture;

    fn owner(s: &State) -> Meta {
        s.rds.instances.iter().next().expect("fixture database").meta.clone()
    }

    fn key(s: &State) -> &Key {
        s.kms.keys.iter().find(|k| k.manager == Observed::Known(Manager::Customer)).expect("fixture customer key")
    }

    fn kind(r: &KeyRef) -> &'static str {
        match r {
            KeyRef::Customer(_) => "customer",
            KeyRef::CustomerOutside { .. } => "outside",
            KeyRef::AwsManaged { .. } => "aws",
            KeyRef::Missing { .. } => "missing",
            KeyRef::Unknown { .. } => "unknown",
        }
    }

    #[test]
    fn every_reference_form_resolves_to_the_same_customer_key() {
        let s = fixture();
        let o = owner(&s);
        let k = key(&s);
        let alias = k.aliases.known().and_then(|a| a.first()).expect("fixture key has an alias").clone();
        for r in [k.meta.id.clone(), k.meta.arn.clone(), alias.clone(), format!("arn:aws:kms:{}:{}:{alias}", o.region, o.account)] {
            assert_eq!(kind(&resolve_key(&s, &o, &r)), "customer", "{r}");
        }
    }

    #[test]
    fn aws_managed_missing_foreign_and_unknown() {
        let s = fixture();
        let o = owner(&s);
        let table: &[(&str, &str)] = &[
            ("alias/aws/rds", "aws"),
            ("arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager", "aws"),
            // another account's key is customer-managed by construction
            ("arn:aws:kms:us-east-1:210987654321:key/0f0f0f0f-1111-2222-3333-444455556666", "outside"),
            // a same-account key the complete listing does not have: deleted
            ("arn:aws:kms:us-east-1:123456789012:key/deadbeef-0000-0000-0000-000000000000", "missing"),
            ("deadbeef-0000-0000-0000-000000000000", "missing"),
            ("alias/no-such-alias", "missing"),
            // a region that was not scanned: cannot be told
            ("arn:aws:kms:eu-west-1:123456789012:key/deadbeef-0000-0000-0000-000000000000", "unknown"),
            ("", "unknown"),
            ("arn:aws:s3:::bucket", "unknown"),
        ];
        for (r, want) in table {
            assert_eq!(kind(&resolve_key(&s, &o, r)), *want, "{r}");
        }
    }

    #[test]
    fn a_failed_listing_or_an_unread_manager_is_unknown_never_a_guess() {
        let s = crate::controls::testing::unlisted(|s| &mut s.kms.keys);
        let o = owner(&s);
        for r in ["deadbeef-0000-0000-0000-000000000000", "alias/no-such-alias", "arn:aws:kms:us-east-1:123456789012:key/x"] {
            assert_eq!(kind(&resolve_key(&s, &o, r)), "unknown", "{r}");
        }
        let mut s = fixture();
        s.kms.keys.items.values_mut().for_each(|k| k.manager = Observed::Unknown("kms:DescribeKey failed: AccessDenied".into()));
        let o = owner(&s);
        let id = s.kms.keys.iter().next().unwrap().meta.id.clone();
        assert_eq!(kind(&resolve_key(&s, &o, &id)), "unknown");
        let mut s = fixture();
        s.kms.aliases.insert("us-east-1".into(), Observed::Unknown("kms:ListAliases failed: Throttling".into()));
        s.kms.keys.items.values_mut().for_each(|k| k.aliases = Observed::Unknown("kms:ListAliases failed".into()));
        let o = owner(&s);
        assert_eq!(kind(&resolve_key(&s, &o, "alias/anything")), "unknown");
    }

    #[test]
    fn a_key_left_out_by_the_stack_scope_is_customer_managed_but_outside() {
        let mut s = fixture();
        s.kms.out_of_scope.insert("arn:aws:kms:us-east-1:123456789012:key/abcd-other-stack".into());
        let o = owner(&s);
        assert_eq!(kind(&resolve_key(&s, &o, "abcd-other-stack")), "outside");
        assert_eq!(kind(&resolve_key(&s, &o, "arn:aws:kms:us-east-1:123456789012:key/abcd-other-stack")), "outside");
    }

    #[test]
    fn verdicts() {
        let s = fixture();
        let o = owner(&s);
        let v = |r: &str| customer_key_verdict(&s, &o, "storage", r, Value::Null, Value::Null).status;
        use crate::finding::Status;
        assert_eq!(v(&key(&s).meta.arn.clone()), Status::Pass);
        assert_eq!(v("alias/aws/rds"), Status::Fail);
        assert_eq!(v("deadbeef-0000-0000-0000-000000000000"), Status::Fail);
        assert_eq!(v("arn:aws:kms:eu-west-1:123456789012:key/x"), Status::Error);
    }
}
