//! KMS: keys (manager, state, spec), rotation status, key policy, tags, aliases.
//!
//! Calls: ListKeys (Limit=1000) and ListAliases (Limit=100) pages, then per key DescribeKey;
//! per customer key GetKeyPolicy, GetKeyRotationStatus (symmetric, not pending deletion) and,
//! only in a stack-scoped scan (scope needs them), ListResourceTags. See bench/minimum-calls.md.

use super::{tag_map, Ctx};
use crate::model::kms::{Key, Kms, Manager};
use crate::model::Observed;
use aws_sdk_kms::types::KeyManagerType;
use std::collections::BTreeMap;

pub async fn collect(ctx: &Ctx) -> Kms {
    let mut out = Kms::default();
    let kms = &ctx.clients.kms;
    // aliases first: each key's description needs them, and starts while ListKeys pages on
    let aliases: Observed<BTreeMap<String, String>> = ctx
        .pages("kms", "ListAliases", kms.list_aliases().limit(100).into_paginator().send())
        .await
        .map(|pages| {
            // aliases without a target (AWS-managed aliases not yet created) name no key
            pages.iter().flat_map(|p| p.aliases()).filter_map(|a| Some((a.alias_name()?.to_string(), a.target_key_id()?.to_string()))).collect()
        })
        .into();
    let by_key: Observed<BTreeMap<String, Vec<String>>> = aliases.clone().map(|m| {
        let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (alias, target) in m {
            by.entry(target).or_default().push(alias);
        }
        by
    });
    let ids = |p: &aws_sdk_kms::operation::list_keys::ListKeysOutput| p.keys().iter().filter_map(|k| k.key_id().map(str::to_string)).collect();
    let keys = match ctx.pages_each("kms", "ListKeys", kms.list_keys().limit(1000).into_paginator().send(), ids, |id| key(ctx, id, &by_key)).await {
        Ok(k) => k,
        Err(e) => {
            out.aliases.insert(ctx.region.clone(), Observed::Unknown(e.clone()));
            out.keys.fail(&ctx.region, e);
            return out;
        }
    };
    for k in keys {
        match k {
            Listed::InScope(k) => out.keys.insert(*k),
            Listed::OutOfScope(arn) => {
                out.out_of_scope.insert(arn);
            }
        }
    }
    out.aliases.insert(ctx.region.clone(), aliases);
    out
}

enum Listed {
    InScope(Box<Key>),
    /// A customer key that the stack scope leaves out, by ARN.
    OutOfScope(String),
}

fn key_aliases(by_key: &Observed<BTreeMap<String, Vec<String>>>, id: &str) -> Observed<Vec<String>> {
    match by_key {
        Observed::Known(m) => Observed::Known(m.get(id).cloned().unwrap_or_default()),
        Observed::Unknown(r) => Observed::Unknown(r.clone()),
    }
}

