//! IAM (global): roles, users and groups with their inline policies, attached managed policies,
//! group memberships and tags from one paginated GetAccountAuthorizationDetails (filters Role,
//! User, LocalManagedPolicy, and Group in account-wide scans); AWS-managed policies attached to
//! the roles, users and groups in scope are read once each (GetPolicy + GetPolicyVersion of its
//! default version). Per user in scope: GetLoginProfile, ListMFADevices, ListAccessKeys and
//! GetAccessKeyLastUsed per key; PasswordLastUsed for every user from one paginated ListUsers.
//! In account-wide scans, the account: GetAccountPasswordPolicy and GetAccountSummary.
//!
//! Fail-closed: a document that is missing, not URL-decodable or not a JSON object is
//! Unknown (never an empty policy); a managed policy without exactly one default version is
//! Unknown; a role, user or group returned without its name, ARN or path is a collection error
//! naming it. The documented "not configured" answers are known `None`s: GetLoginProfile's
//! NoSuchEntity ("If the user does not exist or does not have a password, the operation returns
//! a 404 (NoSuchEntity) error",
//! https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetLoginProfile.html) and
//! GetAccountPasswordPolicy's NoSuchEntity (the account has no password policy,
//! https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountPasswordPolicy.html).
//!
//! Where the root user's evidence comes from: GetAccountSummary, whose SummaryMap carries
//! `AccountMFAEnabled` ("1 if the root account has an MFA device assigned to it, 0 otherwise")
//! and `AccountAccessKeysPresent` ("1 if the root account has an access key, 0 otherwise";
//! https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html). The
//! credential report is deliberately not read. What only it adds is the root user's row
//! (`<root_account>`: password last used, keys last rotated/used), and no control judges those:
//! the root controls need MFA and whether root keys exist at all, which the summary answers.
//! Every IAM user's field in it is read more precisely by the calls above (per key, not
//! `access_key_1`/`access_key_2`). And a current report needs GenerateCredentialReport, which
//! starts a report job, not a Get/List/Describe call (the scanner is read-only); GetCredentialReport
//! alone answers ReportNotPresent, ReportExpired or a report up to four hours old
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html). moto
//! 5.2.5's report has no `<root_account>` row at all.

use super::{fan_out, reported, tag_map, Ctx};
use crate::model::iam::{AccessKey, Account, Group, Iam, LoginProfile, MfaDevice, PasswordPolicy, Policy, Role, User};
use crate::model::{Collection, Meta, Observed, Resource};
use aws_sdk_iam::types::{
    AccessKeyMetadata, AttachedPolicy, EntityType, GroupDetail, ManagedPolicyDetail, PolicyDetail, RoleDetail, SummaryKeyType, UserDetail,
};
use aws_smithy_types::DateTime;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A policy document as IAM returns it: URL-encoded JSON (RFC 3986, per the IAM API
/// reference for GetAccountAuthorizationDetails / GetPolicyVersion). Plain JSON is accepted
/// first (an encoded document never parses as JSON, since `{` is encoded). Err names `what`.
pub(crate) fn parse_document(what: &str, doc: Option<&str>) -> Result<Value, String> {
    let raw = doc.ok_or_else(|| format!("{what}: no policy document returned"))?;
    let parsed = match serde_json::from_str::<Value>(raw) {
        Ok(v) => v,
        Err(_) => {
            let decoded = percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map_err(|e| format!("{what}: the policy document does not URL-decode to UTF-8 ({e})"))?;
            serde_json::from_str(&decoded).map_err(|e| format!("{what}: the policy document is not JSON ({e})"))?
        }
    };
    if parsed.is_object() {
        Ok(parsed)
    } else {
        Err(format!("{what}: the policy document is not a JSON object"))
    }
}

fn meta(ctx: &Ctx, resource_type: &str, id: &str, arn: &str, tags: Observed<BTreeMap<String, String>>) -> Meta {
    let mut m = ctx.meta(resource_type, id, arn.to_string(), Some(id.to_string()), tags);
    m.region = "global".to_string();
    m
}

/// An IAM timestamp as RFC 3339.
fn rfc3339(d: &DateTime) -> Result<String, String> {
    d.fmt(aws_smithy_types::date_time::Format::DateTime).map_err(|e| format!("timestamp {d:?} cannot be written as RFC 3339: {e}"))
}

/// A timestamp an operation may leave out: Unknown when it does.
fn reported_date(d: Option<&DateTime>, operation: &str, field: &str) -> Observed<String> {
    match d {
        None => reported(None, operation, field),
        Some(d) => rfc3339(d).into(),
    }
}

/// Inline policies by name; `owner` names whose they are (`role r`, `user u`, `group g`).
fn inline_policies(owner: &str, list: &[PolicyDetail]) -> Observed<BTreeMap<String, Value>> {
    list.iter()
        .map(|p| {
            let pname = p.policy_name().ok_or_else(|| format!("{owner}: an inline policy was returned without PolicyName"))?;
            Ok((pname.to_string(), parse_document(&format!("{owner} inline policy {pname}"), p.policy_document())?))
        })
        .collect::<Result<BTreeMap<String, Value>, String>>()
        .into()
}

/// The ARNs of attached managed policies (one without an ARN cannot be judged: Unknown).
fn attached_policies(owner: &str, list: &[AttachedPolicy]) -> Observed<Vec<String>> {
    list.iter()
        .map(|p| {
            p.policy_arn().map(str::to_string).ok_or_else(|| format!("{owner}: an attached policy was returned without PolicyArn ({:?})", p.policy_name()))
        })
        .collect::<Result<Vec<String>, String>>()
        .into()
}

/// The name, ARN and path of an IAM role, user or group (`kind`: its word, its API field
/// prefix, and what a missing path leaves unknown). The API reference marks them optional, but
/// an entity without them cannot be judged: Err names what is missing.
fn identity(
    (kind, field, path_note): (&str, &str, &str),
    name: Option<&str>,
    id: Option<&str>,
    arn: Option<&str>,
    path: Option<&str>,
) -> Result<(String, String, String), String> {
    let name = name.filter(|n| !n.is_empty()).ok_or_else(|| format!("a {kind} was returned without {field}Name ({field}Id {id:?})"))?.to_string();
    let arn = arn.filter(|a| !a.is_empty()).ok_or_else(|| format!("{kind} {name} was returned without an Arn"))?.to_string();
    let path = path.ok_or_else(|| format!("{kind} {name} was returned without a Path{path_note}"))?.to_string();
    Ok((name, arn, path))
}

/// A role as GetAccountAuthorizationDetails describes it (without Meta, which needs the context).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RoleParts {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub tags: BTreeMap<String, String>,
    pub trust_policy: Observed<Value>,
    pub inline_policies: Observed<BTreeMap<String, Value>>,
    pub attached_policies: Observed<Vec<String>>,
}

