//! API Gateway REST API: POST /ingest with AWS_IAM authorization, integrated with Kinesis
//! PutRecord through a role, deployed to a stage with execution and access logging, metrics
//! and tracing; and the account-level CloudWatch role API Gateway logs with.

use super::{attrs, diff, Attrs, Change, Ctx, Found};
use crate::error::{Error, Result, SdkResultExt};
use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation};
use std::collections::HashMap;

const PATH: &str = "/ingest";
const METHOD: &str = "POST";

pub fn api_name(ctx: &Ctx) -> String {
    super::names::rest_api(&ctx.stack)
}

fn patch(path: &str, value: impl Into<String>) -> PatchOperation {
    PatchOperation::builder().op(Op::Replace).path(path).value(value).build()
}

// ---------- account ----------

/// API Gateway's CloudWatch role is one setting per account and region, shared by every
/// stack: a role that is set and exists is kept; only a missing or dangling one is replaced.
pub async fn inspect_account(ctx: &Ctx) -> Result<Found> {
    let out = ctx.clients.apigw.get_account().send().await.ctx("apigateway", "GetAccount", "account")?;
    let got = out.cloudwatch_role_arn().unwrap_or_default().to_string();
    let mut changes = Vec::new();
    if got.is_empty() {
        changes.push(Change::new("api.cloudwatch_role", "a role API Gateway can log with", "(none)"));
    } else if !role_exists(ctx, &got).await? {
        changes.push(Change::new("api.cloudwatch_role", "a role API Gateway can log with", format!("{got} (deleted)")));
    }
    Ok(Found::Present { attrs: attrs([("cloudwatch_role_arn", got)]), changes })
}

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

pub async fn apply_account(ctx: &Ctx) -> Result<Attrs> {
    let role = ctx.need("api-cloudwatch-role", "arn")?;
    set_account_role(ctx, &role).await?;
    Ok(attrs([("cloudwatch_role_arn", role)]))
}

/// Destroy runs this before the stack's CloudWatch role is deleted: when the account setting
/// names that role, it is handed over to another tapaudit stack's role so their logging
/// keeps working. The setting itself is never removed.
pub async fn delete_account(ctx: &Ctx) -> Result<Option<String>> {
    let out = ctx.clients.apigw.get_account().send().await.ctx("apigateway", "GetAccount", "account")?;
    let current = out.cloudwatch_role_arn().unwrap_or_default();
    let ours = super::iam::role_name(ctx, super::nodes::RoleKind::ApiCloudWatch);
    if role_name_of(current) != ours {
        return Ok(None);
    }
    let mut pages = ctx.clients.iam.list_roles().into_paginator().items().send();
    while let Some(role) = pages.next().await {
        let role = role.ctx("iam", "ListRoles", "")?;
        let name = role.role_name();
        if name != ours && name.starts_with(&format!("{}-", ctx.stack.spec.project)) && name.ends_with("-api-cloudwatch") {
            set_account_role(ctx, role.arn()).await?;
            return Ok(Some(format!("account CloudWatch role handed to {name}")));
        }
    }
    Ok(None)
}

// ---------- REST API ----------

