//! `plan`, `provision` and `destroy`: the stack file's logical resources as a dependency
//! graph. Every node finds its resource by tag or name before it creates anything, so a
//! re-run creates nothing new and an interrupted run finishes without duplicates.

pub mod graph;
pub mod lock;
pub mod nodes;
pub mod policy {
    //! Moved to `crate::vocab::policy` (shared by every layer).
    pub use crate::vocab::policy::*;
}

pub use nodes::{declared_at, nodes, Node, NodeOps};

use crate::aws::{Clients, Identity};
use crate::components::Stack;
use crate::error::{Error, Result, SdkResultExt};
use crate::progress::Progress;
use crate::vocab::{TAG_LOGICAL_ID, TAG_STACK};
use graph::Order;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Attributes a node exposes to its dependents and to the stack outputs (ids, ARNs, names).
pub type Attrs = BTreeMap<String, String>;

/// One setting that differs between the stack file and AWS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub field: String,
    pub want: String,
    pub got: String,
}

impl Change {
    pub fn new(field: &str, want: impl ToString, got: impl ToString) -> Self {
        Change { field: field.to_string(), want: want.to_string(), got: got.to_string() }
    }
}

/// What a node found in AWS.
#[derive(Debug, Clone)]
pub enum Found {
    Absent,
    Present { attrs: Attrs, changes: Vec<Change> },
}

/// Push a change when `want != got`.
pub fn diff<T: PartialEq + std::fmt::Debug>(changes: &mut Vec<Change>, field: &str, want: T, got: T) {
    if want != got {
        changes.push(Change::new(field, format!("{want:?}"), format!("{got:?}")));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Delete,
    Absent,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Delete => "delete",
            Action::Absent => "absent",
        }
    }
}

/// Everything a node needs: clients, the stack, who we are, the zones, and the attributes
/// of the nodes that ran before it.
pub struct Ctx {
    pub clients: Clients,
    pub stack: Stack,
    pub account: String,
    /// The caller's ARN (STS), recorded in the stack lock.
    pub caller: String,
    pub partition: String,
    pub region: String,
    pub azs: Vec<String>,
    /// `destroy` takes a final snapshot of each database before deleting it (default true).
    pub final_snapshot: bool,
    outs: Mutex<BTreeMap<String, Attrs>>,
    journal: Mutex<Option<Journal>>,
}

/// The stack lock as a creation journal (see `lock::StackLock`).
struct Journal {
    lock_arn: String,
    run: String,
    inherited: BTreeMap<String, String>,
}

impl Ctx {
    pub async fn new(clients: Clients, stack: Stack, ident: Identity) -> Result<Self> {
        let region = clients.region.clone();
        let azs = crate::components::network::discover_azs(&clients, stack.spec.network.az_count).await?;
        Ok(Ctx {
            clients,
            stack,
            account: ident.account,
            caller: ident.arn,
            partition: ident.partition,
            region,
            azs,
            final_snapshot: true,
            outs: Mutex::new(BTreeMap::new()),
            journal: Mutex::new(None),
        })
    }

    /// `<project>-<stack>-<suffix>`
    pub fn name(&self, suffix: &str) -> String {
        self.stack.id.name(suffix)
    }

    /// Tags for a logical resource: the stack's tags, the logical id and a Name.
    pub fn tags(&self, logical_id: &str, name: &str) -> BTreeMap<String, String> {
        let mut tags = self.stack.base_tags();
        tags.insert(TAG_LOGICAL_ID.to_string(), logical_id.to_string());
        tags.entry("Name".to_string()).or_insert_with(|| name.to_string());
        tags
    }

    pub fn stack_name(&self) -> &str {
        &self.stack.name
    }

