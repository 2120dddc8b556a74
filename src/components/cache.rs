//! `[caches.<id>]`: an ElastiCache (Redis OSS / Valkey) replication group `<project>-<stack>-<id>`
//! with one primary and `nodes - 1` replicas in the stack's private subnets (cache subnet group
//! `<id>-subnet-group`), automatic failover and Multi-AZ, encryption at rest with a key of the
//! stack, TLS required in transit, and clients authenticated through an RBAC user group whose
//! users authenticate with IAM (`<id>-user-group`): no AUTH token or password ever passes
//! through tapaudit.

use super::{desired_ids, Component, Cx, Kind, Output, Problem, Reference};
use crate::error::{Error, Result, SdkResultExt};
use crate::model::elasticache::{NodeGroup, NodeGroupMember, ReplicationGroup as Model};
use crate::model::{Observed, State};
use crate::provision::{attrs, diff, tag_changes, wait_for, Attrs, Change, Ctx, Found, Node};
use aws_sdk_elasticache::types::{AuthenticationMode, InputAuthenticationType, ReplicationGroup, Tag, TransitEncryptionMode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cache {
    /// `redis` (Redis OSS) or `valkey`.
    pub engine: String,
    /// Engine version (7.0 or later: IAM authentication of RBAC users needs it).
    pub engine_version: String,
    /// Node type of every node (`cache.t3.micro`).
    pub node_type: String,
    /// Nodes in the shard: one primary and `nodes - 1` replicas (1–6).
    pub nodes: u32,
    /// Promote a replica automatically when the primary fails (needs nodes >= 2).
    pub automatic_failover: bool,
    /// Place the replicas in other Availability Zones than the primary (needs automatic failover).
    pub multi_az: bool,
    /// The key (logical id of a `[keys.<id>]`) that encrypts the data at rest.
    pub key: String,
    /// The security group (logical id of a `[security_groups.<id>]`) of the nodes.
    pub security_group: String,
    /// The port clients connect to.
    pub port: u16,
    /// Days automatic snapshots are kept (0–35; the controls want at least 7).
    pub snapshot_retention_days: u32,
    /// Daily UTC window of the automatic snapshot, `hh:mm-hh:mm`, at least 60 minutes.
    pub snapshot_window: String,
    /// How clients authenticate: `iam` (an RBAC user group whose users authenticate with IAM;
    /// the default) or `none` (any client that reaches the port is served: the
    /// elasticache-auth-enabled control fails).
    pub auth: String,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            engine: "redis".into(),
            engine_version: "7.1".into(),
            node_type: "cache.t3.micro".into(),
            nodes: 2,
            automatic_failover: true,
            multi_az: true,
            key: String::new(),
            security_group: String::new(),
            port: 6379,
            snapshot_retention_days: 7,
            snapshot_window: "03:00-05:00".into(),
            auth: "iam".into(),
        }
    }
}

/// ElastiCache replication group ids: at most 40 characters.
const MAX_GROUP_ID: usize = 40;

/// The private subnets' node ids of `[network]` (`private-subnet-N`, N = 1..az_count).
pub fn private_subnets(cx: &Cx) -> Vec<String> {
    super::network::private_subnets(cx.stack)
}

