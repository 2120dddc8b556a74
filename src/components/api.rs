//! `[apis.<id>]`: a regional API Gateway REST API with routes (`[[apis.<id>.routes]]`), each
//! authorized (AWS_IAM by default) and integrated either with a Kinesis stream (PutRecord
//! through an integration role that may put into exactly those streams) or with a load
//! balancer (HTTP_PROXY over HTTPS to its DNS name); deployed to one stage with execution and
//! access logging (to the log group `<id>-logs`), metrics and tracing. The first API of a stack
//! also sets API Gateway's account-level CloudWatch role (`api-cloudwatch-role`, a scoped
//! inline policy on the stack's API log groups, not the AWS-managed policy that reads every
//! log group).

use super::role::{self, Grant, Res, RoleDef};
use super::{desired_ids, log_group, Component, Cx, Kind, Output, Problem, Reference};
use crate::error::{Error, Result, SdkResultExt};
use crate::model::apigw::{Method, MethodSetting, RestApi, Stage};
use crate::model::{Resource, State};
use crate::provision::{attrs, diff, tag_changes, Attrs, Change, Ctx, Found, Node};
use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The access-log format of every stage: who called what, when, with what result.
pub const ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","caller":"$context.identity.caller","user":"$context.identity.user","userArn":"$context.identity.userArn","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength"}"#;

/// The account-level CloudWatch role's node, and the account setting's node.
pub const CLOUDWATCH_ROLE: &str = "api-cloudwatch-role";
pub const ACCOUNT: &str = "api-account";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Api {
    /// The stage the API is deployed to (1–128 letters, digits, hyphens, underscores).
    pub stage_name: String,
    /// Execution logging level: OFF, ERROR or INFO.
    pub logging_level: String,
    /// Full request/response logging: off by default (it would log PII bodies).
    pub data_trace: bool,
    /// CloudWatch metrics for every method.
    pub metrics: bool,
    /// X-Ray tracing.
    pub tracing: bool,
    /// The key (logical id) that encrypts the access-log group `<id>-logs`. Required.
    pub log_key: String,
    /// The routes: `[[apis.<id>.routes]]`.
    pub routes: Vec<Route>,
}

impl Default for Api {
    fn default() -> Self {
        Api { stage_name: "prod".into(), logging_level: "INFO".into(), data_trace: false, metrics: true, tracing: true, log_key: String::new(), routes: vec![] }
    }
}

/// One route: a method on a path, its authorization and its integration (exactly one of
/// `stream` and `load_balancer`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// HTTP method: GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
    pub method: String,
    /// Resource path, `/` then segments (`/students`, `/students/{id}`).
    pub path: String,
    /// AWS_IAM (default), or NONE where the stack's frameworks do not demand authentication.
    #[serde(default = "aws_iam")]
    pub authorization: String,
    /// Integration: Kinesis PutRecord into this stream (logical id).
    #[serde(default)]
    pub stream: Option<String>,
    /// Integration: HTTP_PROXY over HTTPS to this load balancer (logical id), same path.
    #[serde(default)]
    pub load_balancer: Option<String>,
}

fn aws_iam() -> String {
    "AWS_IAM".into()
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const AUTHORIZATIONS: &[&str] = &["AWS_IAM", "NONE"];

/// What a route integrates with.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Stream(String),
    LoadBalancer(String),
}

impl Route {
    fn target(&self) -> Option<Target> {
        match (&self.stream, &self.load_balancer) {
            (Some(s), None) => Some(Target::Stream(s.clone())),
            (None, Some(l)) => Some(Target::LoadBalancer(l.clone())),
            _ => None,
        }
    }
}

/// Node ids of an API's parts.
fn route_node(api: &str, i: usize) -> String {
    format!("{api}-route-{}", i + 1)
}
fn stage_node(api: &str) -> String {
    format!("{api}-stage")
}
fn logs_node(api: &str) -> String {
    format!("{api}-logs")
}
fn integration_role_node(api: &str) -> String {
    format!("{api}-integration-role")
}

/// The first API of the stack (by logical id) owns the account-level CloudWatch role.
fn first_api(cx: &Cx) -> bool {
    cx.stack.spec.apis.keys().next().map(String::as_str) == Some(cx.id)
}

/// The key that encrypts a stream: the stream component's `key` reference.
fn stream_key(cx: &Cx, stream: &str) -> String {
    cx.stack
        .instances()
        .iter()
        .find(|i| i.id == stream)
        .and_then(|i| i.component.references().into_iter().find(|r| r.field == "key").map(|r| r.target))
        .unwrap_or_default()
}

