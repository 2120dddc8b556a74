//! Stack-file validation: pure checks, each yielding problems at a dotted setting path.
//! Everything AWS would reject (or accept although it should not) is caught before any call.

use super::{Engine, Stack, FRAMEWORKS};

pub use crate::components::{problem, Problem};

/// CloudWatch Logs' accepted retention values (PutRetentionPolicy).
pub const LOG_RETENTION_DAYS: &[i32] = &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// PostgreSQL versions RDS offers that the blueprints support.
pub const POSTGRES_VERSIONS: &[&str] =
    &["13.15", "13.16", "13.18", "13.20", "14.12", "14.13", "14.15", "14.17", "15.7", "15.8", "15.10", "15.12", "16.3", "16.4", "16.6", "16.8", "17.2", "17.4"];
pub const AURORA_POSTGRES_VERSIONS: &[&str] = &["13.15", "13.16", "14.12", "14.13", "15.7", "15.8", "15.10", "16.3", "16.4", "16.6", "17.4"];

/// Master usernames RDS reserves or that every attacker tries first.
pub const RESERVED_DB_USERNAMES: &[&str] = &[
    "admin",
    "administrator",
    "postgres",
    "rdsadmin",
    "rdsrepladmin",
    "rds_superuser",
    "rdsproxyadmin",
    "root",
    "master",
    "sa",
    "user",
    "superuser",
    "guest",
    "test",
    "pg_signal_backend",
];

const LOG_EXPORTS: &[&str] = &["postgresql", "upgrade", "iam-db-auth-error"];

/// Valid Fargate CPU → memory (MiB) combinations.
fn fargate_memory_ok(cpu: u32, mem: u32) -> bool {
    match cpu {
        256 => [512, 1024, 2048].contains(&mem),
        512 => (1024..=4096).contains(&mem) && mem % 1024 == 0,
        1024 => (2048..=8192).contains(&mem) && mem % 1024 == 0,
        2048 => (4096..=16384).contains(&mem) && mem % 1024 == 0,
        4096 => (8192..=30720).contains(&mem) && mem % 1024 == 0,
        8192 => (16384..=61440).contains(&mem) && mem % 4096 == 0,
        16384 => (32768..=122880).contains(&mem) && mem % 8192 == 0,
        _ => false,
    }
}

pub fn validate(stack: &Stack) -> Vec<Problem> {
    let mut out = Vec::new();
    out.extend(check_names(stack));
    out.extend(check_frameworks(stack));
    out.extend(check_tags(stack));
    out.extend(check_kinesis(stack));
    out.extend(check_database(stack));
    out.extend(check_logs(stack));
    out.extend(check_ecs(stack));
    out.extend(check_parameters(stack));
    out.extend(crate::components::validate(stack));
    if out.is_empty() {
        out.extend(check_graph(stack));
    }
    out
}

/// The nodes of every component form one acyclic graph over declared nodes (the references
/// were checked first, so a failure here is a component module's bug, reported, not a panic).
fn check_graph(stack: &Stack) -> Vec<Problem> {
    let edges = crate::provision::nodes(stack).into_iter().map(|n| (n.id, n.deps)).collect();
    match crate::provision::graph::check_acyclic(&edges) {
        Ok(_) => vec![],
        Err(e) => vec![problem("", format!("the stack's resources do not form a dependency graph: {e}"))],
    }
}

/// `[parameters]`: every name must be a catalogue threshold, and may only be stricter than
/// what the stack's frameworks already demand (a stack file cannot lower the bar).
fn check_parameters(stack: &Stack) -> Vec<Problem> {
    if stack.spec.parameters.is_empty() {
        return vec![];
    }
    let Ok(cat) = crate::controls::Catalogue::load() else { return vec![] };
    let mut out = Vec::new();
    for (name, value) in &stack.spec.parameters {
        let path = format!("parameters.{name}");
        let defs: Vec<_> = cat.controls.values().filter_map(|c| c.parameters.get(name).map(|p| (c, p))).collect();
        if defs.is_empty() {
            let mut known: Vec<&str> = cat.controls.values().flat_map(|c| c.parameters.keys().map(String::as_str)).collect();
            known.sort();
            known.dedup();
            out.push(problem(&path, format!("is not a control parameter (known: {})", known.join(", "))));
            continue;
        }
        for (c, _) in defs {
            let base = cat.parameters(c, &stack.spec.frameworks, &std::collections::BTreeMap::new());
            let floor = base[name];
            let weaker = if name.starts_with("max_") { *value > floor } else { *value < floor };
            if weaker {
                out.push(problem(&path, format!("{value} is weaker than {floor}, which {} requires for {}", stack.spec.frameworks.join(", "), c.id)));
                break;
            }
        }
    }
    out
}