/// `hh:mm-hh:mm` → minutes of the day of both ends.
fn parse_window(w: &str) -> Option<(u32, u32)> {
    let (a, b) = w.split_once('-')?;
    let hm = |s: &str| -> Option<u32> {
        let (h, m) = s.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    Some((hm(a)?, hm(b)?))
}

/// The major.minor of an engine version, when it parses.
fn version(v: &str) -> Option<(u32, u32)> {
    let mut it = v.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().map(|m| m.parse().ok()).unwrap_or(Some(0))?;
    Some((major, minor))
}

/// The catalogue threshold `param` of `control` for the stack's frameworks and parameters.
pub fn threshold(cx: &Cx, control: &str, param: &str) -> Option<i64> {
    let cat = crate::controls::Catalogue::load().ok()?;
    let c = cat.controls.get(control)?;
    cat.parameters(c, &cx.stack.spec.frameworks, &cx.stack.spec.parameters).get(param).copied()
}

/// Names of the RBAC users and group of one cache.
#[derive(Debug, Clone)]
struct Rbac {
    /// The group id.
    group: String,
    /// The IAM-authenticated application user (user id = user name, as IAM authentication
    /// requires).
    app: String,
    /// The user named `default` every user group must contain, switched off.
    default_user: String,
}

fn rbac(name: &str) -> Rbac {
    Rbac { group: format!("{name}-users"), app: format!("{name}-app"), default_user: format!("{name}-default") }
}

impl Component for Cache {
    const KIND: Kind = Kind::Cache;

    fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        if !self.key.is_empty() {
            out.push(Reference::key("key", &self.key, "elasticache"));
        }
        if !self.security_group.is_empty() {
            out.push(Reference::new("security_group", &self.security_group, &[Kind::SecurityGroup]));
        }
        out
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        let mut out = Vec::new();
        if !["redis", "valkey"].contains(&self.engine.as_str()) {
            out.push(cx.problem("engine", format!("must be \"redis\" or \"valkey\" (got {:?})", self.engine)));
        }
        match version(&self.engine_version) {
            None => out.push(cx.problem("engine_version", format!("must be a version such as \"7.1\" (got {:?})", self.engine_version))),
            Some(v) if self.auth == "iam" && v < (7, 0) => out.push(cx.problem(
                "engine_version",
                format!("must be 7.0 or later with auth = \"iam\" (IAM authentication of RBAC users needs it; got {:?})", self.engine_version),
            )),
            Some(_) => {}
        }
        if !self.node_type.starts_with("cache.") {
            out.push(cx.problem("node_type", format!("must be an ElastiCache node type such as \"cache.t3.micro\" (got {:?})", self.node_type)));
        }
        if !(1..=6).contains(&self.nodes) {
            out.push(cx.problem("nodes", format!("must be between 1 and 6 (one primary and up to 5 replicas; got {})", self.nodes)));
        } else if self.nodes < 2 && (self.automatic_failover || self.multi_az) {
            out.push(cx.problem("nodes", format!("must be at least 2 with automatic_failover or multi_az (a replica to fail over to; got {})", self.nodes)));
        }
        if self.multi_az && !self.automatic_failover {
            out.push(cx.problem("multi_az", "needs automatic_failover = true (ElastiCache refuses Multi-AZ without automatic failover)"));
        }
        if self.key.is_empty() {
            out.push(cx.problem("key", "is required: name the key that encrypts the cache at rest (`key = \"<key id>\"`)"));
        }
        if self.security_group.is_empty() {
            out.push(cx.problem("security_group", "is required: name the security group of the nodes (`security_group = \"<sg id>\"`)"));
        }
        if self.port < 1024 {
            out.push(cx.problem("port", format!("must be between 1024 and 65535 (got {})", self.port)));
        }
        if self.snapshot_retention_days > 35 {
            out.push(cx.problem("snapshot_retention_days", format!("must be between 0 and 35 (got {})", self.snapshot_retention_days)));
        } else if let Some(min) = threshold(cx, "elasticache-snapshot-retention", "min_snapshot_retention_days") {
            if i64::from(self.snapshot_retention_days) < min {
                out.push(cx.problem(
                    "snapshot_retention_days",
                    format!(
                        "{} is less than {min}, which {} requires (elasticache-snapshot-retention)",
                        self.snapshot_retention_days,
                        cx.stack.spec.frameworks.join(", ")
                    ),
                ));
            }
        }
        match parse_window(&self.snapshot_window) {
            None => out.push(cx.problem("snapshot_window", format!("must be a UTC window \"hh:mm-hh:mm\" (got {:?})", self.snapshot_window))),
            Some((a, b)) if (b + 24 * 60 - a) % (24 * 60) < 60 => {
                out.push(cx.problem("snapshot_window", format!("must be at least 60 minutes long (got {:?})", self.snapshot_window)))
            }
            Some(_) => {}
        }
        if !["iam", "none"].contains(&self.auth.as_str()) {
            out.push(cx.problem("auth", format!("must be \"iam\" or \"none\" (got {:?})", self.auth)));
        }
        let name = cx.name(cx.id);
        if name.len() > MAX_GROUP_ID {
            out.push(cx.problem(
                "",
                format!("makes the replication group id {name:?} ({} characters); ElastiCache allows {MAX_GROUP_ID}: shorten the logical id", name.len()),
            ));
        }
        out
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        let name = cx.name(cx.id);
        let subnets = private_subnets(cx);
        let sng_id = format!("{}-subnet-group", cx.id);
        let sng = SubnetGroupNode { name: format!("{name}-subnet-group"), subnets: subnets.clone() };
        let subnet_deps: Vec<&str> = subnets.iter().map(String::as_str).collect();
        let mut out = vec![cx.node(&sng_id, sng, &subnet_deps)];
        let mut deps = vec![sng_id.as_str(), self.key.as_str(), self.security_group.as_str()];
        let ug_id = format!("{}-user-group", cx.id);
        if self.auth == "iam" {
            out.push(cx.node(&ug_id, UserGroupNode { engine: self.engine.clone(), names: rbac(&name) }, &[]));
            deps.push(ug_id.as_str());
        }
        let group = GroupNode { spec: self.clone(), name, subnet_group: sng_id.clone(), user_group: (self.auth == "iam").then(|| ug_id.clone()) };
        out.push(cx.node(cx.id, group, &deps));
        out
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        let name = cx.name(cx.id);
        let members = (1..=self.nodes)
            .map(|i| NodeGroupMember {
                cache_cluster_id: format!("{name}-{i:03}"),
                role: Some(if i == 1 { "primary" } else { "replica" }.into()),
                availability_zone: None,
            })
            .collect();
        st.elasticache.replication_groups.insert(Model {
            meta: cx.meta("elasticache:replication-group", cx.id, &name, cx.arn("elasticache", &format!("replicationgroup:{name}")), &name, ""),
            engine: Some(self.engine.clone()),
            status: "available".into(),
            at_rest_encryption: Observed::Known(true),
            transit_encryption: Observed::Known(true),
            transit_encryption_mode: Some("required".into()),
            kms_key_id: Some(desired_ids::key_arn(&cx.region(), &self.key)),
            auth_token_enabled: Observed::Known(false),
            user_group_ids: if self.auth == "iam" { vec![rbac(&name).group] } else { vec![] },
            automatic_failover: Observed::Known(enabled(self.automatic_failover).into()),
            multi_az: Observed::Known(enabled(self.multi_az).into()),
            snapshot_retention_days: Observed::Known(self.snapshot_retention_days as i32),
            member_clusters: (1..=self.nodes).map(|i| format!("{name}-{i:03}")).collect(),
            security_groups: Observed::Known(vec![desired_ids::security_group(&self.security_group)]),
            cache_subnet_group: Observed::Known(format!("{name}-subnet-group")),
            node_groups: vec![NodeGroup { id: "0001".into(), members }],
        });
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        ["endpoint", "port"].iter().map(|a| Output { name: cx.at(a), node: cx.id.to_string(), attr: a.to_string() }).collect()
    }
}

