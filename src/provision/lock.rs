//! The stack lock: `provision` and `destroy` of one stack never run twice at once.
//!
//! The lock is a CloudWatch Logs log group, `/tapaudit/lock/<project>-<stack>`, in the stack's
//! account and region. Why a log group:
//! - `CreateLogGroup` is an atomic create-if-absent: the name is unique per account and region,
//!   and a second create fails with `ResourceAlreadyExistsException`. The holder's record (tags:
//!   caller ARN, host, pid, command, since) is written by the same call, so a lock never exists
//!   without its record.
//! - `DeleteLogGroup` frees the name at once. Secrets Manager, the other obvious candidate, is a
//!   poor lock: deleting a secret only schedules it (7–30 days, or an asynchronous forced delete)
//!   and the name stays taken meanwhile. A KMS alias is atomic too but cannot carry a record;
//!   IAM is global and eventually consistent. Log groups need no new SDK crate and cost nothing
//!   while empty.
//! - IAM: `logs:CreateLogGroup`, `logs:TagResource` (tags at creation), `logs:DescribeLogGroups`,
//!   `logs:ListTagsForResource`, `logs:DeleteLogGroup` on `log-group:/tapaudit/lock/*`.
//!
//! The lock does not carry `tapaudit:stack`, so stack-scoped scans and drift never see it; an
//! account-wide scan that runs during a provision does see it (a log group without a KMS key or
//! retention) and reports it like any other log group.
//!
//! A held lock makes the second run wait up to `--lock-timeout`, then refuse with the holder's
//! record. A lock whose holder is a process of this same machine (same boot and pid namespace)
//! that no longer runs is stale: it is taken over with a message (a run killed with SIGKILL
//! leaves it behind). Anything else is released only by its holder or by `--force-unlock`.

use crate::aws::Clients;
use crate::components::Stack;
use crate::error::{Error, Result, SdkResultExt};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

pub const TAG_LOCK: &str = "tapaudit:lock";
pub const TAG_HOLDER: &str = "tapaudit:lock-holder";
pub const TAG_HOST: &str = "tapaudit:lock-host";
pub const TAG_PID: &str = "tapaudit:lock-pid";
pub const TAG_PROCESS_NS: &str = "tapaudit:lock-process-ns";
pub const TAG_SINCE: &str = "tapaudit:lock-since";
pub const TAG_COMMAND: &str = "tapaudit:lock-command";
pub const TAG_RUN: &str = "tapaudit:lock-run";
/// `tapaudit:lock-creating:<logical id>` = `<run> <physical name>`: written on the lock just
/// before a create call whose tags may not stick (see [`StackLock`]), removed once the resource
/// carries its tags. Records of another run than the holder's are ignored.
pub const TAG_CREATING: &str = "tapaudit:lock-creating:";

/// How often a waiting run looks at the lock again.
const POLL: Duration = Duration::from_secs(2);

/// Who holds a lock, as recorded in its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub caller: String,
    pub host: String,
    pub pid: Option<u32>,
    /// `<boot id>.<pid namespace inode>`: a pid means something only within one of these.
    pub process_ns: Option<String>,
    pub since: String,
    pub command: String,
    pub run: String,
    /// Resources this holder was creating (logical id → physical name), from `TAG_CREATING`.
    pub creating: BTreeMap<String, String>,
}

impl Holder {
    /// The record of this process.
    pub fn current(caller: &str, command: &str) -> Holder {
        let since = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_else(|| "unknown".to_string());
        Holder {
            caller: caller.to_string(),
            host: host_name(),
            pid: Some(std::process::id()),
            process_ns: process_namespace(),
            since,
            command: command.to_string(),
            run: format!("{:016x}", rand::random::<u64>()),
            creating: BTreeMap::new(),
        }
    }

    pub fn tags(&self, lock: &str) -> HashMap<String, String> {
        let mut t = HashMap::new();
        t.insert(TAG_LOCK.to_string(), tag_value(lock));
        t.insert(TAG_HOLDER.to_string(), tag_value(&self.caller));
        t.insert(TAG_HOST.to_string(), tag_value(&self.host));
        if let Some(pid) = self.pid {
            t.insert(TAG_PID.to_string(), pid.to_string());
        }
        if let Some(ns) = &self.process_ns {
            t.insert(TAG_PROCESS_NS.to_string(), tag_value(ns));
        }
        t.insert(TAG_SINCE.to_string(), tag_value(&self.since));
        t.insert(TAG_COMMAND.to_string(), tag_value(&self.command));
        t.insert(TAG_RUN.to_string(), tag_value(&self.run));
        t
    }

