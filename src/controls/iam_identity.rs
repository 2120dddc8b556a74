//! IAM identity controls: users' credentials (console password, MFA devices, access keys), the
//! permissions attached to users directly, and the account (password policy, root user).
//!
//! Semantics, as IAM applies them:
//! - A user can sign in to the console only with a login profile (a console password;
//!   GetLoginProfile answers NoSuchEntity when there is none): without one, console MFA is not
//!   applicable. An assigned MFA device (ListMFADevices) is what IAM prompts for at sign-in.
//! - Only `Active` access keys sign requests; `Inactive` and `Expired` ones are ignored here.
//! - A credential's last use: an access key's LastUsedDate (absent: never used, so it counts
//!   from the key's creation); a password's PasswordLastUsed, which "contains the date and time
//!   the most recent password was used" even for a password since deleted
//!   (https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html), so the current
//!   password counts from the later of that and the login profile's creation.
//! - The root user: GetAccountSummary's AccountMFAEnabled and AccountAccessKeysPresent.

use super::{age_days, clock, each, ControlFn, Params, Verdict};
use crate::model::iam::{PasswordPolicy, User};
use crate::model::State;
use serde_json::json;
use time::OffsetDateTime;

pub const CONTROLS: &[(&str, ControlFn)] = &[
    ("iam-user-console-mfa", user_console_mfa),
    ("iam-root-mfa", root_mfa),
    ("iam-root-no-access-keys", root_no_access_keys),
    ("iam-access-keys-rotated", access_keys_rotated),
    ("iam-unused-credentials-disabled", unused_credentials_disabled),
    ("iam-user-no-direct-policies", user_no_direct_policies),
    ("iam-password-policy-strong", password_policy_strong),
];

/// A user with a console password has at least one MFA device.
fn user_console_mfa(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.iam.users, "iam:user", |u| {
        let name = u.meta.display_name();
        match (u.login_profile.get(), u.mfa_devices.get()) {
            (Ok(None), _) => Verdict::not_applicable(&u.meta, format!("user {name} has no console password (no login profile)")),
            (Err(reason), _) => Verdict::error(&u.meta, format!("login profile: {reason}")),
            (Ok(Some(_)), Err(reason)) => Verdict::error(&u.meta, format!("MFA devices: {reason}")),
            (Ok(Some(_)), Ok(devices)) if devices.is_empty() => Verdict::fail(
                &u.meta,
                format!("user {name} can sign in to the console with a password and has no MFA device"),
                json!({"console_password": true, "mfa_devices": []}),
                json!({"console_password": true, "mfa_devices": "at least one"}),
            ),
            (Ok(Some(_)), Ok(devices)) => {
                let serials: Vec<&str> = devices.iter().map(|d| d.serial_number.as_str()).collect();
                Verdict::pass(
                    &u.meta,
                    format!("console password protected by MFA ({})", serials.join(", ")),
                    json!({"console_password": true, "mfa_devices": serials}),
                )
            }
        }
    })
}

/// The root user has an MFA device (AccountMFAEnabled = 1).
fn root_mfa(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.iam.accounts, "iam:account", |a| match a.root_mfa_enabled.get() {
        Err(reason) => Verdict::error(&a.meta, reason),
        Ok(true) => Verdict::pass(&a.meta, "the root user has an MFA device", json!({"root_mfa_enabled": true})),
        Ok(false) => Verdict::fail(
            &a.meta,
            format!("the root user of account {} has no MFA device", a.meta.id),
            json!({"root_mfa_enabled": false}),
            json!({"root_mfa_enabled": true}),
        ),
    })
}

/// The root user has no access keys, active or not (AccountAccessKeysPresent = 0).
fn root_no_access_keys(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.iam.accounts, "iam:account", |a| match a.root_access_keys_present.get() {
        Err(reason) => Verdict::error(&a.meta, reason),
        Ok(false) => Verdict::pass(&a.meta, "the root user has no access keys", json!({"root_access_keys_present": false})),
        Ok(true) => Verdict::fail(
            &a.meta,
            format!("the root user of account {} has access keys", a.meta.id),
            json!({"root_access_keys_present": true}),
            json!({"root_access_keys_present": false}),
        ),
    })
}