/// Map one RoleDetail; Err when a field that identifies or classifies the role is missing
/// (the API reference marks them optional, but a role without them cannot be judged).
pub(crate) fn role_parts(r: &RoleDetail) -> Result<RoleParts, String> {
    let (name, arn, path) = identity(("role", "Role", ", so whether it is service-linked is unknown"), r.role_name(), r.role_id(), r.arn(), r.path())?;
    let owner = format!("role {name}");
    Ok(RoleParts {
        trust_policy: parse_document(&format!("role {name} trust policy"), r.assume_role_policy_document()).into(),
        inline_policies: inline_policies(&owner, r.role_policy_list()),
        attached_policies: attached_policies(&owner, r.attached_managed_policies()),
        tags: tag_map(r.tags().iter().map(|t| (t.key(), t.value()))),
        name,
        arn,
        path,
    })
}

/// A user as GetAccountAuthorizationDetails describes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserParts {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub created: Observed<String>,
    pub tags: BTreeMap<String, String>,
    pub inline_policies: Observed<BTreeMap<String, Value>>,
    pub attached_policies: Observed<Vec<String>>,
    pub groups: Observed<Vec<String>>,
}

/// Map one UserDetail; Err when its name, ARN or path is missing.
pub(crate) fn user_parts(u: &UserDetail) -> Result<UserParts, String> {
    let (name, arn, path) = identity(("user", "User", ""), u.user_name(), u.user_id(), u.arn(), u.path())?;
    let owner = format!("user {name}");
    Ok(UserParts {
        created: reported_date(u.create_date(), "GetAccountAuthorizationDetails", &format!("the CreateDate of user {name}")),
        tags: tag_map(u.tags().iter().map(|t| (t.key(), t.value()))),
        inline_policies: inline_policies(&owner, u.user_policy_list()),
        attached_policies: attached_policies(&owner, u.attached_managed_policies()),
        groups: Observed::Known(u.group_list().to_vec()),
        name,
        arn,
        path,
    })
}

/// A group as GetAccountAuthorizationDetails describes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupParts {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub inline_policies: Observed<BTreeMap<String, Value>>,
    pub attached_policies: Observed<Vec<String>>,
}

/// Map one GroupDetail; Err when its name, ARN or path is missing.
pub(crate) fn group_parts(g: &GroupDetail) -> Result<GroupParts, String> {
    let (name, arn, path) = identity(("group", "Group", ""), g.group_name(), g.group_id(), g.arn(), g.path())?;
    let owner = format!("group {name}");
    Ok(GroupParts {
        inline_policies: inline_policies(&owner, g.group_policy_list()),
        attached_policies: attached_policies(&owner, g.attached_managed_policies()),
        name,
        arn,
        path,
    })
}

/// The document of a customer-managed policy's default version (exactly one version is the
/// default; none or several is Unknown, never a guess).
pub(crate) fn default_version_document(p: &ManagedPolicyDetail) -> Observed<Value> {
    let what = format!("policy {}", p.arn().unwrap_or("(no Arn)"));
    let defaults: Vec<_> = p.policy_version_list().iter().filter(|v| v.is_default_version()).collect();
    match defaults.as_slice() {
        [v] => parse_document(&what, v.document()).into(),
        [] => Observed::Unknown(format!("{what}: GetAccountAuthorizationDetails returned no default version")),
        _ => Observed::Unknown(format!("{what}: GetAccountAuthorizationDetails returned {} default versions", defaults.len())),
    }
}

/// An entity GetAccountAuthorizationDetails returned without what identifies it: a named
/// collection error on its collection.
fn incomplete<T: Resource>(ctx: &Ctx, c: &mut Collection<T>, reason: String) {
    ctx.record_incomplete("iam", "GetAccountAuthorizationDetails", "global", None, "IncompleteResponse", &reason);
    c.fail("global", reason);
}

/// GetLoginProfile's answer: the console password's creation, or `None` (no console password).
pub(crate) fn login_profile(
    user: &str,
    got: Result<Option<aws_sdk_iam::operation::get_login_profile::GetLoginProfileOutput>, String>,
) -> Observed<Option<LoginProfile>> {
    got.and_then(|o| match o {
        None => Ok(None),
        Some(o) => {
            let p = o.login_profile().ok_or_else(|| format!("iam:GetLoginProfile for {user} returned no LoginProfile"))?;
            Ok(Some(LoginProfile { created: rfc3339(p.create_date())?, password_reset_required: p.password_reset_required() }))
        }
    })
    .into()
}

pub(crate) fn mfa_device(d: &aws_sdk_iam::types::MfaDevice) -> Result<MfaDevice, String> {
    Ok(MfaDevice { serial_number: d.serial_number().to_string(), enabled: rfc3339(d.enable_date())? })
}

/// One key of ListAccessKeys (without its last use, a separate call). Err: no AccessKeyId.
pub(crate) fn access_key(user: &str, k: &AccessKeyMetadata) -> Result<AccessKey, String> {
    let id =
        k.access_key_id().filter(|i| !i.is_empty()).ok_or_else(|| format!("iam:ListAccessKeys for {user} returned a key without AccessKeyId"))?.to_string();
    let op = "ListAccessKeys";
    Ok(AccessKey {
        status: reported(k.status().map(|s| s.as_str().to_string()), op, &format!("the Status of access key {id}")),
        created: reported_date(k.create_date(), op, &format!("the CreateDate of access key {id}")),
        last_used: Observed::Unknown(format!("access key {id}: GetAccessKeyLastUsed not called")),
        id,
    })
}

/// GetAccessKeyLastUsed's LastUsedDate: absent means never used ("This field is null ... An
/// access key exists but has not been used since IAM began tracking this information",
/// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKeyLastUsed.html).
pub(crate) fn key_last_used(
    id: &str,
    got: Result<aws_sdk_iam::operation::get_access_key_last_used::GetAccessKeyLastUsedOutput, String>,
) -> Observed<Option<String>> {
    got.and_then(|o| {
        let used = o.access_key_last_used().ok_or_else(|| format!("iam:GetAccessKeyLastUsed for {id} returned no AccessKeyLastUsed"))?;
        used.last_used_date().map(rfc3339).transpose()
    })
    .into()
}

/// PasswordLastUsed of every user ListUsers returned, by name ("This value is returned only in
/// the GetUser and ListUsers operations"; null: never used since IAM began tracking it,
/// https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html). A user ListUsers did not
/// return is Unknown.
pub(crate) fn password_last_used<'a>(users: impl IntoIterator<Item = &'a aws_sdk_iam::types::User>) -> Result<HashMap<String, Option<String>>, String> {
    users.into_iter().map(|u| Ok((u.user_name().to_string(), u.password_last_used().map(rfc3339).transpose()?))).collect()
}

