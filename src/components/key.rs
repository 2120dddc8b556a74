//! `[keys.<id>]`: a customer-managed KMS key and its alias `alias/<project>-<stack>-<id>`.
//! Its policy lets only the services whose components reference it use it (`kms:ViaService`),
//! and CloudWatch Logs only when a log group of the stack is encrypted with it.

use super::{desired_ids, Component, Cx, Kind, Output, Problem, Reference};
use crate::error::{Error, Result, SdkResultExt};
use crate::model::kms::Manager;
use crate::model::{Observed, State};
use crate::provision::{attrs, diff, tag_changes, Attrs, Change, Ctx, Found, Node};
use crate::vocab::policy::{self, KeyUses};
use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Key {
    /// Automatic key rotation.
    pub rotation: bool,
    /// Rotation period in days (90–2560).
    pub rotation_period_days: u32,
    /// Waiting period before a destroyed key is deleted (7–30 days).
    pub deletion_window_days: u32,
}

impl Default for Key {
    fn default() -> Self {
        Key { rotation: true, rotation_period_days: 365, deletion_window_days: 7 }
    }
}

/// What references to this key use it for: each referrer's `via` service.
pub fn uses(cx: &Cx) -> KeyUses {
    let mut uses = KeyUses::default();
    for i in cx.stack.instances() {
        for r in i.component.references().into_iter().filter(|r| r.target == cx.id) {
            match r.via {
                Some("logs") => uses.logs = true,
                Some(service) => {
                    uses.services.insert(service.to_string());
                }
                None => {}
            }
        }
    }
    uses
}

impl Component for Key {
    const KIND: Kind = Kind::Key;

    fn references(&self) -> Vec<Reference> {
        vec![]
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        let mut out = Vec::new();
        if !(7..=30).contains(&self.deletion_window_days) {
            out.push(cx.problem("deletion_window_days", format!("must be between 7 and 30 (got {})", self.deletion_window_days)));
        }
        if !(90..=2560).contains(&self.rotation_period_days) {
            out.push(cx.problem("rotation_period_days", format!("must be between 90 and 2560 (got {})", self.rotation_period_days)));
        }
        if cx.stack.referrers(cx.id).is_empty() {
            out.push(cx.problem("", "is not used by any component: remove it, or name it in a component's `key`"));
        }
        out
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        let alias = cx.stack.id.key_alias(cx.id);
        let key = KeyNode { spec: self.clone(), alias: alias.clone(), uses: uses(cx) };
        let alias_id = format!("{}-alias", cx.id);
        vec![cx.node(cx.id, key, &[]), cx.node(alias_id, AliasNode { key: cx.id.to_string(), alias }, &[cx.id])]
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        let region = cx.region();
        let alias = cx.stack.id.key_alias(cx.id);
        let account = super::DESIRED_ACCOUNT;
        st.kms.keys.insert(crate::model::kms::Key {
            meta: cx.meta("kms:key", cx.id, cx.id, desired_ids::key_arn(&region, cx.id), &alias, ""),
            manager: Observed::Known(Manager::Customer),
            state: Observed::Known("Enabled".into()),
            key_spec: Observed::Known("SYMMETRIC_DEFAULT".into()),
            rotation_enabled: Observed::Known(self.rotation),
            policy: Observed::Known(key_policy(cx, &region, account)),
            aliases: Observed::Known(vec![alias.clone()]),
        });
        // the stack file is the whole "listing" of its region's aliases
        let all = st.kms.aliases.entry(region).or_insert_with(|| Observed::Known(BTreeMap::new()));
        if let Observed::Known(m) = all {
            m.insert(alias, cx.id.to_string());
        }
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        vec![Output { name: cx.at("arn"), node: cx.id.to_string(), attr: "arn".into() }]
    }
}