/// What one user's check found: problems (fail), what could not be read (error), and the
/// credentials that were judged (none: not applicable).
#[derive(Default)]
struct Findings {
    problems: Vec<String>,
    unread: Vec<String>,
    judged: Vec<String>,
}

impl Findings {
    fn verdict(self, u: &User, not_applicable: String, pass: String, expected: serde_json::Value) -> Verdict {
        let observed = json!({"problems": self.problems, "unread": self.unread, "credentials": self.judged});
        if !self.problems.is_empty() {
            let also = if self.unread.is_empty() { String::new() } else { format!(" (also unread: {})", self.unread.join("; ")) };
            Verdict::fail(&u.meta, format!("user {}: {}{also}", u.meta.display_name(), self.problems.join("; ")), observed, expected)
        } else if !self.unread.is_empty() {
            Verdict::error(&u.meta, self.unread.join("; "))
        } else if self.judged.is_empty() {
            Verdict::not_applicable(&u.meta, not_applicable)
        } else {
            Verdict::pass(&u.meta, pass, observed)
        }
    }
}

/// The active keys of a user, with what could not be read about which keys are active.
fn active_keys<'a>(u: &'a User, f: &mut Findings) -> Vec<&'a crate::model::iam::AccessKey> {
    match u.access_keys.get() {
        Err(reason) => {
            f.unread.push(format!("access keys: {reason}"));
            Vec::new()
        }
        Ok(keys) => keys
            .iter()
            .filter(|k| match k.is_active() {
                Ok(active) => active,
                Err(reason) => {
                    f.unread.push(reason);
                    false
                }
            })
            .collect(),
    }
}

/// Every Active access key is at most `max_access_key_age_days` old (counted from its creation:
/// using a key does not rotate it). Inactive keys do not count.
fn access_keys_rotated(state: &State, params: &Params) -> Vec<Verdict> {
    let max = params.get("max_access_key_age_days");
    let now = clock();
    each(&state.iam.users, "iam:user", |u| judge_key_rotation(u, max, now))
}

/// Pure: `u`'s active keys against `max` days at `now`.
fn judge_key_rotation(u: &User, max: i64, now: OffsetDateTime) -> Verdict {
    let mut f = Findings::default();
    for k in active_keys(u, &mut f) {
        match k.created.get().map_err(str::to_string).and_then(|c| age_days(c, now)) {
            Err(reason) => f.unread.push(format!("access key {}: creation date: {reason}", k.id)),
            Ok(age) => {
                f.judged.push(format!("access key {} created {age} days ago", k.id));
                if age > max {
                    f.problems.push(format!("active access key {} was created {age} days ago, more than the {max}-day maximum", k.id));
                }
            }
        }
    }
    let name = u.meta.display_name().to_string();
    f.verdict(
        u,
        format!("user {name} has no active access key"),
        format!("every active access key is at most {max} days old"),
        json!({"active_access_keys": format!("created within {max} days")}),
    )
}

/// No Active access key and no console password unused for more than
/// `max_unused_credential_days` (never used: counted from creation).
fn unused_credentials_disabled(state: &State, params: &Params) -> Vec<Verdict> {
    let max = params.get("max_unused_credential_days");
    let now = clock();
    each(&state.iam.users, "iam:user", |u| judge_unused_credentials(u, max, now))
}

/// The most recent of several timestamps, as days before `now`.
fn days_since_latest(times: &[&str], now: OffsetDateTime) -> Result<i64, String> {
    let ages = times.iter().map(|t| age_days(t, now)).collect::<Result<Vec<i64>, String>>()?;
    ages.into_iter().min().ok_or_else(|| "no timestamp".to_string())
}