    /// The record read back from a lock's tags; `created` (the log group's creation time) stands
    /// in for a missing `since`. A log group without the lock tags has an unknown holder.
    pub fn from_tags(tags: &HashMap<String, String>, created: Option<String>) -> Holder {
        let get = |k: &str| tags.get(k).cloned();
        Holder {
            caller: get(TAG_HOLDER).unwrap_or_else(|| "an unknown holder (the log group has no tapaudit lock tags)".to_string()),
            host: get(TAG_HOST).unwrap_or_else(|| "unknown host".to_string()),
            pid: get(TAG_PID).and_then(|p| p.parse().ok()),
            process_ns: get(TAG_PROCESS_NS),
            since: get(TAG_SINCE).or(created).unwrap_or_else(|| "an unknown time".to_string()),
            command: get(TAG_COMMAND).unwrap_or_else(|| "unknown command".to_string()),
            run: get(TAG_RUN).unwrap_or_default(),
            creating: creating_records(tags),
        }
    }

    /// `tapaudit provision, pid 4242 on host ci-7`
    pub fn describe(&self) -> String {
        let pid = self.pid.map(|p| format!("pid {p}")).unwrap_or_else(|| "unknown pid".to_string());
        format!("tapaudit {}, {pid} on host {}", self.command, self.host)
    }

    /// True when the holder is a process of this machine (same boot, same pid namespace, same
    /// host name) that is no longer running. Unknown means alive: only a sure answer breaks a lock.
    pub fn is_dead_local_process(&self) -> bool {
        let (Some(pid), Some(ns), Some(here)) = (self.pid, self.process_ns.as_deref(), process_namespace()) else {
            return false;
        };
        ns == tag_value(&here) && self.host == tag_value(&host_name()) && pid != std::process::id() && process_gone(pid)
    }
}

/// The holder's own creation records (logical id → physical name).
fn creating_records(tags: &HashMap<String, String>) -> BTreeMap<String, String> {
    let Some(run) = tags.get(TAG_RUN) else { return BTreeMap::new() };
    tags.iter()
        .filter_map(|(k, v)| {
            let id = k.strip_prefix(TAG_CREATING)?;
            let (by, name) = v.split_once(' ')?;
            (by == run).then(|| (id.to_string(), name.to_string()))
        })
        .collect()
}

/// CloudWatch Logs tag values allow letters, digits, spaces and `_ . : / = + - @`, up to 256
/// characters; anything else becomes `_`.
pub fn tag_value(s: &str) -> String {
    s.chars().map(|c| if c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c) { c } else { '_' }).take(256).collect()
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// `<boot id>.<pid namespace inode>` on Linux; None elsewhere (then no lock is ever judged stale).
fn process_namespace() -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let inode: String = ns.to_string_lossy().chars().filter(char::is_ascii_digit).collect();
    (!inode.is_empty()).then(|| format!("{}.{inode}", boot.trim()))
}

/// A pid that has no /proc entry, or only a zombie's, runs no more.
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])).unwrap_or(false),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// The refusal when the lock stays held (one line).
pub fn held_message(stack: &str, lock: &str, holder: &Holder, waited: Duration) -> String {
    format!(
        "stack {stack} is locked by {} since {} ({}; lock {lock}; waited {}s); if that run is dead, rerun with --force-unlock",
        holder.caller,
        holder.since,
        holder.describe(),
        waited.as_secs()
    )
}

/// A lock held by this process. Release it with [`StackLock::release`] on every path.
///
/// It doubles as a creation journal for the one create call whose tags an endpoint may drop
/// (Kinesis CreateStream on moto): the run records the resource on the lock before creating
/// it, and a run that takes over a dead holder's lock inherits those records, so it adopts
/// exactly the untagged resource the dead run was creating, and nothing else.
#[derive(Debug)]
pub struct StackLock {
    logs: aws_sdk_cloudwatchlogs::Client,
    pub name: String,
    pub holder: Holder,
    /// What the previous, dead holder was creating when it stopped (taken over or force-unlocked).
    pub inherited: BTreeMap<String, String>,
    released: bool,
}