/// The account password policy exactly as reported.
pub(crate) fn password_policy(p: &aws_sdk_iam::types::PasswordPolicy) -> PasswordPolicy {
    PasswordPolicy {
        minimum_password_length: reported(p.minimum_password_length(), "GetAccountPasswordPolicy", "MinimumPasswordLength"),
        require_symbols: p.require_symbols(),
        require_numbers: p.require_numbers(),
        require_uppercase_characters: p.require_uppercase_characters(),
        require_lowercase_characters: p.require_lowercase_characters(),
        allow_users_to_change_password: p.allow_users_to_change_password(),
        expire_passwords: p.expire_passwords(),
        max_password_age: p.max_password_age(),
        password_reuse_prevention: p.password_reuse_prevention(),
        hard_expiry: p.hard_expiry(),
    }
}

/// A 0/1 flag of GetAccountSummary's SummaryMap: a missing key or another value is Unknown.
pub(crate) fn summary_flag(map: Option<&HashMap<SummaryKeyType, i32>>, key: SummaryKeyType) -> Observed<bool> {
    let name = key.as_str().to_string();
    match map.map(|m| m.get(&key)) {
        None => Observed::Unknown("iam:GetAccountSummary returned no SummaryMap".into()),
        Some(None) => Observed::Unknown(format!("iam:GetAccountSummary did not report {name}")),
        Some(Some(0)) => Observed::Known(false),
        Some(Some(1)) => Observed::Known(true),
        Some(Some(v)) => Observed::Unknown(format!("iam:GetAccountSummary reported {name} = {v} (0 or 1 expected)")),
    }
}

/// The account (account-wide scans only): its password policy and root user.
async fn account(ctx: &Ctx) -> Account {
    let iam = &ctx.clients.iam;
    let (policy, summary) = tokio::join!(
        ctx.call_opt("iam", "GetAccountPasswordPolicy", None, &["NoSuchEntity"], iam.get_account_password_policy().send()),
        ctx.call("iam", "GetAccountSummary", None, iam.get_account_summary().send()),
    );
    let arn = format!("arn:{}:iam::{}:root", ctx.partition, ctx.account);
    // IAM has no tags for the account itself
    let mut m = ctx.meta("iam:account", &ctx.account, arn, Some(ctx.account.clone()), Observed::Known(BTreeMap::new()));
    m.region = "global".to_string();
    let flag = |key: SummaryKeyType| match &summary {
        Ok(s) => summary_flag(s.summary_map(), key),
        Err(reason) => Observed::Unknown(reason.clone()),
    };
    Account {
        meta: m,
        password_policy: policy
            .and_then(|p| match p {
                None => Ok(None),
                Some(p) => {
                    p.password_policy().map(|p| Some(password_policy(p))).ok_or_else(|| "iam:GetAccountPasswordPolicy returned no PasswordPolicy".to_string())
                }
            })
            .into(),
        root_mfa_enabled: flag(SummaryKeyType::AccountMfaEnabled),
        root_access_keys_present: flag(SummaryKeyType::AccountAccessKeysPresent),
    }
}

/// A user's credentials: console password, MFA devices, access keys and their last use.
async fn credentials(ctx: &Ctx, name: &str) -> (Observed<Option<LoginProfile>>, Observed<Vec<MfaDevice>>, Observed<Vec<AccessKey>>) {
    let iam = &ctx.clients.iam;
    let (profile, mfa, keys) = tokio::join!(
        ctx.call_opt("iam", "GetLoginProfile", Some(name), &["NoSuchEntity"], iam.get_login_profile().user_name(name).send()),
        ctx.pages("iam", "ListMFADevices", iam.list_mfa_devices().user_name(name).into_paginator().send()),
        ctx.pages("iam", "ListAccessKeys", iam.list_access_keys().user_name(name).into_paginator().send()),
    );
    let mfa: Observed<Vec<MfaDevice>> =
        mfa.map_err(|e| format!("user {name}: {e}")).and_then(|pages| pages.iter().flat_map(|p| p.mfa_devices()).map(mfa_device).collect()).into();
    let keys = match keys
        .map_err(|e| format!("user {name}: {e}"))
        .and_then(|pages| pages.iter().flat_map(|p| p.access_key_metadata()).map(|k| access_key(name, k)).collect::<Result<Vec<_>, _>>())
    {
        Err(reason) => Observed::Unknown(reason),
        Ok(keys) => {
            let mut out = Vec::new();
            for mut k in keys {
                let got = ctx.call("iam", "GetAccessKeyLastUsed", Some(&k.id), iam.get_access_key_last_used().access_key_id(&k.id).send()).await;
                k.last_used = key_last_used(&k.id, got);
                out.push(k);
            }
            Observed::Known(out)
        }
    };
    (login_profile(name, profile), mfa, keys)
}

pub async fn collect(ctx: &Ctx) -> Iam {
    let account_wide = ctx.scope.account_wide();
    let (mut out, account) = tokio::join!(identities(ctx, account_wide), async {
        if account_wide {
            Some(account(ctx).await)
        } else {
            None
        }
    });
    if let Some(a) = account {
        out.accounts.insert(a);
    }
    out
}

/// Roles, users, groups and the managed policies attached to them.
async fn identities(ctx: &Ctx, account_wide: bool) -> Iam {
    let iam = &ctx.clients.iam;
    let mut out = Iam::default();
    let mut request =
        iam.get_account_authorization_details().max_items(1000).filter(EntityType::Role).filter(EntityType::User).filter(EntityType::LocalManagedPolicy);
    if account_wide {
        request = request.filter(EntityType::Group);
    }
    let pages = match ctx.pages("iam", "GetAccountAuthorizationDetails", request.into_paginator().send()).await {
        Ok(p) => p,
        Err(e) => {
            out.roles.fail("global", e.clone());
            out.policies.fail("global", e.clone());
            out.users.fail("global", e.clone());
            if account_wide {
                out.groups.fail("global", e);
            }
            return out;
        }
    };
    // a local policy without an Arn cannot be matched to the entities that attach it: those
    // then find their policy missing (Unknown → error), so nothing passes on it
    let local: BTreeMap<String, Observed<Value>> =
        pages.iter().flat_map(|p| p.policies()).filter_map(|p| Some((p.arn()?.to_string(), default_version_document(p)))).collect();
    let mut attached_everywhere: BTreeSet<String> = BTreeSet::new();
    let mut remember = |a: &Observed<Vec<String>>| {
        if let Observed::Known(a) = a {
            attached_everywhere.extend(a.iter().cloned());
        }
    };
    for r in pages.iter().flat_map(|p| p.role_detail_list()) {
        let parts = match role_parts(r) {
            Ok(p) => p,
            Err(reason) => {
                incomplete(ctx, &mut out.roles, reason);
                continue;
            }
        };
        let tags = Observed::Known(parts.tags);
        if !ctx.scope.wants(&tags) {
            continue;
        }
        remember(&parts.attached_policies);
        out.roles.insert(Role {
            meta: meta(ctx, "iam:role", &parts.name, &parts.arn, tags),
            path: parts.path,
            trust_policy: parts.trust_policy,
            inline_policies: parts.inline_policies,
            attached_policies: parts.attached_policies,
        });
    }
    let mut users = Vec::new();
    for u in pages.iter().flat_map(|p| p.user_detail_list()) {
        match user_parts(u) {
            Ok(p) if ctx.scope.wants(&Observed::Known(p.tags.clone())) => {
                remember(&p.attached_policies);
                users.push(p);
            }
            Ok(_) => {}
            Err(reason) => incomplete(ctx, &mut out.users, reason),
        }
    }
    if account_wide {
        for g in pages.iter().flat_map(|p| p.group_detail_list()) {
            let parts = match group_parts(g) {
                Ok(p) => p,
                Err(reason) => {
                    incomplete(ctx, &mut out.groups, reason);
                    continue;
                }
            };
            remember(&parts.attached_policies);
            out.groups.insert(Group {
                // IAM groups cannot carry tags
                meta: meta(ctx, "iam:group", &parts.name, &parts.arn, Observed::Known(BTreeMap::new())),
                path: parts.path,
                inline_policies: parts.inline_policies,
                attached_policies: parts.attached_policies,
            });
        }
    }
    let (_, users) = tokio::join!(managed_policies(ctx, &local, attached_everywhere, &mut out.policies), user_details(ctx, users));
    for u in users {
        out.users.insert(u);
    }
    out
}