/// Pure: `u`'s console password and active keys against `max` days of disuse at `now`.
fn judge_unused_credentials(u: &User, max: i64, now: OffsetDateTime) -> Verdict {
    let mut f = Findings::default();
    match u.login_profile.get() {
        Err(reason) => f.unread.push(format!("login profile: {reason}")),
        Ok(None) => {}
        Ok(Some(profile)) => match u.password_last_used.get() {
            Err(reason) => f.unread.push(format!("console password last use: {reason}")),
            Ok(last) => {
                // a last use older than the login profile belongs to an earlier password
                let (times, what) = match last {
                    Some(used) => (vec![used.as_str(), profile.created.as_str()], "last used or set"),
                    None => (vec![profile.created.as_str()], "never used; created"),
                };
                match days_since_latest(&times, now) {
                    Err(reason) => f.unread.push(format!("console password: {reason}")),
                    Ok(age) => {
                        f.judged.push(format!("console password {what} {age} days ago"));
                        if age > max {
                            f.problems.push(format!("the console password was {what} {age} days ago, more than {max} days"));
                        }
                    }
                }
            }
        },
    }
    for k in active_keys(u, &mut f) {
        let since = match k.last_used.get() {
            Err(reason) => Err(format!("last use: {reason}")),
            Ok(Some(used)) => age_days(used, now).map(|a| (a, "last used")),
            Ok(None) => k
                .created
                .get()
                .map_err(|r| format!("never used, and its creation date is unknown: {r}"))
                .and_then(|c| age_days(c, now))
                .map(|a| (a, "never used; created")),
        };
        match since {
            Err(reason) => f.unread.push(format!("access key {}: {reason}", k.id)),
            Ok((age, what)) => {
                f.judged.push(format!("access key {} {what} {age} days ago", k.id));
                if age > max {
                    f.problems.push(format!("active access key {} was {what} {age} days ago, more than {max} days", k.id));
                }
            }
        }
    }
    let name = u.meta.display_name().to_string();
    f.verdict(
        u,
        format!("user {name} has no console password and no active access key"),
        format!("every console password and active access key was used within {max} days"),
        json!({"unused_credentials": [], "max_unused_days": max}),
    )
}

/// Users get their permissions from groups or roles: no inline policy and no managed policy
/// attached to the user itself (CIS AWS Foundations 1.15).
fn user_no_direct_policies(state: &State, _: &Params) -> Vec<Verdict> {
    each(&state.iam.users, "iam:user", |u| {
        let mut direct: Vec<String> = Vec::new();
        let mut unread: Vec<String> = Vec::new();
        match u.inline_policies.get() {
            Ok(m) => direct.extend(m.keys().map(|n| format!("inline policy {n}"))),
            Err(reason) => unread.push(format!("inline policies: {reason}")),
        }
        match u.attached_policies.get() {
            Ok(v) => direct.extend(v.iter().map(|a| format!("managed policy {a}"))),
            Err(reason) => unread.push(format!("attached policies: {reason}")),
        }
        let name = u.meta.display_name();
        if !direct.is_empty() {
            let also = if unread.is_empty() { String::new() } else { format!(" (also unread: {})", unread.join("; ")) };
            Verdict::fail(
                &u.meta,
                format!("user {name} has permissions attached directly: {}{also}", direct.join(", ")),
                json!({"direct_policies": direct, "unread": unread}),
                json!({"direct_policies": [], "permissions": "through groups or roles"}),
            )
        } else if !unread.is_empty() {
            Verdict::error(&u.meta, unread.join("; "))
        } else {
            Verdict::pass(&u.meta, "no policy is attached to the user itself", json!({"direct_policies": [], "groups": &u.groups}))
        }
    })
}

