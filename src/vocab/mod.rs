//! The shared vocabulary every layer may import, and which imports no other layer: tag keys,
//! the stack's identity and the names derived from it, policy documents, and the stack file's
//! source text with its line index. (A leaf module: it depends on nothing in the crate.)

pub mod policy;
pub mod source;

use std::collections::BTreeMap;

pub use source::{line_at, Source};

/// Every resource a stack owns carries this tag with the stack's name.
pub const TAG_STACK: &str = "tapaudit:stack";
/// ... and this one with its logical id (the stack file's name for it).
pub const TAG_LOGICAL_ID: &str = "tapaudit:logical-id";

/// The frameworks a stack file may name.
pub const FRAMEWORKS: &[&str] = &["fedramp-moderate", "ferpa", "lgpd"];

/// Who a stack is: what provisioning, names and tags need of it (not its components).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackId {
    pub project: String,
    /// The stack name: `stack = ...` in the file, else the file stem.
    pub name: String,
    pub frameworks: Vec<String>,
    /// The stack file's extra tags.
    pub tags: BTreeMap<String, String>,
}

impl StackId {
    /// `<project>-<stack>`: the prefix of every resource name.
    pub fn prefix(&self) -> String {
        format!("{}-{}", self.project, self.name)
    }

    /// `<project>-<stack>-<suffix>`
    pub fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix())
    }

    /// The tags every resource of this stack carries (without the logical id).
    pub fn base_tags(&self) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        tags.insert("Environment".to_string(), self.name.clone());
        tags.insert("Compliance".to_string(), compliance_label(&self.frameworks));
        tags.insert("Project".to_string(), self.project.clone());
        for (k, v) in &self.tags {
            tags.insert(k.clone(), v.clone());
        }
        tags.insert(TAG_STACK.to_string(), self.name.clone());
        tags
    }

    /// The tags of one logical resource: the stack's, its logical id, and a Name.
    pub fn tags_for(&self, logical_id: &str, name: &str) -> BTreeMap<String, String> {
        let mut tags = self.base_tags();
        tags.insert(TAG_LOGICAL_ID.to_string(), logical_id.to_string());
        tags.entry("Name".to_string()).or_insert_with(|| name.to_string());
        tags
    }

    /// `/<project>/<stack>/`: every log group of the stack lives under it.
    pub fn log_group_prefix(&self) -> String {
        format!("/{}/{}/", self.project, self.name)
    }

    /// `/<project>/<stack>/<leaf>`
    pub fn log_group(&self, leaf: &str) -> String {
        format!("{}{leaf}", self.log_group_prefix())
    }

    /// `alias/<project>-<stack>-<key>`
    pub fn key_alias(&self, key: &str) -> String {
        format!("alias/{}", self.name(key))
    }

    /// The stack lock (see `provision::lock`): outside the stack's log group prefix, untagged
    /// by `tapaudit:stack`.
    pub fn lock_group(&self) -> String {
        format!("/tapaudit/lock/{}", self.prefix())
    }
}

/// `FedRAMP-Moderate,FERPA`: the Compliance tag.
pub fn compliance_label(frameworks: &[String]) -> String {
    frameworks
        .iter()
        .map(|f| match f.as_str() {
            "fedramp-moderate" => "FedRAMP-Moderate",
            "ferpa" => "FERPA",
            "lgpd" => "LGPD",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// True when the tags mark a resource as stack `stack`'s `logical_id`.
pub fn owned_by<'a>(stack: &str, logical_id: &str, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
    let (mut s, mut l) = (false, false);
    for (k, v) in tags {
        s |= k == TAG_STACK && v == stack;
        l |= k == TAG_LOGICAL_ID && v == logical_id;
    }
    s && l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags_derive_from_the_stack() {
        let s = StackId { project: "tapaudit".into(), name: "dev".into(), frameworks: vec!["fedramp-moderate".into(), "ferpa".into()], tags: BTreeMap::new() };
        assert_eq!(s.name("db"), "tapaudit-dev-db");
        assert_eq!(s.key_alias("db-key"), "alias/tapaudit-dev-db-key");
        assert_eq!(s.log_group("ecs"), "/tapaudit/dev/ecs");
        let t = s.tags_for("db", "tapaudit-dev-db");
        assert_eq!(t[TAG_STACK], "dev");
        assert_eq!(t[TAG_LOGICAL_ID], "db");
        assert_eq!(t["Compliance"], "FedRAMP-Moderate,FERPA");
        assert!(owned_by("dev", "db", t.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        assert!(!owned_by("prod", "db", t.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    }
}
