//! IAM (global): roles with trust, inline and attached policies and tags from one paginated
//! GetAccountAuthorizationDetails; AWS-managed policies attached to roles in scope are read
//! once each (GetPolicy + GetPolicyVersion of its default version).
//!
//! Fail-closed: a document that is missing, not URL-decodable or not a JSON object is
//! Unknown (never an empty policy); a managed policy without exactly one default version is
//! Unknown; a role returned without its name, ARN or path is a collection error naming it.

use super::{fan_out, tag_map, Ctx};
use crate::model::iam::{Iam, Policy, Role};
use crate::model::{Meta, Observed};
use aws_sdk_iam::types::{EntityType, ManagedPolicyDetail, RoleDetail};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

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
    let name = r.role_name().filter(|n| !n.is_empty()).ok_or_else(|| format!("a role was returned without RoleName (RoleId {:?})", r.role_id()))?.to_string();
    let arn = r.arn().filter(|a| !a.is_empty()).ok_or_else(|| format!("role {name} was returned without an Arn"))?.to_string();
    let path = r.path().ok_or_else(|| format!("role {name} was returned without a Path, so whether it is service-linked is unknown"))?.to_string();
    let inline: Result<BTreeMap<String, Value>, String> = r
        .role_policy_list()
        .iter()
        .map(|p| {
            let pname = p.policy_name().ok_or_else(|| format!("role {name}: an inline policy was returned without PolicyName"))?;
            Ok((pname.to_string(), parse_document(&format!("role {name} inline policy {pname}"), p.policy_document())?))
        })
        .collect();
    let attached: Result<Vec<String>, String> = r
        .attached_managed_policies()
        .iter()
        .map(|p| {
            p.policy_arn().map(str::to_string).ok_or_else(|| format!("role {name}: an attached policy was returned without PolicyArn ({:?})", p.policy_name()))
        })
        .collect();
    Ok(RoleParts {
        trust_policy: parse_document(&format!("role {name} trust policy"), r.assume_role_policy_document()).into(),
        inline_policies: inline.into(),
        attached_policies: attached.into(),
        tags: tag_map(r.tags().iter().map(|t| (t.key(), t.value()))),
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

fn incomplete(ctx: &Ctx, out: &mut Iam, reason: String) {
    ctx.record_incomplete("iam", "GetAccountAuthorizationDetails", "global", None, "IncompleteResponse", &reason);
    out.roles.fail("global", reason);
}

pub async fn collect(ctx: &Ctx) -> Iam {
    let iam = &ctx.clients.iam;
    let mut out = Iam::default();
    let pages = ctx
        .pages(
            "iam",
            "GetAccountAuthorizationDetails",
            iam.get_account_authorization_details().filter(EntityType::Role).filter(EntityType::LocalManagedPolicy).into_paginator().send(),
        )
        .await;
    let pages = match pages {
        Ok(p) => p,
        Err(e) => {
            out.roles.fail("global", e.clone());
            out.policies.fail("global", e);
            return out;
        }
    };
    // a local policy without an Arn cannot be matched to the roles that attach it: those
    // roles then find their policy missing (Unknown → error), so nothing passes on it
    let local: BTreeMap<String, Observed<Value>> =
        pages.iter().flat_map(|p| p.policies()).filter_map(|p| Some((p.arn()?.to_string(), default_version_document(p)))).collect();
    let mut attached_everywhere: BTreeSet<String> = BTreeSet::new();
    for r in pages.iter().flat_map(|p| p.role_detail_list()) {
        let parts = match role_parts(r) {
            Ok(p) => p,
            Err(reason) => {
                incomplete(ctx, &mut out, reason);
                continue;
            }
        };
        let tags = Observed::Known(parts.tags);
        if !ctx.scope.wants(&tags) {
            continue;
        }
        if let Observed::Known(a) = &parts.attached_policies {
            attached_everywhere.extend(a.iter().cloned());
        }
        out.roles.insert(Role {
            meta: meta(ctx, "iam:role", &parts.name, &parts.arn, tags),
            path: parts.path,
            trust_policy: parts.trust_policy,
            inline_policies: parts.inline_policies,
            attached_policies: parts.attached_policies,
        });
    }
    let policy_tags = || Observed::Unknown("not read: managed policies are judged through the roles that attach them".into());
    let aws_managed: Vec<String> = attached_everywhere.iter().filter(|a| a.contains(":iam::aws:policy/")).cloned().collect();
    for arn in attached_everywhere.iter().filter(|a| !a.contains(":iam::aws:policy/")) {
        let doc =
            local.get(arn).cloned().unwrap_or_else(|| Observed::Unknown(format!("policy {arn}: attached but not returned by GetAccountAuthorizationDetails")));
        let name = arn.rsplit('/').next().unwrap_or(arn).to_string();
        out.policies.insert(Policy { meta: meta(ctx, "iam:policy", &name, arn, policy_tags()), aws_managed: false, document: doc });
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
        out.policies.insert(Policy { meta: meta(ctx, "iam:policy", &name, &arn, policy_tags()), aws_managed: true, document: doc.into() });
    }
    out
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
}
