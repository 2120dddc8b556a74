//! `[file_systems.<id>]`: an EFS file system `<project>-<stack>-<id>` encrypted with a key of the
//! stack, automatic backups on (set at creation), lifecycle transition to Infrequent Access,
//! a mount target in every private subnet (`<id>-mount-target-N`) behind the named security
//! group, one access point (`<id>-access-point`: a POSIX user and a root directory created with
//! its owner), and a file system policy (`<id>-policy`) that denies every request without TLS
//! and allows mounting and writing only through that access point, over a mount target, to
//! principals of this account.

use super::{desired_ids, Component, Cx, Kind, Output, Problem, Reference};
use crate::error::{Error, Result, SdkResultExt};
use crate::model::efs::{AccessPoint, FileSystem as Model, MountTarget, PosixUser as ModelPosixUser};
use crate::model::{Observed, State};
use crate::provision::{attrs, diff, tag_changes, wait_for, Attrs, Change, Ctx, Found, Node};
use crate::vocab::policy;
use aws_sdk_efs::types::{
    AccessPointDescription, CreationInfo, FileSystemDescription, LifeCycleState, LifecyclePolicy, PerformanceMode, PosixUser, RootDirectory, Tag,
    ThroughputMode, TransitionToIaRules,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSystem {
    /// The key (logical id of a `[keys.<id>]`) that encrypts the file system.
    pub key: String,
    /// The security group (logical id of a `[security_groups.<id>]`) of the mount targets.
    pub security_group: String,
    /// `generalPurpose` or `maxIO`.
    pub performance_mode: String,
    /// `elastic` or `bursting` (provisioned throughput is not offered here).
    pub throughput_mode: String,
    /// Days without access after which files move to Infrequent Access (1, 7, 14, 30, 60, 90,
    /// 180, 270 or 365).
    pub transition_to_ia_days: u32,
    /// Automatic daily backups (AWS Backup); set when the file system is created.
    pub backups: bool,
    /// The access point's POSIX user and group.
    pub uid: u32,
    pub gid: u32,
    /// The access point's root directory (created with owner uid/gid and `permissions`).
    pub root_directory: String,
    /// Octal permissions of the created root directory.
    pub permissions: String,
}

impl Default for FileSystem {
    fn default() -> Self {
        FileSystem {
            key: String::new(),
            security_group: String::new(),
            performance_mode: "generalPurpose".into(),
            throughput_mode: "elastic".into(),
            transition_to_ia_days: 30,
            backups: true,
            uid: 1000,
            gid: 1000,
            root_directory: "/data".into(),
            permissions: "750".into(),
        }
    }
}

const IA_DAYS: &[u32] = &[1, 7, 14, 30, 60, 90, 180, 270, 365];

/// The lifecycle rule for `days`.
fn ia_rule(days: u32) -> TransitionToIaRules {
    let unit = if days == 1 { "DAY" } else { "DAYS" };
    TransitionToIaRules::from(format!("AFTER_{days}_{unit}").as_str())
}

fn mount_target_id(cx_id: &str, n: usize) -> String {
    format!("{cx_id}-mount-target-{n}")
}

/// The file system policy: no request without TLS; ClientMount and ClientWrite only through
/// the access point, over a mount target, for principals of `account`.
pub fn file_system_policy(partition: &str, account: &str, fs_arn: &str, ap_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Resource": fs_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            },
            {
                "Sid": "MountThroughAccessPoint",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
                "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                "Resource": fs_arn,
                "Condition": {
                    "StringEquals": {"elasticfilesystem:AccessPointArn": ap_arn},
                    "Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}
                }
            }
        ]
    })
}

impl Component for FileSystem {
    const KIND: Kind = Kind::FileSystem;

    fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        if !self.key.is_empty() {
            out.push(Reference::key("key", &self.key, "elasticfilesystem"));
        }
        if !self.security_group.is_empty() {
            out.push(Reference::new("security_group", &self.security_group, &[Kind::SecurityGroup]));
        }
        out
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.key.is_empty() {
            out.push(cx.problem("key", "is required: name the key that encrypts the file system (`key = \"<key id>\"`)"));
        }
        if self.security_group.is_empty() {
            out.push(cx.problem("security_group", "is required: name the security group of the mount targets (`security_group = \"<sg id>\"`)"));
        }
        if !["generalPurpose", "maxIO"].contains(&self.performance_mode.as_str()) {
            out.push(cx.problem("performance_mode", format!("must be \"generalPurpose\" or \"maxIO\" (got {:?})", self.performance_mode)));
        }
        if !["elastic", "bursting"].contains(&self.throughput_mode.as_str()) {
            out.push(cx.problem("throughput_mode", format!("must be \"elastic\" or \"bursting\" (got {:?})", self.throughput_mode)));
        } else if self.throughput_mode == "elastic" && self.performance_mode == "maxIO" {
            out.push(cx.problem("throughput_mode", "\"elastic\" needs performance_mode = \"generalPurpose\" (EFS refuses Elastic throughput with Max I/O)"));
        }
        if !IA_DAYS.contains(&self.transition_to_ia_days) {
            out.push(cx.problem("transition_to_ia_days", format!("must be one of 1, 7, 14, 30, 60, 90, 180, 270, 365 (got {})", self.transition_to_ia_days)));
        }
        if self.uid == 0 || self.gid == 0 {
            out.push(cx.problem("uid", "must not be 0 (root), nor gid: the access point's user would own every file"));
        }
        let p = &self.root_directory;
        if !p.starts_with('/') || p == "/" || p.len() > 100 || p.contains("//") || p.ends_with('/') || p.split('/').any(|s| s == "..") {
            out.push(
                cx.problem("root_directory", format!("must be an absolute directory path below / of at most 100 characters, such as \"/data\" (got {p:?})")),
            );
        }
        if self.permissions.len() != 3 && self.permissions.len() != 4 || !self.permissions.chars().all(|c| ('0'..='7').contains(&c)) {
            out.push(cx.problem("permissions", format!("must be octal permissions such as \"750\" (got {:?})", self.permissions)));
        } else if self.permissions.ends_with(|c: char| c != '0') {
            out.push(cx.problem("permissions", format!("must give others no access (the last digit 0; got {:?})", self.permissions)));
        }
        out
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        let name = cx.name(cx.id);
        let mut out = vec![cx.node(cx.id, FsNode { spec: self.clone(), name: name.clone() }, &[self.key.as_str()])];
        for (i, subnet) in super::cache::private_subnets(cx).iter().enumerate() {
            let mt = MountTargetNode { fs: cx.id.to_string(), fs_name: name.clone(), subnet: subnet.clone(), security_group: self.security_group.clone() };
            out.push(cx.node(mount_target_id(cx.id, i + 1), mt, &[cx.id, subnet.as_str(), self.security_group.as_str()]));
        }
        let ap_id = format!("{}-access-point", cx.id);
        let ap = AccessPointNode { fs: cx.id.to_string(), fs_name: name.clone(), name: format!("{name}-access-point"), spec: self.clone() };
        out.push(cx.node(&ap_id, ap, &[cx.id]));
        out.push(cx.node(format!("{}-policy", cx.id), PolicyNode { fs: cx.id.to_string(), access_point: ap_id.clone() }, &[cx.id, ap_id.as_str()]));
        out
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        let name = cx.name(cx.id);
        let (fs_arn, ap_arn) = desired_arns(cx);
        st.efs.file_systems.insert(Model {
            meta: cx.meta("efs:file-system", cx.id, cx.id, fs_arn.clone(), &name, ""),
            encrypted: Observed::Known(true),
            kms_key_id: Some(desired_ids::key_arn(&cx.region(), &self.key)),
            backup_policy: Observed::Known(if self.backups { "ENABLED" } else { "DISABLED" }.into()),
            policy: Observed::Known(Some(file_system_policy("aws", super::DESIRED_ACCOUNT, &fs_arn, &ap_arn))),
            mount_targets: Observed::Known(
                super::cache::private_subnets(cx)
                    .iter()
                    .enumerate()
                    .map(|(i, s)| MountTarget {
                        id: mount_target_id(cx.id, i + 1),
                        subnet_id: desired_ids::subnet(s),
                        vpc_id: Some(desired_ids::VPC.to_string()),
                        availability_zone: None,
                        security_groups: Observed::Known(vec![desired_ids::security_group(&self.security_group)]),
                    })
                    .collect(),
            ),
            access_points: Observed::Known(vec![AccessPoint {
                id: format!("{}-access-point", cx.id),
                arn: ap_arn.clone(),
                name: Some(format!("{name}-access-point")),
                tags: cx
                    .meta("efs:access-point", &format!("{}-access-point", cx.id), "", String::new(), &format!("{name}-access-point"), "")
                    .tags
                    .known()
                    .cloned()
                    .unwrap_or_default(),
                root_directory: Observed::Known(self.root_directory.clone()),
                posix_user: Some(ModelPosixUser { uid: i64::from(self.uid), gid: i64::from(self.gid), secondary_gids: vec![] }),
            }]),
            transition_to_ia: Observed::Known(Some(ia_rule(self.transition_to_ia_days).as_str().to_string())),
        });
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        vec![
            Output { name: cx.at("id"), node: cx.id.to_string(), attr: "id".into() },
            Output { name: cx.at("access_point"), node: format!("{}-access-point", cx.id), attr: "arn".into() },
        ]
    }
}