    /// True when the tags mark a resource as this stack's `logical_id`.
    pub fn owns<'a>(&self, logical_id: &str, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        let mut stack = false;
        let mut logical = false;
        for (k, v) in tags {
            stack |= k == TAG_STACK && v == self.stack.name;
            logical |= k == TAG_LOGICAL_ID && v == logical_id;
        }
        stack && logical
    }

    /// A resource found by its physical name is adopted only when it carries this stack's tags
    /// for `logical_id`; anything else is someone else's: provision stops and names it.
    pub fn claim<'a>(&self, logical_id: &str, kind: &str, name: &str, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<()> {
        let tags: BTreeMap<&str, &str> = tags.into_iter().collect();
        if self.owns(logical_id, tags.iter().map(|(k, v)| (*k, *v))) {
            return Ok(());
        }
        Err(Error::usage(not_ours_message(&self.stack.name, logical_id, kind, name, tags.get(TAG_STACK).copied(), tags.get(TAG_LOGICAL_ID).copied())))
    }

    /// At most one resource may carry this stack's tags for one logical id.
    pub fn single<T>(&self, logical_id: &str, kind: &str, mut found: Vec<T>, id_of: impl Fn(&T) -> String) -> Result<Option<T>> {
        if found.len() > 1 {
            let ids: Vec<String> = found.iter().map(&id_of).collect();
            return Err(Error::usage(duplicate_message(&self.stack.name, logical_id, kind, &ids)));
        }
        Ok(found.pop())
    }

    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:{}:{}:{}:{}:{}", self.partition, service, self.region, self.account, resource)
    }

    pub fn set(&self, node: &str, attrs: Attrs) {
        self.outs.lock().expect("outputs lock").insert(node.to_string(), attrs);
    }

    /// An attribute of a node that already ran.
    pub fn get(&self, node: &str, key: &str) -> Option<String> {
        self.outs.lock().expect("outputs lock").get(node).and_then(|a| a.get(key)).cloned()
    }

    /// Like `get`, for attributes that must be there because the node depends on `node`.
    pub fn need(&self, node: &str, key: &str) -> Result<String> {
        self.get(node, key).ok_or_else(|| Error::usage(format!("internal: {node}.{key} is not known yet")))
    }

    /// From now on, creations are journalled on this lock; `inherited` is what the lock's
    /// previous (dead) holder was creating.
    pub fn attach_lock(&self, lock: &lock::StackLock) {
        let lock_arn = self.arn("logs", &format!("log-group:{}", lock.name));
        *self.journal.lock().expect("journal lock") = Some(Journal { lock_arn, run: lock.holder.run.clone(), inherited: lock.inherited.clone() });
    }

    /// True when the run whose lock this one took over was creating `name` as `logical_id`
    /// when it stopped: that untagged resource is its, so this run adopts it.
    pub fn inherited(&self, logical_id: &str, name: &str) -> bool {
        let j = self.journal.lock().expect("journal lock");
        j.as_ref().and_then(|j| j.inherited.get(logical_id)).is_some_and(|n| n == name)
    }

    /// Record on the lock, before a create call whose tags may not stick, what is being created.
    pub async fn journal_begin(&self, logical_id: &str, name: &str) -> Result<()> {
        let Some((arn, run)) = self.journal.lock().expect("journal lock").as_ref().map(|j| (j.lock_arn.clone(), j.run.clone())) else { return Ok(()) };
        let key = format!("{}{logical_id}", lock::TAG_CREATING);
        self.clients.logs.tag_resource().resource_arn(&arn).tags(key, lock::tag_value(&format!("{run} {name}"))).send().await.ctx(
            "logs",
            "TagResource",
            &arn,
        )?;
        Ok(())
    }

    /// The resource carries its tags now: drop its journal record.
    pub async fn journal_end(&self, logical_id: &str) -> Result<()> {
        let Some(arn) = self.journal.lock().expect("journal lock").as_ref().map(|j| j.lock_arn.clone()) else { return Ok(()) };
        let key = format!("{}{logical_id}", lock::TAG_CREATING);
        self.clients.logs.untag_resource().resource_arn(&arn).tag_keys(key).send().await.ctx("logs", "UntagResource", &arn)?;
        Ok(())
    }

    fn forget(&self) {
        self.outs.lock().expect("outputs lock").clear();
    }

    pub fn outputs(&self) -> BTreeMap<String, Attrs> {
        self.outs.lock().expect("outputs lock").clone()
    }
}

/// Why a resource found by name is not adopted, and what to do (one line).
pub fn not_ours_message(stack: &str, logical_id: &str, kind: &str, name: &str, tag_stack: Option<&str>, tag_logical: Option<&str>) -> String {
    let carries = match (tag_stack, tag_logical) {
        (None, None) => "it has no tapaudit tags".to_string(),
        (s, l) => format!("it carries {TAG_STACK}={} and {TAG_LOGICAL_ID}={}", s.unwrap_or("(none)"), l.unwrap_or("(none)")),
    };
    format!(
        "{kind} {name} already exists but is not stack {stack}'s {logical_id} ({carries}); provision adopts a resource found by name only when it carries {TAG_STACK}={stack} and {TAG_LOGICAL_ID}={logical_id}: delete or rename it, or add those two tags if it really is this stack's, then run provision again"
    )
}

