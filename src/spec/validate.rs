//! Stack-file validation: pure checks, each yielding problems at a dotted setting path.
//! Everything AWS would reject (or accept although it should not) is caught before any call.

use super::{Stack, FRAMEWORKS};

pub use crate::components::{problem, Problem};

/// CloudWatch Logs' accepted retention values (PutRetentionPolicy).
pub const LOG_RETENTION_DAYS: &[i32] = &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

pub fn validate(stack: &Stack) -> Vec<Problem> {
    let mut out = Vec::new();
    out.extend(check_names(stack));
    out.extend(check_frameworks(stack));
    out.extend(check_tags(stack));
    out.extend(check_logs(stack));
    out.extend(check_parameters(stack));
    out.extend(crate::components::validate(stack));
    out
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
