//! The stack file as a desired State: the same types the collectors fill, so the same
//! controls judge a stack file before anything exists, and drift is a diff of two States.
//!
//! Desired resources carry AWS-shaped ids built from their logical ids (`vpc-vpc`,
//! `sg-db-sg`, `igw-internet-gateway`, key id `data-key`), every cross-reference uses those
//! ids, and every resource is tagged like provision tags it. `drift::diff` resolves desired
//! ids to live ones through the `tapaudit:logical-id` tag.

use super::{Stack, TAG_LOGICAL_ID};
use crate::model::apigw::{Method, MethodSetting, RestApi, Stage};
use crate::model::iam::Role;
use crate::model::logs::LogGroup;
use crate::model::{Meta, Observed, SourceRef, State};
use crate::provision::names;
use crate::provision::nodes::{LogPurpose, RoleKind};
use std::collections::BTreeMap;

pub use crate::components::DESIRED_ACCOUNT;

struct B<'a> {
    stack: &'a Stack,
    region: String,
}

impl B<'_> {
    fn meta(&self, resource_type: &str, logical: &str, id: &str, arn: String, name: &str) -> Meta {
        let mut tags = self.stack.base_tags();
        tags.insert(TAG_LOGICAL_ID.to_string(), logical.to_string());
        tags.entry("Name".into()).or_insert_with(|| name.to_string());
        let path = crate::provision::nodes::legacy_declared_at(logical);
        Meta {
            resource_type: resource_type.to_string(),
            id: id.to_string(),
            arn,
            region: self.region.clone(),
            account: DESIRED_ACCOUNT.to_string(),
            name: Some(name.to_string()),
            tags: Observed::Known(tags),
            source: Some(SourceRef { path: self.stack.source.path.clone(), line: if path.is_empty() { 1 } else { self.stack.line_of(&path) } }),
        }
    }
    fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{DESIRED_ACCOUNT}:{resource}", self.region)
    }
}

/// The legacy sections' one key (until they are components that name their key).
pub fn key_arn(region: &str) -> String {
    crate::components::desired_ids::key_arn(region, "data-key")
}

/// Everything the stack declares, as a State.
pub fn desired(stack: &Stack) -> State {
    let b = B { stack, region: stack.spec.region.clone().unwrap_or_else(|| "us-east-1".into()) };
    let s = &stack.spec;
    let mut st = State::default();
    let key = key_arn(&b.region);

    // log groups
    let mut groups = vec![];
    if s.api.enabled {
        groups.push(("api-log-group", LogPurpose::Api));
    }
    for (logical, purpose) in groups {
        let name = names::log_group(stack, purpose);
        st.logs.log_groups.insert(LogGroup {
            meta: b.meta("logs:log-group", logical, &name, b.arn("logs", &format!("log-group:{name}")), &name),
            kms_key_id: Some(key.clone()),
            retention_days: Some(s.logs.retention_days),
        });
    }

    // API Gateway
    if s.api.enabled {
        let api = names::rest_api(stack);
        let api_arn = format!("arn:aws:apigateway:{}::/restapis/rest-api", b.region);
        st.apigw
            .rest_apis
            .insert(RestApi { meta: b.meta("apigateway:rest-api", "rest-api", "rest-api", api_arn.clone(), &api), endpoint_types: vec!["REGIONAL".into()] });
        st.apigw.methods.insert(Method {
            meta: b.meta(
                "apigateway:method",
                "ingest-method",
                "rest-api POST /ingest",
                format!("{api_arn}/resources/ingest/methods/POST"),
                &format!("{api} POST /ingest"),
            ),
            api_id: "rest-api".into(),
            path: "/ingest".into(),
            http_method: "POST".into(),
            authorization_type: "AWS_IAM".into(),
            api_key_required: false,
            integration_type: Some("AWS".into()),
            integration_uri: Some(format!("arn:aws:apigateway:{}:kinesis:action/PutRecord", b.region)),
        });
        let a = &s.api;
        st.apigw.stages.insert(Stage {
            meta: b.meta(
                "apigateway:stage",
                "api-stage",
                &format!("rest-api/{}", a.stage_name),
                format!("{api_arn}/stages/{}", a.stage_name),
                &format!("{api}/{}", a.stage_name),
            ),
            api_id: "rest-api".into(),
            stage_name: a.stage_name.clone(),
            deployment_id: Some("deployment".into()),
            tracing_enabled: a.tracing,
            access_log_destination: Some(b.arn("logs", &format!("log-group:{}", names::log_group(stack, LogPurpose::Api)))),
            access_log_format: Some(crate::provision::ACCESS_LOG_FORMAT.to_string()),
            method_settings: BTreeMap::from([(
                "*/*".to_string(),
                MethodSetting { logging_level: Some(a.logging_level.clone()), data_trace: a.data_trace, metrics: a.metrics },
            )]),
            client_certificate_id: None,
            web_acl_arn: None,
        });
    }

    // IAM roles: the provisioner's own definitions over the desired ARNs
    let inputs = crate::provision::iam::RoleInputs {
        partition: "aws".into(),
        stream: stack.spec.streams.contains_key("stream").then(|| b.arn("kinesis", &format!("stream/{}", names::prefixed(stack, "stream")))),
        key: Some(key.clone()),
        flow_group: None,
    };
    let mut roles = vec![];
    if s.api.enabled {
        roles.push(("api-kinesis-role", RoleKind::ApiKinesis));
        roles.push(("api-cloudwatch-role", RoleKind::ApiCloudWatch));
    }
    for (logical, kind) in roles {
        let Ok(def) = crate::provision::iam::role_definition(kind, &inputs) else { continue };
        let name = names::role(stack, kind);
        let mut meta = b.meta("iam:role", logical, &name, format!("arn:aws:iam::{DESIRED_ACCOUNT}:role/{name}"), &name);
        meta.region = "global".into();
        for arn in &def.managed {
            if let Some(doc) = aws_managed_policy(arn) {
                let pname = arn.rsplit('/').next().unwrap_or(arn).to_string();
                let mut pm = b.meta("iam:policy", "", &pname, arn.clone(), &pname);
                pm.region = "global".into();
                pm.tags = Observed::Known(BTreeMap::new());
                pm.source = None;
                st.iam.policies.insert(crate::model::iam::Policy { meta: pm, aws_managed: true, document: Observed::Known(doc) });
            }
        }
        st.iam.roles.insert(Role {
            meta,
            path: "/".into(),
            trust_policy: Observed::Known(trust_policy(DESIRED_ACCOUNT, def.service)),
            inline_policies: Observed::Known(def.inline.map(|p| BTreeMap::from([(crate::provision::iam::INLINE_POLICY.to_string(), p)])).unwrap_or_default()),
            attached_policies: Observed::Known(def.managed.clone()),
        });
    }
    crate::components::desired(stack, &mut st);
    st
}

pub fn trust_policy(account: &str, service: &str) -> serde_json::Value {
    crate::vocab::policy::trust_policy_for(account, service)
}

/// The AWS-managed policies the blueprint attaches, as AWS publishes them (so the pre-deployment
/// check can judge the roles' full permissions).
fn aws_managed_policy(arn: &str) -> Option<serde_json::Value> {
    let doc = if arn.ends_with("/AmazonECSTaskExecutionRolePolicy") {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
            "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]})
    } else if arn.ends_with("/AmazonAPIGatewayPushToCloudWatchLogs") {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
            "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"], "Resource": "*"}]})
    } else {
        return None;
    };
    Some(doc)
}