/// Two (or more) resources claim one logical id (one line).
pub fn duplicate_message(stack: &str, logical_id: &str, kind: &str, ids: &[String]) -> String {
    format!(
        "{} {kind} resources carry {TAG_STACK}={stack} and {TAG_LOGICAL_ID}={logical_id}: {}; keep the one in use and delete the other (or remove its tapaudit tags), then run again",
        ids.len(),
        ids.join(" and ")
    )
}

/// One line of a plan or a run.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub logical_id: String,
    pub kind: String,
    pub action: Action,
    pub changes: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub stack: String,
    pub steps: Vec<Step>,
    /// Nodes that never ran because a dependency failed.
    pub blocked: Vec<String>,
}

impl RunSummary {
    pub fn failed(&self) -> Vec<&Step> {
        self.steps.iter().filter(|s| s.error.is_some()).collect()
    }

    pub fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.error.is_none() && s.action == action).count()
    }
}

fn edges(nodes: &[Node]) -> BTreeMap<String, Vec<String>> {
    nodes.iter().map(|n| (n.id.clone(), n.deps.clone())).collect()
}

fn physical_id(attrs: &Attrs) -> Option<String> {
    attrs.get("id").or_else(|| attrs.get("arn")).or_else(|| attrs.get("name")).cloned()
}

/// Inspect every node (no writes): what provision would create, change or leave alone.
pub async fn plan(ctx: Arc<Ctx>, concurrency: usize) -> Result<RunSummary> {
    let nodes = nodes(&ctx.stack);
    let by_id: BTreeMap<String, Node> = nodes.iter().map(|n| (n.id.clone(), n.clone())).collect();
    let e = edges(&nodes);
    let result = graph::run(&e, Order::DepsFirst, concurrency, |id| {
        let ctx = ctx.clone();
        let node = by_id[&id].clone();
        async move {
            let found = node.kind.inspect(&ctx, &node.id).await?;
            if let Found::Present { attrs, .. } = &found {
                ctx.set(&node.id, attrs.clone());
            }
            Ok((node, found))
        }
    })
    .await;
    let mut steps = Vec::new();
    let mut errors = Vec::new();
    for o in result.done {
        let (node, found) = match o.result {
            Ok(r) => r,
            Err(e) => {
                errors.push((o.id, e));
                continue;
            }
        };
        let (action, changes, pid) = match found {
            Found::Absent => (Action::Create, vec![], None),
            Found::Present { changes, attrs } if changes.is_empty() => (Action::Unchanged, vec![], physical_id(&attrs)),
            Found::Present { changes, attrs } => (Action::Update, changes, physical_id(&attrs)),
        };
        steps.push(Step {
            logical_id: node.id.clone(),
            kind: node.kind.label().to_string(),
            action,
            changes,
            physical_id: pid,
            error: None,
            seconds: o.elapsed.as_secs_f64(),
        });
    }
    all_errors(&nodes, errors, "plan stopped")?;
    sort_steps(&mut steps, &nodes);
    Ok(RunSummary { stack: ctx.stack.name.clone(), steps, blocked: result.blocked })
}

fn sort_steps(steps: &mut [Step], nodes: &[Node]) {
    let pos: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    steps.sort_by_key(|s| pos.get(s.logical_id.as_str()).copied().unwrap_or(usize::MAX));
}

/// Before provision writes anything: inspect every node as `plan` does, and stop when any
/// resource found by name is not this stack's, when two resources claim one logical id, or
/// when a read fails. A conflict therefore creates nothing.
pub async fn preflight(ctx: Arc<Ctx>, concurrency: usize) -> Result<()> {
    let nodes = nodes(&ctx.stack);
    let by_id: BTreeMap<String, Node> = nodes.iter().map(|n| (n.id.clone(), n.clone())).collect();
    let result = graph::run(&edges(&nodes), Order::DepsFirst, concurrency, |id| {
        let ctx = ctx.clone();
        let node = by_id[&id].clone();
        async move {
            if let Found::Present { attrs, .. } = node.kind.inspect(&ctx, &node.id).await? {
                ctx.set(&node.id, attrs);
            }
            Ok(())
        }
    })
    .await;
    ctx.forget();
    let errors: Vec<(String, Error)> = result.done.into_iter().filter_map(|o| o.result.err().map(|e| (o.id, e))).collect();
    all_errors(&nodes, errors, "provision stopped before creating anything")
}

