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
    /// `ACTIVE`, `PROVISIONING`, `DEPROVISIONING`, `FAILED`, `INACTIVE`.
    pub status: Observed<String>,
    /// `enabled`, `enhanced`, `disabled` (absent = disabled)
    pub container_insights: Observed<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub meta: Meta,
    pub cluster_arn: String,
    /// `ACTIVE`, `DRAINING`, `INACTIVE`.
    pub status: Observed<String>,
    pub task_definition: String,
    pub launch_type: Option<String>,
    pub desired_count: i32,
    /// `ENABLED` / `DISABLED`; None when not awsvpc
    pub assign_public_ip: Option<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

/// What an environment value is (see `semantics::secret_values`), judged from the value itself
/// whatever the variable is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueKind {
    /// Empty or whitespace only.
    Empty,
    /// Nothing credential-like: a name, number, flag, host, URL without credentials, path...
    Literal,
    /// An ARN or a Secrets Manager / SSM (dynamic) reference: points at a secret, holds none.
    Reference,
    /// `scheme://user:password@host`, a password-like query parameter, a `user:pw@host` DSN.
    UrlCredentials,
    /// A Slack / Discord webhook URL (the secret is the path).
    WebhookUrl,
    /// `Password=…`, `AccountKey=…`, `-Ddb.password=…` inside the value.
    CredentialAssignment,
    /// `AKIA…` / `ASIA…` / `ABIA…` / `ACCA…` + 16.
    AwsAccessKeyId,
    /// 40 base64 characters of high entropy.
    AwsSecretAccessKey,
    /// `-----BEGIN … PRIVATE KEY-----`.
    PrivateKey,
    /// A JSON Web Token.
    Jwt,
    /// A well-known token format (GitHub, GitLab, Slack, Stripe, Google, npm, ...).
    VendorToken,
    /// Another random-looking token (length and entropy thresholds).
    HighEntropy,
}

impl ValueKind {
    /// True for every kind that holds a credential.
    pub fn is_credential(self) -> bool {
        !matches!(self, ValueKind::Empty | ValueKind::Literal | ValueKind::Reference)
    }

    /// The serialised name (`url-credentials`, `reference`, ...).
    pub fn slug(self) -> &'static str {
        match self {
            ValueKind::Empty => "empty",
            ValueKind::Literal => "literal",
            ValueKind::Reference => "reference",
            ValueKind::UrlCredentials => "url-credentials",
            ValueKind::WebhookUrl => "webhook-url",
            ValueKind::CredentialAssignment => "credential-assignment",
            ValueKind::AwsAccessKeyId => "aws-access-key-id",
            ValueKind::AwsSecretAccessKey => "aws-secret-access-key",
            ValueKind::PrivateKey => "private-key",
            ValueKind::Jwt => "jwt",
            ValueKind::VendorToken => "vendor-token",
            ValueKind::HighEntropy => "high-entropy",
        }
    }

    /// In words, for findings.
    pub fn describe(self) -> &'static str {
        match self {
            ValueKind::Empty => "empty",
            ValueKind::Literal => "a literal value",
            ValueKind::Reference => "a reference to a secret or parameter",
            ValueKind::UrlCredentials => "a URL with credentials in it",
            ValueKind::WebhookUrl => "a webhook URL (its path is the secret)",
            ValueKind::CredentialAssignment => "a password-like key=value assignment",
            ValueKind::AwsAccessKeyId => "an AWS access key id",
            ValueKind::AwsSecretAccessKey => "an AWS secret access key",
            ValueKind::PrivateKey => "a PEM private key",
            ValueKind::Jwt => "a JSON Web Token",
            ValueKind::VendorToken => "a well-known API token format",
            ValueKind::HighEntropy => "a long high-entropy token",
        }
    }
}

/// An environment variable, measured but never stored: the scanner keeps no plaintext values,
/// only what the value is, its length and its entropy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub kind: ValueKind,
    pub length: usize,
    /// Shannon entropy of the value, bits per character.
    pub entropy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Container {
    pub name: String,
    pub image: String,
    /// As registered; absent means not privileged (see `runs_privileged`).
    pub privileged: Option<bool>,
    /// As registered; absent means a writable root (see `root_is_read_only`).
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
    /// `ACTIVE`, `INACTIVE` (deregistered), `DELETE_IN_PROGRESS`.
    pub status: Observed<String>,
    pub network_mode: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub containers: Vec<Container>,
}

impl Container {
    /// `privileged` absent means false: ContainerDefinition `privileged` — "When this parameter is
    /// true, the container is given elevated privileges on the host container instance"; it maps
    /// to Docker's `--privileged`, off unless given (ECS API Reference, ContainerDefinition:
    /// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
    pub fn runs_privileged(&self) -> bool {
        self.privileged == Some(true)
    }

    /// `readonlyRootFilesystem` absent means a writable root: "When this parameter is true, the
    /// container is given read-only access to its root file system"; it maps to Docker's
    /// `--read-only`, off unless given (same page; AWS Config's ECS_CONTAINERS_READONLY_ACCESS
    /// treats an absent value as non-compliant).
    pub fn root_is_read_only(&self) -> bool {
        self.readonly_root_filesystem == Some(true)
    }
}

resource!(Cluster, Service, TaskDefinition);

#[cfg(test)]
mod tests {
    use super::ValueKind::{self, *};

    #[test]
    fn slugs_are_the_serialised_names() {
        let all: [ValueKind; 12] = [
            Empty,
            Literal,
            Reference,
            UrlCredentials,
            WebhookUrl,
            CredentialAssignment,
            AwsAccessKeyId,
            AwsSecretAccessKey,
            PrivateKey,
            Jwt,
            VendorToken,
            HighEntropy,
        ];
        for k in all {
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(k.slug()));
            assert_eq!(k.is_credential(), !matches!(k, Empty | Literal | Reference));
        }
    }
}