/// What falls short of the thresholds in a password policy, plus what could not be read.
fn password_policy_gaps(p: &PasswordPolicy, min_length: i64, min_reuse: i64, max_age: i64) -> (Vec<String>, Vec<String>) {
    let mut gaps = Vec::new();
    let mut unread = Vec::new();
    match p.minimum_password_length.get() {
        Ok(n) if i64::from(*n) < min_length => gaps.push(format!("minimum length {n} (at least {min_length} required)")),
        Ok(_) => {}
        Err(reason) => unread.push(reason.to_string()),
    }
    for (required, what) in [
        (p.require_uppercase_characters, "an uppercase letter"),
        (p.require_lowercase_characters, "a lowercase letter"),
        (p.require_numbers, "a number"),
        (p.require_symbols, "a symbol"),
    ] {
        if !required {
            gaps.push(format!("does not require {what}"));
        }
    }
    match p.password_reuse_prevention {
        None => gaps.push(format!("password reuse is not prevented (at least the last {min_reuse} required)")),
        Some(n) if i64::from(n) < min_reuse => gaps.push(format!("prevents reuse of only the last {n} passwords (at least {min_reuse} required)")),
        Some(_) => {}
    }
    // MaxPasswordAge absent or 0: passwords never expire (ExpirePasswords "Returns false if
    // MaxPasswordAge is 0 or not present")
    match p.max_password_age.filter(|n| *n > 0) {
        Some(n) if p.expire_passwords && i64::from(n) <= max_age => {}
        Some(n) if p.expire_passwords => gaps.push(format!("passwords expire after {n} days (at most {max_age} allowed)")),
        _ => gaps.push(format!("passwords never expire (at most {max_age} days allowed)")),
    }
    (gaps, unread)
}