/// Desired ARNs of the file system and its access point (built from logical ids).
fn desired_arns(cx: &Cx) -> (String, String) {
    desired_arns_of(cx, cx.id)
}

/// Desired ARNs of file system `id` and its access point, for the components that use it.
pub fn desired_arns_of(cx: &Cx, id: &str) -> (String, String) {
    (cx.arn("elasticfilesystem", &format!("file-system/{id}")), cx.arn("elasticfilesystem", &format!("access-point/{id}-access-point")))
}

/// A policy with access point ARNs replaced by a placeholder: the access point's id is
/// AWS-assigned, and the desired State does not hold access points to resolve it through.
fn without_access_points(v: &Value) -> Value {
    match v {
        Value::String(s) if s.starts_with("arn:") && s.contains(":access-point/") => json!("(the file system's access point)"),
        Value::Array(a) => Value::Array(a.iter().map(without_access_points).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), without_access_points(x))).collect()),
        other => other.clone(),
    }
}

/// Drift of the stack's file systems: encryption, key, backups, the policy (by meaning, with
/// desired ARNs resolved to the live file system) and the mount targets' subnets.
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.efs.file_systems, &live.efs.file_systems, |d, w, g| {
        let s = d.setting(&w.meta, "");
        d.observed(&g.meta, "encrypted", &s, json!(w.encrypted.known()), &g.encrypted);
        let s = d.setting(&w.meta, "key");
        d.field(&g.meta, "kms_key_id", &s, json!(w.kms_key_id.as_deref().map(|k| d.res(k))), json!(g.kms_key_id));
        let s = d.setting(&w.meta, "backups");
        d.observed(&g.meta, "backup_policy", &s, json!(w.backup_policy.known()), &g.backup_policy);
        let s = d.setting(&w.meta, "");
        match (g.policy.get(), w.policy.known()) {
            (Ok(got), Some(want)) => {
                let want = want.as_ref().map(|p| {
                    let p = crate::drift::with_account(p, &g.meta.account);
                    let text =
                        p.to_string().replace(&json!(w.meta.arn.replace(super::DESIRED_ACCOUNT, &g.meta.account)).to_string(), &json!(g.meta.arn).to_string());
                    policy::normalize(&without_access_points(&serde_json::from_str(&text).unwrap_or(p)))
                });
                let got_n = got.as_ref().map(|p| policy::normalize(&without_access_points(p)));
                if want != got_n {
                    let describe = |p: &Option<Value>| if p.is_some() { json!("a different policy") } else { json!(null) };
                    d.field(&g.meta, "policy", &s, json!("the stack's file system policy"), describe(got));
                }
            }
            (Ok(_), None) => {}
            (Err(e), _) => d.unknown(&g.meta, "policy", &s, e),
        }
        let s = d.setting(&w.meta, "transition_to_ia_days");
        d.observed(&g.meta, "transition_to_ia", &s, json!(w.transition_to_ia.known()), &g.transition_to_ia);
        let s = d.setting(&w.meta, "security_group");
        match (g.mount_targets.get(), w.mount_targets.known()) {
            (Ok(got), Some(want)) => {
                let want: BTreeSet<String> = want.iter().map(|m| d.res(&m.subnet_id)).collect();
                let got: BTreeSet<&str> = got.iter().map(|m| m.subnet_id.as_str()).collect();
                d.field(&g.meta, "mount_targets", &s, json!(want), json!(got));
            }
            (Ok(_), None) => {}
            (Err(e), _) => d.unknown(&g.meta, "mount_targets", &s, e),
        }
    });
}

fn efs_tags(t: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    t.iter().map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?)).collect()
}

fn tag_pairs(t: &[Tag]) -> impl Iterator<Item = (&str, &str)> + Clone {
    t.iter().map(|t| (t.key(), t.value()))
}

/// The file system.
#[derive(Debug, Clone)]
struct FsNode {
    spec: FileSystem,
    name: String,
}

crate::node_ops!(FsNode, "efs:file-system");

/// The stack's file system `name` (its creation token), unless it is being deleted.
async fn describe_fs(ctx: &Ctx, token: &str) -> Result<Option<FileSystemDescription>> {
    let out = ctx.clients.efs.describe_file_systems().creation_token(token).send().await.ctx("efs", "DescribeFileSystems", token)?;
    Ok(out.file_systems().iter().find(|f| !matches!(f.life_cycle_state(), LifeCycleState::Deleting | LifeCycleState::Deleted)).cloned())
}