/// Every node's inspection error at once, in node order, as one error: a usage error listing
/// them all (exit 2), or, when a read failed, the first AWS error (the others printed first).
fn all_errors(nodes: &[Node], mut errors: Vec<(String, Error)>, stopped: &str) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let pos: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    errors.sort_by_key(|(id, _)| pos.get(id.as_str()).copied().unwrap_or(usize::MAX));
    let lines: Vec<String> = errors.iter().map(|(id, e)| format!("{id}: {e}")).collect();
    let first_aws = errors.iter().position(|(_, e)| matches!(e, Error::Aws(_)));
    let Some(i) = first_aws else {
        let mut lines = lines;
        lines.push(format!("{stopped}: {} problem(s) above", errors.len()));
        return Err(Error::usage(lines.join("\n")));
    };
    for (j, l) in lines.iter().enumerate() {
        if j != i {
            eprintln!("tapaudit: error: {l}");
        }
    }
    eprintln!("tapaudit: {stopped}: a read failed");
    Err(errors.swap_remove(i).1)
}

/// Build or converge every node along the dependency graph, reporting each node's start,
/// waits and outcome to `progress`.
pub async fn apply(ctx: Arc<Ctx>, concurrency: usize, progress: &Progress) -> RunSummary {
    let nodes = nodes(&ctx.stack);
    let by_id: BTreeMap<String, Node> = nodes.iter().map(|n| (n.id.clone(), n.clone())).collect();
    let e = edges(&nodes);
    let total = nodes.len();
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    progress.begin_nodes("provision", nodes.iter().map(|n| (n.id.clone(), n.deps.clone())));
    let result = graph::run(&e, Order::DepsFirst, concurrency, |id| {
        let ctx = ctx.clone();
        let node = by_id[&id].clone();
        let counter = counter.clone();
        let progress = progress.clone();
        async move {
            let started = std::time::Instant::now();
            progress.node_started(&node.id);
            let out = crate::progress::NODE.scope((progress.clone(), node.id.clone()), apply_node(&ctx, &node)).await;
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            match &out {
                Ok((attrs, action, _)) => progress.node_done(&node.id, past(*action), physical_id(attrs).as_deref(), started.elapsed(), n, total),
                Err(e) => progress.node_done(&node.id, &format!("FAILED: {e}"), None, started.elapsed(), n, total),
            }
            out.map(|(attrs, action, changes)| (node, attrs, action, changes))
        }
    })
    .await;
    progress.finish();
    let mut steps = Vec::new();
    for o in result.done {
        let kind_label = by_id[&o.id].kind.label().to_string();
        match o.result {
            Ok((node, attrs, action, changes)) => steps.push(Step {
                logical_id: node.id.clone(),
                kind: kind_label,
                action,
                changes,
                physical_id: physical_id(&attrs),
                error: None,
                seconds: o.elapsed.as_secs_f64(),
            }),
            Err(e) => steps.push(Step {
                logical_id: o.id.clone(),
                kind: kind_label,
                action: Action::Create,
                changes: vec![],
                physical_id: None,
                error: Some(e.to_string()),
                seconds: o.elapsed.as_secs_f64(),
            }),
        }
    }
    sort_steps(&mut steps, &nodes);
    RunSummary { stack: ctx.stack.name.clone(), steps, blocked: result.blocked }
}

/// Errors that real AWS returns while a just-created IAM role or resource propagates.
fn is_eventual_consistency(e: &Error) -> bool {
    match e {
        Error::Aws(a) => {
            let m = a.message.to_ascii_lowercase();
            matches!(
                a.code.as_str(),
                "InvalidParameterValueException" | "InvalidParameterException" | "BadRequestException" | "InvalidParameterValue" | "ClientException"
            ) && (m.contains("role") || m.contains("assume") || m.contains("not authorized") || m.contains("propagat"))
        }
        _ => false,
    }
}

/// How a finished node's outcome reads in progress lines.
fn past(action: Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Unchanged => "unchanged",
        Action::Delete => "deleted",
        Action::Absent => "absent",
    }
}

