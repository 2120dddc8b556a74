//! IAM roles, which other components create for themselves (a service's execution and task
//! roles, an API's integration roles, the network's flow-log role): one purpose each, trust
//! limited to one service principal in this account, least privilege as an inline policy
//! whose resources are other nodes' ARNs. Not a stack-file section of its own.

use super::Cx;
use crate::error::{Error, Result, SdkResultExt};
use crate::model::iam::Role as Model;
use crate::model::{Observed, State};
use crate::provision::{attrs, tag_changes, Attrs, Change, Ctx, Found, Node};
use crate::vocab::policy;
use aws_sdk_iam::types::Tag;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const INLINE_POLICY: &str = "tapaudit-least-privilege";

/// A resource of a grant: a node's attribute (with a suffix such as `/*` or `:*`), or a
/// literal ARN.
#[derive(Debug, Clone, PartialEq)]
pub enum Res {
    Attr { node: String, attr: &'static str, suffix: &'static str },
    Literal(String),
}

impl Res {
    pub fn arn_of(node: &str) -> Res {
        Res::Attr { node: node.to_string(), attr: "arn", suffix: "" }
    }
}

/// One Allow statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub sid: String,
    pub actions: Vec<&'static str>,
    pub resources: Vec<Res>,
    /// `StringEquals` conditions: condition key → value (`elasticfilesystem:AccessPointArn`).
    pub string_equals: Vec<(&'static str, Res)>,
}

impl Grant {
    pub fn new(sid: &str, actions: &[&'static str], resources: Vec<Res>) -> Self {
        Grant { sid: sid.to_string(), actions: actions.to_vec(), resources, string_equals: vec![] }
    }

    /// Only when the condition key `key` equals `value`.
    pub fn when_equals(mut self, key: &'static str, value: Res) -> Self {
        self.string_equals.push((key, value));
        self
    }
}

/// A role: its trust service, what it is for, AWS-managed policies (`service-role/...` path
/// names) and its grants.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDef {
    /// Physical name.
    pub name: String,
    pub service: &'static str,
    pub description: String,
    pub managed: Vec<&'static str>,
    pub grants: Vec<Grant>,
}

impl RoleDef {
    /// The nodes whose ARNs the grants name (the role waits for them).
    pub fn deps(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for g in &self.grants {
            for r in g.resources.iter().chain(g.string_equals.iter().map(|(_, r)| r)) {
                if let Res::Attr { node, .. } = r {
                    if !out.contains(node) {
                        out.push(node.clone());
                    }
                }
            }
        }
        out
    }

    pub fn managed_arns(&self, partition: &str) -> Vec<String> {
        self.managed.iter().map(|m| format!("arn:{partition}:iam::aws:policy/{m}")).collect()
    }

    /// The inline policy, with each node attribute resolved by `resolve`.
    pub fn inline(&self, resolve: &dyn Fn(&str, &str) -> Option<String>) -> Result<Option<Value>> {
        if self.grants.is_empty() {
            return Ok(None);
        }
        let value = |r: &Res| -> Result<String> {
            Ok(match r {
                Res::Literal(s) => s.clone(),
                Res::Attr { node, attr, suffix } => {
                    let v = resolve(node, attr).ok_or_else(|| Error::usage(format!("internal: {node}.{attr} is not known yet")))?;
                    format!("{v}{suffix}")
                }
            })
        };
        let mut statements = Vec::new();
        for g in &self.grants {
            let resources = g.resources.iter().map(value).collect::<Result<Vec<_>>>()?;
            let mut statement = policy::allow(&g.sid, &g.actions, &resources);
            if !g.string_equals.is_empty() {
                let mut eq = serde_json::Map::new();
                for (k, r) in &g.string_equals {
                    eq.insert(k.to_string(), json!(value(r)?));
                }
                statement["Condition"] = json!({ "StringEquals": eq });
            }
            statements.push(statement);
        }
        Ok(Some(policy::document(statements)))
    }
}

#[derive(Debug, Clone)]
pub struct RoleNode(pub RoleDef);

crate::node_ops!(RoleNode, "iam:role");

