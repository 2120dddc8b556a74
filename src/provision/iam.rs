//! IAM roles: least privilege, one purpose each, trust limited to one service in this account.

use super::nodes::RoleKind;
use super::{attrs, policy, tag_changes, Attrs, Change, Ctx, Found};
use crate::error::{Result, SdkResultExt};
use aws_sdk_iam::types::Tag;
use serde_json::Value;
use std::collections::BTreeSet;

pub const INLINE_POLICY: &str = "tapaudit-least-privilege";

pub struct RoleDef {
    pub service: &'static str,
    pub description: &'static str,
    pub managed: Vec<String>,
    pub inline: Option<Value>,
}

/// The ARNs a role's permissions name (live ARNs for provision, desired ones for checks).
pub struct RoleInputs {
    pub partition: String,
    pub stream: Option<String>,
    pub key: Option<String>,
    pub secret: Option<String>,
    pub flow_group: Option<String>,
}

fn need(v: &Option<String>, what: &str) -> Result<String> {
    v.clone().ok_or_else(|| crate::error::Error::usage(format!("internal: {what} is not known yet")))
}

fn managed_arn(partition: &str, path_name: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{path_name}")
}

fn definition(ctx: &Ctx, kind: RoleKind) -> Result<RoleDef> {
    role_definition(
        kind,
        &RoleInputs {
            partition: ctx.partition.clone(),
            stream: ctx.get("stream", "arn"),
            key: ctx.get("data-key", "arn"),
            secret: ctx.get("db-credentials", "arn"),
            flow_group: ctx.get("flow-log-group", "arn"),
        },
    )
}

/// Each role's trust service, managed policies and least-privilege inline policy.
pub fn role_definition(kind: RoleKind, i: &RoleInputs) -> Result<RoleDef> {
    let p = &i.partition;
    Ok(match kind {
        RoleKind::EcsExecution => RoleDef {
            service: "ecs-tasks.amazonaws.com",
            description: "ECS pulls the image and writes container logs",
            managed: vec![managed_arn(p, "service-role/AmazonECSTaskExecutionRolePolicy")],
            inline: None,
        },
        RoleKind::EcsTask => RoleDef {
            service: "ecs-tasks.amazonaws.com",
            description: "The data processor reads the stream and its database secret",
            managed: vec![],
            inline: Some(policy::document(vec![
                policy::allow(
                    "ReadStream",
                    &["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards"],
                    &[need(&i.stream, "stream.arn")?],
                ),
                policy::allow("DecryptWithDataKey", &["kms:Decrypt"], &[need(&i.key, "data-key.arn")?]),
                policy::allow("ReadDbSecret", &["secretsmanager:GetSecretValue"], &[need(&i.secret, "db-credentials.arn")?]),
            ])),
        },
        RoleKind::FlowLogs => {
            let group = need(&i.flow_group, "flow-log-group.arn")?;
            RoleDef {
                service: "vpc-flow-logs.amazonaws.com",
                description: "VPC flow logs deliver to their log group",
                managed: vec![],
                inline: Some(policy::document(vec![policy::allow(
                    "DeliverFlowLogs",
                    &["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
                    &[group.clone(), format!("{group}:*")],
                )])),
            }
        }
    })
}

fn iam_tags(tags: std::collections::BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.into_iter().map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?)).collect()
}

pub fn role_name(ctx: &Ctx, kind: RoleKind) -> String {
    super::names::role(&ctx.stack, kind)
}

pub async fn inspect(ctx: &Ctx, id: &str, kind: RoleKind) -> Result<Found> {
    let name = role_name(ctx, kind);
    let iam = &ctx.clients.iam;
    let Some(out) = iam.get_role().role_name(&name).send().await.found("iam", "GetRole", &name, &["NoSuchEntity"])? else {
        return Ok(Found::Absent);
    };
    let Some(role) = out.role() else { return Ok(Found::Absent) };
    ctx.claim(id, "iam:role", &name, role.tags().iter().map(|t| (t.key(), t.value())))?;
    let mut changes = Vec::new();
    let trust = policy::trust_policy_for(&ctx.account, service_of(kind));
    if !policy::same(role.assume_role_policy_document().unwrap_or_default(), &trust) {
        changes.push(Change::new("iam.trust_policy", "stack trust policy", "different policy"));
    }
    // the inline policy can only be compared when its inputs (ARNs) are known
    if let Ok(def) = definition(ctx, kind) {
        let live = iam.get_role_policy().role_name(&name).policy_name(INLINE_POLICY).send().await.found("iam", "GetRolePolicy", &name, &["NoSuchEntity"])?;
        match (&def.inline, live) {
            (Some(want), Some(got)) if !policy::same(got.policy_document(), want) => {
                changes.push(Change::new("iam.inline_policy", "stack policy", "different policy"))
            }
            (Some(_), None) => changes.push(Change::new("iam.inline_policy", "stack policy", "(absent)")),
            (None, Some(_)) => changes.push(Change::new("iam.inline_policy", "(absent)", "extra policy")),
            _ => {}
        }
        let attached = attached_policies(ctx, &name).await?;
        let want: BTreeSet<String> = def.managed.iter().cloned().collect();
        if attached != want {
            changes.push(Change::new("iam.managed_policies", format!("{want:?}"), format!("{attached:?}")));
        }
    }
    changes.extend(tag_changes(&ctx.tags(id, &name), role.tags().iter().map(|t| (t.key(), t.value()))));
    Ok(Found::Present { attrs: attrs([("name", name), ("arn", role.arn().to_string())]), changes })
}