/// The users in scope with their credentials (one ListUsers for PasswordLastUsed, then per user).
async fn user_details(ctx: &Ctx, users: Vec<UserParts>) -> Vec<User> {
    if users.is_empty() {
        return Vec::new();
    }
    let iam = &ctx.clients.iam;
    let last_used = ctx
        .pages("iam", "ListUsers", iam.list_users().max_items(1000).into_paginator().send())
        .await
        .and_then(|pages| password_last_used(pages.iter().flat_map(|p| p.users())));
    let last_used = &last_used;
    fan_out(ctx, users, |p| async move {
        let (login_profile, mfa_devices, access_keys) = credentials(ctx, &p.name).await;
        let password_last_used = match last_used {
            Ok(m) => m.get(&p.name).cloned().map(Observed::Known).unwrap_or_else(|| Observed::Unknown(format!("iam:ListUsers did not return user {}", p.name))),
            Err(reason) => Observed::Unknown(reason.clone()),
        };
        User {
            meta: meta(ctx, "iam:user", &p.name, &p.arn, Observed::Known(p.tags)),
            path: p.path,
            created: p.created,
            inline_policies: p.inline_policies,
            attached_policies: p.attached_policies,
            groups: p.groups,
            login_profile,
            password_last_used,
            mfa_devices,
            access_keys,
        }
    })
    .await
}