impl FsNode {
    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(f) = describe_fs(ctx, &self.name).await? else { return Ok(Found::Absent) };
        ctx.claim(id, "efs:file-system", &self.name, tag_pairs(f.tags()))?;
        let s = &self.spec;
        let efs = &ctx.clients.efs;
        let fs_id = f.file_system_id().to_string();
        let mut changes = Vec::new();
        diff(&mut changes, "encrypted", Some(true), f.encrypted());
        if let Some(key) = ctx.get(&s.key, "arn") {
            diff(&mut changes, "key", Some(key.as_str()), f.kms_key_id());
        }
        diff(&mut changes, "performance_mode", s.performance_mode.as_str(), f.performance_mode().as_str());
        diff(&mut changes, "throughput_mode", Some(s.throughput_mode.as_str()), f.throughput_mode().map(|m| m.as_str()));
        let lc = efs.describe_lifecycle_configuration().file_system_id(&fs_id).send().await.ctx("efs", "DescribeLifecycleConfiguration", &fs_id)?;
        let ia = lc.lifecycle_policies().iter().find_map(|p| p.transition_to_ia()).map(|r| r.as_str().to_string());
        diff(&mut changes, "transition_to_ia_days", Some(ia_rule(s.transition_to_ia_days).as_str().to_string()), ia);
        let backup = efs.describe_backup_policy().file_system_id(&fs_id).send().await.found("efs", "DescribeBackupPolicy", &fs_id, &["PolicyNotFound"])?;
        let status = backup.as_ref().and_then(|b| b.backup_policy()).map(|p| p.status().as_str().to_string()).unwrap_or_else(|| "DISABLED".into());
        let on = status == "ENABLED" || status == "ENABLING";
        diff(&mut changes, "backups", s.backups, on);
        changes.extend(tag_changes(&ctx.tags(id, &self.name), tag_pairs(f.tags())));
        Ok(Found::Present { attrs: fs_attrs(&f), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let s = &self.spec;
        let efs = &ctx.clients.efs;
        let t = ctx.tags(id, &self.name);
        let fs_id = match found {
            Found::Absent => {
                let key = ctx.need(&s.key, "arn")?;
                let out = efs
                    .create_file_system()
                    .creation_token(&self.name)
                    .encrypted(true)
                    .kms_key_id(&key)
                    .performance_mode(PerformanceMode::from(s.performance_mode.as_str()))
                    .throughput_mode(ThroughputMode::from(s.throughput_mode.as_str()))
                    // automatic backups are set here: PutBackupPolicy is not used (the
                    // emulator lacks it), so a later change of `backups` is refused below
                    .backup(s.backups)
                    .set_tags(Some(efs_tags(&t)?))
                    .send()
                    .await
                    .ctx("efs", "CreateFileSystem", &self.name)?;
                out.file_system_id().to_string()
            }
            Found::Present { changes, attrs } => {
                let fixed: Vec<&str> =
                    changes.iter().map(|c| c.field.as_str()).filter(|f| ["encrypted", "key", "performance_mode", "backups"].contains(f)).collect();
                if !fixed.is_empty() {
                    return Err(Error::usage(format!(
                        "file system {} differs in {}, which tapaudit sets only when it creates the file system: restore the stack file's values (or the AWS setting), or destroy the file system and provision again",
                        self.name,
                        fixed.join(", ")
                    )));
                }
                let fs_id = attrs["id"].clone();
                if changes.iter().any(|c| c.field == "throughput_mode") {
                    efs.update_file_system().file_system_id(&fs_id).throughput_mode(ThroughputMode::from(s.throughput_mode.as_str())).send().await.ctx(
                        "efs",
                        "UpdateFileSystem",
                        &fs_id,
                    )?;
                }
                if changes.iter().any(|c| c.field.starts_with("tags.")) {
                    efs.tag_resource().resource_id(&fs_id).set_tags(Some(efs_tags(&t)?)).send().await.ctx("efs", "TagResource", &fs_id)?;
                }
                fs_id
            }
        };
        let f = wait_for(&format!("file system {}", self.name), Duration::from_secs(5), Duration::from_secs(600), || async {
            Ok(describe_fs(ctx, &self.name).await?.filter(|f| f.life_cycle_state() == &LifeCycleState::Available))
        })
        .await?;
        efs.put_lifecycle_configuration()
            .file_system_id(&fs_id)
            .lifecycle_policies(LifecyclePolicy::builder().transition_to_ia(ia_rule(s.transition_to_ia_days)).build())
            .send()
            .await
            .ctx("efs", "PutLifecycleConfiguration", &fs_id)?;
        Ok(fs_attrs(&f))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(f) = describe_fs(ctx, &self.name).await? else { return Ok(None) };
        if !ctx.owns(id, tag_pairs(f.tags())) {
            tracing::warn!("file system {} does not carry this stack's tags; left alone", self.name);
            return Ok(None);
        }
        let fs_id = f.file_system_id().to_string();
        // mount targets are deleted by their own nodes first; wait until they are gone
        wait_for(&format!("mount targets of {fs_id}"), Duration::from_secs(5), Duration::from_secs(900), || async {
            let mts = ctx.clients.efs.describe_mount_targets().file_system_id(&fs_id).send().await.ctx("efs", "DescribeMountTargets", &fs_id)?;
            Ok(mts.mount_targets().is_empty().then_some(()))
        })
        .await?;
        ctx.clients.efs.delete_file_system().file_system_id(&fs_id).send().await.ctx("efs", "DeleteFileSystem", &fs_id)?;
        Ok(Some(fs_id))
    }
}

/// The id of the stack's file system `fs` (node id) named `token`: from its node when it ran,
/// else looked up (destroy deletes dependents before anything else ran) and kept only when it
/// carries the stack's tags.
async fn owned_fs_id(ctx: &Ctx, fs: &str, token: &str) -> Result<Option<String>> {
    if let Some(id) = ctx.get(fs, "id") {
        return Ok(Some(id));
    }
    let Some(f) = describe_fs(ctx, token).await? else { return Ok(None) };
    Ok(ctx.owns(fs, tag_pairs(f.tags())).then(|| f.file_system_id().to_string()))
}

fn fs_attrs(f: &FileSystemDescription) -> Attrs {
    attrs([("id", f.file_system_id().to_string()), ("arn", f.file_system_arn().unwrap_or_default().to_string())])
}

/// One mount target of the file system, in one subnet.
#[derive(Debug, Clone)]
struct MountTargetNode {
    /// The file system's node id.
    fs: String,
    /// The file system's name (creation token).
    fs_name: String,
    /// The subnet's node id.
    subnet: String,
    /// The security group's node id.
    security_group: String,
}

crate::node_ops!(MountTargetNode, "efs:mount-target");

impl MountTargetNode {
    /// The mount target of the (found) file system in the (found) subnet.
    async fn find(&self, ctx: &Ctx) -> Result<Option<(String, String)>> {
        let (Some(fs_id), Some(subnet)) = (ctx.get(&self.fs, "id"), ctx.get(&self.subnet, "id")) else { return Ok(None) };
        let out = ctx.clients.efs.describe_mount_targets().file_system_id(&fs_id).send().await.ctx("efs", "DescribeMountTargets", &fs_id)?;
        Ok(out
            .mount_targets()
            .iter()
            .find(|m| m.subnet_id() == subnet && !matches!(m.life_cycle_state(), LifeCycleState::Deleting | LifeCycleState::Deleted))
            .map(|m| (m.mount_target_id().to_string(), subnet)))
    }

