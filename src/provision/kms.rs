//! The customer-managed data key and its alias.

use super::{attrs, diff, policy, tag_changes, Attrs, Change, Ctx, Found};
use crate::error::{Result, SdkResultExt};
use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};
use std::collections::BTreeMap;

pub fn alias_name(ctx: &Ctx) -> String {
    super::names::key_alias(&ctx.stack)
}

fn kms_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter().map(|(k, v)| Ok(Tag::builder().tag_key(k).tag_value(v).build()?)).collect()
}

/// The alias's target key id, if the alias exists.
async fn alias_target(ctx: &Ctx) -> Result<Option<String>> {
    let name = alias_name(ctx);
    let mut pages = ctx.clients.kms.list_aliases().into_paginator().items().send();
    while let Some(alias) = pages.next().await {
        let alias = alias.ctx("kms", "ListAliases", &name)?;
        if alias.alias_name() == Some(name.as_str()) {
            return Ok(alias.target_key_id().map(str::to_string));
        }
    }
    Ok(None)
}

async fn key_tags(ctx: &Ctx, key_id: &str) -> Result<Vec<(String, String)>> {
    let out = ctx.clients.kms.list_resource_tags().key_id(key_id).send().await.ctx("kms", "ListResourceTags", key_id)?;
    Ok(out.tags().iter().map(|t| (t.tag_key().to_string(), t.tag_value().to_string())).collect())
}

/// A usable (not pending deletion) key: its id and ARN.
async fn usable_key(ctx: &Ctx, key_id: &str) -> Result<Option<(String, String)>> {
    let out = ctx.clients.kms.describe_key().key_id(key_id).send().await.found("kms", "DescribeKey", key_id, &["NotFoundException"])?;
    let Some(meta) = out.as_ref().and_then(|o| o.key_metadata()) else { return Ok(None) };
    let gone = matches!(meta.key_state(), Some(KeyState::PendingDeletion) | Some(KeyState::PendingReplicaDeletion));
    Ok((!gone).then(|| (meta.key_id().to_string(), meta.arn().unwrap_or_default().to_string())))
}

/// Find the stack's key: through its alias, else (after an interrupted run that created the
/// key but not the alias) by its tags. The alias is found by name, so its key is adopted only
/// when it carries the stack's tags (`strict`; destroy only skips a foreign key). Two tagged
/// keys for one logical id are an error naming both.
async fn find_key(ctx: &Ctx, id: &str, strict: bool) -> Result<Option<(String, String)>> {
    if let Some(target) = alias_target(ctx).await? {
        if let Some((key_id, arn)) = usable_key(ctx, &target).await? {
            let tags = key_tags(ctx, &key_id).await?;
            let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            if ctx.owns(id, pairs.clone()) {
                return Ok(Some((key_id, arn)));
            }
            if strict {
                ctx.claim(id, "kms:key", &format!("{key_id} (the target of {})", alias_name(ctx)), pairs)?;
            }
            tracing::warn!("{} points at key {key_id}, which does not carry this stack's tags; left alone", alias_name(ctx));
        }
    }
    let mut pages = ctx.clients.kms.list_keys().into_paginator().items().send();
    let mut candidates = Vec::new();
    while let Some(entry) = pages.next().await {
        let entry = entry.ctx("kms", "ListKeys", "")?;
        if let Some(key_id) = entry.key_id() {
            candidates.push(key_id.to_string());
        }
    }
    let mut owned = Vec::new();
    for key_id in candidates {
        let tags = key_tags(ctx, &key_id).await?;
        if ctx.owns(id, tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            if let Some(k) = usable_key(ctx, &key_id).await? {
                owned.push(k);
            }
        }
    }
    ctx.single(id, "kms:key", owned, |(key_id, _)| key_id.clone())
}