fn is_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn check_names(stack: &Stack) -> Vec<Problem> {
    let mut out = Vec::new();
    let project = &stack.spec.project;
    if !is_name(project) || project.len() > 20 {
        out.push(problem("project", format!("must be 1–20 lowercase letters, digits or single hyphens, starting with a letter (got {project:?})")));
    }
    let name = &stack.name;
    let path = if stack.spec.stack.is_some() { "stack" } else { "" };
    if !is_name(name) || name.len() > 16 {
        out.push(problem(path, format!("stack name must be 1–16 lowercase letters, digits or single hyphens, starting with a letter (got {name:?}; set `stack = ...` or rename the file)")));
    } else if project.len() + 1 + name.len() > 23 {
        // the prefix of every name: ALB names allow 32 characters, `<prefix>-alb` among them
        out.push(problem(
            path,
            format!("project and stack name together must be at most 23 characters (\"{project}-{name}\" is {})", project.len() + 1 + name.len()),
        ));
    }
    if let Some(region) = stack.spec.region.as_deref().filter(|r| !is_region(r)) {
        out.push(problem("region", format!("is not an AWS region name (got {region:?})")));
    }
    out
}

fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

fn check_frameworks(stack: &Stack) -> Vec<Problem> {
    let mut out = Vec::new();
    if stack.spec.frameworks.is_empty() {
        out.push(problem("frameworks", format!("must name at least one of {}", FRAMEWORKS.join(", "))));
    }
    for (i, f) in stack.spec.frameworks.iter().enumerate() {
        if !FRAMEWORKS.contains(&f.as_str()) {
            out.push(problem(format!("frameworks[{i}]"), format!("names an unknown framework {f:?} (known: {})", FRAMEWORKS.join(", "))));
        }
    }
    out
}

fn check_tags(stack: &Stack) -> Vec<Problem> {
    let mut out = Vec::new();
    for (k, v) in &stack.spec.tags {
        let path = format!("tags.{k}");
        if k.to_ascii_lowercase().starts_with("aws:") || k.starts_with("tapaudit:") {
            out.push(problem(&path, "uses a reserved tag prefix (aws: and tapaudit: are reserved)"));
        }
        if k.is_empty() || k.chars().count() > 128 {
            out.push(problem(&path, "tag keys must be 1–128 characters"));
        }
        if v.chars().count() > 256 {
            out.push(problem(&path, "tag values must be at most 256 characters"));
        }
    }
    out
}

fn check_kinesis(stack: &Stack) -> Vec<Problem> {
    let k = &stack.spec.kinesis;
    let mut out = Vec::new();
    if !(1..=500).contains(&k.shard_count) {
        out.push(problem("kinesis.shard_count", format!("must be between 1 and 500 (got {})", k.shard_count)));
    }
    if !(24..=8760).contains(&k.retention_hours) {
        out.push(problem("kinesis.retention_hours", format!("must be between 24 and 8760 (got {})", k.retention_hours)));
    }
    out
}

