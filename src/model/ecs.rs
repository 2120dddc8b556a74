use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ecs {
    pub clusters: Collection<Cluster>,
    pub services: Collection<Service>,
    pub task_definitions: Collection<TaskDefinition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub meta: Meta,
    pub status: String,
    /// `enabled`, `enhanced`, `disabled` (absent = disabled)
    pub container_insights: Observed<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub meta: Meta,
    pub cluster_arn: String,
    pub status: String,
    pub task_definition: String,
    pub launch_type: Option<String>,
    pub desired_count: i32,
    /// `ENABLED` / `DISABLED`; None when not awsvpc
    pub assign_public_ip: Option<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

/// An environment variable, measured but never stored: the scanner keeps no plaintext values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub length: usize,
    /// The value is an ARN or a parameter/secret reference, not a credential.
    pub is_reference: bool,
    /// Shannon entropy of the value, bits per character.
    pub entropy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub privileged: Option<bool>,
    pub readonly_root_filesystem: Option<bool>,
    pub log_driver: Option<String>,
    pub log_group: Option<String>,
    pub environment: Vec<EnvVar>,
    /// Names injected from Secrets Manager / SSM (`secrets`): the right way.
    pub secret_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDefinition {
    pub meta: Meta,
    pub family: String,
    pub revision: i32,
    pub status: String,
    pub network_mode: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub containers: Vec<Container>,
}

resource!(Cluster, Service, TaskDefinition);