/// The streams an API's routes put into, in order, without repeats.
fn streams(api: &Api) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &api.routes {
        if let Some(Target::Stream(s)) = r.target() {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

fn integration_role(cx: &Cx, api: &Api) -> Option<RoleDef> {
    let streams = streams(api);
    if streams.is_empty() {
        return None;
    }
    let keys: Vec<String> = streams.iter().map(|s| stream_key(cx, s)).collect::<BTreeSet<_>>().into_iter().collect();
    Some(RoleDef {
        name: cx.name(&format!("{}-integration", cx.id)),
        service: "apigateway.amazonaws.com",
        description: format!("API Gateway puts records of {} into its streams", cx.name(cx.id)),
        managed: vec![],
        grants: vec![
            Grant::new("PutIntoStream", &["kinesis:PutRecord", "kinesis:PutRecords"], streams.iter().map(|s| Res::arn_of(s)).collect()),
            Grant::new("EncryptForStream", &["kms:GenerateDataKey"], keys.iter().map(|k| Res::arn_of(k)).collect()),
        ],
    })
}

/// API Gateway's account-level logging role: writes the execution logs of the stack's APIs and
/// their access logs, and nothing else (the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs
/// would also read every log group: logs:GetLogEvents and FilterLogEvents on `*`).
fn cloudwatch_role(cx: &Cx) -> RoleDef {
    let mut resources = Vec::new();
    for id in cx.stack.spec.apis.keys() {
        for suffix in ["", ":*"] {
            resources.push(Res::Attr { node: logs_node(id), attr: "arn", suffix });
        }
    }
    // API Gateway names the execution-log groups itself, after the API's AWS-assigned id
    for suffix in ["", ":*"] {
        resources.push(Res::Attr { node: cx.id.to_string(), attr: "execution_log_groups", suffix });
    }
    RoleDef {
        name: cx.name("api-cloudwatch"),
        service: "apigateway.amazonaws.com",
        description: "API Gateway writes the stack's execution and access logs".into(),
        managed: vec![],
        grants: vec![Grant::new(
            "WriteApiLogs",
            &["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            resources,
        )],
    }
}

fn valid_path(p: &str) -> bool {
    p == "/"
        || (p.starts_with('/')
            && !p.ends_with('/')
            && p[1..].split('/').all(|seg| {
                let inner = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')).map(|s| s.strip_suffix('+').unwrap_or(s)).unwrap_or(seg);
                !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            }))
}

/// Whether the stack's frameworks demand authenticated methods (the catalogue maps the
/// method-authorization control to them). A catalogue that cannot be read demands it.
fn frameworks_demand_authentication(cx: &Cx) -> Option<Vec<String>> {
    let Ok(cat) = crate::controls::Catalogue::load() else { return Some(cx.stack.spec.frameworks.clone()) };
    let mapped = cat.controls.get("apigw-method-authorization").map(|c| c.frameworks.keys().cloned().collect::<BTreeSet<_>>()).unwrap_or_default();
    let demanding: Vec<String> = cx.stack.spec.frameworks.iter().filter(|f| mapped.contains(*f)).cloned().collect();
    (!demanding.is_empty()).then_some(demanding)
}

impl Component for Api {
    const KIND: Kind = Kind::Api;

    fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        if !self.log_key.is_empty() {
            out.push(Reference::key("log_key", &self.log_key, "logs"));
        }
        for (i, r) in self.routes.iter().enumerate() {
            if let Some(s) = &r.stream {
                out.push(Reference::new(format!("routes[{i}].stream"), s, &[Kind::Stream]));
            }
            if let Some(l) = &r.load_balancer {
                out.push(Reference::new(format!("routes[{i}].load_balancer"), l, &[Kind::LoadBalancer]));
            }
        }
        out
    }

    fn validate(&self, cx: &Cx) -> Vec<Problem> {
        let mut out = Vec::new();
        if !["OFF", "ERROR", "INFO"].contains(&self.logging_level.as_str()) {
            out.push(cx.problem("logging_level", format!("must be OFF, ERROR or INFO (got {:?})", self.logging_level)));
        }
        let s = &self.stage_name;
        if s.is_empty() || s.len() > 128 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            out.push(cx.problem("stage_name", format!("must be 1–128 letters, digits, hyphens or underscores (got {s:?})")));
        }
        if self.log_key.is_empty() {
            out.push(cx.problem("log_key", "is required: the key (logical id) that encrypts the API's access-log group"));
        }
        if self.routes.is_empty() {
            out.push(cx.problem("", "has no routes: add [[apis.<id>.routes]] with method, path and stream or load_balancer"));
        }
        let name = cx.name(&format!("{}-integration", cx.id));
        if name.len() > 64 {
            out.push(cx.problem("", format!("makes the role name {name:?}, longer than IAM's 64 characters: use a shorter logical id")));
        }
        let demanding = frameworks_demand_authentication(cx);
        let mut seen = BTreeSet::new();
        for (i, r) in self.routes.iter().enumerate() {
            let at = |f: &str| format!("routes[{i}].{f}");
            if !METHODS.contains(&r.method.as_str()) {
                out.push(cx.problem(&at("method"), format!("must be one of {} (got {:?})", METHODS.join(", "), r.method)));
            }
            if !valid_path(&r.path) {
                out.push(cx.problem(&at("path"), format!("must be / or /segment[/segment...] of letters, digits, -_. or {{param}} (got {:?})", r.path)));
            }
            if !seen.insert((r.method.clone(), r.path.clone())) {
                out.push(cx.problem(&at("path"), format!("repeats the route {} {}", r.method, r.path)));
            }
            if !AUTHORIZATIONS.contains(&r.authorization.as_str()) {
                out.push(cx.problem(&at("authorization"), format!("must be AWS_IAM or NONE (got {:?})", r.authorization)));
            } else if r.authorization == "NONE" {
                if let Some(fw) = &demanding {
                    out.push(cx.problem(
                        &at("authorization"),
                        format!(
                            "is NONE, but the stack's frameworks ({}) require authenticated API methods (apigw-method-authorization): use AWS_IAM",
                            fw.join(", ")
                        ),
                    ));
                }
            }
            match (&r.stream, &r.load_balancer) {
                (Some(_), Some(_)) => out.push(cx.problem(&format!("routes[{i}]"), "names both a stream and a load_balancer: choose one integration")),
                (None, None) => out.push(cx.problem(&format!("routes[{i}]"), "has no integration: set stream or load_balancer")),
                _ => {}
            }
        }
        out
    }

    fn nodes(&self, cx: &Cx) -> Vec<Node> {
        let id = cx.id;
        let mut out = vec![log_group::node(cx, &logs_node(id), id, &self.log_key)];
        if first_api(cx) {
            out.push(role::node(cx, CLOUDWATCH_ROLE, cloudwatch_role(cx)));
            out.push(cx.node(ACCOUNT, AccountNode { role_name: cx.name("api-cloudwatch"), project: cx.stack.spec.project.clone() }, &[CLOUDWATCH_ROLE]));
        }
        let role = integration_role(cx, self);
        if let Some(def) = role.clone() {
            out.push(role::node(cx, &integration_role_node(id), def));
        }
        out.push(cx.node(id, RestApiNode { name: cx.name(id) }, &[]));
        let mut stage_deps: Vec<String> = vec![id.to_string(), logs_node(id), ACCOUNT.to_string()];
        for (i, r) in self.routes.iter().enumerate() {
            let node = route_node(id, i);
            let mut deps: Vec<String> = vec![id.to_string()];
            let integration = match r.target() {
                Some(Target::Stream(s)) => {
                    deps.push(s.clone());
                    deps.push(integration_role_node(id));
                    Integration::Stream { stream: s, role: integration_role_node(id) }
                }
                Some(Target::LoadBalancer(l)) => {
                    deps.push(l.clone());
                    Integration::LoadBalancer { lb: l }
                }
                None => continue,
            };
            let m = MethodNode { api: id.to_string(), method: r.method.clone(), path: r.path.clone(), authorization: r.authorization.clone(), integration };
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            out.push(Node::new(node.clone(), m, deps.iter().map(|d| d.to_string()).collect(), cx.at(&format!("routes[{i}]"))));
            stage_deps.push(node);
        }
        let routes = (0..self.routes.len()).map(|i| route_node(id, i)).collect();
        let stage = StageNode { api: id.to_string(), logs: logs_node(id), routes, spec: self.clone(), prefix: cx.stack.prefix() };
        let deps: Vec<&str> = stage_deps.iter().map(String::as_str).collect();
        out.push(cx.node(stage_node(id), stage, &deps));
        out
    }

    fn desired(&self, cx: &Cx, st: &mut State) {
        let id = cx.id;
        let region = cx.region();
        let name = cx.name(id);
        let api_arn = format!("arn:aws:apigateway:{region}::/restapis/{id}");
        st.apigw
            .rest_apis
            .insert(RestApi { meta: cx.meta("apigateway:rest-api", id, id, api_arn.clone(), &name, ""), endpoint_types: vec!["REGIONAL".into()] });
        for (i, r) in self.routes.iter().enumerate() {
            let (integration_type, uri) = match r.target() {
                Some(Target::Stream(_)) => ("AWS", kinesis_uri("aws", &region)),
                Some(Target::LoadBalancer(l)) => ("HTTP_PROXY", format!("https://{}{}", desired_dns(st, &l), r.path)),
                None => continue,
            };
            let resource = r.path.trim_start_matches('/');
            st.apigw.methods.insert(Method {
                meta: cx.meta(
                    "apigateway:method",
                    &route_node(id, i),
                    &format!("{id} {} {}", r.method, r.path),
                    format!("{api_arn}/resources/{resource}/methods/{}", r.method),
                    &format!("{name} {} {}", r.method, r.path),
                    &format!("routes[{i}]"),
                ),
                api_id: id.to_string(),
                path: r.path.clone(),
                http_method: r.method.clone(),
                authorization_type: r.authorization.clone(),
                api_key_required: false,
                integration_type: Some(integration_type.into()),
                integration_uri: Some(uri),
            });
        }
        let logs = cx.stack.id.log_group(id);
        let logs_arn = cx.arn("logs", &format!("log-group:{logs}"));
        st.apigw.stages.insert(Stage {
            meta: cx.meta(
                "apigateway:stage",
                &stage_node(id),
                &format!("{id}/{}", self.stage_name),
                format!("{api_arn}/stages/{}", self.stage_name),
                &format!("{name}/{}", self.stage_name),
                "stage_name",
            ),
            api_id: id.to_string(),
            stage_name: self.stage_name.clone(),
            deployment_id: Some("deployment".into()),
            tracing_enabled: self.tracing,
            access_log_destination: Some(logs_arn.clone()),
            access_log_format: Some(ACCESS_LOG_FORMAT.to_string()),
            method_settings: BTreeMap::from([(
                "*/*".to_string(),
                MethodSetting { logging_level: Some(self.logging_level.clone()), data_trace: self.data_trace, metrics: self.metrics },
            )]),
            client_certificate_id: None,
            web_acl_arn: None,
        });
        log_group::desired(cx, st, &logs_node(id), id, &self.log_key);

        // roles, over the desired ARNs of the nodes their grants name
        let mut known: BTreeMap<(String, &'static str), String> = BTreeMap::new();
        for s in streams(self) {
            if let Some(arn) = st.kinesis.streams.iter().find(|x| x.meta().logical_id() == Some(s.as_str())).map(|x| x.meta.arn.clone()) {
                known.insert((s.clone(), "arn"), arn);
            }
            let k = stream_key(cx, &s);
            known.insert((k.clone(), "arn"), desired_ids::key_arn(&region, &k));
        }
        for api in cx.stack.spec.apis.keys() {
            let group = cx.stack.id.log_group(api);
            known.insert((logs_node(api), "arn"), cx.arn("logs", &format!("log-group:{group}")));
            known.insert((api.clone(), "execution_log_groups"), cx.arn("logs", EXECUTION_LOG_GROUPS));
        }
        let resolve = |node: &str, attr: &str| known.iter().find(|((n, a), _)| n == node && *a == attr).map(|(_, v)| v.clone());
        if let Some(def) = integration_role(cx, self) {
            role::desired(cx, st, &integration_role_node(id), &def, &resolve);
        }
        if first_api(cx) {
            role::desired(cx, st, CLOUDWATCH_ROLE, &cloudwatch_role(cx), &resolve);
        }
    }

    fn outputs(&self, cx: &Cx) -> Vec<Output> {
        vec![
            Output { name: cx.at("id"), node: cx.id.to_string(), attr: "id".into() },
            Output { name: cx.at("url"), node: stage_node(cx.id), attr: "url".into() },
        ]
    }
}

/// The DNS name of a desired load balancer (its desired State has no DNS name; drift compares
/// the scheme and path of such URIs).
fn desired_dns(_st: &State, lb: &str) -> String {
    format!("{lb}.elb.amazonaws.com")
}

fn kinesis_uri(partition: &str, region: &str) -> String {
    format!("arn:{partition}:apigateway:{region}:kinesis:action/PutRecord")
}

/// The log groups API Gateway writes execution logs to (`API-Gateway-Execution-Logs_<api
/// id>/<stage>`; it creates them itself), as an ARN pattern.
const EXECUTION_LOG_GROUPS: &str = "log-group:API-Gateway-Execution-Logs_*";

// ---------- drift ----------

/// Drift of the stack's APIs: endpoint type, methods (matched by API, verb and path;
/// undeclared methods on a declared API are unmanaged), stages (matched by API and name).
pub fn drift(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    d.each(&desired.apigw.rest_apis, &live.apigw.rest_apis, |d, w, g| {
        let at = d.setting(&w.meta, "");
        let set = |v: &[String]| json!(v.iter().collect::<BTreeSet<_>>());
        d.field(&g.meta, "endpoint_types", &at, set(&w.endpoint_types), set(&g.endpoint_types));
    });
    methods(d, desired, live);
    stages(d, desired, live);
}

fn methods(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    let key = |api: &str, m: &Method| (api.to_string(), m.http_method.clone(), m.path.clone());
    let want: BTreeMap<_, _> = desired.apigw.methods.iter().map(|m| (key(&d.res(&m.api_id), m), m)).collect();
    let apis: BTreeSet<String> = want.keys().map(|k| k.0.clone()).collect();
    let got: BTreeMap<_, _> = live.apigw.methods.iter().filter(|m| apis.contains(&m.api_id)).map(|m| (key(&m.api_id, m), m)).collect();
    for (k, w) in &want {
        match got.get(k) {
            None => d.absent(&w.meta, &live.apigw.methods),
            Some(g) => {
                let at = d.setting(&w.meta, "authorization");
                d.field(&g.meta, "authorization_type", &at, json!(w.authorization_type), json!(g.authorization_type));
                let at = d.setting(&w.meta, "");
                d.field(&g.meta, "integration_type", &at, json!(w.integration_type), json!(g.integration_type));
                let proxy = w.integration_type.as_deref() == Some("HTTP_PROXY");
                if !proxy {
                    d.field(&g.meta, "integration_uri", &at, json!(w.integration_uri), json!(g.integration_uri));
                } else if !g.integration_uri.as_deref().is_some_and(|u| u.starts_with("https://") && u.ends_with(&w.path)) {
                    d.field(&g.meta, "integration_uri", &at, json!(format!("https://<load balancer DNS name>{}", w.path)), json!(g.integration_uri));
                }
            }
        }
    }
    for (k, g) in got.iter().filter(|(k, _)| !want.contains_key(*k)) {
        let what = format!("method {} {} on the stack's API is not declared by the stack file", k.1, k.2);
        let table = want.iter().find(|(w, _)| w.0 == k.0).map(|(_, w)| d.setting(&w.meta, "")).unwrap_or_default();
        let table = table.split(".routes[").next().unwrap_or_default().to_string();
        d.unmanaged(&g.meta, what, "resource", json!(format!("{} {}", k.1, k.2)), &table);
    }
}

fn stages(d: &mut crate::drift::Drift, desired: &State, live: &State) {
    for w in desired.apigw.stages.iter() {
        let api = d.res(&w.api_id);
        let Some(g) = live.apigw.stages.iter().find(|s| s.api_id == api && s.stage_name == w.stage_name) else {
            d.absent(&w.meta, &live.apigw.stages);
            continue;
        };
        let ws = w.method_settings.get("*/*");
        let gs = g.method_settings.get("*/*");
        let at = |f: &str| d.setting(&w.meta, f);
        let (level, trace, metrics, tracing, table) = (at("logging_level"), at("data_trace"), at("metrics"), at("tracing"), at(""));
        d.field(&g.meta, "logging_level", &level, json!(ws.and_then(|s| s.logging_level.clone())), json!(gs.and_then(|s| s.logging_level.clone())));
        d.field(&g.meta, "data_trace", &trace, json!(ws.map(|s| s.data_trace)), json!(gs.map(|s| s.data_trace)));
        d.field(&g.meta, "metrics", &metrics, json!(ws.map(|s| s.metrics)), json!(gs.map(|s| s.metrics)));
        d.field(&g.meta, "tracing_enabled", &tracing, json!(w.tracing_enabled), json!(g.tracing_enabled));
        d.field(&g.meta, "access_log_destination", &table, json!(w.access_log_destination.as_deref().map(|a| d.res(a))), json!(g.access_log_destination));
    }
}

// ---------- nodes ----------

fn patch(path: &str, value: impl Into<String>) -> PatchOperation {
    PatchOperation::builder().op(Op::Replace).path(path).value(value).build()
}

/// API Gateway's CloudWatch role setting (one per account and region, shared by every stack).
#[derive(Debug, Clone)]
struct AccountNode {
    /// This stack's CloudWatch role's name.
    role_name: String,
    project: String,
}

#[derive(Debug, Clone)]
struct RestApiNode {
    name: String,
}

#[derive(Debug, Clone)]
enum Integration {
    /// Kinesis PutRecord into the stream node, with the integration role node's credentials.
    Stream { stream: String, role: String },
    /// HTTP_PROXY to `https://<dns_name of the load balancer node><path>`.
    LoadBalancer { lb: String },
}

#[derive(Debug, Clone)]
struct MethodNode {
    /// The API's node id.
    api: String,
    method: String,
    path: String,
    authorization: String,
    integration: Integration,
}

#[derive(Debug, Clone)]
struct StageNode {
    api: String,
    logs: String,
    /// The route nodes: a changed route needs a new deployment.
    routes: Vec<String>,
    spec: Api,
    prefix: String,
}

crate::node_ops!(AccountNode, "apigateway:account");
crate::node_ops!(RestApiNode, "apigateway:rest-api");
crate::node_ops!(MethodNode, "apigateway:method");
crate::node_ops!(StageNode, "apigateway:stage");

fn role_name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

async fn role_exists(ctx: &Ctx, arn: &str) -> Result<bool> {
    let name = role_name_of(arn);
    Ok(ctx.clients.iam.get_role().role_name(name).send().await.found("iam", "GetRole", name, &["NoSuchEntity"])?.is_some())
}

async fn set_account_role(ctx: &Ctx, role: &str) -> Result<()> {
    ctx.clients.apigw.update_account().patch_operations(patch("/cloudwatchRoleArn", role)).send().await.ctx("apigateway", "UpdateAccount", "account")?;
    Ok(())
}

impl AccountNode {
    /// A role that is set and exists is kept; only a missing or dangling one is replaced.
    async fn inspect(&self, ctx: &Ctx, _id: &str) -> Result<Found> {
        let out = ctx.clients.apigw.get_account().send().await.ctx("apigateway", "GetAccount", "account")?;
        let got = out.cloudwatch_role_arn().unwrap_or_default().to_string();
        let mut changes = Vec::new();
        if got.is_empty() {
            changes.push(Change::new("cloudwatch_role", "a role API Gateway can log with", "(none)"));
        } else if !role_exists(ctx, &got).await? {
            changes.push(Change::new("cloudwatch_role", "a role API Gateway can log with", format!("{got} (deleted)")));
        }
        Ok(Found::Present { attrs: attrs([("cloudwatch_role_arn", got)]), changes })
    }

    async fn apply(&self, ctx: &Ctx, _id: &str, _found: &Found) -> Result<Attrs> {
        let role = ctx.need(CLOUDWATCH_ROLE, "arn")?;
        set_account_role(ctx, &role).await?;
        Ok(attrs([("cloudwatch_role_arn", role)]))
    }

    /// Runs before the stack's CloudWatch role is deleted: when the account setting names that
    /// role, it is handed over to another tapaudit stack's role so their logging keeps working.
    /// The setting itself is never removed.
    async fn delete(&self, ctx: &Ctx, _id: &str) -> Result<Option<String>> {
        let out = ctx.clients.apigw.get_account().send().await.ctx("apigateway", "GetAccount", "account")?;
        let current = out.cloudwatch_role_arn().unwrap_or_default();
        let ours = &self.role_name;
        if role_name_of(current) != ours {
            return Ok(None);
        }
        let mut pages = ctx.clients.iam.list_roles().into_paginator().items().send();
        while let Some(role) = pages.next().await {
            let role = role.ctx("iam", "ListRoles", "")?;
            let name = role.role_name();
            if name != ours && name.starts_with(&format!("{}-", self.project)) && name.ends_with("-api-cloudwatch") {
                set_account_role(ctx, role.arn()).await?;
                return Ok(Some(format!("account CloudWatch role handed to {name}")));
            }
        }
        Ok(None)
    }
}

impl RestApiNode {
    fn attrs(&self, ctx: &Ctx, api_id: &str) -> Attrs {
        attrs([
            ("id", api_id.to_string()),
            ("arn", format!("arn:{}:apigateway:{}::/restapis/{api_id}", ctx.partition, ctx.region)),
            ("execution_log_groups", ctx.arn("logs", EXECUTION_LOG_GROUPS)),
        ])
    }

    /// REST API names are not unique, so the stack's API is the one with its name and its
    /// tags. Another API with that name but without them is not adopted (`strict`: provision
    /// stops; destroy leaves it alone), and two tagged ones are an error naming both.
    async fn find(&self, ctx: &Ctx, id: &str, strict: bool) -> Result<Option<aws_sdk_apigateway::types::RestApi>> {
        let name = &self.name;
        let mut pages = ctx.clients.apigw.get_rest_apis().limit(500).into_paginator().items().send();
        let (mut owned, mut foreign) = (Vec::new(), Vec::new());
        while let Some(api) = pages.next().await {
            let api = api.ctx("apigateway", "GetRestApis", name)?;
            if api.name() != Some(name.as_str()) {
                continue;
            }
            if api.tags().is_some_and(|t| ctx.owns(id, t.iter().map(|(k, v)| (k.as_str(), v.as_str())))) {
                owned.push(api);
            } else {
                foreign.push(api);
            }
        }
        if strict && owned.is_empty() {
            if let Some(api) = foreign.first() {
                let label = format!("{name} ({})", api.id().unwrap_or_default());
                let tags = api.tags().cloned().unwrap_or_default();
                ctx.claim(id, "apigateway:rest-api", &label, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
            }
        }
        ctx.single(id, "apigateway:rest-api", owned, |a| a.id().unwrap_or_default().to_string())
    }

    async fn inspect(&self, ctx: &Ctx, id: &str) -> Result<Found> {
        let Some(api) = self.find(ctx, id, true).await? else { return Ok(Found::Absent) };
        let api_id = api.id().unwrap_or_default();
        let mut changes = Vec::new();
        let types: Vec<&str> = api.endpoint_configuration().map(|e| e.types().iter().map(|t| t.as_str()).collect()).unwrap_or_default();
        diff(&mut changes, "endpoint_type", vec!["REGIONAL"], types);
        let got = api.tags().cloned().unwrap_or_default();
        changes.extend(tag_changes(&ctx.tags(id, &self.name), got.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        Ok(Found::Present { attrs: self.attrs(ctx, api_id), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let name = &self.name;
        let tags: HashMap<String, String> = ctx.tags(id, name).into_iter().collect();
        match found {
            Found::Absent => {
                let out = ctx
                    .clients
                    .apigw
                    .create_rest_api()
                    .name(name)
                    .description(format!("{name} (tapaudit)"))
                    .endpoint_configuration(EndpointConfiguration::builder().types(EndpointType::Regional).build())
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .ctx("apigateway", "CreateRestApi", name)?;
                Ok(self.attrs(ctx, out.id().unwrap_or_default()))
            }
            Found::Present { attrs, .. } => {
                let arn = attrs["arn"].clone();
                ctx.clients.apigw.tag_resource().resource_arn(&arn).set_tags(Some(tags)).send().await.ctx("apigateway", "TagResource", name)?;
                Ok(attrs.clone())
            }
        }
    }

    async fn delete(&self, ctx: &Ctx, id: &str) -> Result<Option<String>> {
        let Some(api) = self.find(ctx, id, false).await? else { return Ok(None) };
        let api_id = api.id().unwrap_or_default().to_string();
        ctx.clients.apigw.delete_rest_api().rest_api_id(&api_id).send().await.ctx("apigateway", "DeleteRestApi", &api_id)?;
        Ok(Some(api_id))
    }
}

/// Every resource of an API: path → id.
async fn resources(ctx: &Ctx, api_id: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut pages = ctx.clients.apigw.get_resources().rest_api_id(api_id).limit(500).into_paginator().items().send();
    while let Some(r) = pages.next().await {
        let r = r.ctx("apigateway", "GetResources", api_id)?;
        if let (Some(path), Some(rid)) = (r.path(), r.id()) {
            out.insert(path.to_string(), rid.to_string());
        }
    }
    Ok(out)
}

/// The resource of `path`, creating it and its missing parents.
async fn ensure_resource(ctx: &Ctx, api_id: &str, path: &str) -> Result<String> {
    let mut known = resources(ctx, api_id).await?;
    let mut parent = known.get("/").cloned().ok_or_else(|| Error::usage(format!("API {api_id} has no root resource")))?;
    let mut at = String::new();
    for seg in path.trim_start_matches('/').split('/').filter(|s| !s.is_empty()) {
        at = format!("{at}/{seg}");
        parent = match known.get(&at) {
            Some(rid) => rid.clone(),
            None => {
                let out = ctx.clients.apigw.create_resource().rest_api_id(api_id).parent_id(&parent).path_part(seg).send().await.ctx(
                    "apigateway",
                    "CreateResource",
                    &at,
                )?;
                let rid = out.id().unwrap_or_default().to_string();
                known.insert(at.clone(), rid.clone());
                rid
            }
        };
    }
    Ok(parent)
}

impl MethodNode {
    fn uri(&self, ctx: &Ctx) -> Option<String> {
        match &self.integration {
            Integration::Stream { .. } => Some(kinesis_uri(&ctx.partition, &ctx.region)),
            Integration::LoadBalancer { lb } => ctx.get(lb, "dns_name").map(|dns| format!("https://{dns}{}", self.path)),
        }
    }

    fn integration_type(&self) -> &'static str {
        match self.integration {
            Integration::Stream { .. } => "AWS",
            Integration::LoadBalancer { .. } => "HTTP_PROXY",
        }
    }

    async fn inspect(&self, ctx: &Ctx, _id: &str) -> Result<Found> {
        let Some(api_id) = ctx.get(&self.api, "id") else { return Ok(Found::Absent) };
        let Some(resource) = resources(ctx, &api_id).await?.get(&self.path).cloned() else { return Ok(Found::Absent) };
        let apigw = &ctx.clients.apigw;
        let Some(m) = apigw.get_method().rest_api_id(&api_id).resource_id(&resource).http_method(&self.method).send().await.found(
            "apigateway",
            "GetMethod",
            &self.path,
            &["NotFoundException"],
        )?
        else {
            return Ok(Found::Absent);
        };
        let mut changes = Vec::new();
        diff(&mut changes, "authorization", self.authorization.as_str(), m.authorization_type().unwrap_or("NONE"));
        match m.method_integration() {
            Some(i) => {
                diff(&mut changes, "integration.type", self.integration_type(), i.r#type().map(|t| t.as_str()).unwrap_or_default());
                if let Some(uri) = self.uri(ctx) {
                    diff(&mut changes, "integration.uri", uri.as_str(), i.uri().unwrap_or_default());
                }
                if let Integration::Stream { role, .. } = &self.integration {
                    if let Some(role) = ctx.get(role, "arn") {
                        diff(&mut changes, "integration.credentials", Some(role.as_str()), i.credentials());
                    }
                }
            }
            None => changes.push(Change::new("integration", self.integration_type(), "(absent)")),
        }
        Ok(Found::Present { attrs: attrs([("resource_id", resource), ("path", self.path.clone())]), changes })
    }

    async fn apply(&self, ctx: &Ctx, _id: &str, found: &Found) -> Result<Attrs> {
        let apigw = &ctx.clients.apigw;
        let api_id = ctx.need(&self.api, "id")?;
        let resource = ensure_resource(ctx, &api_id, &self.path).await?;
        let (verb, path) = (self.method.as_str(), self.path.as_str());
        if matches!(found, Found::Present { .. }) {
            apigw
                .update_method()
                .rest_api_id(&api_id)
                .resource_id(&resource)
                .http_method(verb)
                .patch_operations(patch("/authorizationType", &self.authorization))
                .send()
                .await
                .ctx("apigateway", "UpdateMethod", path)?;
        } else {
            apigw
                .put_method()
                .rest_api_id(&api_id)
                .resource_id(&resource)
                .http_method(verb)
                .authorization_type(&self.authorization)
                .api_key_required(false)
                .send()
                .await
                .ctx("apigateway", "PutMethod", path)?;
        }
        let put = apigw.put_integration().rest_api_id(&api_id).resource_id(&resource).http_method(verb);
        let put = match &self.integration {
            Integration::Stream { stream, role } => {
                let name = ctx.need(stream, "name")?;
                let template =
                    format!("{{\"StreamName\": \"{name}\", \"Data\": \"$util.base64Encode($input.body)\", \"PartitionKey\": \"$context.requestId\"}}");
                put.r#type(IntegrationType::Aws)
                    .integration_http_method("POST")
                    .uri(kinesis_uri(&ctx.partition, &ctx.region))
                    .credentials(ctx.need(role, "arn")?)
                    .request_templates("application/json", template)
                    .passthrough_behavior("NEVER")
            }
            Integration::LoadBalancer { lb } => {
                let dns = ctx.need(lb, "dns_name")?;
                put.r#type(IntegrationType::HttpProxy).integration_http_method(verb).uri(format!("https://{dns}{path}"))
            }
        };
        put.send().await.ctx("apigateway", "PutIntegration", path)?;
        if let Integration::Stream { .. } = self.integration {
            apigw.put_method_response().rest_api_id(&api_id).resource_id(&resource).http_method(verb).status_code("200").send().await.found(
                "apigateway",
                "PutMethodResponse",
                path,
                &["ConflictException"],
            )?;
            apigw
                .put_integration_response()
                .rest_api_id(&api_id)
                .resource_id(&resource)
                .http_method(verb)
                .status_code("200")
                .selection_pattern("")
                .send()
                .await
                .ctx("apigateway", "PutIntegrationResponse", path)?;
        }
        Ok(attrs([("resource_id", resource), ("path", self.path.clone()), ("changed", "true".to_string())]))
    }

    /// Deleted with its API.
    async fn delete(&self, _ctx: &Ctx, _id: &str) -> Result<Option<String>> {
        Ok(None)
    }
}

impl StageNode {
    fn url(&self, ctx: &Ctx, api_id: &str) -> String {
        format!("https://{api_id}.execute-api.{}.amazonaws.com/{}", ctx.region, self.spec.stage_name)
    }

    async fn inspect(&self, ctx: &Ctx, _id: &str) -> Result<Found> {
        let Some(api_id) = ctx.get(&self.api, "id") else { return Ok(Found::Absent) };
        let stage = &self.spec.stage_name;
        let Some(s) =
            ctx.clients.apigw.get_stage().rest_api_id(&api_id).stage_name(stage).send().await.found("apigateway", "GetStage", stage, &["NotFoundException"])?
        else {
            return Ok(Found::Absent);
        };
        let a = &self.spec;
        let mut changes = Vec::new();
        let all = s.method_settings().and_then(|m| m.get("*/*"));
        diff(&mut changes, "logging_level", Some(a.logging_level.as_str()), all.and_then(|m| m.logging_level()));
        // dataTraceEnabled and metricsEnabled: booleans whose absence the API model defines as false
        diff(&mut changes, "data_trace", a.data_trace, all.map(|m| m.data_trace_enabled()).unwrap_or(false));
        diff(&mut changes, "metrics", a.metrics, all.map(|m| m.metrics_enabled()).unwrap_or(false));
        diff(&mut changes, "tracing", a.tracing, s.tracing_enabled());
        if let Some(arn) = ctx.get(&self.logs, "arn") {
            diff(&mut changes, "access_log_destination", Some(arn.as_str()), s.access_log_settings().and_then(|l| l.destination_arn()));
        }
        diff(&mut changes, "access_log_format", Some(ACCESS_LOG_FORMAT), s.access_log_settings().and_then(|l| l.format()));
        if s.deployment_id().is_none() {
            changes.push(Change::new("deployment", "deployed", "(none)"));
        }
        Ok(Found::Present { attrs: attrs([("name", stage.clone()), ("url", self.url(ctx, &api_id))]), changes })
    }

    async fn apply(&self, ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
        let apigw = &ctx.clients.apigw;
        let api_id = ctx.need(&self.api, "id")?;
        let stage = &self.spec.stage_name;
        let a = &self.spec;
        let route_changed = self.routes.iter().any(|r| ctx.get(r, "changed").is_some());
        let needs_deployment = matches!(found, Found::Absent)
            || route_changed
            || matches!(found, Found::Present { changes, .. } if changes.iter().any(|c| c.field == "deployment"));
        let deployment = if needs_deployment {
            let out = apigw.create_deployment().rest_api_id(&api_id).description(format!("tapaudit provision of {}", self.prefix)).send().await.ctx(
                "apigateway",
                "CreateDeployment",
                &api_id,
            )?;
            Some(out.id().unwrap_or_default().to_string())
        } else {
            None
        };
        match (found, &deployment) {
            (Found::Absent, Some(dep)) => {
                let tags: HashMap<String, String> = ctx.tags(id, stage).into_iter().collect();
                apigw
                    .create_stage()
                    .rest_api_id(&api_id)
                    .stage_name(stage)
                    .deployment_id(dep)
                    .tracing_enabled(a.tracing)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .ctx("apigateway", "CreateStage", stage)?;
            }
            (_, Some(dep)) => {
                apigw.update_stage().rest_api_id(&api_id).stage_name(stage).patch_operations(patch("/deploymentId", dep)).send().await.ctx(
                    "apigateway",
                    "UpdateStage",
                    stage,
                )?;
            }
            _ => {}
        }
        let ops = vec![
            patch("/accessLogSettings/destinationArn", ctx.need(&self.logs, "arn")?),
            patch("/accessLogSettings/format", ACCESS_LOG_FORMAT),
            patch("/*/*/logging/loglevel", &a.logging_level),
            patch("/*/*/logging/dataTrace", a.data_trace.to_string()),
            patch("/*/*/metrics/enabled", a.metrics.to_string()),
            patch("/tracingEnabled", a.tracing.to_string()),
        ];
        apigw.update_stage().rest_api_id(&api_id).stage_name(stage).set_patch_operations(Some(ops)).send().await.ctx("apigateway", "UpdateStage", stage)?;
        Ok(attrs([("name", stage.clone()), ("url", self.url(ctx, &api_id))]))
    }

    /// Deleted with its API.
    async fn delete(&self, _ctx: &Ctx, _id: &str) -> Result<Option<String>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