fn enabled(on: bool) -> &'static str {
    if on {
        "enabled"
    } else {
        "disabled"
    }
}

/// The replicas of the (single) shard, by role when roles are reported.
fn replicas(g: &Model) -> Option<usize> {
    let ng = g.node_groups.first()?;
    Some(ng.members.iter().filter(|m| m.role.as_deref() != Some("primary")).count())
}

/// Drift of the stack's caches: encryption, key, transit mode, authentication, failover,
/// Multi-AZ, snapshot retention and the replica count. AWS-assigned values (member ids, zones,
/// status) are not compared.
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.elasticache.replication_groups, &live.elasticache.replication_groups, |d, w, g| {
        let at = |d: &crate::drift::Drift, f: &str| d.setting(&w.meta, f);
        let s = at(d, "");
        d.observed(&g.meta, "at_rest_encryption", &s, json!(w.at_rest_encryption.known()), &g.at_rest_encryption);
        let s = at(d, "key");
        d.field(&g.meta, "kms_key_id", &s, json!(w.kms_key_id.as_deref().map(|k| d.res(k))), json!(g.kms_key_id));
        let s = at(d, "");
        d.observed(&g.meta, "transit_encryption", &s, json!(w.transit_encryption.known()), &g.transit_encryption);
        d.field(&g.meta, "transit_encryption_mode", &s, json!(w.transit_encryption_mode), json!(g.transit_encryption_mode));
        let s = at(d, "auth");
        d.observed(&g.meta, "auth_token_enabled", &s, json!(w.auth_token_enabled.known()), &g.auth_token_enabled);
        let set = |v: &[String]| json!(v.iter().collect::<BTreeSet<_>>());
        d.field(&g.meta, "user_group_ids", &s, set(&w.user_group_ids), set(&g.user_group_ids));
        let s = at(d, "automatic_failover");
        d.observed(&g.meta, "automatic_failover", &s, json!(w.automatic_failover.known()), &g.automatic_failover);
        let s = at(d, "multi_az");
        d.observed(&g.meta, "multi_az", &s, json!(w.multi_az.known()), &g.multi_az);
        let s = at(d, "snapshot_retention_days");
        d.observed(&g.meta, "snapshot_retention_days", &s, json!(w.snapshot_retention_days.known()), &g.snapshot_retention_days);
        let s = at(d, "nodes");
        match replicas(g) {
            Some(n) => d.field(&g.meta, "replicas", &s, json!(replicas(w)), json!(n)),
            None => d.unknown(&g.meta, "replicas", &s, "DescribeReplicationGroups reported no node groups"),
        }
    });
}