pub struct LockOptions {
    /// How long to wait for a held lock before refusing.
    pub wait: Duration,
    /// Remove an existing lock (whoever holds it) before taking it.
    pub force_unlock: bool,
}

impl StackLock {
    /// Take the stack's lock for `command` (provision, destroy).
    pub async fn acquire(clients: &Clients, stack: &Stack, caller: &str, command: &str, opts: &LockOptions) -> Result<StackLock> {
        let logs = clients.logs.clone();
        let name = stack.id.lock_group();
        let me = Holder::current(caller, command);
        let mut inherited = BTreeMap::new();
        if opts.force_unlock {
            match read(&logs, &name).await? {
                Some(h) => {
                    delete(&logs, &name).await?;
                    inherited = h.creating.clone();
                    eprintln!("--force-unlock: removed lock {name} held by {} since {} ({})", h.caller, h.since, h.describe());
                }
                None => eprintln!("--force-unlock: stack {} was not locked", stack.name),
            }
        }
        let start = Instant::now();
        let mut announced = false;
        loop {
            let created = logs.create_log_group().log_group_name(&name).set_tags(Some(me.tags(&stack.prefix()))).send().await;
            match created {
                Ok(_) => {
                    tracing::debug!("lock {name} taken");
                    return Ok(StackLock { logs, name, holder: me, inherited, released: false });
                }
                Err(e) if crate::error::sdk_code(&e) == Some("ResourceAlreadyExistsException") => {}
                Err(e) => return Err(crate::error::from_sdk("logs", "CreateLogGroup", &name, e)),
            }
            // held: by whom? (it may have been released in between: then try again at once)
            let Some(holder) = read(&logs, &name).await? else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            if holder.is_dead_local_process() {
                eprintln!(
                    "stack {}: lock {name} was held by {} since {}, which no longer runs on this host; taking it over",
                    stack.name,
                    holder.describe(),
                    holder.since
                );
                // only the lock that was judged stale: not one another run took meanwhile
                if read(&logs, &name).await?.is_some_and(|h| h.run == holder.run) {
                    delete(&logs, &name).await?;
                    inherited = holder.creating.clone();
                }
                continue;
            }
            let waited = start.elapsed();
            if waited >= opts.wait {
                return Err(Error::usage(held_message(&stack.name, &name, &holder, waited)));
            }
            if !announced {
                eprintln!(
                    "stack {} is locked by {} since {} ({}); waiting up to {}s",
                    stack.name,
                    holder.caller,
                    holder.since,
                    holder.describe(),
                    opts.wait.as_secs()
                );
                announced = true;
            }
            tokio::time::sleep(POLL.min(opts.wait.saturating_sub(waited)).max(Duration::from_millis(100))).await;
        }
    }

    /// Delete the lock if it is still ours (a `--force-unlock` by someone else may have replaced it).
    pub async fn release(mut self) -> Result<()> {
        self.released = true;
        match read(&self.logs, &self.name).await? {
            Some(h) if h.run == self.holder.run => {
                delete(&self.logs, &self.name).await?;
                tracing::debug!("lock {} released", self.name);
            }
            Some(h) => tracing::warn!("lock {} is now held by {} ({}); left alone", self.name, h.caller, h.describe()),
            None => tracing::warn!("lock {} was removed by someone else (--force-unlock?) while this run held it", self.name),
        }
        Ok(())
    }
}

impl Drop for StackLock {
    fn drop(&mut self) {
        if !self.released {
            eprintln!("tapaudit: the stack lock {} was not released; the next run on this host takes it over", self.name);
        }
    }
}