/// The account password policy meets `min_password_length`, `min_password_reuse_prevention`,
/// `max_password_age_days` and requires upper- and lowercase letters, numbers and symbols, as
/// the AWS Config rule iam-password-policy checks it in the conformance pack "Operational Best
/// Practices for FedRAMP(Moderate)". No policy fails.
fn password_policy_strong(state: &State, params: &Params) -> Vec<Verdict> {
    let (min_length, min_reuse, max_age) =
        (params.get("min_password_length"), params.get("min_password_reuse_prevention"), params.get("max_password_age_days"));
    let expected = json!({
        "minimum_password_length": format!(">= {min_length}"),
        "password_reuse_prevention": format!(">= {min_reuse}"),
        "max_password_age": format!("1..={max_age}"),
        "require_uppercase_characters": true, "require_lowercase_characters": true, "require_numbers": true, "require_symbols": true,
    });
    each(&state.iam.accounts, "iam:account", |a| {
        let p = match a.password_policy.get() {
            Err(reason) => return Verdict::error(&a.meta, reason),
            Ok(None) => {
                return Verdict::fail(
                    &a.meta,
                    format!("account {} has no IAM password policy: IAM's default applies, and its passwords never expire and may be reused", a.meta.id),
                    json!({"password_policy": null}),
                    expected.clone(),
                )
            }
            Ok(Some(p)) => p,
        };
        let observed = json!(p);
        let (gaps, unread) = password_policy_gaps(p, min_length, min_reuse, max_age);
        if !gaps.is_empty() {
            let also = if unread.is_empty() { String::new() } else { format!(" (also unread: {})", unread.join("; ")) };
            Verdict::fail(&a.meta, format!("the account password policy is too weak: {}{also}", gaps.join("; ")), observed, expected.clone())
        } else if !unread.is_empty() {
            Verdict::error(&a.meta, unread.join("; "))
        } else {
            Verdict::pass(&a.meta, "the account password policy meets every threshold", observed)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{eval, fixture, unlisted};
    use crate::finding::Status;
    use crate::model::iam::{AccessKey, Account, LoginProfile};
    use crate::model::Observed;

    const USER: &str = "arn:aws:iam::123456789012:user/people/maria.silva";

    fn user(s: &mut State) -> &mut User {
        s.iam.users.items.get_mut(USER).expect("the fixture has maria.silva")
    }

    fn account(s: &mut State) -> &mut Account {
        s.iam.accounts.items.values_mut().next().expect("the fixture has the account")
    }

    fn policy(s: &mut State) -> &mut PasswordPolicy {
        match &mut account(s).password_policy {
            Observed::Known(Some(p)) => p,
            other => panic!("the fixture has a password policy: {other:?}"),
        }
    }

    fn key(id: &str, status: &str, created: &str, last_used: Option<&str>) -> AccessKey {
        AccessKey {
            id: id.into(),
            status: Observed::Known(status.into()),
            created: Observed::Known(created.into()),
            last_used: Observed::Known(last_used.map(str::to_string)),
        }
    }

    fn with(edit: impl FnOnce(&mut State)) -> State {
        let mut s = fixture();
        edit(&mut s);
        s
    }

    fn unknown<T>() -> Observed<T> {
        Observed::Unknown("AccessDenied".into())
    }

    #[test]
    fn the_fixture_passes_every_identity_control() {
        for (id, _) in CONTROLS {
            assert_eq!(eval(id, &fixture()), vec![Status::Pass], "{id}");
        }
    }

    #[test]
    fn console_users_need_an_mfa_device() {
        let id = "iam-user-console-mfa";
        assert_eq!(eval(id, &with(|s| user(s).mfa_devices = Observed::Known(vec![]))), vec![Status::Fail]);
        // a user without a console password is not applicable, even with keys and no MFA
        let programmatic = with(|s| {
            user(s).login_profile = Observed::Known(None);
            user(s).mfa_devices = Observed::Known(vec![]);
        });
        assert_eq!(eval(id, &programmatic), Vec::<Status>::new());
        // a console password never used still needs MFA
        assert_eq!(
            eval(
                id,
                &with(|s| {
                    user(s).password_last_used = Observed::Known(None);
                    user(s).mfa_devices = Observed::Known(vec![]);
                })
            ),
            vec![Status::Fail]
        );
        // unread: error, never pass or not applicable
        assert_eq!(eval(id, &with(|s| user(s).login_profile = unknown())), vec![Status::Error]);
        assert_eq!(eval(id, &with(|s| user(s).mfa_devices = unknown())), vec![Status::Error]);
        let no_password_mfa_unread = with(|s| {
            user(s).login_profile = Observed::Known(None);
            user(s).mfa_devices = unknown();
        });
        assert_eq!(eval(id, &no_password_mfa_unread), Vec::<Status>::new(), "no console password is known: MFA does not matter");
        assert_eq!(eval(id, &unlisted(|s| &mut s.iam.users)), vec![Status::Error]);
    }

    #[test]
    fn the_root_user_has_mfa_and_no_keys() {
        assert_eq!(eval("iam-root-mfa", &with(|s| account(s).root_mfa_enabled = Observed::Known(false))), vec![Status::Fail]);
        assert_eq!(eval("iam-root-mfa", &with(|s| account(s).root_mfa_enabled = unknown())), vec![Status::Error]);
        // every IAM user with MFA says nothing about the root user
        let users_only = with(|s| account(s).root_mfa_enabled = Observed::Known(false));
        assert_eq!(eval("iam-user-console-mfa", &users_only), vec![Status::Pass]);
        assert_eq!(eval("iam-root-mfa", &users_only), vec![Status::Fail]);

        assert_eq!(eval("iam-root-no-access-keys", &with(|s| account(s).root_access_keys_present = Observed::Known(true))), vec![Status::Fail]);
        assert_eq!(eval("iam-root-no-access-keys", &with(|s| account(s).root_access_keys_present = unknown())), vec![Status::Error]);
        // no IAM user has a key, the root user does
        let root_keys = with(|s| {
            user(s).access_keys = Observed::Known(vec![]);
            account(s).root_access_keys_present = Observed::Known(true);
        });
        assert_eq!(eval("iam-root-no-access-keys", &root_keys), vec![Status::Fail]);
        for id in ["iam-root-mfa", "iam-root-no-access-keys", "iam-password-policy-strong"] {
            assert_eq!(eval(id, &unlisted(|s| &mut s.iam.accounts)), vec![Status::Error], "{id}");
            // a stack-scoped scan has no account: nothing to judge
            assert_eq!(eval(id, &with(|s| s.iam.accounts.items.clear())), Vec::<Status>::new(), "{id}");
        }
    }

    #[test]
    fn active_keys_are_rotated() {
        let id = "iam-access-keys-rotated";
        let keys = |k: Vec<AccessKey>| with(move |s| user(s).access_keys = Observed::Known(k));
        // TEST_NOW is 2026-11-22: 2026-08-24 is 90 days before, 2026-08-23 91
        assert_eq!(eval(id, &keys(vec![key("A1", "Active", "2026-08-24T00:00:00Z", None)])), vec![Status::Pass]);
        assert_eq!(eval(id, &keys(vec![key("A1", "Active", "2026-08-23T00:00:00Z", None)])), vec![Status::Fail]);
        // used yesterday is not rotated: the age counts from creation
        assert_eq!(eval(id, &keys(vec![key("A1", "Active", "2025-01-01T00:00:00Z", Some("2026-11-21T00:00:00Z"))])), vec![Status::Fail]);
        // an MFA device does not make an old key acceptable (the fixture user has one)
        assert_eq!(
            eval(id, &keys(vec![key("A1", "Active", "2026-10-01T00:00:00Z", None), key("A2", "Active", "2024-01-01T00:00:00Z", None)])),
            vec![Status::Fail]
        );
        // old keys that cannot sign requests do not count
        assert_eq!(
            eval(id, &keys(vec![key("A1", "Inactive", "2020-01-01T00:00:00Z", None), key("A2", "Expired", "2020-01-01T00:00:00Z", None)])),
            Vec::<Status>::new()
        );
        assert_eq!(eval(id, &keys(vec![])), Vec::<Status>::new(), "no key: not applicable");
        // unread or unknown to tapaudit: error
        assert_eq!(eval(id, &keys(vec![key("A1", "Suspended", "2026-10-01T00:00:00Z", None)])), vec![Status::Error]);
        let mut no_status = key("A1", "Active", "2026-10-01T00:00:00Z", None);
        no_status.status = unknown();
        assert_eq!(eval(id, &keys(vec![no_status])), vec![Status::Error]);
        let mut no_date = key("A1", "Active", "2026-10-01T00:00:00Z", None);
        no_date.created = unknown();
        assert_eq!(eval(id, &keys(vec![no_date.clone()])), vec![Status::Error]);
        assert_eq!(eval(id, &keys(vec![no_date, key("A2", "Active", "2024-01-01T00:00:00Z", None)])), vec![Status::Fail], "what was read already fails");
        assert_eq!(eval(id, &with(|s| user(s).access_keys = unknown())), vec![Status::Error]);
        assert_eq!(eval(id, &unlisted(|s| &mut s.iam.users)), vec![Status::Error]);
    }

    #[test]
    fn unused_credentials_count_from_the_last_use_or_creation() {
        let id = "iam-unused-credentials-disabled";
        let keys = |k: Vec<AccessKey>| with(move |s| user(s).access_keys = Observed::Known(k));
        // never used: counted from creation (a check of LastUsedDate alone finds nothing to fail)
        assert_eq!(eval(id, &keys(vec![key("A1", "Active", "2026-08-01T00:00:00Z", None)])), vec![Status::Fail]);
        assert_eq!(eval(id, &keys(vec![key("A1", "Active", "2026-09-01T00:00:00Z", None)])), vec![Status::Pass]);
        // old but used recently; used long ago
        assert_eq!(eval(id, &keys(vec![key("A1", "Active", "2024-01-01T00:00:00Z", Some("2026-11-12T00:00:00Z"))])), vec![Status::Pass]);
        assert_eq!(eval(id, &keys(vec![key("A1", "Active", "2024-01-01T00:00:00Z", Some("2026-08-01T00:00:00Z"))])), vec![Status::Fail]);
        // an unused inactive key is already disabled
        assert_eq!(eval(id, &keys(vec![key("A1", "Inactive", "2020-01-01T00:00:00Z", None)])), vec![Status::Pass], "the console password is judged");
        // console password: last used 2026-07-01, more than 90 days ago
        assert_eq!(eval(id, &with(|s| user(s).password_last_used = Observed::Known(Some("2026-07-01T00:00:00Z".into())))), vec![Status::Fail]);
        // never used: counted from the login profile's creation (2026-01-12)
        assert_eq!(eval(id, &with(|s| user(s).password_last_used = Observed::Known(None))), vec![Status::Fail]);
        // a last use of an earlier password, before the current login profile was created
        let recreated = with(|s| {
            user(s).password_last_used = Observed::Known(Some("2025-02-01T00:00:00Z".into()));
            user(s).login_profile = Observed::Known(Some(LoginProfile { created: "2026-11-10T00:00:00Z".into(), password_reset_required: true }));
        });
        assert_eq!(eval(id, &recreated), vec![Status::Pass]);
        // an old PasswordLastUsed of a deleted password is no console credential
        let deleted = with(|s| {
            user(s).password_last_used = Observed::Known(Some("2024-02-01T00:00:00Z".into()));
            user(s).login_profile = Observed::Known(None);
        });
        assert_eq!(eval(id, &deleted), vec![Status::Pass]);
        let nothing = with(|s| {
            user(s).login_profile = Observed::Known(None);
            user(s).access_keys = Observed::Known(vec![key("A1", "Inactive", "2020-01-01T00:00:00Z", None)]);
        });
        assert_eq!(eval(id, &nothing), Vec::<Status>::new(), "no usable credential: not applicable");
        // unread
        assert_eq!(eval(id, &with(|s| user(s).password_last_used = unknown())), vec![Status::Error]);
        assert_eq!(eval(id, &with(|s| user(s).login_profile = unknown())), vec![Status::Error]);
        let mut last_unread = key("A1", "Active", "2026-11-01T00:00:00Z", None);
        last_unread.last_used = unknown();
        assert_eq!(eval(id, &keys(vec![last_unread.clone()])), vec![Status::Error], "a failed GetAccessKeyLastUsed is not 'never used'");
        let mut never_no_date = key("A1", "Active", "2026-11-01T00:00:00Z", None);
        never_no_date.created = unknown();
        assert_eq!(eval(id, &keys(vec![never_no_date])), vec![Status::Error]);
        assert_eq!(eval(id, &keys(vec![last_unread, key("A2", "Active", "2020-01-01T00:00:00Z", None)])), vec![Status::Fail]);
        assert_eq!(eval(id, &unlisted(|s| &mut s.iam.users)), vec![Status::Error]);
    }

    #[test]
    fn users_get_permissions_through_groups() {
        let id = "iam-user-no-direct-policies";
        let inline = with(|s| user(s).inline_policies = Observed::Known([("mine".to_string(), json!({"Statement": []}))].into()));
        assert_eq!(eval(id, &inline), vec![Status::Fail], "even an empty inline policy is a direct grant");
        // an AWS-managed policy attached to the user (a check of inline policies only misses it)
        let attached = with(|s| user(s).attached_policies = Observed::Known(vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()]));
        assert_eq!(eval(id, &attached), vec![Status::Fail]);
        assert_eq!(eval(id, &with(|s| user(s).attached_policies = unknown())), vec![Status::Error]);
        let both = with(|s| {
            user(s).attached_policies = unknown();
            user(s).inline_policies = Observed::Known([("mine".to_string(), json!({"Statement": []}))].into());
        });
        assert_eq!(eval(id, &both), vec![Status::Fail]);
        // no group at all is still no direct policy
        assert_eq!(eval(id, &with(|s| user(s).groups = Observed::Known(vec![]))), vec![Status::Pass]);
        assert_eq!(eval(id, &unlisted(|s| &mut s.iam.users)), vec![Status::Error]);
    }

    #[test]
    fn password_policy_thresholds() {
        let id = "iam-password-policy-strong";
        assert_eq!(eval(id, &with(|s| account(s).password_policy = Observed::Known(None))), vec![Status::Fail], "no policy: IAM's default");
        assert_eq!(eval(id, &with(|s| account(s).password_policy = unknown())), vec![Status::Error]);
        type Edit = Box<dyn Fn(&mut PasswordPolicy)>;
        let weak: Vec<(&str, Edit)> = vec![
            ("length 8", Box::new(|p| p.minimum_password_length = Observed::Known(8))),
            ("length 13", Box::new(|p| p.minimum_password_length = Observed::Known(13))),
            ("no symbols", Box::new(|p| p.require_symbols = false)),
            ("no numbers", Box::new(|p| p.require_numbers = false)),
            ("no uppercase", Box::new(|p| p.require_uppercase_characters = false)),
            ("no lowercase", Box::new(|p| p.require_lowercase_characters = false)),
            ("reuse not prevented", Box::new(|p| p.password_reuse_prevention = None)),
            ("reuse 5", Box::new(|p| p.password_reuse_prevention = Some(5))),
            ("age 180", Box::new(|p| p.max_password_age = Some(180))),
            (
                "no expiry",
                Box::new(|p| {
                    p.max_password_age = None;
                    p.expire_passwords = false;
                }),
            ),
            // moto and the API's "0": never expires (a naive `age <= 90` passes it)
            (
                "age 0",
                Box::new(|p| {
                    p.max_password_age = Some(0);
                    p.expire_passwords = false;
                }),
            ),
            ("age 0, expire claimed", Box::new(|p| p.max_password_age = Some(0))),
            ("age 90, expiry off", Box::new(|p| p.expire_passwords = false)),
        ];
        for (why, edit) in weak {
            assert_eq!(eval(id, &with(|s| edit(policy(s)))), vec![Status::Fail], "{why}");
        }
        let stricter = with(|s| {
            let p = policy(s);
            p.minimum_password_length = Observed::Known(32);
            p.password_reuse_prevention = Some(24);
            p.max_password_age = Some(30);
        });
        assert_eq!(eval(id, &stricter), vec![Status::Pass]);
        assert_eq!(eval(id, &with(|s| policy(s).minimum_password_length = unknown())), vec![Status::Error]);
        let unread_and_weak = with(|s| {
            policy(s).minimum_password_length = unknown();
            policy(s).require_symbols = false;
        });
        assert_eq!(eval(id, &unread_and_weak), vec![Status::Fail]);
    }

    #[test]
    fn thresholds_come_from_the_catalogue() {
        let cat = crate::controls::Catalogue::load().unwrap();
        let all: Vec<String> = cat.frameworks.keys().cloned().collect();
        let fedramp = vec!["fedramp-moderate".to_string()];
        for (control, name, want) in [
            ("iam-password-policy-strong", "min_password_length", 14),
            ("iam-password-policy-strong", "min_password_reuse_prevention", 24),
            ("iam-password-policy-strong", "max_password_age_days", 90),
            ("iam-access-keys-rotated", "max_access_key_age_days", 90),
            ("iam-unused-credentials-disabled", "max_unused_credential_days", 90),
        ] {
            for fws in [&all, &fedramp] {
                assert_eq!(cat.parameters(&cat.controls[control], fws, &Default::default())[name], want, "{control} {name}");
            }
        }
        // a stack file may tighten them
        let overrides = [("max_access_key_age_days".to_string(), 30)].into();
        let p = Params(cat.parameters(&cat.controls["iam-access-keys-rotated"], &all, &overrides));
        let s = fixture();
        let u = s.iam.users.items.get(USER).unwrap();
        assert_eq!(judge_key_rotation(u, p.get("max_access_key_age_days"), crate::controls::TEST_NOW).status, Status::Fail, "created 52 days ago");
    }
}