/// The role as a node with id `id`, waiting for the nodes its grants name.
pub fn node(cx: &Cx, id: &str, def: RoleDef) -> Node {
    let deps = def.deps();
    let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
    cx.node(id, RoleNode(def), &deps)
}

/// The role as desired State; `resolve` gives the desired value of a node attribute.
pub fn desired(cx: &Cx, st: &mut State, id: &str, def: &RoleDef, resolve: &dyn Fn(&str, &str) -> Option<String>) {
    let account = super::DESIRED_ACCOUNT;
    let mut meta = cx.meta("iam:role", id, &def.name, format!("arn:aws:iam::{account}:role/{}", def.name), &def.name, "");
    meta.region = "global".into();
    let managed = def.managed_arns("aws");
    for arn in &managed {
        if let Some(doc) = aws_managed_policy(arn) {
            let pname = arn.rsplit('/').next().unwrap_or(arn).to_string();
            let mut pm = cx.meta("iam:policy", "", &pname, arn.clone(), &pname, "");
            pm.region = "global".into();
            pm.tags = Observed::Known(BTreeMap::new());
            pm.source = None;
            st.iam.policies.insert(crate::model::iam::Policy { meta: pm, aws_managed: true, document: Observed::Known(doc) });
        }
    }
    let inline = def.inline(resolve).ok().flatten();
    st.iam.roles.insert(Model {
        meta,
        path: "/".into(),
        trust_policy: Observed::Known(policy::trust_policy_for(account, def.service)),
        inline_policies: Observed::Known(inline.map(|p| BTreeMap::from([(INLINE_POLICY.to_string(), p)])).unwrap_or_default()),
        attached_policies: Observed::Known(managed),
    });
}

/// The AWS-managed policies the blueprints attach, as AWS publishes them (so the pre-deployment
/// check can judge the roles' full permissions).
fn aws_managed_policy(arn: &str) -> Option<Value> {
    let doc = if arn.ends_with("/AmazonECSTaskExecutionRolePolicy") {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
            "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]})
    } else if arn.ends_with("/AmazonAPIGatewayPushToCloudWatchLogs") {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
            "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"], "Resource": "*"}]})
    } else {
        return None;
    };
    Some(doc)
}

/// Drift of the stack's roles: trust (by meaning), inline policies, attached policies.
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.iam.roles, &live.iam.roles, |d, w, g| {
        let setting = d.setting(&w.meta, "");
        let want = w.trust_policy.known().map(|p| crate::drift::with_account(p, &g.meta.account));
        match (g.trust_policy.get(), want) {
            (Ok(p), Some(want)) if policy::normalize(p) != policy::normalize(&want) => {
                let service = want["Statement"][0]["Principal"]["Service"].as_str().unwrap_or_default().to_string();
                d.field(&g.meta, "trust_policy", &setting, json!(format!("trusts {service} of this account only")), json!("a different trust policy"))
            }
            (Ok(_), _) => {}
            (Err(e), _) => d.unknown(&g.meta, "trust_policy", &setting, e),
        }
        d.permissions(&setting, w, g);
    });
}

fn iam_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.into_iter().map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?)).collect()
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

