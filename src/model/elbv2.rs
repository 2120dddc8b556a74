use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Elbv2 {
    pub load_balancers: Collection<LoadBalancer>,
    pub listeners: Collection<Listener>,
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
    /// The listener's rules, read for HTTP listeners (where a rule that forwards serves
    /// plaintext); HTTPS and other listeners are not read.
    pub rules: Observed<Vec<Rule>>,
}

resource!(LoadBalancer, Listener);