fn tags(t: &BTreeMap<String, String>) -> Vec<Tag> {
    t.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

async fn live_tags(ctx: &Ctx, arn: &str) -> Result<Vec<(String, String)>> {
    let out = ctx.clients.elasticache.list_tags_for_resource().resource_name(arn).send().await.ctx("elasticache", "ListTagsForResource", arn)?;
    Ok(out.tag_list().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect())
}

fn pairs(t: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> + Clone {
    t.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The cache subnet group over the private subnets.
#[derive(Debug, Clone)]
struct SubnetGroupNode {
    name: String,
    /// The subnets' node ids.
    subnets: Vec<String>,
}

crate::node_ops!(SubnetGroupNode, "elasticache:subnet-group");

impl SubnetGroupNode {
    async fn describe(&self, ctx: &Ctx) -> Result<Option<aws_sdk_elasticache::types::CacheSubnetGroup>> {
        let out = ctx.clients.elasticache.describe_cache_subnet_groups().cache_subnet_group_name(&self.name).send().await.found(
            "elasticache",
            "DescribeCacheSubnetGroups",
            &self.name,
            &["CacheSubnetGroupNotFoundFault"],
        )?;
        Ok(out.and_then(|o| o.cache_subnet_groups().iter().find(|g| g.cache_subnet_group_name() == Some(self.name.as_str())).cloned()))
    }

    fn want(&self, ctx: &Ctx) -> Result<Vec<String>> {
        self.subnets.iter().map(|s| ctx.need(s, "id")).collect()
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(g) = self.describe(ctx).await? else { return Ok(Found::Absent) };
        let arn = g.arn().unwrap_or_default().to_string();
        let live = live_tags(ctx, &arn).await?;
        ctx.claim(id, "elasticache:subnet-group", &self.name, pairs(&live))?;
        let mut changes = Vec::new();
        let got: BTreeSet<String> = g.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect();
        if let Ok(want) = self.want(ctx) {
            diff(&mut changes, "subnets", want.into_iter().collect::<BTreeSet<_>>(), got);
        }
        changes.extend(tag_changes(&ctx.tags(id, &self.name), pairs(&live)));
        Ok(Found::Present { attrs: attrs([("name", self.name.clone()), ("arn", arn)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let ec = &ctx.clients.elasticache;
        let subnets = self.want(ctx)?;
        let t = ctx.tags(id, &self.name);
        match found {
            Found::Absent => {
                ec.create_cache_subnet_group()
                    .cache_subnet_group_name(&self.name)
                    .cache_subnet_group_description(format!("{} (tapaudit)", self.name))
                    .set_subnet_ids(Some(subnets))
                    .set_tags(Some(tags(&t)))
                    .send()
                    .await
                    .ctx("elasticache", "CreateCacheSubnetGroup", &self.name)?;
            }
            Found::Present { changes, attrs } => {
                if changes.iter().any(|c| c.field == "subnets") {
                    ec.modify_cache_subnet_group().cache_subnet_group_name(&self.name).set_subnet_ids(Some(subnets)).send().await.ctx(
                        "elasticache",
                        "ModifyCacheSubnetGroup",
                        &self.name,
                    )?;
                }
                if changes.iter().any(|c| c.field.starts_with("tags.")) {
                    ec.add_tags_to_resource().resource_name(&attrs["arn"]).set_tags(Some(tags(&t))).send().await.ctx(
                        "elasticache",
                        "AddTagsToResource",
                        &self.name,
                    )?;
                }
            }
        }
        let arn = self.describe(ctx).await?.and_then(|g| g.arn().map(str::to_string)).unwrap_or_default();
        Ok(attrs([("name", self.name.clone()), ("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(g) = self.describe(ctx).await? else { return Ok(None) };
        let live = live_tags(ctx, g.arn().unwrap_or_default()).await?;
        if !ctx.owns(id, pairs(&live)) {
            tracing::warn!("cache subnet group {} does not carry this stack's tags; left alone", self.name);
            return Ok(None);
        }
        ctx.clients.elasticache.delete_cache_subnet_group().cache_subnet_group_name(&self.name).send().await.ctx(
            "elasticache",
            "DeleteCacheSubnetGroup",
            &self.name,
        )?;
        Ok(Some(self.name.clone()))
    }
}

/// The RBAC user group and its two users: the switched-off `default` user every group must
/// contain, and the application user authenticated with IAM (no password exists).
#[derive(Debug, Clone)]
struct UserGroupNode {
    engine: String,
    names: Rbac,
}

crate::node_ops!(UserGroupNode, "elasticache:user-group");

/// Access string of the `default` user: switched off, no commands.
const DEFAULT_USER_ACCESS: &str = "off -@all";
/// Access string of the application user: every key and command except the dangerous ones.
const APP_USER_ACCESS: &str = "on ~* +@all -@dangerous";

impl UserGroupNode {
    async fn user_exists(&self, ctx: &Ctx, user_id: &str) -> Result<Option<String>> {
        // a user still being deleted (a destroy just ran) cannot be reused nor recreated until
        // it is gone: wait for it
        let state = wait_for(&format!("deletion of cache user {user_id}"), Duration::from_secs(5), Duration::from_secs(600), || async {
            let out = ctx.clients.elasticache.describe_users().user_id(user_id).send().await.found(
                "elasticache",
                "DescribeUsers",
                user_id,
                &["UserNotFound", "UserNotFoundFault"],
            )?;
            let user = out.and_then(|o| o.users().iter().find(|u| u.user_id() == Some(user_id)).cloned());
            Ok(match user {
                Some(u) if u.status() == Some("deleting") => None,
                Some(u) => Some(Some(u.arn().unwrap_or_default().to_string())),
                None => Some(None),
            })
        })
        .await?;
        Ok(state)
    }

    async fn group(&self, ctx: &Ctx) -> Result<Option<aws_sdk_elasticache::types::UserGroup>> {
        let g = &self.names.group;
        let out = ctx.clients.elasticache.describe_user_groups().user_group_id(g).send().await.found(
            "elasticache",
            "DescribeUserGroups",
            g,
            &["UserGroupNotFound", "UserGroupNotFoundFault"],
        )?;
        Ok(out.and_then(|o| o.user_groups().iter().find(|u| u.user_group_id() == Some(g.as_str())).cloned()))
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(g) = self.group(ctx).await? else { return Ok(Found::Absent) };
        let arn = g.arn().unwrap_or_default().to_string();
        let live = live_tags(ctx, &arn).await?;
        ctx.claim(id, "elasticache:user-group", &self.names.group, pairs(&live))?;
        let mut changes = Vec::new();
        let want: BTreeSet<String> = [self.names.default_user.clone(), self.names.app.clone()].into();
        diff(&mut changes, "auth.users", want, g.user_ids().iter().cloned().collect());
        changes.extend(tag_changes(&ctx.tags(id, &self.names.group), pairs(&live)));
        Ok(Found::Present { attrs: attrs([("id", self.names.group.clone()), ("arn", arn)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let ec = &ctx.clients.elasticache;
        let t = tags(&ctx.tags(id, &self.names.group));
        if self.user_exists(ctx, &self.names.default_user).await?.is_none() {
            ec.create_user()
                .user_id(&self.names.default_user)
                .user_name("default")
                .engine(&self.engine)
                .access_string(DEFAULT_USER_ACCESS)
                .no_password_required(true)
                .set_tags(Some(t.clone()))
                .send()
                .await
                .ctx("elasticache", "CreateUser", &self.names.default_user)?;
        }
        if self.user_exists(ctx, &self.names.app).await?.is_none() {
            // IAM authentication: the user id and user name must be the same
            ec.create_user()
                .user_id(&self.names.app)
                .user_name(&self.names.app)
                .engine(&self.engine)
                .access_string(APP_USER_ACCESS)
                .authentication_mode(AuthenticationMode::builder().r#type(InputAuthenticationType::Iam).build())
                .set_tags(Some(t.clone()))
                .send()
                .await
                .ctx("elasticache", "CreateUser", &self.names.app)?;
        }
        let users = vec![self.names.default_user.clone(), self.names.app.clone()];
        match found {
            Found::Absent => {
                ec.create_user_group().user_group_id(&self.names.group).engine(&self.engine).set_user_ids(Some(users)).set_tags(Some(t)).send().await.ctx(
                    "elasticache",
                    "CreateUserGroup",
                    &self.names.group,
                )?;
            }
            Found::Present { changes, attrs } => {
                if let Some(g) = self.group(ctx).await? {
                    let have: BTreeSet<&String> = g.user_ids().iter().collect();
                    let add: Vec<String> = users.iter().filter(|u| !have.contains(u)).cloned().collect();
                    let remove: Vec<String> = g.user_ids().iter().filter(|u| !users.contains(u)).cloned().collect();
                    if !add.is_empty() || !remove.is_empty() {
                        ec.modify_user_group()
                            .user_group_id(&self.names.group)
                            .set_user_ids_to_add(Some(add).filter(|v| !v.is_empty()))
                            .set_user_ids_to_remove(Some(remove).filter(|v| !v.is_empty()))
                            .send()
                            .await
                            .ctx("elasticache", "ModifyUserGroup", &self.names.group)?;
                    }
                }
                if changes.iter().any(|c| c.field.starts_with("tags.")) {
                    ec.add_tags_to_resource().resource_name(&attrs["arn"]).set_tags(Some(t)).send().await.ctx(
                        "elasticache",
                        "AddTagsToResource",
                        &self.names.group,
                    )?;
                }
            }
        }
        let arn = self.group(ctx).await?.and_then(|g| g.arn().map(str::to_string)).unwrap_or_default();
        Ok(attrs([("id", self.names.group.clone()), ("arn", arn)]))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let ec = &ctx.clients.elasticache;
        let mut deleted = None;
        if let Some(g) = self.group(ctx).await? {
            let live = live_tags(ctx, g.arn().unwrap_or_default()).await?;
            if !ctx.owns(id, pairs(&live)) {
                tracing::warn!("user group {} does not carry this stack's tags; left alone", self.names.group);
                return Ok(None);
            }
            ec.delete_user_group().user_group_id(&self.names.group).send().await.ctx("elasticache", "DeleteUserGroup", &self.names.group)?;
            deleted = Some(self.names.group.clone());
        }
        for user in [&self.names.app, &self.names.default_user] {
            let Some(arn) = self.user_exists(ctx, user).await? else { continue };
            let live = live_tags(ctx, &arn).await?;
            if ctx.owns(id, pairs(&live)) {
                ec.delete_user().user_id(user).send().await.ctx("elasticache", "DeleteUser", user)?;
                deleted.get_or_insert_with(|| user.clone());
            }
        }
        Ok(deleted)
    }
}

/// The replication group.
#[derive(Debug, Clone)]
struct GroupNode {
    spec: Cache,
    name: String,
    /// The subnet group's node id.
    subnet_group: String,
    /// The user group's node id (auth = "iam").
    user_group: Option<String>,
}

crate::node_ops!(GroupNode, "elasticache:replication-group");

/// Settings ElastiCache cannot change on an existing replication group (tapaudit refuses to
/// replace a cache with its data).
const IMMUTABLE: &[&str] = &["at_rest_encryption", "key", "port", "engine", "nodes", "transit_encryption"];

fn group_attrs(g: &ReplicationGroup) -> Attrs {
    let ep = g.node_groups().first().and_then(|n| n.primary_endpoint());
    attrs([
        ("id", g.replication_group_id().unwrap_or_default().to_string()),
        ("arn", g.arn().unwrap_or_default().to_string()),
        ("endpoint", ep.and_then(|e| e.address()).unwrap_or_default().to_string()),
        ("port", ep.and_then(|e| e.port()).map(|p| p.to_string()).unwrap_or_default()),
    ])
}

impl GroupNode {
    async fn describe(&self, ctx: &Ctx) -> Result<Option<ReplicationGroup>> {
        let out = ctx.clients.elasticache.describe_replication_groups().replication_group_id(&self.name).send().await.found(
            "elasticache",
            "DescribeReplicationGroups",
            &self.name,
            &["ReplicationGroupNotFoundFault"],
        )?;
        Ok(out.and_then(|o| o.replication_groups().iter().find(|g| g.replication_group_id() == Some(self.name.as_str())).cloned()))
    }

    fn changes(&self, ctx: &Ctx, g: &ReplicationGroup) -> Vec<Change> {
        let s = &self.spec;
        let mut c = Vec::new();
        diff(&mut c, "engine", Some(s.engine.as_str()), g.engine());
        diff(&mut c, "at_rest_encryption", Some(true), g.at_rest_encryption_enabled());
        if let Some(key) = ctx.get(&s.key, "arn") {
            diff(&mut c, "key", Some(key.as_str()), g.kms_key_id());
        }
        diff(&mut c, "transit_encryption", Some(true), g.transit_encryption_enabled());
        diff(&mut c, "transit_encryption_mode", Some("required"), g.transit_encryption_mode().map(|m| m.as_str()));
        let want_groups: BTreeSet<String> = self.user_group.as_ref().map(|_| rbac(&self.name).group).into_iter().collect();
        diff(&mut c, "auth", want_groups, g.user_group_ids().iter().cloned().collect());
        diff(&mut c, "automatic_failover", enabled(s.automatic_failover), g.automatic_failover().map(|a| a.as_str()).unwrap_or("(absent)"));
        diff(&mut c, "multi_az", enabled(s.multi_az), g.multi_az().map(|a| a.as_str()).unwrap_or("(absent)"));
        diff(&mut c, "snapshot_retention_days", Some(s.snapshot_retention_days as i32), g.snapshot_retention_limit());
        diff(&mut c, "node_type", Some(s.node_type.as_str()), g.cache_node_type());
        let members = g.node_groups().first().map(|n| n.node_group_members().len());
        diff(&mut c, "nodes", Some(s.nodes as usize), members);
        let port = g.node_groups().first().and_then(|n| n.primary_endpoint()).and_then(|e| e.port());
        diff(&mut c, "port", Some(i32::from(s.port)), port);
        c
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(g) = self.describe(ctx).await? else { return Ok(Found::Absent) };
        let live = live_tags(ctx, g.arn().unwrap_or_default()).await?;
        ctx.claim(id, "elasticache:replication-group", &self.name, pairs(&live))?;
        let mut changes = self.changes(ctx, &g);
        changes.extend(tag_changes(&ctx.tags(id, &self.name), pairs(&live)));
        Ok(Found::Present { attrs: group_attrs(&g), changes })
    }

    async fn wait_available(&self, ctx: &Ctx) -> Result<ReplicationGroup> {
        wait_for(&format!("replication group {}", self.name), Duration::from_secs(10), Duration::from_secs(3600), || async {
            Ok(self.describe(ctx).await?.filter(|g| g.status() == Some("available")))
        })
        .await
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let s = &self.spec;
        let ec = &ctx.clients.elasticache;
        let key = ctx.need(&s.key, "arn")?;
        let sg = ctx.need(&s.security_group, "id")?;
        let sng = ctx.need(&self.subnet_group, "name")?;
        let user_groups = self.user_group.as_ref().map(|_| vec![rbac(&self.name).group]);
        let t = tags(&ctx.tags(id, &self.name));
        match found {
            Found::Absent => {
                ec.create_replication_group()
                    .replication_group_id(&self.name)
                    .replication_group_description(format!("{} (tapaudit)", self.name))
                    .engine(&s.engine)
                    .engine_version(&s.engine_version)
                    .cache_node_type(&s.node_type)
                    .num_node_groups(1)
                    // one shard of a primary and nodes - 1 replicas
                    .replicas_per_node_group(s.nodes as i32 - 1)
                    .automatic_failover_enabled(s.automatic_failover)
                    .multi_az_enabled(s.multi_az)
                    .cache_subnet_group_name(&sng)
                    .security_group_ids(&sg)
                    .port(i32::from(s.port))
                    .at_rest_encryption_enabled(true)
                    .kms_key_id(&key)
                    .transit_encryption_enabled(true)
                    .transit_encryption_mode(TransitEncryptionMode::Required)
                    .set_user_group_ids(user_groups)
                    .snapshot_retention_limit(s.snapshot_retention_days as i32)
                    .snapshot_window(&s.snapshot_window)
                    .set_tags(Some(t))
                    .send()
                    .await
                    .ctx("elasticache", "CreateReplicationGroup", &self.name)?;
            }
            Found::Present { changes, attrs } => {
                let fixed: Vec<&str> = changes.iter().map(|c| c.field.as_str()).filter(|f| IMMUTABLE.contains(f)).collect();
                if !fixed.is_empty() {
                    return Err(Error::usage(format!(
                        "replication group {} differs in {} which ElastiCache cannot change in place; tapaudit does not replace a cache: restore the stack file's values, or destroy the cache and provision again",
                        self.name,
                        fixed.join(", ")
                    )));
                }
                let modify = changes.iter().any(|c| !c.field.starts_with("tags."));
                if modify {
                    let mut m = ec
                        .modify_replication_group()
                        .replication_group_id(&self.name)
                        .apply_immediately(true)
                        .automatic_failover_enabled(s.automatic_failover)
                        .multi_az_enabled(s.multi_az)
                        .snapshot_retention_limit(s.snapshot_retention_days as i32)
                        .snapshot_window(&s.snapshot_window)
                        .cache_node_type(&s.node_type)
                        .security_group_ids(&sg)
                        .transit_encryption_mode(TransitEncryptionMode::Required);
                    if changes.iter().any(|c| c.field == "auth") {
                        let live = self.describe(ctx).await?.map(|g| g.user_group_ids().to_vec()).unwrap_or_default();
                        let want = user_groups.clone().unwrap_or_default();
                        let add: Vec<String> = want.iter().filter(|g| !live.contains(g)).cloned().collect();
                        let remove: Vec<String> = live.iter().filter(|g| !want.contains(g)).cloned().collect();
                        m = m
                            .set_user_group_ids_to_add(Some(add).filter(|v| !v.is_empty()))
                            .set_user_group_ids_to_remove(Some(remove).filter(|v| !v.is_empty()));
                    }
                    m.send().await.ctx("elasticache", "ModifyReplicationGroup", &self.name)?;
                }
                if changes.iter().any(|c| c.field.starts_with("tags.")) {
                    ec.add_tags_to_resource().resource_name(&attrs["arn"]).set_tags(Some(t)).send().await.ctx(
                        "elasticache",
                        "AddTagsToResource",
                        &self.name,
                    )?;
                }
            }
        }
        let g = self.wait_available(ctx).await?;
        Ok(group_attrs(&g))
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(g) = self.describe(ctx).await? else { return Ok(None) };
        let live = live_tags(ctx, g.arn().unwrap_or_default()).await?;
        if !ctx.owns(id, pairs(&live)) {
            tracing::warn!("replication group {} does not carry this stack's tags; left alone", self.name);
            return Ok(None);
        }
        ctx.clients.elasticache.delete_replication_group().replication_group_id(&self.name).retain_primary_cluster(false).send().await.ctx(
            "elasticache",
            "DeleteReplicationGroup",
            &self.name,
        )?;
        wait_for(&format!("deletion of replication group {}", self.name), Duration::from_secs(10), Duration::from_secs(3600), || async {
            Ok(self.describe(ctx).await?.is_none().then_some(()))
        })
        .await?;
        Ok(Some(self.name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{cx_of, live_of, stack_with};
    use super::*;
    use crate::controls::testing::eval;
    use crate::finding::Status;

    const CACHE: &str = "[caches.sessions]\nkey = \"data-key\"\nsecurity_group = \"cache-sg\"\n";

    fn problems(extra: &str) -> Vec<String> {
        let stack = stack_with(&format!("{CACHE}{extra}"));
        stack.spec.caches["sessions"].validate(&cx_of(&stack, "sessions")).into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn defaults_are_valid_and_hardened() {
        assert_eq!(problems(""), Vec::<String>::new());
        let c = Cache::default();
        assert_eq!((c.nodes, c.automatic_failover, c.multi_az, c.port, c.snapshot_retention_days, c.auth.as_str()), (2, true, true, 6379, 7, "iam"));
    }

    #[test]
    fn validation_messages() {
        let cases = [
            ("nodes = 1\n", "caches.sessions.nodes must be at least 2 with automatic_failover or multi_az (a replica to fail over to; got 1)"),
            ("nodes = 7\n", "caches.sessions.nodes must be between 1 and 6 (one primary and up to 5 replicas; got 7)"),
            (
                "multi_az = true\nautomatic_failover = false\n",
                "caches.sessions.multi_az needs automatic_failover = true (ElastiCache refuses Multi-AZ without automatic failover)",
            ),
            (
                "snapshot_retention_days = 5\n",
                "caches.sessions.snapshot_retention_days 5 is less than 7, which fedramp-moderate requires (elasticache-snapshot-retention)",
            ),
            ("snapshot_retention_days = 36\n", "caches.sessions.snapshot_retention_days must be between 0 and 35 (got 36)"),
            ("snapshot_window = \"3-5\"\n", "caches.sessions.snapshot_window must be a UTC window \"hh:mm-hh:mm\" (got \"3-5\")"),
            ("snapshot_window = \"03:00-03:30\"\n", "caches.sessions.snapshot_window must be at least 60 minutes long (got \"03:00-03:30\")"),
            ("engine = \"memcached\"\n", "caches.sessions.engine must be \"redis\" or \"valkey\" (got \"memcached\")"),
            (
                "engine_version = \"6.2\"\n",
                "caches.sessions.engine_version must be 7.0 or later with auth = \"iam\" (IAM authentication of RBAC users needs it; got \"6.2\")",
            ),
            ("engine_version = \"latest\"\n", "caches.sessions.engine_version must be a version such as \"7.1\" (got \"latest\")"),
            ("node_type = \"t3.micro\"\n", "caches.sessions.node_type must be an ElastiCache node type such as \"cache.t3.micro\" (got \"t3.micro\")"),
            ("port = 80\n", "caches.sessions.port must be between 1024 and 65535 (got 80)"),
            ("auth = \"token\"\n", "caches.sessions.auth must be \"iam\" or \"none\" (got \"token\")"),
        ];
        for (extra, want) in cases {
            assert_eq!(problems(extra), vec![want.to_string()], "{extra}");
        }
        // a window over midnight is fine; 6.2 is fine without IAM users
        assert_eq!(problems("snapshot_window = \"23:30-00:30\"\n"), Vec::<String>::new());
        assert_eq!(problems("engine_version = \"6.2\"\nauth = \"none\"\n"), Vec::<String>::new());
    }

    #[test]
    fn required_references_and_name_length() {
        let stack = stack_with("[caches.sessions]\n");
        let i = stack.instances().into_iter().find(|i| i.id == "sessions").unwrap();
        let msgs: Vec<String> = stack.spec.caches["sessions"].validate(&stack.cx(&i)).into_iter().map(|p| p.message).collect();
        assert_eq!(
            msgs,
            vec![
                "caches.sessions.key is required: name the key that encrypts the cache at rest (`key = \"<key id>\"`)".to_string(),
                "caches.sessions.security_group is required: name the security group of the nodes (`security_group = \"<sg id>\"`)".to_string(),
            ]
        );
        // the longest prefix (23 characters) and logical id (24) make 48
        let mut long = stack_with("[caches.a-very-long-cache-name-x]\nkey = \"data-key\"\nsecurity_group = \"cache-sg\"\n");
        long.id.project = "longproject12345".into();
        long.id.name = "stack1".into();
        let msgs: Vec<String> =
            long.spec.caches["a-very-long-cache-name-x"].validate(&cx_of(&long, "a-very-long-cache-name-x")).into_iter().map(|p| p.message).collect();
        assert_eq!(
            msgs,
            vec![
                "caches.a-very-long-cache-name-x makes the replication group id \"longproject12345-stack1-a-very-long-cache-name-x\" (48 characters); ElastiCache allows 40: shorten the logical id"
                    .to_string()
            ]
        );
    }

    #[test]
    fn references_name_the_key_for_elasticache_and_the_security_group() {
        let c: Cache = toml::from_str("key = \"k\"\nsecurity_group = \"sg\"\n").unwrap();
        let refs = Component::references(&c);
        assert_eq!(refs[0], Reference::key("key", "k", "elasticache"));
        assert_eq!(refs[1], Reference::new("security_group", "sg", &[Kind::SecurityGroup]));
    }

    #[test]
    fn nodes_and_their_dependencies() {
        let stack = stack_with(CACHE);
        let cx = cx_of(&stack, "sessions");
        let nodes = stack.spec.caches["sessions"].nodes(&cx);
        let ids: Vec<(&str, Vec<&str>)> = nodes.iter().map(|n| (n.id.as_str(), n.deps.iter().map(String::as_str).collect())).collect();
        assert_eq!(
            ids,
            vec![
                ("sessions-subnet-group", vec!["private-subnet-1", "private-subnet-2"]),
                ("sessions-user-group", vec![]),
                ("sessions", vec!["sessions-subnet-group", "data-key", "cache-sg", "sessions-user-group"]),
            ]
        );
        assert!(nodes.iter().all(|n| n.declared_at == "caches.sessions"));
        let without_auth = stack_with(&format!("{CACHE}auth = \"none\"\n"));
        let cx = cx_of(&without_auth, "sessions");
        assert_eq!(without_auth.spec.caches["sessions"].nodes(&cx).len(), 2);
    }

    fn desired(extra: &str) -> State {
        super::testing::desired(&stack_with(&format!("{CACHE}{extra}")))
    }

    #[test]
    fn desired_state_passes_the_elasticache_controls() {
        let st = desired("");
        let g = st.elasticache.replication_groups.iter().next().unwrap();
        assert_eq!(g.meta.id, "tapaudit-t-sessions");
        assert_eq!(g.user_group_ids, vec!["tapaudit-t-sessions-users".to_string()]);
        assert_eq!(g.kms_key_id.as_deref(), Some("arn:aws:kms:us-east-1:000000000000:key/data-key"));
        for c in [
            "elasticache-encryption-at-rest",
            "elasticache-encryption-in-transit",
            "elasticache-auth-enabled",
            "elasticache-automatic-failover",
            "elasticache-multi-az",
            "elasticache-snapshot-retention",
        ] {
            assert_eq!(eval(c, &st), vec![Status::Pass], "{c}");
        }
        // honest: without RBAC the blueprint does not claim authentication
        assert_eq!(eval("elasticache-auth-enabled", &desired("auth = \"none\"\n")), vec![Status::Fail]);
    }

    fn drift_of(live: impl FnOnce(&mut Model)) -> Vec<(String, crate::finding::Status)> {
        let want = desired("");
        let mut got = live_of(&want);
        let g = got.elasticache.replication_groups.items.values_mut().next().unwrap();
        live(g);
        let stack = stack_with(CACHE);
        super::testing::drift(&stack, &want, &got).into_iter().map(|f| (f.message, f.status)).collect()
    }

    #[test]
    fn drift_none_right_after_provisioning() {
        // AWS-assigned values (zones, status, member ids) are not drift
        assert_eq!(
            drift_of(|g| {
                g.status = "modifying".into();
                g.node_groups[0].members[1].availability_zone = Some("us-east-1b".into());
                g.member_clusters = vec!["x-001".into(), "x-002".into()];
            }),
            vec![]
        );
    }

    #[test]
    fn drift_of_changed_settings() {
        let found = drift_of(|g| {
            g.automatic_failover = Observed::Known("disabled".into());
            g.snapshot_retention_days = Observed::Known(1);
            g.user_group_ids.clear();
            g.node_groups[0].members.pop();
        });
        let msgs: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
        assert!(msgs.iter().any(|m| m.contains("automatic_failover is disabled but the stack file declares enabled")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("snapshot_retention_days is 1 but the stack file declares 7")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("user_group_ids is [] but the stack file declares")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("replicas is 0 but the stack file declares 1")), "{msgs:?}");
        assert!(found.iter().all(|(_, s)| *s == Status::Fail));
    }

    #[test]
    fn drift_of_unread_values_is_an_error() {
        let found = drift_of(|g| g.multi_az = Observed::Unknown("DescribeReplicationGroups did not report MultiAZ".into()));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, Status::Error);
        let found = drift_of(|g| g.node_groups.clear());
        assert_eq!(found.iter().map(|f| f.1).collect::<Vec<_>>(), vec![Status::Error]);
    }
}

/// Test helpers shared by the cache, file-system and bucket tests: stacks built from text
/// without the registry's reference checks (the security-group kind is another module's).
#[cfg(test)]
pub mod testing {
    use crate::components::{Cx, Stack};
    use crate::model::State;
    use crate::vocab::{Source, StackId};

    /// `[keys.data-key]` plus `text`, parsed but not validated.
    pub fn stack_with(text: &str) -> Stack {
        let text = format!("project = \"tapaudit\"\nstack = \"t\"\n\n[keys.data-key]\n\n{text}");
        let source = Source::new("t.toml".into(), text.clone()).expect("toml");
        let spec: crate::spec::Spec = toml::from_str(&text).expect("stack file");
        let id = StackId { project: spec.project.clone(), name: "t".into(), frameworks: spec.frameworks.clone(), tags: spec.tags.clone() };
        Stack { spec, id, name: "t".into(), source }
    }

    pub fn cx_of<'a>(stack: &'a Stack, id: &str) -> Cx<'a> {
        let i = stack.instances().into_iter().find(|i| i.id == id).expect("declared");
        Cx { stack, id: i.id, path: i.path }
    }

    /// The whole desired State of the stack's components.
    pub fn desired(stack: &Stack) -> State {
        let mut st = State::default();
        crate::components::desired(stack, &mut st);
        st
    }

    /// A live State that is exactly the desired one (as right after provisioning).
    pub fn live_of(desired: &State) -> State {
        desired.clone()
    }

    pub fn drift(stack: &Stack, desired: &State, live: &State) -> Vec<crate::finding::Finding> {
        let cat = crate::controls::Catalogue::load().expect("catalogue");
        crate::components::drift(desired, live, stack, &cat, &stack.spec.frameworks)
    }
}