fn check_database(stack: &Stack) -> Vec<Problem> {
    let d = &stack.spec.database;
    let mut out = Vec::new();
    let versions = match d.engine {
        Engine::Postgres => POSTGRES_VERSIONS,
        Engine::AuroraPostgresql => AURORA_POSTGRES_VERSIONS,
    };
    if !versions.contains(&d.engine_version.as_str()) {
        out.push(problem(
            "database.engine_version",
            format!("{:?} is not a supported {} version (supported: {})", d.engine_version, d.engine.as_str(), versions.join(", ")),
        ));
    }
    if !(1..=35).contains(&d.backup_retention_days) {
        out.push(problem("database.backup_retention_days", format!("must be between 1 and 35 (got {})", d.backup_retention_days)));
    }
    if d.engine == Engine::Postgres {
        if !(20..=65536).contains(&d.allocated_storage_gb) {
            out.push(problem("database.allocated_storage_gb", format!("must be between 20 and 65536 (got {})", d.allocated_storage_gb)));
        }
        if !["gp2", "gp3", "io1", "io2"].contains(&d.storage_type.as_str()) {
            out.push(problem("database.storage_type", format!("must be gp2, gp3, io1 or io2 (got {:?})", d.storage_type)));
        }
    } else if !(d.min_capacity >= 0.0 && d.min_capacity <= d.max_capacity && d.max_capacity <= 256.0 && d.max_capacity >= 1.0) {
        out.push(problem(
            "database.max_capacity",
            format!("Serverless v2 capacity must satisfy 0 <= min_capacity <= max_capacity <= 256, max >= 1 (got {}–{})", d.min_capacity, d.max_capacity),
        ));
    }
    if !d.instance_class.starts_with("db.") || d.instance_class.len() < 6 {
        out.push(problem("database.instance_class", format!("is not an RDS instance class (got {:?})", d.instance_class)));
    }
    if d.engine == Engine::AuroraPostgresql {
        out.push(problem("database.engine", "aurora-postgresql (Aurora Serverless v2) is not provisioned by this version yet; use \"postgres\""));
    }
    if d.engine == Engine::AuroraPostgresql && d.instance_class != "db.serverless" {
        out.push(problem("database.instance_class", "must be \"db.serverless\" for aurora-postgresql (Serverless v2)"));
    }
    if !is_db_identifier(&d.db_name) {
        out.push(problem("database.db_name", format!("must start with a letter and contain 1–63 letters, digits or underscores (got {:?})", d.db_name)));
    }
    if d.port < 1150 {
        out.push(problem("database.port", format!("must be between 1150 and 65535 (got {})", d.port)));
    }
    if let Some(u) = &d.master_username {
        if RESERVED_DB_USERNAMES.contains(&u.to_ascii_lowercase().as_str())
            || u.to_ascii_lowercase().starts_with("pg_")
            || u.to_ascii_lowercase().starts_with("rds")
        {
            out.push(problem("database.master_username", format!("{u:?} is a reserved or default database username; pick another or omit it to generate one")));
        } else if !is_db_identifier(u) || u.len() > 16 {
            out.push(problem("database.master_username", "must start with a letter and contain 1–16 letters, digits or underscores"));
        }
    }
    match parse_window(&d.backup_window) {
        Some((start, end)) => {
            let minutes = (end + 1440 - start) % 1440;
            if minutes < 30 {
                out.push(problem("database.backup_window", format!("must be at least 30 minutes long (got {:?})", d.backup_window)));
            }
        }
        None => out.push(problem("database.backup_window", format!("must be hh:mm-hh:mm in UTC (got {:?})", d.backup_window))),
    }
    for (i, e) in d.log_exports.iter().enumerate() {
        if !LOG_EXPORTS.contains(&e.as_str()) {
            out.push(problem(format!("database.log_exports[{i}]"), format!("{e:?} is not a PostgreSQL log type (valid: {})", LOG_EXPORTS.join(", "))));
        }
    }
    out
}

fn is_db_identifier(s: &str) -> bool {
    (1..=63).contains(&s.len()) && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `hh:mm-hh:mm` → minutes since midnight.
pub fn parse_window(w: &str) -> Option<(u32, u32)> {
    let (a, b) = w.split_once('-')?;
    Some((hhmm(a)?, hhmm(b)?))
}

fn hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn check_logs(stack: &Stack) -> Vec<Problem> {
    let r = stack.spec.logs.retention_days;
    if LOG_RETENTION_DAYS.contains(&r) {
        return vec![];
    }
    vec![problem(
        "logs.retention_days",
        format!("{r} is not a retention CloudWatch Logs accepts (one of {})", LOG_RETENTION_DAYS.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    )]
}

fn check_ecs(stack: &Stack) -> Vec<Problem> {
    let e = &stack.spec.ecs;
    let mut out = Vec::new();
    if !fargate_memory_ok(e.cpu, e.memory) {
        out.push(problem("ecs.memory", format!("{} MiB is not a valid Fargate memory size for {} CPU units", e.memory, e.cpu)));
    }
    if !(0..=100).contains(&e.desired_count) {
        out.push(problem("ecs.desired_count", format!("must be between 0 and 100 (got {})", e.desired_count)));
    }
    if e.image.trim().is_empty() || e.image.contains(char::is_whitespace) {
        out.push(problem("ecs.image", "must be a container image reference"));
    }
    if e.container_port == 0 {
        out.push(problem("ecs.container_port", "must be between 1 and 65535"));
    }
    out
}