pub async fn inspect_key(ctx: &Ctx, id: &str) -> Result<Found> {
    let Some((key_id, arn)) = find_key(ctx, id, true).await? else { return Ok(Found::Absent) };
    let kms = &ctx.clients.kms;
    let mut changes: Vec<Change> = Vec::new();
    let rotation = kms.get_key_rotation_status().key_id(&key_id).send().await.ctx("kms", "GetKeyRotationStatus", &key_id)?;
    diff(&mut changes, "kms.rotation", ctx.stack.spec.kms.rotation, rotation.key_rotation_enabled());
    let pol = kms.get_key_policy().key_id(&key_id).policy_name("default").send().await.ctx("kms", "GetKeyPolicy", &key_id)?;
    if !policy::same(pol.policy().unwrap_or_default(), &policy::key_policy(ctx)) {
        changes.push(Change::new("kms.policy", "stack key policy", "different policy"));
    }
    let tags = key_tags(ctx, &key_id).await?;
    changes.extend(tag_changes(&ctx.tags(id, &ctx.name("data-key")), tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    Ok(Found::Present { attrs: key_attrs(key_id, arn), changes })
}

fn key_attrs(key_id: String, arn: String) -> Attrs {
    attrs([("id", key_id), ("arn", arn)])
}

pub async fn apply_key(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let kms = &ctx.clients.kms;
    let policy_doc = policy::key_policy(ctx).to_string();
    let tags = ctx.tags(id, &ctx.name("data-key"));
    let (key_id, arn) = match found {
        Found::Present { attrs, .. } => {
            let key_id = attrs["id"].clone();
            kms.put_key_policy().key_id(&key_id).policy_name("default").policy(&policy_doc).send().await.ctx("kms", "PutKeyPolicy", &key_id)?;
            kms.tag_resource().key_id(&key_id).set_tags(Some(kms_tags(&tags)?)).send().await.ctx("kms", "TagResource", &key_id)?;
            (key_id, attrs["arn"].clone())
        }
        Found::Absent => {
            let out = kms
                .create_key()
                .description(format!("{} data key (tapaudit)", ctx.stack.prefix()))
                .key_usage(KeyUsageType::EncryptDecrypt)
                .key_spec(KeySpec::SymmetricDefault)
                .policy(&policy_doc)
                .set_tags(Some(kms_tags(&tags)?))
                .send()
                .await
                .ctx("kms", "CreateKey", id)?;
            let meta = out.key_metadata().ok_or_else(|| crate::error::Error::usage("kms CreateKey returned no key metadata"))?;
            (meta.key_id().to_string(), meta.arn().unwrap_or_default().to_string())
        }
    };
    let k = &ctx.stack.spec.kms;
    if k.rotation {
        kms.enable_key_rotation().key_id(&key_id).rotation_period_in_days(k.rotation_period_days as i32).send().await.ctx(
            "kms",
            "EnableKeyRotation",
            &key_id,
        )?;
    } else {
        kms.disable_key_rotation().key_id(&key_id).send().await.ctx("kms", "DisableKeyRotation", &key_id)?;
    }
    Ok(key_attrs(key_id, arn))
}

pub async fn delete_key(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let Some((key_id, _)) = find_key(ctx, id, false).await? else { return Ok(None) };
    ctx.clients.kms.schedule_key_deletion().key_id(&key_id).pending_window_in_days(ctx.stack.spec.kms.deletion_window_days as i32).send().await.ctx(
        "kms",
        "ScheduleKeyDeletion",
        &key_id,
    )?;
    Ok(Some(key_id))
}

pub async fn inspect_alias(ctx: &Ctx) -> Result<Found> {
    let Some(target) = alias_target(ctx).await? else { return Ok(Found::Absent) };
    let mut changes = Vec::new();
    if let Some(key_id) = ctx.get("data-key", "id") {
        diff(&mut changes, "kms.alias.target", key_id, target.clone());
    }
    Ok(Found::Present { attrs: attrs([("name", alias_name(ctx)), ("target", target)]), changes })
}

pub async fn apply_alias(ctx: &Ctx, found: &Found) -> Result<Attrs> {
    let key_id = ctx.need("data-key", "id")?;
    let name = alias_name(ctx);
    let kms = &ctx.clients.kms;
    match found {
        Found::Absent => kms.create_alias().alias_name(&name).target_key_id(&key_id).send().await.map(|_| ()).ctx("kms", "CreateAlias", &name)?,
        Found::Present { .. } => kms.update_alias().alias_name(&name).target_key_id(&key_id).send().await.map(|_| ()).ctx("kms", "UpdateAlias", &name)?,
    }
    Ok(attrs([("name", name), ("target", key_id)]))
}

pub async fn delete_alias(ctx: &Ctx) -> Result<Option<String>> {
    let name = alias_name(ctx);
    let Some(target) = alias_target(ctx).await? else { return Ok(None) };
    // only this stack's alias pointing at this stack's key
    let tags = key_tags(ctx, &target).await.unwrap_or_default();
    if !ctx.owns("data-key", tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        return Ok(None);
    }
    ctx.clients.kms.delete_alias().alias_name(&name).send().await.ctx("kms", "DeleteAlias", &name)?;
    Ok(Some(name))
}