/// The lock's holder, or None when there is no lock.
pub async fn read(logs: &aws_sdk_cloudwatchlogs::Client, name: &str) -> Result<Option<Holder>> {
    let out = logs.describe_log_groups().log_group_name_prefix(name).send().await.ctx("logs", "DescribeLogGroups", name)?;
    let Some(group) = out.log_groups().iter().find(|g| g.log_group_name() == Some(name)) else { return Ok(None) };
    let created = group.creation_time().and_then(|ms| {
        let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000).ok()?;
        t.format(&time::format_description::well_known::Rfc3339).ok()
    });
    let Some(arn) = group.arn().map(|a| a.trim_end_matches(":*").to_string()) else {
        return Err(Error::usage(format!("logs DescribeLogGroups returned lock {name} without its ARN")));
    };
    let tags = match logs.list_tags_for_resource().resource_arn(&arn).send().await.found("logs", "ListTagsForResource", &arn, &["ResourceNotFoundException"])? {
        Some(t) => t.tags().cloned().unwrap_or_default(),
        // deleted between the two calls
        None => return Ok(None),
    };
    Ok(Some(Holder::from_tags(&tags, created)))
}

async fn delete(logs: &aws_sdk_cloudwatchlogs::Client, name: &str) -> Result<()> {
    logs.delete_log_group().log_group_name(name).send().await.found("logs", "DeleteLogGroup", name, &["ResourceNotFoundException"])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_values_are_sanitised() {
        let me = Holder::current("arn:aws:iam::123456789012:user/ci", "provision");
        let tags = me.tags("tapaudit-dev");
        assert_eq!(tags[TAG_LOCK], "tapaudit-dev");
        assert!(!tags.contains_key(crate::spec::TAG_STACK), "the lock is not a stack resource");
        let back = Holder::from_tags(&tags, None);
        assert_eq!(back.caller, me.caller);
        assert_eq!(back.pid, Some(std::process::id()));
        assert_eq!(back.run, me.run);
        assert!(time::OffsetDateTime::parse(&back.since, &time::format_description::well_known::Rfc3339).is_ok(), "{}", back.since);
        assert_eq!(tag_value("pid:[4026531836] ok"), "pid:_4026531836_ ok");
        let mut tags = tags;
        tags.insert(format!("{TAG_CREATING}stream"), format!("{} tapaudit-dev-ingest", me.run));
        tags.insert(format!("{TAG_CREATING}other"), "0000000000000000 left-by-an-older-run".into());
        let back = Holder::from_tags(&tags, None);
        assert_eq!(back.creating, BTreeMap::from([("stream".to_string(), "tapaudit-dev-ingest".to_string())]), "only the holder's own records");
    }

    #[test]
    fn only_a_dead_process_of_this_machine_is_stale() {
        let me = Holder::current("arn:aws:iam::123456789012:user/ci", "provision");
        assert!(!me.is_dead_local_process(), "this process is alive");
        let other_host = Holder { host: "elsewhere".into(), pid: Some(u32::MAX - 1), ..me.clone() };
        assert!(!other_host.is_dead_local_process(), "another host's pid proves nothing here");
        let unknown_ns = Holder { process_ns: None, pid: Some(u32::MAX - 1), ..me.clone() };
        assert!(!unknown_ns.is_dead_local_process());
        let untagged = Holder::from_tags(&HashMap::new(), Some("2026-01-01T00:00:00Z".into()));
        assert!(!untagged.is_dead_local_process());
        assert_eq!(untagged.since, "2026-01-01T00:00:00Z");
        if me.process_ns.is_some() {
            let dead = Holder { pid: Some(u32::MAX - 1), ..me.clone() };
            assert!(dead.is_dead_local_process(), "no such pid on this machine");
        }
    }

    #[test]
    fn the_refusal_names_holder_since_and_the_way_out() {
        let h = Holder {
            caller: "arn:aws:iam::123456789012:user/alice".into(),
            host: "ci-7".into(),
            pid: Some(4242),
            process_ns: None,
            since: "2026-12-01T08:00:00Z".into(),
            command: "provision".into(),
            run: "r".into(),
            creating: BTreeMap::new(),
        };
        let m = held_message("dev", "/tapaudit/lock/tapaudit-dev", &h, Duration::from_secs(60));
        assert_eq!(
            m,
            "stack dev is locked by arn:aws:iam::123456789012:user/alice since 2026-12-01T08:00:00Z (tapaudit provision, pid 4242 on host ci-7; lock /tapaudit/lock/tapaudit-dev; waited 60s); if that run is dead, rerun with --force-unlock"
        );
        assert!(!m.contains('\n'));
    }
}