impl RoleNode {
    fn inline_live(&self, ctx: &Ctx) -> Result<Option<Value>> {
        self.0.inline(&|node, attr| ctx.get(node, attr))
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let def = &self.0;
        let name = &def.name;
        let iam = &ctx.clients.iam;
        let Some(out) = iam.get_role().role_name(name).send().await.found("iam", "GetRole", name, &["NoSuchEntity"])? else {
            return Ok(Found::Absent);
        };
        let Some(role) = out.role() else { return Ok(Found::Absent) };
        ctx.claim(id, "iam:role", name, role.tags().iter().map(|t| (t.key(), t.value())))?;
        let mut changes = Vec::new();
        let trust = policy::trust_policy_for(&ctx.account, def.service);
        if !policy::same(role.assume_role_policy_document().unwrap_or_default(), &trust) {
            changes.push(Change::new("trust_policy", "stack trust policy", "different policy"));
        }
        // the inline policy can only be compared when its inputs (ARNs) are known
        if let Ok(want) = self.inline_live(ctx) {
            let live = iam.get_role_policy().role_name(name).policy_name(INLINE_POLICY).send().await.found("iam", "GetRolePolicy", name, &["NoSuchEntity"])?;
            match (&want, live) {
                (Some(want), Some(got)) if !policy::same(got.policy_document(), want) => {
                    changes.push(Change::new("inline_policy", "stack policy", "different policy"))
                }
                (Some(_), None) => changes.push(Change::new("inline_policy", "stack policy", "(absent)")),
                (None, Some(_)) => changes.push(Change::new("inline_policy", "(absent)", "extra policy")),
                _ => {}
            }
            let attached = attached_policies(ctx, name).await?;
            let want: BTreeSet<String> = def.managed_arns(&ctx.partition).into_iter().collect();
            if attached != want {
                changes.push(Change::new("managed_policies", format!("{want:?}"), format!("{attached:?}")));
            }
        }
        changes.extend(tag_changes(&ctx.tags(id, name), role.tags().iter().map(|t| (t.key(), t.value()))));
        Ok(Found::Present { attrs: attrs([("name", name.clone()), ("arn", role.arn().to_string())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let def = &self.0;
        let iam = &ctx.clients.iam;
        let name = &def.name;
        let inline = self.inline_live(ctx)?;
        let managed = def.managed_arns(&ctx.partition);
        let trust = policy::trust_policy_for(&ctx.account, def.service).to_string();
        let arn = match found {
            Found::Absent => iam
                .create_role()
                .role_name(name)
                .description(&def.description)
                .assume_role_policy_document(&trust)
                .set_tags(Some(iam_tags(ctx.tags(id, name))?))
                .send()
                .await
                .ctx("iam", "CreateRole", name)?
                .role()
                .map(|r| r.arn().to_string())
                .unwrap_or_default(),
            Found::Present { attrs, .. } => {
                iam.update_assume_role_policy().role_name(name).policy_document(&trust).send().await.ctx("iam", "UpdateAssumeRolePolicy", name)?;
                iam.tag_role().role_name(name).set_tags(Some(iam_tags(ctx.tags(id, name))?)).send().await.ctx("iam", "TagRole", name)?;
                attrs["arn"].clone()
            }
        };
        match &inline {
            Some(doc) => {
                iam.put_role_policy().role_name(name).policy_name(INLINE_POLICY).policy_document(doc.to_string()).send().await.ctx(
                    "iam",
                    "PutRolePolicy",
                    name,
                )?;
            }
            None => {
                iam.delete_role_policy().role_name(name).policy_name(INLINE_POLICY).send().await.found("iam", "DeleteRolePolicy", name, &["NoSuchEntity"])?;
            }
        }
        let attached = attached_policies(ctx, name).await?;
        for p in managed.iter().filter(|p| !attached.contains(*p)) {
            iam.attach_role_policy().role_name(name).policy_arn(p).send().await.ctx("iam", "AttachRolePolicy", name)?;
        }
        for p in attached.iter().filter(|p| !managed.contains(p)) {
            iam.detach_role_policy().role_name(name).policy_arn(p).send().await.ctx("iam", "DetachRolePolicy", name)?;
        }
        Ok(attrs([("name", name.clone()), ("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let iam = &ctx.clients.iam;
        let name = &self.0.name;
        let Some(out) = iam.get_role().role_name(name).send().await.found("iam", "GetRole", name, &["NoSuchEntity"])? else {
            return Ok(None);
        };
        let owned = out.role().is_some_and(|r| ctx.owns(id, r.tags().iter().map(|t| (t.key(), t.value()))));
        if !owned {
            tracing::warn!("role {name} does not carry this stack's tags; left alone");
            return Ok(None);
        }
        for p in attached_policies(ctx, name).await? {
            iam.detach_role_policy().role_name(name).policy_arn(&p).send().await.ctx("iam", "DetachRolePolicy", name)?;
        }
        let inline = iam.list_role_policies().role_name(name).send().await.ctx("iam", "ListRolePolicies", name)?;
        for p in inline.policy_names() {
            iam.delete_role_policy().role_name(name).policy_name(p).send().await.ctx("iam", "DeleteRolePolicy", name)?;
        }
        iam.delete_role().role_name(name).send().await.ctx("iam", "DeleteRole", name)?;
        Ok(Some(name.clone()))
    }
}