    async fn inspect(&self, ctx: &Ctx, _id: &str) -> Result<Found> {
        let Some((mt, _)) = self.find(ctx).await? else { return Ok(Found::Absent) };
        let mut changes = Vec::new();
        if let Some(sg) = ctx.get(&self.security_group, "id") {
            let out = ctx.clients.efs.describe_mount_target_security_groups().mount_target_id(&mt).send().await.ctx(
                "efs",
                "DescribeMountTargetSecurityGroups",
                &mt,
            )?;
            diff(&mut changes, "security_group", vec![sg], out.security_groups().to_vec());
        }
        Ok(Found::Present { attrs: attrs([("id", mt)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, _id: &str, found: &Found) -> Result<Attrs> {
        let efs = &ctx.clients.efs;
        let sg = ctx.need(&self.security_group, "id")?;
        let mt = match found {
            Found::Absent => {
                let fs_id = ctx.need(&self.fs, "id")?;
                let subnet = ctx.need(&self.subnet, "id")?;
                let out = efs.create_mount_target().file_system_id(&fs_id).subnet_id(&subnet).security_groups(&sg).send().await.ctx(
                    "efs",
                    "CreateMountTarget",
                    &format!("{fs_id} in {subnet}"),
                )?;
                out.mount_target_id().to_string()
            }
            Found::Present { attrs, changes } => {
                let mt = attrs["id"].clone();
                if !changes.is_empty() {
                    efs.modify_mount_target_security_groups().mount_target_id(&mt).security_groups(&sg).send().await.ctx(
                        "efs",
                        "ModifyMountTargetSecurityGroups",
                        &mt,
                    )?;
                }
                mt
            }
        };
        Ok(attrs([("id", mt)]))
    }

    async fn delete(&self, ctx: &Ctx, _id: &str) -> Result<Option<String>> {
        // a mount target has no tags: it is the stack's when its file system is, and this node's
        // when its subnet carries the subnet node's logical id
        let Some(fs_id) = owned_fs_id(ctx, &self.fs, &self.fs_name).await? else { return Ok(None) };
        let out = ctx.clients.efs.describe_mount_targets().file_system_id(&fs_id).send().await.ctx("efs", "DescribeMountTargets", &fs_id)?;
        for m in out.mount_targets().iter().filter(|m| !matches!(m.life_cycle_state(), LifeCycleState::Deleting | LifeCycleState::Deleted)) {
            let subnet = m.subnet_id();
            let s = ctx.clients.ec2.describe_subnets().subnet_ids(subnet).send().await.ctx("ec2", "DescribeSubnets", subnet)?;
            let ours = s.subnets().iter().any(|s| ctx.owns(&self.subnet, s.tags().iter().filter_map(|t| Some((t.key()?, t.value()?)))));
            if ours {
                let mt = m.mount_target_id().to_string();
                ctx.clients.efs.delete_mount_target().mount_target_id(&mt).send().await.ctx("efs", "DeleteMountTarget", &mt)?;
                return Ok(Some(mt));
            }
        }
        Ok(None)
    }
}

/// The access point.
#[derive(Debug, Clone)]
struct AccessPointNode {
    fs: String,
    fs_name: String,
    name: String,
    spec: FileSystem,
}

crate::node_ops!(AccessPointNode, "efs:access-point");

impl AccessPointNode {
    async fn find(&self, ctx: &Ctx, id: &str) -> Result<Option<AccessPointDescription>> {
        let Some(fs_id) = owned_fs_id(ctx, &self.fs, &self.fs_name).await? else { return Ok(None) };
        let out = ctx.clients.efs.describe_access_points().file_system_id(&fs_id).send().await.ctx("efs", "DescribeAccessPoints", &fs_id)?;
        let owned: Vec<AccessPointDescription> = out
            .access_points()
            .iter()
            .filter(|a| ctx.owns(id, tag_pairs(a.tags())) && !matches!(a.life_cycle_state(), Some(LifeCycleState::Deleting) | Some(LifeCycleState::Deleted)))
            .cloned()
            .collect();
        ctx.single(id, "efs:access-point", owned, |a| a.access_point_id().unwrap_or_default().to_string())
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(a) = self.find(ctx, id).await? else { return Ok(Found::Absent) };
        let s = &self.spec;
        let mut changes: Vec<Change> = Vec::new();
        let user = a.posix_user().map(|u| (u.uid(), u.gid()));
        diff(&mut changes, "uid", Some((i64::from(s.uid), i64::from(s.gid))), user);
        diff(&mut changes, "root_directory", Some(s.root_directory.as_str()), a.root_directory().and_then(|r| r.path()));
        Ok(Found::Present { attrs: ap_attrs(&a), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        if let Found::Present { attrs, changes } = found {
            if !changes.is_empty() {
                return Err(Error::usage(format!(
                    "access point {} ({}) differs in {}, which EFS cannot change: delete the access point and provision again",
                    self.name,
                    attrs["id"],
                    changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>().join(", ")
                )));
            }
            return Ok(attrs.clone());
        }
        let s = &self.spec;
        let fs_id = ctx.need(&self.fs, "id")?;
        let out = ctx
            .clients
            .efs
            .create_access_point()
            .client_token(&self.name)
            .file_system_id(&fs_id)
            .posix_user(PosixUser::builder().uid(i64::from(s.uid)).gid(i64::from(s.gid)).build()?)
            .root_directory(
                RootDirectory::builder()
                    .path(&s.root_directory)
                    .creation_info(CreationInfo::builder().owner_uid(i64::from(s.uid)).owner_gid(i64::from(s.gid)).permissions(&s.permissions).build()?)
                    .build(),
            )
            .set_tags(Some(efs_tags(&ctx.tags(id, &self.name))?))
            .send()
            .await
            .ctx("efs", "CreateAccessPoint", &self.name)?;
        Ok(attrs([("id", out.access_point_id().unwrap_or_default().to_string()), ("arn", out.access_point_arn().unwrap_or_default().to_string())]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(a) = self.find(ctx, id).await? else { return Ok(None) };
        let ap = a.access_point_id().unwrap_or_default().to_string();
        ctx.clients.efs.delete_access_point().access_point_id(&ap).send().await.ctx("efs", "DeleteAccessPoint", &ap)?;
        Ok(Some(ap))
    }
}

fn ap_attrs(a: &AccessPointDescription) -> Attrs {
    attrs([("id", a.access_point_id().unwrap_or_default().to_string()), ("arn", a.access_point_arn().unwrap_or_default().to_string())])
}

/// The file system policy.
#[derive(Debug, Clone)]
struct PolicyNode {
    fs: String,
    access_point: String,
}

crate::node_ops!(PolicyNode, "efs:file-system-policy");

impl PolicyNode {
    fn want(&self, ctx: &Ctx) -> Option<Value> {
        let fs_arn = ctx.get(&self.fs, "arn")?;
        let ap_arn = ctx.get(&self.access_point, "arn")?;
        Some(file_system_policy(&ctx.partition, &ctx.account, &fs_arn, &ap_arn))
    }

    async fn current(&self, ctx: &Ctx) -> Result<Option<String>> {
        let Some(fs_id) = ctx.get(&self.fs, "id") else { return Ok(None) };
        let out = ctx.clients.efs.describe_file_system_policy().file_system_id(&fs_id).send().await.found(
            "efs",
            "DescribeFileSystemPolicy",
            &fs_id,
            &["PolicyNotFound"],
        )?;
        Ok(out.and_then(|o| o.policy().map(str::to_string)))
    }

    async fn inspect(&self, ctx: &Ctx, _id: &str) -> Result<Found> {
        let Some(current) = self.current(ctx).await? else { return Ok(Found::Absent) };
        let mut changes = Vec::new();
        if let Some(want) = self.want(ctx) {
            if !policy::same(&current, &want) {
                changes.push(Change::new("policy", "the stack's file system policy", "a different policy"));
            }
        }
        let fs_id = ctx.get(&self.fs, "id").unwrap_or_default();
        Ok(Found::Present { attrs: attrs([("id", fs_id)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, _id: &str, _found: &Found) -> Result<Attrs> {
        let fs_id = ctx.need(&self.fs, "id")?;
        let want = self.want(ctx).ok_or_else(|| Error::usage(format!("internal: {}.arn or {}.arn is not known yet", self.fs, self.access_point)))?;
        ctx.clients.efs.put_file_system_policy().file_system_id(&fs_id).policy(want.to_string()).send().await.ctx("efs", "PutFileSystemPolicy", &fs_id)?;
        Ok(attrs([("id", fs_id)]))
    }

    async fn delete(&self, _ctx: &Ctx, _id: &str) -> Result<Option<String>> {
        // the policy goes with its file system
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::cache::testing::{cx_of, desired, drift, live_of, stack_with};
    use crate::controls::testing::eval;
    use crate::finding::Status;

    const FS: &str = "[file_systems.shared]\nkey = \"data-key\"\nsecurity_group = \"efs-sg\"\n";

    fn problems(extra: &str) -> Vec<String> {
        let stack = stack_with(&format!("{FS}{extra}"));
        stack.spec.file_systems["shared"].validate(&cx_of(&stack, "shared")).into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn validation_messages() {
        assert_eq!(problems(""), Vec::<String>::new());
        let cases = [
            ("performance_mode = \"fast\"\n", "file_systems.shared.performance_mode must be \"generalPurpose\" or \"maxIO\" (got \"fast\")"),
            ("throughput_mode = \"provisioned\"\n", "file_systems.shared.throughput_mode must be \"elastic\" or \"bursting\" (got \"provisioned\")"),
            (
                "performance_mode = \"maxIO\"\n",
                "file_systems.shared.throughput_mode \"elastic\" needs performance_mode = \"generalPurpose\" (EFS refuses Elastic throughput with Max I/O)",
            ),
            ("transition_to_ia_days = 45\n", "file_systems.shared.transition_to_ia_days must be one of 1, 7, 14, 30, 60, 90, 180, 270, 365 (got 45)"),
            ("uid = 0\n", "file_systems.shared.uid must not be 0 (root), nor gid: the access point's user would own every file"),
            (
                "root_directory = \"/\"\n",
                "file_systems.shared.root_directory must be an absolute directory path below / of at most 100 characters, such as \"/data\" (got \"/\")",
            ),
            (
                "root_directory = \"/a/../b\"\n",
                "file_systems.shared.root_directory must be an absolute directory path below / of at most 100 characters, such as \"/data\" (got \"/a/../b\")",
            ),
            ("permissions = \"755\"\n", "file_systems.shared.permissions must give others no access (the last digit 0; got \"755\")"),
            ("permissions = \"rwx\"\n", "file_systems.shared.permissions must be octal permissions such as \"750\" (got \"rwx\")"),
        ];
        for (extra, want) in cases {
            assert_eq!(problems(extra), vec![want.to_string()], "{extra}");
        }
        let stack = stack_with("[file_systems.shared]\n");
        let msgs: Vec<String> = stack.spec.file_systems["shared"].validate(&cx_of(&stack, "shared")).into_iter().map(|p| p.message).collect();
        assert_eq!(msgs.len(), 2);
        assert!(msgs[0].starts_with("file_systems.shared.key is required"));
        assert!(msgs[1].starts_with("file_systems.shared.security_group is required"));
    }

    #[test]
    fn nodes_and_references() {
        let stack = stack_with(FS);
        let fs = &stack.spec.file_systems["shared"];
        assert_eq!(
            Component::references(fs),
            vec![Reference::key("key", "data-key", "elasticfilesystem"), Reference::new("security_group", "efs-sg", &[Kind::SecurityGroup])]
        );
        let ids: Vec<(String, Vec<String>)> = fs.nodes(&cx_of(&stack, "shared")).into_iter().map(|n| (n.id, n.deps)).collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ids,
            vec![
                ("shared".into(), s(&["data-key"])),
                ("shared-mount-target-1".into(), s(&["shared", "private-subnet-1", "efs-sg"])),
                ("shared-mount-target-2".into(), s(&["shared", "private-subnet-2", "efs-sg"])),
                ("shared-access-point".into(), s(&["shared"])),
                ("shared-policy".into(), s(&["shared", "shared-access-point"])),
            ]
        );
    }

    #[test]
    fn the_policy_denies_plaintext_and_allows_only_the_access_point() {
        let p = file_system_policy("aws", "123456789012", "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1", "arn:ap");
        let st = crate::semantics::policy::parse_statements(&p).unwrap();
        assert!(crate::semantics::policy::denies_insecure_transport(
            &p,
            &["elasticfilesystem:ClientMount"],
            Some("arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1")
        ));
        assert_eq!(st[1]["Principal"]["AWS"], "arn:aws:iam::123456789012:root");
        assert_eq!(st[1]["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"], "arn:ap");
        assert_eq!(ia_rule(30).as_str(), "AFTER_30_DAYS");
        assert_eq!(ia_rule(1).as_str(), "AFTER_1_DAY");
    }

    #[test]
    fn desired_state_passes_the_efs_controls() {
        let st = desired(&stack_with(FS));
        for c in ["efs-encrypted-cmk", "efs-backups-enabled", "efs-tls-enforced"] {
            assert_eq!(eval(c, &st), vec![Status::Pass], "{c}");
        }
        let f = st.efs.file_systems.iter().next().unwrap();
        assert_eq!(
            f.mount_targets.known().unwrap().iter().map(|m| m.subnet_id.as_str()).collect::<Vec<_>>(),
            vec!["subnet-private-subnet-1", "subnet-private-subnet-2"]
        );
    }

    fn drift_of(change: impl FnOnce(&mut Model)) -> Vec<(String, Status)> {
        let stack = stack_with(FS);
        let want = desired(&stack);
        let mut got = live_of(&want);
        let f = got.efs.file_systems.items.values_mut().next().unwrap();
        // AWS-assigned: the access point id inside the policy
        let pol = f.policy.known().cloned().flatten().unwrap();
        let text = pol.to_string().replace("access-point/shared-access-point", "access-point/fsap-0123456789abcdef0");
        f.policy = Observed::Known(Some(serde_json::from_str(&text).unwrap()));
        change(f);
        drift(&stack, &want, &got).into_iter().map(|f| (f.message, f.status)).collect()
    }

    #[test]
    fn drift_none_right_after_provisioning() {
        assert_eq!(drift_of(|_| {}), vec![]);
    }

    #[test]
    fn drift_of_changed_settings() {
        let found = drift_of(|f| {
            f.backup_policy = Observed::Known("DISABLED".into());
            f.policy = Observed::Known(None);
            if let Observed::Known(m) = &mut f.mount_targets {
                m.pop();
            }
        });
        let msgs: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(found.len(), 3, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("backup_policy is DISABLED but the stack file declares ENABLED")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("policy is (absent) but the stack file declares the stack's file system policy")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("mount_targets is")), "{msgs:?}");
        // adversarial: the same statements, but the Deny no longer covers plaintext
        let found = drift_of(|f| {
            let text = f.policy.known().cloned().flatten().unwrap().to_string().replace("\"false\"", "\"true\"");
            f.policy = Observed::Known(Some(serde_json::from_str(&text).unwrap()));
        });
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn drift_of_unread_values_is_an_error() {
        let found = drift_of(|f| f.policy = Observed::Unknown("AccessDenied".into()));
        assert_eq!(found.iter().map(|f| f.1).collect::<Vec<_>>(), vec![Status::Error]);
    }
}