/// REST API names are not unique, so the stack's API is the one with its name and its tags.
/// Another API with that name but without them is not adopted (`strict`: provision stops; destroy
/// leaves it alone), and two tagged ones are an error naming both.
async fn find_api(ctx: &Ctx, id: &str, strict: bool) -> Result<Option<aws_sdk_apigateway::types::RestApi>> {
    let name = api_name(ctx);
    let mut pages = ctx.clients.apigw.get_rest_apis().limit(500).into_paginator().items().send();
    let (mut owned, mut foreign) = (Vec::new(), Vec::new());
    while let Some(api) = pages.next().await {
        let api = api.ctx("apigateway", "GetRestApis", &name)?;
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

fn api_attrs(ctx: &Ctx, api_id: &str) -> Attrs {
    attrs([("id", api_id.to_string()), ("arn", format!("arn:{}:apigateway:{}::/restapis/{api_id}", ctx.partition, ctx.region))])
}

pub async fn inspect_rest_api(ctx: &Ctx, id: &str) -> Result<Found> {
    let Some(api) = find_api(ctx, id, true).await? else { return Ok(Found::Absent) };
    let api_id = api.id().unwrap_or_default();
    let mut changes = Vec::new();
    let types: Vec<&str> = api.endpoint_configuration().map(|e| e.types().iter().map(|t| t.as_str()).collect()).unwrap_or_default();
    diff(&mut changes, "api.endpoint_type", vec!["REGIONAL"], types);
    let want_tags = ctx.tags(id, &api_name(ctx));
    let got = api.tags().cloned().unwrap_or_default();
    changes.extend(super::tag_changes(&want_tags, got.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    Ok(Found::Present { attrs: api_attrs(ctx, api_id), changes })
}

pub async fn apply_rest_api(ctx: &Ctx, id: &str, found: &Found) -> Result<Attrs> {
    let name = api_name(ctx);
    let tags: HashMap<String, String> = ctx.tags(id, &name).into_iter().collect();
    match found {
        Found::Absent => {
            let out = ctx
                .clients
                .apigw
                .create_rest_api()
                .name(&name)
                .description(format!("{}: IAM-authenticated ingest into Kinesis", ctx.stack.prefix()))
                .endpoint_configuration(EndpointConfiguration::builder().types(EndpointType::Regional).build())
                .set_tags(Some(tags))
                .send()
                .await
                .ctx("apigateway", "CreateRestApi", &name)?;
            Ok(api_attrs(ctx, out.id().unwrap_or_default()))
        }
        Found::Present { attrs, .. } => {
            let arn = attrs["arn"].clone();
            ctx.clients.apigw.tag_resource().resource_arn(&arn).set_tags(Some(tags)).send().await.ctx("apigateway", "TagResource", &name)?;
            Ok(attrs.clone())
        }
    }
}

pub async fn delete_rest_api(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let Some(api) = find_api(ctx, id, false).await? else { return Ok(None) };
    let api_id = api.id().unwrap_or_default().to_string();
    ctx.clients.apigw.delete_rest_api().rest_api_id(&api_id).send().await.ctx("apigateway", "DeleteRestApi", &api_id)?;
    Ok(Some(api_id))
}

// ---------- POST /ingest ----------

fn integration_uri(ctx: &Ctx) -> String {
    format!("arn:{}:apigateway:{}:kinesis:action/PutRecord", ctx.partition, ctx.region)
}

fn request_template(ctx: &Ctx) -> Result<String> {
    let stream = ctx.need("stream", "name")?;
    Ok(format!("{{\"StreamName\": \"{stream}\", \"Data\": \"$util.base64Encode($input.body)\", \"PartitionKey\": \"$context.requestId\"}}"))
}

async fn ingest_resource(ctx: &Ctx, api_id: &str) -> Result<(Option<String>, String)> {
    let mut root = String::new();
    let mut found = None;
    let mut pages = ctx.clients.apigw.get_resources().rest_api_id(api_id).limit(500).into_paginator().items().send();
    while let Some(r) = pages.next().await {
        let r = r.ctx("apigateway", "GetResources", api_id)?;
        match r.path() {
            Some("/") => root = r.id().unwrap_or_default().to_string(),
            Some(PATH) => found = r.id().map(str::to_string),
            _ => {}
        }
    }
    Ok((found, root))
}

pub async fn inspect_method(ctx: &Ctx) -> Result<Found> {
    let Some(api_id) = ctx.get("rest-api", "id") else { return Ok(Found::Absent) };
    let (Some(resource), _) = ingest_resource(ctx, &api_id).await? else { return Ok(Found::Absent) };
    let apigw = &ctx.clients.apigw;
    let Some(m) = apigw.get_method().rest_api_id(&api_id).resource_id(&resource).http_method(METHOD).send().await.found(
        "apigateway",
        "GetMethod",
        PATH,
        &["NotFoundException"],
    )?
    else {
        return Ok(Found::Absent);
    };
    let mut changes = Vec::new();
    diff(&mut changes, "api.authorization", "AWS_IAM", m.authorization_type().unwrap_or("NONE"));
    match m.method_integration() {
        Some(i) => {
            diff(&mut changes, "api.integration.type", "AWS", i.r#type().map(|t| t.as_str()).unwrap_or_default());
            diff(&mut changes, "api.integration.uri", integration_uri(ctx).as_str(), i.uri().unwrap_or_default());
            if let Some(role) = ctx.get("api-kinesis-role", "arn") {
                diff(&mut changes, "api.integration.credentials", Some(role.as_str()), i.credentials());
            }
        }
        None => changes.push(Change::new("api.integration", "Kinesis PutRecord", "(absent)")),
    }
    Ok(Found::Present { attrs: attrs([("resource_id", resource), ("path", PATH.to_string())]), changes })
}

pub async fn apply_method(ctx: &Ctx, found: &Found) -> Result<Attrs> {
    let apigw = &ctx.clients.apigw;
    let api_id = ctx.need("rest-api", "id")?;
    let resource = match ingest_resource(ctx, &api_id).await? {
        (Some(r), _) => r,
        (None, root) if !root.is_empty() => apigw
            .create_resource()
            .rest_api_id(&api_id)
            .parent_id(root)
            .path_part("ingest")
            .send()
            .await
            .ctx("apigateway", "CreateResource", PATH)?
            .id()
            .unwrap_or_default()
            .to_string(),
        _ => return Err(Error::usage(format!("API {api_id} has no root resource"))),
    };
    let method_exists = matches!(found, Found::Present { changes, .. } if !changes.iter().any(|c| c.field == "api.method"));
    if method_exists {
        apigw
            .update_method()
            .rest_api_id(&api_id)
            .resource_id(&resource)
            .http_method(METHOD)
            .patch_operations(patch("/authorizationType", "AWS_IAM"))
            .send()
            .await
            .ctx("apigateway", "UpdateMethod", PATH)?;
    } else {
        apigw
            .put_method()
            .rest_api_id(&api_id)
            .resource_id(&resource)
            .http_method(METHOD)
            .authorization_type("AWS_IAM")
            .api_key_required(false)
            .send()
            .await
            .ctx("apigateway", "PutMethod", PATH)?;
    }
    apigw
        .put_integration()
        .rest_api_id(&api_id)
        .resource_id(&resource)
        .http_method(METHOD)
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri(integration_uri(ctx))
        .credentials(ctx.need("api-kinesis-role", "arn")?)
        .request_templates("application/json", request_template(ctx)?)
        .passthrough_behavior("NEVER")
        .send()
        .await
        .ctx("apigateway", "PutIntegration", PATH)?;
    apigw.put_method_response().rest_api_id(&api_id).resource_id(&resource).http_method(METHOD).status_code("200").send().await.found(
        "apigateway",
        "PutMethodResponse",
        PATH,
        &["ConflictException"],
    )?;
    apigw
        .put_integration_response()
        .rest_api_id(&api_id)
        .resource_id(&resource)
        .http_method(METHOD)
        .status_code("200")
        .selection_pattern("")
        .send()
        .await
        .ctx("apigateway", "PutIntegrationResponse", PATH)?;
    Ok(attrs([("resource_id", resource), ("path", PATH.to_string()), ("changed", "true".to_string())]))
}

// ---------- stage ----------

pub const ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","caller":"$context.identity.caller","user":"$context.identity.user","userArn":"$context.identity.userArn","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength"}"#;

fn stage_name(ctx: &Ctx) -> String {
    ctx.stack.spec.api.stage_name.clone()
}

pub fn invoke_url(ctx: &Ctx, api_id: &str) -> String {
    format!("https://{api_id}.execute-api.{}.amazonaws.com/{}", ctx.region, stage_name(ctx))
}

pub async fn inspect_stage(ctx: &Ctx) -> Result<Found> {
    let Some(api_id) = ctx.get("rest-api", "id") else { return Ok(Found::Absent) };
    let stage = stage_name(ctx);
    let Some(s) =
        ctx.clients.apigw.get_stage().rest_api_id(&api_id).stage_name(&stage).send().await.found("apigateway", "GetStage", &stage, &["NotFoundException"])?
    else {
        return Ok(Found::Absent);
    };
    let a = &ctx.stack.spec.api;
    let mut changes = Vec::new();
    let all = s.method_settings().and_then(|m| m.get("*/*"));
    diff(&mut changes, "api.logging_level", Some(a.logging_level.as_str()), all.and_then(|m| m.logging_level()));
    diff(&mut changes, "api.data_trace", a.data_trace, all.map(|m| m.data_trace_enabled()).unwrap_or(false));
    diff(&mut changes, "api.metrics", a.metrics, all.map(|m| m.metrics_enabled()).unwrap_or(false));
    diff(&mut changes, "api.tracing", a.tracing, s.tracing_enabled());
    if let Some(arn) = ctx.get("api-log-group", "arn") {
        diff(&mut changes, "api.access_log_destination", Some(arn.as_str()), s.access_log_settings().and_then(|l| l.destination_arn()));
    }
    diff(&mut changes, "api.access_log_format", Some(ACCESS_LOG_FORMAT), s.access_log_settings().and_then(|l| l.format()));
    if s.deployment_id().is_none() {
        changes.push(Change::new("api.deployment", "deployed", "(none)"));
    }
    Ok(Found::Present { attrs: attrs([("name", stage), ("url", invoke_url(ctx, &api_id))]), changes })
}

pub async fn apply_stage(ctx: &Ctx, found: &Found) -> Result<Attrs> {
    let apigw = &ctx.clients.apigw;
    let api_id = ctx.need("rest-api", "id")?;
    let stage = stage_name(ctx);
    let a = &ctx.stack.spec.api;
    let method_changed = ctx.get("ingest-method", "changed").is_some();
    let needs_deployment = matches!(found, Found::Absent)
        || method_changed
        || matches!(found, Found::Present { changes, .. } if changes.iter().any(|c| c.field == "api.deployment"));
    let deployment = if needs_deployment {
        Some(
            apigw
                .create_deployment()
                .rest_api_id(&api_id)
                .description(format!("tapaudit provision of {}", ctx.stack.prefix()))
                .send()
                .await
                .ctx("apigateway", "CreateDeployment", &api_id)?
                .id()
                .unwrap_or_default()
                .to_string(),
        )
    } else {
        None
    };
    match (found, &deployment) {
        (Found::Absent, Some(dep)) => {
            let tags: HashMap<String, String> = ctx.tags("api-stage", &stage).into_iter().collect();
            apigw.create_stage().rest_api_id(&api_id).stage_name(&stage).deployment_id(dep).tracing_enabled(a.tracing).set_tags(Some(tags)).send().await.ctx(
                "apigateway",
                "CreateStage",
                &stage,
            )?;
        }
        (_, Some(dep)) => {
            apigw.update_stage().rest_api_id(&api_id).stage_name(&stage).patch_operations(patch("/deploymentId", dep)).send().await.ctx(
                "apigateway",
                "UpdateStage",
                &stage,
            )?;
        }
        _ => {}
    }
    let ops = vec![
        patch("/accessLogSettings/destinationArn", ctx.need("api-log-group", "arn")?),
        patch("/accessLogSettings/format", ACCESS_LOG_FORMAT),
        patch("/*/*/logging/loglevel", &a.logging_level),
        patch("/*/*/logging/dataTrace", a.data_trace.to_string()),
        patch("/*/*/metrics/enabled", a.metrics.to_string()),
        patch("/tracingEnabled", a.tracing.to_string()),
    ];
    apigw.update_stage().rest_api_id(&api_id).stage_name(&stage).set_patch_operations(Some(ops)).send().await.ctx("apigateway", "UpdateStage", &stage)?;
    Ok(attrs([("name", stage), ("url", invoke_url(ctx, &api_id))]))
}