/// The key's policy in `account` (provision, the desired State and drift use this one).
pub fn key_policy(cx: &Cx, region: &str, account: &str) -> serde_json::Value {
    policy::key_policy_for(&cx.name(cx.id), &cx.stack.id.log_group_prefix(), &uses(cx), "aws", region, account)
}

/// Drift of the stack's keys: rotation and policy (by meaning).
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.kms.keys, &live.kms.keys, |d, w, g| {
        // a key scheduled for deletion is gone for the stack: that is the drift, not its settings
        if g.is_pending_deletion() == Some(true) {
            let at = d.setting(&w.meta, "");
            return d.field(&g.meta, "state", &at, serde_json::json!("Enabled"), serde_json::json!(g.state.known()));
        }
        let at = d.setting(&w.meta, "rotation");
        d.observed(&g.meta, "rotation_enabled", &at, serde_json::json!(w.rotation_enabled.known()), &g.rotation_enabled);
        let at = d.setting(&w.meta, "");
        let want = w.policy.known().map(|p| crate::drift::with_account(p, &g.meta.account));
        match (g.policy.get(), want) {
            (Ok(p), Some(want)) if policy::normalize(p) != policy::normalize(&want) => {
                d.field(&g.meta, "policy", &at, serde_json::json!("the stack's key policy"), serde_json::json!("a different policy"))
            }
            (Ok(_), _) => {}
            (Err(e), _) => d.unknown(&g.meta, "policy", &at, e),
        }
    });
}

#[derive(Debug, Clone)]
struct KeyNode {
    spec: Key,
    alias: String,
    uses: KeyUses,
}

#[derive(Debug, Clone)]
struct AliasNode {
    /// The key's node id.
    key: String,
    alias: String,
}

crate::node_ops!(KeyNode, "kms:key");
crate::node_ops!(AliasNode, "kms:alias");

fn kms_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter().map(|(k, v)| Ok(Tag::builder().tag_key(k).tag_value(v).build()?)).collect()
}

