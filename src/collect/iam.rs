//! IAM (global): roles with trust, inline and attached policies and tags from one paginated
//! GetAccountAuthorizationDetails; AWS-managed policies attached to roles in scope are read
//! once each (GetPolicy + GetPolicyVersion).

use super::{fan_out, tag_map, Ctx};
use crate::model::iam::{Iam, Policy, Role};
use crate::model::{Meta, Observed};
use aws_sdk_iam::types::EntityType;
use std::collections::{BTreeMap, BTreeSet};

fn parse(doc: Option<&str>) -> Result<serde_json::Value, String> {
    let raw = doc.ok_or("no document returned")?;
    crate::provision::policy::parse_document(raw).ok_or_else(|| "policy document is not JSON".to_string())
}

fn meta(ctx: &Ctx, resource_type: &str, id: &str, arn: &str, tags: Observed<BTreeMap<String, String>>) -> Meta {
    let mut m = ctx.meta(resource_type, id, arn.to_string(), Some(id.to_string()), tags);
    m.region = "global".to_string();
    m
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
    let mut local: BTreeMap<String, Observed<serde_json::Value>> = BTreeMap::new();
    for p in pages.iter().flat_map(|p| p.policies()) {
        let doc = p.policy_version_list().iter().find(|v| v.is_default_version()).map(|v| parse(v.document()));
        local.insert(p.arn().unwrap_or_default().to_string(), doc.unwrap_or(Err("no default version".into())).into());
    }
    let mut attached_everywhere: BTreeSet<String> = BTreeSet::new();
    for r in pages.iter().flat_map(|p| p.role_detail_list()) {
        let tags = Observed::Known(tag_map(r.tags().iter().map(|t| (t.key(), t.value()))));
        if !ctx.scope.wants(&tags) {
            continue;
        }
        let name = r.role_name().unwrap_or_default();
        let inline: Result<BTreeMap<String, serde_json::Value>, String> = r
            .role_policy_list()
            .iter()
            .map(|p| Ok((p.policy_name().unwrap_or_default().to_string(), parse(p.policy_document())?)))
            .collect();
        let attached: Vec<String> = r.attached_managed_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect();
        attached_everywhere.extend(attached.iter().cloned());
        out.roles.insert(Role {
            meta: meta(ctx, "iam:role", name, r.arn().unwrap_or_default(), tags),
            path: r.path().unwrap_or("/").to_string(),
            trust_policy: parse(r.assume_role_policy_document()).into(),
            inline_policies: inline.into(),
            attached_policies: Observed::Known(attached),
        });
    }
    let aws_managed: Vec<String> = attached_everywhere.iter().filter(|a| a.contains(":iam::aws:policy/")).cloned().collect();
    for arn in attached_everywhere.iter().filter(|a| !a.contains(":iam::aws:policy/")) {
        let doc = local.get(arn).cloned().unwrap_or_else(|| Observed::Unknown("policy not returned by GetAccountAuthorizationDetails".into()));
        let name = arn.rsplit('/').next().unwrap_or(arn).to_string();
        out.policies.insert(Policy { meta: meta(ctx, "iam:policy", &name, arn, Observed::Known(BTreeMap::new())), aws_managed: false, document: doc });
    }
    let docs = fan_out(ctx, aws_managed, |arn| async move {
        let p = ctx.call("iam", "GetPolicy", Some(&arn), iam.get_policy().policy_arn(&arn).send()).await;
        let doc = match p {
            Err(e) => Err(e),
            Ok(p) => {
                let version = p.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_string();
                ctx.call("iam", "GetPolicyVersion", Some(&arn), iam.get_policy_version().policy_arn(&arn).version_id(&version).send())
                    .await
                    .and_then(|v| parse(v.policy_version().and_then(|v| v.document())))
            }
        };
        (arn, doc)
    })
    .await;
    for (arn, doc) in docs {
        let name = arn.rsplit('/').next().unwrap_or(&arn).to_string();
        out.policies.insert(Policy { meta: meta(ctx, "iam:policy", &name, &arn, Observed::Known(BTreeMap::new())), aws_managed: true, document: doc.into() });
    }
    out
}