async fn key(ctx: &Ctx, id: String, by_key: &Observed<BTreeMap<String, Vec<String>>>) -> Listed {
    let kms = &ctx.clients.kms;
    let arn = ctx.arn("kms", &format!("key/{id}"));
    let aliases = key_aliases(by_key, &id);
    let name = aliases.known().and_then(|a| a.first()).cloned();
    let described = ctx
        .call("kms", "DescribeKey", Some(&id), kms.describe_key().key_id(&id).send())
        .await
        .and_then(|d| d.key_metadata().cloned().ok_or_else(|| format!("kms:DescribeKey for {id} returned no KeyMetadata")));
    let m = match described {
        Ok(m) => m,
        // the key exists (it was listed) but nothing about it is known: kept, every field Unknown
        Err(reason) => {
            return Listed::InScope(Box::new(Key {
                meta: ctx.meta("kms:key", &id, arn, name, Observed::Unknown(reason.clone())),
                manager: Observed::Unknown(reason.clone()),
                state: Observed::Unknown(reason.clone()),
                key_spec: Observed::Unknown(reason.clone()),
                rotation_enabled: Observed::Unknown(reason.clone()),
                policy: Observed::Unknown(reason),
                aliases,
            }))
        }
    };
    let manager: Observed<Manager> = match m.key_manager() {
        Some(KeyManagerType::Customer) => Observed::Known(Manager::Customer),
        Some(KeyManagerType::Aws) => Observed::Known(Manager::Aws),
        other => Observed::Unknown(format!("kms:DescribeKey for {id} returned KeyManager {other:?}")),
    };
    let customer = manager == Observed::Known(Manager::Customer);
    let arn = m.arn().map(str::to_string).unwrap_or(arn);
    let tags = match manager {
        Observed::Known(Manager::Aws) => Observed::Known(BTreeMap::new()), // AWS-managed keys cannot carry tags
        // account-wide: no verdict reads a key's tags, so they are not read (one call per key saved)
        _ if ctx.scope.account_wide() => Observed::Unknown("not read: an account-wide scan needs no key tags".into()),
        _ => ctx
            .call("kms", "ListResourceTags", Some(&id), kms.list_resource_tags().key_id(&id).send())
            .await
            .map(|t| tag_map(t.tags().iter().map(|t| (t.tag_key(), t.tag_value()))))
            .into(),
    };
    // AWS-managed keys stay in scope: resources of the stack may be encrypted with them, and
    // controls must see that (fail), not miss the key (error)
    if customer && !ctx.scope.wants(&tags) {
        return Listed::OutOfScope(arn);
    }
    let state: Observed<String> = match m.key_state() {
        Some(s) => Observed::Known(s.as_str().to_string()),
        None => Observed::Unknown(format!("kms:DescribeKey for {id} returned no KeyState")),
    };
    let spec: Observed<String> = match m.key_spec() {
        Some(s) => Observed::Known(s.as_str().to_string()),
        None => Observed::Unknown(format!("kms:DescribeKey for {id} returned no KeySpec")),
    };
    let pending = state.known().is_some_and(|s| s == "PendingDeletion" || s == "PendingReplicaDeletion");
    let rotation = if customer && spec.known().is_some_and(|s| s == "SYMMETRIC_DEFAULT") && !pending {
        ctx.call("kms", "GetKeyRotationStatus", Some(&id), kms.get_key_rotation_status().key_id(&id).send()).await.map(|r| r.key_rotation_enabled()).into()
    } else {
        Observed::Unknown("not read: rotation applies only to customer-managed symmetric keys that are not pending deletion".into())
    };
    let policy = if customer {
        ctx.call("kms", "GetKeyPolicy", Some(&id), kms.get_key_policy().key_id(&id).policy_name("default").send())
            .await
            .and_then(|p| {
                let text = p.policy().ok_or_else(|| format!("kms:GetKeyPolicy for {id} returned no Policy"))?;
                serde_json::from_str(text).map_err(|e| format!("kms:GetKeyPolicy for {id} returned unparsable JSON: {e}"))
            })
            .into()
    } else {
        Observed::Unknown("not read: AWS owns the policy of an AWS-managed key".into())
    };
    Listed::InScope(Box::new(Key {
        meta: ctx.meta("kms:key", &id, arn, name, tags),
        manager,
        state,
        key_spec: spec,
        rotation_enabled: rotation,
        policy,
        aliases,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testing::{assert_tags_not_read, calls, ctx, total_calls};
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
        mock_client!(aws_sdk_kms, RuleMode::MatchAny, rules, |c| c
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(4).with_initial_backoff(Duration::from_millis(1))))
    }

    #[tokio::test]
    async fn follows_pagination_retries_throttling_and_maps_every_field() {
        let page1 = mock!(Client::list_keys)
            .match_requests(|r| r.marker().is_none())
            .then_output(|| ListKeysOutput::builder().keys(KeyListEntry::builder().key_id("k1").build()).truncated(true).next_marker("m1").build());
        let page2 = mock!(Client::list_keys)
            .match_requests(|r| r.marker() == Some("m1"))
            .then_output(|| ListKeysOutput::builder().keys(KeyListEntry::builder().key_id("k2").build()).truncated(false).build());
        let aliases = mock!(Client::list_aliases)
            .then_output(|| ListAliasesOutput::builder().aliases(AliasListEntry::builder().alias_name("alias/data").target_key_id("k1").build()).build());
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
        let tags = mock!(Client::list_resource_tags)
            .then_output(|| ListResourceTagsOutput::builder().tags(Tag::builder().tag_key("tapaudit:stack").tag_value("dev").build().unwrap()).build());
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
        let mut c = ctx(|cl| cl.kms = kms);
        // stack-scoped, so the tags are read (the scope needs them)
        c.scope = crate::collect::Scope { stack: Some("dev".into()) };
        let out = collect(&c).await;

        assert_eq!(out.keys.len(), 2, "both pages collected");
        assert!(out.keys.failures.is_empty());
        assert_eq!(calls(&c, "kms", "ListKeys"), 2, "one counted call per page");
        assert_eq!(describe_k1.num_calls(), 3, "two throttled attempts, one success");
        let k1 = &out.keys.items["arn:aws:kms:us-east-1:123456789012:key/k1"];
        assert_eq!(k1.manager, Observed::Known(Manager::Customer));
        assert_eq!(k1.state, Observed::Known("Enabled".to_string()));
        assert_eq!(k1.key_spec, Observed::Known("SYMMETRIC_DEFAULT".to_string()));
        assert_eq!(k1.rotation_enabled, Observed::Known(true));
        assert_eq!(k1.aliases, Observed::Known(vec!["alias/data".to_string()]));
        assert_eq!(out.aliases["us-east-1"], Observed::Known([("alias/data".to_string(), "k1".to_string())].into_iter().collect()));
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
        // aliases are listed first (key descriptions start while ListKeys pages on)
        let aliases = mock!(Client::list_aliases).then_output(|| ListAliasesOutput::builder().build());
        let kms = client(&[&denied, &aliases]);
        let c = ctx(|cl| cl.kms = kms);
        let out = collect(&c).await;
        assert!(out.keys.is_empty());
        assert_eq!(out.keys.failures.len(), 1);
        assert!(out.keys.failed_in("us-east-1").unwrap().contains("AccessDeniedException"));
        assert!(matches!(out.aliases.get("us-east-1"), Some(Observed::Unknown(_))), "the region's aliases are unknown too");
    }

    /// The failure of issue 7: with DescribeKey denied, a key must not look AWS-managed
    /// (not_applicable) — every field is Unknown, so every KMS control says `error`.
    #[tokio::test]
    async fn a_key_that_cannot_be_described_is_unknown_in_every_field() {
        let list =
            mock!(Client::list_keys).then_output(|| ListKeysOutput::builder().keys(KeyListEntry::builder().key_id("k1").build()).truncated(false).build());
        let aliases = mock!(Client::list_aliases).then_output(|| ListAliasesOutput::builder().build());
        let denied = mock!(Client::describe_key).then_error(|| {
            aws_sdk_kms::operation::describe_key::DescribeKeyError::generic(
                aws_smithy_types::error::ErrorMetadata::builder().code("AccessDeniedException").build(),
            )
        });
        let kms = client(&[&list, &aliases, &denied]);
        let c = ctx(|cl| cl.kms = kms);
        let out = collect(&c).await;
        let k = out.keys.iter().next().expect("the listed key is kept");
        assert!(matches!(k.manager, Observed::Unknown(_)));
        assert!(matches!(k.state, Observed::Unknown(_)));
        assert!(matches!(k.key_spec, Observed::Unknown(_)));
        assert!(matches!(k.rotation_enabled, Observed::Unknown(_)));
        // and its controls are `error`: scan::layer_tests (collect does not import controls)
    }

    #[tokio::test]
    async fn out_of_scope_customer_keys_are_remembered_by_arn() {
        let list =
            mock!(Client::list_keys).then_output(|| ListKeysOutput::builder().keys(KeyListEntry::builder().key_id("k1").build()).truncated(false).build());
        let aliases = mock!(Client::list_aliases).then_output(|| ListAliasesOutput::builder().build());
        let describe = mock!(Client::describe_key).then_output(|| DescribeKeyOutput::builder().key_metadata(metadata("k1")).build());
        let tags = mock!(Client::list_resource_tags)
            .then_output(|| ListResourceTagsOutput::builder().tags(Tag::builder().tag_key("tapaudit:stack").tag_value("other").build().unwrap()).build());
        let kms = client(&[&list, &aliases, &describe, &tags]);
        let mut c = ctx(|cl| cl.kms = kms);
        c.scope = crate::collect::Scope { stack: Some("dev".into()) };
        let out = collect(&c).await;
        assert!(out.keys.is_empty());
        assert_eq!(out.out_of_scope.iter().collect::<Vec<_>>(), vec!["arn:aws:kms:us-east-1:123456789012:key/k1"]);
    }

    /// Issue 11: N customer keys in an account-wide scan cost exactly the minimum of
    /// bench/minimum-calls.md: one ListKeys and one ListAliases page, then DescribeKey,
    /// GetKeyPolicy and GetKeyRotationStatus per key. No tag call: the tags are Unknown
    /// ("not read"), never an empty map, and the keys are kept.
    #[tokio::test]
    async fn an_account_wide_scan_makes_three_calls_per_customer_key_and_reads_no_tags() {
        const N: usize = 25;
        let list = mock!(Client::list_keys).match_requests(|r| r.limit() == Some(1000)).then_output(|| {
            let mut b = ListKeysOutput::builder().truncated(false);
            for i in 0..N {
                b = b.keys(KeyListEntry::builder().key_id(format!("k{i}")).build());
            }
            b.build()
        });
        let aliases = mock!(Client::list_aliases).match_requests(|r| r.limit() == Some(100)).then_output(|| ListAliasesOutput::builder().build());
        let describe = mock!(Client::describe_key).then_output(|| DescribeKeyOutput::builder().key_metadata(metadata("k")).build());
        let rotation = mock!(Client::get_key_rotation_status).then_output(|| GetKeyRotationStatusOutput::builder().key_rotation_enabled(true).build());
        let policy = mock!(Client::get_key_policy).then_output(|| GetKeyPolicyOutput::builder().policy(r#"{"Statement":[]}"#).build());
        let tags = mock!(Client::list_resource_tags).then_output(|| ListResourceTagsOutput::builder().build());
        let kms = client(&[&list, &aliases, &describe, &rotation, &policy, &tags]);
        let c = ctx(|cl| cl.kms = kms);
        assert!(c.scope.account_wide());
        let out = collect(&c).await;
        assert_eq!(list.num_calls() + aliases.num_calls(), 2, "the maximum page sizes were requested");
        assert_eq!(calls(&c, "kms", "ListKeys") + calls(&c, "kms", "ListAliases"), 2);
        for op in ["DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus"] {
            assert_eq!(calls(&c, "kms", op), N as u64, "{op}: one per key");
        }
        assert_eq!(calls(&c, "kms", "ListResourceTags"), 0, "no verdict needs a key's tags");
        assert_eq!(tags.num_calls(), 0);
        assert_eq!(total_calls(&c), 2 + 3 * N as u64);
        // the metadata mock names every key k, so the keys collapse onto one ARN; what matters is
        // that each kept key has Unknown tags
        assert!(!out.keys.is_empty());
        assert_tags_not_read(out.keys.iter().map(|k| &k.meta));
    }

    /// A stack-scoped scan still reads each customer key's tags: the scope needs them.
    #[tokio::test]
    async fn a_stack_scoped_scan_reads_one_tag_call_per_customer_key() {
        let list = mock!(Client::list_keys).then_output(|| {
            ListKeysOutput::builder()
                .keys(KeyListEntry::builder().key_id("k1").build())
                .keys(KeyListEntry::builder().key_id("k2").build())
                .truncated(false)
                .build()
        });
        let aliases = mock!(Client::list_aliases).then_output(|| ListAliasesOutput::builder().build());
        let d1 = mock!(Client::describe_key)
            .match_requests(|r| r.key_id() == Some("k1"))
            .then_output(|| DescribeKeyOutput::builder().key_metadata(metadata("k1")).build());
        let d2 = mock!(Client::describe_key)
            .match_requests(|r| r.key_id() == Some("k2"))
            .then_output(|| DescribeKeyOutput::builder().key_metadata(metadata("k2")).build());
        let tags = mock!(Client::list_resource_tags)
            .then_output(|| ListResourceTagsOutput::builder().tags(Tag::builder().tag_key("tapaudit:stack").tag_value("dev").build().unwrap()).build());
        let rotation = mock!(Client::get_key_rotation_status).then_output(|| GetKeyRotationStatusOutput::builder().key_rotation_enabled(true).build());
        let policy = mock!(Client::get_key_policy).then_output(|| GetKeyPolicyOutput::builder().policy(r#"{"Statement":[]}"#).build());
        let kms = client(&[&list, &aliases, &d1, &d2, &tags, &rotation, &policy]);
        let mut c = ctx(|cl| cl.kms = kms);
        c.scope = crate::collect::Scope { stack: Some("dev".into()) };
        let out = collect(&c).await;
        assert_eq!(calls(&c, "kms", "ListResourceTags"), 2);
        assert_eq!(out.keys.len(), 2);
        assert!(out.keys.iter().all(|k| k.meta.stack() == Some("dev")));
    }
}