/// The alias's target key id, if the alias exists.
async fn alias_target(ctx: &Ctx, name: &str) -> Result<Option<String>> {
    let mut pages = ctx.clients.kms.list_aliases().into_paginator().items().send();
    while let Some(alias) = pages.next().await {
        let alias = alias.ctx("kms", "ListAliases", name)?;
        if alias.alias_name() == Some(name) {
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

impl KeyNode {
    fn policy(&self, ctx: &Ctx, id: &str) -> serde_json::Value {
        policy::key_policy_for(&ctx.name(id), &ctx.stack.id.log_group_prefix(), &self.uses, &ctx.partition, &ctx.region, &ctx.account)
    }

    /// Find the stack's key: through its alias, else (after an interrupted run that created the
    /// key but not the alias) by its tags. The alias is found by name, so its key is adopted
    /// only when it carries the stack's tags (`strict`; destroy only skips a foreign key). Two
    /// tagged keys for one logical id are an error naming both.
    async fn find(&self, ctx: &Ctx, id: &str, strict: bool) -> Result<Option<(String, String)>> {
        if let Some(target) = alias_target(ctx, &self.alias).await? {
            if let Some((key_id, arn)) = usable_key(ctx, &target).await? {
                let tags = key_tags(ctx, &key_id).await?;
                let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                if ctx.owns(id, pairs.clone()) {
                    return Ok(Some((key_id, arn)));
                }
                if strict {
                    ctx.claim(id, "kms:key", &format!("{key_id} (the target of {})", self.alias), pairs)?;
                }
                tracing::warn!("{} points at key {key_id}, which does not carry this stack's tags; left alone", self.alias);
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

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some((key_id, arn)) = self.find(ctx, id, true).await? else { return Ok(Found::Absent) };
        let kms = &ctx.clients.kms;
        let mut changes: Vec<Change> = Vec::new();
        let rotation = kms.get_key_rotation_status().key_id(&key_id).send().await.ctx("kms", "GetKeyRotationStatus", &key_id)?;
        diff(&mut changes, "rotation", self.spec.rotation, rotation.key_rotation_enabled());
        let pol = kms.get_key_policy().key_id(&key_id).policy_name("default").send().await.ctx("kms", "GetKeyPolicy", &key_id)?;
        if !policy::same(pol.policy().unwrap_or_default(), &self.policy(ctx, id)) {
            changes.push(Change::new("policy", "stack key policy", "different policy"));
        }
        let tags = key_tags(ctx, &key_id).await?;
        changes.extend(tag_changes(&ctx.tags(id, &ctx.name(id)), tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        Ok(Found::Present { attrs: attrs([("id", key_id), ("arn", arn)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let kms = &ctx.clients.kms;
        let policy_doc = self.policy(ctx, id).to_string();
        let tags = ctx.tags(id, &ctx.name(id));
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
                    .description(format!("{} (tapaudit)", ctx.name(id)))
                    .key_usage(KeyUsageType::EncryptDecrypt)
                    .key_spec(KeySpec::SymmetricDefault)
                    .policy(&policy_doc)
                    .set_tags(Some(kms_tags(&tags)?))
                    .send()
                    .await
                    .ctx("kms", "CreateKey", id)?;
                let meta = out.key_metadata().ok_or_else(|| Error::usage("kms CreateKey returned no key metadata"))?;
                (meta.key_id().to_string(), meta.arn().unwrap_or_default().to_string())
            }
        };
        if self.spec.rotation {
            kms.enable_key_rotation().key_id(&key_id).rotation_period_in_days(self.spec.rotation_period_days as i32).send().await.ctx(
                "kms",
                "EnableKeyRotation",
                &key_id,
            )?;
        } else {
            kms.disable_key_rotation().key_id(&key_id).send().await.ctx("kms", "DisableKeyRotation", &key_id)?;
        }
        Ok(attrs([("id", key_id), ("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some((key_id, _)) = self.find(ctx, id, false).await? else { return Ok(None) };
        ctx.clients.kms.schedule_key_deletion().key_id(&key_id).pending_window_in_days(self.spec.deletion_window_days as i32).send().await.ctx(
            "kms",
            "ScheduleKeyDeletion",
            &key_id,
        )?;
        Ok(Some(key_id))
    }
}

impl AliasNode {
    async fn inspect(&self, ctx: &Ctx, _id: &str) -> Result<Found> {
        let Some(target) = alias_target(ctx, &self.alias).await? else { return Ok(Found::Absent) };
        let mut changes = Vec::new();
        if let Some(key_id) = ctx.get(&self.key, "id") {
            diff(&mut changes, "alias.target", key_id, target.clone());
        }
        Ok(Found::Present { attrs: attrs([("name", self.alias.clone()), ("target", target)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, _id: &str, found: &Found) -> Result<Attrs> {
        let key_id = ctx.need(&self.key, "id")?;
        let name = &self.alias;
        let kms = &ctx.clients.kms;
        match found {
            Found::Absent => kms.create_alias().alias_name(name).target_key_id(&key_id).send().await.map(|_| ()).ctx("kms", "CreateAlias", name)?,
            Found::Present { .. } => kms.update_alias().alias_name(name).target_key_id(&key_id).send().await.map(|_| ()).ctx("kms", "UpdateAlias", name)?,
        }
        Ok(attrs([("name", name.clone()), ("target", key_id)]))
    }

    async fn delete(&self, ctx: &Ctx, _id: &str) -> Result<Option<String>> {
        let name = &self.alias;
        let Some(target) = alias_target(ctx, name).await? else { return Ok(None) };
        // only this stack's alias pointing at this stack's key
        let tags = key_tags(ctx, &target).await.unwrap_or_default();
        if !ctx.owns(&self.key, tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            return Ok(None);
        }
        ctx.clients.kms.delete_alias().alias_name(name).send().await.ctx("kms", "DeleteAlias", name)?;
        Ok(Some(name.clone()))
    }
}
