//! KMS: keys (manager, state, spec), rotation status, key policy, tags, aliases.

use super::{fan_out, tag_map, Ctx};
use crate::model::kms::{Key, Kms};
use crate::model::Observed;
use std::collections::BTreeMap;

pub async fn collect(ctx: &Ctx) -> Kms {
    let mut out = Kms::default();
    let kms = &ctx.clients.kms;
    let pages = match ctx.pages("kms", "ListKeys", kms.list_keys().into_paginator().send()).await {
        Ok(p) => p,
        Err(e) => {
            out.keys.fail(&ctx.region, e);
            return out;
        }
    };
    let ids: Vec<String> = pages.iter().flat_map(|p| p.keys()).filter_map(|k| k.key_id().map(str::to_string)).collect();
    let aliases = match ctx.pages("kms", "ListAliases", kms.list_aliases().into_paginator().send()).await {
        Ok(pages) => {
            let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for a in pages.iter().flat_map(|p| p.aliases()) {
                if let (Some(name), Some(target)) = (a.alias_name(), a.target_key_id()) {
                    m.entry(target.to_string()).or_default().push(name.to_string());
                }
            }
            m
        }
        Err(_) => BTreeMap::new(),
    };
    let keys = fan_out(ctx, ids, |id| key(ctx, id, &aliases)).await;
    for k in keys.into_iter().flatten() {
        out.keys.insert(k);
    }
    out
}

async fn key(ctx: &Ctx, id: String, aliases: &BTreeMap<String, Vec<String>>) -> Option<Key> {
    let kms = &ctx.clients.kms;
    let described = ctx.call("kms", "DescribeKey", Some(&id), kms.describe_key().key_id(&id).send()).await;
    let arn = ctx.arn("kms", &format!("key/{id}"));
    let Ok(d) = described else {
        // the key exists (it was listed) but nothing about it is known
        let reason = described.err().unwrap_or_default();
        return Some(Key {
            meta: ctx.meta("kms:key", &id, arn, None, Observed::Unknown(reason.clone())),
            manager: "UNKNOWN".into(),
            state: "UNKNOWN".into(),
            key_spec: "UNKNOWN".into(),
            rotation_enabled: Observed::Unknown(reason.clone()),
            policy: Observed::Unknown(reason),
            aliases: aliases.get(&id).cloned().unwrap_or_default(),
        });
    };
    let m = d.key_metadata()?;
    let manager = m.key_manager().map(|x| x.as_str().to_string()).unwrap_or_default();
    let customer = manager == "CUSTOMER";
    let tags = if customer {
        ctx.call("kms", "ListResourceTags", Some(&id), kms.list_resource_tags().key_id(&id).send())
            .await
            .map(|t| tag_map(t.tags().iter().map(|t| (t.tag_key(), t.tag_value()))))
            .into()
    } else {
        Observed::Known(BTreeMap::new()) // AWS-managed keys cannot carry tags
    };
    if !ctx.scope.wants(&tags) {
        return None;
    }
    let state = m.key_state().map(|s| s.as_str().to_string()).unwrap_or_default();
    let spec = m.key_spec().map(|s| s.as_str().to_string()).unwrap_or_default();
    let rotation = if customer && spec == "SYMMETRIC_DEFAULT" && state != "PendingDeletion" {
        ctx.call("kms", "GetKeyRotationStatus", Some(&id), kms.get_key_rotation_status().key_id(&id).send())
            .await
            .map(|r| r.key_rotation_enabled())
            .into()
    } else {
        Observed::Unknown(format!("not read: rotation does not apply to a {manager} {spec} key in state {state}"))
    };
    let policy = if customer {
        ctx.call("kms", "GetKeyPolicy", Some(&id), kms.get_key_policy().key_id(&id).policy_name("default").send())
            .await
            .and_then(|p| serde_json::from_str(p.policy().unwrap_or("{}")).map_err(|e| format!("kms:GetKeyPolicy returned unparsable JSON: {e}")))
            .into()
    } else {
        Observed::Unknown("not read: AWS-managed key policy".into())
    };
    let name = aliases.get(&id).and_then(|a| a.first()).cloned();
    Some(Key {
        meta: ctx.meta("kms:key", &id, m.arn().map(str::to_string).unwrap_or(arn), name, tags),
        manager,
        state,
        key_spec: spec,
        rotation_enabled: rotation,
        policy,
        aliases: aliases.get(&id).cloned().unwrap_or_default(),
    })
}