async fn apply_node(ctx: &Ctx, node: &Node) -> Result<(Attrs, Action, Vec<Change>)> {
    let found = node.kind.inspect(ctx, &node.id).await?;
    let (action, changes) = match &found {
        Found::Absent => (Action::Create, vec![]),
        Found::Present { changes, .. } if changes.is_empty() => (Action::Unchanged, vec![]),
        Found::Present { changes, .. } => (Action::Update, changes.clone()),
    };
    let attrs = match found {
        Found::Present { attrs, changes } if changes.is_empty() => attrs,
        found => {
            let mut attempt = 0;
            loop {
                match node.kind.apply(ctx, &node.id, &found).await {
                    Ok(a) => break a,
                    Err(e) if attempt < 4 && is_eventual_consistency(&e) => {
                        attempt += 1;
                        tracing::info!("{}: retrying after eventual-consistency error: {e}", node.id);
                        tokio::time::sleep(Duration::from_secs(2 * attempt)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    };
    ctx.set(&node.id, attrs.clone());
    Ok((attrs, action, changes))
}

/// Delete every node's resource that carries this stack's tag, dependents first.
pub async fn destroy(ctx: Arc<Ctx>, concurrency: usize, progress: &Progress) -> RunSummary {
    let nodes = nodes(&ctx.stack);
    let by_id: BTreeMap<String, Node> = nodes.iter().map(|n| (n.id.clone(), n.clone())).collect();
    let e = edges(&nodes);
    let total = nodes.len();
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // in reverse, a node waits for its dependents
    let mut dependents: BTreeMap<String, Vec<String>> = nodes.iter().map(|n| (n.id.clone(), vec![])).collect();
    for n in &nodes {
        for d in &n.deps {
            dependents.entry(d.clone()).or_default().push(n.id.clone());
        }
    }
    progress.begin_nodes("destroy", nodes.iter().map(|n| (n.id.clone(), dependents.remove(&n.id).unwrap_or_default())));
    let result = graph::run(&e, Order::DependentsFirst, concurrency, |id| {
        let ctx = ctx.clone();
        let node = by_id[&id].clone();
        let counter = counter.clone();
        let progress = progress.clone();
        async move {
            let started = std::time::Instant::now();
            progress.node_started(&node.id);
            let deleted = crate::progress::NODE.scope((progress.clone(), node.id.clone()), node.kind.delete(&ctx, &node.id)).await;
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            match &deleted {
                Ok(Some(pid)) => progress.node_done(&node.id, "deleted", Some(pid), started.elapsed(), n, total),
                Ok(None) => progress.node_done(&node.id, "absent", None, started.elapsed(), n, total),
                Err(e) => progress.node_done(&node.id, &format!("FAILED: {e}"), None, started.elapsed(), n, total),
            }
            deleted
        }
    })
    .await;
    progress.finish();
    let mut steps: Vec<Step> = result
        .done
        .into_iter()
        .map(|o| {
            let kind = by_id[&o.id].kind.label().to_string();
            match o.result {
                Ok(pid) => Step {
                    logical_id: o.id,
                    kind,
                    action: if pid.is_some() { Action::Delete } else { Action::Absent },
                    changes: vec![],
                    physical_id: pid,
                    error: None,
                    seconds: o.elapsed.as_secs_f64(),
                },
                Err(e) => Step {
                    logical_id: o.id,
                    kind,
                    action: Action::Delete,
                    changes: vec![],
                    physical_id: None,
                    error: Some(e.to_string()),
                    seconds: o.elapsed.as_secs_f64(),
                },
            }
        })
        .collect();
    sort_steps(&mut steps, &nodes);
    steps.reverse();
    RunSummary { stack: ctx.stack.name.clone(), steps, blocked: result.blocked }
}

/// Poll `check` until it yields `Some`, every `every`, for at most `limit`.
pub async fn wait_for<T, F, Fut>(what: &str, every: Duration, limit: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = std::time::Instant::now();
    let mut reported = false;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if !reported {
            crate::progress::waiting(what);
            reported = true;
        }
        if start.elapsed() > limit {
            return Err(Error::usage(format!("timed out after {}s waiting for {what}", limit.as_secs())));
        }
        tokio::time::sleep(every).await;
    }
}

/// Changes for every wanted tag that is missing or different (extra live tags are fine).
pub fn tag_changes<'a>(want: &BTreeMap<String, String>, got: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Change> {
    let got: BTreeMap<&str, &str> = got.into_iter().collect();
    want.iter()
        .filter(|(k, v)| got.get(k.as_str()) != Some(&v.as_str()))
        .map(|(k, v)| Change::new(&format!("tags.{k}"), v, got.get(k.as_str()).copied().unwrap_or("(absent)")))
        .collect()
}

pub fn attrs<const N: usize>(pairs: [(&str, String); N]) -> Attrs {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
