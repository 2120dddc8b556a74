//! The control catalogue as data: `controls/*.toml` and `controls/frameworks/*.toml`, compiled
//! into the binary by build.rs.

use crate::finding::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;

include!(concat!(env!("OUT_DIR"), "/catalogue_files.rs"));

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    pub console: String,
    pub cli: String,
    pub stack: String,
}

/// A threshold with a default and per-framework values.
#[derive(Debug, Clone, Deserialize)]
pub struct Parameter {
    pub description: String,
    pub default: i64,
    #[serde(flatten)]
    pub per_framework: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlMeta {
    pub id: String,
    pub title: String,
    pub service: String,
    pub resource_type: String,
    pub severity: Severity,
    pub rationale: String,
    pub remediation: Remediation,
    /// framework id → requirement ids
    pub frameworks: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    /// The stack-file setting this control judges (dotted path), for result locations.
    #[serde(default)]
    pub setting: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappedControl {
    pub id: String,
    pub rationale: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: String,
    pub title: String,
    pub family: String,
    pub controls: Vec<MappedControl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    pub name: String,
    pub source: String,
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    pub controls: BTreeMap<String, ControlMeta>,
    pub frameworks: BTreeMap<String, Framework>,
}

impl Catalogue {
    /// Parse the compiled-in catalogue. The catalogue tests guarantee it parses.
    pub fn load() -> Result<Catalogue, String> {
        let mut controls = BTreeMap::new();
        for (stem, text) in CONTROL_FILES {
            let c: ControlMeta = toml::from_str(text).map_err(|e| format!("controls/{stem}.toml: {e}"))?;
            controls.insert(c.id.clone(), c);
        }
        let mut frameworks = BTreeMap::new();
        for (stem, text) in FRAMEWORK_FILES {
            let f: Framework = toml::from_str(text).map_err(|e| format!("controls/frameworks/{stem}.toml: {e}"))?;
            frameworks.insert(f.id.clone(), f);
        }
        Ok(Catalogue { controls, frameworks })
    }

    pub fn framework_ids(&self) -> Vec<&str> {
        self.frameworks.keys().map(String::as_str).collect()
    }

    /// Requirement title, for reports.
    pub fn requirement(&self, framework: &str, id: &str) -> Option<&Requirement> {
        self.frameworks.get(framework)?.requirements.iter().find(|r| r.id == id)
    }

    /// Resolved thresholds of a control for the frameworks in scope: the strictest framework
    /// value (largest `min_*`, smallest `max_*`), unless the stack file overrides it.
    pub fn parameters(&self, control: &ControlMeta, frameworks: &[String], overrides: &BTreeMap<String, i64>) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for (name, p) in &control.parameters {
            if let Some(v) = overrides.get(name) {
                out.insert(name.clone(), *v);
                continue;
            }
            let values: Vec<i64> = frameworks.iter().filter_map(|f| p.per_framework.get(f).copied()).collect();
            let v = if values.is_empty() {
                p.default
            } else if name.starts_with("max_") {
                *values.iter().min().unwrap_or(&p.default)
            } else {
                *values.iter().max().unwrap_or(&p.default)
            };
            out.insert(name.clone(), v);
        }
        out
    }
}
