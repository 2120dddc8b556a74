use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Elbv2 {
    pub load_balancers: Collection<LoadBalancer>,
    pub listeners: Collection<Listener>,
    pub target_groups: Collection<TargetGroup>,
    /// The ACM certificates the HTTPS listeners use (DescribeCertificate per listener certificate).
    pub certificates: Collection<Certificate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub meta: Meta,
    /// `application`, `network`, `gateway`
    pub lb_type: Observed<String>,
    /// `internet-facing` / `internal`
    pub scheme: Observed<String>,
    pub vpc_id: Option<String>,
    pub security_groups: Vec<String>,
    /// Attributes as AWS names them (`access_logs.s3.enabled`, ...).
    pub attributes: Observed<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// `forward`, `redirect`, `fixed-response`, `authenticate-oidc`, ...
    pub action_type: String,
    pub redirect_protocol: Option<String>,
    /// For `fixed-response`: whether the response carries a message body.
    pub fixed_response_body: Option<bool>,
    /// For `forward`: the target groups it forwards to (TargetGroupArn and ForwardConfig).
    pub target_group_arns: Vec<String>,
}

/// A listener rule (DescribeRules): the default rule too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub arn: String,
    /// `1`..`50000`, or `default`.
    pub priority: Option<String>,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listener {
    pub meta: Meta,
    pub load_balancer_arn: String,
    pub protocol: String,
    pub port: i32,
    pub ssl_policy: Option<String>,
    pub default_actions: Vec<Action>,
    /// The listener's rules (DescribeRules), read for HTTP listeners (where a rule that forwards
    /// serves plaintext) and HTTPS listeners (where a rule may forward to a plaintext target
    /// group); other listeners are not read.
    pub rules: Observed<Vec<Rule>>,
    /// Certificate ARNs (DescribeListenerCertificates: the default and any additional ones),
    /// read for HTTPS listeners.
    pub certificate_arns: Observed<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroup {
    /// id and name: the target group name.
    pub meta: Meta,
    /// `HTTP`, `HTTPS`, `TCP`, ...; a `lambda` target group has none.
    pub protocol: Observed<String>,
    pub port: Option<i32>,
    /// `instance`, `ip`, `lambda`, `alb`.
    pub target_type: Observed<String>,
    pub vpc_id: Option<String>,
    pub health_check_protocol: Option<String>,
    /// The load balancers whose listeners or rules forward to it.
    pub load_balancer_arns: Vec<String>,
}

/// An ACM certificate (DescribeCertificate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// type `elbv2:certificate` (an ACM certificate a listener presents), id: the certificate id,
    /// name: its domain name.
    pub meta: Meta,
    /// `ISSUED`, `PENDING_VALIDATION`, `EXPIRED`, `REVOKED`, `INACTIVE`, `FAILED`, ...
    pub status: Observed<String>,
    /// End of validity (RFC 3339).
    pub not_after: Observed<String>,
    /// `RSA_2048`, `EC_prime256v1`, ...
    pub key_algorithm: Observed<String>,
    /// `AMAZON_ISSUED`, `IMPORTED`, `PRIVATE`.
    pub cert_type: Observed<String>,
    pub in_use_by: Vec<String>,
}

resource!(LoadBalancer, Listener, TargetGroup, Certificate);