/// The managed policies attached to the entities in scope: customer-managed ones from the
/// same GetAccountAuthorizationDetails, AWS-managed ones read once each.
async fn managed_policies(ctx: &Ctx, local: &BTreeMap<String, Observed<Value>>, attached: BTreeSet<String>, out: &mut Collection<Policy>) {
    let iam = &ctx.clients.iam;
    let policy_tags = || Observed::Unknown("not read: managed policies are judged through the roles, users and groups that attach them".into());
    let aws_managed: Vec<String> = attached.iter().filter(|a| a.contains(":iam::aws:policy/")).cloned().collect();
    for arn in attached.iter().filter(|a| !a.contains(":iam::aws:policy/")) {
        let doc =
            local.get(arn).cloned().unwrap_or_else(|| Observed::Unknown(format!("policy {arn}: attached but not returned by GetAccountAuthorizationDetails")));
        let name = arn.rsplit('/').next().unwrap_or(arn).to_string();
        out.insert(Policy { meta: meta(ctx, "iam:policy", &name, arn, policy_tags()), aws_managed: false, document: doc });
    }
    let docs = fan_out(ctx, aws_managed, |arn| async move {
        let p = ctx.call("iam", "GetPolicy", Some(&arn), iam.get_policy().policy_arn(&arn).send()).await;
        let doc = match p {
            Err(e) => Err(e),
            Ok(p) => match p.policy().and_then(|p| p.default_version_id()) {
                None => Err(format!("iam:GetPolicy for {arn} returned no DefaultVersionId")),
                Some(version) => ctx
                    .call("iam", "GetPolicyVersion", Some(&arn), iam.get_policy_version().policy_arn(&arn).version_id(version).send())
                    .await
                    .and_then(|v| parse_document(&format!("policy {arn} version {version}"), v.policy_version().and_then(|v| v.document()))),
            },
        };
        (arn, doc)
    })
    .await;
    for (arn, doc) in docs {
        let name = arn.rsplit('/').next().unwrap_or(&arn).to_string();
        out.insert(Policy { meta: meta(ctx, "iam:policy", &name, &arn, policy_tags()), aws_managed: true, document: doc.into() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::types::{AttachedPolicy, PolicyDetail, PolicyVersion};

    const TRUST: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    fn encoded(s: &str) -> String {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    fn role() -> aws_sdk_iam::types::builders::RoleDetailBuilder {
        RoleDetail::builder().role_name("r").arn("arn:aws:iam::123456789012:role/r").path("/").assume_role_policy_document(encoded(TRUST))
    }

    #[test]
    fn documents_decode_or_are_unknown() {
        assert_eq!(parse_document("x", Some(&encoded(TRUST))).unwrap()["Statement"][0]["Action"], "sts:AssumeRole");
        assert!(parse_document("x", Some(TRUST)).is_ok(), "plain JSON");
        assert!(parse_document("x", None).unwrap_err().contains("no policy document"));
        assert!(parse_document("x", Some("%7B%22a%22%3A%FF%7D")).unwrap_err().contains("UTF-8"));
        assert!(parse_document("x", Some("%7B%22a")).unwrap_err().contains("not JSON"));
        assert!(parse_document("x", Some("%22text%22")).unwrap_err().contains("not a JSON object"), "a JSON string is not a policy");
        assert!(parse_document("x", Some("")).is_err());
    }

    #[test]
    fn roles_map_every_field_or_fail_closed() {
        let full = role()
            .role_policy_list(PolicyDetail::builder().policy_name("inline").policy_document(encoded(r#"{"Statement":[]}"#)).build())
            .attached_managed_policies(AttachedPolicy::builder().policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").build())
            .tags(aws_sdk_iam::types::Tag::builder().key("tapaudit:stack").value("dev").build().unwrap())
            .build();
        let p = role_parts(&full).unwrap();
        assert_eq!((p.name.as_str(), p.path.as_str()), ("r", "/"));
        assert!(matches!(p.trust_policy, Observed::Known(_)));
        assert_eq!(p.inline_policies.known().map(|m| m.len()), Some(1));
        assert_eq!(p.attached_policies, Observed::Known(vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()]));
        assert_eq!(p.tags.get("tapaudit:stack").map(String::as_str), Some("dev"));

        // a bad document makes that part Unknown, not empty
        let bad_inline = role().role_policy_list(PolicyDetail::builder().policy_name("inline").policy_document("%7Bnot json").build()).build();
        assert!(matches!(role_parts(&bad_inline).unwrap().inline_policies, Observed::Unknown(_)));
        let no_trust = RoleDetail::builder().role_name("r").arn("arn:aws:iam::123456789012:role/r").path("/").build();
        assert!(matches!(role_parts(&no_trust).unwrap().trust_policy, Observed::Unknown(_)));
        let anonymous_attachment = role().attached_managed_policies(AttachedPolicy::builder().policy_name("x").build()).build();
        assert!(matches!(role_parts(&anonymous_attachment).unwrap().attached_policies, Observed::Unknown(_)));
        // identity or classification missing: the role cannot be judged at all
        assert!(role_parts(&RoleDetail::builder().arn("arn:aws:iam::123456789012:role/r").path("/").build()).is_err());
        assert!(role_parts(&RoleDetail::builder().role_name("r").path("/").build()).unwrap_err().contains("role r"));
        assert!(role_parts(&RoleDetail::builder().role_name("r").arn("arn:aws:iam::123456789012:role/r").build()).unwrap_err().contains("Path"));
    }

    #[test]
    fn the_default_version_or_unknown() {
        let version = |id: &str, default: bool, doc: &str| PolicyVersion::builder().version_id(id).is_default_version(default).document(encoded(doc)).build();
        let policy = |versions: Vec<PolicyVersion>| {
            ManagedPolicyDetail::builder().arn("arn:aws:iam::123456789012:policy/p").set_policy_version_list(Some(versions)).build()
        };
        let one =
            policy(vec![version("v1", false, r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#), version("v2", true, r#"{"Statement":[]}"#)]);
        assert_eq!(default_version_document(&one), Observed::Known(serde_json::json!({"Statement": []})), "the default, not the first");
        assert!(matches!(default_version_document(&policy(vec![version("v1", false, "{}")])), Observed::Unknown(_)), "no default version");
        assert!(matches!(default_version_document(&policy(vec![version("v1", true, "{}"), version("v2", true, "{}")])), Observed::Unknown(_)));
        assert!(matches!(default_version_document(&policy(vec![])), Observed::Unknown(_)));
    }

    fn date(secs: i64) -> DateTime {
        DateTime::from_secs(secs)
    }

    // 2026-01-01T00:00:00Z
    const JAN_2026: i64 = 1_767_225_600;

    fn user_detail(name: &str) -> aws_sdk_iam::types::builders::UserDetailBuilder {
        UserDetail::builder()
            .user_name(name)
            .user_id(format!("AIDA{name}"))
            .arn(format!("arn:aws:iam::123456789012:user/{name}"))
            .path("/")
            .create_date(date(JAN_2026))
    }

    #[test]
    fn users_and_groups_map_every_field_or_fail_closed() {
        let u = user_detail("alice")
            .user_policy_list(PolicyDetail::builder().policy_name("mine").policy_document(encoded(r#"{"Statement":[]}"#)).build())
            .attached_managed_policies(AttachedPolicy::builder().policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").build())
            .group_list("devs")
            .tags(aws_sdk_iam::types::Tag::builder().key("tapaudit:stack").value("dev").build().unwrap())
            .build();
        let p = user_parts(&u).unwrap();
        assert_eq!((p.name.as_str(), p.arn.as_str(), p.path.as_str()), ("alice", "arn:aws:iam::123456789012:user/alice", "/"));
        assert_eq!(p.created, Observed::Known("2026-01-01T00:00:00Z".to_string()));
        assert_eq!(p.inline_policies.known().map(|m| m.len()), Some(1));
        assert_eq!(p.attached_policies, Observed::Known(vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()]));
        assert_eq!(p.groups, Observed::Known(vec!["devs".to_string()]));
        assert_eq!(p.tags.get("tapaudit:stack").map(String::as_str), Some("dev"));
        // fields that judge: Unknown, not empty; identity: an error naming the user
        let undated = UserDetail::builder().user_name("u").arn("arn:aws:iam::123456789012:user/u").path("/").build();
        assert!(matches!(user_parts(&undated).unwrap().created, Observed::Unknown(r) if r.contains("CreateDate")));
        let bad = user_detail("u").user_policy_list(PolicyDetail::builder().policy_name("x").policy_document("%7Bnope").build()).build();
        assert!(matches!(user_parts(&bad).unwrap().inline_policies, Observed::Unknown(r) if r.contains("user u inline policy x")));
        assert!(user_parts(&UserDetail::builder().arn("arn:aws:iam::123456789012:user/u").path("/").build()).unwrap_err().contains("without UserName"));
        assert!(user_parts(&UserDetail::builder().user_name("u").path("/").build()).unwrap_err().contains("user u"));
        assert!(user_parts(&UserDetail::builder().user_name("u").arn("arn:aws:iam::123456789012:user/u").build()).unwrap_err().contains("Path"));

        let g = GroupDetail::builder()
            .group_name("devs")
            .arn("arn:aws:iam::123456789012:group/devs")
            .path("/")
            .group_policy_list(PolicyDetail::builder().policy_name("ops").policy_document(encoded(r#"{"Statement":[]}"#)).build())
            .attached_managed_policies(AttachedPolicy::builder().policy_name("anonymous").build())
            .build();
        let gp = group_parts(&g).unwrap();
        assert_eq!(gp.inline_policies.known().map(|m| m.len()), Some(1));
        assert!(matches!(gp.attached_policies, Observed::Unknown(r) if r.contains("group devs")));
        assert!(group_parts(&GroupDetail::builder().arn("arn:aws:iam::123456789012:group/g").path("/").build()).is_err());
    }

    #[test]
    fn credentials_map_as_iam_reports_them() {
        use aws_sdk_iam::operation::get_access_key_last_used::GetAccessKeyLastUsedOutput;
        use aws_sdk_iam::operation::get_login_profile::GetLoginProfileOutput;
        use aws_sdk_iam::types::{AccessKeyLastUsed, StatusType};
        let profile = GetLoginProfileOutput::builder()
            .login_profile(aws_sdk_iam::types::LoginProfile::builder().user_name("u").create_date(date(JAN_2026)).build().unwrap())
            .build();
        assert_eq!(
            login_profile("u", Ok(Some(profile))),
            Observed::Known(Some(LoginProfile { created: "2026-01-01T00:00:00Z".into(), password_reset_required: false }))
        );
        assert_eq!(login_profile("u", Ok(None)), Observed::Known(None), "NoSuchEntity: no console password");
        assert!(matches!(login_profile("u", Ok(Some(GetLoginProfileOutput::builder().build()))), Observed::Unknown(_)));
        assert!(matches!(login_profile("u", Err("AccessDenied".into())), Observed::Unknown(_)));

        let k = access_key("u", &AccessKeyMetadata::builder().access_key_id("AKIA1").status(StatusType::Active).create_date(date(JAN_2026)).build()).unwrap();
        assert_eq!((k.status.known().map(String::as_str), k.created.known().map(String::as_str)), (Some("Active"), Some("2026-01-01T00:00:00Z")));
        assert!(matches!(k.last_used, Observed::Unknown(_)), "not read until GetAccessKeyLastUsed answers");
        let bare = access_key("u", &AccessKeyMetadata::builder().access_key_id("AKIA2").build()).unwrap();
        assert!(matches!(bare.status, Observed::Unknown(_)) && matches!(bare.created, Observed::Unknown(_)));
        assert!(access_key("u", &AccessKeyMetadata::builder().status(StatusType::Active).build()).is_err());

        let never =
            GetAccessKeyLastUsedOutput::builder().access_key_last_used(AccessKeyLastUsed::builder().service_name("N/A").region("N/A").build().unwrap()).build();
        assert_eq!(key_last_used("AKIA1", Ok(never)), Observed::Known(None), "no LastUsedDate: never used");
        let used = GetAccessKeyLastUsedOutput::builder()
            .access_key_last_used(AccessKeyLastUsed::builder().last_used_date(date(JAN_2026)).service_name("sts").region("us-east-1").build().unwrap())
            .build();
        assert_eq!(key_last_used("AKIA1", Ok(used)), Observed::Known(Some("2026-01-01T00:00:00Z".into())));
        assert!(matches!(key_last_used("AKIA1", Ok(GetAccessKeyLastUsedOutput::builder().build())), Observed::Unknown(_)));
        assert!(matches!(key_last_used("AKIA1", Err("AccessDenied".into())), Observed::Unknown(_)), "a failed call is not 'never used'");

        let listed = |name: &str, used: Option<i64>| {
            aws_sdk_iam::types::User::builder()
                .user_name(name)
                .user_id("AIDA")
                .arn(format!("arn:aws:iam::123456789012:user/{name}"))
                .path("/")
                .create_date(date(JAN_2026))
                .set_password_last_used(used.map(date))
                .build()
                .unwrap()
        };
        let users = [listed("alice", Some(JAN_2026 + 86_400)), listed("bob", None)];
        let m = password_last_used(users.iter()).unwrap();
        assert_eq!(m["alice"].as_deref(), Some("2026-01-02T00:00:00Z"));
        assert_eq!(m["bob"], None);
    }

    #[test]
    fn the_account_is_read_exactly() {
        let p = password_policy(&aws_sdk_iam::types::PasswordPolicy::builder().minimum_password_length(8).max_password_age(0).build());
        assert_eq!(p.minimum_password_length, Observed::Known(8));
        assert_eq!((p.max_password_age, p.password_reuse_prevention, p.expire_passwords), (Some(0), None, false), "as reported: 0 is no expiry");
        let absent = password_policy(&aws_sdk_iam::types::PasswordPolicy::builder().build());
        assert!(matches!(absent.minimum_password_length, Observed::Unknown(_)));

        let map: HashMap<SummaryKeyType, i32> =
            [(SummaryKeyType::AccountMfaEnabled, 0), (SummaryKeyType::MfaDevicesInUse, 3), (SummaryKeyType::AccountAccessKeysPresent, 1)].into();
        assert_eq!(summary_flag(Some(&map), SummaryKeyType::AccountMfaEnabled), Observed::Known(false), "users' MFA devices are not the root user's");
        assert_eq!(summary_flag(Some(&map), SummaryKeyType::AccountAccessKeysPresent), Observed::Known(true));
        assert!(matches!(summary_flag(Some(&HashMap::new()), SummaryKeyType::AccountMfaEnabled), Observed::Unknown(r) if r.contains("AccountMFAEnabled")));
        assert!(matches!(summary_flag(Some(&[(SummaryKeyType::AccountMfaEnabled, 2)].into()), SummaryKeyType::AccountMfaEnabled), Observed::Unknown(_)));
        assert!(matches!(summary_flag(None, SummaryKeyType::AccountMfaEnabled), Observed::Unknown(_)));
    }

    mod collection {
        use super::*;
        use crate::collect::testing::{calls, ctx};
        use aws_sdk_iam::operation::get_access_key_last_used::{GetAccessKeyLastUsedError, GetAccessKeyLastUsedOutput};
        use aws_sdk_iam::operation::get_account_authorization_details::{GetAccountAuthorizationDetailsError, GetAccountAuthorizationDetailsOutput};
        use aws_sdk_iam::operation::get_account_password_policy::GetAccountPasswordPolicyError;
        use aws_sdk_iam::operation::get_account_summary::GetAccountSummaryOutput;
        use aws_sdk_iam::operation::get_login_profile::{GetLoginProfileError, GetLoginProfileOutput};
        use aws_sdk_iam::operation::get_policy::GetPolicyOutput;
        use aws_sdk_iam::operation::get_policy_version::GetPolicyVersionOutput;
        use aws_sdk_iam::operation::list_access_keys::{ListAccessKeysError, ListAccessKeysOutput};
        use aws_sdk_iam::operation::list_mfa_devices::{ListMFADevicesError, ListMfaDevicesOutput};
        use aws_sdk_iam::operation::list_users::{ListUsersError, ListUsersOutput};
        use aws_sdk_iam::types::{AccessKeyLastUsed, StatusType, Tag};
        use aws_sdk_iam::Client;
        use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode};
        use aws_smithy_types::error::ErrorMetadata;

        /// A mocked IAM client (what `mock_client!` builds, without the SDK's `test-util`
        /// feature, which aws-sdk-iam is not built with): no retries, so a failure is final.
        fn client(rules: &[&Rule]) -> Client {
            let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
            for rule in rules {
                interceptor = interceptor.with_rule(rule);
            }
            let conf = aws_sdk_iam::Config::builder()
                .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
                .region(aws_sdk_iam::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_iam::config::Credentials::new("AKIDTEST", "secret", None, None, "test"))
                .retry_config(aws_config::retry::RetryConfig::disabled())
                .http_client(create_mock_http_client())
                .interceptor(interceptor)
                .build();
            Client::from_conf(conf)
        }

        fn code(c: &str) -> ErrorMetadata {
            ErrorMetadata::builder().code(c).message(format!("{c} (test)")).build()
        }

        fn tagged(stack: &str) -> Tag {
            Tag::builder().key("tapaudit:stack").value(stack).build().unwrap()
        }

        fn listed(name: &str, used: Option<i64>) -> aws_sdk_iam::types::User {
            aws_sdk_iam::types::User::builder()
                .user_name(name)
                .user_id("AIDA")
                .arn(format!("arn:aws:iam::123456789012:user/{name}"))
                .path("/")
                .create_date(date(JAN_2026))
                .set_password_last_used(used.map(date))
                .build()
                .unwrap()
        }

        fn has(filters: &[EntityType], e: EntityType) -> bool {
            filters.contains(&e)
        }

        /// The account calls, answered: no password policy, root without MFA.
        fn account_rules() -> (Rule, Rule) {
            (
                mock!(Client::get_account_password_policy).then_error(|| GetAccountPasswordPolicyError::generic(code("NoSuchEntity"))),
                mock!(Client::get_account_summary).then_output(|| {
                    GetAccountSummaryOutput::builder()
                        .summary_map(SummaryKeyType::AccountMfaEnabled, 0)
                        .summary_map(SummaryKeyType::MfaDevicesInUse, 1)
                        .summary_map(SummaryKeyType::Users, 2)
                        .build()
                }),
            )
        }

        #[tokio::test]
        async fn an_account_wide_scan_reads_users_groups_and_the_account() {
            let details = mock!(Client::get_account_authorization_details)
                .match_requests(|r| has(r.filter(), EntityType::User) && has(r.filter(), EntityType::Group) && has(r.filter(), EntityType::Role))
                .then_output(|| {
                    GetAccountAuthorizationDetailsOutput::builder()
                        .user_detail_list(
                            user_detail("alice")
                                .group_list("devs")
                                .attached_managed_policies(AttachedPolicy::builder().policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").build())
                                .build(),
                        )
                        .user_detail_list(user_detail("bob").build())
                        .group_detail_list(
                            GroupDetail::builder()
                                .group_name("devs")
                                .arn("arn:aws:iam::123456789012:group/devs")
                                .path("/")
                                .attached_managed_policies(AttachedPolicy::builder().policy_arn("arn:aws:iam::123456789012:policy/ops").build())
                                .build(),
                        )
                        .policies(
                            ManagedPolicyDetail::builder()
                                .arn("arn:aws:iam::123456789012:policy/ops")
                                .policy_version_list(
                                    PolicyVersion::builder().version_id("v1").is_default_version(true).document(encoded(r#"{"Statement":[]}"#)).build(),
                                )
                                .build(),
                        )
                        .is_truncated(false)
                        .build()
                });
            let get_policy = mock!(Client::get_policy)
                .then_output(|| GetPolicyOutput::builder().policy(aws_sdk_iam::types::Policy::builder().default_version_id("v7").build()).build());
            let get_version = mock!(Client::get_policy_version).match_requests(|r| r.version_id() == Some("v7")).then_output(|| {
                GetPolicyVersionOutput::builder().policy_version(PolicyVersion::builder().document(encoded(r#"{"Statement":[]}"#)).build()).build()
            });
            let list_users = mock!(Client::list_users).then_output(|| {
                ListUsersOutput::builder().users(listed("alice", Some(JAN_2026 + 86_400))).users(listed("bob", None)).is_truncated(false).build().unwrap()
            });
            let profile_alice = mock!(Client::get_login_profile).match_requests(|r| r.user_name() == Some("alice")).then_output(|| {
                GetLoginProfileOutput::builder()
                    .login_profile(aws_sdk_iam::types::LoginProfile::builder().user_name("alice").create_date(date(JAN_2026)).build().unwrap())
                    .build()
            });
            let profile_bob = mock!(Client::get_login_profile)
                .match_requests(|r| r.user_name() == Some("bob"))
                .then_error(|| GetLoginProfileError::generic(code("NoSuchEntity")));
            let mfa_alice = mock!(Client::list_mfa_devices).match_requests(|r| r.user_name() == Some("alice")).then_output(|| {
                ListMfaDevicesOutput::builder()
                    .mfa_devices(
                        aws_sdk_iam::types::MfaDevice::builder()
                            .user_name("alice")
                            .serial_number("arn:aws:iam::123456789012:mfa/alice")
                            .enable_date(date(JAN_2026))
                            .build()
                            .unwrap(),
                    )
                    .is_truncated(false)
                    .build()
                    .unwrap()
            });
            let mfa_bob = mock!(Client::list_mfa_devices)
                .match_requests(|r| r.user_name() == Some("bob"))
                .then_output(|| ListMfaDevicesOutput::builder().set_mfa_devices(Some(vec![])).is_truncated(false).build().unwrap());
            let keys_alice = mock!(Client::list_access_keys)
                .match_requests(|r| r.user_name() == Some("alice"))
                .then_output(|| ListAccessKeysOutput::builder().set_access_key_metadata(Some(vec![])).is_truncated(false).build().unwrap());
            let keys_bob = mock!(Client::list_access_keys).match_requests(|r| r.user_name() == Some("bob")).then_output(|| {
                ListAccessKeysOutput::builder()
                    .access_key_metadata(
                        AccessKeyMetadata::builder().user_name("bob").access_key_id("AKIA1").status(StatusType::Active).create_date(date(JAN_2026)).build(),
                    )
                    .access_key_metadata(
                        AccessKeyMetadata::builder().user_name("bob").access_key_id("AKIA2").status(StatusType::Inactive).create_date(date(JAN_2026)).build(),
                    )
                    .is_truncated(false)
                    .build()
                    .unwrap()
            });
            let used_1 = mock!(Client::get_access_key_last_used).match_requests(|r| r.access_key_id() == Some("AKIA1")).then_output(|| {
                GetAccessKeyLastUsedOutput::builder()
                    .access_key_last_used(AccessKeyLastUsed::builder().service_name("N/A").region("N/A").build().unwrap())
                    .build()
            });
            let used_2 = mock!(Client::get_access_key_last_used)
                .match_requests(|r| r.access_key_id() == Some("AKIA2"))
                .then_error(|| GetAccessKeyLastUsedError::generic(code("AccessDenied")));
            let (password_policy, summary) = account_rules();
            let iam = client(&[
                &details,
                &get_policy,
                &get_version,
                &list_users,
                &profile_alice,
                &profile_bob,
                &mfa_alice,
                &mfa_bob,
                &keys_alice,
                &keys_bob,
                &used_1,
                &used_2,
                &password_policy,
                &summary,
            ]);
            let c = ctx(|cl| cl.iam = iam);
            let out = collect(&c).await;

            assert_eq!(details.num_calls(), 1, "one GetAccountAuthorizationDetails for roles, users, groups and policies");
            assert_eq!(calls(&c, "iam", "ListUsers"), 1, "one ListUsers for every PasswordLastUsed");
            let alice = &out.users.items["arn:aws:iam::123456789012:user/alice"];
            assert_eq!(alice.meta.region, "global");
            assert_eq!(alice.meta.resource_type, "iam:user");
            assert_eq!(alice.groups, Observed::Known(vec!["devs".into()]));
            assert_eq!(alice.password_last_used, Observed::Known(Some("2026-01-02T00:00:00Z".into())));
            assert_eq!(alice.login_profile.known().map(|p| p.is_some()), Some(true));
            assert_eq!(alice.mfa_devices.known().map(|d| d[0].serial_number.as_str()), Some("arn:aws:iam::123456789012:mfa/alice"));
            assert_eq!(alice.access_keys, Observed::Known(vec![]));
            let bob = &out.users.items["arn:aws:iam::123456789012:user/bob"];
            assert_eq!(bob.login_profile, Observed::Known(None), "NoSuchEntity: no console password");
            assert_eq!(bob.password_last_used, Observed::Known(None));
            assert_eq!(bob.mfa_devices, Observed::Known(vec![]));
            let keys = bob.access_keys.known().expect("keys listed");
            assert_eq!((keys[0].id.as_str(), &keys[0].last_used), ("AKIA1", &Observed::Known(None)), "never used");
            assert!(matches!(&keys[1].last_used, Observed::Unknown(r) if r.contains("AccessDenied")), "{:?}", keys[1].last_used);
            let devs = &out.groups.items["arn:aws:iam::123456789012:group/devs"];
            assert_eq!(devs.attached_policies, Observed::Known(vec!["arn:aws:iam::123456789012:policy/ops".into()]));
            // the managed policies of users and groups are in the policies collection
            assert!(out.policies.items.contains_key("arn:aws:iam::aws:policy/ReadOnlyAccess"));
            assert_eq!(out.policies.items["arn:aws:iam::123456789012:policy/ops"].document, Observed::Known(serde_json::json!({"Statement": []})));
            let account = out.accounts.iter().next().expect("the account");
            assert_eq!((account.meta.id.as_str(), account.meta.arn.as_str()), ("123456789012", "arn:aws:iam::123456789012:root"));
            assert_eq!(account.password_policy, Observed::Known(None), "NoSuchEntity: no password policy");
            assert_eq!(account.root_mfa_enabled, Observed::Known(false));
            assert!(matches!(&account.root_access_keys_present, Observed::Unknown(r) if r.contains("AccountAccessKeysPresent")));
            let (_, errors) = c.rec.finish(Default::default(), Default::default());
            let failed: Vec<(&str, &str)> = errors.iter().map(|e| (e.operation.as_str(), e.code.as_str())).collect();
            assert_eq!(failed, vec![("GetAccessKeyLastUsed", "AccessDenied")], "the documented NoSuchEntity answers are not errors");
        }

        #[tokio::test]
        async fn a_stack_scan_keeps_the_stacks_users_and_reads_no_group_or_account() {
            let details = mock!(Client::get_account_authorization_details)
                .match_requests(|r| has(r.filter(), EntityType::User) && !has(r.filter(), EntityType::Group))
                .then_output(|| {
                    GetAccountAuthorizationDetailsOutput::builder()
                        .user_detail_list(user_detail("alice").tags(tagged("dev")).build())
                        .user_detail_list(user_detail("bob").build())
                        .user_detail_list(user_detail("carol").tags(tagged("qa")).build())
                        .is_truncated(false)
                        .build()
                });
            let list_users =
                mock!(Client::list_users).then_output(|| ListUsersOutput::builder().users(listed("alice", None)).is_truncated(false).build().unwrap());
            let profile = mock!(Client::get_login_profile).then_error(|| GetLoginProfileError::generic(code("NoSuchEntity")));
            let mfa = mock!(Client::list_mfa_devices).then_output(|| ListMfaDevicesOutput::builder().set_mfa_devices(Some(vec![])).build().unwrap());
            let keys = mock!(Client::list_access_keys).then_output(|| ListAccessKeysOutput::builder().set_access_key_metadata(Some(vec![])).build().unwrap());
            let (password_policy, summary) = account_rules();
            let iam = client(&[&details, &list_users, &profile, &mfa, &keys, &password_policy, &summary]);
            let mut c = ctx(|cl| cl.iam = iam);
            c.scope = crate::collect::Scope { stack: Some("dev".into()) };
            let out = collect(&c).await;
            assert_eq!(details.num_calls(), 1);
            assert_eq!(out.users.items.keys().collect::<Vec<_>>(), vec!["arn:aws:iam::123456789012:user/alice"], "tagged for the stack only");
            assert_eq!(profile.num_calls(), 1, "credentials are read for the users in scope only");
            assert!(out.groups.is_empty() && out.groups.failures.is_empty());
            assert!(out.accounts.is_empty() && out.accounts.failures.is_empty());
            assert_eq!((summary.num_calls(), password_policy.num_calls()), (0, 0), "the account is read in account-wide scans only");
        }

        #[tokio::test]
        async fn failures_are_collection_failures_or_unknown_never_empty() {
            let denied = mock!(Client::get_account_authorization_details).then_error(|| GetAccountAuthorizationDetailsError::generic(code("AccessDenied")));
            let (password_policy, _) = account_rules();
            let summary = mock!(Client::get_account_summary)
                .then_error(|| aws_sdk_iam::operation::get_account_summary::GetAccountSummaryError::generic(code("AccessDenied")));
            let iam = client(&[&denied, &password_policy, &summary]);
            let c = ctx(|cl| cl.iam = iam);
            let out = collect(&c).await;
            for (what, failures) in
                [("roles", &out.roles.failures), ("policies", &out.policies.failures), ("users", &out.users.failures), ("groups", &out.groups.failures)]
            {
                assert_eq!(failures.len(), 1, "{what}");
                assert!(failures[0].reason.contains("AccessDenied"), "{what}: {}", failures[0].reason);
            }
            let account = out.accounts.iter().next().expect("the account is read apart from the identities");
            assert!(matches!(account.root_mfa_enabled, Observed::Unknown(_)) && matches!(account.root_access_keys_present, Observed::Unknown(_)));
            assert_eq!(account.password_policy, Observed::Known(None));

            // per-user calls that fail leave that user's fields Unknown
            let details = mock!(Client::get_account_authorization_details).then_output(|| {
                GetAccountAuthorizationDetailsOutput::builder()
                    .user_detail_list(user_detail("alice").build())
                    .user_detail_list(UserDetail::builder().user_id("AIDAX").arn("arn:aws:iam::123456789012:user/x").path("/").build())
                    .is_truncated(false)
                    .build()
            });
            let list_users = mock!(Client::list_users).then_error(|| ListUsersError::generic(code("Throttling")));
            let profile = mock!(Client::get_login_profile).then_error(|| GetLoginProfileError::generic(code("AccessDenied")));
            let mfa = mock!(Client::list_mfa_devices).then_error(|| ListMFADevicesError::generic(code("AccessDenied")));
            let keys = mock!(Client::list_access_keys).then_error(|| ListAccessKeysError::generic(code("AccessDenied")));
            let (password_policy, summary) = account_rules();
            let iam = client(&[&details, &list_users, &profile, &mfa, &keys, &password_policy, &summary]);
            let c = ctx(|cl| cl.iam = iam);
            let out = collect(&c).await;
            assert_eq!(out.users.failures.len(), 1, "a user without a name is a collection error");
            assert!(out.users.failures[0].reason.contains("without UserName"));
            let alice = out.users.iter().next().expect("alice is kept");
            for (field, unknown) in [
                ("login_profile", matches!(alice.login_profile, Observed::Unknown(_))),
                ("password_last_used", matches!(alice.password_last_used, Observed::Unknown(_))),
                ("mfa_devices", matches!(&alice.mfa_devices, Observed::Unknown(r) if r.starts_with("user alice: "))),
                ("access_keys", matches!(alice.access_keys, Observed::Unknown(_))),
            ] {
                assert!(unknown, "{field} must be Unknown: {alice:?}");
            }
        }
    }
}
