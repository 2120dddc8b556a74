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
    // AWS-managed keys stay in scope: resources of the stack may be encrypted with them, and
    // controls must see that (fail), not miss the key (error)
    if customer && !ctx.scope.wants(&tags) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::{calls, ctx};
    use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
    use aws_sdk_kms::operation::get_key_policy::GetKeyPolicyOutput;
    use aws_sdk_kms::operation::get_key_rotation_status::{GetKeyRotationStatusError, GetKeyRotationStatusOutput};
    use aws_sdk_kms::operation::list_aliases::ListAliasesOutput;
    use aws_sdk_kms::operation::list_keys::ListKeysOutput;
    use aws_sdk_kms::operation::list_resource_tags::ListResourceTagsOutput;
    use aws_sdk_kms::types::{AliasListEntry, KeyListEntry, KeyManagerType, KeyMetadata, KeySpec, KeyState, Tag};
    use aws_sdk_kms::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use std::time::Duration;

    fn metadata(id: &str) -> KeyMetadata {
        KeyMetadata::builder()
            .key_id(id)
            .arn(format!("arn:aws:kms:us-east-1:123456789012:key/{id}"))
            .key_manager(KeyManagerType::Customer)
            .key_state(KeyState::Enabled)
            .key_spec(KeySpec::SymmetricDefault)
            .build()
            .unwrap()
    }

    fn client(rules: &[&aws_smithy_mocks::Rule]) -> Client {
        mock_client!(aws_sdk_kms, RuleMode::MatchAny, rules, |c| c.retry_config(
            aws_config::retry::RetryConfig::standard().with_max_attempts(4).with_initial_backoff(Duration::from_millis(1))
        ))
    }

    #[tokio::test]
    async fn follows_pagination_retries_throttling_and_maps_every_field() {
        let page1 = mock!(Client::list_keys).match_requests(|r| r.marker().is_none()).then_output(|| {
            ListKeysOutput::builder().keys(KeyListEntry::builder().key_id("k1").build()).truncated(true).next_marker("m1").build()
        });
        let page2 = mock!(Client::list_keys)
            .match_requests(|r| r.marker() == Some("m1"))
            .then_output(|| ListKeysOutput::builder().keys(KeyListEntry::builder().key_id("k2").build()).truncated(false).build());
        let aliases = mock!(Client::list_aliases).then_output(|| {
            ListAliasesOutput::builder().aliases(AliasListEntry::builder().alias_name("alias/data").target_key_id("k1").build()).build()
        });
        // throttled twice, then answered: the standard retry gets through
        let describe_k1 = mock!(Client::describe_key)
            .match_requests(|r| r.key_id() == Some("k1"))
            .sequence()
            .http_status(400, Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()))
            .times(2)
            .output(|| DescribeKeyOutput::builder().key_metadata(metadata("k1")).build())
            .build();
        let describe_k2 = mock!(Client::describe_key)
            .match_requests(|r| r.key_id() == Some("k2"))
            .then_output(|| DescribeKeyOutput::builder().key_metadata(metadata("k2")).build());
        let tags = mock!(Client::list_resource_tags).then_output(|| {
            ListResourceTagsOutput::builder().tags(Tag::builder().tag_key("tapaudit:stack").tag_value("dev").build().unwrap()).build()
        });
        let rotation_k1 = mock!(Client::get_key_rotation_status)
            .match_requests(|r| r.key_id() == Some("k1"))
            .then_output(|| GetKeyRotationStatusOutput::builder().key_rotation_enabled(true).build());
        let rotation_k2 = mock!(Client::get_key_rotation_status).match_requests(|r| r.key_id() == Some("k2")).then_error(|| {
            GetKeyRotationStatusError::generic(aws_smithy_types::error::ErrorMetadata::builder().code("AccessDeniedException").message("not allowed").build())
        });
        let policy = mock!(Client::get_key_policy)
            .match_requests(|r| r.policy_name() == Some("default"))
            .then_output(|| GetKeyPolicyOutput::builder().policy(r#"{"Version":"2012-10-17","Statement":[]}"#).build());
        let kms = client(&[&page1, &page2, &aliases, &describe_k1, &describe_k2, &tags, &rotation_k1, &rotation_k2, &policy]);
        let c = ctx(|cl| cl.kms = kms);
        let out = collect(&c).await;

        assert_eq!(out.keys.len(), 2, "both pages collected");
        assert!(out.keys.failures.is_empty());
        assert_eq!(calls(&c, "kms", "ListKeys"), 2, "one counted call per page");
        assert_eq!(describe_k1.num_calls(), 3, "two throttled attempts, one success");
        let k1 = &out.keys.items["arn:aws:kms:us-east-1:123456789012:key/k1"];
        assert_eq!(k1.manager, "CUSTOMER");
        assert_eq!(k1.state, "Enabled");
        assert_eq!(k1.key_spec, "SYMMETRIC_DEFAULT");
        assert_eq!(k1.rotation_enabled, Observed::Known(true));
        assert_eq!(k1.aliases, vec!["alias/data".to_string()]);
        assert_eq!(k1.meta.name.as_deref(), Some("alias/data"));
        assert_eq!(k1.meta.stack(), Some("dev"));
        assert_eq!(k1.policy, Observed::Known(serde_json::json!({"Version":"2012-10-17","Statement":[]})));
        // an unreadable field is Unknown with the reason, never a default
        let k2 = &out.keys.items["arn:aws:kms:us-east-1:123456789012:key/k2"];
        match &k2.rotation_enabled {
            Observed::Unknown(reason) => assert!(reason.contains("AccessDeniedException"), "{reason}"),
            other => panic!("rotation must be Unknown, got {other:?}"),
        }
        let (_, errors) = c.rec.finish(Default::default(), Default::default());
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].operation.as_str(), errors[0].code.as_str()), ("GetKeyRotationStatus", "AccessDeniedException"));
    }

    #[tokio::test]
    async fn a_failed_listing_is_a_collection_failure() {
        let denied = mock!(Client::list_keys).then_error(|| {
            aws_sdk_kms::operation::list_keys::ListKeysError::generic(aws_smithy_types::error::ErrorMetadata::builder().code("AccessDeniedException").build())
        });
        let kms = client(&[&denied]);
        let c = ctx(|cl| cl.kms = kms);
        let out = collect(&c).await;
        assert!(out.keys.is_empty());
        assert_eq!(out.keys.failures.len(), 1);
        assert!(out.keys.failed_in("us-east-1").unwrap().contains("AccessDeniedException"));
    }
}