fn service_of(kind: RoleKind) -> &'static str {
    match kind {
        RoleKind::EcsExecution | RoleKind::EcsTask => "ecs-tasks.amazonaws.com",
        RoleKind::FlowLogs => "vpc-flow-logs.amazonaws.com",
    }
}

async fn attached_policies(ctx: &Ctx, name: &str) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut pages = ctx.clients.iam.list_attached_role_policies().role_name(name).into_paginator().items().send();
    while let Some(p) = pages.next().await {
        let p = p.ctx("iam", "ListAttachedRolePolicies", name)?;
        if let Some(arn) = p.policy_arn() {
            out.insert(arn.to_string());
        }
    }
    Ok(out)
}

pub async fn apply(ctx: &Ctx, id: &str, kind: RoleKind, found: &Found) -> Result<Attrs> {
    let iam = &ctx.clients.iam;
    let def = definition(ctx, kind)?;
    let name = role_name(ctx, kind);
    let trust = policy::trust_policy_for(&ctx.account, def.service).to_string();
    let arn = match found {
        Found::Absent => iam
            .create_role()
            .role_name(&name)
            .description(def.description)
            .assume_role_policy_document(&trust)
            .set_tags(Some(iam_tags(ctx.tags(id, &name))?))
            .send()
            .await
            .ctx("iam", "CreateRole", &name)?
            .role()
            .map(|r| r.arn().to_string())
            .unwrap_or_default(),
        Found::Present { attrs, .. } => {
            iam.update_assume_role_policy().role_name(&name).policy_document(&trust).send().await.ctx("iam", "UpdateAssumeRolePolicy", &name)?;
            iam.tag_role().role_name(&name).set_tags(Some(iam_tags(ctx.tags(id, &name))?)).send().await.ctx("iam", "TagRole", &name)?;
            attrs["arn"].clone()
        }
    };
    match &def.inline {
        Some(doc) => {
            iam.put_role_policy().role_name(&name).policy_name(INLINE_POLICY).policy_document(doc.to_string()).send().await.ctx(
                "iam",
                "PutRolePolicy",
                &name,
            )?;
        }
        None => {
            iam.delete_role_policy().role_name(&name).policy_name(INLINE_POLICY).send().await.found("iam", "DeleteRolePolicy", &name, &["NoSuchEntity"])?;
        }
    }
    let attached = attached_policies(ctx, &name).await?;
    for p in def.managed.iter().filter(|p| !attached.contains(*p)) {
        iam.attach_role_policy().role_name(&name).policy_arn(p).send().await.ctx("iam", "AttachRolePolicy", &name)?;
    }
    for p in attached.iter().filter(|p| !def.managed.contains(p)) {
        iam.detach_role_policy().role_name(&name).policy_arn(p).send().await.ctx("iam", "DetachRolePolicy", &name)?;
    }
    Ok(attrs([("name", name), ("arn", arn)]))
}

pub async fn delete(ctx: &Ctx, id: &str, kind: RoleKind) -> Result<Option<String>> {
    let iam = &ctx.clients.iam;
    let name = role_name(ctx, kind);
    let Some(out) = iam.get_role().role_name(&name).send().await.found("iam", "GetRole", &name, &["NoSuchEntity"])? else {
        return Ok(None);
    };
    let owned = out.role().is_some_and(|r| ctx.owns(id, r.tags().iter().map(|t| (t.key(), t.value()))));
    if !owned {
        tracing::warn!("role {name} does not carry this stack's tags; left alone");
        return Ok(None);
    }
    for p in attached_policies(ctx, &name).await? {
        iam.detach_role_policy().role_name(&name).policy_arn(&p).send().await.ctx("iam", "DetachRolePolicy", &name)?;
    }
    let inline = iam.list_role_policies().role_name(&name).send().await.ctx("iam", "ListRolePolicies", &name)?;
    for p in inline.policy_names() {
        iam.delete_role_policy().role_name(&name).policy_name(p).send().await.ctx("iam", "DeleteRolePolicy", &name)?;
    }
    iam.delete_role().role_name(&name).send().await.ctx("iam", "DeleteRole", &name)?;
    Ok(Some(name))
}
