use super::{resource, Collection, Meta, Observed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiGateway {
    pub rest_apis: Collection<RestApi>,
    pub methods: Collection<Method>,
    pub stages: Collection<Stage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestApi {
    pub meta: Meta,
    pub endpoint_types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Method {
    pub meta: Meta,
    pub api_id: String,
    pub path: String,
    pub http_method: String,
    /// `NONE`, `AWS_IAM`, `CUSTOM`, `COGNITO_USER_POOLS`
    pub authorization_type: String,
    pub api_key_required: bool,
    pub integration_type: Option<String>,
    pub integration_uri: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodSetting {
    /// `OFF`, `ERROR`, `INFO`
    pub logging_level: Option<String>,
    pub data_trace: bool,
    pub metrics: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub meta: Meta,
    pub api_id: String,
    pub stage_name: String,
    pub deployment_id: Option<String>,
    pub tracing_enabled: bool,
    pub access_log_destination: Option<String>,
    pub access_log_format: Option<String>,
    /// keyed by `resourcePath/httpMethod`, `*/*` for the stage default
    pub method_settings: BTreeMap<String, MethodSetting>,
    pub client_certificate_id: Option<String>,
    pub web_acl_arn: Option<String>,
}

resource!(RestApi, Method, Stage);

#[allow(dead_code)]
type _O = Observed<()>;
